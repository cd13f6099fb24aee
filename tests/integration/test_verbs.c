/* SPDX-License-Identifier: MIT */
/*
 * test_verbs.c — every verb of the public API and every status it
 * documents, between real processes: the test process is one node, helper
 * processes (ipcn-test-v_node) are the others, driven over IPCNet itself
 * through their "ctl/<name>" service.  Each test runs in a network of its
 * own; helpers are killed and nodes closed by the teardown, even on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/stat.h>

#include "ipcnet.h"
#include "v_util.h"

/* A service handler for services that are offered but never requested. */
static int dummy_handler(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                         void *user)
{
    (void)n, (void)req, (void)ctx, (void)user;
    return IPCN_NOT_IMPLEMENTED;
}

/* ------------------------------------------------------------------ */
/* Status codes and version                                            */
/* ------------------------------------------------------------------ */

static void test_status_str(void **state)
{
    (void)state;
    int count = 0;
#define CHECK_STATUS(name, code, text)                              \
    assert_int_equal(IPCN_##name, code);                            \
    assert_string_equal(ipcn_status_str(code), text);               \
    assert_true(IPCN_IS_OK(code) == ((code) >= 100 && (code) < 200)); \
    count++;
    IPCN_STATUS_LIST(CHECK_STATUS)
#undef CHECK_STATUS
    assert_int_equal(count, 23);
    assert_string_equal(ipcn_status_str(1000), "Application Status");
    assert_string_equal(ipcn_status_str(1234), "Application Status");
    assert_string_equal(ipcn_status_str(65535), "Application Status");
    assert_string_equal(ipcn_status_str(INT32_MAX), "Application Status");
    const int unknown[] = {0, -1, 1, 99, 105, 150, 199, 210, 299, 310, 999, INT32_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_string_equal(ipcn_status_str(unknown[i]), "Unknown Status");
    assert_int_equal(IPCN_STATUS_APP_FIRST, 1000);
    assert_false(IPCN_IS_OK(99));
    assert_false(IPCN_IS_OK(200));
    assert_false(IPCN_IS_OK(-100));
    assert_false(IPCN_IS_OK(INT32_MIN));
    assert_true(IPCN_IS_OK(199));
    int k = 99;
    assert_true(IPCN_IS_OK(++k)); /* evaluates its argument once */
    assert_int_equal(k, 100);
}

static void test_version(void **state)
{
    (void)state;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", IPCN_VERSION_MAJOR,
             IPCN_VERSION_MINOR, IPCN_VERSION_PATCH);
    assert_string_equal(ipcn_version(), want);
    assert_int_equal(ipcn_version_number(), IPCN_VERSION_NUMBER);
    assert_int_equal(IPCN_VERSION_NUMBER,
                     IPCN_VERSION_MAJOR * 10000 + IPCN_VERSION_MINOR * 100 +
                         IPCN_VERSION_PATCH);
}

/* ------------------------------------------------------------------ */
/* Nodes                                                               */
/* ------------------------------------------------------------------ */

static void test_node_names(void **state)
{
    (void)state;
    ipcn_node *const sentinel = (ipcn_node *)(uintptr_t)0x1;
    char long65[66], long64[65];
    memset(long65, 'n', 65);
    long65[65] = 0;
    memset(long64, 'n', 64);
    long64[64] = 0;
    const char *bad[] = {"", ".x", ".", "a/b", long65, "caf\xc3\xa9", "a b",
                         "a*", "a\n", "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ipcn_node *n = sentinel;
        assert_int_equal(ipcn_node_open(&n, bad[i], NULL), IPCN_BAD_REQUEST);
        assert_ptr_equal(n, sentinel); /* untouched on failure */
    }
    ipcn_node *n = sentinel;
    assert_int_equal(ipcn_node_open(&n, NULL, NULL), IPCN_BAD_REQUEST);
    assert_ptr_equal(n, sentinel);
    assert_int_equal(ipcn_node_open(NULL, "fine", NULL), IPCN_BAD_REQUEST);

    const char *good[] = {long64, "a", "A-z_0.9", "x.", "chat.left", "-dash"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ipcn_node *g = v_open(good[i], NULL);
        assert_string_equal(ipcn_node_name(g), good[i]);
        v_close(g);
    }
}

static void test_node_accessors(void **state)
{
    (void)state;
    ipcn_node_close(NULL); /* a no-op */
    ipcn_node *a = v_open("acc-a", NULL);
    ipcn_node *b = v_open("acc-b", NULL);
    assert_string_equal(ipcn_node_name(a), "acc-a");
    assert_true(ipcn_node_id(a) != 0);
    assert_true(ipcn_node_id(a) != ipcn_node_id(b));
    char want[512];
    snprintf(want, sizeof want, "%s/%s", tu_dir, v_network);
    assert_string_equal(ipcn_node_dir(a), want);
    assert_true(ipcn_node_fd(a) >= 0);

    /* opts.dir and opts.network override the environment. */
    char base[400];
    snprintf(base, sizeof base, "%s/alt-%s", tu_dir, v_network);
    assert_int_equal(mkdir(base, 0700), 0);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = base;
    o.network = "altnet";
    ipcn_node *c = v_open("acc-c", &o);
    snprintf(want, sizeof want, "%s/altnet", base);
    assert_string_equal(ipcn_node_dir(c), want);
    struct stat st;
    assert_int_equal(stat(want, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    v_close(c);
    v_close(b);
    v_close(a);
}

static void test_node_options(void **state)
{
    (void)state;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    assert_int_equal(o.size, sizeof o);
    ipcn_node *const sentinel = (ipcn_node *)(uintptr_t)0x1;
    ipcn_node *n = sentinel;
    o.heartbeat_ms = 300;
    o.dead_after_ms = 599; /* < 2 * heartbeat */
    assert_int_equal(ipcn_node_open(&n, "opt", &o), IPCN_BAD_REQUEST);
    assert_ptr_equal(n, sentinel);
    o.dead_after_ms = 100;
    assert_int_equal(ipcn_node_open(&n, "opt", &o), IPCN_BAD_REQUEST);
    assert_ptr_equal(n, sentinel);
    o.dead_after_ms = 600; /* exactly 2 * heartbeat is fine */
    n = v_open("opt", &o);
    v_close(n);

    ipcn_node_opts_init(&o);
    o.network = "bad/net";
    n = sentinel;
    assert_int_equal(ipcn_node_open(&n, "opt", &o), IPCN_BAD_REQUEST);
    assert_ptr_equal(n, sentinel);
}

/* 202 when the network's directory is not usable: writable by others, or
 * not a directory. */
static void test_node_dir_unusable(void **state)
{
    (void)state;
    char base[400], dir[480];
    snprintf(base, sizeof base, "%s/unusable-%s", tu_dir, v_network);
    assert_int_equal(mkdir(base, 0700), 0);
    snprintf(dir, sizeof dir, "%s/open", base);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = base;
    o.network = "open";
    ipcn_node *const sentinel = (ipcn_node *)(uintptr_t)0x1;
    ipcn_node *n = sentinel;
    assert_int_equal(ipcn_node_open(&n, "ud", &o), IPCN_FORBIDDEN);
    assert_ptr_equal(n, sentinel);
    snprintf(dir, sizeof dir, "%s/file", base);
    FILE *f = fopen(dir, "w");
    assert_non_null(f);
    fclose(f);
    o.network = "file";
    assert_int_equal(ipcn_node_open(&n, "ud", &o), IPCN_FORBIDDEN);
    assert_ptr_equal(n, sentinel);
    /* A fresh network directory is made with mode 0700. */
    o.network = "fresh";
    n = v_open("ud", &o);
    struct stat st;
    snprintf(dir, sizeof dir, "%s/fresh", base);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    v_close(n);
}

/* ipcn_node_opts_init() fills in the defaults the header documents. */
static void test_node_opts_defaults(void **state)
{
    (void)state;
    ipcn_node_opts o;
    memset(&o, 0xA5, sizeof o);
    ipcn_node_opts_init(&o);
    assert_int_equal(o.size, sizeof o);
    assert_null(o.network);
    assert_null(o.dir);
    assert_int_equal(o.max_payload, 16u << 20);
    assert_int_equal(o.tx_limit, 64u << 20);
    assert_int_equal(o.heartbeat_ms, 200);
    assert_int_equal(o.dead_after_ms, 900);
    assert_true(o.dead_after_ms >= 2 * o.heartbeat_ms);
    assert_int_equal(o.idle_probe_ms, 120000);
}

static void test_node_name_conflict_in_process(void **state)
{
    (void)state;
    ipcn_node *a = v_open("twice", NULL);
    ipcn_node *const sentinel = (ipcn_node *)(uintptr_t)0x1;
    ipcn_node *b = sentinel;
    assert_int_equal(ipcn_node_open(&b, "twice", NULL), IPCN_CONFLICT);
    assert_ptr_equal(b, sentinel);
    v_close(a);
    /* Free again once the first one closed. */
    b = v_open("twice", NULL);
    v_close(b);
}

static void test_node_name_conflict_across_processes(void **state)
{
    (void)state;
    /* The test holds the name: a helper of that name cannot open. */
    ipcn_node *n = v_open("dup", NULL);
    pid_t p = v_spawn("dup", "noctl", NULL);
    assert_int_equal(v_reap(p, V_WAIT_MS), IPCN_CONFLICT);

    /* A helper holds the name: the test cannot open it. */
    pid_t h = v_spawn("dup2", NULL);
    v_wait_helper(n, "dup2");
    ipcn_node *const sentinel = (ipcn_node *)(uintptr_t)0x1;
    ipcn_node *m = sentinel;
    assert_int_equal(ipcn_node_open(&m, "dup2", NULL), IPCN_CONFLICT);
    assert_ptr_equal(m, sentinel);

    /* Once it left cleanly, the name is free. */
    assert_int_equal(v_ctl(n, "dup2", NULL, "exit"), IPCN_OK);
    assert_int_equal(v_reap(h, V_WAIT_MS), 0);
    m = v_open("dup2", NULL);
    v_close(m);

    /* And once it died by SIGKILL, too (stale files are swept). */
    pid_t k = v_spawn("dup3", NULL);
    v_wait_helper(n, "dup3");
    v_kill(k);
    m = v_open("dup3", NULL);
    v_close(m);
}

static void test_node_same_name_other_network(void **state)
{
    (void)state;
    ipcn_node *a = v_open("same", NULL);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    char other[80];
    snprintf(other, sizeof other, "%s-o1", v_network);
    o.network = other;
    ipcn_node *b = v_open("same", &o); /* opts.network */

    /* IPCNET_NETWORK: a helper called "same" in a third network. */
    char third[80];
    snprintf(third, sizeof third, "%s-o2", v_network);
    setenv("IPCNET_NETWORK", third, 1);
    pid_t h = v_spawn("same", NULL);
    setenv("IPCNET_NETWORK", v_network, 1);
    ipcn_node_opts_init(&o);
    o.network = third;
    ipcn_node *w = v_open("watcher", &o);
    v_wait_helper(w, "same");
    /* Networks do not see each other. */
    v_pump(a, 200);
    assert_int_equal(v_count(a, "**", IPCN_ANY), 0);
    ipcn_node_stats ns = {.size = sizeof ns};
    assert_int_equal(ipcn_node_get_stats(a, &ns), IPCN_OK);
    assert_int_equal(ns.peers, 0);
    assert_int_equal(v_ctl(w, "same", NULL, "exit"), IPCN_OK);
    assert_int_equal(v_reap(h, V_WAIT_MS), 0);
    v_close(w);
    v_close(b);
    v_close(a);
}

static void test_node_peers_and_stats(void **state)
{
    (void)state;
    ipcn_node *n = v_open("st", NULL);
    ipcn_node_stats ns = {.size = sizeof ns};
    assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    assert_int_equal(ns.peers, 0);
    assert_int_equal(ns.resources, 0);
    assert_int_equal(ipcn_node_wait_peers(n, 1, 100), IPCN_GATEWAY_TIMEOUT);

    pid_t p1 = v_spawn("peer1", "data:st/d", NULL);
    pid_t p0 = v_spawn("peer0", NULL);
    assert_int_equal(ipcn_node_wait_peers(n, 2, V_WAIT_MS), IPCN_OK);
    v_wait_helper(n, "peer1");
    v_wait_helper(n, "peer0");
    assert_int_equal(ipcn_announce(n, "st/own", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);

    ipcn_peer_list *pl = NULL;
    assert_int_equal(ipcn_peers(n, &pl), IPCN_OK);
    assert_int_equal(pl->count, 2);
    assert_string_equal(pl->items[0].name, "peer0"); /* sorted by name */
    assert_string_equal(pl->items[1].name, "peer1");
    assert_int_equal(pl->items[0].pid, p0);
    assert_int_equal(pl->items[1].pid, p1);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(pl->items[i].uid, (int32_t)getuid());
        assert_int_equal(pl->items[i].gid, (int32_t)getgid());
        assert_true(pl->items[i].id != 0);
        assert_true(pl->items[i].linked_ns != 0);
        assert_true(pl->items[i].frames_in > 0);
        assert_true(pl->items[i].bytes_in > 0);
        assert_true(pl->items[i].frames_out > 0);
        assert_int_equal(pl->items[i].bad_frames, 0);
    }
    assert_int_equal(pl->items[0].resources, 1); /* ctl/peer0 */
    assert_int_equal(pl->items[1].resources, 2); /* st/d, ctl/peer1 */
    uint64_t id1 = pl->items[1].id;
    ipcn_peer_list_free(pl);
    ipcn_peer_list_free(NULL);

    /* The peer id is the one its resources carry. */
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "st/d", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_true(rl->items[0].provider_id == id1);
    ipcn_resource_list_free(rl);

    assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    assert_int_equal(ns.peers, 2);
    assert_int_equal(ns.resources, 4); /* st/d, ctl/peer0, ctl/peer1, st/own */
    assert_true(ns.frames_in > 0 && ns.frames_out > 0);
    assert_true(ns.bytes_in > 0 && ns.bytes_out > 0);
    assert_int_equal(ns.bad_frames, 0);
    assert_int_equal(ns.links_refused, 0);
    assert_int_equal(ns.peers_lost, 0);

    /* Counters move with traffic. */
    assert_int_equal(v_ctl(n, "peer1", NULL, "stats"), IPCN_OK);
    ipcn_node_stats ns2 = {.size = sizeof ns2};
    assert_int_equal(ipcn_node_get_stats(n, &ns2), IPCN_OK);
    assert_true(ns2.frames_in > ns.frames_in);
    assert_true(ns2.frames_out > ns.frames_out);
    assert_true(ns2.bytes_in > ns.bytes_in);
    assert_true(ns2.bytes_out > ns.bytes_out);

    assert_int_equal(ipcn_node_wait_peers(n, 3, 200), IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(ipcn_node_wait_peers(n, 2, 0), IPCN_OK);

    /* A helper killed: the peer is lost and counted. */
    v_kill(p0);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    do {
        v_pump(n, 20);
        assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    } while (ns.peers != 1 && tu_now_ms() < end);
    assert_int_equal(ns.peers, 1);
    assert_int_equal(ns.peers_lost, 1);
    assert_int_equal(ns.resources, 3);
}

/* ------------------------------------------------------------------ */
/* Announce, withdraw, find                                            */
/* ------------------------------------------------------------------ */

static uint64_t version_of(ipcn_node *n, const char *path)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, path, IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    uint64_t v = rl->items[0].version;
    ipcn_resource_list_free(rl);
    return v;
}

static void test_announce_statuses(void **state)
{
    (void)state;
    ipcn_node *n = v_open("an", NULL);
    assert_int_equal(ipcn_announce(n, "an/d", IPCN_DATA, "text/plain", NULL, 0),
                     IPCN_CREATED);
    uint64_t v1 = version_of(n, "an/d");
    assert_int_equal(ipcn_announce(n, "an/d", IPCN_DATA, "text/csv", "m", 1),
                     IPCN_OK);
    uint64_t v2 = version_of(n, "an/d");
    assert_true(v2 > v1);
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "an/d", IPCN_ANY, &rl), IPCN_OK);
    assert_string_equal(rl->items[0].encoding, "text/csv");
    assert_int_equal(rl->items[0].meta_len, 1);
    assert_memory_equal(rl->items[0].meta, "m", 1);
    ipcn_resource_list_free(rl);

    assert_int_equal(ipcn_announce(n, "an/s", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "an/e", IPCN_STREAM, "", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_find(n, "an/s", IPCN_ANY, &rl), IPCN_OK);
    assert_string_equal(rl->items[0].encoding, ""); /* NULL: unknown */
    assert_int_equal(rl->items[0].kind, IPCN_STREAM);
    assert_int_equal(rl->items[0].meta_len, 0);
    ipcn_resource_list_free(rl);

    /* Two nodes of this process: announcing is per node. */
    ipcn_node *m = v_open("an2", NULL);
    assert_int_equal(ipcn_announce(m, "an2/d", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);

    /* Offering: 100 (not 101), 207 when this node offers it already. */
    assert_int_equal(ipcn_offer(n, "an/svc", "text/plain",
                                dummy_handler, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_offer(n, "an/svc", "text/plain",
                                dummy_handler, NULL),
                     IPCN_CONFLICT);
    assert_int_equal(ipcn_offer(n, "an//x", NULL, dummy_handler, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_offer(n, "an/nofn", NULL, NULL, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_find(n, "an/svc", IPCN_SERVICE, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_string_equal(rl->items[0].encoding, "text/plain");
    ipcn_resource_list_free(rl);
}

static void test_announce_invalid_paths(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ap", NULL);
    char p255[256], p256[257];
    memset(p255, 'p', 255);
    p255[255] = 0;
    for (int i = 10; i < 255; i += 10)
        p255[i] = '/';
    memcpy(p256, p255, 255);
    p256[255] = 'q';
    p256[256] = 0;
    const char *bad[] = {
        "",         "/a",       "a/",       "a//b",     "a/*/b",   "*",
        "**",       "a/**",     "a/b*",     "a/\x01",   "a\nb",    "a\tb",
        "a/\x1f",   "a\x7f",    "\xff",     "a/\xc0\xaf",      /* overlong */
        "\xed\xa0\x80",                                          /* surrogate */
        "a/\xe2\x82",                                            /* truncated */
        "\xf4\x90\x80\x80",                                      /* > U+10FFFF */
        p256,       "/",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int k = IPCN_DATA; k <= IPCN_SERVICE; k++)
            assert_int_equal(ipcn_announce(n, bad[i], (ipcn_kind)k, NULL, NULL, 0),
                             IPCN_BAD_REQUEST);
        assert_int_equal(ipcn_withdraw(n, bad[i]), IPCN_BAD_REQUEST);
    }
    assert_int_equal(ipcn_announce(n, NULL, IPCN_DATA, NULL, NULL, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_withdraw(n, NULL), IPCN_BAD_REQUEST);
    assert_int_equal(v_count(n, "**", IPCN_ANY), 0);

    /* The limits themselves are fine. */
    assert_int_equal(ipcn_announce(n, p255, IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\xa4\x96",
                                   IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "a", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "a.b/-_/~x", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(v_count(n, "**", IPCN_ANY), 4);
}

/* U+0080..U+009F are control characters too (Unicode category Cc). */
static void test_announce_c1_control(void **state)
{
    (void)state;
    ipcn_node *n = v_open("c1", NULL);
    assert_int_equal(ipcn_announce(n, "a/\xc2\x85", IPCN_DATA, NULL, NULL, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce(n, "a\xc2\x9b" "b", IPCN_DATA, NULL, NULL, 0),
                     IPCN_BAD_REQUEST);
}

static void test_announce_limits(void **state)
{
    (void)state;
    ipcn_node *n = v_open("al", NULL);
    char e255[256], e256[257];
    memset(e255, 'e', 255);
    e255[255] = 0;
    memset(e256, 'e', 256);
    e256[256] = 0;
    assert_int_equal(ipcn_announce(n, "al/e", IPCN_DATA, e256, NULL, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce(n, "al/e", IPCN_DATA, e255, NULL, 0),
                     IPCN_CREATED);
    unsigned char *meta = malloc((64u << 10) + 1);
    assert_non_null(meta);
    for (size_t i = 0; i <= 64u << 10; i++)
        meta[i] = (unsigned char)(i * 13);
    assert_int_equal(ipcn_announce(n, "al/m", IPCN_DATA, NULL, meta, (64u << 10) + 1),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce(n, "al/m", IPCN_DATA, NULL, meta, 64u << 10),
                     IPCN_CREATED);
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "al/m", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->items[0].meta_len, 64u << 10);
    assert_memory_equal(rl->items[0].meta, meta, 64u << 10);
    ipcn_resource_list_free(rl);
    free(meta);
    const int kinds[] = {IPCN_ANY, 4, 99, -1};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_int_equal(ipcn_announce(n, "al/k", (ipcn_kind)kinds[i], NULL, NULL, 0),
                         IPCN_BAD_REQUEST);
    assert_int_equal(v_count(n, "al/k", IPCN_ANY), 0);
    assert_int_equal(ipcn_announce(NULL, "al/x", IPCN_DATA, NULL, NULL, 0),
                     IPCN_BAD_REQUEST);
}

static void test_announce_remote_version_and_meta(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rvt", NULL);
    v_spawn("rv", "datam:rv/m:65536", "data:rv/d:text/plain", NULL);
    v_wait_helper(n, "rv");
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "rv/**", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 2);
    assert_string_equal(rl->items[0].path, "rv/d");
    assert_string_equal(rl->items[1].path, "rv/m");
    const ipcn_resource *m = &rl->items[1];
    assert_int_equal(m->kind, IPCN_DATA);
    assert_string_equal(m->encoding, "application/cbor");
    assert_string_equal(m->provider, "rv");
    assert_int_equal(m->meta_len, 65536);
    const unsigned char *mb = m->meta;
    for (size_t i = 0; i < 65536; i++)
        if (mb[i] != (unsigned char)((i * 7 + 3) & 0xff))
            fail_msg("meta byte %zu differs", i);
    uint64_t v1 = rl->items[0].version;
    ipcn_resource_list_free(rl);

    /* Re-announced by the helper: the version goes up here too. */
    assert_int_equal(v_ctl(n, "rv", NULL, "announce rv/d data text/x"), IPCN_OK);
    assert_int_equal(ipcn_find(n, "rv/d", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_true(rl->items[0].version > v1);
    assert_string_equal(rl->items[0].encoding, "text/x");
    ipcn_resource_list_free(rl);
    assert_int_equal(v_ctl(n, "rv", NULL, "announce rv/new stream x"), IPCN_CREATED);
    assert_int_equal(v_count(n, "rv/new", IPCN_STREAM), 1);
}

static void test_announce_conflict(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tcf", NULL);
    pid_t h = v_spawn("cf", "data:cf/d", "stream:cf/s", "echo:cf/svc", NULL);
    v_wait_helper(n, "cf");
    assert_int_equal(ipcn_announce(n, "cf/d", IPCN_DATA, NULL, NULL, 0), IPCN_CONFLICT);
    assert_int_equal(ipcn_announce(n, "cf/s", IPCN_STREAM, NULL, NULL, 0), IPCN_CONFLICT);
    assert_int_equal(ipcn_announce(n, "cf/d", IPCN_STREAM, NULL, NULL, 0), IPCN_CONFLICT);
    assert_int_equal(ipcn_announce(n, "cf/s", IPCN_DATA, NULL, NULL, 0), IPCN_CONFLICT);
    /* The refused announcements left nothing behind. */
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "cf/*", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 3);
    for (size_t i = 0; i < rl->count; i++)
        assert_string_equal(rl->items[i].provider, "cf");
    ipcn_resource_list_free(rl);

    /* Two providers of one service are fine. */
    assert_int_equal(ipcn_offer(n, "cf/svc", NULL, dummy_handler, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_find(n, "cf/svc", IPCN_SERVICE, &rl), IPCN_OK);
    assert_int_equal(rl->count, 2);
    assert_string_equal(rl->items[0].provider, "cf"); /* sorted by provider */
    assert_string_equal(rl->items[1].provider, "tcf");
    ipcn_resource_list_free(rl);

    /* The other way round: the helper cannot take the test's data path. */
    assert_int_equal(ipcn_announce(n, "cf/mine", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(v_ctl(n, "cf", NULL, "announce cf/mine data x"), IPCN_CONFLICT);
    assert_int_equal(v_ctl(n, "cf", NULL, "announce cf/mine stream x"), IPCN_CONFLICT);

    /* Once the provider left, the path is free. */
    assert_int_equal(v_ctl(n, "cf", NULL, "exit"), IPCN_OK);
    assert_true(v_wait_count(n, "cf/d", IPCN_ANY, 0, V_WAIT_MS));
    assert_int_equal(ipcn_announce(n, "cf/d", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(v_reap(h, V_WAIT_MS), 0);
}

static void test_withdraw_local(void **state)
{
    (void)state;
    ipcn_node *n = v_open("wl", NULL);
    assert_int_equal(ipcn_withdraw(n, "wl/none"), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_withdraw(n, "wl//x"), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_withdraw(n, ""), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce(n, "wl/d", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_offer(n, "wl/svc", NULL, dummy_handler, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_withdraw(n, "wl/d"), IPCN_OK);
    assert_int_equal(ipcn_withdraw(n, "wl/d"), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_withdraw(n, "wl/svc"), IPCN_OK);
    assert_int_equal(v_count(n, "**", IPCN_ANY), 0);
    assert_int_equal(ipcn_announce(n, "wl/d", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    /* Another node's resource is not this node's to withdraw. */
    ipcn_node *m = v_open("wl2", NULL);
    assert_int_equal(ipcn_withdraw(m, "wl/d"), IPCN_NOT_FOUND);
}

static void test_withdraw_remote(void **state)
{
    (void)state;
    ipcn_node *n = v_open("wrt", NULL);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "wr/**", 0, v_collect, c, &sub), IPCN_OK);
    v_spawn("wr", "stream:wr/s", "data:wr/d", NULL);
    v_wait_helper(n, "wr");
    assert_int_equal(v_ctl(n, "wr", NULL, "burst wr/s 1"), IPCN_OK);
    assert_int_equal(v_ctl(n, "wr", NULL, "withdraw wr/s"), IPCN_OK);
    /* The withdrawal came before the control answer. */
    assert_int_equal(v_count(n, "wr/s", IPCN_ANY), 0);
    assert_int_equal(v_count(n, "wr/d", IPCN_ANY), 1);
    assert_int_equal(v_ctl(n, "wr", NULL, "withdraw wr/s"), IPCN_NOT_FOUND);
    assert_true(v_wait_samples(n, c, 2, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(v_coll_count(c), 2);
    assert_int_equal(c->s[0].status, IPCN_OK);
    assert_string_equal(c->s[0].data, "v1");
    assert_int_equal(c->s[1].status, IPCN_SERVICE_UNAVAILABLE);
    assert_string_equal(c->s[1].path, "wr/s");
    assert_int_equal(c->s[1].len, 0);
    assert_string_equal(c->s[1].src, "wr");
    /* A 303 notice is not a sample. */
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 1);
    assert_int_equal(ss.lost, 0);
    v_coll_free(c);
}

static void test_withdraw_local_subscribers(void **state)
{
    (void)state;
    ipcn_node *n = v_open("wls", NULL);
    assert_int_equal(ipcn_announce(n, "wls/s", IPCN_STREAM, "text/plain", NULL, 0),
                     IPCN_CREATED);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "wls/**", 0, v_collect, c, &sub), IPCN_OK);
    v_spawn("wlh", NULL);
    v_wait_helper(n, "wlh");
    ipcn_msg *m = NULL;
    assert_int_equal(v_ctl(n, "wlh", &m, "sub wls/** 16"), IPCN_OK);
    assert_non_null(m);
    unsigned id = (unsigned)atoi(m->data);
    ipcn_msg_free(m);
    assert_int_equal(ipcn_publish(n, "wls/s", "x", 1), IPCN_OK);
    assert_int_equal(ipcn_withdraw(n, "wls/s"), IPCN_OK);
    assert_true(v_wait_samples(n, c, 2, V_WAIT_MS));
    assert_int_equal(c->s[0].status, IPCN_OK);
    assert_int_equal(c->s[1].status, IPCN_SERVICE_UNAVAILABLE);
    assert_string_equal(c->s[1].path, "wls/s");
    assert_int_equal(c->s[1].len, 0);
    assert_string_equal(c->s[1].src, "wls");

    m = NULL;
    assert_int_equal(v_ctl(n, "wlh", &m, "take %u 2000", id), IPCN_OK);
    assert_non_null(m);
    assert_string_equal(m->data, "100 1 wls/s wls x");
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(v_ctl(n, "wlh", &m, "take %u 2000", id), IPCN_OK);
    assert_non_null(m);
    assert_string_equal(m->data, "303 0 wls/s wls ");
    ipcn_msg_free(m);
    v_coll_free(c);
}

static void check_sorted(const ipcn_resource_list *rl)
{
    for (size_t i = 1; i < rl->count; i++) {
        int c = strcmp(rl->items[i - 1].path, rl->items[i].path);
        if (c == 0)
            c = strcmp(rl->items[i - 1].provider, rl->items[i].provider);
        assert_true(c < 0);
    }
}

static void expect_find(ipcn_node *n, const char *pattern, ipcn_kind kind,
                        const char *const *want)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, pattern, kind, &rl), IPCN_OK);
    size_t k = 0;
    while (want[k])
        k++;
    if (rl->count != k) {
        for (size_t i = 0; i < rl->count; i++)
            fprintf(stderr, "  find %s: %s (%s)\n", pattern, rl->items[i].path,
                    rl->items[i].provider);
        fail_msg("find(%s, %d): %zu results, want %zu", pattern, kind, rl->count, k);
    }
    for (size_t i = 0; i < k; i++) {
        char got[400];
        snprintf(got, sizeof got, "%s@%s", rl->items[i].path, rl->items[i].provider);
        assert_string_equal(got, want[i]);
    }
    check_sorted(rl);
    ipcn_resource_list_free(rl);
}

static void test_find_patterns(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tf", NULL);
    assert_int_equal(ipcn_announce(n, "f/a/x", IPCN_DATA, "text/plain", "m1", 2),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "f/a/y", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_offer(n, "f/svc", NULL, dummy_handler, NULL),
                     IPCN_OK);
    v_spawn("hf", "data:f/b/x", "stream:f/a/z", "echo:f/svc", "datam:f/b/m:100", NULL);
    v_wait_helper(n, "hf");

    expect_find(n, "f/*/x", IPCN_ANY, (const char *[]){"f/a/x@tf", "f/b/x@hf", NULL});
    expect_find(n, "f/**", IPCN_ANY,
                (const char *[]){"f/a/x@tf", "f/a/y@tf", "f/a/z@hf", "f/b/m@hf",
                                 "f/b/x@hf", "f/svc@hf", "f/svc@tf", NULL});
    expect_find(n, "**", IPCN_ANY,
                (const char *[]){"ctl/hf@hf", "f/a/x@tf", "f/a/y@tf", "f/a/z@hf",
                                 "f/b/m@hf", "f/b/x@hf", "f/svc@hf", "f/svc@tf", NULL});
    expect_find(n, "f/a/*", IPCN_ANY,
                (const char *[]){"f/a/x@tf", "f/a/y@tf", "f/a/z@hf", NULL});
    expect_find(n, "f/**/x", IPCN_ANY, (const char *[]){"f/a/x@tf", "f/b/x@hf", NULL});
    expect_find(n, "**/x", IPCN_ANY, (const char *[]){"f/a/x@tf", "f/b/x@hf", NULL});
    expect_find(n, "f/a/x/**", IPCN_ANY, (const char *[]){"f/a/x@tf", NULL});
    expect_find(n, "f/a/x", IPCN_ANY, (const char *[]){"f/a/x@tf", NULL});
    expect_find(n, "*", IPCN_ANY, (const char *[]){NULL});
    expect_find(n, "f/*", IPCN_ANY, (const char *[]){"f/svc@hf", "f/svc@tf", NULL});
    expect_find(n, "g/**", IPCN_ANY, (const char *[]){NULL});
    expect_find(n, "f/**", IPCN_DATA,
                (const char *[]){"f/a/x@tf", "f/b/m@hf", "f/b/x@hf", NULL});
    expect_find(n, "f/**", IPCN_STREAM, (const char *[]){"f/a/y@tf", "f/a/z@hf", NULL});
    expect_find(n, "**", IPCN_SERVICE,
                (const char *[]){"ctl/hf@hf", "f/svc@hf", "f/svc@tf", NULL});

    /* The fields, own and remote. */
    ipcn_peer hp = v_peer(n, "hf");
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "f/*/x", IPCN_DATA, &rl), IPCN_OK);
    assert_int_equal(rl->count, 2);
    assert_string_equal(rl->items[0].provider, "tf");
    assert_true(rl->items[0].provider_id == ipcn_node_id(n));
    assert_string_equal(rl->items[0].encoding, "text/plain");
    assert_int_equal(rl->items[0].meta_len, 2);
    assert_memory_equal(rl->items[0].meta, "m1", 2);
    assert_true(rl->items[0].version >= 1);
    assert_int_equal(rl->items[1].kind, IPCN_DATA);
    assert_true(rl->items[1].provider_id == hp.id);
    assert_int_equal(rl->items[1].meta_len, 0);
    assert_string_equal(rl->items[1].encoding, "");
    ipcn_resource_list_free(rl);
    assert_int_equal(ipcn_find(n, "f/b/m", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->items[0].meta_len, 100);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(((const unsigned char *)rl->items[0].meta)[i],
                         (unsigned char)((i * 7 + 3) & 0xff));
    ipcn_resource_list_free(rl);
    ipcn_resource_list_free(NULL);
}

static void test_find_invalid(void **state)
{
    (void)state;
    ipcn_node *n = v_open("fi", NULL);
    assert_int_equal(ipcn_announce(n, "a/b", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    ipcn_resource_list *const sentinel = (ipcn_resource_list *)(uintptr_t)0x1;
    const char *bad[] = {"a/**b", "a/b*", "*a", "a/***", "", "/a", "a/", "a//b",
                         "a\x01", "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ipcn_resource_list *rl = sentinel;
        assert_int_equal(ipcn_find(n, bad[i], IPCN_ANY, &rl), IPCN_BAD_REQUEST);
        assert_ptr_equal(rl, sentinel);
    }
    ipcn_resource_list *rl = sentinel;
    assert_int_equal(ipcn_find(n, NULL, IPCN_ANY, &rl), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_find(n, "**", (ipcn_kind)4, &rl), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_find(n, "**", (ipcn_kind)-1, &rl), IPCN_BAD_REQUEST);
    assert_ptr_equal(rl, sentinel);
    assert_int_equal(ipcn_find(n, "**", IPCN_ANY, NULL), IPCN_BAD_REQUEST);
}

static void test_pattern_match(void **state)
{
    (void)state;
    static const struct {
        const char *pat, *path;
        int want;
    } t[] = {
        {"a/b", "a/b", 1},         {"a/b", "a/c", 0},        {"a/b", "a/b/c", 0},
        {"a/b/c", "a/b", 0},       {"a", "ab", 0},           {"ab", "a", 0},
        {"a/*", "a/b", 1},         {"a/*", "a/b/c", 0},      {"a/*", "a", 0},
        {"*", "a", 1},             {"*", "a/b", 0},          {"*/b", "a/b", 1},
        {"*/*", "a/b", 1},         {"a/**", "a", 1},         {"a/**", "a/b/c", 1},
        {"a/**", "b/a", 0},        {"**", "x", 1},           {"**", "x/y/z", 1},
        {"a/**/c", "a/c", 1},      {"a/**/c", "a/b/d/c", 1}, {"a/**/c", "a/b/d", 0},
        {"a/**/c", "a/c/d", 0},    {"**/z", "z", 1},         {"**/z", "a/b/z", 1},
        {"a/**/**/b", "a/b", 1},   {"a/*/**", "a", 0},       {"a/*/**", "a/b", 1},
        {"**/b/**", "a/b/c", 1},   {"**/b/**", "a/c", 0},    {"caf\xc3\xa9/*", "caf\xc3\xa9/x", 1},
        /* invalid pattern or path: no match */
        {"a/b*", "a/bc", 0},       {"a/**b", "a/xb", 0},     {"**", "a//b", 0},
        {"", "", 0},               {"a//b", "a//b", 0},      {"**", "a/*", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int got = ipcn_pattern_match(t[i].pat, t[i].path);
        if (got != t[i].want)
            fail_msg("ipcn_pattern_match(\"%s\", \"%s\") = %d, want %d", t[i].pat,
                     t[i].path, got, t[i].want);
    }
    assert_int_equal(ipcn_pattern_match(NULL, "a"), 0);
    assert_int_equal(ipcn_pattern_match("a", NULL), 0);
}

/* ------------------------------------------------------------------ */
/* Query                                                               */
/* ------------------------------------------------------------------ */

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_query_remote(void **state)
{
    (void)state;
    ipcn_node *n = v_open("qt", NULL);
    v_spawn("qh", "data:q/d:text/plain", "stream:q/s", "echo:q/svc", NULL);
    v_wait_helper(n, "qh");
    ipcn_msg *const sentinel = (ipcn_msg *)(uintptr_t)0x1;
    ipcn_msg *m = sentinel;
    assert_int_equal(ipcn_query(n, "q/d", &m, V_WAIT_MS), IPCN_NO_DATA);
    assert_ptr_equal(m, sentinel);

    assert_int_equal(v_ctl(n, "qh", NULL, "pub q/d hello"), IPCN_OK);
    uint64_t before = realtime_ns();
    m = NULL;
    assert_int_equal(ipcn_query(n, "q/d", &m, V_WAIT_MS), IPCN_OK);
    assert_non_null(m);
    assert_int_equal(m->status, IPCN_OK);
    assert_string_equal(m->path, "q/d");
    assert_int_equal(m->len, 5);
    assert_memory_equal(m->data, "hello", 5);
    assert_int_equal(((const char *)m->data)[5], 0);
    assert_string_equal(m->encoding, "text/plain");
    assert_int_equal(m->seq, 1);
    assert_string_equal(m->src_name, "qh");
    assert_true(m->src_id == v_peer(n, "qh").id);
    /* Published (by the realtime clock) shortly before; allow for skew. */
    assert_true(m->timestamp_ns != 0);
    assert_true(m->timestamp_ns < before + 60000000000ull);
    assert_true(m->timestamp_ns + 3600000000000ull > before);
    uint64_t t1 = m->timestamp_ns;
    ipcn_msg_free(m);

    assert_int_equal(v_ctl(n, "qh", NULL, "pub q/d again"), IPCN_OK);
    m = NULL;
    assert_int_equal(ipcn_query(n, "q/d", &m, V_WAIT_MS), IPCN_OK);
    assert_string_equal(m->data, "again");
    assert_int_equal(m->seq, 2);
    assert_true(m->timestamp_ns >= t1);
    ipcn_msg_free(m);
    ipcn_msg_free(NULL);

    m = sentinel;
    assert_int_equal(ipcn_query(n, "q/none", &m, V_WAIT_MS), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_query(n, "q/s", &m, V_WAIT_MS), IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_query(n, "q/svc", &m, V_WAIT_MS), IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_query(n, "q//d", &m, V_WAIT_MS), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_query(n, "q/*", &m, V_WAIT_MS), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_query(n, NULL, &m, V_WAIT_MS), IPCN_BAD_REQUEST);
    assert_ptr_equal(m, sentinel);
    assert_int_equal(ipcn_query(n, "q/d", NULL, V_WAIT_MS), IPCN_BAD_REQUEST);
}

static void test_query_local(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ql", NULL);
    assert_int_equal(ipcn_announce(n, "ql/d", IPCN_DATA, "text/plain", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "ql/s", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_offer(n, "ql/svc", NULL, dummy_handler, NULL),
                     IPCN_OK);
    ipcn_msg *const sentinel = (ipcn_msg *)(uintptr_t)0x1;
    ipcn_msg *m = sentinel;
    assert_int_equal(ipcn_query(n, "ql/d", &m, 0), IPCN_NO_DATA);
    assert_int_equal(ipcn_query(n, "ql/s", &m, 0), IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_query(n, "ql/svc", &m, 0), IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_query(n, "ql/none", &m, 0), IPCN_NOT_FOUND);
    assert_ptr_equal(m, sentinel);
    assert_int_equal(ipcn_publish(n, "ql/d", "v1", 2), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "ql/d", "v2", 2), IPCN_OK);
    m = NULL;
    /* Answered without I/O: even a zero timeout is enough. */
    assert_int_equal(ipcn_query(n, "ql/d", &m, 0), IPCN_OK);
    assert_non_null(m);
    assert_string_equal(m->data, "v2");
    assert_int_equal(m->seq, 2);
    assert_string_equal(m->src_name, "ql");
    assert_true(m->src_id == ipcn_node_id(n));
    assert_string_equal(m->encoding, "text/plain");
    assert_true(m->timestamp_ns != 0);
    ipcn_msg_free(m);
}

static void test_query_from_helper(void **state)
{
    (void)state;
    ipcn_node *n = v_open("qft", NULL);
    assert_int_equal(ipcn_announce(n, "qf/d", IPCN_DATA, "text/plain", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "qf/e", IPCN_DATA, "text/plain", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_publish(n, "qf/d", "xyz", 3), IPCN_OK);
    v_spawn("qfh", NULL);
    v_wait_helper(n, "qfh");
    v_async a;
    assert_int_equal(v_ctl_async(n, "qfh", &a, "query qf/d 3000"), IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_int_equal(a.status, IPCN_OK);
    assert_string_equal(a.body, "1 xyz");
    assert_string_equal(a.encoding, "text/plain");
    assert_int_equal(v_ctl_async(n, "qfh", &a, "query qf/e 3000"), IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_int_equal(a.status, IPCN_NO_DATA);
    assert_int_equal(v_ctl_async(n, "qfh", &a, "query qf/none 3000"), IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_int_equal(a.status, IPCN_NOT_FOUND);
}

static ipcn_node_opts slow_heartbeat(void)
{
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.heartbeat_ms = 5000;
    o.dead_after_ms = 30000;
    return o;
}

static void test_query_timeout(void **state)
{
    (void)state;
    ipcn_node_opts o = slow_heartbeat();
    ipcn_node *n = v_open("qto", &o);
    pid_t h = v_spawn("qth", "hb=5000", "dead=30000", "data:q/d", "pub:q/d:x", NULL);
    v_wait_helper(n, "qth");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(n, "q/d", &m, V_WAIT_MS), IPCN_OK);
    ipcn_msg_free(m);

    assert_int_equal(kill(h, SIGSTOP), 0);
    ipcn_msg *const sentinel = (ipcn_msg *)(uintptr_t)0x1;
    m = sentinel;
    uint64_t t0 = tu_now_ms();
    assert_int_equal(ipcn_query(n, "q/d", &m, 300), IPCN_GATEWAY_TIMEOUT);
    assert_true(tu_now_ms() - t0 >= 290);
    assert_ptr_equal(m, sentinel);
    assert_int_equal(kill(h, SIGCONT), 0);

    /* The provider is back: its late answer is ignored, a new query works. */
    m = NULL;
    assert_int_equal(ipcn_query(n, "q/d", &m, V_WAIT_MS), IPCN_OK);
    assert_string_equal(m->data, "x");
    ipcn_msg_free(m);
}

struct blocked_call {
    ipcn_node *n;
    const char *path;
    int request; /* 0: query */
    int timeout_ms;
    int status;
    ipcn_msg *out;
};

static void *blocked_call_main(void *arg)
{
    struct blocked_call *b = arg;
    if (b->request)
        b->status = ipcn_request(b->n, b->path, "x", 1, NULL, &b->out, b->timeout_ms);
    else
        b->status = ipcn_query(b->n, b->path, &b->out, b->timeout_ms);
    return NULL;
}

/* Wait until n has sent a frame more than it had when base was taken (the
 * blocked call's query or request: heartbeats are slow in these tests). */
static void wait_sent(ipcn_node *n, uint64_t base)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        ipcn_node_stats ns = {.size = sizeof ns};
        assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
        if (ns.frames_out > base)
            return;
        if (tu_now_ms() >= end)
            fail_msg("the call was not sent");
        usleep(2000);
    }
}

static uint64_t frames_out(ipcn_node *n)
{
    ipcn_node_stats ns = {.size = sizeof ns};
    assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    return ns.frames_out;
}

static void test_query_provider_dies(void **state)
{
    (void)state;
    ipcn_node_opts o = slow_heartbeat();
    ipcn_node *n = v_open("qdt", &o);
    pid_t h = v_spawn("qdh", "hb=5000", "dead=30000", "data:q/d", "pub:q/d:x", NULL);
    v_wait_helper(n, "qdh");
    assert_int_equal(kill(h, SIGSTOP), 0); /* so that it cannot answer */
    static struct blocked_call b;
    b = (struct blocked_call){.n = n, .path = "q/d", .timeout_ms = 20000};
    uint64_t base = frames_out(n);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_call_main, &b), 0);
    wait_sent(n, base);
    v_kill(h);
    pthread_join(t, NULL);
    assert_int_equal(b.status, IPCN_SERVICE_UNAVAILABLE);
    assert_null(b.out);
    assert_true(v_wait_count(n, "q/d", IPCN_ANY, 0, V_WAIT_MS));
}

/* The provider withdraws while a query waits for it.  Both nodes are in
 * this process, so that the provider demonstrably has not answered. */
static void test_query_provider_withdraws(void **state)
{
    (void)state;
    ipcn_node_opts o = slow_heartbeat();
    ipcn_node *p = v_open("qwp", &o);
    ipcn_node *c = v_open("qwc", &o);
    assert_int_equal(ipcn_announce(p, "q/w", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_publish(p, "q/w", "x", 1), IPCN_OK);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (v_count(c, "q/w", IPCN_DATA) != 1 && tu_now_ms() < end) {
        ipcn_node_dispatch(p, 5);
        ipcn_node_dispatch(c, 5);
    }
    assert_int_equal(v_count(c, "q/w", IPCN_DATA), 1);
    static struct blocked_call b;
    b = (struct blocked_call){.n = c, .path = "q/w", .timeout_ms = 20000};
    uint64_t base = frames_out(c);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_call_main, &b), 0);
    wait_sent(c, base);
    assert_int_equal(ipcn_withdraw(p, "q/w"), IPCN_OK);
    pthread_join(t, NULL);
    assert_int_equal(b.status, IPCN_SERVICE_UNAVAILABLE);
    assert_null(b.out);
}

/* ------------------------------------------------------------------ */
/* Publish and subscribe                                               */
/* ------------------------------------------------------------------ */

static void test_pubsub_remote_order(void **state)
{
    (void)state;
    ipcn_node *n = v_open("pst", NULL);
    v_spawn("pso", "stream:ps/s:application/x-test", NULL);
    v_wait_helper(n, "pso");
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "ps/*", 0, v_collect, c, &sub), IPCN_OK);
    uint64_t before = realtime_ns();
    assert_int_equal(v_ctl(n, "pso", NULL, "burst ps/s 50"), IPCN_OK);
    assert_true(v_wait_samples(n, c, 50, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(v_coll_count(c), 50);
    uint64_t hid = v_peer(n, "pso").id;
    for (int i = 0; i < 50; i++) {
        const v_sample *s = &c->s[i];
        char want[16];
        snprintf(want, sizeof want, "v%d", i + 1);
        assert_int_equal(s->status, IPCN_OK);
        assert_int_equal(s->seq, (uint64_t)i + 1);
        assert_string_equal(s->data, want);
        assert_string_equal(s->path, "ps/s");
        assert_string_equal(s->enc, "application/x-test");
        assert_string_equal(s->src, "pso");
        assert_true(s->src_id == hid);
        assert_true(s->ts + 3600000000000ull > before);
        if (i)
            assert_true(s->ts >= c->s[i - 1].ts);
    }
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 50);
    assert_int_equal(ss.delivered, 50);
    assert_int_equal(ss.dropped, 0);
    assert_int_equal(ss.lost, 0);
    assert_int_equal(ss.queued, 0);
    v_coll_free(c);
}

static void test_pubsub_patterns(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ppt", NULL);
    v_spawn("ppa", "stream:pp/a/x", "stream:pp/b/x", "stream:pp/a/y", "data:pp/a/d",
            NULL);
    v_wait_helper(n, "ppa");
    v_coll *c1 = v_coll_new(), *c2 = v_coll_new(), *c3 = v_coll_new();
    ipcn_sub s1, s2, s3, s4;
    assert_int_equal(ipcn_subscribe(n, "pp/*/x", 0, v_collect, c1, &s1), IPCN_OK);
    assert_int_equal(ipcn_subscribe(n, "pp/**", 0, v_collect, c2, &s2), IPCN_OK);
    assert_int_equal(ipcn_subscribe(n, "pp/a/d", 0, v_collect, c3, &s3), IPCN_OK);
    assert_true(s1.id != s2.id && s2.id != s3.id && s1.id != s3.id);
    ipcn_sub bad = {4242};
    assert_int_equal(ipcn_subscribe(n, "pp/**x", 0, v_collect, c1, &bad), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_subscribe(n, "", 0, v_collect, c1, &bad), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_subscribe(n, NULL, 0, v_collect, c1, &bad), IPCN_BAD_REQUEST);
    assert_int_equal(bad.id, 4242);
    /* A pattern nothing matches yet is fine. */
    assert_int_equal(ipcn_subscribe(n, "nothing/**", 0, v_collect, c3, &s4), IPCN_OK);
    const char *paths[] = {"pp/a/x", "pp/b/x", "pp/a/y", "pp/a/d"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(v_ctl(n, "ppa", NULL, "burst %s 2", paths[i]), IPCN_OK);
    assert_true(v_wait_samples(n, c2, 8, V_WAIT_MS));
    assert_true(v_wait_samples(n, c1, 4, V_WAIT_MS));
    assert_true(v_wait_samples(n, c3, 2, V_WAIT_MS));
    v_pump(n, 100);
    assert_int_equal(v_coll_count(c1), 4);
    assert_int_equal(v_coll_count(c2), 8);
    assert_int_equal(v_coll_count(c3), 2);
    for (int i = 0; i < 4; i++)
        assert_true(ipcn_pattern_match("pp/*/x", c1->s[i].path));
    assert_string_equal(c3->s[0].path, "pp/a/d");
    assert_int_equal(c3->s[1].seq, 2);
    v_coll_free(c1);
    v_coll_free(c2);
    v_coll_free(c3);
}

static void test_pubsub_to_helper(void **state)
{
    (void)state;
    ipcn_node *n = v_open("pth", NULL);
    assert_int_equal(ipcn_announce(n, "pt/s", IPCN_STREAM, "text/plain", NULL, 0),
                     IPCN_CREATED);
    v_spawn("phh", NULL);
    v_wait_helper(n, "phh");
    ipcn_msg *m = NULL;
    assert_int_equal(v_ctl(n, "phh", &m, "sub pt/** 16"), IPCN_OK);
    unsigned id = (unsigned)atoi(m->data);
    ipcn_msg_free(m);
    assert_int_equal(ipcn_publish(n, "pt/s", "a", 1), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "pt/s", "b", 1), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "pt/s", "c", 1), IPCN_OK);
    const char *want[] = {"100 1 pt/s pth a", "100 2 pt/s pth b", "100 3 pt/s pth c"};
    for (int i = 0; i < 3; i++) {
        m = NULL;
        assert_int_equal(v_ctl(n, "phh", &m, "take %u 2000", id), IPCN_OK);
        assert_non_null(m);
        assert_string_equal(m->data, want[i]);
        assert_string_equal(m->encoding, "text/plain");
        ipcn_msg_free(m);
    }
    assert_int_equal(v_ctl(n, "phh", NULL, "take %u 100", id), IPCN_NO_DATA);
    m = NULL;
    assert_int_equal(v_ctl(n, "phh", &m, "substats %u", id), IPCN_OK);
    assert_string_equal(m->data, "3 3 0 0 0");
    ipcn_msg_free(m);
}

static void test_sub_queue_depth_callback(void **state)
{
    (void)state;
    ipcn_node *n = v_open("qdt", NULL);
    v_spawn("qdh", "stream:qd/s", NULL);
    v_wait_helper(n, "qdh");
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "qd/s", 4, v_collect, c, &sub), IPCN_OK);
    /* A synchronous control request runs no callback: the burst, which
     * arrives before its answer, all lands in the queue. */
    assert_int_equal(v_ctl(n, "qdh", NULL, "burst qd/s 10"), IPCN_OK);
    assert_int_equal(v_coll_count(c), 0);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 10);
    assert_int_equal(ss.queued, 4);
    assert_int_equal(ss.dropped, 6);
    assert_int_equal(ss.delivered, 0);
    assert_int_equal(ss.lost, 0);
    assert_true(v_wait_samples(n, c, 4, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(v_coll_count(c), 4);
    for (int i = 0; i < 4; i++) {
        char want[8];
        snprintf(want, sizeof want, "v%d", 7 + i);
        assert_int_equal(c->s[i].seq, (uint64_t)(7 + i)); /* the oldest went */
        assert_string_equal(c->s[i].data, want);
    }
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 10);
    assert_int_equal(ss.delivered, 4);
    assert_int_equal(ss.dropped, 6);
    assert_int_equal(ss.queued, 0);
    v_coll_free(c);
}

static void test_sub_queue_depth_take(void **state)
{
    (void)state;
    ipcn_node *n = v_open("qtt", NULL);
    v_spawn("qth", "stream:qt/s", NULL);
    v_wait_helper(n, "qth");
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "qt/s", 3, NULL, NULL, &sub), IPCN_OK);
    assert_int_equal(v_ctl(n, "qth", NULL, "burst qt/s 7"), IPCN_OK);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 7);
    assert_int_equal(ss.queued, 3);
    assert_int_equal(ss.dropped, 4);
    for (int i = 5; i <= 7; i++) {
        ipcn_msg *m = NULL;
        assert_int_equal(ipcn_sub_take(n, sub, &m, 0), IPCN_OK);
        assert_int_equal(m->seq, (uint64_t)i);
        char want[8];
        snprintf(want, sizeof want, "v%d", i);
        assert_string_equal(m->data, want);
        ipcn_msg_free(m);
    }
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_sub_take(n, sub, &m, 0), IPCN_NO_DATA);
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.delivered, 3);
    assert_int_equal(ss.queued, 0);
}

static void test_sub_take_statuses(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tkt", NULL);
    v_spawn("tkh", "stream:tk/s:text/plain", NULL);
    v_wait_helper(n, "tkh");
    ipcn_sub sub, cbsub;
    assert_int_equal(ipcn_subscribe(n, "tk/**", 0, NULL, NULL, &sub), IPCN_OK);
    v_coll *c = v_coll_new();
    assert_int_equal(ipcn_subscribe(n, "tk/**", 0, v_collect, c, &cbsub), IPCN_OK);
    ipcn_msg *const sentinel = (ipcn_msg *)(uintptr_t)0x1;
    ipcn_msg *m = sentinel;
    assert_int_equal(ipcn_sub_take(n, sub, &m, 0), IPCN_NO_DATA);
    uint64_t t0 = tu_now_ms();
    assert_int_equal(ipcn_sub_take(n, sub, &m, 100), IPCN_NO_DATA);
    assert_true(tu_now_ms() - t0 >= 90);
    assert_ptr_equal(m, sentinel);

    assert_int_equal(v_ctl(n, "tkh", NULL, "burst tk/s 3"), IPCN_OK);
    for (int i = 1; i <= 3; i++) {
        m = NULL;
        assert_int_equal(ipcn_sub_take(n, sub, &m, 0), IPCN_OK);
        assert_int_equal(m->status, IPCN_OK);
        assert_int_equal(m->seq, (uint64_t)i);
        assert_string_equal(m->src_name, "tkh");
        assert_string_equal(m->encoding, "text/plain");
        assert_string_equal(m->path, "tk/s");
        ipcn_msg_free(m);
    }
    /* take waits, dispatching I/O meanwhile: the sample comes during it. */
    v_async a;
    assert_int_equal(v_ctl_async(n, "tkh", &a, "burst tk/s 1"), IPCN_ACCEPTED);
    m = NULL;
    assert_int_equal(ipcn_sub_take(n, sub, &m, V_WAIT_MS), IPCN_OK);
    assert_int_equal(m->seq, 4);
    ipcn_msg_free(m);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_int_equal(a.status, IPCN_OK);

    m = sentinel;
    assert_int_equal(ipcn_sub_take(n, cbsub, &m, 0), IPCN_BAD_REQUEST);
    ipcn_sub unknown = {sub.id + cbsub.id + 1000};
    assert_int_equal(ipcn_sub_take(n, unknown, &m, 0), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_unsubscribe(n, sub), IPCN_OK);
    assert_int_equal(ipcn_sub_take(n, sub, &m, 0), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_sub_take(n, sub, &m, 50), IPCN_NOT_FOUND);
    assert_ptr_equal(m, sentinel);
    v_pump(n, 50);
    v_coll_free(c);
}

static void test_unsubscribe(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ust", NULL);
    v_spawn("ush", "stream:us/s", NULL);
    v_wait_helper(n, "ush");
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "us/s", 0, v_collect, c, &sub), IPCN_OK);
    assert_int_equal(v_ctl(n, "ush", NULL, "burst us/s 3"), IPCN_OK);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.queued, 3);
    /* Queued samples are not delivered after unsubscribing. */
    assert_int_equal(ipcn_unsubscribe(n, sub), IPCN_OK);
    v_pump(n, 100);
    assert_int_equal(v_coll_count(c), 0);
    assert_int_equal(ipcn_unsubscribe(n, sub), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_NOT_FOUND);
    assert_int_equal(v_ctl(n, "ush", NULL, "burst us/s 3"), IPCN_OK);
    v_pump(n, 100);
    assert_int_equal(v_coll_count(c), 0);
    /* Subscribing again works, with a new id. */
    ipcn_sub again;
    assert_int_equal(ipcn_subscribe(n, "us/s", 0, v_collect, c, &again), IPCN_OK);
    assert_true(again.id != sub.id);
    assert_int_equal(v_ctl(n, "ush", NULL, "burst us/s 1"), IPCN_OK);
    assert_true(v_wait_samples(n, c, 1, V_WAIT_MS));
    assert_int_equal(c->s[0].seq, 7);
    v_coll_free(c);
}

static void test_publish_statuses(void **state)
{
    (void)state;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.max_payload = 4096;
    ipcn_node *n = v_open("pbt", &o);
    v_spawn("pbh", "stream:pb/r", NULL);
    v_wait_helper(n, "pbh");
    assert_int_equal(ipcn_announce(n, "pb/s", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "pb/d", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_offer(n, "pb/svc", NULL, dummy_handler, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_publish(n, "pb/none", "x", 1), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_publish(n, "pb/r", "x", 1), IPCN_NOT_FOUND); /* not ours */
    assert_int_equal(ipcn_publish(n, "pb/svc", "x", 1), IPCN_METHOD_NOT_ALLOWED);
    static char big[8192];
    assert_int_equal(ipcn_publish(n, "pb/s", big, sizeof big), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_publish(n, "pb/d", big, sizeof big), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_publish(n, "pb/s", big, 100), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "pb/s", NULL, 0), IPCN_OK);
    /* The too-large value did not become the current one. */
    ipcn_msg *const sentinel = (ipcn_msg *)(uintptr_t)0x1;
    ipcn_msg *m = sentinel;
    assert_int_equal(ipcn_query(n, "pb/d", &m, 0), IPCN_NO_DATA);
    assert_int_equal(ipcn_withdraw(n, "pb/s"), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "pb/s", "x", 1), IPCN_NOT_FOUND);
}

static void test_local_subscriber(void **state)
{
    (void)state;
    ipcn_node *n = v_open("lst", NULL);
    assert_int_equal(ipcn_announce(n, "ls/s", IPCN_STREAM, "text/plain", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "ls/d", IPCN_DATA, "text/csv", NULL, 0),
                     IPCN_CREATED);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "ls/**", 0, v_collect, c, &sub), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "ls/s", "one", 3), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "ls/s", "two", 3), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "ls/d", "1,2", 3), IPCN_OK);
    assert_int_equal(v_coll_count(c), 0); /* only dispatch runs callbacks */
    assert_true(v_wait_samples(n, c, 3, V_WAIT_MS));
    assert_string_equal(c->s[0].data, "one");
    assert_int_equal(c->s[0].seq, 1);
    assert_string_equal(c->s[1].data, "two");
    assert_int_equal(c->s[1].seq, 2);
    assert_string_equal(c->s[2].data, "1,2");
    assert_int_equal(c->s[2].seq, 1);
    assert_string_equal(c->s[2].enc, "text/csv");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c->s[i].status, IPCN_OK);
        assert_string_equal(c->s[i].src, "lst");
        assert_true(c->s[i].src_id == ipcn_node_id(n));
        assert_true(c->s[i].ts != 0);
    }
    assert_string_equal(c->s[0].enc, "text/plain");
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 3);
    assert_int_equal(ss.delivered, 3);

    /* Local and remote subscribers of one stream at once. */
    v_spawn("lsh", NULL);
    v_wait_helper(n, "lsh");
    ipcn_msg *m = NULL;
    assert_int_equal(v_ctl(n, "lsh", &m, "sub ls/s 16"), IPCN_OK);
    unsigned id = (unsigned)atoi(m->data);
    ipcn_msg_free(m);
    assert_int_equal(ipcn_publish(n, "ls/s", "three", 5), IPCN_OK);
    m = NULL;
    assert_int_equal(v_ctl(n, "lsh", &m, "take %u 2000", id), IPCN_OK);
    assert_string_equal(m->data, "100 3 ls/s lst three");
    ipcn_msg_free(m);
    assert_true(v_wait_samples(n, c, 4, V_WAIT_MS));
    assert_string_equal(c->s[3].data, "three");
    v_coll_free(c);
}

