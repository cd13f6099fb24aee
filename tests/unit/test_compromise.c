/* SPDX-License-Identifier: MIT */
/*
 * test_compromise.c — detecting a compromised component and isolating it
 * (issue 15), with real processes: helper nodes (ipcn-test-v_node, and
 * ipcn-test-s_peer for shared memory) against a watching node "w" of this
 * process, and a second node "d" of this process that drives the helpers
 * (an isolated helper cannot be driven through w, which refuses it
 * everything).
 *
 *   - a component whose executable is replaced on disk while it runs (a
 *     copy of the helper run from a directory of the test, then another
 *     file renamed over it);
 *   - a component announcing outside what the policy lets it provide;
 *   - a shared-memory sample altered after publication, caught by the
 *     subscriber's ipcn_msg_verify();
 *   - an executable that does not hash to what the policy names;
 * each is detected, the publisher/announcer isolated (its requests and
 * queries refused as if nothing were there, its announcements and samples
 * refused), the event and ipcn_compromises() carry the evidence; without a
 * "detect" section it is only reported; lifting restores service.
 * Detection latencies are printed, never asserted.
 *
 * Built against the library's internals (a unit test's link): it sets the
 * policy's detect section on its own node directly, as the YAML would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/entry.h"
#include "ipcnet.h"
#include "node/node.h"
#include "policy/policy.h"
#include "v_util.h"

/* ---- events ---- */

static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int count;
    unsigned kinds;          /* 1 << kind of every event */
    ipcn_compromise last;
    char name[64], detail[256];
    uint64_t at_ms;
} ev;

static void on_event(ipcn_node *n, const ipcn_event *e, void *user)
{
    (void)n, (void)user;
    if (e->type != IPCN_EV_COMPROMISE)
        return;
    assert_non_null(e->compromise);
    pthread_mutex_lock(&ev_mu);
    ev.count++;
    ev.kinds |= 1u << e->compromise->kind;
    ev.last = *e->compromise;
    snprintf(ev.name, sizeof ev.name, "%s", e->compromise->name);
    snprintf(ev.detail, sizeof ev.detail, "%s", e->compromise->detail);
    ev.last.name = ev.name;
    ev.last.detail = ev.detail;
    ev.at_ms = tu_now_ms();
    assert_int_equal(e->status, (int)e->compromise->action);
    assert_string_equal(e->peer, e->compromise->name);
    pthread_mutex_unlock(&ev_mu);
}

static int ev_count(void)
{
    pthread_mutex_lock(&ev_mu);
    int k = ev.count;
    pthread_mutex_unlock(&ev_mu);
    return k;
}

static int setup(void **state)
{
    pthread_mutex_lock(&ev_mu);
    memset(&ev, 0, sizeof ev);
    pthread_mutex_unlock(&ev_mu);
    return v_setup(state);
}

#define CZ_TEST(f) cmocka_unit_test_setup_teardown(f, setup, v_teardown)

/* ---- the policy ---- */

/* Enforce on n the policy of yaml (NULL: default allow, no rule) with a
 * detect section when detect: action, and one component (who, a selector,
 * NULL: none) with that action and, when sha, that hash. */
static void set_policy(ipcn_node *n, const char *yaml, bool detect,
                       ipcn__action action, const char *who,
                       const uint8_t *sha)
{
    ipcn__policy *p = NULL;
    char why[256] = "";
    if (yaml)
        assert_int_equal(ipcn__policy_parse(yaml, strlen(yaml), "test", &p,
                                            why, sizeof why), IPCN_OK);
    else
        assert_non_null(p = ipcn__policy_new(IPCN__PROFILE_ALLOW));
    ipcn__detect_cfg *d = &p->guard.detect;
    d->enabled = detect;
    d->action = detect ? action : IPCN__ACT_REPORT;
    if (detect && who) {
        assert_non_null(d->components = calloc(1, sizeof *d->components));
        d->ncomponents = 1;
        ipcn__component *c = &d->components[0];
        assert_non_null(c->who = calloc(1, sizeof *c->who));
        assert_int_equal(ipcn__selector_parse(who, c->who, why, sizeof why),
                         IPCN_OK);
        c->nwho = 1;
        c->action = action;
        c->criticality = 3;
        c->line = 7;
        if (sha) {
            c->has_sha256 = true;
            memcpy(c->sha256, sha, 32);
        }
    }
    ipcn__node_lock(n);
    ipcn__policy *old = n->policy;
    n->policy = p;
    n->policy_gen++;
    ipcn__in in = {.kind = IPCN__IN_POLICY, .old_policy = old};
    ipcn__engine_in(n, &in);
    ipcn__node_unlock(n);
    ipcn__policy_free(old);
}

