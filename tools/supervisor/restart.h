/* SPDX-License-Identifier: MIT */
/*
 * restart.h — the supervisor's restart arithmetic (restart.c), kept apart
 * from processes and the network so that it can be tested alone: whether
 * an exit asks for a restart (the manifest's restart.when), the restart
 * intensity (at most `intensity` restarts within any period_ms, as in
 * Erlang/OTP's MaxR in MaxT), the back-off before a restart (backoff_ms,
 * doubled for each restart still inside the period, capped at
 * backoff_max_ms), and the components a rest_for_one restart takes along.
 */
#ifndef IPCN_SUP_RESTART_H
#define IPCN_SUP_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

/* The times of a component's recent restarts (CLOCK_MONOTONIC ms). */
typedef struct sup_restart_hist {
    uint64_t *at;                 /* oldest first */
    size_t n, cap;
} sup_restart_hist;

/* Does an exit ask for a restart?  failed: the process exited with a
 * status other than 0 or was killed by a signal (or it never became
 * ready, or it was unhealthy). */
bool sup_restart_wanted(const sup_component *c, bool failed);

/* Note one more restart at now_ms.  Returns true when it stays within the
 * intensity (restart it), false when it is past it (the component has
 * failed: its history is left as it is).  Restarts older than period_ms
 * are forgotten.  Out of memory counts as past the intensity. */
bool sup_restart_note(sup_restart_hist *h, const sup_component *c,
                      uint64_t now_ms);

/* Restarts within the period that ends at now_ms. */
uint32_t sup_restart_count(const sup_restart_hist *h, const sup_component *c,
                           uint64_t now_ms);

/* The delay before the restart noted last: backoff_ms * 2^(k-1), k the
 * restarts within the period (>= 1), at most backoff_max_ms. */
uint32_t sup_restart_backoff_ms(const sup_restart_hist *h,
                                const sup_component *c, uint64_t now_ms);

/* Forget every restart (a rolled-back component starts afresh). */
void sup_restart_reset(sup_restart_hist *h);
void sup_restart_free(sup_restart_hist *h);

/* Mark in take[] (m->ncomps entries, set to false by the caller) every
 * component that depends on component idx, directly or through others
 * (its "resource:" dependencies do not count).  Returns how many. */
size_t sup_dependents(const sup_manifest *m, size_t idx, bool *take);

#endif
