/* SPDX-License-Identifier: MIT */
/*
 * fuzz_wav.c — libFuzzer harness of the WAV parser and header writer
 * (src/media/wav.c).
 *
 * The input is a WAV file.  Properties of a file that parses:
 *  - the samples it finds lie inside the input, in whole frames;
 *  - a header written for its format (in the usual layout, and in the
 *    file's own layout when the writer accepts it) parses back, in front
 *    of the same samples, to the same format and the same samples;
 *  - a file cut anywhere before its end never parses as more samples.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipcnet_media.h"

/* Write hdr for w's samples, parse header + samples, compare. */
static void fw_roundtrip(const ipcn_media_wav *w, const uint8_t *samples,
                         int own_layout)
{
    ipcn_media_wav h = *w;
    if (!own_layout) {
        h.format_tag = 0;
        h.fmt_size = 0;
        h.has_fact = 0;
    }
    uint8_t hdr[IPCN_MEDIA_WAV_HEADER_MAX];
    size_t hn = 0;
    int st = ipcn_media_wav_header(&h, w->data_len, hdr, sizeof hdr, &hn);
    if (own_layout && st == IPCN_BAD_REQUEST)
        return; /* a layout the writer does not make (fmt size 50...) */
    FUZZ_ASSERT(st == IPCN_OK);
    FUZZ_ASSERT(hn >= 44 && hn <= sizeof hdr);
    size_t total = hn + w->data_len + (w->data_len & 1);
    uint8_t *file = malloc(total);
    FUZZ_ASSERT(file);
    memcpy(file, hdr, hn);
    memcpy(file + hn, samples, w->data_len);
    if (w->data_len & 1)
        file[total - 1] = 0;
    ipcn_media_wav r;
    FUZZ_ASSERT(ipcn_media_wav_parse(file, total, &r) == IPCN_OK);
    FUZZ_ASSERT(r.format == w->format && r.rate == w->rate &&
                r.channels == w->channels && r.block_align == w->block_align);
    FUZZ_ASSERT(r.valid_bits == w->valid_bits);
    FUZZ_ASSERT(r.data_offset == hn && r.data_len == w->data_len);
    FUZZ_ASSERT(memcmp(file + r.data_offset, samples, r.data_len) == 0);
    if (own_layout) {
        FUZZ_ASSERT(r.format_tag == w->format_tag && r.fmt_size == w->fmt_size);
        FUZZ_ASSERT(r.channel_mask == w->channel_mask);
    }
    free(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan sees any read past the end. */
    uint8_t *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    ipcn_media_wav w;
    int st = ipcn_media_wav_parse(in, size, &w);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_PARTIAL_DATA ||
                st == IPCN_BAD_REQUEST || st == IPCN_NOT_IMPLEMENTED);
    if (st == IPCN_OK || st == IPCN_PARTIAL_DATA) {
        FUZZ_ASSERT(w.data_offset <= size && w.data_len <= size - w.data_offset);
        FUZZ_ASSERT(w.block_align == w.channels * ipcn_media_pcm_bytes(w.format));
        FUZZ_ASSERT(w.frames * w.block_align == w.data_len);
        FUZZ_ASSERT(w.valid_bits >= 1 && w.valid_bits <= w.bits);
        FUZZ_ASSERT((st == IPCN_PARTIAL_DATA) == !!(w.flags & IPCN_MEDIA_WAV_TRUNCATED));
        fw_roundtrip(&w, in + w.data_offset, 0);
        fw_roundtrip(&w, in + w.data_offset, 1);
        /* cut short: never more samples */
        for (size_t cut = size / 2; cut < size; cut += 1 + (size - cut) / 2) {
            ipcn_media_wav c;
            int cst = ipcn_media_wav_parse(in, cut, &c);
            if (cst == IPCN_OK || cst == IPCN_PARTIAL_DATA)
                FUZZ_ASSERT(c.data_len <= w.data_len);
        }
    }
    free(in);
    return 0;
}
