/* SPDX-License-Identifier: MIT */
/*
 * test_raii.cpp — lifetimes in the C++ binding: a Subscription's destructor
 * stops its callbacks, moved nodes keep theirs, closing a node frees every
 * callback and leaves its handles inert, callbacks that throw do not cross
 * into C, deferred answers come from other threads, and subscriptions made
 * and destroyed while the node's thread delivers samples (ASan checks that
 * no callback runs after its free), and close() ending the waits of other
 * threads.
 */
#include "provider.hpp"

#include <fcntl.h>

using ipcn::Kind;
using ipcn::Node;

/* Everything written to stderr while it lives. */
class StderrCapture {
public:
    StderrCapture()
    {
        std::string tmpl = std::string(getenv("IPCNET_DIR")) + "/stderr-XXXXXX";
        path_.assign(tmpl.begin(), tmpl.end());
        path_.push_back(0);
        int fd = mkstemp(path_.data());
        std::fflush(stderr);
        saved_ = dup(2);
        dup2(fd, 2);
        close(fd);
    }
    ~StderrCapture() { restore(); }
    std::string text()
    {
        restore();
        std::string s;
        if (FILE *f = std::fopen(path_.data(), "r")) {
            char buf[4096];
            size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
                s.append(buf, n);
            std::fclose(f);
        }
        std::fputs(s.c_str(), stderr); /* still shown in the test's log */
        return s;
    }

private:
    void restore()
    {
        if (saved_ >= 0) {
            std::fflush(stderr);
            dup2(saved_, 2);
            close(saved_);
            saved_ = -1;
        }
    }
    std::vector<char> path_;
    int saved_ = -1;
};

TEST(subscription_destructor_stops_callbacks)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    int calls = 0;
    auto sub = std::make_unique<ipcn::Subscription>(
        n.subscribe("p/stream", [&](const ipcn::MessageView &) { calls++; }));
    ipcn::Subscription witness = n.subscribe("p/stream", 64); /* to know samples came */
    CHECK_EQ(n.callback_count(), 1u);
    n.wait_synced(ct::WAIT_MS);
    n.request("p/pub", "3", "text/plain", ct::WAIT_MS);
    CHECK(ct::wait_until(n, [&] { return calls == 3; }));
    for (int i = 0; i < 3; i++)
        witness.take(ct::WAIT_MS);

    /* Samples already queued for it when it goes are not delivered. */
    n.request("p/pub", "3", "text/plain", ct::WAIT_MS);
    for (int i = 0; i < 3; i++)
        witness.take(ct::WAIT_MS);
    sub.reset();
    CHECK_EQ(n.callback_count(), 0u);
    n.request("p/pub", "3", "text/plain", ct::WAIT_MS);
    for (int i = 0; i < 3; i++)
        witness.take(ct::WAIT_MS);
    ct::pump(n, 200);
    CHECK_EQ(calls, 3);

    /* Move keeps it; move-assignment ends the one assigned over. */
    int a = 0, b = 0;
    ipcn::Subscription sa = n.subscribe("p/stream", [&](const ipcn::MessageView &) { a++; });
    ipcn::Subscription sb = n.subscribe("p/stream", [&](const ipcn::MessageView &) { b++; });
    ipcn::Subscription moved(std::move(sa));
    CHECK(!sa.active());
    CHECK(moved.active());
    sb = std::move(moved); /* ends sb's own subscription */
    CHECK_EQ(n.callback_count(), 1u);
    n.wait_synced(ct::WAIT_MS);
    n.request("p/pub", "2", "text/plain", ct::WAIT_MS);
    CHECK(ct::wait_until(n, [&] { return a == 2; }));
    ct::pump(n, 100);
    CHECK_EQ(b, 0);
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(subscription_destroyed_in_its_callback)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    int calls = 0;
    std::optional<ipcn::Subscription> sub;
    sub = n.subscribe("p/stream", [&](const ipcn::MessageView &) {
        calls++;
        sub.reset(); /* frees this very callback: after it returns */
    });
    ipcn::Subscription witness = n.subscribe("p/stream", 64);
    n.wait_synced(ct::WAIT_MS);
    n.request("p/pub", "3", "text/plain", ct::WAIT_MS);
    for (int i = 0; i < 3; i++)
        witness.take(ct::WAIT_MS);
    CHECK(ct::wait_until(n, [&] { return calls >= 1; }));
    ct::pump(n, 200);
    CHECK_EQ(calls, 1);
    CHECK_EQ(n.callback_count(), 0u);
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(node_move_keeps_callbacks)
{
    Node pub("pub");
    pub.announce("m/s", Kind::Stream, "text/plain");
    pub.start_thread();
    Node a("sub-a");
    std::vector<std::string> got;
    ipcn::Subscription sub = a.subscribe("m/s", [&](const ipcn::MessageView &m) {
        got.emplace_back(m.text());
    });
    Node b(std::move(a));
    CHECK(!a.is_open());
    CHECK_EQ(b.callback_count(), 1u);
    b.wait_synced(ct::WAIT_MS);
    pub.wait_synced(ct::WAIT_MS);
    pub.publish("m/s", "one");
    CHECK(ct::wait_until(b, [&] { return got.size() == 1; }));
    Node c("sub-c");
    c = std::move(b);
    CHECK(Node::try_open("sub-c").ok()); /* the old sub-c was closed */
    pub.wait_synced(ct::WAIT_MS);
    pub.publish("m/s", "two");
    CHECK(ct::wait_until(c, [&] { return got.size() == 2; }));
    CHECK_EQ(got[1], std::string("two"));
    sub = ipcn::Subscription(); /* unsubscribes through the moved node */
    CHECK_EQ(c.callback_count(), 0u);
}

