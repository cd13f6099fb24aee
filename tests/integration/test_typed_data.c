/* SPDX-License-Identifier: MIT */
/*
 * test_typed_data.c — typed data and streams (ipcnet_schema.h, issue 21
 * point 2): the type travels in the descriptor and another process finds
 * it; the publisher refuses (200) a publish or a set whose value is not of
 * the type, sends nothing and counts it, and takes an integer where a
 * float is declared; a node's own resources, the announce's checks and
 * ipcn_schema_check().  The publisher of the remote cases is
 * helpers/td_pub.c; what a receiver does with values a publisher should
 * not have sent is test_typed_hostile.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ipcnet.h"
#include "ipcnet_schema.h"
#include "ipcnet_value.h"
#include "v_util.h"
#include "cbor_lit.h"

#define POSE                                                                  \
    "{\"map\": {\"x\": \"float\", \"y\": \"float\", \"tag\": {\"optional\": " \
    "\"text\"}}}"
#define GAIN "{\"map\": {\"gain\": \"float\"}}"

static ipcn_node *start_pub(void)
{
    const char *args[] = {"td-pub", "30", NULL};
    pid_t pid = tu_spawn("td_pub", args);
    assert_true(pid > 0);
    v_track_pid(pid);
    ipcn_node *n = v_open("td-client", NULL);
    if (!v_wait_count(n, "td/*", IPCN_ANY, 3, V_WAIT_MS))
        fail_msg("the publisher's resources did not show up");
    return n;
}

/* The literal lit as CBOR in buf; returns its length. */
static size_t lit(const char *l, uint8_t *buf, size_t cap)
{
    return cl_cbor(l, buf, cap);
}

/* The one resource at path, as n finds it (free the list). */
static const ipcn_resource *find_one(ipcn_node *n, const char *path,
                                     ipcn_resource_list **rl)
{
    assert_int_equal(ipcn_find(n, path, IPCN_ANY, rl), IPCN_OK);
    assert_int_equal((*rl)->count, 1);
    return &(*rl)->items[0];
}

static void want_meta(ipcn_node *n, const char *path, const char *meta_lit)
{
    uint8_t want[512];
    size_t wn = lit(meta_lit, want, sizeof want);
    ipcn_resource_list *rl = NULL;
    const ipcn_resource *r = find_one(n, path, &rl);
    assert_string_equal(r->encoding, "cbor");
    assert_string_equal(r->provider, "td-pub");
    assert_int_equal(r->meta_len, wn);
    assert_memory_equal(r->meta, want, wn);
    ipcn_resource_list_free(rl);
}

/* The type travels in the descriptor: another process finds it. */
static void test_remote_descriptor(void **state)
{
    (void)state;
    ipcn_node *n = start_pub();
    /* ipcn_announce_typed(): the meta given, then "schema" */
    want_meta(n, "td/pose", "{\"rate\": 10, \"schema\": " POSE "}");
    /* ipcn_announce() of a meta with "schema": as it was given */
    want_meta(n, "td/gain", "{\"units\": \"dB\", \"schema\": " GAIN "}");
}

/* The samples a subscription got, bytes and all (v_collect keeps text). */
typedef struct got {
    int count;
    uint64_t seq[8];
    size_t len[8];
    uint8_t data[8][128];
} got;

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    got *g = user;
    if (m->status != IPCN_OK || g->count == 8 || m->len > 128)
        return;
    g->seq[g->count] = m->seq;
    g->len[g->count] = m->len;
    memcpy(g->data[g->count], m->data, m->len);
    g->count++;
}

/* Publish lit through the publisher (td/ctl); returns the status its
 * ipcn_publish() gave. */
static int remote_publish(ipcn_node *n, const char *l)
{
    uint8_t v[256];
    size_t vn = lit(l, v, sizeof v);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "td/ctl", v, vn, "cbor", &m, 10000),
                     IPCN_OK);
    int st = atoi((const char *)m->data);
    ipcn_msg_free(m);
    return st;
}

static void remote_stats(ipcn_node *n, unsigned long long *refused,
                         unsigned long long *dropped)
{
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "td/ctl", "stats", 5, "text/plain", &m,
                                  10000),
                     IPCN_OK);
    assert_int_equal(sscanf((const char *)m->data,
                            "typed_refused=%llu typed_dropped=%llu", refused,
                            dropped),
                     2);
    ipcn_msg_free(m);
}

