/* SPDX-License-Identifier: MIT */
/*
 * test_access.c — a provider's own rules and its run-time groups, over
 * live links: who may request, query, find and subscribe; private
 * resources (203) against forbidden ones (202); changes taking effect on
 * links already up (withdrawn, announced again); the denials counted.
 * All principals here are one user's nodes, told apart by the node names
 * they proved: the matrix test (test_permissions) does it across users.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipcnet.h"
#include "v_util.h"

static int echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                void *user)
{
    (void)n, (void)user;
    return ipcn_reply_set(ctx, req->data, req->len, req->encoding);
}

static ipcn_node *open_threaded(const char *name)
{
    ipcn_node *n = v_open(name, NULL);
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static int call(ipcn_node *n, const char *path)
{
    ipcn_msg *m = NULL;
    int st = ipcn_request(n, path, "hi", 2, "text/plain", &m, V_WAIT_MS);
    ipcn_msg_free(m);
    return st;
}

static int query(ipcn_node *n, const char *path)
{
    ipcn_msg *m = NULL;
    int st = ipcn_query(n, path, &m, V_WAIT_MS);
    ipcn_msg_free(m);
    return st;
}

static size_t count(ipcn_node *n, const char *pattern)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, pattern, IPCN_ANY, &rl), IPCN_OK);
    size_t c = rl->count;
    ipcn_resource_list_free(rl);
    return c;
}

/* Wait (the nodes run their threads) until find gives want. */
static void wait_count(ipcn_node *n, const char *pattern, size_t want)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (count(n, pattern) != want) {
        if (tu_now_ms() >= end)
            fail_msg("found %zu of %s, not %zu", count(n, pattern), pattern,
                     want);
        usleep(5000);
    }
}

static uint64_t denied(ipcn_node *n)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(n, &s), IPCN_OK);
    return s.denied;
}

/* Execute narrowed to one node: the other may still see and query, and
 * is told 202. */
static void test_execute_narrowed(void **state)
{
    (void)state;
    ipcn_node *p = open_threaded("prov");
    ipcn_access_rule r[] = {{0, IPCN_ACCESS_EXECUTE, "node:teleop"}};
    assert_int_equal(ipcn_resource_set_access(p, "motors/cmd", r, 1), IPCN_OK);
    assert_int_equal(ipcn_offer(p, "motors/cmd", "text/plain", echo, NULL),
                     IPCN_OK);
    ipcn_node *t = open_threaded("teleop");
    ipcn_node *x = open_threaded("intruder");
    wait_count(t, "motors/cmd", 1);
    wait_count(x, "motors/cmd", 1);
    assert_int_equal(call(t, "motors/cmd"), IPCN_OK);
    uint64_t before = denied(p);
    assert_int_equal(call(x, "motors/cmd"), IPCN_FORBIDDEN);
    assert_int_equal(denied(p), before + 1);
    /* a deny rule beats the allow, whatever the order */
    ipcn_access_rule r2[] = {{1, IPCN_ACCESS_EXECUTE, "node:tele*"},
                             {0, IPCN_ACCESS_EXECUTE, "any"}};
    assert_int_equal(ipcn_resource_set_access(p, "motors/cmd", r2, 2), IPCN_OK);
    assert_int_equal(call(t, "motors/cmd"), IPCN_FORBIDDEN);
    assert_int_equal(call(x, "motors/cmd"), IPCN_OK);
    /* removed: back to the network's default (allow) */
    assert_int_equal(ipcn_resource_set_access(p, "motors/cmd", NULL, 0), IPCN_OK);
    assert_int_equal(call(t, "motors/cmd"), IPCN_OK);
}

/* Read narrowed: the resource is private, absent for the others (find,
 * query, request: 203), and leaves and comes back on live links. */
