/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_files.h — the file service: a node offers the regular files of a
 * directory under one service path, another node fetches one of them in
 * chunks, each chunk checked against the provider's hash of it, resumable
 * after an interruption, with the whole file's content hash at the end.
 *
 *   provider:   ipcn_files_offer(node, "files", "/srv/maps", 0);
 *   requester:  ipcn_files_get(node, "files/level2/map.pgm", "map.pgm",
 *                             NULL, &result);
 *
 * A file <dir>/a/b.bin is fetched as path "files/a/b.bin": the longest
 * offered file service whose path is a prefix of the path (at a '/') gets
 * the request for the name "a/b.bin".  The wire protocol (CBOR requests
 * and replies on an ordinary IPCNet service) is in docs/protocol.md,
 * section "File service"; any program that speaks it can serve or fetch.
 *
 * Content hash.  A file of size S is cut into chunks of C bytes (C =
 * IPCN_FILES_CHUNK; the last chunk may be shorter; no chunk when S = 0).
 * Each chunk's hash is BLAKE2b-256 (RFC 7693, no key, no salt) with the
 * personalisation "ipcnet-file-leaf"; the content hash is BLAKE2b-256 with
 * the personalisation "ipcnet-file-root" over u64le(S) || u32le(C) || the
 * chunk hashes in order.  Both sides hash chunks independently (the
 * provider chunk i + 1 while the requester checks chunk i), and a
 * requester keeps the verified chunks of an interrupted fetch.
 *
 * Hostile requesters are normal: a provider answers only for regular files
 * beneath its directory (no "..", no absolute names, no symbolic link
 * leading out, no device, FIFO or socket), bounds every request's cost,
 * and never names its own paths in an error.
 *
 * The conventions of ipcnet.h hold: every call returns a status code,
 * output parameters are untouched on failure unless said otherwise.
 *
 * Since: 0.1
 */
#ifndef IPCNET_FILES_H
#define IPCNET_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes per chunk of the content hash (1 MiB). */
#define IPCN_FILES_CHUNK ((uint32_t)1 << 20)
/** Bytes of a chunk hash and of a content hash. */
#define IPCN_FILES_HASH_LEN 32
/** The name of the content hash, as the provider's "stat" answer says it. */
#define IPCN_FILES_HASH_ALG "blake2b-256-tree"

/* ------------------------------------------------------------------ */
/* Offering files                                                      */
/* ------------------------------------------------------------------ */

/**
 * ipcn_files_offer() flags: refuse every symbolic link in a name, even one
 * that stays inside the directory (names are then resolved one component
 * at a time with O_NOFOLLOW; this is also what happens, for every offer,
 * on a kernel without openat2(2)).
 */
#define IPCN_FILES_NO_SYMLINKS 0x1u

/**
 * ipcn_files_offer() - offer the regular files beneath dir at service_path
 * (announced as an IPCN_SERVICE of encoding "cbor", with the descriptor
 * meta {"protocol": "ipcnet-files", "version": 1, "chunk": C,
 * "max_read": M}).
 * @service_path: a valid path ("files", "robot/maps").
 * @dir:          a directory, opened now: the offer keeps serving that
 *                directory even if dir is renamed or replaced later.
 * @flags:        0 or IPCN_FILES_NO_SYMLINKS.
 *
 * Requests are answered from the node's dispatch (or its thread): a file's
 * bytes are read and hashed there, at most 4 MiB read per request (16 MiB
 * hashed for the chunk hashes a resuming requester asks for).  Names are
 * resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) beneath
 * the directory, so a symbolic link inside it is followed only while it
 * stays inside it.  Files must be readable by this process.  Chunk hashes
 * of files that have not changed for a few seconds are kept (at most a few
 * MiB of them) so that a second fetch costs the provider no hashing.
 *
 * Returns 100; 200 for invalid arguments or flags; 203 when dir does not
 * exist; 202 when dir is not a directory or cannot be opened (permission);
 * 207 when this node already offers service_path; 307; 300 for another
 * system error.  Thread-safe.  Since: 0.1
 */
