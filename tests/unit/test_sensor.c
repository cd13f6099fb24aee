/* SPDX-License-Identifier: MIT */
/*
 * test_sensor.c — the sensor messages (src/media/sensor*.c,
 * include/ipcnet_sensor.h): each kind encoded and decoded back field by
 * field; the pixels and points on a 64-byte boundary whatever precedes
 * them; maps written by hand the way another implementation (or a hostile
 * peer) may write them — keys in any order, unknown keys, numbers as
 * tensors, big-endian pixels — and every rule broken once; then a replay
 * of the fuzz corpus (seeds with every bit flipped, and saved crashes)
 * through the harness code.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbor_lit.h"
#include "ipcnet_sensor.h"

#define LLVMFuzzerTestOneInput fuzz_sensor_one
#include "../fuzz/fuzz_sensor.c"
#undef LLVMFuzzerTestOneInput

static char fuzz_dir[PATH_MAX];

/* ------------------------------------------------------------------ */
/* Kinds, formats, headers                                              */
/* ------------------------------------------------------------------ */

static void test_kinds(void **state)
{
    (void)state;
    ipcn_sensor_kind k = IPCN_SENSOR_NONE;
    static const struct {
        ipcn_sensor_kind kind;
        const char *enc;
    } all[] = {{IPCN_SENSOR_IMAGE, "cbor;sensor=image"},
               {IPCN_SENSOR_CAMERA_INFO, "cbor;sensor=camera_info"},
               {IPCN_SENSOR_POINTCLOUD, "cbor;sensor=pointcloud"},
               {IPCN_SENSOR_IMU, "cbor;sensor=imu"},
               {IPCN_SENSOR_JOINT_STATE, "cbor;sensor=joint_state"}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        assert_string_equal(ipcn_sensor_encoding(all[i].kind), all[i].enc);
        assert_int_equal(ipcn_sensor_kind_of(all[i].enc, &k), IPCN_OK);
        assert_int_equal(k, all[i].kind);
    }
    assert_null(ipcn_sensor_encoding(IPCN_SENSOR_NONE));
    assert_null(ipcn_sensor_encoding((ipcn_sensor_kind)99));
    assert_int_equal(ipcn_sensor_kind_of("CBOR; sensor=imu; rate=200", &k), IPCN_OK);
    assert_int_equal(k, IPCN_SENSOR_IMU);
    assert_int_equal(ipcn_sensor_kind_of("application/cbor;sensor=image", &k), IPCN_OK);
    assert_int_equal(ipcn_sensor_kind_of("cbor", &k), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_sensor_kind_of("tensor;sensor=image", &k), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_sensor_kind_of("cbor;sensor=radar", &k), IPCN_NOT_IMPLEMENTED);
    assert_int_equal(ipcn_sensor_kind_of("cbor;sensor=Image", &k), IPCN_NOT_IMPLEMENTED);
    assert_int_equal(ipcn_sensor_kind_of("", &k), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_sensor_kind_of("cbor;;", &k), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_sensor_kind_of(NULL, &k), IPCN_BAD_REQUEST);
}

static void test_formats(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        ipcn_dtype dtype;
        uint32_t channels;
    } f[] = {
        {"rgb8", IPCN_DTYPE_UINT8, 3},     {"bgra8", IPCN_DTYPE_UINT8, 4},
        {"mono16", IPCN_DTYPE_UINT16, 1},  {"rgba16", IPCN_DTYPE_UINT16, 4},
        {"bayer_grbg16", IPCN_DTYPE_UINT16, 1}, {"yuv422", IPCN_DTYPE_UINT8, 2},
        {"32FC1", IPCN_DTYPE_FLOAT32, 1},  {"8SC3", IPCN_DTYPE_INT8, 3},
        {"64FC4", IPCN_DTYPE_FLOAT64, 4},  {"16SC2", IPCN_DTYPE_INT16, 2},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        ipcn_dtype d;
        uint32_t c;
        assert_int_equal(ipcn_image_format(f[i].name, &d, &c), IPCN_OK);
        assert_int_equal(d, f[i].dtype);
        assert_int_equal(c, f[i].channels);
    }
    static const char *const bad[] = {"RGB8", "rgb", "32FC5", "32FC0", "32FC", "16FC1",
                                      "8UC1x", "", "yuv420"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ipcn_image_format(bad[i], NULL, NULL), IPCN_NOT_IMPLEMENTED);
    assert_int_equal(ipcn_image_format(NULL, NULL, NULL), IPCN_BAD_REQUEST);
}

