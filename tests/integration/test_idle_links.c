/* SPDX-License-Identifier: MIT */
/*
 * test_idle_links.c — idle links cost nothing, and hangs are still found
 * (issue 12, bug 1: N idle nodes cost N² heartbeats).
 *
 * A link on which a node waits for nothing is not pinged: a peer's death
 * is seen through the kernel (hang-up, pidfd), and a peer that hangs is
 * found by a ping only while something is outstanding (a query or request,
 * bytes not taken) or by the slow probe of idle links (idle_probe_ms).
 * Counts only, no timing: frames and pings over an idle window, the status
 * a request ends with (303 from the hang being found, not 304 from its own
 * 30 s deadline), and PEER_DOWN events.  Helper: ipcn-test-l_prov.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <string.h>

#include "ipcnet.h"
#include "testutil.h"
#include "helpers/l_common.h"

/* Small settings: the old heartbeat would ping every 50 ms. */
#define HB 50
#define DEAD 200

static ipcn_node *open_node(const char *name, uint32_t probe_ms, l_events *ev)
{
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.heartbeat_ms = HB;
    o.dead_after_ms = DEAD;
    if (probe_ms)
        o.idle_probe_ms = probe_ms;
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, name, &o), IPCN_OK);
    if (ev)
        ipcn_node_set_event_fn(n, l_event_fn, ev);
    return l_own_node(n);
}

static pid_t spawn_prov(const char *name, const char *probe, const char *extra)
{
    char hb[16], dead[16];
    snprintf(hb, sizeof hb, "hb=%u", HB);
    snprintf(dead, sizeof dead, "dead=%u", DEAD);
    /* "nop=0": a key the helper does not know, in place of a missing one. */
    pid_t pid = l_spawn("l_prov", name, "60", hb, dead, probe ? probe : "nop=0",
                        extra ? extra : "nop=0", NULL);
    assert_true(pid > 0);
    return pid;
}

static void wait_provider(ipcn_node *n, const char *prov, int nres)
{
    bool ok = L_UNTIL(n, l_peer_pid(n, prov) > 0 &&
                             l_count_resources(n, "**", prov) == nres,
                      10000);
    if (!ok)
        print_error("%s: peer %s linked=%d, %d of its %d resources known\n",
                    ipcn_node_name(n), prov, l_peer_pid(n, prov),
                    l_count_resources(n, "**", prov), nres);
    assert_true(ok);
}

static void query_ok(ipcn_node *n, const char *prov)
{
    char path[128], want[128];
    snprintf(path, sizeof path, "%s/data", prov);
    snprintf(want, sizeof want, "value-of-%s", prov);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(n, path, &m, 5000), IPCN_OK);
    assert_non_null(m);
    assert_string_equal((const char *)m->data, want);
    ipcn_msg_free(m);
}

static ipcn_node_stats stats(ipcn_node *n)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(n, &s), IPCN_OK);
    return s;
}

typedef struct reply_rec {
    int called, status;
    char body[128], src[72];
} reply_rec;

static void on_reply(ipcn_node *n, int status, const ipcn_msg *reply, void *user)
{
    (void)n;
    reply_rec *r = user;
    r->called++;
    r->status = status;
    if (reply) {
        snprintf(r->body, sizeof r->body, "%.*s", (int)reply->len,
                 (const char *)reply->data);
        snprintf(r->src, sizeof r->src, "%s", reply->src_name);
    }
}

/* Let what linking and the last exchange set off (a PING after a silence,
 * its PONG) end: until no frame came or went for 500 ms, or 10 s.  With
 * a heartbeat per link that never happens; the window that follows then
 * counts its pings. */
static void settle(ipcn_node *n)
{
    uint64_t end = l_now_ms() + 10000;
    ipcn_node_stats a = stats(n), b;
    do {
        L_UNTIL(n, false, 500);
        b = a;
        a = stats(n);
    } while ((a.frames_in != b.frames_in || a.frames_out != b.frames_out) &&
             l_now_ms() < end);
}

/* ------------------------------------------------------------------ */
/* Idle links carry nothing                                            */
/* ------------------------------------------------------------------ */

