/* SPDX-License-Identifier: MIT */
/*
 * json_write.c — ipcn_cbor_to_json(): one CBOR item as JSON text, for
 * people and for JSON tools (the mapping is documented in ipcnet_value.h).
 * A reader walks the input once, without a tree and without allocating;
 * the text goes into the caller's buffer, and past its end only counted,
 * so that the size needed can be reported.
 *
 * Map keys must be strings in JSON.  A key that is an array, a map or a
 * tag around one is written as its own JSON text inside a string; inside
 * such a key, a further key of that kind is written as the hex of its
 * encoding.  Escaping thus nests at most twice, and the output stays
 * linear in the input (a key within a key within a key... would double
 * the backslashes at every level).
 */
#include <stdio.h>
#include <string.h>

#include "util/util.h"
#include "value/value.h"

typedef struct jo {
    char *buf;
    size_t cap, len; /* len counts on past cap */
    int pretty;
    int esc;         /* inside a key written as a string: escape it all */
    uint32_t flags;
} jo;

static void put_raw(jo *o, const char *s, size_t n)
{
    if (o->len < o->cap) {
        size_t k = o->cap - o->len < n ? o->cap - o->len : n;
        memcpy(o->buf + o->len, s, k);
    }
    o->len += n;
}

/* s[0..n) as JSON string content (without the quotes). */
static void put_escaped_raw(jo *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        put_raw(o, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t k = 2;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\t': e[1] = 't'; break;
        case '\r': e[1] = 'r'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            k = 6;
        }
        put_raw(o, e, k);
    }
    put_raw(o, s + run, n - run);
}

/* Text of the JSON being written: escaped once more inside a key. */
static void put(jo *o, const char *s, size_t n)
{
    if (o->esc)
        put_escaped_raw(o, s, n);
    else
        put_raw(o, s, n);
}

static void puts_(jo *o, const char *s) { put(o, s, strlen(s)); }

/* String content: escaped as JSON, and again inside a key. */
static void put_content(jo *o, const char *s, size_t n)
{
    if (!o->esc) {
        put_escaped_raw(o, s, n);
        return;
    }
    jo tmp = *o; /* escape into a small buffer, then escape that */
    char b[64];
    for (size_t i = 0; i < n; i += 8) {
        size_t k = n - i < 8 ? n - i : 8; /* 8 bytes -> at most 48 */
        tmp.buf = b, tmp.cap = sizeof b, tmp.len = 0, tmp.esc = 0;
        put_escaped_raw(&tmp, s + i, k);
        put_escaped_raw(o, b, tmp.len);
    }
}

static void newline(jo *o, unsigned level)
{
    if (!o->pretty)
        return;
    put(o, "\n", 1);
    for (unsigned i = 0; i < level; i++)
        put(o, "  ", 2);
}

static void put_hex(jo *o, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char b[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        b[k++] = hex[p[i] >> 4];
        b[k++] = hex[p[i] & 15];
        if (k == sizeof b) {
            put(o, b, k);
            k = 0;
        }
    }
    put(o, b, k);
}

static void put_uint(jo *o, uint64_t u, int neg)
{
    char s[32];
    int k;
    if (!neg)
        k = snprintf(s, sizeof s, "%llu", (unsigned long long)u);
    else if (u < UINT64_MAX)
        k = snprintf(s, sizeof s, "-%llu", (unsigned long long)u + 1);
    else
        k = snprintf(s, sizeof s, "-18446744073709551616");
    put(o, s, (size_t)k);
}

static void put_double(jo *o, double d)
{
    char s[IPCN__JSON_DTOA_MAX];
    put(o, s, ipcn__json_dtoa(d, s));
}

/* A scalar item already read (not a string, array, map or tag). */
static void put_scalar(jo *o, const ipcn_cbor_value *v)
{
    switch (v->type) {
    case IPCN_CBOR_UINT: put_uint(o, v->u, 0); return;
    case IPCN_CBOR_NEGINT: put_uint(o, v->u, 1); return;
    case IPCN_CBOR_FLOAT: put_double(o, v->f); return;
    case IPCN_CBOR_BOOL: puts_(o, v->u ? "true" : "false"); return;
    default: puts_(o, "null"); return; /* null, undefined, simple */
    }
}

/* The text or byte string at r (its head not read yet), definite or in
 * chunks: text as a JSON string, bytes as "h'hex'". */
static void put_string(jo *o, ipcn_cbor_reader *r)
{
    ipcn_cbor_value v;
    ipcn_cbor_next(r, &v);
    int text = v.type == IPCN_CBOR_TEXT;
    put(o, text ? "\"" : "\"h'", text ? 1 : 3);
    if (!v.indefinite) {
        if (text)
            put_content(o, (const char *)v.ptr, v.len);
        else
            put_hex(o, v.ptr, v.len);
    } else {
        ipcn_cbor_value c;
        while (ipcn_cbor_next(r, &c) == IPCN_OK && c.type != IPCN_CBOR_BREAK) {
            if (text)
                put_content(o, (const char *)c.ptr, c.len);
            else
                put_hex(o, c.ptr, c.len);
        }
    }
    put(o, text ? "\"" : "'\"", text ? 1 : 2);
}

