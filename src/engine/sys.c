/* SPDX-License-Identifier: MIT */
/*
 * sys.c — the node's own services, "@sys/<node>/<name>" (sys.h): the
 * table of built-in handlers, the provider's checks before one runs, the
 * requester's way to the node named; and the traffic picture
 * (transport/traffic.c) as the API (ipcn_traffic()) and as the handler
 * "traffic" give it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "transport/traffic.h"
#include "value/value.h"

/* ---- the traffic picture, read ---- */

/* One row: an entry of a link's table. */
typedef struct trow {
    const ipcn__link *l;
    const ipcn__tstat *t;
} trow;

static const char *trow_path(const trow *r)
{
    return r->t->path ? r->t->path : "*";
}

static int trow_cmp(const void *a, const void *b)
{
    const trow *x = a, *y = b;
    int c = strcmp(x->l->who.name, y->l->who.name);
    if (!c)
        c = strcmp(trow_path(x), trow_path(y));
    if (!c)
        c = (int)x->t->verb - (int)y->t->verb;
    return c;
}

/* The rows of every linked peer (or of the one named peer), brought up to
 * now and sorted.  100 (*rows NULL when none), 203 for a peer not linked,
 * 307. */
static int traffic_rows(ipcn_node *n, const char *peer, uint64_t now,
                        trow **rows, size_t *count)
{
    size_t k = 0, cap = 0;
    ipcn__link *l;
    bool found = !peer;
    *rows = NULL;
    *count = 0;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP || !l->who.name)
            continue;
        if (peer && strcmp(peer, l->who.name))
            continue;
        found = true;
        if (!l->traffic)
            continue;
        ipcn__traffic_settle(n, l, now);
        cap += l->traffic->used + IPCN__TV_COUNT;
    }
    if (!found)
        return IPCN_NOT_FOUND;
    if (!cap)
        return IPCN_OK;
    trow *r = ipcn__malloc(cap * sizeof *r);
    if (!r)
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn__list_for_each(l, t2, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP || !l->who.name || !l->traffic ||
            (peer && strcmp(peer, l->who.name)))
            continue;
        const ipcn__traffic *tr = l->traffic;
        for (uint32_t i = 0; i < tr->used && k < cap; i++)
            if (tr->paths[i].path && tr->paths[i].count)
                r[k++] = (trow){l, &tr->paths[i]};
        for (unsigned v = 0; v < IPCN__TV_COUNT && k < cap; v++)
            if (tr->rest[v].count)
                r[k++] = (trow){l, &tr->rest[v]};
    }
    if (k > 1)
        qsort(r, k, sizeof *r, trow_cmp);
    *rows = r;
    *count = k;
    return IPCN_OK;
}

static double idle_s(const ipcn__tstat *t, uint64_t now)
{
    return now > t->last_ns ? (double)(now - t->last_ns) / 1e9 : 0;
}

/* ipcn_traffic()'s one block: the list, the pointers, the items, the
 * strings. */
