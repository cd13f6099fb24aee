#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""chatbot.py -- the chatbot of chatbot.c, in Python: two bots, possibly
written in different languages by different anons, banter over IPCNet.

    chatbot.py <name> <partner> [rounds] [audience]

It speaks the same protocol as chatbot.c, so either may talk to the other:
the node "chat.<name>" provides
    chat/<name>/say    a service: the request is a line said TO the bot, the
                       reply its answer (both text/plain);
    chat/<name>/said   a stream of every line the bot says (text/plain).
The bot whose name sorts lower starts as soon as its partner's say service
appears: a question per round, then goodbye.  With an audience, a bot stays
silent (does not offer its service) until the audience announces
chat/<audience>/hears/chat.<name> -- the viewer does that once it is linked
to us, so it hears every line.

Like chatbot.c it runs on one thread: the loop of main() dispatches the node
(which runs our callbacks: events, the partner's requests, the answers to
ours) and says each line when its time comes.  Its requests are
asynchronous (request_async(): a Future completed in dispatch()), and its
answers deferred (the handler returns a Future that main() completes after a
pause for thought).  Needs the ipcnet package (build: PYTHONPATH=build/python).
"""
import concurrent.futures
import sys
import time

import ipcnet

DEADLINE = 10.0       # give up if the conversation is not over by then (s)
REPLY_TIMEOUT = 3.0
THINK = 0.3           # a pause before each line, for human readers

# ---- the "brain": the canned topics of chatbot.c ----

HELLO, SENSORS, BATTERY, JOKE, WEATHER, GOODBYE = range(6)
KEYWORD = ["hello", "sensor", "battery", "joke", "weather", "goodbye"]
QUESTION = {
    SENSORS: "How are your sensors today?",
    BATTERY: "How is your battery holding up?",
    JOKE: "Do you know any good jokes?",
    WEATHER: "What's the weather like in the workshop?",
}
# What each personality says about each topic; no remark holds another
# topic's keyword, so an answer never sends the conversation on a tangent.
REMARK = [
    ["Hello!", "My lidar just mistook a coffee mug for a wall. Again.",
     "I'm at 41% and I can feel it in my elbows.",
     "I'd tell you a UDP joke, but you might not get it.",
     "Over here it's cloudy with a chance of sawdust.",
     "Well, I must go and recharge. Goodbye!"],
    ["Hello! All servos warm and ready to chat.",
     "Crisp and clear: my camera counts 4096 dust motes and one sleepy cat.",
     "92% and rising, I had a long nap on the charger.",
     "Why did the robot cross the road? It was programmed by a chicken.",
     "21 degrees, with a light drizzle of solder smoke.",
     "Goodbye! It was a pleasure to banter."],
]


def respond(persona, heard):
    """(answer, bye): goodbye wins; else greet back if greeted, then talk
    about the topic mentioned last (the question comes at the end)."""
    low = heard.lower()
    if KEYWORD[GOODBYE] in low:
        return REMARK[persona][GOODBYE], True
    topic, last = None, -1
    for t in (SENSORS, BATTERY, JOKE, WEATHER):
        at = low.rfind(KEYWORD[t])
        if at > last:
            topic, last = t, at
    hello = KEYWORD[HELLO] in low
    parts = ([REMARK[persona][HELLO]] if hello else []) + \
        ([REMARK[persona][topic]] if topic is not None else [])
    if not parts:
        parts = ["Hmm. Ask me about sensors, my battery, jokes or the weather!"]
    return " ".join(parts), False


def topic_of(rnd):
    return SENSORS + rnd % 4


class Bot:
    def __init__(self, name, partner, rounds, audience):
        self.name, self.partner, self.rounds = name, partner, rounds
        self.starter = name < partner
        self.persona = 0 if self.starter else 1
        self.said = "chat/%s/said" % name
        self.say_path = "chat/%s/say" % name
        self.partner_say = "chat/%s/say" % partner
        self.hears_me = "chat/%s/hears/chat.%s" % (audience, name) if audience else None
        self.round = 0
        self.offered = self.partner_here = self.started = self.done = False
        self.failed = None
        self.next_line, self.next_at = None, None   # our next line, and when
        self.answer, self.answer_at, self.answer_to = None, None, None
        # Driven by this program's own loop (dispatch() in run()).
        self.node = ipcnet.Node("chat." + name, start=False, on_event=self.on_event)

    def fail(self, status, what):
        print("chat.%s: %s: %d %s" % (self.name, what, status, ipcnet.status_str(status)),
              file=sys.stderr)
        if self.failed is None:
            self.failed = status

    # -- saying lines

    def say(self, line):
        """Publish the line first (listeners see it before the answer),
        then ask the partner."""
        try:
            self.node.publish(self.said, line)
            # Its answer completes the Future inside dispatch(), which runs
            # on_reply() there and then, in order with the events.
            self.node.request_async(self.partner_say, line, REPLY_TIMEOUT) \
                .add_done_callback(self.on_reply)
        except ipcnet.Error as e:
            self.fail(e.status, "saying a line")

    def on_reply(self, fut):
        """The partner answered our last line: after a pause, our remark on
        that topic and the next question (or goodbye)."""
        try:
            fut.result()
        except ipcnet.Error as e:
            self.fail(e.status, "waiting for the partner's answer")
            return
        if self.round == self.rounds:  # that was the answer to our goodbye
            self.done = True
            return
        self.round += 1
        nxt = REMARK[self.persona][GOODBYE] if self.round == self.rounds \
            else QUESTION[topic_of(self.round)]
        self.next_line = "%s %s" % (REMARK[self.persona][topic_of(self.round - 1)], nxt)
        self.next_at = time.monotonic() + THINK

    def maybe_start(self):
        if self.starter and self.offered and self.partner_here and not self.started:
            self.started = True
            self.next_line = "Hello chat.%s! %s" % (self.partner, QUESTION[topic_of(0)])
            self.next_at = time.monotonic()

    # -- hearing lines

    def on_say(self, req):
        """The say service: answer after a pause (a deferred reply), one
        request at a time."""
        if self.answer_at is not None:
            raise ipcnet.TooManyRequests("one line at a time, please")
        self.answer, bye = respond(self.persona, req.value)
        if bye and not self.starter:
            self.done = True  # once answered, main() closes the node
        self.answer_to = concurrent.futures.Future()
        self.answer_at = time.monotonic() + THINK
        return self.answer_to

    def send_answer(self):
        try:
            self.node.publish(self.said, self.answer)
        except ipcnet.Error as e:
            self.fail(e.status, "publishing")
            return
        self.answer_to.set_result(self.answer)  # the reply goes now (text/plain)

    def offer(self):
        if self.offered:
            return
        try:
            self.node.offer(self.say_path, self.on_say, encoding="text/plain")
        except ipcnet.Error as e:
            self.fail(e.status, "offering the say service")
            return
        self.offered = True
        self.maybe_start()

    def on_event(self, ev):
        if ev.type == "resource_up" and ev.path == self.hears_me:
            self.offer()  # the audience listens to us
        if ev.type == "resource_up" and ev.path == self.partner_say:
            self.partner_here = True
            self.maybe_start()
        if ev.type == "resource_down" and ev.path == self.partner_say and not self.done:
            self.fail(303, "the partner left mid-conversation")

    # -- the whole bot

    def run(self):
        try:
            self.node.announce(self.said, "stream", "text/plain")
        except ipcnet.Error as e:
            self.fail(e.status, "announcing the said stream")
        if self.hears_me is None:
            self.offer()  # no audience to wait for
        deadline = time.monotonic() + DEADLINE
        while (not self.done or self.answer_at is not None) and self.failed is None:
            now = time.monotonic()
            if self.next_at is not None and now >= self.next_at:
                self.next_at = None
                self.say(self.next_line)
                continue
            if self.answer_at is not None and now >= self.answer_at:
                self.answer_at = None
                self.send_answer()
                continue
            if now >= deadline:
                self.fail(304, "waiting for the audience" if not self.offered
                          else "waiting for the partner" if self.starter and not self.started
                          else "the conversation did not end in time")
                break
            until = min(t for t in (deadline, self.next_at, self.answer_at) if t is not None)
            try:
                self.node.dispatch(max(0.0, until - now))
            except ipcnet.Error as e:
                self.fail(e.status, "dispatching")
        self.node.close()
        return 1 if self.failed is not None else 0


def main(argv):
    if not 3 <= len(argv) <= 5:
        print("usage: %s <name> <partner> [rounds] [audience]" % argv[0], file=sys.stderr)
        return 2
    name, partner = argv[1], argv[2]
    rounds = int(argv[3]) if len(argv) > 3 and argv[3].isdigit() else 0 if len(argv) > 3 else 4
    if rounds < 1 or name == partner:
        print("%s: rounds must be >= 1 and the partner another bot" % argv[0], file=sys.stderr)
        return 2
    try:
        bot = Bot(name, partner, rounds, argv[4] if len(argv) > 4 else None)
    except ipcnet.Error as e:
        print("chat.%s: opening the node: %s" % (name, e), file=sys.stderr)
        return 1
    return bot.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
