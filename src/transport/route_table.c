/* SPDX-License-Identifier: MIT */
/*
 * route_table.c — the ways to the nodes this node reaches through
 * routers (a path vector per link: what each link told is kept, so a
 * link that fails leaves the others' ways ready), the best of them
 * (fewest routers, then the lowest link id), and what a router tells its
 * links (docs/protocol.md 19.2).
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipcnet_hosts.h"
#include "node/node.h"
#include "transport/link_impl.h"
#include "transport/route.h"

/* ---- the table ---- */

ipcn__route_entry *ipcn__rt_find(const ipcn__route_table *t, uint64_t node_id)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->v[i]->node_id == node_id)
            return t->v[i];
    return NULL;
}

static void way_free(ipcn__route_way *w)
{
    ipcn__free(w->name);
    ipcn__free(w->host);
    ipcn__free(w->user);
    w->name = w->host = w->user = NULL;
}

static bool way_same(const ipcn__route_way *a, const ipcn__route_way *b)
{
    return a->link_id == b->link_id && a->npath == b->npath &&
           a->flags == b->flags && a->uid == b->uid &&
           !memcmp(a->path, b->path, a->npath * sizeof a->path[0]) &&
           !strcmp(a->name, b->name) && !strcmp(a->host, b->host) &&
           !strcmp(a->user, b->user);
}

/* Fewest routers, then the lowest link id. */
static void pick_best(ipcn__route_entry *e)
{
    e->best = -1;
    for (uint32_t i = 0; i < e->nways; i++) {
        const ipcn__route_way *w = &e->ways[i], *b;
        if (e->best < 0 || w->npath < (b = &e->ways[e->best])->npath ||
            (w->npath == b->npath && w->link_id < b->link_id))
            e->best = (int32_t)i;
    }
    if (e->best < 0) {
        e->name = e->host = e->user = NULL;
        return;
    }
    const ipcn__route_way *b = &e->ways[e->best];
    e->name = b->name;
    e->host = b->host;
    e->user = b->user;
    e->uid = b->uid;
    e->router = (b->flags & IPCN_ROUTE_ROUTER) != 0;
}

/* The best way as it is, to compare after a change (a copy of its id
 * fields; the strings are compared through way_same). */
typedef struct best_snap {
    bool any;
    ipcn__route_way w;
} best_snap;

static void snap(const ipcn__route_entry *e, best_snap *s)
{
    s->any = e->best >= 0;
    if (s->any)
        s->w = e->ways[e->best];
}

/* After a change that did not free the old best's strings. */
static int changed(const ipcn__route_entry *e, const best_snap *s)
{
    if (e->best < 0)
        return s->any ? IPCN__RT_GONE : IPCN__RT_SAME;
    if (!s->any)
        return IPCN__RT_BEST;
    return way_same(&s->w, &e->ways[e->best]) ? IPCN__RT_SAME : IPCN__RT_BEST;
}

static ipcn__route_entry *entry_new(ipcn__route_table *t, uint64_t node_id)
{
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 8;
        ipcn__route_entry **v = ipcn__realloc(t->v, cap * sizeof *v);
        if (!v)
            return NULL;
        t->v = v;
        t->cap = cap;
    }
    ipcn__route_entry *e = ipcn__calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->node_id = node_id;
    e->best = -1;
    t->v[t->n++] = e;
    return e;
}

int ipcn__rt_learn(ipcn__route_table *t, uint64_t self, uint64_t node_id,
                   const ipcn__route_way *w, ipcn__route_entry **out)
{
    *out = NULL;
    for (uint32_t i = 0; i < w->npath; i++)
        if (w->path[i] == self)
            return IPCN__RT_LOOP;
    if (node_id == self)
        return IPCN__RT_LOOP;
    ipcn__route_way nw = *w;
    nw.name = ipcn__strdup(w->name ? w->name : "");
    nw.host = ipcn__strdup(w->host ? w->host : "");
    nw.user = ipcn__strdup(w->user ? w->user : "");
    if (!nw.name || !nw.host || !nw.user) {
        way_free(&nw);
        return IPCN__RT_NOMEM;
    }
    ipcn__route_entry *e = ipcn__rt_find(t, node_id);
    if (!e && t->n >= IPCN_ROUTE_MAX_NODES) {
        way_free(&nw);
        return IPCN__RT_FULL;
    }
    if (!e && !(e = entry_new(t, node_id))) {
        way_free(&nw);
        return IPCN__RT_NOMEM;
    }
    *out = e;
    uint32_t k = 0;
    while (k < e->nways && e->ways[k].link_id != w->link_id)
        k++;
    if (k < e->nways && way_same(&e->ways[k], &nw)) {
        way_free(&nw);
        return IPCN__RT_SAME;
    }
    if (k == e->nways && e->nways == e->cap_ways) {
        uint32_t cap = e->cap_ways ? e->cap_ways * 2 : 2;
        ipcn__route_way *v = ipcn__realloc(e->ways, cap * sizeof *v);
        if (!v) {
            way_free(&nw);
            if (!e->nways)
                ipcn__rt_drop(t, e);
            *out = NULL;
            return IPCN__RT_NOMEM;
        }
        e->ways = v;
        e->cap_ways = cap;
    }
    best_snap s;
    snap(e, &s);
    /* The old way's strings live until the comparison is made. */
    ipcn__route_way old = k < e->nways ? e->ways[k] : (ipcn__route_way){0};
    e->ways[k] = nw;
    if (k == e->nways)
        e->nways++;
    pick_best(e);
    int r = changed(e, &s);
    way_free(&old);
    return r;
}

