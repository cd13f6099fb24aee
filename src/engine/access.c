/* SPDX-License-Identifier: MIT */
/*
 * access.c — who may do what with this node's resources, as the verbs
 * ask it: the gate (transport/gate.c) decides, this file keeps the
 * decisions of the last peers per resource (valid while n->policy_gen
 * stays), turns them into what a peer is told, and holds what a provider
 * and its groups add to the network policy:
 *
 *   - a peer that may not READ a resource is never told of it, gets none
 *     of its samples, and gets 203 for it, as if it did not exist;
 *   - one that may read it but not use it gets 202, or 201 when the rule
 *     that decides needs what the node could not establish of it;
 *   - providers' rules (ipcn_resource_set_access()) only narrow, and its
 *     run-time groups (ipcn_group_*()) are named by those rules.
 *
 * Whatever changes a decision (a reload, a provider's rules, a group)
 * moves n->policy_gen and tells each peer of what it may now see or no
 * longer see (announce, withdraw).
 */
#include <string.h>

#include "engine/engine.h"
#include "engine/router.h"

#define ACCESS_MAX_RULES 64   /* a provider's rules per path */
#define ACCESS_MAX_PATHS 4096 /* paths with rules, per node */
#define GROUPS_MAX 256        /* run-time groups per node */
#define GROUP_MAX_MEMBERS 256

/* A provider's rules for one path (announced yet or not). */
typedef struct ipcn__access {
    ipcn__list entry;
    char *path;
    ipcn__rule *rules;
    uint32_t nrules;
} ipcn__access;

static uint32_t access_count(ipcn_node *n)
{
    uint32_t k = 0;
    for (const ipcn__list *e = n->access.next; e != &n->access; e = e->next)
        k++;
    return k;
}

static ipcn__access *access_find(ipcn_node *n, const char *path)
{
    ipcn__access *a;
    ipcn__list_for_each(a, t, &n->access, ipcn__access, entry)
        if (!strcmp(a->path, path))
            return a;
    return NULL;
}

static void access_free(ipcn__access *a)
{
    for (uint32_t i = 0; i < a->nrules; i++)
        ipcn__rule_clear(&a->rules[i]);
    ipcn__free(a->rules);
    ipcn__free(a->path);
    ipcn__free(a);
}

static int vindex(uint32_t verb)
{
    return verb == IPCN__V_READ ? 0 : verb == IPCN__V_WRITE ? 1 : 2;
}

/* The decision for l and verb on lr, from the cache or the gate. */
static const ipcn__decision *decide(ipcn_node *n, ipcn__link *l,
                                    ipcn__local *lr, uint32_t verb)
{
    int v = vindex(verb);
    struct ipcn__acache *c = NULL;
    for (int i = 0; i < IPCN_ACACHE_WAYS; i++) {
        if (lr->acache[i].link_id == l->id &&
            lr->acache[i].gen == n->policy_gen) {
            c = &lr->acache[i];
            break;
        }
    }
    if (!c) {
        c = &lr->acache[lr->acache_next++ % IPCN_ACACHE_WAYS];
        c->link_id = l->id;
        c->gen = n->policy_gen;
        c->have = 0;
    }
    if (!(c->have & (1u << v))) {
        const ipcn__access *a = access_find(n, lr->path);
        ipcn__gate_decide(n, NULL, &l->who, verb, lr->path,
                          a ? a->rules : NULL, a ? a->nrules : 0, &c->d[v]);
        c->have |= (uint8_t)(1u << v);
    }
    return &c->d[v];
}

int ipcn__access_local(ipcn_node *n, ipcn__link *l, ipcn__local *lr,
                       uint32_t verb)
{
    const ipcn__decision *r = decide(n, l, lr, IPCN__V_READ), *d = r;
    uint32_t asked = IPCN__V_READ;
    int st;
    if (r->status != IPCN_OK) {
        /* Not to be read: not there at all for this peer. */
        st = r->status == IPCN_FORBIDDEN ? IPCN_NOT_FOUND : r->status;
    } else if (verb == IPCN__V_READ) {
        st = IPCN_OK;
    } else {
        d = decide(n, l, lr, verb);
        st = d->status;
        asked = verb;
        if (st == IPCN_OK && !d->audited && r->audited) {
            d = r; /* what audit let through is the read */
            asked = IPCN__V_READ;
        }
    }
    if (st != IPCN_OK || d->audited)
        ipcn__gate_count(n, l, asked, lr->path, d, st);
    return st;
}

