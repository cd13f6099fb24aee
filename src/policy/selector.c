/* SPDX-License-Identifier: MIT */
/*
 * selector.c — which principals a rule names.  A selector is written as
 * conditions separated by spaces, all of which must hold:
 *
 *     user:alice unix_group:robot node:cam-* exe:/usr/bin/camd sha256:...
 *     host:gpu-* user:robot
 *
 * Users and Unix groups are resolved to ids when the selector is parsed,
 * so that a name unknown to the system is an error at load time, never a
 * rule that silently matches nobody (a user beside a host: condition is
 * another host's and need not be known here).  Matching
 * (ipcn__selector_match) is three-valued: a condition on what the node
 * could not read of a peer (its executable, its node name before hello)
 * is "unknown", and the decision turns an unknown that matters into 201.
 * A peer of another host is "host:user": what only the kernel of its own
 * host could tell (uid, groups, executable) is unknown here, never taken
 * from anything it wrote.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "policy/policy_impl.h"
#include "util/util.h"

#define SELECTOR_MAX_CONDS 16
#define COND_TEXT_MAX 4096

static const struct {
    const char *key;
    ipcn__cond_kind kind;
} keys[] = {
    {"user", IPCN__C_UID},        {"unix_group", IPCN__C_GID},
    {"group", IPCN__C_GROUP},     {"node", IPCN__C_NODE},
    {"exe", IPCN__C_EXE},         {"sha256", IPCN__C_SHA256},
    {"host", IPCN__C_HOST},
};

static __attribute__((format(printf, 3, 4))) void
say(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && whylen)
        vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* A user or Unix group by name or number; -1 when unknown, -2 when out of
 * memory (which must not pass for "unknown"). */
static int64_t resolve(ipcn__cond_kind kind, const char *v)
{
    if (all_digits(v)) {
        errno = 0;
        unsigned long x = strtoul(v, NULL, 10);
        return errno || x > 0x7fffffffUL ? -1 : (int64_t)x;
    }
    long sz = sysconf(kind == IPCN__C_UID ? _SC_GETPW_R_SIZE_MAX
                                          : _SC_GETGR_R_SIZE_MAX);
    size_t bl = sz > 0 ? (size_t)sz : 16384;
    int64_t id = -1;
    for (int tries = 0; tries < 4 && id < 0; tries++, bl *= 4) {
        char *buf = ipcn__malloc(bl);
        if (!buf)
            return -2;
        int e;
        if (kind == IPCN__C_UID) {
            struct passwd pw, *res = NULL;
            e = getpwnam_r(v, &pw, buf, bl, &res);
            if (!e && res)
                id = res->pw_uid;
        } else {
            struct group gr, *res = NULL;
            e = getgrnam_r(v, &gr, buf, bl, &res);
            if (!e && res)
                id = res->gr_gid;
        }
        ipcn__free(buf);
        if (e != ERANGE)
            break;
    }
    return id;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_cond(const char *tok, ipcn__cond *c, char *why, size_t whylen)
{
    memset(c, 0, sizeof *c);
    if (!strcmp(tok, "any")) {
        c->kind = IPCN__C_ANY;
        return IPCN_OK;
    }
    const char *colon = strchr(tok, ':');
    if (!colon || colon == tok || !colon[1]) {
        say(why, whylen, "\"%s\": a condition is any, or KEY:VALUE "
            "(user, unix_group, group, node, exe, sha256, host)", tok);
        return IPCN_BAD_REQUEST;
    }
    size_t kl = (size_t)(colon - tok);
    const char *v = colon + 1;
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(keys); i++) {
        if (strlen(keys[i].key) != kl || memcmp(keys[i].key, tok, kl))
            continue;
        c->kind = keys[i].kind;
        switch (c->kind) {
        case IPCN__C_UID:
        case IPCN__C_GID: {
            int64_t id = resolve(c->kind, v);
            if (id == -2)
                return IPCN_INSUFFICIENT_MEMORY;
            if (id < 0 && c->kind == IPCN__C_UID && !all_digits(v) &&
                strlen(v) <= COND_TEXT_MAX) {
                /* Perhaps another host's user: the caller refuses it
                 * unless a host: condition is beside it. */
                c->no_uid = true;
            } else if (id < 0) {
                say(why, whylen, "unknown %s \"%s\"",
                    c->kind == IPCN__C_UID ? "user" : "Unix group", v);
                return IPCN_BAD_REQUEST;
            } else {
                c->id = (uint32_t)id;
            }
            if (c->kind == IPCN__C_UID && !all_digits(v) &&
                !(c->text = ipcn__strdup(v)))
                return IPCN_INSUFFICIENT_MEMORY;
            return IPCN_OK;
        }
        case IPCN__C_SHA256:
            if (strlen(v) != 64) {
                say(why, whylen, "sha256:%s: 64 hex digits expected", v);
                return IPCN_BAD_REQUEST;
            }
            for (int j = 0; j < 32; j++) {
                int hi = hexval(v[2 * j]), lo = hexval(v[2 * j + 1]);
                if (hi < 0 || lo < 0) {
                    say(why, whylen, "sha256:%s: not hexadecimal", v);
                    return IPCN_BAD_REQUEST;
                }
                c->sha256[j] = (uint8_t)(hi << 4 | lo);
            }
            return IPCN_OK;
        case IPCN__C_EXE:
            if (v[0] != '/') {
                say(why, whylen, "exe:%s: an absolute path expected", v);
                return IPCN_BAD_REQUEST;
            }
            /* fall through */
        case IPCN__C_GROUP:
        case IPCN__C_NODE:
        case IPCN__C_HOST:
            if (strlen(v) > COND_TEXT_MAX) {
                say(why, whylen, "%.40s...: too long", tok);
                return IPCN_BAD_REQUEST;
            }
            return (c->text = ipcn__strdup(v)) ? IPCN_OK
                                               : IPCN_INSUFFICIENT_MEMORY;
        default:
            break;
        }
    }
    say(why, whylen, "\"%s\": unknown condition (any, user, unix_group, "
        "group, node, exe, sha256, host)", tok);
    return IPCN_BAD_REQUEST;
}

