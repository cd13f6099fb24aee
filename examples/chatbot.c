/* SPDX-License-Identifier: MIT */
/*
 * chatbot.c — a tiny rule-based chatbot that banters with another one over
 * IPCNet.  This is the seed design document's own example: two chatbots,
 * possibly written by different anons, interfaced in a few lines.
 *
 *   ipcnet-chatbot <name> <partner> [rounds] [audience]
 *
 * The bot opens the node "chat.<name>" and provides two resources:
 *   chat/<name>/say   a service: the request is a line said TO the bot,
 *                     the reply is its answer (both text/plain);
 *   chat/<name>/said  a stream of every line the bot says, for whoever
 *                     wants to listen (see chatview.c).
 *
 * The bot whose name sorts lower starts the conversation as soon as its
 * partner's say service appears: it asks about one topic per round, then
 * says goodbye; the other answers and both exit 0.  Nothing is configured:
 * the bots find each other by name through the network directory.
 *
 * Streams are not recorded: a listener that subscribes late misses what was
 * said before.  So that a viewer sees every line, a bot can be given an
 * audience: it then stays silent (does not offer its service, so the
 * conversation cannot start) until the audience announces
 * chat/<audience>/hears/chat.<name>, which chatview does once it is linked
 * to us and has therefore told us its subscription.
 *
 * Everything runs on one thread, in the loop of main(): it dispatches the
 * node (ipcn_node_dispatch() runs our callbacks: events, the partner's
 * requests, the answers to ours) and says each line when its time comes,
 * after a short pause so that humans can follow.  So the requests we make
 * are asynchronous (ipcn_request_async): a blocking ipcn_request() would
 * stop us answering the partner while we wait.  Likewise our answers are
 * deferred (ipcn_reply_defer(), then ipcn_respond() after the pause).
 */
#define _GNU_SOURCE /* strcasestr */
#include <ipcnet.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEADLINE_MS 10000 /* give up if the conversation is not over by then */
#define REPLY_TIMEOUT_MS 3000
#define THINK_MS 300      /* a pause before each line, for human readers */

/* ---- the "brain": a few canned topics of a workshop robot ---- */

enum topic { HELLO, SENSORS, BATTERY, JOKE, WEATHER, GOODBYE, NTOPICS };

/* A line is about the topics whose keyword it contains. */
static const char *const keyword[NTOPICS] = {"hello", "sensor", "battery",
                                             "joke", "weather", "goodbye"};

static const char *const question[NTOPICS] = {
    [SENSORS] = "How are your sensors today?",
    [BATTERY] = "How is your battery holding up?",
    [JOKE] = "Do you know any good jokes?",
    [WEATHER] = "What's the weather like in the workshop?",
};

/* What each of the two personalities says about each topic.  No remark
 * contains another topic's keyword, so the partner's reply never sends the
 * conversation off on a tangent. */
static const char *const remark[2][NTOPICS] = {
    {"Hello!", "My lidar just mistook a coffee mug for a wall. Again.",
     "I'm at 41% and I can feel it in my elbows.",
     "I'd tell you a UDP joke, but you might not get it.",
     "Over here it's cloudy with a chance of sawdust.",
     "Well, I must go and recharge. Goodbye!"},
    {"Hello! All servos warm and ready to chat.",
     "Crisp and clear: my camera counts 4096 dust motes and one sleepy cat.",
     "92% and rising, I had a long nap on the charger.",
     "Why did the robot cross the road? It was programmed by a chicken.",
     "21 degrees, with a light drizzle of solder smoke.",
     "Goodbye! It was a pleasure to banter."},
};

/* The answer of personality p to a line: goodbye wins; otherwise greet
 * back if greeted, then talk about the topic mentioned last (the question
 * usually comes at the end of a line).  Sets *bye when it says goodbye. */
