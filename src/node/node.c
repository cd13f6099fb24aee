/* SPDX-License-Identifier: MIT */
/*
 * node.c — a node's life: open and close, the event loop behind one epoll
 * fd, timers (heartbeats, deadlines, redials), waiting for answers, the
 * delivery of callbacks, and the optional thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "engine/route.h"
#include "files/files.h"
#include "node/node_impl.h"

#define DEFAULT_HEARTBEAT_MS 200
#define DEFAULT_DEAD_AFTER_MS 900
#define DEFAULT_IDLE_PROBE_MS 120000
#define DEFAULT_TX_LIMIT (64u << 20)
#define DEFAULT_MAX_PEERS 512
#define DEFAULT_PEER_META_MAX (4u << 20)
#define DEFAULT_PEER_META_BUDGET (64u << 20)
#define MAX_EVENTS 64

static uint64_t tag(uint32_t kind, uint32_t id)
{
    return (uint64_t)kind << 32 | id;
}

IPCN_API void ipcn_node_opts_init(ipcn_node_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->heartbeat_ms = DEFAULT_HEARTBEAT_MS;
    o->dead_after_ms = DEFAULT_DEAD_AFTER_MS;
    o->idle_probe_ms = DEFAULT_IDLE_PROBE_MS;
    o->max_payload = IPCN_WIRE_MAX_PAYLOAD;
    o->tx_limit = DEFAULT_TX_LIMIT;
    o->max_peers = DEFAULT_MAX_PEERS;
    o->peer_meta_max = DEFAULT_PEER_META_MAX;
    o->peer_meta_budget = DEFAULT_PEER_META_BUDGET;
}

void ipcn__node_lock(ipcn_node *n) { pthread_mutex_lock(&n->lock); }
void ipcn__node_unlock(ipcn_node *n) { pthread_mutex_unlock(&n->lock); }

/* Make the node's fd readable (once: until drained). */
static void wake_fd(ipcn_node *n)
{
    uint64_t one = 1;
    if (!n->woken && write(n->wakefd, &one, sizeof one) == sizeof one)
        n->woken = true;
}

void ipcn__node_kick(ipcn_node *n)
{
    n->woken = false; /* force the write */
    wake_fd(n);
}

/* Callbacks wait for dispatch: the fd of ipcn_node_fd() reads ready.  Not
 * through the wake fd, which the node's own waits watch: a thread waiting
 * for an answer runs no callbacks, and would find it readable again and
 * again (a busy loop). */
static void set_ready(ipcn_node *n)
{
    uint64_t one = 1;
    if (n->readyfd >= 0 && !n->ready &&
        write(n->readyfd, &one, sizeof one) == sizeof one)
        n->ready = true;
}

static void clear_ready(ipcn_node *n)
{
    uint64_t v;
    if (n->ready) {
        (void)!read(n->readyfd, &v, sizeof v);
        n->ready = false;
    }
}

void ipcn__node_wake(ipcn_node *n)
{
    /* A thread asleep in epoll_wait must see what came: a dispatcher
     * delivers it, a waiter looks at its condition again. */
    if (n->pumping) {
        wake_fd(n);
        return;
    }
    /* While the dispatching thread handles its round (the lock is held,
     * so it is the caller), what it queues is delivered right after. */
    if (!n->deliver_next)
        set_ready(n);
}

static void drain_wake(ipcn_node *n)
{
    uint64_t v; /* one read resets an eventfd's counter */
    (void)!read(n->wakefd, &v, sizeof v);
    n->woken = false;
}

