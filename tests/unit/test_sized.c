/* SPDX-License-Identifier: MIT */
/* test_sized.c — the one check of sized structs (ipcnet.h, "Sized
 * structs"): the helper with a struct of two versions, and the public calls
 * that take one without a node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipcnet_media.h"
#include "util/util.h"

/* Version 1 of a struct, and version 2 with a field more. */
typedef struct v1 {
    uint32_t size;
    uint32_t a;
} v1;
typedef struct v2 {
    uint32_t size;
    uint32_t a;
    uint64_t b;
} v2;
#define V_FIRST IPCN__SIZE_TO(v2, a)

static void test_in(void **state)
{
    (void)state;
    v2 d = {.size = 0, .a = 1, .b = 2}; /* the defaults */
    v1 old = {.size = sizeof old, .a = 7};
    assert_int_equal(ipcn__sized_in(&d, sizeof d, &old, V_FIRST), IPCN_OK);
    assert_int_equal(d.size, sizeof d);
    assert_int_equal(d.a, 7);
    assert_int_equal(d.b, 2); /* past the caller's size: the default */

    v2 cur = {.size = sizeof cur, .a = 8, .b = 9};
    assert_int_equal(ipcn__sized_in(&d, sizeof d, &cur, V_FIRST), IPCN_OK);
    assert_int_equal(d.a, 8);
    assert_int_equal(d.b, 9);

    v2 keep = d;
    struct {
        v2 v;
        uint64_t newer;
    } big = {.v = {.size = sizeof big, .a = 5}};
    v1 small = {.size = V_FIRST - 1};
    v1 zero = {.size = 0};
    assert_int_equal(ipcn__sized_in(&d, sizeof d, &big, V_FIRST), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__sized_in(&d, sizeof d, &small, V_FIRST), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__sized_in(&d, sizeof d, &zero, V_FIRST), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__sized_in(&d, sizeof d, NULL, V_FIRST), IPCN_BAD_REQUEST);
    assert_memory_equal(&d, &keep, sizeof d);
}

static void test_out(void **state)
{
    (void)state;
    v2 src = {.size = sizeof src, .a = 3, .b = 4};
    struct {
        v1 v;
        uint32_t after; /* the caller's memory past its struct */
    } old = {.v = {.size = sizeof old.v}, .after = 0xdeadbeef};
    assert_int_equal(ipcn__sized_check(&old.v, V_FIRST), IPCN_OK);
    ipcn__sized_out(&old.v, &src, sizeof src);
    assert_int_equal(old.v.size, sizeof old.v);
    assert_int_equal(old.v.a, 3);
    assert_int_equal(old.after, 0xdeadbeef); /* nothing past its size */

    struct {
        v2 v;
        uint64_t newer;
    } big = {.v = {.size = sizeof big}, .newer = 42};
    assert_int_equal(ipcn__sized_check(&big, V_FIRST), IPCN_OK);
    ipcn__sized_out(&big, &src, sizeof src);
    assert_int_equal(big.v.size, sizeof big);
    assert_int_equal(big.v.b, 4);
    assert_int_equal(big.newer, 42); /* unknown here: left as it was */

    v1 small = {.size = V_FIRST - 1}, zero = {.size = 0};
    assert_int_equal(ipcn__sized_check(&small, V_FIRST), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__sized_check(&zero, V_FIRST), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn__sized_check(NULL, V_FIRST), IPCN_BAD_REQUEST);
}

/* The public calls check it the same way. */
static void test_public(void **state)
{
    (void)state;
    ipcn_node *n = NULL;
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    assert_int_equal(o.size, sizeof o);
    o.size = 0;
    assert_int_equal(ipcn_node_open(&n, "sized", &o), IPCN_BAD_REQUEST);
    o.size = IPCN__SIZE_TO(ipcn_node_opts, peer_meta_budget) - 1;
    assert_int_equal(ipcn_node_open(&n, "sized", &o), IPCN_BAD_REQUEST);
    o.size = sizeof o + 8;
    assert_int_equal(ipcn_node_open(&n, "sized", &o), IPCN_BAD_REQUEST);
    assert_null(n);

    ipcn_media_h264 *s = NULL;
    assert_int_equal(ipcn_media_h264_new(0, &s), IPCN_OK);
    ipcn_media_h264_stats st = {.size = 0};
    assert_int_equal(ipcn_media_h264_get_stats(s, &st), IPCN_BAD_REQUEST);
    st.size = sizeof st;
    assert_int_equal(ipcn_media_h264_get_stats(s, &st), IPCN_OK);
    ipcn_media_h264_free(s);

    ipcn_media_desc d;
    ipcn_media_desc_init(&d, IPCN_MEDIA_VIDEO);
    strcpy(d.video.codec, "h264");
    char enc[128];
    assert_int_equal(ipcn_media_encoding(&d, enc, sizeof enc), IPCN_OK);
    ipcn_media_desc back = {.size = 0};
    assert_int_equal(ipcn_media_desc_decode(enc, NULL, 0, &back), IPCN_BAD_REQUEST);
    back.size = sizeof back;
    assert_int_equal(ipcn_media_desc_decode(enc, NULL, 0, &back), IPCN_OK);
    assert_string_equal(back.video.codec, "h264");
    d.size = 0;
    assert_int_equal(ipcn_media_encoding(&d, enc, sizeof enc), IPCN_BAD_REQUEST);
    d.size = sizeof d + 4;
    assert_int_equal(ipcn_media_encoding(&d, enc, sizeof enc), IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in),
        cmocka_unit_test(test_out),
        cmocka_unit_test(test_public),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
