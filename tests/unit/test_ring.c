/* SPDX-License-Identifier: MIT */
/*
 * test_ring.c — a link's shared-memory ring (src/transport/ring.c): both
 * ends in one process, on two mappings of the same memfd, as two processes
 * see it.  Bytes in order across the wrap, full and empty, indices a
 * hostile peer writes into the shared page, the doorbell and room flags,
 * the descriptors attach must refuse, and a writer and a reader on two
 * threads that sleep and wake each other by the flags alone (a lost
 * wake-up shows as a wait that never ends, bounded here).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "transport/ring.h"
#include "util/util.h"
#include "wire/wire.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define MIN IPCN_RING_MIN_SIZE
#define WAIT_MS 20000 /* a wake-up that does not come in this long is lost */

/* A seeded generator (splitmix64): the same run every time. */
static uint64_t rng_state;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The byte at stream position i: a pattern that a misplaced copy (wrong
 * index, wrong half of a wrap) cannot reproduce. */
static uint8_t pat(uint64_t i)
{
    return (uint8_t)(i * 131u + (i >> 8) * 7u + (i >> 16));
}

/* A writer and a reader on the same memfd: the writer's descriptor is
 * duplicated for attach, which takes it over. */
static void ring_pair(ipcn__ring *w, ipcn__ring *r, uint32_t size)
{
    assert_int_equal(ipcn__ring_create(w, size), IPCN_OK);
    assert_true(w->fd >= 0);
    int d = dup(w->fd);
    assert_true(d >= 0);
    const char *why = ipcn__ring_attach(r, d, size);
    if (why)
        fail_msg("attach of our own ring refused: %s", why);
    assert_ptr_not_equal(r->sh, w->sh); /* two mappings, as two processes */
    assert_int_equal(fcntl(d, F_GETFD), -1); /* taken over: closed */
}

static void ring_pair_free(ipcn__ring *w, ipcn__ring *r)
{
    ipcn__ring_free(w);
    ipcn__ring_free(r);
}

/* ---- create ---- */

static void test_create_sizes(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0, 1, MIN / 2, MIN - 1, MIN + 1,
                                   3 * MIN, IPCN_RING_MAX_SIZE * 2u,
                                   IPCN_RING_MAX_SIZE - 1, UINT32_MAX};
    ipcn__ring r;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(ipcn__ring_create(&r, bad[i]), IPCN_BAD_REQUEST);
        assert_null(r.sh);
        assert_int_equal(r.fd, -1);
        ipcn__ring_free(&r); /* harmless on a ring never made */
    }
    static const uint32_t good[] = {MIN, 2 * MIN, IPCN_RING_MAX_SIZE};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        assert_int_equal(ipcn__ring_create(&r, good[i]), IPCN_OK);
        assert_non_null(r.sh);
        assert_int_equal(r.size, good[i]);
        assert_int_equal(r.mask, good[i] - 1);
        assert_int_equal(r.map_len, IPCN_RING_HDR_SIZE + good[i]);
        /* Sealed against resizing, not against writing. */
        int seals = fcntl(r.fd, F_GET_SEALS);
        assert_true(seals >= 0);
        assert_true(seals & F_SEAL_SHRINK);
        assert_true(seals & F_SEAL_GROW);
        assert_false(seals & F_SEAL_WRITE);
        assert_int_equal(lseek(r.fd, 0, SEEK_END),
                         (off_t)(IPCN_RING_HDR_SIZE + good[i]));
        /* The reader sleeps until it says otherwise: the first write
         * rings the bell. */
        assert_int_equal(atomic_load(&r.sh->reader_sleeps), 1);
        assert_int_equal(atomic_load(&r.sh->head), 0);
        assert_int_equal(atomic_load(&r.sh->tail), 0);
        ipcn__ring_free(&r);
        assert_null(r.sh);
        assert_int_equal(r.fd, -1);
    }
}

