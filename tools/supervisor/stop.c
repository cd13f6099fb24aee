/* SPDX-License-Identifier: MIT */
/*
 * stop.c — the ordered safe shutdown of a robot (stop.h): isolate the
 * compromised, bring to a safe state, then stop producers, consumers and
 * the rest, each with its deadline, then SIGTERM, then SIGKILL.
 *
 * Every component of a phase has a worker thread of its own: the requests
 * are ipcn_request() calls, which pump the node's I/O themselves (or sleep
 * while its own thread does), so this works whether the node runs its
 * thread or the caller dispatches it, and one component that hangs costs
 * its deadline only, never the others'.  In a stop phase a component is
 * asked only once every component of the phase that depends on it is
 * gone: reverse dependency order, independent components at once.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet_value.h"
#include "stop.h"
#include "spawn.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* How long a process is given to vanish after SIGKILL before it is
 * reported killed anyway (one in uninterruptible sleep may take longer). */
#define KILL_WAIT_MS 500u
/* The longest reason told to a component. */
#define REASON_MAX 512u

typedef struct job {
    struct stop_ctx *x;
    sup_proc *p;
    size_t ci;                 /* the component's index in the manifest */
    int phase;                 /* 0 isolation, 1..4 */
    sup_stop_item item;
    uint64_t started_ms;       /* when it was asked (the report's order) */
    bool done, threaded;
    pthread_t th;
} job;

typedef struct stop_ctx {
    ipcn_node *n;
    const sup_manifest *m;
    const char *reason;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job *jobs;                 /* the running phase's */
    size_t njobs;
} stop_ctx;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int ms_left(uint64_t deadline)
{
    uint64_t now = now_ms();
    return deadline > now ? (int)(deadline - now) : 0;
}

/* ------------------------------------------------------------------ */
/* processes                                                           */
/* ------------------------------------------------------------------ */

static int pidfd_signal_(int fd, int sig)
{
#ifdef SYS_pidfd_send_signal
    return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
#else
    (void)fd;
    (void)sig;
    errno = ENOSYS;
    return -1;
#endif
}

/* A process as one job sees it: the caller's pidfd, or one of its own. */
typedef struct proc_ref {
    const sup_proc *p;
    int fd;
    bool own_fd;
} proc_ref;

static void ref_open(proc_ref *r, const sup_proc *p)
{
    r->p = p;
    r->fd = p->pidfd;
    r->own_fd = false;
    if (r->fd < 0 && p->pid > 0) {
        r->fd = sup_pidfd_open(p->pid);
        r->own_fd = r->fd >= 0;
    }
}

static void ref_close(proc_ref *r)
{
    if (r->own_fd)
        close(r->fd);
    r->fd = -1;
}

/* Gone: exited (and reaped, when it is the caller's child). */
static bool ref_gone(const proc_ref *r)
{
    const sup_proc *p = r->p;
    if (p->pid <= 0)
        return true;
    if (r->fd >= 0) {
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        if (poll(&pfd, 1, 0) <= 0)
            return false;
        if (p->child) { /* the caller may have reaped it: ECHILD is fine */
            int status;
            (void)sup_child_reap(r->fd, &status);
        }
        return true;
    }
    if (p->child) {
        pid_t w = waitpid(p->pid, NULL, WNOHANG);
        return w == p->pid || (w < 0 && errno == ECHILD);
    }
    return kill(p->pid, 0) < 0 && errno == ESRCH;
}

