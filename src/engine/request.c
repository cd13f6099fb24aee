/* SPDX-License-Identifier: MIT */
/*
 * request.c — the requester's side of queries and requests: correlation
 * ids, deadlines, the choice among several providers, fail-over when one
 * dies, cancelling; sets of data resources (ipcn_set) too.  The
 * provider's side is provide.c (set.c for sets).
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "transport/reputation.h"
#include "value/value.h"

void ipcn__pending_free(ipcn__pending *p)
{
    ipcn__free(p->path);
    ipcn__free(p->encoding);
    if (!p->borrowed)
        ipcn__free(p->data);
    if (p->reply)
        ipcn_msg_free(&p->reply->pub);
    ipcn__free(p);
}

static ipcn__pending *pending_by_corr(ipcn_node *n, uint64_t corr)
{
    ipcn__pending *p;
    ipcn__list_for_each(p, t, &n->pendings, ipcn__pending, entry)
        if (p->corr == corr)
            return p;
    return NULL;
}

/* A pending sent to a peer is awaited there: the link is watched for the
 * peer's liveness (pinged, dropped after dead_after of silence) until it is
 * answered, ends or goes elsewhere. */
static void await_on(ipcn__pending *p, ipcn__link *l)
{
    p->awaited = true;
    l->awaiting++;
}

static void await_off(ipcn_node *n, ipcn__pending *p)
{
    if (!p->awaited)
        return;
    p->awaited = false;
    ipcn__link *l = ipcn__link_by_id(n, p->link_id);
    if (l && l->awaiting)
        l->awaiting--;
}

/* Finish a pending query or request: wake its waiter, or queue its
 * callback.  Takes ownership of reply. */
static void complete(ipcn_node *n, ipcn__pending *p, int status,
                     ipcn__msg *reply)
{
    if (p->done) {
        if (reply)
            ipcn_msg_free(&reply->pub);
        return;
    }
    await_off(n, p);
    ipcn__remote *r;
    if (p->link_id) {
        ipcn__list_for_each(r, t, &n->remotes, ipcn__remote, entry)
            if (r->link_id == p->link_id && !strcmp(r->path, p->path) &&
                r->inflight)
                r->inflight--;
    }
    p->done = true;
    p->status = status;
    p->reply = reply;
    ipcn__list_remove(&p->entry);
    if (p->multi) /* one answer of several (multi.c): its parent counts it */
        ipcn__multi_on_child(n, p);
    if (p->fn) {
        ipcn__cb *cb = ipcn__calloc(1, sizeof *cb);
        if (!cb) {
            ipcn__pending_free(p);
            return;
        }
        cb->kind = CB_REPLY;
        cb->pend = p;
        ipcn__queue_cb(n, cb);
    }
    /* A waiting caller owns p now; it checks p->done.  It may be asleep in
     * epoll_wait (an answer from another thread through ipcn_respond), so
     * wake the fd as well as the condition. */
    if (n->pumping) /* only a thread asleep in epoll_wait needs the fd */
        ipcn__node_wake(n);
    pthread_cond_broadcast(&n->cond);
}

/* The answer of this node's own provider to its own pending request
 * (corr): 100, or 303 when the requester gave up meanwhile, 307. */
int ipcn__req_answer_local(ipcn_node *n, uint64_t corr, int status,
                           const void *data, size_t len, const char *enc)
{
    return ipcn__req_answer_local_seq(n, corr, status, 0, data, len, enc);
}

int ipcn__req_answer_local_seq(ipcn_node *n, uint64_t corr, int status,
                               uint64_t seq, const void *data, size_t len,
                               const char *enc)
{
    ipcn__pending *p = pending_by_corr(n, corr);
    if (!p)
        return IPCN_SERVICE_UNAVAILABLE;
    ipcn__msg *m = ipcn__msg_new(p->path, strlen(p->path), enc ? enc : "",
                                 enc ? strlen(enc) : 0, n->name, n->id, data,
                                 len);
    if (!m)
        return IPCN_INSUFFICIENT_MEMORY;
    m->pub.status = status;
    m->pub.seq = seq;
    complete(n, p, status, m);
    return IPCN_OK;
}

/* Send p to the provider at l (UP).  Returns 100 when sent; 303 when the
 * link cannot take it; else a status for the caller (205, 305, 307). */
