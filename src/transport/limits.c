/* SPDX-License-Identifier: MIT */
/*
 * limits.c — rate limits and quotas of the gate stage (limits.h): which
 * limit entries apply to a link (the network policy's, whose "who"
 * matches its principal, and every provider's own), their token buckets
 * (per link, or per user for "per: user", shared by all the links of that
 * user through a small table on the node), the caps on what a peer holds
 * here, and the fair share of the node's queue of requests between users.
 *
 * A user is a uid of this host, or for a peer of another host (a TCP or
 * routed link) its "host:user": a uid of another host means nothing here,
 * and the users of two hosts must not share a budget (nor every remote
 * peer one, under whatever uid its link was given).
 *
 * A refusal is counted (node and link), logged (IPCN-LIMIT: the first of
 * each link as a warning, then at debug level) and charged to the peer as
 * an offence (ipcn__rep_offence: at most once per 100 ms per link).
 */
#include <stdio.h>
#include <string.h>

#include "policy/policy_impl.h"
#include "transport/gate.h"
#include "transport/reputation.h"
#include "transport/limits.h"
#include "util/util.h"


/* The buckets of one limit entry for one link, or for one user (per:
 * user, then in n->lim_users and shared by the links of that user). */
typedef struct ipcn__lim_state {
    ipcn__list entry;
    int32_t uid;
    char *remote;           /* "host:user" of another host's user, or NULL */
    const void *key;        /* the entry (identity only, never read) */
    uint32_t refs;
    bool shared;
    ipcn__bucket req, smp, byt;
} ipcn__lim_state;

/* What applies to one link, as of policy generation gen. */
struct ipcn__link_lim {
    uint64_t gen;
    /* The path of the last frame checked, whose hits are in e[].hit: a
     * stream's samples come one path after another, and its patterns are
     * then not walked again. */
    size_t last_len;        /* SIZE_MAX: none */
    char last_path[IPCN_PATH_MAX + 1];
    uint32_t n;
    struct {
        const ipcn__limit *lim;
        ipcn__lim_state *st;
        bool hit;           /* applies to the frame being checked */
    } e[];
};

/* One user's part of the node's queue of peers' requests (fair share). */
typedef struct ipcn__fair {
    ipcn__list entry;
    int32_t uid;
    char *remote;           /* as in ipcn__lim_state */
    uint32_t queued;        /* its requests queued or deferred here */
    uint32_t refs;          /* links that point here */
} ipcn__fair;

/* ---- users: a uid here, "host:user" of another host ---- */

/* Is the user of who the one keyed (uid, remote)? */
static bool user_is(int32_t uid, const char *remote, const ipcn__principal *who)
{
    if (!who->host)
        return !remote && uid == who->uid;
    if (!remote)
        return false;
    size_t hl = strlen(who->host);
    return !strncmp(remote, who->host, hl) && remote[hl] == ':' &&
           !strcmp(remote + hl + 1, who->user ? who->user : "");
}

/* Do two principals have the same user? */
static bool same_user(const ipcn__principal *a, const ipcn__principal *b)
{
    if (!a->host || !b->host)
        return !a->host && !b->host && a->uid == b->uid;
    return !strcmp(a->host, b->host) &&
           !strcmp(a->user ? a->user : "", b->user ? b->user : "");
}

/* The key of who's user: NULL for this host's (its uid is the key), else
 * "host:user" (allocated; *oom set when that failed). */
static char *remote_key(const ipcn__principal *who, bool *oom)
{
    *oom = false;
    if (!who->host)
        return NULL;
    const char *u = who->user ? who->user : "";
    size_t hl = strlen(who->host), ul = strlen(u);
    char *k = ipcn__malloc(hl + ul + 2);
    if (!k) {
        *oom = true;
        return NULL;
    }
    memcpy(k, who->host, hl);
    k[hl] = ':';
    memcpy(k + hl + 1, u, ul + 1);
    return k;
}

