/* SPDX-License-Identifier: MIT */
/*
 * test_namespaces.c — names as a ROS user expects them, in real
 * processes: one component (ipcn-test-nm_comp, whose code says "camera",
 * "camera/rgb", "camera/ping", "trigger") run twice side by side, with
 * IPCNET_NAMESPACE=left, and IPCNET_NAMESPACE=right plus IPCNET_REMAP;
 * both reachable under their own names, its subscription remapped too.
 * Then a node of this process in a namespace (relative and absolute
 * names, patterns), a taken name (who holds it, and the suffix), and
 * malformed settings refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <string.h>

#include "ipcnet.h"
#include "testutil.h"
#include "helpers/l_common.h"

/* ---- the library's log lines, kept for the assertions ---- */

static char g_log[8192];

static void keep_log(ipcn_log_level level, const char *id, const char *msg,
                     void *user)
{
    (void)level, (void)user;
    size_t k = strlen(g_log);
    snprintf(g_log + k, sizeof g_log - k, "%s: %s\n", id, msg);
}

static void log_start(void)
{
    g_log[0] = 0;
    ipcn_set_log(IPCN_LOG_WARN, keep_log, NULL);
}

static void log_stop(void)
{
    ipcn_set_log(IPCN_LOG_WARN, NULL, NULL);
}

/* ---- helpers ---- */

static pid_t spawn_comp(const char *ns, const char *remap)
{
    setenv("IPCNET_NAMESPACE", ns, 1);
    if (remap)
        setenv("IPCNET_REMAP", remap, 1);
    pid_t pid = l_spawn("nm_comp", "30", NULL);
    unsetenv("IPCNET_NAMESPACE");
    unsetenv("IPCNET_REMAP");
    assert_true(pid > 0);
    return pid;
}

static bool found(ipcn_node *n, const char *path)
{
    ipcn_resource_list *rl = NULL;
    if (ipcn_find(n, path, IPCN_ANY, &rl) != IPCN_OK)
        return false;
    size_t k = rl->count;
    ipcn_resource_list_free(rl);
    return k > 0;
}

/* The text a request or query answered, or "<status>". */
static const char *ask(ipcn_node *n, const char *path, bool query)
{
    static char out[128];
    ipcn_msg *m = NULL;
    int st = query ? ipcn_query(n, path, &m, 5000)
                   : ipcn_request(n, path, NULL, 0, NULL, &m, 5000);
    if (st == IPCN_OK)
        snprintf(out, sizeof out, "%.*s", (int)m->len, (const char *)m->data);
    else
        snprintf(out, sizeof out, "<%d>", st);
    ipcn_msg_free(m);
    return out;
}

static bool has_peer(ipcn_node *n, const char *name)
{
    ipcn_peer_list *pl = NULL;
    bool yes = false;
    if (ipcn_peers(n, &pl) != IPCN_OK)
        return false;
    for (size_t i = 0; i < pl->count; i++)
        yes |= !strcmp(pl->items[i].name, name);
    ipcn_peer_list_free(pl);
    return yes;
}

/* The criticality a peer told (-1: no such peer). */
static int peer_crit(ipcn_node *n, const char *name)
{
    ipcn_peer_list *pl = NULL;
    int crit = -1;
    if (ipcn_peers(n, &pl) != IPCN_OK)
        return -1;
    for (size_t i = 0; i < pl->count; i++) {
        ipcn_peer_info pi = {.size = sizeof pi};
        if (!strcmp(pl->items[i].name, name) &&
            ipcn_peer_list_get_info(pl, i, &pi) == IPCN_OK)
            crit = (int)pi.criticality;
    }
    ipcn_peer_list_free(pl);
    return crit;
}

/* ---- the tests ---- */

