/* SPDX-License-Identifier: MIT */
/*
 * test_values.cpp — the thin value helpers of the C++ binding: byte views
 * and C-string parameters, CborWriter / cbor_encode / CborReader /
 * CborTree over ipcnet_value.h, and tensors encoded, published and decoded
 * from a Message without copying.
 */
#include "cpptest.hpp"

#include <array>

using ipcn::Kind;
using ipcn::Node;

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

TEST(bytes_and_cstr)
{
    ipcn::Bytes lit = "abc";
    CHECK_EQ(lit.size(), 3u);
    CHECK_EQ(lit.str(), std::string_view("abc"));
    std::string s("hello");
    ipcn::Bytes fromstr = s;
    CHECK(fromstr.data() == reinterpret_cast<const std::uint8_t *>(s.data()));
    CHECK_EQ(fromstr.size(), 5u);
    std::vector<std::uint8_t> v{1, 2, 3, 4};
    ipcn::Bytes fromvec = v;
    CHECK_EQ(fromvec[3], 4);
    CHECK(fromvec.to_vector() == v);
    std::array<char, 2> a{{'x', 'y'}};
    CHECK_EQ(ipcn::Bytes(a).str(), std::string_view("xy"));
    CHECK_EQ(ipcn::Bytes(std::string_view("view")).size(), 4u);
    CHECK(ipcn::Bytes(static_cast<const char *>(nullptr)).empty());
    CHECK(ipcn::Bytes().empty());
    std::uint8_t raw[3] = {9, 8, 7};
    ipcn::MutableBytes mb(raw, sizeof raw);
    mb[0] = 1;
    ipcn::Bytes ro = mb;
    CHECK_EQ(ro[0], 1);
    std::size_t sum = 0;
    for (auto c : ro)
        sum += c;
    CHECK_EQ(sum, 16u);
#ifdef IPCN_HPP_HAS_SPAN
    std::span<const std::byte> sb = ro;
    CHECK_EQ(sb.size(), 3u);
    std::span<std::uint8_t> su = mb;
    CHECK(su.data() == raw);
    ipcn::Bytes fromspan = std::span<const std::uint8_t>(v);
    CHECK_EQ(fromspan.size(), 4u);
#endif

    /* CStr: no copy of a std::string, a NUL-terminated copy of a view. */
    std::string path = "a/b/c";
    ipcn::CStr c1 = path;
    CHECK(c1.c_str() == path.c_str());
    std::string_view part = std::string_view(path).substr(0, 3);
    ipcn::CStr c2 = part;
    CHECK_EQ(std::string(c2.c_str()), std::string("a/b"));
    ipcn::CStr c3 = c2; /* a copy keeps its own NUL-terminated string */
    CHECK(c3.c_str() != c2.c_str());
    CHECK_EQ(std::string(c3.c_str()), std::string("a/b"));
    ipcn::CStr c4 = static_cast<const char *>(nullptr);
    CHECK_EQ(std::string(c4.c_str()), std::string(""));
}

TEST(cbor_writer)
{
    /* {"x": [1, 2.5]} */
    ipcn::CborWriter w;
    w.begin_map(1).put_text("x").begin_array(2).put_uint(1).put_float(2.5);
    CHECK_EQ(w.status(), IPCN_OK);
    CHECK_EQ(hex(w.finish()), std::string("a161788201f94100"));

    ipcn::CborWriter small(4);
    small.put_text("longer than four bytes");
    CHECK_EQ(small.status(), IPCN_INSUFFICIENT_STORAGE);
    ipcn::Error e = ERROR_OF(small.finish());
    CHECK_EQ(e.status(), IPCN_INSUFFICIENT_STORAGE);
    CHECK_EQ(std::string(e.what()), std::string("306 Insufficient Storage: cbor: 23 bytes needed"));

    ipcn::CborWriter unfinished;
    unfinished.begin_array(2).put_null();
    CHECK_STATUS(unfinished.finish(), IPCN_BAD_REQUEST);
    ipcn::CborWriter bad_utf8;
    bad_utf8.put_text("\xff\xfe");
    CHECK_STATUS(bad_utf8.finish(), IPCN_BAD_REQUEST);

    /* Over the caller's buffer. */
    std::uint8_t buf[16];
    ipcn::CborWriter mine(ipcn::MutableBytes(buf, sizeof buf), 0);
    mine.put_int(-500).put_bool(true).put_tag(1).put_uint(0);
    ipcn::Bytes out = mine.finish();
    CHECK(out.data() == buf);
    CHECK_EQ(hex(out), std::string("3901f3f5c100"));

    /* cbor_encode: measured, then written; deterministic sorts keys. */
    auto two = ipcn::cbor_encode([](ipcn::CborWriter &x) {
        x.begin_map(2).put_text("b").put_uint(1).put_text("a").put_uint(2);
    }, IPCN_CBOR_DETERMINISTIC);
    CHECK_EQ(hex(two), std::string("a2616102616201"));
    std::string big(100000, 'z');
    auto large = ipcn::cbor_encode([&](ipcn::CborWriter &x) { x.put_bytes(big); });
    CHECK_EQ(large.size(), big.size() + 5);
    CHECK_STATUS(ipcn::cbor_encode([](ipcn::CborWriter &x) { x.begin_map(1); }), IPCN_BAD_REQUEST);
    auto nested = ipcn::cbor_encode([&](ipcn::CborWriter &x) { x.begin_array(1).put_encoded(two); });
    CHECK_EQ(hex(nested), "81" + hex(two));
    CHECK_STATUS(ipcn::cbor_encode([](ipcn::CborWriter &x) { x.put_encoded("\xff"); }),
                 IPCN_BAD_REQUEST);
}

