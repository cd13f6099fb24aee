/* SPDX-License-Identifier: MIT */
/*
 * test_history.c — the debug history of data resources (ipcnet_history.h,
 * docs/protocol.md 10.6): values published by the provider and set by two
 * other processes listed in order with who set each and when, and their
 * exact bytes, from the provider itself and from a peer (the node service
 * "history"); a past version asked by a QUERY with its extension; the
 * bounds (depth and bytes, oldest dropped and counted); history off (204);
 * the network policy's `debug: {history: N}`; a principal that may not
 * read the resource gets 203 for its history as for its value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipcnet.h"
#include "ipcnet_replay.h"
#include "ipcnet_value.h"
#include "v_util.h"

static void set_by(ipcn_node *n, const char *helper, const char *value,
                   uint64_t want_version)
{
    char out[64] = "";
    assert_int_equal(v_ctl_text(n, helper, out, sizeof out, "set h/d %s %d",
                                value, V_WAIT_MS),
                     IPCN_OK);
    assert_int_equal(strtoull(out, NULL, 10), want_version);
}

typedef struct want {
    const char *value, *setter;
    int via;
    pid_t pid;
} want;

static void check_history(const ipcn_history *h, const want *w, size_t n,
                          const char *node)
{
    assert_string_equal(h->node, node);
    assert_string_equal(h->path, "h/d");
    assert_int_equal(h->depth, 8);
    assert_int_equal(h->current, n);
    assert_int_equal(h->dropped, 0);
    assert_int_equal(h->count, n);
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const ipcn_history_entry *e = &h->entries[i];
        assert_int_equal(e->version, i + 1);
        assert_int_equal(e->len, strlen(w[i].value));
        assert_non_null(e->data);
        assert_memory_equal(e->data, w[i].value, e->len);
        assert_string_equal(e->encoding, "text/plain");
        assert_string_equal(e->setter, w[i].setter);
        assert_int_equal(e->via, w[i].via);
        assert_int_equal(e->pid, w[i].pid);
        assert_int_equal(e->uid, (int32_t)getuid());
        assert_true(e->wall_ns > 1600000000ull * 1000000000ull);
        if (i) {
            assert_true(e->wall_ns >= h->entries[i - 1].wall_ns);
            assert_true(e->mono_ns >= h->entries[i - 1].mono_ns);
        }
        bytes += e->len;
    }
    assert_int_equal(h->bytes, bytes);
}

/* Published by the provider, set by two other processes: listed in
 * order, who and when, exact bytes; here and from a peer; past versions. */
static void test_history_sets(void **state)
{
    (void)state;
    ipcn_node *p = v_open("hp", NULL);
    assert_int_equal(ipcn_announce(p, "h/d", IPCN_DATA, "text/plain", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce_history(p, "h/d", 8, 0), IPCN_OK);
    assert_int_equal(ipcn_publish(p, "h/d", "p1", 2), IPCN_OK);
    pid_t sa = v_spawn("sa", NULL), sb = v_spawn("sb", NULL);
    v_wait_helper(p, "sa");
    v_wait_helper(p, "sb");
    set_by(p, "sa", "a1", 2);
    assert_int_equal(ipcn_publish(p, "h/d", "p2-longer", 9), IPCN_OK);
    set_by(p, "sb", "b1", 4);
    set_by(p, "sa", "a2", 5);
    uint64_t ver = 0;
    assert_int_equal(ipcn_set(p, "h/d", "own", 3, NULL, 0, 0, &ver), IPCN_OK);
    assert_int_equal(ver, 6);

    const want w[] = {{"p1", "hp", IPCN_HISTORY_PUBLISH, getpid()},
                      {"a1", "sa", IPCN_HISTORY_SET, sa},
                      {"p2-longer", "hp", IPCN_HISTORY_PUBLISH, getpid()},
                      {"b1", "sb", IPCN_HISTORY_SET, sb},
                      {"a2", "sa", IPCN_HISTORY_SET, sa},
                      {"own", "hp", IPCN_HISTORY_SET, getpid()}};
    ipcn_history *h = NULL;
    assert_int_equal(ipcn_history_get(p, "h/d", 0, V_WAIT_MS, &h), IPCN_OK);
    check_history(h, w, 6, "hp");
    ipcn_history_free(h);

    /* From a peer: the node service "@sys/hp/history". */
    assert_int_equal(ipcn_node_start_thread(p), IPCN_OK);
    ipcn_node *q = v_open("hq", NULL);
    assert_true(v_wait_count(q, "h/d", IPCN_DATA, 1, V_WAIT_MS));
    h = NULL;
    assert_int_equal(ipcn_history_get(q, "h/d", 0, V_WAIT_MS, &h), IPCN_OK);
    check_history(h, w, 6, "hp");
    ipcn_history_free(h);
    /* Without the values: sizes only. */
    h = NULL;
    assert_int_equal(ipcn_history_get(q, "h/d", IPCN_HISTORY_NO_VALUES,
                                      V_WAIT_MS, &h),
                     IPCN_OK);
    assert_int_equal(h->count, 6);
    assert_null(h->entries[2].data);
    assert_int_equal(h->entries[2].len, 9);
    ipcn_history_free(h);

    /* A past version: its exact bytes, version and time. */
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query_version(q, "h/d", 3, &m, V_WAIT_MS), IPCN_OK);
    assert_int_equal(m->len, 9);
    assert_memory_equal(m->data, "p2-longer", 9);
    assert_int_equal(m->seq, 3);
    assert_string_equal(m->encoding, "text/plain");
    assert_string_equal(m->src_name, "hp");
    assert_true(m->timestamp_ns > 0);
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(ipcn_query_version(p, "h/d", 4, &m, V_WAIT_MS), IPCN_OK);
    assert_memory_equal(m->data, "b1", 2);
    ipcn_msg_free(m);
    m = NULL;
    /* Never existed: 203, as no longer kept. */
    assert_int_equal(ipcn_query_version(q, "h/d", 99, &m, V_WAIT_MS),
                     IPCN_NOT_FOUND);
    assert_null(m);
    assert_int_equal(ipcn_query_version(q, "h/d", 0, &m, V_WAIT_MS),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_query_version(q, "h/none", 1, &m, 500),
                     IPCN_NOT_FOUND);
    /* The plain query still answers the current value. */
    assert_int_equal(ipcn_query(q, "h/d", &m, V_WAIT_MS), IPCN_OK);
    assert_int_equal(m->seq, 6);
    assert_memory_equal(m->data, "own", 3);
    ipcn_msg_free(m);
}

