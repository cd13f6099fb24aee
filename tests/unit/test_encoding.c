/* SPDX-License-Identifier: MIT */
/* test_encoding.c — the encoding-string parser (src/value/encoding.c):
 * a table of good strings and what they parse to, a table of bad ones,
 * parameter lookups, integers and lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/util.h"
#include "value/value.h"

static int view_is(ipcn_strview v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.ptr, s, v.len) == 0;
}

static void test_good(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        const char *type, *subtype;
        const char *params; /* "k=v|k=v" */
    } v[] = {
        {"cbor", "cbor", "", ""},
        {"tensor", "tensor", "", ""},
        {"bytes", "bytes", "", ""},
        {"text/plain", "text", "plain", ""},
        {"application/json", "application", "json", ""},
        {"video/raw;format=rgb24;width=640;height=480", "video", "raw",
         "format=rgb24|width=640|height=480"},
        {"audio/pcm;rate=48000;channels=2;format=s16le", "audio", "pcm",
         "rate=48000|channels=2|format=s16le"},
        {"audio/opus", "audio", "opus", ""},
        {"video/h264", "video", "h264", ""},
        {"pointcloud;fields=x,y,z,intensity;dtype=float32", "pointcloud", "",
         "fields=x,y,z,intensity|dtype=float32"},
        {"text/plain; charset=utf-8", "text", "plain", "charset=utf-8"},
        {"text/plain ;\tcharset=\"utf-8\"", "text", "plain", "charset=utf-8"},
        {"video/mp4;codecs=\"avc1.42E01E, mp4a.40.2\"", "video", "mp4",
         "codecs=avc1.42E01E, mp4a.40.2"},
        {"a;k=\"\"", "a", "", "k="},
        {"application/vnd.ipcnet+cbor;v=1", "application", "vnd.ipcnet+cbor",
         "v=1"},
        {"x/y;k=a=b", "x", "y", "k=a=b"},
        {"x/y;url=http://h/p", "x", "y", "url=http://h/p"},
        {"Video/RAW;Width=1", "Video", "RAW", "Width=1"},
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(v); i++) {
        ipcn_encoding e;
        int st = ipcn_encoding_parse(v[i].s, &e);
        if (st != IPCN_OK)
            fail_msg("\"%s\": %d", v[i].s, st);
        assert_true(view_is(e.type, v[i].type));
        assert_true(view_is(e.subtype, v[i].subtype));
        char got[512] = "";
        for (uint32_t k = 0; k < e.nparams; k++) {
            size_t n = strlen(got);
            snprintf(got + n, sizeof got - n, "%s%.*s=%.*s", k ? "|" : "",
                     (int)e.params[k].key.len, e.params[k].key.ptr,
                     (int)e.params[k].value.len, e.params[k].value.ptr);
        }
        assert_string_equal(got, v[i].params);
        /* views point into the string */
        assert_true(e.type.ptr == v[i].s);
    }
}

static void test_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", " cbor", "cbor ", "cbor;", "cbor; ", "video/", "/raw", "video//raw",
        "video/raw/x", "video/raw;", "video/raw;width", "video/raw;width=",
        "video/raw;=1", "video/raw;;width=1", "a;b=1;B=2", "a;b=1;b=1",
        "a;b=\"x", "a;b=x y", "a;b=\"x\"y", "a;b=\"\\\"\"", "a;b=x\"",
        "a b", "-a", ".a", "a/-b", "a;-k=1", "caf\xc3\xa9", "a\tb",
        "a;k=\x7f", "a;k=\"\x01\"", "a;k=v\\", "a/b;k=1 ;", "\xff",
        "a;k=1;", "a=b",
    };
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(bad); i++) {
        ipcn_encoding e;
        memset(&e, 0x5a, sizeof e);
        if (ipcn_encoding_parse(bad[i], &e) != IPCN_BAD_REQUEST)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(e.nparams, 0x5a5a5a5a); /* untouched */
    }
    ipcn_encoding e;
    assert_int_equal(ipcn_encoding_parse(NULL, &e), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_encoding_parse("cbor", NULL), IPCN_BAD_REQUEST);

    /* lengths: 255 bytes are fine, 256 are not; names up to 127 */
    char s[300];
    memset(s, 'a', sizeof s);
    s[IPCN_ENCODING_MAX_LEN] = 0;
    memcpy(s, "x/y;k=", 6);
    assert_int_equal(ipcn_encoding_parse(s, &e), IPCN_OK);
    s[IPCN_ENCODING_MAX_LEN] = 'a';
    s[IPCN_ENCODING_MAX_LEN + 1] = 0;
    assert_int_equal(ipcn_encoding_parse(s, &e), IPCN_BAD_REQUEST);
    memset(s, 'a', 127);
    s[127] = 0;
    assert_int_equal(ipcn_encoding_parse(s, &e), IPCN_OK);
    s[127] = 'a';
    s[128] = 0;
    assert_int_equal(ipcn_encoding_parse(s, &e), IPCN_BAD_REQUEST);

    /* 16 parameters are fine, 17 are not */
    char p[256] = "x";
    for (int i = 0; i < 16; i++) {
        size_t n = strlen(p);
        snprintf(p + n, sizeof p - n, ";p%d=%d", i, i);
    }
    assert_int_equal(ipcn_encoding_parse(p, &e), IPCN_OK);
    assert_int_equal(e.nparams, 16);
    strcat(p, ";q=1");
    assert_int_equal(ipcn_encoding_parse(p, &e), IPCN_BAD_REQUEST);
}

