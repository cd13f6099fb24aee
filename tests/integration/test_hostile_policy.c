/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_policy.c — the refusals of who may do what, as a raw client
 * that does not use the library gets them (issue 14: "a raw client that
 * does not use the library must get the same refusals").
 *
 * A raw, hostile client (raw_client.h: frames by hand, nothing of
 * libipcnet; it proves its node name, hostile-N, by holding the name's
 * lock) links to a victim node whose resources are
 *
 *   pv/echo    service, open to all (the legitimate client's prober)
 *   pv/pose    data "victim-data", open to all
 *   pv/stream  stream, open to all
 *   pv/motor   service: anyone may read it, only others may execute it
 *   pv/arm     service, private: hidden from the hostile client
 *   pv/secret  data "s3cret", private
 *   pv/cam     stream, private
 *
 * each case twice: once decided by the victim's own rules
 * (ipcn_resource_set_access(), no policy file), once by a default-deny
 * network policy named by $IPCNET_POLICY whose rules name the raw client
 * by node name and uid.  It must get 202 for the service it may read but
 * not execute, 203 for a private resource in the very bytes it gets for a
 * path that does not exist, 100 for a query of a readable data; it is
 * never told of a private resource (every frame the victim sends is read
 * and checked), is told WITHDRAW when one becomes private on the live
 * link, and gets none of a private stream's samples.  Under the policy,
 * what it announces where it may not provide is not taken into the
 * victim's directory and its samples there are dropped and counted.
 * Every refusal counts once, on the node and on the peer
 * (ipcn_peer_info.denied).
 *
 * The victim runs in this process (on its own thread) so that a case can
 * change its rules on the live link and read its directory and counters;
 * a legitimate library node, teleop, keeps using it throughout (a prober
 * thread, then every resource, private ones included) and loses nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"

#define ST_UNAUTHORIZED 201
#define ST_FORBIDDEN 202
#define ST_NOT_FOUND 203

enum { MODE_RULES, MODE_POLICY };

static const char *const public_paths[] = {"pv/echo", "pv/pose", "pv/stream",
                                           "pv/motor"};
static const char *const private_paths[] = {"pv/arm", "pv/secret", "pv/cam"};
#define NPUBLIC (sizeof public_paths / sizeof *public_paths)
#define NPRIVATE (sizeof private_paths / sizeof *private_paths)

static struct {
    int mode;
    int count;
    char name[32];          /* the victim's node name */
    char policy[600];       /* the policy file (MODE_POLICY) */
    ipcn_node *victim, *legit;
    ipcn_sub legit_sub, hostile_sub;
    unsigned long ok_samples, bad_samples; /* the victim's hostile/ ones */
    /* paths the raw client must not be told of now */
    const char *hidden[8];
    unsigned nhidden;
    /* what it was told */
    char announced[16][64];
    unsigned nannounced;
    char withdrawn[64];
} W;

/* ---- the policy file ---- */

/* The policy equivalent to the victim's own rules, plus what a peer may
 * provide; with pose_private, pv/pose is private too. */
static void policy_write(bool pose_private)
{
    char tmp[640];
    snprintf(tmp, sizeof tmp, "%s.new", W.policy);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    unsigned uid = (unsigned)geteuid();
    fprintf(f,
            "version: 1\n"
            "default: deny\n"
            "groups:\n"
            "  staff: [\"node:teleop\", \"node:pvictim-*\"]\n"
            "rules:\n"
            "  - allow: all\n"
            "    who: \"group:staff\"\n"
            "    what: \"**\"\n"
            "  - allow: [read, execute]\n"
            "    who: \"node:hostile-*\"\n"
            "    what: [\"pv/echo\", \"pv/stream\"%s]\n"
            "  - allow: read\n"
            "    who: \"node:hostile-*\"\n"
            "    what: \"pv/motor\"\n"
            "  - deny: [read, execute]\n"
            "    who: \"user:%u node:hostile-*\"\n"
            "    what: [\"pv/arm\", \"pv/secret\", \"pv/cam\"]\n"
            "  - allow: provide\n"
            "    who: \"user:%u node:hostile-*\"\n"
            "    what: \"hostile/ok/**\"\n",
            pose_private ? "" : ", \"pv/pose\"", uid, uid);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(tmp, 0644), 0);
    /* One step: the victim never reads half a file. */
    assert_int_equal(rename(tmp, W.policy), 0);
}

/* ---- the victim and the legitimate client ---- */

static int on_echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)user;
    return ipcn_reply_set(ctx, req->data, req->len, req->encoding);
}

