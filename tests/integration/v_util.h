/* SPDX-License-Identifier: MIT */
/*
 * v_util.h — what test_verbs_*.c, test_threads.c and test_events.c share on
 * top of testutil.h: a private network per test (setup/teardown), nodes and
 * helper processes (ipcn-test-v_node) that teardown closes and kills even
 * when a test fails, bounded waits that dispatch, and the control requests
 * that drive a v_node helper (see helpers/v_node.c).
 *
 * Include after <cmocka.h> and "ipcnet.h".
 */
#ifndef IPCN_V_UTIL_H
#define IPCN_V_UTIL_H

#include <pthread.h>
#include <stdarg.h>

#include "testutil.h"

#define V_LIFETIME "30000" /* ms: a helper never lives longer than this */
#define V_WAIT_MS 5000     /* the bound of every wait for something to come */

static pid_t v_pids[32];
static ipcn_node *v_nodes[32];
static char v_network[64];

static inline void v_track_pid(pid_t pid)
{
    for (size_t i = 0; i < sizeof v_pids / sizeof v_pids[0]; i++)
        if (!v_pids[i]) {
            v_pids[i] = pid;
            return;
        }
}

static inline void v_untrack_pid(pid_t pid)
{
    for (size_t i = 0; i < sizeof v_pids / sizeof v_pids[0]; i++)
        if (v_pids[i] == pid)
            v_pids[i] = 0;
}

/* A fresh network (in this process's private directory) for each test, so
 * that tests do not see each other's nodes. */
static int v_setup(void **state)
{
    (void)state;
    static int counter;
    tu_net_dir();
    snprintf(v_network, sizeof v_network, "t%d", ++counter);
    setenv("IPCNET_NETWORK", v_network, 1);
    return 0;
}

static int v_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof v_pids / sizeof v_pids[0]; i++)
        if (v_pids[i]) {
            kill(v_pids[i], SIGKILL);
            waitpid(v_pids[i], NULL, 0);
            v_pids[i] = 0;
        }
    for (size_t i = sizeof v_nodes / sizeof v_nodes[0]; i-- > 0;)
        if (v_nodes[i]) {
            ipcn_node_close(v_nodes[i]);
            v_nodes[i] = NULL;
        }
    return 0;
}

#define V_TEST(f) cmocka_unit_test_setup_teardown(f, v_setup, v_teardown)

static inline ipcn_node *v_open(const char *name, const ipcn_node_opts *o)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, o);
    if (st != IPCN_OK)
        fprintf(stderr, "v_open(%s): %d %s\n", name, st, ipcn_status_str(st));
    assert_int_equal(st, IPCN_OK);
    assert_non_null(n);
    for (size_t i = 0; i < sizeof v_nodes / sizeof v_nodes[0]; i++)
        if (!v_nodes[i]) {
            v_nodes[i] = n;
            break;
        }
    return n;
}

static inline void v_close(ipcn_node *n)
{
    for (size_t i = 0; i < sizeof v_nodes / sizeof v_nodes[0]; i++)
        if (v_nodes[i] == n)
            v_nodes[i] = NULL;
    ipcn_node_close(n);
}

/* Start ipcn-test-v_node NAME V_LIFETIME SPEC...; the list ends with NULL. */
static inline pid_t v_spawn(const char *name, ...)
{
    const char *args[30];
    int k = 0;
    args[k++] = name;
    args[k++] = V_LIFETIME;
    va_list ap;
    va_start(ap, name);
    const char *s;
    while ((s = va_arg(ap, const char *)) && k < 29)
        args[k++] = s;
    va_end(ap);
    args[k] = NULL;
    pid_t pid = tu_spawn("v_node", args);
    assert_true(pid > 0);
    v_track_pid(pid);
    return pid;
}

/* Wait for a helper to exit by itself; returns its exit status or -1. */
static inline int v_reap(pid_t pid, int timeout_ms)
{
    int rc = tu_wait(pid, timeout_ms);
    if (rc != -1)
        v_untrack_pid(pid);
    return rc;
}

