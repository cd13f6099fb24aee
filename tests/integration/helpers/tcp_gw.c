/* SPDX-License-Identifier: MIT */
/*
 * tcp_gw — a gateway node for the TCP link tests (test_tcp_link.c).
 *
 *   ipcn-test-tcp_gw <name> <lifetime_s> cfg=DIR [listen=tcp://A:P]
 *                    [peers=tcp://A:P,...] [out=FILE] [hb=MS] [dead=MS]
 *
 * Its IPCNET_DIR is the caller's environment; cfg is its config directory
 * (host.key, default/trusted).  Announces <name>/data ("value-of-<name>"),
 * <name>/stream (a "tick-N" sample every 50 ms) and offers <name>/svc
 * (answers "echo:<name>:<body>"), then becomes a gateway.  On SIGTERM it
 * writes to FILE "unauthorized=U auth_failures=A got309=G" (G: its links
 * closed because the peer answered 309) and exits 0.  Exit 3 when the node
 * cannot open, 5 when it cannot be a gateway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_hosts.h"
#include "l_common.h"

static const char *g_name;
static volatile int g_got309;

static void on_log(ipcn_log_level level, const char *id, const char *msg,
                   void *user)
{
    (void)user;
    if (!strcmp(id, "IPCN-LINK-DOWN") && strstr(msg, "closed: 309 "))
        __atomic_add_fetch(&g_got309, 1, __ATOMIC_RELAXED);
    if (level <= IPCN_LOG_WARN)
        fprintf(stderr, "[%s] %s\n", id, msg);
}

static int on_svc(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)n, (void)user;
    char buf[256];
    int k = snprintf(buf, sizeof buf, "echo:%s:%.*s", g_name, (int)req->len,
                     (const char *)req->data);
    ipcn_reply_set(ctx, buf, (size_t)k, "text/plain");
    return IPCN_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s name lifetime_s cfg=DIR [key=value...]\n", argv[0]);
        return 2;
    }
    g_name = argv[1];
    l_helper_setup((unsigned)atoi(argv[2]));
    ipcn_set_log(IPCN_LOG_INFO, on_log, NULL);
    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, g_name, &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "tcp_gw %s: open: %d\n", g_name, st);
        return 3;
    }
    char data[128], stream[128], svc[128], value[128];
    snprintf(data, sizeof data, "%s/data", g_name);
    snprintf(stream, sizeof stream, "%s/stream", g_name);
    snprintf(svc, sizeof svc, "%s/svc", g_name);
    int vl = snprintf(value, sizeof value, "value-of-%s", g_name);
    if (!IPCN_IS_OK(ipcn_announce(n, data, IPCN_DATA, "text/plain", NULL, 0)) ||
        ipcn_publish(n, data, value, (size_t)vl) != IPCN_OK ||
        !IPCN_IS_OK(ipcn_announce(n, stream, IPCN_STREAM, "text/plain", NULL, 0)) ||
        !IPCN_IS_OK(ipcn_offer(n, svc, "text/plain", on_svc, NULL))) {
        fprintf(stderr, "tcp_gw %s: announcing failed\n", g_name);
        return 4;
    }
    ipcn_gateway_opts g;
    ipcn_gateway_opts_init(&g);
    g.config_dir = l_opt(argc, argv, "cfg", NULL);
    g.listen = l_opt(argc, argv, "listen", "");
    g.peers = l_opt(argc, argv, "peers", "");
    g.redial_max_ms = 500;
    if ((st = ipcn_node_gateway(n, &g)) != IPCN_OK) {
        fprintf(stderr, "tcp_gw %s: gateway: %d %s\n", g_name, st, ipcn_status_str(st));
        ipcn_node_close(n);
        return 5;
    }
    uint64_t next = l_now_ms() + 50;
    unsigned ticks = 0;
    while (!l_term) {
        ipcn_node_dispatch(n, 10);
        if (l_now_ms() >= next) {
            char t[32];
            int k = snprintf(t, sizeof t, "tick-%u", ++ticks);
            ipcn_publish(n, stream, t, (size_t)k);
            next = l_now_ms() + 50;
        }
    }
    ipcn_node_stats s = {.size = sizeof s};
    ipcn_node_get_stats(n, &s);
    const char *out = l_opt(argc, argv, "out", NULL);
    if (out) {
        FILE *f = fopen(out, "w");
        if (f) {
            fprintf(f, "unauthorized=%llu auth_failures=%llu got309=%d\n",
                    (unsigned long long)s.unauthorized,
                    (unsigned long long)s.auth_failures,
                    __atomic_load_n(&g_got309, __ATOMIC_RELAXED));
            fclose(f);
        }
    }
    ipcn_node_close(n);
    return 0;
}
