/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sensor.c — libFuzzer harness of the sensor messages a subscriber
 * reads (src/media/sensor*.c): the whole input goes through every decoder
 * (image, camera_info, pointcloud, imu, joint_state) and, up to its first
 * NUL, through the reader of sensor encodings.
 *
 * Properties: a decoder returns one of its documented statuses; what it
 * hands out (pixels, points, joint names) lies inside the input; a message
 * that decodes encodes again (pixels and points 64-byte aligned in the new
 * buffer) and decodes to the same message.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipcnet_sensor.h"

static int inside(const void *p, size_t n, const uint8_t *buf, size_t len)
{
    const uint8_t *q = p;
    return n == 0 || (q >= buf && q <= buf + len && n <= (size_t)(buf + len - q));
}

/* Doubles equal bit for bit (a NaN keeps its payload through CBOR). */
static int same_doubles(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static int same_header(const ipcn_sensor_header *a, const ipcn_sensor_header *b)
{
    return a->stamp_ns == b->stamp_ns && !strcmp(a->frame_id, b->frame_id);
}

static int same_camera(const ipcn_camera_info *a, const ipcn_camera_info *b)
{
    return same_header(&a->header, &b->header) && a->width == b->width &&
           a->height == b->height && !strcmp(a->distortion_model, b->distortion_model) &&
           a->d_count == b->d_count && same_doubles(a->d, b->d, a->d_count) &&
           same_doubles(a->k, b->k, 9) && same_doubles(a->r, b->r, 9) &&
           same_doubles(a->p, b->p, 12) && a->binning_x == b->binning_x &&
           a->binning_y == b->binning_y && a->roi_x_offset == b->roi_x_offset &&
           a->roi_y_offset == b->roi_y_offset && a->roi_width == b->roi_width &&
           a->roi_height == b->roi_height && a->roi_do_rectify == b->roi_do_rectify;
}

/* Encode with a measuring pass, then into a buffer of the size needed. */
typedef int (*enc_fn)(void *buf, size_t cap, const void *msg, size_t *len);

static uint8_t *encode_exact(enc_fn fn, const void *msg, size_t *len)
{
    size_t need = 0;
    FUZZ_ASSERT(fn(NULL, 0, msg, &need) == IPCN_INSUFFICIENT_STORAGE && need > 0);
    uint8_t *out = malloc(need);
    FUZZ_ASSERT(out);
    FUZZ_ASSERT(fn(out, need, msg, len) == IPCN_OK && *len == need);
    return out;
}

static int image_enc(void *buf, size_t cap, const void *msg, size_t *len)
{
    return ipcn_image_encode(buf, cap, msg, len, NULL);
}

static int cloud_enc(void *buf, size_t cap, const void *msg, size_t *len)
{
    return ipcn_pointcloud_encode(buf, cap, msg, len, NULL);
}

static void fz_image(const uint8_t *in, size_t n)
{
    ipcn_image img;
    int st = ipcn_image_decode(in, n, &img);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_IMPLEMENTED);
    if (st != IPCN_OK)
        return;
    FUZZ_ASSERT(inside(img.pixels.data, img.pixels.size, in, n));
    FUZZ_ASSERT(img.pixels.size == (size_t)img.height * img.width * img.channels *
                                       ipcn_dtype_size(img.pixels.dtype));
    size_t len = 0;
    uint8_t *out = encode_exact(image_enc, &img, &len);
    ipcn_image back;
    FUZZ_ASSERT(ipcn_image_decode(out, len, &back) == IPCN_OK);
    FUZZ_ASSERT(((const uint8_t *)back.pixels.data - out) % IPCN_SENSOR_ALIGN == 0);
    FUZZ_ASSERT(same_header(&img.header, &back.header) &&
                !strcmp(img.encoding, back.encoding) && img.height == back.height &&
                img.width == back.width && img.channels == back.channels &&
                img.has_camera_info == back.has_camera_info &&
                back.pixels.order == IPCN_ORDER_NATIVE);
    FUZZ_ASSERT(!img.has_camera_info || same_camera(&img.camera_info, &back.camera_info));
    /* The pixels, in native order both ways. */
    uint8_t *a = malloc(img.pixels.size + 1), *b = malloc(back.pixels.size + 1);
    FUZZ_ASSERT(a && b && img.pixels.size == back.pixels.size);
    FUZZ_ASSERT(ipcn_tensor_copy(&img.pixels, a, img.pixels.size) == IPCN_OK);
    FUZZ_ASSERT(ipcn_tensor_copy(&back.pixels, b, back.pixels.size) == IPCN_OK);
    FUZZ_ASSERT(memcmp(a, b, img.pixels.size) == 0);
    free(a);
    free(b);
    free(out);
}

