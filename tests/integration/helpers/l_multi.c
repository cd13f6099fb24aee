/* SPDX-License-Identifier: MIT */
/*
 * l_multi — several nodes in one process, driven line by line on stdin
 * (answers on stdout), for the scale tests.
 *
 *   ipcn-test-l_multi <prefix> <count> <lifetime_s>
 *
 * Opens nodes <prefix>-0 .. <prefix>-<count-1>, each on its own thread;
 * each announces the stream scale/<its name> and subscribes to every path
 * under scale/.
 * Commands (one answer line each, starting "ok" or "fail"):
 *   wait P R MS      every node has exactly P peers and knows exactly R
 *                    resources under scale/ (waits up to MS)
 *   pub I TEXT       node I publishes TEXT on its stream
 *   got TEXT FROM MS every node but FROM got a sample TEXT from FROM;
 *                    answers "ok K" / "fail K", K nodes that did
 *   downs D MS       every node saw at least D PEER_DOWN events, all with
 *                    status 303, and at least D status-303 messages on its
 *                    subscription; answers with the smallest counts
 *   quit             close every node gracefully, answer "bye", exit 0
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l_common.h"

#define MAX_NODES 32

typedef struct slot {
    ipcn_node *node;
    char name[72];
    char stream[96];
    l_events *ev;
    pthread_mutex_t mu;
    char last[64];
    char last_src[72];
    unsigned samples, gone;
} slot;

static slot g_slots[MAX_NODES];
static int g_count;

static void on_sample(ipcn_node *n, const ipcn_msg *m, void *user)
{
    (void)n;
    slot *s = user;
    pthread_mutex_lock(&s->mu);
    if (m->status == IPCN_OK) {
        s->samples++;
        snprintf(s->last, sizeof s->last, "%.*s", (int)m->len, (const char *)m->data);
        snprintf(s->last_src, sizeof s->last_src, "%s", m->src_name);
    } else if (m->status == IPCN_SERVICE_UNAVAILABLE) {
        s->gone++;
    }
    pthread_mutex_unlock(&s->mu);
}

static bool all_settled(unsigned peers, int res, char *why, size_t cap)
{
    for (int i = 0; i < g_count; i++) {
        unsigned p = l_peer_count(g_slots[i].node);
        int r = l_count_resources(g_slots[i].node, "scale/**", NULL);
        if (p != peers || r != res) {
            snprintf(why, cap, "node=%s peers=%u resources=%d", g_slots[i].name, p, r);
            return false;
        }
    }
    return true;
}

static int got_count(const char *text, const char *from)
{
    int k = 0;
    for (int i = 0; i < g_count; i++) {
        slot *s = &g_slots[i];
        if (!strcmp(s->name, from))
            continue; /* the publisher itself */
        pthread_mutex_lock(&s->mu);
        if (!strcmp(s->last, text) && !strcmp(s->last_src, from))
            k++;
        pthread_mutex_unlock(&s->mu);
    }
    return k;
}

