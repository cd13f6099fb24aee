/* SPDX-License-Identifier: MIT */
/*
 * guard_load.c — the policy file's "limits", "reputation", "detect" and
 * "debug" sections (guard.h documents them) -> ipcn__policy.guard.
 *
 * Read from the tree policy_load.c builds, with its helpers (policy_impl.h)
 * and its rule: fail closed.  An unknown key, a value of the wrong shape, a
 * rate, size or duration that does not parse or is out of its bounds, an
 * unknown selector or name refuses the whole file with "FILE:LINE: reason".
 *
 *   rates      "N/s", "N/min", "N/h"; bytes also "NB/s", "NKB/s", "NMB/s",
 *              "NGB/s" (10^3...) and "NKiB/s", "NMiB/s", "NGiB/s" (2^10...)
 *   durations  "Nms", "Ns", "Nmin", "Nh"
 * N is a decimal number (digits, an optional fraction), never negative,
 * written without a space before its unit.
 *
 * A section present is a section enabled (reputation.enabled,
 * detect.enabled; limits: at least one entry); an absent one keeps the
 * defaults of ipcn__guard_defaults().
 */
#include <stdio.h>
#include <string.h>

#include "policy/guard.h"
#include "policy/policy.h"
#include "policy/policy_impl.h"
#include "util/util.h"

#define LIMITS_MAX 1024u
#define COMPONENTS_MAX 256u
#define COUNT_RATE_MAX 1e9      /* requests, samples, connections a second */
#define BYTES_RATE_MAX 1e12     /* bytes a second */
#define BURST_MAX 1e9
#define QUOTA_MAX 1000000       /* inflight, subscriptions, announcements */
#define SCORE_MAX 1000000000    /* |quarantine_below|, |ban_below| */
#define PENALTY_MAX 100000
#define AGREE_MAX 64
#define DURATION_MAX_MS (30ull * 24 * 3600 * 1000) /* 30 days */
#define FACTOR_MAX 1e6
#define VIOLATIONS_MAX 1000000

typedef ipcn__plctx ctx;
typedef ipcn__yn yn;

/* ---- values ---- */

/* v must be a non-empty scalar (key names it in the reason). */
static int scalar(ctx *c, const yn *v, const char *key)
{
    if (v->kind != IPCN__Y_SCALAR)
        return ipcn__pl_fail(c, v->line, "%s: a value expected, not %s", key,
                             ipcn__pl_kind(v->kind));
    if (!v->len)
        return ipcn__pl_fail(c, v->line, "%s: a value expected", key);
    return IPCN_OK;
}

/* v must be a mapping (of the keys in known, NULL-ended). */
static int mapping(ctx *c, const yn *v, const char *key,
                   const char *const *known)
{
    if (v->kind != IPCN__Y_MAP)
        return ipcn__pl_fail(c, v->line, "%s: a mapping expected, not %s%s",
                             key, ipcn__pl_kind(v->kind),
                             v->kind == IPCN__Y_SCALAR && !v->len
                                 ? " (write {} for the defaults)"
                                 : "");
    return ipcn__pl_keys(c, v, key, known);
}

/* A decimal number at the start of s: digits, then optionally '.' and
 * digits (at most 12 and 9 of them: no rounding surprise, no overflow).
 * Returns the number of characters taken, 0 when there is no number.
 * By hand rather than strtod(): no locale, no hex, no exponent, no inf. */
static size_t decimal(const char *s, double *out)
{
    size_t i = 0, ni = 0, nf = 0;
    double v = 0, scale = 1;
    while (s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + (s[i++] - '0');
        ni++;
    }
    if (!ni || ni > 12)
        return 0;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9') {
            scale /= 10;
            v += (s[i++] - '0') * scale;
            nf++;
        }
        if (!nf || nf > 9)
            return 0;
    }
    *out = v;
    return i;
}