TEST(close_frees_callbacks_and_handles_go_inert)
{
    std::size_t before = ipcn::detail::registry().count();
    std::optional<ipcn::Subscription> sub, take_sub;
    ipcn::Request req;
    std::mutex m;
    ipcn::Responder held; /* set on the server's thread */
    std::atomic<bool> holding{false};
    {
        Node server("server");
        server.offer("s/hold", "", [&](const ipcn::MessageView &, ipcn::Reply &reply) {
            std::lock_guard<std::mutex> lk(m);
            held = reply.defer();
            holding = true;
            return IPCN_ACCEPTED;
        });
        server.start_thread();
        Node n("client");
        int calls = 0;
        sub = n.subscribe("x/**", [&](const ipcn::MessageView &) { calls++; });
        take_sub = n.subscribe("y/**");
        n.set_event_fn([&](const ipcn::Event &) {});
        n.offer("c/svc", "", [](const ipcn::MessageView &, ipcn::Reply &) { return IPCN_OK; });
        n.wait_synced(ct::WAIT_MS);
        req = n.request_async("s/hold", "", "", 60000,
                              [&](int, const ipcn::MessageView &) { calls++; });
        CHECK_EQ(n.callback_count(), 4u);
        CHECK(ct::wait_until(n, [&] { return holding.load(); }));
        /* The client closes with all of them registered: all freed. */
        n.close();
        CHECK_EQ(n.callback_count(), 0u);
        CHECK_EQ(calls, 0);
        CHECK_EQ(server.callback_count(), 1u);
        /* Handles of the closed node: inert, no use of the freed node. */
        CHECK(!req.cancel());
        CHECK_STATUS(sub->unsubscribe(), IPCN_SERVICE_UNAVAILABLE);
        CHECK_EQ(take_sub->try_take(0).status(), IPCN_SERVICE_UNAVAILABLE);
        /* The requester left: answering says so. */
        CHECK(ct::wait_until(server, [&] { return server.peers().empty(); }));
        std::lock_guard<std::mutex> lk(m);
        CHECK(held.pending());
        CHECK_EQ(held.try_respond(IPCN_OK), IPCN_SERVICE_UNAVAILABLE);
        CHECK(!held.pending());
    }
    /* Subscriptions and a responder that outlive their nodes. */
    take_sub.reset();
    CHECK_EQ(ipcn::detail::registry().count(), before);
}

/* Threads waiting forever in a request and in a take through a
 * Subscription handle: close() ends both at once with 303 (and does not
 * wait for them to time out, which they never would). */