int ipcn__rt_forget(ipcn__route_table *t, uint64_t node_id, uint32_t link_id,
                    ipcn__route_entry **out)
{
    ipcn__route_entry *e = *out = ipcn__rt_find(t, node_id);
    if (!e)
        return IPCN__RT_SAME;
    uint32_t k = 0;
    while (k < e->nways && e->ways[k].link_id != link_id)
        k++;
    if (k == e->nways)
        return IPCN__RT_SAME;
    best_snap s;
    snap(e, &s);
    ipcn__route_way old = e->ways[k];
    e->ways[k] = e->ways[--e->nways];
    pick_best(e);
    int r = changed(e, &s);
    way_free(&old);
    return r;
}

void ipcn__rt_drop(ipcn__route_table *t, ipcn__route_entry *e)
{
    for (uint32_t i = 0; i < t->n; i++) {
        if (t->v[i] != e)
            continue;
        t->v[i] = t->v[--t->n];
        for (uint32_t k = 0; k < e->nways; k++)
            way_free(&e->ways[k]);
        ipcn__free(e->ways);
        ipcn__free(e);
        return;
    }
}

void ipcn__rt_link_down(ipcn__route_table *t, uint32_t link_id,
                        void (*fn)(void *ctx, ipcn__route_entry *e, int what),
                        void *ctx)
{
    /* Entries are not freed while fn may look at the table. */
    for (uint32_t i = 0; i < t->n; i++) {
        ipcn__route_entry *e = t->v[i], *same;
        int r = ipcn__rt_forget(t, e->node_id, link_id, &same);
        if (r != IPCN__RT_SAME && fn)
            fn(ctx, e, r);
    }
    for (uint32_t i = 0; i < t->n;) {
        ipcn__route_entry *e = t->v[i];
        if (!e->nways)
            ipcn__rt_drop(t, e); /* the last entry moved to i */
        else
            i++;
    }
}

bool ipcn__rt_tell(const ipcn__route_entry *e, uint32_t to_link_id,
                   int to_kind)
{
    if (e->best < 0)
        return false;
    const ipcn__route_way *b = &e->ways[e->best];
    return b->link_id != to_link_id && b->npath < IPCN_ROUTE_MAX_PATH &&
           !(b->link_kind == LINK_UNIX && to_kind == LINK_UNIX);
}

void ipcn__rt_free(ipcn__route_table *t)
{
    while (t->n)
        ipcn__rt_drop(t, t->v[t->n - 1]);
    ipcn__free(t->v);
    t->v = NULL;
    t->cap = 0;
}

/* ---- the node's side: what a router tells ---- */

ipcn__route_entry *ipcn__route_find(ipcn_node *n, uint64_t node_id)
{
    return ipcn__rt_find(&n->routes, node_id);
}

/* The link (not routed) of a node linked directly, or NULL. */
static ipcn__link *direct_link(ipcn_node *n, uint64_t node_id)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->state == LINK_UP && l->kind != LINK_ROUTED &&
            l->who.node_id == node_id)
            return l;
    return NULL;
}

ipcn__link *ipcn__route_next_hop(ipcn_node *n, uint64_t node_id)
{
    ipcn__link *l = direct_link(n, node_id);
    if (l)
        return l;
    ipcn__route_entry *e = ipcn__route_find(n, node_id);
    if (!e || e->best < 0)
        return NULL;
    l = ipcn__link_by_id(n, e->ways[e->best].link_id);
    return l && l->state == LINK_UP ? l : NULL;
}

