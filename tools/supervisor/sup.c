/* SPDX-License-Identifier: MIT */
/*
 * sup.c — the supervisor's loop and each component's state machine
 * (sup.h): start in dependency order, count readiness, restart with
 * intensity and back-off, bless or reject a trial version, and the
 * consequences of a failure by criticality.  One thread: the loop polls
 * the node's fd, the pidfds of the processes and a signalfd, and
 * dispatches the node itself, so every callback runs here too.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "publish.h"
#include "spawn.h"
#include "stop.h"
#include "sup.h"
#include "sup_int.h"

const char *sup_state_name(sup_state s)
{
    static const char *const names[] = {"waiting", "starting", "ready", "backoff",
                                        "stopping", "stopped", "failed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

uint64_t sup_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t sup_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sup_log(sup *s, const char *comp, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    if (s->json) {
        char esc[2200];
        size_t k = 0;
        for (const char *p = msg; *p && k + 8 < sizeof esc; p++) {
            unsigned char ch = (unsigned char)*p;
            if (ch == '"' || ch == '\\')
                esc[k++] = '\\', esc[k++] = (char)ch;
            else if (ch < 0x20)
                k += (size_t)snprintf(esc + k, sizeof esc - k, "\\u%04x", ch);
            else
                esc[k++] = (char)ch;
        }
        esc[k] = 0;
        fprintf(stdout, "{\"time_ms\": %lld, \"robot\": \"%s\", \"component\": %s%s%s, "
                "\"message\": \"%s\"}\n", (long long)sup_real_ms(), s->m ? s->m->robot : "",
                comp ? "\"" : "", comp ? comp : "null", comp ? "\"" : "", esc);
        return;
    }
    fprintf(stdout, "%s.%03ld %s%s%s: %s\n", when, ts.tv_nsec / 1000000,
            s->m ? s->m->robot : "", comp ? "/" : "", comp ? comp : "", msg);
}

sup_rt *sup_by_node(sup *s, const char *name)
{
    for (size_t i = 0; name && i < s->m->ncomps; i++)
        if (!strcmp(s->m->comps[i].node, name))
            return &s->rt[i];
    return NULL;
}

sup_rt *sup_by_name(sup *s, const char *name)
{
    for (size_t i = 0; name && i < s->m->ncomps; i++)
        if (!strcmp(s->m->comps[i].name, name))
            return &s->rt[i];
    return NULL;
}

void sup_publish(sup *s, sup_rt *rt)
{
    bool up = rt->state == SUP_ST_READY;
    sup_status st = {
        .name = rt->c->name, .node = rt->c->node, .state = sup_state_name(rt->state),
        .version = rt->version, .trial = rt->trial, .restarts = rt->restarts,
        .uptime_ms = up ? sup_now_ms() - rt->ready_ms : 0, .pid = (int)rt->pid,
        .criticality = sup_crit_name(rt->c->criticality), .last_exit = rt->last_exit,
        .since_ms = up ? rt->since_real_ms : 0, .reason = rt->reason,
    };
    int r = sup_publish_status(s->n, s->m->robot, &st);
    if (r != IPCN_OK)
        sup_log(s, rt->c->name, "cannot publish its state: %d %s", r, ipcn_status_str(r));
}

void sup_ask_stop(sup *s, const char *reason, bool failure)
{
    if (!s->stop_asked) {
        snprintf(s->stop_reason, sizeof s->stop_reason, "%.255s", reason);
        sup_log(s, NULL, "ordered shutdown: %s", reason);
    }
    s->stop_asked = true;
    s->stop_failed |= failure;
}

void sup_end_proc(sup *s, sup_rt *rt, int sig)
{
    if (!rt->pid)
        return;
    sup_proc_signal(rt->pid, rt->pidfd, sig);
    if (sig != SIGKILL)
        rt->kill_at = sup_now_ms() + rt->c->kill_after_ms;
    (void)s;
}

static void failed(sup *s, sup_rt *rt);

/* ---- starting ---------------------------------------------------- */

