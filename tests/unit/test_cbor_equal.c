/* SPDX-License-Identifier: MIT */
/*
 * test_cbor_equal.c — equal CBOR values for votes (src/value/cbor_equal.c):
 * numbers within a tolerance (integers, floats, one of each), maps as sets
 * of keys (keys exact), arrays in order, strings, tags and simple values
 * exact; encodings that differ but hold the same value; malformed input;
 * big hostile maps compared at a bounded cost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cbor_lit.h"
#include "value/value.h"

static uint8_t abuf[4096], bbuf[4096];

static bool eq(const char *a, const char *b, double tol)
{
    size_t an = cl_cbor(a, abuf, sizeof abuf);
    size_t bn = cl_cbor(b, bbuf, sizeof bbuf);
    bool r = ipcn__cbor_equal(abuf, an, bbuf, bn, tol);
    /* Equality is symmetric. */
    assert_int_equal(r, ipcn__cbor_equal(bbuf, bn, abuf, an, tol));
    return r;
}

static bool eqb(const void *a, size_t an, const void *b, size_t bn,
                double tol)
{
    bool r = ipcn__cbor_equal(a, an, b, bn, tol);
    assert_int_equal(r, ipcn__cbor_equal(b, bn, a, an, tol));
    return r;
}

static void test_numbers(void **state)
{
    (void)state;
    assert_true(eq("1", "1", 0));
    assert_false(eq("1", "2", 0));
    assert_true(eq("1", "1.0", 0));          /* an integer and a float */
    assert_true(eq("1.0", "1.0000001", 1e-6));
    assert_false(eq("1.0", "1.0000001", 0));
    assert_false(eq("1.0", "1.0000001", 1e-8));
    assert_true(eq("5", "7", 2));
    assert_false(eq("5", "7", 1));
    assert_true(eq("-3", "2", 5));
    assert_false(eq("-3", "2", 4.9));
    assert_false(eq("0", "-1", 0));
    assert_true(eq("0", "-1", 1));
    assert_true(eq("2", "2.5", 0.5));
    assert_false(eq("2", "2.5", 0.49));
    assert_false(eq("1.0", "1.0000001", -1)); /* negative: exactly */
    /* The widest integers: their distance saturates, no wrap-around. */
    static const uint8_t umax[] = {0x1b, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff};
    static const uint8_t nmax[] = {0x3b, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff};
    static const uint8_t zero[] = {0x00};
    assert_false(eqb(umax, sizeof umax, nmax, sizeof nmax, 1));
    assert_false(eqb(umax, sizeof umax, zero, 1, 1e18));
    assert_true(eqb(umax, sizeof umax, zero, 1, 1e20));
    /* NaNs (half and double encodings) equal each other, nothing else. */
    static const uint8_t nan16[] = {0xf9, 0x7e, 0x00};
    static const uint8_t nan64[] = {0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
    static const uint8_t one[] = {0x01};
    assert_true(eqb(nan16, sizeof nan16, nan64, sizeof nan64, 0));
    assert_false(eqb(nan16, sizeof nan16, one, 1, 1e300));
    /* Numbers are not other things. */
    assert_false(eq("1", "true", 1));
    assert_false(eq("0", "null", 1));
    assert_false(eq("1", "\"1\"", 1));
}

static void test_containers(void **state)
{
    (void)state;
    assert_true(eq("{\"a\": 1, \"b\": 2}", "{\"b\": 2, \"a\": 1}", 0));
    assert_false(eq("{\"a\": 1}", "{\"a\": 1, \"b\": 2}", 0));
    assert_false(eq("{\"a\": 1}", "{\"b\": 1}", 0));
    assert_true(eq("{\"a\": 1.0, \"b\": [1, 2]}",
                   "{\"b\": [1, 2.04], \"a\": 1.05}", 0.1));
    assert_false(eq("{\"a\": 1.0}", "{\"a\": 1.2}", 0.1));
    assert_true(eq("[1, 2, 3]", "[1, 2, 3]", 0));
    assert_false(eq("[1, 2]", "[2, 1]", 0));
    assert_false(eq("[1, 2]", "[1, 2, 3]", 0));
    assert_false(eq("[[1], 2]", "[1, [2]]", 0));
    assert_true(eq("[{\"x\": [1, {\"y\": 2}]}]", "[{\"x\": [1, {\"y\": 2.0}]}]", 0));
    assert_false(eq("[]", "{}", 0));
    assert_true(eq("\"abc\"", "\"abc\"", 0));
    assert_false(eq("\"abc\"", "\"abd\"", 1));
    assert_false(eq("\"abc\"", "h'616263'", 0)); /* text is not bytes */
    assert_true(eq("h'0102'", "h'0102'", 0));
    assert_false(eq("true", "false", 0));
    assert_true(eq("null", "null", 0));
    /* Keys are exact, even numbers: 1 and 1.0 are different keys. */
    static const uint8_t k_int[] = {0xa1, 0x01, 0x61, 'x'};
    static const uint8_t k_flt[] = {0xa1, 0xf9, 0x3c, 0x00, 0x61, 'x'};
    assert_false(eqb(k_int, sizeof k_int, k_flt, sizeof k_flt, 1));
    /* An indefinite-length encoding holds the same value as a definite
     * one; a longer head the same integer. */
    static const uint8_t indef[] = {0x9f, 0x01, 0x02, 0xff};
    static const uint8_t def[] = {0x82, 0x01, 0x02};
    static const uint8_t longhead[] = {0x82, 0x18, 0x01, 0x02};
    assert_true(eqb(indef, sizeof indef, def, sizeof def, 0));
    assert_true(eqb(longhead, sizeof longhead, def, sizeof def, 0));
    /* Tags: the same number and content. */
    static const uint8_t t1[] = {0xc1, 0x1a, 0x00, 0x01, 0x00, 0x00};
    static const uint8_t t1b[] = {0xc1, 0x1a, 0x00, 0x01, 0x00, 0x01};
    static const uint8_t t2[] = {0xc2, 0x1a, 0x00, 0x01, 0x00, 0x00};
    assert_true(eqb(t1, sizeof t1, t1b, sizeof t1b, 1));
    assert_false(eqb(t1, sizeof t1, t1b, sizeof t1b, 0));
    assert_false(eqb(t1, sizeof t1, t2, sizeof t2, 1));
}

static void test_malformed(void **state)
{
    (void)state;
    /* The same bytes are the same answer, CBOR or not. */
    static const uint8_t junk[] = {0xff, 0x18};
    assert_true(eqb(junk, sizeof junk, junk, sizeof junk, 0));
    static const uint8_t trunc_a[] = {0x19, 0x01};
    static const uint8_t trunc_b[] = {0x19, 0x02};
    assert_false(eqb(trunc_a, sizeof trunc_a, trunc_b, sizeof trunc_b, 1e9));
    /* Two items, or trailing bytes: not one value. */
    static const uint8_t two[] = {0x01, 0x01};
    static const uint8_t one[] = {0x01};
    assert_false(eqb(two, sizeof two, one, 1, 0));
    /* A map with a key twice equals only its own bytes. */
    static const uint8_t dup[] = {0xa2, 0x01, 0x01, 0x01, 0x01};
    static const uint8_t dup2[] = {0xa2, 0x01, 0x01, 0x01, 0x02};
    assert_true(eqb(dup, sizeof dup, dup, sizeof dup, 0));
    assert_false(eqb(dup, sizeof dup, dup2, sizeof dup2, 1));
    static const uint8_t empty[1];
    assert_true(eqb(empty, 0, empty, 0, 0));
    assert_false(eqb(empty, 0, one, 1, 0));
}

/* A map of n integer keys, in ascending or descending order, values i. */
static size_t big_map(uint8_t *buf, size_t cap, uint32_t n, bool down,
                      uint32_t odd_one)
{
    ipcn_cbor_writer w;
    assert_int_equal(ipcn_cbor_writer_init(&w, buf, cap, 0), IPCN_OK);
    ipcn_cbor_put_map(&w, n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = down ? n - 1 - i : i;
        ipcn_cbor_put_uint(&w, k);
        ipcn_cbor_put_uint(&w, k == odd_one ? k + 1 : k);
    }
    size_t len = 0;
    assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
    return len;
}

/* A hostile answer costs sorting, not n squared: 50 000 keys each way. */
static void test_big(void **state)
{
    (void)state;
    size_t cap = 1u << 20;
    uint8_t *a = malloc(cap), *b = malloc(cap);
    assert_non_null(a);
    assert_non_null(b);
    uint32_t n = 50000;
    size_t an = big_map(a, cap, n, false, UINT32_MAX);
    size_t bn = big_map(b, cap, n, true, UINT32_MAX);
    assert_true(eqb(a, an, b, bn, 0));
    bn = big_map(b, cap, n, true, 777);
    assert_false(eqb(a, an, b, bn, 0));
    assert_true(eqb(a, an, b, bn, 1));
    /* Nesting as deep as the reader allows, then one deeper. */
    size_t d = IPCN_CBOR_MAX_DEPTH;
    memset(a, 0x81, d);
    a[d] = 0x01;
    memcpy(b, a, d + 1);
    b[d] = 0xf9, b[d + 1] = 0x3c, b[d + 2] = 0x00; /* 1.0 */
    assert_true(eqb(a, d + 1, b, d + 3, 0));
    memset(a, 0x81, d + 1);
    a[d + 1] = 0x01;
    memset(b, 0x81, d + 1);
    b[d + 1] = 0x02;
    assert_false(eqb(a, d + 2, b, d + 2, 5));
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_containers),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_big),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
