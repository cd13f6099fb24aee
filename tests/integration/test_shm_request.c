/* SPDX-License-Identifier: MIT */
/*
 * test_shm_request.c — requests of 16 KiB or more through shared memory
 * (docs/protocol.md 12.9): byte-exact round trips of 16 KiB, 1 MiB and
 * 16 MiB that really went through a slot (the counters say so), the
 * provider's read-only view of it, the inline path below the threshold and
 * to a peer without shared memory, and no slot kept after a timeout, a
 * provider that is gone, or a request the provider never took.
 *
 * Two nodes in this process: the provider runs on its own thread where a
 * round trip is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include "ipcnet.h"
#include "v_util.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

typedef struct echo {
    atomic_int shared;      /* requests seen in a shared (slot) view */
    atomic_int read_only;   /* of which mapped read-only here */
    atomic_int verified;    /* of which ipcn_msg_verify() said 100 */
} echo;

/* The permissions of the memfd-pool mapping that holds p ("" if none). */
static void mapping_of(const void *p, char perms[8])
{
    perms[0] = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char pm[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, pm) != 3)
            continue;
        if ((uintptr_t)p >= lo && (uintptr_t)p < hi &&
            strstr(line, "memfd:ipcnet-pool"))
            snprintf(perms, 8, "%s", pm);
    }
    fclose(f);
}

static int echo_fn(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n;
    echo *e = user;
    if (req->flags & IPCN_MSG_SHARED) {
        atomic_fetch_add(&e->shared, 1);
        char perms[8];
        mapping_of(req->data, perms);
        if (perms[0] == 'r' && perms[1] == '-')
            atomic_fetch_add(&e->read_only, 1);
        if (ipcn_msg_verify(req) == IPCN_OK)
            atomic_fetch_add(&e->verified, 1);
    }
    return ipcn_reply_set(ctx, req->data, req->len, req->encoding) == IPCN_OK
               ? IPCN_OK
               : IPCN_INTERNAL_ERROR;
}

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

/* Dispatch n (and pump, when it has no thread) until none of n's request
 * slots is held; false past the bound. */
static bool wait_slots_free(ipcn_node *n, ipcn_node *pump)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (tu_now_ms() < end) {
        if (stats_of(n).shm_request_slots == 0)
            return true;
        v_pump(n, 10);
        if (pump)
            v_pump(pump, 10);
    }
    return stats_of(n).shm_request_slots == 0;
}

/* shm false: a node without shared memory (IPCNET_NO_SHM, read at open). */
static ipcn_node *open_node(const char *name, bool shm)
{
    if (!shm)
        setenv("IPCNET_NO_SHM", "1", 1);
    ipcn_node *n = v_open(name, NULL);
    unsetenv("IPCNET_NO_SHM");
    return n;
}

/* A provider of svc/echo on its own thread, seen by the requester. */
static ipcn_node *echo_provider(ipcn_node *req, echo *e, bool shm)
{
    ipcn_node *p = open_node("prov", shm);
    assert_true(IPCN_IS_OK(ipcn_offer(p, "svc/echo", "bytes", echo_fn, e)));
    assert_int_equal(ipcn_node_start_thread(p), IPCN_OK);
    assert_true(v_wait_count(req, "svc/echo", IPCN_SERVICE, 1, V_WAIT_MS));
    return p;
}

static bool shared_answers = true; /* false: a provider without shm */

static void round_trip(ipcn_node *n, size_t len, uint32_t seed)
{
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    fill(buf, len, seed);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "svc/echo", buf, len, "bytes", &m,
                                  V_WAIT_MS),
                     IPCN_OK);
    assert_int_equal(m->len, len);
    assert_memory_equal(m->data, buf, len);
    /* the answer (filled into the provider's reply slot by
     * ipcn_reply_set()) comes back shared too, checksum right */
    if (len >= IPCN_SHM_THRESHOLD && shared_answers) {
        assert_true(m->flags & IPCN_MSG_SHARED);
        assert_int_equal(ipcn_msg_verify(m), IPCN_OK);
    }
    ipcn_msg_free(m);
    free(buf);
}

