/* SPDX-License-Identifier: MIT */
/*
 * vlink.c — a node reached through routers is a link of kind
 * LINK_ROUTED: no socket of its own; each frame the engine encodes for it
 * is wrapped in a FORWARD frame and queued on the link of the next hop,
 * and the FORWARDs its node sends to this one are unwrapped into it, so
 * the engine serves it as any peer (docs/protocol.md 19.2).
 */
#include <stdio.h>
#include <string.h>

#include "engine/entry.h"
#include "node/node.h"
#include "transport/link_impl.h"
#include "transport/route.h"

ipcn__link *ipcn__vlink_of(ipcn_node *n, uint64_t node_id)
{
    ipcn__route_entry *e = ipcn__route_find(n, node_id);
    ipcn__link *l = e && e->vlink_id ? ipcn__link_by_id(n, e->vlink_id) : NULL;
    if (l)
        return l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->kind == LINK_ROUTED && l->state != LINK_DEAD &&
            l->who.node_id == node_id)
            return l;
    return NULL;
}

ipcn__link *ipcn__vlink_open(ipcn_node *n, ipcn__route_entry *e)
{
    if (e->best < 0 || n->closing)
        return NULL;
    ipcn__link *vl = ipcn__link_alloc(n, -1, false);
    if (!vl)
        return NULL;
    vl->kind = LINK_ROUTED;
    /* Who it is: what the routers said (no credentials of this host). */
    vl->who.uid = vl->who.gid = -1;
    vl->who.node_id = e->node_id;
    vl->via_id = e->ways[e->best].link_id;
    if (!(vl->expect_name = ipcn__strdup(e->name)) ||
        !(vl->who.host = ipcn__strdup(e->host)) ||
        !(vl->who.user = ipcn__strdup(e->user))) {
        ipcn__identity_free(&vl->who);
        ipcn__free(vl->expect_name);
        ipcn__free(vl);
        return NULL;
    }
    ipcn__list_insert_tail(&n->links, &vl->node_entry);
    n->nlinks++;
    e->vlink_id = vl->id;
    ipcn__debug("IPCN-ROUTE-LINK", "%s: routed link to %s@%s via link %u",
                n->name, e->name, e->host, vl->via_id);
    ipcn__link_send_hello(n, vl);
    return vl;
}

int ipcn__vlink_send(ipcn_node *n, ipcn__link *vl, const uint8_t *frame,
                     size_t len, bool droppable)
{
    ipcn__link *hop = ipcn__route_next_hop(n, vl->who.node_id);
    if (!hop || hop->kind == LINK_ROUTED) {
        if (droppable) {
            vl->drops++;
            n->stats.drops++;
        }
        return IPCN_BAD_GATEWAY;
    }
    vl->via_id = hop->id;
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, 0, 0);
    h.dst = vl->who.node_id;
    ipcn__forward b = {.seq = ++n->fwd_seq};
    n->fwd_buf.len = 0;
    int st = ipcn__enc_forward(&n->fwd_buf, &h, &b, NULL, frame, len);
    bool counted = false; /* in the node's drops, by send_raw */
    if (st == IPCN_OK) {
        st = ipcn__link_send_raw(n, hop, n->fwd_buf.p, n->fwd_buf.len,
                                 droppable);
        counted = st != IPCN_OK && st != IPCN_SERVICE_UNAVAILABLE;
    }
    n->fwd_buf.len = 0;
    if (n->fwd_buf.cap > (1u << 20))
        ipcn__wbuf_free(&n->fwd_buf);
    if (st != IPCN_OK && droppable) {
        vl->drops++; /* and on the hop's link, by send_raw */
        if (!counted)
            n->stats.drops++;
    }
    return st;
}

/* The frame at p (len bytes, checked) is for node dst: say so in its
 * header, and seal it again. */
