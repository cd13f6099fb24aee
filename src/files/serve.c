/* SPDX-License-Identifier: MIT */
/*
 * serve.c — the provider's side of the file service, over a directory
 * descriptor and without a node (files.c connects it to one; the fuzz
 * harness calls it directly).
 *
 * Every request names a file; the name is checked (no "..", no absolute
 * name), then resolved beneath the directory with openat2(2)
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS as an O_PATH descriptor, which
 * opens nothing: only once fstat() says it is a regular file is it opened
 * for reading (through /proc/self/fd, the same inode), so a FIFO or a
 * device inside the directory is never opened.  Without openat2 (or with
 * IPCN_FILES_NO_SYMLINKS) the name is walked one component at a time with
 * O_NOFOLLOW and every symbolic link is refused.
 *
 * A file's "version" is a hash of its device, inode, size, modification
 * and change times: a requester names it in every read, and a file that
 * changed since (any write or truncation moves the change time, and no
 * caller can set it) is refused with 207 rather than served as a mix.
 * Chunk hashes are kept per version in a small cache, but only for files
 * whose change time was at least IPCN__FILES_SETTLE_NS old when they were
 * read: a write in the same clock tick as the last one would not move it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "files/files.h"
#include "ipcnet_value.h"
#include "util/util.h"

/* A file whose change time is this recent is not cached. */
#define IPCN__FILES_SETTLE_NS 2000000000ull
/* Chunk hashes the cache holds, all files together (8 MiB of hashes). */
#define CACHE_MAX_LEAVES ((uint64_t)1 << 18)
#define CACHE_ENTRIES 8

int ipcn__files_force_walk;
static int no_openat2; /* the kernel said ENOSYS once */

typedef struct cache_ent {
    uint64_t version;       /* 0: free */
    uint64_t nleaves, known;
    uint8_t *have;          /* nleaves flags */
    uint8_t *leaves;        /* nleaves * 32 bytes */
    bool root_ok;
    uint8_t root[IPCN_FILES_HASH_LEN];
    uint64_t size;
    uint64_t used;          /* LRU tick */
} cache_ent;

struct ipcn__files_srv {
    int dirfd;
    uint32_t flags;
    pthread_mutex_t lock;   /* the cache */
    cache_ent cache[CACHE_ENTRIES];
    uint64_t cached_leaves;
    uint64_t tick;
};

int ipcn__files_srv_new(int dirfd, uint32_t flags, ipcn__files_srv **out)
{
    ipcn__files_srv *s = ipcn__calloc(1, sizeof *s);
    if (!s)
        return IPCN_INSUFFICIENT_MEMORY;
    s->dirfd = dirfd;
    s->flags = flags;
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return IPCN_OK;
}

static void ent_clear(ipcn__files_srv *s, cache_ent *e)
{
    s->cached_leaves -= e->nleaves;
    ipcn__free(e->have);
    ipcn__free(e->leaves);
    memset(e, 0, sizeof *e);
}

void ipcn__files_srv_free(ipcn__files_srv *s)
{
    if (!s)
        return;
    for (int i = 0; i < CACHE_ENTRIES; i++)
        ent_clear(s, &s->cache[i]);
    pthread_mutex_destroy(&s->lock);
    if (s->dirfd >= 0)
        close(s->dirfd);
    ipcn__free(s);
}

/* ---- answers ---- */

void ipcn__files_out_free(ipcn__files_out *o)
{
    if (o->owned)
        ipcn__free(o->buf);
    o->buf = NULL;
    o->owned = false;
}

static void out_text(ipcn__files_out *o, int status, const char *why)
{
    o->status = status;
    o->buf = (uint8_t *)(uintptr_t)why;
    o->len = strlen(why);
    o->owned = false;
    o->encoding = "text/plain";
}

/* ---- the cache ---- */

static cache_ent *cache_find(ipcn__files_srv *s, uint64_t version)
{
    for (int i = 0; i < CACHE_ENTRIES; i++)
        if (s->cache[i].version == version) {
            s->cache[i].used = ++s->tick;
            return &s->cache[i];
        }
    return NULL;
}