static void on_hostile_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n, (void)user;
    if (m->status != IPCN_OK)
        return;
    if (!strncmp(m->path, "hostile/ok/", 11))
        __atomic_add_fetch(&W.ok_samples, 1, __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&W.bad_samples, 1, __ATOMIC_RELAXED);
}

static size_t found(ipcn_node *n, const char *pattern)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, pattern, IPCN_ANY, &rl), IPCN_OK);
    size_t c = rl->count;
    ipcn_resource_list_free(rl);
    return c;
}

static uint64_t denied(void)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(W.victim, &s), IPCN_OK);
    return s.denied;
}

/* The victim's count of refusals of the peer called name
 * (ipcn_peer_list_get_info). */
static uint64_t peer_denied(const char *name)
{
    ipcn_peer_list *pl = NULL;
    assert_int_equal(ipcn_peers(W.victim, &pl), IPCN_OK);
    uint64_t d = UINT64_MAX;
    for (size_t i = 0; i < pl->count; i++) {
        ipcn_peer_info w = {.size = sizeof w};
        if (!strcmp(pl->items[i].name, name) &&
            ipcn_peer_list_get_info(pl, i, &w) == IPCN_OK)
            d = w.denied;
    }
    ipcn_peer_list_free(pl);
    if (d == UINT64_MAX)
        fail_msg("the victim has no peer %s", name);
    return d;
}

static void set_rules(const char *path, const ipcn_access_rule *r, size_t n)
{
    assert_int_equal(ipcn_resource_set_access(W.victim, path, r, n), IPCN_OK);
}

/* The victim's own rules, the same decisions as the policy's. */
static void victim_rules(void)
{
    char me[64];
    snprintf(me, sizeof me, "user:%u node:hostile-*", (unsigned)geteuid());
    ipcn_access_rule motor[] = {{0, IPCN_ACCESS_EXECUTE, "any"},
                                {1, IPCN_ACCESS_EXECUTE, "node:hostile-*"}};
    ipcn_access_rule priv[] = {
        {0, IPCN_ACCESS_READ | IPCN_ACCESS_EXECUTE, "node:teleop"},
        {1, IPCN_ACCESS_READ, me}};
    set_rules("pv/motor", motor, 2);
    /* pv/pose: anyone may read it, the hostile client may not set it */
    ipcn_access_rule pose[] = {{1, IPCN_ACCESS_WRITE, "node:hostile-*"}};
    set_rules("pv/pose", pose, 1);
    for (size_t i = 0; i < NPRIVATE; i++)
        set_rules(private_paths[i], priv, 2);
}

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK)
        fail_msg("ipcn_node_open(%s): %d %s", name, st, ipcn_status_str(st));
    return n;
}

