/* SPDX-License-Identifier: MIT */
/*
 * link.c — one Unix-domain stream socket to a peer: non-blocking reads into
 * a bounded buffer that frames are cut from, a bounded write queue, and the
 * hello that opens every link.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "engine/engine.h"

#define RX_INITIAL (64u << 10)

static uint64_t tag(uint32_t kind, uint32_t id)
{
    return (uint64_t)kind << 32 | id;
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

ipcn__link *ipcn__link_by_id(ipcn_node *n, uint32_t id)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->id == id && l->state != LINK_DEAD)
            return l;
    return NULL;
}

ipcn__link *ipcn__link_by_name(ipcn_node *n, const char *name)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->state == LINK_UP && l->name && !strcmp(l->name, name))
            return l;
    return NULL;
}

void ipcn__link_hdr(ipcn_node *n, ipcn__hdr *h, uint16_t status, uint64_t corr)
{
    memset(h, 0, sizeof *h);
    h->version = IPCN_WIRE_VERSION;
    h->ttl = IPCN_WIRE_DEFAULT_TTL;
    h->status = status;
    h->src = n->id;
    h->corr = corr;
}

size_t ipcn__link_backlog(const ipcn__link *l) { return l->tx.len - l->tx_off; }

/* The node's count of the memory its links' queues hold follows the
 * buffers' capacity, and keeps its high-water mark (ipcn_node_usage). */
static void tx_account(ipcn_node *n, ipcn__link *l)
{
    if (l->tx.cap == l->tx_cap_counted)
        return;
    n->tx_buffer_bytes += l->tx.cap;
    n->tx_buffer_bytes -= l->tx_cap_counted;
    l->tx_cap_counted = l->tx.cap;
    if (n->tx_buffer_bytes > n->tx_buffer_peak)
        n->tx_buffer_peak = n->tx_buffer_bytes;
}

/* Where the next frame starts, taken before it is encoded (a frame is
 * patched relative to it, so the queue moves only here, between frames).
 * The front already written is reclaimed when appending about need bytes
 * (plus a small frame's worth) could otherwise grow the buffer, and when
 * moving what is left costs at most 16 times the bytes reclaimed: a
 * buffer then only grows with under a sixteenth of the queue dead in
 * front, and the moves stay a constant factor of the bytes written. */
size_t ipcn__link_tx_mark(ipcn__link *l, size_t need)
{
    size_t live = l->tx.len - l->tx_off;
    if (l->tx_off && l->tx_off >= live / 16 &&
        need + IPCN_LINK_MARK_SLACK > l->tx.cap - l->tx.len) {
        memmove(l->tx.p, l->tx.p + l->tx_off, live);
        l->tx.len = live;
        l->tx_off = 0;
    }
    return l->tx.len;
}

/* The epoll mask follows two facts: whether bytes wait to be written, and
 * whether reading is paused because the peer does not read what we owe it
 * (back-pressure: a peer that stops reading stops being served, and the
 * bytes queued for it stay bounded by tx_limit). */
static void update_events(ipcn_node *n, ipcn__link *l)
{
    if (l->fd < 0)
        return;
    struct epoll_event ev = {.events = (l->rx_paused ? 0u : EPOLLIN) |
                                       (l->want_out ? EPOLLOUT : 0u),
                             .data.u64 = tag(TAG_LINK, l->id)};
    epoll_ctl(n->epfd, EPOLL_CTL_MOD, l->fd, &ev);
}

static void set_want_out(ipcn_node *n, ipcn__link *l, bool on)
{
    if (l->want_out == on || l->fd < 0)
        return;
    l->want_out = on;
    update_events(n, l);
}

static void check_pressure(ipcn_node *n, ipcn__link *l)
{
    size_t backlog = ipcn__link_backlog(l);
    /* Samples stop at tx_limit (they are dropped past it), so only frames
     * that cannot be dropped reach the pause threshold above it: two busy
     * peers streaming at each other never pause each other. */
    if (!l->rx_paused && backlog > n->opts.tx_limit + n->opts.tx_limit / 4) {
        l->rx_paused = true;
        ipcn__info("IPCN-LINK-BACKPRESSURE", "%s: %s reads too slowly (%zu bytes "
                   "queued): not reading from it until it catches up", n->name,
                   l->name ? l->name : "(no hello yet)", backlog);
        update_events(n, l);
    } else if (l->rx_paused && backlog <= n->opts.tx_limit / 2) {
        l->rx_paused = false;
        l->rx_pending = l->rx_len > 0;
        update_events(n, l);
    }
}

/* Samples whose bytes have all been written leave the ring. */
static void samples_sent(ipcn__link *l)
{
    while (l->se_len && l->sample_ends[l->se_head] <= l->tx_sent_abs) {
        l->se_head = (l->se_head + 1) % l->se_cap;
        l->se_len--;
    }
}

/* The bytes still queued will never be sent: count the samples in them. */
static void drop_queue(ipcn_node *n, ipcn__link *l)
{
    l->drops += l->se_len;
    n->stats.drops += l->se_len;
    l->se_len = 0;
    l->tx.len = l->tx_off = 0;
    for (uint32_t i = 0; i < l->nfds_out; i++)
        close(l->fds_out[i]);
    l->nfds_out = 0;
}

