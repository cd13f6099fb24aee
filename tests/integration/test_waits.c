/* SPDX-License-Identifier: MIT */
/*
 * test_waits.c — the calls that wait (ipcn_sub_take, ipcn_node_wait_peers,
 * ipcn_request, ipcn_node_dispatch) sleep in the kernel, also on
 * a node with no thread whose callbacks are waiting for dispatch; and
 * ipcn_node_close() / ipcn_node_shutdown() end every such call of other
 * threads at once with 303, with or without the node's thread.
 *
 * No timing assertions: a wait that burns the CPU is told by the process's
 * CPU time against the wall time of a wait that receives nothing (a bound on
 * a bug that uses all of it), and a wait that does not end by a generous
 * deadline far below its own timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <sys/syscall.h>

#include "ipcnet.h"
#include "v_util.h"

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The process's CPU time over a wait must be far below its wall time: a
 * busy loop uses all of it, a sleeping wait next to none. */
#define CPU_SHARE_MAX 5 /* used at most 1/5 of the wall time */

struct cpu_mark {
    uint64_t cpu, wall;
};

static struct cpu_mark mark(void)
{
    return (struct cpu_mark){cpu_ns(), wall_ns()};
}

static void assert_slept(struct cpu_mark m, const char *what)
{
    uint64_t cpu = cpu_ns() - m.cpu, wall = wall_ns() - m.wall;
    fprintf(stderr, "%s: %.1f ms CPU in %.1f ms\n", what, cpu / 1e6, wall / 1e6);
    if (cpu * CPU_SHARE_MAX > wall)
        fail_msg("%s used %.1f ms of CPU in %.1f ms: it does not sleep", what,
                 cpu / 1e6, wall / 1e6);
}

static int events_seen;

static void on_event(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)n, (void)ev, (void)user;
    __atomic_add_fetch(&events_seen, 1, __ATOMIC_RELAXED);
}

struct req_arg {
    ipcn_node *n;
    const char *path;
    int timeout_ms;
    int status;
};

static void *request_thread(void *arg)
{
    struct req_arg *a = arg;
    ipcn_msg *m = NULL;
    a->status = ipcn_request(a->n, a->path, "x", 1, "text/plain", &m, a->timeout_ms);
    ipcn_msg_free(m);
    return NULL;
}

/* A node with no thread, an event callback, one peer and its events not
 * yet dispatched: each wait that receives nothing sleeps. */
static void test_waits_sleep(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ws", NULL);
    assert_int_equal(ipcn_node_set_event_fn(n, on_event, NULL), IPCN_OK);
    v_spawn("wsh", "hole:ws/hole", "stream:ws/s", NULL);
    ipcn_sub none, sub;
    assert_int_equal(ipcn_subscribe(n, "ws/none", 0, NULL, NULL, &none), IPCN_OK);
    assert_int_equal(ipcn_subscribe(n, "ws/s", 0, NULL, NULL, &sub), IPCN_OK);
    /* No callback runs in these: the peer's events stay queued. */
    assert_int_equal(ipcn_node_wait_peers(n, 1, V_WAIT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_synced(n, V_WAIT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_timeout(n), 0); /* callbacks are waiting */
    assert_int_equal(__atomic_load_n(&events_seen, __ATOMIC_RELAXED), 0);

    ipcn_msg *m = NULL;
    struct cpu_mark t = mark();
    assert_int_equal(ipcn_sub_take(n, none, &m, 1000), IPCN_NO_DATA);
    assert_slept(t, "ipcn_sub_take");

    t = mark();
    assert_int_equal(ipcn_node_wait_peers(n, 2, 1000), IPCN_GATEWAY_TIMEOUT);
    assert_slept(t, "ipcn_node_wait_peers");

    t = mark();
    assert_int_equal(ipcn_request(n, "ws/hole", "x", 1, NULL, &m, 1000),
                     IPCN_GATEWAY_TIMEOUT);
    assert_null(m);
    assert_slept(t, "ipcn_request");

    /* The fd of a foreign event loop still reads ready while callbacks
     * wait, also while another thread waits in the node. */
    int fd = ipcn_node_fd(n);
    assert_true(fd >= 0);
    static struct req_arg ra;
    ra = (struct req_arg){.n = n, .path = "ws/hole", .timeout_ms = 1000};
    pthread_t th;
    t = mark();
    assert_int_equal(pthread_create(&th, NULL, request_thread, &ra), 0);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, V_WAIT_MS), 1);
    pthread_join(th, NULL);
    assert_int_equal(ra.status, IPCN_GATEWAY_TIMEOUT);
    assert_slept(t, "ipcn_request on another thread");

    /* Asleep, the waits still wake for what comes. */
    assert_int_equal(v_ctl(n, "wsh", NULL, "pub ws/s hello"), IPCN_OK);
    assert_int_equal(ipcn_sub_take(n, sub, &m, V_WAIT_MS), IPCN_OK);
    assert_int_equal(m->len, 5);
    assert_memory_equal(m->data, "hello", 5);
    ipcn_msg_free(m);

    /* And dispatch delivers the events that waited. */
    assert_int_equal(ipcn_node_dispatch(n, 0), IPCN_OK);
    assert_true(__atomic_load_n(&events_seen, __ATOMIC_RELAXED) > 0);
    assert_int_equal(ipcn_node_timeout(n), -1);
    v_close(n);
}

