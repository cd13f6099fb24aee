/* SPDX-License-Identifier: MIT */
/* test_guard_load.c — the policy file's guard sections (limits, reputation,
 * detect; src/policy/guard_load.c): every field read to its value, the
 * defaults of what is absent, each way of refusing a file (with its line),
 * the bounds, and out of memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "util/util.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef"
#define HEAD "version: 1\ndefault: allow\n"

static const char good[] =
    "version: 1\n"                                          /* 1 */
    "default: deny\n"                                       /* 2 */
    "groups: {ops: \"unix_group:0\"}\n"                     /* 3 */
    "limits:\n"                                             /* 4 */
    "  - who: [\"user:root\", group:ops]\n"                 /* 5 */
    "    what: [\"svc/**\", cam/front]\n"                   /* 6 */
    "    per: user\n"                                       /* 7 */
    "    requests: 1000/s\n"                                /* 8 */
    "    samples: 600/min\n"                                /* 9 */
    "    bytes: 10MB/s\n"                                   /* 10 */
    "    burst: 100\n"                                      /* 11 */
    "    connections: 5/s\n"                                /* 12 */
    "    inflight: 64\n"                                    /* 13 */
    "    subscriptions: 100\n"                              /* 14 */
    "    announcements: 7\n"                                /* 15 */
    "  - {requests: 7200/h, bytes: 2KiB/s, per: node}\n"    /* 16 */
    "  - samples: 50000/s\n"                                /* 17 */
    "    connections: 0.5/s\n"                              /* 18 */
    "reputation:\n"                                         /* 19 */
    "  quarantine_below: -50\n"                             /* 20 */
    "  ban_below: -500\n"                                   /* 21 */
    "  half_life: 1.5min\n"                                 /* 22 */
    "  quarantine_for: 500ms\n"                             /* 23 */
    "  quarantine_max: 2h\n"                                /* 24 */
    "  penalties: {bad_frame: 30, verify_failed: 0, compromise: 100000, dissent: 7}\n"
    "  whitelist: \"user:0 node:cam-*\"\n"                  /* 26 */
    "  blacklist: [\"exe:/usr/bin/false\", group:ops]\n"    /* 27 */
    "  follow_reports: agree\n"                             /* 28 */
    "  agree: 3\n"                                          /* 29 */
    "  trusted: node:ctl\n"                                 /* 30 */
    "detect:\n"                                             /* 31 */
    "  anomaly: {factor: 20.5, for: 3s}\n"                  /* 32 */
    "  violations: {count: 7, within: 250ms}\n"             /* 33 */
    "  action: report\n"                                    /* 34 */
    "  components:\n"                                       /* 35 */
    "    - who: \"node:motor\"\n"                           /* 36 */
    "      sha256: \"" SHA "\"\n"                           /* 37 */
    "      action: shutdown\n"                              /* 38 */
    "      criticality: critical\n"                         /* 39 */
    "    - who: [node:cam-*, group:ops]\n"                  /* 40 */
    "      criticality: low\n"                              /* 41 */
    "    - {who: any, action: isolate, criticality: high}\n"; /* 42 */

static int parse(const char *text, ipcn__policy **p, char *why, size_t n)
{
    *p = NULL;
    return ipcn__policy_parse(text, strlen(text), "t.yaml", p, why, n);
}

static ipcn__policy *must_parse(const char *text)
{
    ipcn__policy *p;
    char why[512] = "";
    int st = parse(text, &p, why, sizeof why);
    if (st != IPCN_OK)
        fail_msg("status %d: %s\n--\n%s--", st, why, text);
    return p;
}

