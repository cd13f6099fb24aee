/* SPDX-License-Identifier: MIT */
/*
 * test_route_raw.c — routing (protocol 19.2) seen from the wire: a raw
 * client (raw_client.h, nothing of libipcnet) of this process's uid links
 * to a library node over Unix and acts as a router R in front of a fake
 * node X of another host (and a fake router RR between them).  It tells
 * the node of X in a ROUTE, then speaks as X in FORWARD frames.  The node
 * opens a routed link to X (its HELLO comes in a FORWARD for X), finds
 * X's resources (provider "x@hostx"), its request reaches X and X's
 * REPLY ends it, its subscription gets X's samples; duplicates, loops
 * (our id in the path, no hops left) are dropped and counted; a FORWARD
 * for a node nobody reaches bounces back (302); GONE for X closes the
 * routed link (the pending request ends 303, X's resources go).  A lost
 * HELLO, and X starting over.  Then malformed ROUTE and FORWARD frames (200, the link closed), a ROUTE
 * from a peer that may not route (202, counted, the link kept).
 */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "ipcnet_hosts.h"
#include "raw_client.h"
#include "testutil.h"

#define VICTIM "routev"
#define X_ID 0x5858585858580001ull  /* "XXXXXX" */
#define RR_ID 0x5252525252520001ull /* the router behind R */
#define NOBODY_ID 0x4e4f424f44590001ull
#define FWD_BOUNCE 1u
#define ROUTE_GONE 1u
#define ST_SERVICE_UNAVAILABLE 303
#define ST_BAD_GATEWAY 302
#define ST_FORBIDDEN 202

static ipcn_node *victim;
static uint64_t victim_id;

static int setup(void **state)
{
    (void)state;
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/%s.sock",
             raw_target.dir, VICTIM);
    hello_caps = CAP_ROUTE;
    int st = ipcn_node_open(&victim, VICTIM, NULL);
    if (st != IPCN_OK)
        fail_msg("ipcn_node_open: %d", st);
    assert_int_equal(ipcn_node_start_thread(victim), IPCN_OK);
    victim_id = ipcn_node_id(victim);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    raw_free_all();
    ipcn_node_close(victim);
    victim = NULL;
    hello_caps = 0;
    return 0;
}

static ipcn_node_stats stats(void)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(victim, &s), IPCN_OK);
    return s;
}

/* A ROUTE from R (src) of node: npath routers in path. */
static void send_route(raw *r, uint64_t node, uint8_t flags, const char *name,
                       const char *host, const uint64_t *path, uint8_t npath)
{
    B.len = 0;
    size_t off = f_begin(&B, T_ROUTE, r->id, 0);
    b_u64(&B, node);
    b_u8(&B, flags);
    b_u8(&B, npath);
    b_u16(&B, 0);
    b_u32(&B, 1000);
    b_str(&B, name, strlen(name));
    b_str(&B, host, strlen(host));
    b_str(&B, "robot", 5);
    for (uint8_t i = 0; i < npath; i++)
        b_u64(&B, path[i]);
    f_end(&B, off);
    raw_send_buf(r);
}

static void route_x(raw *r)
{
    const uint64_t path[] = {RR_ID, r->id};
    send_route(r, X_ID, 0, "x", "hostx", path, 2);
}

/* Wrap the frame in in (one frame, its src X) in a FORWARD from src to
 * dst, with seq, ttl and the routers passed; sent by r. */
static void send_forward(raw *r, buf *in, uint64_t src, uint64_t dst,
                         uint64_t seq, uint8_t ttl, const uint64_t *path,
                         uint8_t npath)
{
    /* The inner frame's dst is the outer one's. */
    st64(in->p + 24, dst);
    f_seal(in, 0);
    B.len = 0;
    size_t off = f_begin(&B, T_FORWARD, src, 0);
    B.p[off + 7] = ttl;
    st64(B.p + off + 24, dst);
    b_u64(&B, seq);
    b_u8(&B, 0);
    b_u8(&B, npath);
    b_u16(&B, 0);
    b_u32(&B, 0);
    for (uint8_t i = 0; i < npath; i++)
        b_u64(&B, path[i]);
    b_put(&B, in->p, in->len);
    f_end(&B, off);
    raw_send_buf(r);
    in->len = 0;
}

