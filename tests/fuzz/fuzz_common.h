/* SPDX-License-Identifier: MIT */
/* fuzz_common.h — what the libFuzzer harnesses share.  The harnesses are
 * also compiled into tests/unit/test_fuzz_replay.c (with gcc, without
 * libFuzzer), which replays the corpus and every saved crash. */
#ifndef IPCN_FUZZ_COMMON_H
#define IPCN_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

/* A property of the code under test does not hold: report where, and
 * abort so that libFuzzer saves the input (and the replay test fails). */
#define FUZZ_ASSERT(cond)                                                  \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,      \
                    __LINE__, #cond);                                      \
            abort();                                                       \
        }                                                                  \
    } while (0)

#endif