/* The publisher refuses what is not of the type: 200, nothing sent (the
 * subscriber gets only the others, with no gap in their numbers), counted
 * there; an integer where a float is declared goes. */
static void test_remote_publish(void **state)
{
    (void)state;
    ipcn_node *n = start_pub();
    got g = {0};
    ipcn_sub sub;
    /* Our SUBSCRIBE goes before our first request on the same link. */
    assert_int_equal(ipcn_subscribe(n, "td/pose", 64, on_sample, &g, &sub),
                     IPCN_OK);
    static const struct {
        const char *value;
        int status;
    } cases[] = {
        {"{\"x\": 1.5, \"y\": 2.5}", IPCN_OK},
        {"{\"x\": 1, \"y\": -2}", IPCN_OK}, /* integers for floats */
        {"{\"x\": \"1.5\", \"y\": 2.5}", IPCN_BAD_REQUEST},
        {"{\"x\": 1.5}", IPCN_BAD_REQUEST},
        {"{\"x\": 1.5, \"y\": 2.5, \"z\": 0}", IPCN_BAD_REQUEST},
        {"[1.5, 2.5]", IPCN_BAD_REQUEST},
        {"{\"x\": 1.5, \"y\": 2.5, \"tag\": 7}", IPCN_BAD_REQUEST},
        {"{\"x\": 0.5, \"y\": 0.25, \"tag\": \"last\"}", IPCN_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (remote_publish(n, cases[i].value) != cases[i].status)
            fail_msg("publish %s: not %d", cases[i].value, cases[i].status);
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    while (g.count < 3 && tu_now_ms() < end)
        v_pump(n, 20);
    v_pump(n, 50); /* anything more would be a sample sent that should not */
    assert_int_equal(g.count, 3);
    const char *good[] = {cases[0].value, cases[1].value, cases[7].value};
    for (int i = 0; i < 3; i++) {
        uint8_t v[256];
        size_t vn = lit(good[i], v, sizeof v);
        assert_int_equal(g.seq[i], (uint64_t)i + 1); /* no gap */
        assert_int_equal(g.len[i], vn);
        assert_memory_equal(g.data[i], v, vn);
    }
    unsigned long long refused, dropped;
    remote_stats(n, &refused, &dropped);
    assert_int_equal(refused, 5);
    assert_int_equal(dropped, 0);
    ipcn_sub_stats ss = {.size = sizeof ss};
    assert_int_equal(ipcn_sub_get_stats(n, sub, &ss), IPCN_OK);
    assert_int_equal(ss.received, 3);
    assert_int_equal(ss.lost, 0);
    assert_int_equal(ss.nonconforming, 0);
    assert_int_equal(ipcn_unsubscribe(n, sub), IPCN_OK);
}

static int set_lit(ipcn_node *n, const char *path, const char *l,
                   const char *enc)
{
    uint8_t v[256];
    size_t vn;
    if (!strcmp(enc, "cbor")) {
        vn = lit(l, v, sizeof v);
    } else {
        vn = strlen(l);
        memcpy(v, l, vn);
    }
    return ipcn_set(n, path, v, vn, enc, 0, 10000, NULL);
}

static void want_value(ipcn_node *n, const char *path, const char *l)
{
    uint8_t v[256];
    size_t vn = lit(l, v, sizeof v);
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(n, path, &m, 10000), IPCN_OK);
    assert_int_equal(m->len, vn);
    assert_memory_equal(m->data, v, vn);
    ipcn_msg_free(m);
}

/* A set is checked by the provider before it takes the value. */
static void test_remote_set(void **state)
{
    (void)state;
    ipcn_node *n = start_pub();
    want_value(n, "td/gain", "{\"gain\": 1.5}");
    assert_int_equal(set_lit(n, "td/gain", "{\"gain\": 2}", "cbor"), IPCN_OK);
    want_value(n, "td/gain", "{\"gain\": 2}");
    assert_int_equal(set_lit(n, "td/gain", "{\"gain\": \"loud\"}", "cbor"),
                     IPCN_BAD_REQUEST);
    assert_int_equal(set_lit(n, "td/gain", "{\"gain\": 1, \"x\": 1}", "cbor"),
                     IPCN_BAD_REQUEST);
    /* (refused as of another encoding, before its type is looked at) */
    assert_int_equal(set_lit(n, "td/gain", "{\"gain\": 1}", "application/json"),
                     IPCN_BAD_REQUEST);
    want_value(n, "td/gain", "{\"gain\": 2}"); /* nothing of those */
    assert_int_equal(set_lit(n, "td/gain", "{\"gain\": 0.25}", "cbor"), IPCN_OK);
    want_value(n, "td/gain", "{\"gain\": 0.25}");
    unsigned long long refused, dropped;
    remote_stats(n, &refused, &dropped);
    assert_int_equal(refused, 2);
    assert_int_equal(dropped, 0);
}

static int set_calls;

static int on_set(ipcn_node *n, const char *path, const ipcn_msg *value,
                  const char *encoding, void *user)
{
    (void)n, (void)path, (void)value, (void)encoding, (void)user;
    set_calls++;
    return IPCN_OK;
}

static int publish_lit(ipcn_node *n, const char *path, const char *l)
{
    uint8_t v[256];
    size_t vn = lit(l, v, sizeof v);
    return ipcn_publish(n, path, v, vn);
}

static uint64_t refused_of(ipcn_node *n)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(n, &s), IPCN_OK);
    return s.typed_refused;
}

