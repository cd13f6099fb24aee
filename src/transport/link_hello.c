/* SPDX-License-Identifier: MIT */
/*
 * link_hello.c — a link's life: its start (the peer's credentials taken
 * from the socket), the hello that makes it UP, the frames it handles
 * itself, and its end.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/entry.h"
#include "ipcnet_hosts.h"
#include "transport/gate.h"
#include "transport/traffic.h"
#include "transport/limits.h"
#include "transport/link_impl.h"
#include "transport/reputation.h"
#include "transport/route.h"

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

/* What a link of this kind can carry: shared memory and rings only on
 * this host's sockets (a TCP or routed link's samples cross as copies). */
static uint32_t kind_caps(const ipcn__link *l, uint32_t caps)
{
    if (l->kind != LINK_TCP)
        caps &= ~IPCN_CAP_NOSUM; /* only records authenticate every byte */
    return l->kind == LINK_UNIX
               ? caps
               : caps & ~(IPCN_CAP_SHM | IPCN_CAP_WITHHELD | IPCN_CAP_RING |
                          IPCN_CAP_SHMREQ);
}

void ipcn__link_send_hello(ipcn_node *n, ipcn__link *l)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    ipcn__hello b = {.min_version = IPCN_WIRE_VERSION,
                     .max_version = IPCN_WIRE_VERSION,
                     .caps = kind_caps(l, IPCN_CAP_CANCEL | IPCN_CAP_SET |
                             IPCN_CAP_QUARANTINE | IPCN_CAP_STATE |
                             IPCN_CAP_REDUNDANCY | IPCN_CAP_ROUTE |
                             IPCN_CAP_LIVENESS | IPCN_CAP_LATCH | IPCN_CAP_NOSUM |
                             IPCN_CAP_HISTORY |
                             IPCN_CAP_PROV |
                             (n->shm_enabled ? IPCN_CAP_SHM | IPCN_CAP_WITHHELD |
                                                   IPCN_CAP_SHMREQ
                                             : IPCN_CAP_NONE) |
                             (n->ring_enabled ? IPCN_CAP_RING : IPCN_CAP_NONE)),
                     .heartbeat_ms = n->opts.heartbeat_ms,
                     .max_payload = n->opts.max_payload,
                     .network = ipcn__str_of(n->network),
                     .name = ipcn__str_of(n->name)};
    size_t mark = ipcn__link_tx_mark(l, 0);
    ipcn__link_commit(n, l, mark, ipcn__enc_hello(&l->tx, &h, &b));
}

/* A link's common start: its id, queues and times; not yet in the node's
 * list nor in epoll. */
ipcn__link *ipcn__link_alloc(ipcn_node *n, int fd, bool outbound)
{
    ipcn__link *l = ipcn__calloc(1, sizeof *l);
    if (!l)
        return NULL;
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
    ipcn__limits_link_init(l);
    return l;
}

ipcn__link *ipcn__link_new(ipcn_node *n, int fd, bool outbound,
                           const char *expect_name)
{
    ipcn__link *l = ipcn__link_alloc(n, fd, outbound);
    if (!l) {
        close(fd);
        return NULL;
    }
    if (expect_name && !(l->expect_name = ipcn__strdup(expect_name)))
        goto fail;
    ipcn__identity_take(&l->who, fd);
    /* The kernel's word on the peer's death, even when its socket lives on
     * in a child that inherited it. */
    pid_t pid = l->who.pid;
    if (pid > 0 && pid != getpid()) {
        l->pidfd = pidfd_open_(pid);
        if (l->pidfd < 0)
            ipcn__fds_short(n, errno, "a pidfd"); /* hang-up still tells */
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
                             .data.u64 = ipcn__epoll_tag(TAG_LINK, l->id)};
    if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        goto fail;
    if (l->pidfd >= 0) {
        struct epoll_event pev = {.events = EPOLLIN,
                                  .data.u64 = ipcn__epoll_tag(TAG_PIDFD, l->id)};
        if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, l->pidfd, &pev) < 0) {
            close(l->pidfd);
            l->pidfd = -1;
        }
    }
    ipcn__list_insert_tail(&n->links, &l->node_entry);
    n->nlinks++;
    ipcn__link_send_hello(n, l);
    return l;
