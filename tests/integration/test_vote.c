/* SPDX-License-Identifier: MIT */
/*
 * test_vote.c — requests in a mode (ipcn_request_ex(), issue 17 item 2):
 * three providers of a service, separate nodes (each with its own thread,
 * in this process), one requester.  VOTE: the majority wins and the
 * dissenter is reported and charged (its reputation shows "dissent"); two
 * different wrong answers give 207; two equal wrong ones win (a vote
 * trusts a majority); numbers of CBOR answers within the tolerance.  ALL:
 * every answer, 104 with the silent provider's item 304, or 303 for one
 * that left.  ANY: as ipcn_request().
 *
 * No timed assertions: where the order of answers matters (a dissenter is
 * one whose answer came before the vote was decided), the providers hold
 * their answers and the test releases them one at a time, the next only
 * once the requester has read the previous (its frames_in counter).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "ipcnet.h"
#include "ipcnet_redundancy.h"
#include "testutil.h"

#define WAIT_MS 10000

/* How one provider answers one service. */
enum { NOW, HOLD, NEVER, FAIL };
typedef struct beh {
    int how;
    const uint8_t *ans;
    size_t len;
    const char *enc;
    atomic_int calls;
    atomic_int held;           /* HOLD: a responder waits in resp */
    ipcn_responder resp;
} beh;

/* {"x": 1.0}, {"x": 2.0}, {"x": 3.0}; 1.0 and 1.0000001. */
static const uint8_t A[] = {0xa1, 0x61, 'x', 0xf9, 0x3c, 0x00};
static const uint8_t B[] = {0xa1, 0x61, 'x', 0xf9, 0x40, 0x00};
static const uint8_t C[] = {0xa1, 0x61, 'x', 0xf9, 0x42, 0x00};
static const uint8_t ONE[] = {0xf9, 0x3c, 0x00};
static const uint8_t ONE_P[] = {0xfb, 0x3f, 0xf0, 0x00, 0x00,
                                0x1a, 0xd7, 0xf2, 0x9b};

static ipcn_node *pa, *pb, *pc, *asker;

static int handler(ipcn_node *n, const ipcn_msg *m, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)m;
    beh *b = user;
    atomic_fetch_add(&b->calls, 1);
    if (b->how == NEVER) {
        (void)ipcn_reply_defer(ctx);
        return IPCN_ACCEPTED;
    }
    if (b->how == FAIL)
        return IPCN_INTERNAL_ERROR; /* 300, no body */
    if (b->how == HOLD) {
        b->resp = ipcn_reply_defer(ctx);
        atomic_store(&b->held, 1);
        return IPCN_ACCEPTED;
    }
    return ipcn_reply_set(ctx, b->ans, b->len, b->enc);
}

static ipcn_node *open_node(const char *name, bool thread)
{
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, name, NULL), IPCN_OK);
    if (thread)
        assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static void offer(ipcn_node *n, const char *path, beh *b)
{
    assert_int_equal(ipcn_offer(n, path, "", handler, b), IPCN_OK);
}

/* Wait until the asker knows want providers of path (its own included). */
static void wait_providers(const char *path, size_t want)
{
    uint64_t end = tu_now_ms() + WAIT_MS;
    for (;;) {
        ipcn_resource_list *rl = NULL;
        assert_int_equal(ipcn_find(asker, path, IPCN_SERVICE, &rl), IPCN_OK);
        size_t c = rl->count;
        ipcn_resource_list_free(rl);
        if (c >= want)
            return;
        if (tu_now_ms() > end)
            fail_msg("%s: %zu providers, not %zu", path, c, want);
        ipcn_node_dispatch(asker, 10);
    }
}

