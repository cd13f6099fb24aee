/* SPDX-License-Identifier: MIT */
/*
 * header_check.cpp — ipcnet.hpp alone, built with every warning an error
 * (tests/cpp/CMakeLists.txt), as C++17 and C++20.  The templates are
 * instantiated here so that their bodies are checked too.
 */
#include <ipcnet.hpp>

#include <array>

namespace {
[[maybe_unused]] void instantiate(ipcn::Node &n, ipcn::Subscription &s, ipcn::Message &m)
{
    std::array<char, 3> a{{'a', 'b', 'c'}};
    std::vector<std::uint8_t> v{1, 2};
    n.publish("p", a);
    n.publish("p", v);
    n.publish(std::string("p"), std::string_view("x"));
    ipcn::Result<ipcn::Message> r = s.try_take(0);
    (void)r.value_or(ipcn::Message());
    ipcn::Tensor t = ipcn::Tensor::decode(m);
    (void)t.data<float>();
    (void)t.to_vector<std::int16_t>();
    (void)ipcn::encode_tensor<double>({2}, nullptr);
    (void)ipcn::dtype_of<std::uint64_t>();
#ifdef IPCN_HPP_HAS_SPAN
    std::span<const std::byte> sp = m.data();
    std::span<const std::uint8_t> sp8 = m.data();
    std::span<std::uint8_t> rv = ipcn::MutableBytes(nullptr, 0); /* a borrowed range */
    (void)sp;
    (void)sp8;
    (void)rv;
    n.publish("p", sp8);
#endif
}

/* ipcn::Value (ipcnet_value.hpp): its constructors and conversions. */
[[maybe_unused]] void instantiate_value(const ipcn::Value &c)
{
    ipcn::Value v = {{"a", 1}, {"b", {1u, 2.5, -3L, 'c', true, nullptr, "s"}}};
    v["x"] = std::vector<float>{1.5f};
    v["y"] = static_cast<std::int8_t>(-1);
    (void)c.get<std::int8_t>();
    (void)c.get<std::uint16_t>();
    (void)c.get<int>();
    (void)c.get<unsigned long long>();
    (void)c.get<float>();
    (void)c.get<std::string>();
    (void)c.get<std::string_view>();
    (void)c.get<std::vector<std::int32_t>>();
    (void)c.value("k", 1.0);
    (void)c.value("k", std::uint8_t{1});
    (void)ipcn::Value::decode(v.encode()).to_json(IPCN_JSON_PRETTY);
}
} // namespace

/* ipcnet_sensor.hpp, with the same warnings: its templates and inline
 * functions instantiated. */
#include <ipcnet_sensor.hpp>
#include <ipcnet_history.hpp>

namespace {
[[maybe_unused]] void instantiate_sensor(ipcn::Node &n, ipcn::Message &m)
{
    ipcn::Image img = ipcn::Image::decode(m);
    (void)img.pixels<std::uint16_t>();
    (void)ipcn::Image::try_decode(m);
    ipcn::publish_image(n, "p", img.get());
    (void)ipcn::PointCloud::decode(m).field("x");
    (void)ipcn::decode_joint_state(ipcn::encode_joint_state(ipcn::JointState{}));
    (void)ipcn::decode_imu(ipcn::encode_imu(ipcn_imu{}));
    (void)ipcn::decode_camera_info(ipcn::encode_camera_info(ipcn_camera_info{}));
}
} // namespace