static uint64_t x_seq;

/* X sends what is in in (one frame), through RR and R. */
static void x_send(raw *r, buf *in)
{
    const uint64_t path[] = {RR_ID};
    send_forward(r, in, X_ID, victim_id, ++x_seq, 7, path, 1);
}

/* The inner frame of a FORWARD, cut as X's end of the link reads it
 * (x: a raw with no socket, its rx fed by hand). */
static void feed(raw *x, const uint8_t *p, size_t n)
{
    if (x->rx_cap - x->rx_len < n) {
        x->rx_cap = x->rx_len + n + 4096;
        x->rx = realloc(x->rx, x->rx_cap);
        assert_non_null(x->rx);
    }
    memcpy(x->rx + x->rx_len, p, n);
    x->rx_len += n;
}

/* The next FORWARD R gets for X (bounces too): its inner frame in *in
 * (through x), its outer fields in *out.  Frames to R itself are
 * answered (PING) or skipped. */
static void next_for_x(raw *r, raw *x, rframe *out, rframe *in)
{
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, out, left > 0 ? (int)left : 0);
        if (k <= 0)
            fail_msg("no FORWARD for X came");
        if (out->type == T_PING) {
            B.len = 0;
            enc_stamp(&B, T_PONG, r->id, out->stamp);
            raw_send_buf(r);
        }
        if (out->type != T_FORWARD) {
            rframe_free(out);
            continue;
        }
        assert_int_equal(out->src, victim_id);
        assert_int_equal(out->dst, X_ID);
        assert_true(out->len >= 16 + HDR);
        uint8_t npath = out->pl[9];
        assert_int_equal(npath, 0); /* the origin is no router */
        assert_true(ld64(out->pl) > 0);
        if (out->pl[8] & FWD_BOUNCE) {
            memset(in, 0, sizeof *in);
            in->type = 0;
            return;
        }
        feed(x, out->pl + 16, out->len - 16);
        assert_int_equal(raw_next(x, in, 0), 1);
        assert_int_equal(in->src, victim_id);
        assert_int_equal(in->dst, X_ID);
        return;
    }
}

/* The next frame of type want for X (others: PING answered as X, the
 * rest skipped). */
static void x_expect(raw *r, raw *x, uint8_t want, rframe *in)
{
    rframe out;
    for (int i = 0; i < 64; i++) {
        next_for_x(r, x, &out, in);
        rframe_free(&out);
        if (in->type == want)
            return;
        if (in->type == T_PING) {
            buf p = {0};
            enc_stamp(&p, T_PONG, X_ID, in->stamp);
            x_send(r, &p);
            free(p.p);
        }
        rframe_free(in);
    }
    fail_msg("no frame of type %u for X", want);
}

/* Everything the node sent for X until now goes to x: R pings, and
 * reads up to its PONG. */
static void x_sync(raw *r, raw *x, uint64_t stamp)
{
    B.len = 0;
    enc_stamp(&B, T_PING, r->id, stamp);
    raw_send_buf(r);
    rframe out;
    for (;;) {
        assert_int_equal(raw_next(r, &out, IO_TIMEOUT_MS), 1);
        bool done = out.type == T_PONG && out.stamp == stamp;
        if (out.type == T_FORWARD && !(out.pl[8] & FWD_BOUNCE)) {
            feed(x, out.pl + 16, out.len - 16);
            rframe in;
            while (raw_next(x, &in, 0) == 1)
                rframe_free(&in);
        }
        rframe_free(&out);
        if (done)
            return;
    }
}

static int find_count(const char *pattern, const char *provider)
{
    ipcn_resource_list *l = NULL;
    assert_int_equal(ipcn_find(victim, pattern, IPCN_ANY, &l), IPCN_OK);
    int k = 0;
    for (size_t i = 0; i < l->count; i++)
        if (!provider || !strcmp(l->items[i].provider, provider))
            k++;
    ipcn_resource_list_free(l);
    return k;
}