bool ipcn__access_visible(ipcn_node *n, ipcn__link *l, ipcn__local *lr)
{
    return decide(n, l, lr, IPCN__V_READ)->status == IPCN_OK;
}

int ipcn__access_provide(ipcn_node *n, ipcn__link *l, const char *path,
                         bool count)
{
    ipcn__decision d;
    int st = ipcn__gate_decide(n, NULL, &l->who, IPCN__V_PROVIDE, path, NULL,
                               0, &d);
    if (count && (st != IPCN_OK || d.audited))
        ipcn__gate_count(n, l, IPCN__V_PROVIDE, path, &d, st);
    return st;
}

int ipcn__access_self_provide(ipcn_node *n, const char *path)
{
    ipcn__decision d;
    int st = ipcn__gate_decide(n, NULL, &n->self, IPCN__V_PROVIDE, path, NULL,
                               0, &d);
    if (st != IPCN_OK)
        ipcn__warn("IPCN-POLICY-DENY", "%s: may not provide %s (%d: %s): "
                   "the network's nodes would refuse it", n->name, path, st,
                   d.why);
    return st;
}

/* ---- telling peers what they may see ---- */

/* Which of this node's resources each UP peer may see, under policy pol
 * (NULL: the current one): a bit per (link, resource), in list order.
 * NULL when there is nothing to compare (or no memory: then peers are
 * told of everything again, which is idempotent). */
static uint8_t *snapshot(ipcn_node *n, const ipcn__policy *pol)
{
    size_t nl = 0, nr = 0;
    ipcn__link *l;
    ipcn__local *lr;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        nl += l->state == LINK_UP;
    ipcn__list_for_each(lr, t2, &n->locals, ipcn__local, entry)
        nr++;
    if (!nl || !nr)
        return NULL;
    uint8_t *bits = ipcn__calloc((nl * nr + 7) / 8, 1);
    if (!bits)
        return NULL;
    size_t k = 0;
    ipcn__list_for_each(l, t3, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP)
            continue;
        ipcn__list_for_each(lr, t4, &n->locals, ipcn__local, entry) {
            const ipcn__access *a = access_find(n, lr->path);
            ipcn__decision d;
            if (ipcn__gate_decide(n, pol, &l->who, IPCN__V_READ, lr->path,
                                  a ? a->rules : NULL, a ? a->nrules : 0,
                                  &d) == IPCN_OK)
                bits[k / 8] |= (uint8_t)(1u << (k % 8));
            k++;
        }
    }
    return bits;
}

/* After a change: tell each peer of what it may now see, and withdraw
 * what it may no longer see.  before: snapshot() of before the change
 * (NULL: compare with nothing, tell all). */
static void tell_changes(ipcn_node *n, uint8_t *before)
{
    ipcn__pub_routes_changed(n, false); /* routes hold visible links */
    size_t k = 0;
    ipcn__link *l;
    ipcn__local *lr;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP)
            continue;
        ipcn__list_for_each(lr, t2, &n->locals, ipcn__local, entry) {
            bool was = before && (before[k / 8] >> (k % 8) & 1);
            bool now = ipcn__access_visible(n, l, lr);
            if (now && (!was || !before))
                ipcn__dir_send_announce(n, l, lr);
            else if (!now && (was || !before))
                ipcn__dir_send_withdraw(n, l, lr->path);
            k++;
        }
    }
    ipcn__free(before);
}

uint8_t *ipcn__access_before(ipcn_node *n)
{
    return snapshot(n, NULL);
}

void ipcn__access_changed(ipcn_node *n, uint8_t *before)
{
    tell_changes(n, before);
    ipcn__dir_recheck(n);
}

void ipcn__access_on_policy(ipcn_node *n, const ipcn__policy *old)
{
    tell_changes(n, snapshot(n, old));
    ipcn__dir_recheck(n);
}

void ipcn__access_free_all(ipcn_node *n)
{
    ipcn__list *e;
    while ((e = ipcn__list_pop(&n->access)))
        access_free(ipcn__list_entry(e, ipcn__access, entry));
    for (uint32_t i = 0; i < n->ngroups; i++)
        ipcn__group_clear(&n->groups[i]);
    ipcn__free(n->groups);
    n->groups = NULL;
    n->ngroups = 0;
}

/* ---- the provider's rules ---- */

