/* SPDX-License-Identifier: MIT */
/*
 * cbor.c — JSON <-> CBOR with the library's writer and tree decoder, and
 * tensors for people and for JSON.
 */
#include "cbor.h"

#include <errno.h>
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- JSON -> CBOR ---- */

static void put_number(ipcn_cbor_writer *w, const jval *v)
{
    if (!strpbrk(v->s, ".eE")) {
        char *end;
        errno = 0;
        if (v->s[0] == '-') {
            /* -1 - n for n in 0..2^64-1: parse the magnitude unsigned. */
            unsigned long long mag = strtoull(v->s + 1, &end, 10);
            if (!strcmp(v->s, "-18446744073709551616")) { /* -2^64 */
                ipcn_cbor_put_negint(w, UINT64_MAX);
                return;
            }
            if (!errno && *end == 0) {
                if (mag == 0) /* "-0" */
                    ipcn_cbor_put_uint(w, 0);
                else
                    ipcn_cbor_put_negint(w, mag - 1);
                return;
            }
        } else {
            unsigned long long u = strtoull(v->s, &end, 10);
            if (!errno && *end == 0) {
                ipcn_cbor_put_uint(w, u);
                return;
            }
        }
    }
    ipcn_cbor_put_float(w, strtod(v->s, NULL));
}

static void put_json(ipcn_cbor_writer *w, const jval *v)
{
    switch (v->t) {
    case J_NULL: ipcn_cbor_put_null(w); return;
    case J_FALSE: ipcn_cbor_put_bool(w, 0); return;
    case J_TRUE: ipcn_cbor_put_bool(w, 1); return;
    case J_NUM: put_number(w, v); return;
    case J_STR: ipcn_cbor_put_text(w, v->s ? v->s : "", v->n); return;
    case J_ARR:
        if (ipcn_cbor_put_array(w, v->count) == IPCN_BAD_REQUEST)
            return;
        for (size_t i = 0; i < v->count; i++)
            put_json(w, v->v[i]);
        return;
    case J_OBJ:
        if (ipcn_cbor_put_map(w, v->count) == IPCN_BAD_REQUEST)
            return;
        for (size_t i = 0; i < v->count; i++) {
            put_json(w, v->k[i]);
            put_json(w, v->v[i]);
        }
        return;
    }
}

int cbor_from_json(sbuf *b, const jval *v, char *err, size_t errlen)
{
    ipcn_cbor_writer w;
    size_t need = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    put_json(&w, v);
    int st = ipcn_cbor_writer_finish(&w, &need);
    if (st != IPCN_OK && st != IPCN_INSUFFICIENT_STORAGE) {
        if (err && errlen)
            snprintf(err, errlen, "cannot encode it as CBOR (nesting deeper than %d?)",
                     IPCN_CBOR_MAX_DEPTH);
        return -1;
    }
    size_t base = b->len;
    sb_putn(b, "", 0);
    if (b->cap - b->len < need + 1) {
        b->p = xrealloc(b->p, b->len + need + 1);
        b->cap = b->len + need + 1;
    }
    size_t len = 0;
    ipcn_cbor_writer_init(&w, b->p + base, need, 0);
    put_json(&w, v);
    st = ipcn_cbor_writer_finish(&w, &len);
    if (st != IPCN_OK || len != need) {
        if (err && errlen)
            snprintf(err, errlen, "cannot encode it as CBOR (status %d)", st);
        return -1;
    }
    b->len = base + len;
    b->p[b->len] = 0;
    return 0;
}

/* ---- numbers for people ---- */

/* The shortest decimal that reads back as the same double (or float).
 * JSON is read as doubles: there a float16 or float32 prints as the
 * double it is exactly (3.4028234663852886e+38, not 3.4028235e+38, which
 * a JSON reader takes for another number); the shortest float digits are
 * for text meant for people only. */
static void fmt_real(char *s, size_t n, double d, bool single, bool json)
{
    if (!isfinite(d)) {
        snprintf(s, n, "%s", json ? "null" : isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
        return;
    }
    if (json)
        single = false;
    /* At each precision the nearest decimal first, then the ones rounded
     * up and down (glibc's printf follows the rounding mode): 2^-24 at 16
     * digits rounds to ...062e-08, which is not 2^-24, while ...063e-08
     * is. */
    static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD};
    int saved = fegetround();
    bool found = false;
    for (int prec = single ? 6 : 15; prec <= 17 && !found; prec++) {
        for (size_t m = 0; m < sizeof modes / sizeof *modes && !found; m++) {
            fesetround(modes[m]);
            snprintf(s, n, "%.*g", prec, d);
            fesetround(saved);
            double back = strtod(s, NULL);
            found = single ? (float)back == (float)d : back == d;
        }
    }
    if (!found)
        snprintf(s, n, "%.17g", d);
    if (json && !strpbrk(s, ".eEn"))
        strncat(s, ".0", n - strlen(s) - 1);
}

