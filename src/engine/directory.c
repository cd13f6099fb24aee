/* SPDX-License-Identifier: MIT */
/*
 * directory.c — the resources of the network as this node knows them: its
 * own (announced to every peer) and its peers' (learned from their
 * ANNOUNCE and WITHDRAW frames, forgotten with the link).
 */
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "value/value.h"

static uint64_t remote_hash(const char *path, size_t len, uint32_t link_id)
{
    return ipcn__hash(path, len) + link_id * 0x9E3779B97F4A7C15ull;
}

/* Both lookups run for every sample sent or received: by hash, not by a
 * walk of lists that a peer may have filled with 4096 resources. */
ipcn__local *ipcn__local_find(ipcn_node *n, const char *path)
{
    /* A stream is published many times in a row: the last one found. */
    if (n->last_local && !strcmp(n->last_local->path, path))
        return n->last_local;
    size_t len = strlen(path);
    uint64_t h = ipcn__hash(path, len);
    for (ipcn__hnode *e = ipcn__htab_chain(&n->local_idx, h); e; e = e->next) {
        ipcn__local *lr = ipcn__container_of(e, ipcn__local, hnode);
        if (e->hash == h && lr->path_len == len && !memcmp(lr->path, path, len))
            return n->last_local = lr;
    }
    return NULL;
}

ipcn__remote *ipcn__remote_find(ipcn_node *n, const char *path,
                                uint32_t link_id)
{
    ipcn__remote *r = n->last_remote;
    if (r && r->link_id == link_id && !strcmp(r->path, path))
        return r;
    size_t len = strlen(path);
    uint64_t h = remote_hash(path, len, link_id);
    for (ipcn__hnode *e = ipcn__htab_chain(&n->remote_idx, h); e; e = e->next) {
        r = ipcn__container_of(e, ipcn__remote, hnode);
        if (e->hash == h && r->link_id == link_id && !strcmp(r->path, path))
            return n->last_remote = r;
    }
    return NULL;
}

int ipcn__local_index(ipcn_node *n, ipcn__local *lr)
{
    size_t len = strlen(lr->path);
    lr->path_len = (uint16_t)len; /* checked: at most IPCN_PATH_MAX */
    lr->hnode.hash = ipcn__hash(lr->path, len);
    return ipcn__htab_add(&n->local_idx, &lr->hnode);
}

int ipcn__remote_index(ipcn_node *n, ipcn__remote *r)
{
    r->hnode.hash = remote_hash(r->path, strlen(r->path), r->link_id);
    return ipcn__htab_add(&n->remote_idx, &r->hnode);
}

void ipcn__local_free(ipcn__local *lr)
{
    ipcn__free(lr->path);
    ipcn__free(lr->encoding);
    ipcn__free(lr->meta);
    ipcn__free(lr->args_schema);
    ipcn__free(lr->returns_schema);
    ipcn__free(lr->schema);
    if (lr->value)
        ipcn_msg_free(lr->value);
    ipcn__free(lr->route_links);
    ipcn__once_free(NULL, lr->once);
    ipcn__keep_free(NULL, lr);
    ipcn__hist_free(lr);
    ipcn__free(lr);
}

void ipcn__remote_free(ipcn_node *n, ipcn__remote *r)
{
    (void)n;
    ipcn__free(r->path);
    ipcn__free(r->encoding);
    ipcn__free(r->meta);
    ipcn__free(r->schema);
    ipcn__free(r->subs);
    ipcn__free(r);
}

