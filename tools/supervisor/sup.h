/* SPDX-License-Identifier: MIT */
/*
 * sup.h — the supervisor of a robot (`ipcnet up MANIFEST`, sup.c): starts
 * the manifest's components in dependency order, each counted as started
 * once its node said it is ready, restarts them by their policy, rolls a
 * failing trial version back, runs the ordered shutdown, and adopts the
 * components a previous supervisor left running.  docs/supervisor.md,
 * "Running a robot".
 */
#ifndef IPCN_SUP_SUP_H
#define IPCN_SUP_SUP_H

#include <stdbool.h>

typedef struct sup_opts {
    const char *manifest;         /* the launch manifest's path */
    const char *network, *dir;    /* the network (NULL: the environment's) */
    bool json;                    /* the log as one JSON object a line */
} sup_opts;

/* Run until the robot is shut down.  Returns the process's exit status:
 * 0 after an ordered shutdown that was asked for (SIGINT, SIGTERM, the
 * service "system/shutdown"), 1 after one a critical failure or a
 * compromise started or when the supervisor could not start (why on
 * stderr), 2 for a manifest that is not valid. */
int sup_main(const sup_opts *o);

#endif
