/* SPDX-License-Identifier: MIT */
/*
 * node_policy.c — the network policy a node enforces: found and read when
 * the node opens (before it accepts anyone), watched, and read again when
 * the file changes.  The file is $IPCNET_POLICY, else "policy.yaml" in the
 * network's directory.
 *
 * Fail closed, never partially loaded: a file that does not load at open
 * fails the open; one that does not load later is refused as a whole (the
 * reason logged, ipcn_node_stats.policy_rejected counted) and the node
 * goes on enforcing the last policy it loaded.  No file at all is the
 * network's default: allow for a per-user network (mode 0700), deny for a
 * network shared by a group; but a file named by IPCNET_POLICY must
 * exist (at open, else the open fails; later, its removal is refused as
 * a bad file is).  Each change moves n->policy_gen and reaches
 * the engine (IPCN__IN_POLICY), which checks again what it let through.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/entry.h"
#include "node/node.h"

#define POLICY_FILE "policy.yaml"

/* What identifies one version of the file: a rewrite in place changes
 * size, mtime or ctime; a rename over it changes the inode. */
static void stamp(ipcn_node *n, const struct stat *st)
{
    n->policy_stamp.present = st != NULL;
    if (!st)
        return;
    n->policy_stamp.dev = st->st_dev;
    n->policy_stamp.ino = st->st_ino;
    n->policy_stamp.size = st->st_size;
    n->policy_stamp.mtim = st->st_mtim;
    n->policy_stamp.ctim = st->st_ctim;
}

