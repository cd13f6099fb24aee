/* SPDX-License-Identifier: MIT */
/**
 * @file ipcnet_sensor.hpp
 * @brief The C++ side of ipcnet_sensor.h: images, camera info, point
 *        clouds, IMU readings and joint states (docs/protocol.md, "Sensor
 *        messages").
 *
 * Part of the header-only C++ binding; the rules of ipcnet.hpp (errors,
 * ownership, threads) hold.  Received images and point clouds are views
 * into their message, which they keep alive (a reference, not a copy): for
 * a shared-memory sample, the publisher's slot stays held while they live.
 *
 * @code
 * ipcn::publish_image(node, "cam/rgb", ipcn::make_image("rgb8", 480, 640, rgb, stamp, "cam"));
 * ...
 * ipcn::Image img = ipcn::Image::decode(msg);          // throws 200, 301
 * const std::uint8_t *px = img.pixels<std::uint8_t>(); // in place, no copy
 * @endcode
 *
 * Since: 0.2
 */
#ifndef IPCNET_SENSOR_HPP
#define IPCNET_SENSOR_HPP

#include "ipcnet.hpp"
#include "ipcnet_sensor.h"

namespace ipcn {

/** The encoding a resource of kind is announced with ("cbor;sensor=image"). */
inline const char *sensor_encoding(ipcn_sensor_kind kind) noexcept
{
    return ipcn_sensor_encoding(kind);
}

/** A header (stamp in ns since the epoch, frame id); throws Error 200 for a
 *  frame id that is too long or not UTF-8. */
inline ipcn_sensor_header make_header(std::uint64_t stamp_ns, CStr frame_id = "")
{
    ipcn_sensor_header h;
    detail::check(ipcn_sensor_header_set(&h, stamp_ns, frame_id.c_str()), "sensor header",
                  frame_id.view());
    return h;
}

/**
 * An ipcn_image describing height x width contiguous row-major pixels of
 * format encoding at pixels (not copied: keep them alive until published).
 * Throws Error 200 (an unknown format, a zero dimension, a bad frame id).
 */
inline ipcn_image make_image(CStr encoding, std::uint32_t height, std::uint32_t width,
                             const void *pixels, std::uint64_t stamp_ns = 0,
                             CStr frame_id = "")
{
    ipcn_image img;
    detail::check(ipcn_image_init(&img, encoding.c_str(), height, width, pixels), "image",
                  encoding.view());
    img.header = make_header(stamp_ns, frame_id);
    return img;
}

/** Publish img on path (ipcn_publish_image(): large images straight into
 *  shared memory).  Throws Error. */
inline void publish_image(Node &node, CStr path, const ipcn_image &img)
{
    detail::check(ipcn_publish_image(node.get(), path.c_str(), &img), "publish_image",
                  path.view());
}

/** publish_image() without throwing: the status. */
inline int try_publish_image(Node &node, CStr path, const ipcn_image &img) noexcept
{
    return ipcn_publish_image(node.get(), path.c_str(), &img);
}

/** A received image: header, pixel format, size, and its pixels in place. */
class Image {
public:
    /** Decode msg (ipcn_image_decode()).  Throws Error 200 (not an image
     *  message), 301 (a pixel format this library does not know). */
    static Image decode(const Message &msg)
    {
        Result<Image> r = try_decode(msg);
        detail::check(r.ok() ? IPCN_OK : r.status(), "image decode", msg ? msg.path() : "");
        return std::move(r).value();
    }
    /** decode() of a callback's message: takes a reference of it. */
    static Image decode(const MessageView &msg) { return decode(msg.ref()); }
    /** decode() without throwing. */
    static Result<Image> try_decode(const Message &msg) noexcept
    {
        if (!msg)
            return Result<Image>(IPCN_BAD_REQUEST);
        Image img(msg);
        int st = ipcn_image_decode(msg.get()->data, msg.get()->len, &img.img_);
        if (st != IPCN_OK)
            return Result<Image>(st);
        return Result<Image>(st, std::move(img));
    }

