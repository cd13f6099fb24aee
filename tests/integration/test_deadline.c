/* SPDX-License-Identifier: MIT */
/*
 * test_deadline.c — a provider never starts a request its caller has given
 * up on.  The provider (ipcn-test-l_prov, count=FILE) appends a byte to a
 * file each time its handler runs; it is stopped (SIGSTOP, as a debugger
 * would) with a request on its way, its caller gets 303 (the provider was
 * declared dead) or 304 (its timeout passed first), and when it goes on
 * (SIGCONT) the handler must not run that request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <string.h>

#include "ipcnet.h"
#include "testutil.h"
#include "helpers/l_common.h"

static ipcn_node *open_node(const char *name, uint32_t dead)
{
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    if (dead)
        o.dead_after_ms = dead;
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, name, &o), IPCN_OK);
    return l_own_node(n);
}

/* How many times the provider's handler ran. */
static long runs(const char *file)
{
    struct stat st;
    return stat(file, &st) == 0 ? (long)st.st_size : 0;
}

/* A request answered by the provider's handler, retried while the provider
 * links again (bounded). */
static void request_ok(ipcn_node *n, const char *svc)
{
    int st = IPCN_SERVICE_UNAVAILABLE;
    uint64_t end = l_now_ms() + 10000;
    while (st != IPCN_OK && l_now_ms() < end) {
        ipcn_msg *m = NULL;
        st = ipcn_request(n, svc, "ping", 4, "text/plain", &m, 3000);
        ipcn_msg_free(m);
        if (st != IPCN_OK)
            ipcn_node_dispatch(n, 50);
    }
    assert_int_equal(st, IPCN_OK);
}

/* want: the status the caller gets while the provider is stopped (303 when
 * it is declared dead first, 304 when the request's timeout passes first);
 * dead: both sides' dead_after_ms (0: the default, 900). */
static void stopped_provider(const char *net, int want, uint32_t dead,
                             int timeout_ms)
{
    l_net(net);
    char count[512], deadarg[32];
    snprintf(count, sizeof count, "count=%s/%s.runs", tu_dir, net);
    snprintf(deadarg, sizeof deadarg, "dead=%u", dead);
    const char *file = count + strlen("count=");
    ipcn_node *n = open_node("caller", dead);
    pid_t pid = dead ? l_spawn("l_prov", "prov", "60", count, "tick_ms=0",
                               deadarg, NULL)
                     : l_spawn("l_prov", "prov", "60", count, "tick_ms=0", NULL);
    assert_true(pid > 0);
    assert_true(L_UNTIL(n, l_count_resources(n, "**", "prov") == 3, 10000));
    request_ok(n, "prov/svc");
    assert_int_equal(runs(file), 1);

    assert_int_equal(kill(pid, SIGSTOP), 0);
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, "prov/svc", "late", 4, "text/plain", &m,
                          timeout_ms);
    ipcn_msg_free(m);
    assert_int_equal(st, want);
    assert_int_equal(kill(pid, SIGCONT), 0);

    /* Once it answers a request sent after it went on, it has read the
     * one it was sent before: that one must not have run. */
    request_ok(n, "prov/svc");
    assert_int_equal(runs(file), 2);
}

/* Declared dead while stopped: the caller got 303; the link it came on is
 * gone when the provider goes on. */
static void test_dropped_provider_does_not_run(void **state)
{
    (void)state;
    stopped_provider("dl-303", IPCN_SERVICE_UNAVAILABLE, 0, 20000);
}

/* The caller's timeout passed while the provider was stopped, its link
 * still up: the provider must see that the deadline passed. */
static void test_timed_out_request_does_not_run(void **state)
{
    (void)state;
    stopped_provider("dl-304", IPCN_GATEWAY_TIMEOUT, 20000, 300);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_dropped_provider_does_not_run, l_teardown),
        cmocka_unit_test_teardown(test_timed_out_request_does_not_run, l_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
