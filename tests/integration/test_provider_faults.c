/* SPDX-License-Identifier: MIT */
/*
 * test_provider_faults.c — a provider is answerable for the requests it
 * fails (issue 15, item 3): the requester's node charges the provider's
 * principal with "failed" for each answer 300 and "timeout" for each
 * request it let time out (given at least a second), never for what the
 * requester did itself (an application status, a cancel, a tight
 * deadline), and, with a reputation section in the
 * policy, quarantines it when the score falls below the threshold: its
 * link closes, the requester's other provider keeps serving.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "testutil.h"

#define WAIT_MS 10000

static char policy[512];
static ipcn_node *req, *bad, *good;

static int on_fail(ipcn_node *n, const ipcn_msg *m, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)m, (void)ctx, (void)user;
    return IPCN_INTERNAL_ERROR;
}

static int on_app(ipcn_node *n, const ipcn_msg *m, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)n, (void)m, (void)ctx, (void)user;
    return 1000; /* an application status: not a fault */
}

static int on_slow(ipcn_node *n, const ipcn_msg *m, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)m, (void)ctx;
    usleep(user ? 1500 * 1000 : 300 * 1000);
    return IPCN_OK;
}

static int on_echo(ipcn_node *n, const ipcn_msg *m, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)user;
    return ipcn_reply_set(ctx, m->data, m->len, m->encoding);
}

static void on_reply(ipcn_node *n, int st, const ipcn_msg *m, void *user)
{
    (void)n, (void)st, (void)m, (void)user;
}

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, name, NULL), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static void write_policy(const char *reputation)
{
    FILE *f = fopen(policy, "w");
    assert_non_null(f);
    fprintf(f, "version: 1\ndefault: allow\n%s", reputation);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(policy, 0644), 0);
}

static bool record(ipcn_node *n, const char *subject,
                   ipcn_quarantine_record *out, uint64_t ev[IPCN_OFFENCE_KINDS])
{
    ipcn_quarantine_list *ql = NULL;
    assert_int_equal(ipcn_quarantines(n, IPCN_QUARANTINE_ALL, &ql), IPCN_OK);
    bool yes = false;
    for (size_t i = 0; i < ql->count && !yes; i++) {
        out->size = sizeof *out;
        assert_int_equal(ipcn_quarantine_list_get(ql, i, out), IPCN_OK);
        yes = !strcmp(out->subject, subject);
    }
    if (yes)
        memcpy(ev, out->evidence, sizeof out->evidence);
    out->subject = out->detail = NULL;
    out->reporters = NULL;
    ipcn_quarantine_list_free(ql);
    return yes;
}

static void wait_found(const char *path)
{
    uint64_t end = tu_now_ms() + WAIT_MS;
    for (;;) {
        ipcn_resource_list *rl = NULL;
        assert_int_equal(ipcn_find(req, path, IPCN_SERVICE, &rl), IPCN_OK);
        size_t c = rl->count;
        ipcn_resource_list_free(rl);
        if (c)
            return;
        if (tu_now_ms() > end)
            fail_msg("%s did not show up", path);
        usleep(5000);
    }
}

static int setup_with(const char *reputation)
{
    static int k;
    snprintf(policy, sizeof policy, "%s/faults-%d.yaml", tu_net_dir(), ++k);
    write_policy(reputation);
    setenv("IPCNET_POLICY", policy, 1);
    bad = open_node("flaky");
    good = open_node("steady");
    req = open_node("client");
    assert_int_equal(ipcn_offer(bad, "svc/fail", "", on_fail, NULL), IPCN_OK);
    assert_int_equal(ipcn_offer(bad, "svc/app", "", on_app, NULL), IPCN_OK);
    assert_int_equal(ipcn_offer(bad, "svc/slow", "", on_slow, NULL), IPCN_OK);
    assert_int_equal(ipcn_offer(bad, "svc/slow_long", "", on_slow, "long"),
                     IPCN_OK);
    assert_int_equal(ipcn_offer(good, "svc/echo", "", on_echo, NULL), IPCN_OK);
    wait_found("svc/fail");
    wait_found("svc/app");
    wait_found("svc/slow");
    wait_found("svc/slow_long");
    wait_found("svc/echo");
    return 0;
}

static int setup_plain(void **state)
{
    (void)state;
    return setup_with("");
}

static int setup_rep(void **state)
{
    (void)state;
    return setup_with("reputation:\n  quarantine_below: -100\n"
                      "  half_life: 1h\n  quarantine_for: 1h\n"
                      "  penalties: {failed: 40}\n");
}

static int teardown(void **state)
{
    (void)state;
    ipcn_node_close(req);
    ipcn_node_close(good);
    ipcn_node_close(bad);
    req = good = bad = NULL;
    unsetenv("IPCNET_POLICY");
    unlink(policy);
    return 0;
}

static int call(const char *path, int timeout_ms)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(req, path, "x", 1, "text/plain", &m, timeout_ms);
    ipcn_msg_free(m);
    return st;
}

/* Without a reputation section: charged and kept, nothing acted on. */
static void t_charged(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(call("svc/fail", WAIT_MS), IPCN_INTERNAL_ERROR);
    for (int i = 0; i < 2; i++)
        assert_int_equal(call("svc/app", WAIT_MS), 1000);
    /* A deadline under a second is the caller's choice: not charged. */
    assert_int_equal(call("svc/slow", 50), IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(call("svc/slow_long", 1000), IPCN_GATEWAY_TIMEOUT);
    /* A cancel of our own is not the provider's fault. */
    ipcn_req r;
    assert_int_equal(ipcn_request_async(req, "svc/slow", "x", 1, "text/plain",
                                        WAIT_MS, on_reply, NULL, &r),
                     IPCN_ACCEPTED);
    assert_int_equal(ipcn_request_cancel(req, r), IPCN_OK);
    ipcn_quarantine_record q;
    uint64_t ev[IPCN_OFFENCE_KINDS];
    assert_true(record(req, "flaky", &q, ev));
    assert_int_equal(ev[IPCN_OFFENCE_FAILED], 3);
    assert_int_equal(ev[IPCN_OFFENCE_TIMEOUT], 1);
    assert_int_equal(ev[IPCN_OFFENCE_BAD_FRAME], 0);
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    assert_true(q.score < 0);
    assert_false(record(req, "steady", &q, ev)); /* never charged */
    assert_int_equal(call("svc/echo", WAIT_MS), IPCN_OK);
}

/* With one: the third failure takes the provider below -100. */
static void t_quarantined(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(call("svc/fail", WAIT_MS), IPCN_INTERNAL_ERROR);
    ipcn_quarantine_record q;
    uint64_t ev[IPCN_OFFENCE_KINDS];
    assert_true(record(req, "flaky", &q, ev));
    assert_int_equal(ev[IPCN_OFFENCE_FAILED], 3);
    assert_int_equal(q.state, IPCN_QUARANTINE_QUARANTINED);
    /* Its services are gone from the client's view; the other's stay. */
    uint64_t end = tu_now_ms() + WAIT_MS;
    int st;
    while ((st = call("svc/fail", 1000)) != IPCN_NOT_FOUND) {
        if (tu_now_ms() > end)
            fail_msg("svc/fail still answers (%d) from a quarantined node", st);
        usleep(10000);
    }
    assert_int_equal(call("svc/echo", WAIT_MS), IPCN_OK);
    assert_int_equal(ipcn_quarantine_lift(req, "flaky"), IPCN_OK);
    wait_found("svc/fail");
}

int main(void)
{
    tu_net_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_charged, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(t_quarantined, setup_rep, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