void ipcn__node_arm_timer(ipcn_node *n, uint64_t at_ns)
{
    if (n->timer_armed_ns && n->timer_armed_ns <= at_ns)
        return;
    struct itimerspec its = {0};
    its.it_value.tv_sec = (time_t)(at_ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(at_ns % 1000000000ull);
    if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
        its.it_value.tv_nsec = 1;
    if (timerfd_settime(n->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        n->timer_armed_ns = at_ns;
}

static uint64_t tick_ns(const ipcn_node *n)
{
    return (uint64_t)n->opts.heartbeat_ms * 1000000ull / 2;
}

/* Liveness.  A peer's death needs no ping: the kernel tells of it at once
 * (the socket's hang-up, the pidfd).  A ping can only find a peer that
 * hangs, and that matters while this node waits for something from it: an
 * answer to a query or request, bytes it must take (our queue or our ring
 * not drained), or any answer at all to what we sent since it last spoke
 * (a PONG will do).  Such a link is watched: pinged after heartbeat_ms of
 * silence, and again every heartbeat_ms, and dropped after dead_after.
 * A link with nothing outstanding is idle: it costs no wake-up but a slow
 * probe every idle_probe_ms (from the side that dialled; the other side
 * hears those and probes only when they stop), so that a peer that hung
 * while idle still leaves the directory in the end.  N idle nodes thus
 * cost nothing that grows with time, where a heartbeat per link cost N². */
static bool link_watched(const ipcn__link *l)
{
    return l->awaiting || l->unheard_ns || ipcn__link_backlog(l) ||
           l->rtx_blocked || l->rx_paused;
}

/* Silence is counted from what we last heard (or from the peer taking
 * bytes we had queued), and never from before we began to wait: a request
 * on a link idle for an hour does not find it silent for an hour. */
static uint64_t link_heard(const ipcn__link *l)
{
    uint64_t h = l->last_rx_ns > l->last_drain_ns ? l->last_rx_ns
                                                  : l->last_drain_ns;
    return l->unheard_ns > h ? l->unheard_ns : h;
}

static uint64_t idle_after(const ipcn_node *n, const ipcn__link *l)
{
    uint64_t probe = (uint64_t)n->opts.idle_probe_ms * 1000000ull;
    return l->outbound ? probe : probe + probe / 2;
}

/* A timer that fires a little early (it is never moved later) still
 * does what is nearly due; idle probes due within an eighth of their
 * interval go together, in one wake-up. */
static uint64_t slack_ns(const ipcn_node *n)
{
    return (uint64_t)n->opts.heartbeat_ms * 1000000ull / 8;
}

static uint64_t probe_slack_ns(const ipcn_node *n)
{
    return (uint64_t)n->opts.idle_probe_ms * 1000000ull / 8;
}

/* When a link next needs the timer: its hello deadline; for a watched
 * link the next ping or death check; for an idle one its slow probe.
 * Something due already (a check excused for now) is looked at again in
 * half an interval. */
static uint64_t link_due(const ipcn_node *n, const ipcn__link *l, uint64_t now)
{
    uint64_t hb = (uint64_t)n->opts.heartbeat_ms * 1000000ull;
    uint64_t dead = (uint64_t)n->opts.dead_after_ms * 1000000ull;
    uint64_t due;
    if (l->state == LINK_HELLO) {
        due = l->created_ns + dead;
    } else if (!link_watched(l)) {
        due = link_heard(l) + idle_after(n, l);
    } else {
        uint64_t heard = link_heard(l);
        uint64_t ping = heard + hb;
        if (ping < l->last_ping_ns + hb)
            ping = l->last_ping_ns + hb;
        due = ping < heard + dead ? ping : heard + dead;
    }
    return due > now ? due : now + tick_ns(n);
}

/* Arm the timer for whatever comes next; none when there is nothing to
 * watch, so an idle node with no peers never wakes, and an idle link
 * wakes its node only when a ping is due.  The timer is moved only
 * earlier: one armed too early fires, finds nothing due and re-arms, so
 * that traffic (which keeps pushing the pings back) costs no system call
 * per message. */
static void rearm(ipcn_node *n, uint64_t now)
{
    uint64_t next = 0;
    if (n->inotifyfd < 0 || n->accept_paused)
        next = n->last_tick_ns + tick_ns(n);
    ipcn__link *l;
    ipcn__list_for_each(l, tl, &n->links, ipcn__link, node_entry) {
        if (l->state == LINK_DEAD)
            continue;
        uint64_t due = link_due(n, l, now);
        if (!next || due < next)
            next = due;
    }
    uint64_t d = ipcn__req_next_deadline(n);
    if (d && (!next || d < next))
        next = d;
    ipcn__dial *dl;
    ipcn__list_for_each(dl, t, &n->dials, ipcn__dial, entry)
        if (!next || dl->next_ns < next)
            next = dl->next_ns;
    if (next && next < now)
        next = now;
    if (n->timer_armed_ns && (!next || n->timer_armed_ns <= next))
        return; /* it fires first anyway: spare the system call */
    n->timer_armed_ns = 0;
    struct itimerspec its = {0};
    if (next) {
        its.it_value.tv_sec = (time_t)(next / 1000000000ull);
        its.it_value.tv_nsec = (long)(next % 1000000000ull);
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1;
    }
    if (timerfd_settime(n->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        n->timer_armed_ns = next;
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

/* Is any thread of process pid runnable (state R in /proc)?  Only asked
 * when a peer has been silent past dead_after, so its cost does not
 * matter. */
static bool peer_runnable(int32_t pid)
{
    if (pid <= 0)
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool running = false;
    struct dirent *de;
    while (!running && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char stat[320], buf[512];
        snprintf(stat, sizeof stat, "/proc/%d/task/%s/stat", (int)pid, de->d_name);
        int fd = open(stat, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t r = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (r <= 0)
            continue;
        buf[r] = 0;
        const char *paren = strrchr(buf, ')'); /* the name may hold spaces */
        if (paren && paren[1] == ' ' && paren[2] == 'R')
            running = true;
    }
    closedir(d);
    return running;
}

/* Heartbeats, on watched links only: probe a peer we have not heard from
 * for one interval; drop one silent past dead_after.  If this node itself
 * was starved of CPU (its timer was handled late), silence is excused for
 * one more interval: a loaded machine is not a dead peer.  Idle links get
 * their slow probe, which makes them watched until it is answered. */
static void tick(ipcn_node *n, uint64_t now, bool starved)
{
    uint64_t hb = (uint64_t)n->opts.heartbeat_ms * 1000000ull;
    uint64_t dead = (uint64_t)n->opts.dead_after_ms * 1000000ull;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state == LINK_DEAD)
            continue;
        if (starved && now - l->last_rx_ns > hb)
            l->last_rx_ns = now - hb;
        if (starved && l->unheard_ns && now - l->unheard_ns > hb)
            l->unheard_ns = now - hb;
        if (l->state == LINK_HELLO) {
            /* An absolute deadline: trickling bytes buys no time. */
            if (now - l->created_ns >= dead && !starved)
                ipcn__link_close(n, l, IPCN_GATEWAY_TIMEOUT, "no hello in time");
            continue;
        }
        /* A peer that keeps taking bytes we had to queue is reading, so it
         * lives, even if its answer to our ping waits behind those bytes.
         * A hung peer stops draining once its socket buffer is full. */
        uint64_t heard = link_heard(l);
        uint64_t silent = now > heard ? now - heard : 0;
        if (!link_watched(l)) {
            if (l->state == LINK_UP &&
                silent + probe_slack_ns(n) >= idle_after(n, l)) {
                l->last_ping_ns = now;
                n->stats.pings_sent++;
                ipcn__send_ping(n, l, IPCN_F_PING, now);
            }
            continue;
        }
        /* A peer with a runnable thread waits for a CPU, it does not hang:
         * the kernel's word buys it more time on a loaded machine. */
        if (silent >= dead && silent < 4 * dead && !l->rx_paused &&
            peer_runnable(l->pid))
            continue;
        if (silent >= dead) {
            if (l->rx_paused) /* silent because we stopped listening */
                ipcn__link_close(n, l, IPCN_TOO_MANY_REQUESTS,
                                 "does not read what it asks for");
            else
                ipcn__link_close(n, l, IPCN_GATEWAY_TIMEOUT, "heartbeat timeout");
            continue;
        }
        /* Probe by what we hear, not by what we send: a link busy sending
         * to a silent peer must still ask whether that peer lives. */
        uint64_t slack = slack_ns(n);
        if (l->state == LINK_UP && silent + slack >= hb &&
            now - l->last_ping_ns + slack >= hb) {
            l->last_ping_ns = now;
            n->stats.pings_sent++;
            ipcn__send_ping(n, l, IPCN_F_PING, now);
        }
    }
}

static int add_fd(ipcn_node *n, int fd, uint32_t kind);

/* Without inotify the directory is rescanned every tick, but only when it
 * changed: a scan of N nodes' files costs system calls per entry, every
 * tick, in every such node.  Its mtime is coarse (a clock tick of the
 * kernel), so a change made in the same tick as the last scan could hide
 * behind an unchanged mtime: it is trusted only once a second old.  Every
 * SCAN_EVERY ticks it is scanned anyway: a scan also dials again the
 * nodes whose dials gave up (a full backlog while many nodes start). */
#define SCAN_EVERY 20
static bool dir_changed(ipcn_node *n)
{
    if (++n->scans_skipped >= SCAN_EVERY) {
        n->scans_skipped = 0;
        return true;
    }
    struct stat st;
    struct timespec now;
    if (fstat(n->dirfd, &st) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
        return true;
    bool same = st.st_mtim.tv_sec == n->dir_mtime.tv_sec &&
                st.st_mtim.tv_nsec == n->dir_mtime.tv_nsec;
    bool settled = now.tv_sec - st.st_mtim.tv_sec >= 2;
    n->dir_mtime = st.st_mtim;
    if (!same || !settled)
        n->scans_skipped = 0;
    return !same || !settled;
}

static void on_timer(ipcn_node *n)
{
    uint64_t v;
    while (read(n->timerfd, &v, sizeof v) == sizeof v)
        ;
    uint64_t due = n->timer_armed_ns;
    n->timer_armed_ns = 0;
    uint64_t now = ipcn__now_mono_ns();
    /* Handled a whole interval after it was due: this node did not run. */
    tick(n, now, due && now - due > 2 * tick_ns(n));
    if (!n->last_tick_ns || now - n->last_tick_ns >= tick_ns(n)) {
        n->last_tick_ns = now;
        if (n->accept_paused && ipcn__rdv_resume(n) &&
            add_fd(n, n->listenfd, TAG_LISTEN) == IPCN_OK)
            n->accept_paused = false;
        if (n->inotifyfd < 0 && dir_changed(n))
            ipcn__rdv_scan(n); /* no inotify watch: look for newcomers */
    }
    ipcn__req_timeouts(n, now);
    ipcn__rdv_dial_due(n, now);
}

void ipcn__node_frame(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
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
        break;
    case IPCN_F_PONG:
        break;
    case IPCN_F_BYE:
        ipcn__link_close(n, l, IPCN_OK, "goodbye");
        break;
    case IPCN_F_ERROR:
        ipcn__warn("IPCN-PEER-ERROR", "%s: peer %s reports %d %s: %s", n->name,
                   l->name, f->hdr.status, ipcn_status_str(f->hdr.status),
                   f->u.text.p);
        break;
    case IPCN_F_ANNOUNCE:
        ipcn__dir_on_announce(n, l, &f->u.announce);
        break;
    case IPCN_F_WITHDRAW:
        ipcn__dir_on_withdraw(n, l, &f->u.text);
        break;
    case IPCN_F_SUBSCRIBE:
    case IPCN_F_UNSUBSCRIBE:
        ipcn__pub_on_subscribe(n, l, &f->u.text,
                               f->hdr.type == IPCN_F_SUBSCRIBE);
        break;
    case IPCN_F_SAMPLE:
        ipcn__pub_on_sample(n, l, f);
        break;
    case IPCN_F_QUERY:
        ipcn__req_on_query(n, l, f);
        break;
    case IPCN_F_REQUEST:
        ipcn__req_on_request(n, l, f);
        break;
    case IPCN_F_QUERY_REPLY:
    case IPCN_F_REPLY:
    case IPCN_F_SHM_REPLY:
        ipcn__req_on_reply(n, l, f);
        break;
    case IPCN_F_SHM_POOL:
        ipcn__map_on_pool(n, l, f);
        break;
    case IPCN_F_SHM_SAMPLE:
        ipcn__pub_on_shm_sample(n, l, f);
        break;
    case IPCN_F_SHM_RELEASE:
        ipcn__pool_on_release(n, l, &f->u.shm_refs);
        break;
    case IPCN_F_SHM_REVOKE:
        ipcn__pub_on_revoke(n, l, &f->u.shm_refs);
        break;
    case IPCN_F_SHM_DROP:
        ipcn__map_on_drop(n, l, &f->u.shm_refs);
        break;
    case IPCN_F_SHM_WITHHELD:
        ipcn__pub_on_withheld(n, l, f);
        break;
    case IPCN_F_CANCEL:
        ipcn__req_on_cancel(n, l, f);
        break;
    case IPCN_F_RING:
        ipcn__link_on_ring(n, l, f);
        break;
    default: /* HELLO is handled by the link */
        break;
    }
}

static void free_dead_links(ipcn_node *n)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state == LINK_DEAD) {
            ipcn__list_remove(&l->node_entry);
            ipcn__link_free(n, l);
        }
    }
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#define SPIN_MAX_RINGS 64
#define SPIN_RING 1
#define SPIN_EVENT 2
/* After a spin that found ring bytes, epoll is skipped (a system call per
 * round trip) unless it was last asked this long ago. */
#define EPOLL_SKIP_NS 20000u

/* Low-latency mode: poll the peers' rings, with the lock released, for up
 * to spin_us before blocking.  Other events (the wake fd, sockets, timers)
 * are looked at every few microseconds.  Returns SPIN_RING when a ring has
 * bytes, SPIN_EVENT when an fd is ready, 0 when nothing came.
 * While it spins the node counts as pumping: no other thread pumps or
 * frees a link meanwhile. */
static int spin(ipcn_node *n)
{
    const ipcn__ring *rings[SPIN_MAX_RINGS];
    unsigned k = 0;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_DEAD && l->rrx.sh && l->spin_ok && !l->rx_paused &&
            k < SPIN_MAX_RINGS) {
            ipcn__ring_awake(&l->rrx); /* we look: no doorbell needed */
            rings[k++] = &l->rrx;
        }
    }
    if (!k)
        return 0;
    uint64_t end = 0; /* the clock is read only if nothing comes at once */
    int found = 0;
    n->pumping = true;
    ipcn__node_unlock(n);
    for (uint32_t i = 1; !found; i++) {
        for (unsigned j = 0; j < k && !found; j++)
            if (ipcn__ring_ready(rings[j]))
                found = SPIN_RING;
        if (found || (i & 255))
            continue;
        uint64_t now = ipcn__now_mono_ns();
        if (!end)
            end = now + (uint64_t)n->opts.spin_us * 1000u;
        else if (now >= end)
            break;
        struct epoll_event ev;
        if (!(i & 1023) && epoll_wait(n->epfd, &ev, 1, 0) > 0)
            found = SPIN_EVENT; /* level-triggered: the pump sees it again */
        cpu_relax();
    }
    ipcn__node_lock(n);
    n->pumping = false;
    return found;
}

/* Before blocking: every ring is told to ring its bell, and looked at once
 * more.  False when one has work already. */
static bool rings_sleep(ipcn_node *n)
{
    bool idle = true;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if ((l->rrx.sh || l->rtx_blocked) && !ipcn__link_ring_sleep(l))
            idle = false;
    return idle;
}

/* One round of I/O: wait up to timeout_ms for events (with the lock
 * released), handle them.  Returns the number of events handled. */
int ipcn__node_pump(ipcn_node *n, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int spun = 0;
    if (timeout_ms != 0 && n->opts.spin_us && (spun = spin(n)) != 0)
        timeout_ms = 0;
    if (timeout_ms != 0 && !rings_sleep(n))
        timeout_ms = 0;
    int k = 0;
    bool skip = false;
    if (spun == SPIN_RING) {
        n->round_ns = ipcn__now_mono_ns();
        skip = n->round_ns - n->last_epoll_ns <= EPOLL_SKIP_NS;
    }
    if (!skip) {
        n->pumping = true;
        ipcn__node_unlock(n);
        k = epoll_wait(n->epfd, evs, MAX_EVENTS, timeout_ms);
        ipcn__node_lock(n);
        n->pumping = false;
        if (k < 0)
            k = 0;
        n->round_ns = n->last_epoll_ns = ipcn__now_mono_ns();
    }
    for (int i = 0; i < k; i++) {
        uint32_t kind = (uint32_t)(evs[i].data.u64 >> 32);
        uint32_t id = (uint32_t)evs[i].data.u64;
        ipcn__link *l;
        switch (kind) {
        case TAG_WAKE:
            drain_wake(n);
            break;
        case TAG_TIMER:
            on_timer(n);
            break;
        case TAG_LISTEN:
            ipcn__rdv_on_accept(n);
            break;
        case TAG_INOTIFY:
            ipcn__rdv_on_inotify(n);
            break;
        case TAG_LINK:
            if (!(l = ipcn__link_by_id(n, id)))
                break;
            if (evs[i].events & EPOLLOUT)
                ipcn__link_flush(n, l);
            if (l->state != LINK_DEAD && l->rx_paused &&
                (evs[i].events & (EPOLLHUP | EPOLLERR)))
                /* Hang-up is reported whatever the mask: a paused link
                 * would see it again and again without reading. */
                ipcn__link_close(n, l, IPCN_SERVICE_UNAVAILABLE,
                                 "hang-up while not reading");
            else if (l->state != LINK_DEAD &&
                     (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                ipcn__link_on_readable(n, l);
            break;
        case TAG_PIDFD:
            if ((l = ipcn__link_by_id(n, id))) {
                /* Read what it sent before it died, then drop it. */
                if (l->fd >= 0)
                    ipcn__link_on_readable(n, l);
                if (l->state != LINK_DEAD)
                    ipcn__link_close(n, l, IPCN_SERVICE_UNAVAILABLE,
                                     "process exited");
            }
            break;
        }
    }
    /* Links unpaused in this round still hold frames that no new EPOLLIN
     * will announce; rings are read without any. */
    ipcn__link *pl;
    ipcn__list_for_each(pl, pt, &n->links, ipcn__link, node_entry) {
        if (pl->state == LINK_DEAD)
            continue;
        if (pl->rrx.sh || pl->rtx_blocked)
            ipcn__link_ring_pass(n, pl);
        else if (pl->rx_pending && !pl->rx_paused)
            ipcn__link_on_readable(n, pl);
    }
    /* Slots whose last message went away go back to their publishers. */
    ipcn__map_flush_releases(n);
    free_dead_links(n);
    rearm(n, n->round_ns);
    /* The wake fd may have been drained by a thread that only waited for an
     * answer; callbacks still queued must keep the node's fd readable.  So
     * must bytes left in a ring (over the read budget, or come meanwhile):
     * an application may wait on the fd itself (ipcn_node_fd). */
    if (!ipcn__list_empty(&n->cbq) || !ipcn__list_empty(&n->ready_subs))
        ipcn__node_wake(n);
    /* A thread that spins comes back to look (and raises the flags before
     * it blocks): until then, peers need not ring.  Not so when the
     * application waits on the node's fd itself. */
    if ((!n->opts.spin_us || n->fd_exported) && !rings_sleep(n))
        wake_fd(n);
    pthread_cond_broadcast(&n->cond);
    return k;
}

void ipcn__queue_cb(ipcn_node *n, ipcn__cb *cb)
{
    ipcn__list_insert_tail(&n->cbq, &cb->entry);
    ipcn__node_wake(n);
}

void ipcn__queue_event(ipcn_node *n, ipcn_event_type type, const ipcn__link *l,
                       const char *path, ipcn_kind kind, int status)
{
    if (!n->event_fn)
        return;
    ipcn__cb *cb = ipcn__calloc(1, sizeof *cb);
    if (!cb)
        return;
    cb->kind = CB_EVENT;
    cb->ev.type = type;
    cb->ev.peer_id = l->peer_id;
    cb->ev.kind = kind;
    cb->ev.status = status;
    const char *peer = l->name ? l->name : l->expect_name;
    cb->ev_peer = peer ? ipcn__strdup(peer) : NULL;
    cb->ev_path = path ? ipcn__strdup(path) : NULL;
    if ((peer && !cb->ev_peer) || (path && !cb->ev_path)) {
        ipcn__free(cb->ev_peer);
        ipcn__free(cb->ev_path);
        ipcn__free(cb);
        return;
    }
    ipcn__queue_cb(n, cb);
}

static void cb_free(ipcn__cb *cb)
{
    ipcn__free(cb->ev_peer);
    ipcn__free(cb->ev_path);
    if (cb->pend)
        ipcn__pending_free(cb->pend);
    if (cb->msg)
        ipcn_msg_free(&cb->msg->pub);
    ipcn__free(cb);
}

/* Run one queued callback with the lock released.  Returns false when
 * there was none. */
static bool deliver_one(ipcn_node *n)
{
    ipcn__list *e = ipcn__list_pop(&n->cbq);
    if (!e)
        return ipcn__sub_deliver_one(n);
    ipcn__cb *cb = ipcn__list_entry(e, ipcn__cb, entry);
    switch (cb->kind) {
    case CB_EVENT: {
        ipcn_event_fn fn = n->event_fn;
        void *user = n->event_user;
        cb->ev.peer = cb->ev_peer;
        cb->ev.path = cb->ev_path;
        if (fn) {
            ipcn__node_unlock(n);
            fn(n, &cb->ev, user);
            ipcn__node_lock(n);
        }
        break;
    }
    case CB_REPLY:
    case CB_REQUEST:
        ipcn__req_run(n, cb);
        break;
    }
    cb_free(cb);
    return true;
}

static bool in_callback(ipcn_node *n)
{
    return n->cb_depth > 0 && pthread_equal(n->cb_thread, pthread_self());
}

static int dispatch_locked(ipcn_node *n, int timeout_ms)
{
    bool work = !ipcn__list_empty(&n->cbq) || !ipcn__list_empty(&n->ready_subs);
    int k = 0;
    if (n->pumping) {
        /* Another thread waits in epoll; let it work, then deliver. */
        if (!work && timeout_ms != 0) {
            uint64_t d = timeout_ms > 0 ? ipcn__now_mono_ns() +
                                              (uint64_t)timeout_ms * 1000000ull
                                        : 0;
            if (d) {
                struct timespec ts = {(time_t)(d / 1000000000ull),
                                      (long)(d % 1000000000ull)};
                pthread_cond_timedwait(&n->cond, &n->lock, &ts);
            } else {
                pthread_cond_wait(&n->cond, &n->lock);
            }
        }
    } else {
        n->deliver_next = true; /* callbacks of this round go out below */
        k = ipcn__node_pump(n, work ? 0 : timeout_ms);
        n->deliver_next = false;
    }
    int delivered = 0;
    n->cb_thread = pthread_self();
    n->cb_depth++;
    /* One round of I/O can bring thousands of small samples (a ring read
     * is bounded in bytes): deliver them all while that stays cheap, so
     * that queues do not grow round after round, but stop after a while
     * when callbacks are slow, so that I/O (heartbeats) goes on. */
    uint64_t t0 = 0;
    while (!n->thread_stop && deliver_one(n)) {
        if (++delivered < IPCN_DISPATCH_BUDGET || delivered % 64)
            continue;
        uint64_t now = ipcn__now_mono_ns();
        if (!t0)
            t0 = now;
        else if (now - t0 > IPCN_DISPATCH_MAX_NS)
            break;
    }
    n->cb_depth--;
    if (!ipcn__list_empty(&n->cbq) || !ipcn__list_empty(&n->ready_subs)) {
        ipcn__node_wake(n); /* more to do: keep the fd readable */
    } else {
        clear_ready(n);
        /* Not the kick of a stop or a shutdown: a waiter in epoll_wait
         * must still see it. */
        if (n->woken && !n->thread_stop && !n->shut)
            drain_wake(n); /* all delivered: no empty wake-up for the caller */
    }
    return (k > 0 || delivered > 0) ? IPCN_OK : IPCN_NO_DATA;
}

IPCN_API int ipcn_node_dispatch(ipcn_node *n, int timeout_ms)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st;
    if (in_callback(n)) {
        st = IPCN_BAD_REQUEST;
    } else if (n->shut || (n->thread_running &&
                           !pthread_equal(n->thread, pthread_self()))) {
        st = IPCN_SERVICE_UNAVAILABLE;
    } else {
        /* Close waits for it to leave, callbacks included. */
        ipcn__node_wait_in(n);
        st = dispatch_locked(n, timeout_ms);
        if (n->shut)
            st = IPCN_SERVICE_UNAVAILABLE;
        ipcn__node_wait_out(n);
    }
    ipcn__node_unlock(n);
    return st;
}

/* The fd an application waits on: the I/O set and the callbacks' readiness
 * together.  Made on demand, so that a node nobody polls pays nothing for
 * the nesting. */
static int export_fd(ipcn_node *n)
{
    int out = epoll_create1(EPOLL_CLOEXEC);
    int rfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event io = {.events = EPOLLIN}, ready = {.events = EPOLLIN};
    if (out < 0 || rfd < 0 || epoll_ctl(out, EPOLL_CTL_ADD, n->epfd, &io) < 0 ||
        epoll_ctl(out, EPOLL_CTL_ADD, rfd, &ready) < 0) {
        ipcn__err("IPCN-NODE-FD", "%s: ipcn_node_fd: %s", n->name, strerror(errno));
        if (out >= 0)
            close(out);
        if (rfd >= 0)
            close(rfd);
        return -1;
    }
    n->outfd = out;
    n->readyfd = rfd;
    if (!ipcn__list_empty(&n->cbq) || !ipcn__list_empty(&n->ready_subs))
        set_ready(n);
    return out;
}

IPCN_API int ipcn_node_fd(ipcn_node *n)
{
    if (!n)
        return -1;
    ipcn__node_lock(n);
    int fd = n->outfd >= 0 ? n->outfd : export_fd(n);
    if (fd >= 0)
        n->fd_exported = true; /* someone may wait on it: keep it truthful */
    ipcn__node_unlock(n);
    return fd;
}

IPCN_API int ipcn_node_timeout(ipcn_node *n)
{
    if (!n)
        return -1;
    ipcn__node_lock(n);
    /* Timers live inside the fd (a timerfd), so the caller only needs a
     * timeout when callbacks are already waiting. */
    int t = (!ipcn__list_empty(&n->cbq) || !ipcn__list_empty(&n->ready_subs))
                ? 0
                : -1;
    ipcn__node_unlock(n);
    return t;
}

static void *thread_main(void *arg)
{
    ipcn_node *n = arg;
    ipcn__node_lock(n);
    while (!n->thread_stop)
        dispatch_locked(n, -1);
    ipcn__node_unlock(n);
    return NULL;
}

IPCN_API int ipcn_node_start_thread(ipcn_node *n)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = IPCN_OK;
    if (n->thread_running) {
        st = IPCN_BAD_REQUEST;
    } else {
        n->thread_stop = false;
        if (pthread_create(&n->thread, NULL, thread_main, n) != 0)
            st = IPCN_INTERNAL_ERROR;
        else
            n->thread_running = true;
    }
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_node_stop_thread(ipcn_node *n)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    if (!n->thread_running) {
        ipcn__node_unlock(n);
        return IPCN_NOT_FOUND;
    }
    if (pthread_equal(n->thread, pthread_self()) || in_callback(n)) {
        ipcn__node_unlock(n);
        return IPCN_BAD_REQUEST;
    }
    n->thread_stop = true;
    ipcn__node_kick(n); /* the thread must see it */
    pthread_cond_broadcast(&n->cond);
    pthread_t t = n->thread;
    ipcn__node_unlock(n);
    pthread_join(t, NULL);
    ipcn__node_lock(n);
    n->thread_running = false;
    n->thread_stop = false;
    ipcn__node_unlock(n);
    return IPCN_OK;
}

static int resolve_dir(ipcn_node *n, const ipcn_node_opts *o)
{
    const char *net = o->network ? o->network : getenv("IPCNET_NETWORK");
    if (!net || !*net)
        net = "default";
    if (ipcn__name_check(net, strlen(net)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!(n->network = ipcn__strdup(net)))
        return IPCN_INSUFFICIENT_MEMORY;
    const char *base = o->dir ? o->dir : getenv("IPCNET_DIR");
    char buf[4096];
    int len;
    if (base && *base) {
        len = snprintf(buf, sizeof buf, "%s/%s", base, net);
    } else {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg && *xdg)
            len = snprintf(buf, sizeof buf, "%s/ipcnet/%s", xdg, net);
        else
            len = snprintf(buf, sizeof buf, "/tmp/ipcnet-%u/%s",
                           (unsigned)getuid(), net);
    }
    if (len < 0 || (size_t)len >= sizeof buf)
        return IPCN_BAD_REQUEST;
    if (!(n->dir = ipcn__strdup(buf)))
        return IPCN_INSUFFICIENT_MEMORY;
    return IPCN_OK;
}

static void node_free(ipcn_node *n)
{
    ipcn__list *e;
    /* Messages the user still holds keep their mappings, not the node. */
    ipcn__map_detach_all(n);
    ipcn__pool_free_all(n);
    while ((e = ipcn__list_pop(&n->cbq)))
        cb_free(ipcn__list_entry(e, ipcn__cb, entry));
    while ((e = ipcn__list_pop(&n->pendings)))
        ipcn__pending_free(ipcn__list_entry(e, ipcn__pending, entry));
    ipcn__responder_free_all(n);
    while ((e = ipcn__list_pop(&n->subs)))
        ipcn__sub_free(ipcn__list_entry(e, ipcn__sub, entry));
    while ((e = ipcn__list_pop(&n->interests))) {
        ipcn__interest *in = ipcn__list_entry(e, ipcn__interest, entry);
        ipcn__free(in->pattern);
        ipcn__free(in);
    }
    while ((e = ipcn__list_pop(&n->locals)))
        ipcn__local_free(ipcn__list_entry(e, ipcn__local, entry));
    while ((e = ipcn__list_pop(&n->remotes)))
        ipcn__remote_free(n, ipcn__list_entry(e, ipcn__remote, entry));
    while ((e = ipcn__list_pop(&n->dials))) {
        ipcn__dial *d = ipcn__list_entry(e, ipcn__dial, entry);
        ipcn__free(d->name);
        ipcn__free(d);
    }
    ipcn__backoff_free_all(n);
    while ((e = ipcn__list_pop(&n->links)))
        ipcn__link_free(n, ipcn__list_entry(e, ipcn__link, node_entry));
    free_dead_links(n);
    ipcn__wbuf_free(&n->scratch);
    ipcn__pub_node_free(n);
    int fds[] = {n->epfd, n->wakefd, n->timerfd, n->listenfd, n->inotifyfd,
                 n->outfd, n->readyfd};
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    ipcn__rdv_close(n); /* closes dirfd and lockfd last */
    pthread_mutex_destroy(&n->lock);
    pthread_cond_destroy(&n->cond);
    ipcn__free(n->name);
    ipcn__free(n->network);
    ipcn__free(n->dir);
    ipcn__free(n);
}

static int add_fd(ipcn_node *n, int fd, uint32_t kind)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag(kind, 0)};
    return epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? IPCN_OK
                                                          : IPCN_INTERNAL_ERROR;
}

