/* SPDX-License-Identifier: MIT */
/*
 * wav.c — PCM sample formats, the WAV (RIFF WAVE) parser and the writer of
 * the header a receiver puts back in front of the samples.
 *
 * The parser trusts no size in the file: every chunk is checked against
 * the bytes actually there before it is read or skipped.
 */
#include <string.h>

#include "media/media.h"
#include "util/util.h"

static const struct {
    const char *name;
    unsigned bytes;
} pcm_tab[] = {
    [IPCN_MEDIA_PCM_INVALID] = {"", 0},
    [IPCN_MEDIA_PCM_U8] = {"u8", 1},
    [IPCN_MEDIA_PCM_S16LE] = {"s16le", 2},
    [IPCN_MEDIA_PCM_S24LE] = {"s24le", 3},
    [IPCN_MEDIA_PCM_S32LE] = {"s32le", 4},
    [IPCN_MEDIA_PCM_F32LE] = {"f32le", 4},
    [IPCN_MEDIA_PCM_F64LE] = {"f64le", 8},
};

const char *ipcn_media_pcm_name(ipcn_media_pcm fmt)
{
    return (unsigned)fmt < IPCN__ARRAY_SIZE(pcm_tab) ? pcm_tab[fmt].name : "";
}

unsigned ipcn_media_pcm_bytes(ipcn_media_pcm fmt)
{
    return (unsigned)fmt < IPCN__ARRAY_SIZE(pcm_tab) ? pcm_tab[fmt].bytes : 0;
}

ipcn_media_pcm ipcn_media_pcm_from_name(const char *s, size_t n)
{
    if (!s)
        return IPCN_MEDIA_PCM_INVALID;
    for (unsigned f = 1; f < IPCN__ARRAY_SIZE(pcm_tab); f++) {
        const char *name = pcm_tab[f].name;
        if (strlen(name) != n)
            continue;
        size_t i = 0;
        while (i < n && (s[i] | 0x20) == name[i])
            i++;
        if (i == n)
            return (ipcn_media_pcm)f;
    }
    return IPCN_MEDIA_PCM_INVALID;
}

static int is_float(ipcn_media_pcm f)
{
    return f == IPCN_MEDIA_PCM_F32LE || f == IPCN_MEDIA_PCM_F64LE;
}

/* KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: the first two bytes are the
 * format tag, the other 14 are the same for both. */
static const uint8_t guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                      0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

/* The fmt chunk's body f[0..n), n >= 16, into w. */
static int parse_fmt(const uint8_t *f, uint64_t n, ipcn_media_wav *w)
{
    uint32_t tag = ipcn__le16(f), ch = ipcn__le16(f + 2);
    uint32_t rate = ipcn__le32(f + 4), align = ipcn__le16(f + 12);
    uint32_t bits = ipcn__le16(f + 14);
    uint32_t valid = bits, mask = 0, sub = tag;
    if (n > 0xffff)
        return IPCN_BAD_REQUEST;
    if (tag == IPCN_MEDIA_WAVE_EXTENSIBLE) {
        if (n < 40 || ipcn__le16(f + 16) < 22)
            return IPCN_BAD_REQUEST;
        valid = ipcn__le16(f + 18);
        mask = ipcn__le32(f + 20);
        sub = ipcn__le16(f + 24);
        if (memcmp(f + 26, guid_tail, sizeof guid_tail) != 0)
            return IPCN_NOT_IMPLEMENTED; /* a subformat not of this family */
        if (valid == 0)
            valid = bits;
    }
    if (sub != IPCN_MEDIA_WAVE_PCM && sub != IPCN_MEDIA_WAVE_FLOAT)
        return IPCN_NOT_IMPLEMENTED; /* ADPCM, mu-law, MP3... */
    if (ch == 0 || rate == 0 || rate > INT32_MAX || bits == 0)
        return IPCN_BAD_REQUEST;
    if (ch > IPCN_MEDIA_MAX_CHANNELS)
        return IPCN_NOT_IMPLEMENTED;
    /* The container: whole bytes (a 12-bit PCM file stores 16). */
    uint32_t container = (bits + 7) / 8 * 8;
    if (valid > container)
        return IPCN_BAD_REQUEST;
    ipcn_media_pcm fmt = IPCN_MEDIA_PCM_INVALID;
    if (sub == IPCN_MEDIA_WAVE_FLOAT) {
        if (bits == 32 && valid == 32)
            fmt = IPCN_MEDIA_PCM_F32LE;
        else if (bits == 64 && valid == 64)
            fmt = IPCN_MEDIA_PCM_F64LE;
    } else {
        switch (container) {
        case 8: fmt = IPCN_MEDIA_PCM_U8; break;
        case 16: fmt = IPCN_MEDIA_PCM_S16LE; break;
        case 24: fmt = IPCN_MEDIA_PCM_S24LE; break;
        case 32: fmt = IPCN_MEDIA_PCM_S32LE; break;
        default: break;
        }
    }
    if (fmt == IPCN_MEDIA_PCM_INVALID)
        return bits > 64 ? IPCN_BAD_REQUEST : IPCN_NOT_IMPLEMENTED;
    if (align != ch * (container / 8) || (uint64_t)rate * align > UINT32_MAX)
        return IPCN_BAD_REQUEST; /* the byte rate could not be written */
    if (tag != IPCN_MEDIA_WAVE_EXTENSIBLE && bits != container)
        valid = bits; /* PCM's bits field is the significant bits */
    w->format = fmt;
    w->rate = rate;
    w->channels = ch;
    w->bits = container;
    w->valid_bits = valid;
    w->channel_mask = mask;
    w->block_align = align;
    w->format_tag = (uint16_t)tag;
    w->fmt_size = (uint16_t)n;
    return IPCN_OK;
}

