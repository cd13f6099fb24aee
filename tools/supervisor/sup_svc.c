/* SPDX-License-Identifier: MIT */
/*
 * sup_svc.c — the supervisor on the network: the events of its node
 * (readiness, compromise), the services it offers ("system/shutdown",
 * "system/supervisor/<robot>/reload"), the compromise streams of every
 * node, and its components' health checks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_value.h"
#include "stop.h"
#include "publish.h"
#include "sup_int.h"

/* ---- events ------------------------------------------------------ */

static void compromised(sup *s, const char *name, const char *detail)
{
    sup_rt *rt = sup_by_node(s, name);
    char why[512];
    if (rt) {
        rt->compromised = true;
        snprintf(why, sizeof why, "component %s compromised: %s", rt->c->name, detail);
    } else {
        snprintf(why, sizeof why, "node %s compromised: %s", name, detail);
    }
    sup_ask_stop(s, why, true);
}

static void on_event(ipcn_node *n, const ipcn_event *ev, void *user)
{
    sup *s = user;
    (void)n;
    if (ev->type == IPCN_EV_PEER_READY) {
        sup_rt *rt = sup_by_node(s, ev->peer);
        pid_t pid;
        bool ready;
        if (rt && rt->state == SUP_ST_STARTING && sup_peer(s, ev->peer, &pid, &ready) &&
            sup_is_ours(s, rt, pid))
            sup_on_ready(s, rt);
    } else if (ev->type == IPCN_EV_COMPROMISE && ev->status == IPCN_COMPROMISE_SHUTDOWN) {
        const ipcn_compromise *c = ev->compromise;
        compromised(s, c && c->name ? c->name : ev->peer, c && c->detail ? c->detail : "");
    }
}

/* A text field of a CBOR map, or NULL. */
static const ipcn_cbor_item *text_of(const ipcn_cbor_item *map, const char *key)
{
    const ipcn_cbor_item *v = ipcn_cbor_map_find(map, key);
    return v && v->type == IPCN_CBOR_TEXT ? v : NULL;
}

/* Another node's word that a component is compromised: a sample of
 * "system/compromise/<node>".  Told (logged, and an alarm), never acted
 * on by itself: any node may publish such a stream, and a rogue one must
 * not stop the robot by naming a component.  A node that may shut the
 * robot down (EXECUTE of "system/shutdown") asks for it, naming the
 * component: {"compromised": NAME} (on_shutdown). */
static void on_compromise_sample(ipcn_node *n, const ipcn_msg *msg, void *user)
{
    sup *s = user;
    (void)n;
    if (msg->status != IPCN_OK)
        return;
    ipcn_cbor_item *root = NULL;
    if (ipcn_cbor_tree_decode(msg->data, msg->len, IPCN_CBOR_COPY_STRINGS, &root) != IPCN_OK)
        return;
    const ipcn_cbor_item *subj = text_of(root, "subject"), *act = text_of(root, "action");
    const ipcn_cbor_item *det = text_of(root, "detail");
    if (subj && act) {
        char name[SUP_NAME_MAX + 1], detail[256];
        snprintf(name, sizeof name, "%.*s", (int)subj->len, (const char *)subj->ptr);
        snprintf(detail, sizeof detail, "%.*s reports %s compromised (%.*s): %.*s",
                 SUP_NAME_MAX, msg->src_name ? msg->src_name : "?", name, (int)act->len,
                 (const char *)act->ptr, det ? (int)det->len : 0,
                 det ? (const char *)det->ptr : "");
        sup_rt *rt = sup_by_node(s, name);
        if (rt) {
            sup_log(s, rt->c->name, "%s; not acted on: a report is not a permission "
                    "(a node allowed to asks system/shutdown)", detail);
            sup_publish_alarm(s->n, s->m->robot, rt->c->name,
                              sup_crit_name(rt->c->criticality), detail);
        }
    }
    ipcn_cbor_tree_free(root);
}