static void wait_found(const char *pattern, const char *provider, int want)
{
    for (int i = 0; i < 1000 && find_count(pattern, provider) != want; i++)
        usleep(10000);
    assert_int_equal(find_count(pattern, provider), want);
}

typedef struct asked {
    pthread_t t;
    const char *path;
    int status;
    char body[64];
} asked;

static void *ask(void *arg)
{
    asked *a = arg;
    ipcn_msg *m = NULL;
    a->status = ipcn_request(victim, a->path, "hi", 2, "text/plain", &m, 20000);
    if (m) {
        snprintf(a->body, sizeof a->body, "%.*s", (int)m->len,
                 (const char *)m->data);
        ipcn_msg_free(m);
    }
    return NULL;
}

static atomic_int samples;
static atomic_int sample_bad;

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n, (void)user;
    if (m->len != 5 || memcmp(m->data, "frame", 5) != 0)
        atomic_fetch_add(&sample_bad, 1);
    atomic_fetch_add(&samples, 1);
}

/* R links (its hello says it takes ROUTE), tells of X, and X links
 * through it: the node's HELLO for X comes in a FORWARD, X answers with
 * its own and announces a service and a stream. */
static raw *link_x(raw **xo)
{
    raw *r = raw_link();
    raw *x = raw_new(); /* no socket: X's end, fed by hand */
    x_seq = 0;
    route_x(r);
    rframe in;
    x_expect(r, x, T_HELLO, &in);
    assert_int_equal(x->victim_caps & (1u | 2u), 0); /* no SHM, no RING */
    assert_true(x->victim_caps & CAP_ROUTE);
    rframe_free(&in);
    buf p = {0};
    enc_hello(&p, X_ID, "x");
    x_send(r, &p);
    enc_announce(&p, X_ID, 3, 1, "x/svc", 5);
    x_send(r, &p);
    enc_announce(&p, X_ID, 2, 1, "x/cam", 5);
    x_send(r, &p);
    free(p.p);
    wait_found("x/**", "x@hostx", 2);
    *xo = x;
    return r;
}

