/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/dds_map.c - IPCNet values <-> ROS 2 samples (dds_map.h).
 * The sensor messages go through the library's own codecs
 * (ipcnet_sensor.h), so that a field crosses exactly as the table of
 * docs/protocol.md 10.4 says; the pixels and point records of a sample
 * written to DDS point into the IPCNet message (no copy before the
 * writer serializes them).
 */
#include "dds_map.h"
#include "dds_map_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipcnet.h"
#include "ipcnet_sensor.h"
#include "ipcnet_value.h"
#include "ipcnet_msgs.h"
#include "ros2_msgs.h"

/* ---- arena ------------------------------------------------------ */

void *ddsb_arena_alloc(ddsb_arena *a, size_t n)
{
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        void **b = realloc(a->blocks, cap * sizeof *b);
        if (!b)
            return NULL;
        a->blocks = b;
        a->cap = cap;
    }
    void *p = calloc(1, n ? n : 1);
    if (p)
        a->blocks[a->count++] = p;
    return p;
}

char *ddsb_arena_strndup(ddsb_arena *a, const char *s, size_t n)
{
    char *p = ddsb_arena_alloc(a, n + 1);
    if (p && n)
        memcpy(p, s, n);
    return p;
}

void ddsb_arena_free(ddsb_arena *a)
{
    for (size_t i = 0; i < a->count; i++)
        free(a->blocks[i]);
    free(a->blocks);
    memset(a, 0, sizeof *a);
}

/* ---- helpers ---------------------------------------------------- */

/* Encode with fn twice: measure, then write into a buffer of that size. */
int ddsb_encode_alloc(ddsb_enc_fn fn, const void *arg, uint8_t **out, size_t *len)
{
    ipcn_cbor_writer w;
    size_t n = 0;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    int st = fn(&w, arg);
    if (st != IPCN_OK && st != IPCN_INSUFFICIENT_STORAGE)
        return st;
    st = ipcn_cbor_writer_finish(&w, &n);
    if (st != IPCN_OK && st != IPCN_INSUFFICIENT_STORAGE)
        return st;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn_cbor_writer_init(&w, buf, n, 0);
    st = fn(&w, arg);
    if (st == IPCN_OK)
        st = ipcn_cbor_writer_finish(&w, len);
    if (st != IPCN_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return IPCN_OK;
}

int ddsb_header_to_dds(const ipcn_sensor_header *h,
                       struct std_msgs_msg_dds__Header_ *o, ddsb_arena *a)
{
    uint64_t sec = h->stamp_ns / 1000000000u;
    if (sec > INT32_MAX)
        return IPCN_NOT_IMPLEMENTED; /* after 2038: no ROS 2 Time (int32) */
    o->stamp.sec = (int32_t)sec;
    o->stamp.nanosec = (uint32_t)(h->stamp_ns % 1000000000u);
    o->frame_id = ddsb_arena_strndup(a, h->frame_id, strlen(h->frame_id));
    return o->frame_id ? IPCN_OK : IPCN_INSUFFICIENT_MEMORY;
}

int ddsb_header_from_dds(const struct std_msgs_msg_dds__Header_ *o,
                         ipcn_sensor_header *h)
{
    if (o->stamp.sec < 0 || o->stamp.nanosec >= 1000000000u)
        return IPCN_NOT_IMPLEMENTED; /* before 1970: no IPCNet stamp */
    uint64_t ns = (uint64_t)o->stamp.sec * 1000000000u + o->stamp.nanosec;
    int st = ipcn_sensor_header_set(h, ns, o->frame_id ? o->frame_id : "");
    return st == IPCN_OK ? st : IPCN_NOT_IMPLEMENTED; /* a frame id too long */
}

static const char *nz(const char *s) { return s ? s : ""; }

/* ---- std_msgs/String and the numbers ----------------------------- */

static int string_to_dds(const void *buf, size_t len, const char *enc,
                         void *s, ddsb_arena *a)
{
    if (memchr(buf, 0, len))
        return IPCN_BAD_REQUEST; /* a DDS string holds no NUL */
    char *p = ddsb_arena_strndup(a, buf, len);
    if (!p)
        return IPCN_INSUFFICIENT_MEMORY;
    ((std_msgs_msg_dds__String_ *)s)->data = p;
    return IPCN_OK;
}

static int string_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    const char *d = nz(((const std_msgs_msg_dds__String_ *)s)->data);
    size_t n = strlen(d);
    *out = malloc(n + 1);
    if (!*out)
        return IPCN_INSUFFICIENT_MEMORY;
    memcpy(*out, d, n + 1);
    *len = n;
    return IPCN_OK;
}