static void test_round_trips(void **state)
{
    (void)state;
    ipcn_node *n = open_node("req", true);
    echo e = {0};
    ipcn_node *p = echo_provider(n, &e, true);
    const size_t sizes[] = {16 * KIB, MIB, 16 * MIB};
    for (int i = 0; i < 3; i++) {
        uint64_t sent = stats_of(n).shm_requests_sent;
        round_trip(n, sizes[i], (uint32_t)i + 1);
        assert_int_equal(stats_of(n).shm_requests_sent, sent + 1);
    }
    /* Just under the threshold: inline. */
    uint64_t sent = stats_of(n).shm_requests_sent;
    round_trip(n, 16 * KIB - 1, 9);
    assert_int_equal(stats_of(n).shm_requests_sent, sent);
    assert_int_equal(atomic_load(&e.shared), 3);
    assert_int_equal(atomic_load(&e.read_only), 3);
    assert_int_equal(atomic_load(&e.verified), 3);
    assert_true(wait_slots_free(n, NULL));
    assert_int_equal(stats_of(p).shm_requests_taken, 3);
    assert_int_equal(stats_of(p).shm_requests_refused, 0);
    /* Many more than the pool's slots: each is given back, and each went
     * through a slot. */
    sent = stats_of(n).shm_requests_sent;
    for (uint32_t i = 0; i < 80; i++)
        round_trip(n, 64 * KIB, 100 + i);
    assert_int_equal(stats_of(n).shm_requests_sent, sent + 80);
    assert_true(wait_slots_free(n, NULL));
}

/* Several requests in flight at once, each in its own slot: none sees
 * another's bytes (a slot is reused only once given back). */
typedef struct inflight {
    int answered, right;
} inflight;

static void check_answer(ipcn_node *n, int status, const ipcn_msg *reply,
                         void *user)
{
    (void)n;
    inflight *f = user;
    f->answered++;
    if (status != IPCN_OK || !reply || reply->len != 64 * KIB)
        return;
    static uint8_t want[64 * KIB];
    const uint8_t *got = reply->data;
    fill(want, sizeof want, (uint32_t)got[0] << 8 | 0x55u);
    f->right += memcmp(got + 1, want + 1, sizeof want - 1) == 0;
}

/* Three waves of 40 in flight, each wave once the slots of the one before
 * were given back: 120 requests through a pool of 64 slots, so the second
 * and third waves reuse slots of the first. */
static void test_many_in_flight(void **state)
{
    (void)state;
    enum { WAVE = 40, WAVES = 3 };
    ipcn_node *n = open_node("req", true);
    echo e = {0};
    echo_provider(n, &e, true);
    inflight f = {0};
    static uint8_t buf[WAVE][64 * KIB];
    for (int w = 0; w < WAVES; w++) {
        for (int i = 0; i < WAVE; i++) {
            int k = w * WAVE + i;
            fill(buf[i], sizeof buf[i], (uint32_t)k << 8 | 0x55u);
            buf[i][0] = (uint8_t)k; /* says which seed to check against */
            ipcn_req id;
            assert_int_equal(ipcn_request_async(n, "svc/echo", buf[i],
                                                sizeof buf[i], "bytes",
                                                V_WAIT_MS, check_answer, &f,
                                                &id),
                             IPCN_ACCEPTED);
        }
        uint64_t end = tu_now_ms() + V_WAIT_MS;
        while (f.answered < (w + 1) * WAVE && tu_now_ms() < end)
            v_pump(n, 10);
        assert_int_equal(f.answered, (w + 1) * WAVE);
        assert_true(wait_slots_free(n, NULL));
    }
    assert_int_equal(f.right, WAVES * WAVE);
    assert_int_equal(stats_of(n).shm_requests_sent, WAVES * WAVE);
    assert_int_equal(atomic_load(&e.shared), WAVES * WAVE);
    assert_int_equal(atomic_load(&e.verified), WAVES * WAVE);
}

/* A provider without shared memory gets the same requests inline. */
static void test_inline_to_peer_without_shm(void **state)
{
    (void)state;
    ipcn_node *n = open_node("req", true);
    echo e = {0};
    echo_provider(n, &e, false);
    shared_answers = false;
    round_trip(n, MIB, 3);
    round_trip(n, 64 * KIB, 4);
    shared_answers = true;
    assert_int_equal(stats_of(n).shm_requests_sent, 0);
    assert_int_equal(atomic_load(&e.shared), 0);
    assert_int_equal(stats_of(n).shm_request_slots, 0);
}

static int sleepy_fn(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                     void *user)
{
    (void)n;
    (void)ctx;
    (void)req;
    (*(int *)user)++;
    return IPCN_OK;
}

/* The provider does not dispatch while the requester times out: the slot
 * is held until the provider reads the request and drops it (its
 * requester gave up), then given back. */
