/* SPDX-License-Identifier: MIT */
/*
 * test_quarantine.c — reputation and quarantine (issue 15, items 3 and 4)
 * as a raw client that does not use the library meets them.
 *
 * A victim node runs in this process under a network policy with a
 * "reputation" section ($IPCNET_POLICY, written per case):
 *
 *   quarantine_below -100, penalties bad_frame 20 and denied 10, a
 *   half-life of an hour (no decay within a case), whitelist
 *   "node:trusted-*", blacklist "node:evil-*", follow_reports agree 2;
 *   pv/secret refused to "node:hostile-*".
 *
 * Raw clients (raw_client.h: frames by hand) misbehave in each way: bad
 * frames after a hello with a name, policy violations, garbage before any
 * hello in a connection loop (from a child process: the principal is then
 * the process, never its whole uid), a black-listed name, a white-listed
 * one; and send forged QUARANTINE reports.  Each ends quarantined with the
 * right evidence (ipcn_quarantines()), its reconnects are refused with
 * ERROR 205 carrying the time left in corr, the back-off doubles on the
 * next quarantine, lifting restores service, the white-listed peer is
 * never quarantined and the black-listed one never linked; one forged
 * report does not cut off a healthy node, nor two names of one process;
 * two agreeing reporter processes do (follow_reports: agree 2); under
 * "trusted" only the trusted reporter's report is followed, under "never"
 * not even two agreeing ones.  A
 * legitimate library node, teleop, keeps using the victim throughout and
 * loses nothing; it hears of the victim's quarantines as reports and,
 * with only one reporter, follows none.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"

#define ST_FORBIDDEN 202

static struct {
    char name[32];          /* the victim's node name */
    char policy[600];
    ipcn_node *victim, *legit, *healthy;
    pthread_mutex_t mu;
    unsigned quarantined, lifted, banned; /* IPCN_EV_QUARANTINE by status */
    char last_subject[96];
    bool mode_trusted;      /* follow_reports: trusted (else never) */
} W = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- the policy ---- */

static void policy_write(const char *quarantine_for, const char *follow)
{
    char tmp[640];
    snprintf(tmp, sizeof tmp, "%s.new", W.policy);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fprintf(f,
            "version: 1\n"
            "default: allow\n"
            "rules:\n"
            "  - deny: [read, execute, write]\n"
            "    who: \"node:hostile-*\"\n"
            "    what: \"pv/secret\"\n"
            "reputation:\n"
            "  quarantine_below: -100\n"
            "  ban_below: -1000000\n"
            "  half_life: 1h\n"
            "  quarantine_for: %s\n"
            "  quarantine_max: 1h\n"
            "  penalties: {bad_frame: 20, denied: 10}\n"
            "  whitelist: \"node:trusted-*\"\n"
            "  blacklist: \"node:evil-*\"\n"
            "%s",
            quarantine_for, follow);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(tmp, 0644), 0);
    assert_int_equal(rename(tmp, W.policy), 0);
}

/* ---- the nodes ---- */

static int on_echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)user;
    return ipcn_reply_set(ctx, req->data, req->len, req->encoding);
}

static void on_event(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)n, (void)user;
    if (ev->type != IPCN_EV_QUARANTINE)
        return;
    pthread_mutex_lock(&W.mu);
    if (ev->status == 205)
        W.quarantined++;
    else if (ev->status == ST_FORBIDDEN)
        W.banned++;
    else if (ev->status == IPCN_OK)
        W.lifted++;
    snprintf(W.last_subject, sizeof W.last_subject, "%s",
             ev->peer ? ev->peer : "");
    pthread_mutex_unlock(&W.mu);
}

static unsigned events(unsigned *which)
{
    pthread_mutex_lock(&W.mu);
    unsigned k = *which;
    pthread_mutex_unlock(&W.mu);
    return k;
}

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK)
        fail_msg("ipcn_node_open(%s): %d %s", name, st, ipcn_status_str(st));
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static size_t found(ipcn_node *n, const char *pattern)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, pattern, IPCN_ANY, &rl), IPCN_OK);
    size_t c = rl->count;
    ipcn_resource_list_free(rl);
    return c;
}