/* A whole number in [lo, hi] (a leading '-' allowed when lo < 0). */
static int integer(ctx *c, const yn *v, const char *key, int64_t lo,
                   int64_t hi, int64_t *out)
{
    int st = scalar(c, v, key);
    if (st != IPCN_OK)
        return st;
    const char *s = v->text;
    bool neg = lo < 0 && *s == '-';
    s += neg;
    int64_t n = 0;
    size_t k = 0;
    while (s[k] >= '0' && s[k] <= '9' && k < 12)
        n = n * 10 + (s[k++] - '0');
    if (!k || s[k])
        return ipcn__pl_fail(c, v->line, "%s: \"%.60s\" is not a whole number",
                             key, v->text);
    n = neg ? -n : n;
    if (n < lo || n > hi)
        return ipcn__pl_fail(c, v->line, "%s: %.60s is out of bounds (%lld to "
                             "%lld)", key, v->text, (long long)lo,
                             (long long)hi);
    *out = n;
    return IPCN_OK;
}

static int count(ctx *c, const yn *v, const char *key, uint32_t lo,
                 uint32_t hi, uint32_t *out)
{
    int64_t n;
    int st = integer(c, v, key, lo, hi, &n);
    if (st == IPCN_OK)
        *out = (uint32_t)n;
    return st;
}

/* A positive decimal number in (lo, hi]. */
static int number(ctx *c, const yn *v, const char *key, double lo, double hi,
                  double *out)
{
    int st = scalar(c, v, key);
    if (st != IPCN_OK)
        return st;
    double d;
    size_t k = decimal(v->text, &d);
    if (!k || v->text[k])
        return ipcn__pl_fail(c, v->line, "%s: \"%.60s\" is not a number",
                             key, v->text);
    if (d <= lo || d > hi)
        return ipcn__pl_fail(c, v->line, "%s: %.60s is out of bounds (more "
                             "than %.0f, at most %.0f)", key, v->text, lo, hi);
    *out = d;
    return IPCN_OK;
}

typedef struct unit {
    const char *name;
    double factor;
} unit;

/* A rate: N/s, N/min, N/h, or for bytes N<unit>/s -> per second. */
static int rate(ctx *c, const yn *v, const char *key, bool bytes,
                double *per_s)
{
    static const unit counts[] = {{"/s", 1}, {"/min", 1.0 / 60},
                                  {"/h", 1.0 / 3600}, {NULL, 0}};
    static const unit sizes[] = {
        {"/s", 1},          {"B/s", 1},           {"KB/s", 1e3},
        {"MB/s", 1e6},      {"GB/s", 1e9},        {"KiB/s", 1024.0},
        {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0}, {NULL, 0}};
    int st = scalar(c, v, key);
    if (st != IPCN_OK)
        return st;
    double n;
    size_t k = decimal(v->text, &n);
    const unit *u = bytes ? sizes : counts;
    while (k && u->name && strcmp(v->text + k, u->name))
        u++;
    if (!k || !u->name)
        return ipcn__pl_fail(c, v->line, "%s: \"%.60s\" is not a rate (%s)",
                             key, v->text,
                             bytes ? "N/s, NKB/s, NMB/s, NGB/s, NKiB/s, "
                                     "NMiB/s or NGiB/s"
                                   : "N/s, N/min or N/h");
    /* Fail closed: "0/s" reads as "none", which a bucket cannot say (it
     * would be no limit at all). */
    if (n == 0)
        return ipcn__pl_fail(c, v->line, "%s: a rate of 0 is refused: leave "
                             "the key out for no limit, or refuse with a deny "
                             "rule", key);
    double max = bytes ? BYTES_RATE_MAX : COUNT_RATE_MAX;
    if (n * u->factor > max)
        return ipcn__pl_fail(c, v->line, "%s: %.60s is more than %.0f a second",
                             key, v->text, max);
    *per_s = n * u->factor;
    return IPCN_OK;
}

