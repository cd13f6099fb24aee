/* SPDX-License-Identifier: MIT */
/*
 * test_discovery_gw.c — two gateways that are told of no peer find each
 * other by discovery (docs/protocol.md 19.3): two network namespaces
 * joined by a veth pair, a gateway in each with its own host key, each
 * trusting the other's, discovery on, no peers configured.  Each must end
 * up with exactly one TCP link, to the other's key; a third gateway whose
 * key neither trusts beacons beside the first and is never linked to.
 *
 * Root only (network namespaces): skipped (77) with the reason where the
 * kernel or the user may not make them.  Bounded: a child that wants a
 * link gives up after 20 s, every child stops after 22 s, the parent
 * releases them after 25 s at most and kills what is left 5 s later; the
 * namespaces are removed whatever happens.  Registered by tests/CMakeLists.txt once
 * the gateway calls discovery (src/node/gateway.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipcnet.h>
#include <ipcnet_hosts.h>

static char ns[2][32];
static bool ns_made[2];
static char root[64];
/* A child that wants a link writes one byte to done[1] once it has it (or
 * gave up); all keep their gateway, and keep watching, until the parent
 * closes release[1]: the first to see its link must not take it away
 * from the other by closing. */
static int done[2] = {-1, -1}, release[2] = {-1, -1};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[512], full[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "timeout 10 %s >/dev/null 2>&1", cmd);
    return system(full);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb, (void)flag, (void)f;
    remove(p);
    return 0;
}

static void cleanup(void)
{
    for (int i = 0; i < 2; i++)
        if (ns_made[i]) {
            sh("ip netns del %s", ns[i]);
            ns_made[i] = false;
        }
    if (root[0]) {
        nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        root[0] = 0;
    }
}

