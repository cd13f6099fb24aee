/* SPDX-License-Identifier: MIT */
/*
 * sensor.c — what every sensor message shares (docs/protocol.md, "Sensor
 * messages"): the kinds and their encodings, the header, the pixel formats,
 * a reader of the maps the messages are made of (outside input: every
 * value checked as it is read, nothing read beyond the buffer), and the
 * layout of a message whose tensor starts on an aligned boundary.
 */
#include <string.h>

#include "media/sensor.h"
#include "util/util.h"
#include "value/value.h"

/* ------------------------------------------------------------------ */
/* Kinds                                                                */
/* ------------------------------------------------------------------ */

static const char *const kind_names[] = {
    [IPCN_SENSOR_IMAGE] = "image",         [IPCN_SENSOR_CAMERA_INFO] = "camera_info",
    [IPCN_SENSOR_POINTCLOUD] = "pointcloud", [IPCN_SENSOR_IMU] = "imu",
    [IPCN_SENSOR_JOINT_STATE] = "joint_state",
};
static const char *const kind_encodings[] = {
    [IPCN_SENSOR_IMAGE] = "cbor;sensor=image",
    [IPCN_SENSOR_CAMERA_INFO] = "cbor;sensor=camera_info",
    [IPCN_SENSOR_POINTCLOUD] = "cbor;sensor=pointcloud",
    [IPCN_SENSOR_IMU] = "cbor;sensor=imu",
    [IPCN_SENSOR_JOINT_STATE] = "cbor;sensor=joint_state",
};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

const char *ipcn_sensor_encoding(ipcn_sensor_kind kind)
{
    if ((unsigned)kind >= NKINDS || kind == IPCN_SENSOR_NONE)
        return NULL;
    return kind_encodings[kind];
}

int ipcn_sensor_kind_of(const char *encoding, ipcn_sensor_kind *out)
{
    ipcn_encoding e;
    ipcn_strview v;
    if (!encoding || !out || ipcn_encoding_parse(encoding, &e) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!ipcn_encoding_is(&e, "cbor") && !ipcn_encoding_is(&e, "application/cbor"))
        return IPCN_NOT_FOUND;
    if (ipcn_encoding_param(&e, "sensor", &v) != IPCN_OK)
        return IPCN_NOT_FOUND;
    for (unsigned k = 1; k < NKINDS; k++)
        if (strlen(kind_names[k]) == v.len && !memcmp(kind_names[k], v.ptr, v.len)) {
            *out = (ipcn_sensor_kind)k;
            return IPCN_OK;
        }
    return IPCN_NOT_IMPLEMENTED;
}

int ipcn_sensor_header_set(ipcn_sensor_header *h, uint64_t stamp_ns,
                           const char *frame_id)
{
    if (!h)
        return IPCN_BAD_REQUEST;
    if (!frame_id)
        frame_id = "";
    size_t n = strnlen(frame_id, IPCN_SENSOR_FRAME_ID_MAX + 1);
    if (n > IPCN_SENSOR_FRAME_ID_MAX || !ipcn__utf8_valid(frame_id, n))
        return IPCN_BAD_REQUEST;
    h->stamp_ns = stamp_ns;
    memcpy(h->frame_id, frame_id, n + 1);
    return IPCN_OK;
}

/* ------------------------------------------------------------------ */
/* Pixel formats (ROS's sensor_msgs/image_encodings)                    */
/* ------------------------------------------------------------------ */