/* A data size a writer that could not seek back leaves: 0xffffffff, or
 * just under 2 GiB (espeak-ng writes 0x7ffff000 to a pipe). */
#define PLACEHOLDER_SIZE 0x7ffff000u

int ipcn_media_wav_parse(const void *buf, size_t len, ipcn_media_wav *out)
{
    if (!buf || !out)
        return IPCN_BAD_REQUEST;
    const uint8_t *p = buf;
    if (len < 12 || memcmp(p + 8, "WAVE", 4) != 0)
        return IPCN_BAD_REQUEST;
    if (memcmp(p, "RF64", 4) == 0 || memcmp(p, "RIFX", 4) == 0)
        return IPCN_NOT_IMPLEMENTED; /* 64-bit sizes, big endian */
    if (memcmp(p, "RIFF", 4) != 0)
        return IPCN_BAD_REQUEST;
    ipcn_media_wav w;
    memset(&w, 0, sizeof w);
    int have_fmt = 0;
    uint64_t pos = 12;
    for (;;) {
        if (len - pos < 8)
            return IPCN_BAD_REQUEST; /* no data chunk */
        const uint8_t *id = p + pos;
        uint64_t size = ipcn__le32(p + pos + 4), body = pos + 8;
        uint64_t avail = len - body;
        if (memcmp(id, "data", 4) == 0) {
            if (!have_fmt)
                return IPCN_BAD_REQUEST;
            int st = IPCN_OK;
            uint64_t n = size;
            if (size > avail) {
                if (size >= PLACEHOLDER_SIZE) {
                    w.flags |= IPCN_MEDIA_WAV_SIZE_UNKNOWN;
                } else {
                    w.flags |= IPCN_MEDIA_WAV_TRUNCATED;
                    st = IPCN_PARTIAL_DATA;
                }
                n = avail;
            }
            if (n % w.block_align)
                w.flags |= IPCN_MEDIA_WAV_PARTIAL_FRAME;
            w.frames = n / w.block_align;
            w.data_len = w.frames * w.block_align;
            w.data_offset = body;
            *out = w;
            return st;
        }
        if (size > avail)
            return IPCN_BAD_REQUEST; /* a chunk runs past the end */
        if (memcmp(id, "fmt ", 4) == 0) {
            if (have_fmt || size < 16)
                return IPCN_BAD_REQUEST;
            int st = parse_fmt(p + body, size, &w);
            if (st != IPCN_OK)
                return st;
            have_fmt = 1;
        } else if (memcmp(id, "fact", 4) == 0 && size >= 4) {
            w.has_fact = 1;
        }
        /* LIST, fact, cue, bext, JUNK...: skipped.  Odd sizes are padded
         * to even; a pad byte missing at the end is tolerated. */
        pos = body + size + (size & 1);
        if (pos > len)
            pos = len;
    }
}