static void test_good(void **state)
{
    (void)state;
    ipcn__policy *p = must_parse(good);
    const ipcn__guard *g = &p->guard;
    assert_true(p->needs_exe); /* exe: in the blacklist, sha256: below */

    assert_int_equal(g->nlimits, 3);
    const ipcn__limit *l = &g->limits[0];
    assert_int_equal(l->line, 5);
    assert_int_equal(l->nwho, 2);
    assert_int_equal(l->who[0].conds[0].kind, IPCN__C_UID);
    assert_int_equal(l->who[0].conds[0].id, 0);
    assert_int_equal(l->who[1].conds[0].kind, IPCN__C_GROUP);
    assert_string_equal(l->who[1].conds[0].text, "ops");
    assert_int_equal(l->nwhat, 2);
    assert_string_equal(l->what[0], "svc/**");
    assert_string_equal(l->what[1], "cam/front");
    assert_true(l->per_user);
    assert_true(l->requests.per_s == 1000 && l->requests.burst == 100);
    assert_true(l->samples.per_s == 10 && l->samples.burst == 100);
    assert_true(l->bytes.per_s == 1e7 && l->bytes.burst == 1e7);
    assert_true(l->connections.per_s == 5 && l->connections.burst == 5);
    assert_int_equal(l->inflight, 64);
    assert_int_equal(l->subscriptions, 100);
    assert_int_equal(l->announcements, 7);

    /* defaults: any, every resource, per node, bursts from the rate */
    l = &g->limits[1];
    assert_int_equal(l->line, 16);
    assert_int_equal(l->nwho, 0);
    assert_int_equal(l->nwhat, 0);
    assert_false(l->per_user);
    assert_true(l->requests.per_s == 2 && l->requests.burst == 1);
    assert_true(l->bytes.per_s == 2048 && l->bytes.burst == 2048);
    assert_true(l->samples.per_s == 0 && l->samples.burst == 0);
    assert_true(l->connections.per_s == 0 && l->connections.burst == 0);
    assert_int_equal(l->inflight, 0);
    assert_int_equal(l->subscriptions, 0);
    assert_int_equal(l->announcements, 0);
    l = &g->limits[2];
    assert_int_equal(l->line, 17);
    assert_true(l->samples.per_s == 50000 && l->samples.burst == 5000);
    assert_true(l->connections.per_s == 0.5 && l->connections.burst == 1);

    const ipcn__reputation_cfg *r = &g->rep;
    assert_true(r->enabled);
    assert_int_equal(r->line, 19);
    assert_int_equal(r->quarantine_below, -50);
    assert_int_equal(r->ban_below, -500);
    assert_int_equal(r->half_life_ms, 90000);
    assert_int_equal(r->quarantine_ms, 500);
    assert_int_equal(r->quarantine_max_ms, 7200000);
    assert_int_equal(r->penalty[IPCN__OFF_BAD_FRAME], 30);
    assert_int_equal(r->penalty[IPCN__OFF_VERIFY], 0);
    assert_int_equal(r->penalty[IPCN__OFF_COMPROMISE], 100000);
    assert_int_equal(r->penalty[IPCN__OFF_DISSENT], 7);
    assert_int_equal(r->penalty[IPCN__OFF_DENIED], 2); /* the default */
    assert_int_equal(r->nwhite, 1);
    assert_int_equal(r->white[0].nconds, 2);
    assert_int_equal(r->white[0].conds[1].kind, IPCN__C_NODE);
    assert_int_equal(r->nblack, 2);
    assert_int_equal(r->black[0].conds[0].kind, IPCN__C_EXE);
    assert_string_equal(r->black[0].conds[0].text, "/usr/bin/false");
    assert_int_equal(r->black[1].conds[0].kind, IPCN__C_GROUP);
    assert_int_equal(r->follow, IPCN__FOLLOW_AGREE);
    assert_int_equal(r->agree, 3);
    assert_int_equal(r->ntrusted, 1);
    assert_string_equal(r->trusted[0].conds[0].text, "ctl");

    const ipcn__detect_cfg *d = &g->detect;
    assert_true(d->enabled);
    assert_true(d->anomaly_factor == 20.5);
    assert_int_equal(d->anomaly_ms, 3000);
    assert_int_equal(d->violations, 7);
    assert_int_equal(d->violations_ms, 250);
    assert_int_equal(d->action, IPCN__ACT_REPORT);
    assert_int_equal(d->ncomponents, 3);
    const ipcn__component *k = d->components;
    assert_int_equal(k[0].line, 36);
    assert_int_equal(k[0].nwho, 1);
    assert_int_equal(k[0].who[0].conds[0].kind, IPCN__C_NODE);
    assert_true(k[0].has_sha256);
    assert_int_equal(k[0].sha256[0], 0x01);
    assert_int_equal(k[0].sha256[21], 0xAB); /* upper case hex too */
    assert_int_equal(k[0].sha256[31], 0xef);
    assert_int_equal(k[0].action, IPCN__ACT_SHUTDOWN);
    assert_int_equal(k[0].criticality, 3);
    assert_int_equal(k[1].line, 40);
    assert_int_equal(k[1].nwho, 2);
    assert_false(k[1].has_sha256);
    assert_int_equal(k[1].action, IPCN__ACT_REPORT); /* detect's action */
    assert_int_equal(k[1].criticality, 0);
    assert_int_equal(k[2].line, 42);
    assert_int_equal(k[2].action, IPCN__ACT_ISOLATE);
    assert_int_equal(k[2].criticality, 2);
    ipcn__policy_free(p);
}

