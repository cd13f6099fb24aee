/* SPDX-License-Identifier: MIT */
/*
 * fuzz_names.c — libFuzzer harness of the validators and the pattern
 * matcher (src/util/names.c).
 *
 * The input is "A\0B": A and B (B = A when there is no NUL) go through
 * every validator; when A is a valid pattern and B a valid path, the
 * matcher's answer is compared with a plain recursive matcher written here
 * from the definition.  Properties between the validators are checked too
 * (a valid name is a valid path, a valid path a valid pattern that matches
 * itself, and so on).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "util/util.h"

enum { FN_MAXSEG = 256 };

typedef struct fn_segs {
    size_t count;
    const char *p[FN_MAXSEG];
    size_t len[FN_MAXSEG];
} fn_segs;

static void fn_split(const char *s, size_t n, fn_segs *out)
{
    out->count = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            FUZZ_ASSERT(out->count < FN_MAXSEG);
            out->p[out->count] = s + start;
            out->len[out->count++] = i - start;
            start = i + 1;
        }
    }
}

/* The definition, recursively, remembering answers so that hostile
 * patterns stay polynomial: -1 unknown. */
static int fn_ref(const fn_segs *pat, size_t i, const fn_segs *path,
                  size_t j, signed char memo[][FN_MAXSEG + 1])
{
    if (memo[i][j] >= 0)
        return memo[i][j];
    int r;
    if (i == pat->count) {
        r = j == path->count;
    } else if (pat->len[i] == 2 && memcmp(pat->p[i], "**", 2) == 0) {
        r = fn_ref(pat, i + 1, path, j, memo) ||
            (j < path->count && fn_ref(pat, i, path, j + 1, memo));
    } else if (j == path->count) {
        r = 0;
    } else if ((pat->len[i] == 1 && pat->p[i][0] == '*') ||
               (pat->len[i] == path->len[j] &&
                memcmp(pat->p[i], path->p[j], path->len[j]) == 0)) {
        r = fn_ref(pat, i + 1, path, j + 1, memo);
    } else {
        r = 0;
    }
    memo[i][j] = (signed char)r;
    return r;
}

static signed char fn_memo[FN_MAXSEG + 1][FN_MAXSEG + 1];
static fn_segs fn_a, fn_b;

static int fn_reference_match(const char *pat, size_t pn, const char *path,
                              size_t n)
{
    fn_split(pat, pn, &fn_a);
    fn_split(path, n, &fn_b);
    for (size_t i = 0; i <= fn_a.count; i++)
        memset(fn_memo[i], -1, fn_b.count + 1);
    return fn_ref(&fn_a, 0, &fn_b, 0, fn_memo);
}

/* Every validator on one string, and how their answers relate. */
static void fn_validate(const char *s, size_t n)
{
    int utf8 = ipcn__utf8_valid(s, n);
    int name = ipcn__name_check(s, n);
    int path = ipcn__path_check(s, n);
    int pat = ipcn__pattern_check(s, n);
    int enc = ipcn__encoding_check(s, n);
    FUZZ_ASSERT(utf8 == 0 || utf8 == 1);
    FUZZ_ASSERT(name == IPCN_OK || name == IPCN_BAD_REQUEST);
    FUZZ_ASSERT(path == IPCN_OK || path == IPCN_BAD_REQUEST);
    FUZZ_ASSERT(pat == IPCN_OK || pat == IPCN_BAD_REQUEST);
    FUZZ_ASSERT(enc == IPCN_OK || enc == IPCN_BAD_REQUEST);

    if (name == IPCN_OK)
        FUZZ_ASSERT(path == IPCN_OK && enc == IPCN_OK && n <= IPCN_NAME_MAX);
    if (enc == IPCN_OK)
        FUZZ_ASSERT(utf8 && n <= IPCN_ENCODING_MAX);
    if (pat == IPCN_OK) {
        FUZZ_ASSERT(utf8 && n >= 1 && n <= IPCN_PATH_MAX);
        FUZZ_ASSERT(memchr(s, 0, n) == NULL);
        FUZZ_ASSERT(s[0] != '/' && s[n - 1] != '/');
    }
    if (path == IPCN_OK) {
        FUZZ_ASSERT(pat == IPCN_OK);
        FUZZ_ASSERT(memchr(s, '*', n) == NULL);
        /* a path is a pattern that matches itself, and "**" matches it */
        FUZZ_ASSERT(ipcn__pattern_match(s, n, s, n) == 1);
        FUZZ_ASSERT(ipcn__pattern_match("**", 2, s, n) == 1);
    }
}

/* s[0..n) as a C string in its own exact-size allocation. */
static char *fn_cstr(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = 0;
    }
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nul = memchr(in, 0, size);
    size_t an = nul ? (size_t)(nul - in) : size;
    size_t bn = nul ? size - an - 1 : size;
    /* Exact-size copies: ASan then sees any read past the given length. */
    char *a = malloc(an ? an : 1), *b = malloc(bn ? bn : 1);
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memcpy(a, in, an);
    memcpy(b, nul ? nul + 1 : in, bn);

    fn_validate(a, an);
    fn_validate(b, bn);

    if (ipcn__pattern_check(a, an) == IPCN_OK &&
        ipcn__path_check(b, bn) == IPCN_OK) {
        int got = ipcn__pattern_match(a, an, b, bn);
        FUZZ_ASSERT(got == fn_reference_match(a, an, b, bn));
        /* the public call agrees (neither string holds a NUL) */
        char *ac = fn_cstr(a, an), *bc = fn_cstr(b, bn);
        if (ac && bc)
            FUZZ_ASSERT(ipcn_pattern_match(ac, bc) == got);
        free(ac);
        free(bc);
    }
    free(a);
    free(b);
    return 0;
}