static void test_header(void **state)
{
    (void)state;
    ipcn_sensor_header h;
    char id[IPCN_SENSOR_FRAME_ID_MAX + 2];
    memset(id, 'f', sizeof id);
    id[IPCN_SENSOR_FRAME_ID_MAX] = 0;
    assert_int_equal(ipcn_sensor_header_set(&h, 7, id), IPCN_OK);
    assert_int_equal(strlen(h.frame_id), IPCN_SENSOR_FRAME_ID_MAX);
    id[IPCN_SENSOR_FRAME_ID_MAX] = 'f';
    id[IPCN_SENSOR_FRAME_ID_MAX + 1] = 0;
    assert_int_equal(ipcn_sensor_header_set(&h, 8, id), IPCN_BAD_REQUEST);
    assert_int_equal(h.stamp_ns, 7); /* untouched */
    assert_int_equal(ipcn_sensor_header_set(&h, 9, "\xff"), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_sensor_header_set(&h, 9, NULL), IPCN_OK);
    assert_string_equal(h.frame_id, "");
}

/* ------------------------------------------------------------------ */
/* Images                                                               */
/* ------------------------------------------------------------------ */

static void camera_example(ipcn_camera_info *ci)
{
    memset(ci, 0, sizeof *ci);
    ipcn_sensor_header_set(&ci->header, 1700000000123456789ull, "cam_optical");
    ci->width = 640;
    ci->height = 480;
    strcpy(ci->distortion_model, "plumb_bob");
    ci->d_count = 5;
    double d[5] = {-0.28, 0.07, 0.0001, -0.0002, 0};
    memcpy(ci->d, d, sizeof d);
    double k[9] = {525, 0, 319.5, 0, 525, 239.5, 0, 0, 1};
    memcpy(ci->k, k, sizeof k);
    for (int i = 0; i < 3; i++)
        ci->r[4 * i] = 1;
    double p[12] = {525, 0, 319.5, -37.5, 0, 525, 239.5, 0, 0, 0, 1, 0};
    memcpy(ci->p, p, sizeof p);
    ci->binning_x = 2;
    ci->binning_y = 2;
    ci->roi_x_offset = 10;
    ci->roi_y_offset = 20;
    ci->roi_width = 300;
    ci->roi_height = 200;
    ci->roi_do_rectify = 1;
}

