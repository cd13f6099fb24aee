/* SPDX-License-Identifier: MIT */
/* htab.c — the hash index behind path lookups on the hot paths. */
#include "util/htab.h"

#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util/util.h"

uint64_t ipcn__hash(const void *p, size_t n) { return XXH3_64bits(p, n); }

static void rehash(ipcn__htab *t, ipcn__hnode **nb, size_t mask)
{
    for (size_t i = 0; t->b && i <= t->mask; i++) {
        ipcn__hnode *e = t->b[i];
        while (e) {
            ipcn__hnode *next = e->next;
            e->next = nb[e->hash & mask];
            nb[e->hash & mask] = e;
            e = next;
        }
    }
    ipcn__free(t->b);
    t->b = nb;
    t->mask = mask;
}

int ipcn__htab_add(ipcn__htab *t, ipcn__hnode *e)
{
    if (!t->b || t->count >= t->mask + 1) {
        size_t nbk = t->b ? (t->mask + 1) * 2 : 16;
        ipcn__hnode **nb = ipcn__calloc(nbk, sizeof *nb);
        if (nb)
            rehash(t, nb, nbk - 1);
        else if (!t->b)
            return IPCN_INSUFFICIENT_MEMORY;
    }
    ipcn__hnode **head = &t->b[e->hash & t->mask];
    e->next = *head;
    *head = e;
    t->count++;
    return IPCN_OK;
}

void ipcn__htab_del(ipcn__htab *t, ipcn__hnode *e)
{
    for (ipcn__hnode **pp = &t->b[e->hash & t->mask]; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            e->next = NULL;
            t->count--;
            return;
        }
    }
}

void ipcn__htab_free(ipcn__htab *t)
{
    ipcn__free(t->b);
    memset(t, 0, sizeof *t);
}
