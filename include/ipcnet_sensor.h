/* SPDX-License-Identifier: MIT */
/*
 * ipcnet_sensor.h — the common robot messages as IPCNet values: images,
 * camera calibration, point clouds, IMU readings and joint states, in the
 * form docs/protocol.md ("Sensor messages") defines, with a table from the
 * fields of ROS's sensor_msgs/Image, CameraInfo, PointCloud2, Imu and
 * JointState.
 *
 * Each message is one CBOR map with text keys (a sample of a stream, or
 * the value of a data resource) whose resource is announced with the
 * encoding "cbor;sensor=KIND" (ipcn_sensor_encoding()).  Every message
 * carries the header of ROS's std_msgs/Header: "stamp" (nanoseconds since
 * the Unix epoch) and "frame_id".  Pixels and point records are tensors
 * (ipcnet_value.h) inside the map, so a subscriber reads them where they
 * lie in the message — for a shared-memory sample, in the publisher's
 * pages — and hands them to NumPy or PyTorch (DLPack) without a copy.
 *
 * What is here:
 *  - encoders (into a buffer or a CBOR writer) and decoders for each kind;
 *    the image and point-cloud encoders put the pixels or points on a
 *    64-byte boundary of the message, so that they can be read in place
 *    whatever their element type;
 *  - ipcn_loan_image() and ipcn_publish_image(): an image written straight
 *    into a shared-memory slot of the publisher.
 *
 * The decoders read input from outside (other processes): they never read
 * outside the bytes given, check every value against the rules of
 * docs/protocol.md, ignore keys they do not know, and are fuzzed
 * (tests/fuzz/fuzz_sensor.c).  Their views (pixels, points, joint names)
 * point into the caller's buffer: keep it (the message) alive while using
 * them.  The conventions of ipcnet.h hold: output parameters are untouched
 * on failure unless a comment says otherwise, and the statuses used are
 *   100 OK,
 *   200 Bad Request (malformed or inconsistent input, invalid arguments),
 *   203 Not Found (the encoding names no sensor message),
 *   301 Not Implemented (a valid message this library cannot represent: a
 *       pixel format or message kind it does not know),
 *   306 Insufficient Storage (a buffer too small; the size needed is
 *       reported),
 *   307 Insufficient Memory,
 * and those of ipcn_loan_new() and ipcn_publish() for the two calls that
 * publish.  The pure functions are safe to call from any thread on
 * distinct objects.
 *
 * Since: 0.2
 */
#ifndef IPCNET_SENSOR_H
#define IPCNET_SENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "ipcnet.h"
#include "ipcnet_value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================== */
/* Kinds and the common header                                         */
/* ================================================================== */

/** The kinds of sensor messages: the value of the encoding parameter
 *  "sensor".  Since: 0.2 */
typedef enum ipcn_sensor_kind {
    IPCN_SENSOR_NONE = 0,
    IPCN_SENSOR_IMAGE = 1,       /**< "image": sensor_msgs/Image */
    IPCN_SENSOR_CAMERA_INFO = 2, /**< "camera_info": sensor_msgs/CameraInfo */
    IPCN_SENSOR_POINTCLOUD = 3,  /**< "pointcloud": sensor_msgs/PointCloud2 */
    IPCN_SENSOR_IMU = 4,         /**< "imu": sensor_msgs/Imu */
    IPCN_SENSOR_JOINT_STATE = 5  /**< "joint_state": sensor_msgs/JointState */
} ipcn_sensor_kind;

/** The longest frame id, in bytes (without the NUL). */
#define IPCN_SENSOR_FRAME_ID_MAX 255

/**
 * ipcn_sensor_encoding() - the encoding a resource of that kind is
 * announced with: "cbor;sensor=image", ... (a static string); NULL for
 * IPCN_SENSOR_NONE or an unknown kind.  Since: 0.2
 */
IPCN_API const char *ipcn_sensor_encoding(ipcn_sensor_kind kind);

