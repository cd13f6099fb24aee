/* SPDX-License-Identifier: MIT */
/*
 * policy.h — who may do what: the principal behind a link, the rules that
 * name principals and resources, and the decision for one verb on one
 * path.  A layer of its own, above util and below transport: it knows
 * nothing of links or nodes, only of principals (filled by
 * transport/identity.c from the kernel) and of rules (read from the
 * network's policy file by policy_load.c, or given by a provider for its
 * own resources through ipcn_resource_set_access()).
 *
 *   selector.c     a selector's text ("user:alice node:cam*") <-> conditions
 *   policy_eval.c  the decision: deny beats allow beats the profile
 *   policy_load.c  the network's policy file (YAML, libyaml) -> a policy
 *
 *   guard.c        limits, reputation and detection (guard.h): defaults
 *   guard_load.c   ... read from the file's limits, reputation, detect
 *
 * A policy is immutable once built: a reload builds a new one and the node
 * swaps the pointer (and its generation) under its lock.
 */
#ifndef IPCN_POLICY_H
#define IPCN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"
#include "policy/guard.h"

/* ---- the principal ---- */

/* The principal behind a link (transport/identity.c): the kernel's word
 * on the process at the other end, taken once when the link starts, the
 * node name it proved at hello (by holding its lock), and the executable
 * the process runs.  Fixed for the link's life. */
#define IPCN_PRINCIPAL_MAX_GROUPS 32
typedef struct ipcn__principal {
    int32_t pid, uid, gid;  /* SO_PEERCRED (0 when the kernel said none) */
    uint32_t ngroups;       /* supplementary groups (SO_PEERGROUPS) */
    bool groups_truncated;  /* it has more than IPCN_PRINCIPAL_MAX_GROUPS */
    bool creds_known;       /* SO_PEERCRED answered */
    uint32_t groups[IPCN_PRINCIPAL_MAX_GROUPS];
    char *name;             /* from its hello, once checked; else NULL */
    uint64_t node_id;       /* from its hello (the frames' source) */
    char *exe;              /* /proc/<pid>/exe at link start, or NULL when
                               it could not be read */
    uint8_t exe_sha256[32]; /* SHA-256 of that file, when exe_hashed */
    bool exe_hashed;
    /* A node of another host (a TCP or routed link): its host's name, as
     * this node's trust list names the host key (for a node further away,
     * as the routers on the way said), and its user's name there; NULL
     * for a node of this host.  Its uid, gid and groups are then
     * unknown (creds_known false): policy matches it as "host:user". */
    char *host;
    char *user;
} ipcn__principal;

/* ---- verbs and profiles ---- */

/* The verbs a rule grants or denies (a bit mask).  READ, WRITE and
 * EXECUTE are the public IPCN_ACCESS_* values. */
enum {
    IPCN__V_READ = 1u,    /* find/info, query, subscribe */
    IPCN__V_WRITE = 2u,   /* ipcn_set, publish to another's stream */
    IPCN__V_EXECUTE = 4u, /* request a service */
    IPCN__V_PROVIDE = 8u, /* announce or offer at the path */
    IPCN__V_ALL = 15u
};

typedef enum ipcn__profile {
    IPCN__PROFILE_ALLOW = 0, /* what no rule decides is allowed */
    IPCN__PROFILE_DENY = 1,  /* ... is refused */
    IPCN__PROFILE_AUDIT = 2  /* decided as DENY, never refused: what DENY
                                would refuse is logged and counted */
} ipcn__profile;

/* ---- selectors: which principals a rule names ---- */

/* One condition on a principal.  A selector is the AND of its conditions;
 * a rule's "who" is the OR of its selectors. */
typedef enum ipcn__cond_kind {
    IPCN__C_ANY = 1,    /* "any": every principal */
    IPCN__C_UID,        /* "user:NAME" or "user:UID" (resolved to a uid; a
                           node of another host: its user's name, NAME) */
    IPCN__C_GID,        /* "unix_group:NAME|GID": primary or supplementary */
    IPCN__C_GROUP,      /* "group:NAME": an IPCNet group */
    IPCN__C_NODE,       /* "node:PATTERN": the proved node name, fnmatch(3) */
    IPCN__C_EXE,        /* "exe:PATH": the executable's path, exactly */
    IPCN__C_SHA256,     /* "sha256:HEX": the executable's SHA-256 */
    IPCN__C_HOST        /* "host:PATTERN": a node of another host, whose
                           host name matches, fnmatch(3) */
} ipcn__cond_kind;