static void victim_open(void)
{
    ipcn_node *v = W.victim = open_node(W.name);
    if (W.mode == MODE_RULES)
        victim_rules(); /* before anything is announced: never seen open */
    assert_int_equal(ipcn_offer(v, "pv/echo", "", on_echo, NULL), IPCN_OK);
    assert_int_equal(ipcn_offer(v, "pv/motor", "", on_echo, NULL), IPCN_OK);
    assert_int_equal(ipcn_offer(v, "pv/arm", "", on_echo, NULL), IPCN_OK);
    assert_true(IPCN_IS_OK(ipcn_announce(v, "pv/pose", IPCN_DATA, "text/plain",
                                         NULL, 0)));
    assert_int_equal(ipcn_publish(v, "pv/pose", "victim-data", 11), IPCN_OK);
    assert_true(IPCN_IS_OK(ipcn_announce(v, "pv/secret", IPCN_DATA,
                                         "text/plain", NULL, 0)));
    assert_int_equal(ipcn_publish(v, "pv/secret", "s3cret", 6), IPCN_OK);
    assert_true(IPCN_IS_OK(ipcn_announce(v, "pv/stream", IPCN_STREAM,
                                         "text/plain", NULL, 0)));
    assert_true(IPCN_IS_OK(ipcn_announce(v, "pv/cam", IPCN_STREAM,
                                         "text/plain", NULL, 0)));
    assert_int_equal(ipcn_subscribe(v, "hostile/**", 256, on_hostile_sample,
                                    NULL, &W.hostile_sub), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(v), IPCN_OK);
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

static int setup(void **state)
{
    memset(&W, 0, sizeof W);
    W.mode = *(int *)*state;
    static int count;
    snprintf(W.name, sizeof W.name, "pvictim-%02d", ++count);
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/%s.sock",
             raw_target.dir, W.name);
    if (W.mode == MODE_POLICY) {
        snprintf(W.policy, sizeof W.policy, "%s/hostile-policy.yaml",
                 raw_target.dir);
        policy_write(false);
        setenv("IPCNET_POLICY", W.policy, 1);
    }
    victim_open();
    W.legit = open_node("teleop");
    assert_int_equal(ipcn_node_start_thread(W.legit), IPCN_OK);
    assert_int_equal(ipcn_subscribe(W.legit, "pv/**", 64, NULL, NULL,
                                    &W.legit_sub), IPCN_OK);
    wait_found(W.legit, "pv/*", NPUBLIC + NPRIVATE);
    for (size_t i = 0; i < NPRIVATE; i++)
        W.hidden[W.nhidden++] = private_paths[i];
    memset(&P, 0, sizeof P);
    assert_int_equal(pthread_create(&P.t, NULL, prober_main, NULL), 0);
    P.running = true;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    prober_stop();
    raw_free_all();
    if (W.legit)
        ipcn_node_close(W.legit);
    if (W.victim)
        ipcn_node_close(W.victim);
    W.legit = W.victim = NULL;
    if (W.policy[0]) {
        unsetenv("IPCNET_POLICY");
        unlink(W.policy);
    }
    return 0;
}

/* ---- what the raw client is told ---- */

static size_t str_at(const rframe *f, size_t off, const char **s)
{
    assert_true(f->len >= off + 2);
    size_t n = ld16(f->pl + off);
    assert_true(f->len >= off + 2 + n);
    *s = (const char *)f->pl + off + 2;
    return n;
}

static bool is_hidden(const char *p, size_t n)
{
    for (unsigned i = 0; i < W.nhidden; i++)
        if (strlen(W.hidden[i]) == n && !memcmp(W.hidden[i], p, n))
            return true;
    return false;
}

/* Every frame the victim sends passes here: nothing of a hidden path may
 * come (no announce, no sample); announces and withdrawals are noted.
 * Returns what is wrong with it, or NULL. */
static const char *check_frame(const rframe *f)
{
    static char why[160];
    const char *p;
    size_t n;
    if (f->type == T_ANNOUNCE) {
        n = str_at(f, 9, &p); /* u8 kind, u64 version, str path */
        if (is_hidden(p, n)) {
            snprintf(why, sizeof why, "the victim announced %.*s to the "
                     "hostile client", (int)n, p);
            return why;
        }
        if (W.nannounced < 16 && n < 64)
            snprintf(W.announced[W.nannounced++], 64, "%.*s", (int)n, p);
    } else if (f->type == T_SAMPLE) {
        n = str_at(f, 16, &p); /* u64 seq, u64 timestamp, str path */
        if (is_hidden(p, n)) {
            snprintf(why, sizeof why, "the victim sent a sample of %.*s to "
                     "the hostile client", (int)n, p);
            return why;
        }
    } else if (f->type == T_WITHDRAW) {
        snprintf(W.withdrawn, sizeof W.withdrawn, "%.*s", (int)f->text_len,
                 f->text);
    } else if (f->type == T_ERROR) {
        snprintf(why, sizeof why, "the victim sent ERROR %u (%.*s)", f->status,
                 (int)f->text_len, f->text);
        return why;
    }
    return NULL;
}

