/* SPDX-License-Identifier: MIT */
/*
 * test_schema.c — the type language of typed services and typed data and
 * streams (src/value/schema.c): every primitive (an integer is a float),
 * nested map/array/optional/nullable, tensors in place, invalid schemas
 * and the bounds of a schema, the reasons given for mismatches, and the
 * type a descriptor's meta declares.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cbor_lit.h"
#include "util/util.h"
#include "value/value.h"

static uint8_t sbuf[4096], vbuf[4096];
static char why[256];

/* Check the value literal against the schema literal; returns the status,
 * with the reason in why. */
static int check(const char *schema, const char *value)
{
    size_t sn = cl_cbor(schema, sbuf, sizeof sbuf);
    size_t vn = cl_cbor(value, vbuf, sizeof vbuf);
    assert_int_equal(ipcn__schema_valid(sbuf, sn), IPCN_OK);
    return ipcn__schema_check(sbuf, sn, vbuf, vn, why, sizeof why);
}

static void ok(const char *schema, const char *value)
{
    int st = check(schema, value);
    if (st != IPCN_OK)
        fail_msg("%s should accept %s: %d (%s)", schema, value, st, why);
}

static void bad(const char *schema, const char *value, const char *reason)
{
    int st = check(schema, value);
    if (st != IPCN_BAD_REQUEST)
        fail_msg("%s should refuse %s: %d", schema, value, st);
    assert_string_equal(why, reason);
}

static int valid(const char *schema)
{
    size_t sn = cl_cbor(schema, sbuf, sizeof sbuf);
    return ipcn__schema_valid(sbuf, sn);
}

static void test_primitives(void **state)
{
    (void)state;
    ok("\"any\"", "[1, {\"a\": null}]");
    ok("\"null\"", "null");
    bad("\"null\"", "false", "args: expected null, got bool");
    ok("\"bool\"", "true");
    ok("\"bool\"", "false");
    bad("\"bool\"", "1", "args: expected bool, got int");
    ok("\"int\"", "7");
    ok("\"int\"", "-7");
    bad("\"int\"", "7.5", "args: expected int, got float");
    ok("\"uint\"", "0");
    bad("\"uint\"", "-1", "args: expected uint, got int");
    ok("\"float\"", "1.5");
    ok("\"float\"", "2.0");
    /* An integer is a float, as JSON has it (issue 21: {"gain": 2}). */
    ok("\"float\"", "2");
    ok("\"float\"", "-3");
    ok("{\"map\": {\"gain\": \"float\"}}", "{\"gain\": 2}");
    bad("\"float\"", "true", "args: expected float, got bool");
    bad("\"float\"", "\"2.0\"", "args: expected float, got text");
    ok("\"number\"", "2");
    ok("\"number\"", "-2");
    ok("\"number\"", "2.25");
    bad("\"number\"", "\"2\"", "args: expected number, got text");
    ok("\"text\"", "\"hi\"");
    bad("\"text\"", "h'6869'", "args: expected text, got bytes");
    ok("\"bytes\"", "h'0001'");
    bad("\"bytes\"", "\"hi\"", "args: expected bytes, got text");
    bad("\"text\"", "[]", "args: expected text, got array");
    bad("\"text\"", "{}", "args: expected text, got map");
}

static void test_tensor(void **state)
{
    (void)state;
    float e[6] = {1, 2, 3, 4, 5, 6};
    const int64_t shape[2] = {2, 3};
    ipcn_tensor t;
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT32, 2, shape, e),
                     IPCN_OK);
    ipcn_cbor_writer w;
    size_t vn = 0;
    /* {"t": <tensor>} so that a tensor inside a map is checked too */
    ipcn_cbor_writer_init(&w, vbuf, sizeof vbuf, 0);
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "t");
    assert_int_equal(ipcn_tensor_encode(&w, &t), IPCN_OK);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &vn), IPCN_OK);
    size_t sn = cl_cbor("{\"map\": {\"t\": \"tensor\"}}", sbuf, sizeof sbuf);
    assert_int_equal(ipcn__schema_check(sbuf, sn, vbuf, vn, why, sizeof why),
                     IPCN_OK);
    bad("{\"map\": {\"t\": \"tensor\"}}", "{\"t\": [1, 2]}",
        "args.t: expected tensor, got array");
    bad("\"tensor\"", "h'00'", "args: expected tensor, got bytes");
}

