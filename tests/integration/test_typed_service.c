/* SPDX-License-Identifier: MIT */
/*
 * test_typed_service.c — a service that declares its argument and return
 * types (ipcn_offer_typed, issue 4 item 4): the provider refuses a request
 * whose argument does not match with 200 and a reason, before its handler
 * runs — for a peer's request (helpers/ts_provider.c, whose handler counts
 * its calls and tells the count through a second, untyped service) and for
 * a node's request of its own service; and the types travel in the
 * descriptor, where ipcn_find() shows them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ipcnet.h"
#include "ipcnet_value.h"
#include "v_util.h"
#include "cbor_lit.h"

#define ARGS "{\"map\": {\"x\": \"float\", \"k\": {\"optional\": \"int\"}}}"

static ipcn_node *start_provider(void)
{
    const char *args[] = {"ts-prov", "30", NULL};
    pid_t pid = tu_spawn("ts_provider", args);
    assert_true(pid > 0);
    v_track_pid(pid);
    ipcn_node *n = v_open("ts-client", NULL);
    if (!v_wait_count(n, "typed/*", IPCN_SERVICE, 2, V_WAIT_MS))
        fail_msg("the provider's services did not show up");
    return n;
}

/* Request path with the literal lit encoded as CBOR (or, with enc not
 * "cbor", lit's bytes as they are); returns the status, the reply in *out. */
static int req(ipcn_node *n, const char *path, const char *lit,
               const char *enc, ipcn_msg **out)
{
    uint8_t buf[512];
    size_t len;
    if (!strcmp(enc, "cbor")) {
        len = cl_cbor(lit, buf, sizeof buf);
    } else {
        len = strlen(lit);
        memcpy(buf, lit, len);
    }
    *out = NULL;
    return ipcn_request(n, path, buf, len, enc, out, 5000);
}

static void expect_refused(ipcn_node *n, const char *path, const char *lit,
                           const char *enc, const char *reason)
{
    ipcn_msg *m = NULL;
    int st = req(n, path, lit, enc, &m);
    if (st != IPCN_BAD_REQUEST)
        fail_msg("%s %s: %d, not 200", path, lit, st);
    assert_non_null(m);
    assert_int_equal(m->status, IPCN_BAD_REQUEST);
    assert_string_equal(m->encoding, "text/plain");
    assert_string_equal((const char *)m->data, reason);
    ipcn_msg_free(m);
}

static int remote_calls(ipcn_node *n)
{
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "typed/calls", NULL, 0, NULL, &m, 5000),
                     IPCN_OK);
    int c = atoi((const char *)m->data);
    ipcn_msg_free(m);
    return c;
}

