/* SPDX-License-Identifier: MIT */
/*
 * test_hostile.c — a raw, hostile client against a victim node.
 *
 * The hostile client (raw_client.h) speaks bytes, not the library: frames
 * are built with a little-endian writer of its own and sealed with XXH3-64
 * straight from xxhash.h, and what the victim sends back is parsed and
 * checked there too (its checksum included).  Nothing of libipcnet is used
 * for it.
 *
 * Each case starts a fresh victim (helpers/h_hostile_victim.c) in its own
 * process and attacks it while an innocent library node in this process
 * keeps using it.  A case passes when:
 *   1. the victim process is still alive;
 *   2. the innocent peer's requests get correct answers during the attack
 *      (a prober thread asks the echo service every 50 ms) and after it
 *      (echo, a query of its data, a sample of its stream);
 *   3. the victim's VmRSS grew by less than MEM_HEADROOM;
 *   4. where the protocol promises an answer, the hostile client got it:
 *      an ERROR frame with the right status, then the connection closed by
 *      the victim — or, for input the victim refuses but survives, the
 *      ERROR and a link that still answers a PING;
 * and the victim, told to stop afterwards, exits 0 (so under ASan it also
 * had no leak).  Everything is seeded and bounded in count and time.
 *
 * The raw client also speaks link rings (protocol 7.4) with its own code:
 * it can write its frames into a ring of its own and read the victim's out
 * of the victim's, so the ring cases attack both sides of a ring.
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

#define MEM_HEADROOM_KB (64 * 1024)

/* ------------------------------------------------------------------ */
/* The victim and the innocent peer                                     */
/* ------------------------------------------------------------------ */

typedef struct vstats {
    unsigned long long bad_frames, links_refused, frames_in, drops, peers_lost,
        samples, events;
    unsigned peers, resources, held;
} vstats;

static struct {
    ipcn_node *inn;     /* the innocent peer, on its own thread */
    int count;          /* victims started */
    char verbose;
    pid_t bystander;    /* a second library node, in its own process */
} G;

static struct victim {
    pid_t pid;
    char name[32];
    char sock[600];
    char echo[64], stats[64], hold[64], data[64], bigdata[64], stream[64];
    ipcn_sub sub;
    long rss0_kb;
    vstats st0;
    bool checked;
} V;

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* Is the victim still running?  Says how it ended when not. */
static bool victim_alive(void)
{
    int ws;
    pid_t r = waitpid(V.pid, &ws, WNOHANG);
    if (r == 0)
        return true;
    if (r == V.pid) {
        if (WIFSIGNALED(ws))
            print_error("victim %s killed by signal %d\n", V.name, WTERMSIG(ws));
        else
            print_error("victim %s exited with %d\n", V.name, WEXITSTATUS(ws));
        V.pid = -1;
    }
    return false;
}

static void victim_stats(vstats *s)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(G.inn, V.stats, NULL, 0, NULL, &m, IO_TIMEOUT_MS);
    assert_int_equal(st, ST_OK);
    assert_non_null(m);
    memset(s, 0, sizeof *s);
    int k = sscanf((const char *)m->data,
                   "bad_frames=%llu links_refused=%llu frames_in=%llu "
                   "peers=%u resources=%u drops=%llu peers_lost=%llu held=%u "
                   "samples=%llu events=%llu",
                   &s->bad_frames, &s->links_refused, &s->frames_in, &s->peers,
                   &s->resources, &s->drops, &s->peers_lost, &s->held,
                   &s->samples, &s->events);
    if (k != 10)
        print_error("stats: %s\n", (const char *)m->data);
    assert_int_equal(k, 10);
    ipcn_msg_free(m);
}

/* The innocent's echo: a fresh payload, the same bytes back. */
static int innocent_echo(ipcn_node *n, int seq, char *why, size_t whylen)
{
    char req[64];
    int len = snprintf(req, sizeof req, "innocent %d", seq);
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, V.echo, req, (size_t)len, "text/plain", &m,
                          IO_TIMEOUT_MS);
    int ok = st == ST_OK && m && m->len == (size_t)len &&
             memcmp(m->data, req, (size_t)len) == 0;
    if (!ok && why)
        snprintf(why, whylen, "echo %d: status %d (%s), %s", seq, st,
                 ipcn_status_str(st), m ? "answered" : "no answer");
    ipcn_msg_free(m);
    return ok;
}

