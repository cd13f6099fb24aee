/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_link.c — TCP links between the gateways of two hosts (issue 18):
 * Noise XX over 127.0.0.1, each side with its own IPCNET_DIR and config
 * directory (host key, trust list).  The gateway "gw" of host A runs in
 * this process; host B's, also named "gw", in a helper (ipcn-test-tcp_gw).
 *
 *   linked:     ipcn_links() shows the TCP link with B's key; B's data is
 *               found (provider "gw@hostb"), queried, its service
 *               requested, its stream subscribed.
 *   309:        a key the other side does not trust gets 309, whichever
 *               side dialled; counted as unauthorized by the refuser.
 *   redial:     B dies: the link goes; B comes back: A dials it again.
 *   cipher:     the link's Noise cipher is AESGCM where this CPU has AES
 *               instructions, ChaChaPoly once B is told IPCNET_CIPHER=
 *               chachapoly; a misspelt IPCNET_CIPHER stops the gateway.
 *   bit flip:   a proxy here (no library) flips one bit of a record:
 *               the link closes, auth_failures is 1 on the receiver.
 *   hostile:    a raw client sends garbage and truncated handshakes, a
 *               huge length, a handshake that never ends: each closed
 *               cleanly, and B still links afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "ipcnet_hosts.h"
#include "testutil.h"
#include "helpers/l_common.h"

#define HB 100
#define DEAD 600

static char g_root[256];
static char g_key_a[IPCN_KEY_TEXT_LEN + 1], g_key_b[IPCN_KEY_TEXT_LEN + 1],
    g_key_x[IPCN_KEY_TEXT_LEN + 1];
static volatile int g_got309; /* A's links closed by a 309 */

static void on_log(ipcn_log_level level, const char *id, const char *msg,
                   void *user)
{
    (void)user;
    if (!strcmp(id, "IPCN-LINK-DOWN") && strstr(msg, "closed: 309 "))
        __atomic_add_fetch(&g_got309, 1, __ATOMIC_RELAXED);
    if (level <= IPCN_LOG_WARN)
        fprintf(stderr, "[%s] %s\n", id, msg);
}

static void path_of(char *buf, size_t cap, const char *leaf)
{
    snprintf(buf, cap, "%s/%s", g_root, leaf);
}

/* A fresh X25519 key pair in cfg/host.key (0600); its public key. */
static void make_key(const char *cfg, char pub_b64[IPCN_KEY_TEXT_LEN + 1])
{
    char dir[512], file[600];
    path_of(dir, sizeof dir, cfg);
    mkdir(dir, 0700);
    uint8_t priv[32], pub[32];
    randombytes_buf(priv, sizeof priv);
    assert_int_equal(crypto_scalarmult_base(pub, priv), 0);
    char b64[IPCN_KEY_TEXT_LEN + 1];
    sodium_bin2base64(b64, sizeof b64, priv, 32, sodium_base64_VARIANT_ORIGINAL);
    snprintf(file, sizeof file, "%s/host.key", dir);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b64, strlen(b64)), (ssize_t)strlen(b64));
    assert_int_equal(write(fd, "\n", 1), 1);
    close(fd);
    sodium_bin2base64(pub_b64, IPCN_KEY_TEXT_LEN + 1, pub, 32,
                      sodium_base64_VARIANT_ORIGINAL);
}

/* cfg/default/trusted holds exactly these "NAME KEY" lines. */
static void set_trust(const char *cfg, const char *lines)
{
    char dir[512], file[600];
    path_of(dir, sizeof dir, cfg);
    strcat(dir, "/default");
    mkdir(dir, 0700);
    snprintf(file, sizeof file, "%s/trusted", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f, "# hosts of network default\n%s", lines);
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

static void url(char *buf, size_t cap, int port)
{
    snprintf(buf, cap, "tcp://127.0.0.1:%d", port);
}

/* Host A's gateway, in this process. */
static ipcn_node *open_a(const char *listen, const char *peers)
{
    char dir[512], cfg[512];
    path_of(dir, sizeof dir, "neta");
    mkdir(dir, 0700);
    setenv("IPCNET_DIR", dir, 1);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.heartbeat_ms = HB;
    o.dead_after_ms = DEAD;
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "gw", &o), IPCN_OK);
    ipcn_gateway_opts g;
    ipcn_gateway_opts_init(&g);
    path_of(cfg, sizeof cfg, "cfga");
    g.config_dir = cfg;
    g.listen = listen ? listen : "";
    g.peers = peers ? peers : "";
    g.redial_max_ms = 500;
    assert_int_equal(ipcn_node_gateway(n, &g), IPCN_OK);
    assert_int_equal(ipcn_node_gateway(n, &g), IPCN_METHOD_NOT_ALLOWED);
    return n;
}

