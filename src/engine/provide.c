/* SPDX-License-Identifier: MIT */
/*
 * provide.c — the provider's side of queries and requests: answering a
 * query from the value held, checking and queueing a request for its
 * service's handler, running the handler (answered at once or deferred
 * through ipcn_respond()), and not starting a request whose requester has
 * given up on it.  The requester's side is request.c.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "value/value.h"

/* The load an answer reports (protocol 12.7): the requests queued,
 * running or deferred here, of peers and of this node itself. */
static uint32_t load_now(const ipcn_node *n)
{
    uint64_t k = (uint64_t)n->peer_queued + n->own_queued;
    return k > UINT32_MAX ? UINT32_MAX : (uint32_t)k;
}

void ipcn__prov_send_reply(ipcn_node *n, ipcn__link *l, uint8_t type,
                           uint64_t corr, int status, const char *enc,
                           const void *data, size_t len, uint64_t seq,
                           uint64_t stamp)
{
    if (status < 0 || status > UINT16_MAX)
        status = IPCN_INTERNAL_ERROR;
    size_t overhead = 64 + strlen(enc ? enc : ""); /* fields around data */
    uint32_t limit = n->opts.max_payload < l->peer_max_payload
                         ? n->opts.max_payload
                         : l->peer_max_payload;
    if (len + overhead > limit) {
        status = IPCN_INSUFFICIENT_STORAGE; /* the answer does not fit */
        len = 0;
        enc = "";
    } else if (!ipcn__gate_queue_room(n, l, len)) {
        /* The requester does not read its answers: it gets a short 205,
         * not a queue that grows with every request it sends. */
        status = IPCN_TOO_MANY_REQUESTS;
        len = 0;
        enc = "";
    }
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, (uint16_t)status, corr);
    ipcn__reply r = {.seq = seq,
                     .timestamp_ns = stamp,
                     .encoding = ipcn__str_of(enc ? enc : ""),
                     .data = ipcn__blob_of(data, len)};
    if (l->peer_caps & IPCN_CAP_REDUNDANCY) { /* it ranks providers by it */
        r.has_load = 1;
        r.load = load_now(n);
    }
    size_t mark = ipcn__link_tx_mark(l, len);
    ipcn__link_commit(n, l, mark, ipcn__enc_reply(&l->tx, &h, type, &r));
}

bool ipcn__prov_within_limits(ipcn_node *n, ipcn__link *l, uint8_t type,
                              uint64_t corr, const char *path, size_t bytes)
{
    uint32_t retry = 0;
    if (ipcn__limit_request(n, l, path, bytes, &retry) == IPCN_OK)
        return true;
    if (l->state != LINK_UP)
        return false; /* the offence quarantined it */
    /* 205 with the time after which to retry, machine-readable in the
     * encoding's parameter and said in the text (protocol.md 16.1). */
    char enc[64], text[48];
    snprintf(enc, sizeof enc, IPCN_RETRY_ENCODING "%u", retry);
    int len = snprintf(text, sizeof text, "retry after %u ms", retry);
    ipcn__prov_send_reply(n, l, type, corr, IPCN_TOO_MANY_REQUESTS, enc, text,
                          (size_t)len, 0, 0);
    return false;
}