/* A publisher whose link to a subscriber is saturated drops samples; both
 * sides count them (tx_limit on the helper, a gap in seq here). */
static void test_pubsub_drops_counted(void **state)
{
    (void)state;
    ipcn_node *n = v_open("drt", NULL);
    v_spawn("drh", "txlimit=65536", "stream:dr/s", NULL);
    v_wait_helper(n, "drh");
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "dr/s", 1000, NULL, NULL, &sub), IPCN_OK);
    char file[400];
    snprintf(file, sizeof file, "%s/%s-burst-done", tu_dir, v_network);
    v_async a;
    /* Below IPCN_SHM_THRESHOLD: these go inline, through the socket. */
    assert_int_equal(v_ctl_async(n, "drh", &a, "burst dr/s 100 8192 %s", file),
                     IPCN_ACCEPTED);
    /* Do not read while the helper bursts: 800 KB cannot all fit. */
    uint64_t end = tu_now_ms() + 10000;
    while (access(file, F_OK) != 0) {
        if (tu_now_ms() >= end)
            fail_msg("the helper did not finish its burst");
        usleep(5000);
    }
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_int_equal(a.status, IPCN_OK);
    assert_int_equal(v_ctl(n, "drh", NULL, "pub dr/s end"), IPCN_OK);
    int got = 0;
    uint64_t last = 0;
    for (;;) {
        ipcn_msg *m = NULL;
        int st = ipcn_sub_take(n, sub, &m, V_WAIT_MS);
        assert_int_equal(st, IPCN_OK);
        got++;
        assert_true(m->seq > last);
        last = m->seq;
        int done = !strcmp(m->data, "end");
        ipcn_msg_free(m);
        if (done)
            break;
    }
    assert_int_equal(last, 101);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, (uint64_t)got);
    assert_int_equal(ss.dropped, 0);
    assert_true(ss.lost > 0);
    assert_int_equal(ss.received + ss.lost, 101);
    ipcn_msg *m = NULL;
    assert_int_equal(v_ctl(n, "drh", &m, "stats"), IPCN_OK);
    unsigned long long drops = strtoull(m->data, NULL, 10);
    ipcn_msg_free(m);
    assert_int_equal(drops, ss.lost);
}

