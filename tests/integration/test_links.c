/* SPDX-License-Identifier: MIT */
/*
 * test_links.c — ipcn_links() and ipcn_route() (ipcnet_hosts.h) on one
 * host: every link Unix, sorted by peer, with its counters and the round
 * trip of the ping each side sends when a link comes up; the way to a
 * linked provider is its name alone, to this node itself its own name,
 * to a node not linked 203.  The node service "links" gives the same.
 * The peers are ipcn-test-s_peer helpers (helpers/s_peer.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipcnet.h"
#include "ipcnet_hosts.h"
#include "ipcnet_value.h"
#include "v_util.h"

/* Pump n until each of its links has a round trip (its link-up ping was
 * answered); the links then. */
static void links_with_rtt(ipcn_node *n, size_t want, ipcn_link_info **out)
{
    uint64_t end = tu_now_ms() + V_WAIT_MS;
    for (;;) {
        size_t count = 0, timed = 0;
        assert_int_equal(ipcn_links(n, out, &count), IPCN_OK);
        for (size_t i = 0; i < count; i++)
            timed += (*out)[i].rtt_ns > 0;
        if (count == want && timed == want)
            return;
        ipcn_links_free(*out, count);
        assert_true(tu_now_ms() < end);
        v_pump(n, 10);
    }
}

static void test_links_unix(void **state)
{
    (void)state;
    ipcn_node *n = v_open("lk", NULL);
    ipcn_link_info *a = NULL;
    size_t count = 99;
    assert_int_equal(ipcn_links(n, &a, &count), IPCN_OK);
    assert_int_equal(count, 0);
    ipcn_links_free(a, count);
    assert_int_equal(ipcn_links(NULL, &a, &count), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_links(n, NULL, &count), IPCN_BAD_REQUEST);

    v_s_peer("zeta");
    v_s_peer("alpha");
    v_wait_helper(n, "zeta");
    v_wait_helper(n, "alpha");
    links_with_rtt(n, 2, &a);
    /* sorted by kind, then peer */
    assert_string_equal(a[0].peer, "alpha");
    assert_string_equal(a[1].peer, "zeta");
    for (int i = 0; i < 2; i++) {
        assert_int_equal(a[i].size, sizeof a[i]);
        assert_int_equal(a[i].kind, IPCN_LINK_UNIX);
        assert_string_equal(a[i].host, "");
        assert_string_equal(a[i].addr, "");
        assert_string_equal(a[i].key, "");
        assert_string_equal(a[i].via, "");
        assert_int_equal(a[i].hops, 0);
        assert_true(a[i].rtt_ns > 0 && a[i].rtt_ns < 10000000000ull);
        assert_true(a[i].frames_in >= 2 && a[i].frames_out >= 2);
        assert_true(a[i].bytes_in > 0 && a[i].bytes_out > 0);
        assert_int_equal(a[i].auth_failures, 0);
        assert_int_equal(a[i].loops, 0);
    }
    /* The counters are the peer's (ipcn_peers()), at the same moment. */
    ipcn_peer p = v_peer(n, "alpha");
    ipcn_links_free(a, 2);
    assert_int_equal(ipcn_links(n, &a, &count), IPCN_OK);
    assert_true(a[0].frames_in >= p.frames_in);
    ipcn_links_free(a, count);

    /* The node service: the helper's own links, ours among them. */
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, "@sys/alpha/links", NULL, 0, NULL, &m,
                                  V_WAIT_MS), IPCN_OK);
    assert_string_equal(m->encoding, "cbor");
    ipcn_cbor_item *root = NULL;
    assert_int_equal(ipcn_cbor_tree_decode(m->data, m->len, 0, &root), IPCN_OK);
    const ipcn_cbor_item *items = ipcn_cbor_map_find(root, "items");
    assert_non_null(items);
    assert_int_equal(items->type, IPCN_CBOR_ARRAY);
    size_t found = 0;
    for (size_t i = 0; i < items->count; i++) {
        const ipcn_cbor_item *peer = ipcn_cbor_map_find(&items->items[i], "peer");
        const ipcn_cbor_item *kind = ipcn_cbor_map_find(&items->items[i], "kind");
        assert_non_null(peer);
        assert_non_null(kind);
        if (peer->len == 2 && !memcmp(peer->ptr, "lk", 2)) {
            found++;
            assert_true(kind->len == 4 && !memcmp(kind->ptr, "unix", 4));
        }
    }
    assert_int_equal(found, 1);
    ipcn_cbor_tree_free(root);
    ipcn_msg_free(m);
    v_close(n);
}

static void test_route_linked(void **state)
{
    (void)state;
    ipcn_node *n = v_open("rt", NULL);
    v_s_peer("prov");
    v_wait_helper(n, "prov");
    char **hops = NULL;
    size_t count = 0;
    assert_int_equal(ipcn_route(n, "prov", &hops, &count), IPCN_OK);
    assert_int_equal(count, 1);
    assert_string_equal(hops[0], "prov");
    ipcn_route_free(hops, count);
    assert_int_equal(ipcn_route(n, "rt", &hops, &count), IPCN_OK);
    assert_int_equal(count, 1);
    assert_string_equal(hops[0], "rt");
    ipcn_route_free(hops, count);
    hops = NULL;
    assert_int_equal(ipcn_route(n, "nobody", &hops, &count), IPCN_NOT_FOUND);
    assert_null(hops);
    assert_int_equal(ipcn_route(n, "nobody@elsewhere", &hops, &count),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_route(n, NULL, &hops, &count), IPCN_BAD_REQUEST);
    assert_int_equal(ipcn_route(n, "prov", NULL, &count), IPCN_BAD_REQUEST);
    v_close(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        V_TEST(test_links_unix),
        V_TEST(test_route_linked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