/* ---- the prober: the innocent keeps asking during the attack ---- */

static struct prober {
    pthread_t t;
    int stop;
    int ok, fail;
    char why[160];
    bool running;
} P;

static void *prober_main(void *arg)
{
    (void)arg;
    for (int i = 0; !__atomic_load_n(&P.stop, __ATOMIC_ACQUIRE); i++) {
        char why[160];
        if (innocent_echo(G.inn, i, why, sizeof why)) {
            __atomic_add_fetch(&P.ok, 1, __ATOMIC_RELAXED);
        } else {
            if (__atomic_add_fetch(&P.fail, 1, __ATOMIC_RELAXED) == 1)
                memcpy(P.why, why, sizeof why);
        }
        usleep(50000);
    }
    return NULL;
}

static void prober_start(void)
{
    memset(&P, 0, sizeof P);
    assert_int_equal(pthread_create(&P.t, NULL, prober_main, NULL), 0);
    P.running = true;
}

static void prober_stop(void)
{
    if (!P.running)
        return;
    /* At least one probe, however short the attack was. */
    uint64_t end = tu_now_ms() + 2 * IO_TIMEOUT_MS;
    while (__atomic_load_n(&P.ok, __ATOMIC_RELAXED) +
                   __atomic_load_n(&P.fail, __ATOMIC_RELAXED) == 0 &&
           tu_now_ms() < end)
        usleep(5000);
    __atomic_store_n(&P.stop, 1, __ATOMIC_RELEASE);
    pthread_join(P.t, NULL);
    P.running = false;
}

/* ---- one victim per case ---- */

static int setup_victim(void **state)
{
    (void)state;
    memset(&V, 0, sizeof V);
    snprintf(V.name, sizeof V.name, "victim-%02d", ++G.count);
    snprintf(V.sock, sizeof V.sock, "%s/default/%s.sock", tu_net_dir(), V.name);
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s", V.sock);
    snprintf(V.echo, sizeof V.echo, "%s/echo", V.name);
    snprintf(V.stats, sizeof V.stats, "%s/stats", V.name);
    snprintf(V.hold, sizeof V.hold, "%s/hold", V.name);
    snprintf(V.data, sizeof V.data, "%s/data", V.name);
    snprintf(V.bigdata, sizeof V.bigdata, "%s/bigdata", V.name);
    snprintf(V.stream, sizeof V.stream, "%s/stream", V.name);
    char ppid[32];
    snprintf(ppid, sizeof ppid, "%d", (int)getpid());
    const char *args[] = {V.name, "120", ppid, NULL};
    V.pid = tu_spawn("h_hostile_victim", args);
    if (V.pid <= 0)
        return -1;
    /* Wait until the innocent knows every resource a case uses: each comes
     * in an announce of its own, and the innocent's thread may have taken
     * in the first (echo) and not yet the others. */
    const char *const need[] = {V.echo, V.stats, V.hold, V.data, V.bigdata, V.stream};
    uint64_t end = tu_now_ms() + 15000;
    for (;;) {
        size_t found = 0;
        for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
            ipcn_resource_list *rl = NULL;
            if (ipcn_find(G.inn, need[i], IPCN_ANY, &rl) == ST_OK && rl->count)
                found++;
            ipcn_resource_list_free(rl);
        }
        if (found == sizeof need / sizeof *need)
            break;
        if (!victim_alive() || tu_now_ms() > end) {
            print_error("victim %s did not come up\n", V.name);
            return -1;
        }
        usleep(10000);
    }
    if (ipcn_subscribe(G.inn, V.stream, 16, NULL, NULL, &V.sub) != ST_OK)
        return -1;
    V.rss0_kb = rss_kb(V.pid);
    prober_start();
    return 0;
}

