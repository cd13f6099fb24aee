/* SPDX-License-Identifier: MIT */
/*
 * hosts.c — what a node tells of its links and of its ways to other
 * nodes (ipcnet_hosts.h): ipcn_links() (every link that is up: Unix, TCP
 * to another host's gateway, routed through gateways, with its counters
 * and the last ping's round trip), ipcn_route() (the routers a request to
 * a provider passes), and the node service "links" (sys.h), which gives
 * ipcn_links() of a node to whoever the policy lets call it: the gateway
 * holds the TCP links, and `ipcnet links` asks it for them.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "ipcnet_hosts.h"
#include "transport/route.h"
#include "value/value.h"

/* ---- the links ---- */

static uint32_t pub_kind(enum link_kind k)
{
    return k == LINK_TCP      ? IPCN_LINK_TCP
           : k == LINK_ROUTED ? IPCN_LINK_ROUTED
                              : IPCN_LINK_UNIX;
}

static const char *kind_word(uint32_t k)
{
    return k == IPCN_LINK_TCP ? "tcp" : k == IPCN_LINK_ROUTED ? "routed"
                                                              : "unix";
}

/* The name of the next hop of a routed link ("" when none now). */
static const char *via_name(ipcn_node *n, const ipcn__link *l)
{
    if (l->kind != LINK_ROUTED || !l->via_id)
        return "";
    const ipcn__link *v = ipcn__link_by_id(n, l->via_id);
    return v && v->who.name ? v->who.name : "";
}

static bool listed(const ipcn__link *l)
{
    return l->state == LINK_UP && l->who.name;
}

static int cmp_info(const void *a, const void *b)
{
    const ipcn_link_info *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->peer, y->peer);
}

static size_t str_room(const char *s)
{
    return s ? strlen(s) + 1 : 1;
}

static const char *str_put(char **sp, const char *s)
{
    size_t k = str_room(s);
    char *at = *sp;
    if (s)
        memcpy(at, s, k);
    else
        *at = 0;
    *sp += k;
    return at;
}

/* The routers between this node and the node of l, nearest first, into
 * ids (at most IPCN_ROUTE_MAX_PATH); their count.  0 for a linked node.
 * A routed link's way is the route table's best: its path names the
 * routers from the one nearest the node to our next hop, and the node
 * itself first when it is a router that told of itself. */
static uint32_t way_of(ipcn_node *n, const ipcn__link *l, uint64_t *ids)
{
    if (l->kind != LINK_ROUTED)
        return 0;
    const ipcn__route_entry *e = ipcn__route_find(n, l->who.node_id);
    if (!e || e->best < 0)
        return 0;
    const ipcn__route_way *w = &e->ways[e->best];
    uint32_t k = 0;
    for (uint32_t i = w->npath; i-- > 0 && k < IPCN_ROUTE_MAX_PATH;)
        if (w->path[i] != l->who.node_id)
            ids[k++] = w->path[i];
    return k;
}

/* Every link up, as ipcn_link_info (one block: the array, then the
 * strings), sorted by kind then peer.  Lock held.  100, 307. */
static int links_take(ipcn_node *n, ipcn_link_info **out, size_t *count)
{
    size_t k = 0, strings = 0;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (!listed(l))
            continue;
        k++;
        strings += str_room(l->who.name) + str_room(l->who.host) +
                   str_room(l->addr) + str_room(via_name(n, l));
    }
    ipcn_link_info *a = ipcn__malloc(k * sizeof *a + strings + 1);
    if (!a)
        return IPCN_INSUFFICIENT_MEMORY;
    char *sp = (char *)(a + k);
    size_t i = 0;
    ipcn__list_for_each(l, t2, &n->links, ipcn__link, node_entry) {
        if (!listed(l))
            continue;
        ipcn_link_info *x = &a[i++];
        uint64_t ids[IPCN_ROUTE_MAX_PATH];
        memset(x, 0, sizeof *x);
        x->size = sizeof *x;
        x->kind = pub_kind(l->kind);
        x->peer = str_put(&sp, l->who.name);
        x->host = str_put(&sp, l->who.host);
        x->addr = str_put(&sp, l->addr);
        x->via = str_put(&sp, via_name(n, l));
        if (l->has_peer_key)
            sodium_bin2base64(x->key, sizeof x->key, l->peer_key,
                              sizeof l->peer_key,
                              sodium_base64_VARIANT_ORIGINAL);
        x->hops = way_of(n, l, ids);
        x->rtt_ns = l->rtt_ns;
        x->bytes_in = l->bytes_in;
        x->bytes_out = l->bytes_out;
        x->frames_in = l->frames_in;
        x->frames_out = l->frames_out;
        x->drops = l->drops;
        x->auth_failures = l->auth_failures;
        x->loops = l->loops;
        snprintf(x->cipher, sizeof x->cipher, "%s", ipcn__sec_cipher(l));
    }
    if (k > 1)
        qsort(a, k, sizeof *a, cmp_info);
    *out = a;
    *count = k;
    return IPCN_OK;
}

IPCN_API int ipcn_links(ipcn_node *n, ipcn_link_info **out, size_t *count)
{
    if (!n || !out || !count)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = links_take(n, out, count);
    ipcn__node_unlock(n);
    return st;
}

IPCN_API void ipcn_links_free(ipcn_link_info *links, size_t count)
{
    (void)count; /* one block */
    ipcn__free(links);
}

/* ---- the way to a provider ---- */