static void fz_camera(const uint8_t *in, size_t n)
{
    ipcn_camera_info ci;
    int st = ipcn_camera_info_decode(in, n, &ci);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    if (st != IPCN_OK)
        return;
    ipcn_cbor_writer w;
    size_t need = 0, len = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    ipcn_camera_info_encode(&w, &ci);
    FUZZ_ASSERT(ipcn_cbor_writer_finish(&w, &need) == IPCN_INSUFFICIENT_STORAGE);
    uint8_t *out = malloc(need);
    FUZZ_ASSERT(out);
    ipcn_cbor_writer_init(&w, out, need, 0);
    ipcn_camera_info_encode(&w, &ci);
    FUZZ_ASSERT(ipcn_cbor_writer_finish(&w, &len) == IPCN_OK && len == need);
    ipcn_camera_info back;
    FUZZ_ASSERT(ipcn_camera_info_decode(out, len, &back) == IPCN_OK);
    FUZZ_ASSERT(same_camera(&ci, &back));
    free(out);
}

static void fz_cloud(const uint8_t *in, size_t n)
{
    ipcn_pointcloud pc;
    int st = ipcn_pointcloud_decode(in, n, &pc);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_IMPLEMENTED);
    if (st != IPCN_OK)
        return;
    FUZZ_ASSERT(inside(pc.data, pc.data_len, in, n));
    FUZZ_ASSERT(pc.data_len == (size_t)pc.height * pc.width * pc.point_step);
    for (uint32_t i = 0; i < pc.nfields; i++) {
        const ipcn_point_field *f = &pc.fields[i];
        FUZZ_ASSERT(f->count > 0 && f->name[0] &&
                    (uint64_t)f->offset + (uint64_t)f->count * ipcn_dtype_size(f->datatype) <=
                        pc.point_step);
        FUZZ_ASSERT(ipcn_pointcloud_field(&pc, f->name) != NULL);
    }
    size_t len = 0;
    uint8_t *out = encode_exact(cloud_enc, &pc, &len);
    ipcn_pointcloud back;
    FUZZ_ASSERT(ipcn_pointcloud_decode(out, len, &back) == IPCN_OK);
    FUZZ_ASSERT(((const uint8_t *)back.data - out) % IPCN_SENSOR_ALIGN == 0);
    FUZZ_ASSERT(same_header(&pc.header, &back.header) && pc.height == back.height &&
                pc.width == back.width && pc.point_step == back.point_step &&
                pc.nfields == back.nfields && pc.is_bigendian == back.is_bigendian &&
                pc.is_dense == back.is_dense && pc.data_len == back.data_len &&
                (pc.data_len == 0 || !memcmp(pc.data, back.data, pc.data_len)));
    for (uint32_t i = 0; i < pc.nfields; i++)
        FUZZ_ASSERT(!strcmp(pc.fields[i].name, back.fields[i].name) &&
                    pc.fields[i].offset == back.fields[i].offset &&
                    pc.fields[i].datatype == back.fields[i].datatype &&
                    pc.fields[i].count == back.fields[i].count);
    free(out);
}

static void fz_imu(const uint8_t *in, size_t n)
{
    ipcn_imu imu;
    int st = ipcn_imu_decode(in, n, &imu);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    if (st != IPCN_OK)
        return;
    uint8_t out[1024];
    ipcn_cbor_writer w;
    size_t len = 0;
    ipcn_cbor_writer_init(&w, out, sizeof out, 0);
    ipcn_imu_encode(&w, &imu);
    FUZZ_ASSERT(ipcn_cbor_writer_finish(&w, &len) == IPCN_OK);
    ipcn_imu back;
    FUZZ_ASSERT(ipcn_imu_decode(out, len, &back) == IPCN_OK);
    FUZZ_ASSERT(same_header(&imu.header, &back.header) &&
                same_doubles(imu.orientation, back.orientation, 4) &&
                same_doubles(imu.orientation_covariance, back.orientation_covariance, 9) &&
                same_doubles(imu.angular_velocity, back.angular_velocity, 3) &&
                same_doubles(imu.angular_velocity_covariance,
                             back.angular_velocity_covariance, 9) &&
                same_doubles(imu.linear_acceleration, back.linear_acceleration, 3) &&
                same_doubles(imu.linear_acceleration_covariance,
                             back.linear_acceleration_covariance, 9));
}