fail:
    close(fd);
    if (l->pidfd >= 0)
        close(l->pidfd);
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
    const char *who = l->who.name ? l->who.name : l->expect_name ? l->expect_name : "?";
    if (status == IPCN_OK)
        ipcn__debug("IPCN-LINK-BYE", "%s: link to %s closed: %s", n->name, who,
                    why ? why : "goodbye");
    else
        ipcn__info("IPCN-LINK-DOWN", "%s: link to %s (pid %d) closed: %d %s%s%s",
                   n->name, who, (int)l->who.pid, status, ipcn_status_str(status),
                   why ? ": " : "", why ? why : "");
    if (l->fd >= 0) {
        /* Last words already queued (an ERROR) get one try to go out;
         * samples that still do not fit are counted as dropped. */
        while ((ipcn__link_backlog(l) || ipcn__sec_out_pending(l)) &&
               !l->write_broken) {
            ssize_t w = l->sec ? ipcn__sec_write_some(n, l)
                               : ipcn__link_write_some(l);
            if (w <= 0)
                break;
            l->tx_off += (size_t)w;
            l->tx_sent_abs += (uint64_t)w;
        }
        ipcn__link_ring_bell(n, l);
        ipcn__link_samples_sent(l);
        ipcn__link_drop_queue(n, l);
        epoll_ctl(n->epfd, EPOLL_CTL_DEL, l->fd, NULL);
        if (l->kind == LINK_TCP)
            ipcn__sec_close_fd(n, l); /* its last words must arrive */
        else
            close(l->fd);
        l->fd = -1;
    }
    bool peer_died = false;
    if (l->pidfd >= 0) {
        /* A peer that died (kill -9) left its socket and lock file: the
         * engine has them removed (the sweep checks that its lock is
         * free). */
        struct pollfd pfd = {.fd = l->pidfd, .events = POLLIN};
        peer_died = was_up && status != IPCN_OK && !n->closing &&
                    poll(&pfd, 1, 0) == 1;
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
    }
    /* Up or not, the engine hears of it (and dials again if it should). */
    ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_LINK_DOWN, .link = l,
                                   .status = status, .was_up = was_up,
                                   .peer_died = peer_died});
    /* The ways it told go; its routed peer's way, if it was one. */
    if (was_up || l->kind == LINK_ROUTED)
        ipcn__route_link_down(n, l);
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
    ipcn__traffic_free(l);
    ipcn__free(l->rx);
    ipcn__wbuf_free(&l->tx);
    ipcn__link_tx_account(n, l);
    ipcn__limits_link_free(n, l);
    ipcn__identity_free(&l->who);
    ipcn__free(l->expect_name);
    ipcn__sec_free(l);
    ipcn__free(l->addr);
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

void ipcn__link_bad_input(ipcn_node *n, ipcn__link *l, int status,
                      const char *why)
{
    l->bad_frames++;
    n->stats.bad_frames++;
    n->stats.links_refused++;
    ipcn__warn("IPCN-LINK-BADFRAME", "%s: refusing link from %s (pid %d): %d %s: %s",
               n->name, l->who.name ? l->who.name : "(no hello yet)", (int)l->who.pid,
               status, ipcn_status_str(status), why);
    ipcn__link_send_error(n, l, status, why);
    ipcn__link_close(n, l, status, why);
    /* The peer's doing, but for a name claimed twice (a restart's race)
     * and a version of the protocol we do not share (an older peer). */
    if (status != IPCN_CONFLICT && status != IPCN_VERSION_NOT_SUPPORTED)
        ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME, why);
}

