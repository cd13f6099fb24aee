/* SPDX-License-Identifier: MIT */
/*
 * wire_impl.h — what the wire's files share, private to them:
 * little-endian access and the bounded reader of a frame's body.
 */
#ifndef IPCN_WIRE_IMPL_H
#define IPCN_WIRE_IMPL_H

#include <stdint.h>
#include <string.h>

#include "wire/wire.h"

/* ---- little-endian access ---- */

static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static inline uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}
static inline void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- bounded reader ---- */

typedef struct rd {
    const uint8_t *p, *end;
    int bad;
} rd;

static inline int rd_has(rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    return 1;
}
static inline uint8_t rd_u8(rd *r)
{
    if (!rd_has(r, 1))
        return 0;
    return *r->p++;
}
static inline uint16_t rd_u16(rd *r)
{
    if (!rd_has(r, 2))
        return 0;
    uint16_t v = ld16(r->p);
    r->p += 2;
    return v;
}
static inline uint32_t rd_u32(rd *r)
{
    if (!rd_has(r, 4))
        return 0;
    uint32_t v = ld32(r->p);
    r->p += 4;
    return v;
}
static inline uint64_t rd_u64(rd *r)
{
    if (!rd_has(r, 8))
        return 0;
    uint64_t v = ld64(r->p);
    r->p += 8;
    return v;
}
/* Inlined: two per sample received. */
static inline __attribute__((always_inline)) ipcn__str rd_str(rd *r)
{
    ipcn__str s = {"", 0};
    if (!rd_has(r, 2))
        return s;
    uint16_t n = ld16(r->p);
    r->p += 2;
    if (!rd_has(r, (size_t)n + 1))
        return s;
    if (r->p[n] != 0 || memchr(r->p, 0, n) != NULL) {
        r->bad = 1;
        return s;
    }
    s.p = (const char *)r->p;
    s.len = n;
    r->p += (size_t)n + 1;
    return s;
}
static inline ipcn__blob rd_blob(rd *r)
{
    ipcn__blob b = {NULL, 0};
    uint32_t n = rd_u32(r);
    if (!rd_has(r, n))
        return b;
    b.p = r->p;
    b.len = n;
    r->p += n;
    return b;
}

/* ---- the bodies of wire_route.c (ROUTE, FORWARD), called by
 * ipcn__frame_decode() ---- */
void ipcn__dec_route(rd *r, ipcn__route *out);
void ipcn__dec_forward(rd *r, ipcn__forward *out);
/* Finish a frame begun at off, rolling back on failure (wire.c). */
int ipcn__frame_finish(ipcn__wbuf *w, size_t off);

#endif
