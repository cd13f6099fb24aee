// SPDX-License-Identifier: MIT
/*
 * test_redundancy.cpp — the C++ calls of ipcnet_redundancy.hpp:
 * Node::announce_owned() and owner() (the strongest provider owns, a warm
 * standby publishes nothing, a hot one's samples are counted as standby,
 * the weaker takes over when the stronger goes, EventType::Owner),
 * request_ex() in its three modes and the Answers it gives, and
 * offer_set_opts() (a retry with the same request id does not run the
 * handler again).
 */
#include "cpptest.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using ipcn::AnnounceOpts;
using ipcn::Answers;
using ipcn::Kind;
using ipcn::Node;
using ipcn::RequestMode;
using ipcn::RequestOptions;

static AnnounceOpts strength(std::int32_t s, ipcn::Standby m = ipcn::Standby::Hot)
{
    AnnounceOpts o;
    o.strength = s;
    o.standby = m;
    return o;
}

TEST(announce_owned_and_owner)
{
    Node strong("strong"), weak("weak"), sub("sub");
    for (Node *n : {&strong, &weak, &sub})
        n->start_thread();
    std::mutex mu;
    std::vector<ipcn::Event> owner_events;
    sub.set_event_fn([&](const ipcn::Event &e) {
        if (e.type == ipcn::EventType::Owner) {
            std::lock_guard<std::mutex> lk(mu);
            owner_events.push_back(e);
        }
    });
    CHECK_EQ(strong.announce_owned("r/scan", Kind::Stream, "text/plain", strength(10)),
             IPCN_CREATED);
    CHECK_EQ(weak.announce_owned("r/scan", Kind::Stream, "text/plain", strength(5)),
             IPCN_CREATED);
    /* Again: a change, 100. */
    CHECK_EQ(weak.announce_owned("r/scan", Kind::Stream, "text/plain", strength(5)), IPCN_OK);
    CHECK_STATUS(sub.announce_owned("r/scan", Kind::Service, "", strength(1)),
                 IPCN_BAD_REQUEST);
    ipcn::Subscription s = sub.subscribe("r/scan", 64);
    CHECK(ct::wait_until(sub, [&] {
        auto r = sub.try_owner("r/scan");
        return r.ok() && r->owner == "strong" && r->providers == 2;
    }));
    /* A plain announce of a path a peer provides owned: 207. */
    CHECK_STATUS(sub.announce("r/scan", Kind::Stream, "text/plain"), IPCN_CONFLICT);
    ipcn::OwnerInfo oi = sub.owner("r/scan");
    CHECK_EQ(oi.owner_id, strong.id());
    CHECK_EQ(oi.strength, 10);
    CHECK(!oi.self);
    CHECK(ct::wait_until(strong, [&] { return strong.owner("r/scan").self; }));
    CHECK_STATUS(sub.owner("r/none"), IPCN_NOT_FOUND);
    CHECK_EQ(sub.try_owner("r/none").status(), IPCN_NOT_FOUND);

    /* Both publish (hot standby): the subscriber takes the strong one's and
     * counts the weak one's as standby. */
    CHECK(ct::wait_until(strong, [&] {
        for (auto &x : strong.subscriptions())
            if (x.node == "sub")
                return true;
        return false;
    }));
    weak.wait_synced(ct::WAIT_MS);
    std::uint64_t got = 0;
    CHECK(ct::wait_until(sub, [&] {
        strong.publish("r/scan", std::string_view("S"));
        weak.publish("r/scan", std::string_view("W"));
        for (ipcn::Result<ipcn::Message> m = s.try_take(0); m.ok(); m = s.try_take(0)) {
            CHECK_EQ(m->text(), std::string_view("S"));
            CHECK_EQ(m->src_name(), std::string_view("strong"));
            got++;
        }
        return got >= 3 && s.stats().standby >= 3;
    }));

    /* The strong one goes: the weak one owns, the subscriber is told. */
    std::uint64_t changes = sub.owner("r/scan").changes;
    strong.close();
    CHECK(ct::wait_until(sub, [&] {
        auto r = sub.try_owner("r/scan");
        return r.ok() && r->owner == "weak";
    }));
    CHECK(sub.owner("r/scan").changes > changes);
    CHECK_EQ(sub.owner("r/scan").providers, 1u);
    CHECK(ct::wait_until(sub, [&] {
        std::lock_guard<std::mutex> lk(mu);
        for (auto &e : owner_events)
            if (e.peer == "weak" && e.path == "r/scan" && e.kind == Kind::Stream)
                return true;
        return false;
    }));
    CHECK(ct::wait_until(sub, [&] {
        weak.publish("r/scan", std::string_view("W"));
        ipcn::Result<ipcn::Message> m = s.try_take(0);
        return m.ok() && m->text() == "W";
    }));
}

