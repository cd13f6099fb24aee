/* SPDX-License-Identifier: MIT */
/*
 * scale.c — what N idle nodes on one host cost together (issue 12: the
 * idle CPU grew as N², with a heartbeat per link).  N node processes, each
 * announcing one resource and then doing nothing on its own thread; once
 * every node is linked to the N-1 others, the CPU time of all of them
 * (every thread's run time from /proc/<pid>/task/<tid>/schedstat, in ns;
 * utime+stime from /proc/<pid>/stat, in clock ticks, beside it) is taken
 * over a fixed window and reported as % of one core, for each N.
 *
 * Bounded: each phase has a deadline, each node exits by itself after
 * SCALE_CHILD_LIFE_S, and every child is killed and reaped when a phase
 * fails.  A node not linked to all the others at the end fails the row;
 * peers lost and linked again meanwhile (heartbeat timeouts on a loaded
 * machine) are counted in the note.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

#define SCALE_CHILD_LIFE_S 600 /* a node left behind exits by itself */

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
        st = ipcn_announce(n, path, IPCN_DATA, "text/plain", NULL, 0);
    if (st == IPCN_CREATED)
        st = ipcn_node_start_thread(n);
    if (st == IPCN_OK)
        st = ipcn_node_wait_peers(n, (unsigned)a->nodes - 1, 120000);
    if (st != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "%s: open/announce/thread/wait for %d peers: %d %s",
                 name, a->nodes - 1, st, ipcn_status_str(st));
        ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
        ipcn_node_close(n);
        return 1;
    }
    res.inotify = has_inotify();
    ctl_send(c->ctl, CTL_READY);
    /* Idle: asleep in poll() until asked for the result (or the parent
     * goes), then until told to stop: every node reports before any of
     * them closes. */
    int b = ctl_wait(&(child){.ctl = c->ctl}, SCALE_CHILD_LIFE_S * 1000);
    ipcn_node_stats ns = {.size = sizeof ns};
    ipcn_node_get_stats(n, &ns);
    res.peers = ns.peers;
    res.peers_lost = ns.peers_lost;
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

/* Run time (ns) and times scheduled of every thread of pid. */
static int proc_sched(pid_t pid, uint64_t *run_ns, uint64_t *slices)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[400];
        snprintf(path, sizeof path, "%s/%.300s/schedstat", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        unsigned long long run, wait, sl;
        if (fscanf(f, "%llu %llu %llu", &run, &wait, &sl) == 3) {
            *run_ns += run;
            *slices += sl;
        }
        fclose(f);
    }
    closedir(d);
    return 0;
}

/* utime + stime of pid (all its threads), clock ticks. */
static uint64_t proc_ticks(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                     &ut, &st) != 2)
        return 0;
    return ut + st;
}

typedef struct snapshot {
    uint64_t t, run_ns, slices, ticks;
} snapshot;

static snapshot take(const child *kids, int n)
{
    snapshot s = {0};
    for (int i = 0; i < n; i++) {
        proc_sched(kids[i].pid, &s.run_ns, &s.slices);
        s.ticks += proc_ticks(kids[i].pid);
    }
    s.t = now_ns();
    return s;
}

static void scale_one(int nodes, double seconds)
{
    char variant[40];
    snprintf(variant, sizeof variant, "%d idle nodes", nodes);
    row *r = row_new("scale", "ipcnet", variant);
    r->n = (uint64_t)nodes;
    scale_args a = {.nodes = nodes};
    if (bench_tmpdir(a.dir, sizeof a.dir) < 0) {
        row_fail(r, "mkdtemp: %s", strerror(errno));
        return;
    }
    child *kids = calloc((size_t)nodes, sizeof *kids);
    if (!kids) {
        row_fail(r, "out of memory");
        bench_rmdir(a.dir);
        return;
    }
    int started = 0, ready = 0;
    uint64_t t_start = now_ns();
    for (; started < nodes; started++)
        if (child_spawn(&kids[started], "scale-node", started, scale_node, &a) < 0) {
            row_fail(r, "fork of node %d: %s", started, strerror(errno));
            goto out;
        }
    /* All linked: every node has said so (generous: linking N² links on a
     * loaded machine). */
    uint64_t deadline = now_ns() + (uint64_t)(60000 + 1000 * nodes) * 1000000ull;
    for (; ready < nodes; ready++) {
        uint64_t now = now_ns();
        int left = now < deadline ? (int)((deadline - now) / 1000000ull) + 1 : 1;
        int b = ctl_wait(&kids[ready], left);
        if (b != CTL_READY) {
            scale_result res;
            if (b == 'X' && readn(kids[ready].ctl, (uint64_t[2]){0}, 16) == 0 &&
                readn(kids[ready].ctl, &res, sizeof res) == 0)
                row_fail(r, "%s", res.err);
            else
                row_fail(r, "node %d %s before all were linked", ready,
                         b == 0 ? "hung" : "died");
            goto out;
        }
    }
    double link_s = (double)(now_ns() - t_start) / 1e9;
    sleep_ms(500); /* the last links' first frames */
    snapshot s0 = take(kids, nodes);
    sleep_ms((int)(seconds * 1000));
    snapshot s1 = take(kids, nodes);
    int without_inotify = 0;
    uint64_t lost = 0;
    for (int i = 0; i < nodes; i++)
        ctl_send(kids[i].ctl, CTL_GO);
    for (int i = 0; i < nodes; i++) {
        scale_result res;
        int rc = ctl_recv_result(&kids[i], &res, sizeof res, NULL, NULL, 30000);
        if (rc < 0) {
            if (r->status == ROW_OK)
                row_fail(r, "node %d %s at the end", i, rc == -2 ? "hung" : "died");
            continue;
        }
        if (!res.ok && r->status == ROW_OK)
            row_fail(r, "%s", res.err);
        without_inotify += res.inotify == 0;
        lost += res.peers_lost;
    }
    if (r->status != ROW_OK)
        goto out;
    double wall = (double)(s1.t - s0.t) / 1e9;
    r->rate = (double)(s1.run_ns - s0.run_ns) / 1e7 / wall; /* % of one core */
    r->aux = (double)(s1.slices - s0.slices) / wall;
    long hz = sysconf(_SC_CLK_TCK);
    snprintf(r->note, sizeof r->note,
             "%d processes, %d links, all linked in %.1f s; over %.1f s: run time %.1f ms "
             "(schedstat), utime+stime %llu ticks (1/%ld s), %llu times scheduled; "
             "%llu peers lost and linked again%s",
             nodes, nodes * (nodes - 1) / 2, link_s, wall,
             (double)(s1.run_ns - s0.run_ns) / 1e6,
             (unsigned long long)(s1.ticks - s0.ticks), hz,
             (unsigned long long)(s1.slices - s0.slices), (unsigned long long)lost,
             without_inotify ? "; some nodes had no inotify watch (per-user limit)" : "");
out:
    for (int i = 0; i < started; i++)
        if (!kids[i].done && kids[i].ctl >= 0)
            ctl_send(kids[i].ctl, CTL_STOP);
    for (int i = 0; i < started; i++)
        if (child_reap(&kids[i], 10000) < 0 && r->status == ROW_OK)
            row_fail(r, "node %d exited with wait status %d", i, kids[i].exit_status);
    free(kids);
    bench_rmdir(a.dir);
}

void bench_scale(void)
{
    if (!want_transport("ipcnet"))
        return;
    for (int i = 0; i < g_opts.nscale; i++)
        scale_one(g_opts.scale[i], g_opts.scale_seconds);
}
