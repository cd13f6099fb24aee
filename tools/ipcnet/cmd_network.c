/* SPDX-License-Identifier: MIT */
/*
 * cmd_network.c — `ipcnet network create NAME --group G` and `ipcnet network
 * show NAME`: a network directory shared by the users of a Unix group
 * (docs/protocol.md, section 6.1), made and shown with no node.
 *
 * The layout: BASE/NAME owned by its creator (root, for other users'
 * nodes to accept it), group G, mode 3770: setgid, so that what the nodes
 * make in it belongs to G; sticky, so that a member cannot remove or
 * replace another's files or the policy; nothing for others, who cannot
 * even enter it.  With --policy, BASE/NAME/policy.yaml, the creator's,
 * mode 0644.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define SHARED_MODE 03770
#define POLICY_FILE "policy.yaml"
#define POLICY_MAX (1u << 20)

/* The base of networks, as the library chooses it. */
static int base_dir(const cli *c, char *buf, size_t n)
{
    const char *base = c->dir ? c->dir : getenv("IPCNET_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int k;
    if (base && *base)
        k = snprintf(buf, n, "%s", base);
    else if (xdg && *xdg)
        k = snprintf(buf, n, "%s/ipcnet", xdg);
    else
        k = snprintf(buf, n, "/tmp/ipcnet-%u", (unsigned)geteuid());
    return k > 0 && (size_t)k < n ? 0 : -1;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 64 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

static int group_of(const char *g, gid_t *out)
{
    struct group *gr = getgrnam(g);
    if (gr) {
        *out = gr->gr_gid;
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(g, &end, 10);
    if (!errno && end != g && !*end && v < (gid_t)-1 && getgrgid((gid_t)v)) {
        *out = (gid_t)v;
        return 0;
    }
    return -1;
}

static const char *user_name(uid_t uid, char *buf, size_t n)
{
    struct passwd *pw = getpwuid(uid);
    snprintf(buf, n, "%s", pw ? pw->pw_name : "?");
    return buf;
}

static const char *group_name(gid_t gid, char *buf, size_t n)
{
    struct group *gr = getgrgid(gid);
    snprintf(buf, n, "%s", gr ? gr->gr_name : "?");
    return buf;
}

/* What the library asks of a base (rendezvous.c, check_base). */
static int base_ok(const char *base)
{
    struct stat st;
    if (stat(base, &st) < 0)
        return cli_fail(IPCN_NOT_FOUND, "%s: %s", base, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cli_fail(IPCN_FORBIDDEN, "%s is not a directory", base);
    if (st.st_uid != geteuid() && st.st_uid != 0)
        return cli_fail(IPCN_FORBIDDEN, "%s belongs to uid %u, neither us nor "
                        "root: nodes would refuse it", base, (unsigned)st.st_uid);
    if ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX))
        return cli_fail(IPCN_FORBIDDEN, "%s is writable by others without the "
                        "sticky bit (mode %o): nodes would refuse it", base,
                        (unsigned)(st.st_mode & 07777));
    if ((st.st_mode & 0001) == 0)
        cli_warn("%s (mode %o) cannot be entered by other users: the group's "
                 "users will not reach the network (use --dir /run/ipcnet)", base,
                 (unsigned)(st.st_mode & 07777));
    return 0;
}

/* Copy FILE to dirfd/policy.yaml, ours, 0644, through a temporary name. */
static int copy_policy(int dirfd, const char *dir, const char *file)
{
    sbuf b = {0};
    if (read_file(file, &b) < 0)
        return cli_fail(IPCN_NOT_FOUND, "%s: %s", file, strerror(errno));
    if (b.len > POLICY_MAX) {
        sb_free(&b);
        return cli_fail(IPCN_BAD_REQUEST, "%s: larger than %u bytes", file, POLICY_MAX);
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".%s.%d", POLICY_FILE, (int)getpid());
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                    0644);
    bool ok = fd >= 0 && fchmod(fd, 0644) == 0 &&
              (b.len == 0 || write(fd, b.p, b.len) == (ssize_t)b.len) &&
              fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) < 0 && ok) {
        ok = false;
        e = errno;
    }
    sb_free(&b);
    if (ok && renameat(dirfd, tmp, dirfd, POLICY_FILE) < 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        if (fd >= 0)
            unlinkat(dirfd, tmp, 0);
        return cli_fail(IPCN_INTERNAL_ERROR, "%s/%s: %s", dir, POLICY_FILE,
                        strerror(e));
    }
    return 0;
}

