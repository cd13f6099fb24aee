/* SPDX-License-Identifier: MIT */
/*
 * publish.h — what the supervisor tells the network (publish.c): one data
 * resource per component, "system/supervisor/<robot>/components/<name>"
 * (encoding "cbor"), whose value is the component's state and is
 * published again on every change; and the alarm stream
 * "system/supervisor/<robot>/alarms".  `ipcnet ps` reads the former.
 */
#ifndef IPCN_SUP_PUBLISH_H
#define IPCN_SUP_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"

#define SUP_PATH_MAX 256u

/* A component as published: the CBOR map {"name", "node", "state",
 * "version", "trial", "restarts", "uptime_ms", "pid", "criticality",
 * "last_exit", "since_ms", "reason"}. */
typedef struct sup_status {
    const char *name, *node;
    const char *state;            /* sup_state_name() */
    const char *version;          /* "" when not versioned */
    bool trial;
    uint32_t restarts;            /* since the supervisor started */
    uint64_t uptime_ms;           /* ready this long (0: not running) */
    int pid;                      /* 0: none */
    const char *criticality;      /* "optional", "important", "critical" */
    int last_exit;                /* exit status, 128 + signal; -1 unknown
                                     (an adopted process); -2: none yet
                                     (null) */
    int64_t since_ms;             /* CLOCK_REALTIME ms it became ready (0:
                                     not ready), for a live uptime */
    const char *reason;           /* the last failure, for people ("") */
} sup_status;

const char *sup_crit_name(ipcn_criticality c);

/* The component's path into buf (SUP_PATH_MAX). */
void sup_component_path(char *buf, const char *robot, const char *name);

/* Encode s as CBOR into buf[0..cap).  Returns the length, 0 when it does
 * not fit. */
size_t sup_status_encode(const sup_status *s, uint8_t *buf, size_t cap);

/* Announce (first call) and publish the component's resource.  Returns
 * the library's status. */
int sup_publish_status(ipcn_node *n, const char *robot, const sup_status *s);

/* Announce (first call) and publish one alarm on the robot's alarm
 * stream: CBOR {"component", "criticality", "reason", "time_ms"}. */
int sup_publish_alarm(ipcn_node *n, const char *robot, const char *component,
                      const char *criticality, const char *reason);

#endif
