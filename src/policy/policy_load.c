/* SPDX-License-Identifier: MIT */
/*
 * policy_load.c — the network's policy file (YAML, read with libyaml).
 *
 *     version: 1
 *     default: deny                  # allow | deny | audit
 *     groups:                        # IPCNet groups: name -> member selectors
 *       drivers: ["user:motor", "node:cam-*"]
 *     rules:
 *       - allow: [read, execute]     # or deny; a verb or a list; all
 *         who: ["unix_group:operators", "group:drivers"]
 *         what: [motors/cmd, "camera/front"]   # resource patterns
 *     limits: [...]                  # }
 *     reputation: {...}              # } the guard: guard.h, guard_load.c
 *     detect: {...}                  # }
 *
 * Fail closed: the file is taken as a whole or not at all.  Anything this
 * file does not know (a key, a verb, a profile, a user, a group) refuses
 * it with "FILE:LINE: reason"; nothing is ever implied, so `default` is
 * required too.
 *
 * The file is untrusted text of at most 64 KiB.  It is read with libyaml's
 * event API into a small tree whose depth is capped (a nested list deeper
 * than the format has is refused as it opens), with no alias, anchor or
 * tag accepted: nothing in it can make the reader recurse or copy without
 * bound (yaml_tree.c, the reader the supervisor's manifest shares).  The
 * tree is then checked against the format and turned into an
 * ipcn__policy; groups are read before rules and the guard so that a
 * "group:X" can be checked wherever the group is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy/policy_impl.h"
#include "util/util.h"

#define FILE_MAX (64u * 1024u)
#define RULES_MAX 4096u
#define GROUPS_MAX 256u
#define DEPTH_MAX 4u      /* document map > rules > rule map > list */
#define DEPTH_DETECT 5u   /* document > detect > components > map > list */
#define GROUP_NAME_MAX 64u

/* ---- the tree (yaml_tree.c reads it) ---- */

/* How deep collections may nest where the reader is (stack[0..depth) are
 * the open ones): DEPTH_MAX, but one more under the document's "detect"
 * (its components' "who" lists). */
static uint32_t policy_depth(ipcn__yn *const *stack, uint32_t depth)
{
    if (depth < 2 || stack[0]->kind != IPCN__Y_MAP || stack[0]->nkid < 2 ||
        stack[0]->nkid % 2)
        return DEPTH_MAX;
    /* stack[1] is the last value of the document map, after its key */
    const ipcn__yn *key = stack[0]->kid[stack[0]->nkid - 2];
    if (stack[0]->kid[stack[0]->nkid - 1] == stack[1] &&
        key->kind == IPCN__Y_SCALAR && !strcmp(key->text, "detect"))
        return DEPTH_DETECT;
    return DEPTH_MAX;
}

/* ---- the format ---- */

/* Parse one selector at node s into *out. */
static int selector_at(ipcn__plctx *c, const ipcn__yn *s, ipcn__selector *out)
{
    char why[256] = "";
    int st = ipcn__selector_parse(s->text, out, why, sizeof why);
    if (st == IPCN_INSUFFICIENT_MEMORY)
        return ipcn__pl_oom(c);
    if (st != IPCN_OK)
        return ipcn__pl_fail(c, s->line, "%s", why);
    return IPCN_OK;
}

static bool cond_needs_exe(const ipcn__selector *s)
{
    for (uint32_t i = 0; i < s->nconds; i++)
        if (s->conds[i].kind == IPCN__C_EXE ||
            s->conds[i].kind == IPCN__C_SHA256)
            return true;
    return false;
}

static bool group_name_ok(const char *s, size_t len)
{
    if (!len || len > GROUP_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
              ch == '.'))
            return false;
    }
    return true;
}

