/* SPDX-License-Identifier: MIT */
/*
 * peer_zmq.c — ZeroMQ over ipc://: REQ/REP (rtt), PUSH/PULL (thr),
 * PUB/SUB (bulk); the same over tcp:// between two network namespaces
 * (net.c).  Compiled out (reported "not installed") without libzmq.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#ifndef BENCH_HAVE_ZMQ

const peer_ops peer_zmq = {.name = "zmq", .variant = "REQ/REP",
                           .missing = "built without libzmq (apt-get install "
                                      "libzmq3-dev)"};
const bulk_ops bulk_zmq_ops = {.name = "zmq", .variant = "PUB/SUB",
                               .missing = "built without libzmq (apt-get install "
                                          "libzmq3-dev)"};

#else

#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <zmq.h>

/* ipc://dir/name, or tcp://addr when addr is not empty (net.c). */
static void *zsock(void **ctx, int type, const char *dir, const char *name,
                   const char *addr, bool bind, char *err, size_t cap)
{
    *ctx = zmq_ctx_new();
    void *s = *ctx ? zmq_socket(*ctx, type) : NULL;
    if (!s) {
        snprintf(err, cap, "zmq_socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    int linger = 1000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    char url[512];
    if (addr[0])
        snprintf(url, sizeof url, "tcp://%s", addr);
    else
        snprintf(url, sizeof url, "ipc://%s/%s", dir, name);
    int rc = bind ? zmq_bind(s, url) : zmq_connect(s, url);
    if (rc != 0) {
        snprintf(err, cap, "zmq_%s %s: %s", bind ? "bind" : "connect", url,
                 zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    return s;
}

static void zclose(void *ctx, void *s)
{
    if (s)
        zmq_close(s);
    if (ctx)
        zmq_ctx_term(ctx);
}

/* ---- rtt ---- */

static int zmq_rtt_server(child *c)
{
    rtt_args *a = c->arg;
    char err[200];
    void *ctx, *s = zsock(&ctx, ZMQ_REP, a->dir, "zmq-rtt", a->addr, true, err, sizeof err);
    if (!s) {
        fprintf(stderr, "zmq server: %s\n", err);
        return 1;
    }
    ctl_send(c->ctl, CTL_READY);
    size_t cap = a->size + 16;
    uint8_t *buf = malloc(cap);
    for (;;) {
        int n = zmq_recv(s, buf, cap, 0);
        if (n < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        if (n == 4 && !memcmp(buf, "STOP", 4)) {
            zmq_send(s, "", 0, 0);
            break;
        }
        zmq_send(s, buf, (size_t)n, 0);
    }
    free(buf);
    zclose(ctx, s);
    return 0;
}

static int zmq_roundtrip(void *state, const void *req, void *rep, size_t size,
                         char *err, size_t cap)
{
    void *s = state;
    if (zmq_send(s, req, size, 0) != (int)size) {
        snprintf(err, cap, "zmq_send: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    int n = zmq_recv(s, rep, size, 0);
    if (n != (int)size) {
        snprintf(err, cap, "zmq_recv: %d: %s", n, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

static int zmq_rtt_client(child *c)
{
    rtt_args *a = c->arg;
    rtt_result res = {0};
    void *ctx, *s = zsock(&ctx, ZMQ_REQ, a->dir, "zmq-rtt", a->addr, false, res.err,
                          sizeof res.err);
    if (!s) {
        ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
        return 1;
    }
    int rc = rtt_client_loop(c, a, zmq_roundtrip, s, "REQ/REP");
    char b[4];
    if (zmq_send(s, "STOP", 4, 0) == 4)
        zmq_recv(s, b, sizeof b, 0);
    zclose(ctx, s);
    return rc;
}

/* ---- thr ---- */

static int zmq_thr_sender(child *c)
{
    thr_args *a = c->arg;
    thr_result res = {0};
    void *ctx, *s = zsock(&ctx, ZMQ_PUSH, a->dir, "zmq-thr", "", true, res.err,
                          sizeof res.err);
    uint8_t *buf = calloc(1, a->size);
    if (!s)
        goto done;
    ctl_send(c->ctl, CTL_READY);
    msg_fill(buf, a->size, 0);
    for (;;) {
        int b = ctl_poll(c->ctl);
        if (b == CTL_GO)
            break;
        if (b < 0)
            goto done;
        zmq_send(s, buf, a->size, ZMQ_DONTWAIT);
        usleep(200);
    }
    res.t_first_ns = now_ns();
    for (uint64_t i = 1; i <= a->n; i++) {
        msg_fill(buf, a->size, i);
        if (zmq_send(s, buf, a->size, 0) != (int)a->size)
            res.send_failed++;
        res.sent++;
    }
    res.t_last_ns = now_ns();
    msg_fill(buf, a->size, THR_END);
    zmq_send(s, buf, a->size, 0);
    res.ok = 1;
    while (ctl_poll(c->ctl) == 0)
        usleep(1000);
done:
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    free(buf);
    zclose(ctx, s);
    return res.ok ? 0 : 1;
}

static int zmq_thr_receiver(child *c)
{
    thr_args *a = c->arg;
    thr_result res = {0};
    thr_counter k = {.n = a->n};
    void *ctx, *s = zsock(&ctx, ZMQ_PULL, a->dir, "zmq-thr", "", false, res.err,
                          sizeof res.err);
    uint8_t *buf = malloc(a->size + 16);
    if (!s)
        goto done;
    int to = 100;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &to, sizeof to);
    ctl_send(c->ctl, CTL_READY);
    uint64_t start = now_ns();
    for (;;) {
        if (k.done || (k.t_last && now_ns() - k.t_last > 10000000000ull) ||
            (!k.t_last && now_ns() - start > 30000000000ull))
            break;
        int n = zmq_recv(s, buf, a->size + 16, 0);
        if (n < 0)
            continue;
        if ((size_t)n != a->size) {
            k.bad++;
            continue;
        }
        thr_count(&k, c->ctl, buf, (size_t)n);
    }
    res.ok = 1;
done:
    res.t_first_ns = k.t_first;
    res.t_last_ns = k.t_last;
    res.arrived = k.arrived;
    res.bad = k.bad;
    res.out_of_order = k.out_of_order;
    res.last_seq = k.last_seq;
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    free(buf);
    zclose(ctx, s);
    return res.ok ? 0 : 1;
}

const peer_ops peer_zmq = {
    .name = "zmq",
    .variant = "REQ/REP",
    .rtt_server = zmq_rtt_server,
    .rtt_client = zmq_rtt_client,
    .thr_sender = zmq_thr_sender,
    .thr_receiver = zmq_thr_receiver,
};

/* ---- bulk ---- */

typedef struct zst {
    void *ctx, *s;
    zmq_msg_t msg;
} zst;

static int zb_pub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    zst *z = calloc(1, sizeof *z);
    *state = z;
    z->s = zsock(&z->ctx, ZMQ_PUB, a->dir, "zmq-bulk", a->addr, true, err, cap);
    if (!z->s)
        return -1;
    int hwm = 1000;
    zmq_setsockopt(z->s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    return 0;
}

static int zb_pub_send(void *state, const void *buf, size_t len, uint64_t seq,
                       char *err, size_t cap)
{
    (void)seq;
    zst *z = state;
    if (zmq_send(z->s, buf, len, 0) != (int)len) {
        snprintf(err, cap, "zmq_send: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

static void zb_pub_close(void *state, bulk_result *res)
{
    (void)res;
    zst *z = state;
    zclose(z->ctx, z->s);
    free(z);
}

static int zb_sub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    zst *z = calloc(1, sizeof *z);
    *state = z;
    z->s = zsock(&z->ctx, ZMQ_SUB, a->dir, "zmq-bulk", a->addr, false, err, cap);
    if (!z->s)
        return -1;
    zmq_setsockopt(z->s, ZMQ_SUBSCRIBE, "", 0);
    return 0;
}

static int zb_sub_poll(void *state, int timeout_ms, sample_fn on, void *ctx,
                       char *err, size_t cap)
{
    zst *z = state;
    zmq_setsockopt(z->s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
    zmq_msg_init(&z->msg);
    if (zmq_msg_recv(&z->msg, z->s, 0) < 0) {
        int e = zmq_errno();
        zmq_msg_close(&z->msg);
        if (e == EAGAIN || e == EINTR)
            return 0;
        snprintf(err, cap, "zmq_msg_recv: %s", zmq_strerror(e));
        return -1;
    }
    on(ctx, zmq_msg_data(&z->msg), zmq_msg_size(&z->msg));
    zmq_msg_close(&z->msg);
    return 1;
}

static void zb_sub_close(void *state, bulk_result *res)
{
    (void)res;
    zst *z = state;
    zclose(z->ctx, z->s);
    free(z);
}

const bulk_ops bulk_zmq_ops = {
    .name = "zmq",
    .variant = "PUB/SUB",
    .pub_open = zb_pub_open,
    .pub_send = zb_pub_send,
    .pub_close = zb_pub_close,
    .sub_open = zb_sub_open,
    .sub_poll = zb_sub_poll,
    .sub_close = zb_sub_close,
};

#endif
