/* SPDX-License-Identifier: MIT */
/* test_policy_load.c — the network's policy file (src/policy/policy_load.c):
 * a file with every feature, each way of refusing one (with its line), the
 * owner and mode rule of ipcn__policy_load(), and the bounds. */
#include <errno.h>
#include <fcntl.h>
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

#include "policy/policy.h"
#include "util/util.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char good[] =
    "# a robot's policy\n"                                  /* 1 */
    "version: 1\n"                                          /* 2 */
    "default: deny   # nothing that is not allowed\n"       /* 3 */
    "groups:\n"                                             /* 4 */
    "  drivers: [\"user:root\", \"node:cam-*\"]\n"          /* 5 */
    "  tools:\n"                                            /* 6 */
    "    - exe:/usr/bin/true\n"                             /* 7 */
    "    - \"sha256:" SHA "\"\n"                            /* 8 */
    "  ops: \"unix_group:0\"\n"                             /* 9 */
    "rules:\n"                                              /* 10 */
    "  - allow: [read, execute]\n"                          /* 11 */
    "    who: [\"unix_group:0\", \"group:drivers\"]\n"      /* 12 */
    "    what: [\"motors/**\", \"camera/*\"]\n"             /* 13 */
    "  - deny: write\n"                                     /* 14 */
    "    who: any\n"                                        /* 15 */
    "    what: motors/cmd\n"                                /* 16 */
    "  - {allow: all, who: \"user:0 node:cam-1\", what: \"**\"}\n" /* 17 */
    "  - what: tools/*\n"                                   /* 18 */
    "    who: group:tools\n"                                /* 19 */
    "    allow: provide\n";                                 /* 20 */

static int parse(const char *text, ipcn__policy **p, char *why, size_t n)
{
    *p = NULL;
    return ipcn__policy_parse(text, strlen(text), "t.yaml", p, why, n);
}

static void test_good(void **state)
{
    (void)state;
    ipcn__policy *p;
    char why[512] = "";
    int st = parse(good, &p, why, sizeof why);
    if (st != IPCN_OK)
        print_message("%s\n", why);
    assert_int_equal(st, IPCN_OK);
    assert_int_equal(p->profile, IPCN__PROFILE_DENY);
    assert_string_equal(p->file, "t.yaml");
    assert_true(p->needs_exe);

    assert_int_equal(p->ngroups, 3);
    assert_string_equal(p->groups[0].name, "drivers");
    assert_int_equal(p->groups[0].line, 5);
    assert_int_equal(p->groups[0].nmembers, 2);
    assert_int_equal(p->groups[0].members[1].conds[0].kind, IPCN__C_NODE);
    assert_string_equal(p->groups[1].name, "tools");
    assert_int_equal(p->groups[1].nmembers, 2);
    assert_int_equal(p->groups[1].members[0].conds[0].kind, IPCN__C_EXE);
    assert_int_equal(p->groups[1].members[1].conds[0].kind, IPCN__C_SHA256);
    assert_int_equal(p->groups[1].members[1].conds[0].sha256[0], 0x01);
    assert_int_equal(p->groups[2].nmembers, 1);
    assert_int_equal(p->groups[2].members[0].conds[0].kind, IPCN__C_GID);

    assert_int_equal(p->nrules, 4);
    const ipcn__rule *r = p->rules;
    assert_false(r[0].deny);
    assert_int_equal(r[0].verbs, IPCN__V_READ | IPCN__V_EXECUTE);
    assert_int_equal(r[0].line, 11);
    assert_int_equal(r[0].nwho, 2);
    assert_int_equal(r[0].who[1].conds[0].kind, IPCN__C_GROUP);
    assert_string_equal(r[0].who[1].conds[0].text, "drivers");
    assert_int_equal(r[0].nwhat, 2);
    assert_string_equal(r[0].what[0], "motors/**");
    assert_string_equal(r[0].what[1], "camera/*");
    assert_true(r[1].deny);
    assert_int_equal(r[1].verbs, IPCN__V_WRITE);
    assert_int_equal(r[1].line, 14);
    assert_int_equal(r[1].who[0].conds[0].kind, IPCN__C_ANY);
    assert_string_equal(r[1].what[0], "motors/cmd");
    assert_int_equal(r[2].verbs, IPCN__V_ALL);
    assert_int_equal(r[2].line, 17);
    assert_int_equal(r[2].who[0].nconds, 2);
    assert_int_equal(r[3].verbs, IPCN__V_PROVIDE);
    assert_int_equal(r[3].line, 18);

    /* and it decides: cam-1 of root may write motors/x (rule 3), not
     * motors/cmd (the deny of rule 2) */
    ipcn__principal who = {.uid = 0, .gid = 0, .creds_known = true,
                           .name = "cam-1"};
    ipcn__decision d;
    assert_int_equal(ipcn__policy_decide(p, NULL, &who, IPCN__V_WRITE,
                                         "motors/x", 8, &d), IPCN_OK);
    assert_int_equal(d.rule, 2);
    assert_int_equal(ipcn__policy_decide(p, NULL, &who, IPCN__V_WRITE,
                                         "motors/cmd", 10, &d),
                     IPCN_FORBIDDEN);
    assert_int_equal(d.rule, 1);
    ipcn__policy_free(p);

    /* the smallest policies; needs_exe only when some condition needs it */
    assert_int_equal(parse("version: 1\ndefault: allow\n", &p, why,
                           sizeof why), IPCN_OK);
    assert_int_equal(p->profile, IPCN__PROFILE_ALLOW);
    assert_int_equal(p->nrules, 0);
    assert_false(p->needs_exe);
    ipcn__policy_free(p);
    assert_int_equal(parse("{version: \"1\", default: audit, groups: {}, "
                           "rules: []}", &p, why, sizeof why), IPCN_OK);
    assert_int_equal(p->profile, IPCN__PROFILE_AUDIT);
    ipcn__policy_free(p);
    assert_int_equal(parse("version: 1\ndefault: deny\nrules:\n"
                           "- {deny: read, who: exe:/bin/sh, what: a}\n",
                           &p, why, sizeof why), IPCN_OK);
    assert_true(p->needs_exe);
    ipcn__policy_free(p);
}

