/* SPDX-License-Identifier: MIT */
/*
 * test_liveness.c — how nodes notice that a peer died, hung, slowed down
 * or left, in real processes: kill -9 (hang-up and pidfd, well under the
 * heartbeat time), SIGSTOP (heartbeat timeout, then a comeback after
 * SIGCONT), a CPU-starved but live peer (must not be declared dead), and a
 * graceful close.  Also what a death leaves behind: resources withdrawn,
 * subscribers told, requests ended or failed over, files swept, the name
 * free for a new node.
 *
 * Helpers: ipcn-test-l_prov (a provider) and ipcn-test-l_busy (a node that
 * burns CPU).  Time bounds are generous detection bounds, not speed goals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "ipcnet.h"
#include "testutil.h"
#include "helpers/l_common.h"

/* ------------------------------------------------------------------ */
/* Test-side bookkeeping                                               */
/* ------------------------------------------------------------------ */

static ipcn_node *open_node(const char *name, uint32_t hb, uint32_t dead,
                            l_events *ev)
{
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    if (hb)
        o.heartbeat_ms = hb;
    if (dead)
        o.dead_after_ms = dead;
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, name, &o), IPCN_OK);
    if (ev)
        ipcn_node_set_event_fn(n, l_event_fn, ev);
    return l_own_node(n);
}

/* What a subscription received. */
typedef struct samples {
    unsigned ok, gone;
    char last[64];
    char gone_path[128];
    char hang_src[72]; /* who published "got-hang" */
} samples;

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    samples *s = user;
    if (m->status == IPCN_OK) {
        s->ok++;
        snprintf(s->last, sizeof s->last, "%.*s", (int)m->len, (const char *)m->data);
        if (!strcmp(s->last, "got-hang"))
            snprintf(s->hang_src, sizeof s->hang_src, "%s", m->src_name);
    } else if (m->status == IPCN_SERVICE_UNAVAILABLE) {
        s->gone++;
        snprintf(s->gone_path, sizeof s->gone_path, "%s", m->path);
    }
}

/* What an asynchronous request got. */
typedef struct reply_rec {
    int called;
    int status;
    bool had_reply;
    char body[128];
    char src[72];
    uint64_t at_ms;
} reply_rec;

static void on_reply(ipcn_node *n, int status, const ipcn_msg *reply, void *user)
{
    (void)n;
    reply_rec *r = user;
    r->called++;
    r->status = status;
    r->at_ms = l_now_ms();
    r->had_reply = reply != NULL;
    if (reply) {
        snprintf(r->body, sizeof r->body, "%.*s", (int)reply->len,
                 (const char *)reply->data);
        snprintf(r->src, sizeof r->src, "%s", reply->src_name);
    }
}

/* Wait (dispatching n) until prov is linked and its nres resources known. */
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

static bool file_exists(const char *net, const char *file)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s/%s", tu_dir, net, file); /* not tu_net_dir(): it unsets IPCNET_NETWORK */
    return access(p, F_OK) == 0;
}

