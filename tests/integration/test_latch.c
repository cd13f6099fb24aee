/* SPDX-License-Identifier: MIT */
/*
 * test_latch.c — subscribers that come late (ipcnet.h "Late subscribers",
 * docs/protocol.md 10.3), against a provider in a process of its own:
 *  - a data resource's current value reaches a subscription made after it
 *    was set, once, before the next value; a second subscription of the
 *    same pattern gets it too, and the first no duplicate; the opt-outs
 *    (provider: keep 0; subscriber: IPCN_SUB_NO_HISTORY) get nothing old;
 *  - a stream's last N samples (ipcn_announce_keep()), small ones inline
 *    and large ones in shared memory, in order, counted in history;
 *  - a subscription made before the provider starts: each resource's seqs
 *    consecutive to the newest, nothing twice, whichever of the replay and
 *    the live samples came first;
 *  - under a publisher and a setter that never stop, subscriptions made at
 *    any moment (new patterns and patterns already told) see consecutive
 *    seqs from their first, no gap, no duplicate, nothing lost or dropped;
 *  - this node's own resources, and a keep that fills a refusing pool:
 *    no loan refused, the kept samples given up counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>

#include "ipcnet.h"
#include "v_util.h"
#include "v_verbs.h"

#define BIG (64u << 10) /* a shared-memory sample */

/* Does this node take and send shared-memory samples (IPCNET_NO_SHM)? */
static int shm_expected(void)
{
    const char *v = getenv("IPCNET_NO_SHM");
    return !v || !*v || !strcmp(v, "0");
}

/* ------------------------------------------------------------------ */
/* The provider, in a process of its own                               */
/* ------------------------------------------------------------------ */

static ipcn_node *prov;
static atomic_int prov_run, prov_stop;

static void publish_text(ipcn_node *n, const char *path, const char *v)
{
    if (ipcn_publish(n, path, v, strlen(v)) != IPCN_OK)
        _exit(5);
}

static void publish_big(ipcn_node *n, const char *path, unsigned seq)
{
    static uint8_t buf[BIG];
    memset(buf, (int)seq, sizeof buf);
    if (ipcn_publish(n, path, buf, sizeof buf) != IPCN_OK)
        _exit(6);
}

/* pl/count (data) and pl/tick (a stream that keeps 4): published with a
 * pause of 0.3 ms until told to stop (sets of pl/count come in between:
 * the seq is what counts). */
static void *counter_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 40000 && !atomic_load(&prov_stop); i++) {
        ipcn_publish(prov, "pl/count", "c", 1);
        ipcn_publish(prov, "pl/tick", "t", 1);
        usleep(300);
    }
    return NULL;
}

static int ctl(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
               void *user)
{
    (void)ctx, (void)user;
    char cmd[256], a[128] = "", b[128] = "";
    snprintf(cmd, sizeof cmd, "%.*s", (int)req->len, (const char *)req->data);
    if (sscanf(cmd, "pub %127s %127s", a, b) == 2)
        return ipcn_publish(n, a, b, strlen(b));
    if (!strcmp(cmd, "run")) {
        pthread_t t;
        if (atomic_exchange(&prov_run, 1))
            return IPCN_CONFLICT;
        return pthread_create(&t, NULL, counter_main, NULL) ? IPCN_INTERNAL_ERROR
                                                            : IPCN_OK;
    }
    if (!strcmp(cmd, "stop")) {
        atomic_store(&prov_stop, 1);
        return IPCN_OK;
    }
    return IPCN_BAD_REQUEST;
}

