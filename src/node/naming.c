/* SPDX-License-Identifier: MIT */
/*
 * naming.c — the names of a node: its namespace and remap rules (read once
 * at open from the options and the environment, util/remap.c applies
 * them to every path the program gives), its node name (the namespace's,
 * "left.camera"), and the lock that makes that name its own in the
 * network (docs/protocol.md 6.2): who holds a name that is taken, and the
 * next free "name-2", "name-3" ... when the program asked for one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"

#define SUFFIX_MAX 64      /* name-2 .. name-65 are tried, at most */

/* An environment variable's text, or NULL when unset (or empty: as the
 * other IPCNET_ variables, empty is unset). */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int ipcn__node_names_open(ipcn_node *n, const ipcn_node_opts *o,
                          const char *name)
{
    char why[256];
    const char *ns = o->ns ? o->ns : env("IPCNET_NAMESPACE");
    const char *from = o->ns ? "opts.ns" : "IPCNET_NAMESPACE";
    if (ns && ipcn__names_set_ns(&n->names, ns, strnlen(ns, IPCN__NS_MAX + 2),
                                 why, sizeof why) != IPCN_OK) {
        ipcn__err("IPCN-NODE-NAMESPACE", "%s: %s: %s", name, from, why);
        return IPCN_BAD_REQUEST;
    }
    const char *texts[2] = {o->remap, env("IPCNET_REMAP")};
    const char *froms[2] = {"opts.remap", "IPCNET_REMAP"};
    for (int i = 0; i < 2; i++) {
        if (!texts[i])
            continue;
        int st = ipcn__names_add_rules(
            &n->names, texts[i], strnlen(texts[i], IPCN__REMAP_TEXT_MAX + 1),
            why, sizeof why);
        if (st == IPCN_BAD_REQUEST)
            ipcn__err("IPCN-NODE-REMAP", "%s: %s: %s", name, froms[i], why);
        if (st != IPCN_OK)
            return st;
    }
    char full[IPCN_NAME_MAX + 1];
    if (ipcn__names_node_name(&n->names, name, strlen(name), full,
                              sizeof full) != IPCN_OK) {
        ipcn__err("IPCN-NODE-NAMESPACE", "%s: with namespace %s the node's "
                  "name %s.%s is longer than %d bytes", name, n->names.ns,
                  n->names.ns, name, IPCN_NAME_MAX);
        return IPCN_BAD_REQUEST;
    }
    const char *sfx = env("IPCNET_NAME_SUFFIX");
    if (sfx && strcmp(sfx, "0") && strcmp(sfx, "1")) {
        ipcn__err("IPCN-NODE-SUFFIX", "%s: IPCNET_NAME_SUFFIX must be 0 or "
                  "1", name);
        return IPCN_BAD_REQUEST;
    }
    n->unique_name = o->unique_name || (sfx && !strcmp(sfx, "1"));
    char *dup = ipcn__strdup(full);
    if (!dup)
        return IPCN_INSUFFICIENT_MEMORY;
    ipcn__free(n->name);
    n->name = dup;
    return IPCN_OK;
}

