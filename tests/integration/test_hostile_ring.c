/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_ring.c — link rings (protocol 7.4) from a raw client: bad rings,
 * a raw writer and reader on both sides, the room bell, a victim that
 * cannot make its ring, owed bells, hostile writers and readers, doorbell
 * floods, a reader that stalls.
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
/* Cases: link rings (protocol 7.4) from a raw client                   */
/* ------------------------------------------------------------------ */

/* A fresh linked client sends a RING with fd (-1: none): ERROR 200, close.
 * With hello_caps holding CAP_RING, the victim's own RING came first, and
 * its ERROR comes through its ring. */
static void ring_refused(int fd, uint32_t size, uint32_t reserved)
{
    raw *r = raw_link();
    assert_int_equal(r->in_ring, (hello_caps & CAP_RING) != 0);
    enc_ring(&B, r->id, size, reserved);
    if (fd >= 0) {
        raw_send_fds(r, &fd, 1);
        close(fd);
    } else {
        raw_send_buf(r);
    }
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
}

static void t_ring_bad_rings(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    unsigned nfd0 = count_fds(V.pid);
    const size_t len = RING_HDR + RING_MIN;
    const int sealed = F_SEAL_SHRINK | F_SEAL_GROW;
    unsigned refusals = 0;
    /* Rings go both ways or not at all: a good RING from a peer whose
     * hello lacks the capability (it would not read the victim's ring). */
    hello_caps = 0;
    ring_refused(make_memfd(len, sealed), RING_MIN, 0), refusals++;
    /* The others from peers that announce it. */
    hello_caps = CAP_RING;
    ring_refused(-1, RING_MIN, 0), refusals++;                  /* no memfd */
    ring_refused(make_memfd(len, 0), RING_MIN, 0), refusals++;  /* unsealed */
    ring_refused(make_memfd(len - 1, sealed), RING_MIN, 0), refusals++;
    ring_refused(make_memfd(RING_MIN, sealed), RING_MIN, 0), refusals++;
    ring_refused(make_memfd(len, sealed), 2 * RING_MIN, 0), refusals++;
    int p[2];
    assert_int_equal(pipe(p), 0);
    ring_refused(p[0], RING_MIN, 0), refusals++;                 /* a pipe */
    close(p[1]);
    /* Sealed against writes through new mappings: the reader must write
     * its tail. */
    int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)len), 0);
    if (fcntl(fd, F_ADD_SEALS, sealed | F_SEAL_FUTURE_WRITE) == 0)
        ring_refused(fd, RING_MIN, 0), refusals++;
    else
        close(fd); /* a kernel before 5.1 */
    ring_refused(make_memfd(len, sealed | F_SEAL_WRITE), RING_MIN, 0), refusals++;
    /* Sizes and the reserved word. */
    ring_refused(make_memfd(len + RING_MIN, sealed), RING_MIN + 4096, 0), refusals++;
    ring_refused(make_memfd(len, sealed), RING_MIN / 2, 0), refusals++;
    ring_refused(make_memfd(RING_HDR + 2 * (size_t)RING_MAX, sealed), 2 * RING_MAX, 0),
        refusals++;
    ring_refused(make_memfd(len, sealed), RING_MIN, 1), refusals++;

    /* A second RING after a good one: in the ring, its memfd with a
     * descriptor token, as the protocol has it. */
    raw *r = raw_link();
    raw_ring_start(r, RING_MIN);
    raw_ping(r, 2);
    raw_token(r, 1, fd = make_memfd(len, sealed));
    close(fd);
    enc_ring(&B, r->id, RING_MIN, 0);
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    refusals++;
    /* Two RINGs in one write on the socket: the second is not tokens. */
    r = raw_link();
    int fds[2] = {make_memfd(len, sealed), make_memfd(len, sealed)};
    enc_ring(&B, r->id, RING_MIN, 0);
    enc_ring(&B, r->id, RING_MIN, 0);
    raw_send_fds(r, fds, 2);
    close(fds[0]);
    close(fds[1]);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    refusals++;

    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + refusals);
    assert_true(s1.links_refused >= s0.links_refused + refusals);
    /* Nothing refused stays open in the victim. */
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    unsigned nfd;
    while ((nfd = count_fds(V.pid)) > nfd0 && tu_now_ms() < end)
        usleep(20000);
    if (nfd > nfd0)
        print_error("victim descriptors: %u before, %u after\n", nfd0, nfd);
    assert_true(nfd <= nfd0);
    victim_check();
}

