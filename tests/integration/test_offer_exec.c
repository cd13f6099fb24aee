/* SPDX-License-Identifier: MIT */
/*
 * test_offer_exec.c — `ipcnet offer --exec` hands its command a CBOR
 * request as JSON text, so a request that says it is CBOR but is not one
 * well-formed item is refused with 200 and never reaches the command raw.
 * The requester is a node of ours (the CLI itself would not send such a
 * request); the provider is the ipcnet tool as built.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ipcnet.h"
#include "testutil.h"
#include "helpers/l_common.h"

static pid_t start_offer(const char *mark)
{
    char bin[512], cmd[700];
    snprintf(bin, sizeof bin, "%s/ipcnet", IPCN_TEST_BINDIR);
    if (access(bin, X_OK) < 0) {
        print_message("    no %s: skipped\n", bin);
        skip();
    }
    /* The command leaves a mark when it runs at all, and echoes. */
    snprintf(cmd, sizeof cmd, "touch '%s'; cat", mark);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl(bin, bin, "offer", "svc/raw", "--exec", cmd, "--name", "x-offer",
              (char *)NULL);
        _exit(127);
    }
    l_track(pid);
    return pid;
}

static void test_ill_formed_cbor_refused(void **state)
{
    (void)state;
    char mark[600];
    snprintf(mark, sizeof mark, "%s/ran", tu_net_dir());
    pid_t offer = start_offer(mark);
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "a-caller", NULL), IPCN_OK);
    l_own_node(n);
    assert_true(L_UNTIL(n, l_count_resources(n, "svc/raw", "x-offer") == 1, 10000));

    /* An array of two items with one: truncated. */
    static const uint8_t bad[] = {0x82, 0x01};
    ipcn_msg *r = NULL;
    int st = ipcn_request(n, "svc/raw", bad, sizeof bad, "cbor", &r, 10000);
    if (st != IPCN_BAD_REQUEST)
        print_error("ill-formed CBOR request: %d %s (%.*s)\n", st,
                    ipcn_status_str(st), r ? (int)r->len : 0,
                    r ? (const char *)r->data : "");
    assert_int_equal(st, IPCN_BAD_REQUEST);
    assert_non_null(r);
    assert_non_null(strstr((const char *)r->data, "well-formed CBOR"));
    ipcn_msg_free(r);
    r = NULL;
    assert_int_not_equal(access(mark, F_OK), 0); /* the command never ran */

    /* A well-formed one goes through: [1, 2] as JSON and back. */
    static const uint8_t good[] = {0x82, 0x01, 0x02};
    st = ipcn_request(n, "svc/raw", good, sizeof good, "cbor", &r, 10000);
    assert_int_equal(st, IPCN_OK);
    assert_non_null(r);
    assert_int_equal(r->len, sizeof good);
    assert_memory_equal(r->data, good, sizeof good);
    ipcn_msg_free(r);
    assert_int_equal(access(mark, F_OK), 0);
    assert_int_equal(l_stop(offer, 10000), 0);
}

int main(void)
{
    tu_net_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ill_formed_cbor_refused, l_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
