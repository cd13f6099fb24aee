/* SPDX-License-Identifier: MIT */
/*
 * links.c — ipcn_links(): the links a node has now (Unix, TCP, routed),
 * with their counters, for `ipcnet links` and the tests.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_hosts.h"
#include "node/node.h"

static int cmp_info(const void *a, const void *b)
{
    const ipcn_link_info *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->peer, y->peer);
}

/* One link's row; its strings are copies (100 or 307). */
static int fill(ipcn_node *n, const ipcn__link *l, ipcn_link_info *r)
{
    memset(r, 0, sizeof *r);
    r->size = sizeof *r;
    r->kind = (uint32_t)l->kind;
    const ipcn__link *via = l->kind == LINK_ROUTED && l->via_id
                                ? ipcn__link_by_id(n, l->via_id) : NULL;
    r->peer = ipcn__strdup(l->who.name ? l->who.name : "");
    r->host = ipcn__strdup(l->who.host ? l->who.host : "");
    r->addr = ipcn__strdup(l->addr ? l->addr : "");
    r->via = ipcn__strdup(via && via->who.name ? via->who.name : "");
    if (!r->peer || !r->host || !r->addr || !r->via)
        return IPCN_INSUFFICIENT_MEMORY;
    if (l->has_peer_key)
        sodium_bin2base64(r->key, sizeof r->key, l->peer_key, 32,
                          sodium_base64_VARIANT_ORIGINAL);
    r->hops = via ? 1 : 0;
    r->rtt_ns = l->rtt_ns;
    r->bytes_in = l->bytes_in;
    r->bytes_out = l->bytes_out;
    r->frames_in = l->frames_in;
    r->frames_out = l->frames_out;
    r->drops = l->drops;
    r->auth_failures = l->auth_failures;
    return IPCN_OK;
}

IPCN_API void ipcn_links_free(ipcn_link_info *links, size_t count)
{
    if (!links)
        return;
    for (size_t i = 0; i < count; i++) {
        ipcn__free((void *)links[i].peer);
        ipcn__free((void *)links[i].host);
        ipcn__free((void *)links[i].addr);
        ipcn__free((void *)links[i].via);
    }
    ipcn__free(links);
}

IPCN_API int ipcn_links(ipcn_node *n, ipcn_link_info **out, size_t *count)
{
    if (!n || !out || !count)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    size_t k = 0;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->state == LINK_UP)
            k++;
    ipcn_link_info *a = ipcn__calloc(k ? k : 1, sizeof *a);
    int st = a ? IPCN_OK : IPCN_INSUFFICIENT_MEMORY;
    size_t i = 0;
    ipcn__list_for_each(l, t2, &n->links, ipcn__link, node_entry) {
        if (st != IPCN_OK || l->state != LINK_UP)
            continue;
        st = fill(n, l, &a[i++]);
    }
    ipcn__node_unlock(n);
    if (st != IPCN_OK) {
        ipcn_links_free(a, i);
        return st;
    }
    if (k > 1)
        qsort(a, k, sizeof *a, cmp_info);
    *out = a;
    *count = k;
    return IPCN_OK;
}
