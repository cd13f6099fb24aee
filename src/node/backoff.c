/* SPDX-License-Identifier: MIT */
/*
 * backoff.c — when to dial a peer again after its link was closed for bad
 * input.  A single corrupted frame (interference, a bug) must not split the
 * network for good, and a peer that keeps sending bad frames must not make
 * us dial it in a loop: the delay doubles with each bad close in a row
 * (BACKOFF_BASE_NS, 2x, 4x... up to BACKOFF_CAP_NS), with jitter so that
 * many nodes do not come back in step, and a peer that behaved for
 * BACKOFF_FORGET_NS starts again from the base.
 *
 * The state is kept per peer name (a restarted peer keeps its record), in a
 * bounded list: penalties for repeat offenders can grow from it.
 */
#include <string.h>

#include "node/node.h"

#define BACKOFF_BASE_NS 100000000ull        /* 100 ms */
#define BACKOFF_CAP_NS 30000000000ull       /* 30 s */
#define BACKOFF_FORGET_NS 120000000000ull   /* 2 min without a bad close */
#define BACKOFF_MAX_PEERS 1024              /* records kept; the oldest go */

typedef struct ipcn__backoff {
    ipcn__list entry;
    char *name;
    uint32_t strikes;       /* bad closes in a row */
    uint64_t last_ns;       /* the last one */
} ipcn__backoff;

static ipcn__backoff *find(ipcn_node *n, const char *name)
{
    ipcn__backoff *b;
    ipcn__list_for_each(b, t, &n->backoffs, ipcn__backoff, entry)
        if (!strcmp(b->name, name))
            return b;
    return NULL;
}

static void backoff_free(ipcn__backoff *b)
{
    ipcn__list_remove(&b->entry);
    ipcn__free(b->name);
    ipcn__free(b);
}

uint64_t ipcn__backoff_strike(ipcn_node *n, const char *name, uint64_t now)
{
    ipcn__backoff *b = find(n, name);
    if (b && now - b->last_ns > BACKOFF_FORGET_NS)
        b->strikes = 0;
    if (!b) {
        if (n->nbackoffs >= BACKOFF_MAX_PEERS) {
            /* The least recently struck goes (the list is kept in that
             * order: the head is the oldest). */
            ipcn__list *e = n->backoffs.next;
            backoff_free(ipcn__list_entry(e, ipcn__backoff, entry));
            n->nbackoffs--;
        }
        b = ipcn__calloc(1, sizeof *b);
        if (b && !(b->name = ipcn__strdup(name))) {
            ipcn__free(b);
            b = NULL;
        }
        if (!b)
            return BACKOFF_CAP_NS; /* no memory: the slowest retry */
        ipcn__list_insert_tail(&n->backoffs, &b->entry);
        n->nbackoffs++;
    } else {
        ipcn__list_remove(&b->entry);
        ipcn__list_insert_tail(&n->backoffs, &b->entry);
    }
    if (b->strikes < UINT32_MAX)
        b->strikes++;
    b->last_ns = now;
    uint64_t delay = BACKOFF_CAP_NS;
    if (b->strikes <= 20) {
        delay = BACKOFF_BASE_NS << (b->strikes - 1);
        if (delay > BACKOFF_CAP_NS)
            delay = BACKOFF_CAP_NS;
    }
    /* Jitter: 75 % to 125 % of the delay. */
    return delay - delay / 4 + ipcn__random_u64() % (delay / 2 + 1);
}

uint32_t ipcn__backoff_strikes(ipcn_node *n, const char *name)
{
    ipcn__backoff *b = find(n, name);
    return b ? b->strikes : 0;
}

void ipcn__backoff_free_all(ipcn_node *n)
{
    ipcn__list *e;
    while ((e = ipcn__list_pop(&n->backoffs)))
        backoff_free(ipcn__list_entry(e, ipcn__backoff, entry));
    n->nbackoffs = 0;
}
