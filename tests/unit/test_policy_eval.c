/* SPDX-License-Identifier: MIT */
/* test_policy_eval.c — selectors and the decision of the policy layer,
 * with rules built in memory (the file format has its own test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "policy/policy_impl.h"
#include "util/util.h"

static int sel(const char *text, ipcn__selector *s)
{
    char why[256] = "";
    int st = ipcn__selector_parse(text, s, why, sizeof why);
    if (st != IPCN_OK)
        print_message("selector \"%s\": %s\n", text, why);
    return st;
}

static void test_selector_parse(void **state)
{
    (void)state;
    ipcn__selector s;
    char why[256], buf[512];
    assert_int_equal(sel("user:root unix_group:0 node:cam-*", &s), IPCN_OK);
    assert_int_equal(s.nconds, 3);
    assert_int_equal(s.conds[0].kind, IPCN__C_UID);
    assert_int_equal(s.conds[0].id, 0);
    assert_int_equal(s.conds[1].kind, IPCN__C_GID);
    ipcn__selector_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "user:0 unix_group:0 node:cam-*");
    /* a short buffer: truncated, NUL-terminated, the full length told */
    size_t need = ipcn__selector_format(&s, buf, 8);
    assert_int_equal(need, strlen("user:0 unix_group:0 node:cam-*"));
    assert_int_equal(strlen(buf), 7);
    ipcn__selector_clear(&s);

    static const char *const bad[] = {
        "", "   ", "user:", "nobody-such-user-ipcn", "user:nobody-such-user-ipcn",
        "unix_group:nobody-such-group-ipcn", "exe:relative/path",
        "sha256:abcd", "colour:red",
        "sha256:zz00000000000000000000000000000000000000000000000000000000000000",
        "any any any any any any any any any any any any any any any any any",
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(bad); i++) {
        why[0] = 0;
        assert_int_equal(ipcn__selector_parse(bad[i], &s, why, sizeof why),
                         IPCN_BAD_REQUEST);
        assert_true(why[0] != 0);
        assert_null(s.conds);
    }
    assert_int_equal(ipcn__selector_parse(NULL, &s, why, sizeof why),
                     IPCN_BAD_REQUEST);
}

/* A rule of one selector and one pattern. */
static void rule(ipcn__rule *r, bool deny, uint32_t verbs, const char *who,
                 const char *what)
{
    memset(r, 0, sizeof *r);
    r->deny = deny;
    r->verbs = verbs;
    r->who = ipcn__calloc(1, sizeof *r->who);
    assert_int_equal(sel(who, r->who), IPCN_OK);
    r->nwho = 1;
    if (what) {
        r->what = ipcn__calloc(1, sizeof *r->what);
        r->what[0] = ipcn__strdup(what);
        r->nwhat = 1;
    }
}

static ipcn__principal alice(void)
{
    ipcn__principal p = {.pid = 10, .uid = 1000, .gid = 1000,
                         .creds_known = true, .ngroups = 1,
                         .groups = {27}, .name = (char *)"cam-front"};
    return p;
}

static int decide(const ipcn__policy *p, const ipcn__principal *who,
                  uint32_t verb, const char *path, ipcn__decision *d)
{
    return ipcn__policy_decide(p, NULL, who, verb, path, strlen(path), d);
}

