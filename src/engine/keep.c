/* SPDX-License-Identifier: MIT */
/*
 * keep.c — what a provider keeps for subscribers that come later
 * (docs/protocol.md 10.3): a data resource's current value (latched, the
 * default: it is lr->value), and a stream's last samples when its
 * publisher asks (ipcn_announce_keep()).  Who gets them, and how, is
 * latch.c; this is the keep itself.
 *
 * A stream keeps a ring of its last lr->keep samples: small ones as a
 * copy of their bytes (at most IPCN__KEEP_MAX_BYTES of them), large ones
 * as a hold on their slot of the resource's pool (shm/pool.c, the holder
 * IPCN__KEEPER).  The ring is always a run of consecutive samples, so that
 * a replay has no gap: what breaks it (a slot taken back, a copy that
 * could not be made) gives up every older one too, counted as evicted.
 */
#include <string.h>

#include "engine/engine.h"
#include "msg/msg.h"

_Static_assert(IPCN_KEEP_MAX == IPCN_WIRE_KEEP_MAX,
               "the public bound of a keep is the wire's");

static void item_drop(ipcn_node *n, ipcn__keep *k, ipcn__kept_item *it)
{
    if (it->msg) {
        k->bytes -= it->msg->pub.len;
        ipcn_msg_free(&it->msg->pub);
        it->msg = NULL;
    } else if (n) {
        ipcn__pool_unkeep(n, &it->ref);
    }
}

/* Give up the oldest count kept samples of lr; counted as evicted when
 * they go before their time. */
static void drop_oldest(ipcn_node *n, ipcn__local *lr, uint32_t count,
                        bool evicted)
{
    ipcn__keep *k = lr->kept;
    for (uint32_t i = 0; i < count && k->count; i++) {
        item_drop(n, k, ipcn__kept_at(k, 0));
        k->head = (k->head + 1) % k->cap;
        k->count--;
        if (evicted)
            lr->kept_evicted++;
    }
    if (!k->count)
        k->head = 0;
}

/* The ring of lr, made or remade for lr->keep items (NULL: no memory;
 * what was kept is then given up). */
static ipcn__keep *ring_of(ipcn_node *n, ipcn__local *lr)
{
    ipcn__keep *k = lr->kept;
    if (k && k->cap == lr->keep)
        return k;
    ipcn__keep *nk = ipcn__calloc(1, sizeof *nk +
                                         lr->keep * sizeof(ipcn__kept_item));
    if (k) {
        /* A new size: the newest samples that fit move over. */
        if (nk && k->count > lr->keep)
            drop_oldest(n, lr, k->count - lr->keep, false);
        if (!nk)
            drop_oldest(n, lr, k->count, true);
        for (uint32_t i = 0; nk && i < k->count; i++)
            nk->item[i] = *ipcn__kept_at(k, i);
        if (nk) {
            nk->count = k->count;
            nk->bytes = k->bytes;
        }
        ipcn__free(k);
    }
    if (nk)
        nk->cap = lr->keep;
    lr->kept = nk;
    return nk;
}

/* Room for one more: the oldest goes when the ring is full. */
static ipcn__kept_item *push(ipcn_node *n, ipcn__local *lr)
{
    ipcn__keep *k = lr->kept;
    if (k->count == k->cap)
        drop_oldest(n, lr, 1, false);
    ipcn__kept_item *it = &k->item[(k->head + k->count) % k->cap];
    memset(it, 0, sizeof *it);
    k->count++;
    return it;
}

void ipcn__keep_bytes(ipcn_node *n, ipcn__local *lr, const void *data,
                      size_t len, uint64_t seq, uint64_t stamp)
{
    if (lr->kind != IPCN_STREAM || !lr->keep)
        return;
    ipcn__keep *k = ring_of(n, lr);
    if (!k)
        return;
    ipcn__msg *m = ipcn__msg_new_in(&n->msgpool, lr->path, strlen(lr->path),
                                    lr->encoding, strlen(lr->encoding),
                                    n->name, strlen(n->name), n->id, data,
                                    len);
    if (!m) {
        /* A hole would be a gap in every replay: none kept rather. */
        drop_oldest(n, lr, k->count, true);
        return;
    }
    m->pub.seq = seq;
    m->pub.timestamp_ns = stamp;
    ipcn__kept_item *it = push(n, lr);
    it->seq = seq;
    it->stamp = stamp;
    it->msg = m;
    k->bytes += len;
    while (k->bytes > IPCN__KEEP_MAX_BYTES && k->count > 1)
        drop_oldest(n, lr, 1, true);
}

