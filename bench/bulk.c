/* SPDX-License-Identifier: MIT */
/*
 * bulk.c — large samples (64 KiB .. 64 MiB) from one publisher process to 1
 * and 4 subscriber processes: IPCNet pub/sub beside ZeroMQ PUB/SUB, NNG
 * pub0/sub0 and iceoryx.
 *
 * Each subscriber acknowledges every sample over a side socket to the
 * publisher (not part of what is measured).  Three phases:
 *  - join: probe samples until every subscriber has one (slow joiners);
 *  - latency: one sample at a time; latency = subscriber's receive time -
 *    the send time written in the sample's first 8 bytes (CLOCK_MONOTONIC is
 *    one clock for every process on Linux);
 *  - throughput: back to back with at most `window` samples unacknowledged
 *    by the slowest subscriber; samples/s from the first send to the last
 *    acknowledgement.
 * Every sample is checked: a word per 4 KiB page (and the whole sample in
 * --quick) derived from its sequence number.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

#define BULK_PATH "bench/bulk"

/* ---- IPCNet ---- */

typedef struct ipc_pub {
    ipcn_node *n;
    ipcn_loan *loan; /* the loan variant: the sample being filled */
} ipc_pub;

typedef struct ipc_sub {
    ipcn_node *n;
    ipcn_sub sub;
    sample_fn on;
    void *ctx;
    int count;
} ipc_sub;

static void node_opts(ipcn_node_opts *o, const char *dir)
{
    ipcn_node_opts_init(o);
    o->dir = dir;
    o->network = "bench";
}

static int ipc_pub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    ipc_pub *p = calloc(1, sizeof *p);
    ipcn_node_opts o;
    node_opts(&o, a->dir);
    int st = ipcn_node_open(&p->n, "bulk-pub", &o);
    if (st == IPCN_OK && a->hook)
        st = a->hook(p->n, 0);
    if (st == IPCN_OK)
        st = ipcn_announce(p->n, BULK_PATH, IPCN_STREAM, "", NULL, 0);
    if (IPCN_IS_OK(st))
        st = ipcn_node_wait_peers(p->n, (unsigned)a->nsubs, 10000);
    *state = p;
    if (!IPCN_IS_OK(st)) {
        snprintf(err, cap, "open/announce/wait for %d subscribers: %d %s", a->nsubs,
                 st, ipcn_status_str(st));
        return -1;
    }
    return 0;
}

static int ipc_pub_send(void *state, const void *buf, size_t len, uint64_t seq,
                        char *err, size_t cap)
{
    (void)seq;
    ipc_pub *p = state;
    int st = ipcn_publish(p->n, BULK_PATH, buf, len);
    if (st == IPCN_BAD_REQUEST)
        return -2; /* over max_payload */
    if (st != IPCN_OK) {
        snprintf(err, cap, "ipcn_publish: %d %s", st, ipcn_status_str(st));
        return -1;
    }
    return 0;
}

/* The loan variant: the sample is written straight into a slot of the
 * publisher's shared memory (what a camera driver would do), no copy. */
static void *ipc_pub_buf(void *state, size_t len, char *err, size_t cap)
{
    ipc_pub *p = state;
    int st = ipcn_loan_new(p->n, BULK_PATH, len, &p->loan);
    if (st != IPCN_OK) {
        snprintf(err, cap, "ipcn_loan_new: %d %s", st, ipcn_status_str(st));
        return NULL;
    }
    return ipcn_loan_data(p->loan);
}

static int ipc_pub_send_loan(void *state, const void *buf, size_t len,
                             uint64_t seq, char *err, size_t cap)
{
    (void)buf, (void)seq;
    ipc_pub *p = state;
    int st = ipcn_loan_publish(p->n, p->loan, len);
    p->loan = NULL;
    if (st != IPCN_OK) {
        snprintf(err, cap, "ipcn_loan_publish: %d %s", st, ipcn_status_str(st));
        return -1;
    }
    return 0;
}