static int setup(void **state)
{
    (void)state;
    static int k;
    char net[32];
    snprintf(net, sizeof net, "vote%d", ++k);
    setenv("IPCNET_NETWORK", net, 1);
    pa = open_node("pa", true);
    pb = open_node("pb", true);
    pc = open_node("pc", true);
    asker = open_node("asker", false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ipcn_node_close(asker);
    ipcn_node_close(pc);
    ipcn_node_close(pb);
    ipcn_node_close(pa);
    asker = pa = pb = pc = NULL;
    return 0;
}

static ipcn_request_opts opts_of(ipcn_req_mode mode, int timeout_ms)
{
    ipcn_request_opts o;
    ipcn_request_opts_init(&o);
    o.mode = mode;
    o.timeout_ms = timeout_ms;
    return o;
}

static const ipcn_answer *item_of(const ipcn_answers *a, const char *name)
{
    for (size_t i = 0; i < a->count; i++)
        if (!strcmp(a->items[i].provider, name))
            return &a->items[i];
    fail_msg("no item of %s", name);
    return NULL;
}

static uint64_t evidence(const char *subject, int kind)
{
    ipcn_quarantine_list *ql = NULL;
    assert_int_equal(ipcn_quarantines(asker, IPCN_QUARANTINE_ALL, &ql),
                     IPCN_OK);
    uint64_t v = 0;
    for (size_t i = 0; i < ql->count; i++) {
        ipcn_quarantine_record q;
        q.size = sizeof q;
        assert_int_equal(ipcn_quarantine_list_get(ql, i, &q), IPCN_OK);
        if (!strcmp(q.subject, subject))
            v = q.evidence[kind];
    }
    ipcn_quarantine_list_free(ql);
    return v;
}

/* A request in a thread of its own, so that the test can release the
 * providers' answers meanwhile. */
typedef struct bg {
    pthread_t t;
    const char *path;
    ipcn_request_opts o;
    ipcn_answers *a;
    int st;
} bg;

static void *bg_main(void *arg)
{
    bg *b = arg;
    b->st = ipcn_request_ex(asker, b->path, "q", 1, "text/plain", &b->o,
                            &b->a);
    return NULL;
}

static void wait_held(beh *b)
{
    uint64_t end = tu_now_ms() + WAIT_MS;
    while (!atomic_load(&b->held)) {
        if (tu_now_ms() > end)
            fail_msg("a provider was not asked");
        usleep(1000);
    }
}

static uint64_t frames_in(void)
{
    ipcn_node_stats s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    assert_int_equal(ipcn_node_get_stats(asker, &s), IPCN_OK);
    return s.frames_in;
}

/* Answer a held request, and wait until the asker has read the answer. */
static void release(ipcn_node *n, beh *b)
{
    uint64_t before = frames_in();
    assert_int_equal(ipcn_respond(n, b->resp, IPCN_OK, b->ans, b->len, b->enc),
                     IPCN_OK);
    uint64_t end = tu_now_ms() + WAIT_MS;
    while (frames_in() == before) {
        if (tu_now_ms() > end)
            fail_msg("the answer did not reach the asker");
        usleep(1000);
    }
}

/* One wrong of three: the majority wins, the dissenter is reported and
 * charged.  The wrong answer comes first, so it is counted. */
static void t_majority(void **state)
{
    (void)state;
    beh ga = {.how = HOLD, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh gb = {.how = HOLD, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh wc = {.how = HOLD, .ans = B, .len = sizeof B, .enc = "cbor"};
    offer(pa, "vote/x", &ga);
    offer(pb, "vote/x", &gb);
    offer(pc, "vote/x", &wc);
    wait_providers("vote/x", 3);
    bg r = {.path = "vote/x", .o = opts_of(IPCN_REQ_VOTE, WAIT_MS)};
    assert_int_equal(pthread_create(&r.t, NULL, bg_main, &r), 0);
    wait_held(&ga);
    wait_held(&gb);
    wait_held(&wc);
    release(pc, &wc);
    release(pa, &ga);
    assert_int_equal(ipcn_respond(pb, gb.resp, IPCN_OK, A, sizeof A, "cbor"),
                     IPCN_OK);
    pthread_join(r.t, NULL);
    ipcn_answers *a = r.a;
    assert_int_equal(r.st, IPCN_OK);
    assert_non_null(a);
    assert_int_equal(a->status, IPCN_OK);
    assert_int_equal(a->count, 3);
    assert_true(a->request_id != 0);
    assert_non_null(a->winner);
    assert_int_equal(a->winner->len, sizeof A);
    assert_memory_equal(a->winner->data, A, sizeof A);
    assert_int_equal(a->agreeing, 2);
    assert_int_equal(a->dissenting, 1);
    const ipcn_answer *c = item_of(a, "pc");
    assert_false(c->agrees);
    assert_int_equal(c->status, IPCN_OK);
    assert_non_null(c->msg);
    assert_memory_equal(c->msg->data, B, sizeof B);
    assert_true(item_of(a, "pa")->agrees);
    assert_true(item_of(a, "pb")->agrees);
    ipcn_answers_free(a);
    assert_int_equal(evidence("pc", IPCN_OFFENCE_DISSENT), 1);
    assert_int_equal(evidence("pa", IPCN_OFFENCE_DISSENT), 0);
    assert_string_equal(ipcn_offence_name(IPCN_OFFENCE_DISSENT), "dissent");
}

/* Two wrong, and different: no majority, 207, nobody charged. */
static void t_no_majority(void **state)
{
    (void)state;
    beh ga = {.how = NOW, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh wb = {.how = NOW, .ans = B, .len = sizeof B, .enc = "cbor"};
    beh wc = {.how = NOW, .ans = C, .len = sizeof C, .enc = "cbor"};
    offer(pa, "vote/x", &ga);
    offer(pb, "vote/x", &wb);
    offer(pc, "vote/x", &wc);
    wait_providers("vote/x", 3);
    ipcn_request_opts o = opts_of(IPCN_REQ_VOTE, WAIT_MS);
    ipcn_answers *a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "vote/x", NULL, 0, NULL, &o, &a),
                     IPCN_CONFLICT);
    assert_int_equal(a->status, IPCN_CONFLICT);
    assert_int_equal(a->count, 3);
    assert_null(a->winner);
    assert_int_equal(a->agreeing, 0);
    assert_int_equal(a->dissenting, 0);
    for (size_t i = 0; i < a->count; i++) {
        assert_int_equal(a->items[i].status, IPCN_OK);
        assert_non_null(a->items[i].msg);
        assert_false(a->items[i].agrees);
    }
    ipcn_answers_free(a);
    assert_int_equal(evidence("pa", IPCN_OFFENCE_DISSENT), 0);
    assert_int_equal(evidence("pb", IPCN_OFFENCE_DISSENT), 0);
    /* A quorum of all three cannot be had either. */
    o.quorum = 3;
    a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "vote/x", NULL, 0, NULL, &o, &a),
                     IPCN_CONFLICT);
    ipcn_answers_free(a);
}

