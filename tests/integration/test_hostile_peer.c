/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_peer.c — a linked peer that misbehaves: a second hello, bad and
 * flooding announces, subscriptions and patterns, unannounced samples,
 * hostile shared-memory pools and descriptors, unsolicited replies, request
 * floods, sets (refused, good, malformed), a foreign source id, STATE
 * frames (told, taken, malformed).
 *
 * One of the test_hostile_*.c programs: a raw, hostile client
 * (raw_client.h) attacks a fresh victim node per case while an innocent
 * library node keeps using it; what a case must show to pass is in
 * hostile_victim.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"
#include "hostile_victim.h"

/* ------------------------------------------------------------------ */
/* Cases: after a valid hello                                           */
/* ------------------------------------------------------------------ */

static void t_second_hello(void **state)
{
    (void)state;
    raw *r = raw_link();
    enc_hello(&B, r->id, "again");
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    victim_check();
}

static void t_announce_bad_paths(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    raw *r = raw_link();
    char p300[301];
    memset(p300, 'x', 300);
    p300[300] = 0;
    const char *const paths[] = {"a//b", "\xc3\x28", "a/\xed\xa0\x80", "a/\x01" "b",
                                 "a/\x7f", p300, "a/*/b", "a/**", "/a", "a/",
                                 ""};
    const size_t np = sizeof paths / sizeof *paths;
    for (size_t i = 0; i < np; i++) {
        enc_announce(&B, r->id, 2, 1, paths[i], strlen(paths[i]));
        raw_send_buf(r);
    }
    /* An encoding with a control character, a 65 KiB meta. */
    size_t off = f_begin(&B, T_ANNOUNCE, r->id, 0);
    b_u8(&B, 1);
    b_u64(&B, 1);
    b_str(&B, "hostile/enc", 11);
    b_str(&B, "text/\nplain", 11);
    b_blob(&B, NULL, 0);
    f_end(&B, off);
    off = f_begin(&B, T_ANNOUNCE, r->id, 0);
    b_u8(&B, 1);
    b_u64(&B, 1);
    b_str(&B, "hostile/meta", 12);
    b_str(&B, "", 0);
    static uint8_t meta[(64 << 10) + 1];
    b_blob(&B, meta, sizeof meta);
    f_end(&B, off);
    raw_send_buf(r);
    raw_ping(r, 2); /* the link is kept */
    assert_int_equal(r->errors[ST_BAD_REQUEST], np + 2);
    /* A valid announce still works on it. */
    enc_announce(&B, r->id, 2, 1, "hostile/fine", 12);
    raw_send_buf(r);
    raw_ping(r, 3);
    assert_int_equal(r->errors[ST_BAD_REQUEST], np + 2);
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + np + 2);
    raw_free(r);
    victim_check();
}

static void t_announce_flood(void **state)
{
    (void)state;
    raw *r = raw_link();
    char path[64];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(path, sizeof path, "hostile/flood/%05d", i);
        enc_announce(&B, r->id, 2, 1, path, (size_t)n);
        if (B.len > 60000)
            raw_send_buf(r);
    }
    raw_send_buf(r);
    raw_ping(r, 5000);
    assert_int_equal(r->errors[ST_TOO_MANY], 5000 - 4096);
    /* Re-announcing a known one (a new version) is still accepted. */
    enc_announce(&B, r->id, 2, 2, "hostile/flood/00000", 19);
    raw_send_buf(r);
    raw_ping(r, 5001);
    assert_int_equal(r->errors[ST_TOO_MANY], 5000 - 4096);
    vstats s;
    victim_stats(&s);
    assert_true(s.resources <= 4096 + 16);
    raw_free(r);
    victim_check();
}