static int rules_from(const ipcn_access_rule *in, size_t count,
                      ipcn__rule **out, const char *path)
{
    ipcn__rule *rules = ipcn__calloc(count, sizeof *rules);
    if (!rules)
        return IPCN_INSUFFICIENT_MEMORY;
    int st = IPCN_OK;
    for (size_t i = 0; i < count && st == IPCN_OK; i++) {
        ipcn__rule *r = &rules[i];
        r->line = (uint32_t)i + 1;
        r->deny = in[i].deny != 0;
        r->verbs = in[i].verbs;
        char why[256] = "";
        if (!in[i].verbs || (in[i].verbs & ~(uint32_t)(IPCN_ACCESS_READ |
                                                       IPCN_ACCESS_WRITE |
                                                       IPCN_ACCESS_EXECUTE))) {
            ipcn__err("IPCN-ACCESS-RULE", "rule %zu for %s: verbs must be "
                      "IPCN_ACCESS_READ, _WRITE, _EXECUTE (%#x)", i + 1, path,
                      in[i].verbs);
            st = IPCN_BAD_REQUEST;
        } else if (!(r->who = ipcn__calloc(1, sizeof *r->who))) {
            st = IPCN_INSUFFICIENT_MEMORY;
        } else if ((st = ipcn__selector_parse(in[i].who, r->who, why,
                                              sizeof why)) != IPCN_OK) {
            ipcn__err("IPCN-ACCESS-RULE", "rule %zu for %s: %s", i + 1, path,
                      why);
        } else {
            r->nwho = 1;
        }
    }
    if (st != IPCN_OK) {
        for (size_t i = 0; i < count; i++)
            ipcn__rule_clear(&rules[i]);
        ipcn__free(rules);
        return st;
    }
    *out = rules;
    return IPCN_OK;
}

IPCN_API int ipcn_resource_set_access(ipcn_node *n, const char *path,
                                      const ipcn_access_rule *rules,
                                      size_t count)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || (count && !rules) || count > ACCESS_MAX_RULES ||
        ipcn__path_check(path, strlen(path)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__rule *built = NULL;
    int st = count ? rules_from(rules, count, &built, path) : IPCN_OK;
    if (st != IPCN_OK)
        return st;
    ipcn__node_lock(n);
    ipcn__access *a = access_find(n, path);
    if (!a && count) {
        bool full = access_count(n) >= ACCESS_MAX_PATHS;
        if (full ||
            !(a = ipcn__calloc(1, sizeof *a)) ||
            !(a->path = ipcn__strdup(path))) {
            ipcn__free(a);
            ipcn__node_unlock(n);
            for (size_t i = 0; i < count; i++)
                ipcn__rule_clear(&built[i]);
            ipcn__free(built);
            return full ? IPCN_TOO_MANY_REQUESTS : IPCN_INSUFFICIENT_MEMORY;
        }
        ipcn__list_insert_tail(&n->access, &a->entry);
    }
    uint8_t *before = snapshot(n, NULL);
    if (a) {
        for (uint32_t i = 0; i < a->nrules; i++)
            ipcn__rule_clear(&a->rules[i]);
        ipcn__free(a->rules);
        a->rules = built;
        a->nrules = (uint32_t)count;
        if (!count) {
            ipcn__list_remove(&a->entry);
            access_free(a);
        }
    }
    n->policy_gen++;
    tell_changes(n, before);
    ipcn__node_unlock(n);
    return IPCN_OK;
}

/* ---- run-time groups ---- */

static ipcn__group *group_find(ipcn_node *n, const char *name)
{
    for (uint32_t i = 0; i < n->ngroups; i++)
        if (!strcmp(n->groups[i].name, name))
            return &n->groups[i];
    return NULL;
}

static bool policy_has_group(const ipcn_node *n, const char *name)
{
    for (uint32_t i = 0; i < n->policy->ngroups; i++)
        if (!strcmp(n->policy->groups[i].name, name))
            return true;
    return false;
}

