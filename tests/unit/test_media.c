/* SPDX-License-Identifier: MIT */
/*
 * test_media.c — the media layer (src/media/): the H.264 splitter on
 * streams built here NAL unit by NAL unit (an Exp-Golomb writer makes the
 * SPS and slice headers), fed in every chunk size; garbage, forbidden
 * bits, oversize units, unbounded input; the SPS reader; the WAV parser
 * on good files of every layout and on hostile headers; the header writer
 * against the bytes SoX writes; stream descriptions, their encoding and
 * metadata, presentation times; .pcs files; out-of-memory; and a replay of
 * the media fuzz corpora (seeds with every bit flipped, and saved crashes)
 * through the harness code.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipcnet_media.h"
#include "media/media.h"
#include "util/util.h"

/* ------------------------------------------------------------------ */
/* Building H.264 streams                                               */
/* ------------------------------------------------------------------ */

typedef struct bw {
    uint8_t raw[4096];
    size_t bits;
} bw;

static void bw_u(bw *b, unsigned n, uint64_t v)
{
    for (unsigned i = 0; i < n; i++) {
        size_t k = b->bits++;
        assert_true(k / 8 < sizeof b->raw);
        if ((v >> (n - 1 - i)) & 1)
            b->raw[k / 8] |= (uint8_t)(0x80u >> (k % 8));
    }
}

static void bw_ue(bw *b, uint64_t v)
{
    v += 1;
    unsigned n = 0;
    while ((v >> n) > 1)
        n++;
    bw_u(b, n, 0);
    bw_u(b, n + 1, v);
}

static void bw_se(bw *b, int64_t v)
{
    bw_ue(b, v > 0 ? (uint64_t)(2 * v - 1) : (uint64_t)(-2 * v));
}

/* A growable byte string. */
typedef struct bs {
    uint8_t *p;
    size_t len;
} bs;

static void bs_put(bs *s, const void *p, size_t n)
{
    s->p = realloc(s->p, s->len + n + 1);
    assert_non_null(s->p);
    memcpy(s->p + s->len, p, n);
    s->len += n;
}

/* Append a NAL unit: start code, header byte, the writer's bits (with
 * trailing bits when trailing) then tail, emulation prevention added. */
static void put_nal(bs *s, int long_code, uint8_t header, bw *b, int trailing,
                    const void *tail, size_t tail_len)
{
    static const uint8_t sc4[] = {0, 0, 0, 1};
    bs_put(s, long_code ? sc4 : sc4 + 1, long_code ? 4 : 3);
    bs_put(s, &header, 1);
    uint8_t body[8192];
    size_t n = 0;
    if (b) {
        if (trailing)
            bw_u(b, 1, 1);
        n = (b->bits + 7) / 8;
        memcpy(body, b->raw, n);
    }
    assert_true(n + tail_len <= sizeof body);
    if (tail_len)
        memcpy(body + n, tail, tail_len);
    n += tail_len;
    unsigned zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (zeros >= 2 && body[i] <= 3) {
            static const uint8_t three = 3;
            bs_put(s, &three, 1);
            zeros = 0;
        }
        bs_put(s, &body[i], 1);
        zeros = body[i] == 0 ? zeros + 1 : 0;
    }
}

typedef struct sps_opts {
    unsigned profile, width_mbs, height_units, frame_mbs_only, chroma;
    unsigned crop[4];
    int has_crop, scaling;
    uint32_t time_scale, units; /* 0: no VUI */
} sps_opts;

static void put_sps(bs *s, const sps_opts *o)
{
    bw b = {0};
    bw_u(&b, 8, o->profile);
    bw_u(&b, 8, 0xc0);
    bw_u(&b, 8, 40);
    bw_ue(&b, 0);
    if (o->profile == 100 || o->profile == 244) {
        bw_ue(&b, o->chroma);
        if (o->chroma == 3)
            bw_u(&b, 1, 0);
        bw_ue(&b, 0);
        bw_ue(&b, 0);
        bw_u(&b, 1, 0);
        bw_u(&b, 1, o->scaling ? 1 : 0);
        if (o->scaling) {
            unsigned lists = o->chroma == 3 ? 12 : 8;
            for (unsigned i = 0; i < lists; i++) {
                bw_u(&b, 1, i % 3 == 0);
                if (i % 3 == 0)
                    for (unsigned j = 0; j < (i < 6 ? 16u : 64u); j++)
                        bw_se(&b, j % 2 ? 3 : -2);
            }
        }
    }
    bw_ue(&b, 0);  /* log2_max_frame_num - 4 */
    bw_ue(&b, 0);  /* poc type 0 */
    bw_ue(&b, 2);  /* log2_max_poc_lsb - 4 */
    bw_ue(&b, 1);  /* max_num_ref_frames */
    bw_u(&b, 1, 0);
    bw_ue(&b, o->width_mbs - 1);
    bw_ue(&b, o->height_units - 1);
    bw_u(&b, 1, o->frame_mbs_only);
    if (!o->frame_mbs_only)
        bw_u(&b, 1, 1);
    bw_u(&b, 1, 1);
    bw_u(&b, 1, o->has_crop);
    if (o->has_crop)
        for (int i = 0; i < 4; i++)
            bw_ue(&b, o->crop[i]);
    bw_u(&b, 1, o->time_scale ? 1 : 0);
    if (o->time_scale) {
        bw_u(&b, 1, 1);   /* aspect ratio info */
        bw_u(&b, 8, 255); /* Extended_SAR */
        bw_u(&b, 16, 1);
        bw_u(&b, 16, 1);
        bw_u(&b, 1, 0);
        bw_u(&b, 1, 1);   /* video signal type */
        bw_u(&b, 4, 5);
        bw_u(&b, 1, 1);
        bw_u(&b, 24, 0x010101);
        bw_u(&b, 1, 0);
        bw_u(&b, 1, 1);   /* timing info */
        bw_u(&b, 32, o->units);
        bw_u(&b, 32, o->time_scale);
        bw_u(&b, 1, 1);
        bw_u(&b, 5, 0);
    }
    put_nal(s, 1, 0x67, &b, 1, NULL, 0);
}

static const sps_opts qvga = {66, 20, 15, 1, 1, {0}, 0, 0, 50, 1};

static void put_pps(bs *s)
{
    bw b = {0};
    bw_ue(&b, 0);
    bw_ue(&b, 0);
    bw_u(&b, 3, 0);
    put_nal(s, 1, 0x68, &b, 1, NULL, 0);
}

static void put_slice(bs *s, uint8_t header, uint64_t first_mb)
{
    static const uint8_t data[] = {0x9c, 0x41, 0x22, 0x00, 0x00, 0x01 + 2, 0x7e};
    bw b = {0};
    bw_ue(&b, first_mb);
    bw_ue(&b, 5);
    put_nal(s, 0, header, &b, 0, data, sizeof data);
}

static void put_raw_nal(bs *s, uint8_t header, const char *hex)
{
    uint8_t body[64];
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        body[n++] = (uint8_t)v;
    }
    put_nal(s, 1, header, NULL, 0, body, n);
}

/* ------------------------------------------------------------------ */
/* Splitting                                                            */
/* ------------------------------------------------------------------ */

typedef struct split_res {
    size_t n;
    size_t len[64];
    uint64_t off[64];
    uint32_t flags[64], nals[64];
    int status[64];    /* 200 and 306 as they came (0 ends) */
    size_t nstatus;
    bs out;
    ipcn_media_h264_stats st;
} split_res;

static void split(const uint8_t *p, size_t n, size_t chunk, size_t max_au,
                  split_res *r)
{
    memset(r, 0, sizeof *r);
    ipcn_media_h264 *s = NULL;
    assert_int_equal(ipcn_media_h264_new(max_au, &s), IPCN_OK);
    size_t fed = 0;
    for (;;) {
        int last = fed == n;
        if (last) {
            assert_int_equal(ipcn_media_h264_finish(s), IPCN_OK);
        } else {
            size_t k = chunk && chunk < n - fed ? chunk : n - fed;
            assert_int_equal(ipcn_media_h264_feed(s, p + fed, k), IPCN_OK);
            fed += k;
        }
        ipcn_media_au au;
        int st;
        while ((st = ipcn_media_h264_next(s, &au)) != IPCN_NO_DATA) {
            if (st != IPCN_OK) {
                assert_true(r->nstatus < 64);
                r->status[r->nstatus++] = st;
                continue;
            }
            assert_true(r->n < 64);
            r->len[r->n] = au.len;
            r->off[r->n] = au.offset;
            r->flags[r->n] = au.flags;
            r->nals[r->n] = au.nal_count;
            r->n++;
            bs_put(&r->out, au.data, au.len);
        }
        if (last)
            break;
    }
    r->st.size = sizeof r->st;
    ipcn_media_h264_get_stats(s, &r->st);
    ipcn_media_h264_free(s);
}