/* The shared indices each on their own cache line, inside the first page. */
static void test_layout(void **state)
{
    (void)state;
    assert_int_equal(offsetof(ipcn__ring_shared, head), 0);
    assert_int_equal(offsetof(ipcn__ring_shared, tail), 64);
    assert_int_equal(offsetof(ipcn__ring_shared, reader_sleeps), 128);
    assert_int_equal(offsetof(ipcn__ring_shared, writer_waits), 192);
    assert_true(sizeof(ipcn__ring_shared) <= IPCN_RING_HDR_SIZE);
    ipcn__ring w, r;
    ring_pair(&w, &r, MIN);
    assert_ptr_equal(w.data, (uint8_t *)w.sh + IPCN_RING_HDR_SIZE);
    /* What the writer writes is at data[pos & mask] of the reader's map. */
    uint8_t b[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assert_int_equal(ipcn__ring_write(&w, b, sizeof b), 10);
    assert_memory_equal((uint8_t *)r.sh + IPCN_RING_HDR_SIZE, b, 10);
    assert_int_equal(atomic_load(&r.sh->head), 10);
    ring_pair_free(&w, &r);
}

/* ---- bytes in order ---- */

static void test_empty_and_full(void **state)
{
    (void)state;
    ipcn__ring w, r;
    ring_pair(&w, &r, MIN);
    uint8_t *buf = malloc(2 * MIN);
    assert_non_null(buf);
    for (size_t i = 0; i < 2 * MIN; i++)
        buf[i] = pat(i);

    assert_int_equal(ipcn__ring_read(&r, buf, 100), 0); /* empty */
    assert_false(ipcn__ring_ready(&r));
    assert_true(ipcn__ring_has_room(&w));
    assert_int_equal(ipcn__ring_write(&w, buf, 0), 0);

    /* More than fits: exactly size goes in, then nothing. */
    assert_int_equal(ipcn__ring_write(&w, buf, 2 * MIN), MIN);
    assert_false(ipcn__ring_has_room(&w));
    assert_int_equal(ipcn__ring_write(&w, buf, 1), 0);
    assert_int_equal(w.pos, MIN);
    assert_true(ipcn__ring_ready(&r));

    /* One byte out makes room for one byte in. */
    uint8_t *out = malloc(2 * MIN);
    assert_non_null(out);
    assert_int_equal(ipcn__ring_read(&r, out, 1), 1);
    assert_int_equal(out[0], pat(0));
    assert_true(ipcn__ring_has_room(&w));
    assert_int_equal(ipcn__ring_write(&w, buf + MIN, 5), 1);
    assert_int_equal(ipcn__ring_write(&w, buf + MIN + 1, 5), 0);

    /* Everything out, in order, across the end of the data area. */
    assert_int_equal(ipcn__ring_read(&r, out + 1, 2 * MIN), MIN);
    assert_memory_equal(out, buf, MIN + 1);
    assert_int_equal(ipcn__ring_read(&r, out, 10), 0);
    assert_false(ipcn__ring_ready(&r));
    assert_int_equal(atomic_load(&w.sh->tail), MIN + 1);
    free(buf);
    free(out);
    ring_pair_free(&w, &r);
}

/* Writes and reads that straddle the end of the data area at every
 * distance from it, of the bytes just before and after. */
static void test_straddle(void **state)
{
    (void)state;
    ipcn__ring w, r;
    ring_pair(&w, &r, MIN);
    uint8_t in[300], out[300];
    uint64_t at = 0;
    static const size_t lead[] = {MIN - 1, MIN - 150, MIN - 299, MIN - 300};
    for (size_t k = 0; k < sizeof lead / sizeof *lead; k++) {
        /* Move both indices to lead[k] bytes before a multiple of size. */
        size_t skip = (size_t)((MIN - (at & (MIN - 1)) + lead[k]) & (MIN - 1));
        uint8_t *junk = malloc(skip + 1);
        assert_non_null(junk);
        memset(junk, 0xee, skip + 1);
        assert_int_equal(ipcn__ring_write(&w, junk, skip), (ssize_t)skip);
        assert_int_equal(ipcn__ring_read(&r, junk, skip), (ssize_t)skip);
        free(junk);
        at += skip;
        for (size_t i = 0; i < sizeof in; i++)
            in[i] = pat(at + i);
        assert_int_equal(ipcn__ring_write(&w, in, sizeof in), sizeof in);
        /* Read in two pieces, the first ending at various places. */
        size_t first = k * 97 % sizeof out;
        memset(out, 0, sizeof out);
        assert_int_equal(ipcn__ring_read(&r, out, first), (ssize_t)first);
        assert_int_equal(ipcn__ring_read(&r, out + first, sizeof out),
                         (ssize_t)(sizeof out - first));
        assert_memory_equal(out, in, sizeof in);
        at += sizeof in;
    }
    assert_int_equal(w.pos, at);
    assert_int_equal(r.pos, at);
    ring_pair_free(&w, &r);
}

/* Many rounds of random lengths, partial writes and reads: the stream that
 * comes out is the one that went in, many times around the ring. */
static void test_random_rounds(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {MIN, 4 * MIN};
    for (size_t s = 0; s < 2; s++) {
        uint32_t size = sizes[s];
        ipcn__ring w, r;
        ring_pair(&w, &r, size);
        size_t maxlen = size + size / 2;
        uint8_t *in = malloc(maxlen), *out = malloc(maxlen);
        assert_non_null(in);
        assert_non_null(out);
        rng_state = 0x5eed0000 + s;
        uint64_t wrote = 0, read = 0;
        for (int round = 0; round < 4000; round++) {
            size_t len = (size_t)(rng() % (round % 10 == 0 ? maxlen : 700)) + 1;
            for (size_t i = 0; i < len; i++)
                in[i] = pat(wrote + i);
            uint64_t before = wrote - read;
            ssize_t n = ipcn__ring_write(&w, in, len);
            assert_true(n >= 0);
            size_t room = size - (size_t)before;
            assert_int_equal((size_t)n, len < room ? len : room);
            wrote += (uint64_t)n;
            assert_int_equal(atomic_load(&r.sh->head), wrote);
            size_t want = (size_t)(rng() % (round % 7 == 0 ? maxlen : 900)) + 1;
            n = ipcn__ring_read(&r, out, want);
            assert_true(n >= 0);
            size_t avail = (size_t)(wrote - read);
            assert_int_equal((size_t)n, want < avail ? want : avail);
            for (ssize_t i = 0; i < n; i++)
                if (out[i] != pat(read + (uint64_t)i))
                    fail_msg("size %u round %d: byte %llu wrong", size, round,
                             (unsigned long long)(read + (uint64_t)i));
            read += (uint64_t)n;
            assert_int_equal(atomic_load(&w.sh->tail), read);
        }
        /* Many times around. */
        assert_true(wrote > 20ull * size);
        free(in);
        free(out);
        ring_pair_free(&w, &r);
    }
}

/* ---- indices from a hostile peer ---- */

static void test_hostile_tail(void **state)
{
    (void)state;
    ipcn__ring w, r;
    ring_pair(&w, &r, MIN);
    static uint8_t b[2 * MIN];
    assert_int_equal(ipcn__ring_write(&w, b, 100), 100);
    assert_int_equal(ipcn__ring_read(&r, b, 40), 40);
    /* The reader claims to have read what was never written, or to be
     * more than size behind.  The writer looks at the reader's index when
     * the room it knows of is not enough: a write of more than the ring
     * holds always looks. */
    static const uint64_t bad[] = {101, 102, 1000, 100 + MIN, UINT64_MAX / 2,
                                   100 - (uint64_t)MIN - 1, 100 - 2ull * MIN};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        atomic_store(&r.sh->tail, bad[i]);
        if (ipcn__ring_write(&w, b, sizeof b) != -1)
            fail_msg("tail %llu taken with head 100",
                     (unsigned long long)bad[i]);
        assert_int_equal(w.pos, 100); /* nothing written */
        assert_int_equal(atomic_load(&w.sh->head), 100);
    }
    /* At the limits it is a plain full ring. */
    atomic_store(&r.sh->tail, 100 - (uint64_t)MIN);
    assert_int_equal(ipcn__ring_write(&w, b, sizeof b), 0);
    assert_false(ipcn__ring_has_room(&w));
    atomic_store(&r.sh->tail, 40);
    assert_int_equal(ipcn__ring_write(&w, b, 10), 10);
    /* An index behind ours by at most size is a reader that read less:
     * only less room (positions are taken modulo 2^64). */
    atomic_store(&r.sh->tail, UINT64_MAX);
    assert_int_equal(ipcn__ring_write(&w, b, sizeof b), MIN - 111);
    assert_int_equal(ipcn__ring_write(&w, b, sizeof b), 0);
    ring_pair_free(&w, &r);
}