/* The bytes of echo request corr: its length and content follow from it. */
static size_t echo_len(uint64_t corr) { return (size_t)(corr * 2654435761u % 3000) + 1; }
static void echo_fill(uint8_t *p, uint64_t corr)
{
    for (size_t i = 0; i < echo_len(corr); i++)
        p[i] = (uint8_t)(corr * 31 + i * 7 + (i >> 5));
}

/* Read up to the PONG of stamp (0: until replies reach want_replies),
 * checking every echo REPLY on the way; returns how many came. */
static unsigned read_to_pong(raw *r, uint64_t stamp, unsigned want_replies)
{
    unsigned replies = 0;
    static uint8_t want[4096];
    if (!stamp && !want_replies)
        return 0;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        rframe f;
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k == 0)
            fail_msg("the victim closed the link (last error %u %s)",
                     r->last_error, r->last_text);
        if (k < 0)
            fail_msg("no PONG %llu from the victim (%u of %u replies)",
                     (unsigned long long)stamp, replies, want_replies);
        if (f.type == T_REPLY) {
            assert_int_equal(f.status, ST_OK);
            echo_fill(want, f.corr);
            if (f.data_len != echo_len(f.corr) ||
                memcmp(f.data, want, f.data_len) != 0)
                fail_msg("echo %llu came back changed", (unsigned long long)f.corr);
            replies++;
        }
        bool done = stamp ? f.type == T_PONG && f.stamp == stamp
                          : replies == want_replies;
        rframe_free(&f);
        if (done)
            return replies;
    }
}

/* A client that does not use the library writes its frames into a ring of
 * its own, many times around it (frames cut by its end at every offset),
 * and gets every answer back through the victim's ring (rings go both
 * ways). */
static void t_ring_raw_writer(void **state)
{
    (void)state;
    hello_caps = CAP_RING;
    vstats s0, s1;
    victim_stats(&s0);
    raw *r = raw_link();
    assert_true(r->in_ring);
    raw_ring_start(r, RING_MIN);
    enc_announce(&B, r->id, 2, 1, "hostile/ring", 12);
    raw_send_buf(r);
    raw_ping(r, 100);
    rng_state = 0x7269;
    unsigned samples = 0, requests = 0, replies = 0;
    uint64_t corr = 1;
    static uint8_t data[4096];
    for (int round = 0; round < 40; round++) {
        /* Less than the ring per round: the PONG says it was all read. */
        while (B.len < RING_MIN - 8192) {
            if (rng() % 4 == 0) {
                echo_fill(data, corr);
                enc_request(&B, T_REQUEST, r->id, corr, V.echo, data,
                            echo_len(corr));
                corr++;
                requests++;
            } else {
                size_t n = (size_t)(rng() % 2500) + 1;
                memset(data, (int)samples, n);
                enc_sample(&B, r->id, ++samples, "hostile/ring", data, n);
            }
        }
        enc_stamp(&B, T_PING, r->id, 1000 + (uint64_t)round);
        raw_send_buf(r);
        replies += read_to_pong(r, 1000 + (uint64_t)round, 0);
    }
    /* Answers come from a callback, maybe after the PONG of their round. */
    replies += read_to_pong(r, 0, requests - replies);
    assert_true(r->out_head > 20ull * RING_MIN); /* around many times */
    assert_int_equal(replies, requests);
    for (int e = 0; e < 1024; e++)
        if (r->errors[e])
            fail_msg("the victim answered with ERROR %d (%s)", e, r->last_text);
    victim_stats(&s1);
    assert_int_equal(s1.samples, s0.samples + samples);
    assert_int_equal(s1.bad_frames, s0.bad_frames);
    raw_free(r);
    victim_check();
}