static void split_free(split_res *r)
{
    free(r->out.p);
}

/* AUD SPS PPS SEI IDR(0) IDR(10) | AUD P(0) P(150) | P(0) filler EOS */
static void three_units(bs *s, size_t ends[3])
{
    put_raw_nal(s, 0x09, "f0");
    put_sps(s, &qvga);
    put_pps(s);
    put_raw_nal(s, 0x06, "05010080");
    put_slice(s, 0x65, 0);
    put_slice(s, 0x65, 10);
    ends[0] = s->len;
    put_raw_nal(s, 0x09, "30");
    put_slice(s, 0x41, 0);
    put_slice(s, 0x41, 150);
    ends[1] = s->len;
    put_slice(s, 0x41, 0);
    put_raw_nal(s, 0x0c, "ffff80");
    put_raw_nal(s, 0x0a, "");
    ends[2] = s->len;
}

static void test_h264_units(void **state)
{
    (void)state;
    bs s = {0};
    size_t ends[3];
    three_units(&s, ends);
    /* every chunk size cuts the same units, byte for byte */
    for (size_t chunk = 0; chunk <= s.len; chunk++) {
        split_res r;
        split(s.p, s.len, chunk, 0, &r);
        assert_int_equal(r.nstatus, 0);
        assert_int_equal(r.n, 3);
        assert_int_equal(r.off[0], 0);
        assert_int_equal(r.len[0], ends[0]);
        assert_int_equal(r.off[1], ends[0]);
        assert_int_equal(r.len[1], ends[1] - ends[0]);
        assert_int_equal(r.off[2], ends[1]);
        assert_int_equal(r.len[2], ends[2] - ends[1]);
        assert_int_equal(r.flags[0], IPCN_MEDIA_AU_PICTURE | IPCN_MEDIA_AU_IDR |
                                         IPCN_MEDIA_AU_SPS | IPCN_MEDIA_AU_PPS);
        assert_int_equal(r.nals[0], 6);
        assert_int_equal(r.flags[1], IPCN_MEDIA_AU_PICTURE);
        assert_int_equal(r.nals[1], 3);
        assert_int_equal(r.flags[2], IPCN_MEDIA_AU_PICTURE | IPCN_MEDIA_AU_END);
        assert_int_equal(r.nals[2], 3);
        assert_int_equal(r.out.len, s.len);
        assert_memory_equal(r.out.p, s.p, s.len);
        assert_int_equal(r.st.aus, 3);
        assert_int_equal(r.st.nals, 12);
        assert_int_equal(r.st.bytes_in, s.len);
        split_free(&r);
    }
    free(s.p);
}

/* Which NAL units start a unit after a picture, and which join it. */
static void test_h264_rules(void **state)
{
    (void)state;
    static const struct {
        uint8_t header;
        int starts;
    } after_vcl[] = {
        {0x06, 1}, {0x67, 1}, {0x68, 1}, {0x09, 1}, {0x0e, 1}, {0x0f, 1},
        {0x10, 1}, {0x11, 1}, {0x12, 1}, {0x03, 0}, {0x04, 0}, {0x0a, 0},
        {0x0b, 0}, {0x0c, 0}, {0x0d, 0}, {0x13, 0}, {0x14, 0}, {0x18, 0},
        {0x1f, 0}, {0x00, 0},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(after_vcl); i++) {
        bs s = {0};
        put_slice(&s, 0x65, 0);
        put_raw_nal(&s, after_vcl[i].header, "aa");
        put_slice(&s, 0x41, 7); /* never starts a unit */
        split_res r;
        split(s.p, s.len, 5, 0, &r);
        assert_int_equal(r.nstatus, 0);
        if (r.n != (after_vcl[i].starts ? 2u : 1u))
            fail_msg("NAL header %02x: %zu units", after_vcl[i].header, r.n);
        split_free(&r);
        free(s.p);
    }
    /* Before any picture, none of them cuts (an AUD does, unless first). */
    bs s = {0};
    put_raw_nal(&s, 0x09, "f0");
    put_sps(&s, &qvga);
    put_raw_nal(&s, 0x06, "00");
    put_pps(&s);
    put_raw_nal(&s, 0x0e, "00");
    put_slice(&s, 0x65, 0);
    split_res r;
    split(s.p, s.len, 0, 0, &r);
    assert_int_equal(r.n, 1);
    split_free(&r);
    put_raw_nal(&s, 0x09, "f0");
    put_raw_nal(&s, 0x09, "f0"); /* an AUD after an AUD: a unit of its own */
    put_slice(&s, 0x02, 0);      /* partition A of address 0 */
    put_slice(&s, 0x02, 0);      /* another picture */
    split(s.p, s.len, 3, 0, &r);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.nals[1], 1);
    assert_int_equal(r.flags[1], 0);
    assert_int_equal(r.nals[2], 2);
    split_free(&r);
    free(s.p);
}

/* first_mb_in_slice is read through emulation prevention bytes. */
static void test_h264_first_mb(void **state)
{
    (void)state;
    /* ue(v) with 22 leading zeros: 00 00 then a byte <= 3, so the stream
     * holds 00 00 03 there. */
    uint64_t big = ((uint64_t)1 << 22) - 1 + 5;
    bw b = {0};
    bw_ue(&b, big);
    bw_u(&b, 1, 1);
    uint8_t esc[16];
    size_t n = 0;
    unsigned zeros = 0;
    for (size_t i = 0; i < (b.bits + 7) / 8; i++) {
        if (zeros >= 2 && b.raw[i] <= 3) {
            esc[n++] = 3;
            zeros = 0;
        }
        esc[n++] = b.raw[i];
        zeros = b.raw[i] == 0 ? zeros + 1 : 0;
    }
    assert_int_equal(esc[2], 3);
    ipcn__rbsp r;
    ipcn__rbsp_init(&r, esc, n);
    assert_int_equal(ipcn__rbsp_ue(&r), big);
    assert_int_equal(ipcn__rbsp_u(&r, 1), 1);
    assert_false(r.err);
    /* More than 31 leading zeros is malformed; running out is "more". */
    static const uint8_t zeros5[] = {0, 0, 3, 0, 0, 3, 0, 0x80};
    ipcn__rbsp_init(&r, zeros5, sizeof zeros5);
    ipcn__rbsp_ue(&r);
    assert_true(r.err);
    assert_false(r.at_len);
    ipcn__rbsp_init(&r, zeros5, 3);
    ipcn__rbsp_ue(&r);
    assert_true(r.err && r.at_len);
    /* A start code ends the NAL unit. */
    static const uint8_t sc[] = {0x00, 0x00, 0x01, 0xff};
    ipcn__rbsp_init(&r, sc, sizeof sc);
    ipcn__rbsp_ue(&r);
    assert_true(r.err && !r.at_len);
    /* se(v) */
    static const uint8_t se[] = {0x28}; /* 00101 = ue 4 = se -2 */
    ipcn__rbsp_init(&r, se, 1);
    assert_int_equal(ipcn__rbsp_se(&r), -2);

    /* In a stream: a slice of a big address joins the unit. */
    bs s = {0};
    put_slice(&s, 0x65, 0);
    put_slice(&s, 0x65, big);
    put_slice(&s, 0x41, 0);
    split_res res;
    for (size_t chunk = 1; chunk < 9; chunk++) {
        split(s.p, s.len, chunk, 0, &res);
        assert_int_equal(res.n, 2);
        assert_int_equal(res.nals[0], 2);
        split_free(&res);
    }
    free(s.p);
}