/* "uid 1000", or "host gpu, user robot", for the log. */
static const char *user_text(const ipcn__principal *who, char *buf, size_t n)
{
    if (who->host)
        snprintf(buf, n, "host %s, user %s", who->host,
                 who->user ? who->user : "?");
    else
        snprintf(buf, n, "uid %d", (int)who->uid);
    return buf;
}

/* ---- token buckets ---- */

double ipcn__bucket_depth(const ipcn__rate *r)
{
    if (r->burst > 0)
        return r->burst;
    return r->per_s >= 1 ? r->per_s : 1;
}

void ipcn__bucket_init(ipcn__bucket *b, const ipcn__rate *r, uint64_t now)
{
    b->tokens = ipcn__bucket_depth(r);
    b->at_ns = now;
}

uint32_t ipcn__bucket_wait(ipcn__bucket *b, const ipcn__rate *r, double cost,
                           uint64_t now)
{
    double depth = ipcn__bucket_depth(r);
    if (now > b->at_ns) {
        b->tokens += (double)(now - b->at_ns) * 1e-9 * r->per_s;
        if (b->tokens > depth)
            b->tokens = depth;
        b->at_ns = now;
    }
    double need = cost < depth ? cost : depth;
    if (b->tokens >= need)
        return 0;
    /* Rounded up by hand: the core links no libm. */
    double wait = (need - b->tokens) / r->per_s * 1000.0;
    if (wait >= 3600000)
        return 3600000;
    uint32_t ms = (uint32_t)wait;
    ms += (double)ms < wait;
    return ms < 1 ? 1 : ms;
}

/* ---- which entries apply to a link ---- */

static uint64_t now_ns(const ipcn_node *n)
{
    /* The I/O round's time: frames are read in rounds, and a clock read
     * per frame would cost more than the check. */
    return n->round_ns ? n->round_ns : ipcn__now_mono_ns();
}

static bool who_matches(const ipcn_node *n, const ipcn__limit *lim,
                        const ipcn__principal *who)
{
    if (!lim->nwho)
        return true;
    const ipcn__policy *p = n->policy;
    ipcn__groupset rt = {n->groups, n->ngroups, NULL};
    ipcn__groupset gs = {p->groups, p->ngroups, &rt};
    for (uint32_t i = 0; i < lim->nwho; i++)
        if (ipcn__selector_match(&lim->who[i], &gs, who, false) == 1)
            return true; /* unknown (-1) matches nothing */
    return false;
}

static bool what_matches(const ipcn__limit *lim, const char *path, size_t pl)
{
    if (!lim->nwhat)
        return true;
    for (uint32_t i = 0; i < lim->nwhat; i++)
        if (ipcn__pattern_match(lim->what[i], strlen(lim->what[i]), path, pl))
            return true;
    return false;
}

static void state_put(ipcn__lim_state *s)
{
    if (s && --s->refs == 0) {
        if (s->shared)
            ipcn__list_remove(&s->entry);
        ipcn__free(s->remote);
        ipcn__free(s);
    }
}

static ipcn__lim_state *state_get(ipcn_node *n, const ipcn__limit *lim,
                                  const ipcn__principal *who, uint64_t now)
{
    ipcn__lim_state *s;
    if (lim->per_user) {
        ipcn__list_for_each(s, t, &n->lim_users, ipcn__lim_state, entry) {
            if (s->key == lim && user_is(s->uid, s->remote, who)) {
                s->refs++;
                return s;
            }
        }
    }
    if (!(s = ipcn__calloc(1, sizeof *s)))
        return NULL;
    bool oom;
    if (lim->per_user && (s->remote = remote_key(who, &oom), oom)) {
        ipcn__free(s);
        return NULL;
    }
    s->uid = who->uid;
    s->key = lim;
    s->refs = 1;
    ipcn__bucket_init(&s->req, &lim->requests, now);
    ipcn__bucket_init(&s->smp, &lim->samples, now);
    ipcn__bucket_init(&s->byt, &lim->bytes, now);
    if (lim->per_user) {
        s->shared = true;
        ipcn__list_insert_tail(&n->lim_users, &s->entry);
    }
    return s;
}

