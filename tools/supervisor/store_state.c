/* SPDX-License-Identifier: MIT */
/*
 * store_state.c — the versions store on disk (store.h, store_impl.h):
 * its files, and the operations' journal and idempotent steps.
 *
 *     <root>/<comp>/lock               flock()ed by every call
 *     <root>/<comp>/v/<id>/            a version's files
 *     <root>/<comp>/v/<id>.hashes      "ipcnet-store-hashes 1", installed,
 *                                      seq, a blank line, then one line
 *                                      per entry (store_fs.h)
 *     <root>/<comp>/v/<id>.tries       the trial's starts left
 *     <root>/<comp>/v/<id>.bad         a bad mark: why
 *     <root>/<comp>/good, trial        symbolic links to v/<id>
 *     <root>/<comp>/history            the ids that were good, in order
 *     <root>/<comp>/journal            the operation under way
 *     <root>/<comp>/new.<id>[.hashes]  a version being copied in
 *
 * An operation first makes everything it needs durable where nothing
 * points to it (the copy of a version under new.<id>), then writes its
 * journal atomically: from that moment it is finished, by this process or
 * by the next sup_store_recover(), whose steps are all idempotent; before
 * it, a killed process leaves only debris that recovery removes.  Every
 * step is a rename or a write followed by fsync (store_fs.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"
#include "store_impl.h"

#define HISTORY_MAX (64u * 1024u)  /* the history keeps its newest ids */

int sst_failf(char *err, size_t errlen, int st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return st;
}

/* A failed system call (errno) while doing what. */
int sst_sysfail(const store *s, char *err, size_t errlen, const char *what)
{
    int e = errno;
    int st = e == ENOSPC || e == EDQUOT ? IPCN_INSUFFICIENT_STORAGE
             : e == ENOMEM              ? IPCN_INSUFFICIENT_MEMORY
             : e == EACCES || e == EPERM || e == EROFS ? IPCN_FORBIDDEN
                                                       : IPCN_INTERNAL_ERROR;
    return sst_failf(err, errlen, st, "%s: %s: %s", s ? s->dir : "store", what, strerror(e));
}

bool sst_name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+'))
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* A version id: a name that none of the store's own files could be. */
bool sst_id_ok(const char *id)
{
    return sst_name_ok(id, SUP_VERSION_ID_MAX) && !ends_with(id, ".tmp") &&
           !ends_with(id, ".hashes") && !ends_with(id, ".tries") && !ends_with(id, ".bad");
}

