/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_prehello.c — what comes before a valid hello: garbage, bad magic,
 * truncated and oversized frames, bad checksums, unknown versions, types and
 * flags, ttl 0, frames before the hello, hellos of another network, with a
 * bad receive limit or bad names, malformed bodies.
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
/* Cases: before the hello                                              */
/* ------------------------------------------------------------------ */

static void t_garbage(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    rng_state = 0x1badc0ffee;
    static const size_t sizes[] = {1, 3, 4, 47, 48, 49, 100, 512, 4096, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        uint8_t *g = malloc(sizes[i]);
        for (size_t j = 0; j < sizes[i]; j++)
            g[j] = (uint8_t)rng();
        if (g[0] == 'I')
            g[0] = 'J';
        attack_expect(g, sizes[i], ST_BAD_REQUEST);
        free(g);
    }
    victim_stats(&s1);
    assert_true(s1.bad_frames >= s0.bad_frames + 10);
    assert_true(s1.links_refused >= s0.links_refused + 10);
    victim_check();
}

static void t_bad_magic(void **state)
{
    (void)state;
    static const char *const magics[] = {"IPCX", "ipcn", "NCPI", "IPC\0"};
    for (int i = 0; i < 4; i++) {
        size_t off = enc_hello(&B, 0x1234, "badmagic");
        memcpy(B.p + off, magics[i], 4);
        f_seal(&B, off);
        attack_expect_buf(ST_BAD_REQUEST);
    }
    victim_check();
}

static void t_truncated(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    /* Header only (it announces 100 bytes), then hang up. */
    size_t off = f_begin(&B, T_HELLO, 0x1234, 0);
    st32(B.p + off + 12, 100);
    f_seal(&B, off);
    raw *r = raw_open();
    raw_write(r, B.p, HDR);
    shutdown(r->fd, SHUT_WR);
    raw_expect_close(r, 0);
    raw_free(r);
    B.len = 0;

    /* Half a hello, then hang up. */
    enc_hello(&B, 0x1234, "half-a-hello");
    r = raw_open();
    raw_write(r, B.p, HDR + (B.len - HDR) / 2);
    shutdown(r->fd, SHUT_WR);
    raw_expect_close(r, 0);
    raw_free(r);

    /* Half a hello, then silence: closed after the dead-after time. */
    r = raw_open();
    raw_write(r, B.p, HDR + (B.len - HDR) / 2);
    raw_expect_close(r, 0);
    raw_free(r);

    /* A linked client that hangs up in the middle of a big frame. */
    r = raw_link();
    B.len = 0;
    static uint8_t blob[300000];
    enc_request(&B, T_REQUEST, r->id, 77, V.echo, blob, sizeof blob);
    raw_write(r, B.p, B.len / 2);
    shutdown(r->fd, SHUT_WR);
    raw_expect_close(r, 0);
    raw_free(r);
    B.len = 0;

    victim_stats(&s1);
    assert_int_equal(s1.bad_frames, s0.bad_frames); /* hang-ups are not bad frames */
    victim_check();
}

static void t_oversized_length(void **state)
{
    (void)state;
    long before = rss_kb(V.pid);
    static const uint32_t lens[] = {0xFFFFFFF0u, 0xFFFFFFFFu, MAX_PAYLOAD + 1,
                                    0x80000000u};
    for (int i = 0; i < 4; i++) {
        size_t off = enc_hello(&B, 0x1234, "oversized");
        st32(B.p + off + 12, lens[i]);
        f_seal(&B, off);
        B.len = off + HDR; /* the header alone: the rest never comes */
        attack_expect_buf(ST_BAD_REQUEST);
    }
    /* The same after a hello. */
    raw *r = raw_link();
    size_t off = enc_stamp(&B, T_PING, r->id, 5);
    st32(B.p + off + 12, 0xFFFFFFF0u);
    f_seal(&B, off);
    B.len = off + HDR;
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    /* Nothing of that size was allocated (a few MiB of slack). */
    long after = rss_kb(V.pid);
    if (after - before >= 8 * 1024)
        print_error("victim VmRSS %ld kB -> %ld kB\n", before, after);
    assert_true(after - before < 8 * 1024);
    victim_check();
}

