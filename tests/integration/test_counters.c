/* SPDX-License-Identifier: MIT */
/*
 * test_counters.c — every sample a subscription does not get is on one of
 * its counters: withheld by a publisher because the subscriber holds its
 * share of the pool, discarded because the pool cannot be mapped (and the
 * publisher's slots come back), and a "provider gone" notice is not a
 * delivered sample.  Also: a pool's slots are sized to the sample.
 *
 * The other side is ipcn-test-s_peer (helpers/s_peer.c), driven by
 * requests; this process's node has no thread, so it answers and releases
 * only while it waits or pumps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipcnet.h"
#include "ipcnet_value.h"
#include "shm_pattern.h"
#include "v_util.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

typedef struct substats {
    unsigned long long received, delivered, dropped, lost, withheld,
        unmappable, resets, notices;
} substats;

static substats helper_substats(ipcn_node *n, const char *who)
{
    char buf[256];
    substats s;
    assert_int_equal(v_ctl_text(n, who, buf, sizeof buf, "substats"), IPCN_OK);
    assert_int_equal(sscanf(buf, "%llu %llu %llu %llu %llu %llu %llu %llu",
                            &s.received, &s.delivered, &s.dropped, &s.lost,
                            &s.withheld, &s.unmappable, &s.resets, &s.notices),
                     8);
    return s;
}

/* Our node, subscribed to path, and a helper publisher `who` that
 * announced it, all synced. */
static ipcn_node *sub_and_publisher(const char *who, const char *path,
                                    ipcn_sub *sub)
{
    ipcn_node *n = v_open("t", NULL);
    assert_int_equal(ipcn_subscribe(n, path, 64, NULL, NULL, sub), IPCN_OK);
    v_s_peer(who);
    v_wait_helper(n, who);
    assert_true(IPCN_IS_OK(v_ctl_text(n, who, NULL, 0, "announce %s", path)));
    assert_true(v_wait_count(n, path, IPCN_STREAM, 1, V_WAIT_MS));
    return n;
}

/* Pump n until it knows count subscription patterns. */
static void wait_subscriptions(ipcn_node *n, size_t count)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        ipcn_subscription_list *sl;
        assert_int_equal(ipcn_subscriptions(n, &sl), IPCN_OK);
        size_t c = sl->count;
        ipcn_subscription_list_free(sl);
        if (c == count)
            return;
        assert_true(tu_now_ms() < end);
        v_pump(n, 10);
    }
}

/* Take `count` samples of sub into held[*k...]. */
static void take(ipcn_node *n, ipcn_sub sub, ipcn_msg **held, int *k,
                 int count)
{
    for (int i = 0; i < count; i++) {
        assert_int_equal(ipcn_sub_take(n, sub, &held[*k], V_WAIT_MS), IPCN_OK);
        assert_true(held[*k]->flags & IPCN_MSG_SHARED);
        (*k)++;
    }
}

/* A subscriber that keeps its samples reaches its share of the publisher's
 * pool (56 of 64 slots); what the publisher then withholds is counted on
 * the subscription as withheld, sample for sample, not lost in silence. */
static void test_withheld_is_counted(void **state)
{
    (void)state;
    ipcn_sub sub;
    ipcn_node *n = sub_and_publisher("w1", "replay/frames", &sub);
    char buf[128];
    static ipcn_msg *held[64];
    int k = 0;
    /* 50, then 5, then 1: we keep 56 and our own queue never has to drop
     * one to stay within the share. */
    static const int steps[] = {50, 5, 1};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        assert_int_equal(v_ctl_text(n, "w1", buf, sizeof buf, "pub replay/frames %zu %d",
                             100 * KIB, steps[i]),
                         IPCN_OK);
        take(n, sub, held, &k, steps[i]);
    }
    assert_int_equal(k, 56);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.withheld, 0);
    /* Now every sample is withheld from us: we are told of each. */
    assert_int_equal(v_ctl_text(n, "w1", buf, sizeof buf, "pub replay/frames %zu 10",
                         100 * KIB),
                     IPCN_OK);
    assert_string_equal(buf, "ok 10");
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    do {
        v_pump(n, 10);
        assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    } while (ss.withheld < 10 && tu_now_ms() < end);
    assert_int_equal(ss.withheld, 10);
    assert_int_equal(ss.received, 56);
    assert_int_equal(ss.delivered, 56);
    assert_int_equal(ss.lost, 0);
    assert_int_equal(ss.dropped, 0);
    assert_int_equal(ss.resets, 0);
    /* Released, we receive again, and nothing is counted twice. */
    for (int i = 0; i < k; i++)
        ipcn_msg_free(held[i]);
    v_pump(n, 50);
    assert_int_equal(v_ctl_text(n, "w1", buf, sizeof buf, "pub replay/frames %zu 1",
                         100 * KIB),
                     IPCN_OK);
    ipcn_msg *m;
    assert_int_equal(ipcn_sub_take(n, sub, &m, V_WAIT_MS), IPCN_OK);
    assert_int_equal(m->seq, 67);
    ipcn_msg_free(m);
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.withheld, 10);
    assert_int_equal(ss.lost, 0);
    assert_int_equal(ss.received, 57);
}

/* A subscriber that cannot map the publisher's pool (its address space is
 * limited below the pool's size): each sample is counted as unmappable
 * there, and the publisher gets its slots back at once. */