static void test_lookups(void **state)
{
    (void)state;
    ipcn_encoding e;
    ipcn_strview v;
    int64_t x;
    assert_int_equal(
        ipcn_encoding_parse("Audio/PCM;rate=48000;channels=2;format=s16le;"
                            "gain=-12;zero=0;neg0=-0;lead=007;plus=+1;"
                            "max=9223372036854775807;min=-9223372036854775808;"
                            "over=9223372036854775808;under=-9223372036854775809;"
                            "empty=\"\"",
                            &e),
        IPCN_OK);
    assert_true(ipcn_encoding_is(&e, "audio/pcm"));
    assert_true(ipcn_encoding_is(&e, "AUDIO/*"));
    assert_false(ipcn_encoding_is(&e, "audio"));
    assert_false(ipcn_encoding_is(&e, "audio/opus"));
    assert_false(ipcn_encoding_is(&e, "video/*"));
    assert_false(ipcn_encoding_is(&e, "audio/pc"));
    assert_false(ipcn_encoding_is(NULL, "audio/pcm"));
    assert_int_equal(ipcn_encoding_param(&e, "FORMAT", &v), IPCN_OK);
    assert_true(view_is(v, "s16le"));
    assert_int_equal(ipcn_encoding_param(&e, "bits", &v), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_encoding_param(&e, NULL, &v), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_encoding_param_int(&e, "rate", &x), IPCN_OK);
    assert_int_equal(x, 48000);
    assert_int_equal(ipcn_encoding_param_int(&e, "gain", &x), IPCN_OK);
    assert_int_equal(x, -12);
    assert_int_equal(ipcn_encoding_param_int(&e, "zero", &x), IPCN_OK);
    assert_int_equal(x, 0);
    assert_int_equal(ipcn_encoding_param_int(&e, "max", &x), IPCN_OK);
    assert_true(x == INT64_MAX);
    assert_int_equal(ipcn_encoding_param_int(&e, "min", &x), IPCN_OK);
    assert_true(x == INT64_MIN);
    x = 5;
    static const char *const notint[] = {"format", "neg0", "lead", "plus",
                                         "over", "under", "empty"};
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(notint); i++)
        assert_int_equal(ipcn_encoding_param_int(&e, notint[i], &x),
                         IPCN_BAD_REQUEST);
    assert_int_equal(x, 5);
    assert_int_equal(ipcn_encoding_param_int(&e, "nope", &x), IPCN_NOT_FOUND);

    assert_int_equal(ipcn_encoding_parse("cbor", &e), IPCN_OK);
    assert_true(ipcn_encoding_is(&e, "cbor"));
    assert_true(ipcn_encoding_is(&e, "CBOR"));
    assert_false(ipcn_encoding_is(&e, "cbor/*"));
    assert_false(ipcn_encoding_is(&e, "cbo"));
}

static void test_lists(void **state)
{
    (void)state;
    ipcn_encoding e;
    ipcn_strview list, item;
    assert_int_equal(
        ipcn_encoding_parse("pointcloud;fields=x,y,z,intensity;dtype=float32",
                            &e),
        IPCN_OK);
    assert_int_equal(ipcn_encoding_param(&e, "fields", &list), IPCN_OK);
    static const char *const want[] = {"x", "y", "z", "intensity"};
    size_t pos = 0, k = 0;
    int st;
    while ((st = ipcn_encoding_list_next(list, &pos, &item)) == IPCN_OK) {
        assert_true(k < 4);
        assert_true(view_is(item, want[k++]));
    }
    assert_int_equal(st, IPCN_NO_DATA);
    assert_int_equal(k, 4);
    ipcn_strview dt;
    assert_int_equal(ipcn_encoding_param(&e, "dtype", &dt), IPCN_OK);
    char name[16];
    snprintf(name, sizeof name, "%.*s", (int)dt.len, dt.ptr);
    assert_int_equal(ipcn_dtype_from_name(name), IPCN_DTYPE_FLOAT32);

    static const char *const bad[] = {"x,,y", "x,", ",x", ","};
    for (size_t i = 0; i < IPCN__ARRAY_SIZE(bad); i++) {
        ipcn_strview l = {bad[i], strlen(bad[i])};
        pos = 0;
        while ((st = ipcn_encoding_list_next(l, &pos, &item)) == IPCN_OK)
            ;
        if (st != IPCN_BAD_REQUEST)
            fail_msg("list \"%s\": %d", bad[i], st);
    }
    ipcn_strview one = {"solo", 4};
    pos = 0;
    assert_int_equal(ipcn_encoding_list_next(one, &pos, &item), IPCN_OK);
    assert_int_equal(ipcn_encoding_list_next(one, &pos, &item), IPCN_NO_DATA);
    pos = 9;
    assert_int_equal(ipcn_encoding_list_next(one, &pos, &item),
                     IPCN_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