typedef struct bad {
    const char *text;
    unsigned line;
    const char *reason; /* a part of the reason */
} bad;

#define HEAD "version: 1\ndefault: deny\n"
#define RULE(body) HEAD "rules:\n  - " body "\n"

static const bad bads[] = {
    /* YAML syntax: libyaml's problem and its line */
    {"version: 1\ndefault: deny\nrules: [\n", 4, "YAML"},
    {HEAD "groups:\n  a: [\"user:0\"\n  b: x\n", 5, "YAML"},
    {"version: 1\n\tdefault: deny\n", 2, "YAML"},
    {"version: 1\ndefault: deny\n---\nversion: 1\n", 3, "more than one"},
    /* what the reader refuses */
    {HEAD "groups:\n  a: &x [\"user:0\"]\n  b: *x\n", 4, "anchors"},
    {HEAD "rules:\n  - allow: !!str read\n    who: any\n    what: a\n", 4,
     "tags"},
    {"version: !<tag:yaml.org,2002:int> 1\ndefault: deny\n", 1, "tags"},
    {HEAD "rules: [[[[a]]]]\n", 3, "nested deeper"},
    {HEAD "groups:\n  \"x\": \"user:\\0\"\n", 4, "NUL"},
    /* the document */
    {"", 1, "empty policy"},
    {"# nothing\n", 1, "empty policy"},
    {"- version: 1\n", 1, "a policy is a mapping"},
    {"default: deny\n", 1, "version: is missing"},
    {"version: 2\ndefault: deny\n", 1, "only version 1"},
    {"version: [1]\ndefault: deny\n", 1, "version: 1 expected"},
    {"version: 1\n", 1, "default: is missing"},
    {"version: 1\ndefault: maybe\n", 2, "allow, deny or audit"},
    {"version: 1\ndefault:\n", 2, "allow, deny or audit"},
    {HEAD "colour: red\n", 3, "unknown key \"colour\""},
    {HEAD "default: allow\n", 3, "given twice"},
    {HEAD "[a]: b\n", 3, "must be a word"},
    /* groups */
    {HEAD "groups: [a]\n", 3, "groups: a mapping"},
    {HEAD "groups:\n  a: \"user:0\"\n  a: \"user:0\"\n", 5, "defined twice"},
    {HEAD "groups:\n  \"a b\": \"user:0\"\n", 4, "group name"},
    {HEAD "groups:\n  a: []\n", 4, "empty list"},
    {HEAD "groups:\n  a: \"\"\n", 4, "empty member"},
    {HEAD "groups:\n  a: \"user:0\"\n  b: [\"user:0\", \"group:a\"]\n", 5,
     "cannot name a group"},
    {HEAD "groups:\n  a:\n    - user:no-such-user-ipcn\n", 5,
     "unknown user"},
    {HEAD "groups:\n  a: {x: y}\n", 4, "a value or a list"},
    /* rules */
    {HEAD "rules: {a: b}\n", 3, "a list of rules"},
    {HEAD "rules:\n", 3, "a list of rules"},
    {HEAD "rules:\n  - read\n", 4, "a rule is a mapping"},
    {RULE("allow: read\n    deny: read\n    who: any\n    what: a"), 4,
     "not both"},
    {RULE("who: any\n    what: a"), 4, "allow: or deny:"},
    {RULE("allow: read\n    what: a"), 4, "needs who:"},
    {RULE("allow: read\n    who: any"), 4, "needs what:"},
    {RULE("allow: read\n    who: any\n    what: a\n    why: because"), 7,
     "unknown key \"why\" in a rule"},
    {RULE("allow: read\n    who: any\n    what: a\n    who: any"), 7,
     "given twice"},
    {RULE("allow: [read, fly]\n    who: any\n    what: a"), 4,
     "unknown verb \"fly\""},
    {RULE("allow: []\n    who: any\n    what: a"), 4, "empty list"},
    {RULE("allow: read\n    who: []\n    what: a"), 5, "empty list"},
    {RULE("allow: read\n    who: \"\"\n    what: a"), 5, "empty selector"},
    {RULE("allow: read\n    who:\n    what: a"), 5, "empty selector"},
    {RULE("allow: read\n    who: any\n    what: []"), 6, "empty list"},
    {RULE("allow: read\n    who: any\n    what:\n"), 6, "empty resource"},
    {RULE("allow: read\n    who: [any, \"colour:red\"]\n    what: a"), 5,
     "unknown condition"},
    {RULE("allow: read\n    who: [any, user:no-such-user-ipcn]\n    what: a"),
     5, "unknown user"},
    {RULE("allow: read\n    who:\n      - any\n      - "
          "unix_group:no-such-group-ipcn\n    what: a"), 7,
     "unknown Unix group"},
    {RULE("allow: read\n    who: sha256:abc\n    what: a"), 5, "64 hex"},
    {RULE("allow: read\n    who: group:nope\n    what: a"), 5,
     "group \"nope\" is not defined"},
    {RULE("allow: read\n    who: any\n    what: [a, \"/abs\"]"), 6,
     "not a resource pattern"},
    {RULE("allow: read\n    who: any\n    what: \"a/b*\""), 6,
     "not a resource pattern"},
    {RULE("allow: read\n    who: any\n    what: [[a]]"), 6,
     "nested deeper"},
    {HEAD "groups:\n  a: [{x: y}]\n", 4, "a value expected, not a mapping"},
    {RULE("allow: {read: 1}\n    who: any\n    what: a"), 4,
     "a value or a list"},
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
    /* a group defined after the rule that names it is fine */
    ipcn__policy *p = NULL;
    char why[512];
    assert_int_equal(parse(RULE("allow: read\n    who: group:late\n"
                                "    what: a") "groups: {late: any}\n",
                           &p, why, sizeof why), IPCN_OK);
    ipcn__policy_free(p);
}

