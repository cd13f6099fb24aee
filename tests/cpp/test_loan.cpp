/* SPDX-License-Identifier: MIT */
/*
 * test_loan.cpp — shared-memory loans through the C++ binding: a helper
 * process loans slots, fills them in place and publishes them; this
 * process reads them straight from the mapping, checks them, makes a
 * private writable view, and gives the slots back by dropping its
 * Messages.  In-process: a Loan discarded by its destructor, moved,
 * refused with 306, published too long (200), and outliving its node.
 */
#include "cpptest.hpp"

#include <atomic>
#include <sstream>

using ipcn::Kind;
using ipcn::Node;

static std::uint8_t pattern_byte(std::size_t i, unsigned k)
{
    return static_cast<std::uint8_t>((i * 7 + k) & 0xff);
}

/* `--peer loaner NAME`: stream l/big (pool of 4 slots) and l/tensor;
 * services l/go "K SIZE" (loan SIZE bytes, fill byte i with
 * (i * 7 + K) & 0xff, publish), l/mktensor (a float32 [4, 256] tensor
 * 0..1023 through ipcn_loan_tensor), l/stats (the pool counters of l/big:
 * "slots free loaned held published"), and l/quit (offered last). */
PEER(loaner)
{
    Node node(argv[0]);
    std::atomic<bool> quit{false};
    node.announce("l/big", Kind::Stream, "bytes");
    node.announce("l/tensor", Kind::Stream, "tensor");
    ipcn::PoolOptions po;
    po.slots = 4;
    node.pool_config("l/big", po);
    node.offer("l/go", "text/plain", [&](const ipcn::MessageView &req, ipcn::Reply &) {
        std::istringstream in{std::string(req.text())};
        unsigned k = 0;
        std::size_t size = 0;
        in >> k >> size;
        ipcn::Loan loan = node.loan("l/big", size);
        ipcn::MutableBytes d = loan.data();
        if (d.size() < size)
            return IPCN_INTERNAL_ERROR;
        for (std::size_t i = 0; i < size; i++)
            d[i] = pattern_byte(i, k);
        loan.publish(); /* the length asked for */
        return IPCN_OK;
    });
    node.offer("l/mktensor", "", [&](const ipcn::MessageView &, ipcn::Reply &) {
        ipcn::Loan loan = node.loan_tensor("l/tensor", IPCN_DTYPE_FLOAT32, {4, 256});
        ipcn::MutableBytes e = loan.elements();
        if (e.size() != 1024 * sizeof(float) || reinterpret_cast<std::uintptr_t>(e.data()) % 64)
            return IPCN_INTERNAL_ERROR;
        float *f = reinterpret_cast<float *>(e.data());
        for (int i = 0; i < 1024; i++)
            f[i] = static_cast<float>(i);
        loan.publish(0);
        return IPCN_OK;
    });
    node.offer("l/stats", "", [&](const ipcn::MessageView &, ipcn::Reply &reply) {
        ipcn::PoolStats s = node.pool_stats("l/big");
        reply.set(std::to_string(s.slots) + " " + std::to_string(s.free) + " " +
                      std::to_string(s.loaned) + " " + std::to_string(s.held) + " " +
                      std::to_string(s.published),
                  "text/plain");
        return IPCN_OK;
    });
    node.offer("l/quit", "", [&](const ipcn::MessageView &, ipcn::Reply &) {
        quit = true;
        return IPCN_OK;
    });
    node.start_thread();
    while (!quit)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return 0;
}

static std::vector<unsigned> stats_of(Node &n)
{
    std::istringstream in{n.request("l/stats", {}, "", ct::WAIT_MS).text()};
    std::vector<unsigned> v(5);
    for (auto &x : v)
        in >> x;
    return v; /* slots free loaned held published */
}

