/* SPDX-License-Identifier: MIT */
/*
 * test_cbor_json.c — JSON <-> CBOR in the library (src/value/json_*.c):
 * RFC 8949's JSON examples to their bytes, strict RFC 8259 (each refusal
 * with where and why), deterministic output, the size query, the CBOR ->
 * JSON mapping (bytes, tags, tensors, odd keys, NaN, pretty printing),
 * floats printed as Python's repr() prints them, hostile inputs (deep,
 * wide, long), out of memory; and the properties that CBOR -> JSON ->
 * CBOR is the identity on what JSON can hold and that JSON -> CBOR ->
 * JSON reaches a fixed point.
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

/* JSON text -> CBOR in a new exact-size buffer; the status. */
static int from_json(const char *j, size_t n, uint32_t flags, uint8_t **out,
                     size_t *len, ipcn_json_error *e)
{
    size_t need = 0;
    int st = ipcn_cbor_from_json(j, n, flags, NULL, 0, &need, e);
    if (st != IPCN_OK)
        return st;
    *out = malloc(need ? need : 1);
    assert_non_null(*out);
    st = ipcn_cbor_from_json(j, n, flags, *out, need, len, e);
    if (st != IPCN_OK) {
        free(*out);
        *out = NULL;
        return st;
    }
    assert_int_equal(*len, need);
    return st;
}