/* Host B's gateway, in a helper with its own IPCNET_DIR. */
static pid_t spawn_b(const char *listen, const char *peers, const char *out)
{
    char dir[512], cfg[600], l[128], p[128], o[600], hb[16], dead[16];
    path_of(dir, sizeof dir, "netb");
    mkdir(dir, 0700);
    char *saved = strdup(getenv("IPCNET_DIR") ? getenv("IPCNET_DIR") : "");
    setenv("IPCNET_DIR", dir, 1);
    snprintf(cfg, sizeof cfg, "cfg=%s/cfgb", g_root);
    snprintf(l, sizeof l, "listen=%s", listen ? listen : "");
    snprintf(p, sizeof p, "peers=%s", peers ? peers : "");
    snprintf(o, sizeof o, "out=%s/%s", g_root, out ? out : "b.out");
    snprintf(hb, sizeof hb, "hb=%d", HB);
    snprintf(dead, sizeof dead, "dead=%d", DEAD);
    const char *args[] = {"gw", "60", cfg, l, p, o, hb, dead, NULL};
    pid_t pid = tu_spawn("tcp_gw", args);
    setenv("IPCNET_DIR", saved, 1);
    free(saved);
    assert_true(pid > 0);
    return pid;
}

/* Stop B (SIGTERM) and read what it wrote: "unauthorized=U
 * auth_failures=A got309=G". */
static void stop_b(pid_t pid, const char *out, unsigned long long v[3])
{
    kill(pid, SIGTERM);
    assert_int_equal(tu_wait(pid, 20000), 0);
    char file[600];
    snprintf(file, sizeof file, "%s/%s", g_root, out);
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "unauthorized=%llu auth_failures=%llu got309=%llu",
                            &v[0], &v[1], &v[2]), 3);
    fclose(f);
    unlink(file);
}

/* The cipher two gateways left to their defaults settle on. */
static const char *default_cipher(void)
{
    return crypto_aead_aes256gcm_is_available() ? "AESGCM" : "ChaChaPoly";
}

/* A's TCP link to host B, if up: its row in out (strings not kept). */
static bool tcp_link(ipcn_node *n, ipcn_link_info *out)
{
    ipcn_link_info *a = NULL;
    size_t k = 0;
    if (ipcn_links(n, &a, &k) != IPCN_OK)
        return false;
    bool found = false;
    for (size_t i = 0; i < k; i++) {
        if (a[i].kind != IPCN_LINK_TCP)
            continue;
        found = true;
        if (out) {
            *out = a[i];
            out->peer = out->host = out->addr = out->via = "";
            assert_string_equal(a[i].peer, "gw@hostb");
            assert_string_equal(a[i].host, "hostb");
            assert_true(!strncmp(a[i].addr, "tcp://127.0.0.1:", 16));
        }
    }
    ipcn_links_free(a, k);
    return found;
}

static ipcn_node_stats stats(ipcn_node *n)
{
    ipcn_node_stats s = {.size = sizeof s};
    assert_int_equal(ipcn_node_get_stats(n, &s), IPCN_OK);
    return s;
}

static int count_found(ipcn_node *n, const char *pattern, const char *provider)
{
    ipcn_resource_list *rl = NULL;
    if (ipcn_find(n, pattern, IPCN_ANY, &rl) != IPCN_OK)
        return -1;
    int k = 0;
    for (size_t i = 0; i < rl->count; i++)
        if (!strcmp(rl->items[i].provider, provider))
            k++;
    ipcn_resource_list_free(rl);
    return k;
}

