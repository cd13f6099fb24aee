/* SPDX-License-Identifier: MIT */
/*
 * prov.c — the provenance codec (prov.h; docs/protocol.md 20): records,
 * checkpoints and proofs, each with exactly one encoding, every length
 * checked before it is used.
 */
#include "wire/prov.h"

#include <string.h>

#include "ipcnet.h"
#include "util/util.h"
#include "wire/wire_impl.h"

static int str_ok(const char *s, size_t min, size_t max)
{
    size_t n = strnlen(s, max + 1);
    return n >= min && n <= max;
}

static int rec_ok(const ipcn_prov_record *r)
{
    if (r->flags & ~(uint32_t)(IPCN_PROV_REPLAYED | IPCN_PROV_PASSTHROUGH))
        return 0;
    if (r->nparents > IPCN_PROV_MAX_PARENTS || !r->node_id || !r->index)
        return 0;
    if ((r->flags & IPCN_PROV_PASSTHROUGH) && !r->nparents)
        return 0;
    /* The node's name is a node name (7.1): printable, no '/' or '@'. */
    if (!str_ok(r->node, 1, IPCN_NAME_MAX) ||
        ipcn__name_check(r->node, strlen(r->node)) != IPCN_OK ||
        !str_ok(r->principal, 0, IPCN_PROV_PRINCIPAL_MAX))
        return 0;
    for (uint32_t i = 0; i < r->nparents; i++)
        if (!r->parents[i].node_id || !r->parents[i].index)
            return 0;
    return 1;
}

size_t ipcn__prov_size(const ipcn_prov_record *r)
{
    return IPCN_PROV_FIXED + 3 + strnlen(r->node, IPCN_NAME_MAX + 1) + 3 +
           strnlen(r->principal, IPCN_PROV_PRINCIPAL_MAX + 1) +
           (size_t)r->nparents * IPCN_PROV_PARENT_SIZE;
}

static uint8_t *put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    st16(p, (uint16_t)n);
    memcpy(p + 2, s, n);
    p[2 + n] = 0;
    return p + 3 + n;
}

size_t ipcn__prov_encode(const ipcn_prov_record *r, uint8_t *out, size_t cap)
{
    if (!rec_ok(r))
        return 0;
    size_t size = ipcn__prov_size(r);
    if (size > cap || size > IPCN_PROV_RECORD_MAX)
        return 0;
    uint8_t *p = out;
    p[0] = IPCN_PROV_VERSION;
    p[1] = (uint8_t)r->flags;
    p[2] = (uint8_t)r->nparents;
    p[3] = 0;
    st64(p + 4, r->node_id);
    st64(p + 12, r->index);
    st64(p + 20, r->seq);
    st64(p + 28, r->time_ns);
    memcpy(p + 36, r->path_hash, 32);
    memcpy(p + 68, r->digest, 32);
    p = put_str(p + IPCN_PROV_FIXED, r->node);
    p = put_str(p, r->principal);
    for (uint32_t i = 0; i < r->nparents; i++) {
        const ipcn_prov_ref *x = &r->parents[i];
        st64(p, x->node_id);
        st64(p + 8, x->index);
        st64(p + 16, x->seq);
        memcpy(p + 24, x->path_hash, 32);
        memcpy(p + 56, x->digest, 32);
        p += IPCN_PROV_PARENT_SIZE;
    }
    return size;
}

/* A string into dst (cap bytes with its NUL): 0 when too long or bad. */
static int get_str(rd *r, char *dst, size_t max)
{
    ipcn__str s = rd_str(r);
    if (r->bad || s.len > max)
        return 0;
    memcpy(dst, s.p, s.len);
    dst[s.len] = 0;
    return 1;
}

int ipcn__prov_decode(const uint8_t *p, size_t len, ipcn_prov_record *out)
{
    if (!p || len < IPCN_PROV_MIN || len > IPCN_PROV_RECORD_MAX)
        return IPCN_BAD_REQUEST;
    ipcn_prov_record x;
    memset(&x, 0, sizeof x);
    rd r = {p, p + len, 0};
    uint8_t version = rd_u8(&r);
    x.flags = rd_u8(&r);
    x.nparents = rd_u8(&r);
    uint8_t reserved = rd_u8(&r);
    if (version != IPCN_PROV_VERSION || reserved)
        return IPCN_BAD_REQUEST;
    x.node_id = rd_u64(&r);
    x.index = rd_u64(&r);
    x.seq = rd_u64(&r);
    x.time_ns = rd_u64(&r);
    if (!rd_has(&r, 64))
        return IPCN_BAD_REQUEST;
    memcpy(x.path_hash, r.p, 32);
    memcpy(x.digest, r.p + 32, 32);
    r.p += 64;
    if (!get_str(&r, x.node, IPCN_NAME_MAX) ||
        !get_str(&r, x.principal, IPCN_PROV_PRINCIPAL_MAX))
        return IPCN_BAD_REQUEST;
    if (x.nparents > IPCN_PROV_MAX_PARENTS ||
        (size_t)(r.end - r.p) != (size_t)x.nparents * IPCN_PROV_PARENT_SIZE)
        return IPCN_BAD_REQUEST;
    for (uint32_t i = 0; i < x.nparents; i++) {
        ipcn_prov_ref *y = &x.parents[i];
        y->node_id = ld64(r.p);
        y->index = ld64(r.p + 8);
        y->seq = ld64(r.p + 16);
        memcpy(y->path_hash, r.p + 24, 32);
        memcpy(y->digest, r.p + 56, 32);
        r.p += IPCN_PROV_PARENT_SIZE;
    }
    if (!rec_ok(&x) || !x.node[0])
        return IPCN_BAD_REQUEST;
    *out = x;
    return IPCN_OK;
}

