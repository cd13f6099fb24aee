/* SPDX-License-Identifier: MIT */
/*
 * test_hotpath.c — a small publish and its delivery allocate nothing once
 * warm (issue 6: pools, in-place encoding).
 *
 * Two nodes of this process, a publisher and a subscriber, linked as any
 * two nodes.  A counting allocator (ipcn_set_allocator) is installed; the
 * pair is warmed up with the same batches as measured (so that the
 * buffers, rings, caches and the message pool have their size), then every
 * call of the library's malloc/realloc is counted while batches of small
 * samples are published and received: by ipcn_node_dispatch() callbacks,
 * and by ipcn_sub_take() with ipcn_msg_free().  Both counts must be zero,
 * on the publishing side (ipcn_publish() and the publisher's dispatch) and
 * on the receiving side (the subscriber's dispatch, take and free).
 * Nothing is excluded: the test keeps no message past a batch.
 *
 * The other tests check what the pool must get right: messages held past
 * their node's close, and freed from another thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "v_util.h"

#define PATH "hot/s"
#define DATA_PATH "hot/d" /* a data resource: its current value is kept */
#define SIZE 64
#define BATCH 64
#define WARM_ROUNDS 30
#define ROUNDS 100

enum { SIDE_NONE, SIDE_PUB, SIDE_SUB };
static atomic_int g_side;        /* whose calls run now, while counting */
static atomic_long g_allocs[3];
static bool g_counting;

static void side(int s) { atomic_store(&g_side, g_counting ? s : SIDE_NONE); }

static void *c_malloc(size_t n)
{
    atomic_fetch_add(&g_allocs[atomic_load(&g_side)], 1);
    return malloc(n);
}
static void *c_realloc(void *p, size_t n)
{
    atomic_fetch_add(&g_allocs[atomic_load(&g_side)], 1);
    return realloc(p, n);
}

typedef struct pair {
    ipcn_node *pub, *sub;
    ipcn_sub s;
    uint64_t got, bad;
    uint64_t next; /* the value the next sample carries */
} pair;

static void check(pair *p, const ipcn_msg *m)
{
    uint64_t v;
    if (m->status != IPCN_OK || m->len != SIZE) {
        p->bad++;
        return;
    }
    memcpy(&v, m->data, sizeof v);
    if (v != p->got + 1)
        p->bad++;
    p->got++;
}

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    check(user, m);
}

static void open_pair(pair *p, bool callback)
{
    memset(p, 0, sizeof *p);
    p->pub = v_open("hp-pub", NULL);
    p->sub = v_open("hp-sub", NULL);
    assert_true(IPCN_IS_OK(ipcn_announce(p->pub, PATH, IPCN_STREAM, "raw", NULL, 0)));
    assert_true(IPCN_IS_OK(ipcn_announce(p->pub, DATA_PATH, IPCN_DATA, "raw", NULL, 0)));
    assert_int_equal(ipcn_subscribe(p->sub, PATH, 4 * BATCH,
                                    callback ? on_sample : NULL, p, &p->s),
                     IPCN_OK);
    /* Until the publisher knows the subscription. */
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        ipcn_subscription_list *sl = NULL;
        assert_int_equal(ipcn_subscriptions(p->pub, &sl), IPCN_OK);
        size_t k = 0;
        for (size_t i = 0; i < sl->count; i++)
            k += !strcmp(sl->items[i].node, "hp-sub");
        ipcn_subscription_list_free(sl);
        if (k)
            break;
        assert_true(tu_now_ms() < end);
        ipcn_node_dispatch(p->pub, 5);
        ipcn_node_dispatch(p->sub, 5);
    }
}

/* One batch: BATCH samples published, then all received (bounded). */
static void batch(pair *p, bool callback)
{
    uint8_t buf[SIZE] = {0};
    uint64_t want = p->got + BATCH;
    side(SIDE_PUB);
    for (int i = 0; i < BATCH; i++) {
        uint64_t v = ++p->next;
        memcpy(buf, &v, sizeof v);
        assert_int_equal(ipcn_publish(p->pub, PATH, buf, SIZE), IPCN_OK);
    }
    assert_int_equal(ipcn_publish(p->pub, DATA_PATH, buf, SIZE), IPCN_OK);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (p->got < want) {
        side(SIDE_PUB);
        ipcn_node_dispatch(p->pub, 0);
        side(SIDE_SUB);
        if (callback) {
            ipcn_node_dispatch(p->sub, 10);
        } else {
            ipcn_msg *m = NULL;
            int st = ipcn_sub_take(p->sub, p->s, &m, 10);
            if (st == IPCN_OK) {
                check(p, m);
                ipcn_msg_free(m);
            } else {
                assert_int_equal(st, IPCN_NO_DATA);
            }
        }
        side(SIDE_NONE);
        if (tu_now_ms() >= end)
            fail_msg("%llu of %llu samples came in %d ms",
                     (unsigned long long)p->got, (unsigned long long)want,
                     V_WAIT_MS);
    }
    side(SIDE_NONE);
}

