/* SPDX-License-Identifier: MIT */
/*
 * test_reply_time_left.c — ipcn_reply_time_left() (ipcnet.h): a service
 * handler learns how long its requester still waits, for a request of its
 * own node and for one of a peer; -1 when the requester waits forever.
 * (`ipcnet record --proxy` passes it on to the call it makes.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ipcnet.h"
#include "v_util.h"

static _Atomic int seen_left = -2;

static int on_req(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    (void)node;
    (void)req;
    (void)user;
    seen_left = ipcn_reply_time_left(ctx);
    return ipcn_reply_set(ctx, "ok", 2, "text/plain");
}

static void ask(ipcn_node *n, int timeout_ms)
{
    ipcn_msg *m = NULL;
    seen_left = -2;
    assert_int_equal(ipcn_request(n, "tl/s", "x", 1, "text/plain", &m, timeout_ms),
                     IPCN_OK);
    ipcn_msg_free(m);
}

static void test_reply_time_left(void **state)
{
    (void)state;
    ipcn_node *p = v_open("tlp", NULL);
    assert_int_equal(ipcn_offer(p, "tl/s", "text/plain", on_req, NULL), IPCN_OK);
    /* Its own node's requests. */
    ask(p, 4000);
    assert_true(seen_left > 0 && seen_left <= 4000);
    ask(p, -1);
    assert_int_equal(seen_left, -1);
    assert_int_equal(ipcn_node_start_thread(p), IPCN_OK);
    /* A peer's. */
    ipcn_node *c = v_open("tlc", NULL);
    assert_true(v_wait_count(c, "tl/s", IPCN_SERVICE, 1, V_WAIT_MS));
    ask(c, 4000);
    assert_true(seen_left > 0 && seen_left <= 4000);
    ask(c, -1);
    assert_int_equal(seen_left, -1);
    assert_int_equal(ipcn_reply_time_left(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_reply_time_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
