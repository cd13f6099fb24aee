/* SPDX-License-Identifier: MIT */
/*
 * choose.c — which provider a query, request or set goes to next: this
 * node's own, a node's own service (@sys/), or among the peers that
 * provide the path the one ranked first: not avoided (a provider that
 * timed out or answered 300 IPCN_AVOID_STRIKES times in a row, for its
 * back-off), then the least loaded (our requests in flight there plus the
 * load its last answer reported), equals in turn.  Protocol 12.7.
 */
#include <string.h>

#include "engine/engine.h"
#include "engine/sys.h"

bool ipcn__pending_tried(const ipcn__pending *p, uint32_t link_id)
{
    for (uint32_t i = 0; i < p->ntried; i++)
        if (p->tried[i] == link_id)
            return true;
    return false;
}

bool ipcn__provider_avoided(const ipcn__remote *r, uint64_t now)
{
    return r->avoid_until_ns != 0 && now < r->avoid_until_ns;
}

void ipcn__provider_failed(ipcn__remote *r, uint64_t now)
{
    if (r->strikes < UINT32_MAX)
        r->strikes++;
    /* A failure during a back-off (an answer to a request sent before it,
     * or asked because nothing else remained) does not start another. */
    if (r->strikes < IPCN_AVOID_STRIKES || ipcn__provider_avoided(r, now))
        return;
    /* A new episode: the first, or the first failure after a back-off
     * with no success since (strikes are not reset by a back-off). */
    r->avoid_ms = !r->avoid_ms ? IPCN_AVOID_FIRST_MS
                  : r->avoid_ms >= IPCN_AVOID_MAX_MS / 2 ? IPCN_AVOID_MAX_MS
                                                         : r->avoid_ms * 2;
    r->avoid_until_ns = now + (uint64_t)r->avoid_ms * 1000000ull;
}

void ipcn__provider_answered(ipcn__remote *r)
{
    r->strikes = 0;
    r->avoid_ms = 0;
    r->avoid_until_ns = 0;
}

/* How loaded r looks to this node: our requests in flight there and the
 * load its last answer reported (0 before any, or from an older peer),
 * less one for each request sent to another provider since (aged()). */
static uint64_t load_of(const ipcn__remote *r)
{
    return (uint64_t)r->inflight + r->load;
}

/* Is a ranked before b?  Not avoided first, then the less loaded.  Equals:
 * no (the first found stays: the list's order rotates them). */
static bool ranks_before(const ipcn__remote *a, const ipcn__remote *b,
                         uint64_t now)
{
    bool aa = ipcn__provider_avoided(a, now), ba = ipcn__provider_avoided(b, now);
    if (aa != ba)
        return ba;
    return load_of(a) < load_of(b);
}

/* best was chosen: every other provider of its path ages by one request.
 * A reported load says how long a queue was; it drains while others are
 * asked, so the load counts down, and a provider that reported L is asked
 * again (and reports afresh) after at most L requests elsewhere: one
 * busy moment does not shut it out for good. */
static void aged(ipcn_node *n, const ipcn__remote *best)
{
    ipcn__remote *r;
    ipcn__list_for_each(r, t, &n->remotes, ipcn__remote, entry)
        if (r != best && r->load && r->kind == best->kind &&
            !strcmp(r->path, best->path))
            r->load--;
}

/* Choose a provider not tried yet: this node's own when allowed, else the
 * peer ranked first (ranks_before()); a provider that is this node itself
 * counts as link 0.
 * Returns 100 with *link_id set, 203 when there is no provider at all, 303
 * when every provider was tried, 204 when path is of another kind. */
int ipcn__choose(ipcn_node *n, ipcn__pending *p, ipcn_kind want,
                 bool allow_local, uint32_t *link_id)
{
    bool any = false, wrong_kind = false;
    ipcn__remote *r, *best = NULL;
    uint64_t now = ipcn__now_mono_ns();
    if (ipcn__sys_path(p->path, strlen(p->path))) {
        /* A node's own service: that node, over its link, or none. */
        if (want != IPCN_SERVICE)
            return IPCN_METHOD_NOT_ALLOWED;
        int st = ipcn__sys_link(n, p->path, link_id);
        if (st == IPCN_OK && (ipcn__pending_tried(p, *link_id) || (!*link_id && !allow_local)))
            st = IPCN_SERVICE_UNAVAILABLE;
        return st;
    }
    if (want == IPCN_DATA) {
        /* An owned data path: its owner first, then down the rank. */
        int st = ipcn__own_choose(n, p, allow_local, link_id);
        if (st)
            return st;
    }
    ipcn__local *lr = ipcn__local_find(n, p->path);
    if (lr) {
        if (lr->kind != want)
            wrong_kind = true;
        else if (!ipcn__pending_tried(p, 0) && allow_local) {
            *link_id = 0;
            return IPCN_OK;
        } else
            any = true;
    }
    ipcn__list_for_each(r, t, &n->remotes, ipcn__remote, entry) {
        /* A provider the policy does not let provide it is not asked. */
        if (r->denied || strcmp(r->path, p->path) != 0)
            continue;
        if (r->kind != want) {
            wrong_kind = true;
            continue;
        }
        any = true;
        if (ipcn__pending_tried(p, r->link_id))
            continue;
        if (!best || ranks_before(r, best, now))
            best = r;
    }
    if (best) {
        aged(n, best);
        /* Rotate equally loaded providers: move the chosen one to the end. */
        ipcn__list_remove(&best->entry);
        ipcn__list_insert_tail(&n->remotes, &best->entry);
        *link_id = best->link_id;
        return IPCN_OK;
    }
    if (any)
        return IPCN_SERVICE_UNAVAILABLE;
    return wrong_kind ? IPCN_METHOD_NOT_ALLOWED : IPCN_NOT_FOUND;
}