/* ---- opening ---- */

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int open_dir_at(int dfd, const char *name, bool create)
{
    if (create && mkdirat(dfd, name, 0755) == 0) {
        sup_fs_step();
        if (sup_fs_sync_dir(dfd) < 0)
            return -1;
    }
    return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

void sst_close_store(store *s)
{
    if (s->vfd >= 0)
        close(s->vfd);
    if (s->fd >= 0)
        close(s->fd);
    if (s->lock >= 0)
        close(s->lock);   /* and with it the flock */
    s->fd = s->vfd = s->lock = -1;
}

/* Open <root>/<comp> (made when create) and take its lock.  Without
 * create, a component never installed is 203; lock false: a store this
 * user may not write is read as it is. */
int sst_open_store(const char *root, const char *comp, bool create, bool lock,
                      store *s, char *err, size_t errlen)
{
    *s = (store){.fd = -1, .vfd = -1, .lock = -1};
    if (!sst_name_ok(comp, SST_COMP_MAX))
        return sst_failf(err, errlen, IPCN_BAD_REQUEST,
                     "'%s' is not a component name ([A-Za-z0-9._+-], at most %u)",
                     comp ? comp : "", SST_COMP_MAX);
    if (!root || !*root)
        return sst_failf(err, errlen, IPCN_BAD_REQUEST, "no versions store given");
    if (create && mkdir_p(root) < 0)
        return sst_failf(err, errlen, IPCN_INTERNAL_ERROR, "%s: cannot make it: %s", root,
                     strerror(errno));
    char abs[PATH_MAX];
    if (!realpath(root, abs))
        return sst_failf(err, errlen, errno == ENOENT ? IPCN_NOT_FOUND : IPCN_INTERNAL_ERROR,
                     "%s: %s", root, strerror(errno));
    /* room for "/v/<id>" after it: sup_pick.dir */
    int k = snprintf(s->dir, sizeof s->dir, "%s/%s", abs, comp);
    if (k < 0 || (size_t)k + 4 + SUP_VERSION_ID_MAX >= sizeof s->dir)
        return sst_failf(err, errlen, IPCN_BAD_REQUEST, "%s: path too long", root);
    int rfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0)
        return sst_sysfail(s, err, errlen, "open the store");
    s->fd = open_dir_at(rfd, comp, create);
    int e = errno;
    close(rfd);
    if (s->fd < 0) {
        errno = e;
        if (e == ENOENT)
            return sst_failf(err, errlen, IPCN_NOT_FOUND, "%s: no version of %s installed",
                         abs, comp);
        return sst_sysfail(s, err, errlen, "open");
    }
    if (lock) {
        s->lock = openat(s->fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (s->lock < 0 || flock(s->lock, LOCK_EX) < 0) {
            int st = sst_sysfail(s, err, errlen, "lock");
            sst_close_store(s);
            return st;
        }
    }
    s->vfd = open_dir_at(s->fd, "v", lock);   /* a killed install may not have made it */
    if (s->vfd < 0 && (errno != ENOENT || lock)) {
        int st = sst_sysfail(s, err, errlen, "open v/");
        sst_close_store(s);
        return st;
    }
    return IPCN_OK;
}

/* ---- what is on disk ---- */

/* The id a pointer names: 1, 0 when absent, -1 when it is not "v/<id>". */
int sst_read_ptr(const store *s, const char *name, char *id)
{
    char t[PATH_MAX];
    ssize_t k = readlinkat(s->fd, name, t, sizeof t - 1);
    if (k < 0)
        return errno == ENOENT ? 0 : -1;
    t[k] = 0;
    if (strncmp(t, "v/", 2) || !sst_id_ok(t + 2))
        return -1;
    memcpy(id, t + 2, strlen(t + 2) + 1);   /* sst_id_ok: it fits */
    return 1;
}

int sst_set_ptr(const store *s, const char *name, const char *id)
{
    char t[SUP_VERSION_ID_MAX + 3];
    snprintf(t, sizeof t, "v/%s", id);
    return sup_fs_symlink_atomic(s->fd, name, t);
}

bool sst_exists_at(int dfd, const char *name)
{
    struct stat st;
    return dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool sst_vfile_exists(const store *s, const char *id, const char *suffix)
{
    char n[SUP_VERSION_ID_MAX + 16];
    snprintf(n, sizeof n, "%s%s", id, suffix);
    return sst_exists_at(s->vfd, n);
}

/* A version whose copy is sst_complete: its directory and its hashes. */
bool sst_complete(const store *s, const char *id)
{
    struct stat st;
    return s->vfd >= 0 && fstatat(s->vfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISDIR(st.st_mode) && sst_vfile_exists(s, id, ".hashes");
}

bool sst_is_bad(const store *s, const char *id)
{
    return sst_vfile_exists(s, id, ".bad");
}

static int sst_write_vfile(const store *s, const char *id, const char *suffix, const char *text)
{
    char n[SUP_VERSION_ID_MAX + 16];
    snprintf(n, sizeof n, "%s%s", id, suffix);
    return sup_fs_write_atomic(s->vfd, n, text, strlen(text));
}

static int unlink_vfile(const store *s, const char *id, const char *suffix)
{
    char n[SUP_VERSION_ID_MAX + 16];
    snprintf(n, sizeof n, "%s%s", id, suffix);
    return sup_fs_unlink(s->vfd, n);
}

uint32_t sst_read_tries(const store *s, const char *id)
{
    char n[SUP_VERSION_ID_MAX + 16], buf[32];
    snprintf(n, sizeof n, "%s.tries", id);
    if (sup_fs_read_small(s->vfd, n, buf, sizeof buf) < 0)
        return 0;
    char *end;
    unsigned long v = strtoul(buf, &end, 10);
    return end == buf || v > UINT32_MAX ? 0 : (uint32_t)v;
}

int sst_write_tries(const store *s, const char *id, uint32_t tries)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu32 "\n", tries);
    return sst_write_vfile(s, id, ".tries", buf);
}

/* The whole of a file into b; 0 or -1 (errno). */
int sst_read_all(int dfd, const char *name, sup_buf *b)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char chunk[8192];
    for (;;) {
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = errno;
            close(fd);
            errno = e;
            if (k == 0 && b->oom)
                errno = ENOMEM;
            return k == 0 && !b->oom ? 0 : -1;
        }
        sup_buf_add(b, chunk, (size_t)k);
    }
}