static int ipc_pub_fd(void *state) { return ipcn_node_fd(((ipc_pub *)state)->n); }
static void ipc_pub_progress(void *state) { ipcn_node_dispatch(((ipc_pub *)state)->n, 0); }

static void ipc_pub_close(void *state, bulk_result *res)
{
    ipc_pub *p = state;
    if (!p)
        return;
    ipcn_node_stats ns = {.size = sizeof ns};
    if (p->n && ipcn_node_get_stats(p->n, &ns) == IPCN_OK)
        res->pub_drops = ns.drops;
    ipcn_node_close(p->n);
    free(p);
}

/* A callback subscription served by ipcn_node_dispatch(): the faster of
 * the two receive modes (ipcn_sub_take() waits in 100 ms steps, bug g-1). */
static void ipc_on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    ipc_sub *s = user;
    if (m->status != IPCN_OK) /* the publisher left: not a sample */
        return;
    s->on(s->ctx, m->data, m->len);
    s->count++;
}

static int ipc_sub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    ipc_sub *s = calloc(1, sizeof *s);
    *state = s;
    char name[32];
    snprintf(name, sizeof name, "bulk-sub%d", a->sub_index);
    ipcn_node_opts o;
    node_opts(&o, a->sub_dir[0] ? a->sub_dir : a->dir); /* net.c: another host */
    int st = ipcn_node_open(&s->n, name, &o);
    if (st == IPCN_OK && a->hook)
        st = a->hook(s->n, 1);
    if (st == IPCN_OK)
        st = ipcn_subscribe(s->n, BULK_PATH, 256, ipc_on_sample, s, &s->sub);
    if (st != IPCN_OK) {
        snprintf(err, cap, "open/subscribe: %d %s", st, ipcn_status_str(st));
        return -1;
    }
    return 0;
}

static int ipc_sub_poll(void *state, int timeout_ms, sample_fn on, void *ctx,
                        char *err, size_t cap)
{
    ipc_sub *s = state;
    s->on = on;
    s->ctx = ctx;
    s->count = 0;
    int st = ipcn_node_dispatch(s->n, timeout_ms);
    if (st != IPCN_OK && st != IPCN_NO_DATA) {
        snprintf(err, cap, "ipcn_node_dispatch: %d %s", st, ipcn_status_str(st));
        return -1;
    }
    return s->count;
}

static void ipc_sub_close(void *state, bulk_result *res)
{
    ipc_sub *s = state;
    if (!s)
        return;
    ipcn_sub_stats ss = {.size = sizeof ss};
    if (s->n && ipcn_sub_get_stats(s->n, s->sub, &ss) == IPCN_OK) {
        res->dropped = ss.dropped;
        res->lost = ss.lost;
    }
    ipcn_node_close(s->n);
    free(s);
}

/* What IPCNet's three publishing variants share. */
#define IPC_COMMON_OPS                                                       \
    .name = "ipcnet", .pub_fd = ipc_pub_fd, .pub_progress = ipc_pub_progress, \
    .pub_close = ipc_pub_close, .sub_open = ipc_sub_open,                    \
    .sub_poll = ipc_sub_poll, .sub_close = ipc_sub_close

const bulk_ops bulk_ipcnet_ops = {
    .variant = "pub/sub, callback",
    .pub_open = ipc_pub_open,
    .pub_send = ipc_pub_send,
    IPC_COMMON_OPS,
};

/* The loan variant without the publish-time checksum. */
static int ipc_pub_open_nosum(bulk_args *a, void **state, char *err, size_t cap)
{
    if (ipc_pub_open(a, state, err, cap) < 0)
        return -1;
    ipcn_pool_opts o;
    ipcn_pool_opts_init(&o);
    o.checksum = 0;
    int st = ipcn_pool_config(((ipc_pub *)*state)->n, BULK_PATH, &o);
    if (st != IPCN_OK) {
        snprintf(err, cap, "ipcn_pool_config: %d %s", st, ipcn_status_str(st));
        return -1;
    }
    return 0;
}

