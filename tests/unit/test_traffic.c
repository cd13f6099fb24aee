/* SPDX-License-Identifier: MIT */
/*
 * test_traffic.c — the picture of normal traffic (transport/traffic.c):
 * the arithmetic of the weighted rates and sizes over one-second windows,
 * the anomaly rule (warm-up, floor, one episode per excursion, the normal
 * barely moved by it), a link's bounded table; then two nodes in this
 * process, one publishing to the other at a steady rate, then at 20 times
 * it on one path: the receiver flags that path, not the steady one, and
 * tells so through ipcn_traffic() and its node service
 * "@sys/<node>/traffic".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "ipcnet_value.h"
#include "node/node.h"
#include "policy/policy.h"
#include "testutil.h"
#include "transport/traffic.h"

#define W IPCN_TRAFFIC_WINDOW_NS
#define T0 (1000 * W) /* any start */

/* n frames of len bytes spread over the window starting at start. */
static bool window(ipcn__tstat *t, uint64_t start, unsigned n, uint64_t len,
                   const ipcn__tparams *tp)
{
    bool started = false;
    for (unsigned i = 0; i < n; i++)
        started |= ipcn__tstat_frame(t, start + i * (W / (n + 1)), len, tp);
    return started;
}

static void test_ewma(void **state)
{
    (void)state;
    ipcn__tstat t = {0};
    ipcn__tparams off = {0, 0};
    /* The first windows: the plain mean of 10, 20, 30 (folded when the
     * next window's first frame comes). */
    window(&t, T0, 10, 100, &off);
    window(&t, T0 + W, 20, 100, &off);
    window(&t, T0 + 2 * W, 30, 100, &off);
    ipcn__tstat_frame(&t, T0 + 3 * W, 100, &off);
    assert_int_equal(t.windows, 3);
    assert_float_equal(t.rate, 20.0, 1e-9);
    assert_float_equal(t.rate_now, 30.0, 1e-9);
    assert_float_equal(t.size, 100.0, 1e-9);
    assert_int_equal(t.count, 61);
    assert_int_equal(t.bytes, 6100);
    /* Up to window 10 the weight of a window is 1/(k+1); then 0.1. */
    for (unsigned k = 3; k < 12; k++) /* window 3 has its first already */
        window(&t, T0 + k * W + 1, k == 3 ? 19 : 20, 100, &off);
    ipcn__tstat_frame(&t, T0 + 12 * W, 100, &off);
    assert_int_equal(t.windows, 12);
    assert_float_equal(t.rate, 20.0, 1e-9); /* all windows had 20 */
    /* Idle: two windows pass with nothing, folded by a reader. */
    double before = t.rate;
    ipcn__tstat_fold(&t, T0 + 15 * W, &off);
    assert_int_equal(t.windows, 15);
    /* window 12 had 1 frame, 13 and 14 none */
    double want = before + 0.1 * (1 - before);
    want *= 0.9 * 0.9;
    assert_float_equal(t.rate, want, 1e-9);
    assert_float_equal(t.rate_now, 0.0, 1e-9);
    /* Sizes: the plain mean first, then weight 1/16. */
    ipcn__tstat s = {0};
    ipcn__tstat_frame(&s, T0, 10, &off);
    ipcn__tstat_frame(&s, T0 + 1, 30, &off);
    assert_float_equal(s.size, 20.0, 1e-9);
    for (int i = 0; i < 100; i++)
        ipcn__tstat_frame(&s, T0 + 2 + (uint64_t)i, 50, &off);
    double sz = s.size;
    ipcn__tstat_frame(&s, T0 + 200, 66, &off);
    assert_float_equal(s.size, sz + (66 - sz) / 16, 1e-9);
    /* A long idle time: the normal goes to nothing, windows go on. */
    ipcn__tstat_fold(&t, T0 + 1000 * W, &off);
    assert_float_equal(t.rate, 0.0, 1e-9);
    assert_int_equal(t.windows, 1000);
}

