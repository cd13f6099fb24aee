/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/test/test_dds_map.c - the DDS bridge's mapping, value by
 * value and without a domain: each IPCNet value made by the library's own
 * encoders goes to its ROS 2 sample (checked field by field) and back
 * (checked byte for byte against the original message), and bad input
 * gives a status, not a sample.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dds/dds.h>
#include <dds/ddsi/ddsi_cdrstream.h>

#include "dds_map.h"
#include "ipcnet.h"
#include "ipcnet_sensor.h"
#include "ipcnet_value.h"
#include "ros2_msgs.h"

static int failures;
#define CHECK(c)                                                              \
    do {                                                                      \
        if (!(c)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); \
            failures++;                                                       \
        }                                                                     \
    } while (0)

/* IPCNet bytes -> sample -> IPCNet bytes; the sample is left in *sample
 * (free with free() after ddsb_arena_free(a)). */
static int round_trip(const char *type, const void *buf, size_t len,
                      const char *enc, void **sample, ddsb_arena *a,
                      uint8_t **back, size_t *blen)
{
    const ddsb_type *t = ddsb_type_find(type);
    CHECK(t != NULL);
    if (!t)
        return -1;
    *sample = calloc(1, t->desc->m_size);
    int st = t->to_dds(buf, len, enc, *sample, a);
    if (st != IPCN_OK)
        return st;
    return t->to_ipcn(*sample, back, blen);
}

static void t_image(void)
{
    enum { H = 5, W = 7 };
    uint16_t px[H][W];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            px[y][x] = (uint16_t)(y * 1000 + x * 3 + 0x8001);
    ipcn_image img;
    CHECK(ipcn_image_init(&img, "mono16", H, W, px) == IPCN_OK);
    CHECK(ipcn_sensor_header_set(&img.header, 1712345678987654321ull, "cam") == IPCN_OK);
    static uint8_t buf[4096];
    size_t len;
    CHECK(ipcn_image_encode(buf, sizeof buf, &img, &len, NULL) == IPCN_OK);
    void *s;
    ddsb_arena a = {0};
    uint8_t *back = NULL;
    size_t blen = 0;
    CHECK(round_trip("sensor_msgs/Image", buf, len, "cbor;sensor=image", &s, &a,
                     &back, &blen) == IPCN_OK);
    const sensor_msgs_msg_dds__Image_ *m = s;
    CHECK(m->height == H && m->width == W && m->step == W * 2);
    CHECK(!strcmp(m->encoding, "mono16") && !strcmp(m->header.frame_id, "cam"));
    CHECK(m->header.stamp.sec == 1712345678 && m->header.stamp.nanosec == 987654321);
    CHECK(m->data._length == sizeof px && !memcmp(m->data._buffer, px, sizeof px));
    CHECK(blen == len && back && !memcmp(back, buf, len));
    free(back);

    /* a ROS image with row padding and big-endian pixels: the IPCNet
     * image has the same pixel values, rows packed, in native order */
    sensor_msgs_msg_dds__Image_ r;
    memset(&r, 0, sizeof r);
    uint8_t rows[2][8] = {{0x12, 0x34, 0xab, 0xcd, 0xee, 0xee, 0xee, 0xee},
                          {0x00, 0x01, 0xff, 0xfe, 0xee, 0xee, 0xee, 0xee}};
    r.height = 2, r.width = 2, r.step = 8, r.is_bigendian = 1;
    r.encoding = "mono16";
    r.header.frame_id = "f";
    r.data._buffer = &rows[0][0];
    r.data._length = sizeof rows;
    const ddsb_type *t = ddsb_type_find("sensor_msgs/msg/Image");
    CHECK(t->to_ipcn(&r, &back, &blen) == IPCN_OK);
    ipcn_image d;
    CHECK(ipcn_image_decode(back, blen, &d) == IPCN_OK);
    uint16_t want[4] = {0x1234, 0xabcd, 0x0001, 0xfffe};
    CHECK(d.height == 2 && d.width == 2 && d.pixels.order == IPCN_ORDER_NATIVE &&
          !memcmp(d.pixels.data, want, sizeof want));
    free(back);
    /* too few bytes for height * step: refused */
    r.data._length = 12;
    CHECK(t->to_ipcn(&r, &back, &blen) == IPCN_BAD_REQUEST);
    r.data._length = sizeof rows;
    r.encoding = "no-such-format";
    CHECK(t->to_ipcn(&r, &back, &blen) == IPCN_NOT_IMPLEMENTED);
    /* an IPCNet value that is no image */
    void *s2 = calloc(1, t->desc->m_size);
    CHECK(t->to_dds("\xa0", 1, "cbor;sensor=image", s2, &a) == IPCN_BAD_REQUEST);
    free(s2);
    ddsb_arena_free(&a);
    free(s);
}

