/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cbor.c — libFuzzer harness of the value layer (src/value/): the
 * CBOR reader, tree, writer and canonical re-encoding, tensors, and the
 * encoding-string parser, all on the same hostile bytes.
 *
 * Properties checked (besides ASan/UBSan's):
 *  - the cursor walk (next, with peek agreeing at every step; skip) and
 *    ipcn_cbor_check() agree; every string view lies inside the input;
 *    each step consumes input; errors are sticky; a deterministic input is
 *    well-formed, and a well-formed one is a valid sequence;
 *  - the tree decodes exactly what the check accepts (plain, deterministic,
 *    copying strings);
 *  - for accepted input: the canonical re-encoding is deterministic, its
 *    own canonical form, and equal to the tree written by a deterministic
 *    writer (or both refuse: equal keys); a deterministic input is its own
 *    canonical form; the tree written by a plain writer re-canonicalizes to
 *    the same bytes;
 *  - a decoded tensor's payload lies inside the input, has the size its
 *    shape says, copies out, and re-encodes to a tensor with the same
 *    elements;
 *  - the encoding parser's views lie inside the string and its lookups
 *    find every parameter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipcnet_value.h"

/* Walk the input; returns 100 or 200 as ipcn_cbor_check() would. */
static int fc_walk(const uint8_t *p, size_t n, uint32_t flags, int skip)
{
    ipcn_cbor_reader r;
    ipcn_cbor_value v, pv;
    int st = ipcn_cbor_reader_init(&r, p, n, flags);
    size_t steps = 0, last = 0;
    while (st == IPCN_OK) {
        int pst = ipcn_cbor_peek(&r, &pv);
        st = skip ? ipcn_cbor_skip(&r, &v) : ipcn_cbor_next(&r, &v);
        if (!skip)
            FUZZ_ASSERT(pst == st);
        if (st != IPCN_OK)
            break;
        FUZZ_ASSERT(pv.type == v.type && pv.offset == v.offset);
        FUZZ_ASSERT(v.offset < n && v.offset >= last);
        if ((v.type == IPCN_CBOR_BYTES || v.type == IPCN_CBOR_TEXT) &&
            !v.indefinite)
            FUZZ_ASSERT(v.ptr >= p && v.len <= n &&
                        v.ptr + v.len <= p + n);
        FUZZ_ASSERT(v.depth <= IPCN_CBOR_MAX_DEPTH);
        size_t off = ipcn_cbor_reader_offset(&r);
        FUZZ_ASSERT(off > last && off <= n);
        last = off;
        FUZZ_ASSERT(++steps <= n);
    }
    FUZZ_ASSERT(st == IPCN_NO_DATA || st == IPCN_BAD_REQUEST);
    if (st == IPCN_BAD_REQUEST)
        FUZZ_ASSERT(ipcn_cbor_next(&r, &v) == IPCN_BAD_REQUEST);
    return st == IPCN_NO_DATA ? IPCN_OK : st;
}

/* Write a tree with a writer of flags into a new exact-size buffer.
 * Returns the status; *out (malloc'd) and *len on 100. */
static int fc_tree_write(const ipcn_cbor_item *t, uint32_t flags,
                         uint8_t **out, size_t *len)
{
    ipcn_cbor_writer w;
    size_t need = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, flags);
    ipcn_cbor_tree_encode(&w, t);
    int st = ipcn_cbor_writer_finish(&w, &need);
    if (st == IPCN_BAD_REQUEST)
        return st;
    FUZZ_ASSERT(st == IPCN_INSUFFICIENT_STORAGE && need > 0);
    uint8_t *buf = malloc(need);
    FUZZ_ASSERT(buf);
    ipcn_cbor_writer_init(&w, buf, need, flags);
    ipcn_cbor_tree_encode(&w, t);
    st = ipcn_cbor_writer_finish(&w, len);
    /* equal keys show only when a map's bytes are there to sort */
    if (st == IPCN_BAD_REQUEST && (flags & IPCN_CBOR_DETERMINISTIC)) {
        free(buf);
        return st;
    }
    FUZZ_ASSERT(st == IPCN_OK && *len == need);
    *out = buf;
    return st;
}