/* One number type: its value at the offset of "data" (0 in every one). */
#define NUM_INT(NAME, CT, LO, HI)                                             \
    static int NAME##_to_dds(const void *buf, size_t len, const char *enc,   \
                             void *s, ddsb_arena *a)                          \
    {                                                                         \
        int64_t v;                                                            \
        int st = ipcn_cbor_map_get_int(buf, len, "", &v);                     \
        if (st != IPCN_OK)                                                    \
            return st == IPCN_INSUFFICIENT_STORAGE ? IPCN_NOT_IMPLEMENTED : st;\
        if (v < (int64_t)(LO) || v > (int64_t)(HI))                           \
            return IPCN_NOT_IMPLEMENTED;                                      \
        *(CT *)s = (CT)v;                                                     \
        return IPCN_OK;                                                       \
    }                                                                         \
    static int NAME##_to_ipcn(const void *s, uint8_t **out, size_t *len)      \
    {                                                                         \
        *out = malloc(16);                                                    \
        if (!*out)                                                            \
            return IPCN_INSUFFICIENT_MEMORY;                                  \
        return ipcn_cbor_build(*out, 16, len, "I", (int64_t) * (const CT *)s);\
    }
NUM_INT(i8, int8_t, INT8_MIN, INT8_MAX)
NUM_INT(u8, uint8_t, 0, UINT8_MAX)
NUM_INT(i16, int16_t, INT16_MIN, INT16_MAX)
NUM_INT(u16, uint16_t, 0, UINT16_MAX)
NUM_INT(i32, int32_t, INT32_MIN, INT32_MAX)
NUM_INT(u32, uint32_t, 0, UINT32_MAX)
NUM_INT(i64, int64_t, INT64_MIN, INT64_MAX)

static int u64_to_dds(const void *buf, size_t len, const char *enc, void *s,
                      ddsb_arena *a)
{
    uint64_t v;
    int st = ipcn_cbor_map_get_uint(buf, len, "", &v);
    if (st == IPCN_OK)
        *(uint64_t *)s = v;
    return st == IPCN_INSUFFICIENT_STORAGE ? IPCN_NOT_IMPLEMENTED : st;
}

static int u64_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    *out = malloc(16);
    if (!*out)
        return IPCN_INSUFFICIENT_MEMORY;
    return ipcn_cbor_build(*out, 16, len, "U", *(const uint64_t *)s);
}

static int bool_to_dds(const void *buf, size_t len, const char *enc, void *s,
                       ddsb_arena *a)
{
    int v;
    int st = ipcn_cbor_map_get_bool(buf, len, "", &v);
    if (st == IPCN_OK)
        *(bool *)s = v != 0;
    return st;
}

static int bool_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    *out = malloc(4);
    if (!*out)
        return IPCN_INSUFFICIENT_MEMORY;
    return ipcn_cbor_build(*out, 4, len, "b", (int)*(const bool *)s);
}

static int f64_to_dds(const void *buf, size_t len, const char *enc, void *s,
                      ddsb_arena *a)
{
    return ipcn_cbor_map_get_double(buf, len, "", (double *)s);
}

static int f64_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    *out = malloc(16);
    if (!*out)
        return IPCN_INSUFFICIENT_MEMORY;
    return ipcn_cbor_build(*out, 16, len, "f", *(const double *)s);
}

static int f32_to_dds(const void *buf, size_t len, const char *enc, void *s,
                      ddsb_arena *a)
{
    double v;
    int st = ipcn_cbor_map_get_double(buf, len, "", &v);
    if (st == IPCN_OK)
        *(float *)s = (float)v;
    return st;
}

static int f32_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    *out = malloc(16);
    if (!*out)
        return IPCN_INSUFFICIENT_MEMORY;
    return ipcn_cbor_build(*out, 16, len, "f", (double)*(const float *)s);
}

/* ---- geometry_msgs: CBOR maps of the field names ------------------- */

/* The doubles of a geometry type, in wire order, and their CBOR paths. */
static const char *const VEC3[] = {"x", "y", "z", NULL};
static const char *const QUAT[] = {"x", "y", "z", "w", NULL};
static const char *const POSE[] = {"position.x", "position.y", "position.z",
                                   "orientation.x", "orientation.y",
                                   "orientation.z", "orientation.w", NULL};