static const struct {
    const char *name;
    ipcn_dtype dtype;
    uint8_t channels;
} formats[] = {
    {"rgb8", IPCN_DTYPE_UINT8, 3},         {"rgba8", IPCN_DTYPE_UINT8, 4},
    {"rgb16", IPCN_DTYPE_UINT16, 3},       {"rgba16", IPCN_DTYPE_UINT16, 4},
    {"bgr8", IPCN_DTYPE_UINT8, 3},         {"bgra8", IPCN_DTYPE_UINT8, 4},
    {"bgr16", IPCN_DTYPE_UINT16, 3},       {"bgra16", IPCN_DTYPE_UINT16, 4},
    {"mono8", IPCN_DTYPE_UINT8, 1},        {"mono16", IPCN_DTYPE_UINT16, 1},
    {"bayer_rggb8", IPCN_DTYPE_UINT8, 1},  {"bayer_bggr8", IPCN_DTYPE_UINT8, 1},
    {"bayer_gbrg8", IPCN_DTYPE_UINT8, 1},  {"bayer_grbg8", IPCN_DTYPE_UINT8, 1},
    {"bayer_rggb16", IPCN_DTYPE_UINT16, 1}, {"bayer_bggr16", IPCN_DTYPE_UINT16, 1},
    {"bayer_gbrg16", IPCN_DTYPE_UINT16, 1}, {"bayer_grbg16", IPCN_DTYPE_UINT16, 1},
    {"yuv422", IPCN_DTYPE_UINT8, 2},       {"yuv422_yuy2", IPCN_DTYPE_UINT8, 2},
};

/* "8UC3", "32FC1", ...: OpenCV's depth, then C and 1..4 channels. */
static int cv_format(const char *s, ipcn_dtype *dtype, uint32_t *channels)
{
    static const struct {
        const char *depth;
        ipcn_dtype dtype;
    } depths[] = {
        {"8U", IPCN_DTYPE_UINT8},   {"8S", IPCN_DTYPE_INT8},   {"16U", IPCN_DTYPE_UINT16},
        {"16S", IPCN_DTYPE_INT16},  {"32S", IPCN_DTYPE_INT32}, {"32F", IPCN_DTYPE_FLOAT32},
        {"64F", IPCN_DTYPE_FLOAT64},
    };
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        size_t n = strlen(depths[i].depth);
        if (strncmp(s, depths[i].depth, n) != 0 || s[n] != 'C' || s[n + 1] < '1' ||
            s[n + 1] > '4' || s[n + 2] != 0)
            continue;
        *dtype = depths[i].dtype;
        *channels = (uint32_t)(s[n + 1] - '0');
        return 1;
    }
    return 0;
}

int ipcn_image_format(const char *encoding, ipcn_dtype *dtype, uint32_t *channels)
{
    if (!encoding)
        return IPCN_BAD_REQUEST;
    ipcn_dtype d = IPCN_DTYPE_INVALID;
    uint32_t c = 0;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0] && !c; i++)
        if (!strcmp(encoding, formats[i].name)) {
            d = formats[i].dtype;
            c = formats[i].channels;
        }
    if (!c && !cv_format(encoding, &d, &c))
        return IPCN_NOT_IMPLEMENTED;
    if (dtype)
        *dtype = d;
    if (channels)
        *channels = c;
    return IPCN_OK;
}

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

/* The next item, which must be of type want: 100 or 200. */
static int next_of(ipcn_cbor_reader *r, ipcn_cbor_type want, ipcn_cbor_value *v)
{
    int st = ipcn_cbor_next(r, v);
    if (st != IPCN_OK)
        return IPCN_BAD_REQUEST;
    return v->type == want ? IPCN_OK : IPCN_BAD_REQUEST;
}