int ipcn_media_wav_header(const ipcn_media_wav *w, uint64_t data_len,
                          void *buf, size_t cap, size_t *len)
{
    if (!w || (!buf && cap) || !len)
        return IPCN_BAD_REQUEST;
    unsigned bytes = ipcn_media_pcm_bytes(w->format);
    if (!bytes || w->rate == 0 || w->rate > INT32_MAX || w->channels == 0 ||
        w->channels > IPCN_MEDIA_MAX_CHANNELS)
        return IPCN_BAD_REQUEST;
    uint32_t bits = bytes * 8, valid = w->valid_bits ? w->valid_bits : bits;
    int flt = is_float(w->format);
    if (valid > bits || (flt && valid != bits))
        return IPCN_BAD_REQUEST;
    uint32_t tag = w->format_tag, fmt_size = w->fmt_size, fact = w->has_fact;
    if (tag == 0) {
        /* SoX's choice (and Microsoft's advice): EXTENSIBLE when a plain
         * header cannot say it all; a fact chunk with anything not PCM. */
        if (w->channels > 2 || valid != bits || (!flt && bits > 16))
            tag = IPCN_MEDIA_WAVE_EXTENSIBLE;
        else
            tag = flt ? IPCN_MEDIA_WAVE_FLOAT : IPCN_MEDIA_WAVE_PCM;
        fact = tag != IPCN_MEDIA_WAVE_PCM;
        fmt_size = 0;
    }
    if (fmt_size == 0)
        fmt_size = tag == IPCN_MEDIA_WAVE_EXTENSIBLE ? 40
                   : tag == IPCN_MEDIA_WAVE_FLOAT ? 18 : 16;
    switch (tag) {
    case IPCN_MEDIA_WAVE_PCM:
        if (flt)
            return IPCN_BAD_REQUEST;
        break;
    case IPCN_MEDIA_WAVE_FLOAT:
        if (!flt)
            return IPCN_BAD_REQUEST;
        break;
    case IPCN_MEDIA_WAVE_EXTENSIBLE:
        if (fmt_size != 40)
            return IPCN_BAD_REQUEST;
        break;
    default:
        return IPCN_BAD_REQUEST;
    }
    if (fmt_size < 16 || fmt_size > 40 || fmt_size % 2)
        return IPCN_BAD_REQUEST;
    uint32_t align = w->channels * bytes;
    uint64_t byte_rate = (uint64_t)w->rate * align;
    if (byte_rate > UINT32_MAX)
        return IPCN_BAD_REQUEST;
    size_t n = 12 + 8 + fmt_size + (fact ? 12 : 0) + 8;
    uint32_t riff_size = 0xffffffffu, data_size = 0xffffffffu, frames = 0;
    if (data_len != IPCN_MEDIA_WAV_UNKNOWN_SIZE) {
        uint64_t total = n - 8 + data_len + (data_len & 1);
        if (data_len > UINT32_MAX || total > UINT32_MAX)
            return IPCN_BAD_REQUEST;
        riff_size = (uint32_t)total;
        data_size = (uint32_t)data_len;
        frames = (uint32_t)(data_len / align);
    }
    if (cap < n) {
        *len = n;
        return IPCN_INSUFFICIENT_STORAGE;
    }
    uint8_t *b = buf;
    memset(b, 0, n);
    memcpy(b, "RIFF", 4);
    ipcn__put_le32(b + 4, riff_size);
    memcpy(b + 8, "WAVEfmt ", 8);
    ipcn__put_le32(b + 16, fmt_size);
    uint8_t *f = b + 20;
    ipcn__put_le16(f, tag);
    ipcn__put_le16(f + 2, w->channels);
    ipcn__put_le32(f + 4, w->rate);
    ipcn__put_le32(f + 8, (uint32_t)byte_rate);
    ipcn__put_le16(f + 12, align);
    /* PCM and float say the significant bits; EXTENSIBLE the container's
     * and the significant ones further on. */
    ipcn__put_le16(f + 14, tag == IPCN_MEDIA_WAVE_EXTENSIBLE ? bits : valid);
    if (fmt_size >= 18)
        ipcn__put_le16(f + 16, fmt_size - 18);
    if (tag == IPCN_MEDIA_WAVE_EXTENSIBLE) {
        ipcn__put_le16(f + 18, valid);
        ipcn__put_le32(f + 20, w->channel_mask);
        ipcn__put_le16(f + 24, flt ? IPCN_MEDIA_WAVE_FLOAT : IPCN_MEDIA_WAVE_PCM);
        memcpy(f + 26, guid_tail, sizeof guid_tail);
    }
    uint8_t *d = f + fmt_size;
    if (fact) {
        memcpy(d, "fact", 4);
        ipcn__put_le32(d + 4, 4);
        ipcn__put_le32(d + 8, frames);
        d += 12;
    }
    memcpy(d, "data", 4);
    ipcn__put_le32(d + 4, data_size);
    *len = n;
    return IPCN_OK;
}
