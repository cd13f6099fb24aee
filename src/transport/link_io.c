/* SPDX-License-Identifier: MIT */
/*
 * link_io.c — a link's bytes: the queue of frames to send (with the
 * descriptors that go with them), writing it to the socket, reading from
 * it, and cutting what came into checked frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/node.h"
#include "transport/gate.h"
#include "transport/link_impl.h"
#include "transport/route.h"

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
        if (l->state == LINK_UP && l->who.name && !strcmp(l->who.name, name))
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
void ipcn__link_tx_account(ipcn_node *n, ipcn__link *l)
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
    /* A paused link is not watched for a half-close (EPOLLRDHUP): epoll's
     * silence says nothing of it until it is watched again. */
    if (l->rx_paused)
        l->rdhup_watched_ns = UINT64_MAX;
    else if (l->rdhup_watched_ns == UINT64_MAX)
        l->rdhup_watched_ns = n->round_ns;
    struct epoll_event ev = {.events = (l->rx_paused ? 0u : EPOLLIN | EPOLLRDHUP) |
                                       (l->want_out ? EPOLLOUT : 0u),
                             .data.u64 = ipcn__epoll_tag(TAG_LINK, l->id)};
    epoll_ctl(n->epfd, EPOLL_CTL_MOD, l->fd, &ev);
}

void ipcn__link_set_want_out(ipcn_node *n, ipcn__link *l, bool on)
{
    if (l->want_out == on || l->fd < 0)
        return;
    l->want_out = on;
    update_events(n, l);
}

void ipcn__link_check_pressure(ipcn_node *n, ipcn__link *l)
{
    size_t backlog = ipcn__link_backlog(l);
    /* Samples stop at tx_limit (they are dropped past it), so only frames
     * that cannot be dropped reach the pause threshold above it: two busy
     * peers streaming at each other never pause each other. */
    if (!l->rx_paused && ipcn__gate_pause_reading(n, backlog)) {
        l->rx_paused = true;
        ipcn__info("IPCN-LINK-BACKPRESSURE", "%s: %s reads too slowly (%zu bytes "
                   "queued): not reading from it until it catches up", n->name,
                   l->who.name ? l->who.name : "(no hello yet)", backlog);
        update_events(n, l);
    } else if (l->rx_paused && ipcn__gate_resume_reading(n, backlog)) {
        l->rx_paused = false;
        /* (A TCP link may also hold records read and not yet opened.) */
        l->rx_pending = l->rx_len > 0 || (l->sec && ipcn__sec_in_pending(l));
        update_events(n, l);
    }
}

/* Samples whose bytes have all been written leave the ring. */
void ipcn__link_samples_sent(ipcn__link *l)
{
    while (l->se_len && l->sample_ends[l->se_head] <= l->tx_sent_abs) {
        l->se_head = (l->se_head + 1) % l->se_cap;
        l->se_len--;
    }
}

/* The bytes still queued will never be sent: count the samples in them. */
void ipcn__link_drop_queue(ipcn_node *n, ipcn__link *l)
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

int ipcn__link_take_fd(ipcn_node *n, ipcn__link *l)
{
    /* Through a ring, the descriptor was sent on the socket before the
     * frame that needs it entered the ring: it waits there. */
    if (!l->nfds_in && l->rrx.sh && l->state != LINK_DEAD)
        (void)ipcn__link_drain_tokens(n, l);
    if (!l->nfds_in)
        return -1;
    int fd = l->fds_in[0];
    memmove(l->fds_in, l->fds_in + 1, --l->nfds_in * sizeof(int));
    return fd;
}

void ipcn__link_fd_sent(ipcn__link *l)
{
    close(l->fds_out[0]);
    l->nfds_out--;
    memmove(l->fds_out, l->fds_out + 1, l->nfds_out * sizeof(int));
    memmove(l->fds_out_at, l->fds_out_at + 1, l->nfds_out * sizeof(uint64_t));
}

/* Write some of the queue; a descriptor goes with the byte it belongs to,
 * so a write stops short of the next one and the one carrying it starts at
 * its byte.  From rtx_at on, the bytes go into the ring. */