int ipcn__s_map_open(ipcn_cbor_reader *r, ipcn__smap *m)
{
    ipcn_cbor_value v;
    if (next_of(r, IPCN_CBOR_MAP, &v) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    m->indefinite = v.indefinite;
    m->left = v.count;
    return IPCN_OK;
}

int ipcn__s_map_key(ipcn_cbor_reader *r, ipcn__smap *m, ipcn_strview *key)
{
    ipcn_cbor_value v;
    if (m->indefinite) {
        if (ipcn_cbor_peek(r, &v) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        if (v.type == IPCN_CBOR_BREAK)
            return ipcn_cbor_next(r, &v) == IPCN_OK ? IPCN_NO_DATA : IPCN_BAD_REQUEST;
    } else if (m->left == 0) {
        return IPCN_NO_DATA;
    } else {
        m->left--;
    }
    if (next_of(r, IPCN_CBOR_TEXT, &v) != IPCN_OK || v.indefinite)
        return IPCN_BAD_REQUEST;
    key->ptr = (const char *)v.ptr;
    key->len = v.len;
    return IPCN_OK;
}

int ipcn__s_key_is(ipcn_strview key, const char *s)
{
    return strlen(s) == key.len && !memcmp(s, key.ptr, key.len);
}

int ipcn__s_once(unsigned *seen, unsigned bit)
{
    if (*seen & (1u << bit))
        return IPCN_BAD_REQUEST;
    *seen |= 1u << bit;
    return IPCN_OK;
}

int ipcn__s_end(ipcn_cbor_reader *r)
{
    ipcn_cbor_value v;
    return ipcn_cbor_next(r, &v) == IPCN_NO_DATA ? IPCN_OK : IPCN_BAD_REQUEST;
}

int ipcn__s_uint(ipcn_cbor_reader *r, uint64_t max, uint64_t *out)
{
    ipcn_cbor_value v;
    if (next_of(r, IPCN_CBOR_UINT, &v) != IPCN_OK || v.u > max)
        return IPCN_BAD_REQUEST;
    *out = v.u;
    return IPCN_OK;
}

int ipcn__s_number(ipcn_cbor_reader *r, double *out)
{
    ipcn_cbor_value v;
    if (ipcn_cbor_next(r, &v) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    switch (v.type) {
    case IPCN_CBOR_UINT:
        *out = (double)v.u;
        return IPCN_OK;
    case IPCN_CBOR_NEGINT:
        *out = -1.0 - (double)v.u;
        return IPCN_OK;
    case IPCN_CBOR_FLOAT:
        *out = v.f;
        return IPCN_OK;
    default:
        return IPCN_BAD_REQUEST;
    }
}

int ipcn__s_bool(ipcn_cbor_reader *r, int *out)
{
    ipcn_cbor_value v;
    if (next_of(r, IPCN_CBOR_BOOL, &v) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    *out = v.u != 0;
    return IPCN_OK;
}

int ipcn__s_text(ipcn_cbor_reader *r, ipcn_strview *out)
{
    ipcn_cbor_value v;
    if (next_of(r, IPCN_CBOR_TEXT, &v) != IPCN_OK || v.indefinite)
        return IPCN_BAD_REQUEST;
    out->ptr = (const char *)v.ptr;
    out->len = v.len;
    return IPCN_OK;
}

int ipcn__s_text_copy(ipcn_cbor_reader *r, char *dst, size_t cap)
{
    ipcn_strview s;
    if (ipcn__s_text(r, &s) != IPCN_OK || s.len >= cap || memchr(s.ptr, 0, s.len))
        return IPCN_BAD_REQUEST;
    memcpy(dst, s.ptr, s.len);
    dst[s.len] = 0;
    return IPCN_OK;
}

/* Element i of a one-dimensional tensor of integers or floats, as a
 * double.  0 when the dtype is not one of them. */
static int tensor_elem(const ipcn_tensor *t, uint64_t i, double *out)
{
    size_t es = ipcn_dtype_size(t->dtype);
    const uint8_t *p = (const uint8_t *)t->data + (int64_t)i * t->strides[0] * (int64_t)es;
    uint8_t b[8];
    if (es > sizeof b)
        return 0; /* no such dtype (the largest is 8 bytes) */
    for (size_t k = 0; k < es; k++) /* to little endian, whatever the source */
        b[k] = t->order == IPCN_ORDER_BIG ? p[es - 1 - k] : p[k];
    uint64_t u = 0;
    for (size_t k = 0; k < es; k++)
        u |= (uint64_t)b[k] << (8 * k);
    switch (t->dtype) {
    case IPCN_DTYPE_INT8: *out = (int8_t)u; return 1;
    case IPCN_DTYPE_INT16: *out = (int16_t)u; return 1;
    case IPCN_DTYPE_INT32: *out = (int32_t)u; return 1;
    case IPCN_DTYPE_INT64: *out = (double)(int64_t)u; return 1;
    case IPCN_DTYPE_UINT8:
    case IPCN_DTYPE_UINT16:
    case IPCN_DTYPE_UINT32:
    case IPCN_DTYPE_UINT64: *out = (double)u; return 1;
    case IPCN_DTYPE_FLOAT16: *out = ipcn__half_to_double((uint16_t)u); return 1;
    case IPCN_DTYPE_BFLOAT16: *out = ipcn__single_bits_to_double((uint32_t)u << 16); return 1;
    case IPCN_DTYPE_FLOAT32: *out = ipcn__single_bits_to_double((uint32_t)u); return 1;
    case IPCN_DTYPE_FLOAT64: {
        double d;
        memcpy(&d, &u, sizeof d);
        *out = d;
        return 1;
    }
    default: return 0;
    }
}

int ipcn__s_numbers(ipcn_cbor_reader *r, double *out, size_t max, size_t *n)
{
    ipcn_cbor_value v;
    if (ipcn_cbor_peek(r, &v) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (v.type == IPCN_CBOR_TAG) {
        ipcn_tensor t;
        if (ipcn_tensor_read(r, &t) != IPCN_OK || t.ndim != 1 || t.shape[0] < 0 ||
            (uint64_t)t.shape[0] > max)
            return IPCN_BAD_REQUEST;
        double d;
        for (uint64_t i = 0; i < (uint64_t)t.shape[0]; i++)
            if (!tensor_elem(&t, i, out ? &out[i] : &d))
                return IPCN_BAD_REQUEST;
        *n = (size_t)t.shape[0];
        return IPCN_OK;
    }
    if (next_of(r, IPCN_CBOR_ARRAY, &v) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    size_t k = 0;
    for (;;) {
        if (v.indefinite) {
            ipcn_cbor_value b;
            if (ipcn_cbor_peek(r, &b) != IPCN_OK)
                return IPCN_BAD_REQUEST;
            if (b.type == IPCN_CBOR_BREAK) {
                ipcn_cbor_next(r, &b);
                break;
            }
        } else if (k == v.count) {
            break;
        }
        double d;
        if (k == max || ipcn__s_number(r, out ? &out[k] : &d) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        k++;
    }
    *n = k;
    return IPCN_OK;
}

int ipcn__s_numbers_n(ipcn_cbor_reader *r, double *out, size_t n)
{
    size_t got = 0;
    if (ipcn__s_numbers(r, out, n, &got) != IPCN_OK || got != n)
        return IPCN_BAD_REQUEST;
    return IPCN_OK;
}

int ipcn__s_header_key(ipcn_cbor_reader *r, ipcn_strview key,
                       ipcn_sensor_header *h, unsigned *seen)
{
    if (ipcn__s_key_is(key, "stamp")) {
        if (ipcn__s_once(seen, 0) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        return ipcn__s_uint(r, UINT64_MAX, &h->stamp_ns);
    }
    if (ipcn__s_key_is(key, "frame_id")) {
        if (ipcn__s_once(seen, 1) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        return ipcn__s_text_copy(r, h->frame_id, sizeof h->frame_id);
    }
    return IPCN_NOT_FOUND;
}

/* ------------------------------------------------------------------ */
/* Writing                                                              */
/* ------------------------------------------------------------------ */

int ipcn__s_cstr_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n < cap && ipcn__utf8_valid(s, n);
}

int ipcn__s_put_header(ipcn_cbor_writer *w, const ipcn_sensor_header *h)
{
    if (!ipcn__s_cstr_ok(h->frame_id, sizeof h->frame_id))
        return IPCN_BAD_REQUEST;
    ipcn_cbor_put_cstr(w, "stamp");
    ipcn_cbor_put_uint(w, h->stamp_ns);
    ipcn_cbor_put_cstr(w, "frame_id");
    return ipcn_cbor_put_cstr(w, h->frame_id);
}

int ipcn__s_put_numbers(ipcn_cbor_writer *w, const char *key, const double *v,
                        size_t n)
{
    ipcn_cbor_put_cstr(w, key);
    ipcn_cbor_put_array(w, n);
    for (size_t i = 0; i < n; i++)
        ipcn_cbor_put_float(w, v[i]);
    return w->status;
}

/* The bytes of a "pad" pair whose byte string is k bytes long. */
static size_t pad_pair(size_t k)
{
    return 4 + (k < 24 ? 1 : 2) + k;
}

int ipcn__s_encode_aligned(void *buf, size_t cap, uint64_t field_pairs,
                           ipcn__s_fields_fn fields, const void *ctx,
                           const ipcn_tensor *t, size_t *len, void **data_out)
{
    if ((!buf && cap) || !len || (!t->data && !data_out))
        return IPCN_BAD_REQUEST;
    /* Measure what comes before the pad, and the head of "data". */
    ipcn_tensor shape = *t;
    shape.data = &shape; /* the head does not read the elements */
    shape.order = IPCN_ORDER_NATIVE;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    ipcn_cbor_put_map(&w, field_pairs + 2);
    if (fields(&w, ctx) == IPCN_BAD_REQUEST || w.status == IPCN_BAD_REQUEST)
        return IPCN_BAD_REQUEST;
    size_t before = w.len;
    ipcn_cbor_writer_init(&w, NULL, 0, 0);
    ipcn_cbor_put_cstr(&w, "data");
    uint8_t *dst = NULL;
    uint64_t numel = 0;
    if (ipcn__tensor_put_head(&w, &shape, &dst, &numel) == IPCN_BAD_REQUEST)
        return IPCN_BAD_REQUEST;
    /* w.len counts the elements' bytes too: the head is what precedes. */
    size_t bytes = (size_t)numel * ipcn_dtype_size(t->dtype), head = w.len - bytes;
    /* A pad pair of the size that puts the elements on the boundary: any
     * size from 5 bytes up but 29 (the string's head grows at 24). */
    size_t s = 5 + (IPCN_SENSOR_ALIGN - (before + head + 5) % IPCN_SENSOR_ALIGN) %
                       IPCN_SENSOR_ALIGN;
    if (s == 29)
        s += IPCN_SENSOR_ALIGN;
    size_t k = s <= 28 ? s - 5 : s - 6, total;
    if (__builtin_add_overflow(before + s + head, bytes, &total))
        return IPCN_BAD_REQUEST;
    if (!buf || cap < total) {
        *len = total;
        return IPCN_INSUFFICIENT_STORAGE;
    }
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, field_pairs + 2);
    fields(&w, ctx);
    ipcn_cbor_put_cstr(&w, "pad");
    uint8_t *pad = NULL;
    ipcn_cbor_put_bytes_reserve(&w, k, &pad);
    if (pad)
        memset(pad, 0, k);
    ipcn_cbor_put_cstr(&w, "data");
    dst = NULL;
    if (ipcn__tensor_put_head(&w, &shape, &dst, NULL) != IPCN_OK || !dst ||
        dst != (uint8_t *)buf + before + pad_pair(k) + head)
        return IPCN_INTERNAL_ERROR; /* measured and written differ: a bug */
    size_t got = 0;
    if (ipcn_cbor_writer_finish(&w, &got) != IPCN_OK || got != total)
        return IPCN_INTERNAL_ERROR;
    if (t->data) {
        if (ipcn_tensor_copy(t, dst, bytes) != IPCN_OK)
            return IPCN_BAD_REQUEST;
    } else {
        *data_out = dst;
    }
    *len = total;
    return IPCN_OK;
}