/* No section: ipcn__guard_defaults(); an empty section: enabled, with
 * the defaults of its keys. */
static void test_defaults(void **state)
{
    (void)state;
    ipcn__guard def;
    ipcn__guard_defaults(&def);
    ipcn__policy *p = must_parse(HEAD);
    assert_memory_equal(&p->guard, &def, sizeof def);
    assert_false(p->guard.rep.enabled);
    assert_false(p->guard.detect.enabled);
    assert_int_equal(p->guard.detect.action, IPCN__ACT_REPORT);
    ipcn__policy_free(p);

    p = must_parse(HEAD "limits: []\nreputation: {}\ndetect: {}\n");
    const ipcn__guard *g = &p->guard;
    assert_int_equal(g->nlimits, 0);
    assert_true(g->rep.enabled);
    assert_int_equal(g->rep.line, 4);
    assert_int_equal(g->rep.quarantine_below, def.rep.quarantine_below);
    assert_int_equal(g->rep.ban_below, def.rep.ban_below);
    assert_int_equal(g->rep.half_life_ms, def.rep.half_life_ms);
    assert_int_equal(g->rep.quarantine_ms, def.rep.quarantine_ms);
    assert_int_equal(g->rep.quarantine_max_ms, def.rep.quarantine_max_ms);
    assert_memory_equal(g->rep.penalty, def.rep.penalty,
                        sizeof def.rep.penalty);
    assert_int_equal(g->rep.nwhite + g->rep.nblack + g->rep.ntrusted, 0);
    assert_int_equal(g->rep.follow, IPCN__FOLLOW_AGREE);
    assert_int_equal(g->rep.agree, 2);
    assert_true(g->detect.enabled);
    assert_int_equal(g->detect.action, IPCN__ACT_ISOLATE);
    assert_true(g->detect.anomaly_factor == 0);
    assert_int_equal(g->detect.violations, 20);
    assert_int_equal(g->detect.violations_ms, 1000);
    assert_int_equal(g->detect.ncomponents, 0);
    assert_false(p->needs_exe);
    ipcn__policy_free(p);

    /* the penalties' defaults */
    assert_int_equal(def.rep.penalty[IPCN__OFF_BAD_FRAME], 20);
    assert_int_equal(def.rep.penalty[IPCN__OFF_COMPROMISE], 1000);
    assert_int_equal(def.rep.penalty[IPCN__OFF_DISSENT], 5);

    /* anomaly's "for" defaults to 5s; a component's action is detect's,
     * wherever action is written; criticality normal */
    p = must_parse(HEAD "detect:\n  components: [{who: any}]\n"
                   "  anomaly: {factor: 2}\n  action: shutdown\n"
                   "  violations: {count: 3}\n");
    g = &p->guard;
    assert_true(g->detect.anomaly_factor == 2);
    assert_int_equal(g->detect.anomaly_ms, 5000);
    assert_int_equal(g->detect.violations, 3);
    assert_int_equal(g->detect.violations_ms, 1000);
    assert_int_equal(g->detect.components[0].action, IPCN__ACT_SHUTDOWN);
    assert_int_equal(g->detect.components[0].criticality, 1);
    ipcn__policy_free(p);

    /* follow_reports: trusted with its reporters, never, any */
    p = must_parse(HEAD "reputation: {follow_reports: trusted, trusted: "
                   "\"node:a\", ban_below: -100}\n");
    assert_int_equal(p->guard.rep.follow, IPCN__FOLLOW_TRUSTED);
    assert_int_equal(p->guard.rep.ban_below, -100); /* = quarantine_below */
    ipcn__policy_free(p);
    p = must_parse(HEAD "reputation: {follow_reports: never}\n");
    assert_int_equal(p->guard.rep.follow, IPCN__FOLLOW_NEVER);
    ipcn__policy_free(p);
    p = must_parse(HEAD "reputation: {follow_reports: any}\n");
    assert_int_equal(p->guard.rep.follow, IPCN__FOLLOW_ANY);
    ipcn__policy_free(p);
}