static void on_hello(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__hello *h = &f->u.hello;
    if (h->min_version > IPCN_WIRE_VERSION || h->max_version < IPCN_WIRE_VERSION) {
        ipcn__link_bad_input(n, l, IPCN_VERSION_NOT_SUPPORTED, "no common protocol version");
        return;
    }
    if (h->max_payload < IPCN_HELLO_MAX_PAYLOAD ||
        h->max_payload > IPCN_WIRE_MAX_PAYLOAD) {
        ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "max_payload out of range in hello");
        return;
    }
    if (ipcn__name_check(h->name.p, h->name.len) != IPCN_OK ||
        f->hdr.src == 0) {
        ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "invalid node name or id in hello");
        return;
    }
    if (h->network.len != strlen(n->network) ||
        memcmp(h->network.p, n->network, h->network.len) != 0) {
        ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "hello for another network");
        return;
    }
    /* A node of another host is "name@host" here, host the name our
     * trust list gives its key (never what it wrote), or for a routed
     * link the name its routers gave; it may have our own name there. */
    bool remote = l->kind != LINK_UNIX && l->who.host;
    char full[IPCN_NAME_MAX + IPCN_HOST_NAME_MAX + 2];
    if (remote)
        snprintf(full, sizeof full, "%s@%s", h->name.p, l->who.host);
    else
        snprintf(full, sizeof full, "%s", h->name.p);
    if ((!remote && !strcmp(h->name.p, n->name)) ||
        (l->expect_name && strcmp(h->name.p, l->expect_name) != 0) ||
        (l->kind == LINK_ROUTED && f->hdr.src != l->who.node_id)) {
        ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "hello with an unexpected name");
        return;
    }
    /* A node id names one node: a hello with the id of this node or of
     * another live link of another name is a claim to be that node
     * (provenance trusts a record by its node id; docs/protocol.md 7.3). */
    if (f->hdr.src == n->id) {
        ipcn__link_bad_input(n, l, IPCN_CONFLICT, "hello with this node's id");
        return;
    }
    ipcn__link *same;
    ipcn__list_for_each(same, t, &n->links, ipcn__link, node_entry)
        if (same != l && same->state == LINK_UP && same->who.name &&
            same->who.node_id == f->hdr.src && strcmp(same->who.name, full)) {
            ipcn__link_bad_input(n, l, IPCN_CONFLICT,
                                 "hello with the node id of another linked node");
            return;
        }
    ipcn__link *old = ipcn__link_by_name(n, full);
    if (old) {
        /* The same name twice.  From the same process, the new link wins:
         * that process dropped the old one (a heartbeat timeout under load)
         * and we have not read its hang-up yet.  From a previous
         * incarnation, the new one wins when the old process is dead by its
         * pidfd.  Otherwise two live processes claim one name: refuse. */
        /* Of another host (TCP, routed) no pid is known: only the same
         * node (its id) may take the name over. */
        bool local = old->kind == LINK_UNIX && l->kind == LINK_UNIX;
        bool old_dead = local ? old->who.pid > 0 && old->who.pid == l->who.pid
                              : old->who.node_id == f->hdr.src;
        if (!old_dead && old->pidfd >= 0) {
            int r = syscall(SYS_pidfd_send_signal, old->pidfd, 0, NULL, 0);
            old_dead = r < 0 && errno == ESRCH;
        }
        if (!old_dead) {
            ipcn__link_bad_input(n, l, IPCN_CONFLICT, "a live node of that name is linked");
            return;
        }
        ipcn__link_close(n, old, IPCN_SERVICE_UNAVAILABLE, "replaced");
    }
    if (!l->outbound && l->kind == LINK_UNIX) {
        /* A name is the lock of its file: a peer that did not take it
         * (a client that went around the directory) may not use it. */
        int held = ipcn__identity_holds_name(n, h->name.p, &l->who);
        char why[IPCN_NAME_MAX + 80];
        if (held == IPCN_UNAUTHORIZED) {
            snprintf(why, sizeof why, "hello as %s from a process that does "
                     "not hold %s.lock", h->name.p, h->name.p);
            ipcn__link_bad_input(n, l, held, why);
            return;
        }
        if (held != IPCN_OK) { /* our fault, not the peer's: no bad frame */
            snprintf(why, sizeof why, "cannot check that the peer holds "
                     "%s.lock: out of descriptors", h->name.p);
            n->stats.links_refused++;
            ipcn__warn("IPCN-LINK-NOFD", "%s: refusing link from pid %d: %s",
                       n->name, (int)l->who.pid, why);
            ipcn__link_send_error(n, l, held, why);
            ipcn__link_close(n, l, held, why);
            return;
        }
    }
    if (ipcn__identity_name(&l->who, full, strlen(full), f->hdr.src) !=
        IPCN_OK) {
        ipcn__link_close(n, l, IPCN_INSUFFICIENT_MEMORY, "out of memory");
        return;
    }
    /* Its name proved: quarantined, banned or black-listed by it? */
    if (ipcn__rep_admit(n, l) != IPCN_OK)
        return;
    l->peer_max_payload = h->max_payload;
    l->peer_caps = kind_caps(l, h->caps);
    /* A TCP peer that skips the checksum of our frames: we leave it 0. */
    l->tx.no_sum = (l->peer_caps & IPCN_CAP_NOSUM) != 0;
    if (l->kind == LINK_ROUTED) {
        /* What fits in a FORWARD of the largest frame. */
        uint32_t room = IPCN_WIRE_MAX_PAYLOAD - IPCN_FWD_OVERHEAD_MAX;
        if (l->peer_max_payload > room)
            l->peer_max_payload = room;
    }
    /* Who may route (send ROUTE, and FORWARD for others): a TCP peer
     * (link_tcp.c says so), a Unix peer of root or of our own user. */
    if (l->kind == LINK_UNIX)
        l->router = l->who.creds_known &&
                    (l->who.uid == 0 || (uid_t)l->who.uid == geteuid());
    l->state = LINK_UP;
    l->linked_ns = ipcn__now_mono_ns();
    n->stats.peers++;
    if (n->ring_enabled && (l->peer_caps & IPCN_CAP_RING))
        ipcn__link_send_ring(n, l);
    if (l->state != LINK_UP)
        return;
    ipcn__debug("IPCN-LINK-UP", "%s: linked to %s (pid %d)", n->name, l->who.name,
                (int)l->who.pid);
    /* The routes first: the engine's PING at the end of its initial
     * directory then also tells the peer that it has every way we know,
     * so a node waiting to be synced waits for the nodes behind us too. */
    ipcn__route_link_up(n, l);
    if (l->state == LINK_UP)
        ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_LINK_UP, .link = l});
}

