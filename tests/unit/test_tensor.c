/* SPDX-License-Identifier: MIT */
/*
 * test_tensor.c — typed arrays and tensors (src/value/tensor.c, dlpack.c):
 * every dtype in both byte orders and several shapes round-trips, and the
 * decoded payload pointer lies inside the encoded buffer (no copy); strided
 * sources are gathered once; column-major and bare typed arrays decode;
 * malformed tensors are refused; alignment is reported; DLPack views.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../value/cbor_render.h"
#include "ipcnet_dlpack.h"
#include "util/util.h"
#include "value/value.h"

static const ipcn_dtype all_dtypes[] = {
    IPCN_DTYPE_BOOL,    IPCN_DTYPE_INT8,    IPCN_DTYPE_INT16,
    IPCN_DTYPE_INT32,   IPCN_DTYPE_INT64,   IPCN_DTYPE_UINT8,
    IPCN_DTYPE_UINT16,  IPCN_DTYPE_UINT32,  IPCN_DTYPE_UINT64,
    IPCN_DTYPE_FLOAT16, IPCN_DTYPE_BFLOAT16, IPCN_DTYPE_FLOAT32,
    IPCN_DTYPE_FLOAT64,
};

/* Element i of a test tensor, native order, written at p. */
static void element(ipcn_dtype dt, uint64_t i, void *p)
{
    int64_t s = (int64_t)(i * 37 + 5) * ((i & 1) ? -1 : 1);
    switch (dt) {
    case IPCN_DTYPE_BOOL: *(uint8_t *)p = i % 3 == 0; break;
    case IPCN_DTYPE_INT8: *(int8_t *)p = (int8_t)s; break;
    case IPCN_DTYPE_INT16: *(int16_t *)p = (int16_t)(s * 91); break;
    case IPCN_DTYPE_INT32: *(int32_t *)p = (int32_t)(s * 100003); break;
    case IPCN_DTYPE_INT64: *(int64_t *)p = s * 1000000007ll * 1000; break;
    case IPCN_DTYPE_UINT8: *(uint8_t *)p = (uint8_t)(i * 37 + 5); break;
    case IPCN_DTYPE_UINT16: *(uint16_t *)p = (uint16_t)(i * 4099 + 5); break;
    case IPCN_DTYPE_UINT32: *(uint32_t *)p = (uint32_t)(i * 2654435761u); break;
    case IPCN_DTYPE_UINT64: *(uint64_t *)p = i * 0x9e3779b97f4a7c15ull; break;
    case IPCN_DTYPE_FLOAT16: { /* exact halves: i/4 - 3 */
        uint16_t h = 0;
        ipcn__double_to_half((double)i / 4 - 3, &h);
        *(uint16_t *)p = h;
        break;
    }
    case IPCN_DTYPE_BFLOAT16: { /* the top half of the float i/2 - 3 */
        float f = (float)i / 2 - 3;
        uint32_t b;
        memcpy(&b, &f, 4);
        *(uint16_t *)p = (uint16_t)(b >> 16);
        break;
    }
    case IPCN_DTYPE_FLOAT32: *(float *)p = (float)i * 0.25f - 1.5f; break;
    case IPCN_DTYPE_FLOAT64: *(double *)p = (double)i * 0.125 - 7.0; break;
    default: fail();
    }
}

static void swap_all(uint8_t *p, size_t n, size_t es)
{
    for (size_t k = 0; k < n; k += es)
        for (size_t a = 0, b = es - 1; a < b; a++, b--) {
            uint8_t t = p[k + a];
            p[k + a] = p[k + b];
            p[k + b] = t;
        }
}

/* Encode t into an exact-size heap buffer (measured first). */
static uint8_t *encode_exact(const ipcn_tensor *t, size_t *len)
{
    ipcn_cbor_writer w;
    size_t need = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    ipcn_tensor_encode(&w, t);
    int st = ipcn_cbor_writer_finish(&w, &need);
    assert_true(st == IPCN_INSUFFICIENT_STORAGE || (st == IPCN_OK && !need));
    uint8_t *buf = malloc(need ? need : 1);
    ipcn_cbor_writer_init(&w, buf, need, 0);
    ipcn_tensor_encode(&w, t);
    assert_int_equal(ipcn_cbor_writer_finish(&w, len), IPCN_OK);
    assert_int_equal(*len, need);
    return buf;
}

