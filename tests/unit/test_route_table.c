/* SPDX-License-Identifier: MIT */
/*
 * test_route_table.c — the route table (transport/route_table.c) on its
 * own: the ways each link told, the best of them (fewest routers, then
 * the lowest link id), what changes tell (same, best, gone), the loop
 * drop (a path holding this node), a link that goes (the other ways
 * take over), GONE of one way and of the last, and split horizon (what
 * may be told to which link).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipcnet.h"
#include "node/node.h"
#include "transport/route.h"

#define SELF 0x5e1fu
#define X 0xaaaau
#define Y 0xbbbbu
#define R1 0x1001u
#define R2 0x1002u
#define R3 0x1003u

static ipcn__route_way way(uint32_t link, int kind, uint8_t npath,
                           const uint64_t *path, const char *host)
{
    ipcn__route_way w = {.link_id = link, .link_kind = (uint8_t)kind,
                         .npath = npath, .uid = 1000, .name = "x",
                         .host = (char *)host, .user = "robot"};
    memcpy(w.path, path, npath * sizeof *path);
    return w;
}

static int learn(ipcn__route_table *t, uint64_t node, uint32_t link, int kind,
                 uint8_t npath, const uint64_t *path)
{
    ipcn__route_way w = way(link, kind, npath, path, "hostx");
    ipcn__route_entry *e;
    return ipcn__rt_learn(t, SELF, node, &w, &e);
}

static uint32_t best_link(const ipcn__route_table *t, uint64_t node)
{
    const ipcn__route_entry *e = ipcn__rt_find(t, node);
    assert_non_null(e);
    assert_true(e->best >= 0);
    return e->ways[e->best].link_id;
}

static void test_ways_and_best(void **state)
{
    (void)state;
    ipcn__route_table t = {0};
    const uint64_t far[] = {R1, R2, R3}, near[] = {R1}, mid[] = {R1, R2};
    /* The first way is the best; a longer one on another link is not. */
    assert_int_equal(learn(&t, X, 7, LINK_TCP, 3, far), IPCN__RT_BEST);
    assert_int_equal(best_link(&t, X), 7);
    assert_int_equal(learn(&t, X, 5, LINK_TCP, 3, far), IPCN__RT_BEST);
    assert_int_equal(best_link(&t, X), 5); /* as long: the lowest link id */
    assert_int_equal(learn(&t, X, 9, LINK_TCP, 1, near), IPCN__RT_BEST);
    assert_int_equal(best_link(&t, X), 9); /* fewest routers */
    const ipcn__route_entry *e = ipcn__rt_find(&t, X);
    assert_int_equal(e->nways, 3);
    assert_string_equal(e->name, "x");
    assert_string_equal(e->host, "hostx");
    assert_string_equal(e->user, "robot");
    assert_int_equal(e->uid, 1000);
    /* The same advert again changes nothing; a longer one on a link that
     * is not the best changes nothing either. */
    assert_int_equal(learn(&t, X, 9, LINK_TCP, 1, near), IPCN__RT_SAME);
    assert_int_equal(learn(&t, X, 7, LINK_TCP, 2, mid), IPCN__RT_SAME);
    assert_int_equal(e->nways, 3); /* link 7's way replaced, not added */
    /* The best link's way grows longer: the best moves. */
    assert_int_equal(learn(&t, X, 9, LINK_TCP, 3, far), IPCN__RT_BEST);
    assert_int_equal(best_link(&t, X), 7);
    /* Its host renamed on the best way: told again. */
    ipcn__route_way w = way(7, LINK_TCP, 2, mid, "other");
    ipcn__route_entry *got;
    assert_int_equal(ipcn__rt_learn(&t, SELF, X, &w, &got), IPCN__RT_BEST);
    assert_ptr_equal(got, e);
    assert_string_equal(e->host, "other");
    assert_null(ipcn__rt_find(&t, Y));
    ipcn__rt_free(&t);
    assert_int_equal(t.n, 0);
}

