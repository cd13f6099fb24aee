/* SPDX-License-Identifier: MIT */
/*
 * tensor.c — typed arrays (RFC 8746) and tensors: the descriptor, its
 * encoding as 40([shape, typed-array]) with the payload written once, and
 * its decoding as a view into the buffer.
 *
 * RFC 8746 typed-array tags are 0b010_f_s_e_ll: f float, s signed, e
 * little endian, ll the width (8 << ll bits for integers, 16 << ll for
 * floats).  So 64 uint8, 65..67 big-endian uint16..64, 68 uint8 clamped,
 * 69..71 little-endian uint16..64, 72 sint8, 73..75 big-endian sint16..64,
 * 76 reserved, 77..79 little-endian sint16..64, 80..83 big-endian
 * float16..128, 84..87 little-endian float16..128.
 */
#include <string.h>

#include "util/util.h"
#include "value/value.h"

static const struct {
    const char *name;
    uint8_t size;
} dtypes[] = {
    [IPCN_DTYPE_INVALID] = {"invalid", 0},
    [IPCN_DTYPE_BOOL] = {"bool", 1},
    [IPCN_DTYPE_INT8] = {"int8", 1},
    [IPCN_DTYPE_INT16] = {"int16", 2},
    [IPCN_DTYPE_INT32] = {"int32", 4},
    [IPCN_DTYPE_INT64] = {"int64", 8},
    [IPCN_DTYPE_UINT8] = {"uint8", 1},
    [IPCN_DTYPE_UINT16] = {"uint16", 2},
    [IPCN_DTYPE_UINT32] = {"uint32", 4},
    [IPCN_DTYPE_UINT64] = {"uint64", 8},
    [IPCN_DTYPE_FLOAT16] = {"float16", 2},
    [IPCN_DTYPE_BFLOAT16] = {"bfloat16", 2},
    [IPCN_DTYPE_FLOAT32] = {"float32", 4},
    [IPCN_DTYPE_FLOAT64] = {"float64", 8},
};

size_t ipcn_dtype_size(ipcn_dtype dtype)
{
    return (unsigned)dtype < IPCN__ARRAY_SIZE(dtypes) ? dtypes[dtype].size : 0;
}

const char *ipcn_dtype_name(ipcn_dtype dtype)
{
    return (unsigned)dtype < IPCN__ARRAY_SIZE(dtypes) ? dtypes[dtype].name
                                                       : "invalid";
}

ipcn_dtype ipcn_dtype_from_name(const char *name)
{
    if (!name)
        return IPCN_DTYPE_INVALID;
    for (size_t i = 1; i < IPCN__ARRAY_SIZE(dtypes); i++)
        if (strcmp(dtypes[i].name, name) == 0)
            return (ipcn_dtype)i;
    return IPCN_DTYPE_INVALID;
}

uint64_t ipcn_typed_array_tag(ipcn_dtype dtype, ipcn_byte_order order,
                              uint64_t *inner)
{
    if (inner)
        *inner = 0;
    if (order != IPCN_ORDER_LITTLE && order != IPCN_ORDER_BIG)
        return 0;
    unsigned e = order == IPCN_ORDER_LITTLE ? 4 : 0;
    switch (dtype) {
    case IPCN_DTYPE_BOOL:
        if (inner)
            *inner = 64;
        return IPCN_CBOR_TAG_BOOL;
    case IPCN_DTYPE_BFLOAT16:
        if (inner)
            *inner = 65 + e;
        return IPCN_CBOR_TAG_BFLOAT16;
    case IPCN_DTYPE_UINT8:
        return 64;
    case IPCN_DTYPE_INT8:
        return 72;
    case IPCN_DTYPE_UINT16:
        return 65 + e;
    case IPCN_DTYPE_UINT32:
        return 66 + e;
    case IPCN_DTYPE_UINT64:
        return 67 + e;
    case IPCN_DTYPE_INT16:
        return 73 + e;
    case IPCN_DTYPE_INT32:
        return 74 + e;
    case IPCN_DTYPE_INT64:
        return 75 + e;
    case IPCN_DTYPE_FLOAT16:
        return 80 + e;
    case IPCN_DTYPE_FLOAT32:
        return 81 + e;
    case IPCN_DTYPE_FLOAT64:
        return 82 + e;
    default:
        return 0;
    }
}

