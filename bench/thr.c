/* SPDX-License-Identifier: MIT */
/*
 * thr.c — one-way small-message throughput: a sender process sends n
 * messages as fast as its API lets it, a receiver process counts and checks
 * them.  IPCNet pub/sub beside a raw Unix-domain stream (one write per
 * message, large reads) and ZeroMQ PUSH/PULL.
 *
 * Protocol: the sender sends paced warm-up messages (seq 0) until the
 * receiver has seen some (it tells the parent, which says go), then sends
 * seq 1..n back to back, then an end marker (repeated every 100 ms by
 * IPCNet, whose links may drop: a marker that arrives comes after every
 * sample sent before it), and keeps its transport alive until the parent
 * says stop.  The receiver stops at seq n or at an end marker.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

#define THR_PATH "bench/thr"
#define IDLE_NS 10000000000ull /* safety only: the end marker ends a run */

void thr_count(thr_counter *k, int ctl, const void *data, size_t len)
{
    (void)len;
    uint64_t seq;
    if (!msg_check(data, len, &seq)) {
        k->bad++;
        return;
    }
    if (seq == THR_END) {
        k->done = true;
        return;
    }
    if (seq == 0) {
        if (++k->warm >= 10 && !k->warm_sent) {
            ctl_send(ctl, CTL_WARM);
            k->warm_sent = true;
        }
        return;
    }
    /* The clock is read for the first arrival, every 64th and the last
     * message: at several million messages a second a read per message
     * (~30 ns here) would be a good part of what is measured, for every
     * transport alike.  A lost last message leaves t_last at most 63
     * arrivals early (out of 1 M). */
    k->arrived++;
    if (!k->t_first || !(k->arrived & 63) || seq == k->n) {
        uint64_t t = now_ns();
        if (!k->t_first)
            k->t_first = t;
        k->t_last = t;
    }
    if (seq <= k->last_seq || seq > k->n)
        k->out_of_order++;
    else
        k->last_seq = seq;
    if (seq == k->n)
        k->done = true;
}

/* Is the receiver done: everything came, or silence after (or instead of)
 * the measured messages. */
static bool rx_finished(thr_counter *k, uint64_t start)
{
    uint64_t now = now_ns();
    if (k->done)
        return true;
    if (k->t_last)
        return now - k->t_last > IDLE_NS;
    return now - start > 30000000000ull;
}

static void counter_to_result(const thr_counter *k, thr_result *res)
{
    res->t_first_ns = k->t_first;
    res->t_last_ns = k->t_last;
    res->arrived = k->arrived;
    res->bad = k->bad;
    res->out_of_order = k->out_of_order;
    res->last_seq = k->last_seq;
}

/* ---- raw Unix-domain stream ---- */

static int uds_sender(child *c)
{
    thr_args *a = c->arg;
    thr_result res = {0};
    uint8_t *buf = calloc(1, a->size);
    int fd = a->sock;
    ctl_send(c->ctl, CTL_READY);
    msg_fill(buf, a->size, 0);
    for (;;) { /* warm-up */
        int b = ctl_poll(c->ctl);
        if (b == CTL_GO)
            break;
        if (b < 0)
            return 1;
        if (writen(fd, buf, a->size) < 0)
            break;
        usleep(200);
    }
    res.t_first_ns = now_ns();
    for (uint64_t i = 1; i <= a->n; i++) {
        msg_fill(buf, a->size, i);
        if (writen(fd, buf, a->size) < 0) {
            res.send_failed++;
            break;
        }
        res.sent++;
    }
    res.t_last_ns = now_ns();
    msg_fill(buf, a->size, THR_END);
    writen(fd, buf, a->size);
    res.ok = 1;
    while (ctl_poll(c->ctl) == 0)
        usleep(1000);
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    free(buf);
    return 0;
}

