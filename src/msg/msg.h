/* SPDX-License-Identifier: MIT */
/*
 * msg.h — the message object (msg.c): the public ipcn_msg plus its
 * storage, counted references, and where its memory goes back.
 *
 * It sits below shm, node and engine so that all of them may make and
 * free messages; what a message holds beyond its own bytes (a slot of a
 * peer's pool, mapped by shm/map.c) is let go of through its release
 * hook, so this layer calls nothing above it.
 */
#ifndef IPCN_MSG_H
#define IPCN_MSG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"
#include "msg/msgpool.h"
#include "util/list.h"

struct ipcn__shm_map;

/* A message: the public struct plus its storage. */
typedef struct ipcn__msg {
    ipcn__list entry;
    atomic_uint refs;       /* ipcn_msg_ref(); the last ipcn_msg_free() frees */
    struct ipcn__shm_map *map; /* a shared sample's mapping, or NULL */
    /* Called by the last ipcn_msg_free() before the memory goes, when
     * set: lets go of what the message holds besides it (a mapped slot). */
    void (*release)(struct ipcn__msg *m);
    ipcn__msgpool *pool;    /* where its block goes back, or NULL */
    uint32_t slot, gen;
    uint64_t checksum;      /* shared: XXH3-64 taken at publish */
    bool has_checksum;      /* the publisher took it */
    void *priv;             /* a writable view's private mapping */
    size_t priv_len;
    uint8_t *prov;          /* its provenance record (allocated), or NULL */
    uint32_t prov_len;
    ipcn_msg pub;
    char buf[];             /* path, encoding, src_name, data, NUL */
} ipcn__msg;

/* A message with those strings and a copy of data (NULL with len 0: no
 * data), one reference, status 100; NULL when out of memory. */
ipcn__msg *ipcn__msg_new(const char *path, size_t pathlen, const char *enc,
                         size_t enclen, const char *src, uint64_t src_id,
                         const void *data, size_t len);
/* The same, in a block of *pool (made on first use) when it is small: no
 * allocation once the pool is warm.  Freed as any message
 * (ipcn_msg_free()).  The pool's owner's thread, under its lock. */
ipcn__msg *ipcn__msg_new_in(ipcn__msgpool **pool, const char *path,
                            size_t pathlen, const char *enc, size_t enclen,
                            const char *src, size_t srclen, uint64_t src_id,
                            const void *data, size_t len);

/* Give m a copy of the encoded provenance record rec (len bytes): 100,
 * 307. */
int ipcn__msg_set_prov(ipcn__msg *m, const uint8_t *rec, uint32_t len);

#endif