static void test_hostile_head(void **state)
{
    (void)state;
    ipcn__ring w, r;
    ring_pair(&w, &r, MIN);
    uint8_t *b = malloc(2 * MIN);
    assert_non_null(b);
    memset(b, 0x5a, 2 * MIN);
    assert_int_equal(ipcn__ring_write(&w, b, 300), 300);
    assert_int_equal(ipcn__ring_read(&r, b, 200), 200);
    /* The writer claims more than the ring holds, or less than was read. */
    static const uint64_t bad[] = {200 + MIN + 1, 200 + 2ull * MIN,
                                   UINT64_MAX, UINT64_MAX / 2, 199, 0};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        atomic_store(&w.sh->head, bad[i]);
        assert_int_equal(ipcn__ring_read(&r, b, 2 * MIN), -1);
        assert_int_equal(ipcn__ring_read(&r, b, 1), -1);
        assert_int_equal(r.pos, 200); /* nothing read */
        assert_int_equal(atomic_load(&r.sh->tail), 200);
    }
    /* Exactly a ring's worth ahead is what a full ring looks like: it is
     * read (whatever the bytes are), and never more than size. */
    atomic_store(&w.sh->head, 200 + MIN);
    assert_int_equal(ipcn__ring_read(&r, b, 2 * MIN), MIN);
    assert_int_equal(r.pos, 200 + MIN);
    assert_int_equal(ipcn__ring_read(&r, b, 2 * MIN), 0);
    free(b);
    ring_pair_free(&w, &r);
}

