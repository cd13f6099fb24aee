/* SPDX-License-Identifier: MIT */
/*
 * test_events.c — the node's event callback (peers and remote resources
 * coming and going, with helper processes that leave cleanly or die by
 * SIGKILL) and the event-loop integration: ipcn_node_fd() in the caller's
 * own poll() loop, ipcn_node_timeout(), ipcn_node_dispatch().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>

#include "ipcnet.h"
#include "v_util.h"

typedef struct v_event {
    int type;
    char peer[80];
    uint64_t peer_id;
    int has_path;
    char path[128];
    int kind;
    int status;
} v_event;

typedef struct v_events {
    pthread_mutex_t mu;
    int count;
    v_event ev[256];
} v_events;

static void on_event(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)n;
    v_events *e = user;
    pthread_mutex_lock(&e->mu);
    if (e->count < 256) {
        v_event *x = &e->ev[e->count++];
        x->type = ev->type;
        snprintf(x->peer, sizeof x->peer, "%s", ev->peer ? ev->peer : "(null)");
        x->peer_id = ev->peer_id;
        x->has_path = ev->path != NULL;
        snprintf(x->path, sizeof x->path, "%s", ev->path ? ev->path : "");
        x->kind = ev->kind;
        x->status = ev->status;
    }
    pthread_mutex_unlock(&e->mu);
}

static v_events *events_new(void)
{
    v_events *e = calloc(1, sizeof *e);
    assert_non_null(e);
    pthread_mutex_init(&e->mu, NULL);
    return e;
}

static void events_free(v_events *e)
{
    pthread_mutex_destroy(&e->mu);
    free(e);
}

/* The index of the first event of that type (and peer, and path if given). */
static int ev_find(v_events *e, int type, const char *peer, const char *path)
{
    pthread_mutex_lock(&e->mu);
    int at = -1;
    for (int i = 0; i < e->count && at < 0; i++) {
        const v_event *x = &e->ev[i];
        if (x->type == type && (!peer || !strcmp(x->peer, peer)) &&
            (!path || !strcmp(x->path, path)))
            at = i;
    }
    pthread_mutex_unlock(&e->mu);
    return at;
}

static int ev_count(v_events *e, int type, const char *peer)
{
    pthread_mutex_lock(&e->mu);
    int k = 0;
    for (int i = 0; i < e->count; i++)
        if (e->ev[i].type == type && (!peer || !strcmp(e->ev[i].peer, peer)))
            k++;
    pthread_mutex_unlock(&e->mu);
    return k;
}

