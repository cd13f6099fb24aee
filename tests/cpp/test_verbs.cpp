/* SPDX-License-Identifier: MIT */
/*
 * test_verbs.cpp — every verb of the C++ binding between two real
 * processes: this test's node and a provider (provider.hpp), a child
 * process that uses the binding too.  Built as C++17 and as C++20.
 */
#include "provider.hpp"

#include <algorithm>
#include <csignal>
#include <sys/stat.h>

using ipcn::Kind;
using ipcn::Node;

static std::string net_dir()
{
    return std::string(getenv("IPCNET_DIR")) + "/" + getenv("IPCNET_NETWORK");
}

TEST(errors_and_results)
{
    ipcn::Error e(203, "request x/y");
    CHECK_EQ(e.status(), 203);
    CHECK_EQ(std::string(e.what()), std::string("203 Not Found: request x/y"));
    CHECK_EQ(std::string(e.status_text()), std::string("Not Found"));
    CHECK_EQ(std::string(ipcn::Error(1234).what()), std::string("1234 Application Status"));
    const std::runtime_error &base = e; /* an Error is a std::runtime_error */
    CHECK(std::string(base.what()).find("Not Found") != std::string::npos);

    /* (std::string, not int: GCC 12 with -fsanitize=address warns about
     * std::optional<int> falsely, its bug 80635.) */
    ipcn::Result<std::string> none(IPCN_NO_DATA);
    CHECK(!none.ok());
    CHECK(!none);
    CHECK(!none.has_value());
    CHECK_EQ(none.value_or("seven"), std::string("seven"));
    CHECK_STATUS(none.value(), IPCN_NO_DATA);
    ipcn::Result<int> some(IPCN_OK, 5);
    CHECK(some.ok());
    CHECK_EQ(some.value(), 5);
    CHECK_EQ(*some, 5);
    ipcn::Result<int> failed_with_value(1234, 9); /* a provider's error with a body */
    CHECK(!failed_with_value.ok());
    CHECK(failed_with_value.has_value());
    CHECK_EQ(failed_with_value.value(), 9);

    CHECK(ipcn::is_ok(101));
    CHECK(!ipcn::is_ok(200));
    CHECK_EQ(std::string(ipcn::status_str(207)), std::string("Conflict"));
    CHECK_EQ(std::string(ipcn::version()), std::string(ipcn_version()));
    CHECK(ipcn::pattern_match("cam/*/rgb", "cam/front/rgb"));
    CHECK(!ipcn::pattern_match("cam/*", "cam/front/rgb"));
}

TEST(node_open_and_accessors)
{
    Node a("acc-a");
    Node b("acc-b");
    CHECK(a.is_open());
    CHECK(bool(a));
    CHECK_EQ(a.name(), std::string_view("acc-a"));
    CHECK(a.id() != 0);
    CHECK(a.id() != b.id());
    CHECK(a.fd() >= 0);
    CHECK_EQ(std::string(a.dir()), net_dir());
    CHECK_EQ(a.timeout() == 0 || a.timeout() == -1, true);
    CHECK(a.get() != nullptr);

    /* 200 for a bad name, 207 for a taken one: as exceptions and as try_open. */
    CHECK_STATUS(Node("a/b"), IPCN_BAD_REQUEST);
    CHECK_STATUS(Node(""), IPCN_BAD_REQUEST);
    ipcn::Error taken = ERROR_OF(Node("acc-a"));
    CHECK_EQ(taken.status(), IPCN_CONFLICT);
    CHECK(std::string(taken.what()).find("acc-a") != std::string::npos);
    auto r = Node::try_open("acc-a");
    CHECK_EQ(r.status(), IPCN_CONFLICT);
    CHECK(!r);
    auto ok = Node::try_open("acc-c");
    CHECK(ok.ok());
    CHECK_EQ(ok->name(), std::string_view("acc-c"));

    /* Options: network and dir override the environment. */
    ipcn::NodeOptions o;
    o.network = "altnet";
    o.dir = std::string(getenv("IPCNET_DIR")) + "/alt";
    CHECK_EQ(mkdir(o.dir.c_str(), 0700), 0);
    Node c("acc-a", o); /* another network: the name is free there */
    CHECK_EQ(std::string(c.dir()), o.dir + "/altnet");
    o.heartbeat_ms = 300;
    o.dead_after_ms = 100; /* < 2 * heartbeat */
    CHECK_STATUS(Node("acc-d", o), IPCN_BAD_REQUEST);
    ipcn::NodeOptions bad;
    bad.criticality = static_cast<ipcn::Criticality>(4);
    CHECK_STATUS(Node("acc-d", bad), IPCN_BAD_REQUEST);
    b.ready(); /* 100; again: the same */
    b.ready();

    /* dispatch: 103 (idle) is false, not an error. */
    a.dispatch(0);
    a.start_thread();
    CHECK_STATUS(a.start_thread(), IPCN_BAD_REQUEST);
    CHECK_STATUS(a.dispatch(0), IPCN_SERVICE_UNAVAILABLE);
    a.stop_thread();
    CHECK_STATUS(a.stop_thread(), IPCN_NOT_FOUND);
    a.close();
    CHECK(!a.is_open());
    CHECK_STATUS(a.name(), IPCN_BAD_REQUEST);
    CHECK_STATUS(a.ready(), IPCN_BAD_REQUEST);
    a.close(); /* twice is fine */
}