static void respond(int p, const char *heard, char *out, size_t size, bool *bye)
{
    *bye = strcasestr(heard, keyword[GOODBYE]) != NULL;
    if (*bye) {
        snprintf(out, size, "%s", remark[p][GOODBYE]);
        return;
    }
    const char *last = NULL;
    int topic = -1;
    for (int t = SENSORS; t < GOODBYE; t++) {
        const char *at = strcasestr(heard, keyword[t]);
        if (at && (!last || at > last))
            last = at, topic = t;
    }
    bool hello = strcasestr(heard, keyword[HELLO]) != NULL;
    snprintf(out, size, "%s%s%s", hello ? remark[p][HELLO] : "",
             hello && topic >= 0 ? " " : "",
             topic >= 0 ? remark[p][topic]
             : hello    ? ""
                        : "Hmm. Ask me about sensors, my battery, jokes or the weather!");
}

/* ---- the bot ---- */

struct bot {
    ipcn_node *node;
    const char *name, *partner;
    int rounds, round; /* round: how many questions were answered */
    int persona;       /* 0 for the bot that starts, 1 for the other */
    bool starter, offered, partner_here, started, done;
    int failed;        /* the status that made us give up, 0 if none */
    char next[512];    /* the line to say at next_at (0: none) */
    uint64_t next_at;
    char answer[512];  /* the answer to send at answer_at (0: none) */
    uint64_t answer_at;
    ipcn_responder resp;
    char said[300], say[300], partner_say[300], hears_me[300];
};

static void fail(struct bot *b, int st, const char *what)
{
    fprintf(stderr, "chat.%s: %s: %d %s\n", b->name, what, st, ipcn_status_str(st));
    if (!b->failed)
        b->failed = st;
}

static enum topic topic_of(int round) { return SENSORS + round % 4; }

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_reply(ipcn_node *node, int status, const ipcn_msg *reply, void *user);

/* Say a line to the partner: publish it first, so that listeners see it
 * before the partner's answer, then ask the partner's say service. */
static void say(struct bot *b, const char *line)
{
    int st = ipcn_publish(b->node, b->said, line, strlen(line));
    if (!IPCN_IS_OK(st)) {
        fail(b, st, "publishing");
        return;
    }
    st = ipcn_request_async(b->node, b->partner_say, line, strlen(line),
                            "text/plain", REPLY_TIMEOUT_MS, on_reply, b, NULL);
    if (st != IPCN_ACCEPTED)
        fail(b, st, "asking the partner");
}

/* The partner answered our last line: after a pause for thought, main()
 * says the next one (our own remark on the topic just discussed, then the
 * next question or goodbye). */
static void on_reply(ipcn_node *node, int status, const ipcn_msg *reply, void *user)
{
    struct bot *b = user;
    if (status != IPCN_OK) {
        fail(b, status, "waiting for the partner's answer");
        return;
    }
    if (b->round++ == b->rounds) { /* that was the answer to our goodbye */
        b->done = true;
        return;
    }
    enum topic next = b->round < b->rounds ? topic_of(b->round) : GOODBYE;
    snprintf(b->next, sizeof b->next, "%s %s", remark[b->persona][topic_of(b->round - 1)],
             next == GOODBYE ? remark[b->persona][GOODBYE] : question[next]);
    b->next_at = now_ms() + THINK_MS;
}

static void maybe_start(struct bot *b)
{
    if (!b->starter || !b->offered || !b->partner_here || b->started)
        return;
    b->started = true;
    snprintf(b->next, sizeof b->next, "Hello chat.%s! %s", b->partner,
             question[topic_of(0)]);
    b->next_at = now_ms();
}

/* The service chat/<name>/say: someone said a line to us.  We think of the
 * answer now but send it after a pause: the request is deferred (102) and
 * main() answers it later with ipcn_respond().  One at a time, though. */
static int on_say(ipcn_node *node, const ipcn_msg *req, ipcn_reply_ctx *ctx, void *user)
{
    struct bot *b = user;
    if (b->answer_at)
        return IPCN_TOO_MANY_REQUESTS;
    bool bye;
    respond(b->persona, req->data, b->answer, sizeof b->answer, &bye); /* data ends in NUL */
    if (bye && !b->starter)
        b->done = true; /* once answered: main() then closes the node */
    b->resp = ipcn_reply_defer(ctx);
    b->answer_at = now_ms() + THINK_MS;
    return IPCN_ACCEPTED;
}