static void t_subscribe_flood(void **state)
{
    (void)state;
    raw *r = raw_link();
    char pat[64];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(pat, sizeof pat, "hostile/%04d/**", i);
        enc_text(&B, T_SUBSCRIBE, r->id, pat, (size_t)n);
        if (B.len > 60000)
            raw_send_buf(r);
    }
    raw_send_buf(r);
    raw_ping(r, 2000);
    assert_int_equal(r->errors[ST_TOO_MANY], 2000 - 1024);
    /* Invalid patterns: 200, the link kept. */
    enc_text(&B, T_SUBSCRIBE, r->id, "a//b", 4);
    enc_text(&B, T_SUBSCRIBE, r->id, "a/***", 5);
    raw_send_buf(r);
    raw_ping(r, 2001);
    assert_int_equal(r->errors[ST_BAD_REQUEST], 2);
    raw_free(r);
    victim_check();
}

static void t_hostile_patterns(void **state)
{
    (void)state;
    raw *r = raw_link();
    /* 1023 patterns of 255 bytes that the matcher must walk in full against
     * the victim's deepest path and never match: many '**' then a literal
     * segment; then one that matches everything, so that the victim does
     * send samples. */
    char pat[256];
    for (int i = 0; i < 1023; i++) {
        char tail[16];
        size_t tl = (size_t)snprintf(tail, sizeof tail, "/n%d", i);
        size_t n = 0;
        for (int j = 0;; j++) {
            /* odd i: all "**"; even i: "**" and "*" alternating */
            const char *seg = (i & 1) || !(j & 1) ? "**" : "*";
            size_t sl = strlen(seg), need = (n ? 1 : 0) + sl;
            if (n + need + tl > 255)
                break;
            if (n)
                pat[n++] = '/';
            memcpy(pat + n, seg, sl);
            n += sl;
        }
        memcpy(pat + n, tail, tl);
        n += tl;
        pat[n] = 0;
        assert_true(n <= 255 && n >= 250);
        enc_text(&B, T_SUBSCRIBE, r->id, pat, n);
        if (B.len > 60000)
            raw_send_buf(r);
    }
    size_t n = 1;
    pat[0] = '*';
    while (n + 3 <= 253) {
        memcpy(pat + n, "/**", 3);
        n += 3;
    }
    memcpy(pat + n, "/*", 2);
    n += 2;
    assert_int_equal(n, 255);
    enc_text(&B, T_SUBSCRIBE, r->id, pat, n);
    raw_send_buf(r);
    raw_ping(r, 1);
    assert_int_equal(r->errors[ST_BAD_REQUEST], 0);
    assert_int_equal(r->errors[ST_TOO_MANY], 0);
    /* For a second, keep reading the samples it sends while the prober
     * measures its responsiveness. */
    uint64_t end = tu_now_ms() + 1000;
    while (tu_now_ms() < end) {
        raw_ping(r, 2);
        usleep(100000);
    }
    assert_true(r->samples >= 1);
    raw_free(r);
    victim_check();
}

static void t_sample_unannounced(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    raw *r = raw_link();
    for (int i = 0; i < 10; i++)
        enc_sample(&B, r->id, (uint64_t)i + 1, "hostile/never", "x", 1);
    /* A sample on a path it announced as a service. */
    enc_announce(&B, r->id, 3, 1, "hostile/svc", 11);
    enc_sample(&B, r->id, 1, "hostile/svc", "y", 1);
    raw_send_buf(r);
    raw_ping(r, 7);
    for (int e = 0; e < 1024; e++)
        if (r->errors[e])
            fail_msg("the victim answered a stray sample with ERROR %d", e);
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 11);
    assert_int_equal(s1.samples, s0.samples);
    raw_free(r);
    victim_check();
}

/* ---- shared memory: descriptors and pools from a hostile publisher ---- */

#define T_SHM_POOL 15
#define T_SHM_SAMPLE 16

static size_t enc_shm_pool(buf *b, uint64_t src, uint32_t id, uint32_t slots,
                           uint64_t slot_size)
{
    size_t off = f_begin(b, T_SHM_POOL, src, 0);
    b_u32(b, id);
    b_u32(b, slots);
    b_u32(b, 1); /* share */
    b_u32(b, 0);
    b_u64(b, slot_size);
    f_end(b, off);
    return off;
}

