/* SPDX-License-Identifier: MIT */
/*
 * cbor_build.c — ipcn_cbor_build(): one CBOR item from a format string and
 * arguments, in the spirit of Jansson's json_pack() (the format language
 * is documented in ipcnet_value.h).  The format is checked whole before an
 * argument is read; then one pass writes with a writer, which counts on
 * past the end of a small buffer to report the size needed.  A container's
 * item count, which its head carries, is counted ahead in the format.
 */
#include <stdarg.h>
#include <string.h>

#include "util/util.h"
#include "value/value.h"

enum tok_kind {
    T_END,
    T_ITEM,  /* a letter, with its modifiers */
    T_OPEN,  /* '[' or '{' */
    T_CLOSE, /* ']' or '}' */
    T_BAD
};

typedef struct tok {
    enum tok_kind kind;
    char c;       /* the letter or bracket */
    int hash;     /* '#' followed the letter */
    int optional; /* '?' followed the letter */
} tok;

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' ||
           c == ':';
}

/* The token at *p (separators skipped); *p moves past it. */
static tok next_tok(const char **p)
{
    tok t = {T_END, 0, 0, 0};
    const char *s = *p;
    while (is_sep(*s))
        s++;
    if (!*s) {
        *p = s;
        return t;
    }
    t.c = *s++;
    switch (t.c) {
    case '[':
    case '{':
        t.kind = T_OPEN;
        break;
    case ']':
    case '}':
        t.kind = T_CLOSE;
        break;
    case 's':
    case 'i':
    case 'I':
    case 'u':
    case 'U':
    case 'f':
    case 'b':
    case 'n':
    case 'y':
    case 'o':
        t.kind = T_ITEM;
        if (*s == '#' && (t.c == 's' || t.c == 'f' || t.c == 'I')) {
            t.hash = 1;
            s++;
        }
        if (*s == '?' && t.c == 's' && !t.hash) {
            t.optional = 1;
            s++;
        }
        break;
    default:
        t.kind = T_BAD;
        break;
    }
    *p = s;
    return t;
}

/* May this token be a map key?  Text and integers. */
static int key_tok(const tok *t)
{
    return t->kind == T_ITEM && !t->optional &&
           ((t->c == 's') || (!t->hash && (t->c == 'i' || t->c == 'I' ||
                                           t->c == 'u' || t->c == 'U')));
}

/* Is fmt exactly one well-formed item?  Brackets matched and nested at
 * most IPCN_CBOR_MAX_DEPTH deep, maps of text or integer keys, each with
 * its value.  100 or 200. */
static int check_format(const char *fmt)
{
    char open[IPCN_CBOR_MAX_DEPTH];
    uint64_t items[IPCN_CBOR_MAX_DEPTH];
    unsigned depth = 0;
    int top = 0;
    const char *p = fmt;
    for (;;) {
        tok t = next_tok(&p);
        if (t.kind == T_END)
            break;
        if (t.kind == T_BAD)
            return IPCN_BAD_REQUEST;
        if (t.kind == T_CLOSE) {
            if (!depth || open[depth - 1] != (t.c == ']' ? '[' : '{') ||
                (t.c == '}' && (items[depth - 1] & 1)))
                return IPCN_BAD_REQUEST; /* unmatched, or a key alone */
            depth--;
            continue;
        }
        if (depth == 0) {
            if (top++)
                return IPCN_BAD_REQUEST; /* a second item */
        } else {
            if (open[depth - 1] == '{' && !(items[depth - 1] & 1) &&
                !key_tok(&t))
                return IPCN_BAD_REQUEST;
            items[depth - 1]++;
        }
        if (t.kind == T_OPEN) {
            if (depth == IPCN_CBOR_MAX_DEPTH)
                return IPCN_BAD_REQUEST;
            open[depth] = t.c;
            items[depth++] = 0;
        }
    }
    return depth == 0 && top == 1 ? IPCN_OK : IPCN_BAD_REQUEST;
}