static void trust_both(void)
{
    char line[128];
    snprintf(line, sizeof line, "hostb %s\n", g_key_b);
    set_trust("cfga", line);
    snprintf(line, sizeof line, "hosta %s\n", g_key_a);
    set_trust("cfgb", line);
}

static int g_samples;

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n, (void)user;
    if (m->len > 5 && !memcmp(m->data, "tick-", 5))
        g_samples++;
}

/* B dials A; every verb crosses. */
static void test_linked(void **state)
{
    (void)state;
    trust_both();
    char la[64];
    url(la, sizeof la, free_port());
    ipcn_node *a = open_a(la, NULL);
    pid_t b = spawn_b(NULL, la, "b.out");
    ipcn_link_info li;
    assert_true(L_UNTIL(a, tcp_link(a, NULL), 10000));
    assert_true(tcp_link(a, &li));
    assert_string_equal(li.key, g_key_b);
    assert_int_equal(li.auth_failures, 0);
    assert_string_equal(li.cipher, default_cipher());
    assert_true(L_UNTIL(a, count_found(a, "gw/**", "gw@hostb") == 3, 10000));

    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(a, "gw/data", &m, 5000), IPCN_OK);
    assert_int_equal(m->len, strlen("value-of-gw"));
    assert_memory_equal(m->data, "value-of-gw", m->len);
    ipcn_msg_free(m);

    m = NULL;
    assert_int_equal(ipcn_request(a, "gw/svc", "hi", 2, "text/plain", &m, 5000),
                     IPCN_OK);
    assert_int_equal(m->len, strlen("echo:gw:hi"));
    assert_memory_equal(m->data, "echo:gw:hi", m->len);
    ipcn_msg_free(m);

    /* A request and its answer over many records each (65 519 bytes of
     * plaintext at most per record). */
    size_t big = 300000;
    char *body = malloc(big);
    for (size_t i = 0; i < big; i++)
        body[i] = (char)('a' + i % 26);
    m = NULL;
    assert_int_equal(ipcn_request(a, "gw/svc", body, big, "text/plain", &m, 10000),
                     IPCN_OK);
    assert_int_equal(m->len, 8 + big);
    assert_memory_equal(m->data, "echo:gw:", 8);
    assert_memory_equal((const char *)m->data + 8, body, big);
    ipcn_msg_free(m);
    free(body);
    /* The round trip of the PING each side sends at link up, through
     * Noise; the way to B's gateway is its one name (linked); A's node
     * service "links" tells the TCP link with B's key (`ipcnet links`). */
    assert_true(L_UNTIL(a, tcp_link(a, &li) && li.rtt_ns > 0, 10000));
    char **hops = NULL;
    size_t nh = 0;
    assert_int_equal(ipcn_route(a, "gw@hostb", &hops, &nh), IPCN_OK);
    assert_int_equal(nh, 1);
    assert_string_equal(hops[0], "gw@hostb");
    ipcn_route_free(hops, nh);
    m = NULL;
    assert_int_equal(ipcn_request(a, "@sys/gw/links", NULL, 0, NULL, &m, 5000),
                     IPCN_OK);
    assert_non_null(memmem(m->data, m->len, "tcp", 3));
    assert_non_null(memmem(m->data, m->len, g_key_b, strlen(g_key_b)));
    assert_non_null(memmem(m->data, m->len, "gw@hostb", 8));
    ipcn_msg_free(m);

    ipcn_sub sub;
    g_samples = 0;
    assert_int_equal(ipcn_subscribe(a, "gw/stream", 64, on_sample, NULL, &sub),
                     IPCN_OK);
    assert_true(L_UNTIL(a, g_samples >= 3, 10000));

    /* What crossed was encrypted and counted on the link. */
    assert_true(tcp_link(a, &li));
    assert_true(li.frames_in > 5 && li.bytes_in > 0 && li.bytes_out > 0);
    ipcn_node_stats s = stats(a);
    assert_int_equal(s.auth_failures, 0);
    assert_int_equal(s.unauthorized, 0);
    unsigned long long v[3];
    stop_b(b, "b.out", v);
    assert_int_equal(v[0], 0);
    assert_int_equal(v[1], 0);
    assert_true(L_UNTIL(a, !tcp_link(a, NULL), 10000));
    ipcn_node_close(a);
}