typedef int (*wr_fn)(ipcn_cbor_writer *w, const void *arg);
static size_t write_with(uint8_t *buf, size_t cap, wr_fn fn, const void *arg)
{
    ipcn_cbor_writer w;
    size_t len = 0;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    CHECK(fn(&w, arg) == IPCN_OK);
    CHECK(ipcn_cbor_writer_finish(&w, &len) == IPCN_OK);
    return len;
}

static int wr_ci(ipcn_cbor_writer *w, const void *a) { return ipcn_camera_info_encode(w, a); }
static int wr_imu(ipcn_cbor_writer *w, const void *a) { return ipcn_imu_encode(w, a); }
static int wr_js(ipcn_cbor_writer *w, const void *a)
{
    static const char *const names[2] = {"shoulder", "elbow"};
    static const double pos[2] = {0.25, -1.5}, eff[2] = {3, 4};
    return ipcn_joint_state_encode(w, a, 2, names, pos, NULL, eff);
}

/* Encoded by the library, to DDS and back: the same bytes. */
static void same_back(const char *type, const uint8_t *buf, size_t len)
{
    void *s;
    ddsb_arena a = {0};
    uint8_t *back = NULL;
    size_t blen = 0;
    int st = round_trip(type, buf, len, "", &s, &a, &back, &blen);
    CHECK(st == IPCN_OK);
    if (st != IPCN_OK || blen != len || memcmp(back, buf, len))
        fprintf(stderr, "  %s: not the same bytes back (%d)\n", type, st), failures++;
    free(back);
    ddsb_arena_free(&a);
    free(s);
}

static void t_sensor(void)
{
    static uint8_t buf[8192];
    ipcn_camera_info ci;
    memset(&ci, 0, sizeof ci);
    ipcn_sensor_header_set(&ci.header, 42, "optical");
    ci.width = 640, ci.height = 480, ci.d_count = 5;
    strcpy(ci.distortion_model, "plumb_bob");
    for (int i = 0; i < 5; i++)
        ci.d[i] = i * 0.01 - 0.02;
    for (int i = 0; i < 9; i++)
        ci.k[i] = ci.r[i] = i + 0.5;
    for (int i = 0; i < 12; i++)
        ci.p[i] = i * 2.0;
    ci.binning_x = 2, ci.roi_width = 100, ci.roi_do_rectify = 1;
    same_back("sensor_msgs/msg/CameraInfo", buf, write_with(buf, sizeof buf, wr_ci, &ci));

    ipcn_imu imu;
    memset(&imu, 0, sizeof imu);
    ipcn_sensor_header_set(&imu.header, 5000000001ull, "imu");
    imu.orientation[3] = 1;
    imu.angular_velocity[2] = 0.125;
    imu.linear_acceleration[2] = 9.81;
    imu.orientation_covariance[0] = -1;
    same_back("sensor_msgs/msg/Imu", buf, write_with(buf, sizeof buf, wr_imu, &imu));

    ipcn_sensor_header h;
    ipcn_sensor_header_set(&h, 7, "base");
    same_back("sensor_msgs/msg/JointState", buf, write_with(buf, sizeof buf, wr_js, &h));

    ipcn_pointcloud pc;
    memset(&pc, 0, sizeof pc);
    float pts[3][4] = {{1, 2, 3, 0.5f}, {4, 5, 6, 0.25f}, {-1, -2, -3, 1}};
    ipcn_sensor_header_set(&pc.header, 9, "lidar");
    pc.height = 1, pc.width = 3, pc.point_step = 16, pc.nfields = 4, pc.is_dense = 1;
    const char *fn[4] = {"x", "y", "z", "intensity"};
    for (int i = 0; i < 4; i++) {
        strcpy(pc.fields[i].name, fn[i]);
        pc.fields[i].offset = (uint32_t)i * 4;
        pc.fields[i].datatype = IPCN_DTYPE_FLOAT32;
        pc.fields[i].count = 1;
    }
    pc.data = pts;
    pc.data_len = sizeof pts;
    size_t len;
    CHECK(ipcn_pointcloud_encode(buf, sizeof buf, &pc, &len, NULL) == IPCN_OK);
    same_back("sensor_msgs/msg/PointCloud2", buf, len);
}