/* CBOR -> JSON text (malloc'd, NUL-terminated), checking the size query. */
static char *to_json(const uint8_t *p, size_t n, uint32_t flags)
{
    size_t need = 0, len = 0;
    assert_int_equal(ipcn_cbor_to_json(p, n, flags, NULL, 0, &need), IPCN_OK);
    char *s = malloc(need + 1);
    assert_non_null(s);
    if (need) /* one byte short: 306, the same length reported */
        assert_int_equal(ipcn_cbor_to_json(p, n, flags, s, need, &len),
                         IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(ipcn_cbor_to_json(p, n, flags, s, need + 1, &len), IPCN_OK);
    assert_int_equal(len, need);
    assert_int_equal(strlen(s), len);
    return s;
}

static char *hexstr(const uint8_t *p, size_t n)
{
    cr_buf b = {0};
    cr_puts(&b, "");
    cr_hex(&b, p, n);
    return b.p;
}

static void test_rfc_examples(void **state)
{
    (void)state;
    static const struct {
        const char *json, *hex;
    } v[] = {
        {"0", "00"}, {"23", "17"}, {"-1000", "3903e7"}, {"1.5", "f93e00"},
        {"100000.0", "fa47c35000"}, {"1.1", "fb3ff199999999999a"}, {"true", "f5"},
        {"null", "f6"}, {"\"IETF\"", "6449455446"}, {"[]", "80"},
        {"[1,[2,3],[4,5]]", "8301820203820405"},
        {"{\"a\":1,\"b\":[2,3]}", "a26161016162820203"},
        {"18446744073709551615", "1bffffffffffffffff"},
        {"-18446744073709551616", "3bffffffffffffffff"},
        {"18446744073709551616", "fa5f800000"}, /* 2^64: a float */
        {"-0", "00"}, {"-0.0", "f98000"}, {"1e400", "f97c00"}, {"-1e400", "f9fc00"},
        {" \t\r\n[ 1 , { } ] \n", "8201a0"},
        {"\"\\u00fc\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
         "6ec3bcf09f9880225c2f080c0a0d09"},
        {"\"\xe6\xb0\xb4\"", "63e6b0b4"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        uint8_t *c = NULL;
        size_t n = 0;
        ipcn_json_error e = {0, NULL};
        int st = from_json(v[i].json, strlen(v[i].json), 0, &c, &n, &e);
        if (st != IPCN_OK)
            fail_msg("%s: %d at %zu: %s", v[i].json, st, e.offset, e.what);
        char *h = hexstr(c, n);
        if (strcmp(h, v[i].hex))
            fail_msg("%s gave %s, want %s", v[i].json, h, v[i].hex);
        free(h);
        free(c);
    }
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        size_t at;
        const char *what;
    } v[] = {
        {"", 0, "a value was expected"},
        {"   ", 3, "a value was expected"},
        {"[1,2,]", 5, "trailing comma"},
        {"{\"a\":1,}", 7, "trailing comma"},
        {"[1 2]", 3, "',' or ']' was expected"},
        {"{\"a\" 1}", 5, "':' was expected"},
        {"{1:2}", 1, "a string key was expected"},
        {"01", 1, "leading zero in a number"},
        {"1.", 2, "digits expected after '.'"},
        {"1e+", 3, "digits expected in the exponent"},
        {"-", 1, "invalid number"},
        {"+1", 0, "a value was expected (object, array, string, number, true, false or null)"},
        {"'a'", 0, "strings take double quotes"},
        {"nul", 0, "a value was expected (object, array, string, number, true, false or null)"},
        {"NaN", 0, "a value was expected (object, array, string, number, true, false or null)"},
        {"1 2", 2, "unexpected text after the value"},
        {"\"abc", 4, "unterminated string"},
        {"\"a\x01\"", 2, "control character in a string (escape it)"},
        {"\"\\x\"", 2, "invalid escape in a string"},
        {"\"\\u12g4\"", 1, "invalid \\u escape"},
        {"\"\\udc00\"", 1, "lone low surrogate in a \\u escape"},
        {"\"\\ud800x\"", 7, "high surrogate not followed by a low one"},
        {"\"\\ud800\\u0041\"", 7, "high surrogate not followed by a low one"},
        {"\"\xc0\xaf\"", 1, "invalid UTF-8 in a string"},
        {"\"\xed\xa0\x80\"", 1, "invalid UTF-8 in a string"},
        {"\xef\xbb\xbf{}", 0, "byte order mark"},
        {"[1]/*c*/", 3, "unexpected text after the value"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        ipcn_json_error e = {999, NULL};
        size_t len = 4321;
        uint8_t buf[64];
        int st = ipcn_cbor_from_json(v[i].json, strlen(v[i].json), 0, buf, sizeof buf,
                                     &len, &e);
        if (st != IPCN_BAD_REQUEST || e.offset != v[i].at || !e.what ||
            strcmp(e.what, v[i].what) || len != 4321)
            fail_msg("'%s': %d at %zu: %s", v[i].json, st, e.offset, e.what ? e.what : "-");
    }
    /* a NUL inside the text is not the end of it */
    ipcn_json_error e;
    assert_int_equal(ipcn_cbor_from_json("[1]\0", 4, 0, NULL, 0, NULL, &e), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_from_json("[1]\0", 3, 0, NULL, 0, NULL, &e), IPCN_OK);
    /* arguments */
    assert_int_equal(ipcn_cbor_from_json(NULL, 1, 0, NULL, 0, NULL, NULL), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_from_json("1", 1, 0, NULL, 4, NULL, NULL), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_from_json("1", 1, 0x80, NULL, 0, NULL, NULL), IPCN_BAD_REQUEST);
}

static void test_deterministic_and_sizes(void **state)
{
    (void)state;
    const char *j = "{\"b\":1,\"a\":{\"z\":[],\"y\":2.5},\"aa\":true}";
    uint8_t *c = NULL;
    size_t n = 0;
    assert_int_equal(from_json(j, strlen(j), IPCN_CBOR_DETERMINISTIC, &c, &n, NULL), IPCN_OK);
    assert_int_equal(ipcn_cbor_check(c, n, IPCN_CBOR_DETERMINISTIC), IPCN_OK);
    char *h = hexstr(c, n);
    assert_string_equal(h, "a36161a26179f94100617a80616201626161f5");
    free(h);
    free(c);
    /* equal keys: kept in plain output, refused in deterministic output */
    const char *dup = "{\"k\":1,\"k\":2}";
    assert_int_equal(from_json(dup, strlen(dup), 0, &c, &n, NULL), IPCN_OK);
    free(c);
    ipcn_json_error e = {0, NULL};
    uint8_t buf[32];
    assert_int_equal(ipcn_cbor_from_json(dup, strlen(dup), IPCN_CBOR_DETERMINISTIC, buf,
                                         sizeof buf, &n, &e),
                     IPCN_BAD_REQUEST);
    assert_non_null(e.what);
    /* a buffer too small: 306 and the size */
    size_t need = 0;
    assert_int_equal(ipcn_cbor_from_json("[1,2,3]", 7, 0, buf, 3, &need, NULL),
                     IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(need, 4);
}

static void test_to_json_mapping(void **state)
{
    (void)state;
    static const struct {
        const char *hex, *json;
    } v[] = {
        {"00", "0"}, {"3bffffffffffffffff", "-18446744073709551616"},
        {"f93c00", "1.0"}, {"f98000", "-0.0"}, {"fa47c35000", "100000.0"},
        {"fa7f7fffff", "3.4028234663852886e+38"}, {"f90001", "5.960464477539063e-08"},
        {"fb4341c37937e08000", "1e+16"}, {"fb3f1a36e2eb1c432d", "0.0001"},
        {"fb3ee4f8b588e368f1", "1e-05"}, {"f97e00", "null"}, {"f97c00", "null"},
        {"f9fc00", "null"}, {"f7", "null"}, {"f0", "null"}, {"f820", "null"},
        {"4401020304", "\"h'01020304'\""}, {"5f42010243030405ff", "\"h'0102030405'\""},
        {"7f657374726561646d696e67ff", "\"streaming\""},
        {"c074323031332d30332d32315432303a30343a30305a", "\"2013-03-21T20:04:00Z\""},
        {"d9d9f7c101", "1"}, /* tags dropped: self-described CBOR, epoch time */
        {"62227f", "\"\\\"\\u007f\""}, {"6a0a090d080c5c1f2f7e22", "\"\\n\\t\\r\\b\\f\\\\\\u001f/~\\\"\""},
        {"a201020304", "{\"1\":2,\"3\":4}"}, {"a1f561", "{\"true\":\"\"}"}, /* see below */
        {"a1420102f6", "{\"h'0102'\":null}"},
        {"a1820102f6", "{\"[1,2]\":null}"},
        {"a1a16161820102f6", "{\"{\\\"a\\\":[1,2]}\":null}"},
        {"a1a1a1010203f6", "{\"{\\\"h'a10102'\\\":3}\":null}"},
        {"a1a1f9" "3e00" "01f6", "{\"{\\\"1.5\\\":1}\":null}"},
        {"bf61619f0102ff6162a0ff", "{\"a\":[1,2],\"b\":{}}"},
    };
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        uint8_t c[128];
        size_t n = cr_unhex(v[i].hex, c, sizeof c);
        if (ipcn_cbor_check(c, n, 0) != IPCN_OK) {
            /* "a1f561" is not well-formed (a text of 1 byte cut): refused */
            size_t len;
            assert_int_equal(ipcn_cbor_to_json(c, n, 0, NULL, 0, &len), IPCN_BAD_REQUEST);
            continue;
        }
        char *s = to_json(c, n, 0);
        if (strcmp(s, v[i].json))
            fail_msg("%s gave %s, want %s", v[i].hex, s, v[i].json);
        /* what it prints is JSON */
        assert_int_equal(ipcn_cbor_from_json(s, strlen(s), 0, NULL, 0, NULL, NULL), IPCN_OK);
        free(s);
    }
    /* pretty */
    uint8_t c[64];
    size_t n = cr_unhex("a3616101616282 01a0 6163a0", c, sizeof c);
    char *s = to_json(c, n, IPCN_JSON_PRETTY);
    assert_string_equal(s, "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    {}\n  ],\n  \"c\": {}\n}");
    free(s);
    /* arguments and malformed input */
    size_t len = 77;
    assert_int_equal(ipcn_cbor_to_json(c, n, 0x10, NULL, 0, &len), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_to_json(c, n, 0, NULL, 5, &len), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_to_json(c, n - 1, 0, NULL, 0, &len), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_cbor_to_json(c, 0, 0, NULL, 0, &len), IPCN_BAD_REQUEST);
    assert_int_equal(len, 77);
}

static void test_tensors(void **state)
{
    (void)state;
    const float f[2][3] = {{0.5f, -1.0f, 0.1f}, {3.0f, 4.0f, 5.0f}};
    int64_t shape[2] = {2, 3};
    ipcn_tensor t;
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT32, 2, shape, f), IPCN_OK);
    uint8_t buf[256];
    ipcn_cbor_writer w;
    size_t n = 0;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "img");
    ipcn_tensor_encode(&w, &t);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    char *s = to_json(buf, n, 0);
    assert_string_equal(s, "{\"img\":{\"dtype\":\"float32\",\"shape\":[2,3],\"numel\":6,"
                           "\"values\":[0.5,-1.0,0.10000000149011612,3.0,4.0,5.0]}}");
    free(s);
    /* bool, int8 and uint64 elements */
    const uint8_t bools[3] = {1, 0, 1};
    const int8_t i8[2] = {-128, 127};
    const uint64_t u64[1] = {UINT64_MAX};
    int64_t s3 = 3, s2 = 2, s1 = 1;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_array(&w, 3);
    ipcn_tensor_init(&t, IPCN_DTYPE_BOOL, 1, &s3, bools);
    ipcn_tensor_encode(&w, &t);
    ipcn_tensor_init(&t, IPCN_DTYPE_INT8, 1, &s2, i8);
    ipcn_tensor_encode(&w, &t);
    ipcn_tensor_init(&t, IPCN_DTYPE_UINT64, 1, &s1, u64);
    ipcn_tensor_encode(&w, &t);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    s = to_json(buf, n, 0);
    assert_string_equal(s, "[{\"dtype\":\"bool\",\"shape\":[3],\"numel\":3,\"values\":[true,false,true]},"
                           "{\"dtype\":\"int8\",\"shape\":[2],\"numel\":2,\"values\":[-128,127]},"
                           "{\"dtype\":\"uint64\",\"shape\":[1],\"numel\":1,"
                           "\"values\":[18446744073709551615]}]");
    free(s);
    /* big-endian int16 (RFC 8746 tag 65), column-major (tag 1040) 2x2 */
    uint8_t be[64];
    size_t bn = cr_unhex("d9041082 820202 d84948 0001 0002 0003 fffe", be, sizeof be);
    s = to_json(be, bn, 0);
    assert_string_equal(s, "{\"dtype\":\"int16\",\"shape\":[2,2],\"numel\":4,"
                           "\"values\":[1,3,2,-2]}");
    free(s);
    /* a tensor of 2000 uint8: all of it, or its head */
    static uint8_t big[2000];
    int64_t s2000 = 2000;
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    uint8_t *enc = malloc(3000);
    ipcn_cbor_writer_init(&w, enc, 3000, 0);
    ipcn_tensor_init(&t, IPCN_DTYPE_UINT8, 1, &s2000, big);
    ipcn_tensor_encode(&w, &t);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    char *all = to_json(enc, n, 0), *head = to_json(enc, n, IPCN_JSON_TENSOR_HEAD);
    assert_non_null(strstr(all, "\"numel\":2000,"));
    assert_non_null(strstr(all, ",207]}"));
    assert_non_null(strstr(head, "\"numel\":2000,"));
    assert_non_null(strstr(head, ",255,0,1,")); /* 256 wraps */
    assert_non_null(strstr(head, ",255]}"));    /* 1024 values: the last is 1023 % 256 */
    assert_true(strlen(head) < strlen(all));
    free(all);
    free(head);
    free(enc);
    /* a tag 40 that is no tensor: its content */
    uint8_t bad[16];
    size_t badn = cr_unhex("d8288201 02", bad, sizeof bad);
    s = to_json(bad, badn, 0);
    assert_string_equal(s, "[1,2]");
    free(s);
}

