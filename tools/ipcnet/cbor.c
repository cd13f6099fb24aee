/* SPDX-License-Identifier: MIT */
/*
 * cbor.c — JSON <-> CBOR for the CLI's trees, by the library
 * (ipcn_cbor_from_json(), ipcn_cbor_to_json()), and tensors for people.
 */
#include "cbor.h"

#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- JSON <-> CBOR: the library's ---- */

int cbor_from_json(sbuf *b, const jval *v, char *err, size_t errlen)
{
    sbuf text = {0};
    json_write(&text, v, -1);
    ipcn_json_error e = {0, NULL};
    size_t need = 0, len = 0;
    int st = ipcn_cbor_from_json(text.p, text.len, 0, NULL, 0, &need, &e);
    if (st == IPCN_OK) {
        size_t base = b->len;
        sb_putn(b, "", 0);
        if (b->cap - b->len < need + 1) {
            b->p = xrealloc(b->p, b->len + need + 1);
            b->cap = b->len + need + 1;
        }
        st = ipcn_cbor_from_json(text.p, text.len, 0, b->p + base, need, &len,
                                 &e);
        if (st == IPCN_OK) {
            b->len = base + len;
            b->p[b->len] = 0;
        }
    }
    sb_free(&text);
    if (st != IPCN_OK && err && errlen)
        snprintf(err, errlen, "cannot encode it as CBOR (%d %s%s%s)", st,
                 ipcn_status_str(st), e.what ? ": " : "", e.what ? e.what : "");
    return st == IPCN_OK ? 0 : -1;
}

int cbor_to_json(const void *p, size_t n, jval **out)
{
    size_t need = 0;
    if (ipcn_cbor_to_json(p, n, IPCN_JSON_TENSOR_HEAD, NULL, 0, &need) != IPCN_OK)
        return -1;
    char *text = xmalloc(need + 1);
    int rc = -1;
    if (ipcn_cbor_to_json(p, n, IPCN_JSON_TENSOR_HEAD, text, need + 1, &need) ==
        IPCN_OK)
        rc = json_parse(text, need, out, NULL, 0);
    free(text);
    return rc;
}

/* ---- numbers for people ---- */

/* The shortest decimal that reads back as the same double (or float):
 * for text meant for people only, where a float32 prints with its own
 * shortest digits (3.4028235e+38).  JSON prints floats as the doubles they
 * are exactly: that is the library's ipcn_cbor_to_json(). */
static void fmt_real(char *s, size_t n, double d, bool single)
{
    if (!isfinite(d)) {
        snprintf(s, n, "%s", isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
        return;
    }
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
static void elem_text(char *s, size_t n, ipcn_dtype dt, const uint8_t *p, size_t i)
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
    case IPCN_DTYPE_FLOAT16: { uint16_t v; memcpy(&v, p, 2); fmt_real(s, n, half_to_double(v), true); return; }
    case IPCN_DTYPE_BFLOAT16: {
        uint16_t v;
        memcpy(&v, p, 2);
        uint32_t u = (uint32_t)v << 16;
        float f;
        memcpy(&f, &u, 4);
        fmt_real(s, n, f, true);
        return;
    }
    case IPCN_DTYPE_FLOAT32: { float v; memcpy(&v, p, 4); fmt_real(s, n, v, true); return; }
    case IPCN_DTYPE_FLOAT64: { double v; memcpy(&v, p, 8); fmt_real(s, n, v, false); return; }
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
        elem_text(s, sizeof s, t->dtype, v, i);
        sb_printf(b, "%s%s", i ? ", " : "", s);
    }
    if (count && numel > count)
        sb_puts(b, ", ...");
    free(v);
}
