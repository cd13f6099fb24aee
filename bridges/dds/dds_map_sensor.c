/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/dds_map_sensor.c - the sensor messages of IPCNet's
 * convention (docs/protocol.md 10.4, ipcnet_sensor.h) <-> sensor_msgs
 * Image, CameraInfo, Imu, JointState and PointCloud2: field by field, the
 * pixels and point records byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "dds_map.h"
#include "dds_map_int.h"
#include "ipcnet.h"
#include "ipcnet_sensor.h"
#include "ros2_msgs.h"

/* ---- CameraInfo --------------------------------------------------- */

static int ci_to_dds(const ipcn_camera_info *ci,
                     sensor_msgs_msg_dds__CameraInfo_ *o, ddsb_arena *a)
{
    int st = ddsb_header_to_dds(&ci->header, &o->header, a);
    if (st != IPCN_OK)
        return st;
    o->height = ci->height;
    o->width = ci->width;
    o->distortion_model = ddsb_arena_strndup(a, ci->distortion_model,
                                             strlen(ci->distortion_model));
    double *d = ddsb_arena_alloc(a, sizeof(double) * (ci->d_count + 1));
    if (!o->distortion_model || !d)
        return IPCN_INSUFFICIENT_MEMORY;
    memcpy(d, ci->d, sizeof(double) * ci->d_count);
    o->d._buffer = d;
    o->d._length = o->d._maximum = ci->d_count;
    o->d._release = false;
    memcpy(o->k, ci->k, sizeof o->k);
    memcpy(o->r, ci->r, sizeof o->r);
    memcpy(o->p, ci->p, sizeof o->p);
    o->binning_x = ci->binning_x;
    o->binning_y = ci->binning_y;
    o->roi.x_offset = ci->roi_x_offset;
    o->roi.y_offset = ci->roi_y_offset;
    o->roi.height = ci->roi_height;
    o->roi.width = ci->roi_width;
    o->roi.do_rectify = ci->roi_do_rectify != 0;
    return IPCN_OK;
}

static int ci_from_dds(const sensor_msgs_msg_dds__CameraInfo_ *o,
                       ipcn_camera_info *ci)
{
    memset(ci, 0, sizeof *ci);
    int st = ddsb_header_from_dds(&o->header, &ci->header);
    if (st != IPCN_OK)
        return st;
    const char *m = o->distortion_model ? o->distortion_model : "";
    if (strlen(m) > IPCN_CAMERA_MODEL_MAX || o->d._length > IPCN_CAMERA_MAX_D)
        return IPCN_NOT_IMPLEMENTED;
    strcpy(ci->distortion_model, m);
    ci->height = o->height;
    ci->width = o->width;
    ci->d_count = o->d._length;
    if (o->d._length)
        memcpy(ci->d, o->d._buffer, sizeof(double) * o->d._length);
    memcpy(ci->k, o->k, sizeof ci->k);
    memcpy(ci->r, o->r, sizeof ci->r);
    memcpy(ci->p, o->p, sizeof ci->p);
    ci->binning_x = o->binning_x;
    ci->binning_y = o->binning_y;
    ci->roi_x_offset = o->roi.x_offset;
    ci->roi_y_offset = o->roi.y_offset;
    ci->roi_height = o->roi.height;
    ci->roi_width = o->roi.width;
    ci->roi_do_rectify = o->roi.do_rectify;
    return IPCN_OK;
}

int ddsb_caminfo_to_dds(const void *buf, size_t len, const char *enc, void *s,
                        ddsb_arena *a)
{
    ipcn_camera_info ci;
    int st = ipcn_camera_info_decode(buf, len, &ci);
    return st != IPCN_OK ? st : ci_to_dds(&ci, s, a);
}

static int ci_enc(ipcn_cbor_writer *w, const void *arg)
{
    return ipcn_camera_info_encode(w, arg);
}

int ddsb_caminfo_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    ipcn_camera_info ci;
    int st = ci_from_dds(s, &ci);
    return st != IPCN_OK ? st : ddsb_encode_alloc(ci_enc, &ci, out, len);
}

/* ---- Image -------------------------------------------------------- */