static bool deps_up(sup *s, const sup_component *c)
{
    for (size_t d = 0; d < c->ndeps; d++) {
        const sup_dep *dep = &c->deps[d];
        if (!dep->resource) {
            if (s->rt[dep->index].state != SUP_ST_READY)
                return false;
            continue;
        }
        ipcn_resource_list *l = NULL;
        bool found = ipcn_find(s->n, dep->name, IPCN_ANY, &l) == IPCN_OK && l->count > 0;
        ipcn_resource_list_free(l);
        if (!found)
            return false;
    }
    return true;
}

/* The component's environment: what the manifest sets, then ours. */
static size_t make_env(sup *s, sup_rt *rt, char **env, size_t cap, char *store, size_t slen)
{
    const sup_component *c = rt->c;
    size_t k = 0, used = 0;
#define ADD(...)                                                                \
    do {                                                                        \
        int w_ = snprintf(store + used, slen - used, __VA_ARGS__);              \
        if (w_ < 0 || (size_t)w_ >= slen - used || k + 1 >= cap)                \
            return k;                                                           \
        env[k++] = store + used;                                                \
        used += (size_t)w_ + 1;                                                 \
    } while (0)
    for (size_t i = 0; i < c->nenv; i++)
        ADD("%s", c->env[i]);
    ADD("IPCNET_COMPONENT=%s", c->name);
    ADD("IPCNET_ROBOT=%s", s->m->robot);
    ADD("IPCNET_NODE=%s", c->node);
    ADD("IPCNET_CRITICALITY=%s", sup_crit_name(c->criticality));
    ADD("IPCNET_COMPONENT_VERSION=%s", rt->version);
    ADD("IPCNET_VERSION_DIR=%s", c->versioned ? rt->vdir : "");
    ADD("IPCNET_CONFIG_VERSION=%s", rt->cversion);
    ADD("IPCNET_CONFIG_DIR=%s", rt->cversion[0] ? rt->cdir : "");
    const char *net = getenv("IPCNET_NETWORK"), *dir = getenv("IPCNET_DIR");
    if (net)
        ADD("IPCNET_NETWORK=%s", net);
    if (dir)
        ADD("IPCNET_DIR=%s", dir);
#undef ADD
    return k;
}

/* The store's name of c's configuration. */
static void config_name(const sup_component *c, char *out, size_t len)
{
    snprintf(out, len, "%s.config", c->name);
}

/* Pick c's configuration version, when one is installed (`ipcnet install
 * --config`): as its program's, a trial's try is taken before the start.
 * false (reason set) when one is installed but none can be started. */
static bool pick_config(sup *s, sup_rt *rt)
{
    char name[SUP_NAME_MAX + 16], err[512];
    sup_pick pk;
    rt->cversion[0] = 0;
    rt->ctrial = false;
    config_name(rt->c, name, sizeof name);
    int st = sup_store_pick(s->m->store, name, &pk, err, sizeof err);
    if (st == IPCN_NOT_FOUND)
        return true;
    if (st != IPCN_OK) {
        snprintf(rt->reason, sizeof rt->reason, "no configuration to start: %.220s", err);
        return false;
    }
    if (pk.rolled_back)
        sup_log(s, rt->c->name, "configuration trial given up, back on %s: %s", pk.id, err);
    snprintf(rt->cversion, sizeof rt->cversion, "%s", pk.id);
    snprintf(rt->cdir, sizeof rt->cdir, "%s", pk.dir);
    rt->ctrial = pk.trial;
    return true;
}

/* The trials rt runs (its version's, its configuration's) failed: each is
 * marked bad, the good ones run next.  What was rejected is logged. */
static void reject_trials(sup *s, sup_rt *rt)
{
    const sup_component *c = rt->c;
    char err[512], name[SUP_NAME_MAX + 16];
    if (c->versioned && rt->trial) {
        int st = sup_store_reject(s->m->store, c->name, rt->version, rt->reason, err,
                                  sizeof err);
        sup_log(s, c->name, "trial version %s rejected (%s)%s%s", rt->version, rt->reason,
                st == IPCN_OK ? "" : ": ", st == IPCN_OK ? "" : err);
    }
    if (rt->ctrial) {
        config_name(c, name, sizeof name);
        int st = sup_store_reject(s->m->store, name, rt->cversion, rt->reason, err,
                                  sizeof err);
        sup_log(s, c->name, "trial configuration %s rejected (%s)%s%s", rt->cversion,
                rt->reason, st == IPCN_OK ? "" : ": ", st == IPCN_OK ? "" : err);
    }
}

