/* SPDX-License-Identifier: MIT */
/*
 * wait_for.c — ipcn_wait_for(): until the directory holds a resource that
 * matches.  The directory changes only in I/O rounds (a peer's ANNOUNCE, a
 * link that comes up) or by a call of this node's own (announce), so the
 * wait looks again after each round: one it runs itself, or one that the
 * thread that pumps the node ends with a broadcast (node/wait.c).  Either
 * way it sleeps in the kernel in between.
 */
#include <string.h>

#include "engine/engine.h"

IPCN_API int ipcn_wait_for(ipcn_node *n, const char *pattern, ipcn_kind kind,
                           int timeout_ms, ipcn_resource_list **out)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_pattern[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &pattern, wire_pattern) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !pattern ||
        ipcn__pattern_check(pattern, strlen(pattern)) != IPCN_OK ||
        (unsigned)kind > IPCN_SERVICE)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    uint64_t deadline = ipcn__deadline_ms(timeout_ms);
    int st;
    /* What came since the last round (a peer's announce) counts first. */
    ipcn__node_poll(n);
    for (;;) {
        size_t found = 0;
        st = ipcn__dir_find(n, pattern, kind, NULL, &found);
        if (st == IPCN_OK && found) {
            if (out)
                st = ipcn__dir_find(n, pattern, kind, out, &found);
            break;
        }
        if (st != IPCN_OK)
            break;
        if (n->shut) {
            st = IPCN_SERVICE_UNAVAILABLE;
            break;
        }
        if (timeout_ms == 0 ||
            (deadline && ipcn__now_mono_ns() >= deadline)) {
            st = IPCN_GATEWAY_TIMEOUT;
            break;
        }
        if ((st = ipcn__node_wait_round(n, deadline)) != IPCN_OK)
            break;
    }
    ipcn__node_unlock(n);
    return st;
}
