/* SPDX-License-Identifier: MIT */
/*
 * fuzz_schema.c — libFuzzer harness of the type language (src/value/
 * schema.c): a type that a peer announces in a descriptor's meta
 * ("schema", ipcnet_schema.h) and values that a peer sends against it are
 * both hostile.
 *
 * Input: u16le k, then k bytes of a type (clamped to what is there), then
 * the value.  Each half is also taken as a descriptor's meta.
 *
 * Properties checked (besides ASan/UBSan's):
 *  - the validator, the check and the meta reader return only their
 *    documented statuses; the reason is always NUL-terminated and names
 *    the value ("value..." / "args..."), "invalid schema" when the type is
 *    not valid; an accepted value is one well-formed CBOR item;
 *  - the check is deterministic, does not depend on the root's name or on
 *    whether a reason is asked for, and the public ipcn_schema_check()
 *    agrees with it;
 *  - a type read from a meta is valid and within IPCN__SCHEMA_MAX_LEN,
 *    and checking the other half against it holds to the above.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipcnet_schema.h"
#include "util/util.h"
#include "value/value.h"

static int fs_check(const uint8_t *s, size_t sn, const uint8_t *v, size_t vn)
{
    int valid = ipcn__schema_valid(s, sn);
    FUZZ_ASSERT(valid == IPCN_OK || valid == IPCN_BAD_REQUEST ||
                valid == IPCN_INSUFFICIENT_MEMORY);
    char why[48];
    memset(why, 'x', sizeof why);
    int st = ipcn__schema_check_as(s, sn, v, vn, "value", why, sizeof why);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST ||
                st == IPCN_INSUFFICIENT_MEMORY);
    FUZZ_ASSERT(memchr(why, 0, sizeof why) != NULL);
    if (valid == IPCN_BAD_REQUEST)
        FUZZ_ASSERT(st == IPCN_BAD_REQUEST &&
                    !strcmp(why, "value: invalid schema"));
    if (st == IPCN_OK)
        FUZZ_ASSERT(why[0] == 0 && ipcn_cbor_check(v, vn, 0) == IPCN_OK);
    if (st == IPCN_BAD_REQUEST)
        FUZZ_ASSERT(!strncmp(why, "value", 5));
    /* the same again: another root, no reason asked, the public call */
    char why2[200];
    FUZZ_ASSERT(ipcn__schema_check_as(s, sn, v, vn, "args", why2,
                                      sizeof why2) == st);
    FUZZ_ASSERT(st != IPCN_BAD_REQUEST || !strncmp(why2, "args", 4));
    FUZZ_ASSERT(ipcn__schema_check_as(s, sn, v, vn, "value", NULL, 0) == st);
    int pub = ipcn_schema_check(s, sn, vn ? v : NULL, vn, why2, sizeof why2);
    FUZZ_ASSERT(pub == st || (!sn && pub == IPCN_BAD_REQUEST));
    return st;
}

static void fs_meta(const uint8_t *m, size_t mn, const uint8_t *v, size_t vn)
{
    uint8_t *t = NULL;
    size_t tn = 0;
    int st = ipcn__schema_from_meta(m, mn, &t, &tn);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_NO_DATA ||
                st == IPCN_BAD_REQUEST || st == IPCN_INSUFFICIENT_MEMORY);
    if (st != IPCN_OK) {
        FUZZ_ASSERT(t == NULL);
        return;
    }
    FUZZ_ASSERT(t && tn >= 1 && tn <= IPCN__SCHEMA_MAX_LEN);
    FUZZ_ASSERT(ipcn__schema_valid(t, tn) == IPCN_OK);
    fs_check(t, tn, v, vn);
    ipcn__free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t k = (size_t)data[0] | (size_t)data[1] << 8;
    size_t rest = size - 2;
    if (k > rest)
        k = rest;
    /* Exact-size copies: ASan then sees any read past either end. */
    uint8_t *s = malloc(k ? k : 1), *v = malloc(rest - k ? rest - k : 1);
    if (!s || !v) {
        free(s);
        free(v);
        return 0;
    }
    memcpy(s, data + 2, k);
    memcpy(v, data + 2 + k, rest - k);
    fs_check(s, k, v, rest - k);
    fs_meta(s, k, v, rest - k);
    fs_meta(v, rest - k, s, k);
    free(s);
    free(v);
    return 0;
}