int ipcn__dir_send_announce(ipcn_node *n, ipcn__link *l, const ipcn__local *lr)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    ipcn__announce a = {.kind = (uint8_t)lr->kind,
                        .version = lr->version,
                        .path = ipcn__str_of(lr->path),
                        .encoding = ipcn__str_of(lr->encoding),
                        .meta = ipcn__blob_of(lr->meta, lr->meta_len)};
    /* Owned and at-most-once resources, and what one keeps for late
     * subscribers, are said to peers that understand it; older peers get
     * the plain announce. */
    uint16_t keep = (l->peer_caps & IPCN_CAP_LATCH) ? lr->keep : 0;
    if ((lr->owned || lr->once || keep) &&
        (l->peer_caps & IPCN_CAP_REDUNDANCY)) {
        a.has_ext = 1;
        a.flags = (uint8_t)((lr->owned ? IPCN_ANN_OWNED : 0) |
                            (lr->once ? IPCN_ANN_ONCE : 0));
        a.strength = lr->strength;
        a.keep = keep;
    }
    size_t mark = ipcn__link_tx_mark(l, lr->meta_len);
    return ipcn__link_commit(n, l, mark, ipcn__enc_announce(&l->tx, &h, &a));
}

void ipcn__dir_send_withdraw(ipcn_node *n, ipcn__link *l, const char *path)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    size_t mark = ipcn__link_tx_mark(l, 0);
    ipcn__link_commit(n, l, mark,
                      ipcn__enc_text(&l->tx, &h, IPCN_F_WITHDRAW, path,
                                     strlen(path)));
}

void ipcn__dir_on_link_up(ipcn_node *n, ipcn__link *l)
{
    ipcn__local *lr;
    ipcn__list_for_each(lr, t, &n->locals, ipcn__local, entry) {
        if (l->state != LINK_UP)
            return;
        /* What l may not read it is never told of (access.c). */
        if (ipcn__access_visible(n, l, lr))
            ipcn__dir_send_announce(n, l, lr);
    }
}

/* What a peer's resource costs this node: its record, its strings, its
 * entry in the index. */
static size_t remote_cost(const ipcn__announce *a)
{
    return sizeof(ipcn__remote) + 2 * sizeof(void *) + a->path.len + 1 +
           a->encoding.len + 1 + a->meta.len;
}

/* r is gone for this node's users: its subscribers, pending calls and
 * event callback are told. */
static void remote_unseen(ipcn_node *n, ipcn__link *l, ipcn__remote *r)
{
    if (r->kind != IPCN_SERVICE)
        ipcn__pub_gone(n, r->path, l->who.name, l->who.node_id);
    ipcn__req_on_withdraw(n, r->path, r->link_id);
    if (!n->closing)
        ipcn__queue_event(n, IPCN_EV_RESOURCE_DOWN, l, r->path, r->kind,
                          l->state == LINK_UP ? IPCN_OK
                                              : IPCN_SERVICE_UNAVAILABLE);
}

static void remote_gone(ipcn_node *n, ipcn__link *l, ipcn__remote *r)
{
    ipcn__meta_give(n, l, r->cost);
    ipcn__list_remove(&r->entry);
    ipcn__htab_del(&n->remote_idx, &r->hnode);
    if (n->last_remote == r)
        n->last_remote = NULL;
    if (l->resources)
        l->resources--;
    /* Ranked without it first: a query failing over from it, and the
     * application told it went, find its successor in place. */
    ipcn__own_remote_gone(n, r);
    if (!r->denied)
        remote_unseen(n, l, r);
    ipcn__remote_free(n, r);
}

void ipcn__dir_recheck(ipcn_node *n)
{
    ipcn__remote *r;
    ipcn__list_for_each(r, t, &n->remotes, ipcn__remote, entry) {
        ipcn__link *l = ipcn__link_by_id(n, r->link_id);
        if (!l)
            continue;
        bool denied = ipcn__access_provide(n, l, r->path, false) != IPCN_OK;
        if (denied == r->denied)
            continue;
        r->denied = denied;
        ipcn__own_remote_changed(n, r); /* ranked, or no longer */
        if (denied) {
            /* Counted and logged, not charged: the policy changed, not
             * what the peer did. */
            n->rep_hold++;
            ipcn__access_provide(n, l, r->path, true);
            n->rep_hold--;
            remote_unseen(n, l, r);
        } else {
            ipcn__queue_event(n, IPCN_EV_RESOURCE_UP, l, r->path, r->kind,
                              IPCN_OK);
        }
    }
    ipcn__pub_routes_changed(n, true);
}

