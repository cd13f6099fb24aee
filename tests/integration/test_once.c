/* SPDX-License-Identifier: MIT */
/*
 * test_once.c — services run at most once per request id
 * (ipcnet_redundancy.h, ipcn_offer_set_opts(); docs/protocol.md 12.6),
 * with the library as shipped.  A victim node (in this process, on its own
 * thread) offers services whose handler counts its runs; raw clients (no
 * library: raw_client.h) send REQUESTs with the request id extension by
 * hand:
 *  - the same id twice: the handler runs once, both get the same answer;
 *    another requester's same id is its own, and runs;
 *  - a retry while the first try runs (deferred) waits for its answer;
 *  - a first try given up before its handler started (CANCEL) hands the
 *    run to the retry that waits: one run, answered to the retry;
 *  - a service not run at most once runs the same id twice, as before;
 *  - the cache's bounds: entries (the oldest answer forgotten first), age,
 *    an answer too large to keep (207 "already run; its answer was not
 *    kept"), a cache full of running entries (205), a flood of ids.
 * Library requesters (ipcn_request_ex()): a retry with the same id after a
 * timeout (the handler slow the first time) runs nothing again and gets the
 * first run's answer; a request sent to a provider run at most once whose
 * process is killed while it runs ends 303, is not run again by the second
 * provider behind the caller's back, and the caller's retry with the same
 * id runs there once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "ipcnet_redundancy.h"
#include "raw_client.h"
#include "testutil.h"

#define VICTIM "oncev"
#define SVC "once/svc"
#define PLAIN "once/plain"
#define T_CANCEL 23
#define ST_SERVICE_UNAVAILABLE 303

static ipcn_node *victim;
static atomic_int runs;          /* of the handler, both services */
static atomic_int blocked;       /* a "block" request holds the handler */
static atomic_int release_block;
static ipcn_responder held[8];   /* "defer" requests' responders */
static atomic_int nheld;

static int on_svc(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)n, (void)user;
    int k = atomic_fetch_add(&runs, 1) + 1;
    if (req->len == 5 && !memcmp(req->data, "block", 5)) {
        atomic_store(&blocked, 1);
        for (int i = 0; i < 20000 && !atomic_load(&release_block); i++)
            usleep(1000); /* bounded: a failed test does not hang */
        atomic_store(&blocked, 0);
    }
    if (req->len == 5 && !memcmp(req->data, "defer", 5)) {
        held[atomic_fetch_add(&nheld, 1) % 8] = ipcn_reply_defer(ctx);
        return IPCN_ACCEPTED;
    }
    if (req->len == 3 && !memcmp(req->data, "big", 3)) {
        static char big[70000];
        memset(big, 'b', sizeof big);
        ipcn_reply_set(ctx, big, sizeof big, "text/plain");
        return IPCN_OK;
    }
    char txt[32];
    int len = snprintf(txt, sizeof txt, "run %d", k);
    ipcn_reply_set(ctx, txt, (size_t)len, "text/plain");
    return IPCN_OK;
}

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK)
        fail_msg("ipcn_node_open(%s): %d %s", name, st, ipcn_status_str(st));
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static void set_once(const char *path, bool on, uint32_t entries,
                     uint32_t ms)
{
    ipcn_offer_opts o;
    ipcn_offer_opts_init(&o);
    o.at_most_once = on;
    if (entries)
        o.cache_entries = entries;
    if (ms)
        o.cache_ms = ms;
    assert_int_equal(ipcn_offer_set_opts(victim, path, &o), IPCN_OK);
}

static int setup(void **state)
{
    (void)state;
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/%s.sock",
             raw_target.dir, VICTIM);
    hello_caps = CAP_REDUNDANCY;
    atomic_store(&runs, 0);
    atomic_store(&nheld, 0);
    atomic_store(&release_block, 0);
    victim = open_node(VICTIM);
    assert_int_equal(ipcn_offer(victim, SVC, "", on_svc, NULL), IPCN_OK);
    assert_int_equal(ipcn_offer(victim, PLAIN, "", on_svc, NULL), IPCN_OK);
    set_once(SVC, true, 0, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    atomic_store(&release_block, 1);
    raw_free_all();
    ipcn_node_close(victim);
    victim = NULL;
    hello_caps = 0;
    return 0;
}

/* A REQUEST with the request id extension (protocol 12.6; none when id is
 * 0), appended to B. */