TEST(cbor_reader_and_tree)
{
    const std::vector<std::uint8_t> doc{0xa1, 0x61, 0x78, 0x82, 0x01, 0xf9, 0x41, 0x00};
    ipcn::CborReader r(doc);
    ipcn_cbor_value v;
    CHECK(r.next(v));
    CHECK_EQ(v.type, IPCN_CBOR_MAP);
    CHECK_EQ(v.count, 1u);
    CHECK(r.next(v));
    CHECK_EQ(ipcn::CborReader::text(v), std::string_view("x"));
    ipcn_cbor_value peeked;
    CHECK(r.peek(peeked));
    CHECK_EQ(peeked.type, IPCN_CBOR_ARRAY);
    CHECK(r.next(v));
    CHECK_EQ(v.type, IPCN_CBOR_ARRAY);
    CHECK(r.next(v));
    CHECK_EQ(ipcn::CborReader::to_int(v), 1);
    CHECK(r.next(v));
    CHECK_EQ(v.type, IPCN_CBOR_FLOAT);
    CHECK_EQ(v.f, 2.5);
    CHECK_EQ(r.offset(), doc.size());
    CHECK(!r.next(v)); /* the end */
    CHECK_STATUS(ipcn::CborReader::to_int(v), IPCN_BAD_REQUEST);

    ipcn::CborReader whole(doc);
    CHECK(whole.skip());
    CHECK(!whole.skip());

    const std::vector<std::uint8_t> truncated{0x82, 0x01, 0x19, 0x01}; /* [1, 256 cut] */
    ipcn::CborReader t(truncated);
    CHECK(t.next(v));
    CHECK(t.next(v));
    CHECK_STATUS(t.next(v), IPCN_BAD_REQUEST);
    CHECK_STATUS(t.next(v), IPCN_BAD_REQUEST); /* sticky */

    ipcn::CborTree tree = ipcn::CborTree::decode(doc);
    CHECK_EQ(tree.root().type, IPCN_CBOR_MAP);
    const ipcn_cbor_item *x = tree.find("x");
    CHECK(x != nullptr);
    CHECK_EQ(x->count, 2u);
    CHECK_EQ(x->items[1].f, 2.5);
    CHECK(tree.find("y") == nullptr);
    CHECK_STATUS(ipcn::CborTree::decode(truncated), IPCN_BAD_REQUEST);
    /* Copied strings outlive the input. */
    std::vector<std::uint8_t> tmp{0x63, 'a', 'b', 'c'};
    ipcn::CborTree copied = ipcn::CborTree::decode(tmp, IPCN_CBOR_COPY_STRINGS);
    tmp.assign(tmp.size(), 0);
    CHECK_EQ(ipcn::CborTree::text(copied.root()), std::string_view("abc"));
}

TEST(tensors_through_messages)
{
    static_assert(ipcn::dtype_of<float>() == IPCN_DTYPE_FLOAT32);
    static_assert(ipcn::dtype_of<std::uint8_t>() == IPCN_DTYPE_UINT8);
    static_assert(ipcn::dtype_of<std::int64_t>() == IPCN_DTYPE_INT64);
    static_assert(ipcn::dtype_of<bool>() == IPCN_DTYPE_BOOL);
    static_assert(ipcn::dtype_of<char *>() == IPCN_DTYPE_INVALID);

    Node n("values");
    n.announce("v/t", Kind::Stream, "tensor");
    ipcn::Subscription take = n.subscribe("v/t", 8);
    std::optional<ipcn::Tensor> kept; /* decoded in a callback, kept after it */
    ipcn::Subscription cb = n.subscribe("v/t", [&](const ipcn::MessageView &m) {
        kept = ipcn::Tensor::decode(m);
    });
    const std::int16_t data[2][3] = {{1, -2, 3}, {-4, 5, -6}};
    n.publish("v/t", ipcn::encode_tensor<std::int16_t>({2, 3}, &data[0][0]));
    ipcn::Message m = take.take(ct::WAIT_MS);
    ipcn::Tensor t = ipcn::Tensor::decode(m);
    CHECK_EQ(t.dtype(), IPCN_DTYPE_INT16);
    CHECK_EQ(std::string(t.dtype_name()), std::string("int16"));
    CHECK_EQ(t.ndim(), 2u);
    CHECK_EQ(t.shape()[1], 3);
    CHECK_EQ(t.strides()[0], 3);
    CHECK(t.contiguous());
    CHECK_EQ(t.numel(), 6u);
    CHECK_EQ(t.bytes().size(), 12u);
    CHECK(t.bytes().data() >= m.data().data() &&
          t.bytes().data() + 12 <= m.data().data() + m.size()); /* a view, no copy */
    std::vector<std::int16_t> copy = t.to_vector<std::int16_t>();
    CHECK_EQ(copy[3], -4);
    if (t.aligned())
        CHECK_EQ(t.data<std::int16_t>()[5], -6);
    CHECK(&t.message().get()->data == &m.get()->data);

    CHECK(ct::wait_until(n, [&] { return kept.has_value(); }));
    CHECK_EQ(kept->to_vector<std::int16_t>()[1], -2);

    auto notensor = ipcn::Tensor::try_decode(ipcn::Message());
    CHECK_EQ(notensor.status(), IPCN_BAD_REQUEST);
    CHECK_STATUS(ipcn::encode_tensor(IPCN_DTYPE_INVALID, {1}, data), IPCN_BAD_REQUEST);
    CHECK_STATUS(ipcn::encode_tensor<float>({-1}, nullptr), IPCN_BAD_REQUEST);
}

CPPTEST_MAIN
