/* SPDX-License-Identifier: MIT */
/*
 * pool.c — the publisher's side of shared-memory samples: pools, loans,
 * sending a slot to a link, and taking slots back.  Mechanism only: which
 * links a sample goes to is the router's (engine/router.c), and the public
 * calls on loans are engine/loan.c.
 *
 * A pool is a memfd sealed against shrinking, growing and new writable
 * shared mappings (F_SEAL_FUTURE_WRITE), mapped read-write here before the
 * seal.  A reader therefore can only map it read-only (or privately), and
 * cannot make our mapping fault by shrinking the file.  Each slot records
 * which links hold it; a RELEASE, a closed link, or a reclaim under
 * IPCN_POOL_DROP_OLDEST ends a hold.  Free slots are reused lowest first,
 * so a pool whose readers keep up touches few pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine/engine.h"

#define DEFAULT_SLOTS 64
#define MIN_SLOT_SIZE ((size_t)64 << 10)

IPCN_API void ipcn_pool_opts_init(ipcn_pool_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->slots = DEFAULT_SLOTS;
    o->policy = IPCN_POOL_DROP_OLDEST;
    o->checksum = 1;
}

ipcn_pool_opts ipcn__pool_opts_of(const ipcn_pool_opts *set)
{
    ipcn_pool_opts o;
    if (set->size)
        return *set;
    ipcn_pool_opts_init(&o);
    return o;
}

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

static size_t round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

/* ---- pools ---- */

static void send_drop(ipcn_node *n, ipcn__pool *p)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        for (uint32_t i = 0; i < l->npools_sent; i++) {
            if (l->pools_sent[i] != p->id)
                continue;
            l->pools_sent[i] = l->pools_sent[--l->npools_sent];
            if (l->state == LINK_UP) {
                ipcn__hdr h;
                ipcn__link_hdr(n, &h, 0, 0);
                ipcn__shm_ref r = {p->id, 0, 0};
                size_t mark = ipcn__link_tx_mark(l, 0);
                ipcn__link_commit(n, l, mark,
                                  ipcn__enc_shm_refs(&l->tx, &h, IPCN_F_SHM_DROP,
                                                     &r, 1));
            }
            break;
        }
    }
}

static void pool_free(ipcn_node *n, ipcn__pool *p, bool tell)
{
    if (tell)
        send_drop(n, p);
    ipcn__list_remove(&p->entry);
    for (uint32_t i = 0; p->slot && i < p->slots; i++)
        ipcn__free(p->slot[i].holders);
    ipcn__free(p->slot);
    if (p->base)
        munmap(p->base, p->slot_size * p->slots);
    if (p->fd >= 0)
        close(p->fd);
    ipcn__free(p->path);
    ipcn__free(p);
}

/* A retired pool goes once nothing holds any of its slots. */
static void maybe_free(ipcn_node *n, ipcn__pool *p)
{
    if (p->retired && p->nfree == p->slots)
        pool_free(n, p, true);
}

void ipcn__pool_retire(ipcn_node *n, ipcn__pool **cur)
{
    ipcn__pool *p = *cur;
    if (!p)
        return;
    *cur = NULL;
    p->retired = true;
    maybe_free(n, p);
}

/* A new pool whose slots hold need bytes; prev: the slot size of the pool
 * it replaces because a loan outgrew it (0: none). */