static void fz_joints(const uint8_t *in, size_t n)
{
    ipcn_joint_state js;
    memset(&js, 0, sizeof js);
    int st = ipcn_joint_state_decode(in, n, &js);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_INSUFFICIENT_STORAGE);
    if (st == IPCN_BAD_REQUEST)
        return;
    FUZZ_ASSERT(st == IPCN_OK ? js.count == 0 : js.count > 0);
    FUZZ_ASSERT(js.count <= IPCN_JOINT_MAX);
    size_t count = js.count;
    size_t cap = count ? count : 1;
    ipcn_strview *names = calloc(cap, sizeof *names);
    double *v[3];
    for (int k = 0; k < 3; k++)
        v[k] = calloc(cap, sizeof(double));
    FUZZ_ASSERT(names && v[0] && v[1] && v[2]);
    memset(&js, 0, sizeof js);
    js.cap = count;
    js.name = names;
    js.position = v[0];
    js.velocity = v[1];
    js.effort = v[2];
    FUZZ_ASSERT(ipcn_joint_state_decode(in, n, &js) == IPCN_OK && js.count == count);
    char **cnames = calloc(cap, sizeof *cnames);
    FUZZ_ASSERT(cnames);
    for (size_t i = 0; i < count; i++) {
        FUZZ_ASSERT(names[i].len > 0 && names[i].len <= IPCN_JOINT_NAME_MAX &&
                    inside(names[i].ptr, names[i].len, in, n));
        cnames[i] = calloc(1, names[i].len + 1);
        FUZZ_ASSERT(cnames[i]);
        memcpy(cnames[i], names[i].ptr, names[i].len);
    }
    /* A name with a NUL inside does not survive as a C string: skip. */
    int c_ok = 1;
    for (size_t i = 0; i < count; i++)
        c_ok &= strlen(cnames[i]) == names[i].len;
    if (c_ok) {
        size_t need = 0, len = 0;
        ipcn_cbor_writer w;
        ipcn_cbor_writer_init(&w, NULL, 0, 0);
        ipcn_joint_state_encode(&w, &js.header, count, (const char *const *)cnames,
                                js.has_position ? v[0] : NULL, js.has_velocity ? v[1] : NULL,
                                js.has_effort ? v[2] : NULL);
        FUZZ_ASSERT(ipcn_cbor_writer_finish(&w, &need) == IPCN_INSUFFICIENT_STORAGE);
        uint8_t *out = malloc(need);
        FUZZ_ASSERT(out);
        ipcn_cbor_writer_init(&w, out, need, 0);
        ipcn_joint_state_encode(&w, &js.header, count, (const char *const *)cnames,
                                js.has_position ? v[0] : NULL, js.has_velocity ? v[1] : NULL,
                                js.has_effort ? v[2] : NULL);
        FUZZ_ASSERT(ipcn_cbor_writer_finish(&w, &len) == IPCN_OK);
        double *b[3];
        for (int k = 0; k < 3; k++)
            b[k] = calloc(cap, sizeof(double));
        ipcn_joint_state back;
        memset(&back, 0, sizeof back);
        back.cap = count;
        back.position = b[0];
        back.velocity = b[1];
        back.effort = b[2];
        FUZZ_ASSERT(b[0] && b[1] && b[2]);
        FUZZ_ASSERT(ipcn_joint_state_decode(out, len, &back) == IPCN_OK);
        FUZZ_ASSERT(back.count == count && same_header(&back.header, &js.header) &&
                    back.has_position == js.has_position &&
                    back.has_velocity == js.has_velocity && back.has_effort == js.has_effort);
        for (int k = 0; k < 3; k++) {
            FUZZ_ASSERT(same_doubles(v[k], b[k], count));
            free(b[k]);
        }
        free(out);
    }
    for (size_t i = 0; i < count; i++)
        free(cnames[i]);
    free(cnames);
    free(names);
    for (int k = 0; k < 3; k++)
        free(v[k]);
}

static void fz_encoding(const uint8_t *in, size_t n)
{
    const uint8_t *nul = memchr(in, 0, n);
    size_t en = nul ? (size_t)(nul - in) : n;
    char *s = malloc(en + 1);
    FUZZ_ASSERT(s);
    memcpy(s, in, en);
    s[en] = 0;
    ipcn_sensor_kind k = IPCN_SENSOR_NONE;
    int st = ipcn_sensor_kind_of(s, &k);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND ||
                st == IPCN_NOT_IMPLEMENTED);
    if (st == IPCN_OK) {
        const char *e = ipcn_sensor_encoding(k);
        ipcn_sensor_kind k2;
        FUZZ_ASSERT(e && ipcn_sensor_kind_of(e, &k2) == IPCN_OK && k2 == k);
    }
    ipcn_dtype d;
    uint32_t c = 0;
    st = ipcn_image_format(s, &d, &c);
    FUZZ_ASSERT(st == IPCN_NOT_IMPLEMENTED || (st == IPCN_OK && c >= 1 && c <= 4 &&
                                               ipcn_dtype_size(d) > 0));
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1); /* exact size: ASan sees overreads */
    if (!in)
        return 0;
    memcpy(in, data, size);
    fz_image(in, size);
    fz_camera(in, size);
    fz_cloud(in, size);
    fz_imu(in, size);
    fz_joints(in, size);
    fz_encoding(in, size);
    free(in);
    return 0;
}