/* Only successes vote: two equal failures (300) are no quorum, and the
 * one success among them is no dissenter. */
static void t_failures_do_not_vote(void **state)
{
    (void)state;
    beh ga = {.how = NOW, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh fb = {.how = FAIL};
    beh fc = {.how = FAIL};
    offer(pa, "vote/x", &ga);
    offer(pb, "vote/x", &fb);
    offer(pc, "vote/x", &fc);
    wait_providers("vote/x", 3);
    ipcn_request_opts o = opts_of(IPCN_REQ_VOTE, WAIT_MS);
    ipcn_answers *a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "vote/x", NULL, 0, NULL, &o, &a),
                     IPCN_GATEWAY_TIMEOUT);
    assert_null(a->winner);
    assert_int_equal(a->agreeing, 0);
    assert_int_equal(a->dissenting, 0);
    assert_int_equal(item_of(a, "pb")->status, IPCN_INTERNAL_ERROR);
    assert_int_equal(item_of(a, "pc")->status, IPCN_INTERNAL_ERROR);
    assert_false(item_of(a, "pb")->agrees);
    ipcn_answers_free(a);
    assert_int_equal(evidence("pa", IPCN_OFFENCE_DISSENT), 0);
    assert_int_equal(evidence("pb", IPCN_OFFENCE_DISSENT), 0);
    assert_int_equal(evidence("pc", IPCN_OFFENCE_DISSENT), 0);
}

/* Two wrong and equal: the wrong majority wins.  A vote trusts a majority
 * (docs/protocol.md 12.5). */
static void t_wrong_majority(void **state)
{
    (void)state;
    beh ga = {.how = NOW, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh wb = {.how = NOW, .ans = B, .len = sizeof B, .enc = "cbor"};
    beh wc = {.how = NOW, .ans = B, .len = sizeof B, .enc = "cbor"};
    offer(pa, "vote/x", &ga);
    offer(pb, "vote/x", &wb);
    offer(pc, "vote/x", &wc);
    wait_providers("vote/x", 3);
    ipcn_request_opts o = opts_of(IPCN_REQ_VOTE, WAIT_MS);
    ipcn_answers *a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "vote/x", NULL, 0, NULL, &o, &a),
                     IPCN_OK);
    assert_memory_equal(a->winner->data, B, sizeof B);
    assert_int_equal(a->agreeing, 2);
    assert_true(item_of(a, "pb")->agrees);
    assert_true(item_of(a, "pc")->agrees);
    assert_false(item_of(a, "pa")->agrees);
    /* pa's answer counts only when it came before the decision. */
    assert_true(a->dissenting <= 1);
    assert_int_equal(evidence("pa", IPCN_OFFENCE_DISSENT), a->dissenting);
    ipcn_answers_free(a);
}