static uint64_t peer_linked_ns(ipcn_node *n, const char *name)
{
    ipcn_peer_list *pl = NULL;
    uint64_t t = 0;
    if (ipcn_peers(n, &pl) != IPCN_OK)
        return 0;
    for (size_t i = 0; i < pl->count; i++)
        if (!strcmp(pl->items[i].name, name))
            t = pl->items[i].linked_ns;
    ipcn_peer_list_free(pl);
    return t;
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

/* ------------------------------------------------------------------ */
/* kill -9                                                             */
/* ------------------------------------------------------------------ */

/* A provider of data, a stream and a service dies by SIGKILL while the
 * consumer is subscribed to its stream and waits on a request it holds. */
static void kill9_provider(const char *net, const char *cons, const char *prov)
{
    l_net(net);
    bool cons_dials = strcmp(cons, prov) < 0;
    char data[128], stream[128], svc[128], sockf[128], lockf[128];
    snprintf(data, sizeof data, "%s/data", prov);
    snprintf(stream, sizeof stream, "%s/stream", prov);
    snprintf(svc, sizeof svc, "%s/svc", prov);
    snprintf(sockf, sizeof sockf, "%s.sock", prov);
    snprintf(lockf, sizeof lockf, "%s.lock", prov);

    l_events *ev = l_new_events();
    ipcn_node *n = open_node(cons, 0, 0, ev);
    pid_t pid = l_spawn("l_prov", prov, "60", NULL);
    assert_true(pid > 0);
    wait_provider(n, prov, 3);
    assert_int_equal(tu_count_files(net), 4);
    query_ok(n, prov);

    samples sm = {0};
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, stream, 64, on_sample, &sm, &sub), IPCN_OK);
    assert_true(L_UNTIL(n, sm.ok > 0, 5000));
    reply_rec rr = {0};
    ipcn_req req;
    assert_int_equal(ipcn_request_async(n, svc, "hang", 4, "text/plain", 30000,
                                        on_reply, &rr, &req),
                     IPCN_ACCEPTED);
    /* The provider holds it (it says so on its stream). */
    assert_true(L_UNTIL(n, sm.hang_src[0] != 0, 5000));
    assert_int_equal(rr.called, 0);

    size_t mark = l_events_mark(ev);
    unsigned gone0 = sm.gone;
    uint64_t t0 = l_now_ms();
    l_kill(pid);
    l_event down = {0};
    assert_true(L_UNTIL(n, l_events_find(ev, mark, IPCN_EV_PEER_DOWN, prov, &down) >= 0,
                        5000));
    uint64_t dt = down.at_ms - t0;
    print_message("[ liveness ] %s: PEER_DOWN of %s %llu ms after kill -9 (status %d)\n",
                  cons, prov, (unsigned long long)dt, down.status);
    assert_int_equal(down.status, IPCN_SERVICE_UNAVAILABLE);
    assert_true(dt < 2000);

    /* The request it held ends with 303 (no other provider to fail over to). */
    assert_true(L_UNTIL(n, rr.called > 0, 2000));
    assert_int_equal(rr.called, 1);
    assert_int_equal(rr.status, IPCN_SERVICE_UNAVAILABLE);
    assert_false(rr.had_reply);
    /* The subscriber is told: a 303 message for the stream. */
    assert_true(L_UNTIL(n, sm.gone > gone0, 2000));
    assert_string_equal(sm.gone_path, stream);
    /* Its resources are gone from the directory... */
    assert_int_equal(l_count_resources(n, "**", prov), 0);
    assert_int_equal(l_events_count(ev, mark, IPCN_EV_RESOURCE_DOWN, prov), 3);
    /* ...so later queries and requests find nothing. */
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(n, data, &m, 1000), IPCN_NOT_FOUND);
    assert_null(m);
    assert_int_equal(ipcn_request(n, svc, "x", 1, NULL, &m, 1000), IPCN_NOT_FOUND);
    assert_null(m);
    ipcn_node_stats st = {.size = sizeof st};
    assert_int_equal(ipcn_node_get_stats(n, &st), IPCN_OK);
    assert_int_equal(st.peers, 0);
    assert_int_equal(st.peers_lost, 1);

    /* Files: the dialler sweeps them when it tries to redial; otherwise
     * they stay until some node looks, as a new one does when it opens. */
    if (cons_dials) {
        assert_true(L_UNTIL(n, tu_count_files(net) == 2, 3000));
    } else {
        ipcn_node *probe = open_node("m-probe", 0, 0, NULL);
        assert_int_equal(tu_count_files(net), 4); /* cons + probe */
        l_close_node(probe);
        assert_true(L_UNTIL(n, tu_count_files(net) == 2, 3000));
    }
    assert_false(file_exists(net, sockf));
    assert_false(file_exists(net, lockf));

    /* A new node with the dead one's name opens (no 207) and is linked. */
    mark = l_events_mark(ev);
    pid_t pid2 = l_spawn("l_prov", prov, "60", NULL);
    bool back = L_UNTIL(n, l_peer_pid(n, prov) == pid2 &&
                               l_count_resources(n, "**", prov) == 3,
                        10000);
    if (!back)
        print_error("%s: new %s (pid %d): linked pid=%d resources=%d exit=%d\n", cons,
                    prov, (int)pid2, l_peer_pid(n, prov),
                    l_count_resources(n, "**", prov), l_wait(pid2, 0));
    assert_true(back);
    assert_int_equal(l_wait(pid2, 0), -1); /* still running: it did open */
    assert_true(l_events_find(ev, mark, IPCN_EV_PEER_UP, prov, NULL) >= 0);
    query_ok(n, prov);
    /* The old subscription receives from the new incarnation. */
    unsigned ok0 = sm.ok;
    assert_true(L_UNTIL(n, sm.ok > ok0, 5000));

    assert_int_equal(l_stop(pid2, 5000), 0);
    assert_int_equal(ipcn_unsubscribe(n, sub), IPCN_OK);
    l_close_node(n);
    assert_int_equal(tu_count_files(net), 0);
}

