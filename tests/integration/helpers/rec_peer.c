/* SPDX-License-Identifier: MIT */
/*
 * rec_peer.c — the other side of tests/integration/test_record.sh
 * (`ipcnet record` and `ipcnet play`):
 *
 *   rec_peer pub SECONDS
 *     publishes "rt/fast" (64 B, 1 kHz) and "rt/cam" (640x480 RGB, 30 Hz,
 *     loaned shared-memory slots), offers the service "rt/svc" (answers
 *     "answer K" to "call K") and calls it through the recorder's proxy
 *     "rt/svc_rec" every 100 ms; prints "publishing" once the recorder's
 *     subscription and proxy are seen, "done N" at the end.
 *   rec_peer pub-only SECONDS
 *     the same streams, at once and for SECONDS, no service, no waiting
 *     (for recorders that come and go: test_record_kill.sh).
 *   rec_peer sub FILE.mcap RATE
 *     subscribes to every path under rt/ and checks every sample against FILE.mcap (the
 *     recording played): the same sequence numbers and bytes (XXH3-64 of
 *     each against the recorded bytes, which are checked against what was
 *     published), each once;
 *     every request and reply recorded is "call K" / "answer K".  With
 *     RATE > 0 it measures the timing error: a sample's arrival (monotonic)
 *     minus its recorded log time / RATE, less the median of that, and
 *     prints its p50, p99 and max.  Exits 0 when each recorded sample came,
 *     identical, and nothing else did; prints what differs otherwise.
 *   rec_peer digest FILE.mcap...
 *     prints, a line per file, "messages N sha256 HEX complete|cut-off" as
 *     tests/interop/mcap_read.js does with the npm package @mcap/core.
 *
 * The payload of sample SEQ of a stream is a function of (path, SEQ), so
 * the recording is checked against what was published too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ipcnet.h"
#include "mcap.h"

#define CAM_W 640
#define CAM_H 480
#define CAM_BYTES (CAM_W * CAM_H * 3)

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fill(uint8_t *p, size_t n, uint64_t seq, uint8_t salt)
{
    if (salt == 2) { /* an image: smooth, as a camera's (compressible) */
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)((i / 3 % CAM_W) / 4 + (i / (3 * CAM_W)) / 3 + seq * 5 + i % 3 * 40);
        p[seq % n] ^= 0xff; /* and a byte that moves */
        return;
    }
    uint64_t x = seq * 0x9E3779B97F4A7C15ull + salt;
    for (size_t i = 0; i < n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (size_t k = 0; k < 8 && i + k < n; k++)
            p[i + k] = (uint8_t)(x >> (8 * k));
    }
}

static int expected(const char *path, uint64_t seq, const void *data, size_t len)
{
    static uint8_t *buf;
    if (!buf)
        buf = malloc(CAM_BYTES);
    size_t n = !strcmp(path, "rt/fast") ? 64 : !strcmp(path, "rt/cam") ? CAM_BYTES : 0;
    if (!n || len != n)
        return 0;
    fill(buf, n, seq, n == 64 ? 1 : 2);
    return memcmp(buf, data, n) == 0;
}

static int svc(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    (void)node;
    (void)user;
    int k;
    char out[32];
    if (sscanf(req->data, "call %d", &k) != 1)
        return IPCN_BAD_REQUEST;
    snprintf(out, sizeof out, "answer %d", k);
    ipcn_reply_set(ctx, out, strlen(out), "text/plain");
    return IPCN_OK;
}

static int has_sub(ipcn_node *n, const char *path)
{
    ipcn_subscription_list *sl = NULL;
    int k = 0;
    if (ipcn_subscriptions(n, &sl) == IPCN_OK) {
        for (size_t i = 0; i < sl->count; i++)
            k += sl->items[i].node_id != ipcn_node_id(n) &&
                 ipcn_pattern_match(sl->items[i].pattern, path);
        ipcn_subscription_list_free(sl);
    }
    return k;
}

