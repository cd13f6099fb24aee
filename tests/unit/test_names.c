/* SPDX-License-Identifier: MIT */
/* test_names.c — validation of names, paths, patterns, encodings and UTF-8,
 * and the pattern matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/util.h"

/* String literals with their exact length (embedded NULs included). */
#define L(lit) (lit), (sizeof(lit) - 1)

typedef struct sample {
    const char *s;
    size_t n;
} sample;
#define S(lit) {L(lit)}

static void check_all(int (*fn)(const char *, size_t), const sample *v,
                      size_t count, int want, const char *what)
{
    for (size_t i = 0; i < count; i++) {
        int got = fn(v[i].s, v[i].n);
        if (got != want)
            fail_msg("%s(\"%.*s\" [%zu bytes]) = %d, want %d", what,
                     (int)v[i].n, v[i].s, v[i].n, got, want);
    }
}
#define CHECK_ALL(fn, arr, want) \
    check_all(fn, arr, sizeof(arr) / sizeof(arr[0]), want, #fn)

static int utf8_status(const char *s, size_t n)
{
    return ipcn__utf8_valid(s, n) ? IPCN_OK : IPCN_BAD_REQUEST;
}

/* ---- UTF-8 ---- */

static void test_utf8(void **state)
{
    (void)state;
    static const sample good[] = {
        S(""),
        S("plain ascii"),
        S("\x7f"),
        S("caf\xc3\xa9"),          /* U+00E9 */
        S("\xc2\x80"),             /* U+0080, smallest 2-byte */
        S("\xdf\xbf"),             /* U+07FF */
        S("\xe0\xa0\x80"),         /* U+0800, smallest 3-byte */
        S("\xe2\x82\xac"),         /* U+20AC euro */
        S("\xed\x9f\xbf"),         /* U+D7FF, just below surrogates */
        S("\xee\x80\x80"),         /* U+E000, just above */
        S("\xef\xbf\xbf"),         /* U+FFFF */
        S("\xf0\x90\x80\x80"),     /* U+10000, smallest 4-byte */
        S("\xf0\x9f\x98\x80"),     /* U+1F600 */
        S("\xf4\x8f\xbf\xbf"),     /* U+10FFFF, the last code point */
        S("a\0b"),                 /* NUL is valid UTF-8 (paths refuse it) */
    };
    static const sample bad[] = {
        /* overlong forms */
        S("\xc0\x80"), S("\xc0\xaf"), S("\xc1\xbf"),
        S("\xe0\x80\x80"), S("\xe0\x9f\xbf"),
        S("\xf0\x80\x80\x80"), S("\xf0\x8f\xbf\xbf"),
        /* surrogates */
        S("\xed\xa0\x80"), S("\xed\xaf\xbf"), S("\xed\xb0\x80"),
        S("\xed\xbf\xbf"),
        /* beyond U+10FFFF */
        S("\xf4\x90\x80\x80"), S("\xf5\x80\x80\x80"), S("\xf7\xbf\xbf\xbf"),
        S("\xf8\x88\x80\x80\x80"), S("\xfc\x84\x80\x80\x80\x80"),
        S("\xfe"), S("\xff"),
        /* lone continuation bytes */
        S("\x80"), S("\xbf"), S("a\x80"),
        /* truncated sequences, at the end and before other bytes */
        S("\xc3"), S("\xe2\x82"), S("\xe2"), S("\xf0\x9f\x98"),
        S("\xf0\x9f"), S("\xf0"),
        S("\xc3" "a"), S("\xe2\x82" "a"), S("\xf0\x9f\x98" "a"),
        S("\xc3\xc3\xa9"), S("\xe2\x28\xa1"),
    };
    CHECK_ALL(utf8_status, good, IPCN_OK);
    CHECK_ALL(utf8_status, bad, IPCN_BAD_REQUEST);

    assert_true(ipcn__utf8_valid(NULL, 0));

    /* Only the first n bytes are read: a valid prefix of a longer buffer. */
    assert_true(ipcn__utf8_valid("\xc3\xa9\xc3", 2));
    assert_false(ipcn__utf8_valid("\xc3\xa9\xc3", 3));
    assert_false(ipcn__utf8_valid("\xe2\x82\xac", 2));

    /* Every 2-byte lead with every continuation: valid exactly when the
     * code point is >= U+0080. */
    for (unsigned a = 0xC0; a <= 0xDF; a++)
        for (unsigned b = 0x80; b <= 0xBF; b++) {
            char s[2] = {(char)a, (char)b};
            assert_int_equal(ipcn__utf8_valid(s, 2), a >= 0xC2);
        }
}

/* ---- node names ---- */

static void test_name_check(void **state)
{
    (void)state;
    static const sample good[] = {
        S("a"), S("camera"), S("chat.left"), S("A-Z_0.9"), S("node-1"),
        S("a."), S("a..b"), S("_x"), S("-x"), S("0"),
        S("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"),
        /* 64 bytes, the longest */
    };
    static const sample bad[] = {
        S(""), S("."), S(".."), S(".hidden"), S("a/b"), S("/"), S("a b"),
        S("a*"), S("caf\xc3\xa9"), S("a\tb"), S("a\0b"), S("a:b"),
        S("a\\b"), S("a\n"),
        S("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
          "x"), /* 65 bytes */
    };
    CHECK_ALL(ipcn__name_check, good, IPCN_OK);
    CHECK_ALL(ipcn__name_check, bad, IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__name_check(NULL, 0), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__name_check(NULL, 3), IPCN_BAD_REQUEST);
    /* every byte value in the second position */
    for (unsigned c = 0; c < 256; c++) {
        char s[2] = {'a', (char)c};
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        assert_int_equal(ipcn__name_check(s, 2),
                         ok ? IPCN_OK : IPCN_BAD_REQUEST);
    }
}

/* ---- paths and patterns ---- */

static char long_str[300];

/* n bytes of "a/a/a..." (n odd gives segments "a"; n even ends in '/'). */
static const char *segments_of(size_t n)
{
    for (size_t i = 0; i < n; i++)
        long_str[i] = i % 2 ? '/' : 'a';
    long_str[n] = 0;
    return long_str;
}

static void test_path_check(void **state)
{
    (void)state;
    static const sample good[] = {
        S("a"), S("a/b/c"), S("robot/arm/left/state"), S("cam/front/rgb"),
        S("caf\xc3\xa9/\xf0\x9f\x98\x80"), S("a b/c d"), S("a.b/-_~!"),
        S("~"), S("a/\x7e"), S("."), S(".."), S("a/../b"),
    };
    static const sample bad[] = {
        S(""), S("/"), S("/a"), S("a/"), S("a//b"), S("//"),
        S("*"), S("**"), S("a/*/b"), S("a/**"), S("a*b"), S("a/b*"), S("x/**x"),
        S("a\tb"), S("a\nb"), S("a\x7f"), S("a\x1f"), S("a\0b"),
        S("\xc3"), S("a/\xed\xa0\x80"), S("\xc0\xaf"),
    };
    CHECK_ALL(ipcn__path_check, good, IPCN_OK);
    CHECK_ALL(ipcn__path_check, bad, IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__path_check(NULL, 0), IPCN_BAD_REQUEST);

    /* 255 bytes is the limit; 128 one-byte segments fit in it */
    assert_int_equal(ipcn__path_check(segments_of(255), 255), IPCN_OK);
    memset(long_str, 'p', 256);
    assert_int_equal(ipcn__path_check(long_str, 255), IPCN_OK);
    assert_int_equal(ipcn__path_check(long_str, 256), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__path_check(segments_of(254), 254),
                     IPCN_BAD_REQUEST); /* trailing '/' */
}

static void test_pattern_check(void **state)
{
    (void)state;
    static const sample good[] = {
        S("a"), S("*"), S("**"), S("a/*/b"), S("a/**"), S("**/x"),
        S("**/**"), S("*/*"), S("a/**/b/*/c"), S("cam/*/rgb"),
        S("caf\xc3\xa9/*"),
    };
    static const sample bad[] = {
        S(""), S("/"), S("***"), S("a*"), S("*a"), S("a/**b"), S("a/b**"),
        S("**/"), S("/**"), S("a//*"), S("*/"), S("* "), S("a\x01/*"),
        S("\xff/*"), S("a\0*"),
    };
    CHECK_ALL(ipcn__pattern_check, good, IPCN_OK);
    CHECK_ALL(ipcn__pattern_check, bad, IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__pattern_check(NULL, 0), IPCN_BAD_REQUEST);
    /* every valid path is a valid pattern (that matches only itself) */
    assert_int_equal(ipcn__pattern_check(L("robot/arm")), IPCN_OK);
    memset(long_str, '*', 3);
    assert_int_equal(ipcn__pattern_check(long_str, 3), IPCN_BAD_REQUEST);
}

/* ---- encodings ---- */

static void test_encoding_check(void **state)
{
    (void)state;
    static const sample good[] = {
        S(""), S("text/plain"), S("application/cbor"), S("video/h264"),
        S("audio/pcm;rate=48000;channels=2;format=s16le"),
        S(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
          "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"),
    };
    static const sample bad[] = {
        S("\t"), S("text/plain\n"), S("\x7f"), S("caf\xc3\xa9"), S("a\0b"),
        S("\x1b[0m"), S("\xff"),
    };
    CHECK_ALL(ipcn__encoding_check, good, IPCN_OK);
    CHECK_ALL(ipcn__encoding_check, bad, IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__encoding_check(NULL, 0), IPCN_OK);
    memset(long_str, 'e', 256);
    assert_int_equal(ipcn__encoding_check(long_str, 255), IPCN_OK);
    assert_int_equal(ipcn__encoding_check(long_str, 256), IPCN_BAD_REQUEST);
    for (unsigned c = 0; c < 256; c++) {
        char s[1] = {(char)c};
        assert_int_equal(ipcn__encoding_check(s, 1),
                         c >= 0x20 && c <= 0x7E ? IPCN_OK : IPCN_BAD_REQUEST);
    }
}

/* ---- matching ---- */

typedef struct mcase {
    const char *pat, *path;
    int want;
} mcase;

static const mcase match_table[] = {
    /* literal */
    {"a", "a", 1},
    {"a", "b", 0},
    {"a", "a/b", 0},
    {"a/b", "a", 0},
    {"ab", "a", 0},
    {"a", "ab", 0},
    {"A", "a", 0},
    {"robot/arm/left/state", "robot/arm/left/state", 1},
    {"robot/arm/left/state", "robot/arm/right/state", 0},
    /* '*' is exactly one segment */
    {"*", "a", 1},
    {"*", "a/b", 0},
    {"a/*", "a/b", 1},
    {"a/*", "a", 0},
    {"a/*", "a/b/c", 0},
    {"*/b", "a/b", 1},
    {"*/b", "b", 0},
    {"*/*", "a", 0},
    {"*/*", "a/b", 1},
    {"cam/*/rgb", "cam/front/rgb", 1},
    {"cam/*/rgb", "cam/front/depth", 0},
    {"cam/*/rgb", "cam/rgb", 0},
    {"cam/*/rgb", "cam/a/b/rgb", 0},
    /* '**' at the end: zero or more segments */
    {"**", "a", 1},
    {"**", "a/b/c", 1},
    {"a/**", "a", 1},
    {"a/**", "a/b", 1},
    {"a/**", "a/b/c", 1},
    {"a/**", "b/a", 0},
    {"a/**", "ab", 0},
    /* '**' at the start */
    {"**/c", "c", 1},
    {"**/c", "a/b/c", 1},
    {"**/c", "a/b/c/d", 0},
    {"**/c", "a/bc", 0},
    /* '**' in the middle */
    {"a/**/b", "a/b", 1},
    {"a/**/b", "a/x/b", 1},
    {"a/**/b", "a/x/y/b", 1},
    {"a/**/b", "a/x/y/c", 0},
    {"a/**/b", "a/b/b", 1},
    {"a/**/b", "a/b/c", 0},
    {"a/**/b", "b/a/b", 0},
    {"a/**/b", "a", 0},
    {"a/**/b/**/c", "a/b/c", 1},
    {"a/**/b/**/c", "a/x/b/y/z/c", 1},
    {"a/**/b/**/c", "a/c/b", 0},
    /* several wildcards together */
    {"**/**", "a", 1},
    {"**/**", "a/b/c", 1},
    {"a/**/**/b", "a/b", 1},
    {"a/**/**/b", "a/x/y/z/b", 1},
    {"*/**", "a", 1},
    {"*/**", "a/b/c", 1},
    {"**/*", "a", 1},
    {"**/*", "a/b", 1},
    {"**/*/**", "a", 1},
    {"**/*/*", "a", 0},
    {"**/*/*", "a/b", 1},
    {"a/*/**/c", "a/b/c", 1},
    {"a/*/**/c", "a/b/x/y/c", 1},
    {"a/*/**/c", "a/c", 0},
    {"*/*/*", "a/b/c", 1},
    {"*/*/*", "a/b/c/d", 0},
    /* bytes, not characters: UTF-8 segments compare exactly */
    {"caf\xc3\xa9/*", "caf\xc3\xa9/x", 1},
    {"caf\xc3\xa9/*", "cafe/x", 0},
};

static void test_pattern_match_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof match_table / sizeof match_table[0]; i++) {
        const mcase *m = &match_table[i];
        size_t pn = strlen(m->pat), n = strlen(m->path);
        assert_int_equal(ipcn__pattern_check(m->pat, pn), IPCN_OK);
        assert_int_equal(ipcn__path_check(m->path, n), IPCN_OK);
        int got = ipcn__pattern_match(m->pat, pn, m->path, n);
        if (got != m->want)
            fail_msg("match(\"%s\", \"%s\") = %d, want %d", m->pat, m->path,
                     got, m->want);
        assert_int_equal(ipcn_pattern_match(m->pat, m->path), m->want);
    }
}