static bool was_announced(const char *path)
{
    for (unsigned i = 0; i < W.nannounced; i++)
        if (!strcmp(W.announced[i], path))
            return true;
    return false;
}

/* The next frame the victim sends, checked. */
static void next_frame(raw *r, rframe *f)
{
    int k = raw_next(r, f, IO_TIMEOUT_MS);
    if (k == 0)
        fail_msg("the victim closed the link (last error %u %s)", r->last_error,
                 r->last_text);
    if (k < 0)
        fail_msg("nothing came from the victim in %d ms", IO_TIMEOUT_MS);
    const char *wrong = check_frame(f);
    if (wrong) {
        rframe_free(f);
        fail_msg("%s", wrong);
    }
    if (f->type == T_PING) { /* a heartbeat: this client is alive */
        buf pong = {0};
        enc_stamp(&pong, T_PONG, r->id, f->stamp);
        raw_write(r, pong.p, pong.len);
        free(pong.p);
    }
}

/* A PING, then every frame until its PONG: all the victim did with what
 * was sent before is done and its frames read. */
static void sync_ping(raw *r, uint64_t stamp)
{
    B.len = 0;
    enc_stamp(&B, T_PING, r->id, stamp);
    raw_send_buf(r);
    for (;;) {
        rframe f;
        next_frame(r, &f);
        bool done = f.type == T_PONG && f.stamp == stamp;
        rframe_free(&f);
        if (done)
            return;
    }
}

/* Read frames until path has been announced (again). */
static void wait_announced(raw *r, const char *path)
{
    while (!was_announced(path)) {
        rframe f;
        next_frame(r, &f);
        rframe_free(&f);
    }
}

/* A raw client linked as hostile-N (name): every frame of its link-up
 * read and checked, until each resource it may see has been announced and
 * a PING answered. */
static raw *hostile_link(char *name, size_t cap)
{
    raw *r = raw_open();
    snprintf(name, cap, "hostile-%llu", (unsigned long long)raw_target.count);
    B.len = 0;
    enc_hello(&B, r->id, name);
    raw_send_buf(r);
    W.nannounced = 0;
    for (size_t i = 0; i < NPUBLIC; i++)
        if (!is_hidden(public_paths[i], strlen(public_paths[i])))
            wait_announced(r, public_paths[i]);
    sync_ping(r, 1);
    assert_int_equal(r->hellos, 1);
    assert_int_equal(peer_denied(name), 0);
    return r;
}

/* Send a REQUEST (or QUERY) of path with id corr; its answer in *ans. */
static void ask(raw *r, uint8_t type, const char *path, uint64_t corr,
                rframe *ans)
{
    B.len = 0;
    if (type == T_REQUEST)
        enc_request(&B, type, r->id, corr, path, "hi", 2);
    else
        enc_request(&B, type, r->id, corr, path, NULL, 0);
    raw_send_buf(r);
    for (;;) {
        next_frame(r, ans);
        if ((ans->type == T_REPLY || ans->type == T_QUERY_REPLY) &&
            ans->corr == corr)
            break;
        rframe_free(ans);
    }
    assert_int_equal(ans->type, type == T_REQUEST ? T_REPLY : T_QUERY_REPLY);
}

