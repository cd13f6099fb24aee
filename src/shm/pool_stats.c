/* SPDX-License-Identifier: MIT */
/*
 * pool_stats.c — counting the slots of a node's pools (pool.c): a
 * resource's, for ipcn_pool_get_stats(), and the request pool's, for
 * ipcn_node_stats.shm_request_slots.
 */
#include <string.h>

#include "engine/engine.h"

void ipcn__pool_stats(ipcn_node *n, const char *path, const ipcn__pool *cur,
                      ipcn_pool_stats *s)
{
    ipcn__pool *p;
    ipcn__list_for_each(p, t, &n->pools, ipcn__pool, entry) {
        if (strcmp(p->path, path) != 0)
            continue;
        s->pools++;
        if (p != cur)
            continue;
        s->slots = p->slots;
        s->slot_size = p->slot_size;
        for (uint32_t i = 0; i < p->slots; i++) {
            uint8_t st = p->slot[i].state;
            s->free += st == SLOT_FREE;
            s->loaned += st == SLOT_LOANED;
            s->held += st == SLOT_PUBLISHED;
        }
    }
}

uint32_t ipcn__pool_request_slots(ipcn_node *n)
{
    ipcn_pool_stats s;
    memset(&s, 0, sizeof s);
    ipcn__pool_stats(n, IPCN__REQUEST_POOL, n->request_pool, &s);
    return s.loaned + s.held;
}
