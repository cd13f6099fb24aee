/* SPDX-License-Identifier: MIT */
/*
 * l_busy — a node that is slow but alive.
 *
 *   ipcn-test-l_busy <name> <lifetime_s> [burn_ms=3000] [burners=4]
 *                    [hb=MS] [dead=MS]
 *
 * Runs its node on the node's own thread and offers <name>/echo, which
 * answers "burning" or "idle".  Once a peer is linked, it starts `burners`
 * busy-loop child processes and burns CPU on its main thread for burn_ms,
 * then kills those children (SIGKILL, by pid) and idles.  On SIGTERM it
 * checks that it never lost a peer (no PEER_DOWN event, peers_lost 0),
 * closes and exits 0 when so, 1 when not; 5 when no peer came.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "l_common.h"

static atomic_int g_burning;
static atomic_ulong g_answered_burning;

static int on_echo(ipcn_node *n, const ipcn_msg *req, ipcn_reply_ctx *ctx,
                   void *user)
{
    (void)n, (void)req, (void)user;
    if (atomic_load(&g_burning)) {
        atomic_fetch_add(&g_answered_burning, 1);
        ipcn_reply_set(ctx, "burning", 7, "text/plain");
    } else {
        ipcn_reply_set(ctx, "idle", 4, "text/plain");
    }
    return IPCN_OK;
}

static void burn_until(uint64_t end_ms)
{
    volatile uint64_t x = 0;
    while (l_now_ms() < end_ms)
        for (int i = 0; i < 100000; i++)
            x += (uint64_t)i;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s name lifetime_s [key=value...]\n", argv[0]);
        return 2;
    }
    const char *name = argv[1];
    l_helper_setup((unsigned)atoi(argv[2]));
    long burn_ms = l_opt_long(argc, argv, "burn_ms", 3000);
    int burners = (int)l_opt_long(argc, argv, "burners", 4);
    if (burners > 16)
        burners = 16;

    ipcn_node_opts o;
    l_node_opts(&o, argc, argv);
    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, &o);
    if (st != IPCN_OK) {
        fprintf(stderr, "l_busy %s: open: %d\n", name, st);
        return 3;
    }
    l_events *ev = l_events_new();
    ipcn_node_set_event_fn(n, l_event_fn, ev);
    char path[128];
    snprintf(path, sizeof path, "%s/echo", name);
    if (ipcn_offer(n, path, "text/plain", on_echo, NULL) != IPCN_OK ||
        ipcn_node_start_thread(n) != IPCN_OK) {
        fprintf(stderr, "l_busy %s: offer/thread failed\n", name);
        return 3;
    }
    if (ipcn_node_wait_peers(n, 1, 10000) != IPCN_OK) {
        fprintf(stderr, "l_busy %s: no peer came\n", name);
        ipcn_node_close(n);
        l_events_free(ev);
        return 5;
    }
    l_sleep_ms(100);

    /* Burn: children on every CPU, and this thread too. */
    pid_t kids[16];
    int nkids = 0;
    uint64_t end = l_now_ms() + (uint64_t)burn_ms;
    for (int i = 0; i < burners; i++) {
        pid_t p = fork();
        if (p == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            alarm((unsigned)(burn_ms / 1000) + 10); /* never outlive the test */
            burn_until(UINT64_MAX);
            _exit(0);
        }
        if (p > 0)
            kids[nkids++] = p;
    }
    atomic_store(&g_burning, 1);
    burn_until(end);
    atomic_store(&g_burning, 0);
    for (int i = 0; i < nkids; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    if (burn_ms > 0)
        fprintf(stderr, "l_busy %s: burned %ld ms with %d extra processes; %lu requests "
            "answered while burning\n", name, burn_ms, nkids,
            (unsigned long)atomic_load(&g_answered_burning));

    while (!l_term)
        l_sleep_ms(10);

    ipcn_node_stats s = {.size = sizeof s};
    ipcn_node_get_stats(n, &s);
    size_t downs = l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL);
    int rc = 0;
    if (s.peers_lost != 0 || downs != 0) {
        fprintf(stderr, "l_busy %s: FAIL: peers_lost=%llu PEER_DOWN events=%zu\n",
                name, (unsigned long long)s.peers_lost, downs);
        for (size_t i = 0; i < ev->count; i++)
            fprintf(stderr, "  event %d peer %s status %d\n", ev->ev[i].type,
                    ev->ev[i].peer, ev->ev[i].status);
        rc = 1;
    }
    ipcn_node_close(n);
    l_events_free(ev);
    return rc;
}