/* The name of node id as this node knows it (into buf): its link's peer
 * (a routed link's is "name@host"), else what the routers told of it,
 * else its id. */
static const char *name_of(ipcn_node *n, uint64_t id, char *buf, size_t cap)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (listed(l) && l->who.node_id == id)
            return l->who.name;
    const ipcn__route_entry *e = ipcn__route_find(n, id);
    if (e && e->name && *e->name)
        snprintf(buf, cap, "%s%s%s", e->name, e->host && *e->host ? "@" : "",
                 e->host ? e->host : "");
    else
        snprintf(buf, cap, "%016llx", (unsigned long long)id);
    return buf;
}

IPCN_API int ipcn_route(ipcn_node *n, const char *provider, char ***hops,
                        size_t *count)
{
    if (!n || !provider || !hops || !count)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    const ipcn__link *l = NULL;
    if (strcmp(provider, n->name)) {
        l = ipcn__link_by_name(n, provider);
        if (!l || !listed(l)) {
            ipcn__node_unlock(n);
            return IPCN_NOT_FOUND;
        }
    }
    uint64_t ids[IPCN_ROUTE_MAX_PATH];
    uint32_t k = l ? way_of(n, l, ids) : 0;
    const char *names[IPCN_ROUTE_MAX_PATH + 1];
    char bufs[IPCN_ROUTE_MAX_PATH][2 * IPCN_NAME_MAX + 2];
    size_t strings = 0;
    for (uint32_t i = 0; i < k; i++) {
        names[i] = name_of(n, ids[i], bufs[i], sizeof bufs[i]);
        strings += strlen(names[i]) + 1;
    }
    names[k] = provider;
    strings += strlen(provider) + 1;
    char **a = ipcn__malloc((k + 1) * sizeof *a + strings);
    if (!a) {
        ipcn__node_unlock(n);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    char *sp = (char *)(a + k + 1);
    for (uint32_t i = 0; i <= k; i++)
        a[i] = (char *)str_put(&sp, names[i]);
    ipcn__node_unlock(n);
    *hops = a;
    *count = k + 1;
    return IPCN_OK;
}

IPCN_API void ipcn_route_free(char **hops, size_t count)
{
    (void)count; /* one block */
    ipcn__free(hops);
}

/* ---- the node service "links" ---- */

static void put_str(ipcn_cbor_writer *w, const char *k, const char *v)
{
    ipcn_cbor_put_cstr(w, k);
    ipcn_cbor_put_cstr(w, v);
}

static void put_uint(ipcn_cbor_writer *w, const char *k, uint64_t v)
{
    ipcn_cbor_put_cstr(w, k);
    ipcn_cbor_put_uint(w, v);
}

/* {"node": NAME, "items": [{"kind", "peer", "host", "addr", "key", "via",
 * "hops", "rtt_ns", "bytes_in", "bytes_out", "frames_in", "frames_out",
 * "drops", "auth_failures", "loops", "cipher"}...]} */
static void links_cbor(ipcn_cbor_writer *w, const ipcn_node *n,
                       const ipcn_link_info *a, size_t count)
{
    ipcn_cbor_put_map(w, 2);
    put_str(w, "node", n->name);
    ipcn_cbor_put_cstr(w, "items");
    ipcn_cbor_put_array(w, count);
    for (size_t i = 0; i < count; i++) {
        const ipcn_link_info *x = &a[i];
        ipcn_cbor_put_map(w, 16);
        put_str(w, "kind", kind_word(x->kind));
        put_str(w, "peer", x->peer);
        put_str(w, "host", x->host);
        put_str(w, "addr", x->addr);
        put_str(w, "key", x->key);
        put_str(w, "via", x->via);
        put_uint(w, "hops", x->hops);
        put_uint(w, "rtt_ns", x->rtt_ns);
        put_uint(w, "bytes_in", x->bytes_in);
        put_uint(w, "bytes_out", x->bytes_out);
        put_uint(w, "frames_in", x->frames_in);
        put_uint(w, "frames_out", x->frames_out);
        put_uint(w, "drops", x->drops);
        put_uint(w, "auth_failures", x->auth_failures);
        put_uint(w, "loops", x->loops);
        put_str(w, "cipher", x->cipher);
    }
}

int ipcn__sys_links(ipcn_node *n, ipcn__link *l, const ipcn__sys_call *c,
                    ipcn__sys_reply *r)
{
    (void)l;
    (void)c;
    ipcn_link_info *a;
    size_t count, len;
    int st = links_take(n, &a, &count);
    if (st != IPCN_OK)
        return st;
    ipcn_cbor_writer *w = ipcn__malloc(sizeof *w);
    if (!w) {
        ipcn__free(a);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    ipcn_cbor_writer_init(w, NULL, 0, 0);
    links_cbor(w, n, a, count);
    st = ipcn_cbor_writer_finish(w, &len);
    if (st == IPCN_INSUFFICIENT_STORAGE && (r->data = ipcn__malloc(len))) {
        ipcn_cbor_writer_init(w, r->data, len, 0);
        links_cbor(w, n, a, count);
        st = ipcn_cbor_writer_finish(w, &r->len);
        r->encoding = "cbor";
    } else if (st == IPCN_INSUFFICIENT_STORAGE) {
        st = IPCN_INSUFFICIENT_MEMORY;
    }
    ipcn__free(w);
    ipcn__free(a);
    return st == IPCN_OK ? IPCN_OK
                         : st == IPCN_INSUFFICIENT_MEMORY ? st
                                                          : IPCN_INTERNAL_ERROR;
}