ssize_t ipcn__link_write_some(ipcn__link *l)
{
    const uint8_t *p = l->tx.p + l->tx_off;
    size_t len = l->tx.len - l->tx_off;
    if (l->rtx.sh) {
        if (l->tx_sent_abs >= l->rtx_at)
            return ipcn__link_ring_write_some(l, p, len);
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
        ipcn__link_fd_sent(l);
    return w;
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
        ipcn__link_drop_queue(n, l);
        return IPCN_SERVICE_UNAVAILABLE;
    }
    bool was_blocked = l->want_out || l->rtx_blocked;
    l->rtx_blocked = false;
    /* A TCP link's records: its queue is encrypted into them, and they
     * (with the handshake's messages) leave before the queue moves. */
    while (l->tx_off < l->tx.len || (l->sec && ipcn__sec_out_pending(l))) {
        ssize_t w = l->sec ? ipcn__sec_write_some(n, l)
                           : ipcn__link_write_some(l);
        if (w == 0)
            break; /* a TCP link that has nothing it may send yet */
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EPROTO) {
                ipcn__link_ring_broken(n, l, true, "the peer's read index of our ring is out "
                                  "of range");
                return IPCN_SERVICE_UNAVAILABLE;
            }
            if (errno == EPIPE || errno == ECONNRESET) {
                /* The peer is gone; what it sent before (a goodbye) is
                 * still to be read, and the read side closes the link. */
                l->write_broken = true;
                ipcn__link_drop_queue(n, l);
                ipcn__link_set_want_out(n, l, false);
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
    ipcn__link_ring_bell(n, l);
    if (l->bell_owed)
        ipcn__link_room_bell(n, l);
    ipcn__link_samples_sent(l);
    if (l->tx_off == l->tx.len) {
        l->tx.len = l->tx_off = 0;
        /* Give back a buffer that a burst grew large (a TCP link's up to
         * IPCN_SEC_BUF_KEEP stays: see link.h). */
        if (l->tx.cap > (1u << 20) &&
            !(l->sec && l->tx.cap <= IPCN_SEC_BUF_KEEP)) {
            ipcn__wbuf_free(&l->tx);
            ipcn__link_tx_account(n, l);
        }
        ipcn__link_set_want_out(n, l, l->bell_owed ||
                                          (l->sec && ipcn__sec_out_pending(l)));
    } else {
        if (l->tx_off > l->tx.cap / 2) {
            memmove(l->tx.p, l->tx.p + l->tx_off, l->tx.len - l->tx_off);
            l->tx.len -= l->tx_off;
            l->tx_off = 0;
        }
        /* A full ring is not the socket's business: the reader's token
         * says when there is room. */
        ipcn__link_set_want_out(n, l, !l->rtx_blocked || l->bell_owed);
    }
    ipcn__link_check_pressure(n, l);
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
    ipcn__link_tx_account(n, l); /* the frame may have grown the buffer */
    if (st != IPCN_OK)
        return st;
    if (l->kind == LINK_ROUTED) {
        /* No socket: the frame goes in a FORWARD (vlink.c). */
        if (l->state == LINK_DEAD) {
            l->tx.len = mark;
            return IPCN_SERVICE_UNAVAILABLE;
        }
        return ipcn__vlink_commit(n, l, mark, false);
    }
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
        ipcn__link_check_pressure(n, l);
        return IPCN_OK;
    }
    l->tx_tried_abs = l->tx_queued_abs;
    return ipcn__link_flush(n, l);
}

int ipcn__link_send_begin(ipcn_node *n, ipcn__link *l, size_t len,
                          bool droppable, size_t *mark)
{
    if (l->state == LINK_DEAD)
        return IPCN_SERVICE_UNAVAILABLE;
    if (l->kind == LINK_ROUTED) {
        *mark = ipcn__link_tx_mark(l, len);
        return IPCN_OK;
    }
    if (over_peer_limit(l, len)) {
        if (droppable) {
            l->drops++;
            n->stats.drops++;
        }
        return IPCN_BAD_REQUEST;
    }
    if (!ipcn__gate_queue_room(n, l, len)) {
        if (droppable) {
            l->drops++;
            n->stats.drops++;
        }
        return IPCN_TOO_MANY_REQUESTS;
    }
    *mark = ipcn__link_tx_mark(l, len);
    return IPCN_OK;
}

int ipcn__link_send_end(ipcn_node *n, ipcn__link *l, size_t mark,
                        bool droppable, int st)
{
    size_t len = l->tx.len - mark;
    if (l->tx.oom || st != IPCN_OK) {
        l->tx.oom = 0;
        l->tx.len = mark;
        if (droppable) { /* a sample lost here: counted, as any drop */
            l->drops++;
            n->stats.drops++;
        }
        return st != IPCN_OK ? st : IPCN_INSUFFICIENT_MEMORY;
    }
    if (l->kind == LINK_ROUTED)
        return ipcn__vlink_commit(n, l, mark, droppable);
    if (droppable) {
        /* Remember where this sample ends, before it may leave at once. */
        l->tx_queued_abs += len;
        bool tracked = sample_queued(l);
        l->tx_queued_abs -= len;
        if (!tracked) {
            l->tx.len = mark;
            l->drops++;
            n->stats.drops++;
            ipcn__link_tx_account(n, l);
            return IPCN_INSUFFICIENT_MEMORY;
        }
    }
    return ipcn__link_commit(n, l, mark, IPCN_OK);
}

int ipcn__link_send_raw(ipcn_node *n, ipcn__link *l, const uint8_t *p,
                        size_t len, bool droppable)
{
    size_t mark;
    int st = ipcn__link_send_begin(n, l, len, droppable, &mark);
    if (st != IPCN_OK)
        return st;
    ipcn__wbuf_bytes(&l->tx, p, len);
    return ipcn__link_send_end(n, l, mark, droppable, IPCN_OK);
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

bool ipcn__link_tokens_ok(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != IPCN_RING_TOKEN_BELL && p[i] != IPCN_RING_TOKEN_FD)
            return false;
    return true;
}

