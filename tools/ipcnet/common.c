/* SPDX-License-Identifier: MIT */
/*
 * common.c — what every verb does: report failures, catch signals, open the
 * node, wait for the links to the other nodes, run the event loop.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

volatile sig_atomic_t cli_stop;
bool cli_stdout_broken;
int cli_stdout_errno;
static int sigpipe_fds[2] = {-1, -1};

__attribute__((format(printf, 2, 0)))
static void vfail(int status, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "%d %s: %s\n", status, ipcn_status_str(status), msg);
}

int cli_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(status, fmt, ap);
    va_end(ap);
    return EXIT_FAIL;
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%d %s: %s (see 'ipcnet %s%s--help')\n", IPCN_BAD_REQUEST,
            ipcn_status_str(IPCN_BAD_REQUEST), msg, verb ? verb : "",
            verb ? " " : "");
    return EXIT_USAGE;
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ipcnet: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void out_broken(void)
{
    if (!cli_stdout_broken) {
        cli_stdout_broken = true;
        cli_stdout_errno = errno;
    }
}

void out(const char *fmt, ...)
{
    if (cli_stdout_broken)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vprintf(fmt, ap) < 0)
        out_broken();
    va_end(ap);
}

void out_flush(void)
{
    if (!cli_stdout_broken && fflush(stdout) != 0)
        out_broken();
}

void emit(jw *w)
{
    if (cli_stdout_broken)
        sb_free(&w->b);
    else if (jw_emit(w) < 0)
        out_broken();
}

/* ------------------------------------------------------------------ */
/* signals                                                              */
/* ------------------------------------------------------------------ */

static void on_signal(int sig)
{
    (void)sig;
    int e = errno;
    cli_stop = 1;
    if (sigpipe_fds[1] >= 0)
        (void)!write(sigpipe_fds[1], "x", 1);
    errno = e;
}

void cli_catch_signals(void)
{
    if (sigpipe_fds[0] < 0 && pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
        sigpipe_fds[0] = sigpipe_fds[1] = -1;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ------------------------------------------------------------------ */
/* node                                                                 */
/* ------------------------------------------------------------------ */

int cli_open(cli *c)
{
    if (c->name)
        snprintf(c->node_name, sizeof c->node_name, "%s", c->name);
    else
        snprintf(c->node_name, sizeof c->node_name, "ipcnet-cli.%d", (int)getpid());
    ipcn_node_opts o;
    ipcn_node_opts_init(&o);
    o.network = c->network;
    o.dir = c->dir;
    int st = ipcn_node_open(&c->node, c->node_name, &o);
    if (st != IPCN_OK) {
        const char *net = c->network ? c->network : getenv("IPCNET_NETWORK");
        const char *why = "";
        switch (st) {
        case IPCN_BAD_REQUEST: why = ": invalid node or network name"; break;
        case IPCN_CONFLICT: why = ": a live node already has that name"; break;
        case IPCN_FORBIDDEN: why = ": the network directory is not usable"; break;
        default: break;
        }
        c->node = NULL;
        return cli_fail(st, "cannot join network %s as %s%s",
                        net && *net ? net : "default", c->node_name, why);
    }
    return 0;
}

void cli_close(cli *c)
{
    ipcn_node_close(c->node);
    c->node = NULL;
}

const char *kind_name(ipcn_kind k)
{
    switch (k) {
    case IPCN_DATA: return "data";
    case IPCN_STREAM: return "stream";
    case IPCN_SERVICE: return "service";
    default: return "any";
    }
}

int cli_pump(cli *c, int timeout_ms, struct pollfd *extra, int nextra)
{
    struct pollfd pf[64];
    int n = 0;
    pf[n++] = (struct pollfd){.fd = ipcn_node_fd(c->node), .events = POLLIN};
    pf[n++] = (struct pollfd){.fd = sigpipe_fds[0], .events = POLLIN};
    for (int i = 0; i < nextra && n < 64; i++)
        pf[n++] = extra[i];
    int t = ipcn_node_timeout(c->node);
    if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
        timeout_ms = t;
    if (cli_stop)
        timeout_ms = 0;
    int r = poll(pf, (nfds_t)n, timeout_ms);
    if (r < 0)
        for (int i = 0; i < n; i++)
            pf[i].revents = 0;
    if (pf[1].revents) {
        char buf[64];
        while (read(sigpipe_fds[0], buf, sizeof buf) > 0)
            ;
    }
    for (int i = 0; i < nextra && i + 2 < n; i++)
        extra[i].revents = pf[i + 2].revents;
    /* As a foreign event loop would: dispatch when the fd says so, or when
     * the node says callbacks are waiting. */
    if (pf[0].revents || ipcn_node_timeout(c->node) == 0)
        return ipcn_node_dispatch(c->node, 0);
    return IPCN_NO_DATA;
}

/* ------------------------------------------------------------------ */
/* discovery                                                            */
/* ------------------------------------------------------------------ */

#define MAX_EXPECT 1024
#define SYNC_AFTER_NS (400 * 1000000ull)  /* a peer linked this long has told all */
#define QUIET_NS (20 * 1000000ull)        /* no frame for this long: settled */
#define RELIST_NS (25 * 1000000ull)

typedef struct expect {
    char name[MAX_EXPECT][72];
    int n;
} expect;

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && !strcmp(s + n - k, suffix);
}

/* Is the node whose lock file is dir/<name>.lock alive?  The lock holds
 * "<pid> <id>"; a node that died and was not swept yet has a dead pid. */
static bool node_alive(int dirfd, const char *name)
{
    char file[96], buf[64];
    snprintf(file, sizeof file, "%s.lock", name);
    int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0)
        return true; /* being born: its lock is not written yet */
    buf[r] = 0;
    long pid = strtol(buf, NULL, 10);
    if (pid <= 0)
        return true;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* The other nodes of the network by their sockets in its directory. */
static void list_expected(cli *c, expect *e)
{
    e->n = 0;
    DIR *d = opendir(ipcn_node_dir(c->node));
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) && e->n < MAX_EXPECT) {
        const char *f = de->d_name;
        size_t len = strlen(f);
        if (f[0] == '.' || !ends_with(f, ".sock") || len - 5 >= sizeof e->name[0])
            continue;
        char name[72];
        memcpy(name, f, len - 5);
        name[len - 5] = 0;
        if (!strcmp(name, c->node_name) || !node_alive(dirfd(d), name))
            continue;
        snprintf(e->name[e->n++], sizeof e->name[0], "%s", name);
    }
    closedir(d);
}