/* rt has been ready and healthy long enough: its trials become good. */
static void bless_trials(sup *s, sup_rt *rt)
{
    const sup_component *c = rt->c;
    char err[512], name[SUP_NAME_MAX + 16];
    rt->blessed = true;
    if (c->versioned && rt->trial) {
        if (sup_store_bless(s->m->store, c->name, rt->version, err, sizeof err) == IPCN_OK) {
            rt->trial = false;
            sup_log(s, c->name, "version %s blessed: it is good", rt->version);
        } else {
            sup_log(s, c->name, "cannot bless version %s: %s", rt->version, err);
        }
    }
    if (rt->ctrial) {
        config_name(c, name, sizeof name);
        if (sup_store_bless(s->m->store, name, rt->cversion, err, sizeof err) == IPCN_OK) {
            rt->ctrial = false;
            sup_log(s, c->name, "configuration %s blessed: it is good", rt->cversion);
        } else {
            sup_log(s, c->name, "cannot bless configuration %s: %s", rt->cversion, err);
        }
    }
    sup_publish(s, rt);
}

/* Pick the version (versioned components) and the configuration, then
 * spawn. */
static void start(sup *s, sup_rt *rt, uint64_t now)
{
    const sup_component *c = rt->c;
    char err[512];
    const char *cwd = c->dir;
    rt->version[0] = 0;
    rt->trial = false;
    if (!pick_config(s, rt)) {
        failed(s, rt);
        return;
    }
    if (c->versioned) {
        sup_pick pk;
        int st = sup_store_pick(s->m->store, c->name, &pk, err, sizeof err);
        if (st != IPCN_OK) {
            snprintf(rt->reason, sizeof rt->reason, "no version to start: %.230s", err);
            failed(s, rt);
            return;
        }
        if (pk.rolled_back) {
            sup_log(s, c->name, "trial given up, back on version %s: %s", pk.id, err);
            sup_restart_reset(&rt->hist);
        }
        snprintf(rt->version, sizeof rt->version, "%s", pk.id);
        snprintf(rt->vdir, sizeof rt->vdir, "%s", pk.dir);
        rt->trial = pk.trial;
        cwd = rt->vdir;
    }
    /* argv[0] without a '/' is the directory's file when it has one */
    char **argv = calloc(c->argc + 1, sizeof *argv);
    char arg0[4200];
    if (!argv)
        return;
    for (size_t i = 0; i < c->argc; i++)
        argv[i] = c->argv[i];
    if (!strchr(c->argv[0], '/')) {
        snprintf(arg0, sizeof arg0, "%s/%s", cwd, c->argv[0]);
        if (access(arg0, X_OK) == 0)
            argv[0] = arg0;
    }
    size_t slen = 8192, ecap = c->nenv + 16;
    for (size_t i = 0; i < c->nenv; i++)
        slen += strlen(c->env[i]) + 1;
    char **env = calloc(ecap, sizeof *env), *store = malloc(slen), logp[4200];
    if (!env || !store) {
        free(env);
        free(store);
        free(argv);
        return;
    }
    size_t nenv = make_env(s, rt, env, ecap, store, slen);
    snprintf(logp, sizeof logp, "%s/logs/%s.log", s->m->state, c->name);
    sup_spawn_req r = {.argv = argv, .cwd = cwd, .env = env, .nenv = nenv,
                       .log_path = logp};
    pid_t pid;
    int fd;
    int st = sup_spawn(&r, &pid, &fd, err, sizeof err);
    free(argv);
    free(env);
    free(store);
    rt->gen++;
    rt->unhealthy = rt->timed_out = rt->cascade = rt->reload = false;
    rt->health_ok = rt->health_pending = false;
    rt->blessed = false;
    rt->spawn_ms = now;
    rt->spawn_failed = st != IPCN_OK;
    if (st != IPCN_OK) {
        snprintf(rt->reason, sizeof rt->reason, "failed start: %.240s", err);
        rt->pid = 0;
        rt->pidfd = -1;
        sup_on_exit(s, rt, 127);
        return;
    }
    rt->pid = pid;
    rt->pidfd = fd;
    rt->child = true;
    rt->adopted = false;
    rt->state = SUP_ST_STARTING;
    sup_log(s, c->name, "started: pid %d%s%s%s", (int)pid, rt->version[0] ? ", version " : "",
            rt->version, rt->trial ? " (trial)" : "");
    sup_publish(s, rt);
    /* it may have said ready before we looked (a fast process) */
    pid_t ppid;
    bool ready;
    if (sup_peer(s, c->node, &ppid, &ready) && ready && sup_is_ours(s, rt, ppid))
        sup_on_ready(s, rt);
}

