/* SPDX-License-Identifier: MIT */
/*
 * provider.hpp — the helper process of the C++ tests, written with the
 * binding itself: `--peer provider NAME` opens node NAME (with its own
 * thread) and serves, under p/ :
 *
 *   p/data     data, text/plain, value "value-1"
 *   p/empty    data with no value yet
 *   p/stream   stream, text/plain
 *   p/echo     service: 100, the request's body and encoding
 *   p/app      service: 1234, body "app-error" (text/plain)
 *   p/throw    service: the handler throws (the binding answers 300)
 *   p/later    service: defers; a std::thread answers "later:<body>"
 *              after <body> ms (a decimal number)
 *   p/drop     service: defers and drops the Responder (answers 300)
 *   p/throwdefer service: defers, then throws (300, answered once)
 *   p/typed    typed service: args {"x": float}, returns float (2 * x)
 *   p/pub      service: publishes <body> samples "s1".."sN" on p/stream
 *   p/withdraw service: withdraws the path in its body
 *   p/got      service: what its subscription to c/(anything) received, joined
 *              by ',' ("303:<path>" for a withdrawal)
 *   p/tensor   service: answers a float32 [2, 3] tensor 0..5 ("tensor")
 *   p/quit     service (offered last): close the node and exit 0
 *
 * The node is important (NodeOptions::criticality) and says it is ready
 * (Node::ready()) before it offers p/quit.
 */
#ifndef IPCN_CPP_PROVIDER_HPP
#define IPCN_CPP_PROVIDER_HPP

#include "cpptest.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>

/* The CBOR schema of p/typed: args {"map": {"x": "float"}}, returns "float". */
inline std::vector<std::uint8_t> typed_args_schema()
{
    return ipcn::cbor_encode([](ipcn::CborWriter &w) {
        w.begin_map(1).put_text("map").begin_map(1).put_text("x").put_text("float");
    });
}
inline std::vector<std::uint8_t> typed_returns_schema()
{
    return ipcn::cbor_encode([](ipcn::CborWriter &w) { w.put_text("float"); });
}

PEER(provider)
{
    if (argc < 1)
        return 4;
    ipcn::NodeOptions opts;
    opts.criticality = ipcn::Criticality::Important;
    ipcn::Node node(argv[0], opts);
    std::atomic<bool> quit{false};
    std::mutex m;
    std::condition_variable wake; /* ends the waits of p/later at quit */
    std::vector<std::thread> workers;
    std::vector<std::string> got;

    node.announce("p/data", ipcn::Kind::Data, "text/plain");
    node.publish("p/data", "value-1");
    node.announce("p/empty", ipcn::Kind::Data, "text/plain");
    node.announce("p/stream", ipcn::Kind::Stream, "text/plain");
    node.offer("p/echo", "", [](const ipcn::MessageView &req, ipcn::Reply &reply) {
        reply.set(req.data(), req.encoding());
        return IPCN_OK;
    });
    node.offer("p/app", "text/plain", [](const ipcn::MessageView &, ipcn::Reply &reply) {
        reply.set("app-error", "text/plain");
        return 1234;
    });
    node.offer("p/throw", "", [](const ipcn::MessageView &, ipcn::Reply &) -> int {
        throw std::runtime_error("p/throw throws on purpose");
    });
    node.offer("p/later", "text/plain", [&](const ipcn::MessageView &req, ipcn::Reply &reply) {
        int ms = std::atoi(std::string(req.text()).c_str());
        std::string body(req.text());
        ipcn::Responder r = reply.defer();
        std::lock_guard<std::mutex> lk(m);
        workers.emplace_back([&, r = std::move(r), ms, body]() mutable {
            {
                std::unique_lock<std::mutex> wl(m);
                wake.wait_for(wl, std::chrono::milliseconds(ms), [&] { return quit.load(); });
            }
            /* After quit the node may be closed already: 303, harmlessly. */
            r.try_respond(IPCN_OK, "later:" + body, "text/plain");
        });
        return IPCN_ACCEPTED;
    });
    node.offer("p/drop", "", [](const ipcn::MessageView &, ipcn::Reply &reply) {
        ipcn::Responder r = reply.defer();
        return IPCN_ACCEPTED; /* r is dropped here: it answers 300 */
    });
    node.offer("p/throwdefer", "", [](const ipcn::MessageView &, ipcn::Reply &reply) -> int {
        ipcn::Responder r = reply.defer();
        throw std::runtime_error("p/throwdefer throws after defer");
    });
    node.offer_typed("p/typed", typed_args_schema(), typed_returns_schema(),
                     [](const ipcn::MessageView &req, ipcn::Reply &reply) {
                         ipcn::CborTree t = ipcn::CborTree::decode(req.data());
                         double x = t.find("x")->f;
                         reply.set(ipcn::cbor_encode([&](ipcn::CborWriter &w) { w.put_float(2 * x); }),
                                   "cbor");
                         return IPCN_OK;
                     });
    node.offer("p/pub", "text/plain", [&](const ipcn::MessageView &req, ipcn::Reply &) {
        int n = std::atoi(std::string(req.text()).c_str());
        for (int i = 1; i <= n; i++)
            node.publish("p/stream", "s" + std::to_string(i));
        return IPCN_OK;
    });
    node.offer("p/withdraw", "text/plain", [&](const ipcn::MessageView &req, ipcn::Reply &) {
        node.withdraw(req.text());
        return IPCN_OK;
    });
    ipcn::Subscription sub = node.subscribe("c/**", [&](const ipcn::MessageView &msg) {
        std::lock_guard<std::mutex> lk(m);
        got.push_back(msg.status() == IPCN_OK ? std::string(msg.text())
                                              : "303:" + std::string(msg.path()));
    });
    node.offer("p/got", "", [&](const ipcn::MessageView &, ipcn::Reply &reply) {
        std::string all;
        std::lock_guard<std::mutex> lk(m);
        for (auto &g : got)
            all += (all.empty() ? "" : ",") + g;
        reply.set(all, "text/plain");
        return IPCN_OK;
    });
    node.offer("p/tensor", "", [](const ipcn::MessageView &, ipcn::Reply &reply) {
        const float v[6] = {0, 1, 2, 3, 4, 5};
        reply.set(ipcn::encode_tensor<float>({2, 3}, v), "tensor");
        return IPCN_OK;
    });
    node.ready();
    node.ready(); /* again: nothing more */
    node.offer("p/quit", "", [&](const ipcn::MessageView &, ipcn::Reply &) {
        quit = true;
        return IPCN_OK;
    });
    node.start_thread();
    while (!quit)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    node.stop_thread(); /* the answer to p/quit is sent; no callback runs now */
    /* Close with answers pending on other threads: their Responders
     * outlive the node and must find it gone, not freed. */
    node.close();
    std::vector<std::thread> w;
    {
        std::lock_guard<std::mutex> lk(m);
        w.swap(workers);
    }
    wake.notify_all();
    for (auto &t : w)
        t.join();
    return 0;
}

/* Start a provider called name and wait until node sees all of it (p/quit
 * is offered last). */
inline void wait_provider(ipcn::Node &node, int timeout_ms = ct::WAIT_MS)
{
    if (!ct::wait_until(node, [&] { return node.find("p/quit").size() == 1; }, timeout_ms))
        ct::fail(__FILE__, __LINE__, "the provider did not show up");
}

#endif
