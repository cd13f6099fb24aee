/* SPDX-License-Identifier: MIT */
/*
 * router.c — the one router of samples: who receives a sample, decided
 * here alone, for inline and shared-memory samples alike.
 *
 * Publishing: the links whose patterns match a resource, and whether a
 * subscription of this node does, are kept per resource (local_routes());
 * a sample is encoded inline once and copied to each such link, or, when
 * large and some of those links take shared memory, written once into a
 * slot of the resource's pool (shm/pool.c) whose descriptor goes to them
 * while the others still get the bytes.  Receiving: the subscriptions a
 * peer's resource reaches are kept per remote resource (remote_subs());
 * a sample that came inline or in a slot of a peer's pool (shm/map.c)
 * becomes a message that goes the same way to them.  Both caches are
 * computed again only when a generation moves (ipcn__pub_routes_changed()).
 * shm/ is the mechanism (pools, slots, mappings) and calls nothing here.
 */
#include <string.h>

#include "engine/router.h"
#include "msg/msg.h"

/* Samples that did not arrive, and why (not_received()). */
enum { MISS_WITHHELD = 1, MISS_UNMAPPABLE = 2, MISS_NONCONFORMING = 3 };
static uint64_t not_received(ipcn_node *n, ipcn__remote *r,
                             const ipcn__gap *gap, int why);

static bool link_wants(const ipcn__link *l, const char *path, size_t pl)
{
    for (uint32_t i = 0; i < l->npatterns; i++)
        if (ipcn__pattern_match(l->patterns[i], strlen(l->patterns[i]), path, pl))
            return true;
    return false;
}

static bool sub_wants(const ipcn__sub *s, const char *path, size_t pl)
{
    return ipcn__pattern_match(s->pattern, strlen(s->pattern), path, pl);
}

/* ---- to this node's subscriptions ---- */

/* A copy for another subscription: a shared sample's copy shares the
 * mapping (and counts on the slot), others copy the bytes. */
static ipcn__msg *msg_dup(ipcn_node *n, const ipcn__msg *src)
{
    const ipcn_msg *x = &src->pub;
    ipcn__msg *m = ipcn__msg_new_in(&n->msgpool, x->path, strlen(x->path),
                                    x->encoding, strlen(x->encoding),
                                    x->src_name, strlen(x->src_name),
                                    x->src_id, src->map ? NULL : x->data,
                                    src->map ? 0 : x->len);
    if (m) {
        m->pub.status = x->status;
        m->pub.seq = x->seq;
        m->pub.timestamp_ns = x->timestamp_ns;
        if (src->map)
            ipcn__map_msg_share(m, src);
        if (src->prov &&
            ipcn__msg_set_prov(m, src->prov, src->prov_len) != IPCN_OK) {
            ipcn_msg_free(&m->pub);
            return NULL;
        }
    }
    return m;
}

/* Count a sample that reached this node for s, and the gap before it
 * (gap NULL: a notice, which is not a sample). */
static void sub_count(ipcn__sub *s, const ipcn__gap *gap)
{
    if (!gap)
        return;
    s->received++;
    s->lost += gap->lost;
    s->resets += gap->reset;
}

/* Give a message to subs[0..k) in order (copies for all but the last).
 * Takes ownership of m. */
static void fan_out_to(ipcn_node *n, ipcn__msg *m, ipcn__sub *const *subs,
                       uint32_t k, const ipcn__gap *gap)
{
    if (!k) {
        ipcn_msg_free(&m->pub);
        return;
    }
    for (uint32_t i = 0; i < k; i++) {
        ipcn__sub *s = subs[i];
        sub_count(s, gap);
        if (i + 1 < k) {
            ipcn__msg *c = msg_dup(n, m);
            if (c)
                ipcn__sub_push(n, s, c);
            else
                s->dropped++;
        }
    }
    ipcn__sub_push(n, subs[k - 1], m);
}

