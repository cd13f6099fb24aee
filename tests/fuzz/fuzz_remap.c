/* SPDX-License-Identifier: MIT */
/*
 * fuzz_remap.c — libFuzzer harness of the namespace and remap parsers and
 * the resolver (src/util/remap.c), whose texts come from the environment
 * (IPCNET_NAMESPACE, IPCNET_REMAP), and of the parser of a lock file's
 * line (ipcn__lock_line_parse(), names.c), which another process wrote.
 *
 * The input is "NS\0RULES\0NAME" (missing parts are empty).  Properties:
 * parsers answer 100 or 200 (307 only when out of memory) and a refused
 * text changes nothing; a resolved name fits IPCN_PATH_MAX and is NUL-
 * ended where its length says; without a namespace nor rules a relative
 * name resolves to itself and an absolute one to itself without its '/';
 * with a namespace and no rules, a relative name is "NS/" + name; a name
 * that starts with '@' is never touched; resolving is deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/util.h"

/* The next NUL-ended part of [*p, end), in its own exact-size copy. */
static char *fr_part(const uint8_t **p, const uint8_t *end, size_t *n)
{
    const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
    *n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    char *c = malloc(*n ? *n : 1);
    if (c)
        memcpy(c, *p, *n);
    *p = nul ? nul + 1 : end;
    return c;
}

static void fr_resolve_check(const ipcn__names *t, const char *name, size_t n)
{
    char out[IPCN_PATH_MAX + 1], again[IPCN_PATH_MAX + 1];
    size_t len = 0, len2 = 0;
    memset(out, 0x55, sizeof out);
    int st = ipcn__names_resolve(t, name, n, out, &len);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    int st2 = ipcn__names_resolve(t, name, n, again, &len2);
    FUZZ_ASSERT(st2 == st);
    if (st != IPCN_OK)
        return;
    FUZZ_ASSERT(len >= 1 && len <= IPCN_PATH_MAX && out[len] == 0);
    FUZZ_ASSERT(len2 == len && !memcmp(out, again, len));
    int abs = name[0] == '/';
    if (name[abs] == '@') {
        FUZZ_ASSERT(len == n - (size_t)abs && !memcmp(out, name + abs, len));
        return;
    }
    if (t->nrules)
        return;
    if (abs || !t->ns_len) {
        FUZZ_ASSERT(len == n - (size_t)abs && !memcmp(out, name + abs, len));
    } else {
        FUZZ_ASSERT(len == t->ns_len + 1 + n);
        FUZZ_ASSERT(!memcmp(out, t->ns, t->ns_len) && out[t->ns_len] == '/');
        FUZZ_ASSERT(!memcmp(out + t->ns_len + 1, name, n));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    size_t nn, rn, mn;
    char *ns = fr_part(&p, end, &nn), *rules = fr_part(&p, end, &rn),
         *name = fr_part(&p, end, &mn);
    if (!ns || !rules || !name)
        goto out;

    /* The whole input as a lock file's line, too. */
    int32_t pid = 0;
    int lst = ipcn__lock_line_parse((const char *)data, size, &pid);
    FUZZ_ASSERT(lst == IPCN_OK || lst == IPCN_BAD_REQUEST);
    if (lst == IPCN_OK)
        FUZZ_ASSERT(pid > 0 && size >= 21 && data[size - 1] == '\n');

    ipcn__names t;
    memset(&t, 0, sizeof t);
    char why[256];
    int st = ipcn__names_set_ns(&t, ns, nn, why, sizeof why);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    if (st != IPCN_OK) {
        FUZZ_ASSERT(t.ns_len == 0 && memchr(why, 0, sizeof why));
    } else {
        FUZZ_ASSERT(t.ns_len <= IPCN__NS_MAX && t.ns[t.ns_len] == 0);
        FUZZ_ASSERT(!t.ns_len || (t.ns[0] != '/' && t.ns[t.ns_len - 1] != '/'));
    }
    st = ipcn__names_add_rules(&t, rules, rn, why, sizeof why);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST ||
                st == IPCN_INSUFFICIENT_MEMORY);
    if (st != IPCN_OK)
        FUZZ_ASSERT(t.nrules == 0);
    FUZZ_ASSERT(t.nrules <= IPCN__REMAP_RULES_MAX);
    for (uint32_t i = 0; i < t.nrules; i++) {
        const ipcn__remap_rule *r = &t.rules[i];
        FUZZ_ASSERT(ipcn__path_check(r->from, r->from_len) == IPCN_OK);
        FUZZ_ASSERT(ipcn__path_check(r->to, r->to_len) == IPCN_OK);
        FUZZ_ASSERT(strlen(r->from) == r->from_len && strlen(r->to) == r->to_len);
    }
    if (mn)
        fr_resolve_check(&t, name, mn);
    if (ipcn__name_check(name, mn) == IPCN_OK) {
        char full[IPCN_NAME_MAX + 1];
        if (ipcn__names_node_name(&t, name, mn, full, sizeof full) == IPCN_OK)
            FUZZ_ASSERT(ipcn__name_check(full, strlen(full)) == IPCN_OK);
    }
    ipcn__names_clear(&t);
out:
    free(ns);
    free(rules);
    free(name);
    return 0;
}
