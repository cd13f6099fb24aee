/* SPDX-License-Identifier: MIT */
/*
 * sys.h — the node's own services (sys.c): a request for the path
 * "@sys/<node>/<name>" goes straight to the node of that name over its
 * link (no directory entry, nothing announced) and is answered there by
 * the engine's built-in handler <name>.  Permissions are the network
 * policy's, as for any service: READ of the path to know it is there
 * (else 203), EXECUTE to call it (else 202; 201).
 *
 * A handler: add a line to the table in sys.c.
 */
#ifndef IPCN_SYS_H
#define IPCN_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"

struct ipcn__link;
struct ipcn__pending;
struct ipcn__frame;

#define IPCN_SYS_PREFIX "@sys/"
#define IPCN_SYS_PREFIX_LEN 5

/* What a handler is asked: name is the part of the path after the node
 * ("traffic", "quarantine/lift"); the body as the requester sent it; the
 * whole path, the request's corr and when its requester gives up (0:
 * never), for a handler that answers later. */
typedef struct ipcn__sys_call {
    const char *name;
    const char *encoding;
    const void *data;
    size_t len;
    const char *path;
    uint64_t corr;
    uint64_t deadline_ns;
} ipcn__sys_call;

/* What it answers: the status it returns, and a body (allocated with
 * ipcn__malloc, freed by the caller; NULL for none) with its encoding
 * (a static string).  A refusal may say why in text/plain. */
typedef struct ipcn__sys_reply {
    void *data;
    size_t len;
    const char *encoding;
    bool later;  /* the request was queued: its answer is sent later,
                    nothing now (the status returned is then ignored) */
} ipcn__sys_reply;

/* A handler: l is the requester's link, or NULL for this node itself.
 * Lock held; it runs in the I/O round, so it must not wait. */
typedef int (*ipcn__sys_fn)(ipcn_node *n, struct ipcn__link *l,
                            const ipcn__sys_call *c, ipcn__sys_reply *r);

/* Is path (len bytes) one of the node services' ("@sys/...")? */
static inline bool ipcn__sys_path(const char *path, size_t len)
{
    return len >= IPCN_SYS_PREFIX_LEN && path[0] == '@' &&
           path[1] == 's' && path[2] == 'y' && path[3] == 's' &&
           path[4] == '/';
}

/* The requester's side: where "@sys/<node>/..." goes: *link_id 0 for
 * this node itself, else its link.  100, or 203 when no such node is
 * linked (or the path names none). */
int ipcn__sys_link(ipcn_node *n, const char *path, uint32_t *link_id);
/* This node's own request p for one of its own services: answered now. */
void ipcn__sys_run_local(ipcn_node *n, struct ipcn__pending *p);
/* The text of the 203 of "quarantine/lift" when the node holds nothing
 * against the subject (not a refusal: `ipcnet quarantine` tells them
 * apart by it). */
#define IPCN__SYS_NOTHING_HELD "this node holds nothing against it"

/* The guard's services, "quarantine" and "quarantine/lift"
 * (sys_guard.c); 203 for another name. */
int ipcn__sys_guard(ipcn_node *n, struct ipcn__link *l,
                    const ipcn__sys_call *c, ipcn__sys_reply *r);
/* The policy's word on peer l calling path: READ to know it is there
 * (else 203), EXECUTE to call it (else 202, 201); counted and logged. */
int ipcn__sys_allowed(ipcn_node *n, struct ipcn__link *l, const char *path);

/* The ordered shutdown's service, "shutdown" (sys_shutdown.c): checked
 * and queued for the dispatching thread (r->later), or refused now. */
int ipcn__sys_shutdown(ipcn_node *n, struct ipcn__link *l,
                       const ipcn__sys_call *c, ipcn__sys_reply *r);
struct ipcn__cb;
/* A queued "shutdown" request (a CB_REQUEST whose path is "@sys/"), its
 * requester still waiting: the application's handler runs, lock
 * released; its status is the answer, now or by ipcn_shutdown_done(). */
void ipcn__sys_shutdown_run(ipcn_node *n, struct ipcn__cb *cb);
/* At the node's close: the handlers and what was awaited. */
void ipcn__sys_shutdown_free(ipcn_node *n);

/* "links" (hosts.c): the node's links as ipcn_links() gives them, CBOR
 * {"node", "items": [{"kind", "peer", "host", "addr", "key", "via",
 * "hops", "rtt_ns", "bytes_in", "bytes_out", "frames_in", "frames_out",
 * "drops", "auth_failures", "loops"}...]} (ipcnet.h, "Node services"). */
int ipcn__sys_links(ipcn_node *n, struct ipcn__link *l,
                    const ipcn__sys_call *c, ipcn__sys_reply *r);

/* A peer's REQUEST for an "@sys/" path: checked, run, answered. */
void ipcn__sys_on_request(ipcn_node *n, struct ipcn__link *l,
                          const struct ipcn__frame *f);

/* The provenance proofs, "prov" (prov.c). */
int ipcn__sys_prov(ipcn_node *n, struct ipcn__link *l, const ipcn__sys_call *c,
                   ipcn__sys_reply *r);
/* Where a recorded sample went, "prov/to" (prov.c). */
int ipcn__sys_prov_to(ipcn_node *n, struct ipcn__link *l,
                      const ipcn__sys_call *c, ipcn__sys_reply *r);

#endif
