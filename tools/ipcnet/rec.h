/* SPDX-License-Identifier: MIT */
/*
 * rec.h — what `ipcnet record`, `play` and `info FILE.mcap` share
 * (cmd_record.c, cmd_play.c, rec_args.c).  The recording format is
 * docs/protocol.md section 21.
 */
#ifndef IPCNET_CLI_REC_H
#define IPCNET_CLI_REC_H

#include "cli.h"

#define REC_MAX_PATTERNS 32
#define REC_MAX_PROXIES 16

/* The options of record and play, beyond cli's common ones. */
typedef struct rec_opts {
    const char *patterns[REC_MAX_PATTERNS];
    int npatterns;
    const char *output;         /* record -o */
    double split_mb, split_s;   /* record --split-size, --split-time; 0: no */
    size_t chunk_kb;            /* record --chunk-size (KiB); 0: 1024 */
    double flush_s;             /* record --flush (s); 0.25 */
    int fsync;                  /* record --fsync */
    int plain;                  /* record --no-compress */
    const char *proxy_from[REC_MAX_PROXIES], *proxy_to[REC_MAX_PROXIES];
    int nproxies;
    double duration_s;          /* record --duration; 0: until a signal */
    double rate;                /* play --rate: 1, 2, ...; 0: max */
    int loop;                   /* play --loop */
    const char *only;           /* play --only */
    size_t max_chunk;           /* play, info --max-chunk (bytes); 0: default */
    const char *provider;       /* play --provider */
    long wait_subs;             /* play --wait-subs N (0: do not wait) */
    const char *file;           /* play, info: the recording */
} rec_opts;

/* Parse argv (the verb at vi) into c and o; returns -1 when help was
 * printed, 0, or an exit status. */
int rec_parse(cli *c, rec_opts *o, int (*fn)(cli *), int argc, char **argv,
              int vi);

/* main.c's door: the verbs record and play, and info of a recording. */
int cli_rec_run(int (*fn)(cli *), int argc, char **argv, int vi);
/* Does the info command line name a recording (FILE.mcap, or a file that
 * starts with MCAP's magic)? */
bool cli_rec_is_info(int argc, char **argv, int vi);

int rec_record(cli *c, rec_opts *o);
int rec_play(cli *c, rec_opts *o);
int rec_info(cli *c, rec_opts *o);

/* Hex of bytes into a NUL-terminated string (malloc); NULL: OOM. */
char *rec_hex(const void *p, size_t n);
/* Back: *out (malloc) and *n; 0, or -1 for bad hex or OOM. */
int rec_unhex(const char *s, uint8_t **out, size_t *n);

#endif