static void test_decide(void **state)
{
    (void)state;
    ipcn__policy *p = ipcn__policy_new(IPCN__PROFILE_DENY);
    p->rules = ipcn__calloc(3, sizeof *p->rules);
    p->nrules = 3;
    rule(&p->rules[0], false, IPCN__V_READ | IPCN__V_EXECUTE, "user:1000",
         "motors/**");
    rule(&p->rules[1], true, IPCN__V_EXECUTE, "unix_group:27", "motors/stop");
    rule(&p->rules[2], false, IPCN__V_PROVIDE, "node:cam-*", "camera/*");
    ipcn__principal a = alice();
    ipcn__decision d;
    assert_int_equal(decide(p, &a, IPCN__V_READ, "motors/cmd", &d), IPCN_OK);
    assert_int_equal(d.rule, 0);
    assert_int_equal(decide(p, &a, IPCN__V_EXECUTE, "motors/cmd", &d), IPCN_OK);
    /* deny beats allow, whatever the order */
    assert_int_equal(decide(p, &a, IPCN__V_EXECUTE, "motors/stop", &d),
                     IPCN_FORBIDDEN);
    assert_int_equal(d.rule, 1);
    ipcn__rule t = p->rules[0];
    p->rules[0] = p->rules[1];
    p->rules[1] = t;
    assert_int_equal(decide(p, &a, IPCN__V_EXECUTE, "motors/stop", &d),
                     IPCN_FORBIDDEN);
    assert_int_equal(d.rule, 0);
    /* the default */
    assert_int_equal(decide(p, &a, IPCN__V_WRITE, "motors/cmd", &d),
                     IPCN_FORBIDDEN);
    assert_int_equal(d.rule, -1);
    assert_int_equal(decide(p, &a, IPCN__V_PROVIDE, "camera/front", &d),
                     IPCN_OK);
    /* a node name not yet known: that rule may match, 201 */
    a.name = NULL;
    assert_int_equal(decide(p, &a, IPCN__V_PROVIDE, "camera/front", &d),
                     IPCN_UNAUTHORIZED);
    a = alice();
    /* audit refuses nothing and says what deny would have done */
    p->profile = IPCN__PROFILE_AUDIT;
    assert_int_equal(decide(p, &a, IPCN__V_WRITE, "motors/cmd", &d), IPCN_OK);
    assert_true(d.audited);
    assert_int_equal(d.would, IPCN_FORBIDDEN);
    assert_int_equal(decide(p, &a, IPCN__V_EXECUTE, "motors/stop", &d), IPCN_OK);
    assert_true(d.audited);
    assert_int_equal(decide(p, &a, IPCN__V_READ, "motors/x", &d), IPCN_OK);
    assert_false(d.audited);
    p->profile = IPCN__PROFILE_ALLOW;
    assert_int_equal(decide(p, &a, IPCN__V_WRITE, "motors/cmd", &d), IPCN_OK);
    assert_int_equal(decide(p, &a, IPCN__V_EXECUTE, "motors/stop", &d),
                     IPCN_FORBIDDEN);
    ipcn__policy_free(p);
}

static void test_exe_and_groups(void **state)
{
    (void)state;
    ipcn__policy *p = ipcn__policy_new(IPCN__PROFILE_DENY);
    p->groups = ipcn__calloc(1, sizeof *p->groups);
    p->ngroups = 1;
    p->groups[0].name = ipcn__strdup("drivers");
    p->groups[0].members = ipcn__calloc(2, sizeof(ipcn__selector));
    p->groups[0].nmembers = 2;
    assert_int_equal(sel("user:4242", &p->groups[0].members[0]), IPCN_OK);
    char hex[128] = "exe:/usr/bin/camd sha256:";
    for (int i = 0; i < 32; i++)
        sprintf(hex + strlen(hex), "%02x", i);
    assert_int_equal(sel(hex, &p->groups[0].members[1]), IPCN_OK);
    p->rules = ipcn__calloc(2, sizeof *p->rules);
    p->nrules = 2;
    rule(&p->rules[0], false, IPCN__V_ALL, "group:drivers", "**");
    rule(&p->rules[1], true, IPCN__V_WRITE, "exe:/usr/bin/bad", "**");

    ipcn__principal a = alice();
    ipcn__decision d;
    /* no executable known: both rules may match; the deny decides, 201 */
    assert_int_equal(decide(p, &a, IPCN__V_WRITE, "x", &d), IPCN_UNAUTHORIZED);
    assert_int_equal(d.rule, 1);
    assert_int_equal(decide(p, &a, IPCN__V_READ, "x", &d), IPCN_UNAUTHORIZED);
    assert_int_equal(d.rule, 0);
    /* the path and hash: a member */
    a.exe = (char *)"/usr/bin/camd";
    a.exe_hashed = true;
    for (int i = 0; i < 32; i++)
        a.exe_sha256[i] = (uint8_t)i;
    assert_int_equal(decide(p, &a, IPCN__V_READ, "x", &d), IPCN_OK);
    assert_int_equal(decide(p, &a, IPCN__V_WRITE, "x", &d), IPCN_OK);
    /* another hash: not a member, default deny */
    a.exe_sha256[0] = 0xff;
    assert_int_equal(decide(p, &a, IPCN__V_READ, "x", &d), IPCN_FORBIDDEN);
    assert_int_equal(d.rule, -1);
    /* by uid */
    a = alice();
    a.uid = 4242;
    a.exe = (char *)"/usr/bin/bad";
    assert_int_equal(decide(p, &a, IPCN__V_READ, "x", &d), IPCN_OK);
    assert_int_equal(decide(p, &a, IPCN__V_WRITE, "x", &d), IPCN_FORBIDDEN);

    /* a run-time group searched after the policy's */
    ipcn__group rt = {.name = ipcn__strdup("mine"), .nmembers = 1};
    rt.members = ipcn__calloc(1, sizeof(ipcn__selector));
    assert_int_equal(sel("node:cam-*", rt.members), IPCN_OK);
    ipcn__groupset extra = {&rt, 1, NULL};
    ipcn__groupset gs = {p->groups, p->ngroups, &extra};
    ipcn__rule nr[2];
    rule(&nr[0], false, IPCN__V_EXECUTE, "group:mine", NULL);
    rule(&nr[1], true, IPCN__V_EXECUTE, "user:4243", NULL);
    a = alice();
    assert_int_equal(ipcn__policy_narrow(nr, 2, &gs, &a, IPCN__V_EXECUTE, &d),
                     IPCN_OK);
    assert_int_equal(ipcn__policy_narrow(nr, 2, &gs, &a, IPCN__V_READ, &d),
                     IPCN_OK); /* no rule for read: not narrowed */
    a.name = (char *)"lidar";
    assert_int_equal(ipcn__policy_narrow(nr, 2, &gs, &a, IPCN__V_EXECUTE, &d),
                     IPCN_FORBIDDEN);
    a = alice();
    a.uid = 4243;
    assert_int_equal(ipcn__policy_narrow(nr, 2, &gs, &a, IPCN__V_EXECUTE, &d),
                     IPCN_FORBIDDEN);
    assert_int_equal(d.rule, 1);
    assert_int_equal(ipcn__group_member(&gs, "nonesuch", &a), 0);
    for (int i = 0; i < 2; i++) {
        for (uint32_t j = 0; j < nr[i].nwho; j++)
            ipcn__selector_clear(&nr[i].who[j]);
        ipcn__free(nr[i].who);
    }
    ipcn__selector_clear(rt.members);
    ipcn__free(rt.members);
    ipcn__free(rt.name);
    ipcn__policy_free(p);
}

