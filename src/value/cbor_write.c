/* SPDX-License-Identifier: MIT */
/*
 * cbor_write.c — the CBOR (RFC 8949) writer: straight into a caller's
 * buffer, counting on when it is too small; deterministic encoding
 * (RFC 8949 §4.2.1: maps sorted when complete); and the canonical
 * re-encoding of an input, reader to writer.  Why this is our own code
 * rather than libcbor's: see cbor.c.
 */
#include <math.h> /* isnan(), a macro: no libm */
#include <string.h>

#include "util/util.h"
#include "value/value.h"

static double bitsd(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static uint64_t dbits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

static int w_fail(ipcn_cbor_writer *w)
{
    w->status = IPCN_BAD_REQUEST;
    return w->status;
}

int ipcn_cbor_writer_init(ipcn_cbor_writer *w, void *buf, size_t cap,
                          uint32_t flags)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
    w->watch = SIZE_MAX;
    w->flags = flags;
    w->depth = 0;
    w->status = IPCN_OK;
    if ((!buf && cap) || (flags & ~IPCN_CBOR_DETERMINISTIC))
        return w_fail(w);
    return IPCN_OK;
}

void ipcn__cbor_w_raw(ipcn_cbor_writer *w, const void *p, size_t n)
{
    if (w->status == IPCN_BAD_REQUEST)
        return;
    if (n > SIZE_MAX - w->len) {
        w_fail(w);
        return;
    }
    if (w->status == IPCN_OK && n <= w->cap - w->len) {
        if (n)
            memcpy(w->buf + w->len, p, n);
    } else {
        w->status = IPCN_INSUFFICIENT_STORAGE;
    }
    w->len += n;
}

void ipcn__cbor_w_head(ipcn_cbor_writer *w, unsigned major, uint64_t arg)
{
    uint8_t b[9];
    size_t n;
    major <<= 5;
    if (arg < 24) {
        b[0] = (uint8_t)(major | arg);
        n = 1;
    } else {
        unsigned ai = arg <= 0xff ? 24 : arg <= 0xffff ? 25
                                   : arg <= 0xffffffffull ? 26 : 27;
        size_t k = (size_t)1 << (ai - 24);
        b[0] = (uint8_t)(major | ai);
        for (size_t i = 0; i < k; i++)
            b[1 + i] = (uint8_t)(arg >> (8 * (k - 1 - i)));
        n = 1 + k;
    }
    ipcn__cbor_w_raw(w, b, n);
}

static void reverse(uint8_t *p, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        uint8_t t = p[i];
        p[i] = p[j - 1];
        p[j - 1] = t;
    }
}

/* Move [mid, end) in front of [start, mid); *watch, an offset in either
 * part (or outside both), follows its byte. */
static void rotate(uint8_t *b, size_t start, size_t mid, size_t end,
                   size_t *watch)
{
    reverse(b + start, mid - start);
    reverse(b + mid, end - mid);
    reverse(b + start, end - start);
    if (*watch >= start && *watch < mid)
        *watch += end - mid;
    else if (*watch >= mid && *watch < end)
        *watch -= mid - start;
}

static int sort_map_in_place(uint8_t *b, size_t start, size_t end,
                             size_t *watch);

/* One pair of a map being sorted: offsets from the map's content. */
typedef struct pair_ref {
    size_t off, klen, plen;
} pair_ref;

static int pair_cmp(const uint8_t *b, const pair_ref *x, const pair_ref *y)
{
    return ipcn__cbor_key_cmp(b + x->off, x->klen, b + y->off, y->klen);
}

static void sift_down(const uint8_t *b, pair_ref *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && pair_cmp(b, &a[c + 1], &a[c]) > 0)
            c++;
        if (pair_cmp(b, &a[c], &a[i]) <= 0)
            return;
        pair_ref t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

/* The fast way for big maps: index the pairs, heapsort the index (no
 * recursion, O(k log k)), and write the pairs back in order from a copy.
 * Temporary memory: 24 bytes per pair plus the map's size.  100, 200 on
 * equal keys, or 307 when there is no memory (the caller falls back). */