/* Wait until the process is gone or deadline passes.  True when gone. */
static bool ref_wait_gone(const proc_ref *r, uint64_t deadline)
{
    for (;;) {
        if (ref_gone(r))
            return true;
        int ms = ms_left(deadline);
        if (ms <= 0)
            return false;
        if (r->fd >= 0) {
            struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
            (void)poll(&pfd, 1, ms);
        } else {
            struct timespec ts = {0, (ms < 10 ? ms : 10) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

/* sig to the process, and to its process group when it leads one of its
 * own (the supervisor starts each component with setsid(), so what it
 * forked goes too).  The group is signalled only while the leader lives:
 * then its number cannot have been taken by another. */
static bool ref_signal(const proc_ref *r, int sig)
{
    const sup_proc *p = r->p;
    if (p->pid <= 0 || ref_gone(r))
        return true;
    pid_t pg = getpgid(p->pid);
    if (pg == p->pid && pg != getpgrp())
        (void)kill(-pg, sig);
    if (r->fd >= 0 && (pidfd_signal_(r->fd, sig) == 0 || errno == ESRCH))
        return true;
    if (r->fd >= 0 && errno == EPERM)
        return false;
    return kill(p->pid, sig) == 0 || errno != EPERM;
}

/* ------------------------------------------------------------------ */
/* the requests                                                        */
/* ------------------------------------------------------------------ */

/* The body of "@sys/<node>/shutdown" (docs/protocol.md 12.4). */
static int shutdown_body(uint8_t *buf, size_t cap, size_t *len, bool safe,
                         int system_phase, uint32_t deadline_ms,
                         const char *reason)
{
    size_t rlen = reason ? strnlen(reason, REASON_MAX) : 0;
    for (int pass = 0; pass < 2; pass++) {
        ipcn_cbor_writer w;
        ipcn_cbor_writer_init(&w, buf, cap, 0);
        ipcn_cbor_put_map(&w, 4);
        ipcn_cbor_put_cstr(&w, "phase");
        ipcn_cbor_put_cstr(&w, safe ? "safe_state" : "stop");
        ipcn_cbor_put_cstr(&w, "system_phase");
        ipcn_cbor_put_uint(&w, (uint64_t)system_phase);
        ipcn_cbor_put_cstr(&w, "deadline_ms");
        ipcn_cbor_put_uint(&w, deadline_ms);
        ipcn_cbor_put_cstr(&w, "reason");
        /* A reason cut inside a character, or not UTF-8: told as "". */
        ipcn_cbor_put_text(&w, reason ? reason : "", pass ? 0 : rlen);
        if (ipcn_cbor_writer_finish(&w, len) == IPCN_OK)
            return IPCN_OK;
    }
    return IPCN_INTERNAL_ERROR;
}

/* Ask the component's node for a phase; the status of the answer. */
static int ask_node(stop_ctx *x, const sup_component *c, bool safe,
                    int system_phase, uint32_t deadline_ms)
{
    char path[SUP_NAME_MAX + 32];
    uint8_t body[REASON_MAX + 96];
    size_t len = 0;
    snprintf(path, sizeof path, "@sys/%s/shutdown", c->node);
    if (shutdown_body(body, sizeof body, &len, safe, system_phase,
                      deadline_ms, x->reason) != IPCN_OK)
        return IPCN_INTERNAL_ERROR;
    ipcn_msg *reply = NULL;
    int st = ipcn_request(x->n, path, body, len, "cbor", &reply,
                          deadline_ms ? (int)deadline_ms : 1);
    ipcn_msg_free(reply);
    return st;
}

/* Phase 1 for one component: its safe_request service, else its node's
 * safe-state handlers. */
static void run_safe(job *j)
{
    const sup_component *c = &j->x->m->comps[j->ci];
    proc_ref r;
    ref_open(&r, j->p);
    if (ref_gone(&r)) {
        j->item.outcome = SUP_OUT_NOT_RUNNING;
        ref_close(&r);
        return;
    }
    int st;
    if (c->safe_request) {
        ipcn_msg *reply = NULL;
        st = ipcn_request(j->x->n, c->safe_request, NULL, 0, NULL, &reply,
                          c->safe_deadline_ms ? (int)c->safe_deadline_ms : 1);
        ipcn_msg_free(reply);
    } else {
        st = ask_node(j->x, c, true, 1, c->safe_deadline_ms);
    }
    j->item.status = st;
    if (st == IPCN_OK)
        j->item.outcome = SUP_OUT_DONE;
    else if (st == IPCN_GATEWAY_TIMEOUT)
        j->item.outcome = SUP_OUT_MISSED;
    else if (st == IPCN_NO_DATA || (st == IPCN_NOT_FOUND && !c->safe_request))
        /* 203 of "@sys/": a node without the service (an older library) */
        j->item.outcome = SUP_OUT_NO_HANDLER;
    else
        j->item.outcome = SUP_OUT_FAILED;
    ref_close(&r);
}

/* Phases 2..4 for one component: ask, wait for it to go, SIGTERM, SIGKILL. */
static void run_stop(job *j)
{
    const sup_component *c = &j->x->m->comps[j->ci];
    proc_ref r;
    ref_open(&r, j->p);
    if (ref_gone(&r)) {
        j->item.outcome = SUP_OUT_NOT_RUNNING;
        ref_close(&r);
        return;
    }
    uint64_t t0 = now_ms();
    int st = ask_node(j->x, c, false, j->phase, c->stop_deadline_ms);
    j->item.status = st;
    /* 100: it stops; 303: it left before answering (going).  202, 201:
     * the network policy does not let this node stop it (EXECUTE of
     * system/shutdown), and its word is kept: no signal either.  Anything
     * else (103 no handler, 203 no such service, 304 no answer in time,
     * another error) is not worth waiting on: SIGTERM now. */
    bool going = st == IPCN_OK || st == IPCN_SERVICE_UNAVAILABLE;
    if (st == IPCN_FORBIDDEN || st == IPCN_UNAUTHORIZED) {
        j->item.outcome = SUP_OUT_FAILED;
    } else if (going && ref_wait_gone(&r, t0 + c->stop_deadline_ms)) {
        j->item.outcome = SUP_OUT_DONE;
    } else if (!ref_signal(&r, SIGTERM)) {
        /* another user's process: told, but it cannot be made to go */
        j->item.outcome = SUP_OUT_FAILED;
        j->item.status = IPCN_FORBIDDEN;
    } else if (ref_wait_gone(&r, now_ms() + c->kill_after_ms)) {
        j->item.outcome = SUP_OUT_TERMINATED;
    } else {
        (void)ref_signal(&r, SIGKILL);
        (void)ref_wait_gone(&r, now_ms() + KILL_WAIT_MS);
        j->item.outcome = SUP_OUT_KILLED;
    }
    ref_close(&r);
}

/* A compromised component: SIGKILL at once, never asked anything. */
static void run_isolate(job *j)
{
    proc_ref r;
    ref_open(&r, j->p);
    if (ref_gone(&r)) {
        j->item.outcome = SUP_OUT_NOT_RUNNING;
    } else if (!ref_signal(&r, SIGKILL)) {
        j->item.outcome = SUP_OUT_FAILED;
        j->item.status = IPCN_FORBIDDEN;
    } else {
        (void)ref_wait_gone(&r, now_ms() + KILL_WAIT_MS);
        j->item.outcome = SUP_OUT_ISOLATED;
    }
    ref_close(&r);
}

/* ------------------------------------------------------------------ */
/* phases                                                              */
/* ------------------------------------------------------------------ */

/* Does component a depend on b (directly)? */
static bool depends_on(const sup_component *a, size_t b)
{
    for (size_t i = 0; i < a->ndeps; i++)
        if (!a->deps[i].resource && a->deps[i].index == b)
            return true;
    return false;
}

/* In a stop phase: every job of the phase whose component depends on
 * this one's is done. */
static bool dependents_done(stop_ctx *x, const job *j)
{
    if (j->phase < SUP_PHASE_PRODUCER)
        return true;
    for (size_t i = 0; i < x->njobs; i++) {
        const job *o = &x->jobs[i];
        if (o != j && !o->done && depends_on(&x->m->comps[o->ci], j->ci))
            return false;
    }
    return true;
}

static void run_job(job *j)
{
    stop_ctx *x = j->x;
    pthread_mutex_lock(&x->lock);
    while (!dependents_done(x, j))
        pthread_cond_wait(&x->cond, &x->lock);
    pthread_mutex_unlock(&x->lock);
    uint64_t t0 = now_ms();
    j->started_ms = t0;
    if (j->phase == 0)
        run_isolate(j);
    else if (j->phase == 1)
        run_safe(j);
    else
        run_stop(j);
    uint64_t t1 = now_ms();
    j->item.ms = (uint32_t)(t1 - t0);
    pthread_mutex_lock(&x->lock);
    j->done = true;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->lock);
}

static void *job_thread(void *arg)
{
    run_job(arg);
    return NULL;
}

/* Run jobs[0..count) (in reverse start order) at once, each when its
 * dependents are done; back when all are. */
static void run_phase(stop_ctx *x, job *jobs, size_t count)
{
    x->jobs = jobs;
    x->njobs = count;
    for (size_t i = 0; i < count; i++)
        jobs[i].threaded =
            pthread_create(&jobs[i].th, NULL, job_thread, &jobs[i]) == 0;
    /* Without a thread, a job runs here, in the list's order: what it
     * waits for comes before it in the list, or runs on a thread. */
    for (size_t i = 0; i < count; i++)
        if (!jobs[i].threaded)
            run_job(&jobs[i]);
    for (size_t i = 0; i < count; i++)
        if (jobs[i].threaded)
            pthread_join(jobs[i].th, NULL);
}

static int by_start(const void *a, const void *b)
{
    const job *x = a, *y = b;
    if (x->started_ms != y->started_ms)
        return x->started_ms < y->started_ms ? -1 : 1;
    return x < y ? -1 : x > y;
}

static bool item_clean(const sup_stop_item *it)
{
    return it->outcome == SUP_OUT_DONE || it->outcome == SUP_OUT_NOT_RUNNING ||
           (it->outcome == SUP_OUT_NO_HANDLER && it->phase == 1);
}

/* The jobs of one phase, in reverse start order: 0 the compromised, 1 the
 * safe states, 2..4 the stops (without the compromised). */
static size_t phase_jobs(stop_ctx *x, sup_proc **by_comp, int phase, job *out)
{
    const sup_manifest *m = x->m;
    size_t k = 0;
    for (size_t oi = m->ncomps; oi-- > 0;) {
        size_t ci = m->order[oi];
        sup_proc *p = by_comp[ci];
        const sup_component *c = &m->comps[ci];
        if (!p)
            continue;
        bool take = phase == 0 ? p->compromised
                  : p->compromised ? false
                  : phase == 1 ? c->has_safe_state
                  : (int)c->phase == phase;
        if (!take)
            continue;
        out[k] = (job){.x = x, .p = p, .ci = ci, .phase = phase};
        out[k].item = (sup_stop_item){.component = c->name, .phase = phase,
                                      .outcome = SUP_OUT_NOT_RUNNING};
        k++;
    }
    return k;
}

int sup_stop_run(ipcn_node *n, const sup_manifest *m, sup_proc *procs,
                 size_t nprocs, const char *reason, sup_stop_report *rep)
{
    if (!n || !m || !rep || (nprocs && !procs))
        return IPCN_BAD_REQUEST;
    *rep = (sup_stop_report){0};
    uint64_t t0 = now_ms();
    stop_ctx x = {.n = n, .m = m, .reason = reason ? reason : ""};
    sup_proc **by_comp = calloc(m->ncomps ? m->ncomps : 1, sizeof *by_comp);
    job *jobs = calloc(m->ncomps ? m->ncomps : 1, sizeof *jobs);
    /* at most: isolation + safe state + stop, per component */
    sup_stop_item *items = calloc(2 * nprocs + 1, sizeof *items);
    if (!by_comp || !jobs || !items) {
        free(by_comp);
        free(jobs);
        free(items);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    for (size_t i = 0; i < nprocs; i++) {
        const sup_component *c = procs[i].c;
        if (c && c >= m->comps && c < m->comps + m->ncomps)
            by_comp[c - m->comps] = &procs[i];
    }
    pthread_mutex_init(&x.lock, NULL);
    pthread_cond_init(&x.cond, NULL);
    size_t count = 0;
    bool clean = true;
    for (int phase = 0; phase <= SUP_PHASE_REST; phase++) {
        size_t k = phase_jobs(&x, by_comp, phase, jobs);
        if (!k)
            continue;
        run_phase(&x, jobs, k);
        qsort(jobs, k, sizeof *jobs, by_start);
        for (size_t i = 0; i < k && count < 2 * nprocs + 1; i++) {
            items[count] = jobs[i].item;
            clean = clean && item_clean(&items[count]);
            count++;
        }
    }
    pthread_cond_destroy(&x.cond);
    pthread_mutex_destroy(&x.lock);
    free(jobs);
    free(by_comp);
    rep->items = items;
    rep->count = count;
    rep->total_ms = (uint32_t)(now_ms() - t0);
    rep->clean = clean;
    return IPCN_OK;
}
