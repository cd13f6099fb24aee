/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/bridge_svc.c - services across the DDS bridge, in ROS 2's
 * form: a service NAME is the topic pair rq/NAMERequest (requests) and
 * rr/NAMEReply (replies) of ipcnet_msgs/srv/Call, each sample led by the
 * header rmw_cyclonedds uses (the client's GUID part and a sequence
 * number; a reply repeats those of its request).
 *  - outward (--export-service PATTERN): IPCNet services matching PATTERN,
 *    called by DDS clients: a request becomes ipcn_request_async(), its
 *    answer the reply.
 *  - inward (--import-service NAME[=PATH]): a DDS service offered as an
 *    IPCNet service at PATH: an IPCNet request is deferred, sent on
 *    rq/NAMERequest, and answered when the reply with our GUID and its
 *    sequence number comes (304 after the request timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "ipcnet_msgs.h"

dds_entity_t ddsb_endpoint(ddsb_bridge *b, const dds_topic_descriptor_t *desc,
                           const char *topic, int writer, int reliable,
                           int transient, uint32_t depth);

/* The two endpoints of a service: services are reliable, volatile, keep
 * last 10 (ROS 2's default profile for services). */
static int svc_endpoints(ddsb_bridge *b, ddsb_svc *s)
{
    char rq[300], rr[300];
    int n1 = snprintf(rq, sizeof rq, "rq/%sRequest", s->name);
    int n2 = snprintf(rr, sizeof rr, "rr/%sReply", s->name);
    if (n1 < 0 || (size_t)n1 >= sizeof rq || n2 < 0 || (size_t)n2 >= sizeof rr)
        return IPCN_BAD_REQUEST;
    const dds_topic_descriptor_t *req = &ipcnet_msgs_srv_dds__Call_Request__desc;
    const dds_topic_descriptor_t *rep = &ipcnet_msgs_srv_dds__Call_Response__desc;
    if (s->outward) {
        s->reader = ddsb_endpoint(b, req, rq, 0, 1, 0, 10);
        s->writer = ddsb_endpoint(b, rep, rr, 1, 1, 0, 10);
    } else {
        s->reader = ddsb_endpoint(b, rep, rr, 0, 1, 0, 10);
        s->writer = ddsb_endpoint(b, req, rq, 1, 1, 0, 10);
    }
    if (s->reader <= 0 || s->writer <= 0) {
        /* tried again later (ddsb_svc_scan), not kept half made */
        if (s->reader > 0)
            dds_delete(s->reader);
        if (s->writer > 0)
            dds_delete(s->writer);
        s->reader = s->writer = -1;
        s->retry_ms = ddsb_now_ms() + DDSB_RETRY_MS;
        return IPCN_BAD_GATEWAY;
    }
    dds_guid_t g;
    if (dds_get_guid(s->writer, &g) == DDS_RETCODE_OK)
        memcpy(&s->guid, g.v + 8, sizeof s->guid);
    dds_waitset_attach(b->waitset,
                       dds_create_readcondition(s->reader, DDS_ANY_STATE), 0);
    if (b->verbose)
        fprintf(stderr, "ipcnet-bridge-dds: service %s: %s, %s\n", s->path, rq, rr);
    return IPCN_OK;
}

/* ---- inward: an IPCNet request to a DDS server ---------------------- */

/* An encoding ipcn_respond() takes: at most 255 bytes, each 0x20..0x7E. */
static int encoding_ok(const char *enc)
{
    size_t n = strnlen(enc, 256);
    if (n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)enc[i] < 0x20 || (unsigned char)enc[i] > 0x7E)
            return 0;
    return 1;
}