static void test_kill9_provider_consumer_dials(void **state)
{
    (void)state;
    kill9_provider("kill9-a", "a-cons", "p-prov");
}

static void test_kill9_provider_provider_dials(void **state)
{
    (void)state;
    kill9_provider("kill9-b", "z-cons", "p-prov");
}

/* The dead node's successor starts at once, before anyone has noticed the
 * death: the name is taken over (no 207), the old link is dropped and the
 * new one kept, with no flapping.  Three times in a row. */
static void kill9_restart_at_once(const char *net, const char *cons, const char *prov)
{
    l_net(net);
    l_events *ev = l_new_events();
    ipcn_node *n = open_node(cons, 0, 0, ev);
    pid_t pid = l_spawn("l_prov", prov, "60", NULL);
    wait_provider(n, prov, 3);
    for (int round = 0; round < 3; round++) {
        size_t mark = l_events_mark(ev);
        l_kill(pid);
        pid = l_spawn("l_prov", prov, "60", NULL); /* no dispatch in between */
        bool back = L_UNTIL(n, l_peer_pid(n, prov) == pid &&
                                   l_count_resources(n, "**", prov) == 3,
                            10000);
        if (!back)
            print_error("round %d: new %s (pid %d): linked pid=%d resources=%d exit=%d\n",
                        round, prov, (int)pid, l_peer_pid(n, prov),
                        l_count_resources(n, "**", prov), l_wait(pid, 0));
        assert_true(back);
        L_UNTIL(n, false, 300); /* no flapping afterwards */
        assert_int_equal(l_peer_pid(n, prov), pid);
        assert_int_equal(l_events_count(ev, mark, IPCN_EV_PEER_DOWN, prov), 1);
        assert_int_equal(l_events_count(ev, mark, IPCN_EV_PEER_UP, prov), 1);
        l_event down = {0};
        assert_true(l_events_find(ev, mark, IPCN_EV_PEER_DOWN, prov, &down) >= 0);
        assert_int_equal(down.status, IPCN_SERVICE_UNAVAILABLE);
        assert_int_equal(tu_count_files(net), 4);
        query_ok(n, prov);
    }
    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(n);
    assert_int_equal(tu_count_files(net), 0);
}

static void test_kill9_restart_at_once_consumer_dials(void **state)
{
    (void)state;
    kill9_restart_at_once("restart-a", "a-cons", "p-prov");
}

static void test_kill9_restart_at_once_provider_dials(void **state)
{
    (void)state;
    kill9_restart_at_once("restart-b", "z-cons", "p-prov");
}

/* The killed process's sockets live on in a child that inherited them, so
 * there is no hang-up: the pidfd still tells of the death at once. */