/**
 * ipcn_sensor_kind_of() - the kind of sensor message an encoding names:
 * type "cbor" (or "application/cbor") with the parameter sensor=KIND.
 * Returns 100 with *out set; 203 when the encoding is no sensor encoding
 * (not CBOR, or no "sensor" parameter); 301 for a kind this library does
 * not know; 200 for NULL arguments or a malformed encoding.  Since: 0.2
 */
IPCN_API int ipcn_sensor_kind_of(const char *encoding, ipcn_sensor_kind *out);

/**
 * The header of every message (ROS's std_msgs/Header).
 * stamp_ns: when the data was taken, in ns since the Unix epoch
 *   (CLOCK_REALTIME; ROS: stamp.sec * 10^9 + stamp.nanosec), 0 when
 *   unknown.  It is the sensor's time, not the sample's publication time
 *   (ipcn_msg.timestamp_ns).
 * frame_id: the coordinate frame, UTF-8 without NUL bytes, NUL-terminated
 *   ("" when none).
 * Since: 0.2
 */
typedef struct ipcn_sensor_header {
    uint64_t stamp_ns;
    char frame_id[IPCN_SENSOR_FRAME_ID_MAX + 1];
} ipcn_sensor_header;

/**
 * ipcn_sensor_header_set() - fill *h: stamp_ns, and frame_id copied from
 * the NUL-terminated frame_id (NULL: "").  Returns 100, or 200 for NULL h
 * or a frame id over IPCN_SENSOR_FRAME_ID_MAX bytes or not valid UTF-8
 * (*h untouched).  Since: 0.2
 */
IPCN_API int ipcn_sensor_header_set(ipcn_sensor_header *h, uint64_t stamp_ns,
                                    const char *frame_id);

/* ================================================================== */
/* Camera calibration (sensor_msgs/CameraInfo)                         */
/* ================================================================== */

/** The most distortion coefficients a camera model may have here. */
#define IPCN_CAMERA_MAX_D 16
/** The longest distortion model name, in bytes (without the NUL). */
#define IPCN_CAMERA_MODEL_MAX 31

/**
 * A camera's calibration, as ROS's CameraInfo: the image size it applies
 * to, the distortion model ("plumb_bob", "rational_polynomial",
 * "equidistant", or "" when none) and its d_count coefficients, the
 * intrinsic matrix k (3x3, row-major), the rectification rotation r (3x3)
 * and the projection matrix p (3x4), binning (0 and 1: none) and the
 * region of interest (all 0: the whole image).  Set it to zero with
 * memset() and fill what you know.  Since: 0.2
 */
typedef struct ipcn_camera_info {
    ipcn_sensor_header header;
    uint32_t width, height;
    char distortion_model[IPCN_CAMERA_MODEL_MAX + 1];
    uint32_t d_count;
    double d[IPCN_CAMERA_MAX_D];
    double k[9];
    double r[9];
    double p[12];
    uint32_t binning_x, binning_y;
    uint32_t roi_x_offset, roi_y_offset, roi_width, roi_height;
    int roi_do_rectify;
} ipcn_camera_info;

/**
 * ipcn_camera_info_encode() - write ci as a camera_info map with w (every
 * key).  Returns the writer's status; 200 for NULL arguments, d_count over
 * IPCN_CAMERA_MAX_D, or a frame id or model that is not a NUL-terminated
 * UTF-8 string within its array.  Since: 0.2
 */
IPCN_API int ipcn_camera_info_encode(ipcn_cbor_writer *w,
                                     const ipcn_camera_info *ci);

/**
 * ipcn_camera_info_decode() - read buf[0..len), one camera_info map.
 * "width" and "height" are required; the other keys default to 0 and "".
 * Returns 100; 200 when it is not such a map (see docs/protocol.md: k and
 * r of 9 numbers, p of 12, d of at most IPCN_CAMERA_MAX_D, sizes within
 * 32 bits, a key twice, ...).  Since: 0.2
 */
IPCN_API int ipcn_camera_info_decode(const void *buf, size_t len,
                                     ipcn_camera_info *out);

/* ================================================================== */
/* Images (sensor_msgs/Image)                                          */
/* ================================================================== */

