/* SPDX-License-Identifier: MIT */
/*
 * test_cbor_get.c — values without hand-written CBOR (issue 21): the
 * getters by path (src/value/cbor_get.c) and the format builder
 * (src/value/cbor_build.c).  Paths, conversions and their statuses,
 * indefinite lengths, duplicate and non-text keys, hostile inputs (deep,
 * truncated, trailing bytes), the builder's exact bytes, its size query,
 * its refusals; and the property that what is built reads back through
 * the getters unchanged.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../value/cbor_render.h"
#include "util/util.h"
#include "value/value.h"

typedef struct bytes {
    uint8_t p[1024];
    size_t n;
} bytes;

static bytes hex(const char *h)
{
    bytes b;
    b.n = cr_unhex(h, b.p, sizeof b.p);
    assert_true(b.n <= sizeof b.p);
    return b;
}

/* An exact-size heap copy, so that ASan sees any read past the end. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    assert_non_null(q);
    memcpy(q, p, n);
    return q;
}

/* The document most tests read: built by hand-checked bytes, see
 * test_build_exact for the builder writing the same. */
static size_t robot_doc(uint8_t *buf, size_t cap)
{
    size_t len = 0;
    int st = ipcn_cbor_build(
        buf, cap, &len,
        "{s:f, s:i, s:[f,f,f], s:{s:{s:f, s:f}}, s:s, s:b, s:n, s:[{s:i},{s:i}],"
        " s:U, s:I, s:f, s:y, s:f}",
        "threshold", 0.5, "gain", 2, "joints", 0.1, -0.25, 3.0, "pose",
        "position", "x", 1.5, "y", -2.0, "name", "arm", "ok", 1, "none",
        "items", "id", 7, "id", 8, "big", (uint64_t)UINT64_MAX, "neg",
        (int64_t)INT64_MIN, "frac", 2.5, "raw", "\x01\x02", (size_t)2, "whole",
        4.0);
    assert_int_equal(st, IPCN_OK);
    return len;
}