/* Criteria 1-3, at the end of each case. */
static void victim_check(void)
{
    prober_stop();
    if (P.fail)
        print_error("innocent probes during the attack: %d ok, %d failed; "
                    "first: %s\n", P.ok, P.fail, P.why);
    assert_true(victim_alive());
    assert_int_equal(P.fail, 0);
    assert_true(P.ok >= 1);

    char why[160] = "";
    int ok = innocent_echo(G.inn, -1, why, sizeof why);
    if (!ok)
        print_error("after the attack: %s\n", why);
    assert_true(ok);

    ipcn_msg *m = NULL;
    int st = ipcn_query(G.inn, V.data, &m, IO_TIMEOUT_MS);
    assert_int_equal(st, ST_OK);
    assert_int_equal(m->len, 11);
    assert_memory_equal(m->data, "victim-data", 11);
    ipcn_msg_free(m);

    /* Its stream still flows to the innocent: drop what is queued, then a
     * fresh sample must come. */
    while (ipcn_sub_take(G.inn, V.sub, &m, 0) == ST_OK)
        ipcn_msg_free(m);
    m = NULL;
    st = ipcn_sub_take(G.inn, V.sub, &m, IO_TIMEOUT_MS);
    assert_int_equal(st, ST_OK);
    assert_int_equal(m->status, ST_OK);
    assert_string_equal(m->path, V.stream);
    ipcn_msg_free(m);

    long rss = rss_kb(V.pid);
    if (G.verbose || rss - V.rss0_kb >= MEM_HEADROOM_KB)
        print_message("    victim VmRSS %ld kB -> %ld kB\n", V.rss0_kb, rss);
    assert_true(rss > 0);
    assert_true(rss - V.rss0_kb < MEM_HEADROOM_KB);
    V.checked = true;
}

static void victim_fd_uncap(void);

static int teardown_victim(void **state)
{
    (void)state;
    prober_stop();
    raw_free_all();
    if (G.bystander > 0)
        tu_kill(G.bystander);
    G.bystander = 0;
    ipcn_unsubscribe(G.inn, V.sub);
    hello_caps = 0;
    victim_fd_uncap();
    if (V.pid <= 0)
        return -1;
    int rc = 0;
    if (victim_alive()) {
        kill(V.pid, SIGTERM);
        int st = tu_wait(V.pid, 10000);
        if (st != 0) {
            print_error("victim %s: exit status %d after SIGTERM\n", V.name, st);
            if (st < 0)
                tu_kill(V.pid);
            rc = -1;
        }
    } else {
        rc = -1;
    }
    V.pid = -1;
    return rc;
}

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
#define T_SHM_RELEASE 17

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

/* Send B with nfd descriptors attached to its first byte. */
static void raw_send_fds(raw *r, const int *fds, int nfd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 16)];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {B.p, B.len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfd);
    ssize_t w = sendmsg(r->fd, &mh, MSG_NOSIGNAL);
    assert_int_equal(w, (ssize_t)B.len);
    B.len = 0;
}

