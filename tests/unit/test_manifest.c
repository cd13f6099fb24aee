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

/* ---- refused files ---- */

#define H "version: 1\nrobot: r\ncomponents:\n" /* lines 1-3 */
/* component a on lines 4-5; x from line 6 */
#define C(x) H "  a:\n    command: [a]\n" x

typedef struct bad {
    const char *text;
    uint32_t line;
    const char *reason; /* a part of it */
} bad;

static const bad bads[] = {
    /* the document */
    {"", 1, "an empty manifest"},
    {"# nothing\n", 1, "an empty manifest"},
    {"[version, 1]\n", 1, "a manifest is a mapping"},
    {"robot: r\ncomponents: {a: {command: [a]}}\n", 1,
     "version: is missing"},
    {"version: 2\ncomponents: {a: {command: [a]}}\n", 1,
     "only version 1 is known, not 2"},
    {"version: [1]\ncomponents: {a: {command: [a]}}\n", 1,
     "only version 1 is known, not a list"},
    {"version: 1\nrobot: r\n", 1, "components: is missing"},
    {"version: 1\nrobots: r\n", 2, "unknown key \"robots\" in the manifest"},
    {"version: 1\nrobot: r\nrobot: s\n", 3, "\"robot\" given twice"},
    {"version: 1\n[a]: 1\n", 2, "must be a word, not a list"},
    {"version: 1\nrobot: \"a b\"\n", 2, "robot: \"a b\" is not a name"},
    {"version: 1\nrobot: .r\n", 2, "is not a name"},
    {"version: 1\nrobot: "
     "r123456789012345678901234567890123456789012345678901234567890\n",
     2, "is not a name (1 to 60"},
    {"version: 1\nrobot: [r]\n", 2, "robot: a value expected, not a list"},
    {"version: 1\nrobot: r\nstore: x\nstate: ./x/\n"
     "components: {a: {command: [a]}}\n",
     4, "store and state are one directory (/robots/demo/x)"},
    {"version: 1\nrobot: r\nstore: \"a\\tb\"\n", 3,
     "store: a control character in a path"},
    {"version: 1\nrobot: r\nstate:\n", 3, "state: a value expected, not "
                                           "nothing"},
    {"version: 1\nrobot: r\ncomponents: {}\n", 3, "not an empty one"},
    {"version: 1\nrobot: r\ncomponents: [a]\n", 3,
     "components: a mapping of names to components expected, not a list"},
    /* YAML itself */
    {"version: 1\ncomponents: [a\n", 3, "YAML: did not find expected"},
    {"version: 1\n---\nversion: 1\n", 2, "more than one YAML document"},
    {H "  a: &x {command: [a]}\n", 4,
     "YAML anchors (&x) are not accepted in a manifest"},
    {H "  a: {command: [a]}\n  b: *x\n", 5,
     "YAML aliases (*x) are not accepted in a manifest"},
    {H "  a: !!map {command: [a]}\n", 4,
     "YAML tags (tag:yaml.org,2002:map) are not accepted in a manifest"},
    {"version: 1\nrobot: \"a\\0b\"\n", 2, "a NUL character in a value"},
    {C("    restart: {when: [[x]]}\n"), 6,
     "a list nested deeper than the format has"},
    {H "  a: {command: [a, {b: c}]}\n", 4,
     "a mapping nested deeper than the format has"},
    /* component names */
    {H "  .hidden: {command: [a]}\n", 4,
     "a component's name: \".hidden\" is not a name"},
    {H "  a/b: {command: [a]}\n", 4, "is not a name"},
    {H "  arm.config: {command: [a]}\n", 4,
     "component \"arm.config\": a name ending in .config"},
    {H "  a: {command: [a]}\n  b: {command: [b]}\n  a: {command: [c]}\n", 6,
     "component \"a\" defined twice (also on line 4)"},
    {H "  a: [x]\n", 4, "component \"a\": a mapping expected (command, "},
    {H "  a:\n  b: {command: [b]}\n", 4, "a mapping expected (command, node, "
                                         "criticality, ...), not nothing"},
    /* command, node, dir */
    {H "  a: {node: x}\n", 4, "component \"a\": command: is missing"},
    {H "  a: {command: bin/a --x}\n", 4,
     "command: a list of words expected ([program, arg, ...]: no shell), "
     "not a value"},
    {H "  a: {command: []}\n", 4, "an empty list of component \"a\": "
                                  "command"},
    {H "  a: {command: [a, \"\"]}\n", 4, "an empty component \"a\": command"},
    {C("    restrat: {}\n"), 6, "unknown key \"restrat\" in component \"a\""},
    {H "  a: {command: [a], node: n}\n  b: {command: [b], node: n}\n", 5,
     "component \"b\": node: \"n\" is also the node of component \"a\" "
     "(line 4)"},
    {H "  n: {command: [a]}\n  b: {command: [b], node: n}\n", 5,
     "is also the node of component \"n\""},
    {H "  a: {command: [a], node: sup.r}\n", 4,
     "node: \"sup.r\" is the supervisor's own node name"},
    {H "  sup.r: {command: [a]}\n", 4, "the supervisor's own node name"},
    {H "  a: {command: [a], node: \"-x y\"}\n", 4, "node: \"-x y\" is not a "
                                                   "name"},
    {C("    versioned: yes\n"), 6,
     "versioned: true or false expected, not \"yes\""},
    {C("    versioned: true\n    dir: x\n"), 7,
     "dir: not with versioned: true"},
    {C("    dir: [x]\n"), 6, "dir: a value expected, not a list"},
    {C("    trial: {tries: 2}\n"), 6,
     "trial: only for a component with versioned: true"},
    /* env */
    {C("    env: [A=b]\n"), 6, "env: a mapping expected, not a list"},
    {C("    env: {IPCNET_ROBOT: x}\n"), 6,
     "env: IPCNET_ROBOT is set by the supervisor"},
    {C("    env: {1X: y}\n"), 6, "a variable's name is 1 to 128"},
    {C("    env: {A-B: y}\n"), 6, "a variable's name"},
    {C("    env:\n      X: a\n      X: b\n"), 8, "env: X given twice"},
    {C("    env:\n      X: [1]\n"), 7, "a list nested deeper than the format"},
    /* criticality, dependencies */
    {C("    criticality: vital\n"), 6,
     "criticality: \"vital\" is not one of critical, important, optional"},
    {C("    depends_on: [b]\n"), 6, "depends_on: no component \"b\""},
    {C("    depends_on: a\n"), 6, "a component cannot depend on itself"},
    {C("    depends_on: \"resource:a//b\"\n"), 6,
     "\"a//b\" is not a resource pattern"},
    {C("    depends_on: \"resource:\"\n"), 6, "is not a resource pattern"},
    {H "  b: {command: [b]}\n  a:\n    command: [a]\n    depends_on: [b, b]\n",
     7, "depends_on: \"b\" given twice"},
    {C("    depends_on: {b: 1}\n"), 6, "a value or a list expected, not a "
                                       "mapping"},
    {H "  a: {command: [a], depends_on: c}\n"
       "  b: {command: [b], depends_on: a}\n"
       "  c: {command: [c], depends_on: b}\n",
     4, "a dependency cycle: a -> c -> b -> a"},
    {H "  x: {command: [x]}\n"
       "  b:\n    command: [b]\n    depends_on:\n      - x\n      - a\n"
       "  a: {command: [a], depends_on: [x, b]}\n",
     9, "a dependency cycle: b -> a -> b"},
    /* numbers */
    {C("    ready_timeout_ms: 5s\n"), 6,
     "ready_timeout_ms: a whole number expected (1..3600000), not \"5s\""},
    {C("    ready_timeout_ms: 0\n"), 6,
     "ready_timeout_ms: 0 is out of range (1..3600000)"},
    {C("    ready_timeout_ms: 99999999999\n"), 6, "a whole number expected"},
    {C("    ready_timeout_ms: 4294967296\n"), 6, "is out of range"},
    {C("    restart: {intensity: 010}\n"), 6,
     "restart: intensity: a whole number expected (0..1000), not \"010\""},
    {C("    restart: {intensity: -1}\n"), 6, "a whole number expected"},
    {C("    restart: {intensity: +1}\n"), 6, "a whole number expected"},
    {C("    restart: {period_ms: 1.5}\n"), 6, "a whole number expected"},
    /* sections */
    {C("    restart:\n"), 6, "restart: a mapping expected, not nothing"},
    {C("    restart: {when: sometimes}\n"), 6,
     "restart: when: \"sometimes\" is not one of on-failure, always, never"},
    {C("    restart: {strategy: all_for_one}\n"), 6,
     "is not one of one_for_one, rest_for_one"},
    {C("    restart: {backoff_ms: 500,\n              backoff_max_ms: 100}\n"),
     7, "restart: backoff_max_ms (100) is below backoff_ms (500)"},
    {C("    restart: {tries: 3}\n"), 6, "unknown key \"tries\" in component "
                                        "\"a\": restart"},
    {C("    health: {interval_ms: 100}\n"), 6,
     "health: service: is missing"},
    {C("    health: {service: a/h, interval_ms: 100,\n"
       "             timeout_ms: 200}\n"),
     7, "health: timeout_ms (200) is longer than interval_ms (100)"},
    {C("    health: {service: a/h, interval_ms: 5}\n"), 6,
     "interval_ms: 5 is out of range (10..3600000)"},
    {C("    health: {service: \"/x\"}\n"), 6,
     "health: service: \"/x\" is not a service path"},
    {C("    health: {service: \"a/*\"}\n"), 6, "is not a service path"},
    {C("    versioned: true\n    trial: {tries: 0}\n"), 7,
     "trial: tries: 0 is out of range (1..100)"},
    {C("    shutdown: {phase: safe}\n"), 6,
     "shutdown: phase: \"safe\" is not one of producer, consumer, rest"},
    {C("    shutdown: {deadline_ms: 600001}\n"), 6, "out of range (1..600000)"},
    {C("    safe_state: true\n"), 6, "safe_state: a mapping expected, not a "
                                     "value"},
    {C("    safe_state: {request: \"a//b\"}\n"), 6,
     "safe_state: request: \"a//b\" is not a service path"},
    {C("    safe_state: {deadline: 5}\n"), 6, "unknown key \"deadline\""},
};