static void test_timeout_gives_slot_back(void **state)
{
    (void)state;
    ipcn_node *n = open_node("req", true);
    ipcn_node *p = open_node("prov", true);
    int ran = 0;
    assert_true(IPCN_IS_OK(ipcn_offer(p, "svc/slow", "bytes", sleepy_fn, &ran)));
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (v_count(n, "svc/slow", IPCN_SERVICE) < 1 && tu_now_ms() < end) {
        v_pump(n, 10);
        v_pump(p, 10);
    }
    assert_int_equal(v_count(n, "svc/slow", IPCN_SERVICE), 1);
    size_t len = 256 * KIB;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    fill(buf, len, 5);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "svc/slow", buf, len, "bytes", &m, 150),
                     IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(stats_of(n).shm_requests_sent, 1);
    assert_int_equal(stats_of(n).shm_request_slots, 1);
    assert_true(wait_slots_free(n, p));
    assert_int_equal(ran, 0); /* never started: its requester had gone */
    free(buf);
}

/* The provider goes away with a request unread: the slot comes back. */
static void test_provider_gone_gives_slot_back(void **state)
{
    (void)state;
    ipcn_node *n = open_node("req", true);
    ipcn_node *p = open_node("prov", true);
    int ran = 0;
    assert_true(IPCN_IS_OK(ipcn_offer(p, "svc/slow", "bytes", sleepy_fn, &ran)));
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (v_count(n, "svc/slow", IPCN_SERVICE) < 1 && tu_now_ms() < end) {
        v_pump(n, 10);
        v_pump(p, 10);
    }
    size_t len = MIB;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    fill(buf, len, 6);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "svc/slow", buf, len, "bytes", &m, 100),
                     IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(stats_of(n).shm_request_slots, 1);
    v_close(p);
    assert_true(wait_slots_free(n, NULL));
    assert_int_equal(ran, 0);
    free(buf);
}

/* ---- a link that closes while its provider still reads the slot ---- */

typedef struct stuck {
    atomic_int started; /* the handler has the request */
    atomic_int go;      /* the test lets it look at the bytes again */
    atomic_int done;
    atomic_int intact;  /* the bytes are still those sent */
    atomic_int verified;
} stuck;

static uint8_t stuck_want[64 * KIB];

/* Holds the request (its node's thread with it, so that the requester's
 * liveness drops the link) until the test says go, then checks it. */
static int stuck_fn(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                    void *user)
{
    (void)n;
    (void)ctx;
    stuck *s = user;
    atomic_store(&s->started, 1);
    uint64_t end = tu_now_ms() + 3 * V_WAIT_MS;
    while (!atomic_load(&s->go) && tu_now_ms() < end)
        usleep(5000);
    if (req->len == sizeof stuck_want &&
        memcmp(req->data, stuck_want, sizeof stuck_want) == 0)
        atomic_store(&s->intact, 1);
    if (ipcn_msg_verify(req) == IPCN_OK)
        atomic_store(&s->verified, 1);
    atomic_store(&s->done, 1);
    return IPCN_OK;
}

static void ignore_answer(ipcn_node *n, int status, const ipcn_msg *reply,
                          void *user)
{
    (void)n;
    (void)status;
    (void)reply;
    (*(int *)user)++;
}

/* The requester drops the link to a provider whose handler is busy (it
 * stops answering pings): the slot that handler reads must never be
 * written again, though the link that held it is gone.  The next large
 * request (to another provider) goes into a new pool, and the busy
 * handler still sees its own bytes, checksum right. */