void ipcn__pub_fan_out(ipcn_node *n, ipcn__msg *m, const ipcn__gap *gap)
{
    ipcn__sub *s, *last = NULL;
    size_t pl = strlen(m->pub.path);
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry) {
        if (!sub_wants(s, m->pub.path, pl))
            continue;
        sub_count(s, gap);
        if (last) {
            ipcn__msg *c = msg_dup(n, m);
            if (c)
                ipcn__sub_push(n, last, c);
            else
                last->dropped++;
        }
        last = s;
    }
    if (last)
        ipcn__sub_push(n, last, m);
    else
        ipcn_msg_free(&m->pub);
}

/* ---- received from a peer ---- */

/* The subscriptions a remote resource's samples go to, computed again
 * only when this node's subscriptions changed.  (A cache field holds its
 * generation + 1: 0 is "never".)  100 or 307. */
static int remote_subs(ipcn_node *n, ipcn__remote *r)
{
    if (r->subs_gen == n->sub_gen + 1)
        return IPCN_OK;
    size_t pl = strlen(r->path);
    uint32_t k = 0;
    ipcn__sub *s;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry) {
        if (!sub_wants(s, r->path, pl))
            continue;
        if (k == r->cap_subs) {
            uint32_t cap = r->cap_subs ? r->cap_subs * 2 : 4;
            ipcn__sub **ns = ipcn__realloc(r->subs, cap * sizeof *ns);
            if (!ns)
                return IPCN_INSUFFICIENT_MEMORY;
            r->subs = ns;
            r->cap_subs = cap;
        }
        r->subs[k++] = s;
    }
    r->nsubs = k;
    r->subs_gen = n->sub_gen + 1;
    return IPCN_OK;
}

ipcn__gap ipcn__seq_gap(uint64_t *last_seq, uint64_t seq)
{
    ipcn__gap g = {0, false};
    uint64_t last = *last_seq;
    if (!last || seq == last + 1) {
        /* the first one seen (nothing before it was missed), or the next */
    } else if (seq > last && seq - last - 1 <= IPCN_SEQ_WINDOW) {
        g.lost = seq - last - 1;
    } else if (seq != last) {
        /* Too far ahead, or backwards: the numbering restarted (or a peer
         * lies); one reset, never billions of losses. */
        g.reset = true;
    }
    if (seq != last)
        *last_seq = seq;
    return g;
}

/* A sample of r reached this node from a provider that does not own its
 * path: counted on each subscription it would have reached. */
static void standby_count(ipcn_node *n, ipcn__remote *r)
{
    if (remote_subs(n, r) == IPCN_OK) {
        for (uint32_t i = 0; i < r->nsubs; i++)
            r->subs[i]->standby++;
        return;
    }
    size_t pl = strlen(r->path);
    ipcn__sub *s;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry)
        if (sub_wants(s, r->path, pl))
            s->standby++;
}

/* The remote resource a sample of path on l belongs to, its gap counted
 * (*gap), or NULL when the peer never announced path as a data or stream
 * resource (a bad frame). */
static ipcn__remote *sample_of(ipcn_node *n, ipcn__link *l, const char *path,
                               uint64_t seq, ipcn__gap *gap)
{
    ipcn__remote *r = ipcn__remote_find(n, path, l->id);
    if (!r || r->kind == IPCN_SERVICE) {
        /* Samples only come for what the peer announced first. */
        l->bad_frames++;
        n->stats.bad_frames++;
        ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME,
                          "sample of a resource it did not announce");
        return NULL;
    }
    if (r->denied) {
        /* ... and only from a provider the policy lets provide it. */
        l->denied++;
        n->stats.denied++;
        return NULL;
    }
    *gap = ipcn__seq_gap(&r->last_seq, seq);
    r->live_seen = true;
    if (ipcn__own_standby_remote(r)) {
        /* A hot standby's: dropped and counted, its number kept, so that
         * when it takes over nothing counts as lost or comes twice. */
        standby_count(n, r);
        return NULL;
    }
    return r;
}

/* Who receives a sample of r: false when no subscription of this node
 * wants it (any more), and the caller makes no message.  *cached: the
 * subscriptions are r->subs (else, out of memory, deliver() finds them). */
static bool wanted(ipcn_node *n, ipcn__remote *r, bool *cached)
{
    *cached = remote_subs(n, r) == IPCN_OK;
    return !*cached || r->nsubs;
}

/* As fan_out_to(), but not to the subscriptions that hold r's live
 * samples back until a replay from its provider ended (latch.c). */
