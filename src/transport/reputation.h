/* SPDX-License-Identifier: MIT */
/*
 * reputation.h — what a node remembers of the principals behind its links
 * (reputation.c): a score per principal that each offence lowers and time
 * brings back towards 0, the evidence, and the quarantine or ban that a
 * low score brings (the policy's "reputation" section, guard.h).
 *
 * A principal here is
 *   - a named peer: the node name it proved at hello, and its uid;
 *   - before its hello: the process, uid and pid, so that one process's
 *     bad bytes never shut out a whole user (root, say) nor its other
 *     processes.
 * The records live on the node in a bounded table (IPCN__REP_MAX, least
 * recently used first; a quarantined record goes last).  Scores decay
 * lazily, when a record is used: no timer runs for idle records.
 *
 * Quarantine: below quarantine_below (reputation section present, and not
 * white-listed) the principal's links are closed with ERROR 205 and new
 * ones refused, for quarantine_ms, doubled on each repeat up to
 * quarantine_max_ms; below ban_below, with 202 until an operator lifts it.
 * When a quarantine ends the score restarts at quarantine_below / 2, so
 * that one more offence does not bring it back at once; the repeats are
 * remembered for the doubling.  Black-listed principals are refused (202)
 * at accept when the selector needs only what the kernel said of them,
 * else at hello.
 *
 * Locking: the node's lock is held on every call.
 */
#ifndef IPCN_REPUTATION_H
#define IPCN_REPUTATION_H

#include <stdbool.h>
#include <stdint.h>

#include "ipcnet.h"
#include "policy/guard.h"
#include "transport/link.h"
#include "util/list.h"
#include "util/util.h"

#define IPCN__REP_MAX 1024          /* records a node keeps */
#define IPCN__REP_DETAIL 96         /* bytes of the latest evidence text */
#define IPCN__REP_REPORTERS 64      /* other nodes' reports kept per record
                                       (the most "agree" may ask for) */
#define IPCN__REP_RATE_NS 100000000ull /* RATE_LIMITED: once per 100 ms
                                          per link */

typedef enum ipcn__rep_state {
    IPCN__REP_NONE = 0,
    IPCN__REP_QUARANTINED = 1,
    IPCN__REP_BANNED = 2
} ipcn__rep_state;

/* Another node's report of a quarantine of this principal. */
typedef struct ipcn__rep_report {
    char reporter[IPCN_NAME_MAX + 1];
    int32_t uid, pid;               /* the reporter's process: one process
                                       holding two names is one reporter */
    uint64_t at_ns;
    uint64_t duration_ms;           /* what the reporter said */
} ipcn__rep_report;

typedef struct ipcn__rep {
    ipcn__list entry;       /* n->reps, least recently used first */
    char *name;             /* the proved node name; NULL: a process */
    int32_t uid;
    int32_t pid;            /* the process's; for a name, the last seen */
    double score;           /* <= 0, as of score_ns */
    uint64_t score_ns;
    ipcn__rep_state state;
    uint64_t since_ns;      /* quarantined or banned since */
    uint64_t until_ns;      /* quarantined until (banned: UINT64_MAX) */
    uint64_t duration_ms;   /* of the current quarantine */
    uint32_t strikes;       /* quarantines and bans so far */
    bool by_report;         /* put there by others' reports: not reported */
    bool owed;              /* its links to close, the engine to tell
                               (ipcn__rep_flush) */
    uint64_t evidence[IPCN__OFF_COUNT];
    char detail[IPCN__REP_DETAIL]; /* "bad_frame: malformed frame body" */
    ipcn__rep_report *reports; /* others' reports, oldest first */
    uint32_t nreports, cap_reports;
} ipcn__rep;

/* ---- the arithmetic (pure; unit-tested) ---- */