/* Every unit of rates and durations, and the edges of their bounds. */
static void test_units(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double per_s;
    } rates[] = {
        {"requests: 60/min", 1},
        {"requests: 1.5/s", 1.5},      {"requests: 36/h", 0.01},
        {"requests: 1000000000/s", 1e9}, {"bytes: 7/s", 7},
        {"bytes: 7B/s", 7},            {"bytes: 1KB/s", 1000},
        {"bytes: 1MB/s", 1e6},         {"bytes: 1GB/s", 1e9},
        {"bytes: 1KiB/s", 1024},       {"bytes: 1MiB/s", 1048576},
        {"bytes: 1GiB/s", 1073741824}, {"bytes: 1000GB/s", 1e12},
        {"bytes: 0.5KB/s", 500},
    };
    char text[256];
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(rates); i++) {
        snprintf(text, sizeof text, HEAD "limits:\n  - %s\n", rates[i].text);
        ipcn__policy *p = must_parse(text);
        const ipcn__limit *l = &p->guard.limits[0];
        double got = rates[i].text[0] == 'b' ? l->bytes.per_s
                                             : l->requests.per_s;
        if (got < rates[i].per_s * 0.999999 || got > rates[i].per_s * 1.000001)
            fail_msg("%s: %g a second, not %g", rates[i].text, got,
                     rates[i].per_s);
        ipcn__policy_free(p);
    }
    static const struct {
        const char *text;
        uint64_t ms;
    } durs[] = {
        {"1ms", 1},    {"500ms", 500},  {"10s", 10000},  {"0.25s", 250},
        {"2min", 120000}, {"1h", 3600000}, {"720h", 2592000000ull},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(durs); i++) {
        snprintf(text, sizeof text, HEAD "reputation:\n  half_life: %s\n",
                 durs[i].text);
        ipcn__policy *p = must_parse(text);
        if (p->guard.rep.half_life_ms != durs[i].ms)
            fail_msg("%s: %llu ms", durs[i].text,
                     (unsigned long long)p->guard.rep.half_life_ms);
        ipcn__policy_free(p);
    }
}

typedef struct bad {
    const char *text;
    unsigned line;
    const char *reason; /* a part of the reason */
} bad;

#define LIMIT(body) HEAD "limits:\n  - " body "\n"
#define REP(body) HEAD "reputation:\n  " body "\n"
#define DET(body) HEAD "detect:\n  " body "\n"
#define COMP(body) HEAD "detect:\n  components:\n    - " body "\n"