static void wait_found(ipcn_node *n, const char *pattern, size_t want)
{
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (found(n, pattern) != want) {
        if (tu_now_ms() > end)
            fail_msg("%zu found of %s, not %zu", found(n, pattern), pattern,
                     want);
        usleep(5000);
    }
}

static bool linked(ipcn_node *n, const char *peer)
{
    ipcn_peer_list *pl = NULL;
    assert_int_equal(ipcn_peers(n, &pl), IPCN_OK);
    bool yes = false;
    for (size_t i = 0; i < pl->count; i++)
        if (!strcmp(pl->items[i].name, peer))
            yes = true;
    ipcn_peer_list_free(pl);
    return yes;
}

/* The node's record of subject (any state): true with *out filled. */
static bool record(ipcn_node *n, const char *subject,
                   ipcn_quarantine_record *out)
{
    ipcn_quarantine_list *ql = NULL;
    assert_int_equal(ipcn_quarantines(n, IPCN_QUARANTINE_ALL, &ql), IPCN_OK);
    bool yes = false;
    for (size_t i = 0; i < ql->count && !yes; i++) {
        out->size = sizeof *out;
        assert_int_equal(ipcn_quarantine_list_get(ql, i, out), IPCN_OK);
        yes = !strcmp(out->subject, subject);
    }
    /* The strings live in the list: keep what the cases read. */
    static char subj[96], detail[128], rep[2][64];
    if (yes) {
        snprintf(subj, sizeof subj, "%s", out->subject);
        snprintf(detail, sizeof detail, "%s", out->detail);
        for (uint32_t k = 0; k < out->nreporters && k < 2; k++)
            snprintf(rep[k], sizeof rep[k], "%s", out->reporters[k]);
        out->subject = subj;
        out->detail = detail;
        static const char *reps[2] = {rep[0], rep[1]};
        out->reporters = reps;
    }
    ipcn_quarantine_list_free(ql);
    return yes;
}

static uint64_t stat_refused(void)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(W.victim, &s), IPCN_OK);
    return s.links_refused_quarantine;
}

/* ---- the prober: the legitimate client keeps asking ---- */

static struct {
    pthread_t t;
    int stop, ok, fail;
    char why[128];
    bool running;
} P;

static void *prober_main(void *arg)
{
    (void)arg;
    for (int i = 0; !__atomic_load_n(&P.stop, __ATOMIC_ACQUIRE); i++) {
        char req[32];
        int len = snprintf(req, sizeof req, "legit %d", i);
        ipcn_msg *m = NULL;
        int st = ipcn_request(W.legit, "pv/echo", req, (size_t)len, "", &m,
                              IO_TIMEOUT_MS);
        bool ok = st == IPCN_OK && m && m->len == (size_t)len &&
                  !memcmp(m->data, req, (size_t)len);
        ipcn_msg_free(m);
        if (ok) {
            __atomic_add_fetch(&P.ok, 1, __ATOMIC_RELAXED);
        } else if (__atomic_add_fetch(&P.fail, 1, __ATOMIC_RELAXED) == 1) {
            snprintf(P.why, sizeof P.why, "echo %d: %d %s", i, st,
                     ipcn_status_str(st));
        }
        usleep(20000);
    }
    return NULL;
}

static void prober_stop(void)
{
    if (!P.running)
        return;
    uint64_t end = tu_now_ms() + 2 * IO_TIMEOUT_MS;
    while (!__atomic_load_n(&P.ok, __ATOMIC_RELAXED) &&
           !__atomic_load_n(&P.fail, __ATOMIC_RELAXED) && tu_now_ms() < end)
        usleep(5000);
    __atomic_store_n(&P.stop, 1, __ATOMIC_RELEASE);
    pthread_join(P.t, NULL);
    P.running = false;
}

/* The innocent got every answer, and is linked still. */
static void legit_check(void)
{
    prober_stop();
    if (P.fail)
        print_error("legitimate probes: %d ok, %d failed; first: %s\n", P.ok,
                    P.fail, P.why);
    assert_int_equal(P.fail, 0);
    assert_true(P.ok >= 1);
    assert_true(linked(W.victim, "teleop"));
    ipcn_quarantine_record q;
    if (record(W.victim, "teleop", &q))
        assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
}