void sup_on_ready(sup *s, sup_rt *rt)
{
    if (rt->state != SUP_ST_STARTING)
        return;
    uint64_t now = sup_now_ms();
    rt->state = SUP_ST_READY;
    rt->ready_ms = now;
    rt->since_real_ms = sup_real_ms();
    rt->next_health = now + rt->c->health_interval_ms;
    rt->reason[0] = 0;
    sup_log(s, rt->c->name, "ready in %llu ms (pid %d)",
            (unsigned long long)(now - rt->spawn_ms), (int)rt->pid);
    sup_publish(s, rt);
}

/* ---- failures ---------------------------------------------------- */

/* Past its intensity (or not restarted after a failure). */
static void failed(sup *s, sup_rt *rt)
{
    const sup_component *c = rt->c;
    rt->state = SUP_ST_FAILED;
    sup_publish(s, rt);
    const char *crit = sup_crit_name(c->criticality);
    switch (c->criticality) {
    case IPCN_CRIT_OPTIONAL:
        sup_log(s, c->name, "failed (%s); optional: it stays down", rt->reason);
        break;
    case IPCN_CRIT_CRITICAL: {
        sup_log(s, c->name, "failed (%s); critical: the robot shuts down", rt->reason);
        sup_publish_alarm(s->n, s->m->robot, c->name, crit, rt->reason);
        char why[400];
        snprintf(why, sizeof why, "critical component %s failed: %s", c->name, rt->reason);
        sup_ask_stop(s, why, true);
        break;
    }
    default:
        sup_log(s, c->name, "failed (%s); important: alarm raised", rt->reason);
        sup_publish_alarm(s->n, s->m->robot, c->name, crit, rt->reason);
        break;
    }
}

/* rest_for_one: every running dependent of rt is stopped and starts again
 * once rt is ready. */
static void take_dependents(sup *s, sup_rt *rt)
{
    bool *take = calloc(s->m->ncomps, sizeof *take);
    if (!take)
        return;
    sup_dependents(s->m, rt->idx, take);
    for (size_t i = 0; i < s->m->ncomps; i++) {
        sup_rt *d = &s->rt[i];
        if (!take[i])
            continue;
        if (d->state == SUP_ST_STARTING || d->state == SUP_ST_READY) {
            sup_log(s, d->c->name, "restarted with %s (rest_for_one)", rt->c->name);
            d->cascade = true;
            d->state = SUP_ST_STOPPING;
            sup_end_proc(s, d, SIGTERM);
            sup_publish(s, d);
        } else if (d->state == SUP_ST_BACKOFF) {
            d->state = SUP_ST_WAITING;
            sup_publish(s, d);
        }
    }
    free(take);
}

static void describe_exit(char *buf, size_t n, int status)
{
    if (status == -1)
        snprintf(buf, n, "ended (adopted: status unknown)");
    else if (status >= 128)
        snprintf(buf, n, "killed by signal %d (%s)", status - 128, strsignal(status - 128));
    else
        snprintf(buf, n, "exited with status %d", status);
}

