/* SPDX-License-Identifier: MIT */
/*
 * test_access.cpp — a provider's own rules and groups through the C++
 * binding (Node::set_access, clear_access, group_*): two nodes of this
 * process, each with its thread, in a network without a policy file
 * (everything allowed until a provider narrows it).
 */
#include "cpptest.hpp"

using ipcn::AccessRule;
using ipcn::Kind;
using ipcn::Node;

static int echo(const ipcn::MessageView &req, ipcn::Reply &reply)
{
    reply.set(req.data(), "text/plain");
    return IPCN_OK;
}

static Node threaded(const char *name)
{
    Node n(name);
    n.start_thread();
    return n;
}

static bool sees(Node &n, const char *pattern, std::size_t want)
{
    return ct::wait_until(n, [&] { return n.find(pattern).size() == want; });
}

static int call(Node &n, const char *path)
{
    return n.try_request(path, "hi", "text/plain", ct::WAIT_MS).status();
}

/* Execute narrowed to one node: the other sees the service and is told
 * 202; a deny rule beats an allow; cleared, the policy decides again. */
TEST(execute_narrowed)
{
    Node p = threaded("prov");
    p.set_access("motors/cmd", {{false, ipcn::access_execute, "node:teleop"}});
    p.offer("motors/cmd", "text/plain", echo);
    Node t = threaded("teleop");
    Node x = threaded("intruder");
    CHECK(sees(t, "motors/cmd", 1));
    CHECK(sees(x, "motors/cmd", 1));
    CHECK_EQ(call(t, "motors/cmd"), IPCN_OK);
    std::uint64_t before = p.stats().denied;
    CHECK_EQ(call(x, "motors/cmd"), IPCN_FORBIDDEN);
    CHECK_STATUS(x.request("motors/cmd", "hi", "", ct::WAIT_MS), IPCN_FORBIDDEN);
    CHECK_EQ(p.stats().denied, before + 2);

    std::vector<AccessRule> rules{{true, ipcn::access_execute, "node:tele*"},
                                  {false, ipcn::access_execute, "any"}};
    p.set_access("motors/cmd", rules);
    CHECK_EQ(call(t, "motors/cmd"), IPCN_FORBIDDEN);
    CHECK_EQ(call(x, "motors/cmd"), IPCN_OK);
    p.clear_access("motors/cmd");
    CHECK_EQ(call(t, "motors/cmd"), IPCN_OK);
    p.set_access("motors/cmd", {}); /* an empty list clears too */
    CHECK_EQ(call(t, "motors/cmd"), IPCN_OK);
}

/* Read narrowed: private, absent for the others (find, query, request:
 * 203), and visible to the node the rule names. */
TEST(private_resource)
{
    Node p = threaded("prov");
    p.set_access("arm/move", {{false, ipcn::access_read | ipcn::access_execute, "node:teleop"}});
    p.set_access("arm/pose", {{false, ipcn::access_read, "node:teleop"}});
    p.offer("arm/move", "text/plain", echo);
    p.announce("arm/pose", Kind::Data, "text/plain");
    p.publish("arm/pose", "1");
    p.announce("arm/open", Kind::Data, "text/plain");
    Node t = threaded("teleop");
    Node x = threaded("intruder");
    CHECK(sees(t, "arm/*", 3));
    CHECK(sees(x, "arm/open", 1));
    CHECK_EQ(x.find("arm/*").size(), 1u);
    CHECK_EQ(call(t, "arm/move"), IPCN_OK);
    CHECK_EQ(t.query("arm/pose", ct::WAIT_MS).text(), std::string_view("1"));
    CHECK_EQ(call(x, "arm/move"), IPCN_NOT_FOUND);
    CHECK_STATUS(x.query("arm/pose", ct::WAIT_MS), IPCN_NOT_FOUND);
    /* the set of a private resource: as if it did not exist */
    CHECK_EQ(x.try_set("arm/pose", ipcn::Bytes("2", 1), "", 0, ct::WAIT_MS).status(),
             IPCN_NOT_FOUND);
}

/* A run-time group names who may call; members added and removed take
 * effect at once; errors come as ipcn::Error. */
