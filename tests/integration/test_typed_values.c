/* SPDX-License-Identifier: MIT */
/*
 * test_typed_values.c — issue 4's "done when", C side: a C process
 * (helpers/t_typed_pub.c) publishes a CBOR map, a tensor and a raw video
 * frame with their encodings, and this process queries each and decodes
 * it with the library: the map's fields, the tensor's dtype, shape and
 * values as a view into the received message (no copy), and the frame's
 * encoding parameters.  The Python side (cbor2 + NumPy) is
 * tests/value/test_typed_values_py.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "ipcnet.h"
#include "ipcnet_value.h"
#include "v_util.h"

/* Start the publisher and wait until its three values can be queried. */
static ipcn_node *start_publisher(void)
{
    const char *args[] = {"typed-pub", "30", NULL};
    pid_t pid = tu_spawn("t_typed_pub", args);
    assert_true(pid > 0);
    v_track_pid(pid);
    ipcn_node *n = v_open("typed-sub", NULL);
    if (!v_wait_count(n, "typed/*", IPCN_DATA, 3, V_WAIT_MS))
        fail_msg("the publisher's three resources did not show up");
    return n;
}

/* Query path, retrying while the value is not published yet (103). */
static ipcn_msg *query(ipcn_node *n, const char *path)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        ipcn_msg *m = NULL;
        int st = ipcn_query(n, path, &m, 2000);
        if (st == IPCN_OK) {
            assert_non_null(m);
            return m;
        }
        if (st != IPCN_NO_DATA || tu_now_ms() >= end)
            fail_msg("query %s: %d %s", path, st, ipcn_status_str(st));
        v_pump(n, 20);
    }
}

static void expect_text(const ipcn_cbor_item *map, const char *key, const char *want)
{
    const ipcn_cbor_item *v = ipcn_cbor_map_find(map, key);
    assert_non_null(v);
    assert_int_equal(v->type, IPCN_CBOR_TEXT);
    assert_int_equal(v->len, strlen(want));
    assert_memory_equal(v->ptr, want, v->len);
}

static void test_map(void **state)
{
    (void)state;
    ipcn_node *n = start_publisher();
    ipcn_msg *m = query(n, "typed/map");
    ipcn_encoding e;
    assert_int_equal(ipcn_encoding_parse(m->encoding, &e), IPCN_OK);
    assert_true(ipcn_encoding_is(&e, "cbor"));
    assert_int_equal(ipcn_cbor_check(m->data, m->len, 0), IPCN_OK);

    ipcn_cbor_item *root = NULL;
    assert_int_equal(ipcn_cbor_tree_decode(m->data, m->len, 0, &root), IPCN_OK);
    assert_int_equal(root->type, IPCN_CBOR_MAP);
    assert_int_equal(root->count, 9);
    expect_text(root, "name", "arm-7");
    const ipcn_cbor_item *v = ipcn_cbor_map_find(root, "count");
    assert_non_null(v);
    assert_int_equal(v->type, IPCN_CBOR_UINT);
    assert_int_equal(v->u, 42);
    v = ipcn_cbor_map_find(root, "neg");
    assert_non_null(v);
    assert_int_equal(v->type, IPCN_CBOR_NEGINT);
    assert_int_equal(v->u, 999); /* -1 - 999 */
    v = ipcn_cbor_map_find(root, "ratio");
    assert_non_null(v);
    assert_int_equal(v->type, IPCN_CBOR_FLOAT);
    assert_true(v->f == 0.15625);
    assert_int_equal(v->float_bits, 16); /* the shortest exact form */
    v = ipcn_cbor_map_find(root, "pi");
    assert_non_null(v);
    assert_int_equal(v->type, IPCN_CBOR_FLOAT);
    assert_true(v->f == 3.141592653589793);
    assert_int_equal(v->float_bits, 64);
    v = ipcn_cbor_map_find(root, "ok");
    assert_non_null(v);
    assert_int_equal(v->type, IPCN_CBOR_BOOL);
    assert_int_equal(v->u, 1);
    v = ipcn_cbor_map_find(root, "none");
    assert_non_null(v);
    assert_int_equal(v->type, IPCN_CBOR_NULL);
    v = ipcn_cbor_map_find(root, "blob");
    assert_non_null(v);
    assert_int_equal(v->type, IPCN_CBOR_BYTES);
    assert_int_equal(v->len, 5);
    assert_memory_equal(v->ptr, "\x00\x01\x02\x03\xfe", 5);
    /* zero copy: the string is a view into the message */
    assert_true(v->ptr >= (const uint8_t *)m->data &&
                v->ptr + v->len <= (const uint8_t *)m->data + m->len);
    v = ipcn_cbor_map_find(root, "list");
    assert_non_null(v);
    assert_int_equal(v->type, IPCN_CBOR_ARRAY);
    assert_int_equal(v->count, 3);
    assert_int_equal(v->items[0].type, IPCN_CBOR_UINT);
    assert_int_equal(v->items[0].u, 1);
    assert_int_equal(v->items[1].type, IPCN_CBOR_TEXT);
    assert_memory_equal(v->items[1].ptr, "two", 3);
    assert_int_equal(v->items[2].type, IPCN_CBOR_FLOAT);
    assert_true(v->items[2].f == 3.5);
    assert_null(ipcn_cbor_map_find(root, "missing"));
    ipcn_cbor_tree_free(root);
    ipcn_msg_free(m);
}