IPCN_API int ipcn_node_open(ipcn_node **out, const char *name,
                            const ipcn_node_opts *opts)
{
    if (!out || !name || ipcn__name_check(name, strlen(name)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    if (opts) {
        if (opts->size < sizeof(uint32_t) || opts->size > sizeof o)
            return IPCN_BAD_REQUEST;
        memcpy(&o, opts, opts->size);
        o.size = sizeof o;
        ipcn_node_opts d;
        ipcn_node_opts_init(&d);
        if (!o.heartbeat_ms)
            o.heartbeat_ms = d.heartbeat_ms;
        if (!o.dead_after_ms)
            o.dead_after_ms = d.dead_after_ms;
        if (!o.idle_probe_ms)
            o.idle_probe_ms = d.idle_probe_ms;
        if (!o.max_payload || o.max_payload > IPCN_WIRE_MAX_PAYLOAD)
            o.max_payload = d.max_payload;
        if (!o.tx_limit)
            o.tx_limit = d.tx_limit;
        if (!o.max_peers)
            o.max_peers = d.max_peers;
        if (!o.peer_meta_max)
            o.peer_meta_max = d.peer_meta_max;
        if (!o.peer_meta_budget)
            o.peer_meta_budget = d.peer_meta_budget;
        if (o.spin_us > IPCN_SPIN_MAX_US)
            return IPCN_BAD_REQUEST;
        if (o.dead_after_ms < 2 * o.heartbeat_ms)
            return IPCN_BAD_REQUEST;
        if (o.idle_probe_ms < o.heartbeat_ms)
            o.idle_probe_ms = o.heartbeat_ms;
    }
    ipcn_node *n = ipcn__calloc(1, sizeof *n);
    if (!n)
        return IPCN_INSUFFICIENT_MEMORY;
    n->opts = o;
    n->epfd = n->wakefd = n->timerfd = n->listenfd = n->inotifyfd = -1;
    n->dirfd = n->lockfd = n->spare_fd = n->outfd = n->readyfd = -1;
    ipcn__list_init(&n->links);
    ipcn__list_init(&n->hello_links);
    ipcn__list_init(&n->locals);
    ipcn__list_init(&n->remotes);
    ipcn__list_init(&n->subs);
    ipcn__list_init(&n->ready_subs);
    ipcn__list_init(&n->interests);
    ipcn__list_init(&n->pendings);
    ipcn__list_init(&n->responders);
    ipcn__list_init(&n->cbq);
    ipcn__list_init(&n->dials);
    ipcn__list_init(&n->backoffs);
    ipcn__list_init(&n->pools);
    ipcn__list_init(&n->loans);
    ipcn__list_init(&n->maps);
    atomic_init(&n->shm_rel_pending, false);
    {
        const char *no_shm = getenv("IPCNET_NO_SHM");
        n->shm_enabled = !no_shm || !*no_shm || !strcmp(no_shm, "0");
        const char *no_ring = getenv("IPCNET_NO_RING");
        n->ring_enabled = !no_ring || !*no_ring || !strcmp(no_ring, "0");
        const char *spin = getenv("IPCNET_SPIN_US");
        if (!n->opts.spin_us && spin && *spin) {
            char *end;
            unsigned long v = strtoul(spin, &end, 10);
            if (!*end && v <= IPCN_SPIN_MAX_US)
                n->opts.spin_us = (uint32_t)v;
        }
    }
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&n->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cond, &ca);
    pthread_condattr_destroy(&ca);
    n->id = ipcn__random_u64();
    n->next_corr = ipcn__random_u64() >> 16; /* not guessable from outside */
    n->next_responder = 1;

    int st = IPCN_INSUFFICIENT_MEMORY;
    if (!(n->name = ipcn__strdup(name)))
        goto fail;
    if ((st = resolve_dir(n, &o)) != IPCN_OK)
        goto fail;
    st = IPCN_INTERNAL_ERROR;
    n->epfd = epoll_create1(EPOLL_CLOEXEC);
    n->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    n->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (n->epfd < 0 || n->wakefd < 0 || n->timerfd < 0) {
        ipcn__err("IPCN-NODE-FD", "%s: %s", name, strerror(errno));
        goto fail;
    }
    if (add_fd(n, n->wakefd, TAG_WAKE) != IPCN_OK ||
        add_fd(n, n->timerfd, TAG_TIMER) != IPCN_OK)
        goto fail;
    if ((st = ipcn__rdv_open(n)) != IPCN_OK)
        goto fail;
    if (add_fd(n, n->listenfd, TAG_LISTEN) != IPCN_OK ||
        (n->inotifyfd >= 0 && add_fd(n, n->inotifyfd, TAG_INOTIFY) != IPCN_OK)) {
        st = IPCN_INTERNAL_ERROR;
        goto fail;
    }
    ipcn__node_lock(n);
    n->last_tick_ns = ipcn__now_mono_ns();
    ipcn__rdv_scan(n);
    rearm(n, n->last_tick_ns);
    ipcn__node_unlock(n);
    *out = n;
    return IPCN_OK;
fail:
    node_free(n);
    return st;
}

IPCN_API void ipcn_node_close(ipcn_node *n)
{
    if (!n)
        return;
    /* Calls of other threads that wait end with 303 at once. */
    ipcn__node_lock(n);
    ipcn__node_end_waits(n);
    ipcn__node_unlock(n);
    if (n->thread_running)
        ipcn_node_stop_thread(n);
    ipcn__files_node_closed(n); /* what ipcn_unoffer_files() was not called for */
    ipcn__node_lock(n);
    ipcn__node_waits_gone(n); /* and have left the node */
    n->closing = true;
    /* Say goodbye, then give the queued bytes a bounded time to leave. */
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP)
            continue;
        ipcn__hdr h;
        ipcn__link_hdr(n, &h, IPCN_OK, 0);
        size_t mark = ipcn__link_tx_mark(l, 0);
        ipcn__link_commit(n, l, mark,
                          ipcn__enc_text(&l->tx, &h, IPCN_F_BYE, "closing", 7));
    }
    uint64_t until = ipcn__now_mono_ns() + 100000000ull;
    for (;;) {
        bool pending = false;
        ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
            if (l->state != LINK_DEAD && ipcn__link_backlog(l))
                pending = true;
        int ms = ipcn__node_ms_until(until);
        if (!pending || ms == 0)
            break;
        ipcn__node_pump(n, ms > 10 ? 10 : ms);
    }
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        ipcn__link_close(n, l, IPCN_OK, "closing");
    free_dead_links(n);
    ipcn__node_unlock(n);
    node_free(n);
}

