/* SPDX-License-Identifier: MIT */
/*
 * cbor_render.h — a decoded CBOR tree as text, for tests.  Header-only;
 * uses only the public API (ipcnet_value.h).  Two styles:
 *
 * CR_DIAG: RFC 8949 §8 diagnostic notation, with floats as Python's
 *   repr() writes them ("1e+300", "5.960464477539063e-08", "100000.0")
 *   and Infinity, -Infinity, NaN; indefinite-length items appear as the
 *   value they stand for (joined strings, plain arrays and maps).
 * CR_INTEROP: the form tests/value/test_cbor2_interop.py also writes from
 *   cbor2's values, to compare two decoders: integers in decimal, floats as
 *   "f:" and the 16 hex digits of the double (every NaN as "nan"), text as
 *   t'<hex of the UTF-8>', bytes as h'<hex>', arrays [a,b], maps {k:v,k:v}
 *   in input order, tags N(x), simple(N), true false null undefined; no
 *   spaces.
 */
#ifndef IPCN_CBOR_RENDER_H
#define IPCN_CBOR_RENDER_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_value.h"

enum { CR_DIAG = 0, CR_INTEROP = 1 };

typedef struct cr_buf {
    char *p;
    size_t len, cap;
} cr_buf;

static inline void cr_put(cr_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static inline void cr_puts(cr_buf *b, const char *s)
{
    cr_put(b, s, strlen(s));
}

static inline void cr_hex(cr_buf *b, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char c[2] = {hx[p[i] >> 4], hx[p[i] & 15]};
        cr_put(b, c, 2);
    }
}

/* -1 - u in decimal, for the whole range down to -2^64. */
static inline void cr_negint(cr_buf *b, uint64_t u)
{
    char s[32];
    if (u == UINT64_MAX)
        snprintf(s, sizeof s, "-18446744073709551616");
    else
        snprintf(s, sizeof s, "-%" PRIu64, u + 1);
    cr_puts(b, s);
}

/* A double as Python's repr() writes it. */
static inline void cr_pyrepr(cr_buf *b, double v)
{
    char e[40], out[64];
    if (v != v) {
        cr_puts(b, "NaN");
        return;
    }
    if (v == 1.0 / 0.0 || v == -1.0 / 0.0) {
        cr_puts(b, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    /* The fewest digits that read back as v (and, among those, the
     * closest to v), as Python finds them: the correctly rounded p-digit
     * number, else one of its two neighbours, may be the one. */
    for (int p = 1, found = 0; p <= 17 && !found; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (strtod(e, NULL) == v)
            break;
        for (int delta = -1; delta <= 1 && !found; delta += 2) {
            char t[40];
            memcpy(t, e, sizeof t);
            char *last = strchr(t, 'e') - 1; /* the last digit */
            char *q = last;
            if (delta > 0) {
                while (q >= t && (*q == '9' || *q == '.')) {
                    if (*q == '9')
                        *q = '0';
                    q--;
                }
                if (q < t || *q == '-')
                    continue; /* 9.99 -> 10.0: a different exponent */
                (*q)++;
            } else {
                while (q >= t && (*q == '0' || *q == '.')) {
                    if (*q == '0')
                        *q = '9';
                    q--;
                }
                if (q < t || *q == '-' || (q == t && *q == '1' && p > 1) ||
                    (q == t + 1 && t[0] == '-' && *q == '1' && p > 1))
                    continue; /* 1.00 -> 0.99: a different exponent */
                (*q)--;
            }
            if (strtod(t, NULL) == v) {
                memcpy(e, t, sizeof t);
                found = 1;
            }
        }
    }
    /* e is [-]d[.ddd]e[+-]XX: split into sign, digits, exponent */
    const char *s = e;
    int neg = *s == '-';
    if (neg)
        s++;
    char digits[24];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s != '.')
            digits[nd++] = *s;
    digits[nd] = 0;
    int exp = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = 0;
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            o += (size_t)snprintf(out + o, sizeof out - o, "0.");
            for (int i = -1; i > exp; i--)
                out[o++] = '0';
            o += (size_t)snprintf(out + o, sizeof out - o, "%s", digits);
        } else {
            for (int i = 0; i <= exp; i++)
                out[o++] = (size_t)i < nd ? digits[i] : '0';
            out[o++] = '.';
            if ((size_t)exp + 1 < nd)
                o += (size_t)snprintf(out + o, sizeof out - o, "%s",
                                      digits + exp + 1);
            else
                out[o++] = '0';
        }
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            o += (size_t)snprintf(out + o, sizeof out - o, "%s", digits + 1);
        }
        o += (size_t)snprintf(out + o, sizeof out - o, "e%c%02d",
                              exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    out[o] = 0;
    cr_puts(b, out);
}