static void t_simple(void)
{
    uint8_t buf[256];
    size_t len;
    /* Twist: every bit of each double */
    double v[6] = {0.5, -1.0 / 3, 4.9406564584124654e-324, -0.0, 1e300, NAN};
    CHECK(ipcn_cbor_build(buf, sizeof buf, &len,
                          "{s:{s:f,s:f,s:f}, s:{s:f,s:f,s:f}}", "linear", "x", v[0],
                          "y", v[1], "z", v[2], "angular", "x", v[3], "y", v[4],
                          "z", v[5]) == IPCN_OK);
    void *s;
    ddsb_arena a = {0};
    uint8_t *back = NULL;
    size_t blen;
    CHECK(round_trip("geometry_msgs/msg/Twist", buf, len, "", &s, &a, &back, &blen) == IPCN_OK);
    CHECK(!memcmp(s, v, sizeof v));
    CHECK(blen == len && !memcmp(back, buf, len));
    free(back);
    free(s);
    const ddsb_type *tw = ddsb_type_find("geometry_msgs::msg::dds_::Twist_");
    CHECK(tw && ddsb_type_for_encoding(tw->encoding) == tw);
    ipcn_encoding e;
    CHECK(ipcn_encoding_parse(tw->encoding, &e) == IPCN_OK);
    s = calloc(1, tw->desc->m_size);
    CHECK(ipcn_cbor_build(buf, sizeof buf, &len, "{s:{s:f}}", "linear", "x", 1.0) == IPCN_OK);
    CHECK(tw->to_dds(buf, len, "", s, &a) == IPCN_BAD_REQUEST); /* fields missing */
    free(s);

    /* Pose */
    CHECK(ipcn_cbor_build(buf, sizeof buf, &len,
                          "{s:{s:f,s:f,s:f}, s:{s:f,s:f,s:f,s:f}}", "position", "x",
                          1.0, "y", 2.0, "z", 3.0, "orientation", "x", 0.0, "y",
                          0.0, "z", 0.5, "w", 0.75) == IPCN_OK);
    CHECK(round_trip("geometry_msgs/Pose", buf, len, "", &s, &a, &back, &blen) == IPCN_OK);
    CHECK(((double *)s)[6] == 0.75 && blen == len && !memcmp(back, buf, len));
    free(back);
    free(s);

    /* String: text/plain; a NUL inside is refused */
    CHECK(round_trip("std_msgs/msg/String", "hi there", 8, "text/plain", &s, &a, &back,
                     &blen) == IPCN_OK);
    CHECK(blen == 8 && !memcmp(back, "hi there", 8));
    free(back);
    free(s);
    CHECK(round_trip("std_msgs/msg/String", "a\0b", 3, "text/plain", &s, &a, &back,
                     &blen) == IPCN_BAD_REQUEST);
    free(s);

    /* numbers: in range or 301 */
    CHECK(ipcn_cbor_build(buf, sizeof buf, &len, "i", -129) == IPCN_OK);
    CHECK(round_trip("std_msgs/msg/Int8", buf, len, "cbor", &s, &a, &back, &blen) ==
          IPCN_NOT_IMPLEMENTED);
    free(s);
    CHECK(round_trip("std_msgs/msg/Int16", buf, len, "cbor", &s, &a, &back, &blen) == IPCN_OK);
    CHECK(*(int16_t *)s == -129 && blen == len && !memcmp(back, buf, len));
    free(back);
    free(s);
    CHECK(ipcn_cbor_build(buf, sizeof buf, &len, "U", (uint64_t)UINT64_MAX) == IPCN_OK);
    CHECK(round_trip("std_msgs/msg/UInt64", buf, len, "cbor", &s, &a, &back, &blen) == IPCN_OK);
    CHECK(*(uint64_t *)s == UINT64_MAX && blen == len && !memcmp(back, buf, len));
    free(back);
    free(s);
    CHECK(ipcn_cbor_build(buf, sizeof buf, &len, "f", 0.1) == IPCN_OK);
    CHECK(round_trip("std_msgs/msg/Float64", buf, len, "cbor", &s, &a, &back, &blen) == IPCN_OK);
    CHECK(*(double *)s == 0.1 && blen == len && !memcmp(back, buf, len));
    free(back);
    free(s);
    CHECK(round_trip("std_msgs/msg/Bool", "\xf5", 1, "cbor", &s, &a, &back, &blen) == IPCN_OK);
    CHECK(*(bool *)s && blen == 1 && back[0] == 0xf5);
    free(back);
    free(s);

    /* Cbor: any bytes, as they are */
    CHECK(ddsb_type_for_encoding("application/json") == ddsb_type_find("ipcnet_msgs/msg/Cbor"));
    CHECK(round_trip("ipcnet_msgs/msg/Cbor", "{\"a\":1}", 7, "application/json", &s, &a,
                     &back, &blen) == IPCN_OK);
    CHECK(blen == 7 && !memcmp(back, "{\"a\":1}", 7));
    free(back);
    free(s);
    ddsb_arena_free(&a);
    CHECK(ddsb_type_find("sensor_msgs/msg/Nope") == NULL);
    CHECK(ddsb_type_for_encoding("cbor;sensor=imu") == ddsb_type_find("sensor_msgs/Imu"));
}

