/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/bridge.h - the state of one `ipcnet bridge dds`: an IPCNet
 * node and a DDS participant, and what crosses between them
 * (docs/bridges.md).  Threads: the node's own thread runs the IPCNet
 * callbacks (samples to export, service requests to forward to DDS,
 * replies of IPCNet services); the main thread waits on the DDS readers
 * and polls the IPCNet directory for new resources.  lock guards the
 * tables both threads touch.
 */
#ifndef IPCNET_BRIDGE_DDS_H
#define IPCNET_BRIDGE_DDS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <dds/dds.h>

#include "dds_map.h"
#include "ipcnet.h"

#define DDSB_MAX_RULES 64
#define DDSB_MAX_TOPICS 256

typedef struct ddsb_rule {       /* one --export/--import/--*-service */
    char *pattern;               /* export: an IPCNet pattern; import: topic */
    char *path;                  /* import: the IPCNet path */
    const ddsb_type *type;       /* NULL: from the encoding (export) */
} ddsb_rule;

#define DDSB_MAX_CALLS 64         /* DDS requests in IPCNet per service */
#define DDSB_RETRY_MS 1000        /* a writer Cyclone refused: tried again */

typedef struct ddsb_export {     /* an IPCNet resource written to rt/<topic> */
    char *path;
    char *topic;                 /* path as a ROS 2 name (ddsb_ros_name) */
    const ddsb_type *type;
    ipcn_kind kind;
    dds_entity_t writer;         /* -1: none (refused, or retry_ms) */
    int refused;                 /* the name: never exported */
    uint64_t retry_ms;
} ddsb_export;

typedef struct ddsb_import {     /* rt/<topic> published on an IPCNet path */
    char *path;
    const ddsb_type *type;
    dds_entity_t reader;
    char *announced_enc;         /* the encoding announced (Cbor: per sample) */
} ddsb_import;

typedef struct ddsb_pending {    /* an IPCNet request waiting for a DDS reply */
    int64_t seq;
    ipcn_responder resp;
    uint64_t deadline_ms;
    struct ddsb_pending *next;
} ddsb_pending;

typedef struct ddsb_svc {        /* a service crossing the bridge */
    char *name;                  /* the ROS 2 service name (no leading '/') */
    char *path;                  /* the IPCNet service */
    int outward;                 /* 1: IPCNet service, DDS clients call it */
    dds_entity_t reader, writer; /* outward: rq reader, rr writer; inward:
                                    rr reader, rq writer */
    int refused;                 /* outward: its name (never bridged) */
    uint64_t retry_ms;           /* no endpoints: when to try again */
    uint64_t guid;               /* inward: our client GUID part */
    int64_t next_seq;
    ddsb_pending *pending;       /* inward, under b->lock */
    struct ddsb_call *calls;     /* outward, under b->lock */
    unsigned n_calls;            /* of calls; beyond DDSB_MAX_CALLS: 205 */
    struct ddsb_bridge *b;
} ddsb_svc;

typedef struct ddsb_stats {    /* counted by both threads */
    _Atomic uint64_t exported, imported, unconvertible, write_failed;
    _Atomic uint64_t requests_out, requests_in, replies, timeouts;
    _Atomic uint64_t bad_replies; /* DDS replies IPCNet cannot carry: 302 */
    _Atomic uint64_t refused;     /* paths not bridged: name, collision */
    _Atomic uint64_t dropped;     /* samples with nowhere to go */
    _Atomic uint64_t no_server;   /* IPCNet requests answered 303 */
    _Atomic uint64_t too_many;    /* DDS requests answered 205 (the cap) */
    _Atomic uint64_t dds_lost;    /* imports: DDS samples lost or rejected */
} ddsb_stats;

typedef struct ddsb_call {      /* a DDS request in IPCNet, until answered */
    struct ddsb_svc *s;
    uint64_t guid;
    int64_t seq;
    struct ddsb_call *prev, *next;
} ddsb_call;

typedef struct ddsb_bridge {
    ipcn_node *node;
    dds_entity_t participant, waitset;
    uint32_t depth;
    int best_effort;
    int verbose;
    int request_timeout_ms;
    pthread_mutex_t lock;
    ddsb_rule exports[DDSB_MAX_RULES], imports[DDSB_MAX_RULES];
    ddsb_rule svc_out[DDSB_MAX_RULES], svc_in[DDSB_MAX_RULES];
    unsigned n_exports, n_imports, n_svc_out, n_svc_in;
    ddsb_export ex[DDSB_MAX_TOPICS];
    unsigned n_ex;
    int ex_full_logged;
    ddsb_import im[DDSB_MAX_TOPICS];
    unsigned n_im;
    ddsb_svc svc[DDSB_MAX_TOPICS];
    unsigned n_svc;
    int svc_full_logged;
    ipcn_sub subs[DDSB_MAX_RULES];
    struct ddsb_sub_ctx {        /* user of the subscription of export i */
        struct ddsb_bridge *b;
        unsigned rule;
    } sub_ctx[DDSB_MAX_RULES];
    ddsb_stats st;
} ddsb_bridge;

/* The ROS 2 name of an IPCNet path (no leading '/'): '-' and '.' become
 * '_', A-Z a-z 0-9 _ / stay; 200 for any other byte (non-ASCII included)
 * or when it does not fit cap with its NUL. */
int ddsb_ros_name(const char *path, char *out, size_t cap);
uint64_t ddsb_now_ms(void);

/* Start: the DDS entities of the imports and inward services, the IPCNet
 * subscriptions of the exports.  Returns an IPCNet status, logged. */
int ddsb_start(ddsb_bridge *b);
/* One round of the main thread: new IPCNet resources to export, DDS
 * samples and service calls to take, expired requests.  Waits up to
 * wait_ms for DDS data. */
void ddsb_poll(ddsb_bridge *b, int wait_ms);
/* The counters, one line on stderr ("ipcnet-bridge-dds: exported N, ...";
 * the IPCNet subscriptions' queue drops and losses read now).  Main
 * thread. */
void ddsb_print_stats(ddsb_bridge *b);
/* Free everything of b but the node and the participant. */
void ddsb_stop(ddsb_bridge *b);

#endif