static int setup_with(const char *quarantine_for, const char *follow)
{
    static int count;
    snprintf(W.name, sizeof W.name, "qvictim-%02d", ++count);
    W.quarantined = W.lifted = W.banned = 0;
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/%s.sock",
             raw_target.dir, W.name);
    snprintf(W.policy, sizeof W.policy, "%s/quarantine-policy.yaml",
             raw_target.dir);
    policy_write(quarantine_for, follow);
    W.mode_trusted = strstr(follow, "trusted") != NULL;
    setenv("IPCNET_POLICY", W.policy, 1);
    W.victim = open_node(W.name);
    assert_int_equal(ipcn_node_set_event_fn(W.victim, on_event, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_offer(W.victim, "pv/echo", "", on_echo, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_offer(W.victim, "pv/secret", "", on_echo, NULL),
                     IPCN_OK);
    W.legit = open_node("teleop");
    wait_found(W.legit, "pv/*", 2);
    memset(&P, 0, sizeof P);
    assert_int_equal(pthread_create(&P.t, NULL, prober_main, NULL), 0);
    P.running = true;
    return 0;
}

#define AGREE_2 "  follow_reports: agree\n  agree: 2\n"

static int setup(void **state)
{
    (void)state;
    return setup_with("1h", AGREE_2);
}

static int setup_short(void **state)
{
    (void)state;
    return setup_with("300ms", AGREE_2);
}

static int setup_trusted(void **state)
{
    (void)state;
    return setup_with("1h", "  follow_reports: trusted\n"
                            "  trusted: \"node:hostile-ctl\"\n");
}

static int setup_never(void **state)
{
    (void)state;
    return setup_with("1h", "  follow_reports: never\n");
}

static int teardown(void **state)
{
    (void)state;
    prober_stop();
    raw_free_all();
    if (W.healthy)
        ipcn_node_close(W.healthy);
    if (W.legit)
        ipcn_node_close(W.legit);
    if (W.victim)
        ipcn_node_close(W.victim);
    W.healthy = W.legit = W.victim = NULL;
    unsetenv("IPCNET_POLICY");
    unlink(W.policy);
    return 0;
}

/* ---- raw clients ---- */

/* A raw client linked as name (its lock taken): hello, PONG. */
static raw *link_as(const char *name)
{
    raw *r = raw_open();
    B.len = 0;
    enc_hello(&B, r->id, name);
    raw_send_buf(r);
    raw_ping(r, 1);
    return r;
}

/* Read to the end of the stream: the status of the last ERROR (0: none)
 * and its corr. */
static uint16_t read_to_close(raw *r, uint64_t *corr)
{
    rframe f;
    uint16_t last = 0;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k < 0)
            fail_msg("the victim did not close the link");
        if (k == 0)
            return last;
        if (f.type == T_ERROR) {
            last = f.status;
            if (corr)
                *corr = f.corr;
        }
        rframe_free(&f);
    }
}

/* Say hello as name and be refused: the ERROR's status (and corr). */
static uint16_t hello_refused(const char *name, uint64_t *corr)
{
    raw *r = raw_open();
    B.len = 0;
    enc_hello(&B, r->id, name);
    raw_send_buf(r);
    uint16_t st = read_to_close(r, corr);
    raw_free(r);
    return st;
}

/* count invalid SUBSCRIBE patterns (each ERROR 200, non-fatal: a bad
 * frame charged), then read to the close the quarantine brings. */
static uint16_t bad_patterns(raw *r, int count, uint64_t *corr)
{
    B.len = 0;
    for (int i = 0; i < count; i++)
        enc_text(&B, T_SUBSCRIBE, r->id, "a//b", 4);
    raw_send_buf(r);
    return read_to_close(r, corr);
}

static void wait_event(unsigned *which, unsigned want)
{
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (events(which) < want) {
        if (tu_now_ms() > end)
            fail_msg("event count %u, not %u", events(which), want);
        usleep(5000);
    }
}

/* ---- the cases ---- */