static void test_private(void **state)
{
    (void)state;
    ipcn_node *p = open_threaded("prov");
    ipcn_node *t = open_threaded("teleop");
    ipcn_node *x = open_threaded("intruder");
    assert_int_equal(ipcn_announce(p, "arm/pose", IPCN_DATA, "text/plain",
                                   NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_publish(p, "arm/pose", "1", 1), IPCN_OK);
    assert_int_equal(ipcn_offer(p, "arm/move", "text/plain", echo, NULL), IPCN_OK);
    wait_count(x, "arm/*", 2);
    assert_int_equal(query(x, "arm/pose"), IPCN_OK);
    /* made private on live links: withdrawn from the intruder at once */
    ipcn_access_rule r[] = {{0, IPCN_ACCESS_READ | IPCN_ACCESS_EXECUTE,
                             "node:teleop"}};
    assert_int_equal(ipcn_resource_set_access(p, "arm/pose", r, 1), IPCN_OK);
    assert_int_equal(ipcn_resource_set_access(p, "arm/move", r, 1), IPCN_OK);
    wait_count(x, "arm/*", 0);
    wait_count(t, "arm/*", 2);
    assert_int_equal(query(t, "arm/pose"), IPCN_OK);
    assert_int_equal(call(t, "arm/move"), IPCN_OK);
    /* the intruder's node knows no provider: 203 without asking */
    assert_int_equal(query(x, "arm/pose"), IPCN_NOT_FOUND);
    assert_int_equal(call(x, "arm/move"), IPCN_NOT_FOUND);
    /* a node opened after is never told of them */
    ipcn_node *late = open_threaded("late");
    wait_count(late, "ctl-none", 0);
    assert_int_equal(ipcn_node_wait_peers(late, 3, V_WAIT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_synced(late, V_WAIT_MS), IPCN_OK);
    assert_int_equal(count(late, "arm/*"), 0);
    /* public again: announced again */
    assert_int_equal(ipcn_resource_set_access(p, "arm/pose", NULL, 0), IPCN_OK);
    wait_count(x, "arm/*", 1);
    wait_count(late, "arm/*", 1);
    assert_int_equal(query(x, "arm/pose"), IPCN_OK);
}

/* Samples go only to those that may read the stream. */
static void test_subscribe_narrowed(void **state)
{
    (void)state;
    ipcn_node *p = open_threaded("prov");
    ipcn_access_rule r[] = {{0, IPCN_ACCESS_READ, "node:teleop"}};
    assert_int_equal(ipcn_resource_set_access(p, "cam/front", r, 1), IPCN_OK);
    assert_int_equal(ipcn_announce(p, "cam/front", IPCN_STREAM, "text/plain",
                                   NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_announce(p, "cam/public", IPCN_STREAM, "text/plain",
                                   NULL, 0), IPCN_CREATED);
    ipcn_node *t = open_threaded("teleop");
    ipcn_node *x = open_threaded("intruder");
    ipcn_sub st, sx;
    assert_int_equal(ipcn_subscribe(t, "cam/**", 64, NULL, NULL, &st), IPCN_OK);
    assert_int_equal(ipcn_subscribe(x, "cam/**", 64, NULL, NULL, &sx), IPCN_OK);
    assert_int_equal(ipcn_node_wait_peers(t, 2, V_WAIT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_peers(x, 2, V_WAIT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_synced(t, V_WAIT_MS), IPCN_OK);
    assert_int_equal(ipcn_node_wait_synced(x, V_WAIT_MS), IPCN_OK);
    /* wait until the provider knows both subscriptions: a public sample
     * reaches both */
    int got_t = 0, got_x = 0;
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while ((!got_t || !got_x) && tu_now_ms() < end) {
        ipcn_publish(p, "cam/public", "p", 1);
        ipcn_msg *m = NULL;
        if (!got_t && ipcn_sub_take(t, st, &m, 20) == IPCN_OK)
            got_t = 1;
        ipcn_msg_free(m);
        m = NULL;
        if (!got_x && ipcn_sub_take(x, sx, &m, 20) == IPCN_OK)
            got_x = 1;
        ipcn_msg_free(m);
    }
    assert_true(got_t && got_x);
    /* drain, then the private stream */
    ipcn_msg *m = NULL;
    while (ipcn_sub_take(t, st, &m, 50) == IPCN_OK)
        ipcn_msg_free(m), m = NULL;
    while (ipcn_sub_take(x, sx, &m, 50) == IPCN_OK)
        ipcn_msg_free(m), m = NULL;
    for (int i = 0; i < 5; i++)
        assert_int_equal(ipcn_publish(p, "cam/front", "f", 1),
                         IPCN_OK);
    assert_int_equal(ipcn_publish(p, "cam/public", "end", 3),
                     IPCN_OK);
    int front = 0;
    for (;;) {
        assert_int_equal(ipcn_sub_take(t, st, &m, V_WAIT_MS), IPCN_OK);
        bool last = !strcmp(m->path, "cam/public");
        front += !last;
        ipcn_msg_free(m), m = NULL;
        if (last)
            break;
    }
    assert_int_equal(front, 5);
    /* the intruder: only the public one, after nothing of cam/front */
    assert_int_equal(ipcn_sub_take(x, sx, &m, V_WAIT_MS), IPCN_OK);
    assert_string_equal(m->path, "cam/public");
    ipcn_msg_free(m);
}

/* A run-time group names who may call; members added and removed take
 * effect at once. */
static void test_groups(void **state)
{
    (void)state;
    ipcn_node *p = open_threaded("prov");
    assert_int_equal(ipcn_group_create(p, "operators"), IPCN_OK);
    assert_int_equal(ipcn_group_create(p, "operators"), IPCN_CONFLICT);
    assert_int_equal(ipcn_group_create(p, "bad/name"), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_group_add(p, "nonesuch", "node:x"), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_group_add(p, "operators", "colour:red"),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_group_add(p, "operators", "group:operators"),
                     IPCN_BAD_REQUEST);
    ipcn_access_rule r[] = {{0, IPCN_ACCESS_EXECUTE, "group:operators"}};
    assert_int_equal(ipcn_resource_set_access(p, "lift/up", r, 1), IPCN_OK);
    assert_int_equal(ipcn_offer(p, "lift/up", "text/plain", echo, NULL), IPCN_OK);
    ipcn_node *t = open_threaded("teleop");
    wait_count(t, "lift/up", 1);
    assert_int_equal(call(t, "lift/up"), IPCN_FORBIDDEN);
    assert_int_equal(ipcn_group_add(p, "operators", "node:teleop"), IPCN_OK);
    assert_int_equal(ipcn_group_add(p, "operators", "node:teleop"), IPCN_OK);
    assert_int_equal(call(t, "lift/up"), IPCN_OK);
    assert_int_equal(ipcn_group_remove(p, "operators", "node:teleop"), IPCN_OK);
    assert_int_equal(ipcn_group_remove(p, "operators", "node:teleop"),
                     IPCN_NOT_FOUND);
    assert_int_equal(call(t, "lift/up"), IPCN_FORBIDDEN);
    assert_int_equal(ipcn_group_add(p, "operators", "node:tele*"), IPCN_OK);
    assert_int_equal(call(t, "lift/up"), IPCN_OK);
    assert_int_equal(ipcn_group_delete(p, "operators"), IPCN_OK);
    assert_int_equal(ipcn_group_delete(p, "operators"), IPCN_NOT_FOUND);
    assert_int_equal(call(t, "lift/up"), IPCN_FORBIDDEN);
}

/* ---- the network policy, reloaded on live links ---- */

static ipcn_node_stats stats(ipcn_node *n)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(n, &s), IPCN_OK);
    return s;
}

/* Write the network's policy.yaml as editors do (a new file renamed over
 * the old one); NULL removes it. */
static void write_policy(const char *text)
{
    char dir[512], tmp[600], final[600];
    snprintf(dir, sizeof dir, "%s/%s", tu_dir, v_network);
    mkdir(dir, 0700);
    snprintf(final, sizeof final, "%s/policy.yaml", dir);
    if (!text) {
        assert_int_equal(unlink(final), 0);
        return;
    }
    snprintf(tmp, sizeof tmp, "%s/.policy.tmp", dir);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(tmp, 0644), 0);
    assert_int_equal(rename(tmp, final), 0);
}

/* Wait until n has taken (or refused) one more version of the file. */
static void wait_reload(ipcn_node *n, uint64_t reloads, uint64_t rejected)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        ipcn_node_stats s = stats(n);
        if (s.policy_reloads >= reloads && s.policy_rejected >= rejected)
            return;
        if (tu_now_ms() >= end)
            fail_msg("%s: reloads %llu (want %llu), rejected %llu (want %llu)",
                     "policy", (unsigned long long)s.policy_reloads,
                     (unsigned long long)reloads,
                     (unsigned long long)s.policy_rejected,
                     (unsigned long long)rejected);
        usleep(5000);
    }
}

