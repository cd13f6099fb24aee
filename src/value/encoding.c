/* SPDX-License-Identifier: MIT */
/* encoding.c — the parser of encoding strings (grammar in
 * include/ipcnet_value.h) and lookups of their parameters. */
#include <string.h>

#include "util/util.h"
#include "value/value.h"

#define NAME_MAX_LEN 127 /* RFC 6838 §4.2 */

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static int is_name_char(unsigned char c)
{
    return is_alnum(c) || (c && strchr("!#$&-^_.+", c));
}

static int is_token_char(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != ';' && c != '"' && c != '\\';
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int view_eq_nocase(ipcn_strview a, const char *b, size_t bn)
{
    if (a.len != bn)
        return 0;
    for (size_t i = 0; i < bn; i++)
        if (lower((unsigned char)a.ptr[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* A name at s[*i]: advances *i; 0 when there is none or it is too long. */
static int take_name(const char *s, size_t *i, ipcn_strview *out)
{
    size_t start = *i;
    if (!is_alnum((unsigned char)s[start]))
        return 0;
    size_t j = start + 1;
    while (is_name_char((unsigned char)s[j]))
        j++;
    if (j - start > NAME_MAX_LEN)
        return 0;
    out->ptr = s + start;
    out->len = j - start;
    *i = j;
    return 1;
}

static void skip_ows(const char *s, size_t *i)
{
    while (s[*i] == ' ' || s[*i] == '\t')
        (*i)++;
}

int ipcn_encoding_parse(const char *s, ipcn_encoding *out)
{
    if (!s || !out)
        return IPCN_BAD_REQUEST;
    size_t n = strnlen(s, IPCN_ENCODING_MAX_LEN + 1);
    if (n == 0 || n > IPCN_ENCODING_MAX_LEN)
        return IPCN_BAD_REQUEST;
    ipcn_encoding e;
    memset(&e, 0, sizeof e);
    size_t i = 0;
    if (!take_name(s, &i, &e.type))
        return IPCN_BAD_REQUEST;
    if (s[i] == '/') {
        i++;
        if (!take_name(s, &i, &e.subtype))
            return IPCN_BAD_REQUEST;
    } else {
        e.subtype.ptr = s + i;
    }
    while (s[i]) {
        skip_ows(s, &i);
        if (s[i] != ';')
            return IPCN_BAD_REQUEST;
        i++;
        skip_ows(s, &i);
        ipcn_encoding_kv kv;
        if (!take_name(s, &i, &kv.key) || s[i] != '=')
            return IPCN_BAD_REQUEST;
        i++;
        if (s[i] == '"') {
            size_t start = ++i;
            while (s[i] >= 0x20 && s[i] <= 0x7e && s[i] != '"' && s[i] != '\\')
                i++;
            if (s[i] != '"')
                return IPCN_BAD_REQUEST;
            kv.value.ptr = s + start;
            kv.value.len = i - start;
            i++;
        } else {
            size_t start = i;
            while (is_token_char((unsigned char)s[i]))
                i++;
            if (i == start)
                return IPCN_BAD_REQUEST;
            kv.value.ptr = s + start;
            kv.value.len = i - start;
        }
        if (e.nparams == IPCN_ENCODING_MAX_PARAMS)
            return IPCN_BAD_REQUEST;
        for (uint32_t k = 0; k < e.nparams; k++)
            if (view_eq_nocase(e.params[k].key, kv.key.ptr, kv.key.len))
                return IPCN_BAD_REQUEST; /* a repeated parameter */
        e.params[e.nparams++] = kv;
    }
    *out = e;
    return IPCN_OK;
}

int ipcn_encoding_is(const ipcn_encoding *e, const char *pattern)
{
    if (!e || !pattern)
        return 0;
    const char *slash = strchr(pattern, '/');
    size_t tn = slash ? (size_t)(slash - pattern) : strlen(pattern);
    if (!view_eq_nocase(e->type, pattern, tn))
        return 0;
    if (!slash)
        return e->subtype.len == 0;
    if (strcmp(slash + 1, "*") == 0)
        return e->subtype.len != 0;
    return e->subtype.len != 0 &&
           view_eq_nocase(e->subtype, slash + 1, strlen(slash + 1));
}

int ipcn_encoding_param(const ipcn_encoding *e, const char *key,
                        ipcn_strview *out)
{
    if (!e || !key || !out || e->nparams > IPCN_ENCODING_MAX_PARAMS)
        return IPCN_BAD_REQUEST;
    size_t kn = strlen(key);
    for (uint32_t k = 0; k < e->nparams; k++) {
        if (view_eq_nocase(e->params[k].key, key, kn)) {
            *out = e->params[k].value;
            return IPCN_OK;
        }
    }
    return IPCN_NOT_FOUND;
}

int ipcn_encoding_param_int(const ipcn_encoding *e, const char *key,
                            int64_t *out)
{
    ipcn_strview v;
    int st = ipcn_encoding_param(e, key, &v);
    if (st != IPCN_OK)
        return st;
    size_t i = 0;
    int neg = 0;
    if (v.len && v.ptr[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == v.len || (v.ptr[i] == '0' && v.len - i > 1) ||
        (neg && v.ptr[i] == '0'))
        return IPCN_BAD_REQUEST; /* empty, leading zero, "-0" */
    uint64_t x = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < v.len; i++) {
        unsigned d = (unsigned char)v.ptr[i] - '0';
        if (d > 9 || x > (limit - d) / 10)
            return IPCN_BAD_REQUEST;
        x = x * 10 + d;
    }
    *out = neg ? (x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x)
               : (int64_t)x;
    return IPCN_OK;
}

int ipcn_encoding_list_next(ipcn_strview list, size_t *pos, ipcn_strview *item)
{
    if (!pos || !item || *pos > list.len || (list.len && !list.ptr))
        return IPCN_BAD_REQUEST;
    if (*pos == list.len) {
        /* the end; "x," ends in an empty element */
        if (list.len && list.ptr[list.len - 1] == ',' && *pos != 0)
            return IPCN_BAD_REQUEST;
        return IPCN_NO_DATA;
    }
    const char *start = list.ptr + *pos;
    const char *comma = memchr(start, ',', list.len - *pos);
    size_t n = comma ? (size_t)(comma - start) : list.len - *pos;
    if (n == 0)
        return IPCN_BAD_REQUEST;
    item->ptr = start;
    item->len = n;
    *pos += n + (comma ? 1 : 0);
    return IPCN_OK;
}
