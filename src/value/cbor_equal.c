/* SPDX-License-Identifier: MIT */
/*
 * cbor_equal.c — do two CBOR items hold the same value?  For the votes of
 * ipcn_request_ex() (engine/multi.c): numbers (integers, floats, one of
 * each) within a tolerance, maps as sets of keys, arrays in order.
 *
 * Both items are re-encoded in deterministic form first (cbor_write.c:
 * ipcn_cbor_canonicalize()), which sorts every map by its keys' encodings:
 * two maps with the same keys then list them in the same order, and one
 * walk over both, item by item, compares them.  The cost is that of the
 * canonicalization (linear, plus the sorting of maps) and one linear walk;
 * nesting is bounded by the reader (IPCN_CBOR_MAX_DEPTH).  No recursion.
 */
#include <string.h>

#include "util/util.h"
#include "value/value.h"

/* The deterministic form of in[0..n), allocated; NULL when it is not one
 * well-formed item (or has two equal keys in a map), or out of memory. */
static uint8_t *canonical(const void *in, size_t n, size_t *len)
{
    size_t need = 0;
    int st = ipcn_cbor_canonicalize(in, n, NULL, 0, &need);
    if (st != IPCN_INSUFFICIENT_STORAGE && st != IPCN_OK)
        return NULL;
    uint8_t *out = ipcn__malloc(need ? need : 1);
    if (!out)
        return NULL;
    if (ipcn_cbor_canonicalize(in, n, out, need, len) != IPCN_OK) {
        ipcn__free(out);
        return NULL;
    }
    return out;
}

static bool is_int(const ipcn_cbor_value *v)
{
    return v->type == IPCN_CBOR_UINT || v->type == IPCN_CBOR_NEGINT;
}

static double int_as_double(const ipcn_cbor_value *v)
{
    return v->type == IPCN_CBOR_UINT ? (double)v->u : -1.0 - (double)v->u;
}

/* Two numbers within tol (>= 0).  Two integers: their exact difference;
 * an integer and a float: as doubles; two NaNs are equal, a NaN equals no
 * number. */
static bool num_equal(const ipcn_cbor_value *a, const ipcn_cbor_value *b,
                      double tol)
{
    if (is_int(a) && is_int(b)) {
        uint64_t d;
        if (a->type == b->type) {
            d = a->u > b->u ? a->u - b->u : b->u - a->u;
        } else {
            /* u and -1-v: the distance is u + v + 1, saturated. */
            d = a->u + b->u + 1;
            if (d <= a->u)
                d = UINT64_MAX;
        }
        return d == 0 || (double)d <= tol;
    }
    double x = is_int(a) ? int_as_double(a) : a->f;
    double y = is_int(b) ? int_as_double(b) : b->f;
    if (x != x || y != y) /* NaN (no libm: the library does not link it) */
        return x != x && y != y;
    return x == y || (x > y ? x - y : y - x) <= tol;
}

static bool is_num(const ipcn_cbor_value *v)
{
    return is_int(v) || v->type == IPCN_CBOR_FLOAT;
}

/* Is the next item of r a map key? */
static bool at_key(const ipcn_cbor_reader *r)
{
    return ipcn__cbor_reader_top(r) == IPCN__F_MAP &&
           !(r->stack[r->depth - 1].remaining & 1);
}

/* One item head of each (not keys: those are compared whole). */
static bool head_equal(const ipcn_cbor_value *a, const ipcn_cbor_value *b,
                       double tol)
{
    if (is_num(a) && is_num(b))
        return num_equal(a, b, tol);
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case IPCN_CBOR_BYTES:
    case IPCN_CBOR_TEXT:
        return a->len == b->len && (!a->len || !memcmp(a->ptr, b->ptr, a->len));
    case IPCN_CBOR_ARRAY:
    case IPCN_CBOR_MAP:
        return a->count == b->count;
    case IPCN_CBOR_TAG:
    case IPCN_CBOR_SIMPLE:
    case IPCN_CBOR_BOOL:
        return a->u == b->u;
    default: /* NULL, UNDEFINED */
        return true;
    }
}

/* Walk both deterministic encodings in step. */
static bool walk_equal(const uint8_t *a, size_t an, const uint8_t *b,
                       size_t bn, double tol)
{
    ipcn_cbor_reader ra, rb;
    ipcn_cbor_reader_init(&ra, a, an, 0);
    ipcn_cbor_reader_init(&rb, b, bn, 0);
    for (;;) {
        bool key = at_key(&ra);
        if (key != at_key(&rb))
            return false;
        size_t a0 = ipcn_cbor_reader_offset(&ra);
        size_t b0 = ipcn_cbor_reader_offset(&rb);
        ipcn_cbor_value va, vb;
        int sa, sb;
        if (key) { /* keys: exactly, as encoded (deterministic) */
            sa = ipcn_cbor_skip(&ra, &va);
            sb = ipcn_cbor_skip(&rb, &vb);
        } else {
            sa = ipcn_cbor_next(&ra, &va);
            sb = ipcn_cbor_next(&rb, &vb);
        }
        if (sa != sb)
            return false;
        if (sa == IPCN_NO_DATA)
            return true;
        if (sa != IPCN_OK)
            return false;
        if (key) {
            size_t al = ipcn_cbor_reader_offset(&ra) - a0;
            size_t bl = ipcn_cbor_reader_offset(&rb) - b0;
            if (al != bl || memcmp(a + a0, b + b0, al) != 0)
                return false;
        } else if (!head_equal(&va, &vb, tol)) {
            return false;
        }
    }
}

bool ipcn__cbor_equal(const void *a, size_t an, const void *b, size_t bn,
                      double tol)
{
    if (an == bn && (!an || !memcmp(a, b, an)))
        return true;
    if (!(tol >= 0)) /* negative or NaN: exactly */
        tol = 0;
    size_t cal = 0, cbl = 0;
    uint8_t *ca = canonical(a, an, &cal);
    uint8_t *cb = ca ? canonical(b, bn, &cbl) : NULL;
    bool eq = ca && cb && walk_equal(ca, cal, cb, cbl, tol);
    ipcn__free(ca);
    ipcn__free(cb);
    return eq;
}