/* ---- close and shutdown end the waits of other threads ---- */

enum wkind { W_REQUEST, W_TAKE, W_PEERS, W_DISPATCH };

struct waiter {
    ipcn_node *n;
    enum wkind kind;
    int timeout_ms;
    ipcn_sub sub;
    pid_t tid;
    int entered;
    int done;
    int status;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    __atomic_store_n(&w->entered, 1, __ATOMIC_RELEASE);
    ipcn_msg *m = NULL;
    int st = -1;
    switch (w->kind) {
    case W_REQUEST:
        st = ipcn_request(w->n, "wc/hole", "x", 1, NULL, &m, w->timeout_ms);
        break;
    case W_TAKE:
        st = ipcn_sub_take(w->n, w->sub, &m, w->timeout_ms);
        break;
    case W_PEERS:
        st = ipcn_node_wait_peers(w->n, 5, w->timeout_ms);
        break;
    case W_DISPATCH:
        /* An application's own loop: it ends when told (303). */
        while ((st = ipcn_node_dispatch(w->n, w->timeout_ms)) == IPCN_OK ||
               st == IPCN_NO_DATA)
            ;
        break;
    }
    ipcn_msg_free(m);
    w->status = st;
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int arrived;

/* A provider that never answers: the requests it got are counted. */
static int svc_hole(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    (void)n, (void)req, (void)user;
    (void)ipcn_reply_defer(ctx);
    __atomic_add_fetch(&arrived, 1, __ATOMIC_ACQ_REL);
    return IPCN_ACCEPTED;
}

/* The state letter of a thread of this process (R, S, ...), 0 if gone. */
static int thread_state(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0)
        return 0;
    buf[r] = 0;
    const char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* Wait until every waiter is inside its call and asleep: each thread seen
 * sleeping (S) at 20 looks in a row, 10 ms apart. */
static void wait_asleep(struct waiter *w, int k)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (int i = 0; i < k; i++)
        while (!__atomic_load_n(&w[i].entered, __ATOMIC_ACQUIRE)) {
            if (tu_now_ms() >= end)
                fail_msg("waiter %d did not start", i);
            usleep(1000);
        }
    int streak = 0;
    while (streak < 20) {
        bool all = true;
        for (int i = 0; i < k; i++)
            if (thread_state(w[i].tid) != 'S' || __atomic_load_n(&w[i].done, __ATOMIC_ACQUIRE))
                all = false;
        streak = all ? streak + 1 : 0;
        if (tu_now_ms() >= end)
            fail_msg("the waiters did not all go to sleep");
        usleep(10000);
    }
}

#define END_MS 10000 /* generous, and far below the waits' own timeouts */

static void join_all(pthread_t *th, struct waiter *w, int k, int want)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += END_MS / 1000;
    for (int i = 0; i < k; i++) {
        if (pthread_timedjoin_np(th[i], NULL, &ts) != 0)
            fail_msg("waiter %d (kind %d, timeout %d) did not end", i, w[i].kind,
                     w[i].timeout_ms);
        if (w[i].status != want)
            fail_msg("waiter %d (kind %d, timeout %d) ended %d, not %d", i, w[i].kind,
                     w[i].timeout_ms, w[i].status, want);
    }
}

struct closer {
    ipcn_node *n;
    int done;
};

