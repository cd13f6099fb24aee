/* SPDX-License-Identifier: MIT */
/*
 * test_anomaly.c — the anomaly rule of the network policy (detect:
 * anomaly: {factor: 10, for: 1500ms}) with the library as shipped: a
 * victim node (in this process, on its own thread) serves an echo; an
 * innocent library node calls it at a steady 20 requests a second
 * throughout; a raw client that does not use the library calls it at the
 * same rate, then at 20 times that rate until the victim flags it (a
 * bounded wait, no timing asserted).  The rogue's path is flagged, as
 * ipcn_traffic() and the victim's node service tell; the innocent's
 * steady traffic never is.  Under a reputation section where one anomaly
 * is enough, the offence it is charged with quarantines the rogue (its link
 * closed with ERROR 205) and the innocent goes on.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"

#define VICTIM "anv"
#define BASE_HZ 20

static ipcn_node *victim, *innocent;
static struct {
    pthread_t t;
    int stop, fail;
    unsigned ok;
} I;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int on_echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)user;
    return ipcn_reply_set(ctx, req->data, req->len, req->encoding);
}

/* The innocent: BASE_HZ requests a second, on the clock. */
static void *innocent_main(void *arg)
{
    (void)arg;
    uint64_t start = mono_ns();
    for (uint64_t i = 0; !__atomic_load_n(&I.stop, __ATOMIC_ACQUIRE); i++) {
        ipcn_msg *m = NULL;
        int st = ipcn_request(innocent, "an/echo", "ok", 2, "", &m,
                              IO_TIMEOUT_MS);
        ipcn_msg_free(m);
        if (st == IPCN_OK)
            __atomic_add_fetch(&I.ok, 1, __ATOMIC_RELAXED);
        else
            __atomic_add_fetch(&I.fail, 1, __ATOMIC_RELAXED);
        uint64_t next = start + (i + 1) * (1000000000ull / BASE_HZ);
        uint64_t now = mono_ns();
        if (next > now)
            usleep((useconds_t)((next - now) / 1000));
    }
    return NULL;
}