static bool stamp_same(const ipcn_node *n, const struct stat *st)
{
    if (!st || !n->policy_stamp.present)
        return !st && !n->policy_stamp.present;
    return n->policy_stamp.dev == st->st_dev &&
           n->policy_stamp.ino == st->st_ino &&
           n->policy_stamp.size == st->st_size &&
           n->policy_stamp.mtim.tv_sec == st->st_mtim.tv_sec &&
           n->policy_stamp.mtim.tv_nsec == st->st_mtim.tv_nsec &&
           n->policy_stamp.ctim.tv_sec == st->st_ctim.tv_sec &&
           n->policy_stamp.ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* The node's own principal: its own calls are checked as a peer's would
 * be (an announce the network would refuse fails at once with 202). */
static void self_principal(ipcn_node *n)
{
    ipcn__principal *me = &n->self;
    me->pid = (int32_t)getpid();
    me->uid = (int32_t)geteuid();
    me->gid = (int32_t)getegid();
    me->creds_known = true;
    gid_t g[IPCN_PRINCIPAL_MAX_GROUPS];
    int k = getgroups(IPCN_PRINCIPAL_MAX_GROUPS, g);
    if (k < 0 && errno == EINVAL) {
        me->groups_truncated = true;
        k = 0;
    }
    for (int i = 0; i < k; i++)
        me->groups[i] = (uint32_t)g[i];
    me->ngroups = k > 0 ? (uint32_t)k : 0;
    me->name = n->name;
    me->node_id = n->id;
    /* Its own executable only when a rule needs it (hashing a large
     * binary costs tens of milliseconds, once per process). */
    if (n->policy->needs_exe)
        ipcn__identity_exe(me, me->pid);
}

/* Read the file now.  100 (loaded, or absent: the default), else the
 * status of ipcn__policy_load() with the reason logged. */
static int load(ipcn_node *n, ipcn__policy **out, struct stat *st,
                bool *present)
{
    char why[512] = "";
    *present = false;
    int r = stat(n->policy_path, st);
    if (r < 0 && errno == ENOENT && n->policy_required) {
        /* A file named by IPCNET_POLICY must be there: a typo must not
         * open the network. */
        ipcn__err("IPCN-POLICY-REFUSED", "%s: %s (IPCNET_POLICY): no such "
                  "file", n->name, n->policy_path);
        return IPCN_NOT_FOUND;
    }
    if (r < 0 && errno == ENOENT) {
        *out = ipcn__policy_new(n->shared_net ? IPCN__PROFILE_DENY
                                              : IPCN__PROFILE_ALLOW);
        return *out ? IPCN_OK : IPCN_INSUFFICIENT_MEMORY;
    }
    int status = ipcn__policy_load(n->policy_path, n->policy_owner, out, why,
                                   sizeof why);
    if (status == IPCN_NOT_FOUND && !n->policy_required) {
        /* removed between the two looks */
        *out = ipcn__policy_new(n->shared_net ? IPCN__PROFILE_DENY
                                              : IPCN__PROFILE_ALLOW);
        return *out ? IPCN_OK : IPCN_INSUFFICIENT_MEMORY;
    }
    if (status != IPCN_OK) {
        ipcn__err("IPCN-POLICY-REFUSED", "%s: policy refused as a whole: %s",
                  n->name, why);
        return status;
    }
    *present = true;
    return IPCN_OK;
}

static void describe(ipcn_node *n, const char *what)
{
    const ipcn__policy *p = n->policy;
    if (n->policy_stamp.present)
        ipcn__info("IPCN-POLICY-LOADED", "%s: %s %s: default %s, %u rules, "
                   "%u groups", n->name, what, n->policy_path,
                   ipcn__profile_name(p->profile), p->nrules, p->ngroups);
    else
        ipcn__info("IPCN-POLICY-LOADED", "%s: no %s: default %s (%s network)",
                   n->name, n->policy_path, ipcn__profile_name(p->profile),
                   n->shared_net ? "shared" : "per-user");
}

int ipcn__node_policy_open(ipcn_node *n)
{
    struct stat dst;
    if (fstat(n->dirfd, &dst) < 0)
        return IPCN_INTERNAL_ERROR;
    n->shared_net = (dst.st_mode & S_ISGID) && (dst.st_mode & 0070);
    /* The file must be its network's owner's (or root's). */
    n->policy_owner = (int64_t)dst.st_uid;
    n->policy_wd = -1;
    const char *env = getenv("IPCNET_POLICY");
    if (env && *env) {
        n->policy_path = ipcn__strdup(env);
        n->policy_required = true;
    }
    else if (n->dir) {
        size_t len = strlen(n->dir) + sizeof POLICY_FILE + 1;
        if ((n->policy_path = ipcn__malloc(len)))
            snprintf(n->policy_path, len, "%s/%s", n->dir, POLICY_FILE);
    }
    if (!n->policy_path)
        return IPCN_INSUFFICIENT_MEMORY;
    struct stat st;
    bool present;
    int status = load(n, &n->policy, &st, &present);
    if (status != IPCN_OK)
        return status == IPCN_INSUFFICIENT_MEMORY ? status : IPCN_FORBIDDEN;
    stamp(n, present ? &st : NULL);
    n->policy_gen = 1;
    n->hist_policy = n->policy->guard.debug_history != 0;
    self_principal(n);
    describe(n, "enforcing");
    /* Watch the file's directory (the network's own is watched already:
     * IN_MASK_ADD adds to that watch). */
    if (n->inotifyfd >= 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", n->policy_path);
        char *slash = strrchr(dir, '/');
        if (slash == dir)
            slash[1] = 0;
        else if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
        n->policy_wd = inotify_add_watch(n->inotifyfd, dir,
                                         IN_MASK_ADD | IN_CLOSE_WRITE |
                                         IN_MOVED_TO | IN_MOVED_FROM |
                                         IN_CREATE | IN_DELETE | IN_ATTRIB |
                                         IN_ONLYDIR);
        if (n->policy_wd < 0)
            ipcn__warn("IPCN-POLICY-WATCH", "%s: cannot watch %s (%s): the "
                       "policy is checked for changes every tick instead",
                       n->name, dir, strerror(errno));
        /* Is it the network's own directory (one watch for both)? */
        struct stat ds;
        n->policy_wd_shared = stat(dir, &ds) == 0 &&
                              ds.st_dev == dst.st_dev &&
                              ds.st_ino == dst.st_ino;
    }
    return IPCN_OK;
}

void ipcn__node_policy_close(ipcn_node *n)
{
    ipcn__policy_free(n->policy);
    n->policy = NULL;
    ipcn__free(n->policy_path);
    n->policy_path = NULL;
    n->self.name = NULL; /* n->name's */
    ipcn__identity_free(&n->self);
}

void ipcn__node_policy_poll(ipcn_node *n)
{
    if (!n->policy_path)
        return;
    struct stat st;
    bool exists = stat(n->policy_path, &st) == 0;
    if (stamp_same(n, exists ? &st : NULL))
        return;
    ipcn__policy *p = NULL;
    bool present;
    int status = load(n, &p, &st, &present);
    /* Seen, whatever came of it: a refused file is not read again until
     * it changes again. */
    stamp(n, present || exists ? &st : NULL);
    if (status != IPCN_OK) {
        n->stats.policy_rejected++;
        ipcn__err("IPCN-POLICY-KEPT", "%s: still enforcing the policy loaded "
                  "before", n->name);
        return;
    }
    ipcn__policy *old = n->policy;
    n->policy = p;
    n->hist_policy = p->guard.debug_history != 0;
    n->policy_gen++;
    n->stats.policy_reloads++;
    if (p->needs_exe && !n->self.exe_hashed)
        ipcn__identity_exe(&n->self, n->self.pid);
    describe(n, "now enforcing");
    ipcn__in in = {.kind = IPCN__IN_POLICY, .old_policy = old};
    ipcn__engine_in(n, &in);
    ipcn__policy_free(old);
}

bool ipcn__node_policy_event(ipcn_node *n, int wd, const char *name)
{
    if (wd != n->policy_wd || !n->policy_path)
        return false;
    const char *base = strrchr(n->policy_path, '/');
    base = base ? base + 1 : n->policy_path;
    if (strcmp(name, base) != 0)
        return !n->policy_wd_shared; /* another directory's: not a node */
    ipcn__node_policy_poll(n);
    return true;
}