/* A joint name with a NUL would be cut short by a DDS string: refused
 * (200), not sent as another name (the fuzzer's find, saved in
 * tests/fuzz/crashes/dds_map/joint-name-nul). */
static void t_nul_strings(void)
{
    static const uint8_t js[] = {0xa1, 0x64, 'n', 'a', 'm', 'e', 0x81, 0x61, 0x00};
    static const uint8_t js_ok[] = {0xa1, 0x64, 'n', 'a', 'm', 'e', 0x81, 0x61, 'j'};
    const ddsb_type *t = ddsb_type_find("sensor_msgs/msg/JointState");
    CHECK(t != NULL);
    if (!t)
        return;
    void *s = calloc(1, t->desc->m_size);
    ddsb_arena a = {0};
    uint8_t *back = NULL;
    size_t blen = 0;
    CHECK(t->to_dds(js, sizeof js, "", s, &a) == IPCN_BAD_REQUEST);
    ddsb_arena_free(&a);
    free(s);
    CHECK(round_trip("sensor_msgs/msg/JointState", js_ok, sizeof js_ok, "", &s, &a,
                     &back, &blen) == IPCN_OK);
    free(back);
    ddsb_arena_free(&a);
    free(s);
}

/* A stamp after 2038 (seconds beyond ROS 2's int32): 301, not wrapped. */
static void t_stamp_2038(void)
{
    static uint8_t buf[256];
    size_t len;
    void *s;
    ddsb_arena a = {0};
    const ddsb_type *t = ddsb_type_find("std_msgs/msg/Header");
    CHECK(t != NULL);
    if (!t)
        return;
    uint64_t late = ((uint64_t)INT32_MAX + 1) * 1000000000u;
    CHECK(ipcn_cbor_build(buf, sizeof buf, &len, "{s:U, s:s}", "stamp", late,
                          "frame_id", "f") == IPCN_OK);
    s = calloc(1, t->desc->m_size);
    CHECK(t->to_dds(buf, len, "cbor", s, &a) == IPCN_NOT_IMPLEMENTED);
    ddsb_arena_free(&a);
    free(s);
    uint64_t last = (uint64_t)INT32_MAX * 1000000000u + 999999999u;
    CHECK(ipcn_cbor_build(buf, sizeof buf, &len, "{s:U, s:s}", "stamp", last,
                          "frame_id", "f") == IPCN_OK);
    s = calloc(1, t->desc->m_size);
    CHECK(t->to_dds(buf, len, "cbor", s, &a) == IPCN_OK);
    CHECK(((std_msgs_msg_dds__Header_ *)s)->stamp.sec == INT32_MAX);
    ddsb_arena_free(&a);
    free(s);
}

