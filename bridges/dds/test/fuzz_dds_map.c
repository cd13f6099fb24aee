/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/test/fuzz_dds_map.c - libFuzzer harness of the DDS bridge's
 * mapping, both ways.  The first byte: its low 7 bits are the type's fixed
 * id (ID[] below: an id keeps its type whatever the order of dds_map.c's
 * table), its high bit the direction:
 *  - 0, IPCNet to DDS: the rest is an IPCNet value (the bytes a publisher
 *    may send the bridge) given to the type's to_dds; a sample made from
 *    it goes back through to_ipcn.  Neither may read outside what it was
 *    given, leak, or accept a value and fail to map it back.
 *  - 1, DDS to IPCNet: the rest builds a DDS sample of the type as a DDS
 *    reader may hand it over (sample()): lengths, step, point_step, field
 *    lists, strings and numbers from the bytes, each buffer of exactly
 *    its sequence's length; to_ipcn must not read outside it, leak, or
 *    crash, whatever the fields claim.
 * Built with -DIPCNET_FUZZ=ON (bridges/dds/test/tests.cmake); run by
 * tests/fuzz/run.sh as fuzz_dds_map.  Seeds (tests/fuzz/corpus/dds_map/):
 * the sensor harness's seeds with the id of their message (21 Image, 22
 * CameraInfo, 23 Imu, 24 JointState, 25 PointCloud2), a Twist (20), a
 * String (0) and a Float64 (13) written by hand; the DDS-side seeds
 * (dds-*) have the high bit set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dds_map.h"
#include "ipcnet.h"
#include "ros2_msgs.h"
#include "ipcnet_msgs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed ids: never reorder, only append. */
static const char *const ID[] = {
    "std_msgs/msg/String", "std_msgs/msg/Bool", "std_msgs/msg/Byte",      /* 0-2 */
    "std_msgs/msg/Char", "std_msgs/msg/Int8", "std_msgs/msg/UInt8",       /* 3-5 */
    "std_msgs/msg/Int16", "std_msgs/msg/UInt16", "std_msgs/msg/Int32",    /* 6-8 */
    "std_msgs/msg/UInt32", "std_msgs/msg/Int64", "std_msgs/msg/UInt64",   /* 9-11 */
    "std_msgs/msg/Float32", "std_msgs/msg/Float64", "std_msgs/msg/Header", /* 12-14 */
    "builtin_interfaces/msg/Time", "geometry_msgs/msg/Vector3",           /* 15-16 */
    "geometry_msgs/msg/Point", "geometry_msgs/msg/Quaternion",            /* 17-18 */
    "geometry_msgs/msg/Pose", "geometry_msgs/msg/Twist",                  /* 19-20 */
    "sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo",                /* 21-22 */
    "sensor_msgs/msg/Imu", "sensor_msgs/msg/JointState",                  /* 23-24 */
    "sensor_msgs/msg/PointCloud2", "ipcnet_msgs/msg/Cbor",                /* 25-26 */
};
#define NID (sizeof ID / sizeof ID[0])

/* ---- DDS samples from bytes ---------------------------------------- */

typedef struct rd {
    const uint8_t *p;
    size_t n;
    ddsb_arena *a;
    int fail; /* out of memory */
} rd;

static void take(rd *r, void *out, size_t k)
{
    memset(out, 0, k);
    size_t m = r->n < k ? r->n : k;
    memcpy(out, r->p, m);
    r->p += m;
    r->n -= m;
}

static uint32_t u32(rd *r) { uint32_t v; take(r, &v, 4); return v; }
static uint8_t u8(rd *r) { uint8_t v; take(r, &v, 1); return v; }

/* A string as DDS gives it: NUL-terminated (a NUL in the bytes ends it). */
static char *str(rd *r)
{
    size_t len = u8(r);
    if (len > r->n)
        len = r->n;
    char *s = ddsb_arena_strndup(r->a, (const char *)r->p, len);
    r->p += len;
    r->n -= len;
    if (!s) {
        r->fail = 1;
        return "";
    }
    return s;
}

/* len bytes in a buffer of exactly len bytes (fewer when the input ends:
 * the length says so); a read past it is caught. */
static void *bytes(rd *r, uint32_t *len, size_t elem)
{
    size_t want = (size_t)*len * elem;
    if (want > r->n) {
        *len = (uint32_t)(r->n / elem);
        want = (size_t)*len * elem;
    }
    void *b = ddsb_arena_alloc(r->a, want);
    if (!b) {
        r->fail = 1;
        *len = 0;
        return NULL;
    }
    memcpy(b, r->p, want);
    r->p += want;
    r->n -= want;
    return want ? b : NULL;
}

static void header(rd *r, struct std_msgs_msg_dds__Header_ *h)
{
    h->stamp.sec = (int32_t)u32(r);
    h->stamp.nanosec = u32(r);
    h->frame_id = str(r);
}

#define SEQ(seq, r, elem_size)                                               \
    do {                                                                     \
        uint32_t n_ = u8(r);                                                 \
        (seq)._buffer = bytes(r, &n_, elem_size);                            \
        (seq)._length = (seq)._maximum = n_;                                 \
    } while (0)