/* Both directions switched: a raw peer that reads the victim's ring and
 * writes its own, with requests larger than its ring (it fills; the
 * victim's bell says when there is room) and answers larger than the
 * victim's. */
static void t_ring_both_ways(void **state)
{
    (void)state;
    hello_caps = CAP_RING;
    raw *r = raw_link();
    assert_true(r->in_ring);
    raw_ring_start(r, RING_MIN);
    raw_ping(r, 3);
    size_t n = 600u << 10;
    uint8_t *data = malloc(n);
    assert_non_null(data);
    for (int i = 0; i < 3; i++) {
        for (size_t j = 0; j < n; j++)
            data[j] = (uint8_t)(j * 13 + (j >> 9) + (size_t)i);
        enc_request(&B, T_REQUEST, r->id, 50 + (uint64_t)i, V.echo, data, n);
        raw_send_buf(r);
        rframe f;
        int k;
        while ((k = raw_next(r, &f, IO_TIMEOUT_MS)) == 1 && f.type != T_REPLY)
            rframe_free(&f);
        if (k != 1)
            fail_msg("no echo of %zu bytes through the rings (last error %u %s)",
                     n, r->last_error, r->last_text);
        assert_int_equal(f.corr, 50 + (uint64_t)i);
        assert_int_equal(f.status, ST_OK);
        assert_int_equal(f.data_len, n);
        assert_memory_equal(f.data, data, n);
        rframe_free(&f);
    }
    free(data);
    raw_ping(r, 4);
    assert_true(r->tokens_in >= 1);
    for (int e = 0; e < 1024; e++)
        if (r->errors[e])
            fail_msg("the victim answered with ERROR %d (%s)", e, r->last_text);
    raw_free(r);
    victim_check();
}

/* A linked client with its ring, all of it read by the victim. */
static raw *raw_ring_link(void)
{
    raw *r = raw_link();
    assert_true(r->in_ring);
    raw_ring_start(r, RING_MIN);
    raw_ping(r, 2);
    return r;
}

/* Write n bytes into our ring as a strict writer: when the ring is full it
 * sets writer_waits, looks at the tail once more, and then waits for the
 * victim's bell on the socket and for nothing else (no polling of the
 * tail): without a bell it does not go on.  The victim's ring is not read
 * meanwhile.  Returns how many times a bell woke it to room. */
static unsigned ring_put_on_bells(raw *r, const uint8_t *p, size_t n)
{
    bool noread = r->in_noread;
    r->in_noread = true; /* raw_fill: tokens only */
    unsigned woken = 0;
    size_t done = 0;
    while (done < n) {
        uint64_t tail;
        size_t room = ring_room(r, &tail);
        if (room) {
            size_t k = n - done < room ? n - done : room;
            ring_copy_in(r, p + done, k);
            done += k;
            continue;
        }
        __atomic_store_n(rg_waits(r->out_map), 1u, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(rg_tail(r->out_map), __ATOMIC_ACQUIRE) != tail)
            continue;
        /* Only a token moves us on (a late one from an earlier wait may
         * come first: then we wait on). */
        uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
        for (;;) {
            unsigned t0 = r->tokens_in;
            raw_fill(r, 50);
            if (r->eof)
                fail_msg("the victim closed while our ring was full (last error "
                         "%u %s)", r->last_error, r->last_text);
            if (r->tokens_in != t0 &&
                __atomic_load_n(rg_tail(r->out_map), __ATOMIC_ACQUIRE) != tail)
                break;
            if (tu_now_ms() > end)
                fail_msg("our ring is full and writer_waits set, and no bell "
                         "came (tail %llu then, %llu now, writer_waits %u)",
                         (unsigned long long)tail,
                         (unsigned long long)__atomic_load_n(
                             rg_tail(r->out_map), __ATOMIC_ACQUIRE),
                         __atomic_load_n(rg_waits(r->out_map), __ATOMIC_RELAXED));
        }
        woken++;
    }
    r->in_noread = noread;
    return woken;
}

