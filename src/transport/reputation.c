/* SPDX-License-Identifier: MIT */
/*
 * reputation.c — scores, evidence, quarantine and ban of the principals
 * behind the links (reputation.h); the rules of the policy's reputation
 * section (guard.h), enforced at the gate stage: at accept, at hello, and
 * on each offence a layer charges here.  What the application and the
 * other nodes are told goes up through the engine's entry
 * (IPCN__IN_REPUTATION: engine/quarantine.c).
 */
#include <stdio.h>
#include <string.h>

#include "engine/entry.h"
#include "node/node.h"
#include "policy/policy_impl.h"
#include "transport/reputation.h"

static const ipcn__reputation_cfg *cfg(const ipcn_node *n)
{
    return &n->policy->guard.rep;
}

/* ---- the arithmetic ---- */

/* 2^-f for f in [0, 1), without libm: e^-x, x = f ln 2 < 0.7, by its
 * series (the error is under 2e-6, far below what a score needs). */
static double pow2_neg_frac(double f)
{
    double x = f * 0.69314718055994531, term = 1, sum = 1;
    for (int i = 1; i <= 9; i++) {
        term *= -x / i;
        sum += term;
    }
    return sum;
}

double ipcn__rep_decay(double score, uint64_t dt_ms, uint64_t half_life_ms)
{
    if (!half_life_ms || score == 0)
        return score;
    uint64_t halvings = dt_ms / half_life_ms;
    if (halvings >= 64)
        return 0;
    double s = score / (double)(1ull << halvings);
    s *= pow2_neg_frac((double)(dt_ms % half_life_ms) / (double)half_life_ms);
    /* Within a thousandth of 0 is 0: a record that forgot everything. */
    return s > -0.001 && s < 0.001 ? 0 : s;
}

uint64_t ipcn__rep_backoff_ms(const ipcn__reputation_cfg *c, uint32_t strikes)
{
    uint64_t ms = c->quarantine_ms ? c->quarantine_ms : 1;
    uint64_t max = c->quarantine_max_ms > ms ? c->quarantine_max_ms : ms;
    for (uint32_t i = 0; i < strikes && ms < max; i++)
        ms *= 2;
    return ms < max ? ms : max;
}

/* ---- the table ---- */

static bool active(const ipcn__rep *r)
{
    return r->state != IPCN__REP_NONE;
}

static void rep_free(ipcn_node *n, ipcn__rep *r)
{
    if (r->owed)
        n->reps_owed--;
    ipcn__list_remove(&r->entry);
    ipcn__free(r->name);
    ipcn__free(r->reports);
    ipcn__free(r);
}

static void touch(ipcn_node *n, ipcn__rep *r)
{
    ipcn__list_remove(&r->entry);
    ipcn__list_insert_tail(&n->reps, &r->entry);
}

void ipcn__rep_refresh(ipcn_node *n, ipcn__rep *r, uint64_t now)
{
    const ipcn__reputation_cfg *c = cfg(n);
    if (r->state == IPCN__REP_QUARANTINED && now >= r->until_ns) {
        char who[IPCN_NAME_MAX + 48];
        ipcn__rep_subject(r, who, sizeof who);
        ipcn__info("IPCN-REP-RELEASE", "%s: quarantine of %s ended after "
                   "%llu ms", n->name, who,
                   (unsigned long long)r->duration_ms);
        r->state = IPCN__REP_NONE;
        r->by_report = false;
        n->reps_active--;
        /* Not 0: one more offence soon should not be free, nor should it
         * bring the quarantine back at once. */
        r->score = c->quarantine_below / 2.0;
        r->score_ns = now;
    }
    if (now > r->score_ns) {
        r->score = ipcn__rep_decay(r->score, (now - r->score_ns) / 1000000u,
                                   c->half_life_ms);
        r->score_ns = now - (now - r->score_ns) % 1000000u;
    }
}

static bool same(const ipcn__rep *r, const char *name, int32_t uid,
                 int32_t pid)
{
    if (name)
        return r->name && !strcmp(r->name, name) && (uid < 0 || r->uid == uid);
    return !r->name && r->uid == uid && r->pid == pid;
}

ipcn__rep *ipcn__rep_find(ipcn_node *n, const char *name, int32_t uid,
                          int32_t pid)
{
    ipcn__rep *r;
    ipcn__list_for_each(r, t, &n->reps, ipcn__rep, entry)
        if (same(r, name, uid, pid)) {
            ipcn__rep_refresh(n, r, ipcn__now_mono_ns());
            return r;
        }
    return NULL;
}

