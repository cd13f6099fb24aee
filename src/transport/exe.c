/* SPDX-License-Identifier: MIT */
/*
 * exe.c — the executable behind a peer: its path (/proc/<pid>/exe) and the
 * SHA-256 of its bytes, read once when a link starts.
 *
 * The bytes are read through an open of /proc/<pid>/exe, which leads to
 * the file the process maps, even when its path has since been replaced
 * or removed: the path is what the process was started as, the hash what
 * it runs.  Hashing a large binary (python3 is ~6 MB) costs milliseconds,
 * so the hashes are kept for the whole process, keyed by the file's
 * (st_dev, st_ino, st_size, st_mtim): a second link of the same binary
 * costs an fstat.  A file being executed cannot be written (ETXTBSY), so
 * the key holds as long as someone runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transport/link.h"

#define CACHE_SLOTS 64               /* binaries remembered, at most */
#define HASH_MAX (256ull << 20)      /* larger executables are not hashed */
#define CHUNK (128u << 10)

typedef struct exe_slot {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim;
    uint64_t used;                   /* 0: empty; else a use stamp (LRU) */
    uint8_t sha[32];
} exe_slot;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static exe_slot cache[CACHE_SLOTS];
static uint64_t cache_clock;
static uint64_t hashes_done;         /* files hashed (cache misses) */
static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static bool sodium_ok;

static void sodium_do_init(void) { sodium_ok = sodium_init() >= 0; }

static bool same_key(const exe_slot *s, const struct stat *st)
{
    return s->used && s->dev == st->st_dev && s->ino == st->st_ino &&
           s->size == st->st_size && s->mtim.tv_sec == st->st_mtim.tv_sec &&
           s->mtim.tv_nsec == st->st_mtim.tv_nsec;
}

static bool cache_get(const struct stat *st, uint8_t sha[32])
{
    bool hit = false;
    pthread_mutex_lock(&cache_lock);
    for (unsigned i = 0; i < CACHE_SLOTS && !hit; i++) {
        if (same_key(&cache[i], st)) {
            memcpy(sha, cache[i].sha, 32);
            cache[i].used = ++cache_clock;
            hit = true;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

static void cache_put(const struct stat *st, const uint8_t sha[32])
{
    pthread_mutex_lock(&cache_lock);
    hashes_done++;
    exe_slot *victim = &cache[0];
    for (unsigned i = 0; i < CACHE_SLOTS; i++) {
        if (same_key(&cache[i], st)) { /* hashed meanwhile by another thread */
            victim = &cache[i];
            break;
        }
        if (cache[i].used < victim->used)
            victim = &cache[i];
    }
    *victim = (exe_slot){.dev = st->st_dev, .ino = st->st_ino,
                         .size = st->st_size, .mtim = st->st_mtim,
                         .used = ++cache_clock};
    memcpy(victim->sha, sha, 32);
    pthread_mutex_unlock(&cache_lock);
}

/* The SHA-256 of the whole file fd (of size bytes), read with pread. */
static bool hash_fd(int fd, off_t size, uint8_t sha[32])
{
    pthread_once(&sodium_once, sodium_do_init);
    uint8_t *buf = ipcn__malloc(CHUNK);
    if (!sodium_ok || !buf) {
        ipcn__free(buf);
        return false;
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    off_t at = 0;
    bool ok = true;
    while (ok && at < size) {
        ssize_t r = pread(fd, buf, CHUNK, at);
        if (r < 0 && errno == EINTR)
            continue;
        ok = r > 0;
        if (ok) {
            crypto_hash_sha256_update(&h, buf, (unsigned long long)r);
            at += r;
        }
    }
    /* The size was the key: a file that grew or shrank meanwhile is not
     * the one it names. */
    uint8_t extra;
    ok = ok && pread(fd, &extra, 1, at) == 0;
    crypto_hash_sha256_final(&h, sha);
    ipcn__free(buf);
    return ok;
}

uint64_t ipcn__exe_hashes_done(void)
{
    pthread_mutex_lock(&cache_lock);
    uint64_t n = hashes_done;
    pthread_mutex_unlock(&cache_lock);
    return n;
}

void ipcn__exe_cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    memset(cache, 0, sizeof cache);
    pthread_mutex_unlock(&cache_lock);
}

bool ipcn__exe_identify(int32_t pid, char **path, uint8_t sha[32])
{
    *path = NULL;
    if (pid <= 0)
        return false;
    char proc[48], target[PATH_MAX];
    snprintf(proc, sizeof proc, "/proc/%d/exe", (int)pid);
    /* Another user's process (without CAP_SYS_PTRACE), a kernel thread,
     * no /proc: unknown, which rules that need it answer with 201. */
    ssize_t k = readlink(proc, target, sizeof target - 1);
    if (k <= 0)
        return false;
    target[k] = 0;
    *path = ipcn__strdup(target);
    int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return false;
    struct stat st;
    bool hashed = false;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (cache_get(&st, sha)) {
            hashed = true;
        } else if ((unsigned long long)st.st_size > HASH_MAX) {
            static bool logged;
            if (!__atomic_exchange_n(&logged, true, __ATOMIC_RELAXED))
                ipcn__warn("IPCN-LINK-EXEBIG", "%s is over %llu MiB: the "
                           "executables that large are not hashed", target,
                           HASH_MAX >> 20);
        } else if (hash_fd(fd, st.st_size, sha)) {
            cache_put(&st, sha);
            hashed = true;
        }
    }
    close(fd);
    return hashed;
}