static void test_kill9_sockets_held_by_child(void **state)
{
    (void)state;
    const char *net = l_net("kill9-child");
    char pidfile[600], arg[640];
    snprintf(pidfile, sizeof pidfile, "%s/child.pid", tu_dir);
    snprintf(arg, sizeof arg, "fork_child=%s", pidfile);
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("a-cons", 0, 0, ev);
    pid_t pid = l_spawn("l_prov", "p-prov", "60", arg, NULL);
    wait_provider(n, "p-prov", 3);
    int child = 0;
    FILE *f = fopen(pidfile, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &child), 1);
    fclose(f);
    assert_true(child > 1 && kill(child, 0) == 0);

    size_t mark = l_events_mark(ev);
    uint64_t t0 = l_now_ms();
    l_kill(pid);
    l_event down = {0};
    bool seen = L_UNTIL(n, l_events_find(ev, mark, IPCN_EV_PEER_DOWN, "p-prov", &down) >= 0,
                        5000);
    kill(child, SIGKILL); /* ours, through the helper; reaped by init */
    assert_true(seen);
    uint64_t dt = down.at_ms - t0;
    print_message("[ liveness ] sockets held by a child: PEER_DOWN %llu ms after kill -9, "
                  "status %d\n", (unsigned long long)dt, down.status);
    assert_int_equal(down.status, IPCN_SERVICE_UNAVAILABLE);
    assert_true(dt < 2000);
    assert_int_equal(l_count_resources(n, "**", "p-prov"), 0);
    /* Once the child is gone too, the files are swept on a redial. */
    assert_true(L_UNTIL(n, tu_count_files(net) == 2, 10000));
    l_close_node(n);
}

/* A request held by a provider that dies is retried on another provider
 * of the same service. */
static void test_kill9_request_fails_over(void **state)
{
    (void)state;
    l_net("failover");
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("a-cons", 0, 0, ev);
    pid_t p1 = l_spawn("l_prov", "p-one", "60", "shared=shared/svc", NULL);
    wait_provider(n, "p-one", 4);
    samples sm = {0};
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "*/stream", 64, on_sample, &sm, &sub), IPCN_OK);
    reply_rec rr = {0};
    assert_int_equal(ipcn_request_async(n, "shared/svc", "hang", 4, "text/plain", 30000,
                                        on_reply, &rr, NULL),
                     IPCN_ACCEPTED);
    assert_true(L_UNTIL(n, sm.hang_src[0] != 0, 5000));
    assert_string_equal(sm.hang_src, "p-one");

    /* A second provider, which answers at once. */
    pid_t p2 = l_spawn("l_prov", "p-two", "60", "shared=shared/svc", "hang=0", NULL);
    wait_provider(n, "p-two", 4);
    assert_int_equal(l_count_resources(n, "shared/svc", NULL), 2);
    assert_int_equal(rr.called, 0);

    uint64_t t0 = l_now_ms();
    l_kill(p1);
    assert_true(L_UNTIL(n, rr.called > 0, 5000));
    print_message("[ liveness ] request failed over to p-two %llu ms after kill -9\n",
                  (unsigned long long)(rr.at_ms - t0));
    assert_int_equal(rr.called, 1);
    assert_int_equal(rr.status, IPCN_OK);
    assert_string_equal(rr.body, "answered-by-p-two");
    assert_string_equal(rr.src, "p-two");
    assert_true(rr.at_ms - t0 < 2000);

    /* New requests go to the survivor. */
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "shared/svc", "x", 1, NULL, &m, 5000), IPCN_OK);
    assert_string_equal((const char *)m->data, "echo:p-two:x");
    ipcn_msg_free(m);
    assert_int_equal(l_count_resources(n, "shared/svc", NULL), 1);

    assert_int_equal(l_stop(p2, 5000), 0);
    l_close_node(n);
}

struct killer {
    pid_t pid;
    unsigned delay_ms;
};

static void *killer_main(void *arg)
{
    struct killer *k = arg;
    l_sleep_ms(k->delay_ms);
    kill(k->pid, SIGKILL);
    return NULL;
}

/* A query waiting on a provider ends with 303 when the provider is killed
 * (here stopped first, so that it cannot answer before). */
