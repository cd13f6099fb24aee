/* SPDX-License-Identifier: MIT */
/*
 * test_threads.c — the thread-safety promises of the header: the node's
 * own thread (start, stop, dispatch while it runs, close while it runs),
 * several user threads calling into one node at once (requests, publishes,
 * subscriptions, finds), callbacks on the node's thread and never with the
 * node's lock held.  Helpers are ipcn-test-v_node processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "ipcnet.h"
#include "v_util.h"

#define NTHREADS 4

static void test_thread_start_stop(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tss", NULL);
    assert_int_equal(ipcn_node_stop_thread(n), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_node_dispatch(n, 0), IPCN_SERVICE_UNAVAILABLE);
    assert_int_equal(ipcn_node_dispatch(n, 50), IPCN_SERVICE_UNAVAILABLE);
    assert_int_equal(ipcn_node_stop_thread(n), IPCN_OK);
    assert_int_equal(ipcn_node_stop_thread(n), IPCN_NOT_FOUND);
    /* Dispatch belongs to the caller again. */
    int st = ipcn_node_dispatch(n, 0);
    assert_true(st == IPCN_OK || st == IPCN_NO_DATA);
    /* And the thread can be started again, and the node closed with it
     * running. */
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    v_spawn("tsh", NULL);
    v_wait_helper(n, "tsh");
    v_close(n);
}

/* ---- many user threads, one node ---- */

struct worker {
    ipcn_node *n;
    int k;
    int ok;
    int bad;
    char first_error[200];
};

static void *request_worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 200; i++) {
        char body[32];
        int len = snprintf(body, sizeof body, "t%d-%d", w->k, i);
        ipcn_msg *m = NULL;
        int st = ipcn_request(w->n, "th/echo", body, (size_t)len, "text/plain", &m,
                              V_WAIT_MS);
        if (st == IPCN_OK && m && m->len == (size_t)len &&
            !memcmp(m->data, body, (size_t)len) && !strcmp(m->src_name, "thh"))
            w->ok++;
        else if (!w->bad++)
            snprintf(w->first_error, sizeof w->first_error, "%s: %d %s", body, st,
                     m ? (const char *)m->data : "(no reply)");
        ipcn_msg_free(m);
    }
    return NULL;
}

static volatile int stop_busy;

/* Calls that read the node's state, all the while. */
static void *busy_worker(void *arg)
{
    struct worker *w = arg;
    while (!__atomic_load_n(&stop_busy, __ATOMIC_ACQUIRE)) {
        ipcn_resource_list *rl = NULL;
        ipcn_peer_list *pl = NULL;
        ipcn_node_stats ns = {.size = sizeof ns};
        ipcn_sub sub;
        if (ipcn_find(w->n, "**", IPCN_ANY, &rl) == IPCN_OK && rl->count >= 2)
            w->ok++;
        else
            w->bad++;
        ipcn_resource_list_free(rl);
        if (ipcn_peers(w->n, &pl) != IPCN_OK || pl->count != 1)
            w->bad++;
        ipcn_peer_list_free(pl);
        if (ipcn_node_get_stats(w->n, &ns) != IPCN_OK)
            w->bad++;
        if (ipcn_subscribe(w->n, "busy/**", 0, NULL, NULL, &sub) != IPCN_OK ||
            ipcn_unsubscribe(w->n, sub) != IPCN_OK)
            w->bad++;
        (void)ipcn_node_timeout(w->n);
    }
    return NULL;
}