/* ------------------------------------------------------------------ */
/* Services                                                            */
/* ------------------------------------------------------------------ */

/* A caller that only makes synchronous requests (it never dispatches)
 * still sees its provider die and the next one come. */
static void test_request_only_caller(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rot", NULL);
    pid_t first = v_spawn("ro1", "echo:ro/echo", NULL);
    v_wait_helper(n, "ro1");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "ro/echo", "a", 1, "text/plain", &m, V_WAIT_MS),
                     IPCN_OK);
    ipcn_msg_free(m);
    v_kill(first);
    /* Its hang-up waits to be read: the requests themselves read it, and
     * the service is then gone (203), not unavailable forever (303). */
    int st = 0;
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (tu_now_ms() < end) {
        m = NULL;
        st = ipcn_request(n, "ro/echo", "b", 1, "text/plain", &m, 500);
        ipcn_msg_free(m);
        if (st == IPCN_NOT_FOUND)
            break;
        assert_int_equal(st, IPCN_SERVICE_UNAVAILABLE);
        usleep(20000);
    }
    assert_int_equal(st, IPCN_NOT_FOUND);
    v_spawn("ro2", "echo:ro/echo", NULL);
    end = tu_now_ms() + V_WAIT_MS;
    while (tu_now_ms() < end) {
        ipcn_node_wait_synced(n, 200);
        m = NULL;
        st = ipcn_request(n, "ro/echo", "b", 1, "text/plain", &m, 500);
        if (st == IPCN_OK)
            break;
        assert_true(st == IPCN_SERVICE_UNAVAILABLE || st == IPCN_NOT_FOUND);
        ipcn_msg_free(m);
        usleep(20000);
    }
    assert_int_equal(st, IPCN_OK);
    assert_string_equal(m->src_name, "ro2");
    ipcn_msg_free(m);
}

