/* SPDX-License-Identifier: MIT */
/*
 * identity.c — the principal behind a link, fixed when it starts: the
 * kernel's word on the peer process (pid, uid, gid, supplementary groups)
 * taken from the socket at accept or connect, and the node name it gives
 * in its hello, believed only when that process holds the name's lock in
 * the network's directory.  Nothing here changes afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

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
    return IPCN_OK;
}

void ipcn__identity_free(ipcn__principal *who)
{
    ipcn__free(who->name);
    who->name = NULL;
    ipcn__free(who->exe);
    who->exe = NULL;
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

#define HOLDER_SCAN_MAX 4096 /* descriptors of the peer looked at, at most */

int ipcn__identity_holds_name(ipcn_node *n, const char *name, int32_t pid)
{
    static bool no_proc_logged;
    char lockname[IPCN_NAME_MAX + 8];
    snprintf(lockname, sizeof lockname, "%s.lock", name);
    struct stat lk;
    if (pid <= 0)
        return IPCN_UNAUTHORIZED;
    if (fstatat(n->dirfd, lockname, &lk, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISREG(lk.st_mode))
        return IPCN_UNAUTHORIZED; /* nobody holds the name */
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
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t k = readlink(path, buf, sizeof buf - 1);
    if (k <= 0)
        return;
    buf[k] = 0;
    ipcn__free(who->exe);
    who->exe = ipcn__strdup(buf);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    unsigned char chunk[65536];
    ssize_t r;
    while ((r = read(f, chunk, sizeof chunk)) > 0)
        crypto_hash_sha256_update(&h, chunk, (unsigned long long)r);
    close(f);
    if (r == 0) {
        crypto_hash_sha256_final(&h, who->exe_sha256);
        who->exe_hashed = true;
    }
}