static inline void v_kill(pid_t pid)
{
    v_untrack_pid(pid);
    tu_kill(pid);
}

/* Let the node work for about ms: dispatch, or sleep when its own thread
 * dispatches. */
static inline void v_pump(ipcn_node *n, int ms)
{
    if (ipcn_node_dispatch(n, ms) == IPCN_SERVICE_UNAVAILABLE)
        usleep((useconds_t)ms * 1000);
}

static inline size_t v_count(ipcn_node *n, const char *pattern, ipcn_kind kind)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, pattern, kind, &rl), IPCN_OK);
    size_t c = rl->count;
    ipcn_resource_list_free(rl);
    return c;
}

/* Pump until find(pattern, kind) reports exactly want resources. */
static inline int v_wait_count(ipcn_node *n, const char *pattern,
                               ipcn_kind kind, size_t want, int timeout_ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        if (v_count(n, pattern, kind) == want)
            return 1;
        if (tu_now_ms() >= end)
            return 0;
        v_pump(n, 20);
    }
}

/* Wait until helper NAME is linked and all it announced at start is known. */
static inline void v_wait_helper(ipcn_node *n, const char *name)
{
    char p[128];
    snprintf(p, sizeof p, "ctl/%s", name);
    if (!v_wait_count(n, p, IPCN_SERVICE, 1, V_WAIT_MS))
        fail_msg("helper %s did not show up", name);
}

/* Pump until *flag (read atomically) is non-zero. */
static inline int v_wait_flag(ipcn_node *n, const int *flag, int timeout_ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)timeout_ms;
    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
        if (tu_now_ms() >= end)
            return 0;
        v_pump(n, 20);
    }
    return 1;
}

/* A control request to helper NAME, synchronous (no callback of n runs
 * meanwhile).  Returns the helper's status; *out gets its reply if asked. */
static inline int v_vctl(ipcn_node *n, const char *helper, ipcn_msg **out,
                         const char *fmt, va_list ap)
{
    char path[128], body[1024];
    snprintf(path, sizeof path, "ctl/%s", helper);
    vsnprintf(body, sizeof body, fmt, ap);
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, path, body, strlen(body), "text/plain", &m, 10000);
    if (out)
        *out = m;
    else
        ipcn_msg_free(m);
    return st;
}

