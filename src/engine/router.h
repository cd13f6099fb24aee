/* SPDX-License-Identifier: MIT */
/*
 * router.h — the router of samples (router.c): where a sample published
 * here goes, and which subscriptions a received one reaches, for inline
 * and shared-memory samples alike.
 */
#ifndef IPCN_ROUTER_H
#define IPCN_ROUTER_H

#include "engine/engine.h"

/* An SHM_SAMPLE frame: a peer's sample in a slot of its pool. */
void ipcn__pub_on_shm_sample(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);
/* An SHM_REVOKE frame: the publisher took slots back; samples of them
 * still queued here are dropped. */
void ipcn__pub_on_revoke(ipcn_node *n, ipcn__link *l, const ipcn__shm_refs *r);
/* Publish a loan's value of lr (len bytes); presum: its checksum when
 * already taken (NULL: taken here if the pool wants one).  Lock held;
 * the caller ends the loan.  100 or 307. */
int ipcn__route_publish_loan(ipcn_node *n, ipcn__local *lr, ipcn_loan *loan,
                             size_t len, const uint64_t *presum);

/* What every publish (ipcn_publish, ipcn_publish_seq, ipcn_publish_derived)
 * checks first, the node locked: *lr the resource path names.  100; 203
 * when it is not announced here, 204 for a service, 207 for a warm standby
 * (nothing until it owns), 200 when data is not of its declared type. */
static inline int ipcn__publish_check(ipcn_node *n, const char *path, const void *data,
                                      size_t len, ipcn__local **lr)
{
    ipcn__local *r = *lr = ipcn__local_find(n, path);
    if (!r)
        return IPCN_NOT_FOUND;
    if (r->kind == IPCN_SERVICE)
        return IPCN_METHOD_NOT_ALLOWED;
    if (r->warm && ipcn__own_standby_local(r))
        return IPCN_CONFLICT;
    return ipcn__typed_check_local(n, r, NULL, data, len, NULL, 0);
}

/* Publish len bytes as lr's new value, as ipcn_publish() does (a set:
 * set.c).  Lock held.  100, 200 when too large, 307. */
int ipcn__route_publish(ipcn_node *n, ipcn__local *lr, const void *data,
                        size_t len);

/* The parts of a publish that prov_pub.c shares: lr's routes brought up
 * to date (100, 307); the next seq and time (and a data resource's new
 * value: 100, 307); a copy to this node's own subscriptions, with rec
 * (rec_len 0: none) as its record. */
/* Whether ipcn__route_publish() takes a sample of len bytes of lr
 * through shared memory (provenance takes the same way, without a
 * record: prov_pub.c). */
bool ipcn__route_goes_shared(const ipcn_node *n, const ipcn__local *lr,
                             size_t len);
int ipcn__route_refresh(ipcn_node *n, ipcn__local *lr);
int ipcn__route_next(ipcn_node *n, ipcn__local *lr, const void *data,
                     size_t len, uint64_t *seq, uint64_t *now);
/* ipcn__route_next() with the sequence (lr->seq + 1, else 500) and time
 * the caller chose (provenance makes its record first, prov_pub.c). */
int ipcn__route_next_at(ipcn_node *n, ipcn__local *lr, const void *data,
                        size_t len, uint64_t seq, uint64_t now);
void ipcn__route_pub_local(ipcn_node *n, const ipcn__local *lr,
                           const void *data, size_t len, uint64_t seq,
                           uint64_t now, const uint8_t *rec, uint32_t rec_len);
/* ---- prov_pub.c ---- */
/* Publish with a provenance record naming parents (np of them) with
 * flags (IPCN_PROV_*): as ipcn__route_publish(). */
int ipcn__prov_publish(ipcn_node *n, ipcn__local *lr, const void *data,
                       size_t len, const ipcn_prov_ref *parents, uint32_t np,
                       uint32_t flags);

/* ---- pubsub.c ---- */
/* Put a message in a subscription's queue; the queue owns it after. */
void ipcn__sub_push(ipcn_node *n, ipcn__sub *s, ipcn__msg *m);

#endif
