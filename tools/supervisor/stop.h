/* SPDX-License-Identifier: MIT */
/*
 * stop.h — the ordered safe shutdown of a robot (stop.c), run over the
 * network by the supervisor (on `ipcnet shutdown`, a critical failure or
 * a compromise) or by `ipcnet shutdown --manifest` when none runs:
 *
 *   1. safe state: every component with a safe_state runs it (its
 *      safe_request service, or "@sys/<node>/shutdown" with phase
 *      "safe_state", which runs its ipcn_on_shutdown handlers) and
 *      confirms within safe_deadline_ms; all at once;
 *   2. producers, 3. consumers, 4. the rest stop, each phase in reverse
 *      start order: "@sys/<node>/shutdown" with phase "stop"; not gone
 *      within stop_deadline_ms: SIGTERM; not gone kill_after_ms later:
 *      SIGKILL; a stop refused by the network policy (202, 201) is not
 *      forced.  (A component is asked once every component of its phase
 *      that depends on it is gone; independent ones are asked at once.
 *      One that answers anything but 100 — 103: no handler — gets its
 *      SIGTERM at once.)
 *
 * A compromised component is isolated first (SIGKILL of its process, by
 * pidfd) and never waited on.  Each component's outcome is reported, so
 * one that missed a deadline is named.
 */
#ifndef IPCN_SUP_STOP_H
#define IPCN_SUP_STOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipcnet.h"
#include "manifest.h"

/* A component's process as the caller knows it. */
typedef struct sup_proc {
    const sup_component *c;
    pid_t pid;                    /* 0: not running */
    int pidfd;                    /* -1: none (then pid is polled) */
    bool child;                   /* the caller's child (reap with waitid) */
    bool compromised;             /* isolate first, wait on nothing */
} sup_proc;

typedef enum sup_outcome {
    SUP_OUT_NOT_RUNNING = 0,
    SUP_OUT_DONE,                 /* did what was asked within its deadline */
    SUP_OUT_NO_HANDLER,           /* safe state: nothing registered (103) */
    SUP_OUT_FAILED,               /* safe state: answered with an error;
                                     stop: refused by the policy (202,
                                     201: not signalled either), or the
                                     process may not be signalled (202) */
    SUP_OUT_MISSED,               /* no answer within its deadline */
    SUP_OUT_TERMINATED,           /* stop: gone after SIGTERM */
    SUP_OUT_KILLED,               /* stop: needed SIGKILL */
    SUP_OUT_ISOLATED,             /* compromised: killed first */
} sup_outcome;

typedef struct sup_stop_item {
    const char *component;
    int phase;                    /* 1..4; 0: a compromised component
                                     isolated before the phases */
    sup_outcome outcome;
    int status;                   /* the answer's status, when one came */
    uint32_t ms;                  /* time it took */
} sup_stop_item;

typedef struct sup_stop_report {
    sup_stop_item *items;         /* in the order they ran; free() it */
    size_t count;
    uint32_t total_ms;
    bool clean;                   /* every item DONE, NO_HANDLER on safe
                                     state, or NOT_RUNNING */
} sup_stop_report;

/* Run the phases with node n (dispatched by the caller's thread or its
 * own) over procs (one per component of m).  reason is told to every
 * component.  100 when it ran (see rep->clean); 300 on a system error;
 * 200 for NULL n, m or rep; 307.  It may be called from any thread, a
 * callback of n included (its requests pump n's I/O themselves).  The
 * total time is bounded by the sum of the deadlines: the longest
 * safe_deadline_ms, plus for each component stopped stop_deadline_ms +
 * kill_after_ms + 500 ms (the wait after SIGKILL), plus 500 ms when a
 * component is isolated. */
int sup_stop_run(ipcn_node *n, const sup_manifest *m, sup_proc *procs,
                 size_t nprocs, const char *reason, sup_stop_report *rep);
/* One line per item, for people; or a JSON document. */
void sup_stop_print(const sup_stop_report *rep, bool json);

/* Additions (stop_report.c): the report over the network, as the
 * supervisor answers "system/shutdown" and `ipcnet shutdown` prints it:
 * CBOR {"clean": BOOL, "total_ms": N, "items": [{"component": TEXT,
 * "phase": N, "outcome": TEXT, "status": N, "ms": N}, ...]}, phase 0 for a
 * compromised component isolated before the phases. */
/* The outcome's word: "not_running", "done", "no_handler", "failed",
 * "missed", "terminated", "killed", "isolated". */
const char *sup_outcome_name(sup_outcome o);
/* Encode rep into *out (malloc'd; free it).  100, 307. */
int sup_stop_report_encode(const sup_stop_report *rep, void **out,
                           size_t *len);
/* Decode one; the items and their names are one allocation: free
 * rep->items.  100, 200 (not such a report), 307. */
int sup_stop_report_decode(const void *data, size_t len,
                           sup_stop_report *rep);

#endif