TEST(groups)
{
    Node p = threaded("prov");
    p.group_create("operators");
    CHECK_STATUS(p.group_create("operators"), IPCN_CONFLICT);
    CHECK_STATUS(p.group_create("bad/name"), IPCN_BAD_REQUEST);
    ipcn::Error e = ERROR_OF(p.group_add("nonesuch", "node:x"));
    CHECK_EQ(e.status(), IPCN_NOT_FOUND);
    CHECK_EQ(std::string(e.what()), std::string("203 Not Found: group add nonesuch"));
    CHECK_STATUS(p.group_add("operators", "colour:red"), IPCN_BAD_REQUEST);
    CHECK_STATUS(p.group_add("operators", "group:operators"), IPCN_BAD_REQUEST);
    p.set_access("lift/up", {{false, ipcn::access_execute, "group:operators"}});
    p.offer("lift/up", "text/plain", echo);
    Node t = threaded("teleop");
    CHECK(sees(t, "lift/up", 1));
    CHECK_EQ(call(t, "lift/up"), IPCN_FORBIDDEN);
    p.group_add("operators", "node:teleop");
    p.group_add("operators", "node:teleop"); /* already a member: fine */
    CHECK_EQ(call(t, "lift/up"), IPCN_OK);
    p.group_remove("operators", "node:teleop");
    CHECK_STATUS(p.group_remove("operators", "node:teleop"), IPCN_NOT_FOUND);
    CHECK_EQ(call(t, "lift/up"), IPCN_FORBIDDEN);
    p.group_add("operators", "node:tele*");
    CHECK_EQ(call(t, "lift/up"), IPCN_OK);
    p.group_delete("operators");
    CHECK_STATUS(p.group_delete("operators"), IPCN_NOT_FOUND);
    CHECK_EQ(call(t, "lift/up"), IPCN_FORBIDDEN);
}

/* Rules that do not parse: 200, with the path in the error. */
TEST(bad_rules)
{
    Node p("prov");
    ipcn::Error e = ERROR_OF(p.set_access("a", {{false, 0, "any"}}));
    CHECK_EQ(e.status(), IPCN_BAD_REQUEST);
    CHECK_EQ(std::string(e.what()), std::string("200 Bad Request: set access a"));
    CHECK_STATUS(p.set_access("a", {{false, ipcn::access_read, "colour:red"}}), IPCN_BAD_REQUEST);
    CHECK_STATUS(p.set_access("a", {{false, 64, "any"}}), IPCN_BAD_REQUEST);
    CHECK_STATUS(p.clear_access("a/**"), IPCN_BAD_REQUEST);
    p.set_access("a", {{true, ipcn::access_write, "any"}});
    p.clear_access("a");
}

/* The provider's own limits (issue 15): over them a request gets 205 and
 * its answer says when to retry; cleared, everything passes. */
TEST(limits)
{
    Node p = threaded("prov");
    ipcn_limits lim{};
    lim.requests_per_s = 1;
    lim.burst = 2;
    p.set_limits("lim/echo", lim);
    p.offer("lim/echo", "text/plain", echo);
    Node t = threaded("teleop");
    CHECK(sees(t, "lim/echo", 1));
    int limited = 0, retry = -1;
    for (int i = 0; i < 5; i++) {
        auto r = t.try_request("lim/echo", "hi", "text/plain", ct::WAIT_MS);
        if (r.status() == IPCN_TOO_MANY_REQUESTS) {
            limited++;
            retry = r.value().retry_after_ms();
        } else {
            CHECK_EQ(r.status(), IPCN_OK);
            CHECK_EQ(r.value().retry_after_ms(), -1);
        }
    }
    CHECK(limited >= 2);
    CHECK(retry >= 1 && retry <= 1000);
    CHECK(p.stats().rate_limited >= 2);
    p.clear_limits("lim/echo");
    CHECK_EQ(call(t, "lim/echo"), IPCN_OK);
    CHECK_STATUS(p.set_limits("lim/echo", ipcn_limits{}), IPCN_BAD_REQUEST);
}

CPPTEST_MAIN
