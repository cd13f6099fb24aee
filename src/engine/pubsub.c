/* SPDX-License-Identifier: MIT */
/*
 * pubsub.c — subscriptions and publishing.
 *
 * A node tells each peer the patterns it subscribes to (once per distinct
 * pattern); a publisher sends a sample once to each peer with a matching
 * pattern, and that peer fans it out to its own subscriptions, each with a
 * bounded queue.  Every sample that does not arrive is counted: dropped
 * here (queue full), lost upstream (a gap in the sequence numbers), or
 * dropped by the publisher (link saturated).
 */
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "node/node_impl.h"

#define DEFAULT_DEPTH 64

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
    }
    return m;
}

static ipcn__sub *sub_by_id(ipcn_node *n, uint32_t id)
{
    ipcn__sub *s;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry)
        if (s->id == id)
            return s;
    return NULL;
}

void ipcn__sub_free(ipcn__sub *s)
{
    ipcn__list *e;
    while ((e = ipcn__list_pop(&s->queue)))
        ipcn_msg_free(&ipcn__list_entry(e, ipcn__msg, entry)->pub);
    ipcn__free(s->pattern);
    ipcn__free(s);
}

/* Put a message in a subscription's queue; the queue owns it after. */
static void sub_push(ipcn_node *n, ipcn__sub *s, ipcn__msg *m)
{
    if (s->queued >= s->depth) {
        ipcn__msg *old = ipcn__list_entry(ipcn__list_pop(&s->queue), ipcn__msg,
                                          entry);
        s->queued--;
        if (old->pub.status == IPCN_OK)
            s->dropped++; /* a notice dropped is not a sample lost */
        ipcn_msg_free(&old->pub);
    }
    ipcn__list_insert_tail(&s->queue, &m->entry);
    s->queued++;
    if (s->fn && !s->ready) {
        s->ready = true;
        ipcn__list_insert_tail(&n->ready_subs, &s->ready_entry);
        ipcn__node_wake(n);
    } else if (!s->fn && n->pumping) {
        ipcn__node_wake(n); /* a taker may sleep in epoll_wait */
    }
    pthread_cond_broadcast(&n->cond);
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
                sub_push(n, s, c);
            else
                s->dropped++;
        }
    }
    sub_push(n, subs[k - 1], m);
}

/* Give a message to every matching subscription (copies for all but the
 * last).  Takes ownership of m. */
void ipcn__pub_fan_out(ipcn_node *n, ipcn__msg *m, const ipcn__gap *gap)
{
    ipcn__sub *s, *last = NULL;
    size_t pl = strlen(m->pub.path);
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry) {
        if (!ipcn__pattern_match(s->pattern, strlen(s->pattern), m->pub.path, pl))
            continue;
        sub_count(s, gap);
        if (last) {
            ipcn__msg *c = msg_dup(n, m);
            if (c)
                sub_push(n, last, c);
            else
                last->dropped++;
        }
        last = s;
    }
    if (last)
        sub_push(n, last, m);
    else
        ipcn_msg_free(&m->pub);
}

void ipcn__pub_routes_changed(ipcn_node *n, bool subs)
{
    n->route_gen++;
    if (subs)
        n->sub_gen++;
}

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
        if (!ipcn__pattern_match(s->pattern, strlen(s->pattern), r->path, pl))
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

static int seq_check(ipcn_node *n, ipcn__link *l, ipcn__remote *r,
                     uint64_t seq, ipcn__gap *gap)
{
    if (!r || r->kind == IPCN_SERVICE) {
        /* Samples only come for what the peer announced first. */
        l->bad_frames++;
        n->stats.bad_frames++;
        return -1;
    }
    *gap = ipcn__seq_gap(&r->last_seq, seq);
    return 0;
}

int ipcn__pub_seq_check(ipcn_node *n, ipcn__link *l, const char *path,
                        uint64_t seq, ipcn__gap *gap)
{
    return seq_check(n, l, ipcn__remote_find(n, path, l->id), seq, gap);
}