static void test_remote(void **state)
{
    (void)state;
    ipcn_node *n = start_provider();
    assert_int_equal(remote_calls(n), 0);

    ipcn_msg *m = NULL;
    assert_int_equal(req(n, "typed/scale", "{\"x\": 1.5, \"k\": 3}", "cbor", &m),
                     IPCN_OK);
    ipcn_cbor_item *r = NULL;
    assert_int_equal(ipcn_cbor_tree_decode(m->data, m->len, 0, &r), IPCN_OK);
    assert_int_equal(r->type, IPCN_CBOR_FLOAT);
    assert_true(r->f == 4.5);
    ipcn_cbor_tree_free(r);
    ipcn_msg_free(m);
    assert_int_equal(req(n, "typed/scale", "{\"x\": -0.25}", "cbor", &m), IPCN_OK);
    ipcn_msg_free(m);
    /* An integer where a float is declared is a float (issue 21). */
    assert_int_equal(req(n, "typed/scale", "{\"x\": 1}", "cbor", &m), IPCN_OK);
    assert_int_equal(ipcn_cbor_tree_decode(m->data, m->len, 0, &r), IPCN_OK);
    assert_int_equal(r->type, IPCN_CBOR_FLOAT);
    assert_true(r->f == 2.0);
    ipcn_cbor_tree_free(r);
    ipcn_msg_free(m);
    assert_int_equal(remote_calls(n), 3);

    expect_refused(n, "typed/scale", "{\"x\": \"1.5\"}", "cbor",
                   "args.x: expected float, got text");
    expect_refused(n, "typed/scale", "{\"x\": true}", "cbor",
                   "args.x: expected float, got bool");
    expect_refused(n, "typed/scale", "{\"k\": 1}", "cbor",
                   "args.x: missing field");
    expect_refused(n, "typed/scale", "{\"x\": 1.5, \"z\": 1}", "cbor",
                   "args.z: unexpected field");
    expect_refused(n, "typed/scale", "{\"x\": 1.5, \"k\": 0.5}", "cbor",
                   "args.k: expected int, got float");
    expect_refused(n, "typed/scale", "[1.5]", "cbor",
                   "args: expected map, got array");
    expect_refused(n, "typed/scale", "{\"x\": 1.5}", "text/plain",
                   "args: expected encoding cbor, got \"text/plain\"");
    expect_refused(n, "typed/scale", "", "",
                   "args: expected encoding cbor, got \"\"");
    /* cbor in name, not in fact */
    uint8_t junk[] = {0xa1, 0x61};
    m = NULL;
    assert_int_equal(ipcn_request(n, "typed/scale", junk, sizeof junk, "cbor",
                                  &m, 5000),
                     IPCN_BAD_REQUEST);
    assert_string_equal((const char *)m->data,
                        "args: not a well-formed CBOR item");
    ipcn_msg_free(m);
    assert_int_equal(remote_calls(n), 3); /* the handler never ran */
}