/* ---- helpers ---- */

/* Run the program at path as a node: v_node's arguments. */
static pid_t spawn_at(const char *path, const char *name, const char *spec)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, path, name, V_LIFETIME, spec, (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    v_track_pid(pid);
    return pid;
}

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    assert_true(in >= 0);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
    assert_true(out >= 0);
    char buf[65536];
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)r), r);
    assert_int_equal(r, 0);
    close(in);
    assert_int_equal(close(out), 0);
}

/* The record of name in w's ipcn_compromises(), copied (false: none). */
static bool record_of(ipcn_node *w, const char *name, ipcn_compromise *out,
                      char *detail, size_t cap)
{
    ipcn_compromise_list *cl;
    assert_int_equal(ipcn_compromises(w, &cl), IPCN_OK);
    bool found = false;
    for (size_t i = 0; i < cl->count; i++) {
        if (!strcmp(cl->items[i].name, name)) {
            *out = cl->items[i];
            snprintf(detail, cap, "%s", cl->items[i].detail);
            out->detail = detail;
            out->name = NULL;
            found = true;
        }
    }
    ipcn_compromise_list_free(cl);
    return found;
}

/* Wait (pumping w when it has no thread) until w holds evidence of kind
 * against name (isolated when isolated); returns when it came (ms). */
static uint64_t wait_evidence(ipcn_node *w, const char *name,
                              ipcn_compromise_kind kind, bool isolated,
                              ipcn_compromise *out, char *detail, size_t cap)
{
    uint64_t end = tu_now_ms() + 10000;
    for (;;) {
        if (record_of(w, name, out, detail, cap) && out->kind == kind &&
            out->isolated == (int)isolated)
            return tu_now_ms();
        if (tu_now_ms() > end)
            fail_msg("no evidence of kind %d against %s", (int)kind, name);
        v_pump(w, 2);
    }
}

/* Wait for the compromise event (delivered on w's thread, or by pumping). */
static void wait_event(ipcn_node *w, int count)
{
    uint64_t end = tu_now_ms() + 10000;
    while (ev_count() < count) {
        if (tu_now_ms() > end)
            fail_msg("no compromise event");
        v_pump(w, 5);
    }
}

/* The watching node: an echo service and a data resource, its own thread
 * (it serves the helpers' requests while the test waits elsewhere). */
static ipcn_node *open_watcher(void)
{
    ipcn_node *w = v_open("w", NULL);
    assert_int_equal(ipcn_node_set_event_fn(w, on_event, NULL), IPCN_OK);
    return w;
}

static int echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                void *user)
{
    (void)n, (void)user;
    ipcn_reply_set(ctx, req->data, req->len, req->encoding);
    return IPCN_OK;
}

static void serve(ipcn_node *w)
{
    assert_int_equal(ipcn_offer(w, "w/echo", "text/plain", echo, NULL),
                     IPCN_OK);
    assert_true(IPCN_IS_OK(ipcn_announce(w, "w/data", IPCN_DATA, "text/plain",
                                         NULL, 0)));
    assert_int_equal(ipcn_publish(w, "w/data", "v", 1), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(w), IPCN_OK);
}

/* What helper who gets from w: its request's and its query's statuses. */
static void expect_served(ipcn_node *d, const char *who, bool served)
{
    int st = v_ctl_text(d, who, NULL, 0, "request w/echo hi 3000");
    int q = v_ctl_text(d, who, NULL, 0, "query w/data 3000");
    if (served) {
        assert_int_equal(st, IPCN_OK);
        assert_int_equal(q, IPCN_OK);
    } else {
        /* Isolated: nothing of w is there for it any more. */
        assert_int_equal(st, IPCN_NOT_FOUND);
        assert_int_equal(q, IPCN_NOT_FOUND);
    }
}

/* Wait until helper who may use w/echo (it has learnt of it). */
static void wait_served(ipcn_node *d, const char *who)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (v_ctl_text(d, who, NULL, 0, "request w/echo hi 3000") != IPCN_OK) {
        if (tu_now_ms() > end)
            fail_msg("%s is not served by w", who);
        usleep(20000);
    }
}

