/* SPDX-License-Identifier: MIT */
/*
 * test_discovery.c — the discovery beacons of gateways (src/node/
 * discovery.c): the fingerprint, the beacon's encoding and its parser
 * (every malformed shape), what a gateway decides on hearing a datagram
 * (own, untrusted, linked, held, dialled once), the fuzz corpus replayed,
 * and the real sockets: two namespaces joined by a veth pair, where each
 * side's beacons make the other dial it and an untrusted third is never
 * dialled (root only: skipped with the reason where namespaces are
 * refused).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#define LLVMFuzzerTestOneInput fuzz_discovery_one
#include "../fuzz/fuzz_discovery.c"
#undef LLVMFuzzerTestOneInput

static void key_of(uint8_t key[32], uint8_t seed)
{
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(seed + i);
}

static void test_fingerprint(void **state)
{
    (void)state;
    uint8_t k1[32], k2[32], fp1[16], fp2[16], h[64];
    key_of(k1, 1);
    key_of(k2, 2);
    ipcn__disc_fingerprint(k1, fp1);
    ipcn__disc_fingerprint(k2, fp2);
    /* The first 16 bytes of BLAKE2b-512 (unkeyed) of the key. */
    crypto_generichash(h, sizeof h, k1, 32, NULL, 0);
    assert_memory_equal(fp1, h, 16);
    assert_memory_not_equal(fp1, fp2, 16);
    /* The value docs/protocol.md and the fuzz corpus give for bytes
     * 1..32. */
    static const uint8_t want[16] = {0x45, 0xba, 0x73, 0x64, 0xfa, 0x00, 0x71, 0xc9,
                                     0x18, 0x02, 0xcf, 0xf2, 0x84, 0x86, 0x1e, 0x52};
    assert_memory_equal(fp1, want, 16);
}

static void test_beacon_roundtrip(void **state)
{
    (void)state;
    uint8_t fp[16], b[IPCN_DISC_BEACON_LEN], got[16];
    for (int i = 0; i < 16; i++)
        fp[i] = (uint8_t)(0xA0 + i);
    ipcn__disc_beacon_encode(fp, 0x1d27, b);
    assert_memory_equal(b, "IPCd", 4);
    assert_int_equal(b[4], 1);
    assert_memory_equal(b + 5, fp, 16);
    assert_int_equal(b[21], 0x1d);
    assert_int_equal(b[22], 0x27);
    uint16_t port = 0;
    assert_int_equal(ipcn__disc_beacon_parse(b, sizeof b, got, &port), IPCN_OK);
    assert_memory_equal(got, fp, 16);
    assert_int_equal(port, 0x1d27);
}

static void test_beacon_malformed(void **state)
{
    (void)state;
    uint8_t fp[16] = {1}, b[IPCN_DISC_BEACON_LEN + 8] = {0}, got[16];
    uint16_t port = 99;
    ipcn__disc_beacon_encode(fp, 7447, b);
    /* Every shorter length, and longer ones (from an exact-size copy:
     * nothing past the length may be read). */
    for (size_t n = 0; n <= sizeof b; n++) {
        if (n == IPCN_DISC_BEACON_LEN)
            continue;
        uint8_t *c = malloc(n ? n : 1);
        memcpy(c, b, n);
        assert_int_equal(ipcn__disc_beacon_parse(c, n, got, &port), IPCN_BAD_REQUEST);
        free(c);
    }
    assert_int_equal(ipcn__disc_beacon_parse(NULL, 23, got, &port), IPCN_BAD_REQUEST);
    /* A wrong byte of the magic. */
    for (int i = 0; i < 4; i++) {
        uint8_t c[IPCN_DISC_BEACON_LEN];
        memcpy(c, b, sizeof c);
        c[i] ^= 0x20;
        assert_int_equal(ipcn__disc_beacon_parse(c, sizeof c, got, &port), IPCN_BAD_REQUEST);
    }
    /* Another version, whatever its length: 305. */
    b[4] = 2;
    assert_int_equal(ipcn__disc_beacon_parse(b, IPCN_DISC_BEACON_LEN, got, &port),
                     IPCN_VERSION_NOT_SUPPORTED);
    assert_int_equal(ipcn__disc_beacon_parse(b, 40, got, &port), IPCN_VERSION_NOT_SUPPORTED);
    b[4] = 0;
    assert_int_equal(ipcn__disc_beacon_parse(b, IPCN_DISC_BEACON_LEN, got, &port),
                     IPCN_VERSION_NOT_SUPPORTED);
    /* Port 0. */
    ipcn__disc_beacon_encode(fp, 0, b);
    assert_int_equal(ipcn__disc_beacon_parse(b, IPCN_DISC_BEACON_LEN, got, &port),
                     IPCN_BAD_REQUEST);
    /* Nothing written on failure. */
    assert_int_equal(port, 99);
}