static int pool_new(ipcn_node *n, const char *path, ipcn_pool_opts o,
                    size_t need, size_t prev, ipcn__pool **out)
{
    size_t ps = page_size();
    size_t slot_size = o.slot_size;
    if (!slot_size || slot_size < need) {
        /* Sized to the sample (rounded to pages below), not to a power of
         * two: an 8 MiB tensor and its header take 8 MiB and a page, not
         * 16 MiB.  A pool that a sample outgrew is replaced by one at
         * least half as large again, so that a stream whose samples keep
         * growing makes few pools. */
        slot_size = need > MIN_SLOT_SIZE ? need : MIN_SLOT_SIZE;
        size_t grown = prev + prev / 2;
        if (prev && slot_size < grown && grown <= IPCN_SHM_MAX_SLOT_SIZE &&
            (uint64_t)round_up(grown, ps) * o.slots <= IPCN_SHM_MAX_POOL_SIZE)
            slot_size = grown;
    }
    slot_size = round_up(slot_size, ps);
    if (slot_size > IPCN_SHM_MAX_SLOT_SIZE ||
        (uint64_t)slot_size * o.slots > IPCN_SHM_MAX_POOL_SIZE)
        return IPCN_BAD_REQUEST;
    ipcn__pool *p = ipcn__calloc(1, sizeof *p);
    if (!p)
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn__list_init(&p->entry);
    p->fd = -1;
    p->slots = o.slots;
    /* One reader may hold all but an eighth of the pool: enough for deep
     * queues, and a hoarder still leaves the publisher room to loan. */
    p->share = o.slots - (o.slots / 8 ? o.slots / 8 : 1);
    p->slot_size = slot_size;
    p->policy = o.policy;
    p->checksum = o.checksum != 0;
    p->nfree = o.slots;
    p->path = ipcn__strdup(path);
    p->slot = ipcn__calloc(o.slots, sizeof *p->slot);
    if (!p->path || !p->slot)
        goto oom;
    size_t size = slot_size * o.slots;
    p->fd = memfd_create("ipcnet-pool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (p->fd < 0 || ftruncate(p->fd, (off_t)size) < 0) {
        ipcn__warn("IPCN-SHM-MEMFD", "%s: cannot make a %zu-byte pool for %s: %s",
                   n->name, size, *path ? path : "replies", strerror(errno));
        goto oom;
    }
    p->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
    if (p->base == MAP_FAILED) {
        p->base = NULL;
        goto oom;
    }
    /* Readers get the memfd: they may neither resize it (which would make
     * our mapping fault) nor map it writable and shared. */
    if (fcntl(p->fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0) {
        ipcn__warn("IPCN-SHM-SEAL", "%s: cannot seal a pool: %s", n->name,
                   strerror(errno));
        goto oom;
    }
    do
        p->id = ++n->next_pool_id;
    while (p->id == 0);
    ipcn__list_insert_tail(&n->pools, &p->entry);
    *out = p;
    return IPCN_OK;
oom:
    ipcn__list_insert_tail(&n->pools, &p->entry);
    pool_free(n, p, false);
    return IPCN_INSUFFICIENT_MEMORY;
}

void ipcn__pool_free_all(ipcn_node *n)
{
    ipcn__list *e;
    while ((e = ipcn__list_pop(&n->loans))) /* never ended: close ends them */
        ipcn__free(ipcn__list_entry(e, ipcn_loan, entry));
    while ((e = ipcn__list_pop(&n->pools))) {
        ipcn__pool *p = ipcn__list_entry(e, ipcn__pool, entry);
        ipcn__list_init(&p->entry);
        pool_free(n, p, false);
    }
}

/* ---- holds ---- */

static void slot_freed(ipcn__pool *p, ipcn__pslot *s)
{
    s->state = SLOT_FREE;
    s->nholders = 0;
    p->nfree++;
}

static bool drop_holder(ipcn__pslot *s, uint32_t link_id)
{
    for (uint32_t i = 0; i < s->nholders; i++) {
        if (s->holders[i] == link_id) {
            s->holders[i] = s->holders[--s->nholders];
            return true;
        }
    }
    return false;
}

static bool add_holder(ipcn__pslot *s, uint32_t link_id)
{
    if (s->nholders == s->cap_holders) {
        uint32_t cap = s->cap_holders ? s->cap_holders * 2 : 4;
        uint32_t *h = ipcn__realloc(s->holders, cap * sizeof *h);
        if (!h)
            return false;
        s->holders = h;
        s->cap_holders = cap;
    }
    s->holders[s->nholders++] = link_id;
    return true;
}

static uint32_t held_by(const ipcn__pool *p, uint32_t link_id)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->slots; i++)
        for (uint32_t j = 0; j < p->slot[i].nholders; j++)
            k += p->slot[i].holders[j] == link_id;
    return k;
}

