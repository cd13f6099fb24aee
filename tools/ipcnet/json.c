/* SPDX-License-Identifier: MIT */
/*
 * json.c — strict JSON for the CLI: what a VALUE on the command line must
 * be (RFC 8259: one value, no trailing commas, no comments, no NaN, UTF-8
 * checked, surrogate pairs checked), how values are printed, and a writer
 * for the one-document-per-line --json output.
 */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ------------------------------------------------------------------ */
/* sbuf                                                                 */
/* ------------------------------------------------------------------ */

void sb_free(sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static void sb_grow(sbuf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void sb_putn(sbuf *b, const void *p, size_t n)
{
    sb_grow(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void sb_putc(sbuf *b, char c) { sb_putn(b, &c, 1); }
void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k > 0) {
        sb_grow(b, (size_t)k);
        vsnprintf(b->p + b->len, (size_t)k + 1, fmt, ap2);
        b->len += (size_t)k;
    }
    va_end(ap2);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (n == 0)
        return 0;
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned cp = c & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool utf8_valid(const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

void sb_json_str(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    sb_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_putn(b, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': sb_puts(b, "\\n"); break;
            case '\t': sb_puts(b, "\\t"); break;
            case '\r': sb_puts(b, "\\r"); break;
            case '\b': sb_puts(b, "\\b"); break;
            case '\f': sb_puts(b, "\\f"); break;
            default: {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                sb_putn(b, e, 6);
            }
            }
            i++;
        } else if (c < 0x80) {
            sb_putc(b, (char)c);
            i++;
        } else {
            size_t k = utf8_seq(p + i, n - i);
            if (k) {
                sb_putn(b, p + i, k);
                i += k;
            } else {
                sb_puts(b, "\\ufffd");
                i++;
            }
        }
    }
    sb_putc(b, '"');
}

/* ------------------------------------------------------------------ */
/* tree                                                                 */
/* ------------------------------------------------------------------ */

jval *json_new(jtype t)
{
    jval *v = xcalloc(1, sizeof *v);
    v->t = t;
    return v;
}

jval *json_str(const char *s, size_t n)
{
    jval *v = json_new(J_STR);
    v->s = xmalloc(n + 1);
    memcpy(v->s, s, n);
    v->s[n] = 0;
    v->n = n;
    return v;
}

jval *json_num_text(const char *text)
{
    jval *v = json_str(text, strlen(text));
    v->t = J_NUM;
    return v;
}

void json_free(jval *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++) {
        json_free(v->v[i]);
        if (v->k)
            json_free(v->k[i]);
    }
    free(v->v);
    free(v->k);
    free(v->s);
    free(v);
}

int json_add(jval *parent, const char *key, size_t keylen, jval *v)
{
    if (parent->count == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 4;
        parent->v = xrealloc(parent->v, cap * sizeof *parent->v);
        if (parent->t == J_OBJ)
            parent->k = xrealloc(parent->k, cap * sizeof *parent->k);
        parent->cap = cap;
    }
    if (parent->t == J_OBJ)
        parent->k[parent->count] = json_str(key ? key : "", key ? keylen : 0);
    parent->v[parent->count++] = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* parser                                                               */
/* ------------------------------------------------------------------ */

typedef struct parser {
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    bool failed;
    bool build; /* false: validate only */
} parser;

static void fail(parser *ps, const char *what)
{
    if (ps->failed)
        return;
    ps->failed = true;
    if (ps->err && ps->errlen) {
        if (ps->p >= ps->end)
            snprintf(ps->err, ps->errlen, "at the end: %s", what);
        else
            snprintf(ps->err, ps->errlen, "at byte %zu: %s",
                     (size_t)(ps->p - ps->start) + 1, what);
    }
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

static void put_utf8(sbuf *b, unsigned cp)
{
    char o[4];
    size_t k;
    if (cp < 0x80) {
        o[0] = (char)cp, k = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6)), o[1] = (char)(0x80 | (cp & 0x3f)), k = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12)), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f)), k = 3;
    } else {
        o[0] = (char)(0xf0 | (cp >> 18)), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    sb_putn(b, o, k);
}

