/* SPDX-License-Identifier: MIT */
/*
 * prov_pub.c — publishing with provenance (ipcnet_prov.h): the record of
 * a sample made, chained (prov.c) and sent with it as SAMPLE's extension
 * to the peers that take it (capability PROV), plain to the others; and
 * the accessors of a received sample's record.  ipcn_publish() comes
 * here only when its resource has provenance on (one flag test), so a
 * node with provenance off does none of this work.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/prov.h"
#include "engine/router.h"
#include "msg/msg.h"
#include "transport/link.h"
#include "util/util.h"

/* The record of the sample about to be published (into pv->buf): its
 * size, or 0 when the arguments break the rules. */
static size_t make_record(ipcn_node *n, ipcn__prov *pv, const ipcn__local *lr,
                          const void *data, size_t len, uint64_t seq,
                          uint64_t now, const ipcn_prov_ref *parents,
                          uint32_t np, uint32_t flags)
{
    ipcn_prov_record *r = &pv->rec; /* large: not on the stack */
    memset(r, 0, sizeof *r);
    r->flags = flags;
    r->node_id = n->id;
    r->index = pv->index + 1;
    r->seq = seq;
    r->time_ns = now;
    ipcn__prov_hash(r->path_hash, lr->path, lr->path_len);
    ipcn__prov_hash(r->digest, data, len);
    snprintf(r->node, sizeof r->node, "%s", n->name);
    snprintf(r->principal, sizeof r->principal, "uid:%u", (unsigned)geteuid());
    r->nparents = np;
    if (np)
        memcpy(r->parents, parents, np * sizeof *parents);
    return ipcn__prov_encode(r, pv->buf, sizeof pv->buf);
}

int ipcn__prov_publish(ipcn_node *n, ipcn__local *lr, const void *data,
                       size_t len, const ipcn_prov_ref *parents, uint32_t np,
                       uint32_t flags)
{
    int st = ipcn__route_refresh(n, lr);
    ipcn__prov *pv;
    if (st != IPCN_OK || (st = ipcn__prov_get(n, &pv)) != IPCN_OK)
        return st;
    /* A sample that goes through shared memory (16 KiB up, when a
     * subscriber maps it) takes exactly that way, without a record, and
     * is counted (docs/protocol.md 20.3): SHM_SAMPLE has no extension. */
    if (ipcn__route_goes_shared(n, lr, len)) {
        pv->unrecorded++;
        return ipcn__route_publish(n, lr, data, len);
    }
    /* The body of SAMPLE with the record's blob; without it, 4 + rl less
     * (a frame too large even so is ipcn__route_publish()'s 200). */
    size_t overhead = 8 + 8 + 2 + (size_t)lr->path_len + 1 + 2 +
                      lr->enc_len + 1 + 4 + 4;
    if (len > SIZE_MAX - overhead - IPCN_PROV_RECORD_MAX ||
        len + overhead - 4 > n->opts.max_payload)
        return ipcn__route_publish(n, lr, data, len);
    /* The record made and its room reserved before the sample takes its
     * seq (and a data resource its value): a record refused (a parent of
     * node id or index 0) or no memory for it changes nothing. */
    uint64_t seq = lr->seq + 1, now = ipcn__now_real_ns();
    size_t rl = make_record(n, pv, lr, data, len, seq, now, parents, np, flags);
    if (!rl)
        return IPCN_BAD_REQUEST;
    if ((st = ipcn__prov_reserve(pv, (uint32_t)rl)) != IPCN_OK ||
        (st = ipcn__route_next_at(n, lr, data, len, seq, now)) != IPCN_OK ||
        (st = ipcn__prov_append(n, pv, (uint32_t)rl, now)) != IPCN_OK)
        return st;
    const uint8_t *rec = pv->ring[(pv->index - 1) % IPCN_PROV_KEEP].rec;
    ipcn__keep_bytes(n, lr, data, len, seq, now); /* kept without it */
    ipcn__sample s = {.seq = seq,
                      .timestamp_ns = now,
                      .path = {lr->path, lr->path_len},
                      .encoding = {lr->encoding, lr->enc_len},
                      .data = ipcn__blob_of(data, len)};
    uint32_t without = 0;
    for (uint32_t i = 0; i < lr->nroute; i++) {
        ipcn__link *l = lr->route_links[i];
        if (l->state != LINK_UP)
            continue;
        /* With its record to a peer that takes it, when the frame fits
         * the peer's limit (its HELLO's max_payload); else without. */
        bool with = (l->peer_caps & IPCN_CAP_PROV) != 0 &&
                    overhead + len + rl <= l->peer_max_payload;
        if ((l->peer_caps & IPCN_CAP_PROV) && !with)
            without++;
        size_t mark;
        if (ipcn__link_send_begin(n, l, IPCN_WIRE_HDR_SIZE + overhead - 4 +
                                             len + (with ? 4 + rl : 0),
                                  true, &mark) != IPCN_OK)
            continue;
        ipcn__hdr h;
        ipcn__link_hdr(n, &h, 0, 0);
        if (ipcn__link_send_end(n, l, mark, true,
                                with ? ipcn__enc_sample_prov(&l->tx, &h, &s, rec,
                                                             (uint32_t)rl)
                                     : ipcn__enc_sample(&l->tx, &h, &s)) ==
            IPCN_OK)
            ipcn__prov_sent(pv, l->who.node_id);
    }
    if (without)
        pv->unrecorded++; /* to some peer that takes records, without */
    if (lr->route_local) {
        ipcn__route_pub_local(n, lr, data, len, seq, now, rec, (uint32_t)rl);
        pv->ring[(pv->index - 1) % IPCN_PROV_KEEP].to_local = true;
    }
    return IPCN_OK;
}