static int read_groups(ipcn__plctx *c, const ipcn__yn *v, ipcn__policy *p)
{
    if (v->kind != IPCN__Y_MAP)
        return ipcn__pl_fail(c, v->line,
                             "groups: a mapping of names to members "
                             "expected, not %s",
                             ipcn__pl_kind(v->kind));
    uint32_t n = v->nkid / 2;
    if (n > GROUPS_MAX)
        return ipcn__pl_fail(c, v->line, "more than %u groups", GROUPS_MAX);
    if (!n)
        return IPCN_OK;
    if (!(p->groups = ipcn__calloc(n, sizeof *p->groups)))
        return ipcn__pl_oom(c);
    for (uint32_t i = 0; i < n; i++) {
        const ipcn__yn *k = v->kid[2 * i], *m = v->kid[2 * i + 1];
        if (k->kind != IPCN__Y_SCALAR || !group_name_ok(k->text, k->len))
            return ipcn__pl_fail(c, k->line,
                                 "a group name is 1 to %u of A-Z a-z 0-9 "
                                 "_ - .",
                                 GROUP_NAME_MAX);
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(p->groups[j].name, k->text))
                return ipcn__pl_fail(c, k->line,
                                     "group \"%s\" defined twice (also "
                                     "on line %u)",
                                     k->text, p->groups[j].line);
        ipcn__group *g = &p->groups[p->ngroups++];
        g->line = k->line;
        if (!(g->name = ipcn__strdup(k->text)))
            return ipcn__pl_oom(c);
        ipcn__items items;
        const ipcn__yn *one;
        uint32_t ni;
        int st = ipcn__pl_list(c, m, "member selector", &items, &ni, &one);
        if (st != IPCN_OK)
            return st;
        if (!(g->members = ipcn__calloc(ni, sizeof *g->members)))
            return ipcn__pl_oom(c);
        for (uint32_t j = 0; j < ni; j++) {
            ipcn__selector *s = &g->members[g->nmembers];
            if ((st = selector_at(c, items[j], s)) != IPCN_OK)
                return st;
            g->nmembers++;
            for (uint32_t q = 0; q < s->nconds; q++)
                if (s->conds[q].kind == IPCN__C_GROUP)
                    return ipcn__pl_fail(c, items[j]->line,
                                         "group \"%s\": a member "
                                         "cannot name a group (group:%s)",
                                         g->name, s->conds[q].text);
            p->needs_exe = p->needs_exe || cond_needs_exe(s);
        }
    }
    return IPCN_OK;
}

static bool group_defined(const ipcn__policy *p, const char *name)
{
    for (uint32_t i = 0; i < p->ngroups; i++)
        if (!strcmp(p->groups[i].name, name))
            return true;
    return false;
}

int ipcn__pl_selectors(ipcn__plctx *c, const ipcn__yn *v, ipcn__policy *p,
                       ipcn__selector **out, uint32_t *nout)
{
    ipcn__items items;
    const ipcn__yn *one;
    uint32_t n;
    int st = ipcn__pl_list(c, v, "selector", &items, &n, &one);
    if (st != IPCN_OK)
        return st;
    if (!(*out = ipcn__calloc(n, sizeof **out)))
        return ipcn__pl_oom(c);
    for (uint32_t i = 0; i < n; i++) {
        ipcn__selector *s = &(*out)[*nout];
        if ((st = selector_at(c, items[i], s)) != IPCN_OK)
            return st;
        (*nout)++;
        for (uint32_t q = 0; q < s->nconds; q++)
            if (s->conds[q].kind == IPCN__C_GROUP &&
                !group_defined(p, s->conds[q].text))
                return ipcn__pl_fail(c, items[i]->line, "group \"%.60s\" is "
                                     "not defined under groups:",
                                     s->conds[q].text);
        p->needs_exe = p->needs_exe || cond_needs_exe(s);
    }
    return IPCN_OK;
}