static int send_to(ipcn_node *n, ipcn__pending *p, ipcn__link *l)
{
    if (p->kind == PEND_SET && !(l->peer_caps & IPCN_CAP_SET))
        return IPCN_VERSION_NOT_SUPPORTED; /* a node older than sets */
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, p->corr);
    uint32_t left = 0;
    if (p->deadline_ns) {
        uint64_t now = ipcn__now_mono_ns();
        left = p->deadline_ns > now
                   ? (uint32_t)((p->deadline_ns - now) / 1000000ull) + 1
                   : 1;
    }
    ipcn__request rq = {.timeout_ms = left,
                        .path = ipcn__str_of(p->path),
                        .encoding = ipcn__str_of(p->encoding),
                        .data = ipcn__blob_of(p->data, p->len)};
    p->sent_once = false;
    if (p->kind == PEND_QUERY && p->expect_version) {
        /* A past version (history.c): only a provider that knows the
         * QUERY's extension can be asked. */
        if (!(l->peer_caps & IPCN_CAP_HISTORY))
            return IPCN_NOT_IMPLEMENTED;
        rq.version = p->expect_version;
    }
    if (p->kind == PEND_REQUEST && (l->peer_caps & IPCN_CAP_REDUNDANCY)) {
        /* A provider that runs it at most once knows a retry by it. */
        ipcn__remote *r = ipcn__remote_find(n, p->path, l->id);
        if (r && (r->ann_flags & IPCN_ANN_ONCE)) {
            rq.request_id = p->request_id;
            p->sent_once = true;
        }
    }
    n->scratch.len = 0;
    int st;
    /* 16 KiB or more to a provider that takes it: through shared memory
     * (docs/protocol.md 12.9); the node's own services are answered by
     * sys.c, inline. */
    if (p->kind == PEND_REQUEST && p->len >= IPCN_SHM_THRESHOLD &&
        !ipcn__sys_path(p->path, strlen(p->path)) &&
        ipcn__pool_send_request(n, l, p->corr, p->path, p->encoding,
                                rq.request_id, left, p->data,
                                p->len) == IPCN_OK) {
        n->stats.shm_requests_sent++;
        ipcn__remote *r = ipcn__remote_find(n, p->path, l->id);
        if (r)
            r->inflight++;
        await_on(p, l);
        return IPCN_OK;
    }
    if (p->kind == PEND_SET) {
        ipcn__set s = {.timeout_ms = left,
                       .expect_version = p->expect_version,
                       .path = rq.path,
                       .encoding = rq.encoding,
                       .data = rq.data};
        st = ipcn__enc_set(&n->scratch, &h, &s);
    } else {
        st = ipcn__enc_request(&n->scratch, &h,
                               p->kind == PEND_QUERY ? IPCN_F_QUERY
                                                     : IPCN_F_REQUEST,
                               &rq);
    }
    if (st != IPCN_OK)
        return st;
    st = ipcn__link_send_raw(n, l, n->scratch.p, n->scratch.len, false);
    if (st == IPCN_OK) {
        ipcn__remote *r = ipcn__remote_find(n, p->path, l->id);
        if (r)
            r->inflight++;
        await_on(p, l);
    }
    return st;
}

/* Send p to a provider.  Returns 100 when sent (or handed to this node's
 * own handler), else a status for the caller (203, 204, 303, 205...). */
static int send_pending(ipcn_node *n, ipcn__pending *p, bool allow_local)
{
    ipcn_kind want = p->kind == PEND_REQUEST ? IPCN_SERVICE : IPCN_DATA;
    await_off(n, p); /* a fail-over: no longer awaited where it was */
    for (;;) {
        uint32_t link_id;
        int st = ipcn__choose(n, p, want, allow_local, &link_id);
        if (st != IPCN_OK)
            return st;
        if (p->ntried < IPCN_MAX_PROVIDERS_TRIED)
            p->tried[p->ntried++] = link_id;
        else
            return IPCN_SERVICE_UNAVAILABLE;
        p->link_id = link_id;
        if (link_id == 0)
            return IPCN_OK; /* the caller runs this node's own provider */
        ipcn__link *l = ipcn__link_by_id(n, link_id);
        if (!l || l->state != LINK_UP)
            continue;
        st = send_to(n, p, l);
        if (st != IPCN_SERVICE_UNAVAILABLE)
            return st; /* sent; or 205 saturated, 307: the caller hears it */
    }
}