static int ev_wait(ipcn_node *n, v_events *e, int type, const char *peer,
                   const char *path)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    int at;
    while ((at = ev_find(e, type, peer, path)) < 0) {
        if (tu_now_ms() >= end) {
            fprintf(stderr, "no event %d %s %s\n", type, peer ? peer : "",
                    path ? path : "");
            fail();
        }
        v_pump(n, 20);
    }
    return at;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static void test_events_clean_lifecycle(void **state)
{
    (void)state;
    ipcn_node *n = v_open("evt", NULL);
    v_events *e = events_new();
    assert_int_equal(ipcn_node_set_event_fn(n, on_event, e), IPCN_OK);
    assert_int_equal(ipcn_announce(n, "ev/own", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    pid_t h = v_spawn("evh", "data:ev/d", "stream:ev/s", NULL);
    int up = ev_wait(n, e, IPCN_EV_PEER_UP, "evh", NULL);
    ipcn_peer p = v_peer(n, "evh");
    assert_int_equal(p.pid, h);
    assert_false(e->ev[up].has_path);
    assert_true(e->ev[up].peer_id == p.id);
    assert_int_equal(e->ev[up].status, IPCN_OK);
    int d = ev_wait(n, e, IPCN_EV_RESOURCE_UP, "evh", "ev/d");
    int s = ev_wait(n, e, IPCN_EV_RESOURCE_UP, "evh", "ev/s");
    int c = ev_wait(n, e, IPCN_EV_RESOURCE_UP, "evh", "ctl/evh");
    assert_int_equal(e->ev[d].kind, IPCN_DATA);
    assert_int_equal(e->ev[s].kind, IPCN_STREAM);
    assert_int_equal(e->ev[c].kind, IPCN_SERVICE);
    assert_true(e->ev[d].peer_id == p.id);
    /* A peer's resources are told after the peer itself. */
    assert_true(up < d && up < s && up < c);
    /* Own resources are not events. */
    assert_int_equal(ev_find(e, IPCN_EV_RESOURCE_UP, NULL, "ev/own"), -1);

    assert_int_equal(v_ctl(n, "evh", NULL, "withdraw ev/s"), IPCN_OK);
    int w = ev_wait(n, e, IPCN_EV_RESOURCE_DOWN, "evh", "ev/s");
    assert_int_equal(e->ev[w].kind, IPCN_STREAM);
    assert_true(e->ev[w].has_path);
    assert_int_equal(v_ctl(n, "evh", NULL, "announce ev/n stream x"), IPCN_CREATED);
    ev_wait(n, e, IPCN_EV_RESOURCE_UP, "evh", "ev/n");
    assert_int_equal(ev_find(e, IPCN_EV_PEER_DOWN, "evh", NULL), -1);

    /* A clean exit: goodbye, status 100, and its resources go down. */
    assert_int_equal(v_ctl(n, "evh", NULL, "exit"), IPCN_OK);
    int down = ev_wait(n, e, IPCN_EV_PEER_DOWN, "evh", NULL);
    assert_int_equal(e->ev[down].status, IPCN_OK);
    assert_true(e->ev[down].peer_id == p.id);
    assert_false(e->ev[down].has_path);
    ev_wait(n, e, IPCN_EV_RESOURCE_DOWN, "evh", "ev/d");
    ev_wait(n, e, IPCN_EV_RESOURCE_DOWN, "evh", "ev/n");
    ev_wait(n, e, IPCN_EV_RESOURCE_DOWN, "evh", "ctl/evh");
    assert_int_equal(v_reap(h, V_WAIT_MS), 0);
    v_pump(n, 100);
    assert_int_equal(ev_count(e, IPCN_EV_PEER_UP, "evh"), 1);
    assert_int_equal(ev_count(e, IPCN_EV_PEER_DOWN, "evh"), 1);
    assert_int_equal(ev_count(e, IPCN_EV_RESOURCE_DOWN, "evh"), 4);
    v_close(n);
    events_free(e);
}

static void test_events_kill9(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ekt", NULL);
    v_events *e = events_new();
    assert_int_equal(ipcn_node_set_event_fn(n, on_event, e), IPCN_OK);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "ek/**", 0, v_collect, c, &sub), IPCN_OK);
    pid_t h = v_spawn("ekh", "stream:ek/s", "data:ek/d", NULL);
    ev_wait(n, e, IPCN_EV_PEER_UP, "ekh", NULL);
    ev_wait(n, e, IPCN_EV_RESOURCE_UP, "ekh", "ctl/ekh");
    v_kill(h);
    int down = ev_wait(n, e, IPCN_EV_PEER_DOWN, "ekh", NULL);
    assert_int_equal(e->ev[down].status, IPCN_SERVICE_UNAVAILABLE);
    int rd = ev_wait(n, e, IPCN_EV_RESOURCE_DOWN, "ekh", "ek/s");
    assert_int_equal(e->ev[rd].kind, IPCN_STREAM);
    ev_wait(n, e, IPCN_EV_RESOURCE_DOWN, "ekh", "ek/d");
    /* Subscribers are told that the provider left: one 303 per resource. */
    assert_true(v_wait_samples(n, c, 2, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(v_coll_count(c), 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(c->s[i].status, IPCN_SERVICE_UNAVAILABLE);
        assert_int_equal(c->s[i].len, 0);
        assert_true(!strcmp(c->s[i].path, "ek/s") || !strcmp(c->s[i].path, "ek/d"));
    }
    assert_string_not_equal(c->s[0].path, c->s[1].path);
    assert_int_equal(v_count(n, "ek/**", IPCN_ANY), 0);
    ipcn_node_stats ns = {.size = sizeof ns};
    assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    assert_int_equal(ns.peers_lost, 1);
    v_close(n);
    events_free(e);
    v_coll_free(c);
}

/* A peer that stops answering (SIGSTOP: no hang-up, no exit) is dropped
 * with status 304.  Nothing is outstanding on this link, so it is the slow
 * probe of idle links that finds it (idle_probe_ms, then dead_after_ms);
 * heartbeats are only for links where this node waits for something. */
static void test_events_heartbeat_timeout(void **state)
{
    (void)state;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.heartbeat_ms = 100;
    o.dead_after_ms = 300;
    o.idle_probe_ms = 400;
    ipcn_node *n = v_open("eht", &o);
    v_events *e = events_new();
    assert_int_equal(ipcn_node_set_event_fn(n, on_event, e), IPCN_OK);
    pid_t h = v_spawn("ehh", "stream:eh/s", NULL);
    v_wait_helper(n, "ehh");
    /* Linked and quiet for a while: probes keep it up. */
    uint64_t end = tu_now_ms() + 700;
    while (tu_now_ms() < end)
        v_pump(n, 50);
    assert_int_equal(ev_find(e, IPCN_EV_PEER_DOWN, "ehh", NULL), -1);
    assert_int_equal(kill(h, SIGSTOP), 0);
    int down = ev_wait(n, e, IPCN_EV_PEER_DOWN, "ehh", NULL);
    assert_int_equal(e->ev[down].status, IPCN_GATEWAY_TIMEOUT);
    ev_wait(n, e, IPCN_EV_RESOURCE_DOWN, "ehh", "eh/s");
    ipcn_node_stats ns = {.size = sizeof ns};
    assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    assert_int_equal(ns.peers_lost, 1);
    v_close(n);
    events_free(e);
}

static void test_events_fn_replaced_and_cleared(void **state)
{
    (void)state;
    ipcn_node *n = v_open("efr", NULL);
    v_events *e1 = events_new(), *e2 = events_new();
    assert_int_equal(ipcn_node_set_event_fn(n, on_event, e1), IPCN_OK);
    assert_int_equal(ipcn_node_set_event_fn(n, on_event, e2), IPCN_OK); /* replaces */
    v_spawn("efa", NULL);
    ev_wait(n, e2, IPCN_EV_PEER_UP, "efa", NULL);
    assert_int_equal(e1->count, 0);
    assert_int_equal(ipcn_node_set_event_fn(n, NULL, NULL), IPCN_OK);
    int before = e2->count;
    v_spawn("efb", NULL);
    v_wait_helper(n, "efb");
    v_pump(n, 100);
    assert_int_equal(e2->count, before);
    assert_int_equal(e1->count, 0);
    v_close(n);
    events_free(e1);
    events_free(e2);
}

/* ------------------------------------------------------------------ */
/* Event-loop integration                                              */
/* ------------------------------------------------------------------ */

static int echo_calls;

static int echo_handler(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                        void *user)
{
    (void)n, (void)user;
    echo_calls++;
    ipcn_reply_set(ctx, req->data, req->len, req->encoding);
    return IPCN_OK;
}

/* The caller's own loop: poll() the node's fd, dispatch(0) when readable. */
static int poll_round(ipcn_node *n, int *dispatched)
{
    int t = ipcn_node_timeout(n);
    if (t < 0 || t > 50)
        t = 50;
    struct pollfd p = {.fd = ipcn_node_fd(n), .events = POLLIN};
    int r = poll(&p, 1, t);
    if (r < 0)
        return -1;
    if (r > 0 && (p.revents & POLLIN)) {
        int st = ipcn_node_dispatch(n, 0);
        assert_true(st == IPCN_OK || st == IPCN_NO_DATA);
        if (st == IPCN_OK)
            (*dispatched)++;
    } else if (t == 0) {
        fail_msg("ipcn_node_timeout() said 0 but the fd was not readable");
    }
    return r;
}

static void test_evloop_poll(void **state)
{
    (void)state;
    ipcn_node *n = v_open("elt", NULL);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "el/**", 0, v_collect, c, &sub), IPCN_OK);
    echo_calls = 0;
    assert_int_equal(ipcn_offer(n, "el/svc", "text/plain", echo_handler, NULL), IPCN_OK);
    v_spawn("elh", "stream:el/s", NULL);
    int dispatched = 0;
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (v_count(n, "ctl/elh", IPCN_SERVICE) != 1) {
        if (tu_now_ms() >= end)
            fail_msg("the helper was not seen through the poll loop");
        poll_round(n, &dispatched);
    }
    v_async a1, a2;
    assert_int_equal(v_ctl_async(n, "elh", &a1, "burst el/s 5"), IPCN_ACCEPTED);
    assert_int_equal(v_ctl_async(n, "elh", &a2, "request el/svc hi 3000"),
                     IPCN_ACCEPTED);
    end = tu_now_ms() + V_WAIT_MS;
    while (v_coll_count(c) < 5 || !__atomic_load_n(&a1.done, __ATOMIC_ACQUIRE) ||
           !__atomic_load_n(&a2.done, __ATOMIC_ACQUIRE)) {
        if (tu_now_ms() >= end)
            fail_msg("poll loop: %d samples, ctl %d/%d", v_coll_count(c), a1.done,
                     a2.done);
        poll_round(n, &dispatched);
    }
    assert_true(dispatched > 0);
    assert_int_equal(v_coll_count(c), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(c->s[i].seq, (uint64_t)i + 1);
    assert_int_equal(a1.status, IPCN_OK);
    assert_int_equal(a2.status, IPCN_OK); /* the helper's request to us */
    assert_string_equal(a2.body, "hi");
    assert_int_equal(echo_calls, 1);
    v_coll_free(c);
}

static void test_evloop_timeout_and_fd(void **state)
{
    (void)state;
    ipcn_node *n = v_open("eto", NULL);
    /* Alone, once it has handled what opening it stirred up (its own files
     * in the directory): no timer, nothing to do. */
    int rounds = 0;
    while (ipcn_node_dispatch(n, 0) == IPCN_OK)
        assert_true(++rounds < 100);
    assert_int_equal(ipcn_node_timeout(n), -1);
    assert_int_equal(ipcn_node_dispatch(n, 0), IPCN_NO_DATA);
    uint64_t t0 = tu_now_ms();
    assert_int_equal(ipcn_node_dispatch(n, 100), IPCN_NO_DATA);
    assert_true(tu_now_ms() - t0 >= 90);
    struct pollfd p = {.fd = ipcn_node_fd(n), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 0);

    /* A callback waiting: timeout 0, the fd readable, dispatch does it. */
    assert_int_equal(ipcn_announce(n, "et/s", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "et/s", 0, v_collect, c, &sub), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "et/s", "x", 1), IPCN_OK);
    assert_int_equal(ipcn_node_timeout(n), 0);
    assert_int_equal(poll(&p, 1, 1000), 1);
    assert_true(p.revents & POLLIN);
    assert_int_equal(ipcn_node_dispatch(n, 0), IPCN_OK);
    assert_int_equal(v_coll_count(c), 1);
    assert_int_equal(ipcn_node_timeout(n), -1);
    /* It settles (a leftover wake-up may take one more round). */
    rounds = 0;
    while (ipcn_node_dispatch(n, 0) == IPCN_OK)
        assert_true(++rounds < 3);
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_int_equal(v_coll_count(c), 1);
    v_coll_free(c);
}

