/* SPDX-License-Identifier: MIT */
/*
 * bridges/dds/test/fuzz_dds_map.c - libFuzzer harness of the DDS bridge's
 * mapping: the first byte picks a type, the rest is an IPCNet value (the
 * bytes a publisher may send the bridge) given to its to_dds; a sample
 * made from it goes back through to_ipcn.  Neither may read outside what
 * it was given, leak, or accept a value and fail to map it back.
 * Built with -DIPCNET_FUZZ=ON (bridges/dds/test/tests.cmake); run by
 * tests/fuzz/run.sh as fuzz_dds_map.  Seeds (tests/fuzz/corpus/dds_map/):
 * the sensor harness's seeds with the type byte of their message (21
 * Image, 22 CameraInfo, 23 Imu, 24 JointState, 25 PointCloud2: the order
 * of dds_map.c's table), and a Twist (20), a String (0) and a Float64 (13)
 * written by hand.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dds_map.h"
#include "ipcnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n;
    const ddsb_type *types = ddsb_types(&n);
    const ddsb_type *t = &types[data[0] % n];
    /* a copy of exactly the value's bytes: a read past them is caught */
    uint8_t *val = malloc(size - 1 ? size - 1 : 1);
    if (!val)
        return 0;
    memcpy(val, data + 1, size - 1);
    void *sample = calloc(1, t->desc->m_size);
    ddsb_arena a = {0};
    if (sample && t->to_dds(val, size - 1, "cbor", sample, &a) == IPCN_OK) {
        uint8_t *back = NULL;
        size_t blen = 0;
        int st = t->to_ipcn(sample, &back, &blen);
        /* what was taken in is carried back out; a stamp or frame id
         * beyond IPCNet's (301) is the only refusal */
        if (st != IPCN_OK && st != IPCN_NOT_IMPLEMENTED)
            abort();
        free(back);
    }
    ddsb_arena_free(&a);
    free(sample);
    free(val);
    return 0;
}
