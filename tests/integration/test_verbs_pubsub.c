/* SPDX-License-Identifier: MIT */
/*
 * test_verbs_pubsub.c — publish and subscribe: order, patterns, queue depths,
 * take, unsubscribe, local subscribers, drops.
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
#include <sys/stat.h>

#include "ipcnet.h"
#include "v_util.h"
#include "v_verbs.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
