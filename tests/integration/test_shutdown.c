/* SPDX-License-Identifier: MIT */
/*
 * test_shutdown.c — a node's part in the ordered shutdown (ipcnet.h
 * "Readiness, criticality and shutdown"; docs/protocol.md 12.4) with the
 * library as shipped: a victim node (in this process, on its own thread)
 * with a safe-state handler, under a real network policy
 * ($IPCNET_POLICY, default allow) that lets one node not execute
 * "system/shutdown" (202, the handler never runs) and another not even
 * read it (203); a node the policy says nothing of may (100).  The
 * handler runs on the victim's dispatching thread, is told what was
 * asked, and its status is the answer: at once, or later through
 * ipcn_shutdown_done() (102), a second ask meanwhile getting 205; a phase
 * without a handler is answered 103.  A raw client that does not use the
 * library gets 200 (with the reason) for each bad body, the handler not
 * run, its link kept, and 100 for a good one.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cbor_lit.h"
#include "ipcnet.h"
#include "ipcnet_value.h"
#include "raw_client.h"
#include "testutil.h"

#define VICTIM "sdv"
#define PATH "@sys/" VICTIM "/shutdown"

static ipcn_node *victim;

/* What the victim's handler saw, and what it answers. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned calls;
    int ret;              /* its status; with done_inside, 102 after: */
    int done_inside;      /* ipcn_shutdown_done() of this status first */
    int done_inside_st;   /* ... which returned */
    pthread_t thread;
    ipcn_shutdown_info info;
    char reason[1100], by[80];
} h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int on_safe(ipcn_node *n, const ipcn_shutdown_info *info, void *user)
{
    assert_ptr_equal(user, &h);
    assert_ptr_equal(n, victim);
    pthread_mutex_lock(&h.mu);
    h.calls++;
    h.thread = pthread_self();
    h.info = *info;
    snprintf(h.reason, sizeof h.reason, "%s", info->reason);
    snprintf(h.by, sizeof h.by, "%s", info->by);
    h.info.reason = h.reason;
    h.info.by = h.by;
    int ret = h.ret;
    if (h.done_inside)
        h.done_inside_st = ipcn_shutdown_done(n, info->phase, h.done_inside);
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    return ret;
}

static unsigned calls(void)
{
    pthread_mutex_lock(&h.mu);
    unsigned c = h.calls;
    pthread_mutex_unlock(&h.mu);
    return c;
}

/* Wait for the handler's call number k (bounded: a hang fails). */
static void wait_calls(unsigned k)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += IO_TIMEOUT_MS / 1000;
    pthread_mutex_lock(&h.mu);
    while (h.calls < k)
        if (pthread_cond_timedwait(&h.cv, &h.mu, &ts))
            fail_msg("the handler did not run (%u calls)", h.calls);
    pthread_mutex_unlock(&h.mu);
}

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK)
        fail_msg("ipcn_node_open(%s): %d %s", name, st, ipcn_status_str(st));
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/%s.sock",
             raw_target.dir, VICTIM);
    char policy[600];
    snprintf(policy, sizeof policy, "%s/shutdown-policy.yaml", raw_target.dir);
    FILE *f = fopen(policy, "w");
    assert_non_null(f);
    fputs("version: 1\n"
          "default: allow\n"
          "rules:\n"
          "  - deny: execute\n"
          "    who: \"node:sd-nope\"\n"
          "    what: \"system/shutdown\"\n"
          "  - deny: read\n"
          "    who: \"node:sd-hidden\"\n"
          "    what: \"system/shutdown\"\n",
          f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(policy, 0644), 0);
    setenv("IPCNET_POLICY", policy, 1);
    victim = open_node(VICTIM);
    h.calls = 0;
    h.ret = IPCN_OK;
    h.done_inside = 0;
    assert_int_equal(ipcn_on_shutdown(victim, IPCN_SHUTDOWN_SAFE_STATE,
                                      on_safe, &h),
                     IPCN_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    raw_free_all();
    ipcn_node_close(victim);
    victim = NULL;
    return 0;
}

static size_t body(const char *lit, uint8_t *out, size_t cap)
{
    return cl_cbor(lit, out, cap);
}

static int ask(ipcn_node *n, const char *lit)
{
    uint8_t b[256];
    size_t len = body(lit, b, sizeof b);
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, PATH, b, len, "cbor", &m, IO_TIMEOUT_MS);
    ipcn_msg_free(m);
    return st;
}