static int sort_map_indexed(uint8_t *b, size_t start, size_t end, size_t k,
                            size_t *watch)
{
    size_t len = end - start;
    pair_ref *a = k <= SIZE_MAX / sizeof *a ? ipcn__malloc(k * sizeof *a)
                                             : NULL;
    uint8_t *copy = ipcn__malloc(len);
    if (!a || !copy) {
        ipcn__free(a);
        ipcn__free(copy);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    memcpy(copy, b + start, len);
    for (size_t i = 0, p = 0; i < k; i++) {
        size_t kend = ipcn__cbor_item_end(copy, len, p);
        size_t vend = ipcn__cbor_item_end(copy, len, kend);
        a[i] = (pair_ref){p, kend - p, vend - p};
        p = vend;
    }
    for (size_t i = k / 2; i-- > 0;)
        sift_down(copy, a, i, k);
    for (size_t n = k; n-- > 1;) {
        pair_ref t = a[0];
        a[0] = a[n];
        a[n] = t;
        sift_down(copy, a, 0, n);
    }
    int st = IPCN_OK;
    for (size_t i = 1; i < k && st == IPCN_OK; i++)
        if (pair_cmp(copy, &a[i - 1], &a[i]) == 0)
            st = IPCN_BAD_REQUEST;
    if (st == IPCN_OK) {
        size_t w = *watch, pos = start;
        for (size_t i = 0; i < k; i++) {
            memcpy(b + pos, copy + a[i].off, a[i].plen);
            if (w >= start + a[i].off && w < start + a[i].off + a[i].plen)
                *watch = pos + (w - start - a[i].off);
            pos += a[i].plen;
        }
    }
    ipcn__free(a);
    ipcn__free(copy);
    return st;
}

/* Sort the pairs of the complete map whose content is [start, end) of the
 * buffer by their keys' encodings.  Maps of more than 16 pairs that are not
 * in order already are sorted through an index (sort_map_indexed());
 * otherwise, and when there is no memory for that, by insertion and
 * rotation, in place: no memory beyond the buffer, O(k^2) comparisons.
 * Keys in order already cost one comparison each either way.  100, or 200
 * on two equal keys. */
static int sort_map(uint8_t *b, size_t start, size_t end, size_t *watch)
{
    size_t k = 0, p = start;
    int sorted = 1;
    size_t prev = 0, prev_len = 0;
    while (p < end) {
        size_t kend = ipcn__cbor_item_end(b, end, p);
        size_t vend = ipcn__cbor_item_end(b, end, kend);
        if (k) {
            int c = ipcn__cbor_key_cmp(b + prev, prev_len, b + p, kend - p);
            if (c == 0)
                return IPCN_BAD_REQUEST;
            if (c > 0)
                sorted = 0;
        }
        prev = p;
        prev_len = kend - p;
        k++;
        p = vend;
    }
    if (sorted)
        return IPCN_OK;
    if (k > 16) {
        int st = sort_map_indexed(b, start, end, k, watch);
        if (st != IPCN_INSUFFICIENT_MEMORY)
            return st;
    }
    return sort_map_in_place(b, start, end, watch);
}

/* Insertion sort by rotation (see sort_map()). */
static int sort_map_in_place(uint8_t *b, size_t start, size_t end,
                             size_t *watch)
{
    size_t last = end; /* the greatest key so far: [last, last_end) */
    size_t last_end = end;
    size_t p = start;
    while (p < end) {
        size_t kend = ipcn__cbor_item_end(b, end, p);
        size_t vend = ipcn__cbor_item_end(b, end, kend);
        if (last != end) {
            int c = ipcn__cbor_key_cmp(b + last, last_end - last, b + p,
                                       kend - p);
            if (c == 0)
                return IPCN_BAD_REQUEST;
            if (c > 0) { /* find its place among the sorted pairs */
                size_t q = start;
                for (;;) {
                    size_t qk = ipcn__cbor_item_end(b, end, q);
                    c = ipcn__cbor_key_cmp(b + q, qk - q, b + p, kend - p);
                    if (c == 0)
                        return IPCN_BAD_REQUEST;
                    if (c > 0)
                        break;
                    q = ipcn__cbor_item_end(b, end, qk);
                }
                /* the greatest key moves right by the pair's length */
                last += vend - p;
                last_end += vend - p;
                rotate(b, q, p, vend, watch);
                p = vend;
                continue;
            }
        }
        last = p;
        last_end = kend;
        p = vend;
    }
    return IPCN_OK;
}

void ipcn__cbor_w_end_item(ipcn_cbor_writer *w)
{
    while (w->status != IPCN_BAD_REQUEST && w->depth) {
        ipcn__cbor_frame *f = &w->stack[w->depth - 1];
        if (--f->remaining)
            return;
        w->depth--;
        if (f->kind == IPCN__F_MAP && (w->flags & IPCN_CBOR_DETERMINISTIC) &&
            w->status == IPCN_OK &&
            sort_map(w->buf, f->key_start, w->len, &w->watch) != IPCN_OK)
            w_fail(w);
    }
}

/* Open a container (kind) of n items after its head was written. */
static int w_open(ipcn_cbor_writer *w, uint8_t kind, uint64_t n)
{
    if (w->status == IPCN_BAD_REQUEST)
        return w->status;
    if (n == 0) {
        ipcn__cbor_w_end_item(w);
        return w->status;
    }
    if (w->depth >= IPCN_CBOR_MAX_DEPTH)
        return w_fail(w);
    ipcn__cbor_frame *f = &w->stack[w->depth++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->remaining = n;
    f->key_start = w->len;
    return w->status;
}

/* A whole item of one head (and raw content). */
static int w_item(ipcn_cbor_writer *w, unsigned major, uint64_t arg,
                  const void *p, size_t n)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    if (w->status == IPCN_BAD_REQUEST)
        return w->status;
    ipcn__cbor_w_head(w, major, arg);
    ipcn__cbor_w_raw(w, p, n);
    ipcn__cbor_w_end_item(w);
    return w->status;
}

int ipcn_cbor_writer_finish(ipcn_cbor_writer *w, size_t *len)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    if (w->status == IPCN_BAD_REQUEST || w->depth)
        return IPCN_BAD_REQUEST;
    if (len)
        *len = w->len;
    return w->status;
}

