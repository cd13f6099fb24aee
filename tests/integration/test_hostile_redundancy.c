/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_redundancy.c — the extensions of capability REDUNDANCY
 * (issue 17, docs/protocol.md 3) on a live socket, spoken by a raw client:
 * a malformed extension of ANNOUNCE (an owned announce with an unknown
 * flag among them), REQUEST, REPLY or QUERY_REPLY, or one on a QUERY,
 * gets ERROR 200 and the link closed; well-formed ones are taken, the link
 * kept; the victim says REDUNDANCY in its HELLO and sends an extension
 * only to a peer that said it too.
 *
 * One of the test_hostile_*.c programs: a raw, hostile client
 * (raw_client.h) attacks a fresh victim node per case while an innocent
 * library node keeps using it; what a case must show to pass is in
 * hostile_victim.h.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"
#include "hostile_victim.h"

/* ------------------------------------------------------------------ */
/* Frames with an extension, of any length and content                  */
/* ------------------------------------------------------------------ */

/* An ANNOUNCE of path (version 1, no encoding, no meta) followed by
 * ext_len bytes (0..9) of: i32 strength, then tail[0..3] (flags and the
 * reserved bytes), then a 0. */
static size_t enc_announce_ext(buf *b, uint64_t src, uint8_t kind,
                               const char *path, int32_t strength,
                               const uint8_t tail[4], size_t ext_len)
{
    uint8_t ext[9] = {0};
    st32(ext, (uint32_t)strength);
    memcpy(ext + 4, tail, 4);
    size_t off = f_begin(b, T_ANNOUNCE, src, 0);
    b_u8(b, kind);
    b_u64(b, 1);
    b_str(b, path, strlen(path));
    b_str(b, "", 0);
    b_blob(b, NULL, 0);
    b_put(b, ext, ext_len);
    f_end(b, off);
    return off;
}

/* A REQUEST (or QUERY) with tail_len bytes after its body. */
static size_t enc_request_tail(buf *b, uint8_t type, uint64_t src,
                               uint64_t corr, const char *path,
                               const void *data, size_t len,
                               const void *tail, size_t tail_len)
{
    size_t off = f_begin(b, type, src, corr);
    b_u32(b, 5000);
    b_str(b, path, strlen(path));
    b_str(b, "", 0);
    b_blob(b, data, len);
    b_put(b, tail, tail_len);
    f_end(b, off);
    return off;
}

/* A REPLY (or QUERY_REPLY) of status with tail_len bytes after its body. */
static size_t enc_reply_tail(buf *b, uint8_t type, uint64_t src, uint64_t corr,
                             uint16_t status, const void *tail,
                             size_t tail_len)
{
    size_t off = f_begin(b, type, src, corr);
    st16(b->p + off + 8, status);
    b_u64(b, 1);
    b_u64(b, 0);
    b_str(b, "", 0);
    b_blob(b, "x", 1);
    b_put(b, tail, tail_len);
    f_end(b, off);
    return off;
}

/* The REPLY to corr: its status and data ("x" for the echo). */
static void expect_reply(raw *r, uint64_t corr, uint16_t status,
                         const char *data)
{
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        rframe f;
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k == 0)
            fail_msg("the victim closed the link (last error %u %s)",
                     r->last_error, r->last_text);
        if (k < 0)
            fail_msg("no REPLY to %llu", (unsigned long long)corr);
        bool done = f.type == T_REPLY && f.corr == corr;
        if (done) {
            assert_int_equal(f.status, status);
            assert_int_equal(f.data_len, strlen(data));
            assert_memory_equal(f.data, data, f.data_len);
        }
        rframe_free(&f);
        if (done)
            return;
    }
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */
/* ------------------------------------------------------------------ */

/* ANNOUNCE: each malformed extension is fatal to the link (200); owned,
 * at-most-once and negative-strength announces are taken. */