static void t_bad_checksum(void **state)
{
    (void)state;
    size_t off = enc_hello(&B, 0x1234, "badsum");
    B.p[off + 40] ^= 1;
    attack_expect_buf(ST_BAD_REQUEST);
    off = enc_hello(&B, 0x1234, "badsum");
    B.p[B.len - 2] ^= 0x20; /* a payload byte; checksum left as it was */
    attack_expect_buf(ST_BAD_REQUEST);
    off = enc_hello(&B, 0x1234, "badsum");
    st64(B.p + off + 40, 0);
    attack_expect_buf(ST_BAD_REQUEST);
    /* After a hello too. */
    raw *r = raw_link();
    off = enc_stamp(&B, T_PING, r->id, 9);
    B.p[off + 47] ^= 0x80;
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    victim_check();
}

static void t_unknown_version(void **state)
{
    (void)state;
    static const uint8_t versions[] = {2, 0, 255};
    for (int i = 0; i < 3; i++) {
        size_t off = enc_hello(&B, 0x1234, "future");
        B.p[off + 4] = versions[i];
        f_seal(&B, off);
        attack_expect_buf(ST_VERSION);
    }
    /* A v1 header whose hello offers only version 2. */
    enc_hello_v(&B, 0x1234, "default", 7, "future", 6, 2, 2);
    attack_expect_buf(ST_VERSION);
    victim_check();
}

static void t_unknown_types(void **state)
{
    (void)state;
    static const uint8_t types[] = {0, 21, 255};
    for (int i = 0; i < 3; i++) {
        size_t off = enc_hello(&B, 0x1234, "types");
        B.p[off + 5] = types[i];
        f_seal(&B, off);
        attack_expect_buf(ST_BAD_REQUEST);
    }
    for (int i = 0; i < 3; i++) { /* and after a hello */
        raw *r = raw_link();
        size_t off = enc_stamp(&B, T_PING, r->id, 3);
        B.p[off + 5] = types[i];
        f_seal(&B, off);
        raw_send_buf(r);
        raw_expect_close(r, ST_BAD_REQUEST);
        raw_free(r);
    }
    victim_check();
}

static void t_flags_reserved(void **state)
{
    (void)state;
    static const struct { int at; uint8_t v; } pokes[] = {
        {6, 1}, {6, 0x80}, {11, 1}, {11, 0xFF}};
    for (int i = 0; i < 4; i++) {
        size_t off = enc_hello(&B, 0x1234, "flags");
        B.p[off + pokes[i].at] = pokes[i].v;
        f_seal(&B, off);
        attack_expect_buf(ST_BAD_REQUEST);
    }
    /* The hello body's own reserved u16. */
    size_t off = enc_hello(&B, 0x1234, "flags");
    B.p[off + HDR + 2] = 1;
    f_seal(&B, off);
    attack_expect_buf(ST_BAD_REQUEST);
    victim_check();
}

static void t_ttl_zero(void **state)
{
    (void)state;
    size_t off = enc_hello(&B, 0x1234, "noloop");
    B.p[off + 7] = 0;
    f_seal(&B, off);
    attack_expect_buf(ST_LOOP);
    raw *r = raw_link();
    off = enc_stamp(&B, T_PING, r->id, 4);
    B.p[off + 7] = 0;
    f_seal(&B, off);
    raw_send_buf(r);
    raw_expect_close(r, ST_LOOP);
    raw_free(r);
    victim_check();
}

static void t_frame_before_hello(void **state)
{
    (void)state;
    enc_announce(&B, 0x1234, 2, 1, "hostile/a", 9);
    attack_expect_buf(ST_BAD_REQUEST);
    enc_stamp(&B, T_PING, 0x1234, 1);
    attack_expect_buf(ST_BAD_REQUEST);
    enc_request(&B, T_REQUEST, 0x1234, 1, V.echo, "x", 1);
    attack_expect_buf(ST_BAD_REQUEST);
    enc_text(&B, T_SUBSCRIBE, 0x1234, "**", 2);
    attack_expect_buf(ST_BAD_REQUEST);
    enc_text(&B, T_BYE, 0x1234, "bye", 3);
    attack_expect_buf(ST_BAD_REQUEST);
    victim_check();
}

static void t_hello_other_network(void **state)
{
    (void)state;
    enc_hello_v(&B, 0x1234, "other", 5, "stranger", 8, 1, 1);
    attack_expect_buf(ST_BAD_REQUEST);
    enc_hello_v(&B, 0x1234, "", 0, "stranger", 8, 1, 1);
    attack_expect_buf(ST_BAD_REQUEST);
    enc_hello_v(&B, 0x1234, "default2", 8, "stranger", 8, 1, 1);
    attack_expect_buf(ST_BAD_REQUEST);
    victim_check();
}