/* Tensors inside arrays and maps are read where they are (the tree's
 * offsets), whatever comes after them. */
static void test_tensor_in_place(void **state)
{
    (void)state;
    uint8_t e8[4] = {1, 2, 3, 4};
    const int64_t shape[1] = {4};
    ipcn_tensor t;
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_UINT8, 1, shape, e8),
                     IPCN_OK);
    ipcn_cbor_writer w;
    size_t vn = 0;
    /* [T, {"t": T, "n": 1}, T] */
    ipcn_cbor_writer_init(&w, vbuf, sizeof vbuf, 0);
    ipcn_cbor_put_array(&w, 3);
    ipcn_tensor_encode(&w, &t);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "t");
    ipcn_tensor_encode(&w, &t);
    ipcn_cbor_put_cstr(&w, "n");
    ipcn_cbor_put_uint(&w, 1);
    ipcn_tensor_encode(&w, &t);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &vn), IPCN_OK);
    size_t sn = cl_cbor("{\"array\": \"any\"}", sbuf, sizeof sbuf);
    assert_int_equal(ipcn__schema_check(sbuf, sn, vbuf, vn, why, sizeof why),
                     IPCN_OK);
    sn = cl_cbor("{\"array\": \"tensor\"}", sbuf, sizeof sbuf);
    assert_int_equal(ipcn__schema_check(sbuf, sn, vbuf, vn, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "args[1]: expected tensor, got map");
    /* the same without the map: every element read in place */
    ipcn_cbor_writer_init(&w, vbuf, sizeof vbuf, 0);
    ipcn_cbor_put_array(&w, 2);
    ipcn_tensor_encode(&w, &t);
    ipcn_tensor_encode(&w, &t);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &vn), IPCN_OK);
    assert_int_equal(ipcn__schema_check(sbuf, sn, vbuf, vn, why, sizeof why),
                     IPCN_OK);
    /* a typed array whose length is not a whole number of elements, in
     * the middle of an array, is no tensor */
    static const uint8_t odd[] = {0x82, 0xd8, 0x45, 0x43, 1, 2, 3, 0x01};
    sn = cl_cbor("{\"array\": \"tensor\"}", sbuf, sizeof sbuf);
    assert_int_equal(ipcn__schema_check(sbuf, sn, odd, sizeof odd, why,
                                        sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "args[0]: expected tensor, got an invalid tensor");
    /* a whole value that is a tensor: the short way */
    ipcn_cbor_writer_init(&w, vbuf, sizeof vbuf, 0);
    ipcn_tensor_encode(&w, &t);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &vn), IPCN_OK);
    sn = cl_cbor("\"tensor\"", sbuf, sizeof sbuf);
    assert_int_equal(ipcn__schema_check(sbuf, sn, vbuf, vn, why, sizeof why),
                     IPCN_OK);
}

