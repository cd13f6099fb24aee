/* SPDX-License-Identifier: MIT */
/*
 * test_shm_request_limits.c — the limits of requests through shared
 * memory (docs/protocol.md 12.9): an argument over the provider's
 * max_payload is not sent by reference (it fails as inline), a provider
 * that holds its share of the request pool gets the rest inline while
 * other providers still get theirs by reference, and a typed service
 * checks (and its handler reads) a private copy of the argument.
 *
 * Nodes in this process, each provider on its own thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcnet.h"
#include "v_util.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static ipcn_node_stats stats_of(ipcn_node *n)
{
    ipcn_node_stats s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    assert_int_equal(ipcn_node_get_stats(n, &s), IPCN_OK);
    return s;
}

static int echo_fn(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n;
    (void)user;
    return ipcn_reply_set(ctx, req->data, req->len, req->encoding) == IPCN_OK
               ? IPCN_OK
               : IPCN_INTERNAL_ERROR;
}

/* A provider of path on its own thread (o: its options, NULL: default),
 * seen by req. */
static ipcn_node *provider(ipcn_node *req, const char *name, const char *path,
                           ipcn_service_fn fn, void *user,
                           const ipcn_node_opts *o)
{
    ipcn_node *p = v_open(name, o);
    assert_true(IPCN_IS_OK(ipcn_offer(p, path, "bytes", fn, user)));
    assert_int_equal(ipcn_node_start_thread(p), IPCN_OK);
    assert_true(v_wait_count(req, path, IPCN_SERVICE, 1, V_WAIT_MS));
    return p;
}

/* An argument over the provider's max_payload goes inline and fails as
 * an inline request that large does; one under it goes by reference. */
static void test_over_max_payload_not_by_reference(void **state)
{
    (void)state;
    ipcn_node *n = v_open("req", NULL);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.max_payload = (uint32_t)MIB;
    provider(n, "small", "svc/small", echo_fn, NULL, &o);
    size_t len = 2 * MIB;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    fill(buf, len, 1);
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, "svc/small", buf, len, "bytes", &m, V_WAIT_MS);
    assert_int_not_equal(st, IPCN_OK);
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(stats_of(n).shm_requests_sent, 0);
    st = ipcn_request(n, "svc/small", buf, 512 * KIB, "bytes", &m, V_WAIT_MS);
    assert_int_equal(st, IPCN_OK);
    assert_int_equal(m->len, 512 * KIB);
    assert_memory_equal(m->data, buf, 512 * KIB);
    ipcn_msg_free(m);
    assert_int_equal(stats_of(n).shm_requests_sent, 1);
    free(buf);
}

/* ---- a provider that holds its share ---- */

typedef struct hog {
    atomic_int calls;
    atomic_int go;
} hog;

/* The first request holds the provider's thread (and so every slot of
 * the requests behind it) until the test says go. */
static int hog_fn(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)n;
    (void)req;
    (void)ctx;
    hog *h = user;
    if (atomic_fetch_add(&h->calls, 1) == 0) {
        uint64_t end = tu_now_ms() + 3 * V_WAIT_MS;
        while (!atomic_load(&h->go) && tu_now_ms() < end)
            usleep(5000);
    }
    return IPCN_OK;
}

static void count_answer(ipcn_node *n, int status, const ipcn_msg *reply,
                         void *user)
{
    (void)n;
    (void)reply;
    int *k = user;
    k[0]++;
    k[1] += status == IPCN_OK;
}

enum { HOGGED = 66 }; /* more than the pool's 64 slots */