static void test_thread_concurrent_requests(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tcr", NULL);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    v_spawn("thh", "echo:th/echo", NULL);
    v_wait_helper(n, "thh");
    struct worker w[NTHREADS + 1];
    pthread_t t[NTHREADS + 1];
    memset(w, 0, sizeof w);
    __atomic_store_n(&stop_busy, 0, __ATOMIC_RELEASE);
    for (int i = 0; i <= NTHREADS; i++) {
        w[i].n = n;
        w[i].k = i;
        assert_int_equal(pthread_create(&t[i], NULL,
                                        i < NTHREADS ? request_worker : busy_worker,
                                        &w[i]),
                         0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    __atomic_store_n(&stop_busy, 1, __ATOMIC_RELEASE);
    pthread_join(t[NTHREADS], NULL);
    for (int i = 0; i < NTHREADS; i++) {
        if (w[i].bad)
            fail_msg("thread %d: %d bad answers, first %s", i, w[i].bad,
                     w[i].first_error);
        assert_int_equal(w[i].ok, 200);
    }
    assert_int_equal(w[NTHREADS].bad, 0);
    assert_true(w[NTHREADS].ok > 0);
}

/* Requests from user threads of a node that has no thread: the threads
 * take turns at the I/O themselves. */
static void test_thread_concurrent_requests_no_node_thread(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tcn", NULL);
    v_spawn("thh", "echo:th/echo", NULL);
    v_wait_helper(n, "thh");
    struct worker w[NTHREADS];
    pthread_t t[NTHREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < NTHREADS; i++) {
        w[i].n = n;
        w[i].k = i;
        assert_int_equal(pthread_create(&t[i], NULL, request_worker, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < NTHREADS; i++) {
        if (w[i].bad)
            fail_msg("thread %d: %d bad answers, first %s", i, w[i].bad,
                     w[i].first_error);
        assert_int_equal(w[i].ok, 200);
    }
}

static void *publish_worker(void *arg)
{
    struct worker *w = arg;
    char path[32];
    snprintf(path, sizeof path, "tp/s%d", w->k);
    for (int i = 1; i <= 200; i++) {
        char v[32];
        int len = snprintf(v, sizeof v, "%d", i);
        if (ipcn_publish(w->n, path, v, (size_t)len) == IPCN_OK)
            w->ok++;
        else
            w->bad++;
    }
    return NULL;
}

static void test_thread_concurrent_publish(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tcp", NULL);
    for (int i = 0; i < NTHREADS; i++) {
        char path[32];
        snprintf(path, sizeof path, "tp/s%d", i);
        assert_int_equal(ipcn_announce(n, path, IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    }
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "tp/**", 1000, v_collect, c, &sub), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    v_spawn("tph", NULL);
    v_wait_helper(n, "tph");
    ipcn_msg *m = NULL;
    assert_int_equal(v_ctl(n, "tph", &m, "sub tp/** 1000"), IPCN_OK);
    unsigned id = (unsigned)atoi(m->data);
    ipcn_msg_free(m);

    struct worker w[NTHREADS];
    pthread_t t[NTHREADS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < NTHREADS; i++) {
        w[i].n = n;
        w[i].k = i;
        assert_int_equal(pthread_create(&t[i], NULL, publish_worker, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].ok, 200);
    }
    /* Local subscriber: all of them, each stream in order. */
    assert_true(v_wait_samples(n, c, 200 * NTHREADS, V_WAIT_MS));
    usleep(50000);
    assert_int_equal(v_coll_count(c), 200 * NTHREADS);
    uint64_t next[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        next[i] = 1;
    for (int i = 0; i < 200 * NTHREADS; i++) {
        int k = c->s[i].path[4] - '0';
        assert_in_range(k, 0, NTHREADS - 1);
        assert_int_equal(c->s[i].seq, next[k]);
        assert_int_equal(strtoull(c->s[i].data, NULL, 10), next[k]);
        next[k]++;
    }
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 200 * NTHREADS);
    assert_int_equal(ss.dropped, 0);
    /* Remote subscriber: the control request went after the samples. */
    m = NULL;
    assert_int_equal(v_ctl(n, "tph", &m, "substats %u", id), IPCN_OK);
    char want[64];
    snprintf(want, sizeof want, "%d 0 0 0 %d", 200 * NTHREADS, 200 * NTHREADS);
    assert_string_equal(m->data, want);
    ipcn_msg_free(m);
    v_coll_free(c);
}

/* ---- where callbacks run ---- */

struct cb_threads {
    pthread_mutex_t mu;
    pthread_t sample, handler, event, reply;
    int have_sample, have_handler, have_event, have_reply;
    int mixed; /* callbacks seen on different threads */
    int nested_status;
};

static void note_thread(struct cb_threads *ct, pthread_t *slot, int *have)
{
    pthread_t self = pthread_self();
    pthread_mutex_lock(&ct->mu);
    if (!*have) {
        *slot = self;
        *have = 1;
    }
    if (!pthread_equal(*slot, self))
        ct->mixed++;
    pthread_mutex_unlock(&ct->mu);
}

static void sample_thread_cb(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)m;
    struct cb_threads *ct = user;
    note_thread(ct, &ct->sample, &ct->have_sample);
    /* A callback may make a blocking call on its node. */
    if (m->seq == 1) {
        ipcn_msg *r = NULL;
        int st = ipcn_request(n, "ctl/tch", "stats", 5, NULL, &r, V_WAIT_MS);
        ipcn_msg_free(r);
        __atomic_store_n(&ct->nested_status, st, __ATOMIC_RELEASE);
    }
}

static int handler_thread_cb(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                             void *user)
{
    (void)n;
    struct cb_threads *ct = user;
    note_thread(ct, &ct->handler, &ct->have_handler);
    ipcn_reply_set(ctx, req->data, req->len, NULL);
    return IPCN_OK;
}

static void event_thread_cb(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)n, (void)ev;
    struct cb_threads *ct = user;
    note_thread(ct, &ct->event, &ct->have_event);
}

static struct cb_threads *reply_ct;
static int reply_done;

static void reply_thread_cb(ipcn_node *n, int status, const ipcn_msg *reply, void *user)
{
    (void)n, (void)status, (void)reply, (void)user;
    note_thread(reply_ct, &reply_ct->reply, &reply_ct->have_reply);
    __atomic_store_n(&reply_done, 1, __ATOMIC_RELEASE);
}

static void test_thread_callbacks_on_node_thread(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tcb", NULL);
    /* Static: if an assertion fails, the node's thread may still run
     * callbacks with it until the teardown closes the node. */
    static struct cb_threads ct;
    memset(&ct, 0, sizeof ct);
    pthread_mutex_init(&ct.mu, NULL);
    ct.nested_status = -1;
    reply_ct = &ct;
    reply_done = 0;
    assert_int_equal(ipcn_node_set_event_fn(n, event_thread_cb, &ct), IPCN_OK);
    assert_int_equal(ipcn_offer(n, "tcb/svc", NULL, handler_thread_cb, &ct), IPCN_OK);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "tc/**", 0, sample_thread_cb, &ct, &sub), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    v_spawn("tch", "stream:tc/s", NULL);
    v_wait_helper(n, "tch");
    /* From the main thread while the node's thread dispatches. */
    assert_int_equal(v_ctl(n, "tch", NULL, "burst tc/s 20"), IPCN_OK);
    /* The first sample's callback makes a request to the helper: let it
     * finish before the helper is kept busy requesting tcb/svc from us. */
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (__atomic_load_n(&ct.nested_status, __ATOMIC_ACQUIRE) == -1) {
        if (tu_now_ms() >= end)
            fail_msg("the first sample's callback did not finish");
        usleep(2000);
    }
    assert_int_equal(v_ctl(n, "tch", NULL, "request tcb/svc hi 3000"), IPCN_OK);
    assert_int_equal(ipcn_request_async(n, "ctl/tch", "stats", 5, NULL, V_WAIT_MS,
                                        reply_thread_cb, NULL, NULL),
                     IPCN_ACCEPTED);
    end = tu_now_ms() + V_WAIT_MS;
    while (!__atomic_load_n(&reply_done, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&ct.nested_status, __ATOMIC_ACQUIRE) == -1) {
        if (tu_now_ms() >= end)
            fail_msg("callbacks did not run");
        usleep(5000);
    }
    assert_int_equal(ipcn_node_stop_thread(n), IPCN_OK);
    assert_true(ct.have_sample && ct.have_handler && ct.have_event && ct.have_reply);
    assert_int_equal(ct.mixed, 0);
    pthread_t self = pthread_self();
    assert_false(pthread_equal(ct.sample, self));
    assert_true(pthread_equal(ct.sample, ct.handler));
    assert_true(pthread_equal(ct.sample, ct.event));
    assert_true(pthread_equal(ct.sample, ct.reply));
    assert_int_equal(ct.nested_status, IPCN_OK);
    pthread_mutex_destroy(&ct.mu);
}

/* A callback runs without the node's lock: another thread can use the node
 * while the callback waits for it. */
struct nolock {
    ipcn_node *n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int asked, answered, in_cb_ok, cb_done, quit;
};

static void *nolock_helper(void *arg)
{
    struct nolock *nl = arg;
    pthread_mutex_lock(&nl->mu);
    while (!nl->asked && !nl->quit)
        pthread_cond_wait(&nl->cv, &nl->mu);
    int quit = nl->quit;
    pthread_mutex_unlock(&nl->mu);
    if (quit)
        return NULL;
    ipcn_resource_list *rl = NULL;
    int ok = ipcn_find(nl->n, "**", IPCN_ANY, &rl) == IPCN_OK;
    ipcn_resource_list_free(rl);
    ok = ok && ipcn_publish(nl->n, "nl/s2", "z", 1) == IPCN_OK;
    pthread_mutex_lock(&nl->mu);
    nl->answered = ok ? 1 : -1;
    pthread_cond_broadcast(&nl->cv);
    pthread_mutex_unlock(&nl->mu);
    return NULL;
}

static void nolock_cb(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n, (void)m;
    struct nolock *nl = user;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_mutex_lock(&nl->mu);
    nl->asked = 1;
    pthread_cond_broadcast(&nl->cv);
    while (!nl->answered) {
        if (pthread_cond_timedwait(&nl->cv, &nl->mu, &ts) != 0)
            break;
    }
    nl->in_cb_ok = nl->answered == 1;
    nl->cb_done = 1;
    pthread_mutex_unlock(&nl->mu);
}

static void test_thread_callback_without_lock(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tnl", NULL);
    assert_int_equal(ipcn_announce(n, "nl/s", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "nl/s2", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    static struct nolock nl; /* static: see test_thread_callbacks_on_node_thread */
    memset(&nl, 0, sizeof nl);
    nl.n = n;
    pthread_mutex_init(&nl.mu, NULL);
    pthread_cond_init(&nl.cv, NULL);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "nl/s", 0, nolock_cb, &nl, &sub), IPCN_OK);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, nolock_helper, &nl), 0);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "nl/s", "x", 1), IPCN_OK);
    uint64_t end = tu_now_ms() + 2 * V_WAIT_MS;
    for (;;) {
        pthread_mutex_lock(&nl.mu);
        int done = nl.cb_done;
        pthread_mutex_unlock(&nl.mu);
        if (done || tu_now_ms() >= end)
            break;
        usleep(5000);
    }
    pthread_mutex_lock(&nl.mu);
    nl.quit = 1;
    pthread_cond_broadcast(&nl.cv);
    pthread_mutex_unlock(&nl.mu);
    pthread_join(t, NULL);
    assert_int_equal(ipcn_node_stop_thread(n), IPCN_OK);
    assert_true(nl.cb_done);
    assert_true(nl.in_cb_ok);
    pthread_mutex_destroy(&nl.mu);
    pthread_cond_destroy(&nl.cv);
}

