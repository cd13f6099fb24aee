/* SPDX-License-Identifier: MIT */
/*
 * client.c — fetching a file: ipcn_files_get().
 *
 *  1. stat: the file's size, version, chunk size (and content hash when
 *     the provider knows it), from the longest matching file service.
 *  2. resume: the chunks of an existing DEST.part are hashed here and
 *     compared with the provider's chunk hashes ("hashes" requests); the
 *     longest matching prefix is kept, the rest cut off.
 *  3. read: the rest in pieces of read_size bytes, several requests in
 *     flight, each piece's chunks hashed and compared with the provider's
 *     hashes before they are written (pwrite) at their place.
 *  4. stat again: the version must not have moved; the content hash is
 *     computed from the chunk hashes and, when the provider gives its own,
 *     compared; then DEST.part becomes DEST (rename).
 *
 * Requests in flight are synchronous ipcn_request() calls on worker
 * threads (one request each): they need no dispatch, run no callback of
 * the node, and hash what they received while the others wait — so the
 * requester's hashing runs beside the provider's.  Only verified bytes are
 * ever written, so an interruption (kill -9 included) leaves a DEST.part
 * whose chunks are each right or absent (pieces may complete out of
 * order: a hole reads as zeros and fails its check on resume).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files/files.h"
#include "node/node.h"
#include "util/util.h"

#define MAX_INFLIGHT 16
#define DEFAULT_INFLIGHT 4
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_CANDIDATES 8
/* The most chunks of one fetch (4 TiB of 1 MiB chunks): their hashes are
 * kept in memory. */
#define MAX_LEAVES ((uint64_t)1 << 22)
/* Chunks whose hashes one resume request asks for. */
#define VERIFY_BATCH 64u

IPCN_API void ipcn_files_get_opts_init(ipcn_files_get_opts *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->size = sizeof *opts;
    opts->timeout_ms = DEFAULT_TIMEOUT_MS;
    opts->inflight = DEFAULT_INFLIGHT;
}

typedef struct piece {
    uint64_t off, len;
} piece;

typedef struct fetch {
    ipcn_node *node;
    const char *svc;        /* the service path */
    const char *name;       /* the name at the provider */
    size_t name_len;
    int timeout_ms;
    ipcn__files_stat st;
    uint64_t nleaves;
    uint8_t *leaves;        /* nleaves chunk hashes, as verified here */
    int fd;                 /* DEST.part */
    ipcn_files_progress_fn progress;
    void *user;
    bool on_caller;         /* the only worker runs on the caller's thread */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* One pwrite at a time: concurrent buffered writes to one file contend
     * on its inode lock in the kernel, whose waiters spin (measured: 4
     * writers of 4 MiB pieces could cost 2x the CPU of one). */
    pthread_mutex_t write_lock;
    int status;             /* the first failure; 100 while none */
    bool stop;
    int running;            /* workers */
    bool news;              /* progress to report */
    /* resume */
    uint64_t vnext, vend;   /* next chunk to verify, end */
    uint64_t vbad;          /* the first chunk found wrong (vend: none) */
    /* read */
    uint64_t fnext;         /* where the next piece starts */
    uint64_t read_size;
    piece retry[2 * MAX_INFLIGHT + 64];
    unsigned nretry;
    uint64_t done;          /* verified bytes in DEST.part */
    uint64_t fetched;
    uint32_t requests;
} fetch;

/* Record the first failure and stop every worker. */
static void fail(fetch *f, int status)
{
    pthread_mutex_lock(&f->lock);
    if (f->status == IPCN_OK)
        f->status = status;
    f->stop = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static int local_errno_status(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return IPCN_INSUFFICIENT_STORAGE;
    case ENOMEM:
        return IPCN_INSUFFICIENT_MEMORY;
    default:
        return IPCN_INTERNAL_ERROR;
    }
}