int ddsb_image_to_dds(const void *buf, size_t len, const char *enc, void *s,
                      ddsb_arena *a)
{
    sensor_msgs_msg_dds__Image_ *o = s;
    ipcn_image img;
    int st = ipcn_image_decode(buf, len, &img);
    if (st != IPCN_OK)
        return st;
    int st2 = ddsb_header_to_dds(&img.header, &o->header, a);
    if (st2 != IPCN_OK)
        return st2;
    size_t es = ipcn_dtype_size(img.pixels.dtype);
    size_t row = (size_t)img.width * img.channels * es;
    if (row > UINT32_MAX || row * img.height > UINT32_MAX)
        return IPCN_NOT_IMPLEMENTED;
    o->height = img.height;
    o->width = img.width;
    o->encoding = ddsb_arena_strndup(a, img.encoding, strlen(img.encoding));
    if (!o->encoding)
        return IPCN_INSUFFICIENT_MEMORY;
    o->is_bigendian = es > 1 && img.pixels.order == IPCN_ORDER_BIG;
    o->step = (uint32_t)row;
    /* the decoded view is row-major and contiguous: the pixels as they
     * lie in the IPCNet message */
    o->data._buffer = (uint8_t *)img.pixels.data;
    o->data._length = o->data._maximum = (uint32_t)(row * img.height);
    o->data._release = false;
    return IPCN_OK;
}


int ddsb_image_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    const sensor_msgs_msg_dds__Image_ *o = s;
    ipcn_image *im = calloc(1, sizeof *im);
    if (!im)
        return IPCN_INSUFFICIENT_MEMORY;
    int st = IPCN_NOT_IMPLEMENTED;
    ipcn_dtype dt;
    uint32_t ch;
    if (!o->encoding || ipcn_image_format(o->encoding, &dt, &ch) != IPCN_OK)
        goto out;
    size_t es = ipcn_dtype_size(dt);
    size_t row = (size_t)o->width * ch * es;
    st = IPCN_BAD_REQUEST;
    if (o->height == 0 || o->width == 0 || o->step < row || o->step % es ||
        (uint64_t)o->step * o->height > o->data._length)
        goto out;
    st = ipcn_image_init(im, o->encoding, o->height, o->width, o->data._buffer);
    if (st != IPCN_OK)
        goto out;
    st = ddsb_header_from_dds(&o->header, &im->header);
    if (st != IPCN_OK)
        goto out;
    /* rows of step bytes (padding skipped), in the sample's byte order */
    im->pixels.strides[0] = (int64_t)(o->step / es);
    if (es > 1)
        im->pixels.order = o->is_bigendian ? IPCN_ORDER_BIG : IPCN_ORDER_LITTLE;
    size_t n = 0;
    st = ipcn_image_encode(NULL, 0, im, &n, NULL);
    if (st != IPCN_INSUFFICIENT_STORAGE && st != IPCN_OK)
        goto out;
    *out = malloc(n);
    st = IPCN_INSUFFICIENT_MEMORY;
    if (!*out)
        goto out;
    st = ipcn_image_encode(*out, n, im, len, NULL);
    if (st != IPCN_OK) {
        free(*out);
        *out = NULL;
    }
out:
    free(im);
    return st;
}

/* ---- Imu ---------------------------------------------------------- */

int ddsb_imu_to_dds(const void *buf, size_t len, const char *enc, void *s,
                    ddsb_arena *a)
{
    sensor_msgs_msg_dds__Imu_ *o = s;
    ipcn_imu m;
    int st = ipcn_imu_decode(buf, len, &m);
    if (st != IPCN_OK)
        return st;
    st = ddsb_header_to_dds(&m.header, &o->header, a);
    o->orientation.x = m.orientation[0];
    o->orientation.y = m.orientation[1];
    o->orientation.z = m.orientation[2];
    o->orientation.w = m.orientation[3];
    memcpy(o->orientation_covariance, m.orientation_covariance, 9 * sizeof(double));
    o->angular_velocity.x = m.angular_velocity[0];
    o->angular_velocity.y = m.angular_velocity[1];
    o->angular_velocity.z = m.angular_velocity[2];
    memcpy(o->angular_velocity_covariance, m.angular_velocity_covariance, 9 * sizeof(double));
    o->linear_acceleration.x = m.linear_acceleration[0];
    o->linear_acceleration.y = m.linear_acceleration[1];
    o->linear_acceleration.z = m.linear_acceleration[2];
    memcpy(o->linear_acceleration_covariance, m.linear_acceleration_covariance,
           9 * sizeof(double));
    return st;
}

static int imu_enc(ipcn_cbor_writer *w, const void *arg)
{
    return ipcn_imu_encode(w, arg);
}