static void test_paths(void **state)
{
    (void)state;
    uint8_t b[512];
    size_t n = robot_doc(b, sizeof b);
    uint8_t *p = dup_exact(b, n);
    double d = 0;
    int64_t i = 0;
    uint64_t u = 0;
    int t = -1;
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "threshold", &d), IPCN_OK);
    assert_true(d == 0.5);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "pose.position.y", &d), IPCN_OK);
    assert_true(d == -2.0);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "joints[1]", &d), IPCN_OK);
    assert_true(d == -0.25);
    assert_int_equal(ipcn_cbor_map_get_int(p, n, "items[1].id", &i), IPCN_OK);
    assert_int_equal(i, 8);
    assert_int_equal(ipcn_cbor_map_get_bool(p, n, "ok", &t), IPCN_OK);
    assert_int_equal(t, 1);
    const char *s = NULL;
    size_t sl = 0;
    assert_int_equal(ipcn_cbor_map_get_text(p, n, "name", &s, &sl), IPCN_OK);
    assert_int_equal(sl, 3);
    assert_memory_equal(s, "arm", 3);
    assert_true((const uint8_t *)s > p && (const uint8_t *)s + sl <= p + n);
    const uint8_t *raw = NULL;
    assert_int_equal(ipcn_cbor_map_get_bytes(p, n, "raw", &raw, &sl), IPCN_OK);
    assert_int_equal(sl, 2);
    assert_int_equal(raw[1], 2);
    assert_int_equal(ipcn_cbor_map_get_uint(p, n, "big", &u), IPCN_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(ipcn_cbor_map_get_int(p, n, "neg", &i), IPCN_OK);
    assert_true(i == INT64_MIN);

    /* The span of a sub-item is one well-formed item, usable as a root. */
    const uint8_t *item = NULL;
    size_t il = 0;
    assert_int_equal(ipcn_cbor_map_get(p, n, "pose", &item, &il), IPCN_OK);
    assert_int_equal(ipcn_cbor_check(item, il, 0), IPCN_OK);
    assert_int_equal(ipcn_cbor_map_get_double(item, il, "position.x", &d), IPCN_OK);
    assert_true(d == 1.5);
    assert_int_equal(ipcn_cbor_map_get(p, n, "", &item, &il), IPCN_OK);
    assert_true(item == p && il == n);

    /* Absent: 203, outputs untouched. */
    d = 42;
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "nope", &d), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "pose.position.z", &d),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "joints[3]", &d), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "items[2].id", &d), IPCN_NOT_FOUND);
    assert_true(d == 42);
    /* A step into what is no map / no array, or a leaf of another type. */
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "name.x", &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "pose[0]", &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "joints.x", &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "[0]", &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "name", &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "none", &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "ok", &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_bool(p, n, "gain", &t), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_text(p, n, "raw", &s, &sl), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_bytes(p, n, "name", &raw, &sl), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_int(p, n, "pose", &i), IPCN_BAD_REQUEST);
    assert_true(d == 42);

    /* Malformed paths: 200 whatever the data. */
    static const char *const bad[] = {
        "a..b", ".a", "a.", "a[", "a[x]", "a[01]", "a[-1]", "a[]", "[]",
        "a\\q", "a\\", "joints[1", "joints[18446744073709551616]", "x]["};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        if (ipcn_cbor_map_get_double(p, n, bad[k], &d) != IPCN_BAD_REQUEST)
            fail_msg("path \"%s\" was accepted", bad[k]);
    assert_int_equal(ipcn_cbor_map_get_double(p, n, NULL, &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_double(NULL, 1, "x", &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_double(NULL, 0, "x", &d), IPCN_BAD_REQUEST);
    /* Outputs may be NULL. */
    assert_int_equal(ipcn_cbor_map_get_double(p, n, "threshold", NULL), IPCN_OK);
    free(p);
}

static void test_conversions(void **state)
{
    (void)state;
    uint8_t b[512];
    size_t n = robot_doc(b, sizeof b);
    double d;
    int64_t i;
    uint64_t u;
    /* integers where a double is asked; integral floats where an int is */
    assert_int_equal(ipcn_cbor_map_get_double(b, n, "gain", &d), IPCN_OK);
    assert_true(d == 2.0);
    assert_int_equal(ipcn_cbor_map_get_int(b, n, "whole", &i), IPCN_OK);
    assert_int_equal(i, 4);
    assert_int_equal(ipcn_cbor_map_get_uint(b, n, "joints[2]", &u), IPCN_OK);
    assert_int_equal(u, 3);
    assert_int_equal(ipcn_cbor_map_get_int(b, n, "frac", &i), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_int(b, n, "big", &i), IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(ipcn_cbor_map_get_uint(b, n, "neg", &u), IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(ipcn_cbor_map_get_double(b, n, "big", &d), IPCN_OK);
    assert_true(d == 18446744073709551616.0);

    /* the edges, one item each (path "") */
    static const struct {
        const char *hex;
        int ist;      /* get_int */
        int64_t iv;
        int ust;      /* get_uint */
        uint64_t uv;
        int dst;      /* get_double */
        double dv;
    } c[] = {
        {"1b7fffffffffffffff", IPCN_OK, INT64_MAX, IPCN_OK, INT64_MAX, IPCN_OK, 9223372036854775807.0},
        {"1b8000000000000000", IPCN_INSUFFICIENT_STORAGE, 0, IPCN_OK, 1ull << 63, IPCN_OK, 9223372036854775808.0},
        {"3b7fffffffffffffff", IPCN_OK, INT64_MIN, IPCN_INSUFFICIENT_STORAGE, 0, IPCN_OK, -9223372036854775808.0},
        {"3b8000000000000000", IPCN_INSUFFICIENT_STORAGE, 0, IPCN_INSUFFICIENT_STORAGE, 0, IPCN_OK, -9223372036854775809.0},
        {"3bffffffffffffffff", IPCN_INSUFFICIENT_STORAGE, 0, IPCN_INSUFFICIENT_STORAGE, 0, IPCN_OK, -18446744073709551616.0},
        {"20", IPCN_OK, -1, IPCN_INSUFFICIENT_STORAGE, 0, IPCN_OK, -1.0},
        {"f98000", IPCN_OK, 0, IPCN_OK, 0, IPCN_OK, -0.0},                 /* -0.0 */
        {"fbc3e0000000000000", IPCN_OK, INT64_MIN, IPCN_INSUFFICIENT_STORAGE, 0, IPCN_OK, -9223372036854775808.0},
        {"fa5f000000", IPCN_INSUFFICIENT_STORAGE, 0, IPCN_OK, 1ull << 63, IPCN_OK, 9223372036854775808.0},
        {"fa5f800000", IPCN_INSUFFICIENT_STORAGE, 0, IPCN_INSUFFICIENT_STORAGE, 0, IPCN_OK, 18446744073709551616.0},
        {"f97c00", IPCN_INSUFFICIENT_STORAGE, 0, IPCN_INSUFFICIENT_STORAGE, 0, IPCN_OK, INFINITY},
        {"f97e00", IPCN_BAD_REQUEST, 0, IPCN_BAD_REQUEST, 0, IPCN_OK, NAN},
        {"f93e00", IPCN_BAD_REQUEST, 0, IPCN_BAD_REQUEST, 0, IPCN_OK, 1.5},
        {"f4", IPCN_BAD_REQUEST, 0, IPCN_BAD_REQUEST, 0, IPCN_BAD_REQUEST, 0},
        {"6131", IPCN_BAD_REQUEST, 0, IPCN_BAD_REQUEST, 0, IPCN_BAD_REQUEST, 0},
        {"c11a514b67b0", IPCN_BAD_REQUEST, 0, IPCN_BAD_REQUEST, 0, IPCN_BAD_REQUEST, 0}, /* a tag */
    };
    for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
        bytes x = hex(c[k].hex);
        i = 99, u = 99, d = 99;
        if (ipcn_cbor_map_get_int(x.p, x.n, "", &i) != c[k].ist ||
            (c[k].ist == IPCN_OK && i != c[k].iv) || (c[k].ist != IPCN_OK && i != 99))
            fail_msg("get_int of %s", c[k].hex);
        if (ipcn_cbor_map_get_uint(x.p, x.n, "", &u) != c[k].ust ||
            (c[k].ust == IPCN_OK && u != c[k].uv))
            fail_msg("get_uint of %s", c[k].hex);
        int dst = ipcn_cbor_map_get_double(x.p, x.n, "", &d);
        if (dst != c[k].dst ||
            (dst == IPCN_OK && !(d == c[k].dv || (isnan(d) && isnan(c[k].dv)))))
            fail_msg("get_double of %s: %d %g", c[k].hex, dst, d);
    }
}

static void test_cbor_shapes(void **state)
{
    (void)state;
    double d;
    int64_t i;
    const char *s;
    size_t sl;
    char buf[16];
    /* {_ "ab" "c" (chunks): 1, "k": [_ 1, 2.5], 1: 9, "1": 10, "dup": 1,
     *  "dup": 2, "t": (_ "he" "llo"), "z": "a\0b"} */
    bytes x = hex("bf 7f 626162 6163 ff 01  616b 9f 01 f94100 ff  01 09  6131 0a"
                  " 63647570 01  63647570 02  6174 7f 626865 636c6c6f ff"
                  " 617a 63610062 ff");
    uint8_t *p = dup_exact(x.p, x.n);
    assert_int_equal(ipcn_cbor_check(p, x.n, 0), IPCN_OK);
    assert_int_equal(ipcn_cbor_map_get_int(p, x.n, "abc", &i), IPCN_OK);
    assert_int_equal(i, 1);
    assert_int_equal(ipcn_cbor_map_get_double(p, x.n, "k[1]", &d), IPCN_OK);
    assert_true(d == 2.5);
    assert_int_equal(ipcn_cbor_map_get_double(p, x.n, "k[2]", &d), IPCN_NOT_FOUND);
    /* the text key "1", not the integer key 1 */
    assert_int_equal(ipcn_cbor_map_get_int(p, x.n, "1", &i), IPCN_OK);
    assert_int_equal(i, 10);
    assert_int_equal(ipcn_cbor_map_get_int(p, x.n, "dup", &i), IPCN_OK);
    assert_int_equal(i, 1); /* the first pair */
    assert_int_equal(ipcn_cbor_map_get_text(p, x.n, "t", &s, &sl), IPCN_NOT_IMPLEMENTED);
    size_t need = 0;
    assert_int_equal(ipcn_cbor_map_get_cstr(p, x.n, "t", buf, sizeof buf, &need), IPCN_OK);
    assert_string_equal(buf, "hello");
    assert_int_equal(need, 5);
    memset(buf, 'x', sizeof buf);
    assert_int_equal(ipcn_cbor_map_get_cstr(p, x.n, "t", buf, 5, &need),
                     IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(need, 5);
    assert_int_equal(buf[0], 'x'); /* untouched */
    assert_int_equal(ipcn_cbor_map_get_cstr(p, x.n, "z", buf, sizeof buf, &need), IPCN_OK);
    assert_int_equal(need, 3);
    assert_memory_equal(buf, "a\0b\0", 4);
    /* a key with an escaped '.' and '[' */
    bytes y = hex("a2 63612e62 1863 63625b5d 1864"); /* {"a.b": 99, "b[]": 100} */
    assert_int_equal(ipcn_cbor_map_get_int(y.p, y.n, "a\\.b", &i), IPCN_OK);
    assert_int_equal(i, 99);
    assert_int_equal(ipcn_cbor_map_get_int(y.p, y.n, "b\\[]", &i), IPCN_OK);
    assert_int_equal(i, 100);
    assert_int_equal(ipcn_cbor_map_get_int(y.p, y.n, "a.b", &i), IPCN_NOT_FOUND);
    free(p);
}

static void test_doubles(void **state)
{
    (void)state;
    uint8_t b[512];
    size_t n = robot_doc(b, sizeof b), k = 0;
    double out[3] = {7, 7, 7};
    assert_int_equal(ipcn_cbor_map_get_doubles(b, n, "joints", out, 3, &k), IPCN_OK);
    assert_int_equal(k, 3);
    assert_true(out[0] == 0.1 && out[1] == -0.25 && out[2] == 3.0);
    out[0] = 7;
    assert_int_equal(ipcn_cbor_map_get_doubles(b, n, "joints", out, 2, &k),
                     IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(k, 3);
    assert_true(out[0] == 7);
    assert_int_equal(ipcn_cbor_map_get_doubles(b, n, "items", out, 3, &k), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_doubles(b, n, "name", out, 3, &k), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_map_get_doubles(b, n, "nope", out, 3, &k), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_cbor_map_get_doubles(b, n, "joints", NULL, 0, &k),
                     IPCN_INSUFFICIENT_STORAGE);
    bytes x = hex("9f0120f93e00ff"); /* [_ 1, -1, 1.5] */
    assert_int_equal(ipcn_cbor_map_get_doubles(x.p, x.n, "", out, 3, &k), IPCN_OK);
    assert_int_equal(k, 3);
    assert_true(out[0] == 1 && out[1] == -1 && out[2] == 1.5);
    bytes e = hex("80");
    assert_int_equal(ipcn_cbor_map_get_doubles(e.p, e.n, "", NULL, 0, &k), IPCN_OK);
    assert_int_equal(k, 0);
}

/* Hostile inputs: refused whole, within bounds, quickly. */
static void test_hostile(void **state)
{
    (void)state;
    double d;
    /* a value that would be found, then garbage: the input is refused */
    bytes t = hex("a16178f93e00ff");
    assert_int_equal(ipcn_cbor_map_get_double(t.p, t.n, "x", &d), IPCN_BAD_REQUEST);
    /* truncated at every length */
    uint8_t b[512];
    size_t n = robot_doc(b, sizeof b);
    for (size_t k = 0; k < n; k++) {
        uint8_t *p = dup_exact(b, k);
        assert_int_equal(ipcn_cbor_map_get_double(p, k, "whole", &d), IPCN_BAD_REQUEST);
        free(p);
    }
    /* nested arrays: 64 deep is read, 65 refused */
    uint8_t deep[70];
    memset(deep, 0x81, sizeof deep);
    char path[70 * 3 + 1];
    size_t pl = 0;
    for (int k = 0; k < 64; k++)
        pl += (size_t)snprintf(path + pl, sizeof path - pl, "[0]");
    deep[63] = 0x81, deep[64] = 0x07; /* 64 arrays, then 7 */
    int64_t i = 0;
    assert_int_equal(ipcn_cbor_map_get_int(deep, 65, path, &i), IPCN_OK);
    assert_int_equal(i, 7);
    deep[64] = 0x81, deep[65] = 0x07; /* 65 arrays */
    assert_int_equal(ipcn_cbor_map_get_int(deep, 66, "[0]", &i), IPCN_BAD_REQUEST);
    /* a path much longer than the data is nested: 203 or 200, no walk off */
    char lp[4000];
    lp[0] = 'a';
    for (size_t k = 0; k < 1999; k++)
        memcpy(lp + 1 + 2 * k, ".a", 2);
    lp[3999] = 0;
    bytes m = hex("a1616101"); /* {"a": 1} */
    assert_int_equal(ipcn_cbor_map_get_int(m.p, m.n, lp, &i), IPCN_BAD_REQUEST);
    /* a huge declared count with nothing behind it */
    bytes big = hex("9bffffffffffffffff01");
    assert_int_equal(ipcn_cbor_map_get_int(big.p, big.n, "[0]", &i), IPCN_BAD_REQUEST);
}

static void test_build_exact(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = 0;
    /* the issue's example: {"threshold": 0.5, "ids": [1, 2]} */
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, "{s:f, s:[i,i]}", "threshold", 0.5,
                                     "ids", 1, 2),
                     IPCN_OK);
    bytes w = hex("a2697468726573686f6c64f93800636964738201 02");
    assert_int_equal(n, w.n);
    assert_memory_equal(b, w.p, n);
    /* every letter */
    const double fs[2] = {1.0, -2.5};
    const int64_t is[2] = {-1, 1000000000000};
    bytes enc = hex("a1616101");
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, "[s s# s? s? i I u U f b b n y o f# I# {i:n, U:n}]",
                                     "a", "bc\0d", (size_t)4, NULL, "z", -5,
                                     (int64_t)-4294967296, 7u, (uint64_t)UINT64_MAX, 1e300,
                                     1, 0, "\x00\xff", (size_t)2, enc.p, enc.n, fs,
                                     (size_t)2, is, (size_t)2, -1, (uint64_t)2),
                     IPCN_OK);
    w = hex("91 6161 6462630064 f6 617a 24 3affffffff 07 1bffffffffffffffff"
            " fb7e37e43c8800759c f5 f4 f6 4200ff a1616101 82f93c00f9c100"
            " 82201b000000e8d4a51000 a220f602f6");
    if (n != w.n || memcmp(b, w.p, n) != 0) {
        cr_buf got = {0};
        cr_hex(&got, b, n);
        fail_msg("got %s", got.p);
    }
    /* nothing at all, empty containers */
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, " [ ] "), IPCN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(b[0], 0x80);
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, "{}"), IPCN_OK);
    assert_int_equal(b[0], 0xa0);
}