static void test_h264_garbage(void **state)
{
    (void)state;
    bs s = {0};
    size_t ends[3];
    static const char junk[] = "not h264 \x01\x02";
    bs_put(&s, junk, sizeof junk - 1);
    size_t jn = s.len;
    three_units(&s, ends);
    for (size_t chunk = 0; chunk < 40; chunk++) {
        split_res r;
        split(s.p, s.len, chunk, 0, &r);
        assert_int_equal(r.n, 3);
        assert_true(r.nstatus >= 1);
        for (size_t i = 0; i < r.nstatus; i++)
            assert_int_equal(r.status[i], IPCN_BAD_REQUEST);
        assert_int_equal(r.st.garbage_bytes, jn);
        assert_int_equal(r.off[0], jn);
        assert_int_equal(r.out.len, s.len - jn);
        assert_memory_equal(r.out.p, s.p + jn, r.out.len);
        split_free(&r);
    }
    free(s.p);

    /* A NAL unit with forbidden_zero_bit set is cut out; offsets stay
     * those of the whole stream. */
    s = (bs){0};
    put_slice(&s, 0x65, 0);
    size_t bad = s.len;
    put_raw_nal(&s, 0xe5, "1122000003017f");
    size_t bad_end = s.len;
    put_slice(&s, 0x65, 3);
    size_t second = s.len;
    put_slice(&s, 0x41, 0);
    for (size_t chunk = 0; chunk < 30; chunk++) {
        split_res r;
        split(s.p, s.len, chunk, 0, &r);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.nstatus, 1);
        assert_int_equal(r.status[0], IPCN_BAD_REQUEST);
        assert_int_equal(r.st.garbage_bytes, bad_end - bad);
        assert_int_equal(r.st.error_offset, bad);
        assert_int_equal(r.nals[0], 2);
        assert_int_equal(r.len[0], second - (bad_end - bad));
        assert_memory_equal(r.out.p, s.p, bad);
        assert_memory_equal(r.out.p + bad, s.p + bad_end, second - bad_end);
        assert_int_equal(r.off[1], second);
        split_free(&r);
    }
    free(s.p);

    /* Random bytes with no start code: all garbage, memory bounded. */
    ipcn_media_h264 *sp;
    assert_int_equal(ipcn_media_h264_new(4096, &sp), IPCN_OK);
    uint8_t chunk[1000];
    uint32_t x = 12345;
    int errors = 0;
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < sizeof chunk; i++) {
            x = x * 1103515245u + 12345u;
            chunk[i] = (uint8_t)((x >> 16) | 0x10); /* never 0 or 1 */
        }
        assert_int_equal(ipcn_media_h264_feed(sp, chunk, sizeof chunk), IPCN_OK);
        ipcn_media_au au;
        int st;
        while ((st = ipcn_media_h264_next(sp, &au)) != IPCN_NO_DATA) {
            assert_int_equal(st, IPCN_BAD_REQUEST);
            errors++;
        }
    }
    ipcn_media_h264_stats st = {.size = sizeof st};
    ipcn_media_h264_get_stats(sp, &st);
    assert_int_equal(st.aus, 0);
    assert_true(errors >= 1000);
    assert_true(st.garbage_bytes >= 2000 * sizeof chunk - 2);
    ipcn_media_h264_free(sp);

    /* Only zero bytes, or nothing: no unit, no error. */
    static const uint8_t z[64];
    split_res r;
    split(z, sizeof z, 7, 0, &r);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.nstatus, 0);
    assert_int_equal(r.st.garbage_bytes, sizeof z);
    split_free(&r);
    split(z, 0, 0, 0, &r);
    assert_int_equal(r.n + r.nstatus, 0);
    split_free(&r);
}

static void test_h264_oversize(void **state)
{
    (void)state;
    bs s = {0};
    put_slice(&s, 0x65, 0);
    size_t first = s.len;
    uint8_t big[600];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i % 200 + 20);
    put_raw_nal(&s, 0x06, "00");   /* a unit: SEI + a big slice */
    put_nal(&s, 0, 0x41, NULL, 0, big, sizeof big);
    size_t second = s.len;
    put_slice(&s, 0x41, 0);
    for (size_t chunk = 0; chunk < 700; chunk += 7) {
        split_res r;
        split(s.p, s.len, chunk, 256, &r);
        assert_int_equal(r.nstatus, 1);
        assert_int_equal(r.status[0], IPCN_INSUFFICIENT_STORAGE);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.len[0], first);
        assert_int_equal(r.st.dropped_aus, 1);
        assert_int_equal(r.st.error_offset, first);
        assert_int_equal(r.out.len + r.st.dropped_bytes + r.st.garbage_bytes, s.len);
        assert_true(r.off[1] >= second - 1);
        split_free(&r);
    }
    free(s.p);
}

