/* SPDX-License-Identifier: MIT */
/*
 * spawn.c — start, watch, signal and recognise component processes
 * (spawn.h).  Everything the child needs is made before fork(): the
 * supervisor runs a node thread, so the child calls nothing but
 * async-signal-safe functions before its exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipcnet.h"
#include "spawn.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

int sup_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The environment of the child: ours, each extra one replacing a variable
 * of the same name.  NULL when out of memory. */
static char **child_env(char *const *extra, size_t nextra)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = calloc(n + nextra + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < nextra && !replaced; j++)
            replaced = !strncmp(extra[j], environ[i], klen) && extra[j][klen] == '=';
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < nextra; j++) {
        /* a later duplicate of the same key wins */
        const char *eq = strchr(extra[j], '=');
        size_t klen = eq ? (size_t)(eq - extra[j]) : strlen(extra[j]);
        bool later = false;
        for (size_t l = j + 1; l < nextra && !later; l++)
            later = !strncmp(extra[l], extra[j], klen) && extra[l][klen] == '=';
        if (!later)
            env[k++] = extra[j];
    }
    env[k] = NULL;
    return env;
}

static __attribute__((noreturn)) void child(const sup_spawn_req *r, char **env,
                                            int logfd, int errfd)
{
    int e;
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    if (setsid() < 0)
        goto fail;
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0 && nul != 0) {
        dup2(nul, 0);
        close(nul);
    }
    if (logfd >= 0 && (dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0))
        goto fail;
    if (r->cwd && chdir(r->cwd) < 0)
        goto fail;
    if (strchr(r->argv[0], '/'))
        execve(r->argv[0], r->argv, env);
    else
        execvpe(r->argv[0], r->argv, env);
fail:
    e = errno;
    (void)!write(errfd, &e, sizeof e);
    _exit(127);
}

int sup_spawn(const sup_spawn_req *r, pid_t *pid, int *pidfd, char *err, size_t errlen)
{
    char **env = child_env(r->env, r->nenv);
    if (!env) {
        snprintf(err, errlen, "out of memory");
        return IPCN_INSUFFICIENT_MEMORY;
    }
    int logfd = -1, pipefd[2];
    if (r->log_path) {
        logfd = open(r->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (logfd < 0) {
            snprintf(err, errlen, "cannot open the log %s: %s", r->log_path, strerror(errno));
            free(env);
            return IPCN_INTERNAL_ERROR;
        }
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        if (logfd >= 0)
            close(logfd);
        free(env);
        return IPCN_INTERNAL_ERROR;
    }
    pid_t p = fork();
    if (p == 0)
        child(r, env, logfd, pipefd[1]);
    int fork_errno = errno;
    close(pipefd[1]);
    if (logfd >= 0)
        close(logfd);
    free(env);
    if (p < 0) {
        close(pipefd[0]);
        snprintf(err, errlen, "fork: %s", strerror(fork_errno));
        return IPCN_INTERNAL_ERROR;
    }
    int child_errno = 0;
    ssize_t got;
    do
        got = read(pipefd[0], &child_errno, sizeof child_errno);
    while (got < 0 && errno == EINTR);
    close(pipefd[0]);
    if (got == (ssize_t)sizeof child_errno) {
        waitpid(p, NULL, 0);
        snprintf(err, errlen, "cannot run %s (in %s): %s", r->argv[0],
                 r->cwd ? r->cwd : ".", strerror(child_errno));
        return IPCN_NOT_FOUND;
    }
    int fd = sup_pidfd_open(p);
    if (fd < 0) {
        snprintf(err, errlen, "pidfd_open: %s", strerror(errno));
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        return IPCN_INTERNAL_ERROR;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    *pid = p;
    *pidfd = fd;
    return IPCN_OK;
}

int sup_child_reap(int pidfd, int *status)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    /* first look without reaping: while it is an unreaped zombie, its pid
     * (the number of the group it leads: sup_spawn() calls setsid()) is
     * nobody else's */
    if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno == ECHILD ? -1 : 0;
    if (si.si_pid == 0)
        return 0;
    /* what it left behind in its group (a helper it forked) goes with it,
     * as systemd's control-group kill mode does */
    (void)kill(-si.si_pid, SIGKILL);
    memset(&si, 0, sizeof si);
    if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) != 0 || si.si_pid == 0)
        return errno == ECHILD ? -1 : 0;
    *status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
    return 1;
}

int sup_proc_ended(int pidfd, bool child, int *status)
{
    if (child) {
        int r = sup_child_reap(pidfd, status);
        if (r >= 0)
            return r;
        /* not (or no longer) ours: fall through to the pidfd's word */
    }
    /* a pidfd polls readable once its process has exited */
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
        *status = -1;
        return 1;
    }
    return 0;
}

void sup_proc_signal(pid_t pid, int pidfd, int sig)
{
    if (pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
        /* its group only while it has not ended: a process not ours is
         * reaped by another, and its pid may then be anyone's */
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        if (poll(&pfd, 1, 0) != 0)
            return;
    } else if (pid > 0) {
        kill(pid, sig);
    }
    /* its group, only while it is the leader (so pid is not reused) */
    if (pid > 0 && getpgid(pid) == pid)
        kill(-pid, sig);
}

bool sup_proc_environ(pid_t pid, const char *const *kv, size_t n,
                      const char *want_key, char *value_out, size_t value_len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    if (value_out && value_len)
        value_out[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return false;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= (1u << 22))
                break;
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = 0;
    size_t found = 0;
    size_t klen = want_key ? strlen(want_key) : 0;
    for (size_t off = 0; off < len;) {
        const char *s = buf + off;
        size_t sl = strnlen(s, len - off);
        for (size_t i = 0; i < n; i++)
            if (sl == strlen(kv[i]) && !memcmp(s, kv[i], sl))
                found |= (size_t)1 << (i & 63);
        if (want_key && value_out && sl > klen && !memcmp(s, want_key, klen) &&
            s[klen] == '=')
            snprintf(value_out, value_len, "%s", s + klen + 1);
        off += sl + 1;
    }
    free(buf);
    size_t all = n >= 64 ? ~(size_t)0 : (((size_t)1 << n) - 1);
    return n == 0 || found == all;
}

int sup_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        buf[i] = c;
    }
    return 0;
}