static void link_lim_drop(ipcn__link *l)
{
    if (!l->lim)
        return;
    for (uint32_t i = 0; i < l->lim->n; i++)
        state_put(l->lim->e[i].st);
    ipcn__free(l->lim);
    l->lim = NULL;
}

/* The entries that apply to l now (worked out again when the generation
 * moved), or NULL when none does (then l->lim_free_gen says so). */
static struct ipcn__link_lim *link_lim(ipcn_node *n, ipcn__link *l)
{
    if (l->lim && l->lim->gen == n->policy_gen)
        return l->lim;
    link_lim_drop(l);
    const ipcn__guard *g = &n->policy->guard;
    uint32_t k = n->nplimits;
    for (uint32_t i = 0; i < g->nlimits; i++)
        k += who_matches(n, &g->limits[i], &l->who);
    if (!l->who.name)
        return NULL; /* not said hello yet: asked again after it */
    if (!k) {
        l->lim_free_gen = n->policy_gen;
        return NULL;
    }
    struct ipcn__link_lim *ll = ipcn__calloc(1, sizeof *ll + k * sizeof ll->e[0]);
    if (!ll)
        return NULL; /* asked again with the next frame */
    /* Buckets start full now (the clock, not the round's time, which may
     * be older than the frame that asks): never more than burst + rate x
     * the time since the peer's first frame here. */
    uint64_t now = ipcn__now_mono_ns();
    ll->gen = n->policy_gen;
    ll->last_len = SIZE_MAX;
    for (uint32_t i = 0; i < g->nlimits + n->nplimits; i++) {
        const ipcn__limit *lim = i < g->nlimits ? &g->limits[i]
                                                : &n->plimits[i - g->nlimits];
        if (i < g->nlimits && !who_matches(n, lim, &l->who))
            continue;
        ll->e[ll->n].lim = lim;
        if (!(ll->e[ll->n].st = state_get(n, lim, &l->who, now))) {
            l->lim = ll;
            link_lim_drop(l);
            return NULL;
        }
        ll->n++;
    }
    l->lim = ll;
    return ll;
}

void ipcn__limits_link_init(ipcn__link *l)
{
    l->lim_free_gen = UINT64_MAX;
}

/* ---- refusals ---- */

static void refused(ipcn_node *n, ipcn__link *l, const char *what,
                    const char *path, const ipcn__limit *lim, uint32_t retry)
{
    bool first = !l->lim_told;
    l->lim_told = true;
    l->limited_ns = now_ns(n); /* its reads shrink for a while (link.h) */
    char rule[48] = "", user[160];
    if (lim && lim->line)
        snprintf(rule, sizeof rule, " (policy line %u)", lim->line);
    else if (lim)
        snprintf(rule, sizeof rule, " (the provider's limits)");
    ipcn__log(first ? IPCN_LOG_WARN : IPCN_LOG_DEBUG, "IPCN-LIMIT",
              "%s: refused %s (%s) %s (%s)%s%s", n->name,
              l->who.name ? l->who.name : "(no name yet)",
              user_text(&l->who, user, sizeof user),
              what, path, rule,
              retry ? "; told to retry later" : "");
    /* An offence (reputation.c), charged at most once per 100 ms per link
     * there: a flood is one offence per interval, not one per frame; the
     * evidence counts each.  It may close l (a quarantine): callers look
     * at l->state. */
    ipcn__rep_offence(n, l, IPCN__OFF_RATE_LIMITED, what);
}

/* Which entries of ll apply to path (e[].hit): from the last frame's when
 * it was of the same path. */
