/* SPDX-License-Identifier: MIT */
/*
 * l_common.h — what the liveness, scale and rendezvous tests and their
 * helper programs (helpers/l_*.c) share: a helper's safety net (it dies
 * with its parent and after a maximum lifetime), key=value options, an
 * event recorder that is safe from a node's thread, and /proc readings
 * (descriptor count, resident memory).  Header-only, like testutil.h.
 */
#ifndef IPCN_L_COMMON_H
#define IPCN_L_COMMON_H

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"

#define L_UNUSED __attribute__((unused))

static volatile sig_atomic_t l_term; /* set by SIGTERM: close gracefully */

static void l_on_term(int sig)
{
    (void)sig;
    l_term = 1;
}

static L_UNUSED uint64_t l_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static L_UNUSED void l_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0)
        ;
}

/* Every helper starts with this: die with the test (SIGKILL when the
 * parent goes), die after lifetime_s whatever happens (SIGALRM's default
 * action), close gracefully on SIGTERM, and have room for many links. */
static L_UNUSED void l_helper_setup(unsigned lifetime_s)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(99); /* the parent died before we could ask */
    alarm(lifetime_s ? lifetime_s : 60);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = l_on_term;
    sigaction(SIGTERM, &sa, NULL);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* key=value arguments after the positional ones. */
static L_UNUSED const char *l_opt(int argc, char **argv, const char *key,
                                  const char *dflt)
{
    size_t k = strlen(key);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], key, k) && argv[i][k] == '=')
            return argv[i] + k + 1;
    return dflt;
}

static L_UNUSED long l_opt_long(int argc, char **argv, const char *key,
                                long dflt)
{
    const char *v = l_opt(argc, argv, key, NULL);
    return v ? strtol(v, NULL, 10) : dflt;
}

/* Node options from hb=, dead=, probe=, net= arguments. */
static L_UNUSED void l_node_opts(ipcn_node_opts *o, int argc, char **argv)
{
    ipcn_node_opts_init(o);
    o->heartbeat_ms = (uint32_t)l_opt_long(argc, argv, "hb", o->heartbeat_ms);
    o->dead_after_ms = (uint32_t)l_opt_long(argc, argv, "dead", o->dead_after_ms);
    o->idle_probe_ms = (uint32_t)l_opt_long(argc, argv, "probe", o->idle_probe_ms);
    o->network = l_opt(argc, argv, "net", NULL);
}

/* ------------------------------------------------------------------ */
/* Event recorder                                                      */
/* ------------------------------------------------------------------ */

#define L_MAX_EVENTS 4096

typedef struct l_event {
    ipcn_event_type type;
    char peer[72];
    char path[128];
    int status;
    uint64_t at_ms; /* l_now_ms() when the callback ran */
} l_event;

typedef struct l_events {
    pthread_mutex_t mu;
    size_t count;
    size_t overflow;
    l_event ev[L_MAX_EVENTS];
} l_events;

static L_UNUSED l_events *l_events_new(void)
{
    l_events *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    pthread_mutex_init(&e->mu, NULL);
    return e;
}

static L_UNUSED void l_events_free(l_events *e)
{
    if (!e)
        return;
    pthread_mutex_destroy(&e->mu);
    free(e);
}

static L_UNUSED void l_event_fn(ipcn_node *node, const ipcn_event *ev,
                                void *user)
{
    (void)node;
    l_events *e = user;
    pthread_mutex_lock(&e->mu);
    if (e->count < L_MAX_EVENTS) {
        l_event *x = &e->ev[e->count++];
        x->type = ev->type;
        snprintf(x->peer, sizeof x->peer, "%s", ev->peer ? ev->peer : "");
        snprintf(x->path, sizeof x->path, "%s", ev->path ? ev->path : "");
        x->status = ev->status;
        x->at_ms = l_now_ms();
    } else {
        e->overflow++;
    }
    pthread_mutex_unlock(&e->mu);
}

/* The first event of type about peer (NULL: any) at index >= from; copies
 * it to *out.  Returns its index or -1. */
