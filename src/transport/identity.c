/* SPDX-License-Identifier: MIT */
/*
 * identity.c — the principal behind a link, fixed when it starts: the
 * kernel's word on the peer process (pid, uid, gid, supplementary groups)
 * taken from the socket at accept or connect, and the node name it gives
 * in its hello, believed only when that process holds the name's lock in
 * the network's directory, and the executable it runs (exe.c).  Nothing
 * here changes afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "node/node.h"

void ipcn__identity_take(ipcn__principal *who, int fd)
{
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
        who->pid = cred.pid;
        who->uid = (int32_t)cred.uid;
        who->gid = (int32_t)cred.gid;
        who->creds_known = true;
    }
#ifdef SO_PEERGROUPS
    gid_t groups[IPCN_PRINCIPAL_MAX_GROUPS];
    socklen_t gl = sizeof groups;
    gid_t *all = NULL;
    const gid_t *got = groups;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) == 0) {
        who->ngroups = gl / sizeof(gid_t);
    } else if (errno == ERANGE && gl > sizeof groups &&
               (all = ipcn__malloc(gl)) &&
               getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, all, &gl) == 0) {
        /* More than we keep: the first ones, and say so. */
        got = all;
        who->ngroups = gl / sizeof(gid_t);
        if (who->ngroups > IPCN_PRINCIPAL_MAX_GROUPS) {
            who->ngroups = IPCN_PRINCIPAL_MAX_GROUPS;
            who->groups_truncated = true;
        }
    }
    for (uint32_t i = 0; i < who->ngroups; i++)
        who->groups[i] = (uint32_t)got[i];
    ipcn__free(all);
#endif
}

int ipcn__identity_name(ipcn__principal *who, const char *name, size_t len,
                        uint64_t node_id)
{
    if (!(who->name = ipcn__strndup(name, len)))
        return IPCN_INSUFFICIENT_MEMORY;
    who->node_id = node_id;
    /* The executable, once per link, when its hello is accepted (not at
     * accept: a flood of connections that never say hello costs no look
     * at /proc): the path, and the hash from a cache of the process (a
     * stat) but for the first link of a binary. */
    if (who->creds_known)
        who->exe_hashed = ipcn__exe_identify(who->pid, &who->exe,
                                             who->exe_sha256);
    return IPCN_OK;
}

void ipcn__identity_free(ipcn__principal *who)
{
    ipcn__free(who->name);
    ipcn__free(who->exe);
    ipcn__free(who->host);
    ipcn__free(who->user);
    who->name = who->exe = who->host = who->user = NULL;
    who->exe_hashed = false;
}

static bool no_descriptors(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOMEM;
}

/* Does descriptor fd of process pid hold an exclusive flock on the file
 * lk?  The kernel lists in /proc/<pid>/fdinfo/<fd> the locks held through
 * that open file description ("lock:\t1: FLOCK  ADVISORY  WRITE ..."), so
 * a process that merely opened the file does not pass.  Paths, not a
 * descriptor of /proc kept open: this needs one descriptor at a time.
 * Sets *e to the errno of a failed open. */
static bool fd_holds_lock(int pid, const char *fd, const struct stat *lk,
                          int *e)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%s", pid, fd);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        *e = errno;
        return false;
    }
    char buf[2048];
    ssize_t r = read(f, buf, sizeof buf - 1);
    close(f);
    if (r <= 0)
        return false;
    buf[r] = 0;
    bool locked = false;
    for (char *line = buf; line && *line && !locked;) {
        char *end = strchr(line, '\n');
        if (end)
            *end = 0;
        locked = !strncmp(line, "lock:", 5) && strstr(line, "FLOCK") &&
                 strstr(line, "WRITE") && !strstr(line, "->");
        line = end ? end + 1 : NULL;
    }
    /* Only then look at what the descriptor leads to. */
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/fd/%s", pid, fd);
    return locked && stat(path, &st) == 0 && st.st_dev == lk->st_dev &&
           st.st_ino == lk->st_ino;
}

/* ---- /proc/locks: the locks of the whole system ----
 *
 * A line is "ID: [-> ]CLASS KIND TYPE PID MAJ:MIN:INO START END", MAJ and
 * MIN in hex, INO in decimal; "->" marks a waiter, not a holder.  Anyone
 * may read the file, so this tells of the locks of other users' processes,
 * whose descriptors we may not look at. */