/* A closed link holds nothing.  But a link also closes while its peer
 * lives on (dropped for silence while its handler was busy, quarantined):
 * a provider may still be reading a request of ours in a slot it held.
 * The request pool it held slots of is retired, so that those slots are
 * never written again (the provider's mapping keeps their pages); it goes
 * once nothing else holds any of its slots, and the next large request
 * starts a new pool (docs/protocol.md 12.9). */
void ipcn__pool_on_link_down(ipcn_node *n, ipcn__link *l)
{
    ipcn__pool *p;
    ipcn__list_for_each(p, t, &n->pools, ipcn__pool, entry) {
        bool held = false;
        for (uint32_t i = 0; i < p->slots; i++) {
            ipcn__pslot *s = &p->slot[i];
            if (!drop_holder(s, l->id))
                continue;
            held = true;
            if (s->state == SLOT_PUBLISHED && !s->nholders)
                slot_freed(p, s);
        }
        if (held && p == n->request_pool) {
            n->request_pool = NULL;
            p->retired = true;
        }
        maybe_free(n, p);
    }
}

static ipcn__pool *pool_by_id(ipcn_node *n, uint32_t id)
{
    ipcn__pool *p;
    ipcn__list_for_each(p, t, &n->pools, ipcn__pool, entry)
        if (p->id == id)
            return p;
    return NULL;
}

void ipcn__pool_on_release(ipcn_node *n, ipcn__link *l, const ipcn__shm_refs *r)
{
    for (uint32_t i = 0; i < r->count; i++) {
        ipcn__shm_ref x = ipcn__shm_ref_at(r, i);
        ipcn__pool *p = pool_by_id(n, x.pool_id);
        /* A release of a slot taken back since, or of a pool retired and
         * gone, is stale, not wrong: it crossed our REVOKE or DROP. */
        if (!p || x.slot >= p->slots)
            continue;
        ipcn__pslot *s = &p->slot[x.slot];
        if (s->gen != x.gen || s->state != SLOT_PUBLISHED)
            continue;
        if (drop_holder(s, l->id) && !s->nholders)
            slot_freed(p, s);
        maybe_free(n, p);
    }
}

/* Take the oldest published slot back from its readers. */
static int reclaim_oldest(ipcn_node *n, ipcn__pool *p)
{
    ipcn__pslot *old = NULL;
    uint32_t idx = 0;
    for (uint32_t i = 0; i < p->slots; i++) {
        ipcn__pslot *s = &p->slot[i];
        if (s->state == SLOT_PUBLISHED && (!old || s->order < old->order)) {
            old = s;
            idx = i;
        }
    }
    if (!old)
        return IPCN_INSUFFICIENT_STORAGE;
    for (uint32_t j = 0; j < old->nholders; j++) {
        ipcn__link *l = ipcn__link_by_id(n, old->holders[j]);
        if (!l || l->state != LINK_UP)
            continue;
        ipcn__hdr h;
        ipcn__link_hdr(n, &h, 0, 0);
        ipcn__shm_ref r = {p->id, idx, old->gen};
        size_t mark = ipcn__link_tx_mark(l, 0);
        ipcn__link_commit(n, l, mark,
                          ipcn__enc_shm_refs(&l->tx, &h, IPCN_F_SHM_REVOKE, &r, 1));
    }
    ipcn__debug("IPCN-SHM-RECLAIM", "%s: %s: pool full, took slot %u back from "
                "%u reader(s)", n->name, p->path, idx, old->nholders);
    slot_freed(p, old);
    return IPCN_OK;
}

/* ---- loans ---- */