/* A duration: Nms, Ns, Nmin, Nh -> milliseconds in [1, 30 days]. */
static int duration(ctx *c, const yn *v, const char *key, uint64_t *ms)
{
    static const unit units[] = {{"ms", 1}, {"s", 1e3}, {"min", 6e4},
                                 {"h", 3.6e6}, {NULL, 0}};
    int st = scalar(c, v, key);
    if (st != IPCN_OK)
        return st;
    double n;
    size_t k = decimal(v->text, &n);
    const unit *u = units;
    while (k && u->name && strcmp(v->text + k, u->name))
        u++;
    if (!k || !u->name)
        return ipcn__pl_fail(c, v->line, "%s: \"%.60s\" is not a duration "
                             "(Nms, Ns, Nmin or Nh, as 500ms, 10s, 1h)", key,
                             v->text);
    double d = n * u->factor;
    if (d < 1 || d > (double)DURATION_MAX_MS)
        return ipcn__pl_fail(c, v->line, "%s: %.60s is out of bounds (1ms to "
                             "720h)", key, v->text);
    *ms = (uint64_t)(d + 0.5);
    return IPCN_OK;
}

/* One of names (NULL-ended) -> its index. */
static int word(ctx *c, const yn *v, const char *key,
                const char *const *names, uint32_t *out)
{
    int st = scalar(c, v, key);
    if (st != IPCN_OK)
        return st;
    char list[96] = "";
    for (uint32_t i = 0; names[i]; i++) {
        if (!strcmp(v->text, names[i])) {
            *out = i;
            return IPCN_OK;
        }
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                 i ? (names[i + 1] ? ", " : " or ") : "", names[i]);
    }
    return ipcn__pl_fail(c, v->line, "%s: unknown value \"%.60s\" (%s)", key,
                         v->text, list);
}

static const char *const actions[] = {"report", "isolate", "shutdown", NULL};

/* ---- limits ---- */

static int read_limit(ctx *c, const yn *m, ipcn__policy *p, ipcn__limit *l)
{
    static const char *const keys[] = {
        "who",   "what",        "per",      "requests",      "samples",
        "bytes", "burst",       "connections", "inflight",   "subscriptions",
        "announcements", NULL};
    static const char *const pers[] = {"node", "user", NULL};
    if (m->kind != IPCN__Y_MAP)
        return ipcn__pl_fail(c, m->line, "a limit is a mapping (who, what, "
                             "requests, ...), not %s", ipcn__pl_kind(m->kind));
    int st = ipcn__pl_keys(c, m, "a limit", keys);
    if (st != IPCN_OK)
        return st;
    l->line = m->line;
    const yn *v;
    if ((v = ipcn__pl_get(m, "who")) &&
        (st = ipcn__pl_selectors(c, v, p, &l->who, &l->nwho)) != IPCN_OK)
        return st;
    if ((v = ipcn__pl_get(m, "what")) &&
        (st = ipcn__pl_patterns(c, v, &l->what, &l->nwhat)) != IPCN_OK)
        return st;
    uint32_t per = 0;
    if ((v = ipcn__pl_get(m, "per")) &&
        (st = word(c, v, "per", pers, &per)) != IPCN_OK)
        return st;
    l->per_user = per == 1;

    struct {
        const char *key;
        ipcn__rate *r;
        bool bytes;
    } rates[] = {{"requests", &l->requests, false},
                 {"samples", &l->samples, false},
                 {"bytes", &l->bytes, true},
                 {"connections", &l->connections, false}};
    bool any = false;
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(rates); i++) {
        if (!(v = ipcn__pl_get(m, rates[i].key)))
            continue;
        if ((st = rate(c, v, rates[i].key, rates[i].bytes,
                       &rates[i].r->per_s)) != IPCN_OK)
            return st;
        any = true;
    }
    struct {
        const char *key;
        uint32_t *n;
    } quotas[] = {{"inflight", &l->inflight},
                  {"subscriptions", &l->subscriptions},
                  {"announcements", &l->announcements}};
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(quotas); i++) {
        if (!(v = ipcn__pl_get(m, quotas[i].key)))
            continue;
        if ((st = count(c, v, quotas[i].key, 1, QUOTA_MAX, quotas[i].n)) !=
            IPCN_OK)
            return st;
        any = true;
    }
    if (!any)
        return ipcn__pl_fail(c, m->line, "a limit limits nothing (requests, "
                             "samples, bytes, connections, inflight, "
                             "subscriptions or announcements)");

    /* Bucket depths: burst (requests, samples), else a tenth of a second's
     * worth but at least 1; bytes one second's worth; connections one
     * second's worth but at least 1.  A rate left out (0) is no limit: no
     * depth. */
    double burst = 0;
    if ((v = ipcn__pl_get(m, "burst"))) {
        if (!ipcn__pl_get(m, "requests") && !ipcn__pl_get(m, "samples"))
            return ipcn__pl_fail(c, v->line, "burst: is the depth of requests "
                                 "and samples, and neither is given");
        if ((st = number(c, v, "burst", 0, BURST_MAX, &burst)) != IPCN_OK)
            return st;
        if (burst < 1)
            return ipcn__pl_fail(c, v->line, "burst: %.60s is less than 1",
                                 v->text);
    }
    ipcn__rate *rs[] = {&l->requests, &l->samples};
    for (size_t i = 0; i < 2; i++)
        if (rs[i]->per_s > 0)
            rs[i]->burst = burst ? burst
                                 : (rs[i]->per_s / 10 > 1 ? rs[i]->per_s / 10
                                                          : 1);
    l->bytes.burst = l->bytes.per_s;
    if (l->connections.per_s > 0)
        l->connections.burst =
            l->connections.per_s > 1 ? l->connections.per_s : 1;
    return IPCN_OK;
}

