/* SPDX-License-Identifier: MIT */
/*
 * test_typed_hostile.c — typed data and streams (ipcnet_schema.h) against
 * a publisher that skips its own check: a raw client (raw_client.h,
 * nothing of libipcnet) announces typed resources to a library node and
 * sends it values of another type.  The node drops them before its
 * application sees them and counts them (ipcn_sub_stats.nonconforming,
 * ipcn_node_stats.typed_dropped; a query's answer ends 302), delivers the
 * values that conform, untyped resources untouched; and it refuses (ERROR
 * 200, counted as a bad frame, the link kept) announcements whose
 * "schema" is no valid type: unknown names, too deep, too many fields,
 * the key twice, a typed resource whose values are not CBOR.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "raw_client.h"
#include "testutil.h"
#include "cbor_lit.h"

#define VICTIM "tyv"
#define ST_BAD_GATEWAY 302

static ipcn_node *victim;

static int setup(void **state)
{
    (void)state;
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/%s.sock",
             raw_target.dir, VICTIM);
    int st = ipcn_node_open(&victim, VICTIM, NULL);
    if (st != IPCN_OK)
        fail_msg("ipcn_node_open: %d", st);
    assert_int_equal(ipcn_node_start_thread(victim), IPCN_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    raw_free_all();
    ipcn_node_close(victim);
    victim = NULL;
    return 0;
}

static ipcn_node_stats stats(void)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(victim, &s), IPCN_OK);
    return s;
}

/* An ANNOUNCE of path with encoding enc and meta (a literal, or raw bytes
 * when meta_bytes is set), then a PING answered: the victim took it. */
static void announce(raw *r, uint8_t kind, uint64_t version, const char *path,
                     const char *enc, const void *meta, size_t meta_len)
{
    B.len = 0;
    size_t off = f_begin(&B, T_ANNOUNCE, r->id, 0);
    b_u8(&B, kind);
    b_u64(&B, version);
    b_str(&B, path, strlen(path));
    b_str(&B, enc, strlen(enc));
    b_blob(&B, meta, meta_len);
    f_end(&B, off);
    raw_send_buf(r);
    raw_ping(r, version + 100);
}

static void announce_lit(raw *r, uint8_t kind, uint64_t version,
                         const char *path, const char *enc, const char *meta)
{
    uint8_t m[8192];
    size_t mn = cl_cbor(meta, m, sizeof m);
    announce(r, kind, version, path, enc, m, mn);
}

static void sample(raw *r, uint64_t seq, const char *path, const void *data,
                   size_t len)
{
    B.len = 0;
    enc_sample(&B, r->id, seq, path, data, len);
    raw_send_buf(r);
}

static void sample_lit(raw *r, uint64_t seq, const char *path, const char *l)
{
    uint8_t v[256];
    size_t vn = cl_cbor(l, v, sizeof v);
    sample(r, seq, path, v, vn);
}

static size_t found(const char *pattern)
{
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(victim, pattern, IPCN_ANY, &rl), IPCN_OK);
    size_t k = rl->count;
    ipcn_resource_list_free(rl);
    return k;
}

static void take(ipcn_sub sub, uint64_t seq, const char *l)
{
    uint8_t v[256];
    size_t vn = l ? cl_cbor(l, v, sizeof v) : 1;
    if (!l)
        v[0] = 0xff;
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_sub_take(victim, sub, &m, IO_TIMEOUT_MS), IPCN_OK);
    assert_int_equal(m->seq, seq);
    assert_int_equal(m->len, vn);
    assert_memory_equal(m->data, v, vn);
    ipcn_msg_free(m);
}

/* A late subscriber's catch-up (protocol 10.5) is checked as live
 * samples are: a value of another type sent with the replay's corr is
 * dropped and counted, one of the type delivered. */
static void t_replay(void **state)
{
    (void)state;
    hello_caps = CAP_REDUNDANCY | CAP_LATCH;
    raw *r = raw_link();
    hello_caps = 0;
    assert_true(r->victim_caps & CAP_LATCH);
    announce_lit(r, 2, 1, "h/rp", "cbor",
                 "{\"rate\": 5, \"schema\": {\"map\": {\"x\": \"float\"}}}");
    assert_int_equal(found("h/rp"), 1);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(victim, "h/rp", 16, NULL, NULL, &sub), IPCN_OK);
    /* the victim asks us for what we keep: a SUBSCRIBE with a corr */
    uint64_t corr = 0, end = tu_now_ms() + IO_TIMEOUT_MS;
    while (!corr) {
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        rframe f;
        if (left <= 0 || raw_next(r, &f, (int)left) != 1)
            fail_msg("no SUBSCRIBE with a corr came");
        if (f.type == T_SUBSCRIBE && f.corr)
            corr = f.corr;
        rframe_free(&f);
    }
    uint64_t dropped0 = stats().typed_dropped;
    uint8_t bad[64], good[64];
    size_t bn = cl_cbor("{\"x\": \"no\"}", bad, sizeof bad);
    size_t gn = cl_cbor("{\"x\": 2}", good, sizeof good);
    B.len = 0;
    enc_sample_corr(&B, r->id, corr, 1, "h/rp", "cbor", bad, bn);
    enc_sample_corr(&B, r->id, corr, 2, "h/rp", "cbor", good, gn);
    enc_reply(&B, T_REPLY, r->id, corr, 100);
    raw_send_buf(r);
    raw_ping(r, 9);
    take(sub, 2, "{\"x\": 2}");
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_sub_take(victim, sub, &m, 0), IPCN_NO_DATA);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(victim, sub, &ss), IPCN_OK);
    assert_int_equal(ss.nonconforming, 1);
    assert_int_equal(stats().typed_dropped, dropped0 + 1);
}

