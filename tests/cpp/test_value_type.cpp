// SPDX-License-Identifier: MIT
/*
 * test_value_type.cpp — ipcn::Value (include/ipcnet_value.hpp): braced
 * construction as nlohmann::json has it, operator[] on maps and arrays,
 * conversions and their errors (the statuses of the C getters), CBOR bytes
 * equal to the C builder's, decode of every CBOR type and back, JSON both
 * ways, and a Value published by one node and read by another.
 */
#include "cpptest.hpp"

#include <cmath>
#include <limits>

using ipcn::Value;

static std::string hex(ipcn::Bytes b)
{
    static const char d[] = "0123456789abcdef";
    std::string s;
    for (std::uint8_t c : b) {
        s += d[c >> 4];
        s += d[c & 15];
    }
    return s;
}

static std::vector<std::uint8_t> unhex(const std::string &h)
{
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
    return out;
}

TEST(construction)
{
    /* The issue's example, and the C builder writes the same bytes. */
    Value v = {{"threshold", 0.5}, {"ids", {1, 2}}};
    CHECK(v.is_map());
    CHECK_EQ(v.size(), 2u);
    CHECK(v["ids"].is_array());
    std::uint8_t buf[64];
    std::size_t n = 0;
    CHECK_EQ(ipcn_cbor_build(buf, sizeof buf, &n, "{s:f, s:[i,i]}", "threshold", 0.5, "ids", 1,
                             2),
             IPCN_OK);
    CHECK_EQ(hex(v.encode()), hex(ipcn::Bytes(buf, n)));

    Value arr = {1, 2, 3};
    CHECK(arr.is_array());
    CHECK_EQ(arr.size(), 3u);
    Value pairs = Value::array({{"a", 1}, {"b", 2}}); /* not a map: said so */
    CHECK(pairs.is_array());
    CHECK(pairs[0].is_array());
    Value keyed = Value::map({{1, "one"}, {Value::array({1, 2}), nullptr}});
    CHECK_EQ(hex(keyed.encode()), std::string("a2") + "01636f6e65" + "820102f6");
    CHECK(Value().is_null());
    CHECK(Value(nullptr).is_null());
    CHECK(Value(static_cast<const char *>(nullptr)).is_null());
    CHECK(Value(true).is_bool());
    CHECK(Value('a').is_int());
    CHECK(Value(2.5f).is_float());
    CHECK(Value(std::string("x")).is_text());
    CHECK(Value(std::string_view("x")).is_text());
    CHECK(Value(std::vector<double>{1.5, 2}).is_array());
    CHECK(Value::bytes(std::vector<std::uint8_t>{1, 2}).is_bytes());
    CHECK_EQ(Value::tag(1, 1363896240).tag_number(), 1u);
    CHECK_EQ(Value::simple(23).simple_number(), 23u);
    CHECK_STATUS(Value::simple(21), IPCN_BAD_REQUEST);
    Value five{5}; /* as nlohmann::json: braces with one element make an array */
    CHECK(five.is_array());
    Value nested = {{"pose", {{"x", 1.5}, {"y", -2}}}};
    CHECK_EQ(nested.to_json(), std::string("{\"pose\":{\"x\":1.5,\"y\":-2}}"));
}

TEST(maps_and_arrays)
{
    Value v;
    v["gain"] = 2;
    v["pose"]["position"]["x"] = 1.5;
    v["joints"].push_back(0.1);
    v["joints"].push_back(-0.2);
    v["joints"][2] = 3; /* at the end: appended */
    CHECK_EQ(v.to_json(), std::string("{\"gain\":2,\"pose\":{\"position\":{\"x\":1.5}},"
                                      "\"joints\":[0.1,-0.2,3]}"));
    CHECK(v.contains("gain"));
    CHECK(!v.contains("nope"));
    CHECK(v.find("nope") == nullptr);
    CHECK_STATUS(v["joints"][5], IPCN_NOT_FOUND);
    CHECK_STATUS(v["gain"]["x"], IPCN_BAD_REQUEST);
    CHECK_STATUS(v["gain"].push_back(1), IPCN_BAD_REQUEST);
    const Value &c = v;
    CHECK_STATUS(c["nope"], IPCN_NOT_FOUND);
    CHECK_STATUS(c["joints"][3], IPCN_NOT_FOUND);
    CHECK_STATUS(c["gain"][0], IPCN_BAD_REQUEST);
    CHECK_EQ(c.at("pose").at("position").at("x").as_double(), 1.5);
    CHECK_EQ(v.size(), 3u);
    CHECK_EQ(c.items()[0].first.as_text(), std::string("gain"));
    std::size_t k = 0;
    for (const Value &e : c["joints"].elements())
        k += e.is_number();
    CHECK_EQ(k, 3u);
    v.items().erase(v.items().begin()); /* the containers are the caller's */
    CHECK(!v.contains("gain"));
}