static int on_ipcn_request(ipcn_node *node, const ipcn_msg *req,
                           ipcn_reply_ctx *ctx, void *user)
{
    ddsb_svc *s = user;
    ddsb_bridge *b = s->b;
    if (req->len > UINT32_MAX)
        return IPCN_BAD_REQUEST;
    /* no DDS server matched: 303 now rather than 304 after the timeout
     * (a request written to no reader is lost) */
    dds_publication_matched_status_t pm;
    if (dds_get_publication_matched_status(s->writer, &pm) == DDS_RETCODE_OK &&
        pm.current_count == 0) {
        b->st.no_server++;
        return IPCN_SERVICE_UNAVAILABLE;
    }
    ddsb_pending *p = calloc(1, sizeof *p);
    if (!p)
        return IPCN_INSUFFICIENT_MEMORY;
    /* the responder first: the reply may be taken (inward_take) as soon
     * as the request is written, and dds_write() runs outside b->lock (a
     * reliable writer may block) */
    p->resp = ipcn_reply_defer(ctx);
    pthread_mutex_lock(&b->lock);
    p->seq = ++s->next_seq;
    p->deadline_ms = ddsb_now_ms() + (uint64_t)b->request_timeout_ms;
    p->next = s->pending;
    s->pending = p;
    int64_t seq = p->seq;
    pthread_mutex_unlock(&b->lock);
    ipcnet_msgs_srv_dds__Call_Request_ r;
    memset(&r, 0, sizeof r);
    r.client_guid = s->guid;
    r.sequence_number = seq;
    r.encoding = (char *)(req->encoding ? req->encoding : "");
    r.data._buffer = (uint8_t *)req->data;
    r.data._length = r.data._maximum = (uint32_t)req->len;
    if (dds_write(s->writer, &r) < 0) {
        /* not sent: taken back (unless timed out meanwhile) and answered
         * 302 by returning it (the node answers a responder not used) */
        int mine = 0;
        pthread_mutex_lock(&b->lock);
        for (ddsb_pending **pp = &s->pending; *pp; pp = &(*pp)->next)
            if (*pp == p) {
                *pp = p->next;
                mine = 1;
                break;
            }
        pthread_mutex_unlock(&b->lock);
        b->st.write_failed++;
        if (!mine)
            return IPCN_ACCEPTED; /* answered (304) by inward_take */
        free(p);
        return IPCN_BAD_GATEWAY;
    }
    b->st.requests_out++;
    return IPCN_ACCEPTED;
}

static void inward_take(ddsb_bridge *b, ddsb_svc *s)
{
    enum { N = 16 };
    void *samples[N] = {NULL};
    dds_sample_info_t info[N];
    dds_return_t n = dds_take(s->reader, samples, info, N, N);
    for (dds_return_t i = 0; i < n; i++) {
        const ipcnet_msgs_srv_dds__Call_Response_ *r = samples[i];
        if (!info[i].valid_data || r->client_guid != s->guid)
            continue; /* another client's reply */
        pthread_mutex_lock(&b->lock);
        ddsb_pending **pp = &s->pending, *p = NULL;
        for (; *pp; pp = &(*pp)->next)
            if ((*pp)->seq == r->sequence_number) {
                p = *pp;
                *pp = p->next;
                break;
            }
        pthread_mutex_unlock(&b->lock);
        if (!p)
            continue; /* answered already, or timed out */
        int status = r->status;
        if (status < 100 || (status > 399 && status < 1000) || status > 65535)
            status = IPCN_BAD_GATEWAY;
        const char *enc = r->encoding ? r->encoding : "";
        if (!encoding_ok(enc)) {
            /* ipcn_respond() would refuse it (200) without answering:
             * the caller would wait to its timeout */
            if (b->verbose)
                fprintf(stderr, "ipcnet-bridge-dds: %s: a reply whose encoding "
                                "IPCNet cannot carry: 302\n", s->path);
            ipcn_respond(b->node, p->resp, IPCN_BAD_GATEWAY, NULL, 0, NULL);
            b->st.bad_replies++;
        } else {
            int rs = ipcn_respond(b->node, p->resp, status, r->data._buffer,
                                  r->data._length, enc);
            if (rs == IPCN_OK || rs == IPCN_SERVICE_UNAVAILABLE)
                b->st.replies++; /* 303: the requester left meanwhile */
            else
                b->st.write_failed++;
        }
        free(p);
    }
    if (n > 0)
        dds_return_loan(s->reader, samples, n);
    /* requests whose reply did not come in time: answered outside the
     * lock (no call into the node while holding it) */
    uint64_t t = ddsb_now_ms();
    ddsb_pending *expired = NULL;
    pthread_mutex_lock(&b->lock);
    for (ddsb_pending **pp = &s->pending; *pp;) {
        ddsb_pending *p = *pp;
        if (p->deadline_ms > t) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        p->next = expired;
        expired = p;
    }
    pthread_mutex_unlock(&b->lock);
    while (expired) {
        ddsb_pending *p = expired;
        expired = p->next;
        ipcn_respond(b->node, p->resp, IPCN_GATEWAY_TIMEOUT, NULL, 0, NULL);
        b->st.timeouts++;
        free(p);
    }
}

