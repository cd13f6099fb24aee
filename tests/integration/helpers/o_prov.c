/* SPDX-License-Identifier: MIT */
/*
 * o_prov — a provider of a service run at most once, for test_once.
 *
 *   ipcn-test-o_prov <name> <path> <marker> [lifetime_s]
 *
 * Offers <path> (ipcn_offer_set_opts(): at most once); its handler appends
 * one byte to the file <marker> (so that the test knows that it runs, and
 * how often) and never answers: the test kills this process while the
 * request runs.  Once the service is offered at most once, the file
 * <marker>.ready is made (a peer that links after it learns of the service
 * as run at most once from the first announce).  Exits 0 after lifetime_s (default 60) seconds, 3 when the
 * node does not open, 4 when the offer fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipcnet.h"
#include "ipcnet_redundancy.h"

static const char *g_marker;

static int on_svc(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)n, (void)req, (void)user;
    FILE *f = fopen(g_marker, "a");
    if (f) {
        fputc('x', f);
        fclose(f);
    }
    (void)ipcn_reply_defer(ctx); /* never answered */
    return IPCN_ACCEPTED;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    g_marker = argv[3];
    int lifetime = argc > 4 ? atoi(argv[4]) : 60;
    ipcn_node *n = NULL;
    if (ipcn_node_open(&n, argv[1], NULL) != IPCN_OK ||
        ipcn_node_start_thread(n) != IPCN_OK)
        return 3;
    ipcn_offer_opts o;
    ipcn_offer_opts_init(&o);
    o.at_most_once = true;
    if (ipcn_offer(n, argv[2], "", on_svc, NULL) != IPCN_OK ||
        ipcn_offer_set_opts(n, argv[2], &o) != IPCN_OK)
        return 4;
    char ready[1024];
    snprintf(ready, sizeof ready, "%s.ready", g_marker);
    FILE *f = fopen(ready, "w");
    if (f)
        fclose(f);
    sleep((unsigned)lifetime);
    ipcn_node_close(n);
    return 0;
}