/* ---- the cases ---- */

/* (i) The executable replaced on disk while it runs. */
static void test_exe_replaced(void **state)
{
    (void)state;
    char dir[600], exe[700], other[700];
    snprintf(dir, sizeof dir, "%s/bin-%d", tu_net_dir(), (int)getpid());
    setenv("IPCNET_NETWORK", v_network, 1); /* tu_net_dir unset it */
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(exe, sizeof exe, "%s/ipcn-test-v_node", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    copy_file(IPCN_TEST_BINDIR "/ipcn-test-v_node", exe);
    copy_file(IPCN_TEST_BINDIR "/ipcn-test-s_peer", other);

    ipcn_node *w = open_watcher();
    set_policy(w, NULL, true, IPCN__ACT_ISOLATE, NULL, NULL);
    serve(w);
    ipcn_node *d = v_open("d", NULL);
    ipcn_sub net;
    assert_int_equal(ipcn_subscribe(d, "system/compromise/**", 8, NULL, NULL,
                                    &net), IPCN_OK);
    spawn_at(exe, "cz-exe", "stream:cz/s");
    v_wait_helper(d, "cz-exe");
    wait_served(d, "cz-exe");
    expect_served(d, "cz-exe", true);

    uint64_t t0 = tu_now_ms();
    assert_int_equal(rename(other, exe), 0);
    ipcn_compromise c;
    char detail[256];
    uint64_t t1 = wait_evidence(w, "cz-exe", IPCN_COMPROMISE_EXE_CHANGED, true,
                                &c, detail, sizeof detail);
    wait_event(w, 1);
    printf("# executable replaced: detected and isolated in %llu ms "
           "(event %llu ms)\n", (unsigned long long)(t1 - t0),
           (unsigned long long)(ev.at_ms - t0));
    assert_non_null(strstr(detail, "replaced"));
    assert_non_null(strstr(detail, exe));
    assert_int_equal(c.action, IPCN_COMPROMISE_ISOLATE);
    assert_int_equal(c.uid, (int32_t)getuid());
    assert_true(c.pid > 0);
    pthread_mutex_lock(&ev_mu);
    assert_int_equal(ev.last.kind, IPCN_COMPROMISE_EXE_CHANGED);
    assert_string_equal(ev.name, "cz-exe");
    assert_true(ev.last.isolated);
    assert_non_null(strstr(ev.detail, "replaced"));
    pthread_mutex_unlock(&ev_mu);
    ipcn_node_stats st = {.size = sizeof st};
    assert_int_equal(ipcn_node_get_stats(w, &st), IPCN_OK);
    assert_int_equal(st.compromises, 1);
    assert_int_equal(st.isolations, 1);

    /* Its requests are refused, it no longer sees w's resources; its
     * samples are refused. */
    expect_served(d, "cz-exe", false);
    ipcn_resource_list *rl;
    assert_int_equal(ipcn_find(w, "cz/**", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 0);
    ipcn_resource_list_free(rl);

    /* The network event, on d. */
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_sub_take(d, net, &m, V_WAIT_MS), IPCN_OK);
    assert_string_equal(m->path, "system/compromise/w");
    assert_string_equal(m->encoding, "cbor");
    assert_non_null(memmem(m->data, m->len, "cz-exe", 6));
    assert_non_null(memmem(m->data, m->len, "exe_changed", 11));
    assert_non_null(memmem(m->data, m->len, "isolate", 7));
    assert_non_null(memmem(m->data, m->len, "reporter", 8));
    ipcn_msg_free(m);
}

/* (ii) Announcing outside its grant; (vi) lifting restores service. */
static const char provide_policy[] =
    "version: 1\n"
    "default: allow\n"
    "rules:\n"
    "  - deny: provide\n"
    "    who: \"node:cz-*\"\n"
    "    what: \"secret/**\"\n";

static void test_provide_outside_grant(void **state)
{
    (void)state;
    ipcn_node *w = open_watcher();
    set_policy(w, provide_policy, true, IPCN__ACT_ISOLATE, NULL, NULL);
    serve(w);
    ipcn_node *d = v_open("d", NULL);
    v_spawn("cz-prov", NULL);
    v_wait_helper(d, "cz-prov");
    wait_served(d, "cz-prov");
    expect_served(d, "cz-prov", true);

    uint64_t t0 = tu_now_ms();
    assert_true(IPCN_IS_OK(v_ctl_text(d, "cz-prov", NULL, 0,
                                      "announce secret/key data text")));
    ipcn_compromise c;
    char detail[256];
    uint64_t t1 = wait_evidence(w, "cz-prov", IPCN_COMPROMISE_PROVIDE, true,
                                &c, detail, sizeof detail);
    printf("# announced outside its grant: isolated in %llu ms\n",
           (unsigned long long)(t1 - t0));
    assert_non_null(strstr(detail, "secret/key"));
    wait_event(w, 1);
    expect_served(d, "cz-prov", false);
    /* Whatever else it announces now is refused too. */
    assert_true(IPCN_IS_OK(v_ctl_text(d, "cz-prov", NULL, 0,
                                      "announce open/thing data text")));
    assert_true(v_wait_count(d, "open/thing", IPCN_DATA, 1, V_WAIT_MS));
    v_pump(d, 100);
    assert_int_equal(v_count(w, "open/**", IPCN_ANY), 0);
    assert_int_equal(v_count(w, "ctl/cz-prov", IPCN_ANY), 0);

    /* (vi) Lifted by the operator: served again, its resources seen. */
    assert_int_equal(ipcn_isolation_lift(w, "nobody"), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_isolation_lift(w, "cz-prov"), IPCN_OK);
    assert_false(record_of(w, "cz-prov", &c, detail, sizeof detail));
    expect_served(d, "cz-prov", true);
    assert_true(v_wait_count(w, "open/thing", IPCN_DATA, 1, V_WAIT_MS));
    assert_int_equal(v_count(w, "secret/**", IPCN_ANY), 0);
}

/* (iii) A shared sample altered after publication. */
static void test_tampered_sample(void **state)
{
    (void)state;
    ipcn_node *w = open_watcher();
    set_policy(w, NULL, true, IPCN__ACT_ISOLATE, NULL, NULL);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(w, "cz/**", 64, NULL, NULL, &sub),
                     IPCN_OK);
    ipcn_node *d = v_open("d", NULL);
    v_s_peer("cz-shm");
    v_wait_helper(d, "cz-shm");
    assert_true(IPCN_IS_OK(v_ctl_text(d, "cz-shm", NULL, 0,
                                      "announce cz/cam")));
    assert_true(v_wait_count(w, "cz/cam", IPCN_STREAM, 1, V_WAIT_MS));
    assert_int_equal(v_ctl_text(d, "cz-shm", NULL, 0, "pub cz/cam %d 1",
                                1 << 20), IPCN_OK);
    ipcn_msg *m;
    assert_int_equal(ipcn_sub_take(w, sub, &m, V_WAIT_MS), IPCN_OK);
    assert_int_equal(ipcn_msg_verify(m), IPCN_OK);
    ipcn_msg_free(m);

    assert_int_equal(v_ctl_text(d, "cz-shm", NULL, 0, "scribble cz/cam %d",
                                1 << 20), IPCN_OK);
    assert_int_equal(ipcn_sub_take(w, sub, &m, V_WAIT_MS), IPCN_OK);
    assert_true(m->flags & IPCN_MSG_SHARED);
    uint64_t t0 = tu_now_ms();
    assert_int_equal(ipcn_msg_verify(m), IPCN_BAD_GATEWAY);
    ipcn_msg_free(m);
    ipcn_compromise c;
    char detail[256];
    uint64_t t1 = wait_evidence(w, "cz-shm", IPCN_COMPROMISE_TAMPERED, true,
                                &c, detail, sizeof detail);
    printf("# tampered sample: publisher isolated %llu ms after verify\n",
           (unsigned long long)(t1 - t0));
    assert_non_null(strstr(detail, "cz/cam"));
    ipcn_node_stats st = {.size = sizeof st};
    assert_int_equal(ipcn_node_get_stats(w, &st), IPCN_OK);
    assert_int_equal(st.verify_failures, 1);
    wait_event(w, 1);
    assert_int_equal(ev.last.kind, IPCN_COMPROMISE_TAMPERED);

    /* Its samples are refused now. */
    assert_int_equal(v_count(w, "cz/**", IPCN_ANY), 0);
    assert_int_equal(v_ctl_text(d, "cz-shm", NULL, 0, "pub cz/cam 4096 3"),
                     IPCN_OK);
    /* The subscription is told the stream went away (a notice: no
     * data, a status); no sample of it comes. */
    int notices = 0;
    while (ipcn_sub_take(w, sub, &m, 300) == IPCN_OK) {
        assert_int_not_equal(m->status, IPCN_OK);
        assert_int_equal(m->len, 0);
        ipcn_msg_free(m);
        notices++;
    }
    assert_true(notices <= 1);
    ipcn_node_stats st2 = {.size = sizeof st2};
    assert_int_equal(ipcn_node_get_stats(w, &st2), IPCN_OK);
    assert_true(st2.denied >= st.denied + 3);
}

