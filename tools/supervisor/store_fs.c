/* SPDX-License-Identifier: MIT */
/*
 * store_fs.c — the durable steps of the versions store (store_fs.h): every
 * change is a write or a rename followed by fsync, and each counts as one
 * step for the crash points of the kill test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipcnet.h"
#include "store_fs.h"

#define MAX_DEPTH 64

void sup_buf_add(sup_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void sup_buf_printf(sup_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        sup_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sup_buf_add(b, big, (size_t)n);
    free(big);
}

void sup_buf_free(sup_buf *b)
{
    free(b->p);
    *b = (sup_buf){0};
}

/* ---- crash points ---- */

void sup_fs_step(void)
{
    static char armed[32];
    static long target, steps;
    const char *v = getenv("IPCNET_SUP_CRASHPOINT");
    if (!v || !*v) {
        armed[0] = 0;
        return;
    }
    if (strcmp(v, armed) != 0) {
        snprintf(armed, sizeof armed, "%s", v);
        char *end;
        target = strtol(v, &end, 10);
        if (*end || target < 1)
            target = 0;
        steps = 0;
    }
    if (target && ++steps == target) {
        kill(getpid(), SIGKILL);
        for (;;)
            pause();
    }
}

/* ---- durable steps ---- */

int sup_fs_sync_dir(int dfd)
{
    if (fsync(dfd) < 0)
        return -1;
    sup_fs_step();
    return 0;
}

static int tmp_name(char *out, size_t cap, const char *name)
{
    if ((size_t)snprintf(out, cap, "%s.tmp", name) >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

int sup_fs_write_atomic(int dfd, const char *name, const void *data, size_t len)
{
    char tmp[256];
    if (tmp_name(tmp, sizeof tmp, name) < 0)
        return -1;
    if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT)
        return -1;
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlinkat(dfd, tmp, 0);
        errno = e;
        return -1;
    }
    close(fd);
    sup_fs_step();
    if (renameat(dfd, tmp, dfd, name) < 0)
        return -1;
    sup_fs_step();
    return sup_fs_sync_dir(dfd);
}

int sup_fs_symlink_atomic(int dfd, const char *name, const char *target)
{
    char tmp[256];
    if (tmp_name(tmp, sizeof tmp, name) < 0)
        return -1;
    if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT)
        return -1;
    if (symlinkat(target, dfd, tmp) < 0)
        return -1;
    sup_fs_step();
    if (renameat(dfd, tmp, dfd, name) < 0)
        return -1;
    sup_fs_step();
    return sup_fs_sync_dir(dfd);
}

int sup_fs_rename(int from_dfd, const char *from, int to_dfd, const char *to)
{
    if (renameat(from_dfd, from, to_dfd, to) < 0)
        return -1;
    sup_fs_step();
    if (sup_fs_sync_dir(to_dfd) < 0)
        return -1;
    return from_dfd == to_dfd ? 0 : sup_fs_sync_dir(from_dfd);
}

int sup_fs_unlink(int dfd, const char *name)
{
    if (unlinkat(dfd, name, 0) < 0)
        return errno == ENOENT ? 0 : -1;
    sup_fs_step();
    return sup_fs_sync_dir(dfd);
}

static int remove_in(int dfd, const char *name, int depth)
{
    if (unlinkat(dfd, name, 0) == 0) {
        sup_fs_step();
        return 0;
    }
    if (errno == ENOENT)
        return 0;
    if ((errno != EISDIR && errno != EPERM) || depth > MAX_DEPTH)
        return -1;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* a copy of a read-only directory: its entries cannot go without this */
    if (fchmod(fd, 0700) < 0) {
        close(fd);
        return -1;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        rc = remove_in(dirfd(d), e->d_name, depth + 1);
        if (rc == 0)
            rewinddir(d);   /* the listing changed under us */
    }
    closedir(d);
    if (rc < 0)
        return -1;
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
        return errno == ENOENT ? 0 : -1;
    sup_fs_step();
    return 0;
}

int sup_fs_remove_tree(int dfd, const char *name)
{
    if (remove_in(dfd, name, 0) < 0)
        return -1;
    return sup_fs_sync_dir(dfd);
}