static void set_dst(uint8_t *p, size_t len, uint64_t dst)
{
    for (int i = 0; i < 8; i++)
        p[24 + i] = (uint8_t)(dst >> (8 * i));
    uint64_t c = ipcn__frame_checksum(p, p + IPCN_WIRE_HDR_SIZE,
                                      len - IPCN_WIRE_HDR_SIZE);
    for (int i = 0; i < 8; i++)
        p[40 + i] = (uint8_t)(c >> (8 * i));
}

int ipcn__vlink_commit(ipcn_node *n, ipcn__link *vl, size_t mark,
                       bool droppable)
{
    size_t len = vl->tx.len - mark;
    if (vl->state == LINK_UP && len - IPCN_WIRE_HDR_SIZE > vl->peer_max_payload) {
        vl->tx.len = mark; /* the peer would refuse it */
        return IPCN_BAD_REQUEST;
    }
    set_dst(vl->tx.p + mark, len, vl->who.node_id);
    vl->frames_out++;
    vl->bytes_out += len;
    int st = ipcn__vlink_send(n, vl, vl->tx.p + mark, len, droppable);
    vl->tx.len = mark;
    if (vl->tx.cap > (1u << 20)) {
        ipcn__wbuf_free(&vl->tx);
        ipcn__link_tx_account(n, vl);
    }
    if (!vl->unheard_ns && st == IPCN_OK) {
        /* Watched until the peer speaks again, as any link (loop.c):
         * its pings go end to end. */
        vl->unheard_ns = ipcn__now_mono_ns();
        ipcn__node_arm_timer(n, vl->unheard_ns +
                                    (uint64_t)n->opts.heartbeat_ms * 1000000ull);
    }
    return st;
}

/* A BOUNCE: a router could not deliver the frame whose header came back.
 * A question of ours ends with the bounce's status, as if its provider
 * had answered so. */
static void on_bounce(ipcn_node *n, const ipcn__frame *f)
{
    const uint8_t *ih = f->u.forward.inner.p;
    uint8_t type = ih[5];
    uint64_t dst = 0, corr = 0;
    for (int i = 7; i >= 0; i--) {
        dst = dst << 8 | ih[24 + i];
        corr = corr << 8 | ih[32 + i];
    }
    ipcn__link *vl = ipcn__vlink_of(n, dst);
    ipcn__info("IPCN-ROUTE-BOUNCE", "%s: a frame (type %u) for node %016llx "
               "came back: %d %s", n->name, type, (unsigned long long)dst,
               f->hdr.status, ipcn_status_str(f->hdr.status));
    if (!vl || vl->state != LINK_UP || !corr ||
        (type != IPCN_F_QUERY && type != IPCN_F_REQUEST && type != IPCN_F_SET))
        return;
    ipcn__frame r;
    memset(&r, 0, sizeof r);
    r.hdr.version = IPCN_WIRE_VERSION;
    r.hdr.type = type == IPCN_F_QUERY ? IPCN_F_QUERY_REPLY : IPCN_F_REPLY;
    r.hdr.status = f->hdr.status;
    r.hdr.src = dst;
    r.hdr.dst = n->id;
    r.hdr.corr = corr;
    r.u.reply.encoding = ipcn__str_of("");
    r.u.reply.data = ipcn__blob_of(NULL, 0);
    ipcn__engine_in(n, &(ipcn__in){.kind = IPCN__IN_FRAME, .link = vl,
                                   .frame = &r});
}

/* Did link l tell a way to node id?  Only then may a FORWARD from that
 * node come for us on l: a router cannot speak for a node it never said
 * it reaches (nor poison that node's seq here). */
static bool way_via(ipcn_node *n, uint64_t id, uint32_t link_id)
{
    const ipcn__route_entry *e = ipcn__route_find(n, id);
    for (uint32_t i = 0; e && i < e->nways; i++)
        if (e->ways[i].link_id == link_id)
            return true;
    return false;
}

/* A BOUNCE is believed only with a status a router gives, from a router
 * linked to us, on the link its undelivered frame went out on. */