static void test_two_instances(void **state)
{
    (void)state;
    l_net("nm-two");
    spawn_comp("left", NULL);
    spawn_comp("/right", "camera/ping=cam_right/ping,trigger=/trig_right");
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "tester", NULL), IPCN_OK);
    l_own_node(n);
    assert_true(L_UNTIL(n, found(n, "left/camera/ping") &&
                               found(n, "right/cam_right/ping") &&
                               found(n, "left/camera/rgb") &&
                               found(n, "right/camera/rgb"),
                        10000));
    /* The same code, two names, neither in the other's way. */
    assert_true(has_peer(n, "left.camera"));
    assert_true(has_peer(n, "right.camera"));
    assert_string_equal(ask(n, "left/camera/ping", false), "left.camera");
    assert_string_equal(ask(n, "right/cam_right/ping", false), "right.camera");
    assert_false(found(n, "right/camera/ping")); /* remapped away */
    assert_false(found(n, "camera/**"));         /* nothing outside them */
    assert_string_equal(ask(n, "left/camera/rgb", true), "left.camera");
    assert_string_equal(ask(n, "right/camera/rgb", true), "right.camera");

    /* Their subscription to "trigger" is namespaced, and remapped. */
    assert_true(IPCN_IS_OK(ipcn_announce(n, "left/trigger", IPCN_STREAM,
                                         "text/plain", NULL, 0)));
    assert_true(IPCN_IS_OK(ipcn_announce(n, "trig_right", IPCN_STREAM,
                                         "text/plain", NULL, 0)));
    assert_true(L_UNTIL(n, (ipcn_publish(n, "left/trigger", "L", 1),
                            ipcn_publish(n, "trig_right", "R", 1),
                            !strcmp(ask(n, "left/camera/rgb", true), "L") &&
                                !strcmp(ask(n, "right/camera/rgb", true), "R")),
                        10000));

    /* A node of this process in namespace "left": relative names are its
     * namespace's, absolute ones ("/...") the network's. */
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.ns = "left";
    ipcn_node *p = NULL;
    assert_int_equal(ipcn_node_open(&p, "probe", &o), IPCN_OK);
    l_own_node(p);
    /* Its own thread: the test dispatches n and waits in p's calls. */
    assert_int_equal(ipcn_node_start_thread(p), IPCN_OK);
    assert_string_equal(ipcn_node_name(p), "left.probe");
    char buf[256];
    assert_int_equal(ipcn_node_resolve(p, "camera/ping", buf, sizeof buf), IPCN_OK);
    assert_string_equal(buf, "left/camera/ping");
    assert_int_equal(ipcn_node_resolve(p, "/right/**", buf, sizeof buf), IPCN_OK);
    assert_string_equal(buf, "right/**");
    assert_int_equal(ipcn_node_resolve(p, "camera/ping", buf, 8),
                     IPCN_INSUFFICIENT_STORAGE);
    assert_int_equal(ipcn_node_resolve(p, "a//b", buf, sizeof buf), IPCN_BAD_REQUEST);
    assert_true(L_UNTIL(n, found(p, "camera/ping") && found(p, "/right/camera/rgb"),
                        10000));
    assert_string_equal(ask(p, "camera/ping", false), "left.camera");
    assert_string_equal(ask(p, "/right/camera/rgb", true), "R");
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(p, "*/rgb", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1); /* left's only */
    assert_string_equal(rl->items[0].path, "left/camera/rgb"); /* as on the wire */
    ipcn_resource_list_free(rl);
    /* What it announces is its namespace's. */
    assert_true(IPCN_IS_OK(ipcn_announce(p, "status", IPCN_DATA, "text/plain",
                                         NULL, 0)));
    assert_int_equal(ipcn_publish(p, "status", "up", 2), IPCN_OK);
    assert_true(L_UNTIL(n, found(n, "left/status"), 10000));
    assert_string_equal(ask(n, "left/status", true), "up");
}