/* The node's timers live inside its fd: with only a timer armed (a
 * request's deadline) ipcn_node_timeout() says -1, and a loop that waits on
 * the fd alone still gets the timeout delivered. */
static void test_evloop_timer_in_fd(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ett", NULL);
    v_spawn("etth", "hole:et/hole", NULL);
    v_wait_helper(n, "etth");
    int rounds = 0;
    while (ipcn_node_dispatch(n, 0) == IPCN_OK)
        assert_true(++rounds < 1000);
    v_async a;
    memset(&a, 0, sizeof a);
    assert_int_equal(ipcn_request_async(n, "et/hole", "x", 1, NULL, 300, v_async_cb,
                                        &a, NULL),
                     IPCN_ACCEPTED);
    assert_int_equal(ipcn_node_timeout(n), -1);
    int dispatched = 0;
    uint64_t t0 = tu_now_ms();
    while (!__atomic_load_n(&a.done, __ATOMIC_ACQUIRE)) {
        if (tu_now_ms() - t0 > V_WAIT_MS)
            fail_msg("the request's timeout was not delivered through the fd");
        int t = ipcn_node_timeout(n);
        struct pollfd p = {.fd = ipcn_node_fd(n), .events = POLLIN};
        /* Wait on the fd only: no timeout of our own. */
        if (poll(&p, 1, t < 0 ? V_WAIT_MS : t) > 0)
            ipcn_node_dispatch(n, 0), dispatched++;
    }
    assert_true(tu_now_ms() - t0 >= 290);
    assert_int_equal(a.status, IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(a.calls, 1);
}

static int dispatch_in_cb_status = -1;
static int event_dispatch_status = -1;
static int handler_dispatch_status = -1;

static void sample_dispatching(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)m, (void)user;
    dispatch_in_cb_status = ipcn_node_dispatch(n, 0);
    /* Other calls are fine from a callback. */
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "**", IPCN_ANY, &rl), IPCN_OK);
    ipcn_resource_list_free(rl);
    assert_int_equal(ipcn_publish(n, "dc/other", "y", 1), IPCN_OK);
}

