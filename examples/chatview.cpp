// SPDX-License-Identifier: MIT
/*
 * chatview.cpp — shows a conversation between two chatbots (chatbot.c,
 * chatbot.py), written with the C++ binding (ipcnet.hpp).
 *
 *   ipcnet-chatview [rounds]
 *
 * Opens the node "chat.view", subscribes to every chat/<bot>/said stream
 * and prints each line as it comes, with the time since the viewer started.
 * It knows no bot by name: it learns them from their streams.  It exits 0
 * once two bots have come and gone and it saw the whole conversation
 * (2 * rounds + 2 lines: a question and an answer per round, then the
 * goodbyes), 1 when the conversation was incomplete or did not end within
 * DEADLINE_MS, 2 for a wrong command line.
 *
 * Streams are not recorded, so a late subscriber misses lines.  To let the
 * bots wait for it, the viewer announces chat/view/hears/<node> for every
 * node it links to: by then it has told that node its subscription (the
 * library sends a new peer our subscriptions as soon as the link is up, and
 * the frames of one link arrive in order), so whatever that node publishes
 * after it sees the announcement reaches the viewer.  Bots started with
 * "view" as their audience wait for it.
 */
#include <ipcnet.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr int DEADLINE_MS = 12000;
constexpr std::size_t MAX_BOTS = 8;

std::uint64_t realtime_ns()
{
    using namespace std::chrono;
    return static_cast<std::uint64_t>(
        duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count());
}

struct View {
    std::uint64_t t0_ns = realtime_ns(); // CLOCK_REALTIME, as sample timestamps
    int lines = 0, gone = 0;
    std::vector<std::string> bots;       // the said streams seen

    double since_start(std::uint64_t ns) const
    {
        return ns > t0_ns ? static_cast<double>(ns - t0_ns) / 1e9 : 0.0;
    }

    // A line said by a bot (status 100), or its stream going away (303: the
    // bot withdrew it or left; it comes after the bot's last line).
    void on_said(const ipcn::MessageView &msg)
    {
        std::string who(msg.src_name());
        if (msg.status() == IPCN_OK) {
            std::string text(msg.text());
            std::printf("+%6.3fs  [%s] %s\n", since_start(msg.timestamp_ns()), who.c_str(),
                        text.c_str());
            lines++;
        } else {
            std::printf("+%6.3fs  --- %s left the chat\n", since_start(realtime_ns()),
                        who.c_str());
            gone++;
        }
    }

    void on_event(ipcn::Node &node, const ipcn::Event &ev)
    {
        if (ev.type == ipcn::EventType::PeerUp || ev.type == ipcn::EventType::PeerDown) {
            // We hear this node now (or it is gone): tell the network.
            std::string path = "chat/view/hears/" + ev.peer;
            try {
                if (ev.type == ipcn::EventType::PeerUp)
                    node.announce(path, ipcn::Kind::Data, "text/plain");
                else
                    node.withdraw(path);
            } catch (const ipcn::Error &e) {
                std::fprintf(stderr, "chat.view: %s: %d %s\n", path.c_str(), e.status(),
                             e.status_text());
            }
        } else if (ev.type == ipcn::EventType::ResourceUp &&
                   ipcn::pattern_match("chat/*/said", ev.path.c_str())) {
            if (std::find(bots.begin(), bots.end(), ev.path) != bots.end())
                return; // re-announced: not a new bot
            if (bots.size() == MAX_BOTS)
                return;
            bots.push_back(ev.path);
            std::printf("+%6.3fs  --- %s joined the chat\n", since_start(realtime_ns()),
                        ev.peer.c_str());
        }
    }
};

} // namespace

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? std::atoi(argv[1]) : 4;
    if (argc > 2 || rounds < 1) {
        std::fprintf(stderr, "usage: %s [rounds]\n", argv[0]);
        return 2;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // one line at a time, even into a pipe
    View v;

    auto opened = ipcn::Node::try_open("chat.view");
    if (!opened) {
        std::fprintf(stderr, "chat.view: opening the node: %d %s\n", opened.status(),
                     opened.status_text());
        return 1;
    }
    ipcn::Node node = std::move(opened).value();
    node.set_event_fn([&](const ipcn::Event &ev) { v.on_event(node, ev); });
    ipcn::Subscription said;
    try {
        said = node.subscribe("chat/*/said", [&](const ipcn::MessageView &m) { v.on_said(m); });
    } catch (const ipcn::Error &e) {
        std::fprintf(stderr, "chat.view: subscribing: %d %s\n", e.status(), e.status_text());
        return 1;
    }

    // Dispatch until two bots came and every one of them left.
    int st = IPCN_OK;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(DEADLINE_MS);
    while (v.bots.size() < 2 || v.gone < static_cast<int>(v.bots.size())) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            st = IPCN_GATEWAY_TIMEOUT;
            std::fprintf(stderr, "chat.view: the conversation did not end in %d s: %d %s\n",
                         DEADLINE_MS / 1000, st, ipcn::status_str(st));
            break;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
        try {
            node.dispatch(static_cast<int>(left.count()));
        } catch (const ipcn::Error &e) {
            st = e.status();
            std::fprintf(stderr, "chat.view: dispatching: %d %s\n", st, e.status_text());
            break;
        }
    }
    said = ipcn::Subscription();
    node.close();

    int expected = 2 * rounds + 2;
    if (v.lines < expected) {
        std::fprintf(stderr, "chat.view: incomplete conversation: %d of %d lines\n", v.lines,
                     expected);
        return 1;
    }
    std::printf("--- %d lines from %zu bots\n", v.lines, v.bots.size());
    return ipcn::is_ok(st) ? 0 : 1;
}