void ipcn__req_on_query(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__request *q = &f->u.request;
    ipcn__local *lr = NULL;
    int st = IPCN_OK;
    if (ipcn__path_check(q->path.p, q->path.len) != IPCN_OK)
        st = IPCN_BAD_REQUEST;
    else if (!ipcn__prov_within_limits(n, l, IPCN_F_QUERY_REPLY, f->hdr.corr,
                                       q->path.p, 0))
        return;
    else if (!(lr = ipcn__local_find(n, q->path.p)))
        st = IPCN_NOT_FOUND;
    else if ((st = ipcn__access_local(n, l, lr, IPCN__V_READ)) != IPCN_OK)
        lr = NULL; /* 203 when it may not read it: nothing of it is told */
    else if (lr->kind != IPCN_DATA)
        st = IPCN_METHOD_NOT_ALLOWED;
    else if (q->version) {
        /* A past version, from the debug history (history.c). */
        ipcn_msg *v = NULL;
        st = ipcn__hist_version(n, lr, q->version, &v);
        if (st == IPCN_OK) {
            ipcn__prov_send_reply(n, l, IPCN_F_QUERY_REPLY, f->hdr.corr, st,
                                  v->encoding, v->data, v->len, v->seq,
                                  v->timestamp_ns);
            ipcn_msg_free(v);
            return;
        }
    } else if (!lr->value)
        st = IPCN_NO_DATA;
    if (st == IPCN_OK)
        ipcn__prov_send_reply(n, l, IPCN_F_QUERY_REPLY, f->hdr.corr, st,
                              lr->value->encoding, lr->value->data,
                              lr->value->len, lr->value->seq,
                              lr->value->timestamp_ns);
    else
        ipcn__prov_send_reply(n, l, IPCN_F_QUERY_REPLY, f->hdr.corr, st,
                              lr ? lr->encoding : "", NULL, 0, 0, 0);
}

/* A typed service's check of a request, before its handler is queued or
 * called: the request must be CBOR and match the args schema.  Returns
 * 100, or 200 (or 307) with the reason in why. */
int ipcn__prov_check_typed(const ipcn__local *lr, const char *enc,
                           const void *data, size_t len, char *why,
                           size_t whylen)
{
    if (!lr->args_schema)
        return IPCN_OK;
    if (!ipcn__encoding_is_cbor(enc)) { /* as typed data: schema.c */
        snprintf(why, whylen, "args: expected encoding cbor, got \"%.64s\"",
                 enc);
        return IPCN_BAD_REQUEST;
    }
    return ipcn__schema_check(lr->args_schema, lr->args_schema_len, data, len,
                              why, whylen);
}

/* A request of link l (corr) for q, inline, or through shared memory when
 * shm is its message already (SHM_REQUEST: it holds the requester's slot,
 * q->data points into it).  shm is freed on every way out but the queue. */