static void t_ext_announce(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    static const struct {
        uint8_t kind;
        uint8_t tail[4]; /* flags, reserved, keep (u16, issue 21) */
        size_t len;      /* extension bytes sent */
        const char *what;
    } bad[] = {
        {2, {ANN_OWNED | 4, 0, 0, 0}, 8, "owned, with an unknown flag"},
        {2, {ANN_OWNED | 0x80, 0, 0, 0}, 8, "owned, with flag bit 7"},
        {2, {4, 0, 0, 0}, 8, "an unknown flag alone"},
        {2, {0, 0, 0, 0}, 8, "no flag"},
        {2, {ANN_ONCE, 0, 0, 0}, 8, "at most once, on a stream"},
        {1, {ANN_ONCE, 0, 0, 0}, 8, "at most once, on data"},
        {3, {ANN_OWNED, 0, 0, 0}, 8, "owned, on a service"},
        {1, {ANN_OWNED, 1, 0, 0}, 8, "reserved u8 not 0"},
        {1, {ANN_OWNED, 0, 2, 0}, 8, "keep 2 on data (0 or 1)"},
        {1, {ANN_OWNED, 0, 0, 0x80}, 8, "keep 32768"},
        {2, {0, 0, 0x01, 0x04}, 8, "keep 1025 on a stream"},
        {3, {ANN_ONCE, 0, 1, 0}, 8, "keep on a service"},
        {2, {ANN_OWNED, 0, 0, 0}, 4, "4 bytes: the strength only"},
        {2, {ANN_OWNED, 0, 0, 0}, 7, "7 bytes"},
        {2, {ANN_OWNED, 0, 0, 0}, 9, "9 bytes"},
    };
    const size_t nb = sizeof bad / sizeof bad[0];
    for (size_t i = 0; i < nb; i++) {
        raw *r = raw_link();
        enc_announce_ext(&B, r->id, bad[i].kind, "hostile/ext", 1000,
                         bad[i].tail, bad[i].len);
        raw_send_buf(r);
        if (G.verbose)
            print_message("    %s\n", bad[i].what);
        raw_expect_close(r, ST_BAD_REQUEST);
        raw_free(r);
    }
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + nb);

    /* Well-formed extensions, on one link, are taken and it stays up: an
     * owned stream at strength 1000 (a raw client may claim any: the
     * ranking is the policy's and the owner code's business), owned data
     * at a negative strength, an at-most-once service. */
    victim_stats(&s0);
    raw *r = raw_link();
    static const uint8_t owned[4] = {ANN_OWNED, 0, 0, 0};
    static const uint8_t once[4] = {ANN_ONCE, 0, 0, 0};
    static const uint8_t keep[4] = {0, 0, 0x00, 0x04}; /* 1024, no flag */
    static const uint8_t latched[4] = {0, 0, 1, 0};
    enc_announce_ext(&B, r->id, 2, "hostile/owned/stream", 1000, owned, 8);
    enc_announce_ext(&B, r->id, 1, "hostile/owned/data", -5, owned, 8);
    enc_announce_ext(&B, r->id, 3, "hostile/once", 0, once, 8);
    enc_announce_ext(&B, r->id, 2, "hostile/kept", 0, keep, 8);
    enc_announce_ext(&B, r->id, 1, "hostile/latched", 0, latched, 8);
    raw_send_buf(r);
    raw_ping(r, 2);
    assert_int_equal(r->errors[ST_BAD_REQUEST], 0);
    victim_stats(&s1);
    assert_true(s1.resources >= s0.resources + 5);
    assert_int_equal(s1.bad_frames, s0.bad_frames);
    raw_free(r);
    victim_check();
}

/* REQUEST: an id is answered as any request, to a peer with or without
 * the capability (the victim's REPLY carries a load only to the one that
 * said REDUNDANCY: raw_client.c refuses an extension it did not ask for);
 * id 0 and a tail of any other size are fatal; so is any tail on a QUERY,
 * which has no extension. */