/* The canonical form in a new exact-size buffer; 100 or 200. */
static int fc_canonical(const uint8_t *p, size_t n, uint8_t **out,
                        size_t *len)
{
    size_t need = 0;
    int st = ipcn_cbor_canonicalize(p, n, NULL, 0, &need);
    if (st == IPCN_BAD_REQUEST)
        return st;
    FUZZ_ASSERT(st == IPCN_INSUFFICIENT_STORAGE && need > 0);
    uint8_t *buf = malloc(need);
    FUZZ_ASSERT(buf);
    st = ipcn_cbor_canonicalize(p, n, buf, need, len);
    if (st == IPCN_BAD_REQUEST) { /* equal keys: found once sorting */
        free(buf);
        return st;
    }
    FUZZ_ASSERT(st == IPCN_OK && *len == need);
    *out = buf;
    return st;
}

static void fc_cbor(const uint8_t *p, size_t n)
{
    int plain = fc_walk(p, n, 0, 0);
    FUZZ_ASSERT(fc_walk(p, n, 0, 1) == plain);
    FUZZ_ASSERT(ipcn_cbor_check(p, n, 0) == plain);
    int det = fc_walk(p, n, IPCN_CBOR_DETERMINISTIC, 0);
    FUZZ_ASSERT(ipcn_cbor_check(p, n, IPCN_CBOR_DETERMINISTIC) == det);
    int seq = fc_walk(p, n, IPCN_CBOR_SEQUENCE, 0);
    if (det == IPCN_OK)
        FUZZ_ASSERT(plain == IPCN_OK);
    if (plain == IPCN_OK)
        FUZZ_ASSERT(seq == IPCN_OK);

    ipcn_cbor_item *t = NULL, *td = NULL, *tc = NULL;
    FUZZ_ASSERT(ipcn_cbor_tree_decode(p, n, 0, &t) == plain);
    FUZZ_ASSERT(ipcn_cbor_tree_decode(p, n, IPCN_CBOR_DETERMINISTIC, &td) ==
                det);
    FUZZ_ASSERT(ipcn_cbor_tree_decode(p, n, IPCN_CBOR_COPY_STRINGS, &tc) ==
                plain);
    ipcn_cbor_tree_free(td);
    ipcn_cbor_tree_free(tc);

    uint8_t *canon = NULL, *tw = NULL, *again = NULL, *plain_out = NULL;
    size_t clen = 0, twlen = 0, alen = 0, plen = 0;
    int cst = fc_canonical(p, n, &canon, &clen);
    if (plain != IPCN_OK) {
        FUZZ_ASSERT(cst == IPCN_BAD_REQUEST && t == NULL);
        return;
    }
    int tst = fc_tree_write(t, IPCN_CBOR_DETERMINISTIC, &tw, &twlen);
    FUZZ_ASSERT(tst == cst); /* both refuse equal keys, or both write */
    if (det == IPCN_OK)
        FUZZ_ASSERT(cst == IPCN_OK);
    if (cst == IPCN_OK) {
        FUZZ_ASSERT(twlen == clen && memcmp(tw, canon, clen) == 0);
        FUZZ_ASSERT(ipcn_cbor_check(canon, clen, IPCN_CBOR_DETERMINISTIC) ==
                    IPCN_OK);
        FUZZ_ASSERT(fc_canonical(canon, clen, &again, &alen) == IPCN_OK);
        FUZZ_ASSERT(alen == clen && memcmp(again, canon, clen) == 0);
        if (det == IPCN_OK)
            FUZZ_ASSERT(clen == n && memcmp(canon, p, n) == 0);
    }
    /* a plain writer writes the tree back; the canonical forms agree */
    FUZZ_ASSERT(fc_tree_write(t, 0, &plain_out, &plen) == IPCN_OK);
    FUZZ_ASSERT(ipcn_cbor_check(plain_out, plen, 0) == IPCN_OK);
    uint8_t *canon2 = NULL;
    size_t c2len = 0;
    FUZZ_ASSERT(fc_canonical(plain_out, plen, &canon2, &c2len) == cst);
    if (cst == IPCN_OK)
        FUZZ_ASSERT(c2len == clen && memcmp(canon2, canon, clen) == 0);
    free(canon2);
    free(plain_out);
    free(again);
    free(tw);
    free(canon);
    ipcn_cbor_tree_free(t);
}

