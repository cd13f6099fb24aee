/* SPDX-License-Identifier: MIT */
/*
 * json.c — JSON for the CLI: a tree of parsed JSON (parsed by the
 * library: ipcn_cbor_from_json(), strict RFC 8259), how values are
 * printed, and a writer for the one-document-per-line --json output.
 * JSON <-> CBOR is the library's alone (ipcnet_value.h).
 */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_value.h"
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
/* parser: the library's (ipcn_cbor_from_json()), into a tree           */
/* ------------------------------------------------------------------ */

/* A tree from the CBOR the library made of a JSON text: only the types
 * JSON has.  Numbers keep the library's text of them (ipcn_cbor_to_json()
 * writes floats), so that what prints is what the library would print. */
static jval *from_json_item(const ipcn_cbor_item *it)
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
    case IPCN_CBOR_FLOAT: {
        uint8_t f[9];
        size_t n = 0;
        if (ipcn_cbor_build(f, sizeof f, &n, "f", it->f) != IPCN_OK ||
            ipcn_cbor_to_json(f, n, 0, s, sizeof s, NULL) != IPCN_OK)
            return json_new(J_NULL);
        return !strcmp(s, "null") ? json_new(J_NULL) : json_num_text(s);
    }
    case IPCN_CBOR_TEXT:
        return json_str(it->len ? (const char *)it->ptr : "", it->len);
    case IPCN_CBOR_ARRAY: {
        jval *a = json_new(J_ARR);
        for (uint64_t i = 0; i < it->count; i++)
            json_add(a, NULL, 0, from_json_item(&it->items[i]));
        return a;
    }
    case IPCN_CBOR_MAP: {
        jval *o = json_new(J_OBJ);
        for (uint64_t i = 0; i < it->count; i++) {
            const ipcn_cbor_item *k = &it->items[2 * i];
            json_add(o, k->len ? (const char *)k->ptr : "", k->len,
                     from_json_item(&it->items[2 * i + 1]));
        }
        return o;
    }
    case IPCN_CBOR_BOOL:
        return json_new(it->u ? J_TRUE : J_FALSE);
    default:
        return json_new(J_NULL);
    }
}

/* The JSON text p[0..n) as CBOR in a new buffer (*cbor, *len), or -1
 * with why in err. */
static int json_to_cbor_buf(const char *p, size_t n, uint8_t **cbor,
                            size_t *len, char *err, size_t errlen)
{
    ipcn_json_error e = {0, NULL};
    size_t need = 0;
    int st = ipcn_cbor_from_json(p, n, 0, NULL, 0, &need, &e);
    if (st == IPCN_OK) {
        *cbor = xmalloc(need ? need : 1);
        st = ipcn_cbor_from_json(p, n, 0, *cbor, need, len, &e);
        if (st != IPCN_OK)
            free(*cbor);
    }
    if (st == IPCN_OK)
        return 0;
    if (err && errlen) {
        if (st != IPCN_BAD_REQUEST)
            snprintf(err, errlen, "%d %s", st, ipcn_status_str(st));
        else if (e.offset >= n)
            snprintf(err, errlen, "at the end: %s", e.what ? e.what : "invalid");
        else
            snprintf(err, errlen, "at byte %zu: %s", e.offset + 1,
                     e.what ? e.what : "invalid");
    }
    return -1;
}

int json_parse(const char *p, size_t n, jval **out, char *err, size_t errlen)
{
    uint8_t *cbor;
    size_t len = 0;
    if (json_to_cbor_buf(p, n, &cbor, &len, err, errlen) < 0)
        return -1;
    ipcn_cbor_item *root = NULL;
    int st = ipcn_cbor_tree_decode(cbor, len, 0, &root);
    if (st == IPCN_OK)
        *out = from_json_item(root);
    else if (err && errlen)
        snprintf(err, errlen, "%d %s", st, ipcn_status_str(st));
    ipcn_cbor_tree_free(root);
    free(cbor);
    return st == IPCN_OK ? 0 : -1;
}

bool json_valid(const char *p, size_t n)
{
    return ipcn_cbor_from_json(p, n, 0, NULL, 0, NULL, NULL) == IPCN_OK;
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