static void test_unmappable_pool(void **state)
{
    (void)state;
    ipcn_node *n = v_open("t", NULL);
    assert_true(IPCN_IS_OK(ipcn_announce(n, "big/cloud", IPCN_STREAM, "bytes",
                                         NULL, 0)));
    v_s_peer("u1");
    v_wait_helper(n, "u1");
    assert_int_equal(v_ctl_text(n, "u1", NULL, 0, "sub big/cloud 8"), IPCN_OK);
    wait_subscriptions(n, 1);
    /* A pool of 64 slots of 4 MiB (256 MiB) cannot fit in 96 MiB more. */
    assert_int_equal(v_ctl_text(n, "u1", NULL, 0, "rlimit 96"), IPCN_OK);
    for (uint64_t seq = 1; seq <= 10; seq++) {
        ipcn_loan *loan;
        assert_int_equal(ipcn_loan_new(n, "big/cloud", 4 * MIB, &loan), IPCN_OK);
        s_fill(ipcn_loan_data(loan), 4 * MIB, seq);
        assert_int_equal(ipcn_loan_publish(n, loan, 0), IPCN_OK);
        v_pump(n, 1);
    }
    /* The helper's node has a thread: it counts and releases by itself. */
    substats s;
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    do {
        v_pump(n, 20);
        s = helper_substats(n, "u1");
    } while (s.unmappable < 10 && tu_now_ms() < end);
    assert_int_equal(s.unmappable, 10);
    assert_int_equal(s.received, 0);
    assert_int_equal(s.lost, 0);
    /* Nothing stays held for a reader that cannot read it. */
    ipcn_pool_stats ps = {.size = sizeof ps};
    end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        assert_int_equal(ipcn_pool_get_stats(n, "big/cloud", &ps), IPCN_OK);
        if (ps.held == 0 || tu_now_ms() > end)
            break;
        v_pump(n, 20);
    }
    assert_int_equal(ps.published, 10);
    assert_int_equal(ps.held, 0);
    assert_int_equal(ps.free, ps.slots);
}

/* A "provider gone" notice is not a sample: delivered never exceeds
 * received, and the notice has a counter of its own. */
static void test_notice_is_not_delivered(void **state)
{
    (void)state;
    ipcn_node *n = v_open("t", NULL);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "gone/*", 64, NULL, NULL, &sub), IPCN_OK);
    pid_t pid = v_s_peer("g1");
    v_wait_helper(n, "g1");
    assert_true(IPCN_IS_OK(v_ctl_text(n, "g1", NULL, 0, "announce gone/x")));
    assert_true(v_wait_count(n, "gone/x", IPCN_STREAM, 1, V_WAIT_MS));
    char buf[64];
    assert_int_equal(v_ctl_text(n, "g1", buf, sizeof buf, "pub gone/x %zu 3", 20 * KIB),
                     IPCN_OK);
    assert_string_equal(buf, "ok 3");
    v_kill(pid);
    int samples = 0, notices = 0;
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while ((samples < 3 || notices < 1) && tu_now_ms() < end) {
        ipcn_msg *m;
        if (ipcn_sub_take(n, sub, &m, 50) != IPCN_OK)
            continue;
        if (m->status == IPCN_OK)
            samples++;
        else
            notices++;
        ipcn_msg_free(m);
    }
    assert_int_equal(samples, 3);
    assert_int_equal(notices, 1);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_true(ss.delivered <= ss.received);
    assert_int_equal(ss.received, 3);
    assert_int_equal(ss.delivered, 3);
    assert_int_equal(ss.notices, 1);
    assert_int_equal(ss.queued, 0);
}

/* An 8 MiB tensor and its header take a slot of 8 MiB and a page, not the
 * next power of two (16 MiB). */
static void test_slot_fits_sample(void **state)
{
    (void)state;
    ipcn_node *n = v_open("t", NULL);
    assert_true(IPCN_IS_OK(ipcn_announce(n, "cam/tensor", IPCN_STREAM,
                                         "cbor", NULL, 0)));
    long ps = sysconf(_SC_PAGESIZE);
    int64_t shape[2] = {2048, 1024}; /* float32: 8 MiB of elements */
    ipcn_tensor t;
    /* ipcn_loan_tensor() reads only the dtype and shape. */
    assert_int_equal(ipcn_tensor_init(&t, IPCN_DTYPE_FLOAT32, 2, shape, &t),
                     IPCN_OK);
    ipcn_loan *loan;
    void *elems;
    assert_int_equal(ipcn_loan_tensor(n, "cam/tensor", &t, &loan, &elems),
                     IPCN_OK);
    memset(elems, 0, 8 * MIB);
    assert_int_equal(ipcn_loan_publish(n, loan, 0), IPCN_OK);
    ipcn_pool_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_pool_get_stats(n, "cam/tensor", &s), IPCN_OK);
    assert_true(s.slot_size > 8 * MIB);
    assert_true(s.slot_size <= 8 * MIB + (size_t)ps);
    assert_int_equal(s.slot_size % (size_t)ps, 0);
    /* A plain loan of a size just past a power of two too. */
    assert_true(IPCN_IS_OK(ipcn_announce(n, "cam/raw", IPCN_STREAM, "bytes",
                                         NULL, 0)));
    assert_int_equal(ipcn_loan_new(n, "cam/raw", 2 * MIB + 100, &loan), IPCN_OK);
    assert_true(ipcn_loan_size(loan) >= 2 * MIB + 100);
    assert_true(ipcn_loan_size(loan) <= 2 * MIB + (size_t)ps);
    ipcn_loan_discard(n, loan);
}

int main(void)
{
    tu_net_dir();
    const struct CMUnitTest tests[] = {
        V_TEST(test_withheld_is_counted),
        V_TEST(test_unmappable_pool),
        V_TEST(test_notice_is_not_delivered),
        V_TEST(test_slot_fits_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
