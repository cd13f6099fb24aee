/* SPDX-License-Identifier: MIT */
/*
 * test_reputation.c — the arithmetic of reputation (transport/
 * reputation.c): decay by half-life, the doubling back-off and its cap;
 * and the table on a bare node: who is charged (a name, or before hello a
 * process), quarantine below the threshold only with the section on, the
 * restart score after a quarantine, the doubling on repeat, ban, white
 * list, lift, the bound on records.  Time is moved by hand (no sleeping).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/node.h"
#include "policy/policy.h"
#include "transport/reputation.h"

static void test_decay(void **state)
{
    (void)state;
    assert_true(ipcn__rep_decay(-100, 0, 1000) == -100);
    double h = ipcn__rep_decay(-100, 1000, 1000);
    assert_true(h > -50.001 && h < -49.999);
    double q = ipcn__rep_decay(-100, 2000, 1000);
    assert_true(q > -25.001 && q < -24.999);
    /* A fraction of a half-life: 2^-0.5 = 0.70711 */
    double f = ipcn__rep_decay(-100, 500, 1000);
    assert_true(f > -70.72 && f < -70.70);
    f = ipcn__rep_decay(-100, 999, 1000);
    assert_true(f > -50.04 && f < -50.0);
    /* Long enough: nothing left, and no shift past 63. */
    assert_true(ipcn__rep_decay(-1000, 100000000, 1000) == 0);
    assert_true(ipcn__rep_decay(-1e9, UINT64_MAX, 1) == 0);
    /* No half-life: no decay. */
    assert_true(ipcn__rep_decay(-7, 123456, 0) == -7);
}

static void test_backoff(void **state)
{
    (void)state;
    ipcn__guard g;
    ipcn__guard_defaults(&g);
    ipcn__reputation_cfg *c = &g.rep;
    c->quarantine_ms = 10000;
    c->quarantine_max_ms = 3600000;
    assert_int_equal(ipcn__rep_backoff_ms(c, 0), 10000);
    assert_int_equal(ipcn__rep_backoff_ms(c, 1), 20000);
    assert_int_equal(ipcn__rep_backoff_ms(c, 2), 40000);
    assert_int_equal(ipcn__rep_backoff_ms(c, 8), 2560000);
    assert_int_equal(ipcn__rep_backoff_ms(c, 9), 3600000); /* capped */
    assert_int_equal(ipcn__rep_backoff_ms(c, UINT32_MAX), 3600000);
    c->quarantine_max_ms = 5000; /* a max under the first: the first */
    assert_int_equal(ipcn__rep_backoff_ms(c, 3), 10000);
}

/* A bare node: enough for the table (no loop, no links but ours). */
typedef struct fixture {
    ipcn_node *n;
    ipcn__link l;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->n = calloc(1, sizeof *f->n);
    f->n->name = (char *)"test";
    f->n->timerfd = -1;
    f->n->policy = ipcn__policy_new(IPCN__PROFILE_ALLOW);
    ipcn__list_init(&f->n->reps);
    ipcn__list_init(&f->n->links);
    f->l.state = LINK_UP;
    f->l.who.uid = 1000;
    f->l.who.pid = 4242;
    f->l.who.creds_known = true;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ipcn__rep_free_all(f->n);
    ipcn__policy_free(f->n->policy);
    free(f->n);
    free(f);
    return 0;
}