TEST(warm_standby)
{
    Node strong("strong"), warm("warm");
    strong.start_thread();
    warm.start_thread();
    strong.announce_owned("r/pose", Kind::Data, "text/plain", strength(2));
    warm.announce_owned("r/pose", Kind::Data, "text/plain", strength(1, ipcn::Standby::Warm));
    CHECK(ct::wait_until(warm, [&] {
        auto r = warm.try_owner("r/pose");
        return r.ok() && r->owner == "strong";
    }));
    CHECK_EQ(warm.try_publish("r/pose", std::string_view("w")), IPCN_CONFLICT);
    CHECK_STATUS(warm.publish("r/pose", std::string_view("w")), IPCN_CONFLICT);
    strong.close();
    CHECK(ct::wait_until(warm, [&] {
        auto r = warm.try_owner("r/pose");
        return r.ok() && r->self;
    }));
    CHECK_EQ(warm.try_publish("r/pose", std::string_view("w")), IPCN_OK);
}

/* Three providers of "v/sum": two answer `good`, one `bad`. */
struct Voters {
    Node a{"va"}, b{"vb"}, c{"vc"}, asker{"asker"};
    Voters(const std::string &good, const std::string &bad)
    {
        auto answer = [](std::string text) {
            return [text](const ipcn::MessageView &, ipcn::Reply &r) {
                r.set(text, "text/plain");
                return IPCN_OK;
            };
        };
        a.offer("v/sum", "text/plain", answer(good));
        b.offer("v/sum", "text/plain", answer(good));
        c.offer("v/sum", "text/plain", answer(bad));
        for (Node *n : {&a, &b, &c, &asker})
            n->start_thread();
        CHECK(ct::wait_until(asker, [&] { return asker.find("v/sum").size() == 3; }));
    }
};

/* The providers hold their answers; the test releases them one at a time,
 * the next once the asker has read the previous (its frames_in), so that
 * the dissenter's answer comes first and is counted (a vote is decided as
 * soon as a quorum agree). */
struct Held {
    std::mutex mu;
    std::map<std::string, ipcn::Responder> r;
    std::size_t size()
    {
        std::lock_guard<std::mutex> lk(mu);
        return r.size();
    }
};

static void release(Held &h, Node &asker, const std::string &who, const std::string &text,
                    bool wait_read = true)
{
    std::uint64_t before = asker.stats().frames_in;
    {
        std::lock_guard<std::mutex> lk(h.mu);
        CHECK_EQ(h.r[who].respond(IPCN_OK, text, "text/plain"), IPCN_OK);
    }
    if (wait_read)
        CHECK(ct::wait_until(asker, [&] { return asker.stats().frames_in > before; }));
}

static void vote_with_dissenter(const RequestOptions &o)
{
    Node va("va"), vb("vb"), vc("vc"), asker("asker");
    Held held;
    for (Node *n : {&va, &vb, &vc}) {
        std::string name(n->name());
        n->offer("v/held", "text/plain", [&held, name](const ipcn::MessageView &, ipcn::Reply &r) {
            std::lock_guard<std::mutex> lk(held.mu);
            held.r[name] = r.defer();
            return IPCN_OK;
        });
        n->start_thread();
    }
    asker.start_thread();
    CHECK(ct::wait_until(asker, [&] { return asker.find("v/held").size() == 3; }));
    Answers ans;
    std::thread t([&] { ans = asker.try_request_ex("v/held", std::string_view("1+2"),
                                                   "text/plain", o); });
    bool asked = ct::wait_until(asker, [&] { return held.size() == 3; });
    if (asked) {
        release(held, asker, "vc", "4");
        release(held, asker, "va", "3");
        release(held, asker, "vb", "3", false);
    }
    t.join();
    CHECK(asked);
    CHECK_EQ(ans.status(), IPCN_OK);
    CHECK(ans.ok());
    CHECK(ans.request_id() != 0);
    CHECK_EQ(ans.winner().text(), std::string_view("3"));
    CHECK_EQ(ans.agreeing(), 2u);
    CHECK_EQ(ans.dissenting(), 1u);
    CHECK_EQ(ans.size(), 3u);
    int agree = 0;
    for (const ipcn::Answer &x : ans) {
        CHECK_EQ(x.status, IPCN_OK);
        CHECK(!x.msg.empty());
        if (x.provider == "vc") {
            CHECK(!x.agrees);
            CHECK_EQ(x.provider_id, vc.id());
            CHECK_EQ(x.msg.text(), std::string_view("4"));
        } else {
            CHECK(x.agrees);
            agree++;
        }
    }
    CHECK_EQ(agree, 2);
}