/* ---- asynchronous requests from many threads ---- */

struct async_one {
    char want[32];
    int status;
    int match;
    int calls;
};

static int async_total;

static void async_one_cb(ipcn_node *n, int status, const ipcn_msg *reply, void *user)
{
    (void)n;
    struct async_one *a = user;
    a->status = status;
    a->match = reply && reply->len == strlen(a->want) &&
               !memcmp(reply->data, a->want, reply->len);
    __atomic_add_fetch(&a->calls, 1, __ATOMIC_ACQ_REL);
    __atomic_add_fetch(&async_total, 1, __ATOMIC_ACQ_REL);
}

struct async_worker {
    ipcn_node *n;
    int k;
    struct async_one one[50];
    int sent;
};

static void *async_worker_main(void *arg)
{
    struct async_worker *w = arg;
    for (int i = 0; i < 50; i++) {
        struct async_one *a = &w->one[i];
        snprintf(a->want, sizeof a->want, "a%d-%d", w->k, i);
        if (ipcn_request_async(w->n, "th/echo", a->want, strlen(a->want), NULL,
                               V_WAIT_MS, async_one_cb, a, NULL) == IPCN_ACCEPTED)
            w->sent++;
    }
    return NULL;
}

static void test_thread_async_requests(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tar", NULL);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    v_spawn("tah", "echo:th/echo", NULL);
    v_wait_helper(n, "tah");
    __atomic_store_n(&async_total, 0, __ATOMIC_RELEASE);
    struct async_worker *w = calloc(NTHREADS, sizeof *w);
    assert_non_null(w);
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i].n = n;
        w[i].k = i;
        assert_int_equal(pthread_create(&t[i], NULL, async_worker_main, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].sent, 50);
    }
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (__atomic_load_n(&async_total, __ATOMIC_ACQUIRE) < 50 * NTHREADS &&
           tu_now_ms() < end)
        usleep(5000);
    usleep(50000);
    assert_int_equal(ipcn_node_stop_thread(n), IPCN_OK);
    assert_int_equal(async_total, 50 * NTHREADS);
    for (int i = 0; i < NTHREADS; i++)
        for (int j = 0; j < 50; j++) {
            assert_int_equal(w[i].one[j].calls, 1);
            assert_int_equal(w[i].one[j].status, IPCN_OK);
            assert_true(w[i].one[j].match);
        }
    free(w);
}