int ipcn_cbor_put_uint(ipcn_cbor_writer *w, uint64_t v)
{
    return w_item(w, 0, v, NULL, 0);
}

int ipcn_cbor_put_negint(ipcn_cbor_writer *w, uint64_t n)
{
    return w_item(w, 1, n, NULL, 0);
}

int ipcn_cbor_put_int(ipcn_cbor_writer *w, int64_t v)
{
    if (v >= 0)
        return w_item(w, 0, (uint64_t)v, NULL, 0);
    return w_item(w, 1, (uint64_t)(-1 - v), NULL, 0);
}

int ipcn_cbor_put_bytes(ipcn_cbor_writer *w, const void *p, size_t n)
{
    if (w && !p && n)
        return w_fail(w);
    return w_item(w, 2, n, p, n);
}

int ipcn_cbor_put_bytes_reserve(ipcn_cbor_writer *w, size_t n, uint8_t **out)
{
    if (!w || !out)
        return w ? w_fail(w) : IPCN_BAD_REQUEST;
    *out = NULL;
    if (w->status == IPCN_BAD_REQUEST)
        return w->status;
    if ((w->flags & IPCN_CBOR_DETERMINISTIC) && w->depth &&
        w->stack[w->depth - 1].kind == IPCN__F_MAP &&
        !(w->stack[w->depth - 1].remaining & 1))
        return w_fail(w); /* a key: it would be sorted before it is filled */
    ipcn__cbor_w_head(w, 2, n);
    if (w->status == IPCN_OK && n <= w->cap - w->len) {
        w->watch = w->len;
        w->len += n;
    } else if (w->status != IPCN_BAD_REQUEST) {
        if (n > SIZE_MAX - w->len)
            return w_fail(w);
        w->status = IPCN_INSUFFICIENT_STORAGE;
        w->len += n;
    }
    ipcn__cbor_w_end_item(w); /* may sort maps: watch follows the bytes */
    if (w->status == IPCN_OK && w->watch != SIZE_MAX)
        *out = w->buf + w->watch;
    w->watch = SIZE_MAX;
    return w->status;
}

int ipcn_cbor_put_text(ipcn_cbor_writer *w, const char *s, size_t n)
{
    if (w && ((!s && n) || !ipcn__utf8_valid(s, n)))
        return w_fail(w);
    return w_item(w, 3, n, s, n);
}

int ipcn_cbor_put_cstr(ipcn_cbor_writer *w, const char *s)
{
    if (w && !s)
        return w_fail(w);
    return ipcn_cbor_put_text(w, s, s ? strlen(s) : 0);
}