/* Numbers of CBOR answers within the tolerance agree. */
static void t_tolerance(void **state)
{
    (void)state;
    beh one = {.how = NOW, .ans = ONE, .len = sizeof ONE, .enc = "cbor"};
    beh onep = {.how = NOW, .ans = ONE_P, .len = sizeof ONE_P, .enc = "cbor"};
    beh one_app = {.how = NOW, .ans = ONE, .len = sizeof ONE,
                   .enc = "application/cbor"};
    beh onep_app = {.how = NOW, .ans = ONE_P, .len = sizeof ONE_P,
                    .enc = "application/cbor"};
    const char *bin = "application/octet-stream";
    beh raw = {.how = NOW, .ans = ONE, .len = sizeof ONE, .enc = bin};
    beh rawp = {.how = NOW, .ans = ONE_P, .len = sizeof ONE_P, .enc = bin};
    offer(pa, "vote/t", &one);
    offer(pb, "vote/t", &onep);
    offer(pa, "vote/tapp", &one_app);
    offer(pb, "vote/tapp", &onep_app);
    offer(pa, "vote/traw", &raw);
    offer(pb, "vote/traw", &rawp);
    wait_providers("vote/t", 2);
    wait_providers("vote/tapp", 2);
    wait_providers("vote/traw", 2);
    ipcn_request_opts o = opts_of(IPCN_REQ_VOTE, WAIT_MS);
    o.tolerance = 1e-6;
    const char *paths[] = {"vote/t", "vote/tapp"};
    for (int i = 0; i < 2; i++) {
        ipcn_answers *a = NULL;
        assert_int_equal(ipcn_request_ex(asker, paths[i], NULL, 0, NULL, &o,
                                         &a),
                         IPCN_OK);
        assert_int_equal(a->agreeing, 2);
        assert_int_equal(a->dissenting, 0);
        ipcn_answers_free(a);
    }
    /* Bytes that are not CBOR are compared as bytes. */
    ipcn_answers *a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "vote/traw", NULL, 0, NULL, &o, &a),
                     IPCN_CONFLICT);
    ipcn_answers_free(a);
    o.tolerance = 0;
    for (int i = 0; i < 2; i++) {
        a = NULL;
        assert_int_equal(ipcn_request_ex(asker, paths[i], NULL, 0, NULL, &o,
                                         &a),
                         IPCN_CONFLICT);
        assert_int_equal(a->agreeing, 0);
        ipcn_answers_free(a);
    }
    /* A quorum of one: the first answer wins. */
    o.quorum = 1;
    a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "vote/t", NULL, 0, NULL, &o, &a),
                     IPCN_OK);
    assert_int_equal(a->agreeing, 1);
    ipcn_answers_free(a);
}

/* VOTE at the deadline: too few answers is 304; enough answers but no
 * quorum is 207.  The silent providers' items are 304. */
static void t_vote_deadline(void **state)
{
    (void)state;
    beh ga = {.how = NOW, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh wb = {.how = NOW, .ans = B, .len = sizeof B, .enc = "cbor"};
    beh silent = {.how = NEVER};
    beh silent2 = {.how = NEVER};
    offer(pa, "vote/few", &ga);
    offer(pb, "vote/few", &silent);
    offer(pc, "vote/few", &silent2);
    offer(pa, "vote/split", &ga);
    offer(pb, "vote/split", &wb);
    offer(pc, "vote/split", &silent);
    wait_providers("vote/few", 3);
    wait_providers("vote/split", 3);
    ipcn_request_opts o = opts_of(IPCN_REQ_VOTE, 1200);
    ipcn_answers *a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "vote/few", NULL, 0, NULL, &o, &a),
                     IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(a->count, 3);
    assert_null(a->winner);
    assert_int_equal(item_of(a, "pa")->status, IPCN_OK);
    assert_int_equal(item_of(a, "pb")->status, IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(item_of(a, "pc")->status, IPCN_GATEWAY_TIMEOUT);
    ipcn_answers_free(a);
    a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "vote/split", NULL, 0, NULL, &o,
                                     &a),
                     IPCN_CONFLICT);
    assert_int_equal(item_of(a, "pc")->status, IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(a->dissenting, 0);
    ipcn_answers_free(a);
}

/* VOTE: a provider that leaves is not replaced; once too few are left to
 * make a quorum, the vote ends 304 without waiting for the deadline. */
