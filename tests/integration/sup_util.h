/* SPDX-License-Identifier: MIT */
/*
 * sup_util.h — what the supervisor's integration tests share: a robot
 * directory with its manifest, `ipcnet up` started as a process of the
 * test (its log in the robot directory), a watching node that reads the
 * supervisor's published component states, bounded waits on them, and a
 * cleanup that leaves no process of the test behind.  Header-only.
 */
#ifndef IPCN_SUP_UTIL_H
#define IPCN_SUP_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipcnet.h"
#include "ipcnet_value.h"
#include "testutil.h"

#define SU_COMP IPCN_TEST_BINDIR "/ipcn-test-sup_comp"
#define SU_CLI IPCN_TEST_BINDIR "/ipcnet"

/* A component's published state (system/supervisor/<robot>/components/<c>). */
typedef struct su_state {
    char state[16];
    char version[72];
    bool trial;
    int pid;
    unsigned restarts;
    long last_exit;       /* -2: null */
} su_state;

static char su_robot_dir[512];

/* A fresh robot directory under the test's network directory.  The test
 * becomes its descendants' reaper, so that components orphaned by a killed
 * supervisor are reaped here once they end. */
static inline const char *su_robot(const char *name)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    snprintf(su_robot_dir, sizeof su_robot_dir, "%s/robot-%s", tu_net_dir(), name);
    mkdir(su_robot_dir, 0755);
    return su_robot_dir;
}

static inline void su_write(const char *path, const char *text, int mode)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
}

/* Start `ipcnet up manifest`, stdout and stderr to log (appended). */
static inline pid_t su_up(const char *manifest, const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(SU_CLI, SU_CLI, "up", manifest, (char *)NULL);
        perror(SU_CLI);
        _exit(127);
    }
    return pid;
}

/* Run the CLI with args (NULL-terminated), output to log.  Its exit
 * status, or -1. */
static inline int su_cli(const char *log, const char *const *args)
{
    const char *argv[16];
    int k = 0;
    argv[k++] = SU_CLI;
    for (int i = 0; args[i] && k < 15; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(SU_CLI, (char *const *)argv);
        _exit(127);
    }
    return tu_wait(pid, 60000);
}

static inline const ipcn_cbor_item *su_field(const ipcn_cbor_item *m, const char *k)
{
    return ipcn_cbor_map_find(m, k);
}

/* Read comp's published state.  True when there is one. */
static inline bool su_get(ipcn_node *n, const char *robot, const char *comp, su_state *out)
{
    char path[300];
    snprintf(path, sizeof path, "system/supervisor/%s/components/%s", robot, comp);
    ipcn_msg *m = NULL;
    if (ipcn_query(n, path, &m, 1000) != IPCN_OK)
        return false;
    ipcn_cbor_item *root = NULL;
    bool ok = ipcn_cbor_tree_decode(m->data, m->len, IPCN_CBOR_COPY_STRINGS, &root) ==
              IPCN_OK && root->type == IPCN_CBOR_MAP;
    ipcn_msg_free(m);
    if (!ok) {
        ipcn_cbor_tree_free(root);
        return false;
    }
    memset(out, 0, sizeof *out);
    const ipcn_cbor_item *v;
    if ((v = su_field(root, "state")) && v->type == IPCN_CBOR_TEXT)
        snprintf(out->state, sizeof out->state, "%.*s", (int)v->len, (const char *)v->ptr);
    if ((v = su_field(root, "version")) && v->type == IPCN_CBOR_TEXT)
        snprintf(out->version, sizeof out->version, "%.*s", (int)v->len, (const char *)v->ptr);
    out->trial = (v = su_field(root, "trial")) && v->type == IPCN_CBOR_BOOL && v->u;
    if ((v = su_field(root, "pid")) && v->type == IPCN_CBOR_UINT)
        out->pid = (int)v->u;
    if ((v = su_field(root, "restarts")) && v->type == IPCN_CBOR_UINT)
        out->restarts = (unsigned)v->u;
    out->last_exit = -2;
    if ((v = su_field(root, "last_exit")) && v->type == IPCN_CBOR_UINT)
        out->last_exit = (long)v->u;
    else if (v && v->type == IPCN_CBOR_NEGINT)
        out->last_exit = -1 - (long)v->u;
    ipcn_cbor_tree_free(root);
    return true;
}

/* Wait up to timeout_ms until comp is in state want with a pid other than
 * not_pid (0: any) and, when version is not NULL, that version.  True and
 * *out then. */
static inline bool su_wait(ipcn_node *n, const char *robot, const char *comp,
                           const char *want, int not_pid, const char *version,
                           int timeout_ms, su_state *out)
{
    uint64_t end = tu_now_ms() + (uint64_t)timeout_ms;
    su_state st;
    memset(&st, 0, sizeof st);
    if (out)
        memset(out, 0, sizeof *out);
    while (tu_now_ms() < end) {
        if (su_get(n, robot, comp, &st) && !strcmp(st.state, want) &&
            (!not_pid || st.pid != not_pid) && (!version || !strcmp(st.version, version))) {
            if (out)
                *out = st;
            return true;
        }
        usleep(10000);
    }
    fprintf(stderr, "%s/%s: still '%s' (pid %d, version '%s') after %d ms, "
            "waiting for '%s'\n", robot, comp, st.state, st.pid, st.version, timeout_ms, want);
    return false;
}

/* A watching node of the test, with its own thread. */
static inline ipcn_node *su_watcher(const char *name)
{
    ipcn_node *n = NULL;
    if (ipcn_node_open(&n, name, NULL) != IPCN_OK ||
        ipcn_node_start_thread(n) != IPCN_OK) {
        fprintf(stderr, "cannot open the watcher node %s\n", name);
        exit(1);
    }
    return n;
}

/* Whether pid runs (a zombie of ours is reaped, and does not). */
static inline bool su_alive(int pid)
{
    if (pid <= 0)
        return false;
    waitpid(pid, NULL, WNOHANG);
    return kill(pid, 0) == 0;
}

/* Wait (bounded) for pid to be gone; true when it is. */
static inline bool su_gone(int pid, int timeout_ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)timeout_ms;
    while (su_alive(pid) && tu_now_ms() < end)
        usleep(10000);
    return !su_alive(pid);
}

/* Print the supervisor's log (for a failing test's reader). */
static inline void su_dump(const char *log)
{
    FILE *f = fopen(log, "r");
    char line[1024];
    fprintf(stderr, "---- %s\n", log);
    while (f && fgets(line, sizeof line, f))
        fputs(line, stderr);
    if (f)
        fclose(f);
    fprintf(stderr, "----\n");
}

/* Stop the supervisor with SIGTERM (its ordered shutdown) and wait for it;
 * its exit status, or -1 (then it was killed). */
static inline int su_down(pid_t sup)
{
    if (sup <= 0)
        return -1;
    kill(sup, SIGTERM);
    int rc = tu_wait(sup, 60000);
    if (rc < 0)
        tu_kill(sup);
    return rc;
}

#endif
