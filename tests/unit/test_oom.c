/* SPDX-License-Identifier: MIT */
/*
 * test_oom.c — out-of-memory injection: a whole scenario (two nodes in one
 * process, announce, subscribe, publish, query, request, find, close) is run
 * again and again with allocation number N failing, for N = 1, 2, ... until
 * a run needs no failure at all.  Every call must return a documented
 * status, nothing may crash, and (under ASan) nothing may leak.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ipcnet.h"
#include "testutil.h"

static long alloc_count, fail_at;
static int failed;

static void *t_malloc(size_t n)
{
    if (__atomic_add_fetch(&alloc_count, 1, __ATOMIC_RELAXED) == fail_at) {
        failed = 1;
        return NULL;
    }
    return malloc(n);
}

static void *t_realloc(void *p, size_t n)
{
    if (__atomic_add_fetch(&alloc_count, 1, __ATOMIC_RELAXED) == fail_at) {
        failed = 1;
        return NULL;
    }
    return realloc(p, n);
}

static int known(int st)
{
#define X(name, code, text) \
    if (st == code)         \
        return 1;
    IPCN_STATUS_LIST(X)
#undef X
    return 0;
}

static int echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                void *user)
{
    (void)n, (void)user;
    int st = ipcn_reply_set(ctx, req->data, req->len, req->encoding);
    return st == IPCN_OK ? IPCN_OK : st;
}

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n, (void)m;
    ++*(int *)user;
}

/* One run of the scenario.  Returns 1 when it completed with every call
 * successful (no injected failure reached it). */
static int scenario(void)
{
    int all_ok = 1;
#define CHECK(expr)                                          \
    do {                                                     \
        int st_ = (expr);                                    \
        assert_true(known(st_));                             \
        if (!IPCN_IS_OK(st_))                                \
            all_ok = 0;                                      \
    } while (0)
    ipcn_node *a = NULL, *b = NULL;
    int st = ipcn_node_open(&a, "oom.a", NULL);
    assert_true(known(st));
    if (st != IPCN_OK)
        return 0;
    st = ipcn_node_open(&b, "oom.b", NULL);
    assert_true(known(st));
    if (st != IPCN_OK) {
        ipcn_node_close(a);
        return 0;
    }
    st = ipcn_node_start_thread(a);
    assert_true(known(st));
    if (st != IPCN_OK)
        all_ok = 0;
    CHECK(ipcn_announce(a, "oom/data", IPCN_DATA, "text/plain", "m", 1));
    CHECK(ipcn_announce(a, "oom/stream", IPCN_STREAM, "bytes", NULL, 0));
    CHECK(ipcn_offer(a, "oom/echo", "text/plain", echo, NULL));
    CHECK(ipcn_publish(a, "oom/data", "value", 5));
    int got = 0;
    ipcn_sub sub = {0};
    CHECK(ipcn_subscribe(b, "oom/*", 8, on_sample, &got, &sub));
    /* b has no thread: waiting for its peer pumps its I/O. */
    CHECK(ipcn_node_wait_peers(b, 1, 300));
    /* Let the directory and the subscription cross both ways. */
    for (int i = 0; i < 20; i++)
        ipcn_node_dispatch(b, 5);
    ipcn_resource_list *rl = NULL;
    st = ipcn_find(b, "oom/**", IPCN_ANY, &rl);
    assert_true(known(st));
    if (st == IPCN_OK) {
        if (rl->count != 3)
            all_ok = 0;
        ipcn_resource_list_free(rl);
    } else {
        all_ok = 0;
    }
    CHECK(ipcn_publish(a, "oom/stream", "sample", 6));
    ipcn_msg *m = NULL;
    st = ipcn_query(b, "oom/data", &m, 300);
    assert_true(known(st));
    if (st == IPCN_OK)
        assert_memory_equal(m->data, "value", 5);
    else
        all_ok = 0;
    ipcn_msg_free(m);
    m = NULL;
    st = ipcn_request(b, "oom/echo", "hi", 2, "text/plain", &m, 300);
    assert_true(known(st));
    if (st != IPCN_OK)
        all_ok = 0;
    ipcn_msg_free(m);
    for (int i = 0; i < 20 && got < 1; i++)
        ipcn_node_dispatch(b, 5);
    if (got < 1)
        all_ok = 0;
    ipcn_peer_list *pl = NULL;
    st = ipcn_peers(b, &pl);
    assert_true(known(st));
    ipcn_peer_list_free(pl);
    ipcn_node_close(b);
    ipcn_node_close(a);
#undef CHECK
    return all_ok;
}

static void oom_every_allocation(void **state)
{
    (void)state;
    tu_net_dir();
    setenv("IPCNET_LOG", "none", 1);
    assert_int_equal(ipcn_set_allocator(t_malloc, t_realloc, free), IPCN_OK);
    long n;
    for (n = 1; n < 5000; n++) {
        alloc_count = 0;
        failed = 0;
        fail_at = n;
        int ok = scenario();
        if (!failed) {
            /* Allocation n was never reached: the scenario is covered. */
            assert_true(ok);
            break;
        }
    }
    print_message("scenario covered with %ld allocations failed one by one\n", n - 1);
    assert_true(n > 10 && n < 5000);
    assert_int_equal(ipcn_set_allocator(NULL, NULL, NULL), IPCN_OK);
    assert_int_equal(ipcn_set_allocator(t_malloc, NULL, free), IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oom_every_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