/* A string; the opening quote is at ps->p.  Fills *out when building. */
static void parse_string(parser *ps, sbuf *out)
{
    ps->p++; /* '"' */
    while (ps->p < ps->end) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            return;
        }
        if (c < 0x20) {
            fail(ps, "control character in a string (escape it)");
            return;
        }
        if (c == '\\') {
            if (ps->end - ps->p < 2) {
                ps->p = ps->end;
                break;
            }
            char e = ps->p[1];
            const char *m = strchr("\"\\/bfnrt", e);
            if (e && m) {
                static const char dec[] = "\"\\/\b\f\n\r\t";
                if (out)
                    sb_putc(out, dec[m - "\"\\/bfnrt"]);
                ps->p += 2;
                continue;
            }
            if (e != 'u') {
                ps->p++;
                fail(ps, "invalid escape in a string");
                return;
            }
            int cp;
            if (ps->end - ps->p < 6 || (cp = hex4(ps->p + 2)) < 0) {
                fail(ps, "invalid \\u escape");
                return;
            }
            ps->p += 6;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                ps->p -= 6;
                fail(ps, "lone low surrogate in a \\u escape");
                return;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                int lo;
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                    (lo = hex4(ps->p + 2)) < 0 || lo < 0xdc00 || lo > 0xdfff) {
                    fail(ps, "high surrogate not followed by a low one");
                    return;
                }
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (out)
                put_utf8(out, (unsigned)cp);
            continue;
        }
        size_t k = utf8_seq((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
        if (!k) {
            fail(ps, "invalid UTF-8 in a string");
            return;
        }
        if (out)
            sb_putn(out, ps->p, k);
        ps->p += k;
    }
    fail(ps, "unterminated string");
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static void parse_number(parser *ps)
{
    const char *p = ps->p;
    if (p < ps->end && *p == '-')
        p++;
    if (p >= ps->end || !is_digit(*p)) {
        ps->p = p;
        fail(ps, "invalid number");
        return;
    }
    if (*p == '0') {
        p++;
        if (p < ps->end && is_digit(*p)) {
            ps->p = p;
            fail(ps, "leading zero in a number");
            return;
        }
    } else {
        while (p < ps->end && is_digit(*p))
            p++;
    }
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || !is_digit(*p)) {
            ps->p = p;
            fail(ps, "digits expected after '.'");
            return;
        }
        while (p < ps->end && is_digit(*p))
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= ps->end || !is_digit(*p)) {
            ps->p = p;
            fail(ps, "digits expected in the exponent");
            return;
        }
        while (p < ps->end && is_digit(*p))
            p++;
    }
    ps->p = p;
}

static bool literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, word, n)) {
        ps->p += n;
        return true;
    }
    return false;
}

