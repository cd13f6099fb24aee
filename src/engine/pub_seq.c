/* SPDX-License-Identifier: MIT */
/*
 * pub_seq.c — ipcn_publish_seq() (ipcnet_replay.h): a publish whose
 * sequence number the caller gives (a recording played back).  The
 * resource's counter is set one below it, then the publish is the
 * ordinary one (router.c), which numbers it seq.
 */
#include "engine/engine.h"
#include "engine/router.h"
#include "ipcnet_replay.h"

IPCN_API int ipcn_publish_seq(ipcn_node *n, const char *path,
                              const void *data, size_t len, uint64_t seq)
{
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || (len && !data) || seq == 0)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr;
    int st = ipcn__publish_check(n, path, data, len, &lr);
    if (st == IPCN_OK) {
        uint64_t was = lr->seq;
        lr->seq = seq - 1;
        st = ipcn__route_publish(n, lr, data, len);
        if (st != IPCN_OK && lr->seq == seq - 1)
            lr->seq = was; /* nothing went out */
    }
    ipcn__node_unlock(n);
    return st;
}