/* The dtype and order of an RFC 8746 typed-array tag: 100; 200 for the
 * reserved 76 and for tags that are no typed array; 301 for float128. */
static int tag_dtype(uint64_t tag, ipcn_dtype *dtype, ipcn_byte_order *order)
{
    if (tag < 64 || tag > 87)
        return IPCN_BAD_REQUEST;
    unsigned t = (unsigned)tag - 64, f = t >> 4 & 1, s = t >> 3 & 1,
             e = t >> 2 & 1, ll = t & 3;
    *order = e ? IPCN_ORDER_LITTLE : IPCN_ORDER_BIG;
    if (f) {
        static const ipcn_dtype fl[3] = {IPCN_DTYPE_FLOAT16, IPCN_DTYPE_FLOAT32,
                                         IPCN_DTYPE_FLOAT64};
        if (ll == 3)
            return IPCN_NOT_IMPLEMENTED; /* float128 */
        *dtype = fl[ll];
        return IPCN_OK;
    }
    if (ll == 0) {
        if (s && e)
            return IPCN_BAD_REQUEST; /* 76: reserved */
        *dtype = s ? IPCN_DTYPE_INT8 : IPCN_DTYPE_UINT8; /* 68: clamped */
        *order = IPCN_ORDER_NATIVE;
        return IPCN_OK;
    }
    static const ipcn_dtype u[4] = {0, IPCN_DTYPE_UINT16, IPCN_DTYPE_UINT32,
                                    IPCN_DTYPE_UINT64};
    static const ipcn_dtype i[4] = {0, IPCN_DTYPE_INT16, IPCN_DTYPE_INT32,
                                    IPCN_DTYPE_INT64};
    *dtype = s ? i[ll] : u[ll];
    return IPCN_OK;
}

/* ------------------------------------------------------------------ */
/* Descriptor                                                          */
/* ------------------------------------------------------------------ */

/* The number of elements, 0 with *ok = 0 when it overflows. */
static uint64_t numel(const ipcn_tensor *t, int *ok)
{
    uint64_t n = 1;
    *ok = 1;
    for (uint32_t i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0 ||
            __builtin_mul_overflow(n, (uint64_t)t->shape[i], &n)) {
            *ok = 0;
            return 0;
        }
    }
    return n;
}

uint64_t ipcn_tensor_numel(const ipcn_tensor *t)
{
    int ok;
    if (!t || t->ndim > IPCN_TENSOR_MAX_DIMS)
        return 0;
    return numel(t, &ok);
}

/* Row-major (or column-major) strides for t's shape.  100 or 200. */
static int set_strides(ipcn_tensor *t, int colmajor)
{
    int64_t s = 1;
    for (uint32_t k = 0; k < t->ndim; k++) {
        uint32_t i = colmajor ? k : t->ndim - 1 - k;
        t->strides[i] = s;
        if (__builtin_mul_overflow(s, t->shape[i] ? t->shape[i] : 1, &s))
            return IPCN_BAD_REQUEST;
    }
    return IPCN_OK;
}

static int is_aligned(const void *p, size_t esize)
{
    return ((uintptr_t)p & (esize - 1)) == 0;
}