/* Samples of another type are dropped and counted, the others delivered;
 * an untyped stream's are all delivered. */
static void t_samples(void **state)
{
    (void)state;
    raw *r = raw_link();
    announce_lit(r, 2, 1, "h/pose", "cbor",
                 "{\"rate\": 5, \"schema\": {\"map\": {\"x\": \"float\"}}}");
    announce_lit(r, 2, 1, "h/any", "cbor", "{\"rate\": 5}");
    assert_int_equal(found("h/*"), 2);
    ipcn_sub sub, any;
    assert_int_equal(ipcn_subscribe(victim, "h/pose", 16, NULL, NULL, &sub),
                     IPCN_OK);
    assert_int_equal(ipcn_subscribe(victim, "h/any", 16, NULL, NULL, &any),
                     IPCN_OK);
    uint64_t dropped0 = stats().typed_dropped;
    sample_lit(r, 1, "h/pose", "{\"x\": 1}");
    sample_lit(r, 2, "h/pose", "{\"x\": \"no\"}");
    sample(r, 3, "h/pose", "\xff", 1);
    sample(r, 4, "h/pose", NULL, 0);
    sample_lit(r, 5, "h/pose", "{\"x\": 2.5, \"y\": 1}");
    sample_lit(r, 6, "h/pose", "{\"x\": 2.5}");
    sample(r, 1, "h/any", "\xff", 1);
    raw_ping(r, 7);
    take(sub, 1, "{\"x\": 1}");
    take(sub, 6, "{\"x\": 2.5}");
    take(any, 1, NULL);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_sub_take(victim, sub, &m, 0), IPCN_NO_DATA);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(victim, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 2);
    assert_int_equal(ss.nonconforming, 4);
    assert_int_equal(ss.lost, 0); /* dropped here, not lost upstream */
    assert_int_equal(ipcn_sub_get_stats(victim, any, &ss), IPCN_OK);
    assert_int_equal(ss.received, 1);
    assert_int_equal(ss.nonconforming, 0);
    assert_int_equal(stats().typed_dropped - dropped0, 4);
    raw_ping(r, 8); /* the link is kept */
}

typedef struct query_job {
    int status;
    size_t len;
    uint8_t data[64];
} query_job;

static void *query_thread(void *arg)
{
    query_job *j = arg;
    ipcn_msg *m = NULL;
    j->status = ipcn_query(victim, "h/gain", &m, IO_TIMEOUT_MS);
    if (m) {
        j->len = m->len < sizeof j->data ? m->len : sizeof j->data;
        memcpy(j->data, m->data, j->len);
        ipcn_msg_free(m);
    }
    return NULL;
}

/* Query h/gain from another thread; the raw client answers it with the
 * literal l.  Returns the query's status. */
static int query_answered(raw *r, const char *l, query_job *j)
{
    memset(j, 0, sizeof *j);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, query_thread, j), 0);
    rframe f;
    uint64_t corr = 0;
    uint64_t end = tu_now_ms() + IO_TIMEOUT_MS;
    while (!corr) {
        int64_t left = (int64_t)end - (int64_t)tu_now_ms();
        int k = raw_next(r, &f, left > 0 ? (int)left : 0);
        if (k <= 0)
            fail_msg("no QUERY came");
        if (f.type == T_PING) {
            B.len = 0;
            enc_stamp(&B, T_PONG, r->id, f.stamp);
            raw_send_buf(r);
        }
        if (f.type == T_QUERY) {
            assert_int_equal(f.text_len, 6);
            assert_memory_equal(f.text, "h/gain", 6);
            corr = f.corr;
        }
        rframe_free(&f);
    }
    uint8_t v[64];
    size_t vn = cl_cbor(l, v, sizeof v);
    B.len = 0;
    size_t off = f_begin(&B, T_QUERY_REPLY, r->id, corr);
    st16(B.p + off + 8, ST_OK);
    b_u64(&B, 1);
    b_u64(&B, 0);
    b_str(&B, "cbor", 4);
    b_blob(&B, v, vn);
    f_end(&B, off);
    raw_send_buf(r);
    assert_int_equal(pthread_join(t, NULL), 0);
    return j->status;
}