static void test_link_drop_keeps_slot_unwritten(void **state)
{
    (void)state;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.heartbeat_ms = 100;
    o.dead_after_ms = 250;
    ipcn_node *n = v_open("req", &o);
    stuck s = {0};
    ipcn_node *busy = v_open("busy", NULL);
    assert_true(IPCN_IS_OK(ipcn_offer(busy, "svc/stuck", "bytes", stuck_fn,
                                      &s)));
    assert_int_equal(ipcn_node_start_thread(busy), IPCN_OK);
    echo e = {0};
    echo_provider(n, &e, true);
    assert_true(v_wait_count(n, "svc/stuck", IPCN_SERVICE, 1, V_WAIT_MS));
    fill(stuck_want, sizeof stuck_want, 77);
    int ended = 0;
    ipcn_req id;
    assert_int_equal(ipcn_request_async(n, "svc/stuck", stuck_want,
                                        sizeof stuck_want, "bytes",
                                        3 * V_WAIT_MS, ignore_answer, &ended,
                                        &id),
                     IPCN_ACCEPTED);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (!atomic_load(&s.started) && tu_now_ms() < end)
        v_pump(n, 10);
    assert_true(atomic_load(&s.started));
    /* The busy provider goes silent: the requester drops it. */
    end = tu_now_ms() + 3 * V_WAIT_MS;
    while (stats_of(n).peers_lost == 0 && tu_now_ms() < end)
        v_pump(n, 10);
    assert_true(stats_of(n).peers_lost >= 1);
    /* A large request of other bytes, through shared memory. */
    round_trip(n, 64 * KIB, 78);
    assert_int_equal(stats_of(n).shm_requests_sent, 2);
    atomic_store(&s.go, 1);
    end = tu_now_ms() + V_WAIT_MS;
    while (!atomic_load(&s.done) && tu_now_ms() < end)
        v_pump(n, 10);
    assert_true(atomic_load(&s.done));
    assert_true(atomic_load(&s.intact));
    assert_true(atomic_load(&s.verified));
    assert_true(wait_slots_free(n, NULL));
}

/* ---- answers that come after their request ended ---- */

enum { LATE = 70 }; /* more than the provider's 64 reply slots */

typedef struct holder {
    pthread_mutex_t mu;
    ipcn_responder r[LATE];
    int count;
} holder;

static int hold_fn(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n;
    (void)req;
    holder *h = user;
    pthread_mutex_lock(&h->mu);
    if (h->count < LATE)
        h->r[h->count++] = ipcn_reply_defer(ctx);
    pthread_mutex_unlock(&h->mu);
    return IPCN_ACCEPTED;
}

static int held(holder *h)
{
    pthread_mutex_lock(&h->mu);
    int k = h->count;
    pthread_mutex_unlock(&h->mu);
    return k;
}

/* 70 requests cancelled by the requester, then answered with 64 KiB each
 * through the provider's reply pool: each late SHM_REPLY is counted late
 * (not bad) and its slot given back, so the provider's next large answer
 * still goes through shared memory. */
static void test_late_replies_give_slots_back(void **state)
{
    (void)state;
    ipcn_node *n = open_node("req", true);
    echo e = {0};
    ipcn_node *p = echo_provider(n, &e, true);
    static holder h = {.mu = PTHREAD_MUTEX_INITIALIZER};
    h.count = 0;
    assert_true(IPCN_IS_OK(ipcn_offer(p, "svc/hold", "bytes", hold_fn, &h)));
    assert_true(v_wait_count(n, "svc/hold", IPCN_SERVICE, 1, V_WAIT_MS));
    ipcn_req ids[LATE];
    int ended = 0;
    for (int i = 0; i < LATE; i++)
        assert_int_equal(ipcn_request_async(n, "svc/hold", "x", 1, "bytes",
                                            3 * V_WAIT_MS, ignore_answer,
                                            &ended, &ids[i]),
                         IPCN_ACCEPTED);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (held(&h) < LATE && tu_now_ms() < end)
        v_pump(n, 10);
    assert_int_equal(held(&h), LATE);
    for (int i = 0; i < LATE; i++)
        assert_int_equal(ipcn_request_cancel(n, ids[i]), IPCN_OK);
    ipcn_node_stats s0 = stats_of(n);
    static uint8_t big[64 * KIB];
    fill(big, sizeof big, 9);
    for (int i = 0; i < LATE; i++)
        assert_int_equal(ipcn_respond(p, h.r[i], IPCN_OK, big, sizeof big,
                                      "bytes"),
                         IPCN_OK);
    end = tu_now_ms() + V_WAIT_MS;
    while (stats_of(n).replies_late < s0.replies_late + LATE &&
           tu_now_ms() < end)
        v_pump(n, 10);
    ipcn_node_stats s1 = stats_of(n);
    assert_int_equal(s1.replies_late, s0.replies_late + LATE);
    assert_int_equal(s1.bad_frames, s0.bad_frames);
    assert_int_equal(ended, 0); /* cancelled: no callback */
    /* The releases went before this request on the link: the answer
     * finds free reply slots. */
    v_pump(n, 50);
    round_trip(n, 64 * KIB, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_round_trips),
        V_TEST(test_many_in_flight),
        V_TEST(test_inline_to_peer_without_shm),
        V_TEST(test_timeout_gives_slot_back),
        V_TEST(test_provider_gone_gives_slot_back),
        V_TEST(test_link_drop_keeps_slot_unwritten),
        V_TEST(test_late_replies_give_slots_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