/** The longest pixel format name, in bytes (without the NUL). */
#define IPCN_IMAGE_ENCODING_MAX 31
/** The pixels (and a point cloud's records) start on a multiple of this
 *  many bytes from the start of a message the encoders wrote. */
#define IPCN_SENSOR_ALIGN 64

/**
 * ipcn_image_format() - the element type and channel count of a pixel
 * format named as in ROS's sensor_msgs/image_encodings: "rgb8", "rgba8",
 * "bgr8", "bgra8", "mono8", "rgb16", "rgba16", "bgr16", "bgra16",
 * "mono16", "bayer_rggb8" (and bggr, gbrg, grbg; 8 and 16 bits: one
 * channel), "yuv422" (UYVY) and "yuv422_yuy2" (YUYV) (two uint8 channels),
 * and the OpenCV names "8UC1".."8UC4", "8SC1".., "16UC1".., "16SC1"..,
 * "32SC1".., "32FC1".., "64FC1".."64FC4".  Names are case-sensitive.
 * dtype and channels may be NULL.  Returns 100, 301 for a name this
 * library does not know, 200 for NULL.  Since: 0.2
 */
IPCN_API int ipcn_image_format(const char *encoding, ipcn_dtype *dtype,
                               uint32_t *channels);

/**
 * An image: HWC pixels and what they mean.
 * encoding: the pixel format (ipcn_image_format()), NUL-terminated.
 * height, width, channels: the picture; pixels is a tensor of shape
 *   [height, width, channels] (or [height, width] for one channel) of the
 *   format's dtype.  Built with ipcn_image_init(); decoded: a row-major
 *   view into the message (pixels.order says the byte order, pixels.aligned
 *   whether the elements can be read in place).
 * has_camera_info, camera_info: the camera's calibration, when the
 *   publisher sends it with each image.
 * Since: 0.2
 */
typedef struct ipcn_image {
    ipcn_sensor_header header;
    char encoding[IPCN_IMAGE_ENCODING_MAX + 1];
    uint32_t height, width, channels;
    ipcn_tensor pixels;
    int has_camera_info;
    ipcn_camera_info camera_info;
} ipcn_image;

/**
 * ipcn_image_init() - describe a contiguous row-major image of height x
 * width pixels of format encoding at pixels (native byte order; not copied,
 * may be NULL for ipcn_image_encode() to reserve the place): header zero,
 * no camera info.  Returns 100; 200 for NULL img, a zero or over 2^31 - 1
 * dimension, an unknown format (or NULL) or a size that overflows.
 * Since: 0.2
 */
IPCN_API int ipcn_image_init(ipcn_image *img, const char *encoding,
                             uint32_t height, uint32_t width,
                             const void *pixels);

/**
 * ipcn_image_encode() - write img as one image map into buf[0..cap), the
 * pixels on an IPCN_SENSOR_ALIGN boundary from buf (a "pad" entry before
 * them makes it so).  The pixels are copied from img->pixels (any strides
 * and byte order; written in native order), or, when img->pixels.data is
 * NULL, their place is reserved and *pixels_out set to it (pixels_out may
 * be NULL otherwise).  *len: the bytes written on 100, the size needed on
 * 306 (buf may then be NULL with cap 0).
 * Returns 100; 306; 200 for NULL arguments, pixels whose dtype or shape
 * disagree with encoding, height, width and channels, or a header or
 * camera info that ipcn_camera_info_encode() refuses.  Since: 0.2
 */
IPCN_API int ipcn_image_encode(void *buf, size_t cap, const ipcn_image *img,
                               size_t *len, void **pixels_out);

/**
 * ipcn_image_decode() - read buf[0..len), one image map: out->pixels is a
 * view into buf.  "encoding" and "data" are required; "stamp", "frame_id"
 * and "camera_info" optional.  Returns 100; 200 when it is not an image
 * map of docs/protocol.md (data not a row-major tensor of the format's
 * dtype and shape, a dimension of 0 or over 2^31 - 1, a key twice, ...);
 * 301 for a pixel format this library does not know, or pixels it cannot
 * view in place (ipcn_tensor_read()).  Since: 0.2
 */