/* Bad frames after a hello with a name: quarantined with the evidence,
 * refused on reconnect (205, time left in corr), told to teleop as a
 * report it does not follow; lifted: linked again. */
static void t_bad_frames(void **state)
{
    (void)state;
    raw *r = link_as("hostile-bf");
    uint64_t corr = 0;
    /* 5 cost -100: not below; the 6th does it. */
    assert_int_equal(bad_patterns(r, 6, &corr), 205);
    assert_true(corr >= 1 && corr <= 3600000);
    ipcn_quarantine_record q;
    assert_true(record(W.victim, "hostile-bf", &q));
    assert_int_equal(q.state, IPCN_QUARANTINE_QUARANTINED);
    assert_true(q.named);
    assert_int_equal(q.uid, (int32_t)geteuid());
    assert_int_equal(q.evidence[IPCN_OFFENCE_BAD_FRAME], 6);
    assert_int_equal(q.evidence[IPCN_OFFENCE_DENIED], 0);
    assert_int_equal(q.strikes, 1);
    assert_int_equal(q.duration_ms, 3600000);
    assert_true(q.ms_left > 0 && q.ms_left <= 3600000);
    assert_true(q.score < -100);
    assert_non_null(strstr(q.detail, "bad_frame"));
    assert_false(q.by_report);
    wait_event(&W.quarantined, 1);
    /* Reconnects are refused at hello, and counted. */
    uint64_t before = stat_refused();
    for (int i = 0; i < 3; i++) {
        corr = 0;
        assert_int_equal(hello_refused("hostile-bf", &corr), 205);
        assert_true(corr >= 1 && corr <= 3600000);
    }
    assert_true(stat_refused() >= before + 3);
    /* Another name of the same process and user is served. */
    raw *other = link_as("hostile-ok");
    raw_ping(other, 2);
    /* teleop heard of it from the victim, and follows no single report. */
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (!record(W.legit, "hostile-bf", &q) || q.nreporters < 1) {
        if (tu_now_ms() > end)
            fail_msg("teleop was not told of the quarantine");
        usleep(5000);
    }
    assert_string_equal(q.reporters[0], W.name);
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    /* Lifted: service restored. */
    assert_int_equal(ipcn_quarantine_lift(W.victim, "hostile-bf"), IPCN_OK);
    assert_int_equal(ipcn_quarantine_lift(W.victim, "no-such-node"),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_quarantine_lift(W.victim, "not a subject!"),
                     IPCN_BAD_REQUEST);
    wait_event(&W.lifted, 1);
    assert_true(record(W.victim, "hostile-bf", &q));
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    assert_int_equal(q.strikes, 1); /* remembered for the doubling */
    raw *again = link_as("hostile-bf");
    raw_ping(again, 3);
    legit_check();
}

/* Policy violations: requests of a refused service. */
static void t_violations(void **state)
{
    (void)state;
    raw *r = link_as("hostile-pv");
    B.len = 0;
    for (int i = 0; i < 11; i++)
        enc_request(&B, T_REQUEST, r->id, 100 + (uint64_t)i, "pv/secret",
                    "x", 1);
    raw_send_buf(r);
    uint64_t corr = 0;
    assert_int_equal(read_to_close(r, &corr), 205);
    /* Each was answered (203: not there for it) before the quarantine. */
    assert_true(r->replies[203] + r->replies[202] >= 10);
    ipcn_quarantine_record q;
    assert_true(record(W.victim, "hostile-pv", &q));
    assert_int_equal(q.state, IPCN_QUARANTINE_QUARANTINED);
    assert_int_equal(q.evidence[IPCN_OFFENCE_DENIED], 11);
    assert_int_equal(q.evidence[IPCN_OFFENCE_BAD_FRAME], 0);
    assert_non_null(strstr(q.detail, "pv/secret"));
    assert_int_equal(hello_refused("hostile-pv", NULL), 205);
    legit_check();
}