int ipcn_tensor_init(ipcn_tensor *t, ipcn_dtype dtype, uint32_t ndim,
                     const int64_t *shape, const void *data)
{
    size_t es = ipcn_dtype_size(dtype);
    if (!t || !es || ndim > IPCN_TENSOR_MAX_DIMS || (ndim && !shape))
        return IPCN_BAD_REQUEST;
    ipcn_tensor d;
    memset(&d, 0, sizeof d);
    d.dtype = dtype;
    d.order = IPCN_ORDER_NATIVE;
    d.ndim = ndim;
    for (uint32_t i = 0; i < ndim; i++)
        d.shape[i] = shape[i];
    int ok;
    uint64_t n = numel(&d, &ok), bytes;
    if (!ok || __builtin_mul_overflow(n, es, &bytes) || bytes > SIZE_MAX ||
        (n && !data) || set_strides(&d, 0) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    d.data = data;
    d.size = (size_t)bytes;
    d.aligned = is_aligned(data, es);
    *t = d;
    return IPCN_OK;
}

int ipcn_tensor_is_contiguous(const ipcn_tensor *t)
{
    if (!t || t->ndim > IPCN_TENSOR_MAX_DIMS)
        return 0;
    int64_t expect = 1;
    for (uint32_t k = t->ndim; k-- > 0;) {
        if (t->shape[k] == 0)
            return 1; /* no elements: nothing to lay out */
        if (t->shape[k] != 1 && t->strides[k] != expect)
            return 0;
        if (__builtin_mul_overflow(expect, t->shape[k], &expect))
            return 0;
    }
    return 1;
}

/* Checks shared by encode and copy: the element count and bytes.  100 or
 * 200. */
static int tensor_check(const ipcn_tensor *t, uint64_t *n, size_t *bytes)
{
    size_t es;
    uint64_t b;
    int ok;
    if (!t || t->ndim > IPCN_TENSOR_MAX_DIMS ||
        !(es = ipcn_dtype_size(t->dtype)))
        return IPCN_BAD_REQUEST;
    if (es > 1 && t->order != IPCN_ORDER_LITTLE && t->order != IPCN_ORDER_BIG)
        return IPCN_BAD_REQUEST;
    *n = numel(t, &ok);
    if (!ok || __builtin_mul_overflow(*n, es, &b) || b > SIZE_MAX ||
        (*n && !t->data))
        return IPCN_BAD_REQUEST;
    *bytes = (size_t)b;
    return IPCN_OK;
}

static void swap_copy(uint8_t *dst, const uint8_t *src, size_t es, int swap)
{
    if (!swap) {
        memcpy(dst, src, es);
        return;
    }
    for (size_t i = 0; i < es; i++)
        dst[i] = src[es - 1 - i];
}

/* Copy t's n elements in row-major order to dst, swapping bytes if asked:
 * one memcpy when contiguous and no swap, else an odometer over the
 * strides. */
static void gather(const ipcn_tensor *t, uint64_t n, uint8_t *dst, int swap)
{
    size_t es = ipcn_dtype_size(t->dtype);
    const uint8_t *base = t->data;
    if (!n)
        return;
    if (!swap && ipcn_tensor_is_contiguous(t)) {
        memcpy(dst, base, (size_t)n * es);
        return;
    }
    int64_t idx[IPCN_TENSOR_MAX_DIMS] = {0};
    int64_t off = 0; /* in elements, from data */
    uint32_t nd = t->ndim;
    for (uint64_t k = 0; k < n; k++) {
        swap_copy(dst, base + off * (int64_t)es, es, swap);
        dst += es;
        for (uint32_t d = nd; d-- > 0;) { /* the odometer */
            if (++idx[d] < t->shape[d]) {
                off += t->strides[d];
                break;
            }
            off -= t->strides[d] * (idx[d] - 1);
            idx[d] = 0;
        }
    }
}

int ipcn_cbor_put_typed_array(ipcn_cbor_writer *w, ipcn_dtype dtype,
                              ipcn_byte_order order, const void *data,
                              size_t count)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    size_t es = ipcn_dtype_size(dtype), bytes;
    if (es == 1)
        order = IPCN_ORDER_NATIVE;
    uint64_t inner, tag = ipcn_typed_array_tag(dtype, order, &inner);
    if (!tag || (count && !data) ||
        __builtin_mul_overflow(count, es, &bytes)) {
        w->status = IPCN_BAD_REQUEST;
        return w->status;
    }
    ipcn_cbor_put_tag(w, tag);
    if (inner)
        ipcn_cbor_put_tag(w, inner);
    return ipcn_cbor_put_bytes(w, data, bytes);
}

