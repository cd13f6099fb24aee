/* SPDX-License-Identifier: MIT */
/*
 * cbor_get.c — read one value out of an encoded CBOR item by its path
 * ("pose.position.x", "joints[2]") and convert it: the getters of
 * ipcnet_value.h.  No allocation and no tree: the input is checked whole
 * (ipcn_cbor_check(), linear), then walked once with a reader to the item
 * the path names, skipping what lies before it.
 */
#include <math.h> /* isfinite(), a macro: no libm */
#include <string.h>

#include "util/util.h"
#include "value/value.h"

/* One step of a path: a key (a view of the path, escapes still in it) or
 * an index. */
typedef struct step {
    int is_index;
    uint64_t index;
    const char *key;
    size_t keylen; /* bytes of the path, escapes included */
} step;

/* The step at path[*pos]; *pos moves past it.  first: the path's first
 * step (no '.' before a key).  100, 103 at the end, 200 when malformed. */
static int next_step(const char *path, size_t *pos, int first, step *s)
{
    const char *p = path + *pos;
    if (!*p)
        return IPCN_NO_DATA;
    memset(s, 0, sizeof *s);
    if (*p == '[') {
        p++;
        if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
            return IPCN_BAD_REQUEST;
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (v > (UINT64_MAX - d) / 10)
                return IPCN_BAD_REQUEST;
            v = v * 10 + d;
            p++;
        }
        if (*p != ']')
            return IPCN_BAD_REQUEST;
        s->is_index = 1;
        s->index = v;
        *pos = (size_t)(p + 1 - path);
        return IPCN_OK;
    }
    if (!first) {
        if (*p != '.')
            return IPCN_BAD_REQUEST;
        p++;
    }
    const char *k = p;
    while (*p && *p != '.' && *p != '[') {
        if (*p == '\\') {
            if (p[1] != '.' && p[1] != '[' && p[1] != '\\')
                return IPCN_BAD_REQUEST;
            p++;
        }
        p++;
    }
    if (p == k)
        return IPCN_BAD_REQUEST; /* an empty key: "a..b", ".a", "a." */
    s->key = k;
    s->keylen = (size_t)(p - k);
    *pos = (size_t)(p - path);
    return IPCN_OK;
}

/* Is the whole path well-formed?  100 or 200. */
static int path_check(const char *path)
{
    size_t pos = 0;
    step s;
    int st;
    for (int first = 1; (st = next_step(path, &pos, first, &s)) == IPCN_OK;
         first = 0)
        ;
    return st == IPCN_NO_DATA ? IPCN_OK : st;
}

/* Compare a key's bytes, piece by piece, with a step's key: *at is how far
 * into the step's (escaped) key the comparison has come, or SIZE_MAX once
 * it differs. */
static void key_part(const step *s, size_t *at, const uint8_t *b, size_t n)
{
    size_t i = *at;
    for (size_t j = 0; j < n && i != SIZE_MAX; j++) {
        if (i >= s->keylen) {
            i = SIZE_MAX;
            break;
        }
        if (s->key[i] == '\\')
            i++;
        if ((uint8_t)s->key[i] != b[j])
            i = SIZE_MAX;
        else
            i++;
    }
    *at = i;
}

/* Read the key at r (checked input) and say whether it is the text s->key.
 * 1 or 0; the key is consumed. */
static int key_matches(ipcn_cbor_reader *r, const step *s)
{
    ipcn_cbor_value k;
    ipcn_cbor_peek(r, &k);
    if (k.type != IPCN_CBOR_TEXT) {
        ipcn_cbor_skip(r, NULL);
        return 0;
    }
    ipcn_cbor_next(r, &k);
    size_t at = 0;
    if (!k.indefinite) {
        key_part(s, &at, k.ptr, k.len);
    } else {
        ipcn_cbor_value c;
        while (ipcn_cbor_next(r, &c) == IPCN_OK && c.type != IPCN_CBOR_BREAK)
            key_part(s, &at, c.ptr, c.len);
    }
    return at == s->keylen;
}

/* Walk r (at the head of a container, not yet read) into the item that
 * step s names: 100 with r before that item; 203 when there is none; 200
 * when the container is not of the kind s needs. */
static int enter(ipcn_cbor_reader *r, const step *s)
{
    ipcn_cbor_value v;
    ipcn_cbor_peek(r, &v);
    if (v.type != (s->is_index ? IPCN_CBOR_ARRAY : IPCN_CBOR_MAP))
        return IPCN_BAD_REQUEST;
    ipcn_cbor_next(r, &v);
    for (uint64_t i = 0; v.indefinite || i < v.count; i++) {
        ipcn_cbor_value nx;
        ipcn_cbor_peek(r, &nx);
        if (nx.type == IPCN_CBOR_BREAK)
            break;
        if (s->is_index) {
            if (i == s->index)
                return IPCN_OK;
            ipcn_cbor_skip(r, NULL);
        } else {
            if (key_matches(r, s))
                return IPCN_OK; /* the first pair with that key */
            ipcn_cbor_skip(r, NULL);
        }
    }
    return IPCN_NOT_FOUND;
}