typedef struct ipcn__cond {
    ipcn__cond_kind kind;
    uint32_t id;        /* UID, GID */
    bool no_uid;        /* UID: a NAME this host does not know (allowed
                           only beside a host: condition): no local uid */
    bool with_host;     /* its selector has a host: condition: only then
                           do user: and node: name principals of other
                           hosts (fail closed: a rule written for this
                           host's users and nodes names no one else) */
    char *text;         /* GROUP name, NODE and HOST patterns, EXE path;
                           UID: the NAME as written (NULL: given as UID) */
    uint8_t sha256[32]; /* SHA256 */
} ipcn__cond;

typedef struct ipcn__selector {
    ipcn__cond *conds;
    uint32_t nconds;
} ipcn__selector;

/* Parse a selector's text: conditions separated by spaces, each one of
 * "any", "user:X", "unix_group:X", "group:X", "node:X", "exe:X",
 * "sha256:X" (64 hex digits), "host:X".  Users and Unix groups are
 * resolved now (getpwnam_r, getgrnam_r; digits are taken as ids): an
 * unknown one is an error, except a user named beside a host: condition
 * (a user of another host, which this one need not know).
 *
 * A principal of another host (who->host set: a TCP or routed link) is
 * "host:user": host: matches its host's name, user:NAME its user's name
 * (never a uid: user:UID is unknown for it), node: its name "name@host";
 * unix_group:, exe: and sha256: are unknown for it (so a rule that needs
 * them decides 201 for it: fail closed).  A principal of this host never
 * matches host:.  Returns 100, or 200 with the reason in why (one line);
 * 307.
 * On success the caller frees *out with ipcn__selector_clear(). */
int ipcn__selector_parse(const char *text, ipcn__selector *out, char *why,
                         size_t whylen);
void ipcn__selector_clear(ipcn__selector *s);
/* The selector back as text (for explain and the CLI); at most len - 1
 * bytes, NUL-terminated; returns the length it needed. */
size_t ipcn__selector_format(const ipcn__selector *s, char *buf, size_t len);

/* ---- groups ---- */

/* An IPCNet group: a name and the selectors of its members (a member
 * matches one of them).  A member selector cannot name an IPCNet group. */
typedef struct ipcn__group {
    char *name;
    ipcn__selector *members;
    uint32_t nmembers;
    uint32_t line;      /* in the policy file; 0 for a run-time group */
} ipcn__group;

/* Groups that selectors of one evaluation may name: the policy's, then
 * (for a provider's own rules) the node's run-time groups. */
typedef struct ipcn__groupset {
    const ipcn__group *groups;
    uint32_t ngroups;
    const struct ipcn__groupset *next; /* searched after this one */
} ipcn__groupset;

/* Is the principal a member of the group called name (searched in gs)?
 * 1 yes, 0 no, -1 unknown (a condition needs what the node could not
 * read of it, such as its executable) or no such group (0). */
int ipcn__group_member(const ipcn__groupset *gs, const char *name,
                       const ipcn__principal *who);

/* ---- rules and policies ---- */

typedef struct ipcn__rule {
    bool deny;               /* a deny rule; else allow */
    uint32_t verbs;          /* IPCN__V_* */
    ipcn__selector *who;     /* OR of these; none = nobody */
    uint32_t nwho;
    char **what;             /* resource patterns (as subscribe patterns) */
    uint32_t nwhat;
    uint32_t line;           /* in its file; for a provider's rule, its index */
} ipcn__rule;

typedef struct ipcn__policy {
    ipcn__profile profile;
    ipcn__rule *rules;
    uint32_t nrules;
    ipcn__group *groups;
    uint32_t ngroups;
    char *file;              /* where it was read from, or NULL */
    bool needs_exe;          /* some condition needs the executable */
    ipcn__guard guard;       /* limits, reputation, detection (guard.h) */
} ipcn__policy;