static void test_name_taken(void **state)
{
    (void)state;
    l_net("nm-taken");
    pid_t pid = spawn_comp("left", NULL);
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "tester", NULL), IPCN_OK);
    l_own_node(n);
    assert_true(L_UNTIL(n, has_peer(n, "left.camera"), 10000));

    /* Taken: 207, and the log says which process has it. */
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.ns = "left";
    ipcn_node *d = NULL;
    log_start();
    int st = ipcn_node_open(&d, "camera", &o);
    log_stop();
    assert_int_equal(st, IPCN_CONFLICT);
    char want[64];
    snprintf(want, sizeof want, "by pid %d (", (int)pid);
    if (!strstr(g_log, "IPCN-RDV-NAME") || !strstr(g_log, want) ||
        !strstr(g_log, "ipcn-test-nm_comp)") || !strstr(g_log, "IPCNET_NAME_SUFFIX"))
        fail_msg("the log does not say who holds the name:\n%s", g_log);

    /* On request, the next free name. */
    o.unique_name = 1;
    assert_int_equal(ipcn_node_open(&d, "camera", &o), IPCN_OK);
    l_own_node(d);
    assert_string_equal(ipcn_node_name(d), "left.camera-2");
    o.unique_name = 0;
    setenv("IPCNET_NAME_SUFFIX", "1", 1);
    ipcn_node *e = NULL;
    assert_int_equal(ipcn_node_open(&e, "camera", &o), IPCN_OK);
    l_own_node(e);
    assert_string_equal(ipcn_node_name(e), "left.camera-3");
    /* The same for a whole component: a second copy in "left". */
    pid_t again = spawn_comp("left", NULL); /* IPCNET_NAME_SUFFIX=1 too */
    unsetenv("IPCNET_NAME_SUFFIX");
    assert_true(L_UNTIL(n, has_peer(n, "left.camera-4"), 10000));
    assert_true(L_UNTIL(n, found(n, "left/camera/ping"), 10000));
    /* A supervisor names the component's node in IPCNET_NODE (with its
     * namespace, as the manifest's node says it): the criticality is its. */
    setenv("IPCNET_NODE", "left.crit", 1);
    setenv("IPCNET_CRITICALITY", "critical", 1);
    ipcn_node *c = NULL;
    st = ipcn_node_open(&c, "crit", &o);
    unsetenv("IPCNET_NODE");
    unsetenv("IPCNET_CRITICALITY");
    assert_int_equal(st, IPCN_OK);
    l_own_node(c);
    assert_int_equal(ipcn_node_start_thread(c), IPCN_OK);
    assert_true(L_UNTIL(n, peer_crit(n, "left.crit") == IPCN_CRIT_CRITICAL, 10000));
    /* Without it, the copy stops at once with 207 (exit 7). */
    pid_t third = spawn_comp("left", NULL);
    assert_int_equal(l_wait(third, 10000), 7);
    assert_int_equal(l_stop(again, 5000), 0);
    assert_int_equal(l_stop(pid, 5000), 0);
}

static void test_malformed_settings(void **state)
{
    (void)state;
    l_net("nm-bad");
    static const struct {
        const char *var, *value, *says;
    } bad[] = {
        {"IPCNET_NAMESPACE", "a//b", "IPCNET_NAMESPACE"},
        {"IPCNET_NAMESPACE", "caf\xc3\xa9", "IPCNET_NAMESPACE"},
        {"IPCNET_REMAP", "a=b=c", "IPCNET_REMAP: rule 1"},
        {"IPCNET_REMAP", "a=b,,c=d", "IPCNET_REMAP: rule 2"},
        {"IPCNET_REMAP", "cam/**=x", "IPCNET_REMAP: rule 1"},
        {"IPCNET_NAME_SUFFIX", "yes", "IPCNET_NAME_SUFFIX"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv(bad[i].var, bad[i].value, 1);
        ipcn_node *n = NULL;
        log_start();
        int st = ipcn_node_open(&n, "bad", NULL);
        log_stop();
        unsetenv(bad[i].var);
        if (st != IPCN_BAD_REQUEST || !strstr(g_log, bad[i].says))
            fail_msg("%s=%s: %d, log:\n%s", bad[i].var, bad[i].value, st, g_log);
    }
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.ns = "x y";
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "bad", &o), IPCN_BAD_REQUEST);
    o.ns = NULL;
    o.remap = "a=@sys/x";
    assert_int_equal(ipcn_node_open(&n, "bad", &o), IPCN_BAD_REQUEST);
    /* A namespace and a name longer than a node name, together. */
    o.remap = NULL;
    o.ns = "abcdefghijklmnopqrstuvwxyz0123456789";
    assert_int_equal(ipcn_node_open(&n, "abcdefghijklmnopqrstuvwxyz0123456789",
                                    &o), IPCN_BAD_REQUEST);
    /* Options win over the environment; "" is no namespace. */
    setenv("IPCNET_NAMESPACE", "env", 1);
    o.ns = "";
    assert_int_equal(ipcn_node_open(&n, "plain", &o), IPCN_OK);
    assert_string_equal(ipcn_node_name(n), "plain");
    ipcn_node_close(n);
    assert_int_equal(ipcn_node_open(&n, "plain", NULL), IPCN_OK);
    assert_string_equal(ipcn_node_name(n), "env.plain");
    ipcn_node_close(n);
    unsetenv("IPCNET_NAMESPACE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_two_instances, l_teardown),
        cmocka_unit_test_teardown(test_name_taken, l_teardown),
        cmocka_unit_test_teardown(test_malformed_settings, l_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