const bulk_ops bulk_ipcnet_nosum_ops = {
    .variant = "pub/sub, loan, no checksum",
    .pub_open = ipc_pub_open_nosum,
    .pub_buf = ipc_pub_buf,
    .pub_send = ipc_pub_send_loan,
    IPC_COMMON_OPS,
};

const bulk_ops bulk_ipcnet_loan_ops = {
    .variant = "pub/sub, loan",
    .pub_open = ipc_pub_open,
    .pub_buf = ipc_pub_buf,
    .pub_send = ipc_pub_send_loan,
    IPC_COMMON_OPS,
};

/* ---- the publisher and subscriber processes ---- */

typedef struct ack {
    uint64_t probes, max_seq;
} ack;

typedef struct pubctx {
    bulk_args *a;
    const bulk_ops *ops;
    void *st;
    ack acks[4];
    char partial[4][sizeof(ack)];
    size_t partial_len[4];
    int tfd;
} pubctx;

static void drain_acks(pubctx *p)
{
    for (int i = 0; i < p->a->nsubs; i++) {
        for (;;) {
            ssize_t r = read(p->a->ack[i], p->partial[i] + p->partial_len[i],
                             sizeof(ack) - p->partial_len[i]);
            if (r <= 0)
                break;
            p->partial_len[i] += (size_t)r;
            if (p->partial_len[i] == sizeof(ack)) {
                memcpy(&p->acks[i], p->partial[i], sizeof(ack));
                p->partial_len[i] = 0;
            }
        }
    }
}

static uint64_t min_seq(const pubctx *p)
{
    uint64_t m = UINT64_MAX;
    for (int i = 0; i < p->a->nsubs; i++)
        if (p->acks[i].max_seq < m)
            m = p->acks[i].max_seq;
    return m;
}

static bool all_probed(const pubctx *p)
{
    for (int i = 0; i < p->a->nsubs; i++)
        if (!p->acks[i].probes)
            return false;
    return true;
}

/* Wait until every subscriber acknowledged seq (or, with seq == 0, one
 * probe), making the transport's progress meanwhile.  0, or -1 on timeout. */
static int wait_for(pubctx *p, uint64_t seq, int timeout_ms)
{
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
    struct pollfd pfd[5];
    int n = 0;
    for (int i = 0; i < p->a->nsubs; i++)
        pfd[n++] = (struct pollfd){.fd = p->a->ack[i], .events = POLLIN};
    if (p->tfd >= 0)
        pfd[n++] = (struct pollfd){.fd = p->tfd, .events = POLLIN};
    for (;;) {
        drain_acks(p);
        if (seq ? min_seq(p) >= seq : all_probed(p))
            return 0;
        uint64_t now = now_ns();
        if (now >= deadline)
            return -1;
        int ms = (int)((deadline - now) / 1000000ull) + 1;
        if (poll(pfd, (nfds_t)n, ms) < 0 && errno != EINTR)
            return -1;
        if (p->tfd >= 0 && pfd[n - 1].revents && p->ops->pub_progress)
            p->ops->pub_progress(p->st);
    }
}

static int send_one(pubctx *p, uint8_t *buf, uint64_t seq, bulk_result *res)
{
    if (p->ops->pub_buf &&
        !(buf = p->ops->pub_buf(p->st, p->a->size, res->err, sizeof res->err)))
        return -1;
    sample_fill(buf, p->a->size, seq, p->a->full_check);
    sample_stamp(buf, now_ns());
    int rc = p->ops->pub_send(p->st, buf, p->a->size, seq, res->err, sizeof res->err);
    if (rc == -2)
        res->too_big = 1;
    /* Let the transport move what it could not send at once. */
    if (rc == 0 && p->tfd >= 0 && p->ops->pub_progress)
        p->ops->pub_progress(p->st);
    return rc;
}

