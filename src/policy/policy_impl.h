/* SPDX-License-Identifier: MIT */
/*
 * policy_impl.h — what the files of the policy layer share and nobody
 * else needs.
 */
#ifndef IPCN_POLICY_IMPL_H
#define IPCN_POLICY_IMPL_H

#include "policy/policy.h"

/* Does who match s?  1 yes, 0 no, -1 unknown (a condition needs what the
 * node could not establish of who).  in_group: s is a group's member
 * selector (a group condition in it matches nothing). */
int ipcn__selector_match(const ipcn__selector *s, const ipcn__groupset *gs,
                         const ipcn__principal *who, bool in_group);

/* ---- the YAML tree (yaml_tree.c): the policy file's reader, shared with
 * guard_load.c and with the supervisor's launch manifest (the tool's copy of
 * this layer, tools/supervisor/manifest.c) ---- */

/* A YAML node of the file's tree.  A map's kids are key, value, key,
 * value, ... (keys are checked to be scalars by ipcn__pl_keys()). */
typedef enum ipcn__yk { IPCN__Y_SCALAR, IPCN__Y_SEQ, IPCN__Y_MAP } ipcn__yk;

typedef struct ipcn__yn {
    ipcn__yk kind;
    uint32_t line;   /* 1-based */
    char *text;      /* a scalar's value, NUL-terminated */
    size_t len;
    struct ipcn__yn **kid;
    uint32_t nkid, cap;
} ipcn__yn;

/* The deepest nesting of collections any format may ask for. */
#define IPCN__YAML_DEPTH_CAP 8u

/* One reading of a file: its name for messages and where the reason goes;
 * what the document is ("policy", "manifest": said in the reasons); how
 * deep collections may nest where the reader is (stack[0..depth) are the
 * open ones; at most IPCN__YAML_DEPTH_CAP, NULL: 1). */
typedef struct ipcn__plctx {
    const char *name;
    char *why;
    size_t whylen;
    uint32_t nodes;
    const char *doc;
    uint32_t (*depth_max)(struct ipcn__yn *const *stack, uint32_t depth);
} ipcn__plctx;

/* The YAML text -> the tree of its one document (*root NULL when the text
 * holds no document; free it with ipcn__yaml_free).  Refused (200, with
 * "NAME:LINE: reason" in c): a YAML error, more than one document, an
 * alias, an anchor or a tag, a NUL character in a value, more than 65536
 * nodes, a collection nested deeper than c->depth_max says.  307. */
int ipcn__yaml_read(ipcn__plctx *c, const void *bytes, size_t len,
                    ipcn__yn **root);
void ipcn__yaml_free(ipcn__yn *n);

/* "NAME:LINE: reason" (one line) into c->why; returns 200. */
__attribute__((format(printf, 3, 4))) int
ipcn__pl_fail(ipcn__plctx *c, uint32_t line, const char *fmt, ...);
/* "NAME: out of memory"; returns 307. */
int ipcn__pl_oom(ipcn__plctx *c);
const char *ipcn__pl_kind(ipcn__yk k);   /* "a value", "a list", ... */
/* A map's keys must be plain values, each once, among known (NULL-ended);
 * what names the map in the reason.  100 or 200. */
int ipcn__pl_keys(ipcn__plctx *c, const ipcn__yn *map, const char *what,
                  const char *const *known);
/* The value of key in map, or NULL. */
const ipcn__yn *ipcn__pl_get(const ipcn__yn *map, const char *key);
/* A value or a list of values: the items of v (*items, *n), each a
 * non-empty scalar; at least one, at most 256.  *one keeps the item of a
 * lone value. */
typedef const ipcn__yn *const *ipcn__items;
int ipcn__pl_list(ipcn__plctx *c, const ipcn__yn *v, const char *what,
                  ipcn__items *items, uint32_t *n, const ipcn__yn **one);
/* A selector or a list of them at v -> *out (ipcn__calloc'ed, *nout of
 * them; on failure what was parsed stays there for the caller to free).
 * A "group:X" must name a group of p; exe: and sha256: set p->needs_exe. */
int ipcn__pl_selectors(ipcn__plctx *c, const ipcn__yn *v, ipcn__policy *p,
                       ipcn__selector **out, uint32_t *nout);
/* A resource pattern or a list of them at v -> *out (ipcn__calloc'ed
 * strings, *nout of them; on failure the caller frees what is there). */
int ipcn__pl_patterns(ipcn__plctx *c, const ipcn__yn *v, char ***out,
                      uint32_t *nout);

/* ---- the guard sections (guard_load.c) ---- */

/* Read "limits", "reputation" and "detect" of the policy document root
 * (checked to be a map; p's groups already read) into p->guard.  100, 200
 * or 307 with the reason in c. */
int ipcn__guard_read(ipcn__plctx *c, const ipcn__yn *root, ipcn__policy *p);

#endif