/* ---- outward: a DDS request to an IPCNet service ------------------- */

static void send_reply(ddsb_svc *s, uint64_t guid, int64_t seq, int status,
                       const ipcn_msg *reply)
{
    ipcnet_msgs_srv_dds__Call_Response_ r;
    memset(&r, 0, sizeof r);
    r.client_guid = guid;
    r.sequence_number = seq;
    r.status = status;
    r.encoding = (char *)(reply && reply->encoding ? reply->encoding : "");
    if (reply && reply->len <= UINT32_MAX) {
        r.data._buffer = (uint8_t *)reply->data;
        r.data._length = r.data._maximum = (uint32_t)reply->len;
    }
    if (dds_write(s->writer, &r) < 0)
        s->b->st.write_failed++;
    else
        s->b->st.replies++;
}

static void call_unlink(ddsb_bridge *b, ddsb_call *c)
{
    pthread_mutex_lock(&b->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        c->s->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->s->n_calls--;
    pthread_mutex_unlock(&b->lock);
}

static void on_ipcn_reply(ipcn_node *node, int status, const ipcn_msg *reply,
                          void *user)
{
    ddsb_call *c = user;
    call_unlink(c->s->b, c);
    send_reply(c->s, c->guid, c->seq, status, reply);
    free(c);
}

static void outward_take(ddsb_bridge *b, ddsb_svc *s)
{
    enum { N = 16 };
    void *samples[N] = {NULL};
    dds_sample_info_t info[N];
    dds_return_t n = dds_take(s->reader, samples, info, N, N);
    for (dds_return_t i = 0; i < n; i++) {
        const ipcnet_msgs_srv_dds__Call_Request_ *r = samples[i];
        if (!info[i].valid_data)
            continue;
        pthread_mutex_lock(&b->lock);
        int full = s->n_calls >= DDSB_MAX_CALLS;
        pthread_mutex_unlock(&b->lock);
        if (full) {
            /* a DDS client flooding the service: not all held in memory */
            b->st.too_many++;
            send_reply(s, r->client_guid, r->sequence_number,
                       IPCN_TOO_MANY_REQUESTS, NULL);
            continue;
        }
        ddsb_call *c = calloc(1, sizeof *c);
        if (!c) {
            send_reply(s, r->client_guid, r->sequence_number,
                       IPCN_INSUFFICIENT_MEMORY, NULL);
            continue;
        }
        c->s = s;
        c->guid = r->client_guid;
        c->seq = r->sequence_number;
        pthread_mutex_lock(&b->lock);
        c->next = s->calls;
        if (s->calls)
            s->calls->prev = c;
        s->calls = c;
        s->n_calls++;
        pthread_mutex_unlock(&b->lock);
        b->st.requests_in++;
        int st = ipcn_request_async(b->node, s->path, r->data._buffer,
                                    r->data._length, r->encoding,
                                    b->request_timeout_ms, on_ipcn_reply, c,
                                    NULL);
        if (st != IPCN_ACCEPTED) {
            call_unlink(b, c);
            send_reply(s, c->guid, c->seq, st, NULL);
            free(c);
        }
    }
    if (n > 0)
        dds_return_loan(s->reader, samples, n);
}

/* ---- the services ---------------------------------------------------- */

static ddsb_svc *svc_add(ddsb_bridge *b, const char *name, const char *path,
                         int outward)
{
    if (b->n_svc == DDSB_MAX_TOPICS)
        return NULL;
    ddsb_svc *s = &b->svc[b->n_svc];
    memset(s, 0, sizeof *s);
    s->b = b;
    s->outward = outward;
    s->name = strdup(name);
    s->path = strdup(path);
    s->reader = s->writer = -1;
    if (!s->name || !s->path) {
        free(s->name);
        free(s->path);
        return NULL;
    }
    b->n_svc++;
    return s;
}

int ddsb_svc_start(ddsb_bridge *b)
{
    for (unsigned i = 0; i < b->n_svc_in; i++) {
        ddsb_rule *r = &b->svc_in[i];
        ddsb_svc *s = svc_add(b, r->pattern, r->path, 0);
        if (!s)
            return IPCN_INSUFFICIENT_MEMORY;
        int st = svc_endpoints(b, s);
        if (st != IPCN_OK)
            return st;
        st = ipcn_offer(b->node, s->path, "", on_ipcn_request, s);
        if (st != IPCN_OK) {
            fprintf(stderr, "ipcnet-bridge-dds: offer %s: %s\n", s->path,
                    ipcn_status_str(st));
            return st;
        }
    }
    return IPCN_OK;
}

/* New IPCNet services matching --export-service. */
void ddsb_svc_scan(ddsb_bridge *b)
{
    for (unsigned i = 0; i < b->n_svc_out; i++) {
        ipcn_resource_list *l = NULL;
        if (ipcn_find(b->node, b->svc_out[i].pattern, IPCN_SERVICE, &l) != IPCN_OK)
            continue;
        for (size_t k = 0; k < l->count; k++) {
            const char *path = l->items[k].path;
            if (l->items[k].provider_id == ipcn_node_id(b->node))
                continue;
            ddsb_svc *s = NULL;
            for (unsigned j = 0; j < b->n_svc && !s; j++)
                if (!strcmp(b->svc[j].path, path))
                    s = &b->svc[j];
            if (s) {
                /* one whose endpoints Cyclone refused: again */
                if (s->outward && !s->refused && s->writer <= 0 &&
                    ddsb_now_ms() >= s->retry_ms)
                    svc_endpoints(b, s);
                continue;
            }
            char name[256];
            int refused = ddsb_ros_name(path, name, sizeof name) != IPCN_OK;
            if (refused)
                fprintf(stderr, "ipcnet-bridge-dds: service %s: not bridged: a "
                                "byte a ROS 2 name cannot hold (only A-Z a-z "
                                "0-9 _ / - .)\n", path);
            for (unsigned j = 0; j < b->n_svc && !refused; j++)
                if (!strcmp(b->svc[j].name, name)) {
                    refused = 1;
                    fprintf(stderr, "ipcnet-bridge-dds: service %s: not bridged: "
                                    "its name %s is %s's already\n", path, name,
                            b->svc[j].path);
                }
            s = svc_add(b, refused ? "" : name, path, 1);
            if (!s) {
                if (!b->svc_full_logged)
                    fprintf(stderr, "ipcnet-bridge-dds: service %s: not bridged: "
                                    "already %d services (the limit)\n", path,
                            DDSB_MAX_TOPICS);
                b->svc_full_logged = 1;
                continue;
            }
            s->refused = refused;
            if (refused)
                b->st.refused++;
            else if (svc_endpoints(b, s) != IPCN_OK)
                fprintf(stderr, "ipcnet-bridge-dds: service %s: not bridged yet "
                                "(tried again in %d ms)\n", path, DDSB_RETRY_MS);
        }
        ipcn_resource_list_free(l);
    }
}

void ddsb_svc_take(ddsb_bridge *b)
{
    for (unsigned i = 0; i < b->n_svc; i++) {
        ddsb_svc *s = &b->svc[i];
        if (s->reader <= 0 || s->writer <= 0)
            continue;
        if (s->outward)
            outward_take(b, s);
        else
            inward_take(b, s);
    }
}

void ddsb_svc_stop(ddsb_bridge *b)
{
    for (unsigned i = 0; i < b->n_svc; i++) {
        ddsb_svc *s = &b->svc[i];
        while (s->pending) {
            ddsb_pending *p = s->pending;
            s->pending = p->next;
            ipcn_respond(b->node, p->resp, IPCN_SERVICE_UNAVAILABLE, NULL, 0, NULL);
            free(p);
        }
        /* DDS requests still in IPCNet: their callbacks will not run (the
         * node's thread is stopped; closing ends them without one) */
        while (s->calls) {
            ddsb_call *c = s->calls;
            s->calls = c->next;
            free(c);
        }
        free(s->name);
        free(s->path);
    }
}