/* The side that does not trust the other's key refuses it with 309, and
 * the other side reads that 309: B dials A (A refuses: the responder),
 * then A dials B (A refuses: the initiator). */
static void test_309(void **state)
{
    (void)state;
    char line[160];
    /* A trusts only an unrelated host; B trusts A. */
    snprintf(line, sizeof line, "other %s\n", g_key_x);
    set_trust("cfga", line);
    snprintf(line, sizeof line, "hosta %s\n", g_key_a);
    set_trust("cfgb", line);
    for (int dir = 0; dir < 2; dir++) {
        char la[64], lb[64];
        url(la, sizeof la, free_port());
        url(lb, sizeof lb, free_port());
        g_got309 = 0;
        ipcn_node *a = dir == 0 ? open_a(la, NULL) : open_a(NULL, lb);
        pid_t b = dir == 0 ? spawn_b(NULL, la, "b.out") : spawn_b(lb, NULL, "b.out");
        /* A refuses more than once: B redials (or A does), with back-off. */
        assert_true(L_UNTIL(a, stats(a).unauthorized >= 2, 15000));
        assert_false(tcp_link(a, NULL));
        unsigned long long v[3];
        stop_b(b, "b.out", v);
        assert_int_equal(v[0], 0);       /* B trusted A */
        assert_true(v[2] >= 1);          /* and was told 309 */
        assert_int_equal(stats(a).auth_failures, 0);
        ipcn_node_close(a);
    }
    /* Now B does not trust A, A trusts B: B refuses, A reads 309. */
    snprintf(line, sizeof line, "hostb %s\n", g_key_b);
    set_trust("cfga", line);
    snprintf(line, sizeof line, "other %s\n", g_key_x);
    set_trust("cfgb", line);
    for (int dir = 0; dir < 2; dir++) {
        char la[64], lb[64];
        url(la, sizeof la, free_port());
        url(lb, sizeof lb, free_port());
        g_got309 = 0;
        ipcn_node *a = dir == 0 ? open_a(la, NULL) : open_a(NULL, lb);
        pid_t b = dir == 0 ? spawn_b(NULL, la, "b.out") : spawn_b(lb, NULL, "b.out");
        assert_true(L_UNTIL(a, __atomic_load_n(&g_got309, __ATOMIC_RELAXED) >= 1,
                            15000));
        assert_false(tcp_link(a, NULL));
        assert_int_equal(stats(a).unauthorized, 0);
        unsigned long long v[3];
        stop_b(b, "b.out", v);
        assert_true(v[0] >= 1);          /* B refused */
        ipcn_node_close(a);
    }
}

/* A dials B; B dies; B comes back at the same address: A dials again. */
static void test_redial(void **state)
{
    (void)state;
    trust_both();
    char lb[64];
    url(lb, sizeof lb, free_port());
    ipcn_node *a = open_a(NULL, lb);
    pid_t b = spawn_b(lb, NULL, "b.out");
    assert_true(L_UNTIL(a, tcp_link(a, NULL), 10000));
    assert_true(L_UNTIL(a, count_found(a, "gw/**", "gw@hostb") == 3, 10000));
    ipcn_link_info li;
    assert_true(tcp_link(a, &li));
    assert_string_equal(li.cipher, default_cipher());
    tu_kill(b);
    assert_true(L_UNTIL(a, !tcp_link(a, NULL), 10000));
    assert_true(L_UNTIL(a, count_found(a, "gw/**", "gw@hostb") == 0, 10000));
    /* B comes back told to keep ChaChaPoly: A's offer of AESGCM is
     * declined, and the link says so. */
    setenv("IPCNET_CIPHER", "chachapoly", 1);
    b = spawn_b(lb, NULL, "b.out");
    unsetenv("IPCNET_CIPHER");
    assert_true(L_UNTIL(a, tcp_link(a, NULL), 15000));
    assert_true(tcp_link(a, &li));
    assert_string_equal(li.cipher, "ChaChaPoly");
    assert_true(L_UNTIL(a, count_found(a, "gw/**", "gw@hostb") == 3, 10000));
    ipcn_msg *m = NULL;
    assert_int_equal(ipcn_query(a, "gw/data", &m, 5000), IPCN_OK);
    ipcn_msg_free(m);
    unsigned long long v[3];
    stop_b(b, "b.out", v);
    ipcn_node_close(a);
}