/* Tell a provider that we gave up on p, so that it does not start it. */
static void send_cancel(ipcn_node *n, const ipcn__pending *p)
{
    if (p->kind == PEND_QUERY || !p->link_id)
        return;
    ipcn__link *l = ipcn__link_by_id(n, p->link_id);
    if (!l || l->state != LINK_UP || !(l->peer_caps & IPCN_CAP_CANCEL))
        return;
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, p->corr);
    size_t mark = ipcn__link_tx_mark(l, 0);
    ipcn__link_commit(n, l, mark, ipcn__enc_empty(&l->tx, &h, IPCN_F_CANCEL));
}

/* A timeout is the provider's fault only when the caller gave it this
 * long: a caller's own tight deadline must not cost a healthy provider. */
#define TIMEOUT_CHARGED_MS 1000u

/* The provider of p failed it: answered 300, or let it time out (what it
 * is answerable for: not a link that went, not our own cancel, not a
 * deadline under TIMEOUT_CHARGED_MS).  Charged to its principal
 * (reputation.c), and a strike against it as a provider of p's path
 * (choose.c: avoided after three in a row). */
static void charge_provider(ipcn_node *n, const ipcn__pending *p,
                            ipcn__offence k)
{
    ipcn__link *l = p->link_id ? ipcn__link_by_id(n, p->link_id) : NULL;
    if (!l || l->state != LINK_UP ||
        (k == IPCN__OFF_TIMEOUT && p->timeout_ms < TIMEOUT_CHARGED_MS))
        return;
    ipcn__remote *r = ipcn__remote_find(n, p->path, p->link_id);
    if (r)
        ipcn__provider_failed(r, ipcn__now_mono_ns());
    char what[IPCN__REP_DETAIL];
    snprintf(what, sizeof what, "%s of %s: %s",
             p->kind == PEND_QUERY ? "query" : "request", p->path,
             k == IPCN__OFF_TIMEOUT ? "timed out" : "answered 300");
    ipcn__rep_offence(n, l, k, what);
}

ipcn__pending *ipcn__req_new(ipcn_node *n, enum pending_kind kind,
                             const char *path, const void *data, size_t len,
                             const char *enc, int timeout_ms)
{
    ipcn__pending *p = ipcn__calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kind = kind;
    p->path = ipcn__strdup(path);
    p->encoding = ipcn__strdup(enc ? enc : "");
    p->data = len ? ipcn__memdup(data, len) : NULL;
    p->len = len;
    if (!p->path || !p->encoding || (len && !p->data)) {
        ipcn__pending_free(p);
        return NULL;
    }
    do
        p->corr = ++n->next_corr;
    while (p->corr == 0 || pending_by_corr(n, p->corr));
    if (timeout_ms >= 0) {
        p->timeout_ms = (uint32_t)timeout_ms;
        p->deadline_ns = ipcn__now_mono_ns() + (uint64_t)timeout_ms * 1000000ull;
    }
    return p;
}