/* Room for one more record: the least recently used that is not
 * quarantined goes; when all are, the least recently used of all (the
 * table stays bounded whatever the peers do). */
static void make_room(ipcn_node *n)
{
    if (n->nreps < IPCN__REP_MAX)
        return;
    ipcn__rep *r, *victim = NULL;
    ipcn__list_for_each(r, t, &n->reps, ipcn__rep, entry)
        if (!active(r)) {
            victim = r;
            break;
        }
    if (!victim)
        victim = ipcn__list_entry(n->reps.next, ipcn__rep, entry);
    if (active(victim))
        n->reps_active--;
    rep_free(n, victim);
    n->nreps--;
}

ipcn__rep *ipcn__rep_get(ipcn_node *n, const char *name, int32_t uid,
                         int32_t pid)
{
    ipcn__rep *r = ipcn__rep_find(n, name, uid, pid);
    if (r)
        return r;
    make_room(n);
    r = ipcn__calloc(1, sizeof *r);
    if (!r || (name && !(r->name = ipcn__strdup(name)))) {
        ipcn__free(r);
        return NULL;
    }
    r->uid = uid;
    r->pid = pid;
    r->score_ns = ipcn__now_mono_ns();
    ipcn__list_insert_tail(&n->reps, &r->entry);
    n->nreps++;
    return r;
}

void ipcn__rep_free_all(ipcn_node *n)
{
    ipcn__list *e;
    while ((e = ipcn__list_pop(&n->reps))) {
        ipcn__rep *r = ipcn__list_entry(e, ipcn__rep, entry);
        ipcn__list_init(&r->entry);
        rep_free(n, r);
    }
    n->nreps = n->reps_active = n->reps_owed = 0;
}

void ipcn__rep_subject(const ipcn__rep *r, char *buf, size_t len)
{
    if (r->name)
        snprintf(buf, len, "%s", r->name);
    else
        snprintf(buf, len, "uid %d pid %d", (int)r->uid, (int)r->pid);
}

const char *ipcn__rep_state_name(ipcn__rep_state s)
{
    switch (s) {
    case IPCN__REP_QUARANTINED:
        return "quarantined";
    case IPCN__REP_BANNED:
        return "banned";
    default:
        return "none";
    }
}

/* ---- lists ---- */

/* The first of the selectors that who matches: 1, or -1 when one may
 * match (a condition that cannot be decided), 0 none. */
static int match_any(const ipcn_node *n, const ipcn__selector *s, uint32_t ns,
                     const ipcn__principal *who)
{
    const ipcn__policy *p = n->policy;
    ipcn__groupset rt = {n->groups, n->ngroups, NULL};
    ipcn__groupset gs = {p->groups, p->ngroups, &rt};
    int res = 0;
    for (uint32_t i = 0; i < ns; i++) {
        int m = ipcn__selector_match(&s[i], &gs, who, false);
        if (m > 0)
            return 1;
        if (m < 0)
            res = -1;
    }
    return res;
}

bool ipcn__rep_white(const ipcn_node *n, const ipcn__rep *r,
                     const ipcn__principal *who)
{
    const ipcn__reputation_cfg *c = cfg(n);
    if (!c->nwhite)
        return false;
    ipcn__principal p;
    if (!who) {
        /* Only what a report says: its name and uid. */
        memset(&p, 0, sizeof p);
        p.uid = r->uid;
        p.pid = r->pid;
        p.creds_known = r->uid >= 0;
        p.name = r->name;
        who = &p;
    }
    /* Only a sure match protects: a selector that cannot be decided
     * (an executable not readable) does not. */
    return match_any(n, c->white, c->nwhite, who) > 0;
}

/* ---- quarantine ---- */

static bool rep_matches_link(const ipcn__rep *r, const ipcn__link *l)
{
    if (l->state == LINK_DEAD)
        return false;
    if (r->name)
        return l->who.name && !strcmp(l->who.name, r->name) &&
               l->who.uid == r->uid;
    return l->who.uid == r->uid && l->who.pid == r->pid;
}

/* Why r's links are refused: the status, the retry time in ms (205;
 * else 0) and a text for people. */
static uint64_t refusal(const ipcn__rep *r, uint64_t now, int *status,
                        char *why, size_t len)
{
    if (r->state == IPCN__REP_BANNED) {
        *status = IPCN_FORBIDDEN;
        snprintf(why, len, "banned until an operator lifts it (%s)",
                 r->detail);
        return 0;
    }
    uint64_t left = r->until_ns > now ? r->until_ns - now : 0;
    uint64_t ms = (left + 999999) / 1000000;
    *status = IPCN_TOO_MANY_REQUESTS;
    snprintf(why, len, "quarantined: retry after %llu ms (%s)",
             (unsigned long long)ms, r->detail);
    return ms ? ms : 1;
}