static bool takes_routes(const ipcn__link *l)
{
    return l->state == LINK_UP && l->kind != LINK_ROUTED &&
           (l->peer_caps & IPCN_CAP_ROUTE);
}

static void send_route(ipcn_node *n, ipcn__link *to, uint64_t node_id,
                       uint8_t flags, int32_t uid, const char *name,
                       const char *host, const char *user,
                       const uint64_t *path, uint8_t npath)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    ipcn__route b = {.node_id = node_id, .flags = flags, .npath = npath,
                     .uid = uid, .name = ipcn__str_of(name ? name : ""),
                     .host = ipcn__str_of(host ? host : ""),
                     .user = ipcn__str_of(user ? user : "")};
    size_t mark = ipcn__link_tx_mark(to, 0);
    ipcn__link_commit(n, to, mark, ipcn__enc_route(&to->tx, &h, &b, path));
}

static void send_gone(ipcn_node *n, ipcn__link *to, uint64_t node_id)
{
    uint64_t self = n->id;
    send_route(n, to, node_id, IPCN_ROUTE_GONE, -1, "", "", "", &self, 1);
}

/* Tell to what e's best way is now: the way with this node appended, or
 * GONE when it is not to be told to (split horizon: what to learned from
 * us through its own way would be stale). */
static void tell_entry(ipcn_node *n, ipcn__link *to, const ipcn__route_entry *e)
{
    if (!ipcn__rt_tell(e, to->id, (int)to->kind) || to->who.node_id == e->node_id) {
        send_gone(n, to, e->node_id);
        return;
    }
    const ipcn__route_way *b = &e->ways[e->best];
    uint64_t path[IPCN_ROUTE_MAX_PATH];
    memcpy(path, b->path, b->npath * sizeof path[0]);
    path[b->npath] = n->id;
    send_route(n, to, e->node_id, b->flags, b->uid, b->name, b->host, b->user,
               path, (uint8_t)(b->npath + 1));
}

/* This host's name and the user's, told in the ROUTE of itself. */
static void self_names(ipcn_node *n)
{
    if (!n->host_name) {
        char h[IPCN_HOST_NAME_MAX + 1] = "";
        if (gethostname(h, sizeof h) != 0 || !h[0])
            snprintf(h, sizeof h, "localhost");
        h[sizeof h - 1] = 0;
        n->host_name = ipcn__strdup(h);
    }
    if (!n->user_name) {
        struct passwd pw, *res = NULL;
        char buf[1024], u[32];
        if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) != 0 || !res)
            snprintf(u, sizeof u, "%u", (unsigned)geteuid());
        n->user_name = ipcn__strdup(res ? res->pw_name : u);
    }
}

static char *user_of(int32_t uid, char *u, size_t cap)
{
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &res) == 0 && res)
        snprintf(u, cap, "%s", res->pw_name);
    else
        snprintf(u, cap, "%d", (int)uid);
    return u;
}

/* A Unix peer of this router, told to a TCP link: one router away. */
static void tell_local(ipcn_node *n, ipcn__link *to, ipcn__link *peer)
{
    char u[64];
    uint64_t self = n->id;
    send_route(n, to, peer->who.node_id, peer->router ? IPCN_ROUTE_ROUTER : 0,
               peer->who.uid, peer->who.name, n->host_name,
               user_of(peer->who.uid, u, sizeof u), &self, 1);
}

/* A Unix peer of a router came or went: the TCP links hear of it. */
static void local_changed(ipcn_node *n, ipcn__link *peer, bool up)
{
    if (!n->router || peer->kind != LINK_UNIX || !peer->who.name)
        return;
    self_names(n);
    ipcn__link *to;
    ipcn__list_for_each(to, t, &n->links, ipcn__link, node_entry) {
        if (to->kind != LINK_TCP || !takes_routes(to))
            continue;
        if (up) {
            tell_local(n, to, peer);
            continue;
        }
        const ipcn__route_entry *e = ipcn__route_find(n, peer->who.node_id);
        if (e && e->best >= 0)
            tell_entry(n, to, e);
        else
            send_gone(n, to, peer->who.node_id);
    }
}

