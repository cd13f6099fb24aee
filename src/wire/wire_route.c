/* SPDX-License-Identifier: MIT */
/*
 * wire_route.c — the frames of routing between nodes that are not linked
 * (docs/protocol.md, "Several hosts"): ROUTE, a node a router reaches and
 * the routers on the way; FORWARD, a frame on its way through them.
 */
#include "ipcnet.h"
#include "wire/wire_impl.h"

uint64_t ipcn__wire_path_at(const uint8_t *path, uint32_t i)
{
    return ld64(path + (size_t)i * 8);
}

/* npath ids of 8 bytes each, pointed to in place. */
static const uint8_t *rd_path(rd *r, uint32_t npath)
{
    if (!rd_has(r, (size_t)npath * 8))
        return NULL;
    const uint8_t *p = r->p;
    r->p += (size_t)npath * 8;
    return p;
}

void ipcn__dec_route(rd *r, ipcn__route *o)
{
    o->node_id = rd_u64(r);
    o->flags = rd_u8(r);
    o->npath = rd_u8(r);
    if (rd_u8(r) != 0 || rd_u8(r) != 0) /* reserved */
        r->bad = 1;
    o->uid = (int32_t)rd_u32(r);
    o->name = rd_str(r);
    o->host = rd_str(r);
    o->user = rd_str(r);
    if (o->node_id == 0 || (o->flags & ~(IPCN_ROUTE_GONE | IPCN_ROUTE_ROUTER)) ||
        o->npath < 1 || o->npath > IPCN_ROUTE_MAX_PATH || o->uid < -1)
        r->bad = 1;
    /* A node that is not gone has a name and a host. */
    if (!(o->flags & IPCN_ROUTE_GONE) && (!o->name.len || !o->host.len))
        r->bad = 1;
    if (!r->bad)
        o->path = rd_path(r, o->npath);
    for (uint32_t i = 0; !r->bad && i < o->npath; i++)
        if (ipcn__wire_path_at(o->path, i) == 0)
            r->bad = 1;
}

void ipcn__dec_forward(rd *r, ipcn__forward *o)
{
    o->seq = rd_u64(r);
    o->flags = rd_u8(r);
    o->npath = rd_u8(r);
    if (rd_u8(r) != 0 || rd_u8(r) != 0 || rd_u32(r) != 0) /* reserved */
        r->bad = 1;
    if (o->seq == 0 || (o->flags & ~IPCN_FWD_BOUNCE) ||
        o->npath > IPCN_FWD_MAX_PATH)
        r->bad = 1;
    if (!r->bad)
        o->path = rd_path(r, o->npath);
    for (uint32_t i = 0; !r->bad && i < o->npath; i++)
        if (ipcn__wire_path_at(o->path, i) == 0)
            r->bad = 1;
    if (r->bad)
        return;
    /* The rest is the inner frame: a header at least; a bounce's is only
     * that.  The route stage checks it as a frame of its own. */
    size_t rest = (size_t)(r->end - r->p);
    if (rest < IPCN_WIRE_HDR_SIZE ||
        ((o->flags & IPCN_FWD_BOUNCE) && rest != IPCN_WIRE_HDR_SIZE)) {
        r->bad = 1;
        return;
    }
    o->inner.p = r->p;
    o->inner.len = (uint32_t)rest;
    r->p = r->end;
}

int ipcn__enc_route(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__route *b,
                    const uint64_t *path)
{
    h->type = IPCN_F_ROUTE;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u64(w, b->node_id);
    ipcn__wbuf_u8(w, b->flags);
    ipcn__wbuf_u8(w, b->npath);
    ipcn__wbuf_u16(w, 0);
    ipcn__wbuf_u32(w, (uint32_t)b->uid);
    ipcn__wbuf_str(w, b->name.p, b->name.len);
    ipcn__wbuf_str(w, b->host.p, b->host.len);
    ipcn__wbuf_str(w, b->user.p, b->user.len);
    for (uint32_t i = 0; i < b->npath; i++)
        ipcn__wbuf_u64(w, path[i]);
    return ipcn__frame_finish(w, off);
}

int ipcn__enc_forward(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__forward *b,
                      const uint64_t *path, const uint8_t *inner,
                      size_t inner_len)
{
    h->type = IPCN_F_FORWARD;
    size_t off = ipcn__frame_begin(w, h);
    ipcn__wbuf_u64(w, b->seq);
    ipcn__wbuf_u8(w, b->flags);
    ipcn__wbuf_u8(w, b->npath);
    ipcn__wbuf_u16(w, 0);
    ipcn__wbuf_u32(w, 0);
    for (uint32_t i = 0; i < b->npath; i++)
        ipcn__wbuf_u64(w, path[i]);
    ipcn__wbuf_bytes(w, inner, inner_len);
    return ipcn__frame_finish(w, off);
}