/* (iv) An executable that does not hash to what the policy names. */
static void test_hash_mismatch(void **state)
{
    (void)state;
    static const uint8_t zeros[32];
    ipcn_node *w = open_watcher();
    set_policy(w, NULL, true, IPCN__ACT_SHUTDOWN, "node:cz-hash", zeros);
    serve(w);
    ipcn_node *d = v_open("d", NULL);
    v_spawn("cz-hash", NULL);
    v_wait_helper(d, "cz-hash");
    ipcn_compromise c;
    char detail[256];
    wait_evidence(w, "cz-hash", IPCN_COMPROMISE_EXE_HASH, true, &c, detail,
                  sizeof detail);
    assert_non_null(strstr(detail, "0000000000000000"));
    assert_int_equal(c.action, IPCN_COMPROMISE_SHUTDOWN);
    assert_int_equal(c.criticality, 3);
    wait_event(w, 1);
    assert_int_equal(ev.last.action, IPCN_COMPROMISE_SHUTDOWN);
    expect_served(d, "cz-hash", false);
    /* Another node, not named by the component, is left alone. */
    v_spawn("cz-other", NULL);
    v_wait_helper(d, "cz-other");
    wait_served(d, "cz-other");
    assert_false(record_of(w, "cz-other", &c, detail, sizeof detail));
}

