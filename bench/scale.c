/* SPDX-License-Identifier: MIT */
/*
 * scale.c — what N nodes on one host cost together (issues 12 and 20).
 * N node processes, each announcing one resource and then doing nothing on
 * its own thread.  For each N, once every node is linked to the N-1
 * others:
 *   - idle CPU: the CPU time of all of them over a fixed window (every
 *     thread's run time from schedstat, utime+stime beside it), as % of
 *     one core;
 *   - memory and file descriptors per node: RSS, PSS, private and shared
 *     pages (smaps_rollup) and open descriptors, mean and max over the N;
 *   - sync: a new (N+1-th) node is started; the time from its
 *     ipcn_node_open() until it is linked to all N and ipcn_find() shows
 *     all N resources;
 *   - drop: that new node is killed (SIGKILL) once every other node has
 *     linked it; each of the N reports when its IPCN_EV_PEER_DOWN for it
 *     came (CLOCK_MONOTONIC is the same clock in every process): p50, p99
 *     and max of the N delays.
 * The ZeroMQ rows beside it are in scale_zmq.c.
 *
 * Bounded: each phase has a deadline, each node exits by itself after
 * SCALE_CHILD_LIFE_S, and every child is killed and reaped when a phase
 * fails.  A node not linked to all the others, a new node that does not
 * find every resource, or a node that never sees the killed one go fails
 * the row; peers lost and linked again meanwhile (heartbeat timeouts on a
 * loaded machine) are counted in the note.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

#define SCALE_CHILD_LIFE_S 600 /* a node left behind exits by itself */
#define SCALE_JOINER "scale-join"
#define CTL_ARM 'J' /* parent to node: wait until the new node is linked */

typedef struct scale_args {
    char dir[256];
    int nodes;
} scale_args;

typedef struct scale_result {
    int ok;
    char err[160];
    uint32_t peers;        /* linked at the end */
    uint64_t peers_lost;   /* during its life */
    int inotify;           /* 1: it has an inotify watch (else it rescans) */
    uint64_t t_down;       /* when the killed node's PEER_DOWN came (ns) */
    uint64_t t_linked, t_found; /* the new node: linked to all, found all */
    uint64_t down[3];      /* PEER_DOWN of the others: 303, 304, other */
} scale_result;

/* Does this process hold an inotify descriptor?  Without one (the per-user
 * limit of instances reached) a node rescans its directory on a timer,
 * which is a cost of its own: the row says so. */
static int has_inotify(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(path, target, sizeof target - 1);
        if (k > 0) {
            target[k] = 0;
            found = strstr(target, "inotify") != NULL;
        }
    }
    closedir(d);
    return found;
}

static _Atomic uint64_t g_t_down; /* in a node process: its own */
static _Atomic uint64_t g_down[3]; /* PEER_DOWN of the others by status */

static void on_event(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)n;
    (void)user;
    if (ev->type != IPCN_EV_PEER_DOWN)
        return;
    if (ev->peer && !strcmp(ev->peer, SCALE_JOINER))
        atomic_store(&g_t_down, now_ns());
    else
        atomic_fetch_add(&g_down[ev->status == IPCN_GATEWAY_TIMEOUT ? 1
                                 : ev->status == IPCN_SERVICE_UNAVAILABLE ? 0 : 2], 1);
}

static int fail(child *c, scale_result *res, ipcn_node *n)
{
    ctl_send_result(c->ctl, res, sizeof *res, NULL, 0);
    ipcn_node_close(n);
    return 1;
}

/* Wait up to ms for cond(n) to hold, polling every 2 ms. */
static int wait_peers_at(ipcn_node *n, uint32_t want, int ms)
{
    for (int i = 0; i <= ms / 2; i++) {
        ipcn_node_stats ns = {.size = sizeof ns};
        ipcn_node_get_stats(n, &ns);
        if (ns.peers == want)
            return 0;
        sleep_ms(2);
    }
    return -1;
}