static void hits(struct ipcn__link_lim *ll, const char *path)
{
    size_t pl = strlen(path);
    if (pl == ll->last_len && !memcmp(ll->last_path, path, pl))
        return;
    for (uint32_t i = 0; i < ll->n; i++)
        ll->e[i].hit = what_matches(ll->e[i].lim, path, pl);
    if (pl <= IPCN_PATH_MAX) {
        memcpy(ll->last_path, path, pl);
        ll->last_len = pl;
    } else {
        ll->last_len = SIZE_MAX;
    }
}

/* Every entry that applies to the frame let it through: take one from
 * its count bucket (requests, or samples) and the bytes from its bytes
 * bucket. */
static void take_hits(struct ipcn__link_lim *ll, bool sample, size_t bytes)
{
    for (uint32_t i = 0; i < ll->n; i++) {
        const ipcn__limit *lim = ll->e[i].lim;
        ipcn__lim_state *st = ll->e[i].st;
        if (!ll->e[i].hit)
            continue;
        if ((sample ? lim->samples.per_s : lim->requests.per_s) > 0)
            ipcn__bucket_take(sample ? &st->smp : &st->req, 1);
        if (lim->bytes.per_s > 0)
            ipcn__bucket_take(&st->byt, (double)bytes);
    }
}

int ipcn__limit_request_slow(ipcn_node *n, ipcn__link *l, const char *path,
                             size_t bytes, uint32_t *retry_ms)
{
    struct ipcn__link_lim *ll = link_lim(n, l);
    if (!ll)
        return IPCN_OK;
    uint64_t now = now_ns(n);
    uint32_t wait = 0;
    const ipcn__limit *by = NULL;
    hits(ll, path);
    for (uint32_t i = 0; i < ll->n; i++) {
        const ipcn__limit *lim = ll->e[i].lim;
        ipcn__lim_state *s = ll->e[i].st;
        if (!ll->e[i].hit)
            continue;
        uint32_t w = 0, wb = 0;
        if (lim->requests.per_s > 0)
            w = ipcn__bucket_wait(&s->req, &lim->requests, 1, now);
        if (lim->bytes.per_s > 0)
            wb = ipcn__bucket_wait(&s->byt, &lim->bytes, (double)bytes, now);
        if (wb > w)
            w = wb;
        if (w > wait) {
            wait = w;
            by = lim;
        }
    }
    if (wait) {
        l->rate_limited++;
        n->stats.rate_limited++;
        refused(n, l, "a request over its rate", path, by, wait);
        *retry_ms = wait;
        return IPCN_TOO_MANY_REQUESTS;
    }
    take_hits(ll, false, bytes);
    return IPCN_OK;
}

bool ipcn__limit_sample_slow(ipcn_node *n, ipcn__link *l, const char *path,
                             size_t bytes)
{
    struct ipcn__link_lim *ll = link_lim(n, l);
    if (!ll)
        return true;
    uint64_t now = now_ns(n);
    hits(ll, path);
    for (uint32_t i = 0; i < ll->n; i++) {
        const ipcn__limit *lim = ll->e[i].lim;
        ipcn__lim_state *s = ll->e[i].st;
        if (!ll->e[i].hit)
            continue;
        if ((lim->samples.per_s > 0 &&
             ipcn__bucket_wait(&s->smp, &lim->samples, 1, now)) ||
            (lim->bytes.per_s > 0 &&
             ipcn__bucket_wait(&s->byt, &lim->bytes, (double)bytes, now))) {
            l->samples_limited++;
            n->stats.samples_limited++;
            refused(n, l, "a sample over its rate (dropped)", path, lim, 0);
            return false;
        }
    }
    take_hits(ll, true, bytes);
    return true;
}

/* ---- caps ---- */