/* Answer a query from this node's own data, or run its own service. */
static void run_local(ipcn_node *n, ipcn__pending *p)
{
    if (p->kind == PEND_SET) {
        ipcn__set_local(n, p);
        return;
    }
    if (p->kind == PEND_QUERY && p->expect_version) {
        /* A past version of this node's own resource (history.c). */
        ipcn__local *lr = ipcn__local_find(n, p->path);
        ipcn_msg *v = NULL;
        int st = lr ? ipcn__hist_version(n, lr, p->expect_version, &v)
                    : IPCN_NOT_FOUND;
        ipcn__msg *m = NULL;
        if (st == IPCN_OK) {
            m = ipcn__msg_new(v->path, strlen(v->path), v->encoding,
                              strlen(v->encoding), v->src_name, v->src_id,
                              v->data, v->len);
            if (m) {
                m->pub.seq = v->seq;
                m->pub.timestamp_ns = v->timestamp_ns;
            } else {
                st = IPCN_INSUFFICIENT_MEMORY;
            }
            ipcn_msg_free(v);
        }
        complete(n, p, st, m);
        return;
    }
    if (p->kind == PEND_QUERY) {
        ipcn__local *lr = ipcn__local_find(n, p->path);
        if (!lr || !lr->value) {
            complete(n, p, lr ? IPCN_NO_DATA : IPCN_NOT_FOUND, NULL);
            return;
        }
        ipcn_msg *v = lr->value;
        ipcn__msg *m = ipcn__msg_new(v->path, strlen(v->path), v->encoding,
                                     strlen(v->encoding), v->src_name,
                                     v->src_id, v->data, v->len);
        if (!m) {
            complete(n, p, IPCN_INSUFFICIENT_MEMORY, NULL);
            return;
        }
        m->pub.seq = v->seq;
        m->pub.timestamp_ns = v->timestamp_ns;
        complete(n, p, IPCN_OK, m);
        return;
    }
    if (ipcn__sys_path(p->path, strlen(p->path))) {
        ipcn__sys_run_local(n, p);
        return;
    }
    ipcn__local *lr = ipcn__local_find(n, p->path);
    char why[256];
    int st = lr ? ipcn__prov_check_typed(lr, p->encoding, p->data, p->len,
                                         why, sizeof why)
                : IPCN_OK; /* (the handler answers a vanished service) */
    if (st != IPCN_OK) {
        ipcn__req_answer_local(n, p->corr, st, why, strlen(why), "text/plain");
        return;
    }
    /* This node's own service, run at most once: its own retries too. */
    if (lr && lr->once && p->request_id &&
        ipcn__once_admit(n, NULL, lr, p->corr, p->request_id,
                         p->deadline_ns) != IPCN_OK)
        return;
    ipcn__msg *m = ipcn__msg_new(p->path, strlen(p->path), p->encoding,
                                 strlen(p->encoding), n->name, n->id, p->data,
                                 p->len);
    if (!m) {
        ipcn__once_forget(n, p->path, 0, p->corr, IPCN_INSUFFICIENT_MEMORY);
        complete(n, p, IPCN_INSUFFICIENT_MEMORY, NULL);
        return;
    }
    if (p->fn) {
        /* Asynchronous: the handler runs later, from dispatch. */
        ipcn__cb *cb = ipcn__calloc(1, sizeof *cb);
        if (!cb) {
            ipcn_msg_free(&m->pub);
            ipcn__once_forget(n, p->path, 0, p->corr,
                              IPCN_INSUFFICIENT_MEMORY);
            complete(n, p, IPCN_INSUFFICIENT_MEMORY, NULL);
            return;
        }
        cb->kind = CB_REQUEST;
        cb->link_id = 0;
        cb->reply_deadline_ns = p->deadline_ns; /* for the handler only */
        cb->corr = p->corr;
        cb->msg = m;
        ipcn__queue_cb(n, cb);
        n->own_queued++; /* this node's load (provide.c: ipcn__prov_run) */
        return;
    }
    ipcn__prov_run_handler(n, 0, p->corr, m, p->deadline_ns);
    ipcn_msg_free(&m->pub);
}

/* Start a pending: sent, run locally, or refused at once. */
int ipcn__req_start(ipcn_node *n, ipcn__pending *p)
{
    ipcn__list_insert_tail(&n->pendings, &p->entry);
    int st = send_pending(n, p, true);
    if (st != IPCN_OK) {
        ipcn__list_remove(&p->entry);
        return st;
    }
    if (p->link_id == 0)
        run_local(n, p);
    /* A caller waiting in ipcn_request() gives epoll_wait its deadline
     * itself; only an asynchronous request needs the node's timer. */
    if (p->deadline_ns && !p->done && p->fn)
        ipcn__node_arm_timer(n, p->deadline_ns);
    return IPCN_OK;
}

int ipcn__req_start_at(ipcn_node *n, ipcn__pending *p, uint32_t link_id)
{
    p->pinned = true;
    p->tried[0] = link_id;
    p->ntried = 1;
    p->link_id = link_id;
    ipcn__list_insert_tail(&n->pendings, &p->entry);
    int st = IPCN_OK;
    if (link_id) {
        ipcn__link *l = ipcn__link_by_id(n, link_id);
        st = l && l->state == LINK_UP ? send_to(n, p, l)
                                      : IPCN_SERVICE_UNAVAILABLE;
    }
    if (st != IPCN_OK) {
        ipcn__list_remove(&p->entry);
        return st;
    }
    if (!link_id)
        run_local(n, p);
    return IPCN_OK;
}

