/* SPDX-License-Identifier: MIT */
/*
 * test_owner.c — several providers of one data or stream path
 * (ipcnet_redundancy.h), in real processes: a strong and a weak hot
 * standby at about 1 kHz, the strong killed (-9) or stopped (SIGSTOP, then
 * SIGCONT): the subscriber goes on with the weak one's samples, told by
 * IPCN_EV_OWNER, with no sample twice and no loss counted within a
 * provider, and the strong takes back over; the same for a data path
 * under queries; a warm standby that publishes nothing until it owns; the
 * tie rule seen alike by two subscribers; owned and plain providers of
 * one path refused (207) both ways.
 *
 * Helper: ipcn-test-o_pub (a provider of an owned path).  Waits are
 * bounded ("it happens"), nothing is timed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "ipcnet.h"
#include "ipcnet_redundancy.h"
#include "raw_client.h"
#include "testutil.h"
#include "helpers/l_common.h"

#define HB "hb=50"
#define DEAD "dead=400"
#define WAIT_MS 15000

/* ------------------------------------------------------------------ */
/* What a subscription received, per provider                          */
/* ------------------------------------------------------------------ */

#define MAX_SRC 8

typedef struct src_rec {
    uint64_t id;
    char name[72];
    uint64_t count;
    uint64_t last_seq;
    uint64_t not_increasing; /* samples whose seq was not above the last */
} src_rec;

typedef struct rec {
    pthread_mutex_t mu;
    src_rec src[MAX_SRC];
    unsigned nsrc;
    char last_src[72];
} rec;

static rec *rec_new(void)
{
    rec *r = calloc(1, sizeof *r);
    assert_non_null(r);
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

static void rec_free(rec *r)
{
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    rec *r = user;
    if (m->status != IPCN_OK)
        return; /* a "provider gone" notice */
    pthread_mutex_lock(&r->mu);
    src_rec *s = NULL;
    for (unsigned i = 0; i < r->nsrc; i++)
        if (r->src[i].id == m->src_id)
            s = &r->src[i];
    if (!s && r->nsrc < MAX_SRC) {
        s = &r->src[r->nsrc++];
        s->id = m->src_id;
        snprintf(s->name, sizeof s->name, "%s", m->src_name);
    }
    if (s) {
        if (s->count && m->seq <= s->last_seq)
            s->not_increasing++;
        s->last_seq = m->seq;
        s->count++;
    }
    snprintf(r->last_src, sizeof r->last_src, "%s", m->src_name);
    pthread_mutex_unlock(&r->mu);
}

/* Samples received from the incarnations of the node of that name. */
static uint64_t from(rec *r, const char *name)
{
    uint64_t k = 0;
    pthread_mutex_lock(&r->mu);
    for (unsigned i = 0; i < r->nsrc; i++)
        if (!strcmp(r->src[i].name, name))
            k += r->src[i].count;
    pthread_mutex_unlock(&r->mu);
    return k;
}

static uint64_t not_increasing(rec *r)
{
    uint64_t k = 0;
    pthread_mutex_lock(&r->mu);
    for (unsigned i = 0; i < r->nsrc; i++)
        k += r->src[i].not_increasing;
    pthread_mutex_unlock(&r->mu);
    return k;
}

/* ------------------------------------------------------------------ */
/* Nodes                                                               */
/* ------------------------------------------------------------------ */

/* A node of this process, its I/O and callbacks on its own thread. */
static ipcn_node *open_node(const char *name, l_events *ev)
{
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.heartbeat_ms = 50;
    o.dead_after_ms = 400;
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, name, &o), IPCN_OK);
    if (ev)
        ipcn_node_set_event_fn(n, l_event_fn, ev);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return l_own_node(n);
}

static pid_t spawn_pub(const char *name, const char *path, const char *kind,
                       int strength, bool warm)
{
    char p[160], k[32], s[32];
    snprintf(p, sizeof p, "path=%s", path);
    snprintf(k, sizeof k, "kind=%s", kind);
    snprintf(s, sizeof s, "strength=%d", strength);
    pid_t pid = l_spawn("o_pub", name, "90", p, k, s, warm ? "warm=1" : "warm=0",
                        HB, DEAD, NULL);
    assert_true(pid > 0);
    return pid;
}

