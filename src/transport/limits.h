/* SPDX-License-Identifier: MIT */
/*
 * limits.h — rate limits and quotas, rules of the gate stage (limits.c):
 * token buckets for the requests, samples and bytes a peer sends here, caps
 * on what it holds here (requests in flight, subscription patterns,
 * announcements), from the network policy's "limits" section (guard.h)
 * and from providers' own limits (ipcn_resource_set_limits()); and the
 * per-user fair share of the requests queued on this node.
 *
 * What applies to a link is worked out once per policy generation
 * (n->policy_gen, which a provider's limits move too): a frame of a peer
 * that no limit names costs one comparison.  Buckets refill when used
 * (CLOCK_MONOTONIC), never on a timer: an idle peer costs nothing.
 *
 * Locking: the node's lock is held on every call here.
 */
#ifndef IPCN_LIMITS_H
#define IPCN_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/node.h"
#include "policy/guard.h"
#include "transport/link.h"

/* Fair share of the node's queue of peers' requests: once this many
 * requests of peers are queued or deferred here, a user holding at least
 * IPCN_FAIR_QUEUE / (users holding some) of them gets 205 for more, while
 * there are at least two such users (a node's only user starves nobody).
 * A user is a uid of this host, or "host:user" for a peer of another
 * host (limits.c).  A constant of the library. */
#define IPCN_FAIR_QUEUE 256u

/* A provider's own limits of one path or pattern (ipcn_resource_set_limits)
 * are kept as limit entries naming any principal; at most this many. */
#define IPCN_PROV_LIMITS_MAX 1024u

/* The answer of a request, query or set that a limit refused: 205 with
 * a retry time (protocol.md 16.1). */
#define IPCN_RETRY_ENCODING "text/plain;retry_after_ms="

struct ipcn__link_lim;

/* The slow paths (limits.c): see the inline entries below. */
int ipcn__limit_request_slow(ipcn_node *n, ipcn__link *l, const char *path,
                             size_t bytes, uint32_t *retry_ms);
bool ipcn__limit_sample_slow(ipcn_node *n, ipcn__link *l, const char *path,
                             size_t bytes);

/* Does no limit apply to l under the current policy generation?  The one
 * branch of a frame of a peer no limit names. */
static inline bool ipcn__limits_none(const ipcn_node *n, const ipcn__link *l)
{
    return l->lim_free_gen == n->policy_gen;
}

/* A request, query or set of path carrying bytes of data, from l: 100,
 * or 205 with *retry_ms (>= 1) the time after which the buckets will let
 * it through; counted (rate_limited), logged, charged to the peer. */
static inline int ipcn__limit_request(ipcn_node *n, ipcn__link *l,
                                      const char *path, size_t bytes,
                                      uint32_t *retry_ms)
{
    if (ipcn__limits_none(n, l))
        return IPCN_OK;
    return ipcn__limit_request_slow(n, l, path, bytes, retry_ms);
}

/* A sample of path (bytes) that l publishes here: true to take it; false
 * when over a limit (then dropped: counted in samples_limited, logged,
 * charged; a shared-memory sample's slot is the caller's to give back). */
static inline bool ipcn__limit_sample(ipcn_node *n, ipcn__link *l,
                                      const char *path, size_t bytes)
{
    if (ipcn__limits_none(n, l))
        return true;
    return ipcn__limit_sample_slow(n, l, path, bytes);
}

/* Caps of the limits that apply to l for a new request in flight, a new
 * subscription pattern, a new announcement of path: 100 or 205 (counted
 * and logged; a request also in rate_limited).  Requests also get the
 * fair share (IPCN_FAIR_QUEUE). */
int ipcn__limit_inflight(ipcn_node *n, ipcn__link *l, const char *path);
int ipcn__limit_pattern(ipcn_node *n, ipcn__link *l, const char *pattern);
int ipcn__limit_announce(ipcn_node *n, ipcn__link *l, const char *path);

/* A connection just accepted (l, before its hello): within every
 * "connections" rate that applies to its principal (by uid; an entry
 * whose who needs its node name does not apply)?  100, or 205: l refused
 * with ERROR 205 carrying the time to wait in corr, closed, counted in
 * links_refused, logged (IPCN-LIMIT) and charged to the process
 * (IPCN__OFF_CONNECTIONS). */
int ipcn__limit_connection(ipcn_node *n, ipcn__link *l);

/* Account one more (or one less) of l's requests queued or deferred here:
 * l->inflight, and its user's part of the node's queue (the fair share). */
void ipcn__limit_queued(ipcn_node *n, ipcn__link *l, int delta);

/* A provider's limits for path (a path or pattern): set, replaced, or
 * removed (lim NULL).  Moves n->policy_gen.  100, 200, 205 (full), 307. */
int ipcn__limits_provider_set(ipcn_node *n, const char *path,
                              const ipcn__rate *requests,
                              const ipcn__rate *samples,
                              const ipcn__rate *bytes, uint32_t inflight,
                              bool remove);

/* A new link: no limit known yet.  A link freed: what it held. */
void ipcn__limits_link_init(ipcn__link *l);
void ipcn__limits_link_free(ipcn_node *n, ipcn__link *l);
/* The node closes: its providers' limits and tables. */
void ipcn__limits_node_free(ipcn_node *n);

/* ---- token buckets (exposed for unit tests) ---- */
typedef struct ipcn__bucket {
    double tokens;
    uint64_t at_ns;
} ipcn__bucket;

/* The depth of a bucket of rate r: its burst, or one second's worth (at
 * least 1) when the burst is 0. */
double ipcn__bucket_depth(const ipcn__rate *r);
/* Fill b as a full bucket of r at now. */
void ipcn__bucket_init(ipcn__bucket *b, const ipcn__rate *r, uint64_t now);
/* Refill b to now; may cost be taken?  0 when it may, else the
 * milliseconds (>= 1) until it may.  A cost over the depth needs a full
 * bucket (and leaves it in debt). */
uint32_t ipcn__bucket_wait(ipcn__bucket *b, const ipcn__rate *r,
                           double cost, uint64_t now);
/* Take cost (after a wait of 0). */
static inline void ipcn__bucket_take(ipcn__bucket *b, double cost)
{
    b->tokens -= cost;
}

#endif