/* Handle the whole frames in rx.  Returns false when the link died or
 * reading is paused. */
bool ipcn__link_parse_buffered(ipcn_node *n, ipcn__link *l)
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
        /* A TCP link's frames came in authenticated records: their
         * checksum is not needed, and its peer leaves it 0. */
        int st = ipcn__frame_check_ex(l->rx + pos, l->rx_len - pos, limit, &need,
                                      !l->sec);
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
            ipcn__link_bad_input(n, l, st, st == IPCN_VERSION_NOT_SUPPORTED
                                    ? "unsupported protocol version"
                                    : "bad frame header or checksum");
            return false;
        }
        bool had_ring = l->rrx.sh != NULL;
        ipcn__link_on_frame(n, l, l->rx + pos, need);
        pos += need;
        if (!had_ring && l->rrx.sh) {
            /* The peer's frames go on in its ring: what follows on the
             * socket are tokens. */
            if (!ipcn__link_tokens_ok(l->rx + pos, l->rx_len - pos)) {
                ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "bad token after a ring");
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
    /* A large frame's buffer is given back once it has been handled (a TCP
     * link keeps it up to IPCN_SEC_BUF_KEEP: it decrypts into it). */
    if (l->rx_len == 0 && l->rx_cap > IPCN_LINK_RX_INITIAL &&
        !(l->sec && l->rx_cap <= IPCN_SEC_BUF_KEEP)) {
        uint8_t *p = ipcn__realloc(l->rx, IPCN_LINK_RX_INITIAL);
        if (p) {
            l->rx = p;
            l->rx_cap = IPCN_LINK_RX_INITIAL;
        }
    }
    return ok && !l->rx_paused;
}

/* Read into rx, taking the descriptors that come along: a few at a time,
 * each for a SHM_POOL frame read with it or soon after (a read may cover
 * the hello too, so the link's state says nothing yet).
 * Returns the bytes read, -1 with errno, or -2 when the link was refused. */
ssize_t ipcn__link_read_some(ipcn_node *n, ipcn__link *l, void *dst, size_t want)
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
        ipcn__fds_short(n, EMFILE, "a descriptor from a peer");
        ipcn__link_refuse_nofd(n, l);
        return -2;
    }
    if (refuse) {
        ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "unexpected file descriptors");
        return -2;
    }
    return r;
}

/* Room at the end of rx for the next read: 0 when the link was closed (no
 * memory) or when none is left (cannot happen: a partial frame grows the
 * buffer to its size). */
size_t ipcn__link_rx_room(ipcn_node *n, ipcn__link *l)
{
    if (l->rx_cap - l->rx_len < 4096 && l->rx_cap < IPCN_LINK_RX_INITIAL) {
        uint8_t *p = ipcn__realloc(l->rx, IPCN_LINK_RX_INITIAL);
        if (!p) {
            ipcn__link_close(n, l, IPCN_INSUFFICIENT_MEMORY, "rx buffer");
            return 0;
        }
        l->rx = p;
        l->rx_cap = IPCN_LINK_RX_INITIAL;
    }
    return l->rx_cap - l->rx_len;
}

/* r bytes came into rx (from the socket or the ring): count them and
 * handle the frames.  As parse_buffered. */
bool ipcn__link_rx_took(ipcn_node *n, ipcn__link *l, size_t r)
{
    l->rx_len += r;
    l->bytes_in += (uint64_t)r;
    n->stats.bytes_in += (uint64_t)r;
    l->last_rx_ns = n->round_ns; /* reads happen in I/O rounds */
    l->unheard_ns = 0;
    return ipcn__link_parse_buffered(n, l);
}

void ipcn__link_on_readable(ipcn_node *n, ipcn__link *l)
{
    if (l->sec) {
        ipcn__sec_on_readable(n, l); /* Noise records (link_tcp.c) */
        return;
    }
    if (l->rrx.sh) {
        ipcn__link_ring_readable(n, l);
        return;
    }
    size_t budget = ipcn__link_read_budget(n->round_ns, l);
    l->rx_pending = false;
    if (!ipcn__link_parse_buffered(n, l))
        return;
    while (l->state != LINK_DEAD && !l->rx_paused && budget > 0) {
        size_t room = ipcn__link_rx_room(n, l);
        if (room == 0)
            break;
        size_t want = room < budget ? room : budget;
        ssize_t r = ipcn__link_read_some(n, l, l->rx + l->rx_len, want);
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
        if (!ipcn__link_rx_took(n, l, (size_t)r))
            return;
        if (l->rrx.sh) {
            /* The peer's RING came: its frames go on there. */
            ipcn__link_ring_readable(n, l);
            return;
        }
        if ((size_t)r < want)
            break; /* a short read: the socket is empty for now */
    }
}