static void fan_out_held(ipcn_node *n, ipcn__remote *r, bool cached,
                         ipcn__msg *m, const ipcn__gap *gap)
{
    ipcn__sub *last = NULL;
    ipcn__list *e = n->subs.next;
    for (uint32_t i = 0;; i++) {
        ipcn__sub *s;
        if (cached) {
            if (i == r->nsubs)
                break;
            s = r->subs[i];
        } else {
            if (e == &n->subs)
                break;
            s = ipcn__list_entry(e, ipcn__sub, entry);
            e = e->next;
            if (!sub_wants(s, r->path, strlen(r->path)))
                continue;
        }
        if (ipcn__latch_holds(n, s, r, m->pub.seq))
            continue;
        sub_count(s, gap);
        if (last) {
            ipcn__msg *c = msg_dup(n, m);
            if (c)
                ipcn__sub_push(n, last, c);
            else
                last->dropped++;
        }
        last = s;
    }
    if (last)
        ipcn__sub_push(n, last, m);
    else
        ipcn_msg_free(&m->pub);
}

static void deliver(ipcn_node *n, ipcn__remote *r, bool cached, ipcn__msg *m,
                    const ipcn__gap *gap)
{
    if (n->latch_active && r->keep)
        fan_out_held(n, r, cached, m, gap);
    else if (cached)
        fan_out_to(n, m, r->subs, r->nsubs, gap);
    else
        ipcn__pub_fan_out(n, m, gap);
}

/* A message for a sample received on l (data NULL: a shared one, which
 * points into its slot after ipcn__map_msg_attach()). */
static ipcn__msg *received(ipcn_node *n, ipcn__link *l, const ipcn__str *path,
                           const ipcn__str *enc, const void *data, size_t len,
                           uint64_t seq, uint64_t stamp)
{
    ipcn__msg *m = ipcn__msg_new_in(&n->msgpool, path->p, path->len, enc->p,
                                    enc->len, l->who.name, strlen(l->who.name),
                                    l->who.node_id, data, len);
    if (m) {
        m->pub.seq = seq;
        m->pub.timestamp_ns = stamp;
    }
    return m;
}

void ipcn__pub_on_sample(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__sample *sa = &f->u.sample;
    ipcn__gap gap;
    bool cached;
    ipcn__remote *r = sample_of(n, l, sa->path.p, sa->seq, &gap);
    /* Over the peer's limits: dropped, counted (gate: limits.c). */
    if (!r || !ipcn__limit_sample(n, l, sa->path.p, sa->data.len) ||
        !wanted(n, r, &cached))
        return;
    /* A typed resource's sample reaches subscriptions only when it is of
     * the declared type (typed.c). */
    if (!ipcn__typed_check_remote(n, l, r, sa->data.p, sa->data.len)) {
        not_received(n, r, &gap, MISS_NONCONFORMING);
        return;
    }
    ipcn__msg *m = received(n, l, &sa->path, &sa->encoding, sa->data.p,
                            sa->data.len, sa->seq, sa->timestamp_ns);
    if (m && sa->prov.len &&
        ipcn__msg_set_prov(m, sa->prov.p, sa->prov.len) != IPCN_OK) {
        ipcn_msg_free(&m->pub);
        m = NULL;
    }
    if (m)
        deliver(n, r, cached, m, &gap);
}

static void count_miss(ipcn__sub *s, const ipcn__gap *gap, int why)
{
    s->lost += gap->lost;
    s->resets += gap->reset;
    if (why == MISS_WITHHELD)
        s->withheld++;
    else if (why == MISS_NONCONFORMING)
        s->nonconforming++;
    else
        s->unmappable++;
}

/* Samples of r that this node did not receive, counted with their gap on
 * each subscription they would have reached: withheld by the publisher
 * (the reader holds its share of the pool) or discarded here (the pool
 * could not be mapped).  Returns how many subscriptions counted it. */
static uint64_t not_received(ipcn_node *n, ipcn__remote *r,
                             const ipcn__gap *gap, int why)
{
    if (remote_subs(n, r) == IPCN_OK) {
        for (uint32_t i = 0; i < r->nsubs; i++)
            count_miss(r->subs[i], gap, why);
        return r->nsubs;
    }
    uint64_t k = 0;
    size_t pl = strlen(r->path);
    ipcn__sub *s;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry) {
        if (sub_wants(s, r->path, pl)) {
            count_miss(s, gap, why);
            k++;
        }
    }
    return k;
}

