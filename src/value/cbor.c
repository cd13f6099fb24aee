/* SPDX-License-Identifier: MIT */
/*
 * cbor.c — the CBOR (RFC 8949) reader: a cursor over a buffer that
 * allocates nothing and copies nothing; and the float conversions.  The
 * writer is in cbor_write.c, the tree in cbor_tree.c.
 *
 * Why our own codec rather than Debian's libcbor (libcbor-dev), as the
 * issue asks us to say: libcbor's decoder builds a tree of separately
 * allocated items (cbor_load: one malloc per item, strings copied), so a
 * hostile peer decides how many allocations a node makes, and a 16 MiB
 * tensor would be copied out of the message to be read.  Its streaming
 * decoder (cbor_stream_decode) does not allocate but leaves nesting,
 * break placement, UTF-8 and depth to the caller, and nothing in libcbor
 * checks RFC 8949 §4.2 deterministic encoding (shortest heads and floats,
 * sorted unique keys) or produces it into a fixed buffer.  IPCNet needs
 * exactly those three things — a zero-copy, allocation-free, strict cursor
 * for hostile input; an encoder that writes a payload once into a message
 * buffer; a deterministic checker and encoder — in about a thousand lines
 * that are fuzzed with the rest of the wire code (tests/fuzz/fuzz_cbor.c).
 * libcbor stays the reference in tests/value/ (benchmark and cross-check),
 * not a dependency of the library.
 */
#include <math.h> /* isnan(), a macro: no libm */
#include <string.h>

#include "util/util.h"
#include "value/value.h"

#define CBOR_KNOWN_READER_FLAGS (IPCN_CBOR_DETERMINISTIC | IPCN_CBOR_SEQUENCE)

/* ------------------------------------------------------------------ */
/* Floats                                                              */
/* ------------------------------------------------------------------ */