int ipcn__link_queue_fd(ipcn__link *l, int fd)
{
    if (l->nfds_out == IPCN_LINK_MAX_FDS)
        return IPCN_TOO_MANY_REQUESTS;
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (d < 0)
        return IPCN_INTERNAL_ERROR;
    l->fds_out[l->nfds_out] = d;
    l->fds_out_at[l->nfds_out] = l->tx_queued_abs;
    l->nfds_out++;
    return IPCN_OK;
}

static int drain_tokens(ipcn_node *n, ipcn__link *l);

int ipcn__link_take_fd(ipcn_node *n, ipcn__link *l)
{
    /* Through a ring, the descriptor was sent on the socket before the
     * frame that needs it entered the ring: it waits there. */
    if (!l->nfds_in && l->rrx.sh && l->state != LINK_DEAD)
        (void)drain_tokens(n, l);
    if (!l->nfds_in)
        return -1;
    int fd = l->fds_in[0];
    memmove(l->fds_in, l->fds_in + 1, --l->nfds_in * sizeof(int));
    return fd;
}

static void bad_input(ipcn_node *n, ipcn__link *l, int status,
                      const char *why);

/* A peer that breaks a ring's indices is refused like any bad input, but
 * gets no ERROR frame when ours would go through the ring it broke (ours:
 * the read index is its): the link is closed, and counted. */
