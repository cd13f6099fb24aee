/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_latch.c — late subscribers (issue 21, docs/protocol.md
 * 10.3) on a live socket, spoken by a raw client that says LATCH in its
 * HELLO: a SUBSCRIBE with a corr is answered by the kept value, with that
 * corr, then one REPLY (none kept: the REPLY alone; an invalid pattern:
 * ERROR 200 and a REPLY 200, the link kept); replayed samples and ends
 * that answer nothing the victim asked are dropped (the ends counted as
 * stray replies), never fatal; thousands of replays asked by a client
 * that does not read cost the victim bounded memory and every one is
 * answered once it reads.
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

#define REPLAY_CORR(i) (0x8000000000000000ull | (uint64_t)(i))

/* A SUBSCRIBE of pattern that asks for a replay (corr not 0). */
static size_t enc_subscribe_corr(buf *b, uint64_t src, uint64_t corr,
                                 const char *pattern)
{
    size_t off = f_begin(b, T_SUBSCRIBE, src, corr);
    b_str(b, pattern, strlen(pattern));
    f_end(b, off);
    return off;
}

/* Read until the REPLY of corr: the samples with that corr before it (and
 * the last one's data), its status and seq.  Samples of other corrs, or
 * live ones, must not come. */
typedef struct replay_seen {
    unsigned samples, errors;
    uint16_t status;
    uint64_t seq;
    char data[64];
} replay_seen;

static replay_seen read_replay(raw *r, uint64_t corr)
{
    replay_seen s = {0};
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        rframe f;
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k == 0)
            fail_msg("the victim closed the link (last error %u %s)",
                     r->last_error, r->last_text);
        if (k < 0)
            fail_msg("no end of the replay %llx", (unsigned long long)corr);
        bool done = false;
        if (f.type == T_SAMPLE) {
            if (f.corr != corr)
                fail_msg("a sample with corr %llx during the replay %llx",
                         (unsigned long long)f.corr, (unsigned long long)corr);
            s.samples++;
            snprintf(s.data, sizeof s.data, "%.*s", (int)f.data_len,
                     (const char *)f.data);
        } else if (f.type == T_ERROR) {
            s.errors++;
        } else if (f.type == T_REPLY && f.corr == corr) {
            s.status = f.status;
            s.seq = f.seq;
            done = true;
        }
        rframe_free(&f);
        if (done)
            return s;
    }
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */
/* ------------------------------------------------------------------ */

static void t_latch_replay(void **state)
{
    (void)state;
    hello_caps = CAP_REDUNDANCY | CAP_LATCH;
    raw *r = raw_link();
    assert_true(r->victim_caps & CAP_LATCH);
    /* The data's current value, with the corr, then the end: seq 1. */
    B.len = 0;
    enc_subscribe_corr(&B, r->id, REPLAY_CORR(1), V.data);
    raw_send_buf(r);
    replay_seen s = read_replay(r, REPLAY_CORR(1));
    assert_int_equal(s.samples, 1);
    assert_string_equal(s.data, "victim-data");
    assert_int_equal(s.status, ST_OK);
    assert_int_equal(s.seq, 1);
    /* Again, the same pattern (already in its set): again. */
    B.len = 0;
    enc_subscribe_corr(&B, r->id, REPLAY_CORR(2), V.data);
    raw_send_buf(r);
    s = read_replay(r, REPLAY_CORR(2));
    assert_int_equal(s.samples, 1);
    /* Nothing kept matches: the end alone. */
    B.len = 0;
    enc_subscribe_corr(&B, r->id, REPLAY_CORR(3), "nothing/**");
    raw_send_buf(r);
    s = read_replay(r, REPLAY_CORR(3));
    assert_int_equal(s.samples, 0);
    assert_int_equal(s.status, ST_OK);
    assert_int_equal(s.seq, 0);
    /* An invalid pattern: its ERROR, the end with 200, the link kept. */
    B.len = 0;
    enc_subscribe_corr(&B, r->id, REPLAY_CORR(4), "a//b");
    raw_send_buf(r);
    s = read_replay(r, REPLAY_CORR(4));
    assert_int_equal(s.samples, 0);
    assert_int_equal(s.errors, 1);
    assert_int_equal(s.status, ST_BAD_REQUEST);
    raw_ping(r, 9);
    raw_free(r);
    hello_caps = 0;
    victim_check();
}

static void t_latch_stray(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    hello_caps = CAP_REDUNDANCY | CAP_LATCH;
    raw *r = raw_link();
    rng_state = 21;
    B.len = 0;
    for (unsigned i = 0; i < 50; i++) {
        /* Replayed samples of no replay the victim asked for, of a path
         * this client never announced: dropped. */
        enc_sample_corr(&B, r->id, rng() | 1, i + 1, V.data, "", "x", 1);
        /* Ends of replays it never asked for: stray replies. */
        enc_reply(&B, T_REPLY, r->id, REPLAY_CORR(rng() >> 1), ST_OK);
    }
    raw_send_buf(r);
    raw_ping(r, 7);
    for (int e = 0; e < 1024; e++)
        if (r->errors[e])
            fail_msg("the victim answered a stray replay with ERROR %d", e);
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 50);
    raw_free(r);
    hello_caps = 0;
    victim_check();
}

/* Replays asked in bulk by a client that does not read: the victim's
 * queue to it is bounded (it stops reading from a peer that does not read
 * what it is owed), and each replay is answered once the client reads. */
static void t_latch_flood(void **state)
{
    (void)state;
    enum { N = 3000 };
    hello_caps = CAP_REDUNDANCY | CAP_LATCH;
    raw *r = raw_link();
    B.len = 0;
    for (unsigned i = 1; i <= N; i++)
        enc_subscribe_corr(&B, r->id, REPLAY_CORR(i), V.data);
    /* Written while reading, as a peer must, or both would block. */
    raw_send_buf(r);
    unsigned ends = 0, samples = 0;
    uint64_t end = tu_now_ms() + 4 * IO_TIMEOUT_MS;
    while (ends < N) {
        rframe f;
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k <= 0)
            fail_msg("%u of %u replays ended", ends, (unsigned)N);
        if (f.type == T_REPLY && (f.corr & REPLAY_CORR(0)))
            ends++;
        else if (f.type == T_SAMPLE && (f.corr & REPLAY_CORR(0)))
            samples++;
        rframe_free(&f);
    }
    /* Each replay brought the value, or ended without it as over the
     * client's limits (205): none brought more. */
    assert_true(samples <= N);
    assert_true(samples + r->replies[ST_TOO_MANY] >= N);
    raw_ping(r, 3);
    raw_free(r);
    hello_caps = 0;
    victim_check();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(t_latch_replay),
        CASE(t_latch_stray),
        CASE(t_latch_flood),
    };
    if (getenv("IPCN_TEST_FILTER"))
        cmocka_set_test_filter(getenv("IPCN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
