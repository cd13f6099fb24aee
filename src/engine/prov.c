/* SPDX-License-Identifier: MIT */
/*
 * prov.c — a node's provenance chain (prov.h): h_0 binds the chain to the
 * node's id and key, h_i = BLAKE2b-256(h_(i-1) || record_i), and a
 * checkpoint signs (node id, index, time, h_index) with the node's
 * Ed25519 key of this run; and the node service "prov" that gives a
 * verifier a record with the chain up to a checkpoint (docs/protocol.md
 * 20.4, 20.5).
 */
#include "engine/prov.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/sys.h"
#include "ipcnet_value.h"
#include "transport/link.h"
#include "util/util.h"
#include "wire/wire_impl.h"

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = IPCN_INTERNAL_ERROR;

static void sodium_do_init(void)
{
    sodium_status = sodium_init() < 0 ? IPCN_INTERNAL_ERROR : IPCN_OK;
}

void ipcn__prov_hash(uint8_t out[32], const void *p, size_t len)
{
    crypto_generichash(out, 32, p, len, NULL, 0);
}

int ipcn__prov_get(ipcn_node *n, ipcn__prov **out)
{
    if (n->prov) {
        *out = n->prov;
        return IPCN_OK;
    }
    pthread_once(&sodium_once, sodium_do_init);
    if (sodium_status != IPCN_OK)
        return sodium_status;
    ipcn__prov *pv = ipcn__calloc(1, sizeof *pv);
    if (!pv)
        return IPCN_INSUFFICIENT_MEMORY;
    crypto_sign_keypair(pv->pk, pv->sk);
    /* h_0 = BLAKE2b-256(context || u64 node id || public key). */
    uint8_t start[IPCN_PROV_CTX_LEN + 8 + 32];
    memcpy(start, IPCN_PROV_CHAIN_CTX, IPCN_PROV_CTX_LEN);
    st64(start + IPCN_PROV_CTX_LEN, n->id);
    memcpy(start + IPCN_PROV_CTX_LEN + 8, pv->pk, 32);
    ipcn__prov_hash(pv->head, start, sizeof start);
    n->prov = pv;
    *out = pv;
    return IPCN_OK;
}

/* Sign a checkpoint at the chain's head, kept with its record. */
static int checkpoint(ipcn_node *n, ipcn__prov *pv, uint64_t now_ns)
{
    ipcn__prov_ent *e = &pv->ring[(pv->index - 1) % IPCN_PROV_KEEP];
    if (!pv->index || e->ckpt)
        return IPCN_OK;
    uint8_t *c = ipcn__malloc(IPCN_PROV_CKPT_SIZE);
    if (!c)
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn__prov_ckpt k = {.node_id = n->id, .index = pv->index,
                         .time_ns = now_ns};
    memcpy(k.head, pv->head, 32);
    memcpy(k.pubkey, pv->pk, 32);
    ipcn__prov_ckpt_encode(&k, c);
    uint8_t msg[IPCN_PROV_CTX_LEN + IPCN_PROV_CKPT_SIGNED];
    memcpy(msg, IPCN_PROV_CKPT_CTX, IPCN_PROV_CTX_LEN);
    memcpy(msg + IPCN_PROV_CTX_LEN, c, IPCN_PROV_CKPT_SIGNED);
    crypto_sign_detached(c + IPCN_PROV_CKPT_SIGNED, NULL, msg, sizeof msg,
                         pv->sk);
    e->ckpt = c;
    pv->ckpt_index = pv->index;
    pv->ckpt_ns = now_ns;
    pv->ckpt_mono = ipcn__now_mono_ns();
    pv->checkpoints++;
    return IPCN_OK;
}

int ipcn__prov_reserve(ipcn__prov *pv, uint32_t len)
{
    ipcn__prov_ent *e = &pv->ring[pv->index % IPCN_PROV_KEEP];
    if (e->rec && e->cap >= len)
        return IPCN_OK;
    uint8_t *rec = ipcn__malloc(len);
    if (!rec)
        return IPCN_INSUFFICIENT_MEMORY;
    if (e->rec)
        memcpy(rec, e->rec, e->len); /* still served until replaced */
    ipcn__free(e->rec);
    e->rec = rec;
    e->cap = len;
    return IPCN_OK;
}

