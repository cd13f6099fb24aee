/* SPDX-License-Identifier: MIT */
/*
 * policy_eval.c — the decision for one principal, one verb, one path.
 *
 * Explicit deny beats allow beats the profile.  Every rule is looked at
 * and the strongest outcome wins, so the order of rules (and of files)
 * cannot change a result.  Matching is three-valued (selector.c): a rule
 * that may name the principal, but needs for it what the node could not
 * establish (an executable it could not read), decides 201 where it
 * would have decided: a deny that may match is never taken for "no
 * match", and an allow that may match is never taken for a match.
 */
#include <string.h>

#include "policy/policy.h"
#include "policy/policy_impl.h"
#include "util/util.h"

static const char *const verb_names[] = {"read", "write", "execute",
                                         "provide"};

const char *ipcn__verb_name(uint32_t verb)
{
    for (unsigned i = 0; i < 4; i++)
        if (verb == 1u << i)
            return verb_names[i];
    return "?";
}

uint32_t ipcn__verb_parse(const char *s)
{
    if (!strcmp(s, "all"))
        return IPCN__V_ALL;
    for (unsigned i = 0; i < 4; i++)
        if (!strcmp(s, verb_names[i]))
            return 1u << i;
    return 0;
}

const char *ipcn__profile_name(ipcn__profile p)
{
    return p == IPCN__PROFILE_DENY    ? "deny"
           : p == IPCN__PROFILE_AUDIT ? "audit"
                                      : "allow";
}

void ipcn__rule_clear(ipcn__rule *r)
{
    for (uint32_t i = 0; i < r->nwho; i++)
        ipcn__selector_clear(&r->who[i]);
    ipcn__free(r->who);
    for (uint32_t i = 0; i < r->nwhat; i++)
        ipcn__free(r->what[i]);
    ipcn__free(r->what);
    memset(r, 0, sizeof *r);
}

void ipcn__group_clear(ipcn__group *g)
{
    for (uint32_t i = 0; i < g->nmembers; i++)
        ipcn__selector_clear(&g->members[i]);
    ipcn__free(g->members);
    ipcn__free(g->name);
    memset(g, 0, sizeof *g);
}

ipcn__policy *ipcn__policy_new(ipcn__profile profile)
{
    ipcn__policy *p = ipcn__calloc(1, sizeof *p);
    if (p) {
        p->profile = profile;
        ipcn__guard_defaults(&p->guard);
    }
    return p;
}

void ipcn__policy_free(ipcn__policy *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->nrules; i++)
        ipcn__rule_clear(&p->rules[i]);
    ipcn__free(p->rules);
    for (uint32_t i = 0; i < p->ngroups; i++)
        ipcn__group_clear(&p->groups[i]);
    ipcn__free(p->groups);
    ipcn__guard_clear(&p->guard);
    ipcn__free(p->file);
    ipcn__free(p);
}

/* Does the rule's "who" name the principal?  1, 0 or -1 (unknown). */
static int who_match(const ipcn__rule *r, const ipcn__groupset *gs,
                     const ipcn__principal *who)
{
    int res = 0;
    for (uint32_t i = 0; i < r->nwho; i++) {
        int m = ipcn__selector_match(&r->who[i], gs, who, false);
        if (m > 0)
            return 1;
        if (m < 0)
            res = -1;
    }
    return res;
}

static bool what_match(const ipcn__rule *r, const char *path, size_t len)
{
    for (uint32_t i = 0; i < r->nwhat; i++)
        if (ipcn__pattern_match(r->what[i], strlen(r->what[i]), path, len))
            return true;
    return false;
}

/* What the rules say, strongest first: the index of a matching deny, of a
 * deny that may match, of a matching allow, of an allow that may match;
 * -1 where there is none.  path NULL: every rule applies (a provider's
 * own rules, which are for its one resource). */
typedef struct verdicts {
    int32_t deny, deny_maybe, allow, allow_maybe;
    bool allow_for_verb;     /* some allow rule names the verb */
} verdicts;