static void ring_broken(ipcn_node *n, ipcn__link *l, bool ours, const char *why)
{
    if (!ours || !l->rtx.sh) {
        bad_input(n, l, IPCN_BAD_REQUEST, why);
        return;
    }
    l->bad_frames++;
    n->stats.bad_frames++;
    n->stats.links_refused++;
    ipcn__warn("IPCN-LINK-BADRING", "%s: refusing link from %s (pid %d): %s",
               n->name, l->name ? l->name : "(no hello yet)", (int)l->pid, why);
    ipcn__link_close(n, l, IPCN_BAD_REQUEST, why);
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

static void fd_sent(ipcn__link *l)
{
    close(l->fds_out[0]);
    l->nfds_out--;
    memmove(l->fds_out, l->fds_out + 1, l->nfds_out * sizeof(int));
    memmove(l->fds_out_at, l->fds_out_at + 1, l->nfds_out * sizeof(uint64_t));
}

/* Copy some of the queue into our ring.  A descriptor goes first, with a
 * token on the socket, before the frame that needs it enters the ring.
 * Returns the bytes taken; -1 with errno EAGAIN (full, or the socket is),
 * or EPROTO (the reader's index is impossible). */
static ssize_t ring_write_some(ipcn__link *l, const uint8_t *p, size_t len)
{
    if (l->nfds_out && l->fds_out_at[0] == l->tx_sent_abs) {
        ssize_t w = send_token(l, IPCN_RING_TOKEN_FD, l->fds_out[0]);
        if (w <= 0)
            return -1;
        fd_sent(l);
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

/* Write some of the queue; a descriptor goes with the byte it belongs to,
 * so a write stops short of the next one and the one carrying it starts at
 * its byte.  From rtx_at on, the bytes go into the ring. */
static ssize_t write_some(ipcn__link *l)
{
    const uint8_t *p = l->tx.p + l->tx_off;
    size_t len = l->tx.len - l->tx_off;
    if (l->rtx.sh) {
        if (l->tx_sent_abs >= l->rtx_at)
            return ring_write_some(l, p, len);
        if (l->rtx_at - l->tx_sent_abs < len)
            len = (size_t)(l->rtx_at - l->tx_sent_abs);
    }
    if (!l->nfds_out)
        return send(l->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (l->fds_out_at[0] > l->tx_sent_abs) {
        uint64_t upto = l->fds_out_at[0] - l->tx_sent_abs;
        return send(l->fd, p, upto < len ? (size_t)upto : len,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (l->nfds_out > 1 && l->fds_out_at[1] - l->tx_sent_abs < len)
        len = (size_t)(l->fds_out_at[1] - l->tx_sent_abs);
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {(void *)p, len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &l->fds_out[0], sizeof(int));
    ssize_t w = sendmsg(l->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0)
        fd_sent(l);
    return w;
}

/* Tell the peer there is room in its ring.  A token is a token only once
 * our own direction has switched: until the last byte before our ring has
 * left the socket, the bell is owed (flush rings it). */
static void room_bell(ipcn_node *n, ipcn__link *l)
{
    if (l->rtx.sh && l->tx_sent_abs >= l->rtx_at) {
        l->bell_owed = false;
        if (send_token(l, IPCN_RING_TOKEN_BELL, -1) < 0 &&
            (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* The socket is full (of our frames from before the switch):
             * the bell goes when it has room. */
            l->bell_owed = true;
            set_want_out(n, l, true);
        }
    } else {
        l->bell_owed = true;
    }
}

/* After bytes went into our ring: ring the bell if the peer sleeps.  A bell
 * the socket cannot take now is owed, like a room bell. */
static void ring_bell(ipcn_node *n, ipcn__link *l)
{
    if (!l->rtx_wrote)
        return;
    l->rtx_wrote = false;
    if (ipcn__ring_bell_wanted(&l->rtx))
        room_bell(n, l);
}

static bool sample_queued(ipcn__link *l)
{
    if (l->se_len == l->se_cap) {
        uint32_t cap = l->se_cap ? l->se_cap * 2 : 64;
        uint64_t *p = ipcn__malloc(cap * sizeof *p);
        if (!p)
            return false;
        for (uint32_t i = 0; i < l->se_len; i++)
            p[i] = l->sample_ends[(l->se_head + i) % l->se_cap];
        ipcn__free(l->sample_ends);
        l->sample_ends = p;
        l->se_head = 0;
        l->se_cap = cap;
    }
    l->sample_ends[(l->se_head + l->se_len++) % l->se_cap] = l->tx_queued_abs;
    return true;
}

int ipcn__link_flush(ipcn_node *n, ipcn__link *l)
{
    if (l->write_broken) {
        drop_queue(n, l);
        return IPCN_SERVICE_UNAVAILABLE;
    }
    bool was_blocked = l->want_out || l->rtx_blocked;
    l->rtx_blocked = false;
    while (l->tx_off < l->tx.len) {
        ssize_t w = write_some(l);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EPROTO) {
                ring_broken(n, l, true, "the peer's read index of our ring is out "
                                  "of range");
                return IPCN_SERVICE_UNAVAILABLE;
            }
            if (errno == EPIPE || errno == ECONNRESET) {
                /* The peer is gone; what it sent before (a goodbye) is
                 * still to be read, and the read side closes the link. */
                l->write_broken = true;
                drop_queue(n, l);
                set_want_out(n, l, false);
                return IPCN_SERVICE_UNAVAILABLE;
            }
            ipcn__link_close(n, l, IPCN_SERVICE_UNAVAILABLE, strerror(errno));
            return IPCN_SERVICE_UNAVAILABLE;
        }
        l->tx_off += (size_t)w;
        l->tx_sent_abs += (uint64_t)w;
        if (was_blocked) /* we were blocked, and the peer made room */
            l->last_drain_ns = ipcn__now_mono_ns();
        l->bytes_out += (uint64_t)w;
        n->stats.bytes_out += (uint64_t)w;
    }
    ring_bell(n, l);
    if (l->bell_owed)
        room_bell(n, l);
    samples_sent(l);
    if (l->tx_off == l->tx.len) {
        l->tx.len = l->tx_off = 0;
        /* Give back a buffer that a burst grew large. */
        if (l->tx.cap > (1u << 20)) {
            ipcn__wbuf_free(&l->tx);
            tx_account(n, l);
        }
        set_want_out(n, l, l->bell_owed);
    } else {
        if (l->tx_off > l->tx.cap / 2) {
            memmove(l->tx.p, l->tx.p + l->tx_off, l->tx.len - l->tx_off);
            l->tx.len -= l->tx_off;
            l->tx_off = 0;
        }
        /* A full ring is not the socket's business: the reader's token
         * says when there is room. */
        set_want_out(n, l, !l->rtx_blocked || l->bell_owed);
    }
    check_pressure(n, l);
    return IPCN_OK;
}

/* After a frame was appended at mark by an encoder returning st: count it
 * and try to write.  A failed encoder has rolled the buffer back. */
/* Is a frame of this many bytes more than the peer said it accepts? */
static bool over_peer_limit(const ipcn__link *l, size_t frame_len)
{
    return l->state == LINK_UP &&
           frame_len - IPCN_WIRE_HDR_SIZE > l->peer_max_payload;
}

int ipcn__link_commit(ipcn_node *n, ipcn__link *l, size_t mark, int st)
{
    tx_account(n, l); /* the frame may have grown the buffer */
    if (st != IPCN_OK)
        return st;
    if (over_peer_limit(l, l->tx.len - mark)) {
        l->tx.len = mark; /* the peer would refuse it and drop the link */
        return IPCN_BAD_REQUEST;
    }
    l->frames_out++;
    n->stats.frames_out++;
    l->tx_queued_abs += l->tx.len - mark;
    if (l->state == LINK_DEAD)
        return IPCN_SERVICE_UNAVAILABLE;
    if (!l->unheard_ns) {
        /* Sent something since the peer last spoke: the link is watched
         * until it does again (a PONG is enough, and a ping asks for one),
         * so that the timer wakes us to ask.  The timer is only moved
         * earlier, so this costs a system call once per heartbeat. */
        l->unheard_ns = ipcn__now_mono_ns();
        ipcn__node_arm_timer(n, l->unheard_ns +
                                    (uint64_t)n->opts.heartbeat_ms * 1000000ull);
    }
    if ((l->want_out || l->rtx_blocked) && !l->write_broken &&
        l->tx_queued_abs - l->tx_tried_abs < IPCN_COALESCE_BYTES) {
        /* Blocked: the frame joins the queue, which goes out in one write
         * when the socket (EPOLLOUT) or the ring (the reader's token) has
         * room, instead of a failing system call per frame meanwhile.  A
         * sender that does not dispatch still tries every so many bytes. */
        check_pressure(n, l);
        return IPCN_OK;
    }
    l->tx_tried_abs = l->tx_queued_abs;
    return ipcn__link_flush(n, l);
}

int ipcn__link_send_raw(ipcn_node *n, ipcn__link *l, const uint8_t *p,
                        size_t len, bool droppable)
{
    if (l->state == LINK_DEAD)
        return IPCN_SERVICE_UNAVAILABLE;
    if (over_peer_limit(l, len)) {
        if (droppable) {
            l->drops++;
            n->stats.drops++;
        }
        return IPCN_BAD_REQUEST;
    }
    if (ipcn__link_backlog(l) + len > n->opts.tx_limit) {
        if (droppable) {
            l->drops++;
            n->stats.drops++;
        }
        return IPCN_TOO_MANY_REQUESTS;
    }
    size_t mark = ipcn__link_tx_mark(l, len);
    ipcn__wbuf_bytes(&l->tx, p, len);
    if (l->tx.oom) {
        l->tx.oom = 0;
        l->tx.len = mark;
        return IPCN_INSUFFICIENT_MEMORY;
    }
    if (droppable) {
        /* Remember where this sample ends, before it may leave at once. */
        l->tx_queued_abs += len;
        bool tracked = sample_queued(l);
        l->tx_queued_abs -= len;
        if (!tracked) {
            l->tx.len = mark;
            l->drops++;
            n->stats.drops++;
            tx_account(n, l);
            return IPCN_INSUFFICIENT_MEMORY;
        }
    }
    return ipcn__link_commit(n, l, mark, IPCN_OK);
}

void ipcn__link_send_error(ipcn_node *n, ipcn__link *l, int status,
                           const char *why)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, (uint16_t)status, 0);
    size_t mark = ipcn__link_tx_mark(l, 0);
    ipcn__str s = ipcn__str_of(why);
    ipcn__link_commit(n, l, mark,
                      ipcn__enc_text(&l->tx, &h, IPCN_F_ERROR, s.p, s.len));
}

/* Our frames to a peer that reads rings go on in one, from the byte after
 * the RING frame that carries its memfd.  Without it (no memory), they go
 * on through the socket. */
static void send_ring(ipcn_node *n, ipcn__link *l)
{
    if (ipcn__ring_create(&l->rtx, IPCN_RING_SIZE) != IPCN_OK) {
        ipcn__rdv_no_fds(n, errno, "a link ring");
        ipcn__info("IPCN-LINK-NORING", "%s: no ring for %s: frames go through "
                   "the socket", n->name, l->name);
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

static void send_hello(ipcn_node *n, ipcn__link *l)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    ipcn__hello b = {.min_version = IPCN_WIRE_VERSION,
                     .max_version = IPCN_WIRE_VERSION,
                     .caps = IPCN_CAP_CANCEL |
                             (n->shm_enabled ? IPCN_CAP_SHM | IPCN_CAP_WITHHELD
                                             : IPCN_CAP_NONE) |
                             (n->ring_enabled ? IPCN_CAP_RING : IPCN_CAP_NONE),
                     .heartbeat_ms = n->opts.heartbeat_ms,
                     .max_payload = n->opts.max_payload,
                     .network = ipcn__str_of(n->network),
                     .name = ipcn__str_of(n->name)};
    size_t mark = ipcn__link_tx_mark(l, 0);
    ipcn__link_commit(n, l, mark, ipcn__enc_hello(&l->tx, &h, &b));
}

ipcn__link *ipcn__link_new(ipcn_node *n, int fd, bool outbound,
                           const char *expect_name)
{
    ipcn__link *l = ipcn__calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return NULL;
    }
    l->fd = fd;
    l->pidfd = -1;
    ipcn__list_init(&l->hello_entry);
    l->rtx.fd = l->rrx.fd = -1;
    l->rtx_at = UINT64_MAX;
    /* Past tx_limit only frames that cannot be dropped are queued, and
     * reading from the peer stops at 1.25 times it: the buffer's growth
     * stops a little above that (see ipcn_node_opts.tx_limit). */
    l->tx.grow_max = (size_t)n->opts.tx_limit + n->opts.tx_limit / 2;
    l->outbound = outbound;
    l->state = LINK_HELLO;
    l->id = ++n->next_link_id ? n->next_link_id : ++n->next_link_id;
    l->created_ns = l->last_rx_ns = ipcn__now_mono_ns();
    if (expect_name && !(l->expect_name = ipcn__strdup(expect_name)))
        goto fail;
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
        l->pid = cred.pid;
        l->uid = (int32_t)cred.uid;
        l->gid = (int32_t)cred.gid;
        /* The kernel's word on the peer's death, even when its socket
         * lives on in a child that inherited it. */
        l->pidfd = cred.pid > 0 && cred.pid != getpid() ? pidfd_open_(cred.pid)
                                                         : -1;
        if (l->pidfd < 0 && cred.pid > 0 && cred.pid != getpid())
            ipcn__rdv_no_fds(n, errno, "a pidfd"); /* hang-up still tells */
    }
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = tag(TAG_LINK, l->id)};
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        goto fail;
    if (l->pidfd >= 0) {
        struct epoll_event pev = {.events = EPOLLIN,
                                  .data.u64 = tag(TAG_PIDFD, l->id)};
        if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, l->pidfd, &pev) < 0) {
            close(l->pidfd);
            l->pidfd = -1;
        }
    }
    ipcn__list_insert_tail(&n->links, &l->node_entry);
    n->nlinks++;
    send_hello(n, l);
    return l;