static void test_new_bad_config(void **state)
{
    (void)state;
    ipcn__disc *d = NULL;
    ipcn__disc_cfg cfg = {.group = "10.0.0.1"}; /* not multicast */
    assert_int_equal(ipcn__disc_new(&cfg, &d), IPCN_BAD_REQUEST);
    cfg.group = "239.255.74.400";
    assert_int_equal(ipcn__disc_new(&cfg, &d), IPCN_BAD_REQUEST);
    cfg.group = NULL;
    cfg.ifaddr = "eth0";
    assert_int_equal(ipcn__disc_new(&cfg, &d), IPCN_BAD_REQUEST);
    assert_null(d);
    cfg.ifaddr = "10.18.0.1";
    assert_int_equal(ipcn__disc_new(&cfg, &d), IPCN_OK);
    /* No socket yet: no fd, no beacon due. */
    assert_int_equal(ipcn__disc_fd(d), -1);
    assert_true(ipcn__disc_next_ns(d) == UINT64_MAX);
    ipcn__disc_free(d);
    ipcn__disc_free(NULL);
}

static void test_cfg_listen(void **state)
{
    (void)state;
    ipcn__disc_cfg cfg = {.ifaddr = "x"};
    char buf[INET_ADDRSTRLEN];
    assert_int_equal(ipcn__disc_cfg_listen(&cfg, "tcp://10.18.0.1:7447", buf, sizeof buf),
                     IPCN_OK);
    assert_int_equal(cfg.tcp_port, 7447);
    assert_string_equal(cfg.ifaddr, "10.18.0.1");
    /* Any address, a name, IPv6: the port, every interface. */
    static const char *const any[] = {"tcp://0.0.0.0:1", "tcp://gpu-board:1",
                                      "tcp://[::1]:1", "tcp://[fe80::1%eth0]:1"};
    for (size_t i = 0; i < 4; i++) {
        cfg.ifaddr = "x";
        cfg.tcp_port = 0;
        assert_int_equal(ipcn__disc_cfg_listen(&cfg, any[i], buf, sizeof buf), IPCN_OK);
        assert_int_equal(cfg.tcp_port, 1);
        assert_null(cfg.ifaddr);
    }
    static const char *const bad[] = {NULL, "", "tcp://", "udp://1.2.3.4:5", "tcp://1.2.3.4",
                                      "tcp://1.2.3.4:", "tcp://:7447", "tcp://1.2.3.4:0",
                                      "tcp://1.2.3.4:65536", "tcp://1.2.3.4:123456",
                                      "tcp://1.2.3.4:12a", "tcp://1.2.3.4:-1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cfg.tcp_port = 99;
        assert_int_equal(ipcn__disc_cfg_listen(&cfg, bad[i], buf, sizeof buf),
                         IPCN_BAD_REQUEST);
        assert_int_equal(cfg.tcp_port, 99);
    }
    assert_int_equal(ipcn__disc_cfg_listen(&cfg, "tcp://1.2.3.4:5", buf, 4),
                     IPCN_BAD_REQUEST);
}

/* ---- what a gateway decides ---- */

typedef struct linkset {
    uint8_t keys[4][32];
    int n;
    int asked;
} linkset;

static bool is_linked(void *ctx, const uint8_t key[32])
{
    linkset *s = ctx;
    s->asked++;
    for (int i = 0; i < s->n; i++)
        if (!memcmp(s->keys[i], key, 32))
            return true;
    return false;
}

