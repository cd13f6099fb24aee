/* SPDX-License-Identifier: MIT */
/*
 * test_sys.c — the node services "@sys/<node>/<name>" (ipcnet.h "Node
 * services") with the library as shipped: a victim node (in this process,
 * on its own thread) under a network policy ($IPCNET_POLICY) that lets
 * every node call them but one, which may see them and not call them
 * (202), and another, which may not even see them (203); a library client
 * gets the victim's traffic picture (its own requests in it); a raw client
 * that does not use the library gets the same answers in bytes, a clean
 * 200 for a bad body and 203 for another node's or a query, and keeps its
 * link; its ANNOUNCE of a path under @sys/ is refused as invalid.
 * Refusals are counted as any other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "ipcnet_value.h"
#include "raw_client.h"
#include "testutil.h"

#define VICTIM "sysv"
#define ST_FORBIDDEN 202

static ipcn_node *victim;

static ipcn_node *open_node(const char *name)
{
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK)
        fail_msg("ipcn_node_open(%s): %d %s", name, st, ipcn_status_str(st));
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(raw_target.dir, sizeof raw_target.dir, "%s", tu_net_dir());
    snprintf(raw_target.sock, sizeof raw_target.sock, "%s/default/%s.sock",
             raw_target.dir, VICTIM);
    char policy[600];
    snprintf(policy, sizeof policy, "%s/sys-policy.yaml", raw_target.dir);
    FILE *f = fopen(policy, "w");
    assert_non_null(f);
    fputs("version: 1\n"
          "default: allow\n"
          "rules:\n"
          "  - deny: execute\n"
          "    who: \"node:sys-denied\"\n"
          "    what: \"@sys/**\"\n"
          "  - deny: read\n"
          "    who: \"node:sys-hidden\"\n"
          "    what: \"@sys/**\"\n",
          f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(policy, 0644), 0);
    setenv("IPCNET_POLICY", policy, 1);
    victim = open_node(VICTIM);
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

static uint64_t victim_denied(void)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(victim, &s), IPCN_OK);
    return s.denied;
}

static int call(ipcn_node *n, const char *path, ipcn_msg **m)
{
    *m = NULL;
    return ipcn_request(n, path, NULL, 0, NULL, m, IO_TIMEOUT_MS);
}

static void test_policy(void **state)
{
    (void)state;
    ipcn_node *ok = open_node("sys-ok"), *denied = open_node("sys-denied"),
              *hidden = open_node("sys-hidden");
    assert_int_equal(ipcn_node_wait_peers(victim, 3, IO_TIMEOUT_MS), IPCN_OK);
    ipcn_msg *m;
    assert_int_equal(call(ok, "@sys/" VICTIM "/traffic", &m), IPCN_OK);
    assert_string_equal(m->encoding, "cbor");
    assert_int_equal(ipcn_cbor_check(m->data, m->len, 0), IPCN_OK);
    ipcn_msg_free(m);
    /* The second call finds the first in the picture. */
    assert_int_equal(call(ok, "@sys/" VICTIM "/traffic", &m), IPCN_OK);
    assert_non_null(memmem(m->data, m->len, "sys-ok", 6));
    assert_non_null(memmem(m->data, m->len, "@sys/" VICTIM "/traffic", 17));
    ipcn_msg_free(m);
    uint64_t before = victim_denied();
    assert_int_equal(call(denied, "@sys/" VICTIM "/traffic", &m),
                     IPCN_FORBIDDEN);
    ipcn_msg_free(m);
    assert_int_equal(call(hidden, "@sys/" VICTIM "/traffic", &m),
                     IPCN_NOT_FOUND);
    ipcn_msg_free(m);
    assert_int_equal(victim_denied(), before + 2);
    /* The victim's own picture: each caller's requests, refused ones too. */
    ipcn_traffic_list *tl = NULL;
    assert_int_equal(ipcn_traffic(victim, NULL, &tl), IPCN_OK);
    unsigned seen = 0;
    for (size_t i = 0; i < tl->count; i++) {
        const ipcn_traffic_item *it = tl->items[i];
        assert_true(it->size >= sizeof *it);
        if (!strcmp(it->path, "@sys/" VICTIM "/traffic") &&
            it->verb == IPCN_TRAFFIC_REQUEST && !it->anomalous)
            seen |= !strcmp(it->peer, "sys-ok") && it->count == 2 ? 1
                    : !strcmp(it->peer, "sys-denied") && it->count == 1 ? 2
                    : !strcmp(it->peer, "sys-hidden") && it->count == 1 ? 4
                                                                        : 0;
    }
    assert_int_equal(seen, 7);
    ipcn_traffic_list_free(tl);
    assert_int_equal(ipcn_traffic(victim, "sys-ok", &tl), IPCN_OK);
    assert_int_equal(tl->count, 1);
    ipcn_traffic_list_free(tl);
    ipcn_node_close(ok);
    ipcn_node_close(denied);
    ipcn_node_close(hidden);
}