static int scale_node(child *c)
{
    scale_args *a = c->arg;
    scale_result res = {0};
    char name[32], path[48];
    snprintf(name, sizeof name, "scale-%03d", c->index);
    snprintf(path, sizeof path, "scale/%03d", c->index);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = a->dir;
    o.network = "bench";
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, &o);
    if (st == IPCN_OK)
        st = ipcn_node_set_event_fn(n, on_event, NULL);
    if (st == IPCN_OK)
        st = ipcn_announce(n, path, IPCN_DATA, "text/plain", NULL, 0);
    if (st == IPCN_CREATED)
        st = ipcn_node_start_thread(n);
    if (st == IPCN_OK)
        st = ipcn_node_wait_peers(n, (unsigned)a->nodes - 1, 60000 + 1000 * a->nodes);
    if (st != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "%s: open/announce/thread/wait for %d peers: %d %s",
                 name, a->nodes - 1, st, ipcn_status_str(st));
        return fail(c, &res, n);
    }
    res.inotify = has_inotify();
    ctl_send(c->ctl, CTL_READY);
    /* Idle: asleep in poll() until told the new node runs (or the parent
     * goes). */
    int b = ctl_wait(&(child){.ctl = c->ctl}, SCALE_CHILD_LIFE_S * 1000);
    if (b == CTL_ARM) {
        if (wait_peers_at(n, (uint32_t)a->nodes, 60000 + 200 * a->nodes) < 0) {
            snprintf(res.err, sizeof res.err, "%s: never linked to the new node", name);
            return fail(c, &res, n);
        }
        ctl_send(c->ctl, CTL_READY);
        b = ctl_wait(&(child){.ctl = c->ctl}, SCALE_CHILD_LIFE_S * 1000);
        /* The new node was killed: its PEER_DOWN, then back to N-1. */
        for (int i = 0; b == CTL_GO && i < 30000 && !atomic_load(&g_t_down); i++)
            sleep_ms(1);
        res.t_down = atomic_load(&g_t_down);
        if (b == CTL_GO && !res.t_down) {
            snprintf(res.err, sizeof res.err, "%s: no PEER_DOWN for the killed node in 30 s",
                     name);
            return fail(c, &res, n);
        }
        (void)wait_peers_at(n, (uint32_t)a->nodes - 1, 10000);
    }
    ipcn_node_stats ns = {.size = sizeof ns};
    ipcn_node_get_stats(n, &ns);
    res.peers = ns.peers;
    res.peers_lost = ns.peers_lost;
    for (int i = 0; i < 3; i++)
        res.down[i] = atomic_load(&g_down[i]);
    res.ok = ns.peers == (uint32_t)a->nodes - 1;
    if (!res.ok)
        snprintf(res.err, sizeof res.err, "%s: %u of %d peers linked at the end, %llu lost",
                 name, ns.peers, a->nodes - 1, (unsigned long long)ns.peers_lost);
    if (b == CTL_GO) {
        ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
        (void)ctl_wait(&(child){.ctl = c->ctl}, 60000);
    }
    ipcn_node_close(n);
    return res.ok ? 0 : 1;
}

/* The new node: open, linked to all N, every resource found; then it waits
 * to be killed (or stopped). */
static int scale_joiner(child *c)
{
    scale_args *a = c->arg;
    scale_result res = {0};
    uint64_t t0 = now_ns();
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = a->dir;
    o.network = "bench";
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, SCALE_JOINER, &o);
    if (st == IPCN_OK)
        st = ipcn_node_start_thread(n);
    if (st == IPCN_OK)
        st = ipcn_node_wait_peers(n, (unsigned)a->nodes, 60000 + 200 * a->nodes);
    if (st != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "new node: open/thread/wait for %d peers: %d %s",
                 a->nodes, st, ipcn_status_str(st));
        return fail(c, &res, n);
    }
    res.t_linked = now_ns() - t0;
    size_t found = 0;
    for (int i = 0; i < 30000; i++) {
        ipcn_resource_list *l = NULL;
        st = ipcn_find(n, "scale/*", IPCN_DATA, &l);
        found = st == IPCN_OK ? l->count : 0;
        ipcn_resource_list_free(l);
        if (found >= (size_t)a->nodes)
            break;
        sleep_ms(1);
    }
    res.t_found = now_ns() - t0;
    res.ok = found == (size_t)a->nodes;
    if (!res.ok) {
        snprintf(res.err, sizeof res.err, "new node: %zu of %d resources found in 30 s",
                 found, a->nodes);
        return fail(c, &res, n);
    }
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    (void)ctl_wait(&(child){.ctl = c->ctl}, SCALE_CHILD_LIFE_S * 1000);
    ipcn_node_close(n);
    return 0;
}