static bool next_token(const char **p, const char *end, const char **tok,
                       size_t *len)
{
    const char *s = *p;
    while (s < end && *s == ' ')
        s++;
    const char *t = s;
    while (t < end && *t != ' ')
        t++;
    *tok = s;
    *len = (size_t)(t - s);
    *p = t;
    return t > s;
}

static bool token_is(const char *tok, size_t len, const char *word)
{
    return len == strlen(word) && !memcmp(tok, word, len);
}

/* Digits of base 10 or 16, at most 20 of them, into *v: the token must be
 * nothing else than them (and then the separator sep, unless 0). */
static bool token_num(const char **tok, const char *end, int base, char sep,
                      uint64_t *v)
{
    const char *s = *tok;
    uint64_t x = 0;
    int digits = 0;
    for (; s < end && digits <= 20; s++, digits++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else
            break;
        if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        x = x * (uint64_t)base + (uint64_t)d;
    }
    if (!digits || digits > 20)
        return false;
    if (sep) {
        if (s >= end || *s != sep)
            return false;
        s++;
    } else if (s != end) {
        return false;
    }
    *tok = s;
    *v = x;
    return true;
}

bool ipcn__proc_locks_line(const char *line, size_t len, int32_t pid,
                           uint32_t maj, uint32_t min, uint64_t ino)
{
    const char *p = line, *end = line + len, *t;
    size_t tl;
    uint64_t v, vmaj, vmin, vino;
    if (!next_token(&p, end, &t, &tl) || tl < 2 || t[tl - 1] != ':')
        return false; /* "ID:" */
    if (!next_token(&p, end, &t, &tl) || !token_is(t, tl, "FLOCK"))
        return false; /* a waiter ("->"), or not flock(2) */
    if (!next_token(&p, end, &t, &tl) || !token_is(t, tl, "ADVISORY") ||
        !next_token(&p, end, &t, &tl) || !token_is(t, tl, "WRITE"))
        return false;
    if (!next_token(&p, end, &t, &tl))
        return false;
    const char *te = t + tl;
    if (!token_num(&t, te, 10, 0, &v) || v > INT32_MAX ||
        (pid > 0 && v != (uint64_t)pid))
        return false;
    if (!next_token(&p, end, &t, &tl))
        return false;
    te = t + tl;
    return token_num(&t, te, 16, ':', &vmaj) &&
           token_num(&t, te, 16, ':', &vmin) &&
           token_num(&t, te, 10, 0, &vino) && vmaj == maj && vmin == min &&
           vino == ino;
}

bool ipcn__proc_locks_text(const char *text, size_t len, int32_t pid,
                           uint32_t maj, uint32_t min, uint64_t ino)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (ipcn__proc_locks_line(p, (size_t)(le - p), pid, maj, min, ino))
            return true;
        p = nl ? nl + 1 : end;
    }
    return false;
}

#define LOCKS_MAX (16u << 20) /* bytes of /proc/locks read, at most */

