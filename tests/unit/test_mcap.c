/* SPDX-License-Identifier: MIT */
/*
 * test_mcap.c — the MCAP writer and reader (src/mcap/): round trips with
 * and without zstd, a file cut at 400 places (read exactly up to its last
 * whole chunk), a writer that never closed (no footer), flipped bytes
 * and CRCs, and hostile records (a huge chunk, a message on an undeclared
 * channel).  Runs in a few seconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mcap.h"

typedef struct tmsg {
    uint16_t ch;
    uint32_t seq;
    uint64_t t;
    size_t len;
    uint8_t *data;
} tmsg;

#define NMSG 600
static tmsg msgs[NMSG];
static uint64_t chunk_end[NMSG + 1]; /* file offset after chunk k */
static uint64_t chunk_msgs[NMSG + 1];
static size_t nchunk;
static char path[64];

static void make_msgs(void)
{
    srand(7);
    for (int i = 0; i < NMSG; i++) {
        tmsg *m = &msgs[i];
        m->ch = (uint16_t)(1 + i % 3);
        m->seq = (uint32_t)(i + 1);
        m->t = 1000000000ull + (uint64_t)i * 1000;
        m->len = i == 5 ? 0 : i == 17 ? (size_t)1 << 20 : (size_t)(rand() % 700);
        m->data = malloc(m->len + 1);
        for (size_t k = 0; k < m->len; k++)
            m->data[k] = (uint8_t)(i % 2 ? (size_t)rand() : k / 64);
    }
}

/* Write the messages; close (footer) or abandon it. */
static void write_file(int compress, int close_it)
{
    mcap_write_opts o;
    mcap_write_opts_init(&o);
    o.compress = compress;
    o.chunk_size = 8192;
    o.profile = "ipcnet";
    o.library = "test_mcap";
    mcap_writer *w;
    assert_int_equal(mcap_writer_open(&w, path, &o), 0);
    uint16_t s, c[4];
    assert_int_equal(mcap_writer_add_schema(w, "ipcnet.tensor", "ipcnet", "x", 1, &s), 0);
    const char *k[] = {"ipcnet.kind", "ipcnet.encoding"};
    const char *v[] = {"stream", "cbor"};
    assert_int_equal(mcap_writer_add_channel(w, s, "a/b", "cbor", k, v, 2, &c[1]), 0);
    assert_int_equal(mcap_writer_add_channel(w, 0, "c", "text/plain", NULL, NULL, 0, &c[2]), 0);
    assert_int_equal(mcap_writer_add_channel(w, 0, "d", "", k, v, 1, &c[3]), 0);
    assert_int_equal(c[1], 1);
    nchunk = 0;
    for (int i = 0; i < NMSG; i++) {
        tmsg *m = &msgs[i];
        uint64_t before = mcap_writer_offset(w);
        assert_int_equal(mcap_writer_message(w, c[m->ch], m->seq, m->t, m->t - 5,
                                             m->data, m->len), 0);
        if (mcap_writer_offset(w) != before) { /* a chunk was written */
            chunk_end[nchunk] = mcap_writer_offset(w);
            chunk_msgs[nchunk++] = (uint64_t)i + 1;
        }
    }
    uint64_t before = mcap_writer_offset(w);
    assert_int_equal(mcap_writer_flush(w), 0);
    if (mcap_writer_offset(w) != before) {
        chunk_end[nchunk] = mcap_writer_offset(w);
        chunk_msgs[nchunk++] = NMSG;
    }
    if (close_it)
        assert_int_equal(mcap_writer_close(w), 0);
    else
        mcap_writer_abandon(w);
}

typedef struct seen {
    int n;
    int mismatch;
} seen;

static int on_msg(const mcap_message *m, void *user)
{
    seen *s = user;
    if (s->n >= NMSG) {
        s->mismatch++;
        return 0;
    }
    tmsg *e = &msgs[s->n++];
    if (m->channel->id != e->ch || m->seq != e->seq || m->log_time != e->t ||
        m->publish_time != e->t - 5 || m->len != e->len ||
        (m->len && memcmp(m->data, e->data, m->len) != 0))
        s->mismatch++;
    return 0;
}