TEST(close_ends_waits_of_other_threads)
{
    Node server("server");
    std::mutex m;
    std::vector<ipcn::Responder> held; /* never answered */
    std::atomic<int> arrived{0};
    server.offer("w/hole", "", [&](const ipcn::MessageView &, ipcn::Reply &reply) {
        std::lock_guard<std::mutex> lk(m);
        held.push_back(reply.defer());
        arrived++;
        return IPCN_ACCEPTED;
    });
    server.start_thread();
    Node n("client");
    n.wait_synced(ct::WAIT_MS);
    ipcn::Subscription sub = n.subscribe("w/none");
    std::atomic<int> req_status{0}, take_status{0};
    std::thread tr([&] { req_status = n.try_request("w/hole", "x", "", -1).status(); });
    std::thread tt([&] { take_status = sub.try_take(-1).status(); });
    CHECK(ct::wait_until(server, [&] { return arrived.load() == 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); /* both asleep */
    n.close(); /* the test's deadline catches a close that hangs */
    tr.join();
    tt.join();
    CHECK_EQ(req_status.load(), IPCN_SERVICE_UNAVAILABLE);
    CHECK_EQ(take_status.load(), IPCN_SERVICE_UNAVAILABLE);
}

TEST(callbacks_that_throw)
{
    Node pub("pub");
    pub.announce("t/s", Kind::Stream, "text/plain");
    pub.offer("t/svc", "", [](const ipcn::MessageView &, ipcn::Reply &) -> int {
        throw 42; /* not even a std::exception */
    });
    pub.offer("t/echo", "", [](const ipcn::MessageView &req, ipcn::Reply &reply) {
        reply.set(req.data(), req.encoding());
        return IPCN_OK;
    });
    pub.start_thread();
    Node n("client");
    int calls = 0, async_calls = 0;
    ipcn::Subscription sub = n.subscribe("t/s", [&](const ipcn::MessageView &m) {
        calls++;
        if (m.text() == "bad")
            throw std::runtime_error("sample callback throws");
    });
    StderrCapture cap;
    n.set_event_fn([](const ipcn::Event &) { throw std::logic_error("event callback throws"); });
    n.wait_synced(ct::WAIT_MS);
    pub.wait_synced(ct::WAIT_MS);
    pub.publish("t/s", "bad");
    pub.publish("t/s", "good");
    CHECK(ct::wait_until(n, [&] { return calls == 2; }));
    n.request_async("t/echo", "x", "", ct::WAIT_MS, [&](int, const ipcn::MessageView &) {
        async_calls++;
        throw std::runtime_error("reply callback throws");
    });
    CHECK(ct::wait_until(n, [&] { return async_calls == 1; }));
    ipcn::Error e = ERROR_OF(n.request("t/svc", "", "", ct::WAIT_MS));
    CHECK_EQ(e.status(), IPCN_INTERNAL_ERROR);
    /* Still working after all that. */
    pub.publish("t/s", "after");
    CHECK(ct::wait_until(n, [&] { return calls == 3; }));
    std::string log = cap.text();
    CHECK(log.find("IPCN-CPP-CALLBACK-THREW: subscription callback for t/s: sample callback "
                   "throws") != std::string::npos);
    CHECK(log.find("event callback for pub: event callback throws") != std::string::npos);
    CHECK(log.find("request callback for t/echo: reply callback throws") != std::string::npos);
    CHECK(log.find("service handler for t/svc: an exception not derived from std::exception") !=
          std::string::npos);
    CHECK_EQ(n.callback_count(), 2u); /* the sample and event callbacks */
}

TEST(deferred_answers_from_threads)
{
    Node server("server");
    std::mutex m;
    std::vector<std::thread> workers;
    std::atomic<int> misuse{0};
    server.offer("d/later", "text/plain", [&](const ipcn::MessageView &req, ipcn::Reply &reply) {
        std::string body(req.text());
        ipcn::Responder r = reply.defer();
        try {
            reply.defer();
        } catch (const ipcn::Error &e) {
            misuse += e.status() == IPCN_BAD_REQUEST;
        }
        try {
            reply.set("x");
        } catch (const ipcn::Error &e) {
            misuse += e.status() == IPCN_BAD_REQUEST;
        }
        std::lock_guard<std::mutex> lk(m);
        workers.emplace_back([r = std::move(r), body]() mutable {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            CHECK_EQ(r.respond(IPCN_OK, "done:" + body, "text/plain"), IPCN_OK);
            CHECK(!r.pending());
            CHECK_EQ(r.try_respond(IPCN_OK), IPCN_NOT_FOUND); /* once only */
        });
        return IPCN_OK; /* ignored: the responder answers */
    });
    server.start_thread();
    Node client("client");
    client.wait_synced(ct::WAIT_MS);
    CHECK_EQ(client.request("d/later", "a", "text/plain", ct::WAIT_MS).text(),
             std::string_view("done:a"));
    /* Several at once, from a thread of the client too. */
    std::string other;
    std::thread t([&] { other = std::string(client.request("d/later", "b", "", ct::WAIT_MS).text()); });
    CHECK_EQ(client.request("d/later", "c", "", ct::WAIT_MS).text(), std::string_view("done:c"));
    t.join();
    CHECK_EQ(other, std::string("done:b"));
    CHECK_EQ(misuse.load(), 6);
    std::lock_guard<std::mutex> lk(m);
    for (auto &w : workers)
        w.join();
}

/* Subscriptions made and destroyed on the main thread while the node's own
 * thread delivers samples: each callback touches memory its closure owns,
 * so ASan would see a callback that ran after its subscription was freed. */
TEST(unsubscribe_while_delivering)
{
    Node pub("pub");
    pub.announce("u/s", Kind::Stream, "text/plain");
    pub.start_thread();
    Node n("client");
    n.start_thread();
    n.wait_synced(ct::WAIT_MS);
    std::atomic<bool> stop{false};
    std::thread publisher([&] {
        while (!stop) {
            if (pub.try_publish("u/s", "sample") != IPCN_OK)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    std::atomic<long> total{0};
    for (int i = 0; i < 200; i++) {
        auto own = std::make_shared<std::vector<long>>(64, 0);
        ipcn::Subscription sub = n.subscribe("u/s", [own, &total](const ipcn::MessageView &m) {
            (*own)[m.seq() % own->size()]++;
            total++;
        });
        if (i % 20 == 0) { /* now and then, wait until it delivers */
            long t0 = total;
            auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ct::WAIT_MS);
            while (total == t0 && std::chrono::steady_clock::now() < end)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    stop = true;
    publisher.join();
    CHECK(total > 0);
    CHECK_EQ(n.callback_count(), 0u);
}

CPPTEST_MAIN