int ipcn__proc_locks_held(int32_t pid, uint64_t dev, uint64_t ino)
{
    int f = open("/proc/locks", O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return -errno;
    uint32_t maj = major((dev_t)dev), min = minor((dev_t)dev);
    /* Whole lines only: a line cut by the buffer is carried over. */
    char buf[16384];
    size_t have = 0, total = 0;
    int found = 0;
    for (;;) {
        ssize_t r = read(f, buf + have, sizeof buf - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (have)
                found = ipcn__proc_locks_text(buf, have, pid, maj, min, ino);
            break;
        }
        have += (size_t)r;
        total += (size_t)r;
        char *last = memrchr(buf, '\n', have);
        if (!last) {
            have = 0; /* a line longer than the buffer: no lock line */
            continue;
        }
        size_t whole = (size_t)(last - buf) + 1;
        if (ipcn__proc_locks_text(buf, whole, pid, maj, min, ino)) {
            found = 1;
            break;
        }
        memmove(buf, buf + whole, have - whole);
        have -= whole;
        if (total > LOCKS_MAX)
            break;
    }
    close(f);
    return found;
}

/* The peer is of another user: we may not look at its descriptors.  Its
 * lock file must be its own (another user cannot have made a file that
 * the peer's node then locked: lock files are 0600, see rendezvous.c),
 * and the kernel's list of locks must show the peer's pid holding an
 * exclusive flock on that very file. */
static int held_by_other_user(ipcn_node *n, const struct stat *lk,
                              const ipcn__principal *who)
{
    static bool no_proc_logged;
    if (lk->st_uid != (uid_t)who->uid)
        return IPCN_UNAUTHORIZED;
    int r = ipcn__proc_locks_held(who->pid, (uint64_t)lk->st_dev,
                                  (uint64_t)lk->st_ino);
    if (r > 0)
        return IPCN_OK;
    if (r == 0)
        return IPCN_UNAUTHORIZED;
    if (no_descriptors(-r))
        return IPCN_SERVICE_UNAVAILABLE;
    if (-r == ENOENT) {
        if (!__atomic_exchange_n(&no_proc_logged, true, __ATOMIC_RELAXED))
            ipcn__warn("IPCN-LINK-NOPROC", "%s: /proc/locks cannot be read: "
                       "the names of peers of other users are not checked",
                       n->name);
        return IPCN_OK;
    }
    return IPCN_UNAUTHORIZED;
}

#define HOLDER_SCAN_MAX 4096 /* descriptors of the peer looked at, at most */

int ipcn__identity_holds_name(ipcn_node *n, const char *name,
                              const ipcn__principal *who)
{
    static bool no_proc_logged;
    int32_t pid = who->pid;
    char lockname[IPCN_NAME_MAX + 8];
    snprintf(lockname, sizeof lockname, "%s.lock", name);
    struct stat lk;
    if (pid <= 0)
        return IPCN_UNAUTHORIZED;
    if (fstatat(n->dirfd, lockname, &lk, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISREG(lk.st_mode))
        return IPCN_UNAUTHORIZED; /* nobody holds the name */
    if (who->creds_known && (uid_t)who->uid != geteuid())
        return held_by_other_user(n, &lk, who);
    /* The descriptor the holder wrote into the lock file first. */
    int e = 0;
    int f = openat(n->dirfd, lockname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
                   O_NONBLOCK);
    if (f < 0 && no_descriptors(errno))
        return IPCN_SERVICE_UNAVAILABLE;
    if (f >= 0) {
        char info[64], fdname[16];
        ssize_t r = read(f, info, sizeof info - 1);
        close(f);
        int hpid, hfd;
        unsigned long long hid;
        if (r > 0) {
            info[r] = 0;
            if (sscanf(info, "%d %llx %d", &hpid, &hid, &hfd) == 3 &&
                hpid == pid && hfd >= 0) {
                snprintf(fdname, sizeof fdname, "%d", hfd);
                if (fd_holds_lock(pid, fdname, &lk, &e))
                    return IPCN_OK;
            }
        }
    }
    /* No usable hint: look through the peer's descriptors, a bounded
     * number of them. */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d) {
        e = errno;
        if (no_descriptors(e))
            return IPCN_SERVICE_UNAVAILABLE;
        if (e == ENOENT && access("/proc/self/fdinfo", F_OK) < 0) {
            /* No procfs here: the claim cannot be checked at all (said
             * once per process, by whichever node's thread sees it first). */
            if (!__atomic_exchange_n(&no_proc_logged, true, __ATOMIC_RELAXED))
                ipcn__warn("IPCN-LINK-NOPROC", "%s: /proc is not mounted: "
                           "the names of peers are not checked", n->name);
            return IPCN_OK;
        }
        return IPCN_UNAUTHORIZED; /* gone, or not ours to look at */
    }
    int st = IPCN_UNAUTHORIZED;
    struct dirent *de;
    unsigned seen = 0;
    while (st != IPCN_OK && seen++ < HOLDER_SCAN_MAX && (de = readdir(d))) {
        e = 0;
        if (de->d_name[0] != '.' && fd_holds_lock(pid, de->d_name, &lk, &e))
            st = IPCN_OK;
        else if (no_descriptors(e))
            st = IPCN_SERVICE_UNAVAILABLE;
    }
    closedir(d);
    return st;
}

void ipcn__identity_exe(ipcn__principal *who, int32_t pid)
{
    ipcn__free(who->exe);
    who->exe = NULL;
    who->exe_hashed = ipcn__exe_identify(pid, &who->exe, who->exe_sha256);
}
