/* SPDX-License-Identifier: MIT */
/*
 * test_pipeline.c — the stages between a link and the engine's entry, on
 * their own: the route (hops, source, destination) and the gate (the
 * per-peer limits and the metadata budget), over a node and a link made
 * here without sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/node.h"
#include "transport/gate.h"
#include "transport/reputation.h"
#include "transport/route.h"

static ipcn_node nd;
static ipcn__link lk;

static int setup(void **state)
{
    (void)state;
    memset(&nd, 0, sizeof nd);
    memset(&lk, 0, sizeof lk);
    nd.name = "self";
    nd.id = 0x1111;
    ipcn_node_opts_init(&nd.opts);
    /* A refusal is charged to the peer (reputation.c): its records, and
     * the policy's reputation section (the defaults). */
    static ipcn__policy *pol;
    if (!pol)
        pol = ipcn__policy_new(IPCN__PROFILE_ALLOW);
    assert_non_null(pol);
    nd.policy = pol;
    ipcn__list_init(&nd.reps);
    ipcn__list_init(&nd.links);
    lk.state = LINK_UP;
    lk.who.name = "peer";
    lk.who.node_id = 0x2222;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ipcn__rep_free_all(&nd);
    return 0;
}

static ipcn__hdr hdr(uint8_t type, uint8_t ttl, uint64_t src, uint64_t dst)
{
    ipcn__hdr h;
    memset(&h, 0, sizeof h);
    h.type = type;
    h.ttl = ttl;
    h.src = src;
    h.dst = dst;
    return h;
}

static void test_route(void **state)
{
    (void)state;
    const char *why = NULL;
    ipcn__hdr h = hdr(IPCN_F_SAMPLE, 8, 0x2222, 0);
    assert_int_equal(ipcn__route_check(&nd, &lk, &h, &why), IPCN_OK);
    h.dst = 0x1111; /* to this node by its id */
    assert_int_equal(ipcn__route_check(&nd, &lk, &h, &why), IPCN_OK);
    h.ttl = 0;
    assert_int_equal(ipcn__route_check(&nd, &lk, &h, &why),
                     IPCN_LOOP_DETECTED);
    assert_non_null(why);
    h = hdr(IPCN_F_SAMPLE, 8, 0x3333, 0); /* not from the peer itself */
    assert_int_equal(ipcn__route_check(&nd, &lk, &h, &why),
                     IPCN_BAD_REQUEST);
    h = hdr(IPCN_F_SAMPLE, 8, 0x2222, 0x4444); /* for another node */
    assert_int_equal(ipcn__route_check(&nd, &lk, &h, &why),
                     IPCN_BAD_REQUEST);
    /* A second hello is the lk's to refuse, after the hops. */
    h = hdr(IPCN_F_HELLO, 8, 0x3333, 0);
    assert_int_equal(ipcn__route_check(&nd, &lk, &h, &why), IPCN_OK);
    /* Before the hello only the hops count. */
    lk.state = LINK_HELLO;
    h = hdr(IPCN_F_HELLO, 8, 0x9999, 0);
    assert_int_equal(ipcn__route_check(&nd, &lk, &h, &why), IPCN_OK);
    h.ttl = 0;
    assert_int_equal(ipcn__route_check(&nd, &lk, &h, &why),
                     IPCN_LOOP_DETECTED);
}

static void test_gate_counts(void **state)
{
    (void)state;
    lk.resources = IPCN_PEER_MAX_RESOURCES - 1;
    assert_int_equal(ipcn__gate_resource(&nd, &lk, "p/r"), IPCN_OK);
    lk.resources++;
    assert_int_equal(ipcn__gate_resource(&nd, &lk, "p/r"),
                     IPCN_TOO_MANY_REQUESTS);
    assert_int_equal(lk.bad_frames, 1); /* a refusal is counted */
    assert_int_equal(nd.stats.bad_frames, 1);
    lk.npatterns = IPCN_PEER_MAX_PATTERNS;
    assert_int_equal(ipcn__gate_pattern(&nd, &lk, "p/**"), IPCN_TOO_MANY_REQUESTS);
    lk.npatterns--;
    assert_int_equal(ipcn__gate_pattern(&nd, &lk, "p/**"), IPCN_OK);
    lk.inflight = IPCN_PEER_MAX_INFLIGHT;
    assert_int_equal(ipcn__gate_request(&nd, &lk, "p/s"), IPCN_TOO_MANY_REQUESTS);
    lk.inflight--;
    assert_int_equal(ipcn__gate_request(&nd, &lk, "p/s"), IPCN_OK);
}

static void test_gate_meta(void **state)
{
    (void)state;
    nd.opts.peer_meta_max = 100;
    nd.opts.peer_meta_budget = 150;
    assert_int_equal(ipcn__meta_take(&nd, &lk, 60), IPCN_OK);
    assert_int_equal(ipcn__meta_take(&nd, &lk, 41),
                     IPCN_TOO_MANY_REQUESTS); /* its share */
    assert_int_equal(lk.meta_bytes, 60);    /* nothing taken */
    ipcn__link other;
    memset(&other, 0, sizeof other);
    other.who.name = "other";
    assert_int_equal(ipcn__meta_take(&nd, &other, 91),
                     IPCN_INSUFFICIENT_MEMORY); /* the node's budget */
    assert_int_equal(nd.meta_refused, 2);
    assert_int_equal(nd.peer_meta_bytes, 60);
    ipcn__meta_give(&nd, &lk, 60);
    assert_int_equal(lk.meta_bytes, 0);
    assert_int_equal(nd.peer_meta_bytes, 0);
    ipcn__meta_give(&nd, &lk, 10); /* never below zero */
    assert_int_equal(nd.peer_meta_bytes, 0);
}

static void test_gate_queue(void **state)
{
    (void)state;
    nd.opts.tx_limit = 1000;
    assert_true(ipcn__gate_queue_room(&nd, &lk, 1000));
    assert_false(ipcn__gate_queue_room(&nd, &lk, 1001));
    assert_false(ipcn__gate_pause_reading(&nd, 1250));
    assert_true(ipcn__gate_pause_reading(&nd, 1251));
    assert_true(ipcn__gate_resume_reading(&nd, 500));
    assert_false(ipcn__gate_resume_reading(&nd, 501));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gate_queue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