TEST(node_options_idle_probe)
{
    /* idle_probe_ms reaches the library: an idle link is probed. */
    ipcn::NodeOptions o;
    o.heartbeat_ms = 50;
    o.dead_after_ms = 200;
    o.idle_probe_ms = 100;
    o.max_peers = 8;
    Node a("probe-a", o), b("probe-b", o);
    a.start_thread();
    b.start_thread();
    a.wait_peers(1, 10000);
    b.wait_peers(1, 10000);
    for (int i = 0; i < 1000 && a.stats().pings_sent + b.stats().pings_sent < 4; i++)
        usleep(10000);
    CHECK(a.stats().pings_sent + b.stats().pings_sent >= 4);
}

TEST(node_move)
{
    Node a("mv-a");
    std::uint64_t id = a.id();
    Node b(std::move(a));
    CHECK(!a.is_open());
    CHECK_STATUS(a.publish("x", "y"), IPCN_BAD_REQUEST);
    CHECK_STATUS(a.find(), IPCN_BAD_REQUEST);
    CHECK_EQ(b.id(), id);
    CHECK_EQ(b.name(), std::string_view("mv-a"));

    Node c("mv-c");
    c = std::move(b); /* closes mv-c, takes mv-a */
    CHECK_EQ(c.id(), id);
    CHECK(!b.is_open());
    auto again = Node::try_open("mv-c"); /* the name was freed */
    CHECK_EQ(again.status(), IPCN_OK);
    CHECK_EQ(Node::try_open("mv-a").status(), IPCN_CONFLICT);
    Node empty;
    CHECK(!empty);
    c = std::move(empty);
    CHECK(!c.is_open());
    CHECK(Node::try_open("mv-a").ok());
}

TEST(announce_find_withdraw)
{
    Node n("res");
    std::vector<std::uint8_t> meta = ipcn::cbor_encode(
        [](ipcn::CborWriter &w) { w.begin_map(1).put_text("units").put_text("rad"); });
    CHECK_EQ(n.announce("arm/state", Kind::Data, "cbor", meta), IPCN_CREATED);
    CHECK_EQ(n.announce("arm/state", Kind::Data, "cbor", meta), IPCN_OK); /* re-announce */
    CHECK_EQ(n.announce("arm/joints", Kind::Stream), IPCN_CREATED);
    CHECK_STATUS(n.announce("bad//path", Kind::Data), IPCN_BAD_REQUEST);
    CHECK_STATUS(n.announce("arm/*", Kind::Data), IPCN_BAD_REQUEST);
    auto all = n.find("arm/**");
    CHECK_EQ(all.size(), 2u);
    CHECK_EQ(all[0].path, std::string("arm/joints")); /* sorted by path */
    CHECK(all[0].kind == Kind::Stream);
    CHECK_EQ(all[1].path, std::string("arm/state"));
    CHECK(all[1].kind == Kind::Data);
    CHECK_EQ(all[1].encoding, std::string("cbor"));
    CHECK(all[1].meta == meta);
    CHECK_EQ(all[1].provider, std::string("res"));
    CHECK_EQ(all[1].provider_id, n.id());
    CHECK_EQ(all[1].version, 2u);
    CHECK_EQ(n.find("arm/**", Kind::Stream).size(), 1u);
    CHECK_EQ(std::string(ipcn::kind_name(all[0].kind)), std::string("stream"));
    CHECK_STATUS(n.find("a//b"), IPCN_BAD_REQUEST);
    n.withdraw("arm/state");
    CHECK_EQ(n.find("arm/**").size(), 1u);
    CHECK_STATUS(n.withdraw("arm/state"), IPCN_NOT_FOUND);
    ipcn::Error e = ERROR_OF(n.withdraw(std::string_view("nope/x")));
    CHECK_EQ(std::string(e.what()), std::string("203 Not Found: withdraw nope/x"));
}