int ipcn__pl_patterns(ipcn__plctx *c, const ipcn__yn *v, char ***out,
                      uint32_t *nout)
{
    ipcn__items items;
    const ipcn__yn *one;
    uint32_t n;
    int st = ipcn__pl_list(c, v, "resource pattern", &items, &n, &one);
    if (st != IPCN_OK)
        return st;
    if (!(*out = ipcn__calloc(n, sizeof **out)))
        return ipcn__pl_oom(c);
    for (uint32_t i = 0; i < n; i++) {
        if (ipcn__pattern_check(items[i]->text, items[i]->len) != IPCN_OK)
            return ipcn__pl_fail(c, items[i]->line,
                                 "\"%.60s\" is not a resource pattern "
                                 "(segments separated by /, each a name, * "
                                 "or **)",
                                 items[i]->text);
        if (!((*out)[*nout] = ipcn__strdup(items[i]->text)))
            return ipcn__pl_oom(c);
        (*nout)++;
    }
    return IPCN_OK;
}

static int read_verbs(ipcn__plctx *c, const ipcn__yn *v, const char *key,
                      uint32_t *verbs)
{
    ipcn__items items;
    const ipcn__yn *one;
    uint32_t n;
    int st = ipcn__pl_list(c, v, "verb", &items, &n, &one);
    if (st != IPCN_OK)
        return st;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b = ipcn__verb_parse(items[i]->text);
        if (!b)
            return ipcn__pl_fail(c, items[i]->line,
                                 "%s: unknown verb \"%.60s\" (read, "
                                 "write, execute, provide, all)",
                                 key, items[i]->text);
        *verbs |= b;
    }
    return IPCN_OK;
}

static int read_rule(ipcn__plctx *c, const ipcn__yn *m, ipcn__policy *pol,
                     ipcn__rule *r)
{
    static const char *const keys[] = {"allow", "deny", "who", "what", NULL};
    if (m->kind != IPCN__Y_MAP)
        return ipcn__pl_fail(c, m->line,
                             "a rule is a mapping (allow or deny, who, "
                             "what), not %s",
                             ipcn__pl_kind(m->kind));
    int st = ipcn__pl_keys(c, m, "a rule", keys);
    if (st != IPCN_OK)
        return st;
    r->line = m->line;
    const ipcn__yn *allow = ipcn__pl_get(m, "allow"),
                   *deny = ipcn__pl_get(m, "deny");
    const ipcn__yn *who = ipcn__pl_get(m, "who"),
                   *what = ipcn__pl_get(m, "what");
    if (allow && deny)
        return ipcn__pl_fail(c, m->line, "a rule has allow or deny, not both");
    if (!allow && !deny)
        return ipcn__pl_fail(c, m->line,
                             "a rule needs allow: or deny: (its verbs)");
    if (!who)
        return ipcn__pl_fail(c, m->line, "a rule needs who: (its selectors)");
    if (!what)
        return ipcn__pl_fail(c, m->line,
                             "a rule needs what: (its resource patterns)");
    r->deny = deny != NULL;
    if ((st = read_verbs(c, deny ? deny : allow, deny ? "deny" : "allow",
                         &r->verbs)) != IPCN_OK)
        return st;

    if ((st = ipcn__pl_selectors(c, who, pol, &r->who, &r->nwho)) != IPCN_OK)
        return st;
    return ipcn__pl_patterns(c, what, &r->what, &r->nwhat);
}

static int read_rules(ipcn__plctx *c, const ipcn__yn *v, ipcn__policy *p)
{
    if (v->kind != IPCN__Y_SEQ)
        return ipcn__pl_fail(c, v->line,
                             "rules: a list of rules expected, not %s",
                             ipcn__pl_kind(v->kind));
    if (v->nkid > RULES_MAX)
        return ipcn__pl_fail(c, v->line, "more than %u rules", RULES_MAX);
    if (!v->nkid)
        return IPCN_OK;
    if (!(p->rules = ipcn__calloc(v->nkid, sizeof *p->rules)))
        return ipcn__pl_oom(c);
    for (uint32_t i = 0; i < v->nkid; i++) {
        ipcn__rule *r = &p->rules[p->nrules++];
        int st = read_rule(c, v->kid[i], p, r);
        if (st != IPCN_OK)
            return st;
    }
    return IPCN_OK;
}

