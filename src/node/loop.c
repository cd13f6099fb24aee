/* SPDX-License-Identifier: MIT */
/*
 * loop.c — a node's event loop: one epoll fd over its links, timer,
 * wake-up fd, listening socket and directory watch; the timer's work
 * (heartbeats, deadlines, redials); one round of I/O (pump).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "engine/entry.h"
#include "node/node.h"
#include "policy/policy.h"
#include "transport/reputation.h"
#include "transport/compromise.h"

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
void ipcn__node_set_ready(ipcn_node *n)
{
    uint64_t one = 1;
    if (n->readyfd >= 0 && !n->ready &&
        write(n->readyfd, &one, sizeof one) == sizeof one)
        n->ready = true;
}

void ipcn__node_clear_ready(ipcn_node *n)
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
        ipcn__node_set_ready(n);
}

void ipcn__node_drain_wake(ipcn_node *n)
{
    uint64_t v; /* one read resets an eventfd's counter */
    (void)!read(n->wakefd, &v, sizeof v);
    n->woken = false;
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
 * (a PONG will do), or samples and answers of a path it owns
 * (ipcnet_redundancy.h), whose standby takes over when it hangs.  Such a
 * link is watched: pinged after heartbeat_ms of
 * silence, and again every heartbeat_ms, and dropped after dead_after.
 * A link with nothing outstanding is idle: it costs no wake-up but a slow
 * probe every idle_probe_ms (from the side that dialled; the other side
 * hears those and probes only when they stop), so that a peer that hung
 * while idle still leaves the directory in the end.  N idle nodes thus
 * cost nothing that grows with time, where a heartbeat per link cost N². */
static bool link_watched(const ipcn__link *l)
{
    return l->awaiting || l->owning || l->unheard_ns ||
           ipcn__link_backlog(l) || l->rtx_blocked || l->rx_paused;
}

/* Silence is counted from what we last heard (or from the peer taking
 * bytes we had queued), and never from before we began to wait: a request
 * on a link idle for an hour does not find it silent for an hour. */
static uint64_t link_heard(const ipcn__link *l)
{
    uint64_t h = l->last_rx_ns > l->last_drain_ns ? l->last_rx_ns
                                                  : l->last_drain_ns;
    /* An owner (engine/owner.c) speaks without being asked: its silence
     * counts from what we last heard since we began to take from it, not
     * from our first ping, so that its standby takes over after
     * dead_after, not dead_after plus a heartbeat. */
    uint64_t since = l->owning && !l->awaiting ? l->owning_since_ns
                                               : l->unheard_ns;
    return since > h ? since : h;
}

/* How long a link may stay silent.  A routed link's frames cross other
 * links, each watched with the same dead_after: when one of them fails,
 * the routers take another way only after it, so the routed link gives
 * that failure and the reroute its own dead_after before it gives up. */
static uint64_t dead_ns(const ipcn_node *n, const ipcn__link *l)
{
    uint64_t dead = (uint64_t)n->opts.dead_after_ms * 1000000ull;
    if (l->kind == LINK_ROUTED && l->state == LINK_UP)
        dead *= 2;
    /* A peer being debugged asked (STATE) to be waited for longer: granted
     * up to what this node's network policy allows (debug: liveness:),
     * nothing without it, so that a peer cannot make itself undroppable
     * where the network's owner did not say so; with "all: true" every
     * peer gets that bound, asked or not.  Only a peer that said who it
     * is: a socket in its handshake or hello keeps the plain bound. */
    if (l->state != LINK_UP)
        return dead;
    const ipcn__guard *g = n->policy ? &n->policy->guard : NULL;
    uint64_t cap = g ? g->debug_liveness_ms : 0;
    uint64_t asked = g && g->debug_all ? cap : l->peer_liveness_ms;
    uint64_t grant = (asked < cap ? asked : cap) * 1000000ull;
    return grant > dead ? grant : dead;
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
    uint64_t dead = dead_ns(n, l);
    uint64_t due;
    if (l->state == LINK_HELLO || l->state == LINK_SECURE) {
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
void ipcn__node_rearm(ipcn_node *n, uint64_t now)
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
    uint64_t d = ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_DEADLINE});
    if (d && (!next || d < next))
        next = d;
    ipcn__dial *dl;
    ipcn__list_for_each(dl, t, &n->dials, ipcn__dial, entry)
        if (!next || dl->next_ns < next)
            next = dl->next_ns;
    uint64_t g = n->gw ? ipcn__gw_next_ns(n, now) : 0;
    if (g && (!next || g < next))
        next = g;
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
        dead = dead_ns(n, l);
        if (starved && now - l->last_rx_ns > hb)
            l->last_rx_ns = now - hb;
        if (starved && l->unheard_ns && now - l->unheard_ns > hb)
            l->unheard_ns = now - hb;
        if (l->state == LINK_HELLO || l->state == LINK_SECURE) {
            /* An absolute deadline: trickling bytes buys no time.  A TCP
             * link's handshake and hello share it. */
            if (now - l->created_ns >= dead && !starved)
                ipcn__link_close(n, l, IPCN_GATEWAY_TIMEOUT,
                                 l->state == LINK_SECURE ? "no handshake in time"
                                                         : "no hello in time");
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
            peer_runnable(l->who.pid))
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

