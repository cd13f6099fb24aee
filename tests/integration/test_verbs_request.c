/* SPDX-License-Identifier: MIT */
/*
 * test_verbs_request.c — services: synchronous, asynchronous and deferred requests,
 * statuses, timeouts, cancel, spread and failover, providers that die.
 *
 * One of the test_verbs_*.c programs: every verb of the public API and
 * every status it documents, between real processes: the test process is
 * one node, helper processes (ipcn-test-v_node) are the others, driven over
 * IPCNet itself through their "ctl/<name>" service.  Each test runs in a
 * network of its own; helpers are killed and nodes closed by the teardown,
 * even on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/stat.h>

#include "ipcnet.h"
#include "v_util.h"
#include "v_verbs.h"

/* ------------------------------------------------------------------ */
/* Services                                                            */
/* ------------------------------------------------------------------ */

/* A caller that only makes synchronous requests (it never dispatches)
 * still sees its provider die and the next one come. */
static void test_request_only_caller(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rot", NULL);
    pid_t first = v_spawn("ro1", "echo:ro/echo", NULL);
    v_wait_helper(n, "ro1");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "ro/echo", "a", 1, "text/plain", &m, V_WAIT_MS),
                     IPCN_OK);
    ipcn_msg_free(m);
    v_kill(first);
    /* Its hang-up waits to be read: the requests themselves read it, and
     * the service is then gone (203), not unavailable forever (303). */
    int st = 0;
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (tu_now_ms() < end) {
        m = NULL;
        st = ipcn_request(n, "ro/echo", "b", 1, "text/plain", &m, 500);
        ipcn_msg_free(m);
        if (st == IPCN_NOT_FOUND)
            break;
        assert_int_equal(st, IPCN_SERVICE_UNAVAILABLE);
        usleep(20000);
    }
    assert_int_equal(st, IPCN_NOT_FOUND);
    v_spawn("ro2", "echo:ro/echo", NULL);
    end = tu_now_ms() + V_WAIT_MS;
    while (tu_now_ms() < end) {
        ipcn_node_wait_synced(n, 200);
        m = NULL;
        st = ipcn_request(n, "ro/echo", "b", 1, "text/plain", &m, 500);
        if (st == IPCN_OK)
            break;
        assert_true(st == IPCN_SERVICE_UNAVAILABLE || st == IPCN_NOT_FOUND);
        ipcn_msg_free(m);
        usleep(20000);
    }
    assert_int_equal(st, IPCN_OK);
    assert_string_equal(m->src_name, "ro2");
    ipcn_msg_free(m);
}

static void test_request_basic(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rbt", NULL);
    v_spawn("rb", "echo:rb/echo", NULL);
    v_wait_helper(n, "rb");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "rb/echo", "ping", 4, "text/plain", &m, V_WAIT_MS),
                     IPCN_OK);
    assert_non_null(m);
    assert_int_equal(m->status, IPCN_OK);
    assert_string_equal(m->path, "rb/echo");
    assert_int_equal(m->len, 4);
    assert_memory_equal(m->data, "ping", 4);
    assert_int_equal(((const char *)m->data)[4], 0);
    assert_string_equal(m->encoding, "text/plain");
    assert_string_equal(m->src_name, "rb");
    assert_true(m->src_id == v_peer(n, "rb").id);
    ipcn_msg_free(m);

    /* An empty body, no encoding. */
    m = NULL;
    assert_int_equal(ipcn_request(n, "rb/echo", NULL, 0, NULL, &m, V_WAIT_MS), IPCN_OK);
    assert_int_equal(m->len, 0);
    assert_non_null(m->data);
    assert_int_equal(((const char *)m->data)[0], 0);
    assert_string_equal(m->encoding, "");
    ipcn_msg_free(m);

    /* Binary and large bodies come back intact. */
    size_t big = 1u << 20;
    unsigned char *buf = malloc(big);
    assert_non_null(buf);
    for (size_t i = 0; i < big; i++)
        buf[i] = (unsigned char)(i * 31 + (i >> 8));
    m = NULL;
    assert_int_equal(ipcn_request(n, "rb/echo", buf, big, "application/octet-stream",
                                  &m, V_WAIT_MS),
                     IPCN_OK);
    assert_int_equal(m->len, big);
    assert_memory_equal(m->data, buf, big);
    ipcn_msg_free(m);
    free(buf);
}

