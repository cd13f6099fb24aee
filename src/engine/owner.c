/* SPDX-License-Identifier: MIT */
/*
 * owner.c — several providers of one data or stream path
 * (ipcnet_redundancy.h): the group of the providers of each owned path
 * this node knows (its peers' that announced it owned, and its own), the
 * rank that makes one of them the owner, what follows a change of owner
 * (the link watched, the application's event), and who a query or set of
 * an owned data path goes to.
 *
 * A group is ranked again, over its members only, whenever one of them
 * changes: an announce or withdraw, a link that goes, a policy that
 * re-decides who may provide the path, this node's own announce or
 * withdraw.  The rank is strength (highest first), then node name
 * (bytewise, ascending): every node that knows the same providers finds
 * the same owner.  A member the policy refuses (r->denied) is never
 * ranked, whatever strength it claims.
 */
#include <string.h>

#include "engine/engine.h"
#include "ipcnet_redundancy.h"

typedef struct ipcn__owngroup {
    ipcn__hnode hnode;      /* in node->owngroups, by path */
    char *path;
    ipcn_kind kind;         /* of its first member */
    ipcn__list members;     /* ipcn__remote, by group_entry */
    ipcn__local *local;     /* this node's own, announced owned, or NULL */
    /* The owner now: this node (self), a remote (owner), or none. */
    bool self;
    ipcn__remote *owner;
    uint64_t changes;
    /* The owner's link this node watches (l->owning), or 0: only while
     * this node takes the path (group_wanted()). */
    uint32_t watch_link;
} ipcn__owngroup;

/* A candidate of a rank. */
typedef struct cand {
    bool some;
    bool self;
    ipcn__remote *r;
    int32_t strength;
    const char *name;
} cand;

static bool outranks(int32_t strength, const char *name, const cand *best)
{
    if (!best->some)
        return true;
    if (strength != best->strength)
        return strength > best->strength;
    return strcmp(name, best->name) < 0;
}

static ipcn__owngroup *group_find(ipcn_node *n, const char *path)
{
    size_t len = strlen(path);
    uint64_t h = ipcn__hash(path, len);
    for (ipcn__hnode *e = ipcn__htab_chain(&n->owngroups, h); e; e = e->next) {
        ipcn__owngroup *g = ipcn__container_of(e, ipcn__owngroup, hnode);
        if (e->hash == h && !strcmp(g->path, path))
            return g;
    }
    return NULL;
}

static ipcn__owngroup *group_get(ipcn_node *n, const char *path,
                                 ipcn_kind kind)
{
    ipcn__owngroup *g = group_find(n, path);
    if (g)
        return g;
    g = ipcn__calloc(1, sizeof *g);
    if (!g || !(g->path = ipcn__strdup(path))) {
        ipcn__free(g);
        return NULL;
    }
    g->kind = kind;
    ipcn__list_init(&g->members);
    g->hnode.hash = ipcn__hash(path, strlen(path));
    if (ipcn__htab_add(&n->owngroups, &g->hnode) != IPCN_OK) {
        ipcn__free(g->path);
        ipcn__free(g);
        return NULL;
    }
    return g;
}

static void group_free(ipcn__owngroup *g)
{
    ipcn__free(g->path);
    ipcn__free(g);
}

/* The name a member ranks by, or NULL when it is not live (its link is
 * going, or the policy refuses it). */
static const char *member_name(ipcn_node *n, const ipcn__remote *r)
{
    if (r->denied)
        return NULL;
    ipcn__link *l = ipcn__link_by_id(n, r->link_id);
    if (!l || l->state != LINK_UP || !l->who.name)
        return NULL;
    return l->who.name;
}

/* The first of g's live providers; for p (NULL: none), the first not
 * tried yet (this node's own only when allow_local), passing over those
 * avoided at now (0: none is).  *count: how many are live (NULL: not
 * wanted). */
static cand rank_first(ipcn_node *n, ipcn__owngroup *g,
                       const ipcn__pending *p, bool allow_local, uint64_t now,
                       uint32_t *count)
{
    cand best = {0};
    uint32_t k = 0;
    if (g->local && g->local->owned) {
        k++;
        if (!p || (allow_local && !ipcn__pending_tried(p, 0)))
            best = (cand){true, true, NULL, g->local->strength, n->name};
    }
    ipcn__remote *r;
    ipcn__list_for_each(r, t, &g->members, ipcn__remote, group_entry) {
        const char *name = member_name(n, r);
        if (!name)
            continue;
        k++;
        if (p && ipcn__pending_tried(p, r->link_id))
            continue;
        if (now && ipcn__provider_avoided(r, now))
            continue; /* slow or failing (choose.c): after every other */
        if (outranks(r->strength, name, &best))
            best = (cand){true, false, r, r->strength, name};
    }
    if (count)
        *count = k;
    return best;
}