static int setup(void **state)
{
    bool rep = *state && *(const int *)*state;
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/%s.sock",
             raw_target.dir, VICTIM);
    char policy[600];
    snprintf(policy, sizeof policy, "%s/anomaly-policy.yaml", raw_target.dir);
    FILE *f = fopen(policy, "w");
    assert_non_null(f);
    fputs("version: 1\n"
          "default: allow\n"
          "detect:\n"
          "  anomaly: {factor: 10, for: 1500ms}\n"
          "  action: report\n",
          f);
    if (rep) /* one anomaly (20) is enough */
        fputs("reputation: {quarantine_below: -10, quarantine_for: 1min}\n",
              f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(policy, 0644), 0);
    setenv("IPCNET_POLICY", policy, 1);
    assert_int_equal(ipcn_node_open(&victim, VICTIM, NULL), IPCN_OK);
    assert_int_equal(ipcn_offer(victim, "an/echo", "", on_echo, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(victim), IPCN_OK);
    assert_int_equal(ipcn_node_open(&innocent, "innocent", NULL), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(innocent), IPCN_OK);
    assert_int_equal(ipcn_node_wait_synced(innocent, IO_TIMEOUT_MS), IPCN_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    raw_free_all();
    ipcn_node_close(innocent);
    ipcn_node_close(victim);
    return 0;
}

/* The victim's item of peer prefix on an/echo, copied (count 0: none). */
static ipcn_traffic_item item_of(const char *prefix)
{
    ipcn_traffic_item got = {0};
    ipcn_traffic_list *tl = NULL;
    assert_int_equal(ipcn_traffic(victim, NULL, &tl), IPCN_OK);
    for (size_t i = 0; i < tl->count; i++)
        if (!strncmp(tl->items[i]->peer, prefix, strlen(prefix)) &&
            !strcmp(tl->items[i]->path, "an/echo") &&
            tl->items[i]->verb == IPCN_TRAFFIC_REQUEST)
            got = *tl->items[i];
    ipcn_traffic_list_free(tl);
    got.peer = got.path = NULL; /* they went with the list */
    return got;
}

enum until { UNTIL_TIME, UNTIL_FLAGGED, UNTIL_CLOSED };

/* The rogue sends requests at hz for ns, or until the victim flags it or
 * closes its link, reading what comes back meanwhile.  Returns the
 * requests sent. */
static uint64_t rogue_send(raw *r, double hz, uint64_t ns, enum until until,
                           uint64_t *corr)
{
    uint64_t start = mono_ns(), sent = 0, last_look = start;
    for (uint64_t now = start; now - start < ns; now = mono_ns()) {
        uint64_t due = (uint64_t)((double)(now - start) / 1e9 * hz) + 1;
        B.len = 0;
        for (; sent < due; sent++)
            enc_request(&B, T_REQUEST, r->id, ++*corr, "an/echo", "x", 1);
        size_t len = B.len;
        if (len && raw_write_ex(r, B.p, len, true, IO_TIMEOUT_MS) != len &&
            until != UNTIL_CLOSED)
            fail_msg("the victim stopped taking the rogue's requests");
        B.len = 0;
        raw_fill(r, 0);
        raw_drain(r);
        if (until == UNTIL_CLOSED && (r->eof || r->errors[205]))
            break;
        if (until == UNTIL_FLAGGED && now - last_look > 200000000ull) {
            last_look = now;
            if (item_of("hostile-").anomalies)
                break;
        }
        usleep(2000);
    }
    return sent;
}

static void innocent_start(void)
{
    memset(&I, 0, sizeof I);
    assert_int_equal(pthread_create(&I.t, NULL, innocent_main, NULL), 0);
}

/* The innocent's steady traffic is normal, and it was served. */
static void innocent_check(void)
{
    __atomic_store_n(&I.stop, 1, __ATOMIC_RELEASE);
    pthread_join(I.t, NULL);
    ipcn_traffic_item in = item_of("innocent");
    printf("# the innocent: normal %.1f/s, %llu requests, %u answered\n",
           in.rate_per_s, (unsigned long long)in.count, I.ok);
    assert_true(in.count > 0);
    assert_int_equal(in.anomalies, 0);
    assert_false(in.anomalous);
    assert_int_equal(I.fail, 0);
}

static void test_anomaly(void **state)
{
    (void)state;
    innocent_start();
    raw *r = raw_link();
    uint64_t corr = 0;
    /* The normal: BASE_HZ for 7 s (past the warm-up of 5 windows). */
    rogue_send(r, BASE_HZ, 7000000000ull, UNTIL_TIME, &corr);
    ipcn_traffic_item it = item_of("hostile-");
    printf("# the rogue's normal: %.1f/s (now %.1f/s), %llu requests\n",
           it.rate_per_s, it.rate_now, (unsigned long long)it.count);
    assert_true(it.count > 0);
    assert_int_equal(it.anomalies, 0);
    /* 20 times that until it is flagged: at most 30 s. */
    uint64_t t0 = mono_ns();
    uint64_t sent = rogue_send(r, 20 * BASE_HZ, 30000000000ull, UNTIL_FLAGGED,
                               &corr);
    it = item_of("hostile-");
    printf("# flagged after %.1f s at 20x (%llu requests): normal %.1f/s, "
           "now %.1f/s, %llu episode(s)\n", (double)(mono_ns() - t0) / 1e9,
           (unsigned long long)sent, it.rate_per_s, it.rate_now,
           (unsigned long long)it.anomalies);
    assert_true(it.anomalies >= 1);
    /* The node service says so too (the innocent may call it). */
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(innocent, "@sys/" VICTIM "/traffic", NULL, 0,
                                  NULL, &m, IO_TIMEOUT_MS), IPCN_OK);
    assert_non_null(memmem(m->data, m->len, "hostile-", 8));
    assert_non_null(memmem(m->data, m->len, "anomalies", 9));
    ipcn_msg_free(m);
    /* Without a reputation section, nobody is quarantined for it. */
    ipcn_node_stats st = {.size = sizeof st};
    assert_int_equal(ipcn_node_get_stats(victim, &st), IPCN_OK);
    assert_int_equal(st.quarantined, 0);
    raw_ping(r, 1);
    innocent_check();
}

/* With a reputation section under which one anomaly is enough, the
 * offence quarantines the rogue: its link closes with ERROR 205; the
 * innocent goes on. */
static void test_quarantine(void **state)
{
    (void)state;
    innocent_start();
    raw *r = raw_link();
    uint64_t corr = 0;
    rogue_send(r, BASE_HZ, 7000000000ull, UNTIL_TIME, &corr);
    assert_false(r->eof);
    rogue_send(r, 20 * BASE_HZ, 30000000000ull, UNTIL_CLOSED, &corr);
    /* Read to its end: the ERROR 205, then the close. */
    for (uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
         !r->eof && tu_now_ms() < end;) {
        raw_fill(r, 50);
        raw_drain(r);
    }
    assert_true(r->eof);
    assert_int_equal(r->errors[205], 1);
    ipcn_node_stats st = {.size = sizeof st};
    assert_int_equal(ipcn_node_get_stats(victim, &st), IPCN_OK);
    assert_int_equal(st.quarantined, 1);
    innocent_check();
}

int main(void)
{
    static const int no = 0, yes = 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_anomaly, setup,
                                                 teardown, (void *)&no),
        cmocka_unit_test_prestate_setup_teardown(test_quarantine, setup,
                                                 teardown, (void *)&yes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
