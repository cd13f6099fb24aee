/* SPDX-License-Identifier: MIT */
/*
 * h264_sps.c — reads an H.264 sequence parameter set (ITU-T H.264
 * 7.3.2.1.1 and E.1.1) up to the VUI's timing info: the profile, the
 * picture size after cropping, and the frame rate when it is sent.
 * Every value read is checked against the range the standard allows
 * before it is used.
 */
#include <string.h>

#include "media/media.h"
#include "util/util.h"

/* Profiles whose SPS carries chroma format, bit depths and scaling lists. */
static int high_profile(uint32_t p)
{
    switch (p) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86:
    case 118: case 128: case 138: case 139: case 134: case 135:
        return 1;
    default:
        return 0;
    }
}

static void skip_scaling_list(ipcn__rbsp *r, unsigned size)
{
    int64_t last = 8, next = 8;
    for (unsigned j = 0; j < size && !r->err; j++) {
        if (next != 0) {
            int64_t delta = ipcn__rbsp_se(r);
            if (delta < -128 || delta > 127) {
                r->err = 1;
                return;
            }
            next = (last + delta + 256) % 256;
        }
        if (next != 0)
            last = next;
    }
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The VUI up to its timing info (E.1.1). */
static void read_vui_timing(ipcn__rbsp *r, ipcn_media_h264_sps *s)
{
    if (ipcn__rbsp_u(r, 1)) {                 /* aspect_ratio_info_present */
        if (ipcn__rbsp_u(r, 8) == 255)        /* Extended_SAR */
            ipcn__rbsp_u(r, 32);              /* sar_width, sar_height */
    }
    if (ipcn__rbsp_u(r, 1))                   /* overscan_info_present */
        ipcn__rbsp_u(r, 1);
    if (ipcn__rbsp_u(r, 1)) {                 /* video_signal_type_present */
        ipcn__rbsp_u(r, 4);                   /* video_format, full_range */
        if (ipcn__rbsp_u(r, 1))               /* colour_description_present */
            ipcn__rbsp_u(r, 24);
    }
    if (ipcn__rbsp_u(r, 1)) {                 /* chroma_loc_info_present */
        if (ipcn__rbsp_ue(r) > 5 || ipcn__rbsp_ue(r) > 5)
            r->err = 1;
    }
    if (r->err || !ipcn__rbsp_u(r, 1))        /* timing_info_present */
        return;
    uint32_t units = ipcn__rbsp_u(r, 32), scale = ipcn__rbsp_u(r, 32);
    uint32_t fixed = ipcn__rbsp_u(r, 1);
    if (r->err || units == 0 || scale == 0)
        return; /* the standard wants both > 0: no frame rate then */
    /* A frame is two fields' ticks: fps = scale / (2 * units). */
    uint64_t den = 2ull * units;
    uint64_t g = gcd64(scale, den);
    uint64_t num = scale / g;
    den /= g;
    if (den > UINT32_MAX)
        return; /* a rate this struct cannot hold exactly */
    s->fps_num = (uint32_t)num;
    s->fps_den = (uint32_t)den;
    s->fixed_frame_rate = fixed;
}

int ipcn_media_h264_parse_sps(const void *nal, size_t len,
                              ipcn_media_h264_sps *out)
{
    if (!nal || !out || len < 4)
        return IPCN_BAD_REQUEST;
    const uint8_t *p = nal;
    if ((p[0] & 0x80u) || (p[0] & 0x1fu) != 7)
        return IPCN_BAD_REQUEST;
    ipcn_media_h264_sps s;
    memset(&s, 0, sizeof s);
    ipcn__rbsp r;
    ipcn__rbsp_init(&r, p + 1, len - 1);
    s.profile_idc = ipcn__rbsp_u(&r, 8);
    s.constraint_flags = ipcn__rbsp_u(&r, 8) >> 2;
    s.level_idc = ipcn__rbsp_u(&r, 8);
    s.sps_id = ipcn__rbsp_ue(&r);
    if (r.err || s.sps_id > 31)
        return IPCN_BAD_REQUEST;
    s.chroma_format_idc = 1;
    s.bit_depth_luma = s.bit_depth_chroma = 8;
    uint32_t separate_planes = 0;
    if (high_profile(s.profile_idc)) {
        s.chroma_format_idc = ipcn__rbsp_ue(&r);
        if (s.chroma_format_idc > 3)
            return IPCN_BAD_REQUEST;
        if (s.chroma_format_idc == 3)
            separate_planes = ipcn__rbsp_u(&r, 1);
        uint32_t bdl = ipcn__rbsp_ue(&r), bdc = ipcn__rbsp_ue(&r);
        if (bdl > 6 || bdc > 6)
            return IPCN_BAD_REQUEST;
        s.bit_depth_luma = 8 + bdl;
        s.bit_depth_chroma = 8 + bdc;
        ipcn__rbsp_u(&r, 1); /* qpprime_y_zero_transform_bypass */
        if (ipcn__rbsp_u(&r, 1)) { /* seq_scaling_matrix_present */
            unsigned lists = s.chroma_format_idc != 3 ? 8 : 12;
            for (unsigned i = 0; i < lists && !r.err; i++)
                if (ipcn__rbsp_u(&r, 1))
                    skip_scaling_list(&r, i < 6 ? 16 : 64);
        }
    }
    if (ipcn__rbsp_ue(&r) > 12) /* log2_max_frame_num_minus4 */
        return IPCN_BAD_REQUEST;
    uint32_t poc_type = ipcn__rbsp_ue(&r);
    if (poc_type > 2)
        return IPCN_BAD_REQUEST;
    if (poc_type == 0) {
        if (ipcn__rbsp_ue(&r) > 12) /* log2_max_pic_order_cnt_lsb_minus4 */
            return IPCN_BAD_REQUEST;
    } else if (poc_type == 1) {
        ipcn__rbsp_u(&r, 1);  /* delta_pic_order_always_zero */
        ipcn__rbsp_se(&r);    /* offset_for_non_ref_pic */
        ipcn__rbsp_se(&r);    /* offset_for_top_to_bottom_field */
        uint32_t n = ipcn__rbsp_ue(&r);
        if (n > 255)
            return IPCN_BAD_REQUEST;
        for (uint32_t i = 0; i < n && !r.err; i++)
            ipcn__rbsp_se(&r);
    }
    if (ipcn__rbsp_ue(&r) > 16) /* max_num_ref_frames */
        return IPCN_BAD_REQUEST;
    ipcn__rbsp_u(&r, 1); /* gaps_in_frame_num_value_allowed */
    uint32_t w_mbs = ipcn__rbsp_ue(&r), h_units = ipcn__rbsp_ue(&r);
    s.frame_mbs_only = ipcn__rbsp_u(&r, 1);
    if (r.err)
        return IPCN_BAD_REQUEST;
    /* 16384 pixels a side at most: 1024 macroblocks (512 map units of
     * field pairs when frame_mbs_only is 0). */
    if (w_mbs >= 1024 || h_units >= (s.frame_mbs_only ? 1024u : 512u))
        return IPCN_BAD_REQUEST;
    if (!s.frame_mbs_only)
        ipcn__rbsp_u(&r, 1); /* mb_adaptive_frame_field */
    ipcn__rbsp_u(&r, 1);     /* direct_8x8_inference */
    s.coded_width = (w_mbs + 1) * 16;
    s.coded_height = (h_units + 1) * 16 * (2 - s.frame_mbs_only);
    uint32_t crop[4] = {0, 0, 0, 0}; /* left, right, top, bottom */
    if (ipcn__rbsp_u(&r, 1))
        for (int i = 0; i < 4; i++)
            crop[i] = ipcn__rbsp_ue(&r);
    if (r.err)
        return IPCN_BAD_REQUEST;
    /* Cropping is in chroma samples (6.2, 7.4.2.1.1). */
    uint32_t array_type = separate_planes ? 0 : s.chroma_format_idc;
    uint32_t sub_w = array_type == 1 || array_type == 2 ? 2 : 1;
    uint32_t sub_h = array_type == 1 ? 2 : 1;
    uint32_t cx = array_type ? sub_w : 1;
    uint32_t cy = (array_type ? sub_h : 1) * (2 - s.frame_mbs_only);
    uint64_t cw = ((uint64_t)crop[0] + crop[1]) * cx;
    uint64_t ch = ((uint64_t)crop[2] + crop[3]) * cy;
    if (cw >= s.coded_width || ch >= s.coded_height)
        return IPCN_BAD_REQUEST;
    s.width = s.coded_width - (uint32_t)cw;
    s.height = s.coded_height - (uint32_t)ch;
    if (ipcn__rbsp_u(&r, 1) && !r.err) /* vui_parameters_present */
        read_vui_timing(&r, &s);
    /* A VUI cut short before its timing info is tolerated (the size is
     * known); one that is malformed (out-of-range values) is not. */
    if (r.err && !r.at_len)
        return IPCN_BAD_REQUEST;
    *out = s;
    return IPCN_OK;
}

int ipcn_media_h264_find_sps(const void *buf, size_t len,
                             ipcn_media_h264_sps *out)
{
    if (!buf || !out)
        return IPCN_BAD_REQUEST;
    size_t pos = 0;
    const uint8_t *nal;
    size_t n;
    while (ipcn_media_h264_nal_next(buf, len, &pos, &nal, &n) == IPCN_OK) {
        if ((nal[0] & 0x9fu) == 7) /* forbidden bit 0, type 7 */
            return ipcn_media_h264_parse_sps(nal, n, out);
    }
    return IPCN_NOT_FOUND;
}