static void take_request(ipcn_node *n, ipcn__link *l, uint64_t corr,
                         const ipcn__request *q, ipcn__msg *shm)
{
    ipcn__local *lr = NULL;
    int st = IPCN_ACCEPTED, allowed;
    if (ipcn__path_check(q->path.p, q->path.len) != IPCN_OK ||
        ipcn__encoding_check(q->encoding.p, q->encoding.len) != IPCN_OK)
        st = IPCN_BAD_REQUEST;
    else if (!ipcn__prov_within_limits(n, l, IPCN_F_REPLY, corr, q->path.p,
                                       q->data.len))
        goto out;
    else if (!(lr = ipcn__local_find(n, q->path.p)))
        st = IPCN_NOT_FOUND;
    else if ((allowed = ipcn__access_local(n, l, lr, IPCN__V_EXECUTE)) !=
             IPCN_OK)
        st = allowed; /* 201, 202, or 203 when it may not even read it */
    else if (lr->kind != IPCN_SERVICE || !lr->fn)
        st = IPCN_METHOD_NOT_ALLOWED;
    else if (ipcn__gate_request(n, l, q->path.p) != IPCN_OK)
        st = IPCN_TOO_MANY_REQUESTS; /* this peer's share is used up */
    if (st != IPCN_ACCEPTED) {
        ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr, st, "", NULL, 0, 0, 0);
        goto out;
    }
    ipcn__request qc;
    if (shm && lr->args_schema) {
        /* A typed service's argument in a slot of the requester's could
         * still change after the check (the requester can write its own
         * memfd): the check and the handler see a private copy, and the
         * slot goes back at once (docs/protocol.md 12.9). */
        ipcn__msg *c = ipcn__msg_new(q->path.p, q->path.len, q->encoding.p,
                                     q->encoding.len, l->who.name,
                                     l->who.node_id, q->data.p, q->data.len);
        if (!c) {
            ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr,
                                  IPCN_INSUFFICIENT_MEMORY, "", NULL, 0, 0, 0);
            goto out;
        }
        qc = *q;
        qc.data = ipcn__blob_of(c->pub.data, c->pub.len);
        q = &qc;
        ipcn_msg_free(&shm->pub); /* its slot goes back (a RELEASE) */
        shm = c;
    }
    char why[256];
    st = ipcn__prov_check_typed(lr, q->encoding.p, q->data.p, q->data.len, why,
                                sizeof why);
    if (st != IPCN_OK) {
        ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr, st, "text/plain", why,
                              strlen(why), 0, 0);
        goto out;
    }
    uint64_t deadline = q->timeout_ms ? ipcn__now_mono_ns() +
                                            q->timeout_ms * 1000000ull
                                      : 0;
    /* A service run at most once: a retry of a request id it ran, or
     * runs, is answered from its cache (once.c), not run again. */
    if (lr->once && q->request_id &&
        ipcn__once_admit(n, l, lr, corr, q->request_id, deadline) != IPCN_OK)
        goto out;
    ipcn__cb *cb = ipcn__calloc(1, sizeof *cb);
    ipcn__msg *m = shm;
    if (cb && !m)
        m = ipcn__msg_new(q->path.p, q->path.len, q->encoding.p,
                          q->encoding.len, l->who.name, l->who.node_id,
                          q->data.p, q->data.len);
    if (!cb || !m) {
        ipcn__free(cb);
        ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr,
                              IPCN_INSUFFICIENT_MEMORY, "", NULL, 0, 0, 0);
        ipcn__once_forget(n, q->path.p, l->id, corr, IPCN_INSUFFICIENT_MEMORY);
        goto out;
    }
    shm = NULL; /* the queue's now */
    cb->kind = CB_REQUEST;
    cb->link_id = l->id;
    cb->corr = corr;
    cb->msg = m;
    /* The requester's budget (what was left of its timeout when it sent
     * the request) runs from here: past it, the requester has given up. */
    cb->deadline_ns = deadline;
    ipcn__limit_queued(n, l, 1);
    ipcn__queue_cb(n, cb);
out:
    if (shm)
        ipcn_msg_free(&shm->pub); /* its slot goes back (a RELEASE) */
}

void ipcn__req_on_request(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    if (ipcn__sys_path(f->u.request.path.p, f->u.request.path.len)) {
        ipcn__sys_on_request(n, l, f); /* the node's own services */
        return;
    }
    take_request(n, l, f->hdr.corr, &f->u.request, NULL);
}

/* An SHM_REQUEST (docs/protocol.md 12.9): the body is in a slot of the
 * requester's pool, mapped here read-only.  A reference outside its pools,
 * into a pool not mapped, or to the node's own services (which take
 * requests inline only) is answered 200 and counted, and the slot it
 * names (if any) given back at once. */