static L_UNUSED long l_events_find(l_events *e, size_t from,
                                   ipcn_event_type type, const char *peer,
                                   l_event *out)
{
    long found = -1;
    pthread_mutex_lock(&e->mu);
    for (size_t i = from; i < e->count; i++) {
        if (e->ev[i].type == type && (!peer || !strcmp(e->ev[i].peer, peer))) {
            if (out)
                *out = e->ev[i];
            found = (long)i;
            break;
        }
    }
    pthread_mutex_unlock(&e->mu);
    return found;
}

/* How many events of type about peer (NULL: any) from index from on. */
static L_UNUSED size_t l_events_count(l_events *e, size_t from,
                                      ipcn_event_type type, const char *peer)
{
    size_t n = 0;
    pthread_mutex_lock(&e->mu);
    for (size_t i = from; i < e->count; i++)
        if (e->ev[i].type == type && (!peer || !strcmp(e->ev[i].peer, peer)))
            n++;
    pthread_mutex_unlock(&e->mu);
    return n;
}

static L_UNUSED size_t l_events_mark(l_events *e)
{
    pthread_mutex_lock(&e->mu);
    size_t n = e->count;
    pthread_mutex_unlock(&e->mu);
    return n;
}

/* ------------------------------------------------------------------ */
/* Small readings                                                      */
/* ------------------------------------------------------------------ */

/* Open descriptors of a process (0: this one); -1 when unreadable. */
static L_UNUSED int l_fd_count(pid_t pid)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    else
        snprintf(path, sizeof path, "/proc/self/fd");
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - (pid ? 0 : 1); /* not the one opendir holds */
}