static void test_descriptor(void **state)
{
    (void)state;
    ipcn_node *n = start_provider();
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "typed/scale", IPCN_SERVICE, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    const ipcn_resource *x = &rl->items[0];
    assert_string_equal(x->encoding, "cbor");
    assert_string_equal(x->provider, "ts-prov");
    uint8_t want[256];
    size_t wn = cl_cbor("{\"args\": " ARGS ", \"returns\": \"float\"}", want,
                        sizeof want);
    assert_int_equal(x->meta_len, wn);
    assert_memory_equal(x->meta, want, wn);
    ipcn_cbor_item *root = NULL;
    assert_int_equal(ipcn_cbor_tree_decode(x->meta, x->meta_len, 0, &root),
                     IPCN_OK);
    assert_int_equal(root->type, IPCN_CBOR_MAP);
    assert_int_equal(root->count, 2);
    const ipcn_cbor_item *a = ipcn_cbor_map_find(root, "args");
    assert_non_null(a);
    assert_non_null(ipcn_cbor_map_find(a, "map"));
    const ipcn_cbor_item *rt = ipcn_cbor_map_find(root, "returns");
    assert_non_null(rt);
    assert_int_equal(rt->type, IPCN_CBOR_TEXT);
    assert_memory_equal(rt->ptr, "float", 5);
    ipcn_cbor_tree_free(root);
    ipcn_resource_list_free(rl);
    /* the untyped one has no meta */
    assert_int_equal(ipcn_find(n, "typed/calls", IPCN_SERVICE, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_int_equal(rl->items[0].meta_len, 0);
    ipcn_resource_list_free(rl);
}

static int local_calls;

static int on_local(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                    void *user)
{
    (void)n, (void)req, (void)ctx, (void)user;
    __atomic_add_fetch(&local_calls, 1, __ATOMIC_ACQ_REL);
    return IPCN_OK;
}

static int async_status;
static char async_why[128];

static void on_answer(ipcn_node *n, int status, const ipcn_msg *reply,
                      void *user)
{
    (void)n, (void)user;
    if (reply)
        snprintf(async_why, sizeof async_why, "%s", (const char *)reply->data);
    __atomic_store_n(&async_status, status, __ATOMIC_RELEASE);
}

static void test_local(void **state)
{
    (void)state;
    local_calls = 0;
    ipcn_node *n = v_open("ts-self", NULL);
    uint8_t s[256];
    size_t sn = cl_cbor(ARGS, s, sizeof s);

    /* invalid schemas are refused at offer time */
    uint8_t bad[64];
    size_t bn = cl_cbor("{\"array\": \"integer\"}", bad, sizeof bad);
    assert_int_equal(ipcn_offer_typed(n, "self/t", bad, bn, NULL, 0, on_local,
                                      NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_offer_typed(n, "self/t", s, sn, bad, bn, on_local,
                                      NULL),
                     IPCN_BAD_REQUEST);
    bn = cl_cbor("{\"array\": \"int\", \"map\": {}}", bad, sizeof bad);
    assert_int_equal(ipcn_offer_typed(n, "self/t", bad, bn, NULL, 0, on_local,
                                      NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_offer_typed(n, "self/t", s, 0, NULL, 0, NULL, NULL),
                     IPCN_BAD_REQUEST);
    assert_int_equal(v_count(n, "self/**", IPCN_ANY), 0);

    assert_int_equal(ipcn_offer_typed(n, "self/t", s, sn, NULL, 0, on_local,
                                      NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_offer_typed(n, "self/t", s, sn, NULL, 0, on_local,
                                      NULL),
                     IPCN_CONFLICT);
    /* Re-announcing it by hand would show one schema and enforce another. */
    assert_int_equal(ipcn_announce(n, "self/t", IPCN_SERVICE, "cbor", NULL, 0),
                     IPCN_CONFLICT);
    /* only "args" in the descriptor */
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(n, "self/t", IPCN_SERVICE, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    uint8_t want[256];
    size_t wn = cl_cbor("{\"args\": " ARGS "}", want, sizeof want);
    assert_int_equal(rl->items[0].meta_len, wn);
    assert_memory_equal(rl->items[0].meta, want, wn);
    ipcn_resource_list_free(rl);

    ipcn_msg *m = NULL;
    assert_int_equal(req(n, "self/t", "{\"x\": 2.5}", "cbor", &m), IPCN_OK);
    ipcn_msg_free(m);
    assert_int_equal(local_calls, 1);
    expect_refused(n, "self/t", "{\"x\": \"no\"}", "cbor",
                   "args.x: expected float, got text");
    expect_refused(n, "self/t", "{}", "cbor", "args.x: missing field");
    expect_refused(n, "self/t", "{\"x\": 1.5}", "application/json",
                   "args: expected encoding cbor, got \"application/json\"");
    assert_int_equal(local_calls, 1);

    /* asynchronously too */
    uint8_t body[64];
    size_t len = cl_cbor("{\"x\": 1.5, \"y\": 2}", body, sizeof body);
    assert_int_equal(ipcn_request_async(n, "self/t", body, len, "cbor", 5000,
                                        on_answer, NULL, NULL),
                     IPCN_ACCEPTED);
    if (!v_wait_flag(n, &async_status, V_WAIT_MS))
        fail_msg("no answer to the asynchronous request");
    assert_int_equal(async_status, IPCN_BAD_REQUEST);
    assert_string_equal(async_why, "args.y: unexpected field");
    assert_int_equal(local_calls, 1);

    /* both undeclared: a plain service with encoding "cbor", no meta */
    assert_int_equal(ipcn_offer_typed(n, "self/u", NULL, 0, NULL, 0, on_local,
                                      NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_find(n, "self/u", IPCN_SERVICE, &rl), IPCN_OK);
    assert_int_equal(rl->count, 1);
    assert_string_equal(rl->items[0].encoding, "cbor");
    assert_int_equal(rl->items[0].meta_len, 0);
    ipcn_resource_list_free(rl);
    assert_int_equal(ipcn_request(n, "self/u", "x", 1, "text/plain", &m, 5000),
                     IPCN_OK);
    ipcn_msg_free(m);
    assert_int_equal(local_calls, 2);
}

int main(void)
{
    tu_net_dir();
    const struct CMUnitTest tests[] = {
        V_TEST(test_remote),
        V_TEST(test_descriptor),
        V_TEST(test_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