/* B's key is taken off A's trust list while their link is up: A closes
 * it at once with a 309 (counted), B's redials are refused, and putting
 * the key back lets B in again. */
static void test_untrust_live(void **state)
{
    (void)state;
    trust_both();
    char la[64], line[160];
    url(la, sizeof la, free_port());
    ipcn_node *a = open_a(la, NULL);
    pid_t b = spawn_b(NULL, la, "b.out");
    assert_true(L_UNTIL(a, tcp_link(a, NULL), 10000));
    assert_true(L_UNTIL(a, count_found(a, "gw/**", "gw@hostb") == 3, 10000));
    assert_int_equal(stats(a).unauthorized, 0);
    snprintf(line, sizeof line, "other %s\n", g_key_x);
    set_trust("cfga", line);
    assert_true(L_UNTIL(a, stats(a).unauthorized >= 1 && !tcp_link(a, NULL), 10000));
    assert_true(L_UNTIL(a, count_found(a, "gw/**", "gw@hostb") == 0, 10000));
    /* B dials again, and is refused again */
    assert_true(L_UNTIL(a, stats(a).unauthorized >= 2, 15000));
    assert_false(tcp_link(a, NULL));
    trust_both();
    assert_true(L_UNTIL(a, tcp_link(a, NULL), 15000));
    assert_true(L_UNTIL(a, count_found(a, "gw/**", "gw@hostb") == 3, 10000));
    unsigned long long v[3];
    stop_b(b, "b.out", v);
    assert_int_equal(v[0], 0); /* B trusted A throughout */
    assert_true(v[2] >= 2);    /* and was told 309 each time */
    assert_int_equal(stats(a).auth_failures, 0);
    ipcn_node_close(a);
}

/* ---- a proxy that flips one bit of one record (no library) ---- */

typedef struct proxy {
    int lfd, port, to_port;
    volatile int flip;      /* set: flip a bit of the next B->A record */
    volatile int flipped;
    volatile int stop;
    pthread_t th;
} proxy;

/* Relay one connection both ways; B->A bytes are cut into records (a
 * 2-byte length, then the record) so that one bit of a record's body can
 * be flipped when asked. */
static void relay(proxy *p, int a, int b)
{
    uint8_t buf[1 << 16];
    size_t rec_left = 0, hdr_got = 0;
    uint8_t hdr[2];
    for (;;) {
        struct pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
        if (p->stop || poll(fds, 2, 50) < 0)
            return;
        if (fds[0].revents) {
            ssize_t r = read(a, buf, sizeof buf);
            if (r <= 0 || send(b, buf, (size_t)r, MSG_NOSIGNAL) != r)
                return;
        }
        if (fds[1].revents) {
            ssize_t r = read(b, buf, sizeof buf);
            if (r <= 0)
                return;
            for (ssize_t i = 0; i < r; i++) {
                if (rec_left == 0) {
                    hdr[hdr_got++] = buf[i];
                    if (hdr_got == 2) {
                        rec_left = (size_t)hdr[0] << 8 | hdr[1];
                        hdr_got = 0;
                    }
                    continue;
                }
                if (p->flip && rec_left == 1) { /* the record's last byte */
                    buf[i] ^= 0x10;
                    p->flip = 0;
                    p->flipped++;
                }
                rec_left--;
            }
            if (send(a, buf, (size_t)r, MSG_NOSIGNAL) != r)
                return;
        }
    }
}

static void *proxy_main(void *arg)
{
    proxy *p = arg;
    while (!p->stop) {
        struct pollfd pf = {p->lfd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        int a = accept(p->lfd, NULL, NULL);
        if (a < 0)
            continue;
        int b = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)p->to_port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(b, (struct sockaddr *)&sa, sizeof sa) == 0)
            relay(p, a, b);
        close(a);
        close(b);
    }
    return NULL;
}

