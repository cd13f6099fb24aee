/* SPDX-License-Identifier: MIT */
/* test_manifest.c — a robot's launch manifest (tools/supervisor/manifest.c,
 * docs/manifest.md): a file with every field, the defaults, the start
 * order, each way of refusing a file (with its line and reason), and
 * sup_manifest_load()'s rules for the file itself. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "manifest.h"

static const char good[] =
    "# the demo robot\n"                                         /* 1 */
    "version: 1\n"                                               /* 2 */
    "robot: demo\n"                                              /* 3 */
    "store: versions/../store\n"                                 /* 4 */
    "state: /var/run//demo/./\n"                                 /* 5 */
    "components:\n"                                              /* 6 */
    "  camera:\n"                                                /* 7 */
    "    command: [bin/camera.py, --fps, \"30\"]\n"              /* 8 */
    "    versioned: true\n"                                      /* 9 */
    "    criticality: optional\n"                                /* 10 */
    "    shutdown: {phase: producer}\n"                          /* 11 */
    "    trial: {tries: 2, bless_after_ms: 0}\n"                 /* 12 */
    "  arm:\n"                                                   /* 13 */
    "    command: [bin/arm, --rest, home]\n"                     /* 14 */
    "    node: arm-node\n"                                       /* 15 */
    "    dir: ./arm\n"                                           /* 16 */
    "    env: {ARM_SPEED: \"0.5\", EMPTY: \"\"}\n"               /* 17 */
    "    criticality: critical\n"                                /* 18 */
    "    depends_on: [detector, \"resource:cam/front/*\"]\n"     /* 19 */
    "    ready_timeout_ms: 5000\n"                               /* 20 */
    "    restart: {when: always, strategy: rest_for_one, intensity: 0,\n"
    "              period_ms: 60000, backoff_ms: 250, backoff_max_ms: 250}\n"
    "    health: {service: arm/health, interval_ms: 2000, timeout_ms: 100}\n"
    "    shutdown:\n"                                            /* 24 */
    "      phase: consumer\n"                                    /* 25 */
    "      deadline_ms: 1500\n"                                  /* 26 */
    "      kill_after_ms: 500\n"                                 /* 27 */
    "    safe_state: {deadline_ms: 4000, request: arm/rest}\n"   /* 28 */
    "  detector:\n"                                              /* 29 */
    "    command: [/usr/bin/detector]\n"                         /* 30 */
    "    depends_on: camera\n"                                   /* 31 */
    "    safe_state: {}\n"                                       /* 32 */
    "    restart: {backoff_ms: 9000}\n"                          /* 33 */
    "    health: {service: det/ok, interval_ms: 200}\n";         /* 34 */

static int parse(const char *text, sup_manifest **m, char *why, size_t n)
{
    *m = NULL;
    return sup_manifest_parse(text, strlen(text), "t.yaml", "/robots/demo",
                              m, why, n);
}

