/* SPDX-License-Identifier: MIT */
/*
 * sensor_msgs.c — point clouds, IMU readings and joint states as IPCNet
 * values (docs/protocol.md, "Sensor messages"; ROS's sensor_msgs/
 * PointCloud2, Imu and JointState): their maps written, and read back from
 * outside input with every value checked.
 */
#include <string.h>

#include "media/sensor.h"
#include "util/util.h"

#define MAX_SIDE 0x7fffffffu

/* ------------------------------------------------------------------ */
/* Point clouds                                                         */
/* ------------------------------------------------------------------ */

/* ROS's PointField datatypes, by the dtype names IPCNet writes. */
static int point_dtype_ok(ipcn_dtype d)
{
    switch (d) {
    case IPCN_DTYPE_INT8:
    case IPCN_DTYPE_UINT8:
    case IPCN_DTYPE_INT16:
    case IPCN_DTYPE_UINT16:
    case IPCN_DTYPE_INT32:
    case IPCN_DTYPE_UINT32:
    case IPCN_DTYPE_FLOAT32:
    case IPCN_DTYPE_FLOAT64:
        return 1;
    default:
        return 0;
    }
}

/* Fields and sizes of pc, its data aside: 100 or 200; *bytes the size of
 * its data. */
static int pointcloud_check(const ipcn_pointcloud *pc, uint64_t *bytes)
{
    if (pc->height > MAX_SIDE || pc->width > MAX_SIDE || pc->point_step == 0 ||
        pc->point_step > MAX_SIDE || pc->nfields == 0 || pc->nfields > IPCN_POINT_MAX_FIELDS ||
        !ipcn__s_cstr_ok(pc->header.frame_id, sizeof pc->header.frame_id))
        return IPCN_BAD_REQUEST;
    for (uint32_t i = 0; i < pc->nfields; i++) {
        const ipcn_point_field *f = &pc->fields[i];
        if (!ipcn__s_cstr_ok(f->name, sizeof f->name) || !f->name[0] ||
            !point_dtype_ok(f->datatype) || f->count == 0 ||
            (uint64_t)f->offset + (uint64_t)f->count * ipcn_dtype_size(f->datatype) >
                pc->point_step)
            return IPCN_BAD_REQUEST;
    }
    uint64_t n = (uint64_t)pc->height * pc->width, b;
    if (__builtin_mul_overflow(n, pc->point_step, &b) || b > SIZE_MAX)
        return IPCN_BAD_REQUEST;
    *bytes = b;
    return IPCN_OK;
}

static int pointcloud_fields(ipcn_cbor_writer *w, const void *ctx)
{
    const ipcn_pointcloud *pc = ctx;
    if (ipcn__s_put_header(w, &pc->header) == IPCN_BAD_REQUEST)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_put_cstr(w, "fields");
    ipcn_cbor_put_array(w, pc->nfields);
    for (uint32_t i = 0; i < pc->nfields; i++) {
        const ipcn_point_field *f = &pc->fields[i];
        ipcn_cbor_put_map(w, 4);
        ipcn_cbor_put_cstr(w, "name");
        ipcn_cbor_put_cstr(w, f->name);
        ipcn_cbor_put_cstr(w, "offset");
        ipcn_cbor_put_uint(w, f->offset);
        ipcn_cbor_put_cstr(w, "datatype");
        ipcn_cbor_put_cstr(w, ipcn_dtype_name(f->datatype));
        ipcn_cbor_put_cstr(w, "count");
        ipcn_cbor_put_uint(w, f->count);
    }
    ipcn_cbor_put_cstr(w, "is_bigendian");
    ipcn_cbor_put_bool(w, pc->is_bigendian);
    ipcn_cbor_put_cstr(w, "is_dense");
    return ipcn_cbor_put_bool(w, pc->is_dense);
}

int ipcn_pointcloud_encode(void *buf, size_t cap, const ipcn_pointcloud *pc,
                           size_t *len, void **data_out)
{
    uint64_t bytes;
    if (!pc || pointcloud_check(pc, &bytes) != IPCN_OK || (pc->data && pc->data_len != bytes))
        return IPCN_BAD_REQUEST;
    int64_t shape[3] = {pc->height, pc->width, pc->point_step};
    ipcn_tensor t;
    if (ipcn_tensor_init(&t, IPCN_DTYPE_UINT8, 3, shape, pc->data ? pc->data : (const void *)pc) !=
        IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!pc->data)
        t.data = NULL;
    return ipcn__s_encode_aligned(buf, cap, 5, pointcloud_fields, pc, &t, len, data_out);
}