static void proxy_start(proxy *p, int to_port)
{
    memset(p, 0, sizeof *p);
    p->to_port = to_port;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof a;
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(p->lfd, 8), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &sl), 0);
    p->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&p->th, NULL, proxy_main, p), 0);
}

static void proxy_stop(proxy *p)
{
    p->stop = 1;
    pthread_join(p->th, NULL);
    close(p->lfd);
}

static void test_bit_flip(void **state)
{
    (void)state;
    trust_both();
    char lb[64], lp[64];
    int pb = free_port();
    url(lb, sizeof lb, pb);
    proxy px;
    proxy_start(&px, pb);
    url(lp, sizeof lp, px.port);
    ipcn_node *a = open_a(NULL, lp);
    pid_t b = spawn_b(lb, NULL, "b.out");
    assert_true(L_UNTIL(a, tcp_link(a, NULL), 10000));
    assert_true(L_UNTIL(a, count_found(a, "gw/**", "gw@hostb") == 3, 10000));
    assert_int_equal(stats(a).auth_failures, 0);
    ipcn_sub sub;
    g_samples = 0;
    assert_int_equal(ipcn_subscribe(a, "gw/stream", 64, on_sample, NULL, &sub),
                     IPCN_OK);
    assert_true(L_UNTIL(a, g_samples >= 2, 10000));
    /* B publishes every 50 ms: its next record reaches A with a bit
     * flipped. */
    px.flip = 1;
    assert_true(L_UNTIL(a, stats(a).auth_failures >= 1, 10000));
    assert_int_equal(px.flipped, 1);
    ipcn_node_stats s = stats(a);
    assert_int_equal(s.auth_failures, 1);
    assert_true(s.peers_lost >= 1); /* the link was up, and closed */
    /* It comes back (A dials again through the proxy, nothing flipped). */
    assert_true(L_UNTIL(a, tcp_link(a, NULL), 15000));
    ipcn_link_info li;
    assert_true(tcp_link(a, &li));
    assert_int_equal(li.auth_failures, 0); /* a new link */
    assert_int_equal(stats(a).auth_failures, 1);
    unsigned long long v[3];
    stop_b(b, "b.out", v);
    assert_int_equal(v[1], 0); /* nothing flipped towards B */
    proxy_stop(&px);
    ipcn_node_close(a);
}

