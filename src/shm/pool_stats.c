/* SPDX-License-Identifier: MIT */
/*
 * pool_stats.c — counting the slots of a node's pools (pool.c): a
 * resource's, for ipcn_pool_get_stats(), and the request pools', for
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

/* Every request pool counts, the retired ones too (pool.c retires one
 * whose link closed while a provider may still read it): a slot held in
 * one is held all the same, and a leak check must see it. */
uint32_t ipcn__pool_request_slots(ipcn_node *n)
{
    uint32_t k = 0;
    ipcn__pool *p;
    ipcn__list_for_each(p, t, &n->pools, ipcn__pool, entry) {
        if (strcmp(p->path, IPCN__REQUEST_POOL) != 0)
            continue;
        for (uint32_t i = 0; i < p->slots; i++)
            k += p->slot[i].state != SLOT_FREE;
    }
    return k;
}