static void test_request_error_passthrough(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ret", NULL);
    v_spawn("re", "err:re/err", "app:re/app", NULL);
    v_wait_helper(n, "re");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "re/err", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_FORBIDDEN);
    assert_non_null(m); /* set whenever a provider answered */
    assert_int_equal(m->status, IPCN_FORBIDDEN);
    assert_string_equal(m->data, "denied");
    assert_string_equal(m->encoding, "text/plain");
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(ipcn_request(n, "re/app", "x", 1, NULL, &m, V_WAIT_MS), 1234);
    assert_non_null(m);
    assert_int_equal(m->status, 1234);
    assert_string_equal(m->data, "app-error");
    assert_string_equal(m->src_name, "re");
    ipcn_msg_free(m);
    assert_string_equal(ipcn_status_str(1234), "Application Status");
}

/* A handler's status goes out as it is when it is 100, an error of the
 * table or an application code 1000..65535; anything else as 300. */
static const struct {
    int ret, want;
} handler_statuses[] = {
    {100, 100},   {202, 202}, {204, 204}, {303, 303},  {309, 309},
    {1000, 1000}, {4242, 4242}, {65535, 65535}, {-5, 300}, {0, 300},
    {99, 300},    {250, 300}, {999, 300}, {65536, 300}, {70000, 300},
    {102, 300}, /* "accepted" without a responder taken */
};

static int status_handler(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                          void *user)
{
    (void)n, (void)user;
    ipcn_reply_set(ctx, "s", 1, "text/plain");
    return atoi(req->data);
}

static void test_request_handler_status_range(void **state)
{
    (void)state;
    ipcn_node *n = v_open("hst", NULL);
    assert_int_equal(ipcn_offer(n, "hs/local", NULL, status_handler, NULL), IPCN_OK);
    v_spawn("hsh", "status:hs/remote", NULL);
    v_wait_helper(n, "hsh");
    int bad = 0;
    for (size_t i = 0; i < sizeof handler_statuses / sizeof handler_statuses[0]; i++) {
        const char *paths[] = {"hs/remote", "hs/local"};
        for (int k = 0; k < 2; k++) {
            char body[16];
            snprintf(body, sizeof body, "%d", handler_statuses[i].ret);
            ipcn_msg *m = NULL;
            int st = ipcn_request(n, paths[k], body, strlen(body), NULL, &m, V_WAIT_MS);
            if (st != handler_statuses[i].want || !m || m->status != st) {
                fprintf(stderr, "%s: handler returned %d: request gave %d "
                                "(msg status %d), want %d\n",
                        paths[k], handler_statuses[i].ret, st, m ? m->status : -1,
                        handler_statuses[i].want);
                bad++;
            }
            ipcn_msg_free(m);
        }
    }
    assert_int_equal(bad, 0);
}