/* Call the progress callback (on the caller's thread only). */
static void report(fetch *f)
{
    if (!f->progress)
        return;
    pthread_mutex_lock(&f->lock);
    uint64_t done = f->done, fetched = f->fetched;
    pthread_mutex_unlock(&f->lock);
    if (f->progress(done, f->st.size, fetched, f->user) != 0) {
        pthread_mutex_lock(&f->lock);
        if (f->status == IPCN_OK)
            f->status = IPCN_PARTIAL_DATA;
        f->stop = true;
        pthread_mutex_unlock(&f->lock);
    }
}

static void notify(fetch *f)
{
    if (f->on_caller) {
        report(f);
        return;
    }
    pthread_mutex_lock(&f->lock);
    f->news = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

/* One request to the service; *out the answer (free with ipcn_msg_free)
 * on 100.  A failure's status is returned, the answer dropped. */
static int call(fetch *f, const uint8_t *req, size_t len, ipcn_msg **out)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(f->node, f->svc, req, len, "cbor", &m, f->timeout_ms);
    pthread_mutex_lock(&f->lock);
    f->requests++;
    pthread_mutex_unlock(&f->lock);
    if (st != IPCN_OK) {
        ipcn_msg_free(m);
        return st == IPCN_ACCEPTED || IPCN_IS_OK(st) ? IPCN_BAD_GATEWAY : st;
    }
    *out = m;
    return IPCN_OK;
}

/* Read exactly n bytes at off of DEST.part; false when it is shorter. */
static bool local_read(int fd, uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return true;
}

static int local_write(int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return local_errno_status(errno);
        if (w == 0)
            return IPCN_INSUFFICIENT_STORAGE;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return IPCN_OK;
}

static uint64_t chunk_len(const fetch *f, uint64_t i)
{
    uint64_t off = i * f->st.chunk;
    return f->st.size - off < f->st.chunk ? f->st.size - off : f->st.chunk;
}

/* ---- resume: check DEST.part's chunks ---- */

static void verify_batch(fetch *f, uint64_t first, uint64_t end, uint8_t *buf)
{
    uint8_t req[IPCN__FILES_NAME_MAX + 96];
    while (first < end) {
        pthread_mutex_lock(&f->lock);
        bool skip = f->stop || first >= f->vbad;
        pthread_mutex_unlock(&f->lock);
        if (skip)
            return;
        size_t len = 0;
        ipcn__files_enc_hashes_req(f->name, f->name_len, f->st.version, first,
                                   end - first, req, sizeof req, &len);
        ipcn_msg *m = NULL;
        int st = call(f, req, len, &m);
        if (st != IPCN_OK) {
            fail(f, st);
            return;
        }
        uint64_t got_first;
        const uint8_t *hs;
        size_t hlen;
        if (ipcn__files_parse_hashes(m->data, m->len, &got_first, &hs,
                                     &hlen) != IPCN_OK ||
            got_first != first || hlen / IPCN_FILES_HASH_LEN > end - first) {
            ipcn_msg_free(m);
            fail(f, IPCN_BAD_GATEWAY);
            return;
        }
        uint64_t k = hlen / IPCN_FILES_HASH_LEN;
        for (uint64_t i = first; i < first + k; i++) {
            uint64_t n = chunk_len(f, i);
            uint8_t h[IPCN_FILES_HASH_LEN];
            bool ok = local_read(f->fd, buf, (size_t)n, i * f->st.chunk);
            if (ok) {
                ipcn__files_leaf(buf, (size_t)n, h);
                ok = !memcmp(h, hs + (i - first) * IPCN_FILES_HASH_LEN, sizeof h);
            }
            if (!ok) {
                pthread_mutex_lock(&f->lock);
                if (i < f->vbad)
                    f->vbad = i;
                pthread_mutex_unlock(&f->lock);
                ipcn_msg_free(m);
                return;
            }
            memcpy(f->leaves + i * IPCN_FILES_HASH_LEN, h, sizeof h);
        }
        ipcn_msg_free(m);
        first += k;
    }
}

