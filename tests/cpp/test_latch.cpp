// SPDX-License-Identifier: MIT
/*
 * test_latch.cpp — the C++ calls for late subscribers and for waiting:
 * Node::wait_for() / try_wait_for() (a resource of a process that starts
 * later, with and without the node's thread; 304 on timeout), a data
 * resource's current value and a stream's kept samples reaching a late
 * subscription first (SubscribeOptions::history, announce_keep(),
 * keep_stats()).
 */
#include "cpptest.hpp"

#include <mutex>
#include <string>
#include <thread>
#include <vector>

using ipcn::Kind;
using ipcn::Node;

/* `--peer latch_provider NAME DELAY_MS`: after DELAY_MS, node NAME
 * announces lp/data (values "v1", "v2") and lp/stream (keeps 3 of the
 * samples "s1".."s5"), then lp/ready, and serves lp/pub (publish its body
 * on lp/data) with its own thread. */
PEER(latch_provider)
{
    if (argc < 2)
        return 4;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(argv[1])));
    Node node(argv[0]);
    node.announce("lp/data", Kind::Data, "text/plain");
    node.announce_keep("lp/stream", Kind::Stream, 3, "text/plain");
    node.publish("lp/data", "v1");
    node.publish("lp/data", "v2");
    for (int i = 1; i <= 5; i++)
        node.publish("lp/stream", "s" + std::to_string(i));
    node.offer("lp/pub", "text/plain", [&node](const ipcn::MessageView &req, ipcn::Reply &) {
        node.publish("lp/data", req.data());
        return IPCN_OK;
    });
    node.offer("lp/ready", "text/plain",
               [](const ipcn::MessageView &, ipcn::Reply &) { return IPCN_OK; });
    node.start_thread();
    std::this_thread::sleep_for(std::chrono::seconds(ct::PEER_LIFETIME_S));
    return 0;
}

struct Got {
    std::mutex m;
    std::vector<std::pair<std::string, std::uint64_t>> v; /* path, seq */
    std::vector<std::string> text;
    std::size_t size()
    {
        std::lock_guard<std::mutex> lk(m);
        return v.size();
    }
};

static ipcn::SampleFn collect(Got &g)
{
    return [&g](const ipcn::MessageView &msg) {
        if (msg.status() != IPCN_OK)
            return;
        std::lock_guard<std::mutex> lk(g.m);
        g.v.emplace_back(std::string(msg.path()), msg.seq());
        g.text.emplace_back(msg.text());
    };
}

TEST(wait_for_a_later_process)
{
    for (int own_thread = 0; own_thread < 2; own_thread++) {
        Node n(own_thread ? "wf-t" : "wf-d");
        if (own_thread)
            n.start_thread();
        std::string name = own_thread ? "lp-t" : "lp-d";
        /* Not there: 304, from the try_ form and from the throwing one. */
        CHECK_EQ(n.try_wait_for("lp/ready", Kind::Service, 0).status(), IPCN_GATEWAY_TIMEOUT);
        ct::PeerProcess p("latch_provider", {name, "300"});
        CHECK_STATUS(n.wait_for("lp/ready", Kind::Service, 50), IPCN_GATEWAY_TIMEOUT);
        std::vector<ipcn::Resource> r = n.wait_for("lp/ready", Kind::Service, ct::WAIT_MS);
        CHECK_EQ(r.size(), std::size_t(1));
        CHECK_EQ(r[0].path, std::string("lp/ready"));
        CHECK_EQ(r[0].provider, name);
        /* Everything announced before it is there too. */
        CHECK_EQ(n.wait_for("lp/*", Kind::Data, 0).size(), std::size_t(1));
        CHECK_STATUS(n.wait_for("lp//x", Kind::Any, 0), IPCN_BAD_REQUEST);
    }
}

TEST(late_subscription_gets_what_is_kept)
{
    Node n("late");
    ct::PeerProcess p("latch_provider", {"lp", "0"});
    n.wait_for("lp/ready", Kind::Service, ct::WAIT_MS);
    Got all, fresh;
    ipcn::Subscription s = n.subscribe("lp/*", collect(all), ipcn::SubscribeOptions{});
    ipcn::SubscribeOptions no_history;
    no_history.history = false;
    ipcn::Subscription f = n.subscribe("lp/*", collect(fresh), no_history);
    /* The data resource's current value and the stream's last three. */
    CHECK(ct::wait_until(n, [&] { return all.size() >= 4; }));
    n.request("lp/pub", "v3", "text/plain", ct::WAIT_MS);
    CHECK(ct::wait_until(n, [&] { return all.size() >= 5 && fresh.size() >= 1; }));
    {
        std::lock_guard<std::mutex> lk(all.m);
        std::vector<std::uint64_t> data, stream;
        for (auto &x : all.v)
            (x.first == "lp/data" ? data : stream).push_back(x.second);
        CHECK(data == (std::vector<std::uint64_t>{2, 3}));
        CHECK(stream == (std::vector<std::uint64_t>{3, 4, 5}));
    }
    {
        std::lock_guard<std::mutex> lk(fresh.m);
        CHECK_EQ(fresh.v.size(), std::size_t(1));
        CHECK_EQ(fresh.text[0], std::string("v3"));
    }
    CHECK_EQ(s.stats().history, std::uint64_t(4));
    CHECK_EQ(f.stats().history, std::uint64_t(0));

    /* This node's own: announce_keep(), keep_stats(). */
    CHECK_EQ(n.announce_keep("me/s", Kind::Stream, 2), IPCN_CREATED);
    CHECK_STATUS(n.announce_keep("me/x", Kind::Service, 0), IPCN_BAD_REQUEST);
    for (int i = 0; i < 4; i++)
        n.publish("me/s", "x");
    ipcn::Subscription own = n.subscribe("me/s", ipcn::SubscribeOptions{});
    ipcn::Message m1 = own.take(0), m2 = own.take(0);
    CHECK_EQ(m1.seq(), std::uint64_t(3));
    CHECK_EQ(m2.seq(), std::uint64_t(4));
    CHECK_EQ(own.try_take(0).status(), IPCN_NO_DATA);
    ipcn::KeepStats ks = n.keep_stats("me/s");
    CHECK_EQ(ks.keep, 2u);
    CHECK_EQ(ks.kept, 2u);
    CHECK_EQ(ks.replayed, std::uint64_t(2));
    CHECK_STATUS(n.keep_stats("me/none"), IPCN_NOT_FOUND);
}

CPPTEST_MAIN
