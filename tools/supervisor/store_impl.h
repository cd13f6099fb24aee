/* SPDX-License-Identifier: MIT */
/*
 * store_impl.h — inside the versions store: its state on disk
 * (store_state.c), shared with the operations of store.h (store.c).
 */
#ifndef IPCN_SUP_STORE_IMPL_H
#define IPCN_SUP_STORE_IMPL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "store_fs.h"

#define SST_COMP_MAX 80u            /* a component's name, with ".config" */
#define SST_BY_OPERATOR "rolled back by the operator"

/* One component's part of the store, open and locked. */
typedef struct store {
    char dir[PATH_MAX];             /* absolute <root>/<comp> */
    int fd, vfd, lock;              /* <comp>/, <comp>/v/, its lock file */
} store;

/* An operation under way, as its journal says. */
typedef struct journal {
    char op[16];                    /* install, bless, reject, rollback */
    char id[SUP_VERSION_ID_MAX + 1];
    char to[SUP_VERSION_ID_MAX + 1]; /* rollback: the new good; install:
                                        the trial it replaces, or "" */
    uint32_t tries;                 /* install: the new trial's */
    int first;                      /* install: it becomes good at once */
    char reason[256];               /* reject, rollback: the bad mark */
} journal;

int sst_failf(char *err, size_t errlen, int st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A failed system call (errno) while doing what: its status. */
int sst_sysfail(const store *s, char *err, size_t errlen, const char *what);
bool sst_name_ok(const char *s, size_t max);
bool sst_id_ok(const char *id);

/* Open <root>/<comp> (made when create) and, with lock, flock it.  Without
 * create, a component never installed is 203. */
int sst_open_store(const char *root, const char *comp, bool create, bool lock,
                   store *s, char *err, size_t errlen);
void sst_close_store(store *s);

/* The id a pointer ("good", "trial") names: 1, 0 absent, -1 not v/<id>. */
int sst_read_ptr(const store *s, const char *name, char *id);
int sst_set_ptr(const store *s, const char *name, const char *id);
bool sst_exists_at(int dfd, const char *name);
bool sst_complete(const store *s, const char *id);  /* directory + hashes */
bool sst_is_bad(const store *s, const char *id);
uint32_t sst_read_tries(const store *s, const char *id);
int sst_write_tries(const store *s, const char *id, uint32_t tries);
int sst_read_all(int dfd, const char *name, sup_buf *b);
/* installed and seq of a hashes text; the offset of its entries (0: not
 * a hashes text). */
size_t sst_hashes_header(const char *text, int64_t *installed, uint64_t *seq);
int sst_version_header(const store *s, const char *id, int64_t *installed,
                       uint64_t *seq);
/* The good before good (history): 1 found (out), 0 none, -1 error. */
int sst_predecessor(const store *s, const char *good, char *out);

/* Write the journal of j durably, then do its steps and forget it. */
int sst_run_op(const store *s, const journal *j, char *err, size_t errlen);
/* Finish the journal's operation, if any; remove unfinished copies. */
int sst_recover_locked(const store *s, char *err, size_t errlen);

#endif
