/* SPDX-License-Identifier: MIT */
/*
 * shm_pattern.h — the bytes of sample number seq in the shared-memory
 * tests: every byte depends on seq and on its place, so a sample mixed up
 * with another, shifted, or cut short does not check.
 */
#ifndef IPCN_SHM_PATTERN_H
#define IPCN_SHM_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint8_t s_byte(uint64_t seq, size_t i)
{
    return (uint8_t)(seq * 131u + i * 7u + (i >> 12));
}

static inline void s_fill(void *p, size_t len, uint64_t seq)
{
    uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        b[i] = s_byte(seq, i);
}

static inline int s_check(const void *p, size_t len, uint64_t seq)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++)
        if (b[i] != s_byte(seq, i))
            return 0;
    return 1;
}

#endif
