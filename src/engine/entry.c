/* SPDX-License-Identifier: MIT */
/*
 * entry.c — the engine's one entry (entry.h).  A frame that passed the
 * link (checked), identity (its principal, fixed at hello), the gate and
 * the route comes here and goes to its verb handler; a link's coming and
 * going, the timer, dispatch and the node's close come here too.
 */
#include <pthread.h>

#include "engine/engine.h"
#include "engine/entry.h"
#include "engine/router.h"
#include "engine/sys.h"

/* The verbs: a frame for this node, past the gate and the route. */
static void on_frame(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    switch (f->hdr.type) {
    case IPCN_F_SAMPLE:
        if (f->hdr.corr) /* a replay's (latch.c) */
            ipcn__latch_on_sample(n, l, f);
        else
            ipcn__pub_on_sample(n, l, f);
        break;
    case IPCN_F_SHM_SAMPLE:
        if (f->hdr.corr)
            ipcn__latch_on_sample(n, l, f);
        else
            ipcn__pub_on_shm_sample(n, l, f);
        break;
    case IPCN_F_REQUEST:
        ipcn__req_on_request(n, l, f);
        break;
    case IPCN_F_SHM_REQUEST:
        ipcn__req_on_shm_request(n, l, f);
        break;
    case IPCN_F_REPLY:
        if (f->hdr.corr & IPCN__LATCH_CORR) { /* a replay's end */
            ipcn__latch_on_end(n, l, f);
            break;
        }
        ipcn__req_on_reply(n, l, f);
        break;
    case IPCN_F_QUERY_REPLY:
    case IPCN_F_SHM_REPLY:
        ipcn__req_on_reply(n, l, f);
        break;
    case IPCN_F_QUERY:
        ipcn__req_on_query(n, l, f);
        break;
    case IPCN_F_SHM_RELEASE:
        ipcn__pool_on_release(n, l, &f->u.shm_refs);
        break;
    case IPCN_F_ANNOUNCE:
        ipcn__dir_on_announce(n, l, &f->u.announce);
        break;
    case IPCN_F_WITHDRAW:
        ipcn__dir_on_withdraw(n, l, &f->u.text);
        break;
    case IPCN_F_SUBSCRIBE:
    case IPCN_F_UNSUBSCRIBE:
        if (f->hdr.corr && f->hdr.type == IPCN_F_SUBSCRIBE)
            ipcn__latch_on_subscribe(n, l, f); /* and a replay */
        else
            ipcn__pub_on_subscribe(n, l, &f->u.text,
                                   f->hdr.type == IPCN_F_SUBSCRIBE);
        break;
    case IPCN_F_SHM_POOL:
        ipcn__map_on_pool(n, l, f);
        break;
    case IPCN_F_SHM_REVOKE:
        ipcn__pub_on_revoke(n, l, &f->u.shm_refs);
        break;
    case IPCN_F_SHM_DROP:
        ipcn__map_on_drop(n, l, &f->u.shm_refs);
        break;
    case IPCN_F_SHM_WITHHELD:
        ipcn__pub_on_withheld(n, l, f);
        break;
    case IPCN_F_CANCEL:
        ipcn__req_on_cancel(n, l, f);
        break;
    case IPCN_F_SET:
        ipcn__set_on_frame(n, l, f);
        break;
    case IPCN_F_QUARANTINE:
        ipcn__quarantine_on_frame(n, l, f);
        break;
    case IPCN_F_STATE:
        ipcn__state_on_frame(n, l, f);
        break;
    default: /* link control (hello, ping, bye, error, ring) stays below */
        break;
    }
}

static void on_link_up(ipcn_node *n, ipcn__link *l)
{
    ipcn__queue_event(n, IPCN_EV_PEER_UP, l, NULL, IPCN_ANY, IPCN_OK);
    ipcn__cz_on_link_up(n, l);
    /* Before the directory, so that a peer synced (the PING below) knows
     * this node's state too. */
    if (l->state == LINK_UP)
        ipcn__state_on_link_up(n, l);
    ipcn__dir_on_link_up(n, l);
    if (l->state == LINK_UP)
        ipcn__pub_on_link_up(n, l);
    if (l->state == LINK_UP) /* after the SUBSCRIBEs: replays (latch.c) */
        ipcn__latch_on_link_up(n, l);
    /* Frames on a link keep their order: a PING after the initial
     * directory tells the peer that it has all of it. */
    if (l->state == LINK_UP) {
        l->last_ping_ns = ipcn__now_mono_ns();
        ipcn__send_ping(n, l, IPCN_F_PING, l->last_ping_ns);
    }
    pthread_cond_broadcast(&n->cond);
}

