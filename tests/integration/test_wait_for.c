/* SPDX-License-Identifier: MIT */
/*
 * test_wait_for.c — ipcn_wait_for(): a resource already there (this
 * node's or a peer's), one that a process started later announces (with
 * the caller running the node's I/O, and with the node's own thread
 * running it), the kind filter, the timeout (304) spent asleep, an
 * announce of this node on another thread that ends a wait without
 * deadline, ipcn_node_shutdown() ending a wait (303), bad arguments.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "ipcnet.h"
#include "v_util.h"

/* A provider that starts after delay_ms and announces wf/late (a stream)
 * and wf/data, in a process of its own. */
static pid_t start_late_provider(int delay_ms)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        usleep((useconds_t)delay_ms * 1000);
        ipcn_node *n = NULL;
        if (ipcn_node_open(&n, "wfprov", NULL) != IPCN_OK ||
            ipcn_announce(n, "wf/data", IPCN_DATA, NULL, NULL, 0) !=
                IPCN_CREATED ||
            ipcn_announce(n, "wf/late", IPCN_STREAM, "text/plain", NULL, 0) !=
                IPCN_CREATED ||
            ipcn_node_start_thread(n) != IPCN_OK)
            _exit(2);
        sleep(30); /* killed by the teardown long before */
        _exit(0);
    }
    v_track_pid(pid);
    return pid;
}

static uint64_t thread_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (uint64_t)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
           (uint64_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
}

static void late_from_another_process(int own_thread)
{
    ipcn_node *n = v_open("wfwait", NULL);
    /* Forked while this process has one thread (a child forked beside a
     * running thread may inherit a lock held by it, ASan's allocator's). */
    start_late_provider(300);
    if (own_thread)
        assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    /* Not there yet: a look without waiting says so. */
    assert_int_equal(ipcn_wait_for(n, "wf/*", IPCN_ANY, 0, NULL),
                     IPCN_GATEWAY_TIMEOUT);
    uint64_t cpu0 = thread_cpu_ms(), t0 = tu_now_ms();
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_wait_for(n, "wf/late", IPCN_STREAM, V_WAIT_MS, &rl),
                     IPCN_OK);
    uint64_t cpu = thread_cpu_ms() - cpu0, waited = tu_now_ms() - t0;
    assert_non_null(rl);
    assert_int_equal(rl->count, 1);
    assert_string_equal(rl->items[0].path, "wf/late");
    assert_int_equal(rl->items[0].kind, IPCN_STREAM);
    assert_string_equal(rl->items[0].provider, "wfprov");
    assert_string_equal(rl->items[0].encoding, "text/plain");
    ipcn_resource_list_free(rl);
    /* It slept: far less CPU than the time it waited (no polling loop). */
    if (waited >= 100 && cpu * 4 > waited)
        fail_msg("waited %llu ms on %llu ms of CPU",
                 (unsigned long long)waited, (unsigned long long)cpu);
    /* There now: at once, with the kind, and without a list. */
    assert_int_equal(ipcn_wait_for(n, "wf/**", IPCN_DATA, 0, NULL), IPCN_OK);
    /* Of another kind it is not what was asked. */
    assert_int_equal(ipcn_wait_for(n, "wf/data", IPCN_STREAM, 100, NULL),
                     IPCN_GATEWAY_TIMEOUT);
}

static void test_wait_for_late_dispatching(void **state)
{
    (void)state;
    late_from_another_process(0);
}

static void test_wait_for_late_own_thread(void **state)
{
    (void)state;
    late_from_another_process(1);
}