static int uds_receiver(child *c)
{
    thr_args *a = c->arg;
    thr_result res = {0};
    thr_counter k = {.n = a->n};
    size_t cap = 64 << 10, have = 0;
    uint8_t *buf = malloc(cap);
    uint64_t start = now_ns();
    ctl_send(c->ctl, CTL_READY);
    struct pollfd pfd = {.fd = a->sock, .events = POLLIN};
    while (!rx_finished(&k, start)) {
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t r = read(a->sock, buf + have, cap - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        size_t off = 0;
        for (; off + a->size <= have; off += a->size)
            thr_count(&k, c->ctl, buf + off, a->size);
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    counter_to_result(&k, &res);
    res.ok = 1;
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    free(buf);
    return 0;
}

/* ---- IPCNet ---- */

/* The row's policy, or none. */
static void node_opts(ipcn_node_opts *o, const thr_args *a)
{
    bench_policy_env(a->policy);
    ipcn_node_opts_init(o);
    o->dir = a->dir;
    o->network = "bench";
}

static int ipcnet_sender(child *c)
{
    thr_args *a = c->arg;
    thr_result res = {0};
    uint8_t *buf = calloc(1, a->size);
    ipcn_node_opts o;
    node_opts(&o, a);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, "thr-pub", &o);
    if (st != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "ipcn_node_open: %d %s", st, ipcn_status_str(st));
        goto done;
    }
    if (a->policy[0] && bench_policy_check(n, res.err, sizeof res.err) < 0)
        goto done;
    st = ipcn_announce(n, THR_PATH, IPCN_STREAM, NULL, NULL, 0);
    if (IPCN_IS_OK(st) && a->prov) /* a record, chained, per sample */
        st = ipcn_prov_enable(n, THR_PATH, 1);
    if (!IPCN_IS_OK(st) || (st = ipcn_node_wait_peers(n, 1, 10000)) != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "announce / wait for the subscriber: %d %s",
                 st, ipcn_status_str(st));
        goto done;
    }
    ctl_send(c->ctl, CTL_READY);
    msg_fill(buf, a->size, 0);
    for (;;) { /* warm-up, paced, dispatching so that links and
                  subscriptions settle */
        int b = ctl_poll(c->ctl);
        if (b == CTL_GO)
            break;
        if (b < 0)
            goto done;
        ipcn_publish(n, THR_PATH, buf, a->size);
        ipcn_node_dispatch(n, 0);
        usleep(200);
    }
    res.t_first_ns = now_ns();
    for (uint64_t i = 1; i <= a->n; i++) {
        msg_fill(buf, a->size, i);
        st = ipcn_publish(n, THR_PATH, buf, a->size);
        if (st != IPCN_OK)
            res.send_failed++;
        res.sent++;
    }
    res.t_last_ns = now_ns();
    /* The samples' drops, before any end marker is published. */
    ipcn_node_stats ns = {.size = sizeof ns};
    if (ipcn_node_get_stats(n, &ns) == IPCN_OK)
        res.pub_drops = ns.drops;
    /* Keep flushing, with an end marker every 100 ms, until the parent
     * says stop. */
    msg_fill(buf, a->size, THR_END);
    struct pollfd pfd[2] = {{.fd = c->ctl, .events = POLLIN},
                            {.fd = ipcn_node_fd(n), .events = POLLIN}};
    uint64_t next_end = 0;
    for (;;) {
        if (now_ns() >= next_end) {
            ipcn_publish(n, THR_PATH, buf, a->size);
            next_end = now_ns() + 100000000ull;
        }
        if (poll(pfd, 2, 100) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            break;
        if (pfd[1].revents)
            ipcn_node_dispatch(n, 0);
    }
    if (ipcn_node_get_stats(n, &ns) == IPCN_OK) {
        res.peers_lost = ns.peers_lost;
        res.peers_end = ns.peers;
    }
    res.ok = 1;
done:
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    ipcn_node_close(n);
    free(buf);
    return res.ok ? 0 : 1;
}

typedef struct cb_state {
    thr_counter k;
    int ctl;
} cb_state;

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    cb_state *s = user;
    if (m->status == IPCN_OK)
        thr_count(&s->k, s->ctl, m->data, m->len);
}