/* The public wrapper checks its arguments: anything invalid matches
 * nothing. */
static void test_public_match_validates(void **state)
{
    (void)state;
    assert_int_equal(ipcn_pattern_match(NULL, "a"), 0);
    assert_int_equal(ipcn_pattern_match("a", NULL), 0);
    assert_int_equal(ipcn_pattern_match("**", ""), 0);
    assert_int_equal(ipcn_pattern_match("**", "a/"), 0);
    assert_int_equal(ipcn_pattern_match("**", "a/*"), 0);
    assert_int_equal(ipcn_pattern_match("a*", "ab"), 0);
    assert_int_equal(ipcn_pattern_match("", ""), 0);
}

/* Matching is a DP over segments: hostile patterns of the largest size
 * against the longest paths finish (no exponential backtracking).  No
 * timing is asserted; a backtracking matcher would simply never return. */
static void test_pattern_match_hostile(void **state)
{
    (void)state;
    char dstar[IPCN_PATH_MAX + 1], pat[IPCN_PATH_MAX + 1];
    char path[IPCN_PATH_MAX + 1];

    /* "**" x 84 then "x": 84 * 3 + 1 = 253 bytes */
    size_t pn = 0;
    while (pn + 3 + 1 <= IPCN_PATH_MAX) {
        memcpy(pat + pn, "**/", 3);
        pn += 3;
    }
    pat[pn++] = 'x';
    pat[pn] = 0;
    assert_int_equal(ipcn__pattern_check(pat, pn), IPCN_OK);
    memcpy(dstar, pat, pn + 1);
    size_t dn = pn;

    /* 128 one-byte segments "a/a/.../a" (255 bytes) */
    size_t n = 0;
    while (n < IPCN_PATH_MAX) {
        path[n++] = 'a';
        if (n < IPCN_PATH_MAX)
            path[n++] = '/';
    }
    path[n] = 0;
    assert_int_equal(n, IPCN_PATH_MAX);
    assert_int_equal(ipcn__path_check(path, n), IPCN_OK);
    assert_int_equal(ipcn__pattern_match(pat, pn, path, n), 0);
    path[n - 1] = 'x'; /* now it ends in the literal */
    assert_int_equal(ipcn__pattern_match(pat, pn, path, n), 1);

    /* alternating "*" and "**": "*" / "**" / "*" ... */
    pn = 0;
    for (int k = 0; pn + 3 + 1 <= IPCN_PATH_MAX; k++) {
        if (k % 2 == 0) {
            memcpy(pat + pn, "*/", 2);
            pn += 2;
        } else {
            memcpy(pat + pn, "**/", 3);
            pn += 3;
        }
    }
    pat[pn++] = '*';
    pat[pn] = 0;
    assert_int_equal(ipcn__pattern_check(pat, pn), IPCN_OK);
    /* its ~50 '*' segments need at least that many path segments */
    assert_int_equal(ipcn__pattern_match(pat, pn, path, n), 1);
    assert_int_equal(ipcn__pattern_match(pat, pn, "a/b", 3), 0);

    /* the most segments a pattern can have: 128 '*' against 128 and 127 */
    for (size_t i = 0; i < IPCN_PATH_MAX; i++)
        pat[i] = i % 2 ? '/' : '*';
    pat[IPCN_PATH_MAX] = 0;
    assert_int_equal(ipcn__pattern_check(pat, IPCN_PATH_MAX), IPCN_OK);
    assert_int_equal(ipcn__pattern_match(pat, IPCN_PATH_MAX, path, n), 1);
    assert_int_equal(ipcn__pattern_match(pat, IPCN_PATH_MAX, path, n - 2), 0);

    /* many repetitions of the hostile case, to make a slow matcher show in
     * the test's run time rather than in a user's */
    path[n - 1] = 'a';
    for (int rep = 0; rep < 2000; rep++)
        assert_int_equal(ipcn__pattern_match(dstar, dn, path, n), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_name_check),
        cmocka_unit_test(test_path_check),
        cmocka_unit_test(test_pattern_check),
        cmocka_unit_test(test_encoding_check),
        cmocka_unit_test(test_pattern_match_table),
        cmocka_unit_test(test_public_match_validates),
        cmocka_unit_test(test_pattern_match_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