fail:
    close(fd);
    ipcn__free(l->expect_name);
    ipcn__free(l);
    return NULL;
}

/* Close the link now; it is freed after the current round, so that code
 * still holding the pointer up the stack sees LINK_DEAD, not freed memory.
 */
void ipcn__link_close(ipcn_node *n, ipcn__link *l, int status, const char *why)
{
    if (l->state == LINK_DEAD)
        return;
    bool was_up = l->state == LINK_UP;
    l->state = LINK_DEAD;
    l->close_status = status;
    ipcn__list_remove(&l->hello_entry);
    n->nlinks--;
    const char *who = l->name ? l->name : l->expect_name ? l->expect_name : "?";
    if (status == IPCN_OK)
        ipcn__debug("IPCN-LINK-BYE", "%s: link to %s closed: %s", n->name, who,
                    why ? why : "goodbye");
    else
        ipcn__info("IPCN-LINK-DOWN", "%s: link to %s (pid %d) closed: %d %s%s%s",
                   n->name, who, (int)l->pid, status, ipcn_status_str(status),
                   why ? ": " : "", why ? why : "");
    if (l->fd >= 0) {
        /* Last words already queued (an ERROR) get one try to go out;
         * samples that still do not fit are counted as dropped. */
        while (ipcn__link_backlog(l) && !l->write_broken) {
            ssize_t w = write_some(l);
            if (w <= 0)
                break;
            l->tx_off += (size_t)w;
            l->tx_sent_abs += (uint64_t)w;
        }
        ring_bell(n, l);
        samples_sent(l);
        drop_queue(n, l);
        epoll_ctl(n->epfd, EPOLL_CTL_DEL, l->fd, NULL);
        close(l->fd);
        l->fd = -1;
    }
    if (l->pidfd >= 0) {
        /* A peer that died (kill -9) left its socket and lock file: remove
         * them now (the sweep checks that its lock is free). */
        struct pollfd pfd = {.fd = l->pidfd, .events = POLLIN};
        if (was_up && status != IPCN_OK && !n->closing &&
            poll(&pfd, 1, 0) == 1 && l->name)
            ipcn__rdv_sweep(n, l->name);
        epoll_ctl(n->epfd, EPOLL_CTL_DEL, l->pidfd, NULL);
        close(l->pidfd);
        l->pidfd = -1;
    }
    /* It stays in n->links, marked dead, so that loops over the links stay
     * valid whatever a close sets off; pump() frees it after the round. */
    if (was_up) {
        if (status != IPCN_OK)
            n->stats.peers_lost++;
        if (n->stats.peers)
            n->stats.peers--;
        ipcn__req_on_link_down(n, l);
        ipcn__dir_on_link_down(n, l);
        ipcn__pool_on_link_down(n, l);
        ipcn__map_on_link_down(n, l);
        if (!n->closing)
            ipcn__queue_event(n, IPCN_EV_PEER_DOWN, l, NULL, IPCN_ANY,
                              status);
    }
    /* Dial again unless the peer left on purpose or cannot speak with us.
     * A 207 is retried: the peer may not have read the hang-up of our
     * previous link yet.  After bad input (ours or the peer's verdict), a
     * corrupted frame must not split the network for good: dial again,
     * later each time it happens again (backoff.c). */
    if (l->outbound && !n->closing && status != IPCN_OK &&
        status != IPCN_VERSION_NOT_SUPPORTED) {
        if (status == IPCN_BAD_REQUEST || status == IPCN_LOOP_DETECTED)
            ipcn__rdv_redial_in(n, l->expect_name,
                                ipcn__backoff_strike(n, l->expect_name,
                                                     ipcn__now_mono_ns()));
        else
            ipcn__rdv_redial(n, l->expect_name);
    }
}

