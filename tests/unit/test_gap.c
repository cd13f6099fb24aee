/* SPDX-License-Identifier: MIT */
/*
 * test_gap.c — gap accounting of sample sequence numbers
 * (ipcn__seq_gap()): ordinary gaps are losses, but a peer that forges one
 * huge sequence number (or goes backwards) costs one reset, never
 * billions of losses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/engine.h"

static void test_ordinary(void **state)
{
    (void)state;
    uint64_t last = 0;
    ipcn__gap g = ipcn__seq_gap(&last, 5); /* the first seen: nothing missed */
    assert_int_equal(g.lost, 0);
    assert_false(g.reset);
    assert_int_equal(last, 5);
    g = ipcn__seq_gap(&last, 6);
    assert_int_equal(g.lost, 0);
    assert_false(g.reset);
    g = ipcn__seq_gap(&last, 10);
    assert_int_equal(g.lost, 3);
    assert_false(g.reset);
    g = ipcn__seq_gap(&last, 10); /* the same again: nothing */
    assert_int_equal(g.lost, 0);
    assert_false(g.reset);
    assert_int_equal(last, 10);
    /* The largest gap still counted as losses. */
    g = ipcn__seq_gap(&last, 10 + IPCN_SEQ_WINDOW + 1);
    assert_int_equal(g.lost, IPCN_SEQ_WINDOW);
    assert_false(g.reset);
}

static void test_forged_jump(void **state)
{
    (void)state;
    uint64_t last = 0;
    ipcn__seq_gap(&last, 1);
    ipcn__gap g = ipcn__seq_gap(&last, UINT64_MAX / 2);
    assert_int_equal(g.lost, 0);
    assert_true(g.reset);
    assert_int_equal(last, UINT64_MAX / 2);
    /* One past the window is a reset too. */
    last = 100;
    g = ipcn__seq_gap(&last, 100 + IPCN_SEQ_WINDOW + 2);
    assert_int_equal(g.lost, 0);
    assert_true(g.reset);
    /* The top of the range does not overflow. */
    last = 1;
    g = ipcn__seq_gap(&last, UINT64_MAX);
    assert_int_equal(g.lost, 0);
    assert_true(g.reset);
    g = ipcn__seq_gap(&last, UINT64_MAX); /* and again: nothing */
    assert_int_equal(g.lost, 0);
    assert_false(g.reset);
}

static void test_backwards(void **state)
{
    (void)state;
    uint64_t last = 0;
    ipcn__seq_gap(&last, 1);
    ipcn__seq_gap(&last, UINT64_MAX - 5); /* a forged number... */
    /* ...then the real ones again: one reset, and counting goes on. */
    ipcn__gap g = ipcn__seq_gap(&last, 2);
    assert_int_equal(g.lost, 0);
    assert_true(g.reset);
    assert_int_equal(last, 2);
    g = ipcn__seq_gap(&last, 4);
    assert_int_equal(g.lost, 1);
    assert_false(g.reset);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary),
        cmocka_unit_test(test_forged_jump),
        cmocka_unit_test(test_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
