/* SPDX-License-Identifier: MIT */
/*
 * set.c — setting the value of a data resource held by a provider
 * (ipcn_set), the provider's side: its checks (kind, expected version,
 * encoding), its handler (ipcn_data_on_set) run on the dispatch thread
 * like a service handler, and the new value published as ipcn_publish()
 * would.  The version of a data resource is the sequence number of its
 * current value (0: none yet), which every publish, and so every set,
 * raises.  The requester's side is request.c (PEND_SET).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/router.h"

/* The encoding a set's value is taken in: the setter's, or the
 * resource's when the setter gave none. */
static const char *set_encoding(const ipcn__local *lr, const char *enc)
{
    return enc && *enc ? enc : lr->encoding;
}

/* The checks before a set's handler runs (and again, under the lock, once
 * it accepted).  Returns 100 to go on, else the answer, with the reason in
 * why.  *version: the resource's version, when it is one of this node. */
static int set_check(const ipcn__local *lr, const char *enc, uint64_t expect,
                     bool checked, uint64_t *version, char *why, size_t wl)
{
    if (!lr)
        return IPCN_NOT_FOUND;
    if (lr->kind != IPCN_DATA) {
        snprintf(why, wl, "%s is not a data resource", lr->path);
        return IPCN_METHOD_NOT_ALLOWED;
    }
    *version = lr->seq;
    if (expect && expect != lr->seq) {
        snprintf(why, wl, "version is %" PRIu64 ", not %" PRIu64, lr->seq,
                 expect);
        return IPCN_CONFLICT;
    }
    /* Without a handler the value must be of the resource's encoding; a
     * handler decides that itself. */
    if (!checked && !lr->set_fn && *lr->encoding &&
        strcmp(set_encoding(lr, enc), lr->encoding) != 0) {
        snprintf(why, wl, "encoding: expected \"%.100s\", got \"%.100s\"",
                 lr->encoding, enc);
        return IPCN_BAD_REQUEST;
    }
    return IPCN_OK;
}

/* A handler's refusal as the setter hears it: the table's codes and
 * application codes; 100..104 other than 100, and anything else, are a bug
 * of the handler, sent as 300. */
static int refusal_status(int st)
{
    if ((st >= 200 && st <= 207) || (st >= 300 && st <= 309) ||
        (st >= IPCN_STATUS_APP_FIRST && st <= UINT16_MAX))
        return st;
    return IPCN_INTERNAL_ERROR;
}

/* Run a set whose value is m: the checks, the handler if there is one
 * (with the lock released), then the publish of the new value.  Returns
 * the answer, *version the resource's version after it (when it exists). */
static int set_run_value(ipcn_node *n, ipcn__msg *m, uint64_t expect,
                         uint64_t *version, char *why, size_t wl,
                         uint32_t link_id)
{
    const char *path = m->pub.path;
    ipcn__local *lr = ipcn__local_find(n, path);
    int st = set_check(lr, m->pub.encoding, expect, false, version, why, wl);
    if (st != IPCN_OK)
        return st;
    /* A typed resource takes only values of its type, before its handler
     * sees them (typed.c). */
    st = ipcn__typed_check_local(n, lr, m->pub.encoding, m->pub.data,
                                 m->pub.len, why, wl);
    if (st != IPCN_OK)
        return st;
    if (lr->set_fn) {
        ipcn_set_fn fn = lr->set_fn;
        void *user = lr->set_user;
        ipcn__node_unlock(n);
        st = fn(n, path, &m->pub, m->pub.encoding, user);
        ipcn__node_lock(n);
        if (st != IPCN_OK) {
            snprintf(why, wl, "refused by the provider");
            return refusal_status(st);
        }
        /* The resource may have changed (or gone) while fn ran. */
        lr = ipcn__local_find(n, path);
        st = set_check(lr, m->pub.encoding, expect, true, version, why, wl);
        if (st != IPCN_OK)
            return st;
    }
    st = ipcn__route_publish(n, lr, m->pub.data, m->pub.len);
    if (st == IPCN_BAD_REQUEST)
        snprintf(why, wl, "value too large");
    *version = lr->seq;
    if (st == IPCN_OK) /* the history says who set it (history.c) */
        ipcn__hist_setter(n, lr, lr->seq, link_id);
    return st;
}

static void send_answer(ipcn_node *n, ipcn__link *l, uint64_t corr, int st,
                        uint64_t version, const char *why)
{
    size_t wl = st == IPCN_OK ? 0 : strlen(why);
    ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr, st,
                          wl ? "text/plain" : "", why, wl, version, 0);
}