void ipcn__link_free(ipcn_node *n, ipcn__link *l)
{
    ipcn__meta_give(n, l, l->meta_bytes); /* its patterns */
    for (uint32_t i = 0; i < l->nfds_out; i++)
        close(l->fds_out[i]);
    for (uint32_t i = 0; i < l->nfds_in; i++)
        close(l->fds_in[i]);
    ipcn__free(l->pools_sent);
    ipcn__ring_free(&l->rtx);
    ipcn__ring_free(&l->rrx);
    for (uint32_t i = 0; i < l->npatterns; i++)
        ipcn__free(l->patterns[i]);
    ipcn__free(l->patterns);
    ipcn__free(l->sample_ends);
    ipcn__free(l->rx);
    ipcn__wbuf_free(&l->tx);
    tx_account(n, l);
    ipcn__free(l->name);
    ipcn__free(l->expect_name);
    ipcn__free(l);
}

void ipcn__link_refuse_nofd(ipcn_node *n, ipcn__link *l)
{
    char why[96];
    snprintf(why, sizeof why, "out of file descriptors (limit %llu)",
             (unsigned long long)n->nofile);
    n->stats.links_refused++;
    ipcn__link_send_error(n, l, IPCN_INSUFFICIENT_MEMORY, why);
    ipcn__link_close(n, l, IPCN_INSUFFICIENT_MEMORY, why);
}

static void bad_input(ipcn_node *n, ipcn__link *l, int status,
                      const char *why)
{
    l->bad_frames++;
    n->stats.bad_frames++;
    n->stats.links_refused++;
    ipcn__warn("IPCN-LINK-BADFRAME", "%s: refusing link from %s (pid %d): %d %s: %s",
               n->name, l->name ? l->name : "(no hello yet)", (int)l->pid,
               status, ipcn_status_str(status), why);
    ipcn__link_send_error(n, l, status, why);
    ipcn__link_close(n, l, status, why);
}

