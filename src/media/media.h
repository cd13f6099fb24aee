/* SPDX-License-Identifier: MIT */
/* media.h — what the files of the media layer (src/media/) share: a bit
 * reader over an H.264 NAL unit's payload, little-endian loads and stores. */
#ifndef IPCN_MEDIA_INTERNAL_H
#define IPCN_MEDIA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ipcnet_media.h"

/*
 * Reads the RBSP of a NAL unit bit by bit from its bytes as they are in
 * the stream: an emulation prevention byte (03 after 00 00) is skipped,
 * and the bytes end at len or at a start code (00 00 00, 00 00 01 or
 * 00 00 02 cannot occur inside a NAL unit).  Reading past the end sets
 * err (and at_len when the end was len, not a start code: more bytes may
 * come) and gives zeros.
 */
typedef struct ipcn__rbsp {
    const uint8_t *p;
    size_t len, pos;     /* the next byte to load is p[pos] */
    unsigned zeros;      /* zero bytes just loaded, in a row */
    uint32_t cur;        /* the byte being read */
    int left;            /* its bits not read yet */
    int err, at_len;
} ipcn__rbsp;

void ipcn__rbsp_init(ipcn__rbsp *r, const uint8_t *p, size_t len);
uint32_t ipcn__rbsp_u(ipcn__rbsp *r, unsigned n);   /* n <= 32 */
/* ue(v) up to 2^32 - 2; more than 31 leading zeros sets err. */
uint32_t ipcn__rbsp_ue(ipcn__rbsp *r);
int64_t ipcn__rbsp_se(ipcn__rbsp *r);

static inline uint16_t ipcn__le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ipcn__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline void ipcn__put_le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void ipcn__put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

#endif