static size_t enc_shm_sample(buf *b, uint64_t src, const char *path, uint32_t pool,
                             uint32_t slot, uint64_t offset, uint64_t len)
{
    size_t off = f_begin(b, T_SHM_SAMPLE, src, 0);
    b_u64(b, 1);
    b_u64(b, 0);
    b_str(b, path, strlen(path));
    b_str(b, "", 0);
    b_u32(b, pool);
    b_u32(b, slot);
    b_u32(b, 1); /* gen */
    b_u32(b, 0); /* flags */
    b_u64(b, offset);
    b_u64(b, len);
    b_u64(b, 0);
    f_end(b, off);
    return off;
}

/* Pools the victim must refuse: it says so (ERROR 200), counts a bad
 * frame, keeps the link and maps nothing. */
static void t_shm_bad_pools(void **state)
{
    (void)state;
    hello_caps = 1;
    vstats s0, s1;
    victim_stats(&s0);
    raw *r = raw_link();
    /* 1. no descriptor at all */
    enc_shm_pool(&B, r->id, 1, 4, 65536);
    raw_send_buf(r);
    /* 2. a memfd that is not sealed: we could shrink it under the reader */
    int fd = make_memfd(4 * 65536, 0);
    enc_shm_pool(&B, r->id, 2, 4, 65536);
    raw_send_fds(r, &fd, 1);
    close(fd);
    /* 3. sealed, but smaller than it claims */
    fd = make_memfd(65536, F_SEAL_SHRINK | F_SEAL_GROW);
    enc_shm_pool(&B, r->id, 3, 4, 65536);
    raw_send_fds(r, &fd, 1);
    close(fd);
    /* 4. a pipe instead of a memfd */
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    enc_shm_pool(&B, r->id, 4, 4, 65536);
    raw_send_fds(r, &pfd[0], 1);
    close(pfd[0]);
    close(pfd[1]);
    /* 5. a slot size that is not a multiple of the page size */
    fd = make_memfd(4 * 65536, F_SEAL_SHRINK);
    enc_shm_pool(&B, r->id, 5, 4, 65537);
    raw_send_fds(r, &fd, 1);
    close(fd);
    raw_ping(r, 11);
    assert_int_equal(r->errors[ST_BAD_REQUEST], 5);
    /* Samples naming those pools are dropped and counted. */
    enc_announce(&B, r->id, 2, 1, "hostile/shm", 11);
    for (uint32_t id = 1; id <= 5; id++)
        enc_shm_sample(&B, r->id, "hostile/shm", id, 0, 0, 16);
    raw_send_buf(r);
    raw_ping(r, 12);
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 10);
    assert_int_equal(s1.samples, s0.samples);
    raw_free(r);
    hello_caps = 0;
    victim_check();
}

/* A well-formed pool, then samples outside it, descriptors with no frame,
 * and releases of slots the client never held. */
