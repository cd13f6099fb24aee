/* SPDX-License-Identifier: MIT */
/*
 * bench_mqtt.c — ipcnet-bench-mqtt: what the MQTT bridge adds.  In one run,
 * through one broker, one libmosquitto subscriber receives
 *   direct:  messages a libmosquitto client publishes on bench/direct;
 *   bridged: samples an IPCNet node publishes on the stream bench/mqtt,
 *            which a running ipcnet-bridge-mqtt (exporting the bench/ paths)
 *            publishes on PREFIX bench/mqtt.
 * Latency: one message at a time, publish to receipt (p50, p99, µs).
 * Throughput: N messages back to back, until the last arrives (msg/s).
 * bench/mqtt.sh starts the broker and the bridge and runs this.
 *
 *   ipcnet-bench-mqtt --broker mqtt://127.0.0.1:PORT [--count N] [--size B]
 *                     [--qos 0|1] [--prefix ipcnet/] [--network NAME]
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>

#include "ipcnet.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uint64_t got_seq, got_count;
static char want_topic[256];

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *msg)
{
    (void)m, (void)u;
    if (msg->payloadlen < 8)
        return;
    uint64_t seq;
    memcpy(&seq, msg->payload, 8);
    pthread_mutex_lock(&mu);
    if (!strcmp(msg->topic, want_topic)) {
        got_seq = seq;
        got_count++;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
}

/* Wait until the message seq arrived (or count reached n); false after ms. */
static bool wait_seq(uint64_t seq, uint64_t n, int ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (rc == 0 && (n ? got_count < n : got_seq != seq))
        rc = pthread_cond_timedwait(&cv, &mu, &dl);
    bool ok = n ? got_count >= n : got_seq == seq;
    pthread_mutex_unlock(&mu);
    return ok;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct side {
    const char *name;
    struct mosquitto *pub; /* direct: a libmosquitto publisher */
    ipcn_node *node;       /* bridged: an IPCNet publisher */
    int qos;
} side;

static void send_one(side *s, uint64_t seq, unsigned char *buf, size_t size)
{
    memcpy(buf, &seq, 8);
    if (s->pub)
        mosquitto_publish(s->pub, NULL, "bench/direct", (int)size, buf, s->qos, false);
    else
        ipcn_publish(s->node, "bench/mqtt", buf, size);
}

static int run(side *s, const char *topic, int count, size_t size, uint64_t *seqbase)
{
    unsigned char *buf = calloc(1, size);
    uint64_t *lat = calloc((size_t)count, sizeof *lat);
    if (!buf || !lat)
        return 1;
    pthread_mutex_lock(&mu);
    snprintf(want_topic, sizeof want_topic, "%s", topic);
    pthread_mutex_unlock(&mu);
    /* warm up: until one message gets through (the bridge's subscription),
     * up to 60 s on a loaded machine */
    bool through = false;
    for (int i = 0; i < 600 && !through; i++) {
        uint64_t seq = ++*seqbase;
        send_one(s, seq, buf, size);
        through = wait_seq(seq, 0, 100);
    }
    if (!through) {
        fprintf(stderr, "%s: nothing came through on %s\n", s->name, topic);
        free(buf);
        free(lat);
        return 1;
    }
    int n = 0;
    for (int i = 0; i < count; i++) {
        uint64_t seq = ++*seqbase, t0 = now_ns();
        send_one(s, seq, buf, size);
        if (wait_seq(seq, 0, 2000))
            lat[n++] = now_ns() - t0;
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
    pthread_mutex_lock(&mu);
    got_count = 0;
    pthread_mutex_unlock(&mu);
    uint64_t t0 = now_ns();
    for (int i = 0; i < count; i++)
        send_one(s, ++*seqbase, buf, size);
    bool all = wait_seq(0, (uint64_t)count, 10000);
    double secs = (double)(now_ns() - t0) / 1e9;
    pthread_mutex_lock(&mu);
    uint64_t recv = got_count;
    pthread_mutex_unlock(&mu);
    printf("mqtt %-8s size %zu qos %d: latency p50 %.1f us p99 %.1f us (%d/%d); "
           "throughput %.0f msg/s (%" PRIu64 "/%d received%s)\n",
           s->name, size, s->qos, n ? lat[n / 2] / 1e3 : 0.0,
           n ? lat[(size_t)n * 99 / 100 < (size_t)n ? (size_t)n * 99 / 100 : (size_t)n - 1] / 1e3
             : 0.0,
           n, count, (double)recv / secs, recv, count, all ? "" : ", some lost");
    free(buf);
    free(lat);
    return 0;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *prefix = "ipcnet/", *network = NULL;
    int port = 1883, count = 1000, qos = 0;
    size_t size = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--broker")) {
            static char h[256];
            if (sscanf(argv[i + 1], "mqtt://%255[^:]:%d", h, &port) < 1) {
                fprintf(stderr, "--broker mqtt://HOST:PORT\n");
                return 2;
            }
            host = h;
        } else if (!strcmp(argv[i], "--count"))
            count = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--size"))
            size = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--qos"))
            qos = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--prefix"))
            prefix = argv[i + 1];
        else if (!strcmp(argv[i], "--network"))
            network = argv[i + 1];
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (count < 1 || size < 8 || (qos != 0 && qos != 1)) {
        fprintf(stderr, "--count >= 1, --size >= 8, --qos 0|1\n");
        return 2;
    }
    mosquitto_lib_init();
    struct mosquitto *sub = mosquitto_new(NULL, true, NULL);
    struct mosquitto *pub = mosquitto_new(NULL, true, NULL);
    if (!sub || !pub)
        return 1;
    mosquitto_message_callback_set(sub, on_message);
    if (mosquitto_connect(sub, host, port, 30) || mosquitto_connect(pub, host, port, 30)) {
        fprintf(stderr, "cannot connect to %s:%d\n", host, port);
        return 1;
    }
    char bridged[300];
    snprintf(bridged, sizeof bridged, "%sbench/mqtt", prefix);
    mosquitto_subscribe(sub, NULL, "bench/direct", qos);
    mosquitto_subscribe(sub, NULL, bridged, qos);
    mosquitto_loop_start(sub);
    mosquitto_loop_start(pub);

    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.network = network;
    ipcn_node *node = NULL;
    int st = ipcn_node_open(&node, "bench-mqtt", &o);
    if (st != IPCN_OK || (st = ipcn_announce(node, "bench/mqtt", IPCN_STREAM,
                                             "application/octet-stream", NULL, 0)) > 101 ||
        (st = ipcn_node_start_thread(node)) != IPCN_OK) {
        fprintf(stderr, "IPCNet: %d %s\n", st, ipcn_status_str(st));
        return 1;
    }
    uint64_t seq = 0;
    side direct = {"direct", pub, NULL, qos};
    side viabr = {"bridged", NULL, node, qos};
    int rc = run(&direct, "bench/direct", count, size, &seq);
    rc |= run(&viabr, bridged, count, size, &seq);
    ipcn_node_close(node);
    mosquitto_disconnect(pub);
    mosquitto_disconnect(sub);
    mosquitto_loop_stop(pub, false);
    mosquitto_loop_stop(sub, false);
    mosquitto_destroy(pub);
    mosquitto_destroy(sub);
    mosquitto_lib_cleanup();
    return rc;
}