static uint64_t dbits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double bitsd(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

double ipcn__half_to_double(uint16_t h)
{
    unsigned exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    uint64_t sign = (uint64_t)(h >> 15) << 63;
    if (exp == 31) /* infinity or NaN: keep the payload, bit for bit */
        return bitsd(sign | 0x7ff0000000000000ull | (uint64_t)mant << 42);
    if (exp == 0) { /* zero or subnormal: mant * 2^-24, exact */
        double v = (double)mant * (1.0 / 16777216.0);
        return sign ? -v : v;
    }
    return bitsd(sign | (uint64_t)(exp - 15 + 1023) << 52 |
                 (uint64_t)mant << 42);
}

double ipcn__single_bits_to_double(uint32_t b)
{
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) /* NaN */
        return bitsd((uint64_t)(b >> 31) << 63 | 0x7ff0000000000000ull |
                     (uint64_t)(b & 0x7fffffu) << 29);
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* By bits, so that no libm is needed (the library does not link it). */
int ipcn__double_to_half(double v, uint16_t *out)
{
    uint64_t b = dbits(v), m = b & 0xfffffffffffffull;
    uint16_t sign = (uint16_t)(b >> 63 << 15);
    int e = (int)(b >> 52 & 0x7ff);
    if (e == 0x7ff) { /* infinity, or a NaN whose payload must fit */
        if (m & ((1ull << 42) - 1))
            return 0;
        *out = (uint16_t)(sign | 0x7c00 | (m >> 42));
        return 1;
    }
    if (e == 0) { /* zero; double subnormals are far below half's range */
        if (m)
            return 0;
        *out = sign;
        return 1;
    }
    int E = e - 1023;
    if (E > 15 || E < -24)
        return 0;
    if (E >= -14) { /* a normal half */
        if (m & ((1ull << 42) - 1))
            return 0;
        *out = (uint16_t)(sign | (unsigned)(E + 15) << 10 | (m >> 42));
        return 1;
    }
    /* a subnormal half: k * 2^-24 with k = 1.m * 2^(E + 24) */
    uint64_t full = m | 1ull << 52;
    unsigned shift = (unsigned)(28 - E); /* 43..52 */
    if (full & ((1ull << shift) - 1))
        return 0;
    *out = (uint16_t)(sign | (full >> shift));
    return 1;
}

int ipcn__double_to_single(double v, uint32_t *out)
{
    uint64_t b = dbits(v);
    if (v != v) { /* NaN */
        uint64_t mant = b & 0xfffffffffffffull;
        if (mant & ((1ull << 29) - 1))
            return 0;
        *out = (uint32_t)(b >> 63 << 31) | 0x7f800000u | (uint32_t)(mant >> 29);
        return 1;
    }
    float f = (float)v;
    if ((double)f != v)
        return 0; /* also when v overflows a float */
    memcpy(out, &f, sizeof *out);
    return 1;
}

/* The width (16, 32, 64) of the shortest form that keeps v exactly. */
unsigned ipcn__float_width(double v)
{
    uint16_t h;
    uint32_t s;
    if (ipcn__double_to_half(v, &h))
        return 16;
    if (ipcn__double_to_single(v, &s))
        return 32;
    return 64;
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */
/* ------------------------------------------------------------------ */

/* A parsed head: the value for the caller, how many bytes the head and
 * (for a definite string) its content take, and whether the encoding is
 * the deterministic one. */
typedef struct head {
    ipcn_cbor_value v;
    size_t adv;
    int det_ok;
    int opens; /* pushes a frame: kind, else 0 */
} head;

/* Parse the head at pos (context-free checks only).  100 or 200. */
static int parse_head(const uint8_t *b, size_t len, size_t pos, head *h)
{
    memset(h, 0, sizeof *h);
    if (pos >= len)
        return IPCN_BAD_REQUEST;
    unsigned ib = b[pos], major = ib >> 5, ai = ib & 31;
    uint64_t arg = ai;
    size_t n = 1;
    int det_ok = 1, indef = 0;
    if (ai >= 24 && ai <= 27) {
        size_t k = (size_t)1 << (ai - 24);
        if (len - pos - 1 < k)
            return IPCN_BAD_REQUEST; /* end of input in a head */
        arg = 0;
        for (size_t i = 0; i < k; i++)
            arg = arg << 8 | b[pos + 1 + i];
        n += k;
        if (major != 7) {
            static const uint64_t minimum[4] = {24, 0x100, 0x10000,
                                                0x100000000ull};
            det_ok = arg >= minimum[ai - 24];
        }
    } else if (ai >= 28 && ai <= 30) {
        return IPCN_BAD_REQUEST; /* reserved */
    } else if (ai == 31) {
        if (major == 0 || major == 1 || major == 6)
            return IPCN_BAD_REQUEST;
        indef = 1;
        det_ok = 0;
    }
    ipcn_cbor_value *v = &h->v;
    v->offset = pos;
    v->indefinite = (uint8_t)indef;
    size_t rest = len - pos - n; /* bytes after the head */
    switch (major) {
    case 0:
    case 1:
        v->type = major == 0 ? IPCN_CBOR_UINT : IPCN_CBOR_NEGINT;
        v->u = arg;
        break;
    case 2:
    case 3:
        v->type = major == 2 ? IPCN_CBOR_BYTES : IPCN_CBOR_TEXT;
        if (indef) {
            h->opens = IPCN__F_STRING_INDEF;
            break;
        }
        if (arg > rest)
            return IPCN_BAD_REQUEST; /* string past the end */
        v->ptr = b + pos + n;
        v->len = (size_t)arg;
        if (major == 3 && !ipcn__utf8_valid((const char *)v->ptr, v->len))
            return IPCN_BAD_REQUEST;
        n += (size_t)arg;
        break;
    case 4:
    case 5:
        v->type = major == 4 ? IPCN_CBOR_ARRAY : IPCN_CBOR_MAP;
        if (indef) {
            h->opens = major == 4 ? IPCN__F_ARRAY_INDEF : IPCN__F_MAP_INDEF;
            break;
        }
        /* Every item takes at least one byte: a count the rest of the
         * buffer cannot hold is truncated input, found here at once (and
         * 2 * count cannot overflow below). */
        if (arg > (major == 4 ? rest : rest / 2))
            return IPCN_BAD_REQUEST;
        v->count = arg;
        if (arg)
            h->opens = major == 4 ? IPCN__F_ARRAY : IPCN__F_MAP;
        break;
    case 6:
        v->type = IPCN_CBOR_TAG;
        v->u = arg;
        h->opens = IPCN__F_TAG;
        break;
    default: /* 7 */
        if (ai < 20) {
            v->type = IPCN_CBOR_SIMPLE;
            v->u = ai;
        } else if (ai <= 23) {
            static const ipcn_cbor_type t[4] = {IPCN_CBOR_BOOL, IPCN_CBOR_BOOL,
                                                IPCN_CBOR_NULL,
                                                IPCN_CBOR_UNDEFINED};
            v->type = t[ai - 20];
            v->u = ai == 21;
        } else if (ai == 24) {
            if (arg < 32)
                return IPCN_BAD_REQUEST; /* reserved two-byte simple */
            v->type = IPCN_CBOR_SIMPLE;
            v->u = arg;
        } else if (ai <= 27) {
            v->type = IPCN_CBOR_FLOAT;
            v->float_bits = (uint8_t)(16u << (ai - 25));
            if (ai == 25)
                v->f = ipcn__half_to_double((uint16_t)arg);
            else if (ai == 26)
                v->f = ipcn__single_bits_to_double((uint32_t)arg);
            else
                v->f = bitsd(arg);
            if (isnan(v->f))
                det_ok = ai == 25 && arg == 0x7e00;
            else
                det_ok = ipcn__float_width(v->f) == v->float_bits;
        } else { /* 31 */
            v->type = IPCN_CBOR_BREAK;
            v->indefinite = 0;
        }
        break;
    }
    h->adv = n;
    h->det_ok = det_ok;
    return IPCN_OK;
}

/* Bytewise lexicographic order of two encodings, the shorter first when
 * one is a prefix of the other (RFC 8949 §4.2.1). */
int ipcn__cbor_key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

/* Is the head h allowed here, given the open items?  0 or 200. */
static int check_context(const ipcn_cbor_reader *r, const head *h)
{
    const ipcn_cbor_value *v = &h->v;
    if ((r->flags & IPCN_CBOR_DETERMINISTIC) && !h->det_ok)
        return IPCN_BAD_REQUEST;
    if (h->opens && r->depth >= IPCN_CBOR_MAX_DEPTH)
        return IPCN_BAD_REQUEST;
    if (r->depth == 0)
        return v->type == IPCN_CBOR_BREAK ? IPCN_BAD_REQUEST : 0;
    const ipcn__cbor_frame *f = &r->stack[r->depth - 1];
    switch (f->kind) {
    case IPCN__F_STRING_INDEF:
        if (v->type == IPCN_CBOR_BREAK)
            return 0;
        if ((unsigned)v->type != f->major || v->indefinite)
            return IPCN_BAD_REQUEST; /* a chunk of another kind */
        return 0;
    case IPCN__F_ARRAY_INDEF:
        return 0;
    case IPCN__F_MAP_INDEF: /* a break in a value position */
        return v->type == IPCN_CBOR_BREAK && (f->remaining & 1)
                   ? IPCN_BAD_REQUEST
                   : 0;
    default: /* definite containers and tags end by count */
        return v->type == IPCN_CBOR_BREAK ? IPCN_BAD_REQUEST : 0;
    }
}

/* An item ended at r->pos: count it in its container, close the containers
 * it completes, and check map key order when deterministic.  100 or 200. */
static int complete_item(ipcn_cbor_reader *r)
{
    while (r->depth) {
        ipcn__cbor_frame *f = &r->stack[r->depth - 1];
        switch (f->kind) {
        case IPCN__F_STRING_INDEF:
            return IPCN_OK; /* a chunk */
        case IPCN__F_ARRAY_INDEF:
        case IPCN__F_MAP_INDEF:
            f->remaining++;
            return IPCN_OK;
        case IPCN__F_MAP:
            if (!(f->remaining & 1) && (r->flags & IPCN_CBOR_DETERMINISTIC)) {
                /* a key ended: it must sort after the previous one */
                if (f->prev_end &&
                    ipcn__cbor_key_cmp(r->buf + f->prev_key,
                                       f->prev_end - f->prev_key,
                                       r->buf + f->key_start,
                                       r->pos - f->key_start) >= 0)
                    return IPCN_BAD_REQUEST;
                f->prev_key = f->key_start;
                f->prev_end = r->pos;
            }
            /* fall through */
        default: /* IPCN__F_ARRAY, IPCN__F_TAG */
            if (--f->remaining)
                return IPCN_OK;
            r->depth--; /* the container is complete: so is an item above */
            break;
        }
    }
    r->top_items++;
    return IPCN_OK;
}

int ipcn_cbor_reader_init(ipcn_cbor_reader *r, const void *buf, size_t len,
                          uint32_t flags)
{
    if (!r)
        return IPCN_BAD_REQUEST;
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->flags = flags;
    r->depth = 0;
    r->top_items = 0;
    r->status = IPCN_OK;
    if ((!buf && len) || (flags & ~CBOR_KNOWN_READER_FLAGS)) {
        r->buf = NULL;
        r->len = 0;
        r->status = IPCN_BAD_REQUEST;
    }
    return r->status;
}

/* The status of the next step when nothing is left to read or the item
 * is complete: 103 (done), 200 (truncated, trailing bytes, empty), or 0
 * when there is a head to read. */
static int end_state(const ipcn_cbor_reader *r)
{
    if (r->status != IPCN_OK)
        return r->status;
    int seq = (r->flags & IPCN_CBOR_SEQUENCE) != 0;
    if (r->depth == 0 && r->top_items > 0 && !seq)
        return r->pos == r->len ? IPCN_NO_DATA : IPCN_BAD_REQUEST;
    if (r->pos == r->len) {
        if (r->depth)
            return IPCN_BAD_REQUEST; /* truncated */
        return seq ? IPCN_NO_DATA : IPCN_BAD_REQUEST; /* empty input */
    }
    return 0;
}

static int read_checked(const ipcn_cbor_reader *r, head *h)
{
    int st = end_state(r);
    if (st)
        return st;
    st = parse_head(r->buf, r->len, r->pos, h);
    if (st != IPCN_OK)
        return st;
    if (check_context(r, h))
        return IPCN_BAD_REQUEST;
    h->v.depth = (uint16_t)r->depth;
    return IPCN_OK;
}

int ipcn_cbor_peek(const ipcn_cbor_reader *r, ipcn_cbor_value *out)
{
    if (!r)
        return IPCN_BAD_REQUEST;
    head h;
    int st = read_checked(r, &h);
    if (st == IPCN_OK && (r->flags & IPCN_CBOR_DETERMINISTIC) &&
        !(h.opens && h.v.type != IPCN_CBOR_BREAK)) {
        /* The item ends here and may be a map key out of order, which
         * only ipcn_cbor_next() finds: ask it, on a copy. */
        ipcn_cbor_reader c = *r;
        st = ipcn_cbor_next(&c, NULL);
    }
    if (st == IPCN_OK && out)
        *out = h.v;
    return st;
}

int ipcn_cbor_next(ipcn_cbor_reader *r, ipcn_cbor_value *out)
{
    if (!r)
        return IPCN_BAD_REQUEST;
    head h;
    int st = read_checked(r, &h);
    if (st != IPCN_OK) {
        if (st != IPCN_NO_DATA)
            r->status = st;
        return st;
    }
    if (r->depth) { /* note where a map key starts */
        ipcn__cbor_frame *f = &r->stack[r->depth - 1];
        if ((f->kind == IPCN__F_MAP || f->kind == IPCN__F_MAP_INDEF) &&
            !(f->remaining & 1))
            f->key_start = r->pos;
    }
    r->pos += h.adv;
    if (h.v.type == IPCN_CBOR_BREAK) {
        r->depth--; /* the indefinite item ends, and is one item above */
        st = complete_item(r);
    } else if (h.opens) {
        ipcn__cbor_frame *f = &r->stack[r->depth++];
        memset(f, 0, sizeof *f);
        f->kind = (uint8_t)h.opens;
        f->major = (uint8_t)h.v.type;
        if (h.opens == IPCN__F_ARRAY)
            f->remaining = h.v.count;
        else if (h.opens == IPCN__F_MAP)
            f->remaining = h.v.count * 2;
        else if (h.opens == IPCN__F_TAG)
            f->remaining = 1;
    } else {
        st = complete_item(r);
    }
    if (st != IPCN_OK) {
        r->status = st;
        return st;
    }
    if (out)
        *out = h.v;
    return IPCN_OK;
}

int ipcn_cbor_skip(ipcn_cbor_reader *r, ipcn_cbor_value *out)
{
    if (!r)
        return IPCN_BAD_REQUEST;
    uint32_t depth = r->depth;
    int st = ipcn_cbor_next(r, out);
    while (st == IPCN_OK && r->depth > depth)
        st = ipcn_cbor_next(r, NULL); /* 103 impossible: depth > 0 */
    return st;
}

size_t ipcn_cbor_reader_offset(const ipcn_cbor_reader *r)
{
    return r ? r->pos : 0;
}

int ipcn_cbor_check(const void *buf, size_t len, uint32_t flags)
{
    ipcn_cbor_reader r;
    int st = ipcn_cbor_reader_init(&r, buf, len, flags);
    while (st == IPCN_OK)
        st = ipcn_cbor_next(&r, NULL);
    return st == IPCN_NO_DATA ? IPCN_OK : st;
}

int ipcn_cbor_value_int64(const ipcn_cbor_value *v, int64_t *out)
{
    if (!v || !out || v->u > (uint64_t)INT64_MAX)
        return IPCN_BAD_REQUEST;
    if (v->type == IPCN_CBOR_UINT)
        *out = (int64_t)v->u;
    else if (v->type == IPCN_CBOR_NEGINT)
        *out = -1 - (int64_t)v->u;
    else
        return IPCN_BAD_REQUEST;
    return IPCN_OK;
}

/* The end of the item that starts at pos in our own output (definite
 * lengths only, well-formed by construction). */
size_t ipcn__cbor_item_end(const uint8_t *b, size_t len, size_t pos)
{
    uint64_t need = 1;
    while (need && pos < len) {
        head h;
        if (parse_head(b, len, pos, &h) != IPCN_OK)
            return len; /* cannot happen */
        need--;
        pos += h.adv;
        if (h.v.type == IPCN_CBOR_ARRAY)
            need += h.v.count;
        else if (h.v.type == IPCN_CBOR_MAP)
            need += 2 * h.v.count;
        else if (h.v.type == IPCN_CBOR_TAG)
            need += 1;
    }
    return pos;
}

void ipcn__cbor_reader_fork(const ipcn_cbor_reader *r, ipcn_cbor_reader *c)
{
    c->buf = r->buf;
    c->len = r->len;
    c->pos = r->pos;
    c->flags = r->flags;
    c->status = r->status;
    c->top_items = 0;
    c->depth = r->depth ? 1 : 0;
    if (r->depth)
        c->stack[0] = r->stack[r->depth - 1];
}