TEST(request_ex_vote)
{
    RequestOptions o;
    o.mode = RequestMode::Vote;
    o.timeout_ms = ct::WAIT_MS;
    vote_with_dissenter(o);

    /* A quorum of three cannot be had: 207, thrown or in the Answers. */
    Voters v("3", "4");
    o.quorum = 3;
    CHECK_STATUS(v.asker.request_ex("v/sum", {}, "", o), IPCN_CONFLICT);
    Answers no = v.asker.try_request_ex("v/sum", {}, "", o);
    CHECK_EQ(no.status(), IPCN_CONFLICT);
    CHECK(!no.ok());
    CHECK_EQ(no.size(), 3u);
}

TEST(request_ex_all_and_any)
{
    Voters v("x", "y");
    RequestOptions o;
    o.mode = RequestMode::All;
    o.timeout_ms = ct::WAIT_MS;
    Answers all = v.asker.request_ex("v/sum", {}, "", o);
    CHECK_EQ(all.status(), IPCN_OK);
    CHECK_EQ(all.size(), 3u);
    CHECK(all.winner().empty());
    std::vector<std::string> who;
    for (const ipcn::Answer &x : all.items()) {
        CHECK_EQ(x.status, IPCN_OK);
        who.push_back(x.provider);
    }
    std::sort(who.begin(), who.end());
    CHECK(who == (std::vector<std::string>{"va", "vb", "vc"}));
    o.max_providers = 2;
    CHECK_EQ(v.asker.request_ex("v/sum", {}, "", o).size(), 2u);

    RequestOptions any;
    any.timeout_ms = ct::WAIT_MS;
    Answers one = v.asker.request_ex("v/sum", {}, "", any);
    CHECK_EQ(one.status(), IPCN_OK);
    CHECK(!one.winner().empty());
    CHECK(one.winner().text() == "x" || one.winner().text() == "y");
    /* No provider: 203, with answers (and none in them). */
    CHECK_STATUS(v.asker.request_ex("v/none", {}, "", any), IPCN_NOT_FOUND);
    CHECK_EQ(v.asker.try_request_ex("v/none", {}, "", any).status(), IPCN_NOT_FOUND);
    /* A closed node: 200, no answers at all. */
    Node closed;
    CHECK_EQ(closed.try_request_ex("v/sum", {}, "", any).status(), IPCN_BAD_REQUEST);
    CHECK_STATUS(closed.request_ex("v/sum", {}, "", any), IPCN_BAD_REQUEST);
}

TEST(offer_at_most_once)
{
    Node prov("prov"), asker("asker");
    std::atomic<int> runs{0};
    prov.offer("o/fire", "text/plain", [&](const ipcn::MessageView &, ipcn::Reply &r) {
        r.set(std::to_string(++runs), "text/plain");
        return IPCN_OK;
    });
    ipcn::OfferOptions oo;
    oo.at_most_once = true;
    prov.offer_set_opts("o/fire", oo);
    CHECK_STATUS(prov.offer_set_opts("o/none", oo), IPCN_NOT_FOUND);
    prov.start_thread();
    asker.start_thread();
    CHECK(ct::wait_until(asker, [&] { return asker.find("o/fire").size() == 1; }));
    RequestOptions o;
    o.timeout_ms = ct::WAIT_MS;
    Answers first = asker.request_ex("o/fire", {}, "", o);
    CHECK_EQ(first.winner().text(), std::string_view("1"));
    o.request_id = first.request_id();
    Answers again = asker.request_ex("o/fire", {}, "", o);
    CHECK_EQ(again.request_id(), first.request_id());
    CHECK_EQ(again.winner().text(), std::string_view("1"));
    CHECK_EQ(runs.load(), 1);
    o.request_id = 0; /* a new request runs */
    Answers third = asker.request_ex("o/fire", {}, "", o);
    CHECK(third.request_id() != first.request_id());
    CHECK_EQ(third.winner().text(), std::string_view("2"));
}

CPPTEST_MAIN
