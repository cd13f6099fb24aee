/* SPDX-License-Identifier: MIT */
/*
 * history.c — the debug history of data resources, the provider's side
 * (ipcnet_history.h, docs/protocol.md 10.6): the last N versions of a
 * value with who set each and when, kept when the network policy
 * (`debug: {history: N}`) or the provider (ipcn_announce_history()) says
 * so; a past version answered to a QUERY that asks for it, and the whole
 * listed by the node service "history".  The requester's side is
 * history_client.c.
 *
 * An entry holds a reference of the value's message (the one that was
 * the current value, router.c's pub_next()), so that keeping the current
 * value costs no copy.  The ring is bounded by its depth and by bytes;
 * the oldest go first, counted as dropped.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "ipcnet_value.h"

typedef struct hentry {
    ipcn_msg *value;        /* a reference; its seq, time, encoding, bytes */
    uint64_t mono_ns;
    char *setter;           /* the node that set it */
    uint64_t setter_id;
    int32_t uid, pid;       /* -1: not known */
    uint8_t via;            /* IPCN_HISTORY_PUBLISH or _SET */
} hentry;

typedef struct ipcn__hist {
    uint32_t cap, head, count; /* a ring, oldest at head */
    uint64_t max_bytes, bytes, dropped;
    hentry e[];
} ipcn__hist;

static hentry *at(ipcn__hist *h, uint32_t i)
{
    return &h->e[(h->head + i) % h->cap];
}

static void entry_drop(hentry *e)
{
    ipcn_msg_free(e->value);
    ipcn__free(e->setter);
    memset(e, 0, sizeof *e);
}

static void drop_oldest(ipcn__hist *h)
{
    hentry *e = at(h, 0);
    h->bytes -= e->value->len;
    entry_drop(e);
    h->head = (h->head + 1) % h->cap;
    h->count--;
    h->dropped++;
}

void ipcn__hist_free(ipcn__local *lr)
{
    ipcn__hist *h = lr->hist;
    if (!h)
        return;
    for (uint32_t i = 0; i < h->count; i++)
        entry_drop(at(h, i));
    ipcn__free(h);
    lr->hist = NULL;
}

/* What lr keeps now: the provider's word, else the network's. */
static void wanted(const ipcn_node *n, const ipcn__local *lr, uint32_t *depth,
                   uint64_t *max_bytes)
{
    uint64_t b;
    if (lr->hist_own) {
        *depth = lr->hist_depth;
        b = lr->hist_max_bytes;
    } else {
        *depth = n->policy ? n->policy->guard.debug_history : 0;
        b = n->policy ? n->policy->guard.debug_history_bytes : 0;
    }
    *max_bytes = b ? b : IPCN_HISTORY_BYTES_DEFAULT;
}

/* lr's ring as depth and max_bytes say: made, resized (the newest kept),
 * or freed for depth 0.  100 or 307. */
static int fit(ipcn__local *lr, uint32_t depth, uint64_t max_bytes)
{
    ipcn__hist *h = lr->hist;
    if (!depth) {
        ipcn__hist_free(lr);
        return IPCN_OK;
    }
    if (!h || h->cap != depth) {
        ipcn__hist *nh = ipcn__calloc(1, sizeof *nh + depth * sizeof(hentry));
        if (!nh)
            return IPCN_INSUFFICIENT_MEMORY;
        nh->cap = depth;
        if (h) {
            while (h->count > depth)
                drop_oldest(h);
            for (uint32_t i = 0; i < h->count; i++)
                nh->e[i] = *at(h, i);
            nh->count = h->count;
            nh->bytes = h->bytes;
            nh->dropped = h->dropped;
            ipcn__free(h);
        }
        lr->hist = h = nh;
    }
    h->max_bytes = max_bytes;
    return IPCN_OK;
}

void ipcn__hist_on_policy(ipcn_node *n)
{
    ipcn__local *lr;
    ipcn__list_for_each(lr, t, &n->locals, ipcn__local, entry) {
        if (lr->kind != IPCN_DATA || lr->hist_own)
            continue;
        uint32_t depth;
        uint64_t max_bytes;
        wanted(n, lr, &depth, &max_bytes);
        (void)fit(lr, depth, max_bytes); /* 307: made at the next value */
        /* Fewer bytes allowed: the oldest go now, as at the next value. */
        ipcn__hist *h = lr->hist;
        while (h && h->count > 1 && h->bytes > h->max_bytes)
            drop_oldest(h);
    }
}

