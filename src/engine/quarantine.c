/* SPDX-License-Identifier: MIT */
/*
 * quarantine.c — the engine's side of reputation (transport/reputation.c
 * keeps the scores and decides):
 *   - what follows a quarantine, ban or lift: the application's event,
 *     and, for a quarantine of this node's own making, a QUARANTINE
 *     report to every other peer that takes them;
 *   - a peer's QUARANTINE report: recorded, and followed or not by this
 *     node's policy (reputation.follow_reports), so that one node alone
 *     cannot get the others to cut off a healthy peer;
 *   - the public calls: ipcn_quarantines(), ipcn_quarantine_lift().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "policy/policy_impl.h"
#include "transport/reputation.h"

/* The public kinds are the policy's offences, in the same order. */
_Static_assert((int)IPCN_OFFENCE_BAD_FRAME == (int)IPCN__OFF_BAD_FRAME &&
                   (int)IPCN_OFFENCE_DENIED == (int)IPCN__OFF_DENIED &&
                   (int)IPCN_OFFENCE_RATE_LIMITED == (int)IPCN__OFF_RATE_LIMITED &&
                   (int)IPCN_OFFENCE_FAILED == (int)IPCN__OFF_FAILED &&
                   (int)IPCN_OFFENCE_TIMEOUT == (int)IPCN__OFF_TIMEOUT &&
                   (int)IPCN_OFFENCE_VERIFY == (int)IPCN__OFF_VERIFY &&
                   (int)IPCN_OFFENCE_ANOMALY == (int)IPCN__OFF_ANOMALY &&
                   (int)IPCN_OFFENCE_CONNECTIONS == (int)IPCN__OFF_CONNECTIONS &&
                   (int)IPCN_OFFENCE_COMPROMISE == (int)IPCN__OFF_COMPROMISE &&
                   (int)IPCN_OFFENCE_DISSENT == (int)IPCN__OFF_DISSENT &&
                   IPCN__OFF_COUNT <= IPCN_OFFENCE_KINDS &&
                   IPCN__OFF_COUNT <= IPCN_QR_MAX_KINDS,
               "ipcn_offence follows ipcn__offence");

#define REPORTS_PER_S 2         /* a reporter's reports: refill a second */
#define REPORTS_BURST 16        /* ... and bucket depth */

/* ---- telling ---- */

static void tell_peers(ipcn_node *n, const ipcn__rep *r, int status)
{
    uint64_t ev[IPCN__OFF_COUNT];
    for (uint32_t k = 0; k < IPCN__OFF_COUNT; k++)
        ev[k] = r->evidence[k];
    double s = r->score < -2e9 ? -2e9 : r->score;
    ipcn__quarantine q = {
        .action = status == IPCN_FORBIDDEN ? IPCN_QR_BANNED
                                           : IPCN_QR_QUARANTINED,
        .kinds = IPCN__OFF_COUNT, .uid = r->uid, .pid = r->pid > 0 ? r->pid : 0,
        .score = s > 0 ? 0 : (int32_t)s,
        .duration_ms = status == IPCN_FORBIDDEN ? 0 : r->duration_ms,
        .subject = ipcn__str_of(r->name ? r->name : ""),
        .detail = ipcn__str_of(r->detail)};
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP || !(l->peer_caps & IPCN_CAP_QUARANTINE))
            continue;
        if (r->name ? !strcmp(l->who.name, r->name)
                    : l->who.uid == r->uid && l->who.pid == r->pid)
            continue; /* the subject itself (its link is closing) */
        ipcn__hdr h;
        ipcn__link_hdr(n, &h, 0, 0);
        size_t mark = ipcn__link_tx_mark(l, 0);
        ipcn__link_commit(n, l, mark, ipcn__enc_quarantine(&l->tx, &h, &q, ev));
    }
}

void ipcn__quarantine_on_rep(ipcn_node *n, ipcn__rep *r, int status)
{
    char who[IPCN_NAME_MAX + 48];
    ipcn__rep_subject(r, who, sizeof who);
    ipcn__queue_event_of(n, IPCN_EV_QUARANTINE, who, 0,
                         r->detail[0] ? r->detail : NULL, IPCN_ANY, status);
    /* A report never follows a report: what this node only followed is
     * not told again. */
    if (status != IPCN_OK && !r->by_report && !n->closing)
        tell_peers(n, r, status);
}

