/* SPDX-License-Identifier: MIT */
/*
 * gen_sensor_seeds.c — writes the seed corpus of fuzz_sensor.c:
 *   gen_sensor_seeds <dir>      (normally tests/fuzz/corpus/sensor)
 * One small message of each kind as the encoders write it (an image with
 * its camera's calibration, a depth image, a float image, a camera_info, a
 * point cloud, an IMU reading, a joint state), one joint state written by
 * hand with its values as a tensor, and a sensor encoding string.  The
 * seeds are checked in; run this again only when the messages change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcnet_sensor.h"

static const char *dir;

static int save(const char *name, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

static uint8_t buf[8192];

static int save_image(const char *name, const ipcn_image *img)
{
    size_t len = 0;
    int st = ipcn_image_encode(buf, sizeof buf, img, &len, NULL);
    if (st != IPCN_OK) {
        fprintf(stderr, "%s: %d\n", name, st);
        return -1;
    }
    return save(name, buf, len);
}

static int save_writer(const char *name, ipcn_cbor_writer *w)
{
    size_t len = 0;
    if (ipcn_cbor_writer_finish(w, &len) != IPCN_OK) {
        fprintf(stderr, "%s: not written\n", name);
        return -1;
    }
    return save(name, buf, len);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <dir>\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    ipcn_camera_info ci;
    memset(&ci, 0, sizeof ci);
    ipcn_sensor_header_set(&ci.header, 1700000000000000000ull, "cam");
    ci.width = 4;
    ci.height = 3;
    strcpy(ci.distortion_model, "plumb_bob");
    ci.d_count = 5;
    ci.d[0] = -0.25;
    double k[9] = {2, 0, 2, 0, 2, 1.5, 0, 0, 1};
    memcpy(ci.k, k, sizeof k);
    ci.r[0] = ci.r[4] = ci.r[8] = 1;
    ci.p[0] = ci.p[5] = ci.p[10] = 1;
    ci.roi_width = 2;
    ci.roi_do_rectify = 1;

    uint8_t rgb[3 * 4 * 3];
    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = (uint8_t)(i * 7);
    ipcn_image img;
    ipcn_image_init(&img, "rgb8", 3, 4, rgb);
    ipcn_sensor_header_set(&img.header, 1700000000000000001ull, "cam");
    img.has_camera_info = 1;
    img.camera_info = ci;
    uint16_t depth[2 * 3] = {0, 1, 256, 1000, 65535, 7};
    float fl[2 * 2 * 2] = {0.5f, -1, 2, 3, 4, 5, 6, 7};
    ipcn_image dimg, fimg;
    ipcn_image_init(&dimg, "mono16", 2, 3, depth);
    ipcn_image_init(&fimg, "32FC2", 2, 2, fl);
    if (save_image("image-rgb8-camera", &img) || save_image("image-mono16", &dimg) ||
        save_image("image-32FC2", &fimg))
        return 1;

    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_camera_info_encode(&w, &ci);
    if (save_writer("camera_info", &w))
        return 1;

    float pts[2][4] = {{1, 2, 3, 0.5f}, {4, 5, 6, 1}};
    ipcn_pointcloud pc;
    memset(&pc, 0, sizeof pc);
    ipcn_sensor_header_set(&pc.header, 5, "lidar");
    pc.height = 1;
    pc.width = 2;
    pc.point_step = 16;
    pc.nfields = 4;
    const char *names[4] = {"x", "y", "z", "intensity"};
    for (int i = 0; i < 4; i++) {
        strcpy(pc.fields[i].name, names[i]);
        pc.fields[i].offset = (uint32_t)(4 * i);
        pc.fields[i].datatype = IPCN_DTYPE_FLOAT32;
        pc.fields[i].count = 1;
    }
    pc.is_dense = 1;
    pc.data = pts;
    pc.data_len = sizeof pts;
    size_t len = 0;
    if (ipcn_pointcloud_encode(buf, sizeof buf, &pc, &len, NULL) != IPCN_OK ||
        save("pointcloud", buf, len))
        return 1;

    ipcn_imu imu;
    memset(&imu, 0, sizeof imu);
    ipcn_sensor_header_set(&imu.header, 9, "imu");
    imu.orientation[3] = 1;
    imu.orientation_covariance[0] = -1;
    imu.linear_acceleration[2] = 9.81;
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_imu_encode(&w, &imu);
    if (save_writer("imu", &w))
        return 1;

    const char *joints[3] = {"shoulder", "elbow", "wrist"};
    double pos[3] = {0.1, -0.5, 1.2}, vel[3] = {0, 0.25, -1};
    ipcn_sensor_header h;
    ipcn_sensor_header_set(&h, 10, "base");
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_joint_state_encode(&w, &h, 3, joints, pos, vel, NULL);
    if (save_writer("joint_state", &w))
        return 1;

    /* By hand: the positions as a float32 tensor, as NumPy sends them. */
    float posf[2] = {0.5f, -0.5f};
    int64_t shape[1] = {2};
    ipcn_tensor t;
    ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT32, 1, shape, posf);
    ipcn_cbor_writer_init(&w, buf, sizeof buf, 0);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "name");
    ipcn_cbor_put_array(&w, 2);
    ipcn_cbor_put_cstr(&w, "a");
    ipcn_cbor_put_cstr(&w, "b");
    ipcn_cbor_put_cstr(&w, "position");
    ipcn_tensor_encode(&w, &t);
    if (save_writer("joint_state-tensor", &w))
        return 1;

    static const char enc[] = "cbor;sensor=image";
    return save("encoding", enc, sizeof enc - 1) ? 1 : 0;
}
