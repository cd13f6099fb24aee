/* SPDX-License-Identifier: MIT */
/*
 * stop_comp.c — a component for the shutdown tests (test_stop.c):
 *
 *   ipcn-test-stop_comp NODE LOG [FLAG...]
 *
 * opens node NODE, says it is ready, and dispatches until it is told to
 * stop.  Each thing that happens to it is appended to LOG as one line
 * "<monotonic ns> NODE <what> [detail]" (written with O_APPEND, so several
 * components may share one LOG).  Flags:
 *   ignore-term   SIGTERM is ignored (only SIGKILL ends it)
 *   safe          a safe-state handler: logs "safe_state", answers 100
 *   safe-late=MS  a safe-state handler that answers 102 and confirms
 *                 with ipcn_shutdown_done() MS ms later
 *   stop          a stop handler: logs "stop <system_phase>", answers 100
 *                 and ends the process
 *   stop-ignore   a stop handler that logs and answers 100, but stays
 *   ask=PATH      once linked to a node called "sup", request PATH (a
 *                 shutdown body) and log "asked PATH <status>"
 * Without a flag saying otherwise, SIGTERM ends it cleanly (exit 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"
#include "ipcnet_value.h"

static const char *node_name, *log_path;
static volatile sig_atomic_t term_seen;
static bool stop_exits = true, stopping;
static long safe_late_ms = -1;
static uint64_t confirm_at_ms;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void log_line(const char *what, const char *detail)
{
    char line[512];
    int k = snprintf(line, sizeof line, "%llu %s %s%s%s\n",
                     (unsigned long long)now_ns(), node_name, what,
                     detail ? " " : "", detail ? detail : "");
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        (void)!write(fd, line, (size_t)k);
        close(fd);
    }
}

static void on_term(int sig)
{
    (void)sig;
    term_seen = 1;
}

static int on_safe(ipcn_node *n, const ipcn_shutdown_info *info, void *user)
{
    (void)n, (void)user;
    char d[32];
    snprintf(d, sizeof d, "%u", info->system_phase);
    if (safe_late_ms >= 0) {
        confirm_at_ms = now_ns() / 1000000u + (uint64_t)safe_late_ms;
        log_line("safe_state_asked", d);
        return IPCN_ACCEPTED;
    }
    log_line("safe_state", d);
    return IPCN_OK;
}

static int on_stop(ipcn_node *n, const ipcn_shutdown_info *info, void *user)
{
    (void)n, (void)user;
    char d[32];
    snprintf(d, sizeof d, "%u", info->system_phase);
    log_line("stop", d);
    stopping = stop_exits;
    return IPCN_OK;
}

static bool linked_to(ipcn_node *n, const char *name)
{
    ipcn_peer_list *pl = NULL;
    bool found = false;
    if (ipcn_peers(n, &pl) == IPCN_OK)
        for (size_t i = 0; i < pl->count; i++)
            found = found || !strcmp(pl->items[i].name, name);
    ipcn_peer_list_free(pl);
    return found;
}

static void ask(ipcn_node *n, const char *path)
{
    uint8_t body[128];
    size_t len = 0;
    ipcn_cbor_writer w;
    ipcn_cbor_writer_init(&w, body, sizeof body, 0);
    ipcn_cbor_put_map(&w, 4);
    ipcn_cbor_put_cstr(&w, "phase");
    ipcn_cbor_put_cstr(&w, "stop");
    ipcn_cbor_put_cstr(&w, "system_phase");
    ipcn_cbor_put_uint(&w, 4);
    ipcn_cbor_put_cstr(&w, "deadline_ms");
    ipcn_cbor_put_uint(&w, 1000);
    ipcn_cbor_put_cstr(&w, "reason");
    ipcn_cbor_put_cstr(&w, "a rogue's");
    ipcn_cbor_writer_finish(&w, &len);
    /* a service it may not see is 203 at first: wait for it to appear */
    ipcn_node_wait_synced(n, 5000);
    ipcn_msg *r = NULL;
    int st = ipcn_request(n, path, body, len, "cbor", &r, 5000);
    ipcn_msg_free(r);
    char d[300];
    snprintf(d, sizeof d, "%s %d", path, st);
    log_line("asked", d);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: ipcn-test-stop_comp NODE LOG [FLAG...]\n");
        return 2;
    }
    node_name = argv[1];
    log_path = argv[2];
    bool ignore_term = false, safe = false, stop = false;
    const char *asks[4];
    int nasks = 0;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "ignore-term"))
            ignore_term = true;
        else if (!strcmp(a, "safe"))
            safe = true;
        else if (!strncmp(a, "safe-late=", 10))
            safe = true, safe_late_ms = atol(a + 10);
        else if (!strcmp(a, "stop"))
            stop = true;
        else if (!strcmp(a, "stop-ignore"))
            stop = true, stop_exits = false;
        else if (!strncmp(a, "ask=", 4) && nasks < 4)
            asks[nasks++] = a + 4;
        else {
            fprintf(stderr, "stop_comp: unknown flag %s\n", a);
            return 2;
        }
    }
    struct sigaction sa = {0};
    sa.sa_handler = ignore_term ? SIG_IGN : on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);

    ipcn_node *n;
    int st = ipcn_node_open(&n, node_name, NULL);
    if (st != IPCN_OK) {
        fprintf(stderr, "stop_comp %s: open: %d\n", node_name, st);
        return 1;
    }
    if (safe)
        ipcn_on_shutdown(n, IPCN_SHUTDOWN_SAFE_STATE, on_safe, NULL);
    if (stop)
        ipcn_on_shutdown(n, IPCN_SHUTDOWN_STOP, on_stop, NULL);
    ipcn_node_ready(n);
    log_line("up", NULL);
    if (nasks) {
        uint64_t end = now_ns() + 10000000000ull;
        while (!linked_to(n, "sup") && now_ns() < end)
            ipcn_node_dispatch(n, 20);
        for (int i = 0; i < nasks; i++)
            ask(n, asks[i]);
    }
    while (!term_seen && !stopping) {
        st = ipcn_node_dispatch(n, 20);
        if (st != IPCN_OK && st != IPCN_NO_DATA)
            break;
        if (confirm_at_ms && now_ns() / 1000000u >= confirm_at_ms) {
            confirm_at_ms = 0;
            log_line("safe_state", "confirmed");
            ipcn_shutdown_done(n, IPCN_SHUTDOWN_SAFE_STATE, IPCN_OK);
        }
    }
    log_line(term_seen ? "sigterm" : stopping ? "exit" : "closed", NULL);
    ipcn_node_close(n);
    return 0;
}