/* A quarantine that ends: the next one lasts twice as long. */
static void t_doubling(void **state)
{
    (void)state;
    raw *r = link_as("hostile-db");
    assert_int_equal(bad_patterns(r, 6, NULL), 205);
    ipcn_quarantine_record q;
    assert_true(record(W.victim, "hostile-db", &q));
    assert_int_equal(q.duration_ms, 300);
    assert_int_equal(q.strikes, 1);
    /* Refused until it ends, then linked (a generous bound, not a
     * timing). */
    uint64_t end = tu_now_ms() + 10 * IO_TIMEOUT_MS;
    for (;;) {
        raw *t = raw_open();
        B.len = 0;
        enc_hello(&B, t->id, "hostile-db");
        enc_stamp(&B, T_PING, t->id, 7);
        raw_send_buf(t);
        rframe f;
        bool up = false;
        int k;
        while ((k = raw_next(t, &f, IO_TIMEOUT_MS)) > 0) {
            up = f.type == T_PONG;
            rframe_free(&f);
            if (up)
                break;
        }
        if (up) {
            r = t;
            break;
        }
        raw_free(t);
        if (tu_now_ms() > end)
            fail_msg("still refused after the quarantine");
        usleep(50000);
    }
    /* The score restarted at half the threshold: one offence is not
     * enough, three are. */
    assert_true(record(W.victim, "hostile-db", &q));
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    assert_true(q.score <= -49 && q.score > -100);
    B.len = 0;
    enc_text(&B, T_SUBSCRIBE, r->id, "a//b", 4);
    raw_send_buf(r);
    raw_ping(r, 8);
    assert_int_equal(bad_patterns(r, 2, NULL), 205);
    assert_true(record(W.victim, "hostile-db", &q));
    assert_int_equal(q.strikes, 2);
    assert_int_equal(q.duration_ms, 600);
    assert_int_equal(q.evidence[IPCN_OFFENCE_BAD_FRAME], 9);
    legit_check();
}

/* Garbage before any hello, connection after connection, from another
 * process: that process is quarantined (refused at accept, before
 * anything is read), never its user: this process, same uid, links. */
static void t_prehello_loop(void **state)
{
    (void)state;
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        uint16_t got[12];
        for (int i = 0; i < 12; i++) {
            int fd = -1;
            got[i] = 0;
            if (raw_socket(false, &fd) != 0)
                _exit(2);
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            struct timeval tv = {.tv_sec = IO_TIMEOUT_MS / 1000};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            (void)!write(fd, "GARBAGE!", 8);
            uint8_t in[4096];
            size_t have = 0;
            ssize_t k;
            while ((k = read(fd, in + have, sizeof in - have)) > 0)
                have += (size_t)k;
            /* the victim's HELLO, then its ERROR: find the ERROR */
            for (size_t off = 0; off + HDR <= have;) {
                uint32_t len = ld32(in + off + 12);
                if (in[off + 5] == T_ERROR)
                    got[i] = ld16(in + off + 8);
                off += HDR + len;
            }
            close(fd);
        }
        (void)!write(pfd[1], got, sizeof got);
        _exit(0);
    }
    close(pfd[1]);
    uint16_t got[12] = {0};
    size_t have = 0;
    ssize_t k;
    while ((k = read(pfd[0], (char *)got + have, sizeof got - have)) > 0)
        have += (size_t)k;
    close(pfd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(have, sizeof got);
    for (int i = 0; i < 6; i++)
        assert_int_equal(got[i], ST_BAD_REQUEST);
    for (int i = 6; i < 12; i++)
        assert_int_equal(got[i], 205);
    char subject[64];
    snprintf(subject, sizeof subject, "uid %d pid %d", (int)geteuid(),
             (int)pid);
    ipcn_quarantine_record q;
    assert_true(record(W.victim, subject, &q));
    assert_false(q.named);
    assert_int_equal(q.pid, (int32_t)pid);
    assert_int_equal(q.state, IPCN_QUARANTINE_QUARANTINED);
    assert_int_equal(q.evidence[IPCN_OFFENCE_BAD_FRAME], 6);
    assert_true(stat_refused() >= 6);
    /* This process, same user, links and is served. */
    raw *r = link_as("hostile-same-uid");
    raw_ping(r, 2);
    /* Lifted by its subject. */
    assert_int_equal(ipcn_quarantine_lift(W.victim, subject), IPCN_OK);
    assert_true(record(W.victim, subject, &q));
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    legit_check();
}

