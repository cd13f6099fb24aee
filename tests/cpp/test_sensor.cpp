/* SPDX-License-Identifier: MIT */
/*
 * test_sensor.cpp — sensor messages through the C++ binding
 * (ipcnet_sensor.hpp): a helper process publishes an image (into shared
 * memory, with its camera's calibration), an IMU reading, joint states, a
 * point cloud and a camera info; this process decodes each with the
 * metadata intact and reads the pixels in place.  In-process: encoders and
 * decoders of each kind, and what they refuse.
 */
#include "cpptest.hpp"

#include <ipcnet_sensor.hpp>

#include <atomic>
#include <cstring>
#include <map>

using ipcn::Kind;
using ipcn::Node;

static constexpr std::uint32_t H = 200, W = 300;

static std::uint8_t px(std::uint32_t y, std::uint32_t x, std::uint32_t c)
{
    return static_cast<std::uint8_t>((y * 3 + x * 5 + c * 7) & 0xff);
}

static ipcn_camera_info camera()
{
    ipcn_camera_info ci{};
    ci.header = ipcn::make_header(42, "cam_optical");
    ci.width = W;
    ci.height = H;
    std::strcpy(ci.distortion_model, "rational_polynomial");
    ci.d_count = 8;
    for (std::uint32_t i = 0; i < 8; i++)
        ci.d[i] = 0.01 * i;
    ci.k[0] = ci.k[4] = 400;
    ci.k[2] = 150;
    ci.k[5] = 100;
    ci.k[8] = 1;
    ci.roi_width = 10;
    return ci;
}

static ipcn_imu imu()
{
    ipcn_imu m{};
    m.header = ipcn::make_header(43, "imu_link");
    m.orientation[3] = 1;
    m.angular_velocity[0] = -0.5;
    m.linear_acceleration[2] = 9.81;
    m.orientation_covariance[0] = -1;
    return m;
}

static ipcn::JointState joints()
{
    ipcn::JointState js;
    js.header = ipcn::make_header(44, "base_link");
    js.name = {"hip", "knee", "ankle"};
    js.position = {0.5, -1.0, 0.25};
    js.velocity = {0, 0.1, 0.2};
    return js;
}

/* `--peer camera NAME`: streams s/img, s/imu, s/joints, s/cloud, s/info;
 * the service s/go publishes one of each; s/quit ends it. */
PEER(camera)
{
    Node node(argv[0]);
    std::atomic<bool> quit{false};
    node.announce("s/img", Kind::Stream, ipcn::sensor_encoding(IPCN_SENSOR_IMAGE));
    node.announce("s/imu", Kind::Stream, ipcn::sensor_encoding(IPCN_SENSOR_IMU));
    node.announce("s/joints", Kind::Stream, ipcn::sensor_encoding(IPCN_SENSOR_JOINT_STATE));
    node.announce("s/cloud", Kind::Stream, ipcn::sensor_encoding(IPCN_SENSOR_POINTCLOUD));
    node.announce("s/info", Kind::Stream, ipcn::sensor_encoding(IPCN_SENSOR_CAMERA_INFO));
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(H) * W * 3);
    for (std::uint32_t y = 0; y < H; y++)
        for (std::uint32_t x = 0; x < W; x++)
            for (std::uint32_t c = 0; c < 3; c++)
                rgb[(static_cast<std::size_t>(y) * W + x) * 3 + c] = px(y, x, c);
    float pts[4][3] = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 11, 12}};
    node.offer("s/go", "", [&](const ipcn::MessageView &, ipcn::Reply &) {
        ipcn_image img = ipcn::make_image("rgb8", H, W, rgb.data(), 1000, "cam_optical");
        img.has_camera_info = 1;
        img.camera_info = camera();
        ipcn::publish_image(node, "s/img", img);
        node.publish("s/imu", ipcn::encode_imu(imu()));
        node.publish("s/joints", ipcn::encode_joint_state(joints()));
        ipcn_pointcloud pc{};
        pc.header = ipcn::make_header(45, "lidar");
        pc.height = 2;
        pc.width = 2;
        pc.point_step = 12;
        pc.nfields = 3;
        const char *names[3] = {"x", "y", "z"};
        for (std::uint32_t i = 0; i < 3; i++) {
            std::strcpy(pc.fields[i].name, names[i]);
            pc.fields[i].offset = 4 * i;
            pc.fields[i].datatype = IPCN_DTYPE_FLOAT32;
            pc.fields[i].count = 1;
        }
        pc.data = pts;
        pc.data_len = sizeof pts;
        node.publish("s/cloud", ipcn::encode_pointcloud(pc));
        node.publish("s/info", ipcn::encode_camera_info(camera()));
        return IPCN_OK;
    });
    node.offer("s/quit", "", [&](const ipcn::MessageView &, ipcn::Reply &) {
        quit = true;
        return IPCN_OK;
    });
    node.start_thread();
    while (!quit)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return 0;
}

