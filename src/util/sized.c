/* SPDX-License-Identifier: MIT */
/* sized.c — the one check of the public structs that start with a size
 * field (ipcnet.h, "Sized structs"): options the library reads, counters
 * and results it writes. */
#include <string.h>

#include "util.h"

static uint32_t size_of(const void *s)
{
    uint32_t size;
    memcpy(&size, s, sizeof size);
    return size;
}

int ipcn__sized_in(void *dst, size_t known, const void *in, size_t first)
{
    if (!in)
        return IPCN_BAD_REQUEST;
    uint32_t size = size_of(in);
    if (size < first || size > known)
        return IPCN_BAD_REQUEST;
    memcpy((char *)dst + sizeof size, (const char *)in + sizeof size,
           size - sizeof size);
    uint32_t k = (uint32_t)known;
    memcpy(dst, &k, sizeof k);
    return IPCN_OK;
}

int ipcn__sized_check(const void *out, size_t first)
{
    return out && size_of(out) >= first ? IPCN_OK : IPCN_BAD_REQUEST;
}

void ipcn__sized_out(void *out, const void *src, size_t known)
{
    uint32_t size = size_of(out);
    size_t n = size < known ? size : known;
    memcpy((char *)out + sizeof size, (const char *)src + sizeof size,
           n - sizeof size);
}