/* White-listed: never quarantined, whatever it does; black-listed: never
 * linked. */
static void t_lists(void **state)
{
    (void)state;
    raw *r = link_as("trusted-1");
    for (int round = 0; round < 4; round++) {
        B.len = 0;
        for (int i = 0; i < 10; i++)
            enc_text(&B, T_SUBSCRIBE, r->id, "a//b", 4);
        raw_send_buf(r);
        raw_ping(r, 10 + (uint64_t)round); /* still linked */
    }
    ipcn_quarantine_record q;
    assert_true(record(W.victim, "trusted-1", &q));
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    assert_int_equal(q.evidence[IPCN_OFFENCE_BAD_FRAME], 40);
    assert_true(q.score < -100);
    uint64_t before = stat_refused();
    assert_int_equal(hello_refused("evil-1", NULL), ST_FORBIDDEN);
    assert_int_equal(hello_refused("evil-2", NULL), ST_FORBIDDEN);
    assert_int_equal(stat_refused(), before + 2);
    assert_false(linked(W.victim, "evil-1"));
    assert_int_equal(events(&W.quarantined), 0);
    legit_check();
}

/* Forged reports: one reporter does not cut off a healthy node (agree 2);
 * a report of itself or of the receiver is refused; a second reporter
 * agreeing does cut it off, as a quarantine of the victim's own length,
 * not told again. */
static void t_reports(void **state)
{
    (void)state;
    W.healthy = open_node("healthy");
    wait_found(W.healthy, "pv/echo", 1);
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (!linked(W.victim, "healthy")) {
        if (tu_now_ms() > end)
            fail_msg("healthy did not link");
        usleep(5000);
    }
    uint64_t ev[9] = {0, 50};
    int32_t uid = (int32_t)geteuid();
    raw *a = link_as("hostile-ra");
    raw *b = link_as("hostile-rb");
    /* Of itself, of the receiver: refused, non-fatal. */
    B.len = 0;
    enc_quarantine(&B, a->id, 1, uid, 0, -500, 10000, ev, 9, "hostile-ra",
                   "me");
    enc_quarantine(&B, a->id, 1, uid, 0, -500, 10000, ev, 9, W.name, "you");
    raw_send_buf(a);
    raw_ping(a, 20);
    assert_int_equal(a->errors[ST_BAD_REQUEST], 2);
    /* One forged report: recorded, not followed. */
    B.len = 0;
    enc_quarantine(&B, a->id, 2, uid, 0, -5000, 0, ev, 9, "healthy",
                   "forged");
    raw_send_buf(a);
    raw_ping(a, 21);
    ipcn_quarantine_record q;
    assert_true(record(W.victim, "healthy", &q));
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    assert_int_equal(q.nreporters, 1);
    assert_string_equal(q.reporters[0], "hostile-ra");
    assert_true(linked(W.victim, "healthy"));
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(W.healthy, "pv/echo", "h", 1, "", &m,
                                  IO_TIMEOUT_MS), IPCN_OK);
    ipcn_msg_free(m);
    /* The same reporter again is still one reporter. */
    B.len = 0;
    enc_quarantine(&B, a->id, 1, uid, 0, -5000, 10000, ev, 9, "healthy",
                   "forged again");
    raw_send_buf(a);
    raw_ping(a, 22);
    assert_true(record(W.victim, "healthy", &q));
    assert_int_equal(q.nreporters, 1);
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    /* Another name of the same process is the same reporter: one
     * process holding two names does not agree with itself. */
    B.len = 0;
    enc_quarantine(&B, b->id, 1, uid, 0, -500, 10000, ev, 9, "healthy",
                   "agreed by the same process");
    raw_send_buf(b);
    raw_ping(b, 23);
    assert_true(record(W.victim, "healthy", &q));
    assert_int_equal(q.nreporters, 2);
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    assert_true(linked(W.victim, "healthy"));
    /* A second process agrees: followed. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        raw *c = link_as("hostile-rc");
        B.len = 0;
        enc_quarantine(&B, c->id, 1, uid, 0, -500, 10000, ev, 9, "healthy",
                       "agreed");
        raw_send_buf(c);
        raw_ping(c, 24); /* the victim has read the report */
        _exit(0);
    }
    assert_int_equal(tu_wait(pid, 2 * IO_TIMEOUT_MS), 0);
    assert_true(record(W.victim, "healthy", &q));
    assert_int_equal(q.state, IPCN_QUARANTINE_QUARANTINED);
    assert_true(q.by_report);
    assert_int_equal(q.nreporters, 3);
    assert_int_equal(q.duration_ms, 3600000); /* its own, not the report's */
    end = tu_now_ms() + IO_TIMEOUT_MS;
    while (linked(W.victim, "healthy")) {
        if (tu_now_ms() > end)
            fail_msg("healthy is still linked");
        usleep(5000);
    }
    /* Not told again: teleop has no report of it from the victim (an
     * answer from the victim comes after anything it sent before). */
    assert_int_equal(ipcn_request(W.legit, "pv/echo", "t", 1, "", &m,
                                  IO_TIMEOUT_MS), IPCN_OK);
    ipcn_msg_free(m);
    if (record(W.legit, "healthy", &q))
        assert_int_equal(q.nreporters, 0);
    assert_int_equal(ipcn_quarantine_lift(W.victim, "healthy"), IPCN_OK);
    end = tu_now_ms() + 2 * IO_TIMEOUT_MS;
    while (!linked(W.victim, "healthy")) {
        if (tu_now_ms() > end)
            fail_msg("healthy did not link again after the lift");
        usleep(5000);
    }
    legit_check();
}