static int read_limits(ctx *c, const yn *v, ipcn__policy *p)
{
    ipcn__guard *g = &p->guard;
    if (v->kind != IPCN__Y_SEQ)
        return ipcn__pl_fail(c, v->line, "limits: a list of limits expected, "
                             "not %s", ipcn__pl_kind(v->kind));
    if (v->nkid > LIMITS_MAX)
        return ipcn__pl_fail(c, v->line, "more than %u limits", LIMITS_MAX);
    if (!v->nkid)
        return IPCN_OK;
    if (!(g->limits = ipcn__calloc(v->nkid, sizeof *g->limits)))
        return ipcn__pl_oom(c);
    for (uint32_t i = 0; i < v->nkid; i++) {
        int st = read_limit(c, v->kid[i], p, &g->limits[g->nlimits++]);
        if (st != IPCN_OK)
            return st;
    }
    return IPCN_OK;
}

/* ---- reputation ---- */

static int read_penalties(ctx *c, const yn *v, ipcn__reputation_cfg *r)
{
    const char *names[IPCN__OFF_COUNT + 1];
    for (uint32_t k = 0; k < IPCN__OFF_COUNT; k++)
        names[k] = ipcn__offence_name((ipcn__offence)k);
    names[IPCN__OFF_COUNT] = NULL;
    int st = mapping(c, v, "penalties", names);
    if (st != IPCN_OK)
        return st;
    for (uint32_t k = 0; k < IPCN__OFF_COUNT; k++) {
        const yn *n = ipcn__pl_get(v, names[k]);
        if (n && (st = count(c, n, names[k], 0, PENALTY_MAX,
                             &r->penalty[k])) != IPCN_OK)
            return st;
    }
    return IPCN_OK;
}

/* quarantine_below, ban_below: negative, ban at most quarantine. */
static int read_scores(ctx *c, const yn *m, ipcn__reputation_cfg *r)
{
    const yn *q = ipcn__pl_get(m, "quarantine_below");
    const yn *b = ipcn__pl_get(m, "ban_below");
    int64_t n;
    int st;
    if (q) {
        if ((st = integer(c, q, "quarantine_below", -SCORE_MAX, -1, &n)) !=
            IPCN_OK)
            return st;
        r->quarantine_below = (int32_t)n;
    }
    if (b) {
        if ((st = integer(c, b, "ban_below", -SCORE_MAX, -1, &n)) != IPCN_OK)
            return st;
        r->ban_below = (int32_t)n;
    }
    if (r->ban_below > r->quarantine_below)
        return ipcn__pl_fail(c, b ? b->line : q->line, "ban_below (%d) must "
                             "be at most quarantine_below (%d)",
                             (int)r->ban_below, (int)r->quarantine_below);
    return IPCN_OK;
}

