/* SPDX-License-Identifier: MIT */
/*
 * fuzz_prov.c — libFuzzer harness of the provenance parsers
 * (src/wire/prov.c, docs/protocol.md 20): what another node sends as
 * SAMPLE's extension, as a proof from "@sys/<node>/prov", and what a
 * recording or a bridge carries.
 *
 * The first byte chooses; the rest is the input:
 *   0: a record.  100 or 200; a record accepted re-encodes to exactly the
 *      input (one encoding per record), and its strings fit.
 *   1: a checkpoint.  100 or 200; one accepted re-encodes to the input.
 *   2: a proof, then its check (chain and signature) for the node and
 *      index it claims: never 100 for a proof whose checkpoint does not
 *      verify; the records walked stay inside the input.
 *   3: a frame (check, then decode): a SAMPLE's extension, when decoded,
 *      is a record that decodes and lies inside the frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/prov.h"
#include "fuzz_common.h"
#include "wire/prov.h"
#include "wire/wire.h"

static void fp_record(const uint8_t *p, size_t n)
{
    ipcn_prov_record r;
    int st = ipcn_prov_decode(p, n, &r);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    if (st != IPCN_OK)
        return;
    FUZZ_ASSERT(strlen(r.node) >= 1 && strlen(r.node) <= 64);
    FUZZ_ASSERT(strlen(r.principal) <= IPCN_PROV_PRINCIPAL_MAX);
    FUZZ_ASSERT(r.nparents <= IPCN_PROV_MAX_PARENTS);
    uint8_t again[IPCN_PROV_RECORD_MAX];
    size_t k = ipcn__prov_encode(&r, again, sizeof again);
    FUZZ_ASSERT(k == n && !memcmp(again, p, n));
}

static void fp_ckpt(const uint8_t *p, size_t n)
{
    ipcn__prov_ckpt c;
    int st = ipcn__prov_ckpt_decode(p, n, &c);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    if (st != IPCN_OK)
        return;
    uint8_t again[IPCN_PROV_CKPT_SIZE];
    ipcn__prov_ckpt_encode(&c, again);
    FUZZ_ASSERT(n == IPCN_PROV_CKPT_SIZE && !memcmp(again, p, n));
}

static void fp_proof(const uint8_t *p, size_t n)
{
    ipcn__prov_proof pf;
    int st = ipcn__prov_proof_decode(p, n, &pf);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    if (st != IPCN_OK)
        return;
    FUZZ_ASSERT(pf.count >= 1 && pf.count <= IPCN_PROV_PROOF_MAX);
    const uint8_t *cur = pf.records, *rec;
    uint32_t rl, seen = 0;
    while (ipcn__prov_proof_next(&pf, &cur, &rec, &rl) == IPCN_OK) {
        FUZZ_ASSERT(rec >= p && rec + rl <= p + n);
        seen++;
    }
    FUZZ_ASSERT(seen == pf.count);
    ipcn_prov_record r;
    const char *why = NULL;
    uint64_t first = pf.ckpt.index - pf.count + 1;
    st = ipcn__prov_check_proof(p, n, pf.ckpt.node_id, first, &r, &rec, &rl,
                                &why);
    FUZZ_ASSERT(st == IPCN_OK || (st == IPCN_UNAUTHORIZED && why));
    if (st == IPCN_OK)
        FUZZ_ASSERT(r.node_id == pf.ckpt.node_id && r.index == first &&
                    rec >= p && rec + rl <= p + n);
}

static void fp_frame(const uint8_t *p, size_t n)
{
    size_t need = 0;
    int st = ipcn__frame_check_ex(p, n, 1u << 20, &need, false);
    if (st != IPCN_OK || need > n)
        return;
    ipcn__frame f;
    st = ipcn__frame_decode(p, need, &f);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST);
    if (st != IPCN_OK || f.hdr.type != IPCN_F_SAMPLE || !f.u.sample.prov.len)
        return;
    FUZZ_ASSERT(f.u.sample.prov.p >= p &&
                f.u.sample.prov.p + f.u.sample.prov.len <= p + need);
    ipcn_prov_record r;
    FUZZ_ASSERT(ipcn_prov_decode(f.u.sample.prov.p, f.u.sample.prov.len, &r) ==
                IPCN_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] & 3) {
    case 0: fp_record(p, n); break;
    case 1: fp_ckpt(p, n); break;
    case 2: fp_proof(p, n); break;
    default: fp_frame(p, n); break;
    }
    return 0;
}