int ddsb_imu_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    const sensor_msgs_msg_dds__Imu_ *o = s;
    ipcn_imu m;
    memset(&m, 0, sizeof m);
    int st = ddsb_header_from_dds(&o->header, &m.header);
    if (st != IPCN_OK)
        return st;
    m.orientation[0] = o->orientation.x;
    m.orientation[1] = o->orientation.y;
    m.orientation[2] = o->orientation.z;
    m.orientation[3] = o->orientation.w;
    memcpy(m.orientation_covariance, o->orientation_covariance, 9 * sizeof(double));
    m.angular_velocity[0] = o->angular_velocity.x;
    m.angular_velocity[1] = o->angular_velocity.y;
    m.angular_velocity[2] = o->angular_velocity.z;
    memcpy(m.angular_velocity_covariance, o->angular_velocity_covariance, 9 * sizeof(double));
    m.linear_acceleration[0] = o->linear_acceleration.x;
    m.linear_acceleration[1] = o->linear_acceleration.y;
    m.linear_acceleration[2] = o->linear_acceleration.z;
    memcpy(m.linear_acceleration_covariance, o->linear_acceleration_covariance,
           9 * sizeof(double));
    return ddsb_encode_alloc(imu_enc, &m, out, len);
}

/* ---- JointState ----------------------------------------------------- */

int ddsb_joint_to_dds(const void *buf, size_t len, const char *enc, void *s,
                      ddsb_arena *a)
{
    sensor_msgs_msg_dds__JointState_ *o = s;
    ipcn_joint_state js;
    memset(&js, 0, sizeof js);
    int st = ipcn_joint_state_decode(buf, len, &js);
    if (st != IPCN_OK && st != IPCN_INSUFFICIENT_STORAGE)
        return st;
    size_t n = js.count;
    js.cap = n;
    js.name = ddsb_arena_alloc(a, (n + 1) * sizeof *js.name);
    js.position = ddsb_arena_alloc(a, (n + 1) * sizeof(double));
    js.velocity = ddsb_arena_alloc(a, (n + 1) * sizeof(double));
    js.effort = ddsb_arena_alloc(a, (n + 1) * sizeof(double));
    char **names = ddsb_arena_alloc(a, (n + 1) * sizeof(char *));
    if (!js.name || !js.position || !js.velocity || !js.effort || !names)
        return IPCN_INSUFFICIENT_MEMORY;
    st = ipcn_joint_state_decode(buf, len, &js);
    if (st != IPCN_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        /* a DDS string ends at its first NUL: such a name would arrive cut
         * short (the other strings, frame id, encodings, field names, are
         * refused with a NUL by IPCNet's decoders already) */
        if (memchr(js.name[i].ptr, 0, js.name[i].len))
            return IPCN_BAD_REQUEST;
        names[i] = ddsb_arena_strndup(a, js.name[i].ptr, js.name[i].len);
        if (!names[i])
            return IPCN_INSUFFICIENT_MEMORY;
    }
    st = ddsb_header_to_dds(&js.header, &o->header, a);
    o->name._buffer = names;
    o->name._length = o->name._maximum = (uint32_t)n;
    o->position._buffer = js.position;
    o->position._length = o->position._maximum = js.has_position ? (uint32_t)n : 0;
    o->velocity._buffer = js.velocity;
    o->velocity._length = o->velocity._maximum = js.has_velocity ? (uint32_t)n : 0;
    o->effort._buffer = js.effort;
    o->effort._length = o->effort._maximum = js.has_effort ? (uint32_t)n : 0;
    return st;
}

typedef struct js_arg {
    ipcn_sensor_header h;
    const sensor_msgs_msg_dds__JointState_ *o;
} js_arg;

static int js_enc(ipcn_cbor_writer *w, const void *arg)
{
    const js_arg *j = arg;
    const sensor_msgs_msg_dds__JointState_ *o = j->o;
    return ipcn_joint_state_encode(w, &j->h, o->name._length,
                                   (const char *const *)o->name._buffer,
                                   o->position._length ? o->position._buffer : NULL,
                                   o->velocity._length ? o->velocity._buffer : NULL,
                                   o->effort._length ? o->effort._buffer : NULL);
}

int ddsb_joint_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    const sensor_msgs_msg_dds__JointState_ *o = s;
    uint32_t n = o->name._length;
    if ((o->position._length && o->position._length != n) ||
        (o->velocity._length && o->velocity._length != n) ||
        (o->effort._length && o->effort._length != n))
        return IPCN_BAD_REQUEST;
    js_arg j;
    j.o = o;
    int st = ddsb_header_from_dds(&o->header, &j.h);
    return st != IPCN_OK ? st : ddsb_encode_alloc(js_enc, &j, out, len);
}

/* ---- PointCloud2 ---------------------------------------------------- */