static const ipcn_peer *peer_named(const ipcn_peer_list *pl, const char *name)
{
    for (size_t i = 0; pl && i < pl->count; i++)
        if (!strcmp(pl->items[i].name, name))
            return &pl->items[i];
    return NULL;
}

int cli_discover(cli *c, const char *want_path)
{
    static expect e; /* big: not on the stack */
    uint64_t t0 = now_mono_ns();
    uint64_t deadline = t0 + (uint64_t)c->wait_ms * 1000000ull;
    uint64_t listed = 0, quiet_since = t0, last_frames = UINT64_MAX;
    for (;;) {
        if (cli_stop)
            return 0; /* the long-running verbs end at once, cleanly */
        uint64_t now = now_mono_ns();
        if (!listed || now - listed >= RELIST_NS) {
            list_expected(c, &e);
            listed = now;
        }
        if (want_path) {
            ipcn_resource_list *rl = NULL;
            if (ipcn_find(c->node, want_path, IPCN_ANY, &rl) == IPCN_OK) {
                size_t k = rl->count;
                ipcn_resource_list_free(rl);
                if (k)
                    return 0;
            }
        }
        ipcn_node_stats ns;
        ipcn_node_get_stats(c->node, &ns);
        if (ns.frames_in != last_frames) {
            last_frames = ns.frames_in;
            quiet_since = now;
        }
        ipcn_peer_list *pl = NULL;
        ipcn_peers(c->node, &pl);
        bool linked = true, synced = true;
        for (int i = 0; i < e.n; i++)
            if (!peer_named(pl, e.name[i]))
                linked = false;
        /* A peer sends its announces and subscriptions as soon as it has
         * our hello, and pings us 200 ms after it last heard from us: any
         * frame after its hello means its directory is here. */
        for (size_t i = 0; pl && i < pl->count; i++)
            if (pl->items[i].frames_in < 2 && now - pl->items[i].linked_ns < SYNC_AFTER_NS)
                synced = false;
        if (linked && synced && now - quiet_since >= QUIET_NS) {
            ipcn_peer_list_free(pl);
            return 0;
        }
        if (now >= deadline) {
            for (int i = 0; i < e.n; i++)
                if (!peer_named(pl, e.name[i]))
                    cli_warn("node %s did not link within %d ms; going on without it",
                             e.name[i], c->wait_ms);
            ipcn_peer_list_free(pl);
            return 0;
        }
        ipcn_peer_list_free(pl);
        cli_pump(c, 5, NULL, 0);
    }
}