void ipcn__req_on_shm_request(ipcn_node *n, ipcn__link *l,
                              const ipcn__frame *f)
{
    const ipcn__shm_sample *sa = &f->u.shm_sample;
    const char *why = NULL;
    char path[IPCN_PATH_MAX + 1];
    ipcn__msg *m = NULL;
    bool mapped = false; /* tried: any slot it named is given back */
    if (sa->path.len > IPCN_PATH_MAX ||
        ipcn__sys_path(sa->path.p, sa->path.len)) {
        why = "a shared-memory request to a path that takes none";
    } else if (sa->len > n->opts.max_payload) {
        /* as an inline request that large would be (12.9) */
        why = "a shared-memory request over the largest payload";
    } else {
        memcpy(path, sa->path.p, sa->path.len);
        path[sa->path.len] = 0;
        m = ipcn__map_msg_new(n, l, sa, path); /* counts a bad reference */
        mapped = true;
        if (!m)
            why = "a shared-memory request outside the requester's pools";
    }
    if (!m) {
        /* Refused: its slot goes back at once (12.9), when the reference
         * names one (ipcn__map_msg_new() gave back its own already). */
        ipcn__shm_map *mp = ipcn__map_find(n, l->id, sa->pool_id);
        if (!mapped && mp && sa->slot < mp->slots)
            ipcn__map_give_back(mp, sa->slot, sa->gen);
        n->stats.shm_requests_refused++;
        ipcn__prov_send_reply(n, l, IPCN_F_REPLY, f->hdr.corr,
                              IPCN_BAD_REQUEST, "text/plain", why, strlen(why),
                              0, 0);
        return;
    }
    n->stats.shm_requests_taken++;
    m->pub.seq = 0; /* as an inline request's: no sample order, no stamp */
    m->pub.timestamp_ns = 0;
    ipcn__request q = {.timeout_ms = (uint32_t)sa->timestamp_ns,
                       .path = sa->path,
                       .encoding = sa->encoding,
                       .data = ipcn__blob_of(m->pub.data, m->pub.len),
                       .request_id = sa->seq};
    take_request(n, l, f->hdr.corr, &q, m);
}

/* A request of link l (NULL: gone) that its requester gave up on is not
 * started: counted, and its place among the link's requests freed. */
static void abandon(ipcn_node *n, ipcn__link *l)
{
    n->stats.requests_abandoned++;
    if (l)
        ipcn__limit_queued(n, l, -1);
}

void ipcn__req_on_cancel(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    /* Only a request still waiting for its handler can be taken back; one
     * that runs, or was answered, goes on (a CANCEL that crossed it). */
    ipcn__cb *cb;
    ipcn__list_for_each(cb, t, &n->cbq, ipcn__cb, entry) {
        if ((cb->kind == CB_REQUEST || cb->kind == CB_SET) &&
            cb->link_id == l->id && cb->corr == f->hdr.corr) {
            if (cb->kind == CB_REQUEST && ipcn__once_pass_on(n, cb)) {
                abandon(n, l); /* a retry that waited takes its place */
                return;
            }
            ipcn__list_remove(&cb->entry);
            ipcn_msg_free(&cb->msg->pub);
            ipcn__free(cb);
            abandon(n, l);
            return;
        }
    }
}

static ipcn__responder *responder_by_id(ipcn_node *n, uint64_t id)
{
    ipcn__responder *r;
    ipcn__list_for_each(r, t, &n->responders, ipcn__responder, entry)
        if (r->id == id)
            return r;
    return NULL;
}

/* Forget a responder taken off the list: its request no longer loads
 * this node. */
static void responder_free(ipcn_node *n, ipcn__responder *r)
{
    if (r->own_load && n->own_queued)
        n->own_queued--;
    ipcn__free(r);
}

void ipcn__responder_free_all(ipcn_node *n)
{
    ipcn__list *e;
    while ((e = ipcn__list_pop(&n->responders)))
        responder_free(n, ipcn__list_entry(e, ipcn__responder, entry));
}

/* Deliver an answer: to a peer over its link, or to this node's own
 * pending request (link 0). */
static int answer_ex(ipcn_node *n, uint32_t link_id, uint64_t corr,
                     int status, const void *data, size_t len, const char *enc,
                     ipcn_loan *loan, uint64_t sum)
{
    if (link_id == 0)
        return ipcn__req_answer_local(n, corr, status, data, len, enc);
    ipcn__link *l = ipcn__link_by_id(n, link_id);
    if (!l || l->state != LINK_UP)
        return IPCN_SERVICE_UNAVAILABLE;
    ipcn__limit_queued(n, l, -1);
    if (loan) { /* filled by ipcn_reply_set(): sent as it is */
        if (ipcn__pool_reply_send_loan(n, l, loan, sum, corr, status,
                                       enc ? enc : "", len) == IPCN_OK)
            return IPCN_OK;
        data = ipcn_loan_data(loan);
    }
    if (!ipcn__pool_send_reply(n, l, corr, status, enc ? enc : "", data, len))
        ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr, status, enc, data,
                              len, 0, 0);
    return IPCN_OK;
}

