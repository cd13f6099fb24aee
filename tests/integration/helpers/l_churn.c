/* SPDX-License-Identifier: MIT */
/*
 * l_churn — open and close a node many times against a long-lived one.
 *
 *   ipcn-test-l_churn <lifetime_s> <cycles> <name_a> <name_b> <service>
 *
 * Each cycle opens a node (named name_a and name_b in turn), waits for a
 * link, announces a stream, subscribes to everything, requests <service>
 * (expects 100) and closes gracefully.  Exit 0 when every cycle did all
 * that, 1 (with the reason on stderr) at the first one that did not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l_common.h"

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s lifetime_s cycles name_a name_b service\n", argv[0]);
        return 2;
    }
    l_helper_setup((unsigned)atoi(argv[1]));
    int cycles = atoi(argv[2]);
    const char *service = argv[5];
    for (int c = 0; c < cycles && !l_term; c++) {
        const char *name = argv[3 + (c & 1)];
        ipcn_node *n = NULL;
        int st = ipcn_node_open(&n, name, NULL);
        if (st != IPCN_OK) {
            fprintf(stderr, "l_churn: cycle %d: open %s: %d\n", c, name, st);
            return 1;
        }
        char path[128];
        snprintf(path, sizeof path, "churn/%s/%d", name, c);
        ipcn_sub sub;
        ipcn_msg *reply = NULL;
        if ((st = ipcn_node_wait_peers(n, 1, 5000)) != IPCN_OK ||
            (st = ipcn_announce(n, path, IPCN_STREAM, "text/plain", "m", 1)) < 100 ||
            st > 101 ||
            (st = ipcn_subscribe(n, "**", 4, NULL, NULL, &sub)) != IPCN_OK ||
            (st = ipcn_request(n, service, "x", 1, "text/plain", &reply, 5000)) !=
                IPCN_OK) {
            fprintf(stderr, "l_churn: cycle %d (%s): status %d\n", c, name, st);
            ipcn_msg_free(reply);
            ipcn_node_close(n);
            return 1;
        }
        ipcn_msg_free(reply);
        ipcn_publish(n, path, "bye", 3);
        ipcn_node_close(n);
    }
    return 0;
}
