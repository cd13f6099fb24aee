/* SPDX-License-Identifier: MIT */
/*
 * chatview.c — shows a conversation between two chatbots (chatbot.c).
 *
 *   ipcnet-chatview [rounds]
 *
 * Opens the node "chat.view", subscribes to every chat/<bot>/said stream
 * and prints each line as it comes, with the time since the viewer started.
 * It knows no bot by name: it learns them from their streams.  It exits 0
 * once two bots have come and gone and it saw the whole conversation
 * (2 * rounds + 2 lines: a question and an answer per round, then the
 * goodbyes), 1 when the conversation was incomplete or did not end within
 * DEADLINE_MS.
 *
 * Streams are not recorded, so a late subscriber misses lines.  To let the
 * bots wait for it, the viewer announces chat/view/hears/<node> for every
 * node it links to: by then it has told that node its subscription (the
 * library sends a new peer our subscriptions as soon as the link is up, and
 * the frames of one link arrive in order), so whatever that node publishes
 * after it sees the announcement reaches the viewer.  Bots started with "view" as their audience wait for it.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <ipcnet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEADLINE_MS 12000
#define MAX_BOTS 8

struct view {
    uint64_t t0_ns;          /* CLOCK_REALTIME at start, as sample timestamps */
    int lines, bots, gone;
    char bot[MAX_BOTS][256]; /* the said streams seen */
};

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double since_start(const struct view *v, uint64_t ns)
{
    return ns > v->t0_ns ? (double)(ns - v->t0_ns) / 1e9 : 0.0;
}

/* A line said by a bot (status 100), or its stream going away (303: the
 * bot withdrew it or left; it comes after the bot's last line). */
static void on_said(ipcn_node *node, const ipcn_msg *msg, void *user)
{
    struct view *v = user;
    if (msg->status == IPCN_OK) {
        printf("+%6.3fs  [%s] %s\n", since_start(v, msg->timestamp_ns),
               msg->src_name, (const char *)msg->data);
        v->lines++;
    } else {
        printf("+%6.3fs  --- %s left the chat\n", since_start(v, realtime_ns()),
               msg->src_name);
        v->gone++;
    }
}

static void on_event(ipcn_node *node, const ipcn_event *ev, void *user)
{
    struct view *v = user;
    if (ev->type == IPCN_EV_PEER_UP || ev->type == IPCN_EV_PEER_DOWN) {
        /* We hear this node now (or it is gone): tell the network. */
        char path[300];
        snprintf(path, sizeof path, "chat/view/hears/%s", ev->peer);
        int st = ev->type == IPCN_EV_PEER_UP
                     ? ipcn_announce(node, path, IPCN_DATA, "text/plain", NULL, 0)
                     : ipcn_withdraw(node, path);
        if (!IPCN_IS_OK(st))
            fprintf(stderr, "chat.view: %s: %d %s\n", path, st, ipcn_status_str(st));
    } else if (ev->type == IPCN_EV_RESOURCE_UP &&
               ipcn_pattern_match("chat/*/said", ev->path)) {
        for (int i = 0; i < v->bots; i++)
            if (!strcmp(v->bot[i], ev->path))
                return; /* re-announced: not a new bot */
        if (v->bots == MAX_BOTS)
            return;
        snprintf(v->bot[v->bots++], sizeof v->bot[0], "%s", ev->path);
        printf("+%6.3fs  --- %s joined the chat\n", since_start(v, realtime_ns()),
               ev->peer);
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 4;
    if (argc > 2 || rounds < 1) {
        fprintf(stderr, "usage: %s [rounds]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* one line at a time, even into a pipe */
    struct view v = {.t0_ns = realtime_ns()};

    ipcn_node *node;
    int st = ipcn_node_open(&node, "chat.view", NULL);
    if (!IPCN_IS_OK(st)) {
        fprintf(stderr, "chat.view: opening the node: %d %s\n", st, ipcn_status_str(st));
        return 1;
    }
    ipcn_set_event_fn(node, on_event, &v);
    ipcn_sub sub;
    st = ipcn_subscribe(node, "chat/*/said", 0, on_said, &v, &sub);
    if (!IPCN_IS_OK(st)) {
        fprintf(stderr, "chat.view: subscribing: %d %s\n", st, ipcn_status_str(st));
        ipcn_node_close(node);
        return 1;
    }

    /* Dispatch until two bots came and every one of them left. */
    uint64_t deadline = now_ms() + DEADLINE_MS;
    while (v.bots < 2 || v.gone < v.bots) {
        uint64_t now = now_ms();
        if (now >= deadline) {
            st = IPCN_GATEWAY_TIMEOUT;
            fprintf(stderr, "chat.view: the conversation did not end in %d s: %d %s\n",
                    DEADLINE_MS / 1000, st, ipcn_status_str(st));
            break;
        }
        st = ipcn_node_dispatch(node, (int)(deadline - now));
        if (!IPCN_IS_OK(st)) {
            fprintf(stderr, "chat.view: dispatching: %d %s\n", st, ipcn_status_str(st));
            break;
        }
    }
    ipcn_node_close(node);

    int expected = 2 * rounds + 2;
    if (v.lines < expected) {
        fprintf(stderr, "chat.view: incomplete conversation: %d of %d lines\n",
                v.lines, expected);
        return 1;
    }
    printf("--- %d lines from %d bots\n", v.lines, v.bots);
    return IPCN_IS_OK(st) ? 0 : 1;
}
