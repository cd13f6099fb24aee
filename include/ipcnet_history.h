/* SPDX-License-Identifier: MIT */
/**
 * @file ipcnet_history.h
 * @brief Debug history of data resources: the last N versions of a value,
 * with who set each and when, listed and asked for by version.
 *
 * Included by ipcnet.h.  docs/protocol.md 10.6 is the wire side.
 *
 * A data resource whose history is on keeps its last N versions (N <=
 * IPCN_HISTORY_MAX) and at most max_bytes of their values: every new value,
 * published by its provider (ipcn_publish()) or set by a node (ipcn_set(),
 * the provider's own included), becomes the newest entry, and the oldest
 * entries go first when either bound is passed (counted in `dropped`).
 * Each entry holds the version (the value's seq), the value's bytes and
 * encoding, who set it (the provider itself, or the setter's node name, id,
 * uid and pid as the provider's kernel gave them) and when (the provider's
 * CLOCK_REALTIME and CLOCK_MONOTONIC, in ns).  An entry shares the value's
 * bytes with the current value (no copy while it is current).
 *
 * History is off by default and costs nothing then but one test per
 * publish of a data resource.  It is switched on for a whole network by
 * its policy (`debug: {history: N}`, docs/policy.md) or for one resource
 * by its provider (ipcn_announce_history(), which also switches it off for
 * that resource whatever the policy says).
 *
 * Reading the history of a resource needs what reading its value needs
 * (the READ verb of the network policy and the provider's rules): a node
 * that may not read the resource gets 203, as if it did not exist.
 */
#ifndef IPCNET_HISTORY_H
#define IPCNET_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The most versions a resource keeps. Since: 0.2 */
#define IPCN_HISTORY_MAX 1024u
/** The bytes of values a resource keeps unless told otherwise (4 MiB).
 *  Since: 0.2 */
#define IPCN_HISTORY_BYTES_DEFAULT ((uint64_t)4 << 20)
/** The most bytes of values a resource may be told to keep (256 MiB).
 *  Since: 0.2 */
#define IPCN_HISTORY_BYTES_MAX ((uint64_t)256 << 20)

/**
 * ipcn_announce_history() - keep (or stop keeping) the history of this
 * node's data resource path, whatever the network policy says.
 * @depth:     versions kept, 1..IPCN_HISTORY_MAX; 0 switches history off
 *             for this resource (what was kept is given up).
 * @max_bytes: the bytes of values kept at most (0: IPCN_HISTORY_BYTES_DEFAULT),
 *             at most IPCN_HISTORY_BYTES_MAX.  A single value larger than
 *             it is still kept, alone.
 * A smaller depth gives up the oldest entries at once.  The current value,
 * if there is one, is not entered again: history starts with the next
 * value.
 * Returns 100; 203 when this node has no resource at path; 204 when it is
 * not a data resource; 200 for a NULL node or path, a depth over
 * IPCN_HISTORY_MAX or max_bytes over IPCN_HISTORY_BYTES_MAX.  Thread-safe.
 * Since: 0.2
 */
IPCN_API int ipcn_announce_history(ipcn_node *node, const char *path,
                                   unsigned depth, uint64_t max_bytes);

/** ipcn_history_entry.via: the provider published the value itself.
 *  Since: 0.2 */
#define IPCN_HISTORY_PUBLISH 1
/** ipcn_history_entry.via: the value came by a set (ipcn_set()).
 *  Since: 0.2 */
#define IPCN_HISTORY_SET 2

/** One version of a data resource.  Since: 0.2 */
typedef struct ipcn_history_entry {
    uint64_t version;     /**< the value's seq */
    uint64_t wall_ns;     /**< the provider's CLOCK_REALTIME when it was set */
    uint64_t mono_ns;     /**< the provider's CLOCK_MONOTONIC then */
    const char *encoding; /**< the value's encoding */
    const void *data;     /**< the value's bytes; NULL when the listing
                               was asked without values */
    size_t len;           /**< the value's size (also without values) */
    const char *setter;   /**< the node that set it (its name) */
    uint64_t setter_id;   /**< that node's id */
    int32_t uid, pid;     /**< its process's uid and pid as the provider's
                               kernel gave them; -1 when not known (a node
                               of another host) */
    int via;              /**< IPCN_HISTORY_PUBLISH or IPCN_HISTORY_SET */
} ipcn_history_entry;

/** The history of one data resource, as its provider told it.
 *  Since: 0.2 */
typedef struct ipcn_history {
    const char *node;     /**< the provider's name */
    const char *path;
    uint32_t depth;       /**< versions kept at most */
    uint64_t max_bytes;   /**< bytes of values kept at most */
    uint64_t bytes;       /**< bytes of values kept now */
    uint64_t dropped;     /**< entries given up for room (depth or bytes) */
    uint64_t current;     /**< the resource's version now (0: no value) */
    size_t count;         /**< entries */
    ipcn_history_entry *entries; /**< oldest first */
} ipcn_history;

/** ipcn_history_get() flags: list without the values' bytes (each entry's
 *  data NULL, len its size): a smaller answer.  Since: 0.2 */
#define IPCN_HISTORY_NO_VALUES 0x1u

/**
 * ipcn_history_get() - the history of the data resource path, from its
 * provider (this node, or the peer that provides it; asked with the node
 * service "@sys/<provider>/history", docs/protocol.md 10.6).
 * @flags:      IPCN_HISTORY_* flags (0: with the values).
 * @timeout_ms: as ipcn_query()'s.
 * @out:        on 100, the history, which the caller frees with
 *              ipcn_history_free(); untouched otherwise.
 * Returns 100; 203 when no node provides path or it may not read it; 204
 * when path is not a data resource, or its history is off; 301 when its
 * provider predates history; 306 when the listing does not fit in one
 * answer (ask with IPCN_HISTORY_NO_VALUES, then ipcn_query_version());
 * 200 for a NULL argument, an invalid path or an unknown flag, or a
 * provider's answer that is not a valid listing; 202, 201 when the policy
 * refuses the node service; 303, 304, 307 as ipcn_query().  Thread-safe;
 * not from a callback of this node with a peer's provider (it waits).
 * Since: 0.2
 */
IPCN_API int ipcn_history_get(ipcn_node *node, const char *path,
                              unsigned flags, int timeout_ms,
                              ipcn_history **out);

/** ipcn_history_free() - free what ipcn_history_get() gave.  NULL: no-op.
 *  Since: 0.2 */
IPCN_API void ipcn_history_free(ipcn_history *h);

/**
 * ipcn_query_version() - ipcn_query() for a past version of path: the
 * value as it was at that version, from its provider's history.
 * @out: on 100, the value (its seq the version, its timestamp_ns when it
 *       was set, its src the provider); free with ipcn_msg_free().
 * Returns 100; 203 when the version is no longer kept or never was (or no
 * node provides path, or it may not read it); 204 when path is not a data
 * resource, or its history is off; 301 when its provider predates history
 * (no HISTORY capability); 200 for version 0 or a bad argument; 303, 304,
 * 306, 307 as ipcn_query().  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_query_version(ipcn_node *node, const char *path,
                                uint64_t version, ipcn_msg **out,
                                int timeout_ms);

/* For bindings and tools: the listing's CBOR answer decoded into a
 * history (docs/protocol.md 10.6).  Returns 100 with *out (free with
 * ipcn_history_free()), 200 for bytes that are not a valid listing, 307.
 * Since: 0.2 */
IPCN_API int ipcn_history_decode(const void *cbor, size_t len,
                                 ipcn_history **out);

#ifdef __cplusplus
}
#endif
#endif /* IPCNET_HISTORY_H */