static void on_signal(int sig)
{
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

typedef struct host {
    int ns;
    char dir[128], config[128], listen[64];
    char pub[IPCN_KEY_TEXT_LEN + 1];
    const char *want; /* the key it must link to (NULL: none expected) */
} host;

/* In a child: the gateway, until the parent releases it (or 22 s).  0
 * when it had a TCP link to h->want (none expected: no link) and never one
 * to another key, else a code. */
static int run_gateway(const host *h)
{
    char path[64];
    snprintf(path, sizeof path, "/run/netns/%s", ns[h->ns]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
        return 10;
    close(fd);
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.dir = h->dir;
    o.network = "disc";
    ipcn_node *n = NULL;
    if (ipcn_node_open(&n, "gateway", &o) != IPCN_OK)
        return 11;
    ipcn_gateway_opts go;
    ipcn_gateway_opts_init(&go);
    go.listen = h->listen;
    go.peers = "";
    go.config_dir = h->config;
    go.discovery = 1;
    int st = ipcn_node_gateway(n, &go);
    if (st != IPCN_OK) {
        fprintf(stderr, "ipcn_node_gateway: %d\n", st);
        return 12;
    }
    if (ipcn_node_start_thread(n) != IPCN_OK)
        return 13;
    int rc = 14; /* no link in time */
    bool told = false;
    uint64_t deadline = now_ms() + 20000;
    for (;;) {
        ipcn_link_info *links = NULL;
        size_t count = 0;
        if (ipcn_links(n, &links, &count) != IPCN_OK)
            return 15;
        int good = 0, bad = 0;
        for (size_t i = 0; i < count; i++) {
            if (links[i].kind != IPCN_LINK_TCP)
                continue;
            if (h->want && !strcmp(links[i].key, h->want))
                good++;
            else
                bad++;
        }
        ipcn_links_free(links, count);
        if (bad)
            rc = 16; /* linked to a key it does not expect */
        else if (h->want && good == 1 && rc == 14)
            rc = 0;
        if (h->want && !told && (rc != 14 || now_ms() >= deadline))
            told = write(done[1], "x", 1) == 1;
        struct pollfd pf = {.fd = release[0], .events = POLLIN};
        if (poll(&pf, 1, 100) != 0 || now_ms() >= deadline + 2000)
            break; /* released (or the parent is gone) */
    }
    if (!h->want && rc == 14)
        rc = 0; /* the untrusted one: never linked, as it should be */
    ipcn_node_close(n);
    return rc;
}

int main(void)
{
    if (geteuid() != 0) {
        printf("test_discovery_gw: skipped: network namespaces need root\n");
        return 77;
    }
    const char *pfx = getenv("IPCNET_TEST_NETNS_PREFIX");
    if (!pfx || !*pfx || strlen(pfx) > 6)
        pfx = "ipcdg";
    unsigned pid = (unsigned)getpid() % 10000000u;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (int i = 0; i < 2; i++) {
        snprintf(ns[i], sizeof ns[i], "%s%u%c", pfx, pid, 'a' + i);
        if (sh("ip netns add %s", ns[i]) != 0) {
            cleanup();
            printf("test_discovery_gw: skipped: `ip netns add` refused\n");
            return 77;
        }
        ns_made[i] = true;
    }
    bool ok = sh("ip link add %s netns %s type veth peer name %s netns %s", ns[0], ns[0],
                 ns[1], ns[1]) == 0;
    for (int i = 0; ok && i < 2; i++)
        ok = sh("ip -n %s addr add 10.18.252.%d/24 dev %s", ns[i], i + 1, ns[i]) == 0 &&
             sh("ip -n %s link set %s up", ns[i], ns[i]) == 0 &&
             sh("ip -n %s link set lo up", ns[i]) == 0;
    snprintf(root, sizeof root, "/tmp/ipcn-discgw-XXXXXX");
    if (!ok || !mkdtemp(root)) {
        fprintf(stderr, "test_discovery_gw: the namespaces could not be set up\n");
        cleanup();
        return 1;
    }
    /* a and b trust each other; c (beside a) is trusted by nobody and
     * trusts a key nobody has. */
    host h[3] = {{.ns = 0}, {.ns = 1}, {.ns = 0}};
    static const char *const listen[3] = {"tcp://10.18.252.1:7447", "tcp://10.18.252.2:7447",
                                          "tcp://10.18.252.1:7448"};
    for (int i = 0; i < 3; i++) {
        snprintf(h[i].dir, sizeof h[i].dir, "%s/dir-%d", root, i);
        snprintf(h[i].config, sizeof h[i].config, "%s/config-%d", root, i);
        snprintf(h[i].listen, sizeof h[i].listen, "%s", listen[i]);
        mkdir(h[i].dir, 0700);
        int st = ipcn_host_key(h[i].config, 1, h[i].pub);
        if (!IPCN_IS_OK(st)) {
            fprintf(stderr, "ipcn_host_key: %d\n", st);
            cleanup();
            return 1;
        }
    }
    if (!IPCN_IS_OK(ipcn_trust_add(h[0].config, "disc", h[1].pub, "host-b")) ||
        !IPCN_IS_OK(ipcn_trust_add(h[1].config, "disc", h[0].pub, "host-a")) ||
        !IPCN_IS_OK(ipcn_trust_add(h[2].config, "disc",
                                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "nobody"))) {
        fprintf(stderr, "ipcn_trust_add failed\n");
        cleanup();
        return 1;
    }
    h[0].want = h[1].pub;
    h[1].want = h[0].pub;
    if (pipe(done) < 0 || pipe(release) < 0) {
        cleanup();
        return 1;
    }
    pid_t pids[3];
    for (int i = 0; i < 3; i++) {
        fflush(stdout);
        pids[i] = fork();
        if (pids[i] == 0) {
            close(release[1]);
            _exit(run_gateway(&h[i]));
        }
    }
    /* a and b each say when they are linked (or gave up); c watched all
     * that time.  Then all are released. */
    uint64_t deadline = now_ms() + 25000;
    for (int got = 0; got < 2 && now_ms() < deadline;) {
        struct pollfd pf = {.fd = done[0], .events = POLLIN};
        char b;
        if (poll(&pf, 1, 100) > 0 && read(done[0], &b, 1) == 1)
            got++;
    }
    /* One more beacon interval (2 s) of watching: c's beacons heard by a
     * and b again, theirs by c, and still no link to or from c. */
    usleep(2500000);
    close(release[1]);
    int fails = 0;
    deadline = now_ms() + 5000;
    for (int i = 0; i < 3; i++) {
        int status = 0;
        while (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == 0) {
            if (now_ms() > deadline) {
                kill(pids[i], SIGKILL);
                waitpid(pids[i], &status, 0);
                break;
            }
            usleep(50000);
        }
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
        if (pids[i] < 0 || code != 0) {
            fprintf(stderr, "gateway %d: code %d (see run_gateway)\n", i, code);
            fails++;
        }
    }
    cleanup();
    printf("test_discovery_gw: %s\n", fails ? "FAILED" : "ok: a and b found and linked "
                                                         "each other, c was never linked");
    return fails ? 1 : 0;
}
