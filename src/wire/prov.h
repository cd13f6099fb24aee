/* SPDX-License-Identifier: MIT */
/*
 * prov.h — the provenance codec (prov.c): a record, a checkpoint, a proof
 * (docs/protocol.md 20), and the SAMPLE that carries a record.  Pure
 * functions over byte buffers: the parts of provenance that meet hostile
 * bytes, bounds-checked and fuzzed (tests/fuzz/fuzz_prov.c).  Hashing and
 * signing are above, in engine/prov*.c.
 */
#ifndef IPCN_WIRE_PROV_H
#define IPCN_WIRE_PROV_H

#include <stddef.h>
#include <stdint.h>

#include "ipcnet_prov.h"
#include "wire/wire.h"

#define IPCN_PROV_VERSION 1u
#define IPCN_PROV_FIXED 100u     /* a record's bytes before its strings */
#define IPCN_PROV_PARENT_SIZE 88u
#define IPCN_PROV_MIN (IPCN_PROV_FIXED + 3u + 3u + 1u) /* node >= 1 byte */
#define IPCN_PROV_CKPT_SIZE 156u
#define IPCN_PROV_CKPT_SIGNED 92u /* the bytes the signature covers */
#define IPCN_PROV_SIG_LEN 64u
#define IPCN_PROV_PROOF_FIXED 40u
#define IPCN_PROV_PROOF_MAX 256u /* records in one proof */
/* Domain separation of the chain's start and of a checkpoint's signature. */
#define IPCN_PROV_CHAIN_CTX "IPCN-PROV-CHAIN1"
#define IPCN_PROV_CKPT_CTX "IPCN-PROV-CKPT-1"
#define IPCN_PROV_CTX_LEN 16u

/* A checkpoint: node's chain head after record index, signed. */
typedef struct ipcn__prov_ckpt {
    uint64_t node_id;
    uint64_t index;
    uint64_t time_ns;
    uint8_t head[32];
    uint8_t pubkey[32];
    uint8_t sig[64];
} ipcn__prov_ckpt;

/* A proof: prev (the chain's hash before record first), the records
 * first .. first+count-1 as they were chained, and a checkpoint at the
 * last. */
typedef struct ipcn__prov_proof {
    uint32_t count;
    const uint8_t *prev;           /* 32 bytes */
    const uint8_t *records;        /* count × blob, read with _proof_next */
    const uint8_t *records_end;
    ipcn__prov_ckpt ckpt;
} ipcn__prov_proof;

/* Size of r encoded (its strings' lengths as given). */
size_t ipcn__prov_size(const ipcn_prov_record *r);
/* Encode r into out (cap bytes).  Returns the size, or 0 when r breaks
 * the rules (decode would refuse it) or does not fit. */
size_t ipcn__prov_encode(const ipcn_prov_record *r, uint8_t *out, size_t cap);
/* Decode exactly len bytes: 100, or 200. */
int ipcn__prov_decode(const uint8_t *p, size_t len, ipcn_prov_record *out);

/* A checkpoint's 156 bytes; decode: 100 or 200 (version, reserved). */
void ipcn__prov_ckpt_encode(const ipcn__prov_ckpt *c, uint8_t out[156]);
int ipcn__prov_ckpt_decode(const uint8_t *p, size_t len, ipcn__prov_ckpt *out);

/* A proof: header written to w, then the caller appends count blobs and
 * the checkpoint.  Decode: 100 or 200 (counts, blob lengths, trailing
 * bytes, a record that does not decode). */
int ipcn__prov_proof_decode(const uint8_t *p, size_t len, ipcn__prov_proof *out);
/* The next record of a decoded proof (*cur starts at records): 100 with
 * *rec, *rec_len, or 203 past the last. */
int ipcn__prov_proof_next(const ipcn__prov_proof *pf, const uint8_t **cur,
                          const uint8_t **rec, uint32_t *rec_len);

/* A SAMPLE whose body ends with the provenance extension (blob record,
 * only to a peer with IPCN_CAP_PROV).  As ipcn__enc_sample. */
int ipcn__enc_sample_prov(ipcn__wbuf *w, ipcn__hdr *h, const ipcn__sample *b,
                          const uint8_t *rec, uint32_t rec_len);

#endif