static void provider_main(void)
{
    if (ipcn_node_open(&prov, "lprov", NULL) != IPCN_OK)
        _exit(2);
    ipcn_node *n = prov;
    int ok = ipcn_announce(n, "pl/data", IPCN_DATA, "text/plain", NULL, 0) ==
                 IPCN_CREATED &&
             ipcn_announce_keep(n, "pl/quiet", IPCN_DATA, "text/plain", NULL,
                                0, 0) == IPCN_CREATED &&
             ipcn_announce_keep(n, "pl/stream", IPCN_STREAM, "text/plain",
                                NULL, 0, 5) == IPCN_CREATED &&
             ipcn_announce_keep(n, "pl/big", IPCN_STREAM, "bytes", NULL, 0,
                                3) == IPCN_CREATED &&
             ipcn_announce(n, "pl/plain", IPCN_STREAM, "text/plain", NULL,
                           0) == IPCN_CREATED &&
             ipcn_announce(n, "pl/count", IPCN_DATA, "text/plain", NULL, 0) ==
                 IPCN_CREATED &&
             ipcn_announce_keep(n, "pl/tick", IPCN_STREAM, "text/plain", NULL,
                                0, 4) == IPCN_CREATED;
    if (!ok)
        _exit(3);
    publish_text(n, "pl/data", "v1");
    publish_text(n, "pl/data", "v2");
    publish_text(n, "pl/data", "v3");
    publish_text(n, "pl/quiet", "q1");
    for (int i = 1; i <= 8; i++) {
        char s[8];
        snprintf(s, sizeof s, "s%d", i);
        publish_text(n, "pl/stream", s);
    }
    for (unsigned i = 1; i <= 5; i++)
        publish_big(n, "pl/big", i);
    publish_text(n, "pl/plain", "p1");
    /* Last: a peer that sees it has seen all the above. */
    if (ipcn_offer(n, "pl/ctl", "text/plain", ctl, NULL) != IPCN_OK ||
        ipcn_node_start_thread(n) != IPCN_OK)
        _exit(4);
    sleep(30); /* killed by the teardown long before */
    _exit(0);
}

static void start_provider(void)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        provider_main();
    v_track_pid(pid);
}

static void wait_provider(ipcn_node *n)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_wait_for(n, "pl/ctl", IPCN_SERVICE, V_WAIT_MS, &rl),
                     IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_string_equal(rl->items[0].provider, "lprov");
    ipcn_resource_list_free(rl);
}

static void pctl(ipcn_node *n, const char *cmd)
{
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "pl/ctl", cmd, strlen(cmd), "text/plain",
                                  &m, V_WAIT_MS),
                     IPCN_OK);
    ipcn_msg_free(m);
}

/* ------------------------------------------------------------------ */
/* What a subscription received                                        */
/* ------------------------------------------------------------------ */

#define LC_MAX 4096
typedef struct lc_item {
    uint64_t seq;
    size_t len;
    uint32_t flags;
    int verify;
    uint8_t first;
    char path[64], data[24];
} lc_item;

typedef struct lc {
    pthread_mutex_t mu;
    int count;
    lc_item it[LC_MAX];
} lc;

static lc *lc_new(void)
{
    lc *c = calloc(1, sizeof *c);
    assert_non_null(c);
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void lc_free(lc *c)
{
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void lc_cb(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    lc *c = user;
    if (m->status != IPCN_OK)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->count < LC_MAX) {
        lc_item *x = &c->it[c->count++];
        x->seq = m->seq;
        x->len = m->len;
        x->flags = m->flags;
        x->verify = (m->flags & IPCN_MSG_SHARED) ? ipcn_msg_verify(m) : 0;
        x->first = m->len ? ((const uint8_t *)m->data)[0] : 0;
        snprintf(x->path, sizeof x->path, "%s", m->path);
        snprintf(x->data, sizeof x->data, "%.*s",
                 (int)(m->len < sizeof x->data ? m->len : sizeof x->data - 1),
                 (const char *)m->data);
    }
    pthread_mutex_unlock(&c->mu);
}

/* The seqs of path in c, in the order they came (at most max). */
static int lc_seqs(lc *c, const char *path, uint64_t *out, int max)
{
    int k = 0;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->count && k < max; i++)
        if (!strcmp(c->it[i].path, path))
            out[k++] = c->it[i].seq;
    pthread_mutex_unlock(&c->mu);
    return k;
}

