/* SPDX-License-Identifier: MIT */
/*
 * test_relink.c — one corrupted frame must not split two nodes for good
 * (issue 12, bug 15).
 *
 * Two library nodes in this process, each on its own thread: "a-node"
 * dials "b-node" (the lower name dials).  The test corrupts their link the
 * way interference would: it writes a frame with a broken checksum into
 * one end of the link's socket (found among this process's descriptors by
 * its address), so that the node at the other end reads it and closes the
 * link for bad input (ERROR 200).  The two must link again (the dialler
 * dials again, with back-off when it happens again), and a request and a
 * subscription made before must work afterwards.  Both with link rings
 * (the socket then carries one-byte tokens, and the junk is refused as a
 * bad token) and without (IPCNET_NO_RING: it is refused as a bad frame).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <dirent.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ipcnet.h"
#include "testutil.h"
#include "helpers/l_common.h"

typedef struct samples {
    pthread_mutex_t mu;
    unsigned ok;
    char last[64];
} samples;

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    samples *s = user;
    pthread_mutex_lock(&s->mu);
    if (m->status == IPCN_OK) {
        s->ok++;
        snprintf(s->last, sizeof s->last, "%.*s", (int)m->len, (const char *)m->data);
    }
    pthread_mutex_unlock(&s->mu);
}

static unsigned samples_ok(samples *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned k = s->ok;
    pthread_mutex_unlock(&s->mu);
    return k;
}

static int on_echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    (void)n;
    (void)user;
    char buf[128];
    int k = snprintf(buf, sizeof buf, "echo:%.*s", (int)req->len, (const char *)req->data);
    ipcn_reply_set(ctx, buf, (size_t)k, "text/plain");
    return IPCN_OK;
}

static uint64_t linked_ns(ipcn_node *n, const char *name)
{
    ipcn_peer_list *pl = NULL;
    uint64_t t = 0;
    if (ipcn_peers(n, &pl) != IPCN_OK)
        return 0;
    for (size_t i = 0; i < pl->count; i++)
        if (!strcmp(pl->items[i].name, name))
            t = pl->items[i].linked_ns;
    ipcn_peer_list_free(pl);
    return t;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* The path of a Unix socket address, "" when unnamed. */
static void addr_path(const struct sockaddr_un *sa, socklen_t len, char *out, size_t cap)
{
    size_t k = len > offsetof(struct sockaddr_un, sun_path)
                   ? len - offsetof(struct sockaddr_un, sun_path)
                   : 0;
    if (k > sizeof sa->sun_path)
        k = sizeof sa->sun_path;
    snprintf(out, cap, "%.*s", (int)strnlen(sa->sun_path, k), sa->sun_path);
}

/* The descriptor of this process that is one end of the link between
 * a-node and b-node: b-node's accepted end (its address is b-node's
 * listening address, the peer unnamed) when at_acceptor, else a-node's
 * dialled end (its peer's address is b-node's).  b-node binds under a
 * temporary name ending in ".b-node" and renames it; the address stays. */
static int link_fd(bool at_acceptor)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int found = -1, count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) < 0 ||
            !S_ISSOCK(st.st_mode))
            continue;
        int listening = 0;
        socklen_t ol = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) < 0 || listening)
            continue;
        struct sockaddr_un me, peer;
        socklen_t ml = sizeof me, pl = sizeof peer;
        if (getsockname(fd, (struct sockaddr *)&me, &ml) < 0 ||
            getpeername(fd, (struct sockaddr *)&peer, &pl) < 0 || me.sun_family != AF_UNIX)
            continue;
        char mine[128], theirs[128];
        addr_path(&me, ml, mine, sizeof mine);
        addr_path(&peer, pl, theirs, sizeof theirs);
        bool hit = at_acceptor ? ends_with(mine, ".b-node") && !theirs[0]
                               : ends_with(theirs, ".b-node") && !mine[0];
        if (hit) {
            found = fd;
            count++;
        }
    }
    closedir(d);
    assert_int_equal(count, 1);
    return found;
}

/* A PING frame with a checksum that does not match: what a flipped bit on
 * the way would give. */
static void inject_bad_frame(int fd)
{
    uint8_t f[56] = {'I', 'P', 'C', 'N', 1, 3 /* PING */, 0, 8};
    f[12] = 8; /* len */
    f[16] = 0x42;
    for (int i = 40; i < 48; i++)
        f[i] = 0xA5; /* checksum: wrong */
    f[48] = 1;
    assert_int_equal(send(fd, f, sizeof f, MSG_NOSIGNAL | MSG_DONTWAIT), (ssize_t)sizeof f);
}

static void request_ok(ipcn_node *a, const char *body)
{
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(a, "b/echo", body, strlen(body), "text/plain", &m, 5000),
                     IPCN_OK);
    char want[64];
    snprintf(want, sizeof want, "echo:%s", body);
    assert_string_equal((const char *)m->data, want);
    ipcn_msg_free(m);
}

/* b publishes until a's subscription has one more sample (bounded). */
static void stream_ok(ipcn_node *b, samples *sm)
{
    unsigned k0 = samples_ok(sm);
    uint64_t end = l_now_ms() + 10000;
    while (samples_ok(sm) == k0 && l_now_ms() < end) {
        ipcn_publish(b, "b/stream", "tick", 4);
        l_sleep_ms(20);
    }
    assert_true(samples_ok(sm) > k0);
}