int ipcn__node_resolve(const ipcn_node *n, const char **path, char *buf)
{
    if (!*path || (!n->names.ns_len && !n->names.nrules &&
                   (*path)[0] != '/'))
        return IPCN_OK; /* nothing to do: the caller checks it as it was */
    size_t len;
    if (ipcn__names_resolve(&n->names, *path,
                            strnlen(*path, IPCN_PATH_MAX + 2), buf,
                            &len) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    *path = buf;
    return IPCN_OK;
}

IPCN_API int ipcn_node_resolve(ipcn_node *n, const char *name, char *buf,
                               size_t cap)
{
    if (!n || !name || !buf)
        return IPCN_BAD_REQUEST;
    char tmp[IPCN_PATH_MAX + 1];
    const char *p = name;
    if (ipcn__node_resolve(n, &p, tmp) != IPCN_OK ||
        ipcn__pattern_check(p, strlen(p)) != IPCN_OK)
        return IPCN_BAD_REQUEST;
    size_t len = strlen(p);
    if (len >= cap)
        return IPCN_INSUFFICIENT_STORAGE;
    memcpy(buf, p, len + 1);
    return IPCN_OK;
}

/* ---- the name's lock ---- */

/* Who holds the lock of a name that is taken, for people: "pid 123
 * (/usr/bin/cam)", from the lock file the holder wrote (its first line,
 * read from fd), as /proc/locks confirms it when it can. */
static void holder(int fd, char *out, size_t cap)
{
    char line[65];
    struct stat st;
    ssize_t r = pread(fd, line, sizeof line - 1, 0);
    int32_t pid;
    if (r <= 0 || fstat(fd, &st) < 0 ||
        ipcn__lock_line_parse(line, (size_t)r, &pid) != IPCN_OK) {
        snprintf(out, cap, "a live process");
        return;
    }
    int held = ipcn__proc_locks_held(pid, (uint64_t)st.st_dev,
                                     (uint64_t)st.st_ino);
    if (held == 0) {
        snprintf(out, cap, "a live process (its lock file names pid %d, "
                 "which does not hold it)", (int)pid);
        return;
    }
    char link[64], exe[256];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t k = readlink(link, exe, sizeof exe - 1);
    exe[k > 0 ? k : 0] = 0;
    snprintf(out, cap, "pid %d%s%s%s", (int)pid, k > 0 ? " (" : "", exe,
             k > 0 ? ")" : "");
}

/* A lock file of another user in a shared network: its owner's name. */
static void other_user(ipcn_node *n, const char *lockname, char *out,
                       size_t cap)
{
    struct stat st;
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (fstatat(n->dirfd, lockname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        snprintf(out, cap, "another user");
        return;
    }
    if (getpwuid_r(st.st_uid, &pw, buf, sizeof buf, &res) == 0 && res)
        snprintf(out, cap, "user %s (uid %u)", res->pw_name,
                 (unsigned)st.st_uid);
    else
        snprintf(out, cap, "uid %u", (unsigned)st.st_uid);
}

/* Take name's lock: 100 (n->lockfd set), 207 with who holds it in who,
 * 300.  tries: attempts while it is held (a sweeper may hold a dead
 * node's lock for an instant). */
static int take(ipcn_node *n, const char *name, int tries, char *who,
                size_t cap)
{
    char lockname[IPCN_NAME_MAX + 8];
    snprintf(lockname, sizeof lockname, "%s.lock", name);
    snprintf(who, cap, "a live process");
    for (int attempt = 0; attempt < tries; attempt++) {
        int fd = openat(n->dirfd, lockname,
                        O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        /* 0600 whatever the umask: in a shared network, a lock that another
         * user could open is one they could take (a dead node's name) or
         * hold (a live one's, blocking its restart). */
        int e = fd < 0 ? errno : fchmod(fd, 0600) < 0 ? errno : 0;
        if ((e == EACCES || e == EPERM) && n->shared_dir) {
            /* Another user's lock file: the name is theirs, alive or not,
             * until they or root remove it. */
            if (fd >= 0)
                close(fd);
            other_user(n, lockname, who, cap);
            return IPCN_CONFLICT;
        }
        if (fd < 0 || e) {
            ipcn__err("IPCN-RDV-LOCK", "%s/%s: %s", n->dir, lockname,
                      strerror(e));
            if (fd >= 0)
                close(fd);
            return IPCN_INTERNAL_ERROR;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            holder(fd, who, cap);
            close(fd);
            /* Held: alive, or being swept by another node right now. */
            if (attempt + 1 < tries) {
                struct timespec ts = {0, 20 * 1000000};
                nanosleep(&ts, NULL);
            }
            continue;
        }
        if (!ipcn__rdv_same_file(n->dirfd, lockname, fd)) {
            close(fd); /* swept while we waited: take the new one */
            continue;
        }
        /* pid, id and the descriptor that holds the lock: the last is a
         * hint for the peers that check our claim to the name
         * (ipcn__identity_holds_name()), never trusted by itself. */
        char info[64];
        int k = snprintf(info, sizeof info, "%d %016llx %d\n", (int)getpid(),
                         (unsigned long long)n->id, fd);
        if (ftruncate(fd, 0) == 0 && k > 0)
            (void)!write(fd, info, (size_t)k);
        n->lockfd = fd;
        return IPCN_OK;
    }
    return IPCN_CONFLICT;
}

int ipcn__node_take_name(ipcn_node *n)
{
    char who[400];
    int st = take(n, n->name, 10, who, sizeof who);
    if (st != IPCN_CONFLICT)
        return st;
    if (!n->unique_name) {
        ipcn__warn("IPCN-RDV-NAME", "the node name %s is taken in network %s "
                   "by %s; choose another name, or set IPCNET_NAME_SUFFIX=1 "
                   "(opts.unique_name) to take the next free %s-2, %s-3, ...",
                   n->name, n->network, who, n->name, n->name);
        return IPCN_CONFLICT;
    }
    /* name-2, name-3 ...: the base cut so that the whole stays a name. */
    size_t base = strlen(n->name);
    for (int k = 2; k < 2 + SUFFIX_MAX; k++) {
        char cand[IPCN_NAME_MAX + 1], tail[8], other[400];
        int tl = snprintf(tail, sizeof tail, "-%d", k);
        size_t b = base + (size_t)tl > IPCN_NAME_MAX ? IPCN_NAME_MAX - (size_t)tl
                                                     : base;
        snprintf(cand, sizeof cand, "%.*s%s", (int)b, n->name, tail);
        /* One try each: a name held even for an instant is passed over. */
        if ((st = take(n, cand, 1, other, sizeof other)) == IPCN_CONFLICT)
            continue;
        if (st != IPCN_OK)
            return st;
        ipcn__info("IPCN-RDV-NAME", "the node name %s is taken in network %s "
                   "by %s: this node is %s", n->name, n->network, who, cand);
        char *dup = ipcn__strdup(cand);
        if (!dup)
            return IPCN_INSUFFICIENT_MEMORY; /* the lock closes with n */
        ipcn__free(n->name);
        n->name = dup;
        return IPCN_OK;
    }
    ipcn__warn("IPCN-RDV-NAME", "the node name %s and %s-2 .. %s-%d are all "
               "taken in network %s", n->name, n->name, n->name,
               SUFFIX_MAX + 1, n->network);
    return IPCN_CONFLICT;
}