void ipcn__hist_record(ipcn_node *n, ipcn__local *lr, ipcn_msg *v)
{
    uint32_t depth;
    uint64_t max_bytes;
    wanted(n, lr, &depth, &max_bytes);
    if (fit(lr, depth, max_bytes) != IPCN_OK || !depth)
        return;
    ipcn__hist *h = lr->hist;
    /* Versions kept only go up (protocol.md 10.6): a sequence number that
     * does not (ipcn_publish_seq() going back or repeating one: a
     * recording played in a loop, two players of one path) starts the
     * history again, what was kept counted as dropped. */
    if (h->count && at(h, h->count - 1)->value->seq >= v->seq)
        while (h->count)
            drop_oldest(h);
    char *setter = ipcn__strdup(n->name);
    if (!setter) {
        h->dropped++; /* this version is not kept: counted */
        return;
    }
    if (h->count == h->cap)
        drop_oldest(h);
    /* Room for the new value; a value larger than max_bytes is kept
     * alone. */
    while (h->count && h->bytes + v->len > h->max_bytes)
        drop_oldest(h);
    hentry *e = &h->e[(h->head + h->count) % h->cap];
    *e = (hentry){.value = ipcn_msg_ref(v),
                  .mono_ns = ipcn__now_mono_ns(),
                  .setter = setter,
                  .setter_id = n->id,
                  .uid = (int32_t)getuid(),
                  .pid = (int32_t)getpid(),
                  .via = IPCN_HISTORY_PUBLISH};
    h->count++;
    h->bytes += v->len;
}

void ipcn__hist_setter(ipcn_node *n, ipcn__local *lr, uint64_t version,
                       uint32_t link_id)
{
    ipcn__hist *h = lr ? lr->hist : NULL;
    if (!h || !h->count)
        return;
    hentry *e = at(h, h->count - 1);
    if (e->value->seq != version)
        return;
    e->via = IPCN_HISTORY_SET;
    if (!link_id)
        return; /* this node itself: as recorded */
    ipcn__link *l = ipcn__link_by_id(n, link_id);
    if (!l || !l->who.name)
        return;
    char *s = ipcn__strdup(l->who.name);
    if (!s)
        return;
    ipcn__free(e->setter);
    e->setter = s;
    e->setter_id = l->who.node_id;
    e->uid = l->who.creds_known ? l->who.uid : -1;
    e->pid = l->who.creds_known ? l->who.pid : -1;
}

int ipcn__hist_version(ipcn_node *n, ipcn__local *lr, uint64_t v,
                       ipcn_msg **out)
{
    (void)n;
    if (lr->kind != IPCN_DATA)
        return IPCN_METHOD_NOT_ALLOWED;
    ipcn__hist *h = lr->hist;
    if (!h)
        return IPCN_METHOD_NOT_ALLOWED; /* history off */
    for (uint32_t i = 0; i < h->count; i++) {
        hentry *e = at(h, i);
        if (e->value->seq == v) {
            *out = ipcn_msg_ref(e->value);
            return IPCN_OK;
        }
    }
    return IPCN_NOT_FOUND;
}

/* ---- the listing: the node service "history" ---- */

/* The listing of lr as CBOR (protocol.md 10.6). */
static void list_cbor(ipcn_cbor_writer *w, const ipcn_node *n,
                      const ipcn__local *lr, bool values)
{
    ipcn__hist *h = lr->hist;
    ipcn_cbor_put_map(w, 8);
    ipcn_cbor_put_cstr(w, "node");
    ipcn_cbor_put_cstr(w, n->name);
    ipcn_cbor_put_cstr(w, "path");
    ipcn_cbor_put_cstr(w, lr->path);
    ipcn_cbor_put_cstr(w, "depth");
    ipcn_cbor_put_uint(w, h->cap);
    ipcn_cbor_put_cstr(w, "max_bytes");
    ipcn_cbor_put_uint(w, h->max_bytes);
    ipcn_cbor_put_cstr(w, "bytes");
    ipcn_cbor_put_uint(w, h->bytes);
    ipcn_cbor_put_cstr(w, "dropped");
    ipcn_cbor_put_uint(w, h->dropped);
    ipcn_cbor_put_cstr(w, "current");
    ipcn_cbor_put_uint(w, lr->seq);
    ipcn_cbor_put_cstr(w, "entries");
    ipcn_cbor_put_array(w, h->count);
    for (uint32_t i = 0; i < h->count; i++) {
        const hentry *e = at(h, i);
        ipcn_cbor_put_map(w, values ? 11 : 10);
        ipcn_cbor_put_cstr(w, "version");
        ipcn_cbor_put_uint(w, e->value->seq);
        ipcn_cbor_put_cstr(w, "wall_ns");
        ipcn_cbor_put_uint(w, e->value->timestamp_ns);
        ipcn_cbor_put_cstr(w, "mono_ns");
        ipcn_cbor_put_uint(w, e->mono_ns);
        ipcn_cbor_put_cstr(w, "encoding");
        ipcn_cbor_put_cstr(w, e->value->encoding);
        ipcn_cbor_put_cstr(w, "size");
        ipcn_cbor_put_uint(w, e->value->len);
        if (values) {
            ipcn_cbor_put_cstr(w, "value");
            ipcn_cbor_put_bytes(w, e->value->data, e->value->len);
        }
        ipcn_cbor_put_cstr(w, "setter");
        ipcn_cbor_put_cstr(w, e->setter);
        ipcn_cbor_put_cstr(w, "setter_id");
        ipcn_cbor_put_uint(w, e->setter_id);
        ipcn_cbor_put_cstr(w, "uid");
        ipcn_cbor_put_int(w, e->uid);
        ipcn_cbor_put_cstr(w, "pid");
        ipcn_cbor_put_int(w, e->pid);
        ipcn_cbor_put_cstr(w, "via");
        ipcn_cbor_put_cstr(w, e->via == IPCN_HISTORY_SET ? "set" : "publish");
    }
}