static jval *parse_value(parser *ps, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "a value was expected");
        return NULL;
    }
    if (depth > JSON_MAX_DEPTH) {
        fail(ps, "nested too deeply");
        return NULL;
    }
    char c = *ps->p;
    jval *v = NULL;
    if (c == '{' || c == '[') {
        bool obj = c == '{';
        char close = obj ? '}' : ']';
        if (ps->build)
            v = json_new(obj ? J_OBJ : J_ARR);
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return v ? v : (jval *)1;
        }
        for (;;) {
            sbuf key = {0};
            skip_ws(ps);
            if (obj) {
                if (ps->p >= ps->end || *ps->p != '"') {
                    fail(ps, "a string key was expected");
                    break;
                }
                parse_string(ps, ps->build ? &key : NULL);
                if (ps->failed) {
                    sb_free(&key);
                    break;
                }
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') {
                    sb_free(&key);
                    fail(ps, "':' was expected");
                    break;
                }
                ps->p++;
            }
            jval *item = parse_value(ps, depth + 1);
            if (ps->failed) {
                sb_free(&key);
                break;
            }
            if (v)
                json_add(v, key.p ? key.p : "", key.len, item);
            sb_free(&key);
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                skip_ws(ps);
                if (ps->p < ps->end && *ps->p == close) {
                    fail(ps, "trailing comma");
                    break;
                }
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                return v ? v : (jval *)1;
            }
            fail(ps, obj ? "',' or '}' was expected" : "',' or ']' was expected");
            break;
        }
        json_free(v);
        return NULL;
    }
    if (c == '"') {
        sbuf s = {0};
        parse_string(ps, ps->build ? &s : NULL);
        if (ps->failed) {
            sb_free(&s);
            return NULL;
        }
        if (!ps->build)
            return (jval *)1;
        v = json_new(J_STR);
        v->s = s.p ? s.p : xcalloc(1, 1);
        v->n = s.len;
        return v;
    }
    if (c == '-' || is_digit(c)) {
        const char *start = ps->p;
        parse_number(ps);
        if (ps->failed)
            return NULL;
        if (!ps->build)
            return (jval *)1;
        v = json_str(start, (size_t)(ps->p - start));
        v->t = J_NUM;
        return v;
    }
    jtype t;
    if (literal(ps, "null"))
        t = J_NULL;
    else if (literal(ps, "true"))
        t = J_TRUE;
    else if (literal(ps, "false"))
        t = J_FALSE;
    else {
        fail(ps, c == '\'' ? "strings take double quotes"
                           : "a value was expected (object, array, string, "
                             "number, true, false or null)");
        return NULL;
    }
    return ps->build ? json_new(t) : (jval *)1;
}

static int run(const char *p, size_t n, jval **out, char *err, size_t errlen,
               bool build)
{
    parser ps = {.p = p, .end = p + n, .start = p, .err = err, .errlen = errlen,
                 .build = build};
    if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) {
        fail(&ps, "byte order mark");
        return -1;
    }
    jval *v = parse_value(&ps, 0);
    if (!ps.failed) {
        skip_ws(&ps);
        if (ps.p < ps.end)
            fail(&ps, "unexpected text after the value");
    }
    if (ps.failed) {
        if (build)
            json_free(v);
        return -1;
    }
    if (build)
        *out = v;
    return 0;
}

int json_parse(const char *p, size_t n, jval **out, char *err, size_t errlen)
{
    return run(p, n, out, err, errlen, true);
}

bool json_valid(const char *p, size_t n)
{
    return run(p, n, NULL, NULL, 0, false) == 0;
}

/* ------------------------------------------------------------------ */
/* printer                                                              */
/* ------------------------------------------------------------------ */

static void indent_to(sbuf *b, int indent, int level)
{
    sb_putc(b, '\n');
    for (int i = 0; i < indent * level; i++)
        sb_putc(b, ' ');
}

static void write_rec(sbuf *b, const jval *v, int indent, int level)
{
    switch (v->t) {
    case J_NULL: sb_puts(b, "null"); return;
    case J_TRUE: sb_puts(b, "true"); return;
    case J_FALSE: sb_puts(b, "false"); return;
    case J_NUM: sb_putn(b, v->s, v->n); return;
    case J_STR: sb_json_str(b, v->s, v->n); return;
    case J_ARR:
    case J_OBJ: {
        bool obj = v->t == J_OBJ;
        sb_putc(b, obj ? '{' : '[');
        for (size_t i = 0; i < v->count; i++) {
            if (i)
                sb_putc(b, ',');
            if (indent >= 0)
                indent_to(b, indent, level + 1);
            if (obj) {
                sb_json_str(b, v->k[i]->s, v->k[i]->n);
                sb_puts(b, indent >= 0 ? ": " : ":");
            }
            write_rec(b, v->v[i], indent, level + 1);
        }
        if (indent >= 0 && v->count)
            indent_to(b, indent, level);
        sb_putc(b, obj ? '}' : ']');
        return;
    }
    }
}

