/* SPDX-License-Identifier: MIT */
/*
 * manifest_impl.h — what the files of the manifest's reader share
 * (manifest.c: the document, the start order and the calls;
 * manifest_comp.c: a component; manifest_value.c: the values).
 */
#ifndef IPCN_SUP_MANIFEST_IMPL_H
#define IPCN_SUP_MANIFEST_IMPL_H

#include "manifest.h"
#include "policy/policy_impl.h"

#define SUP_MF_PATH_MAX 4095u /* a path, once made absolute */
#define SUP_MF_HOUR 3600000u
#define SUP_MF_DAY 86400000u

/* One reading: the reader's context, the manifest being built, and where
 * each dependency was written (for the cycle's line). */
typedef struct mctx {
    ipcn__plctx c;
    sup_manifest *m;
    uint32_t **deplines; /* [component][dependency] */
} mctx;

/* A word of an enumeration and its value; a list ends with a NULL name. */
typedef struct sup_mf_word {
    const char *name;
    int value;
} sup_mf_word;

/* "component \"NAME\": KEY", the start of a reason about a component. */
#define WHAT(buf, comp, key)                                                   \
    snprintf(buf, sizeof buf, "component \"%s\": %s", (comp)->name, key)

/* ---- values (manifest_value.c): each 100, or 200 with the reason in x,
 * or 307; what names the value in the reason ---- */

/* "a value", "a list", "a mapping", or "nothing" for an empty value. */
const char *sup__mf_kind(const ipcn__yn *v);
int sup__mf_oom(mctx *x);
int sup__mf_map(mctx *x, const ipcn__yn *v, const char *what);
/* A non-empty plain value. */
int sup__mf_scalar(mctx *x, const ipcn__yn *v, const char *what);
/* A whole number in lo..hi: decimal digits, no sign, no leading zero. */
int sup__mf_u32(mctx *x, const ipcn__yn *v, const char *what, uint32_t lo,
                uint32_t hi, uint32_t *out);
/* true or false (not yes, no, on, off). */
int sup__mf_bool(mctx *x, const ipcn__yn *v, const char *what, bool *out);
int sup__mf_word(mctx *x, const ipcn__yn *v, const char *what,
                 const sup_mf_word *words, int *out);
/* 1..max of [A-Za-z0-9._-], not starting with '.' (a node name). */
int sup__mf_name(mctx *x, const ipcn__yn *v, const char *what, size_t max);
char *sup__mf_strdup(const char *s); /* malloc'ed; NULL: out of memory */
/* base/p (p when absolute), without "." segments or extra slashes;
 * malloc'ed, NULL: out of memory. */
char *sup__mf_path_clean(const char *base, const char *p);
/* A path, relative to the manifest's directory, into *out (replaced). */
int sup__mf_path(mctx *x, const ipcn__yn *v, const char *what, char **out);
/* A service path into *out (malloc'ed). */
int sup__mf_service(mctx *x, const ipcn__yn *v, const char *what, char **out);

/* ---- a component (manifest_comp.c) ---- */

/* The index of the component called name among the first n, or -1. */
int sup__mf_find(const sup_manifest *m, size_t n, const char *name);
void sup__mf_defaults(sup_component *k);
/* Read component self (named, every component named) from its map v. */
int sup__mf_comp(mctx *x, size_t self, const ipcn__yn *v);

#endif