/* xorshift64* */
static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

/* A random value of the kinds JSON holds, written with w. */
static void random_value(ipcn_cbor_writer *w, int depth)
{
    static const char *const texts[] = {"", "a", "\"quoted\"", "back\\slash", "tab\t",
                                        "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80", "\x7f\x01",
                                        "k"};
    unsigned kind = (unsigned)(rnd() % (depth < 6 ? 9 : 7));
    switch (kind) {
    case 0: ipcn_cbor_put_uint(w, rnd() >> (rnd() % 64)); return;
    case 1: ipcn_cbor_put_negint(w, rnd() >> (rnd() % 64)); return;
    case 2: {
        double d;
        uint64_t b = rnd();
        memcpy(&d, &b, sizeof d);
        if (!isfinite(d))
            d = (double)(int64_t)rnd() / 1024.0;
        ipcn_cbor_put_float(w, d);
        return;
    }
    case 3: ipcn_cbor_put_float(w, (double)(int)(rnd() % 2000) - 1000); return; /* 3.0 */
    case 4: ipcn_cbor_put_cstr(w, texts[rnd() % 9]); return;
    case 5: ipcn_cbor_put_bool(w, (int)(rnd() & 1)); return;
    case 6: ipcn_cbor_put_null(w); return;
    case 7: {
        unsigned k = (unsigned)(rnd() % 4);
        ipcn_cbor_put_array(w, k);
        for (unsigned i = 0; i < k; i++)
            random_value(w, depth + 1);
        return;
    }
    default: {
        unsigned k = (unsigned)(rnd() % 4);
        ipcn_cbor_put_map(w, k);
        for (unsigned i = 0; i < k; i++) {
            ipcn_cbor_put_cstr(w, texts[rnd() % 9]);
            random_value(w, depth + 1);
        }
        return;
    }
    }
}