static void test_round_trip_every_dtype(void **state)
{
    (void)state;
    static const struct {
        uint32_t ndim;
        int64_t shape[4];
    } shapes[] = {
        {0, {0}}, {1, {0}}, {1, {5}}, {2, {2, 3}}, {3, {2, 3, 4}},
        {3, {1, 1, 7}}, {2, {3, 0}}, {4, {2, 1, 3, 2}},
    };
    static const ipcn_byte_order orders[] = {IPCN_ORDER_LITTLE,
                                             IPCN_ORDER_BIG};
    int cases = 0;
    for (size_t d = 0; d < IPCN__ARRAY_SIZE(all_dtypes); d++) {
        ipcn_dtype dt = all_dtypes[d];
        size_t es = ipcn_dtype_size(dt);
        assert_int_equal(ipcn_dtype_from_name(ipcn_dtype_name(dt)), dt);
        for (size_t o = 0; o < 2; o++) {
            for (size_t s = 0; s < IPCN__ARRAY_SIZE(shapes); s++) {
                ipcn_tensor t;
                uint8_t native[8 * 48], source[8 * 48];
                assert_int_equal(ipcn_tensor_init(&t, dt, shapes[s].ndim,
                                                  shapes[s].shape, native),
                                 IPCN_OK);
                uint64_t n = ipcn_tensor_numel(&t);
                for (uint64_t i = 0; i < n; i++)
                    element(dt, i, native + i * es);
                memcpy(source, native, n * es);
                if (es > 1 && orders[o] != IPCN_ORDER_NATIVE)
                    swap_all(source, n * es, es);
                t.data = source;
                t.order = orders[o];

                size_t len;
                uint8_t *buf = encode_exact(&t, &len);
                assert_int_equal(ipcn_cbor_check(buf, len,
                                                 IPCN_CBOR_DETERMINISTIC),
                                 IPCN_OK);
                ipcn_tensor got;
                assert_int_equal(ipcn_tensor_decode(buf, len, 0, &got),
                                 IPCN_OK);
                assert_int_equal(got.dtype, dt);
                assert_int_equal(got.order,
                                 es > 1 ? orders[o] : IPCN_ORDER_NATIVE);
                assert_int_equal(got.ndim, shapes[s].ndim);
                for (uint32_t k = 0; k < got.ndim; k++) {
                    assert_int_equal(got.shape[k], shapes[s].shape[k]);
                    assert_int_equal(got.strides[k], t.strides[k]);
                }
                /* no copy: the payload is the last bytes of the buffer */
                const uint8_t *p = got.data;
                assert_true(p >= buf && p + got.size == buf + len);
                assert_int_equal(got.size, n * es);
                assert_memory_equal(p, source, n * es);
                assert_int_equal(got.aligned, ((uintptr_t)p % es) == 0);
                /* a copy in native order gives the original elements */
                uint8_t back[8 * 48];
                assert_int_equal(ipcn_tensor_copy(&got, back, sizeof back),
                                 IPCN_OK);
                assert_memory_equal(back, native, n * es);
                if (n)
                    assert_int_equal(ipcn_tensor_copy(&got, back, n * es - 1),
                                     IPCN_INSUFFICIENT_STORAGE);
                /* DLPack: only native order */
                DLTensor dl;
                int dst = ipcn_tensor_to_dlpack(&got, &dl);
                if (es > 1 && orders[o] != IPCN_ORDER_NATIVE) {
                    assert_int_equal(dst, IPCN_BAD_REQUEST);
                } else {
                    assert_int_equal(dst, IPCN_OK);
                    assert_ptr_equal(dl.data, got.data);
                    assert_int_equal(dl.ndim, (int)got.ndim);
                    assert_int_equal(dl.dtype.bits, es * 8);
                    assert_int_equal(dl.dtype.lanes, 1);
                    assert_ptr_equal(dl.shape, got.shape);
                    ipcn_tensor again;
                    assert_int_equal(ipcn_tensor_from_dlpack(&dl, &again),
                                     IPCN_OK);
                    assert_int_equal(again.dtype, dt);
                }
                free(buf);

                /* the same elements as a bare typed array: a 1-D tensor */
                uint8_t ta[512];
                ipcn_cbor_writer w;
                ipcn_cbor_writer_init(&w, ta, sizeof ta, 0);
                ipcn_cbor_put_typed_array(&w, dt, orders[o], source, n);
                assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
                assert_int_equal(ipcn_tensor_decode(ta, len, 0, &got),
                                 IPCN_OK);
                assert_int_equal(got.ndim, 1);
                assert_int_equal(got.shape[0], n);
                assert_int_equal(got.dtype, dt);
                assert_memory_equal(got.data, source, n * es);
                assert_true((const uint8_t *)got.data >= ta &&
                            (const uint8_t *)got.data + got.size == ta + len);
                cases++;
            }
        }
    }
    assert_int_equal(cases, 13 * 2 * 8);
}