/* One field map of "fields". */
static int read_field(ipcn_cbor_reader *r, ipcn_point_field *f)
{
    ipcn__smap m;
    ipcn_strview key;
    unsigned seen = 0;
    int st;
    char dtype[16];
    uint64_t u = 0;
    if (ipcn__s_map_open(r, &m) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    memset(f, 0, sizeof *f);
    while ((st = ipcn__s_map_key(r, &m, &key)) == IPCN_OK) {
        if (ipcn__s_key_is(key, "name"))
            st = ipcn__s_once(&seen, 0) == IPCN_OK
                     ? ipcn__s_text_copy(r, f->name, sizeof f->name) : IPCN_BAD_REQUEST;
        else if (ipcn__s_key_is(key, "offset"))
            st = ipcn__s_once(&seen, 1) == IPCN_OK ? ipcn__s_uint(r, UINT32_MAX, &u)
                                                   : IPCN_BAD_REQUEST;
        else if (ipcn__s_key_is(key, "datatype"))
            st = ipcn__s_once(&seen, 2) == IPCN_OK ? ipcn__s_text_copy(r, dtype, sizeof dtype)
                                                   : IPCN_BAD_REQUEST;
        else if (ipcn__s_key_is(key, "count"))
            st = ipcn__s_once(&seen, 3) == IPCN_OK ? ipcn__s_uint(r, UINT32_MAX, &u)
                                                   : IPCN_BAD_REQUEST;
        else
            st = ipcn_cbor_skip(r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
        if (ipcn__s_key_is(key, "offset"))
            f->offset = (uint32_t)u;
        else if (ipcn__s_key_is(key, "count"))
            f->count = (uint32_t)u;
    }
    if (st != IPCN_NO_DATA || seen != 0xf)
        return IPCN_BAD_REQUEST;
    f->datatype = ipcn_dtype_from_name(dtype);
    return IPCN_OK; /* checked with the rest of the cloud */
}

static int read_fields(ipcn_cbor_reader *r, ipcn_pointcloud *pc)
{
    ipcn_cbor_value v;
    if (ipcn_cbor_next(r, &v) != IPCN_OK || v.type != IPCN_CBOR_ARRAY || v.indefinite ||
        v.count == 0 || v.count > IPCN_POINT_MAX_FIELDS)
        return IPCN_BAD_REQUEST;
    for (uint64_t i = 0; i < v.count; i++)
        if (read_field(r, &pc->fields[i]) != IPCN_OK)
            return IPCN_BAD_REQUEST;
    pc->nfields = (uint32_t)v.count;
    return IPCN_OK;
}

enum { PC_FIELDS = 2, PC_BIGENDIAN, PC_DENSE, PC_DATA };

int ipcn_pointcloud_decode(const void *buf, size_t len, ipcn_pointcloud *out)
{
    ipcn_cbor_reader r;
    ipcn__smap m;
    ipcn_strview key;
    unsigned seen = 0;
    int st, data_st = IPCN_OK;
    if (!out || ipcn_cbor_reader_init(&r, buf, len, 0) != IPCN_OK ||
        ipcn__s_map_open(&r, &m) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_pointcloud pc;
    memset(&pc, 0, sizeof pc);
    ipcn_tensor t;
    memset(&t, 0, sizeof t);
    while ((st = ipcn__s_map_key(&r, &m, &key)) == IPCN_OK) {
        st = ipcn__s_header_key(&r, key, &pc.header, &seen);
        if (st != IPCN_NOT_FOUND) {
            /* a header key, read */
        } else if (ipcn__s_key_is(key, "fields"))
            st = ipcn__s_once(&seen, PC_FIELDS) == IPCN_OK ? read_fields(&r, &pc)
                                                           : IPCN_BAD_REQUEST;
        else if (ipcn__s_key_is(key, "is_bigendian"))
            st = ipcn__s_once(&seen, PC_BIGENDIAN) == IPCN_OK ? ipcn__s_bool(&r, &pc.is_bigendian)
                                                              : IPCN_BAD_REQUEST;
        else if (ipcn__s_key_is(key, "is_dense"))
            st = ipcn__s_once(&seen, PC_DENSE) == IPCN_OK ? ipcn__s_bool(&r, &pc.is_dense)
                                                          : IPCN_BAD_REQUEST;
        else if (ipcn__s_key_is(key, "data"))
            st = ipcn__s_once(&seen, PC_DATA) == IPCN_OK ? (data_st = ipcn_tensor_read(&r, &t))
                                                         : IPCN_BAD_REQUEST;
        else
            st = ipcn_cbor_skip(&r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
        if (st != IPCN_OK)
            return data_st == IPCN_NOT_IMPLEMENTED ? IPCN_NOT_IMPLEMENTED : IPCN_BAD_REQUEST;
    }
    if (st != IPCN_NO_DATA || ipcn__s_end(&r) != IPCN_OK || !(seen & 1u << PC_FIELDS) ||
        !(seen & 1u << PC_DATA))
        return IPCN_BAD_REQUEST;
    if (t.dtype != IPCN_DTYPE_UINT8 || t.ndim != 3 || !ipcn_tensor_is_contiguous(&t) ||
        t.shape[0] > MAX_SIDE || t.shape[1] > MAX_SIDE || t.shape[2] > MAX_SIDE)
        return IPCN_BAD_REQUEST;
    pc.height = (uint32_t)t.shape[0];
    pc.width = (uint32_t)t.shape[1];
    pc.point_step = (uint32_t)t.shape[2];
    uint64_t bytes;
    if (pointcloud_check(&pc, &bytes) != IPCN_OK || bytes != t.size)
        return IPCN_BAD_REQUEST;
    pc.data = t.data;
    pc.data_len = t.size;
    *out = pc;
    return IPCN_OK;
}

const ipcn_point_field *ipcn_pointcloud_field(const ipcn_pointcloud *pc, const char *name)
{
    if (!pc || !name)
        return NULL;
    for (uint32_t i = 0; i < pc->nfields && i < IPCN_POINT_MAX_FIELDS; i++)
        if (!strcmp(pc->fields[i].name, name))
            return &pc->fields[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* IMU                                                                  */
/* ------------------------------------------------------------------ */

/* The arrays of an imu map, in the order of seen's bits (from bit 2). */
#define IMU_ARRAYS 6
static const char *const imu_keys[IMU_ARRAYS] = {
    "orientation",         "orientation_covariance",         "angular_velocity",
    "angular_velocity_covariance", "linear_acceleration", "linear_acceleration_covariance",
};
static const size_t imu_lens[IMU_ARRAYS] = {4, 9, 3, 9, 3, 9};

static double *imu_array(ipcn_imu *imu, unsigned i)
{
    double *a[IMU_ARRAYS] = {imu->orientation,         imu->orientation_covariance,
                             imu->angular_velocity,    imu->angular_velocity_covariance,
                             imu->linear_acceleration, imu->linear_acceleration_covariance};
    return a[i];
}

int ipcn_imu_encode(ipcn_cbor_writer *w, const ipcn_imu *imu)
{
    if (!w || !imu)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_put_map(w, 2 + IMU_ARRAYS);
    if (ipcn__s_put_header(w, &imu->header) == IPCN_BAD_REQUEST)
        return IPCN_BAD_REQUEST;
    for (unsigned i = 0; i < IMU_ARRAYS; i++)
        ipcn__s_put_numbers(w, imu_keys[i], imu_array((ipcn_imu *)imu, i), imu_lens[i]);
    return w->status;
}

int ipcn_imu_decode(const void *buf, size_t len, ipcn_imu *out)
{
    ipcn_cbor_reader r;
    ipcn__smap m;
    ipcn_strview key;
    unsigned seen = 0;
    int st;
    if (!out || ipcn_cbor_reader_init(&r, buf, len, 0) != IPCN_OK ||
        ipcn__s_map_open(&r, &m) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_imu imu;
    memset(&imu, 0, sizeof imu);
    while ((st = ipcn__s_map_key(&r, &m, &key)) == IPCN_OK) {
        st = ipcn__s_header_key(&r, key, &imu.header, &seen);
        if (st == IPCN_NOT_FOUND) {
            unsigned i = 0;
            while (i < IMU_ARRAYS && !ipcn__s_key_is(key, imu_keys[i]))
                i++;
            if (i == IMU_ARRAYS)
                st = ipcn_cbor_skip(&r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
            else if (ipcn__s_once(&seen, 2 + i) != IPCN_OK)
                st = IPCN_BAD_REQUEST;
            else
                st = ipcn__s_numbers_n(&r, imu_array(&imu, i), imu_lens[i]);
        }
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
    }
    /* orientation, angular_velocity, linear_acceleration: bits 2, 4, 6 */
    if (st != IPCN_NO_DATA || ipcn__s_end(&r) != IPCN_OK || (seen & 0x54u) != 0x54u)
        return IPCN_BAD_REQUEST;
    *out = imu;
    return IPCN_OK;
}

/* ------------------------------------------------------------------ */
/* Joint states                                                         */
/* ------------------------------------------------------------------ */

static const char *const joint_arrays[3] = {"position", "velocity", "effort"};

int ipcn_joint_state_encode(ipcn_cbor_writer *w, const ipcn_sensor_header *h, size_t count,
                            const char *const *name, const double *position,
                            const double *velocity, const double *effort)
{
    if (!w || !h || count > IPCN_JOINT_MAX || (count && !name))
        return IPCN_BAD_REQUEST;
    for (size_t i = 0; i < count; i++)
        if (!name[i] || !name[i][0] || !ipcn__s_cstr_ok(name[i], IPCN_JOINT_NAME_MAX + 1))
            return IPCN_BAD_REQUEST;
    ipcn_cbor_put_map(w, 6);
    if (ipcn__s_put_header(w, h) == IPCN_BAD_REQUEST)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_put_cstr(w, "name");
    ipcn_cbor_put_array(w, count);
    for (size_t i = 0; i < count; i++)
        ipcn_cbor_put_cstr(w, name[i]);
    const double *v[3] = {position, velocity, effort};
    for (unsigned k = 0; k < 3; k++)
        ipcn__s_put_numbers(w, joint_arrays[k], v[k], v[k] ? count : 0);
    return w->status;
}

/* The names: an array of 0..IPCN_JOINT_MAX texts, into names (NULL:
 * only checked and counted). */
static int read_names(ipcn_cbor_reader *r, ipcn_strview *names, size_t *count)
{
    ipcn_cbor_value v;
    if (ipcn_cbor_next(r, &v) != IPCN_OK || v.type != IPCN_CBOR_ARRAY || v.indefinite ||
        v.count > IPCN_JOINT_MAX)
        return IPCN_BAD_REQUEST;
    for (uint64_t i = 0; i < v.count; i++) {
        ipcn_strview s;
        if (ipcn__s_text(r, &s) != IPCN_OK || s.len == 0 || s.len > IPCN_JOINT_NAME_MAX)
            return IPCN_BAD_REQUEST;
        if (names)
            names[i] = s;
    }
    *count = (size_t)v.count;
    return IPCN_OK;
}

/* One walk over a joint_state map.  First (fill 0): check everything and
 * count, into *h, *count and n[]; then (fill 1, on a message that checked
 * out and fits): the names and values into js's arrays. */
static int joint_walk(const void *buf, size_t len, int fill, ipcn_joint_state *js,
                      ipcn_sensor_header *h, size_t *count, size_t n[3])
{
    ipcn_cbor_reader r;
    ipcn__smap m;
    ipcn_strview key;
    unsigned seen = 0;
    int st;
    double *dst[3] = {js->position, js->velocity, js->effort};
    if (ipcn_cbor_reader_init(&r, buf, len, 0) != IPCN_OK || ipcn__s_map_open(&r, &m) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    while ((st = ipcn__s_map_key(&r, &m, &key)) == IPCN_OK) {
        st = ipcn__s_header_key(&r, key, h, &seen);
        if (st != IPCN_NOT_FOUND)
            goto next;
        if (ipcn__s_key_is(key, "name")) {
            st = ipcn__s_once(&seen, 2) == IPCN_OK
                     ? read_names(&r, fill ? js->name : NULL, count) : IPCN_BAD_REQUEST;
            goto next;
        }
        unsigned k = 0;
        while (k < 3 && !ipcn__s_key_is(key, joint_arrays[k]))
            k++;
        if (k == 3)
            st = ipcn_cbor_skip(&r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
        else if (ipcn__s_once(&seen, 3 + k) != IPCN_OK)
            st = IPCN_BAD_REQUEST;
        else
            st = ipcn__s_numbers(&r, fill ? dst[k] : NULL, IPCN_JOINT_MAX, &n[k]);
    next:
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
    }
    if (st != IPCN_NO_DATA || ipcn__s_end(&r) != IPCN_OK || !(seen & 1u << 2))
        return IPCN_BAD_REQUEST;
    return IPCN_OK;
}

int ipcn_joint_state_decode(const void *buf, size_t len, ipcn_joint_state *js)
{
    ipcn_sensor_header h;
    size_t count = 0, n[3] = {0, 0, 0};
    if (!js)
        return IPCN_BAD_REQUEST;
    memset(&h, 0, sizeof h);
    if (joint_walk(buf, len, 0, js, &h, &count, n) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    for (unsigned k = 0; k < 3; k++)
        if (n[k] != 0 && n[k] != count)
            return IPCN_BAD_REQUEST;
    if (count > js->cap) {
        js->count = count;
        return IPCN_INSUFFICIENT_STORAGE;
    }
    if (joint_walk(buf, len, 1, js, &h, &count, n) != IPCN_OK)
        return IPCN_INTERNAL_ERROR; /* it checked out the first time */
    js->header = h;
    js->count = count;
    js->has_position = n[0] != 0;
    js->has_velocity = n[1] != 0;
    js->has_effort = n[2] != 0;
    return IPCN_OK;
}