IPCN_API int ipcn_image_decode(const void *buf, size_t len, ipcn_image *out);

/**
 * ipcn_loan_image() - ipcn_loan_new() for an image: a shared-memory slot of
 * path's pool holding the encoded image (img->pixels.data is ignored) with
 * the place of the pixels, 64-byte aligned, in *pixels: write
 * height * width * channels elements there, row-major, native byte order,
 * then ipcn_loan_publish(node, loan, 0).  Returns as ipcn_loan_new(), and
 * 200 for an invalid image.  Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_loan_image(ipcn_node *node, const char *path,
                             const ipcn_image *img, ipcn_loan **out,
                             void **pixels);

/**
 * ipcn_publish_image() - publish img on path (a stream or data resource
 * this node announced, "cbor;sensor=image"): an image of
 * IPCN_SHM_THRESHOLD bytes or more is encoded straight into a shared-memory
 * slot (one copy of the pixels), a smaller one (or any, when the node
 * cannot use shared memory) into a buffer then sent as ipcn_publish()
 * does.  Returns as ipcn_publish() and ipcn_loan_new() (306: the pool is
 * full, with its refuse policy), and 200 for an invalid image.
 * Thread-safe.  Since: 0.2
 */
IPCN_API int ipcn_publish_image(ipcn_node *node, const char *path,
                                const ipcn_image *img);

/* ================================================================== */
/* Point clouds (sensor_msgs/PointCloud2)                              */
/* ================================================================== */

/** The most fields a point may have here. */
#define IPCN_POINT_MAX_FIELDS 32
/** The longest field name, in bytes (without the NUL). */
#define IPCN_POINT_NAME_MAX 63

/** One field of a point record (ROS's PointField): count values of
 *  datatype (int8, uint8, int16, uint16, int32, uint32, float32 or
 *  float64) at byte offset of the record.  Since: 0.2 */
typedef struct ipcn_point_field {
    char name[IPCN_POINT_NAME_MAX + 1];
    uint32_t offset;
    ipcn_dtype datatype;
    uint32_t count;
} ipcn_point_field;

/**
 * A point cloud: height rows of width points (height 1: unordered), each a
 * record of point_step bytes laid out by fields; data holds height * width
 * * point_step bytes, rows packed, in the byte order is_bigendian says.
 * is_dense: no invalid (NaN) points.  Decoded, data is a view into the
 * message (aligned to IPCN_SENSOR_ALIGN when an encoder of this library
 * wrote it).  Since: 0.2
 */
typedef struct ipcn_pointcloud {
    ipcn_sensor_header header;
    uint32_t height, width, point_step;
    uint32_t nfields;
    ipcn_point_field fields[IPCN_POINT_MAX_FIELDS];
    int is_bigendian;
    int is_dense;
    const void *data;
    size_t data_len;
} ipcn_pointcloud;

/**
 * ipcn_pointcloud_encode() - write pc as one pointcloud map into
 * buf[0..cap), the records on an IPCN_SENSOR_ALIGN boundary from buf;
 * copied from pc->data, or, when it is NULL, reserved and *data_out set
 * to their place.  *len as ipcn_image_encode().  Returns 100; 306; 200 for
 * NULL arguments, a zero dimension, data_len other than height * width *
 * point_step (with data), or fields that are empty, over
 * IPCN_POINT_MAX_FIELDS, unnamed, of another datatype, of count 0 or that
 * do not fit the record.  Since: 0.2
 */
IPCN_API int ipcn_pointcloud_encode(void *buf, size_t cap,
                                    const ipcn_pointcloud *pc, size_t *len,
                                    void **data_out);

/**
 * ipcn_pointcloud_decode() - read buf[0..len), one pointcloud map:
 * out->data is a view into buf.  Returns 100; 200 when it is not such a
 * map (the rules of ipcn_pointcloud_encode(); data a uint8 tensor of shape
 * [height, width, point_step]); 301 for a tensor that cannot be viewed in
 * place.  Since: 0.2
 */
IPCN_API int ipcn_pointcloud_decode(const void *buf, size_t len,
                                    ipcn_pointcloud *out);