/* ---- a raw, hostile client of A's TCP socket ---- */

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void raw_send(int fd, const void *p, size_t len)
{
    assert_int_equal(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void raw_record(int fd, const uint8_t *body, size_t len, size_t claim)
{
    uint8_t h[2] = {(uint8_t)(claim >> 8), (uint8_t)claim};
    raw_send(fd, h, 2);
    if (len)
        raw_send(fd, body, len);
}

/* Read (and drop) until A closes: true when it did within ms while a
 * was dispatched. */
static bool raw_closed(ipcn_node *a, int fd, int ms)
{
    return L_UNTIL(a, ({
        uint8_t junk[512];
        ssize_t r = recv(fd, junk, sizeof junk, MSG_DONTWAIT);
        r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }), ms);
}

static void test_hostile(void **state)
{
    (void)state;
    trust_both();
    int pa = free_port();
    char la[64];
    url(la, sizeof la, pa);
    ipcn_node *a = open_a(la, NULL);
    uint8_t junk[128];
    randombytes_buf(junk, sizeof junk);

    /* Any 32 bytes are an ephemeral key; a third message of garbage does
     * not authenticate. */
    int fd = raw_connect(pa);
    raw_record(fd, junk, 32, 32);
    uint8_t msg2[2 + 96];
    size_t got = 0;
    assert_true(L_UNTIL(a, ({
        ssize_t r = recv(fd, msg2 + got, sizeof msg2 - got, MSG_DONTWAIT);
        if (r > 0)
            got += (size_t)r;
        got == sizeof msg2;
    }), 10000));
    assert_int_equal(msg2[0] << 8 | msg2[1], 96);
    raw_record(fd, junk, 64, 64);
    assert_true(raw_closed(a, fd, 10000));
    close(fd);
    assert_int_equal(stats(a).auth_failures, 1);

    /* A first message of the wrong size. */
    fd = raw_connect(pa);
    raw_record(fd, junk, 20, 20);
    assert_true(raw_closed(a, fd, 10000));
    close(fd);
    assert_int_equal(stats(a).auth_failures, 2);

    /* A huge length: refused as soon as it is read. */
    fd = raw_connect(pa);
    raw_record(fd, junk, 100, 65535);
    assert_true(raw_closed(a, fd, 10000));
    close(fd);
    assert_int_equal(stats(a).auth_failures, 3);

    /* A truncated first message, then the client hangs up. */
    fd = raw_connect(pa);
    raw_record(fd, junk, 10, 32);
    shutdown(fd, SHUT_WR);
    assert_true(raw_closed(a, fd, 10000));
    close(fd);

    /* A handshake that never finishes: closed after dead_after. */
    fd = raw_connect(pa);
    raw_record(fd, junk, 32, 32);
    assert_true(raw_closed(a, fd, 20 * DEAD));
    close(fd);
    /* Nothing that came was anyone: no link, and no 309 sent. */
    assert_false(tcp_link(a, NULL));
    assert_int_equal(stats(a).unauthorized, 0);

    /* An innocent host still gets through. */
    pid_t b = spawn_b(NULL, la, "b.out");
    assert_true(L_UNTIL(a, tcp_link(a, NULL), 10000));
    assert_true(L_UNTIL(a, count_found(a, "gw/**", "gw@hostb") == 3, 10000));
    unsigned long long v[3];
    stop_b(b, "b.out", v);
    ipcn_node_close(a);
}

/* Bad settings are refused before anything is opened. */
static void test_settings(void **state)
{
    (void)state;
    char dir[512], cfg[512];
    path_of(dir, sizeof dir, "neta");
    mkdir(dir, 0700);
    setenv("IPCNET_DIR", dir, 1);
    ipcn_node *n = NULL;
    assert_int_equal(ipcn_node_open(&n, "gw", NULL), IPCN_OK);
    ipcn_gateway_opts g;
    ipcn_gateway_opts_init(&g);
    assert_int_equal(g.redial_min_ms, 100);
    assert_int_equal(g.redial_max_ms, 5000);
    path_of(cfg, sizeof cfg, "cfga");
    g.config_dir = cfg;
    static const char *const bad[] = {"127.0.0.1:7447", "tcp://127.0.0.1",
                                      "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536",
                                      "tcp://::1:7447", "tcp://[::1]7447",
                                      "tcp://:7447", "udp://1.2.3.4:5",
                                      "tcp://a b:7"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        g.listen = bad[i];
        g.peers = "";
        assert_int_equal(ipcn_node_gateway(n, &g), IPCN_BAD_REQUEST);
        g.listen = "";
        g.peers = bad[i];
        assert_int_equal(ipcn_node_gateway(n, &g), IPCN_BAD_REQUEST);
    }
    /* A cipher nobody knows is a mistake to report, not to ignore. */
    set_trust("cfga", "");
    g.listen = g.peers = "";
    assert_int_equal(ipcn_node_gateway(n, &g), IPCN_NOT_FOUND); /* no trust */
    setenv("IPCNET_CIPHER", "aes128", 1);
    assert_int_equal(ipcn_node_gateway(n, &g), IPCN_BAD_REQUEST);
    unsetenv("IPCNET_CIPHER");
    /* A network that trusts no host: nothing could link. */
    set_trust("cfga", "");
    g.listen = "tcp://127.0.0.1:1";
    g.peers = "tcp://[::1]:7447, tcp://localhost:7447";
    assert_int_equal(ipcn_node_gateway(n, &g), IPCN_NOT_FOUND);
    ipcn_node_close(n);
}

int main(void)
{
    assert_int_equal(sodium_init() >= 0, 1);
    snprintf(g_root, sizeof g_root, "%s", tu_net_dir());
    ipcn_set_log(IPCN_LOG_INFO, on_log, NULL);
    make_key("cfga", g_key_a);
    make_key("cfgb", g_key_b);
    make_key("cfgx", g_key_x);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_linked),
        cmocka_unit_test(test_309),
        cmocka_unit_test(test_redial),
        cmocka_unit_test(test_untrust_live),
        cmocka_unit_test(test_bit_flip),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
