/* SPDX-License-Identifier: MIT */
/*
 * h_hostile_victim.c — the innocent node that test_hostile_*.c attack, run in
 * its own process so that a crash or a sanitizer report shows up as its
 * death (the test also starts it as a "bystander": a linked node of another
 * process whose name a hostile client claims).  It is an ordinary library
 * user offering what peers use:
 *
 *   <name>/echo     service: answers 100 with the request's bytes
 *   <name>/stats    service: its ipcn_node_get_stats() counters as text
 *   <name>/hold     service: defers every answer (kept until the requester
 *                   leaves), so a flood of it fills the per-peer in-flight
 *                   quota deterministically
 *   <name>/data     data resource holding "victim-data" (its history kept)
 *   <name>/bigdata  data resource holding 1 MiB (a small query, a big answer)
 *   <name>/stream   stream, a small sample every 50 ms
 *   <name>/deep/a/a/.../a  stream with the deepest path allowed (255 bytes),
 *                   a sample every 50 ms, so hostile patterns get matched
 *
 * and it subscribes to "hostile/" + "**" so that hostile samples are processed.
 *
 * Usage: ipcn-test-h_hostile_victim <name> <max-seconds> <parent-pid>
 *        [max-peers [peer-meta-max [peer-meta-budget]]]
 * Options are the defaults except tx_limit (8 MiB), so that the memory
 * bound the test checks is far below what an unbounded queue would reach.
 * It exits 0 on SIGTERM after ipcn_node_close(), by SIGKILL when its parent
 * dies, and by SIGALRM after max-seconds.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"

#define MAX_HELD 8192

static volatile sig_atomic_t stop;
static ipcn_responder held[MAX_HELD];
static unsigned nheld;
static ipcn_sub hostile_sub;
static unsigned long long samples_seen, events_seen;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int on_echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)user;
    int st = ipcn_reply_set(ctx, req->data, req->len, req->encoding);
    return st == IPCN_OK ? IPCN_OK : st;
}

static int on_stats(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                    void *user)
{
    (void)req, (void)user;
    ipcn_node_stats s = {.size = sizeof s};
    ipcn_node_get_stats(n, &s);
    ipcn_sub_stats ss = {.size = sizeof ss};
    ipcn_sub_get_stats(n, hostile_sub, &ss);
    ipcn_node_usage u = {.size = sizeof u};
    ipcn_node_get_usage(n, &u);
    char buf[768];
    int k = snprintf(buf, sizeof buf,
                     "bad_frames=%llu links_refused=%llu frames_in=%llu "
                     "peers=%u resources=%u drops=%llu peers_lost=%llu "
                     "held=%u samples=%llu events=%llu meta_bytes=%llu "
                     "meta_refused=%llu peers_refused=%llu tx_buffer=%llu "
                     "tx_peak=%llu tx_queued=%llu shm_refused=%llu",
                     (unsigned long long)s.bad_frames,
                     (unsigned long long)s.links_refused,
                     (unsigned long long)s.frames_in, s.peers, s.resources,
                     (unsigned long long)s.drops,
                     (unsigned long long)s.peers_lost, nheld,
                     (unsigned long long)ss.received, events_seen,
                     (unsigned long long)u.peer_meta_bytes,
                     (unsigned long long)u.meta_refused,
                     (unsigned long long)u.peers_refused,
                     (unsigned long long)u.tx_buffer_bytes,
                     (unsigned long long)u.tx_buffer_peak,
                     (unsigned long long)u.tx_queued_bytes,
                     (unsigned long long)s.shm_requests_refused);
    ipcn_reply_set(ctx, buf, (size_t)k, "text/plain");
    return IPCN_OK;
}

static int on_hold(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)req, (void)user;
    if (nheld >= MAX_HELD)
        return IPCN_INSUFFICIENT_STORAGE;
    held[nheld++] = ipcn_reply_defer(ctx);
    return IPCN_ACCEPTED;
}

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n, (void)user;
    if (m->status == IPCN_OK)
        samples_seen++;
}

static void on_event(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)n, (void)ev, (void)user;
    events_seen++;
}

static void die(const char *what, int st)
{
    fprintf(stderr, "h_hostile_victim: %s: %d %s\n", what, st,
            ipcn_status_str(st));
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s <name> <max-seconds> <parent-pid>\n", argv[0]);
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)atol(argv[3]))
        return 3; /* the parent died before the line above */
    alarm((unsigned)atoi(argv[2]));
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    const char *name = argv[1];
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.tx_limit = 8u << 20;
    o.criticality = IPCN_CRIT_IMPORTANT; /* told in STATE (t_state) */
    /* Optional: max_peers, peer_meta_max, peer_meta_budget (test_limits). */
    if (argc > 4)
        o.max_peers = (uint32_t)strtoul(argv[4], NULL, 0);
    if (argc > 5)
        o.peer_meta_max = (uint32_t)strtoul(argv[5], NULL, 0);
    if (argc > 6)
        o.peer_meta_budget = (uint32_t)strtoul(argv[6], NULL, 0);
    ipcn_node *n;
    int st = ipcn_node_open(&n, name, &o);
    if (st != IPCN_OK)
        die("open", st);
    ipcn_node_set_event_fn(n, on_event, NULL);
    /* Ready at once, so that every raw client that takes STATE is told
     * "important, ready" right after its hello (t_state). */
    if ((st = ipcn_node_ready(n)) != IPCN_OK)
        die("ready", st);

    char p_echo[128], p_stats[128], p_hold[128], p_data[128], p_big[128],
        p_stream[128], p_deep[300];
    snprintf(p_echo, sizeof p_echo, "%s/echo", name);
    snprintf(p_stats, sizeof p_stats, "%s/stats", name);
    snprintf(p_hold, sizeof p_hold, "%s/hold", name);
    snprintf(p_data, sizeof p_data, "%s/data", name);
    snprintf(p_big, sizeof p_big, "%s/bigdata", name);
    snprintf(p_stream, sizeof p_stream, "%s/stream", name);
    int k = snprintf(p_deep, sizeof p_deep, "%s/deep", name);
    while (k + 2 <= 255)
        k += snprintf(p_deep + k, sizeof p_deep - (size_t)k, "/a");

    if ((st = ipcn_offer(n, p_echo, "", on_echo, NULL)) != IPCN_OK)
        die("offer echo", st);
    if ((st = ipcn_offer(n, p_stats, "", on_stats, NULL)) != IPCN_OK)
        die("offer stats", st);
    if ((st = ipcn_offer(n, p_hold, "", on_hold, NULL)) != IPCN_OK)
        die("offer hold", st);
    st = ipcn_announce(n, p_data, IPCN_DATA, "text/plain", NULL, 0);
    if (!IPCN_IS_OK(st)) /* a macro: st, not the call */
        die("announce data", st);
    /* Its debug history is on (test_hostile_history): version 1 kept. */
    if ((st = ipcn_announce_history(n, p_data, 4, 0)) != IPCN_OK)
        die("history data", st);
    if ((st = ipcn_publish(n, p_data, "victim-data", 11)) != IPCN_OK)
        die("publish data", st);
    st = ipcn_announce(n, p_big, IPCN_DATA, "", NULL, 0);
    if (!IPCN_IS_OK(st))
        die("announce bigdata", st);
    size_t biglen = 1u << 20;
    char *big = malloc(biglen);
    if (!big)
        die("malloc", IPCN_INSUFFICIENT_MEMORY);
    for (size_t i = 0; i < biglen; i++)
        big[i] = (char)('a' + i % 26);
    st = ipcn_publish(n, p_big, big, biglen);
    free(big);
    if (st != IPCN_OK)
        die("publish bigdata", st);
    st = ipcn_announce(n, p_stream, IPCN_STREAM, "text/plain", NULL, 0);
    if (!IPCN_IS_OK(st))
        die("announce stream", st);
    st = ipcn_announce(n, p_deep, IPCN_STREAM, "", NULL, 0);
    if (!IPCN_IS_OK(st))
        die("announce deep", st);
    if ((st = ipcn_subscribe(n, "hostile/**", 8, on_sample, NULL, &hostile_sub)) != IPCN_OK)
        die("subscribe", st);

    uint64_t next = now_ms();
    unsigned long long count = 0;
    while (!stop) {
        ipcn_node_dispatch(n, 20);
        uint64_t now = now_ms();
        if (now >= next) {
            char s[64];
            int len = snprintf(s, sizeof s, "sample %llu", ++count);
            ipcn_publish(n, p_stream, s, (size_t)len);
            ipcn_publish(n, p_deep, s, (size_t)len);
            next = now + 50;
        }
    }
    /* Deferred answers still owed: answer them (203/303 when their
     * requester is gone), then leave cleanly so that leak checkers see a
     * normal exit. */
    for (unsigned i = 0; i < nheld; i++)
        ipcn_respond(n, held[i], IPCN_SERVICE_UNAVAILABLE, NULL, 0, NULL);
    ipcn_node_close(n);
    (void)samples_seen;
    return 0;
}