/* Ask of path, expecting status; returns nothing (the answer freed). */
static void ask_expect(raw *r, uint8_t type, const char *path, uint64_t corr,
                       uint16_t status)
{
    rframe a;
    ask(r, type, path, corr, &a);
    uint16_t got = a.status;
    rframe_free(&a);
    if (got != status)
        fail_msg("%s %s: %u, not %u", type == T_REQUEST ? "REQUEST" : "QUERY",
                 path, got, status);
}

/* Send a SET of path with id corr, expecting status in its REPLY. */
static void set_expect(raw *r, const char *path, uint64_t corr,
                       uint16_t status)
{
    B.len = 0;
    enc_set(&B, r->id, corr, 0, path, "", "x", 1);
    raw_send_buf(r);
    rframe a;
    for (;;) {
        next_frame(r, &a);
        if (a.type == T_REPLY && a.corr == corr)
            break;
        rframe_free(&a);
    }
    uint16_t got = a.status;
    rframe_free(&a);
    if (got != status)
        fail_msg("SET %s: %u, not %u", path, got, status);
}

/* A private resource is answered as a path that does not exist: 203, and
 * the same frame, every header field but corr (and the checksum that
 * covers it) and every payload byte. */
static void private_as_absent(raw *r, uint8_t type, const char *priv,
                              const char *absent, uint64_t corr)
{
    rframe a, b;
    ask(r, type, priv, corr, &a);
    ask(r, type, absent, corr + 1, &b);
    uint16_t sa = a.status, sb = b.status;
    bool same = a.type == b.type && a.ttl == b.ttl && a.status == b.status &&
                a.src == b.src && a.dst == b.dst && a.len == b.len &&
                !memcmp(a.pl, b.pl, a.len) && a.corr == corr &&
                b.corr == corr + 1;
    rframe_free(&a);
    rframe_free(&b);
    if (sa != ST_NOT_FOUND || sb != ST_NOT_FOUND)
        fail_msg("%s: %u for private %s, %u for absent %s",
                 type == T_REQUEST ? "REQUEST" : "QUERY", sa, priv, sb, absent);
    if (!same)
        fail_msg("%s of private %s and of absent %s: different answers",
                 type == T_REQUEST ? "REQUEST" : "QUERY", priv, absent);
}

/* The legitimate client lost nothing: its prober's every request was
 * answered, and it may still use everything, private resources
 * included, and gets their samples. */
static void legit_check(void)
{
    prober_stop();
    if (P.fail)
        print_error("legitimate probes: %d ok, %d failed; first: %s\n", P.ok,
                    P.fail, P.why);
    assert_int_equal(P.fail, 0);
    assert_true(P.ok >= 1);
    ipcn_node *t = W.legit;
    const char *const svcs[] = {"pv/motor", "pv/arm", "pv/echo"};
    for (size_t i = 0; i < 3; i++) {
        ipcn_msg *m = NULL;
        assert_int_equal(ipcn_request(t, svcs[i], "t", 1, "", &m,
                                      IO_TIMEOUT_MS), IPCN_OK);
        assert_int_equal(m->len, 1);
        ipcn_msg_free(m);
    }
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(t, "pv/secret", &m, IO_TIMEOUT_MS), IPCN_OK);
    assert_int_equal(m->len, 6);
    assert_memory_equal(m->data, "s3cret", 6);
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(ipcn_query(t, "pv/pose", &m, IO_TIMEOUT_MS), IPCN_OK);
    assert_memory_equal(m->data, "victim-data", 11);
    ipcn_msg_free(m);
    /* both streams, the private one too */
    while (ipcn_sub_take(t, W.legit_sub, &m, 0) == IPCN_OK)
        ipcn_msg_free(m);
    assert_int_equal(ipcn_publish(W.victim, "pv/cam", "c", 1), IPCN_OK);
    assert_int_equal(ipcn_publish(W.victim, "pv/stream", "s", 1), IPCN_OK);
    bool cam = false, stream = false;
    while (!cam || !stream) {
        m = NULL;
        assert_int_equal(ipcn_sub_take(t, W.legit_sub, &m, IO_TIMEOUT_MS),
                         IPCN_OK);
        cam |= m->status == IPCN_OK && !strcmp(m->path, "pv/cam");
        stream |= m->status == IPCN_OK && !strcmp(m->path, "pv/stream");
        ipcn_msg_free(m);
    }
}