static void t_shm_out_of_bounds(void **state)
{
    (void)state;
    hello_caps = 1;
    vstats s0, s1;
    victim_stats(&s0);
    raw *r = raw_link();
    int fd = make_memfd(4 * 65536, F_SEAL_SHRINK | F_SEAL_GROW);
    enc_shm_pool(&B, r->id, 7, 4, 65536);
    raw_send_fds(r, &fd, 1);
    close(fd);
    enc_announce(&B, r->id, 2, 1, "hostile/shm", 11);
    enc_shm_sample(&B, r->id, "hostile/shm", 7, 4, 0, 16);        /* slot 4 of 4 */
    enc_shm_sample(&B, r->id, "hostile/shm", 7, 0, 65530, 16);    /* past the slot */
    enc_shm_sample(&B, r->id, "hostile/shm", 7, 0, 0, 65537);     /* longer */
    enc_shm_sample(&B, r->id, "hostile/shm", 7, UINT32_MAX, 0, 1);
    enc_shm_sample(&B, r->id, "hostile/shm", 8, 0, 0, 1);         /* no such pool */
    /* a release of what it never got, and of a pool that does not exist */
    size_t off = f_begin(&B, T_SHM_RELEASE, r->id, 0);
    b_u32(&B, 2);
    b_u32(&B, 99), b_u32(&B, 0), b_u32(&B, 1);
    b_u32(&B, 1), b_u32(&B, 3), b_u32(&B, 7);
    f_end(&B, off);
    raw_send_buf(r);
    raw_ping(r, 21);
    assert_int_equal(r->errors[ST_BAD_REQUEST], 0);
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 5);
    assert_int_equal(s1.samples, s0.samples);
    /* The same pool id again is refused. */
    fd = make_memfd(4 * 65536, F_SEAL_SHRINK);
    enc_shm_pool(&B, r->id, 7, 4, 65536);
    raw_send_fds(r, &fd, 1);
    close(fd);
    raw_ping(r, 22);
    assert_int_equal(r->errors[ST_BAD_REQUEST], 1);
    raw_free(r);
    /* Descriptors in bulk, with no pool frames for them: refused, closed. */
    r = raw_link();
    int fds[12];
    for (int i = 0; i < 12; i++)
        fds[i] = make_memfd(4096, 0);
    enc_stamp(&B, T_PING, r->id, 5);
    raw_send_fds(r, fds, 12);
    for (int i = 0; i < 12; i++)
        close(fds[i]);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    hello_caps = 0;
    victim_check();
}

/* SHM_REQUEST (protocol 12.9) naming bytes the victim cannot have: a pool
 * it never got, a slot past the pool, bytes past the slot, a node service.
 * Each is answered REPLY 200 (the link stays), the references counted as
 * bad frames; nothing reaches a handler. */
#define T_SHM_REQUEST 29
static void enc_shm_request(buf *b, uint64_t src, uint64_t corr,
                            const char *path, uint32_t pool, uint32_t slot,
                            uint64_t offset, uint64_t len)
{
    size_t off = f_begin(b, T_SHM_REQUEST, src, corr);
    b_u64(b, 0);    /* request id: none */
    b_u64(b, 1000); /* timeout, ms */
    b_str(b, path, strlen(path));
    b_str(b, "", 0);
    b_u32(b, pool);
    b_u32(b, slot);
    b_u32(b, 1); /* gen */
    b_u32(b, 0); /* flags */
    b_u64(b, offset);
    b_u64(b, len);
    b_u64(b, 0);
    f_end(b, off);
}

/* The victim's ipcn_node_stats.shm_requests_refused. */
static unsigned long long victim_shm_refused(void)
{
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(G.inn, V.stats, NULL, 0, NULL, &m,
                                  IO_TIMEOUT_MS),
                     ST_OK);
    const char *at = strstr((const char *)m->data, "shm_refused=");
    assert_non_null(at);
    unsigned long long k = strtoull(at + strlen("shm_refused="), NULL, 10);
    ipcn_msg_free(m);
    return k;
}