static ipcn__fair *fair_of(ipcn_node *n, ipcn__link *l)
{
    if (l->fair)
        return l->fair;
    ipcn__fair *f;
    ipcn__list_for_each(f, t, &n->fair_uids, ipcn__fair, entry) {
        if (user_is(f->uid, f->remote, &l->who)) {
            f->refs++;
            return l->fair = f;
        }
    }
    if (!(f = ipcn__calloc(1, sizeof *f)))
        return NULL;
    bool oom;
    if ((f->remote = remote_key(&l->who, &oom), oom)) {
        ipcn__free(f);
        return NULL;
    }
    f->uid = l->who.uid;
    f->refs = 1;
    ipcn__list_insert_tail(&n->fair_uids, &f->entry);
    return l->fair = f;
}

/* What the links of who's user hold: patterns (which 1) or resources
 * (2). */
static uint64_t user_holds(ipcn_node *n, const ipcn__principal *who,
                           int which)
{
    uint64_t k = 0;
    ipcn__link *x;
    ipcn__list_for_each(x, t, &n->links, ipcn__link, node_entry)
        if (x->state == LINK_UP && same_user(&x->who, who))
            k += which == 1 ? x->npatterns : x->resources;
    return k;
}

/* The cap of kind (0 inflight, 1 subscriptions, 2 announcements) of the
 * entries that apply to l and path: the entry it is over, or NULL. */
static const ipcn__limit *over_cap(ipcn_node *n, ipcn__link *l,
                                   const char *path, int kind)
{
    if (ipcn__limits_none(n, l))
        return NULL;
    struct ipcn__link_lim *ll = link_lim(n, l);
    size_t pl = strlen(path);
    for (uint32_t i = 0; ll && i < ll->n; i++) {
        const ipcn__limit *lim = ll->e[i].lim;
        uint32_t cap = kind == 0 ? lim->inflight
                       : kind == 1 ? lim->subscriptions
                                   : lim->announcements;
        if (!cap || !what_matches(lim, path, pl))
            continue;
        uint64_t held;
        if (kind == 0)
            held = lim->per_user && fair_of(n, l) ? l->fair->queued
                                                  : l->inflight;
        else if (lim->per_user)
            held = user_holds(n, &l->who, kind);
        else
            held = kind == 1 ? l->npatterns : l->resources;
        if (held >= cap)
            return lim;
    }
    return NULL;
}

int ipcn__limit_inflight(ipcn_node *n, ipcn__link *l, const char *path)
{
    const ipcn__limit *lim = NULL;
    const char *what = NULL;
    if (l->inflight >= IPCN_PEER_MAX_INFLIGHT) {
        what = "a request over the node's own cap of requests in flight";
    } else if (n->peer_queued >= IPCN_FAIR_QUEUE) {
        /* The queue is busy: each uid that holds part of it gets an equal
         * share, so one user's flood cannot starve another's processes. */
        ipcn__fair *f = fair_of(n, l); /* its uid's, by all its links */
        uint32_t mine = f ? f->queued : 0;
        uint32_t active = n->fair_active + (mine ? 0 : 1);
        if (active >= 2 && mine >= IPCN_FAIR_QUEUE / active)
            what = "a request over its user's fair share of the queue";
    }
    if (!what && (lim = over_cap(n, l, path, 0)))
        what = "a request over its cap of requests in flight";
    if (!what)
        return IPCN_OK;
    l->rate_limited++;
    n->stats.rate_limited++;
    refused(n, l, what, path, lim, 0);
    return IPCN_TOO_MANY_REQUESTS;
}

static int cap_refused(ipcn_node *n, ipcn__link *l, const char *what,
                       const char *path, const ipcn__limit *lim)
{
    n->meta_refused++;
    refused(n, l, what, path, lim, 0);
    return IPCN_TOO_MANY_REQUESTS;
}

int ipcn__limit_pattern(ipcn_node *n, ipcn__link *l, const char *pattern)
{
    const ipcn__limit *lim = over_cap(n, l, pattern, 1);
    return lim ? cap_refused(n, l, "a subscription over its cap", pattern, lim)
               : IPCN_OK;
}