static void test_kill9_during_query(void **state)
{
    (void)state;
    l_net("kill9-query");
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("a-cons", 0, 0, ev);
    pid_t pid = l_spawn("l_prov", "p-prov", "60", NULL);
    wait_provider(n, "p-prov", 3);
    query_ok(n, "p-prov");

    kill(pid, SIGSTOP);
    struct killer k = {pid, 300};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, killer_main, &k), 0);
    ipcn_msg *m = NULL;
    uint64_t t0 = l_now_ms();
    int st = ipcn_query(n, "p-prov/data", &m, 10000);
    uint64_t dt = l_now_ms() - t0;
    pthread_join(th, NULL);
    l_kill(pid);
    print_message("[ liveness ] pending query ended with %d after %llu ms (killed at 300)\n",
                  st, (unsigned long long)dt);
    assert_int_equal(st, IPCN_SERVICE_UNAVAILABLE);
    assert_null(m);
    assert_true(dt < 2300);
    assert_int_equal(ipcn_query(n, "p-prov/data", &m, 1000), IPCN_NOT_FOUND);
    l_close_node(n);
}

/* ------------------------------------------------------------------ */
/* A hung peer: SIGSTOP, then SIGCONT                                  */
/* ------------------------------------------------------------------ */

/* hold_ms: how long it stays stopped after it was declared dead (while
 * the dialler keeps trying links that never say hello). */
static void hung_peer(const char *net, const char *cons, const char *prov,
                      uint32_t hb, uint32_t dead, unsigned hold_ms)
{
    l_net(net);
    l_events *ev = l_new_events();
    ipcn_node *n = open_node(cons, hb, dead, ev);
    char hbarg[32], deadarg[32];
    snprintf(hbarg, sizeof hbarg, "hb=%u", hb);
    snprintf(deadarg, sizeof deadarg, "dead=%u", dead);
    pid_t pid = l_spawn("l_prov", prov, "60", hbarg, deadarg, NULL);
    wait_provider(n, prov, 3);
    /* Let a few heartbeats pass on the idle link first. */
    L_UNTIL(n, false, 300);
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL), 0);

    /* A request the provider holds when it hangs. */
    samples sm = {0};
    ipcn_sub sub;
    char stream[128], svc[128];
    snprintf(stream, sizeof stream, "%s/stream", prov);
    snprintf(svc, sizeof svc, "%s/svc", prov);
    assert_int_equal(ipcn_subscribe(n, stream, 64, on_sample, &sm, &sub), IPCN_OK);
    reply_rec rr = {0};
    assert_int_equal(ipcn_request_async(n, svc, "hang", 4, "text/plain", 30000, on_reply,
                                        &rr, NULL),
                     IPCN_ACCEPTED);
    assert_true(L_UNTIL(n, sm.hang_src[0] != 0, 5000));

    int my_fds = l_fd_count(0), its_fds = l_fd_count(pid);
    size_t mark = l_events_mark(ev);
    uint64_t t0 = l_now_ms();
    assert_int_equal(kill(pid, SIGSTOP), 0);
    l_event down = {0};
    assert_true(L_UNTIL(n, l_events_find(ev, mark, IPCN_EV_PEER_DOWN, prov, &down) >= 0,
                        10000));
    uint64_t dt = down.at_ms - t0;
    print_message("[ liveness ] %s (dead_after %u): stopped %s declared dead after %llu ms, "
                  "status %d\n", cons, dead ? dead : 900, prov, (unsigned long long)dt,
                  down.status);
    assert_int_equal(down.status, IPCN_GATEWAY_TIMEOUT);
    assert_true(dt > 0);
    assert_true(dt < 3000);
    assert_int_equal(l_count_resources(n, "**", prov), 0);
    /* The held request ends (its provider left), the subscriber is told. */
    assert_true(L_UNTIL(n, rr.called > 0 && sm.gone > 0, 2000));
    assert_int_equal(rr.status, IPCN_SERVICE_UNAVAILABLE);
    assert_string_equal(sm.gone_path, stream);

    L_UNTIL(n, false, hold_ms);
    assert_int_equal(l_peer_pid(n, prov), 0);

    /* SIGCONT: it comes back, linked again, with its resources. */
    mark = l_events_mark(ev);
    uint64_t t1 = l_now_ms();
    assert_int_equal(kill(pid, SIGCONT), 0);
    bool back = L_UNTIL(n, l_peer_pid(n, prov) == pid &&
                               l_count_resources(n, "**", prov) == 3,
                        10000);
    if (!back)
        print_error("%s: after SIGCONT: %s linked=%d resources=%d\n", cons, prov,
                    l_peer_pid(n, prov), l_count_resources(n, "**", prov));
    assert_true(back);
    print_message("[ liveness ] %s: %s linked again %llu ms after SIGCONT\n", cons, prov,
                  (unsigned long long)(l_now_ms() - t1));
    assert_true(l_events_find(ev, mark, IPCN_EV_PEER_UP, prov, NULL) >= 0);
    query_ok(n, prov);
    /* The subscription made before the hang receives again. */
    unsigned ok0 = sm.ok;
    assert_true(L_UNTIL(n, sm.ok > ok0, 5000));
    ipcn_node_stats st = {.size = sizeof st};
    ipcn_node_get_stats(n, &st);
    assert_int_equal(st.peers_lost, 1);
    assert_int_equal(st.peers, 1);
    assert_int_equal(rr.called, 1);
    /* The redials while it hung (links that never said hello, and on its
     * side the backlog of them) left no descriptor behind. */
    int my_fds2 = -1, its_fds2 = -1;
    L_UNTIL(n, (my_fds2 = l_fd_count(0)) <= my_fds && (its_fds2 = l_fd_count(pid)) <= its_fds,
            3000);
    if (my_fds2 > my_fds || its_fds2 > its_fds)
        print_error("fds: here %d -> %d, %s %d -> %d\n", my_fds, my_fds2, prov, its_fds,
                    its_fds2);
    assert_true(my_fds2 <= my_fds);
    assert_true(its_fds2 <= its_fds);

    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(n);
    assert_int_equal(tu_count_files(net), 0);
}

