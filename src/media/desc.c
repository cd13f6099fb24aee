/* SPDX-License-Identifier: MIT */
/*
 * desc.c — the description of a media stream: the encoding string and the
 * metadata map a publisher announces, read back by a subscriber from both
 * (outside input, checked value by value), and the presentation time of a
 * sample from its sequence number.
 */
#include <stdio.h>
#include <string.h>

#include "media/media.h"
#include "util/util.h"

#define MAX_FIELDS 16
#define MAX_SIDE 65535u             /* pixels */
#define MAX_PACKET (1u << 24)       /* frames per audio sample */
#define MAX_POINTS (1u << 24)       /* points per sweep */

void ipcn_media_desc_init(ipcn_media_desc *d, ipcn_media_kind kind)
{
    if (!d)
        return;
    memset(d, 0, sizeof *d);
    d->size = sizeof *d;
    d->kind = kind;
    if (kind == IPCN_MEDIA_POINTCLOUD)
        d->pointcloud.dtype = IPCN_DTYPE_FLOAT32;
}

/* ------------------------------------------------------------------ */
/* Checks                                                               */
/* ------------------------------------------------------------------ */

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* A NUL-terminated string within cap bytes made of name characters. */
static int is_token(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == 0 || n == cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i]))
            return 0;
    return 1;
}

/* "x,y,z": 1..MAX_FIELDS names; returns how many, 0 when invalid. */
static unsigned count_fields(const char *s, size_t n)
{
    unsigned k = 0;
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && name_char(s[i]))
            i++;
        if (i == start || ++k > MAX_FIELDS)
            return 0;
        if (i < n) {
            if (s[i] != ',' || i + 1 == n)
                return 0;
            i++;
        }
    }
    return k;
}

/* Bytes of a raw picture, 0 for an unknown pixel format. */
static uint64_t raw_picture_bytes(const char *fmt, uint64_t w, uint64_t h)
{
    static const struct {
        const char *name;
        unsigned bpp;
    } packed[] = {
        {"gray8", 1}, {"gray16le", 2}, {"rgb24", 3}, {"bgr24", 3},
        {"rgba", 4},  {"bgra", 4},     {"argb", 4},  {"abgr", 4},
        {"yuyv422", 2}, {"uyvy422", 2},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(packed); i++)
        if (strcmp(fmt, packed[i].name) == 0)
            return w * h * packed[i].bpp;
    if (!strcmp(fmt, "yuv420p") || !strcmp(fmt, "nv12") || !strcmp(fmt, "nv21"))
        return w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2);
    return 0;
}

static int check_rate(uint32_t num, uint32_t den)
{
    return (num == 0) == (den == 0);
}

/* The first version of ipcn_media_desc (0.1). */
#define DESC_FIRST IPCN__SIZE_TO(ipcn_media_desc, pointcloud)