/* A query's answer of another type ends the query with 302. */
static void t_query(void **state)
{
    (void)state;
    raw *r = raw_link();
    announce_lit(r, 1, 1, "h/gain", "cbor",
                 "{\"schema\": {\"map\": {\"gain\": \"float\"}}}");
    assert_int_equal(found("h/gain"), 1);
    uint64_t dropped0 = stats().typed_dropped;
    query_job j;
    assert_int_equal(query_answered(r, "{\"gain\": \"loud\"}", &j),
                     ST_BAD_GATEWAY);
    assert_int_equal(j.len, 0);
    assert_int_equal(stats().typed_dropped - dropped0, 1);
    assert_int_equal(query_answered(r, "{\"gain\": 2}", &j), IPCN_OK);
    uint8_t v[64];
    size_t vn = cl_cbor("{\"gain\": 2}", v, sizeof v);
    assert_int_equal(j.len, vn);
    assert_memory_equal(j.data, v, vn);
    assert_int_equal(stats().typed_dropped - dropped0, 1);
}

/* {"map": {"f0": "int", ...}} with nf fields. */
static void fields_lit(char *out, size_t cap, int nf)
{
    size_t k = (size_t)snprintf(out, cap, "{\"schema\": {\"map\": {");
    for (int i = 0; i < nf; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s\"f%d\": \"int\"",
                              i ? ", " : "", i);
    snprintf(out + k, cap - k, "}}}");
}

/* {"schema": {"array": ... "int"}} with depth types nested. */
static void deep_lit(char *out, size_t cap, int depth)
{
    size_t k = (size_t)snprintf(out, cap, "{\"schema\": ");
    for (int i = 1; i < depth; i++)
        k += (size_t)snprintf(out + k, cap - k, "{\"array\": ");
    k += (size_t)snprintf(out + k, cap - k, "\"int\"");
    for (int i = 1; i < depth; i++)
        k += (size_t)snprintf(out + k, cap - k, "}");
    snprintf(out + k, cap - k, "}");
}

/* Announcements whose type is not valid are refused, each with ERROR
 * 200, counted; the link stays, a valid one after them is taken, and a
 * re-announce with an invalid type leaves the one before in place. */
static void t_bad_schemas(void **state)
{
    (void)state;
    static char many[8192], deep[2048], ok_many[8192], ok_deep[2048];
    fields_lit(many, sizeof many, 129);
    fields_lit(ok_many, sizeof ok_many, 128);
    deep_lit(deep, sizeof deep, 17);
    deep_lit(ok_deep, sizeof ok_deep, 16);
    const struct {
        const char *meta, *enc;
    } bad[] = {
        {"{\"schema\": \"integer\"}", "cbor"},
        {"{\"schema\": {\"optional\": \"int\"}}", "cbor"},
        {"{\"schema\": {\"map\": {\"a\": \"int\", \"a\": \"text\"}}}", "cbor"},
        {"{\"schema\": {\"map\": {1: \"int\"}}}", "cbor"},
        {"{\"schema\": \"int\", \"schema\": \"int\"}", "cbor"},
        {"{\"schema\": 7}", "cbor"},
        {"{\"schema\": \"int\"}", "text/plain"},
        {"{\"schema\": \"int\"}", ""},
        {many, "cbor"},
        {deep, "cbor"},
    };
    raw *r = raw_link();
    ipcn_node_stats s0 = stats();
    unsigned err0 = r->errors[ST_BAD_REQUEST];
    char path[32];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "hb/%zu", i);
        announce_lit(r, 2, 1, path, bad[i].enc, bad[i].meta);
    }
    size_t nbad = sizeof bad / sizeof bad[0];
    assert_int_equal(r->errors[ST_BAD_REQUEST] - err0, nbad);
    assert_int_equal(stats().bad_frames - s0.bad_frames, nbad);
    assert_int_equal(found("hb/*"), 0);
    /* the bounds themselves are valid; opaque meta is no type */
    announce_lit(r, 2, 1, "hb/many", "cbor", ok_many);
    announce_lit(r, 2, 1, "hb/deep", "cbor", ok_deep);
    announce(r, 2, 1, "hb/opaque", "", "schema\xa1\x66", 8);
    assert_int_equal(found("hb/*"), 3);
    /* a re-announce with a bad type: refused, the first one stands */
    announce_lit(r, 1, 1, "hb/up", "cbor", "{\"schema\": \"int\"}");
    announce_lit(r, 1, 2, "hb/up", "cbor", "{\"schema\": \"int8\"}");
    assert_int_equal(r->errors[ST_BAD_REQUEST] - err0, nbad + 1);
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(victim, "hb/up", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_int_equal(rl->items[0].version, 1);
    ipcn_resource_list_free(rl);
    raw_ping(r, 9); /* the link is kept */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(t_query, setup, teardown),
        cmocka_unit_test_setup_teardown(t_bad_schemas, setup, teardown),
        cmocka_unit_test_setup_teardown(t_replay, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