/* The next REPLY, which must be the echo of corr with data. */
static void expect_echo(raw *r, uint64_t corr, const uint8_t *data, size_t n)
{
    rframe f;
    int k;
    while ((k = raw_next(r, &f, IO_TIMEOUT_MS)) == 1 && f.type != T_REPLY)
        rframe_free(&f);
    if (k != 1)
        fail_msg("no echo of %zu bytes (last error %u %s)", n, r->last_error,
                 r->last_text);
    assert_int_equal(f.corr, corr);
    assert_int_equal(f.status, ST_OK);
    assert_int_equal(f.data_len, n);
    assert_memory_equal(f.data, data, n);
    rframe_free(&f);
}

/* Both directions are rings.  The raw client's requests are larger than
 * its ring: it fills it, sets writer_waits and waits for the victim's room
 * bell, a token on the socket (never a byte inside a frame stream: the
 * victim's frames come through its own ring), then goes on; each echo
 * comes back intact through the victim's ring, whose own room bells we
 * send.  (Once a reproducer of a room bell put into a socket frame stream,
 * when the reader's own direction had not switched.) */
static void t_ring_room_bell(void **state)
{
    (void)state;
    hello_caps = CAP_RING;
    raw *r = raw_ring_link();
    const size_t n = 300u << 10;
    uint8_t *data = malloc(n);
    assert_non_null(data);
    unsigned woken = 0;
    /* Filling is all but certain; a victim that always empties the ring
     * before we look again (a fast victim on an idle core: once in a CI
     * run, eight tries were not enough) gets more tries, up to 64. */
    for (uint64_t i = 0; i < 64 && (i < 3 || !woken); i++) {
        for (size_t j = 0; j < n; j++)
            data[j] = (uint8_t)(j * 7 + (j >> 11) + i);
        B.len = 0;
        enc_request(&B, T_REQUEST, r->id, 60 + i, V.echo, data, n);
        woken += ring_put_on_bells(r, B.p, B.len);
        B.len = 0;
        expect_echo(r, 60 + i, data, n);
    }
    free(data);
    if (!woken)
        fail_msg("our ring never stayed full: no room bell was asked for");
    if (G.verbose)
        print_message("    woken by %u room bells, %u tokens in all\n", woken,
                      r->tokens_in);
    raw_ping(r, 5);
    for (int e = 0; e < 1024; e++)
        if (r->errors[e])
            fail_msg("the victim answered with ERROR %d (%s)", e, r->last_text);
    raw_free(r);
    victim_check();
}

/* ---- a victim that cannot make its ring at hello time ---- */

/* A client announcing the ring capability, linked to a victim that could
 * not make a ring for it at hello time: capped right after it accepted us
 * (its HELLO came).  Its frames go on through the socket.  NULL when the
 * cap is not allowed here. */
static raw *raw_link_noring(void)
{
    assert_true(hello_caps & CAP_RING);
    raw *r = raw_open();
    rframe f;
    int k = raw_next(r, &f, IO_TIMEOUT_MS);
    if (k != 1 || f.type != T_HELLO)
        fail_msg("no HELLO from the victim");
    rframe_free(&f);
    /* One descriptor to spare: the victim checks that we hold our name's
     * lock with one (opened and closed); a ring takes two. */
    if (!victim_fd_cap(1)) {
        print_message("    cannot cap the victim's descriptors: %s\n",
                      strerror(errno));
        raw_free(r);
        return NULL;
    }
    char name[32];
    snprintf(name, sizeof name, "hostile-%llu", (unsigned long long)raw_target.count);
    B.len = 0;
    enc_hello(&B, r->id, name);
    raw_send_buf(r);
    raw_ping(r, 1);
    if (r->in_ring)
        fail_msg("the victim made a ring with no descriptor to spare");
    return r;
}

