/* SPDX-License-Identifier: MIT */
/*
 * spawn.h — the supervisor's processes (spawn.c): start a component in a
 * session of its own, watch it through a pidfd, signal it, reap it, and
 * recognise a running one by its environment (for adoption).
 */
#ifndef IPCN_SUP_SPAWN_H
#define IPCN_SUP_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct sup_spawn_req {
    char *const *argv;            /* argv[0]: a path (relative to cwd when it
                                     holds a '/'), else looked up in PATH */
    const char *cwd;
    char *const *env;             /* "KEY=VALUE" set over the supervisor's own
                                     environment, later ones win */
    size_t nenv;
    const char *log_path;         /* stdout and stderr appended there; NULL:
                                     the supervisor's own */
} sup_spawn_req;

/* Start the process: setsid() (its own session and process group, so a
 * signal to the supervisor's group does not reach it and it outlives the
 * supervisor: no parent-death signal), default signal dispositions and
 * mask, stdin from /dev/null.  100 with *pid and *pidfd (close-on-exec);
 * 203 when the command could not be executed (err says why: the exec's
 * errno, reported through a pipe); 300 on a system error. */
int sup_spawn(const sup_spawn_req *r, pid_t *pid, int *pidfd, char *err,
              size_t errlen);

/* pidfd_open(2); -1 with errno. */
int sup_pidfd_open(pid_t pid);

/* Our child behind pidfd, if it has ended: the rest of its process group
 * is killed (SIGKILL) while its zombie still holds the group's number,
 * then it is reaped.  1 with *status (exit status, or 128 + signal); 0
 * while it runs; -1 when it is not (or no longer) ours to reap. */
int sup_child_reap(int pidfd, int *status);

/* Whether the process behind pidfd has ended.  Returns 0 while it runs;
 * 1 when it has ended, with *status its exit status, or 128 + the signal
 * that killed it, or -1 when unknown (not our child: someone else reaps
 * it).  A child is reaped by this call. */
int sup_proc_ended(int pidfd, bool child, int *status);

/* Send sig to the process and, when it leads its own process group (as
 * the processes sup_spawn() starts do), to that whole group. */
void sup_proc_signal(pid_t pid, int pidfd, int sig);

/* Whether /proc/<pid>/environ holds every one of the n "KEY=VALUE"
 * strings kv[] (false when it cannot be read: another user's process).
 * value_out: when not NULL, the value of key want_key there (or "") */
bool sup_proc_environ(pid_t pid, const char *const *kv, size_t n,
                      const char *want_key, char *value_out, size_t value_len);

/* mkdir -p with mode 0755 (0 or -1 with errno). */
int sup_mkdirs(const char *path);

#endif