/* Encode img into a fresh buffer (measuring first); *len its size. */
static uint8_t *encode_image(const ipcn_image *img, size_t *len)
{
    size_t need = 0;
    assert_int_equal(ipcn_image_encode(NULL, 0, img, &need, NULL), IPCN_INSUFFICIENT_STORAGE);
    uint8_t *buf = aligned_alloc(64, (need + 63) / 64 * 64);
    assert_non_null(buf);
    assert_int_equal(ipcn_image_encode(buf, need - 1, img, len, NULL),
                     IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(*len, need);
    *len = 0;
    assert_int_equal(ipcn_image_encode(buf, need, img, len, NULL), IPCN_OK);
    assert_int_equal(*len, need);
    return buf;
}

static void test_image_roundtrip(void **state)
{
    (void)state;
    uint8_t rgb[3][4][3];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            for (int c = 0; c < 3; c++)
                rgb[y][x][c] = (uint8_t)(y * 100 + x * 10 + c);
    ipcn_image img, back;
    assert_int_equal(ipcn_image_init(&img, "rgb8", 3, 4, rgb), IPCN_OK);
    assert_int_equal(img.channels, 3);
    ipcn_sensor_header_set(&img.header, 1700000000000000001ull, "camera_link");
    img.has_camera_info = 1;
    camera_example(&img.camera_info);
    size_t len;
    uint8_t *buf = encode_image(&img, &len);
    assert_int_equal(ipcn_image_decode(buf, len, &back), IPCN_OK);
    assert_int_equal(back.header.stamp_ns, 1700000000000000001ull);
    assert_string_equal(back.header.frame_id, "camera_link");
    assert_string_equal(back.encoding, "rgb8");
    assert_int_equal(back.height, 3);
    assert_int_equal(back.width, 4);
    assert_int_equal(back.channels, 3);
    assert_int_equal(back.pixels.ndim, 3);
    assert_int_equal(back.pixels.shape[2], 3);
    assert_int_equal(((const uint8_t *)back.pixels.data - buf) % IPCN_SENSOR_ALIGN, 0);
    assert_memory_equal(back.pixels.data, rgb, sizeof rgb);
    assert_true(back.has_camera_info);
    assert_true(same_camera(&img.camera_info, &back.camera_info));
    free(buf);

    /* mono16 given as [H, W], float pixels, the place reserved. */
    uint16_t depth[2][5];
    for (int i = 0; i < 10; i++)
        depth[i / 5][i % 5] = (uint16_t)(1000 + 257 * i);
    assert_int_equal(ipcn_image_init(&img, "mono16", 2, 5, depth), IPCN_OK);
    int64_t hw[2] = {2, 5};
    assert_int_equal(ipcn_tensor_init(&img.pixels, IPCN_DTYPE_UINT16, 2, hw, depth), IPCN_OK);
    buf = encode_image(&img, &len);
    assert_int_equal(ipcn_image_decode(buf, len, &back), IPCN_OK);
    assert_int_equal(back.pixels.ndim, 3);
    assert_true(back.pixels.aligned);
    assert_memory_equal(back.pixels.data, depth, sizeof depth);
    assert_false(back.has_camera_info);
    assert_string_equal(back.header.frame_id, "");
    free(buf);

    assert_int_equal(ipcn_image_init(&img, "32FC1", 6, 7, NULL), IPCN_OK);
    size_t need = 0;
    void *px = NULL;
    assert_int_equal(ipcn_image_encode(NULL, 0, &img, &need, &px), IPCN_INSUFFICIENT_STORAGE);
    uint8_t *out = aligned_alloc(64, (need + 63) / 64 * 64);
    assert_int_equal(ipcn_image_encode(out, need, &img, &len, &px), IPCN_OK);
    assert_non_null(px);
    for (int i = 0; i < 42; i++)
        ((float *)px)[i] = (float)i * 0.25f;
    assert_int_equal(ipcn_image_decode(out, len, &back), IPCN_OK);
    assert_ptr_equal(back.pixels.data, px);
    assert_true(((const float *)back.pixels.data)[41] == 10.25f);
    free(out);
}

/* The annotated example of docs/protocol.md, section 10.4, byte for byte. */
static void test_doc_vector(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0xa5, 0x65, 0x73, 0x74, 0x61, 0x6d, 0x70, 0x1b, 0x17, 0x97, 0x9c, 0xfe, 0x36, 0x2a,
        0x00, 0x00, 0x68, 0x66, 0x72, 0x61, 0x6d, 0x65, 0x5f, 0x69, 0x64, 0x61, 0x63, 0x68,
        0x65, 0x6e, 0x63, 0x6f, 0x64, 0x69, 0x6e, 0x67, 0x65, 0x6d, 0x6f, 0x6e, 0x6f, 0x38,
        0x63, 0x70, 0x61, 0x64, 0x42, 0x00, 0x00, 0x64, 0x64, 0x61, 0x74, 0x61, 0xd8, 0x28,
        0x82, 0x83, 0x01, 0x02, 0x01, 0xd8, 0x40, 0x42, 0x10, 0x20};
    uint8_t px[2] = {0x10, 0x20}, buf[128];
    ipcn_image img;
    assert_int_equal(ipcn_image_init(&img, "mono8", 1, 2, px), IPCN_OK);
    assert_int_equal(ipcn_sensor_header_set(&img.header, 1700000000000000000ull, "c"), IPCN_OK);
    size_t len = 0;
    assert_int_equal(ipcn_image_encode(buf, sizeof buf, &img, &len, NULL), IPCN_OK);
    assert_int_equal(len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
}

/* Whatever the frame id's length (so whatever the pad's size, the 29-byte
 * hole included), the pixels start on the boundary. */
static void test_image_alignment(void **state)
{
    (void)state;
    uint8_t px[2 * 2 * 4] = {0};
    char id[200];
    for (size_t n = 0; n < sizeof id; n++) {
        memset(id, 'a', n);
        id[n] = 0;
        for (int cam = 0; cam < 2; cam++) {
            ipcn_image img, back;
            assert_int_equal(ipcn_image_init(&img, "bgra8", 2, 2, px), IPCN_OK);
            ipcn_sensor_header_set(&img.header, n * 1000003u, id);
            img.has_camera_info = cam;
            if (cam)
                camera_example(&img.camera_info);
            size_t len;
            uint8_t *buf = encode_image(&img, &len);
            assert_int_equal(ipcn_image_decode(buf, len, &back), IPCN_OK);
            assert_int_equal(((const uint8_t *)back.pixels.data - buf) % 64, 0);
            assert_string_equal(back.header.frame_id, id);
            free(buf);
        }
    }
}

/* An image map written by hand: keys in another order, an unknown key,
 * pixels in a typed array of the given tag (and shape). */
static size_t hand_image(uint8_t *buf, size_t cap, const char *encoding, uint64_t ta_tag,
                         uint64_t nd_tag, const uint64_t *shape, unsigned ndim,
                         const void *px, size_t pxn, int extra)
{
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, 4 + (extra == 1 || extra == 3));
    ipcn_cbor_put_cstr(&w, "data");
    ipcn_cbor_put_tag(&w, nd_tag);
    ipcn_cbor_put_array(&w, 2);
    ipcn_cbor_put_array(&w, ndim);
    for (unsigned i = 0; i < ndim; i++)
        ipcn_cbor_put_uint(&w, shape[i]);
    ipcn_cbor_put_tag(&w, ta_tag);
    ipcn_cbor_put_bytes(&w, px, pxn);
    ipcn_cbor_put_cstr(&w, "exposure_us"); /* unknown: skipped */
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "x");
    ipcn_cbor_put_array(&w, 0);
    ipcn_cbor_put_cstr(&w, "encoding");
    ipcn_cbor_put_cstr(&w, encoding);
    ipcn_cbor_put_cstr(&w, extra == 2 ? "encoding" : "frame_id");
    ipcn_cbor_put_cstr(&w, extra == 2 ? encoding : "cam");
    if (extra == 1) {
        ipcn_cbor_put_cstr(&w, "stamp");
        ipcn_cbor_put_int(&w, -5); /* a negative stamp */
    } else if (extra == 3) {
        ipcn_cbor_put_cstr(&w, "stamp");
        ipcn_cbor_put_uint(&w, 42);
    }
    size_t len = 0;
    assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
    return len;
}

