/* SPDX-License-Identifier: MIT */
/*
 * testutil.h — what integration tests share: a private network directory
 * per test, helper processes (build/bin/ipcn-test-<name>) started with
 * fork/exec, and bounded waits.  Header-only so each test stays one file.
 */
#ifndef IPCN_TESTUTIL_H
#define IPCN_TESTUTIL_H

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IPCN_TEST_BINDIR
#define IPCN_TEST_BINDIR "."
#endif

static char tu_dir[256];

static int tu_rm(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static void tu_cleanup(void)
{
    if (tu_dir[0])
        nftw(tu_dir, tu_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh IPCNET_DIR for this test process (and the helpers it starts),
 * removed at exit.  Returns its path. */
static inline const char *tu_net_dir(void)
{
    if (!tu_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(tu_dir, sizeof tu_dir, "%s/ipcn-test-XXXXXX", tmp ? tmp : "/tmp");
        if (!mkdtemp(tu_dir)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(tu_cleanup);
    }
    setenv("IPCNET_DIR", tu_dir, 1);
    unsetenv("IPCNET_NETWORK");
    return tu_dir;
}

static inline uint64_t tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Start build/bin/ipcn-test-<helper> with args (NULL-terminated). */
static inline pid_t tu_spawn(const char *helper, const char *const *args)
{
    char path[512];
    snprintf(path, sizeof path, "%s/ipcn-test-%s", IPCN_TEST_BINDIR, helper);
    const char *argv[32];
    int k = 0;
    argv[k++] = path;
    for (int i = 0; args && args[i] && k < 31; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        execv(path, (char *const *)argv);
        perror(path);
        _exit(127);
    }
    return pid;
}

/* Wait up to timeout_ms for pid to exit; returns its exit status, 128+sig
 * when killed by a signal, or -1 on timeout (the process is left alone). */
static inline int tu_wait(pid_t pid, int timeout_ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int ws;
        pid_t r = waitpid(pid, &ws, WNOHANG);
        if (r == pid)
            return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        if (r < 0)
            return -1;
        if (tu_now_ms() >= end)
            return -1;
        usleep(5000);
    }
}

/* SIGKILL a process we started and reap it. */
static inline void tu_kill(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

/* Count the files in the network directory (to check nothing is left). */
static inline int tu_count_files(const char *network)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s/%s' 2>/dev/null | wc -l", tu_dir,
             network ? network : "default");
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        pclose(f);
    }
    return n;
}

#endif