IPCN_API int ipcn_group_create(ipcn_node *n, const char *name)
{
    if (!n || !name || ipcn__name_check(name, strlen(name)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = IPCN_OK;
    if (group_find(n, name) || policy_has_group(n, name))
        st = IPCN_CONFLICT;
    else if (n->ngroups >= GROUPS_MAX)
        st = IPCN_TOO_MANY_REQUESTS;
    if (st == IPCN_OK) {
        ipcn__group *g = ipcn__realloc(n->groups,
                                       (n->ngroups + 1) * sizeof *g);
        char *copy = ipcn__strdup(name);
        if (g)
            n->groups = g;
        if (!g || !copy) {
            ipcn__free(copy);
            st = IPCN_INSUFFICIENT_MEMORY;
        } else {
            memset(&g[n->ngroups], 0, sizeof *g);
            g[n->ngroups++].name = copy;
        }
    }
    ipcn__node_unlock(n);
    return st;
}

/* Run fn on the group, telling peers of what changed for them. */
static int group_change(ipcn_node *n, const char *name, const char *who,
                        bool add)
{
    if (!n || !name || !who)
        return IPCN_BAD_REQUEST;
    ipcn__selector s;
    char why[256] = "";
    int st = ipcn__selector_parse(who, &s, why, sizeof why);
    if (st != IPCN_OK) {
        ipcn__err("IPCN-GROUP", "group %s: %s", name, why);
        return st;
    }
    for (uint32_t i = 0; i < s.nconds; i++) {
        if (s.conds[i].kind == IPCN__C_GROUP) {
            ipcn__err("IPCN-GROUP", "group %s: a member cannot be a group "
                      "(%s)", name, who);
            ipcn__selector_clear(&s);
            return IPCN_BAD_REQUEST;
        }
    }
    char want[4200], have[4200];
    ipcn__selector_format(&s, want, sizeof want);
    ipcn__node_lock(n);
    ipcn__group *g = group_find(n, name);
    uint32_t at = UINT32_MAX;
    for (uint32_t i = 0; g && i < g->nmembers; i++) {
        ipcn__selector_format(&g->members[i], have, sizeof have);
        if (!strcmp(want, have))
            at = i;
    }
    if (!g)
        st = IPCN_NOT_FOUND;
    else if (add && at != UINT32_MAX)
        st = IPCN_OK; /* already a member */
    else if (!add && at == UINT32_MAX)
        st = IPCN_NOT_FOUND;
    else if (add && g->nmembers >= GROUP_MAX_MEMBERS)
        st = IPCN_TOO_MANY_REQUESTS;
    else {
        uint8_t *before = snapshot(n, NULL);
        if (add) {
            ipcn__selector *m = ipcn__realloc(g->members,
                                              (g->nmembers + 1) * sizeof *m);
            if (!m) {
                st = IPCN_INSUFFICIENT_MEMORY;
            } else {
                g->members = m;
                m[g->nmembers++] = s;
                s.conds = NULL;
                s.nconds = 0;
            }
        } else {
            ipcn__selector_clear(&g->members[at]);
            g->members[at] = g->members[--g->nmembers];
        }
        n->policy_gen++;
        tell_changes(n, before);
    }
    ipcn__node_unlock(n);
    ipcn__selector_clear(&s);
    return st;
}

IPCN_API int ipcn_group_add(ipcn_node *n, const char *name, const char *who)
{
    return group_change(n, name, who, true);
}

IPCN_API int ipcn_group_remove(ipcn_node *n, const char *name,
                               const char *who)
{
    return group_change(n, name, who, false);
}

IPCN_API int ipcn_group_delete(ipcn_node *n, const char *name)
{
    if (!n || !name)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__group *g = group_find(n, name);
    int st = IPCN_NOT_FOUND;
    if (g) {
        uint8_t *before = snapshot(n, NULL);
        ipcn__group_clear(g);
        *g = n->groups[--n->ngroups];
        n->policy_gen++;
        tell_changes(n, before);
        st = IPCN_OK;
    }
    ipcn__node_unlock(n);
    return st;
}

/* ---- the provider's limits (the gate enforces them: transport/limits.c) ---- */

IPCN_API int ipcn_resource_set_limits(ipcn_node *n, const char *path,
                                      const ipcn_limits *lim)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_limits o;
    if (!n || !path || ipcn__pattern_check(path, strlen(path)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (lim) {
        memset(&o, 0, sizeof o);
        if (ipcn__sized_in(&o, sizeof o, lim,
                           IPCN__SIZE_TO(ipcn_limits, inflight)) != IPCN_OK ||
            !(o.requests_per_s >= 0) || !(o.samples_per_s >= 0) ||
            !(o.bytes_per_s >= 0) || o.requests_per_s > 1e12 ||
            o.samples_per_s > 1e12 || o.bytes_per_s > 1e15 ||
            (!o.requests_per_s && !o.samples_per_s && !o.bytes_per_s &&
             !o.inflight))
            return IPCN_BAD_REQUEST;
    }
    ipcn__rate rq = {lim ? o.requests_per_s : 0, lim ? o.burst : 0};
    ipcn__rate sm = {lim ? o.samples_per_s : 0, lim ? o.burst : 0};
    ipcn__rate by = {lim ? o.bytes_per_s : 0, 0};
    ipcn__node_lock(n);
    int st = ipcn__limits_provider_set(n, path, &rq, &sm, &by,
                                       lim ? o.inflight : 0, !lim);
    ipcn__node_unlock(n);
    return st;
}