static void test_image_by_hand(void **state)
{
    (void)state;
    uint8_t buf[512];
    ipcn_image img;
    uint8_t be[2 * 2 * 2] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    const uint64_t s221[3] = {2, 2, 1}, s22[2] = {2, 2}, s223[3] = {2, 2, 3};
    /* mono16 big endian (tag 65), [H, W, 1] */
    size_t len = hand_image(buf, sizeof buf, "mono16", 65, 40, s221, 3, be, 8, 3);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_OK);
    assert_int_equal(img.pixels.order, IPCN_ORDER_BIG);
    assert_int_equal(img.header.stamp_ns, 42);
    assert_string_equal(img.header.frame_id, "cam");
    uint16_t native[4];
    assert_int_equal(ipcn_tensor_copy(&img.pixels, native, sizeof native), IPCN_OK);
    assert_int_equal(native[0], 0x0102);
    assert_int_equal(native[3], 0x0708);
    /* [H, W] for one channel */
    len = hand_image(buf, sizeof buf, "mono16", 69, 40, s22, 2, be, 8, 0);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_OK);
    assert_int_equal(img.pixels.ndim, 2);
    /* ... but not for three */
    uint8_t rgb[12] = {0};
    len = hand_image(buf, sizeof buf, "rgb8", 64, 40, s22, 2, rgb, 4, 0);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_BAD_REQUEST);
    /* dtype other than the format's */
    len = hand_image(buf, sizeof buf, "mono8", 69, 40, s221, 3, be, 8, 0);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_BAD_REQUEST);
    /* channels other than the format's */
    len = hand_image(buf, sizeof buf, "rgba8", 64, 40, s223, 3, rgb, 12, 0);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_BAD_REQUEST);
    /* column-major */
    len = hand_image(buf, sizeof buf, "rgb8", 64, 1040, s223, 3, rgb, 12, 0);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_BAD_REQUEST);
    /* an unknown pixel format: valid, but not for this library */
    len = hand_image(buf, sizeof buf, "nv12", 64, 40, s223, 3, rgb, 12, 0);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_NOT_IMPLEMENTED);
    /* a key twice, a negative stamp */
    len = hand_image(buf, sizeof buf, "rgb8", 64, 40, s223, 3, rgb, 12, 2);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_BAD_REQUEST);
    len = hand_image(buf, sizeof buf, "rgb8", 64, 40, s223, 3, rgb, 12, 1);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_BAD_REQUEST);
    /* a zero dimension */
    const uint64_t s023[3] = {0, 2, 3};
    len = hand_image(buf, sizeof buf, "rgb8", 64, 40, s023, 3, rgb, 0, 0);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_BAD_REQUEST);
    /* the good one, then truncated everywhere, then with a byte after it */
    len = hand_image(buf, sizeof buf, "rgb8", 64, 40, s223, 3, rgb, 12, 0);
    assert_int_equal(ipcn_image_decode(buf, len, &img), IPCN_OK);
    for (size_t n = 0; n < len; n++)
        assert_int_equal(ipcn_image_decode(buf, n, &img), IPCN_BAD_REQUEST);
    buf[len] = 0;
    assert_int_equal(ipcn_image_decode(buf, len + 1, &img), IPCN_BAD_REQUEST);

    /* Missing keys, wrong types, not a map. */
    static const char *const bad[] = {
        "{\"encoding\": \"rgb8\"}",
        "{\"encoding\": \"rgb8\", \"data\": h'00'}",
        "{\"encoding\": 5, \"data\": h'00'}",
        "{\"frame_id\": 1, \"encoding\": \"rgb8\"}",
        "[\"encoding\", \"rgb8\"]",
        "{1: 2}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = cl_cbor(bad[i], buf, sizeof buf);
        assert_int_equal(ipcn_image_decode(buf, n, &img), IPCN_BAD_REQUEST);
    }
    assert_int_equal(ipcn_image_decode(NULL, 0, &img), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_image_decode(buf, 0, NULL), IPCN_BAD_REQUEST);
}