int ipcn__selector_parse(const char *text, ipcn__selector *out, char *why,
                         size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (!text) {
        say(why, whylen, "%s", "an empty selector");
        return IPCN_BAD_REQUEST;
    }
    char *copy = ipcn__strdup(text);
    ipcn__cond *conds = ipcn__calloc(SELECTOR_MAX_CONDS, sizeof *conds);
    if (!copy || !conds) {
        ipcn__free(copy);
        ipcn__free(conds);
        return IPCN_INSUFFICIENT_MEMORY;
    }
    int st = IPCN_OK;
    uint32_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, " \t", &save); tok && st == IPCN_OK;
         tok = strtok_r(NULL, " \t", &save)) {
        if (n == SELECTOR_MAX_CONDS) {
            say(why, whylen, "%s", "more than 16 conditions in a selector");
            st = IPCN_BAD_REQUEST;
            break;
        }
        st = parse_cond(tok, &conds[n], why, whylen);
        if (st == IPCN_OK)
            n++;
    }
    ipcn__free(copy);
    if (st == IPCN_OK && n == 0) {
        say(why, whylen, "%s", "an empty selector");
        st = IPCN_BAD_REQUEST;
    }
    /* A user this host does not know is another host's only beside a
     * host: condition; alone it is a typo that would name nobody. */
    bool host = false;
    for (uint32_t i = 0; i < n; i++)
        host |= conds[i].kind == IPCN__C_HOST;
    for (uint32_t i = 0; i < n; i++)
        conds[i].with_host = host;
    for (uint32_t i = 0; i < n && st == IPCN_OK && !host; i++) {
        if (conds[i].kind == IPCN__C_UID && conds[i].no_uid) {
            say(why, whylen, "unknown user \"%s\" (a user of another host "
                "needs a host: condition beside it)", conds[i].text);
            st = IPCN_BAD_REQUEST;
        }
    }
    out->conds = conds;
    out->nconds = n;
    if (st != IPCN_OK)
        ipcn__selector_clear(out);
    return st;
}

void ipcn__selector_clear(ipcn__selector *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nconds; i++)
        ipcn__free(s->conds[i].text);
    ipcn__free(s->conds);
    s->conds = NULL;
    s->nconds = 0;
}

size_t ipcn__selector_format(const ipcn__selector *s, char *buf, size_t len)
{
    size_t need = 0;
    char one[COND_TEXT_MAX + 32];
    for (uint32_t i = 0; i < s->nconds; i++) {
        const ipcn__cond *c = &s->conds[i];
        switch (c->kind) {
        case IPCN__C_ANY:
            snprintf(one, sizeof one, "any");
            break;
        case IPCN__C_UID:
            if (c->no_uid)
                snprintf(one, sizeof one, "user:%s", c->text);
            else
                snprintf(one, sizeof one, "user:%u", c->id);
            break;
        case IPCN__C_GID:
            snprintf(one, sizeof one, "unix_group:%u", c->id);
            break;
        case IPCN__C_SHA256: {
            char *p = one + snprintf(one, sizeof one, "sha256:");
            for (int j = 0; j < 32; j++)
                p += sprintf(p, "%02x", c->sha256[j]);
            break;
        }
        default:
            snprintf(one, sizeof one, "%s:%s",
                     c->kind == IPCN__C_GROUP  ? "group"
                     : c->kind == IPCN__C_NODE ? "node"
                     : c->kind == IPCN__C_HOST ? "host"
                                               : "exe",
                     c->text ? c->text : "");
            break;
        }
        size_t ol = strlen(one) + (i ? 1 : 0);
        if (len && need + ol < len) {
            if (i)
                buf[need] = ' ';
            memcpy(buf + need + (i ? 1 : 0), one, ol - (i ? 1 : 0));
        }
        need += ol;
    }
    if (len)
        buf[need < len ? need : len - 1] = 0;
    return need;
}