static void test_wait_for_timeout(void **state)
{
    (void)state;
    ipcn_node *n = v_open("wfto", NULL);
    assert_int_equal(ipcn_announce(n, "wf/own", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    /* This node's own resource counts. */
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_wait_for(n, "wf/*", IPCN_ANY, 0, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_string_equal(rl->items[0].provider, "wfto");
    ipcn_resource_list_free(rl);
    /* Nothing comes: 304 once the time is up, asleep meanwhile; *out
     * untouched. */
    rl = (ipcn_resource_list *)(uintptr_t)1;
    uint64_t cpu0 = thread_cpu_ms(), t0 = tu_now_ms();
    assert_int_equal(ipcn_wait_for(n, "wf/none", IPCN_ANY, 300, &rl),
                     IPCN_GATEWAY_TIMEOUT);
    uint64_t cpu = thread_cpu_ms() - cpu0, waited = tu_now_ms() - t0;
    assert_true(rl == (ipcn_resource_list *)(uintptr_t)1);
    assert_true(waited >= 300);
    if (cpu * 4 > waited)
        fail_msg("waited %llu ms on %llu ms of CPU",
                 (unsigned long long)waited, (unsigned long long)cpu);
    /* Bad arguments. */
    assert_int_equal(ipcn_wait_for(NULL, "a", IPCN_ANY, 0, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_wait_for(n, NULL, IPCN_ANY, 0, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_wait_for(n, "a//b", IPCN_ANY, 0, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_wait_for(n, "a", (ipcn_kind)7, 0, NULL),
                     IPCN_BAD_REQUEST);
}

/* Another thread of this process: after a while, announce on a node. */
struct later {
    ipcn_node *n;
    const char *path;
    int delay_ms, status;
};

static void *announce_later(void *arg)
{
    struct later *a = arg;
    usleep((useconds_t)a->delay_ms * 1000);
    a->status = ipcn_announce(a->n, a->path, IPCN_STREAM, NULL, NULL, 0);
    return NULL;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_wait_for: a wait without deadline "
                              "never ended\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(3);
    _exit(3);
}

/* A wait with no deadline ends when this node itself announces the path
 * on another thread: with nobody else pumping (the waiter sleeps in
 * epoll), and with the node's thread pumping (it sleeps on the
 * condition).  A wait that missed it would never end: SIGALRM fails the
 * test. */
static void test_wait_for_own_announce(void **state)
{
    (void)state;
    signal(SIGALRM, on_alarm);
    alarm(30);
    for (int own_thread = 0; own_thread < 2; own_thread++) {
        ipcn_node *n = v_open(own_thread ? "wfself2" : "wfself1", NULL);
        if (own_thread)
            assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
        struct later a = {n, "wf/self", 100, 0};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, announce_later, &a), 0);
        assert_int_equal(ipcn_wait_for(n, "wf/self", IPCN_STREAM, -1, NULL),
                         IPCN_OK);
        pthread_join(t, NULL);
        assert_int_equal(a.status, IPCN_CREATED);
        v_close(n);
    }
    alarm(0);
}

/* Two nodes in one process: one that runs its thread waits for what the
 * other, opened later, announces. */
static void test_wait_for_two_nodes(void **state)
{
    (void)state;
    ipcn_node *a = v_open("wfa", NULL);
    assert_int_equal(ipcn_node_start_thread(a), IPCN_OK);
    ipcn_node *b = v_open("wfb", NULL);
    assert_int_equal(ipcn_node_start_thread(b), IPCN_OK);
    struct later l = {b, "wf/b", 50, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, announce_later, &l), 0);
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_wait_for(a, "wf/b", IPCN_ANY, V_WAIT_MS, &rl),
                     IPCN_OK);
    pthread_join(t, NULL);
    assert_string_equal(rl->items[0].provider, "wfb");
    ipcn_resource_list_free(rl);
}

struct waiter {
    ipcn_node *n;
    int status;
};

static void *wait_forever(void *arg)
{
    struct waiter *w = arg;
    w->status = ipcn_wait_for(w->n, "wf/never", IPCN_ANY, -1, NULL);
    return NULL;
}

static void test_wait_for_shutdown(void **state)
{
    (void)state;
    ipcn_node *n = v_open("wfshut", NULL);
    struct waiter w = {n, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_forever, &w), 0);
    usleep(50 * 1000); /* most likely asleep in it by now; either way: */
    assert_int_equal(ipcn_node_shutdown(n), IPCN_OK);
    pthread_join(t, NULL);
    assert_int_equal(w.status, IPCN_SERVICE_UNAVAILABLE);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        V_TEST(test_wait_for_late_dispatching),
        V_TEST(test_wait_for_late_own_thread),
        V_TEST(test_wait_for_timeout),
        V_TEST(test_wait_for_own_announce),
        V_TEST(test_wait_for_two_nodes),
        V_TEST(test_wait_for_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
