/* SPDX-License-Identifier: MIT */
/*
 * test_waits.c — the calls that wait (ipcn_sub_take, ipcn_node_wait_peers,
 * ipcn_request) sleep in the kernel, also on a node with no thread whose
 * callbacks are waiting for dispatch.
 *
 * No timing assertions: a wait that burns the CPU is told by the process's
 * CPU time against the wall time of a wait that receives nothing (a bound on
 * a bug that uses all of it).
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
    assert_int_equal(ipcn_set_event_fn(n, on_event, NULL), IPCN_OK);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_waits_sleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