static int read_policy(ipcn__plctx *c, const ipcn__yn *root, ipcn__policy *p)
{
    static const char *const keys[] = {"version",    "default", "groups",
                                       "rules",      "limits",  "reputation",
                                       "detect",     "debug",   NULL};
    if (!root || (root->kind == IPCN__Y_SCALAR && !root->len))
        return ipcn__pl_fail(c, root ? root->line : 1,
                             "an empty policy (version: 1 and default: are "
                             "required)");
    if (root->kind != IPCN__Y_MAP)
        return ipcn__pl_fail(c, root->line,
                             "a policy is a mapping (version, default, "
                             "groups, rules, ...), not %s",
                             ipcn__pl_kind(root->kind));
    int st = ipcn__pl_keys(c, root, "the policy", keys);
    if (st != IPCN_OK)
        return st;
    const ipcn__yn *v = ipcn__pl_get(root, "version");
    if (!v)
        return ipcn__pl_fail(c, root->line, "version: is missing (version: 1)");
    if (v->kind != IPCN__Y_SCALAR)
        return ipcn__pl_fail(c, v->line, "version: 1 expected, not %s",
                             ipcn__pl_kind(v->kind));
    if (strcmp(v->text, "1"))
        return ipcn__pl_fail(
            c, v->line, "version \"%.60s\": only version 1 is known", v->text);
    const ipcn__yn *d = ipcn__pl_get(root, "default");
    if (!d)
        return ipcn__pl_fail(c, root->line,
                             "default: is missing (allow, deny or audit)");
    if (d->kind == IPCN__Y_SCALAR && !strcmp(d->text, "allow"))
        p->profile = IPCN__PROFILE_ALLOW;
    else if (d->kind == IPCN__Y_SCALAR && !strcmp(d->text, "deny"))
        p->profile = IPCN__PROFILE_DENY;
    else if (d->kind == IPCN__Y_SCALAR && !strcmp(d->text, "audit"))
        p->profile = IPCN__PROFILE_AUDIT;
    else if (d->kind == IPCN__Y_SCALAR)
        return ipcn__pl_fail(c, d->line,
                             "default \"%.60s\": allow, deny or audit expected",
                             d->text);
    else
        return ipcn__pl_fail(c, d->line,
                             "default: allow, deny or audit expected, not %s",
                             ipcn__pl_kind(d->kind));
    const ipcn__yn *g = ipcn__pl_get(root, "groups");
    if (g && (st = read_groups(c, g, p)) != IPCN_OK)
        return st;
    const ipcn__yn *r = ipcn__pl_get(root, "rules");
    if (r && (st = read_rules(c, r, p)) != IPCN_OK)
        return st;
    return ipcn__guard_read(c, root, p);
}

int ipcn__policy_parse(const void *bytes, size_t len, const char *name,
                       ipcn__policy **out, char *why, size_t whylen)
{
    ipcn__plctx c = {.name = name ? name : "policy",
                     .why = why,
                     .whylen = whylen,
                     .doc = "policy",
                     .depth_max = policy_depth};
    if (why && whylen)
        why[0] = 0;
    if (len > FILE_MAX)
        return ipcn__pl_fail(&c, 1, "larger than %u KiB", FILE_MAX / 1024);
    ipcn__yn *root = NULL;
    int st = ipcn__yaml_read(&c, bytes ? bytes : "", bytes ? len : 0, &root);
    if (st != IPCN_OK)
        return st;
    ipcn__policy *p = ipcn__policy_new(IPCN__PROFILE_DENY);
    if (!p) {
        ipcn__yaml_free(root);
        return ipcn__pl_oom(&c);
    }
    st = read_policy(&c, root, p);
    ipcn__yaml_free(root);
    if (st == IPCN_OK && name && !(p->file = ipcn__strdup(name)))
        st = ipcn__pl_oom(&c);
    if (st != IPCN_OK) {
        ipcn__policy_free(p);
        return st;
    }
    *out = p;
    return IPCN_OK;
}

