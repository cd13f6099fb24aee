/* SPDX-License-Identifier: MIT */
/*
 * choose.c — which provider a query, request or set goes to next: this
 * node's own, a node's own service (@sys/), or among the peers that
 * provide the path the one ranked first.
 */
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"

bool ipcn__pending_tried(const ipcn__pending *p, uint32_t link_id)
{
    for (uint32_t i = 0; i < p->ntried; i++)
        if (p->tried[i] == link_id)
            return true;
    return false;
}

bool ipcn__provider_avoided(const ipcn__remote *r, uint64_t now)
{
    return r->avoid_until_ns != 0 && now < r->avoid_until_ns;
}

/* Choose a provider not tried yet: the one with the fewest of our requests
 * in flight; a provider that is this node itself counts as link 0.
 * Returns 100 with *link_id set, 203 when there is no provider at all, 303
 * when every provider was tried, 204 when path is of another kind. */
int ipcn__choose(ipcn_node *n, ipcn__pending *p, ipcn_kind want,
                 bool allow_local, uint32_t *link_id)
{
    bool any = false, wrong_kind = false;
    ipcn__remote *r, *best = NULL;
    if (ipcn__sys_path(p->path, strlen(p->path))) {
        /* A node's own service: that node, over its link, or none. */
        if (want != IPCN_SERVICE)
            return IPCN_METHOD_NOT_ALLOWED;
        int st = ipcn__sys_link(n, p->path, link_id);
        if (st == IPCN_OK && (ipcn__pending_tried(p, *link_id) || (!*link_id && !allow_local)))
            st = IPCN_SERVICE_UNAVAILABLE;
        return st;
    }
    ipcn__local *lr = ipcn__local_find(n, p->path);
    if (lr) {
        if (lr->kind != want)
            wrong_kind = true;
        else if (!ipcn__pending_tried(p, 0) && allow_local) {
            *link_id = 0;
            return IPCN_OK;
        } else
            any = true;
    }
    ipcn__list_for_each(r, t, &n->remotes, ipcn__remote, entry) {
        /* A provider the policy does not let provide it is not asked. */
        if (r->denied || strcmp(r->path, p->path) != 0)
            continue;
        if (r->kind != want) {
            wrong_kind = true;
            continue;
        }
        any = true;
        if (ipcn__pending_tried(p, r->link_id))
            continue;
        if (!best || r->inflight < best->inflight)
            best = r;
    }
    if (best) {
        /* Rotate equally loaded providers: move the chosen one to the end. */
        ipcn__list_remove(&best->entry);
        ipcn__list_insert_tail(&n->remotes, &best->entry);
        *link_id = best->link_id;
        return IPCN_OK;
    }
    if (any)
        return IPCN_SERVICE_UNAVAILABLE;
    return wrong_kind ? IPCN_METHOD_NOT_ALLOWED : IPCN_NOT_FOUND;
}

