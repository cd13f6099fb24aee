/* SPDX-License-Identifier: MIT */
/*
 * latch.c — subscribers that come late (docs/protocol.md 10.3): a new
 * subscription gets what providers keep for it (a data resource's current
 * value, a stream's last samples: keep.c) before the live samples, with no
 * gap and no duplicate.
 *
 * Subscriber's side.  A subscription asks each peer for a replay, once
 * per link: a SUBSCRIBE of its pattern with a corr, when it is made (to
 * the peers linked then) and when a link comes up (for the subscriptions
 * there are then).  The peer answers at the point in its stream where it
 * took the SUBSCRIBE: the kept samples, each a SAMPLE or SHM_SAMPLE with
 * that corr, then a REPLY.  Frames on a link keep their order, and the
 * peer sends every sample published after that point live, so what comes
 * live before the REPLY was published before the point: until the REPLY,
 * the subscription holds back the live samples of that peer's kept streams
 * (the replay has them, and they must come after the older kept ones),
 * and takes the live values of its latched data resources but notes their
 * seq, so that the replay does not bring one of them again (the value it
 * brings is the newest, which came live already when any did).  It takes
 * the replayed samples alone.  After the REPLY, whatever the peer
 * announces later comes live: nothing is asked again on that link.  (Asked
 * only when the peer announced something kept, the replay would come late
 * for a resource announced after the subscription reached the peer, and
 * its first sample after the other resources' later ones.)
 *
 * Provider's side.  A SUBSCRIBE with a corr is a SUBSCRIBE (pubsub.c),
 * then the replay of what matches it and the peer may read.
 */
#include <string.h>

#include "engine/router.h"
#include "msg/msg.h"

/* A data resource whose value came live during a replay. */
typedef struct ipcn__latch_seen {
    char *path;
    uint64_t seq;           /* the newest that came live */
} ipcn__latch_seen;

typedef struct ipcn__latch_wait {
    ipcn__list entry;       /* node->latch_waits */
    uint32_t sub_id, link_id; /* sub_id 0: its subscription ended first */
    uint64_t corr;          /* of the replay asked */
    ipcn__latch_seen *seen;
    uint32_t nseen, cap_seen;
} ipcn__latch_wait;

static void seen_free(ipcn__latch_wait *w)
{
    for (uint32_t i = 0; i < w->nseen; i++)
        ipcn__free(w->seen[i].path);
    ipcn__free(w->seen);
    w->seen = NULL;
    w->nseen = w->cap_seen = 0;
}

static void wait_free(ipcn__latch_wait *w)
{
    ipcn__list_remove(&w->entry);
    seen_free(w);
    ipcn__free(w);
}

static ipcn__latch_seen *seen_of(ipcn__latch_wait *w, const char *path)
{
    for (uint32_t i = 0; i < w->nseen; i++)
        if (!strcmp(w->seen[i].path, path))
            return &w->seen[i];
    return NULL;
}

/* Note that seq of path came live during w (false: no memory). */
static bool seen_note(ipcn__latch_wait *w, const char *path, uint64_t seq)
{
    ipcn__latch_seen *x = seen_of(w, path);
    if (x) {
        if (seq > x->seq)
            x->seq = seq;
        return true;
    }
    if (w->nseen == w->cap_seen) {
        uint32_t cap = w->cap_seen ? w->cap_seen * 2 : 4;
        ipcn__latch_seen *ns = ipcn__realloc(w->seen, cap * sizeof *ns);
        if (!ns)
            return false;
        w->seen = ns;
        w->cap_seen = cap;
    }
    char *p = ipcn__strdup(path);
    if (!p)
        return false;
    w->seen[w->nseen++] = (ipcn__latch_seen){p, seq};
    return true;
}

static ipcn__sub *sub_find(ipcn_node *n, uint32_t id)
{
    ipcn__sub *s;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry)
        if (s->id == id)
            return s;
    return NULL;
}

static ipcn__latch_wait *wait_of(ipcn_node *n, uint32_t sub_id,
                                 uint32_t link_id)
{
    ipcn__latch_wait *w;
    ipcn__list_for_each(w, t, &n->latch_waits, ipcn__latch_wait, entry)
        if (w->sub_id == sub_id && w->link_id == link_id)
            return w;
    return NULL;
}

/* The replays asked and not ended: a short list (one per subscription and
 * link during the moment each takes). */
