/* SPDX-License-Identifier: MIT */
/*
 * sensor_peer — a C process on the other end of the sensor messages
 * (ipcnet_sensor.h), for tests/python/test_sensor.py.
 *
 *   ipcn-test-sensor_peer sub <pattern> <count> [net=NAME]
 *       subscribe, print {"ready": true}, then for each of count samples
 *       one JSON line of what the C decoder of its kind (by its encoding)
 *       read: the header, the pixel format, shape, dtype, byte order, the
 *       place of the pixels (shared memory, aligned, offset in the message
 *       modulo 64) and a hash of the pixels in native order (FNV-1a 64),
 *       the camera info, IMU arrays, joints or point fields; or
 *       {"error": status} when it refused the sample.
 *   ipcn-test-sensor_peer pub <path> <height> <width> [net=NAME]
 *       announce path as an image stream, wait for a subscriber, publish
 *       one 32FC1 image with ipcn_loan_image() (pixel (y, x) = 1000 y + x,
 *       frame "depth_optical", stamp 1234567890123456789, a camera info),
 *       print {"published": true}, then serve until SIGTERM.
 * Exit 0; 3 when the node cannot open; 4 when a call fails (on stderr).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_sensor.h"
#include "l_common.h"

static uint64_t fnv(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* A JSON string (after "key": unless key is NULL). */
static void print_str(const char *key, const char *s, size_t n)
{
    if (key)
        printf("\"%s\": ", key);
    printf("\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    printf("\"");
}

static void print_doubles(const char *key, const double *v, size_t n)
{
    printf(", \"%s\": [", key);
    for (size_t i = 0; i < n; i++)
        printf("%s%.17g", i ? ", " : "", v[i]);
    printf("]");
}

static void print_header(const char *kind, const ipcn_sensor_header *h)
{
    printf("{\"kind\": \"%s\", \"stamp\": %" PRIu64 ", ", kind, h->stamp_ns);
    print_str("frame_id", h->frame_id, strlen(h->frame_id));
}

static void print_camera(const ipcn_camera_info *ci)
{
    printf("{\"width\": %u, \"height\": %u, ", ci->width, ci->height);
    print_str("distortion_model", ci->distortion_model, strlen(ci->distortion_model));
    print_doubles("d", ci->d, ci->d_count);
    print_doubles("k", ci->k, 9);
    print_doubles("r", ci->r, 9);
    print_doubles("p", ci->p, 12);
    printf(", \"binning\": [%u, %u], \"roi\": [%u, %u, %u, %u, %s]}", ci->binning_x,
           ci->binning_y, ci->roi_x_offset, ci->roi_y_offset, ci->roi_width, ci->roi_height,
           ci->roi_do_rectify ? "true" : "false");
}

static void print_image(const ipcn_msg *m)
{
    ipcn_image img;
    int st = ipcn_image_decode(m->data, m->len, &img);
    if (st != IPCN_OK) {
        printf("{\"error\": %d}\n", st);
        return;
    }
    void *native = malloc(img.pixels.size ? img.pixels.size : 1);
    if (!native || ipcn_tensor_copy(&img.pixels, native, img.pixels.size) != IPCN_OK) {
        printf("{\"error\": 307}\n");
        free(native);
        return;
    }
    print_header("image", &img.header);
    printf(", ");
    print_str("encoding", img.encoding, strlen(img.encoding));
    printf(", \"height\": %u, \"width\": %u, \"channels\": %u, \"ndim\": %u, \"dtype\": \"%s\", "
           "\"big_endian\": %s, \"shared\": %s, \"aligned\": %s, \"offset64\": %zu, "
           "\"fnv\": \"%016" PRIx64 "\", \"camera_info\": ",
           img.height, img.width, img.channels, img.pixels.ndim,
           ipcn_dtype_name(img.pixels.dtype),
           img.pixels.order == IPCN_ORDER_BIG && ipcn_dtype_size(img.pixels.dtype) > 1
               ? "true" : "false",
           (m->flags & IPCN_MSG_SHARED) ? "true" : "false", img.pixels.aligned ? "true" : "false",
           (size_t)((const uint8_t *)img.pixels.data - (const uint8_t *)m->data) % 64,
           fnv(native, img.pixels.size));
    if (img.has_camera_info)
        print_camera(&img.camera_info);
    else
        printf("null");
    printf("}\n");
    free(native);
}