static int bulk_publisher(child *c)
{
    bulk_args *a = c->arg;
    bulk_result res = {0};
    pubctx p = {.a = a, .ops = a->ops, .tfd = -1};
    uint8_t *buf = NULL;
    for (int i = 0; i < a->nsubs; i++)
        fcntl(a->ack[i], F_SETFL, fcntl(a->ack[i], F_GETFL) | O_NONBLOCK);
    if (p.ops->pub_open(a, &p.st, res.err, sizeof res.err) < 0)
        goto done;
    if (p.ops->pub_fd)
        p.tfd = p.ops->pub_fd(p.st);
    ctl_send(c->ctl, CTL_READY);
    int b;
    while ((b = ctl_wait(&(child){.ctl = c->ctl}, 1000)) == 0)
        ;
    if (b != CTL_GO)
        goto done;
    buf = malloc(a->size);
    if (!buf) {
        snprintf(res.err, sizeof res.err, "out of memory");
        goto done;
    }
    memset(buf, 0xA5, a->size);
    /* Join: probes until every subscriber has one, one probe in flight at
     * a time (a burst of large probes would fill the links), then until no
     * more probes arrive. */
    int pace_ms = 20 + (int)(a->size / 50000); /* 20 ms + 50 MB/s */
    uint64_t deadline = now_ns() + 15000000000ull;
    while (!all_probed(&p)) {
        if (now_ns() > deadline) {
            snprintf(res.err, sizeof res.err, "no probe reached every subscriber in 15 s");
            goto done;
        }
        if (send_one(&p, buf, 0, &res) < 0)
            goto done;
        wait_for(&p, 0, pace_ms);
    }
    for (int round = 0; round < 20; round++) {
        uint64_t before = 0, after = 0;
        for (int i = 0; i < a->nsubs; i++)
            before += p.acks[i].probes;
        wait_for(&p, UINT64_MAX, pace_ms); /* times out: just progress */
        for (int i = 0; i < a->nsubs; i++)
            after += p.acks[i].probes;
        if (after == before)
            break;
    }
    /* Latency: one at a time. */
    uint64_t seq = 0;
    for (uint64_t i = 0; i < a->n_lat; i++) {
        if (send_one(&p, buf, ++seq, &res) < 0)
            goto done;
        if (wait_for(&p, seq, 10000) < 0) {
            snprintf(res.err, sizeof res.err,
                     "sample %llu did not reach every subscriber in 10 s",
                     (unsigned long long)seq);
            goto done;
        }
    }
    /* Throughput: a window of samples in flight. */
    res.t_start_ns = now_ns();
    for (uint64_t i = 0; i < a->n_thr; i++) {
        if (seq >= a->window && wait_for(&p, seq + 1 - a->window, 10000) < 0) {
            snprintf(res.err, sizeof res.err, "no progress for 10 s at sample %llu",
                     (unsigned long long)seq);
            goto done;
        }
        if (send_one(&p, buf, ++seq, &res) < 0)
            goto done;
    }
    if (wait_for(&p, seq, 10000) < 0) {
        snprintf(res.err, sizeof res.err, "the last samples did not arrive in 10 s "
                 "(slowest subscriber at %llu of %llu)",
                 (unsigned long long)min_seq(&p), (unsigned long long)seq);
        goto done;
    }
    res.t_end_ns = now_ns();
    res.max_seq = seq;
    res.ok = 1;
done:
    if (p.st)
        p.ops->pub_close(p.st, &res);
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    free(buf);
    return res.ok || res.too_big ? 0 : 1;
}

typedef struct subctx {
    bulk_args *a;
    bulk_result *res;
    ack k;
    uint64_t total, nlat, last;
    uint64_t *lat;
} subctx;

