/* SPDX-License-Identifier: MIT */
/*
 * test_state.c — what a node says of itself (docs/protocol.md 7.6): its
 * criticality (ipcn_node_opts.criticality, $IPCNET_CRITICALITY) and its
 * readiness (ipcn_node_ready()), told to the peers linked at the time and
 * to those that link later, seen in ipcn_peer_info, and the events they
 * raise: IPCN_EV_PEER_READY once per peer, IPCN_EV_CRITICAL_LOST after
 * the PEER_DOWN of a critical peer (a death and a goodbye alike), and
 * nothing for a peer that is not critical.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>

#include "ipcnet.h"
#include "v_util.h"

typedef struct s_events {
    pthread_mutex_t mu;
    int count;
    struct {
        int type, status;
        char peer[80];
        int has_path;
    } ev[256];
} s_events;

static void on_event(ipcn_node *n, const ipcn_event *ev, void *user)
{
    (void)n;
    s_events *e = user;
    pthread_mutex_lock(&e->mu);
    if (e->count < 256) {
        e->ev[e->count].type = ev->type;
        e->ev[e->count].status = ev->status;
        e->ev[e->count].has_path = ev->path != NULL;
        snprintf(e->ev[e->count].peer, sizeof e->ev[0].peer, "%s",
                 ev->peer ? ev->peer : "(null)");
        e->count++;
    }
    pthread_mutex_unlock(&e->mu);
}

static s_events *events_on(ipcn_node *n)
{
    s_events *e = calloc(1, sizeof *e);
    assert_non_null(e);
    pthread_mutex_init(&e->mu, NULL);
    assert_int_equal(ipcn_node_set_event_fn(n, on_event, e), IPCN_OK);
    return e;
}

static void events_free(s_events *e)
{
    pthread_mutex_destroy(&e->mu);
    free(e);
}

static int ev_find(s_events *e, int type, const char *peer)
{
    pthread_mutex_lock(&e->mu);
    int at = -1;
    for (int i = 0; i < e->count && at < 0; i++)
        if (e->ev[i].type == type && !strcmp(e->ev[i].peer, peer))
            at = i;
    pthread_mutex_unlock(&e->mu);
    return at;
}

static int ev_count(s_events *e, int type, const char *peer)
{
    pthread_mutex_lock(&e->mu);
    int k = 0;
    for (int i = 0; i < e->count; i++)
        if (e->ev[i].type == type && !strcmp(e->ev[i].peer, peer))
            k++;
    pthread_mutex_unlock(&e->mu);
    return k;
}

static int ev_wait(ipcn_node *n, s_events *e, int type, const char *peer)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    int at;
    while ((at = ev_find(e, type, peer)) < 0) {
        if (tu_now_ms() >= end)
            fail_msg("no event %d of %s", type, peer);
        v_pump(n, 20);
    }
    return at;
}

/* ipcn_peer_info of a linked peer: its criticality and readiness. */
static void peer_state(ipcn_node *n, const char *name, uint32_t *crit,
                       int *ready)
{
    ipcn_peer_list *pl = NULL;
    assert_int_equal(ipcn_peers(n, &pl), IPCN_OK);
    int found = 0;
    for (size_t i = 0; i < pl->count; i++) {
        if (strcmp(pl->items[i].name, name))
            continue;
        ipcn_peer_info pi = {.size = sizeof pi};
        assert_int_equal(ipcn_peer_list_get_info(pl, i, &pi), IPCN_OK);
        *crit = pi.criticality;
        *ready = pi.ready;
        found = 1;
    }
    ipcn_peer_list_free(pl);
    assert_true(found);
}

/* What helper h sees of node name: "CRITICALITY READY". */
static void helper_sees(ipcn_node *n, const char *h, const char *name,
                        const char *want)
{
    char got[64];
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        /* 203: the helper has no link to name yet (it may still be
         * linking, on a loaded machine): ask again until the deadline. */
        int st = v_ctl_text(n, h, got, sizeof got, "peerstate %s", name);
        if (st != IPCN_NOT_FOUND)
            assert_int_equal(st, IPCN_OK);
        if (st == IPCN_OK && !strcmp(got, want))
            return;
        if (st != IPCN_OK)
            snprintf(got, sizeof got, "(not linked yet)");
        if (tu_now_ms() >= end)
            fail_msg("%s sees %s as \"%s\", not \"%s\"", h, name, got, want);
        v_pump(n, 20);
    }
}

