/* SPDX-License-Identifier: MIT */
/*
 * remap.c — a node's namespace and remap rules: how a name the program
 * gives (to announce, publish, subscribe, query, request ...) becomes the
 * path on the wire, as ROS 2 users expect (README "Names: namespaces and
 * remapping" is the manual):
 *
 *   - a name that starts with '/' is absolute: the '/' is dropped and the
 *     namespace is not applied ("/tf" is "tf" in every namespace);
 *   - any other name is relative: the namespace and a '/' go before it
 *     ("camera/rgb" in namespace "left" is "left/camera/rgb");
 *   - then the first remap rule whose FROM matches the whole name (after
 *     that expansion) replaces it with its TO; a prefix rule, whose FROM
 *     and TO both end in '/' and two stars ("camera/" "**=cam/" "**"),
 *     matches FROM and every name under it and replaces that prefix.  Both sides of a rule are expanded the same way when
 *     the rules are read (a relative side takes the namespace);
 *   - a pattern is resolved as text in the same way: so a pattern whose
 *     leading literal segments are a prefix rule's FROM, or that equals an
 *     exact rule's FROM (a pattern without wildcards), is remapped; any
 *     other pattern is only namespaced, and may miss names a rule moved;
 *   - a name that starts with '@' (node services, "@sys/...") is never
 *     namespaced nor remapped.
 *
 * The texts come from outside the program (IPCNET_NAMESPACE, IPCNET_REMAP)
 * as much as from it, so they are parsed strictly and with bounds: a text
 * that does not parse is refused whole (200, with the reason), never
 * partly applied.  tests/fuzz/fuzz_remap.c fuzzes both parsers and the
 * resolver.
 */
#include <stdio.h>
#include <string.h>

#include "util/util.h"

void ipcn__names_clear(ipcn__names *t)
{
    for (uint32_t i = 0; i < t->nrules; i++) {
        ipcn__free(t->rules[i].from);
        ipcn__free(t->rules[i].to);
    }
    ipcn__free(t->rules);
    memset(t, 0, sizeof *t);
}

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return IPCN_BAD_REQUEST;
}

static bool ns_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int ipcn__names_set_ns(ipcn__names *t, const char *s, size_t n, char *why,
                       size_t whylen)
{
    if (n && s[0] == '/') {
        s++;
        n--;
    }
    if (n > IPCN__NS_MAX)
        return fail(why, whylen, "longer than %d bytes", IPCN__NS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/') {
            if (i == 0 || s[i - 1] == '/' || i == n - 1)
                return fail(why, whylen, "an empty segment (a doubled, "
                            "trailing or second leading '/')");
        } else if (!ns_char(s[i])) {
            return fail(why, whylen, "byte %zu is not one of A-Z a-z 0-9 _ "
                        "- /", i + 1);
        }
    }
    memcpy(t->ns, s, n);
    t->ns[n] = 0;
    t->ns_len = n;
    return IPCN_OK;
}

/* Expand name [s, s+n) to *out as a wire path: absolute (a leading '/')
 * as it is, relative after the namespace.  NULL in out to only measure. */
static size_t expand(const ipcn__names *t, const char *s, size_t n, bool *abs,
                     const char **body, size_t *blen)
{
    *abs = n && s[0] == '/';
    *body = s + *abs;
    *blen = n - *abs;
    return *abs || !t->ns_len ? *blen : t->ns_len + 1 + *blen;
}

static void expand_into(const ipcn__names *t, bool abs, const char *body,
                        size_t blen, char *out)
{
    size_t k = 0;
    if (!abs && t->ns_len) {
        memcpy(out, t->ns, t->ns_len);
        out[t->ns_len] = '/';
        k = t->ns_len + 1;
    }
    memcpy(out + k, body, blen);
    out[k + blen] = 0;
}

/* Only printable ASCII of a rule is quoted back, and not much of it. */
static const char *quote(const char *s, size_t n, char *buf, size_t cap)
{
    if (n > 60)
        return "";
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7E || s[i] == '"')
            return "";
    snprintf(buf, cap, " \"%.*s\"", (int)n, s);
    return buf;
}

/* One side of a rule: an optional '/' (absolute), a path, an optional
 * ending of '/' and two stars (a prefix rule).  The path is what a path
 * must be (ipcn__path_check: no wildcard, no empty segment), not '@...'. */
static int rule_side(const ipcn__names *t, const char *s, size_t n,
                     const char *which, char **out, size_t *outlen,
                     bool *prefix, char *why, size_t whylen)
{
    if (n && (s[0] == ' ' || s[n - 1] == ' '))
        return fail(why, whylen, "%s starts or ends with a space", which);
    *prefix = n >= 3 && !memcmp(s + n - 3, "/**", 3);
    if (*prefix)
        n -= 3;
    bool abs;
    const char *body;
    size_t blen;
    size_t len = expand(t, s, n, &abs, &body, &blen);
    if (!blen)
        return fail(why, whylen, "%s is empty", which);
    if (body[0] == '@')
        return fail(why, whylen, "%s names a node service (@...), which "
                    "is never remapped", which);
    if (ipcn__path_check(body, blen) != IPCN_OK)
        return fail(why, whylen, "%s is not a path (segments separated by "
                    "single '/', no '*' but a final \"/**\")", which);
    if (len > IPCN_PATH_MAX)
        return fail(why, whylen, "%s is longer than %d bytes with the "
                    "namespace", which, IPCN_PATH_MAX);
    if (!(*out = ipcn__malloc(len + 1)))
        return IPCN_INSUFFICIENT_MEMORY;
    expand_into(t, abs, body, blen, *out);
    *outlen = len;
    return IPCN_OK;
}