int ipcn__pool_loan(ipcn_node *n, ipcn__pool **cur, const char *path,
                     ipcn_pool_opts o, uint64_t *refused, uint64_t *reclaimed,
                     size_t need, ipcn_loan **out)
{
    ipcn__pool *p = *cur;
    size_t prev = 0;
    if (p && need > p->slot_size) {
        prev = p->slot_size;
        ipcn__pool_retire(n, cur);
        p = NULL;
    }
    if (!p) {
        int st = pool_new(n, path, o, need, prev, &p);
        if (st != IPCN_OK)
            return st;
        *cur = p;
    }
    if (!p->nfree) {
        int st = p->policy == IPCN_POOL_DROP_OLDEST ? reclaim_oldest(n, p)
                                                    : IPCN_INSUFFICIENT_STORAGE;
        if (st != IPCN_OK) {
            if (refused)
                (*refused)++;
            return st;
        }
        if (reclaimed)
            (*reclaimed)++;
    }
    ipcn_loan *loan = ipcn__calloc(1, sizeof *loan);
    if (!loan)
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn__list_insert_tail(&n->loans, &loan->entry);
    uint32_t i = 0;
    while (p->slot[i].state != SLOT_FREE)
        i++;
    ipcn__pslot *s = &p->slot[i];
    s->state = SLOT_LOANED;
    s->gen++;
    s->nholders = 0;
    p->nfree--;
    loan->pool = p;
    loan->slot = i;
    loan->gen = s->gen;
    loan->len = need;
    loan->cap = p->slot_size;
    *out = loan;
    return IPCN_OK;
}

IPCN_API void *ipcn_loan_data(ipcn_loan *loan)
{
    if (!loan)
        return NULL;
    return loan->pool->base + (size_t)loan->slot * loan->pool->slot_size +
           loan->offset;
}

IPCN_API size_t ipcn_loan_size(const ipcn_loan *loan)
{
    return loan ? loan->cap : 0;
}

void ipcn__pool_end_loan(ipcn_node *n, ipcn_loan *loan)
{
    ipcn__pool *p = loan->pool;
    ipcn__pslot *s = &p->slot[loan->slot];
    if (s->state == SLOT_LOANED && s->gen == loan->gen && !s->nholders)
        slot_freed(p, s);
    ipcn__list_remove(&loan->entry);
    ipcn__free(loan);
    maybe_free(n, p);
}

/* Make sure the link has the pool's memfd: the POOL frame carries it. */
static int send_pool(ipcn_node *n, ipcn__link *l, ipcn__pool *p)
{
    for (uint32_t i = 0; i < l->npools_sent; i++)
        if (l->pools_sent[i] == p->id)
            return IPCN_OK;
    if (l->npools_sent == l->cap_pools_sent) {
        uint32_t cap = l->cap_pools_sent ? l->cap_pools_sent * 2 : 4;
        uint32_t *np = ipcn__realloc(l->pools_sent, cap * sizeof *np);
        if (!np)
            return IPCN_INSUFFICIENT_MEMORY;
        l->pools_sent = np;
        l->cap_pools_sent = cap;
    }
    int st = ipcn__link_queue_fd(l, p->fd);
    if (st != IPCN_OK)
        return st;
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    ipcn__shm_pool b = {.pool_id = p->id, .slots = p->slots,
                        .share = p->share, .slot_size = p->slot_size};
    size_t mark = ipcn__link_tx_mark(l, 0);
    st = ipcn__link_commit(n, l, mark, ipcn__enc_shm_pool(&l->tx, &h, &b));
    if (l->state == LINK_DEAD)
        return IPCN_SERVICE_UNAVAILABLE;
    if (st != IPCN_OK && l->tx.len == mark) {
        /* Not queued: the descriptor must not go with another frame. */
        close(l->fds_out[--l->nfds_out]);
        return st;
    }
    l->pools_sent[l->npools_sent++] = p->id;
    return IPCN_OK;
}

bool ipcn__pool_link_takes(const ipcn_node *n, const ipcn__link *l)
{
    return n->shm_enabled && (l->peer_caps & IPCN_CAP_SHM);
}

/* Copy len bytes into a slot and take their XXH3-64 on the way: each chunk
 * is hashed just after it was written, while it is still in the cache, so
 * the sample crosses the memory bus once instead of twice.  The same value
 * as XXH3_64bits(dst, len). */