static int vbuild(void *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = ipcn_cbor_vbuild(buf, cap, len, fmt, ap);
    va_end(ap);
    return st;
}

static void test_build_sizes_and_refusals(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t need = 0, n = 0;
    /* the size query, then a buffer too small, then the exact size */
    assert_int_equal(ipcn_cbor_build(NULL, 0, &need, "{s:s}", "key", "a longer value"),
                     IPCN_OK);
    assert_int_equal(need, 1 + 4 + 15);
    assert_int_equal(ipcn_cbor_build(b, need - 1, &n, "{s:s}", "key", "a longer value"),
                     IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(n, need);
    uint8_t *exact = malloc(need);
    assert_int_equal(ipcn_cbor_build(exact, need, &n, "{s:s}", "key", "a longer value"),
                     IPCN_OK);
    assert_int_equal(n, need);
    assert_int_equal(ipcn_cbor_check(exact, n, 0), IPCN_OK);
    free(exact);
    assert_int_equal(vbuild(b, sizeof b, &n, "[i, f]", 3, 0.25), IPCN_OK);
    assert_int_equal(n, 1 + 1 + 3);
    assert_int_equal(vbuild(NULL, 0, &n, "[i, f]", 3, 0.25), IPCN_OK);
    assert_int_equal(n, 5);

    /* malformed formats: 200, *len untouched, no argument read (none given) */
    static const char *const bad[] = {
        "", " ", "[", "]", "{", "{s}", "{s:i", "[i]]", "{i:s, s}", "x", "s#?",
        "{f:i}", "{[i]:i}", "{n:i}", "{s?:i}", "{y:i}", "[i] [i]", "i i", "{s:i]", "[i}",
        "%d", "s##", "{f#:i}"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        n = 12345;
        if (ipcn_cbor_build(b, sizeof b, &n, bad[k]) != IPCN_BAD_REQUEST || n != 12345)
            fail_msg("format \"%s\" was accepted", bad[k]);
    }
    char deep[2 * 65 + 1];
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = 0;
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, deep), IPCN_BAD_REQUEST);
    deep[64] = ']', deep[129] = 0; /* 64 deep: fine */
    memmove(deep + 64, deep + 65, 65);
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, deep), IPCN_OK);
    assert_int_equal(n, 64);
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, NULL), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_build(NULL, 4, &n, "n"), IPCN_BAD_REQUEST);

    /* invalid arguments: 200, *len untouched */
    n = 12345;
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, "[s]", (const char *)NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, "[s]", "\xff"), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, "o", "\x82\x01", (size_t)2),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, "o", (const void *)NULL, (size_t)0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, "f#", (const double *)NULL,
                                     (size_t)3),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_build(b, sizeof b, &n, "y", (const void *)NULL, (size_t)1),
                     IPCN_BAD_REQUEST);
    assert_int_equal(n, 12345);
    /* NULL len is allowed */
    assert_int_equal(ipcn_cbor_build(b, sizeof b, NULL, "n"), IPCN_OK);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