static void on_link_down(ipcn_node *n, const ipcn__in *in)
{
    ipcn__link *l = in->link;
    int status = in->status;
    /* A peer that died (kill -9) left its socket and lock file: remove
     * them now (the sweep checks that its lock is free). */
    if (in->peer_died && in->was_up && status != IPCN_OK && !n->closing &&
        l->who.name)
        ipcn__rdv_sweep(n, l->who.name);
    ipcn__cz_on_link_down(n, l);
    if (in->was_up) {
        ipcn__req_on_link_down(n, l);
        ipcn__latch_on_link_down(n, l);
        ipcn__dir_on_link_down(n, l);
        ipcn__pool_on_link_down(n, l);
        ipcn__map_on_link_down(n, l);
        if (!n->closing)
            ipcn__queue_event(n, IPCN_EV_PEER_DOWN, l, NULL, IPCN_ANY,
                              status);
        ipcn__state_on_link_down(n, l, status);
    }
    /* Dial again unless the peer left on purpose or cannot speak with us.
     * A 207 is retried: the peer may not have read the hang-up of our
     * previous link yet.  After bad input (ours or the peer's verdict), a
     * corrupted frame must not split the network for good: dial again,
     * later each time it happens again (backoff.c). */
    /* A peer that quarantined us said when to come back (l->retry_ms);
     * one that banned or black-listed us (202) is tried as after bad
     * input, ever more slowly (it may be lifted). */
    /* (A TCP link has no name to dial: its gateway redials it.) */
    if (l->outbound && l->expect_name && !n->closing && status != IPCN_OK &&
        status != IPCN_VERSION_NOT_SUPPORTED) {
        if (status == IPCN_TOO_MANY_REQUESTS && l->retry_ms)
            ipcn__rdv_redial_in(n, l->expect_name,
                                (uint64_t)l->retry_ms * 1000000u);
        else if (status == IPCN_BAD_REQUEST || status == IPCN_LOOP_DETECTED ||
                 status == IPCN_FORBIDDEN)
            ipcn__rdv_redial_in(n, l->expect_name,
                                ipcn__backoff_strike(n, l->expect_name,
                                                     ipcn__now_mono_ns()));
        else
            ipcn__rdv_redial(n, l->expect_name);
    }
}

static bool deliver(ipcn_node *n, ipcn__cb *cb)
{
    if (!cb)
        return ipcn__sub_deliver_one(n);
    ipcn__req_run(n, cb);
    return true;
}

static void cb_free(ipcn__cb *cb)
{
    if (cb->pend)
        ipcn__pending_free(cb->pend);
    if (cb->msg)
        ipcn_msg_free(&cb->msg->pub);
    cb->pend = NULL;
    cb->msg = NULL;
}

static void on_close(ipcn_node *n)
{
    ipcn__list *e;
    /* Messages the user still holds keep their mappings, not the node. */
    ipcn__map_detach_all(n);
    ipcn__pool_free_all(n);
    while ((e = ipcn__list_pop(&n->cbq))) {
        ipcn__cb *cb = ipcn__list_entry(e, ipcn__cb, entry);
        cb_free(cb);
        ipcn__node_cb_free(n, cb);
    }
    while ((e = ipcn__list_pop(&n->pendings)))
        ipcn__pending_free(ipcn__list_entry(e, ipcn__pending, entry));
    ipcn__responder_free_all(n);
    ipcn__sys_shutdown_free(n);
    ipcn__latch_free_all(n);
    while ((e = ipcn__list_pop(&n->subs)))
        ipcn__sub_free(ipcn__list_entry(e, ipcn__sub, entry));
    while ((e = ipcn__list_pop(&n->interests))) {
        ipcn__interest *in = ipcn__list_entry(e, ipcn__interest, entry);
        ipcn__free(in->pattern);
        ipcn__free(in);
    }
    ipcn__own_free_all(n); /* its groups point to what follows */
    while ((e = ipcn__list_pop(&n->locals)))
        ipcn__local_free(ipcn__list_entry(e, ipcn__local, entry));
    while ((e = ipcn__list_pop(&n->remotes)))
        ipcn__remote_free(n, ipcn__list_entry(e, ipcn__remote, entry));
    ipcn__pub_node_free(n);
    ipcn__access_free_all(n);
}

uint64_t ipcn__engine_in(ipcn_node *n, const ipcn__in *in)
{
    switch (in->kind) {
    case IPCN__IN_FRAME:
        on_frame(n, in->link, in->frame);
        return 0;
    case IPCN__IN_LINK_UP:
        on_link_up(n, in->link);
        return 0;
    case IPCN__IN_LINK_DOWN:
        on_link_down(n, in);
        return 0;
    case IPCN__IN_TIMER:
        ipcn__req_timeouts(n, in->now);
        return 0;
    case IPCN__IN_DEADLINE:
        return ipcn__req_next_deadline(n);
    case IPCN__IN_DELIVER:
        return deliver(n, in->cb);
    case IPCN__IN_CB_FREE:
        cb_free(in->cb);
        return 0;
    case IPCN__IN_CLOSE:
        on_close(n);
        ipcn__prov_free(n);
        return 0;
    case IPCN__IN_POLICY:
        ipcn__access_on_policy(n, in->old_policy);
        ipcn__hist_on_policy(n);
        return 0;
    case IPCN__IN_REPUTATION:
        ipcn__quarantine_on_rep(n, in->rep, in->status);
        return 0;
    case IPCN__IN_COMPROMISE:
        ipcn__cz_drain(n);
        return 0;
    }
    return 0;
}
