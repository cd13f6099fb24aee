/* SPDX-License-Identifier: MIT */
/*
 * scale_zmq.c — the ZeroMQ rows of the scale benchmark: N processes, each
 * with a PUB bound on ipc://dir/zNNN and one SUB connected to the N-1 other
 * PUBs (what a ZeroMQ system where everyone may hear everyone looks like).
 * A process says it is ready once its SUB has received a hello from every
 * other process (the link checked, not assumed); then all stop talking and
 * the parent reads the same figures as for IPCNet: idle CPU of the whole
 * set, memory and file descriptors per process.
 *
 * What ZeroMQ cannot express is said, not invented: it has no discovery
 * (a process is given the addresses to connect to, so "a new node synced"
 * has no meaning) and no notice of a peer gone (a SUB reconnects silently),
 * so the sync and drop columns stay empty with a note.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#ifndef BENCH_HAVE_ZMQ

void scale_zmq(int nodes, double seconds)
{
    (void)seconds;
    char variant[40];
    snprintf(variant, sizeof variant, "%d idle processes", nodes);
    row_set_status(row_new("scale", "zmq", variant), ROW_NOT_INSTALLED,
                   "built without libzmq (apt-get install libzmq3-dev)");
}

#else

#include <poll.h>
#include <unistd.h>
#include <zmq.h>

#define SCALE_ZMQ_LIFE_S 600

typedef struct zargs {
    char dir[256];
    int nodes;
} zargs;

typedef struct zresult {
    int ok;
    char err[160];
} zresult;

static int zfail(child *c, zresult *res, void *ctx)
{
    ctl_send_result(c->ctl, res, sizeof *res, NULL, 0);
    if (ctx)
        zmq_ctx_term(ctx);
    return 1;
}

static int zmq_node(child *c)
{
    zargs *a = c->arg;
    zresult res = {0};
    char ep[300];
    void *ctx = zmq_ctx_new();
    void *pub = ctx ? zmq_socket(ctx, ZMQ_PUB) : NULL;
    void *sub = ctx ? zmq_socket(ctx, ZMQ_SUB) : NULL;
    if (!pub || !sub) {
        snprintf(res.err, sizeof res.err, "zmq_socket: %s", zmq_strerror(zmq_errno()));
        return zfail(c, &res, NULL);
    }
    int linger = 0;
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    snprintf(ep, sizeof ep, "ipc://%s/z%03d", a->dir, c->index);
    if (zmq_bind(pub, ep) != 0) {
        snprintf(res.err, sizeof res.err, "bind %.100s: %s", ep, zmq_strerror(zmq_errno()));
        zmq_close(pub);
        zmq_close(sub);
        return zfail(c, &res, ctx);
    }
    for (int j = 0; j < a->nodes; j++) {
        if (j == c->index)
            continue;
        snprintf(ep, sizeof ep, "ipc://%s/z%03d", a->dir, j);
        if (zmq_connect(sub, ep) != 0) {
            snprintf(res.err, sizeof res.err, "connect %.100s: %s", ep, zmq_strerror(zmq_errno()));
            zmq_close(pub);
            zmq_close(sub);
            return zfail(c, &res, ctx);
        }
    }
    /* Hello every interval until the parent says all have heard all. */
    unsigned char *seen = calloc((size_t)a->nodes, 1);
    int heard = 0, interval = a->nodes * 5 < 50 ? 50 : a->nodes * 5;
    bool ready = false;
    uint64_t next = 0, give_up = now_ns() + (uint64_t)(60000 + 1000 * a->nodes) * 1000000ull;
    int b = 0;
    while (seen && !b) {
        uint64_t now = now_ns();
        if (now >= give_up) {
            snprintf(res.err, sizeof res.err, "zmq %d: heard %d of %d others", c->index, heard,
                     a->nodes - 1);
            break;
        }
        if (now >= next) {
            int32_t me = c->index;
            zmq_send(pub, &me, sizeof me, ZMQ_DONTWAIT);
            next = now + (uint64_t)interval * 1000000ull;
        }
        zmq_pollitem_t it[2] = {{sub, 0, ZMQ_POLLIN, 0}, {NULL, c->ctl, ZMQ_POLLIN, 0}};
        if (zmq_poll(it, 2, interval) < 0 && zmq_errno() != EINTR)
            break;
        int32_t who;
        while (zmq_recv(sub, &who, sizeof who, ZMQ_DONTWAIT) == (int)sizeof who)
            if (who >= 0 && who < a->nodes && who != c->index && !seen[who]) {
                seen[who] = 1;
                heard++;
            }
        if (!ready && heard == a->nodes - 1) {
            ready = true;
            ctl_send(c->ctl, CTL_READY);
        }
        if (it[1].revents)
            b = ctl_wait(&(child){.ctl = c->ctl}, 0);
    }
    free(seen);
    if (!ready) {
        if (!res.err[0])
            snprintf(res.err, sizeof res.err, "zmq %d: out of memory or poll failed", c->index);
        zmq_close(pub);
        zmq_close(sub);
        return zfail(c, &res, ctx);
    }
    /* Idle until told to stop; the sockets stay connected. */
    if (b == CTL_GO)
        (void)ctl_wait(&(child){.ctl = c->ctl}, SCALE_ZMQ_LIFE_S * 1000);
    zmq_close(pub);
    zmq_close(sub);
    zmq_ctx_term(ctx);
    return 0;
}