void ipcn__pub_on_withheld(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__sample *sa = &f->u.sample;
    ipcn__gap gap;
    ipcn__remote *r = sample_of(n, l, sa->path.p, sa->seq, &gap);
    if (!r)
        return;
    if (not_received(n, r, &gap, MISS_WITHHELD) && !r->told_withheld) {
        r->told_withheld = true;
        ipcn__warn("IPCN-SHM-WITHHELD", "%s: %s withholds samples of %s: this "
                   "node holds its share of the pool (free held samples to "
                   "receive again; counted in ipcn_sub_stats.withheld)",
                   n->name, l->who.name, sa->path.p);
    }
}

/* Drop queued (not yet delivered) messages of map m: of one slot and
 * generation, or (slot == UINT32_MAX) the oldest one only.  Returns how
 * many were dropped. */
static uint32_t evict_queued(ipcn_node *n, ipcn__shm_map *m, uint32_t slot,
                             uint32_t gen)
{
    uint32_t k = 0;
    ipcn__msg *oldest = NULL;
    ipcn__sub *oldest_sub = NULL;
    ipcn__sub *s;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry) {
        ipcn__msg *q;
        ipcn__list_for_each(q, t2, &s->queue, ipcn__msg, entry) {
            if (q->map != m)
                continue;
            if (slot == UINT32_MAX) {
                if (!oldest || q->pub.seq < oldest->pub.seq) {
                    oldest = q;
                    oldest_sub = s;
                }
                break; /* a queue is in order: its first is its oldest */
            }
            if (q->slot == slot && q->gen == gen) {
                ipcn__list_remove(&q->entry);
                s->queued--;
                s->dropped++;
                ipcn_msg_free(&q->pub);
                k++;
            }
        }
    }
    if (oldest) {
        ipcn__list_remove(&oldest->entry);
        oldest_sub->queued--;
        oldest_sub->dropped++;
        ipcn_msg_free(&oldest->pub);
        k++;
    }
    return k;
}

void ipcn__pub_on_shm_sample(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__shm_sample *sa = &f->u.shm_sample;
    ipcn__shm_map *m = ipcn__map_of_sample(n, l, sa);
    if (!m)
        return;
    ipcn__gap gap;
    ipcn__remote *r = sample_of(n, l, sa->path.p, sa->seq, &gap);
    if (!r || !ipcn__limit_sample(n, l, sa->path.p, sa->len)) {
        /* Not taken (a path it may not provide, or never announced, or
         * over the peer's limits): its slot goes back at once, not when
         * the link closes. */
        ipcn__map_give_back(m, sa->slot, sa->gen);
        return;
    }
    if (!m->base) {
        /* We could not map the pool: the sample is discarded, counted
         * where the subscriptions show it, and its slot goes back. */
        ipcn__map_give_back(m, sa->slot, sa->gen);
        if (not_received(n, r, &gap, MISS_UNMAPPABLE) && !m->warned) {
            m->warned = true;
            ipcn__warn("IPCN-SHM-UNMAPPABLE", "%s: discarding samples of %s "
                       "from %s: its pool could not be mapped", n->name,
                       sa->path.p, l->who.name);
        }
        return;
    }
    /* Keep within the share the publisher allows: rather than have it skip
     * us, drop our oldest sample of this pool still waiting in a queue. */
    while (ipcn__map_over_share(m, sa->slot) &&
           evict_queued(n, m, UINT32_MAX, 0))
        ;
    bool cached;
    if (!wanted(n, r, &cached)) {
        ipcn__map_give_back(m, sa->slot, sa->gen);
        return;
    }
    ipcn__msg *msg = received(n, l, &sa->path, &sa->encoding, NULL, 0, sa->seq,
                              sa->timestamp_ns);
    if (!msg)
        return;
    ipcn__map_msg_attach(msg, m, sa);
    /* Checked in its slot, as it arrived (typed.c). */
    if (!ipcn__typed_check_remote(n, l, r, msg->pub.data, msg->pub.len)) {
        ipcn_msg_free(&msg->pub); /* its slot goes back */
        not_received(n, r, &gap, MISS_NONCONFORMING);
        return;
    }
    deliver(n, r, cached, msg, &gap);
}

