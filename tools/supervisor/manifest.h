/* SPDX-License-Identifier: MIT */
/*
 * manifest.h — a robot's launch manifest (YAML, read with libyaml by
 * manifest.c): its components, how to start, restart, version and stop
 * each.  docs/manifest.md describes the file field by field.
 *
 *     version: 1
 *     robot: demo                    # [A-Za-z0-9._-]{1,64}
 *     store: versions                # versions store root (relative: to the file)
 *     state: run                     # the supervisor's state directory
 *     components:
 *       arm:                         # component name, [A-Za-z0-9._-]{1,64}
 *         command: [bin/arm, --rest, home]
 *         node: arm                  # node name it opens (default: the component's)
 *         versioned: true            # command runs from its current version directory
 *         dir: .                     # working directory when not versioned
 *         env: {ARM_SPEED: "0.5"}
 *         criticality: critical      # critical | important | optional
 *         depends_on: [camera, "resource:cam/front/rgb"]
 *         ready_timeout_ms: 5000
 *         restart: {when: on-failure, strategy: one_for_one, intensity: 5,
 *                   period_ms: 30000, backoff_ms: 100, backoff_max_ms: 5000}
 *         health: {service: arm/health, interval_ms: 1000, timeout_ms: 500}
 *         trial: {tries: 3, bless_after_ms: 10000}
 *         shutdown: {phase: producer, deadline_ms: 2000, kill_after_ms: 1000}
 *         safe_state: {deadline_ms: 3000, request: arm/rest}
 *
 * The parser is strict: an unknown key, a value of the wrong type or out
 * of range, a duplicate component or node name, a dependency on an
 * unknown component, or a dependency cycle refuses the whole file with
 * "FILE:LINE: reason".
 */
#ifndef IPCN_SUP_MANIFEST_H
#define IPCN_SUP_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"

#define SUP_NAME_MAX 64u          /* component, robot and node names */

typedef enum sup_restart_when {
    SUP_RESTART_ON_FAILURE = 0,   /* default: exit status != 0 or a signal */
    SUP_RESTART_ALWAYS = 1,       /* also after a clean exit */
    SUP_RESTART_NEVER = 2,
} sup_restart_when;

typedef enum sup_strategy {
    SUP_ONE_FOR_ONE = 0,          /* default: only the component restarts */
    SUP_REST_FOR_ONE = 1,         /* it and every component that depends
                                     on it (transitively) restart, in start
                                     order */
} sup_strategy;

/* The system shutdown's phase a component stops in (2..4; phase 1, the
 * safe state, is for every component with a safe_state). */
typedef enum sup_phase {
    SUP_PHASE_PRODUCER = 2,
    SUP_PHASE_CONSUMER = 3,
    SUP_PHASE_REST = 4,           /* default */
} sup_phase;

typedef struct sup_dep {
    bool resource;                /* "resource:PATTERN": up when a resource
                                     matching it is announced; else a
                                     component's name: up when it is ready */
    char *name;                   /* component name or pattern */
    size_t index;                 /* !resource: the component's index */
} sup_dep;

typedef struct sup_component {
    char *name;
    char *node;                   /* node name it opens */
    char **argv;                  /* argc words, NULL-terminated; argv[0]
                                     relative: to the version directory
                                     (versioned) or to dir */
    size_t argc;
    bool versioned;               /* default false */
    char *dir;                    /* absolute working directory (default:
                                     the manifest's directory) */
    char **env;                   /* "KEY=VALUE", nenv, NULL-terminated */
    size_t nenv;
    ipcn_criticality criticality; /* default IPCN_CRIT_IMPORTANT */
    sup_dep *deps;
    size_t ndeps;
    uint32_t ready_timeout_ms;    /* default 10000 */
    sup_restart_when when;
    sup_strategy strategy;
    uint32_t intensity;           /* restarts allowed in period_ms; 5 */
    uint32_t period_ms;           /* 30000 */
    uint32_t backoff_ms;          /* first delay, doubled each restart; 100 */
    uint32_t backoff_max_ms;      /* cap; 5000 */
    char *health_service;         /* NULL: healthy == running and linked */
    uint32_t health_interval_ms;  /* 1000 */
    uint32_t health_timeout_ms;   /* 500 */
    uint32_t tries;               /* starts a trial version gets; 3 */
    uint32_t bless_after_ms;      /* ready and healthy this long: good; 10000 */
    sup_phase phase;
    uint32_t stop_deadline_ms;    /* asked to stop -> SIGTERM; 2000 */
    uint32_t kill_after_ms;       /* SIGTERM -> SIGKILL; 1000 */
    bool has_safe_state;          /* a safe_state section is present */
    char *safe_request;           /* a service of the component to request
                                     (empty body); NULL: the node's
                                     ipcn_on_shutdown(SAFE_STATE) handlers */
    uint32_t safe_deadline_ms;    /* 3000 */
    uint32_t line;                /* where it is declared */
} sup_component;

typedef struct sup_manifest {
    char *path;                   /* the file, as given */
    char *dir;                    /* its directory, absolute */
    char *robot;                  /* default: the file's base name */
    char *store;                  /* absolute; default <dir>/versions */
    char *state;                  /* absolute; default <dir>/run */
    sup_component *comps;
    size_t ncomps;
    size_t *order;                /* ncomps indices: start order (every
                                     dependency before its dependents; ties
                                     in the order of the file) */
} sup_manifest;

/* Read and check the manifest at path.  100 and *out (free with
 * sup_manifest_free); 200 with err = "FILE:LINE: reason" for a file that
 * is not a valid manifest; 203 when it cannot be read (err says why);
 * 307.  The file is untrusted text of at most 256 KiB. */
int sup_manifest_load(const char *path, sup_manifest **out, char *err,
                      size_t errlen);
/* The same over text in memory; name is the file name used in errors,
 * dir the directory relative paths are taken from (absolute). */
int sup_manifest_parse(const char *text, size_t len, const char *name,
                       const char *dir, sup_manifest **out, char *err,
                       size_t errlen);
void sup_manifest_free(sup_manifest *m);
/* The component called name, or NULL. */
sup_component *sup_manifest_find(const sup_manifest *m, const char *name);

#endif