/* Frames of the link itself, not routed: answered here. */
static bool link_control(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    switch (f->hdr.type) {
    case IPCN_F_PING:
        if (!l->synced) {
            l->synced = true; /* its initial directory came before it */
            pthread_cond_broadcast(&n->cond);
        }
        /* A peer that does not read what we send needs no answer. */
        if (ipcn__link_backlog(l) < n->opts.tx_limit)
            ipcn__send_ping(n, l, IPCN_F_PONG, f->u.stamp);
        return true;
    case IPCN_F_PONG:
        /* The answer to our last ping (an older one's, or a stamp we
         * never sent, is not taken): its round trip, for ipcn_links(). */
        if (f->u.stamp && f->u.stamp == l->last_ping_ns) {
            uint64_t now = ipcn__now_mono_ns();
            l->rtt_ns = now > f->u.stamp ? now - f->u.stamp : 1;
        }
        return true;
    case IPCN_F_BYE:
        ipcn__link_close(n, l, IPCN_OK, "goodbye");
        return true;
    case IPCN_F_ERROR:
        ipcn__warn("IPCN-PEER-ERROR", "%s: peer %s reports %d %s: %s", n->name,
                   l->who.name, f->hdr.status, ipcn_status_str(f->hdr.status),
                   f->u.text.p);
        /* A TCP peer that took our host key off its trust list says 309
         * and closes: the link ends here for that reason, not a hang-up. */
        if (f->hdr.status == IPCN_NETWORK_AUTH_REQUIRED && l->sec)
            ipcn__link_close(n, l, IPCN_NETWORK_AUTH_REQUIRED, "host key no longer "
                             "trusted by the peer");
        return true;
    case IPCN_F_RING:
        ipcn__link_on_ring(n, l, f);
        return true;
    case IPCN_F_HELLO:
        ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "second hello");
        return true;
    default:
        return false;
    }
}

/* One checked frame (the link stage): its route checked, the hello and
 * link control here, the rest up through the engine's entry. */
void ipcn__link_on_frame(ipcn_node *n, ipcn__link *l, const uint8_t *p, size_t len)
{
    ipcn__frame f;
    int st = ipcn__frame_decode(p, len, &f);
    if (st != IPCN_OK) {
        ipcn__link_bad_input(n, l, st, "malformed frame body");
        return;
    }
    l->frames_in++;
    n->stats.frames_in++;
    const char *why;
    if ((st = ipcn__route_check(n, l, &f.hdr, &why)) != IPCN_OK) {
        ipcn__link_bad_input(n, l, st, why);
        return;
    }
    if (l->state == LINK_HELLO) {
        if (f.hdr.type == IPCN_F_ERROR) {
            /* A quarantine says when to come back, in corr
             * (reputation.c); at most an hour is believed. */
            if (f.hdr.status == IPCN_TOO_MANY_REQUESTS)
                l->retry_ms = (uint32_t)(f.hdr.corr < 3600000u
                                             ? f.hdr.corr : 3600000u);
            ipcn__link_close(n, l, f.hdr.status ? f.hdr.status : IPCN_BAD_REQUEST,
                             f.u.text.p);
            return;
        }
        if (f.hdr.type != IPCN_F_HELLO) {
            ipcn__link_bad_input(n, l, IPCN_BAD_REQUEST, "frame before hello");
            return;
        }
        on_hello(n, l, &f);
        return;
    }
    if (link_control(n, l, &f))
        return;
    if (f.hdr.type == IPCN_F_ROUTE || f.hdr.type == IPCN_F_FORWARD) {
        ipcn__route_in(n, l, &f, p, len);
        return;
    }
    ipcn__traffic_in(n, l, &f);
    if (l->state != LINK_UP)
        return; /* its anomaly got it quarantined */
    ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_FRAME, .link = l,
                                   .frame = &f});
}

void ipcn__send_ping(ipcn_node *n, ipcn__link *l, uint8_t type,
                     uint64_t stamp)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    size_t mark = ipcn__link_tx_mark(l, 0);
    /* An answer asks for none: a PONG leaves the link as it was, idle or
     * watched, and arms no timer (the commit does when the link turns
     * watched). */
    uint64_t unheard = l->unheard_ns;
    if (type == IPCN_F_PONG && !unheard)
        l->unheard_ns = 1;
    ipcn__link_commit(n, l, mark, ipcn__enc_stamp(&l->tx, &h, type, stamp));
    if (type == IPCN_F_PONG)
        l->unheard_ns = unheard;
}
