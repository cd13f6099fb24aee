/* SPDX-License-Identifier: MIT */
/*
 * test_load.c — the choice among several providers of a service (issue 17,
 * items 4 and 5; protocol 12.7): requests go to the least loaded provider
 * (our requests in flight there, plus the load its last answer reported:
 * its requests queued, running or deferred, of every requester and its
 * own), and a provider that answered 300 or let a request time out three
 * times in a row is avoided for a back-off (1 s, doubling to 30 s, reset by
 * a success), still asked when nothing else remains.
 *
 * Every node is in this process, with a thread of its own; the providers'
 * handlers count the requests they get.  No timed assertions: counts of
 * where requests went, which the rule fixes; the only waits are past a
 * back-off, after which the avoided provider must be asked again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipcnet.h"
#include "v_util.h"

#define SVC "ld/svc"
#define MAX_HELD 32

enum mode { ECHO = 0, HOLD, FAIL, HOLE };

/* One provider: how its handler answers, and what it got. */
typedef struct prov {
    const char *name;
    ipcn_node *n;
    int mode;               /* enum mode, read atomically */
    int calls;              /* requests its handler got */
    pthread_mutex_t mu;
    ipcn_responder held[MAX_HELD]; /* HOLD: answered by release() */
    int nheld;
} prov;

static int on_request(ipcn_node *n, const ipcn_msg *m, ipcn_reply_ctx *ctx,
                      void *user)
{
    (void)n;
    prov *p = user;
    int mode = __atomic_load_n(&p->mode, __ATOMIC_ACQUIRE);
    if (mode == FAIL) {
        __atomic_add_fetch(&p->calls, 1, __ATOMIC_ACQ_REL);
        return IPCN_INTERNAL_ERROR;
    }
    if (mode == HOLD || mode == HOLE) {
        ipcn_responder r = ipcn_reply_defer(ctx);
        pthread_mutex_lock(&p->mu);
        if (mode == HOLD && p->nheld < MAX_HELD)
            p->held[p->nheld++] = r;
        pthread_mutex_unlock(&p->mu);
        __atomic_add_fetch(&p->calls, 1, __ATOMIC_ACQ_REL);
        return IPCN_ACCEPTED;
    }
    __atomic_add_fetch(&p->calls, 1, __ATOMIC_ACQ_REL);
    return ipcn_reply_set(ctx, m->data, m->len, m->encoding);
}

static int calls(prov *p)
{
    return __atomic_load_n(&p->calls, __ATOMIC_ACQUIRE);
}

static void set_mode(prov *p, int mode)
{
    __atomic_store_n(&p->mode, mode, __ATOMIC_RELEASE);
}

static ipcn_node *open_threaded(const char *name)
{
    ipcn_node *n = v_open(name, NULL);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static void start_prov(prov *p, const char *name, int mode)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->name = name;
    p->mode = mode;
    p->n = open_threaded(name);
    assert_int_equal(ipcn_offer(p->n, SVC, "", on_request, p), IPCN_OK);
}

/* Answer every request p holds (100, "released"). */
static void release(prov *p)
{
    pthread_mutex_lock(&p->mu);
    int k = p->nheld;
    ipcn_responder held[MAX_HELD];
    memcpy(held, p->held, sizeof held);
    p->nheld = 0;
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < k; i++)
        ipcn_respond(p->n, held[i], IPCN_OK, "released", 8, "text/plain");
}

static void wait_calls(prov *p, int want)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (calls(p) < want) {
        if (tu_now_ms() >= end)
            fail_msg("%s got %d requests, not %d", p->name, calls(p), want);
        usleep(2000);
    }
}

static void wait_providers(ipcn_node *n, size_t want)
{
    if (!v_wait_count(n, SVC, IPCN_SERVICE, want, V_WAIT_MS))
        fail_msg("%s: not %zu providers", SVC, want);
}

/* A synchronous request; returns its status, the answering node's name in
 * src ("" when none answered). */
static int ask(ipcn_node *n, int timeout_ms, char *src, size_t cap)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, SVC, "x", 1, "text/plain", &m, timeout_ms);
    snprintf(src, cap, "%s", m ? m->src_name : "");
    ipcn_msg_free(m);
    return st;
}

/* Send k requests that a provider holds; their answers are counted in
 * *answered when released. */
static void on_held_reply(ipcn_node *n, int st, const ipcn_msg *m, void *user)
{
    (void)n, (void)st, (void)m;
    __atomic_add_fetch((int *)user, 1, __ATOMIC_ACQ_REL);
}

static void send_held(ipcn_node *n, int k, int *answered)
{
    for (int i = 0; i < k; i++)
        assert_int_equal(ipcn_request_async(n, SVC, "h", 1, "text/plain", 20000,
                                            on_held_reply, answered, NULL),
                         IPCN_ACCEPTED);
}

/* Our own requests in flight at a provider: 8 held at la, none at lb, so
 * the next 8 (one at a time) all go to lb. */