int ipcn_cbor_put_array(ipcn_cbor_writer *w, uint64_t count)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    if (w->status == IPCN_BAD_REQUEST)
        return w->status;
    ipcn__cbor_w_head(w, 4, count);
    return w_open(w, IPCN__F_ARRAY, count);
}

int ipcn_cbor_put_map(ipcn_cbor_writer *w, uint64_t pairs)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    if (w->status == IPCN_BAD_REQUEST)
        return w->status;
    if (pairs > UINT64_MAX / 2)
        return w_fail(w);
    ipcn__cbor_w_head(w, 5, pairs);
    return w_open(w, IPCN__F_MAP, pairs * 2);
}

int ipcn_cbor_put_tag(ipcn_cbor_writer *w, uint64_t tag)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    if (w->status == IPCN_BAD_REQUEST)
        return w->status;
    ipcn__cbor_w_head(w, 6, tag);
    return w_open(w, IPCN__F_TAG, 1);
}

int ipcn_cbor_put_simple(ipcn_cbor_writer *w, unsigned v)
{
    if (w && (v > 255 || (v >= 24 && v < 32)))
        return w_fail(w);
    return w_item(w, 7, v, NULL, 0);
}

int ipcn_cbor_put_bool(ipcn_cbor_writer *w, int v)
{
    return w_item(w, 7, v ? 21 : 20, NULL, 0);
}

int ipcn_cbor_put_null(ipcn_cbor_writer *w)
{
    return w_item(w, 7, 22, NULL, 0);
}

int ipcn_cbor_put_undefined(ipcn_cbor_writer *w)
{
    return w_item(w, 7, 23, NULL, 0);
}

/* v at a width that holds it exactly (checked by the caller). */
static int put_float_at(ipcn_cbor_writer *w, double v, unsigned bits)
{
    uint8_t b[9];
    size_t n;
    uint64_t x;
    if (bits == 16) {
        uint16_t h = 0;
        ipcn__double_to_half(v, &h);
        b[0] = 0xf9;
        x = h;
        n = 2;
    } else if (bits == 32) {
        uint32_t s = 0;
        ipcn__double_to_single(v, &s);
        b[0] = 0xfa;
        x = s;
        n = 4;
    } else {
        b[0] = 0xfb;
        x = dbits(v);
        n = 8;
    }
    for (size_t i = 0; i < n; i++)
        b[1 + i] = (uint8_t)(x >> (8 * (n - 1 - i)));
    if (!w)
        return IPCN_BAD_REQUEST;
    if (w->status == IPCN_BAD_REQUEST)
        return w->status;
    ipcn__cbor_w_raw(w, b, n + 1);
    ipcn__cbor_w_end_item(w);
    return w->status;
}

int ipcn_cbor_put_float(ipcn_cbor_writer *w, double v)
{
    if (w && (w->flags & IPCN_CBOR_DETERMINISTIC) && isnan(v))
        return put_float_at(w, bitsd(0x7ff8000000000000ull), 16);
    return put_float_at(w, v, ipcn__float_width(v));
}

int ipcn_cbor_put_float_bits(ipcn_cbor_writer *w, double v, unsigned bits)
{
    if (w && (w->flags & IPCN_CBOR_DETERMINISTIC))
        return ipcn_cbor_put_float(w, v);
    uint16_t h;
    uint32_t s;
    if (w && !(bits == 64 || (bits == 32 && ipcn__double_to_single(v, &s)) ||
               (bits == 16 && ipcn__double_to_half(v, &h))))
        return w_fail(w);
    return put_float_at(w, v, bits);
}

int ipcn_cbor_put_encoded(ipcn_cbor_writer *w, const void *item, size_t n)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    if (w->status == IPCN_BAD_REQUEST)
        return w->status;
    if (ipcn_cbor_check(item, n, w->flags & IPCN_CBOR_DETERMINISTIC) !=
        IPCN_OK)
        return w_fail(w);
    ipcn__cbor_w_raw(w, item, n);
    ipcn__cbor_w_end_item(w);
    return w->status;
}

/* ------------------------------------------------------------------ */
/* Canonical re-encoding                                               */
/* ------------------------------------------------------------------ */

/* The number of items of the indefinite container r has just opened
 * (pairs for a map), counted on a fork of the reader. */
