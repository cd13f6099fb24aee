/* SPDX-License-Identifier: MIT */
/*
 * r_limits — the peers of the rate-limit tests (test_limits_rate.c), each
 * a process of its own, bounded in count and time.
 *
 *   ipcn-test-r_limits rogue-req NAME PATH MS MAXN OUT
 *       requests PATH as fast as it can (one after the other) for MS or
 *       MAXN requests, whichever first; OUT gets
 *       "passed refused other min_retry_ms no_retry elapsed_ms".
 *   ipcn-test-r_limits innocent-req NAME PATH N GO OUT
 *       once the file GO exists, N requests of PATH, each of which must be
 *       answered 100 with its echo; OUT gets "ok bad first_bad_status
 *       p50_us p99_us" (the round trips' percentiles).
 *   ipcn-test-r_limits rogue-pub NAME PATH MS MAXN OUT
 *       announces the stream PATH, waits for a subscriber, publishes as
 *       fast as it can for MS or MAXN samples; OUT gets
 *       "published elapsed_ms".
 *   The rogues stay linked after writing OUT until OUT.done exists (at
 *   most 20 s), so that the test reads their counters on the victim.
 *   ipcn-test-r_limits ticker NAME PATH K GO
 *       announces the stream PATH, waits for a subscriber and the file
 *       GO, publishes K samples at 1 kHz (payload: the index).
 *   ipcn-test-r_limits listen NAME PATTERN K OUT
 *       subscribes to PATTERN and takes K samples (at most 60 s); OUT gets
 *       "received gaps lost dropped" (gaps: samples whose seq is not the
 *       one after the previous one's).
 *
 * Exit 0 when it did its part (the test judges the figures), 2 for bad
 * arguments, 3 when the node could not be opened, 4 when it timed out
 * waiting.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"

#define WAIT_MS 30000

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK) {
        fprintf(stderr, "r_limits: open %s: %d\n", name, st);
        exit(3);
    }
    if (ipcn_node_start_thread(n) != IPCN_OK)
        exit(3);
    return n;
}

static void wait_found(ipcn_node *n, const char *path)
{
    uint64_t end = now_ms() + WAIT_MS;
    for (;;) {
        ipcn_resource_list *rl = NULL;
        size_t k = 0;
        if (ipcn_find(n, path, IPCN_ANY, &rl) == IPCN_OK) {
            k = rl->count;
            ipcn_resource_list_free(rl);
        }
        if (k)
            return;
        if (now_ms() > end)
            exit(4);
        usleep(2000);
    }
}

/* Has a peer told this node a pattern (it subscribes to what we publish)? */
static void wait_subscriber(ipcn_node *n, const char *self)
{
    uint64_t end = now_ms() + WAIT_MS;
    for (;;) {
        ipcn_subscription_list *sl = NULL;
        bool any = false;
        if (ipcn_subscriptions(n, &sl) == IPCN_OK) {
            for (size_t i = 0; i < sl->count; i++)
                any |= strcmp(sl->items[i].node, self) != 0;
            ipcn_subscription_list_free(sl);
        }
        if (any)
            return;
        if (now_ms() > end)
            exit(4);
        usleep(2000);
    }
}

static void wait_file(const char *path)
{
    uint64_t end = now_ms() + WAIT_MS;
    while (access(path, F_OK) != 0) {
        if (now_ms() > end)
            exit(4);
        usleep(1000);
    }
}

static void write_out(const char *path, const char *text)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        exit(5);
}

/* Stay linked until the test has read our counters on the victim (the
 * file OUT.done), at most 20 s. */
static void linger(const char *out)
{
    char done[600];
    snprintf(done, sizeof done, "%s.done", out);
    uint64_t end = now_ms() + 20000;
    while (access(done, F_OK) != 0 && now_ms() < end)
        usleep(2000);
}