static uint64_t copy_and_sum(uint8_t *dst, const uint8_t *src, size_t len)
{
    enum { CHUNK = 64u << 10 };
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    for (size_t off = 0; off < len; off += CHUNK) {
        size_t k = len - off < CHUNK ? len - off : CHUNK;
        memcpy(dst + off, src + off, k);
        XXH3_64bits_update(&st, dst + off, k);
    }
    return XXH3_64bits_digest(&st);
}

/* The link holds its share of p: it misses sample seq, counted as a drop
 * here and told with an SHM_WITHHELD (when it takes them) so that its
 * subscriptions count it as withheld, not silently missing. */
static void withhold(ipcn_node *n, ipcn__link *l, ipcn__pool *p,
                     const char *path, uint64_t seq, uint64_t now)
{
    l->drops++;
    n->stats.drops++;
    if (!p->warned_share) {
        p->warned_share = true;
        ipcn__warn("IPCN-SHM-SHARE", "%s: %s holds its share of the pool of "
                   "%s (%u of %u slots): samples are withheld from it until "
                   "it releases some", n->name, l->who.name, path, p->share,
                   p->slots);
    }
    if (!(l->peer_caps & IPCN_CAP_WITHHELD))
        return;
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    h.type = IPCN_F_SHM_WITHHELD;
    ipcn__sample sa = {.seq = seq, .timestamp_ns = now,
                       .path = ipcn__str_of(path),
                       .encoding = ipcn__str_of(""),
                       .data = ipcn__blob_of(NULL, 0)};
    ipcn__wbuf w = {0};
    if (ipcn__enc_sample(&w, &h, &sa) == IPCN_OK)
        ipcn__link_send_raw(n, l, w.p, w.len, true);
    ipcn__wbuf_free(&w);
}

uint64_t ipcn__pool_copy_in(ipcn_loan *loan, const void *data, size_t len)
{
    if (loan->pool->checksum)
        return copy_and_sum(ipcn_loan_data(loan), data, len);
    memcpy(ipcn_loan_data(loan), data, len);
    return 0;
}

void ipcn__pool_out_init(ipcn__shm_out *o, ipcn_loan *loan, size_t len,
                         const uint64_t *presum)
{
    memset(o, 0, sizeof *o);
    o->loan = loan;
    o->len = len;
    o->summed = loan->pool->checksum;
    if (o->summed)
        o->sum = presum ? *presum : XXH3_64bits(ipcn_loan_data(loan), len);
}

int ipcn__pool_send_sample(ipcn_node *n, ipcn__link *l, ipcn__shm_out *o)
{
    ipcn_loan *loan = o->loan;
    ipcn__pool *p = loan->pool;
    ipcn__pslot *s = &p->slot[loan->slot];
    /* A reader holding its share of the pool already misses this one:
     * it starves itself, not the pool; it is told so. */
    if (held_by(p, l->id) >= p->share) {
        withhold(n, l, p, o->path, o->seq, o->now);
        return IPCN_OK;
    }
    if (send_pool(n, l, p) != IPCN_OK || l->state != LINK_UP) {
        l->drops++;
        n->stats.drops++;
        return IPCN_OK;
    }
    if (!o->desc.len) { /* the descriptor is the same for every link */
        ipcn__hdr h;
        ipcn__link_hdr(n, &h, 0, 0);
        ipcn__shm_sample ss = {.seq = o->seq, .timestamp_ns = o->now,
                               .path = ipcn__str_of(o->path),
                               .encoding = ipcn__str_of(o->encoding),
                               .pool_id = p->id, .slot = loan->slot,
                               .gen = loan->gen, .offset = loan->offset,
                               .len = o->len, .checksum = o->sum,
                               .flags = o->summed ? IPCN_SHM_F_CHECKSUM : 0};
        int st = ipcn__enc_shm_sample(&o->desc, &h, &ss);
        if (st != IPCN_OK) {
            ipcn__wbuf_free(&o->desc);
            return st;
        }
    }
    if (!add_holder(s, l->id))
        return IPCN_OK;
    if (ipcn__link_send_raw(n, l, o->desc.p, o->desc.len, true) != IPCN_OK)
        drop_holder(s, l->id);
    return IPCN_OK;
}