int ipcn__prov_append(ipcn_node *n, ipcn__prov *pv, uint32_t len,
                      uint64_t now_ns)
{
    ipcn__prov_ent *e = &pv->ring[pv->index % IPCN_PROV_KEEP];
    if (!e->rec || e->cap < len) /* ipcn__prov_reserve() first */
        return IPCN_INTERNAL_ERROR;
    uint8_t *rec = e->rec;
    ipcn__free(e->ckpt);
    e->ckpt = NULL;
    e->nto = e->to_more = 0;
    e->to_local = false;
    memcpy(rec, pv->buf, len);
    e->rec = rec;
    e->len = len;
    e->index = pv->index + 1;
    memcpy(e->prev, pv->head, 32);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, pv->head, 32);
    crypto_generichash_update(&st, rec, len);
    crypto_generichash_final(&st, pv->head, 32);
    pv->index++;
    pv->records++;
    /* Out of memory for a checkpoint: the record stands (the sample is
     * sent); the next record, or a request for this one, signs. */
    if (pv->index - pv->ckpt_index >= IPCN_PROV_CKPT_EVERY ||
        ipcn__now_mono_ns() - pv->ckpt_mono >= IPCN_PROV_CKPT_NS)
        (void)checkpoint(n, pv, now_ns);
    return IPCN_OK;
}

void ipcn__prov_sent(ipcn__prov *pv, uint64_t id)
{
    ipcn__prov_ent *e = &pv->ring[(pv->index - 1) % IPCN_PROV_KEEP];
    if (e->nto == e->cap_to) {
        uint32_t cap = e->cap_to ? e->cap_to * 2 : 4;
        uint64_t *to = cap <= IPCN_PROV_TO_MAX
                           ? ipcn__realloc(e->to, cap * sizeof *to)
                           : NULL;
        if (!to) {
            e->to_more++;
            return;
        }
        e->to = to;
        e->cap_to = cap;
    }
    e->to[e->nto++] = id;
}

void ipcn__prov_free(ipcn_node *n)
{
    ipcn__free(n->prov_pins);
    n->prov_pins = NULL;
    ipcn__prov *pv = n->prov;
    if (!pv)
        return;
    for (uint32_t i = 0; i < IPCN_PROV_KEEP; i++) {
        ipcn__free(pv->ring[i].rec);
        ipcn__free(pv->ring[i].ckpt);
        ipcn__free(pv->ring[i].to);
    }
    sodium_memzero(pv->sk, sizeof pv->sk);
    ipcn__free(pv);
    n->prov = NULL;
}

/* ---- the node service "prov" ---- */

static int text(ipcn__sys_reply *r, int status, const char *why)
{
    size_t len = strlen(why);
    r->data = ipcn__malloc(len);
    if (r->data) {
        memcpy(r->data, why, len);
        r->len = len;
        r->encoding = "text/plain";
    }
    return status;
}

/* Body: u64 index (8 bytes).  Answer: the proof of that record
 * (docs/protocol.md 20.5): 100; 203 when the node holds no such record
 * (never made, or no longer kept); 200 for another body. */
int ipcn__sys_prov(ipcn_node *n, struct ipcn__link *l, const ipcn__sys_call *c,
                   ipcn__sys_reply *r)
{
    (void)l;
    if (c->len != 8)
        return text(r, IPCN_BAD_REQUEST, "the body is a u64 record index");
    uint64_t i = ld64(c->data);
    ipcn__prov *pv = n->prov;
    if (!pv || !i || i > pv->index)
        return text(r, IPCN_NOT_FOUND, "no such record");
    const ipcn__prov_ent *first = &pv->ring[(i - 1) % IPCN_PROV_KEEP];
    if (first->index != i)
        return text(r, IPCN_NOT_FOUND, "the record is no longer kept");
    /* The records from i to the first checkpoint at or after it; none
     * yet: one now, at the head. */
    uint64_t j = i;
    while (j < pv->index && !pv->ring[(j - 1) % IPCN_PROV_KEEP].ckpt)
        j++;
    if (!pv->ring[(j - 1) % IPCN_PROV_KEEP].ckpt) {
        /* At most one checkpoint on demand per 10 ms: a verifier may not
         * make this node sign on every request (it asks again). */
        if (pv->ckpt_mono &&
            ipcn__now_mono_ns() - pv->ckpt_mono < IPCN_PROV_CKPT_MIN_NS)
            return text(r, IPCN_TOO_MANY_REQUESTS,
                        "a checkpoint was signed less than 10 ms ago");
        int st = checkpoint(n, pv, ipcn__now_real_ns());
        if (st != IPCN_OK)
            return st;
    }
    size_t size = IPCN_PROV_PROOF_FIXED + IPCN_PROV_CKPT_SIZE;
    for (uint64_t k = i; k <= j; k++)
        size += 4 + pv->ring[(k - 1) % IPCN_PROV_KEEP].len;
    uint8_t *p = ipcn__malloc(size);
    if (!p)
        return IPCN_INSUFFICIENT_MEMORY;
    p[0] = IPCN_PROV_VERSION;
    p[1] = 0;
    st16(p + 2, (uint16_t)(j - i + 1));
    st32(p + 4, 0);
    memcpy(p + 8, first->prev, 32);
    uint8_t *q = p + IPCN_PROV_PROOF_FIXED;
    for (uint64_t k = i; k <= j; k++) {
        const ipcn__prov_ent *e = &pv->ring[(k - 1) % IPCN_PROV_KEEP];
        st32(q, e->len);
        memcpy(q + 4, e->rec, e->len);
        q += 4 + e->len;
    }
    memcpy(q, pv->ring[(j - 1) % IPCN_PROV_KEEP].ckpt, IPCN_PROV_CKPT_SIZE);
    pv->proofs++;
    r->data = p;
    r->len = size;
    r->encoding = IPCN_PROV_PROOF_ENC;
    return IPCN_OK;
}