/* Linked, one query answered, then 2 s of nothing (40 heartbeats of the
 * old scheme, 10 times dead_after): no frame goes either way, this node
 * sends no PING, and the link is still there and works. */
static void idle_link_quiet(const char *net, const char *cons, const char *prov)
{
    l_net(net);
    l_events *ev = l_new_events();
    ipcn_node *n = open_node(cons, 0, ev);
    pid_t pid = spawn_prov(prov, NULL, NULL);
    wait_provider(n, prov, 3);
    query_ok(n, prov);
    settle(n);

    ipcn_node_stats s0 = stats(n);
    L_UNTIL(n, false, 2000);
    ipcn_node_stats s1 = stats(n);
    print_message("[ idle ] %s <-> %s over 2 s idle: %llu frames out, %llu in, %llu pings\n",
                  cons, prov, (unsigned long long)(s1.frames_out - s0.frames_out),
                  (unsigned long long)(s1.frames_in - s0.frames_in),
                  (unsigned long long)(s1.pings_sent - s0.pings_sent));
    /* Nothing, but for one straggler of what settle() waited for (the
     * peer's PING after the answer it sent, and our PONG) when the peer
     * was starved of CPU that long; a heartbeat would be 40 of each. */
    assert_true(s1.frames_out - s0.frames_out <= 1);
    assert_true(s1.frames_in - s0.frames_in <= 1);
    assert_int_equal(s1.pings_sent, s0.pings_sent);

    /* Silence while idle is no death: still linked, and it answers. */
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL), 0);
    assert_int_equal(s1.peers, 1);
    assert_int_equal(s1.peers_lost, 0);
    query_ok(n, prov);
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL), 0);

    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(n);
}

static void test_idle_link_quiet_consumer_dials(void **state)
{
    (void)state;
    idle_link_quiet("quiet-a", "a-cons", "p-prov");
}

static void test_idle_link_quiet_provider_dials(void **state)
{
    (void)state;
    idle_link_quiet("quiet-b", "z-cons", "p-prov");
}

/* ------------------------------------------------------------------ */
/* The slow probe finds a peer that hung while idle                    */
/* ------------------------------------------------------------------ */

static void idle_hang_probed(const char *net, const char *cons, const char *prov)
{
    enum { PROBE = 400 };
    l_net(net);
    l_events *ev = l_new_events();
    ipcn_node *n = open_node(cons, PROBE, ev);
    char probe[32];
    snprintf(probe, sizeof probe, "probe=%u", PROBE);
    pid_t pid = spawn_prov(prov, probe, NULL);
    wait_provider(n, prov, 3);
    L_UNTIL(n, false, 300);

    /* Idle: at most one probe per interval, not one ping per heartbeat. */
    ipcn_node_stats s0 = stats(n);
    L_UNTIL(n, false, 2000);
    ipcn_node_stats s1 = stats(n);
    unsigned pings = (unsigned)(s1.pings_sent - s0.pings_sent);
    print_message("[ idle ] %s: %u probes in 2 s (idle_probe_ms %u)\n", cons, pings, PROBE);
    assert_true(pings <= 2000 / PROBE + 1);
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL), 0);

    /* It hangs while nothing is outstanding: the probe finds it (304). */
    size_t mark = l_events_mark(ev);
    assert_int_equal(kill(pid, SIGSTOP), 0);
    l_event down;
    bool found = L_UNTIL(n, l_events_find(ev, mark, IPCN_EV_PEER_DOWN, prov, &down) >= 0,
                         15000);
    kill(pid, SIGCONT);
    assert_true(found);
    assert_int_equal(down.status, IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(l_count_resources(n, "**", prov), 0);

    /* Resumed, it links again. */
    bool back = L_UNTIL(n, l_peer_pid(n, prov) == pid &&
                               l_count_resources(n, "**", prov) == 3,
                        10000);
    assert_true(back);
    query_ok(n, prov);
    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(n);
}

static void test_idle_hang_probed_consumer_dials(void **state)
{
    (void)state;
    idle_hang_probed("probe-a", "a-cons", "p-prov");
}

static void test_idle_hang_probed_provider_dials(void **state)
{
    (void)state;
    idle_hang_probed("probe-b", "z-cons", "p-prov");
}