TEST(find_across_processes)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    n.wait_synced(ct::WAIT_MS);
    CHECK_EQ(n.try_wait_peers(1, ct::WAIT_MS), IPCN_OK);
    auto res = n.find("p/**");
    CHECK_EQ(res.size(), 15u);
    auto at = [&](const char *path) {
        auto it = std::find_if(res.begin(), res.end(),
                               [&](const ipcn::Resource &r) { return r.path == path; });
        if (it == res.end())
            ct::fail(__FILE__, __LINE__, std::string("no ") + path);
        return *it;
    };
    CHECK(at("p/data").kind == Kind::Data);
    CHECK_EQ(at("p/data").encoding, std::string("text/plain"));
    CHECK_EQ(at("p/data").provider, std::string("prov"));
    CHECK(at("p/stream").kind == Kind::Stream);
    CHECK(at("p/echo").kind == Kind::Service);
    CHECK_EQ(n.find("p/**", Kind::Service).size(), 12u);
    /* The typed service's descriptor carries its schema. */
    ipcn::Resource typed = at("p/typed"); /* the tree points into its meta */
    ipcn::CborTree meta = ipcn::CborTree::decode(typed.meta);
    CHECK(meta.find("args") != nullptr);
    CHECK_EQ(ipcn::CborTree::text(*meta.find("returns")), std::string_view("float"));
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(query)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    ipcn::Message v = n.query("p/data", ct::WAIT_MS);
    CHECK_EQ(v.text(), std::string_view("value-1"));
    CHECK_EQ(v.path(), std::string_view("p/data"));
    CHECK_EQ(v.encoding(), std::string_view("text/plain"));
    CHECK_EQ(v.src_name(), std::string_view("prov"));
    CHECK_EQ(v.status(), IPCN_OK);
    CHECK_EQ(v.size(), 7u);
    CHECK_EQ(v.data().str(), std::string_view("value-1"));
    CHECK_EQ(v.verify(), IPCN_OK); /* inline: checked on arrival */
    CHECK(!v.shared());

    /* Message is copyable (a reference, not a copy of the bytes). */
    ipcn::Message copy = v;
    CHECK(copy.data().data() == v.data().data());
    ipcn::Message moved = std::move(copy);
    CHECK(copy.empty());
    CHECK_EQ(moved.text(), std::string_view("value-1"));
    /* writable(): a private copy whose bytes may be written. */
    ipcn::Message w = v.writable();
    CHECK(w.is_writable());
    w.mutable_data()[0] = 'V';
    CHECK_EQ(w.text(), std::string_view("Value-1"));
    CHECK_EQ(v.text(), std::string_view("value-1"));
    CHECK_STATUS(v.mutable_data(), IPCN_BAD_REQUEST);

    CHECK_STATUS(n.query("p/empty", ct::WAIT_MS), IPCN_NO_DATA);
    auto r = n.try_query("p/empty", ct::WAIT_MS);
    CHECK_EQ(r.status(), IPCN_NO_DATA);
    CHECK(!r.ok());
    CHECK(!r.has_value());
    ipcn::Error e = ERROR_OF(n.query("nobody/has/this", ct::WAIT_MS));
    CHECK_EQ(e.status(), IPCN_NOT_FOUND);
    CHECK_EQ(std::string(e.what()), std::string("203 Not Found: query nobody/has/this"));
    CHECK_STATUS(n.query("p/stream", ct::WAIT_MS), IPCN_METHOD_NOT_ALLOWED);
    CHECK_STATUS(n.query("p/echo", ct::WAIT_MS), IPCN_METHOD_NOT_ALLOWED);
    auto ok = n.try_query("p/data", ct::WAIT_MS);
    CHECK(ok.ok());
    CHECK_EQ(ok->text(), std::string_view("value-1"));
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(set)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    ipcn::Message v = n.query("p/data", ct::WAIT_MS);
    CHECK_EQ(v.seq(), 1u);
    /* The version read with the value: set if unchanged. */
    CHECK_EQ(n.set("p/data", ipcn::Bytes("value-2", 7), "text/plain", v.seq(), ct::WAIT_MS),
             2u);
    CHECK_EQ(n.query("p/data", ct::WAIT_MS).text(), std::string_view("value-2"));
    /* Stale: 207, and try_set() gives the current version. */
    ipcn::Error e = ERROR_OF(n.set("p/data", ipcn::Bytes("x", 1), "", 1, ct::WAIT_MS));
    CHECK_EQ(e.status(), IPCN_CONFLICT);
    CHECK_EQ(std::string(e.what()), std::string("207 Conflict: set p/data"));
    auto r = n.try_set("p/data", ipcn::Bytes("value-3", 7), "", 1, ct::WAIT_MS);
    CHECK_EQ(r.status(), IPCN_CONFLICT);
    CHECK(!r.ok());
    CHECK(r.has_value());
    CHECK_EQ(*r, 2u);
    r = n.try_set("p/data", ipcn::Bytes("value-3", 7), "", *r, ct::WAIT_MS);
    CHECK(r.ok());
    CHECK_EQ(*r, 3u);
    /* Defaults: the resource's encoding, any version, no timeout. */
    CHECK_EQ(n.set("p/data", ipcn::Bytes("value-4", 7)), 4u);
    CHECK_EQ(n.query("p/data", ct::WAIT_MS).seq(), 4u);
    CHECK_STATUS(n.set("p/data", ipcn::Bytes("x", 1), "image/png", 0, ct::WAIT_MS),
                 IPCN_BAD_REQUEST);
    CHECK_STATUS(n.set("p/stream", ipcn::Bytes("x", 1), "", 0, ct::WAIT_MS),
                 IPCN_METHOD_NOT_ALLOWED);
    CHECK_STATUS(n.set("p/echo", ipcn::Bytes("x", 1), "", 0, ct::WAIT_MS),
                 IPCN_METHOD_NOT_ALLOWED);
    CHECK_STATUS(n.set("nobody/has/this", ipcn::Bytes("x", 1), "", 0, ct::WAIT_MS),
                 IPCN_NOT_FOUND);
    auto none = n.try_set("nobody/has/this", ipcn::Bytes("x", 1));
    CHECK_EQ(none.status(), IPCN_NOT_FOUND);
    CHECK(!none.has_value());
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

