/* SPDX-License-Identifier: MIT */
/*
 * shm.h — shared-memory samples: the publisher's pools (pool.c) and the
 * reader's mappings of its peers' pools (map.c).
 *
 * A pool is a sealed memfd cut into page-aligned slots.  The publisher
 * keeps, per slot, which links hold it; a link that closes holds nothing.
 * A reader maps each pool once, read-only, and counts its own messages per
 * slot; when the count of a slot falls to zero it sends a RELEASE.  That
 * count is kept under the mapping's own mutex, a leaf lock (no other lock
 * is taken while it is held), because a message can be freed on any
 * thread, even after its node was closed.
 */
#ifndef IPCN_SHM_H
#define IPCN_SHM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipcnet.h"
#include "msg/msg.h"
#include "util/list.h"
#include "wire/wire.h"

struct ipcn__link;
struct ipcn__msg;
struct ipcn__frame;

enum { SLOT_FREE = 0, SLOT_LOANED = 1, SLOT_PUBLISHED = 2 };

typedef struct ipcn__pslot {
    uint8_t state;
    uint32_t gen;          /* goes up each time the slot is loaned */
    uint64_t order;        /* publish order, for "oldest" */
    uint32_t *holders;     /* ids of the links that hold it */
    uint32_t nholders, cap_holders;
} ipcn__pslot;

/* A pool of this node (publisher side). */
typedef struct ipcn__pool {
    ipcn__list entry;      /* node->pools */
    uint32_t id;
    char *path;            /* the resource it serves */
    int fd;                /* the sealed memfd */
    uint8_t *base;         /* read-write mapping */
    size_t slot_size;      /* a multiple of the page size */
    uint32_t slots, share;
    ipcn_pool_policy policy;
    bool checksum;         /* take each sample's XXH3-64 at publish */
    bool retired;          /* replaced: freed when its last slot is free */
    bool warned_share;     /* a reader's full share was logged */
    uint32_t nfree;
    uint64_t order;
    ipcn__pslot *slot;
} ipcn__pool;

struct ipcn_loan {
    ipcn__list entry;      /* node->loans, so that close ends it */
    ipcn__pool *pool;
    uint32_t slot, gen;
    size_t offset;         /* of the value inside the slot */
    size_t len;            /* the length asked for (tensor: whole value) */
    size_t cap;            /* bytes usable from offset */
};

/* A peer's pool mapped here (reader side). */
typedef struct ipcn__shm_map {
    ipcn__list entry;      /* node->maps, while attached */
    pthread_mutex_t mu;    /* leaf lock for the fields marked (mu) */
    atomic_uint refs;      /* the node's (while attached) + one per msg */
    ipcn_node *node;       /* (mu) NULL once detached */
    int wakefd;            /* (mu) the node's wake fd, while attached */
    atomic_bool *rel_flag; /* (mu) the node's "releases pending" flag */
    uint32_t link_id, pool_id;
    int fd;
    const uint8_t *base;   /* read-only mapping of the whole pool, or
                              NULL when it could not be mapped (its
                              samples are discarded, their slots given
                              back at once) */
    bool warned;           /* the discards were logged */
    size_t size, slot_size;
    uint32_t slots, share;
    uint32_t *slot_refs;   /* (mu) messages here per slot */
    uint32_t *slot_gen;    /* (mu) generation of the hold per slot */
    uint32_t *slot_revoked; /* (mu) per slot, the newest generation the
                              publisher took back (REVOKE) while held
                              here: a message of that generation or older
                              still held may see its bytes change */
    uint32_t held;         /* (mu) slots with messages */
    ipcn__shm_ref *rel;    /* (mu) releases to send */
    uint32_t nrel, cap_rel;
    /* Samples that failed ipcn_msg_verify() (on any thread): evidence
     * against the publisher, told to the node by its round. */
    atomic_bool *verify_flag; /* (mu) the node's, while attached */
    uint32_t verify_failed;   /* (mu) */
    uint32_t verify_told;     /* the node's: how many it was told of */
    char verify_path[128];    /* (mu) the last one's path */
} ipcn__shm_map;

/* ---- pool.c (publisher) ---- */
void ipcn__pool_free_all(ipcn_node *n);
/* A link closed: it holds nothing any more. */
void ipcn__pool_on_link_down(ipcn_node *n, struct ipcn__link *l);
void ipcn__pool_on_release(ipcn_node *n, struct ipcn__link *l,
                           const ipcn__shm_refs *r);
/* The settings in force (set: a resource's, a zeroed struct meaning the
 * defaults). */
ipcn_pool_opts ipcn__pool_opts_of(const ipcn_pool_opts *set);
/* Are these settings acceptable (ipcn_pool_config())? */
bool ipcn__pool_opts_ok(const ipcn_pool_opts *o);
/* New settings o (after old) for the pool *cur: a pool of another shape
 * is retired (the next loan makes one), else it takes the policy and the
 * checksum. */
