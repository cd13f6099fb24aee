/* SPDX-License-Identifier: MIT */
/*
 * fuzz_h264.c — libFuzzer harness of the H.264 Annex B splitter and the
 * SPS reader (src/media/h264.c, h264_sps.c).
 *
 * Input: byte 0 picks max_au (64 << (b0 & 7)), byte 1 the chunk size the
 * stream is fed in (1 + 3 * b1); the rest is the stream.  The stream is
 * split twice, in those chunks and in one piece, and the properties are:
 *  - every byte fed comes out once: in a unit, as garbage, or dropped
 *    with a unit over max_au;
 *  - no unit is over max_au, each lies where its offset says, and the
 *    units follow one another;
 *  - without garbage or drops, the units put back together are the
 *    stream, and how it was chunked changes nothing;
 *  - the NAL walk of each unit stays inside it; SPS parsing of each unit,
 *    and of the raw input as one NAL unit, never reads outside.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipcnet_media.h"

typedef struct fh_run {
    uint8_t *out;        /* the units, end to end */
    size_t out_len;
    size_t units;
    uint64_t hash;       /* of the unit boundaries and flags */
    ipcn_media_h264_stats st;
} fh_run;

static void fh_check_unit(const ipcn_media_au *au, size_t max_au)
{
    FUZZ_ASSERT(au->len > 0 && au->len <= max_au);
    FUZZ_ASSERT(au->nal_count >= 1);
    size_t pos = 0, nals = 0;
    const uint8_t *nal;
    size_t n;
    while (ipcn_media_h264_nal_next(au->data, au->len, &pos, &nal, &n) == IPCN_OK) {
        FUZZ_ASSERT(nal >= au->data && n >= 1 && nal + n <= au->data + au->len);
        FUZZ_ASSERT(pos <= au->len);
        nals++;
    }
    FUZZ_ASSERT(pos == au->len);
    ipcn_media_h264_sps sps;
    int st = ipcn_media_h264_find_sps(au->data, au->len, &sps);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_NOT_FOUND || st == IPCN_BAD_REQUEST);
    if (st == IPCN_OK) {
        FUZZ_ASSERT(sps.width >= 1 && sps.width <= sps.coded_width);
        FUZZ_ASSERT(sps.height >= 1 && sps.height <= sps.coded_height);
        FUZZ_ASSERT(sps.coded_width <= 16384 && sps.coded_height <= 16384);
        FUZZ_ASSERT((sps.fps_num == 0) == (sps.fps_den == 0));
    }
    (void)nals;
}

/* Split data[0..n) fed in chunks of chunk bytes (0: one piece). */
static void fh_split(const uint8_t *data, size_t n, size_t max_au, size_t chunk,
                     fh_run *r)
{
    memset(r, 0, sizeof *r);
    r->out = malloc(n ? n : 1);
    FUZZ_ASSERT(r->out);
    ipcn_media_h264 *s = NULL;
    FUZZ_ASSERT(ipcn_media_h264_new(max_au, &s) == IPCN_OK);
    size_t fed = 0;
    uint64_t next_off = 0;
    r->hash = 1469598103934665603ull;
    for (;;) {
        int last = fed == n;
        if (!last) {
            size_t k = chunk && chunk < n - fed ? chunk : n - fed;
            FUZZ_ASSERT(ipcn_media_h264_feed(s, data + fed, k) == IPCN_OK);
            fed += k;
        } else {
            FUZZ_ASSERT(ipcn_media_h264_finish(s) == IPCN_OK);
        }
        int st;
        ipcn_media_au au;
        long rounds = 0;
        while ((st = ipcn_media_h264_next(s, &au)) != IPCN_NO_DATA) {
            FUZZ_ASSERT(++rounds < 1000000);
            FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST ||
                        st == IPCN_INSUFFICIENT_STORAGE);
            if (st != IPCN_OK)
                continue;
            fh_check_unit(&au, max_au);
            FUZZ_ASSERT(au.offset >= next_off && au.offset + au.len <= n);
            next_off = au.offset + au.len;
            FUZZ_ASSERT(r->out_len + au.len <= n);
            memcpy(r->out + r->out_len, au.data, au.len);
            r->out_len += au.len;
            r->units++;
            r->hash = (r->hash ^ (au.len * 31 + au.flags)) * 1099511628211ull;
        }
        if (last)
            break;
    }
    ipcn_media_au au;
    FUZZ_ASSERT(ipcn_media_h264_next(s, &au) == IPCN_NO_DATA);
    FUZZ_ASSERT(ipcn_media_h264_feed(s, data, n) == IPCN_BAD_REQUEST);
    r->st.size = sizeof r->st;
    ipcn_media_h264_get_stats(s, &r->st);
    ipcn_media_h264_free(s);
    FUZZ_ASSERT(r->st.bytes_in == n);
    FUZZ_ASSERT(r->st.aus == r->units);
    /* every byte comes out once */
    FUZZ_ASSERT(r->out_len + r->st.garbage_bytes + r->st.dropped_bytes == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max_au = (size_t)64 << (data[0] & 7);
    size_t chunk = 1 + 3 * (size_t)data[1];
    const uint8_t *in = data + 2;
    size_t n = size - 2;

    fh_run a, b;
    fh_split(in, n, max_au, chunk, &a);
    fh_split(in, n, max_au, 0, &b);
    if (a.st.garbage_bytes == 0 && a.st.dropped_aus == 0)
        FUZZ_ASSERT(a.out_len == n && memcmp(a.out, in, n) == 0);
    if (a.st.dropped_aus == 0 && b.st.dropped_aus == 0) {
        FUZZ_ASSERT(a.units == b.units && a.hash == b.hash);
        FUZZ_ASSERT(a.out_len == b.out_len && memcmp(a.out, b.out, a.out_len) == 0);
        FUZZ_ASSERT(a.st.garbage_bytes == b.st.garbage_bytes);
    }
    free(a.out);
    free(b.out);

    /* The raw input as one NAL unit, in an exact-size copy. */
    uint8_t *nal = malloc(n ? n : 1);
    if (nal) {
        memcpy(nal, in, n);
        ipcn_media_h264_sps sps;
        int st = ipcn_media_h264_parse_sps(nal, n, &sps);
        FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
        free(nal);
    }
    return 0;
}
