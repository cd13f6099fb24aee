/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/bench_dds.c - ipcnet-bench-dds: the DDS bridge's added
 * latency, against a direct Cyclone DDS pair, in one run (bench_dds.sh
 * starts the echo peer and the bridge).  A ping of --size bytes goes out
 * and comes back from `dds_ros_peer bench-echo` (rt/bench/ping ->
 * rt/bench/pong, ipcnet_msgs/msg/Cbor):
 *   direct   this program writes and reads the two topics itself;
 *   bridged  this program is an IPCNet node: it publishes the stream
 *            bench/ping, which the bridge writes to rt/bench/ping, and
 *            reads bench/pong, which the bridge imports from rt/bench/pong
 *            (two crossings of the bridge per round trip).
 * One ping at a time; prints one line: mode, size, count, round trips per
 * second and the round trip's median, p90 and p99 in microseconds.
 *
 *   ipcnet-bench-dds direct|bridged [--count N] [--size BYTES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dds/dds.h>

#include "ipcnet.h"
#include "ipcnet_msgs.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *mode, size_t size, uint64_t *rtt, int n,
                   uint64_t total_ns)
{
    qsort(rtt, (size_t)n, sizeof *rtt, cmp_u64);
    printf("%-8s size %7zu  count %6d  %9.0f round trips/s  median %8.1f us  "
           "p90 %8.1f us  p99 %8.1f us\n", mode, size, n,
           n / (total_ns / 1e9), rtt[n / 2] / 1e3, rtt[n * 9 / 10] / 1e3,
           rtt[n * 99 / 100] / 1e3);
}

static dds_entity_t endpoint(dds_entity_t pp, const char *name, int writer)
{
    dds_entity_t t = dds_create_topic(pp, &ipcnet_msgs_msg_dds__Cbor__desc, name,
                                      NULL, NULL);
    dds_qos_t *q = dds_create_qos();
    dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
    dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 10);
    dds_entity_t e = writer ? dds_create_writer(pp, t, q, NULL)
                            : dds_create_reader(pp, t, q, NULL);
    dds_delete_qos(q);
    return e;
}

/* The pong of ping id, waited for up to timeout_ms: 1, else 0. */
static int dds_pong(dds_entity_t ws, dds_entity_t r, uint64_t id, int timeout_ms)
{
    uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (now_ns() < end) {
        dds_waitset_wait(ws, NULL, 0, DDS_MSECS(10));
        void *s[8] = {NULL};
        dds_sample_info_t in[8];
        dds_return_t n = dds_take(r, s, in, 8, 8);
        int got = 0;
        for (dds_return_t i = 0; i < n; i++) {
            const ipcnet_msgs_msg_dds__Cbor_ *c = s[i];
            uint64_t v;
            if (in[i].valid_data && c->data._length >= 8) {
                memcpy(&v, c->data._buffer, 8);
                got |= v == id;
            }
        }
        if (n > 0)
            dds_return_loan(r, s, n);
        if (got)
            return 1;
    }
    return 0;
}

static int run_direct(int count, size_t size, uint64_t *rtt)
{
    dds_entity_t pp = dds_create_participant(DDS_DOMAIN_DEFAULT, NULL, NULL);
    if (pp < 0)
        return fprintf(stderr, "bench: participant: %s\n", dds_strretcode(pp)), 1;
    dds_entity_t w = endpoint(pp, "rt/bench/ping", 1), r = endpoint(pp, "rt/bench/pong", 0);
    dds_entity_t ws = dds_create_waitset(pp);
    dds_waitset_attach(ws, dds_create_readcondition(r, DDS_ANY_STATE), 0);
    uint8_t *buf = calloc(1, size);
    ipcnet_msgs_msg_dds__Cbor_ m;
    memset(&m, 0, sizeof m);
    m.encoding = "application/octet-stream";
    m.data._buffer = buf;
    m.data._length = m.data._maximum = (uint32_t)size;
    /* until the echo answers: discovery done both ways */
    int ok = 0;
    for (uint64_t id = 1u << 31; !ok && id < (1u << 31) + 100; id++) {
        memcpy(buf, &id, 8);
        dds_write(w, &m);
        ok = dds_pong(ws, r, id, 100);
    }
    int rc = 1;
    if (!ok) {
        fprintf(stderr, "bench: no echo on rt/bench/pong (is bench-echo running?)\n");
        goto out;
    }
    uint64_t t0 = now_ns();
    for (int i = 0; i < count; i++) {
        uint64_t id = (uint64_t)i, t = now_ns();
        memcpy(buf, &id, 8);
        dds_write(w, &m);
        if (!dds_pong(ws, r, id, 2000)) {
            fprintf(stderr, "bench: direct ping %d lost\n", i);
            goto out;
        }
        rtt[i] = now_ns() - t;
    }
    report("direct", size, rtt, count, now_ns() - t0);
    rc = 0;
out:
    free(buf);
    dds_delete(pp);
    return rc;
}