/* ---- the API ---- */

IPCN_API int ipcn_prov_enable(ipcn_node *n, const char *path, int on)
{
    char wire_path[IPCN_PATH_MAX + 1];
    if (!n || (path && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    int st = IPCN_OK;
    if (!path) {
        n->prov_default = on != 0;
    } else {
        ipcn__local *lr = ipcn__local_find(n, path);
        if (!lr)
            st = IPCN_NOT_FOUND;
        else if (lr->kind == IPCN_SERVICE)
            st = IPCN_METHOD_NOT_ALLOWED;
        else
            lr->prov = on != 0;
    }
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_publish_derived_ex(ipcn_node *n, const char *path,
                                     const void *data, size_t len,
                                     const ipcn_prov_ref *parents, size_t np,
                                     uint32_t flags)
{
    char wire_path[IPCN_PATH_MAX + 1];
    if (n && path && ipcn__node_resolve(n, &path, wire_path) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!n || !path || (len && !data) || np > IPCN_PROV_MAX_PARENTS ||
        (np && !parents) ||
        (flags & ~(uint32_t)(IPCN_PROV_REPLAYED | IPCN_PROV_PASSTHROUGH)) ||
        ((flags & IPCN_PROV_PASSTHROUGH) && !np))
        return IPCN_BAD_REQUEST;
    ipcn__node_lock(n);
    ipcn__local *lr;
    int st = ipcn__publish_check(n, path, data, len, &lr);
    if (st == IPCN_OK)
        st = ipcn__prov_publish(n, lr, data, len, parents, (uint32_t)np, flags);
    ipcn__node_unlock(n);
    return st;
}

IPCN_API int ipcn_publish_derived(ipcn_node *n, const char *path,
                                  const void *data, size_t len,
                                  const ipcn_prov_ref *parents, size_t np)
{
    return ipcn_publish_derived_ex(n, path, data, len, parents, np, 0);
}

IPCN_API int ipcn_prov_get_stats(ipcn_node *n, ipcn_prov_stats *out)
{
    if (!n || ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_prov_stats, index)) !=
                  IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_prov_stats s;
    memset(&s, 0, sizeof s);
    ipcn__node_lock(n);
    const ipcn__prov *pv = n->prov;
    if (pv) {
        s.records = pv->records;
        s.checkpoints = pv->checkpoints;
        s.unrecorded = pv->unrecorded;
        s.index = pv->index;
    }
    ipcn__node_unlock(n);
    s.size = sizeof s;
    ipcn__sized_out(out, &s, sizeof s);
    return IPCN_OK;
}

IPCN_API int ipcn_msg_provenance(const ipcn_msg *msg, const uint8_t **bytes,
                                 size_t *len)
{
    if (!msg || !bytes || !len)
        return IPCN_BAD_REQUEST;
    const ipcn__msg *m = ipcn__container_of(msg, ipcn__msg, pub);
    if (!m->prov)
        return IPCN_NO_DATA;
    *bytes = m->prov;
    *len = m->prov_len;
    return IPCN_OK;
}

IPCN_API int ipcn_msg_prov_ref(const ipcn_msg *msg, ipcn_prov_ref *ref)
{
    const uint8_t *p;
    size_t len;
    if (!ref)
        return IPCN_BAD_REQUEST;
    int st = ipcn_msg_provenance(msg, &p, &len);
    if (st != IPCN_OK)
        return st;
    ipcn_prov_record r;
    if (ipcn__prov_decode(p, len, &r) != IPCN_OK)
        return IPCN_BAD_REQUEST; /* checked when it came: not reached */
    ipcn_prov_ref x = {.node_id = r.node_id, .index = r.index, .seq = r.seq};
    memcpy(x.path_hash, r.path_hash, 32);
    memcpy(x.digest, r.digest, 32);
    *ref = x;
    return IPCN_OK;
}