static inline int v_ctl(ipcn_node *n, const char *helper, ipcn_msg **out,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline int v_ctl(ipcn_node *n, const char *helper, ipcn_msg **out,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int st = v_vctl(n, helper, out, fmt, ap);
    va_end(ap);
    return st;
}

/* The same, the reply's text copied into out (if given; "" when none). */
static inline int v_ctl_text(ipcn_node *n, const char *helper, char *out,
                             size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static inline int v_ctl_text(ipcn_node *n, const char *helper, char *out,
                             size_t cap, const char *fmt, ...)
{
    ipcn_msg *m = NULL;
    va_list ap;
    va_start(ap, fmt);
    int st = v_vctl(n, helper, &m, fmt, ap);
    va_end(ap);
    if (out)
        snprintf(out, cap, "%s", m ? (const char *)m->data : "");
    ipcn_msg_free(m);
    return st;
}

/* A shared-memory peer helper (s_peer) named name, killed at the end. */
static inline pid_t v_s_peer(const char *name)
{
    const char *args[] = {name, "30000", NULL};
    pid_t pid = tu_spawn("s_peer", args);
    assert_true(pid > 0);
    v_track_pid(pid);
    return pid;
}

/* The answer of an asynchronous control request. */
typedef struct v_async {
    int done;
    int calls;
    int status;
    int has_reply;
    char body[4096];
    size_t len;
    char encoding[256];
    char src[80];
} v_async;

__attribute__((unused)) static void v_async_cb(ipcn_node *n, int status, const ipcn_msg *reply,
                       void *user)
{
    (void)n;
    v_async *a = user;
    a->status = status;
    a->has_reply = reply != NULL;
    if (reply) {
        a->len = reply->len < sizeof a->body - 1 ? reply->len : sizeof a->body - 1;
        memcpy(a->body, reply->data, a->len);
        a->body[a->len] = 0;
        snprintf(a->encoding, sizeof a->encoding, "%s", reply->encoding);
        snprintf(a->src, sizeof a->src, "%s", reply->src_name);
    }
    __atomic_add_fetch(&a->calls, 1, __ATOMIC_ACQ_REL);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
}

/* Send a control request whose answer comes to a (callbacks of n run
 * meanwhile when the caller pumps).  Returns ipcn_request_async's status. */
static inline int v_ctl_async(ipcn_node *n, const char *helper, v_async *a,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline int v_ctl_async(ipcn_node *n, const char *helper, v_async *a,
                              const char *fmt, ...)
{
    char path[128], body[1024];
    snprintf(path, sizeof path, "ctl/%s", helper);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    memset(a, 0, sizeof *a);
    return ipcn_request_async(n, path, body, strlen(body), "text/plain", 10000,
                              v_async_cb, a, NULL);
}

/* Samples collected by a subscription callback (thread-safe). */
#define V_MAX_SAMPLES 1024
typedef struct v_sample {
    int status;
    uint64_t seq, ts, src_id;
    size_t len;
    pthread_t thread;
    char path[128], enc[128], src[80], data[64];
} v_sample;

typedef struct v_coll {
    pthread_mutex_t mu;
    int count;
    int extra; /* samples beyond V_MAX_SAMPLES */
    v_sample s[V_MAX_SAMPLES];
} v_coll;

static inline v_coll *v_coll_new(void)
{
    v_coll *c = calloc(1, sizeof *c);
    assert_non_null(c);
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static inline void v_coll_free(v_coll *c)
{
    if (c) {
        pthread_mutex_destroy(&c->mu);
        free(c);
    }
}

static inline int v_coll_count(v_coll *c)
{
    pthread_mutex_lock(&c->mu);
    int k = c->count;
    pthread_mutex_unlock(&c->mu);
    return k;
}

__attribute__((unused)) static void v_collect(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    v_coll *c = user;
    pthread_mutex_lock(&c->mu);
    if (c->count < V_MAX_SAMPLES) {
        v_sample *s = &c->s[c->count];
        s->status = m->status;
        s->seq = m->seq;
        s->ts = m->timestamp_ns;
        s->src_id = m->src_id;
        s->len = m->len;
        s->thread = pthread_self();
        snprintf(s->path, sizeof s->path, "%s", m->path);
        snprintf(s->enc, sizeof s->enc, "%s", m->encoding);
        snprintf(s->src, sizeof s->src, "%s", m->src_name);
        snprintf(s->data, sizeof s->data, "%.*s",
                 (int)(m->len < sizeof s->data ? m->len : sizeof s->data - 1),
                 (const char *)m->data);
        c->count++;
    } else {
        c->extra++;
    }
    pthread_mutex_unlock(&c->mu);
}

/* Pump until the collector holds at least want samples. */
static inline int v_wait_samples(ipcn_node *n, v_coll *c, int want,
                                 int timeout_ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)timeout_ms;
    while (v_coll_count(c) < want) {
        if (tu_now_ms() >= end)
            return 0;
        v_pump(n, 20);
    }
    return 1;
}

/* The peer entry of a linked node by name (0 pid when not linked). */
static inline ipcn_peer v_peer(ipcn_node *n, const char *name)
{
    ipcn_peer out = {0};
    ipcn_peer_list *pl = NULL;
    assert_int_equal(ipcn_peers(n, &pl), IPCN_OK);
    for (size_t i = 0; i < pl->count; i++)
        if (!strcmp(pl->items[i].name, name)) {
            out = pl->items[i];
            out.name = NULL; /* the list is freed below */
        }
    ipcn_peer_list_free(pl);
    return out;
}

#endif