static void t_routed_peer(void **state)
{
    (void)state;
    ipcn_node_stats s0 = stats();
    raw *x;
    raw *r = link_x(&x);
    /* ipcn_links: X is a routed link, next hop R (a Unix peer), two
     * routers on the way (R, then RR); ipcn_route: R, RR (told by no
     * ROUTE of its own: its id), then X. */
    ipcn_link_info *li = NULL;
    size_t nl = 0, xi = SIZE_MAX;
    assert_int_equal(ipcn_links(victim, &li, &nl), IPCN_OK);
    for (size_t i = 0; i < nl; i++)
        if (!strcmp(li[i].peer, "x@hostx"))
            xi = i;
    assert_true(xi < nl);
    assert_int_equal(li[xi].kind, IPCN_LINK_ROUTED);
    assert_string_equal(li[xi].host, "hostx");
    assert_int_equal(li[xi].hops, 2);
    assert_true(!strncmp(li[xi].via, "hostile-", 8));
    assert_int_equal(li[0].kind, IPCN_LINK_UNIX); /* sorted by kind */
    char **hops = NULL;
    size_t nh = 0;
    assert_int_equal(ipcn_route(victim, "x@hostx", &hops, &nh), IPCN_OK);
    assert_int_equal(nh, 3);
    assert_string_equal(hops[0], li[xi].via);
    assert_string_equal(hops[1], "5252525252520001");
    assert_string_equal(hops[2], "x@hostx");
    ipcn_route_free(hops, nh);
    ipcn_links_free(li, nl);
    /* A request to X: it reaches X, X's REPLY ends it. */
    asked a = {.path = "x/svc"};
    assert_int_equal(pthread_create(&a.t, NULL, ask, &a), 0);
    rframe in;
    x_expect(r, x, T_REQUEST, &in);
    uint64_t corr = in.corr;
    rframe_free(&in);
    buf p = {0};
    enc_reply(&p, T_REPLY, X_ID, corr, ST_OK);
    x_send(r, &p);
    pthread_join(a.t, NULL);
    assert_int_equal(a.status, IPCN_OK);
    assert_string_equal(a.body, "x");
    /* A subscription: its SUBSCRIBE reaches X, X's samples come. */
    atomic_store(&samples, 0);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(victim, "x/cam", 16, on_sample, NULL, &sub),
                     IPCN_OK);
    x_expect(r, x, T_SUBSCRIBE, &in);
    rframe_free(&in);
    for (int i = 1; i <= 3; i++) {
        enc_sample(&p, X_ID, (uint64_t)i, "x/cam", "frame", 5);
        x_send(r, &p);
    }
    for (int i = 0; i < 1000 && atomic_load(&samples) < 3; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&samples), 3);
    /* The same seq again (a second way): dropped, counted. */
    enc_sample(&p, X_ID, 4, "x/cam", "frame", 5);
    const uint64_t path[] = {RR_ID};
    send_forward(r, &p, X_ID, victim_id, x_seq, 7, path, 1);
    enc_sample(&p, X_ID, 5, "x/cam", "frame", 5);
    send_forward(r, &p, X_ID, victim_id, 1, 7, path, 1);
    /* A FORWARD that passed us already, and one out of hops: loops. */
    const uint64_t looped[] = {RR_ID, victim_id};
    enc_sample(&p, X_ID, 6, "x/cam", "frame", 5);
    send_forward(r, &p, X_ID, victim_id, ++x_seq, 7, looped, 2);
    enc_sample(&p, X_ID, 7, "x/cam", "frame", 5);
    send_forward(r, &p, X_ID, victim_id, ++x_seq, 0, path, 1);
    raw_ping(r, 77); /* all of the above was read */
    ipcn_node_stats s1 = stats();
    assert_int_equal(s1.dups - s0.dups, 2);
    assert_int_equal(s1.loops - s0.loops, 2);
    assert_int_equal(atomic_load(&samples), 3);
    assert_int_equal(atomic_load(&sample_bad), 0);
    /* One for a node nobody reaches: it bounces back to X (302). */
    enc_sample(&p, X_ID, 8, "x/cam", "frame", 5);
    send_forward(r, &p, X_ID, NOBODY_ID, ++x_seq, 7, path, 1);
    rframe out;
    for (;;) {
        assert_int_equal(raw_next(r, &out, IO_TIMEOUT_MS), 1);
        if (out.type == T_FORWARD && (out.pl[8] & FWD_BOUNCE))
            break;
        rframe_free(&out);
    }
    assert_int_equal(out.status, ST_BAD_GATEWAY);
    assert_int_equal(out.src, victim_id);
    assert_int_equal(out.dst, X_ID);
    assert_int_equal(out.len, 16 + HDR); /* the header only */
    assert_int_equal(out.pl[16 + 5], T_SAMPLE);
    assert_int_equal(ld64(out.pl + 16 + 24), NOBODY_ID);
    rframe_free(&out);
    assert_int_equal(stats().bad_gateway - s0.bad_gateway, 1);
    /* GONE for X: its routed link closes, its resources go, and a
     * request still pending ends 303. */
    asked b = {.path = "x/svc"};
    assert_int_equal(pthread_create(&b.t, NULL, ask, &b), 0);
    x_expect(r, x, T_REQUEST, &in);
    rframe_free(&in);
    const uint64_t rpath[] = {r->id};
    send_route(r, X_ID, ROUTE_GONE, "", "", rpath, 1);
    pthread_join(b.t, NULL);
    assert_int_equal(b.status, ST_SERVICE_UNAVAILABLE);
    wait_found("x/**", NULL, 0);
    assert_int_equal(ipcn_unsubscribe(victim, sub), IPCN_OK);
    /* R itself was never refused. */
    raw_ping(r, 78);
    assert_int_equal(r->errors[ST_BAD_REQUEST] + r->errors[ST_FORBIDDEN], 0);
    free(p.p);
}

