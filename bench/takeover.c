/* SPDX-License-Identifier: MIT */
/*
 * takeover.c — how long a subscriber goes without samples when the owner
 * of an owned stream fails (issue 17, ipcnet_redundancy.h).
 *
 * Three processes: a strong (strength 10) and a weak (strength 5) hot
 * standby publisher of one owned stream, each publishing a 16-byte sample
 * every millisecond, and a subscriber.  Each round the strong fails, by
 * kill -9 (its death is seen at once: the socket hangs up) or by SIGSTOP
 * (it hangs: its peers drop it after dead_after_ms of silence), and the
 * subscriber's gap is measured: the time between the last sample delivered
 * from the old owner and the first from the new one.  Then the strong
 * comes back (a new process after kill -9, SIGCONT after SIGSTOP) and the
 * round ends when it owns the stream again (its take-back is measured the
 * same way, and reported beside).
 *
 * The subscriber checks what it is given: every sample 16 bytes, the
 * sequence numbers of each provider strictly increasing (no sample
 * delivered twice, none out of order); a failure there, a take-over that
 * does not happen within TK_SWITCH_MS, or a process that dies, fails the
 * row.  Losses (ipcn_sub_stats.lost) and standby samples dropped are
 * reported.  Bounded: every wait has a deadline, and each child exits by
 * itself after TK_CHILD_LIFE_S.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ipcnet.h>
#include <ipcnet_redundancy.h>

#include "bench.h"

#define TK_PATH "bench/takeover"
#define TK_PERIOD_NS 1000000ull  /* 1 kHz */
#define TK_CHILD_LIFE_S 600      /* a process left behind exits by itself */
#define TK_SWITCH_MS 15000       /* a take-over or take-back, at most */
#define TK_READY_MS 30000        /* a process up, announced, publishing */
#define TK_STEADY_MS 200         /* the owner publishes this long first */
#define TK_MAX_SRC 128           /* providers a subscriber tells apart */
#define TK_MAX_SWITCH 1024       /* switches of provider it records */

/* Bytes from the subscriber: who it takes samples from now. */
#define TK_NOW_STRONG '1'
#define TK_NOW_WEAK '2'

typedef struct tk_args {
    char dir[256];
    const char *name;  /* publishers: tk-strong, tk-weak */
    int32_t strength;
} tk_args;

typedef struct tk_sub_result {
    int ok;
    char err[200];
    uint64_t delivered, bad, dups, standby, lost, changes;
    uint64_t nswitch;
} tk_sub_result;

