/* SPDX-License-Identifier: MIT */
/*
 * map.c — the reader's side of shared-memory samples: the peers' pools
 * mapped read-only, messages that point into them, and the releases that
 * give their slots back.  Mechanism only: which subscriptions a shared
 * sample reaches is the router's (engine/router.c).
 *
 * A peer is trusted with nothing: its memfd must be sealed against
 * shrinking (else it could make our reads fault), large enough for what
 * its POOL frame claims, and every sample must lie inside a slot.  A
 * mapping lives while the link is up or any message points into it, so a
 * publisher's death or a closed node never leaves a dangling pointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine/engine.h"

static void map_unref(ipcn__shm_map *m)
{
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (m->base)
        munmap((void *)m->base, m->size);
    if (m->fd >= 0)
        close(m->fd);
    pthread_mutex_destroy(&m->mu);
    ipcn__free(m->slot_refs);
    ipcn__free(m->slot_gen);
    ipcn__free(m->slot_revoked);
    ipcn__free(m->rel);
    ipcn__free(m);
}

ipcn__shm_map *ipcn__map_find(ipcn_node *n, uint32_t link_id,
                              uint32_t pool_id)
{
    ipcn__shm_map *m;
    ipcn__list_for_each(m, t, &n->maps, ipcn__shm_map, entry)
        if (m->link_id == link_id && m->pool_id == pool_id)
            return m;
    return NULL;
}

/* No more releases from this map: the node lets go of it. */
static void map_detach(ipcn__shm_map *m)
{
    ipcn__list_remove(&m->entry);
    ipcn__list_init(&m->entry);
    pthread_mutex_lock(&m->mu);
    m->node = NULL;
    m->wakefd = -1;
    m->rel_flag = NULL;
    m->verify_flag = NULL;
    m->nrel = 0;
    pthread_mutex_unlock(&m->mu);
    map_unref(m);
}

static void refuse(ipcn_node *n, ipcn__link *l, const char *why)
{
    l->bad_frames++;
    n->stats.bad_frames++;
    ipcn__warn("IPCN-SHM-BADPOOL", "%s: refusing shared memory from %s: %s",
               n->name, l->who.name, why);
    ipcn__link_send_error(n, l, IPCN_BAD_REQUEST, why);
    ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME, why);
}

void ipcn__map_on_pool(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__shm_pool *b = &f->u.shm_pool;
    int fd = ipcn__link_take_fd(n, l);
    if (fd < 0) {
        refuse(n, l, "pool without a descriptor");
        return;
    }
    const char *why = NULL;
    uint32_t count = 0;
    ipcn__shm_map *m;
    ipcn__list_for_each(m, t, &n->maps, ipcn__shm_map, entry)
        count += m->link_id == l->id;
    long ps = sysconf(_SC_PAGESIZE);
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);
    uint64_t size = b->slot_size * b->slots; /* bounded by the decoder */
    if (!n->shm_enabled || !(l->peer_caps & IPCN_CAP_SHM))
        why = "shared memory not negotiated";
    else if (ipcn__map_find(n, l->id, b->pool_id))
        why = "pool id reused";
    else if (count >= IPCN_PEER_MAX_MAPS)
        why = "too many pools";
    else if (seals < 0 || !(seals & F_SEAL_SHRINK))
        why = "pool is not a memfd sealed against shrinking";
    else if (ps <= 0 || b->slot_size % (uint64_t)ps)
        why = "slot size is not a multiple of the page size";
    else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
             (uint64_t)st.st_size < size)
        why = "pool smaller than it claims";
    if (why) {
        close(fd);
        refuse(n, l, why);
        return;
    }
    m = ipcn__calloc(1, sizeof *m);
    if (m) {
        m->slot_refs = ipcn__calloc(b->slots, sizeof *m->slot_refs);
        m->slot_gen = ipcn__calloc(b->slots, sizeof *m->slot_gen);
        m->slot_revoked = ipcn__calloc(b->slots, sizeof *m->slot_revoked);
    }
    if (!m || !m->slot_refs || !m->slot_gen || !m->slot_revoked) {
        close(fd);
        if (m) {
            ipcn__free(m->slot_refs);
            ipcn__free(m->slot_gen);
            ipcn__free(m->slot_revoked);
            ipcn__free(m);
        }
        return; /* its samples will be counted as bad frames */
    }
    void *base = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        /* Kept, unmapped: its samples are counted as unmappable by the
         * subscriptions and their slots given back at once. */
        ipcn__warn("IPCN-SHM-MAP", "%s: cannot map a %llu-byte pool of %s "
                   "(%s): its samples will be discarded and counted "
                   "(ipcn_sub_stats.unmappable)", n->name,
                   (unsigned long long)size, l->who.name, strerror(errno));
        close(fd);
        fd = -1;
        base = NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    atomic_init(&m->refs, 1);
    m->node = n;
    m->wakefd = n->wakefd;
    m->rel_flag = &n->shm_rel_pending;
    m->verify_flag = &n->shm_verify_pending;
    m->link_id = l->id;
    m->pool_id = b->pool_id;
    m->fd = fd;
    m->base = base;
    m->size = (size_t)size;
    m->slot_size = (size_t)b->slot_size;
    m->slots = b->slots;
    m->share = b->share;
    ipcn__list_insert_tail(&n->maps, &m->entry);
}