static int run_pub(double secs, int calls_on)
{
    ipcn_node *n;
    if (ipcn_node_open(&n, "rec-pub", NULL) != IPCN_OK)
        return 2;
    ipcn_announce(n, "rt/fast", IPCN_STREAM, "application/octet-stream", NULL, 0);
    ipcn_announce(n, "rt/cam", IPCN_STREAM, "video/raw;format=rgb24;width=640;height=480",
                  NULL, 0);
    ipcn_offer(n, "rt/svc", "text/plain", svc, NULL);
    ipcn_node_start_thread(n);
    uint64_t give_up = mono_ns() + 20000000000ull;
    while (calls_on && !(has_sub(n, "rt/fast") && has_sub(n, "rt/cam") &&
                         ipcn_wait_for(n, "rt/svc_rec", IPCN_SERVICE, 0, NULL) == IPCN_OK)) {
        if (mono_ns() > give_up) {
            fprintf(stderr, "rec_peer pub: no recorder after 20 s\n");
            return 1;
        }
        usleep(10000);
    }
    printf("publishing\n");
    fflush(stdout);
    uint64_t t0 = mono_ns(), end = t0 + (uint64_t)(secs * 1e9);
    uint64_t fast = 0, cam = 0, calls = 0, sent = 0;
    uint8_t small[64];
    for (uint64_t tick = 1;; tick++) { /* a tick per ms */
        uint64_t at = t0 + tick * 1000000u;
        if (at >= end)
            break;
        struct timespec ts = {(time_t)(at / 1000000000u), (long)(at % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        fill(small, sizeof small, ++fast, 1);
        sent += ipcn_publish(n, "rt/fast", small, sizeof small) == IPCN_OK;
        if (tick % 33 == 0) {
            ipcn_loan *l;
            if (ipcn_loan_new(n, "rt/cam", CAM_BYTES, &l) == IPCN_OK) {
                fill(ipcn_loan_data(l), CAM_BYTES, ++cam, 2);
                sent += ipcn_loan_publish(n, l, CAM_BYTES) == IPCN_OK;
            }
        }
        if (calls_on && tick % 100 == 50) {
            char q[32];
            ipcn_msg *r = NULL;
            snprintf(q, sizeof q, "call %" PRIu64, ++calls);
            int st = ipcn_request(n, "rt/svc_rec", q, strlen(q), "text/plain", &r, 2000);
            if (st != IPCN_OK)
                fprintf(stderr, "rec_peer pub: call %" PRIu64 ": %d\n", calls, st);
            ipcn_msg_free(r);
        }
    }
    printf("done %" PRIu64 " samples %" PRIu64 " calls\n", sent, calls);
    fflush(stdout);
    ipcn_node_close(n);
    return 0;
}

/* ---- sub: the recording, then what is played ---- */

typedef struct exp_msg {
    uint16_t ch;
    uint64_t seq;
    uint64_t log;
    uint64_t got_at;   /* 0: not yet */
    uint64_t hash;     /* XXH3-64 of the recorded bytes */
    size_t len;
} exp_msg;

static exp_msg *ex;
static size_t nex, capex;
static const char *topic_of[65536];
static int stream_ch[65536];
static uint64_t last32[65536];
static long unexpected, dup_or_bad, requests, replies, bad_calls;
/* Provenance records (the companion channels, docs/protocol.md 21): each
 * follows its sample in the file and must name it (sequence, BLAKE2b-256
 * of the bytes recorded). */
static long prov_ok, prov_bad;
static uint64_t last_seq;
static const char *last_topic;
static uint8_t last_digest[32];

static void check_prov(const mcap_message *m)
{
    ipcn_prov_record rec;
    if (ipcn_prov_decode(m->data, m->len, &rec) != IPCN_OK || !last_topic ||
        strcmp(last_topic, m->channel->topic) || (uint32_t)rec.seq != m->seq ||
        (uint32_t)last_seq != m->seq || memcmp(rec.digest, last_digest, 32)) {
        fprintf(stderr, "rec_peer: the provenance record of %s #%u does not name its "
                "sample\n", m->channel->topic, m->seq);
        prov_bad++;
        return;
    }
    prov_ok++;
}

static int on_file_msg(const mcap_message *m, void *user)
{
    (void)user;
    const char *kind = mcap_channel_meta(m->channel, "ipcnet.kind");
    uint16_t id = m->channel->id;
    topic_of[id] = m->channel->topic;
    if (kind && !strcmp(kind, "request")) {
        int k;
        requests++;
        bad_calls += !(m->len < 30 && sscanf((const char *)m->data, "call %d", &k) == 1 &&
                       (uint32_t)k == m->seq);
        return 0;
    }
    if (kind && !strcmp(kind, "reply")) {
        char want[32];
        replies++;
        snprintf(want, sizeof want, "answer %u", m->seq);
        bad_calls += !(m->len == strlen(want) && !memcmp(m->data, want, m->len));
        return 0;
    }
    if (kind && !strcmp(kind, "provenance")) {
        check_prov(m);
        return 0;
    }
    stream_ch[id] = 1;
    uint64_t seq = (last32[id] & ~0xffffffffull) | m->seq;
    last32[id] = seq;
    last_topic = m->channel->topic;
    last_seq = seq;
    crypto_generichash(last_digest, sizeof last_digest, m->data, m->len, NULL, 0);
    if (!expected(m->channel->topic, seq, m->data, m->len)) {
        fprintf(stderr, "rec_peer: recorded %s #%" PRIu64 " is not what was published\n",
                m->channel->topic, seq);
        dup_or_bad++;
    }
    if (nex == capex) {
        capex = capex ? 2 * capex : 4096;
        ex = realloc(ex, capex * sizeof *ex);
    }
    ex[nex++] = (exp_msg){id, seq, m->log_time, 0, XXH3_64bits(m->data, m->len), m->len};
    return 0;
}

static exp_msg *find_exp(const char *path, uint64_t seq)
{
    /* by path and seq: a binary search per channel would do; the
     * recordings here are small, and this runs on arrival. */
    static size_t hint;
    for (size_t k = 0; k < nex; k++) {
        size_t i = (hint + k) % nex;
        if (ex[i].seq == seq && !strcmp(topic_of[ex[i].ch], path)) {
            hint = i + 1;
            return &ex[i];
        }
    }
    return NULL;
}

static void on_sample(ipcn_node *node, const ipcn_msg *m, void *user)
{
    (void)node;
    (void)user;
    if (m->status != IPCN_OK)
        return;
    uint64_t now = mono_ns();
    exp_msg *e = find_exp(m->path, m->seq);
    if (!e) {
        unexpected++;
        return;
    }
    /* The bytes recorded (checked against the generator when the file
     * was read): a hash here, so that checking a frame does not hold up
     * the samples behind it. */
    if (e->got_at || m->len != e->len || XXH3_64bits(m->data, m->len) != e->hash)
        dup_or_bad++;
    e->got_at = now;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int run_sub(const char *file, double rate)
{
    mcap_reader *r;
    mcap_info in;
    if (mcap_reader_open(&r, file, NULL) != 0 || mcap_reader_scan(r, on_file_msg, NULL, &in)) {
        fprintf(stderr, "rec_peer sub: cannot read %s: %s\n", file, in.why);
        return 2;
    }
    printf("recording: %zu samples, %ld requests, %ld replies, %ld provenance records\n",
           nex, requests, replies, prov_ok + prov_bad);
    if (prov_bad) {
        printf("%ld provenance records do not name their samples\n", prov_bad);
        return 1;
    }
    ipcn_node *n;
    if (ipcn_node_open(&n, "rec-sub", NULL) != IPCN_OK)
        return 2;
    ipcn_sub s;
    ipcn_subscribe(n, "rt/**", 65536, on_sample, NULL, &s);
    printf("subscribed\n");
    fflush(stdout);
    /* Until every recorded sample came, or nothing came for 5 s. */
    size_t got = 0;
    uint64_t quiet = mono_ns();
    while (got < nex && mono_ns() - quiet < 5000000000ull + (got ? 0 : 60000000000ull)) {
        ipcn_node_dispatch(n, 100);
        size_t g = 0;
        for (size_t i = 0; i < nex; i++)
            g += ex[i].got_at != 0;
        if (g != got)
            quiet = mono_ns();
        got = g;
    }
    ipcn_node_dispatch(n, 200); /* anything extra */
    int rc = 0;
    printf("received %zu of %zu, %ld unexpected, %ld duplicate or different\n", got, nex,
           unexpected, dup_or_bad);
    if (got != nex || unexpected || dup_or_bad)
        rc = 1;
    if (bad_calls || requests == 0 || requests != replies) {
        printf("service calls recorded wrong: %ld bad, %ld requests, %ld replies\n", bad_calls,
               requests, replies);
        rc = 1;
    }
    if (rate > 0 && got) {
        int64_t *d = malloc(got * sizeof *d);
        size_t k = 0;
        for (size_t i = 0; i < nex; i++)
            if (ex[i].got_at)
                d[k++] = (int64_t)ex[i].got_at - (int64_t)((double)ex[i].log / rate);
        qsort(d, k, sizeof *d, cmp_i64);
        int64_t med = d[k / 2];
        for (size_t i = 0; i < k; i++)
            d[i] = d[i] > med ? d[i] - med : med - d[i];
        qsort(d, k, sizeof *d, cmp_i64);
        printf("timing error: p50 %.3f ms, p99 %.3f ms, max %.3f ms over %zu samples\n",
               (double)d[k / 2] / 1e6, (double)d[(size_t)((double)k * 0.99)] / 1e6,
               (double)d[k - 1] / 1e6, k);
        free(d);
    }
    ipcn_node_close(n);
    mcap_reader_close(r);
    free(ex);
    return rc;
}

static void le(uint8_t *d, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        d[i] = (uint8_t)(v >> (8 * i));
}

static int on_digest(const mcap_message *m, void *user)
{
    crypto_hash_sha256_state *h = user;
    uint8_t head[28];
    le(head, m->seq, 4);
    le(head + 4, m->log_time, 8);
    le(head + 12, m->publish_time, 8);
    le(head + 20, m->len, 8);
    crypto_hash_sha256_update(h, (const uint8_t *)m->channel->topic,
                              strlen(m->channel->topic) + 1);
    crypto_hash_sha256_update(h, head, sizeof head);
    crypto_hash_sha256_update(h, m->data, m->len);
    return 0;
}

static int run_digest(const char *file)
{
    mcap_reader *r;
    mcap_info in;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    if (mcap_reader_open(&r, file, NULL) != 0)
        return 2;
    int rc = mcap_reader_scan(r, on_digest, &h, &in);
    uint8_t d[32];
    char hex[65];
    crypto_hash_sha256_final(&h, d);
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    if (!rc)
        printf("messages %" PRIu64 " sha256 %s %s\n", in.messages, hex,
               in.complete ? "complete" : "cut-off");
    if (rc)
        printf("error %s\n", in.why);
    mcap_reader_close(r);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "digest")) {
        int rc = 0;
        for (int i = 2; i < argc; i++)
            rc |= run_digest(argv[i]);
        return rc;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && !strcmp(argv[1], "pub"))
        return run_pub(atof(argv[2]), 1);
    if (argc == 3 && !strcmp(argv[1], "pub-only"))
        return run_pub(atof(argv[2]), 0);
    if (argc == 4 && !strcmp(argv[1], "sub"))
        return run_sub(argv[2], atof(argv[3]));
    fprintf(stderr, "usage: rec_peer pub SECONDS | sub FILE.mcap RATE\n");
    return 2;
}
