/* SPDX-License-Identifier: MIT */
/*
 * net.c — `ipcnet-bench net`: two hosts simulated by two network
 * namespaces joined by a veth pair, 10.18.250.1/24 and 10.18.250.2/24.
 * The server, provider or publisher runs in the first, the client or
 * subscriber in the second; every byte crosses the veth pair.
 *
 *  - net-rtt: a 64 B request/reply round trip (as rtt.c: checked, timed
 *    one by one, the transports taking turns over the rounds);
 *  - net-bulk: 8 MiB samples, one publisher to one subscriber (as bulk.c:
 *    latency one at a time, then throughput with a window).
 *
 * Transports: raw TCP (the floor: blocking sockets, TCP_NODELAY, no
 * library), ZeroMQ over tcp:// (REQ/REP, PUB/SUB), and IPCNet gateway to
 * gateway (ipcn_node_gateway(): TCP with Noise; the server and the client
 * are each its host's gateway).  The namespaces are made
 * with ip(8) and removed at the end (and when the run is cut short); when
 * the kernel or the user may not make them, every row says so
 * ("unavailable") and nothing fails.  Their names are
 * $IPCNET_BENCH_NETNS_PREFIX (default "ipcnb") followed by our pid.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ipcnet.h>

#include "bench.h"

#define NET_ADDR_A "10.18.250.1"
#define NET_ADDR_B "10.18.250.2"
#define NET_BULK_SIZE (8u << 20)
#define NET_IP_TIMEOUT_MS 10000

/* ---- the namespaces ---- */

static char g_ns[2][40];      /* "" when not made */
static char g_veth[2][16];
static int g_next_port = 7460;
static char g_net_addr[64];  /* the run's address, read by the children */

/* Run ip(8) with the arguments (NULL-terminated), bounded in time; its
 * error output into err.  0 when it exited 0. */