static void t_shm_request_bogus(void **state)
{
    (void)state;
    hello_caps = 1;
    vstats s0, s1;
    victim_stats(&s0);
    unsigned long long refused0 = victim_shm_refused();
    raw *r = raw_link();
    int fd = make_memfd(4 * 65536, F_SEAL_SHRINK | F_SEAL_GROW);
    enc_shm_pool(&B, r->id, 7, 4, 65536);
    raw_send_fds(r, &fd, 1);
    close(fd);
    enc_shm_request(&B, r->id, 1, V.echo, 99, 0, 0, 16384);  /* no pool */
    enc_shm_request(&B, r->id, 2, V.echo, 7, 4, 0, 16384);   /* slot 4 of 4 */
    enc_shm_request(&B, r->id, 3, V.echo, 7, 0, 65530, 16384); /* past it */
    enc_shm_request(&B, r->id, 4, V.echo, 7, UINT32_MAX, 0, 1);
    enc_shm_request(&B, r->id, 5, "@sys/info", 7, 0, 0, 16384);
    raw_send_buf(r);
    raw_ping(r, 23);
    assert_int_equal(r->replies[ST_BAD_REQUEST], 5);
    assert_int_equal(r->replies[ST_OK], 0);
    assert_int_equal(r->errors[ST_BAD_REQUEST], 0);
    /* The @sys one named a good slot: refused, it is given back at once
     * (the bad references name nothing to give back). */
    for (int i = 0; i < 50 && !r->releases; i++)
        raw_ping(r, 30 + (uint64_t)i);
    assert_int_equal(r->releases, 1);
    assert_int_equal(r->last_release[0], 7);
    assert_int_equal(r->last_release[1], 0);
    assert_int_equal(r->last_release[2], 1);
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 4);
    assert_int_equal(victim_shm_refused(), refused0 + 5);
    raw_free(r);
    /* On a link that negotiated no shared memory (HELLO caps 0), an
     * SHM_REQUEST names nothing the victim mapped: refused the same way. */
    hello_caps = 0;
    r = raw_link();
    enc_shm_request(&B, r->id, 6, V.echo, 7, 0, 0, 16384);
    raw_send_buf(r);
    raw_ping(r, 24);
    assert_int_equal(r->replies[ST_BAD_REQUEST], 1);
    assert_int_equal(r->replies[ST_OK], 0);
    assert_int_equal(r->releases, 0);
    assert_int_equal(victim_shm_refused(), refused0 + 6);
    raw_free(r);
    victim_check();
}

static void t_unsolicited_reply(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    raw *r = raw_link();
    rng_state = 42;
    for (int i = 0; i < 50; i++) {
        enc_reply(&B, T_REPLY, r->id, rng(), ST_OK);
        enc_reply(&B, T_QUERY_REPLY, r->id, rng(), ST_OK);
    }
    enc_reply(&B, T_REPLY, r->id, 0, ST_OK);
    enc_reply(&B, T_REPLY, r->id, UINT64_MAX, 1000);
    raw_send_buf(r);
    raw_ping(r, 8);
    for (int e = 0; e < 1024; e++)
        if (r->errors[e])
            fail_msg("the victim answered a stray reply with ERROR %d", e);
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 102);
    raw_free(r);
    victim_check();
}

static void t_request_flood(void **state)
{
    (void)state;
    raw *r = raw_link();
    /* 2000 requests of a service that defers its answers, sent without
     * reading: 1024 held, 976 refused with 205. */
    r->corr_base = 1;
    r->ncorr = 4000;
    r->answered = calloc(r->ncorr / 8 + 1, 1);
    for (int i = 0; i < 2000; i++) {
        enc_request(&B, T_REQUEST, r->id, r->corr_base + (uint64_t)i, V.hold, "h", 1);
    }
    size_t w = raw_write_ex(r, B.p, B.len, false, IO_TIMEOUT_MS);
    assert_int_equal(w, B.len);
    B.len = 0;
    raw_ping(r, 11);
    assert_int_equal(r->replies[ST_TOO_MANY], 2000 - 1024);
    vstats s;
    victim_stats(&s);
    assert_int_equal(s.held, 1024);
    raw_free(r);
    /* On another link, 2000 echo requests sent without reading: each
     * answered exactly once, with its bytes or with 205. */
    r = raw_link();
    r->corr_base = 1;
    r->ncorr = 4000;
    r->answered = calloc(r->ncorr / 8 + 1, 1);
    for (int i = 0; i < 2000; i++) {
        char d[16];
        int n = snprintf(d, sizeof d, "e%d", i);
        enc_request(&B, T_REQUEST, r->id, r->corr_base + 2000 + (uint64_t)i, V.echo,
                    d, (size_t)n);
    }
    w = raw_write_ex(r, B.p, B.len, false, IO_TIMEOUT_MS);
    assert_int_equal(w, B.len);
    B.len = 0;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        size_t missing = 0;
        for (size_t i = 2000; i < 4000; i++)
            if (!(r->answered[i / 8] & (1u << (i % 8))))
                missing++;
        if (!missing)
            break;
        if (tu_now_ms() > end)
            fail_msg("%zu echo requests never answered", missing);
        raw_ping(r, 12);
    }
    assert_int_equal(r->dup_answers, 0);
    assert_int_equal(r->replies[ST_OK] + r->replies[ST_TOO_MANY], 2000);
    assert_true(r->replies[ST_OK] >= 1024);
    raw_free(r);
    victim_check();
}