static void test_image_invalid(void **state)
{
    (void)state;
    ipcn_image img;
    uint8_t px[12] = {0};
    assert_int_equal(ipcn_image_init(&img, "rgb", 2, 2, px), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_image_init(&img, "rgb8", 0, 2, px), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_image_init(&img, "rgb8", 2, 0x80000000u, px), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_image_init(NULL, "rgb8", 2, 2, px), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_image_init(&img, "rgb8", 2, 2, px), IPCN_OK);
    size_t len;
    /* the pixels must agree with the rest */
    ipcn_image bad = img;
    bad.width = 3;
    assert_int_equal(ipcn_image_encode(NULL, 0, &bad, &len, NULL), IPCN_BAD_REQUEST);
    bad = img;
    strcpy(bad.encoding, "rgba8");
    assert_int_equal(ipcn_image_encode(NULL, 0, &bad, &len, NULL), IPCN_BAD_REQUEST);
    bad = img;
    bad.pixels.dtype = IPCN_DTYPE_UINT16;
    assert_int_equal(ipcn_image_encode(NULL, 0, &bad, &len, NULL), IPCN_BAD_REQUEST);
    bad = img;
    bad.header.frame_id[0] = (char)0xff; /* not UTF-8 */
    assert_int_equal(ipcn_image_encode(NULL, 0, &bad, &len, NULL), IPCN_BAD_REQUEST);
    bad = img;
    bad.has_camera_info = 1;
    camera_example(&bad.camera_info);
    bad.camera_info.d_count = IPCN_CAMERA_MAX_D + 1;
    assert_int_equal(ipcn_image_encode(NULL, 0, &bad, &len, NULL), IPCN_BAD_REQUEST);
    bad = img;
    bad.pixels.data = NULL; /* to reserve, but nowhere to say where */
    assert_int_equal(ipcn_image_encode(NULL, 0, &bad, &len, NULL), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_image_encode(NULL, 0, &img, NULL, NULL), IPCN_BAD_REQUEST);
}

/* ------------------------------------------------------------------ */
/* Camera info                                                          */
/* ------------------------------------------------------------------ */

static void test_camera_info(void **state)
{
    (void)state;
    ipcn_camera_info ci, back;
    camera_example(&ci);
    uint8_t buf[2048];
    ipcn_cbor_writer w;
    size_t len;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_camera_info_encode(&w, &ci), IPCN_OK);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
    assert_int_equal(ipcn_camera_info_decode(buf, len, &back), IPCN_OK);
    assert_true(same_camera(&ci, &back));

    /* By hand: only the required keys, integers for floats, d as a
     * float64 tensor. */
    size_t n = cl_cbor("{\"height\": 480, \"width\": 640, \"k\": [500, 0, 320, 0, 500, 240, "
                       "0, 0, 1], \"unknown\": {\"a\": [1, 2]}}", buf, sizeof buf);
    assert_int_equal(ipcn_camera_info_decode(buf, n, &back), IPCN_OK);
    assert_int_equal(back.width, 640);
    assert_true(back.k[2] == 320.0 && back.k[8] == 1.0);
    assert_int_equal(back.d_count, 0);
    assert_string_equal(back.distortion_model, "");

    double d[5] = {0.1, -0.2, 0.3, -0.4, 0.5};
    int64_t shape[1] = {5};
    ipcn_tensor t;
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT64, 1, shape, d), IPCN_OK);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 3);
    ipcn_cbor_put_cstr(&w, "width");
    ipcn_cbor_put_uint(&w, 4);
    ipcn_cbor_put_cstr(&w, "height");
    ipcn_cbor_put_uint(&w, 3);
    ipcn_cbor_put_cstr(&w, "d");
    ipcn_tensor_encode(&w, &t);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
    assert_int_equal(ipcn_camera_info_decode(buf, len, &back), IPCN_OK);
    assert_int_equal(back.d_count, 5);
    assert_memory_equal(back.d, d, sizeof d);

    static const char *const bad[] = {
        "{\"width\": 640}",
        "{\"width\": 640, \"height\": 480, \"k\": [1, 2, 3, 4, 5, 6, 7, 8]}",
        "{\"width\": 640, \"height\": 480, \"p\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}",
        "{\"width\": 640, \"height\": 480, \"d\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, "
        "14, 15, 16, 17]}",
        "{\"width\": 640, \"height\": 480, \"k\": [1, 2, 3, 4, \"5\", 6, 7, 8, 9]}",
        "{\"width\": 4294967296, \"height\": 480}",
        "{\"width\": -1, \"height\": 480}",
        "{\"width\": 1.5, \"height\": 480}",
        "{\"width\": 640, \"height\": 480, \"width\": 640}",
        "{\"width\": 640, \"height\": 480, \"roi\": {\"x_offset\": true}}",
        "{\"width\": 640, \"height\": 480, \"roi\": [1]}",
        "{\"width\": 640, \"height\": 480, \"distortion_model\": 7}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = cl_cbor(bad[i], buf, sizeof buf);
        assert_int_equal(ipcn_camera_info_decode(buf, n, &back), IPCN_BAD_REQUEST);
    }
}

/* ------------------------------------------------------------------ */
/* Point clouds                                                         */
/* ------------------------------------------------------------------ */