static void test_roundtrip_property(void **state)
{
    (void)state;
    static uint8_t buf[1 << 16];
    for (int round = 0; round < 1500; round++) {
        ipcn_cbor_writer w;
        size_t n = 0;
        ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
        random_value(&w, 0);
        assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
        char *j = to_json(buf, n, round & 1 ? IPCN_JSON_PRETTY : 0);
        uint8_t *back = NULL;
        size_t bn = 0;
        ipcn_json_error e = {0, NULL};
        int st = from_json(j, strlen(j), 0, &back, &bn, &e);
        if (st != IPCN_OK)
            fail_msg("%s: %d at %zu: %s", j, st, e.offset, e.what);
        if (bn != n || memcmp(back, buf, n)) {
            char *a = hexstr(buf, n), *b = hexstr(back, bn);
            fail_msg("CBOR %s -> %s -> CBOR %s", a, j, b);
        }
        free(back);
        free(j);
    }
    /* JSON -> CBOR -> JSON -> CBOR -> JSON: the second JSON is the first */
    static const char *const texts[] = {
        "[1e400, -1e-400, 123456789012345678901234567890, 0.30000000000000004]",
        "{\"a\": [1.0, 2.50, 1E2, -0, -0.0, 5e-324]}",
        "\"\\ud834\\udd1e \\u0000 \\u001f\"", "[[[[[]]]],{}]"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        uint8_t *c1 = NULL, *c2 = NULL;
        size_t n1 = 0, n2 = 0;
        assert_int_equal(from_json(texts[i], strlen(texts[i]), 0, &c1, &n1, NULL), IPCN_OK);
        char *j1 = to_json(c1, n1, 0);
        assert_int_equal(from_json(j1, strlen(j1), 0, &c2, &n2, NULL), IPCN_OK);
        char *j2 = to_json(c2, n2, 0);
        assert_string_equal(j1, j2);
        free(c1);
        free(c2);
        free(j1);
        free(j2);
    }
}