/* A BOUNCE from R (src: the router that could not deliver) for a frame
 * of type type sent to dst with corr, status st. */
static void send_bounce(raw *r, uint64_t dst, uint8_t type, uint64_t corr,
                        uint16_t st)
{
    buf h = {0};
    size_t ho = f_begin(&h, type, victim_id, corr);
    st64(h.p + ho + 24, dst);
    h.len = ho + HDR; /* the header only */
    B.len = 0;
    size_t off = f_begin(&B, T_FORWARD, r->id, 0);
    B.p[off + 8] = (uint8_t)st;
    B.p[off + 9] = (uint8_t)(st >> 8);
    st64(B.p + off + 24, victim_id);
    b_u64(&B, 1u << 20);
    b_u8(&B, FWD_BOUNCE);
    b_u8(&B, 0);
    b_u16(&B, 0);
    b_u32(&B, 0);
    b_put(&B, h.p + ho, HDR);
    f_end(&B, off);
    raw_send_buf(r);
    free(h.p);
}

/* What a router may not make the node believe: a FORWARD from a node it
 * never told a way to (dropped, counted as denied, nothing bounced), a
 * BOUNCE with a status no router gives (the request goes on: X's own
 * answer ends it).  A bounce with a router's status, from the link the
 * request left on, ends it with that status. */
static void t_forged(void **state)
{
    (void)state;
    raw *x;
    raw *r = link_x(&x);
    ipcn_node_stats s0 = stats();
    buf p = {0};
    const uint64_t path[] = {RR_ID};
    enc_sample(&p, NOBODY_ID, 1, "x/cam", "frame", 5);
    send_forward(r, &p, NOBODY_ID, victim_id, 1, 7, path, 1);
    raw_ping(r, 90);
    assert_int_equal(stats().denied - s0.denied, 1);
    /* A request to X, a bounce that says 100: not believed. */
    asked a = {.path = "x/svc"};
    assert_int_equal(pthread_create(&a.t, NULL, ask, &a), 0);
    rframe in;
    x_expect(r, x, T_REQUEST, &in);
    uint64_t corr = in.corr;
    rframe_free(&in);
    send_bounce(r, X_ID, T_REQUEST, corr, ST_OK);
    raw_ping(r, 91);
    assert_int_equal(stats().denied - s0.denied, 2);
    enc_reply(&p, T_REPLY, X_ID, corr, ST_OK);
    x_send(r, &p);
    pthread_join(a.t, NULL);
    assert_int_equal(a.status, IPCN_OK);
    assert_string_equal(a.body, "x");
    /* A bounce with 302 from R, the way the request went: it ends. */
    asked b = {.path = "x/svc"};
    assert_int_equal(pthread_create(&b.t, NULL, ask, &b), 0);
    x_expect(r, x, T_REQUEST, &in);
    corr = in.corr;
    rframe_free(&in);
    send_bounce(r, X_ID, T_REQUEST, corr, ST_BAD_GATEWAY);
    pthread_join(b.t, NULL);
    assert_int_equal(b.status, ST_BAD_GATEWAY);
    free(p.p);
}

/* X's HELLO lost (it was sent before the node had a way to X): the
 * node, its routed link waiting for a HELLO, gets other frames of X; it
 * drops them and sends its HELLO once more.  Then X starts over with a
 * HELLO on the UP routed link: the node closes it (X's resources go) and
 * takes the HELLO on a fresh one, whose HELLO comes to X. */