static ipcn__latch_wait *wait_by_corr(ipcn_node *n, uint32_t link_id,
                                      uint64_t corr)
{
    ipcn__latch_wait *w;
    ipcn__list_for_each(w, t, &n->latch_waits, ipcn__latch_wait, entry)
        if (w->corr == corr && w->link_id == link_id)
            return w;
    return NULL;
}

static bool sub_wants(const ipcn__sub *s, const char *path)
{
    return ipcn__pattern_match(s->pattern, strlen(s->pattern), path,
                               strlen(path));
}

/* The replay of w ended (its REPLY came, or it never will): its
 * subscription holds nothing back any more, and w goes.  (Each pair of
 * subscription and link is asked once: when the subscription is made for
 * the links that are up, when a link comes up for the subscriptions there
 * are; so nothing of w need be remembered after.) */
static void wait_end(ipcn_node *n, ipcn__latch_wait *w)
{
    ipcn__sub *s = w->sub_id ? sub_find(n, w->sub_id) : NULL;
    if (w->sub_id)
        n->latch_active--;
    if (s && s->awaiting)
        s->awaiting--;
    wait_free(w);
}

/* Ask l to replay what it keeps of s's pattern. */
static void ask(ipcn_node *n, ipcn__sub *s, ipcn__link *l)
{
    ipcn__latch_wait *w = ipcn__calloc(1, sizeof *w);
    if (!w) {
        ipcn__warn("IPCN-LATCH-NOMEM", "%s: no memory to ask %s for what it "
                   "keeps of %s: live samples only", n->name, l->who.name,
                   s->pattern);
        return;
    }
    w->sub_id = s->id;
    w->link_id = l->id;
    n->latch_next = (n->latch_next + 1) & ~IPCN__LATCH_CORR;
    w->corr = IPCN__LATCH_CORR | n->latch_next;
    ipcn__list_insert_tail(&n->latch_waits, &w->entry);
    s->awaiting++;
    n->latch_active++;
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, w->corr);
    size_t mark = ipcn__link_tx_mark(l, 0);
    uint32_t link_id = w->link_id;
    uint64_t corr = w->corr;
    int st = ipcn__link_commit(n, l, mark,
                               ipcn__enc_text(&l->tx, &h, IPCN_F_SUBSCRIBE,
                                              s->pattern, strlen(s->pattern)));
    /* No answer will come: hold nothing back.  The commit may have closed
     * the link, whose LINK_DOWN ended w already: look it up again. */
    if (st != IPCN_OK && (w = wait_by_corr(n, link_id, corr)))
        wait_end(n, w);
}

static bool link_latches(const ipcn__link *l)
{
    return l && l->state == LINK_UP && (l->peer_caps & IPCN_CAP_LATCH);
}

/* ---- this node's own resources ---- */

/* A copy of a kept sample of lr for s, counted. */
static void give_local(ipcn_node *n, ipcn__sub *s, ipcn__local *lr,
                       const void *data, size_t len, uint64_t seq,
                       uint64_t stamp)
{
    ipcn__msg *m = ipcn__msg_new_in(&n->msgpool, lr->path, strlen(lr->path),
                                    lr->encoding, strlen(lr->encoding),
                                    n->name, strlen(n->name), n->id, data,
                                    len);
    s->received++;
    s->history++;
    lr->replayed++;
    if (!m) {
        s->dropped++;
        return;
    }
    m->pub.seq = seq;
    m->pub.timestamp_ns = stamp;
    ipcn__sub_push(n, s, m);
}

/* Under the lock, as publishes are: nothing comes between the kept
 * samples and the next publish. */
static void replay_local(ipcn_node *n, ipcn__sub *s)
{
    ipcn__local *lr;
    ipcn__list_for_each(lr, t, &n->locals, ipcn__local, entry) {
        if (lr->kind == IPCN_SERVICE || !lr->keep ||
            ipcn__own_standby_local(lr) || !sub_wants(s, lr->path))
            continue;
        if (lr->kind == IPCN_DATA) {
            if (!lr->value)
                continue;
            lr->replays++;
            give_local(n, s, lr, lr->value->data, lr->value->len,
                       lr->value->seq, lr->value->timestamp_ns);
            continue;
        }
        ipcn__keep_prune(n, lr);
        ipcn__keep *k = lr->kept;
        if (!k || !k->count)
            continue;
        lr->replays++;
        for (uint32_t i = 0; i < k->count; i++) {
            ipcn__kept_item *it = ipcn__kept_at(k, i);
            const void *data = it->msg ? it->msg->pub.data
                                       : ipcn__pool_kept_data(n, &it->ref);
            size_t len = it->msg ? it->msg->pub.len : it->ref.len;
            if (data) /* (whole: pruned just now) */
                give_local(n, s, lr, data, len, it->seq, it->stamp);
        }
    }
}

