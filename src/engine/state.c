/* SPDX-License-Identifier: MIT */
/*
 * state.c — what a node says of itself to its peers (docs/protocol.md
 * 7.6): its criticality and its readiness, in a STATE frame sent to every
 * peer that takes it (capability STATE) right after the hello exchange
 * when there is anything to say, and to all of them again on a change.
 * A peer's STATE is kept on its link (ipcn_peer_info.criticality, ready);
 * its first "ready" raises IPCN_EV_PEER_READY, and the loss of a peer
 * that said it is critical raises IPCN_EV_CRITICAL_LOST.  A node being
 * debugged also says how long it asks to be waited for when silent (the
 * extension of STATE, capability LIVENESS; granted in node/loop.c).
 */
#include <pthread.h>

#include "engine/engine.h"
#include "policy/policy.h"

/* Is there anything to tell? */
static bool have_state(const ipcn_node *n)
{
    return n->crit != IPCN_CRIT_UNSET || n->said_ready ||
           n->debug_liveness_ms;
}

static void send_state(ipcn_node *n, ipcn__link *l)
{
    if (l->state != LINK_UP || !(l->peer_caps & IPCN_CAP_STATE))
        return;
    ipcn__state b = {.criticality = n->crit,
                     .flags = n->said_ready ? IPCN_STATE_READY : 0};
    if (n->debug_liveness_ms && (l->peer_caps & IPCN_CAP_LIVENESS)) {
        b.has_ext = 1;
        b.liveness_ms = n->debug_liveness_ms;
    }
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    size_t mark = ipcn__link_tx_mark(l, 0);
    ipcn__link_commit(n, l, mark, ipcn__enc_state(&l->tx, &h, &b));
}

static void tell_all(ipcn_node *n)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        send_state(n, l);
}

void ipcn__state_on_link_up(ipcn_node *n, ipcn__link *l)
{
    if (have_state(n))
        send_state(n, l);
}

void ipcn__state_on_frame(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__state *s = &f->u.state;
    l->peer_crit = s->criticality;
    uint32_t asked = s->has_ext ? s->liveness_ms : 0;
    if (asked && asked != l->peer_liveness_ms) {
        /* Granted (node/loop.c) as far as the policy allows, whenever it
         * is looked at: a policy reloaded meanwhile counts at once. */
        uint64_t cap = n->policy->guard.debug_liveness_ms;
        uint64_t grant = n->policy->guard.debug_all || asked > cap ? cap : asked;
        if (!cap)
            ipcn__info("IPCN-PEER-DEBUG", "%s: %s asks to be waited for up "
                       "to %u ms when silent; not granted: the network's "
                       "policy has no debug: liveness:", n->name,
                       l->who.name, asked);
        else
            ipcn__info("IPCN-PEER-DEBUG", "%s: %s is waited for up to %llu "
                       "ms when silent (it asks %u ms, the policy allows "
                       "%llu)", n->name, l->who.name,
                       (unsigned long long)grant, asked,
                       (unsigned long long)cap);
    }
    l->peer_liveness_ms = asked;
    /* Readiness is not taken back in this version: once said, it stays
     * for the link's life, so a peer raises one event at most. */
    if ((s->flags & IPCN_STATE_READY) && !l->peer_ready) {
        l->peer_ready = true;
        ipcn__debug("IPCN-PEER-READY", "%s: %s is ready", n->name,
                    l->who.name);
        ipcn__queue_event(n, IPCN_EV_PEER_READY, l, NULL, IPCN_ANY, IPCN_OK);
        pthread_cond_broadcast(&n->cond);
    }
}

void ipcn__state_on_link_down(ipcn_node *n, ipcn__link *l, int status)
{
    if (l->peer_crit != IPCN_CRIT_CRITICAL || n->closing)
        return;
    /* A goodbye is a planned stop (an ordered shutdown says it to every
     * node): told, not warned of.  A death is a warning. */
    if (status == IPCN_OK)
        ipcn__info("IPCN-CRITICAL-LOST", "%s: critical peer %s left (%d %s)",
                   n->name, l->who.name, status, ipcn_status_str(status));
    else
        ipcn__warn("IPCN-CRITICAL-LOST", "%s: critical peer %s is gone "
                   "(%d %s)", n->name, l->who.name, status,
                   ipcn_status_str(status));
    ipcn__queue_event(n, IPCN_EV_CRITICAL_LOST, l, NULL, IPCN_ANY, status);
}

IPCN_API int ipcn_node_ready(ipcn_node *n)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    if (!n->said_ready && !n->closing) {
        n->said_ready = true;
        tell_all(n);
    }
    ipcn__node_unlock(n);
    return IPCN_OK;
}