static void downs_min(unsigned *min_down, unsigned *min_gone, unsigned *bad)
{
    *min_down = *min_gone = ~0u;
    *bad = 0;
    for (int i = 0; i < g_count; i++) {
        slot *s = &g_slots[i];
        unsigned d = (unsigned)l_events_count(s->ev, 0, IPCN_EV_PEER_DOWN, NULL);
        pthread_mutex_lock(&s->ev->mu);
        for (size_t k = 0; k < s->ev->count; k++)
            if (s->ev->ev[k].type == IPCN_EV_PEER_DOWN &&
                s->ev->ev[k].status != IPCN_SERVICE_UNAVAILABLE)
                (*bad)++;
        pthread_mutex_unlock(&s->ev->mu);
        pthread_mutex_lock(&s->mu);
        unsigned g = s->gone;
        pthread_mutex_unlock(&s->mu);
        if (d < *min_down)
            *min_down = d;
        if (g < *min_gone)
            *min_gone = g;
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s prefix count lifetime_s\n", argv[0]);
        return 2;
    }
    const char *prefix = argv[1];
    g_count = atoi(argv[2]);
    if (g_count < 1 || g_count > MAX_NODES)
        return 2;
    l_helper_setup((unsigned)atoi(argv[3]));

    for (int i = 0; i < g_count; i++) {
        slot *s = &g_slots[i];
        pthread_mutex_init(&s->mu, NULL);
        char name[72];
        snprintf(name, sizeof name, "%s-%d", prefix, i);
        snprintf(s->name, sizeof s->name, "%s", name);
        snprintf(s->stream, sizeof s->stream, "scale/%s", name);
        s->ev = l_events_new();
        ipcn_sub sub;
        int st = ipcn_node_open(&s->node, s->name, NULL);
        if (st != IPCN_OK) {
            fprintf(stderr, "l_multi %s: open: %d\n", s->name, st);
            return 3;
        }
        ipcn_node_set_event_fn(s->node, l_event_fn, s->ev);
        st = ipcn_announce(s->node, s->stream, IPCN_STREAM, "text/plain", NULL, 0);
        if (!IPCN_IS_OK(st) ||
            ipcn_subscribe(s->node, "scale/**", 256, on_sample, s, &sub) != IPCN_OK ||
            ipcn_node_start_thread(s->node) != IPCN_OK) {
            fprintf(stderr, "l_multi %s: set-up failed\n", s->name);
            return 3;
        }
    }

    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        char cmd[16] = "", a[128] = "", b[128] = "";
        long x = 0, y = 0, z = 0;
        if (sscanf(line, "%15s", cmd) != 1)
            continue;
        if (!strcmp(cmd, "wait") && sscanf(line, "%*s %ld %ld %ld", &x, &y, &z) == 3) {
            char why[160] = "";
            uint64_t end = l_now_ms() + (uint64_t)z;
            bool ok;
            while (!(ok = all_settled((unsigned)x, (int)y, why, sizeof why)) &&
                   l_now_ms() < end)
                l_sleep_ms(20);
            printf(ok ? "ok\n" : "fail %s\n", why);
        } else if (!strcmp(cmd, "pub") && sscanf(line, "%*s %ld %127s", &x, a) == 2 &&
                   x >= 0 && x < g_count) {
            int st = ipcn_publish(g_slots[x].node, g_slots[x].stream, a, strlen(a));
            printf(st == IPCN_OK ? "ok\n" : "fail %d\n", st);
        } else if (!strcmp(cmd, "got") &&
                   sscanf(line, "%*s %127s %127s %ld", a, b, &z) == 3) {
            int want = g_count;
            for (int i = 0; i < g_count; i++)
                if (!strcmp(g_slots[i].name, b))
                    want--;
            uint64_t end = l_now_ms() + (uint64_t)z;
            int k;
            while ((k = got_count(a, b)) < want && l_now_ms() < end)
                l_sleep_ms(10);
            printf("%s %d\n", k >= want ? "ok" : "fail", k);
        } else if (!strcmp(cmd, "downs") && sscanf(line, "%*s %ld %ld", &x, &z) == 2) {
            uint64_t end = l_now_ms() + (uint64_t)z;
            unsigned d, g, bad;
            for (;;) {
                downs_min(&d, &g, &bad);
                if ((d >= (unsigned)x && g >= (unsigned)x) || l_now_ms() >= end)
                    break;
                l_sleep_ms(10);
            }
            bool ok = d >= (unsigned)x && g >= (unsigned)x && bad == 0;
            printf("%s down=%u gone=%u other_status=%u\n", ok ? "ok" : "fail", d, g, bad);
        } else if (!strcmp(cmd, "quit")) {
            break;
        } else {
            printf("fail unknown command\n");
        }
    }
    for (int i = 0; i < g_count; i++) {
        ipcn_node_close(g_slots[i].node);
        l_events_free(g_slots[i].ev);
        pthread_mutex_destroy(&g_slots[i].mu);
    }
    printf("bye\n");
    return 0;
}