static void enc_req_id(raw *r, uint64_t corr, const char *path,
                       const char *body, uint64_t id)
{
    size_t off = f_begin(&B, T_REQUEST, r->id, corr);
    b_u32(&B, 5000);
    b_str(&B, path, strlen(path));
    b_str(&B, "", 0);
    b_blob(&B, body, strlen(body));
    if (id)
        b_u64(&B, id);
    f_end(&B, off);
}

static void send_req(raw *r, uint64_t corr, const char *path,
                     const char *body, uint64_t id)
{
    B.len = 0;
    enc_req_id(r, corr, path, body, id);
    raw_send_buf(r);
}

/* The next REPLY (other frames skipped): its corr, status and body are
 * checked (body NULL: not checked). */
static void expect_reply(raw *r, uint64_t corr, uint16_t status,
                         const char *body)
{
    rframe f;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k <= 0)
            fail_msg("no REPLY to corr %llu", (unsigned long long)corr);
        if (f.type == T_REPLY)
            break;
        rframe_free(&f);
    }
    assert_int_equal(f.corr, corr);
    assert_int_equal(f.status, status);
    if (body) {
        assert_int_equal(f.data_len, strlen(body));
        assert_memory_equal(f.data, body, f.data_len);
    }
    rframe_free(&f);
}

/* No REPLY before a PING's PONG: nothing was answered meanwhile. */
static void expect_no_reply(raw *r)
{
    B.len = 0;
    enc_stamp(&B, T_PING, r->id, 99);
    raw_send_buf(r);
    rframe f;
    for (;;) {
        int k = raw_next(r, &f, IO_TIMEOUT_MS);
        if (k <= 0)
            fail_msg("no PONG");
        uint8_t type = f.type;
        rframe_free(&f);
        if (type == T_REPLY)
            fail_msg("an unexpected REPLY");
        if (type == T_PONG)
            return;
    }
}

static void wait_flag(atomic_int *v, int want)
{
    for (int i = 0; i < 10000 && atomic_load(v) != want; i++)
        usleep(1000);
    assert_int_equal(atomic_load(v), want);
}

/* The same id twice: one run, the same answer; the victim's announce says
 * ONCE (flags 2) to a peer with the capability. */
static void test_raw_twice(void **state)
{
    (void)state;
    raw *r1 = raw_link(), *r2 = raw_link();
    /* Setting the options again announces the service again. */
    set_once(SVC, true, 0, 0);
    rframe f;
    do {
        assert_int_equal(raw_next(r1, &f, IO_TIMEOUT_MS), 1);
        if (f.type == T_ANNOUNCE && f.len > 11 &&
            ld16(f.pl + 9) == strlen(SVC) &&
            !memcmp(f.pl + 11, SVC, strlen(SVC)))
            break;
        rframe_free(&f);
    } while (1);
    assert_true(f.has_ext);
    assert_int_equal(f.ann_flags, 2); /* ONCE */
    rframe_free(&f);

    send_req(r1, 1, SVC, "x", 42);
    expect_reply(r1, 1, ST_OK, "run 1");
    send_req(r1, 2, SVC, "x", 42);
    expect_reply(r1, 2, ST_OK, "run 1");
    assert_int_equal(atomic_load(&runs), 1);
    /* Another requester's id 42 is its own. */
    send_req(r2, 1, SVC, "x", 42);
    expect_reply(r2, 1, ST_OK, "run 2");
    send_req(r1, 3, SVC, "x", 43);
    expect_reply(r1, 3, ST_OK, "run 3");
    send_req(r1, 4, SVC, "x", 42);
    expect_reply(r1, 4, ST_OK, "run 1");
    /* A request without an id is a new one each time. */
    send_req(r1, 5, SVC, "x", 0);
    expect_reply(r1, 5, ST_OK, "run 4");
    assert_int_equal(atomic_load(&runs), 4);
}

/* A retry while the first try runs waits for its answer. */
static void test_raw_running(void **state)
{
    (void)state;
    raw *r = raw_link();
    send_req(r, 1, SVC, "defer", 7);
    wait_flag(&nheld, 1);
    send_req(r, 2, SVC, "defer", 7);
    expect_no_reply(r); /* the retry waits */
    assert_int_equal(atomic_load(&runs), 1);
    assert_int_equal(ipcn_respond(victim, held[0], IPCN_OK, "deferred-7", 10,
                                  "text/plain"),
                     IPCN_OK);
    expect_reply(r, 1, ST_OK, "deferred-7");
    expect_reply(r, 2, ST_OK, "deferred-7");
    send_req(r, 3, SVC, "defer", 7);
    expect_reply(r, 3, ST_OK, "deferred-7");
    assert_int_equal(atomic_load(&runs), 1);
    assert_int_equal(atomic_load(&nheld), 1);
}