static void test_good(void **state)
{
    (void)state;
    sup_manifest *m;
    char why[512] = "";
    int st = parse(good, &m, why, sizeof why);
    if (st != IPCN_OK)
        print_message("%s\n", why);
    assert_int_equal(st, IPCN_OK);
    assert_string_equal(m->path, "t.yaml");
    assert_string_equal(m->dir, "/robots/demo");
    assert_string_equal(m->robot, "demo");
    assert_string_equal(m->store, "/robots/demo/versions/../store");
    assert_string_equal(m->state, "/var/run/demo");
    assert_int_equal(m->ncomps, 3);

    const sup_component *cam = &m->comps[0], *arm = &m->comps[1],
                        *det = &m->comps[2];
    assert_string_equal(cam->name, "camera");
    assert_int_equal(cam->line, 7);
    assert_string_equal(cam->node, "camera");
    assert_int_equal(cam->argc, 3);
    assert_string_equal(cam->argv[0], "bin/camera.py");
    assert_string_equal(cam->argv[2], "30");
    assert_null(cam->argv[3]);
    assert_true(cam->versioned);
    assert_string_equal(cam->dir, "/robots/demo");
    assert_int_equal(cam->nenv, 0);
    assert_int_equal(cam->criticality, IPCN_CRIT_OPTIONAL);
    assert_int_equal(cam->ndeps, 0);
    assert_int_equal(cam->phase, SUP_PHASE_PRODUCER);
    assert_int_equal(cam->tries, 2);
    assert_int_equal(cam->bless_after_ms, 0);
    assert_false(cam->has_safe_state);

    assert_string_equal(arm->name, "arm");
    assert_int_equal(arm->line, 13);
    assert_string_equal(arm->node, "arm-node");
    assert_false(arm->versioned);
    assert_string_equal(arm->dir, "/robots/demo/arm");
    assert_int_equal(arm->nenv, 2);
    assert_string_equal(arm->env[0], "ARM_SPEED=0.5");
    assert_string_equal(arm->env[1], "EMPTY=");
    assert_null(arm->env[2]);
    assert_int_equal(arm->criticality, IPCN_CRIT_CRITICAL);
    assert_int_equal(arm->ndeps, 2);
    assert_false(arm->deps[0].resource);
    assert_string_equal(arm->deps[0].name, "detector");
    assert_int_equal(arm->deps[0].index, 2);
    assert_true(arm->deps[1].resource);
    assert_string_equal(arm->deps[1].name, "cam/front/*");
    assert_int_equal(arm->ready_timeout_ms, 5000);
    assert_int_equal(arm->when, SUP_RESTART_ALWAYS);
    assert_int_equal(arm->strategy, SUP_REST_FOR_ONE);
    assert_int_equal(arm->intensity, 0);
    assert_int_equal(arm->period_ms, 60000);
    assert_int_equal(arm->backoff_ms, 250);
    assert_int_equal(arm->backoff_max_ms, 250);
    assert_string_equal(arm->health_service, "arm/health");
    assert_int_equal(arm->health_interval_ms, 2000);
    assert_int_equal(arm->health_timeout_ms, 100);
    assert_int_equal(arm->phase, SUP_PHASE_CONSUMER);
    assert_int_equal(arm->stop_deadline_ms, 1500);
    assert_int_equal(arm->kill_after_ms, 500);
    assert_true(arm->has_safe_state);
    assert_int_equal(arm->safe_deadline_ms, 4000);
    assert_string_equal(arm->safe_request, "arm/rest");

    /* defaults, and the defaults that follow a longer first delay or a
     * shorter interval */
    assert_string_equal(det->node, "detector");
    assert_string_equal(det->dir, "/robots/demo");
    assert_int_equal(det->criticality, IPCN_CRIT_IMPORTANT);
    assert_int_equal(det->ready_timeout_ms, 10000);
    assert_int_equal(det->when, SUP_RESTART_ON_FAILURE);
    assert_int_equal(det->strategy, SUP_ONE_FOR_ONE);
    assert_int_equal(det->intensity, 5);
    assert_int_equal(det->period_ms, 30000);
    assert_int_equal(det->backoff_ms, 9000);
    assert_int_equal(det->backoff_max_ms, 9000);
    assert_int_equal(det->health_interval_ms, 200);
    assert_int_equal(det->health_timeout_ms, 200);
    assert_int_equal(det->tries, 3);
    assert_int_equal(det->bless_after_ms, 10000);
    assert_int_equal(det->phase, SUP_PHASE_REST);
    assert_int_equal(det->stop_deadline_ms, 2000);
    assert_int_equal(det->kill_after_ms, 1000);
    assert_true(det->has_safe_state);
    assert_int_equal(det->safe_deadline_ms, 3000);
    assert_null(det->safe_request);
    assert_int_equal(det->ndeps, 1);
    assert_int_equal(det->deps[0].index, 0);

    /* camera, then detector (needs camera), then arm (needs detector) */
    assert_int_equal(m->order[0], 0);
    assert_int_equal(m->order[1], 2);
    assert_int_equal(m->order[2], 1);

    assert_ptr_equal(sup_manifest_find(m, "arm"), arm);
    assert_null(sup_manifest_find(m, "ar"));
    assert_null(sup_manifest_find(NULL, "arm"));
    sup_manifest_free(m);
    sup_manifest_free(NULL);
}

/* The smallest manifest: every default. */
static void test_minimal(void **state)
{
    (void)state;
    sup_manifest *m;
    char why[512] = "";
    static const char text[] = "version: 1\ncomponents: {a: {command: [a]}}\n";
    int st = sup_manifest_parse(text, strlen(text), "dir/robot-1.yml",
                                "/x//y/", &m, why, sizeof why);
    if (st != IPCN_OK)
        print_message("%s\n", why);
    assert_int_equal(st, IPCN_OK);
    assert_string_equal(m->robot, "robot-1"); /* the file's base name */
    assert_string_equal(m->dir, "/x/y");
    assert_string_equal(m->store, "/x/y/versions");
    assert_string_equal(m->state, "/x/y/run");
    assert_int_equal(m->ncomps, 1);
    const sup_component *a = &m->comps[0];
    assert_string_equal(a->name, "a");
    assert_string_equal(a->node, "a");
    assert_int_equal(a->argc, 1);
    assert_string_equal(a->dir, "/x/y");
    assert_non_null(a->env); /* empty, NULL-terminated */
    assert_null(a->env[0]);
    assert_int_equal(a->backoff_ms, 100);
    assert_int_equal(a->backoff_max_ms, 5000);
    assert_int_equal(a->health_interval_ms, 1000);
    assert_int_equal(a->health_timeout_ms, 500);
    assert_null(a->health_service);
    assert_false(a->has_safe_state);
    assert_int_equal(m->order[0], 0);
    sup_manifest_free(m);
}

/* Ties in the start order are taken in the order of the file. */
static void test_order(void **state)
{
    (void)state;
    static const char text[] =
        "version: 1\nrobot: r\ncomponents:\n"
        "  e: {command: [e], depends_on: [d, a]}\n"
        "  d: {command: [d], depends_on: b}\n"
        "  c: {command: [c], depends_on: \"resource:x/**\"}\n"
        "  b: {command: [b]}\n"
        "  a: {command: [a], depends_on: [c, b]}\n";
    sup_manifest *m;
    char why[512] = "";
    int st = parse(text, &m, why, sizeof why);
    if (st != IPCN_OK)
        print_message("%s\n", why);
    assert_int_equal(st, IPCN_OK);
    /* c (2) and b (3) are free; d needs b; a needs c and b; e needs d, a */
    static const size_t want[] = {2, 3, 1, 4, 0};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(m->order[i], want[i]);
    sup_manifest_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