static void cloud_example(ipcn_pointcloud *pc, const void *data, size_t len)
{
    memset(pc, 0, sizeof *pc);
    ipcn_sensor_header_set(&pc->header, 55, "lidar");
    pc->height = 1;
    pc->width = 3;
    pc->point_step = 16;
    pc->nfields = 4;
    const char *names[4] = {"x", "y", "z", "intensity"};
    for (int i = 0; i < 4; i++) {
        strcpy(pc->fields[i].name, names[i]);
        pc->fields[i].offset = (uint32_t)(4 * i);
        pc->fields[i].datatype = IPCN_DTYPE_FLOAT32;
        pc->fields[i].count = 1;
    }
    pc->is_dense = 1;
    pc->data = data;
    pc->data_len = len;
}

static void test_pointcloud(void **state)
{
    (void)state;
    float pts[3][4] = {{1, 2, 3, 0.5f}, {4, 5, 6, 0.25f}, {-1, -2, -3, 1}};
    ipcn_pointcloud pc, back;
    cloud_example(&pc, pts, sizeof pts);
    size_t need = 0, len = 0;
    assert_int_equal(ipcn_pointcloud_encode(NULL, 0, &pc, &need, NULL),
                     IPCN_INSUFFICIENT_STORAGE);
    uint8_t *buf = aligned_alloc(64, (need + 63) / 64 * 64);
    assert_int_equal(ipcn_pointcloud_encode(buf, need, &pc, &len, NULL), IPCN_OK);
    assert_int_equal(ipcn_pointcloud_decode(buf, len, &back), IPCN_OK);
    assert_int_equal(((const uint8_t *)back.data - buf) % 64, 0);
    assert_int_equal(back.width, 3);
    assert_int_equal(back.point_step, 16);
    assert_int_equal(back.nfields, 4);
    assert_true(back.is_dense);
    assert_false(back.is_bigendian);
    assert_string_equal(back.header.frame_id, "lidar");
    assert_memory_equal(back.data, pts, sizeof pts);
    const ipcn_point_field *f = ipcn_pointcloud_field(&back, "intensity");
    assert_non_null(f);
    assert_int_equal(f->offset, 12);
    assert_int_equal(f->datatype, IPCN_DTYPE_FLOAT32);
    assert_null(ipcn_pointcloud_field(&back, "rgb"));
    free(buf);

    /* An empty cloud. */
    cloud_example(&pc, "", 0);
    pc.width = 0;
    uint8_t small[512];
    assert_int_equal(ipcn_pointcloud_encode(small, sizeof small, &pc, &len, NULL), IPCN_OK);
    assert_int_equal(ipcn_pointcloud_decode(small, len, &back), IPCN_OK);
    assert_int_equal(back.width, 0);
    assert_int_equal(back.data_len, 0);

    /* Invalid clouds. */
    cloud_example(&pc, pts, sizeof pts - 1);
    assert_int_equal(ipcn_pointcloud_encode(NULL, 0, &pc, &len, NULL), IPCN_BAD_REQUEST);
    cloud_example(&pc, pts, sizeof pts);
    pc.fields[3].offset = 13; /* past the record */
    assert_int_equal(ipcn_pointcloud_encode(NULL, 0, &pc, &len, NULL), IPCN_BAD_REQUEST);
    cloud_example(&pc, pts, sizeof pts);
    pc.fields[1].datatype = IPCN_DTYPE_BOOL;
    assert_int_equal(ipcn_pointcloud_encode(NULL, 0, &pc, &len, NULL), IPCN_BAD_REQUEST);
    cloud_example(&pc, pts, sizeof pts);
    pc.fields[0].name[0] = 0;
    assert_int_equal(ipcn_pointcloud_encode(NULL, 0, &pc, &len, NULL), IPCN_BAD_REQUEST);
    cloud_example(&pc, pts, sizeof pts);
    pc.nfields = 0;
    assert_int_equal(ipcn_pointcloud_encode(NULL, 0, &pc, &len, NULL), IPCN_BAD_REQUEST);
    cloud_example(&pc, pts, sizeof pts);
    pc.fields[2].count = 0;
    assert_int_equal(ipcn_pointcloud_encode(NULL, 0, &pc, &len, NULL), IPCN_BAD_REQUEST);

    /* By hand: a field past the record, an unknown datatype, data of
     * another dtype. */
    static const char *const field_bad[] = {
        "{\"name\": \"x\", \"offset\": 14, \"datatype\": \"float32\", \"count\": 1}",
        "{\"name\": \"x\", \"offset\": 0, \"datatype\": \"float16\", \"count\": 1}",
        "{\"name\": \"x\", \"offset\": 0, \"datatype\": \"float32\"}",
        "{\"name\": \"\", \"offset\": 0, \"datatype\": \"float32\", \"count\": 1}",
        "{\"name\": \"x\", \"offset\": 0, \"datatype\": \"float32\", \"count\": 5}",
    };
    for (size_t i = 0; i < sizeof field_bad / sizeof field_bad[0] + 1; i++) {
        ipcn_cbor_writer w;
        ipcn_cbor_writer_init(&w, small, sizeof small, 0);
        ipcn_cbor_put_map(&w, 2);
        ipcn_cbor_put_cstr(&w, "fields");
        ipcn_cbor_put_array(&w, 1);
        uint8_t field[128];
        size_t fn = cl_cbor(i < 5 ? field_bad[i]
                                  : "{\"name\": \"x\", \"offset\": 12, \"datatype\": "
                                    "\"float32\", \"count\": 1}",
                            field, sizeof field);
        ipcn_cbor_put_encoded(&w, field, fn);
        ipcn_cbor_put_cstr(&w, "data");
        uint8_t rec[2 * 16] = {0};
        int64_t shape[3] = {1, 2, 16};
        ipcn_tensor t;
        ipcn_tensor_init(&t, IPCN_DTYPE_UINT8, 3, shape, rec);
        ipcn_tensor_encode(&w, &t);
        assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
        assert_int_equal(ipcn_pointcloud_decode(small, len, &back),
                         i < 5 ? IPCN_BAD_REQUEST : IPCN_OK);
    }
}