/**
 * ipcn_pointcloud_field() - the field of pc called name, or NULL.
 * Since: 0.2
 */
IPCN_API const ipcn_point_field *ipcn_pointcloud_field(const ipcn_pointcloud *pc,
                                                       const char *name);

/* ================================================================== */
/* IMU (sensor_msgs/Imu)                                               */
/* ================================================================== */

/**
 * One IMU reading, as ROS's Imu: orientation as a quaternion (x, y, z, w),
 * angular velocity (rad/s) and linear acceleration (m/s^2) about and along
 * x, y, z, each with its 3x3 covariance (row-major; all 0: unknown;
 * element 0 set to -1: the quantity is not given, as in ROS).
 * Since: 0.2
 */
typedef struct ipcn_imu {
    ipcn_sensor_header header;
    double orientation[4];
    double orientation_covariance[9];
    double angular_velocity[3];
    double angular_velocity_covariance[9];
    double linear_acceleration[3];
    double linear_acceleration_covariance[9];
} ipcn_imu;

/** ipcn_imu_encode() - write imu as one imu map with w (every key).
 *  Returns the writer's status; 200 for NULL arguments or an invalid frame
 *  id.  Since: 0.2 */
IPCN_API int ipcn_imu_encode(ipcn_cbor_writer *w, const ipcn_imu *imu);

/**
 * ipcn_imu_decode() - read buf[0..len), one imu map.  "orientation",
 * "angular_velocity" and "linear_acceleration" are required; covariances
 * default to 0.  Returns 100, or 200 when it is not such a map (arrays of
 * the wrong length, values that are not numbers, a key twice, ...).
 * Since: 0.2
 */
IPCN_API int ipcn_imu_decode(const void *buf, size_t len, ipcn_imu *out);

/* ================================================================== */
/* Joint states (sensor_msgs/JointState)                               */
/* ================================================================== */

/** The most joints in one message. */
#define IPCN_JOINT_MAX 4096
/** The longest joint name, in bytes. */
#define IPCN_JOINT_NAME_MAX 255

/**
 * ipcn_joint_state_encode() - write a joint_state map with w: count joints
 * named name[0..count) (NUL-terminated UTF-8 of 1..IPCN_JOINT_NAME_MAX
 * bytes), and their position, velocity and effort (count values each, or
 * NULL: not given, written as an empty array, as ROS does).  Returns the
 * writer's status; 200 for NULL w or h, count over IPCN_JOINT_MAX, NULL
 * name with count > 0, or an invalid name.  Since: 0.2
 */
IPCN_API int ipcn_joint_state_encode(ipcn_cbor_writer *w,
                                     const ipcn_sensor_header *h, size_t count,
                                     const char *const *name,
                                     const double *position,
                                     const double *velocity,
                                     const double *effort);

/**
 * A joint state being decoded into the caller's arrays.  In: cap, the room
 * in each of name, position, velocity and effort (each may be NULL: not
 * wanted).  Out: header; count, the joints in the message; has_position,
 * has_velocity, has_effort: whether the message gives them (for every
 * joint).  Names are views into the message, not NUL-terminated.
 * Since: 0.2
 */
typedef struct ipcn_joint_state {
    ipcn_sensor_header header;
    size_t count;
    size_t cap;
    ipcn_strview *name;
    double *position, *velocity, *effort;
    int has_position, has_velocity, has_effort;
} ipcn_joint_state;

/**
 * ipcn_joint_state_decode() - read buf[0..len), one joint_state map, into
 * js (see ipcn_joint_state).  "name" is required; "position", "velocity"
 * and "effort" are each empty or as long as "name".  Returns 100; 306 when
 * count is over js->cap (then only js->count is set: the room needed);
 * 200 when it is not such a map (over IPCN_JOINT_MAX joints, a name empty,
 * too long or not text, an array of another length, a key twice, ...) or
 * for NULL arguments.  Since: 0.2
 */
IPCN_API int ipcn_joint_state_decode(const void *buf, size_t len,
                                     ipcn_joint_state *js);

#ifdef __cplusplus
}
#endif
#endif /* IPCNET_SENSOR_H */
