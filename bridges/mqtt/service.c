/* SPDX-License-Identifier: MIT */
/*
 * service.c — services both ways over MQTT 5 request/response.
 *
 * --service PATH: the bridge offers PATH in IPCNet; a request becomes an
 * MQTT publication on PREFIX_req/PATH with a response topic (this
 * bridge's PREFIX_reply/ORIGIN) and correlation data; the MQTT responder's
 * answer (same correlation data; its user property "ipcnet-status", 100
 * when absent) answers the IPCNet requester.  Unanswered within --timeout,
 * the requester gets 304.
 *
 * --call PATTERN: an MQTT client publishes on PREFIX_call/PATH (PATH
 * matching PATTERN) with a response topic and correlation data; the
 * bridge requests PATH in IPCNet, as its own principal, and publishes the
 * answer to the response topic with the same correlation data and the
 * status as user property "ipcnet-status".
 *
 * Both need MQTT 5 (response topic, correlation data): under 3.1.1 they are
 * off, and the bridge says so when it connects.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/random.h>

#include <mqtt_protocol.h>

#include "bridge.h"
#include "topic.h"

struct br_pending {
    struct br_pending *next;
    char corr[64];
    ipcn_responder resp;
    struct timespec deadline;
};

typedef struct call_ctx {
    struct call_ctx *next; /* bridge.calls_pending: freed at exit if the
                              answer never came (the node closed first) */
    bridge *b;
    char *rtopic;
    void *corr;
    size_t corr_len;
} call_ctx;

static void add_ms(struct timespec *t, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static int on_request(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    bridge *b = user;
    (void)n;
    if (b->version != 5) {
        static const char why[] = "the MQTT broker does not speak MQTT 5";
        ipcn_reply_set(ctx, why, sizeof why - 1, "text/plain");
        return IPCN_NOT_IMPLEMENTED;
    }
    char topic[600];
    if (!br_topic(b, "_req/", req->path, topic, sizeof topic))
        return IPCN_BAD_REQUEST;
    struct br_pending *p = calloc(1, sizeof *p);
    if (!p)
        return IPCN_INSUFFICIENT_MEMORY;
    /* correlation data: 16 random bytes (hex) and a counter, so that no
     * one who can publish on the reply topic can guess it */
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        free(p);
        return IPCN_INTERNAL_ERROR;
    }
    char hexr[33];
    for (int i = 0; i < 16; i++)
        snprintf(hexr + 2 * i, 3, "%02x", rnd[i]);
    pthread_mutex_lock(&b->lock);
    snprintf(p->corr, sizeof p->corr, "%s-%" PRIu64, hexr, ++b->next_corr);
    pthread_mutex_unlock(&b->lock);
    add_ms(&p->deadline, b->o.timeout_ms);
    p->resp = ipcn_reply_defer(ctx);
    /* once linked, p belongs to the list: the sweep or an answer may take
     * and free it at any time, so what the push needs is copied first */
    char corr[sizeof p->corr];
    memcpy(corr, p->corr, sizeof corr);
    ipcn_responder resp = p->resp;
    pthread_mutex_lock(&b->lock);
    p->next = b->pending;
    b->pending = p;
    b->c.requests++;
    pthread_mutex_unlock(&b->lock);
    const char *ct = !strcmp(req->encoding, "cbor") ? "application/cbor" : req->encoding;
    if (!br_out_push(b, topic, req->data, req->len, false, ct, req->src_name, 0, corr,
                     strlen(corr), NULL, b->reply_topic)) {
        /* the buffer is full: take it back and answer 205, unless the
         * sweep (304) or an answer took it first, and freed it */
        pthread_mutex_lock(&b->lock);
        struct br_pending **pp = &b->pending;
        while (*pp && *pp != p)
            pp = &(*pp)->next;
        bool mine = *pp != NULL;
        if (mine)
            *pp = p->next;
        pthread_mutex_unlock(&b->lock);
        if (mine) {
            ipcn_respond(b->node, resp, IPCN_TOO_MANY_REQUESTS, NULL, 0, NULL);
            free(p);
        }
    }
    return IPCN_ACCEPTED;
}