static int ipcnet_receiver(child *c)
{
    thr_args *a = c->arg;
    thr_result res = {0};
    cb_state s = {.k = {.n = a->n}, .ctl = c->ctl};
    ipcn_node_opts o;
    node_opts(&o, a);
    ipcn_node *n = NULL;
    ipcn_sub sub;
    int st = ipcn_node_open(&n, "thr-sub", &o);
    if (st != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "ipcn_node_open: %d %s", st, ipcn_status_str(st));
        goto done;
    }
    if (a->policy[0] && bench_policy_check(n, res.err, sizeof res.err) < 0)
        goto done;
    /* A deep queue: what is measured is the transport, not a queue cut
     * short on purpose.  Whatever is dropped is counted and reported. */
    st = ipcn_subscribe(n, THR_PATH, 1u << 16, a->mode ? on_sample : NULL, &s, &sub);
    if (st != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "ipcn_subscribe: %d %s", st, ipcn_status_str(st));
        goto done;
    }
    ctl_send(c->ctl, CTL_READY);
    uint64_t start = now_ns();
    while (!rx_finished(&s.k, start)) {
        if (a->mode) {
            ipcn_node_dispatch(n, 100);
            continue;
        }
        ipcn_msg *m = NULL;
        st = ipcn_sub_take(n, sub, &m, 100);
        if (st == IPCN_OK) {
            thr_count(&s.k, c->ctl, m->data, m->len);
            ipcn_msg_free(m);
        } else if (st != IPCN_NO_DATA) {
            snprintf(res.err, sizeof res.err, "ipcn_sub_take: %d %s", st, ipcn_status_str(st));
            goto done;
        }
    }
    ipcn_sub_stats ss = {.size = sizeof ss};
    if (ipcn_sub_get_stats(n, sub, &ss) == IPCN_OK) {
        res.lost = ss.lost;
        res.dropped = ss.dropped;
        res.received = ss.received;
    }
    ipcn_node_stats ns = {.size = sizeof ns};
    if (ipcn_node_get_stats(n, &ns) == IPCN_OK) {
        res.peers_lost = ns.peers_lost;
        res.peers_end = ns.peers;
        res.bytes_in = ns.bytes_in;
        res.frames_in = ns.frames_in;
    }
    res.ok = 1;
done:
    counter_to_result(&s.k, &res);
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    ipcn_node_close(n);
    return res.ok ? 0 : 1;
}

/* ---- orchestration ---- */

