/* SPDX-License-Identifier: MIT */
/*
 * test_sup_adopt.c — the supervisor is no single point of failure (issue
 * 16): kill -9 of `ipcnet up` leaves its components running (their own
 * sessions, no parent-death signal); a new `ipcnet up` of the same
 * manifest adopts them (found among its peers, recognised by their
 * environment, watched by pidfd) and starts no second copy: one node of
 * each name, the same pids; it restarts an adopted component that dies,
 * and its ordered shutdown ends them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sup_util.h"

#define NCOMP 3
static const char *const names[NCOMP] = {"cam", "det", "arm"};

static int count_nodes(ipcn_node *n, const char *name)
{
    ipcn_peer_list *pl = NULL;
    int k = 0;
    if (ipcn_peers(n, &pl) != IPCN_OK)
        return -1;
    for (size_t i = 0; i < pl->count; i++)
        k += !strcmp(pl->items[i].name, name);
    ipcn_peer_list_free(pl);
    return k;
}

static void test_adopt(void **state)
{
    (void)state;
    tu_net_dir();
    ipcn_node *watch = su_watcher("sup-watch");
    const char *dir = su_robot("adopt");
    char manifest[600], log[600];
    snprintf(manifest, sizeof manifest, "%s/robot.yaml", dir);
    snprintf(log, sizeof log, "%s/up.log", dir);
    su_write(manifest,
             "version: 1\n"
             "robot: adopt\n"
             "components:\n"
             "  cam:\n"
             "    command: [" SU_COMP ", --ready-after, \"30\"]\n"
             "  det:\n"
             "    command: [" SU_COMP "]\n"
             "    depends_on: [cam]\n"
             "  arm:\n"
             "    command: [" SU_COMP "]\n"
             "    depends_on: [det]\n"
             "    restart: {backoff_ms: 20}\n", 0644);
    pid_t sup = su_up(manifest, log);
    su_state st[NCOMP];
    for (int i = 0; i < NCOMP; i++)
        if (!su_wait(watch, "adopt", names[i], "ready", 0, NULL, 30000, &st[i])) {
            su_dump(log);
            fail_msg("%s did not come up", names[i]);
        }
    /* the supervisor dies; its components do not */
    tu_kill(sup);
    for (int i = 0; i < NCOMP; i++)
        assert_true(su_alive(st[i].pid));
    pid_t sup2 = su_up(manifest, log);
    /* its first publication comes after the adoption: ready, same pids */
    for (int i = 0; i < NCOMP; i++) {
        su_state now;
        uint64_t end = tu_now_ms() + 30000;
        bool ok = false;
        while (!ok && tu_now_ms() < end) {
            ok = su_get(watch, "adopt", names[i], &now) && !strcmp(now.state, "ready") &&
                 su_alive(sup2);
            /* the old supervisor's value may linger until its node is gone */
            ok = ok && count_nodes(watch, "sup.adopt") == 1;
            if (!ok)
                usleep(10000);
        }
        if (!ok) {
            su_dump(log);
            fail_msg("%s not adopted", names[i]);
        }
        assert_int_equal(now.pid, st[i].pid);
        assert_int_equal(now.restarts, 0);
    }
    /* no second copy was started: one node of each name, none of the
     * starts the log would show */
    usleep(300000);
    for (int i = 0; i < NCOMP; i++) {
        assert_int_equal(count_nodes(watch, names[i]), 1);
        su_state now;
        assert_true(su_get(watch, "adopt", names[i], &now));
        assert_int_equal(now.pid, st[i].pid);
    }
    /* an adopted component that dies is restarted */
    assert_int_equal(kill(st[2].pid, SIGKILL), 0);
    su_state arm;
    if (!su_wait(watch, "adopt", "arm", "ready", st[2].pid, NULL, 30000, &arm)) {
        su_dump(log);
        fail_msg("the adopted arm was not restarted");
    }
    assert_int_equal(arm.restarts, 1);
    assert_int_equal(su_down(sup2), 0);
    assert_true(su_gone(arm.pid, 10000));
    assert_true(su_gone(st[0].pid, 10000));
    assert_true(su_gone(st[1].pid, 10000));
    ipcn_node_close(watch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adopt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
