/* SPDX-License-Identifier: MIT */
/*
 * store_fs.h — the durable file steps of the versions store (store_fs.c),
 * used only by store.c: writes and renames followed by fsync, the copy of
 * a version with its hashes, and the crash points of the kill test.
 *
 * Crash points (a test hook, docs/supervisor.md "Versions and rollback"):
 * with IPCNET_SUP_CRASHPOINT=N in the environment, the Nth durable step
 * of the process (a file written and fsynced, a directory made, a rename,
 * an unlink, a symbolic link made, a directory fsynced) is followed by
 * SIGKILL of the process itself.  The count starts again from 1 whenever
 * the variable's value changes, so that a forked child that sets it
 * counts its own steps.
 */
#ifndef IPCN_SUP_STORE_FS_H
#define IPCN_SUP_STORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A growing text buffer; on out of memory it marks itself failed. */
typedef struct sup_buf {
    char *p;
    size_t len, cap;
    bool oom;
} sup_buf;

void sup_buf_add(sup_buf *b, const char *s, size_t n);
void sup_buf_printf(sup_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sup_buf_free(sup_buf *b);

/* One durable step done: count it, and die here when it is the chosen one. */
void sup_fs_step(void);

/* fsync the directory open at dfd (a step). */
int sup_fs_sync_dir(int dfd);
/* Write data to dfd/name through name.tmp: write, fsync, rename, fsync of
 * the directory.  0, or -1 with errno. */
int sup_fs_write_atomic(int dfd, const char *name, const void *data, size_t len);
/* Make dfd/name a symbolic link to target through name.tmp and a rename,
 * then fsync the directory. */
int sup_fs_symlink_atomic(int dfd, const char *name, const char *target);
/* rename, then fsync of both directories (once when they are the same). */
int sup_fs_rename(int from_dfd, const char *from, int to_dfd, const char *to);
/* unlink name (absent: done) and fsync the directory. */
int sup_fs_unlink(int dfd, const char *name);
/* Remove dfd/name and everything under it (absent: done), then fsync dfd. */
int sup_fs_remove_tree(int dfd, const char *name);
/* Read a small file whole (at most cap - 1 bytes, NUL-terminated).
 * Returns its length, or -1 with errno (ENOENT: absent; EFBIG: too long). */
ssize_t sup_fs_read_small(int dfd, const char *name, char *buf, size_t cap);

/* The hashes text of a version, one line per entry in name order:
 *     D <mode> <path>              a directory
 *     F <mode> <blake2b-256> <path>  a regular file
 *     L <blake2b-256 of the target> <path>  a symbolic link
 * With dst_dfd >= 0 the tree at src_dfd is copied into dst_dfd (an empty
 * directory) on the way, every file and directory fsynced.  Other kinds of
 * files, names with a newline and trees deeper than 64 are refused (200).
 * Returns an IPCNet status; err says why. */
int sup_fs_hash_tree(int src_dfd, int dst_dfd, sup_buf *lines, char *err,
                     size_t errlen);
/* BLAKE2b-256 of data as 64 hex digits (out: 65 bytes). */
int sup_fs_hash_hex(const void *data, size_t len, char *out);

#endif
