/* SPDX-License-Identifier: MIT */
/*
 * rendezvous.c — how nodes find each other with no daemon.
 *
 * A network is a directory.  Node N holds an exclusive flock on "N.lock" for
 * its whole life: that lock, not the socket, is what makes the name unique,
 * and the kernel drops it when the process dies however it dies.  N binds
 * its socket under a temporary name, listens, then renames it to "N.sock",
 * so a "N.sock" that appears is always one that accepts.  Of two nodes, the
 * one whose name sorts lower dials the other.  A lock that anyone can take
 * belongs to a dead node: whoever takes it removes "N.sock" and "N.lock".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"
#include "transport/limits.h"
#include "transport/reputation.h"
#include "transport/compromise.h"
#include "transport/tcp.h"

#define MAX_HELLO_LINKS 64   /* links that have not said hello yet */
#define MAX_HELLO_PER_UID 32 /* ... of one user */
#define ACCEPT_BUDGET 16     /* connections accepted per I/O round */
#define FD_HEADROOM IPCN_FD_HEADROOM
#define MAX_LINKS 1024
#define DIAL_ATTEMPTS 20

static int sun_for(const ipcn_node *n, const char *file, struct sockaddr_un *sa,
                   socklen_t *len)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int k = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", n->dir, file);
    if (k < 0 || (size_t)k >= sizeof sa->sun_path) {
        /* A long directory: reach it through our open descriptor. */
        k = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s",
                     n->dirfd, file);
        if (k < 0 || (size_t)k >= sizeof sa->sun_path)
            return IPCN_BAD_REQUEST;
    }
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)k + 1);
    return IPCN_OK;
}

/* Is the process in Unix group gid (its effective or a supplementary
 * group)? */
static bool in_group(gid_t gid)
{
    if (getegid() == gid)
        return true;
    gid_t groups[256];
    int k = getgroups(256, groups);
    for (int i = 0; i < k; i++)
        if (groups[i] == gid)
            return true;
    return false;
}

/* A network shared by the users of a Unix group (`ipcnet network create
 * NAME --group G`): owned by root or by us (the owner of a directory may
 * remove anyone's files in it, and so take the names of the others),
 * group-owned by a group we are in, setgid (what is made in it belongs to
 * the group), sticky (members cannot remove or rename each other's files,
 * nor the policy), and nothing for others. */
static bool is_shared_dir(const struct stat *st)
{
    return S_ISDIR(st->st_mode) && (st->st_uid == 0 || st->st_uid == geteuid()) &&
           (st->st_mode & S_ISGID) && (st->st_mode & S_ISVTX) &&
           !(st->st_mode & 0007) && in_group(st->st_gid);
}

/* The base above the network's directory: whoever may rename or remove
 * entries there can take the network away from us (another user who made
 * it first).  It must be ours or root's, and writable by no one else
 * unless sticky (as /tmp is).  A shared network lives in a base of root's
 * (/run/ipcnet). */
static int check_base(const char *base)
{
    struct stat st;
    if (stat(base, &st) < 0 || !S_ISDIR(st.st_mode)) {
        ipcn__err("IPCN-RDV-DIR", "%s is not a directory", base);
        return IPCN_FORBIDDEN;
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        ipcn__err("IPCN-RDV-DIR", "%s (the base of the network directory) "
                  "belongs to uid %u, neither us nor root: refusing it",
                  base, (unsigned)st.st_uid);
        return IPCN_FORBIDDEN;
    }
    if ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX)) {
        ipcn__err("IPCN-RDV-DIR", "%s (the base of the network directory) "
                  "is writable by others without the sticky bit (mode %o): "
                  "refusing it", base, (unsigned)(st.st_mode & 07777));
        return IPCN_FORBIDDEN;
    }
    return IPCN_OK;
}

/* mkdir -p with mode 0700 for what we create; the base must pass
 * check_base() before the network directory is made in it; then the
 * network directory must be ours and writable by nobody else, or a shared
 * one (is_shared_dir()). */