static void test_request_basic(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rbt", NULL);
    v_spawn("rb", "echo:rb/echo", NULL);
    v_wait_helper(n, "rb");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "rb/echo", "ping", 4, "text/plain", &m, V_WAIT_MS),
                     IPCN_OK);
    assert_non_null(m);
    assert_int_equal(m->status, IPCN_OK);
    assert_string_equal(m->path, "rb/echo");
    assert_int_equal(m->len, 4);
    assert_memory_equal(m->data, "ping", 4);
    assert_int_equal(((const char *)m->data)[4], 0);
    assert_string_equal(m->encoding, "text/plain");
    assert_string_equal(m->src_name, "rb");
    assert_true(m->src_id == v_peer(n, "rb").id);
    ipcn_msg_free(m);

    /* An empty body, no encoding. */
    m = NULL;
    assert_int_equal(ipcn_request(n, "rb/echo", NULL, 0, NULL, &m, V_WAIT_MS), IPCN_OK);
    assert_int_equal(m->len, 0);
    assert_non_null(m->data);
    assert_int_equal(((const char *)m->data)[0], 0);
    assert_string_equal(m->encoding, "");
    ipcn_msg_free(m);

    /* Binary and large bodies come back intact. */
    size_t big = 1u << 20;
    unsigned char *buf = malloc(big);
    assert_non_null(buf);
    for (size_t i = 0; i < big; i++)
        buf[i] = (unsigned char)(i * 31 + (i >> 8));
    m = NULL;
    assert_int_equal(ipcn_request(n, "rb/echo", buf, big, "application/octet-stream",
                                  &m, V_WAIT_MS),
                     IPCN_OK);
    assert_int_equal(m->len, big);
    assert_memory_equal(m->data, buf, big);
    ipcn_msg_free(m);
    free(buf);
}