/* A burst of refusals (the window made generous: a slow machine must not
 * spread the burst out of it). */
static const char execute_policy[] =
    "version: 1\n"
    "default: allow\n"
    "rules:\n"
    "  - deny: execute\n"
    "    who: \"node:cz-*\"\n"
    "    what: \"w/echo\"\n";

static void test_violation_burst(void **state)
{
    (void)state;
    ipcn_node *w = open_watcher();
    set_policy(w, execute_policy, true, IPCN__ACT_ISOLATE, NULL, NULL);
    ipcn__node_lock(w);
    w->policy->guard.detect.violations = 10;
    w->policy->guard.detect.violations_ms = 600000;
    ipcn__node_unlock(w);
    serve(w);
    ipcn_node *d = v_open("d", NULL);
    v_spawn("cz-burst", NULL);
    v_wait_helper(d, "cz-burst");
    assert_true(v_wait_count(d, "w/echo", IPCN_SERVICE, 1, V_WAIT_MS));
    /* It may read w/data, not execute w/echo: nine refusals are no
     * burst. */
    for (int i = 0; i < 9; i++)
        assert_int_equal(v_ctl_text(d, "cz-burst", NULL, 0,
                                    "request w/echo hi 3000"),
                         IPCN_FORBIDDEN);
    assert_int_equal(v_ctl_text(d, "cz-burst", NULL, 0, "query w/data 3000"),
                     IPCN_OK);
    ipcn_compromise c;
    char detail[256];
    assert_false(record_of(w, "cz-burst", &c, detail, sizeof detail));
    assert_int_equal(v_ctl_text(d, "cz-burst", NULL, 0,
                                "request w/echo hi 3000"), IPCN_FORBIDDEN);
    wait_evidence(w, "cz-burst", IPCN_COMPROMISE_VIOLATIONS, true, &c, detail,
                  sizeof detail);
    assert_non_null(strstr(detail, "10 policy refusals"));
    expect_served(d, "cz-burst", false);
}

/* An identity change: a node name seen running one executable comes
 * back running another, which is the one the policy names for it (so
 * the hash alone would not tell). */