/* ------------------------------------------------------------------ */
/* Cases                                                                */
/* ------------------------------------------------------------------ */

/* Link-up tells it of what it may see, and of nothing else; requests and
 * queries and sets get 202, 203 as if absent, 100; a private stream's samples
 * never reach it; each refusal counted once, on the node and the peer. */
static void t_refusals(void **state)
{
    (void)state;
    char name[32];
    raw *r = hostile_link(name, sizeof name);
    assert_int_equal(W.nannounced, NPUBLIC);
    uint64_t d0 = denied();
    ask_expect(r, T_REQUEST, "pv/motor", 10, ST_FORBIDDEN);
    private_as_absent(r, T_REQUEST, "pv/arm", "pv/arms", 20);
    private_as_absent(r, T_REQUEST, "pv/secret", "pv/nothing", 30);
    private_as_absent(r, T_QUERY, "pv/secret", "pv/secret/x", 40);
    private_as_absent(r, T_QUERY, "pv/cam", "nowhere", 50);
    private_as_absent(r, T_REQUEST, "pv/cam", "pv", 60);
    rframe a;
    ask(r, T_QUERY, "pv/pose", 70, &a);
    assert_int_equal(a.status, ST_OK);
    assert_int_equal(a.data_len, 11);
    assert_memory_equal(a.data, "victim-data", 11);
    rframe_free(&a);
    /* write: data it may read but not set, 202; private data, 203 as a
     * path that does not exist; the value unchanged */
    set_expect(r, "pv/pose", 80, ST_FORBIDDEN);
    set_expect(r, "pv/secret", 81, ST_NOT_FOUND);
    set_expect(r, "pv/nothing", 82, ST_NOT_FOUND);
    ask(r, T_QUERY, "pv/pose", 83, &a);
    assert_int_equal(a.data_len, 11);
    assert_memory_equal(a.data, "victim-data", 11);
    rframe_free(&a);
    /* subscribed to everything: the open stream's samples come, the
     * private one's do not (check_frame) */
    B.len = 0;
    enc_text(&B, T_SUBSCRIBE, r->id, "pv/**", 5);
    raw_send_buf(r);
    sync_ping(r, 2);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ipcn_publish(W.victim, "pv/cam", "c", 1), IPCN_OK);
    assert_int_equal(ipcn_publish(W.victim, "pv/stream", "end", 3), IPCN_OK);
    unsigned samples = r->samples;
    for (bool end = false; !end;) {
        next_frame(r, &a);
        end = a.type == T_SAMPLE && a.data_len == 3 &&
              !memcmp(a.data, "end", 3);
        rframe_free(&a);
    }
    assert_int_equal(r->samples, samples + 1);
    sync_ping(r, 3);
    /* 1 forbidden request + 5 private + 1 forbidden set + 1 private set;
     * absent paths are no refusal */
    assert_int_equal(denied() - d0, 8);
    assert_int_equal(peer_denied(name), 8);
    legit_check();
}

/* Made private on the live link: WITHDRAW at once, then 203 as if absent;
 * a client linked meanwhile is never told of it; open again: announced. */
