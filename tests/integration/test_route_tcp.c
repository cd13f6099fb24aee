/* SPDX-License-Identifier: MIT */
/*
 * test_route_tcp.c — routing between two hosts (protocol 19.2): host A
 * (IPCNET_DIR neta) has gateway "gwa" and a plain node "pa"; host B
 * (netb) has "gwb" and "pb".  The gateways link over TCP on 127.0.0.1
 * (Noise, each its own config directory and trust list); the plain
 * nodes are not changed: each reaches the other through the two
 * gateways, on a routed link.  All four nodes run in this process, each
 * with its own thread.
 *
 *   pa finds pb's stream and service (provider "pb@hostb", the host as
 *   A's trust list names B), its routed link to pb goes through gwa with
 *   two routers on the way; pa's request crosses and is answered; pa's
 *   subscription gets pb's samples; and the reverse: pb finds pa as
 *   "pa@hosta" and its request crosses.  Then gwb closes: pa's routed
 *   link to pb closes (303) and pb's resources leave pa's directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "ipcnet_hosts.h"
#include "testutil.h"
#include "helpers/l_common.h"

#define HB 100
#define DEAD 1000

static char g_root[256];

/* A key pair in root/cfg/host.key (0600); its public key in pub. */
static void make_key(const char *cfg, char pub[IPCN_KEY_TEXT_LEN + 1])
{
    char dir[512], file[600];
    snprintf(dir, sizeof dir, "%s/%s", g_root, cfg);
    mkdir(dir, 0700);
    uint8_t sk[32], pk[32];
    randombytes_buf(sk, sizeof sk);
    assert_int_equal(crypto_scalarmult_base(pk, sk), 0);
    char b64[IPCN_KEY_TEXT_LEN + 1];
    sodium_bin2base64(b64, sizeof b64, sk, 32, sodium_base64_VARIANT_ORIGINAL);
    snprintf(file, sizeof file, "%s/host.key", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", b64);
    fclose(f);
    assert_int_equal(chmod(file, 0600), 0);
    sodium_bin2base64(pub, IPCN_KEY_TEXT_LEN + 1, pk, 32,
                      sodium_base64_VARIANT_ORIGINAL);
}

/* root/cfg/default/trusted: the other host, as name. */
static void trust(const char *cfg, const char *name, const char *key)
{
    char file[600];
    snprintf(file, sizeof file, "%s/%s/default", g_root, cfg);
    mkdir(file, 0700);
    strcat(file, "/trusted");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f, "%s %s\n", name, key);
    fclose(f);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A node of host net (its IPCNET_DIR), with its own thread; a gateway
 * when cfg is given. */
static ipcn_node *open_in(const char *net, const char *name, const char *cfg,
                          const char *listen, const char *peers)
{
    char dir[512], cdir[512];
    snprintf(dir, sizeof dir, "%s/%s", g_root, net);
    mkdir(dir, 0700);
    setenv("IPCNET_DIR", dir, 1);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.heartbeat_ms = HB;
    o.dead_after_ms = DEAD;
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, name, &o), IPCN_OK);
    if (cfg) {
        ipcn_gateway_opts g;
        ipcn_gateway_opts_init(&g);
        snprintf(cdir, sizeof cdir, "%s/%s", g_root, cfg);
        g.config_dir = cdir;
        g.listen = listen;
        g.peers = peers;
        g.redial_max_ms = 500;
        assert_int_equal(ipcn_node_gateway(n, &g), IPCN_OK);
    }
    assert_int_equal(ipcn_node_start_thread(n), IPCN_OK);
    return n;
}

static int found(ipcn_node *n, const char *pattern, const char *provider)
{
    ipcn_resource_list *rl = NULL;
    if (ipcn_find(n, pattern, IPCN_ANY, &rl) != IPCN_OK)
        return -1;
    int k = 0;
    for (size_t i = 0; i < rl->count; i++)
        if (!provider || !strcmp(rl->items[i].provider, provider))
            k++;
    ipcn_resource_list_free(rl);
    return k;
}

/* n's routed link to peer: its hops and the next hop's name (via). */
static bool routed(ipcn_node *n, const char *peer, uint32_t *hops, char *via,
                   size_t cap)
{
    ipcn_link_info *a = NULL;
    size_t k = 0;
    if (ipcn_links(n, &a, &k) != IPCN_OK)
        return false;
    bool got = false;
    for (size_t i = 0; i < k; i++)
        if (a[i].kind == IPCN_LINK_ROUTED && !strcmp(a[i].peer, peer)) {
            got = true;
            *hops = a[i].hops;
            snprintf(via, cap, "%s", a[i].via);
        }
    ipcn_links_free(a, k);
    return got;
}

