/* SPDX-License-Identifier: MIT */
/*
 * test_fuzz_replay.c — every seed of tests/fuzz/corpus/<harness>/ and every
 * crash ever saved in tests/fuzz/crashes/<harness>/ is run through the
 * libFuzzer harness code, here compiled by the ordinary compiler without
 * libFuzzer, so that a fixed crash stays fixed in every build.  Each seed
 * is also run with every single bit flipped, a small deterministic taste of
 * what the fuzzer does.
 *
 * The harness sources are included with their entry points renamed.  The
 * source tree is found from this file's own path (CMake compiles it by
 * absolute path); an argument overrides it: test_fuzz_replay <tests/fuzz>.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define LLVMFuzzerTestOneInput fuzz_frame_one
#include "../fuzz/fuzz_frame.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_names_one
#include "../fuzz/fuzz_names.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_cbor_one
#include "../fuzz/fuzz_cbor.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_files_one
#include "../fuzz/fuzz_files.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_policy_one
#include "../fuzz/fuzz_policy.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_manifest_one
#include "../fuzz/fuzz_manifest.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_trust_one
#include "../fuzz/fuzz_trust.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_gwconf_one
#include "../fuzz/fuzz_gwconf.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_remap_one
#include "../fuzz/fuzz_remap.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_schema_one
#include "../fuzz/fuzz_schema.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_json_one
#include "../fuzz/fuzz_json.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_history_one
#include "../fuzz/fuzz_history.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_prov_one
#include "../fuzz/fuzz_prov.c"
#undef LLVMFuzzerTestOneInput

typedef int (*harness_fn)(const uint8_t *, size_t);

static char fuzz_dir[PATH_MAX];

/* A whole file in memory (n = 0 for an empty file); NULL on error. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    uint8_t *p = malloc(cap);
    while (p) {
        len += fread(p + len, 1, cap - len, f);
        if (len < cap)
            break;
        uint8_t *q = realloc(p, cap *= 2);
        if (!q) {
            free(p);
            p = NULL;
        } else {
            p = q;
        }
    }
    if (p && ferror(f)) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = len;
    return p;
}

/* Run every file of fuzz_dir/sub through fn; flips: also each single-bit
 * flip of each file.  Returns the number of files; -1 when the directory
 * is missing. */
static long replay_dir(const char *sub, harness_fn fn, int flips)
{
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/%s", fuzz_dir, sub);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    long files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", ".gitkeep" */
        char path[sizeof dir + 256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n = 0;
        uint8_t *p = slurp(path, &n);
        if (!p)
            fail_msg("cannot read %s: %s", path, strerror(errno));
        fprintf(stderr, "replay %s/%s (%zu bytes)\n", sub, e->d_name, n);
        fn(p, n);
        if (flips) {
            for (size_t i = 0; i < n; i++) {
                for (int bit = 0; bit < 8; bit++) {
                    p[i] ^= (uint8_t)(1u << bit);
                    fn(p, n);
                    p[i] ^= (uint8_t)(1u << bit);
                }
            }
        }
        free(p);
        files++;
    }
    closedir(d);
    return files;
}

static void test_frame_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/frame", fuzz_frame_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/frame", fuzz_dir);
    assert_true(n >= (long)VEC_COUNT);
}

static void test_names_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/names", fuzz_names_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/names", fuzz_dir);
    assert_true(n > 0);
}

static void test_cbor_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/cbor", fuzz_cbor_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/cbor", fuzz_dir);
    assert_true(n > 0);
}

static void test_files_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/files", fuzz_files_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/files", fuzz_dir);
    assert_true(n > 0);
}

static void test_policy_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/policy", fuzz_policy_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/policy", fuzz_dir);
    assert_true(n > 0);
}

static void test_manifest_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/manifest", fuzz_manifest_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/manifest", fuzz_dir);
    assert_true(n > 0);
}

static void test_trust_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/trust", fuzz_trust_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/trust", fuzz_dir);
    assert_true(n > 0);
}

static void test_history_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/history", fuzz_history_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/history", fuzz_dir);
    assert_true(n > 0);
}

static void test_gwconf_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/gwconf", fuzz_gwconf_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/gwconf", fuzz_dir);
    assert_true(n > 0);
}

static void test_remap_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/remap", fuzz_remap_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/remap", fuzz_dir);
    assert_true(n > 0);
}

static void test_schema_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/schema", fuzz_schema_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/schema", fuzz_dir);
    assert_true(n > 0);
}

static void test_json_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/json", fuzz_json_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/json", fuzz_dir);
    assert_true(n > 0);
    if (replay_dir("crashes/json", fuzz_json_one, 0) < 0)
        fail_msg("no %s/crashes/json", fuzz_dir);
    static const uint8_t zero[1] = {0};
    fuzz_json_one(zero, 0);
    fuzz_json_one(zero, 1);
}