static void test_hostile(void **state)
{
    (void)state;
    /* deep: refused at 65 levels, at once, without recursing further */
    size_t depth = 100000;
    char *deep = malloc(2 * depth);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    ipcn_json_error e = {0, NULL};
    assert_int_equal(ipcn_cbor_from_json(deep, 2 * depth, 0, NULL, 0, NULL, &e),
                     IPCN_BAD_REQUEST);
    assert_int_equal(e.offset, 64);
    assert_string_equal(e.what, "nested too deeply");
    /* 64 levels are fine */
    memmove(deep + 64, deep + depth, 64);
    size_t n = 0;
    assert_int_equal(ipcn_cbor_from_json(deep, 128, 0, NULL, 0, &n, &e), IPCN_OK);
    assert_int_equal(n, 64);
    free(deep);
    /* wide: 100000 empty arrays (one counter each) and a long string */
    size_t k = 100000;
    char *wide = malloc(3 * k + 2);
    wide[0] = '[';
    for (size_t i = 0; i < k; i++)
        memcpy(wide + 1 + 3 * i, "[],", 3);
    wide[3 * k] = ']';
    assert_int_equal(ipcn_cbor_from_json(wide, 3 * k + 1, 0, NULL, 0, &n, NULL), IPCN_OK);
    assert_int_equal(n, 5 + k);
    memset(wide, 'x', 3 * k + 2);
    wide[0] = '"';
    wide[3 * k + 1] = '"';
    assert_int_equal(ipcn_cbor_from_json(wide, 3 * k + 2, 0, NULL, 0, &n, NULL), IPCN_OK);
    assert_int_equal(n, 5 + 3 * k);
    /* a number of 300000 digits (copied to the heap for strtod) */
    memset(wide, '1', 3 * k);
    wide[1] = '.';
    uint8_t c[16];
    assert_int_equal(ipcn_cbor_from_json(wide, 3 * k, 0, c, sizeof c, &n, NULL), IPCN_OK);
    assert_int_equal(n, 9);
    assert_int_equal(c[0], 0xfb);
    free(wide);
    /* CBOR nested keys: output linear in the input (no doubling per level) */
    uint8_t keys[200];
    memset(keys, 0xa1, 63);
    keys[63] = 0x01; /* {{{...{1: 2}: 2}...}: 2} */
    memset(keys + 64, 0x02, 63);
    size_t kn = 127;
    assert_int_equal(ipcn_cbor_check(keys, kn, 0), IPCN_OK);
    size_t len = 0;
    assert_int_equal(ipcn_cbor_to_json(keys, kn, 0, NULL, 0, &len), IPCN_OK);
    assert_true(len < 40 * kn);
}