static int ipcn_pong(ipcn_node *node, ipcn_sub sub, uint64_t id, int timeout_ms)
{
    uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (now_ns() < end) {
        ipcn_msg *m = NULL;
        if (ipcn_sub_take(node, sub, &m, 10) != IPCN_OK)
            continue;
        uint64_t v = 0;
        int got = m->status == IPCN_OK && m->len >= 8 && (memcpy(&v, m->data, 8), v == id);
        ipcn_msg_free(m);
        if (got)
            return 1;
    }
    return 0;
}

static int run_bridged(int count, size_t size, uint64_t *rtt)
{
    ipcn_node *node;
    ipcn_sub sub;
    if (ipcn_node_open(&node, "bench-dds", NULL) != IPCN_OK)
        return fprintf(stderr, "bench: cannot join the IPCNet network\n"), 1;
    int rc = 1;
    uint8_t *buf = calloc(1, size);
    if (ipcn_announce(node, "bench/ping", IPCN_STREAM, "application/octet-stream",
                      NULL, 0) / 100 != 1 ||
        ipcn_subscribe(node, "bench/pong", 64, NULL, NULL, &sub) != IPCN_OK)
        goto out;
    int ok = 0;
    for (uint64_t id = 1u << 31; !ok && id < (1u << 31) + 100; id++) {
        memcpy(buf, &id, 8);
        ipcn_publish(node, "bench/ping", buf, size);
        ok = ipcn_pong(node, sub, id, 100);
    }
    if (!ok) {
        fprintf(stderr, "bench: no pong on bench/pong (is the bridge running?)\n");
        goto out;
    }
    uint64_t t0 = now_ns();
    for (int i = 0; i < count; i++) {
        uint64_t id = (uint64_t)i, t = now_ns();
        memcpy(buf, &id, 8);
        ipcn_publish(node, "bench/ping", buf, size);
        if (!ipcn_pong(node, sub, id, 2000)) {
            fprintf(stderr, "bench: bridged ping %d lost\n", i);
            goto out;
        }
        rtt[i] = now_ns() - t;
    }
    report("bridged", size, rtt, count, now_ns() - t0);
    rc = 0;
out:
    free(buf);
    ipcn_node_close(node);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 1000;
    size_t size = 64;
    if (argc < 2 || (strcmp(argv[1], "direct") && strcmp(argv[1], "bridged"))) {
        fprintf(stderr, "usage: ipcnet-bench-dds direct|bridged [--count N] [--size BYTES]\n");
        return 2;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--count"))
            count = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--size"))
            size = (size_t)strtoul(argv[i + 1], NULL, 10);
    }
    if (count < 1 || count > 10000000 || size < 8 || size > (64u << 20)) {
        fprintf(stderr, "ipcnet-bench-dds: --count 1.., --size 8..64 MiB\n");
        return 2;
    }
    uint64_t *rtt = calloc((size_t)count, sizeof *rtt);
    if (!rtt)
        return 1;
    int rc = !strcmp(argv[1], "direct") ? run_direct(count, size, rtt)
                                        : run_bridged(count, size, rtt);
    free(rtt);
    return rc;
}