static void t_withdraw(void **state)
{
    (void)state;
    char name[32], name2[32];
    raw *r = hostile_link(name, sizeof name);
    ask_expect(r, T_QUERY, "pv/pose", 10, ST_OK);
    uint64_t d0 = denied();
    W.hidden[W.nhidden++] = "pv/pose";
    if (W.mode == MODE_RULES) {
        ipcn_access_rule only[] = {{0, IPCN_ACCESS_READ, "node:teleop"}};
        set_rules("pv/pose", only, 1);
    } else {
        policy_write(true); /* the victim reloads it on the live link */
    }
    while (strcmp(W.withdrawn, "pv/pose") != 0) {
        rframe f;
        next_frame(r, &f);
        rframe_free(&f);
    }
    private_as_absent(r, T_QUERY, "pv/pose", "pv/posed", 20);
    private_as_absent(r, T_REQUEST, "pv/pose", "pv/pose/a", 30);
    raw *r2 = hostile_link(name2, sizeof name2);
    assert_false(was_announced("pv/pose"));
    assert_int_equal(W.nannounced, NPUBLIC - 1);
    ask_expect(r2, T_QUERY, "pv/pose", 10, ST_NOT_FOUND);
    sync_ping(r, 4);
    assert_int_equal(denied() - d0, 3);
    assert_int_equal(peer_denied(name), 2);
    assert_int_equal(peer_denied(name2), 1);
    wait_found(W.legit, "pv/pose", 1);
    /* open again: told of it again, and 100 */
    W.nhidden--;
    W.nannounced = 0;
    if (W.mode == MODE_RULES)
        set_rules("pv/pose", NULL, 0);
    else
        policy_write(false);
    wait_announced(r, "pv/pose");
    ask_expect(r, T_QUERY, "pv/pose", 40, ST_OK);
    legit_check();
}

/* What it may not provide is not taken in: the victim's directory shows
 * nothing of it (its own path, announced again by the client, stays its
 * own), and the samples it sends there are dropped and counted: the
 * victim's subscription to them gets nothing.  What it may provide is
 * taken in, and its samples delivered. */
static void t_provide(void **state)
{
    (void)state;
    char name[32];
    raw *r = hostile_link(name, sizeof name);
    uint64_t d0 = denied();
    B.len = 0;
    enc_announce(&B, r->id, 2, 1, "hostile/bad/x", 13);
    enc_announce(&B, r->id, 2, 1, "hostile/ok/x", 12);
    enc_announce(&B, r->id, 3, 1, "pv/echo", 7);
    raw_send_buf(r);
    sync_ping(r, 2);
    assert_int_equal(found(W.victim, "hostile/bad/x"), 0);
    assert_int_equal(found(W.victim, "hostile/**"), 1);
    assert_int_equal(found(W.victim, "hostile/ok/x"), 1);
    assert_int_equal(found(W.victim, "pv/echo"), 1);
    assert_int_equal(denied() - d0, 2);
    for (uint64_t i = 1; i <= 50; i++)
        enc_sample(&B, r->id, i, "hostile/bad/x", "bad", 3);
    for (uint64_t i = 1; i <= 5; i++)
        enc_sample(&B, r->id, i, "hostile/ok/x", "ok", 2);
    raw_send_buf(r);
    sync_ping(r, 3);
    /* the good ones were sent last: once they are in, every bad one was
     * dealt with */
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (__atomic_load_n(&W.ok_samples, __ATOMIC_RELAXED) < 5 &&
           tu_now_ms() < end)
        usleep(5000);
    assert_int_equal(__atomic_load_n(&W.ok_samples, __ATOMIC_RELAXED), 5);
    assert_int_equal(__atomic_load_n(&W.bad_samples, __ATOMIC_RELAXED), 0);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(W.victim, W.hostile_sub, &ss),
                     IPCN_OK);
    assert_int_equal(ss.received, 5);
    assert_int_equal(denied() - d0, 2 + 50);
    assert_int_equal(peer_denied(name), 2 + 50);
    legit_check();
}

/* Many requests and queries of random paths (absent, private, forbidden):
 * every one answered once, 203 or 202, nothing held for them, the link
 * kept, each refusal of an existing resource counted. */
