/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_prov.h — provenance: where a sample came from and which processes
 * made it, signed so that a change is visible.  docs/protocol.md section
 * 20; the README's "Debugging a pipeline".
 *
 * A provenance **record** goes with a sample when its resource has
 * provenance on (ipcn_prov_enable(), IPCNET_PROVENANCE=on) or when it is
 * published with ipcn_publish_derived().  It says who produced the sample
 * (node id and name, principal, resource path hash, sequence number,
 * time), the BLAKE2b-256 digest of its payload, and its parents: the
 * samples it was derived from, each as a compact reference (node id,
 * chain index, sequence, path hash, payload digest), never a copy.
 *
 *   camera:    ipcn_prov_enable(n, "cam/rgb", 1);  ipcn_publish(n, "cam/rgb", ...)
 *   detector:  ipcn_prov_ref ref;  ipcn_msg_prov_ref(frame, &ref);
 *              ipcn_publish_derived(n, "det/boxes", boxes, len, &ref, 1);
 *   anyone:    ipcn_prov_verify(n, msg, 2000, &report);
 *
 * Each node chains its records (h_i = BLAKE2b-256(h_(i-1) || record_i))
 * and signs the chain's head with an Ed25519 key of its own run every 64
 * records, 100 ms after the last checkpoint on the next record, and when a
 * verifier asks; a verifier fetches the record, the chain up to a signed
 * checkpoint and the key from the producing node itself (its node service
 * "@sys/<node>/prov"), over the authenticated link to it.
 *
 * Threading: as ipcnet.h (any thread; the node's lock is taken inside);
 * ipcn_prov_verify() and ipcn_prov_export_json() wait for answers, so do
 * not call them from a callback of the node's own dispatching thread
 * unless the node runs its own thread.  Statuses: each function lists its
 * own.
 */
#ifndef IPCNET_PROV_H
#define IPCNET_PROV_H

#include "ipcnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of a digest (BLAKE2b-256) and of an Ed25519 public key. Since: 0.2 */
#define IPCN_PROV_DIGEST_LEN 32
/** The most parents a record names. Since: 0.2 */
#define IPCN_PROV_MAX_PARENTS 16
/** The largest encoded record, in bytes. Since: 0.2 */
#define IPCN_PROV_RECORD_MAX 2048
/** The longest principal a record carries. Since: 0.2 */
#define IPCN_PROV_PRINCIPAL_MAX 64

/** Record flag: published by a player from a recording; parent 0 is the
 *  recorded sample's record. Since: 0.2 */
#define IPCN_PROV_REPLAYED 0x1u
/** Record flag: a pass-through: the payload is parent 0's, unchanged
 *  (ipcn_prov_verify() checks that it is). Since: 0.2 */
#define IPCN_PROV_PASSTHROUGH 0x2u

/** A reference to a sample's record: what a derived sample names as its
 *  parent.  Since: 0.2 */
typedef struct ipcn_prov_ref {
    uint64_t node_id;  /**< the node that produced the parent */
    uint64_t index;    /**< the parent's record in that node's chain (1..) */
    uint64_t seq;      /**< the parent's sequence number */
    uint8_t path_hash[IPCN_PROV_DIGEST_LEN]; /**< BLAKE2b-256 of its path */
    uint8_t digest[IPCN_PROV_DIGEST_LEN];    /**< BLAKE2b-256 of its payload */
} ipcn_prov_ref;

/** A decoded record (ipcn_prov_decode()).  Since: 0.2 */
typedef struct ipcn_prov_record {
    uint32_t flags;     /**< IPCN_PROV_* */
    uint64_t node_id;   /**< the producer's node id */
    uint64_t index;     /**< this record's place in the producer's chain */
    uint64_t seq;       /**< the sample's sequence number */
    uint64_t time_ns;   /**< CLOCK_REALTIME when it was published */
    uint8_t path_hash[IPCN_PROV_DIGEST_LEN];
    uint8_t digest[IPCN_PROV_DIGEST_LEN];
    char node[65];      /**< the producer's node name */
    char principal[IPCN_PROV_PRINCIPAL_MAX + 1]; /**< "uid:N" of its process */
    uint32_t nparents;
    ipcn_prov_ref parents[IPCN_PROV_MAX_PARENTS];
} ipcn_prov_record;

/**
 * ipcn_prov_enable() - provenance on (on != 0) or off for samples this node
 * publishes on path (a stream or data resource it announced), or, with
 * path NULL, for every resource it announces from now on (the network
 * default is IPCNET_PROVENANCE=on|off in the environment, read at
 * ipcn_node_open()).  With it on, each ipcn_publish() of the path makes a
 * record, chains it and sends it with the sample to peers that take it
 * (capability PROV); with it off, publish does no provenance work at all.
 * Returns 100, 200 for a NULL node, 203 when path is not announced here,
 * 204 for a service.  Since: 0.2
 */
IPCN_API int ipcn_prov_enable(ipcn_node *node, const char *path, int on);

/**
 * ipcn_msg_provenance() - the raw encoded record that came with msg
 * (docs/protocol.md 20.2), for tools that carry it on (a recorder, a
 * bridge): *bytes points into msg and lives as long as it.
 * Returns 100, 103 when msg has no record, 200 for NULL arguments.
 * Since: 0.2
 */
IPCN_API int ipcn_msg_provenance(const ipcn_msg *msg, const uint8_t **bytes,
                                 size_t *len);

/**
 * ipcn_msg_prov_ref() - a reference to msg's record, to name msg as a
 * parent in ipcn_publish_derived().  Returns 100, 103 when msg has no
 * record, 200 for NULL arguments.  Since: 0.2
 */
IPCN_API int ipcn_msg_prov_ref(const ipcn_msg *msg, ipcn_prov_ref *ref);

/**
 * ipcn_publish_derived() - ipcn_publish() of a value derived from the
 * samples named by parents[0..n) (n <= 16): the sample carries a record
 * naming them, whether or not provenance is on for path.  Except: a
 * sample that goes through shared memory (from 16 KiB, or the path's
 * shm_threshold, when a subscriber maps it) goes without a record, its
 * parents unrecorded, and returns 100 as ipcn_publish() does; it is
 * counted in ipcn_prov_stats.unrecorded (docs/protocol.md 20.3).  A
 * parent of node id 0 or index 0 is 200, and then nothing is published
 * (the path's seq and value unchanged).
 * Returns as ipcn_publish(), and 200 for n over 16 or parents NULL with
 * n > 0.  Since: 0.2
 */
IPCN_API int ipcn_publish_derived(ipcn_node *node, const char *path,
                                  const void *data, size_t len,
                                  const ipcn_prov_ref *parents, size_t n);

/**
 * ipcn_publish_derived_ex() - ipcn_publish_derived() with record flags:
 * IPCN_PROV_PASSTHROUGH (the payload is parents[0]'s, unchanged; needs
 * n >= 1) and IPCN_PROV_REPLAYED (a player's).  200 for other bits.
 * Since: 0.2
 */
IPCN_API int ipcn_publish_derived_ex(ipcn_node *node, const char *path,
                                     const void *data, size_t len,
                                     const ipcn_prov_ref *parents, size_t n,
                                     uint32_t flags);

/**
 * ipcn_prov_decode() - decode an encoded record (len bytes) into *out.
 * Pure: no node, no I/O.  Returns 100, or 200 when the bytes are not
 * exactly one valid record (docs/protocol.md 20.2); *out is untouched
 * then.  Since: 0.2
 */
IPCN_API int ipcn_prov_decode(const uint8_t *bytes, size_t len,
                              ipcn_prov_record *out);

/** What ipcn_prov_verify() found.  Since: 0.2 */
typedef struct ipcn_prov_report {
    uint32_t records;    /**< records checked (the sample's and its ancestors') */
    uint32_t depth;      /**< stages walked back from the sample */
    int bad_status;      /**< the first failure's status, 100 when none */
    uint64_t bad_node;   /**< the node whose record failed (0: none) */
    uint64_t bad_index;  /**< its chain index */
    char reason[128];    /**< the first failure, for people ("" when none) */
} ipcn_prov_report;

/**
 * ipcn_prov_verify() - verify msg's provenance, back to its origins: for
 * its record and every ancestor's (at most 64 records, 16 stages), fetch
 * from the producing node the chain up to a checkpoint signed with that
 * node's key, check the chain and the Ed25519 signature, that the record
 * served is byte for byte the one the sample carried, and that each
 * child's parent reference (sequence, path hash, payload digest) matches
 * the parent's record; check msg's payload against its digest, and a
 * pass-through's digest against its parent's.  Blocks up to timeout_ms
 * for the whole walk (-1: no limit, but at most 5 s waiting for a
 * parent's producer to link).  @report: optional, filled in on 100 and on each failure
 * below.  Returns 100 when everything verifies; 103 when msg has no
 * record; 202 when a payload does not match its record (a changed
 * sample, or a pass-through that changed its input); 201 when a record,
 * chain or checkpoint fails its signature or does not match what its
 * node serves, or a child names a parent its producer did not make (or
 * itself), or a proof is signed with another key than the first this
 * node fetched of that node run, or its chain disagrees with a head
 * verified before (keys pinned on first use, docs/protocol.md 20.6); 203
 * when a producing node is gone (a parent's producer not linked yet is
 * waited for, up to timeout_ms) or no longer holds the record (each node
 * keeps its last 1024); 304 when it does not answer in time; 306 past 64
 * records or 16 stages; 200 for NULL arguments or a record that does not
 * decode; 307.  Since: 0.2
 */
IPCN_API int ipcn_prov_verify(ipcn_node *node, const ipcn_msg *msg,
                              int timeout_ms, ipcn_prov_report *report);

/**
 * ipcn_prov_verify_record() - ipcn_prov_verify() of an encoded record
 * (rec_len bytes, as ipcn_msg_provenance() gives it, or as a recording
 * or a bridge carried it) and the payload it is said to describe (len
 * bytes of data).  Returns and fills in report as ipcn_prov_verify();
 * 200 also for bytes that are not a record.  Since: 0.2
 */
IPCN_API int ipcn_prov_verify_record(ipcn_node *node, const uint8_t *rec,
                                     size_t rec_len, const void *data,
                                     size_t len, int timeout_ms,
                                     ipcn_prov_report *report);

/**
 * ipcn_prov_export_json() - msg's lineage as W3C PROV-JSON
 * (https://www.w3.org/Submission/prov-json/): an entity per sample
 * (ipcn:sample/<node id>/<index>, with path hash, seq, digest, time), an
 * activity per publish, an agent per producing node, and wasGeneratedBy,
 * wasAttributedTo, wasDerivedFrom (and used) relations, walking back as
 * ipcn_prov_verify() does and with the same checks: a lineage that does
 * not verify is not exported.  @json: NUL-terminated, free with free().
 * Returns 100, or as ipcn_prov_verify() (nothing in *json then).
 * Since: 0.2
 */
IPCN_API int ipcn_prov_export_json(ipcn_node *node, const ipcn_msg *msg,
                                   int timeout_ms, char **json);

/** One record of a sample's lineage (ipcn_prov_trace()).  Since: 0.2 */
typedef struct ipcn_prov_step {
    ipcn_prov_record record; /**< verified */
    uint32_t depth;          /**< stages back from the sample (0: its own) */
    int64_t stage_ns;        /**< time_ns less its latest parent's: the time
                                  from the parent's publish to this one
                                  (transport and the stage's work); 0 for an
                                  origin.  The producers' CLOCK_REALTIME. */
} ipcn_prov_step;

/**
 * ipcn_prov_trace() - msg's lineage, verified as ipcn_prov_verify() does:
 * every record back to its origins, in the order walked (the sample's own
 * first, then by depth), with the time spent at each stage.
 * @steps: free with free().  @report: optional, as ipcn_prov_verify().
 * Returns as ipcn_prov_verify() (nothing in *steps unless 100).
 * Since: 0.2
 */
IPCN_API int ipcn_prov_trace(ipcn_node *node, const ipcn_msg *msg,
                             int timeout_ms, ipcn_prov_step **steps,
                             size_t *count, ipcn_prov_report *report);

/** A node a sample was sent to (ipcn_prov_deliveries()).  Since: 0.2 */
typedef struct ipcn_prov_delivery {
    uint64_t node_id;
    char name[65];  /**< "" when the producer no longer has a link to it */
} ipcn_prov_delivery;

/**
 * ipcn_prov_deliveries() - where the copies of the sample of ref went: the
 * nodes its producer queued it for (at most 64 kept per record), asked of
 * the producer ("@sys/<node>/prov/to", docs/protocol.md 20.5) while it
 * still keeps the record (its last 1024).  Queued, not acknowledged: a
 * subscriber that dies with the sample in its socket is listed.
 * @out: free with free().  @local: optional, set to 1 when the producer's
 * own subscriptions took it.  Returns 100; 203 when the producer is not
 * linked or no longer keeps the record; 304; 201 when the answer is not
 * from it; 200 for NULL arguments or an answer not of the documented form;
 * 307.  Since: 0.2
 */
IPCN_API int ipcn_prov_deliveries(ipcn_node *node, const ipcn_prov_ref *ref,
                                  int timeout_ms, ipcn_prov_delivery **out,
                                  size_t *count, int *local);

/** This node's provenance counters; a sized struct (set size).
 *  Since: 0.2 */
typedef struct ipcn_prov_stats {
    uint32_t size;        /**< sizeof(ipcn_prov_stats): set it */
    uint64_t records;     /**< records made (samples published with one) */
    uint64_t checkpoints; /**< checkpoints signed */
    uint64_t unrecorded;  /**< samples of paths with provenance on that went
                               without a record: through shared memory
                               (from 16 KiB, or the path's shm_threshold,
                               when a subscriber maps it; their parents, of
                               ipcn_publish_derived(), are not recorded
                               either), or to a peer taking records whose
                               max_payload the record did not fit
                               (docs/protocol.md 20.3) */
    uint64_t index;       /**< the chain's last index (0: none yet) */
} ipcn_prov_stats;

/**
 * ipcn_prov_get_stats() - this node's provenance counters into *out
 * (zeros before its first record).  Thread-safe.  Returns 100; 200 for
 * a NULL argument or a size under the first version's.  Since: 0.2
 */
IPCN_API int ipcn_prov_get_stats(ipcn_node *node, ipcn_prov_stats *out);

#ifdef __cplusplus
}
#endif

#endif