void scale_zmq(int nodes, double seconds)
{
    char variant[40];
    snprintf(variant, sizeof variant, "%d idle processes", nodes);
    row *r = row_new("scale", "zmq", variant);
    r->n = (uint64_t)nodes;
    r->sync_ms = -1;
    zargs a = {.nodes = nodes};
    if (bench_tmpdir(a.dir, sizeof a.dir) < 0) {
        row_fail(r, "mkdtemp: %s", strerror(errno));
        return;
    }
    child *kids = calloc((size_t)nodes, sizeof *kids);
    pid_t *pids = calloc((size_t)nodes, sizeof *pids);
    int started = 0;
    if (!kids || !pids) {
        row_fail(r, "out of memory");
        goto out;
    }
    uint64_t t_start = now_ns();
    for (; started < nodes; started++) {
        if (child_spawn(&kids[started], "scale-zmq", started, zmq_node, &a) < 0) {
            row_fail(r, "fork of process %d: %s", started, strerror(errno));
            goto out;
        }
        pids[started] = kids[started].pid;
    }
    uint64_t deadline = now_ns() + (uint64_t)(70000 + 1000 * nodes) * 1000000ull;
    for (int i = 0; i < nodes; i++) {
        uint64_t now = now_ns();
        int left = now < deadline ? (int)((deadline - now) / 1000000ull) + 1 : 1;
        int b = ctl_wait(&kids[i], left);
        if (b != CTL_READY) {
            zresult res;
            if (b == 'X' && readn(kids[i].ctl, (uint64_t[2]){0}, 16) == 0 &&
                readn(kids[i].ctl, &res, sizeof res) == 0)
                row_fail(r, "%s", res.err);
            else
                row_fail(r, "process %d %s before all heard all", i, b == 0 ? "hung" : "died");
            goto out;
        }
    }
    double link_s = (double)(now_ns() - t_start) / 1e9;
    for (int i = 0; i < nodes; i++)
        ctl_send(kids[i].ctl, CTL_GO);
    sleep_ms(500); /* the last hellos delivered */
    scale_snap s0 = scale_take(pids, nodes);
    sleep_ms((int)(seconds * 1000));
    scale_snap s1 = scale_take(pids, nodes);
    scale_memfd mean, max;
    if (scale_mem_all(pids, nodes, &mean, &max) < 0) {
        row_fail(r, "could not read /proc/<pid>/smaps_rollup or fd of a process");
        goto out;
    }
    scale_fill(r, nodes, &s0, &s1, &mean);
    snprintf(r->note, sizeof r->note,
             "%d processes, a PUB each and a SUB connected to the %d others (%d "
             "connections), each heard every other in %.1f s; idle over %.1f s: run time "
             "%.1f ms; per process max RSS %llu KiB, fds max %llu; sync: no discovery in "
             "ZeroMQ (addresses are given), drop: no notice of a peer gone (a SUB "
             "reconnects silently) - neither measured",
             nodes, nodes - 1, nodes * (nodes - 1), link_s, (double)(s1.t - s0.t) / 1e9,
             (double)(s1.run_ns - s0.run_ns) / 1e6, (unsigned long long)max.rss_kib,
             (unsigned long long)max.fds);
out:
    for (int i = 0; kids && i < started; i++)
        if (!kids[i].done && kids[i].ctl >= 0)
            ctl_send(kids[i].ctl, CTL_STOP);
    for (int i = 0; kids && i < started; i++)
        if (child_reap(&kids[i], 10000) < 0 && r->status == ROW_OK)
            row_fail(r, "process %d exited with wait status %d", i, kids[i].exit_status);
    free(kids);
    free(pids);
    bench_rmdir(a.dir);
}

#endif
