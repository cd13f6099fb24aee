/* SPDX-License-Identifier: MIT */
/*
 * test_sync.c — ipcn_node_wait_synced(): a node that has just opened knows
 * the whole network once it returns, with no further dispatch; a hung node
 * makes it time out; a dead one does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include "ipcnet.h"
#include "v_util.h"

static const char *const helpers[] = {"s-one", "s-two", "s-three"};

/* Three helpers, each with a data resource, known to a watcher first so
 * that they are surely up before the node under test opens. */
static void start_helpers(pid_t pids[3])
{
    ipcn_node *w = v_open("a-watch", NULL);
    for (int i = 0; i < 3; i++) {
        char spec[64];
        snprintf(spec, sizeof spec, "data:sync/%s/state", helpers[i]);
        pids[i] = v_spawn(helpers[i], spec, NULL);
    }
    for (int i = 0; i < 3; i++)
        v_wait_helper(w, helpers[i]);
    v_close(w);
}

static size_t count_now(ipcn_node *n, const char *pattern)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, pattern, IPCN_ANY, &rl), IPCN_OK);
    size_t k = rl->count;
    ipcn_resource_list_free(rl);
    return k;
}

static void test_synced_knows_everything(void **state)
{
    (void)state;
    pid_t pids[3];
    start_helpers(pids);
    ipcn_node *z = v_open("z-new", NULL);
    /* Nothing is known before any I/O... */
    assert_int_equal(count_now(z, "**"), 0);
    assert_int_equal(ipcn_node_wait_synced(z, V_WAIT_MS), IPCN_OK);
    /* ...and everything right after, with no dispatch in between: three
     * data resources and three control services. */
    assert_int_equal(count_now(z, "sync/*/state"), 3);
    assert_int_equal(count_now(z, "ctl/*"), 3);
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(z, &s), IPCN_OK);
    assert_int_equal(s.peers, 3);
    /* Already synced: returns at once, even with no time to wait. */
    assert_int_equal(ipcn_node_wait_synced(z, 0), IPCN_OK);

    /* Who subscribes: nobody yet; then this node, once per pattern. */
    ipcn_subscription_list *sl = NULL;
    assert_int_equal(ipcn_subscriptions(z, &sl), IPCN_OK);
    assert_int_equal(sl->count, 0);
    ipcn_subscription_list_free(sl);
    ipcn_sub s1, s2;
    assert_int_equal(ipcn_subscribe(z, "sync/**", 0, NULL, NULL, &s1), IPCN_OK);
    assert_int_equal(ipcn_subscribe(z, "sync/**", 0, NULL, NULL, &s2), IPCN_OK);
    assert_int_equal(ipcn_subscriptions(z, &sl), IPCN_OK);
    assert_int_equal(sl->count, 1);
    assert_string_equal(sl->items[0].node, "z-new");
    assert_string_equal(sl->items[0].pattern, "sync/**");
    assert_true(sl->items[0].node_id == ipcn_node_id(z));
    ipcn_subscription_list_free(sl);
    assert_int_equal(ipcn_subscriptions(NULL, &sl), IPCN_BAD_REQUEST);
    ipcn_subscription_list_free(NULL);
}

static void test_synced_hung_node_times_out(void **state)
{
    (void)state;
    pid_t pids[3];
    start_helpers(pids);
    assert_int_equal(kill(pids[1], SIGSTOP), 0);
    ipcn_node *z = v_open("z-new", NULL);
    assert_int_equal(ipcn_node_wait_synced(z, 600), IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(count_now(z, "sync/*/state"), 2);
    assert_int_equal(kill(pids[1], SIGCONT), 0);
    assert_int_equal(ipcn_node_wait_synced(z, V_WAIT_MS), IPCN_OK);
    assert_int_equal(count_now(z, "sync/*/state"), 3);
}

static void test_synced_dead_node_is_not_waited_for(void **state)
{
    (void)state;
    pid_t pids[3];
    start_helpers(pids);
    v_kill(pids[2]); /* its socket and lock stay until someone sweeps */
    ipcn_node *z = v_open("z-new", NULL);
    assert_int_equal(ipcn_node_wait_synced(z, V_WAIT_MS), IPCN_OK);
    assert_int_equal(count_now(z, "sync/*/state"), 2);
    assert_int_equal(ipcn_node_wait_synced(NULL, 0), IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_synced_knows_everything),
        V_TEST(test_synced_hung_node_times_out),
        V_TEST(test_synced_dead_node_is_not_waited_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
