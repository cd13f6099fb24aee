/* SPDX-License-Identifier: MIT */
/*
 * files.h — what the files of the file service (src/files/) share: the
 * protocol's limits, its request and answer codecs (proto.c, pure
 * functions over buffers, fuzzed by tests/fuzz/fuzz_files.c), the content
 * hash (hash.c), and the provider's request handling over a directory
 * descriptor (serve.c), which the fuzz harness also drives without a node.
 * The protocol is in docs/protocol.md, section "File service".
 */
#ifndef IPCN_FILES_INTERNAL_H
#define IPCN_FILES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "ipcnet_files.h"

/* ---- limits ---- */

/* The most bytes one "read" answers (the provider's "max_read"); also
 * the bound of the bytes one "read" hashes. */
#define IPCN__FILES_MAX_READ ((uint32_t)4 << 20)
/* The most bytes one "hashes" request hashes (cached hashes are free). */
#define IPCN__FILES_HASH_BUDGET ((uint64_t)16 << 20)
/* The most chunk hashes one "hashes" request asks for or gets. */
#define IPCN__FILES_MAX_HASHES 4096u
/* The longest name (bytes), as Linux's PATH_MAX less its NUL. */
#define IPCN__FILES_NAME_MAX 4095u
/* The largest file served or fetched: 2^46 bytes (64 TiB). */
#define IPCN__FILES_MAX_SIZE ((uint64_t)1 << 46)
/* Chunk sizes a requester accepts from a provider. */
#define IPCN__FILES_CHUNK_MIN ((uint32_t)64 << 10)
#define IPCN__FILES_CHUNK_MAX ((uint32_t)8 << 20)
/* The most bytes of a request (the longest valid one is ~4.2 KB). */
#define IPCN__FILES_REQ_MAX 8192u

/* The descriptor meta's "protocol" value. */
#define IPCN__FILES_PROTOCOL "ipcnet-files"
#define IPCN__FILES_VERSION 1

/* ---- requests ---- */

enum ipcn__files_op {
    IPCN__FILES_STAT = 1,
    IPCN__FILES_READ = 2,
    IPCN__FILES_HASHES = 3
};

/* A parsed request; name points into the request's buffer (not
 * NUL-terminated). */
typedef struct ipcn__files_req {
    int op;
    const char *name;
    size_t name_len;
    bool has_version;
    uint64_t version;
    uint64_t off, len;      /* read */
    uint64_t first, count;  /* hashes */
} ipcn__files_req;

/* Parse a request: a CBOR map with text keys "op" (text), "name" (text),
 * and per op "version", "off", "len", "first", "count" (unsigned
 * integers); unknown keys are ignored, a key twice is refused.  The name
 * is only checked for being text here (see ipcn__files_name_check).
 * Returns 100, or 200 with a short static reason in *why. */
int ipcn__files_parse_req(const void *buf, size_t len, ipcn__files_req *out,
                          const char **why);

/* Is name[0..n) a name the provider may resolve: 1..4095 bytes, no NUL,
 * not absolute, no empty, "." or ".." segment, no trailing '/'?  Returns
 * 100, 200 (empty, too long, NUL), 202 (the rest), with a static reason
 * in *why. */
int ipcn__files_name_check(const char *name, size_t n, const char **why);

/* Encode requests into buf[0..cap); *len the bytes written.  Returns the
 * writer's status (100, 306). */
int ipcn__files_enc_stat_req(const char *name, size_t name_len, uint8_t *buf,
                             size_t cap, size_t *len);
int ipcn__files_enc_read_req(const char *name, size_t name_len,
                             uint64_t version, uint64_t off, uint64_t n,
                             uint8_t *buf, size_t cap, size_t *len);
int ipcn__files_enc_hashes_req(const char *name, size_t name_len,
                               uint64_t version, uint64_t first,
                               uint64_t count, uint8_t *buf, size_t cap,
                               size_t *len);

/* ---- answers ---- */

typedef struct ipcn__files_stat {
    uint64_t size, mtime_ns, version;
    uint32_t chunk, max_read;
    bool alg_ok;            /* "alg" is IPCN_FILES_HASH_ALG */
    bool has_hash;
    uint8_t hash[IPCN_FILES_HASH_LEN];
} ipcn__files_stat;