/* Does this node take g's path: does a subscription of it match, or does
 * it provide the path itself (a warm standby must see its owner hang)?  A
 * query waiting for the owner has the link watched anyway (awaiting). */
static bool group_wanted(ipcn_node *n, const ipcn__owngroup *g)
{
    if (g->local)
        return true;
    size_t pl = strlen(g->path);
    ipcn__sub *s;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry)
        if (ipcn__pattern_match(s->pattern, strlen(s->pattern), g->path, pl))
            return true;
    return false;
}

static void watch_off(ipcn_node *n, ipcn__owngroup *g)
{
    if (!g->watch_link)
        return;
    ipcn__link *l = ipcn__link_by_id(n, g->watch_link);
    if (l && l->owning)
        l->owning--;
    g->watch_link = 0;
}

/* Watch the owner's link (loop.c) while this node takes the path: a hung
 * owner is then found after dead_after, and its standby takes over.  A
 * node that only heard of the path does not ping its owner. */
static void watch_on(ipcn_node *n, ipcn__owngroup *g)
{
    if (g->watch_link || !g->owner || !group_wanted(n, g))
        return;
    ipcn__link *l = ipcn__link_by_id(n, g->owner->link_id);
    if (!l)
        return;
    if (!l->owning++) /* its silence counts from now on at the earliest */
        l->owning_since_ns = ipcn__now_mono_ns();
    g->watch_link = l->id;
}

static void watch_update(ipcn_node *n, ipcn__owngroup *g)
{
    if (g->watch_link && !group_wanted(n, g))
        watch_off(n, g);
    else
        watch_on(n, g);
}

void ipcn__own_subs_changed(ipcn_node *n)
{
    for (size_t i = 0; n->owngroups.b && i <= n->owngroups.mask; i++)
        for (ipcn__hnode *e = n->owngroups.b[i]; e; e = e->next)
            watch_update(n, ipcn__container_of(e, ipcn__owngroup, hnode));
}

static void owner_off(ipcn_node *n, ipcn__owngroup *g)
{
    watch_off(n, g);
    if (g->owner) {
        g->owner->owner = false;
        g->owner = NULL;
    }
    if (g->local)
        g->local->owner = false;
    g->self = false;
}

/* Rank g again; a new owner is taken on and told. */
static void rerank(ipcn_node *n, ipcn__owngroup *g)
{
    cand c = rank_first(n, g, NULL, false, 0, NULL);
    if (c.some && c.self == g->self && c.r == g->owner) {
        watch_update(n, g); /* this node's own may have come or gone */
        return;
    }
    bool had = g->self || g->owner;
    owner_off(n, g);
    if (c.some) {
        g->self = c.self;
        if (c.self) {
            g->local->owner = true;
        } else {
            g->owner = c.r;
            c.r->owner = true;
            watch_on(n, g);
        }
    }
    if (!c.some && !had)
        return;
    g->changes++;
    if (n->closing)
        return;
    if (!c.some) {
        ipcn__queue_event_of(n, IPCN_EV_OWNER, "", 0, g->path, g->kind,
                             IPCN_SERVICE_UNAVAILABLE);
    } else if (c.self) {
        ipcn__queue_event_of(n, IPCN_EV_OWNER, n->name, n->id, g->path,
                             g->kind, IPCN_OK);
    } else {
        ipcn__link *l = ipcn__link_by_id(n, c.r->link_id);
        ipcn__queue_event_of(n, IPCN_EV_OWNER, c.name,
                             l ? l->who.node_id : 0, g->path, g->kind,
                             IPCN_OK);
    }
}

/* g lost a member: ranked again, and freed when nobody is left. */
static void group_settle(ipcn_node *n, ipcn__owngroup *g)
{
    rerank(n, g);
    if (!g->local && ipcn__list_empty(&g->members)) {
        ipcn__htab_del(&n->owngroups, &g->hnode);
        group_free(g);
    }
}

static void remote_leave(ipcn__remote *r)
{
    ipcn__list_remove(&r->group_entry);
    r->group = NULL;
}

void ipcn__own_remote_changed(ipcn_node *n, ipcn__remote *r)
{
    /* A claim the policy refused ranks nowhere, and makes no group: a peer
     * that may not provide the path must not set the group's kind. */
    bool owned = (r->ann_flags & IPCN_ANN_OWNED) && r->kind != IPCN_SERVICE &&
                 !r->denied;
    ipcn__owngroup *g = r->group;
    if (g && (!owned || g->kind != r->kind)) {
        /* (rerank() takes the owner off, and tells of it) */
        remote_leave(r);
        group_settle(n, g);
        g = NULL;
    }
    if (!owned)
        return;
    if (!g) {
        g = group_get(n, r->path, r->kind);
        if (!g)
            return; /* out of memory: taken as a plain provider */
        if (g->kind != r->kind)
            return; /* another kind under that path: not ranked with it */
        ipcn__list_insert_tail(&g->members, &r->group_entry);
        r->group = g;
    }
    rerank(n, g);
}