void sup_on_exit(sup *s, sup_rt *rt, int status)
{
    const sup_component *c = rt->c;
    uint64_t now = sup_now_ms();
    if (rt->pidfd >= 0)
        close(rt->pidfd);
    rt->pidfd = -1;
    rt->pid = 0;
    rt->last_exit = status;
    bool was_ready = rt->state == SUP_ST_READY;
    char how[128];
    describe_exit(how, sizeof how, status);
    if (rt->cascade || rt->reload) {
        sup_log(s, c->name, "%s; starts again%s", how, rt->reload ? " (reload)" : "");
        if (rt->reload)
            sup_restart_reset(&rt->hist);
        rt->cascade = rt->reload = false;
        rt->state = SUP_ST_WAITING;
        sup_publish(s, rt);
        return;
    }
    bool fail = status != 0 || rt->unhealthy || rt->timed_out;
    if (rt->unhealthy)
        ; /* reason set by the health check */
    else if (rt->timed_out)
        snprintf(rt->reason, sizeof rt->reason, "not ready within %u ms", c->ready_timeout_ms);
    else if (!rt->spawn_failed)
        snprintf(rt->reason, sizeof rt->reason, "%s%s", how,
                 was_ready ? "" : " before it was ready");
    sup_log(s, c->name, "%s", rt->reason);
    if (!sup_restart_wanted(c, fail)) {
        if (fail) {
            failed(s, rt);
        } else {
            rt->state = SUP_ST_STOPPED;
            sup_publish(s, rt);
        }
        return;
    }
    if (!sup_restart_note(&rt->hist, c, now)) {
        char why[400];
        snprintf(why, sizeof why, "over %u restarts in %u ms: %s", c->intensity, c->period_ms,
                 rt->reason);
        snprintf(rt->reason, sizeof rt->reason, "%.255s", why);
        if ((c->versioned && rt->trial) || rt->ctrial) {
            reject_trials(s, rt);
            sup_restart_reset(&rt->hist);
            rt->state = SUP_ST_BACKOFF;
            rt->restart_at = now;
            sup_publish(s, rt);
            return;
        }
        failed(s, rt);
        return;
    }
    rt->restarts++;
    uint32_t delay = sup_restart_backoff_ms(&rt->hist, c, now);
    rt->state = SUP_ST_BACKOFF;
    rt->restart_at = now + delay;
    sup_log(s, c->name, "restart %u in %u ms", rt->restarts, delay);
    sup_publish(s, rt);
    if (c->strategy == SUP_REST_FOR_ONE)
        take_dependents(s, rt);
}

/* ---- the timers of one round ------------------------------------- */

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Do what is due at now; returns the next time something is due. */
static uint64_t step(sup *s, uint64_t now)
{
    uint64_t next = now + 500; /* resource dependencies are looked at again */
    for (size_t o = 0; o < s->m->ncomps; o++) {
        sup_rt *rt = &s->rt[s->m->order[o]];
        const sup_component *c = rt->c;
        switch (rt->state) {
        case SUP_ST_BACKOFF:
            if (now < rt->restart_at) {
                next = earliest(next, rt->restart_at);
                break;
            }
            rt->state = SUP_ST_WAITING;
            /* fall through */
        case SUP_ST_WAITING:
            if (!s->stop_asked && deps_up(s, c))
                start(s, rt, now);
            break;
        case SUP_ST_STARTING:
            if (now >= rt->spawn_ms + c->ready_timeout_ms && !rt->timed_out) {
                rt->timed_out = true;
                sup_end_proc(s, rt, SIGKILL);
            } else if (!rt->timed_out) {
                next = earliest(next, rt->spawn_ms + c->ready_timeout_ms);
            }
            break;
        case SUP_ST_READY:
            if (c->health_service && !rt->health_pending && !rt->unhealthy) {
                if (now >= rt->next_health)
                    sup_health_ask(s, rt);
                else
                    next = earliest(next, rt->next_health);
            }
            if (((c->versioned && rt->trial) || rt->ctrial) && !rt->blessed &&
                !rt->unhealthy) {
                uint64_t due = rt->ready_ms + c->bless_after_ms;
                if (now >= due && (!c->health_service || rt->health_ok)) {
                    bless_trials(s, rt);
                } else if (now < due) {
                    next = earliest(next, due);
                }
            }
            break;
        case SUP_ST_STOPPING:
            if (rt->pid && rt->kill_at && now >= rt->kill_at) {
                sup_end_proc(s, rt, SIGKILL);
                rt->kill_at = 0;
            } else if (rt->kill_at) {
                next = earliest(next, rt->kill_at);
            }
            break;
        case SUP_ST_STOPPED:
        case SUP_ST_FAILED:
            break;
        }
    }
    return next;
}