/* The tags: RFC 8746's table, and IPCNet's two. */
static void test_tags(void **state)
{
    (void)state;
    uint64_t inner;
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_UINT8, IPCN_ORDER_BIG, NULL), 64);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_UINT16, IPCN_ORDER_BIG, NULL), 65);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_UINT64, IPCN_ORDER_LITTLE, NULL), 71);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_INT8, IPCN_ORDER_LITTLE, NULL), 72);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_INT16, IPCN_ORDER_BIG, NULL), 73);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_INT64, IPCN_ORDER_LITTLE, NULL), 79);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_FLOAT16, IPCN_ORDER_BIG, NULL), 80);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_FLOAT32, IPCN_ORDER_LITTLE, NULL), 85);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_FLOAT64, IPCN_ORDER_LITTLE, NULL), 86);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_BOOL, IPCN_ORDER_LITTLE, &inner),
                     IPCN_CBOR_TAG_BOOL);
    assert_int_equal(inner, 64);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_BFLOAT16, IPCN_ORDER_LITTLE, &inner),
                     IPCN_CBOR_TAG_BFLOAT16);
    assert_int_equal(inner, 69);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_INVALID, IPCN_ORDER_BIG, NULL), 0);
    assert_int_equal(ipcn_typed_array_tag(IPCN_DTYPE_INT8, 0, NULL), 0);
    assert_int_equal(ipcn_dtype_size(99), 0);
    assert_string_equal(ipcn_dtype_name(99), "invalid");
    assert_int_equal(ipcn_dtype_from_name("float128"), IPCN_DTYPE_INVALID);
    assert_int_equal(ipcn_dtype_from_name(NULL), IPCN_DTYPE_INVALID);

    /* 68 (clamped uint8) reads as uint8 */
    ipcn_tensor t;
    assert_int_equal(ipcn_tensor_decode("\xd8\x44\x42\x01\x02", 5, 0, &t),
                     IPCN_OK);
    assert_int_equal(t.dtype, IPCN_DTYPE_UINT8);
    assert_int_equal(t.shape[0], 2);
}

/* A 3x4 int32 matrix written through a transposed view (4x3, strides
 * 1, 4), a reversed vector (stride -1) and a broadcast (stride 0). */
static void test_strided_encode(void **state)
{
    (void)state;
    int32_t m[12];
    for (int i = 0; i < 12; i++)
        m[i] = i * 10;
    ipcn_tensor t;
    int64_t shape[2] = {4, 3};
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_INT32, 2, shape, m),
                     IPCN_OK);
    t.strides[0] = 1;
    t.strides[1] = 4;
    assert_false(ipcn_tensor_is_contiguous(&t));
    size_t len;
    uint8_t *buf = encode_exact(&t, &len);
    ipcn_tensor got;
    assert_int_equal(ipcn_tensor_decode(buf, len, 0, &got), IPCN_OK);
    assert_true(ipcn_tensor_is_contiguous(&got));
    int32_t out[12];
    assert_int_equal(ipcn_tensor_copy(&got, out, sizeof out), IPCN_OK);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 3; c++)
            assert_int_equal(out[r * 3 + c], m[c * 4 + r]);
    free(buf);

    int64_t n4[1] = {4};
    ipcn_tensor_init(&t, IPCN_DTYPE_INT32, 1, n4, &m[3]);
    t.strides[0] = -1; /* m[3], m[2], m[1], m[0] */
    buf = encode_exact(&t, &len);
    assert_int_equal(ipcn_tensor_decode(buf, len, 0, &got), IPCN_OK);
    assert_int_equal(ipcn_tensor_copy(&got, out, sizeof out), IPCN_OK);
    assert_int_equal(out[0], 30);
    assert_int_equal(out[3], 0);
    free(buf);

    t.strides[0] = 0; /* broadcast m[3] */
    buf = encode_exact(&t, &len);
    assert_int_equal(ipcn_tensor_decode(buf, len, 0, &got), IPCN_OK);
    ipcn_tensor_copy(&got, out, sizeof out);
    for (int i = 0; i < 4; i++)
        assert_int_equal(out[i], 30);
    free(buf);

    /* size-1 dimensions with any stride still count as contiguous */
    int64_t s3[3] = {1, 3, 1};
    ipcn_tensor_init(&t, IPCN_DTYPE_INT32, 3, s3, m);
    t.strides[0] = 99;
    t.strides[2] = -5;
    assert_true(ipcn_tensor_is_contiguous(&t));
}