/* Send a REQUEST (or QUERY) and read up to its answer. */
static uint16_t ask(raw *r, uint8_t type, const char *path, const void *data,
                    size_t len, uint64_t corr, rframe *ans)
{
    B.len = 0;
    enc_request(&B, type, r->id, corr, path, data, len);
    raw_send_buf(r);
    for (;;) {
        if (raw_next(r, ans, IO_TIMEOUT_MS) != 1)
            fail_msg("no answer to %s", path);
        if ((ans->type == T_REPLY || ans->type == T_QUERY_REPLY) &&
            ans->corr == corr)
            return ans->status;
        rframe_free(ans);
    }
}

static void test_raw(void **state)
{
    (void)state;
    raw *r = raw_link();
    rframe a;
    /* A bad body: a clean 200 that says why; the link stays. */
    assert_int_equal(ask(r, T_REQUEST, "@sys/" VICTIM "/traffic", "hi", 2, 1,
                         &a), ST_BAD_REQUEST);
    assert_int_equal(a.type, T_REPLY);
    assert_true(a.data_len > 0);
    assert_non_null(memmem(a.data, a.data_len, "CBOR", 4));
    rframe_free(&a);
    /* An empty one: the picture, CBOR, with this very client's request. */
    assert_int_equal(ask(r, T_REQUEST, "@sys/" VICTIM "/traffic", NULL, 0, 2,
                         &a), ST_OK);
    assert_int_equal(ipcn_cbor_check(a.data, a.data_len, 0), IPCN_OK);
    assert_non_null(memmem(a.data, a.data_len, "hostile-", 8));
    rframe_free(&a);
    /* Another node's services, a service no node has, a query, a path
     * that names no service: 203. */
    assert_int_equal(ask(r, T_REQUEST, "@sys/elsewhere/traffic", NULL, 0, 3,
                         &a), ST_NOT_FOUND);
    rframe_free(&a);
    assert_int_equal(ask(r, T_REQUEST, "@sys/" VICTIM "/nothing", NULL, 0, 4,
                         &a), ST_NOT_FOUND);
    rframe_free(&a);
    assert_int_equal(ask(r, T_QUERY, "@sys/" VICTIM "/traffic", NULL, 0, 5,
                         &a), ST_NOT_FOUND);
    rframe_free(&a);
    assert_int_equal(ask(r, T_REQUEST, "@sys/" VICTIM, NULL, 0, 6, &a),
                     ST_NOT_FOUND);
    rframe_free(&a);
    raw_ping(r, 7); /* still linked */
    /* Announcing a path under @sys/ is invalid input: an ERROR 200, not
     * taken, the link kept. */
    B.len = 0;
    enc_announce(&B, r->id, 3, 1, "@sys/" VICTIM "/traffic", 17);
    raw_send_buf(r);
    for (;;) {
        if (raw_next(r, &a, IO_TIMEOUT_MS) != 1)
            fail_msg("no ERROR for an ANNOUNCE under @sys/");
        bool err = a.type == T_ERROR;
        uint16_t st = a.status;
        rframe_free(&a);
        if (err) {
            assert_int_equal(st, ST_BAD_REQUEST);
            break;
        }
    }
    raw_ping(r, 8);
    ipcn_resource_list *rl = NULL;
    assert_int_equal(ipcn_find(victim, "**", IPCN_ANY, &rl), IPCN_OK);
    assert_int_equal(rl->count, 0);
    ipcn_resource_list_free(rl);
    /* Its requests are in the victim's picture, by path. */
    ipcn_traffic_list *tl = NULL;
    assert_int_equal(ipcn_traffic(victim, NULL, &tl), IPCN_OK);
    uint64_t got = 0;
    for (size_t i = 0; i < tl->count; i++)
        if (!strncmp(tl->items[i]->peer, "hostile-", 8) &&
            !strcmp(tl->items[i]->path, "@sys/" VICTIM "/traffic") &&
            tl->items[i]->verb == IPCN_TRAFFIC_REQUEST)
            got = tl->items[i]->count;
    assert_int_equal(got, 2);
    ipcn_traffic_list_free(tl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
