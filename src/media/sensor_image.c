/* SPDX-License-Identifier: MIT */
/*
 * sensor_image.c — images and camera calibration as IPCNet values
 * (docs/protocol.md, "Sensor messages"; ROS's sensor_msgs/Image and
 * CameraInfo): their maps written, and read back from outside input with
 * every value checked.
 */
#include <string.h>

#include "media/sensor.h"

#define MAX_SIDE 0x7fffffffu /* pixels: dimensions fit an int32 */

/* ------------------------------------------------------------------ */
/* Camera calibration                                                   */
/* ------------------------------------------------------------------ */

int ipcn_camera_info_encode(ipcn_cbor_writer *w, const ipcn_camera_info *ci)
{
    if (!w || !ci || ci->d_count > IPCN_CAMERA_MAX_D ||
        !ipcn__s_cstr_ok(ci->distortion_model, sizeof ci->distortion_model))
        return IPCN_BAD_REQUEST;
    ipcn_cbor_put_map(w, 12);
    if (ipcn__s_put_header(w, &ci->header) == IPCN_BAD_REQUEST)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_put_cstr(w, "width");
    ipcn_cbor_put_uint(w, ci->width);
    ipcn_cbor_put_cstr(w, "height");
    ipcn_cbor_put_uint(w, ci->height);
    ipcn_cbor_put_cstr(w, "distortion_model");
    ipcn_cbor_put_cstr(w, ci->distortion_model);
    ipcn__s_put_numbers(w, "d", ci->d, ci->d_count);
    ipcn__s_put_numbers(w, "k", ci->k, 9);
    ipcn__s_put_numbers(w, "r", ci->r, 9);
    ipcn__s_put_numbers(w, "p", ci->p, 12);
    ipcn_cbor_put_cstr(w, "binning_x");
    ipcn_cbor_put_uint(w, ci->binning_x);
    ipcn_cbor_put_cstr(w, "binning_y");
    ipcn_cbor_put_uint(w, ci->binning_y);
    ipcn_cbor_put_cstr(w, "roi");
    ipcn_cbor_put_map(w, 5);
    ipcn_cbor_put_cstr(w, "x_offset");
    ipcn_cbor_put_uint(w, ci->roi_x_offset);
    ipcn_cbor_put_cstr(w, "y_offset");
    ipcn_cbor_put_uint(w, ci->roi_y_offset);
    ipcn_cbor_put_cstr(w, "width");
    ipcn_cbor_put_uint(w, ci->roi_width);
    ipcn_cbor_put_cstr(w, "height");
    ipcn_cbor_put_uint(w, ci->roi_height);
    ipcn_cbor_put_cstr(w, "do_rectify");
    return ipcn_cbor_put_bool(w, ci->roi_do_rectify);
}