static const char *const TWIST[] = {"linear.x", "linear.y", "linear.z",
                                    "angular.x", "angular.y", "angular.z",
                                    NULL};

static int doubles_to_dds(const void *buf, size_t len,
                          const char *const *paths, double *o)
{
    for (size_t i = 0; paths[i]; i++) {
        int st = ipcn_cbor_map_get_double(buf, len, paths[i], &o[i]);
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
    }
    return IPCN_OK;
}

/* Writes {"a": {"x": .., ...}, ...} or {"x": .., ...} from paths. */
typedef struct dbl_arg {
    const char *const *paths;
    const double *v;
} dbl_arg;

static int doubles_enc(ipcn_cbor_writer *w, const void *arg)
{
    const dbl_arg *d = arg;
    size_t n = 0;
    while (d->paths[n])
        n++;
    const char *dot = strchr(d->paths[0], '.');
    if (!dot) {
        ipcn_cbor_put_map(w, n);
        for (size_t i = 0; i < n; i++) {
            ipcn_cbor_put_cstr(w, d->paths[i]);
            ipcn_cbor_put_float(w, d->v[i]);
        }
        return w->status;
    }
    /* two levels: consecutive paths sharing the part before the dot */
    size_t groups = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strncmp(d->paths[i], d->paths[i - 1],
                              (size_t)(strchr(d->paths[i], '.') - d->paths[i]) + 1))
            groups++;
    ipcn_cbor_put_map(w, groups);
    for (size_t i = 0; i < n;) {
        size_t klen = (size_t)(strchr(d->paths[i], '.') - d->paths[i]);
        size_t j = i;
        while (j < n && !strncmp(d->paths[j], d->paths[i], klen + 1))
            j++;
        ipcn_cbor_put_text(w, d->paths[i], klen);
        ipcn_cbor_put_map(w, j - i);
        for (size_t k = i; k < j; k++) {
            ipcn_cbor_put_cstr(w, d->paths[k] + klen + 1);
            ipcn_cbor_put_float(w, d->v[k]);
        }
        i = j;
    }
    return w->status;
}

/* The geometry structs are plain runs of doubles (final, all float64). */
#define GEOM(NAME, PATHS)                                                     \
    static int NAME##_to_dds(const void *buf, size_t len, const char *enc,   \
                             void *s, ddsb_arena *a)                          \
    {                                                                         \
        return doubles_to_dds(buf, len, PATHS, (double *)s);                  \
    }                                                                         \
    static int NAME##_to_ipcn(const void *s, uint8_t **out, size_t *len)      \
    {                                                                         \
        dbl_arg d = {PATHS, (const double *)s};                               \
        return ddsb_encode_alloc(doubles_enc, &d, out, len);                       \
    }
GEOM(vec3, VEC3)
GEOM(quat, QUAT)
GEOM(pose, POSE)
GEOM(twist, TWIST)

/* ---- builtin_interfaces/Time, std_msgs/Header ---------------------- */

static int time_to_dds(const void *buf, size_t len, const char *enc, void *s,
                       ddsb_arena *a)
{
    builtin_interfaces_msg_dds__Time_ *t = s;
    int64_t sec;
    uint64_t nsec;
    if (ipcn_cbor_map_get_int(buf, len, "sec", &sec) != IPCN_OK ||
        ipcn_cbor_map_get_uint(buf, len, "nanosec", &nsec) != IPCN_OK ||
        sec < INT32_MIN || sec > INT32_MAX || nsec >= 1000000000u)
        return IPCN_BAD_REQUEST;
    t->sec = (int32_t)sec;
    t->nanosec = (uint32_t)nsec;
    return IPCN_OK;
}

static int time_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    const builtin_interfaces_msg_dds__Time_ *t = s;
    *out = malloc(32);
    if (!*out)
        return IPCN_INSUFFICIENT_MEMORY;
    return ipcn_cbor_build(*out, 32, len, "{s:I, s:U}", "sec", (int64_t)t->sec,
                           "nanosec", (uint64_t)t->nanosec);
}