IPCN_API const char *ipcn_node_name(const ipcn_node *n) { return n ? n->name : NULL; }
IPCN_API uint64_t ipcn_node_id(const ipcn_node *n) { return n ? n->id : 0; }
IPCN_API const char *ipcn_node_dir(const ipcn_node *n) { return n ? n->dir : NULL; }

IPCN_API int ipcn_set_event_fn(ipcn_node *n, ipcn_event_fn fn, void *user)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    n->event_fn = fn;
    n->event_user = user;
    ipcn__node_unlock(n);
    return IPCN_OK;
}

IPCN_API int ipcn_node_get_usage(ipcn_node *n, ipcn_node_usage *out)
{
    if (!n || !out || out->size < offsetof(ipcn_node_usage, peer_meta_bytes))
        return IPCN_BAD_REQUEST;
    ipcn_node_usage u = {.size = out->size};
    ipcn__node_lock(n);
    u.peers = n->stats.peers;
    u.peer_meta_bytes = n->peer_meta_bytes;
    u.meta_refused = n->meta_refused;
    u.peers_refused = n->peers_refused;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        u.tx_queued_bytes += ipcn__link_backlog(l);
        u.tx_buffer_bytes += l->tx.cap;
    }
    u.tx_buffer_peak = n->tx_buffer_peak > u.tx_buffer_bytes ? n->tx_buffer_peak
                                                             : u.tx_buffer_bytes;
    ipcn__node_unlock(n);
    memcpy(out, &u, out->size < sizeof u ? out->size : sizeof u);
    return IPCN_OK;
}

