/* SPDX-License-Identifier: MIT */
/* htab.h — an intrusive hash index of string keys: the objects stay in
 * their lists, the index only finds them by key in O(1). */
#ifndef IPCN_HTAB_H
#define IPCN_HTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct ipcn__hnode {
    struct ipcn__hnode *next;
    uint64_t hash;
} ipcn__hnode;

typedef struct ipcn__htab {
    ipcn__hnode **b;
    size_t mask;  /* buckets - 1 (a power of two) */
    size_t count;
} ipcn__htab;

/* The hash of a key (seed 0); the same function for every table. */
uint64_t ipcn__hash(const void *p, size_t n);
/* Index e under e->hash (set by the caller).  Grows as it fills; a failed
 * growth keeps the old buckets, so only the first insertion of an empty
 * table can fail.  100 or 307. */
int ipcn__htab_add(ipcn__htab *t, ipcn__hnode *e);
/* Remove e, which must be in t. */
void ipcn__htab_del(ipcn__htab *t, ipcn__hnode *e);
/* The chain where entries of that hash are, or NULL; callers walk ->next
 * and compare hash and key. */
static inline ipcn__hnode *ipcn__htab_chain(const ipcn__htab *t, uint64_t hash)
{
    return t->b ? t->b[hash & t->mask] : NULL;
}
void ipcn__htab_free(ipcn__htab *t);

#endif