static bool str_eq(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

/* Does the routed link vl stand for the node e's best way names? */
static bool same_identity(const ipcn__link *vl, const ipcn__route_entry *e)
{
    return str_eq(vl->expect_name, e->name) && str_eq(vl->who.host, e->host) &&
           str_eq(vl->who.user, e->user);
}

/* e's best changed (or it has none left): every link that takes routes
 * hears of it from a router; the routed link follows. */
static void best_changed(ipcn_node *n, ipcn__route_entry *e, int what)
{
    /* A node linked to us directly (a TCP peer telling of itself) is
     * told too: our other links reach it through us. */
    bool direct = direct_link(n, e->node_id) != NULL;
    if (n->router) {
        ipcn__link *to;
        ipcn__list_for_each(to, t, &n->links, ipcn__link, node_entry)
            if (takes_routes(to) && to->who.node_id != e->node_id)
                tell_entry(n, to, e);
    }
    ipcn__link *vl = e->vlink_id ? ipcn__link_by_id(n, e->vlink_id) : NULL;
    if (what == IPCN__RT_GONE) {
        e->vlink_id = 0;
        if (vl)
            ipcn__link_close(n, vl, IPCN_SERVICE_UNAVAILABLE, "no way left");
        return;
    }
    if (vl && e->best >= 0 && !same_identity(vl, e)) {
        /* The best way now names another node behind that id (another
         * name, host or user): the link made for the first one is not
         * lent to it.  A fresh one starts with the new identity. */
        e->vlink_id = 0;
        ipcn__link_close(n, vl, IPCN_SERVICE_UNAVAILABLE,
                         "its routers now name another node");
        vl = NULL;
    }
    if (!vl && !direct && e->best >= 0)
        ipcn__vlink_open(n, e);
}

static void on_way_down(void *ctx, ipcn__route_entry *e, int what)
{
    best_changed(ctx, e, what);
}

static void link_down(ipcn_node *n, ipcn__link *l)
{
    if (l->kind == LINK_ROUTED) {
        ipcn__route_entry *e = ipcn__route_find(n, l->who.node_id);
        if (e && e->vlink_id == l->id)
            e->vlink_id = 0;
        /* Silent past its time (or no HELLO back) while a way to it is
         * left: another routed link, with a fresh HELLO, at once.  No
         * change of way would ever open one again, and its node would
         * stay out of reach while the routers still know a way. */
        if (e && !e->vlink_id && e->best >= 0 && !n->closing &&
            l->close_status == IPCN_GATEWAY_TIMEOUT &&
            !direct_link(n, e->node_id))
            ipcn__vlink_open(n, e);
        return;
    }
    if (n->closing) {
        ipcn__rt_link_down(&n->routes, l->id, NULL, NULL);
        return;
    }
    ipcn__rt_link_down(&n->routes, l->id, on_way_down, n);
    if (l->who.name && l->who.node_id)
        local_changed(n, l, false);
    /* A node that was linked directly and is still reached otherwise. */
    ipcn__route_entry *e = ipcn__route_find(n, l->who.node_id);
    if (e && e->best >= 0 && !e->vlink_id)
        best_changed(n, e, IPCN__RT_BEST);
}

/* The links that closed while the table was changing, now. */
static void unbusy(ipcn_node *n)
{
    if (--n->routes.busy)
        return;
    while (n->routes.owed) {
        n->routes.owed = false;
        ipcn__link *l;
        ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
            if (!l->route_owed)
                continue;
            l->route_owed = false;
            n->routes.busy++;
            link_down(n, l);
            n->routes.busy--;
        }
    }
}

void ipcn__route_link_down(ipcn_node *n, ipcn__link *l)
{
    if (n->routes.busy) {
        /* Inside a change of the table (a way being told failed to
         * write and closed l): its ways go when that change is done, so
         * that the walk under way keeps its entries. */
        l->route_owed = true;
        n->routes.owed = true;
        return;
    }
    n->routes.busy++;
    link_down(n, l);
    unbusy(n);
}

/* A name, host or user a router told: as a node name (no spaces, no
 * ':' or '@', which principals and names are made of). */
static bool told_name_ok(ipcn__str s)
{
    return s.len && ipcn__name_check(s.p, s.len) == IPCN_OK &&
           !memchr(s.p, ':', s.len) && !memchr(s.p, '@', s.len);
}

static void on_route(ipcn_node *n, ipcn__link *l, const ipcn__route *r);

void ipcn__route_on_route(ipcn_node *n, ipcn__link *l, const ipcn__route *r)
{
    if (!(r->flags & IPCN_ROUTE_GONE) &&
        (!told_name_ok(r->name) || !told_name_ok(r->host) ||
         (r->user.len && !told_name_ok(r->user)))) {
        l->bad_frames++;
        n->stats.bad_frames++;
        ipcn__warn("IPCN-ROUTE-NAME", "%s: a ROUTE from %s names node %016llx "
                   "with an invalid name, host or user: not kept", n->name,
                   l->who.name ? l->who.name : "?",
                   (unsigned long long)r->node_id);
        return;
    }
    n->routes.busy++;
    on_route(n, l, r);
    unbusy(n);
}

