/* SPDX-License-Identifier: MIT */
/*
 * test_sup_rollback.c — rollback end to end (issue 16), with `ipcnet up`
 * running and `ipcnet install` asking it to reload: a v2 that crashes at
 * start runs out of its tries, is marked bad and v1 runs again; a v2 that
 * starts but fails its health check before it is blessed: the same; a
 * good v2 is blessed after bless_after_ms and becomes good.  A
 * configuration is versioned the same way (`ipcnet install --config`): a
 * new one that makes the component crash is given up and the good one
 * runs again; a good one is blessed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sup_util.h"

static char manifest[600], log_path[600], out_path[600];

/* A version directory whose "run" starts the test component with args. */
static void make_version(const char *dir, const char *id, const char *args, char *path,
                         size_t len)
{
    snprintf(path, len, "%s/src-%s", dir, id);
    mkdir(path, 0755);
    char run[700], text[600];
    snprintf(run, sizeof run, "%s/run", path);
    snprintf(text, sizeof text, "#!/bin/sh\nexec %s %s\n", SU_COMP, args);
    su_write(run, text, 0755);
}

static int install(const char *dir, const char *id)
{
    const char *args[] = {"install", "app", dir, "--manifest", manifest, "--id", id, NULL};
    return su_cli(log_path, args);
}

static int install_config(const char *dir, const char *id)
{
    const char *args[] = {"install", "app", dir, "--manifest", manifest, "--id", id,
                          "--config", NULL};
    return su_cli(log_path, args);
}

static bool config_mode;      /* version_mark() asks of the configuration */

/* What `ipcnet versions app --json` says of id: 'g' good, 't' trial, 'b'
 * bad, '-' none of these, 0 not listed (or the command failed). */
static char version_mark(const char *id)
{
    unlink(out_path);
    const char *args[] = {"versions", "app", "--manifest", manifest, "--json",
                          config_mode ? "--config" : NULL, NULL};
    const char *argv[9];
    int k = 0;
    argv[k++] = SU_CLI;
    for (int i = 0; args[i]; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2(fd, 1);
        execv(SU_CLI, (char *const *)argv);
        _exit(127);
    }
    if (tu_wait(pid, 30000) != 0)
        return 0;
    /* the JSON without blanks; the object that names id */
    char buf[65536];
    size_t n = 0;
    FILE *f = fopen(out_path, "r");
    int ch;
    while (f && (ch = fgetc(f)) != EOF && n + 1 < sizeof buf)
        if (ch != ' ' && ch != '\n' && ch != '\t')
            buf[n++] = (char)ch;
    buf[n] = 0;
    if (f)
        fclose(f);
    char key[128];
    snprintf(key, sizeof key, "\"id\":\"%s\"", id);
    char *at = strstr(buf, key);
    if (!at)
        return 0;
    char *start = at, *end = strchr(at, '}');
    while (start > buf && *start != '{')
        start--;
    if (end)
        *end = 0;
    if (strstr(start, "\"bad\":true"))
        return 'b';
    if (strstr(start, "\"good\":true"))
        return 'g';
    if (strstr(start, "\"trial\":true"))
        return 't';
    return '-';
}

static bool wait_mark(const char *id, char want, int timeout_ms)
{
    uint64_t end = tu_now_ms() + (uint64_t)timeout_ms;
    char got = 0;
    while (tu_now_ms() < end) {
        if ((got = version_mark(id)) == want)
            return true;
        usleep(100000);
    }
    fprintf(stderr, "version %s: '%c', waiting for '%c'\n", id, got ? got : '0', want);
    return false;
}