/* ---- the flags ---- */

static void test_bell(void **state)
{
    (void)state;
    ipcn__ring w, r;
    ring_pair(&w, &r, MIN);
    uint8_t b[64] = {0};
    /* Created asleep: the first write wants the bell, once. */
    assert_int_equal(ipcn__ring_write(&w, b, 8), 8);
    assert_true(ipcn__ring_bell_wanted(&w));
    assert_false(ipcn__ring_bell_wanted(&w));
    assert_int_equal(ipcn__ring_write(&w, b, 8), 8);
    assert_false(ipcn__ring_bell_wanted(&w)); /* the reader is awake */

    /* Bytes waiting: the reader may not sleep (it must read first). */
    assert_false(ipcn__ring_sleep(&r));
    ipcn__ring_awake(&r);
    assert_int_equal(atomic_load(&r.sh->reader_sleeps), 0);
    assert_false(ipcn__ring_bell_wanted(&w));
    assert_int_equal(ipcn__ring_read(&r, b, sizeof b), 16);

    /* Empty: it may sleep, and one bell per sleep. */
    assert_true(ipcn__ring_sleep(&r));
    assert_int_equal(atomic_load(&w.sh->reader_sleeps), 1);
    assert_true(ipcn__ring_sleep(&r)); /* raised twice: still one bell */
    assert_int_equal(ipcn__ring_write(&w, b, 1), 1);
    assert_true(ipcn__ring_bell_wanted(&w));
    assert_int_equal(ipcn__ring_write(&w, b, 1), 1);
    assert_false(ipcn__ring_bell_wanted(&w));
    assert_false(ipcn__ring_bell_wanted(&w));
    /* Woken by that bell, the reader looks by itself: no bell. */
    ipcn__ring_awake(&r);
    assert_int_equal(ipcn__ring_write(&w, b, 1), 1);
    assert_false(ipcn__ring_bell_wanted(&w));
    assert_int_equal(ipcn__ring_read(&r, b, sizeof b), 3);

    /* Awake before any write: the sleep is taken back, no bell. */
    assert_true(ipcn__ring_sleep(&r));
    ipcn__ring_awake(&r);
    assert_int_equal(ipcn__ring_write(&w, b, 1), 1);
    assert_false(ipcn__ring_bell_wanted(&w));
    assert_int_equal(ipcn__ring_read(&r, b, sizeof b), 1);
    ring_pair_free(&w, &r);
}

static void test_room(void **state)
{
    (void)state;
    ipcn__ring w, r;
    ring_pair(&w, &r, MIN);
    uint8_t *b = malloc(MIN);
    assert_non_null(b);
    memset(b, 1, MIN);
    /* Nobody waits: reading wants no token. */
    assert_int_equal(ipcn__ring_write(&w, b, 100), 100);
    assert_int_equal(ipcn__ring_read(&r, b, 10), 10);
    assert_false(ipcn__ring_room_wanted(&r));
    /* Room: wait_room says so, and the flag it raised is taken by the
     * reader's next look (one token too many is harmless). */
    assert_true(ipcn__ring_wait_room(&w));
    assert_int_equal(ipcn__ring_read(&r, b, 90), 90);
    assert_true(ipcn__ring_room_wanted(&r));
    assert_false(ipcn__ring_room_wanted(&r));

    /* Full: the writer waits; the reader's next read wants one token. */
    assert_int_equal(ipcn__ring_write(&w, b, MIN), MIN);
    assert_int_equal(ipcn__ring_write(&w, b, 1), 0);
    assert_false(ipcn__ring_wait_room(&w));
    assert_int_equal(atomic_load(&r.sh->writer_waits), 1);
    assert_false(ipcn__ring_wait_room(&w)); /* raised twice: one token */
    assert_int_equal(ipcn__ring_read(&r, b, 1), 1);
    assert_true(ipcn__ring_room_wanted(&r));
    assert_false(ipcn__ring_room_wanted(&r));
    assert_int_equal(ipcn__ring_read(&r, b, 1), 1);
    assert_false(ipcn__ring_room_wanted(&r));
    assert_true(ipcn__ring_has_room(&w));
    assert_true(ipcn__ring_wait_room(&w)); /* room already */
    free(b);
    ring_pair_free(&w, &r);
}