static void test_h264_api(void **state)
{
    (void)state;
    ipcn_media_h264 *s = NULL;
    assert_int_equal(ipcn_media_h264_new(63, &s), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_h264_new(((size_t)1 << 30) + 1, &s), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_h264_new(0, NULL), IPCN_BAD_REQUEST);
    assert_null(s);
    assert_int_equal(ipcn_media_h264_new(64, &s), IPCN_OK);
    ipcn_media_au au;
    assert_int_equal(ipcn_media_h264_next(s, NULL), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_h264_next(s, &au), IPCN_NO_DATA);
    assert_int_equal(ipcn_media_h264_feed(s, NULL, 1), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_h264_feed(s, NULL, 0), IPCN_OK);
    /* Not draining: the second feed over max_au of unsplit input fails. */
    uint8_t buf[100];
    memset(buf, 0x42, sizeof buf);
    assert_int_equal(ipcn_media_h264_feed(s, buf, sizeof buf), IPCN_OK);
    assert_int_equal(ipcn_media_h264_feed(s, buf, sizeof buf),
                     IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(ipcn_media_h264_next(s, &au), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_h264_next(s, &au), IPCN_NO_DATA);
    assert_int_equal(ipcn_media_h264_feed(s, buf, sizeof buf), IPCN_OK);
    assert_int_equal(ipcn_media_h264_finish(s), IPCN_OK);
    assert_int_equal(ipcn_media_h264_feed(s, buf, 1), IPCN_BAD_REQUEST);
    ipcn_media_h264_free(s);
    ipcn_media_h264_free(NULL);

    /* The NAL walk. */
    bs st = {0};
    size_t ends[3];
    three_units(&st, ends);
    static const uint8_t tail[] = {0, 0, 0};
    bs_put(&st, tail, sizeof tail);
    size_t pos = 0, k = 0, n;
    const uint8_t *nal;
    static const uint8_t types[] = {9, 7, 8, 6, 5, 5, 9, 1, 1, 1, 12, 10};
    while (ipcn_media_h264_nal_next(st.p, st.len, &pos, &nal, &n) == IPCN_OK) {
        assert_true(k < sizeof types);
        assert_int_equal(nal[0] & 0x1f, types[k]);
        assert_int_not_equal(nal[n - 1], 0); /* trailing zeros excluded */
        k++;
    }
    assert_int_equal(k, sizeof types);
    assert_int_equal(pos, st.len);
    pos = st.len + 1;
    assert_int_equal(ipcn_media_h264_nal_next(st.p, st.len, &pos, &nal, &n),
                     IPCN_BAD_REQUEST);
    free(st.p);
}

/* ------------------------------------------------------------------ */
/* SPS                                                                  */
/* ------------------------------------------------------------------ */

static int sps_of(const sps_opts *o, ipcn_media_h264_sps *out)
{
    bs s = {0};
    put_sps(&s, o);
    int st = ipcn_media_h264_find_sps(s.p, s.len, out);
    free(s.p);
    return st;
}

static void test_sps(void **state)
{
    (void)state;
    ipcn_media_h264_sps p;
    assert_int_equal(sps_of(&qvga, &p), IPCN_OK);
    assert_int_equal(p.profile_idc, 66);
    assert_int_equal(p.level_idc, 40);
    assert_int_equal(p.constraint_flags, 0x30);
    assert_int_equal(p.width, 320);
    assert_int_equal(p.height, 240);
    assert_int_equal(p.fps_num, 25);
    assert_int_equal(p.fps_den, 1);
    assert_int_equal(p.fixed_frame_rate, 1);
    assert_int_equal(p.chroma_format_idc, 1);

    /* 1080p: 68 macroblock rows cropped by 8 lines (4 chroma rows), High
     * profile with scaling lists, 60000/1001. */
    sps_opts hd = {100, 120, 68, 1, 1, {0, 0, 0, 4}, 1, 1, 120000, 1001};
    assert_int_equal(sps_of(&hd, &p), IPCN_OK);
    assert_int_equal(p.width, 1920);
    assert_int_equal(p.height, 1080);
    assert_int_equal(p.coded_height, 1088);
    assert_int_equal(p.fps_num, 60000);
    assert_int_equal(p.fps_den, 1001);

    /* 4:4:4 crops in luma samples; fields double the height unit. */
    sps_opts yuv444 = {244, 20, 15, 1, 3, {1, 2, 3, 4}, 1, 1, 0, 0};
    assert_int_equal(sps_of(&yuv444, &p), IPCN_OK);
    assert_int_equal(p.width, 320 - 3);
    assert_int_equal(p.height, 240 - 7);
    assert_int_equal(p.fps_num, 0);
    sps_opts fields = {77, 45, 18, 0, 1, {0, 0, 0, 2}, 1, 0, 60000, 1001};
    assert_int_equal(sps_of(&fields, &p), IPCN_OK);
    assert_int_equal(p.width, 720);
    assert_int_equal(p.height, 576 - 8);
    assert_int_equal(p.frame_mbs_only, 0);
    assert_int_equal(p.fps_num, 30000);
    assert_int_equal(p.fps_den, 1001);

    /* Out of range or inconsistent. */
    sps_opts wide = qvga;
    wide.width_mbs = 1025;
    assert_int_equal(sps_of(&wide, &p), IPCN_BAD_REQUEST);
    sps_opts crop = qvga;
    crop.has_crop = 1;
    crop.crop[0] = 100;
    crop.crop[1] = 60;
    assert_int_equal(sps_of(&crop, &p), IPCN_BAD_REQUEST);
    sps_opts zero_tick = qvga;
    zero_tick.units = 0; /* no frame rate, not an error */
    assert_int_equal(sps_of(&zero_tick, &p), IPCN_OK);
    assert_int_equal(p.fps_num, 0);

    /* Cut short: before the size it is malformed, in the VUI it is not. */
    bs s = {0};
    put_sps(&s, &qvga);
    const uint8_t *nal;
    size_t n, pos = 0;
    assert_int_equal(ipcn_media_h264_nal_next(s.p, s.len, &pos, &nal, &n), IPCN_OK);
    assert_int_equal(ipcn_media_h264_parse_sps(nal, n, &p), IPCN_OK);
    int seen_ok_short = 0;
    for (size_t cut = 1; cut < n; cut++) {
        uint8_t *copy = malloc(cut);
        memcpy(copy, nal, cut);
        ipcn_media_h264_sps q;
        int st = ipcn_media_h264_parse_sps(copy, cut, &q);
        assert_true(st == IPCN_OK || st == IPCN_BAD_REQUEST);
        if (st == IPCN_OK) {
            assert_int_equal(q.width, 320);
            assert_int_equal(q.fps_num, 0);
            seen_ok_short = 1;
        }
        free(copy);
    }
    assert_true(seen_ok_short);
    free(s.p);

    static const uint8_t pps[] = {0x68, 0xce, 0x38, 0x80};
    assert_int_equal(ipcn_media_h264_parse_sps(pps, sizeof pps, &p), IPCN_BAD_REQUEST);
    static const uint8_t forbidden[] = {0xe7, 0x42, 0xc0, 0x1e, 0xf4};
    assert_int_equal(ipcn_media_h264_parse_sps(forbidden, sizeof forbidden, &p),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_h264_find_sps(pps, sizeof pps, &p), IPCN_NOT_FOUND);
}

/* ------------------------------------------------------------------ */
/* WAV                                                                  */
/* ------------------------------------------------------------------ */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (hex[0] && hex[1]) {
        if (hex[0] == ' ') {
            hex++;
            continue;
        }
        unsigned v;
        sscanf(hex, "%2x", &v);
        assert_true(n < cap);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* Headers as SoX 14.4 writes them (sox -n -r R -c C -b B x.wav synth). */
static const char sox_s16_stereo[] = /* 48000 Hz, 2 ch, 16 bit, 2 s */
    "52494646 24dc0500 57415645 666d7420 10000000 0100 0200 80bb0000"
    "00ee0200 0400 1000 64617461 00dc0500";
static const char sox_s24_mono[] = /* 44100 Hz, 1 ch, 24 bit, 1 s */
    "52494646 14050200 57415645 666d7420 28000000 feff 0100 44ac0000"
    "cc040200 0300 1800 1600 1800 04000000 01000000 00001000 800000aa"
    "00389b71 66616374 04000000 44ac0000 64617461 cc040200";
static const char sox_f32_stereo[] = /* 44100 Hz, 2 ch, float, 1 s */
    "52494646 52620500 57415645 666d7420 12000000 0300 0200 44ac0000"
    "20620500 0800 2000 0000 66616374 04000000 44ac0000 64617461"
    "20620500";
static const char sox_s16_quad[] = /* 8000 Hz, 4 ch, 16 bit, 0.1 s */
    "52494646 48190000 57415645 666d7420 28000000 feff 0400 401f0000"
    "00fa0000 0800 1000 1600 1000 33000000 01000000 00001000 800000aa"
    "00389b71 66616374 04000000 20030000 64617461 00190000";

/* The header hex + data_len bytes of samples (pattern), in exact size. */
static uint8_t *wav_file(const char *hex, size_t data_len, size_t *n)
{
    uint8_t hdr[128];
    size_t hn = unhex(hex, hdr, sizeof hdr);
    uint8_t *f = malloc(hn + data_len);
    memcpy(f, hdr, hn);
    for (size_t i = 0; i < data_len; i++)
        f[hn + i] = (uint8_t)(i * 7 + 1);
    *n = hn + data_len;
    return f;
}

static void check_writer_matches(const char *hex, uint64_t data_len,
                                 int own_layout)
{
    size_t n;
    uint8_t *f = wav_file(hex, (size_t)data_len, &n);
    ipcn_media_wav w;
    assert_int_equal(ipcn_media_wav_parse(f, n, &w), IPCN_OK);
    assert_int_equal(w.data_len, data_len);
    if (!own_layout) {
        w.format_tag = 0;
        w.fmt_size = 0;
        w.has_fact = 0;
    }
    uint8_t hdr[IPCN_MEDIA_WAV_HEADER_MAX];
    size_t hn;
    assert_int_equal(ipcn_media_wav_header(&w, data_len, hdr, sizeof hdr, &hn), IPCN_OK);
    assert_int_equal(hn, w.data_offset);
    assert_memory_equal(hdr, f, hn);
    free(f);
}

static void test_wav_good(void **state)
{
    (void)state;
    size_t n;
    ipcn_media_wav w;
    uint8_t *f = wav_file(sox_s16_stereo, 384000, &n);
    assert_int_equal(ipcn_media_wav_parse(f, n, &w), IPCN_OK);
    assert_int_equal(w.format, IPCN_MEDIA_PCM_S16LE);
    assert_int_equal(w.rate, 48000);
    assert_int_equal(w.channels, 2);
    assert_int_equal(w.bits, 16);
    assert_int_equal(w.valid_bits, 16);
    assert_int_equal(w.block_align, 4);
    assert_int_equal(w.format_tag, IPCN_MEDIA_WAVE_PCM);
    assert_int_equal(w.fmt_size, 16);
    assert_int_equal(w.data_offset, 44);
    assert_int_equal(w.data_len, 384000);
    assert_int_equal(w.frames, 96000);
    assert_int_equal(w.flags, 0);
    free(f);

    f = wav_file(sox_s24_mono, 132300, &n);
    assert_int_equal(ipcn_media_wav_parse(f, n, &w), IPCN_OK);
    assert_int_equal(w.format, IPCN_MEDIA_PCM_S24LE);
    assert_int_equal(w.channel_mask, 4);
    assert_int_equal(w.format_tag, IPCN_MEDIA_WAVE_EXTENSIBLE);
    assert_int_equal(w.fmt_size, 40);
    assert_int_equal(w.has_fact, 1);
    assert_int_equal(w.data_offset, 80);
    assert_int_equal(w.frames, 44100);
    free(f);

    f = wav_file(sox_f32_stereo, 352800, &n);
    assert_int_equal(ipcn_media_wav_parse(f, n, &w), IPCN_OK);
    assert_int_equal(w.format, IPCN_MEDIA_PCM_F32LE);
    assert_int_equal(w.fmt_size, 18);
    assert_int_equal(w.data_offset, 58);
    free(f);

    /* The writer puts back SoX's headers exactly: from the file's own
     * layout, and from its default choice alone. */
    const char *hx[] = {sox_s16_stereo, sox_s24_mono, sox_f32_stereo, sox_s16_quad};
    const uint64_t dl[] = {384000, 132300, 352800, 6400};
    for (size_t i = 0; i < 4; i++) {
        check_writer_matches(hx[i], dl[i], 1);
        check_writer_matches(hx[i], dl[i], 0);
    }

    /* A LIST chunk of odd size (padded) before data; an 8-bit file whose
     * data is odd (its pad byte missing at the end is tolerated). */
    static const char list_u8[] =
        "52494646 00000000 57415645 666d7420 10000000 0100 0100 401f0000"
        "401f0000 0100 0800 4c495354 05000000 494e464f 58 00"
        "64617461 05000000";
    f = wav_file(list_u8, 5, &n);
    assert_int_equal(ipcn_media_wav_parse(f, n, &w), IPCN_OK);
    assert_int_equal(w.format, IPCN_MEDIA_PCM_U8);
    assert_int_equal(w.data_offset, n - 5);
    assert_int_equal(w.data_len, 5);
    uint8_t hdr[IPCN_MEDIA_WAV_HEADER_MAX];
    size_t hn;
    assert_int_equal(ipcn_media_wav_header(&w, 5, hdr, sizeof hdr, &hn), IPCN_OK);
    assert_int_equal(hn, 44);
    assert_int_equal(ipcn__le32(hdr + 4), 36 + 5 + 1); /* the pad counts */
    free(f);

    /* A writer that could not seek back: the rest of the file. */
    static const char espeak_pipe[] =
        "52494646 24f0ff7f 57415645 666d7420 10000000 0100 0100 22560000"
        "44ac0000 0200 1000 64617461 00f0ff7f";
    f = wav_file(espeak_pipe, 1001, &n);
    assert_int_equal(ipcn_media_wav_parse(f, n, &w), IPCN_OK);
    assert_int_equal(w.flags, IPCN_MEDIA_WAV_SIZE_UNKNOWN | IPCN_MEDIA_WAV_PARTIAL_FRAME);
    assert_int_equal(w.data_len, 1000);
    free(f);
}

static void test_wav_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *name, *hex;
        size_t data;
        int want;
    } v[] = {
        {"not riff", "52494647 24000000 57415645", 0, IPCN_BAD_REQUEST},
        {"big endian", "52494658 24000000 57415645", 0, IPCN_NOT_IMPLEMENTED},
        {"rf64", "52463634 ffffffff 57415645 64733634", 0, IPCN_NOT_IMPLEMENTED},
        {"not wave", "52494646 24000000 41564920 666d7420", 0, IPCN_BAD_REQUEST},
        {"short", "52494646 2400", 0, IPCN_BAD_REQUEST},
        {"no chunks", "52494646 04000000 57415645", 0, IPCN_BAD_REQUEST},
        {"data before fmt", "52494646 00000000 57415645 64617461 04000000 01020304"
                            "666d7420 10000000 0100 0100 401f0000 803e0000 0200 1000",
         0, IPCN_BAD_REQUEST},
        {"no fmt", "52494646 00000000 57415645 64617461 04000000", 4, IPCN_BAD_REQUEST},
        {"no data", "52494646 00000000 57415645 666d7420 10000000 0100 0100"
                    "401f0000 803e0000 0200 1000", 0, IPCN_BAD_REQUEST},
        {"fmt too small", "52494646 00000000 57415645 666d7420 0e000000 0100 0100"
                          "401f0000 803e0000 0200 64617461 00000000", 0, IPCN_BAD_REQUEST},
        {"fmt past end", "52494646 00000000 57415645 666d7420 ffff0000 0100 0100"
                         "401f0000 803e0000 0200 1000", 0, IPCN_BAD_REQUEST},
        {"huge LIST", "52494646 00000000 57415645 4c495354 f0ffffff 494e464f", 64,
         IPCN_BAD_REQUEST},
        {"two fmt", "52494646 00000000 57415645 666d7420 10000000 0100 0100 401f0000"
                    "803e0000 0200 1000 666d7420 10000000 0100 0100 401f0000"
                    "803e0000 0200 1000 64617461 00000000", 0, IPCN_BAD_REQUEST},
        {"0 channels", "52494646 00000000 57415645 666d7420 10000000 0100 0000"
                       "401f0000 803e0000 0200 1000 64617461 04000000", 4, IPCN_BAD_REQUEST},
        {"0 rate", "52494646 00000000 57415645 666d7420 10000000 0100 0100"
                   "00000000 803e0000 0200 1000 64617461 04000000", 4, IPCN_BAD_REQUEST},
        {"align", "52494646 00000000 57415645 666d7420 10000000 0100 0200"
                  "401f0000 803e0000 0200 1000 64617461 04000000", 4, IPCN_BAD_REQUEST},
        {"0 bits", "52494646 00000000 57415645 666d7420 10000000 0100 0100"
                   "401f0000 803e0000 0200 0000 64617461 04000000", 4, IPCN_BAD_REQUEST},
        {"byte rate overflow", "52494646 00000000 57415645 666d7420 10000000 0100 4000"
                               "ffffff7f 00000000 8000 1000 64617461 00000000",
         0, IPCN_BAD_REQUEST},
        {"mu-law", "52494646 00000000 57415645 666d7420 10000000 0700 0100"
                   "401f0000 401f0000 0100 0800 64617461 04000000", 4, IPCN_NOT_IMPLEMENTED},
        {"float 16", "52494646 00000000 57415645 666d7420 10000000 0300 0100"
                     "401f0000 803e0000 0200 1000 64617461 04000000", 4,
         IPCN_NOT_IMPLEMENTED},
        {"65 channels", "52494646 00000000 57415645 666d7420 10000000 0100 4100"
                        "401f0000 00000000 8200 1000 64617461 00000000", 0,
         IPCN_NOT_IMPLEMENTED},
        {"ext short", "52494646 00000000 57415645 666d7420 12000000 feff 0100"
                      "401f0000 803e0000 0200 1000 0000 64617461 00000000", 0,
         IPCN_BAD_REQUEST},
        {"ext bad guid", "52494646 00000000 57415645 666d7420 28000000 feff 0100"
                         "401f0000 803e0000 0200 1000 1600 1000 04000000 01000000"
                         "00001000 800000aa 00389b72 64617461 00000000", 0,
         IPCN_NOT_IMPLEMENTED},
        {"ext valid > bits", "52494646 00000000 57415645 666d7420 28000000 feff 0100"
                             "401f0000 803e0000 0200 1000 1600 1800 04000000 01000000"
                             "00001000 800000aa 00389b71 64617461 00000000", 0,
         IPCN_BAD_REQUEST},
        {"truncated data", "52494646 00000000 57415645 666d7420 10000000 0100 0100"
                           "401f0000 803e0000 0200 1000 64617461 00100000", 7,
         IPCN_PARTIAL_DATA},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(v); i++) {
        size_t n;
        uint8_t *f = wav_file(v[i].hex, v[i].data, &n);
        ipcn_media_wav w;
        memset(&w, 0xa5, sizeof w);
        int st = ipcn_media_wav_parse(f, n, &w);
        if (st != v[i].want)
            fail_msg("%s: %d, wanted %d", v[i].name, st, v[i].want);
        if (st == IPCN_PARTIAL_DATA) {
            assert_int_equal(w.flags, IPCN_MEDIA_WAV_TRUNCATED | IPCN_MEDIA_WAV_PARTIAL_FRAME);
            assert_int_equal(w.data_len, 6);
        } else {
            assert_int_equal(w.rate, 0xa5a5a5a5u); /* untouched */
        }
        free(f);
    }
    /* Every prefix of good files, each in an exact-size copy (ASan sees an
     * overread): never more samples than the whole file. */
    const char *good[] = {sox_s16_stereo, sox_s24_mono, sox_f32_stereo};
    for (size_t g = 0; g < 3; g++) {
        size_t n;
        uint8_t *f = wav_file(good[g], 600, &n);
        for (size_t cut = 0; cut <= n; cut++) {
            uint8_t *c = malloc(cut ? cut : 1);
            memcpy(c, f, cut);
            ipcn_media_wav w;
            int st = ipcn_media_wav_parse(c, cut, &w);
            if (st == IPCN_OK || st == IPCN_PARTIAL_DATA)
                assert_true(w.data_offset + w.data_len <= cut);
            else
                assert_int_equal(st, IPCN_BAD_REQUEST);
            free(c);
        }
        free(f);
    }
    ipcn_media_wav w;
    assert_int_equal(ipcn_media_wav_parse(NULL, 4, &w), IPCN_BAD_REQUEST);
}

