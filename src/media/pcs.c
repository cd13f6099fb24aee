/* SPDX-License-Identifier: MIT */
/*
 * pcs.c — IPCNet's point-cloud sweep files: a 16-byte header, then sweeps
 * of float32 x, y, z, intensity records (layout in include/ipcnet_media.h).
 */
#include <string.h>

#include "media/media.h"
#include "util/util.h"

int ipcn_media_pcs_header(const void *buf, size_t len, ipcn_media_desc *out)
{
    if (!buf || !out || len < IPCN_MEDIA_PCS_HEADER)
        return IPCN_BAD_REQUEST;
    const uint8_t *p = buf;
    if (memcmp(p, IPCN_MEDIA_PCS_MAGIC, 8) != 0)
        return IPCN_BAD_REQUEST;
    uint32_t num = ipcn__le32(p + 8), den = ipcn__le32(p + 12);
    if ((num == 0) != (den == 0))
        return IPCN_BAD_REQUEST;
    if (ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_media_desc, pointcloud)) !=
        IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_media_desc d;
    ipcn_media_desc_init(&d, IPCN_MEDIA_POINTCLOUD);
    strcpy(d.pointcloud.fields, "x,y,z,intensity");
    d.pointcloud.dtype = IPCN_DTYPE_FLOAT32;
    d.pointcloud.rate_num = num;
    d.pointcloud.rate_den = den;
    ipcn__sized_out(out, &d, sizeof d);
    return IPCN_OK;
}

int ipcn_media_pcs_next(const void *buf, size_t len, size_t *pos,
                        const uint8_t **points, size_t *bytes, uint32_t *count)
{
    if (!buf || !pos || !points || !bytes || !count || *pos > len)
        return IPCN_BAD_REQUEST;
    const uint8_t *p = buf;
    size_t at = *pos;
    if (at == len)
        return IPCN_NO_DATA;
    if (len - at < IPCN_MEDIA_PCS_SWEEP_HEADER)
        return IPCN_BAD_REQUEST;
    uint32_t n = ipcn__le32(p + at);
    if (ipcn__le32(p + at + 4) != 0 || n > IPCN_MEDIA_PCS_MAX_POINTS)
        return IPCN_BAD_REQUEST;
    size_t size = (size_t)n * IPCN_MEDIA_PCS_POINT;
    at += IPCN_MEDIA_PCS_SWEEP_HEADER;
    if (len - at < size)
        return IPCN_BAD_REQUEST;
    *points = p + at;
    *bytes = size;
    *count = n;
    *pos = at + size;
    return IPCN_OK;
}

void ipcn_media_pcs_write_header(uint8_t out[16], uint32_t rate_num,
                                 uint32_t rate_den)
{
    memcpy(out, IPCN_MEDIA_PCS_MAGIC, 8);
    ipcn__put_le32(out + 8, rate_num);
    ipcn__put_le32(out + 12, rate_den);
}

void ipcn_media_pcs_write_sweep(uint8_t out[8], uint32_t points)
{
    ipcn__put_le32(out, points);
    ipcn__put_le32(out + 4, 0);
}