static int lc_count(lc *c, const char *path)
{
    uint64_t s[LC_MAX];
    return lc_seqs(c, path, s, LC_MAX);
}

/* Dispatch until path has come up to seq in c. */
static void lc_wait_seq(ipcn_node *n, lc *c, const char *path, uint64_t seq)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        uint64_t s[LC_MAX];
        int k = lc_seqs(c, path, s, LC_MAX);
        if (k && s[k - 1] >= seq)
            return;
        if (tu_now_ms() >= end)
            fail_msg("%s did not come up to seq %llu (%d samples)", path,
                     (unsigned long long)seq, k);
        v_pump(n, 20);
    }
}

/* path's seqs in c are first, first + 1, ... last: no gap, nothing
 * twice, in order. */
static void assert_run(lc *c, const char *path, uint64_t first,
                       uint64_t last)
{
    uint64_t s[LC_MAX];
    int k = lc_seqs(c, path, s, LC_MAX);
    if (k != (int)(last - first + 1))
        fail_msg("%s: %d samples, want %llu..%llu", path, k,
                 (unsigned long long)first, (unsigned long long)last);
    for (int i = 0; i < k; i++)
        if (s[i] != first + (uint64_t)i)
            fail_msg("%s: sample %d has seq %llu, want %llu", path, i,
                     (unsigned long long)s[i],
                     (unsigned long long)(first + (uint64_t)i));
}

/* Consecutive from wherever they start; returns the first (0: none). */
static uint64_t assert_consecutive(lc *c, const char *path)
{
    uint64_t s[LC_MAX];
    int k = lc_seqs(c, path, s, LC_MAX);
    for (int i = 1; i < k; i++)
        if (s[i] != s[i - 1] + 1)
            fail_msg("%s: seq %llu after %llu", path,
                     (unsigned long long)s[i], (unsigned long long)s[i - 1]);
    return k ? s[0] : 0;
}

static ipcn_sub_stats sub_stats(ipcn_node *n, ipcn_sub sub)
{
    ipcn_sub_stats st = {.size = sizeof st};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &st), IPCN_OK);
    return st;
}

static ipcn_sub sub_ex(ipcn_node *n, const char *pattern, uint32_t flags,
                       lc *c)
{
    ipcn_sub_opts o;
    ipcn_sub_opts_init(&o);
    o.queue_depth = LC_MAX;
    o.flags = flags;
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe_ex(n, pattern, &o, lc_cb, c, &sub),
                     IPCN_OK);
    return sub;
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