/* A memfd of size bytes, sealed with seals (0: none). */
static int make_memfd(size_t size, int seals)
{
    int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    if (seals)
        assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
    return fd;
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

/* ------------------------------------------------------------------ */
/* Cases: connection floods and slow clients                            */
/* ------------------------------------------------------------------ */

/* Another innocent, opened during an attack: it must link to the victim
 * and get an answer within timeout_ms, while poke() runs (may be NULL). */
static bool newcomer_gets_through(int timeout_ms, void (*poke)(void *), void *arg)
{
    ipcn_node *n2 = NULL;
    assert_int_equal(ipcn_node_open(&n2, "innocent2", NULL), ST_OK);
    assert_int_equal(ipcn_node_start_thread(n2), ST_OK);
    bool ok = false;
    uint64_t end = tu_now_ms() + (uint64_t)timeout_ms;
    while (!ok && tu_now_ms() < end) {
        if (poke)
            poke(arg);
        ipcn_resource_list *rl = NULL;
        if (ipcn_find(n2, V.echo, IPCN_SERVICE, &rl) == ST_OK && rl->count)
            ok = innocent_echo(n2, 1, NULL, 0);
        ipcn_resource_list_free(rl);
        if (!ok)
            usleep(20000);
    }
    ipcn_node_close(n2);
    return ok;
}

static void t_hello_flood(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    enum { N = 200 };
    raw *rs[N];
    int connected = 0;
    for (int i = 0; i < N; i++) {
        rs[i] = raw_new();
        if (raw_socket(true, &rs[i]->fd) == 0)
            connected++;
        else
            rs[i]->fd = -1;
    }
    assert_true(connected >= 65);
    /* Once the victim has dealt with every connection (each got its hello,
     * or was closed), at most 64 of them may be held waiting for hello —
     * whether the victim refuses the newest or drops the oldest. */
    unsigned waiting = 0, pending;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    do {
        usleep(20000);
        waiting = pending = 0;
        for (int i = 0; i < N; i++) {
            if (rs[i]->fd < 0)
                continue;
            raw_drain(rs[i]);
            if (!rs[i]->eof && !rs[i]->hellos)
                pending++;
            waiting += !rs[i]->eof && rs[i]->hellos;
        }
    } while (pending && tu_now_ms() < end);
    assert_int_equal(pending, 0);
    /* While they sit there silent, a newcomer must get through. */
    bool through = newcomer_gets_through(10000, NULL, NULL);
    /* The victim closes them all: refused at once, or after dead-after. */
    unsigned hellos = 0, open = 0;
    end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        open = 0;
        for (int i = 0; i < N; i++) {
            if (rs[i]->fd < 0 || rs[i]->eof)
                continue;
            raw_drain(rs[i]);
            if (!rs[i]->eof)
                open++;
        }
        if (!open || tu_now_ms() > end)
            break;
        usleep(20000);
    }
    for (int i = 0; i < N; i++) {
        hellos += rs[i]->hellos;
        assert_int_equal(rs[i]->errors[ST_BAD_REQUEST], 0);
        raw_free(rs[i]);
    }
    if (G.verbose)
        print_message("    %d connected, %u got a hello, at most %u waiting at once, "
                      "%u left open\n", connected, hellos, waiting, open);
    assert_int_equal(open, 0);
    assert_true(waiting >= 1 && waiting <= 64);
    assert_true(through);
    victim_stats(&s1);
    assert_true(s1.links_refused >= s0.links_refused + (unsigned)connected - 64);
    victim_check();
}

/* One byte every 50 ms. */
typedef struct trickle {
    raw **rs;
    int n;
    size_t pos;
    const uint8_t *bytes;
    size_t len;
    uint64_t next;
} trickle;

