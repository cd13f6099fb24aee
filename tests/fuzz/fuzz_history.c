/* SPDX-License-Identifier: MIT */
/*
 * fuzz_history.c — libFuzzer harness of the debug history's listing
 * decoder (src/engine/history_client.c, ipcn_history_decode()): the CBOR
 * answer of the node service "history" (docs/protocol.md 10.6), which a
 * requester gets from a provider it does not trust.
 *
 * Properties: the decoder answers 100 or 200 (307 only when memory
 * fails); an accepted history has a valid path, at most depth (<= 1024)
 * entries, versions strictly increasing and never 0, each entry's via
 * known, its encoding and setter NUL-terminated, and its data (when there)
 * of exactly len bytes, readable; everything is freed by
 * ipcn_history_free() (the sanitizers check that).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "ipcnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ipcn_history *h = NULL;
    int st = ipcn_history_decode(data, size, &h);
    FUZZ_ASSERT(st == IPCN_OK || st == IPCN_BAD_REQUEST ||
                st == IPCN_INSUFFICIENT_MEMORY);
    if (st != IPCN_OK) {
        FUZZ_ASSERT(h == NULL);
        return 0;
    }
    FUZZ_ASSERT(h && h->node && h->path && h->path[0]);
    FUZZ_ASSERT(h->depth <= IPCN_HISTORY_MAX && h->count <= h->depth);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < h->count; i++) {
        const ipcn_history_entry *e = &h->entries[i];
        FUZZ_ASSERT(e->version != 0);
        FUZZ_ASSERT(!i || e->version > h->entries[i - 1].version);
        FUZZ_ASSERT(e->via == IPCN_HISTORY_PUBLISH ||
                    e->via == IPCN_HISTORY_SET);
        FUZZ_ASSERT(e->encoding && e->setter);
        (void)strlen(e->encoding);
        (void)strlen(e->setter);
        FUZZ_ASSERT(e->uid >= -1 && e->pid >= -1);
        if (e->data)
            for (size_t k = 0; k < e->len; k++)
                sink ^= ((const uint8_t *)e->data)[k];
    }
    (void)sink;
    ipcn_history_free(h);
    return 0;
}