void json_write(sbuf *b, const jval *v, int indent)
{
    write_rec(b, v, indent, 0);
}

bool json_fits(const jval *v, size_t width)
{
    sbuf b = {0};
    write_rec(&b, v, -1, 0);
    bool ok = b.len <= width;
    sb_free(&b);
    return ok;
}

/* ------------------------------------------------------------------ */
/* writer                                                               */
/* ------------------------------------------------------------------ */

static void jw_key(jw *w, const char *key)
{
    if (w->depth > 0 && w->need_comma[w->depth])
        sb_putc(&w->b, ',');
    if (w->depth > 0)
        w->need_comma[w->depth] = true;
    if (key) {
        sb_json_str(&w->b, key, strlen(key));
        sb_putc(&w->b, ':');
    }
}

static void jw_open(jw *w, const char *key, char c)
{
    jw_key(w, key);
    sb_putc(&w->b, c);
    if (w->depth + 1 < JSON_MAX_DEPTH)
        w->depth++;
    w->need_comma[w->depth] = false;
}

void jw_obj(jw *w, const char *key) { jw_open(w, key, '{'); }
void jw_arr(jw *w, const char *key) { jw_open(w, key, '['); }

void jw_end_obj(jw *w)
{
    sb_putc(&w->b, '}');
    if (w->depth)
        w->depth--;
}

void jw_end_arr(jw *w)
{
    sb_putc(&w->b, ']');
    if (w->depth)
        w->depth--;
}

void jw_strn(jw *w, const char *key, const char *s, size_t n)
{
    jw_key(w, key);
    if (s)
        sb_json_str(&w->b, s, n);
    else
        sb_puts(&w->b, "null");
}

void jw_str(jw *w, const char *key, const char *s)
{
    jw_strn(w, key, s, s ? strlen(s) : 0);
}

void jw_int(jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    sb_printf(&w->b, "%lld", (long long)v);
}

void jw_uint(jw *w, const char *key, uint64_t v)
{
    jw_key(w, key);
    sb_printf(&w->b, "%llu", (unsigned long long)v);
}

void jw_double(jw *w, const char *key, double v)
{
    jw_key(w, key);
    if (isfinite(v))
        sb_printf(&w->b, "%.9g", v);
    else
        sb_puts(&w->b, "null");
}

void jw_bool(jw *w, const char *key, bool v)
{
    jw_key(w, key);
    sb_puts(&w->b, v ? "true" : "false");
}

void jw_null(jw *w, const char *key)
{
    jw_key(w, key);
    sb_puts(&w->b, "null");
}

void jw_hex64(jw *w, const char *key, uint64_t v)
{
    char s[17];
    snprintf(s, sizeof s, "%016llx", (unsigned long long)v);
    jw_str(w, key, s);
}

void jw_val(jw *w, const char *key, const jval *v)
{
    jw_key(w, key);
    json_write(&w->b, v, -1);
}

int jw_emit(jw *w)
{
    sb_putc(&w->b, '\n');
    size_t n = w->b.len;
    int rc = fwrite(w->b.p, 1, n, stdout) == n && fflush(stdout) == 0 ? 0 : -1;
    sb_free(&w->b);
    w->depth = 0;
    w->need_comma[0] = false;
    return rc;
}

const jval *jget(const jval *o, const char *key)
{
    if (!o || o->t != J_OBJ)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < o->count; i++)
        if (o->k[i]->n == n && !memcmp(o->k[i]->s, key, n))
            return o->v[i];
    return NULL;
}

const char *jtext(const jval *o, const char *key)
{
    const jval *v = jget(o, key);
    return v && v->t == J_STR ? v->s : "?";
}

double jnum(const jval *o, const char *key)
{
    const jval *v = jget(o, key);
    return v && v->t == J_NUM ? strtod(v->s, NULL) : 0;
}