static void beacon_of(const uint8_t key[32], uint16_t port, uint8_t b[IPCN_DISC_BEACON_LEN])
{
    uint8_t fp[16];
    ipcn__disc_fingerprint(key, fp);
    ipcn__disc_beacon_encode(fp, port, b);
}

static struct sockaddr_in from(const char *ip)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7447)};
    assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return sa;
}

#define MS 1000000ull

static void test_heard(void **state)
{
    (void)state;
    uint8_t self[32], a[32], b[32], stranger[32], key[32], bc[IPCN_DISC_BEACON_LEN];
    key_of(self, 100);
    key_of(a, 1);
    key_of(b, 2);
    key_of(stranger, 50);
    ipcn__disc_cfg cfg = {.tcp_port = 7447, .retry_ms = 1000};
    memcpy(cfg.self_key, self, 32);
    ipcn__disc *d = NULL;
    assert_int_equal(ipcn__disc_new(&cfg, &d), IPCN_OK);
    uint8_t trusted[2][32];
    memcpy(trusted[0], a, 32);
    memcpy(trusted[1], b, 32);
    assert_int_equal(ipcn__disc_trust(d, (const uint8_t(*)[32])trusted, 2), IPCN_OK);
    linkset ls = {0};
    char addr[64];
    struct sockaddr_in src = from("10.18.0.2");
    uint64_t t = 5000 * MS;

    /* Our own beacon (looped back): nothing, and nobody is asked. */
    beacon_of(self, 7447, bc);
    assert_false(ipcn__disc_heard(d, t, &src, bc, sizeof bc, is_linked, &ls, key, addr,
                                  sizeof addr));
    /* A host the trust list does not name. */
    beacon_of(stranger, 7447, bc);
    assert_false(ipcn__disc_heard(d, t, &src, bc, sizeof bc, is_linked, &ls, key, addr,
                                  sizeof addr));
    assert_int_equal(ls.asked, 0);
    /* A trusted host: dial its source address at the port it told. */
    beacon_of(a, 7500, bc);
    assert_true(ipcn__disc_heard(d, t, &src, bc, sizeof bc, is_linked, &ls, key, addr,
                                 sizeof addr));
    assert_memory_equal(key, a, 32);
    assert_string_equal(addr, "tcp://10.18.0.2:7500");
    /* Again before retry_ms: held (once, not at every beacon). */
    assert_false(ipcn__disc_heard(d, t + 999 * MS, &src, bc, sizeof bc, is_linked, &ls, key,
                                  addr, sizeof addr));
    /* Another trusted host is not held by the first one's dial. */
    beacon_of(b, 7447, bc);
    struct sockaddr_in src_b = from("10.18.0.3");
    assert_true(ipcn__disc_heard(d, t + 999 * MS, &src_b, bc, sizeof bc, is_linked, &ls, key,
                                 addr, sizeof addr));
    assert_memory_equal(key, b, 32);
    assert_string_equal(addr, "tcp://10.18.0.3:7447");
    /* Linked now: never dialled, however long it beacons. */
    memcpy(ls.keys[ls.n++], b, 32);
    assert_false(ipcn__disc_heard(d, t + 60000 * MS, &src_b, bc, sizeof bc, is_linked, &ls,
                                  key, addr, sizeof addr));
    /* The first host, not linked after retry_ms: dialled again. */
    beacon_of(a, 7500, bc);
    assert_true(ipcn__disc_heard(d, t + 1000 * MS, &src, bc, sizeof bc, is_linked, &ls, key,
                                 addr, sizeof addr));
    /* A reload of the trust list keeps the time of that dial. */
    assert_int_equal(ipcn__disc_trust(d, (const uint8_t(*)[32])trusted, 2), IPCN_OK);
    assert_false(ipcn__disc_heard(d, t + 1500 * MS, &src, bc, sizeof bc, is_linked, &ls, key,
                                  addr, sizeof addr));
    /* ... and one that takes it out: no dial. */
    assert_int_equal(ipcn__disc_trust(d, (const uint8_t(*)[32])trusted + 1, 1), IPCN_OK);
    assert_false(ipcn__disc_heard(d, t + 9000 * MS, &src, bc, sizeof bc, is_linked, &ls, key,
                                  addr, sizeof addr));
    assert_int_equal(ipcn__disc_trust(d, (const uint8_t(*)[32])trusted, 2), IPCN_OK);
    /* Sources no host has: 0.0.0.0, multicast, broadcast. */
    static const char *const bad_src[] = {"0.0.0.0", "239.255.74.47", "255.255.255.255"};
    for (size_t i = 0; i < 3; i++) {
        struct sockaddr_in s = from(bad_src[i]);
        assert_false(ipcn__disc_heard(d, t + 90000 * MS, &s, bc, sizeof bc, is_linked, &ls,
                                      key, addr, sizeof addr));
    }
    /* No room for the address: no dial. */
    assert_false(ipcn__disc_heard(d, t + 90000 * MS, &src, bc, sizeof bc, is_linked, &ls, key,
                                  addr, 8));
    /* A malformed datagram and another version. */
    assert_false(ipcn__disc_heard(d, t + 90000 * MS, &src, bc, 22, is_linked, &ls, key, addr,
                                  sizeof addr));
    bc[4] = 9;
    assert_false(ipcn__disc_heard(d, t + 90000 * MS, &src, bc, sizeof bc, is_linked, &ls, key,
                                  addr, sizeof addr));

    ipcn__disc_stats st;
    ipcn__disc_get_stats(d, &st);
    assert_int_equal(st.heard, 15);
    assert_int_equal(st.own, 1);
    assert_int_equal(st.untrusted, 2);
    assert_int_equal(st.held, 2);
    assert_int_equal(st.linked, 1);
    assert_int_equal(st.dials, 3);
    assert_int_equal(st.malformed, 5);
    assert_int_equal(st.other_version, 1);
    assert_int_equal(st.sent, 0);
    ipcn__disc_free(d);
}

