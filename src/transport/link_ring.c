/* SPDX-License-Identifier: MIT */
/*
 * link_ring.c — the switch of a link to shared-memory rings: the RING
 * frame, tokens and doorbells on the socket, reading the peer's ring.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "node/node.h"
#include "transport/link_impl.h"
#include "transport/reputation.h"

/* A peer that breaks a ring's indices is refused like any bad input, but
 * gets no ERROR frame when ours would go through the ring it broke (ours:
 * the read index is its): the link is closed, and counted. */
void ipcn__link_ring_broken(ipcn_node *n, ipcn__link *l, bool ours, const char *why)
{
    if (!ours || !l->rtx.sh) {
        ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, why);
        return;
    }
    l->bad_frames++;
    n->stats.bad_frames++;
    n->stats.links_refused++;
    ipcn__warn("IPCN-LINK-BADRING", "%s: refusing link from %s (pid %d): %s",
               n->name, l->who.name ? l->who.name : "(no hello yet)", (int)l->who.pid, why);
    ipcn__link_close(n, l, IPCN_BAD_REQUEST, why);
    ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME, why);
}

/* One token on the socket of a link whose frames go through its ring: a
 * doorbell, or the carrier of a descriptor (fd >= 0).  Returns as send. */
static ssize_t send_token(ipcn__link *l, uint8_t token, int fd)
{
    struct iovec iov = {&token, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        memset(&ctl, 0, sizeof ctl);
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof ctl.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    return sendmsg(l->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Copy some of the queue into our ring.  A descriptor goes first, with a
 * token on the socket, before the frame that needs it enters the ring.
 * Returns the bytes taken; -1 with errno EAGAIN (full, or the socket is),
 * or EPROTO (the reader's index is impossible). */
ssize_t ipcn__link_ring_write_some(ipcn__link *l, const uint8_t *p, size_t len)
{
    if (l->nfds_out && l->fds_out_at[0] == l->tx_sent_abs) {
        ssize_t w = send_token(l, IPCN_RING_TOKEN_FD, l->fds_out[0]);
        if (w <= 0)
            return -1;
        ipcn__link_fd_sent(l);
    }
    if (l->nfds_out && l->fds_out_at[0] - l->tx_sent_abs < len)
        len = (size_t)(l->fds_out_at[0] - l->tx_sent_abs);
    for (int tries = 0; tries < 2; tries++) {
        ssize_t w = ipcn__ring_write(&l->rtx, p, len);
        if (w < 0) {
            errno = EPROTO;
            return -1;
        }
        if (w > 0) {
            l->rtx_wrote = true;
            return w;
        }
        /* Full: ask for a token when there is room, unless there is now. */
        if (!ipcn__ring_wait_room(&l->rtx))
            break;
    }
    l->rtx_blocked = true;
    errno = EAGAIN;
    return -1;
}

/* Tell the peer there is room in its ring.  A token is a token only once
 * our own direction has switched: until the last byte before our ring has
 * left the socket, the bell is owed (flush rings it). */
void ipcn__link_room_bell(ipcn_node *n, ipcn__link *l)
{
    if (l->rtx.sh && l->tx_sent_abs >= l->rtx_at) {
        l->bell_owed = false;
        if (send_token(l, IPCN_RING_TOKEN_BELL, -1) < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* The socket is full (of our frames from before the switch):
             * the bell goes when it has room. */
            l->bell_owed = true;
            ipcn__link_set_want_out(n, l, true);
        }
    } else {
        l->bell_owed = true;
    }
}

/* After bytes went into our ring: ring the bell if the peer sleeps.  A bell
 * the socket cannot take now is owed, like a room bell. */
void ipcn__link_ring_bell(ipcn_node *n, ipcn__link *l)
{
    if (!l->rtx_wrote)
        return;
    l->rtx_wrote = false;
    if (ipcn__ring_bell_wanted(&l->rtx))
        ipcn__link_room_bell(n, l);
}

/* Our frames to a peer that reads rings go on in one, from the byte after
 * the RING frame that carries its memfd.  Without it (no memory), they go
 * on through the socket. */
void ipcn__link_send_ring(ipcn_node *n, ipcn__link *l)
{
    if (ipcn__ring_create(&l->rtx, IPCN_RING_SIZE) != IPCN_OK) {
        ipcn__fds_short(n, errno, "a link ring");
        ipcn__info("IPCN-LINK-NORING", "%s: no ring for %s: frames go through "
                   "the socket", n->name, l->who.name);
        return;
    }
    if (ipcn__link_queue_fd(l, l->rtx.fd) != IPCN_OK) {
        ipcn__ring_free(&l->rtx);
        return;
    }
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    ipcn__ring_info b = {.size = l->rtx.size};
    size_t mark = ipcn__link_tx_mark(l, 0);
    int st = ipcn__enc_ring(&l->tx, &h, &b);
    if (st != IPCN_OK) {
        close(l->fds_out[--l->nfds_out]);
        ipcn__ring_free(&l->rtx);
        return;
    }
    close(l->rtx.fd); /* the queued dup goes with the frame */
    l->rtx.fd = -1;
    l->rtx_at = l->tx_queued_abs + (l->tx.len - mark);
    ipcn__link_commit(n, l, mark, IPCN_OK);
}

/* Read the tokens waiting on the socket of a link whose peer writes into
 * its ring, keeping the descriptors that come with them.  Returns 1 when
 * the peer hung up, 0, or -1 when the link was closed. */
int ipcn__link_drain_tokens(ipcn_node *n, ipcn__link *l)
{
    uint8_t buf[256];
    for (;;) {
        ssize_t r = ipcn__link_read_some(n, l, buf, sizeof buf);
        if (r == -2)
            return -1;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
        }
        if (r == 0)
            return 1;
        if (!ipcn__link_tokens_ok(buf, (size_t)r)) {
            ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "bad token after a ring");
            return -1;
        }
        l->last_rx_ns = n->round_ns; /* reads happen in I/O rounds */
        l->unheard_ns = 0;
        if ((size_t)r < sizeof buf)
            return 0;
    }
}

/* Copy what the peer's ring holds into rx and handle its frames; all of
 * it when the peer has gone (its last words), else up to the budget. */
static void ring_pull(ipcn_node *n, ipcn__link *l, bool all)
{
    ipcn__ring_awake(&l->rrx);
    l->rx_pending = false;
    if (!ipcn__link_parse_buffered(n, l))
        return;
    size_t budget = ipcn__link_read_budget(n->round_ns, l);
    bool took = false;
    while (l->state != LINK_DEAD && !l->rx_paused && (all || budget > 0)) {
        size_t room = ipcn__link_rx_room(n, l);
        if (!room)
            break;
        size_t want = all || room < budget ? room : budget;
        ssize_t r = ipcn__ring_read(&l->rrx, l->rx + l->rx_len, want);
        if (r < 0) {
            ipcn__link_ring_broken(n, l, false, "the write index of its ring is out of range");
            return;
        }
        if (r == 0)
            break;
        took = true;
        budget -= (size_t)r < budget ? (size_t)r : budget;
        if (!ipcn__link_rx_took(n, l, (size_t)r))
            break;
    }
    if (took && l->state != LINK_DEAD && ipcn__ring_room_wanted(&l->rrx))
        ipcn__link_room_bell(n, l);
}

/* Our ring was full: write on if the reader made room. */
static void ring_unblock(ipcn_node *n, ipcn__link *l)
{
    if (l->rtx_blocked && ipcn__ring_has_room(&l->rtx))
        ipcn__link_flush(n, l);
}

void ipcn__link_ring_readable(ipcn_node *n, ipcn__link *l)
{
    int hup = ipcn__link_drain_tokens(n, l);
    if (hup < 0 || l->state == LINK_DEAD)
        return;
    ring_unblock(n, l);
    if (l->state == LINK_DEAD)
        return;
    ring_pull(n, l, hup > 0);
    if (hup > 0 && l->state != LINK_DEAD)
        ipcn__link_close(n, l, IPCN_SERVICE_UNAVAILABLE, "hang-up");
}

void ipcn__link_ring_pass(ipcn_node *n, ipcn__link *l)
{
    if (l->state == LINK_DEAD)
        return;
    ring_unblock(n, l);
    if (l->state != LINK_DEAD && l->rrx.sh && !l->rx_paused &&
        (l->rx_pending || ipcn__ring_ready(&l->rrx)))
        ring_pull(n, l, false);
}

bool ipcn__link_ring_sleep(ipcn__link *l)
{
    if (l->state == LINK_DEAD)
        return true;
    bool idle = true;
    if (l->rrx.sh && !l->rx_paused && !ipcn__ring_sleep(&l->rrx))
        idle = false;
    if (l->rtx_blocked && ipcn__ring_wait_room(&l->rtx))
        idle = false;
    return idle;
}

void ipcn__link_on_ring(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    /* Rings go both ways or not at all: the reader's tokens (room bells)
     * need its own direction to be a ring too. */
    if (!n->ring_enabled || !(l->peer_caps & IPCN_CAP_RING) || l->rrx.sh) {
        ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, l->rrx.sh ? "a second ring"
                                                    : "ring not negotiated");
        return;
    }
    if (!l->rtx.sh) {
        /* Ours could not be made at hello time (memory): once more, else
         * the link starts over (the dialler dials again). */
        ipcn__link_send_ring(n, l);
        if (!l->rtx.sh) {
            if (l->state != LINK_DEAD)
                ipcn__link_close(n, l, IPCN_INSUFFICIENT_MEMORY,
                                 n->fd_short ? "no descriptor for a link ring"
                                             : "no memory for a link ring");
            return;
        }
    }
    int fd = ipcn__link_take_fd(n, l);
    if (fd < 0) {
        if (n->fd_short) /* it may have come and found no room */
            ipcn__link_refuse_nofd(n, l);
        else
            ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "ring without a descriptor");
        return;
    }
    const char *why = ipcn__ring_attach(&l->rrx, fd, f->u.ring.size);
    if (why) {
        ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, why);
        return;
    }
    /* Spinning for a peer pinned to our one core would only delay it. */
    cpu_set_t me, peer;
    l->spin_ok = get_nprocs() > 1;
    if (l->spin_ok && sched_getaffinity(0, sizeof me, &me) == 0 &&
        sched_getaffinity(l->who.pid, sizeof peer, &peer) == 0 &&
        CPU_COUNT(&me) == 1 && CPU_EQUAL(&me, &peer))
        l->spin_ok = false;
}
