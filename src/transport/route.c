/* SPDX-License-Identifier: MIT */
/*
 * route.c — is a frame for this node, or to be forwarded?  The header's
 * hop and address fields are checked here, once per frame, after the
 * link has checked the frame and before anything acts on it.  There is no
 * forwarding yet (links between hosts will bring it): a frame must have
 * hops left, come from the peer itself and be for this node (or for any).
 */
#include "node/node.h"
#include "transport/route.h"

int ipcn__route_check(const ipcn_node *n, const ipcn__link *l,
                      const ipcn__hdr *h, const char **why)
{
    if (h->ttl == 0) {
        *why = "frame with no hops left";
        return IPCN_LOOP_DETECTED;
    }
    /* Before its hello there is no source to compare yet; a second
     * hello is the link's to refuse (protocol.md section 4 keeps that
     * check before this one). */
    if (l->state != LINK_UP || h->type == IPCN_F_HELLO)
        return IPCN_OK;
    if (h->src != l->who.node_id || (h->dst != 0 && h->dst != n->id)) {
        /* v1 has no routing: a frame must come from the peer itself. */
        *why = "frame with a foreign source or destination";
        return IPCN_BAD_REQUEST;
    }
    return IPCN_OK;
}