static void test_decode_forms(void **state)
{
    (void)state;
    ipcn_tensor t;
    uint32_t out[6];
    /* column-major: 1040([[2, 3], 70(h'...')]), uint32 LE, elements in
     * column order a00 a10 a01 a11 a02 a12 = 0 3 1 4 2 5 */
    uint8_t cm[64];
    size_t n = cr_unhex("d9 0410 82 82 02 03 d8 46 58 18"
                        " 00000000 03000000 01000000 04000000 02000000 05000000",
                        cm, sizeof cm);
    assert_int_equal(ipcn_tensor_decode(cm, n, 0, &t), IPCN_OK);
    assert_int_equal(t.strides[0], 1);
    assert_int_equal(t.strides[1], 2);
    assert_int_equal(ipcn_tensor_copy(&t, out, sizeof out), IPCN_OK);
    for (uint32_t i = 0; i < 6; i++)
        assert_int_equal(out[i], i);

    /* indefinite arrays around it: 40([_ [_ 2], 64(h'0102')]) */
    n = cr_unhex("d8 28 9f 9f 02 ff d8 40 42 01 02 ff", cm, sizeof cm);
    assert_int_equal(ipcn_tensor_decode(cm, n, 0, &t), IPCN_OK);
    assert_int_equal(t.shape[0], 2);
    assert_memory_equal(t.data, "\x01\x02", 2);

    /* a tensor inside a map, read with the cursor */
    n = cr_unhex("a2 6174 d8 28 82 81 02 d8 48 42 ff 7f 6178 01", cm,
                 sizeof cm);
    ipcn_cbor_reader r;
    ipcn_cbor_value v;
    ipcn_cbor_reader_init(&r, cm, n, 0);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_int_equal(ipcn_tensor_read(&r, &t), IPCN_OK);
    assert_int_equal(t.dtype, IPCN_DTYPE_INT8);
    assert_int_equal(((const int8_t *)t.data)[0], -1);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_OK);
    assert_memory_equal(v.ptr, "x", 1);
    assert_int_equal(ipcn_cbor_skip(&r, &v), IPCN_OK);
    assert_int_equal(ipcn_cbor_next(&r, &v), IPCN_NO_DATA);
}