void ipcn__dir_on_link_down(ipcn_node *n, ipcn__link *l)
{
    /* Publishers' caches hold links: this one goes after the round. */
    ipcn__pub_routes_changed(n, false);
    ipcn__remote *r;
    ipcn__list_for_each(r, t, &n->remotes, ipcn__remote, entry)
        if (r->link_id == l->id)
            remote_gone(n, l, r);
}

void ipcn__dir_on_announce(ipcn_node *n, ipcn__link *l, const ipcn__announce *a)
{
    if (ipcn__path_check(a->path.p, a->path.len) != IPCN_OK ||
        ipcn__sys_path(a->path.p, a->path.len) || /* the nodes' own */
        ipcn__encoding_check(a->encoding.p, a->encoding.len) != IPCN_OK ||
        a->meta.len > IPCN_META_MAX) {
        l->bad_frames++;
        n->stats.bad_frames++;
        ipcn__link_send_error(n, l, IPCN_BAD_REQUEST, "invalid announce");
        ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME, "invalid announce");
        return;
    }
    ipcn__remote *r = ipcn__remote_find(n, a->path.p, l->id);
    if (r && a->version <= r->version)
        return; /* stale or repeated: the newer one stands */
    /* The type its meta declares: kept (on the peer's quota), checked on
     * every value of it that reaches this node (typed.c). */
    uint8_t *schema = NULL;
    size_t schema_len = 0;
    int tst = ipcn__typed_of(a->kind, a->encoding.p, a->meta.p, a->meta.len,
                             &schema, &schema_len);
    if (tst == IPCN_INSUFFICIENT_MEMORY)
        return;
    if (tst != IPCN_OK && tst != IPCN_NO_DATA) {
        l->bad_frames++;
        n->stats.bad_frames++;
        ipcn__link_send_error(n, l, IPCN_BAD_REQUEST, "invalid announce");
        ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME,
                          "announce with an invalid schema");
        return;
    }
    if (r) {
        size_t cost = remote_cost(a) + schema_len;
        int st = cost > r->cost ? ipcn__meta_take(n, l, cost - r->cost)
                                : IPCN_OK;
        if (st != IPCN_OK) {
            ipcn__free(schema);
            ipcn__link_send_error(n, l, st, "announce over the memory cap");
            return;
        }
        char *enc = ipcn__strndup(a->encoding.p, a->encoding.len);
        void *meta = a->meta.len ? ipcn__memdup(a->meta.p, a->meta.len) : NULL;
        if (!enc || (a->meta.len && !meta)) {
            ipcn__free(enc);
            ipcn__free(meta);
            ipcn__free(schema);
            if (cost > r->cost)
                ipcn__meta_give(n, l, cost - r->cost);
            return;
        }
        if (cost < r->cost)
            ipcn__meta_give(n, l, r->cost - cost);
        r->cost = cost;
        ipcn__free(r->encoding);
        ipcn__free(r->meta);
        ipcn__free(r->schema);
        r->encoding = enc;
        r->meta = meta;
        r->meta_len = a->meta.len;
        r->schema = schema;
        r->schema_len = schema_len;
        r->told_dropped = false;
        r->version = a->version;
        if (r->kind != a->kind) {
            r->kind = a->kind;
        }
        r->ann_flags = a->flags;
        r->strength = a->strength;
        r->keep = a->keep;
        ipcn__own_remote_changed(n, r);
        if (!r->denied)
            ipcn__queue_event(n, IPCN_EV_RESOURCE_UP, l, r->path, r->kind,
                              IPCN_OK);
        return;
    }
    ipcn__local *mine = ipcn__local_find(n, a->path.p);
    /* Several providers of an owned path are no conflict: they rank. */
    bool both_owned = mine && mine->owned && mine->kind == a->kind &&
                      (a->flags & IPCN_ANN_OWNED);
    if (mine && !both_owned &&
        (mine->kind != IPCN_SERVICE || a->kind != IPCN_SERVICE))
        ipcn__warn("IPCN-DIR-CONFLICT", "%s: %s also announces %s, which this "
                   "node provides; queries keep going to this node", n->name,
                   l->who.name, mine->path);
    if (ipcn__gate_resource(n, l, a->path.p) != IPCN_OK) {
        ipcn__free(schema);
        ipcn__link_send_error(n, l, IPCN_TOO_MANY_REQUESTS,
                              "too many resources announced");
        return;
    }
    size_t cost = remote_cost(a) + schema_len;
    int st = ipcn__meta_take(n, l, cost);
    if (st != IPCN_OK) {
        ipcn__free(schema);
        ipcn__link_send_error(n, l, st, "announce over the memory cap");
        return;
    }
    r = ipcn__calloc(1, sizeof *r);
    if (!r) {
        ipcn__free(schema);
        ipcn__meta_give(n, l, cost);
        return;
    }
    r->cost = cost;
    r->schema = schema; /* freed with r from here on */
    r->schema_len = schema_len;
    r->path = ipcn__strndup(a->path.p, a->path.len);
    r->encoding = ipcn__strndup(a->encoding.p, a->encoding.len);
    r->meta = a->meta.len ? ipcn__memdup(a->meta.p, a->meta.len) : NULL;
    if (!r->path || !r->encoding || (a->meta.len && !r->meta)) {
        ipcn__meta_give(n, l, cost);
        ipcn__remote_free(n, r);
        return;
    }
    r->meta_len = a->meta.len;
    r->kind = a->kind;
    r->version = a->version;
    r->link_id = l->id;
    r->ann_flags = a->flags;
    r->strength = a->strength;
    r->keep = a->keep;
    /* A peer that may not provide the path: its announcement is kept (on
     * its quota, as any) to be let in if a new policy allows it, but it
     * is not found, asked or subscribed to, and counted. */
    int pst = ipcn__access_provide(n, l, r->path, true);
    r->denied = pst != IPCN_OK;
    /* Announcing outside what the policy lets it provide is evidence of a
     * compromise (not a 201: what could not be established of it). */
    if (pst == IPCN_FORBIDDEN && ipcn__cz_provide_ruled(n))
        ipcn__cz_evidence_add(n, l, IPCN_COMPROMISE_PROVIDE,
                              "announced %s, which the policy does not let "
                              "it provide", r->path);
    if (ipcn__remote_index(n, r) != IPCN_OK) {
        ipcn__meta_give(n, l, cost);
        ipcn__remote_free(n, r);
        return;
    }
    ipcn__list_insert_tail(&n->remotes, &r->entry);
    l->resources++;
    ipcn__own_remote_changed(n, r);
    if (!r->denied)
        ipcn__queue_event(n, IPCN_EV_RESOURCE_UP, l, r->path, r->kind,
                          IPCN_OK);
}