static void test_policy_reload(void **state)
{
    (void)state;
    write_policy("version: 1\n"
                 "default: allow\n"
                 "rules:\n"
                 "  - deny: execute\n"
                 "    who: node:intruder\n"
                 "    what: motors/**\n");
    ipcn_node *p = open_threaded("prov");
    ipcn_node *t = open_threaded("teleop");
    ipcn_node *x = open_threaded("intruder");
    assert_int_equal(ipcn_offer(p, "motors/cmd", "text/plain", echo, NULL),
                     IPCN_OK);
    wait_count(x, "motors/cmd", 1);
    wait_count(t, "motors/cmd", 1);
    assert_int_equal(call(t, "motors/cmd"), IPCN_OK);
    assert_int_equal(call(x, "motors/cmd"), IPCN_FORBIDDEN);

    /* default deny, the intruder named nowhere: the service leaves its
     * directory on the live link, and its calls get 203 */
    write_policy("version: 1\n"
                 "default: deny\n"
                 "rules:\n"
                 "  - allow: all\n"
                 "    who: [\"node:prov\", \"node:teleop\"]\n"
                 "    what: \"**\"\n");
    wait_reload(p, 1, 0);
    wait_count(x, "motors/cmd", 0);
    assert_int_equal(call(t, "motors/cmd"), IPCN_OK);
    assert_int_equal(call(x, "motors/cmd"), IPCN_NOT_FOUND);

    /* a file that does not load is refused as a whole: the last policy
     * stays in force */
    write_policy("version: 1\ndefault: deny\nrules:\n  - allow: all\n"
                 "    who: node:intruder\n    what: \"**\"\n    colour: red\n");
    wait_reload(p, 1, 1);
    assert_int_equal(call(x, "motors/cmd"), IPCN_NOT_FOUND);
    assert_int_equal(call(t, "motors/cmd"), IPCN_OK);

    /* audit: nothing refused, what deny would refuse counted */
    write_policy("version: 1\ndefault: audit\nrules: []\n");
    wait_reload(p, 2, 1);
    wait_count(x, "motors/cmd", 1);
    uint64_t audited = stats(p).audited;
    assert_int_equal(call(x, "motors/cmd"), IPCN_OK);
    assert_true(stats(p).audited > audited);

    /* no file: a per-user network's default, allow */
    write_policy(NULL);
    wait_reload(p, 3, 1);
    audited = stats(p).audited;
    assert_int_equal(call(x, "motors/cmd"), IPCN_OK);
    assert_int_equal(stats(p).audited, audited);
}