/* PointField datatype numbers (sensor_msgs/PointField) <-> ipcn_dtype. */
static const ipcn_dtype PF_DTYPE[9] = {
    IPCN_DTYPE_INVALID, IPCN_DTYPE_INT8, IPCN_DTYPE_UINT8, IPCN_DTYPE_INT16,
    IPCN_DTYPE_UINT16, IPCN_DTYPE_INT32, IPCN_DTYPE_UINT32, IPCN_DTYPE_FLOAT32,
    IPCN_DTYPE_FLOAT64};

int ddsb_cloud_to_dds(const void *buf, size_t len, const char *enc, void *s,
                      ddsb_arena *a)
{
    sensor_msgs_msg_dds__PointCloud2_ *o = s;
    ipcn_pointcloud *pc = ddsb_arena_alloc(a, sizeof *pc);
    if (!pc)
        return IPCN_INSUFFICIENT_MEMORY;
    int st = ipcn_pointcloud_decode(buf, len, pc);
    if (st != IPCN_OK)
        return st;
    st = ddsb_header_to_dds(&pc->header, &o->header, a);
    if (st != IPCN_OK)
        return st;
    sensor_msgs_msg_dds__PointField_ *f =
        ddsb_arena_alloc(a, (pc->nfields + 1) * sizeof *f);
    if (!f)
        return IPCN_INSUFFICIENT_MEMORY;
    for (uint32_t i = 0; i < pc->nfields; i++) {
        f[i].name = ddsb_arena_strndup(a, pc->fields[i].name, strlen(pc->fields[i].name));
        if (!f[i].name)
            return IPCN_INSUFFICIENT_MEMORY;
        f[i].offset = pc->fields[i].offset;
        f[i].count = pc->fields[i].count;
        f[i].datatype = 0;
        for (uint8_t k = 1; k < 9; k++)
            if (PF_DTYPE[k] == pc->fields[i].datatype)
                f[i].datatype = k;
        if (!f[i].datatype)
            return IPCN_NOT_IMPLEMENTED;
    }
    if (pc->data_len > UINT32_MAX)
        return IPCN_NOT_IMPLEMENTED;
    o->height = pc->height;
    o->width = pc->width;
    o->fields._buffer = f;
    o->fields._length = o->fields._maximum = pc->nfields;
    o->is_bigendian = pc->is_bigendian != 0;
    o->point_step = pc->point_step;
    o->row_step = pc->width * pc->point_step;
    o->data._buffer = (uint8_t *)pc->data;
    o->data._length = o->data._maximum = (uint32_t)pc->data_len;
    o->is_dense = pc->is_dense != 0;
    return IPCN_OK;
}

int ddsb_cloud_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    const sensor_msgs_msg_dds__PointCloud2_ *o = s;
    ipcn_pointcloud *pc = calloc(1, sizeof *pc);
    if (!pc)
        return IPCN_INSUFFICIENT_MEMORY;
    int st = ddsb_header_from_dds(&o->header, &pc->header);
    if (st != IPCN_OK)
        goto out;
    st = IPCN_NOT_IMPLEMENTED;
    /* IPCNet's rows are packed: a row_step with padding is not carried */
    if (o->fields._length > IPCN_POINT_MAX_FIELDS ||
        (uint64_t)o->row_step != (uint64_t)o->width * o->point_step)
        goto out;
    st = IPCN_BAD_REQUEST;
    if ((uint64_t)o->row_step * o->height != o->data._length)
        goto out;
    pc->height = o->height;
    pc->width = o->width;
    pc->point_step = o->point_step;
    pc->nfields = o->fields._length;
    for (uint32_t i = 0; i < pc->nfields; i++) {
        const sensor_msgs_msg_dds__PointField_ *f = &o->fields._buffer[i];
        if (!f->name || strlen(f->name) > IPCN_POINT_NAME_MAX || f->datatype < 1 ||
            f->datatype > 8)
            goto out;
        strcpy(pc->fields[i].name, f->name);
        pc->fields[i].offset = f->offset;
        pc->fields[i].count = f->count;
        pc->fields[i].datatype = PF_DTYPE[f->datatype];
    }
    pc->is_bigendian = o->is_bigendian;
    pc->is_dense = o->is_dense;
    pc->data = o->data._buffer;
    pc->data_len = o->data._length;
    size_t n = 0;
    st = ipcn_pointcloud_encode(NULL, 0, pc, &n, NULL);
    if (st != IPCN_INSUFFICIENT_STORAGE && st != IPCN_OK)
        goto out;
    st = IPCN_INSUFFICIENT_MEMORY;
    *out = malloc(n);
    if (!*out)
        goto out;
    st = ipcn_pointcloud_encode(*out, n, pc, len, NULL);
    if (st != IPCN_OK) {
        free(*out);
        *out = NULL;
    }
out:
    free(pc);
    return st;
}