/* An answer on this bridge's reply topic. */
static void on_answer(bridge *b, const struct mosquitto_message *m,
                      const mosquitto_property *props)
{
    void *corr = NULL;
    uint16_t clen = 0;
    mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr, &clen, false);
    struct br_pending *p = NULL;
    pthread_mutex_lock(&b->lock);
    for (struct br_pending **pp = &b->pending; corr && *pp; pp = &(*pp)->next)
        if (strlen((*pp)->corr) == clen && !memcmp((*pp)->corr, corr, clen)) {
            p = *pp;
            *pp = p->next;
            break;
        }
    pthread_mutex_unlock(&b->lock);
    free(corr);
    if (!p) {
        br_log("answer on %s with unknown correlation data: dropped", m->topic);
        return;
    }
    int status = IPCN_OK;
    const mosquitto_property *it = props;
    bool first = true;
    char *name = NULL, *value = NULL;
    while ((it = mosquitto_property_read_string_pair(it, MQTT_PROP_USER_PROPERTY, &name, &value,
                                                     !first))) {
        first = false;
        if (!strcmp(name, "ipcnet-status"))
            status = br_parse_status(value, status);
        free(name);
        free(value);
        name = value = NULL;
    }
    char *ctype = NULL;
    mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &ctype, false);
    int st = ipcn_respond(b->node, p->resp, status, m->payload, (size_t)m->payloadlen,
                          br_encoding(ctype));
    if (st != IPCN_OK && st != IPCN_NOT_FOUND && st != IPCN_SERVICE_UNAVAILABLE) {
        /* the answer could not be passed on (too large, ...): the
         * requester still gets one */
        br_log("answer on %s: %d %s: answered 302", m->topic, st, ipcn_status_str(st));
        ipcn_respond(b->node, p->resp, IPCN_BAD_GATEWAY, NULL, 0, NULL);
    }
    free(ctype);
    free(p);
}

static void answer_call(call_ctx *cx, int status, const ipcn_msg *reply)
{
    bridge *b = cx->b;
    pthread_mutex_lock(&b->lock);
    for (call_ctx **pp = &b->calls_pending; *pp; pp = &(*pp)->next)
        if (*pp == cx) {
            *pp = cx->next;
            b->ncalls_pending--;
            break;
        }
    pthread_mutex_unlock(&b->lock);
    char st[16];
    snprintf(st, sizeof st, "%d", status);
    const char *ct = reply ? reply->encoding : NULL;
    if (ct && !strcmp(ct, "cbor"))
        ct = "application/cbor";
    br_out_push(b, cx->rtopic, reply ? reply->data : "", reply ? reply->len : 0, false, ct,
                NULL, 0, cx->corr, cx->corr_len, st, NULL);
    free(cx->rtopic);
    free(cx->corr);
    free(cx);
}

/* The answer of the bridge's request: 201 and 202 are the permissions
 * (the bridge may not execute the service), counted in denied; 203 (no
 * such service, or none the bridge may see) in not_found. */
static void call_done(ipcn_node *n, int status, const ipcn_msg *reply, void *user)
{
    call_ctx *cx = user;
    (void)n;
    if (status == IPCN_FORBIDDEN || status == IPCN_UNAUTHORIZED)
        br_count(cx->b, &cx->b->c.denied);
    else if (status == IPCN_NOT_FOUND)
        br_count(cx->b, &cx->b->c.not_found);
    answer_call(cx, status, reply);
}

/* May the bridge publish an answer on t, a topic the caller chose?  Not
 * under --prefix (the bridge's own topics, those other bridges import) nor
 * on a topic an --import filter covers. */
static bool response_topic_ok(bridge *b, const char *t)
{
    if (!*t || !strncmp(t, b->o.prefix, strlen(b->o.prefix)) || strchr(t, '+') ||
        strchr(t, '#'))
        return false;
    for (int i = 0; i < b->o.nimports; i++) {
        char filter[512];
        bool match = false;
        br_import_filter(b->o.imports[i], filter, sizeof filter);
        if (mosquitto_topic_matches_sub(filter, t, &match) != MOSQ_ERR_SUCCESS || match)
            return false;
    }
    return true;
}

