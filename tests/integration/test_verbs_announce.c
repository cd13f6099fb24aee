/* SPDX-License-Identifier: MIT */
/*
 * test_verbs_announce.c — announce, withdraw and find: statuses, paths, limits,
 * remote versions and metadata, conflicts, patterns.
 *
 * One of the test_verbs_*.c programs: every verb of the public API and
 * every status it documents, between real processes: the test process is
 * one node, helper processes (ipcn-test-v_node) are the others, driven over
 * IPCNet itself through their "ctl/<name>" service.  Each test runs in a
 * network of its own; helpers are killed and nodes closed by the teardown,
 * even on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/stat.h>

#include "ipcnet.h"
#include "v_util.h"
#include "v_verbs.h"

/* ------------------------------------------------------------------ */
/* Announce, withdraw, find                                            */
/* ------------------------------------------------------------------ */

static uint64_t version_of(ipcn_node *n, const char *path)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, path, IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    uint64_t v = rl->items[0].version;
    ipcn_resource_list_free(rl);
    return v;
}

static void test_announce_statuses(void **state)
{
    (void)state;
    ipcn_node *n = v_open("an", NULL);
    assert_int_equal(ipcn_announce(n, "an/d", IPCN_DATA, "text/plain", NULL, 0),
                     IPCN_CREATED);
    uint64_t v1 = version_of(n, "an/d");
    assert_int_equal(ipcn_announce(n, "an/d", IPCN_DATA, "text/csv", "m", 1),
                     IPCN_OK);
    uint64_t v2 = version_of(n, "an/d");
    assert_true(v2 > v1);
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "an/d", IPCN_ANY, &rl), IPCN_OK);
    assert_string_equal(rl->items[0].encoding, "text/csv");
    assert_int_equal(rl->items[0].meta_len, 1);
    assert_memory_equal(rl->items[0].meta, "m", 1);
    ipcn_resource_list_free(rl);

    assert_int_equal(ipcn_announce(n, "an/s", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "an/e", IPCN_STREAM, "", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_find(n, "an/s", IPCN_ANY, &rl), IPCN_OK);
    assert_string_equal(rl->items[0].encoding, ""); /* NULL: unknown */
    assert_int_equal(rl->items[0].kind, IPCN_STREAM);
    assert_int_equal(rl->items[0].meta_len, 0);
    ipcn_resource_list_free(rl);

    /* Two nodes of this process: announcing is per node. */
    ipcn_node *m = v_open("an2", NULL);
    assert_int_equal(ipcn_announce(m, "an2/d", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);

    /* Offering: 100 (not 101), 207 when this node offers it already. */
    assert_int_equal(ipcn_offer(n, "an/svc", "text/plain",
                                dummy_handler, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_offer(n, "an/svc", "text/plain",
                                dummy_handler, NULL),
                     IPCN_CONFLICT);
    assert_int_equal(ipcn_offer(n, "an//x", NULL, dummy_handler, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_offer(n, "an/nofn", NULL, NULL, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_find(n, "an/svc", IPCN_SERVICE, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_string_equal(rl->items[0].encoding, "text/plain");
    ipcn_resource_list_free(rl);
}

static void test_announce_invalid_paths(void **state)
{
    (void)state;
    ipcn_node *n = v_open("ap", NULL);
    char p255[256], p256[257];
    memset(p255, 'p', 255);
    p255[255] = 0;
    for (int i = 10; i < 255; i += 10)
        p255[i] = '/';
    memcpy(p256, p255, 255);
    p256[255] = 'q';
    p256[256] = 0;
    const char *bad[] = {
        "",         "//a",      "a/",       "a//b",     "a/*/b",   "*",
        "**",       "a/**",     "a/b*",     "a/\x01",   "a\nb",    "a\tb",
        "a/\x1f",   "a\x7f",    "\xff",     "a/\xc0\xaf",      /* overlong */
        "\xed\xa0\x80",                                          /* surrogate */
        "a/\xe2\x82",                                            /* truncated */
        "\xf4\x90\x80\x80",                                      /* > U+10FFFF */
        p256,       "/",        /* "/a" is the absolute name of "a" */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int k = IPCN_DATA; k <= IPCN_SERVICE; k++)
            assert_int_equal(ipcn_announce(n, bad[i], (ipcn_kind)k, NULL, NULL, 0),
                             IPCN_BAD_REQUEST);
        assert_int_equal(ipcn_withdraw(n, bad[i]), IPCN_BAD_REQUEST);
    }
    assert_int_equal(ipcn_announce(n, NULL, IPCN_DATA, NULL, NULL, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_withdraw(n, NULL), IPCN_BAD_REQUEST);
    assert_int_equal(v_count(n, "**", IPCN_ANY), 0);

    /* The limits themselves are fine. */
    assert_int_equal(ipcn_announce(n, p255, IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\xa4\x96",
                                   IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "a", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "a.b/-_/~x", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(v_count(n, "**", IPCN_ANY), 4);
}

/* U+0080..U+009F are control characters too (Unicode category Cc). */
static void test_announce_c1_control(void **state)
{
    (void)state;
    ipcn_node *n = v_open("c1", NULL);
    assert_int_equal(ipcn_announce(n, "a/\xc2\x85", IPCN_DATA, NULL, NULL, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce(n, "a\xc2\x9b" "b", IPCN_DATA, NULL, NULL, 0),
                     IPCN_BAD_REQUEST);
}

static void test_announce_limits(void **state)
{
    (void)state;
    ipcn_node *n = v_open("al", NULL);
    char e255[256], e256[257];
    memset(e255, 'e', 255);
    e255[255] = 0;
    memset(e256, 'e', 256);
    e256[256] = 0;
    assert_int_equal(ipcn_announce(n, "al/e", IPCN_DATA, e256, NULL, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce(n, "al/e", IPCN_DATA, e255, NULL, 0),
                     IPCN_CREATED);
    unsigned char *meta = malloc((64u << 10) + 1);
    assert_non_null(meta);
    for (size_t i = 0; i <= 64u << 10; i++)
        meta[i] = (unsigned char)(i * 13);
    assert_int_equal(ipcn_announce(n, "al/m", IPCN_DATA, NULL, meta, (64u << 10) + 1),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce(n, "al/m", IPCN_DATA, NULL, meta, 64u << 10),
                     IPCN_CREATED);
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "al/m", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->items[0].meta_len, 64u << 10);
    assert_memory_equal(rl->items[0].meta, meta, 64u << 10);
    ipcn_resource_list_free(rl);
    free(meta);
    const int kinds[] = {IPCN_ANY, 4, 99, -1};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        assert_int_equal(ipcn_announce(n, "al/k", (ipcn_kind)kinds[i], NULL, NULL, 0),
                         IPCN_BAD_REQUEST);
    assert_int_equal(v_count(n, "al/k", IPCN_ANY), 0);
    assert_int_equal(ipcn_announce(NULL, "al/x", IPCN_DATA, NULL, NULL, 0),
                     IPCN_BAD_REQUEST);
}

static void test_announce_remote_version_and_meta(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rvt", NULL);
    v_spawn("rv", "datam:rv/m:65536", "data:rv/d:text/plain", NULL);
    v_wait_helper(n, "rv");
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "rv/**", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 2);
    assert_string_equal(rl->items[0].path, "rv/d");
    assert_string_equal(rl->items[1].path, "rv/m");
    const ipcn_resource *m = &rl->items[1];
    assert_int_equal(m->kind, IPCN_DATA);
    assert_string_equal(m->encoding, "application/cbor");
    assert_string_equal(m->provider, "rv");
    assert_int_equal(m->meta_len, 65536);
    const unsigned char *mb = m->meta;
    for (size_t i = 0; i < 65536; i++)
        if (mb[i] != (unsigned char)((i * 7 + 3) & 0xff))
            fail_msg("meta byte %zu differs", i);
    uint64_t v1 = rl->items[0].version;
    ipcn_resource_list_free(rl);

    /* Re-announced by the helper: the version goes up here too. */
    assert_int_equal(v_ctl(n, "rv", NULL, "announce rv/d data text/x"), IPCN_OK);
    assert_int_equal(ipcn_find(n, "rv/d", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_true(rl->items[0].version > v1);
    assert_string_equal(rl->items[0].encoding, "text/x");
    ipcn_resource_list_free(rl);
    assert_int_equal(v_ctl(n, "rv", NULL, "announce rv/new stream x"), IPCN_CREATED);
    assert_int_equal(v_count(n, "rv/new", IPCN_STREAM), 1);
}

static void test_announce_conflict(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tcf", NULL);
    pid_t h = v_spawn("cf", "data:cf/d", "stream:cf/s", "echo:cf/svc", NULL);
    v_wait_helper(n, "cf");
    assert_int_equal(ipcn_announce(n, "cf/d", IPCN_DATA, NULL, NULL, 0), IPCN_CONFLICT);
    assert_int_equal(ipcn_announce(n, "cf/s", IPCN_STREAM, NULL, NULL, 0), IPCN_CONFLICT);
    assert_int_equal(ipcn_announce(n, "cf/d", IPCN_STREAM, NULL, NULL, 0), IPCN_CONFLICT);
    assert_int_equal(ipcn_announce(n, "cf/s", IPCN_DATA, NULL, NULL, 0), IPCN_CONFLICT);
    /* The refused announcements left nothing behind. */
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "cf/*", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 3);
    for (size_t i = 0; i < rl->count; i++)
        assert_string_equal(rl->items[i].provider, "cf");
    ipcn_resource_list_free(rl);

    /* Two providers of one service are fine. */
    assert_int_equal(ipcn_offer(n, "cf/svc", NULL, dummy_handler, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_find(n, "cf/svc", IPCN_SERVICE, &rl), IPCN_OK);
    assert_int_equal(rl->count, 2);
    assert_string_equal(rl->items[0].provider, "cf"); /* sorted by provider */
    assert_string_equal(rl->items[1].provider, "tcf");
    ipcn_resource_list_free(rl);

    /* The other way round: the helper cannot take the test's data path. */
    assert_int_equal(ipcn_announce(n, "cf/mine", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(v_ctl(n, "cf", NULL, "announce cf/mine data x"), IPCN_CONFLICT);
    assert_int_equal(v_ctl(n, "cf", NULL, "announce cf/mine stream x"), IPCN_CONFLICT);

    /* Once the provider left, the path is free. */
    assert_int_equal(v_ctl(n, "cf", NULL, "exit"), IPCN_OK);
    assert_true(v_wait_count(n, "cf/d", IPCN_ANY, 0, V_WAIT_MS));
    assert_int_equal(ipcn_announce(n, "cf/d", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(v_reap(h, V_WAIT_MS), 0);
}

static void test_withdraw_local(void **state)
{
    (void)state;
    ipcn_node *n = v_open("wl", NULL);
    assert_int_equal(ipcn_withdraw(n, "wl/none"), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_withdraw(n, "wl//x"), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_withdraw(n, ""), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce(n, "wl/d", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_offer(n, "wl/svc", NULL, dummy_handler, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_withdraw(n, "wl/d"), IPCN_OK);
    assert_int_equal(ipcn_withdraw(n, "wl/d"), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_withdraw(n, "wl/svc"), IPCN_OK);
    assert_int_equal(v_count(n, "**", IPCN_ANY), 0);
    assert_int_equal(ipcn_announce(n, "wl/d", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    /* Another node's resource is not this node's to withdraw. */
    ipcn_node *m = v_open("wl2", NULL);
    assert_int_equal(ipcn_withdraw(m, "wl/d"), IPCN_NOT_FOUND);
}

static void test_withdraw_remote(void **state)
{
    (void)state;
    ipcn_node *n = v_open("wrt", NULL);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "wr/**", 0, v_collect, c, &sub), IPCN_OK);
    v_spawn("wr", "stream:wr/s", "data:wr/d", NULL);
    v_wait_helper(n, "wr");
    assert_int_equal(v_ctl(n, "wr", NULL, "burst wr/s 1"), IPCN_OK);
    assert_int_equal(v_ctl(n, "wr", NULL, "withdraw wr/s"), IPCN_OK);
    /* The withdrawal came before the control answer. */
    assert_int_equal(v_count(n, "wr/s", IPCN_ANY), 0);
    assert_int_equal(v_count(n, "wr/d", IPCN_ANY), 1);
    assert_int_equal(v_ctl(n, "wr", NULL, "withdraw wr/s"), IPCN_NOT_FOUND);
    assert_true(v_wait_samples(n, c, 2, V_WAIT_MS));
    v_pump(n, 50);
    assert_int_equal(v_coll_count(c), 2);
    assert_int_equal(c->s[0].status, IPCN_OK);
    assert_string_equal(c->s[0].data, "v1");
    assert_int_equal(c->s[1].status, IPCN_SERVICE_UNAVAILABLE);
    assert_string_equal(c->s[1].path, "wr/s");
    assert_int_equal(c->s[1].len, 0);
    assert_string_equal(c->s[1].src, "wr");
    /* A 303 notice is not a sample. */
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 1);
    assert_int_equal(ss.lost, 0);
    v_coll_free(c);
}

static void test_withdraw_local_subscribers(void **state)
{
    (void)state;
    ipcn_node *n = v_open("wls", NULL);
    assert_int_equal(ipcn_announce(n, "wls/s", IPCN_STREAM, "text/plain", NULL, 0),
                     IPCN_CREATED);
    v_coll *c = v_coll_new();
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "wls/**", 0, v_collect, c, &sub), IPCN_OK);
    v_spawn("wlh", NULL);
    v_wait_helper(n, "wlh");
    ipcn_msg *m = NULL;
    assert_int_equal(v_ctl(n, "wlh", &m, "sub wls/** 16"), IPCN_OK);
    assert_non_null(m);
    unsigned id = (unsigned)atoi(m->data);
    ipcn_msg_free(m);
    assert_int_equal(ipcn_publish(n, "wls/s", "x", 1), IPCN_OK);
    assert_int_equal(ipcn_withdraw(n, "wls/s"), IPCN_OK);
    assert_true(v_wait_samples(n, c, 2, V_WAIT_MS));
    assert_int_equal(c->s[0].status, IPCN_OK);
    assert_int_equal(c->s[1].status, IPCN_SERVICE_UNAVAILABLE);
    assert_string_equal(c->s[1].path, "wls/s");
    assert_int_equal(c->s[1].len, 0);
    assert_string_equal(c->s[1].src, "wls");

    m = NULL;
    assert_int_equal(v_ctl(n, "wlh", &m, "take %u 2000", id), IPCN_OK);
    assert_non_null(m);
    assert_string_equal(m->data, "100 1 wls/s wls x");
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(v_ctl(n, "wlh", &m, "take %u 2000", id), IPCN_OK);
    assert_non_null(m);
    assert_string_equal(m->data, "303 0 wls/s wls ");
    ipcn_msg_free(m);
    v_coll_free(c);
}

static void check_sorted(const ipcn_resource_list *rl)
{
    for (size_t i = 1; i < rl->count; i++) {
        int c = strcmp(rl->items[i - 1].path, rl->items[i].path);
        if (c == 0)
            c = strcmp(rl->items[i - 1].provider, rl->items[i].provider);
        assert_true(c < 0);
    }
}

static void expect_find(ipcn_node *n, const char *pattern, ipcn_kind kind,
                        const char *const *want)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, pattern, kind, &rl), IPCN_OK);
    size_t k = 0;
    while (want[k])
        k++;
    if (rl->count != k) {
        for (size_t i = 0; i < rl->count; i++)
            fprintf(stderr, "  find %s: %s (%s)\n", pattern, rl->items[i].path,
                    rl->items[i].provider);
        fail_msg("find(%s, %d): %zu results, want %zu", pattern, kind, rl->count, k);
    }
    for (size_t i = 0; i < k; i++) {
        char got[400];
        snprintf(got, sizeof got, "%s@%s", rl->items[i].path, rl->items[i].provider);
        assert_string_equal(got, want[i]);
    }
    check_sorted(rl);
    ipcn_resource_list_free(rl);
}

static void test_find_patterns(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tf", NULL);
    assert_int_equal(ipcn_announce(n, "f/a/x", IPCN_DATA, "text/plain", "m1", 2),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce(n, "f/a/y", IPCN_STREAM, NULL, NULL, 0), IPCN_CREATED);
    assert_int_equal(ipcn_offer(n, "f/svc", NULL, dummy_handler, NULL),
                     IPCN_OK);
    v_spawn("hf", "data:f/b/x", "stream:f/a/z", "echo:f/svc", "datam:f/b/m:100", NULL);
    v_wait_helper(n, "hf");

    expect_find(n, "f/*/x", IPCN_ANY, (const char *[]){"f/a/x@tf", "f/b/x@hf", NULL});
    expect_find(n, "f/**", IPCN_ANY,
                (const char *[]){"f/a/x@tf", "f/a/y@tf", "f/a/z@hf", "f/b/m@hf",
                                 "f/b/x@hf", "f/svc@hf", "f/svc@tf", NULL});
    expect_find(n, "**", IPCN_ANY,
                (const char *[]){"ctl/hf@hf", "f/a/x@tf", "f/a/y@tf", "f/a/z@hf",
                                 "f/b/m@hf", "f/b/x@hf", "f/svc@hf", "f/svc@tf", NULL});
    expect_find(n, "f/a/*", IPCN_ANY,
                (const char *[]){"f/a/x@tf", "f/a/y@tf", "f/a/z@hf", NULL});
    expect_find(n, "f/**/x", IPCN_ANY, (const char *[]){"f/a/x@tf", "f/b/x@hf", NULL});
    expect_find(n, "**/x", IPCN_ANY, (const char *[]){"f/a/x@tf", "f/b/x@hf", NULL});
    expect_find(n, "f/a/x/**", IPCN_ANY, (const char *[]){"f/a/x@tf", NULL});
    expect_find(n, "f/a/x", IPCN_ANY, (const char *[]){"f/a/x@tf", NULL});
    expect_find(n, "*", IPCN_ANY, (const char *[]){NULL});
    expect_find(n, "f/*", IPCN_ANY, (const char *[]){"f/svc@hf", "f/svc@tf", NULL});
    expect_find(n, "g/**", IPCN_ANY, (const char *[]){NULL});
    expect_find(n, "f/**", IPCN_DATA,
                (const char *[]){"f/a/x@tf", "f/b/m@hf", "f/b/x@hf", NULL});
    expect_find(n, "f/**", IPCN_STREAM, (const char *[]){"f/a/y@tf", "f/a/z@hf", NULL});
    expect_find(n, "**", IPCN_SERVICE,
                (const char *[]){"ctl/hf@hf", "f/svc@hf", "f/svc@tf", NULL});

    /* The fields, own and remote. */
    ipcn_peer hp = v_peer(n, "hf");
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "f/*/x", IPCN_DATA, &rl), IPCN_OK);
    assert_int_equal(rl->count, 2);
    assert_string_equal(rl->items[0].provider, "tf");
    assert_true(rl->items[0].provider_id == ipcn_node_id(n));
    assert_string_equal(rl->items[0].encoding, "text/plain");
    assert_int_equal(rl->items[0].meta_len, 2);
    assert_memory_equal(rl->items[0].meta, "m1", 2);
    assert_true(rl->items[0].version >= 1);
    assert_int_equal(rl->items[1].kind, IPCN_DATA);
    assert_true(rl->items[1].provider_id == hp.id);
    assert_int_equal(rl->items[1].meta_len, 0);
    assert_string_equal(rl->items[1].encoding, "");
    ipcn_resource_list_free(rl);
    assert_int_equal(ipcn_find(n, "f/b/m", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->items[0].meta_len, 100);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(((const unsigned char *)rl->items[0].meta)[i],
                         (unsigned char)((i * 7 + 3) & 0xff));
    ipcn_resource_list_free(rl);
    ipcn_resource_list_free(NULL);
}

static void test_find_invalid(void **state)
{
    (void)state;
    ipcn_node *n = v_open("fi", NULL);
    assert_int_equal(ipcn_announce(n, "a/b", IPCN_DATA, NULL, NULL, 0), IPCN_CREATED);
    ipcn_resource_list *const sentinel = (ipcn_resource_list *)(uintptr_t)0x1;
    const char *bad[] = {"a/**b", "a/b*", "*a", "a/***", "", "//a", "a/", "a//b",
                         "a\x01", "\xff", "/"}; /* "/a": "a", absolute */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ipcn_resource_list *rl = sentinel;
        assert_int_equal(ipcn_find(n, bad[i], IPCN_ANY, &rl), IPCN_BAD_REQUEST);
        assert_ptr_equal(rl, sentinel);
    }
    ipcn_resource_list *rl = sentinel;
    assert_int_equal(ipcn_find(n, NULL, IPCN_ANY, &rl), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_find(n, "**", (ipcn_kind)4, &rl), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_find(n, "**", (ipcn_kind)-1, &rl), IPCN_BAD_REQUEST);
    assert_ptr_equal(rl, sentinel);
    assert_int_equal(ipcn_find(n, "**", IPCN_ANY, NULL), IPCN_BAD_REQUEST);
}

static void test_pattern_match(void **state)
{
    (void)state;
    static const struct {
        const char *pat, *path;
        int want;
    } t[] = {
        {"a/b", "a/b", 1},         {"a/b", "a/c", 0},        {"a/b", "a/b/c", 0},
        {"a/b/c", "a/b", 0},       {"a", "ab", 0},           {"ab", "a", 0},
        {"a/*", "a/b", 1},         {"a/*", "a/b/c", 0},      {"a/*", "a", 0},
        {"*", "a", 1},             {"*", "a/b", 0},          {"*/b", "a/b", 1},
        {"*/*", "a/b", 1},         {"a/**", "a", 1},         {"a/**", "a/b/c", 1},
        {"a/**", "b/a", 0},        {"**", "x", 1},           {"**", "x/y/z", 1},
        {"a/**/c", "a/c", 1},      {"a/**/c", "a/b/d/c", 1}, {"a/**/c", "a/b/d", 0},
        {"a/**/c", "a/c/d", 0},    {"**/z", "z", 1},         {"**/z", "a/b/z", 1},
        {"a/**/**/b", "a/b", 1},   {"a/*/**", "a", 0},       {"a/*/**", "a/b", 1},
        {"**/b/**", "a/b/c", 1},   {"**/b/**", "a/c", 0},    {"caf\xc3\xa9/*", "caf\xc3\xa9/x", 1},
        /* invalid pattern or path: no match */
        {"a/b*", "a/bc", 0},       {"a/**b", "a/xb", 0},     {"**", "a//b", 0},
        {"", "", 0},               {"a//b", "a//b", 0},      {"**", "a/*", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int got = ipcn_pattern_match(t[i].pat, t[i].path);
        if (got != t[i].want)
            fail_msg("ipcn_pattern_match(\"%s\", \"%s\") = %d, want %d", t[i].pat,
                     t[i].path, got, t[i].want);
    }
    assert_int_equal(ipcn_pattern_match(NULL, "a"), 0);
    assert_int_equal(ipcn_pattern_match("a", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_announce_statuses),
        V_TEST(test_announce_invalid_paths),
        V_TEST(test_announce_c1_control),
        V_TEST(test_announce_limits),
        V_TEST(test_announce_remote_version_and_meta),
        V_TEST(test_announce_conflict),
        V_TEST(test_withdraw_local),
        V_TEST(test_withdraw_remote),
        V_TEST(test_withdraw_local_subscribers),
        V_TEST(test_find_patterns),
        V_TEST(test_find_invalid),
        V_TEST(test_pattern_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