static void test_load_inflight(void **state)
{
    (void)state;
    static prov a, b;
    ipcn_node *req = open_threaded("lreq");
    start_prov(&a, "la", HOLD);
    wait_providers(req, 1);
    static int answered;
    answered = 0;
    send_held(req, 8, &answered);
    wait_calls(&a, 8);
    start_prov(&b, "lb", ECHO);
    wait_providers(req, 2);
    for (int i = 0; i < 8; i++) {
        char src[80];
        assert_int_equal(ask(req, V_WAIT_MS, src, sizeof src), IPCN_OK);
        assert_string_equal(src, "lb");
    }
    assert_int_equal(calls(&a), 8);
    assert_int_equal(calls(&b), 8);
    release(&a);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (__atomic_load_n(&answered, __ATOMIC_ACQUIRE) < 8 && tu_now_ms() < end)
        usleep(2000);
    assert_int_equal(__atomic_load_n(&answered, __ATOMIC_ACQUIRE), 8);
}

/* The load a provider reports: la holds 4 requests of another node and 4
 * of its own (its own requests to itself count too).  A requester that has
 * nothing in flight anywhere learns it from la's first answer; from then
 * on its requests go to the idle lb. */
static void test_load_reported(void **state)
{
    (void)state;
    static prov a, b;
    static int answered_l, answered_a;
    answered_l = answered_a = 0;
    start_prov(&a, "ra", HOLD);
    ipcn_node *loader = open_threaded("rload");
    wait_providers(loader, 1);
    send_held(loader, 4, &answered_l);
    send_held(a.n, 4, &answered_a); /* this node's own: run locally */
    wait_calls(&a, 8);
    start_prov(&b, "rb", ECHO);
    ipcn_node *req = open_threaded("rreq");
    wait_providers(req, 2);
    /* Until ra has answered once, the two look alike: in turn, ra comes
     * within two requests.  Its answer (a ping answered at once) reports
     * its load. */
    set_mode(&a, ECHO);
    int asked_a = 0;
    for (int i = 0; i < 2 && !asked_a; i++) {
        char src[80];
        assert_int_equal(ask(req, V_WAIT_MS, src, sizeof src), IPCN_OK);
        asked_a = !strcmp(src, "ra");
    }
    assert_true(asked_a);
    int a_before = calls(&a), b_before = calls(&b);
    for (int i = 0; i < 8; i++) {
        char src[80];
        assert_int_equal(ask(req, V_WAIT_MS, src, sizeof src), IPCN_OK);
        assert_string_equal(src, "rb");
    }
    assert_int_equal(calls(&a), a_before);
    assert_int_equal(calls(&b), b_before + 8);
    release(&a);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while ((__atomic_load_n(&answered_l, __ATOMIC_ACQUIRE) < 4 ||
            __atomic_load_n(&answered_a, __ATOMIC_ACQUIRE) < 4) &&
           tu_now_ms() < end)
        usleep(2000);
    assert_int_equal(__atomic_load_n(&answered_l, __ATOMIC_ACQUIRE), 4);
    assert_int_equal(__atomic_load_n(&answered_a, __ATOMIC_ACQUIRE), 4);
    /* The load it reported counted down by one for each request sent to
     * rb: after 8 it is asked again, and reports none (released): the two
     * take turns. */
    int got_a = 0;
    for (int i = 0; i < 4; i++) {
        char src[80];
        assert_int_equal(ask(req, V_WAIT_MS, src, sizeof src), IPCN_OK);
        got_a += !strcmp(src, "ra");
    }
    assert_int_equal(got_a, 2);
}

/* When the last request that reached a provider was sent (tu_now_ms(),
 * taken before): its failure, and so a back-off it started, came after. */
static uint64_t last_sent_ms;

/* Ask until provider p got want requests in all (bounded); each answer
 * from p must have status st_p. */
static void ask_until(ipcn_node *req, prov *p, int want, int st_p,
                      int timeout_ms)
{
    int tries = want - calls(p) == 1 ? 2 : 12;
    for (int i = 0; i < tries && calls(p) < want; i++) {
        char src[80];
        int before = calls(p);
        uint64_t t = tu_now_ms();
        int st = ask(req, timeout_ms, src, sizeof src);
        if (calls(p) > before) {
            assert_int_equal(st, st_p);
            last_sent_ms = t;
        } else {
            assert_int_equal(st, IPCN_OK);
        }
    }
    assert_int_equal(calls(p), want);
}

/* Up to k requests, none of which may reach p: those sent before the
 * back-off p's last failure started (backoff_ms, its timeout later than
 * the request when it timed out: after_ms) can have ended.  Not a timed
 * assertion: on a slow machine fewer are checked, none fails for it. */