/* One more message of slot (mu held). */
static void slot_take(ipcn__shm_map *m, uint32_t slot, uint32_t gen)
{
    if (m->slot_refs[slot]++ == 0)
        m->held++;
    m->slot_gen[slot] = gen;
}

void ipcn__map_revoked(ipcn__shm_map *m, uint32_t slot, uint32_t gen)
{
    pthread_mutex_lock(&m->mu);
    if (slot < m->slots && m->slot_refs[slot] && m->slot_gen[slot] == gen &&
        gen > m->slot_revoked[slot])
        m->slot_revoked[slot] = gen;
    pthread_mutex_unlock(&m->mu);
}

/* One message of slot less: the last queues its release (mu held). */
static void slot_drop(ipcn__shm_map *m, uint32_t slot)
{
    if (--m->slot_refs[slot] != 0)
        return;
    m->held--;
    if (!m->node)
        return;
    if (m->nrel == m->cap_rel) {
        uint32_t cap = m->cap_rel ? m->cap_rel * 2 : 16;
        ipcn__shm_ref *r = ipcn__realloc(m->rel, cap * sizeof *r);
        if (!r)
            return; /* the slot stays held until the link closes */
        m->rel = r;
        m->cap_rel = cap;
    }
    m->rel[m->nrel++] = (ipcn__shm_ref){m->pool_id, slot, m->slot_gen[slot]};
    if (!atomic_exchange(m->rel_flag, true)) {
        uint64_t one = 1;
        if (write(m->wakefd, &one, sizeof one) < 0) {
            /* the counter is full: the node is awake anyway */
        }
    }
}

/* A message of a map goes away (its release hook): its slot's count, the
 * map's reference. */
static void msg_release(ipcn__msg *msg)
{
    ipcn__shm_map *m = msg->map;
    if (msg->priv)
        munmap(msg->priv, msg->priv_len);
    pthread_mutex_lock(&m->mu);
    slot_drop(m, msg->slot);
    pthread_mutex_unlock(&m->mu);
    map_unref(m);
}

void ipcn__map_msg_share(ipcn__msg *dst, const ipcn__msg *src)
{
    ipcn__shm_map *m = src->map;
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    pthread_mutex_lock(&m->mu);
    slot_take(m, src->slot, src->gen);
    pthread_mutex_unlock(&m->mu);
    dst->map = m;
    dst->release = msg_release;
    dst->slot = src->slot;
    dst->gen = src->gen;
    dst->checksum = src->checksum;
    dst->has_checksum = src->has_checksum;
    dst->pub.data = src->pub.data;
    dst->pub.len = src->pub.len;
    dst->pub.flags = src->pub.flags & IPCN_MSG_SHARED;
}

ipcn__shm_map *ipcn__map_of_sample(ipcn_node *n, ipcn__link *l,
                                   const ipcn__shm_sample *sa)
{
    ipcn__shm_map *m = ipcn__map_find(n, l->id, sa->pool_id);
    if (!m || sa->slot >= m->slots || sa->offset > m->slot_size ||
        sa->len > m->slot_size - sa->offset) {
        l->bad_frames++;
        n->stats.bad_frames++;
        ipcn__rep_offence(n, l, IPCN__OFF_BAD_FRAME,
                          "shared-memory sample outside its pool");
        return NULL;
    }
    return m;
}

void ipcn__map_give_back(ipcn__shm_map *m, uint32_t slot, uint32_t gen)
{
    pthread_mutex_lock(&m->mu);
    slot_take(m, slot, gen);
    slot_drop(m, slot);
    pthread_mutex_unlock(&m->mu);
}

bool ipcn__map_over_share(ipcn__shm_map *m, uint32_t slot)
{
    pthread_mutex_lock(&m->mu);
    bool over = m->held + 1 >= m->share && !m->slot_refs[slot];
    pthread_mutex_unlock(&m->mu);
    return over;
}