static void test_decode_errors(void **state)
{
    (void)state;
    static const struct {
        const char *hex;
        int st;
    } v[] = {
        {"d8 4c 41 00", IPCN_BAD_REQUEST},             /* 76: reserved */
        {"d8 53 50 00000000000000000000000000000000",  /* float128 */
         IPCN_NOT_IMPLEMENTED},
        {"d8 28 82 81 02 82 01 02", IPCN_NOT_IMPLEMENTED}, /* plain array */
        {"d8 28 82 81 02 d8 40 5f 41 01 41 02 ff",     /* chunks */
         IPCN_NOT_IMPLEMENTED},
        {"d8 28 82 81 03 d8 40 42 01 02", IPCN_BAD_REQUEST}, /* 3 != 2 */
        {"d8 28 82 81 01 d8 41 43 010203", IPCN_BAD_REQUEST}, /* 3 % 2 */
        {"da 49504301 d8 40 42 01 02", IPCN_BAD_REQUEST},  /* bool 2 */
        {"da 49504301 d8 48 42 01 00", IPCN_BAD_REQUEST},  /* bool of int8 */
        {"da 49504302 d8 40 42 01 00", IPCN_BAD_REQUEST},  /* bf16 of uint8 */
        {"da 49504302 d8 51 44 01000000", IPCN_BAD_REQUEST}, /* bf16 of f32 */
        {"d8 28 82 81 20 d8 40 40", IPCN_BAD_REQUEST},     /* dim -1 */
        {"d8 28 82 81 1b8000000000000000 d8 40 40",        /* dim > INT64 */
         IPCN_BAD_REQUEST},
        {"d8 28 82 91 01010101010101010101010101010101 01 d8 40 41 00",
         IPCN_NOT_IMPLEMENTED},                             /* 17 dims */
        {"d8 28 82 83 1a80000000 1a80000000 1a80000000 d8 40 41 00",
         IPCN_BAD_REQUEST},                                 /* overflow */
        {"d8 28 83 81 01 d8 40 41 00 00", IPCN_BAD_REQUEST}, /* 3 items */
        {"d8 28 81 81 01", IPCN_BAD_REQUEST},
        {"d8 28 9f 81 01 d8 40 41 00 00 ff", IPCN_BAD_REQUEST},
        {"d8 28 82 01 d8 40 41 00", IPCN_BAD_REQUEST},     /* shape no array */
        {"d8 28 82 81 61 61 d8 40 41 00", IPCN_BAD_REQUEST},
        {"d8 29 82 81 01 d8 40 41 00", IPCN_BAD_REQUEST},  /* tag 41 */
        {"82 81 01 d8 40 41 00", IPCN_BAD_REQUEST},        /* no tag */
        {"d8 40 61 00", IPCN_BAD_REQUEST},                 /* text payload */
        {"d8 40 41", IPCN_BAD_REQUEST},                    /* truncated */
        {"", IPCN_BAD_REQUEST},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(v); i++) {
        uint8_t buf[128];
        size_t n = cr_unhex(v[i].hex, buf, sizeof buf);
        uint8_t *in = malloc(n ? n : 1);
        memcpy(in, buf, n);
        ipcn_tensor t;
        memset(&t, 0x5a, sizeof t);
        int st = ipcn_tensor_decode(in, n, 0, &t);
        if (st != v[i].st)
            fail_msg("%s: %d, want %d", v[i].hex, st, v[i].st);
        assert_int_equal(t.ndim, 0x5a5a5a5a); /* untouched */
        free(in);
    }
    /* a second item after the tensor */
    assert_int_equal(ipcn_tensor_decode("\xd8\x40\x41\x00\x00", 5,
                                        IPCN_CBOR_SEQUENCE, NULL),
                     IPCN_BAD_REQUEST);
    ipcn_tensor t;
    assert_int_equal(ipcn_tensor_decode("\xd8\x40\x41\x00\x00", 5, 0, &t),
                     IPCN_BAD_REQUEST);
}

static void test_encode_errors(void **state)
{
    (void)state;
    ipcn_tensor t;
    int64_t bad[2] = {2, -1}, big[3] = {INT64_MAX, INT64_MAX, 2}, ok1[1] = {1};
    uint8_t d[8] = {0};
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_INT8, 2, bad, d),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_INT8, 3, big, d),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_INT8, 1, ok1, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_INVALID, 1, ok1, d),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_INT8, 17, big, d),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_INT16, 1, ok1, d),
                     IPCN_OK);
    uint8_t buf[64];
    ipcn_cbor_writer w;
    t.order = 7;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_tensor_encode(&w, &t), IPCN_BAD_REQUEST);
    t.order = IPCN_ORDER_NATIVE;
    t.shape[0] = -3;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_tensor_encode(&w, &t), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_tensor_encode(NULL, &t), IPCN_BAD_REQUEST);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_cbor_put_typed_array(&w, IPCN_DTYPE_INT8,
                                               IPCN_ORDER_BIG, NULL, 1),
                     IPCN_BAD_REQUEST);
    /* too small a buffer: 306 and the size; no payload written */
    int64_t s[1] = {8};
    ipcn_tensor_init(&t, IPCN_DTYPE_UINT8, 1, s, d);
    ipcn_cbor_writer_init(&w, buf, 6, 0);
    assert_int_equal(ipcn_tensor_encode(&w, &t), IPCN_INSUFFICIENT_STORAGE);
    size_t need;
    assert_int_equal(ipcn_cbor_writer_finish(&w, &need),
                     IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(need, 2 + 1 + 2 + 2 + 1 + 8);
}