/* The bounds: depth and bytes; the oldest go first, counted. */
static void test_history_bounds(void **state)
{
    (void)state;
    ipcn_node *p = v_open("hb", NULL);
    assert_int_equal(ipcn_announce(p, "b/d", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce_history(p, "b/d", 3, 0), IPCN_OK);
    const char *vals[] = {"v1", "v2", "v3", "v4", "v5"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(ipcn_publish(p, "b/d", vals[i], 2), IPCN_OK);
    ipcn_history *h = NULL;
    assert_int_equal(ipcn_history_get(p, "b/d", 0, 0, &h), IPCN_OK);
    assert_int_equal(h->count, 3);
    assert_int_equal(h->dropped, 2);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h->entries[i].version, (uint64_t)i + 3);
        assert_memory_equal(h->entries[i].data, vals[i + 2], 2);
    }
    ipcn_history_free(h);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query_version(p, "b/d", 2, &m, 0), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_query_version(p, "b/d", 3, &m, 0), IPCN_OK);
    ipcn_msg_free(m);

    /* Bytes: 5 bytes at most keeps two of 2 bytes; a value larger than
     * the bound is kept alone. */
    assert_int_equal(ipcn_announce_history(p, "b/d", 3, 5), IPCN_OK);
    h = NULL;
    assert_int_equal(ipcn_history_get(p, "b/d", 0, 0, &h), IPCN_OK);
    assert_int_equal(h->count, 2);
    assert_int_equal(h->bytes, 4);
    assert_int_equal(h->dropped, 3);
    ipcn_history_free(h);
    assert_int_equal(ipcn_publish(p, "b/d", "larger", 6), IPCN_OK);
    h = NULL;
    assert_int_equal(ipcn_history_get(p, "b/d", 0, 0, &h), IPCN_OK);
    assert_int_equal(h->count, 1);
    assert_int_equal(h->entries[0].version, 6);
    assert_int_equal(h->dropped, 5);
    ipcn_history_free(h);

    /* Bad arguments. */
    assert_int_equal(ipcn_announce_history(p, "b/d", IPCN_HISTORY_MAX + 1, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce_history(p, "b/d", 1,
                                           IPCN_HISTORY_BYTES_MAX + 1),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce_history(p, "b/none", 1, 0), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_announce(p, "b/s", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce_history(p, "b/s", 1, 0),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_history_get(p, "b/d", 0x80, 0, &h),
                     IPCN_BAD_REQUEST);
}

/* A provider that numbers its samples (ipcn_publish_seq(): a recording
 * played in a loop) going back or repeating one: the history starts
 * again, what was kept counted as dropped, so that the listing's versions
 * stay strictly increasing and each version names one value. */
static void test_history_seq_back(void **state)
{
    (void)state;
    ipcn_node *p = v_open("hq", NULL);
    assert_int_equal(ipcn_announce(p, "q/d", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce_history(p, "q/d", 8, 0), IPCN_OK);
    assert_int_equal(ipcn_publish_seq(p, "q/d", "a5", 2, 5), IPCN_OK);
    assert_int_equal(ipcn_publish_seq(p, "q/d", "a6", 2, 6), IPCN_OK);
    assert_int_equal(ipcn_publish_seq(p, "q/d", "b2", 2, 2), IPCN_OK);
    ipcn_history *h = NULL;
    assert_int_equal(ipcn_history_get(p, "q/d", 0, 0, &h), IPCN_OK);
    assert_int_equal(h->count, 1);
    assert_int_equal(h->dropped, 2);
    assert_int_equal(h->entries[0].version, 2);
    assert_memory_equal(h->entries[0].data, "b2", 2);
    ipcn_history_free(h);
    /* The same number again: the newer value is the one kept. */
    assert_int_equal(ipcn_publish_seq(p, "q/d", "c2", 2, 2), IPCN_OK);
    assert_int_equal(ipcn_publish(p, "q/d", "c3", 2), IPCN_OK);
    h = NULL;
    assert_int_equal(ipcn_history_get(p, "q/d", 0, 0, &h), IPCN_OK);
    assert_int_equal(h->count, 2);
    assert_int_equal(h->dropped, 3);
    assert_int_equal(h->entries[0].version, 2);
    assert_int_equal(h->entries[1].version, 3);
    assert_int_equal(h->current, 3);
    ipcn_history_free(h);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query_version(p, "q/d", 2, &m, 0), IPCN_OK);
    assert_memory_equal(m->data, "c2", 2);
    ipcn_msg_free(m);
    m = NULL;
    assert_int_equal(ipcn_query_version(p, "q/d", 5, &m, 0), IPCN_NOT_FOUND);
}

/* Off by default, and off again: 204, for the listing and a version. */
static void test_history_off(void **state)
{
    (void)state;
    ipcn_node *p = v_open("ho", NULL);
    assert_int_equal(ipcn_announce(p, "o/d", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_publish(p, "o/d", "x", 1), IPCN_OK);
    ipcn_history *h = NULL;
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_history_get(p, "o/d", 0, 0, &h),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_query_version(p, "o/d", 1, &m, 0),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_announce_history(p, "o/d", 4, 0), IPCN_OK);
    assert_int_equal(ipcn_publish(p, "o/d", "y", 1), IPCN_OK);
    assert_int_equal(ipcn_query_version(p, "o/d", 2, &m, 0), IPCN_OK);
    ipcn_msg_free(m);
    m = NULL;
    /* The value of before it was on was not entered. */
    assert_int_equal(ipcn_query_version(p, "o/d", 1, &m, 0), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_announce_history(p, "o/d", 0, 0), IPCN_OK);
    assert_int_equal(ipcn_history_get(p, "o/d", 0, 0, &h),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_null(h);
    /* A stream: 204 too; nothing: 203. */
    assert_int_equal(ipcn_announce(p, "o/s", IPCN_STREAM, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_history_get(p, "o/s", 0, 0, &h),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_history_get(p, "o/none", 0, 0, &h), IPCN_NOT_FOUND);
}

static void write_policy(const char *body)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.yaml", tu_net_dir(), v_network);
    setenv("IPCNET_NETWORK", v_network, 1); /* tu_net_dir() unset it */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "version: 1\ndefault: allow\n%s", body);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
    setenv("IPCNET_POLICY", path, 1);
}

/* The network's policy turns it on for every data resource; a node that
 * may not read a resource may not read its history: 203. */
static void test_history_policy(void **state)
{
    (void)state;
    write_policy("debug:\n  history: 2\n"
                 "rules:\n  - deny: read\n    who: \"node:snoop\"\n"
                 "    what: \"n/**\"\n");
    ipcn_node *p = v_open("np", NULL);
    assert_int_equal(ipcn_announce(p, "n/d", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ipcn_publish(p, "n/d", "abc", 3), IPCN_OK);
    ipcn_history *h = NULL;
    assert_int_equal(ipcn_history_get(p, "n/d", 0, 0, &h), IPCN_OK);
    assert_int_equal(h->depth, 2);
    assert_int_equal(h->count, 2);
    assert_int_equal(h->entries[0].version, 2);
    assert_int_equal(h->dropped, 1);
    ipcn_history_free(h);
    h = NULL;
    /* The provider's word beats the network's. */
    assert_int_equal(ipcn_announce(p, "n/quiet", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_announce_history(p, "n/quiet", 0, 0), IPCN_OK);
    assert_int_equal(ipcn_publish(p, "n/quiet", "q", 1), IPCN_OK);
    assert_int_equal(ipcn_history_get(p, "n/quiet", 0, 0, &h),
                     IPCN_METHOD_NOT_ALLOWED);
    assert_int_equal(ipcn_node_start_thread(p), IPCN_OK);

    ipcn_node *ok = v_open("reader", NULL);
    assert_true(v_wait_count(ok, "n/d", IPCN_DATA, 1, V_WAIT_MS));
    assert_int_equal(ipcn_history_get(ok, "n/d", 0, V_WAIT_MS, &h), IPCN_OK);
    assert_int_equal(h->count, 2);
    ipcn_history_free(h);
    h = NULL;

    ipcn_node *s = v_open("snoop", NULL);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (!v_peer(s, "np").id && tu_now_ms() < end)
        v_pump(s, 20);
    assert_true(v_peer(s, "np").id != 0);
    v_pump(s, 50);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_history_get(s, "n/d", 0, 1000, &h), IPCN_NOT_FOUND);
    assert_int_equal(ipcn_query_version(s, "n/d", 3, &m, 1000),
                     IPCN_NOT_FOUND);
    /* Asked of the provider's service by name, past its directory: the
     * provider refuses it as it refuses the value, 203 with no body. */
    uint8_t body[64];
    ipcn_cbor_writer w;
    size_t len;
    ipcn_cbor_writer_init(&w, body, sizeof body, 0);
    ipcn_cbor_put_map(&w, 1);
    ipcn_cbor_put_cstr(&w, "path");
    ipcn_cbor_put_cstr(&w, "n/d");
    assert_int_equal(ipcn_cbor_writer_finish(&w, &len), IPCN_OK);
    m = NULL;
    int st = ipcn_request(s, "@sys/np/history", body, len, "cbor", &m,
                          V_WAIT_MS);
    assert_int_equal(st, IPCN_NOT_FOUND);
    assert_non_null(m);
    assert_int_equal(m->len, 0);
    ipcn_msg_free(m);
    /* The reader asking the same way gets it. */
    m = NULL;
    assert_int_equal(ipcn_request(ok, "@sys/np/history", body, len, "cbor", &m,
                                  V_WAIT_MS),
                     IPCN_OK);
    h = NULL;
    assert_int_equal(ipcn_history_decode(m->data, m->len, &h), IPCN_OK);
    assert_int_equal(h->count, 2);
    ipcn_history_free(h);
    ipcn_msg_free(m);
    unsetenv("IPCNET_POLICY");
}

/* The listing's status of path, pumping n (a policy reloads from n's own
 * event loop) until it is expect or V_WAIT_MS passed. */
static int history_status_becomes(ipcn_node *n, const char *path, int expect)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    int st;
    for (;;) {
        ipcn_history *h = NULL;
        st = ipcn_history_get(n, path, 0, 0, &h);
        if (st == IPCN_OK && h->count != 0)
            st = -1; /* not what a change of policy leaves */
        ipcn_history_free(h);
        if (st == expect || tu_now_ms() >= end)
            return st;
        v_pump(n, 20);
    }
}

/* The policy turning history on or off applies at once to the resources
 * there are: an empty history (not 204) until the next value, and none
 * (204, nothing listed) as soon as it is off. */
static void test_history_policy_reload(void **state)
{
    (void)state;
    write_policy("");
    ipcn_node *p = v_open("pr", NULL);
    assert_int_equal(ipcn_announce(p, "r/d", IPCN_DATA, NULL, NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_publish(p, "r/d", "a", 1), IPCN_OK);
    ipcn_history *h = NULL;
    assert_int_equal(ipcn_history_get(p, "r/d", 0, 0, &h),
                     IPCN_METHOD_NOT_ALLOWED);
    write_policy("debug:\n  history: 3\n");
    assert_int_equal(history_status_becomes(p, "r/d", IPCN_OK), IPCN_OK);
    assert_int_equal(ipcn_publish(p, "r/d", "b", 1), IPCN_OK);
    assert_int_equal(ipcn_history_get(p, "r/d", 0, 0, &h), IPCN_OK);
    assert_int_equal(h->count, 1);
    assert_int_equal(h->depth, 3);
    ipcn_history_free(h);
    write_policy("");
    assert_int_equal(history_status_becomes(p, "r/d", IPCN_METHOD_NOT_ALLOWED),
                     IPCN_METHOD_NOT_ALLOWED);
    unsetenv("IPCNET_POLICY");
}

/* The decoder of the listing refuses what is not one. */
static void test_history_decode_bad(void **state)
{
    (void)state;
    ipcn_history *h = NULL;
    assert_int_equal(ipcn_history_decode("\xa0", 1, &h), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_history_decode("\xff", 1, &h), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_history_decode(NULL, 0, &h), IPCN_BAD_REQUEST);
    assert_null(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_history_sets),   V_TEST(test_history_bounds),
        V_TEST(test_history_off),    V_TEST(test_history_policy),
        V_TEST(test_history_decode_bad), V_TEST(test_history_seq_back),
        V_TEST(test_history_policy_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
