/* SPDX-License-Identifier: MIT */
/*
 * test_sup_restart.c — `ipcnet up` restarts (issue 16): a component
 * killed with SIGKILL ten times comes back ready each time (the time from
 * the kill to ready again is printed), its dependents untouched under
 * one_for_one; under rest_for_one its dependent is restarted with it;
 * past its restart intensity a component is failed, and what follows
 * depends on its criticality: an optional one stays down, an important
 * one raises an alarm (a sample on system/supervisor/<robot>/alarms), a
 * critical one shuts the robot down (the supervisor ends, its components
 * with it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sup_util.h"

static ipcn_node *watch;

static int setup(void **state)
{
    (void)state;
    tu_net_dir();
    watch = su_watcher("sup-watch");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ipcn_node_close(watch);
    return 0;
}

static pid_t start_robot(const char *robot, const char *components, char *log, size_t loglen)
{
    const char *dir = su_robot(robot);
    char manifest[600], text[8192];
    snprintf(manifest, sizeof manifest, "%s/robot.yaml", dir);
    snprintf(log, loglen, "%s/up.log", dir);
    snprintf(text, sizeof text, "version: 1\nrobot: %s\ncomponents:\n%s", robot, components);
    su_write(manifest, text, 0644);
    return su_up(manifest, log);
}

static void test_kill_ten_times(void **state)
{
    (void)state;
    char log[600];
    pid_t sup = start_robot("rst",
        "  cam:\n"
        "    command: [" SU_COMP ", --provide, rst/cam/rgb, --ready-after, \"50\"]\n"
        "    criticality: important\n"
        "    restart: {intensity: 20, period_ms: 600000, backoff_ms: 100, backoff_max_ms: 400}\n"
        "  det:\n"
        "    command: [" SU_COMP "]\n"
        "    depends_on: [cam, \"resource:rst/cam/rgb\"]\n"
        "    criticality: optional\n", log, sizeof log);
    su_state cam, det;
    if (!su_wait(watch, "rst", "cam", "ready", 0, NULL, 30000, &cam) ||
        !su_wait(watch, "rst", "det", "ready", 0, NULL, 30000, &det)) {
        su_dump(log);
        fail_msg("the robot did not come up");
    }
    uint64_t total = 0, worst = 0;
    for (unsigned i = 0; i < 10; i++) {
        int old = cam.pid;
        uint64_t t0 = tu_now_ms();
        assert_int_equal(kill(old, SIGKILL), 0);
        if (!su_wait(watch, "rst", "cam", "ready", old, NULL, 30000, &cam)) {
            su_dump(log);
            fail_msg("cam not back after kill %u", i + 1);
        }
        uint64_t dt = tu_now_ms() - t0;
        total += dt;
        worst = dt > worst ? dt : worst;
        printf("kill %2u: pid %d -> %d ready again after %llu ms (restarts %u)\n", i + 1,
               old, cam.pid, (unsigned long long)dt, cam.restarts);
        assert_int_equal(cam.restarts, i + 1);
        assert_int_equal(cam.last_exit, 128 + SIGKILL);
        /* one_for_one: the dependent ran on */
        su_state d;
        assert_true(su_get(watch, "rst", "det", &d));
        assert_string_equal(d.state, "ready");
        assert_int_equal(d.pid, det.pid);
    }
    printf("kill -> ready: mean %llu ms, worst %llu ms (back-off 100 ms doubling to 400)\n",
           (unsigned long long)(total / 10), (unsigned long long)worst);
    assert_int_equal(su_down(sup), 0);
    assert_true(su_gone(cam.pid, 10000));
    assert_true(su_gone(det.pid, 10000));
}

static void test_rest_for_one(void **state)
{
    (void)state;
    char log[600];
    pid_t sup = start_robot("rfo",
        "  base:\n"
        "    command: [" SU_COMP "]\n"
        "    restart: {strategy: rest_for_one, backoff_ms: 50}\n"
        "  mid:\n"
        "    command: [" SU_COMP "]\n"
        "    depends_on: [base]\n"
        "  top:\n"
        "    command: [" SU_COMP "]\n"
        "    depends_on: [mid]\n"
        "  side:\n"
        "    command: [" SU_COMP "]\n", log, sizeof log);
    su_state base, mid, top, side;
    if (!su_wait(watch, "rfo", "top", "ready", 0, NULL, 30000, &top) ||
        !su_wait(watch, "rfo", "side", "ready", 0, NULL, 30000, &side)) {
        su_dump(log);
        fail_msg("the robot did not come up");
    }
    assert_true(su_get(watch, "rfo", "base", &base));
    assert_true(su_get(watch, "rfo", "mid", &mid));
    assert_int_equal(kill(base.pid, SIGKILL), 0);
    su_state b2, m2, t2, s2;
    if (!su_wait(watch, "rfo", "base", "ready", base.pid, NULL, 30000, &b2) ||
        !su_wait(watch, "rfo", "mid", "ready", mid.pid, NULL, 30000, &m2) ||
        !su_wait(watch, "rfo", "top", "ready", top.pid, NULL, 30000, &t2)) {
        su_dump(log);
        fail_msg("rest_for_one did not restart the dependents");
    }
    assert_true(su_get(watch, "rfo", "side", &s2));
    assert_int_equal(s2.pid, side.pid);
    assert_true(su_gone(mid.pid, 10000));
    assert_true(su_gone(top.pid, 10000));
    assert_int_equal(su_down(sup), 0);
}

