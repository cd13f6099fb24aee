/* SPDX-License-Identifier: MIT */
/*
 * prov.h — a node's provenance chain (prov.c): its Ed25519 key for this
 * run, the hash chain of the records it made, the last records kept for
 * verifiers with the signed checkpoints among them, and the node service
 * "@sys/<node>/prov" that serves them (docs/protocol.md 20).
 */
#ifndef IPCN_ENGINE_PROV_H
#define IPCN_ENGINE_PROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"
#include "wire/prov.h"

#define IPCN_PROV_KEEP 1024u      /* records kept for verifiers */
#define IPCN_PROV_CKPT_EVERY 64u  /* a checkpoint at least every N records */
#define IPCN_PROV_CKPT_NS 100000000ull /* or on the first record T after */
#define IPCN_PROV_CKPT_MIN_NS 10000000ull /* on demand: at most one per 10 ms */
#define IPCN_PROV_PROOF_ENC "application/x-ipcn-prov-proof"

typedef struct ipcn__prov_ent {
    uint64_t index;      /* 0: empty */
    uint8_t prev[32];    /* the chain's hash before this record */
    uint8_t *rec;        /* the record as chained */
    uint32_t len, cap;   /* its size, and rec's (ipcn__prov_reserve) */
    uint8_t *ckpt;       /* a checkpoint made at this record, or NULL */
    /* Where the sample went (ipcnet trace): the nodes whose links it was
     * queued on (at most IPCN_PROV_TO_MAX; the rest counted), and
     * whether this node's own subscriptions took it. */
    uint64_t *to;
    uint32_t nto, cap_to, to_more;
    bool to_local;
} ipcn__prov_ent;
#define IPCN_PROV_TO_MAX 64u

typedef struct ipcn__prov {
    unsigned char pk[32], sk[64];
    uint8_t head[32];         /* h_index */
    uint64_t index;           /* the last record's index (0: none yet) */
    uint64_t ckpt_index;      /* the last checkpoint's */
    uint64_t ckpt_ns;         /* when it was made (CLOCK_REALTIME) */
    uint64_t ckpt_mono;       /* when, by the monotonic clock (its timer) */
    uint64_t records, checkpoints, proofs; /* counters */
    uint64_t unrecorded;      /* samples too large to carry one */
    ipcn__prov_ent ring[IPCN_PROV_KEEP];
    uint8_t buf[IPCN_PROV_RECORD_MAX]; /* the record being made */
    ipcn_prov_record rec;     /* its fields */
} ipcn__prov;

/* BLAKE2b-256 of p (len bytes). */
void ipcn__prov_hash(uint8_t out[32], const void *p, size_t len);
/* n's chain, made on first use (a new key pair): 100, 307, 300 when
 * libsodium does not start. */
int ipcn__prov_get(ipcn_node *n, ipcn__prov **out);
/* Chain the record in pv->buf (len bytes, its index pv->index + 1),
 * keep it, and sign a checkpoint when one is due (now_ns: its time).
 * 100, 307. */
/* Room for the next record of len bytes, made before anything of the
 * sample changes (its seq, a data value): 100, or 307 (nothing changed;
 * the record the slot holds is still served). */
int ipcn__prov_reserve(ipcn__prov *pv, uint32_t len);
int ipcn__prov_append(ipcn_node *n, ipcn__prov *pv, uint32_t len,
                      uint64_t now_ns);
void ipcn__prov_free(ipcn_node *n);
/* The sample of the last record went to node id (a link it was queued
 * on): kept with it, bounded. */
void ipcn__prov_sent(ipcn__prov *pv, uint64_t id);

/* The verifier's pins (docs/protocol.md 20.6): per producing node run
 * (its id and the name of its link), the key of the first proof it
 * served and the latest checkpoint verified (index, head); at most
 * IPCN_PROV_PINS, the least recently used forgotten first. */
#define IPCN_PROV_PINS 256u
typedef struct ipcn__prov_pinent {
    uint64_t node_id, index, used; /* used 0: free */
    char name[65]; /* IPCN_NAME_MAX + 1 (util.h) */
    uint8_t pk[32], head[32];
} ipcn__prov_pinent;
typedef struct ipcn__prov_pins {
    ipcn__prov_pinent e[IPCN_PROV_PINS];
    uint64_t clock;
} ipcn__prov_pins;
/* Pin (or check against its pin) the key and head of a proof already
 * checked by ipcn__prov_check_proof() (record index of node_id, served
 * by the linked node called name): 100; 201 with *why when the proof is
 * signed with another key than the node's first, or its chain disagrees
 * with a head verified before; 307. */
int ipcn__prov_pin(ipcn_node *n, const char *name, uint64_t node_id,
                   uint64_t index, const uint8_t *p, size_t len,
                   const char **why);

/* Check a proof (docs/protocol.md 20.5) of record index of node_id: it
 * decodes, its checkpoint is that node's at its last record and its
 * signature verifies under the key in it, and its chain from prev
 * through its records reaches the signed head.  100 with the record at
 * index (*out, and its bytes in p), or 201 with *why. */
int ipcn__prov_check_proof(const uint8_t *p, size_t len, uint64_t node_id,
                           uint64_t index, ipcn_prov_record *out,
                           const uint8_t **rec_out, uint32_t *rec_len,
                           const char **why);
#endif