int ipcn__tensor_put_head(ipcn_cbor_writer *w, const ipcn_tensor *t,
                          uint8_t **dst, uint64_t *numel)
{
    uint64_t n;
    size_t bytes;
    *dst = NULL;
    if (tensor_check(t, &n, &bytes) != IPCN_OK) {
        w->status = IPCN_BAD_REQUEST;
        return w->status;
    }
    ipcn_byte_order order =
        ipcn_dtype_size(t->dtype) == 1 ? IPCN_ORDER_NATIVE : t->order;
    uint64_t inner, tag = ipcn_typed_array_tag(t->dtype, order, &inner);
    ipcn_cbor_put_tag(w, IPCN_CBOR_TAG_NDARRAY);
    ipcn_cbor_put_array(w, 2);
    ipcn_cbor_put_array(w, t->ndim);
    for (uint32_t i = 0; i < t->ndim; i++)
        ipcn_cbor_put_uint(w, (uint64_t)t->shape[i]);
    ipcn_cbor_put_tag(w, tag);
    if (inner)
        ipcn_cbor_put_tag(w, inner);
    if (numel)
        *numel = n;
    return ipcn_cbor_put_bytes_reserve(w, bytes, dst);
}

int ipcn_tensor_encode(ipcn_cbor_writer *w, const ipcn_tensor *t)
{
    if (!w)
        return IPCN_BAD_REQUEST;
    uint8_t *dst;
    uint64_t n = 0;
    int st = ipcn__tensor_put_head(w, t, &dst, &n);
    if (dst)
        gather(t, n, dst, 0);
    return st;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */
/* ------------------------------------------------------------------ */

/* The next item must be an array: its count, or -1 for indefinite. */
static int read_array(ipcn_cbor_reader *r, int64_t *count)
{
    ipcn_cbor_value v;
    int st = ipcn_cbor_next(r, &v);
    if (st != IPCN_OK)
        return st == IPCN_NO_DATA ? IPCN_BAD_REQUEST : st;
    if (v.type != IPCN_CBOR_ARRAY)
        return IPCN_BAD_REQUEST;
    *count = v.indefinite ? -1 : (int64_t)v.count; /* count <= len */
    return IPCN_OK;
}

/* The elements: a typed array (whose tag head v was read already), or
 * one of IPCNet's tags around one; then its byte string. */
static int read_elements(ipcn_cbor_reader *r, const ipcn_cbor_value *tag,
                         ipcn_tensor *t)
{
    ipcn_cbor_value v = *tag;
    ipcn_dtype dtype;
    ipcn_byte_order order;
    int st;
    if (v.type == IPCN_CBOR_ARRAY)
        return IPCN_NOT_IMPLEMENTED; /* a plain array: no view possible */
    if (v.type != IPCN_CBOR_TAG)
        return IPCN_BAD_REQUEST;
    if (v.u == IPCN_CBOR_TAG_BOOL || v.u == IPCN_CBOR_TAG_BFLOAT16) {
        uint64_t outer = v.u;
        if ((st = ipcn_cbor_next(r, &v)) != IPCN_OK)
            return st == IPCN_NO_DATA ? IPCN_BAD_REQUEST : st;
        if (v.type != IPCN_CBOR_TAG ||
            tag_dtype(v.u, &dtype, &order) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        if (outer == IPCN_CBOR_TAG_BOOL && dtype == IPCN_DTYPE_UINT8 &&
            v.u == 64)
            dtype = IPCN_DTYPE_BOOL;
        else if (outer == IPCN_CBOR_TAG_BFLOAT16 && dtype == IPCN_DTYPE_UINT16)
            dtype = IPCN_DTYPE_BFLOAT16;
        else
            return IPCN_BAD_REQUEST;
    } else if ((st = tag_dtype(v.u, &dtype, &order)) != IPCN_OK) {
        return st;
    }
    if ((st = ipcn_cbor_next(r, &v)) != IPCN_OK)
        return st == IPCN_NO_DATA ? IPCN_BAD_REQUEST : st;
    if (v.type != IPCN_CBOR_BYTES)
        return IPCN_BAD_REQUEST;
    if (v.indefinite)
        return IPCN_NOT_IMPLEMENTED; /* chunks: not one piece of memory */
    size_t es = ipcn_dtype_size(dtype);
    if (v.len % es)
        return IPCN_BAD_REQUEST;
    if (dtype == IPCN_DTYPE_BOOL)
        for (size_t i = 0; i < v.len; i++)
            if (v.ptr[i] > 1)
                return IPCN_BAD_REQUEST;
    t->dtype = dtype;
    t->order = es == 1 ? IPCN_ORDER_NATIVE : order;
    t->data = v.ptr;
    t->size = v.len;
    t->aligned = is_aligned(v.ptr, es);
    return IPCN_OK;
}

int ipcn_tensor_read(ipcn_cbor_reader *r, ipcn_tensor *out)
{
    if (!r || !out)
        return IPCN_BAD_REQUEST;
    ipcn_tensor t;
    memset(&t, 0, sizeof t);
    ipcn_cbor_value v;
    int st = ipcn_cbor_next(r, &v);
    if (st != IPCN_OK)
        return st == IPCN_NO_DATA ? IPCN_BAD_REQUEST : st;
    if (v.type != IPCN_CBOR_TAG)
        return IPCN_BAD_REQUEST;
    int colmajor = 0;
    if (v.u == IPCN_CBOR_TAG_NDARRAY || v.u == IPCN_CBOR_TAG_NDARRAY_COLMAJOR) {
        colmajor = v.u == IPCN_CBOR_TAG_NDARRAY_COLMAJOR;
        int64_t outer, dims;
        if ((st = read_array(r, &outer)) != IPCN_OK)
            return st;
        if (outer != 2 && outer != -1)
            return IPCN_BAD_REQUEST;
        if ((st = read_array(r, &dims)) != IPCN_OK)
            return st;
        for (int64_t i = 0; dims < 0 || i < dims; i++) {
            if ((st = ipcn_cbor_next(r, &v)) != IPCN_OK)
                return st == IPCN_NO_DATA ? IPCN_BAD_REQUEST : st;
            if (v.type == IPCN_CBOR_BREAK && dims < 0)
                break;
            if (v.type != IPCN_CBOR_UINT || v.u > (uint64_t)INT64_MAX)
                return IPCN_BAD_REQUEST;
            if (t.ndim == IPCN_TENSOR_MAX_DIMS)
                return IPCN_NOT_IMPLEMENTED;
            t.shape[t.ndim++] = (int64_t)v.u;
        }
        if ((st = ipcn_cbor_next(r, &v)) != IPCN_OK)
            return st == IPCN_NO_DATA ? IPCN_BAD_REQUEST : st;
        if ((st = read_elements(r, &v, &t)) != IPCN_OK)
            return st;
        if (outer == -1) { /* (_ shape, elements): the break must follow */
            if ((st = ipcn_cbor_next(r, &v)) != IPCN_OK)
                return st == IPCN_NO_DATA ? IPCN_BAD_REQUEST : st;
            if (v.type != IPCN_CBOR_BREAK)
                return IPCN_BAD_REQUEST;
        }
        int ok;
        uint64_t n = numel(&t, &ok), bytes;
        if (!ok ||
            __builtin_mul_overflow(n, ipcn_dtype_size(t.dtype), &bytes) ||
            bytes != t.size)
            return IPCN_BAD_REQUEST;
    } else {
        if ((st = read_elements(r, &v, &t)) != IPCN_OK)
            return st;
        t.ndim = 1;
        t.shape[0] = (int64_t)(t.size / ipcn_dtype_size(t.dtype));
    }
    if (set_strides(&t, colmajor) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    *out = t;
    return IPCN_OK;
}

int ipcn_tensor_decode(const void *buf, size_t len, uint32_t flags,
                       ipcn_tensor *out)
{
    ipcn_cbor_reader r;
    ipcn_tensor t;
    if (!out || (flags & IPCN_CBOR_SEQUENCE) ||
        ipcn_cbor_reader_init(&r, buf, len, flags) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    int st = ipcn_tensor_read(&r, &t);
    if (st != IPCN_OK)
        return st;
    if (ipcn_cbor_next(&r, NULL) != IPCN_NO_DATA)
        return IPCN_BAD_REQUEST; /* more than one item */
    *out = t;
    return IPCN_OK;
}

int ipcn_tensor_copy(const ipcn_tensor *t, void *dst, size_t cap)
{
    uint64_t n;
    size_t bytes;
    if (tensor_check(t, &n, &bytes) != IPCN_OK || (bytes && !dst))
        return IPCN_BAD_REQUEST;
    if (cap < bytes)
        return IPCN_INSUFFICIENT_STORAGE;
    int swap = ipcn_dtype_size(t->dtype) > 1 && t->order != IPCN_ORDER_NATIVE;
    gather(t, n, dst, swap);
    return IPCN_OK;
}
