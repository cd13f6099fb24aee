/* SPDX-License-Identifier: MIT */
/*
 * compromise.h — evidence that a peer is compromised, as the layers below
 * the engine see it, and the isolation that the gate enforces
 * (transport/compromise.c).  What to do with the evidence (report,
 * isolate, ask for the safe shutdown) is the engine's
 * (engine/compromise.c): evidence found here is queued on the node and
 * handed to it once per I/O round (IPCN__IN_COMPROMISE), never from
 * inside a verb handler.
 *
 * The node keeps, for its whole life and bounded, a record per principal
 * name: what it was first seen as (uid, executable hash), the evidence
 * against it, and whether it is isolated.  Isolation is the one check in
 * ipcn__gate_decide(): every decision for an isolated principal is
 * refused as if denied.
 *
 * Locking: the node's lock, always.
 */
#ifndef IPCN_COMPROMISE_H
#define IPCN_COMPROMISE_H

#include <stdbool.h>
#include <stdint.h>

#include "ipcnet.h"
#include "transport/link.h"

#define IPCN_CZ_RECORDS_MAX 1024 /* principals remembered per node */
#define IPCN_CZ_QUEUE_MAX 64     /* evidence waiting for the engine */
#define IPCN_CZ_DETAIL 200

/* What a node remembers of one principal name. */
typedef struct ipcn__cz_record {
    char *name;
    /* first seen on this node as */
    int32_t first_uid;
    bool first_hashed;
    uint8_t first_sha[32];
    uint64_t seen_ns;        /* last linked (monotonic), for eviction */
    /* the evidence */
    bool isolated;
    uint32_t kinds;          /* bit (1 << kind) of the kinds reported */
    uint32_t reports;
    ipcn_compromise ev;      /* the latest (name, detail: the fields) */
    char detail[IPCN_CZ_DETAIL];
} ipcn__cz_record;

/* Evidence found and not yet handed to the engine. */
typedef struct ipcn__cz_evidence {
    uint32_t link_id;
    ipcn_compromise_kind kind;
    char detail[IPCN_CZ_DETAIL];
} ipcn__cz_evidence;

/* One watched executable (the file a peer runs), shared by links. */
typedef struct ipcn__cz_watch {
    int wd;
    char *path;
    uint64_t dev, ino;       /* of the file the processes run */
    uint32_t refs;           /* links that use it */
} ipcn__cz_watch;

typedef struct ipcn__cz {
    ipcn__cz_record *rec;
    uint32_t nrec, nisolated;
    ipcn__cz_evidence queue[IPCN_CZ_QUEUE_MAX];
    uint32_t nqueue;
    uint64_t queue_dropped;
    ipcn__cz_watch *watch;
    uint32_t nwatch;
    bool watch_failed_told;
} ipcn__cz;

/* Is the principal isolated on this node (by its node name)? */
bool ipcn__cz_isolated(const ipcn_node *n, const ipcn__principal *who);
/* The record of name, made when make (NULL: none, or no memory). */
ipcn__cz_record *ipcn__cz_record_of(ipcn_node *n, const char *name,
                                    bool make);
/* Queue evidence against the peer of l for the engine (detail: printf).
 * Dropped when its principal is isolated already or has been reported for
 * that kind. */
void ipcn__cz_evidence_add(ipcn_node *n, const ipcn__link *l,
                           ipcn_compromise_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Is evidence waiting for the engine? */
bool ipcn__cz_pending(const ipcn_node *n);
/* One refusal of peer l by policy: a burst (detect.violations within
 * detect.violations_ms) is evidence. */
void ipcn__cz_violation(ipcn_node *n, ipcn__link *l);

/* Watch the executable l's process runs (inotify on its path), shared
 * with the other links of that file; evidence at once when the path no
 * longer leads to that file.  ipcn__cz_unwatch() when the link goes. */
void ipcn__cz_watch_link(ipcn_node *n, ipcn__link *l);
void ipcn__cz_unwatch_link(ipcn_node *n, ipcn__link *l);
/* An inotify event: true when it was one of these watches' (handled). */
bool ipcn__cz_inotify(ipcn_node *n, int wd, uint32_t mask);
/* Events were lost (IN_Q_OVERFLOW): look at every watched file again. */
void ipcn__cz_recheck_all(ipcn_node *n);

void ipcn__cz_free(ipcn_node *n);

#endif