static jval *num_real(double d, bool single)
{
    if (!isfinite(d))
        return json_new(J_NULL);
    char s[48];
    fmt_real(s, sizeof s, d, single, true);
    return json_num_text(s);
}

/* ---- tensors ---- */

static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e != 31 ? ldexp(m + 1024, e - 25)
                                       : m == 0 ? INFINITY : NAN;
    return (h & 0x8000) ? -v : v;
}

/* Element i of a native, contiguous copy, as text. */
static void elem_text(char *s, size_t n, ipcn_dtype dt, const uint8_t *p, size_t i,
                      bool json)
{
    size_t es = ipcn_dtype_size(dt);
    p += i * es;
    switch (dt) {
    case IPCN_DTYPE_BOOL: snprintf(s, n, "%s", *p ? "true" : "false"); return;
    case IPCN_DTYPE_INT8: snprintf(s, n, "%d", (int)*(const int8_t *)p); return;
    case IPCN_DTYPE_UINT8: snprintf(s, n, "%u", (unsigned)*p); return;
    case IPCN_DTYPE_INT16: { int16_t v; memcpy(&v, p, 2); snprintf(s, n, "%d", v); return; }
    case IPCN_DTYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); snprintf(s, n, "%u", v); return; }
    case IPCN_DTYPE_INT32: { int32_t v; memcpy(&v, p, 4); snprintf(s, n, "%d", v); return; }
    case IPCN_DTYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); snprintf(s, n, "%u", v); return; }
    case IPCN_DTYPE_INT64: { int64_t v; memcpy(&v, p, 8); snprintf(s, n, "%lld", (long long)v); return; }
    case IPCN_DTYPE_UINT64: { uint64_t v; memcpy(&v, p, 8); snprintf(s, n, "%llu", (unsigned long long)v); return; }
    case IPCN_DTYPE_FLOAT16: { uint16_t v; memcpy(&v, p, 2); fmt_real(s, n, half_to_double(v), true, json); return; }
    case IPCN_DTYPE_BFLOAT16: {
        uint16_t v;
        memcpy(&v, p, 2);
        uint32_t u = (uint32_t)v << 16;
        float f;
        memcpy(&f, &u, 4);
        fmt_real(s, n, f, true, json);
        return;
    }
    case IPCN_DTYPE_FLOAT32: { float v; memcpy(&v, p, 4); fmt_real(s, n, v, true, json); return; }
    case IPCN_DTYPE_FLOAT64: { double v; memcpy(&v, p, 8); fmt_real(s, n, v, false, json); return; }
    default: snprintf(s, n, "?"); return;
    }
}

/* The first min(numel, max) elements, native and contiguous (NULL when
 * there are none or the copy fails). */
static uint8_t *tensor_head(const ipcn_tensor *t, size_t max, size_t *count)
{
    uint64_t numel = ipcn_tensor_numel(t);
    size_t es = ipcn_dtype_size(t->dtype);
    *count = 0;
    if (!numel || !es)
        return NULL;
    /* ipcn_tensor_copy() copies everything: fine for the sizes a message
     * holds (at most the node's max_payload). */
    uint8_t *all = xmalloc((size_t)numel * es);
    if (ipcn_tensor_copy(t, all, (size_t)numel * es) != IPCN_OK) {
        free(all);
        return NULL;
    }
    *count = numel < max ? (size_t)numel : max;
    return all;
}