/* A principal of another host: "host:user".  Its user is known by name
 * only (once its router told it; unknown before), host: and node: by
 * name; nothing else of it is known here.  user:NAME and node: name it
 * only in a selector that also has a host: condition: "user:root" alone
 * is this host's root, never every trusted host's (a uid, user:0, is
 * unknown of it, as its groups and executable are). */
static int remote_match(const ipcn__cond *c, const ipcn__principal *who)
{
    if (((c->kind == IPCN__C_UID && c->text) || c->kind == IPCN__C_NODE) &&
        !c->with_host)
        return 0;
    switch (c->kind) {
    case IPCN__C_UID:
        if (!c->text || !who->user)
            return -1; /* a uid names no one of another host */
        return strcmp(c->text, who->user) == 0;
    case IPCN__C_HOST:
        return fnmatch(c->text, who->host, 0) == 0;
    case IPCN__C_NODE:
        if (!who->name)
            return -1;
        return fnmatch(c->text, who->name, 0) == 0;
    default: /* GID, EXE, SHA256: only its own host's kernel knows */
        return -1;
    }
}

/* 1 the condition holds, 0 it does not, -1 unknown. */
static int cond_match(const ipcn__cond *c, const ipcn__groupset *gs,
                      const ipcn__principal *who, bool in_group)
{
    switch (c->kind) {
    case IPCN__C_ANY:
        return 1;
    case IPCN__C_GROUP:
        /* A member selector naming a group is refused at load; in case
         * one comes through the run-time API, it does not recurse. */
        return in_group ? 0 : ipcn__group_member(gs, c->text, who);
    default:
        break;
    }
    if (who->host)
        return remote_match(c, who);
    switch (c->kind) {
    case IPCN__C_HOST:
        return 0; /* a principal of this host */
    case IPCN__C_UID:
        if (c->no_uid)
            return 0; /* another host's user only */
        return who->creds_known ? (uint32_t)who->uid == c->id : -1;
    case IPCN__C_GID:
        if (!who->creds_known)
            return -1;
        if ((uint32_t)who->gid == c->id)
            return 1;
        for (uint32_t i = 0; i < who->ngroups; i++)
            if (who->groups[i] == c->id)
                return 1;
        return who->groups_truncated ? -1 : 0;
    case IPCN__C_NODE:
        if (!who->name)
            return -1;
        return fnmatch(c->text, who->name, 0) == 0;
    case IPCN__C_EXE:
        if (!who->exe)
            return -1;
        return strcmp(c->text, who->exe) == 0;
    case IPCN__C_SHA256:
        if (!who->exe_hashed)
            return -1;
        return memcmp(c->sha256, who->exe_sha256, 32) == 0;
    default:
        return 0;
    }
}

int ipcn__selector_match(const ipcn__selector *s, const ipcn__groupset *gs,
                         const ipcn__principal *who, bool in_group)
{
    /* AND, three-valued: a false condition decides; else an unknown one
     * makes the whole unknown. */
    int r = 1;
    for (uint32_t i = 0; i < s->nconds; i++) {
        int m = cond_match(&s->conds[i], gs, who, in_group);
        if (m == 0)
            return 0;
        if (m < 0)
            r = -1;
    }
    return s->nconds ? r : 0;
}

int ipcn__group_member(const ipcn__groupset *gs, const char *name,
                       const ipcn__principal *who)
{
    for (; gs; gs = gs->next) {
        for (uint32_t i = 0; i < gs->ngroups; i++) {
            const ipcn__group *g = &gs->groups[i];
            if (strcmp(g->name, name))
                continue;
            /* OR, three-valued: one match decides; else unknown if any
             * member selector was unknown. */
            int r = 0;
            for (uint32_t j = 0; j < g->nmembers; j++) {
                int m = ipcn__selector_match(&g->members[j], gs, who, true);
                if (m > 0)
                    return 1;
                if (m < 0)
                    r = -1;
            }
            return r;
        }
    }
    return 0;
}