/* A set check on this node: sets of its own resource run it inside set(). */
TEST(set_checked_local)
{
    Node n("self");
    n.announce("c/gain", Kind::Data, "text/plain");
    int calls = 0;
    n.on_set("c/gain", [&](const ipcn::MessageView &v) {
        calls++;
        CHECK_EQ(v.src_name(), std::string_view("self"));
        return v.text() == "bad" ? IPCN_FORBIDDEN : IPCN_OK;
    });
    CHECK_EQ(n.set("c/gain", ipcn::Bytes("good", 4), "", 0, 0), 1u);
    CHECK_EQ(calls, 1);
    CHECK_STATUS(n.set("c/gain", ipcn::Bytes("bad", 3), "", 0, 0), IPCN_FORBIDDEN);
    CHECK_EQ(calls, 2);
    CHECK_EQ(n.query("c/gain", 0).text(), std::string_view("good"));
    n.on_set("c/gain", [](const ipcn::MessageView &) -> int { throw std::runtime_error("x"); });
    CHECK_STATUS(n.set("c/gain", ipcn::Bytes("any", 3), "", 0, 0), IPCN_INTERNAL_ERROR);
    n.on_set("c/gain", nullptr); /* removed: any value of its encoding */
    CHECK_EQ(n.set("c/gain", ipcn::Bytes("bad", 3), "", 0, 0), 2u);
    CHECK_EQ(calls, 2);
    CHECK_STATUS(n.on_set("c/none", [](const ipcn::MessageView &) { return IPCN_OK; }),
                 IPCN_NOT_FOUND);
    n.announce("c/s", Kind::Stream);
    CHECK_STATUS(n.on_set("c/s", [](const ipcn::MessageView &) { return IPCN_OK; }),
                 IPCN_METHOD_NOT_ALLOWED);
    n.withdraw("c/gain");
}

/* A provider that cannot answer (stopped): the query ends with 304. */
TEST(query_timeout)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    n.wait_synced(ct::WAIT_MS);
    CHECK(p.stop());
    auto r = n.try_query("p/data", 300);
    CHECK_EQ(r.status(), IPCN_GATEWAY_TIMEOUT);
    CHECK_STATUS(n.query("p/data", 200), IPCN_GATEWAY_TIMEOUT);
    p.signal(SIGCONT);
}

