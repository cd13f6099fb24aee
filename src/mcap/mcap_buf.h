/* SPDX-License-Identifier: MIT */
/* mcap_buf.h — the MCAP code's growable buffer and little-endian writers
 * (internal to src/mcap/). */
#ifndef IPCNET_MCAP_BUF_H
#define IPCNET_MCAP_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct mcap_buf {
    uint8_t *p;
    size_t len, cap;
} mcap_buf;

/* Room for n more bytes; 0 or -1 (out of memory). */
static inline int mb_reserve(mcap_buf *b, size_t n)
{
    if (n <= b->cap - b->len)
        return 0;
    if (n > SIZE_MAX / 2 - b->len)
        return -1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q)
        return -1;
    b->p = q;
    b->cap = cap;
    return 0;
}

static inline int mb_put(mcap_buf *b, const void *p, size_t n)
{
    if (mb_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static inline void mb_le(uint8_t *d, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = (uint8_t)(v >> (8 * i));
}

static inline int mb_u8(mcap_buf *b, uint8_t v) { return mb_put(b, &v, 1); }
static inline int mb_uN(mcap_buf *b, uint64_t v, int n)
{
    uint8_t d[8];
    mb_le(d, v, n);
    return mb_put(b, d, (size_t)n);
}
static inline int mb_u16(mcap_buf *b, uint16_t v) { return mb_uN(b, v, 2); }
static inline int mb_u32(mcap_buf *b, uint32_t v) { return mb_uN(b, v, 4); }
static inline int mb_u64(mcap_buf *b, uint64_t v) { return mb_uN(b, v, 8); }
static inline int mb_str(mcap_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > UINT32_MAX)
        return -1;
    return mb_u32(b, (uint32_t)n) || mb_put(b, s, n) ? -1 : 0;
}

static inline void mb_free(mcap_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