void ipcn__pub_on_sample(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__sample *sa = &f->u.sample;
    ipcn__remote *r = ipcn__remote_find(n, sa->path.p, l->id);
    ipcn__gap gap;
    if (seq_check(n, l, r, sa->seq, &gap) < 0)
        return;
    bool cached = remote_subs(n, r) == IPCN_OK;
    if (cached && !r->nsubs)
        return; /* no subscription of this node wants it (any more) */
    ipcn__msg *m = ipcn__msg_new_in(&n->msgpool, sa->path.p, sa->path.len,
                                    sa->encoding.p, sa->encoding.len, l->name,
                                    strlen(l->name), l->peer_id, sa->data.p,
                                    sa->data.len);
    if (!m)
        return;
    m->pub.seq = sa->seq;
    m->pub.timestamp_ns = sa->timestamp_ns;
    if (cached)
        fan_out_to(n, m, r->subs, r->nsubs, &gap);
    else
        ipcn__pub_fan_out(n, m, &gap);
}

uint64_t ipcn__pub_not_received(ipcn_node *n, const char *path,
                                const ipcn__gap *gap, int why)
{
    uint64_t k = 0;
    size_t pl = strlen(path);
    ipcn__sub *s;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry) {
        if (!ipcn__pattern_match(s->pattern, strlen(s->pattern), path, pl))
            continue;
        s->lost += gap->lost;
        s->resets += gap->reset;
        if (why == IPCN__MISS_WITHHELD)
            s->withheld++;
        else
            s->unmappable++;
        k++;
    }
    return k;
}

void ipcn__pub_on_withheld(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__sample *sa = &f->u.sample;
    ipcn__remote *r = ipcn__remote_find(n, sa->path.p, l->id);
    ipcn__gap gap;
    if (seq_check(n, l, r, sa->seq, &gap) < 0)
        return;
    if (ipcn__pub_not_received(n, sa->path.p, &gap, IPCN__MISS_WITHHELD) &&
        !r->told_withheld) {
        r->told_withheld = true;
        ipcn__warn("IPCN-SHM-WITHHELD", "%s: %s withholds samples of %s: this "
                   "node holds its share of the pool (free held samples to "
                   "receive again; counted in ipcn_sub_stats.withheld)",
                   n->name, l->name, sa->path.p);
    }
}

void ipcn__pub_gone(ipcn_node *n, const char *path, const char *provider,
                    uint64_t provider_id)
{
    ipcn__msg *m = ipcn__msg_new(path, strlen(path), "", 0,
                                 provider ? provider : "", provider_id, NULL, 0);
    if (!m)
        return;
    m->pub.status = IPCN_SERVICE_UNAVAILABLE;
    ipcn__pub_fan_out(n, m, NULL);
}

/* A queued message goes to the application: a sample counts as
 * delivered, a notice ("provider gone") as a notice. */
static void sub_handed(ipcn__sub *s, const ipcn__msg *m)
{
    if (m->pub.status == IPCN_OK)
        s->delivered++;
    else
        s->notices++;
}

bool ipcn__sub_deliver_one(ipcn_node *n)
{
    ipcn__list *e = ipcn__list_pop(&n->ready_subs);
    if (!e)
        return false;
    ipcn__sub *s = ipcn__list_entry(e, ipcn__sub, ready_entry);
    s->ready = false;
    ipcn__list *me = ipcn__list_pop(&s->queue);
    if (!me)
        return true;
    ipcn__msg *m = ipcn__list_entry(me, ipcn__msg, entry);
    s->queued--;
    sub_handed(s, m);
    if (s->queued) { /* round robin among ready subscriptions */
        s->ready = true;
        ipcn__list_insert_tail(&n->ready_subs, &s->ready_entry);
    }
    ipcn_sample_fn fn = s->fn;
    void *user = s->user;
    ipcn__node_unlock(n);
    fn(n, &m->pub, user);
    ipcn__node_lock(n);
    ipcn_msg_free(&m->pub);
    return true;
}

/* ---- interest: the deduplicated patterns told to peers ---- */

