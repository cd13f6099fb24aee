/* SPDX-License-Identifier: MIT */
/*
 * test_debug_liveness.c — a node stopped as at a breakpoint (SIGSTOP) for
 * 3 s, longer than its peers' dead time (0.9 s), while a peer waits for
 * its answer.  The stopped node asks to be waited for
 * (IPCNET_DEBUG_LIVENESS=20, told in STATE); its peer grants that only as
 * far as the network's policy allows (debug: liveness:):
 *
 *   - policy "debug: {liveness: 30s}": the node is kept, the query it was
 *     asked is answered once it runs again, no peer-down;
 *   - a policy without a debug section: the ask is not granted, the node
 *     is dropped (304 peer-down) and the query ends with 303;
 *   - "debug: {liveness: 1s}": granted 1 s only, so a 3 s stop still
 *     drops it;
 *   - "debug: {liveness: 30s, all: true}": kept without asking.
 *
 * Outcomes only: no assertion on how long anything took.
 * Helper: ipcn-test-l_prov (a provider: <name>/data).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "ipcnet.h"
#include "testutil.h"
#include "helpers/l_common.h"

#define STOP_MS 3000 /* whole seconds */

/* Sends SIGCONT after STOP_MS, or at once when the test is done waiting
 * (the provider was dropped): a breakpoint the developer leaves. */
struct waker {
    pid_t pid;
    bool done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static void *waker_main(void *arg)
{
    struct waker *w = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += STOP_MS / 1000;
    pthread_mutex_lock(&w->lock);
    while (!w->done &&
           pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&w->lock);
    kill(w->pid, SIGCONT);
    return NULL;
}

/* The network's policy file, named by IPCNET_POLICY for this process and
 * the helpers it starts. */
static void write_policy(const char *net, const char *debug)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.yaml", tu_net_dir(), net);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "version: 1\ndefault: allow\n%s", debug);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
    setenv("IPCNET_POLICY", path, 1);
}

/* One run: returns the status of the query asked while the provider was
 * stopped, and whether its link went down (*dropped). */
static int stopped_provider(const char *net, const char *debug, bool ask,
                            bool *dropped)
{
    write_policy(net, debug); /* tu_net_dir() unsets IPCNET_NETWORK: first */
    l_net(net);
    l_events *ev = l_new_events();
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "waiter", NULL), IPCN_OK);
    l_own_node(n);
    ipcn_node_set_event_fn(n, l_event_fn, ev);

    /* Only the provider asks to be waited for (when ask). */
    if (ask)
        setenv("IPCNET_DEBUG_LIVENESS", "20", 1);
    pid_t pid = l_spawn("l_prov", "debugged", "60", NULL);
    unsetenv("IPCNET_DEBUG_LIVENESS");
    assert_true(pid > 0);
    assert_true(L_UNTIL(n, l_count_resources(n, "debugged/**", "debugged") >= 3,
                        10000));
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(n, "debugged/data", &m, 5000), IPCN_OK);
    ipcn_msg_free(m);
    m = NULL;

    size_t mark = l_events_mark(ev);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    struct waker w = {.pid = pid, .lock = PTHREAD_MUTEX_INITIALIZER,
                      .cond = PTHREAD_COND_INITIALIZER};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, waker_main, &w), 0);
    /* Waits while the provider is stopped: the link is watched. */
    int st = ipcn_query(n, "debugged/data", &m, 20000);
    pthread_mutex_lock(&w.lock);
    w.done = true;
    pthread_cond_signal(&w.cond);
    pthread_mutex_unlock(&w.lock);
    pthread_join(th, NULL);
    if (st == IPCN_OK)
        assert_memory_equal(m->data, "value-of-debugged", m->len);
    ipcn_msg_free(m);
    /* Events are told on dispatch: a drop is told at once, none within
     * half a second of an answer means none. */
    l_event down;
    *dropped = L_UNTIL(n, l_events_find(ev, mark, IPCN_EV_PEER_DOWN, "debugged",
                                        &down) >= 0,
                       st == IPCN_OK ? 500 : 5000);
    if (*dropped)
        assert_int_equal(down.status, IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(n);
    unsetenv("IPCNET_POLICY");
    return st;
}

static void test_debug_network_keeps_it(void **state)
{
    (void)state;
    bool dropped = true;
    int st = stopped_provider("dbg-on", "debug:\n  liveness: 30s\n", true, &dropped);
    assert_int_equal(st, IPCN_OK);
    assert_false(dropped);
}

static void test_no_debug_drops_it(void **state)
{
    (void)state;
    bool dropped = false;
    int st = stopped_provider("dbg-off", "", true, &dropped);
    assert_int_equal(st, IPCN_SERVICE_UNAVAILABLE);
    assert_true(dropped);
}

static void test_granted_only_what_policy_allows(void **state)
{
    (void)state;
    bool dropped = false;
    int st = stopped_provider("dbg-cap", "debug:\n  liveness: 1s\n", true, &dropped);
    assert_int_equal(st, IPCN_SERVICE_UNAVAILABLE);
    assert_true(dropped);
}

/* "all: true": every node is waited for, asked or not (a debugger
 * attached to a component started without IPCNET_DEBUG_LIVENESS). */
static void test_debug_all_keeps_one_that_did_not_ask(void **state)
{
    (void)state;
    bool dropped = true;
    int st = stopped_provider("dbg-all", "debug: {liveness: 30s, all: true}\n",
                              false, &dropped);
    assert_int_equal(st, IPCN_OK);
    assert_false(dropped);
}

/* Outside input, parsed strictly: a malformed value is refused, not
 * ignored. */
static void test_bad_env(void **state)
{
    (void)state;
    l_net("dbg-env");
    static const char *const bad[] = {"abc", "-1", "86401", "1.5", "10s",
                                      "1234567"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("IPCNET_DEBUG_LIVENESS", bad[i], 1);
        ipcn_node *n = NULL;
        if (ipcn_node_open(&n, "bad", NULL) != IPCN_BAD_REQUEST)
            fail_msg("IPCNET_DEBUG_LIVENESS=%s accepted", bad[i]);
    }
    setenv("IPCNET_DEBUG_LIVENESS", "0", 1);
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "ok", NULL), IPCN_OK);
    ipcn_node_close(n);
    unsetenv("IPCNET_DEBUG_LIVENESS");
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.debug_liveness_ms = IPCN_DEBUG_LIVENESS_MAX_MS + 1;
    assert_int_equal(ipcn_node_open(&n, "bad", &o), IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_debug_network_keeps_it, l_teardown),
        cmocka_unit_test_teardown(test_no_debug_drops_it, l_teardown),
        cmocka_unit_test_teardown(test_granted_only_what_policy_allows,
                                  l_teardown),
        cmocka_unit_test_teardown(test_debug_all_keeps_one_that_did_not_ask,
                                  l_teardown),
        cmocka_unit_test_teardown(test_bad_env, l_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