TEST(conversions)
{
    Value v = Value::from_json(R"({"i": 2, "f": 2.0, "h": 2.5, "big": 18446744073709551615,
                                   "neg": -9223372036854775808, "s": "hi", "b": true,
                                   "a": [1, 2.5], "n": null, "min": -18446744073709551616})");
    CHECK_EQ(v["i"].get<double>(), 2.0);      /* an integer where a double is asked */
    CHECK_EQ(v["f"].get<int>(), 2);           /* an integral float where an int is */
    CHECK_STATUS(v["h"].get<int>(), IPCN_BAD_REQUEST);
    CHECK_STATUS(v["s"].get<double>(), IPCN_BAD_REQUEST);
    CHECK_STATUS(v["n"].get<double>(), IPCN_BAD_REQUEST);
    CHECK_STATUS(v["b"].get<int>(), IPCN_BAD_REQUEST);
    CHECK_STATUS(v["i"].get<bool>(), IPCN_BAD_REQUEST);
    CHECK_EQ(v["big"].get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
    CHECK_STATUS(v["big"].get<std::int64_t>(), IPCN_INSUFFICIENT_STORAGE);
    CHECK_EQ(v["neg"].as_int(), std::numeric_limits<std::int64_t>::min());
    CHECK_STATUS(v["neg"].as_uint(), IPCN_INSUFFICIENT_STORAGE);
    CHECK_STATUS(v["min"].as_int(), IPCN_INSUFFICIENT_STORAGE);
    CHECK_EQ(v["min"].as_double(), -18446744073709551616.0);
    CHECK_STATUS(Value(300).get<std::int8_t>(), IPCN_INSUFFICIENT_STORAGE);
    CHECK_EQ(Value(-128).get<std::int8_t>(), -128);
    CHECK_STATUS(Value(-129).get<std::int8_t>(), IPCN_INSUFFICIENT_STORAGE);
    CHECK_STATUS(Value(-1).get<std::uint32_t>(), IPCN_INSUFFICIENT_STORAGE);
    CHECK_EQ(Value(-0.0).get<unsigned>(), 0u);
    CHECK_STATUS(Value(std::nan("")).get<int>(), IPCN_BAD_REQUEST);
    CHECK_STATUS(Value(HUGE_VAL).get<long>(), IPCN_INSUFFICIENT_STORAGE);
    CHECK_EQ(v["s"].get<std::string>(), std::string("hi"));
    CHECK_EQ(v["s"].get<std::string_view>(), std::string_view("hi"));
    CHECK_EQ(v["b"].as_bool(), true);
    std::vector<double> a = v["a"].get<std::vector<double>>();
    CHECK_EQ(a.size(), 2u);
    CHECK_EQ(a[1], 2.5);
    CHECK_STATUS(v["a"].get<std::vector<int>>(), IPCN_BAD_REQUEST);
    CHECK_EQ(v.value("i", 7.5), 2.0);
    CHECK_EQ(v.value("absent", 7.5), 7.5);
    CHECK_EQ(v.value("absent", "dflt"), std::string("dflt"));
    CHECK_STATUS(v.value("s", 1), IPCN_BAD_REQUEST);
    CHECK_STATUS(v["i"].value("x", 1), IPCN_BAD_REQUEST);
    ipcn::Error e = ERROR_OF(v["s"].as_int());
    CHECK_EQ(std::string(e.what()),
             std::string("200 Bad Request: value: text where integer was expected"));
}