static bool bounce_ok(ipcn_node *n, const ipcn__link *l, const ipcn__frame *f)
{
    int st = f->hdr.status;
    if (st != IPCN_BAD_GATEWAY && st != IPCN_GATEWAY_TIMEOUT &&
        st != IPCN_LOOP_DETECTED && st != IPCN_TOO_MANY_REQUESTS)
        return false;
    const uint8_t *ih = f->u.forward.inner.p;
    uint64_t dst = 0;
    for (int i = 7; i >= 0; i--)
        dst = dst << 8 | ih[24 + i];
    return l->router && ipcn__route_next_hop(n, dst) == l;
}

void ipcn__vlink_deliver(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__forward *fw = &f->u.forward;
    bool bounce = (fw->flags & IPCN_FWD_BOUNCE) != 0;
    if (bounce ? !bounce_ok(n, l, f) : !way_via(n, f->hdr.src, l->id)) {
        l->denied++;
        n->stats.denied++;
        ipcn__debug("IPCN-ROUTE-REFUSED", "%s: a FORWARD%s from node %016llx "
                    "on the link of %s, which gave no way to it: dropped",
                    n->name, bounce ? " (bounce)" : "",
                    (unsigned long long)f->hdr.src,
                    l->who.name ? l->who.name : "?");
        return;
    }
    ipcn__link *vl = ipcn__vlink_of(n, f->hdr.src);
    /* Each origin's seq only grows: one seen already came twice (two
     * ways, or a way that changed). */
    if (vl && fw->seq <= vl->fwd_seq_in) {
        n->stats.dups++;
        return;
    }
    if (fw->flags & IPCN_FWD_BOUNCE) {
        if (vl)
            vl->fwd_seq_in = fw->seq;
        on_bounce(n, f);
        return;
    }
    const uint8_t *p = fw->inner.p;
    size_t len = fw->inner.len, need = 0;
    ipcn__frame in;
    int st = ipcn__frame_check(p, len, n->opts.max_payload, &need);
    if (st == IPCN_OK && need != len)
        st = IPCN_BAD_REQUEST;
    if (st == IPCN_OK)
        st = ipcn__frame_decode(p, len, &in);
    if (st == IPCN_OK && (in.hdr.src != f->hdr.src || in.hdr.dst != f->hdr.dst))
        st = IPCN_BAD_REQUEST;
    if (st != IPCN_OK) {
        /* The origin's fault, not the router's: its routed link goes. */
        l->bad_frames++;
        n->stats.bad_frames++;
        if (vl)
            ipcn__link_bad_input(n, vl, IPCN_BAD_REQUEST,
                                 "malformed frame inside a FORWARD");
        return;
    }
    if (in.hdr.type == IPCN_F_HELLO && vl && vl->state == LINK_UP) {
        /* The peer started over: so does its link here. */
        ipcn__link_close(n, vl, IPCN_SERVICE_UNAVAILABLE, "the peer started over");
        vl = NULL;
    }
    if (!vl) {
        ipcn__route_entry *e = ipcn__route_find(n, f->hdr.src);
        if (!e || in.hdr.type != IPCN_F_HELLO || !(vl = ipcn__vlink_open(n, e))) {
            n->stats.bad_gateway++; /* nobody to give it to */
            return;
        }
    }
    vl->fwd_seq_in = fw->seq;
    if (vl->state == LINK_HELLO && in.hdr.type != IPCN_F_HELLO &&
        in.hdr.type != IPCN_F_ERROR) {
        /* The peer took our HELLO, but its own was lost (it came before
         * our way to it): ours once more makes it start over, and its
         * HELLO comes again.  What it sent meanwhile is dropped. */
        if (!vl->hello_resent) {
            vl->hello_resent = true;
            ipcn__link_send_hello(n, vl);
        }
        return;
    }
    vl->rx_len = 0;
    vl->bytes_in += len;
    vl->last_rx_ns = n->round_ns ? n->round_ns : ipcn__now_mono_ns();
    vl->unheard_ns = 0;
    ipcn__link_on_frame(n, vl, p, len);
}
