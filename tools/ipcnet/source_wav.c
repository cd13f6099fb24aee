/* SPDX-License-Identifier: MIT */
/*
 * source_wav.c — a WAV file (PCM or float) read as 20 ms packets of its
 * data chunk (source.h); the stream's description keeps what a receiver
 * needs to rebuild the file's header.
 */
#include <inttypes.h>
#include <stdint.h>

#include "source.h"

int open_wav(cli *c, const char *file, source *s)
{
    ipcn_media_wav w;
    int st = ipcn_media_wav_parse(s->map, s->size, &w);
    if (st == IPCN_PARTIAL_DATA)
        cli_warn("%s is cut short: sending the %" PRIu64 " frames it holds", file, w.frames);
    else if (st == IPCN_NOT_IMPLEMENTED)
        return cli_fail(st, "%s: a WAV encoding other than PCM or float", file);
    else if (st != IPCN_OK)
        return cli_fail(st, "%s is not a valid WAV file", file);
    ipcn_media_desc *d = &s->desc;
    ipcn_media_desc_init(d, IPCN_MEDIA_AUDIO);
    d->audio.format = w.format;
    d->audio.rate = w.rate;
    d->audio.channels = w.channels;
    d->audio.valid_bits = w.valid_bits != w.bits ? w.valid_bits : 0;
    d->audio.channel_mask = w.channel_mask;
    d->audio.samples_per_packet = w.rate >= 50 ? w.rate / 50 : 1; /* 20 ms */
    /* The file's own header layout, when a receiver can rebuild it. */
    uint8_t hdr[IPCN_MEDIA_WAV_HEADER_MAX];
    size_t hn;
    if (ipcn_media_wav_header(&w, w.data_len, hdr, sizeof hdr, &hn) == IPCN_OK) {
        d->audio.wav_format_tag = w.format_tag;
        d->audio.wav_fmt_size = w.fmt_size;
        d->audio.wav_fact = w.has_fact;
    }
    s->packet = (size_t)d->audio.samples_per_packet * w.block_align;
    d->samples = (w.data_len + s->packet - 1) / s->packet;
    s->pos = w.data_offset;
    s->end = w.data_offset + w.data_len;
    (void)c;
    return 0;
}

/* The next 20 ms of the data chunk (the last packet may be shorter). */
int next_wav(source *s, const uint8_t **data, size_t *len)
{
    if (s->pos >= s->end)
        return IPCN_NO_DATA;
    size_t n = s->end - s->pos < s->packet ? s->end - s->pos : s->packet;
    *data = s->map + s->pos;
    *len = n;
    s->pos += n;
    return IPCN_OK;
}