/* The victim could not make its ring at hello time, and still cannot when
 * our RING comes: rings go both ways or not at all, so it closes the link
 * (307, no ERROR: nothing is wrong with us; the dialler dials again)
 * instead of reading our ring while its frames go on the socket. */
static void t_ring_late_ring_fails(void **state)
{
    (void)state;
    hello_caps = CAP_RING;
    vstats s0, s1;
    victim_stats(&s0);
    unsigned nfd0 = count_fds(V.pid);
    raw *r = raw_link_noring();
    if (!r)
        skip();
    raw_ping(r, 2); /* frames on the socket: a link like any */
    /* Room for our memfd, none for its own.  Our ring holds a PING it
     * must not answer. */
    assert_true(victim_fd_cap(1));
    B.len = 0;
    enc_stamp(&B, T_PING, r->id, 3);
    C.len = 0;
    b_put(&C, B.p, B.len);
    raw_ring_start_ex(r, RING_MIN, C.p, C.len, false);
    raw_expect_close(r, 0);
    assert_false(r->in_ring);
    if (r->last_pong == 3 ||
        __atomic_load_n(rg_tail(r->out_map), __ATOMIC_ACQUIRE) != 0)
        fail_msg("the victim read our ring while its frames went on the socket");
    victim_fd_uncap();
    raw_free(r);
    victim_stats(&s1);
    assert_int_equal(s1.bad_frames, s0.bad_frames); /* not a refusal */
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    unsigned nfd;
    while ((nfd = count_fds(V.pid)) > nfd0 && tu_now_ms() < end)
        usleep(20000);
    if (nfd > nfd0)
        print_error("victim descriptors: %u before, %u after\n", nfd0, nfd);
    assert_true(nfd <= nfd0);
    victim_check();
}

/* The owed room bell.  The victim could not make its ring at hello time,
 * so its frames go on through the socket; we fill that socket (an echo
 * larger than a socket holds, left unread) and then switch our direction
 * with a ring already full and writer_waits set.  The victim makes its
 * ring now (its RING frame queues behind the echo), reads ours and frees
 * room before its own switch: the bell is owed, and must come as a token
 * after its RING frame, never in the frame stream before it. */