void ipcn__dir_on_withdraw(ipcn_node *n, ipcn__link *l, const ipcn__str *p)
{
    ipcn__remote *r = ipcn__remote_find(n, p->p, l->id);
    if (r)
        remote_gone(n, l, r);
}

/* Is path provided (as a data or stream, or as another kind) by a live
 * peer?  Used to refuse a second provider of one data or stream path,
 * unless both announce it owned (owner.c ranks them). */
static bool conflicts(ipcn_node *n, const char *path, ipcn_kind kind,
                      bool owned)
{
    ipcn__remote *r;
    ipcn__list_for_each(r, t, &n->remotes, ipcn__remote, entry) {
        /* A peer's claim the policy refused blocks nobody. */
        if (r->denied || strcmp(r->path, path) != 0)
            continue;
        if (r->kind == kind && kind == IPCN_SERVICE)
            continue;
        if (r->kind == kind && owned && (r->ann_flags & IPCN_ANN_OWNED))
            continue;
        return true;
    }
    return false;
}

/* How announce() announces a data or stream path owned (NULL: plain). */
typedef struct own_spec {
    int32_t strength;
    bool warm;
} own_spec;

/* Announce, or re-announce, a local resource.  For services fn is set.
 * keep: what it keeps for late subscribers (keep.c); -1: a new one the
 * default (data latched, streams nothing), one that exists as it was. */