/* Is d a description ipcn_media_encoding() can write? */
static int desc_valid(const ipcn_media_desc *d)
{
    switch (d->kind) {
    case IPCN_MEDIA_VIDEO:
        if (!check_rate(d->video.fps_num, d->video.fps_den) ||
            d->video.width > MAX_SIDE || d->video.height > MAX_SIDE)
            return 0;
        if (!strcmp(d->video.codec, "h264"))
            return 1;
        return !strcmp(d->video.codec, "raw") &&
               is_token(d->video.format, sizeof d->video.format) &&
               d->video.width && d->video.height;
    case IPCN_MEDIA_AUDIO: {
        unsigned bytes = ipcn_media_pcm_bytes(d->audio.format);
        return bytes && d->audio.rate && d->audio.rate <= INT32_MAX &&
               d->audio.channels && d->audio.channels <= IPCN_MEDIA_MAX_CHANNELS &&
               d->audio.valid_bits <= bytes * 8 &&
               d->audio.samples_per_packet <= MAX_PACKET;
    }
    case IPCN_MEDIA_POINTCLOUD: {
        size_t n = strnlen(d->pointcloud.fields, sizeof d->pointcloud.fields);
        return n < sizeof d->pointcloud.fields &&
               count_fields(d->pointcloud.fields, n) &&
               ipcn_dtype_size(d->pointcloud.dtype) &&
               d->pointcloud.points_per_sample <= MAX_POINTS &&
               check_rate(d->pointcloud.rate_num, d->pointcloud.rate_den);
    }
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* Encoding                                                             */
/* ------------------------------------------------------------------ */

/* Read the caller's description into *d (the one check of sized structs):
 * 1 when it is valid. */
static int desc_in(const ipcn_media_desc *in, ipcn_media_desc *d)
{
    ipcn_media_desc_init(d, IPCN_MEDIA_VIDEO);
    return ipcn__sized_in(d, sizeof *d, in, DESC_FIRST) == IPCN_OK &&
           desc_valid(d);
}

int ipcn_media_encoding(const ipcn_media_desc *in, char *buf, size_t cap)
{
    ipcn_media_desc dd, *d = &dd;
    if (!desc_in(in, d) || (!buf && cap))
        return IPCN_BAD_REQUEST;
    int n;
    switch (d->kind) {
    case IPCN_MEDIA_VIDEO:
        if (!strcmp(d->video.codec, "h264"))
            n = snprintf(buf, cap, "video/h264;stream-format=byte-stream;alignment=au");
        else
            n = snprintf(buf, cap, "video/raw;format=%s;width=%u;height=%u",
                         d->video.format, d->video.width, d->video.height);
        break;
    case IPCN_MEDIA_AUDIO:
        n = snprintf(buf, cap, "audio/pcm;rate=%u;channels=%u;format=%s",
                     d->audio.rate, d->audio.channels,
                     ipcn_media_pcm_name(d->audio.format));
        break;
    default:
        n = snprintf(buf, cap, "pointcloud;fields=%s;dtype=%s",
                     d->pointcloud.fields, ipcn_dtype_name(d->pointcloud.dtype));
        break;
    }
    if (n < 0 || (size_t)n >= cap)
        return IPCN_INSUFFICIENT_STORAGE;
    return IPCN_OK;
}

/* ------------------------------------------------------------------ */
/* Metadata: encode                                                     */
/* ------------------------------------------------------------------ */

static void put_kv_text(ipcn_cbor_writer *w, const char *k, const char *v)
{
    ipcn_cbor_put_cstr(w, k);
    ipcn_cbor_put_cstr(w, v);
}

static void put_kv_uint(ipcn_cbor_writer *w, const char *k, uint64_t v)
{
    ipcn_cbor_put_cstr(w, k);
    ipcn_cbor_put_uint(w, v);
}

static void put_kv_rate(ipcn_cbor_writer *w, const char *k, uint32_t num,
                        uint32_t den)
{
    ipcn_cbor_put_cstr(w, k);
    ipcn_cbor_put_array(w, 2);
    ipcn_cbor_put_uint(w, num);
    ipcn_cbor_put_uint(w, den);
}

int ipcn_media_meta_encode(const ipcn_media_desc *in, void *buf, size_t cap,
                           size_t *len)
{
    ipcn_media_desc dd, *d = &dd;
    if (!desc_in(in, d) || (!buf && cap) || !len)
        return IPCN_BAD_REQUEST;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, IPCN_CBOR_DETERMINISTIC);
    uint64_t pairs = 1 + (d->samples != 0);
    switch (d->kind) {
    case IPCN_MEDIA_VIDEO: {
        int fps = d->video.fps_num != 0, raw = !strcmp(d->video.codec, "raw");
        pairs += 1 + raw + 2 * (d->video.width && d->video.height) + fps;
        ipcn_cbor_put_map(&w, pairs);
        put_kv_text(&w, "media", "video");
        put_kv_text(&w, "codec", d->video.codec);
        if (raw)
            put_kv_text(&w, "format", d->video.format);
        if (d->video.width && d->video.height) {
            put_kv_uint(&w, "width", d->video.width);
            put_kv_uint(&w, "height", d->video.height);
        }
        if (fps)
            put_kv_rate(&w, "fps", d->video.fps_num, d->video.fps_den);
        break;
    }
    case IPCN_MEDIA_AUDIO: {
        const typeof(d->audio) *a = &d->audio;
        unsigned bits = ipcn_media_pcm_bytes(a->format) * 8;
        int wav = a->wav_format_tag != 0;
        pairs += 5 + (a->samples_per_packet != 0) + (a->channel_mask != 0) + wav;
        ipcn_cbor_put_map(&w, pairs);
        put_kv_text(&w, "media", "audio");
        put_kv_text(&w, "codec", "pcm");
        put_kv_uint(&w, "rate", a->rate);
        put_kv_uint(&w, "channels", a->channels);
        put_kv_text(&w, "format", ipcn_media_pcm_name(a->format));
        put_kv_uint(&w, "bits", a->valid_bits ? a->valid_bits : bits);
        if (a->samples_per_packet)
            put_kv_uint(&w, "samples_per_packet", a->samples_per_packet);
        if (a->channel_mask)
            put_kv_uint(&w, "channel_mask", a->channel_mask);
        if (wav) {
            ipcn_cbor_put_cstr(&w, "wav");
            ipcn_cbor_put_map(&w, 3);
            put_kv_uint(&w, "format_tag", a->wav_format_tag);
            put_kv_uint(&w, "fmt_size", a->wav_fmt_size);
            ipcn_cbor_put_cstr(&w, "fact");
            ipcn_cbor_put_bool(&w, a->wav_fact != 0);
        }
        break;
    }
    default: {
        const typeof(d->pointcloud) *p = &d->pointcloud;
        size_t n = strlen(p->fields);
        unsigned nf = count_fields(p->fields, n);
        pairs += 3 + (p->points_per_sample != 0) + (p->rate_num != 0);
        ipcn_cbor_put_map(&w, pairs);
        put_kv_text(&w, "media", "pointcloud");
        ipcn_cbor_put_cstr(&w, "fields");
        ipcn_cbor_put_array(&w, nf);
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && p->fields[j] != ',')
                j++;
            ipcn_cbor_put_text(&w, p->fields + i, j - i);
            i = j + 1;
        }
        put_kv_text(&w, "dtype", ipcn_dtype_name(p->dtype));
        put_kv_uint(&w, "point_stride", nf * ipcn_dtype_size(p->dtype));
        if (p->points_per_sample)
            put_kv_uint(&w, "points_per_sample", p->points_per_sample);
        if (p->rate_num)
            put_kv_rate(&w, "rate", p->rate_num, p->rate_den);
        break;
    }
    }
    if (d->samples)
        put_kv_uint(&w, "samples", d->samples);
    return ipcn_cbor_writer_finish(&w, len);
}

