/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_replay.h — publishing recorded samples again (`ipcnet play`).
 */
#ifndef IPCNET_REPLAY_H
#define IPCNET_REPLAY_H

#include "ipcnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * ipcn_publish_seq() - ipcn_publish() with the sample's sequence number
 * given: the sample goes out with seq (its time is now, as any), and the
 * resource's numbering goes on from it (a later ipcn_publish() gets
 * seq + 1).  For a player of a recording, which gives each sample the
 * number it was recorded with, so subscribers see the original numbers
 * and the original gaps, and count them as any: a seq more than one above
 * the last is a gap whose missing numbers (up to 2^20) are added to each
 * subscriber's lost count (ipcn_sub_stats.lost); a larger jump or a seq
 * below the last one is one reset (.resets, docs/protocol.md 10), not
 * losses; the same seq as the last is counted as neither.
 * On a data resource that keeps a debug history (ipcnet_history.h), a seq
 * not above the newest version kept clears the history first, the
 * entries kept counted as dropped, so that its versions stay strictly
 * increasing (docs/protocol.md 10.6).
 * @seq: >= 1.
 * Returns as ipcn_publish() (100, 203, 204, 200 also for seq 0, 207, 307).
 * Thread-safe, as ipcn_publish().  Since: 0.2
 */
IPCN_API int ipcn_publish_seq(ipcn_node *node, const char *path,
                              const void *data, size_t len, uint64_t seq);

#ifdef __cplusplus
}
#endif
#endif /* IPCNET_REPLAY_H */