void ipcn__map_msg_attach(ipcn__msg *msg, ipcn__shm_map *m,
                          const ipcn__shm_sample *sa)
{
    msg->pub.data = m->base + (size_t)sa->slot * m->slot_size + sa->offset;
    msg->pub.len = (size_t)sa->len;
    msg->pub.flags = IPCN_MSG_SHARED;
    msg->map = m;
    msg->release = msg_release;
    msg->slot = sa->slot;
    msg->gen = sa->gen;
    msg->checksum = sa->checksum;
    msg->has_checksum = (sa->flags & IPCN_SHM_F_CHECKSUM) != 0;
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    pthread_mutex_lock(&m->mu);
    slot_take(m, sa->slot, sa->gen);
    pthread_mutex_unlock(&m->mu);
}

ipcn__msg *ipcn__map_msg_new(ipcn_node *n, ipcn__link *l,
                             const ipcn__shm_sample *sa, const char *path)
{
    ipcn__shm_map *m = ipcn__map_of_sample(n, l, sa);
    if (!m)
        return NULL;
    if (!m->base) {
        ipcn__map_give_back(m, sa->slot, sa->gen);
        return NULL;
    }
    ipcn__msg *msg = ipcn__msg_new(path, strlen(path), sa->encoding.p,
                                   sa->encoding.len, l->who.name, l->who.node_id,
                                   NULL, 0);
    if (!msg) { /* out of memory: the slot is not kept */
        ipcn__map_give_back(m, sa->slot, sa->gen);
        return NULL;
    }
    msg->pub.seq = sa->seq;
    msg->pub.timestamp_ns = sa->timestamp_ns;
    ipcn__map_msg_attach(msg, m, sa);
    return msg;
}

void ipcn__map_on_drop(ipcn_node *n, ipcn__link *l, const ipcn__shm_refs *r)
{
    ipcn__shm_ref x = ipcn__shm_ref_at(r, 0);
    ipcn__shm_map *m = ipcn__map_find(n, l->id, x.pool_id);
    if (m)
        map_detach(m);
}

void ipcn__map_on_link_down(ipcn_node *n, ipcn__link *l)
{
    ipcn__shm_map *m;
    ipcn__list_for_each(m, t, &n->maps, ipcn__shm_map, entry)
        if (m->link_id == l->id)
            map_detach(m);
}

void ipcn__map_detach_all(ipcn_node *n)
{
    ipcn__list *e;
    while ((e = n->maps.next) != &n->maps)
        map_detach(ipcn__list_entry(e, ipcn__shm_map, entry));
}

void ipcn__map_flush_releases(ipcn_node *n)
{
    if (!atomic_exchange(&n->shm_rel_pending, false))
        return;
    ipcn__shm_map *m;
    ipcn__list_for_each(m, t, &n->maps, ipcn__shm_map, entry) {
        pthread_mutex_lock(&m->mu);
        ipcn__shm_ref *rel = m->rel;
        uint32_t nrel = m->nrel, cap = m->cap_rel;
        m->rel = NULL;
        m->nrel = m->cap_rel = 0;
        pthread_mutex_unlock(&m->mu);
        ipcn__link *l = nrel ? ipcn__link_by_id(n, m->link_id) : NULL;
        for (uint32_t i = 0; l && l->state == LINK_UP && i < nrel;
             i += IPCN_SHM_MAX_RELEASE) {
            uint32_t k = nrel - i < IPCN_SHM_MAX_RELEASE ? nrel - i
                                                         : IPCN_SHM_MAX_RELEASE;
            ipcn__hdr h;
            ipcn__link_hdr(n, &h, 0, 0);
            size_t mark = ipcn__link_tx_mark(l, 0);
            ipcn__link_commit(n, l, mark,
                              ipcn__enc_shm_refs(&l->tx, &h, IPCN_F_SHM_RELEASE,
                                                 rel + i, k));
        }
        /* Keep the array for next time unless another one grew meanwhile. */
        pthread_mutex_lock(&m->mu);
        if (!m->rel) {
            m->rel = rel;
            m->cap_rel = cap;
            rel = NULL;
        }
        pthread_mutex_unlock(&m->mu);
        ipcn__free(rel);
    }
}

/* ---- messages ---- */