/* Property: what the builder writes, the getters read back exactly. */
static void test_build_get_roundtrip(void **state)
{
    (void)state;
    for (int round = 0; round < 2000; round++) {
        int64_t a = (int64_t)rnd();
        uint64_t u = rnd();
        double d;
        uint64_t bits = rnd();
        memcpy(&d, &bits, sizeof d);
        if (isnan(d))
            d = 0.5;
        int small = (int)(rnd() % 2001) - 1000;
        char text[24];
        size_t tl = (size_t)(rnd() % 20);
        for (size_t k = 0; k < tl; k++)
            text[k] = (char)(' ' + rnd() % 95);
        text[tl] = 0;
        double arr[4] = {d, (double)small, -d, 0.125};
        uint8_t b[256];
        size_t n = 0;
        assert_int_equal(ipcn_cbor_build(b, sizeof b, &n,
                                         "{s:I, s:U, s:{s:f}, s:i, s:s, s:f#, s:b}",
                                         "a", a, "u", u, "m", "d", d, "small", small,
                                         "t", text, "arr", arr, (size_t)4, "flag",
                                         (int)(round & 1)),
                         IPCN_OK);
        uint8_t *p = dup_exact(b, n);
        int64_t ga;
        uint64_t gu;
        double gd, out[4];
        int64_t gs;
        int gb;
        char gt[24];
        size_t k = 0;
        assert_int_equal(ipcn_cbor_map_get_int(p, n, "a", &ga), IPCN_OK);
        assert_true(ga == a);
        assert_int_equal(ipcn_cbor_map_get_uint(p, n, "u", &gu), IPCN_OK);
        assert_true(gu == u);
        assert_int_equal(ipcn_cbor_map_get_double(p, n, "m.d", &gd), IPCN_OK);
        assert_memory_equal(&gd, &d, sizeof d);
        assert_int_equal(ipcn_cbor_map_get_int(p, n, "small", &gs), IPCN_OK);
        assert_int_equal(gs, small);
        assert_int_equal(ipcn_cbor_map_get_double(p, n, "small", &gd), IPCN_OK);
        assert_true(gd == small);
        assert_int_equal(ipcn_cbor_map_get_cstr(p, n, "t", gt, sizeof gt, &k), IPCN_OK);
        assert_string_equal(gt, text);
        assert_int_equal(ipcn_cbor_map_get_doubles(p, n, "arr", out, 4, &k), IPCN_OK);
        assert_int_equal(k, 4);
        assert_memory_equal(out, arr, sizeof arr);
        assert_int_equal(ipcn_cbor_map_get_double(p, n, "arr[0]", &gd), IPCN_OK);
        assert_memory_equal(&gd, &d, sizeof d);
        assert_int_equal(ipcn_cbor_map_get_bool(p, n, "flag", &gb), IPCN_OK);
        assert_int_equal(gb, round & 1);
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_cbor_shapes),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_build_exact),
        cmocka_unit_test(test_build_sizes_and_refusals),
        cmocka_unit_test(test_build_get_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