static void test_wav_header_writer(void **state)
{
    (void)state;
    ipcn_media_wav w;
    memset(&w, 0, sizeof w);
    w.format = IPCN_MEDIA_PCM_S16LE;
    w.rate = 22050;
    w.channels = 1;
    uint8_t hdr[IPCN_MEDIA_WAV_HEADER_MAX];
    size_t n = 0;
    assert_int_equal(ipcn_media_wav_header(&w, 100, hdr, 10, &n), IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(n, 44);
    assert_int_equal(ipcn_media_wav_header(&w, 100, hdr, sizeof hdr, &n), IPCN_OK);
    assert_int_equal(n, 44);
    assert_int_equal(ipcn_media_wav_header(&w, IPCN_MEDIA_WAV_UNKNOWN_SIZE, hdr,
                                           sizeof hdr, &n), IPCN_OK);
    assert_int_equal(ipcn__le32(hdr + 4), 0xffffffffu);
    assert_int_equal(ipcn__le32(hdr + 40), 0xffffffffu);
    assert_int_equal(ipcn_media_wav_header(&w, (uint64_t)UINT32_MAX, hdr,
                                           sizeof hdr, &n), IPCN_BAD_REQUEST);
    /* Layouts that cannot hold the format. */
    ipcn_media_wav bad = w;
    bad.format = IPCN_MEDIA_PCM_F32LE;
    bad.format_tag = IPCN_MEDIA_WAVE_PCM;
    assert_int_equal(ipcn_media_wav_header(&bad, 0, hdr, sizeof hdr, &n), IPCN_BAD_REQUEST);
    bad = w;
    bad.format_tag = IPCN_MEDIA_WAVE_EXTENSIBLE;
    bad.fmt_size = 18;
    assert_int_equal(ipcn_media_wav_header(&bad, 0, hdr, sizeof hdr, &n), IPCN_BAD_REQUEST);
    bad = w;
    bad.format_tag = 2; /* ADPCM */
    assert_int_equal(ipcn_media_wav_header(&bad, 0, hdr, sizeof hdr, &n), IPCN_BAD_REQUEST);
    bad = w;
    bad.valid_bits = 17;
    assert_int_equal(ipcn_media_wav_header(&bad, 0, hdr, sizeof hdr, &n), IPCN_BAD_REQUEST);
    bad = w;
    bad.channels = 0;
    assert_int_equal(ipcn_media_wav_header(&bad, 0, hdr, sizeof hdr, &n), IPCN_BAD_REQUEST);
    /* 20 valid bits in 32: EXTENSIBLE by default, and it parses back. */
    w.format = IPCN_MEDIA_PCM_S32LE;
    w.valid_bits = 20;
    w.channels = 2;
    w.channel_mask = 3;
    assert_int_equal(ipcn_media_wav_header(&w, 8, hdr, sizeof hdr, &n), IPCN_OK);
    assert_int_equal(n, 80);
    uint8_t file[88];
    memcpy(file, hdr, n);
    memset(file + n, 0x11, 8);
    ipcn_media_wav r;
    assert_int_equal(ipcn_media_wav_parse(file, n + 8, &r), IPCN_OK);
    assert_int_equal(r.valid_bits, 20);
    assert_int_equal(r.bits, 32);
    assert_int_equal(r.channel_mask, 3);
    assert_int_equal(r.frames, 1);
    /* names */
    assert_string_equal(ipcn_media_pcm_name(IPCN_MEDIA_PCM_F64LE), "f64le");
    assert_string_equal(ipcn_media_pcm_name((ipcn_media_pcm)99), "");
    assert_int_equal(ipcn_media_pcm_from_name("S24LE", 5), IPCN_MEDIA_PCM_S24LE);
    assert_int_equal(ipcn_media_pcm_from_name("s24", 3), IPCN_MEDIA_PCM_INVALID);
    assert_int_equal(ipcn_media_pcm_bytes(IPCN_MEDIA_PCM_S24LE), 3);
}

/* ------------------------------------------------------------------ */
/* Stream descriptions                                                  */
/* ------------------------------------------------------------------ */

static void roundtrip(const ipcn_media_desc *d, const char *want_enc)
{
    char enc[IPCN_ENCODING_MAX_LEN + 1];
    assert_int_equal(ipcn_media_encoding(d, enc, sizeof enc), IPCN_OK);
    assert_string_equal(enc, want_enc);
    uint8_t meta[512];
    size_t n = 0, need = 0;
    assert_int_equal(ipcn_media_meta_encode(d, NULL, 0, &need), IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(ipcn_media_meta_encode(d, meta, sizeof meta, &n), IPCN_OK);
    assert_int_equal(n, need);
    assert_int_equal(ipcn_cbor_check(meta, n, IPCN_CBOR_DETERMINISTIC), IPCN_OK);
    ipcn_media_desc back = {.size = sizeof back};
    assert_int_equal(ipcn_media_desc_decode(enc, meta, n, &back), IPCN_OK);
    assert_memory_equal(&back, d, sizeof back);
    /* the encoding alone says how to decode */
    assert_int_equal(ipcn_media_desc_decode(enc, NULL, 0, &back), IPCN_OK);
    assert_int_equal(back.kind, d->kind);
}

static void test_desc(void **state)
{
    (void)state;
    ipcn_media_desc v = {.size = sizeof v};
    ipcn_media_desc_init(&v, IPCN_MEDIA_VIDEO);
    strcpy(v.video.codec, "h264");
    v.video.width = 320;
    v.video.height = 240;
    v.video.fps_num = 25;
    v.video.fps_den = 1;
    v.samples = 50;
    roundtrip(&v, "video/h264;stream-format=byte-stream;alignment=au");

    ipcn_media_desc raw = {.size = sizeof raw};
    ipcn_media_desc_init(&raw, IPCN_MEDIA_VIDEO);
    strcpy(raw.video.codec, "raw");
    strcpy(raw.video.format, "rgb24");
    raw.video.width = 640;
    raw.video.height = 480;
    roundtrip(&raw, "video/raw;format=rgb24;width=640;height=480");
    uint64_t unit;
    int exact;
    assert_int_equal(ipcn_media_sample_bytes(&raw, &unit, &exact), IPCN_OK);
    assert_int_equal(unit, 640 * 480 * 3);
    assert_int_equal(exact, 1);
    strcpy(raw.video.format, "yuv420p");
    raw.video.width = 5;
    raw.video.height = 3;
    assert_int_equal(ipcn_media_sample_bytes(&raw, &unit, &exact), IPCN_OK);
    assert_int_equal(unit, 15 + 2 * 3 * 2);
    strcpy(raw.video.format, "weird");
    assert_int_equal(ipcn_media_sample_bytes(&raw, &unit, &exact), IPCN_NOT_IMPLEMENTED);

    ipcn_media_desc a = {.size = sizeof a};
    ipcn_media_desc_init(&a, IPCN_MEDIA_AUDIO);
    a.audio.format = IPCN_MEDIA_PCM_S24LE;
    a.audio.rate = 44100;
    a.audio.channels = 1;
    a.audio.channel_mask = 4;
    a.audio.samples_per_packet = 882;
    a.audio.wav_format_tag = IPCN_MEDIA_WAVE_EXTENSIBLE;
    a.audio.wav_fmt_size = 40;
    a.audio.wav_fact = 1;
    roundtrip(&a, "audio/pcm;rate=44100;channels=1;format=s24le");
    assert_int_equal(ipcn_media_sample_bytes(&a, &unit, &exact), IPCN_OK);
    assert_int_equal(unit, 3);
    assert_int_equal(exact, 0);

    ipcn_media_desc p = {.size = sizeof p};
    ipcn_media_desc_init(&p, IPCN_MEDIA_POINTCLOUD);
    strcpy(p.pointcloud.fields, "x,y,z,intensity");
    p.pointcloud.points_per_sample = 30000;
    p.pointcloud.rate_num = 10;
    p.pointcloud.rate_den = 1;
    roundtrip(&p, "pointcloud;fields=x,y,z,intensity;dtype=float32");
    assert_int_equal(ipcn_media_sample_bytes(&p, &unit, &exact), IPCN_OK);
    assert_int_equal(unit, 480000);
    assert_int_equal(exact, 1);

    /* Invalid descriptions are refused. */
    ipcn_media_desc bad = p;
    strcpy(bad.pointcloud.fields, "x,,y");
    char enc[256];
    assert_int_equal(ipcn_media_encoding(&bad, enc, sizeof enc), IPCN_BAD_REQUEST);
    bad = a;
    bad.audio.channels = 0;
    assert_int_equal(ipcn_media_encoding(&bad, enc, sizeof enc), IPCN_BAD_REQUEST);
    bad = v;
    strcpy(bad.video.codec, "vp9");
    assert_int_equal(ipcn_media_encoding(&bad, enc, sizeof enc), IPCN_BAD_REQUEST);
    bad = v;
    bad.video.fps_den = 0;
    assert_int_equal(ipcn_media_encoding(&bad, enc, sizeof enc), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_encoding(&v, enc, 10), IPCN_INSUFFICIENT_STORAGE);
}

/* CBOR made by hand with the writer: {k: v...} of text keys. */
static size_t meta_of(uint8_t *buf, size_t cap, const char *json_like)
{
    /* "k=s:text" or "k=u:123" pairs separated by ';' */
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    unsigned pairs = 1;
    for (const char *c = json_like; *c; c++)
        pairs += *c == ';';
    ipcn_cbor_put_map(&w, pairs);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", json_like);
    for (char *save = NULL, *kv = strtok_r(tmp, ";", &save); kv;
         kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        *eq = 0;
        ipcn_cbor_put_cstr(&w, kv);
        if (eq[1] == 's')
            ipcn_cbor_put_cstr(&w, eq + 3);
        else if (eq[1] == 'u')
            ipcn_cbor_put_uint(&w, strtoull(eq + 3, NULL, 10));
        else
            ipcn_cbor_put_bool(&w, 1);
    }
    size_t n = 0;
    assert_int_equal(ipcn_cbor_writer_finish(&w, &n), IPCN_OK);
    return n;
}

static void test_desc_decode_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *enc, *meta;
        int want;
    } v[] = {
        {"cbor", NULL, IPCN_NOT_FOUND},
        {"video/mp4", NULL, IPCN_NOT_FOUND},
        {"video/h264", NULL, IPCN_OK},
        {"video/h264;stream-format=avc", NULL, IPCN_NOT_IMPLEMENTED},
        {"video/h264;alignment=nal", NULL, IPCN_NOT_IMPLEMENTED},
        {"video/h264;;", NULL, IPCN_BAD_REQUEST},
        {"video/raw;format=rgb24;width=0;height=4", NULL, IPCN_BAD_REQUEST},
        {"video/raw;format=rgb24;width=4", NULL, IPCN_BAD_REQUEST},
        {"video/raw;format=\"rg b\";width=4;height=4", NULL, IPCN_BAD_REQUEST},
        {"audio/pcm;rate=48000;channels=2", NULL, IPCN_BAD_REQUEST},
        {"audio/pcm;rate=0;channels=2;format=s16le", NULL, IPCN_BAD_REQUEST},
        {"audio/pcm;rate=48000;channels=65;format=s16le", NULL, IPCN_BAD_REQUEST},
        {"audio/pcm;rate=48000;channels=2;format=s17le", NULL, IPCN_BAD_REQUEST},
        {"audio/pcm;rate=48000;channels=2;format=S16LE", NULL, IPCN_OK},
        {"pointcloud;fields=x,y;dtype=float99", NULL, IPCN_BAD_REQUEST},
        {"pointcloud;fields=x,;dtype=float32", NULL, IPCN_BAD_REQUEST},
        {"pointcloud;fields=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q;dtype=float32", NULL,
         IPCN_BAD_REQUEST},
        /* metadata that is not a media map is ignored */
        {"audio/pcm;rate=8000;channels=1;format=u8", "rate=u:16000", IPCN_OK},
        /* a media map must agree with the encoding and be well typed */
        {"audio/pcm;rate=8000;channels=1;format=u8", "media=s:audio;rate=u:16000",
         IPCN_BAD_REQUEST},
        {"audio/pcm;rate=8000;channels=1;format=u8", "media=s:video", IPCN_BAD_REQUEST},
        {"audio/pcm;rate=8000;channels=1;format=u8", "media=s:audio;bits=u:9",
         IPCN_BAD_REQUEST},
        {"audio/pcm;rate=8000;channels=1;format=u8", "media=s:audio;bits=s:8",
         IPCN_BAD_REQUEST},
        {"audio/pcm;rate=8000;channels=1;format=u8",
         "media=s:audio;samples_per_packet=u:99999999", IPCN_BAD_REQUEST},
        {"audio/pcm;rate=8000;channels=1;format=u8", "media=s:audio;wav=u:1",
         IPCN_BAD_REQUEST},
        {"audio/pcm;rate=8000;channels=1;format=u8", "media=s:audio;samples=u:7", IPCN_OK},
        {"video/h264", "media=s:video;width=u:320", IPCN_BAD_REQUEST},
        {"video/h264", "media=s:video;width=u:320;height=u:0", IPCN_BAD_REQUEST},
        {"video/h264", "media=s:video;width=u:320;height=u:240", IPCN_OK},
        {"video/h264", "media=s:video;width=u:70000;height=u:240", IPCN_BAD_REQUEST},
        {"video/h264", "media=s:video;codec=s:raw", IPCN_BAD_REQUEST},
        {"video/h264", "media=s:video;fps=u:25", IPCN_BAD_REQUEST},
        {"pointcloud;fields=x,y,z;dtype=float32", "media=s:pointcloud;point_stride=u:16",
         IPCN_BAD_REQUEST},
        {"pointcloud;fields=x,y,z;dtype=float32", "media=s:pointcloud;point_stride=u:12",
         IPCN_OK},
        {"pointcloud;fields=x,y,z;dtype=float32", "media=s:pointcloud;dtype=s:int8",
         IPCN_BAD_REQUEST},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(v); i++) {
        uint8_t meta[256];
        size_t mn = v[i].meta ? meta_of(meta, sizeof meta, v[i].meta) : 0;
        ipcn_media_desc d;
        memset(&d, 0x5a, sizeof d);
        d.size = sizeof d;
        int st = ipcn_media_desc_decode(v[i].enc, mn ? meta : NULL, mn, &d);
        if (st != v[i].want)
            fail_msg("%s + %s: %d, wanted %d", v[i].enc, v[i].meta ? v[i].meta : "-",
                     st, v[i].want);
        if (st != IPCN_OK)
            assert_int_equal(d.samples, 0x5a5a5a5a5a5a5a5aull); /* untouched */
    }
    /* Bytes that are not CBOR at all are not a media map either. */
    static const uint8_t junk[] = {0xff, 0x00, 0x13};
    ipcn_media_desc d = {.size = sizeof d};
    assert_int_equal(ipcn_media_desc_decode("video/h264", junk, sizeof junk, &d), IPCN_OK);
    assert_int_equal(ipcn_media_desc_decode(NULL, NULL, 0, &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_desc_decode("video/h264", NULL, 3, &d), IPCN_BAD_REQUEST);
}

static void test_pts(void **state)
{
    (void)state;
    ipcn_media_desc v = {.size = sizeof v};
    ipcn_media_desc_init(&v, IPCN_MEDIA_VIDEO);
    strcpy(v.video.codec, "h264");
    uint64_t t;
    assert_int_equal(ipcn_media_pts_ns(&v, 1, &t), IPCN_NOT_FOUND);
    v.video.fps_num = 25;
    v.video.fps_den = 1;
    assert_int_equal(ipcn_media_pts_ns(&v, 0, &t), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_pts_ns(&v, 1, &t), IPCN_OK);
    assert_int_equal(t, 0);
    assert_int_equal(ipcn_media_pts_ns(&v, 26, &t), IPCN_OK);
    assert_int_equal(t, 1000000000ull);
    v.video.fps_num = 30000;
    v.video.fps_den = 1001;
    assert_int_equal(ipcn_media_pts_ns(&v, 1002, &t), IPCN_OK);
    assert_int_equal(t, 33400033333ull); /* 1001 * 1001 / 30000 s, rounded down */
    assert_int_equal(ipcn_media_pts_ns(&v, UINT64_MAX, &t), IPCN_BAD_REQUEST);

    ipcn_media_desc a = {.size = sizeof a};
    ipcn_media_desc_init(&a, IPCN_MEDIA_AUDIO);
    a.audio.format = IPCN_MEDIA_PCM_S16LE;
    a.audio.rate = 44100;
    a.audio.channels = 2;
    assert_int_equal(ipcn_media_pts_ns(&a, 2, &t), IPCN_NOT_FOUND);
    a.audio.samples_per_packet = 882;
    assert_int_equal(ipcn_media_pts_ns(&a, 51, &t), IPCN_OK);
    assert_int_equal(t, 1000000000ull);
    assert_int_equal(ipcn_media_pts_ns(&a, 2, &t), IPCN_OK);
    assert_int_equal(t, 20000000ull);

    ipcn_media_desc p = {.size = sizeof p};
    ipcn_media_desc_init(&p, IPCN_MEDIA_POINTCLOUD);
    strcpy(p.pointcloud.fields, "x");
    p.pointcloud.rate_num = 10;
    p.pointcloud.rate_den = 1;
    assert_int_equal(ipcn_media_pts_ns(&p, 11, &t), IPCN_OK);
    assert_int_equal(t, 1000000000ull);
}

static void test_pcs(void **state)
{
    (void)state;
    uint8_t f[16 + 8 + 32 + 8 + 8];
    ipcn_media_pcs_write_header(f, 10, 1);
    ipcn_media_pcs_write_sweep(f + 16, 2);
    for (int i = 0; i < 32; i++)
        f[24 + i] = (uint8_t)i;
    ipcn_media_pcs_write_sweep(f + 56, 0);
    ipcn_media_pcs_write_sweep(f + 64, 0);
    ipcn_media_desc d = {.size = sizeof d};
    assert_int_equal(ipcn_media_pcs_header(f, sizeof f, &d), IPCN_OK);
    assert_int_equal(d.kind, IPCN_MEDIA_POINTCLOUD);
    assert_string_equal(d.pointcloud.fields, "x,y,z,intensity");
    assert_int_equal(d.pointcloud.rate_num, 10);
    size_t pos = IPCN_MEDIA_PCS_HEADER, bytes;
    const uint8_t *pts;
    uint32_t count;
    assert_int_equal(ipcn_media_pcs_next(f, sizeof f, &pos, &pts, &bytes, &count), IPCN_OK);
    assert_int_equal(count, 2);
    assert_int_equal(bytes, 32);
    assert_ptr_equal(pts, f + 24);
    assert_int_equal(ipcn_media_pcs_next(f, sizeof f, &pos, &pts, &bytes, &count), IPCN_OK);
    assert_int_equal(count, 0);
    assert_int_equal(ipcn_media_pcs_next(f, sizeof f, &pos, &pts, &bytes, &count), IPCN_OK);
    assert_int_equal(ipcn_media_pcs_next(f, sizeof f, &pos, &pts, &bytes, &count),
                     IPCN_NO_DATA);
    /* hostile: a count past the end, a huge count, reserved word, cut */
    pos = IPCN_MEDIA_PCS_HEADER;
    ipcn_media_pcs_write_sweep(f + 16, 3);
    assert_int_equal(ipcn_media_pcs_next(f, 56, &pos, &pts, &bytes, &count), IPCN_BAD_REQUEST);
    ipcn_media_pcs_write_sweep(f + 16, 0xffffffffu);
    assert_int_equal(ipcn_media_pcs_next(f, sizeof f, &pos, &pts, &bytes, &count),
                     IPCN_BAD_REQUEST);
    ipcn_media_pcs_write_sweep(f + 16, 2);
    f[20] = 1;
    assert_int_equal(ipcn_media_pcs_next(f, sizeof f, &pos, &pts, &bytes, &count),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_pcs_next(f, 20, &pos, &pts, &bytes, &count), IPCN_BAD_REQUEST);
    assert_int_equal(pos, IPCN_MEDIA_PCS_HEADER); /* untouched */
    ipcn_media_pcs_write_header(f, 10, 0);
    assert_int_equal(ipcn_media_pcs_header(f, sizeof f, &d), IPCN_BAD_REQUEST);
    f[0] = 'X';
    assert_int_equal(ipcn_media_pcs_header(f, sizeof f, &d), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_media_pcs_header(f, 15, &d), IPCN_BAD_REQUEST);
}

/* ------------------------------------------------------------------ */
/* Out of memory                                                        */
/* ------------------------------------------------------------------ */

static long oom_count, oom_at;

static void *oom_malloc(size_t n)
{
    return ++oom_count == oom_at ? NULL : malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    return ++oom_count == oom_at ? NULL : realloc(p, n);
}

static void test_oom(void **state)
{
    (void)state;
    bs s = {0};
    size_t ends[3];
    three_units(&s, ends);
    uint8_t meta[256];
    size_t mn = meta_of(meta, sizeof meta, "media=s:video;width=u:320;height=u:240");
    int clean = 0;
    for (oom_at = 1; !clean && oom_at < 100; oom_at++) {
        oom_count = 0;
        assert_int_equal(ipcn_set_allocator(oom_malloc, oom_realloc, free), IPCN_OK);
        clean = 1;
        ipcn_media_h264 *sp = NULL;
        int st = ipcn_media_h264_new(0, &sp);
        if (st == IPCN_OK) {
            st = ipcn_media_h264_feed(sp, s.p, s.len);
            if (st == IPCN_INSUFFICIENT_MEMORY) {
                clean = 0;
                st = ipcn_media_h264_feed(sp, s.p, s.len); /* again: fine now */
            }
            assert_int_equal(st, IPCN_OK);
            ipcn_media_h264_finish(sp);
            ipcn_media_au au;
            int units = 0;
            while (ipcn_media_h264_next(sp, &au) == IPCN_OK)
                units++;
            assert_int_equal(units, 3);
            ipcn_media_h264_free(sp);
        } else {
            assert_int_equal(st, IPCN_INSUFFICIENT_MEMORY);
            clean = 0;
        }
        ipcn_media_desc d = {.size = sizeof d};
        st = ipcn_media_desc_decode("video/h264", meta, mn, &d);
        if (st == IPCN_INSUFFICIENT_MEMORY)
            clean = 0;
        else
            assert_int_equal(st, IPCN_OK);
        assert_int_equal(ipcn_set_allocator(NULL, NULL, NULL), IPCN_OK);
    }
    assert_true(clean);
    free(s.p);
}

/* ------------------------------------------------------------------ */
/* The fuzz corpora, through the harness code                           */
/* ------------------------------------------------------------------ */

#define LLVMFuzzerTestOneInput fuzz_h264_one
#include "../fuzz/fuzz_h264.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_wav_one
#include "../fuzz/fuzz_wav.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_mediadesc_one
#include "../fuzz/fuzz_mediadesc.c"
#undef LLVMFuzzerTestOneInput

#include <dirent.h>

static char fuzz_dir[PATH_MAX];

static long replay(const char *sub, int (*fn)(const uint8_t *, size_t), int flips)
{
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%s", fuzz_dir, sub);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("no %s", dir);
    long files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[sizeof dir + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t *p = malloc(1 << 16);
        size_t n = fread(p, 1, 1 << 16, f);
        fclose(f);
        fn(p, n);
        for (size_t i = 0; flips && i < n; i++)
            for (int bit = 0; bit < 8; bit++) {
                p[i] ^= (uint8_t)(1u << bit);
                fn(p, n);
                p[i] ^= (uint8_t)(1u << bit);
            }
        free(p);
        files++;
    }
    closedir(d);
    return files;
}

static void test_fuzz_corpora(void **state)
{
    (void)state;
    assert_true(replay("corpus/h264", fuzz_h264_one, 1) >= 5);
    assert_true(replay("corpus/wav", fuzz_wav_one, 1) >= 5);
    assert_true(replay("corpus/mediadesc", fuzz_mediadesc_one, 1) >= 5);
    replay("crashes/h264", fuzz_h264_one, 0);
    replay("crashes/wav", fuzz_wav_one, 0);
    replay("crashes/mediadesc", fuzz_mediadesc_one, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s", argv[1]);
    } else {
        /* <...>/tests/unit/test_media.c -> <...>/tests/fuzz */
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s", __FILE__);
        char *slash = strrchr(fuzz_dir, '/');
        if (!slash) {
            fprintf(stderr, "usage: %s <tests/fuzz directory>\n", argv[0]);
            return 2;
        }
        snprintf(slash, sizeof fuzz_dir - (size_t)(slash - fuzz_dir), "/../fuzz");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h264_units),
        cmocka_unit_test(test_h264_rules),
        cmocka_unit_test(test_h264_first_mb),
        cmocka_unit_test(test_h264_garbage),
        cmocka_unit_test(test_h264_oversize),
        cmocka_unit_test(test_h264_api),
        cmocka_unit_test(test_sps),
        cmocka_unit_test(test_wav_good),
        cmocka_unit_test(test_wav_hostile),
        cmocka_unit_test(test_wav_header_writer),
        cmocka_unit_test(test_desc),
        cmocka_unit_test(test_desc_decode_hostile),
        cmocka_unit_test(test_pts),
        cmocka_unit_test(test_pcs),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_fuzz_corpora),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