static void test_latch_late_data(void **state)
{
    (void)state;
    ipcn_node *n = v_open("lsub", NULL);
    start_provider();
    wait_provider(n);
    lc *a = lc_new(), *quiet = lc_new(), *plain = lc_new(), *fresh = lc_new();
    ipcn_sub sa = sub_ex(n, "pl/data", 0, a);
    sub_ex(n, "pl/quiet", 0, quiet);
    sub_ex(n, "pl/plain", 0, plain);
    ipcn_sub sf = sub_ex(n, "pl/data", IPCN_SUB_NO_HISTORY, fresh);
    /* The current value first, then the next one. */
    lc_wait_seq(n, a, "pl/data", 3);
    assert_string_equal(a->it[0].data, "v3");
    pctl(n, "pub pl/data v4");
    lc_wait_seq(n, a, "pl/data", 4);
    lc_wait_seq(n, fresh, "pl/data", 4);
    assert_run(a, "pl/data", 3, 4);
    assert_run(fresh, "pl/data", 4, 4); /* no history asked */
    assert_int_equal(quiet->count, 0);  /* the provider keeps nothing */
    assert_int_equal(plain->count, 0);
    ipcn_sub_stats st = sub_stats(n, sa);
    assert_int_equal(st.history, 1);
    assert_int_equal(st.received, 2);
    assert_int_equal(st.lost + st.dropped, 0);
    assert_int_equal(sub_stats(n, sf).history, 0);

    /* A second subscription of a pattern already told, and one of a new
     * pattern: each gets what is kept; the first gets nothing twice. */
    lc *b = lc_new(), *all = lc_new();
    ipcn_sub sb = sub_ex(n, "pl/data", 0, b);
    ipcn_sub sall = sub_ex(n, "pl/*", 0, all);
    pctl(n, "pub pl/data v5");
    pctl(n, "pub pl/stream s9");
    lc_wait_seq(n, b, "pl/data", 5);
    lc_wait_seq(n, all, "pl/data", 5);
    lc_wait_seq(n, all, "pl/stream", 9);
    lc_wait_seq(n, a, "pl/data", 5);
    assert_run(a, "pl/data", 3, 5);
    assert_run(b, "pl/data", 4, 5);
    assert_string_equal(b->it[0].data, "v4");
    assert_run(all, "pl/data", 4, 5);
    assert_run(all, "pl/stream", 4, 9); /* the 5 kept, then the live one */
    assert_run(all, "pl/big", 3, 5);    /* kept in shared memory */
    assert_int_equal(lc_count(all, "pl/quiet"), 0);
    assert_int_equal(lc_count(all, "pl/plain"), 0);
    assert_int_equal(lc_count(all, "pl/count"), 0); /* no value yet */
    pthread_mutex_lock(&all->mu);
    for (int i = 0; i < all->count; i++) {
        lc_item *x = &all->it[i];
        if (strcmp(x->path, "pl/big") != 0)
            continue;
        assert_int_equal(x->len, BIG);
        assert_int_equal(x->first, (uint8_t)x->seq);
        if (shm_expected())
            assert_true(x->flags & IPCN_MSG_SHARED);
        if (x->flags & IPCN_MSG_SHARED)
            assert_int_equal(x->verify, IPCN_OK);
    }
    pthread_mutex_unlock(&all->mu);
    assert_int_equal(sub_stats(n, sb).history, 1);
    st = sub_stats(n, sall);
    assert_int_equal(st.history, 1 + 5 + 3);
    assert_int_equal(st.lost + st.dropped + st.resets, 0);
    lc_free(a);
    lc_free(b);
    lc_free(all);
    lc_free(quiet);
    lc_free(plain);
    lc_free(fresh);
}

static void test_latch_before_provider(void **state)
{
    (void)state;
    ipcn_node *n = v_open("lsub", NULL);
    lc *c = lc_new();
    ipcn_sub sub = sub_ex(n, "pl/**", 0, c);
    start_provider();
    wait_provider(n);
    pctl(n, "pub pl/data v4");
    pctl(n, "pub pl/stream s9");
    lc_wait_seq(n, c, "pl/data", 4);
    lc_wait_seq(n, c, "pl/stream", 9);
    /* Replayed or live, whichever came first: consecutive up to the
     * newest, each once, and at least what is kept. */
    assert_true(assert_consecutive(c, "pl/data") <= 3);
    assert_true(assert_consecutive(c, "pl/stream") <= 4);
    lc_wait_seq(n, c, "pl/big", 5);
    assert_true(assert_consecutive(c, "pl/big") <= 3);
    ipcn_sub_stats st = sub_stats(n, sub);
    assert_int_equal(st.lost + st.dropped + st.resets, 0);
    lc_free(c);
}

/* A setter of pl/count in the test process, on a node of its own. */
static atomic_int set_stop;
static atomic_int sets_done;
static void *setter_main(void *arg)
{
    ipcn_node *s = arg;
    while (!atomic_load(&set_stop)) {
        uint64_t ver = 0;
        if (ipcn_set(s, "pl/count", "s", 1, NULL, 0, 2000, &ver) == IPCN_OK)
            atomic_fetch_add(&sets_done, 1);
        usleep(700);
    }
    return NULL;
}