/* ---- unsubscribe from another thread ---- */

struct unsub_state {
    int running;
    int calls;
};

static void unsub_cb(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n, (void)m;
    struct unsub_state *u = user;
    __atomic_add_fetch(&u->running, 1, __ATOMIC_ACQ_REL);
    __atomic_add_fetch(&u->calls, 1, __ATOMIC_ACQ_REL);
    usleep(1000);
    __atomic_sub_fetch(&u->running, 1, __ATOMIC_ACQ_REL);
}

static void test_thread_unsubscribe_while_delivering(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tus", NULL);
    v_spawn("tuh", "stream:tu/s", NULL);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    v_wait_helper(n, "tuh");
    static struct unsub_state u; /* static: outlives a failed assertion */
    memset(&u, 0, sizeof u);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "tu/s", 1000, unsub_cb, &u, &sub), IPCN_OK);
    assert_int_equal(v_ctl(n, "tuh", NULL, "burst tu/s 300"), IPCN_OK);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (__atomic_load_n(&u.calls, __ATOMIC_ACQUIRE) < 5 && tu_now_ms() < end)
        usleep(1000);
    assert_int_equal(ipcn_unsubscribe(n, sub), IPCN_OK);
    /* At most the callback already running finishes. */
    end = tu_now_ms() + V_WAIT_MS;
    while (__atomic_load_n(&u.running, __ATOMIC_ACQUIRE) && tu_now_ms() < end)
        usleep(1000);
    int calls = __atomic_load_n(&u.calls, __ATOMIC_ACQUIRE);
    assert_int_equal(v_ctl(n, "tuh", NULL, "burst tu/s 10"), IPCN_OK);
    usleep(200000);
    assert_int_equal(__atomic_load_n(&u.calls, __ATOMIC_ACQUIRE), calls);
    assert_true(calls < 300);
    assert_int_equal(ipcn_unsubscribe(n, sub), IPCN_NOT_FOUND);
}