/* ---- attach refuses ---- */

/* A memfd of len bytes with seals (0: none). */
static int memfd_of(size_t len, int seals)
{
    int fd = memfd_create("test-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)len), 0);
    if (seals)
        assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
    return fd;
}

/* attach must refuse, and close fd all the same. */
static void refused(int fd, uint32_t size, const char *what)
{
    ipcn__ring r;
    memset(&r, 0xa5, sizeof r);
    const char *why = ipcn__ring_attach(&r, fd, size);
    if (!why)
        fail_msg("attach took %s", what);
    assert_true(strlen(why) > 0);
    assert_null(r.sh);
    int rc = fcntl(fd, F_GETFD), e = errno;
    assert_int_equal(rc, -1);
    assert_int_equal(e, EBADF);
    ipcn__ring_free(&r); /* harmless */
}

static void test_attach_refuses(void **state)
{
    (void)state;
    const size_t len = IPCN_RING_HDR_SIZE + MIN;
    const int sealed = F_SEAL_SHRINK | F_SEAL_GROW;
    refused(memfd_of(len + MIN, sealed), MIN + 4096, "a size not a power of two");
    refused(memfd_of(len, sealed), MIN / 2, "a size below the minimum");
    refused(memfd_of(len, sealed), 0, "size 0");
    refused(memfd_of(len, sealed), IPCN_RING_MAX_SIZE * 2u, "a size above the maximum");
    refused(memfd_of(len, 0), MIN, "an unsealed memfd");
    refused(memfd_of(len, F_SEAL_GROW), MIN, "a memfd that may shrink");
    refused(memfd_of(len - 1, sealed), MIN, "a memfd one byte short");
    refused(memfd_of(MIN, sealed), MIN, "a memfd without room for the page of indices");
    refused(memfd_of(0, sealed), MIN, "an empty memfd");
    refused(memfd_of(len, sealed), 2 * MIN, "a memfd half the claimed size");
    int p[2];
    assert_int_equal(pipe(p), 0);
    refused(p[0], MIN, "a pipe");
    close(p[1]);
    /* Sealed against writes through new mappings: both sides must write. */
    int fd = memfd_create("test-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)len), 0);
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) < 0) {
        close(fd); /* a kernel before 5.1 */
    } else {
        refused(fd, MIN, "a future-write-sealed memfd");
    }
    refused(memfd_of(len, sealed | F_SEAL_WRITE), MIN, "a write-sealed memfd");
    /* A read-only descriptor of a good memfd cannot be mapped writable. */
    fd = memfd_of(len, sealed);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int ro = open(path, O_RDONLY | O_CLOEXEC);
    close(fd);
    if (ro >= 0)
        refused(ro, MIN, "a read-only descriptor");
    /* Not a descriptor at all. */
    ipcn__ring r;
    assert_non_null(ipcn__ring_attach(&r, -1, MIN));
    assert_null(r.sh);

    /* Larger than claimed, sealed against shrinking only: taken, and the
     * claimed size is what is used. */
    fd = memfd_of(len + 3 * MIN, F_SEAL_SHRINK);
    assert_null(ipcn__ring_attach(&r, fd, MIN));
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_non_null(r.sh);
    assert_int_equal(r.size, MIN);
    assert_int_equal(r.map_len, len);
    assert_int_equal(r.pos, 0);
    ipcn__ring_free(&r);
}

/* ---- two threads, the protocol of the flags ---- */

/* The doorbell and the room token, as two pipes stand for the socket. */
typedef struct duo {
    ipcn__ring w, r;
    int bell[2], room[2];
    uint64_t total;
    int chunk; /* the writer's largest write */
    uint64_t bells, rooms; /* tokens sent */
    const char *fail;
} duo;

static bool wait_token(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, WAIT_MS) != 1)
        return false;
    char t[64];
    while (read(fd, t, sizeof t) > 0)
        ;
    return true;
}