static void test_hung_peer_consumer_dials(void **state)
{
    (void)state;
    hung_peer("hung-a", "a-cons", "p-prov", 0, 0, 0);
}

static void test_hung_peer_stopped_one_dials(void **state)
{
    (void)state;
    hung_peer("hung-b", "z-cons", "p-prov", 0, 0, 0);
}

static void test_hung_peer_small_opts(void **state)
{
    (void)state;
    hung_peer("hung-c", "a-cons", "p-prov", 50, 200, 3000);
}

static void test_hung_peer_small_opts_stopped_one_dials(void **state)
{
    (void)state;
    hung_peer("hung-d", "z-cons", "p-prov", 50, 200, 3000);
}

/* ------------------------------------------------------------------ */
/* Slow but alive                                                      */
/* ------------------------------------------------------------------ */

/* A peer whose main thread and four more processes burn both CPUs for
 * 3 s keeps its link: no PEER_DOWN on either side, requests answered. */
static void slow_peer_not_dead(const char *net, uint32_t hb, uint32_t dead)
{
    l_net(net);
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("a-obs", hb, dead, ev);
    char hbarg[32], deadarg[32];
    snprintf(hbarg, sizeof hbarg, "hb=%u", hb);
    snprintf(deadarg, sizeof deadarg, "dead=%u", dead);
    pid_t pid = l_spawn("l_busy", "busy", "60", "burn_ms=3000", "burners=4", hbarg, deadarg,
                        NULL);
    wait_provider(n, "busy", 1);
    uint64_t linked = peer_linked_ns(n, "busy");
    assert_true(linked != 0);

    unsigned total = 0, ok = 0, burning = 0;
    uint64_t worst = 0;
    uint64_t end = l_now_ms() + 4500;
    while (l_now_ms() < end) {
        ipcn_msg *m = NULL;
        uint64_t t = l_now_ms();
        int st = ipcn_request(n, "busy/echo", "x", 1, NULL, &m, 5000);
        t = l_now_ms() - t;
        if (t > worst)
            worst = t;
        total++;
        if (st == IPCN_OK) {
            ok++;
            if (!strcmp((const char *)m->data, "burning"))
                burning++;
        } else {
            print_error("request %u: %d %s\n", total, st, ipcn_status_str(st));
        }
        ipcn_msg_free(m);
        ipcn_node_dispatch(n, 20);
    }
    print_message("[ liveness ] under load: %u/%u requests answered (%u while burning), "
                  "slowest %llu ms\n", ok, total, burning, (unsigned long long)worst);
    assert_int_equal(ok, total);
    assert_true(burning > 0);
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL), 0);
    ipcn_node_stats st = {.size = sizeof st};
    ipcn_node_get_stats(n, &st);
    assert_int_equal(st.peers_lost, 0);
    assert_int_equal(peer_linked_ns(n, "busy"), linked); /* the same link */
    /* The busy node's own verdict: it never lost us either. */
    assert_int_equal(l_stop(pid, 10000), 0);
    l_close_node(n);
}