IPCN_API int ipcn_files_offer(ipcn_node *node, const char *service_path,
                              const char *dir, uint32_t flags);

/**
 * ipcn_files_unoffer() - withdraw a file service of this node.  A request
 * being answered meanwhile finishes first; none starts after this returns.
 * Must not be called from the service's own handler (no handler of the
 * service is ever running on the calling thread then).
 * Returns 100, 203 when this node offers no file service at service_path,
 * 200.  ipcn_node_close() ends the file services still offered (their
 * directory descriptors and chunk hashes are freed).  Thread-safe.
 * Since: 0.1
 */
IPCN_API int ipcn_files_unoffer(ipcn_node *node, const char *service_path);

/** Counters of a file service, as ipcn_files_get_stats() reports them;
 *  a sized struct (ipcnet.h).  Since: 0.1 */
typedef struct ipcn_files_stats {
    uint32_t size;      /**< sizeof(ipcn_files_stats): set it */
    uint64_t requests;  /**< requests answered */
    uint64_t refused;   /**< of which with an error status */
    uint64_t bytes;     /**< file bytes sent in "read" answers */
    uint64_t hashed;    /**< file bytes hashed (chunk hashes found in the
                             cache cost nothing) */
} ipcn_files_stats;

/**
 * ipcn_files_get_stats() - the counters of this node's file service at
 * service_path.  Returns 100, 203 when there is none, 200 (also for a
 * size under the first version's).  Thread-safe.
 * Since: 0.1
 */
IPCN_API int ipcn_files_get_stats(ipcn_node *node, const char *service_path,
                                  ipcn_files_stats *out);

/* ------------------------------------------------------------------ */
/* Fetching a file                                                     */
/* ------------------------------------------------------------------ */

/**
 * Progress callback of ipcn_files_get(): done bytes of total are in the
 * destination (verified), of which fetched came over the network in this
 * call.  Called on the thread that called ipcn_files_get(), after each
 * piece and once at the start.  Return 0 to go on; anything else stops the
 * fetch (ipcn_files_get() then returns 104, the verified part kept).
 */
typedef int (*ipcn_files_progress_fn)(uint64_t done, uint64_t total,
                                      uint64_t fetched, void *user);

/** ipcn_files_get_opts.flags: start from nothing, ignoring (and replacing)
 *  an existing DEST.part. */
#define IPCN_FILES_GET_NO_RESUME 0x1u

/** Options of ipcn_files_get(), a sized struct (ipcnet.h); initialise
 *  with ipcn_files_get_opts_init().  Since: 0.1 */
typedef struct ipcn_files_get_opts {
    uint32_t size;          /**< sizeof(ipcn_files_get_opts), set by _init */
    uint32_t flags;         /**< IPCN_FILES_GET_* */
    int timeout_ms;         /**< for each request: a provider silent this
                                 long ends the fetch with 304; 10000 */
    uint32_t inflight;      /**< read requests in flight at once, 1..16;
                                 0: 4 */
    uint32_t read_size;     /**< bytes per read request, rounded down to a
                                 multiple of IPCN_FILES_CHUNK; 0 (or more
                                 than the provider's "max_read"): the
                                 provider's "max_read" */
    ipcn_files_progress_fn progress; /**< NULL: none */
    void *user;             /**< for progress */
} ipcn_files_get_opts;

/** ipcn_files_get_opts_init() - fill *opts with the defaults. Since: 0.1 */
IPCN_API void ipcn_files_get_opts_init(ipcn_files_get_opts *opts);

/** What ipcn_files_get() fetched; a sized struct (ipcnet.h).
 *  Since: 0.1 */