static void t_vote_left(void **state)
{
    (void)state;
    beh ga = {.how = HOLD, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh hb = {.how = HOLD, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh hc = {.how = HOLD, .ans = A, .len = sizeof A, .enc = "cbor"};
    offer(pa, "vote/left", &ga);
    offer(pb, "vote/left", &hb);
    offer(pc, "vote/left", &hc);
    wait_providers("vote/left", 3);
    bg r = {.path = "vote/left", .o = opts_of(IPCN_REQ_VOTE, -1)};
    r.o.quorum = 3;
    assert_int_equal(pthread_create(&r.t, NULL, bg_main, &r), 0);
    wait_held(&ga);
    wait_held(&hb);
    wait_held(&hc);
    release(pa, &ga);
    ipcn_node_close(pc);
    pc = NULL;
    pthread_join(r.t, NULL); /* no deadline: it ends when pc is gone */
    assert_int_equal(r.st, IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(item_of(r.a, "pc")->status, IPCN_SERVICE_UNAVAILABLE);
    assert_int_equal(item_of(r.a, "pa")->status, IPCN_OK);
    /* pb was told to give up: its item is 304 and its answer goes
     * nowhere. */
    assert_int_equal(item_of(r.a, "pb")->status, IPCN_GATEWAY_TIMEOUT);
    ipcn_answers_free(r.a);
    int st = ipcn_respond(pb, hb.resp, IPCN_OK, A, sizeof A, "cbor");
    assert_true(st == IPCN_OK || st == IPCN_SERVICE_UNAVAILABLE);
}

/* ALL: every answer; a provider that never answers is its item's 304 and
 * the whole 104; this node's own provider is asked too. */
static void t_all(void **state)
{
    (void)state;
    beh ga = {.how = NOW, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh gb = {.how = NOW, .ans = B, .len = sizeof B, .enc = "cbor"};
    beh own = {.how = NOW, .ans = C, .len = sizeof C, .enc = "cbor"};
    beh silent = {.how = NEVER};
    offer(pa, "all/x", &ga);
    offer(pb, "all/x", &gb);
    offer(asker, "all/x", &own);
    offer(pa, "all/part", &ga);
    offer(pc, "all/part", &silent);
    wait_providers("all/x", 3);
    wait_providers("all/part", 2);
    ipcn_request_opts o = opts_of(IPCN_REQ_ALL, WAIT_MS);
    ipcn_answers *a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "all/x", "q", 1, "text/plain", &o,
                                     &a),
                     IPCN_OK);
    assert_int_equal(a->count, 3);
    assert_null(a->winner);
    const uint8_t *want[] = {A, B, C};
    const char *names[] = {"pa", "pb", "asker"};
    for (int i = 0; i < 3; i++) {
        const ipcn_answer *it = item_of(a, names[i]);
        assert_int_equal(it->status, IPCN_OK);
        assert_non_null(it->msg);
        assert_memory_equal(it->msg->data, want[i], sizeof A);
        assert_string_equal(it->msg->src_name, names[i]);
    }
    assert_int_equal(atomic_load(&own.calls), 1);
    ipcn_answers_free(a);
    /* At most max_providers are asked. */
    o.max_providers = 2;
    a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "all/x", NULL, 0, NULL, &o, &a),
                     IPCN_OK);
    assert_int_equal(a->count, 2);
    ipcn_answers_free(a);
    o.max_providers = 0;
    o.timeout_ms = 1200;
    a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "all/part", NULL, 0, NULL, &o, &a),
                     IPCN_PARTIAL_DATA);
    assert_int_equal(a->count, 2);
    assert_int_equal(item_of(a, "pa")->status, IPCN_OK);
    assert_int_equal(item_of(a, "pc")->status, IPCN_GATEWAY_TIMEOUT);
    assert_null(item_of(a, "pc")->msg);
    ipcn_answers_free(a);
}

/* ALL: a provider that leaves is its item's 303; no other is asked in
 * its place. */
static void t_all_left(void **state)
{
    (void)state;
    beh ga = {.how = NOW, .ans = A, .len = sizeof A, .enc = "cbor"};
    beh gb = {.how = HOLD, .ans = B, .len = sizeof B, .enc = "cbor"};
    offer(pa, "all/left", &ga);
    offer(pb, "all/left", &gb);
    wait_providers("all/left", 2);
    bg r = {.path = "all/left", .o = opts_of(IPCN_REQ_ALL, WAIT_MS)};
    assert_int_equal(pthread_create(&r.t, NULL, bg_main, &r), 0);
    wait_held(&gb);
    ipcn_node_close(pb);
    pb = NULL;
    pthread_join(r.t, NULL);
    assert_int_equal(r.st, IPCN_PARTIAL_DATA);
    assert_int_equal(r.a->count, 2);
    assert_int_equal(item_of(r.a, "pa")->status, IPCN_OK);
    assert_int_equal(item_of(r.a, "pb")->status, IPCN_SERVICE_UNAVAILABLE);
    assert_int_equal(atomic_load(&ga.calls), 1);
    ipcn_answers_free(r.a);
}