/* ---- the ordered shutdown ---------------------------------------- */

static void shutdown_robot(sup *s)
{
    sup_proc *procs = calloc(s->m->ncomps, sizeof *procs);
    if (!procs)
        return;
    for (size_t i = 0; i < s->m->ncomps; i++) {
        sup_rt *rt = &s->rt[i];
        procs[i] = (sup_proc){.c = rt->c, .pid = rt->pid, .pidfd = rt->pid ? rt->pidfd : -1,
                              .child = rt->child, .compromised = rt->compromised};
    }
    sup_stop_report rep = {0};
    int st = sup_stop_run(s->n, s->m, procs, s->m->ncomps, s->stop_reason, &rep);
    if (st != IPCN_OK)
        sup_log(s, NULL, "the ordered shutdown failed: %d %s", st, ipcn_status_str(st));
    else
        sup_stop_print(&rep, s->json);
    fflush(stdout);
    for (size_t i = 0; i < s->m->ncomps; i++) {
        sup_rt *rt = &s->rt[i];
        if (rt->pid) {
            /* sup_stop_run ended it (and reaped it, when ours) */
            int status = -1;
            if (rt->pidfd >= 0)
                sup_proc_ended(rt->pidfd, rt->child, &status);
            rt->last_exit = status;
        }
        if (rt->pidfd >= 0)
            close(rt->pidfd);
        rt->pidfd = -1;
        rt->pid = 0;
        if (rt->state != SUP_ST_FAILED)
            rt->state = SUP_ST_STOPPED;
        sup_publish(s, rt);
    }
    sup_svc_answer(s, st == IPCN_OK ? &rep : NULL);
    free(rep.items);
    free(procs);
}

/* ---- the loop ---------------------------------------------------- */