/* ---- subscriber's side ---- */

void ipcn__latch_on_sub(ipcn_node *n, ipcn__sub *s)
{
    if (s->no_history)
        return;
    replay_local(n, s);
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (link_latches(l))
            ask(n, s, l);
}

void ipcn__latch_on_link_up(ipcn_node *n, ipcn__link *l)
{
    if (!link_latches(l))
        return;
    ipcn__sub *s;
    ipcn__list_for_each(s, t, &n->subs, ipcn__sub, entry) {
        if (l->state != LINK_UP)
            return;
        if (!s->no_history && !wait_of(n, s->id, l->id))
            ask(n, s, l);
    }
}

bool ipcn__latch_holds(ipcn_node *n, const ipcn__sub *s,
                       const ipcn__remote *r, uint64_t seq)
{
    if (!s->awaiting || !r->keep)
        return false;
    ipcn__latch_wait *w = wait_of(n, s->id, r->link_id);
    if (!w)
        return false;
    /* No memory to note it: held back too (the replay brings it). */
    return r->kind != IPCN_DATA || !seen_note(w, r->path, seq);
}

void ipcn__latch_sub_gone(ipcn_node *n, ipcn__sub *s)
{
    ipcn__latch_wait *w;
    ipcn__list_for_each(w, t, &n->latch_waits, ipcn__latch_wait, entry) {
        if (w->sub_id != s->id)
            continue;
        /* Its replay still comes: kept as an orphan until it ends, so that
         * its frames are known (and dropped), not taken for a peer's stray
         * ones. */
        n->latch_active--;
        w->sub_id = 0;
        seen_free(w);
    }
    s->awaiting = 0;
}

void ipcn__latch_on_link_down(ipcn_node *n, ipcn__link *l)
{
    ipcn__latch_wait *w;
    ipcn__list_for_each(w, t, &n->latch_waits, ipcn__latch_wait, entry) {
        if (w->link_id == l->id)
            wait_end(n, w); /* its subscription holds nothing back now */
    }
}

void ipcn__latch_free_all(ipcn_node *n)
{
    ipcn__latch_wait *w;
    ipcn__list_for_each(w, t, &n->latch_waits, ipcn__latch_wait, entry)
        wait_free(w);
}

/* The subscription a replayed sample of path from l is for, with its
 * resource: NULL when it is for none any more (it ended, or was
 * unsubscribed), or for what it may not take. */
static ipcn__sub *replay_target(ipcn_node *n, ipcn__link *l, uint64_t corr,
                                const char *path, uint64_t seq, size_t len)
{
    ipcn__latch_wait *w = wait_by_corr(n, l->id, corr);
    ipcn__sub *s = w ? sub_find(n, w->sub_id) : NULL;
    if (!s)
        return NULL;
    ipcn__remote *r = ipcn__remote_find(n, path, l->id);
    if (!r || r->kind == IPCN_SERVICE) {
        /* Samples only come for what the peer announced first. */
        l->bad_frames++;
        n->stats.bad_frames++;
        ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME,
                          "replay of a resource it did not announce");
        return NULL;
    }
    if (r->denied) {
        l->denied++;
        n->stats.denied++;
        return NULL;
    }
    /* A standby's, another pattern's, over the peer's limits, a value that
     * came live already: not taken. */
    ipcn__latch_seen *x = r->kind == IPCN_DATA ? seen_of(w, path) : NULL;
    if (ipcn__own_standby_remote(r) || !sub_wants(s, path) ||
        (x && seq <= x->seq) || !ipcn__limit_sample(n, l, path, len))
        return NULL;
    return s;
}