/* Send the deferred answer, publishing it first like every line we say. */
static void answer(struct bot *b)
{
    int st = ipcn_publish(b->node, b->said, b->answer, strlen(b->answer));
    if (!IPCN_IS_OK(st)) {
        fail(b, st, "publishing");
        return;
    }
    st = ipcn_respond(b->node, b->resp, IPCN_OK, b->answer, strlen(b->answer),
                      "text/plain");
    if (!IPCN_IS_OK(st))
        fail(b, st, "answering");
}

static void offer(struct bot *b)
{
    if (b->offered)
        return;
    int st = ipcn_offer(b->node, b->say, "text/plain", on_say, b);
    if (!IPCN_IS_OK(st)) {
        fail(b, st, "offering the say service");
        return;
    }
    b->offered = true;
    maybe_start(b);
}

static void on_event(ipcn_node *node, const ipcn_event *ev, void *user)
{
    struct bot *b = user;
    if (ev->type == IPCN_EV_RESOURCE_UP && !strcmp(ev->path, b->hears_me))
        offer(b); /* the audience listens to us */
    if (ev->type == IPCN_EV_RESOURCE_UP && !strcmp(ev->path, b->partner_say)) {
        b->partner_here = true;
        maybe_start(b);
    }
    if (ev->type == IPCN_EV_RESOURCE_DOWN && !strcmp(ev->path, b->partner_say) &&
        !b->done)
        fail(b, IPCN_SERVICE_UNAVAILABLE, "the partner left mid-conversation");
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s <name> <partner> [rounds] [audience]\n", argv[0]);
        return 2;
    }
    struct bot b = {.name = argv[1], .partner = argv[2],
                    .rounds = argc > 3 ? atoi(argv[3]) : 4};
    if (b.rounds < 1 || !strcmp(b.name, b.partner)) {
        fprintf(stderr, "%s: rounds must be >= 1 and the partner another bot\n", argv[0]);
        return 2;
    }
    b.starter = strcmp(b.name, b.partner) < 0;
    b.persona = b.starter ? 0 : 1;
    snprintf(b.said, sizeof b.said, "chat/%s/said", b.name);
    snprintf(b.say, sizeof b.say, "chat/%s/say", b.name);
    snprintf(b.partner_say, sizeof b.partner_say, "chat/%s/say", b.partner);
    if (argc > 4)
        snprintf(b.hears_me, sizeof b.hears_me, "chat/%s/hears/chat.%s", argv[4], b.name);

    char node_name[80];
    snprintf(node_name, sizeof node_name, "chat.%s", b.name);
    int st = ipcn_node_open(&b.node, node_name, NULL);
    if (!IPCN_IS_OK(st)) {
        fprintf(stderr, "%s: opening the node: %d %s\n", node_name, st, ipcn_status_str(st));
        return 1;
    }
    ipcn_node_set_event_fn(b.node, on_event, &b);
    st = ipcn_announce(b.node, b.said, IPCN_STREAM, "text/plain", NULL, 0);
    if (!IPCN_IS_OK(st))
        fail(&b, st, "announcing the said stream");
    else if (!b.hears_me[0])
        offer(&b); /* no audience to wait for */

    /* The whole bot: dispatch until the conversation is over (and the last
     * answer sent), saying each line when its time comes. */
    uint64_t deadline = now_ms() + DEADLINE_MS;
    while ((!b.done || b.answer_at) && !b.failed) {
        uint64_t now = now_ms();
        if (b.next_at && now >= b.next_at) {
            b.next_at = 0;
            say(&b, b.next);
            continue;
        }
        if (b.answer_at && now >= b.answer_at) {
            b.answer_at = 0;
            answer(&b);
            continue;
        }
        if (now >= deadline) {
            fail(&b, IPCN_GATEWAY_TIMEOUT,
                 !b.offered ? "waiting for the audience"
                 : !b.started && b.starter ? "waiting for the partner"
                                           : "the conversation did not end in time");
            break;
        }
        uint64_t until = deadline;
        if (b.next_at && b.next_at < until)
            until = b.next_at;
        if (b.answer_at && b.answer_at < until)
            until = b.answer_at;
        st = ipcn_node_dispatch(b.node, (int)(until - now));
        if (!IPCN_IS_OK(st))
            fail(&b, st, "dispatching");
    }
    ipcn_node_close(b.node);
    return b.failed ? 1 : 0;
}