static void test_anomaly(void **state)
{
    (void)state;
    ipcn__tstat t = {0};
    ipcn__tparams tp = {20, 3 * W};
    uint64_t k = 0;
    for (; k < 10; k++) /* the normal: 10/s */
        assert_false(window(&t, T0 + k * W, 10, 64, &tp));
    assert_false(ipcn__tstat_fold(&t, T0 + k * W, &tp));
    assert_float_equal(t.rate, 10.0, 1e-9);
    assert_float_equal(ipcn__tstat_bound(&t, 20), 200.0, 1e-9);
    /* At once (for 0 s): 20x (200/s) is not over the bound; 201/s is. */
    ipcn__tparams now0 = {20, 0};
    ipcn__tstat c = t;
    window(&c, T0 + k * W, 200, 64, &now0);
    assert_false(ipcn__tstat_fold(&c, T0 + (k + 1) * W, &now0));
    c = t;
    window(&c, T0 + k * W, 201, 64, &now0);
    assert_true(ipcn__tstat_fold(&c, T0 + (k + 1) * W, &now0));
    /* For 3 s: the episode starts as the third window over is folded (when
     * the next frame comes), once. */
    unsigned starts = 0;
    for (int i = 0; i < 3; i++)
        starts += window(&t, T0 + k++ * W, 400, 64, &tp);
    assert_int_equal(starts, 0);
    assert_false(t.anomalous);
    starts += window(&t, T0 + k++ * W, 400, 64, &tp);
    assert_int_equal(starts, 1);
    assert_true(t.anomalous);
    assert_int_equal(t.episodes, 1);
    assert_float_equal(t.rate_now, 400.0, 1e-9);
    for (int i = 0; i < 5; i++)
        starts += window(&t, T0 + k++ * W, 400, 64, &tp);
    assert_int_equal(starts, 1); /* one per episode */
    assert_float_equal(t.rate, 10.0, 1e-9); /* the normal stays */
    /* A window under the bound ends it; a new excursion is a new one. */
    starts += window(&t, T0 + k++ * W, 10, 64, &tp);
    starts += window(&t, T0 + k++ * W, 10, 64, &tp);
    assert_false(t.anomalous);
    for (int i = 0; i < 5; i++)
        starts += window(&t, T0 + k++ * W, 400, 64, &tp);
    assert_int_equal(starts, 2);
    assert_int_equal(t.episodes, 2);
    /* An idle window ends an episode too. */
    ipcn__tstat_fold(&t, T0 + (k + 2) * W, &tp);
    assert_false(t.anomalous);
    k += 2;
    /* A level that stays over the bound for a minute is the new normal. */
    for (uint64_t i = 0; i < IPCN_TRAFFIC_ACCEPT_NS / W + 2; i++)
        starts += window(&t, T0 + k++ * W, 400, 64, &tp);
    assert_int_equal(starts, 3);
    assert_false(t.anomalous);
    assert_float_equal(t.rate, 400.0, 1e-9);
    /* Off (factor 0): nothing, whatever the rate. */
    ipcn__tstat u = {0};
    ipcn__tparams off = {0, 0};
    for (k = 0; k < 10; k++)
        window(&u, T0 + k * W, 10, 64, &off);
    for (; k < 20; k++)
        assert_false(window(&u, T0 + k * W, 1000, 64, &off));
    assert_int_equal(u.episodes, 0);
}

