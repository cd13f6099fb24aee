/* SPDX-License-Identifier: MIT */
/* test_remap.c — namespaces and remap rules (src/util/remap.c): how a
 * name becomes a wire path, relative and absolute names, exact and prefix
 * rules on paths and patterns, the node name with a namespace, what the
 * parsers refuse; and the parser of a lock file's line (names.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/util.h"

static ipcn__names t;

static int teardown(void **state)
{
    (void)state;
    ipcn__names_clear(&t);
    return 0;
}

static void setup_names(const char *ns, const char *rules)
{
    char why[256] = "";
    ipcn__names_clear(&t);
    if (ns && ipcn__names_set_ns(&t, ns, strlen(ns), why, sizeof why) != IPCN_OK)
        fail_msg("namespace \"%s\": %s", ns, why);
    if (rules &&
        ipcn__names_add_rules(&t, rules, strlen(rules), why, sizeof why) != IPCN_OK)
        fail_msg("rules \"%s\": %s", rules, why);
}

/* The resolved name, or "!" when refused. */
static const char *res(const char *in)
{
    static char out[IPCN_PATH_MAX + 1];
    size_t n = 0;
    if (ipcn__names_resolve(&t, in, strlen(in), out, &n) != IPCN_OK)
        return "!";
    assert_int_equal(n, strlen(out));
    return out;
}

static void test_namespace(void **state)
{
    (void)state;
    setup_names("left", NULL);
    assert_string_equal(res("camera/rgb"), "left/camera/rgb");
    assert_string_equal(res("/camera/rgb"), "camera/rgb"); /* absolute */
    assert_string_equal(res("*/rgb"), "left/*/rgb");       /* a pattern */
    assert_string_equal(res("/**"), "**");
    assert_string_equal(res("@sys/n/links"), "@sys/n/links"); /* never */
    assert_string_equal(res("/@sys/n/links"), "@sys/n/links");
    assert_string_equal(res(""), "!");
    assert_string_equal(res("/"), "!");
    setup_names("/robot1/arm", NULL); /* a leading '/' is allowed */
    assert_string_equal(res("joint"), "robot1/arm/joint");
    char name[IPCN_NAME_MAX + 1];
    assert_int_equal(ipcn__names_node_name(&t, "ctl", 3, name, sizeof name),
                     IPCN_OK);
    assert_string_equal(name, "robot1.arm.ctl");
    setup_names("/", NULL); /* none */
    assert_string_equal(res("camera"), "camera");
    assert_int_equal(ipcn__names_node_name(&t, "ctl", 3, name, sizeof name),
                     IPCN_OK);
    assert_string_equal(name, "ctl");
}

static void test_too_long(void **state)
{
    (void)state;
    char in[300];
    memset(in, 'a', sizeof in);
    in[255] = 0; /* a 255-byte path: at the limit alone */
    setup_names(NULL, NULL);
    assert_int_equal(strlen(res(in)), 255);
    setup_names("ns", NULL); /* ... past it under a namespace */
    assert_string_equal(res(in), "!");
    char name[IPCN_NAME_MAX + 1];
    assert_int_equal(ipcn__names_node_name(&t, in, 62, name, sizeof name),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__names_node_name(&t, in, 61, name, sizeof name),
                     IPCN_OK);
    assert_int_equal(strlen(name), 64);
}

static void test_rules(void **state)
{
    (void)state;
    /* FROM and TO are namespaced as names are; the first match wins. */
    setup_names("left", "camera/rgb=cam_left/rgb,camera/rgb=never,"
                        "/tf=/tf_left,imu/**=/sensors/imu_left/**");
    assert_string_equal(res("camera/rgb"), "left/cam_left/rgb");
    assert_string_equal(res("/left/camera/rgb"), "left/cam_left/rgb");
    assert_string_equal(res("camera/rgb/info"), "left/camera/rgb/info");
    assert_string_equal(res("camera"), "left/camera");
    assert_string_equal(res("tf"), "left/tf");       /* not /tf */
    assert_string_equal(res("/tf"), "tf_left");
    assert_string_equal(res("imu"), "sensors/imu_left");
    assert_string_equal(res("imu/accel/x"), "sensors/imu_left/accel/x");
    assert_string_equal(res("imux"), "left/imux");   /* a segment, not bytes */
    /* Patterns: a prefix rule moves what lies under its FROM, an exact
     * rule a pattern equal to its FROM; other patterns are only
     * namespaced. */
    assert_string_equal(res("imu/**"), "sensors/imu_left/**");
    assert_string_equal(res("imu/*/x"), "sensors/imu_left/*/x");
    assert_string_equal(res("*/rgb"), "left/*/rgb");
    assert_string_equal(res("camera/*"), "left/camera/*");
    assert_string_equal(res("/**"), "**");
}