static void t_ring_bell_owed(void **state)
{
    (void)state;
    hello_caps = CAP_RING;
    raw *r = raw_link_noring();
    if (!r)
        skip();
    victim_fd_uncap(); /* it may make its ring from now on */
    const size_t n1 = 1u << 20;
    uint8_t *d1 = malloc(n1);
    assert_non_null(d1);
    for (size_t j = 0; j < n1; j++)
        d1[j] = (uint8_t)(j * 11 + (j >> 10));
    B.len = 0;
    enc_request(&B, T_REQUEST, r->id, 70, V.echo, d1, n1);
    raw_send_buf(r);
    /* Its echo starts coming, and the rest waits in its queue. */
    int inq = 0;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (ioctl(r->fd, FIONREAD, &inq) == 0 && inq < 65536 && tu_now_ms() < end)
        usleep(2000);
    if (inq < 65536)
        fail_msg("the victim's echo did not come (%d bytes waiting)", inq);
    /* Our ring: full of the first bytes of a second echo, asking for a
     * bell.  Nothing of the second is answered before all of it is in. */
    const size_t n2 = 200u << 10;
    uint8_t *d2 = malloc(n2);
    assert_non_null(d2);
    for (size_t j = 0; j < n2; j++)
        d2[j] = (uint8_t)(j * 5 + (j >> 12) + 1);
    buf E = {0};
    enc_request(&E, T_REQUEST, r->id, 71, V.echo, d2, n2);
    raw_ring_start_ex(r, RING_MIN, E.p, RING_MIN, true);
    /* It takes all of our ring, before its RING frame can leave. */
    end = tu_now_ms() + IO_TIMEOUT_MS;
    while ((__atomic_load_n(rg_tail(r->out_map), __ATOMIC_ACQUIRE) != RING_MIN ||
            __atomic_load_n(rg_waits(r->out_map), __ATOMIC_SEQ_CST) != 0) &&
           tu_now_ms() < end)
        usleep(2000);
    uint64_t tail = __atomic_load_n(rg_tail(r->out_map), __ATOMIC_ACQUIRE);
    uint32_t waits = __atomic_load_n(rg_waits(r->out_map), __ATOMIC_SEQ_CST);
    if (tail != RING_MIN || waits)
        fail_msg("the victim did not take our full ring (tail %llu, "
                 "writer_waits %u)", (unsigned long long)tail, waits);
    /* Still queued at the victim: the rest of the echo, so its RING frame
     * after it (the premise of this case). */
    assert_int_equal(ioctl(r->fd, FIONREAD, &inq), 0);
    if ((size_t)inq >= n1)
        fail_msg("the socket took all of the echo (%d bytes): nothing queued", inq);
    /* Read its frames up to its RING: a token among them is not a frame. */
    bool echoed = false;
    while (!r->in_ring) {
        rframe f;
        int k = raw_next(r, &f, IO_TIMEOUT_MS);
        if (k != 1)
            fail_msg("no RING from the victim after ours (last error %u %s)",
                     r->last_error, r->last_text);
        if (f.type == T_REPLY) {
            assert_int_equal(f.corr, 70);
            assert_int_equal(f.status, ST_OK);
            assert_int_equal(f.data_len, n1);
            assert_memory_equal(f.data, d1, n1);
            echoed = true;
        }
        rframe_free(&f);
    }
    assert_true(echoed);
    free(d1);
    /* Then the bell, without us touching its ring: a bell for what it
     * wrote into its ring (it starts asleep there) counts apart. */
    r->in_noread = true;
    end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        uint64_t head = __atomic_load_n(rg_head(r->in_map), __ATOMIC_ACQUIRE);
        if (r->tokens_in >= 1u + (head != 0))
            break;
        if (tu_now_ms() > end)
            fail_msg("the victim owes us a room bell: %u token(s), %llu bytes "
                     "in its ring", r->tokens_in, (unsigned long long)head);
        raw_fill(r, 50);
        if (r->eof)
            fail_msg("the victim closed while it owed us a room bell (%u "
                     "token(s); last error %u %s)", r->tokens_in, r->last_error,
                     r->last_text);
    }
    r->in_noread = false;
    /* The rest of the second echo, and its answer through the victim's
     * ring. */
    raw_write(r, E.p + RING_MIN, E.len - RING_MIN);
    free(E.p);
    expect_echo(r, 71, d2, n2);
    free(d2);
    raw_ping(r, 3);
    for (int e = 0; e < 1024; e++)
        if (r->errors[e])
            fail_msg("the victim answered with ERROR %d (%s)", e, r->last_text);
    raw_free(r);
    victim_check();
}

/* A ring writer that breaks its own ring: the victim refuses it with an
 * ERROR 200 through its own ring (intact), and closes. */