/* The first try is given up (CANCEL) before its handler starts, with a
 * retry waiting: the retry runs it, once. */
static void test_raw_pass_on(void **state)
{
    (void)state;
    raw *r = raw_link(), *other = raw_link();
    send_req(other, 1, PLAIN, "block", 0); /* holds the victim's thread */
    wait_flag(&blocked, 1);
    /* One write: read in one round once the thread is free. */
    B.len = 0;
    enc_req_id(r, 1, SVC, "x", 9);
    enc_req_id(r, 2, SVC, "x", 9);
    size_t off = f_begin(&B, T_CANCEL, r->id, 1);
    f_end(&B, off);
    raw_send_buf(r);
    atomic_store(&release_block, 1);
    expect_reply(other, 1, ST_OK, "run 1");
    expect_reply(r, 2, ST_OK, "run 2"); /* not to corr 1: it gave up */
    send_req(r, 3, SVC, "x", 9);
    expect_reply(r, 3, ST_OK, "run 2");
    assert_int_equal(atomic_load(&runs), 2);
}

/* A service that did not say at most once runs a repeated id again. */
static void test_raw_plain(void **state)
{
    (void)state;
    raw *r = raw_link();
    send_req(r, 1, PLAIN, "x", 5);
    expect_reply(r, 1, ST_OK, "run 1");
    send_req(r, 2, PLAIN, "x", 5);
    expect_reply(r, 2, ST_OK, "run 2");
    /* Nor does one whose at most once was turned off. */
    set_once(SVC, false, 0, 0);
    send_req(r, 3, SVC, "x", 5);
    expect_reply(r, 3, ST_OK, "run 3");
    send_req(r, 4, SVC, "x", 5);
    expect_reply(r, 4, ST_OK, "run 4");
}

static void test_bounds(void **state)
{
    (void)state;
    raw *r = raw_link();
    char want[32];
    uint64_t corr = 1;
    /* Entries: 4 kept, the oldest answer forgotten first. */
    set_once(SVC, true, 4, 0);
    for (uint64_t id = 1; id <= 10; id++) {
        snprintf(want, sizeof want, "run %llu", (unsigned long long)id);
        send_req(r, corr++, SVC, "x", id);
        expect_reply(r, corr - 1, ST_OK, want);
    }
    send_req(r, corr++, SVC, "x", 10);
    expect_reply(r, corr - 1, ST_OK, "run 10");
    send_req(r, corr++, SVC, "x", 1); /* forgotten: runs again */
    expect_reply(r, corr - 1, ST_OK, "run 11");
    /* Age: an answer older than cache_ms is forgotten. */
    set_once(SVC, true, 4, 100);
    send_req(r, corr++, SVC, "x", 500);
    expect_reply(r, corr - 1, ST_OK, "run 12");
    usleep(250 * 1000);
    send_req(r, corr++, SVC, "x", 500);
    expect_reply(r, corr - 1, ST_OK, "run 13");
    /* An answer too large to keep: remembered as run, without it. */
    set_once(SVC, true, 4, 30000);
    send_req(r, corr++, SVC, "big", 600);
    expect_reply(r, corr - 1, ST_OK, NULL);
    send_req(r, corr++, SVC, "big", 600);
    expect_reply(r, corr - 1, ST_CONFLICT,
                 "already run; its answer was not kept");
    assert_int_equal(atomic_load(&runs), 14);
    /* Every entry running: a new id can be neither run nor remembered. */
    set_once(SVC, true, 1, 30000);
    send_req(r, corr++, SVC, "defer", 700);
    wait_flag(&nheld, 1);
    send_req(r, corr++, SVC, "x", 701);
    expect_reply(r, corr - 1, ST_TOO_MANY, NULL);
    assert_int_equal(ipcn_respond(victim, held[0], IPCN_OK, "d", 1, ""),
                     IPCN_OK);
    expect_reply(r, corr - 2, ST_OK, "d");
    send_req(r, corr++, SVC, "x", 701); /* 700's answer makes room */
    expect_reply(r, corr - 1, ST_OK, "run 16");
    /* A flood of ids: each runs once, the cache keeps its bound (the first
     * ones are forgotten, the last kept). */
    set_once(SVC, true, 16, 30000);
    int before = atomic_load(&runs);
    for (uint64_t id = 1000; id < 3000; id++) {
        send_req(r, corr++, SVC, "x", id);
        expect_reply(r, corr - 1, ST_OK, NULL);
    }
    assert_int_equal(atomic_load(&runs), before + 2000);
    send_req(r, corr++, SVC, "x", 2999);
    expect_reply(r, corr - 1, ST_OK, NULL);
    assert_int_equal(atomic_load(&runs), before + 2000);
    send_req(r, corr++, SVC, "x", 1000);
    expect_reply(r, corr - 1, ST_OK, NULL);
    assert_int_equal(atomic_load(&runs), before + 2001);
}

