/* SPDX-License-Identifier: MIT */
/*
 * component.h — what the demo robot's C components share (header-only):
 * open the node the manifest names, say ready, loop until the system's
 * shutdown (or SIGTERM) says stop, and note each shutdown call in the log.
 *
 * The node's name is argv[1], else $IPCNET_COMPONENT (which `ipcnet up`
 * sets), else the program's default.  $ROBOT_LOG, when set, is a file each
 * component appends one line to per shutdown call:
 * "<CLOCK_MONOTONIC ns> <node> <phase> <system_phase>" — the tests read it
 * to check the order of the phases.
 */
#ifndef ROBOT_COMPONENT_H
#define ROBOT_COMPONENT_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"

static volatile sig_atomic_t robot_stop;

static void robot_on_term(int sig)
{
    (void)sig;
    robot_stop = 1;
}

static uint64_t robot_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One line in $ROBOT_LOG (O_APPEND: the components share the file). */
static void robot_log(ipcn_node *n, const char *what, unsigned system_phase)
{
    const char *path = getenv("ROBOT_LOG");
    if (!path || !*path)
        return;
    char line[200];
    int k = snprintf(line, sizeof line, "%llu %s %s %u\n",
                     (unsigned long long)robot_now_ns(), ipcn_node_name(n),
                     what, system_phase);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        (void)!write(fd, line, (size_t)k);
        close(fd);
    }
}

/* The stop handler every component has: note it, end the loop; the node
 * closes when main() returns, and the asker sees the process go. */
static int robot_on_stop(ipcn_node *n, const ipcn_shutdown_info *info,
                         void *user)
{
    (void)user;
    robot_log(n, "stop", info->system_phase);
    fprintf(stderr, "%s: stopping (%s)\n", ipcn_node_name(n),
            info->reason && *info->reason ? info->reason : "asked");
    robot_stop = 1;
    return IPCN_OK;
}

/* Open the node; SIGTERM and SIGINT end the loop too. */
static ipcn_node *robot_open(int argc, char **argv, const char *def)
{
    const char *name = argc > 1 ? argv[1] : getenv("IPCNET_COMPONENT");
    if (!name || !*name)
        name = def;
    struct sigaction sa = {0};
    sa.sa_handler = robot_on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK) {
        fprintf(stderr, "%s: cannot join the network: %d %s\n", name, st,
                ipcn_status_str(st));
        exit(1);
    }
    ipcn_on_shutdown(n, IPCN_SHUTDOWN_STOP, robot_on_stop, NULL);
    return n;
}

#endif
