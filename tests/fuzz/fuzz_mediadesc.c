/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mediadesc.c — libFuzzer harness of what a subscriber reads from a
 * media stream's publisher: the encoding string and the metadata map
 * (src/media/desc.c), and of the .pcs sweep file reader (src/media/pcs.c).
 *
 * The input is "ENCODING\0META" (META: the bytes after the first NUL, none
 * when there is no NUL).  Properties: a description that decodes writes
 * an encoding and a metadata map that decode to the same description;
 * its sample size and presentation times are computed without overflow.
 * The whole input is also read as a .pcs file: every sweep lies inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipcnet_media.h"

static void fd_desc(const char *enc, const uint8_t *meta, size_t meta_len)
{
    ipcn_media_desc d = {.size = sizeof d};
    int st = ipcn_media_desc_decode(enc, meta, meta_len, &d);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST || st == IPCN_NOT_FOUND ||
                st == IPCN_NOT_IMPLEMENTED || st == IPCN_INSUFFICIENT_MEMORY);
    if (st != IPCN_OK)
        return;
    char enc2[IPCN_ENCODING_MAX_LEN + 1];
    FUZZ_ASSERT(ipcn_media_encoding(&d, enc2, sizeof enc2) == IPCN_OK);
    size_t need = 0;
    FUZZ_ASSERT(ipcn_media_meta_encode(&d, NULL, 0, &need) ==
                IPCN_INSUFFICIENT_STORAGE);
    uint8_t *m2 = malloc(need);
    FUZZ_ASSERT(m2);
    size_t n2 = 0;
    FUZZ_ASSERT(ipcn_media_meta_encode(&d, m2, need, &n2) == IPCN_OK && n2 == need);
    ipcn_media_desc d2 = {.size = sizeof d2};
    FUZZ_ASSERT(ipcn_media_desc_decode(enc2, m2, n2, &d2) == IPCN_OK);
    FUZZ_ASSERT(memcmp(&d, &d2, sizeof d) == 0);
    free(m2);

    uint64_t unit = 0, pts = 0, prev = 0;
    int exact = 0;
    st = ipcn_media_sample_bytes(&d, &unit, &exact);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_NOT_IMPLEMENTED);
    static const uint64_t seqs[] = {1, 2, 3, 1000, 1ull << 32, 1ull << 48, UINT64_MAX};
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        st = ipcn_media_pts_ns(&d, seqs[i], &pts);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_NOT_FOUND || st == IPCN_BAD_REQUEST);
        if (st != IPCN_OK)
            break;
        FUZZ_ASSERT(i == 0 ? pts == 0 : pts >= prev);
        prev = pts;
    }
}

static void fd_pcs(const uint8_t *in, size_t n)
{
    ipcn_media_desc d = {.size = sizeof d};
    if (ipcn_media_pcs_header(in, n, &d) != IPCN_OK)
        return;
    size_t pos = IPCN_MEDIA_PCS_HEADER, used = IPCN_MEDIA_PCS_HEADER;
    const uint8_t *pts;
    size_t bytes;
    uint32_t count;
    int st;
    while ((st = ipcn_media_pcs_next(in, n, &pos, &pts, &bytes, &count)) == IPCN_OK) {
        FUZZ_ASSERT(bytes == (size_t)count * IPCN_MEDIA_PCS_POINT);
        FUZZ_ASSERT(pts >= in && pts + bytes <= in + n);
        used += IPCN_MEDIA_PCS_SWEEP_HEADER + bytes;
        FUZZ_ASSERT(pos == used && pos <= n);
    }
    FUZZ_ASSERT(st == IPCN_NO_DATA || st == IPCN_BAD_REQUEST);
    FUZZ_ASSERT(st != IPCN_NO_DATA || pos == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t en = nul ? (size_t)(nul - data) : size;
    char *enc = malloc(en + 1);
    size_t mn = nul ? size - en - 1 : 0;
    uint8_t *meta = malloc(mn ? mn : 1); /* exact size: ASan sees overreads */
    uint8_t *all = malloc(size ? size : 1);
    if (!enc || !meta || !all) {
        free(enc);
        free(meta);
        free(all);
        return 0;
    }
    memcpy(enc, data, en);
    enc[en] = 0;
    if (mn)
        memcpy(meta, nul + 1, mn);
    fd_desc(enc, mn ? meta : NULL, mn);
    memcpy(all, data, size);
    fd_pcs(all, size);
    free(enc);
    free(meta);
    free(all);
    return 0;
}