/* ---- close while the thread runs and work is under way ---- */

static void test_thread_close_while_busy(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tcw", NULL);
    assert_int_equal(ipcn_announce(n, "tw/s", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    pid_t h = v_spawn("twh", "hole:tw/hole", "stream:tw/r", NULL);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    v_wait_helper(n, "twh");
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "tw/**", 1000, v_collect, c, &sub), IPCN_OK);
    static struct async_one a; /* static: outlives a failed assertion */
    memset(&a, 0, sizeof a);
    snprintf(a.want, sizeof a.want, "x");
    assert_int_equal(ipcn_request_async(n, "tw/hole", "x", 1, NULL, 20000, async_one_cb,
                                        &a, NULL),
                     IPCN_ACCEPTED);
    static v_async b;
    assert_int_equal(v_ctl_async(n, "twh", &b, "burst tw/r 200"), IPCN_ACCEPTED);
    for (int i = 0; i < 100; i++)
        assert_int_equal(ipcn_publish(n, "tw/s", "y", 1), IPCN_OK);
    v_close(n);
    assert_int_equal(a.calls, 0); /* ended by close, without its callback */
    /* The helper lives on, and sees the node gone. */
    usleep(100000);
    assert_int_equal(tu_wait(h, 0), -1);
    v_coll_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_thread_start_stop),
        V_TEST(test_thread_concurrent_requests),
        V_TEST(test_thread_concurrent_requests_no_node_thread),
        V_TEST(test_thread_concurrent_publish),
        V_TEST(test_thread_callbacks_on_node_thread),
        V_TEST(test_thread_callback_without_lock),
        V_TEST(test_thread_async_requests),
        V_TEST(test_thread_unsubscribe_while_delivering),
        V_TEST(test_thread_close_while_busy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