static int make_dir(ipcn_node *n)
{
    const char *dir = n->dir;
    char buf[4096];
    size_t len = strlen(dir);
    if (len >= sizeof buf)
        return IPCN_BAD_REQUEST;
    memcpy(buf, dir, len + 1);
    const char *last = strrchr(dir, '/');
    size_t base_len = last && last != dir ? (size_t)(last - dir) : 0;
    struct stat st;
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
            ipcn__err("IPCN-RDV-DIR", "cannot create %s: %s", buf, strerror(errno));
            return errno == EACCES ? IPCN_FORBIDDEN : IPCN_INTERNAL_ERROR;
        }
        if (i == base_len) {
            int st2 = check_base(buf);
            if (st2 != IPCN_OK)
                return st2;
        }
        buf[i] = c;
    }
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        ipcn__err("IPCN-RDV-DIR", "%s is not a directory", dir);
        return IPCN_FORBIDDEN;
    }
    if (is_shared_dir(&st)) {
        n->shared_dir = true;
        return IPCN_OK;
    }
    if ((st.st_mode & S_ISGID) && (st.st_mode & S_ISVTX) &&
        (st.st_uid != geteuid() || (st.st_mode & 0022))) {
        ipcn__err("IPCN-RDV-DIR", "%s is a shared network (owner uid %u, group "
                  "%u, mode %o) that this process may not join: it must be in "
                  "the group, and the owner must be root or itself, with "
                  "nothing for others", dir, (unsigned)st.st_uid,
                  (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
        return IPCN_FORBIDDEN;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 0022)) {
        ipcn__err("IPCN-RDV-DIR",
                  "%s belongs to uid %u or is writable by others (mode %o): refusing it",
                  dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return IPCN_FORBIDDEN;
    }
    return IPCN_OK;
}

bool ipcn__rdv_same_file(int dirfd, const char *file, int fd)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 &&
           fstatat(dirfd, file, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A dead node of another user in a shared network: its files are not ours
 * to remove (the sticky bit), so they stay until it restarts or root
 * sweeps; say so once per file, and treat the name as gone. */
static void left_behind(ipcn_node *n, const char *name, const struct stat *st)
{
    uint64_t key = (uint64_t)st->st_dev ^ ((uint64_t)st->st_ino << 1) ^ 1;
    for (unsigned i = 0; i < IPCN__ARRAY_SIZE(n->stale_told); i++)
        if (n->stale_told[i] == key)
            return;
    n->stale_told[n->stale_told_next++ % IPCN__ARRAY_SIZE(n->stale_told)] = key;
    ipcn__info("IPCN-RDV-STALE", "%s: node %s of uid %u is dead, and its files "
               "are not ours to remove: leaving them", n->name, name,
               (unsigned)st->st_uid);
}

/* The lock file of another user, which we may not open: the kernel's list
 * of locks says whether its node lives.  true when it is dead. */
static bool foreign_lock_dead(ipcn_node *n, const char *name,
                              const char *lockname)
{
    struct stat st;
    if (fstatat(n->dirfd, lockname, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT;
    if (!S_ISREG(st.st_mode) || st.st_uid == geteuid())
        return false;
    if (ipcn__proc_locks_held(0, (uint64_t)st.st_dev, (uint64_t)st.st_ino) != 0)
        return false; /* alive, or /proc/locks unreadable: assume alive */
    left_behind(n, name, &st);
    return true;
}

bool ipcn__rdv_sweep(ipcn_node *n, const char *name)
{
    char lockname[IPCN_NAME_MAX + 8], sockname[IPCN_NAME_MAX + 8];
    snprintf(lockname, sizeof lockname, "%s.lock", name);
    snprintf(sockname, sizeof sockname, "%s.sock", name);
    int fd = openat(n->dirfd, lockname, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && (errno == EACCES || errno == EPERM))
        return foreign_lock_dead(n, name, lockname);
    if (fd < 0) {
        /* No lock: a socket without its lock is left over from a node that
         * died while being swept. */
        if (errno != ENOENT)
            return false;
        if (unlinkat(n->dirfd, sockname, 0) == 0) {
            ipcn__info("IPCN-RDV-STALE", "%s: removed stale %s", n->name, sockname);
        } else if (errno == EPERM || errno == EACCES) {
            struct stat st; /* another user's, under the sticky bit */
            if (fstatat(n->dirfd, sockname, &st, AT_SYMLINK_NOFOLLOW) == 0)
                left_behind(n, name, &st);
        }
        return true;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return false; /* alive */
    }
    if (ipcn__rdv_same_file(n->dirfd, lockname, fd)) {
        unlinkat(n->dirfd, sockname, 0);
        struct stat st;
        if (unlinkat(n->dirfd, lockname, 0) == 0)
            ipcn__info("IPCN-RDV-STALE", "%s: removed the files of dead node %s",
                       n->name, name);
        else if ((errno == EPERM || errno == EACCES) && fstat(fd, &st) == 0)
            left_behind(n, name, &st); /* another user's, open to us */
    }
    close(fd);
    return true;
}

int ipcn__rdv_open(ipcn_node *n)
{
    int st = make_dir(n);
    if (st != IPCN_OK)
        return st;
    n->dirfd = open(n->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (n->dirfd < 0)
        return IPCN_INTERNAL_ERROR;
    /* What we opened is what we checked, not a directory put there since. */
    struct stat ds;
    if (fstat(n->dirfd, &ds) < 0 ||
        (n->shared_dir ? !is_shared_dir(&ds)
                       : ds.st_uid != geteuid() || (ds.st_mode & 0022))) {
        ipcn__err("IPCN-RDV-DIR", "%s changed while it was checked: refusing it",
                  n->dir);
        return IPCN_FORBIDDEN;
    }
    const char *no_watch = getenv("IPCNET_NO_INOTIFY");
    if (no_watch && *no_watch && strcmp(no_watch, "0") != 0) {
        /* For filesystems without inotify, and to test the fallback. */
        ipcn__info("IPCN-RDV-INOTIFY", "%s: IPCNET_NO_INOTIFY set: rescanning "
                   "%s every %u ms", n->name, n->dir, n->opts.heartbeat_ms / 2);
        n->inotifyfd = -1;
    } else if ((n->inotifyfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 ||
        inotify_add_watch(n->inotifyfd, n->dir, IN_MOVED_TO | IN_ONLYDIR) < 0) {
        /* inotify instances and watches are per-user limits shared with
         * every program of the user (fs.inotify.max_user_instances, 128 by
         * default).  Without a watch this node would never hear of newer
         * nodes that it must dial, so it rescans the directory on every
         * tick instead. */
        int e = errno;
        ipcn__warn("IPCN-RDV-INOTIFY", "%s: no inotify watch on %s (%s%s): "
                   "rescanning it every %u ms instead", n->name, n->dir,
                   strerror(e),
                   (e == EMFILE || e == ENOSPC)
                       ? "; see fs.inotify.max_user_instances/max_user_watches"
                       : "",
                   n->opts.heartbeat_ms / 2);
        if (n->inotifyfd >= 0)
            close(n->inotifyfd);
        n->inotifyfd = -1;
    }
    if ((st = ipcn__node_take_name(n)) != IPCN_OK)
        return st;

    char tmp[IPCN_NAME_MAX + 32], final[IPCN_NAME_MAX + 8];
    snprintf(tmp, sizeof tmp, ".tmp.%016llx.%s", (unsigned long long)n->id,
             n->name);
    snprintf(final, sizeof final, "%s.sock", n->name);
    struct sockaddr_un sa;
    socklen_t sl;
    if ((st = sun_for(n, tmp, &sa, &sl)) != IPCN_OK)
        return st;
    n->listenfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (n->listenfd < 0)
        return IPCN_INTERNAL_ERROR;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        n->nofile = (uint64_t)rl.rlim_cur;
    n->spare_fd = fcntl(n->listenfd, F_DUPFD_CLOEXEC, 0);
    unlinkat(n->dirfd, tmp, 0);
    /* In a shared network the group's members connect (0660, whatever
     * the umask), before the socket appears under its name. */
    if (bind(n->listenfd, (struct sockaddr *)&sa, sl) < 0 ||
        (n->shared_dir && fchmodat(n->dirfd, tmp, 0660, 0) < 0) ||
        listen(n->listenfd, 128) < 0 ||
        renameat(n->dirfd, tmp, n->dirfd, final) < 0) {
        ipcn__err("IPCN-RDV-BIND", "%s/%s: %s", n->dir, final, strerror(errno));
        unlinkat(n->dirfd, tmp, 0);
        return IPCN_INTERNAL_ERROR;
    }
    return IPCN_OK;
}

void ipcn__rdv_close(ipcn_node *n)
{
    if (n->lockfd >= 0 && n->dirfd >= 0) {
        char name[IPCN_NAME_MAX + 8];
        snprintf(name, sizeof name, "%s.sock", n->name);
        if (n->listenfd >= 0 || faccessat(n->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
            unlinkat(n->dirfd, name, 0);
        snprintf(name, sizeof name, "%s.lock", n->name);
        if (ipcn__rdv_same_file(n->dirfd, name, n->lockfd))
            unlinkat(n->dirfd, name, 0);
    }
    if (n->lockfd >= 0)
        close(n->lockfd);
    if (n->dirfd >= 0)
        close(n->dirfd);
    if (n->spare_fd >= 0)
        close(n->spare_fd);
    n->lockfd = n->dirfd = n->spare_fd = -1;
}

static bool linked_or_dialling(ipcn_node *n, const char *name)
{
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry) {
        if (l->state == LINK_DEAD)
            continue;
        if ((l->who.name && !strcmp(l->who.name, name)) ||
            (l->expect_name && !strcmp(l->expect_name, name)))
            return true;
    }
    ipcn__dial *d;
    ipcn__list_for_each(d, t2, &n->dials, ipcn__dial, entry)
        if (!strcmp(d->name, name))
            return true;
    return false;
}

static void schedule(ipcn_node *n, const char *name, uint32_t attempts,
                     uint64_t at)
{
    ipcn__dial *d = ipcn__calloc(1, sizeof *d);
    if (!d || !(d->name = ipcn__strdup(name))) {
        ipcn__free(d);
        return;
    }
    d->attempts = attempts;
    d->next_ns = at;
    ipcn__list_insert_tail(&n->dials, &d->entry);
    ipcn__node_arm_timer(n, at);
}

/* Try to connect now.  Returns true when done with this name (linked, or
 * it is gone), false to try again later. */
static bool dial_now(ipcn_node *n, const char *name)
{
    /* A quarantined peer is dialled when its quarantine ends; a banned
     * one when an operator lifts it (engine/quarantine.c). */
    uint64_t now = ipcn__now_mono_ns();
    uint64_t after = ipcn__rep_dial_after(n, name, now);
    if (after) {
        if (after != UINT64_MAX)
            schedule(n, name, 1, after);
        return true;
    }
    char file[IPCN_NAME_MAX + 8];
    snprintf(file, sizeof file, "%s.sock", name);
    struct sockaddr_un sa;
    socklen_t sl;
    if (sun_for(n, file, &sa, &sl) != IPCN_OK)
        return true;
    /* A link takes a socket and a pidfd for good, and a descriptor for a
     * moment for each ring: dial only with room for them to spare, or the
     * link would come up only to fail. */
    if (n->stats.peers >= n->opts.max_peers)
        return false; /* perhaps later */
    if (n->fd_short ||
        (!ipcn__fd_room(n, FD_HEADROOM) &&
         ipcn__fds_short(n, EMFILE, "dialling")))
        return false;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ipcn__fds_short(n, errno, "dialling");
        return false;
    }
    if (connect(fd, (struct sockaddr *)&sa, sl) < 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT || ipcn__rdv_sweep(n, name))
            return true; /* gone, or dead and now swept */
        ipcn__debug("IPCN-RDV-DIAL", "%s: dialling %s: %s", n->name, name,
                    strerror(e));
        return false;    /* backlog full, or not accepting yet */
    }
    ipcn__link_new(n, fd, true, name);
    return true;
}

/* Is "name.sock" what a node leaves in the directory: a valid node name,
 * a socket, and beside it "name.lock" a regular file (or no lock at all,
 * when want_lock is false: a socket left by a node that died while being
 * swept)?  Anything else (a directory, a symlink, a name no node can have)
 * is junk that someone else put there: no node will ever answer for it, so
 * it is neither dialled nor waited for, nor removed. */
static bool entry_is_node(ipcn_node *n, const char *name, bool want_lock)
{
    char file[IPCN_NAME_MAX + 8];
    struct stat st;
    if (ipcn__name_check(name, strlen(name)) != IPCN_OK)
        return false;
    snprintf(file, sizeof file, "%s.sock", name);
    if (fstatat(n->dirfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISSOCK(st.st_mode))
        return false;
    snprintf(file, sizeof file, "%s.lock", name);
    if (fstatat(n->dirfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return !want_lock && errno == ENOENT;
    return S_ISREG(st.st_mode);
}

static void consider(ipcn_node *n, const char *name, bool sweep)
{
    if (!strcmp(name, n->name) || !entry_is_node(n, name, false))
        return;
    if (sweep && ipcn__rdv_sweep(n, name))
        return;
    if (strcmp(n->name, name) < 0 && !linked_or_dialling(n, name)) {
        if (!dial_now(n, name))
            schedule(n, name, 1, ipcn__now_mono_ns() + 20000000ull);
    }
}

static bool strip_suffix(char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    if (n <= k || strcmp(s + n - k, suffix) != 0)
        return false;
    s[n - k] = 0;
    return true;
}

void ipcn__rdv_scan(ipcn_node *n)
{
    int fd = openat(n->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        char name[256];
        snprintf(name, sizeof name, "%s", de->d_name);
        if (strip_suffix(name, ".sock")) {
            consider(n, name, true);
        } else if (strip_suffix(name, ".lock")) {
            /* A lock with no socket: a node that died before binding. */
            char sock[300];
            snprintf(sock, sizeof sock, "%s.sock", name);
            if (strcmp(name, n->name) != 0 &&
                ipcn__name_check(name, strlen(name)) == IPCN_OK &&
                faccessat(n->dirfd, sock, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                ipcn__rdv_sweep(n, name);
        }
    }
    closedir(d);
}

bool ipcn__rdv_all_synced(ipcn_node *n, unsigned *pending)
{
    *pending = 0;
    int fd = openat(n->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        char name[256];
        snprintf(name, sizeof name, "%s", de->d_name);
        if (!strip_suffix(name, ".sock") || !strcmp(name, n->name) ||
            !entry_is_node(n, name, false))
            continue;
        ipcn__link *l = ipcn__link_by_name(n, name);
        if (l && l->synced)
            continue;
        if (!l && ipcn__rdv_sweep(n, name))
            continue; /* dead, and now gone from the directory */
        if (!l && ipcn__rep_dial_after(n, name, ipcn__now_mono_ns()))
            continue; /* quarantined or banned here: not waited for */
        ++*pending;
    }
    closedir(d);
    /* The nodes of other hosts that our routers told of: synced once
     * their routed link's directory came (a way that no longer leads
     * anywhere closes that link: it is not waited for). */
    ipcn__link *l;
    ipcn__list_for_each(l, t, &n->links, ipcn__link, node_entry)
        if (l->kind == LINK_ROUTED && l->state != LINK_DEAD && !l->synced)
            ++*pending;
    return *pending == 0;
}

void ipcn__rdv_on_inotify(ipcn_node *n)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t r = read(n->inotifyfd, buf, sizeof buf);
        if (r <= 0)
            break;
        for (char *p = buf; p < buf + r;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                ipcn__rdv_scan(n);
                ipcn__cz_recheck_all(n);
                if (n->tcp)
                    ipcn__tcp_trust_recheck(n, true);
                continue;
            }
            if (ipcn__cz_inotify(n, ev->wd, ev->mask))
                continue; /* a peer's executable */
            if (ev->len && ipcn__gw_inotify(n, ev->wd, ev->mask, ev->name))
                continue; /* the trust list of the TCP links */
            if (!ev->len || ipcn__node_policy_event(n, ev->wd, ev->name))
                continue;
            char name[256];
            snprintf(name, sizeof name, "%s", ev->name);
            if (strip_suffix(name, ".sock"))
                consider(n, name, false);
        }
    }
}

/* Out of descriptors, a connection waiting in the backlog is still told
 * why (307) instead of being left to time out: the spare descriptor kept
 * for this makes room to take it.  At most max of them. */
static void refuse_waiting(ipcn_node *n, int max)
{
    for (int i = 0; i < max && n->spare_fd >= 0; i++) {
        close(n->spare_fd);
        int fd = accept4(n->listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            ipcn__link *l = ipcn__link_new(n, fd, false, NULL);
            if (l)
                ipcn__link_refuse_nofd(n, l);
        }
        n->spare_fd = fcntl(n->listenfd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            break;
    }
}

bool ipcn__rdv_resume(ipcn_node *n)
{
    if (!n->fd_short)
        return true;
    if (!ipcn__fd_room(n, 2 * FD_HEADROOM)) {
        refuse_waiting(n, 4);
        return false;
    }
    n->fd_short = false;
    ipcn__info("IPCN-NODE-NOFD", "%s: file descriptors free again: accepting "
               "and dialling", n->name);
    ipcn__rdv_scan(n); /* the nodes it did not dial meanwhile */
    return true;
}

/* May a line about an event a peer can repeat at will be logged now?  One
 * per second; *suppressed says how many were not since the last one. */
static bool log_now(ipcn__ratelimit *rl, uint64_t now, uint64_t *suppressed)
{
    if (now < rl->next_ns) {
        rl->suppressed++;
        return false;
    }
    *suppressed = rl->suppressed;
    rl->suppressed = 0;
    rl->next_ns = now + 1000000000ull;
    return true;
}

static void flood_refused(ipcn_node *n, const char *what, int pid)
{
    n->stats.links_refused++;
    uint64_t more;
    if (log_now(&n->flood_log, n->round_ns, &more))
        ipcn__warn("IPCN-RDV-FLOOD", "%s: %s (pid %d); %llu more like it in "
                   "the last second", n->name, what, pid,
                   (unsigned long long)more);
}

/* Make room for one more link waiting for hello: drop the links that
 * waited longest, first of the newcomer's uid past its share, then of
 * anyone past the node's cap.  The list holds at most the cap plus the
 * links that said hello since the last pass (at most one round of
 * accepts), so a pass costs a bounded number of steps. */
static void crowd_out(ipcn_node *n, const ipcn__link *nl)
{
    uint32_t all = 0, mine = 0;
    ipcn__link *l, *oldest = NULL, *oldest_mine = NULL;
    ipcn__list_for_each(l, t, &n->hello_links, ipcn__link, hello_entry) {
        if (l->state != LINK_HELLO) {
            ipcn__list_remove(&l->hello_entry); /* said hello meanwhile */
            continue;
        }
        all++;
        if (!oldest)
            oldest = l;
        if (l->who.uid == nl->who.uid) {
            mine++;
            if (!oldest_mine)
                oldest_mine = l;
        }
    }
    ipcn__link *drop = mine > MAX_HELLO_PER_UID ? oldest_mine
                       : all > MAX_HELLO_LINKS ? oldest : NULL;
    if (!drop || drop == nl)
        return;
    flood_refused(n, mine > MAX_HELLO_PER_UID
                         ? "too many links of one user waiting for hello: "
                           "dropped the oldest"
                         : "too many links waiting for hello: dropped the oldest",
                  (int)drop->who.pid);
    ipcn__link_close(n, drop, IPCN_TOO_MANY_REQUESTS,
                     "crowded out while waiting for hello");
}

/* Accept at most ACCEPT_BUDGET connections per I/O round: the listening
 * socket stays readable while more wait, so the next round takes them,
 * after the links that are up have been served.  Each costs a bounded
 * number of steps, and its hello is read at once: an honest peer sends it
 * with its connect, so it leaves the waiting list before anyone is
 * crowded out. */
void ipcn__rdv_on_accept(ipcn_node *n)
{
    for (int budget = ACCEPT_BUDGET; budget > 0; budget--) {
        int fd = accept4(n->listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (ipcn__fds_short(n, errno, "accepting")) {
                refuse_waiting(n, 1);
                return;
            }
            if (errno == ENOBUFS || errno == ENOMEM) {
                /* The pending connection stays readable: stop listening
                 * until the next tick rather than spin on it. */
                ipcn__warn("IPCN-RDV-ACCEPT", "%s: cannot accept: %s; "
                           "pausing for one tick", n->name, strerror(errno));
                if (epoll_ctl(n->epfd, EPOLL_CTL_DEL, n->listenfd, NULL) == 0)
                    n->accept_paused = true;
            }
            return;
        }
        if (n->nlinks >= MAX_LINKS) {
            flood_refused(n, "refused a connection: too many links", 0);
            close(fd);
            continue;
        }
        /* Descriptors come lowest first: one near the limit says that
         * the table may be nearly full. */
        bool short_fd = (uint64_t)fd + FD_HEADROOM >= n->nofile &&
                        !ipcn__fd_room(n, FD_HEADROOM / 2) &&
                        ipcn__fds_short(n, EMFILE, "accepting");
        ipcn__link *l = ipcn__link_new(n, fd, false, NULL);
        if (!l)
            continue;
        if (short_fd) {
            ipcn__link_refuse_nofd(n, l);
            return;
        }
        if (n->stats.peers >= n->opts.max_peers) {
            /* Counted and logged (once a second) here, told to the peer. */
            n->peers_refused++;
            flood_refused(n, "refused a connection: max_peers linked", (int)l->who.pid);
            ipcn__link_send_error(n, l, IPCN_TOO_MANY_REQUESTS, "too many peers");
            ipcn__link_close(n, l, IPCN_TOO_MANY_REQUESTS, "too many peers");
            continue;
        }
        /* A quarantined process, or a black-listed user: refused before
         * anything of it is read. */
        if (ipcn__rep_admit(n, l) != IPCN_OK)
            continue;
        /* Links opened faster than the policy lets its uid. */
        if (ipcn__limit_connection(n, l) != IPCN_OK)
            continue;
        ipcn__link_on_readable(n, l);
        if (l->state != LINK_HELLO)
            continue; /* linked, or refused */
        ipcn__list_insert_tail(&n->hello_links, &l->hello_entry);
        crowd_out(n, l);
    }
}

void ipcn__rdv_dial_due(ipcn_node *n, uint64_t now)
{
    ipcn__dial *d;
    ipcn__list_for_each(d, t, &n->dials, ipcn__dial, entry) {
        if (d->next_ns > now)
            continue;
        ipcn__list_remove(&d->entry);
        bool linked = false;
        ipcn__link *l;
        ipcn__list_for_each(l, t2, &n->links, ipcn__link, node_entry)
            if (l->state != LINK_DEAD && l->expect_name &&
                !strcmp(l->expect_name, d->name))
                linked = true;
        if (!linked && !dial_now(n, d->name) && d->attempts < DIAL_ATTEMPTS) {
            uint64_t backoff = 20000000ull << (d->attempts < 6 ? d->attempts : 6);
            schedule(n, d->name, d->attempts + 1, now + backoff);
        }
        ipcn__free(d->name);
        ipcn__free(d);
    }
}

void ipcn__rdv_redial(ipcn_node *n, const char *name)
{
    ipcn__rdv_redial_in(n, name, 100000000ull);
}

void ipcn__rdv_dial_soon(ipcn_node *n, const char *name)
{
    ipcn__dial *d;
    uint64_t now = ipcn__now_mono_ns();
    if (ipcn__rep_dial_after(n, name, now))
        return;
    ipcn__list_for_each(d, t, &n->dials, ipcn__dial, entry) {
        if (strcmp(d->name, name) || d->next_ns <= now)
            continue;
        d->next_ns = now;
        ipcn__node_arm_timer(n, now);
    }
    ipcn__rdv_redial_in(n, name, 0);
}

void ipcn__rdv_redial_in(ipcn_node *n, const char *name, uint64_t delay_ns)
{
    if (!name || linked_or_dialling(n, name))
        return;
    char file[IPCN_NAME_MAX + 8];
    snprintf(file, sizeof file, "%s.sock", name);
    if (faccessat(n->dirfd, file, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
        return;
    if (ipcn__rdv_sweep(n, name))
        return;
    uint64_t now = ipcn__now_mono_ns();
    uint64_t after = ipcn__rep_dial_after(n, name, now);
    if (after == UINT64_MAX)
        return; /* banned: until an operator lifts it */
    schedule(n, name, 1, after > now + delay_ns ? after : now + delay_ns);
}