/* ------------------------------------------------------------------ */
/* Encoding and metadata: decode                                        */
/* ------------------------------------------------------------------ */

static int view_is(ipcn_strview v, const char *s)
{
    size_t n = strlen(s);
    if (v.len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((v.ptr[i] | 0x20) != s[i])
            return 0;
    return 1;
}

/* Parameters: 0 when present and good (*out set), -1 otherwise. */
static int param_u32(const ipcn_encoding *e, const char *key, uint32_t min,
                     uint32_t max, uint32_t *out)
{
    int64_t v;
    if (ipcn_encoding_param_int(e, key, &v) != IPCN_OK || v < min || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Copy a parameter's value into dst[0..cap) as a C string. */
static int param_str(const ipcn_encoding *e, const char *key, char *dst,
                     size_t cap)
{
    ipcn_strview v;
    if (ipcn_encoding_param(e, key, &v) != IPCN_OK || v.len == 0 || v.len >= cap)
        return -1;
    memcpy(dst, v.ptr, v.len);
    dst[v.len] = 0;
    return 0;
}

static int from_encoding(const char *encoding, ipcn_media_desc *d)
{
    ipcn_encoding e;
    if (ipcn_encoding_parse(encoding, &e) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_strview v;
    if (ipcn_encoding_is(&e, "video/h264")) {
        ipcn_media_desc_init(d, IPCN_MEDIA_VIDEO);
        strcpy(d->video.codec, "h264");
        /* Other framings (avc: length-prefixed NAL units; one NAL unit
         * per sample) are valid, but not what this layer cuts. */
        if (ipcn_encoding_param(&e, "stream-format", &v) == IPCN_OK &&
            !view_is(v, "byte-stream"))
            return IPCN_NOT_IMPLEMENTED;
        if (ipcn_encoding_param(&e, "alignment", &v) == IPCN_OK && !view_is(v, "au"))
            return IPCN_NOT_IMPLEMENTED;
        return IPCN_OK;
    }
    if (ipcn_encoding_is(&e, "video/raw")) {
        ipcn_media_desc_init(d, IPCN_MEDIA_VIDEO);
        strcpy(d->video.codec, "raw");
        if (param_str(&e, "format", d->video.format, sizeof d->video.format) ||
            !is_token(d->video.format, sizeof d->video.format) ||
            param_u32(&e, "width", 1, MAX_SIDE, &d->video.width) ||
            param_u32(&e, "height", 1, MAX_SIDE, &d->video.height))
            return IPCN_BAD_REQUEST;
        return IPCN_OK;
    }
    if (ipcn_encoding_is(&e, "audio/pcm")) {
        ipcn_media_desc_init(d, IPCN_MEDIA_AUDIO);
        if (param_u32(&e, "rate", 1, INT32_MAX, &d->audio.rate) ||
            param_u32(&e, "channels", 1, IPCN_MEDIA_MAX_CHANNELS, &d->audio.channels) ||
            ipcn_encoding_param(&e, "format", &v) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        d->audio.format = ipcn_media_pcm_from_name(v.ptr, v.len);
        return d->audio.format ? IPCN_OK : IPCN_BAD_REQUEST;
    }
    if (ipcn_encoding_is(&e, "pointcloud")) {
        ipcn_media_desc_init(d, IPCN_MEDIA_POINTCLOUD);
        char dt[16];
        if (param_str(&e, "fields", d->pointcloud.fields, sizeof d->pointcloud.fields) ||
            !count_fields(d->pointcloud.fields, strlen(d->pointcloud.fields)) ||
            param_str(&e, "dtype", dt, sizeof dt))
            return IPCN_BAD_REQUEST;
        d->pointcloud.dtype = ipcn_dtype_from_name(dt);
        return d->pointcloud.dtype ? IPCN_OK : IPCN_BAD_REQUEST;
    }
    return IPCN_NOT_FOUND;
}

/* Metadata values: each getter returns 1 when the key is absent, 0 when
 * it is there and good (*out set), -1 when it is of the wrong type or out
 * of range. */
static int meta_uint(const ipcn_cbor_item *m, const char *key, uint64_t max,
                     uint64_t *out)
{
    const ipcn_cbor_item *v = ipcn_cbor_map_find(m, key);
    if (!v)
        return 1;
    if (v->type != IPCN_CBOR_UINT || v->u > max)
        return -1;
    *out = v->u;
    return 0;
}

static int text_is(const ipcn_cbor_item *v, const char *s)
{
    return v && v->type == IPCN_CBOR_TEXT && v->len == strlen(s) &&
           memcmp(v->ptr, s, v->len) == 0;
}

/* The key, when present, must be text equal to s. */
static int meta_same_text(const ipcn_cbor_item *m, const char *key,
                          const char *s)
{
    const ipcn_cbor_item *v = ipcn_cbor_map_find(m, key);
    return !v || text_is(v, s);
}

/* The key, when present, must be a uint equal to x. */
static int meta_same_uint(const ipcn_cbor_item *m, const char *key, uint64_t x)
{
    uint64_t v;
    int r = meta_uint(m, key, UINT64_MAX, &v);
    return r > 0 || (r == 0 && v == x);
}

/* [num, den], both 1..2^32-1. */
static int meta_rate(const ipcn_cbor_item *m, const char *key, uint32_t *num,
                     uint32_t *den)
{
    const ipcn_cbor_item *v = ipcn_cbor_map_find(m, key);
    if (!v)
        return 1;
    if (v->type != IPCN_CBOR_ARRAY || v->count != 2 ||
        v->items[0].type != IPCN_CBOR_UINT || v->items[1].type != IPCN_CBOR_UINT ||
        v->items[0].u == 0 || v->items[1].u == 0 ||
        v->items[0].u > UINT32_MAX || v->items[1].u > UINT32_MAX)
        return -1;
    *num = (uint32_t)v->items[0].u;
    *den = (uint32_t)v->items[1].u;
    return 0;
}

static int meta_video(const ipcn_cbor_item *m, ipcn_media_desc *d)
{
    uint64_t w = 0, h = 0;
    int rw = meta_uint(m, "width", MAX_SIDE, &w);
    int rh = meta_uint(m, "height", MAX_SIDE, &h);
    if (rw < 0 || rh < 0 || rw != rh || (rw == 0 && (w == 0 || h == 0)) ||
        !meta_same_text(m, "codec", d->video.codec))
        return IPCN_BAD_REQUEST;
    if (!strcmp(d->video.codec, "raw")) {
        if ((rw == 0 && (w != d->video.width || h != d->video.height)) ||
            !meta_same_text(m, "format", d->video.format))
            return IPCN_BAD_REQUEST;
    } else if (rw == 0) {
        d->video.width = (uint32_t)w;
        d->video.height = (uint32_t)h;
    }
    if (meta_rate(m, "fps", &d->video.fps_num, &d->video.fps_den) < 0)
        return IPCN_BAD_REQUEST;
    return IPCN_OK;
}

static int meta_audio(const ipcn_cbor_item *m, ipcn_media_desc *d)
{
    unsigned bits = ipcn_media_pcm_bytes(d->audio.format) * 8;
    uint64_t valid = 0, spp = 0, mask = 0, tag = 0, fmt_size = 0;
    if (!meta_same_text(m, "codec", "pcm") ||
        !meta_same_uint(m, "rate", d->audio.rate) ||
        !meta_same_uint(m, "channels", d->audio.channels) ||
        !meta_same_text(m, "format", ipcn_media_pcm_name(d->audio.format)) ||
        meta_uint(m, "bits", bits, &valid) < 0 ||
        meta_uint(m, "samples_per_packet", MAX_PACKET, &spp) < 0 ||
        meta_uint(m, "channel_mask", UINT32_MAX, &mask) < 0)
        return IPCN_BAD_REQUEST;
    d->audio.valid_bits = valid == bits ? 0 : (uint32_t)valid;
    d->audio.samples_per_packet = (uint32_t)spp;
    d->audio.channel_mask = (uint32_t)mask;
    const ipcn_cbor_item *wav = ipcn_cbor_map_find(m, "wav");
    if (wav) {
        const ipcn_cbor_item *fact = ipcn_cbor_map_find(wav, "fact");
        if (wav->type != IPCN_CBOR_MAP ||
            meta_uint(wav, "format_tag", 0xffff, &tag) != 0 ||
            meta_uint(wav, "fmt_size", 40, &fmt_size) != 0 ||
            !fact || fact->type != IPCN_CBOR_BOOL)
            return IPCN_BAD_REQUEST;
        /* Checked the way the header writer will use them. */
        ipcn_media_wav h;
        memset(&h, 0, sizeof h);
        h.format = d->audio.format;
        h.rate = d->audio.rate;
        h.channels = d->audio.channels;
        h.valid_bits = d->audio.valid_bits;
        h.format_tag = (uint16_t)tag;
        h.fmt_size = (uint16_t)fmt_size;
        h.has_fact = (uint32_t)fact->u;
        uint8_t hdr[IPCN_MEDIA_WAV_HEADER_MAX];
        size_t n;
        if (tag == 0 || ipcn_media_wav_header(&h, 0, hdr, sizeof hdr, &n) != IPCN_OK)
            return IPCN_BAD_REQUEST;
        d->audio.wav_format_tag = (uint16_t)tag;
        d->audio.wav_fmt_size = (uint16_t)fmt_size;
        d->audio.wav_fact = (uint32_t)fact->u;
    }
    return IPCN_OK;
}

static int meta_pointcloud(const ipcn_cbor_item *m, ipcn_media_desc *d)
{
    const char *f = d->pointcloud.fields;
    size_t n = strlen(f);
    unsigned nf = count_fields(f, n);
    const ipcn_cbor_item *fields = ipcn_cbor_map_find(m, "fields");
    if (fields) {
        if (fields->type != IPCN_CBOR_ARRAY || fields->count != nf)
            return IPCN_BAD_REQUEST;
        size_t i = 0;
        for (unsigned k = 0; k < nf; k++) {
            size_t j = i;
            while (j < n && f[j] != ',')
                j++;
            const ipcn_cbor_item *it = &fields->items[k];
            if (it->type != IPCN_CBOR_TEXT || it->len != j - i ||
                memcmp(it->ptr, f + i, j - i) != 0)
                return IPCN_BAD_REQUEST;
            i = j + 1;
        }
    }
    uint64_t pps = 0;
    if (!meta_same_text(m, "dtype", ipcn_dtype_name(d->pointcloud.dtype)) ||
        !meta_same_uint(m, "point_stride", nf * ipcn_dtype_size(d->pointcloud.dtype)) ||
        meta_uint(m, "points_per_sample", MAX_POINTS, &pps) < 0 ||
        meta_rate(m, "rate", &d->pointcloud.rate_num, &d->pointcloud.rate_den) < 0)
        return IPCN_BAD_REQUEST;
    d->pointcloud.points_per_sample = (uint32_t)pps;
    return IPCN_OK;
}

int ipcn_media_desc_decode(const char *encoding, const void *meta,
                           size_t meta_len, ipcn_media_desc *out)
{
    if (!encoding || ipcn__sized_check(out, DESC_FIRST) != IPCN_OK ||
        (!meta && meta_len))
        return IPCN_BAD_REQUEST;
    ipcn_media_desc d;
    int st = from_encoding(encoding, &d);
    if (st != IPCN_OK || meta_len == 0) {
        if (st == IPCN_OK)
            ipcn__sized_out(out, &d, sizeof d);
        return st;
    }
    ipcn_cbor_item *root = NULL;
    st = ipcn_cbor_tree_decode(meta, meta_len, 0, &root);
    if (st == IPCN_INSUFFICIENT_MEMORY)
        return st;
    const ipcn_cbor_item *media = st == IPCN_OK ? ipcn_cbor_map_find(root, "media") : NULL;
    st = IPCN_OK;
    if (media) { /* a media map: it must agree with the encoding */
        static const char *const kinds[] = {"", "video", "audio", "pointcloud"};
        uint64_t samples = 0;
        if (!text_is(media, kinds[d.kind]) ||
            meta_uint(root, "samples", UINT64_MAX, &samples) < 0)
            st = IPCN_BAD_REQUEST;
        else if (d.kind == IPCN_MEDIA_VIDEO)
            st = meta_video(root, &d);
        else if (d.kind == IPCN_MEDIA_AUDIO)
            st = meta_audio(root, &d);
        else
            st = meta_pointcloud(root, &d);
        d.samples = samples;
    }
    ipcn_cbor_tree_free(root);
    if (st == IPCN_OK)
        ipcn__sized_out(out, &d, sizeof d);
    return st;
}

/* ------------------------------------------------------------------ */
/* Sizes and times                                                      */
/* ------------------------------------------------------------------ */

int ipcn_media_sample_bytes(const ipcn_media_desc *in, uint64_t *unit,
                            int *exact)
{
    ipcn_media_desc dd, *d = &dd;
    if (!desc_in(in, d) || !unit || !exact)
        return IPCN_BAD_REQUEST;
    uint64_t u = 0;
    int ex = 0;
    switch (d->kind) {
    case IPCN_MEDIA_VIDEO:
        if (!strcmp(d->video.codec, "raw")) {
            u = raw_picture_bytes(d->video.format, d->video.width, d->video.height);
            if (!u)
                return IPCN_NOT_IMPLEMENTED;
            ex = 1;
        }
        break;
    case IPCN_MEDIA_AUDIO:
        u = (uint64_t)d->audio.channels * ipcn_media_pcm_bytes(d->audio.format);
        break;
    default: {
        const char *f = d->pointcloud.fields;
        u = count_fields(f, strlen(f)) * ipcn_dtype_size(d->pointcloud.dtype);
        if (d->pointcloud.points_per_sample) {
            u *= d->pointcloud.points_per_sample;
            ex = 1;
        }
        break;
    }
    }
    *unit = u;
    *exact = ex;
    return IPCN_OK;
}

int ipcn_media_pts_ns(const ipcn_media_desc *in, uint64_t seq, uint64_t *out)
{
    ipcn_media_desc dd, *d = &dd;
    if (!desc_in(in, d) || seq == 0 || !out)
        return IPCN_BAD_REQUEST;
    uint64_t num, den; /* the sample duration is num / den seconds */
    switch (d->kind) {
    case IPCN_MEDIA_VIDEO:
        num = d->video.fps_den;
        den = d->video.fps_num;
        break;
    case IPCN_MEDIA_AUDIO:
        num = d->audio.samples_per_packet;
        den = d->audio.rate;
        break;
    default:
        num = d->pointcloud.rate_den;
        den = d->pointcloud.rate_num;
        break;
    }
    if (num == 0 || den == 0)
        return IPCN_NOT_FOUND;
    unsigned __int128 t = (unsigned __int128)(seq - 1) * num * 1000000000u / den;
    if (t > UINT64_MAX)
        return IPCN_BAD_REQUEST;
    *out = (uint64_t)t;
    return IPCN_OK;
}