/* The sample of type id from r; 0 when the type has no builder here. */
static int sample(unsigned id, rd *r, void *s, size_t size)
{
    switch (id) {
    case 0:
        ((std_msgs_msg_dds__String_ *)s)->data = str(r);
        return 1;
    case 14:
        header(r, s);
        return 1;
    case 21: {
        sensor_msgs_msg_dds__Image_ *m = s;
        header(r, &m->header);
        m->height = u32(r);
        m->width = u32(r);
        m->encoding = str(r);
        m->is_bigendian = u8(r);
        m->step = u32(r);
        uint32_t n = u32(r); /* the data: as many as the input holds */
        m->data._buffer = bytes(r, &n, 1);
        m->data._length = m->data._maximum = n;
        return 1;
    }
    case 22: {
        sensor_msgs_msg_dds__CameraInfo_ *m = s;
        header(r, &m->header);
        m->height = u32(r);
        m->width = u32(r);
        m->distortion_model = str(r);
        SEQ(m->d, r, sizeof(double));
        take(r, m->k, sizeof m->k);
        take(r, m->r, sizeof m->r);
        take(r, m->p, sizeof m->p);
        m->binning_x = u32(r);
        m->binning_y = u32(r);
        m->roi.x_offset = u32(r);
        m->roi.y_offset = u32(r);
        m->roi.height = u32(r);
        m->roi.width = u32(r);
        m->roi.do_rectify = u8(r) & 1; /* a bool is 0 or 1 */
        return 1;
    }
    case 23: {
        sensor_msgs_msg_dds__Imu_ *m = s;
        header(r, &m->header);
        take(r, (char *)m + sizeof m->header, sizeof *m - sizeof m->header);
        return 1;
    }
    case 24: {
        sensor_msgs_msg_dds__JointState_ *m = s;
        header(r, &m->header);
        uint32_t n = u8(r);
        char **names = ddsb_arena_alloc(r->a, (n + 1) * sizeof *names);
        if (!names)
            return r->fail = 1, 1;
        for (uint32_t i = 0; i < n; i++)
            names[i] = str(r);
        m->name._buffer = n ? names : NULL;
        m->name._length = m->name._maximum = n;
        SEQ(m->position, r, sizeof(double));
        SEQ(m->velocity, r, sizeof(double));
        SEQ(m->effort, r, sizeof(double));
        return 1;
    }
    case 25: {
        sensor_msgs_msg_dds__PointCloud2_ *m = s;
        header(r, &m->header);
        m->height = u32(r);
        m->width = u32(r);
        uint32_t nf = u8(r) % 16;
        sensor_msgs_msg_dds__PointField_ *f =
            ddsb_arena_alloc(r->a, (nf + 1) * sizeof *f);
        if (!f)
            return r->fail = 1, 1;
        for (uint32_t i = 0; i < nf; i++) {
            f[i].name = str(r);
            f[i].offset = u32(r);
            f[i].datatype = u8(r);
            f[i].count = u32(r);
        }
        m->fields._buffer = nf ? f : NULL;
        m->fields._length = m->fields._maximum = nf;
        m->is_bigendian = u8(r) & 1;
        m->point_step = u32(r);
        m->row_step = u32(r);
        m->is_dense = u8(r) & 1;
        uint32_t n = u32(r);
        m->data._buffer = bytes(r, &n, 1);
        m->data._length = m->data._maximum = n;
        return 1;
    }
    case 26: {
        ipcnet_msgs_msg_dds__Cbor_ *m = s;
        m->encoding = str(r);
        uint32_t n = u32(r);
        m->data._buffer = bytes(r, &n, 1);
        m->data._length = m->data._maximum = n;
        return 1;
    }
    case 1: /* a bool is 0 or 1 */
        *(bool *)s = u8(r) & 1;
        return 1;
    default:
        /* numbers, Time, the geometry types: flat, any bytes */
        take(r, s, size);
        return 1;
    }
}

/* ---- the harness ----------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned id = data[0] & 0x7F;
    int dds_side = data[0] & 0x80;
    if (id >= NID)
        return 0;
    const ddsb_type *t = ddsb_type_find(ID[id]);
    if (!t)
        abort(); /* a fixed id whose type the mapping lost */
    /* a copy of exactly the value's bytes: a read past them is caught */
    uint8_t *val = malloc(size - 1 ? size - 1 : 1);
    if (!val)
        return 0;
    memcpy(val, data + 1, size - 1);
    void *s = calloc(1, t->desc->m_size);
    ddsb_arena a = {0};
    if (s && dds_side) {
        rd r = {val, size - 1, &a, 0};
        if (sample(id, &r, s, t->desc->m_size) && !r.fail) {
            uint8_t *out = NULL;
            size_t olen = 0;
            t->to_ipcn(s, &out, &olen); /* any status; no crash, no leak */
            free(out);
        }
    } else if (s && t->to_dds(val, size - 1, "cbor", s, &a) == IPCN_OK) {
        uint8_t *back = NULL;
        size_t blen = 0;
        int st = t->to_ipcn(s, &back, &blen);
        /* what was taken in is carried back out; a stamp or frame id
         * beyond IPCNet's (301) is the only refusal */
        if (st != IPCN_OK && st != IPCN_NOT_IMPLEMENTED)
            abort();
        free(back);
    }
    ddsb_arena_free(&a);
    free(s);
    free(val);
    return 0;
}