static void t_ext_request(void **state)
{
    (void)state;
    static const uint8_t id[9] = {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
                                  0x11, 0};
    raw *r = raw_link();
    assert_true(r->victim_caps & CAP_REDUNDANCY);
    enc_request_tail(&B, T_REQUEST, r->id, 7, V.echo, "x", 1, id, 8);
    raw_send_buf(r);
    expect_reply(r, 7, ST_OK, "x");
    /* A retry of the same id (a new corr) is answered again: echo is not
     * an at-most-once service. */
    enc_request_tail(&B, T_REQUEST, r->id, 8, V.echo, "x", 1, id, 8);
    raw_send_buf(r);
    expect_reply(r, 8, ST_OK, "x");
    raw_ping(r, 3);
    assert_int_equal(r->ext_loads, 0);
    raw_free(r);

    hello_caps = CAP_REDUNDANCY;
    r = raw_link();
    enc_request_tail(&B, T_REQUEST, r->id, 9, V.echo, "x", 1, id, 8);
    raw_send_buf(r);
    expect_reply(r, 9, ST_OK, "x");
    raw_ping(r, 4);
    hello_caps = 0;
    raw_free(r);

    static const uint8_t zero[9] = {0};
    vstats s0, s1;
    victim_stats(&s0);
    unsigned nbad = 0;
    static const struct {
        uint8_t type;
        const uint8_t *tail;
        size_t len;
        const char *what;
    } bad[] = {
        {T_REQUEST, zero, 8, "request id 0"},
        {T_REQUEST, id, 4, "a 4-byte id"},
        {T_REQUEST, id, 9, "a 9-byte id"},
        {T_REQUEST, id, 1, "one byte"},
        /* 8 non-zero bytes after a QUERY are a version query now (debug
         * history, protocol 10.6: test_hostile_history); version 0 is not. */
        {T_QUERY, zero, 8, "a QUERY with 8 zero bytes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        raw *x = raw_link();
        enc_request_tail(&B, bad[i].type, x->id, 11 + i,
                         bad[i].type == T_QUERY ? V.data : V.echo,
                         bad[i].type == T_QUERY ? "" : "x",
                         bad[i].type == T_QUERY ? 0 : 1, bad[i].tail,
                         bad[i].len);
        raw_send_buf(x);
        if (G.verbose)
            print_message("    %s\n", bad[i].what);
        raw_expect_close(x, ST_BAD_REQUEST);
        raw_free(x);
        nbad++;
    }
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + nbad);
    victim_check();
}

/* REPLY and QUERY_REPLY: a load with its reserved field not 0, or a tail
 * of another size, is fatal (before any session rule: the body is
 * malformed); a well-formed load on a stray answer is dropped and
 * counted like any stray answer, the link kept. */
static void t_ext_reply(void **state)
{
    (void)state;
    static const uint8_t load_ok[9] = {5, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t load_r1[8] = {5, 0, 0, 0, 1, 0, 0, 0};
    static const uint8_t load_r4[8] = {5, 0, 0, 0, 0, 0, 0, 0x80};
    static const struct {
        uint8_t type;
        const uint8_t *tail;
        size_t len;
    } bad[] = {
        {T_REPLY, load_r1, 8},       {T_REPLY, load_r4, 8},
        {T_QUERY_REPLY, load_r1, 8}, {T_QUERY_REPLY, load_r4, 8},
        {T_REPLY, load_ok, 4},       {T_REPLY, load_ok, 9},
        {T_QUERY_REPLY, load_ok, 5},
    };
    vstats s0, s1;
    victim_stats(&s0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        raw *r = raw_link();
        enc_reply_tail(&B, bad[i].type, r->id, 77 + i, ST_OK, bad[i].tail,
                       bad[i].len);
        raw_send_buf(r);
        raw_expect_close(r, ST_BAD_REQUEST);
        raw_free(r);
    }
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + sizeof bad / sizeof bad[0]);

    victim_stats(&s0);
    raw *r = raw_link();
    enc_reply_tail(&B, T_REPLY, r->id, 1234, ST_OK, load_ok, 8);
    enc_reply_tail(&B, T_QUERY_REPLY, r->id, 1235, ST_OK, load_ok, 8);
    raw_send_buf(r);
    raw_ping(r, 5);
    for (int e = 0; e < 1024; e++)
        if (r->errors[e])
            fail_msg("the victim answered a stray reply with ERROR %d", e);
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 2);
    raw_free(r);
    victim_check();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(t_ext_announce),
        CASE(t_ext_request),
        CASE(t_ext_reply),
    };
    /* IPCN_TEST_FILTER=t_ext_r* runs only the matching cases. */
    if (getenv("IPCN_TEST_FILTER"))
        cmocka_set_test_filter(getenv("IPCN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