/* ------------------------------------------------------------------ */
/* IMU                                                                  */
/* ------------------------------------------------------------------ */

static void test_imu(void **state)
{
    (void)state;
    ipcn_imu imu, back;
    memset(&imu, 0, sizeof imu);
    ipcn_sensor_header_set(&imu.header, 123456789, "imu_link");
    double q[4] = {0, 0, 0.7071067811865476, 0.7071067811865476};
    memcpy(imu.orientation, q, sizeof q);
    imu.orientation_covariance[0] = -1;
    imu.angular_velocity[2] = 0.01;
    imu.linear_acceleration[2] = 9.81;
    for (int i = 0; i < 3; i++)
        imu.linear_acceleration_covariance[4 * i] = 0.04;
    uint8_t buf[1024];
    ipcn_cbor_writer w;
    size_t len;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_imu_encode(&w, &imu), IPCN_OK);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
    assert_int_equal(ipcn_imu_decode(buf, len, &back), IPCN_OK);
    assert_memory_equal(&imu.orientation, &back.orientation, sizeof imu.orientation);
    assert_true(back.orientation_covariance[0] == -1);
    assert_true(back.linear_acceleration[2] == 9.81);
    assert_true(back.linear_acceleration_covariance[8] == 0.04);
    assert_string_equal(back.header.frame_id, "imu_link");

    /* orientation as a float32 tensor, as NumPy sends it; no covariances */
    float qf[4] = {0, 0, 0, 1};
    int64_t shape[1] = {4};
    ipcn_tensor t;
    ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT32, 1, shape, qf);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 3);
    ipcn_cbor_put_cstr(&w, "orientation");
    ipcn_tensor_encode(&w, &t);
    ipcn_cbor_put_cstr(&w, "angular_velocity");
    ipcn_cbor_put_array(&w, 3);
    for (int i = 0; i < 3; i++)
        ipcn_cbor_put_int(&w, -i);
    ipcn_cbor_put_cstr(&w, "linear_acceleration");
    ipcn_cbor_put_array(&w, 3);
    for (int i = 0; i < 3; i++)
        ipcn_cbor_put_float(&w, 0.5 * i);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
    assert_int_equal(ipcn_imu_decode(buf, len, &back), IPCN_OK);
    assert_true(back.orientation[3] == 1.0 && back.angular_velocity[2] == -2.0);
    assert_true(back.orientation_covariance[0] == 0);

    static const char *const bad[] = {
        "{\"angular_velocity\": [0, 0, 0], \"linear_acceleration\": [0, 0, 0]}",
        "{\"orientation\": [0, 0, 1], \"angular_velocity\": [0, 0, 0], "
        "\"linear_acceleration\": [0, 0, 0]}",
        "{\"orientation\": [0, 0, 0, 1], \"angular_velocity\": [0, 0, 0], "
        "\"linear_acceleration\": [0, 0, 0], \"orientation_covariance\": [1]}",
        "{\"orientation\": [0, 0, 0, true], \"angular_velocity\": [0, 0, 0], "
        "\"linear_acceleration\": [0, 0, 0]}",
        "{\"orientation\": [0, 0, 0, 1], \"angular_velocity\": [0, 0, 0], "
        "\"linear_acceleration\": [0, 0, 0], \"angular_velocity\": [0, 0, 0]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = cl_cbor(bad[i], buf, sizeof buf);
        assert_int_equal(ipcn_imu_decode(buf, n, &back), IPCN_BAD_REQUEST);
    }
}

/* ------------------------------------------------------------------ */
/* Joint states                                                         */
/* ------------------------------------------------------------------ */