static int count_indefinite(const ipcn_cbor_reader *r, int is_map,
                            uint64_t *count)
{
    ipcn_cbor_reader c;
    ipcn__cbor_reader_fork(r, &c);
    uint32_t depth = c.depth;
    uint64_t n = 0;
    for (;;) {
        ipcn_cbor_value v;
        int st = ipcn_cbor_skip(&c, &v);
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
        if (v.type == IPCN_CBOR_BREAK && c.depth < depth)
            break;
        n++;
    }
    *count = is_map ? n / 2 : n;
    return IPCN_OK;
}

/* The total length of the indefinite string r has just opened. */
static int string_total(const ipcn_cbor_reader *r, size_t *total)
{
    ipcn_cbor_reader c;
    ipcn__cbor_reader_fork(r, &c);
    size_t n = 0;
    for (;;) {
        ipcn_cbor_value v;
        if (ipcn_cbor_next(&c, &v) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        if (v.type == IPCN_CBOR_BREAK)
            break;
        n += v.len; /* within the buffer: cannot overflow */
    }
    *total = n;
    return IPCN_OK;
}

int ipcn_cbor_canonicalize(const void *in, size_t n, void *out, size_t cap,
                           size_t *len)
{
    ipcn_cbor_reader r;
    ipcn_cbor_writer w;
    if (ipcn_cbor_reader_init(&r, in, n, 0) != IPCN_OK ||
        ipcn_cbor_writer_init(&w, out, cap, IPCN_CBOR_DETERMINISTIC) !=
            IPCN_OK)
        return IPCN_BAD_REQUEST;
    int st;
    for (;;) {
        int in_string = ipcn__cbor_reader_top(&r) == IPCN__F_STRING_INDEF;
        ipcn_cbor_value v;
        st = ipcn_cbor_next(&r, &v);
        if (st != IPCN_OK)
            break;
        uint64_t count;
        size_t total;
        switch (v.type) {
        case IPCN_CBOR_UINT:
            ipcn_cbor_put_uint(&w, v.u);
            break;
        case IPCN_CBOR_NEGINT:
            ipcn_cbor_put_negint(&w, v.u);
            break;
        case IPCN_CBOR_BYTES:
        case IPCN_CBOR_TEXT:
            if (in_string) {
                ipcn__cbor_w_raw(&w, v.ptr, v.len); /* a chunk */
            } else if (v.indefinite) {
                if (string_total(&r, &total) != IPCN_OK)
                    return IPCN_BAD_REQUEST;
                ipcn__cbor_w_head(&w, (unsigned)v.type, total);
            } else {
                ipcn__cbor_w_head(&w, (unsigned)v.type, v.len);
                ipcn__cbor_w_raw(&w, v.ptr, v.len);
                ipcn__cbor_w_end_item(&w);
            }
            break;
        case IPCN_CBOR_ARRAY:
        case IPCN_CBOR_MAP:
            count = v.count;
            if (v.indefinite &&
                count_indefinite(&r, v.type == IPCN_CBOR_MAP, &count) !=
                    IPCN_OK)
                return IPCN_BAD_REQUEST;
            if (v.type == IPCN_CBOR_ARRAY)
                ipcn_cbor_put_array(&w, count);
            else
                ipcn_cbor_put_map(&w, count);
            break;
        case IPCN_CBOR_TAG:
            ipcn_cbor_put_tag(&w, v.u);
            break;
        case IPCN_CBOR_SIMPLE:
        case IPCN_CBOR_BOOL:
            ipcn_cbor_put_simple(&w, v.type == IPCN_CBOR_BOOL
                                         ? 20 + (unsigned)v.u
                                         : (unsigned)v.u);
            break;
        case IPCN_CBOR_NULL:
            ipcn_cbor_put_null(&w);
            break;
        case IPCN_CBOR_UNDEFINED:
            ipcn_cbor_put_undefined(&w);
            break;
        case IPCN_CBOR_FLOAT:
            ipcn_cbor_put_float(&w, v.f);
            break;
        case IPCN_CBOR_BREAK:
            if (in_string)
                ipcn__cbor_w_end_item(&w);
            /* an indefinite array or map ended by count in the writer */
            break;
        }
        if (w.status == IPCN_BAD_REQUEST)
            return IPCN_BAD_REQUEST;
    }
    if (st != IPCN_NO_DATA)
        return st;
    return ipcn_cbor_writer_finish(&w, len);
}