/* ---- a peer's report ---- */

/* A reporter's reports: a token bucket on its link (bounded memory: one
 * per link). */
static bool report_allowed(ipcn__link *l, uint64_t now)
{
    if (!l->reports_ns) {
        l->reports_tokens = REPORTS_BURST;
        l->reports_ns = now;
    }
    uint64_t refill = (now - l->reports_ns) / (1000000000ull / REPORTS_PER_S);
    if (refill) {
        l->reports_tokens = l->reports_tokens + refill > REPORTS_BURST
                                ? REPORTS_BURST
                                : l->reports_tokens + (uint32_t)refill;
        l->reports_ns += refill * (1000000000ull / REPORTS_PER_S);
    }
    if (!l->reports_tokens)
        return false;
    l->reports_tokens--;
    return true;
}

/* Keep the report (one per reporter, the newest; at most
 * IPCN__REP_REPORTERS, the oldest goes; room grows as reporters come). */
static void keep_report(ipcn__rep *r, const ipcn__principal *reporter,
                        uint64_t now,
                        uint64_t duration_ms)
{
    uint32_t i;
    for (i = 0; i < r->nreports; i++)
        if (!strcmp(r->reports[i].reporter, reporter->name))
            break;
    if (i == r->nreports && r->nreports == r->cap_reports &&
        r->cap_reports < IPCN__REP_REPORTERS) {
        uint32_t cap = r->cap_reports ? 2 * r->cap_reports : 4;
        if (cap > IPCN__REP_REPORTERS)
            cap = IPCN__REP_REPORTERS;
        ipcn__rep_report *p = ipcn__realloc(r->reports, cap * sizeof *p);
        if (p) {
            r->reports = p;
            r->cap_reports = cap;
        }
    }
    if (!r->cap_reports)
        return; /* no memory: not kept */
    if (i == r->nreports && r->nreports == r->cap_reports)
        i = 0; /* the oldest */
    if (i < r->nreports) {
        memmove(&r->reports[i], &r->reports[i + 1],
                (r->nreports - i - 1) * sizeof *r->reports);
        r->nreports--;
    }
    ipcn__rep_report *p = &r->reports[r->nreports++];
    snprintf(p->reporter, sizeof p->reporter, "%s", reporter->name);
    p->uid = reporter->uid;
    p->pid = reporter->pid;
    p->at_ns = now;
    p->duration_ms = duration_ms;
}

static bool report_stands(const ipcn__reputation_cfg *c,
                          const ipcn__rep_report *p, uint64_t now)
{
    uint64_t ms = p->duration_ms;
    if (!ms || ms > c->quarantine_max_ms)
        ms = c->quarantine_max_ms;
    return now - p->at_ns <= ms * 1000000u;
}

/* Distinct reporters whose report still stands (the quarantine it told
 * of — a ban: quarantine_max — has not ended, and not past
 * quarantine_max), by their process: a name is only a lock file, and one
 * process holding two names must not agree with itself. */
static uint32_t standing(const ipcn__reputation_cfg *c, const ipcn__rep *r,
                         uint64_t now)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < r->nreports; i++) {
        const ipcn__rep_report *p = &r->reports[i];
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = r->reports[j].uid == p->uid &&
                   r->reports[j].pid == p->pid &&
                   report_stands(c, &r->reports[j], now);
        if (!seen && report_stands(c, p, now))
            k++;
    }
    return k;
}

static bool trusted(const ipcn_node *n, const ipcn__principal *who)
{
    const ipcn__reputation_cfg *c = &n->policy->guard.rep;
    const ipcn__policy *p = n->policy;
    ipcn__groupset rt = {n->groups, n->ngroups, NULL};
    ipcn__groupset gs = {p->groups, p->ngroups, &rt};
    for (uint32_t i = 0; i < c->ntrusted; i++)
        if (ipcn__selector_match(&c->trusted[i], &gs, who, false) > 0)
            return true;
    return false;
}

static void refuse_report(ipcn_node *n, ipcn__link *l, const char *why)
{
    l->bad_frames++;
    n->stats.bad_frames++;
    ipcn__warn("IPCN-REP-REPORT", "%s: refused a quarantine report of %s: "
               "%s", n->name, l->who.name, why);
    ipcn__link_send_error(n, l, IPCN_BAD_REQUEST, why);
    ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME, why);
}

