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
#include <sys/stat.h>
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
    char msg[1024], safe[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    escape_line(safe, sizeof safe, msg); /* may quote what peers sent */
    fprintf(stderr, "%d %s: %s\n", status, ipcn_status_str(status), safe);
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
    char msg[1024], safe[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One line, whatever names from peers or the directory it quotes. */
    escape_line(safe, sizeof safe, msg);
    fprintf(stderr, "ipcnet: warning: %s\n", safe);
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
    o.ns = c->ns;
    o.remap = c->remap;
    int st = ipcn_node_open(&c->node, c->node_name, &o);
    if (st != IPCN_OK) {
        const char *net = c->network ? c->network : getenv("IPCNET_NETWORK");
        const char *why = "";
        switch (st) {
        case IPCN_BAD_REQUEST: {
            const char *crit = getenv("IPCNET_CRITICALITY");
            why = crit && *crit && strcmp(crit, "optional") && strcmp(crit, "important") &&
                          strcmp(crit, "critical")
                      ? ": $IPCNET_CRITICALITY is not optional, important or critical"
                      : ": invalid node or network name, namespace or remap rules "
                        "(the library's log line above says which)";
            break;
        }
        case IPCN_CONFLICT:
            why = ": a live node already has that name (the log line above says "
                  "which process; IPCNET_NAME_SUFFIX=1 takes the next free name)";
            break;
        case IPCN_FORBIDDEN: why = ": the network directory is not usable"; break;
        default: break;
        }
        c->node = NULL;
        return cli_fail(st, "cannot join network %s as %s%s",
                        net && *net ? net : "default", c->node_name, why);
    }
    /* Its name as the network knows it: with its namespace, or suffix. */
    snprintf(c->node_name, sizeof c->node_name, "%s", ipcn_node_name(c->node));
    return 0;
}

const char *cli_wire_path(cli *c, const char *path)
{
    static char buf[256];
    return c->node && ipcn_node_resolve(c->node, path, buf, sizeof buf) == IPCN_OK
               ? buf
               : path;
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

/* Is name (from "name.sock") a node's entry: a node name, a socket and
 * a regular lock file beside it (docs/protocol.md 6.1)?  Anyone who may
 * write the directory can put anything else there. */
static bool node_entry(DIR *d, const char *name)
{
    size_t len = strlen(name);
    if (!len || len > 64 || name[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || strchr("._-", name[i])))
            return false;
    char file[80];
    struct stat st;
    snprintf(file, sizeof file, "%s.sock", name);
    if (fstatat(dirfd(d), file, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISSOCK(st.st_mode))
        return false;
    snprintf(file, sizeof file, "%s.lock", name);
    return fstatat(dirfd(d), file, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISREG(st.st_mode);
}

/* Name the nodes that did not link in time: dead nodes were swept from the
 * directory by the wait, so each socket left there without a link is a
 * node that is alive but does not answer (stopped, hung, or starting). */
static void warn_unlinked(cli *c)
{
    ipcn_peer_list *pl = NULL;
    ipcn_peers(c->node, &pl);
    DIR *d = opendir(ipcn_node_dir(c->node));
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char name[256];
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= 5 || len >= sizeof name ||
            strcmp(de->d_name + len - 5, ".sock") != 0)
            continue;
        memcpy(name, de->d_name, len - 5);
        name[len - 5] = 0;
        if (!node_entry(d, name))
            continue; /* not a node's: nobody will ever answer for it */
        bool linked = !strcmp(name, c->node_name);
        for (size_t i = 0; pl && i < pl->count; i++)
            if (!strcmp(pl->items[i].name, name))
                linked = true;
        if (!linked)
            cli_warn("node %s did not link within %d ms; going on without it",
                     name, c->wait_ms);
    }
    if (d)
        closedir(d);
    ipcn_peer_list_free(pl);
}

int cli_discover(cli *c, const char *want_path)
{
    uint64_t deadline = now_mono_ns() + (uint64_t)c->wait_ms * 1000000ull;
    for (;;) {
        if (cli_stop)
            return 0; /* the long-running verbs end at once, cleanly */
        if (want_path) {
            ipcn_resource_list *rl = NULL;
            if (ipcn_find(c->node, want_path, IPCN_ANY, &rl) == IPCN_OK) {
                size_t k = rl->count;
                ipcn_resource_list_free(rl);
                if (k)
                    return 0;
            }
        }
        /* Short slices, so that Ctrl-C and want_path are noticed. */
        if (ipcn_node_wait_synced(c->node, 10) == IPCN_OK)
            return 0;
        if (now_mono_ns() >= deadline) {
            warn_unlinked(c);
            return 0;
        }
    }
}