IPCN_API int ipcn_node_get_stats(ipcn_node *n, ipcn_node_stats *out)
{
    if (!n || !out)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn_node_stats s = n->stats;
    uint32_t count = 0;
    ipcn__local *lr;
    ipcn__list_for_each(lr, t, &n->locals, ipcn__local, entry) count += lr != NULL;
    ipcn__remote *r;
    ipcn__list_for_each(r, t2, &n->remotes, ipcn__remote, entry) count += r != NULL;
    s.resources = count;
    ipcn__node_unlock(n);
    *out = s;
    return IPCN_OK;
}

static int cmp_peer(const void *a, const void *b)
{
    return strcmp(((const ipcn_peer *)a)->name, ((const ipcn_peer *)b)->name);
}

IPCN_API int ipcn_peers(ipcn_node *n, ipcn_peer_list **out)
{
    if (!n || !out)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    size_t count = 0, names = 0;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state == LINK_UP) {
            count++;
            names += strlen(l->name) + 1;
        }
    }
    /* One block: the list, its items, then the names. */
    size_t size = sizeof(ipcn_peer_list) + count * sizeof(ipcn_peer) + names;
    ipcn_peer_list *pl = ipcn__malloc(size);
    if (!pl) {
        ipcn__node_unlock(n);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    pl->count = count;
    pl->items = (ipcn_peer *)(pl + 1);
    char *sp = (char *)(pl->items + count);
    size_t i = 0;
    ipcn__list_for_each(l, t2, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP)
            continue;
        ipcn_peer *p = &pl->items[i++];
        size_t nl = strlen(l->name) + 1;
        memcpy(sp, l->name, nl);
        *p = (ipcn_peer){.name = sp, .id = l->peer_id, .pid = l->pid,
                         .uid = l->uid, .gid = l->gid,
                         .linked_ns = l->linked_ns, .resources = l->resources,
                         .frames_in = l->frames_in, .frames_out = l->frames_out,
                         .bytes_in = l->bytes_in, .bytes_out = l->bytes_out,
                         .bad_frames = l->bad_frames, .drops = l->drops};
        sp += nl;
    }
    ipcn__node_unlock(n);
    qsort(pl->items, count, sizeof(ipcn_peer), cmp_peer);
    *out = pl;
    return IPCN_OK;
}

IPCN_API void ipcn_peer_list_free(ipcn_peer_list *pl) { ipcn__free(pl); }
