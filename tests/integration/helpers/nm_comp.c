/* SPDX-License-Identifier: MIT */
/*
 * nm_comp — a component written once, run several times side by side
 * with a different namespace and remap rules each time (the names tests).
 * Its code names things as if it were alone:
 *
 *   ipcn-test-nm_comp <lifetime_s>
 *
 * Opens the node "camera" (namespace, remap rules and suffix from the
 * environment: IPCNET_NAMESPACE, IPCNET_REMAP, IPCNET_NAME_SUFFIX),
 * announces the data "camera/rgb" (value: its node's name), offers
 * "camera/ping" (answers its node's name) and subscribes to "trigger":
 * each sample becomes the new value of "camera/rgb".  SIGTERM closes the
 * node, exit 0.  Exit 7 when the name is taken, 3 for another open
 * failure, 4 when announcing fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l_common.h"

static int on_ping(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)req, (void)user;
    const char *me = ipcn_node_name(n);
    ipcn_reply_set(ctx, me, strlen(me), "text/plain");
    return IPCN_OK;
}

static void on_trigger(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)user;
    if (m->status == IPCN_OK)
        ipcn_publish(n, "camera/rgb", m->data, m->len);
}

int main(int argc, char **argv)
{
    l_helper_setup(argc > 1 ? (unsigned)atoi(argv[1]) : 30);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, "camera", NULL);
    if (st != IPCN_OK) {
        fprintf(stderr, "nm_comp: open: %d %s\n", st, ipcn_status_str(st));
        return st == IPCN_CONFLICT ? 7 : 3;
    }
    const char *me = ipcn_node_name(n);
    ipcn_sub sub;
    if (!IPCN_IS_OK(ipcn_announce(n, "camera/rgb", IPCN_DATA, "text/plain",
                                  NULL, 0)) ||
        ipcn_publish(n, "camera/rgb", me, strlen(me)) != IPCN_OK ||
        ipcn_offer(n, "camera/ping", "text/plain", on_ping, NULL) != IPCN_OK ||
        ipcn_subscribe(n, "trigger", 16, on_trigger, NULL, &sub) != IPCN_OK) {
        fprintf(stderr, "nm_comp %s: announcing failed\n", me);
        ipcn_node_close(n);
        return 4;
    }
    while (!l_term)
        ipcn_node_dispatch(n, 50);
    ipcn_node_close(n);
    return 0;
}