/* Free the contents of one rule or group (not the struct itself). */
void ipcn__rule_clear(ipcn__rule *r);
void ipcn__group_clear(ipcn__group *g);
/* Free a policy (NULL is a no-op). */
void ipcn__policy_free(ipcn__policy *p);
/* A policy of no rule and the given profile (the default of a per-user
 * network is IPCN__PROFILE_ALLOW).  NULL when out of memory. */
ipcn__policy *ipcn__policy_new(ipcn__profile profile);

/* ---- the decision ---- */

typedef struct ipcn__decision {
    int status;          /* 100 allowed; 202 refused; 201 when the rule
                            that would decide needs what the node could not
                            establish of the principal */
    bool audited;        /* allowed only because the profile is AUDIT:
                            DENY would have given the status in would */
    int would;           /* the status under DENY, for AUDIT */
    int32_t rule;        /* index of the rule that decided; -1: the profile */
    uint32_t line;       /* that rule's line (policy file) or number
                            (provider's rules, from 1); 0: the profile */
    const char *why;     /* static text: "deny rule", "allow rule",
                            "default allow", "default deny", ... */
} ipcn__decision;

/* Decide whether who may do verb (one IPCN__V_ bit) on path[0..len).
 * Explicit deny beats allow beats the profile, so the order of the rules
 * does not matter:
 *   1. a deny rule for verb and path whose "who" matches: 202;
 *   2. else a deny rule that may match (a condition unknown for who): 201;
 *   3. else an allow rule that matches: 100;
 *   4. else an allow rule that may match: 201;
 *   5. else the profile: ALLOW 100, DENY 202, AUDIT 100 with audited set
 *      and would = 202 (and in steps 1, 2, 4 too: AUDIT refuses nothing).
 * groups: the groups selectors may name (the policy's own when NULL).
 * Thread-safe on an immutable policy.  Returns d->status. */
int ipcn__policy_decide(const ipcn__policy *p, const ipcn__groupset *groups,
                        const ipcn__principal *who, uint32_t verb,
                        const char *path, size_t len, ipcn__decision *d);

/* A provider's own rules narrow the network policy: a deny rule of the
 * verb that names the principal refuses it (202; one that may name it:
 * 201); with allow rules for the verb, the principal must also match one
 * of them (else 202; may match: 201).  Deny rules only, or no rule for the
 * verb: nobody else is refused (100).
 * Same d as above (rule = index in rules, why "provider ..."). */
int ipcn__policy_narrow(const ipcn__rule *rules, uint32_t nrules,
                        const ipcn__groupset *groups,
                        const ipcn__principal *who, uint32_t verb,
                        ipcn__decision *d);

/* ---- the policy file (policy_load.c) ---- */

/* Read and check a policy file as a whole.  The file must be a regular
 * file, owned by root or by owner_uid (the network directory's owner; -1:
 * by root or the caller's euid), and writable by nobody else.  On success
 * *out is the new policy (free with ipcn__policy_free()) and 100 is
 * returned.  Otherwise nothing is loaded and the status is 200 (does not
 * parse, unknown field or value, unknown user or group, ...), 202 (owner
 * or mode), 203 (no such file) or 307, with "FILE:LINE: reason" in why.
 * Bounded: at most 64 KiB of file, 4096 rules, 256 groups. */
int ipcn__policy_load(const char *file, int64_t owner_uid,
                      ipcn__policy **out, char *why, size_t whylen);
/* The same from bytes in memory (name is used in messages only); no owner
 * check.  For tests and the fuzzer. */
int ipcn__policy_parse(const void *bytes, size_t len, const char *name,
                       ipcn__policy **out, char *why, size_t whylen);

/* ---- names ---- */
const char *ipcn__verb_name(uint32_t verb);        /* "read", ... */
uint32_t ipcn__verb_parse(const char *s);          /* 0 when unknown */
const char *ipcn__profile_name(ipcn__profile p);   /* "allow", ... */

#endif