/* ANY: as ipcn_request(), with a request id. */
static void t_any(void **state)
{
    (void)state;
    beh ga = {.how = NOW, .ans = A, .len = sizeof A, .enc = "cbor"};
    offer(pa, "any/x", &ga);
    assert_int_equal(ipcn_announce(pb, "any/data", IPCN_DATA, "", NULL, 0),
                     IPCN_CREATED);
    wait_providers("any/x", 1);
    ipcn_request_opts o = opts_of(IPCN_REQ_ANY, WAIT_MS);
    ipcn_answers *a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "any/x", NULL, 0, NULL, &o, &a),
                     IPCN_OK);
    assert_int_equal(a->count, 1);
    assert_string_equal(a->items[0].provider, "pa");
    assert_non_null(a->winner);
    assert_ptr_equal(a->winner, a->items[0].msg);
    assert_memory_equal(a->winner->data, A, sizeof A);
    uint64_t first = a->request_id;
    assert_true(first != 0);
    ipcn_answers_free(a);
    a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "any/x", NULL, 0, NULL, NULL, &a),
                     IPCN_OK);
    assert_true(a->request_id != 0 && a->request_id != first);
    ipcn_answers_free(a);
    o.request_id = first; /* a retry keeps its id */
    a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "any/x", NULL, 0, NULL, &o, &a),
                     IPCN_OK);
    assert_true(a->request_id == first);
    ipcn_answers_free(a);
    /* No provider, another kind: *out all the same, with no items. */
    ipcn_req_mode modes[] = {IPCN_REQ_ANY, IPCN_REQ_ALL, IPCN_REQ_VOTE};
    for (int i = 0; i < 3; i++) {
        o = opts_of(modes[i], WAIT_MS);
        a = NULL;
        assert_int_equal(ipcn_request_ex(asker, "any/none", NULL, 0, NULL, &o,
                                         &a),
                         IPCN_NOT_FOUND);
        assert_int_equal(a->count, 0);
        assert_null(a->winner);
        ipcn_answers_free(a);
    }
    uint64_t end = tu_now_ms() + WAIT_MS;
    int st;
    o = opts_of(IPCN_REQ_ALL, WAIT_MS);
    while ((st = ipcn_request_ex(asker, "any/data", NULL, 0, NULL, &o, &a)) ==
           IPCN_NOT_FOUND) {
        ipcn_answers_free(a);
        if (tu_now_ms() > end)
            fail_msg("any/data did not show up");
        ipcn_node_dispatch(asker, 10);
    }
    assert_int_equal(st, IPCN_METHOD_NOT_ALLOWED);
    ipcn_answers_free(a);
    /* Bad arguments. */
    a = NULL;
    assert_int_equal(ipcn_request_ex(asker, "any/x", NULL, 0, NULL, &o, NULL),
                     IPCN_BAD_REQUEST);
    o.mode = (ipcn_req_mode)7;
    assert_int_equal(ipcn_request_ex(asker, "any/x", NULL, 0, NULL, &o, &a),
                     IPCN_BAD_REQUEST);
    o = opts_of(IPCN_REQ_ANY, WAIT_MS);
    o.size = 4;
    assert_int_equal(ipcn_request_ex(asker, "any/x", NULL, 0, NULL, &o, &a),
                     IPCN_BAD_REQUEST);
    assert_null(a);
    ipcn_answers_free(NULL);
}

int main(void)
{
    tu_net_dir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_majority, setup, teardown),
        cmocka_unit_test_setup_teardown(t_no_majority, setup, teardown),
        cmocka_unit_test_setup_teardown(t_failures_do_not_vote, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(t_wrong_majority, setup, teardown),
        cmocka_unit_test_setup_teardown(t_tolerance, setup, teardown),
        cmocka_unit_test_setup_teardown(t_vote_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(t_vote_left, setup, teardown),
        cmocka_unit_test_setup_teardown(t_all, setup, teardown),
        cmocka_unit_test_setup_teardown(t_all_left, setup, teardown),
        cmocka_unit_test_setup_teardown(t_any, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