/* installed and seq from a version's hashes header; the entries' offset. */
size_t sst_hashes_header(const char *text, int64_t *installed, uint64_t *seq)
{
    const char *p = text;
    *installed = 0;
    *seq = 0;
    if (strncmp(p, "ipcnet-store-hashes 1\n", 22))
        return 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            return 0;
        if (nl == p)
            return (size_t)(nl + 1 - text);
        long long v;
        unsigned long long u;
        if (sscanf(p, "installed %lld", &v) == 1)
            *installed = v;
        else if (sscanf(p, "seq %llu", &u) == 1)
            *seq = u;
        p = nl + 1;
    }
    return 0;
}

int sst_version_header(const store *s, const char *id, int64_t *installed, uint64_t *seq)
{
    char n[SUP_VERSION_ID_MAX + 16], buf[512];
    snprintf(n, sizeof n, "%s.hashes", id);
    int fd = openat(s->vfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t k = read(fd, buf, sizeof buf - 1);   /* the header fits */
    close(fd);
    buf[k > 0 ? k : 0] = 0;
    sst_hashes_header(buf, installed, seq);
    return 0;
}

/* ---- the history of good versions ---- */

static int read_history(const store *s, sup_buf *h)
{
    if (sst_read_all(s->fd, "history", h) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

/* The last line of h, or "". */
static void history_last(const sup_buf *h, char *id)
{
    id[0] = 0;
    if (!h->len)
        return;
    size_t end = h->len;
    while (end && h->p[end - 1] == '\n')
        end--;
    size_t start = end;
    while (start && h->p[start - 1] != '\n')
        start--;
    if (end - start <= SUP_VERSION_ID_MAX) {
        memcpy(id, h->p + start, end - start);
        id[end - start] = 0;
    }
}

static int history_append(const store *s, const char *id)
{
    sup_buf h = {0};
    char last[SUP_VERSION_ID_MAX + 1];
    if (read_history(s, &h) < 0) {
        sup_buf_free(&h);
        return -1;
    }
    history_last(&h, last);
    int rc = 0;
    if (strcmp(last, id)) {
        sup_buf_printf(&h, "%s\n", id);
        const char *p = h.p;
        while (h.len - (size_t)(p - h.p) > HISTORY_MAX && strchr(p, '\n'))
            p = strchr(p, '\n') + 1;   /* drop the oldest */
        if (h.oom) {
            errno = ENOMEM;
            rc = -1;
        } else {
            rc = sup_fs_write_atomic(s->fd, "history", p, h.len - (size_t)(p - h.p));
        }
    }
    sup_buf_free(&h);
    return rc;
}

/* The version that was good before good: the newest in the history that is
 * neither good nor bad and still installed.  1 found, 0 none, -1 error. */
int sst_predecessor(const store *s, const char *good, char *out)
{
    sup_buf h = {0};
    if (read_history(s, &h) < 0)
        return -1;
    int found = 0;
    size_t end = h.len;
    while (!found && end) {
        while (end && h.p[end - 1] == '\n')
            end--;
        size_t start = end;
        while (start && h.p[start - 1] != '\n')
            start--;
        char id[SUP_VERSION_ID_MAX + 1];
        if (end > start && end - start <= SUP_VERSION_ID_MAX) {
            memcpy(id, h.p + start, end - start);
            id[end - start] = 0;
            if (sst_id_ok(id) && strcmp(id, good) && !sst_is_bad(s, id) && sst_complete(s, id)) {
                snprintf(out, SUP_VERSION_ID_MAX + 1, "%s", id);
                found = 1;
            }
        }
        end = start;
    }
    sup_buf_free(&h);
    return found;
}

/* ---- the journal ---- */

static int journal_write(const store *s, const journal *j)
{
    char text[1024], reason[256];
    snprintf(reason, sizeof reason, "%s", j->reason);
    for (char *p = reason; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    int n = snprintf(text, sizeof text,
                     "ipcnet-store-journal 1\nop %s\nid %s\nto %s\ntries %" PRIu32
                     "\nfirst %d\nreason %s\n",
                     j->op, j->id, j->to[0] ? j->to : "-", j->tries, j->first, reason);
    return sup_fs_write_atomic(s->fd, "journal", text, (size_t)n);
}

/* 1 read, 0 none, -1 unreadable (errno), -2 not a journal. */
static int journal_read(const store *s, journal *j)
{
    char text[1024];
    *j = (journal){0};
    if (sup_fs_read_small(s->fd, "journal", text, sizeof text) < 0)
        return errno == ENOENT ? 0 : -1;
    if (strncmp(text, "ipcnet-store-journal 1\n", 23))
        return -2;
    int have = 0;
    for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = 0;
        unsigned u;
        if (!strncmp(p, "op ", 3) && strlen(p + 3) < sizeof j->op)
            have |= 1, strcpy(j->op, p + 3);
        else if (!strncmp(p, "id ", 3) && sst_id_ok(p + 3))
            have |= 2, strcpy(j->id, p + 3);
        else if (!strncmp(p, "to ", 3))
            snprintf(j->to, sizeof j->to, "%s", strcmp(p + 3, "-") ? p + 3 : "");
        else if (sscanf(p, "tries %u", &u) == 1)
            j->tries = u;
        else if (sscanf(p, "first %u", &u) == 1)
            j->first = u != 0;
        else if (!strncmp(p, "reason ", 7))
            snprintf(j->reason, sizeof j->reason, "%s", p + 7);
    }
    if (have != 3 || (j->to[0] && !sst_id_ok(j->to)))
        return -2;
    return 1;
}

/* ---- the operations' steps, each idempotent ---- */

static int apply_install(const store *s, const journal *j)
{
    char n[SUP_VERSION_ID_MAX + 16], cur[SUP_VERSION_ID_MAX + 1];
    snprintf(n, sizeof n, "new.%s", j->id);
    if (sst_exists_at(s->fd, n) && sup_fs_rename(s->fd, n, s->vfd, j->id) < 0)
        return -1;
    snprintf(n, sizeof n, "new.%s.hashes", j->id);
    char h[SUP_VERSION_ID_MAX + 16];
    snprintf(h, sizeof h, "%s.hashes", j->id);
    if (sst_exists_at(s->fd, n) && sup_fs_rename(s->fd, n, s->vfd, h) < 0)
        return -1;
    if (!sst_complete(s, j->id)) {
        errno = ENOENT;
        return -1;
    }
    if (j->first) {
        if (sst_read_ptr(s, "good", cur) != 1 || strcmp(cur, j->id))
            if (sst_set_ptr(s, "good", j->id) < 0)
                return -1;
        return history_append(s, j->id);
    }
    if (sst_read_ptr(s, "trial", cur) != 1 || strcmp(cur, j->id)) {
        if (sst_write_tries(s, j->id, j->tries) < 0 || sst_set_ptr(s, "trial", j->id) < 0)
            return -1;
    }
    /* The trial it replaced keeps no counter: it is only installed now. */
    if (j->to[0] && strcmp(j->to, j->id) && unlink_vfile(s, j->to, ".tries") < 0)
        return -1;
    return 0;
}

static int apply_bless(const store *s, const journal *j)
{
    char cur[SUP_VERSION_ID_MAX + 1];
    if ((sst_read_ptr(s, "good", cur) != 1 || strcmp(cur, j->id)) && sst_set_ptr(s, "good", j->id) < 0)
        return -1;
    if (sst_read_ptr(s, "trial", cur) == 1 && !strcmp(cur, j->id) &&
        sup_fs_unlink(s->fd, "trial") < 0)
        return -1;
    if (unlink_vfile(s, j->id, ".tries") < 0)
        return -1;
    return history_append(s, j->id);
}

static int sst_mark_bad(const store *s, const char *id, const char *reason)
{
    if (sst_is_bad(s, id))
        return 0;
    char text[300];
    snprintf(text, sizeof text, "%s\n", reason[0] ? reason : "rejected");
    return sst_write_vfile(s, id, ".bad", text);
}

static int apply_reject(const store *s, const journal *j)
{
    char cur[SUP_VERSION_ID_MAX + 1];
    if (sst_mark_bad(s, j->id, j->reason) < 0)
        return -1;
    if (sst_read_ptr(s, "trial", cur) == 1 && !strcmp(cur, j->id) &&
        sup_fs_unlink(s->fd, "trial") < 0)
        return -1;
    return unlink_vfile(s, j->id, ".tries");
}

static int apply_rollback(const store *s, const journal *j)
{
    char cur[SUP_VERSION_ID_MAX + 1];
    if (sst_mark_bad(s, j->id, j->reason) < 0)
        return -1;
    if ((sst_read_ptr(s, "good", cur) != 1 || strcmp(cur, j->to)) && sst_set_ptr(s, "good", j->to) < 0)
        return -1;
    return history_append(s, j->to);
}

/* Do the journal's operation to its end, then forget it. */
static int run_journal(const store *s, const journal *j, char *err, size_t errlen)
{
    int rc;
    if (!strcmp(j->op, "install"))
        rc = apply_install(s, j);
    else if (!strcmp(j->op, "bless"))
        rc = apply_bless(s, j);
    else if (!strcmp(j->op, "reject"))
        rc = apply_reject(s, j);
    else if (!strcmp(j->op, "rollback") && j->to[0])
        rc = apply_rollback(s, j);
    else
        return sst_failf(err, errlen, IPCN_INTERNAL_ERROR, "%s/journal: unknown operation '%s'",
                     s->dir, j->op);
    if (rc < 0) {
        char what[128];
        snprintf(what, sizeof what, "%s of version %s", j->op, j->id);
        return sst_sysfail(s, err, errlen, what);
    }
    if (sup_fs_unlink(s->fd, "journal") < 0)
        return sst_sysfail(s, err, errlen, "remove the journal");
    return IPCN_OK;
}

/* Start an operation: durable journal, then its steps. */
int sst_run_op(const store *s, const journal *j, char *err, size_t errlen)
{
    if (journal_write(s, j) < 0)
        return sst_sysfail(s, err, errlen, "write the journal");
    return run_journal(s, j, err, errlen);
}

/* Remove what a killed process left before its journal: new.*, *.tmp. */
static int sweep(const store *s, int dfd, bool staging)
{
    int fd = dup(dfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    rewinddir(d);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (ends_with(e->d_name, ".tmp") ||
            (staging && !strncmp(e->d_name, "new.", 4) && e->d_name[4])) {
            rc = sup_fs_remove_tree(dfd, e->d_name);
            rewinddir(d);
        }
    }
    closedir(d);
    return rc;
}

int sst_recover_locked(const store *s, char *err, size_t errlen)
{
    journal j;
    int r = journal_read(s, &j);
    if (r == -1)
        return sst_sysfail(s, err, errlen, "read the journal");
    if (r == -2)
        return sst_failf(err, errlen, IPCN_INTERNAL_ERROR,
                     "%s/journal: not a journal of this store (remove it by hand)", s->dir);
    if (r == 1) {
        int st = run_journal(s, &j, err, errlen);
        if (st != IPCN_OK)
            return st;
    }
    if (sweep(s, s->fd, true) < 0 || (s->vfd >= 0 && sweep(s, s->vfd, false) < 0))
        return sst_sysfail(s, err, errlen, "remove an unfinished copy");
    return IPCN_OK;
}