static void trickle_poke(void *arg)
{
    trickle *t = arg;
    if (tu_now_ms() < t->next || t->pos >= t->len)
        return;
    for (int i = 0; i < t->n; i++) {
        raw *r = t->rs[i];
        if (r->fd < 0 || r->eof)
            continue;
        raw_drain(r);
        if (!r->eof)
            (void)send(r->fd, t->bytes + t->pos, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    t->pos++;
    t->next = tu_now_ms() + 50;
}

static void t_slowloris(void **state)
{
    (void)state;
    /* A hello with a 64-byte name (137 bytes), one byte every 50 ms.  The
     * HELLO exchange must complete within dead_after (protocol.md 8, 16;
     * 0.9 s here) however the bytes trickle: the victim must close the
     * link while it is still trickling (2 s, and up to 1 s more of margin
     * for a loaded machine). */
    char name[65];
    memset(name, 's', 64);
    name[64] = 0;
    enc_hello(&B, 0x51041, name);
    raw *r = raw_open();
    trickle t = {.rs = &r, .n = 1, .bytes = B.p, .len = B.len};
    uint64_t start = tu_now_ms();
    while (!r->eof && tu_now_ms() - start < 3000) {
        trickle_poke(&t);
        usleep(5000);
        raw_drain(r);
    }
    if (G.verbose || !r->eof)
        print_message("    slowloris: %zu bytes sent in %llu ms, %s\n", t.pos,
                      (unsigned long long)(tu_now_ms() - start),
                      r->eof ? "closed by the victim" : "still open");
    bool closed = r->eof;
    raw_free(r);
    B.len = 0;
    assert_true(closed);
    victim_check();
}

/* 64 slow clients take every slot for links that have not said hello;
 * a newcomer must still get through while they keep trickling. */
static void t_slowloris_crowd(void **state)
{
    (void)state;
    char name[65];
    memset(name, 's', 64);
    name[64] = 0;
    enc_hello(&B, 0x51041, name); /* 137 bytes: 6.8 s at 20 bytes/s */
    enum { N = 64 };
    raw *rs[N];
    for (int i = 0; i < N; i++)
        rs[i] = raw_open();
    trickle t = {.rs = rs, .n = N, .bytes = B.p, .len = B.len};
    bool through = newcomer_gets_through(4000, trickle_poke, &t);
    int closed = 0;
    for (int i = 0; i < N; i++) {
        raw_drain(rs[i]);
        closed += rs[i]->eof;
        raw_free(rs[i]);
    }
    if (G.verbose || !through)
        print_message("    slowloris crowd: %zu bytes each, %d of %d closed by the "
                      "victim, newcomer %s\n", t.pos, closed, N,
                      through ? "got through" : "locked out");
    B.len = 0;
    assert_true(through);
    victim_check();
}

/* Clients that never said hello announce a 16 MiB "hello" (within the
 * frame limit), send most of it and keep it open by trickling: what they
 * make the victim hold must stay bounded, and the frame is refused. */
static void t_prehello_big_frames(void **state)
{
    (void)state;
    enum { N = 8 };
    const size_t len = MAX_PAYLOAD;
    uint8_t *junk = calloc(1, len);
    assert_non_null(junk);
    raw *rs[N];
    size_t sent[N];
    for (int i = 0; i < N; i++) {
        rs[i] = raw_open();
        B.len = 0;
        size_t off = f_begin(&B, T_HELLO, 0x1234, 0);
        st32(B.p + off + 12, (uint32_t)len);
        f_seal(&B, off);
        sent[i] = raw_write_ex(rs[i], B.p, HDR, true, 2000);
        if (sent[i] == HDR)
            sent[i] += raw_write_ex(rs[i], junk, len - 64, false, 2000);
    }
    B.len = 0;
    free(junk);
    /* Keep them from going silent for a moment, then look. */
    for (int k = 0; k < 5; k++) {
        for (int i = 0; i < N; i++)
            (void)send(rs[i]->fd, "", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        usleep(60000);
    }
    long rss = rss_kb(V.pid);
    size_t total = 0;
    for (int i = 0; i < N; i++)
        total += sent[i];
    /* protocol.md 16: a frame before the HELLO carries at most 1024 bytes
     * of payload; more is refused at the header (ERROR 200, close). */
    for (int i = 0; i < N; i++) {
        raw_expect_close(rs[i], ST_BAD_REQUEST);
        raw_free(rs[i]);
    }
    if (G.verbose || rss - V.rss0_kb >= MEM_HEADROOM_KB)
        print_message("    %d clients with no hello sent %zu bytes; victim VmRSS "
                      "%ld kB -> %ld kB while they were connected\n", N, total,
                      V.rss0_kb, rss);
    assert_true(victim_alive());
    assert_true(rss - V.rss0_kb < MEM_HEADROOM_KB);
    victim_check();
}

/* ------------------------------------------------------------------ */
/* Cases: clients that do not read                                     */
/* ------------------------------------------------------------------ */

static void t_big_sample_no_read(void **state)
{
    (void)state;
    vstats s0, s1;
    victim_stats(&s0);
    raw *r = raw_link();
    enc_announce(&B, r->id, 2, 1, "hostile/big", 11);
    raw_send_buf(r);
    raw_ping(r, 1);
    size_t len = 8u << 20;
    uint8_t *data = malloc(len);
    assert_non_null(data);
    rng_state = 8;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = rng();
        memcpy(data + i, &v, 8);
    }
    for (int i = 0; i < 4; i++) {
        enc_sample(&B, r->id, (uint64_t)i + 1, "hostile/big", data, len);
        size_t w = raw_write_ex(r, B.p, B.len, false, IO_TIMEOUT_MS);
        B.len = 0;
        if (w == 0)
            break;
    }
    free(data);
    /* Everything was read and handed to the victim's subscription. */
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    do {
        victim_stats(&s1);
    } while (s1.samples < s0.samples + 4 && tu_now_ms() < end && usleep(50000) == 0);
    long rss = rss_kb(V.pid);
    if (G.verbose || rss - V.rss0_kb >= MEM_HEADROOM_KB)
        print_message("    victim VmRSS %ld kB -> %ld kB with the client connected\n",
                      V.rss0_kb, rss);
    assert_true(rss - V.rss0_kb < MEM_HEADROOM_KB);
    assert_true(s1.samples >= s0.samples + 4);
    free(B.p);
    B = (buf){0};
    raw_free(r);
    victim_check();
}

/* A small request, a big answer, and a client that never reads them. */
static void flood_no_read(raw *r, const char *what, int count, uint8_t type,
                          const char *path, size_t req_len)
{
    uint8_t *data = calloc(1, req_len + 1);
    assert_non_null(data);
    size_t sent = 0, total = 0;
    for (int i = 0; i < count; i++) {
        B.len = 0;
        enc_request(&B, type, r->id, 1000 + (uint64_t)i, path, data, req_len);
        total += B.len;
        size_t w = raw_write_ex(r, B.p, B.len, false, 1500);
        sent += w;
        if (w < B.len)
            break; /* back-pressure: the victim stopped reading us */
    }
    free(data);
    B.len = 0;
    usleep(500000); /* let the victim do all it will do */
    long rss = rss_kb(V.pid);
    if (G.verbose || rss - V.rss0_kb >= MEM_HEADROOM_KB)
        print_message("    %s: %zu of %zu bytes sent; victim VmRSS %ld kB -> %ld kB "
                      "with the client connected\n", what, sent, total, V.rss0_kb, rss);
    assert_true(victim_alive());
    assert_true(rss - V.rss0_kb < MEM_HEADROOM_KB);
}

static void t_query_amplification_no_read(void **state)
{
    (void)state;
    raw *r = raw_link();
    /* 128 queries of 60 bytes each ask for 1 MiB each. */
    flood_no_read(r, "queries of 1 MiB", 128, T_QUERY, V.bigdata, 0);
    raw_free(r);
    victim_check();
}

static void t_echo_flood_no_read(void **state)
{
    (void)state;
    raw *r = raw_link();
    flood_no_read(r, "1 MiB echoes", 96, T_REQUEST, V.echo, 1u << 20);
    raw_free(r);
    free(B.p);
    B = (buf){0};
    victim_check();
}


/* ---- link rings (protocol 7.4) from a raw client ---- */

static size_t enc_ring(buf *b, uint64_t src, uint32_t size, uint32_t reserved)
{
    size_t off = f_begin(b, T_RING, src, 0);
    b_u32(b, size);
    b_u32(b, reserved);
    f_end(b, off);
    return off;
}

/* Our direction switches: a sealed memfd of our own in a RING frame, and
 * from then on raw_write puts our bytes into it.  The ring may hold
 * prefill bytes already (at most size), and ask for a bell (writer_waits)
 * before the victim has seen it. */
static void raw_ring_start_ex(raw *r, uint32_t size, const void *prefill,
                              size_t prefill_len, bool waits)
{
    int fd = make_memfd(RING_HDR + (size_t)size, F_SEAL_SHRINK | F_SEAL_GROW);
    uint8_t *m = mmap(NULL, RING_HDR + (size_t)size, PROT_READ | PROT_WRITE,
                      MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    assert_true(prefill_len <= size);
    if (prefill_len)
        memcpy(m + RING_HDR, prefill, prefill_len);
    __atomic_store_n(rg_head(m), (uint64_t)prefill_len, __ATOMIC_RELEASE);
    __atomic_store_n(rg_waits(m), waits ? 1u : 0u, __ATOMIC_SEQ_CST);
    B.len = 0;
    enc_ring(&B, r->id, size, 0);
    raw_send_fds(r, &fd, 1);
    close(fd);
    r->out_map = m;
    r->out_size = size;
    r->out_head = prefill_len;
    r->out_ring = true;
}

static void raw_ring_start(raw *r, uint32_t size)
{
    raw_ring_start_ex(r, size, NULL, 0, false);
}

/* One token on the socket, with a descriptor when fd >= 0.  False when the
 * victim has hung up. */
static bool raw_token_try(raw *r, uint8_t token, int fd)
{
    struct iovec iov = {&token, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof ctl.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t w;
    for (int i = 0; i < 1000; i++) {
        w = sendmsg(r->fd, &mh, MSG_NOSIGNAL);
        if (w >= 0 || errno != EAGAIN)
            break;
        usleep(1000);
    }
    return w == 1;
}

static void raw_token(raw *r, uint8_t token, int fd)
{
    assert_true(raw_token_try(r, token, fd));
}

static unsigned count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    assert_non_null(d);
    unsigned k = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            k++;
    closedir(d);
    return k;
}

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
     * before we look again gets more tries. */
    for (uint64_t i = 0; i < 8 && (i < 3 || !woken); i++) {
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

/* The lowest descriptor number free in process pid: the one it gets next. */
static int lowest_free_fd(pid_t pid)
{
    static bool used[4096];
    memset(used, 0, sizeof used);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        long k = e->d_name[0] == '.' ? -1 : atol(e->d_name);
        if (k >= 0 && k < (long)(sizeof used / sizeof *used))
            used[k] = true;
    }
    closedir(d);
    int k = 0;
    while (k < (int)(sizeof used / sizeof *used) && used[k])
        k++;
    return k;
}

static struct rlimit victim_nofile; /* the victim's own, while capped */
static bool victim_capped;

/* Let the victim open no descriptor but extra ones past those it holds
 * (its next free number is then the limit), so that it cannot make a ring
 * (memfd_create fails, EMFILE), as when out of memory.  False when this
 * system does not let us. */
static bool victim_fd_cap(unsigned extra)
{
    if (!victim_capped && prlimit(V.pid, RLIMIT_NOFILE, NULL, &victim_nofile) != 0)
        return false;
    struct rlimit rl = victim_nofile;
    rl.rlim_cur = (rlim_t)lowest_free_fd(V.pid) + extra;
    if (rl.rlim_cur > rl.rlim_max || prlimit(V.pid, RLIMIT_NOFILE, &rl, NULL) != 0)
        return false;
    victim_capped = true;
    return true;
}

static void victim_fd_uncap(void)
{
    if (victim_capped && V.pid > 0)
        (void)prlimit(V.pid, RLIMIT_NOFILE, &victim_nofile, NULL);
    victim_capped = false;
}

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

/* ------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    tu_net_dir();
    G.verbose = getenv("IPCN_TEST_VERBOSE") != NULL;
    /* Hostile input makes the victim log one line per refusal. */
    if (!G.verbose && !getenv("IPCNET_LOG"))
        setenv("IPCNET_LOG", "error", 1);
    /* Under AddressSanitizer a sanitized victim keeps freed blocks in a
     * quarantine (256 MiB by default), which VmRSS would count as if the
     * victim held them: keep it small so that RSS measures live memory.
     * (Ignored by builds without ASan.) */
    const char *asan = getenv("ASAN_OPTIONS");
    if (!asan || !strstr(asan, "quarantine_size_mb")) {
        char opt[1024];
        snprintf(opt, sizeof opt, "%s%squarantine_size_mb=8", asan ? asan : "",
                 asan && *asan ? ":" : "");
        setenv("ASAN_OPTIONS", opt, 1);
    }
    return ipcn_node_open(&G.inn, "innocent", NULL) == ST_OK &&
                   ipcn_node_start_thread(G.inn) == ST_OK
               ? 0
               : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    ipcn_node_close(G.inn);
    free(B.p);
    free(C.p);
    return 0;
}

#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup_victim, teardown_victim)

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
        CASE(t_second_hello),
        CASE(t_announce_bad_paths),
        CASE(t_announce_flood),
        CASE(t_subscribe_flood),
        CASE(t_hostile_patterns),
        CASE(t_sample_unannounced),
        CASE(t_shm_bad_pools),
        CASE(t_shm_out_of_bounds),
        CASE(t_unsolicited_reply),
        CASE(t_request_flood),
        CASE(t_foreign_src),
        CASE(t_hello_flood),
        CASE(t_slowloris),
        CASE(t_slowloris_crowd),
        CASE(t_prehello_big_frames),
        CASE(t_big_sample_no_read),
        CASE(t_query_amplification_no_read),
        CASE(t_echo_flood_no_read),
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