void ipcn__keep_slot(ipcn_node *n, ipcn__local *lr, const ipcn__shm_out *o)
{
    if (lr->kind != IPCN_STREAM || !lr->keep)
        return;
    ipcn__keep *k = ring_of(n, lr);
    if (!k)
        return;
    ipcn__kept_ref ref;
    if (ipcn__pool_keep(o, &ref) != IPCN_OK) {
        drop_oldest(n, lr, k->count, true);
        return;
    }
    ipcn__kept_item *it = push(n, lr);
    it->seq = o->seq;
    it->stamp = o->now;
    it->ref = ref;
}

void ipcn__keep_prune(ipcn_node *n, ipcn__local *lr)
{
    ipcn__keep *k = lr->kept;
    for (uint32_t i = k ? k->count : 0; i-- > 0;) {
        ipcn__kept_item *it = ipcn__kept_at(k, i);
        if (!it->msg && !ipcn__pool_kept(n, &it->ref, NULL)) {
            drop_oldest(n, lr, i + 1, true);
            return;
        }
    }
}

void ipcn__keep_make_room(ipcn_node *n, ipcn__local *lr)
{
    ipcn__keep *k = lr->kept;
    if (!k || !lr->pool)
        return;
    ipcn__keep_prune(n, lr);
    while (!lr->pool->nfree && k->count) {
        /* The oldest slot of this pool that only the keep holds; what is
         * older goes with it, so that the ring stays one run. */
        uint32_t upto = UINT32_MAX;
        for (uint32_t i = 0; i < k->count && upto == UINT32_MAX; i++) {
            ipcn__kept_item *it = ipcn__kept_at(k, i);
            bool alone = false;
            if (!it->msg && it->ref.pool_id == lr->pool->id &&
                ipcn__pool_kept(n, &it->ref, &alone) && alone)
                upto = i;
        }
        if (upto == UINT32_MAX)
            return;
        drop_oldest(n, lr, upto + 1, true);
    }
}

void ipcn__keep_free(ipcn_node *n, ipcn__local *lr)
{
    ipcn__keep *k = lr->kept;
    if (!k)
        return;
    drop_oldest(n, lr, k->count, false);
    ipcn__free(k);
    lr->kept = NULL;
}

/* ---- public calls ---- */

IPCN_API int ipcn_announce_keep(ipcn_node *n, const char *path, ipcn_kind kind,
                                const char *encoding, const void *meta,
                                size_t meta_len, unsigned keep)
{
    /* The name as on the wire: namespace and remap (naming.c). */
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || (kind != IPCN_DATA && kind != IPCN_STREAM) ||
        keep > IPCN_KEEP_MAX || (kind == IPCN_DATA && keep > 1))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = ipcn__dir_announce_keep(n, path, kind, encoding, meta, meta_len,
                                     (uint16_t)keep);
    ipcn__node_unlock(n);
    return st;
}

void ipcn__keep_set(ipcn_node *n, ipcn__local *lr, uint16_t keep)
{
    lr->keep = keep;
    if (!lr->kept)
        return;
    if (!keep || lr->kind != IPCN_STREAM)
        ipcn__keep_free(n, lr);
    else
        ring_of(n, lr);
}

IPCN_API int ipcn_keep_get_stats(ipcn_node *n, const char *path,
                                 ipcn_keep_stats *out)
{
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path ||
        ipcn__sized_check(out, sizeof(ipcn_keep_stats)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_keep_stats s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    ipcn__node_lock(n);
    ipcn__local *lr = ipcn__local_find(n, path);
    if (!lr || lr->kind == IPCN_SERVICE) {
        ipcn__node_unlock(n);
        return IPCN_NOT_FOUND;
    }
    ipcn__keep_prune(n, lr);
    s.keep = lr->keep;
    ipcn__keep *k = lr->kept;
    if (lr->kind == IPCN_DATA) {
        s.kept = lr->keep && lr->value;
    } else if (k) {
        s.kept = k->count;
        for (uint32_t i = 0; i < k->count; i++)
            s.kept_slots += !ipcn__kept_at(k, i)->msg;
        s.kept_bytes = k->bytes;
    }
    s.evicted = lr->kept_evicted;
    s.replays = lr->replays;
    s.replayed = lr->replayed;
    ipcn__node_unlock(n);
    ipcn__sized_out(out, &s, sizeof s);
    return IPCN_OK;
}