static inline void cr_text_diag(cr_buf *b, const uint8_t *p, size_t n)
{
    cr_puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        char c[8];
        if (p[i] == '"' || p[i] == '\\') {
            c[0] = '\\';
            c[1] = (char)p[i];
            cr_put(b, c, 2);
        } else if (p[i] < 0x20) {
            snprintf(c, sizeof c, "\\u%04x", p[i]);
            cr_puts(b, c);
        } else {
            cr_put(b, (const char *)&p[i], 1);
        }
    }
    cr_puts(b, "\"");
}

static inline void cr_item(cr_buf *b, const ipcn_cbor_item *it, int style)
{
    char s[64];
    const char *sep = style == CR_DIAG ? ", " : ",";
    switch (it->type) {
    case IPCN_CBOR_UINT:
        snprintf(s, sizeof s, "%" PRIu64, it->u);
        cr_puts(b, s);
        break;
    case IPCN_CBOR_NEGINT:
        cr_negint(b, it->u);
        break;
    case IPCN_CBOR_BYTES:
        cr_puts(b, "h'");
        cr_hex(b, it->ptr, it->len);
        cr_puts(b, "'");
        break;
    case IPCN_CBOR_TEXT:
        if (style == CR_DIAG) {
            cr_text_diag(b, it->ptr, it->len);
        } else {
            cr_puts(b, "t'");
            cr_hex(b, it->ptr, it->len);
            cr_puts(b, "'");
        }
        break;
    case IPCN_CBOR_ARRAY:
        cr_puts(b, "[");
        for (uint64_t i = 0; i < it->count; i++) {
            if (i)
                cr_puts(b, sep);
            cr_item(b, &it->items[i], style);
        }
        cr_puts(b, "]");
        break;
    case IPCN_CBOR_MAP:
        cr_puts(b, "{");
        for (uint64_t i = 0; i < it->count; i++) {
            if (i)
                cr_puts(b, sep);
            cr_item(b, &it->items[2 * i], style);
            cr_puts(b, style == CR_DIAG ? ": " : ":");
            cr_item(b, &it->items[2 * i + 1], style);
        }
        cr_puts(b, "}");
        break;
    case IPCN_CBOR_TAG:
        snprintf(s, sizeof s, "%" PRIu64 "(", it->u);
        cr_puts(b, s);
        cr_item(b, &it->items[0], style);
        cr_puts(b, ")");
        break;
    case IPCN_CBOR_SIMPLE:
        snprintf(s, sizeof s, "simple(%" PRIu64 ")", it->u);
        cr_puts(b, s);
        break;
    case IPCN_CBOR_BOOL:
        cr_puts(b, it->u ? "true" : "false");
        break;
    case IPCN_CBOR_NULL:
        cr_puts(b, "null");
        break;
    case IPCN_CBOR_UNDEFINED:
        cr_puts(b, "undefined");
        break;
    case IPCN_CBOR_FLOAT:
        if (style == CR_DIAG) {
            cr_pyrepr(b, it->f);
        } else if (it->f != it->f) {
            cr_puts(b, "nan");
        } else {
            uint64_t bits;
            memcpy(&bits, &it->f, sizeof bits);
            snprintf(s, sizeof s, "f:%016" PRIx64, bits);
            cr_puts(b, s);
        }
        break;
    default:
        cr_puts(b, "?");
        break;
    }
}

/* The text of a tree; free() it. */
static inline char *cr_render(const ipcn_cbor_item *it, int style)
{
    cr_buf b = {0};
    cr_item(&b, it, style);
    return b.p;
}

/* Hex digits (spaces allowed) to bytes; returns the length. */
static inline size_t cr_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        int d;
        if (*hex >= '0' && *hex <= '9')
            d = *hex - '0';
        else if (*hex >= 'a' && *hex <= 'f')
            d = *hex - 'a' + 10;
        else if (*hex >= 'A' && *hex <= 'F')
            d = *hex - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = d;
        } else {
            if (n < cap)
                out[n] = (uint8_t)(hi << 4 | d);
            n++;
            hi = -1;
        }
    }
    return n;
}

#endif