static void test_latch_concurrent(void **state)
{
    (void)state;
    ipcn_node *n = v_open("lsub", NULL);
    ipcn_node *setter = v_open("lset", NULL);
    start_provider(); /* before any thread: see test_wait_for.c */
    assert_int_equal(ipcn_node_start_thread(setter), IPCN_OK);
    wait_provider(n);
    assert_int_equal(ipcn_wait_for(setter, "pl/count", IPCN_DATA, V_WAIT_MS,
                                   NULL),
                     IPCN_OK);
    atomic_store(&set_stop, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, setter_main, setter), 0);
    pctl(n, "run");
    uint64_t until = tu_now_ms() + V_WAIT_MS;
    while (!atomic_load(&sets_done)) { /* pl/count has a value */
        if (tu_now_ms() >= until)
            fail_msg("no set went through");
        v_pump(n, 10);
    }
    /* Subscriptions made while values come, each after the one before
     * has seen some: new patterns, and patterns already told. */
    static const char *const pats[] = {"pl/count", "*/count", "pl/tick",
                                       "pl/*", "**", "pl/count", "*/tick",
                                       "pl/*"};
    enum { K = sizeof pats / sizeof pats[0], EACH = 120 };
    lc *c[K];
    ipcn_sub sub[K];
    uint64_t q1[K];
    for (int i = 0; i < K; i++) {
        c[i] = lc_new();
        sub[i] = sub_ex(n, pats[i], 0, c[i]);
        /* A query asked now is answered after the replay the subscription
         * asked for: the value it gives is not older than the replay's. */
        ipcn_msg *q = NULL;
        assert_int_equal(ipcn_query(n, "pl/count", &q, V_WAIT_MS), IPCN_OK);
        q1[i] = q->seq;
        ipcn_msg_free(q);
        const char *path = strstr(pats[i], "tick") ? "pl/tick" : "pl/count";
        uint64_t end = tu_now_ms() + 4 * V_WAIT_MS;
        while (lc_count(c[i], path) < EACH / 2) {
            if (tu_now_ms() >= end)
                fail_msg("subscription %d (%s) starves", i, pats[i]);
            v_pump(n, 10);
        }
    }
    uint64_t end = tu_now_ms() + 4 * V_WAIT_MS;
    while (lc_count(c[K - 1], "pl/count") < EACH) {
        if (tu_now_ms() >= end)
            fail_msg("the last subscription starves");
        v_pump(n, 10);
    }
    atomic_store(&set_stop, 1);
    pthread_join(th, NULL);
    pctl(n, "stop");
    assert_true(atomic_load(&sets_done) > 0);
    for (int i = 0; i < K; i++) {
        uint64_t first = assert_consecutive(c[i], "pl/count");
        uint64_t tick = assert_consecutive(c[i], "pl/tick");
        assert_true(first > 0 || tick > 0);
        ipcn_sub_stats st = sub_stats(n, sub[i]);
        assert_int_equal(st.lost + st.dropped + st.resets, 0);
        /* It began with the value current when it subscribed (replayed, or
         * live when a newer one came meanwhile, and then not replayed
         * again), not with a later one; and with the last 4 ticks (all 4:
         * the ticks began long before), which come first. */
        if (first > q1[i])
            fail_msg("subscription %d (%s) began at %llu, after %llu",
                     i, pats[i], (unsigned long long)first,
                     (unsigned long long)q1[i]);
        if (tick && st.history < 4)
            fail_msg("subscription %d (%s): %llu kept samples, not 4 "
                     "(received %llu, first tick %llu)", i, pats[i],
                     (unsigned long long)st.history,
                     (unsigned long long)st.received, (unsigned long long)tick);
        lc_free(c[i]);
    }
}

/* ------------------------------------------------------------------ */
/* One node: its own resources                                         */
/* ------------------------------------------------------------------ */

static ipcn_msg *take(ipcn_node *n, ipcn_sub s)
{
    ipcn_msg *m = NULL;
    return ipcn_sub_take(n, s, &m, 0) == IPCN_OK ? m : NULL;
}