static void test_request_error_passthrough(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ret", NULL);
    v_spawn("re", "err:re/err", "app:re/app", NULL);
    v_wait_helper(n, "re");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "re/err", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_FORBIDDEN);
    assert_non_null(m); /* set whenever a provider answered */
    assert_int_equal(m->status, IPCN_FORBIDDEN);
    assert_string_equal(m->data, "denied");
    assert_string_equal(m->encoding, "text/plain");
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(ipcn_request(n, "re/app", "x", 1, NULL, &m, V_WAIT_MS), 1234);
    assert_non_null(m);
    assert_int_equal(m->status, 1234);
    assert_string_equal(m->data, "app-error");
    assert_string_equal(m->src_name, "re");
    ipcn_msg_free(m);
    assert_string_equal(ipcn_status_str(1234), "Application Status");
}

/* A handler's status goes out as it is when it is 100, an error of the
 * table or an application code 1000..65535; anything else as 300. */
static const struct {
    int ret, want;
} handler_statuses[] = {
    {100, 100},   {202, 202}, {204, 204}, {303, 303},  {309, 309},
    {1000, 1000}, {4242, 4242}, {65535, 65535}, {-5, 300}, {0, 300},
    {99, 300},    {250, 300}, {999, 300}, {65536, 300}, {70000, 300},
    {102, 300}, /* "accepted" without a responder taken */
};

