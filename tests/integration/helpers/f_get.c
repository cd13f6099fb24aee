/* SPDX-License-Identifier: MIT */
/*
 * f_get — a fetch through the file service that a test can interrupt,
 * for tests/integration/test_files.c.
 *
 *   ipcn-test-f_get <name> <lifetime_s> <path> <dest> [pause_after=BYTES]
 *                   [inflight=N] [read_size=BYTES] [net=NAME]
 *
 * Waits (at most 5 s) until a file service is known, then calls
 * ipcn_files_get(path, dest).  With pause_after, once that many bytes are
 * verified it prints "paused <done>" and stops itself (SIGSTOP: every
 * thread, requests in flight included) until the test kills it with
 * SIGKILL: a fetch interrupted for real.  Otherwise it
 * prints "status=N fetched=N resumed=N size=N" and exits 0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_files.h"
#include "l_common.h"

static uint64_t pause_after;

static int on_progress(uint64_t done, uint64_t total, uint64_t fetched, void *user)
{
    (void)total, (void)fetched, (void)user;
    if (pause_after && done >= pause_after) {
        printf("paused %" PRIu64 "\n", done);
        fflush(stdout);
        for (;;)
            raise(SIGSTOP);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s name lifetime_s path dest [key=value...]\n", argv[0]);
        return 2;
    }
    l_helper_setup((unsigned)atoi(argv[2]));
    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, argv[1], &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "f_get: open: %d %s\n", st, ipcn_status_str(st));
        return 3;
    }
    pause_after = (uint64_t)l_opt_long(argc, argv, "pause_after", 0);
    ipcn_files_get_opts go;
    ipcn_files_get_opts_init(&go);
    go.inflight = (uint32_t)l_opt_long(argc, argv, "inflight", 0);
    go.read_size = (uint32_t)l_opt_long(argc, argv, "read_size", 0);
    go.progress = on_progress;
    uint64_t end = l_now_ms() + 5000;
    ipcn_files_result r = {.size = sizeof r};
    for (;;) {
        ipcn_node_wait_synced(n, 200);
        st = ipcn_files_get(n, argv[3], argv[4], &go, &r);
        if (st != IPCN_NOT_FOUND || l_now_ms() >= end)
            break;
        l_sleep_ms(20);
    }
    printf("status=%d fetched=%" PRIu64 " resumed=%" PRIu64 " size=%" PRIu64 "\n", st,
           r.bytes_fetched, r.bytes_resumed, r.file_size);
    ipcn_node_close(n);
    return 0;
}