void ipcn__pub_on_revoke(ipcn_node *n, ipcn__link *l, const ipcn__shm_refs *r)
{
    for (uint32_t i = 0; i < r->count; i++) {
        ipcn__shm_ref x = ipcn__shm_ref_at(r, i);
        ipcn__shm_map *m = ipcn__map_find(n, l->id, x.pool_id);
        if (m && x.slot < m->slots) {
            ipcn__map_revoked(m, x.slot, x.gen);
            evict_queued(n, m, x.slot, x.gen);
        }
    }
}

/* ---- published here ---- */

/* Where a publish of lr goes: the UP links that subscribe to it (how many
 * of them take shared memory), and whether a subscription of this node
 * does, computed again only when something changed
 * (ipcn__pub_routes_changed()).  The links kept are valid until then: a
 * link that goes down changes the generation before it is freed.  100 or
 * 307. */
int ipcn__route_refresh(ipcn_node *n, ipcn__local *lr)
{
    if (lr->route_gen == n->route_gen + 1)
        return IPCN_OK;
    size_t pl = strlen(lr->path);
    uint32_t k = 0, shm = 0;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP || !link_wants(l, lr->path, pl) ||
            !ipcn__access_visible(n, l, lr))
            continue; /* no samples for whoever may not read lr */
        if (k == lr->cap_route) {
            uint32_t cap = lr->cap_route ? lr->cap_route * 2 : 4;
            ipcn__link **nl = ipcn__realloc(lr->route_links, cap * sizeof *nl);
            if (!nl)
                return IPCN_INSUFFICIENT_MEMORY;
            lr->route_links = nl;
            lr->cap_route = cap;
        }
        lr->route_links[k++] = l;
        shm += ipcn__pool_link_takes(n, l);
    }
    lr->nroute = k;
    lr->nroute_shm = shm;
    lr->route_local = false;
    ipcn__sub *s;
    ipcn__list_for_each(s, t2, &n->subs, ipcn__sub, entry)
        if (sub_wants(s, lr->path, pl))
            lr->route_local = true;
    lr->path_len = (uint16_t)pl;
    lr->enc_len = (uint16_t)strlen(lr->encoding);
    lr->route_gen = n->route_gen + 1;
    return IPCN_OK;
}

/* A publish on lr begins: its sequence number and time (out), and for a
 * data resource its new current value (a copy).  100 or 307. */
int ipcn__route_next(ipcn_node *n, ipcn__local *lr, const void *data,
                     size_t len, uint64_t *seq, uint64_t *now)
{
    *seq = lr->seq + 1;
    *now = ipcn__now_real_ns();
    return ipcn__route_next_at(n, lr, data, len, *seq, *now);
}

int ipcn__route_next_at(ipcn_node *n, ipcn__local *lr, const void *data,
                        size_t len, uint64_t seq_, uint64_t now_)
{
    const uint64_t *seq = &seq_, *now = &now_;
    if (seq_ != lr->seq + 1)
        return IPCN_INTERNAL_ERROR;
    if (lr->kind == IPCN_DATA) {
        ipcn__msg *v = ipcn__msg_new_in(&n->msgpool, lr->path, lr->path_len,
                                        lr->encoding, lr->enc_len, n->name,
                                        strlen(n->name), n->id, data, len);
        if (!v)
            return IPCN_INSUFFICIENT_MEMORY;
        v->pub.seq = *seq;
        v->pub.timestamp_ns = *now;
        if (lr->value)
            ipcn_msg_free(lr->value);
        lr->value = &v->pub;
        ipcn__hist_on_value(n, lr, &v->pub); /* debug history (history.c) */
    }
    lr->seq = *seq;
    return IPCN_OK;
}

/* The sample inline, appended to w (a link's queue, or the scratch
 * buffer that is copied to every link). */
