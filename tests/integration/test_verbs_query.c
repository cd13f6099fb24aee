/* SPDX-License-Identifier: MIT */
/*
 * test_verbs_query.c — query: remote, local, from a helper, timeouts, a provider
 * that dies or withdraws while a query waits.
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
/* Query                                                               */
/* ------------------------------------------------------------------ */

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_query_remote),
        V_TEST(test_query_local),
        V_TEST(test_query_from_helper),
        V_TEST(test_query_timeout),
        V_TEST(test_query_provider_dies),
        V_TEST(test_query_provider_withdraws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