TEST(request)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);

    ipcn::Message echo = n.request("p/echo", "ping", "text/plain", ct::WAIT_MS);
    CHECK_EQ(echo.text(), std::string_view("ping"));
    CHECK_EQ(echo.encoding(), std::string_view("text/plain"));
    CHECK_EQ(echo.status(), IPCN_OK);
    const std::vector<std::uint8_t> bin{0, 1, 2, 255};
    ipcn::Message binary = n.request("p/echo", bin, "bytes", ct::WAIT_MS);
    CHECK(binary.data().to_vector() == bin);
    /* A temporary's text is a copy, not a dangling view. */
    std::string copied = n.request("p/echo", "tmp", "text/plain", ct::WAIT_MS).text();
    CHECK_EQ(copied, std::string("tmp"));
    std::string s(100000, 'x'); /* a bigger body */
    CHECK_EQ(n.request("p/echo", s, "", ct::WAIT_MS).size(), s.size());
    /* 16 KiB and more go through shared memory (protocol 12.9), byte for
     * byte, both ways. */
    std::vector<std::uint8_t> big(1u << 20);
    for (std::size_t i = 0; i < big.size(); i++)
        big[i] = static_cast<std::uint8_t>(i * 7 + (i >> 11));
    const auto sent0 = n.stats().shm_requests_sent;
    ipcn::Message bigm = n.request("p/echo", big, "bytes", ct::WAIT_MS);
    CHECK(bigm.data().to_vector() == big);
    CHECK_EQ(n.stats().shm_requests_sent, sent0 + 1);

    ipcn::Error missing = ERROR_OF(n.request("missing/svc", "x", "", ct::WAIT_MS));
    CHECK_EQ(missing.status(), IPCN_NOT_FOUND);
    CHECK_EQ(std::string(missing.what()), std::string("203 Not Found: request missing/svc"));
    CHECK_STATUS(n.request("p/data", "x", "", ct::WAIT_MS), IPCN_METHOD_NOT_ALLOWED);

    /* An application error: thrown with its code and its text body... */
    ipcn::Error app = ERROR_OF(n.request("p/app", "x", "", ct::WAIT_MS));
    CHECK_EQ(app.status(), 1234);
    CHECK_EQ(std::string(app.what()),
             std::string("1234 Application Status: request p/app: app-error"));
    /* ...and with try_request, the status and the answer. */
    auto r = n.try_request("p/app", "x", "", ct::WAIT_MS);
    CHECK_EQ(r.status(), 1234);
    CHECK(!r.ok());
    CHECK(r.has_value());
    CHECK_EQ(r.value().text(), std::string_view("app-error"));
    auto ok = n.try_request("p/echo", "y", "", ct::WAIT_MS);
    CHECK(ok.ok());
    CHECK_EQ(ok->text(), std::string_view("y"));

    /* A handler that throws: 300, and the provider lives on. */
    ipcn::Error thrown = ERROR_OF(n.request("p/throw", "", "", ct::WAIT_MS));
    CHECK_EQ(thrown.status(), IPCN_INTERNAL_ERROR);
    CHECK(std::string(thrown.what()).find("threw") != std::string::npos);
    /* Deferred, answered from a std::thread. */
    ipcn::Message later = n.request("p/later", "20", "text/plain", ct::WAIT_MS);
    CHECK_EQ(later.text(), std::string_view("later:20"));
    /* A dropped Responder answers 300; one dropped by a throw, once. */
    CHECK_STATUS(n.request("p/drop", "", "", ct::WAIT_MS), IPCN_INTERNAL_ERROR);
    CHECK_STATUS(n.request("p/throwdefer", "", "", ct::WAIT_MS), IPCN_INTERNAL_ERROR);
    /* The answer comes too late: 304. */
    CHECK_STATUS(n.request("p/later", "3000", "text/plain", 200), IPCN_GATEWAY_TIMEOUT);
    CHECK_EQ(n.request("p/echo", "still", "", ct::WAIT_MS).text(), std::string_view("still"));
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(offer_typed)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    auto args = ipcn::cbor_encode([](ipcn::CborWriter &w) {
        w.begin_map(1).put_text("x").put_float(1.25);
    });
    ipcn::Message m = n.request("p/typed", args, "cbor", ct::WAIT_MS);
    CHECK_EQ(m.encoding(), std::string_view("cbor"));
    ipcn::CborTree answer = ipcn::CborTree::decode(m.data());
    CHECK_EQ(answer.root().f, 2.5);
    auto bad = ipcn::cbor_encode([](ipcn::CborWriter &w) {
        w.begin_map(1).put_text("x").put_text("one");
    });
    ipcn::Error e = ERROR_OF(n.request("p/typed", bad, "cbor", ct::WAIT_MS));
    CHECK_EQ(e.status(), IPCN_BAD_REQUEST);
    CHECK(std::string(e.what()).find("args.x") != std::string::npos);

    /* Offered here: an invalid schema is 200; offering twice 207. */
    auto h = [](const ipcn::MessageView &, ipcn::Reply &) { return IPCN_OK; };
    auto bogus = ipcn::cbor_encode([](ipcn::CborWriter &w) { w.put_text("nosuchtype"); });
    CHECK_STATUS(n.offer_typed("c/typed", bogus, {}, h), IPCN_BAD_REQUEST);
    n.offer_typed("c/typed", typed_args_schema(), {}, h);
    CHECK_STATUS(n.offer_typed("c/typed", typed_args_schema(), {}, h), IPCN_CONFLICT);
    CHECK_STATUS(n.offer("c/typed", "", h), IPCN_CONFLICT);
    CHECK_EQ(n.callback_count(), 1u); /* the failed offers left nothing */
    n.withdraw("c/typed");
    CHECK_EQ(n.callback_count(), 0u);
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(request_async_and_cancel)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    int calls = 0, status = 0;
    std::string body;
    n.request_async("p/echo", "async", "text/plain", ct::WAIT_MS,
                    [&](int st, const ipcn::MessageView &reply) {
                        calls++;
                        status = st;
                        body = reply ? std::string(reply.text()) : "<none>";
                    });
    CHECK_EQ(n.callback_count(), 1u);
    CHECK(ct::wait_until(n, [&] { return calls == 1; }));
    CHECK_EQ(status, IPCN_OK);
    CHECK_EQ(body, std::string("async"));
    CHECK_EQ(n.callback_count(), 0u); /* freed once called */

    /* Refused at once: throws, the callback never runs nor stays. */
    CHECK_STATUS(n.request_async("missing/svc", "", "", 100,
                                 [&](int, const ipcn::MessageView &) { calls++; }),
                 IPCN_NOT_FOUND);
    CHECK_EQ(n.callback_count(), 0u);

    /* Timeout: the callback gets 304 and no message. */
    n.request_async("p/later", "3000", "text/plain", 100,
                    [&](int st, const ipcn::MessageView &reply) {
                        calls++;
                        status = st;
                        body = reply ? std::string(reply.text()) : "<none>";
                    });
    CHECK(ct::wait_until(n, [&] { return calls == 2; }));
    CHECK_EQ(status, IPCN_GATEWAY_TIMEOUT);
    CHECK_EQ(body, std::string("<none>"));

    /* Cancelled: never called, freed. */
    ipcn::Request req = n.request_async("p/later", "300", "text/plain", ct::WAIT_MS,
                                        [&](int, const ipcn::MessageView &) { calls++; });
    CHECK_EQ(n.callback_count(), 1u);
    CHECK(n.cancel(req));
    CHECK_EQ(n.callback_count(), 0u);
    CHECK(!req.cancel()); /* already cancelled */
    ct::pump(n, 600);
    CHECK_EQ(calls, 2);

    /* Cancelling one that was answered: false. */
    ipcn::Request done = n.request_async("p/echo", "z", "", ct::WAIT_MS,
                                         [&](int, const ipcn::MessageView &) { calls++; });
    CHECK(ct::wait_until(n, [&] { return calls == 3; }));
    CHECK(!done.cancel());
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(subscribe_callback)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    std::vector<std::string> texts;
    std::vector<std::uint64_t> seqs;
    std::vector<std::string> gone;
    ipcn::Subscription sub = n.subscribe("p/*", [&](const ipcn::MessageView &m) {
        if (m.status() == IPCN_OK) {
            CHECK_EQ(m.src_name(), std::string_view("prov"));
            CHECK(m.timestamp_ns() > 0);
            if (m.path() == "p/stream") {
                texts.emplace_back(m.text());
                seqs.push_back(m.seq());
            }
        } else {
            CHECK_EQ(m.status(), IPCN_SERVICE_UNAVAILABLE);
            CHECK_EQ(m.size(), 0u);
            gone.emplace_back(m.path());
        }
    });
    CHECK(sub.active());
    CHECK(ct::wait_until(n, [&] {
        for (auto &s : n.subscriptions())
            if (s.node == "prov" && s.pattern == "c/**")
                return true;
        return false;
    }));
    n.wait_synced(ct::WAIT_MS); /* the provider knows our subscription */
    n.request("p/pub", "5", "text/plain", ct::WAIT_MS);
    CHECK(ct::wait_until(n, [&] { return texts.size() == 5; }));
    CHECK_EQ(texts[0], std::string("s1"));
    CHECK_EQ(texts[4], std::string("s5"));
    for (size_t i = 1; i < seqs.size(); i++)
        CHECK(seqs[i] == seqs[i - 1] + 1);
    ipcn::SubStats st = sub.stats();
    CHECK(st.delivered >= 5);
    CHECK_EQ(st.dropped, 0u);

    /* The provider withdraws its stream: a 303 message. */
    n.request("p/withdraw", "p/stream", "text/plain", ct::WAIT_MS);
    CHECK(ct::wait_until(n, [&] { return !gone.empty(); }));
    CHECK_EQ(gone[0], std::string("p/stream"));
    CHECK_STATUS(n.subscribe("a//b", [](const ipcn::MessageView &) {}), IPCN_BAD_REQUEST);
    CHECK_STATUS(n.subscribe("x/**", ipcn::SampleFn()), IPCN_BAD_REQUEST);
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(subscribe_take)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    ipcn::Subscription sub = n.subscribe("p/stream", 16);
    n.wait_synced(ct::WAIT_MS);
    n.request("p/pub", "3", "text/plain", ct::WAIT_MS);
    for (int i = 1; i <= 3; i++) {
        ipcn::Message m = sub.take(ct::WAIT_MS);
        CHECK_EQ(std::string(m.text()), "s" + std::to_string(i));
        CHECK_EQ(m.path(), std::string_view("p/stream"));
    }
    auto none = sub.try_take(50);
    CHECK_EQ(none.status(), IPCN_NO_DATA);
    CHECK(!none.has_value());
    CHECK_STATUS(sub.take(50), IPCN_NO_DATA);
    ipcn::SubStats st = sub.stats();
    CHECK_EQ(st.delivered, 3u);
    CHECK_EQ(st.queued, 0u);
    CHECK_EQ(st.lost, 0u);

    /* take on a subscription with a callback: 200. */
    ipcn::Subscription cb = n.subscribe("p/stream", [](const ipcn::MessageView &) {});
    CHECK_STATUS(cb.take(10), IPCN_BAD_REQUEST);
    /* After unsubscribe: 203. */
    sub.unsubscribe();
    CHECK(!sub.active());
    CHECK_STATUS(sub.take(10), IPCN_NOT_FOUND);
    CHECK_STATUS(sub.unsubscribe(), IPCN_NOT_FOUND);
    CHECK_STATUS(sub.stats(), IPCN_NOT_FOUND);
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(publish_to_peer)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    n.announce("c/talk", Kind::Stream, "text/plain");
    n.announce("c/value", Kind::Data, "text/plain");
    CHECK(ct::wait_until(n, [&] {
        for (auto &s : n.subscriptions())
            if (s.node == "prov" && s.pattern == "c/**")
                return true;
        return false;
    }));
    n.publish("c/talk", "hello");
    n.publish("c/talk", std::string("there"));
    n.publish("c/value", std::string_view("v"));
    CHECK_EQ(n.try_publish("c/nope", "x"), IPCN_NOT_FOUND);
    CHECK_STATUS(n.publish("c/nope", "x"), IPCN_NOT_FOUND);
    n.offer("c/svc", "", [](const ipcn::MessageView &, ipcn::Reply &) { return IPCN_OK; });
    CHECK_STATUS(n.publish("c/svc", "x"), IPCN_METHOD_NOT_ALLOWED);
    n.withdraw("c/talk");
    CHECK(ct::wait_until(n, [&] {
        return n.request("p/got", {}, "", ct::WAIT_MS).text() == "hello,there,v,303:c/talk";
    }));
    /* Our own subscriptions show too. */
    ipcn::Subscription mine = n.subscribe("x/**");
    bool found = false;
    for (auto &s : n.subscriptions())
        found |= s.node == "client" && s.pattern == "x/**" && s.node_id == n.id();
    CHECK(found);
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(events_peers_stats)
{
    Node n("client");
    std::vector<ipcn::Event> evs;
    n.set_event_fn([&](const ipcn::Event &e) { evs.push_back(e); });
    CHECK_EQ(n.callback_count(), 1u);
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    auto has = [&](ipcn::EventType t, const char *path) {
        for (auto &e : evs)
            if (e.type == t && e.peer == "prov" && e.path == path)
                return &e;
        return static_cast<ipcn::Event *>(nullptr);
    };
    CHECK(ct::wait_until(n, [&] { return has(ipcn::EventType::ResourceUp, "p/quit"); }));
    CHECK(has(ipcn::EventType::PeerUp, "") != nullptr);
    CHECK(has(ipcn::EventType::ResourceUp, "p/data")->kind == Kind::Data);
    CHECK(has(ipcn::EventType::ResourceUp, "p/echo")->kind == Kind::Service);

    auto peers = n.peers();
    CHECK_EQ(peers.size(), 1u);
    CHECK_EQ(peers[0].name, std::string("prov"));
    CHECK_EQ(peers[0].pid, static_cast<std::int32_t>(p.pid()));
    CHECK_EQ(peers[0].uid, static_cast<std::int32_t>(getuid()));
    /* Its principal: the helper is this test's own binary, our groups. */
    char self[4096];
    ssize_t self_len = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(self_len > 0);
    self[self_len > 0 ? self_len : 0] = 0;
    CHECK_EQ(peers[0].exe, std::string(self));
    CHECK(peers[0].exe_hashed);
    CHECK(std::any_of(peers[0].exe_sha256, peers[0].exe_sha256 + 32,
                      [](std::uint8_t b) { return b != 0; }));
    CHECK_EQ(peers[0].groups.size(), static_cast<std::size_t>(getgroups(0, nullptr)));
    CHECK_EQ(peers[0].resources, 15u);
    CHECK(peers[0].frames_in > 0);
    /* What it said of itself: important, ready (one event). */
    CHECK(peers[0].criticality == ipcn::Criticality::Important);
    CHECK(peers[0].ready);
    CHECK(ct::wait_until(n, [&] { return has(ipcn::EventType::PeerReady, ""); }));
    CHECK_EQ(std::count_if(evs.begin(), evs.end(), [](const ipcn::Event &e) {
                 return e.type == ipcn::EventType::PeerReady;
             }),
             1);
    ipcn::NodeStats st = n.stats();
    CHECK_EQ(st.peers, 1u);
    CHECK(st.frames_in > 0);
    CHECK(st.resources >= 15);

    /* Replacing the event callback frees the old one. */
    int second = 0;
    n.set_event_fn([&](const ipcn::Event &e) {
        second++;
        evs.push_back(e);
    });
    CHECK_EQ(n.callback_count(), 1u);
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
    CHECK(ct::wait_until(n, [&] {
        for (auto &e : evs)
            if (e.type == ipcn::EventType::PeerDown && e.peer == "prov")
                return true;
        return false;
    }));
    for (auto &e : evs)
        if (e.type == ipcn::EventType::PeerDown)
            CHECK_EQ(e.status, IPCN_OK); /* a goodbye */
    CHECK(has(ipcn::EventType::ResourceDown, "p/data") != nullptr);
    CHECK(has(ipcn::EventType::CriticalLost, "") == nullptr); /* important */
    CHECK(second > 0);
    n.set_event_fn(nullptr);
    CHECK_EQ(n.callback_count(), 0u);
    CHECK(n.peers().empty());
}

