/* SPDX-License-Identifier: MIT */
/*
 * l_twin — one of several nodes started at the same instant.
 *
 *   ipcn-test-l_twin <name> <lifetime_s> <rfd> <wfd> <peers> <settle_ms> <donefd>
 *
 * Closes wfd, blocks reading rfd until end of file (the test closes the
 * write end when every twin is waiting: a barrier), opens the node, waits
 * for <peers> peers, dispatches settle_ms more, then checks that each peer
 * linked exactly once: ipcn_peers() lists <peers> distinct names, one
 * PEER_UP event per peer, no PEER_DOWN.  Then writes a byte to donefd and
 * keeps dispatching until SIGTERM (so that no twin leaves while another
 * still checks), closes, and exits 0 when the checks held, 1 when not, 3
 * when it could not open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l_common.h"

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: %s name lifetime_s rfd wfd peers settle_ms donefd\n",
                argv[0]);
        return 2;
    }
    const char *name = argv[1];
    l_helper_setup((unsigned)atoi(argv[2]));
    int rfd = atoi(argv[3]), wfd = atoi(argv[4]);
    unsigned want = (unsigned)atoi(argv[5]);
    int settle = atoi(argv[6]);
    int donefd = atoi(argv[7]);
    close(wfd);
    char c;
    while (read(rfd, &c, 1) > 0)
        ;
    close(rfd);

    ipcn_node *n = NULL;
    int st = ipcn_node_open(&n, name, NULL);
    if (st != IPCN_OK) {
        fprintf(stderr, "l_twin %s: open: %d\n", name, st);
        return 3;
    }
    l_events *ev = l_events_new();
    ipcn_node_set_event_fn(n, l_event_fn, ev);
    int rc = 0;
    if (ipcn_node_wait_peers(n, want, 10000) != IPCN_OK) {
        fprintf(stderr, "l_twin %s: only %u of %u peers\n", name, l_peer_count(n), want);
        rc = 1;
    }
    uint64_t end = l_now_ms() + (uint64_t)settle;
    while (l_now_ms() < end)
        ipcn_node_dispatch(n, 10);

    ipcn_peer_list *pl = NULL;
    if (ipcn_peers(n, &pl) != IPCN_OK) {
        rc = 1;
    } else {
        if (pl->count != want) {
            fprintf(stderr, "l_twin %s: %zu peers listed, want %u\n", name, pl->count, want);
            rc = 1;
        }
        for (size_t i = 0; i < pl->count; i++) {
            if (i > 0 && !strcmp(pl->items[i].name, pl->items[i - 1].name)) {
                fprintf(stderr, "l_twin %s: peer %s listed twice\n", name,
                        pl->items[i].name);
                rc = 1;
            }
            size_t ups = l_events_count(ev, 0, IPCN_EV_PEER_UP, pl->items[i].name);
            if (ups != 1) {
                fprintf(stderr, "l_twin %s: %zu PEER_UP events for %s\n", name, ups,
                        pl->items[i].name);
                rc = 1;
            }
        }
        ipcn_peer_list_free(pl);
    }
    size_t ups = l_events_count(ev, 0, IPCN_EV_PEER_UP, NULL);
    size_t downs = l_events_count(ev, 0, IPCN_EV_PEER_DOWN, NULL);
    if (ups != want || downs != 0) {
        fprintf(stderr, "l_twin %s: %zu PEER_UP and %zu PEER_DOWN events\n", name, ups,
                downs);
        for (size_t i = 0; i < ev->count; i++)
            fprintf(stderr, "  event %d peer %s status %d\n", ev->ev[i].type,
                    ev->ev[i].peer, ev->ev[i].status);
        rc = 1;
    }
    ipcn_node_stats s = {.size = sizeof s};
    ipcn_node_get_stats(n, &s);
    if (s.links_refused || s.bad_frames) {
        fprintf(stderr, "l_twin %s: links_refused=%llu bad_frames=%llu\n", name,
                (unsigned long long)s.links_refused, (unsigned long long)s.bad_frames);
        rc = 1;
    }
    (void)!write(donefd, rc ? "f" : "k", 1);
    close(donefd);
    while (!l_term)
        ipcn_node_dispatch(n, 20);
    ipcn_node_close(n);
    l_events_free(ev);
    return rc;
}