static void run_one(row *r, const peer_ops *p, thr_args *a, bool uds, bool ipcnet)
{
    child snd = {0}, rcv = {0};
    int sv[2] = {-1, -1};
    if (uds) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            row_fail(r, "socketpair: %s", strerror(errno));
            return;
        }
        snd.fds[snd.nfds++] = sv[0];
        rcv.fds[rcv.nfds++] = sv[1];
    }
    thr_args sa = *a, ra = *a;
    sa.sock = sv[0];
    ra.sock = sv[1];
    r->size = a->size;
    r->n = a->n;
    thr_result rs = {0}, ss = {0};
    if (child_spawn(&rcv, "thr-receiver", 1, p->thr_receiver, &ra) < 0 ||
        ctl_wait(&rcv, 15000) != CTL_READY) {
        row_fail(r, "the receiver did not start");
        goto out;
    }
    if (child_spawn(&snd, "thr-sender", 0, p->thr_sender, &sa) < 0) {
        row_fail(r, "fork: %s", strerror(errno));
        goto out;
    }
    if (sv[0] >= 0) {
        close(sv[0]);
        close(sv[1]);
        sv[0] = sv[1] = -1;
    }
    int b = ctl_wait(&snd, 15000);
    if (b != CTL_READY) {
        if (ctl_recv_result(&snd, &ss, sizeof ss, NULL, NULL, 1000) == 0 && ss.err[0])
            row_fail(r, "the sender did not start: %s", ss.err);
        else
            row_fail(r, "the sender did not start");
        goto out;
    }
    b = ctl_wait(&rcv, 15000);
    if (b != CTL_WARM) {
        row_fail(r, "no warm-up message reached the receiver in 15 s");
        goto out;
    }
    ctl_send(snd.ctl, CTL_GO);
    int timeout = 60000 + (int)(a->n / 1000);
    int rc = ctl_recv_result(&rcv, &rs, sizeof rs, NULL, NULL, timeout);
    ctl_send(snd.ctl, CTL_STOP);
    int rc2 = ctl_recv_result(&snd, &ss, sizeof ss, NULL, NULL, 10000);
    if (rc == -2) {
        row_fail(r, "the receiver gave no result in %d s: hang", timeout / 1000);
        goto out;
    }
    if (rc < 0 || rc2 < 0) {
        row_fail(r, "the %s died", rc < 0 ? "receiver" : "sender");
        goto out;
    }
    if (!rs.ok || !ss.ok) {
        row_fail(r, "%s", !rs.ok ? rs.err : ss.err);
        goto out;
    }
    r->arrived = rs.arrived;
    r->lost = a->n - (rs.arrived < a->n ? rs.arrived : a->n);
    uint64_t send_ns = ss.t_last_ns - ss.t_first_ns;
    uint64_t recv_ns = rs.t_last_ns > ss.t_first_ns ? rs.t_last_ns - ss.t_first_ns : 0;
    r->rate = send_ns ? (double)ss.sent * 1e9 / (double)send_ns : 0;
    r->rx_rate = recv_ns ? (double)rs.arrived * 1e9 / (double)recv_ns : 0;
    if (rs.bad || rs.out_of_order) {
        row_fail(r, "%llu messages with wrong bytes, %llu out of order or repeated",
                 (unsigned long long)rs.bad, (unsigned long long)rs.out_of_order);
        goto out;
    }
    if (ipcnet) {
        /* Every sample sent either arrived or is on a counter. */
        uint64_t accounted = rs.arrived + rs.dropped + ss.pub_drops;
        snprintf(r->note, sizeof r->note,
                 "%llu of %llu arrived; subscriber: %llu lost (gaps), %llu dropped "
                 "(queue); publisher: %llu dropped (link full), %llu publish errors",
                 (unsigned long long)rs.arrived, (unsigned long long)a->n,
                 (unsigned long long)rs.lost, (unsigned long long)rs.dropped,
                 (unsigned long long)ss.pub_drops,
                 (unsigned long long)ss.send_failed);
        if (accounted != a->n)
            row_fail(r, "%llu of %llu samples neither arrived nor were counted as "
                     "dropped (arrived %llu, last seq %llu, queue drops %llu, publisher "
                     "drops %llu, gaps %llu; subscriber: %llu frames in, peers lost %llu, "
                     "%llu linked at the end; publisher: peers lost %llu, %llu linked)",
                     (unsigned long long)(a->n > accounted ? a->n - accounted : 0),
                     (unsigned long long)a->n, (unsigned long long)rs.arrived,
                     (unsigned long long)rs.last_seq,
                     (unsigned long long)rs.dropped, (unsigned long long)ss.pub_drops,
                     (unsigned long long)rs.lost, (unsigned long long)rs.frames_in,
                     (unsigned long long)rs.peers_lost, (unsigned long long)rs.peers_end,
                     (unsigned long long)ss.peers_lost, (unsigned long long)ss.peers_end);
    } else {
        snprintf(r->note, sizeof r->note, "%llu of %llu arrived",
                 (unsigned long long)rs.arrived, (unsigned long long)a->n);
        if (rs.arrived != a->n)
            row_fail(r, "only %llu of %llu messages arrived over a lossless transport",
                     (unsigned long long)rs.arrived, (unsigned long long)a->n);
    }
out:
    if (child_reap(&snd, 5000) < 0 && r->status == ROW_OK)
        row_fail(r, "the sender exited with wait status %d", snd.exit_status);
    if (child_reap(&rcv, 5000) < 0 && r->status == ROW_OK)
        row_fail(r, "the receiver exited with wait status %d", rcv.exit_status);
    child_kill(&snd);
    child_kill(&rcv);
    if (sv[0] >= 0) {
        close(sv[0]);
        close(sv[1]);
    }
}