int ipcn__prov_check_proof(const uint8_t *p, size_t len, uint64_t node_id,
                           uint64_t index, ipcn_prov_record *out,
                           const uint8_t **rec_out, uint32_t *rec_len,
                           const char **why)
{
    ipcn__prov_proof pf;
    *why = NULL;
    if (ipcn__prov_proof_decode(p, len, &pf) != IPCN_OK) {
        *why = "the proof does not decode";
        return IPCN_UNAUTHORIZED;
    }
    const ipcn__prov_ckpt *c = &pf.ckpt;
    if (c->node_id != node_id || c->index != index + pf.count - 1) {
        *why = "the checkpoint is not of this node or record";
        return IPCN_UNAUTHORIZED;
    }
    uint8_t msg[IPCN_PROV_CTX_LEN + IPCN_PROV_CKPT_SIGNED];
    memcpy(msg, IPCN_PROV_CKPT_CTX, IPCN_PROV_CTX_LEN);
    memcpy(msg + IPCN_PROV_CTX_LEN, pf.records_end, IPCN_PROV_CKPT_SIGNED);
    if (crypto_sign_verify_detached(c->sig, msg, sizeof msg, c->pubkey)) {
        *why = "the checkpoint's signature does not verify";
        return IPCN_UNAUTHORIZED;
    }
    uint8_t h[32];
    memcpy(h, pf.prev, 32);
    const uint8_t *cur = pf.records, *rec;
    uint32_t rl;
    for (uint32_t i = 0; i < pf.count; i++) {
        ipcn_prov_record x;
        if (ipcn__prov_proof_next(&pf, &cur, &rec, &rl) != IPCN_OK ||
            ipcn__prov_decode(rec, rl, &x) != IPCN_OK ||
            x.node_id != node_id || x.index != index + i) {
            *why = "the chain holds a record out of place";
            return IPCN_UNAUTHORIZED;
        }
        if (i == 0) {
            *out = x;
            *rec_out = rec;
            *rec_len = rl;
        }
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, 32);
        crypto_generichash_update(&st, h, 32);
        crypto_generichash_update(&st, rec, rl);
        crypto_generichash_final(&st, h, 32);
    }
    if (sodium_memcmp(h, c->head, 32)) {
        *why = "the chain does not reach the signed head";
        return IPCN_UNAUTHORIZED;
    }
    return IPCN_OK;
}

/* "prov/to": body u64 index; answer (cbor) {"sent": [[node id, name],
 * ...], "more": N, "local": bool}: the nodes whose links the sample of
 * that record was queued on (name "" for one no longer linked), how
 * many more were not kept, whether this node's own subscriptions took
 * it.  203 for a record not kept, 200 for another body. */