    /** When it was taken, ns since the epoch (0: unknown). */
    std::uint64_t stamp_ns() const noexcept { return img_.header.stamp_ns; }
    /** Its coordinate frame. */
    std::string_view frame_id() const noexcept { return img_.header.frame_id; }
    /** The pixel format ("rgb8", "mono16", "32FC1"...). */
    std::string_view encoding() const noexcept { return img_.encoding; }
    /** Rows. */
    std::uint32_t height() const noexcept { return img_.height; }
    /** Columns. */
    std::uint32_t width() const noexcept { return img_.width; }
    /** Channels per pixel. */
    std::uint32_t channels() const noexcept { return img_.channels; }
    /** The element type. */
    ipcn_dtype dtype() const noexcept { return img_.pixels.dtype; }
    /** The pixels' bytes (row-major, packed), inside the message. */
    Bytes bytes() const noexcept { return Bytes(img_.pixels.data, img_.pixels.size); }
    /** The pixels in place as T (height * width * channels of them); throws
     *  Error 200 unless T is the format's type and the elements are aligned
     *  and in the machine's byte order (else copy with ipcn_tensor_copy()). */
    template <class T>
    const T *pixels() const
    {
        const ipcn_tensor &t = img_.pixels;
        if (dtype_of<T>() != t.dtype || !t.aligned ||
            (ipcn_dtype_size(t.dtype) > 1 && t.order != IPCN_ORDER_NATIVE))
            throw Error(IPCN_BAD_REQUEST, std::string("image pixels are not an aligned, "
                                                      "native array of ") +
                                              ipcn_dtype_name(dtype_of<T>()));
        return static_cast<const T *>(t.data);
    }
    /** The camera's calibration sent with it, or nullptr. */
    const ipcn_camera_info *camera_info() const noexcept
    {
        return img_.has_camera_info ? &img_.camera_info : nullptr;
    }
    /** The C view. */
    const ipcn_image &get() const noexcept { return img_; }
    /** The message it views. */
    const Message &message() const noexcept { return msg_; }

private:
    explicit Image(Message m) noexcept : msg_(std::move(m)) {}
    Message msg_;
    ipcn_image img_{};
};

/** A received point cloud: its fields and records in place. */
class PointCloud {
public:
    /** Decode msg (ipcn_pointcloud_decode()).  Throws Error 200, 301. */
    static PointCloud decode(const Message &msg)
    {
        detail::check(msg ? IPCN_OK : IPCN_BAD_REQUEST, "pointcloud decode");
        PointCloud pc(msg);
        detail::check(ipcn_pointcloud_decode(msg.get()->data, msg.get()->len, &pc.pc_),
                      "pointcloud decode", msg.path());
        return pc;
    }
    /** decode() of a callback's message. */
    static PointCloud decode(const MessageView &msg) { return decode(msg.ref()); }
    /** The C view: header, height, width, point_step, fields, data. */
    const ipcn_pointcloud &get() const noexcept { return pc_; }
    /** The field called name, or nullptr. */
    const ipcn_point_field *field(CStr name) const noexcept
    {
        return ipcn_pointcloud_field(&pc_, name.c_str());
    }
    /** The records' bytes, inside the message. */
    Bytes bytes() const noexcept { return Bytes(pc_.data, pc_.data_len); }
    /** The message it views. */
    const Message &message() const noexcept { return msg_; }

private:
    explicit PointCloud(Message m) noexcept : msg_(std::move(m)) {}
    Message msg_;
    ipcn_pointcloud pc_{};
};

/** A point cloud's encoding (records copied, aligned); throws Error 200. */
inline std::vector<std::uint8_t> encode_pointcloud(const ipcn_pointcloud &pc)
{
    std::size_t need = 0, len = 0;
    int st = ipcn_pointcloud_encode(nullptr, 0, &pc, &need, nullptr);
    if (st != IPCN_INSUFFICIENT_STORAGE)
        detail::check(st == IPCN_OK ? IPCN_INTERNAL_ERROR : st, "pointcloud encode");
    std::vector<std::uint8_t> out(need);
    detail::check(ipcn_pointcloud_encode(out.data(), out.size(), &pc, &len, nullptr),
                  "pointcloud encode");
    return out;
}

/** A camera info's encoding; throws Error 200. */
inline std::vector<std::uint8_t> encode_camera_info(const ipcn_camera_info &ci)
{
    return cbor_encode([&](CborWriter &w) { ipcn_camera_info_encode(w.get(), &ci); });
}

/** Decode a camera_info message; throws Error 200. */
inline ipcn_camera_info decode_camera_info(Bytes data)
{
    ipcn_camera_info ci;
    detail::check(ipcn_camera_info_decode(data.data(), data.size(), &ci), "camera_info decode");
    return ci;
}

/** An IMU reading's encoding; throws Error 200. */
inline std::vector<std::uint8_t> encode_imu(const ipcn_imu &imu)
{
    return cbor_encode([&](CborWriter &w) { ipcn_imu_encode(w.get(), &imu); });
}

/** Decode an imu message; throws Error 200. */
inline ipcn_imu decode_imu(Bytes data)
{
    ipcn_imu imu;
    detail::check(ipcn_imu_decode(data.data(), data.size(), &imu), "imu decode");
    return imu;
}

/** Joint states with their own storage (sensor_msgs/JointState):
 *  position, velocity and effort are each empty or one per name. */
struct JointState {
    ipcn_sensor_header header{};
    std::vector<std::string> name;
    std::vector<double> position, velocity, effort;
};

/** A joint state's encoding; throws Error 200 (arrays of other lengths
 *  than name, invalid names). */
inline std::vector<std::uint8_t> encode_joint_state(const JointState &js)
{
    std::size_t n = js.name.size();
    for (const auto *v : {&js.position, &js.velocity, &js.effort})
        if (!v->empty() && v->size() != n)
            throw Error(IPCN_BAD_REQUEST, "joint_state: position, velocity and effort are "
                                          "empty or one per name");
    std::vector<const char *> names;
    for (const std::string &s : js.name)
        names.push_back(s.c_str());
    auto arr = [](const std::vector<double> &v) { return v.empty() ? nullptr : v.data(); };
    return cbor_encode([&](CborWriter &w) {
        ipcn_joint_state_encode(w.get(), &js.header, n, names.data(), arr(js.position),
                                arr(js.velocity), arr(js.effort));
    });
}

/** Decode a joint_state message (copies the names and values); throws
 *  Error 200. */
inline JointState decode_joint_state(Bytes data)
{
    ipcn_joint_state js{};
    int st = ipcn_joint_state_decode(data.data(), data.size(), &js);
    if (st != IPCN_INSUFFICIENT_STORAGE)
        detail::check(st, "joint_state decode");
    std::size_t n = js.count;
    std::vector<ipcn_strview> names(n);
    JointState out;
    out.position.resize(n);
    out.velocity.resize(n);
    out.effort.resize(n);
    js = ipcn_joint_state{};
    js.cap = n;
    js.name = names.data();
    js.position = out.position.data();
    js.velocity = out.velocity.data();
    js.effort = out.effort.data();
    detail::check(ipcn_joint_state_decode(data.data(), data.size(), &js), "joint_state decode");
    out.header = js.header;
    for (const ipcn_strview &s : names)
        out.name.emplace_back(s.ptr, s.len);
    if (!js.has_position)
        out.position.clear();
    if (!js.has_velocity)
        out.velocity.clear();
    if (!js.has_effort)
        out.effort.clear();
    return out;
}

} // namespace ipcn

#endif /* IPCNET_SENSOR_HPP */