/* Is pid stopped (state T in /proc)? */
static bool stopped(pid_t pid)
{
    char path[64], text[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t k = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[k] = 0;
    const char *p = strrchr(text, ')');
    return p && p[1] == ' ' && p[2] == 'T';
}

static bool owner_is(ipcn_node *n, const char *path, const char *name)
{
    ipcn_owner_info oi = {.size = sizeof oi};
    return ipcn_owner_get(n, path, &oi) == IPCN_OK && !strcmp(oi.owner, name);
}

static uint32_t providers(ipcn_node *n, const char *path)
{
    ipcn_owner_info oi = {.size = sizeof oi};
    return ipcn_owner_get(n, path, &oi) == IPCN_OK ? oi.providers : 0;
}

static ipcn_sub_stats sub_stats(ipcn_node *n, ipcn_sub sub)
{
    ipcn_sub_stats st = {.size = sizeof st};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &st), IPCN_OK);
    return st;
}

/* An IPCN_EV_OWNER of path naming peer, at index >= mark. */
static bool owner_event(l_events *ev, size_t mark, const char *path,
                        const char *peer, int status)
{
    bool found = false;
    pthread_mutex_lock(&ev->mu);
    for (size_t i = mark; i < ev->count; i++)
        if (ev->ev[i].type == IPCN_EV_OWNER && !strcmp(ev->ev[i].path, path) &&
            !strcmp(ev->ev[i].peer, peer) && ev->ev[i].status == status)
            found = true;
    pthread_mutex_unlock(&ev->mu);
    return found;
}


/* ------------------------------------------------------------------ */
/* Hot standby of a stream                                             */
/* ------------------------------------------------------------------ */

#define STREAM "robot/lidar"

/* The strong one owns, the weak one's samples are counted as standby. */
static void strong_owns(ipcn_node *sub_node, rec *r, const char *strong,
                        const char *weak)
{
    assert_true(L_UNTIL(NULL, owner_is(sub_node, STREAM, strong) &&
                                  providers(sub_node, STREAM) == 2,
                        WAIT_MS));
    uint64_t k0 = from(r, strong);
    assert_true(L_UNTIL(NULL, from(r, strong) > k0 + 200, WAIT_MS));
    (void)weak;
}

/* Strong (10) and weak (5), both hot; the subscriber takes the strong's
 * samples only, then after stop(strong) the weak's, then the strong's
 * again once it is back (restarted or continued). */
static void hot_standby(const char *net, bool kill9)
{
    l_net(net);
    l_events *ev = l_new_events();
    rec *r = rec_new();
    ipcn_node *n = open_node("m-sub", ev);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, STREAM, 4096, on_sample, r, &sub),
                     IPCN_OK);
    pid_t strong = spawn_pub("o-strong", STREAM, "stream", 10, false);
    pid_t weak = spawn_pub("o-weak", STREAM, "stream", 5, false);
    strong_owns(n, r, "o-strong", "o-weak");
    assert_true(L_UNTIL(NULL, owner_event(ev, 0, STREAM, "o-strong", IPCN_OK),
                        WAIT_MS));
    /* (The weak one may have owned it until the strong one was known.) */
    uint64_t w0 = from(r, "o-weak");
    assert_true(L_UNTIL(NULL, sub_stats(n, sub).standby > 100, WAIT_MS));
    assert_int_equal(from(r, "o-weak"), w0); /* standby samples: dropped */

    size_t mark = l_events_mark(ev);
    if (kill9)
        l_kill(strong);
    else
        kill(strong, SIGSTOP);
    assert_true(kill9 || L_UNTIL(NULL, stopped(strong), WAIT_MS));
    assert_true(L_UNTIL(NULL, owner_is(n, STREAM, "o-weak"), WAIT_MS));
    assert_true(L_UNTIL(NULL, owner_event(ev, mark, STREAM, "o-weak", IPCN_OK),
                        WAIT_MS));
    assert_true(L_UNTIL(NULL, from(r, "o-weak") > 200, WAIT_MS));
    ipcn_sub_stats st = sub_stats(n, sub);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.resets, 0);
    assert_int_equal(not_increasing(r), 0);

    /* The strong one comes back and takes back over. */
    mark = l_events_mark(ev);
    if (kill9)
        strong = spawn_pub("o-strong", STREAM, "stream", 10, false);
    else
        kill(strong, SIGCONT);
    uint64_t k0 = from(r, "o-strong");
    assert_true(L_UNTIL(NULL, owner_is(n, STREAM, "o-strong"), WAIT_MS));
    assert_true(L_UNTIL(NULL, owner_event(ev, mark, STREAM, "o-strong",
                                          IPCN_OK),
                        WAIT_MS));
    assert_true(L_UNTIL(NULL, from(r, "o-strong") > k0 + 200, WAIT_MS));
    uint64_t w = from(r, "o-weak");
    assert_true(L_UNTIL(NULL, from(r, "o-strong") > k0 + 400, WAIT_MS));
    /* The weak one is a standby again: nothing more of it delivered. */
    assert_int_equal(from(r, "o-weak"), w);
    st = sub_stats(n, sub);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.resets, 0);
    assert_int_equal(not_increasing(r), 0);
    assert_true(st.standby > 100);
    print_message("[ owner ] %s: received %llu standby %llu dropped %llu\n",
                  net, (unsigned long long)st.received,
                  (unsigned long long)st.standby,
                  (unsigned long long)st.dropped);

    assert_int_equal(l_stop(strong, 5000), 0);
    assert_int_equal(l_stop(weak, 5000), 0);
    l_close_node(n);
    rec_free(r);
}