static void test_loop(void **state)
{
    (void)state;
    ipcn__route_table t = {0};
    const uint64_t looped[] = {R1, SELF, R2}, ok[] = {R1, R2};
    assert_int_equal(learn(&t, X, 3, LINK_TCP, 3, looped), IPCN__RT_LOOP);
    assert_null(ipcn__rt_find(&t, X)); /* nothing kept */
    /* A way to this node itself is a loop too. */
    assert_int_equal(learn(&t, SELF, 3, LINK_TCP, 2, ok), IPCN__RT_LOOP);
    assert_int_equal(t.n, 0);
    /* A known node: the looping advert leaves its way as it was. */
    assert_int_equal(learn(&t, X, 3, LINK_TCP, 2, ok), IPCN__RT_BEST);
    assert_int_equal(learn(&t, X, 3, LINK_TCP, 3, looped), IPCN__RT_LOOP);
    assert_int_equal(ipcn__rt_find(&t, X)->ways[0].npath, 2);
    ipcn__rt_free(&t);
}

typedef struct seen {
    uint64_t node[8];
    int what[8];
    int count;
    const ipcn__route_table *t;
} seen;

static void on_change(void *ctx, ipcn__route_entry *e, int what)
{
    seen *s = ctx;
    assert_true(s->count < 8);
    /* The entry is still in the table while it is told of. */
    assert_ptr_equal(ipcn__rt_find(s->t, e->node_id), e);
    s->node[s->count] = e->node_id;
    s->what[s->count++] = what;
}

static void test_link_down(void **state)
{
    (void)state;
    ipcn__route_table t = {0};
    const uint64_t p1[] = {R1}, p2[] = {R2, R3};
    learn(&t, X, 1, LINK_TCP, 1, p1);
    learn(&t, X, 2, LINK_TCP, 2, p2);
    learn(&t, Y, 1, LINK_TCP, 1, p1);
    assert_int_equal(best_link(&t, X), 1);
    /* Link 1 fails: X goes through link 2, Y has no way left. */
    seen s = {.t = &t};
    ipcn__rt_link_down(&t, 1, on_change, &s);
    assert_int_equal(s.count, 2);
    for (int i = 0; i < 2; i++)
        assert_int_equal(s.what[i], s.node[i] == X ? IPCN__RT_BEST : IPCN__RT_GONE);
    assert_int_equal(best_link(&t, X), 2);
    assert_null(ipcn__rt_find(&t, Y)); /* freed after the call */
    assert_int_equal(t.n, 1);
    /* Link 1 comes back: the better way is used again. */
    assert_int_equal(learn(&t, X, 1, LINK_TCP, 1, p1), IPCN__RT_BEST);
    assert_int_equal(best_link(&t, X), 1);
    /* A link that told nothing: no call. */
    s.count = 0;
    ipcn__rt_link_down(&t, 42, on_change, &s);
    assert_int_equal(s.count, 0);
    ipcn__rt_free(&t);
}

static void test_gone(void **state)
{
    (void)state;
    ipcn__route_table t = {0};
    const uint64_t p1[] = {R1}, p2[] = {R2, R3};
    learn(&t, X, 1, LINK_TCP, 1, p1);
    learn(&t, X, 2, LINK_TCP, 2, p2);
    ipcn__route_entry *e;
    /* GONE from the link that is not the best: the same. */
    assert_int_equal(ipcn__rt_forget(&t, X, 2, &e), IPCN__RT_SAME);
    assert_int_equal(e->nways, 1);
    /* ... from one that told nothing, or of a node unknown. */
    assert_int_equal(ipcn__rt_forget(&t, X, 9, &e), IPCN__RT_SAME);
    assert_int_equal(ipcn__rt_forget(&t, Y, 1, &e), IPCN__RT_SAME);
    assert_null(e);
    /* The last way: gone; the entry stays until dropped. */
    learn(&t, X, 2, LINK_TCP, 2, p2);
    assert_int_equal(ipcn__rt_forget(&t, X, 1, &e), IPCN__RT_BEST);
    assert_int_equal(best_link(&t, X), 2);
    assert_int_equal(ipcn__rt_forget(&t, X, 2, &e), IPCN__RT_GONE);
    assert_non_null(e);
    assert_int_equal(e->best, -1);
    assert_null(e->name);
    ipcn__rt_drop(&t, e);
    assert_null(ipcn__rt_find(&t, X));
    ipcn__rt_free(&t);
}

