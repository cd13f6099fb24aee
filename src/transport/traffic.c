/* SPDX-License-Identifier: MIT */
/*
 * traffic.c — the picture of normal traffic and the anomaly rule
 * (traffic.h).  A rule of the gate stage: the link hands each checked and
 * routed frame here before the engine's entry, so every verb is counted in
 * one place, whatever its handler decides afterwards.
 *
 * The normal rate of an entry is an exponentially weighted mean of the
 * frames of its one-second windows (the plain mean over the first ones,
 * so that a new peer has a fair normal from the start).  A window over the
 * anomaly bound leaves the normal as it was, or an episode would teach the
 * normal its own rate within seconds; a level that stays over it for
 * IPCN_TRAFFIC_ACCEPT_NS becomes the normal.  An episode starts when the
 * windows stay over the bound for the policy's anomaly time, and ends
 * with the first window under it: one offence per episode.
 */
#include <stdio.h>
#include <string.h>

#include "node/node.h"
#include "policy/policy.h"
#include "transport/link.h"
#include "transport/reputation.h"
#include "transport/traffic.h"

const char *ipcn__tverb_name(unsigned v)
{
    static const char *const names[IPCN__TV_COUNT] = {"request", "query",
                                                      "set", "sample"};
    return v < IPCN__TV_COUNT ? names[v] : "?";
}

double ipcn__tstat_bound(const ipcn__tstat *t, double factor)
{
    return factor * (t->rate > IPCN_TRAFFIC_FLOOR ? t->rate
                                                  : IPCN_TRAFFIC_FLOOR);
}

/* Fold one window of rate_w frames/s that ended at end. */
static bool fold_one(ipcn__tstat *t, double rate_w, uint64_t end,
                     const ipcn__tparams *tp)
{
    bool started = false;
    bool over = tp->factor > 0 && t->windows >= IPCN_TRAFFIC_WARMUP &&
                rate_w > ipcn__tstat_bound(t, tp->factor);
    t->rate_now = rate_w;
    if (t->windows < UINT32_MAX)
        t->windows++;
    if (over) {
        if (!t->over_since_ns)
            t->over_since_ns = end - IPCN_TRAFFIC_WINDOW_NS;
        if (!t->anomalous && end - t->over_since_ns >= tp->for_ns) {
            t->anomalous = true;
            t->episodes++;
            started = true;
        }
        if (end - t->over_since_ns < IPCN_TRAFFIC_ACCEPT_NS)
            return started; /* the normal stays */
        t->rate = rate_w;   /* a new level: the normal now */
        t->over_since_ns = 0;
        t->anomalous = false;
        return started;
    }
    t->over_since_ns = 0;
    t->anomalous = false;
    /* The plain mean over the first windows, then weighted. */
    double a = 1.0 / (double)t->windows;
    if (a < IPCN_TRAFFIC_ALPHA)
        a = IPCN_TRAFFIC_ALPHA;
    t->rate += a * (rate_w - t->rate);
    return started;
}

bool ipcn__tstat_fold(ipcn__tstat *t, uint64_t now, const ipcn__tparams *tp)
{
    if (!t->count || now < t->win_start_ns + IPCN_TRAFFIC_WINDOW_NS)
        return false;
    uint64_t k = (now - t->win_start_ns) / IPCN_TRAFFIC_WINDOW_NS;
    uint64_t end = t->win_start_ns + IPCN_TRAFFIC_WINDOW_NS;
    bool started = fold_one(t, (double)t->win_count, end, tp);
    /* The empty windows since: after 64 of them the normal is within a
     * thousandth of nothing, which the rest make it. */
    for (uint64_t i = 1; i < k && i <= 64; i++)
        fold_one(t, 0, end + i * IPCN_TRAFFIC_WINDOW_NS, tp);
    if (k > 65) {
        t->rate = 0;
        uint64_t w = t->windows + (k - 65);
        t->windows = w < UINT32_MAX ? (uint32_t)w : UINT32_MAX;
    }
    t->win_start_ns += k * IPCN_TRAFFIC_WINDOW_NS;
    t->win_count = 0;
    return started;
}

bool ipcn__tstat_frame(ipcn__tstat *t, uint64_t now, uint64_t len,
                       const ipcn__tparams *tp)
{
    bool started = false;
    if (!t->count)
        t->win_start_ns = now;
    else
        started = ipcn__tstat_fold(t, now, tp);
    t->count++;
    t->bytes += len;
    t->last_ns = now;
    if (t->win_count < UINT32_MAX)
        t->win_count++;
    /* The plain mean over the first frames, then weighted (no division
     * per frame after those). */
    double b = t->count < 16 ? 1.0 / (double)t->count : IPCN_TRAFFIC_BETA;
    t->size += b * ((double)len - t->size);
    return started;
}

static void params(const ipcn_node *n, ipcn__tparams *tp)
{
    const ipcn__policy *p = n->policy;
    tp->factor = p ? p->guard.detect.anomaly_factor : 0;
    tp->for_ns = p ? p->guard.detect.anomaly_ms * 1000000ull : 0;
}

/* Is t the entry of (path, v)?  Paths of one peer often differ only at
 * their end: that byte first. */
static inline bool same(const ipcn__tstat *t, const ipcn__str *path,
                        unsigned v)
{
    return t->path && t->verb == v && t->path_len == path->len &&
           path->len && t->path[path->len - 1] == path->p[path->len - 1] &&
           !memcmp(t->path, path->p, path->len);
}