static void test_warmup_floor(void **state)
{
    (void)state;
    ipcn__tparams tp = {10, 0};
    /* A new peer at 1000/s from its first frame: that is its normal. */
    ipcn__tstat t = {0};
    for (uint64_t k = 0; k < 20; k++)
        assert_false(window(&t, T0 + k * W, 1000, 8, &tp));
    /* Nothing in the warm-up windows counts, however far over. */
    ipcn__tstat w = {0};
    window(&w, T0, 1, 8, &tp);
    for (uint64_t k = 1; k < IPCN_TRAFFIC_WARMUP; k++)
        assert_false(window(&w, T0 + k * W, 500, 8, &tp));
    /* A normal under 1/s counts as 1/s: 9/s is under 10x of it, 11/s over
     * it (for 0 s: at once). */
    ipcn__tstat f = {0};
    uint64_t k = 0;
    for (; k < 20; k += 5) /* one frame every 5 s: 0.2/s */
        window(&f, T0 + k * W, 1, 8, &tp);
    assert_false(ipcn__tstat_fold(&f, T0 + k * W, &tp));
    assert_true(f.rate > 0.1 && f.rate < 0.25);
    ipcn__tstat c = f;
    window(&c, T0 + k * W, 9, 8, &tp);
    assert_false(ipcn__tstat_fold(&c, T0 + (k + 1) * W, &tp));
    c = f;
    window(&c, T0 + k * W, 11, 8, &tp);
    assert_true(ipcn__tstat_fold(&c, T0 + (k + 1) * W, &tp));
    assert_int_equal(c.episodes, 1);
}

static void test_table(void **state)
{
    (void)state;
    static ipcn_node nd;
    static ipcn__link lk;
    memset(&nd, 0, sizeof nd);
    memset(&lk, 0, sizeof lk);
    nd.name = "self";
    lk.state = LINK_UP;
    lk.who.name = "peer";
    nd.round_ns = T0;
    ipcn__frame f;
    memset(&f, 0, sizeof f);
    f.hdr.type = IPCN_F_SAMPLE;
    char path[32];
    for (int i = 0; i < IPCN_TRAFFIC_PATHS + 10; i++) {
        snprintf(path, sizeof path, "t/%d", i);
        f.u.sample.path = ipcn__str_of(path);
        f.u.sample.data = ipcn__blob_of("abcd", 4);
        ipcn__traffic_in(&nd, &lk, &f);
    }
    assert_non_null(lk.traffic);
    assert_int_equal(lk.traffic->used, IPCN_TRAFFIC_PATHS);
    assert_int_equal(lk.traffic->rest[IPCN__TV_SAMPLE].count, 10);
    assert_string_equal(lk.traffic->paths[3].path, "t/3");
    /* An invalid path is the rest's, never kept. */
    f.hdr.type = IPCN_F_REQUEST;
    f.u.request.path = ipcn__str_of("bad//path");
    ipcn__traffic_in(&nd, &lk, &f);
    assert_int_equal(lk.traffic->rest[IPCN__TV_REQUEST].count, 1);
    /* Other frames are not counted. */
    f.hdr.type = IPCN_F_ANNOUNCE;
    ipcn__traffic_in(&nd, &lk, &f);
    /* A path idle for a minute gives its place to a new one. */
    nd.round_ns = T0 + IPCN_TRAFFIC_IDLE_NS + W;
    f.hdr.type = IPCN_F_SET;
    f.u.set.path = ipcn__str_of("t/new");
    f.u.set.data = ipcn__blob_of("xy", 2);
    ipcn__traffic_in(&nd, &lk, &f);
    assert_int_equal(lk.traffic->used, IPCN_TRAFFIC_PATHS);
    assert_string_equal(lk.traffic->paths[0].path, "t/new");
    assert_int_equal(lk.traffic->paths[0].verb, IPCN__TV_SET);
    assert_int_equal(lk.traffic->paths[0].bytes, 2);
    ipcn__traffic_free(&lk);
    assert_null(lk.traffic);
}

/* ---- two nodes ---- */

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK)
        fail_msg("ipcn_node_open(%s): %d", name, st);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static const ipcn_traffic_item *item(const ipcn_traffic_list *tl,
                                     const char *path)
{
    for (size_t i = 0; i < tl->count; i++)
        if (!strcmp(tl->items[i]->path, path))
            return tl->items[i];
    return NULL;
}