static void test_split_horizon(void **state)
{
    (void)state;
    ipcn__route_table t = {0};
    const uint64_t p1[] = {R1};
    learn(&t, X, 1, LINK_TCP, 1, p1);
    const ipcn__route_entry *e = ipcn__rt_find(&t, X);
    assert_false(ipcn__rt_tell(e, 1, LINK_TCP));  /* back where it came */
    assert_true(ipcn__rt_tell(e, 2, LINK_TCP));
    assert_true(ipcn__rt_tell(e, 3, LINK_UNIX));  /* TCP-learned to Unix */
    /* Learned over Unix: told to TCP links, not to Unix ones. */
    learn(&t, Y, 4, LINK_UNIX, 1, p1);
    e = ipcn__rt_find(&t, Y);
    assert_true(ipcn__rt_tell(e, 2, LINK_TCP));
    assert_false(ipcn__rt_tell(e, 3, LINK_UNIX));
    /* A full path leaves no room for the teller's id. */
    uint64_t full[IPCN_ROUTE_MAX_PATH];
    for (uint32_t i = 0; i < IPCN_ROUTE_MAX_PATH; i++)
        full[i] = 0x2000u + i;
    assert_int_equal(learn(&t, X, 1, LINK_TCP, IPCN_ROUTE_MAX_PATH, full),
                     IPCN__RT_BEST);
    assert_false(ipcn__rt_tell(ipcn__rt_find(&t, X), 2, LINK_TCP));
    ipcn__rt_free(&t);
}

/* Many nodes and links: the best is always the shortest way, whatever
 * order the adverts came in, and every link's fall leaves each node on
 * its best remaining way. */
static void test_many(void **state)
{
    (void)state;
    ipcn__route_table t = {0};
    uint64_t path[IPCN_ROUTE_MAX_PATH];
    for (uint32_t i = 0; i < IPCN_ROUTE_MAX_PATH; i++)
        path[i] = 0x3000u + i;
    for (uint64_t node = 1; node <= 50; node++)
        for (uint32_t link = 1; link <= 6; link++) {
            uint8_t np = (uint8_t)(1 + (node * 7 + link * 3) % 6);
            learn(&t, node, link, LINK_TCP, np, path);
        }
    assert_int_equal(t.n, 50);
    for (uint32_t down = 1; down <= 5; down++) {
        ipcn__rt_link_down(&t, down, NULL, NULL);
        for (uint64_t node = 1; node <= 50; node++) {
            const ipcn__route_entry *e = ipcn__rt_find(&t, node);
            assert_non_null(e);
            uint8_t want = 255;
            uint32_t want_link = 0;
            for (uint32_t link = down + 1; link <= 6; link++) {
                uint8_t np = (uint8_t)(1 + (node * 7 + link * 3) % 6);
                if (np < want) {
                    want = np;
                    want_link = link;
                }
            }
            assert_int_equal(e->ways[e->best].npath, want);
            assert_int_equal(e->ways[e->best].link_id, want_link);
        }
    }
    ipcn__rt_link_down(&t, 6, NULL, NULL);
    assert_int_equal(t.n, 0);
    ipcn__rt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ways_and_best),
        cmocka_unit_test(test_loop),
        cmocka_unit_test(test_link_down),
        cmocka_unit_test(test_gone),
        cmocka_unit_test(test_split_horizon),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