IPCN_API int ipcn_prov_decode(const uint8_t *bytes, size_t len,
                              ipcn_prov_record *out)
{
    if (!out)
        return IPCN_BAD_REQUEST;
    return ipcn__prov_decode(bytes, len, out);
}

void ipcn__prov_ckpt_encode(const ipcn__prov_ckpt *c, uint8_t out[156])
{
    out[0] = IPCN_PROV_VERSION;
    out[1] = out[2] = out[3] = 0;
    st64(out + 4, c->node_id);
    st64(out + 12, c->index);
    st64(out + 20, c->time_ns);
    memcpy(out + 28, c->head, 32);
    memcpy(out + 60, c->pubkey, 32);
    memcpy(out + 92, c->sig, 64);
}

int ipcn__prov_ckpt_decode(const uint8_t *p, size_t len, ipcn__prov_ckpt *out)
{
    if (!p || len != IPCN_PROV_CKPT_SIZE || p[0] != IPCN_PROV_VERSION ||
        p[1] || p[2] || p[3])
        return IPCN_BAD_REQUEST;
    ipcn__prov_ckpt c;
    c.node_id = ld64(p + 4);
    c.index = ld64(p + 12);
    c.time_ns = ld64(p + 20);
    if (!c.node_id || !c.index)
        return IPCN_BAD_REQUEST;
    memcpy(c.head, p + 28, 32);
    memcpy(c.pubkey, p + 60, 32);
    memcpy(c.sig, p + 92, 64);
    *out = c;
    return IPCN_OK;
}

int ipcn__prov_proof_next(const ipcn__prov_proof *pf, const uint8_t **cur,
                          const uint8_t **rec, uint32_t *rec_len)
{
    const uint8_t *p = *cur;
    if (p >= pf->records_end || (size_t)(pf->records_end - p) < 4)
        return IPCN_NOT_FOUND;
    uint32_t n = ld32(p);
    if ((size_t)(pf->records_end - p - 4) < n)
        return IPCN_NOT_FOUND;
    *rec = p + 4;
    *rec_len = n;
    *cur = p + 4 + n;
    return IPCN_OK;
}

int ipcn__prov_proof_decode(const uint8_t *p, size_t len, ipcn__prov_proof *out)
{
    if (!p || len < IPCN_PROV_PROOF_FIXED + IPCN_PROV_CKPT_SIZE ||
        p[0] != IPCN_PROV_VERSION || p[1] || ld32(p + 4))
        return IPCN_BAD_REQUEST;
    ipcn__prov_proof pf;
    pf.count = ld16(p + 2);
    if (!pf.count || pf.count > IPCN_PROV_PROOF_MAX)
        return IPCN_BAD_REQUEST;
    pf.prev = p + 8;
    pf.records = p + IPCN_PROV_PROOF_FIXED;
    pf.records_end = p + len - IPCN_PROV_CKPT_SIZE;
    const uint8_t *cur = pf.records, *rec;
    uint32_t rl;
    ipcn_prov_record x;
    for (uint32_t i = 0; i < pf.count; i++)
        if (ipcn__prov_proof_next(&pf, &cur, &rec, &rl) != IPCN_OK ||
            ipcn__prov_decode(rec, rl, &x) != IPCN_OK)
            return IPCN_BAD_REQUEST;
    if (cur != pf.records_end ||
        ipcn__prov_ckpt_decode(pf.records_end, IPCN_PROV_CKPT_SIZE,
                               &pf.ckpt) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    *out = pf;
    return IPCN_OK;
}

int ipcn__enc_sample_prov(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__sample *b,
                          const uint8_t *rec, uint32_t rec_len)
{
    h->type = IPCN_F_SAMPLE;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u64(w, b->seq);
    ipcn__wbuf_u64(w, b->timestamp_ns);
    ipcn__wbuf_str(w, b->path.p, b->path.len);
    ipcn__wbuf_str(w, b->encoding.p, b->encoding.len);
    ipcn__wbuf_blob(w, b->data.p, b->data.len);
    ipcn__wbuf_blob(w, rec, rec_len);
    return ipcn__frame_finish(w, off);
}