static void t_ring_hostile_writer(void **state)
{
    (void)state;
    hello_caps = CAP_RING;
    vstats s0, s1;
    victim_stats(&s0);
    unsigned refusals = 0;
    /* head more than size ahead of what the victim read, then a bell.  A
     * broken index closes the link, an ERROR 200 (through the victim's own
     * ring, which is intact) or not: libipcnet sends none once it writes a
     * ring of its own. */
    raw *r = raw_ring_link();
    __atomic_store_n(rg_head(r->out_map), r->out_head + RING_MIN + 1, __ATOMIC_RELEASE);
    raw_token(r, 0, -1);
    raw_expect_close_ex(r, ST_BAD_REQUEST, true);
    raw_free(r), refusals++;
    /* far ahead */
    r = raw_ring_link();
    __atomic_store_n(rg_head(r->out_map), UINT64_MAX / 3, __ATOMIC_RELEASE);
    raw_token(r, 0, -1);
    raw_expect_close_ex(r, ST_BAD_REQUEST, true);
    raw_free(r), refusals++;
    /* behind what it read */
    r = raw_ring_link();
    __atomic_store_n(rg_head(r->out_map), r->out_head - 1, __ATOMIC_RELEASE);
    raw_token(r, 0, -1);
    raw_expect_close_ex(r, ST_BAD_REQUEST, true);
    raw_free(r), refusals++;
    /* garbage in the ring */
    r = raw_ring_link();
    rng_state = 0x6a756e6b;
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)rng();
    junk[0] = 'J';
    raw_write(r, junk, sizeof junk);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r), refusals++;
    /* a frame with a bad checksum in the ring */
    r = raw_ring_link();
    size_t off = enc_stamp(&B, T_PING, r->id, 5);
    B.p[off + 40] ^= 1;
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r), refusals++;
    /* a token that is neither 0 nor 1: right behind the RING frame, later
     * on its own, and a whole frame on the socket after the switch */
    r = raw_link();
    int fd = make_memfd(RING_HDR + RING_MIN, F_SEAL_SHRINK | F_SEAL_GROW);
    enc_ring(&B, r->id, RING_MIN, 0);
    b_u8(&B, 0);
    b_u8(&B, 2);
    raw_send_fds(r, &fd, 1);
    close(fd);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r), refusals++;
    r = raw_ring_link();
    raw_token(r, 7, -1);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r), refusals++;
    r = raw_ring_link();
    enc_stamp(&B, T_PING, r->id, 6);
    raw_sock_write(r, B.p, B.len);
    B.len = 0;
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r), refusals++;
    /* descriptor tokens, each with a memfd, that no frame takes */
    r = raw_ring_link();
    for (int i = 0; i < 12; i++) {
        fd = make_memfd(4096, 0);
        bool sent = raw_token_try(r, 1, fd);
        close(fd);
        if (!sent) /* refused already */
            break;
    }
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r), refusals++;
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + refusals);
    assert_true(s1.links_refused >= s0.links_refused + refusals);
    victim_check();
}

/* Bells with nothing in the ring, and lies in the flags, only cost the
 * victim reads: it answers through the rings as before.  (Both directions
 * switched: a room bell is a token only there.) */
static void t_ring_doorbell_flood(void **state)
{
    (void)state;
    hello_caps = CAP_RING;
    vstats s0, s1;
    victim_stats(&s0);
    raw *r = raw_ring_link();
    static uint8_t bells[8192];
    for (int i = 0; i < 10; i++)
        raw_sock_write(r, bells, sizeof bells);
    raw_ping(r, 3);
    __atomic_store_n(rg_sleeps(r->out_map), 0xdeadbeefu, __ATOMIC_RELAXED);
    __atomic_store_n(rg_waits(r->out_map), 0xffffffffu, __ATOMIC_RELAXED);
    for (int i = 0; i < 10; i++)
        raw_sock_write(r, bells, sizeof bells);
    raw_ping(r, 4);
    raw_ping(r, 5);
    for (int e = 0; e < 1024; e++)
        if (r->errors[e])
            fail_msg("the victim answered bells with ERROR %d (%s)", e, r->last_text);
    victim_stats(&s1);
    assert_int_equal(s1.bad_frames, s0.bad_frames);
    assert_int_equal(s1.links_refused, s0.links_refused);
    raw_free(r);
    victim_check();
}

/* The victim writes into a ring it made for us: we read its frames out of
 * it, then lie about what we read.  Its frames to us go through the ring
 * we broke, so it closes without an ERROR. */
