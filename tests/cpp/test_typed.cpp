/* SPDX-License-Identifier: MIT */
/*
 * test_typed.cpp — typed data and streams from C++ (Node::announce_typed(),
 * ipcnet_schema.h): the type in the descriptor, a publish of another type
 * thrown as Error 200 with nothing sent, an integer taken for a float.
 */
#include "cpptest.hpp"

using ipcn::Kind;
using ipcn::Node;

TEST(announce_typed)
{
    Node n("typed-cpp");
    /* {"map": {"gain": "float"}} */
    auto type = ipcn::cbor_encode([](ipcn::CborWriter &w) {
        w.begin_map(1).put_text("map").begin_map(1).put_text("gain").put_text("float");
    });
    auto units = ipcn::cbor_encode([](ipcn::CborWriter &w) {
        w.begin_map(1).put_text("units").put_text("dB");
    });
    CHECK_EQ(n.announce_typed("ctl/gain", Kind::Stream, type, "cbor", units), IPCN_CREATED);
    /* the meta given, then "schema" */
    auto want = ipcn::cbor_encode([&](ipcn::CborWriter &w) {
        w.begin_map(2).put_text("units").put_text("dB").put_text("schema").put_encoded(type);
    });
    auto found = n.find("ctl/gain");
    CHECK_EQ(found.size(), 1u);
    CHECK(found[0].meta == want);

    ipcn::Subscription sub = n.subscribe("ctl/gain", 8);
    auto two = ipcn::cbor_encode([](ipcn::CborWriter &w) {
        w.begin_map(1).put_text("gain").put_uint(2); /* an integer for a float */
    });
    auto text = ipcn::cbor_encode([](ipcn::CborWriter &w) {
        w.begin_map(1).put_text("gain").put_text("loud");
    });
    n.publish("ctl/gain", two);
    CHECK_STATUS(n.publish("ctl/gain", text), IPCN_BAD_REQUEST);
    CHECK_EQ(n.try_publish("ctl/gain", text), IPCN_BAD_REQUEST);
    ipcn::Message m = sub.take(ct::WAIT_MS);
    CHECK(m.data().to_vector() == two);
    CHECK_EQ(sub.try_take(0).status(), IPCN_NO_DATA); /* nothing else went */

    /* what the announce refuses */
    auto bad = ipcn::cbor_encode([](ipcn::CborWriter &w) { w.put_text("real"); });
    CHECK_STATUS(n.announce_typed("ctl/x", Kind::Stream, bad), IPCN_BAD_REQUEST);
    CHECK_STATUS(n.announce_typed("ctl/x", Kind::Service, type), IPCN_BAD_REQUEST);
    CHECK_STATUS(n.announce_typed("ctl/x", Kind::Data, type, "text/plain"), IPCN_BAD_REQUEST);
}

CPPTEST_MAIN