static void test_table(void **state)
{
    fixture *f = *state;
    ipcn_node *n = f->n;
    ipcn__reputation_cfg *c = &n->policy->guard.rep;
    /* Without the section: scores and evidence, no quarantine. */
    for (int i = 0; i < 10; i++)
        ipcn__rep_offence(n, &f->l, IPCN__OFF_BAD_FRAME, "junk");
    ipcn__rep *p = ipcn__rep_find(n, NULL, 1000, 4242);
    assert_non_null(p);
    assert_null(p->name);
    assert_int_equal(p->evidence[IPCN__OFF_BAD_FRAME], 10);
    assert_true(p->score < -199 && p->score > -201);
    assert_int_equal(p->state, IPCN__REP_NONE);
    assert_string_equal(p->detail, "bad_frame: junk");
    /* Another process of that user has a record of its own. */
    assert_null(ipcn__rep_find(n, NULL, 1000, 4243));

    /* Named now, with the section: the name is charged, not the pid. */
    c->enabled = true;
    f->l.who.name = (char *)"rogue";
    for (int i = 0; i < 5; i++)
        ipcn__rep_offence(n, &f->l, IPCN__OFF_BAD_FRAME, "junk");
    ipcn__rep *r = ipcn__rep_find(n, "rogue", 1000, -1);
    assert_non_null(r);
    assert_int_equal(r->state, IPCN__REP_NONE); /* -100: not below */
    ipcn__rep_offence(n, &f->l, IPCN__OFF_DENIED, "read of x: 202");
    assert_int_equal(r->state, IPCN__REP_QUARANTINED);
    assert_int_equal(r->strikes, 1);
    assert_int_equal(r->duration_ms, c->quarantine_ms);
    assert_int_equal(n->stats.quarantined, 1);
    assert_int_equal(n->reps_active, 1);
    assert_int_equal(r->evidence[IPCN__OFF_DENIED], 1);
    assert_true(ipcn__rep_dial_after(n, "rogue", ipcn__now_mono_ns()) > 0);
    assert_int_equal(ipcn__rep_dial_after(n, "other", ipcn__now_mono_ns()), 0);

    /* The quarantine ends: the score restarts at half the threshold. */
    r->until_ns = ipcn__now_mono_ns() - 1;
    ipcn__rep_refresh(n, r, ipcn__now_mono_ns());
    assert_int_equal(r->state, IPCN__REP_NONE);
    assert_int_equal(n->reps_active, 0);
    assert_true(r->score <= c->quarantine_below / 2.0 + 0.01);
    assert_true(r->score > c->quarantine_below);
    /* One offence more is not enough; three are, for twice as long. */
    ipcn__rep_offence(n, &f->l, IPCN__OFF_BAD_FRAME, "junk");
    assert_int_equal(r->state, IPCN__REP_NONE);
    ipcn__rep_offence(n, &f->l, IPCN__OFF_BAD_FRAME, "junk");
    ipcn__rep_offence(n, &f->l, IPCN__OFF_BAD_FRAME, "junk");
    assert_int_equal(r->state, IPCN__REP_QUARANTINED);
    assert_int_equal(r->duration_ms, 2 * c->quarantine_ms);
    assert_int_equal(r->strikes, 2);

    /* Lifted: service again, the score at 0, the strikes remembered. */
    n->event_fn = NULL;
    r->owed = false; /* no loop here to flush it */
    n->reps_owed = 0;
    ipcn__rep_lift(n, r);
    assert_int_equal(r->state, IPCN__REP_NONE);
    assert_true(r->score == 0);
    assert_int_equal(r->strikes, 2);

    /* Below the ban threshold: banned, until lifted. */
    for (int i = 0; i < 60 && r->state != IPCN__REP_BANNED; i++) {
        ipcn__rep_offence(n, &f->l, IPCN__OFF_COMPROMISE, "exe changed");
        r->owed = false;
        n->reps_owed = 0;
    }
    assert_int_equal(r->state, IPCN__REP_BANNED);
    assert_true(r->until_ns == UINT64_MAX);
    assert_true(ipcn__rep_dial_after(n, "rogue", ipcn__now_mono_ns()) ==
                UINT64_MAX);
    n->reps_owed = 0;
    ipcn__rep_lift(n, r);
}

static void test_rate_limited_once(void **state)
{
    fixture *f = *state;
    ipcn_node *n = f->n;
    f->l.who.name = (char *)"busy";
    uint64_t t0 = ipcn__now_mono_ns();
    for (int i = 0; i < 50; i++)
        ipcn__rep_offence(n, &f->l, IPCN__OFF_RATE_LIMITED, "205");
    uint64_t elapsed = ipcn__now_mono_ns() - t0;
    ipcn__rep *r = ipcn__rep_find(n, "busy", 1000, -1);
    assert_non_null(r);
    assert_int_equal(r->evidence[IPCN__OFF_RATE_LIMITED], 50);
    /* Every one counted as evidence, charged at most once per 100 ms
     * (an upper bound from the clock, not a timing). */
    uint64_t most = 1 + elapsed / IPCN__REP_RATE_NS;
    assert_true(r->score < 0);
    assert_true(r->score >= -5.0 * (double)(most < 50 ? most : 50) - 0.01);
}

static void test_white(void **state)
{
    fixture *f = *state;
    ipcn_node *n = f->n;
    ipcn__reputation_cfg *c = &n->policy->guard.rep;
    c->enabled = true;
    char why[128];
    c->white = ipcn__calloc(1, sizeof *c->white);
    assert_int_equal(ipcn__selector_parse("node:trusted*", c->white, why,
                                          sizeof why), IPCN_OK);
    c->nwhite = 1;
    f->l.who.name = (char *)"trusted-cam";
    for (int i = 0; i < 100; i++)
        ipcn__rep_offence(n, &f->l, IPCN__OFF_BAD_FRAME, "junk");
    ipcn__rep *r = ipcn__rep_find(n, "trusted-cam", 1000, -1);
    assert_non_null(r);
    assert_int_equal(r->state, IPCN__REP_NONE);
    assert_int_equal(r->evidence[IPCN__OFF_BAD_FRAME], 100);
    assert_int_equal(n->reps_active, 0);
}

static void test_bounded(void **state)
{
    fixture *f = *state;
    ipcn_node *n = f->n;
    n->policy->guard.rep.enabled = true;
    /* One quarantined, then more distinct processes than the table holds:
     * the table stays bounded and the quarantined record stays. */
    f->l.who.name = (char *)"first";
    for (int i = 0; i < 6; i++)
        ipcn__rep_offence(n, &f->l, IPCN__OFF_BAD_FRAME, "junk");
    assert_int_equal(n->reps_active, 1);
    f->l.who.name = NULL;
    for (int i = 0; i < IPCN__REP_MAX + 100; i++) {
        f->l.who.pid = 10000 + i;
        ipcn__rep_offence(n, &f->l, IPCN__OFF_DENIED, "x");
    }
    assert_int_equal(n->nreps, IPCN__REP_MAX);
    ipcn__rep *r = ipcn__rep_find(n, "first", 1000, -1);
    assert_non_null(r);
    assert_int_equal(r->state, IPCN__REP_QUARANTINED);
    assert_null(ipcn__rep_find(n, NULL, 1000, 10000)); /* the oldest went */
    assert_non_null(ipcn__rep_find(n, NULL, 1000, 10000 + IPCN__REP_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decay),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_white, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