/* The payload pointer may be misaligned; aligned says so, copy works. */
static void test_alignment(void **state)
{
    (void)state;
    double v[4] = {1.5, -2.25, 1e300, 0.0};
    int64_t s[1] = {4};
    ipcn_tensor t;
    ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT64, 1, s, v);
    _Alignas(16) uint8_t space[128];
    for (size_t shift = 0; shift < 8; shift++) {
        ipcn_cbor_writer w;
        size_t n;
        ipcn_cbor_writer_init(&w, space + shift, sizeof space - shift, 0);
        ipcn_tensor_encode(&w, &t);
        assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
        ipcn_tensor got;
        assert_int_equal(ipcn_tensor_decode(space + shift, n, 0, &got),
                         IPCN_OK);
        assert_int_equal(got.aligned, (uintptr_t)got.data % 8 == 0);
        double back[4];
        assert_int_equal(ipcn_tensor_copy(&got, back, sizeof back), IPCN_OK);
        assert_memory_equal(back, v, sizeof v);
    }
}

static void test_dlpack(void **state)
{
    (void)state;
    int16_t m[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {3, 2}, strides[2] = {1, 3};
    DLTensor dl;
    memset(&dl, 0, sizeof dl);
    dl.data = m;
    dl.device.device_type = kDLCPU;
    dl.ndim = 2;
    dl.dtype.code = kDLInt;
    dl.dtype.bits = 16;
    dl.dtype.lanes = 1;
    dl.shape = shape;
    dl.strides = strides;
    dl.byte_offset = 0;
    ipcn_tensor t;
    assert_int_equal(ipcn_tensor_from_dlpack(&dl, &t), IPCN_OK);
    assert_int_equal(t.dtype, IPCN_DTYPE_INT16);
    size_t len;
    uint8_t *buf = encode_exact(&t, &len); /* the transpose, gathered */
    ipcn_tensor got;
    assert_int_equal(ipcn_tensor_decode(buf, len, 0, &got), IPCN_OK);
    const int16_t *e = got.data; /* aligned or not, read by memcpy */
    int16_t x[6];
    memcpy(x, e, sizeof x);
    static const int16_t want[6] = {1, 4, 2, 5, 3, 6};
    assert_memory_equal(x, want, sizeof x);
    DLTensor view;
    assert_int_equal(ipcn_tensor_to_dlpack(&got, &view), IPCN_OK);
    assert_int_equal(view.device.device_type, kDLCPU);
    assert_int_equal(view.dtype.code, kDLInt);
    assert_int_equal(view.strides[0], 2);
    assert_int_equal(view.strides[1], 1);
    assert_int_equal(view.byte_offset, 0);
    free(buf);

    dl.byte_offset = 2; /* starts at m[1] */
    dl.strides = NULL;
    int64_t one[1] = {2};
    dl.ndim = 1;
    dl.shape = one;
    assert_int_equal(ipcn_tensor_from_dlpack(&dl, &t), IPCN_OK);
    assert_ptr_equal(t.data, &m[1]);
    dl.dtype.code = kDLComplex;
    assert_int_equal(ipcn_tensor_from_dlpack(&dl, &t), IPCN_NOT_IMPLEMENTED);
    dl.dtype.code = kDLInt;
    dl.dtype.lanes = 4;
    assert_int_equal(ipcn_tensor_from_dlpack(&dl, &t), IPCN_NOT_IMPLEMENTED);
    dl.dtype.lanes = 1;
    dl.device.device_type = kDLCUDA;
    assert_int_equal(ipcn_tensor_from_dlpack(&dl, &t), IPCN_NOT_IMPLEMENTED);
    dl.device.device_type = kDLCPU;
    dl.ndim = -1;
    assert_int_equal(ipcn_tensor_from_dlpack(&dl, &t), IPCN_BAD_REQUEST);
    dl.ndim = 1;
    dl.dtype.code = IPCN_DLPACK_BOOL_CODE;
    dl.dtype.bits = 8;
    assert_int_equal(ipcn_tensor_from_dlpack(&dl, &t), IPCN_OK);
    assert_int_equal(t.dtype, IPCN_DTYPE_BOOL);
    dl.dtype.code = kDLBfloat;
    dl.dtype.bits = 16;
    assert_int_equal(ipcn_tensor_from_dlpack(&dl, &t), IPCN_OK);
    assert_int_equal(t.dtype, IPCN_DTYPE_BFLOAT16);
    assert_int_equal(ipcn_tensor_to_dlpack(&t, &view), IPCN_OK);
    assert_int_equal(view.dtype.code, kDLBfloat);
    assert_int_equal(ipcn_tensor_to_dlpack(NULL, &view), IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_dtype),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_strided_encode),
        cmocka_unit_test(test_decode_forms),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_dlpack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