static int rogue_req(char **a)
{
    ipcn_node *n = open_node(a[0]);
    const char *path = a[1];
    uint64_t ms = strtoull(a[2], NULL, 10), maxn = strtoull(a[3], NULL, 10);
    wait_found(n, path);
    uint64_t passed = 0, refused = 0, other = 0, no_retry = 0;
    int min_retry = -1;
    uint64_t t0 = now_ms(), t1 = t0;
    for (uint64_t i = 0; i < maxn && (t1 = now_ms()) - t0 < ms; i++) {
        ipcn_msg *m = NULL;
        int st = ipcn_request(n, path, "flood", 5, "text/plain", &m, 5000);
        if (st == IPCN_OK) {
            passed++;
        } else if (st == IPCN_TOO_MANY_REQUESTS) {
            refused++;
            int r = ipcn_msg_retry_after_ms(m);
            if (r < 1)
                no_retry++;
            else if (min_retry < 0 || r < min_retry)
                min_retry = r;
        } else {
            other++;
        }
        ipcn_msg_free(m);
    }
    t1 = now_ms();
    char out[256];
    snprintf(out, sizeof out, "%llu %llu %llu %d %llu %llu\n",
             (unsigned long long)passed, (unsigned long long)refused,
             (unsigned long long)other, min_retry,
             (unsigned long long)no_retry, (unsigned long long)(t1 - t0));
    write_out(a[4], out);
    linger(a[4]);
    ipcn_node_close(n);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int innocent_req(char **a)
{
    ipcn_node *n = open_node(a[0]);
    const char *path = a[1];
    unsigned count = (unsigned)strtoul(a[2], NULL, 10);
    wait_found(n, path);
    wait_file(a[3]);
    unsigned ok = 0, bad = 0;
    int first_bad = 0;
    uint64_t *us = calloc(count ? count : 1, sizeof *us);
    if (!us)
        return 3;
    for (unsigned i = 0; i < count; i++) {
        char body[32];
        int len = snprintf(body, sizeof body, "innocent %u", i);
        ipcn_msg *m = NULL;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int st = ipcn_request(n, path, body, (size_t)len, "text/plain", &m,
                              10000);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        us[i] = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000u +
                (uint64_t)(t1.tv_nsec - t0.tv_nsec) / 1000u;
        if (st == IPCN_OK && m && m->len == (size_t)len &&
            !memcmp(m->data, body, (size_t)len)) {
            ok++;
        } else if (!bad++) {
            first_bad = st;
        }
        ipcn_msg_free(m);
    }
    qsort(us, count, sizeof *us, cmp_u64);
    char out[160];
    snprintf(out, sizeof out, "%u %u %d %llu %llu\n", ok, bad, first_bad,
             count ? (unsigned long long)us[count / 2] : 0ull,
             count ? (unsigned long long)us[count - 1 - count / 100] : 0ull);
    free(us);
    write_out(a[4], out);
    ipcn_node_close(n);
    return 0;
}

static int rogue_pub(char **a)
{
    ipcn_node *n = open_node(a[0]);
    const char *path = a[1];
    uint64_t ms = strtoull(a[2], NULL, 10), maxn = strtoull(a[3], NULL, 10);
    if (!IPCN_IS_OK(ipcn_announce(n, path, IPCN_STREAM, "text/plain", NULL,
                                  0)))
        return 4;
    wait_subscriber(n, a[0]);
    uint64_t published = 0;
    uint64_t t0 = now_ms(), t1 = t0;
    for (uint64_t i = 0; i < maxn && (t1 = now_ms()) - t0 < ms; i++)
        if (ipcn_publish(n, path, "flood-sample", 12) == IPCN_OK)
            published++;
    t1 = now_ms();
    char out[128];
    snprintf(out, sizeof out, "%llu %llu\n", (unsigned long long)published,
             (unsigned long long)(t1 - t0));
    write_out(a[4], out);
    linger(a[4]);
    ipcn_node_close(n);
    return 0;
}

static int ticker(char **a)
{
    ipcn_node *n = open_node(a[0]);
    const char *path = a[1];
    unsigned k = (unsigned)strtoul(a[2], NULL, 10);
    if (!IPCN_IS_OK(ipcn_announce(n, path, IPCN_STREAM, "text/plain", NULL,
                                  0)))
        return 4;
    wait_subscriber(n, a[0]);
    wait_file(a[3]);
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    for (unsigned i = 0; i < k; i++) {
        char body[32];
        int len = snprintf(body, sizeof body, "%u", i);
        ipcn_publish(n, path, body, (size_t)len);
        at.tv_nsec += 1000000;
        if (at.tv_nsec >= 1000000000) {
            at.tv_nsec -= 1000000000;
            at.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
    }
    usleep(300000);
    ipcn_node_close(n);
    return 0;
}

static int listen_(char **a)
{
    ipcn_node *n = open_node(a[0]);
    unsigned k = (unsigned)strtoul(a[2], NULL, 10);
    ipcn_sub sub;
    if (ipcn_subscribe(n, a[1], 1u << 16, NULL, NULL, &sub) != IPCN_OK)
        return 4;
    unsigned got = 0, gaps = 0;
    uint64_t last = 0, end = now_ms() + 60000;
    while (got < k && now_ms() < end) {
        ipcn_msg *m = NULL;
        if (ipcn_sub_take(n, sub, &m, 200) != IPCN_OK)
            continue;
        if (m->status == IPCN_OK) {
            if (got && m->seq != last + 1)
                gaps++;
            last = m->seq;
            got++;
        }
        ipcn_msg_free(m);
    }
    ipcn_sub_stats s = {.size = sizeof s};
    ipcn_sub_get_stats(n, sub, &s);
    char out[160];
    snprintf(out, sizeof out, "%u %u %llu %llu\n", got, gaps,
             (unsigned long long)s.lost, (unsigned long long)s.dropped);
    write_out(a[3], out);
    ipcn_node_close(n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *role = argv[1];
    char **a = argv + 2;
    int na = argc - 2;
    if (!strcmp(role, "rogue-req") && na == 5)
        return rogue_req(a);
    if (!strcmp(role, "innocent-req") && na == 5)
        return innocent_req(a);
    if (!strcmp(role, "rogue-pub") && na == 5)
        return rogue_pub(a);
    if (!strcmp(role, "ticker") && na == 4)
        return ticker(a);
    if (!strcmp(role, "listen") && na == 4)
        return listen_(a);
    return 2;
}