ssize_t sup_fs_read_small(int dfd, const char *name, char *buf, size_t cap)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        if (len + 1 >= cap) {
            close(fd);
            errno = EFBIG;
            return -1;
        }
        ssize_t k = read(fd, buf + len, cap - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = 0;
    return (ssize_t)len;
}

/* ---- hashes, and the copy of a version ---- */

static void hex32(const unsigned char *h, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = d[h[i] >> 4];
        out[2 * i + 1] = d[h[i] & 15];
    }
    out[64] = 0;
}

int sup_fs_hash_hex(const void *data, size_t len, char *out)
{
    unsigned char h[32];
    if (sodium_init() < 0)
        return -1;
    crypto_generichash(h, sizeof h, data, len, NULL, 0);
    hex32(h, out);
    return 0;
}

static int io_status(void)
{
    return errno == ENOSPC || errno == EDQUOT ? IPCN_INSUFFICIENT_STORAGE
           : errno == ENOMEM                  ? IPCN_INSUFFICIENT_MEMORY
                                              : IPCN_INTERNAL_ERROR;
}

static int fail(char *err, size_t errlen, int st, const char *path, const char *what)
{
    snprintf(err, errlen, "%s: %s", path[0] ? path : ".", what);
    return st;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory open at dfd, sorted; NULL-terminated. */
static char **list_dir(int dfd, size_t *n)
{
    int fd = dup(dfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    rewinddir(d);
    size_t cap = 16, len = 0;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (len + 1 >= cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) {
                for (size_t i = 0; i < len; i++)
                    free(v[i]);
                free(v);
                v = NULL;
                break;
            }
            v = nv;
        }
        if (!(v[len] = strdup(e->d_name)))
            break;
        len++;
    }
    closedir(d);
    if (!v)
        return NULL;
    v[len] = NULL;
    qsort(v, len, sizeof *v, by_name);
    *n = len;
    return v;
}