static void test_nested(void **state)
{
    (void)state;
    const char *s =
        "{\"map\": {\"x\": \"float\", \"tags\": {\"array\": \"text\"},"
        " \"note\": {\"optional\": \"text\"},"
        " \"parent\": {\"nullable\": {\"map\": {\"id\": \"uint\"}}},"
        " \"grid\": {\"array\": {\"array\": \"number\"}}}}";
    ok(s, "{\"x\": 1.5, \"tags\": [], \"parent\": null, \"grid\": []}");
    ok(s, "{\"grid\": [[1, 2.5], []], \"parent\": {\"id\": 3}, \"note\": \"n\","
          " \"tags\": [\"a\", \"b\"], \"x\": -0.5}");
    bad(s, "{\"x\": \"1.5\", \"tags\": [], \"parent\": null, \"grid\": []}",
        "args.x: expected float, got text");
    bad(s, "{\"tags\": [], \"parent\": null, \"grid\": []}",
        "args.x: missing field");
    bad(s, "{\"x\": 1.5, \"tags\": [], \"parent\": null, \"grid\": [], \"y\": 1}",
        "args.y: unexpected field");
    bad(s, "{\"x\": 1.5, \"tags\": [\"a\", 2], \"parent\": null, \"grid\": []}",
        "args.tags[1]: expected text, got int");
    bad(s, "{\"x\": 1.5, \"tags\": [], \"parent\": {\"id\": -1}, \"grid\": []}",
        "args.parent.id: expected uint, got int");
    bad(s, "{\"x\": 1.5, \"tags\": [], \"parent\": null, \"grid\": [[1], [\"z\"]]}",
        "args.grid[1][0]: expected number, got text");
    bad(s, "{\"x\": 1.5, \"tags\": [], \"parent\": null, \"grid\": [], \"note\": 3}",
        "args.note: expected text, got int");
    bad(s, "{\"x\": 1.5, \"tags\": [], \"parent\": null, \"grid\": [], \"x\": 2.5}",
        "args.x: field given twice");
    bad(s, "{1: 1.5}", "args: expected map with text keys, got a key of type int");
    bad(s, "[1.5]", "args: expected map, got array");
    bad("{\"array\": \"int\"}", "{}", "args: expected array, got map");
    ok("{\"nullable\": \"int\"}", "null");
    ok("{\"nullable\": \"int\"}", "4");
    bad("{\"nullable\": \"int\"}", "\"4\"", "args: expected int, got text");
    ok("{\"map\": {}}", "{}");
    bad("{\"map\": {}}", "{\"a\": 1}", "args.a: unexpected field");
}

static void test_invalid_schemas(void **state)
{
    (void)state;
    assert_int_equal(valid("\"integer\""), IPCN_BAD_REQUEST);
    assert_int_equal(valid("\"\""), IPCN_BAD_REQUEST);
    assert_int_equal(valid("1"), IPCN_BAD_REQUEST);
    assert_int_equal(valid("null"), IPCN_BAD_REQUEST);
    assert_int_equal(valid("[\"int\"]"), IPCN_BAD_REQUEST);
    assert_int_equal(valid("{}"), IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"array\": \"int\", \"nullable\": \"int\"}"),
                     IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"list\": \"int\"}"), IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"array\": \"str\"}"), IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"map\": [\"int\"]}"), IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"map\": {1: \"int\"}}"), IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"map\": {\"a\": \"int\", \"a\": \"text\"}}"),
                     IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"optional\": \"int\"}"), IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"array\": {\"optional\": \"int\"}}"),
                     IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"map\": {\"a\": {\"optional\": {\"optional\": \"int\"}}}}"),
                     IPCN_BAD_REQUEST);
    assert_int_equal(valid("{\"map\": {\"a\": {\"optional\": \"int\"}}}"),
                     IPCN_OK);
    static const uint8_t junk[] = {0xa1, 0x65}; /* truncated */
    assert_int_equal(ipcn__schema_valid(junk, sizeof junk), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__schema_valid(NULL, 0), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__schema_check(junk, sizeof junk, "\xf6", 1, why,
                                        sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "args: invalid schema");
}

/* depth nested types: {"array": ... "int"} with depth - 1 arrays. */
static const char *nested(int depth, char *buf, size_t cap)
{
    buf[0] = 0;
    for (int i = 1; i < depth; i++)
        strncat(buf, "{\"array\": ", cap - strlen(buf) - 1);
    strncat(buf, "\"int\"", cap - strlen(buf) - 1);
    for (int i = 1; i < depth; i++)
        strncat(buf, "}", cap - strlen(buf) - 1);
    return buf;
}