static void test_hot_standby_kill9(void **state)
{
    (void)state;
    hot_standby("own-kill9", true);
}

static void test_hot_standby_sigstop(void **state)
{
    (void)state;
    hot_standby("own-stop", false);
}


/* ------------------------------------------------------------------ */
/* A data path under queries                                           */
/* ------------------------------------------------------------------ */

#define POSE "robot/pose"

/* The provider whose value a query of POSE gets ("" when it fails). */
static void query_src(ipcn_node *n, char *src, size_t cap)
{
    ipcn_msg *m = NULL;
    int st = ipcn_query(n, POSE, &m, 10000);
    src[0] = 0;
    if (st == IPCN_OK && m)
        snprintf(src, cap, "%s", m->src_name);
    else
        print_message("[ owner ] query of %s: %d\n", POSE, st);
    ipcn_msg_free(m);
}

static bool query_from(ipcn_node *n, const char *name)
{
    char src[72];
    query_src(n, src, sizeof src);
    return !strcmp(src, name);
}

static void data_under_queries(const char *net, bool kill9)
{
    l_net(net);
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("m-query", ev);
    pid_t strong = spawn_pub("o-strong", POSE, "data", 10, false);
    pid_t weak = spawn_pub("o-weak", POSE, "data", 5, false);
    assert_true(L_UNTIL(NULL, owner_is(n, POSE, "o-strong") &&
                                  providers(n, POSE) == 2,
                        WAIT_MS));
    for (int i = 0; i < 5; i++)
        assert_true(query_from(n, "o-strong"));

    size_t mark = l_events_mark(ev);
    if (kill9) {
        l_kill(strong);
    } else {
        /* A query asked of the stopped owner fails over to the next in
         * rank once its link is dropped. */
        kill(strong, SIGSTOP);
        assert_true(L_UNTIL(NULL, stopped(strong), WAIT_MS));
        char src[72];
        query_src(n, src, sizeof src);
        assert_string_equal(src, "o-weak");
    }
    assert_true(L_UNTIL(NULL, owner_is(n, POSE, "o-weak"), WAIT_MS));
    assert_true(L_UNTIL(NULL, owner_event(ev, mark, POSE, "o-weak", IPCN_OK),
                        WAIT_MS));
    for (int i = 0; i < 5; i++)
        assert_true(query_from(n, "o-weak"));

    mark = l_events_mark(ev);
    if (kill9)
        strong = spawn_pub("o-strong", POSE, "data", 10, false);
    else
        kill(strong, SIGCONT);
    assert_true(L_UNTIL(NULL, owner_is(n, POSE, "o-strong"), WAIT_MS));
    assert_true(L_UNTIL(NULL, owner_event(ev, mark, POSE, "o-strong", IPCN_OK),
                        WAIT_MS));
    for (int i = 0; i < 5; i++)
        assert_true(query_from(n, "o-strong"));

    assert_int_equal(l_stop(strong, 5000), 0);
    assert_int_equal(l_stop(weak, 5000), 0);
    l_close_node(n);
}

