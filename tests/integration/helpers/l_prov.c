/* SPDX-License-Identifier: MIT */
/*
 * l_prov — a provider node for the liveness tests.
 *
 *   ipcn-test-l_prov <name> <lifetime_s> [hb=MS] [dead=MS] [net=NAME]
 *                    [shared=PATH] [hang=0|1] [thread=0|1] [tick_ms=MS]
 *                    [fork_child=PIDFILE]
 *
 * Announces <name>/data (data, value "value-of-<name>"), <name>/stream (a
 * stream with a "tick-N" sample every tick_ms, default 100) and offers
 * <name>/svc (and shared=PATH when given).  The service echoes its request
 * ("echo:<name>:<body>"); a request "hang" is held unanswered when hang=1
 * (the default) and it is the first one, and "got-hang" is published on the
 * stream so that the test knows it arrived; later ones are answered
 * "answered-by-<name>".  SIGTERM closes the node gracefully, exit 0.
 * count=FILE: each call of the service handler appends one byte to FILE
 * (so that a test counts the requests that ran).
 * fork_child=PIDFILE: once set up, fork a child that inherits every
 * descriptor of the node (its sockets stay open when this process dies),
 * sleeps for at most 20 s, and whose pid is written to PIDFILE.
 * Exit 7 when the name is taken (207), 3 for another open failure, 4 when
 * announcing fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l_common.h"

static const char *g_name;
static char g_stream[128];
static int g_hang = 1;
static int g_held;
static const char *g_count;

static int on_svc(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)user;
    char buf[256];
    if (g_count) {
        FILE *f = fopen(g_count, "a");
        if (f) {
            fputc('x', f);
            fclose(f);
        }
    }
    if (req->len == 4 && !memcmp(req->data, "hang", 4)) {
        if (g_hang && !g_held) {
            g_held = 1;
            (void)ipcn_reply_defer(ctx); /* never answered */
            ipcn_publish(n, g_stream, "got-hang", 8);
            return IPCN_ACCEPTED;
        }
        int k = snprintf(buf, sizeof buf, "answered-by-%s", g_name);
        ipcn_reply_set(ctx, buf, (size_t)k, "text/plain");
        return IPCN_OK;
    }
    int k = snprintf(buf, sizeof buf, "echo:%s:%.*s", g_name, (int)req->len,
                     (const char *)req->data);
    ipcn_reply_set(ctx, buf, (size_t)k, "text/plain");
    return IPCN_OK;
}

static int ok(int st) /* IPCN_IS_OK evaluates its argument twice */
{
    return IPCN_IS_OK(st);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s name lifetime_s [key=value...]\n", argv[0]);
        return 2;
    }
    g_name = argv[1];
    l_helper_setup((unsigned)atoi(argv[2]));
    g_hang = (int)l_opt_long(argc, argv, "hang", 1);
    int thread = (int)l_opt_long(argc, argv, "thread", 0);
    long tick_ms = l_opt_long(argc, argv, "tick_ms", 100);
    const char *shared = l_opt(argc, argv, "shared", NULL);
    g_count = l_opt(argc, argv, "count", NULL);

    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, g_name, &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "l_prov %s: open: %d %s\n", g_name, st, ipcn_status_str(st));
        return st == IPCN_CONFLICT ? 7 : 3;
    }
    char data[128], svc[128], value[128];
    snprintf(data, sizeof data, "%s/data", g_name);
    snprintf(g_stream, sizeof g_stream, "%s/stream", g_name);
    snprintf(svc, sizeof svc, "%s/svc", g_name);
    int vl = snprintf(value, sizeof value, "value-of-%s", g_name);
    int step = 0;
    if (!ok(st = ipcn_announce(n, data, IPCN_DATA, "text/plain", NULL, 0)) ||
        (++step, !ok(st = ipcn_publish(n, data, value, (size_t)vl))) ||
        (++step, !ok(st = ipcn_announce(n, g_stream, IPCN_STREAM, "text/plain",
                                                NULL, 0))) ||
        (++step, !ok(st = ipcn_offer(n, svc, "text/plain", on_svc, NULL))) ||
        (++step, shared && !ok(st = ipcn_offer(n, shared, "text/plain", on_svc,
                                                       NULL)))) {
        fprintf(stderr, "l_prov %s: announcing failed at step %d: %d %s\n", g_name, step,
                st, ipcn_status_str(st));
        ipcn_node_close(n);
        return 4;
    }
    const char *pidfile = l_opt(argc, argv, "fork_child", NULL);
    if (pidfile) {
        pid_t c = fork();
        if (c == 0) {
            alarm(20); /* no PDEATHSIG: it must outlive us */
            for (;;)
                pause();
        }
        FILE *f = fopen(pidfile, "w");
        if (c < 0 || !f || fprintf(f, "%d\n", (int)c) < 0 || fclose(f) != 0) {
            fprintf(stderr, "l_prov %s: fork_child failed\n", g_name);
            return 3;
        }
    }
    if (thread && ipcn_node_start_thread(n) != IPCN_OK) {
        fprintf(stderr, "l_prov %s: no thread\n", g_name);
        ipcn_node_close(n);
        return 3;
    }
    uint64_t next_tick = l_now_ms() + (uint64_t)tick_ms;
    unsigned ticks = 0;
    while (!l_term) {
        if (thread)
            l_sleep_ms(10);
        else
            ipcn_node_dispatch(n, 10);
        if (tick_ms > 0 && l_now_ms() >= next_tick) {
            char t[32];
            int k = snprintf(t, sizeof t, "tick-%u", ++ticks);
            ipcn_publish(n, g_stream, t, (size_t)k);
            next_tick = l_now_ms() + (uint64_t)tick_ms;
        }
    }
    ipcn_node_close(n);
    return 0;
}
