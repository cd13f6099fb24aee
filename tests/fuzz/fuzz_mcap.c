/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mcap.c — libFuzzer harness of the MCAP reader (src/mcap/mcap_read.c),
 * what `ipcnet info` and `ipcnet play` run on a recording.
 *
 * The input is a file.  Properties:
 *  - the scan ends (0 or an MCAP_E* code), every message it hands over
 *    lies inside the input or the reader's chunk buffer, and is read whole
 *    (ASan checks each byte);
 *  - good_bytes never passes the input's end; a complete file is not cut
 *    off, and the messages counted per channel add up to the total;
 *  - the same input cut in half never gives more messages.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mcap.h"

static int fm_touch(const mcap_message *m, void *user)
{
    uint64_t *sum = user;
    for (size_t i = 0; i < m->len; i++)
        *sum += m->data[i];
    FUZZ_ASSERT(m->channel && m->channel->topic && m->channel->encoding);
    return 0;
}

static uint64_t fm_scan(const uint8_t *data, size_t size, int check)
{
    mcap_reader *r;
    mcap_read_opts o = {.max_chunk = 1u << 20}; /* a chunk of at most 1 MiB */
    FUZZ_ASSERT(mcap_reader_open_mem(&r, data, size, &o) == 0);
    uint64_t sum = 0;
    mcap_info in;
    int rc = mcap_reader_scan(r, fm_touch, &sum, &in);
    FUZZ_ASSERT(rc <= 0 && rc != MCAP_ESTOP);
    FUZZ_ASSERT(in.good_bytes <= size);
    if (check && rc == 0) {
        FUZZ_ASSERT(!(in.complete && in.cut_off));
        size_t n;
        const mcap_channel *const *cs = mcap_reader_channels(r, &n);
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++)
            total += mcap_reader_channel_count(r, cs[i]->id);
        FUZZ_ASSERT(total == in.messages);
    }
    uint64_t msgs = in.messages;
    mcap_reader_close(r);
    return msgs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t all = fm_scan(data, size, 1);
    uint64_t half = fm_scan(data, size / 2, 0);
    FUZZ_ASSERT(half <= all);
    return 0;
}
