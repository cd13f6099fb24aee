/* SPDX-License-Identifier: MIT */
/*
 * hash.c — the file service's content hash (ipcnet_files.h): BLAKE2b-256
 * of each chunk with the personalisation "ipcnet-file-leaf", and
 * BLAKE2b-256 with "ipcnet-file-root" over the size, the chunk size and
 * the chunk hashes.  A tree of two levels, so that chunks can be hashed
 * apart (by the provider and the requester at once, or by several threads)
 * and a resumed fetch keeps the chunks it already has.  libsodium's
 * crypto_generichash is BLAKE2b.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/files.h"
#include "util/util.h"

/* 16 bytes each: crypto_generichash_blake2b_PERSONALBYTES. */
static const unsigned char leaf_personal[16] = "ipcnet-file-leaf";
static const unsigned char root_personal[16] = "ipcnet-file-root";

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = IPCN_INTERNAL_ERROR;

static void sodium_do_init(void)
{
    /* 0 on the first call, 1 when already initialised: both fine. */
    sodium_status = sodium_init() < 0 ? IPCN_INTERNAL_ERROR : IPCN_OK;
}

int ipcn__files_sodium_init(void)
{
    pthread_once(&sodium_once, sodium_do_init);
    return sodium_status;
}

void ipcn__files_leaf(const void *p, size_t n, uint8_t out[IPCN_FILES_HASH_LEN])
{
    crypto_generichash_blake2b_state st;
    crypto_generichash_blake2b_init_salt_personal(&st, NULL, 0,
                                                  IPCN_FILES_HASH_LEN, NULL,
                                                  leaf_personal);
    crypto_generichash_blake2b_update(&st, p, n);
    crypto_generichash_blake2b_final(&st, out, IPCN_FILES_HASH_LEN);
}

void ipcn__files_root_init(ipcn__files_root *r, uint64_t size, uint32_t chunk)
{
    uint8_t head[12];
    for (int i = 0; i < 8; i++)
        head[i] = (uint8_t)(size >> (8 * i));
    for (int i = 0; i < 4; i++)
        head[8 + i] = (uint8_t)(chunk >> (8 * i));
    crypto_generichash_blake2b_init_salt_personal(&r->st, NULL, 0,
                                                  IPCN_FILES_HASH_LEN, NULL,
                                                  root_personal);
    crypto_generichash_blake2b_update(&r->st, head, sizeof head);
}

void ipcn__files_root_add(ipcn__files_root *r,
                          const uint8_t leaf[IPCN_FILES_HASH_LEN])
{
    crypto_generichash_blake2b_update(&r->st, leaf, IPCN_FILES_HASH_LEN);
}

void ipcn__files_root_final(ipcn__files_root *r,
                            uint8_t out[IPCN_FILES_HASH_LEN])
{
    crypto_generichash_blake2b_final(&r->st, out, IPCN_FILES_HASH_LEN);
}

IPCN_API int ipcn_files_hash(const char *file,
                             uint8_t out[IPCN_FILES_HASH_LEN],
                             uint64_t *size)
{
    if (!file || !out)
        return IPCN_BAD_REQUEST;
    if (ipcn__files_sodium_init() != IPCN_OK)
        return IPCN_INTERNAL_ERROR;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? IPCN_NOT_FOUND
               : errno == ENOMEM                   ? IPCN_INSUFFICIENT_MEMORY
               : errno == EACCES || errno == EPERM || errno == ELOOP
                   ? IPCN_FORBIDDEN
                   : IPCN_INTERNAL_ERROR;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return IPCN_FORBIDDEN;
    }
    uint8_t *buf = ipcn__malloc(IPCN_FILES_CHUNK);
    if (!buf) {
        close(fd);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    /* The root starts with the size, known only at the end of a file that
     * may be growing: collect the chunk hashes (32 bytes per MiB) first. */
    size_t cap = 64, n = 0;
    uint8_t *leaves = ipcn__malloc(cap * IPCN_FILES_HASH_LEN);
    uint64_t total = 0;
    int st = leaves ? IPCN_OK : IPCN_INSUFFICIENT_MEMORY;
    while (st == IPCN_OK) {
        size_t got = 0;
        while (got < IPCN_FILES_CHUNK) {
            ssize_t r = read(fd, buf + got, IPCN_FILES_CHUNK - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                st = IPCN_INTERNAL_ERROR;
                break;
            }
            if (r == 0)
                break;
            got += (size_t)r;
        }
        if (st != IPCN_OK || got == 0)
            break;
        if (n == cap) {
            uint8_t *bigger = ipcn__realloc(leaves, 2 * cap * IPCN_FILES_HASH_LEN);
            if (!bigger) {
                st = IPCN_INSUFFICIENT_MEMORY;
                break;
            }
            leaves = bigger;
            cap *= 2;
        }
        ipcn__files_leaf(buf, got, leaves + n++ * IPCN_FILES_HASH_LEN);
        total += got;
        if (got < IPCN_FILES_CHUNK)
            break;
    }
    if (st == IPCN_OK) {
        ipcn__files_root r;
        ipcn__files_root_init(&r, total, IPCN_FILES_CHUNK);
        for (size_t i = 0; i < n; i++)
            ipcn__files_root_add(&r, leaves + i * IPCN_FILES_HASH_LEN);
        ipcn__files_root_final(&r, out);
        if (size)
            *size = total;
    }
    ipcn__free(leaves);
    ipcn__free(buf);
    close(fd);
    return st;
}