static verdicts scan(const ipcn__rule *rules, uint32_t nrules,
                     const ipcn__groupset *gs, const ipcn__principal *who,
                     uint32_t verb, const char *path, size_t len)
{
    verdicts v = {-1, -1, -1, -1, false};
    for (uint32_t i = 0; i < nrules; i++) {
        const ipcn__rule *r = &rules[i];
        if (!(r->verbs & verb) || (path && !what_match(r, path, len)))
            continue;
        v.allow_for_verb |= !r->deny;
        int32_t *hit, *maybe;
        if (r->deny) {
            hit = &v.deny;
            maybe = &v.deny_maybe;
        } else {
            hit = &v.allow;
            maybe = &v.allow_maybe;
        }
        if (*hit >= 0)
            continue; /* the first of each kind is reported */
        int m = who_match(r, gs, who);
        if (m > 0)
            *hit = (int32_t)i;
        else if (m < 0 && *maybe < 0)
            *maybe = (int32_t)i;
        if (v.deny >= 0)
            break; /* nothing beats it */
    }
    return v;
}

/* The status and rule the verdicts give; -2 in *rule: none decided. */
static int verdict(const verdicts *v, int32_t *rule, const char **why)
{
    if (v->deny >= 0) {
        *rule = v->deny;
        *why = "deny rule";
        return IPCN_FORBIDDEN;
    }
    if (v->deny_maybe >= 0) {
        *rule = v->deny_maybe;
        *why = "deny rule that needs what is not known of the peer";
        return IPCN_UNAUTHORIZED;
    }
    if (v->allow >= 0) {
        *rule = v->allow;
        *why = "allow rule";
        return IPCN_OK;
    }
    if (v->allow_maybe >= 0) {
        *rule = v->allow_maybe;
        *why = "allow rule that needs what is not known of the peer";
        return IPCN_UNAUTHORIZED;
    }
    *rule = -2;
    return 0;
}

int ipcn__policy_decide(const ipcn__policy *p, const ipcn__groupset *groups,
                        const ipcn__principal *who, uint32_t verb,
                        const char *path, size_t len, ipcn__decision *d)
{
    ipcn__groupset own = {p->groups, p->ngroups, NULL};
    const ipcn__groupset *gs = groups ? groups : &own;
    verdicts v = scan(p->rules, p->nrules, gs, who, verb, path, len);
    int st = verdict(&v, &d->rule, &d->why);
    if (d->rule == -2) {
        d->rule = -1;
        st = p->profile == IPCN__PROFILE_ALLOW ? IPCN_OK : IPCN_FORBIDDEN;
        d->why = p->profile == IPCN__PROFILE_ALLOW  ? "default allow"
                 : p->profile == IPCN__PROFILE_DENY ? "default deny"
                                                    : "default deny (audit)";
    }
    d->line = d->rule >= 0 ? p->rules[d->rule].line : 0;
    d->would = st;
    d->audited = false;
    if (p->profile == IPCN__PROFILE_AUDIT && st != IPCN_OK) {
        d->audited = true;
        st = IPCN_OK;
    }
    return d->status = st;
}

int ipcn__policy_narrow(const ipcn__rule *rules, uint32_t nrules,
                        const ipcn__groupset *groups,
                        const ipcn__principal *who, uint32_t verb,
                        ipcn__decision *d)
{
    verdicts v = scan(rules, nrules, groups, who, verb, NULL, 0);
    int st = verdict(&v, &d->rule, &d->why);
    if (d->rule == -2) {
        /* Allow rules for the verb, none of which names the principal:
         * refused (an allow list).  Deny rules only, or none: the provider
         * refuses no one else. */
        d->rule = -1;
        st = v.allow_for_verb ? IPCN_FORBIDDEN : IPCN_OK;
        d->why = v.allow_for_verb ? "no provider rule allows it"
                                  : "no provider rule names it";
    } else {
        d->why = st == IPCN_OK ? "provider allow rule"
                 : st == IPCN_FORBIDDEN ? "provider deny rule"
                 : "provider rule that needs what is not known of the peer";
    }
    d->line = d->rule >= 0 ? rules[d->rule].line : 0;
    d->would = st;
    d->audited = false;
    return d->status = st;
}