__attribute__((format(printf, 3, 4))) static int
refuse(ipcn__sys_reply *r, int st, const char *fmt, ...)
{
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (k < 0)
        k = 0;
    if ((size_t)k >= sizeof why)
        k = (int)sizeof why - 1;
    r->data = ipcn__strdup(why);
    r->len = r->data ? (size_t)k : 0;
    r->encoding = "text/plain";
    return st;
}

/* The request's body: CBOR {"path": P} with "values": false to leave the
 * values out.  100 with path (a copy) and *values, or 200. */
static int history_args(const ipcn__sys_call *c, char *path, size_t cap,
                        bool *values)
{
    ipcn_encoding e;
    if (ipcn_encoding_parse(c->encoding, &e) != IPCN_OK ||
        !ipcn_encoding_is(&e, "cbor") ||
        ipcn_cbor_map_get_cstr(c->data, c->len, "path", path, cap, NULL) !=
            IPCN_OK ||
        ipcn__path_check(path, strlen(path)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    int b = 1;
    int st = ipcn_cbor_map_get_bool(c->data, c->len, "values", &b);
    if (st != IPCN_OK && st != IPCN_NOT_FOUND)
        return IPCN_BAD_REQUEST;
    *values = b != 0;
    return IPCN_OK;
}

int ipcn__sys_history(ipcn_node *n, ipcn__link *l, const ipcn__sys_call *c,
                      ipcn__sys_reply *r)
{
    char path[IPCN_PATH_MAX + 1];
    bool values = true;
    if (history_args(c, path, sizeof path, &values) != IPCN_OK)
        return refuse(r, IPCN_BAD_REQUEST, "%s",
                      "the body must be a CBOR map {\"path\": PATH} (and "
                      "\"values\": false to leave the values out)");
    ipcn__local *lr = ipcn__local_find(n, path);
    /* Who may read the resource may read its history: 203 otherwise, as
     * if it did not exist (and with no body, as the policy's 203s). */
    if (!lr)
        return IPCN_NOT_FOUND;
    if (l) {
        int st = ipcn__access_local(n, l, lr, IPCN__V_READ);
        if (st != IPCN_OK)
            return st;
    }
    if (lr->kind != IPCN_DATA)
        return refuse(r, IPCN_METHOD_NOT_ALLOWED, "%s is not a data resource",
                      path);
    if (!lr->hist)
        return refuse(r, IPCN_METHOD_NOT_ALLOWED, "history is off for %s",
                      path);
    ipcn_cbor_writer w;
    size_t len;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    list_cbor(&w, n, lr, values);
    int st = ipcn_cbor_writer_finish(&w, &len);
    if (st != IPCN_INSUFFICIENT_STORAGE)
        return IPCN_INTERNAL_ERROR;
    if (len > IPCN_WIRE_MAX_PAYLOAD)
        return refuse(r, IPCN_INSUFFICIENT_STORAGE, "%s",
                      "the listing is too large: ask without values");
    if (!(r->data = ipcn__malloc(len)))
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn_cbor_writer_init(&w, r->data, len, 0);
    list_cbor(&w, n, lr, values);
    st = ipcn_cbor_writer_finish(&w, &r->len);
    r->encoding = "cbor";
    return st == IPCN_OK ? IPCN_OK : IPCN_INTERNAL_ERROR;
}

/* ---- the provider's switch ---- */

IPCN_API int ipcn_announce_history(ipcn_node *n, const char *path,
                                   unsigned depth, uint64_t max_bytes)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && path && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || depth > IPCN_HISTORY_MAX ||
        max_bytes > IPCN_HISTORY_BYTES_MAX)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr = ipcn__local_find(n, path);
    int st = IPCN_OK;
    if (!lr)
        st = IPCN_NOT_FOUND;
    else if (lr->kind != IPCN_DATA)
        st = IPCN_METHOD_NOT_ALLOWED;
    else {
        lr->hist_own = true;
        lr->hist_depth = (uint16_t)depth;
        lr->hist_max_bytes = max_bytes;
        uint32_t d;
        uint64_t b;
        wanted(n, lr, &d, &b);
        st = fit(lr, d, b);
        /* A smaller byte bound takes effect now too. */
        while (st == IPCN_OK && lr->hist && lr->hist->count > 1 &&
               lr->hist->bytes > lr->hist->max_bytes)
            drop_oldest(lr->hist);
    }
    ipcn__node_unlock(n);
    return st;
}