/* A call on PREFIX_call/PATH. */
static void on_call(bridge *b, const struct mosquitto_message *m,
                    const mosquitto_property *props, const char *path)
{
    call_ctx *cx = calloc(1, sizeof *cx);
    if (!cx)
        return;
    cx->b = b;
    uint16_t clen = 0;
    mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &cx->rtopic, false);
    mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &cx->corr, &clen, false);
    cx->corr_len = clen;
    bool rt_ok = cx->rtopic && response_topic_ok(b, cx->rtopic);
    pthread_mutex_lock(&b->lock);
    bool full = b->ncalls_pending >= BR_MAX_CALLS;
    if (!rt_ok || full)
        b->c.calls_refused++;
    pthread_mutex_unlock(&b->lock);
    if (!rt_ok) {
        br_log("call %s: %s: dropped", m->topic,
               cx->rtopic ? "response topic under --prefix or --import" : "no response topic");
        free(cx->rtopic);
        free(cx->corr);
        free(cx);
        return;
    }
    if (full) {
        answer_call(cx, IPCN_TOO_MANY_REQUESTS, NULL);
        return;
    }
    bool allowed = false;
    for (int i = 0; i < b->o.ncalls && !allowed; i++)
        allowed = ipcn_pattern_match(b->o.calls[i], path) == 1;
    char abs[300];
    int n = snprintf(abs, sizeof abs, "/%s", path);
    if (!allowed || n < 0 || (size_t)n >= sizeof abs) {
        /* not bridged (no --call pattern): answered as if it did not
         * exist, counted in calls_refused */
        br_count(b, &b->c.calls_refused);
        answer_call(cx, IPCN_NOT_FOUND, NULL);
        return;
    }
    pthread_mutex_lock(&b->lock);
    b->c.calls++;
    cx->next = b->calls_pending;
    b->calls_pending = cx;
    b->ncalls_pending++;
    pthread_mutex_unlock(&b->lock);
    char *ctype = NULL;
    mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &ctype, false);
    int st = ipcn_request_async(b->node, abs, m->payload, (size_t)m->payloadlen,
                                br_encoding(ctype), b->o.timeout_ms, call_done, cx, NULL);
    free(ctype);
    if (st != IPCN_ACCEPTED)
        call_done(b->node, st, NULL, cx); /* 203: no provider the bridge may see */
}

bool br_service_message(bridge *b, const struct mosquitto_message *m,
                        const mosquitto_property *props)
{
    if (!strcmp(m->topic, b->reply_topic)) {
        on_answer(b, m, props);
        return true;
    }
    char head[300];
    snprintf(head, sizeof head, "%s_call/", b->o.prefix);
    size_t hl = strlen(head);
    if (b->o.ncalls && !strncmp(m->topic, head, hl)) {
        on_call(b, m, props, m->topic + hl);
        return true;
    }
    return false;
}

void br_service_subscribe(bridge *b)
{
    if (b->version != 5) {
        if (b->o.nservices || b->o.ncalls)
            br_log("services: off (they need MQTT 5: response topic, correlation data)");
        return;
    }
    if (b->o.nservices && mosquitto_subscribe_v5(b->mosq, NULL, b->reply_topic, 1,
                                                 MQTT_SUB_OPT_NO_LOCAL, NULL) == MOSQ_ERR_SUCCESS)
        b->subs_pending++;
    if (b->o.ncalls) {
        char filter[300];
        snprintf(filter, sizeof filter, "%s_call/#", b->o.prefix);
        if (mosquitto_subscribe_v5(b->mosq, NULL, filter, 1, MQTT_SUB_OPT_NO_LOCAL, NULL) ==
            MOSQ_ERR_SUCCESS)
            b->subs_pending++;
    }
}

int br_service_start(bridge *b)
{
    for (int i = 0; i < b->o.nservices; i++) {
        char abs[300];
        snprintf(abs, sizeof abs, "/%s", b->o.services[i]);
        int st = ipcn_offer(b->node, abs, NULL, on_request, b);
        if (st != IPCN_OK) {
            br_log("--service %s: %d %s", b->o.services[i], st, ipcn_status_str(st));
            return st;
        }
    }
    return IPCN_OK;
}

/* Requests whose MQTT responder did not answer in time: 304. */
void br_service_sweep(bridge *b, bool all)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    for (;;) {
        struct br_pending *p = NULL;
        pthread_mutex_lock(&b->lock);
        for (struct br_pending **pp = &b->pending; *pp; pp = &(*pp)->next)
            if (all || (*pp)->deadline.tv_sec < now.tv_sec ||
                ((*pp)->deadline.tv_sec == now.tv_sec &&
                 (*pp)->deadline.tv_nsec <= now.tv_nsec)) {
                p = *pp;
                *pp = p->next;
                break;
            }
        pthread_mutex_unlock(&b->lock);
        if (!p)
            return;
        if (!all)
            ipcn_respond(b->node, p->resp, IPCN_GATEWAY_TIMEOUT, NULL, 0, NULL);
        free(p);
    }
}

void br_service_free(bridge *b)
{
    br_service_sweep(b, true);
    /* calls whose answer never came: the node is closed, it never will */
    while (b->calls_pending) {
        call_ctx *cx = b->calls_pending;
        b->calls_pending = cx->next;
        free(cx->rtopic);
        free(cx->corr);
        free(cx);
    }
    b->ncalls_pending = 0;
}