static void test_prov_corpus(void **state)
{
    (void)state;
    long n = replay_dir("corpus/prov", fuzz_prov_one, 1);
    if (n < 0)
        fail_msg("no %s/corpus/prov", fuzz_dir);
    assert_true(n > 0);
    if (replay_dir("crashes/prov", fuzz_prov_one, 0) < 0)
        fail_msg("no %s/crashes/prov", fuzz_dir);
    static const uint8_t zero[2] = {0, 0};
    for (size_t k = 0; k <= 2; k++)
        fuzz_prov_one(zero, k);
}

static void test_crashes(void **state)
{
    (void)state;
    if (replay_dir("crashes/frame", fuzz_frame_one, 0) < 0 ||
        replay_dir("crashes/names", fuzz_names_one, 0) < 0 ||
        replay_dir("crashes/cbor", fuzz_cbor_one, 0) < 0 ||
        replay_dir("crashes/files", fuzz_files_one, 0) < 0 ||
        replay_dir("crashes/policy", fuzz_policy_one, 0) < 0 ||
        replay_dir("crashes/manifest", fuzz_manifest_one, 0) < 0 ||
        replay_dir("crashes/trust", fuzz_trust_one, 0) < 0 ||
        replay_dir("crashes/gwconf", fuzz_gwconf_one, 0) < 0 ||
        replay_dir("crashes/remap", fuzz_remap_one, 0) < 0 ||
        replay_dir("crashes/schema", fuzz_schema_one, 0) < 0 ||
        replay_dir("crashes/history", fuzz_history_one, 0) < 0)
        fail_msg("no %s/crashes/{frame,names,cbor,files,policy,manifest,trust,gwconf,remap,"
                 "schema,history}",
                 fuzz_dir);
}

/* The frame seeds are the protocol's test vectors, byte for byte; rerun
 * gen_corpus when the vectors change. */
static void test_frame_seeds_are_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < VEC_COUNT; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/corpus/frame/%s", fuzz_dir,
                 vecs[i].name);
        size_t n = 0;
        uint8_t *p = slurp(path, &n);
        if (!p)
            fail_msg("missing seed %s", path);
        assert_int_equal(n, vecs[i].len);
        assert_memory_equal(p, vecs[i].bytes, n);
        free(p);
    }
}

/* Edge inputs no seed has. */
static void test_edge_inputs(void **state)
{
    (void)state;
    static const uint8_t zero[1] = {0};
    fuzz_frame_one(zero, 0);
    fuzz_frame_one(zero, 1);
    fuzz_names_one(zero, 0);
    fuzz_names_one(zero, 1);
    fuzz_names_one((const uint8_t *)"**\0", 3);
    fuzz_frame_one((const uint8_t *)"IPCN", 4);
    fuzz_cbor_one(zero, 0);
    fuzz_cbor_one(zero, 1);
    fuzz_files_one(zero, 0);
    fuzz_files_one(zero, 1);
    fuzz_policy_one(zero, 0);
    fuzz_policy_one(zero, 1);
    fuzz_manifest_one(zero, 0);
    fuzz_manifest_one(zero, 1);
    fuzz_trust_one(zero, 0);
    fuzz_trust_one(zero, 1);
    fuzz_gwconf_one(zero, 0);
    fuzz_gwconf_one(zero, 1);
    fuzz_remap_one(zero, 0);
    fuzz_remap_one(zero, 1);
    fuzz_remap_one((const uint8_t *)"\0\0/", 3);
    fuzz_schema_one(zero, 0);
    fuzz_schema_one(zero, 1);
    static const uint8_t big_k[3] = {0xff, 0xff, 0x60}; /* k past the end */
    fuzz_schema_one(big_k, sizeof big_k);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s", argv[1]);
    } else {
        /* <...>/tests/unit/test_fuzz_replay.c -> <...>/tests/fuzz */
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s", __FILE__);
        char *slash = strrchr(fuzz_dir, '/');
        if (!slash) {
            fprintf(stderr, "usage: %s <tests/fuzz directory>\n", argv[0]);
            return 2;
        }
        snprintf(slash, sizeof fuzz_dir - (size_t)(slash - fuzz_dir),
                 "/../fuzz");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_seeds_are_vectors),
        cmocka_unit_test(test_frame_corpus),
        cmocka_unit_test(test_names_corpus),
        cmocka_unit_test(test_cbor_corpus),
        cmocka_unit_test(test_files_corpus),
        cmocka_unit_test(test_policy_corpus),
        cmocka_unit_test(test_manifest_corpus),
        cmocka_unit_test(test_trust_corpus),
        cmocka_unit_test(test_history_corpus),
        cmocka_unit_test(test_gwconf_corpus),
        cmocka_unit_test(test_remap_corpus),
        cmocka_unit_test(test_prov_corpus),
        cmocka_unit_test(test_schema_corpus),
        cmocka_unit_test(test_json_corpus),
        cmocka_unit_test(test_crashes),
        cmocka_unit_test(test_edge_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