/* follow_reports: trusted: a report of an untrusted reporter is not
 * followed, one of the trusted reporter alone is; never: not even two
 * agreeing. */
static void t_follow_modes(void **state)
{
    (void)state;
    bool trusted_mode = W.mode_trusted;
    W.healthy = open_node("healthy");
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (!linked(W.victim, "healthy")) {
        if (tu_now_ms() > end)
            fail_msg("healthy did not link");
        usleep(5000);
    }
    uint64_t ev[9] = {0, 50};
    int32_t uid = (int32_t)geteuid();
    raw *x = link_as("hostile-x");
    raw *y = link_as("hostile-y");
    B.len = 0;
    enc_quarantine(&B, x->id, 1, uid, 0, -500, 10000, ev, 9, "healthy", "x");
    raw_send_buf(x);
    raw_ping(x, 30);
    if (!trusted_mode) {
        B.len = 0;
        enc_quarantine(&B, y->id, 1, uid, 0, -500, 10000, ev, 9, "healthy",
                       "y");
        raw_send_buf(y);
        raw_ping(y, 31);
    }
    ipcn_quarantine_record q;
    assert_true(record(W.victim, "healthy", &q));
    assert_int_equal(q.state, IPCN_QUARANTINE_NONE);
    assert_int_equal(q.nreporters, trusted_mode ? 1 : 2);
    assert_true(linked(W.victim, "healthy"));
    if (trusted_mode) {
        raw *ctl = link_as("hostile-ctl");
        B.len = 0;
        enc_quarantine(&B, ctl->id, 1, uid, 0, -500, 10000, ev, 9, "healthy",
                       "ctl");
        raw_send_buf(ctl);
        raw_ping(ctl, 32);
        assert_true(record(W.victim, "healthy", &q));
        assert_int_equal(q.state, IPCN_QUARANTINE_QUARANTINED);
        assert_true(q.by_report);
    }
    legit_check();
}

#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    tu_net_dir();
    if (!getenv("IPCN_TEST_VERBOSE") && !getenv("IPCNET_LOG"))
        setenv("IPCNET_LOG", "error", 1);
    const struct CMUnitTest tests[] = {
        CASE(t_bad_frames),
        CASE(t_violations),
        cmocka_unit_test_setup_teardown(t_doubling, setup_short, teardown),
        CASE(t_prehello_loop),
        CASE(t_lists),
        CASE(t_reports),
        cmocka_unit_test_setup_teardown(t_follow_modes, setup_trusted,
                                        teardown),
        cmocka_unit_test_setup_teardown(t_follow_modes, setup_never,
                                        teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(B.p);
    free(C.p);
    return rc;
}