int ipcn__limit_announce(ipcn_node *n, ipcn__link *l, const char *path)
{
    const ipcn__limit *lim = over_cap(n, l, path, 2);
    return lim ? cap_refused(n, l, "an announcement over its cap", path, lim)
               : IPCN_OK;
}

void ipcn__limit_queued(ipcn_node *n, ipcn__link *l, int delta)
{
    ipcn__fair *f = delta > 0 ? fair_of(n, l) : l->fair;
    if (delta > 0) {
        l->inflight++;
        n->peer_queued++;
        if (f && f->queued++ == 0)
            n->fair_active++;
        return;
    }
    if (!l->inflight)
        return;
    l->inflight--;
    if (n->peer_queued)
        n->peer_queued--;
    if (f && f->queued && --f->queued == 0 && n->fair_active)
        n->fair_active--;
}

void ipcn__limits_link_free(ipcn_node *n, ipcn__link *l)
{
    while (l->inflight)
        ipcn__limit_queued(n, l, -1);
    if (l->fair && --l->fair->refs == 0) {
        ipcn__list_remove(&l->fair->entry);
        ipcn__free(l->fair->remote);
        ipcn__free(l->fair);
    }
    l->fair = NULL;
    link_lim_drop(l);
}

/* ---- a provider's own limits ---- */

static void plimit_clear(ipcn__limit *lim)
{
    for (uint32_t j = 0; j < lim->nwhat; j++)
        ipcn__free(lim->what[j]);
    ipcn__free(lim->what);
    memset(lim, 0, sizeof *lim);
}

int ipcn__limits_provider_set(ipcn_node *n, const char *path,
                              const ipcn__rate *requests,
                              const ipcn__rate *samples,
                              const ipcn__rate *bytes, uint32_t inflight,
                              bool remove)
{
    uint32_t at = UINT32_MAX;
    for (uint32_t i = 0; i < n->nplimits; i++)
        if (!strcmp(n->plimits[i].what[0], path))
            at = i;
    if (remove) {
        if (at == UINT32_MAX)
            return IPCN_OK;
        plimit_clear(&n->plimits[at]);
        n->plimits[at] = n->plimits[--n->nplimits];
        n->policy_gen++;
        return IPCN_OK;
    }
    if (at == UINT32_MAX) {
        if (n->nplimits >= IPCN_PROV_LIMITS_MAX)
            return IPCN_TOO_MANY_REQUESTS;
        ipcn__limit *grown = ipcn__realloc(n->plimits,
                                           (n->nplimits + 1) * sizeof *grown);
        if (!grown)
            return IPCN_INSUFFICIENT_MEMORY;
        n->plimits = grown;
        ipcn__limit *lim = &grown[n->nplimits];
        memset(lim, 0, sizeof *lim);
        if (!(lim->what = ipcn__calloc(1, sizeof *lim->what)) ||
            !(lim->what[0] = ipcn__strdup(path))) {
            ipcn__free(lim->what);
            return IPCN_INSUFFICIENT_MEMORY;
        }
        lim->nwhat = 1;
        at = n->nplimits++;
    }
    ipcn__limit *lim = &n->plimits[at];
    lim->requests = *requests;
    lim->samples = *samples;
    lim->bytes = *bytes;
    lim->inflight = inflight;
    n->policy_gen++; /* every link works out what applies to it again */
    return IPCN_OK;
}

/* ---- connections (at accept, by uid) ---- */

/* A user's bucket of one entry's "connections" rate.  Keyed by the entry
 * and the policy generation it was read under: a reload starts afresh. */
typedef struct ipcn__conn_state {
    ipcn__list entry;
    int32_t uid;
    char *remote;           /* as in ipcn__lim_state */
    const void *key;
    uint64_t gen;
    ipcn__bucket b;
} ipcn__conn_state;

