/* SPDX-License-Identifier: MIT */
/*
 * store_util.h — what the tests of the versions store share: a scratch
 * directory removed at exit, source trees to install, the store's state
 * as one line of text, and its invariants.
 */
#ifndef IPCN_TEST_STORE_UTIL_H
#define IPCN_TEST_STORE_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipcnet.h"
#include "store.h"

static char su_dir[512];

/* snprintf that ends the test on truncation (paths, messages). */
static inline void su_fmt(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void su_fmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        fprintf(stderr, "too long for the test's buffer: %s\n", buf);
        exit(1);
    }
}

static int su_rm(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    chmod(p, 0700);   /* a read-only directory of a version */
    return remove(p);
}

static void su_rm_tree(const char *path)
{
    /* depth first, after making directories writable on the way down */
    nftw(path, su_rm, 32, FTW_DEPTH | FTW_PHYS);
}

static void su_cleanup(void)
{
    if (su_dir[0])
        su_rm_tree(su_dir);
}

/* The scratch directory of this test process, removed at exit: in base
 * when given (and writable), else in $TMPDIR or /tmp. */
static inline const char *su_scratch_in(const char *base)
{
    if (!su_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        if (!base || access(base, W_OK | X_OK) != 0)
            base = tmp ? tmp : "/tmp";
        su_fmt(su_dir, sizeof su_dir, "%s/ipcn-store-XXXXXX", base);
        if (!mkdtemp(su_dir)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(su_cleanup);
    }
    return su_dir;
}

static inline const char *su_scratch(void)
{
    return su_scratch_in(NULL);
}

static inline void su_write(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

/* A source tree at dir (made): files, a subdirectory, an executable, a
 * symbolic link; tag makes the contents differ between versions. */
static inline void su_make_tree(const char *dir, const char *tag, int nfiles)
{
    char p[1024], text[256];
    mkdir(dir, 0755);
    su_fmt(p, sizeof p, "%s/bin", dir);
    mkdir(p, 0755);
    su_fmt(p, sizeof p, "%s/bin/run", dir);
    su_fmt(text, sizeof text, "#!/bin/sh\necho %s\n", tag);
    su_write(p, text, 0755);
    su_fmt(p, sizeof p, "%s/etc", dir);
    mkdir(p, 0750);
    for (int i = 0; i < nfiles; i++) {
        su_fmt(p, sizeof p, "%s/etc/f%02d.conf", dir, i);
        su_fmt(text, sizeof text, "version %s file %d\n", tag, i);
        su_write(p, text, 0644);
    }
    su_fmt(p, sizeof p, "%s/run", dir);
    if (symlink("bin/run", p) < 0 && errno != EEXIST) {
        perror(p);
        exit(1);
    }
}

/* The store's state of comp in one line: "id:GTB:tries:reason;" per
 * version, oldest first ("-" when nothing is installed). */
static inline void su_state(const char *root, const char *comp, char *out, size_t cap)
{
    sup_version *v = NULL;
    size_t n = 0;
    char err[512];
    size_t len = 0;
    out[0] = 0;
    if (sup_store_list(root, comp, &v, &n, err, sizeof err) != IPCN_OK || !n) {
        su_fmt(out, cap, "-");
        free(v);
        return;
    }
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s:%c%c%c:%u:%s;", v[i].id,
                                v[i].good ? 'G' : '.', v[i].trial ? 'T' : '.',
                                v[i].bad ? 'B' : '.', v[i].tries_left, v[i].reason);
    free(v);
}

static inline bool su_exists(const char *dir, const char *name)
{
    char p[1024];
    struct stat st;
    su_fmt(p, sizeof p, "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}

/* The invariants of a store at rest (no operation under way): "" when
 * they hold, else the first one broken in why. */
static inline bool su_invariants(const char *root, const char *comp, char *why, size_t cap)
{
    char cdir[1024], err[512];
    su_fmt(cdir, sizeof cdir, "%s/%s", root, comp);
    why[0] = 0;
    if (su_exists(cdir, "journal") || su_exists(cdir, "journal.tmp")) {
        su_fmt(why, cap, "a journal is left");
        return false;
    }
    DIR *d = opendir(cdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "new.", 4) || strstr(e->d_name, ".tmp")) {
            su_fmt(why, cap, "debris left: %s", e->d_name);
            closedir(d);
            return false;
        }
    if (d)
        closedir(d);
    sup_version *v = NULL;
    size_t n = 0;
    if (sup_store_list(root, comp, &v, &n, err, sizeof err) != IPCN_OK) {
        su_fmt(why, cap, "list: %s", err);
        return !su_exists(cdir, "good");   /* nothing installed: fine */
    }
    int goods = 0, trials = 0;
    for (size_t i = 0; i < n && !why[0]; i++) {
        goods += v[i].good;
        trials += v[i].trial;
        if (v[i].good && v[i].bad)
            su_fmt(why, cap, "good %s is bad", v[i].id);
        else if (v[i].trial && (v[i].bad || v[i].good))
            su_fmt(why, cap, "trial %s is also %s", v[i].id, v[i].bad ? "bad" : "good");
        else if ((v[i].good || v[i].trial) &&
                 sup_store_verify(root, comp, v[i].id, err, sizeof err) != IPCN_OK)
            su_fmt(why, cap, "%s does not verify: %s", v[i].id, err);
    }
    if (!why[0] && n && goods != 1)
        su_fmt(why, cap, "%d good versions", goods);
    if (!why[0] && trials > 1)
        su_fmt(why, cap, "%d trials", trials);
    /* every pointer names a listed (complete) version */
    const char *ptrs[] = {"good", "trial"};
    for (int k = 0; k < 2 && !why[0]; k++) {
        char p[1024], t[256];
        su_fmt(p, sizeof p, "%s/%s", cdir, ptrs[k]);
        ssize_t len = readlink(p, t, sizeof t - 1);
        if (len < 0)
            continue;
        t[len] = 0;
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= !strncmp(t, "v/", 2) && !strcmp(t + 2, v[i].id);
        if (!found)
            su_fmt(why, cap, "%s -> %s, not a complete version", ptrs[k], t);
    }
    /* every version directory has its hashes */
    char vdir[1100];
    su_fmt(vdir, sizeof vdir, "%s/v", cdir);
    d = opendir(vdir);
    while (!why[0] && d && (e = readdir(d))) {
        char h[512];
        struct stat st;
        if (e->d_name[0] == '.' || !strcmp(e->d_name, ".."))
            continue;
        su_fmt(h, sizeof h, "%s/%s", vdir, e->d_name);
        if (lstat(h, &st) == 0 && S_ISDIR(st.st_mode)) {
            su_fmt(h, sizeof h, "%s.hashes", e->d_name);
            if (!su_exists(vdir, h))
                su_fmt(why, cap, "v/%s has no hashes", e->d_name);
        }
    }
    if (d)
        closedir(d);
    free(v);
    return !why[0];
}

#endif