/* Copy the hash of chunk i of version into out: true when known. */
static bool cache_get(ipcn__files_srv *s, uint64_t version, uint64_t i,
                      uint8_t *out)
{
    bool hit = false;
    pthread_mutex_lock(&s->lock);
    cache_ent *e = cache_find(s, version);
    if (e && i < e->nleaves && e->have[i]) {
        memcpy(out, e->leaves + i * IPCN_FILES_HASH_LEN, IPCN_FILES_HASH_LEN);
        hit = true;
    }
    pthread_mutex_unlock(&s->lock);
    return hit;
}

/* The content hash of version, when every chunk hash is known. */
static bool cache_root(ipcn__files_srv *s, uint64_t version, uint8_t *out)
{
    bool ok = false;
    pthread_mutex_lock(&s->lock);
    cache_ent *e = cache_find(s, version);
    if (e && e->root_ok) {
        memcpy(out, e->root, IPCN_FILES_HASH_LEN);
        ok = true;
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

static void cache_put(ipcn__files_srv *s, uint64_t version, uint64_t size,
                      uint64_t i, const uint8_t *leaf)
{
    uint64_t n = ipcn__files_nchunks(size, IPCN_FILES_CHUNK);
    if (n > CACHE_MAX_LEAVES || i >= n)
        return;
    pthread_mutex_lock(&s->lock);
    cache_ent *e = cache_find(s, version);
    if (!e) {
        /* Make room: the least recently used entries go. */
        while (s->cached_leaves + n > CACHE_MAX_LEAVES || !e) {
            cache_ent *lru = NULL;
            e = NULL;
            for (int k = 0; k < CACHE_ENTRIES; k++) {
                if (!s->cache[k].version && !e)
                    e = &s->cache[k];
                else if (s->cache[k].version &&
                         (!lru || s->cache[k].used < lru->used))
                    lru = &s->cache[k];
            }
            if (e && s->cached_leaves + n <= CACHE_MAX_LEAVES)
                break;
            ent_clear(s, lru); /* lru exists: the cache is not empty */
            e = NULL;
        }
        e->have = ipcn__calloc(n ? n : 1, 1);
        e->leaves = ipcn__malloc((n ? n : 1) * IPCN_FILES_HASH_LEN);
        if (!e->have || !e->leaves) {
            ipcn__free(e->have);
            ipcn__free(e->leaves);
            e->have = e->leaves = NULL;
            pthread_mutex_unlock(&s->lock);
            return;
        }
        e->version = version;
        e->nleaves = n;
        e->size = size;
        e->used = ++s->tick;
        s->cached_leaves += n;
    }
    if (!e->have[i]) {
        e->have[i] = 1;
        memcpy(e->leaves + i * IPCN_FILES_HASH_LEN, leaf, IPCN_FILES_HASH_LEN);
        if (++e->known == e->nleaves) {
            ipcn__files_root r;
            ipcn__files_root_init(&r, e->size, IPCN_FILES_CHUNK);
            for (uint64_t k = 0; k < e->nleaves; k++)
                ipcn__files_root_add(&r, e->leaves + k * IPCN_FILES_HASH_LEN);
            ipcn__files_root_final(&r, e->root);
            e->root_ok = true;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- resolving names ---- */

static int errno_status(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return IPCN_NOT_FOUND;
    case EXDEV:  /* openat2: the name leads out of the directory */
    case ELOOP:  /* a symbolic link where none may be, or a loop */
    case EACCES:
    case EPERM:
        return IPCN_FORBIDDEN;
    case ENAMETOOLONG:
        return IPCN_BAD_REQUEST;
    case ENOMEM:
        return IPCN_INSUFFICIENT_MEMORY;
    default:
        return IPCN_INTERNAL_ERROR;
    }
}

static const char *status_why(int st)
{
    switch (st) {
    case IPCN_NOT_FOUND: return "no such file";
    case IPCN_FORBIDDEN: return "the name leads out of the offered directory, "
                                "or to a file that may not be read";
    case IPCN_BAD_REQUEST: return "the name is too long";
    case IPCN_INSUFFICIENT_MEMORY: return "out of memory";
    default: return "cannot open the file";
    }
}

/* Open name (NUL-terminated, checked) beneath s->dirfd, one component at
 * a time, refusing symbolic links.  The last component is opened with
 * oflags | O_NOFOLLOW.  Returns 100 with *out, or a status. */
static int walk(const ipcn__files_srv *s, char *name, int oflags, int *out)
{
    int cur = s->dirfd;
    char *p = name;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = 0;
        int fd = openat(cur, p, (slash ? O_PATH | O_DIRECTORY : oflags) |
                                    O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        if (slash)
            *slash = '/';
        if (cur != s->dirfd)
            close(cur);
        if (fd < 0)
            /* O_DIRECTORY | O_NOFOLLOW on a symbolic link: ENOTDIR; say
             * 202 for it rather than "no such file". */
            return e == ENOTDIR && slash ? IPCN_FORBIDDEN : errno_status(e);
        if (!slash) {
            *out = fd;
            return IPCN_OK;
        }
        cur = fd;
        p = slash + 1;
    }
}

static int resolve(const ipcn__files_srv *s, char *name, int oflags, int *out)
{
    if (!(s->flags & IPCN_FILES_NO_SYMLINKS) && !ipcn__files_force_walk &&
        !__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
#ifdef SYS_openat2
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (uint64_t)(oflags | O_CLOEXEC);
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        int fd = (int)syscall(SYS_openat2, s->dirfd, name, &how, sizeof how);
        if (fd >= 0) {
            *out = fd;
            return IPCN_OK;
        }
        if (errno != ENOSYS)
            return errno_status(errno);
#endif
        __atomic_store_n(&no_openat2, 1, __ATOMIC_RELAXED);
    }
    return walk(s, name, oflags, out);
}

/* Open the regular file name[0..n) for reading; *sb is its fstat().
 * Returns 100, or a status with *why (no path in it). */
static int open_file(const ipcn__files_srv *s, const char *name, size_t n,
                     int *out, struct stat *sb, const char **why)
{
    int st = ipcn__files_name_check(name, n, why);
    if (st != IPCN_OK)
        return st;
    char path[IPCN__FILES_NAME_MAX + 1];
    memcpy(path, name, n);
    path[n] = 0;
    int pfd;
    if ((st = resolve(s, path, O_PATH, &pfd)) != IPCN_OK) {
        *why = status_why(st);
        return st;
    }
    if (fstat(pfd, sb) != 0 || !S_ISREG(sb->st_mode)) {
        close(pfd);
        *why = "not a regular file";
        return IPCN_FORBIDDEN;
    }
    /* Reopen the very inode for reading.  Without /proc, resolve the name
     * again, and make sure it is still the same file. */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", pfd);
    int fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT) {
        st = resolve(s, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, &fd);
        struct stat again;
        if (st == IPCN_OK && (fstat(fd, &again) != 0 ||
                              again.st_dev != sb->st_dev ||
                              again.st_ino != sb->st_ino)) {
            close(fd);
            close(pfd);
            *why = "the file changed while it was opened";
            return IPCN_CONFLICT;
        }
        if (st != IPCN_OK)
            fd = -1, errno = st == IPCN_FORBIDDEN ? EACCES : ENOENT;
    }
    int e = errno;
    close(pfd);
    if (fd < 0) {
        st = errno_status(e);
        *why = st == IPCN_FORBIDDEN ? "the file may not be read" : status_why(st);
        return st;
    }
    *out = fd;
    return IPCN_OK;
}

/* The version of a file: BLAKE2b of what moves when it changes, cut to 53
 * bits so that it survives a trip through JSON (a double) unchanged. */
static uint64_t file_version(const struct stat *sb)
{
    uint64_t f[6] = {(uint64_t)sb->st_dev, (uint64_t)sb->st_ino,
                     (uint64_t)sb->st_size,
                     (uint64_t)sb->st_mtim.tv_sec * 1000000000ull +
                         (uint64_t)sb->st_mtim.tv_nsec,
                     (uint64_t)sb->st_ctim.tv_sec * 1000000000ull +
                         (uint64_t)sb->st_ctim.tv_nsec,
                     IPCN_FILES_CHUNK};
    uint8_t h[8];
    crypto_generichash_blake2b(h, sizeof h, (const uint8_t *)f, sizeof f, NULL, 0);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)h[i] << (8 * i);
    v &= ((uint64_t)1 << 53) - 1;
    return v ? v : 1; /* 0 marks a free cache entry */
}

/* May chunk hashes read now be cached under this version? */
static bool settled(const struct stat *sb)
{
    uint64_t c = (uint64_t)sb->st_ctim.tv_sec * 1000000000ull +
                 (uint64_t)sb->st_ctim.tv_nsec;
    uint64_t now = ipcn__now_real_ns();
    return now > c && now - c >= IPCN__FILES_SETTLE_NS;
}

/* Read exactly n bytes at off: 100, 207 when the file ended first, 300. */
static int read_at(int fd, uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return IPCN_INTERNAL_ERROR;
        if (r == 0)
            return IPCN_CONFLICT; /* shorter than it was: it changed */
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return IPCN_OK;
}

/* Is the open file still the version the request named? */
static int same_version(int fd, uint64_t version)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return IPCN_INTERNAL_ERROR;
    return file_version(&sb) == version ? IPCN_OK : IPCN_CONFLICT;
}

static const char changed_why[] = "the file changed since its version was given";

/* ---- the three requests ---- */

static void serve_stat(ipcn__files_srv *s, int fd, const struct stat *sb,
                       ipcn__files_out *o)
{
    ipcn__files_stat st;
    memset(&st, 0, sizeof st);
    st.size = (uint64_t)sb->st_size;
    st.mtime_ns = (uint64_t)sb->st_mtim.tv_sec * 1000000000ull +
                  (uint64_t)sb->st_mtim.tv_nsec;
    st.version = file_version(sb);
    st.chunk = IPCN_FILES_CHUNK;
    st.max_read = IPCN__FILES_MAX_READ;
    if (cache_root(s, st.version, st.hash)) {
        st.has_hash = true;
    } else if (st.size <= IPCN__FILES_MAX_READ) {
        /* A small file is hashed whole: as cheap as one read. */
        uint8_t *buf = st.size ? ipcn__malloc((size_t)st.size) : NULL;
        if (st.size && !buf) {
            out_text(o, IPCN_INSUFFICIENT_MEMORY, "out of memory");
            return;
        }
        int rs = read_at(fd, buf, (size_t)st.size, 0);
        if (rs == IPCN_OK)
            rs = same_version(fd, st.version);
        if (rs != IPCN_OK) {
            ipcn__free(buf);
            out_text(o, rs, rs == IPCN_CONFLICT ? changed_why : "I/O error");
            return;
        }
        ipcn__files_root r;
        ipcn__files_root_init(&r, st.size, IPCN_FILES_CHUNK);
        bool keep = settled(sb);
        for (uint64_t off = 0; off < st.size; off += IPCN_FILES_CHUNK) {
            uint64_t n = st.size - off < IPCN_FILES_CHUNK ? st.size - off
                                                          : IPCN_FILES_CHUNK;
            uint8_t leaf[IPCN_FILES_HASH_LEN];
            ipcn__files_leaf(buf + off, (size_t)n, leaf);
            ipcn__files_root_add(&r, leaf);
            if (keep) /* the reads that follow need not hash again */
                cache_put(s, st.version, st.size, off / IPCN_FILES_CHUNK, leaf);
        }
        ipcn__files_root_final(&r, st.hash);
        st.has_hash = true;
        o->hashed_bytes += st.size;
        ipcn__free(buf);
    }
    uint8_t *buf = ipcn__malloc(256);
    size_t len = 0;
    if (!buf || ipcn__files_enc_stat(&st, buf, 256, &len) != IPCN_OK) {
        ipcn__free(buf);
        out_text(o, IPCN_INSUFFICIENT_MEMORY, "out of memory");
        return;
    }
    o->status = IPCN_OK;
    o->buf = buf;
    o->len = len;
    o->owned = true;
    o->encoding = "cbor";
}

static void serve_read(ipcn__files_srv *s, const ipcn__files_req *q, int fd,
                       const struct stat *sb, ipcn__files_out *o)
{
    uint64_t size = (uint64_t)sb->st_size;
    if (q->version != file_version(sb)) {
        out_text(o, IPCN_CONFLICT, changed_why);
        return;
    }
    if (q->off >= size || q->off % IPCN_FILES_CHUNK) {
        out_text(o, IPCN_BAD_REQUEST,
                 "\"off\" must be a multiple of the chunk size, before the end");
        return;
    }
    if (q->len == 0 || q->len > IPCN__FILES_MAX_READ ||
        (q->len % IPCN_FILES_CHUNK && q->off + q->len < size)) {
        out_text(o, IPCN_BAD_REQUEST,
                 "\"len\" must be whole chunks (or reach the end), at most max_read");
        return;
    }
    size_t n = (size_t)(size - q->off < q->len ? size - q->off : q->len);
    size_t k = (size_t)ipcn__files_nchunks(n, IPCN_FILES_CHUNK);
    size_t cap = n + k * IPCN_FILES_HASH_LEN + 32;
    uint8_t *buf = ipcn__malloc(cap);
    if (!buf) {
        out_text(o, IPCN_INSUFFICIENT_MEMORY, "out of memory");
        return;
    }
    ipcn_cbor_writer w;
    uint8_t *hashes, *data;
    size_t len = 0;
    ipcn_cbor_writer_init(&w, buf, cap, 0);
    ipcn_cbor_put_map(&w, 2);
    ipcn_cbor_put_cstr(&w, "hashes");
    ipcn_cbor_put_bytes_reserve(&w, k * IPCN_FILES_HASH_LEN, &hashes);
    size_t hashes_at = hashes ? (size_t)(hashes - buf) : 0;
    ipcn_cbor_put_cstr(&w, "data");
    ipcn_cbor_put_bytes_reserve(&w, n, &data);
    size_t data_at = data ? (size_t)(data - buf) : 0;
    if (ipcn_cbor_writer_finish(&w, &len) != IPCN_OK) {
        ipcn__free(buf);
        out_text(o, IPCN_INTERNAL_ERROR, "cannot encode the answer");
        return;
    }
    hashes = buf + hashes_at;
    data = buf + data_at;
    int rs = read_at(fd, data, n, q->off);
    if (rs == IPCN_OK)
        rs = same_version(fd, q->version);
    if (rs != IPCN_OK) {
        ipcn__free(buf);
        out_text(o, rs, rs == IPCN_CONFLICT ? changed_why : "I/O error");
        return;
    }
    bool keep = settled(sb);
    uint64_t first = q->off / IPCN_FILES_CHUNK;
    for (size_t i = 0; i < k; i++) {
        uint8_t *h = hashes + i * IPCN_FILES_HASH_LEN;
        if (cache_get(s, q->version, first + i, h))
            continue;
        size_t at = i * IPCN_FILES_CHUNK;
        size_t m = n - at < IPCN_FILES_CHUNK ? n - at : IPCN_FILES_CHUNK;
        ipcn__files_leaf(data + at, m, h);
        o->hashed_bytes += m;
        if (keep)
            cache_put(s, q->version, size, first + i, h);
    }
    o->data_bytes = n;
    o->status = IPCN_OK;
    o->buf = buf;
    o->len = len;
    o->owned = true;
    o->encoding = "cbor";
}

static void serve_hashes(ipcn__files_srv *s, const ipcn__files_req *q, int fd,
                         const struct stat *sb, ipcn__files_out *o)
{
    uint64_t size = (uint64_t)sb->st_size;
    uint64_t nl = ipcn__files_nchunks(size, IPCN_FILES_CHUNK);
    if (q->version != file_version(sb)) {
        out_text(o, IPCN_CONFLICT, changed_why);
        return;
    }
    if (q->first >= nl || q->count == 0 || q->count > IPCN__FILES_MAX_HASHES) {
        out_text(o, IPCN_BAD_REQUEST,
                 "\"first\" must name a chunk, \"count\" be 1..4096");
        return;
    }
    uint64_t count = nl - q->first < q->count ? nl - q->first : q->count;
    uint8_t *hs = ipcn__malloc((size_t)count * IPCN_FILES_HASH_LEN);
    uint8_t *chunk = NULL;
    if (!hs) {
        out_text(o, IPCN_INSUFFICIENT_MEMORY, "out of memory");
        return;
    }
    uint64_t done = 0, hashed = 0;
    bool keep = settled(sb);
    int rs = IPCN_OK;
    for (; done < count; done++) {
        uint64_t i = q->first + done;
        uint8_t *h = hs + done * IPCN_FILES_HASH_LEN;
        if (cache_get(s, q->version, i, h))
            continue;
        uint64_t off = i * IPCN_FILES_CHUNK;
        size_t m = (size_t)(size - off < IPCN_FILES_CHUNK ? size - off
                                                          : IPCN_FILES_CHUNK);
        if (done && hashed + m > IPCN__FILES_HASH_BUDGET)
            break; /* the rest in the next request */
        if (!chunk && !(chunk = ipcn__malloc(IPCN_FILES_CHUNK))) {
            rs = IPCN_INSUFFICIENT_MEMORY;
            break;
        }
        if ((rs = read_at(fd, chunk, m, off)) != IPCN_OK)
            break;
        ipcn__files_leaf(chunk, m, h);
        hashed += m;
        o->hashed_bytes += m;
        if (keep)
            cache_put(s, q->version, size, i, h);
    }
    ipcn__free(chunk);
    if (rs == IPCN_OK)
        rs = same_version(fd, q->version);
    size_t cap = (size_t)done * IPCN_FILES_HASH_LEN + 32, len = 0;
    uint8_t *buf = rs == IPCN_OK ? ipcn__malloc(cap) : NULL;
    if (rs == IPCN_OK && !buf)
        rs = IPCN_INSUFFICIENT_MEMORY;
    if (rs == IPCN_OK) {
        ipcn_cbor_writer w;
        ipcn_cbor_writer_init(&w, buf, cap, 0);
        ipcn_cbor_put_map(&w, 2);
        ipcn_cbor_put_cstr(&w, "first");
        ipcn_cbor_put_uint(&w, q->first);
        ipcn_cbor_put_cstr(&w, "hashes");
        ipcn_cbor_put_bytes(&w, hs, (size_t)done * IPCN_FILES_HASH_LEN);
        if (ipcn_cbor_writer_finish(&w, &len) != IPCN_OK)
            rs = IPCN_INTERNAL_ERROR;
    }
    ipcn__free(hs);
    if (rs != IPCN_OK) {
        ipcn__free(buf);
        out_text(o, rs, rs == IPCN_CONFLICT ? changed_why
                        : rs == IPCN_INSUFFICIENT_MEMORY ? "out of memory"
                                                         : "I/O error");
        return;
    }
    o->status = IPCN_OK;
    o->buf = buf;
    o->len = len;
    o->owned = true;
    o->encoding = "cbor";
}

void ipcn__files_serve(ipcn__files_srv *s, const char *encoding,
                       const void *req, size_t len, ipcn__files_out *o)
{
    memset(o, 0, sizeof *o);
    ipcn_encoding e;
    if (!encoding || ipcn_encoding_parse(encoding, &e) != IPCN_OK ||
        !ipcn_encoding_is(&e, "cbor")) {
        out_text(o, IPCN_BAD_REQUEST, "requests are CBOR maps (encoding cbor)");
        return;
    }
    if (ipcn__files_sodium_init() != IPCN_OK) {
        out_text(o, IPCN_INTERNAL_ERROR, "no hash function");
        return;
    }
    ipcn__files_req q;
    const char *why;
    if (ipcn__files_parse_req(req, len, &q, &why) != IPCN_OK) {
        out_text(o, IPCN_BAD_REQUEST, why);
        return;
    }
    int fd;
    struct stat sb;
    int st = open_file(s, q.name, q.name_len, &fd, &sb, &why);
    if (st != IPCN_OK) {
        out_text(o, st, why);
        return;
    }
    if ((uint64_t)sb.st_size > IPCN__FILES_MAX_SIZE) {
        close(fd);
        out_text(o, IPCN_FORBIDDEN, "the file is too large to be served");
        return;
    }
    switch (q.op) {
    case IPCN__FILES_STAT: serve_stat(s, fd, &sb, o); break;
    case IPCN__FILES_READ: serve_read(s, &q, fd, &sb, o); break;
    default: serve_hashes(s, &q, fd, &sb, o); break;
    }
    close(fd);
}