/* A header alone: {"stamp": ns, "frame_id": text}, as in every sensor map. */
static int header_only_to_dds(const void *buf, size_t len, const char *enc,
                              void *s, ddsb_arena *a)
{
    uint64_t ns = 0;
    const char *fid = "";
    size_t flen = 0;
    int st = ipcn_cbor_map_get_uint(buf, len, "stamp", &ns);
    if (st != IPCN_OK && st != IPCN_NOT_FOUND)
        return IPCN_BAD_REQUEST;
    st = ipcn_cbor_map_get_text(buf, len, "frame_id", &fid, &flen);
    if (st != IPCN_OK && st != IPCN_NOT_FOUND)
        return IPCN_BAD_REQUEST;
    ipcn_sensor_header h;
    if (flen > IPCN_SENSOR_FRAME_ID_MAX || memchr(fid, 0, flen))
        return IPCN_BAD_REQUEST;
    char tmp[IPCN_SENSOR_FRAME_ID_MAX + 1];
    memcpy(tmp, fid, flen);
    tmp[flen] = 0;
    if (ipcn_sensor_header_set(&h, ns, tmp) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    return ddsb_header_to_dds(&h, s, a);
}

static int header_only_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    ipcn_sensor_header h;
    int st = ddsb_header_from_dds(s, &h);
    if (st != IPCN_OK)
        return st;
    size_t cap = 32 + strlen(h.frame_id);
    *out = malloc(cap);
    if (!*out)
        return IPCN_INSUFFICIENT_MEMORY;
    return ipcn_cbor_build(*out, cap, len, "{s:U, s:s}", "stamp", h.stamp_ns,
                           "frame_id", h.frame_id);
}

/* The sensor messages: dds_map_sensor.c (dds_map_int.h). */
#define image_to_dds ddsb_image_to_dds
#define image_to_ipcn ddsb_image_to_ipcn
#define caminfo_to_dds ddsb_caminfo_to_dds
#define caminfo_to_ipcn ddsb_caminfo_to_ipcn
#define imu_to_dds ddsb_imu_to_dds
#define imu_to_ipcn ddsb_imu_to_ipcn
#define joint_to_dds ddsb_joint_to_dds
#define joint_to_ipcn ddsb_joint_to_ipcn
#define cloud_to_dds ddsb_cloud_to_dds
#define cloud_to_ipcn ddsb_cloud_to_ipcn

/* ---- ipcnet_msgs/Cbor ------------------------------------------- */

static int cbor_to_dds(const void *buf, size_t len, const char *enc, void *s,
                       ddsb_arena *a)
{
    ipcnet_msgs_msg_dds__Cbor_ *c = s;
    c->encoding = ddsb_arena_strndup(a, nz(enc), strlen(nz(enc)));
    if (!c->encoding)
        return IPCN_INSUFFICIENT_MEMORY;
    c->data._buffer = (uint8_t *)buf;
    c->data._length = c->data._maximum = (uint32_t)len;
    c->data._release = false;
    return len > UINT32_MAX ? IPCN_BAD_REQUEST : IPCN_OK;
}

static int cbor_to_ipcn(const void *s, uint8_t **out, size_t *len)
{
    const ipcnet_msgs_msg_dds__Cbor_ *c = s;
    *out = malloc((size_t)c->data._length + 1);
    if (!*out)
        return IPCN_INSUFFICIENT_MEMORY;
    if (c->data._length)
        memcpy(*out, c->data._buffer, c->data._length);
    *len = c->data._length;
    return IPCN_OK;
}

/* ---- the table -------------------------------------------------- */