void ipcn__own_remote_gone(ipcn_node *n, ipcn__remote *r)
{
    ipcn__owngroup *g = r->group;
    if (!g)
        return;
    remote_leave(r);
    group_settle(n, g);
}

int ipcn__own_local_changed(ipcn_node *n, ipcn__local *lr)
{
    ipcn__owngroup *g = lr->group;
    if (!g) {
        if (!lr->owned)
            return IPCN_OK;
        g = group_get(n, lr->path, lr->kind);
        if (!g)
            return IPCN_INSUFFICIENT_MEMORY;
        g->local = lr;
        lr->group = g;
    }
    rerank(n, g);
    return IPCN_OK;
}

void ipcn__own_local_gone(ipcn_node *n, ipcn__local *lr)
{
    ipcn__owngroup *g = lr->group;
    if (!g)
        return;
    /* Ranked without it: if it owned the path, the next one takes over
     * (or none is left, and peers that rank it are told). */
    g->local = NULL;
    lr->group = NULL;
    lr->owned = false;
    lr->owner = false;
    group_settle(n, g);
}

int ipcn__own_choose(ipcn_node *n, const ipcn__pending *p, bool allow_local,
                     uint32_t *link_id)
{
    ipcn__owngroup *g = group_find(n, p->path);
    if (!g || g->kind != IPCN_DATA)
        return 0;
    uint32_t live;
    cand c = rank_first(n, g, p, allow_local, ipcn__now_mono_ns(), &live);
    if (!live)
        return 0; /* none ranked: as any data path */
    if (!c.some) /* only avoided ones are left: still asked */
        c = rank_first(n, g, p, allow_local, 0, NULL);
    if (!c.some)
        return IPCN_SERVICE_UNAVAILABLE;
    *link_id = c.self ? 0 : c.r->link_id;
    return IPCN_OK;
}

void ipcn__own_free_all(ipcn_node *n)
{
    ipcn__owngroup *g;
    for (size_t i = 0; n->owngroups.b && i <= n->owngroups.mask; i++) {
        ipcn__hnode *e = n->owngroups.b[i];
        while (e) {
            ipcn__hnode *next = e->next;
            g = ipcn__container_of(e, ipcn__owngroup, hnode);
            group_free(g);
            e = next;
        }
    }
    ipcn__htab_free(&n->owngroups);
}

/* ---- the API ---- */

IPCN_API void ipcn_announce_opts_init(ipcn_announce_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->strength = 0;
    opts->standby = IPCN_STANDBY_HOT;
}

IPCN_API int ipcn_announce_owned(ipcn_node *n, const char *path,
                                 ipcn_kind kind, const char *encoding,
                                 const void *meta, size_t meta_len,
                                 const ipcn_announce_opts *opts)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_announce_opts o;
    ipcn_announce_opts_init(&o);
    if (!n || (kind != IPCN_DATA && kind != IPCN_STREAM) ||
        (opts && ipcn__sized_in(&o, sizeof o, opts,
                                IPCN__SIZE_TO(ipcn_announce_opts, standby)) !=
                     IPCN_OK) ||
        (o.standby != IPCN_STANDBY_HOT && o.standby != IPCN_STANDBY_WARM))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = ipcn__dir_announce_owned(n, path, kind, encoding, meta, meta_len,
                                      o.strength,
                                      o.standby == IPCN_STANDBY_WARM);
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_owner_get(ipcn_node *n, const char *path,
                            ipcn_owner_info *out)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path ||
        ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_owner_info, changes)) !=
            IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__owngroup *g = group_find(n, path);
    int st = IPCN_NOT_FOUND;
    ipcn_owner_info o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    if (g && (g->self || g->owner)) {
        rank_first(n, g, NULL, false, 0, &o.providers);
        o.changes = g->changes;
        o.self = g->self;
        const char *name = NULL;
        if (g->self) {
            name = n->name;
            o.owner_id = n->id;
            o.strength = g->local->strength;
        } else {
            ipcn__link *l = ipcn__link_by_id(n, g->owner->link_id);
            name = l && l->who.name ? l->who.name : "";
            o.owner_id = l ? l->who.node_id : 0;
            o.strength = g->owner->strength;
        }
        size_t len = strlen(name);
        if (len >= sizeof o.owner)
            len = sizeof o.owner - 1;
        memcpy(o.owner, name, len);
        st = IPCN_OK;
    }
    ipcn__node_unlock(n);
    if (st == IPCN_OK)
        ipcn__sized_out(out, &o, sizeof o);
    return st;
}