/* The items of the (checked) container whose contents start at p. */
static uint64_t count_items(const char *p)
{
    uint64_t n = 0;
    unsigned depth = 0;
    for (;;) {
        tok t = next_tok(&p);
        if (t.kind == T_CLOSE) {
            if (depth == 0)
                return n;
            depth--;
            continue;
        }
        if (t.kind != T_ITEM && t.kind != T_OPEN)
            return n; /* T_END: impossible in a checked format */
        if (depth == 0)
            n++;
        if (t.kind == T_OPEN)
            depth++;
    }
}

/* One token's item, its arguments read from ap. */
static void put_tok(ipcn_cbor_writer *w, const tok *t, va_list *ap)
{
    switch (t->c) {
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (t->hash) {
            size_t n = va_arg(*ap, size_t);
            ipcn_cbor_put_text(w, s, n);
        } else if (!s && t->optional) {
            ipcn_cbor_put_null(w);
        } else {
            ipcn_cbor_put_cstr(w, s);
        }
        return;
    }
    case 'i':
        ipcn_cbor_put_int(w, va_arg(*ap, int));
        return;
    case 'u':
        ipcn_cbor_put_uint(w, va_arg(*ap, unsigned));
        return;
    case 'U':
        ipcn_cbor_put_uint(w, va_arg(*ap, uint64_t));
        return;
    case 'I':
        if (t->hash) {
            const int64_t *v = va_arg(*ap, const int64_t *);
            size_t n = va_arg(*ap, size_t);
            if (!v && n) {
                w->status = IPCN_BAD_REQUEST; /* sticky: the call fails */
                return;
            }
            ipcn_cbor_put_array(w, n);
            for (size_t k = 0; k < n; k++)
                ipcn_cbor_put_int(w, v[k]);
        } else {
            ipcn_cbor_put_int(w, va_arg(*ap, int64_t));
        }
        return;
    case 'f':
        if (t->hash) {
            const double *v = va_arg(*ap, const double *);
            size_t n = va_arg(*ap, size_t);
            if (!v && n) {
                w->status = IPCN_BAD_REQUEST;
                return;
            }
            ipcn_cbor_put_array(w, n);
            for (size_t k = 0; k < n; k++)
                ipcn_cbor_put_float(w, v[k]);
        } else {
            ipcn_cbor_put_float(w, va_arg(*ap, double));
        }
        return;
    case 'b':
        ipcn_cbor_put_bool(w, va_arg(*ap, int));
        return;
    case 'n':
        ipcn_cbor_put_null(w);
        return;
    case 'y': {
        const void *p = va_arg(*ap, const void *);
        size_t n = va_arg(*ap, size_t);
        ipcn_cbor_put_bytes(w, p, n);
        return;
    }
    case 'o': {
        const void *p = va_arg(*ap, const void *);
        size_t n = va_arg(*ap, size_t);
        if (!p)
            w->status = IPCN_BAD_REQUEST;
        else
            ipcn_cbor_put_encoded(w, p, n);
        return;
    }
    default:
        return;
    }
}

int ipcn_cbor_vbuild(void *buf, size_t cap, size_t *len, const char *fmt,
                     va_list ap)
{
    if ((!buf && cap) || !fmt || check_format(fmt) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, buf ? cap : 0, 0);
    va_list args;
    va_copy(args, ap);
    const char *p = fmt;
    for (;;) {
        tok t = next_tok(&p);
        if (t.kind == T_END || w.status == IPCN_BAD_REQUEST)
            break;
        if (t.kind == T_OPEN) {
            uint64_t n = count_items(p);
            if (t.c == '[')
                ipcn_cbor_put_array(&w, n);
            else
                ipcn_cbor_put_map(&w, n / 2);
        } else if (t.kind == T_ITEM) {
            put_tok(&w, &t, &args);
        }
    }
    va_end(args);
    size_t n = 0;
    int st = ipcn_cbor_writer_finish(&w, &n);
    if (st == IPCN_BAD_REQUEST)
        return st;
    if (len)
        *len = n;
    return buf ? st : IPCN_OK;
}

int ipcn_cbor_build(void *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = ipcn_cbor_vbuild(buf, cap, len, fmt, ap);
    va_end(ap);
    return st;
}