TEST(cbor_both_ways)
{
    /* every CBOR type decodes and encodes back to the same bytes */
    const char *const docs[] = {
        "a2616101616282f5f6",              /* {"a": 1, "b": [true, null]} */
        "3bffffffffffffffff",              /* -2^64 */
        "1bffffffffffffffff",              /* 2^64 - 1 */
        "c11a514b67b0",                    /* 1(1363896240) */
        "43010203",                        /* h'010203' */
        "f7", "f820",                      /* undefined, simple(32) */
        "fb3ff199999999999a", "f93e00",    /* 1.1, 1.5 */
        "a201a1616101820102f4",            /* {1: {"a": 1}, [1, 2]: false} */
        "d8288202d8454400000000",          /* a tag around anything */
    };
    for (const char *h : docs) {
        std::vector<std::uint8_t> b = unhex(h);
        Value v = Value::decode(b);
        CHECK_EQ(hex(v.encode()), std::string(h));
        CHECK(Value::decode(v.encode()) == v);
    }
    /* indefinite lengths decode; they are written definite */
    Value ind = Value::decode(unhex("bf617a9f01ff7f6161ff02ff"));
    CHECK_EQ(hex(ind.encode()), std::string("a2617a8101616102"));
    /* deterministic: sorted keys */
    Value m = {{"b", 1}, {"a", 2}};
    CHECK_EQ(hex(m.encode(IPCN_CBOR_DETERMINISTIC)), std::string("a2616102616201"));
    /* refused: malformed input, invalid text, nesting too deep */
    CHECK_STATUS(Value::decode(unhex("8201")), IPCN_BAD_REQUEST);
    CHECK_STATUS(Value::decode(unhex("")), IPCN_BAD_REQUEST);
    CHECK_STATUS(Value("\xff").encode(), IPCN_BAD_REQUEST);
    Value deep;
    Value *p = &deep;
    for (int i = 0; i < 70; i++) {
        p->push_back(Value());
        p = &(*p)[0];
    }
    CHECK_STATUS(deep.encode(), IPCN_BAD_REQUEST);
    Value dup = Value::map({{"k", 1}, {"k", 2}});
    CHECK_EQ(dup.encode().size(), 7u);
    CHECK_STATUS(dup.encode(IPCN_CBOR_DETERMINISTIC), IPCN_BAD_REQUEST);
    /* what the C getters read out of it */
    Value pose = {{"position", {{"x", 1.5}, {"y", -2}}}, {"joints", {0.1, 0.2}}};
    std::vector<std::uint8_t> bytes = pose.encode();
    double x = 0;
    CHECK_EQ(ipcn_cbor_map_get_double(bytes.data(), bytes.size(), "position.y", &x), IPCN_OK);
    CHECK_EQ(x, -2.0);
    CHECK_EQ(ipcn_cbor_map_get_double(bytes.data(), bytes.size(), "joints[1]", &x), IPCN_OK);
    CHECK_EQ(x, 0.2);
}

TEST(json_both_ways)
{
    Value v = Value::from_json("{\"a\": [1, 2.0, \"\\u00e9\"], \"b\": {\"c\": null}}");
    CHECK_EQ(v.to_json(), std::string("{\"a\":[1,2.0,\"\xc3\xa9\"],\"b\":{\"c\":null}}"));
    CHECK_EQ(v.to_json(IPCN_JSON_PRETTY),
             std::string("{\n  \"a\": [\n    1,\n    2.0,\n    \"\xc3\xa9\"\n  ],\n"
                         "  \"b\": {\n    \"c\": null\n  }\n}"));
    CHECK_EQ(Value::bytes(std::vector<std::uint8_t>{0xca, 0xfe}).to_json(),
             std::string("\"h'cafe'\""));
    CHECK_EQ(Value(std::nan("")).to_json(), std::string("null"));
    ipcn::Error e = ERROR_OF(Value::from_json("[1, 2,]"));
    CHECK_EQ(e.status(), IPCN_BAD_REQUEST);
    CHECK_EQ(std::string(e.what()), std::string("200 Bad Request: json: at byte 7: trailing comma"));
    CHECK_STATUS(Value::from_json(""), IPCN_BAD_REQUEST);
    CHECK_STATUS(Value::from_json(std::string(100, '[') + std::string(100, ']')),
                 IPCN_BAD_REQUEST);
}

TEST(through_a_node)
{
    ipcn::Node a("ctl");
    a.announce("ctl/cmd", ipcn::Kind::Stream, "cbor");
    ipcn::Subscription sub = a.subscribe("ctl/cmd", 4);
    Value cmd = {{"linear", 0.25}, {"angular", -1}, {"note", "go"}};
    a.publish("ctl/cmd", cmd.encode());
    ipcn::Message m = sub.take(ct::WAIT_MS);
    Value got = Value::decode(m.data());
    CHECK(got == cmd);
    CHECK_EQ(got["angular"].get<double>(), -1.0);
    CHECK_EQ(got.value("missing", 3), 3);
}

CPPTEST_MAIN
