/* SPDX-License-Identifier: MIT */
/*
 * rtt.c — request/reply round trip: a server process echoes what a client
 * process sends, the client times each round trip.  IPCNet (provider on
 * its own thread, or in a plain dispatch loop; and in low-latency mode,
 * spin_us) beside a raw Unix-domain socketpair ping-pong (the floor),
 * ZeroMQ REQ/REP, NNG req0/rep0 and iceoryx request/response (busy-polling
 * and blocking in a waitset).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

typedef rtt_acc acc;

#define ECHO_PATH "bench/echo"

/* ---- the client loop every transport shares ---- */

int rtt_client_loop(child *c, const rtt_args *a, rtt_roundtrip_fn fn,
                    void *state, const char *variant)
{
    rtt_result res = {0};
    snprintf(res.variant, sizeof res.variant, "%s", variant ? variant : "");
    uint64_t *lat = calloc((size_t)a->iters + 1, sizeof *lat);
    uint8_t *req = malloc(a->size), *rep = malloc(a->size);
    if (!lat || !req || !rep) {
        snprintf(res.err, sizeof res.err, "out of memory");
        goto out;
    }
    uint64_t t_start = 0;
    for (long i = 0; i < a->warmup + a->iters; i++) {
        bool measured = i >= a->warmup;
        /* Fill and check outside the timed region: only the trip counts. */
        msg_fill(req, a->size, (uint64_t)i + 1);
        if (measured && !t_start)
            t_start = now_ns();
        uint64_t t0 = now_ns();
        if (fn(state, req, rep, a->size, res.err, sizeof res.err) < 0)
            goto out;
        uint64_t t1 = now_ns();
        uint64_t seq;
        if (memcmp(req, rep, a->size) != 0 || !msg_check(rep, a->size, &seq) ||
            seq != (uint64_t)i + 1) {
            snprintf(res.err, sizeof res.err,
                     "round trip %ld: the answer differs from the request", i);
            goto out;
        }
        if (measured) {
            lat[res.done] = t1 - t0;
            res.done++;
        }
    }
    res.t_total_ns = now_ns() - t_start;
    res.ok = 1;
out:
    ctl_send_result(c->ctl, &res, sizeof res, lat, res.done);
    free(lat);
    free(req);
    free(rep);
    return res.ok ? 0 : 1;
}

/* ---- raw Unix-domain socketpair: the floor ---- */

static int uds_server(child *c)
{
    rtt_args *a = c->arg;
    uint8_t *buf = malloc(a->size);
    ctl_send(c->ctl, CTL_READY);
    while (buf && readn(a->sock, buf, a->size) == 0)
        if (writen(a->sock, buf, a->size) < 0)
            break;
    free(buf);
    return 0; /* EOF: the client is done */
}