/* More trusted keys than IPCN_DISC_MAX_HOSTS: the first ones are kept. */
static void test_trust_bounded(void **state)
{
    (void)state;
    size_t n = IPCN_DISC_MAX_HOSTS + 10;
    uint8_t(*keys)[32] = calloc(n, 32);
    for (size_t i = 0; i < n; i++) {
        keys[i][0] = (uint8_t)i;
        keys[i][1] = (uint8_t)(i >> 8);
        keys[i][2] = 0x55;
    }
    ipcn__disc_cfg cfg = {.tcp_port = 1};
    ipcn__disc *d = NULL;
    assert_int_equal(ipcn__disc_new(&cfg, &d), IPCN_OK);
    assert_int_equal(ipcn__disc_trust(d, (const uint8_t(*)[32])keys, n), IPCN_OK);
    uint8_t bc[IPCN_DISC_BEACON_LEN], key[32];
    char addr[64];
    struct sockaddr_in src = from("10.18.0.9");
    beacon_of(keys[IPCN_DISC_MAX_HOSTS - 1], 9, bc);
    assert_true(ipcn__disc_heard(d, 1, &src, bc, sizeof bc, NULL, NULL, key, addr, sizeof addr));
    beacon_of(keys[IPCN_DISC_MAX_HOSTS], 9, bc);
    assert_false(ipcn__disc_heard(d, 1, &src, bc, sizeof bc, NULL, NULL, key, addr,
                                  sizeof addr));
    assert_int_equal(ipcn__disc_trust(d, NULL, 0), IPCN_OK);
    ipcn__disc_free(d);
    free(keys);
}

/* ---- the fuzz corpus ---- */

static char corpus_dir[PATH_MAX];

static long replay(const char *sub, bool need)
{
    char dir[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/%s", corpus_dir, sub);
    DIR *dp = opendir(dir);
    if (!dp) {
        if (need)
            fail_msg("no %s", dir);
        return -1;
    }
    long n = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t buf[4096];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        fuzz_discovery_one(buf, len);
        /* and each single bit flipped */
        for (size_t i = 0; i < len * 8; i++) {
            buf[i / 8] ^= (uint8_t)(1u << (i % 8));
            fuzz_discovery_one(buf, len);
            buf[i / 8] ^= (uint8_t)(1u << (i % 8));
        }
        n++;
    }
    closedir(dp);
    return n;
}