void ipcn__latch_on_sample(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    bool shm = f->hdr.type == IPCN_F_SHM_SAMPLE;
    const ipcn__shm_sample *ss = &f->u.shm_sample;
    const ipcn__sample *sa = &f->u.sample;
    const ipcn__str *path = shm ? &ss->path : &sa->path;
    const ipcn__str *enc = shm ? &ss->encoding : &sa->encoding;
    uint64_t seq = shm ? ss->seq : sa->seq;
    ipcn__shm_map *m = NULL;
    if (shm && !(m = ipcn__map_of_sample(n, l, ss)))
        return; /* bytes outside a pool of the link: counted */
    ipcn__sub *s = replay_target(n, l, f->hdr.corr, path->p, seq,
                                 shm ? ss->len : sa->data.len);
    if (!s || (m && !m->base)) {
        if (s)
            s->unmappable++;
        if (m) /* its slot goes back at once */
            ipcn__map_give_back(m, ss->slot, ss->gen);
        return;
    }
    ipcn__msg *msg = ipcn__msg_new_in(&n->msgpool, path->p, path->len, enc->p,
                                      enc->len, l->who.name,
                                      strlen(l->who.name), l->who.node_id,
                                      shm ? NULL : sa->data.p,
                                      shm ? 0 : sa->data.len);
    s->received++;
    s->history++;
    if (!msg) {
        s->dropped++;
        if (m)
            ipcn__map_give_back(m, ss->slot, ss->gen);
        return;
    }
    msg->pub.seq = seq;
    msg->pub.timestamp_ns = shm ? ss->timestamp_ns : sa->timestamp_ns;
    if (m)
        ipcn__map_msg_attach(msg, m, ss);
    ipcn__remote *r = ipcn__remote_find(n, path->p, l->id);
    /* A replayed value of a typed resource is checked as a live one is
     * (typed.c): a provider that skipped its own check is caught here. */
    if (r && !ipcn__typed_check_remote(n, l, r, msg->pub.data, msg->pub.len)) {
        s->nonconforming++;
        ipcn_msg_free(&msg->pub); /* gives its slot back */
        return;
    }
    /* Loss counting goes on from the newest replayed, unless live samples
     * of r were counted already: a gap after the newest of those is the
     * other subscriptions' loss, which must not be hidden. */
    if (r && !r->live_seen && seq > r->last_seq)
        r->last_seq = seq;
    ipcn__sub_push(n, s, msg);
}

void ipcn__latch_on_end(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    ipcn__latch_wait *w = wait_by_corr(n, l->id, f->hdr.corr);
    if (!w) {
        /* Never asked (or ended already): a stray REPLY, counted as any. */
        l->bad_frames++;
        n->stats.bad_frames++;
        return;
    }
    if (f->hdr.status != IPCN_OK)
        ipcn__debug("IPCN-LATCH-REFUSED", "%s: %s did not replay what it "
                    "keeps: %d %s", n->name, l->who.name, f->hdr.status,
                    ipcn_status_str(f->hdr.status));
    wait_end(n, w);
}

/* ---- provider's side ---- */

/* One kept sample inline to l, as a replay (corr).  must: queued even
 * past the link's tx_limit, as a control frame is (a data resource's one
 * value); else dropped (counted) when it does not fit.  True when queued. */
static bool send_inline(ipcn_node *n, ipcn__link *l, const ipcn__local *lr,
                        uint64_t corr, const void *data, size_t len,
                        uint64_t seq, uint64_t stamp, bool must)
{
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, corr);
    ipcn__sample sa = {.seq = seq, .timestamp_ns = stamp,
                       .path = ipcn__str_of(lr->path),
                       .encoding = ipcn__str_of(lr->encoding),
                       .data = ipcn__blob_of(data, len)};
    int st;
    if (!data && len) {
        st = IPCN_NOT_FOUND;
    } else if (must) {
        size_t mark = ipcn__link_tx_mark(l, len);
        st = ipcn__link_commit(n, l, mark, ipcn__enc_sample(&l->tx, &h, &sa));
    } else {
        n->scratch.len = 0;
        st = ipcn__enc_sample(&n->scratch, &h, &sa);
        if (st == IPCN_OK) /* counts its own drop */
            st = ipcn__link_send_raw(n, l, n->scratch.p, n->scratch.len,
                                     true);
        if (n->scratch.cap > (1u << 20))
            ipcn__wbuf_free(&n->scratch);
        if (st != IPCN_INSUFFICIENT_MEMORY)
            return st == IPCN_OK;
    }
    if (st != IPCN_OK) {
        l->drops++;
        n->stats.drops++;
    }
    return st == IPCN_OK;
}

/* The first kept sample of k to replay to l: the newest that fit, with no
 * gap between them, in what l's queue may still take (tx_limit) and in the
 * slots it may still hold of their pool (its share). */