static void on_sample(void *ctx, const void *data, size_t len)
{
    subctx *x = ctx;
    uint64_t t = now_ns(), seq, stamp;
    x->last = t;
    if (len != x->a->size || !sample_check(data, len, x->a->full_check, &seq, &stamp)) {
        x->res->bad++;
    } else if (seq == 0) {
        x->k.probes++;
    } else if (seq <= x->k.max_seq || seq > x->total) {
        x->res->bad++; /* repeated or out of order */
    } else {
        x->res->arrived++;
        x->k.max_seq = seq;
        if (seq <= x->a->n_lat && x->nlat < x->a->n_lat)
            x->lat[x->nlat++] = t - stamp;
    }
    writen(x->a->ack[0], &x->k, sizeof x->k);
}

static int bulk_subscriber(child *c)
{
    bulk_args *a = c->arg;
    const bulk_ops *ops = a->ops;
    bulk_result res = {0};
    void *st = NULL;
    subctx x = {.a = a, .res = &res, .total = a->n_lat + a->n_thr};
    x.lat = calloc(a->n_lat + 1, sizeof *x.lat);
    if (ops->sub_open(a, &st, res.err, sizeof res.err) < 0)
        goto done;
    ctl_send(c->ctl, CTL_READY);
    uint64_t start = now_ns();
    while (x.k.max_seq < x.total) {
        uint64_t now = now_ns();
        if ((x.last && now - x.last > 12000000000ull) ||
            (!x.last && now - start > 60000000000ull))
            break; /* the publisher gave up or died */
        int r = ops->sub_poll(st, 200, on_sample, &x, res.err, sizeof res.err);
        if (r < 0)
            goto done;
        if (r == 0 && ctl_poll(c->ctl) == CTL_STOP)
            break;
    }
    res.max_seq = x.k.max_seq;
    res.ok = 1;
done:
    if (st)
        ops->sub_close(st, &res);
    ctl_send_result(c->ctl, &res, sizeof res, x.lat, x.nlat);
    free(x.lat);
    return res.ok ? 0 : 1;
}

/* ---- orchestration ---- */