void tensor_text(sbuf *b, const ipcn_tensor *t, size_t max_values)
{
    sb_printf(b, "tensor %s [", ipcn_dtype_name(t->dtype));
    for (uint32_t d = 0; d < t->ndim; d++)
        sb_printf(b, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    sb_puts(b, "]");
    size_t count;
    uint8_t *v = tensor_head(t, max_values, &count);
    uint64_t numel = ipcn_tensor_numel(t);
    if (count)
        sb_puts(b, ": ");
    for (size_t i = 0; i < count; i++) {
        char s[48];
        elem_text(s, sizeof s, t->dtype, v, i, false);
        sb_printf(b, "%s%s", i ? ", " : "", s);
    }
    if (count && numel > count)
        sb_puts(b, ", ...");
    free(v);
}

jval *tensor_json(const ipcn_tensor *t, size_t max_values)
{
    jval *o = json_new(J_OBJ);
    const char *dn = ipcn_dtype_name(t->dtype);
    json_add(o, "dtype", 5, json_str(dn, strlen(dn)));
    jval *shape = json_new(J_ARR);
    char s[48];
    for (uint32_t d = 0; d < t->ndim; d++) {
        snprintf(s, sizeof s, "%lld", (long long)t->shape[d]);
        json_add(shape, NULL, 0, json_num_text(s));
    }
    json_add(o, "shape", 5, shape);
    snprintf(s, sizeof s, "%llu", (unsigned long long)ipcn_tensor_numel(t));
    json_add(o, "numel", 5, json_num_text(s));
    jval *vals = json_new(J_ARR);
    size_t count;
    uint8_t *v = tensor_head(t, max_values, &count);
    for (size_t i = 0; i < count; i++) {
        elem_text(s, sizeof s, t->dtype, v, i, true);
        if (t->dtype == IPCN_DTYPE_BOOL)
            json_add(vals, NULL, 0, json_new(*s == 't' ? J_TRUE : J_FALSE));
        else if (!strcmp(s, "null"))
            json_add(vals, NULL, 0, json_new(J_NULL));
        else
            json_add(vals, NULL, 0, json_num_text(s));
    }
    free(v);
    json_add(o, "values", 6, vals);
    return o;
}

/* ---- CBOR -> JSON ---- */

#define TENSOR_JSON_MAX 1024

/* A map key as JSON needs a string: text keys stay, others print as JSON. */
static jval *key_text(jval *k)
{
    if (k->t == J_STR)
        return k;
    sbuf b = {0};
    json_write(&b, k, -1);
    jval *s = json_str(b.p, b.len);
    sb_free(&b);
    json_free(k);
    return s;
}

/* A tag-40/1040 item of a tree as a tensor: re-encode it and view it. */
static jval *tag_tensor(const ipcn_cbor_item *it)
{
    ipcn_cbor_writer w;
    size_t need = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    ipcn_cbor_tree_encode(&w, it);
    int st = ipcn_cbor_writer_finish(&w, &need);
    if (st != IPCN_OK && st != IPCN_INSUFFICIENT_STORAGE)
        return NULL;
    uint8_t *buf = xmalloc(need ? need : 1);
    ipcn_cbor_writer_init(&w, buf, need, 0);
    ipcn_cbor_tree_encode(&w, it);
    jval *v = NULL;
    ipcn_tensor t;
    if (ipcn_cbor_writer_finish(&w, &need) == IPCN_OK &&
        ipcn_tensor_decode(buf, need, 0, &t) == IPCN_OK)
        v = tensor_json(&t, TENSOR_JSON_MAX);
    free(buf);
    return v;
}

static jval *from_item(const ipcn_cbor_item *it)
{
    char s[48];
    switch (it->type) {
    case IPCN_CBOR_UINT:
        snprintf(s, sizeof s, "%llu", (unsigned long long)it->u);
        return json_num_text(s);
    case IPCN_CBOR_NEGINT:
        if (it->u < UINT64_MAX)
            snprintf(s, sizeof s, "-%llu", (unsigned long long)it->u + 1);
        else
            snprintf(s, sizeof s, "-18446744073709551616");
        return json_num_text(s);
    case IPCN_CBOR_TEXT:
        return json_str(it->len ? (const char *)it->ptr : "", it->len);
    case IPCN_CBOR_BYTES: {
        sbuf h = {0};
        sb_puts(&h, "h'");
        for (size_t i = 0; i < it->len; i++)
            sb_printf(&h, "%02x", it->ptr[i]);
        sb_putc(&h, '\'');
        jval *v = json_str(h.p, h.len);
        sb_free(&h);
        return v;
    }
    case IPCN_CBOR_ARRAY: {
        jval *a = json_new(J_ARR);
        for (uint64_t i = 0; i < it->count; i++)
            json_add(a, NULL, 0, from_item(&it->items[i]));
        return a;
    }
    case IPCN_CBOR_MAP: {
        jval *o = json_new(J_OBJ);
        for (uint64_t i = 0; i < it->count; i++) {
            jval *k = key_text(from_item(&it->items[2 * i]));
            json_add(o, k->s, k->n, from_item(&it->items[2 * i + 1]));
            json_free(k);
        }
        return o;
    }
    case IPCN_CBOR_TAG: {
        if (it->u == IPCN_CBOR_TAG_NDARRAY || it->u == IPCN_CBOR_TAG_NDARRAY_COLMAJOR) {
            jval *t = tag_tensor(it);
            if (t)
                return t;
        }
        return from_item(&it->items[0]); /* the tag's content */
    }
    case IPCN_CBOR_BOOL:
        return json_new(it->u ? J_TRUE : J_FALSE);
    case IPCN_CBOR_FLOAT:
        return num_real(it->f, it->float_bits < 64);
    default: /* null, undefined, simple values */
        return json_new(J_NULL);
    }
}

int cbor_to_json(const void *p, size_t n, jval **out)
{
    ipcn_cbor_item *root = NULL;
    if (ipcn_cbor_tree_decode(p, n, 0, &root) != IPCN_OK)
        return -1;
    *out = from_item(root);
    ipcn_cbor_tree_free(root);
    return 0;
}