static void test_data_queries_kill9(void **state)
{
    (void)state;
    data_under_queries("own-dkill9", true);
}

static void test_data_queries_sigstop(void **state)
{
    (void)state;
    data_under_queries("own-dstop", false);
}

/* ------------------------------------------------------------------ */
/* A warm standby                                                      */
/* ------------------------------------------------------------------ */

static void test_warm_standby(void **state)
{
    (void)state;
    l_net("own-warm");
    l_events *ev = l_new_events();
    l_events *wev = l_new_events();
    rec *r = rec_new();
    ipcn_node *n = open_node("m-sub", ev);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, STREAM, 4096, on_sample, r, &sub),
                     IPCN_OK);
    pid_t strong = spawn_pub("o-strong", STREAM, "stream", 10, false);
    assert_true(L_UNTIL(NULL, owner_is(n, STREAM, "o-strong"), WAIT_MS));
    ipcn_node *w = open_node("o-warm", wev);
    ipcn_announce_opts ao;
    ipcn_announce_opts_init(&ao);
    ao.strength = 1;
    ao.standby = IPCN_STANDBY_WARM;
    assert_int_equal(ipcn_announce_owned(w, STREAM, IPCN_STREAM, "text/plain",
                                         NULL, 0, &ao),
                     IPCN_CREATED);
    assert_true(L_UNTIL(NULL, owner_is(w, STREAM, "o-strong") &&
                                  providers(n, STREAM) == 2,
                        WAIT_MS));
    /* Not the owner: nothing is sent. */
    for (int i = 0; i < 50; i++)
        assert_int_equal(ipcn_publish(w, STREAM, "warm", 4), IPCN_CONFLICT);
    uint64_t k0 = from(r, "o-strong");
    assert_true(L_UNTIL(NULL, from(r, "o-strong") > k0 + 200, WAIT_MS));
    assert_int_equal(sub_stats(n, sub).standby, 0);
    assert_int_equal(from(r, "o-warm"), 0);

    /* The strong one dies: the warm one is told it owns, and publishes. */
    size_t mark = l_events_mark(wev);
    l_kill(strong);
    assert_true(L_UNTIL(NULL, owner_event(wev, mark, STREAM, "o-warm",
                                          IPCN_OK),
                        WAIT_MS));
    assert_true(owner_is(w, STREAM, "o-warm"));
    ipcn_owner_info oi = {.size = sizeof oi};
    assert_int_equal(ipcn_owner_get(w, STREAM, &oi), IPCN_OK);
    assert_true(oi.self);
    assert_int_equal(oi.providers, 1);
    assert_int_equal(oi.strength, 1);
    assert_true(L_UNTIL(NULL, owner_is(n, STREAM, "o-warm"), WAIT_MS));
    for (int i = 0; i < 20; i++)
        assert_int_equal(ipcn_publish(w, STREAM, "warm", 4), IPCN_OK);
    assert_true(L_UNTIL(NULL, from(r, "o-warm") == 20, WAIT_MS));
    ipcn_sub_stats st = sub_stats(n, sub);
    assert_int_equal(st.standby, 0);
    assert_int_equal(st.lost, 0);
    assert_int_equal(not_increasing(r), 0);

    /* It withdraws: none is left, and the subscriber is told so. */
    mark = l_events_mark(ev);
    assert_int_equal(ipcn_withdraw(w, STREAM), IPCN_OK);
    assert_true(L_UNTIL(NULL, owner_event(ev, mark, STREAM, "",
                                          IPCN_SERVICE_UNAVAILABLE),
                        WAIT_MS));
    assert_int_equal(ipcn_owner_get(n, STREAM, &oi), IPCN_NOT_FOUND);
    l_close_node(w);
    l_close_node(n);
    rec_free(r);
}

/* ------------------------------------------------------------------ */
/* Equal strengths: the name rule                                      */
/* ------------------------------------------------------------------ */