static void test_fuzz_corpus(void **state)
{
    (void)state;
    ipcn__disc_stats before, after;
    fd_init();
    ipcn__disc_get_stats(fd_disc, &before);
    assert_true(replay("corpus/discovery", true) >= 8);
    replay("crashes/discovery", true);
    ipcn__disc_get_stats(fd_disc, &after);
    /* The seeds reach every outcome. */
    assert_true(after.dials > before.dials);
    assert_true(after.held > before.held);
    assert_true(after.own > before.own);
    assert_true(after.untrusted > before.untrusted);
    assert_true(after.other_version > before.other_version);
    assert_true(after.malformed > before.malformed);
    static const uint8_t zero[1] = {0};
    fuzz_discovery_one(zero, 0);
    fuzz_discovery_one(zero, 1);
}

/* ---- real sockets, two namespaces ---- */

static char ns_name[2][32];
static bool ns_made[2];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[600];
    snprintf(full, sizeof full, "timeout 10 %s >/dev/null 2>&1", cmd);
    return system(full);
}

static void ns_cleanup(void)
{
    for (int i = 0; i < 2; i++)
        if (ns_made[i]) {
            sh("ip netns del %s", ns_name[i]);
            ns_made[i] = false;
        }
}

static void on_signal(int sig)
{
    ns_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

typedef struct side {
    int ns;             /* 0 or 1 */
    uint8_t self[32];
    uint8_t trusted[32];
    uint16_t tcp_port;
    const char *want;   /* the address it must be asked to dial */
    uint16_t udp_port;
} side;

typedef struct dialled {
    int n;
    char addr[64];
    uint8_t key[32];
    bool wrong;
} dialled;

static void on_dial(void *ctx, const uint8_t key[32], const char *addr)
{
    dialled *x = ctx;
    x->n++;
    if (x->n == 1) {
        snprintf(x->addr, sizeof x->addr, "%s", addr);
        memcpy(x->key, key, 32);
    }
}

static bool never_linked(void *ctx, const uint8_t key[32])
{
    (void)ctx, (void)key;
    return false;
}

/* In a child, in namespace s->ns: beacon (and, with an untrusted key,
 * only beacon) until asked to dial s->want, or 10 s.  Exit 0 on success,
 * else a code saying what went wrong. */
static int run_side(const side *s, bool only_beacon)
{
    char path[64];
    snprintf(path, sizeof path, "/run/netns/%s", ns_name[s->ns]);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
        return 10;
    close(nsfd);
    ipcn__disc_cfg cfg = {.tcp_port = s->tcp_port, .udp_port = s->udp_port,
                          .interval_ms = 100, .retry_ms = 60000};
    memcpy(cfg.self_key, s->self, 32);
    ipcn__disc *d = NULL;
    if (ipcn__disc_new(&cfg, &d) != IPCN_OK || ipcn__disc_open(d) != IPCN_OK)
        return 11;
    ipcn__disc_trust(d, (const uint8_t(*)[32])s->trusted, 1);
    dialled x = {0};
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t start = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    uint64_t now = start, done_at = 0;
    /* Go on a second after the dial: the beacons that follow must not
     * make it dial again (held), and the peer gets ours meanwhile. */
    uint64_t life = (only_beacon ? 4000 : 10000) * MS;
    while (now - start < life && (!done_at || now - done_at < 1000 * MS)) {
        ipcn__disc_tick(d, now);
        uint64_t next = ipcn__disc_next_ns(d);
        int ms = next > now ? (int)((next - now) / MS) + 1 : 0;
        struct pollfd p = {.fd = ipcn__disc_fd(d), .events = POLLIN};
        if (poll(&p, 1, ms > 100 ? 100 : ms) > 0)
            ipcn__disc_on_readable(d, now, never_linked, on_dial, &x);
        if (x.n && !done_at)
            done_at = now;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    ipcn__disc_stats st;
    ipcn__disc_get_stats(d, &st);
    ipcn__disc_free(d);
    if (only_beacon)
        return x.n == 0 && st.sent > 0 ? 0 : 12;
    if (x.n != 1)
        return x.n ? 13 : 14;
    if (strcmp(x.addr, s->want) || memcmp(x.key, s->trusted, 32))
        return 15;
    /* It heard the untrusted third, and beacons of the host it dialled
     * after the dial (held: not dialled again). */
    if (!st.untrusted || !st.held || !st.sent)
        return 16;
    return 0;
}

static void test_netns(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip(); /* "network namespaces need root" */
    const char *pfx = getenv("IPCNET_TEST_NETNS_PREFIX");
    if (!pfx || !*pfx || strlen(pfx) > 6)
        pfx = "ipcdi";
    unsigned pid = (unsigned)getpid() % 10000000u;
    for (int i = 0; i < 2; i++) {
        snprintf(ns_name[i], sizeof ns_name[i], "%s%u%c", pfx, pid, 'a' + i);
        if (sh("ip netns add %s", ns_name[i]) != 0) {
            ns_cleanup();
            fprintf(stderr, "test_discovery: skipped: `ip netns add` refused\n");
            skip();
        }
        ns_made[i] = true;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    bool ok = sh("ip link add %s netns %s type veth peer name %s netns %s", ns_name[0],
                 ns_name[0], ns_name[1], ns_name[1]) == 0;
    for (int i = 0; ok && i < 2; i++)
        ok = sh("ip -n %s addr add 10.18.251.%d/24 dev %s", ns_name[i], i + 1,
                ns_name[i]) == 0 &&
             sh("ip -n %s link set %s up", ns_name[i], ns_name[i]) == 0;
    if (!ok) {
        ns_cleanup();
        fail_msg("the veth pair could not be made");
    }
    uint8_t ka[32], kb[32], kc[32];
    key_of(ka, 11);
    key_of(kb, 22);
    key_of(kc, 33);
    side sides[3] = {
        {.ns = 0, .tcp_port = 7501, .want = "tcp://10.18.251.2:7502"},
        {.ns = 1, .tcp_port = 7502, .want = "tcp://10.18.251.1:7501"},
        /* An untrusted host beside a, on the same UDP port. */
        {.ns = 0, .tcp_port = 7503},
    };
    memcpy(sides[0].self, ka, 32);
    memcpy(sides[0].trusted, kb, 32);
    memcpy(sides[1].self, kb, 32);
    memcpy(sides[1].trusted, ka, 32);
    memcpy(sides[2].self, kc, 32);
    memcpy(sides[2].trusted, kc, 32);
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        sides[i].udp_port = 17447;
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(run_side(&sides[i], i == 2));
    }
    int codes[3];
    for (int i = 0; i < 3; i++) {
        int status = 0;
        /* Each child ends within 11 s by itself; make sure. */
        for (int t = 0; t < 150; t++) {
            if (waitpid(pids[i], &status, WNOHANG) == pids[i])
                break;
            if (t == 149) {
                kill(pids[i], SIGKILL);
                waitpid(pids[i], &status, 0);
            }
            usleep(100000);
        }
        codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
    }
    ns_cleanup();
    for (int i = 0; i < 3; i++)
        if (codes[i] != 0)
            fail_msg("side %d ended with code %d (see run_side)", i, codes[i]);
}

int main(void)
{
    /* <...>/tests/unit/test_discovery.c -> <...>/tests/fuzz */
    snprintf(corpus_dir, sizeof corpus_dir, "%s", __FILE__);
    char *slash = strrchr(corpus_dir, '/');
    if (slash)
        snprintf(slash, sizeof corpus_dir - (size_t)(slash - corpus_dir), "/../fuzz");
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_beacon_roundtrip),
        cmocka_unit_test(test_beacon_malformed),
        cmocka_unit_test(test_new_bad_config),
        cmocka_unit_test(test_cfg_listen),
        cmocka_unit_test(test_heard),
        cmocka_unit_test(test_trust_bounded),
        cmocka_unit_test(test_fuzz_corpus),
        cmocka_unit_test(test_netns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