/* A node's own typed resources; what an announce refuses. */
static void test_local(void **state)
{
    (void)state;
    ipcn_node *n = v_open("tl", NULL);
    uint8_t t[256], m[256];
    size_t tn = lit("\"float\"", t, sizeof t), mn;

    /* announce: what is refused */
    assert_int_equal(ipcn_announce_typed(n, "tl/s", IPCN_SERVICE, "cbor", t,
                                         tn, NULL, 0),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce_typed(n, "tl/s", IPCN_STREAM, "text/plain",
                                         t, tn, NULL, 0),
                     IPCN_BAD_REQUEST);
    size_t bn = lit("\"integer\"", m, sizeof m);
    assert_int_equal(ipcn_announce_typed(n, "tl/s", IPCN_STREAM, "cbor", m, bn,
                                         NULL, 0),
                     IPCN_BAD_REQUEST);
    mn = lit("[1]", m, sizeof m); /* meta not a map */
    assert_int_equal(ipcn_announce_typed(n, "tl/s", IPCN_STREAM, "cbor", t, tn,
                                         m, mn),
                     IPCN_BAD_REQUEST);
    mn = lit("{\"schema\": \"int\"}", m, sizeof m); /* the type twice */
    assert_int_equal(ipcn_announce_typed(n, "tl/s", IPCN_STREAM, "cbor", t, tn,
                                         m, mn),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_announce_typed(n, "tl/s", IPCN_STREAM, "cbor", t, tn,
                                         "abc", 3),
                     IPCN_BAD_REQUEST);
    mn = lit("{\"schema\": \"integer\"}", m, sizeof m);
    assert_int_equal(ipcn_announce(n, "tl/s", IPCN_STREAM, "cbor", m, mn),
                     IPCN_BAD_REQUEST);
    mn = lit("{\"schema\": \"int\"}", m, sizeof m);
    assert_int_equal(ipcn_announce(n, "tl/s", IPCN_STREAM, "", m, mn),
                     IPCN_BAD_REQUEST); /* typed values are CBOR */
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "tl/**", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 0); /* none of those was announced */
    ipcn_resource_list_free(rl);
    assert_int_equal(refused_of(n), 0);

    /* a typed stream: published, refused, counted; own subscriptions get
     * only what went */
    assert_int_equal(ipcn_announce_typed(n, "tl/s", IPCN_STREAM, NULL, t, tn,
                                         NULL, 0),
                     IPCN_CREATED);
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(n, "tl/s", 16, NULL, NULL, &sub), IPCN_OK);
    assert_int_equal(publish_lit(n, "tl/s", "2"), IPCN_OK);
    assert_int_equal(publish_lit(n, "tl/s", "2.5"), IPCN_OK);
    assert_int_equal(publish_lit(n, "tl/s", "\"x\""), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_publish(n, "tl/s", "\xff", 1), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_publish(n, "tl/s", NULL, 0), IPCN_BAD_REQUEST);
    ipcn_loan *loan = NULL;
    assert_int_equal(ipcn_loan_new(n, "tl/s", 8, &loan), IPCN_OK);
    memcpy(ipcn_loan_data(loan), "\x61" "a", 2); /* "a": text */
    assert_int_equal(ipcn_loan_publish(n, loan, 2), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_loan_new(n, "tl/s", 8, &loan), IPCN_OK);
    memcpy(ipcn_loan_data(loan), "\xf9\x3e\x00", 3); /* 1.5, half width */
    assert_int_equal(ipcn_loan_publish(n, loan, 3), IPCN_OK);
    assert_int_equal(refused_of(n), 4);
    ipcn_msg *msg = NULL;
    uint8_t want[8];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ipcn_sub_take(n, sub, &msg, 1000), IPCN_OK);
        const char *w = i == 0 ? "2" : i == 1 ? "2.5" : "1.5";
        size_t wn = i == 2 ? 3 : lit(w, want, sizeof want);
        if (i == 2)
            memcpy(want, "\xf9\x3e\x00", 3);
        assert_int_equal(msg->len, wn);
        assert_memory_equal(msg->data, want, wn);
        assert_int_equal(msg->seq, (uint64_t)i + 1);
        ipcn_msg_free(msg);
    }
    assert_int_equal(ipcn_sub_take(n, sub, &msg, 0), IPCN_NO_DATA);
    /* announced again without a type: no longer checked */
    assert_int_equal(ipcn_announce(n, "tl/s", IPCN_STREAM, "cbor", NULL, 0),
                     IPCN_OK);
    assert_int_equal(publish_lit(n, "tl/s", "\"x\""), IPCN_OK);
    /* application/cbor is CBOR too */
    mn = lit("{\"schema\": \"text\"}", m, sizeof m);
    assert_int_equal(ipcn_announce(n, "tl/s", IPCN_STREAM, "application/cbor",
                                   m, mn),
                     IPCN_OK);
    assert_int_equal(publish_lit(n, "tl/s", "\"y\""), IPCN_OK);
    assert_int_equal(publish_lit(n, "tl/s", "1"), IPCN_BAD_REQUEST);
    assert_int_equal(refused_of(n), 5);

    /* a set of this node's own typed data: checked before its handler */
    size_t gn = lit(GAIN, t, sizeof t);
    assert_int_equal(ipcn_announce_typed(n, "tl/d", IPCN_DATA, "cbor", t, gn,
                                         NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_data_on_set(n, "tl/d", on_set, NULL), IPCN_OK);
    assert_int_equal(set_lit(n, "tl/d", "{\"gain\": \"x\"}", "cbor"),
                     IPCN_BAD_REQUEST);
    assert_int_equal(set_lit(n, "tl/d", "{\"gain\": 3}", "text/plain"),
                     IPCN_BAD_REQUEST);
    assert_int_equal(set_calls, 0);
    assert_int_equal(set_lit(n, "tl/d", "{\"gain\": 3}", "cbor"), IPCN_OK);
    assert_int_equal(set_calls, 1);
    want_value(n, "tl/d", "{\"gain\": 3}");
    assert_int_equal(refused_of(n), 7);
    assert_int_equal(ipcn_unsubscribe(n, sub), IPCN_OK);
}

