/* SPDX-License-Identifier: MIT */
/*
 * f_server — a file service for tests/integration/test_files.c.
 *
 *   ipcn-test-f_server <name> <lifetime_s> <dir> [path=files] [nosym=1]
 *                      [also=PATH2:DIR2] [thread=1] [net=NAME]
 *
 * Offers <dir> at <path> (ipcn_files_offer, IPCN_FILES_NO_SYMLINKS with
 * nosym=1) and, with also=, a second directory at a second path; prints
 * "ready" and serves from a dispatch loop (or the node's thread with
 * thread=1) until SIGTERM, then withdraws the services (ipcn_files_unoffer)
 * and exits 0.  Exit 3 when the node cannot open, 4 when an offer fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_files.h"
#include "l_common.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s name lifetime_s dir [key=value...]\n", argv[0]);
        return 2;
    }
    l_helper_setup((unsigned)atoi(argv[2]));
    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, argv[1], &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "f_server: open: %d %s\n", st, ipcn_status_str(st));
        return 3;
    }
    const char *path = l_opt(argc, argv, "path", "files");
    uint32_t flags = l_opt_long(argc, argv, "nosym", 0) ? IPCN_FILES_NO_SYMLINKS : 0;
    if ((st = ipcn_files_offer(n, path, argv[3], flags)) != IPCN_OK) {
        fprintf(stderr, "f_server: offer %s: %d %s\n", path, st, ipcn_status_str(st));
        ipcn_node_close(n);
        return 4;
    }
    char also[1024] = "";
    const char *a = l_opt(argc, argv, "also", NULL);
    if (a) {
        snprintf(also, sizeof also, "%s", a);
        char *colon = strchr(also, ':');
        if (!colon)
            return 2;
        *colon = 0;
        if ((st = ipcn_files_offer(n, also, colon + 1, flags)) != IPCN_OK) {
            fprintf(stderr, "f_server: offer %s: %d %s\n", also, st,
                    ipcn_status_str(st));
            ipcn_node_close(n);
            return 4;
        }
    }
    bool threaded = l_opt_long(argc, argv, "thread", 0) != 0;
    if (threaded)
        ipcn_node_start_thread(n);
    printf("ready\n");
    while (!l_term) {
        if (threaded)
            l_sleep_ms(20);
        else
            ipcn_node_dispatch(n, 50);
    }
    ipcn_files_unoffer(n, path);
    if (also[0])
        ipcn_files_unoffer(n, also);
    ipcn_node_close(n);
    return 0;
}
