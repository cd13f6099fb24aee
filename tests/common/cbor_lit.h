/* SPDX-License-Identifier: MIT */
/*
 * cbor_lit.h — CBOR values for tests, written as JSON-like literals:
 *   cl_cbor("{\"map\": {\"x\": \"float\"}}", buf, cap)
 * Objects, arrays, "strings" (no escapes), integers, numbers with a '.' or
 * an exponent (floats), true, false, null, and h'hex' (a byte string).
 * Object keys may also be integers (to build invalid schemas).  Abort on a
 * malformed literal: a test bug.  Header-only.
 */
#ifndef IPCN_CBOR_LIT_H
#define IPCN_CBOR_LIT_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_value.h"

static void cl_ws(const char **p)
{
    while (**p && isspace((unsigned char)**p))
        (*p)++;
}

static void cl_die(const char *p)
{
    fprintf(stderr, "cbor_lit: malformed literal at \"%s\"\n", p);
    abort();
}

static void cl_item(ipcn_cbor_writer *w, const char **p);

/* Count the items of the array or object starting after its opening
 * bracket, by scanning ahead (nesting and strings respected). */
static uint64_t cl_count(const char *p, char close)
{
    int depth = 0;
    uint64_t n = 0;
    int any = 0;
    for (; *p; p++) {
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q)
                p++;
            any = 1;
            continue;
        }
        if (*p == '[' || *p == '{') {
            depth++;
            any = 1;
        } else if (*p == ']' || *p == '}') {
            if (depth == 0 && *p == close)
                return any ? n + 1 : 0;
            depth--;
        } else if (*p == ',' && depth == 0) {
            n++;
        } else if (!isspace((unsigned char)*p)) {
            any = 1;
        }
    }
    cl_die(p);
    return 0;
}

static void cl_item(ipcn_cbor_writer *w, const char **p)
{
    cl_ws(p);
    const char *s = *p;
    if (*s == '{' || *s == '[') {
        int obj = *s == '{';
        uint64_t n = cl_count(s + 1, obj ? '}' : ']');
        if (obj)
            ipcn_cbor_put_map(w, n);
        else
            ipcn_cbor_put_array(w, n);
        (*p)++;
        for (uint64_t i = 0; i < n; i++) {
            cl_item(w, p);
            if (obj) {
                cl_ws(p);
                if (**p != ':')
                    cl_die(*p);
                (*p)++;
                cl_item(w, p);
            }
            cl_ws(p);
            if (**p == ',')
                (*p)++;
        }
        cl_ws(p);
        if (**p != (obj ? '}' : ']'))
            cl_die(*p);
        (*p)++;
    } else if (*s == '"') {
        const char *e = strchr(s + 1, '"');
        if (!e)
            cl_die(s);
        ipcn_cbor_put_text(w, s + 1, (size_t)(e - s - 1));
        *p = e + 1;
    } else if (s[0] == 'h' && s[1] == '\'') {
        uint8_t b[256];
        size_t n = 0;
        const char *q = s + 2;
        while (*q && *q != '\'' && n < sizeof b) {
            unsigned v;
            if (sscanf(q, "%2x", &v) != 1)
                cl_die(q);
            b[n++] = (uint8_t)v;
            q += 2;
        }
        if (*q != '\'')
            cl_die(q);
        ipcn_cbor_put_bytes(w, b, n);
        *p = q + 1;
    } else if (!strncmp(s, "true", 4) || !strncmp(s, "false", 5)) {
        ipcn_cbor_put_bool(w, s[0] == 't');
        *p += s[0] == 't' ? 4 : 5;
    } else if (!strncmp(s, "null", 4)) {
        ipcn_cbor_put_null(w);
        *p += 4;
    } else {
        char *e;
        size_t k = strspn(s, "+-0123456789");
        if (k && (s[k] == '.' || s[k] == 'e' || s[k] == 'E')) {
            double d = strtod(s, &e);
            ipcn_cbor_put_float(w, d);
        } else {
            long long v = strtoll(s, &e, 10);
            ipcn_cbor_put_int(w, v);
        }
        if (e == s)
            cl_die(s);
        *p = e;
    }
}

/* Encode the literal into out[0..cap); returns the length. */
static inline size_t cl_cbor(const char *lit, void *out, size_t cap)
{
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, out, cap, 0);
    const char *p = lit;
    cl_item(&w, &p);
    cl_ws(&p);
    size_t n = 0;
    if (*p || ipcn_cbor_writer_finish(&w, &n) != IPCN_OK)
        cl_die(lit);
    return n;
}

#endif