static void free_list(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* One regular file: hash it (and copy it into dst_dfd). */
static int hash_file(int src_dfd, int dst_dfd, const char *name, mode_t mode,
                     const char *path, sup_buf *lines, char *err, size_t errlen)
{
    int in = openat(src_dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return fail(err, errlen, io_status(), path, strerror(errno));
    int out = -1;
    if (dst_dfd >= 0 &&
        (out = openat(dst_dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        close(in);
        return fail(err, errlen, io_status(), path, strerror(errno));
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    char buf[65536];
    int rc = IPCN_OK;
    for (;;) {
        ssize_t k = read(in, buf, sizeof buf);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = fail(err, errlen, io_status(), path, strerror(errno));
            break;
        }
        if (k == 0)
            break;
        crypto_generichash_update(&st, (unsigned char *)buf, (size_t)k);
        if (out >= 0 && write_all(out, buf, (size_t)k) < 0) {
            rc = fail(err, errlen, io_status(), path, strerror(errno));
            break;
        }
    }
    close(in);
    if (out >= 0) {
        if (rc == IPCN_OK && (fchmod(out, mode) < 0 || fsync(out) < 0))
            rc = fail(err, errlen, io_status(), path, strerror(errno));
        close(out);
        if (rc == IPCN_OK)
            sup_fs_step();
    }
    if (rc != IPCN_OK)
        return rc;
    unsigned char h[32];
    char hex[65];
    crypto_generichash_final(&st, h, sizeof h);
    hex32(h, hex);
    sup_buf_printf(lines, "F %04o %s %s\n", (unsigned)mode, hex, path);
    return IPCN_OK;
}

static int walk(int src_dfd, int dst_dfd, const char *prefix, int depth,
                sup_buf *lines, char *err, size_t errlen);

static int hash_dir(int src_dfd, int dst_dfd, const char *name, mode_t mode,
                    const char *path, int depth, sup_buf *lines, char *err,
                    size_t errlen)
{
    if (depth >= MAX_DEPTH)
        return fail(err, errlen, IPCN_BAD_REQUEST, path, "deeper than 64 directories");
    sup_buf_printf(lines, "D %04o %s\n", (unsigned)mode, path);
    int in = openat(src_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return fail(err, errlen, io_status(), path, strerror(errno));
    int out = -1;
    if (dst_dfd >= 0) {
        if (mkdirat(dst_dfd, name, 0700) < 0 ||
            (out = openat(dst_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                             O_CLOEXEC)) < 0) {
            close(in);
            return fail(err, errlen, io_status(), path, strerror(errno));
        }
        sup_fs_step();
    }
    char sub[4096];
    if ((size_t)snprintf(sub, sizeof sub, "%s/", path) >= sizeof sub) {
        close(in);
        if (out >= 0)
            close(out);
        return fail(err, errlen, IPCN_BAD_REQUEST, path, "a path longer than 4095 bytes");
    }
    int rc = walk(in, out, sub, depth + 1, lines, err, errlen);
    close(in);
    if (out >= 0) {
        /* Its mode last: a directory without write permission is filled first. */
        if (rc == IPCN_OK && (fchmod(out, mode) < 0 || sup_fs_sync_dir(out) < 0))
            rc = fail(err, errlen, io_status(), path, strerror(errno));
        close(out);
    }
    return rc;
}

static int walk(int src_dfd, int dst_dfd, const char *prefix, int depth,
                sup_buf *lines, char *err, size_t errlen)
{
    size_t n = 0;
    char **names = list_dir(src_dfd, &n);
    if (!names)
        return fail(err, errlen, io_status(), prefix, strerror(errno ? errno : ENOMEM));
    int rc = IPCN_OK;
    for (size_t i = 0; rc == IPCN_OK && i < n; i++) {
        const char *name = names[i];
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s%s", prefix, name) >= sizeof path) {
            rc = fail(err, errlen, IPCN_BAD_REQUEST, prefix, "a path longer than 4095 bytes");
            break;
        }
        if (strchr(name, '\n')) {
            rc = fail(err, errlen, IPCN_BAD_REQUEST, prefix, "a file name with a newline");
            break;
        }
        struct stat st;
        if (fstatat(src_dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = fail(err, errlen, io_status(), path, strerror(errno));
            break;
        }
        mode_t mode = st.st_mode & 0777;
        if (S_ISREG(st.st_mode)) {
            rc = hash_file(src_dfd, dst_dfd, name, mode, path, lines, err, errlen);
        } else if (S_ISDIR(st.st_mode)) {
            rc = hash_dir(src_dfd, dst_dfd, name, mode, path, depth, lines, err, errlen);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096], hex[65];
            ssize_t k = readlinkat(src_dfd, name, target, sizeof target - 1);
            if (k < 0) {
                rc = fail(err, errlen, io_status(), path, strerror(errno));
                break;
            }
            target[k] = 0;
            if (dst_dfd >= 0) {
                if (symlinkat(target, dst_dfd, name) < 0) {
                    rc = fail(err, errlen, io_status(), path, strerror(errno));
                    break;
                }
                sup_fs_step();
            }
            sup_fs_hash_hex(target, (size_t)k, hex);
            sup_buf_printf(lines, "L %s %s\n", hex, path);
        } else {
            rc = fail(err, errlen, IPCN_BAD_REQUEST, path,
                      "not a regular file, a directory or a symbolic link");
        }
    }
    free_list(names);
    if (rc == IPCN_OK && lines->oom)
        rc = fail(err, errlen, IPCN_INSUFFICIENT_MEMORY, prefix, "out of memory");
    return rc;
}

int sup_fs_hash_tree(int src_dfd, int dst_dfd, sup_buf *lines, char *err,
                     size_t errlen)
{
    if (sodium_init() < 0)
        return fail(err, errlen, IPCN_INTERNAL_ERROR, "", "libsodium did not start");
    int rc = walk(src_dfd, dst_dfd, "", 0, lines, err, errlen);
    if (rc == IPCN_OK && dst_dfd >= 0 && sup_fs_sync_dir(dst_dfd) < 0)
        rc = fail(err, errlen, io_status(), "", strerror(errno));
    return rc;
}