/* The REPLY to our frame corr, skipping the victim's other frames. */
static rframe set_answer(raw *r, uint64_t corr)
{
    rframe f;
    for (;;) {
        int k = raw_next(r, &f, IO_TIMEOUT_MS);
        if (k != 1)
            fail_msg("no answer to SET %llu (%d)", (unsigned long long)corr, k);
        if (f.type == T_REPLY && f.corr == corr)
            return f;
        rframe_free(&f);
    }
}

/* SETs by hand (protocol 12.3): of a path nobody provides, of a service,
 * with a wrong version or encoding, a good one (its version in the
 * REPLY's seq), then a malformed one, which closes the link. */
static void t_set(void **state)
{
    (void)state;
    raw *r = raw_link();
    static const struct {
        const char *path, *enc;
        uint64_t expect;
        uint16_t status;
    } cases[] = {
        {"nobody/provides/this", "", 0, ST_NOT_FOUND},
        {NULL /* echo */, "", 0, ST_NOT_ALLOWED},
        {NULL /* data */, "", 99, ST_CONFLICT},
        {NULL /* data */, "image/png", 0, ST_BAD_REQUEST},
        {"bad//path", "", 0, ST_BAD_REQUEST},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = cases[i].path ? cases[i].path
                           : i == 1      ? V.echo
                                         : V.data;
        enc_set(&B, r->id, 10 + i, cases[i].expect, path, cases[i].enc, "v", 1);
        raw_send_buf(r);
        rframe f = set_answer(r, 10 + i);
        assert_int_equal(f.status, cases[i].status);
        /* seq: the data resource's version (1: published once), else 0 */
        assert_true(f.len >= 8);
        assert_int_equal(ld64(f.pl), i >= 2 && i <= 3 ? 1 : 0);
        rframe_free(&f);
    }
    /* A good one: the same value again, version 1 -> 2. */
    enc_set(&B, r->id, 20, 1, V.data, "text/plain", "victim-data", 11);
    raw_send_buf(r);
    rframe f = set_answer(r, 20);
    assert_int_equal(f.status, ST_OK);
    assert_int_equal(ld64(f.pl), 2);
    assert_int_equal(f.data_len, 0);
    rframe_free(&f);
    /* Malformed: one byte more than its layout. */
    size_t off = enc_set(&B, r->id, 21, 0, V.data, "", "x", 1);
    b_u8(&B, 0);
    f_end(&B, off);
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    /* And one cut short. */
    r = raw_link();
    off = enc_set(&B, r->id, 22, 0, V.data, "", "xy", 2);
    B.len -= 1;
    f_end(&B, off);
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    victim_check();
}

static void t_foreign_src(void **state)
{
    (void)state;
    raw *r = raw_link();
    enc_stamp(&B, T_PING, r->id + 1, 1);
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    r = raw_link();
    size_t off = enc_request(&B, T_REQUEST, 0x5a5a5a5a, 1, V.echo, "x", 1);
    (void)off;
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    /* A foreign destination (v1 has no routing). */
    r = raw_link();
    off = enc_stamp(&B, T_PING, r->id, 1);
    st64(B.p + off + 24, r->victim_id + 1);
    f_seal(&B, off);
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    victim_check();
}

/* Link with hello_caps as they are, a PING after the hello; the STATE
 * frames the victim sends before its PONG, in *nstate, the body of the
 * last in *body; *before_dir: the first came before any ANNOUNCE. */
