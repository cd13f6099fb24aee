/* SPDX-License-Identifier: MIT */
/*
 * traffic.h — the picture of normal traffic (traffic.c): per peer link,
 * per resource and verb, what the peer usually sends this node (rate and
 * size, exponentially weighted), and the anomaly rule of the policy's
 * detect section (guard.h): a rate far above the normal for long enough
 * is the peer's misbehaviour.
 *
 * Each link has a small table, made with the first frame it counts:
 * IPCN_TRAFFIC_PATHS entries keyed by (path, verb), and one entry per
 * verb, shown as "*", for the rest (paths that are not valid too) once the table is full (an entry idle for
 * IPCN_TRAFFIC_IDLE_NS gives its place to a new path).  Rates are kept
 * over windows of one second, folded in lazily when the next frame or a
 * reader comes: an idle link costs nothing.
 *
 * Locking: the node's lock is held on every call here.
 */
#ifndef IPCN_TRAFFIC_H
#define IPCN_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/wire.h"

struct ipcn_node;
struct ipcn__link;

#define IPCN_TRAFFIC_PATHS 64            /* paths per link; then "*" */
#define IPCN_TRAFFIC_WINDOW_NS 1000000000ull
#define IPCN_TRAFFIC_IDLE_NS (60 * IPCN_TRAFFIC_WINDOW_NS)
#define IPCN_TRAFFIC_ALPHA 0.1    /* weight of a new window in the normal */
#define IPCN_TRAFFIC_ACCEPT_NS (60 * IPCN_TRAFFIC_WINDOW_NS) /* windows
                                     over the bound leave the normal as it
                                     was, or an episode would teach it its
                                     own rate in seconds; a level that
                                     stays over this long is the normal */
#define IPCN_TRAFFIC_BETA (1.0 / 16) /* weight of a frame in the mean size */
#define IPCN_TRAFFIC_WARMUP 5     /* windows seen before the rule applies */
#define IPCN_TRAFFIC_FLOOR 1.0    /* a normal under this (frames/s) counts
                                     as this: tiny rates do not trigger */

/* The verbs counted (the inbound frames of these types). */
enum ipcn__tverb {
    IPCN__TV_REQUEST = 0,
    IPCN__TV_QUERY,
    IPCN__TV_SET,
    IPCN__TV_SAMPLE,      /* SAMPLE and SHM_SAMPLE */
    IPCN__TV_COUNT
};

/* One (path, verb) of one peer. */
typedef struct ipcn__tstat {
    char *path;           /* with verb, the key; NULL: a free entry, or
                             one of the rest ("*") */
    uint16_t path_len;
    uint8_t verb;         /* enum ipcn__tverb */
    bool anomalous;       /* in an episode (flagged, not over yet) */
    uint64_t count, bytes;
    uint64_t last_ns;
    uint64_t win_start_ns; /* the window being counted */
    uint32_t win_count;
    uint32_t windows;     /* windows folded into the normal */
    double rate;          /* the normal: frames/s, weighted over windows */
    double rate_now;      /* the last complete window's frames/s */
    double size;          /* mean payload bytes, weighted over frames */
    uint64_t over_since_ns; /* the rate over the bound since (0: not) */
    uint64_t episodes;    /* anomalies flagged */
} ipcn__tstat;

typedef struct ipcn__traffic {
    uint32_t used;        /* entries of paths[] taken */
    uint32_t last;        /* the last hit, tried first */
    ipcn__tstat paths[IPCN_TRAFFIC_PATHS];
    ipcn__tstat rest[IPCN__TV_COUNT];
} ipcn__traffic;

/* What the rule needs: the policy's figures (factor 0: off). */
typedef struct ipcn__tparams {
    double factor;
    uint64_t for_ns;
} ipcn__tparams;

/* An inbound frame of l, checked and routed, before the engine takes it:
 * counted when it is one of the verbs above.  An anomaly it reveals is
 * charged to l's principal (reputation.h), which may close l: the caller
 * looks at l->state after it. */
void ipcn__traffic_in(struct ipcn_node *n, struct ipcn__link *l,
                      const ipcn__frame *f);
/* Free l's table (at the link's end). */
void ipcn__traffic_free(struct ipcn__link *l);
/* Bring l's figures up to now (windows passed meanwhile folded in), as a
 * reader does before it shows them.  May charge an anomaly, as above. */
void ipcn__traffic_settle(struct ipcn_node *n, struct ipcn__link *l,
                          uint64_t now);
const char *ipcn__tverb_name(unsigned v); /* "request", ... */

/* ---- the arithmetic, pure (unit-tested) ---- */
/* Count one frame of len payload bytes at now, folding the windows that
 * ended before it.  Returns true when this fold started an anomaly
 * episode (the caller charges it). */
bool ipcn__tstat_frame(ipcn__tstat *t, uint64_t now, uint64_t len,
                       const ipcn__tparams *tp);
/* Fold the windows that ended by now, without a frame.  Returns true as
 * ipcn__tstat_frame(). */
bool ipcn__tstat_fold(ipcn__tstat *t, uint64_t now, const ipcn__tparams *tp);
/* The bound a window's rate must stay under: factor x max(normal, floor). */
double ipcn__tstat_bound(const ipcn__tstat *t, double factor);

#endif