static void test_tensor(void **state)
{
    (void)state;
    ipcn_node *n = start_publisher();
    ipcn_msg *m = query(n, "typed/tensor");
    ipcn_encoding e;
    assert_int_equal(ipcn_encoding_parse(m->encoding, &e), IPCN_OK);
    assert_true(ipcn_encoding_is(&e, "tensor"));

    ipcn_tensor t;
    assert_int_equal(ipcn_tensor_decode(m->data, m->len, 0, &t), IPCN_OK);
    assert_int_equal(t.dtype, IPCN_DTYPE_FLOAT32);
    assert_string_equal(ipcn_dtype_name(t.dtype), "float32");
    assert_int_equal(t.ndim, 3);
    assert_int_equal(t.shape[0], 2);
    assert_int_equal(t.shape[1], 3);
    assert_int_equal(t.shape[2], 4);
    assert_int_equal(ipcn_tensor_numel(&t), 24);
    assert_true(ipcn_tensor_is_contiguous(&t));
    assert_int_equal(t.size, 24 * sizeof(float));
    /* No copy: the payload is inside the received message, at its end. */
    const uint8_t *d = t.data, *b = m->data;
    assert_true(d >= b && d + t.size <= b + m->len);
    assert_ptr_equal(d + t.size, b + m->len);
    assert_int_equal(t.order, IPCN_ORDER_LITTLE); /* the publisher's order */

    float vals[24];
    if (t.aligned && t.order == IPCN_ORDER_NATIVE) {
        const float *p = t.data; /* read in place */
        for (int i = 0; i < 24; i++)
            assert_true(p[i] == 0.5f * (float)i - 3.0f);
    }
    assert_int_equal(ipcn_tensor_copy(&t, vals, sizeof vals), IPCN_OK);
    for (int i = 0; i < 24; i++)
        assert_true(vals[i] == 0.5f * (float)i - 3.0f);
    /* element (1, 2, 3) through the strides */
    assert_int_equal(t.strides[0], 12);
    assert_int_equal(t.strides[1], 4);
    assert_int_equal(t.strides[2], 1);
    assert_true(vals[1 * 12 + 2 * 4 + 3] == 0.5f * 23.0f - 3.0f);
    ipcn_msg_free(m);
}

static void test_frame(void **state)
{
    (void)state;
    ipcn_node *n = start_publisher();
    ipcn_msg *m = query(n, "typed/frame");
    assert_string_equal(m->encoding, "video/raw;format=rgb24;width=4;height=2");
    ipcn_encoding e;
    assert_int_equal(ipcn_encoding_parse(m->encoding, &e), IPCN_OK);
    assert_true(ipcn_encoding_is(&e, "video/raw"));
    assert_true(ipcn_encoding_is(&e, "video/*"));
    assert_false(ipcn_encoding_is(&e, "cbor"));
    ipcn_strview fmt;
    assert_int_equal(ipcn_encoding_param(&e, "format", &fmt), IPCN_OK);
    assert_int_equal(fmt.len, 5);
    assert_memory_equal(fmt.ptr, "rgb24", 5);
    int64_t w = 0, h = 0, x;
    assert_int_equal(ipcn_encoding_param_int(&e, "width", &w), IPCN_OK);
    assert_int_equal(ipcn_encoding_param_int(&e, "height", &h), IPCN_OK);
    assert_int_equal(w, 4);
    assert_int_equal(h, 2);
    assert_int_equal(ipcn_encoding_param_int(&e, "stride", &x), IPCN_NOT_FOUND);
    assert_int_equal(m->len, (size_t)(w * h * 3));
    const uint8_t *px = m->data;
    for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++)
            for (int c = 0; c < 3; c++)
                assert_int_equal(px[(y * w + xx) * 3 + c], 100 * y + 10 * xx + c);
    ipcn_msg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_map),
        V_TEST(test_tensor),
        V_TEST(test_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
