/* SPDX-License-Identifier: MIT */
/*
 * restart.c — restart policy arithmetic: when, intensity, back-off, and
 * rest_for_one's dependents (restart.h).
 */
#include <stdlib.h>
#include <string.h>

#include "restart.h"

bool sup_restart_wanted(const sup_component *c, bool failed)
{
    switch (c->when) {
    case SUP_RESTART_ALWAYS: return true;
    case SUP_RESTART_NEVER: return false;
    case SUP_RESTART_ON_FAILURE: return failed;
    }
    return failed;
}

/* Drop the restarts that are period_ms old or older at now_ms. */
static void forget_old(sup_restart_hist *h, const sup_component *c, uint64_t now_ms)
{
    size_t k = 0;
    while (k < h->n && now_ms - h->at[k] >= c->period_ms)
        k++;
    if (k) {
        memmove(h->at, h->at + k, (h->n - k) * sizeof *h->at);
        h->n -= k;
    }
}

bool sup_restart_note(sup_restart_hist *h, const sup_component *c, uint64_t now_ms)
{
    forget_old(h, c, now_ms);
    if (h->n >= c->intensity)
        return false;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        uint64_t *p = realloc(h->at, cap * sizeof *p);
        if (!p)
            return false;
        h->at = p;
        h->cap = cap;
    }
    h->at[h->n++] = now_ms;
    return true;
}

uint32_t sup_restart_count(const sup_restart_hist *h, const sup_component *c,
                           uint64_t now_ms)
{
    uint32_t k = 0;
    for (size_t i = 0; i < h->n; i++)
        if (now_ms - h->at[i] < c->period_ms)
            k++;
    return k;
}

uint32_t sup_restart_backoff_ms(const sup_restart_hist *h, const sup_component *c,
                                uint64_t now_ms)
{
    uint32_t k = sup_restart_count(h, c, now_ms);
    uint64_t d = c->backoff_ms;
    for (uint32_t i = 1; i < k && d < c->backoff_max_ms; i++)
        d *= 2;
    if (d > c->backoff_max_ms)
        d = c->backoff_max_ms;
    return (uint32_t)d;
}

void sup_restart_reset(sup_restart_hist *h)
{
    h->n = 0;
}

void sup_restart_free(sup_restart_hist *h)
{
    free(h->at);
    memset(h, 0, sizeof *h);
}

static bool depends_on(const sup_component *c, size_t idx)
{
    for (size_t d = 0; d < c->ndeps; d++)
        if (!c->deps[d].resource && c->deps[d].index == idx)
            return true;
    return false;
}

size_t sup_dependents(const sup_manifest *m, size_t idx, bool *take)
{
    /* In start order every dependency comes before its dependents, so one
     * pass along it closes the set. */
    size_t n = 0;
    bool *in = calloc(m->ncomps, sizeof *in);
    if (!in)
        return 0;
    in[idx] = true;
    for (size_t o = 0; o < m->ncomps; o++) {
        size_t i = m->order[o];
        if (in[i])
            continue;
        for (size_t j = 0; j < m->ncomps && !in[i]; j++)
            if (in[j] && depends_on(&m->comps[i], j)) {
                in[i] = take[i] = true;
                n++;
            }
    }
    free(in);
    return n;
}