static void corrupted_link(const char *net, bool no_ring)
{
    l_net(net);
    if (no_ring)
        setenv("IPCNET_NO_RING", "1", 1);
    l_events *eva = l_new_events(), *evb = l_new_events();
    ipcn_node *a = NULL, *b = NULL;
    assert_int_equal(ipcn_node_open(&a, "a-node", NULL), IPCN_OK);
    l_own_node(a);
    assert_int_equal(ipcn_node_open(&b, "b-node", NULL), IPCN_OK);
    l_own_node(b);
    unsetenv("IPCNET_NO_RING");
    ipcn_node_set_event_fn(a, l_event_fn, eva);
    ipcn_node_set_event_fn(b, l_event_fn, evb);
    assert_int_equal(ipcn_offer(b, "b/echo", "text/plain", on_echo, NULL), IPCN_OK);
    assert_int_equal(ipcn_announce(b, "b/stream", IPCN_STREAM, "text/plain", NULL, 0),
                     IPCN_CREATED);
    assert_int_equal(ipcn_node_start_thread(a), IPCN_OK);
    assert_int_equal(ipcn_node_start_thread(b), IPCN_OK);
    assert_true(L_UNTIL(NULL, l_count_resources(a, "b/*", "b-node") == 2, 10000));
    samples sm = {.mu = PTHREAD_MUTEX_INITIALIZER};
    ipcn_sub sub;
    assert_int_equal(ipcn_subscribe(a, "b/stream", 64, on_sample, &sm, &sub), IPCN_OK);
    request_ok(a, "before");
    stream_ok(b, &sm);

    /* Three corruptions: the first two read by the dialler (whose link then
     * closes for bad input: the case that split the network), the last by
     * the acceptor.  Each time they link again. */
    for (int round = 0; round < 3; round++) {
        bool dialler_reads = round < 2;
        size_t ma = l_events_mark(eva), mb = l_events_mark(evb);
        uint64_t before = linked_ns(a, "b-node"), t = linked_ns(b, "a-node");
        if (t > before)
            before = t;
        ipcn_node_stats sa0 = {.size = sizeof sa0}, sb0 = {.size = sizeof sb0};
        ipcn_node_get_stats(a, &sa0);
        ipcn_node_get_stats(b, &sb0);
        /* Written into b's end, the bytes are read by a, and vice versa. */
        inject_bad_frame(link_fd(dialler_reads));

        l_event down;
        assert_true(L_UNTIL(NULL, l_events_find(eva, ma, IPCN_EV_PEER_DOWN, "b-node",
                                                &down) >= 0,
                            10000));
        if (dialler_reads)
            assert_int_equal(down.status, IPCN_BAD_REQUEST);
        assert_true(L_UNTIL(NULL, l_events_find(evb, mb, IPCN_EV_PEER_DOWN, "a-node",
                                                &down) >= 0,
                            10000));
        if (!dialler_reads)
            assert_int_equal(down.status, IPCN_BAD_REQUEST);
        ipcn_node_stats sa1 = {.size = sizeof sa1}, sb1 = {.size = sizeof sb1};
        ipcn_node_get_stats(a, &sa1);
        ipcn_node_get_stats(b, &sb1);
        ipcn_node_stats *reader = dialler_reads ? &sa1 : &sb1;
        ipcn_node_stats *reader0 = dialler_reads ? &sa0 : &sb0;
        assert_int_equal(reader->links_refused, reader0->links_refused + 1);

        /* Linked again: a new link, with b's resources known again. */
        bool back = L_UNTIL(NULL, linked_ns(a, "b-node") > before &&
                                      linked_ns(b, "a-node") > before &&
                                      l_count_resources(a, "b/*", "b-node") == 2,
                            20000);
        if (!back)
            print_error("round %d: not linked again (a: %llu, b: %llu, resources %d)\n",
                        round, (unsigned long long)linked_ns(a, "b-node"),
                        (unsigned long long)linked_ns(b, "a-node"),
                        l_count_resources(a, "b/*", "b-node"));
        assert_true(back);
        assert_true(l_events_find(eva, ma, IPCN_EV_PEER_UP, "b-node", NULL) >= 0);
        char body[32];
        snprintf(body, sizeof body, "after-%d", round);
        request_ok(a, body);
        stream_ok(b, &sm); /* the subscription made before the first cut */
    }
    assert_int_equal(ipcn_unsubscribe(a, sub), IPCN_OK);
    l_close_node(a);
    l_close_node(b);
}

static void test_corrupted_frame_relinks(void **state)
{
    (void)state;
    corrupted_link("relink-ring", false);
}

static void test_corrupted_frame_relinks_no_ring(void **state)
{
    (void)state;
    corrupted_link("relink-socket", true);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_corrupted_frame_relinks, l_teardown),
        cmocka_unit_test_teardown(test_corrupted_frame_relinks_no_ring, l_teardown),
    };
    return cmocka_run_group_tests_name("relink", tests, NULL, NULL);
}
