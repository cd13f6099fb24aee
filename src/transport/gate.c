/* SPDX-License-Identifier: MIT */
/*
 * gate.c — the per-peer limits, one place for their checks: what a peer
 * may make this node hold (metadata bytes of its resources and patterns,
 * against its share and the node's budget; resources; patterns; requests
 * in flight) and what may be queued for it (tx_limit).  The counters stay
 * where they were (on the link and the node) and readable as before; the
 * verb handlers ask here before they take something from a peer.  The
 * next rules (permissions, rate limits, quarantine) are rules of this
 * stage.
 */
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "transport/compromise.h"
#include "transport/gate.h"
#include "transport/reputation.h"

int ipcn__meta_take(ipcn_node *n, ipcn__link *l, size_t bytes)
{
    int st = IPCN_OK;
    if (l->meta_bytes + bytes > n->opts.peer_meta_max)
        st = IPCN_TOO_MANY_REQUESTS;
    else if (n->peer_meta_bytes + bytes > n->opts.peer_meta_budget)
        st = IPCN_INSUFFICIENT_MEMORY;
    if (st != IPCN_OK) {
        /* Logged once per link: the peer may go on trying. */
        if (!n->meta_refused || !l->bad_frames)
            ipcn__warn("IPCN-DIR-QUOTA", "%s: %s: %s spent (%zu of %u bytes); "
                       "refused with %d", n->name, l->who.name,
                       st == IPCN_TOO_MANY_REQUESTS
                           ? "its share of this node's memory"
                           : "this node's budget for peers' metadata",
                       st == IPCN_TOO_MANY_REQUESTS
                           ? l->meta_bytes : (size_t)n->peer_meta_bytes,
                       st == IPCN_TOO_MANY_REQUESTS ? n->opts.peer_meta_max
                                                    : n->opts.peer_meta_budget,
                       st);
        n->meta_refused++;
        l->bad_frames++;
        if (st == IPCN_TOO_MANY_REQUESTS) /* the budget is ours */
            ipcn__rep_offence(n, l, IPCN__OFF_RATE_LIMITED,
                              "over its share of this node's memory");
        return st;
    }
    l->meta_bytes += bytes;
    n->peer_meta_bytes += bytes;
    return IPCN_OK;
}

void ipcn__meta_give(ipcn_node *n, ipcn__link *l, size_t bytes)
{
    l->meta_bytes -= bytes < l->meta_bytes ? bytes : l->meta_bytes;
    n->peer_meta_bytes -= bytes < n->peer_meta_bytes ? bytes : n->peer_meta_bytes;
}

int ipcn__gate_resource(ipcn_node *n, ipcn__link *l, const char *path)
{
    if (l->resources < IPCN_PEER_MAX_RESOURCES)
        return ipcn__limit_announce(n, l, path);
    l->bad_frames++;
    n->stats.bad_frames++;
    ipcn__warn("IPCN-DIR-QUOTA", "%s: peer %s announced over %u resources",
               n->name, l->who.name, IPCN_PEER_MAX_RESOURCES);
    ipcn__rep_offence(n, l, IPCN__OFF_RATE_LIMITED, "too many resources");
    return IPCN_TOO_MANY_REQUESTS;
}

int ipcn__gate_pattern(ipcn_node *n, ipcn__link *l, const char *pattern)
{
    if (l->npatterns < IPCN_PEER_MAX_PATTERNS)
        return ipcn__limit_pattern(n, l, pattern);
    l->bad_frames++;
    n->stats.bad_frames++;
    ipcn__rep_offence(n, l, IPCN__OFF_RATE_LIMITED,
                      "too many subscription patterns");
    return IPCN_TOO_MANY_REQUESTS;
}

int ipcn__gate_request(ipcn_node *n, ipcn__link *l, const char *path)
{
    return ipcn__limit_inflight(n, l, path);
}

/* ---- permissions ---- */

int ipcn__gate_decide(const ipcn_node *n, const ipcn__policy *old,
                      const ipcn__principal *who, uint32_t verb,
                      const char *path, const ipcn__rule *prov,
                      uint32_t nprov, ipcn__decision *d)
{
    const ipcn__policy *p = old ? old : n->policy;
    /* A principal isolated as compromised (compromise.c) is refused
     * everything, whatever a policy says: the one place that says so. */
    if (ipcn__cz_isolated(n, who)) {
        *d = (ipcn__decision){.status = IPCN_FORBIDDEN, .rule = -1,
                              .why = "isolated as compromised"};
        return d->status;
    }
    ipcn__groupset rt = {n->groups, n->ngroups, NULL};
    ipcn__groupset gs = {p->groups, p->ngroups, &rt};
    int st = ipcn__policy_decide(p, &gs, who, verb, path, strlen(path), d);
    if (st != IPCN_OK || !nprov || verb == IPCN__V_PROVIDE)
        return st;
    /* The provider narrows what the network allows (an audited pass
     * included: audit is the network's, the provider's rules are its
     * own and always enforced). */
    ipcn__decision pd;
    if (ipcn__policy_narrow(prov, nprov, &gs, who, verb, &pd) == IPCN_OK)
        return st;
    *d = pd;
    return d->status;
}

void ipcn__gate_count(ipcn_node *n, ipcn__link *l, uint32_t verb,
                      const char *path, const ipcn__decision *d, int status)
{
    bool first;
    char rule[32] = "";
    if (d->line)
        snprintf(rule, sizeof rule, " (%s %u)",
                 strncmp(d->why, "provider", 8) ? "policy line" : "rule",
                 d->line);
    if (status != IPCN_OK) {
        first = !l->denied++;
        n->stats.denied++;
        if (!n->rep_hold) {
            char what[IPCN__REP_DETAIL];
            snprintf(what, sizeof what, "%s of %s: %d",
                     ipcn__verb_name(verb), path, status);
            ipcn__rep_offence(n, l, IPCN__OFF_DENIED, what);
        }
        /* A burst of them is evidence (a refused announcement is its own
         * evidence, told by the directory). */
        if (verb != IPCN__V_PROVIDE)
            ipcn__cz_violation(n, l);
        ipcn__log(first ? IPCN_LOG_WARN : IPCN_LOG_DEBUG, "IPCN-POLICY-DENY",
                  "%s: refused %s (uid %d) %s of %s with %d: %s%s",
                  n->name, l->who.name ? l->who.name : "(no name yet)",
                  (int)l->who.uid, ipcn__verb_name(verb), path, status,
                  d->why, rule);
    } else if (d->audited) {
        first = !l->audited++;
        n->stats.audited++;
        ipcn__log(first ? IPCN_LOG_WARN : IPCN_LOG_INFO, "IPCN-POLICY-AUDIT",
                  "%s: audit: would refuse %s (uid %d) %s of %s with %d: %s%s",
                  n->name, l->who.name ? l->who.name : "(no name yet)",
                  (int)l->who.uid, ipcn__verb_name(verb), path, d->would,
                  d->why, rule);
    }
}