static void test_opts(void **state)
{
    (void)state;
    ipcn_offer_opts o;
    ipcn_offer_opts_init(&o);
    assert_int_equal(o.size, sizeof o);
    assert_false(o.at_most_once);
    assert_int_equal(o.cache_ms, 30000);
    assert_int_equal(o.cache_entries, 1024);
    o.at_most_once = true;
    assert_int_equal(ipcn_offer_set_opts(victim, "once/none", &o),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_announce(victim, "once/data", IPCN_DATA, "", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_offer_set_opts(victim, "once/data", &o),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_offer_set_opts(NULL, SVC, &o), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_offer_set_opts(victim, SVC, NULL), IPCN_BAD_REQUEST);
    o.cache_entries = 0;
    assert_int_equal(ipcn_offer_set_opts(victim, SVC, &o), IPCN_BAD_REQUEST);
    o.cache_entries = 1;
    o.cache_ms = 0;
    assert_int_equal(ipcn_offer_set_opts(victim, SVC, &o), IPCN_BAD_REQUEST);
    o.cache_ms = 1;
    o.size = 4;
    assert_int_equal(ipcn_offer_set_opts(victim, SVC, &o), IPCN_BAD_REQUEST);
    /* A withdrawn service's cache goes with it. */
    o.size = sizeof o;
    assert_int_equal(ipcn_offer_set_opts(victim, SVC, &o), IPCN_OK);
    assert_int_equal(ipcn_withdraw(victim, SVC), IPCN_OK);
}

/* Wait until n knows count providers of path. */
static void wait_providers(ipcn_node *n, const char *path, size_t count)
{
    for (int i = 0; i < 1000; i++) {
        ipcn_resource_list *rl = NULL;
        assert_int_equal(ipcn_find(n, path, IPCN_SERVICE, &rl), IPCN_OK);
        size_t c = rl->count;
        ipcn_resource_list_free(rl);
        if (c == count)
            return;
        usleep(10 * 1000);
    }
    fail_msg("%s: not %zu providers", path, count);
}

static size_t file_size(const char *p)
{
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long s = ftell(f);
    fclose(f);
    return s > 0 ? (size_t)s : 0;
}

static int on_ping(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)req, (void)ctx, (void)user;
    return IPCN_OK;
}

/* A round trip to the victim: what the victim sent req before (an
 * announce of a service as at most once) has been read by req. */
static void sync_with_victim(ipcn_node *req)
{
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(req, "once/ping", NULL, 0, NULL, &m,
                                  IO_TIMEOUT_MS),
                     IPCN_OK);
    ipcn_msg_free(m);
}

static int request_ex(ipcn_node *n, const char *path, uint64_t id,
                      int timeout_ms, ipcn_answers **out)
{
    ipcn_request_opts o;
    ipcn_request_opts_init(&o);
    o.request_id = id;
    o.timeout_ms = timeout_ms;
    *out = NULL;
    return ipcn_request_ex(n, path, "x", 1, NULL, &o, out);
}

static void expect_answer(ipcn_node *n, const char *path, uint64_t id,
                          const char *body)
{
    ipcn_answers *a = NULL;
    assert_int_equal(request_ex(n, path, id, IO_TIMEOUT_MS, &a), IPCN_OK);
    assert_non_null(a);
    assert_int_equal(a->request_id, id);
    assert_non_null(a->winner);
    assert_int_equal(a->winner->len, strlen(body));
    assert_memory_equal(a->winner->data, body, strlen(body));
    ipcn_answers_free(a);
}