void ipcn__pool_reconfig(ipcn_node *n, ipcn__pool **cur,
                         const ipcn_pool_opts *old, const ipcn_pool_opts *o);
/* Add the pools serving path to *s (cur: the current one, whose slots are
 * counted). */
void ipcn__pool_stats(ipcn_node *n, const char *path, const ipcn__pool *cur,
                      ipcn_pool_stats *s);
/* Retire *cur (it goes once none of its slots is held) and clear it. */
void ipcn__pool_retire(ipcn_node *n, ipcn__pool **cur);
/* Loan a slot of need bytes from *cur (made, or remade larger, as needed,
 * for path with settings o).  The counters are the owner's (a resource's,
 * or NULL for replies).  100, 400, 307, or 507 when full and refusing. */
int ipcn__pool_loan(ipcn_node *n, ipcn__pool **cur, const char *path,
                    ipcn_pool_opts o, uint64_t *refused, uint64_t *reclaimed,
                    size_t need, ipcn_loan **out);
/* The loan ends (published or not): a slot nobody holds is free again. */
void ipcn__pool_end_loan(ipcn_node *n, ipcn_loan *loan);
/* Copy len bytes into the loan's slot; returns their XXH3-64 when the
 * pool takes checksums (taken on the way), else 0. */
uint64_t ipcn__pool_copy_in(ipcn_loan *loan, const void *data, size_t len);
/* Can this link take shared samples (negotiated, and enabled here)? */
bool ipcn__pool_link_takes(const ipcn_node *n, const struct ipcn__link *l);

/* One shared sample being sent, link by link (the router, engine/router.c,
 * decides which links; this is what each of them gets). */
typedef struct ipcn__shm_out {
    ipcn_loan *loan;
    const char *path, *encoding;
    uint64_t seq, now;
    size_t len;
    uint64_t sum;          /* its checksum, when summed */
    bool summed;
    ipcn__wbuf desc;       /* the SHM_SAMPLE frame, encoded once */
} ipcn__shm_out;
/* Begin sending the loan's first len bytes: their checksum is presum, or
 * taken here (when the pool wants one and presum is NULL); the caller
 * fills in path, encoding, seq and now. */
void ipcn__pool_out_init(ipcn__shm_out *o, ipcn_loan *loan, size_t len,
                         const uint64_t *presum);
/* Send o's slot to the link: the pool's memfd first if it has not got
 * it, then the descriptor, and the link holds the slot; a link holding
 * its share is told the sample is withheld, one that cannot take it is
 * counted a drop.  100, or an error encoding the descriptor (send no
 * more). */
int ipcn__pool_send_sample(ipcn_node *n, struct ipcn__link *l,
                           ipcn__shm_out *o);
/* Every link was offered o: its slot is published if some link holds it. */
void ipcn__pool_sample_done(ipcn__shm_out *o);

/* ---- slots kept for late subscribers (engine/keep.c) ----
 * A kept slot is held by IPCN__KEEPER, a holder that is no link (link ids
 * are never 0): it stays published while kept, as long as a link holds
 * it.  A pool under IPCN_POOL_DROP_OLDEST may still take it back; its
 * generation then changes, and the kept sample is gone. */
#define IPCN__KEEPER 0u
typedef struct ipcn__kept_ref {
    uint32_t pool_id, slot, gen;
    uint32_t offset;      /* of the value inside the slot */
    uint64_t len;
    uint64_t sum;         /* its checksum, when summed */
    bool summed;
} ipcn__kept_ref;
/* Keep o's slot (before ipcn__pool_sample_done()): 100 with *out, or
 * 307. */
int ipcn__pool_keep(const ipcn__shm_out *o, ipcn__kept_ref *out);
/* Is k still kept (not taken back)?  *alone: no link holds it. */
bool ipcn__pool_kept(ipcn_node *n, const ipcn__kept_ref *k, bool *alone);
/* Its bytes (NULL when it is no longer kept). */
const uint8_t *ipcn__pool_kept_data(ipcn_node *n, const ipcn__kept_ref *k);
/* Give up k: its slot is free again when no link holds it. */
void ipcn__pool_unkeep(ipcn_node *n, const ipcn__kept_ref *k);
/* Slots the link may still take of k's pool before its share (0 when the
 * pool is gone). */
uint32_t ipcn__pool_room(ipcn_node *n, struct ipcn__link *l,
                         const ipcn__kept_ref *k);
/* Send k to the link as an SHM_SAMPLE with corr (a replay, protocol 10.3):
 * the link holds its slot.  100 when queued; else not sent (counted as a
 * drop). */