/* ---- the file ---- */

static __attribute__((format(printf, 4, 5))) int
file_fail(int status, char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && whylen)
        vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return status;
}

/* The owner and mode rule: a regular file, owned by root or by owner, and
 * writable by nobody else. */
static int check_owner(const char *file, int fd, uid_t owner, size_t *size,
                       char *why, size_t whylen)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return file_fail(IPCN_FORBIDDEN, why, whylen, "%s: %s", file,
                         strerror(errno));
    if (!S_ISREG(st.st_mode))
        return file_fail(IPCN_FORBIDDEN, why, whylen,
                         "%s: not a regular file", file);
    if (st.st_uid != 0 && st.st_uid != owner)
        return file_fail(IPCN_FORBIDDEN, why, whylen,
                         "%s: owned by uid %u, not by root or uid %u", file,
                         (unsigned)st.st_uid, (unsigned)owner);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return file_fail(IPCN_FORBIDDEN, why, whylen,
                         "%s: writable by %s (mode %04o): only its owner may "
                         "write it (chmod go-w)", file,
                         st.st_mode & S_IWGRP ? "its group" : "others",
                         (unsigned)(st.st_mode & 07777));
    *size = (size_t)st.st_size;
    return IPCN_OK;
}

int ipcn__policy_load(const char *file, int64_t owner_uid,
                      ipcn__policy **out, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = 0;
    if (!file || !*file)
        return file_fail(IPCN_BAD_REQUEST, why, whylen, "no policy file named");
    /* O_NONBLOCK: a FIFO put there must not hang the open. */
    int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return file_fail(IPCN_NOT_FOUND, why, whylen, "%s: no such file",
                             file);
        if (e == ELOOP)
            return file_fail(IPCN_FORBIDDEN, why, whylen, "%s: a symbolic "
                             "link (the policy must be the file itself)",
                             file);
        if (e == ENOMEM)
            return file_fail(IPCN_INSUFFICIENT_MEMORY, why, whylen, "%s: %s",
                             file, strerror(e));
        return file_fail(IPCN_FORBIDDEN, why, whylen, "%s: %s", file,
                         strerror(e));
    }
    uid_t owner = owner_uid >= 0 ? (uid_t)owner_uid : geteuid();
    size_t size = 0;
    int st = check_owner(file, fd, owner, &size, why, whylen);
    if (st == IPCN_OK && size > FILE_MAX)
        st = file_fail(IPCN_BAD_REQUEST, why, whylen, "%s:1: larger than %u "
                       "KiB", file, FILE_MAX / 1024);
    char *buf = NULL;
    size_t len = 0;
    /* Read at most one byte past the bound: the file may grow after fstat. */
    if (st == IPCN_OK && !(buf = ipcn__malloc(FILE_MAX + 1)))
        st = file_fail(IPCN_INSUFFICIENT_MEMORY, why, whylen, "%s: out of "
                       "memory", file);
    while (st == IPCN_OK && len <= FILE_MAX) {
        ssize_t r = read(fd, buf + len, FILE_MAX + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            st = file_fail(IPCN_FORBIDDEN, why, whylen, "%s: %s", file,
                           strerror(errno));
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (st == IPCN_OK && len > FILE_MAX)
        st = file_fail(IPCN_BAD_REQUEST, why, whylen, "%s:1: larger than %u "
                       "KiB", file, FILE_MAX / 1024);
    if (st == IPCN_OK)
        st = ipcn__policy_parse(buf, len, file, out, why, whylen);
    ipcn__free(buf);
    return st;
}