/* A principal of another host: "host:user", its name "name@host"; no
 * uid, groups or executable known here (its link sets creds_known
 * false, and uid is whatever the link put there: 0 here, as root's). */
static ipcn__principal remote(const char *name, const char *host,
                              const char *user)
{
    ipcn__principal p = {.uid = 0, .gid = 0, .creds_known = false,
                         .name = (char *)name, .host = (char *)host,
                         .user = (char *)user};
    return p;
}

static void test_remote_selectors(void **state)
{
    (void)state;
    ipcn__selector s;
    char why[256] = "", buf[512];
    /* host: is a glob; a user this host does not know is allowed beside
     * host: only (another host's user), and kept by name */
    assert_int_equal(sel("host:gpu-* user:robot-ipcn-nowhere", &s), IPCN_OK);
    assert_int_equal(s.conds[0].kind, IPCN__C_HOST);
    assert_int_equal(s.conds[1].kind, IPCN__C_UID);
    assert_true(s.conds[1].no_uid);
    ipcn__selector_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "host:gpu-* user:robot-ipcn-nowhere");
    ipcn__principal r = remote("cam@gpu-1", "gpu-1", "robot-ipcn-nowhere");
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), 1);
    r.user = (char *)"ops";
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), 0);
    r.user = NULL; /* not told yet: unknown */
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), -1);
    r = remote("cam@nuc", "nuc", "robot-ipcn-nowhere");
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), 0);
    ipcn__principal a = alice(); /* of this host: never host: */
    assert_int_equal(ipcn__selector_match(&s, NULL, &a, false), 0);
    ipcn__selector_clear(&s);
    assert_int_equal(ipcn__selector_parse("user:robot-ipcn-nowhere", &s, why,
                                          sizeof why), IPCN_BAD_REQUEST);
    assert_non_null(strstr(why, "unknown user"));
    assert_int_equal(ipcn__selector_parse("host:", &s, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__selector_parse("host:gpu user:4294967296", &s, why,
                                          sizeof why), IPCN_BAD_REQUEST);

    /* user:NAME of a known user alone: its uid here, and no one of
     * another host (fail closed: "user:root" is not every host's root) */
    assert_int_equal(sel("user:root", &s), IPCN_OK);
    r = remote("m@arm", "arm", "root");
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), 0);
    a.uid = 0;
    assert_int_equal(ipcn__selector_match(&s, NULL, &a, false), 1);
    ipcn__selector_clear(&s);
    /* ... beside host:, its name for that host */
    assert_int_equal(sel("host:* user:root", &s), IPCN_OK);
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), 1);
    r.user = (char *)"alice";
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), 0);
    assert_int_equal(ipcn__selector_match(&s, NULL, &a, false), 0);
    ipcn__selector_clear(&s);
    /* user:UID names no one of another host, even one whose link says
     * uid 0: unknown, never a match */
    assert_int_equal(sel("user:0", &s), IPCN_OK);
    r = remote("m@arm", "arm", "root");
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), -1);
    ipcn__selector_clear(&s);
    /* unix_group, exe, sha256: only its host's kernel knows: unknown,
     * even when the fields hold something */
    static const char *const local_only[] = {
        "unix_group:0", "exe:/usr/bin/camd",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    };
    r.creds_known = true;
    r.exe = (char *)"/usr/bin/camd";
    r.exe_hashed = true;
    memset(r.exe_sha256, 0, 32);
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(local_only); i++) {
        assert_int_equal(sel(local_only[i], &s), IPCN_OK);
        assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), -1);
        ipcn__selector_clear(&s);
    }
    /* node: matches its whole name, name@host, and only beside host: */
    assert_int_equal(sel("node:cam", &s), IPCN_OK);
    r = remote("cam@gpu", "gpu", "robot");
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), 0);
    ipcn__selector_clear(&s);
    assert_int_equal(sel("node:cam*", &s), IPCN_OK); /* a rule of this host */
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), 0);
    ipcn__selector_clear(&s);
    assert_int_equal(sel("host:gpu node:cam@*", &s), IPCN_OK);
    assert_int_equal(ipcn__selector_match(&s, NULL, &r, false), 1);
    ipcn__selector_clear(&s);
}