static void *writer_main(void *arg)
{
    duo *d = arg;
    uint8_t buf[70000];
    uint64_t at = 0, seed = 0x7777;
    while (at < d->total) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = (size_t)(seed >> 33) % (size_t)d->chunk + 1;
        if (len > d->total - at)
            len = (size_t)(d->total - at);
        for (size_t i = 0; i < len; i++)
            buf[i] = pat(at + i);
        size_t done = 0;
        while (done < len) {
            ssize_t n = ipcn__ring_write(&d->w, buf + done, len - done);
            if (n < 0) {
                __atomic_store_n(&d->fail, "writer: impossible tail",
                                 __ATOMIC_RELEASE);
                return NULL;
            }
            if (n > 0) {
                done += (size_t)n;
                if (ipcn__ring_bell_wanted(&d->w)) {
                    d->bells++;
                    if (write(d->bell[1], "", 1) != 1) {
                        __atomic_store_n(&d->fail, "writer: bell",
                                         __ATOMIC_RELEASE);
                        return NULL;
                    }
                }
                continue;
            }
            if (ipcn__ring_wait_room(&d->w))
                continue;
            if (!wait_token(d->room[0])) {
                __atomic_store_n(&d->fail, "writer: the room token never "
                                 "came (lost wake-up)", __ATOMIC_RELEASE);
                return NULL;
            }
        }
        at += len;
    }
    return NULL;
}

static void run_duo(int chunk, uint64_t total)
{
    duo d;
    memset(&d, 0, sizeof d);
    d.chunk = chunk;
    d.total = total;
    ring_pair(&d.w, &d.r, MIN);
    assert_int_equal(pipe2(d.bell, O_NONBLOCK | O_CLOEXEC), 0);
    assert_int_equal(pipe2(d.room, O_NONBLOCK | O_CLOEXEC), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer_main, &d), 0);
    uint8_t buf[50000];
    uint64_t got = 0, seed = 0x1234;
    const char *fail = NULL;
    while (got < total && !fail) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t want = (size_t)(seed >> 33) % sizeof buf + 1;
        ssize_t n = ipcn__ring_read(&d.r, buf, want);
        if (n < 0) {
            fail = "reader: impossible head";
            break;
        }
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] != pat(got + (uint64_t)i)) {
                    fail = "reader: wrong byte";
                    break;
                }
            got += (uint64_t)n;
            if (ipcn__ring_room_wanted(&d.r)) {
                d.rooms++;
                if (write(d.room[1], "", 1) != 1)
                    fail = "reader: room token";
            }
            continue;
        }
        if (__atomic_load_n(&d.fail, __ATOMIC_ACQUIRE))
            break;
        if (ipcn__ring_sleep(&d.r)) {
            if (!wait_token(d.bell[0]))
                fail = "reader: the doorbell never came (lost wake-up)";
        }
        ipcn__ring_awake(&d.r);
    }
    if (fail) /* let the writer end: it may wait for room */
        atomic_store(&d.r.sh->tail, atomic_load(&d.r.sh->head));
    (void)write(d.room[1], "", 1);
    pthread_join(t, NULL);
    if (fail || d.fail)
        fail_msg("%s (chunk %d, %llu of %llu bytes)", fail ? fail : d.fail,
                 chunk, (unsigned long long)got, (unsigned long long)total);
    assert_int_equal(got, total);
    assert_int_equal(ipcn__ring_read(&d.r, buf, sizeof buf), 0);
    if (getenv("IPCN_TEST_VERBOSE"))
        print_message("    chunk %d: %llu bells, %llu room tokens\n", chunk,
                      (unsigned long long)d.bells, (unsigned long long)d.rooms);
    close(d.bell[0]);
    close(d.bell[1]);
    close(d.room[0]);
    close(d.room[1]);
    ring_pair_free(&d.w, &d.r);
}

static void test_threads(void **state)
{
    (void)state;
    run_duo(64, 8u << 20);        /* small writes: the reader often sleeps */
    run_duo(70000, 64u << 20);    /* writes larger than the ring: it fills */
    run_duo(4096, 32u << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_sizes),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_empty_and_full),
        cmocka_unit_test(test_straddle),
        cmocka_unit_test(test_random_rounds),
        cmocka_unit_test(test_hostile_tail),
        cmocka_unit_test(test_hostile_head),
        cmocka_unit_test(test_bell),
        cmocka_unit_test(test_room),
        cmocka_unit_test(test_attach_refuses),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
