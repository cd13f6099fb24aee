/* SPDX-License-Identifier: MIT */
/*
 * guard.h — what the network policy says of rogue components: rate limits
 * and quotas, reputation and quarantine, and what counts as a compromise.
 * Read from the policy file's "limits", "reputation" and "detect"
 * sections (guard_load.c) into the policy it belongs to (policy.h), and
 * as immutable as it.  The gate stage (transport/) enforces it.
 *
 *   limits:                      # every matching entry applies
 *     - who: "user:rogue"        # selectors (OR); absent: any
 *       what: "motors/cmd"       # resource patterns; absent: every one
 *       per: node                # node (one budget per peer node, the
 *                                # default) | user (one for all the nodes
 *                                # of the peer's user: its uid,
 *                                # host:user for another host's)
 *       requests: 1000/s         # requests, queries and sets
 *       samples: 5000/s          # samples a peer publishes here
 *       bytes: 10MB/s            # of those requests and samples
 *       burst: 100               # bucket depth of requests and samples
 *                                # (bytes: one second's worth)
 *       connections: 5/s         # links opened (by uid; before hello)
 *       inflight: 64             # its requests queued or running here
 *       subscriptions: 100       # subscription patterns it holds here
 *       announcements: 100       # resources it announces here
 *   reputation: { ... }          # see ipcn__reputation_cfg
 *   detect: { ... }              # see ipcn__detect_cfg
 *   debug: { liveness: 10min, all: false }  # ipcn__guard.debug_*
 */
#ifndef IPCN_GUARD_H
#define IPCN_GUARD_H

#include <stdbool.h>
#include <stdint.h>

struct ipcn__selector;

/* A token bucket's configuration: per_s tokens a second, at most burst
 * held.  per_s 0: no limit. */
typedef struct ipcn__rate {
    double per_s;
    double burst;
} ipcn__rate;

typedef struct ipcn__limit {
    struct ipcn__selector *who; /* OR of these; none: any principal */
    uint32_t nwho;
    char **what;                /* resource patterns; none: every one */
    uint32_t nwhat;
    bool per_user;              /* one budget for all of a user's nodes
                                   (a uid; another host's: host:user) */
    ipcn__rate requests, samples, bytes, connections;
    uint32_t inflight, subscriptions, announcements; /* 0: no cap beyond
                                                        the node's own */
    uint32_t line;              /* in the policy file */
} ipcn__limit;

/* What a peer can be penalised for: only what it is answerable for. */
typedef enum ipcn__offence {
    IPCN__OFF_BAD_FRAME = 0,  /* malformed or checksum-failing frames */
    IPCN__OFF_DENIED,         /* a policy violation (refused 201/202/203) */
    IPCN__OFF_RATE_LIMITED,   /* over a rate limit or quota (charged at
                                 most once per 100 ms per link) */
    IPCN__OFF_FAILED,         /* as a provider: answered 300 */
    IPCN__OFF_TIMEOUT,        /* as a provider: let a request time out */
    IPCN__OFF_VERIFY,         /* its sample failed ipcn_msg_verify() */
    IPCN__OFF_ANOMALY,        /* traffic far above its normal */
    IPCN__OFF_CONNECTIONS,    /* opened links over its connection rate */
    IPCN__OFF_COMPROMISE,     /* evidence of a compromise (detect) */
    IPCN__OFF_DISSENT,        /* as a provider: outvoted in a vote of the
                                 providers of a service (engine/multi.c) */
    IPCN__OFF_COUNT
} ipcn__offence;

/* Who follows another node's quarantine report of a peer. */
typedef enum ipcn__follow {
    IPCN__FOLLOW_NEVER = 0,   /* reports are recorded, never acted on */
    IPCN__FOLLOW_TRUSTED,     /* a report from a trusted reporter */
    IPCN__FOLLOW_AGREE,       /* "agree" distinct reporters (default 2) */
    IPCN__FOLLOW_ANY          /* any one report */
} ipcn__follow;