static void test_rollback(void **state)
{
    (void)state;
    tu_net_dir();
    ipcn_node *watch = su_watcher("sup-watch");
    const char *dir = su_robot("rb");
    snprintf(manifest, sizeof manifest, "%s/robot.yaml", dir);
    snprintf(log_path, sizeof log_path, "%s/up.log", dir);
    snprintf(out_path, sizeof out_path, "%s/versions.json", dir);
    su_write(manifest,
             "version: 1\n"
             "robot: rb\n"
             "components:\n"
             "  app:\n"
             "    command: [run]\n"
             "    versioned: true\n"
             "    health: {service: app/health, interval_ms: 500, timeout_ms: 500}\n"
             "    trial: {tries: 3, bless_after_ms: 2500}\n"
             "    restart: {intensity: 10, period_ms: 600000, backoff_ms: 20, "
             "backoff_max_ms: 100}\n", 0644);
    char v1[700], v2c[700], v2u[700], v2g[700];
    make_version(dir, "v1", "--ready-after 20", v1, sizeof v1);
    make_version(dir, "v2c", "--crash-at-start", v2c, sizeof v2c);
    make_version(dir, "v2u", "--unhealthy-after 800", v2u, sizeof v2u);
    make_version(dir, "v2g", "--ready-after 20", v2g, sizeof v2g);
    assert_int_equal(install(v1, "v1"), 0);
    assert_int_equal(version_mark("v1"), 'g');

    pid_t sup = su_up(manifest, log_path);
    su_state st;
    if (!su_wait(watch, "rb", "app", "ready", 0, "v1", 30000, &st)) {
        su_dump(log_path);
        fail_msg("v1 did not come up");
    }
    assert_false(st.trial);

    /* v2 crashing at start: back on v1 after its tries, v2 bad */
    assert_int_equal(install(v2c, "v2c"), 0);
    if (!wait_mark("v2c", 'b', 60000) || !su_wait(watch, "rb", "app", "ready", 0, "v1",
                                                  30000, &st)) {
        su_dump(log_path);
        fail_msg("the crashing v2 was not rolled back");
    }
    assert_false(st.trial);
    assert_int_equal(version_mark("v1"), 'g');

    /* v2 unhealthy within its bless time: the same */
    assert_int_equal(install(v2u, "v2u"), 0);
    if (!wait_mark("v2u", 'b', 60000) || !su_wait(watch, "rb", "app", "ready", 0, "v1",
                                                  30000, &st)) {
        su_dump(log_path);
        fail_msg("the unhealthy v2 was not rolled back");
    }
    assert_int_equal(version_mark("v1"), 'g');

    /* a good v2: on trial, then blessed: good */
    assert_int_equal(install(v2g, "v2g"), 0);
    if (!su_wait(watch, "rb", "app", "ready", 0, "v2g", 30000, &st)) {
        su_dump(log_path);
        fail_msg("v2g did not start");
    }
    if (!wait_mark("v2g", 'g', 60000)) {
        su_dump(log_path);
        fail_msg("v2g was not blessed");
    }
    assert_true(su_wait(watch, "rb", "app", "ready", 0, "v2g", 30000, &st));
    uint64_t end = tu_now_ms() + 10000;
    while (st.trial && tu_now_ms() < end && su_get(watch, "rb", "app", &st))
        usleep(20000);
    assert_false(st.trial);
    assert_int_equal(version_mark("v2c"), 'b');
    assert_int_equal(version_mark("v2u"), 'b');
    assert_int_equal(su_down(sup), 0);
    assert_true(su_gone(st.pid, 10000));
    ipcn_node_close(watch);
}

/* A configuration directory holding the test component's arguments. */
static void make_config(const char *dir, const char *id, const char *args, char *path,
                        size_t len)
{
    snprintf(path, len, "%s/cfg-%s", dir, id);
    mkdir(path, 0755);
    char file[700];
    snprintf(file, sizeof file, "%s/args", path);
    su_write(file, args, 0644);
}

static void test_config_rollback(void **state)
{
    (void)state;
    tu_net_dir();
    ipcn_node *watch = su_watcher("sup-watch-cfg");
    const char *dir = su_robot("rc");
    snprintf(manifest, sizeof manifest, "%s/robot.yaml", dir);
    snprintf(log_path, sizeof log_path, "%s/up.log", dir);
    snprintf(out_path, sizeof out_path, "%s/versions.json", dir);
    su_write(manifest,
             "version: 1\n"
             "robot: rc\n"
             "components:\n"
             "  app:\n"
             "    command: [run]\n"
             "    versioned: true\n"
             "    trial: {tries: 2, bless_after_ms: 1500}\n"
             "    restart: {intensity: 10, period_ms: 600000, backoff_ms: 20, "
             "backoff_max_ms: 100}\n", 0644);
    /* the program reads its arguments from its configuration */
    char v1[700], c1[700], c2[700], c3[700];
    snprintf(v1, sizeof v1, "%s/src-v1", dir);
    mkdir(v1, 0755);
    char run[800], text[700];
    snprintf(run, sizeof run, "%s/run", v1);
    snprintf(text, sizeof text, "#!/bin/sh\nexec %s $(cat \"$IPCNET_CONFIG_DIR/args\")\n",
             SU_COMP);
    su_write(run, text, 0755);
    make_config(dir, "c1", "--ready-after 20", c1, sizeof c1);
    make_config(dir, "c2", "--crash-at-start", c2, sizeof c2);
    make_config(dir, "c3", "--ready-after 30", c3, sizeof c3);
    assert_int_equal(install(v1, "v1"), 0);
    assert_int_equal(install_config(c1, "c1"), 0);
    config_mode = true;
    assert_int_equal(version_mark("c1"), 'g');

    pid_t sup = su_up(manifest, log_path);
    su_state st;
    if (!su_wait(watch, "rc", "app", "ready", 0, "v1", 30000, &st)) {
        su_dump(log_path);
        fail_msg("v1 with configuration c1 did not come up");
    }
    /* a configuration that makes it crash: given up, c1 again */
    assert_int_equal(install_config(c2, "c2"), 0);
    if (!wait_mark("c2", 'b', 60000) || !wait_mark("c1", 'g', 10000) ||
        !su_wait(watch, "rc", "app", "ready", 0, "v1", 30000, &st)) {
        su_dump(log_path);
        fail_msg("the crashing configuration was not rolled back");
    }
    /* a good one: blessed */
    assert_int_equal(install_config(c3, "c3"), 0);
    if (!wait_mark("c3", 'g', 60000)) {
        su_dump(log_path);
        fail_msg("configuration c3 was not blessed");
    }
    assert_int_equal(version_mark("c2"), 'b');
    config_mode = false;
    assert_int_equal(version_mark("v1"), 'g');
    assert_true(su_wait(watch, "rc", "app", "ready", 0, "v1", 30000, &st));
    assert_int_equal(su_down(sup), 0);
    assert_true(su_gone(st.pid, 10000));
    ipcn_node_close(watch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rollback),
        cmocka_unit_test(test_config_rollback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
