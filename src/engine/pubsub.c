/* SPDX-License-Identifier: MIT */
/*
 * pubsub.c — subscriptions: their queues and delivery, and the patterns
 * told to peers.
 *
 * A node tells each peer the patterns it subscribes to (once per distinct
 * pattern); a publisher sends a sample once to each peer with a matching
 * pattern, and that peer fans it out to its own subscriptions, each with a
 * bounded queue.  Who receives a sample is decided in router.c alone.
 * Every sample that does not arrive is counted: dropped here (queue
 * full), lost upstream (a gap in the sequence numbers), or dropped by the
 * publisher (link saturated).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/router.h"
#include "msg/msg.h"
#include "engine/engine.h"

#define DEFAULT_DEPTH 64

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

void ipcn__sub_push(ipcn_node *n, ipcn__sub *s, ipcn__msg *m)
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

void ipcn__pub_routes_changed(ipcn_node *n, bool subs)
{
    n->route_gen++;
    if (subs)
        n->sub_gen++;
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
        ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME, "invalid pattern");
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
    if (ipcn__gate_pattern(n, l, p->p) != IPCN_OK) {
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

/* ---- public calls ---- */

IPCN_API void ipcn_sub_opts_init(ipcn_sub_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
}

IPCN_API int ipcn_subscribe(ipcn_node *n, const char *pattern,
                            uint32_t queue_depth, ipcn_sample_fn fn,
                            void *user, ipcn_sub *out)
{
    ipcn_sub_opts o;
    ipcn_sub_opts_init(&o);
    o.queue_depth = queue_depth;
    return ipcn_subscribe_ex(n, pattern, &o, fn, user, out);
}

IPCN_API int ipcn_subscribe_ex(ipcn_node *n, const char *pattern,
                               const ipcn_sub_opts *opts, ipcn_sample_fn fn,
                               void *user, ipcn_sub *out)
{
    ipcn_sub_opts o;
    ipcn_sub_opts_init(&o);
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_pattern[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &pattern, wire_pattern) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !pattern || !out ||
        ipcn__pattern_check(pattern, strlen(pattern)) != IPCN_OK ||
        (opts && ipcn__sized_in(&o, sizeof o, opts,
                                IPCN__SIZE_TO(ipcn_sub_opts, flags)) !=
                     IPCN_OK) ||
        (o.flags & ~IPCN_SUB_NO_HISTORY))
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
    s->depth = o.queue_depth ? o.queue_depth : DEFAULT_DEPTH;
    s->no_history = o.flags & IPCN_SUB_NO_HISTORY;
    s->fn = fn;
    s->user = user;
    do
        s->id = ++n->next_sub_id;
    while (s->id == 0 || sub_by_id(n, s->id));
    ipcn__list_insert_tail(&n->subs, &s->entry);
    ipcn__pub_routes_changed(n, true);
    ipcn__own_subs_changed(n);
    /* What providers keep comes first: this node's own now, its peers'
     * as they answer (after the SUBSCRIBE above, on each link). */
    ipcn__latch_on_sub(n, s);
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
    ipcn__latch_sub_gone(n, s);
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
    ipcn__own_subs_changed(n);
    ipcn__node_unlock(n);
    return IPCN_OK;
}

IPCN_API int ipcn_sub_get_stats(ipcn_node *n, ipcn_sub sub, ipcn_sub_stats *out)
{
    if (!n ||
        ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_sub_stats, notices)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_sub_stats o;
    ipcn__node_lock(n);
    ipcn__sub *s = sub_by_id(n, sub.id);
    if (s)
        o = (ipcn_sub_stats){.size = sizeof o,
                                .received = s->received,
                                .delivered = s->delivered,
                                .dropped = s->dropped,
                                .lost = s->lost,
                                .queued = s->queued,
                                .withheld = s->withheld,
                                .unmappable = s->unmappable,
                                .resets = s->resets,
                                .notices = s->notices,
                                .standby = s->standby,
                                .nonconforming = s->nonconforming,
                                .history = s->history};
    ipcn__node_unlock(n);
    if (!s)
        return IPCN_NOT_FOUND;
    ipcn__sized_out(out, &o, sizeof o);
    return IPCN_OK;
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
            bytes += strlen(l->who.name) + strlen(l->patterns[i]) + 2;
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
            PUT(x->node, l->who.name);
            PUT(x->pattern, l->patterns[i]);
            x->node_id = l->who.node_id;
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