/* The entry of (path, v): found, or made (in a free place, or one idle
 * long enough), or the rest's. */
static ipcn__tstat *entry(ipcn__traffic *tr, const ipcn__str *path,
                          unsigned v, uint64_t now)
{
    ipcn__tstat *t = &tr->paths[tr->last];
    if (same(t, path, v))
        return t;
    for (uint32_t i = 0; i < tr->used; i++) {
        t = &tr->paths[i];
        if (same(t, path, v)) {
            tr->last = i;
            return t;
        }
    }
    /* A new one: only a valid path is kept (and later shown). */
    if (ipcn__path_check(path->p, path->len) != IPCN_OK)
        return &tr->rest[v];
    uint32_t at = tr->used;
    if (at == IPCN_TRAFFIC_PATHS) {
        uint64_t oldest = UINT64_MAX;
        for (uint32_t i = 0; i < IPCN_TRAFFIC_PATHS; i++)
            if (tr->paths[i].last_ns < oldest) {
                oldest = tr->paths[i].last_ns;
                at = i;
            }
        if (now - oldest < IPCN_TRAFFIC_IDLE_NS)
            return &tr->rest[v];
        ipcn__free(tr->paths[at].path);
    }
    t = &tr->paths[at];
    memset(t, 0, sizeof *t);
    t->path = ipcn__malloc((size_t)path->len + 1);
    if (!t->path)
        return &tr->rest[v]; /* a free place stays free */
    memcpy(t->path, path->p, path->len);
    t->path[path->len] = 0;
    t->path_len = path->len;
    t->verb = (uint8_t)v;
    if (at == tr->used)
        tr->used++;
    tr->last = at;
    return t;
}

/* An episode started: the peer's misbehaviour, charged once. */
static void anomaly(ipcn_node *n, ipcn__link *l, const ipcn__tstat *t,
                    const ipcn__tparams *tp)
{
    char detail[160];
    snprintf(detail, sizeof detail,
             "%s of %.96s at %.0f/s, over %gx its normal %.1f/s",
             ipcn__tverb_name(t->verb), t->path ? t->path : "*", t->rate_now,
             tp->factor, t->rate);
    ipcn__warn("IPCN-TRAFFIC-ANOMALY",
               "%s: peer %s (uid %d): %s for %.1f s (mean %.0f bytes; "
               "episode %llu)",
               n->name, l->who.name ? l->who.name : "?", (int)l->who.uid,
               detail, (double)tp->for_ns / 1e9, t->size,
               (unsigned long long)t->episodes);
    /* The one place an episode starts: charged once.  It may close l (a
     * quarantine): the callers look at l->state after it. */
    ipcn__rep_offence(n, l, IPCN__OFF_ANOMALY, detail);
}

void ipcn__traffic_in(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__str *path;
    uint64_t len;
    unsigned v;
    switch (f->hdr.type) {
    case IPCN_F_SAMPLE:
        v = IPCN__TV_SAMPLE;
        path = &f->u.sample.path;
        len = f->u.sample.data.len;
        break;
    case IPCN_F_SHM_SAMPLE:
        v = IPCN__TV_SAMPLE;
        path = &f->u.shm_sample.path;
        len = f->u.shm_sample.len;
        break;
    case IPCN_F_REQUEST:
    case IPCN_F_QUERY:
        v = f->hdr.type == IPCN_F_REQUEST ? IPCN__TV_REQUEST : IPCN__TV_QUERY;
        path = &f->u.request.path;
        len = f->u.request.data.len;
        break;
    case IPCN_F_SHM_REQUEST:
        v = IPCN__TV_REQUEST;
        path = &f->u.shm_sample.path;
        len = f->u.shm_sample.len;
        break;
    case IPCN_F_SET:
        v = IPCN__TV_SET;
        path = &f->u.set.path;
        len = f->u.set.data.len;
        break;
    default:
        return;
    }
    ipcn__traffic *tr = l->traffic;
    if (!tr) {
        if (!(tr = ipcn__calloc(1, sizeof *tr)))
            return; /* counted from the next frame on */
        l->traffic = tr;
    }
    uint64_t now = n->round_ns ? n->round_ns : ipcn__now_mono_ns();
    ipcn__tparams tp;
    params(n, &tp);
    ipcn__tstat *t = entry(tr, path, v, now);
    t->verb = (uint8_t)v;
    if (ipcn__tstat_frame(t, now, len, &tp))
        anomaly(n, l, t, &tp);
}

void ipcn__traffic_settle(ipcn_node *n, ipcn__link *l, uint64_t now)
{
    ipcn__traffic *tr = l->traffic;
    if (!tr)
        return;
    ipcn__tparams tp;
    params(n, &tp);
    for (uint32_t i = 0; i < tr->used; i++)
        if (tr->paths[i].path &&
            ipcn__tstat_fold(&tr->paths[i], now, &tp))
            anomaly(n, l, &tr->paths[i], &tp);
    for (unsigned v = 0; v < IPCN__TV_COUNT; v++)
        if (ipcn__tstat_fold(&tr->rest[v], now, &tp))
            anomaly(n, l, &tr->rest[v], &tp);
}

void ipcn__traffic_free(ipcn__link *l)
{
    ipcn__traffic *tr = l->traffic;
    if (!tr)
        return;
    for (uint32_t i = 0; i < tr->used; i++)
        ipcn__free(tr->paths[i].path);
    ipcn__free(tr);
    l->traffic = NULL;
}