void ipcn__pool_sample_done(ipcn__shm_out *o)
{
    ipcn__pool *p = o->loan->pool;
    ipcn__pslot *s = &p->slot[o->loan->slot];
    ipcn__wbuf_free(&o->desc);
    if (s->nholders) {
        s->state = SLOT_PUBLISHED;
        s->order = ++p->order;
    }
}

/* ---- slots kept for late subscribers ---- */

int ipcn__pool_keep(const ipcn__shm_out *o, ipcn__kept_ref *out)
{
    ipcn_loan *loan = o->loan;
    ipcn__pslot *s = &loan->pool->slot[loan->slot];
    if (!add_holder(s, IPCN__KEEPER))
        return IPCN_INSUFFICIENT_MEMORY;
    *out = (ipcn__kept_ref){.pool_id = loan->pool->id, .slot = loan->slot,
                            .gen = loan->gen, .offset = (uint32_t)loan->offset,
                            .len = o->len, .sum = o->sum,
                            .summed = o->summed};
    return IPCN_OK;
}

/* The slot of k while it is still kept, else NULL. */
static ipcn__pslot *kept_slot(ipcn_node *n, const ipcn__kept_ref *k,
                              ipcn__pool **pp)
{
    ipcn__pool *p = pool_by_id(n, k->pool_id);
    if (!p || k->slot >= p->slots)
        return NULL;
    ipcn__pslot *s = &p->slot[k->slot];
    if (s->state != SLOT_PUBLISHED || s->gen != k->gen)
        return NULL;
    for (uint32_t i = 0; i < s->nholders; i++)
        if (s->holders[i] == IPCN__KEEPER) {
            *pp = p;
            return s;
        }
    return NULL;
}

bool ipcn__pool_kept(ipcn_node *n, const ipcn__kept_ref *k, bool *alone)
{
    ipcn__pool *p;
    ipcn__pslot *s = kept_slot(n, k, &p);
    if (alone)
        *alone = s && s->nholders == 1;
    return s != NULL;
}

const uint8_t *ipcn__pool_kept_data(ipcn_node *n, const ipcn__kept_ref *k)
{
    ipcn__pool *p;
    if (!kept_slot(n, k, &p))
        return NULL;
    return p->base + (size_t)k->slot * p->slot_size + k->offset;
}

void ipcn__pool_unkeep(ipcn_node *n, const ipcn__kept_ref *k)
{
    ipcn__pool *p;
    ipcn__pslot *s = kept_slot(n, k, &p);
    if (!s)
        return;
    if (drop_holder(s, IPCN__KEEPER) && !s->nholders)
        slot_freed(p, s);
    maybe_free(n, p);
}

uint32_t ipcn__pool_room(ipcn_node *n, ipcn__link *l, const ipcn__kept_ref *k)
{
    ipcn__pool *p = pool_by_id(n, k->pool_id);
    if (!p)
        return 0;
    uint32_t held = held_by(p, l->id);
    return held < p->share ? p->share - held : 0;
}

int ipcn__pool_send_kept(ipcn_node *n, ipcn__link *l, const ipcn__kept_ref *k,
                         uint64_t corr, const char *path, const char *encoding,
                         uint64_t seq, uint64_t stamp)
{
    ipcn__pool *p;
    ipcn__pslot *s = kept_slot(n, k, &p);
    int st = IPCN_NOT_FOUND;
    if (!s || held_by(p, l->id) >= p->share ||
        send_pool(n, l, p) != IPCN_OK || l->state != LINK_UP ||
        !add_holder(s, l->id))
        goto drop;
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, corr);
    ipcn__shm_sample ss = {.seq = seq, .timestamp_ns = stamp,
                           .path = ipcn__str_of(path),
                           .encoding = ipcn__str_of(encoding),
                           .pool_id = p->id, .slot = k->slot, .gen = k->gen,
                           .offset = k->offset, .len = k->len,
                           .checksum = k->sum,
                           .flags = k->summed ? IPCN_SHM_F_CHECKSUM : 0};
    size_t mark = ipcn__link_tx_mark(l, 0);
    st = ipcn__link_commit(n, l, mark, ipcn__enc_shm_sample(&l->tx, &h, &ss));
    if (st == IPCN_OK)
        return IPCN_OK;
    drop_holder(s, l->id);