void ipcn__req_end(ipcn_node *n, ipcn__pending *p, int status, bool timed_out)
{
    if (p->done)
        return;
    send_cancel(n, p);
    if (timed_out)
        charge_provider(n, p, IPCN__OFF_TIMEOUT);
    complete(n, p, status, NULL);
}

int ipcn__req_call(ipcn_node *n, enum pending_kind kind, const char *path,
                   const void *data, size_t len, const char *enc,
                   uint64_t expect, ipcn_msg **out, int timeout_ms)
{
    if (n->shut) /* the node shuts down: nothing more is asked */
        return IPCN_SERVICE_UNAVAILABLE;
    /* The caller waits here until p is done and freed: p borrows its data
     * instead of copying it (a 1 MiB request: one copy and an allocation
     * fewer per call). */
    ipcn__pending *p = ipcn__req_new(n, kind, path, NULL, 0, enc, timeout_ms);
    if (!p)
        return IPCN_INSUFFICIENT_MEMORY;
    p->data = (void *)data;
    p->len = len;
    p->borrowed = true;
    p->expect_version = expect;
    int st = ipcn__req_start(n, p);
    if (st == IPCN_SERVICE_UNAVAILABLE || st == IPCN_NOT_FOUND) {
        /* A provider may have hung up (or a new one come) with nobody
         * reading since: a caller that only makes such calls must still
         * see it.  One round of I/O without waiting, then once more. */
        ipcn__node_poll(n);
        p->ntried = 0;
        st = ipcn__req_start(n, p);
    }
    if (st != IPCN_OK) {
        ipcn__pending_free(p);
        return st;
    }
    /* complete() removes p from the list and sets done; p stays ours. */
    st = ipcn__node_wait(n, &p->done, p->deadline_ns);
    if (!p->done) { /* 304, or 303 when the node shuts down */
        /* The wait may end at the deadline before the timer's round has
         * told the provider: tell it here (a request, a set). */
        if (st == IPCN_GATEWAY_TIMEOUT) {
            send_cancel(n, p);
            charge_provider(n, p, IPCN__OFF_TIMEOUT);
        }
        complete(n, p, st, NULL);
    }
    st = p->status;
    /* A query's answer is the value, or a refusal over a rate limit that
     * says when to retry (ipcn_msg_retry_after_ms()). */
    if (p->reply && (kind != PEND_QUERY || st == IPCN_OK ||
                     st == IPCN_TOO_MANY_REQUESTS)) {
        *out = &p->reply->pub;
        p->reply = NULL;
    }
    ipcn__pending_free(p);
    return st;
}

static int check_args(const char *path, const void *data, size_t len,
                      const char *enc)
{
    if (!path || ipcn__path_check(path, strlen(path)) != IPCN_OK ||
        (len && !data) ||
        (enc && ipcn__encoding_check(enc, strlen(enc)) != IPCN_OK))
        return IPCN_BAD_REQUEST;
    return IPCN_OK;
}

IPCN_API int ipcn_query(ipcn_node *n, const char *path, ipcn_msg **out,
                        int timeout_ms)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !out || check_args(path, NULL, 0, NULL) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = ipcn__req_call(n, PEND_QUERY, path, NULL, 0, NULL, 0, out,
                            timeout_ms);
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_request(ipcn_node *n, const char *path, const void *data,
                          size_t len, const char *encoding, ipcn_msg **out,
                          int timeout_ms)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !out || check_args(path, data, len, encoding) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = ipcn__req_call(n, PEND_REQUEST, path, data, len, encoding, 0, out,
                            timeout_ms);
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_request_async(ipcn_node *n, const char *path,
                                const void *data, size_t len,
                                const char *encoding, int timeout_ms,
                                ipcn_reply_fn fn, void *user, ipcn_req *out)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !fn || check_args(path, data, len, encoding) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__pending *p = ipcn__req_new(n, PEND_REQUEST, path, data, len, encoding,
                                   timeout_ms);
    int st = IPCN_INSUFFICIENT_MEMORY;
    if (p) {
        p->fn = fn;
        p->user = user;
        uint64_t id = p->corr;
        st = ipcn__req_start(n, p);
        if (st != IPCN_OK) {
            ipcn__pending_free(p);
        } else {
            st = IPCN_ACCEPTED;
            if (out)
                out->id = id;
        }
    }
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_request_cancel(ipcn_node *n, ipcn_req req)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = IPCN_NOT_FOUND;
    ipcn__pending *p = pending_by_corr(n, req.id);
    if (p && p->fn) {
        await_off(n, p);
        send_cancel(n, p);
        ipcn__list_remove(&p->entry);
        ipcn__pending_free(p);
        st = IPCN_OK;
    } else {
        /* Answered but not yet delivered: drop the queued callback. */
        ipcn__cb *cb;
        ipcn__list_for_each(cb, t, &n->cbq, ipcn__cb, entry) {
            if (cb->kind == CB_REPLY && cb->pend->corr == req.id) {
                ipcn__list_remove(&cb->entry);
                ipcn__pending_free(cb->pend);
                ipcn__free(cb);
                st = IPCN_OK;
                break;
            }
        }
    }
    ipcn__node_unlock(n);
    return st;
}