/* The ERROR that refuses a link: a 205 carries the retry time in its
 * corr (docs/protocol.md, "Quarantine"), the rest as any ERROR. */
void ipcn__rep_send_refusal(ipcn_node *n, ipcn__link *l, int status,
                            uint64_t retry_ms, const char *why)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, (uint16_t)status, retry_ms);
    size_t mark = ipcn__link_tx_mark(l, 0);
    ipcn__str s = ipcn__str_of(why);
    ipcn__link_commit(n, l, mark,
                      ipcn__enc_text(&l->tx, &h, IPCN_F_ERROR, s.p, s.len));
}

/* Close the principal's links, each told why. */
static void cut(ipcn_node *n, ipcn__rep *r)
{
    char why[IPCN__REP_DETAIL + 64];
    int st;
    uint64_t ms = refusal(r, ipcn__now_mono_ns(), &st, why, sizeof why);
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (!rep_matches_link(r, l))
            continue;
        ipcn__rep_send_refusal(n, l, st, ms, why);
        ipcn__link_close(n, l, st, why);
    }
}

void ipcn__rep_quarantine(ipcn_node *n, ipcn__rep *r, bool ban,
                          bool by_report)
{
    const ipcn__reputation_cfg *c = cfg(n);
    uint64_t now = ipcn__now_mono_ns();
    if (!active(r))
        n->reps_active++;
    r->since_ns = now;
    r->by_report = by_report;
    if (ban) {
        r->state = IPCN__REP_BANNED;
        r->until_ns = UINT64_MAX;
        r->duration_ms = 0;
    } else {
        r->state = IPCN__REP_QUARANTINED;
        r->duration_ms = ipcn__rep_backoff_ms(c, r->strikes);
        r->until_ns = now + r->duration_ms * 1000000u;
    }
    if (r->strikes < UINT32_MAX)
        r->strikes++;
    n->stats.quarantined++;
    char who[IPCN_NAME_MAX + 64];
    if (r->name)
        snprintf(who, sizeof who, "%s (uid %d)", r->name, (int)r->uid);
    else
        ipcn__rep_subject(r, who, sizeof who);
    if (ban)
        ipcn__warn("IPCN-REP-BAN", "%s: banned %s%s, score %.0f: %s", n->name,
                   who, by_report ? " on reports" : "", r->score, r->detail);
    else
        ipcn__warn("IPCN-REP-QUARANTINE", "%s: quarantined %s%s for %llu ms "
                   "(strike %u), score %.0f: %s", n->name, who,
                   by_report ? " on reports" : "",
                   (unsigned long long)r->duration_ms, r->strikes, r->score,
                   r->detail);
    /* Its links are closed at the end of the round (ipcn__rep_flush()):
     * the code that charged it may still be using one.  Until then new
     * ones are refused. */
    if (!r->owed) {
        r->owed = true;
        n->reps_owed++;
        /* Charged outside a round (an application's call): a round soon. */
        ipcn__node_arm_timer(n, now);
    }
}

void ipcn__rep_flush(ipcn_node *n)
{
    if (!n->reps_owed)
        return;
    ipcn__rep *r;
    ipcn__list_for_each(r, t, &n->reps, ipcn__rep, entry) {
        if (!r->owed)
            continue;
        r->owed = false;
        n->reps_owed--;
        if (!active(r))
            continue; /* lifted meanwhile */
        cut(n, r);
        ipcn__engine_in(n, &(ipcn__in){
            .kind = IPCN__IN_REPUTATION, .rep = r,
            .status = r->state == IPCN__REP_BANNED ? IPCN_FORBIDDEN
                                                   : IPCN_TOO_MANY_REQUESTS});
    }
}

void ipcn__rep_lift(ipcn_node *n, ipcn__rep *r)
{
    if (active(r))
        n->reps_active--;
    r->state = IPCN__REP_NONE;
    r->by_report = false;
    r->until_ns = 0;
    r->score = 0;
    r->score_ns = ipcn__now_mono_ns();
    r->nreports = 0;
    char who[IPCN_NAME_MAX + 48];
    ipcn__rep_subject(r, who, sizeof who);
    ipcn__warn("IPCN-REP-LIFT", "%s: quarantine of %s lifted", n->name, who);
    ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_REPUTATION, .rep = r,
                                   .status = IPCN_OK});
}

/* ---- charging ---- */