/* The CDR body (XCDR1, little-endian: after the 4-byte encapsulation
 * header 00 01 00 00, without the final padding) Cyclone writes for
 * sample of desc, compared with the bytes ROS 2 puts on the wire for it:
 * an IDL mistake (a field's type, order, a missing field) cannot pass. */
static void cdr_is(const dds_topic_descriptor_t *desc, const void *sample,
                   const uint8_t *want, size_t want_len, const char *what)
{
    dds_ostreamLE_t os;
    dds_ostreamLE_init(&os, 0, 1 /* XCDR1, as ROS 2 */);
    dds_stream_writeLE(&os, sample, desc->m_ops);
    if (os.x.m_index != want_len || memcmp(os.x.m_buffer, want, want_len)) {
        fprintf(stderr, "  %s: CDR of %u bytes:", what, (unsigned)os.x.m_index);
        for (uint32_t i = 0; i < os.x.m_index; i++)
            fprintf(stderr, " %02x", os.x.m_buffer[i]);
        fprintf(stderr, "\n");
        failures++;
    }
    dds_ostreamLE_fini(&os);
}

static void t_cdr(void)
{
    /* std_msgs/String "hi": 00 01 00 00 | 03 00 00 00 68 69 00 (| 00) */
    std_msgs_msg_dds__String_ str = {.data = "hi"};
    static const uint8_t s_want[] = {3, 0, 0, 0, 'h', 'i', 0};
    cdr_is(&std_msgs_msg_dds__String__desc, &str, s_want, sizeof s_want, "String");

    /* std_msgs/Header: stamp (int32 sec, uint32 nanosec), frame_id */
    std_msgs_msg_dds__Header_ h = {.stamp = {.sec = 1, .nanosec = 2}, .frame_id = "ab"};
    static const uint8_t h_want[] = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 0};
    cdr_is(&std_msgs_msg_dds__Header__desc, &h, h_want, sizeof h_want, "Header");

    /* sensor_msgs/Image 1x2 mono8: header, height, width, encoding,
     * uint8 is_bigendian, (padding) uint32 step, uint8[] data */
    uint8_t px[2] = {7, 8};
    sensor_msgs_msg_dds__Image_ img;
    memset(&img, 0, sizeof img);
    img.header.stamp.sec = 1;
    img.header.stamp.nanosec = 2;
    img.header.frame_id = "f";
    img.height = 1;
    img.width = 2;
    img.encoding = "mono8";
    img.is_bigendian = 0;
    img.step = 2;
    img.data._buffer = px;
    img.data._length = img.data._maximum = 2;
    static const uint8_t i_want[] = {
        1, 0, 0, 0, 2, 0, 0, 0,             /* stamp */
        2, 0, 0, 0, 'f', 0, 0, 0,           /* frame_id "f", 2 padding */
        1, 0, 0, 0, 2, 0, 0, 0,             /* height, width */
        6, 0, 0, 0, 'm', 'o', 'n', 'o', '8', 0, /* encoding */
        0, 0,                               /* is_bigendian, 1 padding */
        2, 0, 0, 0,                         /* step */
        2, 0, 0, 0, 7, 8};                  /* data */
    cdr_is(&sensor_msgs_msg_dds__Image__desc, &img, i_want, sizeof i_want, "Image");
}

int main(void)
{
    t_cdr();
    t_nul_strings();
    t_stamp_2038();
    t_image();
    t_sensor();
    t_simple();
    if (failures) {
        fprintf(stderr, "test_dds_map: %d failures\n", failures);
        return 1;
    }
    printf("test_dds_map: all passed\n");
    return 0;
}