static void sleep_until(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull),
                          (long)(ns % 1000000000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* Publish on both paths for the time given, steady at base/s, burst at
 * burst_rate/s (catching up when late). */
static void publish_for(ipcn_node *a, uint64_t ns, double base,
                        double burst_rate, uint64_t *sent_s, uint64_t *sent_b)
{
    uint64_t start = ipcn__now_mono_ns(), end = start + ns;
    uint64_t s0 = *sent_s, b0 = *sent_b;
    for (uint64_t now = start; now < end; now = ipcn__now_mono_ns()) {
        double el = (double)(now - start) / 1e9;
        while (*sent_s - s0 < (uint64_t)(el * base) + 1) {
            assert_int_equal(ipcn_publish(a, "tr/steady", "s", 1), IPCN_OK);
            ++*sent_s;
        }
        while (*sent_b - b0 < (uint64_t)(el * burst_rate) + 1) {
            assert_int_equal(ipcn_publish(a, "tr/burst", "bbbb", 4), IPCN_OK);
            ++*sent_b;
        }
        sleep_until(now + 5000000); /* 5 ms */
    }
}

static void test_two_nodes(void **state)
{
    (void)state;
    tu_net_dir();
    ipcn_node *a = open_node("tr.a"), *b = open_node("tr.b");
    ipcn_sub sub = {0};
    assert_int_equal(ipcn_subscribe(b, "tr/**", 1024, NULL, NULL, &sub),
                     IPCN_OK);
    assert_true(IPCN_IS_OK(ipcn_announce(a, "tr/steady", IPCN_STREAM, "",
                                         NULL, 0)));
    assert_true(IPCN_IS_OK(ipcn_announce(a, "tr/burst", IPCN_STREAM, "",
                                         NULL, 0)));
    assert_int_equal(ipcn_node_wait_peers(a, 1, 10000), IPCN_OK);
    /* The subscription has reached a when its publish has a receiver. */
    ipcn_traffic_list *tl = NULL;
    uint64_t end = ipcn__now_mono_ns() + 10 * 1000000000ull;
    for (;;) {
        assert_int_equal(ipcn_publish(a, "tr/steady", "s", 1), IPCN_OK);
        assert_int_equal(ipcn_traffic(b, "tr.a", &tl), IPCN_OK);
        size_t c = tl->count;
        ipcn_traffic_list_free(tl);
        if (c)
            break;
        assert_true(ipcn__now_mono_ns() < end);
        usleep(10000);
    }
    /* The anomaly rule, as the policy's detect section would set it. */
    ipcn__node_lock(b);
    b->policy->guard.detect.anomaly_factor = 10;
    b->policy->guard.detect.anomaly_ms = 1500;
    ipcn__node_unlock(b);
    uint64_t ss = 0, sb = 0;
    /* 7 s at 20/s on both: past the warm-up. */
    publish_for(a, 7 * W, 20, 20, &ss, &sb);
    assert_int_equal(ipcn_traffic(b, NULL, &tl), IPCN_OK);
    const ipcn_traffic_item *it = item(tl, "tr/burst");
    assert_non_null(it);
    printf("# normal of tr/burst %.1f/s, now %.1f/s\n", it->rate_per_s,
           it->rate_now);
    assert_int_equal(it->anomalies, 0);
    ipcn_traffic_list_free(tl);
    /* 20x on tr/burst until b flags it (at most 30 s). */
    uint64_t flagged = 0;
    end = ipcn__now_mono_ns() + 30 * 1000000000ull;
    while (!flagged && ipcn__now_mono_ns() < end) {
        publish_for(a, W / 2, 20, 400, &ss, &sb);
        assert_int_equal(ipcn_traffic(b, "tr.a", &tl), IPCN_OK);
        it = item(tl, "tr/burst");
        flagged = it ? it->anomalies : 0;
        if (flagged)
            printf("# flagged: normal %.1f/s, now %.1f/s, %llu samples\n",
                   it->rate_per_s, it->rate_now,
                   (unsigned long long)it->count);
        ipcn_traffic_list_free(tl);
    }
    assert_int_equal(flagged, 1);
    assert_int_equal(ipcn_traffic(b, "tr.a", &tl), IPCN_OK);
    it = item(tl, "tr/steady");
    assert_non_null(it);
    assert_int_equal(it->anomalies, 0); /* steady traffic is normal */
    assert_false(it->anomalous);
    assert_int_equal(it->verb, IPCN_TRAFFIC_SAMPLE);
    assert_string_equal(it->peer, "tr.a");
    assert_true(it->size >= sizeof *it);
    assert_true(item(tl, "tr/burst")->anomalous);
    ipcn_traffic_list_free(tl);
    /* Another node's picture through its node service. */
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(a, "@sys/tr.b/traffic", NULL, 0, NULL, &m,
                                  10000), IPCN_OK);
    assert_string_equal(m->encoding, "cbor");
    assert_int_equal(ipcn_cbor_check(m->data, m->len, 0), IPCN_OK);
    assert_non_null(memmem(m->data, m->len, "tr/burst", 8));
    assert_non_null(memmem(m->data, m->len, "anomalous\xf5", 10));
    ipcn_msg_free(m);
    /* ... of one peer (a CBOR {"peer": NAME}); of its own. */
    static const uint8_t one[] = {0xa1, 0x64, 'p', 'e', 'e', 'r',
                                  0x64, 't', 'r', '.', 'a'};
    assert_int_equal(ipcn_request(a, "@sys/tr.b/traffic", one, sizeof one,
                                  "cbor", &m, 10000), IPCN_OK);
    assert_non_null(memmem(m->data, m->len, "tr/steady", 9));
    ipcn_msg_free(m);
    assert_int_equal(ipcn_request(b, "@sys/tr.b/traffic", one, sizeof one,
                                  "cbor", &m, 10000), IPCN_OK);
    assert_non_null(memmem(m->data, m->len, "tr/steady", 9));
    ipcn_msg_free(m);
    m = NULL;
    /* Refusals: a bad body (200, with why), no such service or node
     * (203), a query (204), an announcement under @sys/ (200). */
    assert_int_equal(ipcn_request(a, "@sys/tr.b/traffic", "x", 1, "", &m,
                                  10000), IPCN_BAD_REQUEST);
    assert_non_null(m);
    assert_string_equal(m->encoding, "text/plain");
    ipcn_msg_free(m);
    m = NULL;
    static const uint8_t nobody[] = {0xa1, 0x64, 'p', 'e', 'e', 'r',
                                     0x62, 'z', 'z'};
    assert_int_equal(ipcn_request(a, "@sys/tr.b/traffic", nobody,
                                  sizeof nobody, "cbor", &m, 10000),
                     IPCN_NOT_FOUND);
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(ipcn_request(a, "@sys/tr.b/nothing", NULL, 0, NULL, &m,
                                  10000), IPCN_NOT_FOUND);
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(ipcn_request(a, "@sys/nobody/traffic", NULL, 0, NULL, &m,
                                  10000), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_request(a, "@sys/tr.b", NULL, 0, NULL, &m, 10000),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_query(a, "@sys/tr.b/traffic", &m, 10000),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_offer(a, "@sys/tr.a/mine", "", NULL, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce(a, "@sys/x", IPCN_DATA, "", NULL, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_traffic(b, "nobody", &tl), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_traffic(NULL, NULL, &tl), IPCN_BAD_REQUEST);
    assert_string_equal(ipcn_traffic_verb_str(IPCN_TRAFFIC_SET), "set");
    assert_string_equal(ipcn_traffic_verb_str(9), "?");
    ipcn_traffic_list_free(NULL);
    /* Nothing of it is a resource. */
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(a, "**", IPCN_ANY, &rl), IPCN_OK);
    for (size_t i = 0; i < rl->count; i++)
        assert_true(strncmp(rl->items[i].path, "@sys", 4) != 0);
    ipcn_resource_list_free(rl);
    ipcn_node_close(a);
    ipcn_node_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ewma),
        cmocka_unit_test(test_anomaly),
        cmocka_unit_test(test_warmup_floor),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_two_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