IPCN_API int ipcn_traffic(ipcn_node *n, const char *peer,
                          ipcn_traffic_list **out)
{
    if (!n || !out)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    uint64_t now = ipcn__now_mono_ns();
    trow *rows;
    size_t count;
    int st = traffic_rows(n, peer, now, &rows, &count);
    if (st != IPCN_OK) {
        ipcn__node_unlock(n);
        return st;
    }
    size_t strings = 0;
    for (size_t i = 0; i < count; i++)
        strings += strlen(rows[i].l->who.name) + strlen(trow_path(&rows[i])) + 2;
    ipcn_traffic_list *tl = ipcn__malloc(sizeof *tl + count *
                                         (sizeof(ipcn_traffic_item *) +
                                          sizeof(ipcn_traffic_item)) +
                                         strings);
    if (!tl) {
        ipcn__node_unlock(n);
        ipcn__free(rows);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    tl->count = count;
    tl->items = (ipcn_traffic_item **)(tl + 1);
    ipcn_traffic_item *it = (ipcn_traffic_item *)(tl->items + count);
    char *sp = (char *)(it + count);
    for (size_t i = 0; i < count; i++) {
        const ipcn__link *l = rows[i].l;
        const ipcn__tstat *t = rows[i].t;
        size_t pl = strlen(l->who.name) + 1, ql = strlen(trow_path(&rows[i])) + 1;
        memcpy(sp, l->who.name, pl);
        memcpy(sp + pl, trow_path(&rows[i]), ql);
        it[i] = (ipcn_traffic_item){
            .size = sizeof it[i], .peer = sp, .peer_id = l->who.node_id,
            .path = sp + pl, .verb = (ipcn_traffic_verb)t->verb,
            .anomalous = t->anomalous, .rate_per_s = t->rate,
            .rate_now = t->rate_now, .mean_bytes = t->size,
            .count = t->count, .bytes = t->bytes, .idle_s = idle_s(t, now),
            .anomalies = t->episodes};
        tl->items[i] = &it[i];
        sp += pl + ql;
    }
    ipcn__node_unlock(n);
    ipcn__free(rows);
    *out = tl;
    return IPCN_OK;
}

IPCN_API void ipcn_traffic_list_free(ipcn_traffic_list *list)
{
    ipcn__free(list);
}

IPCN_API const char *ipcn_traffic_verb_str(int verb)
{
    return verb >= 0 && verb < IPCN__TV_COUNT ? ipcn__tverb_name((unsigned)verb)
                                              : "?";
}

/* ---- handlers ---- */

/* The request's body, when the handler takes one: empty, or CBOR (encoding
 * "cbor") of a map whose only key may be "peer" (a text).  *peer is set
 * (NULL for none) and is freed by the caller.  100 or 200. */
static int arg_peer(const ipcn__sys_call *c, char **peer, ipcn__sys_reply *r)
{
    *peer = NULL;
    if (!c->len)
        return IPCN_OK;
    ipcn_encoding e;
    ipcn_cbor_reader rd;
    ipcn_cbor_value v;
    const char *why = "the body must be empty or a CBOR map {\"peer\": NAME}";
    if (ipcn_encoding_parse(c->encoding, &e) != IPCN_OK ||
        !ipcn_encoding_is(&e, "cbor") ||
        ipcn_cbor_check(c->data, c->len, 0) != IPCN_OK ||
        ipcn_cbor_reader_init(&rd, c->data, c->len, 0) != IPCN_OK ||
        ipcn_cbor_next(&rd, &v) != IPCN_OK || v.type != IPCN_CBOR_MAP)
        goto bad;
    for (uint64_t i = 0; i < v.count; i++) {
        ipcn_cbor_value k, s;
        if (ipcn_cbor_next(&rd, &k) != IPCN_OK || k.type != IPCN_CBOR_TEXT ||
            k.len != 4 || memcmp(k.ptr, "peer", 4) ||
            ipcn_cbor_next(&rd, &s) != IPCN_OK || s.type != IPCN_CBOR_TEXT ||
            *peer || ipcn__name_check((const char *)s.ptr, s.len) != IPCN_OK)
            goto bad;
        if (!(*peer = ipcn__malloc(s.len + 1)))
            return IPCN_INSUFFICIENT_MEMORY;
        memcpy(*peer, s.ptr, s.len);
        (*peer)[s.len] = 0;
    }
    return IPCN_OK;
bad:
    ipcn__free(*peer);
    *peer = NULL;
    r->data = ipcn__strdup(why);
    r->len = r->data ? strlen(why) : 0;
    r->encoding = "text/plain";
    return IPCN_BAD_REQUEST;
}

/* The rows as CBOR: {"node": NAME, "items": [{"peer", "path", "verb",
 * "rate", "now", "mean_bytes", "count", "bytes", "idle_s",
 * "anomalous", "anomalies"}...]}. */
static void traffic_cbor(ipcn_cbor_writer *w, const ipcn_node *n,
                         const trow *rows, size_t count, uint64_t now)
{
    ipcn_cbor_put_map(w, 2);
    ipcn_cbor_put_cstr(w, "node");
    ipcn_cbor_put_cstr(w, n->name);
    ipcn_cbor_put_cstr(w, "items");
    ipcn_cbor_put_array(w, count);
    for (size_t i = 0; i < count; i++) {
        const ipcn__tstat *t = rows[i].t;
        ipcn_cbor_put_map(w, 11);
        ipcn_cbor_put_cstr(w, "peer");
        ipcn_cbor_put_cstr(w, rows[i].l->who.name);
        ipcn_cbor_put_cstr(w, "path");
        ipcn_cbor_put_cstr(w, trow_path(&rows[i]));
        ipcn_cbor_put_cstr(w, "verb");
        ipcn_cbor_put_cstr(w, ipcn__tverb_name(t->verb));
        ipcn_cbor_put_cstr(w, "rate");
        ipcn_cbor_put_float(w, t->rate);
        ipcn_cbor_put_cstr(w, "now");
        ipcn_cbor_put_float(w, t->rate_now);
        ipcn_cbor_put_cstr(w, "mean_bytes");
        ipcn_cbor_put_float(w, t->size);
        ipcn_cbor_put_cstr(w, "count");
        ipcn_cbor_put_uint(w, t->count);
        ipcn_cbor_put_cstr(w, "bytes");
        ipcn_cbor_put_uint(w, t->bytes);
        ipcn_cbor_put_cstr(w, "idle_s");
        ipcn_cbor_put_float(w, idle_s(t, now));
        ipcn_cbor_put_cstr(w, "anomalous");
        ipcn_cbor_put_bool(w, t->anomalous);
        ipcn_cbor_put_cstr(w, "anomalies");
        ipcn_cbor_put_uint(w, t->episodes);
    }
}

/* "traffic": this node's picture of what its peers send it. */
static int sys_traffic(ipcn_node *n, ipcn__link *l, const ipcn__sys_call *c,
                       ipcn__sys_reply *r)
{
    (void)l;
    char *peer;
    int st = arg_peer(c, &peer, r);
    if (st != IPCN_OK)
        return st;
    uint64_t now = ipcn__now_mono_ns();
    trow *rows;
    size_t count, len;
    st = traffic_rows(n, peer, now, &rows, &count);
    ipcn__free(peer);
    if (st != IPCN_OK)
        return st;
    ipcn_cbor_writer *w = ipcn__malloc(sizeof *w);
    if (!w) {
        ipcn__free(rows);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    ipcn_cbor_writer_init(w, NULL, 0, 0);
    traffic_cbor(w, n, rows, count, now);
    st = ipcn_cbor_writer_finish(w, &len);
    if (st == IPCN_INSUFFICIENT_STORAGE && (r->data = ipcn__malloc(len))) {
        ipcn_cbor_writer_init(w, r->data, len, 0);
        traffic_cbor(w, n, rows, count, now);
        st = ipcn_cbor_writer_finish(w, &r->len);
        r->encoding = "cbor";
    } else if (st == IPCN_INSUFFICIENT_STORAGE) {
        st = IPCN_INSUFFICIENT_MEMORY;
    }
    ipcn__free(w);
    ipcn__free(rows);
    return st == IPCN_OK ? IPCN_OK
                         : st == IPCN_INSUFFICIENT_MEMORY ? st
                                                          : IPCN_INTERNAL_ERROR;
}

/* The built-in services, by name (the path after "@sys/<node>/"). */
static const struct {
    const char *name;
    ipcn__sys_fn fn;
} sys_table[] = {
    {"traffic", sys_traffic},
    {"quarantine", ipcn__sys_guard},
    {"quarantine/lift", ipcn__sys_guard},
    {"shutdown", ipcn__sys_shutdown},
    {"links", ipcn__sys_links},
    {"history", ipcn__sys_history},
    {"prov", ipcn__sys_prov},
    {"prov/to", ipcn__sys_prov_to},
};

static ipcn__sys_fn sys_find(const char *name)
{
    for (size_t i = 0; i < sizeof sys_table / sizeof sys_table[0]; i++)
        if (!strcmp(sys_table[i].name, name))
            return sys_table[i].fn;
    return NULL;
}

/* The node part of "@sys/<node>/<name>": its length, 0 when there is no
 * name after it. */
static size_t node_part(const char *path, const char **name)
{
    const char *node = path + IPCN_SYS_PREFIX_LEN;
    const char *slash = strchr(node, '/');
    if (!slash || slash == node)
        return 0;
    *name = slash + 1;
    return (size_t)(slash - node);
}

/* ---- the requester's side ---- */

int ipcn__sys_link(ipcn_node *n, const char *path, uint32_t *link_id)
{
    const char *name = NULL;
    size_t len = node_part(path, &name);
    char node[IPCN_NAME_MAX + 1];
    if (!len || len > IPCN_NAME_MAX)
        return IPCN_NOT_FOUND;
    memcpy(node, path + IPCN_SYS_PREFIX_LEN, len);
    node[len] = 0;
    if (!strcmp(node, n->name)) {
        *link_id = 0;
        return IPCN_OK;
    }
    ipcn__link *l = ipcn__link_by_name(n, node);
    if (!l)
        return IPCN_NOT_FOUND;
    *link_id = l->id;
    return IPCN_OK;
}

/* Does the node part of a service path (nl bytes) name this node?  Its
 * own name; or, asked from another host (over TCP or routers), its name
 * followed by "@HOST": HOST is the asker's name for this host (its trust
 * list's), which this node does not know, and the request came to this
 * node's id through the routers anyway. */
static bool names_me(const ipcn_node *n, const ipcn__link *l, const char *node,
                     size_t nl)
{
    size_t k = strlen(n->name);
    if (nl < k || memcmp(node, n->name, k) != 0)
        return false;
    if (nl == k)
        return true;
    return l && l->kind != LINK_UNIX && node[k] == '@' && nl > k + 1;
}

static int sys_run(ipcn_node *n, ipcn__link *l, const char *path,
                   const char *enc, const void *data, size_t len,
                   uint64_t corr, uint64_t deadline_ns, ipcn__sys_reply *r)
{
    const char *name = NULL;
    size_t nl = node_part(path, &name);
    ipcn__sys_fn fn = names_me(n, l, path + IPCN_SYS_PREFIX_LEN, nl)
                          ? sys_find(name)
                          : NULL;
    if (!nl || !fn)
        return IPCN_NOT_FOUND;
    ipcn__sys_call c = {.name = name, .encoding = enc, .data = data,
                        .len = len, .path = path, .corr = corr,
                        .deadline_ns = deadline_ns};
    return fn(n, l, &c, r);
}

void ipcn__sys_run_local(ipcn_node *n, ipcn__pending *p)
{
    ipcn__sys_reply r = {0};
    int st = sys_run(n, NULL, p->path, p->encoding, p->data, p->len, p->corr,
                     p->deadline_ns, &r);
    if (r.later)
        return; /* queued: answered from dispatch */
    if (ipcn__req_answer_local(n, p->corr, st, r.data, r.len, r.encoding) !=
        IPCN_OK)
        ipcn__req_answer_local(n, p->corr, IPCN_INSUFFICIENT_MEMORY, NULL, 0,
                               NULL);
    ipcn__free(r.data);
}

/* ---- the provider's side ---- */

/* Counted and logged as for any service (access.c). */
int ipcn__sys_allowed(ipcn_node *n, ipcn__link *l, const char *path)
{
    ipcn__decision r, x, *d = &r;
    uint32_t asked = IPCN__V_READ;
    int st = ipcn__gate_decide(n, NULL, &l->who, IPCN__V_READ, path, NULL, 0,
                               &r);
    if (st != IPCN_OK) {
        st = st == IPCN_FORBIDDEN ? IPCN_NOT_FOUND : st;
    } else {
        st = ipcn__gate_decide(n, NULL, &l->who, IPCN__V_EXECUTE, path, NULL,
                               0, &x);
        if (st != IPCN_OK || x.audited || !r.audited) {
            d = &x;
            asked = IPCN__V_EXECUTE;
        }
    }
    if (st != IPCN_OK || d->audited)
        ipcn__gate_count(n, l, asked, path, d, st);
    return st;
}

void ipcn__sys_on_request(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__request *q = &f->u.request;
    ipcn__sys_reply r = {0};
    int st;
    if (ipcn__path_check(q->path.p, q->path.len) != IPCN_OK ||
        ipcn__encoding_check(q->encoding.p, q->encoding.len) != IPCN_OK)
        st = IPCN_BAD_REQUEST;
    else if (!ipcn__prov_within_limits(n, l, IPCN_F_REPLY, f->hdr.corr,
                                       q->path.p, q->data.len))
        return; /* answered 205 (or its link quarantined): a rate limit
                   holds for the node's services as for any service */
    else if ((st = ipcn__sys_allowed(n, l, q->path.p)) == IPCN_OK)
        st = sys_run(n, l, q->path.p, q->encoding.p, q->data.p, q->data.len,
                     f->hdr.corr,
                     q->timeout_ms ? ipcn__now_mono_ns() +
                                         q->timeout_ms * 1000000ull
                                   : 0,
                     &r);
    if (r.later)
        return; /* queued for the dispatching thread: answered then */
    if (l->state != LINK_UP) { /* quarantined meanwhile (a settle) */
        ipcn__free(r.data);
        return;
    }
    if (!ipcn__pool_send_reply(n, l, f->hdr.corr, st,
                               r.encoding ? r.encoding : "", r.data, r.len))
        ipcn__prov_send_reply(n, l, IPCN_F_REPLY, f->hdr.corr, st,
                              r.encoding ? r.encoding : "", r.data, r.len, 0,
                              0);
    ipcn__free(r.data);
}
