/* SPDX-License-Identifier: MIT */
/*
 * entry.h — the engine's one entry: the only symbol of the engine that the
 * layers below it (transport, shm, node) call.  What they received or saw
 * happen reaches the engine here as one event of one kind; the engine
 * answers through the functions of those layers (downward calls).
 * scripts/check-layers.sh lists ipcn__engine_in as its only ENTRY.
 */
#ifndef IPCN_ENGINE_ENTRY_H
#define IPCN_ENGINE_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "ipcnet.h"
#include "transport/link.h"
#include "wire/wire.h"

struct ipcn__cb;

typedef enum ipcn__in_kind {
    /* link, frame: a frame for this node from an UP link, past the link's
     * checks, the gate and the route (the verbs: directory, pub/sub,
     * query, request, shm). */
    IPCN__IN_FRAME = 1,
    /* link: its hello was accepted; the link is UP. */
    IPCN__IN_LINK_UP,
    /* link, status, was_up, peer_died: the link closed (it is DEAD, freed
     * after the round); peer_died: its process is gone by its pidfd. */
    IPCN__IN_LINK_DOWN,
    /* now: the node's timer fired (deadlines of queries and requests). */
    IPCN__IN_TIMER,
    /* Returns when the engine next needs the timer (0: never). */
    IPCN__IN_DEADLINE,
    /* cb: run a queued reply or request callback; NULL: deliver one
     * sample.  The lock is released around the callback.  Returns 1 when
     * something ran. */
    IPCN__IN_DELIVER,
    /* cb: free what of a callback the engine owns (pending, message). */
    IPCN__IN_CB_FREE,
    /* The node closes: free all the engine holds (before the links). */
    IPCN__IN_CLOSE,
    /* old_policy: the network policy changed (n->policy is the new one,
     * n->policy_gen moved): check again what was let through. */
    IPCN__IN_POLICY,
    /* rep, status: a principal was quarantined (205), banned (202) or
     * lifted (100) (transport/reputation.c): tell the application, and
     * the other nodes (engine/quarantine.c). */
    IPCN__IN_REPUTATION,
    /* Evidence of compromised peers is queued (transport/compromise.h):
     * act on it (report, isolate, ask for the safe shutdown). */
    IPCN__IN_COMPROMISE
} ipcn__in_kind;

typedef struct ipcn__in {
    ipcn__in_kind kind;
    int status;
    bool was_up, peer_died;
    ipcn__link *link;
    const ipcn__frame *frame;
    struct ipcn__cb *cb;
    uint64_t now;
    const struct ipcn__policy *old_policy;
    struct ipcn__rep *rep;
} ipcn__in;

/* The entry.  Called with the node's lock held. */
uint64_t ipcn__engine_in(ipcn_node *n, const ipcn__in *in);

#endif