static void test_request_statuses(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rst", NULL);
    v_spawn("rs", "data:rs/d", "stream:rs/s", NULL);
    v_wait_helper(n, "rs");
    assert_int_equal(ipcn_announce(n, "rs/own", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    ipcn_msg *const sentinel = (ipcn_msg *)(uintptr_t)0x1;
    ipcn_msg *m = sentinel;
    assert_int_equal(ipcn_request(n, "rs/none", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_request(n, "rs/d", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_request(n, "rs/s", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_request(n, "rs/own", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_request(n, "rs//x", "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_request(n, NULL, "x", 1, NULL, &m, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
    char e256[257];
    memset(e256, 'e', 256);
    e256[256] = 0;
    assert_int_equal(ipcn_request(n, "ctl/rs", "x", 1, e256, &m, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_request(n, "ctl/rs", NULL, 5, NULL, &m, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
    assert_ptr_equal(m, sentinel);
    assert_int_equal(ipcn_request(n, "ctl/rs", "x", 1, NULL, NULL, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
}

static void test_request_timeout(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rtt", NULL);
    v_spawn("rth", "hole:rt/hole", "echo:rt/echo", NULL);
    v_wait_helper(n, "rth");
    ipcn_msg *const sentinel = (ipcn_msg *)(uintptr_t)0x1;
    ipcn_msg *m = sentinel;
    uint64_t t0 = tu_now_ms();
    assert_int_equal(ipcn_request(n, "rt/hole", "x", 1, NULL, &m, 300),
                     IPCN_GATEWAY_TIMEOUT);
    assert_true(tu_now_ms() - t0 >= 290);
    assert_ptr_equal(m, sentinel);
    m = NULL;
    assert_int_equal(ipcn_request(n, "rt/echo", "y", 1, NULL, &m, V_WAIT_MS), IPCN_OK);
    assert_string_equal(m->data, "y");
    ipcn_msg_free(m);
}

static void test_request_deferred_remote(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rdt", NULL);
    v_spawn("rdl", "later:rd/later", NULL);
    v_wait_helper(n, "rdl");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "rd/later", "x", 1, NULL, &m, V_WAIT_MS), IPCN_OK);
    assert_string_equal(m->data, "later:x");
    assert_string_equal(m->encoding, "text/plain");
    ipcn_msg_free(m);
    /* Several at once, answered in any order, each to its own caller. */
    v_async a[5];
    for (int i = 0; i < 5; i++) {
        char body[8];
        snprintf(body, sizeof body, "b%d", i);
        memset(&a[i], 0, sizeof a[i]);
        assert_int_equal(ipcn_request_async(n, "rd/later", body, strlen(body), NULL,
                                            V_WAIT_MS, v_async_cb, &a[i], NULL),
                         IPCN_ACCEPTED);
    }
    for (int i = 0; i < 5; i++) {
        char want[16];
        snprintf(want, sizeof want, "later:b%d", i);
        assert_true(v_wait_flag(n, &a[i].done, V_WAIT_MS));
        assert_int_equal(a[i].status, IPCN_OK);
        assert_string_equal(a[i].body, want);
    }
}

/* A provider in this process that answers from another thread. */
struct deferrer {
    ipcn_node *n;
    pthread_t worker;
    int started;
    int handled;
    ipcn_responder resp;
    char body[64];
    int delay_ms;
    int answer;   /* 0: keep the responder, do not answer */
    int st1, st2; /* what the two ipcn_respond() calls returned */
    int done;
};

static void *deferrer_main(void *arg)
{
    struct deferrer *d = arg;
    usleep((useconds_t)d->delay_ms * 1000);
    char reply[80];
    int k = snprintf(reply, sizeof reply, "ok:%s", d->body);
    d->st1 = ipcn_respond(d->n, d->resp, IPCN_OK, reply, (size_t)k, "text/plain");
    d->st2 = ipcn_respond(d->n, d->resp, IPCN_OK, "again", 5, NULL);
    __atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int deferring_handler(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                             void *user)
{
    struct deferrer *d = user;
    d->n = n;
    snprintf(d->body, sizeof d->body, "%.*s", (int)req->len, (const char *)req->data);
    d->resp = ipcn_reply_defer(ctx);
    __atomic_store_n(&d->handled, 1, __ATOMIC_RELEASE);
    if (d->answer) {
        if (pthread_create(&d->worker, NULL, deferrer_main, d) != 0)
            return IPCN_INTERNAL_ERROR;
        d->started = 1;
    }
    return IPCN_ACCEPTED;
}

static void test_request_deferred_thread_respond(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rdr", NULL);
    static struct deferrer d; /* static: the worker may outlive a failure */
    memset(&d, 0, sizeof d);
    d.answer = 1;
    d.delay_ms = 20;
    assert_int_equal(ipcn_offer(n, "rdr/svc", "text/plain", deferring_handler, &d),
                     IPCN_OK);
    v_spawn("rdh", NULL);
    v_wait_helper(n, "rdh");
    v_async a;
    assert_int_equal(v_ctl_async(n, "rdh", &a, "request rdr/svc hi 5000"), IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_int_equal(a.status, IPCN_OK);
    assert_string_equal(a.body, "ok:hi");
    assert_string_equal(a.encoding, "text/plain");
    assert_true(d.started);
    pthread_join(d.worker, NULL);
    assert_int_equal(d.st1, IPCN_OK);
    assert_int_equal(d.st2, IPCN_NOT_FOUND); /* answered already */
    ipcn_responder bogus = {d.resp.id + 12345};
    assert_int_equal(ipcn_respond(n, bogus, IPCN_OK, NULL, 0, NULL), IPCN_NOT_FOUND);
}

/* ipcn_respond() to a requester that left: 303. */
static void test_respond_requester_left(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rrl", NULL);
    static struct deferrer d;
    memset(&d, 0, sizeof d);
    assert_int_equal(ipcn_offer(n, "rrl/svc", "text/plain", deferring_handler, &d),
                     IPCN_OK);
    pid_t h = v_spawn("rrh", NULL);
    v_wait_helper(n, "rrh");
    v_async a;
    assert_int_equal(v_ctl_async(n, "rrh", &a, "request rrl/svc hi 20000"),
                     IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &d.handled, V_WAIT_MS));
    v_kill(h);
    ipcn_node_stats ns = {.size = sizeof ns};
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    do {
        v_pump(n, 20);
        assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    } while (ns.peers && tu_now_ms() < end);
    assert_int_equal(ns.peers, 0);
    assert_int_equal(ipcn_respond(n, d.resp, IPCN_OK, "late", 4, NULL),
                     IPCN_SERVICE_UNAVAILABLE);
    /* The control request to the dead helper ended with 303. */
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_int_equal(a.status, IPCN_SERVICE_UNAVAILABLE);
}

static int echo_handler(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                        void *user)
{
    (void)n;
    if (user)
        __atomic_add_fetch((int *)user, 1, __ATOMIC_ACQ_REL);
    assert_int_equal(ipcn_reply_set(ctx, req->data, req->len, req->encoding), IPCN_OK);
    return IPCN_OK;
}

static void test_request_local_provider(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rlp", NULL);
    int calls = 0;
    assert_int_equal(ipcn_offer(n, "rl/echo", "text/plain", echo_handler, &calls),
                     IPCN_OK);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "rl/echo", "me", 2, "text/plain", &m, V_WAIT_MS),
                     IPCN_OK);
    assert_string_equal(m->data, "me");
    assert_string_equal(m->encoding, "text/plain");
    assert_string_equal(m->src_name, "rlp");
    assert_true(m->src_id == ipcn_node_id(n));
    assert_int_equal(m->status, IPCN_OK);
    ipcn_msg_free(m);
    assert_int_equal(calls, 1);

    v_async a = {0};
    ipcn_req req = {0};
    assert_int_equal(ipcn_request_async(n, "rl/echo", "as", 2, NULL, V_WAIT_MS,
                                        v_async_cb, &a, &req),
                     IPCN_ACCEPTED);
    assert_true(req.id != 0);
    assert_int_equal(a.calls, 0); /* never from inside the call */
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, IPCN_OK);
    assert_string_equal(a.body, "as");
    assert_int_equal(calls, 2);

    /* The local provider and a remote one: requests may go to either, and
     * each is answered. */
    v_spawn("rlh", "echo:rl/echo", NULL);
    v_wait_helper(n, "rlh");
    int local = 0, remote = 0;
    for (int i = 0; i < 10; i++) {
        m = NULL;
        assert_int_equal(ipcn_request(n, "rl/echo", "z", 1, NULL, &m, V_WAIT_MS), IPCN_OK);
        assert_string_equal(m->data, "z");
        if (!strcmp(m->src_name, "rlp"))
            local++;
        else if (!strcmp(m->src_name, "rlh"))
            remote++;
        ipcn_msg_free(m);
    }
    assert_int_equal(local + remote, 10);
}

/* A node requests its own service, whose handler answers from another
 * thread while the caller waits (with no timeout: the answer must wake it). */
struct local_call {
    ipcn_node *n;
    int status;
    ipcn_msg *out;
    int done;
};

static void *local_call_main(void *arg)
{
    struct local_call *lc = arg;
    lc->status = ipcn_request(lc->n, "rld/svc", "q", 1, NULL, &lc->out, -1);
    __atomic_store_n(&lc->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_request_local_deferred_from_thread(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rld", NULL);
    static struct deferrer d;
    memset(&d, 0, sizeof d);
    d.answer = 1;
    d.delay_ms = 50;
    assert_int_equal(ipcn_offer(n, "rld/svc", NULL, deferring_handler, &d), IPCN_OK);
    assert_int_equal(ipcn_announce(n, "rld/wake", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    /* A subscription with a callback: a sample for it wakes the node. */
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "rld/wake", 0, v_collect, c, &sub), IPCN_OK);
    static struct local_call lc;
    memset(&lc, 0, sizeof lc);
    lc.n = n;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, local_call_main, &lc), 0);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (!__atomic_load_n(&lc.done, __ATOMIC_ACQUIRE) && tu_now_ms() < end)
        usleep(5000);
    int woken = __atomic_load_n(&lc.done, __ATOMIC_ACQUIRE);
    if (!woken) {
        /* Unblock it (any wake-up of the node does) so the test can end. */
        ipcn_publish(n, "rld/wake", "w", 1);
    }
    pthread_join(t, NULL);
    if (d.started)
        pthread_join(d.worker, NULL);
    v_coll_free(c);
    assert_int_equal(d.st1, IPCN_OK);
    assert_int_equal(d.st2, IPCN_NOT_FOUND);
    if (!woken) {
        ipcn_msg_free(lc.out);
        fail_msg("ipcn_request() of the node's own deferred service did not "
                 "return after ipcn_respond() from another thread");
    }
    assert_int_equal(lc.status, IPCN_OK);
    assert_non_null(lc.out);
    assert_string_equal(lc.out->data, "ok:q");
    ipcn_msg_free(lc.out);
}

static void test_request_async(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rat", NULL);
    v_spawn("rah", "echo:ra/echo", "hole:ra/hole", NULL);
    v_wait_helper(n, "rah");
    v_async a = {0};
    ipcn_req req = {0};
    assert_int_equal(ipcn_request_async(n, "ra/echo", "hey", 3, "text/plain", V_WAIT_MS,
                                        v_async_cb, &a, &req),
                     IPCN_ACCEPTED);
    assert_int_equal(a.calls, 0);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    v_pump(n, 100);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, IPCN_OK);
    assert_true(a.has_reply);
    assert_string_equal(a.body, "hey");
    assert_string_equal(a.src, "rah");
    assert_int_equal(ipcn_request_cancel(n, req), IPCN_NOT_FOUND); /* answered */

    /* No out parameter is fine. */
    v_async b = {0};
    assert_int_equal(ipcn_request_async(n, "ra/echo", "x", 1, NULL, V_WAIT_MS,
                                        v_async_cb, &b, NULL),
                     IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &b.done, V_WAIT_MS));
    assert_int_equal(b.status, IPCN_OK);

    /* A timeout is a callback too, with no reply. */
    v_async c = {0};
    assert_int_equal(ipcn_request_async(n, "ra/hole", "x", 1, NULL, 200, v_async_cb,
                                        &c, NULL),
                     IPCN_ACCEPTED);
    assert_true(v_wait_flag(n, &c.done, V_WAIT_MS));
    v_pump(n, 100);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.status, IPCN_GATEWAY_TIMEOUT);
    assert_false(c.has_reply);
}

static void test_request_async_errors(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rae", NULL);
    v_spawn("raeh", "data:rae/d", NULL);
    v_wait_helper(n, "raeh");
    v_async a = {0};
    ipcn_req req = {777};
    assert_int_equal(ipcn_request_async(n, "rae/none", "x", 1, NULL, 1000, v_async_cb,
                                        &a, &req),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_request_async(n, "rae/d", "x", 1, NULL, 1000, v_async_cb, &a,
                                        &req),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_request_async(n, "rae//x", "x", 1, NULL, 1000, v_async_cb, &a,
                                        &req),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_request_async(n, "ctl/raeh", "x", 1, NULL, 1000, NULL, &a,
                                        &req),
                     IPCN_BAD_REQUEST);
    assert_int_equal(req.id, 777);
    v_pump(n, 100);
    assert_int_equal(a.calls, 0);
}

static void test_request_cancel(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rct", NULL);
    v_spawn("rch", "echo:rc/echo", "hole:rc/hole", NULL);
    v_wait_helper(n, "rch");
    v_async a = {0};
    ipcn_req req = {0};
    assert_int_equal(ipcn_request_async(n, "rc/hole", "x", 1, NULL, 300, v_async_cb, &a,
                                        &req),
                     IPCN_ACCEPTED);
    assert_int_equal(ipcn_request_cancel(n, req), IPCN_OK);
    assert_int_equal(ipcn_request_cancel(n, req), IPCN_NOT_FOUND);
    uint64_t end = tu_now_ms() + 600; /* past its timeout */
    while (tu_now_ms() < end)
        v_pump(n, 20);
    assert_int_equal(a.calls, 0);

    /* Cancelled after the answer came but before it was delivered: either
     * the cancel wins (100, no callback) or it was answered (203, and the
     * callback runs once). */
    v_async b = {0};
    assert_int_equal(ipcn_request_async(n, "rc/echo", "x", 1, NULL, V_WAIT_MS,
                                        v_async_cb, &b, &req),
                     IPCN_ACCEPTED);
    /* A synchronous request pumps I/O without running callbacks. */
    assert_int_equal(v_ctl(n, "rch", NULL, "stats"), IPCN_OK);
    int st = ipcn_request_cancel(n, req);
    v_pump(n, 100);
    if (st == IPCN_OK) {
        assert_int_equal(b.calls, 0);
    } else {
        assert_int_equal(st, IPCN_NOT_FOUND);
        assert_true(v_wait_flag(n, &b.done, V_WAIT_MS));
        assert_int_equal(b.calls, 1);
    }
    assert_int_equal(ipcn_request_cancel(n, req), IPCN_NOT_FOUND);

    ipcn_req unknown = {req.id + 99999};
    assert_int_equal(ipcn_request_cancel(n, unknown), IPCN_NOT_FOUND);
    ipcn_req zero = {0};
    assert_int_equal(ipcn_request_cancel(n, zero), IPCN_NOT_FOUND);
}

static void test_request_spread(void **state)
{
    (void)state;
    ipcn_node *n = v_open("spt", NULL);
    v_spawn("spa", "echo:sp/svc", NULL);
    v_spawn("spb", "echo:sp/svc", NULL);
    v_wait_helper(n, "spa");
    v_wait_helper(n, "spb");
    assert_int_equal(v_count(n, "sp/svc", IPCN_SERVICE), 2);
    int na = 0, nb = 0;
    for (int i = 0; i < 20; i++) {
        ipcn_msg *m = NULL;
        assert_int_equal(ipcn_request(n, "sp/svc", "x", 1, NULL, &m, V_WAIT_MS), IPCN_OK);
        if (!strcmp(m->src_name, "spa"))
            na++;
        else if (!strcmp(m->src_name, "spb"))
            nb++;
        ipcn_msg_free(m);
    }
    assert_int_equal(na + nb, 20);
    assert_true(na > 0);
    assert_true(nb > 0);
}

static void test_request_failover(void **state)
{
    (void)state;
    ipcn_node *n = v_open("fot", NULL);
    pid_t ha = v_spawn("foa", "hole:fo/svc", NULL);
    v_wait_helper(n, "foa");
    v_async a = {0};
    /* Only foa offers it now: the request goes there, and is not answered. */
    assert_int_equal(ipcn_request_async(n, "fo/svc", "again", 5, NULL, 20000,
                                        v_async_cb, &a, NULL),
                     IPCN_ACCEPTED);
    v_spawn("fob", "echo:fo/svc", NULL);
    v_wait_helper(n, "fob");
    assert_int_equal(v_count(n, "fo/svc", IPCN_SERVICE), 2);
    assert_int_equal(a.calls, 0);
    v_kill(ha);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, IPCN_OK);
    assert_string_equal(a.src, "fob");
    assert_string_equal(a.body, "again");
}

static void test_request_provider_dies_async(void **state)
{
    (void)state;
    ipcn_node *n = v_open("pdt", NULL);
    pid_t h = v_spawn("pda", "hole:pd/svc", NULL);
    v_wait_helper(n, "pda");
    v_async a = {0};
    assert_int_equal(ipcn_request_async(n, "pd/svc", "x", 1, NULL, 20000, v_async_cb,
                                        &a, NULL),
                     IPCN_ACCEPTED);
    v_kill(h);
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, IPCN_SERVICE_UNAVAILABLE);
    assert_false(a.has_reply);
}

static void test_request_provider_dies_sync(void **state)
{
    (void)state;
    ipcn_node_opts o = slow_heartbeat();
    ipcn_node *n = v_open("pds", &o);
    pid_t h = v_spawn("pdh", "hb=5000", "dead=30000", "hole:pd/svc", NULL);
    v_wait_helper(n, "pdh");
    static struct blocked_call b;
    b = (struct blocked_call){.n = n, .path = "pd/svc", .request = 1, .timeout_ms = 20000};
    uint64_t base = frames_out(n);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_call_main, &b), 0);
    wait_sent(n, base);
    v_kill(h);
    pthread_join(t, NULL);
    assert_int_equal(b.status, IPCN_SERVICE_UNAVAILABLE);
    assert_null(b.out);
}

/* Closing a node ends its pending requests without their callbacks. */
static void test_close_ends_pending(void **state)
{
    (void)state;
    ipcn_node *n = v_open("cep", NULL);
    v_spawn("ceh", "hole:ce/hole", NULL);
    v_wait_helper(n, "ceh");
    v_async a = {0};
    assert_int_equal(ipcn_request_async(n, "ce/hole", "x", 1, NULL, 20000, v_async_cb,
                                        &a, NULL),
                     IPCN_ACCEPTED);
    v_pump(n, 50);
    v_close(n);
    assert_int_equal(a.calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_request_basic),
        V_TEST(test_request_only_caller),
        V_TEST(test_request_error_passthrough),
        V_TEST(test_request_handler_status_range),
        V_TEST(test_request_statuses),
        V_TEST(test_request_timeout),
        V_TEST(test_request_deferred_remote),
        V_TEST(test_request_deferred_thread_respond),
        V_TEST(test_respond_requester_left),
        V_TEST(test_request_local_provider),
        V_TEST(test_request_local_deferred_from_thread),
        V_TEST(test_request_async),
        V_TEST(test_request_async_errors),
        V_TEST(test_request_cancel),
        V_TEST(test_request_spread),
        V_TEST(test_request_failover),
        V_TEST(test_request_provider_dies_async),
        V_TEST(test_request_provider_dies_sync),
        V_TEST(test_close_ends_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