int ipcn__sys_prov_to(ipcn_node *n, struct ipcn__link *l,
                      const ipcn__sys_call *c, ipcn__sys_reply *r)
{
    (void)l;
    if (c->len != 8)
        return text(r, IPCN_BAD_REQUEST, "the body is a u64 record index");
    uint64_t i = ld64(c->data);
    ipcn__prov *pv = n->prov;
    if (!pv || !i || i > pv->index ||
        pv->ring[(i - 1) % IPCN_PROV_KEEP].index != i)
        return text(r, IPCN_NOT_FOUND, "no such record");
    const ipcn__prov_ent *e = &pv->ring[(i - 1) % IPCN_PROV_KEEP];
    for (int pass = 0; pass < 2; pass++) {
        ipcn_cbor_writer w;
        size_t len = 0;
        if (pass)
            ipcn_cbor_writer_init(&w, r->data, r->len, 0);
        else
            ipcn_cbor_writer_init(&w, NULL, 0, 0);
        ipcn_cbor_put_map(&w, 3);
        ipcn_cbor_put_cstr(&w, "sent");
        ipcn_cbor_put_array(&w, e->nto);
        for (uint32_t k = 0; k < e->nto; k++) {
            const char *name = "";
            ipcn__link *x;
            ipcn__list_for_each(x, t, &n->links, ipcn__link, node_entry)
                if (x->who.node_id == e->to[k] && x->who.name) {
                    name = x->who.name;
                    break;
                }
            ipcn_cbor_put_array(&w, 2);
            ipcn_cbor_put_uint(&w, e->to[k]);
            ipcn_cbor_put_cstr(&w, name);
        }
        ipcn_cbor_put_cstr(&w, "more");
        ipcn_cbor_put_uint(&w, e->to_more);
        ipcn_cbor_put_cstr(&w, "local");
        ipcn_cbor_put_bool(&w, e->to_local);
        int st = ipcn_cbor_writer_finish(&w, &len);
        if (pass && st != IPCN_OK) {
            ipcn__free(r->data);
            r->data = NULL;
            r->len = 0;
            return st;
        }
        if (!pass) { /* measured: 306 with the size */
            if (st != IPCN_INSUFFICIENT_STORAGE && st != IPCN_OK)
                return st;
            if (!(r->data = ipcn__malloc(len ? len : 1)))
                return IPCN_INSUFFICIENT_MEMORY;
            r->len = len;
        }
    }
    r->encoding = "cbor";
    return IPCN_OK;
}

/* ---- the verifier's pins ---- */

int ipcn__prov_pin(ipcn_node *n, const char *name, uint64_t node_id,
                   uint64_t index, const uint8_t *p, size_t len,
                   const char **why)
{
    ipcn__prov_proof pf;
    *why = NULL;
    if (ipcn__prov_proof_decode(p, len, &pf) != IPCN_OK || !index) {
        *why = "the proof does not decode";
        return IPCN_UNAUTHORIZED;
    }
    const ipcn__prov_ckpt *c = &pf.ckpt;
    int st = IPCN_OK;
    ipcn__node_lock(n);
    ipcn__prov_pins *ps = n->prov_pins;
    if (!ps && !(ps = n->prov_pins = ipcn__calloc(1, sizeof *ps))) {
        ipcn__node_unlock(n);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    ipcn__prov_pinent *e = NULL, *lru = &ps->e[0];
    for (uint32_t i = 0; i < IPCN_PROV_PINS && !e; i++) {
        ipcn__prov_pinent *x = &ps->e[i];
        if (x->used && x->node_id == node_id && !strcmp(x->name, name))
            e = x;
        else if (x->used < lru->used)
            lru = x;
    }
    if (!e) { /* first use: pinned */
        e = lru;
        memset(e, 0, sizeof *e);
        e->node_id = node_id;
        snprintf(e->name, sizeof e->name, "%s", name);
        memcpy(e->pk, c->pubkey, 32);
        e->index = c->index;
        memcpy(e->head, c->head, 32);
    } else if (sodium_memcmp(e->pk, c->pubkey, 32)) {
        *why = "its checkpoint is signed with another key than the node's "
               "first proof";
        st = IPCN_UNAUTHORIZED;
    } else if (e->index + 1 >= index && e->index <= c->index) {
        /* The proof covers the head verified before: the same there. */
        uint8_t h[32];
        memcpy(h, pf.prev, 32);
        const uint8_t *cur = pf.records, *rec;
        uint32_t rl;
        for (uint64_t at = index - 1; at < e->index; at++) {
            if (ipcn__prov_proof_next(&pf, &cur, &rec, &rl) != IPCN_OK)
                break; /* not reached: checked */
            crypto_generichash_state hs;
            crypto_generichash_init(&hs, NULL, 0, 32);
            crypto_generichash_update(&hs, h, 32);
            crypto_generichash_update(&hs, rec, rl);
            crypto_generichash_final(&hs, h, 32);
        }
        if (sodium_memcmp(h, e->head, 32)) {
            *why = "its chain disagrees with a checkpoint of the node "
                   "verified before";
            st = IPCN_UNAUTHORIZED;
        }
    }
    if (st == IPCN_OK) {
        if (c->index > e->index) {
            e->index = c->index;
            memcpy(e->head, c->head, 32);
        }
        e->used = ++ps->clock;
    }
    ipcn__node_unlock(n);
    return st;
}