drop:
    l->drops++;
    n->stats.drops++;
    return st;
}

/* Replies of this node's services come from one pool of the node's, that
 * refuses when full: a requester holding an old answer must not see it
 * change.  The answer then goes inline (or as 306 when it cannot).
 * Requests of 16 KiB or more go the same way, from a second pool of the
 * node's (docs/protocol.md 12.9): the provider holds the slot until it is
 * done with the request, and gives it back with a RELEASE. */
/* Loan a slot of *cur for len bytes: 100, or 0 when the body should go
 * inline (too small or too large, a link that cannot take it, the pool
 * full). */
static int shm_loan(ipcn_node *n, ipcn__link *l, ipcn__pool **cur,
                    const char *pool_path, size_t len, ipcn_loan **out)
{
    if (len < IPCN_SHM_THRESHOLD || len > IPCN_SHM_MAX_SLOT_SIZE ||
        !ipcn__pool_link_takes(n, l))
        return 0;
    ipcn_pool_opts o;
    ipcn_pool_opts_init(&o);
    o.policy = IPCN_POOL_REFUSE;
    return ipcn__pool_loan(n, cur, pool_path, o, NULL, NULL, len, out) ==
                   IPCN_OK
               ? IPCN_OK
               : 0;
}

/* Send the loan's first len bytes (summed: sum) as a frame of type: 100,
 * or 0 when it could not go (the loan stays, its bytes intact). */
static int shm_send(ipcn_node *n, ipcn__link *l, ipcn_loan *loan, uint64_t sum,
                    uint8_t type, uint64_t corr, int status, const char *path,
                    const char *enc, uint64_t seq, uint64_t stamp, size_t len)
{
    ipcn__pool *p = loan->pool;
    ipcn__pslot *s = &p->slot[loan->slot];
    int st = IPCN_INTERNAL_ERROR;
    if (send_pool(n, l, p) == IPCN_OK && l->state == LINK_UP &&
        add_holder(s, l->id)) {
        ipcn__hdr h;
        ipcn__link_hdr(n, &h, (uint16_t)status, corr);
        h.type = type;
        ipcn__shm_sample b = {.seq = seq, .timestamp_ns = stamp,
                              .path = ipcn__str_of(path),
                              .encoding = ipcn__str_of(enc),
                              .pool_id = p->id, .slot = loan->slot,
                              .gen = loan->gen, .len = len,
                              .checksum = sum,
                              .flags = IPCN_SHM_F_CHECKSUM};
        size_t mark = ipcn__link_tx_mark(l, 0);
        st = ipcn__link_commit(n, l, mark, ipcn__enc_shm_sample(&l->tx, &h, &b));
        if (st == IPCN_OK) {
            s->state = SLOT_PUBLISHED;
            s->order = ++p->order;
        } else {
            drop_holder(s, l->id);
        }
    }
    return st == IPCN_OK ? IPCN_OK : 0;
}

/* Replies of this node's services come from one pool of the node's, that
 * refuses when full: a requester holding an old answer must not see it
 * change.  The answer then goes inline (or as 306 when it cannot).
 * Requests of 16 KiB or more go the same way, from a second pool of the
 * node's (docs/protocol.md 12.9): the provider holds the slot until it is
 * done with the request, and gives it back with a RELEASE. */