static const bad bads[] = {
    /* the sections' shapes */
    {HEAD "limits: {requests: 1/s}\n", 3, "a list of limits"},
    {HEAD "limits:\n", 3, "a list of limits"},
    {HEAD "reputation:\n", 3, "write {} for the defaults"},
    {HEAD "reputation: [a]\n", 3, "reputation: a mapping expected"},
    {HEAD "detect: on\n", 3, "detect: a mapping expected"},
    /* limits */
    {HEAD "limits:\n  - 1000/s\n", 4, "a limit is a mapping"},
    {LIMIT("requests: 1/s\n    colour: red"), 5,
     "unknown key \"colour\" in a limit"},
    {LIMIT("requests: 1/s\n    requests: 2/s"), 5, "given twice"},
    {LIMIT("who: any"), 4, "limits nothing"},
    {LIMIT("who: \"user:no-such-user-ipcn\"\n    requests: 1/s"), 4,
     "unknown user"},
    {LIMIT("who: \"colour:red\"\n    requests: 1/s"), 4, "unknown condition"},
    {LIMIT("who: group:nope\n    requests: 1/s"), 4,
     "group \"nope\" is not defined"},
    {LIMIT("who: []\n    requests: 1/s"), 4, "empty list"},
    {LIMIT("requests: 1/s\n    what: \"/abs\""), 5, "not a resource pattern"},
    {LIMIT("requests: 1/s\n    per: process"), 5,
     "per: unknown value \"process\" (node or user)"},
    {LIMIT("requests: 1000"), 4, "requests: \"1000\" is not a rate"},
    {LIMIT("requests: fast"), 4, "is not a rate (N/s, N/min or N/h)"},
    {LIMIT("requests: -1/s"), 4, "is not a rate"},
    {LIMIT("requests: 1 /s"), 4, "is not a rate"},
    {LIMIT("requests: 1e3/s"), 4, "is not a rate"},
    {LIMIT("requests: 0/s"), 4, "a rate of 0 is refused"},
    {LIMIT("bytes: 0.0MB/s"), 4, "a rate of 0 is refused"},
    {LIMIT("requests: 0x10/s"), 4, "is not a rate"},
    {LIMIT("requests: 1./s"), 4, "is not a rate"},
    {LIMIT("requests: .5/s"), 4, "is not a rate"},
    {LIMIT("requests: 1/d"), 4, "is not a rate"},
    {LIMIT("requests: 1KB/s"), 4, "is not a rate"},
    {LIMIT("requests: [1/s]"), 4, "requests: a value expected, not a list"},
    {LIMIT("requests: 1000000001/s"), 4, "more than 1000000000 a second"},
    {LIMIT("requests: 9999999999999/s"), 4, "is not a rate"},
    {LIMIT("samples: 1/s\n    bytes: 1TB/s"), 5, "bytes: \"1TB/s\" is not"},
    {LIMIT("bytes: 10MB/min"), 4, "is not a rate"},
    {LIMIT("bytes: 1001GB/s"), 4, "more than 1000000000000 a second"},
    {LIMIT("connections: 5"), 4, "connections: \"5\" is not a rate"},
    {LIMIT("bytes: 1/s\n    burst: 10"), 5, "neither is given"},
    {LIMIT("requests: 1/s\n    burst: 0"), 5, "out of bounds"},
    {LIMIT("requests: 1/s\n    burst: 0.5"), 5, "less than 1"},
    {LIMIT("requests: 1/s\n    burst: -3"), 5, "not a number"},
    {LIMIT("requests: 1/s\n    burst: 1000000001"), 5, "out of bounds"},
    {LIMIT("inflight: -1"), 4, "inflight: \"-1\" is not a whole number"},
    {LIMIT("inflight: 1.5"), 4, "not a whole number"},
    {LIMIT("inflight: 0"), 4, "inflight: 0 is out of bounds (1 to 1000000)"},
    {LIMIT("announcements: 0"), 4, "announcements: 0 is out of bounds"},
    {LIMIT("subscriptions: 1000001"), 4, "out of bounds (1 to 1000000)"},
    {LIMIT("announcements: lots"), 4, "not a whole number"},
    {LIMIT("inflight: \"\""), 4, "inflight: a value expected"},
    /* reputation */
    {REP("colour: red"), 4, "unknown key \"colour\" in reputation (known: "
     "quarantine_below, ban_below, half_life, quarantine_for, quarantine_max, "
     "penalties, whitelist, blacklist, follow_reports, agree, trusted)"},
    {REP("quarantine_below: 0"), 4, "out of bounds (-1000000000 to -1)"},
    {REP("quarantine_below: 10"), 4, "out of bounds"},
    {REP("quarantine_below: -5000"), 4,
     "ban_below (-1000) must be at most quarantine_below (-5000)"},
    {REP("quarantine_below: -50\n  ban_below: -10"), 5,
     "must be at most quarantine_below"},
    {REP("ban_below: -1000000001"), 4, "out of bounds"},
    {REP("ban_below: -1e3"), 4, "not a whole number"},
    {REP("half_life: 10"), 4, "half_life: \"10\" is not a duration"},
    {REP("half_life: 10 s"), 4, "is not a duration"},
    {REP("half_life: 1d"), 4, "is not a duration"},
    {REP("half_life: 0s"), 4, "out of bounds (1ms to 720h)"},
    {REP("half_life: 0.4ms"), 4, "out of bounds"},
    {REP("quarantine_max: 721h"), 4, "out of bounds"},
    {REP("quarantine_for: 2h"), 4,
     "quarantine_max (3600000 ms) is shorter than quarantine_for"},
    {REP("quarantine_for: 10s\n  quarantine_max: 9s"), 5, "is shorter"},
    {REP("penalties: [1]"), 4, "penalties: a mapping expected"},
    {REP("penalties: {bad_frame: 1, typo: 2}"), 4,
     "unknown key \"typo\" in penalties (known: bad_frame, denied"},
    {REP("penalties:\n    denied: 100001"), 5, "out of bounds (0 to 100000)"},
    {REP("penalties: {denied: -1}"), 4, "not a whole number"},
    {REP("whitelist: \"user:no-such-user-ipcn\""), 4, "unknown user"},
    {REP("blacklist: [any, \"sha256:12\"]"), 4, "64 hex"},
    {REP("trusted: group:nope"), 4, "group \"nope\" is not defined"},
    {REP("whitelist: []"), 4, "empty list"},
    {REP("follow_reports: sometimes"), 4,
     "unknown value \"sometimes\" (never, trusted, agree or any)"},
    {REP("follow_reports: trusted"), 4, "trusted needs trusted:"},
    {REP("follow_reports: any\n  agree: 2"), 5,
     "only with follow_reports: agree"},
    {REP("agree: 0"), 4, "out of bounds (1 to 64)"},
    {REP("agree: 65"), 4, "out of bounds"},
    /* detect */
    {DET("colour: red"), 4, "unknown key \"colour\" in detect"},
    {DET("action: panic"), 4,
     "action: unknown value \"panic\" (report, isolate or shutdown)"},
    {DET("anomaly: 20"), 4, "anomaly: a mapping expected"},
    {DET("anomaly: {for: 5s}"), 4, "anomaly needs factor:"},
    {DET("anomaly: {factor: 1}"), 4, "out of bounds (more than 1"},
    {DET("anomaly: {factor: 20x}"), 4, "factor: \"20x\" is not a number"},
    {DET("anomaly: {factor: 1000001}"), 4, "out of bounds"},
    {DET("anomaly: {factor: 2, for: forever}"), 4, "is not a duration"},
    {DET("anomaly:\n    factor: 2\n    during: 1s"), 6,
     "unknown key \"during\" in anomaly"},
    {DET("violations: {count: 0}"), 4, "out of bounds (1 to 1000000)"},
    {DET("violations: {within: 0ms}"), 4, "out of bounds"},
    {DET("violations: {count: 1, per: 1s}"), 4, "unknown key \"per\""},
    {DET("components: {who: any}"), 4, "a list of components"},
    {DET("components:\n    - node:motor"), 5, "a component is a mapping"},
    {COMP("action: isolate"), 5, "a component needs who:"},
    {COMP("who: any\n      colour: red"), 6,
     "unknown key \"colour\" in a component"},
    {COMP("who: \"colour:red\""), 5, "unknown condition"},
    {COMP("who: [any, group:nope]"), 5, "group \"nope\" is not defined"},
    {COMP("who: any\n      sha256: abc"), 6, "sha256: 64 hex digits"},
    {COMP("who: any\n      sha256: \"" SHA "0\""), 6, "64 hex digits"},
    {COMP("who: any\n      sha256: "
          "\"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
          "\""), 6, "not hexadecimal"},
    {COMP("who: any\n      action: ignore"), 6, "unknown value \"ignore\""},
    {COMP("who: any\n      criticality: vital"), 6,
     "criticality: unknown value \"vital\" (low, normal, high or critical)"},
    {COMP("who: any\n      criticality: [high]"), 6,
     "a value expected, not a list"},
    /* nesting: one level more under detect only */
    {DET("components:\n    - who: [[any]]"), 5, "nested deeper"},
    {HEAD "limits:\n  - who: [[any]]\n", 4, "nested deeper"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(bads); i++) {
        ipcn__policy *p = NULL;
        char why[512] = "", want[64];
        int st = ipcn__policy_parse(bads[i].text, strlen(bads[i].text),
                                    "t.yaml", &p, why, sizeof why);
        snprintf(want, sizeof want, "t.yaml:%u: ", bads[i].line);
        if (st != IPCN_BAD_REQUEST || strncmp(why, want, strlen(want)) ||
            !strstr(why, bads[i].reason))
            fail_msg("case %zu: status %d, why \"%s\"; wanted 200, \"%s\" "
                     "and \"%s\"\n--\n%s--", i, st, why, want,
                     bads[i].reason, bads[i].text);
        assert_null(p);
    }
    /* a group defined after the section that names it is fine */
    ipcn__policy *p = must_parse(HEAD "reputation: {whitelist: group:late}\n"
                   "groups: {late: any}\n");
    ipcn__policy_free(p);
}