static void on_hello(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__hello *h = &f->u.hello;
    if (h->min_version > IPCN_WIRE_VERSION || h->max_version < IPCN_WIRE_VERSION) {
        bad_input(n, l, IPCN_VERSION_NOT_SUPPORTED, "no common protocol version");
        return;
    }
    if (h->max_payload < IPCN_HELLO_MAX_PAYLOAD ||
        h->max_payload > IPCN_WIRE_MAX_PAYLOAD) {
        bad_input(n, l, IPCN_BAD_REQUEST, "max_payload out of range in hello");
        return;
    }
    if (ipcn__name_check(h->name.p, h->name.len) != IPCN_OK ||
        f->hdr.src == 0) {
        bad_input(n, l, IPCN_BAD_REQUEST, "invalid node name or id in hello");
        return;
    }
    if (h->network.len != strlen(n->network) ||
        memcmp(h->network.p, n->network, h->network.len) != 0) {
        bad_input(n, l, IPCN_BAD_REQUEST, "hello for another network");
        return;
    }
    if (!strcmp(h->name.p, n->name) ||
        (l->expect_name && strcmp(h->name.p, l->expect_name) != 0)) {
        bad_input(n, l, IPCN_BAD_REQUEST, "hello with an unexpected name");
        return;
    }
    ipcn__link *old = ipcn__link_by_name(n, h->name.p);
    if (old) {
        /* The same name twice.  From the same process, the new link wins:
         * that process dropped the old one (a heartbeat timeout under load)
         * and we have not read its hang-up yet.  From a previous
         * incarnation, the new one wins when the old process is dead by its
         * pidfd.  Otherwise two live processes claim one name: refuse. */
        bool old_dead = old->pid == l->pid;
        if (!old_dead && old->pidfd >= 0) {
            int r = syscall(SYS_pidfd_send_signal, old->pidfd, 0, NULL, 0);
            old_dead = r < 0 && errno == ESRCH;
        }
        if (!old_dead) {
            bad_input(n, l, IPCN_CONFLICT, "a live node of that name is linked");
            return;
        }
        ipcn__link_close(n, old, IPCN_SERVICE_UNAVAILABLE, "replaced");
    }
    if (!l->outbound) {
        /* A name is the lock of its file: a peer that did not take it
         * (a client that went around the directory) may not use it. */
        int held = ipcn__rdv_holds_name(n, h->name.p, l->pid);
        char why[IPCN_NAME_MAX + 80];
        if (held == IPCN_UNAUTHORIZED) {
            snprintf(why, sizeof why, "hello as %s from a process that does "
                     "not hold %s.lock", h->name.p, h->name.p);
            bad_input(n, l, held, why);
            return;
        }
        if (held != IPCN_OK) { /* our fault, not the peer's: no bad frame */
            snprintf(why, sizeof why, "cannot check that the peer holds "
                     "%s.lock: out of descriptors", h->name.p);
            n->stats.links_refused++;
            ipcn__warn("IPCN-LINK-NOFD", "%s: refusing link from pid %d: %s",
                       n->name, (int)l->pid, why);
            ipcn__link_send_error(n, l, held, why);
            ipcn__link_close(n, l, held, why);
            return;
        }
    }
    if (!(l->name = ipcn__strndup(h->name.p, h->name.len))) {
        ipcn__link_close(n, l, IPCN_INSUFFICIENT_MEMORY, "out of memory");
        return;
    }
    l->peer_id = f->hdr.src;
    l->peer_max_payload = h->max_payload;
    l->peer_caps = h->caps;
    l->state = LINK_UP;
    l->linked_ns = ipcn__now_mono_ns();
    n->stats.peers++;
    if (n->ring_enabled && (h->caps & IPCN_CAP_RING))
        send_ring(n, l);
    if (l->state != LINK_UP)
        return;
    ipcn__debug("IPCN-LINK-UP", "%s: linked to %s (pid %d)", n->name, l->name,
                (int)l->pid);
    ipcn__queue_event(n, IPCN_EV_PEER_UP, l, NULL, IPCN_ANY, IPCN_OK);
    ipcn__dir_on_link_up(n, l);
    if (l->state == LINK_UP)
        ipcn__pub_on_link_up(n, l);
    /* Frames on a link keep their order: a PING after the initial
     * directory tells the peer that it has all of it. */
    if (l->state == LINK_UP) {
        l->last_ping_ns = ipcn__now_mono_ns();
        ipcn__send_ping(n, l, IPCN_F_PING, l->last_ping_ns);
    }
    pthread_cond_broadcast(&n->cond);
}