static int encode_sample_to(ipcn_node *n, const ipcn__local *lr, uint64_t seq,
                            uint64_t now, const void *data, size_t len,
                            ipcn__wbuf *w)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    ipcn__sample s = {.seq = seq,
                      .timestamp_ns = now,
                      .path = {lr->path, lr->path_len},
                      .encoding = {lr->encoding, lr->enc_len},
                      .data = ipcn__blob_of(data, len)};
    return ipcn__enc_sample(w, &h, &s);
}

/* The sample inline, encoded once into n->scratch for every link. */
static int encode_inline(ipcn_node *n, const ipcn__local *lr, uint64_t seq,
                         uint64_t now, const void *data, size_t len)
{
    n->scratch.len = 0;
    return encode_sample_to(n, lr, seq, now, data, len, &n->scratch);
}

/* This node's own subscriptions get a copy of a published value. */
void ipcn__route_pub_local(ipcn_node *n, const ipcn__local *lr,
                           const void *data, size_t len, uint64_t seq,
                           uint64_t now, const uint8_t *rec, uint32_t rec_len)
{
    if (ipcn__own_standby_local(lr)) {
        /* This node provides it, but another owns it: as a peer's hot
         * standby, dropped and counted. */
        ipcn__sub *s;
        ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry)
            if (sub_wants(s, lr->path, lr->path_len))
                s->standby++;
        return;
    }
    ipcn__msg *m = ipcn__msg_new_in(&n->msgpool, lr->path, lr->path_len,
                                    lr->encoding, lr->enc_len, n->name,
                                    strlen(n->name), n->id, data, len);
    if (m) {
        m->pub.seq = seq;
        m->pub.timestamp_ns = now;
        if (rec_len && ipcn__msg_set_prov(m, rec, rec_len) != IPCN_OK) {
            ipcn_msg_free(&m->pub);
            return;
        }
        ipcn__pub_fan_out(n, m, &(ipcn__gap){0, false});
    }
}

int ipcn__route_publish_loan(ipcn_node *n, ipcn__local *lr, ipcn_loan *loan,
                             size_t len, const uint64_t *presum)
{
    const uint8_t *data = ipcn_loan_data(loan);
    uint64_t seq, now;
    int st = ipcn__route_refresh(n, lr);
    if (st == IPCN_OK)
        st = ipcn__route_next(n, lr, data, len, &seq, &now);
    if (st != IPCN_OK)
        return st;
    ipcn__shm_out o;
    ipcn__pool_out_init(&o, loan, len, presum);
    o.path = lr->path;
    o.encoding = lr->encoding;
    o.seq = seq;
    o.now = now;
    bool inline_encoded = false;
    for (uint32_t i = 0; i < lr->nroute; i++) {
        ipcn__link *l = lr->route_links[i];
        if (l->state != LINK_UP)
            continue;
        if (ipcn__pool_link_takes(n, l)) {
            if (ipcn__pool_send_sample(n, l, &o) != IPCN_OK)
                break;
            continue;
        }
        /* A peer without shared memory gets the bytes, when they fit. */
        if (!inline_encoded) {
            if (len > IPCN_WIRE_MAX_PAYLOAD ||
                encode_inline(n, lr, seq, now, data, len) != IPCN_OK) {
                l->drops++;
                n->stats.drops++;
                continue;
            }
            inline_encoded = true;
        }
        ipcn__link_send_raw(n, l, n->scratch.p, n->scratch.len, true);
    }
    if (n->scratch.cap > (1u << 20))
        ipcn__wbuf_free(&n->scratch);
    if (lr->route_local) /* this node's own: a copy */
        ipcn__route_pub_local(n, lr, data, len, seq, now, NULL, 0);
    lr->shm_published++;
    ipcn__keep_slot(n, lr, &o); /* for late subscribers */
    ipcn__pool_sample_done(&o);
    return IPCN_OK;
}

/* A large sample through lr's pool, when some link it goes to takes
 * shared memory: 100 when done, 0 when the caller should publish inline,
 * or an error. */
bool ipcn__route_goes_shared(const ipcn_node *n, const ipcn__local *lr,
                             size_t len)
{
    size_t threshold = lr->pool_opts.shm_threshold ? lr->pool_opts.shm_threshold
                                                   : IPCN_SHM_THRESHOLD;
    bool kept = lr->keep && lr->kind == IPCN_STREAM && n->shm_enabled;
    return (lr->nroute_shm || kept) && len >= threshold &&
           len <= IPCN_SHM_MAX_SLOT_SIZE;
}