/* Out of memory: the counters of from_json are its only allocation. */
static long alloc_count, fail_at;
static void *t_malloc(size_t n) { return ++alloc_count == fail_at ? NULL : malloc(n); }
static void *t_realloc(void *p, size_t n)
{
    return ++alloc_count == fail_at ? NULL : realloc(p, n);
}

static void test_oom(void **state)
{
    (void)state;
    const char *j = "[[1],{\"a\":[2,[3]]},[]]";
    int saw = 0;
    for (fail_at = 1; fail_at < 20; fail_at++) {
        alloc_count = 0;
        assert_int_equal(ipcn_set_allocator(t_malloc, t_realloc, free), IPCN_OK);
        size_t n = 0;
        int st = ipcn_cbor_from_json(j, strlen(j), 0, NULL, 0, &n, NULL);
        assert_int_equal(ipcn_set_allocator(NULL, NULL, NULL), IPCN_OK);
        assert_true(st == IPCN_OK || st == IPCN_INSUFFICIENT_MEMORY);
        if (st == IPCN_INSUFFICIENT_MEMORY)
            saw = 1;
        else
            assert_int_equal(n, 11);
    }
    assert_true(saw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_deterministic_and_sizes),
        cmocka_unit_test(test_to_json_mapping),
        cmocka_unit_test(test_tensors),
        cmocka_unit_test(test_roundtrip_property),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