/* Position r before the item path names in buf[0..len), *v its head.
 * 100; 200 (NULL arguments, input that is not one well-formed item, a
 * malformed path, a step into something that is not a map or an array);
 * 203 (a key or an index that is not there). */
static int locate(const void *buf, size_t len, const char *path,
                  ipcn_cbor_reader *r, ipcn_cbor_value *v)
{
    if ((!buf && len) || !path || path_check(path) != IPCN_OK ||
        ipcn_cbor_check(buf, len, 0) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_reader_init(r, buf, len, 0);
    size_t pos = 0;
    step s;
    for (int first = 1; next_step(path, &pos, first, &s) == IPCN_OK;
         first = 0) {
        int st = enter(r, &s);
        if (st != IPCN_OK)
            return st;
    }
    return ipcn_cbor_peek(r, v);
}

int ipcn_cbor_map_get(const void *buf, size_t len, const char *path,
                      const uint8_t **item, size_t *item_len)
{
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    int st = locate(buf, len, path, &r, &v);
    if (st != IPCN_OK)
        return st;
    ipcn_cbor_skip(&r, NULL);
    if (item)
        *item = (const uint8_t *)buf + v.offset;
    if (item_len)
        *item_len = ipcn_cbor_reader_offset(&r) - v.offset;
    return IPCN_OK;
}

int ipcn_cbor_map_get_double(const void *buf, size_t len, const char *path,
                             double *out)
{
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    int st = locate(buf, len, path, &r, &v);
    if (st != IPCN_OK)
        return st;
    double d;
    if (v.type == IPCN_CBOR_FLOAT)
        d = v.f;
    else if (v.type == IPCN_CBOR_UINT)
        d = (double)v.u;
    else if (v.type == IPCN_CBOR_NEGINT)
        d = -(double)v.u - 1.0;
    else
        return IPCN_BAD_REQUEST;
    if (out)
        *out = d;
    return IPCN_OK;
}

/* A float with an integer value as a sign and a magnitude: 100; 200 for a
 * fraction or NaN; 306 beyond 2^64 (infinities included). */
static int float_integer(double f, int *neg, uint64_t *mag)
{
    if (f != f)
        return IPCN_BAD_REQUEST;
    if (!isfinite(f) || f >= 18446744073709551616.0 ||
        f <= -18446744073709551616.0)
        return IPCN_INSUFFICIENT_STORAGE;
    *neg = f < 0;
    double a = *neg ? -f : f;
    uint64_t m = (uint64_t)a; /* a < 2^64: defined */
    if ((double)m != a)
        return IPCN_BAD_REQUEST;
    *mag = m;
    return IPCN_OK;
}

int ipcn_cbor_map_get_int(const void *buf, size_t len, const char *path,
                          int64_t *out)
{
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    int st = locate(buf, len, path, &r, &v);
    if (st != IPCN_OK)
        return st;
    int64_t x;
    if (v.type == IPCN_CBOR_UINT) {
        if (v.u > (uint64_t)INT64_MAX)
            return IPCN_INSUFFICIENT_STORAGE;
        x = (int64_t)v.u;
    } else if (v.type == IPCN_CBOR_NEGINT) {
        if (v.u > (uint64_t)INT64_MAX)
            return IPCN_INSUFFICIENT_STORAGE;
        x = -1 - (int64_t)v.u;
    } else if (v.type == IPCN_CBOR_FLOAT) {
        int neg;
        uint64_t mag;
        if ((st = float_integer(v.f, &neg, &mag)) != IPCN_OK)
            return st;
        if (mag > (uint64_t)INT64_MAX + (uint64_t)neg)
            return IPCN_INSUFFICIENT_STORAGE;
        x = neg ? -(int64_t)(mag - 1) - 1 : (int64_t)mag; /* mag >= 1 when neg */
    } else {
        return IPCN_BAD_REQUEST;
    }
    if (out)
        *out = x;
    return IPCN_OK;
}

int ipcn_cbor_map_get_uint(const void *buf, size_t len, const char *path,
                           uint64_t *out)
{
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    int st = locate(buf, len, path, &r, &v);
    if (st != IPCN_OK)
        return st;
    uint64_t x;
    if (v.type == IPCN_CBOR_UINT) {
        x = v.u;
    } else if (v.type == IPCN_CBOR_NEGINT) {
        return IPCN_INSUFFICIENT_STORAGE;
    } else if (v.type == IPCN_CBOR_FLOAT) {
        int neg;
        if ((st = float_integer(v.f, &neg, &x)) != IPCN_OK)
            return st;
        if (neg && x)
            return IPCN_INSUFFICIENT_STORAGE;
    } else {
        return IPCN_BAD_REQUEST;
    }
    if (out)
        *out = x;
    return IPCN_OK;
}

int ipcn_cbor_map_get_bool(const void *buf, size_t len, const char *path,
                           int *out)
{
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    int st = locate(buf, len, path, &r, &v);
    if (st != IPCN_OK)
        return st;
    if (v.type != IPCN_CBOR_BOOL)
        return IPCN_BAD_REQUEST;
    if (out)
        *out = v.u ? 1 : 0;
    return IPCN_OK;
}

/* A definite string of type t: its view.  301 for an indefinite one. */
static int get_string(const void *buf, size_t len, const char *path,
                      ipcn_cbor_type t, const uint8_t **p, size_t *n)
{
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    int st = locate(buf, len, path, &r, &v);
    if (st != IPCN_OK)
        return st;
    if (v.type != t)
        return IPCN_BAD_REQUEST;
    if (v.indefinite)
        return IPCN_NOT_IMPLEMENTED;
    if (p)
        *p = v.ptr;
    if (n)
        *n = v.len;
    return IPCN_OK;
}

int ipcn_cbor_map_get_text(const void *buf, size_t len, const char *path,
                           const char **s, size_t *n)
{
    const uint8_t *p = NULL;
    int st = get_string(buf, len, path, IPCN_CBOR_TEXT, &p, n);
    if (st == IPCN_OK && s)
        *s = (const char *)p;
    return st;
}

int ipcn_cbor_map_get_bytes(const void *buf, size_t len, const char *path,
                            const uint8_t **p, size_t *n)
{
    return get_string(buf, len, path, IPCN_CBOR_BYTES, p, n);
}

int ipcn_cbor_map_get_cstr(const void *buf, size_t len, const char *path,
                           char *dst, size_t cap, size_t *n)
{
    if (!dst && cap)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    int st = locate(buf, len, path, &r, &v);
    if (st != IPCN_OK)
        return st;
    if (v.type != IPCN_CBOR_TEXT)
        return IPCN_BAD_REQUEST;
    /* The length first (the chunks of an indefinite string summed), so
     * that nothing is written when it does not fit. */
    size_t total = v.len;
    if (v.indefinite) {
        ipcn_cbor_reader c = r;
        ipcn_cbor_value ch;
        ipcn_cbor_next(&c, &ch);
        while (ipcn_cbor_next(&c, &ch) == IPCN_OK &&
               ch.type != IPCN_CBOR_BREAK)
            total += ch.len; /* <= len: no overflow */
    }
    if (n)
        *n = total;
    if (total >= cap)
        return IPCN_INSUFFICIENT_STORAGE;
    if (!v.indefinite) {
        if (total)
            memcpy(dst, v.ptr, total);
    } else {
        ipcn_cbor_value ch;
        size_t at = 0;
        ipcn_cbor_next(&r, &ch);
        while (ipcn_cbor_next(&r, &ch) == IPCN_OK &&
               ch.type != IPCN_CBOR_BREAK) {
            if (ch.len)
                memcpy(dst + at, ch.ptr, ch.len);
            at += ch.len;
        }
    }
    dst[total] = 0;
    return IPCN_OK;
}

int ipcn_cbor_map_get_doubles(const void *buf, size_t len, const char *path,
                              double *out, size_t cap, size_t *n)
{
    if (!out && cap)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    int st = locate(buf, len, path, &r, &v);
    if (st != IPCN_OK)
        return st;
    if (v.type != IPCN_CBOR_ARRAY)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_next(&r, &v);
    /* Check every element before writing any, and count them. */
    ipcn_cbor_reader c = r;
    size_t count = 0;
    ipcn_cbor_value e;
    for (uint64_t i = 0; v.indefinite || i < v.count; i++) {
        ipcn_cbor_skip(&c, &e);
        if (e.type == IPCN_CBOR_BREAK)
            break;
        if (e.type != IPCN_CBOR_UINT && e.type != IPCN_CBOR_NEGINT &&
            e.type != IPCN_CBOR_FLOAT)
            return IPCN_BAD_REQUEST;
        count++;
    }
    if (n)
        *n = count;
    if (count > cap)
        return IPCN_INSUFFICIENT_STORAGE;
    for (size_t i = 0; i < count; i++) {
        ipcn_cbor_next(&r, &e);
        out[i] = e.type == IPCN_CBOR_FLOAT ? e.f
                 : e.type == IPCN_CBOR_UINT ? (double)e.u
                                            : -(double)e.u - 1.0;
    }
    return IPCN_OK;
}