/* One checked frame: hello handling here, the rest to the node. */
static void on_frame(ipcn_node *n, ipcn__link *l, const uint8_t *p, size_t len)
{
    ipcn__frame f;
    int st = ipcn__frame_decode(p, len, &f);
    if (st != IPCN_OK) {
        bad_input(n, l, st, "malformed frame body");
        return;
    }
    l->frames_in++;
    n->stats.frames_in++;
    if (f.hdr.ttl == 0) {
        bad_input(n, l, IPCN_LOOP_DETECTED, "frame with no hops left");
        return;
    }
    if (l->state == LINK_HELLO) {
        if (f.hdr.type == IPCN_F_ERROR) {
            ipcn__link_close(n, l, f.hdr.status ? f.hdr.status : IPCN_BAD_REQUEST,
                             f.u.text.p);
            return;
        }
        if (f.hdr.type != IPCN_F_HELLO) {
            bad_input(n, l, IPCN_BAD_REQUEST, "frame before hello");
            return;
        }
        on_hello(n, l, &f);
        return;
    }
    if (f.hdr.type == IPCN_F_HELLO) {
        bad_input(n, l, IPCN_BAD_REQUEST, "second hello");
        return;
    }
    if (f.hdr.src != l->peer_id || (f.hdr.dst != 0 && f.hdr.dst != n->id)) {
        /* v1 has no routing: a frame must come from the peer itself. */
        bad_input(n, l, IPCN_BAD_REQUEST, "frame with a foreign source or destination");
        return;
    }
    ipcn__node_frame(n, l, &f);
}

static bool tokens_ok(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != IPCN_RING_TOKEN_BELL && p[i] != IPCN_RING_TOKEN_FD)
            return false;
    return true;
}

/* Handle the whole frames in rx.  Returns false when the link died or
 * reading is paused. */
static bool parse_buffered(ipcn_node *n, ipcn__link *l)
{
    size_t pos = 0;
    bool ok = true;
    while (pos < l->rx_len) {
        if (l->state == LINK_DEAD || l->rx_paused) {
            ok = false;
            break;
        }
        size_t need = 0;
        /* Before its hello a peer is nobody: it may send only what a hello
         * can be, so that it cannot make the node hold a large buffer. */
        uint32_t limit = l->state == LINK_HELLO ? IPCN_HELLO_MAX_PAYLOAD
                                                : n->opts.max_payload;
        int st = ipcn__frame_check(l->rx + pos, l->rx_len - pos, limit, &need);
        if (st == IPCN_WIRE_NEED_MORE) {
            if (need > l->rx_cap) {
                /* Grow only to the size the checked header asks for, which
                 * max_payload bounds. */
                if (pos) {
                    memmove(l->rx, l->rx + pos, l->rx_len - pos);
                    l->rx_len -= pos;
                    pos = 0;
                }
                uint8_t *p = ipcn__realloc(l->rx, need);
                if (!p) {
                    ipcn__link_close(n, l, IPCN_INSUFFICIENT_MEMORY, "rx buffer");
                    return false;
                }
                l->rx = p;
                l->rx_cap = need;
            }
            break;
        }
        if (st != IPCN_OK) {
            bad_input(n, l, st, st == IPCN_VERSION_NOT_SUPPORTED
                                    ? "unsupported protocol version"
                                    : "bad frame header or checksum");
            return false;
        }
        bool had_ring = l->rrx.sh != NULL;
        on_frame(n, l, l->rx + pos, need);
        pos += need;
        if (!had_ring && l->rrx.sh) {
            /* The peer's frames go on in its ring: what follows on the
             * socket are tokens. */
            if (!tokens_ok(l->rx + pos, l->rx_len - pos)) {
                bad_input(n, l, IPCN_BAD_REQUEST, "bad token after a ring");
                return false;
            }
            pos = l->rx_len;
            break;
        }
    }
    if (l->state == LINK_DEAD)
        return false;
    if (pos) {
        memmove(l->rx, l->rx + pos, l->rx_len - pos);
        l->rx_len -= pos;
    }
    /* A large frame's buffer is given back once it has been handled. */
    if (l->rx_len == 0 && l->rx_cap > RX_INITIAL) {
        uint8_t *p = ipcn__realloc(l->rx, RX_INITIAL);
        if (p) {
            l->rx = p;
            l->rx_cap = RX_INITIAL;
        }
    }
    return ok && !l->rx_paused;
}

/* Read into rx, taking the descriptors that come along: a few at a time,
 * each for a SHM_POOL frame read with it or soon after (a read may cover
 * the hello too, so the link's state says nothing yet).
 * Returns the bytes read, -1 with errno, or -2 when the link was refused. */
static ssize_t read_some(ipcn_node *n, ipcn__link *l, void *dst, size_t want)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * IPCN_LINK_MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {dst, want};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t r = recvmsg(l->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    /* A descriptor the kernel could not install here (no room in our
     * table) is dropped with MSG_CTRUNC and no control data at all. */
    if (r < 0 || (!mh.msg_controllen && !(mh.msg_flags & MSG_CTRUNC)))
        return r;
    bool refuse = (mh.msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfd; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (l->nfds_in < IPCN_LINK_MAX_FDS)
                l->fds_in[l->nfds_in++] = fd;
            else {
                close(fd);
                refuse = true;
            }
        }
    }
    if (refuse && (mh.msg_flags & MSG_CTRUNC) && !ipcn__fd_room(n, 1)) {
        /* Our table is full, not the peer's doing. */
        ipcn__rdv_no_fds(n, EMFILE, "a descriptor from a peer");
        ipcn__link_refuse_nofd(n, l);
        return -2;
    }
    if (refuse) {
        bad_input(n, l, IPCN_BAD_REQUEST, "unexpected file descriptors");
        return -2;
    }
    return r;
}

/* Room at the end of rx for the next read: 0 when the link was closed (no
 * memory) or when none is left (cannot happen: a partial frame grows the
 * buffer to its size). */