/*   reputation:
 *     quarantine_below: -100   # the score under which links are refused
 *     ban_below: -1000         # ... until an operator lifts it
 *     half_life: 60s           # the score decays back towards 0
 *     quarantine_for: 10s      # the first quarantine; doubles on each
 *     quarantine_max: 1h       # repeat, up to this
 *     penalties: {bad_frame: 20, denied: 2, ...}   # per offence
 *     whitelist: [selectors]   # never quarantined automatically
 *     blacklist: [selectors]   # never linked
 *     follow_reports: agree    # never | trusted | agree | any
 *     agree: 2
 *     trusted: [selectors]     # reporters trusted */
typedef struct ipcn__reputation_cfg {
    bool enabled;             /* the section is present: quarantine acts
                                 (scores are kept and shown regardless) */
    int32_t quarantine_below, ban_below;
    uint64_t half_life_ms, quarantine_ms, quarantine_max_ms;
    uint32_t penalty[IPCN__OFF_COUNT];
    struct ipcn__selector *white, *black, *trusted;
    uint32_t nwhite, nblack, ntrusted;
    ipcn__follow follow;
    uint32_t agree;
    uint32_t line;
} ipcn__reputation_cfg;

/* What a node does with a component it finds compromised. */
typedef enum ipcn__action {
    IPCN__ACT_REPORT = 0,     /* event, log, network event; nothing more */
    IPCN__ACT_ISOLATE,        /* ... and revoke its grants on every link */
    IPCN__ACT_SHUTDOWN        /* ... isolate, and ask for the system's safe
                                 shutdown (an event to the application) */
} ipcn__action;

typedef struct ipcn__component {
    struct ipcn__selector *who;
    uint32_t nwho;
    bool has_sha256;          /* its executable must hash to sha256 */
    uint8_t sha256[32];
    ipcn__action action;
    uint32_t criticality;     /* 0 low, 1 normal, 2 high, 3 critical */
    uint32_t line;
} ipcn__component;

/*   detect:
 *     anomaly: {factor: 20, for: 5s}        # absent: off
 *     violations: {count: 20, within: 1s}   # a burst of refusals
 *     action: isolate                       # for components not listed
 *     components:
 *       - who: "node:motor"
 *         sha256: "<64 hex>"                # optional
 *         action: shutdown                  # report | isolate | shutdown
 *         criticality: critical             # low | normal | high | critical */
typedef struct ipcn__detect_cfg {
    bool enabled;             /* the section is present */
    double anomaly_factor;    /* 0: off */
    uint64_t anomaly_ms;
    uint32_t violations;      /* refusals within violations_ms */
    uint64_t violations_ms;
    ipcn__action action;      /* REPORT without the section, ISOLATE with
                                 it unless it says otherwise */
    ipcn__component *components;
    uint32_t ncomponents;
} ipcn__detect_cfg;

typedef struct ipcn__guard {
    ipcn__limit *limits;
    uint32_t nlimits;
    ipcn__reputation_cfg rep;
    ipcn__detect_cfg detect;
    /* debug: {liveness: D}: the network is in debug mode, and a peer that
     * asks (STATE, IPCNET_DEBUG_LIVENESS) is waited for up to D (ms) when
     * it is silent; 0: not in debug mode, such asks are not granted. */
    uint64_t debug_liveness_ms;
    bool debug_all;           /* debug: all: true: every peer is waited
                                 for debug_liveness_ms, asked or not */
    /* debug: {history: N, history_bytes: B}: every data resource of the
     * network keeps its last N versions (0: off), at most B bytes of
     * values (0: the default); engine/history.c. */
    uint32_t debug_history;
    uint64_t debug_history_bytes;
} ipcn__guard;

/* The defaults (no section in the file): no limit, reputation kept but
 * not acted on, detection reporting only. */
void ipcn__guard_defaults(ipcn__guard *g);
/* Free what the guard holds (not g itself); leaves it as the defaults. */
void ipcn__guard_clear(ipcn__guard *g);
const char *ipcn__offence_name(ipcn__offence k);   /* "bad_frame", ... */

#endif