static void fc_tensor(const uint8_t *p, size_t n)
{
    ipcn_tensor t;
    int st = ipcn_tensor_decode(p, n, 0, &t);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST ||
                st == IPCN_NOT_IMPLEMENTED);
    if (st != IPCN_OK)
        return;
    FUZZ_ASSERT(ipcn_cbor_check(p, n, 0) == IPCN_OK);
    size_t es = ipcn_dtype_size(t.dtype);
    uint64_t count = ipcn_tensor_numel(&t);
    FUZZ_ASSERT(es && t.ndim <= IPCN_TENSOR_MAX_DIMS);
    FUZZ_ASSERT(count * es == t.size && t.size <= n);
    const uint8_t *d = t.data;
    FUZZ_ASSERT(d >= p && d + t.size <= p + n);
    uint8_t *flat = malloc(t.size ? t.size : 1);
    FUZZ_ASSERT(flat);
    FUZZ_ASSERT(ipcn_tensor_copy(&t, flat, t.size) == IPCN_OK);

    /* re-encode (through the strides) and decode again */
    ipcn_cbor_writer w;
    size_t need = 0, len = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    ipcn_tensor_encode(&w, &t);
    FUZZ_ASSERT(ipcn_cbor_writer_finish(&w, &need) ==
                IPCN_INSUFFICIENT_STORAGE);
    uint8_t *buf = malloc(need);
    FUZZ_ASSERT(buf);
    ipcn_cbor_writer_init(&w, buf, need, 0);
    ipcn_tensor_encode(&w, &t);
    FUZZ_ASSERT(ipcn_cbor_writer_finish(&w, &len) == IPCN_OK && len == need);
    ipcn_tensor u;
    FUZZ_ASSERT(ipcn_tensor_decode(buf, len, IPCN_CBOR_DETERMINISTIC, &u) ==
                IPCN_OK);
    FUZZ_ASSERT(u.dtype == t.dtype && u.ndim == t.ndim && u.size == t.size);
    for (uint32_t k = 0; k < t.ndim; k++)
        FUZZ_ASSERT(u.shape[k] == t.shape[k]);
    uint8_t *flat2 = malloc(t.size ? t.size : 1);
    FUZZ_ASSERT(flat2);
    FUZZ_ASSERT(ipcn_tensor_copy(&u, flat2, u.size) == IPCN_OK);
    FUZZ_ASSERT(memcmp(flat, flat2, t.size) == 0);
    free(flat2);
    free(buf);
    free(flat);
}

static void fc_encoding(const uint8_t *p, size_t n)
{
    if (n > 300 || memchr(p, 0, n))
        return;
    char *s = malloc(n + 1);
    FUZZ_ASSERT(s);
    memcpy(s, p, n);
    s[n] = 0;
    ipcn_encoding e;
    if (ipcn_encoding_parse(s, &e) == IPCN_OK) {
        FUZZ_ASSERT(n >= 1 && n <= IPCN_ENCODING_MAX_LEN);
        FUZZ_ASSERT(e.type.ptr == s && e.type.len >= 1);
        FUZZ_ASSERT(e.nparams <= IPCN_ENCODING_MAX_PARAMS);
        FUZZ_ASSERT(e.subtype.ptr >= s && e.subtype.ptr + e.subtype.len <= s + n);
        for (uint32_t k = 0; k < e.nparams; k++) {
            const ipcn_encoding_kv *kv = &e.params[k];
            FUZZ_ASSERT(kv->key.len >= 1 && kv->key.ptr > s &&
                        kv->key.ptr + kv->key.len <= s + n);
            FUZZ_ASSERT(kv->value.ptr > s &&
                        kv->value.ptr + kv->value.len <= s + n);
            char key[200];
            FUZZ_ASSERT(kv->key.len < sizeof key);
            memcpy(key, kv->key.ptr, kv->key.len);
            key[kv->key.len] = 0;
            ipcn_strview v;
            FUZZ_ASSERT(ipcn_encoding_param(&e, key, &v) == IPCN_OK);
            FUZZ_ASSERT(v.ptr == kv->value.ptr && v.len == kv->value.len);
            int64_t x;
            int ist = ipcn_encoding_param_int(&e, key, &x);
            FUZZ_ASSERT(ist == IPCN_OK || ist == IPCN_BAD_REQUEST);
            size_t pos = 0;
            ipcn_strview item;
            int lst;
            size_t items = 0;
            while ((lst = ipcn_encoding_list_next(v, &pos, &item)) == IPCN_OK)
                FUZZ_ASSERT(++items <= v.len && item.len >= 1);
            FUZZ_ASSERT(lst == IPCN_NO_DATA || lst == IPCN_BAD_REQUEST);
        }
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan then sees any read past the end. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    fc_cbor(p, size);
    fc_tensor(p, size);
    fc_encoding(p, size);
    free(p);
    return 0;
}