void ipcn__rep_offence(ipcn_node *n, ipcn__link *l, ipcn__offence k,
                       const char *detail)
{
    /* (No policy: a bare node of the stages' unit tests.) */
    if ((unsigned)k >= IPCN__OFF_COUNT || n->closing || !n->policy)
        return;
    const ipcn__reputation_cfg *c = cfg(n);
    uint64_t now = ipcn__now_mono_ns();
    bool charge = true;
    if (k == IPCN__OFF_RATE_LIMITED) {
        charge = now - l->rep_limited_ns >= IPCN__REP_RATE_NS ||
                 !l->rep_limited_ns;
        if (charge)
            l->rep_limited_ns = now;
    }
    ipcn__rep *r = l->who.name ? ipcn__rep_get(n, l->who.name, l->who.uid, -1)
                               : ipcn__rep_get(n, NULL, l->who.uid, l->who.pid);
    if (!r)
        return; /* out of memory: the peer goes uncharged, not refused */
    touch(n, r);
    r->pid = l->who.pid;
    if (r->evidence[k] < UINT64_MAX)
        r->evidence[k]++;
    snprintf(r->detail, sizeof r->detail, "%s: %s", ipcn__offence_name(k),
             detail ? detail : "");
    if (!charge)
        return;
    r->score -= c->penalty[k];
    if (!c->enabled || r->state == IPCN__REP_BANNED)
        return;
    if (ipcn__rep_white(n, r, &l->who))
        return;
    if (r->score < c->ban_below)
        ipcn__rep_quarantine(n, r, true, false);
    else if (r->state == IPCN__REP_NONE && r->score < c->quarantine_below)
        ipcn__rep_quarantine(n, r, false, false);
}

/* ---- admission ---- */

static int refuse(ipcn_node *n, ipcn__link *l, int status, uint64_t retry_ms,
                  const char *why)
{
    n->stats.links_refused_quarantine++;
    /* A line a second at most: the peer may connect in a loop. */
    uint64_t now = ipcn__now_mono_ns();
    if (now >= n->rep_log.next_ns) {
        ipcn__info("IPCN-REP-REFUSE", "%s: refused a link from %s (uid %d "
                   "pid %d): %d %s; %llu more refused in the last second",
                   n->name, l->who.name ? l->who.name : "(no hello yet)",
                   (int)l->who.uid, (int)l->who.pid, status, why,
                   (unsigned long long)n->rep_log.suppressed);
        n->rep_log.suppressed = 0;
        n->rep_log.next_ns = now + 1000000000ull;
    } else {
        n->rep_log.suppressed++;
    }
    ipcn__rep_send_refusal(n, l, status, retry_ms, why);
    ipcn__link_close(n, l, status, why);
    return status;
}

int ipcn__rep_admit(ipcn_node *n, ipcn__link *l)
{
    const ipcn__reputation_cfg *c = cfg(n);
    if (!n->reps_active && !c->nblack)
        return IPCN_OK;
    char why[IPCN__REP_DETAIL + 64];
    if (c->nblack) {
        int m = match_any(n, c->black, c->nblack, &l->who);
        /* At accept, a selector that needs the name or the executable
         * waits for the hello; at hello, one that cannot be decided
         * refuses as a deny rule would (201). */
        if (m > 0 || (m < 0 && l->who.name))
            return refuse(n, l, m > 0 ? IPCN_FORBIDDEN : IPCN_UNAUTHORIZED, 0,
                          m > 0 ? "black-listed"
                                : "perhaps black-listed (cannot tell)");
    }
    if (!n->reps_active)
        return IPCN_OK;
    uint64_t now = ipcn__now_mono_ns();
    ipcn__rep *r = ipcn__rep_find(n, NULL, l->who.uid, l->who.pid);
    if (!(r && active(r)) && l->who.name)
        r = ipcn__rep_find(n, l->who.name, l->who.uid, -1);
    if (!r || !active(r))
        return IPCN_OK;
    int st;
    uint64_t ms = refusal(r, now, &st, why, sizeof why);
    return refuse(n, l, st, ms, why);
}

uint64_t ipcn__rep_dial_after(ipcn_node *n, const char *name, uint64_t now)
{
    if (!n->reps_active)
        return 0;
    uint64_t after = 0;
    ipcn__rep *r;
    ipcn__list_for_each(r, t, &n->reps, ipcn__rep, entry) {
        if (!r->name || strcmp(r->name, name))
            continue;
        ipcn__rep_refresh(n, r, now);
        if (active(r) && r->until_ns > after)
            after = r->until_ns;
    }
    return after;
}