/* score after dt_ms with the given half-life (0: no decay). */
double ipcn__rep_decay(double score, uint64_t dt_ms, uint64_t half_life_ms);
/* How long the quarantine after strikes earlier ones lasts:
 * quarantine_ms << strikes, at most quarantine_max_ms. */
uint64_t ipcn__rep_backoff_ms(const ipcn__reputation_cfg *c,
                              uint32_t strikes);

/* ---- charging ---- */

/* Charge the principal behind l with one offence (guard.h ipcn__offence);
 * detail: a short text kept as the latest evidence (may be NULL).  Never
 * for this node's own faults.  RATE_LIMITED is charged at most once per
 * IPCN__REP_RATE_NS per link (the evidence counts every one).  May close
 * the principal's links (the quarantine), l included: callers look at
 * l->state after it.  Lock held. */
void ipcn__rep_offence(ipcn_node *n, ipcn__link *l, ipcn__offence k,
                       const char *detail);

/* ---- admission ---- */

/* May the link go on?  At accept (l->who.name NULL: the kernel's word
 * only) and at hello (its name proved).  100; else the link was refused:
 * an ERROR with the status (205 quarantined, with the time left in
 * milliseconds in its corr, docs/protocol.md "Quarantine"; 202
 * banned or black-listed; 201 black-listed perhaps: a selector that could
 * not be decided) and closed, counted in links_refused_quarantine. */
int ipcn__rep_admit(ipcn_node *n, ipcn__link *l);
/* Before dialling the node called name: 0 now, else the monotonic time
 * when its quarantine ends, UINT64_MAX when it is banned. */
uint64_t ipcn__rep_dial_after(ipcn_node *n, const char *name, uint64_t now);

/* ---- records ---- */

/* The record of a subject: a node name (uid < 0: any uid) or, name NULL,
 * the process uid, pid.  NULL when none.  Brought up to date (decay, an
 * ended quarantine). */
ipcn__rep *ipcn__rep_find(ipcn_node *n, const char *name, int32_t uid,
                          int32_t pid);
/* ... created when missing (NULL: out of memory). */
ipcn__rep *ipcn__rep_get(ipcn_node *n, const char *name, int32_t uid,
                         int32_t pid);
/* Bring r up to date (its score's decay, a quarantine that ended). */
void ipcn__rep_refresh(ipcn_node *n, ipcn__rep *r, uint64_t now);
/* Quarantine (ban false) or ban r now, as its score asks or an operator
 * or reports do: new links are refused at once; its links are closed and
 * the engine told at the end of the round, by ipcn__rep_flush(). */
void ipcn__rep_quarantine(ipcn_node *n, ipcn__rep *r, bool ban,
                          bool by_report);
/* After each I/O round (node/loop.c), and after an API call that may
 * quarantine: close the links of the principals quarantined since, and
 * tell the engine (IPCN__IN_REPUTATION). */
void ipcn__rep_flush(ipcn_node *n);
/* Lift r's quarantine or ban: its score restarts at 0 (an operator's
 * word), strikes stay. */
void ipcn__rep_lift(ipcn_node *n, ipcn__rep *r);
/* Is the principal white-listed (never quarantined automatically)?  who
 * may be NULL (only r's name and uid are known). */
bool ipcn__rep_white(const ipcn_node *n, const ipcn__rep *r,
                     const ipcn__principal *who);
/* "node NAME" or "uid U pid P" into buf. */
void ipcn__rep_subject(const ipcn__rep *r, char *buf, size_t len);
const char *ipcn__rep_state_name(ipcn__rep_state s);
void ipcn__rep_free_all(ipcn_node *n);

/* The ERROR that refuses a link: a 205 carries the time to wait in its
 * corr (docs/protocol.md, "Quarantine"; the limits' connection rate does
 * the same), the rest as any ERROR.  The caller closes the link. */
void ipcn__rep_send_refusal(ipcn_node *n, ipcn__link *l, int status,
                            uint64_t retry_ms, const char *why);

#endif