static void tk_sleep_until(uint64_t t_ns)
{
    struct timespec ts = {(time_t)(t_ns / 1000000000ull),
                          (long)(t_ns % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static ipcn_node *tk_open(const tk_args *a, const char *name, char *err,
                          size_t errcap)
{
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = a->dir;
    o.network = "bench";
    if (g_opts.heartbeat_ms)
        o.heartbeat_ms = g_opts.heartbeat_ms;
    if (g_opts.dead_after_ms)
        o.dead_after_ms = g_opts.dead_after_ms;
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, &o);
    if (st == IPCN_OK)
        return n;
    snprintf(err, errcap, "%s: open: %d %s", name, st, ipcn_status_str(st));
    return NULL;
}

/* A publisher: the owned stream at 1 kHz until told to stop (or killed).
 * A tick missed (the process was stopped) is not made up for. */
static int tk_pub(child *c)
{
    const tk_args *a = c->arg;
    char err[200];
    ipcn_node *n = tk_open(a, a->name, err, sizeof err);
    if (!n) {
        fprintf(stderr, "ipcnet-bench takeover: %s\n", err);
        return 1;
    }
    ipcn_announce_opts ao;
    ipcn_announce_opts_init(&ao);
    ao.strength = a->strength;
    ao.standby = IPCN_STANDBY_HOT;
    int st = ipcn_announce_owned(n, TK_PATH, IPCN_STREAM, "application/octet-stream",
                                 NULL, 0, &ao);
    if (st == IPCN_CREATED || st == IPCN_OK)
        st = ipcn_node_start_thread(n);
    if (st != IPCN_OK) {
        fprintf(stderr, "ipcnet-bench takeover: %s: announce/thread: %d %s\n", a->name,
                st, ipcn_status_str(st));
        ipcn_node_close(n);
        return 1;
    }
    ctl_send(c->ctl, CTL_READY);
    uint64_t seq = 0, next = now_ns();
    uint64_t end = next + (uint64_t)TK_CHILD_LIFE_S * 1000000000ull;
    for (;;) {
        int b = ctl_poll(c->ctl);
        if (b == CTL_STOP || b < 0)
            break;
        tk_sleep_until(next);
        uint64_t now = now_ns();
        if (now >= end)
            break;
        next += TK_PERIOD_NS;
        if (now > next + TK_PERIOD_NS)
            next = now + TK_PERIOD_NS;
        uint64_t sample[2] = {++seq, now};
        (void)ipcn_publish(n, TK_PATH, sample, sizeof sample);
    }
    ipcn_node_close(n);
    return 0;
}

/* The subscriber's record of the providers it took samples from. */
typedef struct tk_sub_state {
    uint64_t src[TK_MAX_SRC], last_seq[TK_MAX_SRC];
    int nsrc;
    uint64_t last_src, last_t;
    uint64_t sw[TK_MAX_SWITCH * 3]; /* (when, 1 to the strong / 0, gap) */
} tk_sub_state;

static void tk_take(child *c, tk_sub_state *s, tk_sub_result *res,
                    const ipcn_msg *m)
{
    uint64_t t = now_ns();
    if (m->len != 16) {
        res->bad++;
        return;
    }
    int k = 0;
    while (k < s->nsrc && s->src[k] != m->src_id)
        k++;
    if (k == s->nsrc && k < TK_MAX_SRC) {
        s->src[k] = m->src_id;
        s->last_seq[k] = 0;
        s->nsrc++;
    }
    if (k < TK_MAX_SRC) {
        if (m->seq <= s->last_seq[k])
            res->dups++;
        else
            s->last_seq[k] = m->seq;
    }
    bool strong = m->src_name && !strcmp(m->src_name, "tk-strong");
    if (s->last_src != m->src_id) {
        if (s->last_src && res->nswitch < TK_MAX_SWITCH) {
            uint64_t *w = &s->sw[res->nswitch * 3];
            w[0] = t;
            w[1] = strong;
            w[2] = t - s->last_t;
            res->nswitch++;
        }
        ctl_send(c->ctl, strong ? TK_NOW_STRONG : TK_NOW_WEAK);
    }
    s->last_src = m->src_id;
    s->last_t = t;
    res->delivered++;
}

static int tk_sub(child *c)
{
    const tk_args *a = c->arg;
    tk_sub_result res = {0};
    tk_sub_state *s = calloc(1, sizeof *s);
    ipcn_node *n = s ? tk_open(a, "tk-sub", res.err, sizeof res.err) : NULL;
    ipcn_sub sub = {0};
    int st = n ? ipcn_node_start_thread(n) : IPCN_INSUFFICIENT_MEMORY;
    if (st == IPCN_OK)
        st = ipcn_subscribe(n, TK_PATH, 256, NULL, NULL, &sub);
    if (st != IPCN_OK) {
        if (!res.err[0])
            snprintf(res.err, sizeof res.err, "tk-sub: thread/subscribe: %d %s", st,
                     ipcn_status_str(st));
        ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
        ipcn_node_close(n);
        free(s);
        return 1;
    }
    ctl_send(c->ctl, CTL_READY);
    uint64_t end = now_ns() + (uint64_t)TK_CHILD_LIFE_S * 1000000000ull;
    while (now_ns() < end) {
        int b = ctl_poll(c->ctl);
        if (b == CTL_STOP || b < 0)
            break;
        ipcn_msg *m = NULL;
        if (ipcn_sub_take(n, sub, &m, 2) != IPCN_OK)
            continue;
        if (m->status == IPCN_OK)
            tk_take(c, s, &res, m);
        ipcn_msg_free(m);
    }
    ipcn_sub_stats ss = {.size = sizeof ss};
    if (ipcn_sub_get_stats(n, sub, &ss) == IPCN_OK) {
        res.standby = ss.standby;
        res.lost = ss.lost;
    }
    ipcn_owner_info oi = {.size = sizeof oi};
    if (ipcn_owner_get(n, TK_PATH, &oi) == IPCN_OK)
        res.changes = oi.changes;
    res.ok = res.bad == 0 && res.dups == 0;
    if (!res.ok)
        snprintf(res.err, sizeof res.err,
                 "%llu samples of a wrong size, %llu delivered twice or out of order",
                 (unsigned long long)res.bad, (unsigned long long)res.dups);
    ctl_send_result(c->ctl, &res, sizeof res, s->sw, res.nswitch * 3);
    ipcn_node_close(n);
    free(s);
    return res.ok ? 0 : 1;
}

/* ---- the parent ---- */

typedef struct tk_run {
    row *r;
    child sub, weak, strong;
    tk_args sub_a, weak_a, strong_a;
    char now; /* the subscriber's latest word: TK_NOW_STRONG or _WEAK */
    unsigned hb_ms, dead_ms; /* the nodes' liveness options */
} tk_run;

/* Until the subscriber takes its samples from want (after every byte it
 * already sent).  False when it does not within timeout_ms, or died. */
static bool tk_wait_for(tk_run *k, char want, int timeout_ms)
{
    int b;
    while ((b = ctl_wait(&k->sub, 0)) > 0)
        k->now = (char)b;
    if (b < 0)
        return false;
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
    while (k->now != want) {
        uint64_t now = now_ns();
        if (now >= deadline)
            return false;
        b = ctl_wait(&k->sub, (int)((deadline - now) / 1000000ull) + 1);
        if (b < 0)
            return false;
        if (b > 0)
            k->now = (char)b;
    }
    return true;
}

static bool tk_start(tk_run *k, child *c, const char *name, int index, child_fn fn,
                     tk_args *a)
{
    if (child_spawn(c, name, index, fn, a) < 0) {
        row_fail(k->r, "fork of %s: %s", name, strerror(errno));
        return false;
    }
    if (ctl_wait(c, TK_READY_MS) != CTL_READY) {
        row_fail(k->r, "%s did not come up", name);
        return false;
    }
    return true;
}

/* One round: the strong owns; it fails (sig); the weak takes over; the
 * strong comes back and takes back over.  Its fault time in *t_fault. */
static bool tk_round(tk_run *k, int sig, int round, uint64_t *t_fault)
{
    if (!tk_wait_for(k, TK_NOW_STRONG, TK_SWITCH_MS)) {
        row_fail(k->r, "round %d: the strong did not own the stream", round);
        return false;
    }
    sleep_ms(TK_STEADY_MS);
    *t_fault = now_ns();
    if (sig == SIGKILL)
        child_kill(&k->strong);
    else
        kill(k->strong.pid, SIGSTOP);
    if (!tk_wait_for(k, TK_NOW_WEAK, TK_SWITCH_MS)) {
        row_fail(k->r, "round %d: no take-over by the weak within %d ms", round,
                 TK_SWITCH_MS);
        return false;
    }
    sleep_ms(TK_STEADY_MS);
    if (sig == SIGKILL) {
        if (!tk_start(k, &k->strong, "takeover-strong", 2, tk_pub, &k->strong_a))
            return false;
    } else {
        kill(k->strong.pid, SIGCONT);
    }
    if (!tk_wait_for(k, TK_NOW_STRONG, TK_SWITCH_MS)) {
        row_fail(k->r, "round %d: the strong did not take back over within %d ms", round,
                 TK_SWITCH_MS);
        return false;
    }
    return true;
}

/* The first switch towards (1: the strong, 0: the weak) at or after t:
 * its gap in ns, or 0 when none. */
static uint64_t tk_gap_after(const uint64_t *sw, size_t nsw, uint64_t t, uint64_t to)
{
    for (size_t i = 0; i < nsw; i++)
        if (sw[3 * i] >= t && sw[3 * i + 1] == to)
            return sw[3 * i + 2];
    return 0;
}

static void tk_figures(tk_run *k, const tk_sub_result *res, const uint64_t *sw,
                       size_t nsw, const uint64_t *t_fault, int rounds)
{
    uint64_t *over = calloc((size_t)rounds, sizeof *over);
    uint64_t *back = calloc((size_t)rounds, sizeof *back);
    if (!over || !back) {
        row_fail(k->r, "out of memory");
        free(over);
        free(back);
        return;
    }
    int n = 0;
    for (int i = 0; i < rounds; i++) {
        over[n] = tk_gap_after(sw, nsw, t_fault[i], 0);
        back[n] = tk_gap_after(sw, nsw, t_fault[i], 1);
        if (over[n] && back[n])
            n++;
    }
    if (n < rounds) {
        row_fail(k->r, "%d of %d rounds have no recorded take-over", rounds - n, rounds);
    } else {
        double bp50, bp99, bmax;
        k->r->has_lat = true;
        lat_summary(over, (size_t)n, &k->r->p50_us, &k->r->p99_us, &k->r->max_us);
        lat_summary(back, (size_t)n, &bp50, &bp99, &bmax);
        k->r->aux = bp50;
        snprintf(k->r->note, sizeof k->r->note,
                 "gap = last sample from the old owner to the first from the new, at "
                 "the subscriber; %d rounds; strong 10 and weak 5 hot standby at 1 kHz; "
                 "take-back by the strong: p50 %.0f us, max %.0f us; %llu samples "
                 "delivered, %llu standby samples dropped, %llu lost, 0 twice; owner "
                 "changes seen %llu; heartbeat %u ms, dead_after %u ms",
                 n, bp50, bmax, (unsigned long long)res->delivered,
                 (unsigned long long)res->standby, (unsigned long long)res->lost,
                 (unsigned long long)res->changes, k->hb_ms, k->dead_ms);
    }
    free(over);
    free(back);
}

static void takeover_one(const char *variant, int sig, int rounds)
{
    ipcn_node_opts defaults;
    ipcn_node_opts_init(&defaults);
    tk_run k = {.hb_ms = g_opts.heartbeat_ms ? g_opts.heartbeat_ms : defaults.heartbeat_ms,
                .dead_ms = g_opts.dead_after_ms ? g_opts.dead_after_ms
                                                : defaults.dead_after_ms};
    k.r = row_new("takeover", "ipcnet", variant);
    k.r->n = (uint64_t)rounds;
    k.r->size = 16;
    if (bench_tmpdir(k.sub_a.dir, sizeof k.sub_a.dir) < 0) {
        row_fail(k.r, "mkdtemp: %s", strerror(errno));
        return;
    }
    k.weak_a = k.strong_a = k.sub_a;
    k.weak_a.name = "tk-weak";
    k.weak_a.strength = 5;
    k.strong_a.name = "tk-strong";
    k.strong_a.strength = 10;
    uint64_t *t_fault = calloc((size_t)rounds, sizeof *t_fault);
    bool ok = t_fault && tk_start(&k, &k.sub, "takeover-sub", 0, tk_sub, &k.sub_a) &&
              tk_start(&k, &k.weak, "takeover-weak", 1, tk_pub, &k.weak_a) &&
              tk_start(&k, &k.strong, "takeover-strong", 2, tk_pub, &k.strong_a);
    for (int i = 0; ok && i < rounds; i++) {
        ok = tk_round(&k, sig, i, &t_fault[i]);
        if (g_opts.verbose)
            fprintf(stderr, "takeover %s: round %d %s\n", variant, i, ok ? "ok" : "failed");
    }
    if (k.strong.pid > 0 && !k.strong.done) {
        kill(k.strong.pid, SIGCONT);
        ctl_send(k.strong.ctl, CTL_STOP);
    }
    if (k.weak.pid > 0 && !k.weak.done)
        ctl_send(k.weak.ctl, CTL_STOP);
    if (k.sub.pid > 0 && !k.sub.done) {
        ctl_send(k.sub.ctl, CTL_STOP);
        tk_sub_result res;
        uint64_t *sw = NULL;
        size_t nsw = 0;
        int rc = ctl_recv_result(&k.sub, &res, sizeof res, &sw, &nsw, 30000);
        if (rc < 0 && k.r->status == ROW_OK)
            row_fail(k.r, "the subscriber %s at the end", rc == -2 ? "hung" : "died");
        else if (rc == 0 && !res.ok)
            row_fail(k.r, "%s", res.err);
        else if (rc == 0 && ok)
            tk_figures(&k, &res, sw, nsw / 3, t_fault, rounds);
        free(sw);
    }
    child *kids[] = {&k.sub, &k.weak, &k.strong};
    for (int i = 0; i < 3; i++)
        if (kids[i]->pid > 0 && child_reap(kids[i], 10000) < 0 && k.r->status == ROW_OK)
            row_fail(k.r, "%s exited with wait status %d", kids[i]->name,
                     kids[i]->exit_status);
    free(t_fault);
    bench_rmdir(k.sub_a.dir);
}

void bench_takeover(void)
{
    if (!want_transport("ipcnet"))
        return;
    takeover_one("kill -9 the owner", SIGKILL, g_opts.quick ? 2 : 20);
    takeover_one("SIGSTOP the owner", SIGSTOP, g_opts.quick ? 1 : 5);
}

void print_takeover(void)
{
    bool any = false;
    for (int i = 0; i < g_nrows; i++) {
        row *r = &g_rows[i];
        if (strcmp(r->bench, "takeover"))
            continue;
        if (!any) {
            printf("\ntakeover: an owned stream at 1 kHz, a strong and a weak hot standby; "
                   "the subscriber's gap when the strong fails\n");
            printf("  %-20s %7s %10s %10s %10s %14s\n", "how", "rounds", "p50 ms",
                   "p99 ms", "max ms", "take-back p50");
            any = true;
        }
        if (r->status != ROW_OK) {
            printf("  %-20s %s: %s\n", r->variant,
                   r->status == ROW_FAILED ? "FAILED" : "unavailable", r->note);
            continue;
        }
        printf("  %-20s %7llu %10.2f %10.2f %10.2f %11.2f ms\n", r->variant,
               (unsigned long long)r->n, r->p50_us / 1e3, r->p99_us / 1e3,
               r->max_us / 1e3, r->aux / 1e3);
    }
    if (any)
        for (int i = 0; i < g_nrows; i++)
            if (!strcmp(g_rows[i].bench, "takeover") && g_rows[i].status == ROW_OK)
                printf("  %s: %s\n", g_rows[i].variant, g_rows[i].note);
}