static void *closer_main(void *arg)
{
    struct closer *c = arg;
    ipcn_node_close(c->n);
    __atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

enum how { NO_THREAD, NODE_THREAD, APP_DISPATCH };

#define MAX_W 9

/* Threads wait in n (timeouts of 60 s and forever); it is closed (or shut
 * down) from another thread; every wait ends with 303. */
static void close_waits(enum how how, bool shutdown_first)
{
    __atomic_store_n(&arrived, 0, __ATOMIC_RELEASE);
    ipcn_node *p = v_open("wcp", NULL);
    assert_int_equal(ipcn_offer(p, "wc/hole", "text/plain", svc_hole, NULL), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(p), IPCN_OK);
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "wc", NULL), IPCN_OK);
    assert_int_equal(ipcn_node_set_event_fn(n, on_event, NULL), IPCN_OK);
    if (how == NODE_THREAD)
        assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    assert_int_equal(ipcn_node_wait_peers(n, 1, V_WAIT_MS), IPCN_OK);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "wc/none", 0, NULL, NULL, &sub), IPCN_OK);

    static struct waiter w[MAX_W];
    static pthread_t th[MAX_W];
    memset(w, 0, sizeof w);
    int k = 0;
    const enum wkind kinds[] = {W_REQUEST, W_TAKE, W_PEERS};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        w[k++] = (struct waiter){.n = n, .kind = kinds[i], .timeout_ms = -1, .sub = sub};
        w[k++] = (struct waiter){.n = n, .kind = kinds[i], .timeout_ms = 60000, .sub = sub};
    }
    if (how == APP_DISPATCH)
        w[k++] = (struct waiter){.n = n, .kind = W_DISPATCH, .timeout_ms = -1};
    for (int i = 0; i < k; i++)
        assert_int_equal(pthread_create(&th[i], NULL, waiter_main, &w[i]), 0);
    /* Both requests are at the provider, so their threads wait. */
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < 2) {
        if (tu_now_ms() >= end)
            fail_msg("the requests did not reach the provider");
        usleep(1000);
    }
    wait_asleep(w, k);

    if (shutdown_first) {
        assert_int_equal(ipcn_node_shutdown(n), IPCN_OK);
        join_all(th, w, k, IPCN_SERVICE_UNAVAILABLE);
        /* Later waits do not wait; the node still works otherwise. */
        ipcn_msg *m = NULL;
        assert_int_equal(ipcn_request(n, "wc/hole", "x", 1, NULL, &m, -1),
                         IPCN_SERVICE_UNAVAILABLE);
        assert_int_equal(ipcn_sub_take(n, sub, &m, -1), IPCN_SERVICE_UNAVAILABLE);
        assert_int_equal(ipcn_node_wait_peers(n, 5, -1), IPCN_SERVICE_UNAVAILABLE);
        assert_int_equal(ipcn_node_wait_peers(n, 1, -1), IPCN_OK);
        assert_null(m);
        ipcn_node_close(n);
    } else {
        static struct closer c;
        c = (struct closer){.n = n};
        pthread_t ct;
        assert_int_equal(pthread_create(&ct, NULL, closer_main, &c), 0);
        join_all(th, w, k, IPCN_SERVICE_UNAVAILABLE);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += END_MS / 1000;
        if (pthread_timedjoin_np(ct, NULL, &ts) != 0)
            fail_msg("ipcn_node_close() did not return");
    }
    v_close(p);
}

static void test_close_ends_waits(void **state)
{
    (void)state;
    close_waits(NO_THREAD, false);
}

static void test_close_ends_waits_node_thread(void **state)
{
    (void)state;
    close_waits(NODE_THREAD, false);
}

static void test_close_ends_waits_app_dispatch(void **state)
{
    (void)state;
    close_waits(APP_DISPATCH, false);
}

static void test_shutdown_ends_waits(void **state)
{
    (void)state;
    close_waits(NO_THREAD, true);
}

static void test_shutdown_ends_waits_node_thread(void **state)
{
    (void)state;
    close_waits(NODE_THREAD, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_waits_sleep),
        V_TEST(test_close_ends_waits),
        V_TEST(test_close_ends_waits_node_thread),
        V_TEST(test_close_ends_waits_app_dispatch),
        V_TEST(test_shutdown_ends_waits),
        V_TEST(test_shutdown_ends_waits_node_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