/* A policy named by IPCNET_POLICY, in a directory of its own, is watched
 * there too; other files of that directory are not taken for nodes. */
static void test_policy_reload_env(void **state)
{
    (void)state;
    char dir[600], file[700], tmp[700], other[700];
    snprintf(dir, sizeof dir, "%s/pol-%s", tu_dir, v_network);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(file, sizeof file, "%s/robot.yaml", dir);
    snprintf(tmp, sizeof tmp, "%s/robot.yaml.tmp", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("version: 1\ndefault: allow\n", f);
    fclose(f);
    setenv("IPCNET_POLICY", file, 1);
    ipcn_node *p = open_threaded("prov");
    ipcn_node *x = open_threaded("intruder");
    unsetenv("IPCNET_POLICY");
    assert_int_equal(ipcn_offer(p, "motors/cmd", "text/plain", echo, NULL),
                     IPCN_OK);
    wait_count(x, "motors/cmd", 1);
    assert_int_equal(call(x, "motors/cmd"), IPCN_OK);
    /* a socket-like name beside it is not a node of the network */
    snprintf(other, sizeof other, "%s/ghost.sock", dir);
    f = fopen(other, "w");
    assert_non_null(f);
    fclose(f);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("version: 1\ndefault: allow\nrules:\n  - deny: execute\n"
          "    who: node:intruder\n    what: motors/**\n", f);
    fclose(f);
    assert_int_equal(rename(tmp, file), 0);
    wait_reload(p, 1, 0);
    assert_int_equal(call(x, "motors/cmd"), IPCN_FORBIDDEN);
    ipcn_node_stats s = stats(p);
    assert_int_equal(s.peers, 1);
    /* removing a file named by IPCNET_POLICY is refused: still in force */
    assert_int_equal(unlink(file), 0);
    wait_reload(p, 1, 1);
    assert_int_equal(call(x, "motors/cmd"), IPCN_FORBIDDEN);
}

/* The node's own announce of a path it may not provide fails at once. */
static void test_self_provide(void **state)
{
    (void)state;
    write_policy("version: 1\n"
                 "default: allow\n"
                 "rules:\n"
                 "  - deny: provide\n"
                 "    who: node:intruder\n"
                 "    what: motors/**\n");
    ipcn_node *x = v_open("intruder", NULL);
    assert_int_equal(ipcn_offer(x, "motors/cmd", "text/plain", echo, NULL),
                     IPCN_FORBIDDEN);
    assert_int_equal(ipcn_announce(x, "motors/state", IPCN_DATA, NULL, NULL, 0),
                     IPCN_FORBIDDEN);
    assert_int_equal(ipcn_announce(x, "arm/state", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
}

/* A policy that does not load fails the open: fail closed. */
static void test_policy_refused_at_open(void **state)
{
    (void)state;
    write_policy("version: 1\ndefault: maybe\n");
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "prov", NULL), IPCN_FORBIDDEN);
    assert_null(n);
    /* a file named by IPCNET_POLICY must exist */
    write_policy(NULL);
    setenv("IPCNET_POLICY", "/nonexistent/ipcnet-policy.yaml", 1);
    int st = ipcn_node_open(&n, "prov", NULL);
    unsetenv("IPCNET_POLICY");
    assert_int_equal(st, IPCN_FORBIDDEN);
    assert_null(n);
}

static void test_bad_rules(void **state)
{
    (void)state;
    ipcn_node *p = v_open("prov", NULL);
    ipcn_access_rule none[] = {{0, 0, "any"}};
    ipcn_access_rule unknown_verb[] = {{0, 64, "any"}};
    ipcn_access_rule bad_who[] = {{0, IPCN_ACCESS_READ, "user:no-such-user-ipcn"}};
    ipcn_access_rule null_who[] = {{0, IPCN_ACCESS_READ, NULL}};
    assert_int_equal(ipcn_resource_set_access(p, "a", none, 1), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_resource_set_access(p, "a", unknown_verb, 1),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_resource_set_access(p, "a", bad_who, 1),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_resource_set_access(p, "a", null_who, 1),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_resource_set_access(p, "a/**", NULL, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_resource_set_access(p, "a", NULL, 1), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_resource_set_access(NULL, "a", NULL, 0),
                     IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_execute_narrowed), V_TEST(test_private),
        V_TEST(test_subscribe_narrowed), V_TEST(test_groups),
        V_TEST(test_bad_rules), V_TEST(test_policy_reload),
        V_TEST(test_self_provide), V_TEST(test_policy_refused_at_open),
        V_TEST(test_policy_reload_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