static void test_depth(void **state)
{
    (void)state;
    char s[1024], v[256];
    assert_int_equal(valid(nested(16, s, sizeof s)), IPCN_OK);
    assert_int_equal(valid(nested(17, s, sizeof s)), IPCN_BAD_REQUEST);
    /* 15 arrays around an int: a value of that shape matches */
    nested(16, s, sizeof s);
    v[0] = 0;
    for (int i = 0; i < 15; i++)
        strcat(v, "[");
    strcat(v, "5");
    for (int i = 0; i < 15; i++)
        strcat(v, "]");
    ok(s, v);
    /* a map of maps: each "map" level counts once */
    char m[2048] = "";
    for (int i = 1; i < 17; i++)
        strcat(m, "{\"map\": {\"a\": ");
    strcat(m, "\"int\"");
    for (int i = 1; i < 17; i++)
        strcat(m, "}}");
    assert_int_equal(valid(m), IPCN_BAD_REQUEST);
    /* a deep value against "any" is fine: "any" does not look inside */
    for (int i = 0; i < 40; i++)
        m[i] = '[', m[41 + i] = ']';
    m[40] = '1';
    m[81] = 0;
    ok("\"any\"", m);
}

/* A schema may come from a peer: its size and fields are bounded. */
static void test_bounds(void **state)
{
    (void)state;
    char lit[8192];
    /* 128 fields: valid; 129: not */
    for (int nf = 128; nf <= 129; nf++) {
        size_t k = (size_t)snprintf(lit, sizeof lit, "{\"map\": {");
        for (int i = 0; i < nf; i++)
            k += (size_t)snprintf(lit + k, sizeof lit - k, "%s\"f%d\": \"int\"",
                                  i ? ", " : "", i);
        snprintf(lit + k, sizeof lit - k, "}}");
        assert_int_equal(valid(lit), nf == 128 ? IPCN_OK : IPCN_BAD_REQUEST);
    }
    /* a value with all 128 fields, in reverse order, matches */
    size_t k = (size_t)snprintf(lit, sizeof lit, "{\"map\": {");
    for (int i = 0; i < 128; i++)
        k += (size_t)snprintf(lit + k, sizeof lit - k, "%s\"f%d\": \"int\"",
                              i ? ", " : "", i);
    snprintf(lit + k, sizeof lit - k, "}}");
    char val[4096];
    size_t vk = (size_t)snprintf(val, sizeof val, "{");
    for (int i = 127; i >= 0; i--)
        vk += (size_t)snprintf(val + vk, sizeof val - vk, "%s\"f%d\": %d",
                               i < 127 ? ", " : "", i, i);
    snprintf(val + vk, sizeof val - vk, "}");
    ok(lit, val);
    /* over 4096 bytes: not a schema, even if well-formed */
    static uint8_t big[5000];
    ipcn_cbor_writer w;
    size_t bn = 0;
    ipcn_cbor_writer_init(&w, big, sizeof big, 0);
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "map");
    ipcn_cbor_put_map(&w, 1);
    char name[4200];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = 0;
    ipcn_cbor_put_cstr(&w, name);
    ipcn_cbor_put_cstr(&w, "int");
    assert_int_equal(ipcn_cbor_writer_finish(&w, &bn), IPCN_OK);
    assert_true(bn > IPCN__SCHEMA_MAX_LEN);
    assert_int_equal(ipcn__schema_valid(big, bn), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__schema_check(big, bn, "\x01", 1, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "args: invalid schema");
}