static int status_handler(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                          void *user)
{
    (void)n, (void)user;
    ipcn_reply_set(ctx, "s", 1, "text/plain");
    return atoi(req->data);
}

static void test_request_handler_status_range(void **state)
{
    (void)state;
    ipcn_node *n = v_open("hst", NULL);
    assert_int_equal(ipcn_offer(n, "hs/local", NULL, status_handler, NULL), IPCN_OK);
    v_spawn("hsh", "status:hs/remote", NULL);
    v_wait_helper(n, "hsh");
    int bad = 0;
    for (size_t i = 0; i < sizeof handler_statuses / sizeof handler_statuses[0]; i++) {
        const char *paths[] = {"hs/remote", "hs/local"};
        for (int k = 0; k < 2; k++) {
            char body[16];
            snprintf(body, sizeof body, "%d", handler_statuses[i].ret);
            ipcn_msg *m = NULL;
            int st = ipcn_request(n, paths[k], body, strlen(body), NULL, &m, V_WAIT_MS);
            if (st != handler_statuses[i].want || !m || m->status != st) {
                fprintf(stderr, "%s: handler returned %d: request gave %d "
                                "(msg status %d), want %d\n",
                        paths[k], handler_statuses[i].ret, st, m ? m->status : -1,
                        handler_statuses[i].want);
                bad++;
            }
            ipcn_msg_free(m);
        }
    }
    assert_int_equal(bad, 0);
}