#define CONN_STATES_MAX 256 /* the least recently used go first */

static ipcn__conn_state *conn_state(ipcn_node *n, const ipcn__limit *lim,
                                    const ipcn__principal *who, uint64_t now)
{
    ipcn__conn_state *s;
    ipcn__list_for_each(s, t, &n->lim_conns, ipcn__conn_state, entry) {
        if (s->key == lim && s->gen == n->policy_gen &&
            user_is(s->uid, s->remote, who)) {
            ipcn__list_remove(&s->entry);
            ipcn__list_insert_tail(&n->lim_conns, &s->entry);
            return s;
        }
    }
    bool oom;
    char *remote = remote_key(who, &oom);
    if (oom)
        return NULL;
    if (n->nlim_conns >= CONN_STATES_MAX) {
        s = ipcn__list_entry(n->lim_conns.next, ipcn__conn_state, entry);
        ipcn__list_remove(&s->entry);
        ipcn__free(s->remote);
        n->nlim_conns--;
    } else if (!(s = ipcn__malloc(sizeof *s))) {
        ipcn__free(remote);
        return NULL;
    }
    s->remote = remote;
    s->uid = who->uid;
    s->key = lim;
    s->gen = n->policy_gen;
    ipcn__bucket_init(&s->b, &lim->connections, now);
    ipcn__list_insert_tail(&n->lim_conns, &s->entry);
    n->nlim_conns++;
    return s;
}

int ipcn__limit_connection(ipcn_node *n, ipcn__link *l)
{
    const ipcn__guard *g = &n->policy->guard;
    uint64_t now = ipcn__now_mono_ns();
    for (uint32_t i = 0; i < g->nlimits; i++) {
        const ipcn__limit *lim = &g->limits[i];
        if (lim->connections.per_s <= 0 || !who_matches(n, lim, &l->who))
            continue;
        ipcn__conn_state *s = conn_state(n, lim, &l->who, now);
        if (!s)
            continue; /* no memory: not the peer's fault */
        uint32_t retry = ipcn__bucket_wait(&s->b, &lim->connections, 1, now);
        if (!retry) {
            ipcn__bucket_take(&s->b, 1);
            continue;
        }
        char why[96];
        snprintf(why, sizeof why, "connections over %g/s (policy line %u): "
                 "retry after %u ms", lim->connections.per_s, lim->line,
                 retry);
        n->stats.links_refused++;
        char user[160];
        ipcn__log(l->lim_told ? IPCN_LOG_DEBUG : IPCN_LOG_WARN, "IPCN-LIMIT",
                  "%s: refused a connection of pid %d (%s): %s", n->name,
                  (int)l->who.pid, user_text(&l->who, user, sizeof user),
                  why);
        l->lim_told = true;
        ipcn__rep_offence(n, l, IPCN__OFF_CONNECTIONS, why);
        if (l->state == LINK_DEAD)
            return IPCN_TOO_MANY_REQUESTS; /* quarantined by it */
        ipcn__rep_send_refusal(n, l, IPCN_TOO_MANY_REQUESTS, retry, why);
        ipcn__link_close(n, l, IPCN_TOO_MANY_REQUESTS, why);
        return IPCN_TOO_MANY_REQUESTS;
    }
    return IPCN_OK;
}

void ipcn__limits_node_free(ipcn_node *n)
{
    ipcn__list *e;
    while ((e = ipcn__list_pop(&n->lim_conns))) {
        ipcn__conn_state *s = ipcn__list_entry(e, ipcn__conn_state, entry);
        ipcn__free(s->remote);
        ipcn__free(s);
    }
    n->nlim_conns = 0;
    for (uint32_t i = 0; i < n->nplimits; i++)
        plimit_clear(&n->plimits[i]);
    ipcn__free(n->plimits);
    n->plimits = NULL;
    n->nplimits = 0;
}