static void test_refused(void **state)
{
    (void)state;
    size_t n = sizeof bads / sizeof bads[0];
    assert_true(n >= 25);
    for (size_t i = 0; i < n; i++) {
        sup_manifest *m = (sup_manifest *)&m; /* untouched on failure */
        sup_manifest *const before = m;
        char why[512] = "";
        int st = sup_manifest_parse(bads[i].text, strlen(bads[i].text),
                                    "t.yaml", "/robots/demo", &m, why,
                                    sizeof why);
        char want[32];
        snprintf(want, sizeof want, "t.yaml:%u: ", bads[i].line);
        if (st != IPCN_BAD_REQUEST || strncmp(why, want, strlen(want)) ||
            !strstr(why, bads[i].reason) || strchr(why, '\n'))
            fail_msg("case %zu: status %d, \"%s\"; expected 200, \"%s%s\"", i,
                     st, why, want, bads[i].reason);
        assert_ptr_equal(m, before);
    }
}

/* The caps: the file's size, components, YAML nodes. */
static void test_bounds(void **state)
{
    (void)state;
    sup_manifest *m = NULL;
    char why[512];
    size_t cap = 600 * 1024;
    char *text = malloc(cap);
    assert_non_null(text);

    /* 256 KiB + 1 */
    memset(text, '#', 256 * 1024 + 1);
    assert_int_equal(sup_manifest_parse(text, 256 * 1024 + 1, "t.yaml",
                                        "/r", &m, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "t.yaml:1: larger than 256 KiB");

    /* 256 components: taken; 257: refused */
    for (int n = 256; n <= 257; n++) {
        size_t len = (size_t)snprintf(text, cap, H);
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(text + len, cap - len,
                                    "  c%d: {command: [x]}\n", i);
        int st = sup_manifest_parse(text, len, "t.yaml", "/r", &m, why,
                                    sizeof why);
        if (n == 256) {
            assert_int_equal(st, IPCN_OK);
            assert_int_equal(m->ncomps, 256);
            sup_manifest_free(m);
        } else {
            assert_int_equal(st, IPCN_BAD_REQUEST);
            /* a block mapping starts at its first key */
            assert_string_equal(why, "t.yaml:4: more than 256 components");
        }
    }

    /* more than 65536 YAML nodes in 256 KiB */
    size_t len = (size_t)snprintf(text, cap, C("    command: [a"));
    while (len < 250 * 1024)
        len += (size_t)snprintf(text + len, cap - len, ",a");
    len += (size_t)snprintf(text + len, cap - len, "]\n");
    assert_int_equal(sup_manifest_parse(text, len, "t.yaml", "/r", &m, why,
                                        sizeof why),
                     IPCN_BAD_REQUEST);
    assert_non_null(strstr(why, "more than 65536 YAML nodes"));

    /* a command of 257 words */
    len = (size_t)snprintf(text, cap, H "  a:\n    command: [a");
    for (int i = 0; i < 256; i++)
        len += (size_t)snprintf(text + len, cap - len, ", w");
    len += (size_t)snprintf(text + len, cap - len, "]\n");
    assert_int_equal(sup_manifest_parse(text, len, "t.yaml", "/r", &m, why,
                                        sizeof why),
                     IPCN_BAD_REQUEST);
    assert_non_null(strstr(why, "t.yaml:5: more than 256 items"));

    /* a path longer than 4095 bytes once absolute */
    len = (size_t)snprintf(text, cap, "version: 1\nrobot: r\nstore: ");
    memset(text + len, 'p', 4100);
    len += 4100;
    len += (size_t)snprintf(text + len, cap - len, "\n");
    assert_int_equal(sup_manifest_parse(text, len, "t.yaml", "/r", &m, why,
                                        sizeof why),
                     IPCN_BAD_REQUEST);
    assert_non_null(strstr(why, "t.yaml:3: store: longer than 4095 bytes"));

    /* a cycle too long to name whole: its start, then " ..." */
    len = (size_t)snprintf(text, cap, H);
    for (int i = 0; i < 12; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "  c%d-%0*d: {command: [x], depends_on: "
                                "c%d-%0*d}\n",
                                i, 56, 0, (i + 1) % 12, 56, 0);
    assert_int_equal(sup_manifest_parse(text, len, "t.yaml", "/r", &m, why,
                                        sizeof why),
                     IPCN_BAD_REQUEST);
    assert_memory_equal(why, "t.yaml:4: a dependency cycle: c0-000", 36);
    assert_non_null(strstr(why, " -> c1-000"));
    assert_string_equal(why + strlen(why) - 4, " ...");
    assert_true(strlen(why) < 511);

    /* the robot's default name comes from the file's: not a name */
    static const char nobot[] = "version: 1\ncomponents: {a: {command: [a]}}\n";
    assert_int_equal(sup_manifest_parse(nobot, strlen(nobot), "a b.yaml",
                                        "/r", &m, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_non_null(strstr(why, "a b.yaml:1: robot: is missing, and the "
                                "file's name is not a robot name"));
    /* a directory that is not absolute */
    assert_int_equal(sup_manifest_parse(nobot, strlen(nobot), "t.yaml", "r",
                                        &m, why, sizeof why),
                     IPCN_BAD_REQUEST);
    free(text);
}

/* ---- sup_manifest_load: the file itself ---- */

static void put(const char *path, const char *text, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void test_load(void **state)
{
    (void)state;
    char tmp[] = "/tmp/ipcn-manifest-XXXXXX";
    assert_non_null(mkdtemp(tmp));
    char real[PATH_MAX], sub[PATH_MAX + 16], path[PATH_MAX + 64],
        want[2 * PATH_MAX], why[2 * PATH_MAX];
    assert_non_null(realpath(tmp, real));
    snprintf(sub, sizeof sub, "%s/sub", tmp);
    assert_int_equal(mkdir(sub, 0700), 0);
    sup_manifest *m = NULL;

    /* a good file, named through "..": its directory as the system says */
    snprintf(path, sizeof path, "%s/robot.yaml", sub);
    static const char text[] =
        "version: 1\ncomponents:\n  a: {command: [bin/a], dir: ../w}\n";
    put(path, text, strlen(text), 0644);
    snprintf(path, sizeof path, "%s/sub/../sub/robot.yaml", tmp);
    int st = sup_manifest_load(path, &m, why, sizeof why);
    if (st != IPCN_OK)
        print_message("%s\n", why);
    assert_int_equal(st, IPCN_OK);
    assert_string_equal(m->path, path);
    snprintf(want, sizeof want, "%s/sub", real);
    assert_string_equal(m->dir, want);
    assert_string_equal(m->robot, "robot");
    snprintf(want, sizeof want, "%s/sub/versions", real);
    assert_string_equal(m->store, want);
    snprintf(want, sizeof want, "%s/sub/run", real);
    assert_string_equal(m->state, want);
    snprintf(want, sizeof want, "%s/sub/../w", real);
    assert_string_equal(m->comps[0].dir, want);
    sup_manifest_free(m);
    m = NULL;

    /* refused as a manifest: 200, "PATH:LINE: reason" */
    snprintf(path, sizeof path, "%s/bad.yaml", tmp);
    static const char badtext[] =
        "version: 1\ncomponents: {a: {command: [a], node: .x}}\n";
    put(path, badtext, strlen(badtext), 0600);
    assert_int_equal(sup_manifest_load(path, &m, why, sizeof why),
                     IPCN_BAD_REQUEST);
    snprintf(want, sizeof want, "%s:2: component \"a\": node:", path);
    assert_memory_equal(why, want, strlen(want));
    char *big = malloc(256 * 1024 + 1);
    assert_non_null(big);
    memset(big, '#', 256 * 1024 + 1);
    put(path, big, 256 * 1024 + 1, 0600);
    free(big);
    assert_int_equal(sup_manifest_load(path, &m, why, sizeof why),
                     IPCN_BAD_REQUEST);
    snprintf(want, sizeof want, "%s:1: larger than 256 KiB", path);
    assert_string_equal(why, want);

    /* cannot be read as a manifest: 203 */
    snprintf(path, sizeof path, "%s/none.yaml", tmp);
    assert_int_equal(sup_manifest_load(path, &m, why, sizeof why),
                     IPCN_NOT_FOUND);
    assert_non_null(strstr(why, "No such file"));
    assert_int_equal(sup_manifest_load(sub, &m, why, sizeof why),
                     IPCN_NOT_FOUND);
    assert_non_null(strstr(why, "not a regular file"));
    snprintf(path, sizeof path, "%s/fifo.yaml", tmp);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(sup_manifest_load(path, &m, why, sizeof why),
                     IPCN_NOT_FOUND);
    assert_non_null(strstr(why, "not a regular file"));
    unlink(path);
    snprintf(path, sizeof path, "%s/open.yaml", tmp);
    put(path, text, strlen(text), 0646);
    assert_int_equal(sup_manifest_load(path, &m, why, sizeof why),
                     IPCN_NOT_FOUND);
    assert_non_null(strstr(why, "writable by others (mode 0646)"));
    assert_int_equal(sup_manifest_load("", &m, why, sizeof why),
                     IPCN_NOT_FOUND);
    assert_int_equal(sup_manifest_load(NULL, &m, why, sizeof why),
                     IPCN_NOT_FOUND);
    assert_null(m);

    unlink(path);
    snprintf(path, sizeof path, "%s/bad.yaml", tmp);
    unlink(path);
    snprintf(path, sizeof path, "%s/robot.yaml", sub);
    unlink(path);
    rmdir(sub);
    rmdir(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