/* VmRSS of a process (0: this one) in KiB; -1 when unreadable. */
static L_UNUSED long l_rss_kib(pid_t pid)
{
    char path[64], line[256];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* Resources matching pattern that node knows of (provider NULL: any). */
static L_UNUSED int l_count_resources(ipcn_node *n, const char *pattern,
                                      const char *provider)
{
    ipcn_resource_list *rl = NULL;
    if (ipcn_find(n, pattern, IPCN_ANY, &rl) != IPCN_OK)
        return -1;
    int k = 0;
    for (size_t i = 0; i < rl->count; i++)
        if (!provider || !strcmp(rl->items[i].provider, provider))
            k++;
    ipcn_resource_list_free(rl);
    return k;
}

/* Is a peer of that name linked to n?  Returns its pid, 0 when not. */
static L_UNUSED int l_peer_pid(ipcn_node *n, const char *name)
{
    ipcn_peer_list *pl = NULL;
    if (ipcn_peers(n, &pl) != IPCN_OK)
        return 0;
    int pid = 0;
    for (size_t i = 0; i < pl->count; i++)
        if (!strcmp(pl->items[i].name, name))
            pid = pl->items[i].pid ? pl->items[i].pid : -1;
    ipcn_peer_list_free(pl);
    return pid;
}

static L_UNUSED unsigned l_peer_count(ipcn_node *n)
{
    ipcn_peer_list *pl = NULL;
    if (ipcn_peers(n, &pl) != IPCN_OK)
        return 0;
    unsigned k = (unsigned)pl->count;
    ipcn_peer_list_free(pl);
    return k;
}

/* ------------------------------------------------------------------ */
/* Test side (only where testutil.h was included first)                */
/* ------------------------------------------------------------------ */
#ifdef IPCN_TESTUTIL_H
#include <stdarg.h>

/* Every helper a test starts is registered, so that a failed assertion
 * (which leaves the test function at once) does not leave it running: the
 * teardown kills whatever is still registered. */
#define L_MAX_PIDS 256
static pid_t l_pids[L_MAX_PIDS];

static L_UNUSED void l_track(pid_t pid)
{
    for (int i = 0; i < L_MAX_PIDS; i++)
        if (!l_pids[i]) {
            l_pids[i] = pid;
            return;
        }
}

static L_UNUSED void l_untrack(pid_t pid)
{
    for (int i = 0; i < L_MAX_PIDS; i++)
        if (l_pids[i] == pid)
            l_pids[i] = 0;
}

/* l_spawn("l_prov", "name", "30", "hb=50", NULL): tu_spawn, tracked. */
static L_UNUSED pid_t l_spawn(const char *helper, ...)
{
    const char *args[32];
    int k = 0;
    va_list ap;
    va_start(ap, helper);
    const char *a;
    while (k < 31 && (a = va_arg(ap, const char *)))
        args[k++] = a;
    va_end(ap);
    args[k] = NULL;
    fflush(NULL);
    pid_t pid = tu_spawn(helper, args);
    if (pid > 0)
        l_track(pid);
    return pid;
}

/* SIGKILL and reap a helper we started. */
static L_UNUSED void l_kill(pid_t pid)
{
    tu_kill(pid);
    l_untrack(pid);
}

/* tu_wait, and forget the helper once it is reaped. */
static L_UNUSED int l_wait(pid_t pid, int timeout_ms)
{
    int st = tu_wait(pid, timeout_ms);
    if (st != -1)
        l_untrack(pid);
    return st;
}

/* SIGTERM (the helpers close their node gracefully), then wait. */
static L_UNUSED int l_stop(pid_t pid, int timeout_ms)
{
    kill(pid, SIGTERM);
    int st = l_wait(pid, timeout_ms);
    if (st == -1) {
        l_kill(pid);
        return -1;
    }
    return st;
}

static L_UNUSED void l_kill_all(void)
{
    for (int i = 0; i < L_MAX_PIDS; i++)
        if (l_pids[i]) {
            tu_kill(l_pids[i]);
            l_pids[i] = 0;
        }
}

/* Nodes and event recorders of the running test, closed and freed by
 * l_teardown() when an assertion ends the test early. */
#define L_MAX_OWNED 32
static ipcn_node *l_nodes[L_MAX_OWNED];
static l_events *l_evs[L_MAX_OWNED];

static L_UNUSED ipcn_node *l_own_node(ipcn_node *n)
{
    for (int i = 0; i < L_MAX_OWNED; i++)
        if (!l_nodes[i]) {
            l_nodes[i] = n;
            break;
        }
    return n;
}

static L_UNUSED void l_close_node(ipcn_node *n)
{
    for (int i = 0; i < L_MAX_OWNED; i++)
        if (l_nodes[i] == n)
            l_nodes[i] = NULL;
    ipcn_node_close(n);
}

static L_UNUSED l_events *l_new_events(void)
{
    l_events *e = l_events_new();
    for (int i = 0; i < L_MAX_OWNED; i++)
        if (!l_evs[i]) {
            l_evs[i] = e;
            break;
        }
    return e;
}

/* cmocka teardown: kill the helpers, close the nodes, free the recorders
 * that the test left behind. */
static L_UNUSED int l_teardown(void **state)
{
    (void)state;
    l_kill_all();
    for (int i = 0; i < L_MAX_OWNED; i++) {
        ipcn_node_close(l_nodes[i]);
        l_nodes[i] = NULL;
    }
    for (int i = 0; i < L_MAX_OWNED; i++) {
        l_events_free(l_evs[i]);
        l_evs[i] = NULL;
    }
    return 0;
}

/* A private network for one test: the test binary's directory
 * (tu_net_dir()) and a network name of its own, which helpers inherit
 * through IPCNET_NETWORK. */
static L_UNUSED const char *l_net(const char *network)
{
    tu_net_dir();
    setenv("IPCNET_NETWORK", network, 1);
    return network;
}

/* Dispatch n (when not NULL; else just sleep) until cond holds or ms pass.
 * Evaluates to cond's last value. */
#define L_UNTIL(n, cond, ms)                                                \
    ({                                                                      \
        uint64_t l_end_ = l_now_ms() + (uint64_t)(ms);                      \
        bool l_ok_;                                                         \
        while (!(l_ok_ = (cond)) && l_now_ms() < l_end_) {                  \
            if (n)                                                          \
                ipcn_node_dispatch((n), 10);                                \
            else                                                            \
                l_sleep_ms(5);                                              \
        }                                                                   \
        l_ok_;                                                              \
    })
#endif /* IPCN_TESTUTIL_H */

#endif