static int on_svc(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                  void *user)
{
    (void)user;
    char buf[128];
    int k = snprintf(buf, sizeof buf, "%s:%.*s", ipcn_node_name(n),
                     (int)req->len, (const char *)req->data);
    ipcn_reply_set(ctx, buf, (size_t)k, "text/plain");
    return IPCN_OK;
}

static atomic_int g_samples;

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n, (void)user;
    if (m->len == 5 && !memcmp(m->data, "frame", 5))
        atomic_fetch_add(&g_samples, 1);
}

static void expect_answer(ipcn_node *n, const char *path, const char *want)
{
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(n, path, "hi", 2, "text/plain", &m, 5000),
                     IPCN_OK);
    assert_int_equal(m->len, strlen(want));
    assert_memory_equal(m->data, want, m->len);
    ipcn_msg_free(m);
}

static void test_two_hosts(void **state)
{
    (void)state;
    char ka[IPCN_KEY_TEXT_LEN + 1], kb[IPCN_KEY_TEXT_LEN + 1];
    make_key("cfga", ka);
    make_key("cfgb", kb);
    trust("cfga", "hostb", kb);
    trust("cfgb", "hosta", ka);
    char la[64];
    snprintf(la, sizeof la, "tcp://127.0.0.1:%d", free_port());
    ipcn_node *gwa = open_in("neta", "gwa", "cfga", la, "");
    ipcn_node *pa = open_in("neta", "pa", NULL, NULL, NULL);
    ipcn_node *gwb = open_in("netb", "gwb", "cfgb", "", la);
    ipcn_node *pb = open_in("netb", "pb", NULL, NULL, NULL);
    assert_true(IPCN_IS_OK(ipcn_announce(pb, "pb/cam", IPCN_STREAM,
                                         "text/plain", NULL, 0)));
    assert_int_equal(ipcn_offer(pb, "pb/svc", "text/plain", on_svc, NULL),
                     IPCN_OK);
    assert_int_equal(ipcn_offer(pa, "pa/svc", "text/plain", on_svc, NULL),
                     IPCN_OK);

    /* pa sees pb through the two gateways. */
    assert_true(L_UNTIL(NULL, found(pa, "pb/**", "pb@hostb") == 2, 20000));
    uint32_t hops = 0;
    char via[64] = "";
    assert_true(routed(pa, "pb@hostb", &hops, via, sizeof via));
    assert_int_equal(hops, 2);
    assert_string_equal(via, "gwa");
    expect_answer(pa, "pb/svc", "pb:hi");
    ipcn_sub sub;
    atomic_store(&g_samples, 0);
    assert_int_equal(ipcn_subscribe(pa, "pb/cam", 64, on_sample, NULL, &sub),
                     IPCN_OK);
    /* Published until three came (pb knows of the subscriber once its
     * SUBSCRIBE crossed). */
    for (int i = 0; i < 2000 && atomic_load(&g_samples) < 3; i++) {
        ipcn_publish(pb, "pb/cam", "frame", 5);
        l_sleep_ms(5);
    }
    assert_true(atomic_load(&g_samples) >= 3);

    /* And the other way. */
    assert_true(L_UNTIL(NULL, found(pb, "pa/**", "pa@hosta") == 1, 20000));
    expect_answer(pb, "pa/svc", "pa:hi");
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(pa, &s), IPCN_OK);
    assert_int_equal(s.loops, 0);
    assert_int_equal(s.bad_gateway, 0);

    /* Host B's gateway goes: pa has no way left to pb, whose routed link
     * closes and whose resources leave. */
    ipcn_node_close(gwb);
    assert_true(L_UNTIL(NULL, found(pa, "pb/**", NULL) == 0, 20000));
    assert_false(routed(pa, "pb@hostb", &hops, via, sizeof via));
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_request(pa, "pb/svc", "x", 1, "", &m, 2000),
                     IPCN_NOT_FOUND);
    assert_int_equal(ipcn_unsubscribe(pa, sub), IPCN_OK);
    ipcn_node_close(pb);
    ipcn_node_close(pa);
    ipcn_node_close(gwa);
}

int main(void)
{
    assert_int_equal(sodium_init() >= 0, 1);
    snprintf(g_root, sizeof g_root, "%s", tu_net_dir());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