/* The type a data or stream descriptor declares: meta's "schema". */
static void test_from_meta(void **state)
{
    (void)state;
    uint8_t m[512], want[256];
    uint8_t *t = NULL;
    size_t tn = 0, mn, wn;
    mn = cl_cbor("{\"rate\": 10, \"schema\": {\"map\": {\"gain\": \"float\"}}}", m,
                 sizeof m);
    assert_int_equal(ipcn__schema_from_meta(m, mn, &t, &tn), IPCN_OK);
    wn = cl_cbor("{\"map\": {\"gain\": \"float\"}}", want, sizeof want);
    assert_int_equal(tn, wn);
    assert_memory_equal(t, want, wn);
    ipcn__free(t);
    /* nothing declared: 103 */
    assert_int_equal(ipcn__schema_from_meta(NULL, 0, &t, &tn), IPCN_NO_DATA);
    mn = cl_cbor("{\"rate\": 10}", m, sizeof m);
    assert_int_equal(ipcn__schema_from_meta(m, mn, &t, &tn), IPCN_NO_DATA);
    mn = cl_cbor("[\"schema\", \"int\"]", m, sizeof m);
    assert_int_equal(ipcn__schema_from_meta(m, mn, &t, &tn), IPCN_NO_DATA);
    static const uint8_t opaque[] = {0xa1, 0x66, 's', 'c', 'h'}; /* cut */
    assert_int_equal(ipcn__schema_from_meta(opaque, sizeof opaque, &t, &tn),
                     IPCN_NO_DATA);
    assert_int_equal(ipcn__schema_from_meta("rate=10", 7, &t, &tn),
                     IPCN_NO_DATA);
    /* declared, but not a type, or twice: 200 */
    mn = cl_cbor("{\"schema\": \"integer\"}", m, sizeof m);
    assert_int_equal(ipcn__schema_from_meta(m, mn, &t, &tn), IPCN_BAD_REQUEST);
    mn = cl_cbor("{\"schema\": {\"optional\": \"int\"}}", m, sizeof m);
    assert_int_equal(ipcn__schema_from_meta(m, mn, &t, &tn), IPCN_BAD_REQUEST);
    mn = cl_cbor("{\"schema\": \"int\", \"schema\": \"int\"}", m, sizeof m);
    assert_int_equal(ipcn__schema_from_meta(m, mn, &t, &tn), IPCN_BAD_REQUEST);
    /* a key that is not text is another key */
    mn = cl_cbor("{1: \"schema\", \"schema\": \"bool\"}", m, sizeof m);
    assert_int_equal(ipcn__schema_from_meta(m, mn, &t, &tn), IPCN_OK);
    assert_int_equal(tn, 5);
    assert_memory_equal(t, "\x64" "bool", 5);
    ipcn__free(t);

    assert_true(ipcn__encoding_is_cbor("cbor"));
    assert_true(ipcn__encoding_is_cbor("application/cbor"));
    assert_true(ipcn__encoding_is_cbor("CBOR"));
    assert_false(ipcn__encoding_is_cbor(""));
    assert_false(ipcn__encoding_is_cbor(NULL));
    assert_false(ipcn__encoding_is_cbor("application/json"));
    assert_false(ipcn__encoding_is_cbor("cbor/x"));
}

static void test_root_name(void **state)
{
    (void)state;
    size_t sn = cl_cbor("{\"map\": {\"pose\": {\"map\": {\"x\": \"float\"}}}}",
                        sbuf, sizeof sbuf);
    size_t vn = cl_cbor("{\"pose\": {\"x\": \"1\"}}", vbuf, sizeof vbuf);
    assert_int_equal(ipcn__schema_check_as(sbuf, sn, vbuf, vn, "value", why,
                                           sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "value.pose.x: expected float, got text");
}

static void test_value_errors(void **state)
{
    (void)state;
    size_t sn = cl_cbor("\"int\"", sbuf, sizeof sbuf);
    static const uint8_t two[] = {0x01, 0x02}; /* two items */
    assert_int_equal(ipcn__schema_check(sbuf, sn, two, sizeof two, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "args: not a well-formed CBOR item");
    assert_int_equal(ipcn__schema_check(sbuf, sn, NULL, 0, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "args: not a well-formed CBOR item");
    /* a short why buffer is still terminated */
    char small[8];
    assert_int_equal(ipcn__schema_check(sbuf, sn, "\x61\x61", 2, small,
                                        sizeof small),
                     IPCN_BAD_REQUEST);
    assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primitives),
        cmocka_unit_test(test_tensor),
        cmocka_unit_test(test_tensor_in_place),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_from_meta),
        cmocka_unit_test(test_root_name),
        cmocka_unit_test(test_invalid_schemas),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_value_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