void ipcn__quarantine_on_frame(ipcn_node *n, ipcn__link *l,
                               const ipcn__frame *f)
{
    const ipcn__quarantine *q = &f->u.quarantine;
    const ipcn__reputation_cfg *c = &n->policy->guard.rep;
    uint64_t now = ipcn__now_mono_ns();
    const char *subject = q->subject.len ? q->subject.p : NULL;
    if (subject ? ipcn__name_check(q->subject.p, q->subject.len) != IPCN_OK
                : q->pid <= 0) {
        refuse_report(n, l, "a report of no valid subject");
        return;
    }
    bool itself = subject ? !strcmp(subject, l->who.name)
                          : q->uid == l->who.uid && q->pid == l->who.pid;
    bool us = subject ? !strcmp(subject, n->name)
                      : q->uid == n->self.uid && q->pid == n->self.pid;
    if (itself || us) {
        refuse_report(n, l, itself ? "a report of itself"
                                   : "a report of this node");
        return;
    }
    if (!report_allowed(l, now)) {
        ipcn__debug("IPCN-REP-REPORT", "%s: %s reports too fast: dropped",
                    n->name, l->who.name);
        return;
    }
    ipcn__rep *r = ipcn__rep_get(n, subject, q->uid, subject ? -1 : q->pid);
    if (!r)
        return;
    keep_report(r, &l->who, now, q->duration_ms);
    uint32_t agree = standing(c, r, now);
    ipcn__info("IPCN-REP-REPORT", "%s: %s reports %s %s (uid %d) for %llu ms: "
               "%s (%u reporters agree)", n->name, l->who.name,
               q->action == IPCN_QR_BANNED ? "a ban of"
                                                   : "a quarantine of",
               subject ? subject : "a process", (int)q->uid,
               (unsigned long long)q->duration_ms, q->detail.p, agree);
    bool follow = false;
    switch (c->follow) {
    case IPCN__FOLLOW_NEVER:
        break;
    case IPCN__FOLLOW_TRUSTED:
        follow = trusted(n, &l->who);
        break;
    case IPCN__FOLLOW_AGREE:
        follow = agree >= (c->agree ? c->agree : 1);
        break;
    case IPCN__FOLLOW_ANY:
        follow = true;
        break;
    }
    if (!follow || !c->enabled || r->state != IPCN__REP_NONE)
        return;
    /* Never on a white-listed subject; as the link shows it, when linked. */
    ipcn__link *sl = subject ? ipcn__link_by_name(n, subject) : NULL;
    if (ipcn__rep_white(n, r, sl && sl->who.uid == r->uid ? &sl->who : NULL))
        return;
    snprintf(r->detail, sizeof r->detail, "reported by %s: %s", l->who.name,
             q->detail.p);
    /* Followed as a quarantine of this node's own length (a ban is an
     * operator's word, not another node's). */
    ipcn__rep_quarantine(n, r, false, true);
}

/* ---- the public calls ---- */

typedef struct qblock {
    ipcn_quarantine_list pub;   /* first: the list is the block */
    ipcn_quarantine_record *recs;
} qblock;

static size_t rec_strings(const ipcn__rep *r)
{
    size_t s = (r->name ? strlen(r->name) : 48) + 1 + strlen(r->detail) + 1;
    for (uint32_t i = 0; i < r->nreports; i++)
        s += strlen(r->reports[i].reporter) + 1;
    return s;
}

static char *put(char **sp, const char *s)
{
    char *d = *sp;
    size_t k = strlen(s) + 1;
    memcpy(d, s, k);
    *sp += k;
    return d;
}

