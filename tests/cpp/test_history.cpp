// SPDX-License-Identifier: MIT
/*
 * test_history.cpp — the C++ calls of the debug history
 * (ipcnet_history.hpp): announce_history(), history() of a value
 * published by its provider and set by another node (who, how, the exact
 * bytes), query_version() and the statuses of try_query_version() and
 * try_history() (203 not kept, 204 off).
 */
#include "cpptest.hpp"

#include <string>
#include <vector>

#include "ipcnet_history.hpp"

using ipcn::Kind;
using ipcn::Node;

TEST(history_of_a_value)
{
    Node p("cpp-hp");
    p.announce("ch/d", Kind::Data, "text/plain");
    ipcn::announce_history(p, "ch/d", 4);
    p.publish("ch/d", "one");
    p.start_thread();
    Node q("cpp-hq");
    q.wait_for("ch/d", Kind::Data, ct::WAIT_MS);
    CHECK_EQ(q.set("ch/d", "two", "", 0, ct::WAIT_MS), std::uint64_t(2));
    ipcn::History h = ipcn::history(q, "ch/d", ct::WAIT_MS);
    CHECK_EQ(h.node, std::string("cpp-hp"));
    CHECK_EQ(h.depth, 4u);
    CHECK_EQ(h.entries.size(), std::size_t(2));
    CHECK_EQ(h.entries[0].setter, std::string("cpp-hp"));
    CHECK(!h.entries[0].by_set);
    CHECK_EQ(h.entries[1].setter, std::string("cpp-hq"));
    CHECK(h.entries[1].by_set);
    CHECK(h.entries[1].data.has_value());
    CHECK(*h.entries[1].data == (std::vector<std::uint8_t>{'t', 'w', 'o'}));
    ipcn::Message m = ipcn::query_version(q, "ch/d", 1, ct::WAIT_MS);
    CHECK_EQ(std::string(static_cast<const char *>(m.raw()->data), m.raw()->len),
             std::string("one"));
    CHECK_EQ(ipcn::try_query_version(q, "ch/d", 9, ct::WAIT_MS).status(), IPCN_NOT_FOUND);
    ipcn::History bare = ipcn::history(q, "ch/d", ct::WAIT_MS, false);
    CHECK(!bare.entries[0].data.has_value());
    CHECK_EQ(bare.entries[0].size, std::size_t(3));
}

TEST(history_off)
{
    Node p("cpp-ho");
    p.announce("co/d", Kind::Data, "text/plain");
    p.publish("co/d", "x");
    CHECK_EQ(ipcn::try_history(p, "co/d", 0).status(), IPCN_METHOD_NOT_ALLOWED);
    CHECK_EQ(ipcn::try_query_version(p, "co/d", 1, 0).status(), IPCN_METHOD_NOT_ALLOWED);
    CHECK_STATUS(ipcn::announce_history(p, "co/none", 1), IPCN_NOT_FOUND);
}

CPPTEST_MAIN