static uint64_t victim_denied(void)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(victim, &s), IPCN_OK);
    return s.denied;
}

static void test_api(void **state)
{
    (void)state;
    assert_int_equal(ipcn_on_shutdown(NULL, IPCN_SHUTDOWN_STOP, on_safe, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_on_shutdown(victim, (ipcn_shutdown_phase)0, on_safe,
                                      NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_on_shutdown(victim, (ipcn_shutdown_phase)3, on_safe,
                                      NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_shutdown_done(NULL, IPCN_SHUTDOWN_STOP, 100),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_shutdown_done(victim, (ipcn_shutdown_phase)9, 100),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_shutdown_done(victim, IPCN_SHUTDOWN_SAFE_STATE, 102),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_shutdown_done(victim, IPCN_SHUTDOWN_SAFE_STATE, 42),
                     IPCN_BAD_REQUEST);
    /* Nothing awaited. */
    assert_int_equal(ipcn_shutdown_done(victim, IPCN_SHUTDOWN_SAFE_STATE, 100),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_shutdown_done(victim, IPCN_SHUTDOWN_STOP, 100),
                     IPCN_NOT_FOUND);
    /* Removing a handler never set is fine. */
    assert_int_equal(ipcn_on_shutdown(victim, IPCN_SHUTDOWN_STOP, NULL, NULL),
                     IPCN_OK);
    assert_int_equal(calls(), 0);
}

static void test_policy(void **state)
{
    (void)state;
    ipcn_node *ok = open_node("sd-ok"), *nope = open_node("sd-nope"),
              *hidden = open_node("sd-hidden");
    assert_int_equal(ipcn_node_wait_peers(victim, 3, IO_TIMEOUT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_peers(nope, 1, IO_TIMEOUT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_peers(hidden, 1, IO_TIMEOUT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_peers(ok, 1, IO_TIMEOUT_MS), IPCN_OK);
    /* Not allowed: refused before anything, the handler never runs. */
    uint64_t before = victim_denied();
    assert_int_equal(ask(nope, "{\"phase\": \"safe_state\"}"), IPCN_FORBIDDEN);
    assert_int_equal(ask(hidden, "{\"phase\": \"safe_state\"}"),
                     IPCN_NOT_FOUND);
    /* Even with a bad body: the permission comes first. */
    assert_int_equal(ask(nope, "{\"phase\": 7}"), IPCN_FORBIDDEN);
    assert_int_equal(victim_denied(), before + 3);
    assert_int_equal(calls(), 0);
    /* Allowed (no rule about it, default allow): the handler runs on the
     * victim's dispatching thread, told everything. */
    assert_int_equal(ask(ok, "{\"phase\": \"safe_state\", \"system_phase\": 1, "
                             "\"deadline_ms\": 2500, \"reason\": \"test\"}"),
                     IPCN_OK);
    assert_int_equal(calls(), 1);
    assert_false(pthread_equal(h.thread, pthread_self()));
    assert_true(h.info.size >= sizeof h.info);
    assert_int_equal(h.info.phase, IPCN_SHUTDOWN_SAFE_STATE);
    assert_int_equal(h.info.system_phase, 1);
    assert_int_equal(h.info.deadline_ms, 2500);
    assert_string_equal(h.reason, "test");
    assert_string_equal(h.by, "sd-ok");
    /* Defaults: no reason, no deadline, the phase's system phase. */
    assert_int_equal(ask(ok, "{\"phase\": \"safe_state\"}"), IPCN_OK);
    assert_int_equal(calls(), 2);
    assert_int_equal(h.info.system_phase, 1);
    assert_int_equal(h.info.deadline_ms, 0);
    assert_string_equal(h.reason, "");
    /* Keys it does not know are skipped. */
    assert_int_equal(ask(ok, "{\"later\": [1, {\"x\": 2}], \"phase\": "
                             "\"safe_state\", \"system_phase\": 3}"),
                     IPCN_OK);
    assert_int_equal(calls(), 3);
    assert_int_equal(h.info.system_phase, 3);
    /* The handler's status is the answer: an error, an application code,
     * and a status no handler may give (300). */
    h.ret = IPCN_SERVICE_UNAVAILABLE;
    assert_int_equal(ask(ok, "{\"phase\": \"safe_state\"}"),
                     IPCN_SERVICE_UNAVAILABLE);
    h.ret = 1042;
    assert_int_equal(ask(ok, "{\"phase\": \"safe_state\"}"), 1042);
    h.ret = 42;
    assert_int_equal(ask(ok, "{\"phase\": \"safe_state\"}"),
                     IPCN_INTERNAL_ERROR);
    /* 201 and 202 mean the permission check alone (an asker does not
     * signal a process that refused it so): a handler's are sent as 300 */
    h.ret = IPCN_FORBIDDEN;
    assert_int_equal(ask(ok, "{\"phase\": \"safe_state\"}"),
                     IPCN_INTERNAL_ERROR);
    h.ret = IPCN_UNAUTHORIZED;
    assert_int_equal(ask(ok, "{\"phase\": \"safe_state\"}"),
                     IPCN_INTERNAL_ERROR);
    assert_int_equal(calls(), 8);
    /* A phase with no handler: 103 at once; a removed one too. */
    assert_int_equal(ask(ok, "{\"phase\": \"stop\", \"system_phase\": 4}"),
                     IPCN_NO_DATA);
    assert_int_equal(ipcn_on_shutdown(victim, IPCN_SHUTDOWN_SAFE_STATE, NULL,
                                      NULL),
                     IPCN_OK);
    assert_int_equal(ask(ok, "{\"phase\": \"safe_state\"}"), IPCN_NO_DATA);
    assert_int_equal(calls(), 8);
    /* The same refusals as before for those not allowed, handler or not. */
    assert_int_equal(ask(nope, "{\"phase\": \"stop\"}"), IPCN_FORBIDDEN);
    ipcn_node_close(ok);
    ipcn_node_close(nope);
    ipcn_node_close(hidden);
}

static struct {
    pthread_mutex_t mu;
    int status;
    bool got;
} rep = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_reply(ipcn_node *n, int status, const ipcn_msg *m, void *user)
{
    (void)n;
    (void)m;
    (void)user;
    pthread_mutex_lock(&rep.mu);
    rep.status = status;
    rep.got = true;
    pthread_mutex_unlock(&rep.mu);
}

static bool reply_got(int *status)
{
    pthread_mutex_lock(&rep.mu);
    bool g = rep.got;
    *status = rep.status;
    pthread_mutex_unlock(&rep.mu);
    return g;
}

/* Is a peer of that name linked to the victim? */
static bool peer_linked(const char *name)
{
    ipcn_peer_list *pl = NULL;
    assert_int_equal(ipcn_peers(victim, &pl), IPCN_OK);
    bool found = false;
    for (size_t i = 0; i < pl->count; i++)
        found |= !strcmp(pl->items[i].name, name);
    ipcn_peer_list_free(pl);
    return found;
}

static void test_deferred(void **state)
{
    (void)state;
    ipcn_node *ok = open_node("sd-ok"), *other = open_node("sd-other");
    assert_int_equal(ipcn_node_wait_peers(victim, 2, IO_TIMEOUT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_peers(ok, 1, IO_TIMEOUT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_peers(other, 1, IO_TIMEOUT_MS), IPCN_OK);
    uint8_t b[128];
    size_t len = body("{\"phase\": \"safe_state\", \"deadline_ms\": 5000}", b,
                      sizeof b);
    /* The handler confirms later: the asker waits for it. */
    h.ret = IPCN_ACCEPTED;
    assert_int_equal(ipcn_request_async(ok, PATH, b, len, "cbor",
                                        IO_TIMEOUT_MS, on_reply, NULL, NULL),
                     IPCN_ACCEPTED);
    wait_calls(1);
    /* A second ask of the phase meanwhile: 205, the handler not run. */
    assert_int_equal(ask(other, "{\"phase\": \"safe_state\"}"),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(calls(), 1);
    int st;
    assert_false(reply_got(&st));
    /* Confirmed: the asker gets it; a second confirmation finds nothing. */
    assert_int_equal(ipcn_shutdown_done(victim, IPCN_SHUTDOWN_SAFE_STATE,
                                        IPCN_OK),
                     IPCN_OK);
    assert_int_equal(ipcn_shutdown_done(victim, IPCN_SHUTDOWN_SAFE_STATE,
                                        IPCN_OK),
                     IPCN_NOT_FOUND);
    for (unsigned i = 0; !reply_got(&st); i++) {
        if (i > IO_TIMEOUT_MS / 10)
            fail_msg("no answer after ipcn_shutdown_done()");
        usleep(10000);
    }
    assert_int_equal(st, IPCN_OK);
    /* The phase may be asked again. */
    h.ret = IPCN_OK;
    assert_int_equal(ask(other, "{\"phase\": \"safe_state\"}"), IPCN_OK);
    assert_int_equal(calls(), 2);
    assert_string_equal(h.by, "sd-other");
    /* Confirmed from inside the handler, before it returns 102. */
    h.ret = IPCN_ACCEPTED;
    h.done_inside = 1077;
    assert_int_equal(ask(other, "{\"phase\": \"safe_state\"}"), 1077);
    assert_int_equal(h.done_inside_st, IPCN_OK);
    assert_int_equal(calls(), 3);
    /* The asker leaves while its answer is awaited: nothing to confirm. */
    h.done_inside = 0;
    h.ret = IPCN_ACCEPTED;
    pthread_mutex_lock(&rep.mu);
    rep.got = false;
    pthread_mutex_unlock(&rep.mu);
    assert_int_equal(ipcn_request_async(ok, PATH, b, len, "cbor",
                                        IO_TIMEOUT_MS, on_reply, NULL, NULL),
                     IPCN_ACCEPTED);
    wait_calls(4);
    ipcn_node_close(ok);
    ok = NULL;
    for (unsigned i = 0; peer_linked("sd-ok"); i++) {
        if (i > IO_TIMEOUT_MS / 10)
            fail_msg("the victim still sees sd-ok");
        usleep(10000);
    }
    assert_int_equal(ipcn_shutdown_done(victim, IPCN_SHUTDOWN_SAFE_STATE,
                                        IPCN_OK),
                     IPCN_NOT_FOUND);
    /* ... and the phase may be asked again. */
    h.ret = IPCN_OK;
    assert_int_equal(ask(other, "{\"phase\": \"safe_state\"}"), IPCN_OK);
    assert_int_equal(calls(), 5);
    /* An asker leaves while the confirmation is awaited and nobody
     * confirms: a new ask is not refused 205 for good — it runs the
     * handler again and gets the confirmation. */
    ipcn_node *gone = open_node("sd-gone");
    /* Linked to the victim, not only to sd-other (which may come first). */
    assert_int_equal(ipcn_node_wait_peers(gone, 2, IO_TIMEOUT_MS), IPCN_OK);
    h.ret = IPCN_ACCEPTED;
    assert_int_equal(ipcn_request_async(gone, PATH, b, len, "cbor",
                                        IO_TIMEOUT_MS, on_reply, NULL, NULL),
                     IPCN_ACCEPTED);
    wait_calls(6);
    ipcn_node_close(gone);
    for (unsigned i = 0; peer_linked("sd-gone"); i++) {
        if (i > IO_TIMEOUT_MS / 10)
            fail_msg("the victim still sees sd-gone");
        usleep(10000);
    }
    pthread_mutex_lock(&rep.mu);
    rep.got = false;
    pthread_mutex_unlock(&rep.mu);
    assert_int_equal(ipcn_request_async(other, PATH, b, len, "cbor",
                                        IO_TIMEOUT_MS, on_reply, NULL, NULL),
                     IPCN_ACCEPTED);
    wait_calls(7);
    assert_string_equal(h.by, "sd-other");
    assert_int_equal(ipcn_shutdown_done(victim, IPCN_SHUTDOWN_SAFE_STATE,
                                        IPCN_OK),
                     IPCN_OK);
    for (unsigned i = 0; !reply_got(&st); i++) {
        if (i > IO_TIMEOUT_MS / 10)
            fail_msg("the new asker got no confirmation");
        usleep(10000);
    }
    assert_int_equal(st, IPCN_OK);
    /* A handler of the node asked by itself: run from dispatch too. */
    h.done_inside = 0;
    h.ret = IPCN_OK;
    assert_int_equal(ask(victim, "{\"phase\": \"safe_state\"}"), IPCN_OK);
    assert_int_equal(calls(), 8);
    assert_string_equal(h.by, VICTIM);
    ipcn_node_close(ok);
    ipcn_node_close(other);
}

/* A REQUEST of PATH with encoding enc, by hand; its answer. */
static uint16_t raw_ask(raw *r, const char *enc, const void *data, size_t len,
                        uint64_t corr, rframe *ans)
{
    B.len = 0;
    size_t off = f_begin(&B, T_REQUEST, r->id, corr);
    b_u32(&B, 5000);
    b_str(&B, PATH, strlen(PATH));
    b_str(&B, enc, strlen(enc));
    b_blob(&B, data, len);
    f_end(&B, off);
    raw_send_buf(r);
    for (;;) {
        if (raw_next(r, ans, IO_TIMEOUT_MS) != 1)
            fail_msg("no answer to %s", PATH);
        if (ans->type == T_REPLY && ans->corr == corr)
            return ans->status;
        rframe_free(ans);
    }
}

static void expect_bad(raw *r, const char *enc, const void *data, size_t len,
                       uint64_t corr, const char *words)
{
    rframe a;
    uint16_t st = raw_ask(r, enc, data, len, corr, &a);
    if (st != ST_BAD_REQUEST)
        fail_msg("body %llu: %u, not 200", (unsigned long long)corr, st);
    assert_non_null(memmem(a.data, a.data_len, words, strlen(words)));
    rframe_free(&a);
}

static void test_raw(void **state)
{
    (void)state;
    raw *r = raw_link();
    uint8_t b[2048];
    uint64_t corr = 1;
    expect_bad(r, "text/plain", "stop", 4, corr++, "CBOR");
    expect_bad(r, "", NULL, 0, corr++, "CBOR");
    expect_bad(r, "cbor", NULL, 0, corr++, "CBOR");
    expect_bad(r, "cbor", "\xa1\x65phase", 7, corr++, "CBOR"); /* cut short */
    const struct {
        const char *lit, *words;
    } bad[] = {
        {"\"safe_state\"", "CBOR"},
        {"[\"phase\", \"stop\"]", "CBOR"},
        {"{}", "missing"},
        {"{\"reason\": \"x\"}", "missing"},
        {"{\"phase\": \"halt\"}", "\"phase\""},
        {"{\"phase\": 1}", "\"phase\""},
        {"{\"phase\": \"STOP\"}", "\"phase\""},
        {"{\"phase\": \"stop\", \"system_phase\": 0}", "system_phase"},
        {"{\"phase\": \"stop\", \"system_phase\": 5}", "system_phase"},
        {"{\"phase\": \"stop\", \"system_phase\": -1}", "system_phase"},
        {"{\"phase\": \"stop\", \"system_phase\": \"2\"}", "system_phase"},
        {"{\"phase\": \"stop\", \"deadline_ms\": -5}", "deadline_ms"},
        {"{\"phase\": \"stop\", \"deadline_ms\": 4294967296}", "deadline_ms"},
        {"{\"phase\": \"stop\", \"deadline_ms\": 1.5}", "deadline_ms"},
        {"{\"phase\": \"stop\", \"reason\": 3}", "reason"},
        {"{\"phase\": \"stop\", \"reason\": h'41'}", "reason"},
        {"{\"phase\": \"stop\", \"phase\": \"safe_state\"}", "twice"},
        {"{1: \"stop\"}", "CBOR"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = body(bad[i].lit, b, sizeof b);
        expect_bad(r, "cbor", b, len, corr++, bad[i].words);
    }
    /* A reason too long, one with a NUL. */
    char lit[1200];
    snprintf(lit, sizeof lit, "{\"phase\": \"safe_state\", \"reason\": \"%01025d\"}", 0);
    size_t len = body(lit, b, sizeof b);
    expect_bad(r, "cbor", b, len, corr++, "reason");
    const uint8_t nul[] = {0xa2, 0x65, 'p', 'h', 'a', 's', 'e', 0x64, 's',
                           't', 'o', 'p', 0x66, 'r', 'e', 'a', 's', 'o', 'n',
                           0x61, 0x00};
    expect_bad(r, "cbor", nul, sizeof nul, corr++, "reason");
    assert_int_equal(calls(), 0);
    raw_ping(r, 7); /* still linked */
    /* A good one: the handler runs, 100. */
    len = body("{\"phase\": \"safe_state\", \"reason\": \"raw\"}", b, sizeof b);
    rframe a;
    assert_int_equal(raw_ask(r, "cbor", b, len, corr++, &a), ST_OK);
    rframe_free(&a);
    assert_int_equal(calls(), 1);
    assert_string_equal(h.reason, "raw");
    assert_int_equal(strncmp(h.by, "hostile-", 8), 0);
    /* The stop phase: no handler, 103. */
    len = body("{\"phase\": \"stop\"}", b, sizeof b);
    assert_int_equal(raw_ask(r, "cbor", b, len, corr++, &a), 103);
    rframe_free(&a);
    raw_ping(r, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