static int announce(ipcn_node *n, const char *path, ipcn_kind kind,
                    const char *encoding, const void *meta, size_t meta_len,
                    ipcn_service_fn fn, void *user, const own_spec *own,
                    int keep)
{
    if (!path || ipcn__path_check(path, strlen(path)) != IPCN_OK ||
        ipcn__sys_path(path, strlen(path))) /* reserved: sys.h */
        return IPCN_BAD_REQUEST;
    if (kind != IPCN_DATA && kind != IPCN_STREAM && kind != IPCN_SERVICE)
        return IPCN_BAD_REQUEST;
    if (!encoding)
        encoding = "";
    if (ipcn__encoding_check(encoding, strlen(encoding)) != IPCN_OK ||
        meta_len > IPCN_META_MAX || (meta_len && !meta))
        return IPCN_BAD_REQUEST;
    ipcn__local *lr = ipcn__local_find(n, path);
    if (lr && lr->kind == IPCN_SERVICE && kind == IPCN_SERVICE && fn &&
        lr->fn)
        return IPCN_CONFLICT; /* offered twice by this node */
    if (lr && lr->kind != kind)
        return IPCN_CONFLICT;
    /* A typed service's descriptor is its schema: re-announcing it by hand
     * would show one schema and enforce another. */
    if (lr && !fn && (lr->args_schema || lr->returns_schema))
        return IPCN_CONFLICT;
    /* A path is owned or not: announced both ways, here or anywhere. */
    if (lr && lr->owned != (own != NULL))
        return IPCN_CONFLICT;
    if (conflicts(n, path, kind, own != NULL))
        return IPCN_CONFLICT;
    int allowed = ipcn__access_self_provide(n, path);
    if (allowed != IPCN_OK)
        return allowed;
    /* A data or stream path typed by its meta ("schema"): a type that is
     * not valid, or values that are not CBOR, are refused here. */
    uint8_t *schema = NULL;
    size_t schema_len = 0;
    int tst = ipcn__typed_of(kind, encoding, meta, meta_len, &schema,
                             &schema_len);
    if (tst != IPCN_OK && tst != IPCN_NO_DATA)
        return tst;
    char *enc = ipcn__strdup(encoding);
    void *m = meta_len ? ipcn__memdup(meta, meta_len) : NULL;
    if (!enc || (meta_len && !m)) {
        ipcn__free(enc);
        ipcn__free(m);
        ipcn__free(schema);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    int st = IPCN_OK;
    if (!lr) {
        lr = ipcn__calloc(1, sizeof *lr);
        if (!lr || !(lr->path = ipcn__strdup(path))) {
            ipcn__free(lr);
            ipcn__free(enc);
            ipcn__free(m);
            ipcn__free(schema);
            return IPCN_INSUFFICIENT_MEMORY;
        }
        lr->kind = kind;
        lr->keep = kind == IPCN_DATA ? 1 : 0;
        lr->prov = n->prov_default && kind != IPCN_SERVICE;
        if (ipcn__local_index(n, lr) != IPCN_OK) {
            ipcn__free(lr->path);
            ipcn__free(lr);
            ipcn__free(enc);
            ipcn__free(m);
            ipcn__free(schema);
            return IPCN_INSUFFICIENT_MEMORY;
        }
        ipcn__list_insert_tail(&n->locals, &lr->entry);
        st = IPCN_CREATED;
    }
    ipcn__free(lr->encoding);
    ipcn__free(lr->meta);
    ipcn__free(lr->schema);
    lr->encoding = enc;
    lr->meta = m;
    lr->meta_len = meta_len;
    lr->schema = schema;
    lr->schema_len = schema_len;
    lr->told_refused = false;
    lr->version++;
    if (keep >= 0)
        ipcn__keep_set(n, lr, (uint16_t)keep);
    ipcn__pub_routes_changed(n, false); /* publishes cache its encoding */
    if (fn) {
        lr->fn = fn;
        lr->user = user;
    }
    if (own) {
        lr->owned = true;
        lr->strength = own->strength;
        lr->warm = own->warm;
        if (ipcn__own_local_changed(n, lr) != IPCN_OK && st == IPCN_CREATED) {
            /* Not ranked, not announced: as if never made. */
            ipcn__list_remove(&lr->entry);
            ipcn__htab_del(&n->local_idx, &lr->hnode);
            if (n->last_local == lr)
                n->last_local = NULL;
            ipcn__local_free(lr);
            return IPCN_INSUFFICIENT_MEMORY;
        }
    }
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->state == LINK_UP && ipcn__access_visible(n, l, lr))
            ipcn__dir_send_announce(n, l, lr);
    /* A thread may wait for it (ipcn_wait_for()), in epoll or on the
     * condition while another pumps. */
    if (n->waiters) {
        ipcn__node_wake(n);
        pthread_cond_broadcast(&n->cond);
    }
    return st;
}

