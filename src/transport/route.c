/* SPDX-License-Identifier: MIT */
/*
 * route.c — is a frame for this node, or to be forwarded?  The header's
 * hop and address fields are checked here, once per frame, after the
 * link has checked the frame and before anything acts on it.  A frame
 * comes from the peer itself and is for this node (or for any), but for
 * ROUTE and FORWARD frames, which come here: ROUTEs teach the table
 * (route_table.c); a FORWARD for this node goes to the routed link of
 * its origin (vlink.c), one for another node is sent on toward it (a
 * router) with its ttl and path, or bounced back to its origin (302,
 * 205); loops are dropped (308).  docs/protocol.md 19.2.
 */
#include <string.h>

#include "node/node.h"
#include "transport/gate.h"
#include "transport/link_impl.h"
#include "transport/route.h"

int ipcn__route_check(const ipcn_node *n, const ipcn__link *l,
                      const ipcn__hdr *h, const char **why)
{
    bool routing = h->type == IPCN_F_ROUTE || h->type == IPCN_F_FORWARD;
    if (routing && l->kind == LINK_ROUTED) {
        *why = "ROUTE or FORWARD inside a FORWARD";
        return IPCN_BAD_REQUEST;
    }
    /* A FORWARD's ttl is the routers' to count (route_in: 308, the link
     * kept: the frame may have come a long way). */
    if (h->ttl == 0 && h->type != IPCN_F_FORWARD) {
        *why = "frame with no hops left";
        return IPCN_LOOP_DETECTED;
    }
    /* Before its hello there is no source to compare yet; a second
     * hello is the link's to refuse (protocol.md section 4 keeps that
     * check before this one). */
    if (l->state != LINK_UP || h->type == IPCN_F_HELLO)
        return IPCN_OK;
    /* Who may send these, and for whom, is route_in's to say (202,
     * the link kept). */
    if (routing)
        return IPCN_OK;
    if (h->src != l->who.node_id || (h->dst != 0 && h->dst != n->id)) {
        *why = "frame with a foreign source or destination";
        return IPCN_BAD_REQUEST;
    }
    return IPCN_OK;
}

static void refuse(ipcn_node *n, ipcn__link *l, const char *why)
{
    l->denied++;
    n->stats.denied++;
    ipcn__warn("IPCN-ROUTE-DENIED", "%s: %s (pid %d) may not route: %s",
               n->name, l->who.name, (int)l->who.pid, why);
    ipcn__link_send_error(n, l, IPCN_FORBIDDEN, why);
}

static bool path_has(const ipcn__forward *fw, uint64_t id)
{
    for (uint32_t i = 0; i < fw->npath; i++)
        if (ipcn__wire_path_at(fw->path, i) == id)
            return true;
    return false;
}

/* Queue a FORWARD on to (n->fwd_buf): 100 or as ipcn__link_send_raw(). */
static int send_forward(ipcn_node *n, ipcn__link *to, const ipcn__hdr *outer,
                        const ipcn__forward *b, const uint64_t *path,
                        const uint8_t *inner, size_t inner_len, bool droppable)
{
    ipcn__hdr h = *outer;
    n->fwd_buf.len = 0;
    int st = ipcn__enc_forward(&n->fwd_buf, &h, b, path, inner, inner_len);
    if (st == IPCN_OK)
        st = ipcn__link_send_raw(n, to, n->fwd_buf.p, n->fwd_buf.len, droppable);
    n->fwd_buf.len = 0;
    if (n->fwd_buf.cap > (1u << 20))
        ipcn__wbuf_free(&n->fwd_buf);
    return st;
}

/* The frame whose header is inner could not be delivered: tell its
 * origin (a BOUNCE: the header only), if a way to it is known. */
static void bounce(ipcn_node *n, const ipcn__hdr *outer, const uint8_t *inner,
                   int status)
{
    ipcn__link *to = ipcn__route_next_hop(n, outer->src);
    if (!to)
        return;
    ipcn__hdr h;
    ipcn__link_hdr(n, &h, (uint16_t)status, 0);
    h.dst = outer->src;
    ipcn__forward b = {.seq = ++n->fwd_seq, .flags = IPCN_FWD_BOUNCE};
    send_forward(n, to, &h, &b, NULL, inner, IPCN_WIRE_HDR_SIZE, false);
}

/* A FORWARD for another node: on toward it (a router), else back. */
static void pass_on(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__forward *fw = &f->u.forward;
    bool is_bounce = fw->flags & IPCN_FWD_BOUNCE;
    ipcn__link *to = n->router ? ipcn__route_next_hop(n, f->hdr.dst) : NULL;
    if (!to || to == l) {
        n->stats.bad_gateway++;
        if (!is_bounce)
            bounce(n, &f->hdr, fw->inner.p, IPCN_BAD_GATEWAY);
        return;
    }
    uint64_t path[IPCN_FWD_MAX_PATH];
    for (uint32_t i = 0; i < fw->npath; i++)
        path[i] = ipcn__wire_path_at(fw->path, i);
    path[fw->npath] = n->id;
    ipcn__forward b = {.seq = fw->seq, .flags = fw->flags,
                       .npath = (uint8_t)(fw->npath + 1)};
    ipcn__hdr h = f->hdr;
    h.ttl--;
    h.hops++;
    bool sample = !is_bounce && fw->inner.len > 5 &&
                  fw->inner.p[5] == IPCN_F_SAMPLE;
    int st = send_forward(n, to, &h, &b, path, fw->inner.p, fw->inner.len,
                          sample);
    if (st == IPCN_OK || sample || is_bounce)
        return; /* a sample not sent is counted on to's drops */
    bounce(n, &f->hdr, fw->inner.p,
           st == IPCN_BAD_REQUEST ? IPCN_BAD_GATEWAY : IPCN_TOO_MANY_REQUESTS);
}

static void on_forward(ipcn_node *n, ipcn__link *l, const ipcn__frame *f)
{
    const ipcn__forward *fw = &f->u.forward;
    if (f->hdr.src != l->who.node_id && !l->router) {
        refuse(n, l, "FORWARD with a foreign source");
        return;
    }
    /* Out of hops, or back at a router it passed, or no room left to say
     * so: a loop (308), dropped. */
    if (f->hdr.ttl == 0 || path_has(fw, n->id) ||
        (f->hdr.dst != n->id && fw->npath >= IPCN_FWD_MAX_PATH) ||
        f->hdr.src == n->id) {
        l->loops++;
        n->stats.loops++;
        return;
    }
    if (f->hdr.dst == n->id)
        ipcn__vlink_deliver(n, l, f);
    else
        pass_on(n, l, f);
}

void ipcn__route_in(ipcn_node *n, ipcn__link *l, const ipcn__frame *f,
                    const uint8_t *p, size_t len)
{
    (void)p;
    (void)len;
    if (f->hdr.type == IPCN_F_FORWARD) {
        on_forward(n, l, f);
        return;
    }
    if (!l->router) {
        refuse(n, l, "ROUTE from a peer that is not a router");
        return;
    }
    if (f->hdr.src != l->who.node_id) {
        refuse(n, l, "ROUTE with a foreign source");
        return;
    }
    ipcn__route_on_route(n, l, &f->u.route);
}