static uint32_t replay_from(ipcn_node *n, ipcn__link *l,
                            const ipcn__local *lr, ipcn__keep *k)
{
    bool shm = ipcn__pool_link_takes(n, l);
    size_t backlog = ipcn__link_backlog(l);
    size_t room = backlog < n->opts.tx_limit ? n->opts.tx_limit - backlog : 0;
    size_t head = IPCN_WIRE_HDR_SIZE + 128 + strlen(lr->path) +
                  strlen(lr->encoding); /* a frame but its data */
    uint32_t slots = 0;
    for (uint32_t i = k->count; i-- > 0;) {
        ipcn__kept_item *it = ipcn__kept_at(k, i);
        size_t frame = head;
        if (!it->msg && shm) {
            if (slots == ipcn__pool_room(n, l, &it->ref))
                return i + 1;
            slots++;
        } else {
            frame += it->msg ? it->msg->pub.len : it->ref.len;
        }
        if (frame > room)
            return i + 1;
        room -= frame;
    }
    return 0;
}

/* What lr keeps, to l as a replay (corr); how many samples went. */
static uint64_t replay(ipcn_node *n, ipcn__link *l, ipcn__local *lr,
                       uint64_t corr)
{
    uint64_t sent = 0;
    if (lr->kind == IPCN_DATA) {
        ipcn_msg *v = lr->value;
        if (v && send_inline(n, l, lr, corr, v->data, v->len, v->seq,
                             v->timestamp_ns, true))
            sent++;
    } else {
        ipcn__keep_prune(n, lr);
        ipcn__keep *k = lr->kept;
        bool shm = ipcn__pool_link_takes(n, l);
        for (uint32_t i = k ? replay_from(n, l, lr, k) : 0;
             k && i < k->count && l->state == LINK_UP; i++) {
            ipcn__kept_item *it = ipcn__kept_at(k, i);
            bool ok;
            if (it->msg)
                ok = send_inline(n, l, lr, corr, it->msg->pub.data,
                                 it->msg->pub.len, it->seq, it->stamp, false);
            else if (shm)
                ok = ipcn__pool_send_kept(n, l, &it->ref, corr, lr->path,
                                          lr->encoding, it->seq,
                                          it->stamp) == IPCN_OK;
            else /* a peer without shared memory gets the bytes */
                ok = send_inline(n, l, lr, corr,
                                 ipcn__pool_kept_data(n, &it->ref),
                                 it->ref.len, it->seq, it->stamp, false);
            sent += ok;
        }
    }
    if (sent) {
        lr->replays++;
        lr->replayed += sent;
    }
    return sent;
}

static bool link_has_pattern(const ipcn__link *l, const char *p)
{
    for (uint32_t i = 0; i < l->npatterns; i++)
        if (!strcmp(l->patterns[i], p))
            return true;
    return false;
}

void ipcn__latch_on_subscribe(ipcn_node *n, ipcn__link *l,
                              const ipcn__frame *f)
{
    const ipcn__str *p = &f->u.text;
    uint64_t corr = f->hdr.corr;
    ipcn__pub_on_subscribe(n, l, p, true);
    if (l->state != LINK_UP)
        return;
    if (!link_has_pattern(l, p->p)) {
        /* Refused (and told, pubsub.c): the replay ends at once. */
        int st = ipcn__pattern_check(p->p, p->len) == IPCN_OK
                     ? IPCN_TOO_MANY_REQUESTS
                     : IPCN_BAD_REQUEST;
        ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr, st, "", NULL, 0, 0, 0);
        return;
    }
    if (!ipcn__prov_within_limits(n, l, IPCN_F_REPLY, corr, p->p, 0))
        return;
    uint64_t sent = 0;
    ipcn__local *lr;
    ipcn__list_for_each(lr, t, &n->locals, ipcn__local, entry) {
        if (lr->kind == IPCN_SERVICE || !lr->keep ||
            ipcn__own_standby_local(lr) ||
            !ipcn__pattern_match(p->p, p->len, lr->path, strlen(lr->path)) ||
            !ipcn__access_visible(n, l, lr))
            continue;
        sent += replay(n, l, lr, corr);
        if (l->state != LINK_UP)
            return;
    }
    /* seq: how many samples came before it. */
    ipcn__prov_send_reply(n, l, IPCN_F_REPLY, corr, IPCN_OK, "", NULL, 0, sent,
                          0);
}