static void event_dispatching(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)ev, (void)user;
    event_dispatch_status = ipcn_node_dispatch(n, 0);
}

static int handler_dispatching(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                               void *user)
{
    (void)req, (void)ctx, (void)user;
    handler_dispatch_status = ipcn_node_dispatch(n, 0);
    return IPCN_OK;
}

static void test_dispatch_from_callback(void **state)
{
    (void)state;
    ipcn_node *n = v_open("dct", NULL);
    assert_int_equal(ipcn_announce(n, "dc/s", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "dc/other", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_offer(n, "dc/svc", NULL, handler_dispatching, NULL), IPCN_OK);
    assert_int_equal(ipcn_node_set_event_fn(n, event_dispatching, NULL), IPCN_OK);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "dc/s", 0, sample_dispatching, NULL, &sub),
                     IPCN_OK);
    v_coll *c = v_coll_new();
    ipcn_sub sub2;
    assert_int_equal(ipcn_subscribe(n, "dc/other", 0, v_collect, c, &sub2), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "dc/s", "x", 1), IPCN_OK);
    v_async a = {0};
    assert_int_equal(ipcn_request_async(n, "dc/svc", NULL, 0, NULL, V_WAIT_MS, v_async_cb,
                                        &a, NULL),
                     IPCN_ACCEPTED);
    v_spawn("dch", NULL);
    v_wait_helper(n, "dch");
    assert_true(v_wait_flag(n, &a.done, V_WAIT_MS));
    assert_true(v_wait_samples(n, c, 1, V_WAIT_MS)); /* published from a callback */
    assert_int_equal(dispatch_in_cb_status, IPCN_BAD_REQUEST);
    assert_int_equal(event_dispatch_status, IPCN_BAD_REQUEST);
    assert_int_equal(handler_dispatch_status, IPCN_BAD_REQUEST);
    assert_int_equal(a.status, IPCN_OK);
    v_coll_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_events_clean_lifecycle),
        V_TEST(test_events_kill9),
        V_TEST(test_events_heartbeat_timeout),
        V_TEST(test_events_fn_replaced_and_cleared),
        V_TEST(test_evloop_poll),
        V_TEST(test_evloop_timeout_and_fd),
        V_TEST(test_evloop_timer_in_fd),
        V_TEST(test_dispatch_from_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