/* debug: {liveness: D}: debug mode, its bound; off without the section. */
static void test_debug(void **state)
{
    (void)state;
    ipcn__policy *p = must_parse(HEAD);
    assert_int_equal(p->guard.debug_liveness_ms, 0);
    ipcn__policy_free(p);
    p = must_parse(HEAD "debug:\n  liveness: 10min\n");
    assert_int_equal(p->guard.debug_liveness_ms, 600000);
    ipcn__policy_free(p);
    p = must_parse(HEAD "debug: {liveness: 24h}\n");
    assert_int_equal(p->guard.debug_liveness_ms, 86400000);
    ipcn__policy_free(p);
    p = must_parse(HEAD "debug: {liveness: 2s, all: true}\n");
    assert_int_equal(p->guard.debug_liveness_ms, 2000);
    assert_true(p->guard.debug_all);
    ipcn__policy_free(p);
    static const struct {
        const char *text, *reason;
    } dbad[] = {
        {HEAD "debug: {liveness: 25h}\n", "more than 24h"},
        {HEAD "debug: {liveness: 0s}\n", "liveness"},
        {HEAD "debug: {liveness: 600}\n", "liveness"},
        {HEAD "debug: {}\n", "debug needs liveness"},
        {HEAD "debug: {liveness: 1s, all: yes}\n", "all: unknown value"},
        {HEAD "debug: {liveness: 1s, every: true}\n", "every"},
        {HEAD "debug: yes\n", "debug"},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(dbad); i++) {
        char why[512] = "";
        int st = parse(dbad[i].text, &p, why, sizeof why);
        if (st != IPCN_BAD_REQUEST || !strstr(why, dbad[i].reason))
            fail_msg("case %zu: %d \"%s\", wanted \"%s\"", i, st, why,
                     dbad[i].reason);
        assert_null(p);
    }
}