/* A critical peer: known critical and not ready once linked; ready once,
 * with one event however often it says so; its death is PEER_DOWN, then
 * CRITICAL_LOST with the same status. */
static void test_state_peer_ready_and_critical_death(void **state)
{
    (void)state;
    ipcn_node *n = v_open("sta", NULL);
    s_events *e = events_on(n);
    pid_t h = v_spawn("sth", "crit=3", NULL);
    v_wait_helper(n, "sth");
    uint32_t crit = 99;
    int ready = 99;
    peer_state(n, "sth", &crit, &ready);
    assert_int_equal(crit, IPCN_CRIT_CRITICAL);
    assert_int_equal(ready, 0);
    assert_int_equal(ev_find(e, IPCN_EV_PEER_READY, "sth"), -1);

    assert_int_equal(v_ctl(n, "sth", NULL, "ready"), IPCN_OK);
    int up = ev_wait(n, e, IPCN_EV_PEER_UP, "sth");
    int rd = ev_wait(n, e, IPCN_EV_PEER_READY, "sth");
    assert_true(up < rd);
    assert_int_equal(e->ev[rd].status, IPCN_OK);
    assert_false(e->ev[rd].has_path);
    peer_state(n, "sth", &crit, &ready);
    assert_int_equal(crit, IPCN_CRIT_CRITICAL);
    assert_int_equal(ready, 1);
    /* Again: nothing new. */
    assert_int_equal(v_ctl(n, "sth", NULL, "ready"), IPCN_OK);
    v_pump(n, 100);
    assert_int_equal(ev_count(e, IPCN_EV_PEER_READY, "sth"), 1);

    v_kill(h);
    int down = ev_wait(n, e, IPCN_EV_PEER_DOWN, "sth");
    int lost = ev_wait(n, e, IPCN_EV_CRITICAL_LOST, "sth");
    assert_true(down < lost);
    assert_int_equal(e->ev[down].status, IPCN_SERVICE_UNAVAILABLE);
    assert_int_equal(e->ev[lost].status, e->ev[down].status);
    v_pump(n, 50);
    assert_int_equal(ev_count(e, IPCN_EV_CRITICAL_LOST, "sth"), 1);
    v_close(n);
    events_free(e);
}

/* A critical peer that leaves with a goodbye is lost too (status 100);
 * an important or an unset one raises no CRITICAL_LOST. */
static void test_state_critical_goodbye_and_others(void **state)
{
    (void)state;
    ipcn_node *n = v_open("stb", NULL);
    s_events *e = events_on(n);
    pid_t hc = v_spawn("stc", "crit=3", NULL);
    pid_t hi = v_spawn("sti", "crit=2", NULL);
    pid_t hu = v_spawn("stu", NULL);
    v_wait_helper(n, "stc");
    v_wait_helper(n, "sti");
    v_wait_helper(n, "stu");
    uint32_t crit;
    int ready;
    peer_state(n, "sti", &crit, &ready);
    assert_int_equal(crit, IPCN_CRIT_IMPORTANT);
    peer_state(n, "stu", &crit, &ready);
    assert_int_equal(crit, IPCN_CRIT_UNSET);
    assert_int_equal(ready, 0);

    assert_int_equal(v_ctl(n, "stc", NULL, "exit"), IPCN_OK);
    int down = ev_wait(n, e, IPCN_EV_PEER_DOWN, "stc");
    int lost = ev_wait(n, e, IPCN_EV_CRITICAL_LOST, "stc");
    assert_true(down < lost);
    assert_int_equal(e->ev[lost].status, IPCN_OK);
    assert_int_equal(v_reap(hc, V_WAIT_MS), 0);

    v_kill(hi);
    ev_wait(n, e, IPCN_EV_PEER_DOWN, "sti");
    assert_int_equal(v_ctl(n, "stu", NULL, "exit"), IPCN_OK);
    ev_wait(n, e, IPCN_EV_PEER_DOWN, "stu");
    assert_int_equal(v_reap(hu, V_WAIT_MS), 0);
    v_pump(n, 100);
    assert_int_equal(ev_count(e, IPCN_EV_CRITICAL_LOST, "sti"), 0);
    assert_int_equal(ev_count(e, IPCN_EV_CRITICAL_LOST, "stu"), 0);
    assert_int_equal(ev_count(e, IPCN_EV_PEER_READY, "stc"), 0);
    v_close(n);
    events_free(e);
}