static int add_rule(ipcn__names *t, const char *s, size_t n, uint32_t k,
                    char *why, size_t whylen)
{
    char q[80], w[200] = "";
    const char *eq = memchr(s, '=', n);
    if (!n)
        return fail(why, whylen, "rule %u is empty (a doubled, leading or "
                    "trailing ',')", k);
    if (!eq || memchr(eq + 1, '=', n - (size_t)(eq - s) - 1))
        return fail(why, whylen, "rule %u%s: one FROM=TO expected", k,
                    quote(s, n, q, sizeof q));
    if (t->nrules >= IPCN__REMAP_RULES_MAX)
        return fail(why, whylen, "more than %d rules", IPCN__REMAP_RULES_MAX);
    ipcn__remap_rule r = {0};
    bool pf, pt;
    int st = rule_side(t, s, (size_t)(eq - s), "FROM", &r.from, &r.from_len,
                       &pf, w, sizeof w);
    if (st == IPCN_OK)
        st = rule_side(t, eq + 1, n - (size_t)(eq - s) - 1, "TO", &r.to,
                       &r.to_len, &pt, w, sizeof w);
    if (st == IPCN_OK && pf != pt) {
        snprintf(w, sizeof w, "FROM and TO both end in \"/**\" (a prefix "
                 "rule) or neither does");
        st = IPCN_BAD_REQUEST;
    }
    if (st != IPCN_OK) {
        ipcn__free(r.from);
        ipcn__free(r.to);
        if (st == IPCN_BAD_REQUEST)
            fail(why, whylen, "rule %u%s: %s", k, quote(s, n, q, sizeof q), w);
        return st;
    }
    r.prefix = pf;
    ipcn__remap_rule *nr =
        ipcn__realloc(t->rules, (t->nrules + 1) * sizeof *nr);
    if (!nr) {
        ipcn__free(r.from);
        ipcn__free(r.to);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    t->rules = nr;
    t->rules[t->nrules++] = r;
    return IPCN_OK;
}

int ipcn__names_add_rules(ipcn__names *t, const char *s, size_t n, char *why,
                          size_t whylen)
{
    if (n > IPCN__REMAP_TEXT_MAX)
        return fail(why, whylen, "longer than %d bytes", IPCN__REMAP_TEXT_MAX);
    if (!n)
        return IPCN_OK;
    uint32_t before = t->nrules, k = 1;
    size_t i = 0;
    for (;;) {
        const char *comma = memchr(s + i, ',', n - i);
        size_t j = comma ? (size_t)(comma - s) : n;
        int st = add_rule(t, s + i, j - i, k++, why, whylen);
        if (st != IPCN_OK) {
            /* All or nothing: the rules of this text go again. */
            while (t->nrules > before) {
                t->nrules--;
                ipcn__free(t->rules[t->nrules].from);
                ipcn__free(t->rules[t->nrules].to);
            }
            return st;
        }
        if (!comma)
            return IPCN_OK;
        i = j + 1;
    }
}

int ipcn__names_resolve(const ipcn__names *t, const char *s, size_t n,
                        char *out, size_t *outlen)
{
    if (!s || !n)
        return IPCN_BAD_REQUEST;
    bool abs;
    const char *body;
    size_t blen;
    size_t len = expand(t, s, n, &abs, &body, &blen);
    if (!blen || len > IPCN_PATH_MAX)
        return IPCN_BAD_REQUEST;
    if (body[0] == '@') {
        /* Node services are the node's own, whatever its namespace. */
        memcpy(out, body, blen);
        out[blen] = 0;
        *outlen = blen;
        return IPCN_OK;
    }
    expand_into(t, abs, body, blen, out);
    for (uint32_t i = 0; i < t->nrules; i++) {
        const ipcn__remap_rule *r = &t->rules[i];
        if (len < r->from_len || memcmp(out, r->from, r->from_len) ||
            (len > r->from_len && (!r->prefix || out[r->from_len] != '/')))
            continue;
        size_t rest = len - r->from_len;
        if (r->to_len + rest > IPCN_PATH_MAX)
            return IPCN_BAD_REQUEST;
        memmove(out + r->to_len, out + r->from_len, rest + 1);
        memcpy(out, r->to, r->to_len);
        len = r->to_len + rest;
        break; /* the first rule that matches, alone */
    }
    *outlen = len;
    return IPCN_OK;
}

int ipcn__names_node_name(const ipcn__names *t, const char *name, size_t n,
                          char *out, size_t cap)
{
    size_t len = t->ns_len ? t->ns_len + 1 + n : n;
    if (len > IPCN_NAME_MAX || len >= cap)
        return IPCN_BAD_REQUEST;
    size_t k = 0;
    if (t->ns_len) {
        for (size_t i = 0; i < t->ns_len; i++)
            out[i] = t->ns[i] == '/' ? '.' : t->ns[i];
        out[t->ns_len] = '.';
        k = t->ns_len + 1;
    }
    memcpy(out + k, name, n);
    out[len] = 0;
    return IPCN_OK;
}