/* ---- services ---------------------------------------------------- */

static int on_shutdown(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    sup *s = user;
    (void)n;
    char reason[256] = "asked";
    if (req->len) {
        ipcn_cbor_item *root = NULL;
        if (ipcn_cbor_tree_decode(req->data, req->len, IPCN_CBOR_COPY_STRINGS, &root) !=
            IPCN_OK || root->type != IPCN_CBOR_MAP) {
            ipcn_cbor_tree_free(root);
            const char *why = "the body is CBOR {\"reason\": TEXT, \"compromised\": NAME}";
            ipcn_reply_set(ctx, why, strlen(why), "text/plain");
            return IPCN_BAD_REQUEST;
        }
        const ipcn_cbor_item *r = text_of(root, "reason");
        const ipcn_cbor_item *cp = text_of(root, "compromised");
        if (r)
            snprintf(reason, sizeof reason, "%.*s", (int)r->len, (const char *)r->ptr);
        if (cp) {
            char name[SUP_NAME_MAX + 1];
            snprintf(name, sizeof name, "%.*s", (int)cp->len, (const char *)cp->ptr);
            sup_rt *rt = sup_by_node(s, name);
            if (!rt)
                rt = sup_by_name(s, name);
            if (!rt) {
                ipcn_cbor_tree_free(root);
                const char *why = "\"compromised\" names no component of this robot";
                ipcn_reply_set(ctx, why, strlen(why), "text/plain");
                return IPCN_NOT_FOUND;
            }
            /* isolated first by the ordered stop, never waited on */
            rt->compromised = true;
            sup_log(s, rt->c->name, "compromised, says %s: isolated first",
                    req->src_name ? req->src_name : "?");
        }
        ipcn_cbor_tree_free(root);
    }
    ipcn_responder *w = realloc(s->waiters, (s->nwaiters + 1) * sizeof *w);
    if (!w)
        return IPCN_INSUFFICIENT_MEMORY;
    s->waiters = w;
    s->waiters[s->nwaiters++] = ipcn_reply_defer(ctx);
    char why[400];
    snprintf(why, sizeof why, "asked by %s: %s", req->src_name ? req->src_name : "?", reason);
    sup_ask_stop(s, why, false);
    return IPCN_ACCEPTED;
}

static int on_reload(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    sup *s = user;
    (void)n;
    ipcn_cbor_item *root = NULL;
    const ipcn_cbor_item *c = NULL;
    if (ipcn_cbor_tree_decode(req->data, req->len, IPCN_CBOR_COPY_STRINGS, &root) == IPCN_OK)
        c = text_of(root, "component");
    if (!c) {
        ipcn_cbor_tree_free(root);
        const char *why = "the body is CBOR {\"component\": NAME}";
        ipcn_reply_set(ctx, why, strlen(why), "text/plain");
        return IPCN_BAD_REQUEST;
    }
    char name[SUP_NAME_MAX + 1];
    snprintf(name, sizeof name, "%.*s", (int)c->len, (const char *)c->ptr);
    ipcn_cbor_tree_free(root);
    sup_rt *rt = sup_by_name(s, name);
    if (!rt) {
        const char *why = "no such component in the manifest";
        ipcn_reply_set(ctx, why, strlen(why), "text/plain");
        return IPCN_NOT_FOUND;
    }
    sup_log(s, name, "reload asked by %s", req->src_name ? req->src_name : "?");
    sup_restart_reset(&rt->hist);
    switch (rt->state) {
    case SUP_ST_STARTING:
    case SUP_ST_READY:
        rt->reload = true;
        rt->state = SUP_ST_STOPPING;
        sup_end_proc(s, rt, SIGTERM);
        break;
    case SUP_ST_STOPPING:
        rt->reload = true;
        break;
    case SUP_ST_BACKOFF:
    case SUP_ST_FAILED:
    case SUP_ST_STOPPED:
        rt->state = SUP_ST_WAITING;
        rt->reason[0] = 0;
        break;
    case SUP_ST_WAITING:
        break;
    }
    sup_publish(s, rt);
    return IPCN_OK;
}