typedef struct alarms {
    int imp, opt;
} alarms;

static void on_alarm(ipcn_node *n, const ipcn_msg *msg, void *user)
{
    alarms *a = user;
    (void)n;
    if (msg->status != IPCN_OK)
        return;
    ipcn_cbor_item *root = NULL;
    if (ipcn_cbor_tree_decode(msg->data, msg->len, IPCN_CBOR_COPY_STRINGS, &root) != IPCN_OK)
        return;
    const ipcn_cbor_item *c = ipcn_cbor_map_find(root, "component");
    if (c && c->type == IPCN_CBOR_TEXT && c->len == 3 && !memcmp(c->ptr, "imp", 3))
        __atomic_add_fetch(&a->imp, 1, __ATOMIC_SEQ_CST);
    if (c && c->type == IPCN_CBOR_TEXT && c->len == 3 && !memcmp(c->ptr, "opt", 3))
        __atomic_add_fetch(&a->opt, 1, __ATOMIC_SEQ_CST);
    ipcn_cbor_tree_free(root);
}

static void test_past_intensity(void **state)
{
    (void)state;
    alarms a = {0};
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(watch, "system/supervisor/fail/alarms", 16, on_alarm, &a,
                                    &sub), IPCN_OK);
    char log[600];
    pid_t sup = start_robot("fail",
        "  keep:\n"
        "    command: [" SU_COMP "]\n"
        "    criticality: critical\n"
        "  opt:\n"
        "    command: [" SU_COMP ", --crash-after, \"100\"]\n"
        "    criticality: optional\n"
        "    restart: {intensity: 2, period_ms: 600000, backoff_ms: 10, backoff_max_ms: 20}\n"
        "  imp:\n"
        "    command: [" SU_COMP ", --crash-after, \"100\"]\n"
        "    criticality: important\n"
        "    restart: {intensity: 2, period_ms: 600000, backoff_ms: 10, backoff_max_ms: 20}\n",
        log, sizeof log);
    su_state keep, opt, imp;
    if (!su_wait(watch, "fail", "keep", "ready", 0, NULL, 30000, &keep) ||
        !su_wait(watch, "fail", "opt", "failed", 0, NULL, 30000, &opt) ||
        !su_wait(watch, "fail", "imp", "failed", 0, NULL, 30000, &imp)) {
        su_dump(log);
        fail_msg("the failures did not show");
    }
    assert_int_equal(opt.restarts, 2);
    assert_int_equal(imp.restarts, 2);
    assert_int_equal(opt.pid, 0);
    assert_int_equal(imp.last_exit, 128 + SIGABRT);
    /* the alarm of the important one only; the robot runs on */
    uint64_t end = tu_now_ms() + 10000;
    while (__atomic_load_n(&a.imp, __ATOMIC_SEQ_CST) == 0 && tu_now_ms() < end)
        usleep(10000);
    assert_int_equal(__atomic_load_n(&a.imp, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(__atomic_load_n(&a.opt, __ATOMIC_SEQ_CST), 0);
    assert_true(su_alive(sup));
    assert_true(su_get(watch, "fail", "keep", &keep));
    assert_string_equal(keep.state, "ready");
    assert_true(su_alive(keep.pid));
    ipcn_unsubscribe(watch, sub);
    assert_int_equal(su_down(sup), 0);
    assert_true(su_gone(keep.pid, 10000));
}

static void test_critical_failure(void **state)
{
    (void)state;
    char log[600];
    pid_t sup = start_robot("crit",
        "  other:\n"
        "    command: [" SU_COMP "]\n"
        "    criticality: optional\n"
        "  heart:\n"
        "    command: [" SU_COMP ", --ready-after, \"200\", --crash-after, \"400\"]\n"
        "    criticality: critical\n"
        "    depends_on: [other]\n"
        "    restart: {intensity: 1, period_ms: 600000, backoff_ms: 10}\n",
        log, sizeof log);
    su_state other;
    if (!su_wait(watch, "crit", "other", "ready", 0, NULL, 30000, &other)) {
        su_dump(log);
        fail_msg("the robot did not come up");
    }
    /* heart fails twice: the robot is shut down and the supervisor ends 1 */
    int rc = tu_wait(sup, 60000);
    if (rc != 1) {
        su_dump(log);
        tu_kill(sup);
        fail_msg("the supervisor ended %d, not 1 after a critical failure", rc);
    }
    assert_true(su_gone(other.pid, 10000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_ten_times),
        cmocka_unit_test(test_rest_for_one),
        cmocka_unit_test(test_past_intensity),
        cmocka_unit_test(test_critical_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
