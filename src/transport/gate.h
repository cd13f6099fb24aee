/* SPDX-License-Identifier: MIT */
/*
 * gate.h — the per-peer limits (gate.c): every check of what one peer may
 * make this node hold is asked here.
 */
#ifndef IPCN_GATE_H
#define IPCN_GATE_H

#include <stddef.h>

#include "ipcnet.h"
#include "policy/policy.h"
#include "node/node.h"
#include "transport/limits.h"
#include "transport/link.h"

/* Limits on what one peer may make this node hold (denial of service). */
#define IPCN_PEER_MAX_RESOURCES 4096
#define IPCN_PEER_MAX_PATTERNS 1024
#define IPCN_PEER_MAX_INFLIGHT 1024 /* its requests queued or deferred here */

/* Account bytes of a peer's resources or patterns: 100, or 205 past
 * peer_meta_max, 307 past peer_meta_budget (then counted and logged, and
 * nothing taken).  ipcn__meta_give() gives them back. */
int ipcn__meta_take(ipcn_node *n, ipcn__link *l, size_t bytes);
void ipcn__meta_give(ipcn_node *n, ipcn__link *l, size_t bytes);
/* May the peer hold one more resource (path) here?  100, or 205: past
 * IPCN_PEER_MAX_RESOURCES (then counted as its bad frame, and logged), or
 * a cap of its limits (limits.h). */
int ipcn__gate_resource(ipcn_node *n, ipcn__link *l, const char *path);
/* One more subscription pattern?  100, or 205 (counted). */
int ipcn__gate_pattern(ipcn_node *n, ipcn__link *l, const char *pattern);
/* One more of its requests (of path) queued or deferred here?  100 or 205:
 * past IPCN_PEER_MAX_INFLIGHT, its fair share or a cap of its limits
 * (limits.h: ipcn__limit_inflight).  Then account it with
 * ipcn__limit_queued(). */
int ipcn__gate_request(ipcn_node *n, ipcn__link *l, const char *path);

/* ---- permissions ---- */

/* The one decision of who may do what, for a peer (who, its link's
 * principal) or this node itself (&n->self): a principal isolated as
 * compromised (compromise.h) is refused everything (202, why "isolated
 * as compromised"); else the network policy, or old
 * when given (to compare before and after a reload), then, for READ,
 * WRITE and EXECUTE, the provider's own rules of the resource (prov,
 * nprov: they can only narrow).  Groups named in rules are the policy's,
 * then the node's run-time groups.  Fills *d; returns d->status (100,
 * 201, 202).  Counts nothing: see ipcn__gate_count(). */
int ipcn__gate_decide(const ipcn_node *n, const ipcn__policy *old,
                      const ipcn__principal *who, uint32_t verb,
                      const char *path, const ipcn__rule *prov,
                      uint32_t nprov, ipcn__decision *d);
/* Account a decision acted on for peer l: a refusal (status, the one
 * the peer is given: 201, 202, 203) on the node's and the link's denied
 * counters (a burst of them, but of PROVIDE, is evidence of a compromise:
 * compromise.h), an audited pass on their audited counters; logged (the
 * first of each per link as a warning, then at debug level). */
void ipcn__gate_count(ipcn_node *n, ipcn__link *l, uint32_t verb,
                      const char *path, const ipcn__decision *d, int status);

/* Queue bound: may len more bytes be queued for the peer (its backlog
 * stays within tx_limit)?  Inline: asked for every frame sent. */
static inline bool ipcn__gate_queue_room(const ipcn_node *n,
                                         const ipcn__link *l, size_t len)
{
    return ipcn__link_backlog(l) + len <= n->opts.tx_limit;
}

/* Back-pressure on a peer that does not read what it is owed: stop reading
 * from it past 1.25 times tx_limit of backlog (samples stop at tx_limit, so
 * only frames that cannot be dropped get there), read again at half. */
static inline bool ipcn__gate_pause_reading(const ipcn_node *n, size_t backlog)
{
    return backlog > n->opts.tx_limit + n->opts.tx_limit / 4;
}

static inline bool ipcn__gate_resume_reading(const ipcn_node *n,
                                             size_t backlog)
{
    return backlog <= n->opts.tx_limit / 2;
}

#endif