static void test_share_per_provider(void **state)
{
    (void)state;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dead_after_ms = 30000; /* the hog is silent while it holds */
    ipcn_node *n = v_open("req", &o);
    hog h = {0};
    provider(n, "hog", "svc/hog", hog_fn, &h, NULL);
    provider(n, "prov", "svc/echo", echo_fn, NULL, NULL);
    static uint8_t buf[32 * KIB];
    fill(buf, sizeof buf, 2);
    int answers[2] = {0, 0};
    for (int i = 0; i < HOGGED; i++) {
        ipcn_req id;
        assert_int_equal(ipcn_request_async(n, "svc/hog", buf, sizeof buf,
                                            "bytes", 3 * V_WAIT_MS,
                                            count_answer, answers, &id),
                         IPCN_ACCEPTED);
    }
    /* The hog's link holds its share (56 of 64 slots): the rest went
     * inline, counted. */
    ipcn_node_stats s = stats_of(n);
    assert_int_equal(s.shm_requests_sent, 56);
    assert_int_equal(s.shm_requests_over_share, HOGGED - 56);
    /* Another provider still gets a large request by reference. */
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "svc/echo", buf, sizeof buf, "bytes", &m,
                                  V_WAIT_MS),
                     IPCN_OK);
    assert_int_equal(m->len, sizeof buf);
    assert_memory_equal(m->data, buf, sizeof buf);
    ipcn_msg_free(m);
    assert_int_equal(stats_of(n).shm_requests_sent, 57);
    atomic_store(&h.go, 1);
    uint64_t end = tu_now_ms() + 2 * V_WAIT_MS;
    while (answers[0] < HOGGED && tu_now_ms() < end)
        v_pump(n, 10);
    assert_int_equal(answers[1], HOGGED);
    end = tu_now_ms() + V_WAIT_MS;
    while (stats_of(n).shm_request_slots && tu_now_ms() < end)
        v_pump(n, 10);
    assert_int_equal(stats_of(n).shm_request_slots, 0);
}

/* ---- a typed service reads a private copy ---- */

typedef struct typed {
    atomic_int calls;
    atomic_int private_copy; /* the argument was not in a shared slot */
    atomic_int right;
} typed;

static uint8_t typed_arg[3 + 32 * KIB]; /* CBOR: a byte string of 32 KiB */

static int typed_fn(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                    void *user)
{
    (void)n;
    (void)ctx;
    typed *t = user;
    atomic_fetch_add(&t->calls, 1);
    if (!(req->flags & IPCN_MSG_SHARED))
        atomic_fetch_add(&t->private_copy, 1);
    if (req->len == sizeof typed_arg &&
        memcmp(req->data, typed_arg, sizeof typed_arg) == 0)
        atomic_fetch_add(&t->right, 1);
    return IPCN_OK;
}

static void test_typed_service_gets_a_copy(void **state)
{
    (void)state;
    ipcn_node *n = v_open("req", NULL);
    ipcn_node *p = v_open("prov", NULL);
    static const uint8_t schema[] = {0x65, 'b', 'y', 't', 'e', 's'};
    typed t = {0};
    assert_int_equal(ipcn_offer_typed(p, "svc/typed", schema, sizeof schema,
                                      NULL, 0, typed_fn, &t),
                     IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(p), IPCN_OK);
    assert_true(v_wait_count(n, "svc/typed", IPCN_SERVICE, 1, V_WAIT_MS));
    typed_arg[0] = 0x59; /* bytes, 16-bit length */
    typed_arg[1] = (uint8_t)((32 * KIB) >> 8);
    typed_arg[2] = 0;
    fill(typed_arg + 3, 32 * KIB, 3);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "svc/typed", typed_arg, sizeof typed_arg,
                                  "cbor", &m, V_WAIT_MS),
                     IPCN_OK);
    ipcn_msg_free(m);
    assert_int_equal(stats_of(n).shm_requests_sent, 1);
    assert_int_equal(stats_of(p).shm_requests_taken, 1);
    assert_int_equal(atomic_load(&t.calls), 1);
    assert_int_equal(atomic_load(&t.private_copy), 1);
    assert_int_equal(atomic_load(&t.right), 1);
    /* The slot went back when the copy was taken. */
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (stats_of(n).shm_request_slots && tu_now_ms() < end)
        v_pump(n, 10);
    assert_int_equal(stats_of(n).shm_request_slots, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_over_max_payload_not_by_reference),
        V_TEST(test_share_per_provider),
        V_TEST(test_typed_service_gets_a_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
