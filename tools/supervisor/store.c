/* SPDX-License-Identifier: MIT */
/*
 * store.c — the operations of the versions store (store.h): install, pick
 * before each start, bless, reject, rollback, list.  Each takes the
 * component's lock, finishes what a killed process left (the journal,
 * store_state.c), then does its own work as one journaled operation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"
#include "store_impl.h"

/* The ids of the version directories in v/, NULL-terminated (free both). */
static char **version_ids(const store *s, size_t *n)
{
    *n = 0;
    size_t cap = 8;
    char **v = calloc(cap, sizeof *v);
    int fd = s->vfd >= 0 ? dup(s->vfd) : -1;
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return v;           /* no v/ yet: no versions */
    }
    rewinddir(d);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        struct stat st;
        if (!sst_id_ok(e->d_name) || fstatat(s->vfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
            !S_ISDIR(st.st_mode))
            continue;
        if (*n + 1 >= cap) {
            char **nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        if (!(v[*n] = strdup(e->d_name)))
            break;
        v[++*n] = NULL;
    }
    closedir(d);
    return v;
}

static void free_ids(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* The next free "N" and the next install sequence number. */
static void next_free(const store *s, char *id, uint64_t *seq)
{
    size_t n;
    char **ids = version_ids(s, &n);
    unsigned long long max_n = 0;
    *seq = 0;
    for (size_t i = 0; ids && i < n; i++) {
        char *end;
        unsigned long long k = strtoull(ids[i], &end, 10);
        if (!*end && ids[i][0] != '0' && k > max_n)
            max_n = k;
        int64_t inst;
        uint64_t q;
        if (sst_version_header(s, ids[i], &inst, &q) == 0 && q > *seq)
            *seq = q;
    }
    free_ids(ids);
    for (;; max_n++) {
        snprintf(id, SUP_VERSION_ID_MAX + 1, "%llu", max_n + 1);
        char b[SUP_VERSION_ID_MAX + 16];
        snprintf(b, sizeof b, "%s.bad", id);
        if (!sst_exists_at(s->vfd, id) && !sst_exists_at(s->vfd, b))
            break;
    }
    (*seq)++;
}

static bool id_taken(const store *s, const char *id)
{
    static const char *const suffixes[] = {"", ".hashes", ".tries", ".bad"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char n[SUP_VERSION_ID_MAX + 16];
        snprintf(n, sizeof n, "%s%s", id, suffixes[i]);
        if (sst_exists_at(s->vfd, n))
            return true;
    }
    return false;
}

/* Copy src into new.<id> and write new.<id>.hashes, all durable. */
static int stage(const store *s, int src, const char *id, uint64_t seq, char *err,
                 size_t errlen)
{
    char name[SUP_VERSION_ID_MAX + 16];
    snprintf(name, sizeof name, "new.%s", id);
    if (mkdirat(s->fd, name, 0755) < 0)
        return sst_sysfail(s, err, errlen, "make the copy's directory");
    sup_fs_step();
    int dst = openat(s->fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dst < 0)
        return sst_sysfail(s, err, errlen, "open the copy's directory");
    sup_buf text = {0};
    sup_buf_printf(&text, "ipcnet-store-hashes 1\ninstalled %lld\nseq %" PRIu64 "\n\n",
                   (long long)time(NULL), seq);
    int rc = sup_fs_hash_tree(src, dst, &text, err, errlen);
    close(dst);
    if (rc == IPCN_OK && text.oom)
        rc = sst_failf(err, errlen, IPCN_INSUFFICIENT_MEMORY, "out of memory");
    if (rc == IPCN_OK && sup_fs_sync_dir(s->fd) < 0)
        rc = sst_sysfail(s, err, errlen, "fsync");
    snprintf(name, sizeof name, "new.%s.hashes", id);
    if (rc == IPCN_OK && sup_fs_write_atomic(s->fd, name, text.p, text.len) < 0)
        rc = sst_sysfail(s, err, errlen, "write the hashes");
    sup_buf_free(&text);
    return rc;
}

/* src must not hold the store's component directory, nor lie in it. */
static bool nested(const char *src_abs, const char *dir)
{
    size_t a = strlen(src_abs), b = strlen(dir);
    size_t k = a < b ? a : b;
    return !strncmp(src_abs, dir, k) &&
           (a == b || (a < b ? dir[a] == '/' || a == 1 : src_abs[b] == '/'));
}

int sup_store_install(const char *root, const char *comp, const char *src_dir,
                      const char *id, uint32_t tries, char *id_out, size_t id_len,
                      char *err, size_t errlen)
{
    if (tries == 0)
        return sst_failf(err, errlen, IPCN_BAD_REQUEST, "a trial needs at least 1 try");
    if (id && !sst_id_ok(id))
        return sst_failf(err, errlen, IPCN_BAD_REQUEST,
                         "'%s' is not a version id ([A-Za-z0-9._+-], at most %u, not "
                         "ending in .tmp, .hashes, .tries or .bad)", id, SUP_VERSION_ID_MAX);
    char src_abs[PATH_MAX];
    int src = open(src_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src < 0 || !realpath(src_dir, src_abs)) {
        int e = errno;
        if (src >= 0)
            close(src);
        return sst_failf(err, errlen, e == ENOENT || e == ENOTDIR ? IPCN_NOT_FOUND
                         : IPCN_FORBIDDEN, "%s: %s", src_dir, strerror(e));
    }
    store s;
    journal j = {.op = "install", .tries = tries};
    int rc = sst_open_store(root, comp, true, true, &s, err, errlen);
    if (rc != IPCN_OK) {
        close(src);
        return rc;
    }
    if ((rc = sst_recover_locked(&s, err, errlen)) != IPCN_OK)
        goto out;
    if (nested(src_abs, s.dir)) {
        rc = sst_failf(err, errlen, IPCN_BAD_REQUEST, "%s: it overlaps the store (%s)",
                       src_dir, s.dir);
        goto out;
    }
    uint64_t seq;
    next_free(&s, j.id, &seq);
    if (id) {
        if (id_taken(&s, id)) {
            rc = sst_failf(err, errlen, IPCN_CONFLICT, "%s: version %s is already installed",
                           s.dir, id);
            goto out;
        }
        snprintf(j.id, sizeof j.id, "%s", id);
    }
    if ((rc = stage(&s, src, j.id, seq, err, errlen)) != IPCN_OK)
        goto out;
    char cur[SUP_VERSION_ID_MAX + 1];
    j.first = !(sst_read_ptr(&s, "good", cur) == 1 && sst_complete(&s, cur));
    if (!j.first && sst_read_ptr(&s, "trial", cur) == 1)
        snprintf(j.to, sizeof j.to, "%s", cur);
    if ((rc = sst_run_op(&s, &j, err, errlen)) == IPCN_OK && id_out && id_len)
        snprintf(id_out, id_len, "%s", j.id);
out:
    if (rc != IPCN_OK && j.id[0] && !sst_exists_at(s.fd, "journal")) {
        char name[SUP_VERSION_ID_MAX + 16];
        snprintf(name, sizeof name, "new.%s", j.id);
        sup_fs_remove_tree(s.fd, name);
        snprintf(name, sizeof name, "new.%s.hashes", j.id);
        sup_fs_unlink(s.fd, name);
    }
    sst_close_store(&s);
    close(src);
    return rc;
}

/* The path named by the line of a hashes text that starts at p. */
static const char *line_path(const char *p, char *out, size_t cap)
{
    int skip = p[0] == 'F' ? 3 : 2;
    for (; skip && *p && *p != '\n'; p++)
        if (*p == ' ')
            skip--;
    size_t n = strcspn(p, "\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
    return out;
}

/* Is the whole line [p, p+n) (without its newline) a line of text? */
static bool has_line(const char *text, const char *p, size_t n)
{
    for (const char *q = text; (q = memmem(q, strlen(q), p, n)); q++)
        if ((q == text || q[-1] == '\n') && q[n] == '\n')
            return true;
    return false;
}

static bool has_path(const char *text, const char *path)
{
    char other[512];
    for (const char *p = text; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] ? 1 : 0))
        if (!strcmp(line_path(p, other, sizeof other), path))
            return true;
    return false;
}