IPCN_API int ipcn_announce(ipcn_node *n, const char *path, ipcn_kind kind,
                           const char *encoding, const void *meta,
                           size_t meta_len)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = announce(n, path, kind, encoding, meta, meta_len, NULL, NULL,
                      NULL, -1);
    ipcn__node_unlock(n);
    return st;
}

int ipcn__dir_announce_keep(ipcn_node *n, const char *path, ipcn_kind kind,
                            const char *encoding, const void *meta,
                            size_t meta_len, uint16_t keep)
{
    return announce(n, path, kind, encoding, meta, meta_len, NULL, NULL, NULL,
                    keep);
}

int ipcn__dir_announce_owned(ipcn_node *n, const char *path, ipcn_kind kind,
                             const char *encoding, const void *meta,
                             size_t meta_len, int32_t strength, bool warm)
{
    own_spec own = {strength, warm};
    return announce(n, path, kind, encoding, meta, meta_len, NULL, NULL, &own,
                    -1);
}

IPCN_API int ipcn_offer(ipcn_node *n, const char *path, const char *encoding,
                        ipcn_service_fn fn, void *user)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !fn)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = announce(n, path, IPCN_SERVICE, encoding, NULL, 0, fn, user, NULL,
                      -1);
    ipcn__node_unlock(n);
    return st == IPCN_CREATED ? IPCN_OK : st;
}

/* The descriptor meta of a typed service: {"args": A, "returns": R}, with
 * only the keys given (in this order, which is also the deterministic one).
 * *out is allocated. */
static int typed_meta(const void *args, size_t alen, const void *rets,
                      size_t rlen, uint8_t **out, size_t *len)
{
    if (!alen && !rlen) {
        *out = NULL; /* nothing declared: no meta */
        *len = 0;
        return IPCN_OK;
    }
    size_t cap = alen + rlen + 32;
    uint8_t *buf = ipcn__malloc(cap);
    if (!buf)
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, (alen ? 1u : 0u) + (rlen ? 1u : 0u));
    if (alen) {
        ipcn_cbor_put_cstr(&w, "args");
        ipcn_cbor_put_encoded(&w, args, alen);
    }
    if (rlen) {
        ipcn_cbor_put_cstr(&w, "returns");
        ipcn_cbor_put_encoded(&w, rets, rlen);
    }
    int st = ipcn_cbor_writer_finish(&w, len);
    if (st != IPCN_OK) {
        ipcn__free(buf);
        return st == IPCN_INSUFFICIENT_MEMORY ? st : IPCN_BAD_REQUEST;
    }
    *out = buf;
    return IPCN_OK;
}