/* What an answer of l to p says of l as a provider of p's path: the load
 * it reported (REPLY and QUERY_REPLY, from a peer with the capability),
 * and a success (1xx) ends its strikes; a 300 is charge_provider()'s. */
static void note_answer(ipcn_node *n, ipcn__link *l, const ipcn__pending *p,
                        const ipcn__frame *f)
{
    ipcn__remote *r = ipcn__remote_find(n, p->path, l->id);
    if (!r)
        return;
    if (f->hdr.type != IPCN_F_SHM_REPLY && f->u.reply.has_load)
        r->load = f->u.reply.load;
    if (f->hdr.status >= 100 && f->hdr.status < 200)
        ipcn__provider_answered(r);
}

/* An answer that matches no request of ours waiting on l.  One to a
 * request we sent (its correlation id is one we gave out) is late: the
 * request timed out or was cancelled, which is normal, not hostile; it is
 * counted as late (ipcn_node_stats.replies_late).  Any other is counted
 * as a bad frame.  A late SHM_REPLY's slot is given back at once (a
 * RELEASE), else the provider would hold it until the link closes. */
static void unmatched_reply(ipcn_node *n, ipcn__link *l, const ipcn__frame *f,
                            const ipcn__pending *p)
{
    uint64_t corr = f->hdr.corr;
    /* (one of the right link of the wrong kind is not late but wrong) */
    bool ours = corr > n->first_corr && corr <= n->next_corr &&
                (!p || p->link_id != l->id);
    if (f->hdr.type == IPCN_F_SHM_REPLY) {
        const ipcn__shm_sample *sa = &f->u.shm_sample;
        ipcn__shm_map *m = ipcn__map_find(n, l->id, sa->pool_id);
        if (m && sa->slot < m->slots)
            ipcn__map_give_back(m, sa->slot, sa->gen);
        else
            ours = false; /* a reference to nothing: not a reply of ours */
    }
    if (ours) {
        n->stats.replies_late++;
        return;
    }
    l->bad_frames++;
    n->stats.bad_frames++;
}

void ipcn__req_on_reply(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    ipcn__pending *p = pending_by_corr(n, f->hdr.corr);
    bool want_query = f->hdr.type == IPCN_F_QUERY_REPLY;
    if (f->hdr.type == IPCN_F_SHM_REPLY) {
        /* An answer whose body is in the provider's reply pool. */
        if (!p || p->link_id != l->id || p->kind != PEND_REQUEST) {
            unmatched_reply(n, l, f, p);
            return;
        }
        ipcn__msg *m = ipcn__map_msg_new(n, l, &f->u.shm_sample, p->path);
        if (!m) {
            complete(n, p, IPCN_BAD_GATEWAY, NULL); /* bytes we cannot see */
            return;
        }
        m->pub.status = f->hdr.status;
        note_answer(n, l, p, f);
        if (f->hdr.status == IPCN_INTERNAL_ERROR)
            charge_provider(n, p, IPCN__OFF_FAILED);
        complete(n, p, f->hdr.status, m);
        return;
    }
    if (!p || p->link_id != l->id ||
        (p->kind == PEND_QUERY) != want_query) {
        unmatched_reply(n, l, f, p); /* late, or never asked */
        return;
    }
    const ipcn__reply *r = &f->u.reply;
    if (want_query && f->hdr.status == IPCN_OK) {
        /* A typed data resource's value is of its type, or no answer. */
        ipcn__remote *res = ipcn__remote_find(n, p->path, l->id);
        if (res && !ipcn__typed_check_remote(n, l, res, r->data.p,
                                             r->data.len)) {
            complete(n, p, IPCN_BAD_GATEWAY, NULL);
            return;
        }
    }
    ipcn__msg *m = ipcn__msg_new(p->path, strlen(p->path), r->encoding.p,
                                 r->encoding.len, l->who.name, l->who.node_id,
                                 r->data.p, r->data.len);
    if (m) {
        m->pub.status = f->hdr.status;
        m->pub.seq = r->seq;
        m->pub.timestamp_ns = r->timestamp_ns;
    }
    note_answer(n, l, p, f);
    if (f->hdr.status == IPCN_INTERNAL_ERROR)
        charge_provider(n, p, IPCN__OFF_FAILED);
    complete(n, p, m ? f->hdr.status : IPCN_INSUFFICIENT_MEMORY, m);
}

