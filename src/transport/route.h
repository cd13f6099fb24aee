/* SPDX-License-Identifier: MIT */
/*
 * route.h — the route stage and the routing table (several hosts).
 *
 * route.c: is a frame for this node, or to be forwarded?  ROUTE frames
 * teach the table; FORWARD frames are unwrapped here (to the routed link
 * of their origin) or sent on toward their destination (ttl, path, 308,
 * 302).  route_table.c: per node id, what each link said of the way to it
 * (a path vector per link: what a link told is kept, so a link that
 * fails leaves the others' ways ready), the best of them (fewest routers,
 * then the lowest link id), and what to tell each link when the best
 * changes.  vlink.c: a node reached through routers is a link of kind
 * LINK_ROUTED, whose frames travel in FORWARD frames, so the engine
 * serves it as any peer.  Docs: docs/protocol.md, "Several hosts".
 *
 * Locking: the node's lock is held on every call.
 */
#ifndef IPCN_ROUTE_H
#define IPCN_ROUTE_H

#include "ipcnet.h"
#include "transport/link.h"
#include "wire/wire.h"

/* Check the hop and address fields of a frame received on l: IPCN_OK when
 * it is for this node or a ROUTE/FORWARD the route stage takes; else the
 * status to refuse the link with, and *why.  Before the hello (l not UP)
 * only the hops are checked. */
int ipcn__route_check(const ipcn_node *n, const ipcn__link *l,
                      const ipcn__hdr *h, const char **why);

/* A ROUTE or FORWARD frame f (the whole frame: p, len) received on l. */
void ipcn__route_in(ipcn_node *n, ipcn__link *l, const ipcn__frame *f,
                    const uint8_t *p, size_t len);

/* ---- route_table.c ---- */

/* One way to a node, as one link told it. */
typedef struct ipcn__route_way {
    uint32_t link_id;
    uint8_t npath;
    uint64_t path[IPCN_ROUTE_MAX_PATH];
} ipcn__route_way;

/* A node this node reaches only through routers. */
typedef struct ipcn__route_entry {
    uint64_t node_id;
    char *name, *host, *user; /* as the best way's link said */
    int32_t uid;
    bool router;
    ipcn__route_way *ways;
    uint32_t nways, cap_ways;
    int32_t best;             /* index in ways, -1: none */
    uint32_t vlink_id;        /* its LINK_ROUTED link (0: none) */
} ipcn__route_entry;

/* l is up: tell it the nodes we reach (a router), and take its ROUTEs. */
void ipcn__route_link_up(ipcn_node *n, ipcn__link *l);
/* l went: forget what it told; ways through other links take over, and
 * the nodes no way is left to go (their routed links close: 303). */
void ipcn__route_link_down(ipcn_node *n, ipcn__link *l);
/* The entry of node_id, or NULL. */
ipcn__route_entry *ipcn__route_find(ipcn_node *n, uint64_t node_id);
/* The link to send a frame for node_id on: the node's own link when it
 * is linked, else the first hop of the best way; NULL when there is none
 * (302). */
ipcn__link *ipcn__route_next_hop(ipcn_node *n, uint64_t node_id);
void ipcn__route_free_all(ipcn_node *n);

/* ---- vlink.c ---- */

/* Send a frame (len bytes, encoded for vl's peer) through the routers:
 * in a FORWARD on the next hop's link.  100; 302 when no way is left;
 * 205 when the next hop's queue is full (a droppable frame is counted as
 * dropped there and here); 307. */
int ipcn__vlink_send(ipcn_node *n, ipcn__link *vl, const uint8_t *frame,
                     size_t len, bool droppable);

#endif
