/* SPDX-License-Identifier: MIT */
/*
 * store.h — a component's versions on disk and which one runs (store.c),
 * with the semantics of systemd's automatic boot assessment:
 *
 *     <root>/<component>/v/<id>/          one version: its files, and
 *     <root>/<component>/v/<id>.hashes    their BLAKE2b hashes (libsodium)
 *     <root>/<component>/good  -> v/<id>  the version that worked
 *     <root>/<component>/trial -> v/<id>  a version on trial (optional)
 *     <root>/<component>/...              tries left, bad marks, the
 *                                         journal of an operation under way
 *
 * Every switch is an atomic rename followed by fsync of the directory; a
 * trial's tries counter is decremented and made durable BEFORE each start
 * (a power cut counts as a try).  A trial becomes good once the component
 * has been ready and healthy for bless_after_ms (sup_store_bless); when
 * its tries run out, its restart intensity is exceeded or its hashes do
 * not match, it is marked bad (never tried again by itself) and good runs.
 * A process killed at any point of an install, a bless or a rollback
 * leaves the pointers either as before or as after (never mixed), and the
 * next sup_store_recover() finishes the job.  Configurations are versioned
 * the same way, as the component "<component>.config".
 *
 * All calls return an IPCNet status (100 on success) and on failure write
 * a reason for people into err.
 */
#ifndef IPCN_SUP_STORE_H
#define IPCN_SUP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUP_VERSION_ID_MAX 64u

/* What to start: filled by sup_store_pick(). */
typedef struct sup_pick {
    char id[SUP_VERSION_ID_MAX + 1];
    char dir[4096];               /* absolute directory of that version */
    bool trial;                   /* it is the trial */
    uint32_t tries_left;          /* after this start (trial only) */
    bool rolled_back;             /* a trial was just given up (why in err) */
} sup_pick;

/* Finish or undo whatever operation a killed process left under way. */
int sup_store_recover(const char *root, const char *comp, char *err,
                      size_t errlen);
/* Copy src_dir into a new version (id: NULL for the next free "N", or a
 * name), hash it, and make it the trial with tries starts; the first
 * version installed becomes good at once.  *id_out gets the id. */
int sup_store_install(const char *root, const char *comp, const char *src_dir,
                      const char *id, uint32_t tries, char *id_out,
                      size_t id_len, char *err, size_t errlen);
/* Before each start: recover, then choose (trial while it has tries,
 * decrementing them durably first; else good), verify its hashes (a
 * trial that fails is marked bad and good is picked).  203 when the
 * component has no version installed. */
int sup_store_pick(const char *root, const char *comp, sup_pick *out,
                   char *err, size_t errlen);
/* The trial id has been ready and healthy long enough: it becomes good. */
int sup_store_bless(const char *root, const char *comp, const char *id,
                    char *err, size_t errlen);
/* The trial id failed (reason recorded): mark it bad, back to good. */
int sup_store_reject(const char *root, const char *comp, const char *id,
                     const char *reason, char *err, size_t errlen);
/* The operator's rollback: a trial is rejected; with none, good goes back
 * to the version that was good before it (203 when there is none). */
int sup_store_rollback(const char *root, const char *comp, char *id_out,
                       size_t id_len, char *err, size_t errlen);

typedef struct sup_version {
    char id[SUP_VERSION_ID_MAX + 1];
    bool good, trial, bad;
    uint32_t tries_left;          /* trial only */
    int64_t installed_s;          /* CLOCK_REALTIME seconds */
    char reason[256];             /* bad: why */
} sup_version;

/* The versions of comp, oldest first; free with free(). */
int sup_store_list(const char *root, const char *comp, sup_version **out,
                   size_t *n, char *err, size_t errlen);

/* Do the files of version id match its hashes?  100 yes; 207 no (err says
 * which file differs); 203 no such version.  Changes nothing. */
int sup_store_verify(const char *root, const char *comp, const char *id,
                     char *err, size_t errlen);

#endif
