/* SPDX-License-Identifier: MIT */
/*
 * manifest_value.c — the values of a launch manifest (manifest_impl.h):
 * numbers, booleans, words, names, paths and service paths, each checked
 * strictly (a number is digits only: no sign, no leading zero, no unit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_impl.h"
#include "util/util.h"

const char *sup__mf_kind(const ipcn__yn *v)
{
    if (v->kind == IPCN__Y_SCALAR && !v->len)
        return "nothing";
    return ipcn__pl_kind(v->kind);
}

int sup__mf_oom(mctx *x)
{
    return ipcn__pl_oom(&x->c);
}

int sup__mf_map(mctx *x, const ipcn__yn *v, const char *what)
{
    if (v->kind != IPCN__Y_MAP)
        return ipcn__pl_fail(&x->c, v->line, "%s: a mapping expected, not %s",
                             what, sup__mf_kind(v));
    return IPCN_OK;
}

int sup__mf_scalar(mctx *x, const ipcn__yn *v, const char *what)
{
    if (v->kind != IPCN__Y_SCALAR || !v->len)
        return ipcn__pl_fail(&x->c, v->line, "%s: a value expected, not %s",
                             what, sup__mf_kind(v));
    return IPCN_OK;
}

/* A whole number in lo..hi: decimal digits, no sign, no leading zero. */
int sup__mf_u32(mctx *x, const ipcn__yn *v, const char *what, uint32_t lo,
                uint32_t hi, uint32_t *out)
{
    int st = sup__mf_scalar(x, v, what);
    if (st != IPCN_OK)
        return st;
    bool digits = v->len <= 10 && !(v->len > 1 && v->text[0] == '0');
    for (size_t i = 0; digits && i < v->len; i++)
        digits = v->text[i] >= '0' && v->text[i] <= '9';
    if (!digits)
        return ipcn__pl_fail(&x->c, v->line,
                             "%s: a whole number expected (%u..%u), not "
                             "\"%.40s\"",
                             what, lo, hi, v->text);
    unsigned long long n = strtoull(v->text, NULL, 10);
    if (n < lo || n > hi)
        return ipcn__pl_fail(&x->c, v->line, "%s: %s is out of range (%u..%u)",
                             what, v->text, lo, hi);
    *out = (uint32_t)n;
    return IPCN_OK;
}

int sup__mf_bool(mctx *x, const ipcn__yn *v, const char *what, bool *out)
{
    int st = sup__mf_scalar(x, v, what);
    if (st != IPCN_OK)
        return st;
    if (!strcmp(v->text, "true") || !strcmp(v->text, "false")) {
        *out = v->text[0] == 't';
        return IPCN_OK;
    }
    return ipcn__pl_fail(&x->c, v->line,
                         "%s: true or false expected, not \"%.40s\"", what,
                         v->text);
}

/* One of words (NULL-ended) -> its value. */
int sup__mf_word(mctx *x, const ipcn__yn *v, const char *what,
                 const sup_mf_word *words, int *out)
{
    int st = sup__mf_scalar(x, v, what);
    if (st != IPCN_OK)
        return st;
    char list[128] = "";
    for (const sup_mf_word *w = words; w->name; w++) {
        if (!strcmp(w->name, v->text)) {
            *out = w->value;
            return IPCN_OK;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                 w == words ? "" : ", ", w->name);
    }
    return ipcn__pl_fail(&x->c, v->line, "%s: \"%.40s\" is not one of %s", what,
                         v->text, list);
}

/* A component, robot or node name: 1..max of [A-Za-z0-9._-], not starting
 * with '.' (a node name's rule; also a directory of the versions store). */
int sup__mf_name(mctx *x, const ipcn__yn *v, const char *what, size_t max)
{
    int st = sup__mf_scalar(x, v, what);
    if (st != IPCN_OK)
        return st;
    if (v->len > max || ipcn__name_check(v->text, v->len) != IPCN_OK)
        return ipcn__pl_fail(&x->c, v->line,
                             "%s: \"%.70s\" is not a name (1 to %zu of "
                             "A-Z a-z 0-9 . _ -, not starting with .)",
                             what, v->text, max);
    return IPCN_OK;
}

char *sup__mf_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

/* An absolute path without "." segments, repeated or trailing slashes
 * (".." is kept: the file system, not the text, says where it leads). */
char *sup__mf_path_clean(const char *base, const char *p)
{
    size_t n = strlen(p) + (p[0] == '/' ? 0 : strlen(base) + 1) + 2;
    char *in = malloc(n), *out = malloc(n);
    if (!in || !out) {
        free(in);
        free(out);
        return NULL;
    }
    if (p[0] == '/')
        snprintf(in, n, "%s", p);
    else
        snprintf(in, n, "%s/%s", base, p);
    size_t o = 0;
    for (const char *s = in; *s;) {
        while (*s == '/')
            s++;
        size_t len = strcspn(s, "/");
        if (!len)
            break;
        if (!(len == 1 && s[0] == '.')) {
            out[o++] = '/';
            memcpy(out + o, s, len);
            o += len;
        }
        s += len;
    }
    if (!o)
        out[o++] = '/';
    out[o] = 0;
    free(in);
    return out;
}

/* A path of the file: relative to the manifest's directory. */
int sup__mf_path(mctx *x, const ipcn__yn *v, const char *what, char **out)
{
    int st = sup__mf_scalar(x, v, what);
    if (st != IPCN_OK)
        return st;
    for (size_t i = 0; i < v->len; i++)
        if ((unsigned char)v->text[i] < 0x20 || v->text[i] == 0x7f)
            return ipcn__pl_fail(&x->c, v->line,
                                 "%s: a control character in a path", what);
    char *p = sup__mf_path_clean(x->m->dir, v->text);
    if (!p)
        return sup__mf_oom(x);
    if (strlen(p) > SUP_MF_PATH_MAX) {
        free(p);
        return ipcn__pl_fail(&x->c, v->line,
                             "%s: longer than %u bytes (from the manifest's "
                             "directory)",
                             what, SUP_MF_PATH_MAX);
    }
    free(*out);
    *out = p;
    return IPCN_OK;
}

/* A service path (health, safe_state request). */
int sup__mf_service(mctx *x, const ipcn__yn *v, const char *what, char **out)
{
    int st = sup__mf_scalar(x, v, what);
    if (st != IPCN_OK)
        return st;
    if (ipcn__path_check(v->text, v->len) != IPCN_OK)
        return ipcn__pl_fail(&x->c, v->line,
                             "%s: \"%.60s\" is not a service path (segments "
                             "separated by /)",
                             what, v->text);
    if (!(*out = sup__mf_strdup(v->text)))
        return sup__mf_oom(x);
    return IPCN_OK;
}