static int send_shm(ipcn_node *n, ipcn__link *l, ipcn__pool **cur,
                    const char *pool_path, uint8_t type, uint64_t corr,
                    int status, const char *path, const char *enc,
                    uint64_t seq, uint64_t stamp, const void *data, size_t len)
{
    ipcn_loan *loan;
    if (shm_loan(n, l, cur, pool_path, len, &loan) != IPCN_OK)
        return 0;
    uint8_t *dst = ipcn_loan_data(loan);
    uint64_t sum = copy_and_sum(dst, data, len);
    int st = shm_send(n, l, loan, sum, type, corr, status, path, enc, seq,
                      stamp, len);
    ipcn__pool_end_loan(n, loan);
    return st;
}

int ipcn__pool_reply_loan(ipcn_node *n, ipcn__link *l, size_t len,
                          ipcn_loan **out)
{
    return shm_loan(n, l, &n->reply_pool, "", len, out);
}

uint64_t ipcn__pool_fill(ipcn_loan *loan, const void *data, size_t len)
{
    return copy_and_sum(ipcn_loan_data(loan), data, len);
}

int ipcn__pool_reply_send_loan(ipcn_node *n, ipcn__link *l, ipcn_loan *loan,
                               uint64_t sum, uint64_t corr, int status,
                               const char *enc, size_t len)
{
    return shm_send(n, l, loan, sum, IPCN_F_SHM_REPLY, corr, status, "", enc,
                    0, 0, len);
}

int ipcn__pool_send_reply(ipcn_node *n, ipcn__link *l, uint64_t corr,
                          int status, const char *enc, const void *data,
                          size_t len)
{
    return send_shm(n, l, &n->reply_pool, "", IPCN_F_SHM_REPLY, corr, status,
                    "", enc, 0, 0, data, len);
}

int ipcn__pool_send_request(ipcn_node *n, ipcn__link *l, uint64_t corr,
                            const char *path, const char *enc,
                            uint64_t request_id, uint32_t timeout_ms,
                            const void *data, size_t len)
{
    /* No larger than the provider takes inline (its max_payload, at most
     * 16 MiB): a request must not succeed or fail by the way it goes, and
     * a pool for it always fits (checked before any pool is retired). */
    if (!(l->peer_caps & IPCN_CAP_SHMREQ) || len > l->peer_max_payload)
        return 0;
    /* One provider that holds its share of the pool (it never releases,
     * or is slow) gets the rest of its requests inline, so that it cannot
     * starve the large requests to every other provider. */
    ipcn__pool *p = n->request_pool;
    if (p && len <= p->slot_size && len >= IPCN_SHM_THRESHOLD &&
        ipcn__pool_link_takes(n, l) && held_by(p, l->id) >= p->share) {
        n->stats.shm_requests_over_share++;
        return 0;
    }
    return send_shm(n, l, &n->request_pool, IPCN__REQUEST_POOL,
                    IPCN_F_SHM_REQUEST, corr, 0, path, enc, request_id,
                    timeout_ms, data, len);
}


/* ---- settings and counters ---- */

/* Options already taken in whole (ipcn__sized_in): are they in range? */
bool ipcn__pool_opts_ok(const ipcn_pool_opts *o)
{
    return o->slots >= 2 &&
           o->slots <= IPCN_SHM_MAX_SLOTS &&
           o->slot_size <= IPCN_SHM_MAX_SLOT_SIZE &&
           (o->policy == IPCN_POOL_DROP_OLDEST ||
            o->policy == IPCN_POOL_REFUSE) &&
           (uint64_t)round_up(o->slot_size ? o->slot_size : MIN_SLOT_SIZE,
                              page_size()) * o->slots <= IPCN_SHM_MAX_POOL_SIZE;
}

void ipcn__pool_reconfig(ipcn_node *n, ipcn__pool **cur,
                         const ipcn_pool_opts *old, const ipcn_pool_opts *o)
{
    ipcn__pool *p = *cur;
    if (!p)
        return;
    if (old->slots != o->slots ||
        (o->slot_size && round_up(o->slot_size, page_size()) != p->slot_size)) {
        ipcn__pool_retire(n, cur);
    } else {
        p->policy = o->policy;
        p->checksum = o->checksum != 0;
    }
}