static void assert_avoided(ipcn_node *req, prov *p, int k, int after_ms,
                           int backoff_ms)
{
    uint64_t until = last_sent_ms + (uint64_t)after_ms + (uint64_t)backoff_ms;
    int before = calls(p);
    for (int i = 0; i < k && tu_now_ms() < until; i++) {
        char src[80];
        assert_int_equal(ask(req, V_WAIT_MS, src, sizeof src), IPCN_OK);
        assert_string_not_equal(src, p->name);
    }
    assert_int_equal(calls(p), before);
}

/* p is asked again (not avoided, or nothing else remains): within two
 * requests, in turn with the other; its answer's status st. */
static void assert_asked(ipcn_node *req, prov *p, int st, int timeout_ms)
{
    ask_until(req, p, calls(p) + 1, st, timeout_ms);
}

static void test_avoid_300(void **state)
{
    (void)state;
    static prov a, b;
    start_prov(&a, "fa", FAIL);
    start_prov(&b, "fb", ECHO);
    ipcn_node *req = open_threaded("freq");
    wait_providers(req, 2);
    /* Three 300s in a row (fb answering between them does not matter). */
    ask_until(req, &a, 3, IPCN_INTERNAL_ERROR, V_WAIT_MS);
    assert_avoided(req, &a, 6, 0, 1000);
    /* Past the first back-off (1 s) it is asked again; a fourth 300 with
     * no success since starts a second back-off at once (2 s). */
    usleep(1100 * 1000);
    assert_asked(req, &a, IPCN_INTERNAL_ERROR, V_WAIT_MS);
    assert_avoided(req, &a, 6, 0, 2000);
    /* Healthy again: after the second back-off it is asked, and its
     * success ends its record. */
    set_mode(&a, ECHO);
    usleep(2100 * 1000);
    assert_asked(req, &a, IPCN_OK, V_WAIT_MS);
    /* So two 300s do not make it avoided: asked in turn again ... */
    set_mode(&a, FAIL);
    ask_until(req, &a, 7, IPCN_INTERNAL_ERROR, V_WAIT_MS);
    /* ... the third does, and the back-off is the first's again (1 s, not
     * 4 s: the next wait would not be past it). */
    ask_until(req, &a, 8, IPCN_INTERNAL_ERROR, V_WAIT_MS);
    assert_avoided(req, &a, 4, 0, 1000);
    usleep(1100 * 1000);
    assert_asked(req, &a, IPCN_INTERNAL_ERROR, V_WAIT_MS);
}

/* Avoided, it is still asked when nothing else remains (the other
 * provider gone); a success there ends its record at once. */
static void test_avoided_last_resort(void **state)
{
    (void)state;
    static prov a, b;
    start_prov(&a, "za", FAIL);
    start_prov(&b, "zb", ECHO);
    ipcn_node *req = open_threaded("zreq");
    wait_providers(req, 2);
    ask_until(req, &a, 3, IPCN_INTERNAL_ERROR, V_WAIT_MS);
    assert_avoided(req, &a, 2, 0, 1000);
    v_close(b.n);
    wait_providers(req, 1);
    assert_asked(req, &a, IPCN_INTERNAL_ERROR, V_WAIT_MS);
    set_mode(&a, ECHO);
    assert_asked(req, &a, IPCN_OK, V_WAIT_MS);
    /* A 300 now is its first strike, not a new back-off: with a second
     * provider back, it is still asked in turn. */
    set_mode(&a, FAIL);
    assert_asked(req, &a, IPCN_INTERNAL_ERROR, V_WAIT_MS);
    static prov c;
    start_prov(&c, "zc", ECHO);
    wait_providers(req, 2);
    ask_until(req, &a, 8, IPCN_INTERNAL_ERROR, V_WAIT_MS);
    assert_avoided(req, &a, 2, 0, 1000);
}

/* Timeouts charged to the provider (a caller's timeout of at least 1 s)
 * are strikes as 300s are; a tighter deadline is the caller's own. */
static void test_avoid_timeouts(void **state)
{
    (void)state;
    static prov a, b;
    start_prov(&a, "ta", HOLE);
    start_prov(&b, "tb", ECHO);
    ipcn_node *req = open_threaded("treq");
    wait_providers(req, 2);
    /* Tight deadlines: not its fault, never avoided (five timeouts). */
    ask_until(req, &a, 5, IPCN_GATEWAY_TIMEOUT, 200);
    assert_asked(req, &b, IPCN_OK, V_WAIT_MS);
    assert_asked(req, &a, IPCN_GATEWAY_TIMEOUT, 200);
    /* Charged ones: the third in a row makes it avoided. */
    ask_until(req, &a, 9, IPCN_GATEWAY_TIMEOUT, 1000);
    assert_avoided(req, &a, 6, 1000, 1000);
    usleep(1100 * 1000);
    assert_asked(req, &a, IPCN_GATEWAY_TIMEOUT, 1000);
    assert_avoided(req, &a, 4, 1000, 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_load_inflight),
        V_TEST(test_load_reported),
        V_TEST(test_avoid_300),
        V_TEST(test_avoided_last_resort),
        V_TEST(test_avoid_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