IPCN_API int ipcn_msg_writable(const ipcn_msg *msg, ipcn_msg **out)
{
    if (!msg || !out)
        return IPCN_BAD_REQUEST;
    const ipcn__msg *src = ipcn__container_of(msg, ipcn__msg, pub);
    /* A view of a view is a copy: its bytes may have been written. */
    bool shared = src->map && !src->priv;
    ipcn__msg *m = ipcn__msg_new(msg->path, strlen(msg->path), msg->encoding,
                                 strlen(msg->encoding), msg->src_name,
                                 msg->src_id, shared ? NULL : msg->data,
                                 shared ? 0 : msg->len);
    if (!m)
        return IPCN_INSUFFICIENT_MEMORY;
    m->pub.status = msg->status;
    m->pub.seq = msg->seq;
    m->pub.timestamp_ns = msg->timestamp_ns;
    m->pub.flags = IPCN_MSG_WRITABLE;
    if (shared) {
        /* A copy in private pages, made now, at the same offset within its
         * page as in the slot (so the alignment of a tensor's elements is
         * kept).  Not a copy-on-write mapping of the slot: until a page of
         * that is written it shows the slot's bytes, which its publisher
         * may still change (a write after publishing, a slot reclaimed
         * under IPCN_POOL_DROP_OLDEST); a copy is a snapshot. */
        ipcn__shm_map *mp = src->map;
        size_t ps = (size_t)sysconf(_SC_PAGESIZE);
        size_t slot_off = (size_t)src->slot * mp->slot_size;
        size_t in_slot = (size_t)((const uint8_t *)msg->data - mp->base) - slot_off;
        size_t first = in_slot / ps * ps;
        size_t len = (in_slot + msg->len - first + ps - 1) / ps * ps;
        if (!len)
            len = ps;
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            ipcn__free(m);
            return errno == ENOMEM ? IPCN_INSUFFICIENT_MEMORY : IPCN_INTERNAL_ERROR;
        }
        if (msg->len)
            memcpy((uint8_t *)p + (in_slot - first), msg->data, msg->len);
        ipcn__map_msg_share(m, src);
        m->pub.flags = IPCN_MSG_WRITABLE;
        m->priv = p;
        m->priv_len = len;
        m->pub.data = (uint8_t *)p + (in_slot - first);
    }
    *out = &m->pub;
    return IPCN_OK;
}

IPCN_API int ipcn_msg_verify(const ipcn_msg *msg)
{
    if (!msg)
        return IPCN_BAD_REQUEST;
    const ipcn__msg *m = ipcn__container_of(msg, ipcn__msg, pub);
    if (!m->map)
        return IPCN_OK;
    if (!m->has_checksum)
        return IPCN_NO_DATA;
    if (XXH3_64bits(msg->data, msg->len) == m->checksum)
        return IPCN_OK;
    /* Altered after publication: its publisher's node is told (by its
     * next round: this may run on any thread, the node's lock not held). */
    ipcn__shm_map *mp = m->map;
    pthread_mutex_lock(&mp->mu);
    /* A slot its publisher took back (a full pool's oldest, REVOKE) is
     * reused by design: not the publisher's tampering. */
    bool reclaimed = m->slot < mp->slots &&
                     m->gen <= mp->slot_revoked[m->slot];
    if (mp->node && !m->priv && !reclaimed) {
        mp->verify_failed++;
        snprintf(mp->verify_path, sizeof mp->verify_path, "%s", msg->path);
        if (!atomic_exchange(mp->verify_flag, true)) {
            uint64_t one = 1;
            if (write(mp->wakefd, &one, sizeof one) < 0) {
                /* the counter is full: the node is awake anyway */
            }
        }
    }
    pthread_mutex_unlock(&mp->mu);
    return IPCN_BAD_GATEWAY;
}

void ipcn__map_flush_verify(ipcn_node *n)
{
    if (!atomic_exchange(&n->shm_verify_pending, false))
        return;
    ipcn__shm_map *m;
    ipcn__list_for_each(m, t, &n->maps, ipcn__shm_map, entry) {
        char path[sizeof m->verify_path];
        pthread_mutex_lock(&m->mu);
        uint32_t failed = m->verify_failed;
        memcpy(path, m->verify_path, sizeof path);
        pthread_mutex_unlock(&m->mu);
        if (failed == m->verify_told)
            continue;
        uint32_t k = failed - m->verify_told;
        m->verify_told = failed;
        n->stats.verify_failures += k;
        ipcn__link *l = ipcn__link_by_id(n, m->link_id);
        if (!l || l->state != LINK_UP)
            continue;
        ipcn__warn("IPCN-SHM-VERIFY", "%s: %u sample(s) of %s from %s failed "
                   "verification: altered after publication", n->name, k,
                   path, l->who.name);
        char what[160];
        snprintf(what, sizeof what, "%u sample(s) of %s failed verification",
                 k, path);
        ipcn__rep_offence(n, l, IPCN__OFF_VERIFY, what);
        ipcn__cz_evidence_add(n, l, IPCN_COMPROMISE_TAMPERED,
                              "%u sample(s) of %s altered after publication "
                              "(ipcn_msg_verify failed)", k, path);
    }
}