static void t_ring_hostile_reader(void **state)
{
    (void)state;
    hello_caps = CAP_RING;
    vstats s0, s1;
    victim_stats(&s0);
    for (int lie = 0; lie < 3; lie++) {
        raw *r = raw_link();
        assert_true(r->in_ring); /* its PONG came through its ring */
        /* A token comes only when we sleep before its answer is in the
         * ring: we say so before each PING (as a reader going to sleep
         * does), so that a victim quicker than us still owes one; and ask
         * again until one came (bounded). */
        for (uint64_t i = 0; i < 200 && (i < 20 || r->tokens_in < 1); i++) {
            __atomic_store_n(rg_sleeps(r->in_map), 1u, __ATOMIC_SEQ_CST);
            raw_ping(r, 10 + i);
        }
        assert_true(r->tokens_in >= 1);
        assert_int_equal(r->errors[ST_BAD_REQUEST], 0);
        r->in_noread = true;
        uint64_t head = __atomic_load_n(rg_head(r->in_map), __ATOMIC_ACQUIRE);
        uint64_t tail = lie == 0 ? head + 1
                      : lie == 1 ? head - r->in_size - 1
                                 : UINT64_MAX / 2;
        __atomic_store_n(rg_tail(r->in_map), tail, __ATOMIC_RELEASE);
        /* An answer larger than the ring makes it look at our tail. */
        enc_request(&B, T_QUERY, r->id, 7, V.bigdata, NULL, 0);
        enc_stamp(&B, T_PING, r->id, 99);
        raw_send_buf(r);
        raw_expect_close(r, 0);
        raw_free(r);
    }
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 3);
    assert_true(s1.links_refused >= s0.links_refused + 3);
    victim_check();
}

/* A reader that never reads the victim's ring: the ring fills, what does
 * not fit waits in the victim's bounded queue, and samples to it are
 * dropped and counted while the victim serves everyone else. */
static void t_ring_reader_stalls(void **state)
{
    (void)state;
    hello_caps = CAP_RING;
    vstats s0, s1;
    raw *r = raw_link();
    assert_true(r->in_ring);
    r->in_noread = true;
    victim_stats(&s0);
    enc_text(&B, T_SUBSCRIBE, r->id, V.stream, strlen(V.stream));
    /* Answers fill the victim's queue for us up to its tx_limit (it
     * answers 205 to what would not fit): big ones, then ever smaller, so
     * that not even a small sample fits after them. */
    for (int i = 0; i < 8; i++)
        enc_request(&B, T_QUERY, r->id, 100 + (uint64_t)i, V.bigdata, NULL, 0);
    uint8_t *zeros = calloc(1, 1u << 18);
    assert_non_null(zeros);
    for (int k = 18; k >= 4; k--)
        enc_request(&B, T_REQUEST, r->id, 200 + (uint64_t)k, V.echo, zeros,
                    (size_t)1 << k);
    free(zeros);
    raw_send_buf(r);
    uint64_t end = tu_now_ms() + 2 * IO_TIMEOUT_MS;
    for (uint64_t i = 0;; i++) {
        victim_stats(&s1);
        if (s1.drops > s0.drops || tu_now_ms() > end)
            break;
        /* Alive, if it reads us. */
        B.len = 0;
        enc_stamp(&B, T_PING, r->id, 1000 + i);
        raw_write_ex(r, B.p, B.len, false, 200);
        B.len = 0;
        usleep(100000);
    }
    if (s1.drops <= s0.drops)
        print_error("no drops counted: %llu -> %llu\n", s0.drops, s1.drops);
    assert_true(s1.drops > s0.drops);
    /* The ring is full, and stays so: we took nothing. */
    assert_int_equal(__atomic_load_n(rg_tail(r->in_map), __ATOMIC_RELAXED), r->in_tail);
    uint64_t head = __atomic_load_n(rg_head(r->in_map), __ATOMIC_ACQUIRE);
    assert_true(head - r->in_tail <= r->in_size);
    assert_true(head - r->in_tail > r->in_size / 2);
    raw_free(r);
    victim_check();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(t_ring_bad_rings),
        CASE(t_ring_raw_writer),
        CASE(t_ring_both_ways),
        CASE(t_ring_room_bell),
        CASE(t_ring_late_ring_fails),
        CASE(t_ring_bell_owed),
        CASE(t_ring_hostile_writer),
        CASE(t_ring_doorbell_flood),
        CASE(t_ring_hostile_reader),
        CASE(t_ring_reader_stalls),
    };
    /* IPCN_TEST_FILTER=t_slowloris* runs only the matching cases. */
    if (getenv("IPCN_TEST_FILTER"))
        cmocka_set_test_filter(getenv("IPCN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
