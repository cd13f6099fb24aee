/* SPDX-License-Identifier: MIT */
/* test_sup_policy.c — the supervisor's restart arithmetic
 * (tools/supervisor/restart.c): restart.when, the intensity window, the
 * exponential back-off and its cap, and rest_for_one's dependents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "restart.h"

static sup_component comp(uint32_t intensity, uint32_t period_ms)
{
    sup_component c;
    memset(&c, 0, sizeof c);
    c.when = SUP_RESTART_ON_FAILURE;
    c.intensity = intensity;
    c.period_ms = period_ms;
    c.backoff_ms = 100;
    c.backoff_max_ms = 5000;
    return c;
}

static void test_when(void **state)
{
    (void)state;
    sup_component c = comp(5, 30000);
    assert_true(sup_restart_wanted(&c, true));
    assert_false(sup_restart_wanted(&c, false));
    c.when = SUP_RESTART_ALWAYS;
    assert_true(sup_restart_wanted(&c, true));
    assert_true(sup_restart_wanted(&c, false));
    c.when = SUP_RESTART_NEVER;
    assert_false(sup_restart_wanted(&c, true));
    assert_false(sup_restart_wanted(&c, false));
}

/* Five restarts in 30 s are allowed; the sixth within the period is past
 * the intensity; once the oldest leaves the window one more fits. */
static void test_intensity(void **state)
{
    (void)state;
    sup_component c = comp(5, 30000);
    sup_restart_hist h = {0};
    uint64_t t = 1000000;
    for (int i = 0; i < 5; i++)
        assert_true(sup_restart_note(&h, &c, t + (uint64_t)i * 1000));
    assert_int_equal(sup_restart_count(&h, &c, t + 4000), 5);
    assert_false(sup_restart_note(&h, &c, t + 5000));
    assert_false(sup_restart_note(&h, &c, t + 29999));
    /* at t + 30000 the first (at t) is exactly period_ms old: forgotten */
    assert_true(sup_restart_note(&h, &c, t + 30000));
    assert_int_equal(sup_restart_count(&h, &c, t + 30000), 5);
    /* a quiet period empties the window */
    assert_int_equal(sup_restart_count(&h, &c, t + 100000), 0);
    assert_true(sup_restart_note(&h, &c, t + 100000));
    assert_int_equal(sup_restart_count(&h, &c, t + 100000), 1);
    sup_restart_reset(&h);
    assert_int_equal(sup_restart_count(&h, &c, t + 100000), 0);
    /* intensity 0: no restart at all */
    sup_component z = comp(0, 30000);
    assert_false(sup_restart_note(&h, &z, t));
    /* many restarts: the history grows past its first allocation */
    sup_component big = comp(100, 1000000);
    sup_restart_reset(&h);
    for (int i = 0; i < 100; i++)
        assert_true(sup_restart_note(&h, &big, t + (uint64_t)i));
    assert_false(sup_restart_note(&h, &big, t + 100));
    sup_restart_free(&h);
    assert_null(h.at);
}

/* 100, 200, 400, ... doubled per restart in the window, capped. */
static void test_backoff(void **state)
{
    (void)state;
    sup_component c = comp(20, 60000);
    sup_restart_hist h = {0};
    const uint32_t want[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    uint64_t t = 5000;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_true(sup_restart_note(&h, &c, t + i));
        assert_int_equal(sup_restart_backoff_ms(&h, &c, t + i), want[i]);
    }
    /* after a quiet period it starts again from backoff_ms */
    assert_true(sup_restart_note(&h, &c, t + 70000));
    assert_int_equal(sup_restart_backoff_ms(&h, &c, t + 70000), 100);
    /* a cap below the first delay wins; a huge count does not overflow */
    c.backoff_ms = 300;
    c.backoff_max_ms = 250;
    assert_int_equal(sup_restart_backoff_ms(&h, &c, t + 70000), 250);
    c.backoff_ms = 4000000000u;
    c.backoff_max_ms = 4100000000u;
    sup_component many = c;
    many.intensity = 64;
    sup_restart_reset(&h);
    for (int i = 0; i < 40; i++)
        assert_true(sup_restart_note(&h, &many, t + 70000));
    assert_int_equal(sup_restart_backoff_ms(&h, &many, t + 70000), 4100000000u);
    sup_restart_free(&h);
}

/* cam <- det <- arm, cam <- log, base (alone); arm also needs a resource. */
static void test_dependents(void **state)
{
    (void)state;
    sup_component cs[5];
    for (int i = 0; i < 5; i++)
        cs[i] = comp(5, 30000);
    sup_dep det_deps[] = {{false, "cam", 0}};
    sup_dep arm_deps[] = {{true, "cam/front/rgb", 0}, {false, "det", 1}};
    sup_dep log_deps[] = {{false, "cam", 0}};
    cs[1].deps = det_deps, cs[1].ndeps = 1;
    cs[2].deps = arm_deps, cs[2].ndeps = 2;
    cs[3].deps = log_deps, cs[3].ndeps = 1;
    size_t order[] = {0, 4, 1, 3, 2};
    sup_manifest m = {.comps = cs, .ncomps = 5, .order = order};
    bool take[5] = {0};
    assert_int_equal(sup_dependents(&m, 0, take), 3);
    assert_false(take[0]);
    assert_true(take[1] && take[2] && take[3]);
    assert_false(take[4]);
    memset(take, 0, sizeof take);
    assert_int_equal(sup_dependents(&m, 1, take), 1);
    assert_true(take[2]);
    assert_false(take[0] || take[1] || take[3] || take[4]);
    memset(take, 0, sizeof take);
    /* a resource dependency names no component: arm's first dep index 0
     * must not make it a dependent of cam through it */
    assert_int_equal(sup_dependents(&m, 2, take), 0);
    assert_int_equal(sup_dependents(&m, 4, take), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_when),
        cmocka_unit_test(test_intensity),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_dependents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
