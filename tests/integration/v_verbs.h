/* SPDX-License-Identifier: MIT */
/*
 * v_verbs.h — what the test_verbs_*.c programs share on top of v_util.h: a
 * handler for services never requested, the wall clock, slow heartbeats,
 * and a query or request blocked on another thread (with the frame count
 * that tells it was sent).
 *
 * Include after <cmocka.h>, "ipcnet.h" and "v_util.h".
 */
#ifndef IPCN_V_VERBS_H
#define IPCN_V_VERBS_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* A service handler for services that are offered but never requested. */
static inline int dummy_handler(ipcn_node *n, const ipcn_msg *req,
                                ipcn_reply_ctx *ctx, void *user)
{
    (void)n, (void)req, (void)ctx, (void)user;
    return IPCN_NOT_IMPLEMENTED;
}

/* The wall clock, as samples are stamped. */
static inline uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Heartbeats too slow to notice a peer gone within a test. */
static inline ipcn_node_opts slow_heartbeat(void)
{
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.heartbeat_ms = 5000;
    o.dead_after_ms = 30000;
    return o;
}

/* A query or request made on a thread of its own (blocked_call_main). */
struct blocked_call {
    ipcn_node *n;
    const char *path;
    int request; /* 0: query */
    int timeout_ms;
    int status;
    ipcn_msg *out;
};

static inline void *blocked_call_main(void *arg)
{
    struct blocked_call *b = arg;
    if (b->request)
        b->status = ipcn_request(b->n, b->path, "x", 1, NULL, &b->out, b->timeout_ms);
    else
        b->status = ipcn_query(b->n, b->path, &b->out, b->timeout_ms);
    return NULL;
}

/* Wait until n has sent a frame more than it had when base was taken (the
 * blocked call's query or request: heartbeats are slow in these tests). */
static inline void wait_sent(ipcn_node *n, uint64_t base)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        ipcn_node_stats ns = {.size = sizeof ns};
        assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
        if (ns.frames_out > base)
            return;
        if (tu_now_ms() >= end)
            fail_msg("the call was not sent");
        usleep(2000);
    }
}

static inline uint64_t frames_out(ipcn_node *n)
{
    ipcn_node_stats ns = {.size = sizeof ns};
    assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    return ns.frames_out;
}

#endif