static int answer(ipcn_node *n, uint32_t link_id, uint64_t corr, int status,
                  const void *data, size_t len, const char *enc)
{
    return answer_ex(n, link_id, corr, status, data, len, enc, NULL, 0);
}

/* What a handler may answer: the table's codes (as in ipcnet.h) or an
 * application code; anything else is a bug of the handler, sent as 300 so
 * that a local and a remote requester hear the same. */
static int answer_status(int st)
{
    if ((st >= 100 && st <= 104) || (st >= 200 && st <= 207) ||
        (st >= 300 && st <= 309) || (st >= IPCN_STATUS_APP_FIRST && st <= UINT16_MAX))
        return st;
    return IPCN_INTERNAL_ERROR;
}

/* Drop what ctx holds (its answer, a loaned slot). */
static void reply_ctx_clear(ipcn_reply_ctx *ctx)
{
    if (ctx->loan) {
        ipcn__node_lock(ctx->node);
        ipcn__pool_end_loan(ctx->node, ctx->loan);
        ipcn__node_unlock(ctx->node);
        ctx->loan = NULL;
    }
    ipcn__free(ctx->data);
    ipcn__free(ctx->encoding);
    ctx->data = NULL;
    ctx->encoding = NULL;
}

IPCN_API int ipcn_reply_set(ipcn_reply_ctx *ctx, const void *data, size_t len,
                            const char *encoding)
{
    if (!ctx || (len && !data) ||
        (encoding && ipcn__encoding_check(encoding, strlen(encoding)) != IPCN_OK))
        return IPCN_BAD_REQUEST;
    char *e = encoding ? ipcn__strdup(encoding) : NULL;
    if (encoding && !e)
        return IPCN_INSUFFICIENT_MEMORY;
    /* A large answer to a peer that takes shared memory goes straight
     * into a slot of the reply pool (one copy, not two). */
    ipcn_loan *loan = NULL;
    if (ctx->shm_ok && len >= IPCN_SHM_THRESHOLD) {
        ipcn_node *n = ctx->node;
        ipcn__node_lock(n);
        ipcn__responder *r = responder_by_id(n, ctx->responder_id);
        ipcn__link *l = r && r->link_id && !r->once && !r->orphan
                            ? ipcn__link_by_id(n, r->link_id)
                            : NULL;
        if (!l || l->state != LINK_UP ||
            ipcn__pool_reply_loan(n, l, len, &loan) != IPCN_OK)
            loan = NULL;
        ipcn__node_unlock(n);
    }
    void *d = NULL;
    uint64_t sum = 0;
    if (loan)
        sum = ipcn__pool_fill(loan, data, len); /* the slot is ours alone */
    else if (len && !(d = ipcn__memdup(data, len))) {
        ipcn__free(e);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    reply_ctx_clear(ctx);
    ctx->data = d;
    ctx->len = len;
    ctx->encoding = e;
    ctx->loan = loan;
    ctx->sum = sum;
    return IPCN_OK;
}

IPCN_API int ipcn_reply_time_left(const ipcn_reply_ctx *ctx)
{
    if (!ctx || !ctx->deadline_ns)
        return -1;
    uint64_t now = ipcn__now_mono_ns();
    if (now >= ctx->deadline_ns)
        return 0;
    uint64_t ms = (ctx->deadline_ns - now) / 1000000ull;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

IPCN_API ipcn_responder ipcn_reply_defer(ipcn_reply_ctx *ctx)
{
    ipcn_responder r = {0};
    if (ctx) {
        ctx->deferred = true;
        r.id = ctx->responder_id;
    }
    return r;
}

bool ipcn__responder_drop_orphan(ipcn_node *n, uint64_t id)
{
    ipcn__responder *r = responder_by_id(n, id);
    if (!r || !r->orphan)
        return false;
    ipcn__list_remove(&r->entry);
    responder_free(n, r);
    return true;
}

IPCN_API int ipcn_respond(ipcn_node *n, ipcn_responder resp, int status,
                          const void *data, size_t len, const char *encoding)
{
    if (!n || (len && !data) ||
        (encoding && ipcn__encoding_check(encoding, strlen(encoding)) != IPCN_OK))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__responder *r = responder_by_id(n, resp.id);
    int st = IPCN_NOT_FOUND;
    if (r) {
        ipcn__list_remove(&r->entry);
        st = r->orphan ? IPCN_SERVICE_UNAVAILABLE
                       : answer(n, r->link_id, r->corr,
                                answer_status(status), data, len, encoding);
        /* Run at most once: the answer is kept, and told to the retries
         * that wait, even when the first try's requester left. */
        if (r->once)
            ipcn__once_done(n, NULL, r->link_id, r->corr, answer_status(status),
                            data, len, encoding ? encoding : "");
        responder_free(n, r);
    }
    ipcn__node_unlock(n);
    return st;
}

/* Run a service handler for a request (from a peer, or this node's own),
 * with the lock released, and send its answer unless it deferred. */
void ipcn__prov_run_handler(ipcn_node *n, uint32_t link_id, uint64_t corr,
                            ipcn__msg *m, uint64_t deadline_ns)
{
    ipcn__local *lr = ipcn__local_find(n, m->pub.path);
    if (!lr || lr->kind != IPCN_SERVICE || !lr->fn) {
        answer(n, link_id, corr, IPCN_SERVICE_UNAVAILABLE, NULL, 0, "");
        return;
    }
    bool once = lr->once != NULL;
    ipcn_service_fn fn = lr->fn;
    void *user = lr->user;
    /* The responder exists before the handler runs, so that a handler that
     * defers can hand it to another thread at once. */
    ipcn__responder *r = ipcn__calloc(1, sizeof *r);
    if (!r) {
        answer(n, link_id, corr, IPCN_INSUFFICIENT_MEMORY, NULL, 0, "");
        if (once) /* not run: a retry may run it */
            ipcn__once_forget(n, m->pub.path, link_id, corr,
                              IPCN_INSUFFICIENT_MEMORY);
        return;
    }
    r->id = n->next_responder++;
    r->once = once;
    r->link_id = link_id;
    r->corr = corr;
    if (!link_id) { /* a peer's is counted in its link's inflight */
        r->own_load = true;
        n->own_queued++;
    }
    ipcn__list_insert_tail(&n->responders, &r->entry);
    ipcn_reply_ctx ctx = {.node = n, .responder_id = r->id, .shm_ok = true,
                          .deadline_ns = deadline_ns};
    uint64_t rid = r->id;
    ipcn__node_unlock(n);
    int st = fn(n, &m->pub, &ctx, user);
    ipcn__node_lock(n);
    if (st == IPCN_ACCEPTED && ctx.deferred) {
        /* Answered later through ipcn_respond(), perhaps already. */
    } else if ((r = responder_by_id(n, rid))) {
        ipcn__list_remove(&r->entry);
        responder_free(n, r);
        if (st == IPCN_ACCEPTED) /* 102 without a responder: a bug of theirs */
            st = IPCN_INTERNAL_ERROR;
        answer_ex(n, link_id, corr, answer_status(st), ctx.data, ctx.len,
                  ctx.encoding ? ctx.encoding : "", ctx.loan, ctx.sum);
        if (once)
            ipcn__once_done(n, m->pub.path, link_id, corr, answer_status(st),
                            ctx.data, ctx.len,
                            ctx.encoding ? ctx.encoding : "");
    }
    if (ctx.loan) /* sent or not, the loan ends (the lock is held here) */
        ipcn__pool_end_loan(n, ctx.loan);
    ipcn__free(ctx.data);
    ipcn__free(ctx.encoding);
}

/* How recent epoll's word that no peer hung up must be to be trusted. */
#define HUP_FRESH_NS 1000000u

/* Has the peer closed the link's socket, though we have not read to its
 * end yet?  Frames that came before the hang-up, from the socket or the
 * link's ring, may be handled before the end of the stream is seen: after
 * a pause (SIGSTOP, a debugger), the requester may have given up long ago.
 * The event loop marks a link whose hang-up epoll reported, and notes when
 * epoll last reported every link that had one (node->hup_clear_ns); only
 * when that is older than HUP_FRESH_NS (a pause, a long round, frames read
 * from a ring with no epoll since), or the link was not watched for a
 * half-close when epoll was asked (reading from it was paused), is the
 * socket asked, with one poll(). */
static bool hung_up(const ipcn_node *n, const ipcn__link *l)
{
    if (l->peer_hung_up)
        return true;
    if (l->fd < 0)
        return false;
    /* Epoll's word covers this link only if it was watched when asked. */
    if (n->hup_clear_ns > l->rdhup_watched_ns &&
        ipcn__now_mono_ns() - n->hup_clear_ns < HUP_FRESH_NS)
        return false;
    struct pollfd p = {.fd = l->fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 &&
           (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

bool ipcn__prov_given_up(ipcn_node *n, const ipcn__cb *cb)
{
    /* Never start a request whose requester has given up on it: it
     * left (it got 303 and may have asked another provider), or its
     * deadline passed (it got 304). */
    ipcn__link *l = cb->link_id ? ipcn__link_by_id(n, cb->link_id) : NULL;
    if (cb->link_id && (!l || l->state != LINK_UP || hung_up(n, l))) {
        abandon(n, NULL);
        return true;
    }
    if (cb->deadline_ns && ipcn__now_mono_ns() >= cb->deadline_ns) {
        abandon(n, l);
        return true;
    }
    return false;
}

void ipcn__prov_run(ipcn_node *n, ipcn__cb *cb)
{
    bool sys = ipcn__sys_path(cb->msg->pub.path, strlen(cb->msg->pub.path));
    /* This node's own request leaves the queue (request.c: run_local()):
     * while its handler runs or defers, its responder counts it. */
    if (!cb->link_id && !sys && n->own_queued)
        n->own_queued--;
    /* A request run at most once whose requester gave up: a retry that
     * waits for it is run in its place (once.c). */
    while (ipcn__prov_given_up(n, cb))
        if (!ipcn__once_pass_on(n, cb))
            return;
    /* The one node service that is queued rather than answered in the
     * I/O round: the ordered shutdown's (its handler is the
     * application's). */
    if (sys)
        ipcn__sys_shutdown_run(n, cb);
    else
        ipcn__prov_run_handler(n, cb->link_id, cb->corr, cb->msg,
                               cb->deadline_ns ? cb->deadline_ns
                                               : cb->reply_deadline_ns);
}

void ipcn__prov_on_link_down(ipcn_node *n, ipcn__link *l)
{
    /* Deferred answers owed to it can no longer be sent: the responders
     * stay (bounded by IPCN_PEER_MAX_INFLIGHT) so that ipcn_respond() can
     * say 303 rather than 203. */
    ipcn__responder *r;
    ipcn__list_for_each(r, t, &n->responders, ipcn__responder, entry)
        if (r->link_id == l->id)
            r->orphan = true;
    /* Its requests still queued for our handlers are dropped unanswered:
     * their requester got 303 and may have asked another provider. */
    ipcn__cb *cb;
    ipcn__list_for_each(cb, t2, &n->cbq, ipcn__cb, entry) {
        if ((cb->kind == CB_REQUEST || cb->kind == CB_SET) &&
            cb->link_id == l->id) {
            abandon(n, NULL);
            if (cb->kind == CB_REQUEST && ipcn__once_pass_on(n, cb))
                continue; /* it runs for a retry that waits (once.c) */
            ipcn__list_remove(&cb->entry);
            ipcn_msg_free(&cb->msg->pub);
            ipcn__free(cb);
        }
    }
}