static void print_cloud(const ipcn_msg *m)
{
    ipcn_pointcloud pc;
    int st = ipcn_pointcloud_decode(m->data, m->len, &pc);
    if (st != IPCN_OK) {
        printf("{\"error\": %d}\n", st);
        return;
    }
    print_header("pointcloud", &pc.header);
    printf(", \"height\": %u, \"width\": %u, \"point_step\": %u, \"is_dense\": %s, "
           "\"is_bigendian\": %s, \"fnv\": \"%016" PRIx64 "\", \"fields\": [",
           pc.height, pc.width, pc.point_step, pc.is_dense ? "true" : "false",
           pc.is_bigendian ? "true" : "false", fnv(pc.data, pc.data_len));
    for (uint32_t i = 0; i < pc.nfields; i++)
        printf("%s[\"%s\", %u, \"%s\", %u]", i ? ", " : "", pc.fields[i].name,
               pc.fields[i].offset, ipcn_dtype_name(pc.fields[i].datatype), pc.fields[i].count);
    printf("]}\n");
}

static void print_imu(const ipcn_msg *m)
{
    ipcn_imu imu;
    int st = ipcn_imu_decode(m->data, m->len, &imu);
    if (st != IPCN_OK) {
        printf("{\"error\": %d}\n", st);
        return;
    }
    print_header("imu", &imu.header);
    print_doubles("orientation", imu.orientation, 4);
    print_doubles("orientation_covariance", imu.orientation_covariance, 9);
    print_doubles("angular_velocity", imu.angular_velocity, 3);
    print_doubles("angular_velocity_covariance", imu.angular_velocity_covariance, 9);
    print_doubles("linear_acceleration", imu.linear_acceleration, 3);
    print_doubles("linear_acceleration_covariance", imu.linear_acceleration_covariance, 9);
    printf("}\n");
}

static void print_joints(const ipcn_msg *m)
{
    ipcn_joint_state js;
    memset(&js, 0, sizeof js);
    int st = ipcn_joint_state_decode(m->data, m->len, &js);
    if (st != IPCN_OK && st != IPCN_INSUFFICIENT_STORAGE) {
        printf("{\"error\": %d}\n", st);
        return;
    }
    size_t n = js.count ? js.count : 1;
    ipcn_strview *names = calloc(n, sizeof *names);
    double *v[3] = {calloc(n, sizeof(double)), calloc(n, sizeof(double)),
                    calloc(n, sizeof(double))};
    memset(&js, 0, sizeof js);
    js.cap = n;
    js.name = names;
    js.position = v[0];
    js.velocity = v[1];
    js.effort = v[2];
    if (!names || !v[0] || !v[1] || !v[2] ||
        (st = ipcn_joint_state_decode(m->data, m->len, &js)) != IPCN_OK) {
        printf("{\"error\": %d}\n", names ? st : 307);
    } else {
        print_header("joint_state", &js.header);
        printf(", \"name\": [");
        for (size_t i = 0; i < js.count; i++) {
            printf("%s", i ? ", " : "");
            print_str(NULL, names[i].ptr, names[i].len);
        }
        printf("]");
        print_doubles("position", v[0], js.has_position ? js.count : 0);
        print_doubles("velocity", v[1], js.has_velocity ? js.count : 0);
        print_doubles("effort", v[2], js.has_effort ? js.count : 0);
        printf("}\n");
    }
    free(names);
    for (int k = 0; k < 3; k++)
        free(v[k]);
}

static void print_camera_msg(const ipcn_msg *m)
{
    ipcn_camera_info ci;
    int st = ipcn_camera_info_decode(m->data, m->len, &ci);
    if (st != IPCN_OK) {
        printf("{\"error\": %d}\n", st);
        return;
    }
    print_header("camera_info", &ci.header);
    printf(", \"info\": ");
    print_camera(&ci);
    printf("}\n");
}