static void t_hello_again(void **state)
{
    (void)state;
    raw *r = raw_link();
    raw *x = raw_new();
    x_seq = 0;
    route_x(r);
    rframe in;
    x_expect(r, x, T_HELLO, &in);
    rframe_free(&in);
    buf p = {0};
    enc_announce(&p, X_ID, 3, 1, "x/svc", 5); /* before any HELLO of X */
    x_send(r, &p);
    raw *x2 = raw_new(); /* a second HELLO: read on a fresh end */
    x_expect(r, x2, T_HELLO, &in);
    rframe_free(&in);
    assert_int_equal(find_count("x/**", NULL), 0); /* the frame dropped */
    enc_hello(&p, X_ID, "x");
    x_send(r, &p);
    enc_announce(&p, X_ID, 3, 1, "x/svc", 5);
    x_send(r, &p);
    wait_found("x/**", "x@hostx", 1);
    x_sync(r, x2, 41);
    /* X starts over: a HELLO on the UP link. */
    enc_hello(&p, X_ID, "x");
    x_send(r, &p);
    raw *x3 = raw_new();
    x_expect(r, x3, T_HELLO, &in);
    rframe_free(&in);
    wait_found("x/**", NULL, 0); /* the old link's resources went */
    enc_announce(&p, X_ID, 2, 1, "x/cam", 5);
    x_send(r, &p);
    wait_found("x/**", "x@hostx", 1);
    free(p.p);
    raw_ping(r, 6);
}

/* A ROUTE and a FORWARD that do not parse: 200, the link closed. */
static void t_malformed(void **state)
{
    (void)state;
    raw *r = raw_link();
    B.len = 0;
    size_t off = f_begin(&B, T_ROUTE, r->id, 0);
    b_u64(&B, X_ID);
    b_u8(&B, 0);
    b_u8(&B, 0); /* npath 0: malformed */
    b_u16(&B, 0);
    b_u32(&B, 1000);
    b_str(&B, "x", 1);
    b_str(&B, "hostx", 5);
    b_str(&B, "robot", 5);
    f_end(&B, off);
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    r = raw_link();
    B.len = 0;
    off = f_begin(&B, T_FORWARD, X_ID, 0);
    b_u64(&B, 0); /* seq 0: malformed */
    b_u64(&B, 0);
    f_end(&B, off);
    raw_send_buf(r);
    raw_expect_close(r, ST_BAD_REQUEST);
    raw_free(r);
    /* A FORWARD whose inner frame is not X's: the routed link is refused,
     * the router's link kept. */
    raw *x;
    r = link_x(&x);
    buf p = {0};
    enc_announce(&p, RR_ID, 3, 1, "x/other", 7); /* src RR, not X */
    x_send(r, &p);
    free(p.p);
    wait_found("x/**", NULL, 0);
    raw_ping(r, 5);
}

/* A peer of another uid may not route: its ROUTE is refused 202, counted,
 * and its link kept.  Run as a child of another uid (root only). */
static void t_other_uid(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    struct passwd *pw = getpwnam("nobody");
    if (!pw)
        skip();
    /* The child must reach the socket and take its name's lock. */
    char d[700];
    snprintf(d, sizeof d, "%s/default", raw_target.dir);
    struct stat st0;
    assert_int_equal(stat(d, &st0), 0);
    assert_int_equal(chmod(d, 0777), 0);
    assert_int_equal(chmod(raw_target.dir, st0.st_mode | 0755), 0);
    assert_int_equal(chmod(raw_target.sock, 0777), 0);
    ipcn_node_stats s0 = stats();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
            _exit(3);
        raw *r = raw_link();
        route_x(r);
        rframe f;
        int k;
        while ((k = raw_next(r, &f, IO_TIMEOUT_MS)) == 1) {
            bool refused = f.type == T_ERROR && f.status == ST_FORBIDDEN;
            rframe_free(&f);
            if (refused)
                break;
        }
        if (k != 1)
            _exit(4);
        raw_ping(r, 9); /* the link is kept */
        _exit(0);
    }
    int ws = 0;
    assert_int_equal(tu_wait(pid, 20000), 0);
    (void)ws;
    assert_int_equal(chmod(d, st0.st_mode & 07777), 0);
    ipcn_node_stats s1 = stats();
    assert_int_equal(s1.denied - s0.denied, 1);
    assert_int_equal(find_count("x/**", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_routed_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(t_hello_again, setup, teardown),
        cmocka_unit_test_setup_teardown(t_forged, setup, teardown),
        cmocka_unit_test_setup_teardown(t_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(t_other_uid, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