static int read_roi(ipcn_cbor_reader *r, ipcn_camera_info *ci)
{
    static const char *const keys[] = {"x_offset", "y_offset", "width", "height"};
    uint32_t *dst[] = {&ci->roi_x_offset, &ci->roi_y_offset, &ci->roi_width,
                       &ci->roi_height};
    ipcn__smap m;
    ipcn_strview key;
    unsigned seen = 0;
    int st;
    if (ipcn__s_map_open(r, &m) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    while ((st = ipcn__s_map_key(r, &m, &key)) == IPCN_OK) {
        unsigned i = 0;
        while (i < 4 && !ipcn__s_key_is(key, keys[i]))
            i++;
        uint64_t u = 0;
        if (i < 4)
            st = ipcn__s_once(&seen, i) == IPCN_OK ? ipcn__s_uint(r, UINT32_MAX, &u)
                                                   : IPCN_BAD_REQUEST;
        else if (ipcn__s_key_is(key, "do_rectify"))
            st = ipcn__s_once(&seen, 4) == IPCN_OK ? ipcn__s_bool(r, &ci->roi_do_rectify)
                                                   : IPCN_BAD_REQUEST;
        else
            st = ipcn_cbor_skip(r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
        if (st != IPCN_OK)
            return IPCN_BAD_REQUEST;
        if (i < 4)
            *dst[i] = (uint32_t)u;
    }
    return st == IPCN_NO_DATA ? IPCN_OK : IPCN_BAD_REQUEST;
}

/* Keys of a camera_info map beyond the header, in the order of seen's bits
 * (from bit 2). */
enum { CI_WIDTH = 2, CI_HEIGHT, CI_MODEL, CI_D, CI_K, CI_R, CI_P, CI_BX, CI_BY, CI_ROI };

static int camera_key(ipcn_cbor_reader *r, ipcn_strview key, ipcn_camera_info *ci,
                      unsigned *seen)
{
    static const char *const keys[] = {
        [CI_WIDTH] = "width", [CI_HEIGHT] = "height", [CI_MODEL] = "distortion_model",
        [CI_D] = "d",         [CI_K] = "k",           [CI_R] = "r",
        [CI_P] = "p",         [CI_BX] = "binning_x",  [CI_BY] = "binning_y",
        [CI_ROI] = "roi",
    };
    int st = ipcn__s_header_key(r, key, &ci->header, seen);
    if (st != IPCN_NOT_FOUND)
        return st;
    unsigned k = CI_WIDTH;
    while (k <= CI_ROI && !ipcn__s_key_is(key, keys[k]))
        k++;
    if (k > CI_ROI)
        return ipcn_cbor_skip(r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
    if (ipcn__s_once(seen, k) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    uint64_t u = 0;
    size_t n = 0;
    switch (k) {
    case CI_WIDTH:
    case CI_HEIGHT:
    case CI_BX:
    case CI_BY:
        if (ipcn__s_uint(r, UINT32_MAX, &u) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        *(k == CI_WIDTH ? &ci->width : k == CI_HEIGHT ? &ci->height
          : k == CI_BX ? &ci->binning_x : &ci->binning_y) = (uint32_t)u;
        return IPCN_OK;
    case CI_MODEL:
        return ipcn__s_text_copy(r, ci->distortion_model, sizeof ci->distortion_model);
    case CI_D:
        if (ipcn__s_numbers(r, ci->d, IPCN_CAMERA_MAX_D, &n) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        ci->d_count = (uint32_t)n;
        return IPCN_OK;
    case CI_K:
        return ipcn__s_numbers_n(r, ci->k, 9);
    case CI_R:
        return ipcn__s_numbers_n(r, ci->r, 9);
    case CI_P:
        return ipcn__s_numbers_n(r, ci->p, 12);
    default:
        return read_roi(r, ci);
    }
}

int ipcn__s_read_camera_info(ipcn_cbor_reader *r, ipcn_camera_info *out)
{
    ipcn_camera_info ci;
    memset(&ci, 0, sizeof ci);
    ipcn__smap m;
    ipcn_strview key;
    unsigned seen = 0;
    int st;
    if (ipcn__s_map_open(r, &m) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    while ((st = ipcn__s_map_key(r, &m, &key)) == IPCN_OK)
        if (camera_key(r, key, &ci, &seen) != IPCN_OK)
            return IPCN_BAD_REQUEST;
    if (st != IPCN_NO_DATA || !(seen & 1u << CI_WIDTH) || !(seen & 1u << CI_HEIGHT))
        return IPCN_BAD_REQUEST;
    *out = ci;
    return IPCN_OK;
}

int ipcn_camera_info_decode(const void *buf, size_t len, ipcn_camera_info *out)
{
    ipcn_cbor_reader r;
    ipcn_camera_info ci;
    if (!out || ipcn_cbor_reader_init(&r, buf, len, 0) != IPCN_OK ||
        ipcn__s_read_camera_info(&r, &ci) != IPCN_OK || ipcn__s_end(&r) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    *out = ci;
    return IPCN_OK;
}

/* ------------------------------------------------------------------ */
/* Images                                                               */
/* ------------------------------------------------------------------ */

int ipcn_image_init(ipcn_image *img, const char *encoding, uint32_t height,
                    uint32_t width, const void *pixels)
{
    ipcn_dtype dtype;
    uint32_t channels;
    if (!img || !encoding || ipcn_image_format(encoding, &dtype, &channels) != IPCN_OK ||
        strlen(encoding) > IPCN_IMAGE_ENCODING_MAX || height == 0 || width == 0 ||
        height > MAX_SIDE || width > MAX_SIDE)
        return IPCN_BAD_REQUEST;
    ipcn_image d;
    memset(&d, 0, sizeof d);
    int64_t shape[3] = {height, width, channels};
    /* ipcn_tensor_init() wants data for a non-empty tensor: a stand-in,
     * put back to NULL (the place is then reserved by the encoder). */
    if (ipcn_tensor_init(&d.pixels, dtype, 3, shape, pixels ? pixels : (const void *)&d) !=
        IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!pixels) {
        d.pixels.data = NULL;
        d.pixels.aligned = 1;
    }
    strcpy(d.encoding, encoding);
    d.height = height;
    d.width = width;
    d.channels = channels;
    *img = d;
    return IPCN_OK;
}

/* Do img's pixels agree with its format and size?  100 or 200. */
static int image_check(const ipcn_image *img)
{
    ipcn_dtype dtype;
    uint32_t channels;
    const ipcn_tensor *t = &img->pixels;
    if (!ipcn__s_cstr_ok(img->encoding, sizeof img->encoding) ||
        ipcn_image_format(img->encoding, &dtype, &channels) != IPCN_OK ||
        channels != img->channels || t->dtype != dtype || img->height == 0 ||
        img->width == 0 || img->height > MAX_SIDE || img->width > MAX_SIDE)
        return IPCN_BAD_REQUEST;
    int hwc = (t->ndim == 3 && t->shape[2] == channels) || (t->ndim == 2 && channels == 1);
    if (!hwc || t->shape[0] != img->height || t->shape[1] != img->width)
        return IPCN_BAD_REQUEST;
    return IPCN_OK;
}

static int image_fields(ipcn_cbor_writer *w, const void *ctx)
{
    const ipcn_image *img = ctx;
    if (ipcn__s_put_header(w, &img->header) == IPCN_BAD_REQUEST)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_put_cstr(w, "encoding");
    ipcn_cbor_put_cstr(w, img->encoding);
    if (img->has_camera_info) {
        ipcn_cbor_put_cstr(w, "camera_info");
        return ipcn_camera_info_encode(w, &img->camera_info);
    }
    return w->status;
}

int ipcn_image_encode(void *buf, size_t cap, const ipcn_image *img, size_t *len,
                      void **pixels_out)
{
    if (!img || image_check(img) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    /* The pixels always travel as [height, width, channels]. */
    ipcn_tensor t = img->pixels;
    if (t.ndim == 2) {
        t.ndim = 3;
        t.shape[2] = 1;
        t.strides[2] = 1;
    }
    return ipcn__s_encode_aligned(buf, cap, img->has_camera_info ? 4 : 3, image_fields, img,
                                  &t, len, pixels_out);
}

enum { IM_ENCODING = 2, IM_DATA, IM_CAMERA };

int ipcn_image_decode(const void *buf, size_t len, ipcn_image *out)
{
    ipcn_cbor_reader r;
    ipcn__smap m;
    ipcn_strview key;
    unsigned seen = 0;
    int st;
    if (!out || ipcn_cbor_reader_init(&r, buf, len, 0) != IPCN_OK ||
        ipcn__s_map_open(&r, &m) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_image img;
    memset(&img, 0, sizeof img);
    int data_st = IPCN_OK;
    while ((st = ipcn__s_map_key(&r, &m, &key)) == IPCN_OK) {
        st = ipcn__s_header_key(&r, key, &img.header, &seen);
        if (st == IPCN_NOT_FOUND) {
            if (ipcn__s_key_is(key, "encoding"))
                st = ipcn__s_once(&seen, IM_ENCODING) == IPCN_OK
                         ? ipcn__s_text_copy(&r, img.encoding, sizeof img.encoding)
                         : IPCN_BAD_REQUEST;
            else if (ipcn__s_key_is(key, "data"))
                st = ipcn__s_once(&seen, IM_DATA) == IPCN_OK
                         ? (data_st = ipcn_tensor_read(&r, &img.pixels))
                         : IPCN_BAD_REQUEST;
            else if (ipcn__s_key_is(key, "camera_info"))
                st = ipcn__s_once(&seen, IM_CAMERA) == IPCN_OK
                         ? ipcn__s_read_camera_info(&r, &img.camera_info)
                         : IPCN_BAD_REQUEST;
            else
                st = ipcn_cbor_skip(&r, NULL) == IPCN_OK ? IPCN_OK : IPCN_BAD_REQUEST;
        }
        if (st != IPCN_OK)
            return data_st == IPCN_NOT_IMPLEMENTED ? IPCN_NOT_IMPLEMENTED : IPCN_BAD_REQUEST;
    }
    if (st != IPCN_NO_DATA || ipcn__s_end(&r) != IPCN_OK || !(seen & 1u << IM_ENCODING) ||
        !(seen & 1u << IM_DATA))
        return IPCN_BAD_REQUEST;
    ipcn_dtype dtype;
    st = ipcn_image_format(img.encoding, &dtype, &img.channels);
    if (st != IPCN_OK)
        return st; /* 301: a format this library does not know */
    const ipcn_tensor *t = &img.pixels;
    if (t->dtype != dtype || (t->ndim != 3 && t->ndim != 2) ||
        (t->ndim == 3 && t->shape[2] != img.channels) ||
        (t->ndim == 2 && img.channels != 1) || !ipcn_tensor_is_contiguous(t) ||
        t->shape[0] <= 0 || t->shape[1] <= 0 || t->shape[0] > MAX_SIDE ||
        t->shape[1] > MAX_SIDE)
        return IPCN_BAD_REQUEST;
    img.height = (uint32_t)t->shape[0];
    img.width = (uint32_t)t->shape[1];
    img.has_camera_info = (seen & 1u << IM_CAMERA) != 0;
    *out = img;
    return IPCN_OK;
}