/* Without inotify the directory is rescanned every tick, but only when it
 * changed: a scan of N nodes' files costs system calls per entry, every
 * tick, in every such node.  Its mtime is coarse (a clock tick of the
 * kernel), so a change made in the same tick as the last scan could hide
 * behind an unchanged mtime: it is trusted only once a second old.  Every
 * SCAN_EVERY ticks it is scanned anyway: a scan also dials again the
 * nodes whose dials gave up (a full backlog while many nodes start). */
#define MAX_EVENTS 64

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
            ipcn__node_add_fd(n, n->listenfd, TAG_LISTEN) == IPCN_OK)
            n->accept_paused = false;
        if (n->inotifyfd < 0 && dir_changed(n))
            ipcn__rdv_scan(n); /* no inotify watch: look for newcomers */
        if (n->inotifyfd < 0 || n->policy_wd < 0)
            ipcn__node_policy_poll(n); /* no watch: look at the policy */
    }
    ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_TIMER, .now = now});
    ipcn__rdv_dial_due(n, now);
    if (n->gw)
        ipcn__gw_tick(n, now);
}

void ipcn__node_free_dead_links(ipcn_node *n)
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
        uint64_t asked_ns = ipcn__now_mono_ns();
        k = epoll_wait(n->epfd, evs, MAX_EVENTS, timeout_ms);
        ipcn__node_lock(n);
        n->pumping = false;
        n->round_ns = n->last_epoll_ns = ipcn__now_mono_ns();
        /* Fewer events than room for them: every link whose peer hung up
         * before epoll_wait was called is among them (a paused link's full
         * hang-up is always told).  As of the call, not of its return: a
         * process stopped in it (SIGSTOP, a debugger) returns with what it
         * collected before the stop.  Not after EINTR. */
        if (k >= 0 && k < MAX_EVENTS)
            n->hup_clear_ns = asked_ns;
        if (k < 0)
            k = 0;
    }
    for (int i = 0; i < k; i++) {
        uint32_t kind = (uint32_t)(evs[i].data.u64 >> 32);
        uint32_t id = (uint32_t)evs[i].data.u64;
        ipcn__link *l;
        switch (kind) {
        case TAG_WAKE:
            ipcn__node_drain_wake(n);
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
        case TAG_GW_LISTEN:
            if (n->gw)
                ipcn__gw_on_accept(n);
            break;
        case TAG_GW_DISC:
            if (n->gw)
                ipcn__gw_on_disc(n);
            break;
        case TAG_LINK:
            if (!(l = ipcn__link_by_id(n, id)))
                break;
            if (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                l->peer_hung_up = true;
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
    /* Principals quarantined in the round lose their links. */
    ipcn__rep_flush(n);
    /* Slots whose last message went away go back to their publishers. */
    ipcn__map_flush_releases(n);
    /* Evidence of compromised peers found in the round (or told by a
     * thread since: a sample that failed verification) is acted on now,
     * out of the verbs that found it. */
    ipcn__map_flush_verify(n);
    if (ipcn__cz_pending(n))
        ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_COMPROMISE});
    ipcn__node_free_dead_links(n);
    ipcn__node_rearm(n, n->round_ns);
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
