/* SPDX-License-Identifier: MIT */
/*
 * bridge.h — ipcnet-bridge-mqtt: what the files of the MQTT bridge share.
 * The bridge uses only IPCNet's public API (ipcnet.h, ipcnet_value.h) and
 * libmosquitto; the core library never links libmosquitto.
 *
 * Threads: the IPCNet node runs its own thread (its callbacks: exports,
 * bridged service requests, answers of calls), libmosquitto runs its loop
 * thread (connect, message, publish acknowledgements), the main thread
 * waits for signals and prints the status line.  The outgoing buffer
 * (outq.c) and the counters are shared under bridge.lock.
 */
#ifndef IPCNET_BRIDGE_MQTT_H
#define IPCNET_BRIDGE_MQTT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mosquitto.h>

#include "ipcnet.h"

#define BR_MAX_LIST 32   /* --export, --import, --service, --call each */
#define BR_SUB_QUEUE 4096 /* samples an export's subscription holds */
#define BR_MAX_INFLIGHT 32 /* QoS 1 publications sent and not yet acked */
#define BR_MAX_CALLS 256   /* MQTT calls of IPCNet services in flight */

/* Counters (the status line, docs/bridges.md "Counters"). */
typedef struct br_counters {
    uint64_t exported;      /* IPCNet samples taken into the buffer */
    uint64_t published;     /* publications the broker acknowledged (QoS 1)
                               or that were written (QoS 0) */
    uint64_t dropped;       /* samples not taken: the buffer was full */
    uint64_t resent;        /* unacknowledged publications libmosquitto
                               sends again after a reconnect */
    uint64_t imported;      /* MQTT messages published into IPCNet */
    uint64_t import_errors; /* MQTT messages that could not be (bad topic
                               for a path, announce or publish refused) */
    uint64_t loops;         /* MQTT messages carrying this bridge's origin
                               mark, dropped on import, and samples not
                               exported because a bridge imported them */
    uint64_t export_errors; /* samples not exported: topic too long */
    uint64_t denied;        /* calls refused to the bridge (201, 202) by
                               the network's permissions */
    uint64_t not_found;     /* calls of a service that is not there, or
                               not visible to the bridge (203) */
    uint64_t requests;      /* IPCNet requests sent to MQTT responders */
    uint64_t calls;         /* MQTT calls passed to IPCNet services */
    uint64_t calls_refused; /* MQTT calls refused: no --call pattern, a
                               response topic under --prefix or an --import
                               filter, or BR_MAX_CALLS in flight */
    uint64_t connects;      /* successful connections (the first included) */
    uint64_t disconnects;   /* connections lost */
} br_counters;

typedef struct br_outmsg br_outmsg;

typedef struct br_opts {
    const char *network, *dir, *name;
    char host[256];
    int port;
    bool tls;
    const char *cafile, *capath, *cert, *key;
    const char *user;
    char *password;           /* from --password-file or $IPCNET_MQTT_PASSWORD */
    const char *prefix;       /* topic prefix, "ipcnet/" */
    int qos;                  /* 0 or 1 (default 1) */
    size_t buffer;            /* outgoing buffer bound, messages */
    size_t buffer_bytes;      /* ... and payload bytes (--buffer-bytes) */
    int mqtt_version;         /* 5 (default, falls back to 4) or 4 */
    bool json;                /* --json: CBOR payloads also as JSON */
    int timeout_ms;           /* bridged requests */
    const char *stats_path;   /* --stats: the counters as a data resource */
    const char *origin;       /* --origin: the origin mark (else a hash of
                                 network and name, main.c) */
    size_t max_imports;       /* --max-imports: imported streams (256) */
    const char *exports[BR_MAX_LIST];  int nexports;
    const char *imports[BR_MAX_LIST];  int nimports;  /* TOPIC[=PATH] */
    const char *services[BR_MAX_LIST]; int nservices;
    const char *calls[BR_MAX_LIST];    int ncalls;
} br_opts;

