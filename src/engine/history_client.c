/* SPDX-License-Identifier: MIT */
/*
 * history_client.c — the debug history, the requester's side
 * (ipcnet_history.h, docs/protocol.md 10.6): the listing asked of the
 * provider's node service "history" and decoded (ipcn_history_decode(),
 * which meets the provider's bytes: bounds-checked, fuzzed by
 * tests/fuzz/fuzz_history.c), and a past version asked by a QUERY with
 * its extension (ipcn_query_version(); request.c sends it).
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "ipcnet_value.h"

IPCN_API void ipcn_history_free(ipcn_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->count; i++) {
        ipcn__free((void *)h->entries[i].encoding);
        ipcn__free((void *)h->entries[i].data);
        ipcn__free((void *)h->entries[i].setter);
    }
    ipcn__free(h->entries);
    ipcn__free((void *)h->node);
    ipcn__free((void *)h->path);
    ipcn__free(h);
}

/* ---- decoding the listing ---- */

static char *text_of(const ipcn_cbor_item *it)
{
    if (!it || it->type != IPCN_CBOR_TEXT || memchr(it->ptr, 0, it->len))
        return NULL;
    char *s = ipcn__malloc(it->len + 1);
    if (s) {
        memcpy(s, it->ptr, it->len);
        s[it->len] = 0;
    }
    return s;
}

static bool uint_of(const ipcn_cbor_item *m, const char *key, uint64_t *out)
{
    const ipcn_cbor_item *it = ipcn_cbor_map_find(m, key);
    if (!it || it->type != IPCN_CBOR_UINT)
        return false;
    *out = it->u;
    return true;
}

/* uid and pid: -1 or 0..INT32_MAX. */
static bool id_of(const ipcn_cbor_item *m, const char *key, int32_t *out)
{
    const ipcn_cbor_item *it = ipcn_cbor_map_find(m, key);
    if (it && it->type == IPCN_CBOR_UINT && it->u <= INT32_MAX) {
        *out = (int32_t)it->u;
        return true;
    }
    if (it && it->type == IPCN_CBOR_NEGINT && it->u == 0) { /* -1 */
        *out = -1;
        return true;
    }
    return false;
}

/* One entry of the listing: 100, 200 (bad), 307.  What it allocated is
 * freed with the history. */
static int entry_of(const ipcn_cbor_item *m, ipcn_history_entry *e)
{
    if (m->type != IPCN_CBOR_MAP)
        return IPCN_BAD_REQUEST;
    uint64_t size = 0;
    if (!uint_of(m, "version", &e->version) || !e->version ||
        !uint_of(m, "wall_ns", &e->wall_ns) ||
        !uint_of(m, "mono_ns", &e->mono_ns) || !uint_of(m, "size", &size) ||
        size > IPCN_WIRE_MAX_PAYLOAD ||
        !uint_of(m, "setter_id", &e->setter_id) ||
        !id_of(m, "uid", &e->uid) || !id_of(m, "pid", &e->pid))
        return IPCN_BAD_REQUEST;
    const ipcn_cbor_item *via = ipcn_cbor_map_find(m, "via");
    if (!via || via->type != IPCN_CBOR_TEXT)
        return IPCN_BAD_REQUEST;
    if (via->len == 3 && !memcmp(via->ptr, "set", 3))
        e->via = IPCN_HISTORY_SET;
    else if (via->len == 7 && !memcmp(via->ptr, "publish", 7))
        e->via = IPCN_HISTORY_PUBLISH;
    else
        return IPCN_BAD_REQUEST;
    e->len = (size_t)size;
    const ipcn_cbor_item *v = ipcn_cbor_map_find(m, "value");
    if (v) {
        if (v->type != IPCN_CBOR_BYTES || v->len != size)
            return IPCN_BAD_REQUEST;
        /* One byte more, so that an empty value is not NULL. */
        void *d = ipcn__malloc(v->len + 1);
        if (!d)
            return IPCN_INSUFFICIENT_MEMORY;
        memcpy(d, v->ptr, v->len);
        e->data = d;
    }
    const ipcn_cbor_item *enc = ipcn_cbor_map_find(m, "encoding");
    const ipcn_cbor_item *who = ipcn_cbor_map_find(m, "setter");
    if (!enc || !who)
        return IPCN_BAD_REQUEST;
    if (!(e->encoding = text_of(enc)) || !(e->setter = text_of(who)))
        return enc->type == IPCN_CBOR_TEXT && who->type == IPCN_CBOR_TEXT &&
                       !memchr(enc->ptr, 0, enc->len) &&
                       !memchr(who->ptr, 0, who->len)
                   ? IPCN_INSUFFICIENT_MEMORY
                   : IPCN_BAD_REQUEST;
    return IPCN_OK;
}