static int read_reputation(ctx *c, const yn *m, ipcn__policy *p,
                           uint32_t line)
{
    static const char *const keys[] = {
        "quarantine_below", "ban_below",  "half_life", "quarantine_for",
        "quarantine_max",   "penalties",  "whitelist", "blacklist",
        "follow_reports",   "agree",      "trusted",   NULL};
    static const char *const follows[] = {"never", "trusted", "agree", "any",
                                          NULL};
    ipcn__reputation_cfg *r = &p->guard.rep;
    int st = mapping(c, m, "reputation", keys);
    if (st != IPCN_OK)
        return st;
    r->enabled = true;
    r->line = line;
    if ((st = read_scores(c, m, r)) != IPCN_OK)
        return st;
    struct {
        const char *key;
        uint64_t *ms;
    } durs[] = {{"half_life", &r->half_life_ms},
                {"quarantine_for", &r->quarantine_ms},
                {"quarantine_max", &r->quarantine_max_ms}};
    const yn *v;
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(durs); i++)
        if ((v = ipcn__pl_get(m, durs[i].key)) &&
            (st = duration(c, v, durs[i].key, durs[i].ms)) != IPCN_OK)
            return st;
    if (r->quarantine_max_ms < r->quarantine_ms) {
        /* one of the two is given: the defaults are in order */
        if (!(v = ipcn__pl_get(m, "quarantine_max")))
            v = ipcn__pl_get(m, "quarantine_for");
        return ipcn__pl_fail(c, v->line,
                             "quarantine_max (%llu ms) is shorter than "
                             "quarantine_for (%llu ms)",
                             (unsigned long long)r->quarantine_max_ms,
                             (unsigned long long)r->quarantine_ms);
    }
    if ((v = ipcn__pl_get(m, "penalties")) &&
        (st = read_penalties(c, v, r)) != IPCN_OK)
        return st;
    if ((v = ipcn__pl_get(m, "whitelist")) &&
        (st = ipcn__pl_selectors(c, v, p, &r->white, &r->nwhite)) != IPCN_OK)
        return st;
    if ((v = ipcn__pl_get(m, "blacklist")) &&
        (st = ipcn__pl_selectors(c, v, p, &r->black, &r->nblack)) != IPCN_OK)
        return st;
    if ((v = ipcn__pl_get(m, "trusted")) &&
        (st = ipcn__pl_selectors(c, v, p, &r->trusted, &r->ntrusted)) !=
            IPCN_OK)
        return st;
    uint32_t f = IPCN__FOLLOW_AGREE;
    const yn *fv = ipcn__pl_get(m, "follow_reports");
    if (fv && (st = word(c, fv, "follow_reports", follows, &f)) != IPCN_OK)
        return st;
    r->follow = (ipcn__follow)f;
    if (r->follow == IPCN__FOLLOW_TRUSTED && !r->ntrusted)
        return ipcn__pl_fail(c, fv->line, "follow_reports: trusted needs "
                             "trusted: (the reporters to follow)");
    if ((v = ipcn__pl_get(m, "agree"))) {
        if (r->follow != IPCN__FOLLOW_AGREE)
            return ipcn__pl_fail(c, v->line, "agree: only with "
                                 "follow_reports: agree");
        if ((st = count(c, v, "agree", 1, AGREE_MAX, &r->agree)) != IPCN_OK)
            return st;
    }
    return IPCN_OK;
}

/* ---- detect ---- */

static int sha256_hex(ctx *c, const yn *v, uint8_t out[32])
{
    int st = scalar(c, v, "sha256");
    if (st != IPCN_OK)
        return st;
    if (v->len != 64)
        return ipcn__pl_fail(c, v->line, "sha256: 64 hex digits expected");
    for (size_t i = 0; i < 64; i++) {
        char ch = v->text[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            return ipcn__pl_fail(c, v->line, "sha256: not hexadecimal");
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | d : d << 4);
    }
    return IPCN_OK;
}