#define T(ros, desc, enc, f) {ros, &desc, enc, f##_to_dds, f##_to_ipcn}
static const ddsb_type TYPES[] = {
    T("std_msgs/msg/String", std_msgs_msg_dds__String__desc, "text/plain", string),
    T("std_msgs/msg/Bool", std_msgs_msg_dds__Bool__desc, "cbor", bool),
    T("std_msgs/msg/Byte", std_msgs_msg_dds__Byte__desc, "cbor", u8),
    T("std_msgs/msg/Char", std_msgs_msg_dds__Char__desc, "cbor", u8),
    T("std_msgs/msg/Int8", std_msgs_msg_dds__Int8__desc, "cbor", i8),
    T("std_msgs/msg/UInt8", std_msgs_msg_dds__UInt8__desc, "cbor", u8),
    T("std_msgs/msg/Int16", std_msgs_msg_dds__Int16__desc, "cbor", i16),
    T("std_msgs/msg/UInt16", std_msgs_msg_dds__UInt16__desc, "cbor", u16),
    T("std_msgs/msg/Int32", std_msgs_msg_dds__Int32__desc, "cbor", i32),
    T("std_msgs/msg/UInt32", std_msgs_msg_dds__UInt32__desc, "cbor", u32),
    T("std_msgs/msg/Int64", std_msgs_msg_dds__Int64__desc, "cbor", i64),
    T("std_msgs/msg/UInt64", std_msgs_msg_dds__UInt64__desc, "cbor", u64),
    T("std_msgs/msg/Float32", std_msgs_msg_dds__Float32__desc, "cbor", f32),
    T("std_msgs/msg/Float64", std_msgs_msg_dds__Float64__desc, "cbor", f64),
    T("std_msgs/msg/Header", std_msgs_msg_dds__Header__desc, "cbor", header_only),
    T("builtin_interfaces/msg/Time", builtin_interfaces_msg_dds__Time__desc, "cbor", time),
    T("geometry_msgs/msg/Vector3", geometry_msgs_msg_dds__Vector3__desc,
      "cbor;ros=geometry_msgs/msg/Vector3", vec3),
    T("geometry_msgs/msg/Point", geometry_msgs_msg_dds__Point__desc,
      "cbor;ros=geometry_msgs/msg/Point", vec3),
    T("geometry_msgs/msg/Quaternion", geometry_msgs_msg_dds__Quaternion__desc,
      "cbor;ros=geometry_msgs/msg/Quaternion", quat),
    T("geometry_msgs/msg/Pose", geometry_msgs_msg_dds__Pose__desc,
      "cbor;ros=geometry_msgs/msg/Pose", pose),
    T("geometry_msgs/msg/Twist", geometry_msgs_msg_dds__Twist__desc,
      "cbor;ros=geometry_msgs/msg/Twist", twist),
    T("sensor_msgs/msg/Image", sensor_msgs_msg_dds__Image__desc, "cbor;sensor=image", image),
    T("sensor_msgs/msg/CameraInfo", sensor_msgs_msg_dds__CameraInfo__desc,
      "cbor;sensor=camera_info", caminfo),
    T("sensor_msgs/msg/Imu", sensor_msgs_msg_dds__Imu__desc, "cbor;sensor=imu", imu),
    T("sensor_msgs/msg/JointState", sensor_msgs_msg_dds__JointState__desc,
      "cbor;sensor=joint_state", joint),
    T("sensor_msgs/msg/PointCloud2", sensor_msgs_msg_dds__PointCloud2__desc,
      "cbor;sensor=pointcloud", cloud),
    T("ipcnet_msgs/msg/Cbor", ipcnet_msgs_msg_dds__Cbor__desc, "", cbor),
};
#undef T
#define NTYPES (sizeof TYPES / sizeof TYPES[0])

const ddsb_type *ddsb_types(size_t *n)
{
    *n = NTYPES;
    return TYPES;
}

const char *ddsb_type_dds_name(const ddsb_type *t)
{
    return t->desc->m_typename;
}

const ddsb_type *ddsb_type_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NTYPES; i++) {
        const char *r = TYPES[i].ros_name;
        if (!strcmp(name, r) || !strcmp(name, TYPES[i].desc->m_typename))
            return &TYPES[i];
        /* "pkg/Name" for "pkg/msg/Name" */
        const char *slash = strchr(r, '/');
        size_t plen = (size_t)(slash - r);
        if (!strncmp(name, r, plen + 1) && !strchr(name + plen + 1, '/') &&
            !strcmp(name + plen + 1, slash + 5))
            return &TYPES[i];
    }
    return NULL;
}

const ddsb_type *ddsb_type_for_encoding(const char *encoding)
{
    const ddsb_type *cbor = &TYPES[NTYPES - 1];
    ipcn_sensor_kind k;
    if (!encoding || !*encoding)
        return cbor;
    if (ipcn_sensor_kind_of(encoding, &k) == IPCN_OK) {
        for (size_t i = 0; i < NTYPES; i++)
            if (!strcmp(TYPES[i].encoding, ipcn_sensor_encoding(k)))
                return &TYPES[i];
        return cbor;
    }
    ipcn_encoding e;
    if (ipcn_encoding_parse(encoding, &e) != IPCN_OK)
        return cbor;
    if (ipcn_encoding_is(&e, "text/plain"))
        return &TYPES[0];
    ipcn_strview ros;
    if ((ipcn_encoding_is(&e, "cbor") || ipcn_encoding_is(&e, "application/cbor")) &&
        ipcn_encoding_param(&e, "ros", &ros) == IPCN_OK && ros.len < 128) {
        char name[128];
        memcpy(name, ros.ptr, ros.len);
        name[ros.len] = 0;
        const ddsb_type *t = ddsb_type_find(name);
        if (t)
            return t;
    }
    return cbor;
}