typedef struct ipcn_files_result {
    uint32_t size;           /**< sizeof(ipcn_files_result): set it */
    uint64_t file_size;      /**< the file's size */
    uint64_t mtime_ns;       /**< its modification time at the provider
                                  (CLOCK_REALTIME, ns) */
    uint64_t bytes_fetched;  /**< bytes that came over the network */
    uint64_t bytes_resumed;  /**< bytes kept from an existing DEST.part,
                                  each chunk checked against the
                                  provider's hash */
    uint32_t chunk;          /**< the chunk size of the content hash */
    uint32_t requests;       /**< requests made */
    uint8_t hash[IPCN_FILES_HASH_LEN]; /**< the content hash */
    int hash_confirmed;      /**< 1 when the provider's own content hash
                                  was compared with hash and matched (it
                                  gives one once it knows every chunk
                                  hash); 0 when only each chunk's hash was */
    char provider[72];       /**< the provider's node name */
} ipcn_files_result;

/**
 * ipcn_files_get() - fetch the file at path into the local file dest.
 * @path:  <service path>/<name>; the service is the longest file service
 *         (by its descriptor) whose path is a prefix of path at a '/'.
 *         When it answers 203, the next shorter one is tried.
 * @dest:  written as dest + ".part" first (created with mode 0666 minus
 *         the umask, locked with flock(2) while in use), renamed to dest
 *         (replacing it) only once every chunk and the content hash are
 *         verified.  dest + ".part" must not be a symbolic link.
 * @opts:  NULL for the defaults.
 * @out:   on 100, what was fetched; may be NULL (else its size set, as
 *         for every sized struct).  On 104 it holds the progress so far.
 *
 * Resuming: an existing dest + ".part" (from an interrupted fetch) is
 * checked chunk by chunk against the provider's chunk hashes; the longest
 * prefix of chunks that match is kept and only the rest is fetched.
 * Several read requests are in flight at once: ipcn_files_get() runs up to
 * opts->inflight threads of its own for the length of the call (none for
 * a file of one piece), each making synchronous requests (ipcn_request()),
 * so the node need not be dispatched meanwhile; when node is itself the
 * provider, its handler runs on those threads.  No callback of the node
 * runs inside this call; opts->progress runs on the calling thread.
 *
 * Returns 100; 104 when progress asked to stop (DEST.part kept);
 * 200 for invalid arguments or a name the provider refused as malformed;
 * 202 when the provider refused the name (outside its directory, a
 * symbolic link leading out, not a regular file, not readable);
 * 203 when no file service matches path or the file does not exist;
 * 207 when the file changed at the provider during the fetch (DEST.part
 * keeps what was verified; fetching again resumes from there), or when
 * another fetch holds DEST.part;
 * 302 when bytes from the provider did not match its chunk hashes, or the
 * chunk hashes not its content hash (a provider in error or lying; nothing
 * is renamed to dest);
 * 301 when the provider hashes with another algorithm, or the file has
 * more than 2^22 chunks (4 TiB);
 * 303 when the provider left; 304 when it did not answer in time;
 * 306 when the local disk is full; 307; 300 for another local I/O error
 * (creating, writing or renaming DEST.part); the provider's other errors
 * as they come.  Thread-safe.  Since: 0.1
 */
IPCN_API int ipcn_files_get(ipcn_node *node, const char *path,
                            const char *dest,
                            const ipcn_files_get_opts *opts,
                            ipcn_files_result *out);

/**
 * ipcn_files_hash() - the content hash (see above) of a local file, and its
 * size in *size (may be NULL).
 * Returns 100; 203 when the file does not exist; 202 when it cannot be
 * read or is not a regular file; 300 for an I/O error; 307.
 * Thread-safe.  Since: 0.1
 */
IPCN_API int ipcn_files_hash(const char *file,
                             uint8_t out[IPCN_FILES_HASH_LEN],
                             uint64_t *size);

#ifdef __cplusplus
}
#endif
#endif /* IPCNET_FILES_H */