/* ------------------------------------------------------------------ */
/* Something outstanding: a hang is found within dead_after            */
/* ------------------------------------------------------------------ */

/* After a long idle time (no pings: the default probe is 2 min away), the
 * provider hangs; a request sent to it is outstanding, so the link is
 * pinged and dropped, and the request ends with 303: its own deadline is
 * 30 s, so a 304 would mean the hang was never found. */
static void test_request_to_stopped_provider_ends_303(void **state)
{
    (void)state;
    l_net("outstanding");
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("a-cons", 0, ev);
    pid_t pid = spawn_prov("p-prov", NULL, "hang=0");
    wait_provider(n, "p-prov", 3);
    settle(n);
    L_UNTIL(n, false, 1000); /* idle for 5 times dead_after */
    ipcn_node_stats s0 = stats(n);

    assert_int_equal(kill(pid, SIGSTOP), 0);
    reply_rec rr = {0};
    assert_int_equal(ipcn_request_async(n, "p-prov/svc", "x", 1, "text/plain", 30000,
                                        on_reply, &rr, NULL),
                     IPCN_ACCEPTED);
    bool ended = L_UNTIL(n, rr.called > 0, 20000);
    kill(pid, SIGCONT);
    assert_true(ended);
    assert_int_equal(rr.status, IPCN_SERVICE_UNAVAILABLE);
    l_event down;
    assert_true(l_events_find(ev, 0, IPCN_EV_PEER_DOWN, "p-prov", &down) >= 0);
    assert_int_equal(down.status, IPCN_GATEWAY_TIMEOUT);
    assert_true(stats(n).pings_sent > s0.pings_sent);

    assert_true(L_UNTIL(n, l_peer_pid(n, "p-prov") == pid, 10000));
    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(n);
}

/* The same with a second provider of the service: the request that went
 * to the stopped one fails over to the other, and is answered. */
static void test_request_to_stopped_provider_fails_over(void **state)
{
    (void)state;
    l_net("outstanding-2");
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("a-cons", 0, ev);
    pid_t p1 = spawn_prov("p-one", "shared=shared/svc", "hang=0");
    pid_t p2 = spawn_prov("p-two", "shared=shared/svc", "hang=0");
    wait_provider(n, "p-one", 4);
    wait_provider(n, "p-two", 4);
    settle(n);
    L_UNTIL(n, false, 1000);

    assert_int_equal(kill(p1, SIGSTOP), 0);
    /* Two requests: one goes to each provider (the less loaded first). */
    reply_rec rr[2] = {{0}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(ipcn_request_async(n, "shared/svc", "x", 1, "text/plain", 30000,
                                            on_reply, &rr[i], NULL),
                         IPCN_ACCEPTED);
    bool ended = L_UNTIL(n, rr[0].called > 0 && rr[1].called > 0, 20000);
    kill(p1, SIGCONT);
    assert_true(ended);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rr[i].called, 1);
        assert_int_equal(rr[i].status, IPCN_OK);
        assert_string_equal(rr[i].body, "echo:p-two:x");
    }
    l_event down;
    assert_true(l_events_find(ev, 0, IPCN_EV_PEER_DOWN, "p-one", &down) >= 0);
    assert_int_equal(down.status, IPCN_GATEWAY_TIMEOUT);
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, "p-two"), 0);

    assert_int_equal(l_stop(p1, 5000), 0);
    assert_int_equal(l_stop(p2, 5000), 0);
    l_close_node(n);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_idle_link_quiet_consumer_dials, l_teardown),
        cmocka_unit_test_teardown(test_idle_link_quiet_provider_dials, l_teardown),
        cmocka_unit_test_teardown(test_idle_hang_probed_consumer_dials, l_teardown),
        cmocka_unit_test_teardown(test_idle_hang_probed_provider_dials, l_teardown),
        cmocka_unit_test_teardown(test_request_to_stopped_provider_ends_303, l_teardown),
        cmocka_unit_test_teardown(test_request_to_stopped_provider_fails_over, l_teardown),
    };
    return cmocka_run_group_tests_name("idle_links", tests, NULL, NULL);
}