TEST(sensor_messages_between_processes)
{
    Node n("viewer");
    ipcn::Subscription sub = n.subscribe("s/*", 16);
    ct::PeerProcess p("camera", {"camera"});
    CHECK(ct::wait_until(n, [&] { return n.find("s/quit").size() == 1; }));
    n.wait_synced(ct::WAIT_MS);
    n.request("s/go", {}, "", ct::WAIT_MS);
    std::map<std::string, ipcn::Message> got;
    for (int i = 0; i < 5; i++) {
        ipcn::Message m = sub.take(ct::WAIT_MS);
        CHECK(bool(m));
        got[std::string(m.path())] = m;
    }

    ipcn::Image img = ipcn::Image::decode(got["s/img"]);
    CHECK(img.message().shared()); /* 180 KB: the publisher's shared memory */
    CHECK_EQ(img.encoding(), std::string_view("rgb8"));
    CHECK_EQ(img.frame_id(), std::string_view("cam_optical"));
    CHECK_EQ(img.stamp_ns(), 1000u);
    CHECK_EQ(img.height(), H);
    CHECK_EQ(img.width(), W);
    CHECK_EQ(img.channels(), 3u);
    const std::uint8_t *pix = img.pixels<std::uint8_t>(); /* in place */
    const std::uint8_t *base = img.message().data().data();
    CHECK(pix >= base && pix + 3u * H * W <= base + img.message().size());
    CHECK_EQ((pix - base) % IPCN_SENSOR_ALIGN, 0);
    std::size_t bad = 0;
    for (std::uint32_t y = 0; y < H; y++)
        for (std::uint32_t x = 0; x < W; x++)
            for (std::uint32_t c = 0; c < 3; c++)
                bad += pix[(static_cast<std::size_t>(y) * W + x) * 3 + c] != px(y, x, c);
    CHECK_EQ(bad, 0u);
    CHECK_STATUS(img.pixels<std::uint16_t>(), IPCN_BAD_REQUEST);
    const ipcn_camera_info *ci = img.camera_info();
    CHECK(ci != nullptr);
    CHECK_EQ(std::string(ci->distortion_model), std::string("rational_polynomial"));
    CHECK_EQ(ci->d_count, 8u);
    CHECK_EQ(ci->d[7], 0.07);
    CHECK_EQ(ci->k[2], 150.0);
    CHECK_EQ(ci->roi_width, 10u);
    CHECK_EQ(std::string(ci->header.frame_id), std::string("cam_optical"));

    ipcn_imu m = ipcn::decode_imu(got["s/imu"].data());
    CHECK_EQ(m.header.stamp_ns, 43u);
    CHECK_EQ(std::string(m.header.frame_id), std::string("imu_link"));
    CHECK_EQ(m.orientation[3], 1.0);
    CHECK_EQ(m.angular_velocity[0], -0.5);
    CHECK_EQ(m.linear_acceleration[2], 9.81);
    CHECK_EQ(m.orientation_covariance[0], -1.0);

    ipcn::JointState js = ipcn::decode_joint_state(got["s/joints"].data());
    CHECK(js.name == joints().name);
    CHECK(js.position == joints().position);
    CHECK(js.velocity == joints().velocity);
    CHECK(js.effort.empty());
    CHECK_EQ(std::string(js.header.frame_id), std::string("base_link"));

    ipcn::PointCloud pc = ipcn::PointCloud::decode(got["s/cloud"]);
    CHECK_EQ(pc.get().width, 2u);
    CHECK_EQ(pc.get().point_step, 12u);
    CHECK(pc.field("z") != nullptr);
    CHECK_EQ(pc.field("z")->offset, 8u);
    float last;
    std::memcpy(&last, pc.bytes().data() + 3 * 12 + 8, sizeof last);
    CHECK_EQ(last, 12.0f);

    ipcn_camera_info info = ipcn::decode_camera_info(got["s/info"].data());
    CHECK_EQ(info.width, W);
    CHECK_EQ(info.k[0], 400.0);

    n.request("s/quit", {}, "", ct::WAIT_MS);
    CHECK_EQ(p.wait(ct::WAIT_MS), 0);
}

TEST(sensor_refusals_in_process)
{
    CHECK_STATUS(ipcn::make_image("rgb9", 2, 2, nullptr), IPCN_BAD_REQUEST);
    CHECK_STATUS(ipcn::make_header(0, std::string(300, 'x')), IPCN_BAD_REQUEST);
    ipcn::JointState js = joints();
    js.effort = {1.0};
    CHECK_STATUS(ipcn::encode_joint_state(js), IPCN_BAD_REQUEST);
    CHECK_STATUS(ipcn::decode_imu(ipcn::Bytes("\xa0", 1)), IPCN_BAD_REQUEST);
    CHECK_STATUS(ipcn::decode_joint_state(ipcn::Bytes("\xff", 1)), IPCN_BAD_REQUEST);

    /* Not an image: an IMU reading published on an image stream. */
    Node n("self");
    n.announce("x/img", Kind::Stream, ipcn::sensor_encoding(IPCN_SENSOR_IMAGE));
    ipcn::Subscription sub = n.subscribe("x/img", 4);
    n.publish("x/img", ipcn::encode_imu(imu()));
    ipcn::Message m = sub.take(ct::WAIT_MS);
    CHECK(bool(m));
    CHECK_STATUS(ipcn::Image::decode(m), IPCN_BAD_REQUEST);
    CHECK_EQ(ipcn::Image::try_decode(m).status(), IPCN_BAD_REQUEST);

    /* An image to itself, in process: small, so inline. */
    std::uint16_t depth[6] = {1, 2, 3, 4, 5, 65535};
    ipcn::publish_image(n, "x/img", ipcn::make_image("mono16", 2, 3, depth, 7, "d"));
    ipcn::Image img = ipcn::Image::decode(sub.take(ct::WAIT_MS));
    CHECK_EQ(img.width(), 3u);
    CHECK(img.camera_info() == nullptr);
    CHECK(std::memcmp(img.bytes().data(), depth, sizeof depth) == 0);
}

CPPTEST_MAIN