IPCN_API int ipcn_offer_typed(ipcn_node *n, const char *path,
                              const void *args_schema, size_t args_len,
                              const void *returns_schema, size_t returns_len,
                              ipcn_service_fn fn, void *user)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !fn || (args_len && !args_schema) ||
        (returns_len && !returns_schema))
        return IPCN_BAD_REQUEST;
    int st;
    if ((args_len && (st = ipcn__schema_valid(args_schema, args_len)) != IPCN_OK) ||
        (returns_len &&
         (st = ipcn__schema_valid(returns_schema, returns_len)) != IPCN_OK))
        return st;
    uint8_t *meta = NULL;
    size_t meta_len = 0;
    void *a = args_len ? ipcn__memdup(args_schema, args_len) : NULL;
    void *r = returns_len ? ipcn__memdup(returns_schema, returns_len) : NULL;
    if ((args_len && !a) || (returns_len && !r)) {
        st = IPCN_INSUFFICIENT_MEMORY;
    } else if ((st = typed_meta(args_schema, args_len, returns_schema,
                                returns_len, &meta, &meta_len)) == IPCN_OK) {
        ipcn__node_lock(n);
        st = announce(n, path, IPCN_SERVICE, "cbor", meta, meta_len, fn, user,
                      NULL, -1);
        if (IPCN_IS_OK(st)) {
            /* announce() made or kept the local, with this node's lock
             * held throughout: it is there. */
            ipcn__local *lr = ipcn__local_find(n, path);
            ipcn__free(lr->args_schema);
            ipcn__free(lr->returns_schema);
            lr->args_schema = a;
            lr->args_schema_len = args_len;
            lr->returns_schema = r;
            lr->returns_schema_len = returns_len;
            a = r = NULL;
            st = IPCN_OK;
        }
        ipcn__node_unlock(n);
    }
    ipcn__free(meta);
    ipcn__free(a);
    ipcn__free(r);
    return st;
}

IPCN_API int ipcn_withdraw(ipcn_node *n, const char *path)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || ipcn__path_check(path, strlen(path)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr = ipcn__local_find(n, path);
    if (!lr) {
        ipcn__node_unlock(n);
        return IPCN_NOT_FOUND;
    }
    ipcn__list_remove(&lr->entry);
    ipcn__htab_del(&n->local_idx, &lr->hnode);
    if (n->last_local == lr)
        n->last_local = NULL;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->state == LINK_UP)
            ipcn__dir_send_withdraw(n, l, path);
    ipcn__own_local_gone(n, lr);
    if (lr->kind != IPCN_SERVICE)
        ipcn__pub_gone(n, path, n->name, n->id);
    ipcn__req_on_withdraw(n, path, 0);
    ipcn__once_free(n, lr->once); /* retries that wait: 303 */
    lr->once = NULL;
    /* Its pool retires: loans end with 203; readers keep theirs. */
    ipcn__keep_free(n, lr);
    ipcn__pool_retire(n, &lr->pool);
    ipcn__local_free(lr);
    ipcn__node_unlock(n);
    return IPCN_OK;
}

/* ---- find ---- */

static int cmp_res(const void *a, const void *b)
{
    const ipcn_resource *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : strcmp(x->provider, y->provider);
}

static size_t res_size(const char *path, const char *enc, size_t meta_len,
                       const char *prov)
{
    return strlen(path) + 1 + strlen(enc) + 1 + meta_len + strlen(prov) + 1;
}