static int uds_roundtrip(void *state, const void *req, void *rep, size_t size,
                         char *err, size_t cap)
{
    int fd = *(int *)state;
    if (writen(fd, req, size) < 0 || readn(fd, rep, size) < 0) {
        snprintf(err, cap, "socketpair: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int uds_client(child *c)
{
    rtt_args *a = c->arg;
    int fd = a->sock;
    int rc = rtt_client_loop(c, a, uds_roundtrip, &fd, "socketpair, blocking");
    close(fd);
    return rc;
}

/* ---- the same socketpair, each side waiting in epoll_wait before it reads:
 * what an event loop (IPCNet's, ZeroMQ's) costs over a plain blocking read,
 * with no library at all ---- */

static int epoll_on(int fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(ep);
        return -1;
    }
    return ep;
}

static int epoll_in(int ep)
{
    struct epoll_event ev;
    int k;
    while ((k = epoll_wait(ep, &ev, 1, -1)) < 0 && errno == EINTR)
        ;
    return k == 1 ? 0 : -1;
}

static int uds_epoll_server(child *c)
{
    rtt_args *a = c->arg;
    uint8_t *buf = malloc(a->size);
    int ep = epoll_on(a->sock);
    ctl_send(c->ctl, CTL_READY);
    while (buf && ep >= 0 && epoll_in(ep) == 0 && readn(a->sock, buf, a->size) == 0)
        if (writen(a->sock, buf, a->size) < 0)
            break;
    if (ep >= 0)
        close(ep);
    free(buf);
    return 0;
}

typedef struct uds_ep {
    int fd, ep;
} uds_ep;

static int uds_epoll_roundtrip(void *state, const void *req, void *rep, size_t size,
                               char *err, size_t cap)
{
    uds_ep *u = state;
    if (writen(u->fd, req, size) < 0 || epoll_in(u->ep) < 0 ||
        readn(u->fd, rep, size) < 0) {
        snprintf(err, cap, "socketpair + epoll: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int uds_epoll_client(child *c)
{
    rtt_args *a = c->arg;
    uds_ep u = {a->sock, epoll_on(a->sock)};
    int rc = u.ep < 0 ? 1
                      : rtt_client_loop(c, a, uds_epoll_roundtrip, &u,
                                        "socketpair, epoll + read");
    if (u.ep >= 0)
        close(u.ep);
    close(u.fd);
    return rc;
}

/* ---- IPCNet ---- */

typedef struct echo_srv {
    volatile int stop;
    int efd;
} echo_srv;

static int echo_fn(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n;
    echo_srv *s = user;
    if (req->len == 4 && !memcmp(req->data, "STOP", 4)) {
        s->stop = 1;
        uint64_t one = 1;
        if (write(s->efd, &one, sizeof one) < 0)
            s->stop = 1;
        return IPCN_OK;
    }
    return ipcn_reply_set(ctx, req->data, req->len, NULL) == IPCN_OK
               ? IPCN_OK
               : IPCN_INTERNAL_ERROR;
}

/* spin_us 0: the blocking mode, whatever $IPCNET_SPIN_US says (it would
 * turn spinning on for a node opened with spin_us 0).  The policy of the
 * row, or none. */
static void node_opts(ipcn_node_opts *o, const rtt_args *a, uint32_t spin_us)
{
    bench_policy_env(a->policy);
    ipcn_node_opts_init(o);
    o->dir = a->dir;
    o->network = "bench";
    o->spin_us = spin_us;
    if (!spin_us)
        unsetenv("IPCNET_SPIN_US"); /* in this child process only */
}

int ipcnet_rtt_server(child *c)
{
    rtt_args *a = c->arg;
    echo_srv s = {.efd = eventfd(0, EFD_CLOEXEC)};
    ipcn_node_opts o;
    node_opts(&o, a, a->spin_us);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, "rtt-server", &o);
    if (st == IPCN_OK && a->hook)
        st = a->hook(n, 0);
    if (st != IPCN_OK) {
        fprintf(stderr, "rtt-server: ipcn_node_open: %d %s\n", st, ipcn_status_str(st));
        return 1;
    }
    char err[200];
    if (a->policy[0] && bench_policy_check(n, err, sizeof err) < 0) {
        fprintf(stderr, "rtt-server: %s\n", err);
        return 1;
    }
    st = ipcn_offer(n, ECHO_PATH, "application/octet-stream", echo_fn, &s);
    if (!IPCN_IS_OK(st)) {
        fprintf(stderr, "rtt-server: ipcn_offer: %d %s\n", st, ipcn_status_str(st));
        return 1;
    }
    if (a->mode == 1 && ipcn_node_start_thread(n) != IPCN_OK) {
        fprintf(stderr, "rtt-server: ipcn_node_start_thread failed\n");
        return 1;
    }
    ctl_send(c->ctl, CTL_READY);
    if (a->mode == 1) {
        uint64_t v;
        while (read(s.efd, &v, sizeof v) < 0 && errno == EINTR)
            ;
    } else {
        while (!s.stop)
            ipcn_node_dispatch(n, 1000);
    }
    ipcn_node_close(n);
    close(s.efd);
    return 0;
}

static int ipcnet_roundtrip(void *state, const void *req, void *rep,
                            size_t size, char *err, size_t cap)
{
    ipcn_node *n = state;
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, ECHO_PATH, req, size, NULL, &m, 5000);
    if (st != IPCN_OK || !m || m->len != size) {
        snprintf(err, cap, "ipcn_request: %d %s (answer of %zu bytes)", st,
                 ipcn_status_str(st), m ? m->len : 0);
        ipcn_msg_free(m);
        return -1;
    }
    memcpy(rep, m->data, size);
    ipcn_msg_free(m);
    return 0;
}

int ipcnet_rtt_client(child *c)
{
    rtt_args *a = c->arg;
    rtt_result res = {0};
    ipcn_node_opts o;
    node_opts(&o, a, a->spin_us);
    if (a->cli_dir[0])
        o.dir = a->cli_dir; /* net.c: behind another gateway */
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, "rtt-client", &o);
    if (st == IPCN_OK && a->hook)
        st = a->hook(n, 1);
    if (st != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "ipcn_node_open: %d %s", st,
                 ipcn_status_str(st));
        goto fail;
    }
    if (a->policy[0] && bench_policy_check(n, res.err, sizeof res.err) < 0)
        goto fail;
    if ((st = ipcn_node_wait_peers(n, 1, 10000)) != IPCN_OK) {
        snprintf(res.err, sizeof res.err, "no peer in 10 s: %d %s", st,
                 ipcn_status_str(st));
        goto fail;
    }
    /* The service is known once the provider's announce arrived. */
    uint64_t deadline = now_ns() + 10000000000ull;
    for (;;) {
        ipcn_msg *m = NULL;
        st = ipcn_request(n, ECHO_PATH, "hi", 2, NULL, &m, 2000);
        ipcn_msg_free(m);
        if (st == IPCN_OK)
            break;
        if (st != IPCN_NOT_FOUND || now_ns() > deadline) {
            snprintf(res.err, sizeof res.err, "first request: %d %s", st,
                     ipcn_status_str(st));
            goto fail;
        }
        ipcn_node_dispatch(n, 5);
    }
    int rc = rtt_client_loop(c, a, ipcnet_roundtrip, n, NULL);
    ipcn_msg *m = NULL;
    ipcn_request(n, ECHO_PATH, "STOP", 4, NULL, &m, 2000);
    ipcn_msg_free(m);
    ipcn_node_close(n);
    return rc;
fail:
    ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
    ipcn_node_close(n);
    return 1;
}

/* ---- orchestration ---- */

static void acc_add(acc *x, const uint64_t *lat, size_t n, uint64_t total_ns)
{
    if (x->n + n > x->cap) {
        size_t cap = (x->n + n) * 2;
        uint64_t *p = realloc(x->lat, cap * sizeof *p);
        if (!p)
            return;
        x->lat = p;
        x->cap = cap;
    }
    memcpy(x->lat + x->n, lat, n * sizeof *lat);
    x->n += n;
    x->total_ns += total_ns;
}

void rtt_run(row *r, child_fn server, child_fn client, rtt_args *a, acc *x)
{
    child srv = {0}, cli = {0};
    snprintf(srv.netns, sizeof srv.netns, "%s", a->srv_ns);
    snprintf(cli.netns, sizeof cli.netns, "%s", a->cli_ns);
    int sv[2] = {-1, -1};
    if (a->sock == -2) { /* uds: one socketpair, one end each */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
            row_fail(r, "socketpair: %s", strerror(errno));
            return;
        }
        srv.fds[srv.nfds++] = sv[0];
        cli.fds[cli.nfds++] = sv[1];
    }
    rtt_args sa = *a, ca = *a;
    sa.sock = sv[0];
    ca.sock = sv[1];
    if (child_spawn(&srv, "rtt-server", 0, server, &sa) < 0) {
        row_fail(r, "fork: %s", strerror(errno));
        goto out;
    }
    int b = ctl_wait(&srv, 15000);
    if (b != CTL_READY) {
        row_fail(r, "the server did not start (%s)", b == 0 ? "timeout" : "exited");
        goto out;
    }
    if (child_spawn(&cli, "rtt-client", 1, client, &ca) < 0) {
        row_fail(r, "fork: %s", strerror(errno));
        goto out;
    }
    if (sv[0] >= 0) {
        close(sv[0]);
        close(sv[1]);
        sv[0] = sv[1] = -1;
    }
    rtt_result res;
    uint64_t *lat = NULL;
    size_t nlat = 0;
    int timeout = 30000 + (int)(a->iters + a->warmup) / 2; /* ms */
    int rc = ctl_recv_result(&cli, &res, sizeof res, &lat, &nlat, timeout);
    if (rc == -2) {
        row_fail(r, "no result in %d s: hang (client killed)", timeout / 1000);
    } else if (rc < 0) {
        child_reap(&cli, 2000);
        row_fail(r, "the client died (wait status %d)", cli.exit_status);
    } else if (!res.ok) {
        row_fail(r, "%s", res.err);
    } else {
        acc_add(x, lat, nlat, res.t_total_ns);
        if (res.variant[0] && !r->variant[0])
            snprintf(r->variant, sizeof r->variant, "%s", res.variant);
    }
    free(lat);
    if (child_reap(&cli, 5000) < 0 && r->status == ROW_OK)
        row_fail(r, "the client exited with wait status %d", cli.exit_status);
    if (child_reap(&srv, 5000) < 0 && r->status == ROW_OK)
        row_fail(r, "the server did not exit cleanly (wait status %d%s)",
                 srv.exit_status, srv.exit_status == -2 ? ": hung, killed" : "");
out:
    child_kill(&cli);
    child_kill(&srv);
    if (sv[0] >= 0) {
        close(sv[0]);
        close(sv[1]);
    }
}