static int run_sub(ipcn_node *n, const char *pattern, long count)
{
    ipcn_sub sub;
    int st = ipcn_subscribe(n, pattern, 64, NULL, NULL, &sub);
    if (st != IPCN_OK || (st = ipcn_node_start_thread(n)) != IPCN_OK) {
        fprintf(stderr, "sensor_peer: subscribe: %d %s\n", st, ipcn_status_str(st));
        return 4;
    }
    printf("{\"ready\": true}\n");
    fflush(stdout);
    for (long i = 0; i < count && !l_term;) {
        ipcn_msg *m = NULL;
        st = ipcn_sub_take(n, sub, &m, 200);
        if (st == IPCN_NO_DATA)
            continue;
        if (st != IPCN_OK) {
            fprintf(stderr, "sensor_peer: take: %d %s\n", st, ipcn_status_str(st));
            return 4;
        }
        if (m->status != IPCN_OK) { /* a provider left */
            ipcn_msg_free(m);
            continue;
        }
        ipcn_sensor_kind kind = IPCN_SENSOR_NONE;
        st = ipcn_sensor_kind_of(m->encoding, &kind);
        if (st != IPCN_OK)
            printf("{\"error\": %d, \"encoding\": \"%s\"}\n", st, m->encoding);
        else if (kind == IPCN_SENSOR_IMAGE)
            print_image(m);
        else if (kind == IPCN_SENSOR_POINTCLOUD)
            print_cloud(m);
        else if (kind == IPCN_SENSOR_IMU)
            print_imu(m);
        else if (kind == IPCN_SENSOR_JOINT_STATE)
            print_joints(m);
        else
            print_camera_msg(m);
        fflush(stdout);
        ipcn_msg_free(m);
        i++;
    }
    return 0;
}

static int run_pub(ipcn_node *n, const char *path, uint32_t h, uint32_t w)
{
    ipcn_image img;
    int st = ipcn_image_init(&img, "32FC1", h, w, NULL);
    if (st == IPCN_OK)
        st = ipcn_sensor_header_set(&img.header, 1234567890123456789ull, "depth_optical");
    img.has_camera_info = 1;
    ipcn_camera_info *ci = &img.camera_info;
    ipcn_sensor_header_set(&ci->header, 1234567890123456789ull, "depth_optical");
    ci->width = w;
    ci->height = h;
    strcpy(ci->distortion_model, "plumb_bob");
    ci->d_count = 5;
    ci->k[0] = ci->k[4] = 600;
    ci->k[2] = w / 2.0;
    ci->k[5] = h / 2.0;
    ci->k[8] = 1;
    if (st != IPCN_OK ||
        !IPCN_IS_OK(st = ipcn_announce(n, path, IPCN_STREAM,
                                       ipcn_sensor_encoding(IPCN_SENSOR_IMAGE), NULL, 0))) {
        fprintf(stderr, "sensor_peer: announce: %d %s\n", st, ipcn_status_str(st));
        return 4;
    }
    /* A subscriber first: nothing is kept for late ones. */
    for (;;) {
        ipcn_subscription_list *sl = NULL;
        int found = 0;
        if (ipcn_subscriptions(n, &sl) == IPCN_OK) {
            for (size_t i = 0; i < sl->count; i++)
                found |= sl->items[i].node_id != ipcn_node_id(n) &&
                         ipcn_pattern_match(sl->items[i].pattern, path);
            ipcn_subscription_list_free(sl);
        }
        if (found || l_term)
            break;
        ipcn_node_dispatch(n, 20);
    }
    ipcn_loan *loan;
    void *px;
    if ((st = ipcn_loan_image(n, path, &img, &loan, &px)) != IPCN_OK) {
        fprintf(stderr, "sensor_peer: loan: %d %s\n", st, ipcn_status_str(st));
        return 4;
    }
    float *f = px;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            f[(size_t)y * w + x] = (float)(y * 1000 + x);
    if ((st = ipcn_loan_publish(n, loan, 0)) != IPCN_OK) {
        fprintf(stderr, "sensor_peer: publish: %d %s\n", st, ipcn_status_str(st));
        return 4;
    }
    printf("{\"published\": true}\n");
    fflush(stdout);
    while (!l_term)
        ipcn_node_dispatch(n, 50);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s sub PATTERN COUNT | pub PATH H W [net=NAME]\n", argv[0]);
        return 2;
    }
    l_helper_setup(60);
    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    char name[64];
    snprintf(name, sizeof name, "sensor-peer.%d", (int)getpid());
    int st = ipcn_node_open(&n, name, &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "sensor_peer: open: %d %s\n", st, ipcn_status_str(st));
        return 3;
    }
    int rc;
    if (!strcmp(argv[1], "sub"))
        rc = run_sub(n, argv[2], atol(argv[3]));
    else if (argc >= 5 && !strcmp(argv[1], "pub"))
        rc = run_pub(n, argv[2], (uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]));
    else
        rc = 2;
    ipcn_node_close(n);
    return rc;
}