IPCN_API int ipcn_history_decode(const void *cbor, size_t len,
                                 ipcn_history **out)
{
    if ((!cbor && len) || !out)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_item *root = NULL;
    int st = ipcn_cbor_tree_decode(cbor, len, 0, &root);
    if (st != IPCN_OK)
        return st == IPCN_INSUFFICIENT_MEMORY ? st : IPCN_BAD_REQUEST;
    ipcn_history *h = ipcn__calloc(1, sizeof *h);
    st = h ? IPCN_BAD_REQUEST : IPCN_INSUFFICIENT_MEMORY;
    const ipcn_cbor_item *es = ipcn_cbor_map_find(root, "entries");
    uint64_t depth = 0;
    if (!h || root->type != IPCN_CBOR_MAP || !es ||
        es->type != IPCN_CBOR_ARRAY || !uint_of(root, "depth", &depth) ||
        depth > IPCN_HISTORY_MAX || es->count > depth ||
        !uint_of(root, "max_bytes", &h->max_bytes) ||
        !uint_of(root, "bytes", &h->bytes) ||
        !uint_of(root, "dropped", &h->dropped) ||
        !uint_of(root, "current", &h->current))
        goto fail;
    h->depth = (uint32_t)depth;
    if (!(h->node = text_of(ipcn_cbor_map_find(root, "node"))) ||
        !(h->path = text_of(ipcn_cbor_map_find(root, "path"))) ||
        ipcn__path_check(h->path, strlen(h->path)) != IPCN_OK)
        goto fail; /* (out of memory here reads as bad: a tiny string) */
    if (es->count) {
        h->entries = ipcn__calloc((size_t)es->count, sizeof *h->entries);
        if (!h->entries) {
            st = IPCN_INSUFFICIENT_MEMORY;
            goto fail;
        }
    }
    for (uint64_t i = 0; i < es->count; i++) {
        h->count = (size_t)i + 1; /* freed with h from here */
        if ((st = entry_of(&es->items[i], &h->entries[i])) != IPCN_OK)
            goto fail;
        /* Oldest first: versions only grow. */
        if (i && h->entries[i].version <= h->entries[i - 1].version) {
            st = IPCN_BAD_REQUEST;
            goto fail;
        }
    }
    ipcn_cbor_tree_free(root);
    *out = h;
    return IPCN_OK;
fail:
    ipcn_cbor_tree_free(root);
    ipcn_history_free(h);
    return st;
}

/* ---- asking ---- */

/* The node that provides the data resource path, for its "@sys/" path:
 * this node, or a linked peer (with the HISTORY capability: else 301).
 * 100 with name (cap bytes), 203 when none does, 204 another kind. */
static int provider_of(ipcn_node *n, const char *path, char *name, size_t cap)
{
    ipcn__local *lr = ipcn__local_find(n, path);
    if (lr) {
        snprintf(name, cap, "%s", n->name);
        return lr->kind == IPCN_DATA ? IPCN_OK : IPCN_METHOD_NOT_ALLOWED;
    }
    int st = IPCN_NOT_FOUND;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP || !l->who.name)
            continue;
        ipcn__remote *r = ipcn__remote_find(n, path, l->id);
        if (!r || r->denied)
            continue;
        if (r->kind != IPCN_DATA) {
            st = IPCN_METHOD_NOT_ALLOWED;
            continue;
        }
        if (!(l->peer_caps & IPCN_CAP_HISTORY)) {
            st = IPCN_NOT_IMPLEMENTED;
            continue;
        }
        snprintf(name, cap, "%s", l->who.name);
        /* The owner of an owned path first; any provider else. */
        if (!r->group || r->owner)
            return IPCN_OK;
        st = IPCN_OK;
    }
    return st;
}

IPCN_API int ipcn_history_get(ipcn_node *n, const char *path, unsigned flags,
                              int timeout_ms, ipcn_history **out)
{
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && path && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || !out || (flags & ~IPCN_HISTORY_NO_VALUES) ||
        ipcn__path_check(path, strlen(path)) != IPCN_OK ||
        ipcn__sys_path(path, strlen(path)))
        return IPCN_BAD_REQUEST;
    /* The body: {"path": P} (and "values": false). */
    uint8_t body[IPCN_PATH_MAX + 64];
    ipcn_cbor_writer w;
    size_t blen;
    ipcn_cbor_writer_init(&w, body, sizeof body, 0);
    ipcn_cbor_put_map(&w, flags & IPCN_HISTORY_NO_VALUES ? 2 : 1);
    ipcn_cbor_put_cstr(&w, "path");
    ipcn_cbor_put_cstr(&w, path);
    if (flags & IPCN_HISTORY_NO_VALUES) {
        ipcn_cbor_put_cstr(&w, "values");
        ipcn_cbor_put_bool(&w, 0);
    }
    if (ipcn_cbor_writer_finish(&w, &blen) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    char name[IPCN_NAME_MAX + 1];
    int st = provider_of(n, path, name, sizeof name);
    if (st == IPCN_NOT_FOUND) { /* as ipcn_query(): one round of I/O */
        ipcn__node_poll(n);
        st = provider_of(n, path, name, sizeof name);
    }
    char sys[IPCN_PATH_MAX + 1];
    ipcn_msg *reply = NULL;
    if (st == IPCN_OK) {
        if ((size_t)snprintf(sys, sizeof sys, IPCN_SYS_PREFIX "%s/history",
                             name) >= sizeof sys)
            st = IPCN_BAD_REQUEST;
        else
            st = ipcn__req_call(n, PEND_REQUEST, sys, body, blen, "cbor", 0,
                                &reply, timeout_ms);
    }
    ipcn__node_unlock(n);
    if (st == IPCN_OK)
        st = reply ? ipcn_history_decode(reply->data, reply->len, out)
                   : IPCN_BAD_REQUEST;
    ipcn_msg_free(reply);
    return st;
}

IPCN_API int ipcn_query_version(ipcn_node *n, const char *path,
                                uint64_t version, ipcn_msg **out,
                                int timeout_ms)
{
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && path && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || !out || !version ||
        ipcn__path_check(path, strlen(path)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    /* The version rides in the expected version's place (request.c). */
    int st = ipcn__req_call(n, PEND_QUERY, path, NULL, 0, NULL, version, out,
                            timeout_ms);
    ipcn__node_unlock(n);
    return st;
}