typedef struct rtt_case {
    row *r;
    child_fn server, client;
    rtt_args a;
    acc x;
    char why[200]; /* what the note says of this variant */
} rtt_case;

/* Server and client pinned to one core: a busy-polling peer then takes
 * the core from the one it waits for. */
static bool one_core(void)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return true;
    return g_opts.ncpus > 0 && g_opts.cpus[0] == g_opts.cpus[1 % g_opts.ncpus];
}

/* The transports run in turns, round after round, each round with fresh
 * processes: a change of load on the machine then touches every transport
 * alike, and the ratios of one run stay fair. */
void bench_rtt(size_t size)
{
    rtt_args a = {0};
    a.size = size < 8 ? 8 : size;
    int rounds = g_opts.quick ? 1 : g_opts.rounds;
    if (rounds < 1)
        rounds = 1;
    a.iters = g_opts.rtt_iters / rounds;
    if (a.iters < 1)
        a.iters = 1;
    a.warmup = g_opts.quick ? 50 : a.iters / 10 + 100;
    if (bench_tmpdir(a.dir, sizeof a.dir) < 0) {
        row_fail(row_new("rtt", "ipcnet", ""), "mkdtemp: %s", strerror(errno));
        return;
    }
    rtt_case cases[16] = {0};
    char policy[320] = "", perr[200] = "", limits[320] = "", lerr[200] = "";
    bool with_policy = want_transport("ipcnet") &&
                       bench_policy_write(a.dir, policy, sizeof policy, perr,
                                          sizeof perr) == 0;
    bool with_limits = want_transport("ipcnet") &&
                       bench_limits_write(a.dir, limits, sizeof limits, lerr,
                                          sizeof lerr) == 0;
    int n = 0;
    if (want_transport("uds")) {
        cases[n] = (rtt_case){.r = row_new("rtt", "uds", ""), .server = uds_server,
                              .client = uds_client, .a = a};
        cases[n++].a.sock = -2;
        cases[n] = (rtt_case){.r = row_new("rtt", "uds", ""), .server = uds_epoll_server,
                              .client = uds_epoll_client, .a = a};
        cases[n++].a.sock = -2;
    }
    row *rt = NULL, *rd = NULL;
    if (want_transport("ipcnet")) {
        const char *env = getenv("IPCNET_SPIN_US");
        rt = row_new("rtt", "ipcnet", "provider thread");
        cases[n] = (rtt_case){.r = rt, .server = ipcnet_rtt_server,
                              .client = ipcnet_rtt_client, .a = a};
        cases[n++].a.mode = 1;
        rd = row_new("rtt", "ipcnet", "dispatch loop");
        cases[n] = (rtt_case){.r = rd, .server = ipcnet_rtt_server,
                              .client = ipcnet_rtt_client, .a = a};
        cases[n++].a.mode = 0;
        if (env && *env)
            for (int i = n - 2; i < n; i++)
                snprintf(cases[i].why, sizeof cases[i].why,
                         "blocking mode: $IPCNET_SPIN_US ignored");
        /* The same two, both nodes enforcing a 100-rule default-deny
         * policy (policy.c), beside them in every round. */
        for (int m = 1; m >= 0; m--) {
            char v[40];
            snprintf(v, sizeof v, "%s, %s", m ? "provider thread" : "dispatch loop",
                     BENCH_POLICY_VARIANT);
            rtt_case *c = &cases[n++];
            *c = (rtt_case){.r = row_new("rtt", "ipcnet", v), .server = ipcnet_rtt_server,
                            .client = ipcnet_rtt_client, .a = a};
            c->a.mode = m;
            snprintf(c->a.policy, sizeof c->a.policy, "%s", policy);
            snprintf(c->why, sizeof c->why, "both nodes enforce a default-deny "
                     "policy of 100 rules, theirs the last%s",
                     env && *env ? "; blocking mode: $IPCNET_SPIN_US ignored" : "");
            if (!with_policy)
                row_fail(c->r, "the policy could not be written: %s", perr);
        }
        /* And with limits that apply to every request and never trigger
         * (issue 15: their cost). */
        for (int m = 1; m >= 0; m--) {
            char v[40];
            snprintf(v, sizeof v, "%s, %s", m ? "provider thread" : "dispatch loop",
                     BENCH_LIMITS_VARIANT);
            rtt_case *c = &cases[n++];
            *c = (rtt_case){.r = row_new("rtt", "ipcnet", v), .server = ipcnet_rtt_server,
                            .client = ipcnet_rtt_client, .a = a};
            c->a.mode = m;
            snprintf(c->a.policy, sizeof c->a.policy, "%s", limits);
            snprintf(c->why, sizeof c->why, "both nodes enforce limits that apply to "
                     "every request (per node and per user) and never trigger%s",
                     env && *env ? "; blocking mode: $IPCNET_SPIN_US ignored" : "");
            if (!with_limits)
                row_fail(c->r, "the policy could not be written: %s", lerr);
        }
        /* Low-latency mode: both nodes spin on their rings before they
         * block.  The provider serves in a plain dispatch loop: one thread
         * spins, runs the handler and answers, nothing else in the process
         * runs.  (On its own thread, the main thread asleep, it measured
         * the same.) */
        char v[40];
        snprintf(v, sizeof v, "low latency, spin %u us", (unsigned)g_opts.spin_us);
        rtt_case *c = &cases[n++];
        *c = (rtt_case){.r = row_new("rtt", "ipcnet", v), .server = ipcnet_rtt_server,
                        .client = ipcnet_rtt_client, .a = a};
        c->a.mode = 0;
        c->a.spin_us = g_opts.spin_us;
        snprintf(c->why, sizeof c->why,
                 "spin_us %u on both nodes, provider in a dispatch loop%s",
                 (unsigned)g_opts.spin_us,
                 one_core() ? "; one core only: the library does not spin here, "
                              "this is the blocking mode" : "");
    }
    const peer_ops *peers[] = {&peer_zmq, &peer_nng, &peer_iox, &peer_iox_ws};
    int iox_rc = 1; /* 1: RouDi not started yet */
    char iox_err[200] = "";
    for (size_t i = 0; i < sizeof peers / sizeof *peers; i++) {
        const peer_ops *p = peers[i];
        if (!want_transport(p->name))
            continue;
        row *r = row_new("rtt", p->name, p->variant);
        r->size = a.size;
        if (!p->rtt_server) {
            row_set_status(r, ROW_NOT_INSTALLED, "%s", p->missing);
            continue;
        }
        if (p == &peer_iox && one_core()) {
            row_set_status(r, ROW_UNAVAILABLE, "busy polling needs two cores: the client "
                           "and the server are on one (--cpus)");
            continue;
        }
        if (!strcmp(p->name, "iceoryx")) {
            if (iox_rc == 1)
                iox_rc = iox_roudi_start(a.dir, &a.size, 1, 1, iox_err, sizeof iox_err);
            if (iox_rc != 0) {
                row_set_status(r, iox_rc == -2 ? ROW_NOT_INSTALLED : ROW_UNAVAILABLE, "%s",
                               iox_err);
                continue;
            }
        }
        rtt_case *c = &cases[n++];
        *c = (rtt_case){.r = r, .server = p->rtt_server, .client = p->rtt_client, .a = a};
        if (p == &peer_iox)
            snprintf(c->why, sizeof c->why, "both sides poll without sleeping "
                     "(take in a loop, no waitset)");
        else if (p == &peer_iox_ws)
            snprintf(c->why, sizeof c->why, "both sides block in an iceoryx waitset");
    }
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < n; i++) {
            rtt_case *c = &cases[i];
            if (c->r->status != ROW_OK)
                continue; /* failed in an earlier round */
            if (g_opts.verbose)
                fprintf(stderr, "rtt %s %s round %d/%d ...\n", c->r->transport,
                        c->r->variant, round + 1, rounds);
            rtt_run(c->r, c->server, c->client, &c->a, &c->x);
        }
    }
    for (int i = 0; i < n; i++) {
        rtt_case *c = &cases[i];
        row *r = c->r;
        r->size = a.size;
        if (r->status == ROW_OK) {
            r->n = c->x.n;
            r->has_lat = true;
            lat_summary(c->x.lat, c->x.n, &r->p50_us, &r->p99_us, &r->max_us);
            r->rate = c->x.total_ns ? (double)c->x.n * 1e9 / (double)c->x.total_ns : 0;
            if (rounds > 1)
                snprintf(r->note, sizeof r->note, "%s%s%d rounds of %ld, interleaved with "
                         "the other transports", c->why, c->why[0] ? "; " : "", rounds,
                         a.iters);
            else
                snprintf(r->note, sizeof r->note, "%s", c->why);
        }
        free(c->x.lat);
    }
    if (iox_rc == 0)
        iox_roudi_stop();
    if (rt && rd) {
        /* The default figure is the better of the two blocking modes; the
         * low-latency row is a figure of its own. */
        row *best = rt;
        if (rd->status == ROW_OK && (rt->status != ROW_OK || rd->p50_us < rt->p50_us))
            best = rd;
        best->is_default = true;
    }
    bench_rmdir(a.dir);
}