static void test_rule_growth(void **state)
{
    (void)state;
    char rule[600], in[300];
    memset(in, 'b', 250);
    in[250] = 0;
    /* a prefix rule from "a" to 250 bytes: a name under "a" that ends
     * past 255 bytes once moved is refused */
    snprintf(rule, sizeof rule, "a/**=/%s/**", in);
    setup_names(NULL, rule);
    assert_int_equal(strlen(res("a/c")), 252);
    assert_string_equal(res("a/cdefgh"), "!");
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad_ns[] = {
        "a//b", "a/", "//a", "a b", "a.b", "a*", "caf\xc3\xa9",
        "0123456789012345678901234567890123456789012345678901234567890123"};
    char why[256];
    for (size_t i = 0; i < sizeof bad_ns / sizeof *bad_ns; i++) {
        ipcn__names_clear(&t);
        why[0] = 0;
        if (ipcn__names_set_ns(&t, bad_ns[i], strlen(bad_ns[i]), why,
                               sizeof why) != IPCN_BAD_REQUEST || !why[0])
            fail_msg("namespace \"%s\" accepted", bad_ns[i]);
    }
    static const char *const bad_rules[] = {
        "a", "a=b=c", "a=b,", ",a=b", "a=b,,c=d", "=b", "a=", "/=b",
        "a/**=b", "a=b/**", "**=b/**", "a/*=b", "a=@sys/x", "@x=b",
        "a b= c", "a= b", "a//b=c", "/**=/x/**", "a=b/"};
    for (size_t i = 0; i < sizeof bad_rules / sizeof *bad_rules; i++) {
        setup_names("ns", "keep=kept");
        why[0] = 0;
        if (ipcn__names_add_rules(&t, bad_rules[i], strlen(bad_rules[i]), why,
                                  sizeof why) != IPCN_BAD_REQUEST || !why[0])
            fail_msg("rules \"%s\" accepted", bad_rules[i]);
        /* all or nothing: the rules before stay, none of the text's */
        assert_int_equal(t.nrules, 1);
        assert_string_equal(res("keep"), "ns/kept");
    }
    /* bounds: 64 rules, 8 KiB */
    char many[65 * 8 + 1] = "";
    for (int i = 0; i < 65; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%sa%d=b",
                 i ? "," : "", i);
    setup_names(NULL, NULL);
    assert_int_equal(ipcn__names_add_rules(&t, many, strlen(many), why,
                                           sizeof why), IPCN_BAD_REQUEST);
    assert_int_equal(t.nrules, 0);
    *strrchr(many, ',') = 0; /* 64 */
    assert_int_equal(ipcn__names_add_rules(&t, many, strlen(many), why,
                                           sizeof why), IPCN_OK);
    assert_int_equal(t.nrules, 64);
    assert_int_equal(ipcn__names_add_rules(&t, "a=b", IPCN__REMAP_TEXT_MAX + 1,
                                           why, sizeof why), IPCN_BAD_REQUEST);
}

static void test_lock_line(void **state)
{
    (void)state;
    int32_t pid = 0;
#define LL(s) ipcn__lock_line_parse(s, sizeof(s) - 1, &pid)
    assert_int_equal(LL("1234 00000000deadbeef 7\n"), IPCN_OK);
    assert_int_equal(pid, 1234);
    assert_int_equal(LL("2147483647 0123456789abcdef 0\n"), IPCN_OK);
    assert_int_equal(pid, 2147483647);
    static const char *const bad[] = {
        "1234 00000000deadbeef 7",       /* no newline */
        "0 00000000deadbeef 7\n",         /* pid 0 */
        "2147483648 00000000deadbeef 7\n", /* past INT32_MAX */
        "-1 00000000deadbeef 7\n",
        "1234 00000000DEADBEEF 7\n",      /* upper case */
        "1234 0000000deadbeef 7\n",       /* 15 digits */
        "1234 000000000deadbeef 7\n",     /* 17 */
        "1234  00000000deadbeef 7\n",
        "1234 00000000deadbeef\n",
        "1234 00000000deadbeef 7 \n",
        "1234 00000000deadbeef 7\n\n",
        "12345678901 00000000deadbeef 7\n",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (ipcn__lock_line_parse(bad[i], strlen(bad[i]), &pid) !=
            IPCN_BAD_REQUEST)
            fail_msg("lock line \"%s\" accepted", bad[i]);
    assert_int_equal(ipcn__lock_line_parse(NULL, 0, &pid), IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_namespace, teardown),
        cmocka_unit_test_teardown(test_too_long, teardown),
        cmocka_unit_test_teardown(test_rules, teardown),
        cmocka_unit_test_teardown(test_rule_growth, teardown),
        cmocka_unit_test_teardown(test_refused, teardown),
        cmocka_unit_test(test_lock_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