void ipcn__set_on_frame(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__set *s = &f->u.set;
    char why[256] = "";
    uint64_t version = 0;
    ipcn__local *lr = NULL;
    int st;
    if (ipcn__path_check(s->path.p, s->path.len) != IPCN_OK ||
        ipcn__encoding_check(s->encoding.p, s->encoding.len) != IPCN_OK) {
        snprintf(why, sizeof why, "invalid path or encoding");
        st = IPCN_BAD_REQUEST;
    } else if (!ipcn__prov_within_limits(n, l, IPCN_F_REPLY, f->hdr.corr,
                                         s->path.p, s->data.len)) {
        return;
    } else {
        lr = ipcn__local_find(n, s->path.p);
        /* Who may write it (the gate): 203 when the peer may not even read
         * it, as if it did not exist; 202 or 201. */
        st = lr ? ipcn__access_local(n, l, lr, IPCN__V_WRITE) : IPCN_OK;
        if (st == IPCN_OK)
            st = set_check(lr, s->encoding.p, s->expect_version, false,
                           &version, why, sizeof why);
    }
    if (st == IPCN_OK && ipcn__gate_request(n, l, s->path.p) != IPCN_OK)
        st = IPCN_TOO_MANY_REQUESTS; /* this peer's share is used up */
    ipcn__msg *m = NULL;
    if (st == IPCN_OK) {
        const char *enc = set_encoding(lr, s->encoding.p);
        m = ipcn__msg_new(s->path.p, s->path.len, enc, strlen(enc),
                          l->who.name, l->who.node_id, s->data.p, s->data.len);
        if (!m)
            st = IPCN_INSUFFICIENT_MEMORY;
    }
    if (st == IPCN_OK && lr->set_fn) {
        /* The handler runs from dispatch, as a service's does. */
        ipcn__cb *cb = ipcn__calloc(1, sizeof *cb);
        if (cb) {
            cb->kind = CB_SET;
            cb->link_id = l->id;
            cb->corr = f->hdr.corr;
            cb->msg = m;
            cb->expect_version = s->expect_version;
            if (s->timeout_ms)
                cb->deadline_ns =
                    ipcn__now_mono_ns() + s->timeout_ms * 1000000ull;
            ipcn__limit_queued(n, l, 1);
            ipcn__queue_cb(n, cb);
            return;
        }
        st = IPCN_INSUFFICIENT_MEMORY;
    }
    /* No handler: the value is set at once, like a query is answered. */
    if (st == IPCN_OK)
        st = set_run_value(n, m, s->expect_version, &version, why, sizeof why,
                           l->id);
    if (m)
        ipcn_msg_free(&m->pub);
    send_answer(n, l, f->hdr.corr, st, version, why);
}

void ipcn__set_run(ipcn_node *n, ipcn__cb *cb)
{
    if (ipcn__prov_given_up(n, cb))
        return;
    char why[256] = "";
    uint64_t version = 0;
    int st = set_run_value(n, cb->msg, cb->expect_version, &version, why,
                           sizeof why, cb->link_id);
    ipcn__link *l = ipcn__link_by_id(n, cb->link_id);
    if (!l || l->state != LINK_UP)
        return;
    ipcn__limit_queued(n, l, -1);
    send_answer(n, l, cb->corr, st, version, why);
}

void ipcn__set_local(ipcn_node *n, const ipcn__pending *p)
{
    char why[256] = "";
    uint64_t version = 0;
    uint64_t corr = p->corr;
    ipcn__local *lr = ipcn__local_find(n, p->path);
    const char *enc = lr ? set_encoding(lr, p->encoding) : p->encoding;
    ipcn__msg *m = ipcn__msg_new(p->path, strlen(p->path), enc, strlen(enc),
                                 n->name, n->id, p->data, p->len);
    int st = m ? set_run_value(n, m, p->expect_version, &version, why,
                               sizeof why, 0)
               : IPCN_INSUFFICIENT_MEMORY;
    if (m)
        ipcn_msg_free(&m->pub);
    /* p may be gone (the caller gave up while the handler ran): by corr. */
    size_t wl = st == IPCN_OK ? 0 : strlen(why);
    ipcn__req_answer_local_seq(n, corr, st, version, why, wl,
                               wl ? "text/plain" : "");
}

IPCN_API int ipcn_data_on_set(ipcn_node *n, const char *path, ipcn_set_fn fn,
                              void *user)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr = ipcn__local_find(n, path);
    int st = IPCN_OK;
    if (!lr)
        st = IPCN_NOT_FOUND;
    else if (lr->kind != IPCN_DATA)
        st = IPCN_METHOD_NOT_ALLOWED;
    else {
        lr->set_fn = fn;
        lr->set_user = fn ? user : NULL;
    }
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_set(ipcn_node *n, const char *path, const void *value,
                      size_t len, const char *encoding,
                      uint64_t expect_version, int timeout_ms,
                      uint64_t *new_version)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || ipcn__path_check(path, strlen(path)) != IPCN_OK ||
        (len && !value) ||
        (encoding &&
         ipcn__encoding_check(encoding, strlen(encoding)) != IPCN_OK))
        return IPCN_BAD_REQUEST;
    ipcn_msg *reply = NULL;
    ipcn__node_lock(n);
    int st = ipcn__req_call(n, PEND_SET, path, value, len, encoding,
                            expect_version, &reply, timeout_ms);
    ipcn__node_unlock(n);
    if (reply) {
        if ((st == IPCN_OK || st == IPCN_CONFLICT) && new_version)
            *new_version = reply->seq;
        ipcn_msg_free(reply);
    }
    return st;
}