/* Hostile shapes: an alias bomb, deep nesting, huge lists, many groups. */
static void test_bounds(void **state)
{
    (void)state;
    ipcn__policy *p = NULL;
    char why[512];
    size_t cap = 80 * 1024;
    char *big = malloc(cap);
    assert_non_null(big);

    /* the billion laughs: refused at its first anchor */
    assert_int_equal(parse(HEAD "groups:\n  a: &a [x, x, x]\n  b: &b [*a, *a]"
                           "\n  c: [*b, *b]\n", &p, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_non_null(strstr(why, "t.yaml:4: "));

    /* 60000 opening brackets: refused at the fifth, on line 1 */
    memset(big, '[', 60000);
    big[60000] = 0;
    assert_int_equal(parse(big, &p, why, sizeof why), IPCN_BAD_REQUEST);
    assert_non_null(strstr(why, "t.yaml:1: "));

    /* 64 KiB: a file one byte longer is refused whole */
    size_t n = (size_t)snprintf(big, cap, HEAD "rules: []\n");
    while (n < 64 * 1024 - 2)
        big[n++] = '#';
    big[n++] = '\n';
    big[n] = 0;
    assert_int_equal(n, 64 * 1024 - 1);
    assert_int_equal(ipcn__policy_parse(big, n, "t.yaml", &p, why, sizeof why),
                     IPCN_OK);
    ipcn__policy_free(p);
    big[n - 1] = '#';
    big[n++] = '\n';
    big[n++] = '\n';
    assert_int_equal(ipcn__policy_parse(big, n, "t.yaml", &p, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_non_null(strstr(why, "larger than 64 KiB"));

    /* 256 groups are fine, 257 are not */
    for (int groups = 256; groups <= 257; groups++) {
        n = (size_t)snprintf(big, cap, HEAD "groups:\n");
        for (int i = 0; i < groups; i++)
            n += (size_t)snprintf(big + n, cap - n, "  g%d: any\n", i);
        int st = parse(big, &p, why, sizeof why);
        assert_int_equal(st, groups == 256 ? IPCN_OK : IPCN_BAD_REQUEST);
        if (st == IPCN_OK) {
            assert_int_equal(p->ngroups, 256);
            ipcn__policy_free(p);
        } else {
            assert_non_null(strstr(why, "more than 256 groups"));
        }
    }

    /* 256 selectors and 256 patterns in a rule are fine, 257 are not */
    for (int items = 256; items <= 257; items++) {
        for (int who = 0; who < 2; who++) {
            n = (size_t)snprintf(big, cap, HEAD "rules:\n- allow: read\n"
                                 "  who: ");
            for (int i = 0; i < (who ? items : 1); i++)
                n += (size_t)snprintf(big + n, cap - n, "%sany",
                                      i ? "," : "[");
            n += (size_t)snprintf(big + n, cap - n, "]\n  what: ");
            for (int i = 0; i < (who ? 1 : items); i++)
                n += (size_t)snprintf(big + n, cap - n, "%sa", i ? "," : "[");
            snprintf(big + n, cap - n, "]\n");
            int st = parse(big, &p, why, sizeof why);
            assert_int_equal(st, items == 256 ? IPCN_OK : IPCN_BAD_REQUEST);
            if (st == IPCN_OK) {
                assert_int_equal(who ? p->rules[0].nwho : p->rules[0].nwhat,
                                 256);
                ipcn__policy_free(p);
            } else {
                assert_non_null(strstr(why, who ? "t.yaml:5: more than 256"
                                                : "t.yaml:6: more than 256"));
            }
        }
    }
    free(big);
}

/* ---- the file: owner and mode ---- */

static char dir[64];

static void put(const char *name, const char *text, mode_t mode)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int load(const char *name, int64_t owner, char *why, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ipcn__policy *p = NULL;
    int st = ipcn__policy_load(path, owner, &p, why, n);
    if (st == IPCN_OK) {
        assert_string_equal(p->file, path);
        ipcn__policy_free(p);
    } else {
        assert_null(p);
        assert_true(strncmp(why, path, strlen(path)) == 0);
    }
    return st;
}

static void test_load_file(void **state)
{
    (void)state;
    char why[512];
    snprintf(dir, sizeof dir, "/tmp/ipcn-policy-test.XXXXXX");
    assert_non_null(mkdtemp(dir));

    put("p.yaml", good, 0644);
    assert_int_equal(load("p.yaml", -1, why, sizeof why), IPCN_OK);
    assert_int_equal(load("p.yaml", (int64_t)geteuid(), why, sizeof why),
                     IPCN_OK);
    put("p.yaml", good, 0600);
    assert_int_equal(load("p.yaml", -1, why, sizeof why), IPCN_OK);
    put("p.yaml", good, 0664);
    assert_int_equal(load("p.yaml", -1, why, sizeof why), IPCN_FORBIDDEN);
    assert_non_null(strstr(why, "writable by its group"));
    put("p.yaml", good, 0646);
    assert_int_equal(load("p.yaml", -1, why, sizeof why), IPCN_FORBIDDEN);
    assert_non_null(strstr(why, "writable by others"));

    /* content errors keep their line */
    put("bad.yaml", HEAD "colour: red\n", 0644);
    assert_int_equal(load("bad.yaml", -1, why, sizeof why), IPCN_BAD_REQUEST);
    char want[160];
    snprintf(want, sizeof want, "%s/bad.yaml:3: unknown key", dir);
    assert_true(strncmp(why, want, strlen(want)) == 0);

    /* no such file: 203; a directory, a symbolic link, a FIFO: 202 */
    assert_int_equal(load("none.yaml", -1, why, sizeof why), IPCN_NOT_FOUND);
    char path[128], target[128];
    snprintf(path, sizeof path, "%s/d.yaml", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(load("d.yaml", -1, why, sizeof why), IPCN_FORBIDDEN);
    snprintf(path, sizeof path, "%s/l.yaml", dir);
    snprintf(target, sizeof target, "%s/p.yaml", dir);
    put("p.yaml", good, 0644);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(load("l.yaml", -1, why, sizeof why), IPCN_FORBIDDEN);
    assert_non_null(strstr(why, "symbolic link"));
    snprintf(path, sizeof path, "%s/f.yaml", dir);
    assert_int_equal(mkfifo(path, 0644), 0);
    assert_int_equal(load("f.yaml", -1, why, sizeof why), IPCN_FORBIDDEN);
    assert_non_null(strstr(why, "not a regular file"));

    /* over 64 KiB on disk */
    char *big = malloc(70000);
    assert_non_null(big);
    memset(big, '#', 69998);
    big[69998] = '\n';
    big[69999] = 0;
    put("big.yaml", big, 0644);
    free(big);
    assert_int_equal(load("big.yaml", -1, why, sizeof why), IPCN_BAD_REQUEST);
    assert_non_null(strstr(why, "larger than 64 KiB"));

    /* the owner: root or owner_uid (root only: chown) */
    if (geteuid() == 0) {
        snprintf(path, sizeof path, "%s/p.yaml", dir);
        assert_int_equal(chown(path, 4242, 4242), 0);
        assert_int_equal(load("p.yaml", -1, why, sizeof why), IPCN_FORBIDDEN);
        assert_non_null(strstr(why, "owned by uid 4242"));
        assert_int_equal(load("p.yaml", 4243, why, sizeof why),
                         IPCN_FORBIDDEN);
        assert_int_equal(load("p.yaml", 4242, why, sizeof why), IPCN_OK);
        assert_int_equal(chown(path, 0, 0), 0);
        assert_int_equal(load("p.yaml", 4242, why, sizeof why), IPCN_OK);
    } else {
        print_message("not root: the owner checks that need chown are "
                      "skipped\n");
        assert_int_equal(load("p.yaml", (int64_t)geteuid() + 1, why,
                              sizeof why), IPCN_FORBIDDEN);
    }

    const char *const names[] = {"p.yaml", "bad.yaml", "l.yaml", "f.yaml",
                                 "big.yaml"};
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(names); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/d.yaml", dir);
    rmdir(path);
    rmdir(dir);
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
    assert_true(n > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