TEST(loan_round_trip)
{
    Node n("client");
    ipcn::Subscription sub = n.subscribe("l/big", 8);
    ct::PeerProcess p("loaner", {"loaner"});
    CHECK(ct::wait_until(n, [&] { return n.find("l/quit").size() == 1; }));
    n.wait_synced(ct::WAIT_MS);

    const std::size_t size = 300000;
    n.request("l/go", "1 " + std::to_string(size), "text/plain", ct::WAIT_MS);
    ipcn::Message m = sub.take(ct::WAIT_MS);
    CHECK(m.shared()); /* straight from the publisher's memory */
    CHECK(!m.is_writable());
    CHECK_EQ(m.size(), size);
    CHECK_EQ(m.path(), std::string_view("l/big"));
    CHECK_EQ(m.encoding(), std::string_view("bytes"));
    CHECK_EQ(m.verify(), IPCN_OK);
    ipcn::Bytes d = m.data();
    std::size_t bad = 0;
    for (std::size_t i = 0; i < size; i++)
        bad += d[i] != pattern_byte(i, 1);
    CHECK_EQ(bad, 0u);

    /* A private writable view: a copy, nobody else sees it. */
    ipcn::Message w = m.writable();
    CHECK(w.is_writable());
    CHECK_EQ(w.size(), size);
    w.mutable_data()[0] = static_cast<std::uint8_t>(~pattern_byte(0, 1));
    CHECK(w.data()[0] != m.data()[0]);
    CHECK_EQ(m.data()[0], pattern_byte(0, 1));
    CHECK_EQ(m.verify(), IPCN_OK);

    /* The slot stays held while any reference lives: a copy, a writable
     * view; it is given back when the last one goes. */
    ipcn::Message copy = m;
    CHECK(copy.data().data() == m.data().data());
    auto held = [&] { return stats_of(n)[3]; };
    CHECK_EQ(held(), 1u);
    m = ipcn::Message();
    w = ipcn::Message();
    CHECK_EQ(held(), 1u);
    copy = ipcn::Message();
    CHECK(ct::wait_until(n, [&] { return held() == 0; }));

    /* Several in a row, each checked. */
    for (unsigned k = 2; k < 6; k++) {
        n.request("l/go", std::to_string(k) + " 100000", "text/plain", ct::WAIT_MS);
        ipcn::Message s = sub.take(ct::WAIT_MS);
        CHECK(s.shared());
        CHECK_EQ(s.data()[99999], pattern_byte(99999, k));
    }
    auto st = stats_of(n);
    CHECK_EQ(st[0], 4u);  /* slots */
    CHECK_EQ(st[2], 0u);  /* loaned: every loan was published */
    CHECK_EQ(st[4], 5u);  /* published */
    n.request("l/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(loan_tensor_round_trip)
{
    Node n("client");
    ipcn::Subscription sub = n.subscribe("l/tensor", 8);
    ct::PeerProcess p("loaner", {"loaner"});
    CHECK(ct::wait_until(n, [&] { return n.find("l/quit").size() == 1; }));
    n.wait_synced(ct::WAIT_MS);
    n.request("l/mktensor", {}, "", ct::WAIT_MS);
    ipcn::Message m = sub.take(ct::WAIT_MS);
    CHECK(m.shared());
    ipcn::Tensor t = ipcn::Tensor::decode(m);
    CHECK_EQ(t.dtype(), IPCN_DTYPE_FLOAT32);
    CHECK_EQ(t.shape()[0], 4);
    CHECK_EQ(t.shape()[1], 256);
    CHECK(t.aligned()); /* the loan aligned the elements */
    const float *f = t.data<float>(); /* read in place, in shared memory */
    CHECK(reinterpret_cast<const std::uint8_t *>(f) >= m.data().data());
    CHECK_EQ(f[0], 0.0f);
    CHECK_EQ(f[1023], 1023.0f);
    n.request("l/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(loan_lifetimes_in_process)
{
    Node n("pub");
    n.announce("x/big", Kind::Stream, "bytes");
    ipcn::PoolOptions po;
    po.slots = 2;
    po.policy = IPCN_POOL_REFUSE;
    n.pool_config("x/big", po);
    {
        ipcn::Loan a = n.loan("x/big", 1000);
        CHECK(bool(a));
        CHECK(a.size() >= 1000);
        CHECK_EQ(a.data().size(), a.size());
        CHECK(a.elements().data() == a.data().data());
        ipcn::Loan b = n.loan("x/big", 1000);
        CHECK_EQ(n.pool_stats("x/big").loaned, 2u);
        /* Every slot is loaned: 306, as an exception and from try_loan. */
        CHECK_STATUS(n.loan("x/big", 1000), IPCN_INSUFFICIENT_STORAGE);
        CHECK_EQ(n.try_loan("x/big", 1000).status(), IPCN_INSUFFICIENT_STORAGE);
        ipcn::Loan c = std::move(a);
        CHECK(!a);
        CHECK(bool(c));
        /* b goes unpublished: its destructor gives the slot back. */
    }
    ipcn::PoolStats st = n.pool_stats("x/big");
    CHECK_EQ(st.loaned, 0u);
    CHECK_EQ(st.free, 2u);
    CHECK_EQ(st.published, 0u);

    ipcn::Subscription sub = n.subscribe("x/big", 4); /* a local copy */
    ipcn::Loan l = n.loan("x/big", 64);
    std::memcpy(l.data().data(), "in place", 9);
    l.publish(8);
    CHECK(!l); /* the loan ended */
    CHECK_STATUS(l.publish(), IPCN_NOT_FOUND);
    CHECK_EQ(std::string(sub.take(ct::WAIT_MS).text()), std::string("in place"));
    CHECK_EQ(n.pool_stats("x/big").published, 1u);

    ipcn::Loan toolong = n.loan("x/big", 64);
    CHECK_STATUS(toolong.publish(toolong.size() + 1), IPCN_BAD_REQUEST);
    CHECK(!toolong); /* ended whatever the result */
    CHECK_EQ(n.pool_stats("x/big").loaned, 0u);

    CHECK_STATUS(n.loan("not/mine", 10), IPCN_NOT_FOUND);
    CHECK_STATUS(n.loan("x/big", 0), IPCN_BAD_REQUEST);
    CHECK_STATUS(n.pool_stats("not/mine"), IPCN_NOT_FOUND);
    po.slots = 1; /* under the minimum */
    CHECK_STATUS(n.pool_config("x/big", po), IPCN_BAD_REQUEST);

    /* A loan that outlives its node is gone with it: inert. */
    ipcn::Loan orphan = n.loan("x/big", 64);
    n.close();
    CHECK_STATUS(orphan.publish(), IPCN_SERVICE_UNAVAILABLE);
    ipcn::Loan orphan2;
    {
        Node m("pub2");
        m.announce("y/big", Kind::Stream);
        orphan2 = m.loan("y/big", 64);
    }
    orphan2 = ipcn::Loan(); /* discard after close: nothing to do */
}

CPPTEST_MAIN
