/* SPDX-License-Identifier: MIT */
/*
 * sup_comp.c — a component for the supervisor's tests (ipcn-test-sup_comp):
 * opens the node named by --node or $IPCNET_NODE, offers "<node>/health",
 * says ready, and misbehaves as told:
 *
 *   --ready-after MS      say ready MS ms after the start (default 0)
 *   --never-ready         never say it
 *   --exit-at-start CODE  exit with CODE before opening the node
 *   --crash-at-start      abort() before opening the node
 *   --crash-after MS      abort() MS ms after the start
 *   --unhealthy-after MS  from MS ms after the start, its health service
 *                         answers 300
 *   --provide PATH        announce the stream PATH (a resource dependency)
 *   --log FILE            append "<component> <version> <pid> ready" there
 *                         each time it is ready
 *
 * It ends on SIGTERM or SIGINT (exit 0) and when its node shuts down.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcnet.h"

static volatile sig_atomic_t stop;
static long unhealthy_after = -1;
static struct timespec t0;

static void on_sig(int sig)
{
    (void)sig;
    stop = 1;
}

static long elapsed_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

static int health(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    (void)n, (void)req, (void)user;
    if (unhealthy_after >= 0 && elapsed_ms() >= unhealthy_after) {
        ipcn_reply_set(ctx, "sick", 4, "text/plain");
        return IPCN_INTERNAL_ERROR;
    }
    ipcn_reply_set(ctx, "ok", 2, "text/plain");
    return IPCN_OK;
}

static long num(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0) {
        fprintf(stderr, "sup_comp: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *node = getenv("IPCNET_NODE"), *provide = NULL, *logf = NULL;
    long ready_after = 0, crash_after = -1;
    bool never_ready = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--never-ready")) {
            never_ready = true;
            continue;
        }
        if (!strcmp(a, "--crash-at-start"))
            abort();
        if (!v) {
            fprintf(stderr, "sup_comp: %s needs an argument\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--node"))
            node = v;
        else if (!strcmp(a, "--ready-after"))
            ready_after = num(v);
        else if (!strcmp(a, "--exit-at-start"))
            return (int)num(v);
        else if (!strcmp(a, "--crash-after"))
            crash_after = num(v);
        else if (!strcmp(a, "--unhealthy-after"))
            unhealthy_after = num(v);
        else if (!strcmp(a, "--provide"))
            provide = v;
        else if (!strcmp(a, "--log"))
            logf = v;
        else {
            fprintf(stderr, "sup_comp: unknown option %s\n", a);
            return 2;
        }
    }
    if (!node) {
        fprintf(stderr, "sup_comp: no --node and no IPCNET_NODE\n");
        return 2;
    }
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    ipcn_node *n;
    int st = ipcn_node_open(&n, node, NULL);
    if (st != IPCN_OK) {
        fprintf(stderr, "sup_comp: cannot open node %s: %d\n", node, st);
        return 1;
    }
    char path[300];
    snprintf(path, sizeof path, "%s/health", node);
    if (ipcn_offer(n, path, "", health, NULL) != IPCN_OK ||
        (provide && ipcn_announce(n, provide, IPCN_STREAM, "text/plain", NULL, 0) >= 200)) {
        fprintf(stderr, "sup_comp: cannot offer %s\n", path);
        ipcn_node_close(n);
        return 1;
    }
    bool ready = false;
    while (!stop) {
        long now = elapsed_ms();
        if (crash_after >= 0 && now >= crash_after)
            abort();
        if (!ready && !never_ready && now >= ready_after) {
            ipcn_node_ready(n);
            ready = true;
            if (logf) {
                FILE *f = fopen(logf, "a");
                if (f) {
                    const char *c = getenv("IPCNET_COMPONENT"),
                               *ver = getenv("IPCNET_COMPONENT_VERSION");
                    fprintf(f, "%s %s %d ready\n", c ? c : node, ver && *ver ? ver : "-",
                            (int)getpid());
                    fclose(f);
                }
            }
        }
        if (ipcn_node_dispatch(n, 10) == IPCN_SERVICE_UNAVAILABLE)
            break;
    }
    ipcn_node_close(n);
    return 0;
}