/* This node's state reaches a peer linked before it changed (the change
 * is sent) and one that links after (sent after the hello). */
static void test_state_told_now_and_later(void **state)
{
    (void)state;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.criticality = IPCN_CRIT_IMPORTANT;
    ipcn_node *n = v_open("std", &o);
    v_spawn("ste", NULL);
    v_wait_helper(n, "ste");
    helper_sees(n, "ste", "std", "2 0");
    assert_int_equal(ipcn_node_ready(n), IPCN_OK);
    helper_sees(n, "ste", "std", "2 1");
    assert_int_equal(ipcn_node_ready(n), IPCN_OK); /* again: no change */
    v_spawn("stf", NULL);
    v_wait_helper(n, "stf");
    helper_sees(n, "stf", "std", "2 1");
    helper_sees(n, "ste", "std", "2 1");
    v_close(n);
}

/* $IPCNET_CRITICALITY when opts say nothing; a bad word or value is
 * refused; a node with nothing to say sends nothing (seen as "0 0"). */
static void test_state_env_and_bad_values(void **state)
{
    (void)state;
    ipcn_node *n = NULL;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.criticality = 4;
    assert_int_equal(ipcn_node_open(&n, "stg", &o), IPCN_BAD_REQUEST);
    assert_null(n);
    assert_int_equal(setenv("IPCNET_CRITICALITY", "vital", 1), 0);
    assert_int_equal(ipcn_node_open(&n, "stg", NULL), IPCN_BAD_REQUEST);
    assert_null(n);
    assert_int_equal(setenv("IPCNET_CRITICALITY", "critical", 1), 0);
    ipcn_node *c = v_open("stg", NULL);
    /* opts win over the environment */
    o.criticality = IPCN_CRIT_OPTIONAL;
    ipcn_node *p = v_open("sth2", &o);
    /* $IPCNET_NODE names the node it is for (a supervisor sets both):
     * another node of the process does not take it */
    assert_int_equal(setenv("IPCNET_NODE", "stk", 1), 0);
    ipcn_node *k = v_open("stk", NULL);
    ipcn_node *other = v_open("stl", NULL);
    assert_int_equal(unsetenv("IPCNET_NODE"), 0);
    assert_int_equal(ipcn_node_start_thread(k), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(other), IPCN_OK);
    assert_int_equal(setenv("IPCNET_CRITICALITY", "", 1), 0);
    ipcn_node *u = v_open("sti2", NULL);
    assert_int_equal(unsetenv("IPCNET_CRITICALITY"), 0);
    assert_int_equal(ipcn_node_start_thread(p), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(u), IPCN_OK);
    v_spawn("stj", NULL);
    v_wait_helper(c, "stj");
    helper_sees(c, "stj", "stg", "3 0");
    helper_sees(c, "stj", "sth2", "1 0");
    helper_sees(c, "stj", "sti2", "0 0");
    helper_sees(c, "stj", "stk", "3 0");
    helper_sees(c, "stj", "stl", "0 0");
    assert_int_equal(ipcn_node_ready(NULL), IPCN_BAD_REQUEST);
    v_close(u);
    v_close(other);
    v_close(k);
    v_close(p);
    v_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_state_peer_ready_and_critical_death),
        V_TEST(test_state_critical_goodbye_and_others),
        V_TEST(test_state_told_now_and_later),
        V_TEST(test_state_env_and_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