static void test_slow_peer_not_dead(void **state)
{
    (void)state;
    slow_peer_not_dead("slow", 0, 0);
}

static void test_slow_peer_not_dead_small_opts(void **state)
{
    (void)state;
    slow_peer_not_dead("slow-small", 50, 200);
}

/* Peers with very different heartbeat settings keep their link: each is
 * answered at the pace it asks for.  Both sides judge (l_busy reports its
 * own losses when stopped). */
static void mixed_heartbeats(const char *net, uint32_t my_hb, uint32_t my_dead,
                             const char *peer_hb, const char *peer_dead)
{
    l_net(net);
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("a-obs", my_hb, my_dead, ev);
    pid_t pid = l_spawn("l_busy", "busy", "60", "burn_ms=0", "burners=0", peer_hb, peer_dead,
                        NULL);
    wait_provider(n, "busy", 1);
    L_UNTIL(n, false, 2500);
    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL), 0);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "busy/echo", "x", 1, NULL, &m, 5000), IPCN_OK);
    ipcn_msg_free(m);
    assert_int_equal(l_stop(pid, 10000), 0);
    l_close_node(n);
}

static void test_mixed_heartbeat_settings(void **state)
{
    (void)state;
    mixed_heartbeats("mixed-a", 50, 200, "hb=1000", "dead=5000");
    mixed_heartbeats("mixed-b", 1000, 5000, "hb=50", "dead=200");
}

/* A node that was itself starved (not dispatched for longer than
 * dead_after) excuses its peer's silence; so does the peer, stopped for
 * the same time.  Both come back to the same link. */
static void test_starved_node_excuses_silence(void **state)
{
    (void)state;
    l_net("starved");
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("a-cons", 0, 0, ev);
    pid_t pid = l_spawn("l_prov", "p-prov", "60", NULL);
    wait_provider(n, "p-prov", 3);
    uint64_t linked = peer_linked_ns(n, "p-prov");
    L_UNTIL(n, false, 300);

    kill(pid, SIGSTOP);
    l_sleep_ms(2500); /* no dispatch here either */
    kill(pid, SIGCONT);
    L_UNTIL(n, false, 2000);

    assert_int_equal(l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL), 0);
    ipcn_node_stats st = {.size = sizeof st};
    ipcn_node_get_stats(n, &st);
    assert_int_equal(st.peers_lost, 0);
    assert_int_equal(peer_linked_ns(n, "p-prov"), linked);
    query_ok(n, "p-prov");
    assert_int_equal(l_stop(pid, 5000), 0);
    l_close_node(n);
}

/* ------------------------------------------------------------------ */
/* Graceful close                                                      */
/* ------------------------------------------------------------------ */