static void send_pattern(ipcn_node *n, ipcn__link *l, const char *pattern,
                         bool add)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    size_t mark = ipcn__link_tx_mark(l, 0);
    ipcn__link_commit(n, l, mark,
                      ipcn__enc_text(&l->tx, &h,
                                     add ? IPCN_F_SUBSCRIBE : IPCN_F_UNSUBSCRIBE,
                                     pattern, strlen(pattern)));
}

static void tell_all(ipcn_node *n, const char *pattern, bool add)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->state == LINK_UP)
            send_pattern(n, l, pattern, add);
}

void ipcn__pub_on_link_up(ipcn_node *n, ipcn__link *l)
{
    ipcn__interest *in;
    ipcn__list_for_each(in, t, &n->interests, ipcn__interest, entry) {
        if (l->state != LINK_UP)
            return;
        send_pattern(n, l, in->pattern, true);
    }
}

void ipcn__pub_on_subscribe(ipcn_node *n, ipcn__link *l, const ipcn__str *p,
                            bool add)
{
    if (ipcn__pattern_check(p->p, p->len) != IPCN_OK) {
        l->bad_frames++;
        n->stats.bad_frames++;
        ipcn__link_send_error(n, l, IPCN_BAD_REQUEST, "invalid pattern");
        return;
    }
    for (uint32_t i = 0; i < l->npatterns; i++) {
        if (!strcmp(l->patterns[i], p->p)) {
            if (!add) {
                ipcn__meta_give(n, l, p->len + 1 + sizeof(char *));
                ipcn__free(l->patterns[i]);
                l->patterns[i] = l->patterns[--l->npatterns];
                ipcn__pub_routes_changed(n, false);
            }
            return;
        }
    }
    if (!add)
        return;
    if (l->npatterns >= IPCN_PEER_MAX_PATTERNS) {
        l->bad_frames++;
        n->stats.bad_frames++;
        ipcn__link_send_error(n, l, IPCN_TOO_MANY_REQUESTS,
                              "too many subscription patterns");
        return;
    }
    int st = ipcn__meta_take(n, l, p->len + 1 + sizeof(char *));
    if (st != IPCN_OK) {
        ipcn__link_send_error(n, l, st, "subscribe over the memory cap");
        return;
    }
    if (l->npatterns == l->cap_patterns) {
        uint32_t cap = l->cap_patterns ? l->cap_patterns * 2 : 8;
        char **np = ipcn__realloc(l->patterns, cap * sizeof *np);
        if (!np) {
            ipcn__meta_give(n, l, p->len + 1 + sizeof(char *));
            return;
        }
        l->patterns = np;
        l->cap_patterns = cap;
    }
    char *s = ipcn__strndup(p->p, p->len);
    if (s) {
        l->patterns[l->npatterns++] = s;
        ipcn__pub_routes_changed(n, false);
    } else {
        ipcn__meta_give(n, l, p->len + 1 + sizeof(char *));
    }
}

bool ipcn__pub_link_wants(const ipcn__link *l, const char *path, size_t pl)
{
    for (uint32_t i = 0; i < l->npatterns; i++)
        if (ipcn__pattern_match(l->patterns[i], strlen(l->patterns[i]), path, pl))
            return true;
    return false;
}

/* ---- public calls ---- */

