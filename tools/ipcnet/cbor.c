/* SPDX-License-Identifier: MIT */
#include "cbor.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- encode ---- */

static void head(sbuf *b, unsigned major, uint64_t v)
{
    uint8_t o[9];
    size_t k;
    o[0] = (uint8_t)(major << 5);
    if (v < 24) {
        o[0] |= (uint8_t)v, k = 1;
    } else if (v <= 0xff) {
        o[0] |= 24, o[1] = (uint8_t)v, k = 2;
    } else if (v <= 0xffff) {
        o[0] |= 25, k = 3;
        for (int i = 0; i < 2; i++)
            o[1 + i] = (uint8_t)(v >> (8 * (1 - i)));
    } else if (v <= 0xffffffffu) {
        o[0] |= 26, k = 5;
        for (int i = 0; i < 4; i++)
            o[1 + i] = (uint8_t)(v >> (8 * (3 - i)));
    } else {
        o[0] |= 27, k = 9;
        for (int i = 0; i < 8; i++)
            o[1 + i] = (uint8_t)(v >> (8 * (7 - i)));
    }
    sb_putn(b, o, k);
}

static void number(sbuf *b, const jval *v)
{
    bool integral = !strpbrk(v->s, ".eE");
    if (integral) {
        errno = 0;
        char *end;
        if (v->s[0] == '-') {
            /* -1 - n for n in 0..2^64-1: parse the magnitude unsigned. */
            unsigned long long mag = strtoull(v->s + 1, &end, 10);
            if (!errno && *end == 0 && mag >= 1) {
                head(b, 1, mag - 1);
                return;
            }
            if (!errno && *end == 0 && mag == 0) { /* "-0" */
                head(b, 0, 0);
                return;
            }
        } else {
            unsigned long long u = strtoull(v->s, &end, 10);
            if (!errno && *end == 0) {
                head(b, 0, u);
                return;
            }
        }
    }
    double d = strtod(v->s, NULL);
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    uint8_t o[9] = {0xfb};
    for (int i = 0; i < 8; i++)
        o[1 + i] = (uint8_t)(bits >> (8 * (7 - i)));
    sb_putn(b, o, 9);
}

void cbor_from_json(sbuf *b, const jval *v)
{
    switch (v->t) {
    case J_NULL: sb_putc(b, (char)0xf6); return;
    case J_FALSE: sb_putc(b, (char)0xf4); return;
    case J_TRUE: sb_putc(b, (char)0xf5); return;
    case J_NUM: number(b, v); return;
    case J_STR:
        head(b, 3, v->n);
        sb_putn(b, v->s, v->n);
        return;
    case J_ARR:
        head(b, 4, v->count);
        for (size_t i = 0; i < v->count; i++)
            cbor_from_json(b, v->v[i]);
        return;
    case J_OBJ:
        head(b, 5, v->count);
        for (size_t i = 0; i < v->count; i++) {
            cbor_from_json(b, v->k[i]);
            cbor_from_json(b, v->v[i]);
        }
        return;
    }
}

/* ---- decode ---- */

typedef struct dec {
    const uint8_t *p, *end;
    bool bad;
} dec;

static int arg(dec *d, unsigned ai, uint64_t *out)
{
    if (ai < 24) {
        *out = ai;
        return 0;
    }
    size_t k = ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : ai == 27 ? 8 : 0;
    if (!k || (size_t)(d->end - d->p) < k)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < k; i++)
        v = (v << 8) | *d->p++;
    *out = v;
    return 0;
}

static double half(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e != 31 ? ldexp(m + 1024, e - 25)
                                       : m == 0 ? INFINITY : NAN;
    return (h & 0x8000) ? -v : v;
}

/* The shortest decimal that reads back as the same double (or float). */
static jval *num_real(double d, bool single)
{
    if (!isfinite(d))
        return json_new(J_NULL);
    char s[40];
    for (int prec = single ? 6 : 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        double back = strtod(s, NULL);
        if (single ? (float)back == (float)d : back == d)
            break;
    }
    if (!strpbrk(s, ".eE"))
        strcat(s, ".0");
    return json_num_text(s);
}

static jval *item(dec *d, int depth);