static void test_equal_strengths(void **state)
{
    (void)state;
    l_net("own-tie");
    rec *r1 = rec_new(), *r2 = rec_new();
    ipcn_node *s1 = open_node("m-sub1", NULL);
    ipcn_node *s2 = open_node("m-sub2", NULL);
    ipcn_sub sub1, sub2;
    assert_int_equal(ipcn_subscribe(s1, STREAM, 4096, on_sample, r1, &sub1),
                     IPCN_OK);
    assert_int_equal(ipcn_subscribe(s2, STREAM, 4096, on_sample, r2, &sub2),
                     IPCN_OK);
    /* Started in the other order than the rule picks. */
    pid_t b = spawn_pub("o-b", STREAM, "stream", 7, false);
    pid_t a = spawn_pub("o-a", STREAM, "stream", 7, false);
    assert_true(L_UNTIL(NULL, providers(s1, STREAM) == 2 &&
                                  providers(s2, STREAM) == 2,
                        WAIT_MS));
    assert_true(owner_is(s1, STREAM, "o-a"));
    assert_true(owner_is(s2, STREAM, "o-a"));
    uint64_t k1 = from(r1, "o-a"), k2 = from(r2, "o-a");
    uint64_t b1 = from(r1, "o-b"), b2 = from(r2, "o-b");
    assert_true(L_UNTIL(NULL, from(r1, "o-a") > k1 + 200 &&
                                  from(r2, "o-a") > k2 + 200,
                        WAIT_MS));
    /* Once both were known, nothing of o-b was delivered. */
    assert_int_equal(from(r1, "o-b"), b1);
    assert_int_equal(from(r2, "o-b"), b2);
    assert_true(sub_stats(s1, sub1).standby > 0);
    assert_true(sub_stats(s2, sub2).standby > 0);
    assert_int_equal(l_stop(a, 5000), 0);
    assert_int_equal(l_stop(b, 5000), 0);
    l_close_node(s1);
    l_close_node(s2);
    rec_free(r1);
    rec_free(r2);
}

/* ------------------------------------------------------------------ */
/* Owned and plain providers of one path                               */
/* ------------------------------------------------------------------ */