/* The check itself, for any program. */
static void test_schema_check(void **state)
{
    (void)state;
    uint8_t t[128], v[128];
    char why[128];
    size_t tn = lit(POSE, t, sizeof t);
    size_t vn = lit("{\"x\": 1, \"y\": 2.5}", v, sizeof v);
    assert_int_equal(ipcn_schema_check(t, tn, v, vn, why, sizeof why), IPCN_OK);
    assert_string_equal(why, "");
    vn = lit("{\"x\": 1, \"y\": null}", v, sizeof v);
    assert_int_equal(ipcn_schema_check(t, tn, v, vn, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "value.y: expected float, got null");
    assert_int_equal(ipcn_schema_check(t, tn, v, vn, NULL, 0),
                     IPCN_BAD_REQUEST);
    tn = lit("{\"map\": {\"x\": \"real\"}}", t, sizeof t);
    assert_int_equal(ipcn_schema_check(t, tn, v, vn, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_string_equal(why, "invalid schema");
    assert_int_equal(ipcn_schema_check(NULL, 0, v, vn, why, sizeof why),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_schema_check(t, tn, NULL, 3, why, sizeof why),
                     IPCN_BAD_REQUEST);
}

int main(void)
{
    tu_net_dir();
    const struct CMUnitTest tests[] = {
        V_TEST(test_remote_descriptor),
        V_TEST(test_remote_publish),
        V_TEST(test_remote_set),
        V_TEST(test_local),
        V_TEST(test_schema_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