static uint8_t *slurp(size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n + 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static int scan_mem(const uint8_t *b, size_t n, seen *s, mcap_info *in)
{
    mcap_reader *r;
    assert_int_equal(mcap_reader_open_mem(&r, b, n, NULL), 0);
    int rc = mcap_reader_scan(r, on_msg, s, in);
    mcap_reader_close(r);
    return rc;
}

static void roundtrip(int compress)
{
    write_file(compress, 1);
    mcap_reader *r;
    assert_int_equal(mcap_reader_open(&r, path, NULL), 0);
    seen s = {0};
    mcap_info in;
    assert_int_equal(mcap_reader_scan(r, on_msg, &s, &in), 0);
    assert_int_equal(s.n, NMSG);
    assert_int_equal(s.mismatch, 0);
    assert_true(in.complete);
    assert_false(in.cut_off);
    assert_true(in.have_stats);
    assert_int_equal(in.stats_messages, NMSG);
    assert_int_equal(in.chunks, nchunk);
    assert_string_equal(in.compression, compress ? "zstd" : "");
    assert_string_equal(in.profile, "ipcnet");
    assert_int_equal(in.start_time, msgs[0].t);
    assert_int_equal(in.end_time, msgs[NMSG - 1].t);
    size_t nc;
    const mcap_channel *const *cs = mcap_reader_channels(r, &nc);
    assert_int_equal(nc, 3);
    assert_string_equal(cs[0]->topic, "a/b");
    assert_string_equal(cs[0]->encoding, "cbor");
    assert_string_equal(mcap_channel_meta(cs[0], "ipcnet.encoding"), "cbor");
    assert_int_equal(cs[2]->nmeta, 1);
    assert_null(mcap_channel_meta(cs[1], "ipcnet.kind"));
    const mcap_schema *sc = mcap_reader_schema(r, cs[0]->schema_id);
    assert_non_null(sc);
    assert_string_equal(sc->name, "ipcnet.tensor");
    assert_int_equal(sc->len, 1);
    assert_memory_equal(sc->data, "x", 1);
    assert_int_equal(mcap_reader_channel_count(r, 1), NMSG / 3);
    mcap_reader_close(r);
}

/* CRC-32 (ISO-HDLC): the check value, and pieces of every length. */
static void t_crc(void **st)
{
    (void)st;
    assert_int_equal(mcap_crc32(0, "123456789", 9), 0xCBF43926u);
    uint8_t b[100];
    for (int i = 0; i < 100; i++)
        b[i] = (uint8_t)(i * 37 + 1);
    uint32_t whole = mcap_crc32(0, b, sizeof b);
    for (size_t cut = 0; cut <= sizeof b; cut++)
        assert_int_equal(mcap_crc32(mcap_crc32(0, b, cut), b + cut, sizeof b - cut), whole);
}

static void t_roundtrip_zstd(void **st) { (void)st; roundtrip(1); }
static void t_roundtrip_plain(void **st) { (void)st; roundtrip(0); }

/* Cut anywhere: read without error, exactly the messages of the chunks
 * wholly before the cut. */
static void t_truncated(void **st)
{
    (void)st;
    write_file(1, 1);
    size_t n;
    uint8_t *b = slurp(&n);
    size_t step = n / 400 | 1; /* about 400 cuts, odd places */
    for (size_t cut = 0; cut < n; cut += step) {
        seen s = {0};
        mcap_info in;
        int rc = scan_mem(b, cut, &s, &in);
        if (cut < 8) {
            assert_int_equal(rc, MCAP_EFORMAT);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_true(in.cut_off);
        assert_false(in.complete);
        uint64_t want = 0;
        for (size_t k = 0; k < nchunk; k++)
            if (chunk_end[k] <= cut) /* chunk k and its indexes */
                want = chunk_msgs[k];
        /* A chunk whose record is whole but whose message indexes are
         * cut still counts: its messages are read. */
        assert_true(s.n >= (int)want);
        for (size_t k = 0; k < nchunk; k++)
            if (chunk_end[k] > cut) { /* nothing of a later chunk */
                assert_true(s.n <= (int)chunk_msgs[k]);
                break;
            }
        assert_int_equal(s.mismatch, 0);
        assert_true(in.good_bytes <= cut);
    }
    free(b);
}

/* A writer that never closed: every flushed chunk is read. */
static void t_no_footer(void **st)
{
    (void)st;
    write_file(1, 0);
    mcap_reader *r;
    assert_int_equal(mcap_reader_open(&r, path, NULL), 0);
    seen s = {0};
    mcap_info in;
    assert_int_equal(mcap_reader_scan(r, on_msg, &s, &in), 0);
    assert_int_equal(s.n, NMSG);
    assert_int_equal(s.mismatch, 0);
    assert_true(in.cut_off);
    assert_false(in.complete);
    mcap_reader_close(r);
}

/* Flipped bytes: each caught by a CRC or a format check, never a crash
 * nor a wrong message. */
static void t_corrupt(void **st)
{
    (void)st;
    write_file(0, 1);
    size_t n;
    uint8_t *b = slurp(&n);
    /* A byte of the first chunk's records (uncompressed): its CRC. */
    size_t at = 8 + 9 + 4 + 6 + 4 + 9 + 9 + 8 + 8 + 8 + 4 + 4 + 8 + 40;
    b[at] ^= 0x10;
    seen s = {0};
    mcap_info in;
    assert_int_equal(scan_mem(b, n, &s, &in), MCAP_ECRC);
    assert_int_equal(s.n, 0);
    b[at] ^= 0x10;
    /* The DataEnd CRC field (13 bytes before the summary). */
    memset(&s, 0, sizeof s);
    assert_int_equal(scan_mem(b, n, &s, &in), 0);
    size_t de = (size_t)in.data_end_offset;
    b[de + 9] ^= 1;
    memset(&s, 0, sizeof s);
    assert_int_equal(scan_mem(b, n, &s, &in), MCAP_ECRC);
    b[de + 9] ^= 1;
    /* A byte of the summary: the footer's CRC. */
    b[de + 13 + 20] ^= 0x40;
    memset(&s, 0, sizeof s);
    int rc = scan_mem(b, n, &s, &in);
    assert_true(rc == MCAP_ECRC || rc == MCAP_EFORMAT);
    b[de + 13 + 20] ^= 0x40;
    /* Every single flipped byte of a small zstd file: no crash, and no
     * message read differs from what was written. */
    free(b);
    write_file(1, 1);
    b = slurp(&n);
    for (size_t i = 0; i < n; i += n / 300 | 1) {
        b[i] ^= 0xa5;
        memset(&s, 0, sizeof s);
        scan_mem(b, n, &s, &in);
        if (s.mismatch) /* only a payload byte of an unchecked place */
            fail_msg("flip at %zu gave a wrong message", i);
        b[i] ^= 0xa5;
    }
    free(b);
}

static void put_le(uint8_t *d, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = (uint8_t)(v >> (8 * i));
}

/* Hand-made hostile files. */
static void t_hostile(void **st)
{
    (void)st;
    uint8_t f[256];
    size_t n = 0;
    memcpy(f, mcap_magic, 8);
    n = 8;
    f[n] = MCAP_OP_HEADER;
    put_le(f + n + 1, 8, 8);
    memset(f + n + 9, 0, 8);
    n += 17;
    size_t body = n;
    /* A chunk that says 2^40 bytes uncompressed. */
    f[n] = MCAP_OP_CHUNK;
    put_le(f + n + 1, 8 + 8 + 8 + 4 + 4 + 4 + 8 + 1, 8);
    n += 9;
    memset(f + n, 0, 16);
    n += 16;
    put_le(f + n, 1ull << 40, 8);
    n += 8;
    put_le(f + n, 0, 4);
    n += 4;
    put_le(f + n, 4, 4);
    memcpy(f + n + 4, "zstd", 4);
    n += 8;
    put_le(f + n, 1, 8);
    f[n + 8] = 0;
    n += 9;
    seen s = {0};
    mcap_info in;
    assert_int_equal(scan_mem(f, n, &s, &in), MCAP_ELIMIT);
    assert_non_null(strstr(in.why, "over the limit"));
    /* 1 GiB (a 32 KiB chunk of zeros can say so truthfully): over the
     * default limit, refused before anything is allocated. */
    put_le(f + body + 9 + 16, 1ull << 30, 8);
    assert_int_equal(scan_mem(f, n, &s, &in), MCAP_ELIMIT);
    assert_non_null(strstr(in.why, "1073741824 bytes uncompressed, over the limit of 64 MiB"));
    /* Just over the default too; a reader told more takes it as far as
     * its data (which do not decompress to it here). */
    put_le(f + body + 9 + 16, MCAP_MAX_CHUNK_DEFAULT + 1, 8);
    assert_int_equal(scan_mem(f, n, &s, &in), MCAP_ELIMIT);
    mcap_reader *r;
    mcap_read_opts big = {.max_chunk = MCAP_MAX_CHUNK_DEFAULT * 2};
    assert_int_equal(mcap_reader_open_mem(&r, f, n, &big), 0);
    assert_int_equal(mcap_reader_scan(r, NULL, NULL, &in), MCAP_EFORMAT);
    mcap_reader_close(r);
    /* A message on channel 9, never declared. */
    n = body;
    f[n] = MCAP_OP_MESSAGE;
    put_le(f + n + 1, 22, 8);
    memset(f + n + 9, 0, 22);
    f[n + 9] = 9;
    n += 31;
    assert_int_equal(scan_mem(f, n, &s, &in), MCAP_EFORMAT);
    assert_non_null(strstr(in.why, "not declared"));
    /* A record length of 2^64-1. */
    n = body;
    f[n] = MCAP_OP_SCHEMA;
    memset(f + n + 1, 0xff, 8);
    n += 9;
    assert_int_equal(scan_mem(f, n, &s, &in), 0);
    assert_true(in.cut_off);
    /* A schema whose name length runs past its record. */
    n = body;
    f[n] = MCAP_OP_SCHEMA;
    put_le(f + n + 1, 6, 8);
    put_le(f + n + 9, 1, 2);
    put_le(f + n + 11, 0xfffffff0u, 4);
    n += 15;
    assert_int_equal(scan_mem(f, n, &s, &in), MCAP_EFORMAT);
    /* Not MCAP at all. */
    assert_int_equal(scan_mem((const uint8_t *)"hello world", 11, &s, &in), MCAP_EFORMAT);
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/test_mcap.%d.mcap", (int)getpid());
    make_msgs();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_crc),
        cmocka_unit_test(t_roundtrip_zstd), cmocka_unit_test(t_roundtrip_plain),
        cmocka_unit_test(t_truncated),      cmocka_unit_test(t_no_footer),
        cmocka_unit_test(t_corrupt),        cmocka_unit_test(t_hostile),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    for (int i = 0; i < NMSG; i++)
        free(msgs[i].data);
    return rc;
}