static void test_joint_state(void **state)
{
    (void)state;
    const char *names[3] = {"shoulder", "elbow", "wrist"};
    double pos[3] = {0.1, -0.5, 1.2}, eff[3] = {1, 2, 3};
    ipcn_sensor_header h;
    ipcn_sensor_header_set(&h, 99, "base_link");
    uint8_t buf[1024];
    ipcn_cbor_writer w;
    size_t len;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_joint_state_encode(&w, &h, 3, names, pos, NULL, eff), IPCN_OK);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);

    ipcn_joint_state js;
    memset(&js, 0, sizeof js);
    assert_int_equal(ipcn_joint_state_decode(buf, len, &js), IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(js.count, 3);
    ipcn_strview nv[3];
    double p[3] = {0}, v[3] = {7, 7, 7}, e[3] = {0};
    js.cap = 3;
    js.name = nv;
    js.position = p;
    js.velocity = v;
    js.effort = e;
    assert_int_equal(ipcn_joint_state_decode(buf, len, &js), IPCN_OK);
    assert_int_equal(js.count, 3);
    assert_true(js.has_position && !js.has_velocity && js.has_effort);
    assert_memory_equal(p, pos, sizeof pos);
    assert_memory_equal(e, eff, sizeof eff);
    assert_true(v[0] == 7); /* not given: not written */
    assert_int_equal(nv[1].len, 5);
    assert_memory_equal(nv[1].ptr, "elbow", 5);
    assert_int_equal(js.header.stamp_ns, 99);
    assert_string_equal(js.header.frame_id, "base_link");

    /* Only some arrays wanted. */
    memset(&js, 0, sizeof js);
    js.cap = 8;
    js.effort = e;
    assert_int_equal(ipcn_joint_state_decode(buf, len, &js), IPCN_OK);
    assert_int_equal(js.count, 3);

    /* No joints at all. */
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_joint_state_encode(&w, &h, 0, NULL, NULL, NULL, NULL), IPCN_OK);
    assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
    memset(&js, 0, sizeof js);
    assert_int_equal(ipcn_joint_state_decode(buf, len, &js), IPCN_OK);
    assert_int_equal(js.count, 0);

    /* Encoder checks. */
    const char *empty[1] = {""};
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_joint_state_encode(&w, &h, 1, empty, NULL, NULL, NULL),
                     IPCN_BAD_REQUEST);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_joint_state_encode(&w, &h, 2, NULL, NULL, NULL, NULL),
                     IPCN_BAD_REQUEST);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    assert_int_equal(ipcn_joint_state_encode(&w, &h, IPCN_JOINT_MAX + 1, names, NULL, NULL,
                                             NULL),
                     IPCN_BAD_REQUEST);

    static const char *const bad[] = {
        "{\"position\": [1]}",
        "{\"name\": [\"a\", \"b\"], \"position\": [1]}",
        "{\"name\": [\"a\"], \"velocity\": [1, 2]}",
        "{\"name\": [\"a\", \"\"]}",
        "{\"name\": [\"a\", 3]}",
        "{\"name\": \"a\"}",
        "{\"name\": [\"a\"], \"effort\": [\"x\"]}",
        "{\"name\": [\"a\"], \"name\": [\"a\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = cl_cbor(bad[i], buf, sizeof buf);
        memset(&js, 0, sizeof js);
        js.cap = 4;
        js.name = nv;
        js.position = p;
        assert_int_equal(ipcn_joint_state_decode(buf, n, &js), IPCN_BAD_REQUEST);
    }
}

/* ------------------------------------------------------------------ */
/* The fuzz corpus                                                      */
/* ------------------------------------------------------------------ */

#include <dirent.h>

static long replay(const char *sub, int flips)
{
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%s", fuzz_dir, sub);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("no %s", dir);
    long files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[sizeof dir + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t *p = malloc(1 << 16);
        assert_non_null(p);
        size_t n = fread(p, 1, 1 << 16, f);
        fclose(f);
        fuzz_sensor_one(p, n);
        for (size_t i = 0; flips && i < n; i++)
            for (int bit = 0; bit < 8; bit++) {
                p[i] ^= (uint8_t)(1u << bit);
                fuzz_sensor_one(p, n);
                p[i] ^= (uint8_t)(1u << bit);
            }
        free(p);
        files++;
    }
    closedir(d);
    return files;
}

static void test_fuzz_corpus(void **state)
{
    (void)state;
    assert_true(replay("corpus/sensor", 1) >= 5);
    replay("crashes/sensor", 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s", argv[1]);
    } else {
        /* <...>/tests/unit/test_sensor.c -> <...>/tests/fuzz */
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s", __FILE__);
        char *slash = strrchr(fuzz_dir, '/');
        if (!slash) {
            fprintf(stderr, "usage: %s <tests/fuzz directory>\n", argv[0]);
            return 2;
        }
        snprintf(slash, sizeof fuzz_dir - (size_t)(slash - fuzz_dir), "/../fuzz");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),           cmocka_unit_test(test_formats),
        cmocka_unit_test(test_header),          cmocka_unit_test(test_image_roundtrip),
        cmocka_unit_test(test_doc_vector),
        cmocka_unit_test(test_image_alignment), cmocka_unit_test(test_image_by_hand),
        cmocka_unit_test(test_image_invalid),   cmocka_unit_test(test_camera_info),
        cmocka_unit_test(test_pointcloud),      cmocka_unit_test(test_imu),
        cmocka_unit_test(test_joint_state),     cmocka_unit_test(test_fuzz_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