/* A library requester retries after a timeout (the handler slow the first
 * time: it deferred) with the same request id: one run, its answer. */
static void test_lib_retry_after_timeout(void **state)
{
    (void)state;
    assert_int_equal(ipcn_offer(victim, "once/ping", "", on_ping, NULL),
                     IPCN_OK);
    ipcn_node *req = open_node("once-lib");
    wait_providers(req, SVC, 1);
    sync_with_victim(req);
    ipcn_request_opts o;
    ipcn_request_opts_init(&o);
    o.timeout_ms = 300;
    ipcn_answers *a = NULL;
    assert_int_equal(ipcn_request_ex(req, SVC, "defer", 5, NULL, &o, &a),
                     IPCN_GATEWAY_TIMEOUT);
    assert_non_null(a);
    uint64_t id = a->request_id;
    assert_true(id != 0);
    ipcn_answers_free(a);
    wait_flag(&nheld, 1);
    assert_int_equal(ipcn_respond(victim, held[0], IPCN_OK, "slow answer", 11,
                                  "text/plain"),
                     IPCN_OK);
    expect_answer(req, SVC, id, "slow answer");
    expect_answer(req, SVC, id, "slow answer");
    assert_int_equal(atomic_load(&runs), 1);
    assert_int_equal(atomic_load(&nheld), 1);
    /* A new id is a new run. */
    assert_int_equal(request_ex(req, SVC, 0, IO_TIMEOUT_MS, &a), IPCN_OK);
    assert_true(a->request_id != id);
    ipcn_answers_free(a);
    assert_int_equal(atomic_load(&runs), 2);
    ipcn_node_close(req);
}

struct first_try {
    ipcn_node *req;
    const char *path;
    int status;
    uint64_t id;
};

static void *first_try_main(void *arg)
{
    struct first_try *t = arg;
    ipcn_answers *a = NULL;
    t->status = request_ex(t->req, t->path, 0, 20000, &a);
    t->id = a ? a->request_id : 0;
    ipcn_answers_free(a);
    return NULL;
}

/* A provider run at most once killed while it runs the request: the
 * requester gets 303, and the second provider does not run it behind its
 * back; the caller's retry with the same id runs there, once. */
static void test_killed_provider(void **state)
{
    (void)state;
    const char *path = "once/killed";
    char marker[600], ready[640];
    snprintf(marker, sizeof marker, "%s/o_prov.count", raw_target.dir);
    snprintf(ready, sizeof ready, "%s.ready", marker);
    assert_int_equal(ipcn_offer(victim, "once/ping", "", on_ping, NULL),
                     IPCN_OK);
    pid_t b = tu_spawn("o_prov",
                       (const char *const[]){"once-b", path, marker, NULL});
    for (int i = 0; i < 10000 && access(ready, F_OK) != 0; i++)
        usleep(1000);
    assert_int_equal(access(ready, F_OK), 0);
    /* Linked after the service is at most once: told so in its announce. */
    ipcn_node *req = open_node("once-req");
    wait_providers(req, path, 1);
    struct first_try t = {.req = req, .path = path};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, first_try_main, &t), 0);
    for (int i = 0; i < 10000 && file_size(marker) < 1; i++)
        usleep(1000);
    assert_int_equal(file_size(marker), 1);
    /* A second provider, known to the requester (as at most once) before
     * the first dies. */
    assert_int_equal(ipcn_offer(victim, path, "", on_svc, NULL), IPCN_OK);
    set_once(path, true, 0, 0);
    sync_with_victim(req);
    wait_providers(req, path, 2);
    tu_kill(b);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(t.status, ST_SERVICE_UNAVAILABLE);
    assert_true(t.id != 0);
    assert_int_equal(atomic_load(&runs), 0); /* not run behind its back */
    /* The caller retries with the same id: it runs on the one left, once. */
    expect_answer(req, path, t.id, "run 1");
    expect_answer(req, path, t.id, "run 1");
    assert_int_equal(atomic_load(&runs), 1);
    /* A plain request (no id) is a new run. */
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(req, path, "x", 1, NULL, &m, IO_TIMEOUT_MS),
                     IPCN_OK);
    ipcn_msg_free(m);
    assert_int_equal(atomic_load(&runs), 2);
    ipcn_node_close(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_pass_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_opts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lib_retry_after_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_killed_provider, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