typedef struct bridge {
    br_opts o;
    ipcn_node *node;
    struct mosquitto *mosq;
    char origin[40];          /* this bridge's origin mark */
    char reply_topic[512];    /* where MQTT responders answer this bridge */
    _Atomic int version;      /* MQTT protocol in use: 5 or 4 (3.1.1); set
                                 on the MQTT thread, read on the node's */
    bool fallback_tried;
    /* the MQTT loop thread (main.c), one per connection: the main thread
     * starts it and, when it ended (connection refused, lost, never
     * made), connects again */
    pthread_t loop_thread;
    _Atomic bool loop_ended;
    int loop_rc, loop_errno;  /* why it ended (read after the join) */
    _Atomic bool stopping;    /* SIGTERM/SIGINT: a disconnect is no loss */
    int subs_pending;         /* SUBACKs awaited (MQTT thread only) */

    pthread_mutex_t lock;     /* guards all below */
    bool connected;
    br_counters c;
    /* the outgoing buffer (outq.c) */
    br_outmsg *head, *tail;   /* FIFO: in flight first, then unsent */
    size_t queued;            /* messages in the buffer */
    size_t queued_bytes;      /* their payload bytes */
    size_t inflight;          /* handed to libmosquitto, not acknowledged */
    int publishing;           /* mosquitto_publish_v5 calls under way */
    int early_acks[BR_MAX_INFLIGHT * 2]; /* acks seen before their mid */
    int nearly;
    /* kinds of exported paths (export.c) */
    /* the subscriptions of the exports, whose own drops the counters show */
    ipcn_sub subs[BR_MAX_LIST];
    int nsubs;
    uint64_t sub_dropped, sub_lost; /* their sums, as last read */
    struct br_kind *kinds;
    size_t nkinds, capkinds;
    /* imported paths announced as streams (import.c) */
    char **announced;
    size_t nannounced, capannounced;
    /* pending IPCNet requests waiting for MQTT answers (service.c) */
    struct br_pending *pending;
    uint64_t next_corr;
    /* MQTT calls waiting for their IPCNet answer (service.c) */
    struct call_ctx *calls_pending;
    size_t ncalls_pending;
} bridge;

/* The announce meta of a stream an MQTT bridge imported: a CBOR map
 * {"ipcnet-bridge": "mqtt-import"}.  A bridge never exports a resource so
 * marked (export.c): two bridges of one network do not loop. */
#define BR_META_IMPORTED "\x6dipcnet-bridge\x6bmqtt-import"
#define BR_META_IMPORTED_MAP "\xa1" BR_META_IMPORTED

/* ---- outq.c: the bounded buffer of outgoing publications ---- */
/* Take a publication into the buffer (copies everything); sends it when
 * connected.  Returns false (and counts a drop) when the buffer is full. */
bool br_out_push(bridge *b, const char *topic, const void *data, size_t len,
                 bool retain, const char *content_type, const char *src,
                 uint64_t seq, const void *corr, size_t corr_len,
                 const char *status, const char *rtopic);
void br_out_connected(bridge *b);     /* send what waited (QoS 0) */
void br_out_disconnected(bridge *b);  /* libmosquitto keeps what is in flight */
void br_out_acked(bridge *b, int mid, bool refused); /* refused: counted dropped */
/* At exit: wait up to timeout_ms for the buffer to empty while connected. */
bool br_out_flush(bridge *b, int timeout_ms);
void br_out_free(bridge *b);

/* ---- export.c ---- */
int br_export_start(bridge *b);
void br_export_free(bridge *b);

/* ---- import.c ---- */
void br_import_subscribe(bridge *b);  /* on (re)connect */
bool br_import_message(bridge *b, const struct mosquitto_message *m,
                       const mosquitto_property *props);
void br_import_free(bridge *b);

/* ---- service.c ---- */
int br_service_start(bridge *b);
void br_service_subscribe(bridge *b); /* on (re)connect */
bool br_service_message(bridge *b, const struct mosquitto_message *m,
                        const mosquitto_property *props);
void br_service_sweep(bridge *b, bool all); /* answer 304 past the deadline */
void br_service_free(bridge *b);

/* ---- main.c ---- */
void br_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* the topic of an IPCNet path: prefix + path (false if it does not fit) */
bool br_topic(const bridge *b, const char *sub, const char *path, char *out,
              size_t cap);
/* this bridge's origin mark among the user properties of a message? */
bool br_has_origin(const bridge *b, const mosquitto_property *props);
/* The IPCNet encoding of an MQTT content type: "cbor" for
 * application/cbor; application/octet-stream when absent, or not printable
 * ASCII of at most 255 bytes (what an IPCNet encoding may be). */
const char *br_encoding(const char *ctype);
void br_count(bridge *b, uint64_t *counter);

#endif