IPCN_API int ipcn_subscribe(ipcn_node *n, const char *pattern,
                            uint32_t queue_depth, ipcn_sample_fn fn,
                            void *user, ipcn_sub *out)
{
    if (!n || !pattern || !out ||
        ipcn__pattern_check(pattern, strlen(pattern)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__sub *s = ipcn__calloc(1, sizeof *s);
    if (s) {
        ipcn__list_init(&s->queue);
        ipcn__list_init(&s->ready_entry);
    }
    if (!s || !(s->pattern = ipcn__strdup(pattern))) {
        ipcn__free(s);
        ipcn__node_unlock(n);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    ipcn__interest *in, *found = NULL;
    ipcn__list_for_each(in, t, &n->interests, ipcn__interest, entry)
        if (!strcmp(in->pattern, pattern))
            found = in;
    if (!found) {
        found = ipcn__calloc(1, sizeof *found);
        if (!found || !(found->pattern = ipcn__strdup(pattern))) {
            ipcn__free(found);
            ipcn__sub_free(s);
            ipcn__node_unlock(n);
            return IPCN_INSUFFICIENT_MEMORY;
        }
        ipcn__list_insert_tail(&n->interests, &found->entry);
        tell_all(n, pattern, true);
    }
    found->refs++;
    s->depth = queue_depth ? queue_depth : DEFAULT_DEPTH;
    s->fn = fn;
    s->user = user;
    do
        s->id = ++n->next_sub_id;
    while (s->id == 0 || sub_by_id(n, s->id));
    ipcn__list_insert_tail(&n->subs, &s->entry);
    ipcn__pub_routes_changed(n, true);
    out->id = s->id;
    ipcn__node_unlock(n);
    return IPCN_OK;
}

IPCN_API int ipcn_unsubscribe(ipcn_node *n, ipcn_sub sub)
{
    if (!n)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__sub *s = sub_by_id(n, sub.id);
    if (!s) {
        ipcn__node_unlock(n);
        return IPCN_NOT_FOUND;
    }
    ipcn__list_remove(&s->entry);
    ipcn__pub_routes_changed(n, true);
    if (s->ready)
        ipcn__list_remove(&s->ready_entry);
    ipcn__interest *in;
    ipcn__list_for_each(in, t, &n->interests, ipcn__interest, entry) {
        if (strcmp(in->pattern, s->pattern) != 0)
            continue;
        if (--in->refs == 0) {
            tell_all(n, in->pattern, false);
            ipcn__list_remove(&in->entry);
            ipcn__free(in->pattern);
            ipcn__free(in);
        }
        break;
    }
    ipcn__sub_free(s);
    ipcn__node_unlock(n);
    return IPCN_OK;
}

IPCN_API int ipcn_sub_get_stats(ipcn_node *n, ipcn_sub sub, ipcn_sub_stats *out)
{
    if (!n || !out)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__sub *s = sub_by_id(n, sub.id);
    if (s)
        *out = (ipcn_sub_stats){.received = s->received,
                                .delivered = s->delivered,
                                .dropped = s->dropped,
                                .lost = s->lost,
                                .queued = s->queued,
                                .withheld = s->withheld,
                                .unmappable = s->unmappable,
                                .resets = s->resets,
                                .notices = s->notices};
    ipcn__node_unlock(n);
    return s ? IPCN_OK : IPCN_NOT_FOUND;
}

IPCN_API int ipcn_sub_take(ipcn_node *n, ipcn_sub sub, ipcn_msg **out,
                           int timeout_ms)
{
    if (!n || !out)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    uint64_t deadline = 0;
    bool timed = false; /* the clock is read only once we must wait */
    int st;
    for (;;) {
        ipcn__sub *s = sub_by_id(n, sub.id);
        if (!s) {
            st = IPCN_NOT_FOUND;
            break;
        }
        if (s->fn) {
            st = IPCN_BAD_REQUEST;
            break;
        }
        ipcn__list *e = ipcn__list_pop(&s->queue);
        if (e) {
            s->queued--;
            *out = &ipcn__list_entry(e, ipcn__msg, entry)->pub;
            sub_handed(s, ipcn__list_entry(e, ipcn__msg, entry));
            st = IPCN_OK;
            break;
        }
        if (timeout_ms == 0 ||
            (timed && deadline && ipcn__now_mono_ns() >= deadline)) {
            st = IPCN_NO_DATA;
            break;
        }
        if (!timed) {
            deadline = ipcn__deadline_ms(timeout_ms);
            timed = true;
        }
        /* One round of I/O, then look again: a sample may have come, or
         * the subscription may have gone meanwhile. */
        if ((st = ipcn__node_wait_round(n, deadline)) != IPCN_OK)
            break;
    }
    ipcn__node_unlock(n);
    return st;
}

int ipcn__pub_next(ipcn_node *n, ipcn__local *lr, const void *data, size_t len,
                   uint64_t *seq, uint64_t *now)
{
    *seq = lr->seq + 1;
    *now = ipcn__now_real_ns();
    if (lr->kind == IPCN_DATA) {
        ipcn__msg *v = ipcn__msg_new_in(&n->msgpool, lr->path, strlen(lr->path),
                                        lr->encoding, strlen(lr->encoding),
                                        n->name, strlen(n->name), n->id, data,
                                        len);
        if (!v)
            return IPCN_INSUFFICIENT_MEMORY;
        v->pub.seq = *seq;
        v->pub.timestamp_ns = *now;
        if (lr->value)
            ipcn_msg_free(lr->value);
        lr->value = &v->pub;
    }
    lr->seq = *seq;
    return IPCN_OK;
}

/* Where a publish of lr goes: the UP links that subscribe to it and
 * whether a subscription of this node does, computed again only when
 * something changed (ipcn__pub_routes_changed()).  The links kept are
 * valid until then: a link that goes down changes the generation before
 * it is freed.  100 or 307. */
static int local_routes(ipcn_node *n, ipcn__local *lr)
{
    if (lr->route_gen == n->route_gen + 1)
        return IPCN_OK;
    size_t pl = strlen(lr->path);
    uint32_t k = 0;
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP || !ipcn__pub_link_wants(l, lr->path, pl))
            continue;
        if (k == lr->cap_route) {
            uint32_t cap = lr->cap_route ? lr->cap_route * 2 : 4;
            ipcn__link **nl = ipcn__realloc(lr->route_links, cap * sizeof *nl);
            if (!nl)
                return IPCN_INSUFFICIENT_MEMORY;
            lr->route_links = nl;
            lr->cap_route = cap;
        }
        lr->route_links[k++] = l;
    }
    lr->nroute = k;
    lr->route_local = false;
    ipcn__sub *s;
    ipcn__list_for_each(s, t2, &n->subs, ipcn__sub, entry)
        if (ipcn__pattern_match(s->pattern, strlen(s->pattern), lr->path, pl))
            lr->route_local = true;
    lr->path_len = (uint16_t)pl;
    lr->enc_len = (uint16_t)strlen(lr->encoding);
    lr->route_gen = n->route_gen + 1;
    return IPCN_OK;
}

static void pub_local_to(ipcn_node *n, const ipcn__local *lr, const void *data,
                         size_t len, uint64_t seq, uint64_t now)
{
    ipcn__msg *m = ipcn__msg_new_in(&n->msgpool, lr->path, strlen(lr->path),
                                    lr->encoding, strlen(lr->encoding),
                                    n->name, strlen(n->name), n->id, data, len);
    if (m) {
        m->pub.seq = seq;
        m->pub.timestamp_ns = now;
        ipcn__pub_fan_out(n, m, &(ipcn__gap){0, false});
    }
}

void ipcn__pub_local(ipcn_node *n, const ipcn__local *lr, const void *data,
                     size_t len, uint64_t seq, uint64_t now)
{
    size_t pl = strlen(lr->path);
    ipcn__sub *s;
    bool local = false;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry)
        if (ipcn__pattern_match(s->pattern, strlen(s->pattern), lr->path, pl))
            local = true;
    if (local)
        pub_local_to(n, lr, data, len, seq, now);
}