static void test_remote_decide(void **state)
{
    (void)state;
    ipcn__policy *p = ipcn__policy_new(IPCN__PROFILE_DENY);
    p->rules = ipcn__calloc(5, sizeof *p->rules);
    p->nrules = 5;
    rule(&p->rules[0], false, IPCN__V_READ, "host:gpu user:robot-ipcn-x",
         "camera/**");
    rule(&p->rules[1], false, IPCN__V_ALL, "user:0", "motors/**");
    rule(&p->rules[2], true, IPCN__V_WRITE, "unix_group:0", "motors/**");
    rule(&p->rules[3], false, IPCN__V_EXECUTE, "exe:/usr/bin/ctl", "arm/**");
    rule(&p->rules[4], false, IPCN__V_EXECUTE, "host:nuc", "arm/**");
    ipcn__principal r = remote("viewer@gpu", "gpu", "robot-ipcn-x");
    ipcn__decision d;
    assert_int_equal(decide(p, &r, IPCN__V_READ, "camera/front", &d), IPCN_OK);
    assert_int_equal(d.rule, 0);
    /* fail closed: a uid allow rule never lets it in (201, not 100) ... */
    assert_int_equal(decide(p, &r, IPCN__V_READ, "motors/state", &d),
                     IPCN_UNAUTHORIZED);
    assert_int_equal(d.rule, 1);
    /* ... and a deny on what it cannot be known not to be refuses it */
    assert_int_equal(decide(p, &r, IPCN__V_WRITE, "motors/cmd", &d),
                     IPCN_UNAUTHORIZED);
    assert_int_equal(d.rule, 2);
    assert_int_equal(decide(p, &r, IPCN__V_EXECUTE, "arm/go", &d),
                     IPCN_UNAUTHORIZED);
    r = remote("ctl@nuc", "nuc", "ops");
    assert_int_equal(decide(p, &r, IPCN__V_EXECUTE, "arm/go", &d), IPCN_OK);
    assert_int_equal(d.rule, 4);
    /* another user of gpu: no rule, the default */
    r = remote("viewer@gpu", "gpu", "guest");
    assert_int_equal(decide(p, &r, IPCN__V_READ, "camera/front", &d),
                     IPCN_FORBIDDEN);
    assert_int_equal(d.rule, -1);
    /* root of this host still passes its rules */
    ipcn__principal a = alice();
    a.uid = 0;
    a.gid = 5;
    a.groups[0] = 6;
    assert_int_equal(decide(p, &a, IPCN__V_WRITE, "motors/cmd", &d), IPCN_OK);
    assert_int_equal(decide(p, &a, IPCN__V_READ, "camera/front", &d),
                     IPCN_FORBIDDEN);
    ipcn__policy_free(p);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(ipcn__verb_parse("read"), IPCN__V_READ);
    assert_int_equal(ipcn__verb_parse("provide"), IPCN__V_PROVIDE);
    assert_int_equal(ipcn__verb_parse("all"), IPCN__V_ALL);
    assert_int_equal(ipcn__verb_parse("delete"), 0);
    assert_string_equal(ipcn__verb_name(IPCN__V_EXECUTE), "execute");
    assert_string_equal(ipcn__profile_name(IPCN__PROFILE_AUDIT), "audit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_parse),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_exe_and_groups),
        cmocka_unit_test(test_remote_selectors),
        cmocka_unit_test(test_remote_decide),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