static size_t rx_room(ipcn_node *n, ipcn__link *l)
{
    if (l->rx_cap - l->rx_len < 4096 && l->rx_cap < RX_INITIAL) {
        uint8_t *p = ipcn__realloc(l->rx, RX_INITIAL);
        if (!p) {
            ipcn__link_close(n, l, IPCN_INSUFFICIENT_MEMORY, "rx buffer");
            return 0;
        }
        l->rx = p;
        l->rx_cap = RX_INITIAL;
    }
    return l->rx_cap - l->rx_len;
}

/* r bytes came into rx (from the socket or the ring): count them and
 * handle the frames.  As parse_buffered. */
static bool rx_took(ipcn_node *n, ipcn__link *l, size_t r)
{
    l->rx_len += r;
    l->bytes_in += (uint64_t)r;
    n->stats.bytes_in += (uint64_t)r;
    l->last_rx_ns = n->round_ns; /* reads happen in I/O rounds */
    l->unheard_ns = 0;
    return parse_buffered(n, l);
}

/* Read the tokens waiting on the socket of a link whose peer writes into
 * its ring, keeping the descriptors that come with them.  Returns 1 when
 * the peer hung up, 0, or -1 when the link was closed. */
static int drain_tokens(ipcn_node *n, ipcn__link *l)
{
    uint8_t buf[256];
    for (;;) {
        ssize_t r = read_some(n, l, buf, sizeof buf);
        if (r == -2)
            return -1;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
        }
        if (r == 0)
            return 1;
        if (!tokens_ok(buf, (size_t)r)) {
            bad_input(n, l, IPCN_BAD_REQUEST, "bad token after a ring");
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
    if (!parse_buffered(n, l))
        return;
    size_t budget = IPCN_READ_BUDGET;
    bool took = false;
    while (l->state != LINK_DEAD && !l->rx_paused && (all || budget > 0)) {
        size_t room = rx_room(n, l);
        if (!room)
            break;
        size_t want = all || room < budget ? room : budget;
        ssize_t r = ipcn__ring_read(&l->rrx, l->rx + l->rx_len, want);
        if (r < 0) {
            ring_broken(n, l, false, "the write index of its ring is out of range");
            return;
        }
        if (r == 0)
            break;
        took = true;
        budget -= (size_t)r < budget ? (size_t)r : budget;
        if (!rx_took(n, l, (size_t)r))
            break;
    }
    if (took && l->state != LINK_DEAD && ipcn__ring_room_wanted(&l->rrx))
        room_bell(n, l);
}

/* Our ring was full: write on if the reader made room. */
static void ring_unblock(ipcn_node *n, ipcn__link *l)
{
    if (l->rtx_blocked && ipcn__ring_has_room(&l->rtx))
        ipcn__link_flush(n, l);
}

static void ring_readable(ipcn_node *n, ipcn__link *l)
{
    int hup = drain_tokens(n, l);
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
        bad_input(n, l, IPCN_BAD_REQUEST, l->rrx.sh ? "a second ring"
                                                    : "ring not negotiated");
        return;
    }
    if (!l->rtx.sh) {
        /* Ours could not be made at hello time (memory): once more, else
         * the link starts over (the dialler dials again). */
        send_ring(n, l);
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
            bad_input(n, l, IPCN_BAD_REQUEST, "ring without a descriptor");
        return;
    }
    const char *why = ipcn__ring_attach(&l->rrx, fd, f->u.ring.size);
    if (why) {
        bad_input(n, l, IPCN_BAD_REQUEST, why);
        return;
    }
    /* Spinning for a peer pinned to our one core would only delay it. */
    cpu_set_t me, peer;
    l->spin_ok = get_nprocs() > 1;
    if (l->spin_ok && sched_getaffinity(0, sizeof me, &me) == 0 &&
        sched_getaffinity(l->pid, sizeof peer, &peer) == 0 &&
        CPU_COUNT(&me) == 1 && CPU_EQUAL(&me, &peer))
        l->spin_ok = false;
}

void ipcn__link_on_readable(ipcn_node *n, ipcn__link *l)
{
    if (l->rrx.sh) {
        ring_readable(n, l);
        return;
    }
    size_t budget = IPCN_READ_BUDGET;
    l->rx_pending = false;
    if (!parse_buffered(n, l))
        return;
    while (l->state != LINK_DEAD && !l->rx_paused && budget > 0) {
        size_t room = rx_room(n, l);
        if (room == 0)
            break;
        size_t want = room < budget ? room : budget;
        ssize_t r = read_some(n, l, l->rx + l->rx_len, want);
        if (r == -2)
            return; /* refused: the link is closed */
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            ipcn__link_close(n, l, IPCN_SERVICE_UNAVAILABLE, strerror(errno));
            return;
        }
        if (r == 0) {
            ipcn__link_close(n, l, IPCN_SERVICE_UNAVAILABLE, "hang-up");
            return;
        }
        budget -= (size_t)r < budget ? (size_t)r : budget;
        if (!rx_took(n, l, (size_t)r))
            return;
        if (l->rrx.sh) {
            /* The peer's RING came: its frames go on there. */
            ring_readable(n, l);
            return;
        }
        if ((size_t)r < want)
            break; /* a short read: the socket is empty for now */
    }
}