/* The provider p was waiting on is gone: try another, or end with 303.
 * Only remote providers: this runs inside I/O processing, where this
 * node's own handler must not be called.  A query is a read, always safe
 * to ask again (of an owned data path: the next in rank, owner.c). */
static void fail_over(ipcn_node *n, ipcn__pending *p)
{
    /* Not a request sent to a provider that runs it at most once: it may
     * have run it before it went, and another provider cannot know.  The
     * caller gets 303 and decides; a retry with the same request id at a
     * provider that did run it is answered from its cache (once.c). */
    if (((p->kind == PEND_REQUEST && !p->sent_once) ||
         p->kind == PEND_QUERY) && !p->pinned &&
        send_pending(n, p, false) == IPCN_OK)
        return;
    complete(n, p, IPCN_SERVICE_UNAVAILABLE, NULL);
}

void ipcn__req_on_link_down(ipcn_node *n, ipcn__link *l)
{
    ipcn__pending *p;
    ipcn__list_for_each(p, t, &n->pendings, ipcn__pending, entry)
        if (p->link_id == l->id && !p->done)
            fail_over(n, p);
    ipcn__prov_on_link_down(n, l);
}

void ipcn__req_on_withdraw(ipcn_node *n, const char *path, uint32_t link_id)
{
    ipcn__pending *p;
    ipcn__list_for_each(p, t, &n->pendings, ipcn__pending, entry) {
        if (p->link_id != link_id || p->done || strcmp(p->path, path) != 0 ||
            p->kind == PEND_REQUEST)
            continue;
        /* A query goes on to the next provider (of an owned path: the
         * next in rank), as when its provider's link goes; a set ends. */
        if (p->kind == PEND_QUERY && link_id)
            fail_over(n, p);
        else
            complete(n, p, IPCN_SERVICE_UNAVAILABLE, NULL);
    }
}

void ipcn__req_timeouts(ipcn_node *n, uint64_t now)
{
    ipcn__pending *p;
    ipcn__list_for_each(p, t, &n->pendings, ipcn__pending, entry) {
        if (p->deadline_ns && p->deadline_ns <= now && !p->done) {
            send_cancel(n, p);
            charge_provider(n, p, IPCN__OFF_TIMEOUT);
            complete(n, p, IPCN_GATEWAY_TIMEOUT, NULL);
        }
    }
}

uint64_t ipcn__req_next_deadline(ipcn_node *n)
{
    uint64_t d = 0;
    ipcn__pending *p;
    ipcn__list_for_each(p, t, &n->pendings, ipcn__pending, entry)
        if (p->deadline_ns && (!d || p->deadline_ns < d))
            d = p->deadline_ns;
    return d;
}

void ipcn__req_run(ipcn_node *n, ipcn__cb *cb)
{
    if (cb->kind == CB_REQUEST) {
        ipcn__prov_run(n, cb);
        return;
    }
    if (cb->kind == CB_SET) {
        ipcn__set_run(n, cb);
        return;
    }
    ipcn__pending *p = cb->pend;
    ipcn_reply_fn fn = p->fn;
    void *user = p->user;
    ipcn__node_unlock(n);
    fn(n, p->status, p->reply ? &p->reply->pub : NULL, user);
    ipcn__node_lock(n);
}