static uint64_t clampu(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void bulk_run(row *r, const bulk_ops *ops, const bulk_args *proto, size_t size, int nsubs)
{
    bulk_args a = *proto;
    a.ops = ops;
    a.size = size;
    a.nsubs = nsubs;
    if (g_opts.quick) {
        a.n_lat = clampu((4u << 20) / size, 3, 30);
        a.n_thr = clampu((8u << 20) / size, 4, 60);
        a.full_check = true;
    } else {
        a.n_lat = clampu((256ull << 20) / size, 10, 500);
        a.n_thr = clampu((512ull << 20) / size, 10, 2000);
    }
    a.window = (unsigned)clampu((32u << 20) / size, 1, 16);
    r->size = size;
    r->subs = nsubs;
    r->n = a.n_lat + a.n_thr;

    child pub = {0}, subs[4] = {{0}};
    snprintf(pub.netns, sizeof pub.netns, "%s", a.pub_ns);
    for (int i = 0; i < nsubs; i++)
        snprintf(subs[i].netns, sizeof subs[i].netns, "%s", a.sub_ns);
    int sv[4][2];
    bulk_args sa[4];
    int made = 0;
    for (int i = 0; i < nsubs; i++) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv[i]) < 0) {
            row_fail(r, "socketpair: %s", strerror(errno));
            goto out;
        }
        made++;
        a.ack[i] = sv[i][0];
        pub.fds[pub.nfds++] = sv[i][0];
    }
    for (int i = 0; i < nsubs; i++) {
        sa[i] = a;
        sa[i].sub_index = i;
        sa[i].ack[0] = sv[i][1];
        subs[i].fds[subs[i].nfds++] = sv[i][1];
        if (child_spawn(&subs[i], "bulk-sub", 1 + i, bulk_subscriber, &sa[i]) < 0 ||
            ctl_wait(&subs[i], 15000) != CTL_READY) {
            bulk_result br;
            if (ctl_recv_result(&subs[i], &br, sizeof br, NULL, NULL, 1000) == 0 && br.err[0])
                row_fail(r, "subscriber %d did not start: %s", i, br.err);
            else
                row_fail(r, "subscriber %d did not start", i);
            goto out;
        }
    }
    if (child_spawn(&pub, "bulk-pub", 0, bulk_publisher, &a) < 0) {
        row_fail(r, "fork: %s", strerror(errno));
        goto out;
    }
    for (int i = 0; i < made; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
    made = 0;
    bulk_result pr = {0};
    int b = ctl_wait(&pub, 15000);
    if (b != CTL_READY) {
        if (ctl_recv_result(&pub, &pr, sizeof pr, NULL, NULL, 1000) == 0 && pr.err[0])
            row_fail(r, "the publisher did not start: %s", pr.err);
        else
            row_fail(r, "the publisher did not start");
        goto out;
    }
    ctl_send(pub.ctl, CTL_GO);
    int timeout = 60000 + (int)((r->n * (uint64_t)nsubs * size) >> 20) * 20;
    int rc = ctl_recv_result(&pub, &pr, sizeof pr, NULL, NULL, timeout);
    if (rc == -2) {
        row_fail(r, "the publisher gave no result in %d s: hang", timeout / 1000);
        goto out;
    }
    if (rc < 0) {
        child_reap(&pub, 1000);
        row_fail(r, "the publisher died (wait status %d)", pub.exit_status);
        goto out;
    }
    if (pr.too_big) {
        row_set_status(r, ROW_NOT_SUPPORTED, "%s", ops->too_big ? ops->too_big
                                                                 : "size refused");
        for (int i = 0; i < nsubs; i++)
            ctl_send(subs[i].ctl, CTL_STOP);
        for (int i = 0; i < nsubs; i++)
            ctl_recv_result(&subs[i], &(bulk_result){0}, sizeof(bulk_result), NULL,
                            NULL, 5000);
        goto out;
    }
    if (!pr.ok) {
        if (pr.pub_drops)
            row_fail(r, "publisher: %s (it dropped %llu samples: link full)", pr.err,
                     (unsigned long long)pr.pub_drops);
        else
            row_fail(r, "publisher: %s", pr.err);
        goto out;
    }
    for (int i = 0; i < nsubs; i++)
        ctl_send(subs[i].ctl, CTL_STOP); /* in case one waits for nothing */
    uint64_t *all = calloc((size_t)(a.n_lat * (uint64_t)nsubs) + 1, sizeof *all);
    size_t nall = 0;
    uint64_t min_arrived = UINT64_MAX, bad = 0, dropped = 0, lost = 0, sum_arrived = 0;
    for (int i = 0; i < nsubs; i++) {
        bulk_result sr;
        uint64_t *lat = NULL;
        size_t nlat = 0;
        if (ctl_recv_result(&subs[i], &sr, sizeof sr, &lat, &nlat, 15000) < 0) {
            row_fail(r, "subscriber %d gave no result", i);
            free(all);
            goto out;
        }
        if (!sr.ok) {
            row_fail(r, "subscriber %d: %s", i, sr.err);
            free(lat);
            free(all);
            goto out;
        }
        for (size_t j = 0; j < nlat && nall < a.n_lat * (uint64_t)nsubs; j++)
            all[nall++] = lat[j];
        free(lat);
        if (sr.arrived < min_arrived)
            min_arrived = sr.arrived;
        sum_arrived += sr.arrived;
        bad += sr.bad;
        dropped += sr.dropped;
        lost += sr.lost;
    }
    r->arrived = min_arrived;
    r->lost = r->n - (min_arrived < r->n ? min_arrived : r->n);
    r->has_lat = true;
    lat_summary(all, nall, &r->p50_us, &r->p99_us, &r->max_us);
    free(all);
    r->rate = pr.t_end_ns > pr.t_start_ns
                  ? (double)a.n_thr * 1e9 / (double)(pr.t_end_ns - pr.t_start_ns)
                  : 0;
    snprintf(r->note, sizeof r->note, "%llu latency + %llu throughput samples, window %u",
             (unsigned long long)a.n_lat, (unsigned long long)a.n_thr, a.window);
    if (bad)
        row_fail(r, "%llu samples with wrong bytes, repeated or out of order",
                 (unsigned long long)bad);
    else if (sum_arrived != r->n * (uint64_t)nsubs)
        row_fail(r, "%llu of %llu deliveries missing (queue drops %llu, gaps %llu, "
                 "publisher drops %llu)",
                 (unsigned long long)(r->n * (uint64_t)nsubs - sum_arrived),
                 (unsigned long long)(r->n * (uint64_t)nsubs),
                 (unsigned long long)dropped, (unsigned long long)lost,
                 (unsigned long long)pr.pub_drops);
out:
    for (int i = 0; i < made; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
    if (pub.pid && child_reap(&pub, 10000) < 0 && r->status == ROW_OK)
        row_fail(r, "the publisher exited with wait status %d", pub.exit_status);
    for (int i = 0; i < nsubs; i++)
        if (subs[i].pid && child_reap(&subs[i], 10000) < 0 && r->status == ROW_OK)
            row_fail(r, "subscriber %d exited with wait status %d", i,
                     subs[i].exit_status);
    child_kill(&pub);
    for (int i = 0; i < nsubs; i++)
        child_kill(&subs[i]);
}

void bench_bulk(void)
{
    const bulk_ops *all[] = {&bulk_ipcnet_ops, &bulk_ipcnet_loan_ops,
                             &bulk_ipcnet_nosum_ops, &bulk_zmq_ops, &bulk_nng_ops,
                             &bulk_iox_ops};
    char dir[256];
    if (bench_tmpdir(dir, sizeof dir) < 0) {
        row_fail(row_new("bulk", "ipcnet", ""), "mkdtemp: %s", strerror(errno));
        return;
    }
    int max_subs = 1;
    for (int k = 0; k < g_opts.nsubs; k++)
        if (g_opts.subs[k] > max_subs)
            max_subs = g_opts.subs[k];
    /* iceoryx needs its daemon; start it once, for every size. */
    char iox_err[200] = "";
    int iox_rc = -1;
    if (want_transport("iceoryx") && bulk_iox_ops.pub_open)
        iox_rc = iox_roudi_start(dir, g_opts.sizes, g_opts.nsizes, max_subs, iox_err,
                                 sizeof iox_err);
    bool iox_up = iox_rc == 0;
    for (int si = 0; si < g_opts.nsizes; si++) {
        for (int k = 0; k < g_opts.nsubs; k++) {
            for (size_t t = 0; t < sizeof all / sizeof *all; t++) {
                const bulk_ops *ops = all[t];
                if (!want_transport(ops->name))
                    continue;
                row *r = row_new("bulk", ops->name, ops->variant);
                r->size = g_opts.sizes[si];
                r->subs = g_opts.subs[k];
                if (!ops->pub_open) {
                    row_set_status(r, ROW_NOT_INSTALLED, "%s", ops->missing);
                    continue;
                }
                if (ops == &bulk_iox_ops && !iox_up) {
                    row_set_status(r, iox_rc == -2 ? ROW_NOT_INSTALLED : ROW_UNAVAILABLE,
                                   "%s", iox_err);
                    continue;
                }
                if (g_opts.verbose) {
                    char b[32];
                    fprintf(stderr, "bulk %s %s x%d ...\n", ops->name,
                            size_str(r->size, b, sizeof b), r->subs);
                }
                bulk_args proto = {0};
                snprintf(proto.dir, sizeof proto.dir, "%s", dir);
                bulk_run(r, ops, &proto, g_opts.sizes[si], g_opts.subs[k]);
            }
        }
    }
    if (iox_up)
        iox_roudi_stop();
    bench_rmdir(dir);
}