static char *put(char **sp, const void *src, size_t n)
{
    char *at = *sp;
    memcpy(at, src, n);
    *sp += n;
    return at;
}

IPCN_API int ipcn_find(ipcn_node *n, const char *pattern, ipcn_kind kind,
                       ipcn_resource_list **out)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_pattern[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &pattern, wire_pattern) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !out || !pattern ||
        ipcn__pattern_check(pattern, strlen(pattern)) != IPCN_OK ||
        (unsigned)kind > IPCN_SERVICE)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    size_t count;
    int st = ipcn__dir_find(n, pattern, kind, out, &count);
    ipcn__node_unlock(n);
    return st;
}

int ipcn__dir_find(ipcn_node *n, const char *pattern, ipcn_kind kind,
                   ipcn_resource_list **out, size_t *found)
{
    size_t pn = strlen(pattern);
    size_t count = 0, bytes = 0;
    ipcn__local *lr;
    ipcn__remote *r;
#define MATCHES(p, k) \
    ((kind == IPCN_ANY || (k) == kind) && \
     ipcn__pattern_match(pattern, pn, (p), strlen(p)))
    ipcn__list_for_each(lr, t, &n->locals, ipcn__local, entry) {
        if (MATCHES(lr->path, lr->kind)) {
            count++;
            bytes += res_size(lr->path, lr->encoding, lr->meta_len, n->name);
        }
    }
    ipcn__list_for_each(r, t2, &n->remotes, ipcn__remote, entry) {
        ipcn__link *l = ipcn__link_by_id(n, r->link_id);
        if (l && !r->denied && MATCHES(r->path, r->kind)) {
            count++;
            bytes += res_size(r->path, r->encoding, r->meta_len, l->who.name);
        }
    }
    *found = count;
    if (!out)
        return IPCN_OK;
    ipcn_resource_list *rl = ipcn__malloc(sizeof *rl + count * sizeof(ipcn_resource) + bytes);
    if (!rl)
        return IPCN_INSUFFICIENT_MEMORY;
    rl->count = count;
    rl->items = (ipcn_resource *)(rl + 1);
    char *sp = (char *)(rl->items + count);
    size_t i = 0;
    ipcn__list_for_each(lr, t3, &n->locals, ipcn__local, entry) {
        if (!MATCHES(lr->path, lr->kind))
            continue;
        ipcn_resource *x = &rl->items[i++];
        x->path = put(&sp, lr->path, strlen(lr->path) + 1);
        x->kind = lr->kind;
        x->encoding = put(&sp, lr->encoding, strlen(lr->encoding) + 1);
        x->meta = lr->meta_len ? put(&sp, lr->meta, lr->meta_len) : NULL;
        x->meta_len = lr->meta_len;
        x->provider = put(&sp, n->name, strlen(n->name) + 1);
        x->provider_id = n->id;
        x->version = lr->version;
    }
    ipcn__list_for_each(r, t4, &n->remotes, ipcn__remote, entry) {
        ipcn__link *l = ipcn__link_by_id(n, r->link_id);
        if (!l || r->denied || !MATCHES(r->path, r->kind))
            continue;
        ipcn_resource *x = &rl->items[i++];
        x->path = put(&sp, r->path, strlen(r->path) + 1);
        x->kind = r->kind;
        x->encoding = put(&sp, r->encoding, strlen(r->encoding) + 1);
        x->meta = r->meta_len ? put(&sp, r->meta, r->meta_len) : NULL;
        x->meta_len = r->meta_len;
        x->provider = put(&sp, l->who.name, strlen(l->who.name) + 1);
        x->provider_id = l->who.node_id;
        x->version = r->version;
    }
#undef MATCHES
    qsort(rl->items, count, sizeof(ipcn_resource), cmp_res);
    *out = rl;
    return IPCN_OK;
}

IPCN_API void ipcn_resource_list_free(ipcn_resource_list *rl) { ipcn__free(rl); }