void bench_thr(void)
{
    thr_args a = {0};
    a.size = 64;
    a.n = (uint64_t)g_opts.thr_msgs;
    if (bench_tmpdir(a.dir, sizeof a.dir) < 0) {
        row_fail(row_new("thr", "ipcnet", ""), "mkdtemp: %s", strerror(errno));
        return;
    }
    if (want_transport("uds")) {
        static const peer_ops uds = {"uds", "stream, write per message", NULL, NULL,
                                     uds_sender, uds_receiver, NULL};
        run_one(row_new("thr", "uds", uds.variant), &uds, &a, true, false);
    }
    if (want_transport("ipcnet")) {
        static const peer_ops ip = {"ipcnet", "", NULL, NULL, ipcnet_sender,
                                    ipcnet_receiver, NULL};
        /* Each receiver mode without, then with, the 100-rule policy
         * (policy.c) on both nodes. */
        char perr[200], lerr[200];
        thr_args t = a, tp = a, tl = a;
        bool with_policy = bench_policy_write(a.dir, tp.policy, sizeof tp.policy, perr,
                                              sizeof perr) == 0;
        bool with_limits = bench_limits_write(a.dir, tl.policy, sizeof tl.policy, lerr,
                                              sizeof lerr) == 0;
        row *rt = NULL, *rc = NULL;
        for (int m = 0; m < 2; m++) {
            const char *v = m ? "pub/sub, callback" : "pub/sub, sub_take";
            t.mode = tp.mode = tl.mode = m;
            row *r = row_new("thr", "ipcnet", v);
            run_one(r, &ip, &t, false, true);
            *(m ? &rc : &rt) = r;
            char vp[40];
            snprintf(vp, sizeof vp, "%s, %s", v, BENCH_POLICY_VARIANT);
            r = row_new("thr", "ipcnet", vp);
            if (!with_policy) {
                row_fail(r, "the policy could not be written: %s", perr);
                continue;
            }
            run_one(r, &ip, &tp, false, true);
            if (r->status == ROW_OK) {
                char note[sizeof r->note];
                snprintf(note, sizeof note, "%s", r->note);
                snprintf(r->note, sizeof r->note, "both nodes enforce a default-deny "
                         "policy of 100 rules, theirs the last; %.400s", note);
            }
            /* Limits that apply to every sample and never trigger
             * (issue 15: their cost). */
            snprintf(vp, sizeof vp, "%s, %s", v, BENCH_LIMITS_VARIANT);
            r = row_new("thr", "ipcnet", vp);
            if (!with_limits) {
                row_fail(r, "the policy could not be written: %s", lerr);
                continue;
            }
            run_one(r, &ip, &tl, false, true);
            if (r->status == ROW_OK) {
                char note[sizeof r->note];
                snprintf(note, sizeof note, "%s", r->note);
                snprintf(r->note, sizeof r->note, "both nodes enforce limits that "
                         "apply to every sample and never trigger; %.400s", note);
            }
        }
        /* Provenance on (issue 19): beside the callback row with it off
         * (which is the 64 B hot path with the one flag test). */
        thr_args tv = a;
        tv.mode = 1;
        tv.prov = true;
        row *rv = row_new("thr", "ipcnet", "pub/sub, callback, provenance");
        run_one(rv, &ip, &tv, false, true);
        if (rv->status == ROW_OK) {
            char note[sizeof rv->note];
            snprintf(note, sizeof note, "%s", rv->note);
            snprintf(rv->note, sizeof rv->note, "the publisher records, chains "
                     "and sends a provenance record with each sample; %.400s", note);
        }
        row *best = rt;
        if (rc->status == ROW_OK && (rt->status != ROW_OK || rc->rx_rate > rt->rx_rate))
            best = rc;
        best->is_default = true;
    }
    if (want_transport(peer_zmq.name)) {
        row *r = row_new("thr", peer_zmq.name, "PUSH/PULL");
        r->size = a.size;
        r->n = a.n;
        if (!peer_zmq.thr_sender)
            row_set_status(r, ROW_NOT_INSTALLED, "%s", peer_zmq.missing);
        else
            run_one(r, &peer_zmq, &a, false, false);
    }
    bench_rmdir(a.dir);
}
