/* SPDX-License-Identifier: MIT */
/*
 * test_avoid.c — the record of a provider's failures (choose.c,
 * protocol 12.7): three in a row start a back-off of 1 s; each failure
 * after a back-off ended, with no success since, starts the next, twice as
 * long, at most 30 s; a failure during a back-off starts none; a success
 * ends the record.  Time is given, so every step of the rule is checked
 * without waiting, the 30 s cap included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"

#define MS 1000000ull

static void test_three_in_a_row(void **state)
{
    (void)state;
    ipcn__remote r;
    memset(&r, 0, sizeof r);
    uint64_t t = 5000 * MS;
    assert_false(ipcn__provider_avoided(&r, t));
    ipcn__provider_failed(&r, t);
    ipcn__provider_failed(&r, t + 1);
    assert_false(ipcn__provider_avoided(&r, t + 2));
    ipcn__provider_failed(&r, t + 2);
    assert_int_equal(r.strikes, 3);
    assert_int_equal(r.avoid_ms, IPCN_AVOID_FIRST_MS);
    assert_int_equal(IPCN_AVOID_FIRST_MS, 1000);
    assert_true(ipcn__provider_avoided(&r, t + 2));
    assert_true(ipcn__provider_avoided(&r, t + 2 + 1000 * MS - 1));
    assert_false(ipcn__provider_avoided(&r, t + 2 + 1000 * MS));
}

static void test_success_resets(void **state)
{
    (void)state;
    ipcn__remote r;
    memset(&r, 0, sizeof r);
    uint64_t t = 1;
    /* Two failures, a success, two failures: never three in a row. */
    ipcn__provider_failed(&r, t);
    ipcn__provider_failed(&r, t);
    ipcn__provider_answered(&r);
    assert_int_equal(r.strikes, 0);
    ipcn__provider_failed(&r, t);
    ipcn__provider_failed(&r, t);
    assert_false(ipcn__provider_avoided(&r, t));
    /* Avoided, then a success (it was asked: nothing else remained). */
    ipcn__provider_failed(&r, t);
    assert_true(ipcn__provider_avoided(&r, t));
    ipcn__provider_answered(&r);
    assert_false(ipcn__provider_avoided(&r, t));
    assert_int_equal(r.avoid_ms, 0);
    /* The next episode is a first one again: three more, 1 s. */
    ipcn__provider_failed(&r, t);
    ipcn__provider_failed(&r, t);
    assert_false(ipcn__provider_avoided(&r, t));
    ipcn__provider_failed(&r, t);
    assert_int_equal(r.avoid_ms, 1000);
}

static void test_doubling_to_the_cap(void **state)
{
    (void)state;
    ipcn__remote r;
    memset(&r, 0, sizeof r);
    uint64_t t = 0;
    for (int i = 0; i < 3; i++)
        ipcn__provider_failed(&r, t);
    static const uint32_t want[] = {2000, 4000, 8000, 16000, 30000, 30000,
                                    30000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t end = r.avoid_until_ns;
        /* Failures during the back-off (answers to requests sent before
         * it, or asked as the last resort) start none. */
        ipcn__provider_failed(&r, end - 1);
        assert_int_equal(r.avoid_until_ns, end);
        /* The first after it: the next, twice as long, at once. */
        t = end + 7 * MS;
        ipcn__provider_failed(&r, t);
        assert_int_equal(r.avoid_ms, want[i]);
        assert_int_equal(r.avoid_until_ns, t + want[i] * MS);
        assert_true(ipcn__provider_avoided(&r, t));
    }
    assert_int_equal(IPCN_AVOID_MAX_MS, 30000);
    ipcn__provider_answered(&r);
    assert_false(ipcn__provider_avoided(&r, t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_in_a_row),
        cmocka_unit_test(test_success_resets),
        cmocka_unit_test(test_doubling_to_the_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