static void test_graceful_close(void **state)
{
    (void)state;
    const char *net = l_net("graceful");
    assert_int_equal(tu_count_files(net), 0);
    l_events *ev = l_new_events();
    ipcn_node *n = open_node("a-cons", 0, 0, ev);
    assert_int_equal(tu_count_files(net), 2);
    pid_t pid = l_spawn("l_prov", "p-prov", "60", NULL);
    wait_provider(n, "p-prov", 3);
    assert_int_equal(tu_count_files(net), 4);
    samples sm = {0};
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "p-prov/stream", 64, on_sample, &sm, &sub), IPCN_OK);
    samples smd = {0}; /* subscribers of data are told too */
    ipcn_sub subd;
    assert_int_equal(ipcn_subscribe(n, "p-prov/data", 64, on_sample, &smd, &subd), IPCN_OK);
    assert_true(L_UNTIL(n, sm.ok > 0, 5000));

    reply_rec rr = {0};
    assert_int_equal(ipcn_request_async(n, "p-prov/svc", "hang", 4, "text/plain", 30000,
                                        on_reply, &rr, NULL),
                     IPCN_ACCEPTED);
    assert_true(L_UNTIL(n, sm.hang_src[0] != 0, 5000));

    size_t mark = l_events_mark(ev);
    assert_int_equal(l_stop(pid, 5000), 0); /* SIGTERM: ipcn_node_close */
    /* Its files went with it. */
    assert_int_equal(tu_count_files(net), 2);
    assert_false(file_exists(net, "p-prov.sock"));
    assert_false(file_exists(net, "p-prov.lock"));

    l_event down = {0};
    assert_true(L_UNTIL(n, l_events_find(ev, mark, IPCN_EV_PEER_DOWN, "p-prov", &down) >= 0,
                        3000));
    assert_int_equal(down.status, IPCN_OK);
    /* The request it held ends with 303; the subscriber is told. */
    assert_true(L_UNTIL(n, rr.called > 0, 2000));
    assert_int_equal(rr.status, IPCN_SERVICE_UNAVAILABLE);
    assert_true(L_UNTIL(n, sm.gone > 0 && smd.gone > 0, 2000));
    assert_string_equal(sm.gone_path, "p-prov/stream");
    assert_string_equal(smd.gone_path, "p-prov/data");
    assert_int_equal(l_count_resources(n, "**", "p-prov"), 0);
    assert_int_equal(l_events_count(ev, mark, IPCN_EV_RESOURCE_DOWN, "p-prov"), 3);
    ipcn_node_stats st = {.size = sizeof st};
    ipcn_node_get_stats(n, &st);
    assert_int_equal(st.peers_lost, 0);
    assert_int_equal(st.peers, 0);
    /* Nothing comes back or is left over a moment later. */
    L_UNTIL(n, false, 300);
    assert_int_equal(tu_count_files(net), 2);
    assert_int_equal(l_events_count(ev, mark, IPCN_EV_PEER_DOWN, NULL), 1);

    l_close_node(n);
    assert_int_equal(tu_count_files(net), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kill9_provider_consumer_dials, l_teardown),
        cmocka_unit_test_teardown(test_kill9_provider_provider_dials, l_teardown),
        cmocka_unit_test_teardown(test_kill9_restart_at_once_consumer_dials, l_teardown),
        cmocka_unit_test_teardown(test_kill9_restart_at_once_provider_dials, l_teardown),
        cmocka_unit_test_teardown(test_kill9_sockets_held_by_child, l_teardown),
        cmocka_unit_test_teardown(test_kill9_request_fails_over, l_teardown),
        cmocka_unit_test_teardown(test_kill9_during_query, l_teardown),
        cmocka_unit_test_teardown(test_hung_peer_consumer_dials, l_teardown),
        cmocka_unit_test_teardown(test_hung_peer_stopped_one_dials, l_teardown),
        cmocka_unit_test_teardown(test_hung_peer_small_opts, l_teardown),
        cmocka_unit_test_teardown(test_hung_peer_small_opts_stopped_one_dials, l_teardown),
        cmocka_unit_test_teardown(test_slow_peer_not_dead, l_teardown),
        cmocka_unit_test_teardown(test_slow_peer_not_dead_small_opts, l_teardown),
        cmocka_unit_test_teardown(test_mixed_heartbeat_settings, l_teardown),
        cmocka_unit_test_teardown(test_starved_node_excuses_silence, l_teardown),
        cmocka_unit_test_teardown(test_graceful_close, l_teardown),
    };
    return cmocka_run_group_tests_name("liveness", tests, NULL, NULL);
}