static bool peer_sha(ipcn_node *w, const char *name, uint8_t sha[32])
{
    ipcn_peer_list *pl;
    assert_int_equal(ipcn_peers(w, &pl), IPCN_OK);
    bool found = false;
    for (size_t i = 0; i < pl->count; i++) {
        ipcn_peer_info info = {.size = sizeof info};
        if (!strcmp(pl->items[i].name, name) &&
            ipcn_peer_list_get_info(pl, i, &info) == IPCN_OK &&
            info.exe_hashed) {
            memcpy(sha, info.exe_sha256, 32);
            found = true;
        }
    }
    ipcn_peer_list_free(pl);
    return found;
}

static void wait_gone(ipcn_node *w, ipcn_node *d, const char *name)
{
    char p[128];
    snprintf(p, sizeof p, "ctl/%s", name);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (v_count(w, p, IPCN_ANY)) {
        assert_true(tu_now_ms() < end);
        v_pump(d, 20);
    }
}

static void test_identity_change(void **state)
{
    (void)state;
    ipcn_node *w = open_watcher();
    serve(w);
    ipcn_node *d = v_open("d", NULL);
    pid_t first = v_s_peer("cz-id");       /* cz-id runs s_peer first */
    v_wait_helper(d, "cz-id");
    assert_true(v_wait_count(w, "ctl/cz-id", IPCN_SERVICE, 1, V_WAIT_MS));
    pid_t probe = v_spawn("cz-probe", NULL);
    v_wait_helper(d, "cz-probe");
    assert_true(v_wait_count(w, "ctl/cz-probe", IPCN_SERVICE, 1, V_WAIT_MS));
    uint8_t sha[32];
    assert_true(peer_sha(w, "cz-probe", sha)); /* v_node's */
    v_kill(probe);
    set_policy(w, NULL, true, IPCN__ACT_ISOLATE, "node:cz-id", sha);
    v_kill(first);
    wait_gone(w, d, "cz-id");
    ipcn_compromise c;
    char detail[256];
    assert_false(record_of(w, "cz-id", &c, detail, sizeof detail));
    v_spawn("cz-id", NULL);                /* now v_node, the policy's */
    wait_evidence(w, "cz-id", IPCN_COMPROMISE_IDENTITY, true, &c, detail,
                  sizeof detail);
    assert_non_null(strstr(detail, "cz-id ran "));
    wait_event(w, 1);
    pthread_mutex_lock(&ev_mu);
    assert_int_equal(ev.kinds, 1u << IPCN_COMPROMISE_IDENTITY);
    pthread_mutex_unlock(&ev_mu);
}

/* (v) Without a detect section: reported, not isolated. */
static void test_report_only(void **state)
{
    (void)state;
    ipcn_node *w = open_watcher();
    set_policy(w, provide_policy, false, IPCN__ACT_REPORT, NULL, NULL);
    serve(w);
    ipcn_node *d = v_open("d", NULL);
    v_spawn("cz-rep", NULL);
    v_wait_helper(d, "cz-rep");
    wait_served(d, "cz-rep");
    assert_true(IPCN_IS_OK(v_ctl_text(d, "cz-rep", NULL, 0,
                                      "announce secret/key data text")));
    ipcn_compromise c;
    char detail[256];
    wait_evidence(w, "cz-rep", IPCN_COMPROMISE_PROVIDE, false, &c, detail,
                  sizeof detail);
    assert_int_equal(c.action, IPCN_COMPROMISE_REPORT);
    wait_event(w, 1);
    assert_false(ev.last.isolated);
    expect_served(d, "cz-rep", true);
    assert_int_equal(v_count(w, "ctl/cz-rep", IPCN_SERVICE), 1);
    ipcn_node_stats st = {.size = sizeof st};
    assert_int_equal(ipcn_node_get_stats(w, &st), IPCN_OK);
    assert_int_equal(st.compromises, 1);
    assert_int_equal(st.isolations, 0);
    /* Told once per kind: the same again is not a second report. */
    assert_true(IPCN_IS_OK(v_ctl_text(d, "cz-rep", NULL, 0,
                                      "announce secret/other data text")));
    v_pump(w, 200);
    assert_int_equal(ipcn_node_get_stats(w, &st), IPCN_OK);
    assert_int_equal(st.compromises, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        CZ_TEST(test_exe_replaced),
        CZ_TEST(test_provide_outside_grant),
        CZ_TEST(test_tampered_sample),
        CZ_TEST(test_hash_mismatch),
        CZ_TEST(test_violation_burst),
        CZ_TEST(test_identity_change),
        CZ_TEST(test_report_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
