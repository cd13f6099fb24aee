/* SPDX-License-Identifier: MIT */
/*
 * test_verbs_nodes.c — status codes, the version, and nodes: names, accessors,
 * options, the network directory, name conflicts, peers and stats.
 *
 * One of the test_verbs_*.c programs: every verb of the public API and
 * every status it documents, between real processes: the test process is
 * one node, helper processes (ipcn-test-v_node) are the others, driven over
 * IPCNet itself through their "ctl/<name>" service.  Each test runs in a
 * network of its own; helpers are killed and nodes closed by the teardown,
 * even on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipcnet.h"
#include "v_util.h"
#include "v_verbs.h"

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
    /* The principals: the helper's executable and its hash, our groups. */
    char helper[4096];
    snprintf(helper, sizeof helper, "%s/ipcn-test-v_node", IPCN_TEST_BINDIR);
    char *helper_real = realpath(helper, NULL);
    assert_non_null(helper_real);
    gid_t mine[32]; /* what IPCNet keeps (ipcn_peer_info.groups) */
    int nmine = getgroups(32, mine);
    for (size_t i = 0; i < 2; i++) {
        ipcn_peer_info w = {.size = sizeof w};
        assert_int_equal(ipcn_peer_list_get_info(pl, i, &w), IPCN_OK);
        assert_int_equal(w.pid, pl->items[i].pid);
        assert_int_equal(w.uid, (int32_t)getuid());
        assert_int_equal(w.gid, (int32_t)getgid());
        assert_non_null(w.exe);
        assert_string_equal(w.exe, helper_real);
        assert_true(w.exe_hashed);
        if (nmine >= 0) {
            assert_int_equal(w.ngroups, (uint32_t)nmine);
            for (int g = 0; g < nmine; g++)
                assert_int_equal(w.groups[g], (uint32_t)mine[g]);
        }
        if (i == 1) { /* one binary: one hash */
            ipcn_peer_info w0 = {.size = sizeof w0};
            assert_int_equal(ipcn_peer_list_get_info(pl, 0, &w0), IPCN_OK);
            assert_memory_equal(w0.exe_sha256, w.exe_sha256, 32);
        }
    }
    free(helper_real);
    ipcn_peer_info bad = {.size = 0};
    assert_int_equal(ipcn_peer_list_get_info(pl, 0, &bad), IPCN_BAD_REQUEST);
    bad.size = sizeof bad;
    assert_int_equal(ipcn_peer_list_get_info(pl, 2, &bad), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_peer_list_get_info(NULL, 0, &bad), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_peer_list_get_info(pl, 0, NULL), IPCN_BAD_REQUEST);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