static void fill(ipcn_quarantine_record *o, ipcn__rep *r, uint64_t now,
                 const char **rp, char **sp)
{
    char who[IPCN_NAME_MAX + 48];
    ipcn__rep_subject(r, who, sizeof who);
    *o = (ipcn_quarantine_record){
        .size = sizeof *o, .subject = put(sp, who), .named = r->name != NULL,
        .uid = r->uid, .pid = r->pid, .score = r->score,
        .state = (ipcn_quarantine_state)r->state, .strikes = r->strikes,
        .duration_ms = r->duration_ms,
        .detail = put(sp, r->detail), .by_report = r->by_report,
        .nreporters = r->nreports, .reporters = rp};
    if (r->state == IPCN__REP_BANNED)
        o->ms_left = UINT64_MAX;
    else if (r->state == IPCN__REP_QUARANTINED)
        o->ms_left = r->until_ns > now ? (r->until_ns - now + 999999) / 1000000
                                       : 0;
    for (uint32_t k = 0; k < IPCN__OFF_COUNT && k < IPCN_OFFENCE_KINDS; k++)
        o->evidence[k] = r->evidence[k];
    for (uint32_t i = 0; i < r->nreports; i++)
        rp[i] = put(sp, r->reports[i].reporter);
}

IPCN_API int ipcn_quarantines(ipcn_node *n, unsigned flags,
                              ipcn_quarantine_list **out)
{
    if (!n || !out || (flags & ~IPCN_QUARANTINE_ALL))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    uint64_t now = ipcn__now_mono_ns();
    size_t count = 0, reporters = 0, strings = 0;
    ipcn__rep *r;
    ipcn__list_for_each(r, t, &n->reps, ipcn__rep, entry) {
        ipcn__rep_refresh(n, r, now);
        if (!(flags & IPCN_QUARANTINE_ALL) && r->state == IPCN__REP_NONE)
            continue;
        count++;
        reporters += r->nreports;
        strings += rec_strings(r);
    }
    size_t size = sizeof(qblock) + count * sizeof(ipcn_quarantine_record) +
                  reporters * sizeof(const char *) + strings;
    qblock *b = ipcn__malloc(size);
    if (!b) {
        ipcn__node_unlock(n);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    b->pub.count = count;
    b->recs = (ipcn_quarantine_record *)(b + 1);
    const char **rp = (const char **)(b->recs + count);
    char *sp = (char *)(rp + reporters);
    size_t i = 0;
    /* Most recently used first. */
    for (ipcn__list *e = n->reps.prev; e != &n->reps; e = e->prev) {
        r = ipcn__list_entry(e, ipcn__rep, entry);
        if (!(flags & IPCN_QUARANTINE_ALL) && r->state == IPCN__REP_NONE)
            continue;
        fill(&b->recs[i++], r, now, rp, &sp);
        rp += r->nreports;
    }
    ipcn__node_unlock(n);
    *out = &b->pub;
    return IPCN_OK;
}

IPCN_API int ipcn_quarantine_list_get(const ipcn_quarantine_list *list,
                                      size_t index,
                                      ipcn_quarantine_record *out)
{
    if (!list || ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_quarantine_record,
                                                      reporters)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (index >= list->count)
        return IPCN_NOT_FOUND;
    const qblock *b = (const qblock *)list;
    ipcn__sized_out(out, &b->recs[index], sizeof b->recs[index]);
    return IPCN_OK;
}

IPCN_API void ipcn_quarantine_list_free(ipcn_quarantine_list *list)
{
    ipcn__free(list); /* the block's start */
}

IPCN_API int ipcn_quarantine_lift(ipcn_node *n, const char *subject)
{
    if (!n || !subject || !*subject)
        return IPCN_BAD_REQUEST;
    int uid, pid, end = 0;
    bool process = sscanf(subject, "uid %d pid %d%n", &uid, &pid, &end) == 2 &&
                   subject[end] == 0;
    if (!process && ipcn__name_check(subject, strlen(subject)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = IPCN_NOT_FOUND;
    ipcn__rep *r;
    ipcn__list_for_each(r, t, &n->reps, ipcn__rep, entry) {
        if (process ? r->name || r->uid != uid || r->pid != pid
                    : !r->name || strcmp(r->name, subject))
            continue;
        ipcn__rep_lift(n, r);
        st = IPCN_OK;
    }
    /* Service again at once: dial it (whichever name sorts lower; a link
     * both sides dial at once is settled as any, 207). */
    if (st == IPCN_OK && !process && !n->closing)
        ipcn__rdv_dial_soon(n, subject);
    ipcn__node_unlock(n);
    if (st == IPCN_OK)
        ipcn__node_wake(n);
    return st;
}

IPCN_API const char *ipcn_offence_name(int kind)
{
    return (unsigned)kind < IPCN__OFF_COUNT
               ? ipcn__offence_name((ipcn__offence)kind) : NULL;
}