static raw *state_link(const char *name, unsigned *nstate, uint8_t body[4],
                       bool *before_dir)
{
    raw *r = raw_open();
    B.len = 0;
    enc_hello(&B, r->id, name);
    enc_stamp(&B, T_PING, r->id, 7);
    raw_send_buf(r);
    bool announced = false;
    *nstate = 0;
    *before_dir = false;
    for (;;) {
        rframe f;
        int k = raw_next(r, &f, IO_TIMEOUT_MS);
        if (k <= 0)
            fail_msg("no PONG from the victim (%d)", k);
        bool done = f.type == T_PONG && f.stamp == 7;
        if (f.type == T_ANNOUNCE)
            announced = true;
        if (f.type == T_STATE) {
            assert_int_equal(f.len, 4);
            memcpy(body, f.pl, 4);
            if (!*nstate)
                *before_dir = !announced;
            ++*nstate;
        }
        rframe_free(&f);
        if (done)
            return r;
    }
}

/* STATE (protocol 7.6): the victim (important, ready) tells a client
 * with the STATE capability right after the hello, before its directory,
 * and one without it nothing; good STATEs of any value and many of them
 * are taken (a critical client's end is the victim's event, not its
 * trouble); a bad body closes the link with 200, and so does a STATE
 * before the hello. */
static void t_state(void **state)
{
    (void)state;
    unsigned n;
    uint8_t body[4] = {0};
    bool first;
    hello_caps = CAP_STATE;
    raw *r = state_link("hostile-st1", &n, body, &first);
    hello_caps = 0;
    assert_int_equal(n, 1);
    assert_true(first);
    assert_memory_equal(body, "\x02\x01\x00\x00", 4);
    for (unsigned i = 0; i < 2000; i++) { /* every value, again and again */
        enc_state(&B, r->id, (uint8_t)(i % 4), (uint8_t)(i / 4 % 2), 0);
        if (B.len > 64 * 1024)
            raw_send_buf(r);
    }
    enc_state(&B, r->id, 3, 1, 0); /* critical and ready, at the end */
    raw_send_buf(r);
    raw_ping(r, 8);
    raw_free(r); /* a critical peer lost: an event there, nothing more */

    r = state_link("hostile-st2", &n, body, &first);
    assert_int_equal(n, 0);
    raw_free(r);

    static const struct {
        uint8_t crit, flags;
        uint16_t reserved;
        int cut; /* bytes taken off (< 0: added) */
    } bad[] = {
        {4, 0, 0, 0}, {255, 1, 0, 0},   /* criticality 0..3 */
        {1, 2, 0, 0}, {0, 0x80, 0, 0},  /* flags: ready only */
        {1, 1, 1, 0}, {1, 1, 0x100, 0}, /* reserved */
        {1, 1, 0, 1}, {1, 1, 0, 4},     /* short, empty */
        {1, 1, 0, -1},                  /* long */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = raw_link();
        size_t off = enc_state(&B, r->id, bad[i].crit, bad[i].flags,
                               bad[i].reserved);
        if (bad[i].cut < 0)
            b_u8(&B, 0);
        else
            B.len -= (size_t)bad[i].cut;
        f_end(&B, off);
        raw_send_buf(r);
        raw_expect_close(r, ST_BAD_REQUEST);
        raw_free(r);
    }
    enc_state(&B, 0x5151, 1, 1, 0);
    attack_expect_buf(ST_BAD_REQUEST); /* before any hello */
    victim_check();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(t_second_hello),
        CASE(t_announce_bad_paths),
        CASE(t_announce_flood),
        CASE(t_subscribe_flood),
        CASE(t_hostile_patterns),
        CASE(t_sample_unannounced),
        CASE(t_shm_bad_pools),
        CASE(t_shm_out_of_bounds),
        CASE(t_shm_request_bogus),
        CASE(t_unsolicited_reply),
        CASE(t_request_flood),
        CASE(t_set),
        CASE(t_foreign_src),
        CASE(t_state),
    };
    /* IPCN_TEST_FILTER=t_slowloris* runs only the matching cases. */
    if (getenv("IPCN_TEST_FILTER"))
        cmocka_set_test_filter(getenv("IPCN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