/* A node said 'X' instead of what was awaited: its error, else hung/died. */
static void node_failed(row *r, child *k, int b, const char *when)
{
    scale_result res;
    if (b == 'X' && readn(k->ctl, (uint64_t[2]){0}, 16) == 0 &&
        readn(k->ctl, &res, sizeof res) == 0)
        row_fail(r, "%s", res.err);
    else
        row_fail(r, "node %d %s %s", k->index, b == 0 ? "hung" : "died", when);
}

/* Wait for every node's byte want (shared deadline). */
static int wait_all(row *r, child *kids, int n, int want, uint64_t deadline, const char *when)
{
    for (int i = 0; i < n; i++) {
        uint64_t now = now_ns();
        int left = now < deadline ? (int)((deadline - now) / 1000000ull) + 1 : 1;
        int b = ctl_wait(&kids[i], left);
        if (b != want) {
            node_failed(r, &kids[i], b, when);
            return -1;
        }
    }
    return 0;
}

static void scale_one(int nodes, double seconds)
{
    char variant[40];
    snprintf(variant, sizeof variant, "%d idle nodes", nodes);
    row *r = row_new("scale", "ipcnet", variant);
    r->n = (uint64_t)nodes;
    r->sync_ms = -1;
    scale_args a = {.nodes = nodes};
    if (bench_tmpdir(a.dir, sizeof a.dir) < 0) {
        row_fail(r, "mkdtemp: %s", strerror(errno));
        return;
    }
    child *kids = calloc((size_t)nodes + 1, sizeof *kids);
    pid_t *pids = calloc((size_t)nodes, sizeof *pids);
    uint64_t *down = calloc((size_t)nodes, sizeof *down);
    child *joiner = kids ? &kids[nodes] : NULL;
    int started = 0;
    if (!kids || !pids || !down) {
        row_fail(r, "out of memory");
        goto out;
    }
    uint64_t t_start = now_ns();
    for (; started < nodes; started++) {
        if (child_spawn(&kids[started], "scale-node", started, scale_node, &a) < 0) {
            row_fail(r, "fork of node %d: %s", started, strerror(errno));
            goto out;
        }
        pids[started] = kids[started].pid;
    }
    /* All linked: every node has said so (generous: linking N² links on a
     * loaded machine). */
    uint64_t deadline = now_ns() + (uint64_t)(70000 + 1000 * nodes) * 1000000ull;
    if (wait_all(r, kids, nodes, CTL_READY, deadline, "before all were linked") < 0)
        goto out;
    double link_s = (double)(now_ns() - t_start) / 1e9;
    sleep_ms(500); /* the last links' first frames */
    scale_snap s0 = scale_take(pids, nodes);
    sleep_ms((int)(seconds * 1000));
    scale_snap s1 = scale_take(pids, nodes);
    scale_memfd mean, max;
    if (scale_mem_all(pids, nodes, &mean, &max) < 0) {
        row_fail(r, "could not read /proc/<pid>/smaps_rollup or fd of a node");
        goto out;
    }
    /* Sync: a new node. */
    if (child_spawn(joiner, "scale-join", nodes, scale_joiner, &a) < 0) {
        row_fail(r, "fork of the new node: %s", strerror(errno));
        goto out;
    }
    scale_result jr;
    int rc = ctl_recv_result(joiner, &jr, sizeof jr, NULL, NULL, 90000 + 200 * nodes);
    if (rc < 0 || !jr.ok) {
        if (rc < 0)
            row_fail(r, "the new node %s", rc == -2 ? "hung" : "died");
        else
            row_fail(r, "%s", jr.err);
        goto out;
    }
    r->sync_ms = (double)jr.t_found / 1e6;
    /* Drop: every node has linked the new one; kill it. */
    for (int i = 0; i < nodes; i++)
        ctl_send(kids[i].ctl, CTL_ARM);
    deadline = now_ns() + (uint64_t)(60000 + 200 * nodes) * 1000000ull;
    if (wait_all(r, kids, nodes, CTL_READY, deadline, "while the new node linked") < 0)
        goto out;
    uint64_t t_kill = now_ns();
    kill(joiner->pid, SIGKILL);
    (void)child_reap(joiner, 10000);
    int without_inotify = 0;
    uint64_t lost = 0, downs[3] = {0};
    for (int i = 0; i < nodes; i++)
        ctl_send(kids[i].ctl, CTL_GO);
    for (int i = 0; i < nodes; i++) {
        scale_result res;
        rc = ctl_recv_result(&kids[i], &res, sizeof res, NULL, NULL, 40000);
        if (rc < 0) {
            if (r->status == ROW_OK)
                row_fail(r, "node %d %s at the end", i, rc == -2 ? "hung" : "died");
            continue;
        }
        if (!res.ok && r->status == ROW_OK)
            row_fail(r, "%s", res.err);
        without_inotify += res.inotify == 0;
        lost += res.peers_lost ? res.peers_lost - 1 : 0; /* the killed one */
        for (int k = 0; k < 3; k++)
            downs[k] += res.down[k];
        down[i] = res.t_down > t_kill ? res.t_down - t_kill : 0;
    }
    if (r->status != ROW_OK)
        goto out;
    scale_fill(r, nodes, &s0, &s1, &mean);
    lat_summary(down, (size_t)nodes, &r->p50_us, &r->p99_us, &r->max_us);
    r->has_lat = true;
    long hz = sysconf(_SC_CLK_TCK);
    snprintf(r->note, sizeof r->note,
             "%d processes, %d links, all linked in %.1f s; idle over %.1f s: run time "
             "%.1f ms (schedstat), utime+stime %llu ticks (1/%ld s); per node max RSS %llu "
             "KiB, PSS %llu KiB, shared %llu KiB mean, fds max %llu; new node linked to all "
             "in %.1f ms, all found in %.1f ms; %llu peers lost and linked again (PEER_DOWN of "
             "the others: %llu hang-up 303, %llu heartbeat timeout 304, %llu other)%s",
             nodes, nodes * (nodes - 1) / 2, link_s, (double)(s1.t - s0.t) / 1e9,
             (double)(s1.run_ns - s0.run_ns) / 1e6,
             (unsigned long long)(s1.ticks - s0.ticks), hz,
             (unsigned long long)max.rss_kib, (unsigned long long)max.pss_kib,
             (unsigned long long)mean.shared_kib, (unsigned long long)max.fds,
             (double)jr.t_linked / 1e6, (double)jr.t_found / 1e6, (unsigned long long)lost,
             (unsigned long long)downs[0], (unsigned long long)downs[1],
             (unsigned long long)downs[2], without_inotify ? "; some nodes had no inotify watch (per-user limit)" : "");
out:
    for (int i = 0; kids && i <= nodes; i++)
        if (kids[i].pid > 0 && !kids[i].done && kids[i].ctl >= 0)
            ctl_send(kids[i].ctl, CTL_STOP);
    for (int i = 0; kids && i <= nodes; i++)
        if (kids[i].pid > 0 && !kids[i].done && child_reap(&kids[i], 10000) < 0 &&
            r->status == ROW_OK && i < nodes)
            row_fail(r, "node %d exited with wait status %d", i, kids[i].exit_status);
    free(kids);
    free(pids);
    free(down);
    bench_rmdir(a.dir);
}

void bench_scale(void)
{
    for (int i = 0; i < g_opts.nscale; i++) {
        if (want_transport("ipcnet"))
            scale_one(g_opts.scale[i], g_opts.scale_seconds);
        if (want_transport("zmq"))
            scale_zmq(g_opts.scale[i], g_opts.scale_seconds);
    }
}