static void t_random_paths(void **state)
{
    (void)state;
    char name[32];
    raw *r = hostile_link(name, sizeof name);
    rng_state = 0x706f6c6963790000ull + (uint64_t)W.mode;
    enum { N = 3000 };
    r->corr_base = 1;
    r->ncorr = N;
    r->answered = calloc((N + 7) / 8, 1);
    assert_non_null(r->answered);
    ipcn_node_usage u0 = {.size = sizeof u0}, u1 = {.size = sizeof u1};
    assert_int_equal(ipcn_node_get_usage(W.victim, &u0), IPCN_OK);
    uint64_t d0 = denied();
    unsigned want202 = 0, want203 = 0, refusals = 0;
    static const char *const chars[] = {"a", "b", "z", "0", "9", "_", "-", ".",
                                        " ", "\xc3\xa9", "\xe2\x82\xac", "pv",
                                        "arm", "secret", "cam", "motor"};
    B.len = 0;
    for (uint64_t i = 0; i < N; i++) {
        char path[256];
        uint8_t type = T_REQUEST;
        unsigned pick = (unsigned)(rng() % 8);
        if (pick == 0) {
            snprintf(path, sizeof path, "pv/motor");
            want202++, refusals++;
        } else if (pick == 1) {
            snprintf(path, sizeof path, "%s", private_paths[rng() % NPRIVATE]);
            type = rng() & 1 ? T_QUERY : T_REQUEST;
            want203++, refusals++;
        } else {
            bool known;
            do {
                size_t n = 0, segs = 1 + rng() % 6;
                if (rng() & 1)
                    n = (size_t)snprintf(path, sizeof path, "pv/");
                for (size_t s = 0; s < segs; s++) {
                    size_t len = 1 + rng() % 4;
                    for (size_t k = 0; k < len && n < 200; k++) {
                        const char *c = chars[rng() % (sizeof chars / sizeof *chars)];
                        memcpy(path + n, c, strlen(c));
                        n += strlen(c);
                    }
                    if (s + 1 < segs)
                        path[n++] = '/';
                }
                path[n] = 0;
                known = false;
                for (size_t k = 0; k < NPUBLIC; k++)
                    known |= !strcmp(path, public_paths[k]);
                for (size_t k = 0; k < NPRIVATE; k++)
                    known |= !strcmp(path, private_paths[k]);
            } while (known);
            type = rng() & 1 ? T_QUERY : T_REQUEST;
            want203++;
        }
        enc_request(&B, type, r->id, 1 + i, path, NULL, 0);
        if (B.len > 60000)
            raw_send_buf(r);
    }
    raw_send_buf(r);
    sync_ping(r, 2);
    assert_int_equal(r->replies[ST_FORBIDDEN], want202);
    assert_int_equal(r->replies[ST_NOT_FOUND], want203);
    assert_int_equal(want202 + want203, N);
    assert_int_equal(r->dup_answers, 0);
    for (size_t i = 0; i < N; i++)
        assert_true(r->answered[i / 8] & (1u << (i % 8)));
    assert_int_equal(denied() - d0, refusals);
    assert_int_equal(peer_denied(name), refusals);
    assert_int_equal(ipcn_node_get_usage(W.victim, &u1), IPCN_OK);
    assert_int_equal(u1.peer_meta_bytes, u0.peer_meta_bytes);
    legit_check();
}

static int rules = MODE_RULES, policy = MODE_POLICY;
#define CASE(fn, mode) \
    cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &mode)

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    tu_net_dir();
    if (!getenv("IPCN_TEST_VERBOSE") && !getenv("IPCNET_LOG"))
        setenv("IPCNET_LOG", "error", 1); /* one line per refusal else */
    const struct CMUnitTest by_rules[] = {
        CASE(t_refusals, rules), CASE(t_withdraw, rules),
        CASE(t_random_paths, rules),
    };
    const struct CMUnitTest by_policy[] = {
        CASE(t_refusals, policy), CASE(t_withdraw, policy),
        CASE(t_provide, policy), CASE(t_random_paths, policy),
    };
    int rc = cmocka_run_group_tests_name("provider's rules", by_rules, NULL,
                                         NULL);
    rc |= cmocka_run_group_tests_name("network policy", by_policy, NULL, NULL);
    free(B.p);
    free(C.p);
    return rc;
}