static int show(cli *c, const char *dir)
{
    struct stat st, ps;
    if (lstat(dir, &st) < 0)
        return cli_fail(errno == ENOENT ? IPCN_NOT_FOUND : IPCN_FORBIDDEN, "%s: %s",
                        dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cli_fail(IPCN_BAD_REQUEST, "%s is not a directory", dir);
    char pf[4200], un[64], gn[64], pun[64];
    snprintf(pf, sizeof pf, "%s/%s", dir, POLICY_FILE);
    bool policy = lstat(pf, &ps) == 0;
    unsigned mode = (unsigned)(st.st_mode & 07777);
    bool shared = (st.st_mode & S_ISGID) && (st.st_mode & S_ISVTX) &&
                  !(st.st_mode & 0007);
    const char *layout = shared ? (st.st_uid == 0 ? "shared" : "shared (owner not root: "
                                   "only its owner's nodes accept it)")
                         : (st.st_mode & 0077) ? "not a valid network directory"
                                               : "per-user";
    if (c->json) {
        jw j = {0};
        jw_obj(&j, NULL);
        jw_str(&j, "network", c->pos[1]);
        jw_str(&j, "dir", dir);
        jw_str(&j, "owner", user_name(st.st_uid, un, sizeof un));
        jw_uint(&j, "uid", st.st_uid);
        jw_str(&j, "group", group_name(st.st_gid, gn, sizeof gn));
        jw_uint(&j, "gid", st.st_gid);
        char m[8];
        snprintf(m, sizeof m, "%04o", mode);
        jw_str(&j, "mode", m);
        jw_bool(&j, "shared", shared);
        if (policy) {
            jw_obj(&j, "policy");
            jw_str(&j, "file", pf);
            jw_str(&j, "owner", user_name(ps.st_uid, pun, sizeof pun));
            snprintf(m, sizeof m, "%04o", (unsigned)(ps.st_mode & 07777));
            jw_str(&j, "mode", m);
            jw_end_obj(&j);
        } else {
            jw_null(&j, "policy");
        }
        jw_end_obj(&j);
        emit(&j);
    } else {
        out("network  %s\ndir      %s\nowner    %s (uid %u)\ngroup    %s (gid %u)\n"
            "mode     %04o\nlayout   %s\n", c->pos[1], dir,
            user_name(st.st_uid, un, sizeof un), (unsigned)st.st_uid,
            group_name(st.st_gid, gn, sizeof gn), (unsigned)st.st_gid, mode, layout);
        if (policy)
            out("policy   %s (owner %s, mode %04o)\n", pf,
                user_name(ps.st_uid, pun, sizeof pun), (unsigned)(ps.st_mode & 07777));
        else
            out("policy   none\n");
    }
    out_flush();
    return 0;
}

static int create(cli *c, const char *base, const char *dir)
{
    gid_t gid;
    if (!c->group)
        return cli_usage_error(c->verb, "create needs --group G");
    if (group_of(c->group, &gid) < 0)
        return cli_fail(IPCN_NOT_FOUND, "no Unix group '%s'", c->group);
    /* The base: made when missing, readable and enterable by all. */
    if (mkdir(base, 0755) == 0)
        (void)chmod(base, 0755);
    else if (errno != EEXIST)
        return cli_fail(IPCN_FORBIDDEN, "cannot create %s: %s", base, strerror(errno));
    int rc = base_ok(base);
    if (rc)
        return rc;
    bool made = mkdir(dir, 0700) == 0;
    if (!made && errno != EEXIST)
        return cli_fail(IPCN_FORBIDDEN, "cannot create %s: %s", dir, strerror(errno));
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = cli_fail(IPCN_FORBIDDEN, "%s: %s", dir, strerror(errno));
        goto done;
    }
    if (!made && (st.st_uid != geteuid() || st.st_gid != gid ||
                  (st.st_mode & 07777) != SHARED_MODE)) {
        /* Someone else's, another group's, or a per-user network: not to be
         * changed under its nodes.  The same again is not an error. */
        rc = cli_fail(IPCN_CONFLICT, "%s exists (owner uid %u, group %u, mode %04o)",
                      dir, (unsigned)st.st_uid, (unsigned)st.st_gid,
                      (unsigned)(st.st_mode & 07777));
        goto done;
    }
    /* The group first, then the mode: chown may clear the setgid bit. */
    if (fchown(fd, (uid_t)-1, gid) < 0 || fchmod(fd, SHARED_MODE) < 0) {
        rc = cli_fail(IPCN_FORBIDDEN, "%s: cannot give it group %s and mode %04o: %s",
                      dir, c->group, SHARED_MODE, strerror(errno));
        goto done;
    }
    if (geteuid() != 0)
        cli_warn("%s belongs to uid %u, not root: other users' nodes refuse a "
                 "network whose owner could remove their files; create it as root",
                 dir, (unsigned)geteuid());
    if (c->policy && (rc = copy_policy(fd, dir, c->policy)))
        goto done;
    rc = show(c, dir);
done:
    if (fd >= 0)
        close(fd);
    return rc;
}

int cmd_network(cli *c)
{
    const char *sub = c->pos[0], *name = c->pos[1];
    if (strcmp(sub, "create") && strcmp(sub, "show"))
        return cli_usage_error(c->verb, "no subcommand '%s': create or show", sub);
    if (!name_ok(name))
        return cli_usage_error(c->verb, "'%s' is not a network name (1 to 64 of "
                               "A-Z a-z 0-9 . _ -, not starting with '.')", name);
    if (!strcmp(sub, "show") && (c->group || c->policy))
        return cli_usage_error(c->verb, "show takes no --group or --policy");
    char base[4096], dir[4200];
    if (base_dir(c, base, sizeof base) < 0)
        return cli_usage_error(c->verb, "the base directory's name is too long");
    snprintf(dir, sizeof dir, "%s/%s", base, name);
    return !strcmp(sub, "create") ? create(c, base, dir) : show(c, dir);
}