static int read_component(ctx *c, const yn *m, ipcn__policy *p,
                          ipcn__component *k)
{
    static const char *const keys[] = {"who", "sha256", "action",
                                       "criticality", NULL};
    static const char *const crits[] = {"low", "normal", "high", "critical",
                                        NULL};
    if (m->kind != IPCN__Y_MAP)
        return ipcn__pl_fail(c, m->line, "a component is a mapping (who, "
                             "sha256, action, criticality), not %s",
                             ipcn__pl_kind(m->kind));
    int st = ipcn__pl_keys(c, m, "a component", keys);
    if (st != IPCN_OK)
        return st;
    k->line = m->line;
    const yn *v = ipcn__pl_get(m, "who");
    if (!v)
        return ipcn__pl_fail(c, m->line, "a component needs who: (its "
                             "selectors)");
    if ((st = ipcn__pl_selectors(c, v, p, &k->who, &k->nwho)) != IPCN_OK)
        return st;
    if ((v = ipcn__pl_get(m, "sha256"))) {
        if ((st = sha256_hex(c, v, k->sha256)) != IPCN_OK)
            return st;
        k->has_sha256 = true;
        p->needs_exe = true;
    }
    uint32_t a = p->guard.detect.action, crit = 1;
    if ((v = ipcn__pl_get(m, "action")) &&
        (st = word(c, v, "action", actions, &a)) != IPCN_OK)
        return st;
    k->action = (ipcn__action)a;
    if ((v = ipcn__pl_get(m, "criticality")) &&
        (st = word(c, v, "criticality", crits, &crit)) != IPCN_OK)
        return st;
    k->criticality = crit;
    return IPCN_OK;
}

static int read_components(ctx *c, const yn *v, ipcn__policy *p)
{
    ipcn__detect_cfg *d = &p->guard.detect;
    if (v->kind != IPCN__Y_SEQ)
        return ipcn__pl_fail(c, v->line, "components: a list of components "
                             "expected, not %s", ipcn__pl_kind(v->kind));
    if (v->nkid > COMPONENTS_MAX)
        return ipcn__pl_fail(c, v->line, "more than %u components",
                             COMPONENTS_MAX);
    if (!v->nkid)
        return IPCN_OK;
    if (!(d->components = ipcn__calloc(v->nkid, sizeof *d->components)))
        return ipcn__pl_oom(c);
    for (uint32_t i = 0; i < v->nkid; i++) {
        int st = read_component(c, v->kid[i], p,
                                &d->components[d->ncomponents++]);
        if (st != IPCN_OK)
            return st;
    }
    return IPCN_OK;
}

static int read_detect(ctx *c, const yn *m, ipcn__policy *p)
{
    static const char *const keys[] = {"anomaly", "violations", "action",
                                       "components", NULL};
    static const char *const anomaly_keys[] = {"factor", "for", NULL};
    static const char *const violation_keys[] = {"count", "within", NULL};
    ipcn__detect_cfg *d = &p->guard.detect;
    int st = mapping(c, m, "detect", keys);
    if (st != IPCN_OK)
        return st;
    d->enabled = true;
    d->action = IPCN__ACT_ISOLATE;
    const yn *v, *w;
    if ((v = ipcn__pl_get(m, "anomaly"))) {
        if ((st = mapping(c, v, "anomaly", anomaly_keys)) != IPCN_OK)
            return st;
        if (!(w = ipcn__pl_get(v, "factor")))
            return ipcn__pl_fail(c, v->line, "anomaly needs factor: (how many "
                                 "times the usual rate)");
        if ((st = number(c, w, "factor", 1, FACTOR_MAX,
                         &d->anomaly_factor)) != IPCN_OK)
            return st;
        d->anomaly_ms = 5000;
        if ((w = ipcn__pl_get(v, "for")) &&
            (st = duration(c, w, "for", &d->anomaly_ms)) != IPCN_OK)
            return st;
    }
    if ((v = ipcn__pl_get(m, "violations"))) {
        if ((st = mapping(c, v, "violations", violation_keys)) != IPCN_OK)
            return st;
        if ((w = ipcn__pl_get(v, "count")) &&
            (st = count(c, w, "count", 1, VIOLATIONS_MAX, &d->violations)) !=
                IPCN_OK)
            return st;
        if ((w = ipcn__pl_get(v, "within")) &&
            (st = duration(c, w, "within", &d->violations_ms)) != IPCN_OK)
            return st;
    }
    uint32_t a = IPCN__ACT_ISOLATE;
    if ((v = ipcn__pl_get(m, "action")) &&
        (st = word(c, v, "action", actions, &a)) != IPCN_OK)
        return st;
    d->action = (ipcn__action)a;
    if ((v = ipcn__pl_get(m, "components")) &&
        (st = read_components(c, v, p)) != IPCN_OK)
        return st;
    return IPCN_OK;
}