static void test_request_statuses(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rst", NULL);
    v_spawn("rs", "data:rs/d", "stream:rs/s", NULL);
    v_wait_helper(n, "rs");
    assert_int_equal(ipcn_announce(n, "rs/own", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    ipcn_msg *const sentinel = (ipcn_msg *)(uintptr_t)0x1;
    ipcn_msg *m = sentinel;
    assert_int_equal(ipcn_request(n, "rs/none", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_request(n, "rs/d", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_request(n, "rs/s", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_request(n, "rs/own", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_request(n, "rs//x", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_request(n, NULL, "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
    char e256[257];
    memset(e256, 'e', 256);
    e256[256] = 0;
    assert_int_equal(ipcn_request(n, "ctl/rs", "x", 1, e256, &m, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_request(n, "ctl/rs", NULL, 5, NULL, &m, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
    assert_ptr_equal(m, sentinel);
    assert_int_equal(ipcn_request(n, "ctl/rs", "x", 1, NULL, NULL, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
}

static void test_request_timeout(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rtt", NULL);
    v_spawn("rth", "hole:rt/hole", "echo:rt/echo", NULL);
    v_wait_helper(n, "rth");
    ipcn_msg *const sentinel = (ipcn_msg *)(uintptr_t)0x1;
    ipcn_msg *m = sentinel;
    uint64_t t0 = tu_now_ms();
    assert_int_equal(ipcn_request(n, "rt/hole", "x", 1, NULL, &m, 300),
                     IPCN_GATEWAY_TIMEOUT);
    assert_true(tu_now_ms() - t0 >= 290);
    assert_ptr_equal(m, sentinel);
    m = NULL;
    assert_int_equal(ipcn_request(n, "rt/echo", "y", 1, NULL, &m, V_WAIT_MS), IPCN_OK);
    assert_string_equal(m->data, "y");
    ipcn_msg_free(m);
}

static void test_request_deferred_remote(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rdt", NULL);
    v_spawn("rdl", "later:rd/later", NULL);
    v_wait_helper(n, "rdl");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "rd/later", "x", 1, NULL, &m, V_WAIT_MS), IPCN_OK);
    assert_string_equal(m->data, "later:x");
    assert_string_equal(m->encoding, "text/plain");
    ipcn_msg_free(m);
    /* Several at once, answered in any order, each to its own caller. */
    v_async a[5];
    for (int i = 0; i < 5; i++) {
        char body[8];
        snprintf(body, sizeof body, "b%d", i);
        memset(&a[i], 0, sizeof a[i]);
        assert_int_equal(ipcn_request_async(n, "rd/later", body, strlen(body), NULL,
                                            V_WAIT_MS, v_async_cb, &a[i], NULL),
                         IPCN_ACCEPTED);
    }
    for (int i = 0; i < 5; i++) {
        char want[16];
        snprintf(want, sizeof want, "later:b%d", i);
        assert_true(v_wait_flag(n, &a[i].done, V_WAIT_MS));
        assert_int_equal(a[i].status, IPCN_OK);
        assert_string_equal(a[i].body, want);
    }
}

/* A provider in this process that answers from another thread. */
struct deferrer {
    ipcn_node *n;
    pthread_t worker;
    int started;
    int handled;
    ipcn_responder resp;
    char body[64];
    int delay_ms;
    int answer;   /* 0: keep the responder, do not answer */
    int st1, st2; /* what the two ipcn_respond() calls returned */
    int done;
};

static void *deferrer_main(void *arg)
{
    struct deferrer *d = arg;
    usleep((useconds_t)d->delay_ms * 1000);
    char reply[80];
    int k = snprintf(reply, sizeof reply, "ok:%s", d->body);
    d->st1 = ipcn_respond(d->n, d->resp, IPCN_OK, reply, (size_t)k, "text/plain");
    d->st2 = ipcn_respond(d->n, d->resp, IPCN_OK, "again", 5, NULL);
    __atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int deferring_handler(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                             void *user)
{
    struct deferrer *d = user;
    d->n = n;
    snprintf(d->body, sizeof d->body, "%.*s", (int)req->len, (const char *)req->data);
    d->resp = ipcn_reply_defer(ctx);
    __atomic_store_n(&d->handled, 1, __ATOMIC_RELEASE);
    if (d->answer) {
        if (pthread_create(&d->worker, NULL, deferrer_main, d) != 0)
            return IPCN_INTERNAL_ERROR;
        d->started = 1;
    }
    return IPCN_ACCEPTED;
}

static void test_request_deferred_thread_respond(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rdr", NULL);
    static struct deferrer d; /* static: the worker may outlive a failure */
    memset(&d, 0, sizeof d);
    d.answer = 1;
    d.delay_ms = 20;
    assert_int_equal(ipcn_offer(n, "rdr/svc", "text/plain", deferring_handler, &d),
                     IPCN_OK);
    v_spawn("rdh", NULL);
    v_wait_helper(n, "rdh");
    v_async a;
    assert_int_equal(v_ctl_async(n, "rdh", &a, "request rdr/svc hi 5000"), IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_int_equal(a.status, IPCN_OK);
    assert_string_equal(a.body, "ok:hi");
    assert_string_equal(a.encoding, "text/plain");
    assert_true(d.started);
    pthread_join(d.worker, NULL);
    assert_int_equal(d.st1, IPCN_OK);
    assert_int_equal(d.st2, IPCN_NOT_FOUND); /* answered already */
    ipcn_responder bogus = {d.resp.id + 12345};
    assert_int_equal(ipcn_respond(n, bogus, IPCN_OK, NULL, 0, NULL), IPCN_NOT_FOUND);
}

/* ipcn_respond() to a requester that left: 303. */
static void test_respond_requester_left(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rrl", NULL);
    static struct deferrer d;
    memset(&d, 0, sizeof d);
    assert_int_equal(ipcn_offer(n, "rrl/svc", "text/plain", deferring_handler, &d),
                     IPCN_OK);
    pid_t h = v_spawn("rrh", NULL);
    v_wait_helper(n, "rrh");
    v_async a;
    assert_int_equal(v_ctl_async(n, "rrh", &a, "request rrl/svc hi 20000"),
                     IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &d.handled, V_WAIT_MS));
    v_kill(h);
    ipcn_node_stats ns = {.size = sizeof ns};
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    do {
        v_pump(n, 20);
        assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    } while (ns.peers && tu_now_ms() < end);
    assert_int_equal(ns.peers, 0);
    assert_int_equal(ipcn_respond(n, d.resp, IPCN_OK, "late", 4, NULL),
                     IPCN_SERVICE_UNAVAILABLE);
    /* The control request to the dead helper ended with 303. */
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_int_equal(a.status, IPCN_SERVICE_UNAVAILABLE);
}

static int echo_handler(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                        void *user)
{
    (void)n;
    if (user)
        __atomic_add_fetch((int *)user, 1, __ATOMIC_ACQ_REL);
    assert_int_equal(ipcn_reply_set(ctx, req->data, req->len, req->encoding), IPCN_OK);
    return IPCN_OK;
}

static void test_request_local_provider(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rlp", NULL);
    int calls = 0;
    assert_int_equal(ipcn_offer(n, "rl/echo", "text/plain", echo_handler, &calls),
                     IPCN_OK);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "rl/echo", "me", 2, "text/plain", &m, V_WAIT_MS),
                     IPCN_OK);
    assert_string_equal(m->data, "me");
    assert_string_equal(m->encoding, "text/plain");
    assert_string_equal(m->src_name, "rlp");
    assert_true(m->src_id == ipcn_node_id(n));
    assert_int_equal(m->status, IPCN_OK);
    ipcn_msg_free(m);
    assert_int_equal(calls, 1);

    v_async a = {0};
    ipcn_req req = {0};
    assert_int_equal(ipcn_request_async(n, "rl/echo", "as", 2, NULL, V_WAIT_MS,
                                        v_async_cb, &a, &req),
                     IPCN_ACCEPTED);
    assert_true(req.id != 0);
    assert_int_equal(a.calls, 0); /* never from inside the call */
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, IPCN_OK);
    assert_string_equal(a.body, "as");
    assert_int_equal(calls, 2);

    /* The local provider and a remote one: requests may go to either, and
     * each is answered. */
    v_spawn("rlh", "echo:rl/echo", NULL);
    v_wait_helper(n, "rlh");
    int local = 0, remote = 0;
    for (int i = 0; i < 10; i++) {
        m = NULL;
        assert_int_equal(ipcn_request(n, "rl/echo", "z", 1, NULL, &m, V_WAIT_MS), IPCN_OK);
        assert_string_equal(m->data, "z");
        if (!strcmp(m->src_name, "rlp"))
            local++;
        else if (!strcmp(m->src_name, "rlh"))
            remote++;
        ipcn_msg_free(m);
    }
    assert_int_equal(local + remote, 10);
}

/* A node requests its own service, whose handler answers from another
 * thread while the caller waits (with no timeout: the answer must wake it). */
struct local_call {
    ipcn_node *n;
    int status;
    ipcn_msg *out;
    int done;
};

static void *local_call_main(void *arg)
{
    struct local_call *lc = arg;
    lc->status = ipcn_request(lc->n, "rld/svc", "q", 1, NULL, &lc->out, -1);
    __atomic_store_n(&lc->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_request_local_deferred_from_thread(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rld", NULL);
    static struct deferrer d;
    memset(&d, 0, sizeof d);
    d.answer = 1;
    d.delay_ms = 50;
    assert_int_equal(ipcn_offer(n, "rld/svc", NULL, deferring_handler, &d), IPCN_OK);
    assert_int_equal(ipcn_announce(n, "rld/wake", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    /* A subscription with a callback: a sample for it wakes the node. */
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "rld/wake", 0, v_collect, c, &sub), IPCN_OK);
    static struct local_call lc;
    memset(&lc, 0, sizeof lc);
    lc.n = n;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, local_call_main, &lc), 0);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (!__atomic_load_n(&lc.done, __ATOMIC_ACQUIRE) && tu_now_ms() < end)
        usleep(5000);
    int woken = __atomic_load_n(&lc.done, __ATOMIC_ACQUIRE);
    if (!woken) {
        /* Unblock it (any wake-up of the node does) so the test can end. */
        ipcn_publish(n, "rld/wake", "w", 1);
    }
    pthread_join(t, NULL);
    if (d.started)
        pthread_join(d.worker, NULL);
    v_coll_free(c);
    assert_int_equal(d.st1, IPCN_OK);
    assert_int_equal(d.st2, IPCN_NOT_FOUND);
    if (!woken) {
        ipcn_msg_free(lc.out);
        fail_msg("ipcn_request() of the node's own deferred service did not "
                 "return after ipcn_respond() from another thread");
    }
    assert_int_equal(lc.status, IPCN_OK);
    assert_non_null(lc.out);
    assert_string_equal(lc.out->data, "ok:q");
    ipcn_msg_free(lc.out);
}

static void test_request_async(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rat", NULL);
    v_spawn("rah", "echo:ra/echo", "hole:ra/hole", NULL);
    v_wait_helper(n, "rah");
    v_async a = {0};
    ipcn_req req = {0};
    assert_int_equal(ipcn_request_async(n, "ra/echo", "hey", 3, "text/plain", V_WAIT_MS,
                                        v_async_cb, &a, &req),
                     IPCN_ACCEPTED);
    assert_int_equal(a.calls, 0);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    v_pump(n, 100);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, IPCN_OK);
    assert_true(a.has_reply);
    assert_string_equal(a.body, "hey");
    assert_string_equal(a.src, "rah");
    assert_int_equal(ipcn_request_cancel(n, req), IPCN_NOT_FOUND); /* answered */

    /* No out parameter is fine. */
    v_async b = {0};
    assert_int_equal(ipcn_request_async(n, "ra/echo", "x", 1, NULL, V_WAIT_MS,
                                        v_async_cb, &b, NULL),
                     IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &b.done, V_WAIT_MS));
    assert_int_equal(b.status, IPCN_OK);

    /* A timeout is a callback too, with no reply. */
    v_async c = {0};
    assert_int_equal(ipcn_request_async(n, "ra/hole", "x", 1, NULL, 200, v_async_cb,
                                        &c, NULL),
                     IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &c.done, V_WAIT_MS));
    v_pump(n, 100);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, IPCN_GATEWAY_TIMEOUT);
    assert_false(c.has_reply);
}

static void test_request_async_errors(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rae", NULL);
    v_spawn("raeh", "data:rae/d", NULL);
    v_wait_helper(n, "raeh");
    v_async a = {0};
    ipcn_req req = {777};
    assert_int_equal(ipcn_request_async(n, "rae/none", "x", 1, NULL, 1000, v_async_cb,
                                        &a, &req),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_request_async(n, "rae/d", "x", 1, NULL, 1000, v_async_cb, &a,
                                        &req),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_request_async(n, "rae//x", "x", 1, NULL, 1000, v_async_cb, &a,
                                        &req),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_request_async(n, "ctl/raeh", "x", 1, NULL, 1000, NULL, &a,
                                        &req),
                     IPCN_BAD_REQUEST);
    assert_int_equal(req.id, 777);
    v_pump(n, 100);
    assert_int_equal(a.calls, 0);
}

static void test_request_cancel(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rct", NULL);
    v_spawn("rch", "echo:rc/echo", "hole:rc/hole", NULL);
    v_wait_helper(n, "rch");
    v_async a = {0};
    ipcn_req req = {0};
    assert_int_equal(ipcn_request_async(n, "rc/hole", "x", 1, NULL, 300, v_async_cb, &a,
                                        &req),
                     IPCN_ACCEPTED);
    assert_int_equal(ipcn_request_cancel(n, req), IPCN_OK);
    assert_int_equal(ipcn_request_cancel(n, req), IPCN_NOT_FOUND);
    uint64_t end = tu_now_ms() + 600; /* past its timeout */
    while (tu_now_ms() < end)
        v_pump(n, 20);
    assert_int_equal(a.calls, 0);

    /* Cancelled after the answer came but before it was delivered: either
     * the cancel wins (100, no callback) or it was answered (203, and the
     * callback runs once). */
    v_async b = {0};
    assert_int_equal(ipcn_request_async(n, "rc/echo", "x", 1, NULL, V_WAIT_MS,
                                        v_async_cb, &b, &req),
                     IPCN_ACCEPTED);
    /* A synchronous request pumps I/O without running callbacks. */
    assert_int_equal(v_ctl(n, "rch", NULL, "stats"), IPCN_OK);
    int st = ipcn_request_cancel(n, req);
    v_pump(n, 100);
    if (st == IPCN_OK) {
        assert_int_equal(b.calls, 0);
    } else {
        assert_int_equal(st, IPCN_NOT_FOUND);
        assert_true(v_wait_flag(n, &b.done, V_WAIT_MS));
        assert_int_equal(b.calls, 1);
    }
    assert_int_equal(ipcn_request_cancel(n, req), IPCN_NOT_FOUND);

    ipcn_req unknown = {req.id + 99999};
    assert_int_equal(ipcn_request_cancel(n, unknown), IPCN_NOT_FOUND);
    ipcn_req zero = {0};
    assert_int_equal(ipcn_request_cancel(n, zero), IPCN_NOT_FOUND);
}

static void test_request_spread(void **state)
{
    (void)state;
    ipcn_node *n = v_open("spt", NULL);
    v_spawn("spa", "echo:sp/svc", NULL);
    v_spawn("spb", "echo:sp/svc", NULL);
    v_wait_helper(n, "spa");
    v_wait_helper(n, "spb");
    assert_int_equal(v_count(n, "sp/svc", IPCN_SERVICE), 2);
    int na = 0, nb = 0;
    for (int i = 0; i < 20; i++) {
        ipcn_msg *m = NULL;
        assert_int_equal(ipcn_request(n, "sp/svc", "x", 1, NULL, &m, V_WAIT_MS), IPCN_OK);
        if (!strcmp(m->src_name, "spa"))
            na++;
        else if (!strcmp(m->src_name, "spb"))
            nb++;
        ipcn_msg_free(m);
    }
    assert_int_equal(na + nb, 20);
    assert_true(na > 0);
    assert_true(nb > 0);
}

static void test_request_failover(void **state)
{
    (void)state;
    ipcn_node *n = v_open("fot", NULL);
    pid_t ha = v_spawn("foa", "hole:fo/svc", NULL);
    v_wait_helper(n, "foa");
    v_async a = {0};
    /* Only foa offers it now: the request goes there, and is not answered. */
    assert_int_equal(ipcn_request_async(n, "fo/svc", "again", 5, NULL, 20000,
                                        v_async_cb, &a, NULL),
                     IPCN_ACCEPTED);
    v_spawn("fob", "echo:fo/svc", NULL);
    v_wait_helper(n, "fob");
    assert_int_equal(v_count(n, "fo/svc", IPCN_SERVICE), 2);
    assert_int_equal(a.calls, 0);
    v_kill(ha);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, IPCN_OK);
    assert_string_equal(a.src, "fob");
    assert_string_equal(a.body, "again");
}

static void test_request_provider_dies_async(void **state)
{
    (void)state;
    ipcn_node *n = v_open("pdt", NULL);
    pid_t h = v_spawn("pda", "hole:pd/svc", NULL);
    v_wait_helper(n, "pda");
    v_async a = {0};
    assert_int_equal(ipcn_request_async(n, "pd/svc", "x", 1, NULL, 20000, v_async_cb,
                                        &a, NULL),
                     IPCN_ACCEPTED);
    v_kill(h);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, IPCN_SERVICE_UNAVAILABLE);
    assert_false(a.has_reply);
}

static void test_request_provider_dies_sync(void **state)
{
    (void)state;
    ipcn_node_opts o = slow_heartbeat();
    ipcn_node *n = v_open("pds", &o);
    pid_t h = v_spawn("pdh", "hb=5000", "dead=30000", "hole:pd/svc", NULL);
    v_wait_helper(n, "pdh");
    static struct blocked_call b;
    b = (struct blocked_call){.n = n, .path = "pd/svc", .request = 1, .timeout_ms = 20000};
    uint64_t base = frames_out(n);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_call_main, &b), 0);
    wait_sent(n, base);
    v_kill(h);
    pthread_join(t, NULL);
    assert_int_equal(b.status, IPCN_SERVICE_UNAVAILABLE);
    assert_null(b.out);
}

/* Closing a node ends its pending requests without their callbacks. */
static void test_close_ends_pending(void **state)
{
    (void)state;
    ipcn_node *n = v_open("cep", NULL);
    v_spawn("ceh", "hole:ce/hole", NULL);
    v_wait_helper(n, "ceh");
    v_async a = {0};
    assert_int_equal(ipcn_request_async(n, "ce/hole", "x", 1, NULL, 20000, v_async_cb,
                                        &a, NULL),
                     IPCN_ACCEPTED);
    v_pump(n, 50);
    v_close(n);
    assert_int_equal(a.calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_status_str),
        V_TEST(test_version),
        V_TEST(test_node_names),
        V_TEST(test_node_accessors),
        V_TEST(test_node_options),
        V_TEST(test_node_dir_unusable),
        V_TEST(test_node_opts_defaults),
        V_TEST(test_node_name_conflict_in_process),
        V_TEST(test_node_name_conflict_across_processes),
        V_TEST(test_node_same_name_other_network),
        V_TEST(test_node_peers_and_stats),
        V_TEST(test_announce_statuses),
        V_TEST(test_announce_invalid_paths),
        V_TEST(test_announce_c1_control),
        V_TEST(test_announce_limits),
        V_TEST(test_announce_remote_version_and_meta),
        V_TEST(test_announce_conflict),
        V_TEST(test_withdraw_local),
        V_TEST(test_withdraw_remote),
        V_TEST(test_withdraw_local_subscribers),
        V_TEST(test_find_patterns),
        V_TEST(test_find_invalid),
        V_TEST(test_pattern_match),
        V_TEST(test_query_remote),
        V_TEST(test_query_local),
        V_TEST(test_query_from_helper),
        V_TEST(test_query_timeout),
        V_TEST(test_query_provider_dies),
        V_TEST(test_query_provider_withdraws),
        V_TEST(test_pubsub_remote_order),
        V_TEST(test_pubsub_patterns),
        V_TEST(test_pubsub_to_helper),
        V_TEST(test_sub_queue_depth_callback),
        V_TEST(test_sub_queue_depth_take),
        V_TEST(test_sub_take_statuses),
        V_TEST(test_unsubscribe),
        V_TEST(test_publish_statuses),
        V_TEST(test_local_subscriber),
        V_TEST(test_pubsub_drops_counted),
        V_TEST(test_request_basic),
        V_TEST(test_request_only_caller),
        V_TEST(test_request_error_passthrough),
        V_TEST(test_request_handler_status_range),
        V_TEST(test_request_statuses),
        V_TEST(test_request_timeout),
        V_TEST(test_request_deferred_remote),
        V_TEST(test_request_deferred_thread_respond),
        V_TEST(test_respond_requester_left),
        V_TEST(test_request_local_provider),
        V_TEST(test_request_local_deferred_from_thread),
        V_TEST(test_request_async),
        V_TEST(test_request_async_errors),
        V_TEST(test_request_cancel),
        V_TEST(test_request_spread),
        V_TEST(test_request_failover),
        V_TEST(test_request_provider_dies_async),
        V_TEST(test_request_provider_dies_sync),
        V_TEST(test_close_ends_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