/* What a peer sends a node: the provider's picture through its node
 * service, this node's own through traffic().  Since: 0.2 */
TEST(traffic)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    for (int i = 0; i < 3; i++)
        n.request("p/echo", ipcn::Bytes("hi", 2), "", ct::WAIT_MS);
    ipcn::Message m = n.request("@sys/prov/traffic", {}, "", ct::WAIT_MS);
    CHECK_EQ(m.encoding(), std::string_view("cbor"));
    std::string_view body = m.text();
    CHECK(body.find("p/echo") != std::string_view::npos);
    CHECK(body.find("client") != std::string_view::npos);
    for (const ipcn::TrafficItem &t : n.traffic()) /* what prov sent us */
        CHECK_EQ(t.peer, std::string("prov"));
    CHECK(n.traffic("prov").size() == n.traffic().size());
    CHECK_STATUS(n.traffic("nobody"), IPCN_NOT_FOUND);
    CHECK_STATUS(n.request("@sys/nobody/traffic", {}, "", ct::WAIT_MS), IPCN_NOT_FOUND);
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(tensor_reply)
{
    Node n("client");
    ct::PeerProcess p("provider", {"prov"});
    wait_provider(n);
    ipcn::Message m = n.request("p/tensor", {}, "", ct::WAIT_MS);
    CHECK_EQ(m.encoding(), std::string_view("tensor"));
    ipcn::Tensor t = ipcn::Tensor::decode(m);
    CHECK_EQ(t.dtype(), IPCN_DTYPE_FLOAT32);
    CHECK_EQ(t.ndim(), 2u);
    CHECK_EQ(t.shape()[0], 2);
    CHECK_EQ(t.shape()[1], 3);
    CHECK_EQ(t.numel(), 6u);
    std::vector<float> v = t.to_vector<float>();
    CHECK_EQ(v.size(), 6u);
    CHECK_EQ(v[5], 5.0f);
    if (t.aligned())
        CHECK_EQ(t.data<float>()[4], 4.0f);
    CHECK_STATUS(t.to_vector<double>(), IPCN_BAD_REQUEST);
    CHECK_STATUS(t.data<std::int32_t>(), IPCN_BAD_REQUEST);
    CHECK_STATUS(ipcn::Tensor::decode(n.request("p/echo", "not a tensor", "", ct::WAIT_MS)),
                 IPCN_BAD_REQUEST);
    n.request("p/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

CPPTEST_MAIN