/* Element i (row-major order) of a tensor. */
static void put_element(jo *o, const ipcn_tensor *t, uint64_t i)
{
    int64_t off = 0;
    for (uint32_t k = t->ndim; k-- > 0;) {
        uint64_t dim = (uint64_t)t->shape[k];
        off += (int64_t)(i % dim) * t->strides[k];
        i /= dim;
    }
    size_t es = ipcn_dtype_size(t->dtype);
    uint8_t b[8];
    memcpy(b, (const uint8_t *)t->data + off * (int64_t)es, es);
    if (es > 1 && t->order != IPCN_ORDER_NATIVE)
        for (size_t a = 0, z = es - 1; a < z; a++, z--) {
            uint8_t x = b[a];
            b[a] = b[z];
            b[z] = x;
        }
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32;
            int32_t i32; uint64_t u64; int64_t i64; double f64; } x;
    memcpy(&x, b, es);
    switch (t->dtype) {
    case IPCN_DTYPE_BOOL: puts_(o, x.u8 ? "true" : "false"); return;
    case IPCN_DTYPE_INT8: put_uint(o, x.i8 < 0 ? (uint64_t)(-1 - x.i8) : (uint64_t)x.i8, x.i8 < 0); return;
    case IPCN_DTYPE_INT16: put_uint(o, x.i16 < 0 ? (uint64_t)(-1 - x.i16) : (uint64_t)x.i16, x.i16 < 0); return;
    case IPCN_DTYPE_INT32: put_uint(o, x.i32 < 0 ? (uint64_t)(-1 - (int64_t)x.i32) : (uint64_t)x.i32, x.i32 < 0); return;
    case IPCN_DTYPE_INT64: put_uint(o, x.i64 < 0 ? (uint64_t)(-1 - x.i64) : (uint64_t)x.i64, x.i64 < 0); return;
    case IPCN_DTYPE_UINT8: put_uint(o, x.u8, 0); return;
    case IPCN_DTYPE_UINT16: put_uint(o, x.u16, 0); return;
    case IPCN_DTYPE_UINT32: put_uint(o, x.u32, 0); return;
    case IPCN_DTYPE_UINT64: put_uint(o, x.u64, 0); return;
    case IPCN_DTYPE_FLOAT16: put_double(o, ipcn__half_to_double(x.u16)); return;
    case IPCN_DTYPE_BFLOAT16: put_double(o, ipcn__single_bits_to_double((uint32_t)x.u16 << 16)); return;
    case IPCN_DTYPE_FLOAT32: put_double(o, ipcn__single_bits_to_double(x.u32)); return;
    case IPCN_DTYPE_FLOAT64: put_double(o, x.f64); return;
    default: puts_(o, "null"); return;
    }
}

/* {"dtype": ..., "shape": [...], "numel": N, "values": [...]} */
static void put_tensor(jo *o, const ipcn_tensor *t, unsigned level)
{
    const char *colon = o->pretty ? ": " : ":";
    put(o, "{", 1);
    newline(o, level + 1);
    puts_(o, "\"dtype\"");
    puts_(o, colon);
    put(o, "\"", 1);
    puts_(o, ipcn_dtype_name(t->dtype));
    put(o, "\",", 2);
    newline(o, level + 1);
    puts_(o, "\"shape\"");
    puts_(o, colon);
    put(o, "[", 1);
    for (uint32_t k = 0; k < t->ndim; k++) {
        if (k)
            put(o, ",", 1);
        newline(o, level + 2);
        put_uint(o, (uint64_t)t->shape[k], 0);
    }
    if (t->ndim)
        newline(o, level + 1);
    put(o, "],", 2);
    newline(o, level + 1);
    uint64_t numel = ipcn_tensor_numel(t);
    puts_(o, "\"numel\"");
    puts_(o, colon);
    put_uint(o, numel, 0);
    put(o, ",", 1);
    newline(o, level + 1);
    puts_(o, "\"values\"");
    puts_(o, colon);
    put(o, "[", 1);
    uint64_t shown = numel;
    if ((o->flags & IPCN_JSON_TENSOR_HEAD) && shown > IPCN_JSON_TENSOR_HEAD_MAX)
        shown = IPCN_JSON_TENSOR_HEAD_MAX;
    for (uint64_t i = 0; i < shown; i++) {
        if (i)
            put(o, ",", 1);
        newline(o, level + 2);
        put_element(o, t, i);
    }
    if (shown)
        newline(o, level + 1);
    put(o, "]", 1);
    newline(o, level);
    put(o, "}", 1);
}

typedef struct frame {
    uint64_t left; /* items left (definite) */
    uint64_t idx;  /* items seen */
    uint8_t map, indef;
} frame;

static void render(jo *o, ipcn_cbor_reader *r, unsigned level, int in_key);