static int run_ip(char *err, size_t cap, const char *arg, ...)
{
    const char *argv[24] = {"ip"};
    int n = 1;
    va_list ap;
    va_start(ap, arg);
    for (const char *s = arg; s && n < 23; s = va_arg(ap, const char *))
        argv[n++] = s;
    va_end(ap);
    argv[n] = NULL;
    int pfd[2];
    if (pipe(pfd) < 0) {
        snprintf(err, cap, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, cap, "fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(pfd[1], 2);
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execvp("ip", (char *const *)argv);
        fprintf(stderr, "cannot run ip: %s", strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    char out[400];
    size_t len = 0;
    uint64_t deadline = now_ns() + NET_IP_TIMEOUT_MS * 1000000ull;
    for (;;) {
        uint64_t now = now_ns();
        int ms = now >= deadline ? 0 : (int)((deadline - now) / 1000000ull) + 1;
        struct pollfd p = {.fd = pfd[0], .events = POLLIN};
        int r = poll(&p, 1, ms);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            break; /* timeout */
        }
        ssize_t k = read(pfd[0], out + len, sizeof out - 1 - len);
        if (k <= 0)
            break;
        len += (size_t)k;
        if (len == sizeof out - 1)
            break;
    }
    close(pfd[0]);
    out[len] = 0;
    int status = 0;
    bool timed_out = now_ns() >= deadline;
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (timed_out) {
        snprintf(err, cap, "ip %s: no answer in %d s", arg, NET_IP_TIMEOUT_MS / 1000);
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    out[strcspn(out, "\n")] = 0;
    snprintf(err, cap, "ip %s: %.200s", arg, out[0] ? out : "failed");
    return -1;
}

void bench_net_cleanup(void)
{
    char err[200];
    for (int i = 0; i < 2; i++)
        if (g_ns[i][0]) {
            /* Deleting a namespace deletes the veth end in it, and the
             * pair with it. */
            run_ip(err, sizeof err, "netns", "del", g_ns[i], (char *)NULL);
            g_ns[i][0] = 0;
        }
}

static int net_setup(char *err, size_t cap)
{
    const char *pfx = getenv("IPCNET_BENCH_NETNS_PREFIX");
    if (!pfx || !*pfx)
        pfx = "ipcnb";
    if (strlen(pfx) > 6 || strspn(pfx, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(pfx)) {
        snprintf(err, cap, "$IPCNET_BENCH_NETNS_PREFIX: up to 6 of a-z 0-9 -");
        return -1;
    }
    unsigned pid = (unsigned)getpid() % 10000000u;
    for (int i = 0; i < 2; i++) {
        char ns[40];
        snprintf(ns, sizeof ns, "%s%u%c", pfx, pid, 'a' + i);
        snprintf(g_veth[i], sizeof g_veth[i], "%s%u%c", pfx, pid, 'a' + i);
        if (run_ip(err, cap, "netns", "add", ns, (char *)NULL) < 0)
            return -1;
        snprintf(g_ns[i], sizeof g_ns[i], "%s", ns);
    }
    if (run_ip(err, cap, "link", "add", g_veth[0], "netns", g_ns[0], "type", "veth", "peer",
               "name", g_veth[1], "netns", g_ns[1], (char *)NULL) < 0)
        return -1;
    static const char *const addrs[2] = {NET_ADDR_A "/24", NET_ADDR_B "/24"};
    for (int i = 0; i < 2; i++)
        if (run_ip(err, cap, "-n", g_ns[i], "addr", "add", addrs[i], "dev", g_veth[i],
                   (char *)NULL) < 0 ||
            run_ip(err, cap, "-n", g_ns[i], "link", "set", g_veth[i], "up", (char *)NULL) < 0 ||
            run_ip(err, cap, "-n", g_ns[i], "link", "set", "lo", "up", (char *)NULL) < 0)
            return -1;
    return 0;
}

static void next_addr(char *out, size_t cap)
{
    /* A fresh port for every run: no TIME_WAIT from the last one. */
    snprintf(out, cap, "%s:%d", NET_ADDR_A, g_next_port++);
}

/* ---- raw TCP: the floor ---- */

static int tcp_sockaddr(const char *addr, struct sockaddr_in *sa)
{
    char host[64];
    snprintf(host, sizeof host, "%s", addr);
    char *colon = strrchr(host, ':');
    if (!colon)
        return -1;
    *colon = 0;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void tcp_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int tcp_listen(const char *addr, char *err, size_t cap)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || tcp_sockaddr(addr, &sa) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0) {
        snprintf(err, cap, "listen on %s: %s", addr, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Accept one connection within timeout_ms. */
static int tcp_accept(int lfd, int timeout_ms, char *err, size_t cap)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    int fd = r > 0 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
    if (fd < 0)
        snprintf(err, cap, "accept: %s", r == 0 ? "nobody came in time" : strerror(errno));
    return fd;
}

/* One try at connecting: the fd, or -1 (errno). */
static int tcp_connect_once(const char *addr)
{
    struct sockaddr_in sa;
    if (tcp_sockaddr(addr, &sa) < 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Connect, trying again for up to timeout_ms while nobody listens yet. */
static int tcp_connect(const char *addr, int timeout_ms, char *err, size_t cap)
{
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        int fd = tcp_connect_once(addr);
        if (fd >= 0)
            return fd;
        if (now_ns() > deadline || (errno != ECONNREFUSED && errno != EINTR)) {
            snprintf(err, cap, "connect to %s: %s", addr, strerror(errno));
            return -1;
        }
        sleep_ms(5);
    }
}

static int tcp_rtt_server(child *c)
{
    rtt_args *a = c->arg;
    char err[200];
    int lfd = tcp_listen(a->addr, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "tcp server: %s\n", err);
        return 1;
    }
    ctl_send(c->ctl, CTL_READY);
    int fd = tcp_accept(lfd, 30000, err, sizeof err);
    close(lfd);
    if (fd < 0) {
        fprintf(stderr, "tcp server: %s\n", err);
        return 1;
    }
    tcp_nodelay(fd);
    uint8_t *buf = malloc(a->size);
    while (buf && readn(fd, buf, a->size) == 0)
        if (writen(fd, buf, a->size) < 0)
            break;
    free(buf);
    close(fd);
    return 0; /* EOF: the client is done */
}

static int tcp_roundtrip(void *state, const void *req, void *rep, size_t size,
                         char *err, size_t cap)
{
    int fd = *(int *)state;
    if (writen(fd, req, size) < 0 || readn(fd, rep, size) < 0) {
        snprintf(err, cap, "tcp: %s", errno ? strerror(errno) : "closed");
        return -1;
    }
    return 0;
}

static int tcp_rtt_client(child *c)
{
    rtt_args *a = c->arg;
    rtt_result res = {0};
    int fd = tcp_connect(a->addr, 10000, res.err, sizeof res.err);
    if (fd < 0) {
        ctl_send_result(c->ctl, &res, sizeof res, NULL, 0);
        return 1;
    }
    tcp_nodelay(fd);
    int rc = rtt_client_loop(c, a, tcp_roundtrip, &fd, NULL);
    close(fd);
    return rc;
}

/* Bulk over raw TCP: each sample after its length (8 bytes); the
 * publisher listens, the subscriber connects (trying again until the
 * publisher is there: it starts after the subscribers). */
typedef struct tcp_bulk {
    int lfd, fd[4], nfd;
    const bulk_args *a;
    uint8_t *buf;
} tcp_bulk;

static int tb_pub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    tcp_bulk *t = calloc(1, sizeof *t);
    *state = t;
    if (!t) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    t->a = a;
    t->lfd = tcp_listen(a->addr, err, cap);
    if (t->lfd < 0)
        return -1;
    for (int i = 0; i < a->nsubs; i++) {
        int fd = tcp_accept(t->lfd, 15000, err, cap);
        if (fd < 0)
            return -1;
        t->fd[t->nfd++] = fd;
    }
    return 0;
}

static int tb_pub_send(void *state, const void *buf, size_t len, uint64_t seq,
                       char *err, size_t cap)
{
    (void)seq;
    tcp_bulk *t = state;
    uint64_t hdr = len;
    for (int i = 0; i < t->nfd; i++)
        if (send(t->fd[i], &hdr, sizeof hdr, MSG_MORE | MSG_NOSIGNAL) != (ssize_t)sizeof hdr ||
            writen(t->fd[i], buf, len) < 0) {
            snprintf(err, cap, "tcp send: %s", strerror(errno));
            return -1;
        }
    return 0;
}

static void tb_close(void *state, bulk_result *res)
{
    (void)res;
    tcp_bulk *t = state;
    if (!t)
        return;
    for (int i = 0; i < t->nfd; i++)
        close(t->fd[i]);
    if (t->lfd > 0)
        close(t->lfd);
    free(t->buf);
    free(t);
}

static int tb_sub_open(bulk_args *a, void **state, char *err, size_t cap)
{
    tcp_bulk *t = calloc(1, sizeof *t);
    *state = t;
    if (!t || !(t->buf = malloc(a->size))) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    t->a = a;
    t->lfd = -1;
    return 0;
}

static int tb_sub_poll(void *state, int timeout_ms, sample_fn on, void *ctx,
                       char *err, size_t cap)
{
    tcp_bulk *t = state;
    if (!t->nfd) {
        int fd = tcp_connect_once(t->a->addr);
        if (fd < 0) {
            if (errno != ECONNREFUSED && errno != EINTR) {
                snprintf(err, cap, "connect to %s: %s", t->a->addr, strerror(errno));
                return -1;
            }
            sleep_ms(timeout_ms < 5 ? timeout_ms : 5);
            return 0;
        }
        t->fd[t->nfd++] = fd;
    }
    struct pollfd p = {.fd = t->fd[0], .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0)
        return 0;
    uint64_t hdr;
    if (readn(t->fd[0], &hdr, sizeof hdr) < 0) {
        snprintf(err, cap, "tcp: the publisher closed");
        return -1;
    }
    if (hdr != t->a->size) {
        snprintf(err, cap, "tcp: a sample of %llu bytes, not %zu", (unsigned long long)hdr,
                 t->a->size);
        return -1;
    }
    if (readn(t->fd[0], t->buf, t->a->size) < 0) {
        snprintf(err, cap, "tcp: the publisher closed within a sample");
        return -1;
    }
    on(ctx, t->buf, t->a->size);
    return 1;
}

static const bulk_ops bulk_tcp_ops = {
    .name = "tcp",
    .variant = "raw socket (floor)",
    .pub_open = tb_pub_open,
    .pub_send = tb_pub_send,
    .pub_close = tb_close,
    .sub_open = tb_sub_open,
    .sub_poll = tb_sub_poll,
    .sub_close = tb_close,
};

/* ---- IPCNet, gateway to gateway ---- */

#ifdef BENCH_HAVE_GATEWAY

#include <fcntl.h>
#include <ipcnet_hosts.h>
#include <sodium.h>
#include <sys/stat.h>

/* The IPCNet rows: the server (publisher) and the client (subscriber) are
 * each its host's gateway, in its own directory (a Unix socket would
 * cross namespaces: the directories must differ), linked over TCP with
 * Noise.  Each host's config directory holds its key and a trust list
 * naming the other. */
static char g_gw_config[2][256];

static int net_gw_hook(ipcn_node *n, int side)
{
    char url[80];
    snprintf(url, sizeof url, "tcp://%.60s", g_net_addr);
    ipcn_gateway_opts go;
    ipcn_gateway_opts_init(&go);
    go.listen = side ? "" : url;
    go.peers = side ? url : "";
    go.config_dir = g_gw_config[side];
    go.discovery = 0;
    int st = ipcn_node_gateway(n, &go);
    if (st != IPCN_OK)
        fprintf(stderr, "ipcnet-bench net: ipcn_node_gateway (%s): %d %s\n",
                side ? "client" : "server", st, ipcn_status_str(st));
    return st;
}

typedef struct net_gw {
    char dir[2][256], config[2][256];
} net_gw;

/* A new file with text, mode: 0 or -1. */
static int put_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    int rc = writen(fd, text, strlen(text));
    close(fd);
    return rc;
}

/* Each host's key (config/host.key, 0600, and host.pub) and its trust list
 * naming the other (config/bench/trusted), in the files' formats
 * (docs/protocol.md 19.1): the parent writes them, no node is opened. */
static int host_keys(const net_gw *w, char *err, size_t cap)
{
    char pub[2][IPCN_KEY_TEXT_LEN + 1];
    if (sodium_init() < 0) {
        snprintf(err, cap, "sodium_init failed");
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        uint8_t priv[32], pk[32];
        char b64[IPCN_KEY_TEXT_LEN + 1], line[128], path[300];
        randombytes_buf(priv, sizeof priv);
        if (crypto_scalarmult_base(pk, priv) != 0 || mkdir(w->config[i], 0700) < 0) {
            snprintf(err, cap, "host key %c: %s", 'a' + i, strerror(errno));
            return -1;
        }
        sodium_bin2base64(b64, sizeof b64, priv, 32, sodium_base64_VARIANT_ORIGINAL);
        sodium_memzero(priv, sizeof priv);
        snprintf(line, sizeof line, "%s\n", b64);
        snprintf(path, sizeof path, "%s/host.key", w->config[i]);
        int rc = put_file(path, line, 0600);
        sodium_memzero(b64, sizeof b64);
        sodium_memzero(line, sizeof line);
        sodium_bin2base64(pub[i], sizeof pub[i], pk, 32, sodium_base64_VARIANT_ORIGINAL);
        snprintf(line, sizeof line, "%s\n", pub[i]);
        snprintf(path, sizeof path, "%s/host.pub", w->config[i]);
        if (rc < 0 || put_file(path, line, 0644) < 0) {
            snprintf(err, cap, "%.200s: %s", path, strerror(errno));
            return -1;
        }
    }
    for (int i = 0; i < 2; i++) {
        char path[300], text[200];
        snprintf(path, sizeof path, "%s/bench", w->config[i]);
        mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/bench/trusted", w->config[i]);
        snprintf(text, sizeof text, "host-%c %s\n", 'b' - i, pub[1 - i]);
        if (put_file(path, text, 0644) < 0) {
            snprintf(err, cap, "%.200s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Both hosts' directories, keys and trust lists.  0, or -1 with err. */
static int gw_start(net_gw *w, const char *root, char *err, size_t cap)
{
    for (int i = 0; i < 2; i++) {
        snprintf(w->dir[i], sizeof w->dir[i], "%s/host-%c", root, 'a' + i);
        snprintf(w->config[i], sizeof w->config[i], "%s/config-%c", root, 'a' + i);
        mkdir(w->dir[i], 0700);
        snprintf(g_gw_config[i], sizeof g_gw_config[i], "%s", w->config[i]);
    }
    return host_keys(w, err, cap);
}

#else

/* The gateway (ipcn_node_gateway(), TCP links with Noise) is not in this
 * build yet: the rows say so, and no figure is made up. */
static const char ipcnet_missing[] =
    "the TCP gateway (ipcn_node_gateway) is not in this build yet";

#endif

/* ---- orchestration ---- */

/* What the IPCNet rows have: the gateways' directories (gw NULL: none),
 * or why not. */
typedef struct net_ipc {
    const char *dir[2];
    bench_node_hook hook;
    int status;             /* ROW_OK, or the rows' status */
    char why[300];
} net_ipc;

typedef struct net_case {
    row *r;
    child_fn server, client;
    rtt_args a;
    rtt_acc x;
} net_case;

static void net_rtt(const net_ipc *ipc)
{
    rtt_args a = {0};
    a.size = 64;
    int rounds = g_opts.quick ? 1 : g_opts.rounds;
    a.iters = g_opts.rtt_iters / rounds;
    if (a.iters < 1)
        a.iters = 1;
    a.warmup = g_opts.quick ? 50 : a.iters / 10 + 100;
    snprintf(a.srv_ns, sizeof a.srv_ns, "%s", g_ns[0]);
    snprintf(a.cli_ns, sizeof a.cli_ns, "%s", g_ns[1]);
    net_case cases[3] = {{0}};
    int n = 0;
    if (want_transport("tcp"))
        cases[n++] = (net_case){.r = row_new("net-rtt", "tcp", "raw socket (floor)"),
                                .server = tcp_rtt_server, .client = tcp_rtt_client, .a = a};
    if (want_transport("zmq")) {
        row *r = row_new("net-rtt", "zmq", "REQ/REP tcp://");
        if (!peer_zmq.rtt_server)
            row_set_status(r, ROW_NOT_INSTALLED, "%s", peer_zmq.missing);
        else
            cases[n++] = (net_case){.r = r, .server = peer_zmq.rtt_server,
                                    .client = peer_zmq.rtt_client, .a = a};
    }
    if (want_transport("ipcnet")) {
        row *r = row_new("net-rtt", "ipcnet", "gateway to gateway, Noise");
        if (ipc->status == ROW_FAILED) {
            row_fail(r, "%s", ipc->why);
        } else if (ipc->status != ROW_OK) {
            row_set_status(r, ipc->status, "%s", ipc->why);
        } else {
            /* The provider behind host a's gateway, on its own thread; the
             * client behind host b's. */
            net_case *c = &cases[n++];
            *c = (net_case){.r = r, .server = ipcnet_rtt_server,
                            .client = ipcnet_rtt_client, .a = a};
            c->a.mode = 1;
            c->a.hook = ipc->hook;
            snprintf(c->a.dir, sizeof c->a.dir, "%s", ipc->dir[0]);
            snprintf(c->a.cli_dir, sizeof c->a.cli_dir, "%s", ipc->dir[1]);
        }
    }
    for (int round = 0; round < rounds; round++)
        for (int i = 0; i < n; i++) {
            net_case *c = &cases[i];
            if (c->r->status != ROW_OK)
                continue;
            if (g_opts.verbose)
                fprintf(stderr, "net-rtt %s round %d/%d ...\n", c->r->transport, round + 1,
                        rounds);
            rtt_args ca = c->a;
            next_addr(ca.addr, sizeof ca.addr);
            snprintf(g_net_addr, sizeof g_net_addr, "%s", ca.addr);
            rtt_run(c->r, c->server, c->client, &ca, &c->x);
        }
    for (int i = 0; i < n; i++) {
        net_case *c = &cases[i];
        row *r = c->r;
        r->size = a.size;
        if (r->status == ROW_OK) {
            r->n = c->x.n;
            r->has_lat = true;
            lat_summary(c->x.lat, c->x.n, &r->p50_us, &r->p99_us, &r->max_us);
            r->rate = c->x.total_ns ? (double)c->x.n * 1e9 / (double)c->x.total_ns : 0;
            snprintf(r->note, sizeof r->note, "over a veth pair between two network "
                     "namespaces; %d round%s of %ld, interleaved", rounds,
                     rounds == 1 ? "" : "s", a.iters);
        }
        free(c->x.lat);
    }
}

/* The default row's gateways take AESGCM where both have AES-NI
 * (docs/protocol.md 19.1.1); the last row keeps the cipher of before,
 * ChaChaPoly, through IPCNET_CIPHER, which the forked gateways inherit. */
#define NET_BULK_VARIANTS                                                   \
    {"raw socket (floor)", "PUB/SUB tcp://", "pub/sub, gateway to gateway, Noise", \
     "pub/sub, gateway to gateway, Noise ChaChaPoly (IPCNET_CIPHER)"}

static void net_bulk(const net_ipc *ipc)
{
    const bulk_ops *ops[] = {&bulk_tcp_ops, &bulk_zmq_ops, &bulk_ipcnet_ops,
                             &bulk_ipcnet_ops};
    const char *variants[] = NET_BULK_VARIANTS;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        const char *name = i >= 2 ? "ipcnet" : ops[i]->name;
        if (!want_transport(name))
            continue;
        row *r = row_new("net-bulk", name, variants[i]);
        r->size = NET_BULK_SIZE;
        r->subs = 1;
        if (!ops[i]->pub_open) {
            row_set_status(r, ROW_NOT_INSTALLED, "%s", ops[i]->missing);
            continue;
        }
        bulk_args a = {0};
        if (i >= 2) {
            if (ipc->status == ROW_FAILED) {
                row_fail(r, "%s", ipc->why);
                continue;
            }
            if (ipc->status != ROW_OK) {
                row_set_status(r, ipc->status, "%s", ipc->why);
                continue;
            }
            snprintf(a.dir, sizeof a.dir, "%s", ipc->dir[0]);
            snprintf(a.sub_dir, sizeof a.sub_dir, "%s", ipc->dir[1]);
            a.hook = ipc->hook;
        }
        if (g_opts.verbose)
            fprintf(stderr, "net-bulk %s 8 MiB ...\n", name);
        snprintf(a.pub_ns, sizeof a.pub_ns, "%s", g_ns[0]);
        snprintf(a.sub_ns, sizeof a.sub_ns, "%s", g_ns[1]);
        next_addr(a.addr, sizeof a.addr);
        snprintf(g_net_addr, sizeof g_net_addr, "%s", a.addr);
        if (i == 3)
            setenv("IPCNET_CIPHER", "chachapoly", 1);
        bulk_run(r, ops[i], &a, NET_BULK_SIZE, 1);
        if (i == 3)
            unsetenv("IPCNET_CIPHER");
        if (r->status == ROW_OK) {
            char note[sizeof r->note];
            snprintf(note, sizeof note, "%s", r->note);
            snprintf(r->note, sizeof r->note, "over a veth pair between two network "
                     "namespaces; %.400s", note);
        }
    }
}

/* Every row of the benchmark, unavailable for the reason given. */
static void net_unavailable(const char *why)
{
    static const char *const tr[4] = {"tcp", "zmq", "ipcnet", "ipcnet"};
    static const char *const var[2][4] = {
        {"raw socket (floor)", "REQ/REP tcp://", "gateway to gateway, Noise", NULL},
        NET_BULK_VARIANTS};
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 4; i++) {
            if (!var[b][i])
                continue;
            if (!want_transport(tr[i]))
                continue;
            row *r = row_new(b ? "net-bulk" : "net-rtt", tr[i], var[b][i]);
            r->size = b ? NET_BULK_SIZE : 64;
            r->subs = b;
            row_set_status(r, ROW_UNAVAILABLE, "%s", why);
        }
}

void bench_net(void)
{
    char err[300] = "";
    if (net_setup(err, sizeof err) < 0) {
        char why[400];
        snprintf(why, sizeof why, "network namespaces refused here (%s): "
                 "the net rows need root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and ip(8)", err);
        fprintf(stderr, "ipcnet-bench net: skipped: %s\n", why);
        bench_net_cleanup();
        net_unavailable(why);
        return;
    }
    net_ipc ipc = {.status = ROW_NOT_SUPPORTED};
#ifdef BENCH_HAVE_GATEWAY
    net_gw w = {0};
    char root[256] = "";
    if (want_transport("ipcnet")) {
        if (bench_tmpdir(root, sizeof root) < 0) {
            ipc.status = ROW_FAILED;
            snprintf(ipc.why, sizeof ipc.why, "mkdtemp: %s", strerror(errno));
        } else if (gw_start(&w, root, ipc.why, sizeof ipc.why) < 0) {
            ipc.status = ROW_FAILED;
        } else {
            ipc.status = ROW_OK;
            ipc.dir[0] = w.dir[0];
            ipc.dir[1] = w.dir[1];
            ipc.hook = net_gw_hook;
        }
    }
#else
    snprintf(ipc.why, sizeof ipc.why, "%s", ipcnet_missing);
#endif
    net_rtt(&ipc);
    net_bulk(&ipc);
#ifdef BENCH_HAVE_GATEWAY
    if (root[0])
        bench_rmdir(root);
#endif
    bench_net_cleanup();
}