IPCN_API int ipcn_publish(ipcn_node *n, const char *path, const void *data,
                          size_t len)
{
    if (!n || !path || (len && !data))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = IPCN_OK;
    ipcn__local *lr = ipcn__local_find(n, path);
    if (!lr) {
        st = IPCN_NOT_FOUND;
        goto out;
    }
    if (lr->kind == IPCN_SERVICE) {
        st = IPCN_METHOD_NOT_ALLOWED;
        goto out;
    }
    /* Large values go through the pool when some subscriber can map it. */
    if (n->shm_enabled && len) {
        int pst = ipcn__pool_publish_copy(n, lr, data, len);
        if (pst) {
            st = pst;
            goto out;
        }
    }
    if ((st = local_routes(n, lr)) != IPCN_OK)
        goto out;
    /* Fits a frame: header, seq, stamp, two strings and the blob length. */
    size_t overhead = 8 + 8 + 2 + (size_t)lr->path_len + 1 + 2 +
                      lr->enc_len + 1 + 4;
    if (len > SIZE_MAX - overhead || len + overhead > n->opts.max_payload) {
        st = IPCN_BAD_REQUEST;
        goto out;
    }
    uint64_t seq, now;
    if ((st = ipcn__pub_next(n, lr, data, len, &seq, &now)) != IPCN_OK)
        goto out;
    /* Encode once, copy the frame to each interested link. */
    if (lr->nroute) {
        ipcn__hdr h;
        ipcn__link_hdr(n, &h, 0, 0);
        ipcn__sample s = {.seq = seq,
                          .timestamp_ns = now,
                          .path = {lr->path, lr->path_len},
                          .encoding = {lr->encoding, lr->enc_len},
                          .data = ipcn__blob_of(data, len)};
        n->scratch.len = 0;
        if ((st = ipcn__enc_sample(&n->scratch, &h, &s)) != IPCN_OK)
            goto out;
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
        pub_local_to(n, lr, data, len, seq, now);
out:
    ipcn__node_unlock(n);
    return st;
}

void ipcn__pub_node_free(ipcn_node *n)
{
    ipcn__htab_free(&n->local_idx);
    ipcn__htab_free(&n->remote_idx);
    ipcn__msgpool_close(n->msgpool);
    n->msgpool = NULL;
}

/* ---- who subscribes to what ---- */

static int cmp_subscription(const void *a, const void *b)
{
    const ipcn_subscription *x = a, *y = b;
    int c = strcmp(x->node, y->node);
    return c ? c : strcmp(x->pattern, y->pattern);
}

IPCN_API int ipcn_subscriptions(ipcn_node *n, ipcn_subscription_list **out)
{
    if (!n || !out)
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    size_t count = 0, bytes = 0;
    ipcn__interest *in;
    ipcn__list_for_each(in, t, &n->interests, ipcn__interest, entry) {
        count++;
        bytes += strlen(n->name) + strlen(in->pattern) + 2;
    }
    ipcn__link *l;
    ipcn__list_for_each(l, t2, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP)
            continue;
        for (uint32_t i = 0; i < l->npatterns; i++) {
            count++;
            bytes += strlen(l->name) + strlen(l->patterns[i]) + 2;
        }
    }
    ipcn_subscription_list *sl =
        ipcn__malloc(sizeof *sl + count * sizeof(ipcn_subscription) + bytes);
    if (!sl) {
        ipcn__node_unlock(n);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    sl->count = count;
    sl->items = (ipcn_subscription *)(sl + 1);
    char *sp = (char *)(sl->items + count);
    size_t k = 0;
#define PUT(dst, src)                         \
    do {                                      \
        size_t len_ = strlen(src) + 1;        \
        memcpy(sp, (src), len_);              \
        (dst) = sp;                           \
        sp += len_;                           \
    } while (0)
    ipcn__list_for_each(in, t3, &n->interests, ipcn__interest, entry) {
        ipcn_subscription *x = &sl->items[k++];
        PUT(x->node, n->name);
        PUT(x->pattern, in->pattern);
        x->node_id = n->id;
    }
    ipcn__list_for_each(l, t4, &n->links, ipcn__link, node_entry) {
        if (l->state != LINK_UP)
            continue;
        for (uint32_t i = 0; i < l->npatterns; i++) {
            ipcn_subscription *x = &sl->items[k++];
            PUT(x->node, l->name);
            PUT(x->pattern, l->patterns[i]);
            x->node_id = l->peer_id;
        }
    }
#undef PUT
    ipcn__node_unlock(n);
    qsort(sl->items, count, sizeof(ipcn_subscription), cmp_subscription);
    *out = sl;
    return IPCN_OK;
}

IPCN_API void ipcn_subscription_list_free(ipcn_subscription_list *sl)
{
    ipcn__free(sl);
}