static int open_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void loop(sup *s, int sigfd)
{
    size_t nc = s->m->ncomps;
    struct pollfd *pf = calloc(nc + 2, sizeof *pf);
    size_t *who = calloc(nc + 2, sizeof *who);
    if (!pf || !who) {
        free(pf);
        free(who);
        return;
    }
    int nodefd = ipcn_node_fd(s->n);
    while (!s->stop_asked) {
        uint64_t now = sup_now_ms();
        uint64_t next = step(s, now);
        if (s->stop_asked)
            break;
        int np = 0;
        pf[np++] = (struct pollfd){.fd = nodefd, .events = POLLIN};
        pf[np++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
        for (size_t i = 0; i < nc; i++)
            if (s->rt[i].pid && s->rt[i].pidfd >= 0) {
                who[np] = i;
                pf[np++] = (struct pollfd){.fd = s->rt[i].pidfd, .events = POLLIN};
            }
        now = sup_now_ms();
        int timeout = next > now ? (int)(next - now) : 0;
        if (ipcn_node_timeout(s->n) == 0)
            timeout = 0;
        int r = poll(pf, (nfds_t)np, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (pf[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                char why[64];
                snprintf(why, sizeof why, "signal %u (%s)", si.ssi_signo,
                         strsignal((int)si.ssi_signo));
                sup_ask_stop(s, why, false);
            }
        }
        for (int i = 2; r > 0 && i < np; i++) {
            sup_rt *rt = &s->rt[who[i]];
            int status;
            if (pf[i].revents && rt->pidfd == pf[i].fd &&
                sup_proc_ended(rt->pidfd, rt->child, &status) == 1)
                sup_on_exit(s, rt, status);
        }
        int st = ipcn_node_dispatch(s->n, 0);
        if (st == IPCN_SERVICE_UNAVAILABLE)
            break;
    }
    free(pf);
    free(who);
}

static int setup(sup *s, const sup_opts *o)
{
    char err[1024];
    int st = sup_manifest_load(o->manifest, &s->m, err, sizeof err);
    if (st != IPCN_OK) {
        fprintf(stderr, "%d %s: %s\n", st, ipcn_status_str(st), err);
        return st == IPCN_BAD_REQUEST ? 2 : 1;
    }
    char logs[4200];
    snprintf(logs, sizeof logs, "%s/logs", s->m->state);
    if (sup_mkdirs(logs) < 0) {
        fprintf(stderr, "300 %s: cannot make %s: %s\n",
                ipcn_status_str(IPCN_INTERNAL_ERROR), logs, strerror(errno));
        return 1;
    }
    if (o->network)
        setenv("IPCNET_NETWORK", o->network, 1);
    if (o->dir)
        setenv("IPCNET_DIR", o->dir, 1);
    s->rt = calloc(s->m->ncomps ? s->m->ncomps : 1, sizeof *s->rt);
    if (!s->rt) {
        fprintf(stderr, "307 %s\n", ipcn_status_str(IPCN_INSUFFICIENT_MEMORY));
        return 1;
    }
    for (size_t i = 0; i < s->m->ncomps; i++)
        s->rt[i] = (sup_rt){.c = &s->m->comps[i], .idx = i, .pidfd = -1, .last_exit = -2};
    snprintf(s->node_name, sizeof s->node_name, "sup.%s", s->m->robot);
    ipcn_node_opts no;
    ipcn_node_opts_init(&no);
    no.network = o->network;
    no.dir = o->dir;
    st = ipcn_node_open(&s->n, s->node_name, &no);
    if (st != IPCN_OK) {
        fprintf(stderr, "%d %s: cannot open the node %s%s\n", st, ipcn_status_str(st),
                s->node_name, st == IPCN_CONFLICT ? ": a supervisor of this robot runs" : "");
        s->n = NULL;
        return 1;
    }
    st = sup_svc_start(s);
    if (st != IPCN_OK) {
        fprintf(stderr, "%d %s: cannot offer the supervisor's services\n", st,
                ipcn_status_str(st));
        return 1;
    }
    return 0;
}

int sup_main(const sup_opts *o)
{
    sup s = {.json = o->json};
    setvbuf(stdout, NULL, _IOLBF, 0);
    int sigfd = open_signals();
    int rc = setup(&s, o);
    if (rc == 0 && sigfd < 0) {
        fprintf(stderr, "300 %s: signalfd: %s\n", ipcn_status_str(IPCN_INTERNAL_ERROR),
                strerror(errno));
        rc = 1;
    }
    if (rc == 0) {
        sup_adopt_all(&s);
        for (size_t i = 0; i < s.m->ncomps; i++)
            sup_publish(&s, &s.rt[i]);
        sup_log(&s, NULL, "supervising %zu components as node %s", s.m->ncomps, s.node_name);
        /* It serves now (its services and resources are up): a watcher of
         * the network sees the supervisor ready like any component. */
        ipcn_node_ready(s.n);
        loop(&s, sigfd);
        if (!s.stop_asked)
            sup_ask_stop(&s, "the supervisor's node closed", true);
        shutdown_robot(&s);
        rc = s.stop_failed ? 1 : 0;
        sup_log(&s, NULL, "down");
    }
    if (sigfd >= 0)
        close(sigfd);
    for (size_t i = 0; s.rt && i < s.m->ncomps; i++) {
        if (s.rt[i].pidfd >= 0)
            close(s.rt[i].pidfd);
        sup_restart_free(&s.rt[i].hist);
    }
    if (s.n)
        sup_health_cancel_all(&s);
    free(s.rt);
    free(s.waiters);
    ipcn_node_close(s.n);
    sup_manifest_free(s.m);
    return rc;
}
