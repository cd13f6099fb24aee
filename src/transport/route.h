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

/* A ROUTE or FORWARD frame f (the whole frame: p, len) received on an UP
 * link l: refused 202 (counted denied, the link kept) from a peer that
 * may not route; a FORWARD for another node is sent on (a router) or
 * bounced. */
void ipcn__route_in(ipcn_node *n, ipcn__link *l, const ipcn__frame *f,
                    const uint8_t *p, size_t len);

/* ---- route_table.c ---- */

/* One way to a node, as one link told it (its ROUTE, the host replaced
 * by the trust list's name when a TCP peer tells of itself). */
typedef struct ipcn__route_way {
    uint32_t link_id;
    uint8_t link_kind;        /* enum link_kind of that link */
    uint8_t flags;            /* IPCN_ROUTE_ROUTER */
    uint8_t npath;
    int32_t uid;
    char *name, *host, *user; /* owned */
    uint64_t path[IPCN_ROUTE_MAX_PATH];
} ipcn__route_way;

/* A node this node reaches through routers (or a router it is linked
 * to, which tells of itself). */
typedef struct ipcn__route_entry {
    uint64_t node_id;
    const char *name, *host, *user; /* the best way's (not owned) */
    int32_t uid;
    bool router;
    ipcn__route_way *ways;
    uint32_t nways, cap_ways;
    int32_t best;             /* index in ways, -1: none */
    uint32_t vlink_id;        /* its LINK_ROUTED link (0: none) */
} ipcn__route_entry;

/* The most nodes one node keeps ways to: a flood of ROUTEs for new ids
 * costs a warning, never memory (protocol 19.2). */
#define IPCN_ROUTE_MAX_NODES 1024u

typedef struct ipcn__route_table {
    ipcn__route_entry **v;
    uint32_t n, cap;
    bool full_told;          /* IPCN-ROUTE-FULL was logged */
    /* A link that closes while the table is being changed (a write that
     * fails while a way is told) is taken out after, not inside: busy
     * counts the changes under way, owed says a link waits (its
     * route_owed). */
    uint32_t busy;
    bool owed;
} ipcn__route_table;

/* What a change did to an entry (the table's own functions). */
enum {
    IPCN__RT_SAME = 0,  /* its best way is as it was */
    IPCN__RT_BEST = 1,  /* its best way changed: tell the links */
    IPCN__RT_GONE = 2,  /* no way is left (the entry is freed after) */
    IPCN__RT_LOOP = 3,  /* the path holds this node: dropped (308) */
    IPCN__RT_NOMEM = -1,
    IPCN__RT_FULL = -2  /* a new node past IPCN_ROUTE_MAX_NODES: refused */
};

/* The table alone (no node: unit-tested as is).  learn: way w (its
 * strings copied) to node_id, replacing what w's link said before;
 * *out the entry.  forget: what link_id said of node_id (a GONE).
 * link_down: every way of link_id goes; fn is called for each entry
 * whose best changed (RT_BEST) or that has no way left (RT_GONE, freed
 * once fn returns). */
int ipcn__rt_learn(ipcn__route_table *t, uint64_t self, uint64_t node_id,
                   const ipcn__route_way *w, ipcn__route_entry **out);
int ipcn__rt_forget(ipcn__route_table *t, uint64_t node_id,
                    uint32_t link_id, ipcn__route_entry **out);
/* Free an entry that forget left without a way. */
void ipcn__rt_drop(ipcn__route_table *t, ipcn__route_entry *e);
void ipcn__rt_link_down(ipcn__route_table *t, uint32_t link_id,
                        void (*fn)(void *ctx, ipcn__route_entry *e, int what),
                        void *ctx);
ipcn__route_entry *ipcn__rt_find(const ipcn__route_table *t,
                                 uint64_t node_id);
/* Is e's best way to be told to a link (id, kind)?  Not back to the link
 * it came from (split horizon), not from Unix to Unix, and only with room
 * in the path for the teller's id. */
bool ipcn__rt_tell(const ipcn__route_entry *e, uint32_t to_link_id,
                   int to_kind);
void ipcn__rt_free(ipcn__route_table *t);

/* The node's side.  A router (a gateway, ipcn__route_enable()) tells
 * each UP link with IPCN_CAP_ROUTE of itself, to TCP links of its Unix
 * peers, and to every link of its best ways (ipcn__rt_tell); every node
 * learns ROUTEs from the peers that may route (l->router) and opens a
 * routed link to each node it reaches only through them. */
void ipcn__route_enable(ipcn_node *n);
/* l is up (any kind but ROUTED; link_hello.c calls it): tell it. */
void ipcn__route_link_up(ipcn_node *n, ipcn__link *l);
/* l went (link_hello.c calls it, for every kind): forget what it told;
 * ways through other links take over, and the nodes no way is left to
 * lose their routed links (303).  For a routed link: its entry forgets
 * it. */
void ipcn__route_link_down(ipcn_node *n, ipcn__link *l);
/* A ROUTE frame from l (a router: checked by the caller). */
void ipcn__route_on_route(ipcn_node *n, ipcn__link *l, const ipcn__route *r);
/* The entry of node_id, or NULL. */
ipcn__route_entry *ipcn__route_find(ipcn_node *n, uint64_t node_id);
/* The link to send a frame for node_id on: the node's own link when it
 * is linked, else the first hop of the best way; NULL when there is none
 * (302). */
ipcn__link *ipcn__route_next_hop(ipcn_node *n, uint64_t node_id);
void ipcn__route_free_all(ipcn_node *n);

/* ---- vlink.c ---- */

/* Open the routed link to e's node (its HELLO goes at once); NULL when
 * out of memory. */
ipcn__link *ipcn__vlink_open(ipcn_node *n, ipcn__route_entry *e);
/* The routed link of node_id (not dead), or NULL. */
ipcn__link *ipcn__vlink_of(ipcn_node *n, uint64_t node_id);
/* The frame at vl->tx.p + mark (to its end), just encoded for vl's peer:
 * its dst set, sent in a FORWARD (ipcn__vlink_send), and taken out of
 * vl->tx.  Counted as ipcn__link_commit() counts. */
int ipcn__vlink_commit(ipcn_node *n, ipcn__link *vl, size_t mark,
                       bool droppable);
/* Send a frame (len bytes, encoded for vl's peer, dst set) through the
 * routers: in a FORWARD on the next hop's link.  100; 302 when no way is
 * left; 205 when the next hop's queue is full (a droppable frame is
 * counted as dropped there and here); 200 when it is over what the next
 * hop takes; 307. */
int ipcn__vlink_send(ipcn_node *n, ipcn__link *vl, const uint8_t *frame,
                     size_t len, bool droppable);
/* A FORWARD for this node (f, its inner frame checked here) from router
 * link l: to the routed link of its origin. */
void ipcn__vlink_deliver(ipcn_node *n, ipcn__link *l, const ipcn__frame *f);

#endif