static void test_owned_vs_plain(void **state)
{
    (void)state;
    l_net("own-plain");
    ipcn_node *x = open_node("x-plain", NULL);
    ipcn_node *y = open_node("y-owned", NULL);
    ipcn_announce_opts ao;
    ipcn_announce_opts_init(&ao);
    ao.strength = 3;
    assert_int_equal(ipcn_announce(x, "p/plain", IPCN_DATA, "", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce_owned(y, "p/owned", IPCN_DATA, "", NULL, 0,
                                         &ao),
                     IPCN_CREATED);
    assert_true(L_UNTIL(NULL, l_count_resources(y, "p/plain", "x-plain") == 1 &&
                                  l_count_resources(x, "p/owned", "y-owned") == 1,
                        WAIT_MS));
    /* A peer's plain path is not announced owned, nor the other way. */
    assert_int_equal(ipcn_announce_owned(y, "p/plain", IPCN_DATA, "", NULL, 0,
                                         &ao),
                     IPCN_CONFLICT);
    assert_int_equal(ipcn_announce(x, "p/owned", IPCN_DATA, "", NULL, 0),
                     IPCN_CONFLICT);
    /* Nor this node's own. */
    assert_int_equal(ipcn_announce_owned(x, "p/plain", IPCN_DATA, "", NULL, 0,
                                         &ao),
                     IPCN_CONFLICT);
    assert_int_equal(ipcn_announce(y, "p/owned", IPCN_DATA, "", NULL, 0),
                     IPCN_CONFLICT);
    /* A second owned provider is welcome; again: changed (100). */
    assert_int_equal(ipcn_announce_owned(x, "p/owned", IPCN_DATA, "", NULL, 0,
                                         &ao),
                     IPCN_CREATED);
    ao.strength = 4;
    assert_int_equal(ipcn_announce_owned(x, "p/owned", IPCN_DATA, "", NULL, 0,
                                         &ao),
                     IPCN_OK);
    /* Of the same kind only; data and stream only. */
    assert_int_equal(ipcn_announce_owned(x, "p/other", IPCN_SERVICE, "", NULL,
                                         0, &ao),
                     IPCN_BAD_REQUEST);
    ao.standby = (ipcn_standby)7;
    assert_int_equal(ipcn_announce_owned(x, "p/other", IPCN_DATA, "", NULL, 0,
                                         &ao),
                     IPCN_BAD_REQUEST);
    /* Both see x-plain (4) own it, over y-owned (3). */
    assert_true(L_UNTIL(NULL, owner_is(y, "p/owned", "x-plain") &&
                                  owner_is(x, "p/owned", "x-plain"),
                        WAIT_MS));
    ipcn_owner_info oi = {.size = sizeof oi};
    assert_int_equal(ipcn_owner_get(y, "p/plain", &oi), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_owner_get(y, "p/owned", &oi), IPCN_OK);
    assert_int_equal(oi.providers, 2);
    assert_int_equal(oi.strength, 4);
    assert_false(oi.self);
    assert_true(oi.owner_id != 0);
    assert_true(oi.changes >= 1);
    /* Sized and checked arguments. */
    assert_int_equal(ipcn_owner_get(y, "p/owned", NULL), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_owner_get(y, NULL, &oi), IPCN_BAD_REQUEST);
    ipcn_owner_info small = {.size = 8};
    assert_int_equal(ipcn_owner_get(y, "p/owned", &small), IPCN_BAD_REQUEST);
    ipcn_announce_opts bad;
    ipcn_announce_opts_init(&bad);
    bad.size = 2;
    assert_int_equal(ipcn_announce_owned(y, "p/owned", IPCN_DATA, "", NULL, 0,
                                         &bad),
                     IPCN_BAD_REQUEST);
    ipcn_announce_opts_init(NULL); /* a no-op */
    /* NULL options: the defaults (strength 0, hot). */
    assert_int_equal(ipcn_announce_owned(y, "p/owned", IPCN_DATA, "", NULL, 0,
                                         NULL),
                     IPCN_OK);
    /* Withdrawn by its owner: the other one takes over. */
    assert_int_equal(ipcn_withdraw(x, "p/owned"), IPCN_OK);
    assert_true(L_UNTIL(NULL, owner_is(y, "p/owned", "y-owned") &&
                                  owner_is(x, "p/owned", "y-owned"),
                        WAIT_MS));
    assert_int_equal(ipcn_owner_get(y, "p/owned", &oi), IPCN_OK);
    assert_true(oi.self);
    assert_int_equal(oi.strength, 0);
    assert_int_equal(oi.providers, 1);
    l_close_node(x);
    l_close_node(y);
}

/* ------------------------------------------------------------------ */
/* Hostile: strength claimed where the policy does not let provide     */
/* ------------------------------------------------------------------ */

#define CAP_REDUNDANCY 128u /* protocol: capability bit 7 */
#define ANN_OWNED 1u

/* A policy that lets everyone do anything, but the raw clients provide
 * nothing under robot/. */
static void hostile_policy(char *path, size_t cap)
{
    snprintf(path, cap, "%s/owner-policy.yaml", tu_net_dir());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "version: 1\n"
               "default: allow\n"
               "rules:\n"
               "  - deny: provide\n"
               "    who: \"node:hostile-*\"\n"
               "    what: \"robot/**\"\n");
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0644), 0);
}