/* {"size", "mtime_ns", "version", "chunk", "max_read", "alg", and "hash"
 * when has_hash}.  Returns the writer's status. */
int ipcn__files_enc_stat(const ipcn__files_stat *s, uint8_t *buf, size_t cap,
                         size_t *len);
/* A stat answer from a provider (hostile input): every field present and
 * of its type, chunk a power of two within the limits, max_read at least
 * one chunk, size at most IPCN__FILES_MAX_SIZE.  Returns 100 or 200. */
int ipcn__files_parse_stat(const void *buf, size_t len, ipcn__files_stat *out);

/* A read answer {"hashes": h'...', "data": h'...'}: *data and *hashes
 * point into buf.  Returns 100 or 200 (lengths are the caller's to
 * check). */
int ipcn__files_parse_read(const void *buf, size_t len, const uint8_t **data,
                           size_t *dlen, const uint8_t **hashes, size_t *hlen);
/* A hashes answer {"first": N, "hashes": h'...'} (hlen a multiple of 32,
 * at least one).  Returns 100 or 200. */
int ipcn__files_parse_hashes(const void *buf, size_t len, uint64_t *first,
                             const uint8_t **hashes, size_t *hlen);

/* ---- the content hash (hash.c) ---- */

/* One chunk's hash. */
void ipcn__files_leaf(const void *p, size_t n, uint8_t out[IPCN_FILES_HASH_LEN]);

typedef struct ipcn__files_root {
    crypto_generichash_blake2b_state st;
} ipcn__files_root;

void ipcn__files_root_init(ipcn__files_root *r, uint64_t size, uint32_t chunk);
void ipcn__files_root_add(ipcn__files_root *r,
                          const uint8_t leaf[IPCN_FILES_HASH_LEN]);
void ipcn__files_root_final(ipcn__files_root *r,
                            uint8_t out[IPCN_FILES_HASH_LEN]);

/* The number of chunks of a file of size bytes. */
static inline uint64_t ipcn__files_nchunks(uint64_t size, uint32_t chunk)
{
    return size / chunk + (size % chunk != 0);
}

/* libsodium's one-time initialisation; 100 or 300. */
int ipcn__files_sodium_init(void);

/* The node is closing: end its file services (ipcn_node_close() calls it
 * once its thread is stopped, so no handler of it runs any more). */
void ipcn__files_node_closed(ipcn_node *node);

/* ---- the provider (serve.c) ---- */

typedef struct ipcn__files_srv ipcn__files_srv;

/* A provider over dirfd (taken: closed by _free).  flags as
 * ipcn_files_offer().  Returns 100, 307. */
int ipcn__files_srv_new(int dirfd, uint32_t flags, ipcn__files_srv **out);
void ipcn__files_srv_free(ipcn__files_srv *s);

/* An answer: status, and a body of len bytes (malloc'd, or static for the
 * short text bodies: free with ipcn__files_out_free). */
typedef struct ipcn__files_out {
    int status;
    uint8_t *buf;
    size_t len;
    bool owned;
    const char *encoding;  /* "cbor" or "text/plain" */
    uint64_t data_bytes;   /* file bytes in the answer */
    uint64_t hashed_bytes; /* file bytes hashed for it */
} ipcn__files_out;

/* Answer one request (any bytes; the encoding need not be checked by the
 * caller: it is here).  Thread-safe: several requests may be served at
 * once.  Always fills *out. */
void ipcn__files_serve(ipcn__files_srv *s, const char *encoding,
                       const void *req, size_t len, ipcn__files_out *out);
void ipcn__files_out_free(ipcn__files_out *o);

/* The descriptor meta of a file service: writes it into buf[0..cap). */
int ipcn__files_enc_meta(uint8_t *buf, size_t cap, size_t *len);
/* Is meta[0..len) a file service's?  1 or 0. */
int ipcn__files_is_meta(const void *meta, size_t len);

/* Testing hook of the fallback walk: when set, every provider resolves
 * names as on a kernel without openat2(2). */
extern int ipcn__files_force_walk;

#endif
