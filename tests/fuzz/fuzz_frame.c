/* SPDX-License-Identifier: MIT */
/*
 * fuzz_frame.c — libFuzzer harness of the frame codec (src/wire).
 *
 * The input is a link's byte stream.  It is read twice, frame after frame,
 * as a node reads it: once as it is, and once with each frame's checksum
 * made right first, so that the fuzzer reaches the body decoders without
 * having to forge XXH3.  For every frame, these must hold:
 *  - ipcn__frame_check() answers NEED_MORE (asking for more than there
 *    is), 100, 200 or 305, and never reads past avail (ASan);
 *  - an accepted frame is not accepted from any shorter prefix;
 *  - ipcn__frame_decode() answers 100 or 200;
 *  - a decoded frame encodes again to exactly the same bytes (the layout
 *    is canonical: one set of fields, one encoding).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/vectors.h"
#include "fuzz_common.h"
#include "wire/wire.h"

static void ff_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t ff_len_of(const uint8_t *hdr)
{
    return (uint32_t)hdr[12] | (uint32_t)hdr[13] << 8 |
           (uint32_t)hdr[14] << 16 | (uint32_t)hdr[15] << 24;
}

/* One accepted frame of need bytes at p. */
static void ff_accepted(const uint8_t *p, size_t need)
{
    FUZZ_ASSERT(need >= IPCN_WIRE_HDR_SIZE);
    uint32_t len = ff_len_of(p);
    FUZZ_ASSERT(need == (size_t)IPCN_WIRE_HDR_SIZE + len);
    FUZZ_ASSERT(len <= IPCN_WIRE_MAX_PAYLOAD);

    /* not accepted one byte early, and the reader is told what to wait
     * for */
    size_t need2 = 0;
    int st = ipcn__frame_check(p, need - 1, IPCN_WIRE_MAX_PAYLOAD, &need2);
    FUZZ_ASSERT(st == IPCN_WIRE_NEED_MORE);
    FUZZ_ASSERT(need2 == (need - 1 < IPCN_WIRE_HDR_SIZE ? IPCN_WIRE_HDR_SIZE
                                                         : need));
    /* a receiver whose limit is one byte lower refuses it outright */
    if (len > 0) {
        st = ipcn__frame_check(p, IPCN_WIRE_HDR_SIZE, len - 1, &need2);
        FUZZ_ASSERT(st == IPCN_BAD_REQUEST);
    }

    ipcn__frame f;
    memset(&f, 0xA5, sizeof f);
    st = ipcn__frame_decode(p, need, &f);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    if (st != IPCN_OK)
        return;
    FUZZ_ASSERT(f.hdr.version == IPCN_WIRE_VERSION && f.hdr.flags == 0);
    FUZZ_ASSERT(f.hdr.len == len);

    ipcn__wbuf w = {0};
    st = vec_encode(&w, &f);
    FUZZ_ASSERT(st == IPCN_OK);
    FUZZ_ASSERT(w.len == need);
    FUZZ_ASSERT(memcmp(w.p, p, need) == 0);
    ipcn__wbuf_free(&w);
}

/* Read buf as a stream of frames; fix: make each checksum right first. */
static void ff_walk(uint8_t *buf, size_t n, int fix)
{
    size_t pos = 0;
    while (pos <= n) {
        uint8_t *p = buf + pos;
        size_t avail = n - pos;
        if (fix && avail >= IPCN_WIRE_HDR_SIZE) {
            size_t len = ff_len_of(p);
            if (len <= avail - IPCN_WIRE_HDR_SIZE)
                ff_put64(p + 40, ipcn__frame_checksum(
                                     p, p + IPCN_WIRE_HDR_SIZE, len));
        }
        size_t need = 0;
        int st = ipcn__frame_check(p, avail, IPCN_WIRE_MAX_PAYLOAD, &need);
        if (st == IPCN_WIRE_NEED_MORE) {
            FUZZ_ASSERT(need > avail);
            FUZZ_ASSERT(need == IPCN_WIRE_HDR_SIZE ||
                        (avail >= IPCN_WIRE_HDR_SIZE &&
                         need == IPCN_WIRE_HDR_SIZE + (size_t)ff_len_of(p)));
            return;
        }
        if (st != IPCN_OK) {
            FUZZ_ASSERT(st == IPCN_BAD_REQUEST ||
                        st == IPCN_VERSION_NOT_SUPPORTED);
            /* 305 only ever for a whole header with the magic intact */
            FUZZ_ASSERT(st != IPCN_VERSION_NOT_SUPPORTED ||
                        (avail >= IPCN_WIRE_HDR_SIZE &&
                         memcmp(p, "IPCN", 4) == 0 && p[4] != 1));
            return;
        }
        FUZZ_ASSERT(need <= avail);
        ff_accepted(p, need);
        pos += need;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exact-size heap copies, so that ASan sees a read one byte past. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    ff_walk(copy, size, 0);
    ff_walk(copy, size, 1);

    /* The decoder on its own, on bytes the check did not see: it trusts
     * nothing but frame_len. */
    ipcn__frame f;
    int st = ipcn__frame_decode(data, size, &f);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    free(copy);
    return 0;
}