static void run(bool callback)
{
    assert_int_equal(ipcn_set_allocator(c_malloc, c_realloc, free), IPCN_OK);
    pair p;
    open_pair(&p, callback);
    for (int r = 0; r < WARM_ROUNDS; r++)
        batch(&p, callback);
    atomic_store(&g_allocs[SIDE_PUB], 0);
    atomic_store(&g_allocs[SIDE_SUB], 0);
    g_counting = true;
    for (int r = 0; r < ROUNDS; r++)
        batch(&p, callback);
    g_counting = false;
    side(SIDE_NONE);
    long pa = atomic_load(&g_allocs[SIDE_PUB]), sa = atomic_load(&g_allocs[SIDE_SUB]);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(p.sub, p.s, &ss), IPCN_OK);
    print_message("%s: %d samples: %ld allocations publishing, %ld receiving; "
                  "%llu dropped, %llu lost\n",
                  callback ? "callback" : "sub_take", ROUNDS * BATCH, pa, sa,
                  (unsigned long long)ss.dropped, (unsigned long long)ss.lost);
    assert_int_equal(p.bad, 0);
    assert_int_equal(p.got, (uint64_t)(WARM_ROUNDS + ROUNDS) * BATCH);
    assert_int_equal(pa, 0);
    assert_int_equal(sa, 0);
    v_close(p.sub);
    v_close(p.pub);
    ipcn_set_allocator(NULL, NULL, NULL);
}

static void test_no_alloc_callback(void **state)
{
    (void)state;
    run(true);
}

static void test_no_alloc_take(void **state)
{
    (void)state;
    run(false);
}

/* Messages outlive their node: taken, referenced, then freed after the
 * node closed (the pool goes with the last of them; ASan and the leak
 * checker watch). */
static void test_held_after_close(void **state)
{
    (void)state;
    pair p;
    open_pair(&p, false);
    batch(&p, false);
    uint8_t buf[SIZE] = {0};
    for (int i = 0; i < 8; i++) {
        uint64_t v = ++p.next;
        memcpy(buf, &v, sizeof v);
        assert_int_equal(ipcn_publish(p.pub, PATH, buf, SIZE), IPCN_OK);
    }
    ipcn_msg *held[8];
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (int i = 0; i < 8;) {
        ipcn_node_dispatch(p.pub, 0);
        int st = ipcn_sub_take(p.sub, p.s, &held[i], 10);
        if (st == IPCN_OK)
            i++;
        else
            assert_true(tu_now_ms() < end);
    }
    ipcn_msg *extra = ipcn_msg_ref(held[0]);
    v_close(p.sub);
    v_close(p.pub);
    for (int i = 0; i < 8; i++) {
        uint64_t v;
        memcpy(&v, held[i]->data, sizeof v);
        assert_int_equal(v, p.got + 1 + (uint64_t)i);
        assert_string_equal(held[i]->path, PATH);
        assert_string_equal(held[i]->src_name, "hp-pub");
        ipcn_msg_free(held[i]);
    }
    assert_string_equal(extra->encoding, "raw");
    ipcn_msg_free(extra);
}

typedef struct freer {
    ipcn_msg *msgs[BATCH];
    int n;
} freer;

static void *free_all(void *arg)
{
    freer *f = arg;
    for (int i = 0; i < f->n; i++)
        ipcn_msg_free(f->msgs[i]);
    return NULL;
}

/* Blocks come back from another thread while the node takes more. */
static void test_free_other_thread(void **state)
{
    (void)state;
    pair p;
    open_pair(&p, false);
    uint8_t buf[SIZE] = {0};
    for (int r = 0; r < 20; r++) {
        freer f = {.n = 0};
        for (int i = 0; i < BATCH; i++) {
            uint64_t v = ++p.next;
            memcpy(buf, &v, sizeof v);
            assert_int_equal(ipcn_publish(p.pub, PATH, buf, SIZE), IPCN_OK);
        }
        uint64_t end = tu_now_ms() + V_WAIT_MS;
        while (f.n < BATCH) {
            ipcn_node_dispatch(p.pub, 0);
            ipcn_msg *m = NULL;
            if (ipcn_sub_take(p.sub, p.s, &m, 10) == IPCN_OK) {
                check(&p, m);
                f.msgs[f.n++] = m;
            } else {
                assert_true(tu_now_ms() < end);
            }
        }
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, free_all, &f), 0);
        if (r % 2) /* sometimes while the node works */
            ipcn_node_dispatch(p.sub, 1);
        pthread_join(t, NULL);
    }
    assert_int_equal(p.bad, 0);
    assert_int_equal(p.got, 20u * BATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_no_alloc_callback),
        V_TEST(test_no_alloc_take),
        V_TEST(test_held_after_close),
        V_TEST(test_free_other_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
