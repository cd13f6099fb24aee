/* SPDX-License-Identifier: MIT */
/*
 * peer_nng.c — NNG over ipc://: req0/rep0 (rtt), pub0/sub0 (bulk).
 * Compiled out (reported "not installed") without libnng.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#ifndef BENCH_HAVE_NNG

const peer_ops peer_nng = {.name = "nng", .variant = "req0/rep0",
                           .missing = "built without libnng (apt-get install "
                                      "libnng-dev)"};
const bulk_ops bulk_nng_ops = {.name = "nng", .variant = "pub0/sub0",
                               .missing = "built without libnng (apt-get install "
                                          "libnng-dev)"};

#else

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

static int nopen(nng_socket *s, int (*opener)(nng_socket *), const char *dir,
                 const char *name, bool listen, char *err, size_t cap)
{
    int rv = opener(s);
    if (rv) {
        snprintf(err, cap, "nng open: %s", nng_strerror(rv));
        return -1;
    }
    nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, 0); /* no 1 MiB cap */
    char url[512];
    snprintf(url, sizeof url, "ipc://%s/%s", dir, name);
    /* A dialer retries in the background until the listener is there. */
    rv = listen ? nng_listen(*s, url, NULL, 0) : nng_dial(*s, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv) {
        snprintf(err, cap, "nng_%s %s: %s", listen ? "listen" : "dial", url,
                 nng_strerror(rv));
        nng_close(*s);
        return -1;
    }
    return 0;
}

/* ---- rtt ---- */

static int nng_rtt_server(child *c)
{
    rtt_args *a = c->arg;
    char err[200];
    nng_socket s;
    if (nopen(&s, nng_rep0_open, a->dir, "nng-rtt", true, err, sizeof err) < 0) {
        fprintf(stderr, "nng server: %s\n", err);
        return 1;
    }
    ctl_send(c->ctl, CTL_READY);
    for (;;) {
        void *buf = NULL;
        size_t sz = 0;
        int rv = nng_recv(s, &buf, &sz, NNG_FLAG_ALLOC);
        if (rv)
            break;
        if (sz == 4 && !memcmp(buf, "STOP", 4)) {
            nng_free(buf, sz);
            nng_send(s, "", 0, 0);
            break;
        }
        if (nng_send(s, buf, sz, NNG_FLAG_ALLOC)) /* takes buf on success */
            nng_free(buf, sz);
    }
    nng_msleep(50); /* let the last answer leave */
    nng_close(s);
    return 0;
}

static int nng_roundtrip(void *state, const void *req, void *rep, size_t size,
                         char *err, size_t cap)
{
    nng_socket s = *(nng_socket *)state;
    int rv = nng_send(s, (void *)req, size, 0);
    if (rv) {
        snprintf(err, cap, "nng_send: %s", nng_strerror(rv));
        return -1;
    }
    void *buf = NULL;
    size_t sz = 0;
    rv = nng_recv(s, &buf, &sz, NNG_FLAG_ALLOC);
    if (rv || sz != size) {
        snprintf(err, cap, "nng_recv: %s (%zu bytes)", rv ? nng_strerror(rv) : "size", sz);
        if (!rv)
            nng_free(buf, sz);
        return -1;
    }
    memcpy(rep, buf, size);
    nng_free(buf, sz);
    return 0;
}

static int nng_rtt_client(child *c)
{
    rtt_args *a = c->arg;
    rtt_result res = {0};
    nng_socket s;
    if (nopen(&s, nng_req0_open, a->dir, "nng-rtt", false, res.err, sizeof res.err) < 0) {
        ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
        return 1;
    }
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
    int rc = rtt_client_loop(c, a, nng_roundtrip, &s, "req0/rep0");
    if (nng_send(s, "STOP", 4, 0) == 0) {
        void *buf;
        size_t sz;
        if (nng_recv(s, &buf, &sz, NNG_FLAG_ALLOC) == 0)
            nng_free(buf, sz);
    }
    nng_close(s);
    return rc;
}

const peer_ops peer_nng = {
    .name = "nng",
    .variant = "req0/rep0",
    .rtt_server = nng_rtt_server,
    .rtt_client = nng_rtt_client,
};

/* ---- bulk ---- */

typedef struct nst {
    nng_socket s;
} nst;

static int nb_pub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    nst *z = calloc(1, sizeof *z);
    *state = z;
    if (nopen(&z->s, nng_pub0_open, a->dir, "nng-bulk", true, err, cap) < 0)
        return -1;
    nng_socket_set_int(z->s, NNG_OPT_SENDBUF, 64);
    return 0;
}

static int nb_pub_send(void *state, const void *buf, size_t len, uint64_t seq,
                       char *err, size_t cap)
{
    (void)seq;
    nst *z = state;
    int rv = nng_send(z->s, (void *)buf, len, 0);
    if (rv) {
        snprintf(err, cap, "nng_send: %s", nng_strerror(rv));
        return -1;
    }
    return 0;
}

static void nb_pub_close(void *state, bulk_result *res)
{
    (void)res;
    nst *z = state;
    nng_msleep(20);
    nng_close(z->s);
    free(z);
}

static int nb_sub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    nst *z = calloc(1, sizeof *z);
    *state = z;
    if (nopen(&z->s, nng_sub0_open, a->dir, "nng-bulk", false, err, cap) < 0)
        return -1;
    nng_socket_set(z->s, NNG_OPT_SUB_SUBSCRIBE, "", 0);
    nng_socket_set_int(z->s, NNG_OPT_RECVBUF, 64);
    return 0;
}

static int nb_sub_poll(void *state, int timeout_ms, sample_fn on, void *ctx,
                       char *err, size_t cap)
{
    nst *z = state;
    nng_socket_set_ms(z->s, NNG_OPT_RECVTIMEO, timeout_ms);
    void *buf = NULL;
    size_t sz = 0;
    int rv = nng_recv(z->s, &buf, &sz, NNG_FLAG_ALLOC);
    if (rv == NNG_ETIMEDOUT)
        return 0;
    if (rv) {
        snprintf(err, cap, "nng_recv: %s", nng_strerror(rv));
        return -1;
    }
    on(ctx, buf, sz);
    nng_free(buf, sz);
    return 1;
}

static void nb_sub_close(void *state, bulk_result *res)
{
    (void)res;
    nst *z = state;
    nng_close(z->s);
    free(z);
}

const bulk_ops bulk_nng_ops = {
    .name = "nng",
    .variant = "pub0/sub0",
    .pub_open = nb_pub_open,
    .pub_send = nb_pub_send,
    .pub_close = nb_pub_close,
    .sub_open = nb_sub_open,
    .sub_poll = nb_sub_poll,
    .sub_close = nb_sub_close,
};

#endif