/* What differs between the hashes wanted and those found: the first line
 * found that is not wanted (changed or added), else one missing. */
static void explain(const char *want, const char *have, char *why, size_t whylen)
{
    char path[512];
    for (const char *p = have; *p;) {
        size_t n = strcspn(p, "\n");
        if (!has_line(want, p, n)) {
            line_path(p, path, sizeof path);
            sst_failf(why, whylen, 0, "%s %s", path,
                      has_path(want, path) ? "does not match its hash" : "was added");
            return;
        }
        p += n + (p[n] ? 1 : 0);
    }
    for (const char *p = want; *p;) {
        size_t n = strcspn(p, "\n");
        if (!has_line(have, p, n)) {
            sst_failf(why, whylen, 0, "%s is missing", line_path(p, path, sizeof path));
            return;
        }
        p += n + (p[n] ? 1 : 0);
    }
    sst_failf(why, whylen, 0, "its files are listed in another order");
}

/* Do the files of version id match its hashes?  1 yes, 0 no (why says
 * what differs), or an error status < 0 as -status. */
static int verify(const store *s, const char *id, char *why, size_t whylen, char *err,
                  size_t errlen)
{
    sup_buf want = {0}, have = {0};
    char hn[SUP_VERSION_ID_MAX + 16];
    snprintf(hn, sizeof hn, "%s.hashes", id);
    if (sst_read_all(s->vfd, hn, &want) < 0) {
        int st = sst_sysfail(s, err, errlen, "read the hashes");
        sup_buf_free(&want);
        return -st;
    }
    int64_t inst;
    uint64_t seq;
    size_t off = want.len ? sst_hashes_header(want.p, &inst, &seq) : 0;
    int ok = 0;
    int vd = openat(s->vfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (!off) {
        snprintf(why, whylen, "its hashes file is damaged");
    } else if (vd < 0) {
        snprintf(why, whylen, "its directory cannot be opened: %s", strerror(errno));
    } else if (sup_fs_hash_tree(vd, -1, &have, why, whylen) == IPCN_OK) {
        const char *a = want.p + off, *b = have.p ? have.p : "";
        if (!strcmp(a, b))
            ok = 1;
        else
            explain(a, b, why, whylen);
    }
    if (vd >= 0)
        close(vd);
    sup_buf_free(&want);
    sup_buf_free(&have);
    return ok;
}

static void fill_pick(const store *s, const char *id, bool trial, uint32_t left, sup_pick *out)
{
    snprintf(out->id, sizeof out->id, "%s", id);
    /* s->dir leaves room: sst_open_store refuses a longer one */
    sst_failf(out->dir, sizeof out->dir, 0, "%s/v/%s", s->dir, id);
    out->trial = trial;
    out->tries_left = left;
}

/* The trial, if any: 1 it runs (out filled), 0 it was given up (why), <0
 * -status. */
static int pick_trial(const store *s, const char *trial, sup_pick *out, char *why,
                      size_t whylen, char *err, size_t errlen)
{
    uint32_t t = sst_read_tries(s, trial);
    char what[256] = "its tries ran out";
    if (t > 0) {
        /* Durable before the start: a power cut during it counts as a try. */
        if (sst_write_tries(s, trial, t - 1) < 0)
            return -sst_sysfail(s, err, errlen, "count a try");
        int v = verify(s, trial, what, sizeof what, err, errlen);
        if (v < 0)
            return v;
        if (v == 1) {
            fill_pick(s, trial, true, t - 1, out);
            return 1;
        }
    }
    journal j = {.op = "reject"};
    snprintf(j.id, sizeof j.id, "%s", trial);
    snprintf(j.reason, sizeof j.reason, "%s", what);
    int st = sst_run_op(s, &j, err, errlen);
    if (st != IPCN_OK)
        return -st;
    snprintf(why, whylen, "trial %s rejected and marked bad: %s", trial, what);
    return 0;
}

int sup_store_pick(const char *root, const char *comp, sup_pick *out, char *err,
                   size_t errlen)
{
    memset(out, 0, sizeof *out);
    store s;
    int rc = sst_open_store(root, comp, false, true, &s, err, errlen);
    if (rc != IPCN_OK)
        return rc;
    if ((rc = sst_recover_locked(&s, err, errlen)) != IPCN_OK)
        goto out;
    char good[SUP_VERSION_ID_MAX + 1], trial[SUP_VERSION_ID_MAX + 1], why[512] = "";
    if (sst_read_ptr(&s, "trial", trial) == 1 && sst_complete(&s, trial)) {
        int r = pick_trial(&s, trial, out, why, sizeof why, err, errlen);
        if (r != 0) {
            rc = r > 0 ? IPCN_OK : -r;
            goto out;
        }
        out->rolled_back = true;
    }
    if (sst_read_ptr(&s, "good", good) != 1 || !sst_complete(&s, good)) {
        rc = sst_failf(err, errlen, IPCN_NOT_FOUND, "%s: no good version installed%s%s",
                       s.dir, why[0] ? "; " : "", why);
        goto out;
    }
    char what[256];
    int v = verify(&s, good, what, sizeof what, err, errlen);
    if (v < 0) {
        rc = -v;
    } else if (v == 0) {
        rc = sst_failf(err, errlen, IPCN_CONFLICT,
                       "%s: the good version %s does not match its hashes (%s): "
                       "reinstall it, or roll back%s%s", s.dir, good, what,
                       why[0] ? "; " : "", why);
    } else {
        fill_pick(&s, good, false, 0, out);
        if (out->rolled_back)
            sst_failf(err, errlen, IPCN_OK, "%s; back on good version %s", why, good);
    }
out:
    sst_close_store(&s);
    return rc;
}

int sup_store_recover(const char *root, const char *comp, char *err, size_t errlen)
{
    store s;
    int rc = sst_open_store(root, comp, false, true, &s, err, errlen);
    if (rc == IPCN_NOT_FOUND)
        return IPCN_OK;   /* never installed: nothing under way */
    if (rc == IPCN_OK)
        rc = sst_recover_locked(&s, err, errlen);
    sst_close_store(&s);
    return rc;
}

/* Open, lock and recover for an operation on version id. */
static int begin(const char *root, const char *comp, const char *id, store *s, char *err,
                 size_t errlen)
{
    if (id && !sst_id_ok(id))
        return sst_failf(err, errlen, IPCN_BAD_REQUEST, "'%s' is not a version id",
                         id);
    int rc = sst_open_store(root, comp, false, true, s, err, errlen);
    if (rc == IPCN_OK && (rc = sst_recover_locked(s, err, errlen)) != IPCN_OK)
        sst_close_store(s);
    return rc;
}

static int not_trial(const store *s, const char *id, char *err, size_t errlen)
{
    char trial[SUP_VERSION_ID_MAX + 1];
    bool has = sst_read_ptr(s, "trial", trial) == 1;
    return sst_failf(err, errlen, IPCN_CONFLICT, "%s: version %s is not the trial (%s%s)",
                     s->dir, id, has ? "the trial is " : "there is no trial",
                     has ? trial : "");
}

int sup_store_bless(const char *root, const char *comp, const char *id, char *err,
                    size_t errlen)
{
    store s;
    int rc = begin(root, comp, id ? id : "", &s, err, errlen);
    if (rc != IPCN_OK)
        return rc;
    char cur[SUP_VERSION_ID_MAX + 1];
    if (sst_read_ptr(&s, "trial", cur) == 1 && !strcmp(cur, id)) {
        journal j = {.op = "bless"};
        snprintf(j.id, sizeof j.id, "%s", id);
        rc = sst_run_op(&s, &j, err, errlen);
    } else if (!(sst_read_ptr(&s, "good", cur) == 1 && !strcmp(cur, id))) {
        rc = not_trial(&s, id, err, errlen);   /* already good: nothing to do */
    }
    sst_close_store(&s);
    return rc;
}

int sup_store_reject(const char *root, const char *comp, const char *id,
                     const char *reason, char *err, size_t errlen)
{
    store s;
    int rc = begin(root, comp, id ? id : "", &s, err, errlen);
    if (rc != IPCN_OK)
        return rc;
    char cur[SUP_VERSION_ID_MAX + 1];
    if (sst_read_ptr(&s, "trial", cur) == 1 && !strcmp(cur, id)) {
        journal j = {.op = "reject"};
        snprintf(j.id, sizeof j.id, "%s", id);
        snprintf(j.reason, sizeof j.reason, "%s", reason && *reason ? reason : "rejected");
        rc = sst_run_op(&s, &j, err, errlen);
    } else if (!sst_is_bad(&s, id)) {
        rc = not_trial(&s, id, err, errlen);   /* already bad: nothing to do */
    }
    sst_close_store(&s);
    return rc;
}

int sup_store_rollback(const char *root, const char *comp, char *id_out, size_t id_len,
                       char *err, size_t errlen)
{
    store s;
    int rc = begin(root, comp, NULL, &s, err, errlen);
    if (rc != IPCN_OK)
        return rc;
    char good[SUP_VERSION_ID_MAX + 1], trial[SUP_VERSION_ID_MAX + 1];
    bool has_good = sst_read_ptr(&s, "good", good) == 1 && sst_complete(&s, good);
    journal j = {0};
    snprintf(j.reason, sizeof j.reason, "%s", SST_BY_OPERATOR);
    if (sst_read_ptr(&s, "trial", trial) == 1) {
        snprintf(j.op, sizeof j.op, "reject");
        snprintf(j.id, sizeof j.id, "%s", trial);
    } else if (!has_good) {
        rc = sst_failf(err, errlen, IPCN_NOT_FOUND, "%s: no version installed", s.dir);
    } else {
        int p = sst_predecessor(&s, good, j.to);
        if (p < 0)
            rc = sst_sysfail(&s, err, errlen, "read the history");
        else if (p == 0)
            rc = sst_failf(err, errlen, IPCN_NOT_FOUND,
                           "%s: no version was good before %s", s.dir, good);
        snprintf(j.op, sizeof j.op, "rollback");
        snprintf(j.id, sizeof j.id, "%s", good);
    }
    if (rc == IPCN_OK)
        rc = sst_run_op(&s, &j, err, errlen);
    if (rc == IPCN_OK && id_out && id_len &&
        sst_read_ptr(&s, "good", good) == 1)
        snprintf(id_out, id_len, "%s", good);
    sst_close_store(&s);
    return rc;
}

static int by_seq(const void *a, const void *b)
{
    const sup_version *x = a, *y = b;
    /* installed_s holds the sequence while sorting (see sup_store_list) */
    if (x->installed_s != y->installed_s)
        return x->installed_s < y->installed_s ? -1 : 1;
    return strcmp(x->id, y->id);
}

int sup_store_list(const char *root, const char *comp, sup_version **out, size_t *n,
                   char *err, size_t errlen)
{
    store s;
    int rc = sst_open_store(root, comp, false, true, &s, err, errlen);
    if (rc == IPCN_FORBIDDEN)   /* a store this user may only read */
        rc = sst_open_store(root, comp, false, false, &s, err, errlen);
    if (rc != IPCN_OK)
        return rc;
    if (s.lock >= 0 && (rc = sst_recover_locked(&s, err, errlen)) != IPCN_OK) {
        sst_close_store(&s);
        return rc;
    }
    size_t k = 0;
    char **ids = version_ids(&s, &k);
    sup_version *v = calloc(k ? k : 1, sizeof *v);
    if (!ids || !v) {
        free_ids(ids);
        free(v);
        sst_close_store(&s);
        return sst_failf(err, errlen, IPCN_INSUFFICIENT_MEMORY, "out of memory");
    }
    char good[SUP_VERSION_ID_MAX + 1] = "", trial[SUP_VERSION_ID_MAX + 1] = "";
    if (sst_read_ptr(&s, "good", good) != 1)
        good[0] = 0;
    if (sst_read_ptr(&s, "trial", trial) != 1)
        trial[0] = 0;
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (!sst_complete(&s, ids[i]))
            continue;
        sup_version *x = &v[m];
        snprintf(x->id, sizeof x->id, "%s", ids[i]);
        x->good = !strcmp(good, ids[i]);
        x->trial = !strcmp(trial, ids[i]);
        x->bad = sst_is_bad(&s, ids[i]);
        x->tries_left = x->trial ? sst_read_tries(&s, ids[i]) : 0;
        int64_t when = 0;
        uint64_t seq = 0;
        sst_version_header(&s, ids[i], &when, &seq);
        x->installed_s = (int64_t)seq;
        if (x->bad) {
            char bn[SUP_VERSION_ID_MAX + 16];
            snprintf(bn, sizeof bn, "%s.bad", ids[i]);
            if (sup_fs_read_small(s.vfd, bn, x->reason, sizeof x->reason) < 0)
                x->reason[0] = 0;
            x->reason[strcspn(x->reason, "\n")] = 0;
        }
        m++;
    }
    qsort(v, m, sizeof *v, by_seq);
    /* the install times back, in the sorted order */
    for (size_t i = 0; i < m; i++) {
        int64_t when = 0;
        uint64_t seq;
        sst_version_header(&s, v[i].id, &when, &seq);
        v[i].installed_s = when;
    }
    free_ids(ids);
    sst_close_store(&s);
    *out = v;
    *n = m;
    return IPCN_OK;
}

int sup_store_verify(const char *root, const char *comp, const char *id, char *err,
                     size_t errlen)
{
    if (!id || !sst_id_ok(id))
        return sst_failf(err, errlen, IPCN_BAD_REQUEST, "'%s' is not a version id",
                         id ? id : "");
    store s;
    int rc = sst_open_store(root, comp, false, false, &s, err, errlen);
    if (rc != IPCN_OK)
        return rc;
    char why[256];
    if (!sst_complete(&s, id)) {
        rc = sst_failf(err, errlen, IPCN_NOT_FOUND, "%s: no version %s", s.dir, id);
    } else {
        int v = verify(&s, id, why, sizeof why, err, errlen);
        if (v < 0)
            rc = -v;
        else if (v == 0)
            rc = sst_failf(err, errlen, IPCN_CONFLICT, "%s: version %s: %s", s.dir, id, why);
    }
    sst_close_store(&s);
    return rc;
}
