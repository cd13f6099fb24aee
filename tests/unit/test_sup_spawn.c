/* SPDX-License-Identifier: MIT */
/* test_sup_spawn.c — the supervisor's processes (tools/supervisor/spawn.c):
 * a component runs in a session of its own with the environment given
 * over ours, is watched through its pidfd and reaped with its exit status
 * or signal, a command that cannot run is reported as such, a signal
 * reaches its whole process group, and a process is recognised by its
 * environment. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "spawn.h"

/* Wait (bounded) for the process behind fd to end; its status. */
static int wait_end(int fd)
{
    for (int i = 0; i < 1000; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 10);
        int status;
        if (sup_proc_ended(fd, true, &status) == 1)
            return status;
    }
    fail_msg("the process did not end");
    return -3;
}

static void test_exit_status(void **state)
{
    (void)state;
    char *argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    sup_spawn_req r = {.argv = argv, .cwd = "/"};
    pid_t pid;
    int fd;
    char err[256];
    assert_int_equal(sup_spawn(&r, &pid, &fd, err, sizeof err), IPCN_OK);
    assert_int_equal(wait_end(fd), 3);
    close(fd);
    char *argv2[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
    r.argv = argv2;
    assert_int_equal(sup_spawn(&r, &pid, &fd, err, sizeof err), IPCN_OK);
    assert_int_equal(wait_end(fd), 128 + SIGKILL);
    close(fd);
}

/* A component that exits (or dies) leaving a helper it forked: the helper,
 * in its process group, is killed when the component is reaped. */
static void test_leftovers_killed(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/ipcn-spawn-left.XXXXXX";
    int tfd = mkstemp(tmpl);
    assert_true(tfd >= 0);
    close(tfd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "sleep 300 & echo $! > %s; exit 4", tmpl);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    sup_spawn_req r = {.argv = argv, .cwd = "/"};
    pid_t pid;
    int fd;
    char err[256];
    assert_int_equal(sup_spawn(&r, &pid, &fd, err, sizeof err), IPCN_OK);
    assert_int_equal(wait_end(fd), 4);
    close(fd);
    FILE *f = fopen(tmpl, "r");
    int helper = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &helper), 1);
    fclose(f);
    unlink(tmpl);
    assert_true(helper > 0);
    /* gone, or a zombie its new parent has not reaped yet */
    bool gone = false;
    for (int i = 0; i < 500 && !gone; i++) {
        char path[64], st = 0;
        snprintf(path, sizeof path, "/proc/%d/stat", helper);
        FILE *s = fopen(path, "r");
        if (!s) {
            gone = true;
            break;
        }
        if (fscanf(s, "%*d (%*[^)]) %c", &st) == 1 && st == 'Z')
            gone = true;
        fclose(s);
        if (!gone)
            usleep(10000);
    }
    if (!gone)
        kill(helper, SIGKILL);
    assert_true(gone);
}

static void test_cannot_run(void **state)
{
    (void)state;
    char *argv[] = {"./no-such-program", NULL};
    sup_spawn_req r = {.argv = argv, .cwd = "/"};
    pid_t pid = 0;
    int fd = -1;
    char err[256] = "";
    assert_int_equal(sup_spawn(&r, &pid, &fd, err, sizeof err), IPCN_NOT_FOUND);
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(pid, 0);
    char *argv2[] = {"/bin/true", NULL};
    r.argv = argv2;
    r.cwd = "/no/such/dir";
    assert_int_equal(sup_spawn(&r, &pid, &fd, err, sizeof err), IPCN_NOT_FOUND);
    /* a word without '/' is looked up in PATH */
    char *argv3[] = {"true", NULL};
    r.argv = argv3;
    r.cwd = "/";
    assert_int_equal(sup_spawn(&r, &pid, &fd, err, sizeof err), IPCN_OK);
    assert_int_equal(wait_end(fd), 0);
    close(fd);
}

/* Its own session; the environment given wins over ours (later ones over
 * earlier); the group is signalled; it is recognised by /proc environ. */
static void test_session_env_group(void **state)
{
    (void)state;
    char log[] = "/tmp/ipcn-sup-spawn-XXXXXX";
    int lfd = mkstemp(log);
    assert_true(lfd >= 0);
    close(lfd);
    setenv("SUP_TEST_KEEP", "ours", 1);
    setenv("SUP_TEST_OVER", "ours", 1);
    char *env[] = {"SUP_TEST_OVER=first", "SUP_TEST_OVER=theirs", "IPCNET_COMPONENT=cam",
                   "IPCNET_ROBOT=r1"};
    /* a child in the group, then the leader waits: both end on one signal */
    char *argv[] = {"/bin/sh", "-c",
                    "echo $SUP_TEST_KEEP $SUP_TEST_OVER $(ps -o sid= -p $$); "
                    "sleep 60 & wait", NULL};
    sup_spawn_req r = {.argv = argv, .cwd = "/", .env = env, .nenv = 4, .log_path = log};
    pid_t pid;
    int fd;
    char err[256];
    assert_int_equal(sup_spawn(&r, &pid, &fd, err, sizeof err), IPCN_OK);
    assert_int_equal(getsid(pid), pid);
    assert_int_equal(getpgid(pid), pid);
    const char *yes[] = {"IPCNET_COMPONENT=cam", "IPCNET_ROBOT=r1"};
    const char *no[] = {"IPCNET_COMPONENT=cam", "IPCNET_ROBOT=r2"};
    char v[64];
    assert_true(sup_proc_environ(pid, yes, 2, "SUP_TEST_OVER", v, sizeof v));
    assert_string_equal(v, "theirs");
    assert_false(sup_proc_environ(pid, no, 2, NULL, NULL, 0));
    assert_false(sup_proc_environ(999999999, yes, 2, NULL, NULL, 0));
    int status;
    assert_int_equal(sup_proc_ended(fd, true, &status), 0);
    /* wait for the line, then end the group with one signal */
    char line[256] = "";
    for (int i = 0; i < 500 && !strchr(line, '\n'); i++) {
        FILE *f = fopen(log, "r");
        if (f) {
            if (!fgets(line, sizeof line, f))
                line[0] = 0;
            fclose(f);
        }
        usleep(10000);
    }
    char want[128];
    snprintf(want, sizeof want, "ours theirs %d\n", (int)pid);
    assert_string_equal(line, want);
    sup_proc_signal(pid, fd, SIGTERM);
    assert_int_equal(wait_end(fd), 128 + SIGTERM);
    close(fd);
    /* the sleep of its group got it too: nothing of the session is left */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ps -o pid= -s %d | wc -l", (int)pid);
    int left = -1;
    for (int i = 0; i < 200 && left != 0; i++) {
        FILE *p = popen(cmd, "r");
        if (!p || fscanf(p, "%d", &left) != 1)
            left = -1;
        if (p)
            pclose(p);
        if (left)
            usleep(10000);
    }
    assert_int_equal(left, 0);
    unlink(log);
}

static void test_mkdirs(void **state)
{
    (void)state;
    char dir[] = "/tmp/ipcn-sup-mk-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char deep[256];
    snprintf(deep, sizeof deep, "%s/a/b/c", dir);
    assert_int_equal(sup_mkdirs(deep), 0);
    assert_int_equal(sup_mkdirs(deep), 0);
    assert_int_equal(access(deep, W_OK), 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -r '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_leftovers_killed),
        cmocka_unit_test(test_cannot_run),
        cmocka_unit_test(test_session_env_group),
        cmocka_unit_test(test_mkdirs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