/*   debug:
 *     liveness: 10min     # the longest a node may ask its peers to wait
 *                         # for it when it is silent (IPCNET_DEBUG_LIVENESS)
 *     all: true           # every peer is waited for that long, asked or
 *                         # not (a debugger attached to any component)
 *     history: 16         # every data resource keeps its last 16
 *                         # versions (engine/history.c), 1..1024
 *     history_bytes: 1048576  # at most these bytes of values each
 *   liveness or history (or both) must be there. */
static int read_debug(ctx *c, const yn *m, ipcn__policy *p)
{
    static const char *const keys[] = {"liveness", "all", "history",
                                       "history_bytes", NULL};
    static const char *const bools[] = {"false", "true", NULL};
    int st = mapping(c, m, "debug", keys);
    if (st != IPCN_OK)
        return st;
    const yn *v = ipcn__pl_get(m, "liveness");
    const yn *h = ipcn__pl_get(m, "history");
    if (!v && !h)
        return ipcn__pl_fail(c, m->line, "debug needs liveness: (the longest "
                             "a node may ask its peers to wait for it, such "
                             "as 10min) or history: (the versions each data "
                             "resource keeps, such as 16)");
    if (v) {
        uint64_t ms;
        if ((st = duration(c, v, "liveness", &ms)) != IPCN_OK)
            return st;
        if (ms > IPCN_DEBUG_LIVENESS_MAX_MS)
            return ipcn__pl_fail(c, v->line,
                                 "liveness: %.60s is more than 24h", v->text);
        p->guard.debug_liveness_ms = ms;
    }
    uint32_t all = 0;
    if ((v = ipcn__pl_get(m, "all")) &&
        (st = word(c, v, "all", bools, &all)) != IPCN_OK)
        return st;
    p->guard.debug_all = all;
    if (h && (st = count(c, h, "history", 1, IPCN_HISTORY_MAX,
                         &p->guard.debug_history)) != IPCN_OK)
        return st;
    if ((v = ipcn__pl_get(m, "history_bytes"))) {
        int64_t b;
        if (!h)
            return ipcn__pl_fail(c, v->line, "history_bytes needs history:");
        if ((st = integer(c, v, "history_bytes", 1,
                          (int64_t)IPCN_HISTORY_BYTES_MAX, &b)) != IPCN_OK)
            return st;
        p->guard.debug_history_bytes = (uint64_t)b;
    }
    return IPCN_OK;
}

int ipcn__guard_read(ipcn__plctx *c, const ipcn__yn *root, ipcn__policy *p)
{
    int st;
    const yn *v;
    if ((v = ipcn__pl_get(root, "limits")) &&
        (st = read_limits(c, v, p)) != IPCN_OK)
        return st;
    for (uint32_t i = 0; i + 1 < root->nkid; i += 2)
        if (!strcmp(root->kid[i]->text, "reputation") &&
            (st = read_reputation(c, root->kid[i + 1], p,
                                  root->kid[i]->line)) != IPCN_OK)
            return st;
    if ((v = ipcn__pl_get(root, "detect")) &&
        (st = read_detect(c, v, p)) != IPCN_OK)
        return st;
    if ((v = ipcn__pl_get(root, "debug")) &&
        (st = read_debug(c, v, p)) != IPCN_OK)
        return st;
    return IPCN_OK;
}