static void t_hello_bad_max_payload(void **state)
{
    (void)state;
    static const uint32_t bad[] = {0, 1023, (16u << 20) + 1, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hello_max_payload = bad[i];
        enc_hello(&B, 0x1234, "stranger");
        attack_expect_buf(ST_BAD_REQUEST);
    }
    hello_max_payload = 16u << 20;
    victim_check();
}

static void t_hello_bad_names(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    char long_name[66];
    memset(long_name, 'a', 65);
    long_name[65] = 0;
    const char *const names[] = {"", long_name, "a/b", "\xff\xfe", "caf\xc3\xa9",
                                 ".hidden", "a b", "a\x01", V.name};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        enc_hello_v(&B, 0x1234, "default", 7, names[i], strlen(names[i]), 1, 1);
        attack_expect_buf(ST_BAD_REQUEST);
    }
    /* A node id of 0. */
    enc_hello(&B, 0, "zero-id");
    attack_expect_buf(ST_BAD_REQUEST);
    /* The name of a live node of another process, linked to the victim:
     * 207.  (A second link from the process of a linked node replaces its
     * first link instead — the process dropped it — so the claimed name
     * must belong to another process than this one: a bystander.) */
    char bname[32], ppid[32];
    snprintf(bname, sizeof bname, "bystander-%02d", G.count);
    snprintf(ppid, sizeof ppid, "%d", (int)getpid());
    const char *args[] = {bname, "60", ppid, NULL};
    G.bystander = tu_spawn("h_hostile_victim", args);
    assert_true(G.bystander > 0);
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    do {
        usleep(20000);
        victim_stats(&s1);
    } while (s1.peers < 2 && tu_now_ms() < end);
    assert_true(s1.peers >= 2);
    enc_hello(&B, 0x1234, bname);
    attack_expect_buf(ST_CONFLICT);
    victim_stats(&s1);
    assert_true(s1.peers >= 2); /* the bystander's link stayed */
    kill(G.bystander, SIGTERM);
    assert_int_equal(tu_wait(G.bystander, 10000), 0);
    G.bystander = 0;
    assert_true(s1.links_refused >= s0.links_refused + 11);
    victim_check();
}

static void t_malformed_body(void **state)
{
    (void)state;
    /* A hello with a trailing byte. */
    size_t off = enc_hello(&B, 0x1234, "trailing");
    b_u8(&B, 0);
    f_end(&B, off);
    attack_expect_buf(ST_BAD_REQUEST);
    /* A name string whose NUL is missing (a byte in its place). */
    off = enc_hello(&B, 0x1234, "nonul");
    B.p[B.len - 1] = 'x';
    f_seal(&B, off);
    attack_expect_buf(ST_BAD_REQUEST);
    /* A string length running past the frame. */
    off = enc_hello(&B, 0x1234, "overrun");
    st16(B.p + B.len - 8 - 2, 0xFFFF); /* the name's length */
    f_seal(&B, off);
    attack_expect_buf(ST_BAD_REQUEST);
    /* An embedded NUL in the name. */
    enc_hello_v(&B, 0x1234, "default", 7, "ab\0cd", 5, 1, 1);
    attack_expect_buf(ST_BAD_REQUEST);
    /* An empty payload. */
    off = f_begin(&B, T_HELLO, 0x1234, 0);
    f_end(&B, off);
    attack_expect_buf(ST_BAD_REQUEST);
    /* After a hello: an announce of kind 9, a blob running past the end. */
    raw *r = raw_link();
    off = enc_announce(&B, r->id, 9, 1, "hostile/k", 9);
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    r = raw_link();
    off = enc_sample(&B, r->id, 1, "hostile/s", "abc", 3);
    st32(B.p + B.len - 3 - 4, 1000);
    f_seal(&B, off);
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    victim_check();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE(t_garbage),
        CASE(t_bad_magic),
        CASE(t_truncated),
        CASE(t_oversized_length),
        CASE(t_bad_checksum),
        CASE(t_unknown_version),
        CASE(t_unknown_types),
        CASE(t_flags_reserved),
        CASE(t_hello_bad_max_payload),
        CASE(t_ttl_zero),
        CASE(t_frame_before_hello),
        CASE(t_hello_other_network),
        CASE(t_hello_bad_names),
        CASE(t_malformed_body),
    };
    /* IPCN_TEST_FILTER=t_slowloris* runs only the matching cases. */
    if (getenv("IPCN_TEST_FILTER"))
        cmocka_set_test_filter(getenv("IPCN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