/* 1024 limits, 256 components, 256 selectors in a list; one more of each
 * is refused. */
static void test_bounds(void **state)
{
    (void)state;
    size_t cap = 64 * 1024;
    char *big = malloc(cap);
    assert_non_null(big);
    char why[512];
    ipcn__policy *p;
    for (int n = 1024; n <= 1025; n++) {
        size_t k = (size_t)snprintf(big, cap, HEAD "limits:\n");
        for (int i = 0; i < n; i++)
            k += (size_t)snprintf(big + k, cap - k, "- {inflight: %d}\n", i + 1);
        int st = parse(big, &p, why, sizeof why);
        assert_int_equal(st, n == 1024 ? IPCN_OK : IPCN_BAD_REQUEST);
        if (st == IPCN_OK) {
            assert_int_equal(p->guard.nlimits, 1024);
            assert_int_equal(p->guard.limits[1023].inflight, 1024);
            assert_int_equal(p->guard.limits[1023].line, 1027);
            ipcn__policy_free(p);
        } else {
            assert_non_null(strstr(why, "t.yaml:4: more than 1024 limits"));
        }
    }
    for (int n = 256; n <= 257; n++) {
        size_t k = (size_t)snprintf(big, cap, HEAD "detect:\n components:\n");
        for (int i = 0; i < n; i++)
            k += (size_t)snprintf(big + k, cap - k, " - {who: any}\n");
        int st = parse(big, &p, why, sizeof why);
        assert_int_equal(st, n == 256 ? IPCN_OK : IPCN_BAD_REQUEST);
        if (st == IPCN_OK) {
            assert_int_equal(p->guard.detect.ncomponents, 256);
            ipcn__policy_free(p);
        } else {
            assert_non_null(strstr(why, "t.yaml:5: more than 256 "
                                        "components"));
        }
    }
    static const char *const lists[] = {"limits:\n- who: ",
                                        "reputation:\n  whitelist: ",
                                        "reputation:\n  blacklist: ",
                                        "reputation:\n  trusted: ",
                                        "detect:\n  components:\n  - who: "};
    for (size_t l = 0; l < IPCN__ARRAY_SIZE(lists); l++) {
        for (int n = 256; n <= 257; n++) {
            size_t k = (size_t)snprintf(big, cap, HEAD "%s", lists[l]);
            for (int i = 0; i < n; i++)
                k += (size_t)snprintf(big + k, cap - k, "%sany",
                                      i ? "," : "[");
            snprintf(big + k, cap - k, "]\n%s", l ? "" : "  inflight: 1\n");
            int st = parse(big, &p, why, sizeof why);
            if (st != (n == 256 ? IPCN_OK : IPCN_BAD_REQUEST))
                fail_msg("%s %d: %d %s", lists[l], n, st, why);
            if (st == IPCN_OK)
                ipcn__policy_free(p);
            else
                assert_non_null(strstr(why, "more than 256 items"));
        }
    }
    free(big);
}

/* ---- out of memory: allocation N fails, for N = 1, 2, ... ---- */

static long oom_count, oom_at;

static void *oom_malloc(size_t n)
{
    return ++oom_count == oom_at ? NULL : malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    return ++oom_count == oom_at ? NULL : realloc(p, n);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    long n;
    for (n = 1; n < 100000; n++) {
        oom_count = 0;
        oom_at = n;
        assert_int_equal(ipcn_set_allocator(oom_malloc, oom_realloc, free),
                         IPCN_OK);
        ipcn__policy *p = NULL;
        char why[512] = "";
        int st = parse(good, &p, why, sizeof why);
        ipcn_set_allocator(NULL, NULL, NULL);
        if (oom_count < n) { /* no allocation failed: done */
            assert_int_equal(st, IPCN_OK);
            ipcn__policy_free(p);
            break;
        }
        if (st != IPCN_INSUFFICIENT_MEMORY)
            fail_msg("allocation %ld failed: status %d (%s)", n, st, why);
        assert_null(p);
        assert_non_null(strstr(why, "out of memory"));
    }
    assert_true(n > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_debug),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
