/* SPDX-License-Identifier: MIT */
/*
 * typed.c — typed data and streams (ipcnet_schema.h): the type a data or
 * stream descriptor declares (its meta's "schema", in the language of
 * typed services: value/schema.c), and where values are checked against
 * it: at the publisher before a value is published or set, and at each
 * node that receives one (a sample, a query's answer) before it reaches
 * the application, so that a publisher that skips its own check (another
 * implementation, a hostile process) cannot hand a subscriber a value of
 * another shape.
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "ipcnet_schema.h"
#include "value/value.h"

int ipcn__typed_of(ipcn_kind kind, const char *enc, const void *meta,
                   size_t meta_len, uint8_t **schema, size_t *len)
{
    if (kind != IPCN_DATA && kind != IPCN_STREAM)
        return IPCN_NO_DATA; /* a service types its arguments otherwise */
    int st = ipcn__schema_from_meta(meta, meta_len, schema, len);
    if (st == IPCN_OK && !ipcn__encoding_is_cbor(enc)) {
        ipcn__free(*schema); /* a type of CBOR values, and values not CBOR */
        *schema = NULL;
        return IPCN_BAD_REQUEST;
    }
    return st;
}

int ipcn__typed_check_local(ipcn_node *n, ipcn__local *lr, const char *enc,
                            const void *data, size_t len, char *why,
                            size_t whylen)
{
    if (!lr->schema)
        return IPCN_OK;
    char reason[160];
    int st;
    if (enc && !ipcn__encoding_is_cbor(enc)) {
        snprintf(reason, sizeof reason,
                 "value: expected encoding cbor, got \"%.64s\"", enc);
        st = IPCN_BAD_REQUEST;
    } else {
        st = ipcn__schema_check_as(lr->schema, lr->schema_len, data, len,
                                   "value", reason, sizeof reason);
    }
    if (st != IPCN_BAD_REQUEST)
        return st;
    n->stats.typed_refused++;
    if (!lr->told_refused) {
        lr->told_refused = true;
        ipcn__warn("IPCN-TYPE-REFUSED", "%s: refused a value of %s that is "
                   "not of its declared type (%s); nothing sent.  Counted in "
                   "ipcn_node_stats.typed_refused; this is logged once per "
                   "announce", n->name, lr->path, reason);
    }
    if (why && whylen)
        snprintf(why, whylen, "%s", reason);
    return st;
}

bool ipcn__typed_check_remote(ipcn_node *n, ipcn__link *l, ipcn__remote *r,
                              const void *data, size_t len)
{
    if (!r->schema)
        return true;
    char reason[160];
    int st = ipcn__schema_check_as(r->schema, r->schema_len, data, len,
                                   "value", reason, sizeof reason);
    if (st != IPCN_BAD_REQUEST)
        return true; /* 100; or 307, and then it is not ours to judge */
    n->stats.typed_dropped++;
    if (!r->told_dropped) {
        r->told_dropped = true;
        ipcn__warn("IPCN-TYPE-DROPPED", "%s: dropped a value of %s from %s "
                   "that is not of the type its descriptor declares (%s).  "
                   "Counted in ipcn_node_stats.typed_dropped (a sample also "
                   "in ipcn_sub_stats.nonconforming); this is logged once "
                   "per announce", n->name, r->path, l->who.name, reason);
    }
    return false;
}

/* ---- public calls ---- */

IPCN_API int ipcn_schema_check(const void *schema, size_t schema_len,
                               const void *value, size_t value_len, char *why,
                               size_t whylen)
{
    if (why && whylen)
        why[0] = 0;
    if (!schema || !schema_len || (value_len && !value))
        return IPCN_BAD_REQUEST;
    int st = ipcn__schema_valid(schema, schema_len);
    if (st != IPCN_OK) {
        if (why && whylen && st == IPCN_BAD_REQUEST)
            snprintf(why, whylen, "invalid schema");
        return st;
    }
    return ipcn__schema_check_as(schema, schema_len, value, value_len,
                                 "value", why, whylen);
}

/* The meta of a typed resource: the pairs of meta (a CBOR map without a
 * "schema" key, or nothing), then "schema": schema.  *out allocated. */
static int typed_meta(const void *schema, size_t slen, const void *meta,
                      size_t mlen, uint8_t **out, size_t *len)
{
    ipcn_cbor_item *m = NULL;
    if (mlen) {
        int st = ipcn_cbor_tree_decode(meta, mlen, 0, &m);
        if (st != IPCN_OK)
            return st == IPCN_INSUFFICIENT_MEMORY ? st : IPCN_BAD_REQUEST;
        if (m->type != IPCN_CBOR_MAP || ipcn_cbor_map_find(m, "schema")) {
            ipcn_cbor_tree_free(m);
            return IPCN_BAD_REQUEST;
        }
    }
    size_t cap = mlen + slen + 16; /* a longer map head, the key */
    uint8_t *buf = ipcn__malloc(cap);
    if (!buf) {
        ipcn_cbor_tree_free(m);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, (m ? m->count : 0) + 1);
    for (uint64_t i = 0; m && i < 2 * m->count; i++)
        ipcn_cbor_tree_encode(&w, &m->items[i]);
    ipcn_cbor_put_cstr(&w, "schema");
    ipcn_cbor_put_encoded(&w, schema, slen);
    int st = ipcn_cbor_writer_finish(&w, len);
    ipcn_cbor_tree_free(m);
    if (st != IPCN_OK) {
        ipcn__free(buf);
        return st == IPCN_INSUFFICIENT_MEMORY ? st : IPCN_BAD_REQUEST;
    }
    *out = buf;
    return IPCN_OK;
}

IPCN_API int ipcn_announce_typed(ipcn_node *node, const char *path,
                                 ipcn_kind kind, const char *encoding,
                                 const void *schema, size_t schema_len,
                                 const void *meta, size_t meta_len)
{
    if (!node || !schema || (meta_len && !meta) ||
        (kind != IPCN_DATA && kind != IPCN_STREAM) ||
        meta_len > IPCN_META_MAX)
        return IPCN_BAD_REQUEST;
    int st = ipcn__schema_valid(schema, schema_len);
    if (st != IPCN_OK)
        return st;
    uint8_t *m = NULL;
    size_t mlen = 0;
    if ((st = typed_meta(schema, schema_len, meta, meta_len, &m, &mlen)) !=
        IPCN_OK)
        return st;
    /* ipcn_announce() takes the type back out of the meta, as every node
     * that receives the descriptor does. */
    st = ipcn_announce(node, path, kind, encoding && *encoding ? encoding
                                                               : "cbor",
                       m, mlen);
    ipcn__free(m);
    return st;
}