void sup_svc_answer(sup *s, const sup_stop_report *rep)
{
    if (!s->nwaiters)
        return;
    void *buf = NULL;
    size_t len = 0;
    int st = rep ? sup_stop_report_encode(rep, &buf, &len) : IPCN_INTERNAL_ERROR;
    if (st != IPCN_OK)
        len = 0;
    for (size_t i = 0; i < s->nwaiters; i++)
        ipcn_respond(s->n, s->waiters[i], st, buf, len, len ? "cbor" : "");
    s->nwaiters = 0;
    free(buf);
    /* let the answers leave before the node closes */
    for (int i = 0; i < 10; i++)
        ipcn_node_dispatch(s->n, 10);
}

/* ---- health ------------------------------------------------------ */

/* An outstanding health request, on the list s->asks until answered (or
 * cancelled when the supervisor ends). */
typedef struct health_ask {
    sup *s;
    size_t idx;
    uint32_t gen;
    ipcn_req req;
    struct health_ask *prev, *next;
} health_ask;

static void unlink_ask(health_ask *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        h->s->asks = h->next;
    if (h->next)
        h->next->prev = h->prev;
}

void sup_health_cancel_all(sup *s)
{
    while (s->asks) {
        health_ask *h = s->asks;
        ipcn_request_cancel(s->n, h->req);
        unlink_ask(h);
        free(h);
    }
}

static void unhealthy(sup *s, sup_rt *rt, int status)
{
    snprintf(rt->reason, sizeof rt->reason, "unhealthy: %s answered %d %s",
             rt->c->health_service, status, ipcn_status_str(status));
    sup_log(s, rt->c->name, "%s", rt->reason);
    rt->unhealthy = true;
    sup_end_proc(s, rt, SIGKILL);
}

static void on_health(ipcn_node *n, int status, const ipcn_msg *reply, void *user)
{
    health_ask *h = user;
    sup *s = h->s;
    sup_rt *rt = &s->rt[h->idx];
    (void)n, (void)reply;
    unlink_ask(h);
    if (rt->gen == h->gen && rt->state == SUP_ST_READY) {
        rt->health_pending = false;
        rt->next_health = sup_now_ms() + rt->c->health_interval_ms;
        if (status == IPCN_OK)
            rt->health_ok = true;
        else
            unhealthy(s, rt, status);
    }
    free(h);
}

void sup_health_ask(sup *s, sup_rt *rt)
{
    health_ask *h = malloc(sizeof *h);
    if (!h)
        return;
    *h = (health_ask){.s = s, .idx = rt->idx, .gen = rt->gen};
    int st = ipcn_request_async(s->n, rt->c->health_service, NULL, 0, NULL,
                                (int)rt->c->health_timeout_ms, on_health, h, &h->req);
    if (st == IPCN_ACCEPTED) {
        rt->health_pending = true;
        h->next = s->asks;
        if (s->asks)
            s->asks->prev = h;
        s->asks = h;
        return;
    }
    free(h);
    unhealthy(s, rt, st);
}

int sup_svc_start(sup *s)
{
    ipcn_node_set_event_fn(s->n, on_event, s);
    snprintf(s->reload_path, sizeof s->reload_path, "/system/supervisor/%s/reload", s->m->robot);
    int st = ipcn_offer(s->n, "/system/shutdown", "cbor", on_shutdown, s);
    if (st == IPCN_OK)
        st = ipcn_offer(s->n, s->reload_path, "cbor", on_reload, s);
    ipcn_sub sub;
    if (st == IPCN_OK)
        st = ipcn_subscribe(s->n, "/system/compromise/**", 64, on_compromise_sample, s, &sub);
    return st;
}