/* A map key at r: JSON wants a string. */
static void put_key(jo *o, ipcn_cbor_reader *r, int in_key)
{
    ipcn_cbor_value k;
    ipcn_cbor_peek(r, &k);
    while (k.type == IPCN_CBOR_TAG) { /* tags dropped, as for values */
        ipcn_cbor_reader c = *r;
        ipcn_tensor t;
        if ((k.u == IPCN_CBOR_TAG_NDARRAY ||
             k.u == IPCN_CBOR_TAG_NDARRAY_COLMAJOR) &&
            ipcn_tensor_read(&c, &t) == IPCN_OK)
            break; /* a tensor: a container, below */
        ipcn_cbor_next(r, &k);
        ipcn_cbor_peek(r, &k);
    }
    if (k.type == IPCN_CBOR_TEXT || k.type == IPCN_CBOR_BYTES) {
        put_string(o, r);
    } else if (k.type == IPCN_CBOR_ARRAY || k.type == IPCN_CBOR_MAP ||
               k.type == IPCN_CBOR_TAG) {
        if (in_key) { /* a key within a key: the hex of its encoding */
            size_t from = k.offset;
            ipcn_cbor_skip(r, NULL);
            put(o, "\"h'", 3);
            put_hex(o, r->buf + from, ipcn_cbor_reader_offset(r) - from);
            put(o, "'\"", 2);
            return;
        }
        int pretty = o->pretty;
        put(o, "\"", 1);
        o->pretty = 0;
        o->esc = 1;
        render(o, r, 0, 1);
        o->esc = 0;
        o->pretty = pretty;
        put(o, "\"", 1);
    } else {
        ipcn_cbor_next(r, &k);
        put(o, "\"", 1);
        put_scalar(o, &k);
        put(o, "\"", 1);
    }
}

/* One whole item at r (checked input), iteratively. */
static void render(jo *o, ipcn_cbor_reader *r, unsigned level, int in_key)
{
    frame st[IPCN_CBOR_MAX_DEPTH + 1];
    unsigned depth = 0;
    for (;;) {
        if (depth) {
            frame *f = &st[depth - 1];
            int end;
            if (f->indef) {
                ipcn_cbor_value b;
                ipcn_cbor_peek(r, &b);
                end = b.type == IPCN_CBOR_BREAK;
                if (end)
                    ipcn_cbor_next(r, &b);
            } else {
                end = f->left == 0;
            }
            if (end) {
                if (f->idx)
                    newline(o, level + depth - 1);
                put(o, f->map ? "}" : "]", 1);
                if (--depth == 0)
                    return;
                continue;
            }
            if (!f->map || !(f->idx & 1)) {
                if (f->idx)
                    put(o, ",", 1);
                newline(o, level + depth);
            }
            if (!f->indef)
                f->left--;
            if (f->map && !(f->idx++ & 1)) {
                put_key(o, r, in_key);
                puts_(o, o->pretty ? ": " : ":");
                continue;
            }
            if (!f->map)
                f->idx++;
        }
        ipcn_cbor_value v;
        ipcn_cbor_peek(r, &v);
        while (v.type == IPCN_CBOR_TAG) {
            ipcn_cbor_reader c = *r;
            ipcn_tensor t;
            if ((v.u == IPCN_CBOR_TAG_NDARRAY ||
                 v.u == IPCN_CBOR_TAG_NDARRAY_COLMAJOR) &&
                ipcn_tensor_read(&c, &t) == IPCN_OK) {
                put_tensor(o, &t, level + depth);
                *r = c;
                break;
            }
            ipcn_cbor_next(r, &v); /* other tags: their content */
            ipcn_cbor_peek(r, &v);
        }
        if (v.type == IPCN_CBOR_TAG) {
            /* the tensor was written */
        } else if (v.type == IPCN_CBOR_TEXT || v.type == IPCN_CBOR_BYTES) {
            put_string(o, r);
        } else if (v.type == IPCN_CBOR_ARRAY || v.type == IPCN_CBOR_MAP) {
            ipcn_cbor_next(r, &v);
            int map = v.type == IPCN_CBOR_MAP;
            put(o, map ? "{" : "[", 1);
            frame *f = &st[depth++]; /* depth <= IPCN_CBOR_MAX_DEPTH */
            f->map = (uint8_t)map;
            f->indef = v.indefinite;
            f->left = map ? v.count * 2 : v.count;
            f->idx = 0;
            continue;
        } else {
            ipcn_cbor_next(r, &v);
            put_scalar(o, &v);
        }
        if (!depth)
            return;
    }
}

int ipcn_cbor_to_json(const void *cbor, size_t n, uint32_t flags, char *out,
                      size_t cap, size_t *len)
{
    if ((!cbor && n) || (!out && cap) ||
        (flags & ~(IPCN_JSON_PRETTY | IPCN_JSON_TENSOR_HEAD)) ||
        ipcn_cbor_check(cbor, n, 0) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    jo o = {out, out ? cap : 0, 0, (flags & IPCN_JSON_PRETTY) != 0, 0, flags};
    ipcn_cbor_reader r;
    ipcn_cbor_reader_init(&r, cbor, n, 0);
    render(&o, &r, 0, 0);
    if (len)
        *len = o.len;
    if (!out)
        return IPCN_OK;
    if (o.len >= cap)
        return IPCN_INSUFFICIENT_STORAGE;
    out[o.len] = 0;
    return IPCN_OK;
}