static void *verify_worker(void *arg)
{
    fetch *f = arg;
    uint8_t *buf = ipcn__malloc(f->st.chunk);
    if (!buf) {
        fail(f, IPCN_INSUFFICIENT_MEMORY);
    } else {
        for (;;) {
            pthread_mutex_lock(&f->lock);
            uint64_t first = f->vnext;
            bool stop = f->stop || first >= f->vend || first >= f->vbad;
            uint64_t end = first + VERIFY_BATCH < f->vend ? first + VERIFY_BATCH
                                                          : f->vend;
            if (!stop)
                f->vnext = end;
            pthread_mutex_unlock(&f->lock);
            if (stop)
                break;
            verify_batch(f, first, end, buf);
        }
    }
    ipcn__free(buf);
    pthread_mutex_lock(&f->lock);
    f->running--;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* ---- read: fetch the rest ---- */

/* Fetch one piece; false when the fetch must stop. */
static bool fetch_piece(fetch *f, piece p)
{
    uint8_t req[IPCN__FILES_NAME_MAX + 96];
    size_t len = 0;
    ipcn__files_enc_read_req(f->name, f->name_len, f->st.version, p.off, p.len,
                             req, sizeof req, &len);
    ipcn_msg *m = NULL;
    int st = call(f, req, len, &m);
    if (st == IPCN_INSUFFICIENT_STORAGE && p.len > f->st.chunk) {
        /* The answer does not fit a frame of this link: halve the pieces
         * (whole chunks) and try again. */
        uint64_t half = (p.len / 2 + f->st.chunk - 1) / f->st.chunk * f->st.chunk;
        pthread_mutex_lock(&f->lock);
        if (f->read_size > half)
            f->read_size = half;
        bool room = f->nretry + 2 <= IPCN__ARRAY_SIZE(f->retry);
        if (room) {
            f->retry[f->nretry++] = (piece){p.off, half};
            f->retry[f->nretry++] = (piece){p.off + half, p.len - half};
        }
        pthread_mutex_unlock(&f->lock);
        if (!room)
            fail(f, st);
        return room;
    }
    if (st != IPCN_OK) {
        fail(f, st);
        return false;
    }
    const uint8_t *data, *hs;
    size_t dlen, hlen;
    uint64_t want = f->st.size - p.off < p.len ? f->st.size - p.off : p.len;
    uint64_t first = p.off / f->st.chunk;
    uint64_t k = ipcn__files_nchunks(want, f->st.chunk);
    if (ipcn__files_parse_read(m->data, m->len, &data, &dlen, &hs, &hlen) !=
            IPCN_OK ||
        dlen != want || hlen != k * IPCN_FILES_HASH_LEN) {
        ipcn_msg_free(m);
        fail(f, IPCN_BAD_GATEWAY);
        return false;
    }
    for (uint64_t i = 0; i < k; i++) {
        uint64_t at = i * f->st.chunk;
        uint64_t n = dlen - at < f->st.chunk ? dlen - at : f->st.chunk;
        uint8_t *h = f->leaves + (first + i) * IPCN_FILES_HASH_LEN;
        ipcn__files_leaf(data + at, (size_t)n, h);
        if (memcmp(h, hs + i * IPCN_FILES_HASH_LEN, IPCN_FILES_HASH_LEN) != 0) {
            ipcn_msg_free(m);
            fail(f, IPCN_BAD_GATEWAY); /* not what the provider hashed */
            return false;
        }
    }
    pthread_mutex_lock(&f->write_lock);
    st = local_write(f->fd, data, dlen, p.off);
    pthread_mutex_unlock(&f->write_lock);
    ipcn_msg_free(m);
    if (st != IPCN_OK) {
        fail(f, st);
        return false;
    }
    pthread_mutex_lock(&f->lock);
    f->done += dlen;
    f->fetched += dlen;
    pthread_mutex_unlock(&f->lock);
    notify(f);
    return true;
}

static void *read_worker(void *arg)
{
    fetch *f = arg;
    for (;;) {
        piece p = {0, 0};
        pthread_mutex_lock(&f->lock);
        if (!f->stop) {
            if (f->nretry) {
                p = f->retry[--f->nretry];
            } else if (f->fnext < f->st.size) {
                p.off = f->fnext;
                p.len = f->read_size;
                f->fnext += p.len;
            }
        }
        pthread_mutex_unlock(&f->lock);
        if (!p.len || !fetch_piece(f, p))
            break;
    }
    pthread_mutex_lock(&f->lock);
    f->running--;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* Run fn on n workers (the caller's thread alone when n is 1), reporting
 * progress on the caller's thread meanwhile.  Returns the fetch's status. */
static int run_workers(fetch *f, void *(*fn)(void *), unsigned n)
{
    pthread_t th[MAX_INFLIGHT];
    unsigned started = 0;
    f->running = (int)n;
    if (n == 1) {
        f->on_caller = true;
        fn(f);
        f->on_caller = false;
    } else {
        for (; started < n; started++)
            if (pthread_create(&th[started], NULL, fn, f) != 0)
                break;
        pthread_mutex_lock(&f->lock);
        f->running -= (int)(n - started);
        if (!started && f->status == IPCN_OK)
            f->status = IPCN_INTERNAL_ERROR;
        while (f->running > 0) {
            if (f->news) {
                f->news = false;
                pthread_mutex_unlock(&f->lock);
                report(f);
                pthread_mutex_lock(&f->lock);
                continue;
            }
            pthread_cond_wait(&f->cond, &f->lock);
        }
        pthread_mutex_unlock(&f->lock);
        for (unsigned i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        if (f->news) {
            f->news = false;
            report(f);
        }
    }
    return f->status;
}

/* ---- finding the service ---- */

typedef struct candidate {
    char path[IPCN_PATH_MAX + 2]; /* "/" and the service's path: absolute,
                                     as found (namespace and remap done) */
    size_t len;                   /* of the service's path */
} candidate;

/* The file services whose path is a prefix of path (at a '/'), longest
 * first.  Returns how many. */
static int candidates(ipcn_node *n, const char *path, candidate *out, int max)
{
    ipcn_resource_list *rl = NULL;
    if (ipcn_find(n, "/**", IPCN_SERVICE, &rl) != IPCN_OK)
        return 0;
    int k = 0;
    for (size_t i = 0; i < rl->count; i++) {
        const ipcn_resource *r = &rl->items[i];
        size_t len = strlen(r->path);
        if (len > IPCN_PATH_MAX || strncmp(path, r->path, len) != 0 ||
            path[len] != '/' || !path[len + 1] ||
            !ipcn__files_is_meta(r->meta, r->meta_len))
            continue;
        bool dup = false;
        for (int j = 0; j < k; j++)
            dup |= !strcmp(out[j].path + 1, r->path);
        if (dup || k == max)
            continue;
        out[k].path[0] = '/';
        memcpy(out[k].path + 1, r->path, len + 1);
        out[k++].len = len;
    }
    ipcn_resource_list_free(rl);
    for (int i = 1; i < k; i++) /* longest first */
        for (int j = i; j > 0 && out[j].len > out[j - 1].len; j--) {
            candidate t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return k;
}

/* stat name at the service: 100 with *st and the provider's name. */
static int do_stat(fetch *f, ipcn__files_stat *st, char *provider, size_t cap)
{
    uint8_t req[IPCN__FILES_NAME_MAX + 32];
    size_t len = 0;
    if (ipcn__files_enc_stat_req(f->name, f->name_len, req, sizeof req, &len) !=
        IPCN_OK)
        return IPCN_BAD_REQUEST;
    ipcn_msg *m = NULL;
    int rc = call(f, req, len, &m);
    if (rc != IPCN_OK)
        return rc;
    rc = ipcn__files_parse_stat(m->data, m->len, st) == IPCN_OK ? IPCN_OK
                                                              : IPCN_BAD_GATEWAY;
    if (rc == IPCN_OK && !st->alg_ok)
        rc = IPCN_NOT_IMPLEMENTED;
    if (provider)
        snprintf(provider, cap, "%s", m->src_name ? m->src_name : "");
    ipcn_msg_free(m);
    return rc;
}

/* ---- ipcn_files_get ---- */

static int open_part(const char *part, int *out)
{
    int fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                  0666);
    if (fd < 0)
        return local_errno_status(errno);
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return IPCN_INTERNAL_ERROR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? IPCN_CONFLICT : IPCN_INTERNAL_ERROR;
    }
    *out = fd;
    return IPCN_OK;
}

/* The fetch proper, once the service answered stat and DEST.part is open
 * and locked. */
static int transfer(fetch *f, const ipcn_files_get_opts *o, ipcn_files_result *res)
{
    const ipcn__files_stat *st = &f->st;
    f->nleaves = ipcn__files_nchunks(st->size, st->chunk);
    if (f->nleaves > MAX_LEAVES)
        return IPCN_NOT_IMPLEMENTED;
    f->leaves = ipcn__malloc((size_t)(f->nleaves ? f->nleaves : 1) *
                             IPCN_FILES_HASH_LEN);
    if (!f->leaves)
        return IPCN_INSUFFICIENT_MEMORY;
    unsigned k = o->inflight ? o->inflight : DEFAULT_INFLIGHT;
    if (k > MAX_INFLIGHT)
        k = MAX_INFLIGHT;

    /* Resume: which chunks of DEST.part are right? */
    struct stat sb;
    if (fstat(f->fd, &sb) != 0)
        return local_errno_status(errno);
    uint64_t have = (uint64_t)sb.st_size, keep = 0;
    if (o->flags & IPCN_FILES_GET_NO_RESUME)
        have = 0;
    if (have) {
        /* Whole chunks, and the short last one only if the file is all
         * there. */
        f->vend = have >= st->size ? f->nleaves : have / st->chunk;
        f->vbad = f->vend;
        uint64_t batches = (f->vend + VERIFY_BATCH - 1) / VERIFY_BATCH;
        if (batches) {
            int rc = run_workers(f, verify_worker,
                                 (unsigned)(batches < k ? batches : k));
            if (rc != IPCN_OK)
                return rc;
        }
        keep = f->vbad * st->chunk < st->size ? f->vbad * st->chunk : st->size;
    }
    if (keep != have || have != (uint64_t)sb.st_size) {
        if (ftruncate(f->fd, (off_t)keep) != 0)
            return local_errno_status(errno);
    }
    f->done = keep;
    res->bytes_resumed = keep;
    if (f->progress) {
        report(f);
        if (f->status != IPCN_OK)
            return f->status;
    }

    /* Read the rest. */
    uint64_t rs = o->read_size && o->read_size < st->max_read ? o->read_size
                                                              : st->max_read;
    if (rs > IPCN__FILES_CHUNK_MAX)
        rs = IPCN__FILES_CHUNK_MAX;
    rs = rs / st->chunk * st->chunk;
    f->read_size = rs ? rs : st->chunk;
    f->fnext = keep;
    if (keep < st->size) {
        uint64_t pieces = (st->size - keep + f->read_size - 1) / f->read_size;
        int rc = run_workers(f, read_worker, (unsigned)(pieces < k ? pieces : k));
        if (rc != IPCN_OK)
            return rc;
    }

    /* The content hash, and the file must not have moved meanwhile. */
    ipcn__files_root r;
    ipcn__files_root_init(&r, st->size, st->chunk);
    for (uint64_t i = 0; i < f->nleaves; i++)
        ipcn__files_root_add(&r, f->leaves + i * IPCN_FILES_HASH_LEN);
    ipcn__files_root_final(&r, res->hash);
    ipcn__files_stat again;
    int rc = do_stat(f, &again, NULL, 0);
    if (rc != IPCN_OK)
        return rc;
    if (again.version != st->version || again.size != st->size)
        return IPCN_CONFLICT;
    if (again.has_hash) {
        if (memcmp(again.hash, res->hash, IPCN_FILES_HASH_LEN) != 0)
            return IPCN_BAD_GATEWAY;
        res->hash_confirmed = 1;
    }
    if (st->has_hash && memcmp(st->hash, res->hash, IPCN_FILES_HASH_LEN) != 0)
        return IPCN_BAD_GATEWAY;
    if (st->has_hash)
        res->hash_confirmed = 1;
    return IPCN_OK;
}

IPCN_API int ipcn_files_get(ipcn_node *node, const char *path,
                            const char *dest,
                            const ipcn_files_get_opts *opts,
                            ipcn_files_result *out)
{
    ipcn_files_get_opts o;
    ipcn_files_get_opts_init(&o);
    if (opts && ipcn__sized_in(&o, sizeof o, opts,
                               IPCN__SIZE_TO(ipcn_files_get_opts, user)) !=
                    IPCN_OK)
        return IPCN_BAD_REQUEST;
    if (!node || !path || !dest || !*dest || o.inflight > MAX_INFLIGHT ||
        (o.flags & ~IPCN_FILES_GET_NO_RESUME) ||
        (out && ipcn__sized_check(out, IPCN__SIZE_TO(ipcn_files_result,
                                                     provider)) != IPCN_OK))
        return IPCN_BAD_REQUEST;
    int st = ipcn__files_sodium_init();
    if (st != IPCN_OK)
        return st;
    /* As on the wire: the node's namespace and remap (a prefix rule moves
     * the service's part). */
    char wire[IPCN_PATH_MAX + 1];
    if (ipcn__node_resolve(node, &path, wire) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    candidate cand[MAX_CANDIDATES];
    int nc = candidates(node, path, cand, MAX_CANDIDATES);
    if (nc == 0)
        return IPCN_NOT_FOUND;

    fetch f;
    memset(&f, 0, sizeof f);
    f.node = node;
    f.timeout_ms = o.timeout_ms;
    f.fd = -1;
    f.progress = o.progress;
    f.user = o.user;
    f.status = IPCN_OK;
    pthread_mutex_init(&f.lock, NULL);
    pthread_mutex_init(&f.write_lock, NULL);
    pthread_cond_init(&f.cond, NULL);
    ipcn_files_result res;
    memset(&res, 0, sizeof res);

    st = IPCN_NOT_FOUND;
    for (int i = 0; i < nc && st == IPCN_NOT_FOUND; i++) {
        f.svc = cand[i].path;
        f.name = path + cand[i].len + 1;
        f.name_len = strlen(f.name);
        st = do_stat(&f, &f.st, res.provider, sizeof res.provider);
    }
    char *part = NULL;
    if (st == IPCN_OK) {
        size_t dl = strlen(dest);
        part = ipcn__malloc(dl + 6);
        if (!part)
            st = IPCN_INSUFFICIENT_MEMORY;
        else {
            memcpy(part, dest, dl);
            memcpy(part + dl, ".part", 6);
            st = open_part(part, &f.fd);
        }
    }
    if (st == IPCN_OK) {
        st = transfer(&f, &o, &res);
        if (st == IPCN_OK && ftruncate(f.fd, (off_t)f.st.size) != 0)
            st = local_errno_status(errno);
        if (st == IPCN_OK && rename(part, dest) != 0)
            st = local_errno_status(errno);
    }
    if (st != IPCN_OK && st != IPCN_PARTIAL_DATA && f.fd >= 0) {
        /* A DEST.part with nothing verified in it is no use to anyone. */
        struct stat sb;
        if (fstat(f.fd, &sb) == 0 && sb.st_size == 0)
            unlink(part);
    }
    res.file_size = f.st.size;
    res.mtime_ns = f.st.mtime_ns;
    res.chunk = f.st.chunk;
    res.bytes_fetched = f.fetched;
    res.requests = f.requests;
    if (f.fd >= 0)
        close(f.fd); /* and the lock goes with it */
    ipcn__free(part);
    ipcn__free(f.leaves);
    pthread_mutex_destroy(&f.lock);
    pthread_mutex_destroy(&f.write_lock);
    pthread_cond_destroy(&f.cond);
    if (out && (st == IPCN_OK || st == IPCN_PARTIAL_DATA)) {
        if (st != IPCN_OK)
            memset(res.hash, 0, sizeof res.hash), res.hash_confirmed = 0;
        ipcn__sized_out(out, &res, sizeof res);
    }
    return st;
}