/* A definite or indefinite string of major type 2 or 3. */
static jval *string(dec *d, unsigned major, unsigned ai)
{
    sbuf s = {0};
    if (ai == 31) {
        for (;;) {
            if (d->p >= d->end)
                goto bad;
            if (*d->p == 0xff) {
                d->p++;
                break;
            }
            unsigned ib = *d->p++;
            uint64_t len;
            if (ib >> 5 != major || (ib & 31) == 31 || arg(d, ib & 31, &len) ||
                len > (uint64_t)(d->end - d->p))
                goto bad;
            sb_putn(&s, d->p, (size_t)len);
            d->p += len;
        }
    } else {
        uint64_t len;
        if (arg(d, ai, &len) || len > (uint64_t)(d->end - d->p))
            goto bad;
        sb_putn(&s, d->p, (size_t)len);
        d->p += len;
    }
    jval *v;
    if (major == 3) {
        if (!utf8_valid(s.p, s.len))
            goto bad;
        v = json_str(s.p ? s.p : "", s.len);
    } else {
        sbuf h = {0};
        sb_puts(&h, "h'");
        for (size_t i = 0; i < s.len; i++)
            sb_printf(&h, "%02x", (unsigned char)s.p[i]);
        sb_putc(&h, '\'');
        v = json_str(h.p, h.len);
        sb_free(&h);
    }
    sb_free(&s);
    return v;
bad:
    sb_free(&s);
    d->bad = true;
    return NULL;
}

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

static jval *item(dec *d, int depth)
{
    if (d->p >= d->end || depth > JSON_MAX_DEPTH) {
        d->bad = true;
        return NULL;
    }
    unsigned ib = *d->p++, major = ib >> 5, ai = ib & 31;
    uint64_t v;
    switch (major) {
    case 0:
    case 1: {
        if (arg(d, ai, &v))
            break;
        char s[32];
        if (major == 0)
            snprintf(s, sizeof s, "%llu", (unsigned long long)v);
        else if (v < UINT64_MAX)
            snprintf(s, sizeof s, "-%llu", (unsigned long long)v + 1);
        else
            snprintf(s, sizeof s, "-18446744073709551616");
        return json_num_text(s);
    }
    case 2:
    case 3:
        return string(d, major, ai);
    case 4:
    case 5: {
        bool indef = ai == 31;
        if (!indef && arg(d, ai, &v))
            break;
        /* Each entry takes at least one byte: a bound that stops huge
         * counts from costing anything. */
        if (!indef && v > (uint64_t)(d->end - d->p))
            break;
        jval *c = json_new(major == 4 ? J_ARR : J_OBJ);
        for (uint64_t i = 0; indef || i < v; i++) {
            if (indef) {
                if (d->p >= d->end)
                    goto bad_c;
                if (*d->p == 0xff) {
                    d->p++;
                    break;
                }
            }
            jval *k = NULL;
            if (major == 5) {
                k = item(d, depth + 1);
                if (!k)
                    goto bad_c;
                k = key_text(k);
            }
            jval *x = item(d, depth + 1);
            if (!x) {
                json_free(k);
                goto bad_c;
            }
            json_add(c, k ? k->s : NULL, k ? k->n : 0, x);
            json_free(k);
        }
        return c;
    bad_c:
        json_free(c);
        d->bad = true;
        return NULL;
    }
    case 6:
        if (arg(d, ai, &v))
            break;
        return item(d, depth + 1); /* the tag's content */
    case 7:
        switch (ai) {
        case 20: return json_new(J_FALSE);
        case 21: return json_new(J_TRUE);
        case 22:
        case 23: return json_new(J_NULL);
        case 25:
            if (arg(d, ai, &v))
                break;
            return num_real(half((uint16_t)v), true);
        case 26: {
            if (arg(d, ai, &v))
                break;
            uint32_t u = (uint32_t)v;
            float f;
            memcpy(&f, &u, sizeof f);
            return num_real(f, true);
        }
        case 27: {
            if (arg(d, ai, &v))
                break;
            double f;
            memcpy(&f, &v, sizeof f);
            return num_real(f, false);
        }
        default:
            if (ai < 24 || ai == 24) { /* other simple values */
                if (ai == 24 && arg(d, ai, &v))
                    break;
                return json_new(J_NULL);
            }
            break;
        }
        break;
    }
    d->bad = true;
    return NULL;
}

int cbor_to_json(const void *p, size_t n, jval **out)
{
    dec d = {.p = p, .end = (const uint8_t *)p + n};
    jval *v = item(&d, 0);
    if (!v || d.bad || d.p != d.end) {
        json_free(v);
        return -1;
    }
    *out = v;
    return 0;
}
