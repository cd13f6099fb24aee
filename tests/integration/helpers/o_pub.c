/* SPDX-License-Identifier: MIT */
/*
 * o_pub — a provider of an owned path for the ownership tests.
 *
 *   ipcn-test-o_pub <name> <lifetime_s> path=PATH [kind=stream|data]
 *                   [strength=N] [warm=0|1] [tick_ms=MS] [hb=MS]
 *                   [dead=MS] [net=NAME]
 *
 * Announces PATH owned (ipcn_announce_owned()) at strength N (default 0),
 * a hot standby unless warm=1, and publishes "<name>:<k>" every tick_ms
 * (default 1: about 1 kHz), from the main thread while the node's own
 * thread does the I/O.  A warm standby's publishes are refused (207)
 * until it owns the path: they are not counted, and k goes on.  Data: the
 * value is the last one published.  SIGTERM closes the node gracefully,
 * exit 0.  Exit 3 when the node does not open, 4 when announcing fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_redundancy.h"
#include "l_common.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s name lifetime_s path=P [key=value...]\n",
                argv[0]);
        return 2;
    }
    const char *name = argv[1];
    l_helper_setup((unsigned)atoi(argv[2]));
    const char *path = l_opt(argc, argv, "path", NULL);
    const char *kind = l_opt(argc, argv, "kind", "stream");
    long tick_ms = l_opt_long(argc, argv, "tick_ms", 1);
    if (!path)
        return 2;
    ipcn_announce_opts ao;
    ipcn_announce_opts_init(&ao);
    ao.strength = (int32_t)l_opt_long(argc, argv, "strength", 0);
    ao.standby = l_opt_long(argc, argv, "warm", 0) ? IPCN_STANDBY_WARM
                                                    : IPCN_STANDBY_HOT;
    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "o_pub %s: open: %d %s\n", name, st,
                ipcn_status_str(st));
        return 3;
    }
    st = ipcn_announce_owned(n, path,
                             !strcmp(kind, "data") ? IPCN_DATA : IPCN_STREAM,
                             "text/plain", NULL, 0, &ao);
    if (!IPCN_IS_OK(st) || ipcn_node_start_thread(n) != IPCN_OK) {
        fprintf(stderr, "o_pub %s: announce %s: %d %s\n", name, path, st,
                ipcn_status_str(st));
        ipcn_node_close(n);
        return 4;
    }
    unsigned k = 0;
    while (!l_term) {
        char v[96];
        int len = snprintf(v, sizeof v, "%s:%u", name, ++k);
        ipcn_publish(n, path, v, (size_t)len);
        l_sleep_ms((unsigned)tick_ms);
    }
    ipcn_node_close(n);
    return 0;
}