static void on_route(ipcn_node *n, ipcn__link *l, const ipcn__route *r)
{
    ipcn__route_entry *e;
    int what;
    if (r->flags & IPCN_ROUTE_GONE) {
        what = ipcn__rt_forget(&n->routes, r->node_id, l->id, &e);
    } else {
        ipcn__route_way w = {.link_id = l->id, .link_kind = (uint8_t)l->kind,
                             .flags = r->flags & IPCN_ROUTE_ROUTER,
                             .npath = r->npath, .uid = r->uid,
                             .name = (char *)r->name.p,
                             .host = (char *)r->host.p,
                             .user = (char *)r->user.p};
        for (uint32_t i = 0; i < r->npath; i++)
            w.path[i] = ipcn__wire_path_at(r->path, i);
        /* A TCP peer telling of itself or of its Unix peers: their host
         * is what our trust list calls it, not what it says. */
        if (l->kind == LINK_TCP && r->npath == 1 && l->who.host)
            w.host = l->who.host;
        what = ipcn__rt_learn(&n->routes, n->id, r->node_id, &w, &e);
    }
    /* A TCP peer's ROUTE about itself says the user it runs as: its
     * principal's (host:user, the host from our trust list). */
    if (l->kind == LINK_TCP && r->node_id == l->who.node_id &&
        !(r->flags & IPCN_ROUTE_GONE) && r->user.len &&
        (!l->who.user || strcmp(l->who.user, r->user.p) != 0)) {
        char *u = ipcn__strdup(r->user.p);
        if (u) {
            ipcn__free(l->who.user);
            l->who.user = u;
        }
    }
    if (what == IPCN__RT_LOOP) {
        n->stats.loops++;
        return;
    }
    if (what == IPCN__RT_FULL) {
        if (!n->routes.full_told)
            ipcn__warn("IPCN-ROUTE-FULL", "%s: ways to %u nodes kept already: "
                       "node %016llx (told by %s) and any other new one "
                       "refused", n->name, IPCN_ROUTE_MAX_NODES,
                       (unsigned long long)r->node_id,
                       l->who.name ? l->who.name : "?");
        n->routes.full_told = true;
        return;
    }
    if (what == IPCN__RT_NOMEM) {
        ipcn__warn("IPCN-ROUTE-NOMEM", "%s: a way to node %016llx not kept: "
                   "out of memory", n->name, (unsigned long long)r->node_id);
        return;
    }
    if (what == IPCN__RT_SAME || !e)
        return;
    best_changed(n, e, what);
    if (what == IPCN__RT_GONE)
        ipcn__rt_drop(&n->routes, e);
}

void ipcn__route_enable(ipcn_node *n)
{
    if (n->router)
        return;
    n->router = true;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        ipcn__route_link_up(n, l);
}

static void link_up(ipcn_node *n, ipcn__link *l);

void ipcn__route_link_up(ipcn_node *n, ipcn__link *l)
{
    if (!n->router || l->kind == LINK_ROUTED || l->state != LINK_UP)
        return;
    n->routes.busy++;
    link_up(n, l);
    unbusy(n);
}

static void link_up(ipcn_node *n, ipcn__link *l)
{
    self_names(n);
    local_changed(n, l, true); /* a Unix peer: the TCP links hear of it */
    if (!takes_routes(l))
        return;
    uint64_t self = n->id;
    send_route(n, l, n->id, IPCN_ROUTE_ROUTER, (int32_t)geteuid(), n->name,
               n->host_name, n->user_name, &self, 1);
    ipcn__link *p;
    ipcn__list_for_each(p, pt, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP)
            return;
        if (l->kind == LINK_TCP && p->kind == LINK_UNIX &&
            p->state == LINK_UP && p != l)
            tell_local(n, l, p);
    }
    for (uint32_t i = 0; i < n->routes.n && l->state == LINK_UP; i++) {
        const ipcn__route_entry *e = n->routes.v[i];
        if (ipcn__rt_tell(e, l->id, (int)l->kind) &&
            e->node_id != l->who.node_id)
            tell_entry(n, l, e);
    }
}

void ipcn__route_free_all(ipcn_node *n)
{
    ipcn__rt_free(&n->routes);
    ipcn__wbuf_free(&n->fwd_buf);
    ipcn__free(n->host_name);
    ipcn__free(n->user_name);
    n->host_name = n->user_name = NULL;
}