static void test_hostile_strength(void **state)
{
    (void)state;
    char policy[600];
    hostile_policy(policy, sizeof policy);
    setenv("IPCNET_POLICY", policy, 1);
    tu_net_dir(); /* the raw client speaks to the "default" network */
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock,
             "%s/default/m-sub.sock", raw_target.dir);
    l_events *ev = l_new_events();
    rec *r = rec_new();
    ipcn_node *n = open_node("m-sub", ev);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, STREAM, 4096, on_sample, r, &sub),
                     IPCN_OK);
    pid_t strong = spawn_pub("o-strong", STREAM, "stream", 10, false);
    assert_true(L_UNTIL(NULL, owner_is(n, STREAM, "o-strong"), WAIT_MS));
    ipcn_node_stats ns = {.size = sizeof ns};
    assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    uint64_t denied0 = ns.denied;
    size_t mark = l_events_mark(ev);

    hello_caps = CAP_REDUNDANCY;
    raw *h = raw_link();
    B.len = 0;
    size_t off = enc_announce(&B, h->id, 2 /* stream */, 1, STREAM,
                              strlen(STREAM));
    b_u32(&B, 1000);      /* strength */
    b_u8(&B, ANN_OWNED);  /* flags */
    b_u8(&B, 0);
    b_u16(&B, 0);
    f_end(&B, off);
    for (uint64_t k = 1; k <= 50; k++)
        enc_sample(&B, h->id, k, STREAM, "rogue", 5);
    raw_send_buf(h);
    raw_ping(h, 2); /* all of it was read */
    hello_caps = 0;

    /* Not ranked: the owner stays, nobody is told of a change, nothing of
     * the rogue is delivered, and its claim is counted as refused. */
    uint64_t k0 = from(r, "o-strong");
    assert_true(L_UNTIL(NULL, from(r, "o-strong") > k0 + 100, WAIT_MS));
    assert_true(owner_is(n, STREAM, "o-strong"));
    assert_int_equal(providers(n, STREAM), 1); /* the rogue is not ranked */
    assert_int_equal(l_events_count(ev, mark, IPCN_EV_OWNER, NULL), 0);
    char rogue[32];
    snprintf(rogue, sizeof rogue, "hostile-%llu",
             (unsigned long long)raw_target.count);
    assert_int_equal(from(r, rogue), 0);
    assert_int_equal(ipcn_node_get_stats(n, &ns), IPCN_OK);
    assert_true(ns.denied > denied0);
    assert_int_equal(sub_stats(n, sub).standby, 0);

    raw_free_all();
    assert_int_equal(l_stop(strong, 5000), 0);
    l_close_node(n);
    rec_free(r);
    unsetenv("IPCNET_POLICY");
}

/* A rogue that announces the path first, owned, as another kind (data),
 * must not make the group: the real providers of the stream, who come
 * after it, are ranked among themselves all the same. */
static void test_hostile_first(void **state)
{
    (void)state;
    char policy[600];
    hostile_policy(policy, sizeof policy);
    setenv("IPCNET_POLICY", policy, 1);
    tu_net_dir();
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock,
             "%s/default/m-sub.sock", raw_target.dir);
    l_events *ev = l_new_events();
    rec *r = rec_new();
    ipcn_node *n = open_node("m-sub", ev);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, STREAM, 4096, on_sample, r, &sub),
                     IPCN_OK);
    hello_caps = CAP_REDUNDANCY;
    raw *h = raw_link();
    B.len = 0;
    size_t off = enc_announce(&B, h->id, 1 /* data */, 1, STREAM,
                              strlen(STREAM));
    b_u32(&B, 1000);      /* strength */
    b_u8(&B, ANN_OWNED);  /* flags */
    b_u8(&B, 0);
    b_u16(&B, 0);
    f_end(&B, off);
    raw_send_buf(h);
    raw_ping(h, 2); /* it was read */
    hello_caps = 0;

    pid_t strong = spawn_pub("o-strong", STREAM, "stream", 10, false);
    pid_t weak = spawn_pub("o-weak", STREAM, "stream", 5, false);
    assert_true(L_UNTIL(NULL, owner_is(n, STREAM, "o-strong") &&
                                  providers(n, STREAM) == 2, WAIT_MS));
    /* The weak one is a standby here: its samples are dropped, counted. */
    assert_true(L_UNTIL(NULL, sub_stats(n, sub).standby > 0, WAIT_MS));

    raw_free_all();
    assert_int_equal(l_stop(weak, 5000), 0);
    assert_int_equal(l_stop(strong, 5000), 0);
    l_close_node(n);
    rec_free(r);
    unsetenv("IPCNET_POLICY");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hot_standby_kill9, l_teardown),
        cmocka_unit_test_teardown(test_hot_standby_sigstop, l_teardown),
        cmocka_unit_test_teardown(test_data_queries_kill9, l_teardown),
        cmocka_unit_test_teardown(test_data_queries_sigstop, l_teardown),
        cmocka_unit_test_teardown(test_warm_standby, l_teardown),
        cmocka_unit_test_teardown(test_equal_strengths, l_teardown),
        cmocka_unit_test_teardown(test_owned_vs_plain, l_teardown),
        cmocka_unit_test_teardown(test_hostile_strength, l_teardown),
        cmocka_unit_test_teardown(test_hostile_first, l_teardown),
    };
    return cmocka_run_group_tests_name("owner", tests, NULL, NULL);
}