int ipcn__pool_send_kept(ipcn_node *n, struct ipcn__link *l,
                         const ipcn__kept_ref *k, uint64_t corr,
                         const char *path, const char *encoding, uint64_t seq,
                         uint64_t stamp);

/* Send a service's answer through the node's reply pool: 100 when sent,
 * 0 when the caller should send it inline. */
int ipcn__pool_send_reply(ipcn_node *n, struct ipcn__link *l, uint64_t corr,
                          int status, const char *enc, const void *data,
                          size_t len);

/* An answer filled while its handler runs (ipcn_reply_set()), sent as it
 * is once the handler returns: one copy instead of two.  Loan a slot of
 * the reply pool for len bytes: 100, or 0 (answer inline).  Then fill it
 * (without the node's lock: the slot is the loan's alone), which returns
 * the bytes' checksum, and send it: 100 when sent, 0 when not (the loan
 * stays, its bytes intact); the caller ends the loan either way. */
int ipcn__pool_reply_loan(ipcn_node *n, struct ipcn__link *l, size_t len,
                          ipcn_loan **out);
uint64_t ipcn__pool_fill(ipcn_loan *loan, const void *data, size_t len);
int ipcn__pool_reply_send_loan(ipcn_node *n, struct ipcn__link *l,
                               ipcn_loan *loan, uint64_t sum, uint64_t corr,
                               int status, const char *enc, size_t len);

/* Send a request of this node's through its request pool, as an
 * SHM_REQUEST (docs/protocol.md 12.9): 100 when sent (the link holds the
 * slot until the provider gives it back, or the link closes), 0 when the
 * caller should send it inline (too small, a peer without IPCN_CAP_SHMREQ
 * or SHM, the pool full). */
#define IPCN__REQUEST_POOL "(requests)" /* the pool's name: no resource's */
int ipcn__pool_send_request(ipcn_node *n, struct ipcn__link *l, uint64_t corr,
                            const char *path, const char *enc,
                            uint64_t request_id, uint32_t timeout_ms,
                            const void *data, size_t len);
/* Slots of the request pool providers hold now. */
uint32_t ipcn__pool_request_slots(ipcn_node *n);

/* ---- map.c (reader) ---- */
void ipcn__map_on_pool(ipcn_node *n, struct ipcn__link *l,
                       const struct ipcn__frame *f);
/* The mapping an SHM_SAMPLE or SHM_REPLY frame points into, or NULL when
 * it names bytes outside a pool of the link (counted as a bad frame). */
ipcn__shm_map *ipcn__map_of_sample(ipcn_node *n, struct ipcn__link *l,
                                   const ipcn__shm_sample *sa);
ipcn__shm_map *ipcn__map_find(ipcn_node *n, uint32_t link_id,
                              uint32_t pool_id);
/* Make msg point into m at sa's bytes (sa checked by
 * ipcn__map_of_sample(), m mapped): it holds the slot until freed. */
void ipcn__map_msg_attach(struct ipcn__msg *msg, ipcn__shm_map *m,
                          const ipcn__shm_sample *sa);
/* A message for an SHM_REPLY frame, pointing into the mapping (path: the
 * message's path), or NULL when the frame names bytes outside a mapped
 * pool of the link (counted as a bad frame; an unmapped pool's slot is
 * given back). */
struct ipcn__msg *ipcn__map_msg_new(ipcn_node *n, struct ipcn__link *l,
                                    const ipcn__shm_sample *sa,
                                    const char *path);
/* A slot not taken (its pool unmapped, or no subscription wants it):
 * give it back to the publisher at once. */
void ipcn__map_give_back(ipcn__shm_map *m, uint32_t slot, uint32_t gen);
/* The publisher revoked (slot, gen): a message still held there may see
 * its bytes change without it being tampering (ipcn_msg_verify()). */
void ipcn__map_revoked(ipcn__shm_map *m, uint32_t slot, uint32_t gen);
/* Would holding slot take this node to the share the publisher allows? */
bool ipcn__map_over_share(ipcn__shm_map *m, uint32_t slot);
void ipcn__map_on_drop(ipcn_node *n, struct ipcn__link *l,
                       const ipcn__shm_refs *r);
void ipcn__map_on_link_down(ipcn_node *n, struct ipcn__link *l);
void ipcn__map_detach_all(ipcn_node *n);
/* Send the releases that messages freed since the last call left. */
void ipcn__map_flush_releases(ipcn_node *n);
/* Samples of peers' pools failed ipcn_msg_verify() since the last call:
 * counted, and evidence against their publishers (transport/compromise.h). */
void ipcn__map_flush_verify(ipcn_node *n);
/* Take one more slot count for a message that shares m's slot. */
void ipcn__map_msg_share(struct ipcn__msg *dst, const struct ipcn__msg *m);

#endif