static int publish_shared(ipcn_node *n, ipcn__local *lr, const void *data,
                          size_t len)
{
    ipcn_loan *loan;
    ipcn__keep_make_room(n, lr);
    int st = ipcn__pool_loan(n, &lr->pool, lr->path,
                             ipcn__pool_opts_of(&lr->pool_opts),
                             &lr->shm_refused, &lr->shm_reclaimed, len, &loan);
    if (st == IPCN_INSUFFICIENT_STORAGE && len <= IPCN_WIRE_MAX_PAYLOAD)
        return 0; /* the pool is full: the socket still takes it */
    if (st != IPCN_OK)
        return st;
    uint64_t sum = ipcn__pool_copy_in(loan, data, len);
    st = ipcn__route_publish_loan(n, lr, loan, len,
                                  loan->pool->checksum ? &sum : NULL);
    ipcn__pool_end_loan(n, loan);
    return st;
}

int ipcn__route_publish(ipcn_node *n, ipcn__local *lr, const void *data,
                        size_t len)
{
    int st = ipcn__route_refresh(n, lr);
    if (st != IPCN_OK)
        return st;
    /* Large values go through the pool when some subscriber can map it,
     * or when a stream keeps them for later ones (a zeroed opts struct,
     * the defaults, has shm_threshold 0 too). */
    if (ipcn__route_goes_shared(n, lr, len) &&
        (st = publish_shared(n, lr, data, len)) != 0)
        return st;
    /* Fits a frame: header, seq, stamp, two strings and the blob length. */
    size_t overhead = 8 + 8 + 2 + (size_t)lr->path_len + 1 + 2 +
                      lr->enc_len + 1 + 4;
    if (len > SIZE_MAX - overhead || len + overhead > n->opts.max_payload)
        return IPCN_BAD_REQUEST;
    uint64_t seq, now;
    if ((st = ipcn__route_next(n, lr, data, len, &seq, &now)) != IPCN_OK)
        return st;
    ipcn__keep_bytes(n, lr, data, len, seq, now); /* for late subscribers */
    /* One link (a gateway's TCP link, typically): encode the frame
     * straight into its queue.  More: encode once, copy to each. */
    if (lr->nroute == 1 && lr->route_links[0]->state == LINK_UP) {
        ipcn__link *l = lr->route_links[0];
        size_t mark;
        if (ipcn__link_send_begin(n, l, IPCN_WIRE_HDR_SIZE + overhead + len, true,
                                  &mark) == IPCN_OK)
            ipcn__link_send_end(n, l, mark, true,
                                encode_sample_to(n, lr, seq, now, data, len, &l->tx));
    } else if (lr->nroute) {
        if ((st = encode_inline(n, lr, seq, now, data, len)) != IPCN_OK)
            return st;
        /* The array may be recomputed by the next publish only; a link
         * closed by a failed send below stays allocated until the end of
         * the round. */
        for (uint32_t i = 0; i < lr->nroute; i++) {
            ipcn__link *l = lr->route_links[i];
            if (l->state == LINK_UP)
                ipcn__link_send_raw(n, l, n->scratch.p, n->scratch.len, true);
        }
        if (n->scratch.cap > (1u << 20))
            ipcn__wbuf_free(&n->scratch);
    }
    if (lr->route_local)
        ipcn__route_pub_local(n, lr, data, len, seq, now, NULL, 0);
    return IPCN_OK;
}

IPCN_API int ipcn_publish(ipcn_node *n, const char *path, const void *data,
                          size_t len)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || (len && !data))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr;
    int st = ipcn__publish_check(n, path, data, len, &lr);
    if (st != IPCN_OK)
        ; /* nothing sent */
    else if (__builtin_expect(lr->prov, 0)) /* provenance on (prov_pub.c) */
        st = ipcn__prov_publish(n, lr, data, len, NULL, 0, 0);
    else
        st = ipcn__route_publish(n, lr, data, len);
    ipcn__node_unlock(n);
    return st;
}