static void test_latch_local(void **state)
{
    (void)state;
    ipcn_node *n = v_open("lself", NULL);
    assert_int_equal(ipcn_announce(n, "me/d", IPCN_DATA, "text/plain", NULL,
                                   0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce_keep(n, "me/s", IPCN_STREAM, NULL, NULL, 0,
                                        3),
                     IPCN_CREATED);
    /* The arguments. */
    assert_int_equal(ipcn_announce_keep(n, "me/x", IPCN_SERVICE, NULL, NULL,
                                        0, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce_keep(n, "me/x", IPCN_STREAM, NULL, NULL,
                                        0, IPCN_KEEP_MAX + 1),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce_keep(n, "me/d", IPCN_DATA, NULL, NULL, 0,
                                        2),
                     IPCN_BAD_REQUEST);
    ipcn_sub_opts o;
    ipcn_sub_opts_init(&o);
    o.flags = 0x80;
    ipcn_sub bad;
    assert_int_equal(ipcn_subscribe_ex(n, "me/d", &o, NULL, NULL, &bad),
                     IPCN_BAD_REQUEST);

    assert_int_equal(ipcn_publish(n, "me/d", "a", 1), IPCN_OK);
    assert_int_equal(ipcn_publish(n, "me/d", "b", 1), IPCN_OK);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(ipcn_publish(n, "me/s", "x", 1), IPCN_OK);
    ipcn_sub sd, ss, sn;
    assert_int_equal(ipcn_subscribe(n, "me/d", 0, NULL, NULL, &sd), IPCN_OK);
    assert_int_equal(ipcn_subscribe(n, "me/s", 0, NULL, NULL, &ss), IPCN_OK);
    ipcn_sub_opts_init(&o);
    o.flags = IPCN_SUB_NO_HISTORY;
    assert_int_equal(ipcn_subscribe_ex(n, "me/*", &o, NULL, NULL, &sn),
                     IPCN_OK);
    ipcn_msg *m = take(n, sd);
    assert_non_null(m);
    assert_int_equal(m->seq, 2);
    assert_memory_equal(m->data, "b", 1);
    ipcn_msg_free(m);
    assert_null(take(n, sd));
    for (uint64_t want = 3; want <= 5; want++) {
        m = take(n, ss);
        assert_non_null(m);
        assert_int_equal(m->seq, want);
        ipcn_msg_free(m);
    }
    assert_null(take(n, ss));
    assert_null(take(n, sn));
    /* Then the live ones, to all three. */
    assert_int_equal(ipcn_publish(n, "me/s", "y", 1), IPCN_OK);
    m = take(n, ss);
    assert_non_null(m);
    assert_int_equal(m->seq, 6);
    ipcn_msg_free(m);
    m = take(n, sn);
    assert_non_null(m);
    assert_int_equal(m->seq, 6);
    ipcn_msg_free(m);

    ipcn_keep_stats ks = {.size = sizeof ks};
    assert_int_equal(ipcn_keep_get_stats(n, "me/s", &ks), IPCN_OK);
    assert_int_equal(ks.keep, 3);
    assert_int_equal(ks.kept, 3);
    assert_int_equal(ks.kept_slots, 0);
    assert_int_equal(ks.kept_bytes, 3);
    assert_int_equal(ks.replays, 1);
    assert_int_equal(ks.replayed, 3);
    assert_int_equal(ks.evicted, 0);
    assert_int_equal(ipcn_keep_get_stats(n, "me/d", &ks), IPCN_OK);
    assert_int_equal(ks.keep, 1);
    assert_int_equal(ks.kept, 1);
    assert_int_equal(ipcn_keep_get_stats(n, "me/none", &ks), IPCN_NOT_FOUND);
    /* A smaller keep keeps the newest; a data resource that opts out. */
    assert_int_equal(ipcn_announce_keep(n, "me/s", IPCN_STREAM, NULL, NULL, 0,
                                        1),
                     IPCN_OK);
    assert_int_equal(ipcn_announce_keep(n, "me/d", IPCN_DATA, NULL, NULL, 0,
                                        0),
                     IPCN_OK);
    ipcn_sub s2;
    assert_int_equal(ipcn_subscribe(n, "me/*", 0, NULL, NULL, &s2), IPCN_OK);
    m = take(n, s2);
    assert_non_null(m);
    assert_string_equal(m->path, "me/s");
    assert_int_equal(m->seq, 6);
    ipcn_msg_free(m);
    assert_null(take(n, s2));
    /* ipcn_announce() again leaves the keep as it is. */
    assert_int_equal(ipcn_announce(n, "me/s", IPCN_STREAM, "text/plain", NULL,
                                   0),
                     IPCN_OK);
    assert_int_equal(ipcn_keep_get_stats(n, "me/s", &ks), IPCN_OK);
    assert_int_equal(ks.keep, 1);
}

/* Kept samples in a pool that refuses when full: a keep as large as the
 * pool never makes a loan fail; the kept samples given up are counted. */
static void test_latch_pool_full(void **state)
{
    (void)state;
    if (!shm_expected())
        skip();
    ipcn_node *n = v_open("lpool", NULL);
    assert_int_equal(ipcn_announce_keep(n, "pool/s", IPCN_STREAM, "bytes",
                                        NULL, 0, 4),
                     IPCN_CREATED);
    ipcn_pool_opts po;
    ipcn_pool_opts_init(&po);
    po.slots = 4;
    po.policy = IPCN_POOL_REFUSE;
    assert_int_equal(ipcn_pool_config(n, "pool/s", &po), IPCN_OK);
    static uint8_t buf[BIG];
    for (unsigned i = 1; i <= 10; i++) {
        memset(buf, (int)i, sizeof buf);
        assert_int_equal(ipcn_publish(n, "pool/s", buf, sizeof buf), IPCN_OK);
    }
    /* A loan too: room is made the same way. */
    ipcn_loan *loan = NULL;
    assert_int_equal(ipcn_loan_new(n, "pool/s", BIG, &loan), IPCN_OK);
    memset(ipcn_loan_data(loan), 11, BIG);
    assert_int_equal(ipcn_loan_publish(n, loan, BIG), IPCN_OK);
    ipcn_keep_stats ks = {.size = sizeof ks};
    assert_int_equal(ipcn_keep_get_stats(n, "pool/s", &ks), IPCN_OK);
    assert_int_equal(ks.kept, 4);
    assert_int_equal(ks.kept_slots, 4);
    assert_int_equal(ks.evicted, 11 - 4);
    ipcn_pool_stats ps = {.size = sizeof ps};
    assert_int_equal(ipcn_pool_get_stats(n, "pool/s", &ps), IPCN_OK);
    assert_int_equal(ps.refused, 0);
    assert_int_equal(ps.held, 4);
    /* A late subscriber: the newest 4, in order, whole. */
    ipcn_sub s;
    assert_int_equal(ipcn_subscribe(n, "pool/s", 0, NULL, NULL, &s), IPCN_OK);
    for (uint64_t want = 8; want <= 11; want++) {
        ipcn_msg *m = take(n, s);
        assert_non_null(m);
        assert_int_equal(m->seq, want);
        assert_int_equal(m->len, BIG);
        assert_int_equal(((const uint8_t *)m->data)[BIG - 1], (uint8_t)want);
        ipcn_msg_free(m);
    }
    assert_null(take(n, s));
    /* Withdrawn: the kept slots go back, the pool with them. */
    assert_int_equal(ipcn_withdraw(n, "pool/s"), IPCN_OK);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        V_TEST(test_latch_late_data),
        V_TEST(test_latch_before_provider),
        V_TEST(test_latch_concurrent),
        V_TEST(test_latch_local),
        V_TEST(test_latch_pool_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
