/* SPDX-License-Identifier: MIT */
/*
 * idle.c — what an idle node costs: a node on its own thread, linked to two
 * idle peers (other processes), measured over a few seconds of nothing.
 * CPU time from /proc/self/stat (utime + stime, clock ticks) and from
 * getrusage (microseconds); wake-ups from the schedstat of every thread.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

typedef struct idle_args {
    char dir[256];
    double seconds;
} idle_args;

typedef struct idle_result {
    int ok;
    char err[200];
    double wall_s;
    uint64_t ticks;        /* utime + stime delta, clock ticks */
    long hz;
    uint64_t rusage_us;    /* user + system delta */
    uint64_t slices;       /* times scheduled, all threads */
} idle_result;

static void node_opts(ipcn_node_opts *o, const char *dir)
{
    ipcn_node_opts_init(o);
    o->dir = dir;
    o->network = "bench";
}

static int idle_peer(child *c)
{
    idle_args *a = c->arg;
    char name[32];
    snprintf(name, sizeof name, "idle-peer%d", c->index);
    ipcn_node_opts o;
    node_opts(&o, a->dir);
    ipcn_node *n = NULL;
    if (ipcn_node_open(&n, name, &o) != IPCN_OK || ipcn_node_start_thread(n) != IPCN_OK)
        return 1;
    ctl_send(c->ctl, CTL_READY);
    int b;
    while ((b = ctl_wait(&(child){.ctl = c->ctl}, 1000)) == 0)
        ;
    ipcn_node_close(n);
    return 0;
}

static uint64_t stat_ticks(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return 0;
    char buf[2048];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* Fields after the command name (which may hold spaces): state is 3rd,
     * utime 14th, stime 15th. */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    unsigned long long ut = 0, st = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
               &st) != 2)
        return 0;
    return ut + st;
}

static uint64_t rusage_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
           (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

static uint64_t sched_slices(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        unsigned long long run, wait, slices;
        if (fscanf(f, "%llu %llu %llu", &run, &wait, &slices) == 3)
            total += slices;
        fclose(f);
    }
    closedir(d);
    return total;
}

static int idle_measured(child *c)
{
    idle_args *a = c->arg;
    idle_result res = {0};
    ipcn_node_opts o;
    node_opts(&o, a->dir);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, "idle-node", &o);
    if (st == IPCN_OK)
        st = ipcn_node_start_thread(n);
    if (st == IPCN_OK)
        st = ipcn_node_wait_peers(n, 2, 10000);
    if (st != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "open/thread/wait for 2 peers: %d %s", st,
                 ipcn_status_str(st));
        goto done;
    }
    sleep_ms(500); /* let the announcements settle */
    uint64_t t0 = now_ns(), k0 = stat_ticks(), r0 = rusage_us(), s0 = sched_slices();
    sleep_ms((int)(a->seconds * 1000));
    uint64_t t1 = now_ns(), k1 = stat_ticks(), r1 = rusage_us(), s1 = sched_slices();
    ipcn_node_stats ns = {.size = sizeof ns};
    ipcn_node_get_stats(n, &ns);
    if (ns.peers != 2) {
        snprintf(res.err, sizeof res.err, "%u peers linked at the end, not 2", ns.peers);
        goto done;
    }
    res.wall_s = (double)(t1 - t0) / 1e9;
    res.ticks = k1 - k0;
    res.hz = sysconf(_SC_CLK_TCK);
    res.rusage_us = r1 - r0;
    res.slices = s1 - s0;
    res.ok = 1;
done:
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    ipcn_node_close(n);
    return res.ok ? 0 : 1;
}

void bench_idle(void)
{
    if (!want_transport("ipcnet"))
        return;
    row *r = row_new("idle", "ipcnet", "node thread, 2 idle peers");
    idle_args a = {.seconds = g_opts.idle_seconds};
    if (bench_tmpdir(a.dir, sizeof a.dir) < 0) {
        row_fail(r, "mkdtemp: %s", strerror(errno));
        return;
    }
    child peers[2] = {{0}}, m = {0};
    for (int i = 0; i < 2; i++) {
        if (child_spawn(&peers[i], "idle-peer", 1 + i, idle_peer, &a) < 0 ||
            ctl_wait(&peers[i], 15000) != CTL_READY) {
            row_fail(r, "idle peer %d did not start", i);
            goto out;
        }
    }
    if (child_spawn(&m, "idle-node", 0, idle_measured, &a) < 0) {
        row_fail(r, "fork: %s", strerror(errno));
        goto out;
    }
    idle_result res;
    int rc = ctl_recv_result(&m, &res, sizeof res, NULL, NULL,
                             30000 + (int)(a.seconds * 1000));
    if (rc < 0) {
        row_fail(r, "the measured node %s", rc == -2 ? "hung" : "died");
        goto out;
    }
    if (!res.ok) {
        row_fail(r, "%s", res.err);
        goto out;
    }
    r->rate = (double)res.rusage_us / 1e4 / res.wall_s; /* percent of one core */
    r->aux = (double)res.slices / res.wall_s;
    snprintf(r->note, sizeof r->note,
             "over %.1f s: /proc/self/stat utime+stime %llu ticks (1/%ld s), getrusage "
             "%llu us, %llu times scheduled",
             res.wall_s, (unsigned long long)res.ticks, res.hz,
             (unsigned long long)res.rusage_us, (unsigned long long)res.slices);
out:
    for (int i = 0; i < 2; i++)
        if (peers[i].pid)
            ctl_send(peers[i].ctl, CTL_STOP);
    if (m.pid && child_reap(&m, 5000) < 0 && r->status == ROW_OK)
        row_fail(r, "the measured node exited with wait status %d", m.exit_status);
    for (int i = 0; i < 2; i++)
        if (peers[i].pid && child_reap(&peers[i], 5000) < 0 && r->status == ROW_OK)
            row_fail(r, "idle peer %d exited with wait status %d", i,
                     peers[i].exit_status);
    bench_rmdir(a.dir);
}
