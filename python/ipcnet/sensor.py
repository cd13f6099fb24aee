# SPDX-License-Identifier: MIT
"""Sensor messages: images, camera calibration, point clouds, IMU readings
and joint states, in the form docs/protocol.md ("Sensor messages") gives
them, with the fields of ROS's sensor_msgs/Image, CameraInfo, PointCloud2,
Imu and JointState.

Publish:

    node.publish_image("cam/rgb", frame, "rgb8", frame_id="cam", stamp=t_ns)
    node.publish_sensor("imu", ipcnet.sensor.Imu(orientation=[0, 0, 0, 1], ...))

(each announces its path as a stream with the kind's encoding,
"cbor;sensor=image"..., unless this node announced it already).  Read:

    img = ipcnet.sensor.decode(msg)     # an Image, Imu, ... by msg.encoding
    img.array                           # NumPy (H, W, C), a view of the message

An image's pixels (and a point cloud's records) are a tensor inside the
message: `Image.array` and `Image.tensor` read them where they lie, for a
large image in the publisher's shared memory, without a copy.  While such a
view lives, the message and so its shared-memory slot are held: the
publisher cannot reuse that slot until the view is freed.  Every message is
checked by the library (the checks C and C++ receivers make) before it is
read; a malformed one raises ipcnet.BadRequest.
"""
import dataclasses
import time

from . import _ipcnet

KINDS = ("image", "camera_info", "pointcloud", "imu", "joint_state")
# The encoding a resource of each kind is announced with.
ENCODINGS = {k: "cbor;sensor=" + k for k in KINDS}


def kind_of(encoding):
    """The sensor kind an encoding names ("cbor;sensor=image" -> "image"),
    or None."""
    if not encoding:
        return None
    parts = [p.strip() for p in encoding.split(";")]
    if parts[0].lower() not in ("cbor", "application/cbor"):
        return None
    for p in parts[1:]:
        key, _, value = p.partition("=")
        if key.strip().lower() == "sensor":
            return value.strip()
    return None


def _dumps(value):
    return _ipcnet.encode(value, "cbor")[0]


def _now():
    return time.time_ns()


def _floats(seq, n=None, what="value"):
    out = [float(x) for x in (seq if seq is not None else [])]
    if n is not None and len(out) != n:
        raise ValueError("%s: %d numbers expected, got %d" % (what, n, len(out)))
    return out


def _header(v):
    return v.get("stamp", 0), v.get("frame_id", "")


# ---------------------------------------------------------------- camera info

@dataclasses.dataclass
class CameraInfo:
    """A camera's calibration (sensor_msgs/CameraInfo): the image size it
    applies to, the distortion model ("plumb_bob", "rational_polynomial",
    "equidistant") and its coefficients d, the intrinsic matrix k (3x3,
    row-major), the rectification r (3x3), the projection p (3x4), binning,
    and the region of interest roi = (x_offset, y_offset, width, height,
    do_rectify)."""
    width: int
    height: int
    distortion_model: str = ""
    d: list = dataclasses.field(default_factory=list)
    k: list = dataclasses.field(default_factory=lambda: [0.0] * 9)
    r: list = dataclasses.field(default_factory=lambda: [0.0] * 9)
    p: list = dataclasses.field(default_factory=lambda: [0.0] * 12)
    binning_x: int = 0
    binning_y: int = 0
    roi: tuple = (0, 0, 0, 0, False)
    frame_id: str = ""
    stamp: int = 0

    def to_value(self):
        """The camera_info map (a dict, sent as CBOR)."""
        x, y, w, h, rect = self.roi
        return {"stamp": int(self.stamp), "frame_id": self.frame_id,
                "width": int(self.width), "height": int(self.height),
                "distortion_model": self.distortion_model, "d": _floats(self.d),
                "k": _floats(self.k, 9, "k"), "r": _floats(self.r, 9, "r"),
                "p": _floats(self.p, 12, "p"), "binning_x": int(self.binning_x),
                "binning_y": int(self.binning_y),
                "roi": {"x_offset": int(x), "y_offset": int(y), "width": int(w),
                        "height": int(h), "do_rectify": bool(rect)}}

    @classmethod
    def from_value(cls, v):
        roi = v.get("roi", {})
        stamp, frame_id = _header(v)
        return cls(v["width"], v["height"], v.get("distortion_model", ""),
                   _floats(v.get("d")), _floats(v.get("k"), None) or [0.0] * 9,
                   _floats(v.get("r")) or [0.0] * 9, _floats(v.get("p")) or [0.0] * 12,
                   v.get("binning_x", 0), v.get("binning_y", 0),
                   (roi.get("x_offset", 0), roi.get("y_offset", 0), roi.get("width", 0),
                    roi.get("height", 0), roi.get("do_rectify", False)), frame_id, stamp)


# ---------------------------------------------------------------- images

class Image:
    """A received image (sensor_msgs/Image): stamp (ns since the epoch),
    frame_id, encoding (the pixel format: "rgb8", "mono16", "32FC1"...),
    tensor (an ipcnet.Tensor of shape (height, width, channels), a view of
    the message), camera_info (a CameraInfo, or None) and message."""
    __slots__ = ("stamp", "frame_id", "encoding", "tensor", "camera_info", "message")

    def __init__(self, stamp, frame_id, encoding, tensor, camera_info=None, message=None):
        self.stamp, self.frame_id, self.encoding = stamp, frame_id, encoding
        self.tensor, self.camera_info, self.message = tensor, camera_info, message

    @property
    def array(self):
        """The pixels as a read-only NumPy array, (height, width, channels)
        or (height, width) as sent: a view of the message, no copy (it holds
        the message, and so its shared-memory slot, while it lives).
        numpy.array(img.array) or torch.from_dlpack(img.tensor) for a copy
        of one's own."""
        import numpy
        return numpy.asarray(self.tensor)

    @property
    def height(self):
        return self.tensor.shape[0]

    @property
    def width(self):
        return self.tensor.shape[1]

    @property
    def channels(self):
        return self.tensor.shape[2] if self.tensor.ndim == 3 else 1

    def __repr__(self):
        return "<ipcnet.sensor.Image %s %dx%d frame %r stamp %d%s>" % (
            self.encoding, self.width, self.height, self.frame_id, self.stamp,
            " with camera_info" if self.camera_info else "")


# ---------------------------------------------------------------- point clouds

@dataclasses.dataclass
class PointField:
    """One field of a point record: count values of datatype ("float32",
    "uint16"...) at byte offset."""
    name: str
    offset: int
    datatype: str
    count: int = 1


_NP_NAMES = {"i1": "int8", "u1": "uint8", "i2": "int16", "u2": "uint16", "i4": "int32",
             "u4": "uint32", "f4": "float32", "f8": "float64"}


class PointCloud:
    """A point cloud (sensor_msgs/PointCloud2): stamp, frame_id, fields (a
    list of PointField), is_bigendian, is_dense, and tensor: the records,
    uint8 of shape (height, width, point_step), a view of the message when
    received.  PointCloud.from_points(a) makes one from a NumPy structured
    array; points() reads one back as such an array, without a copy."""
    __slots__ = ("stamp", "frame_id", "fields", "is_bigendian", "is_dense", "tensor",
                 "message")

    def __init__(self, fields, tensor, *, frame_id="", stamp=0, is_bigendian=False,
                 is_dense=True, message=None):
        self.fields, self.tensor = list(fields), tensor
        self.frame_id, self.stamp = frame_id, stamp
        self.is_bigendian, self.is_dense, self.message = is_bigendian, is_dense, message

    @classmethod
    def from_points(cls, points, *, frame_id="", stamp=None, is_dense=True):
        """From a NumPy structured array of shape (n,) or (height, width)
        whose fields are numbers (subarrays count as count values)."""
        import numpy
        a = numpy.ascontiguousarray(points)
        if a.dtype.fields is None or a.ndim not in (1, 2):
            raise ValueError("points: a structured array of shape (n,) or (height, width)")
        fields, big = [], set()
        for name, (ft, off) in sorted(a.dtype.fields.items(), key=lambda f: f[1][1]):
            base, count = (ft.base, int(numpy.prod(ft.shape))) if ft.shape else (ft, 1)
            key = base.kind + str(base.itemsize)
            if key not in _NP_NAMES:
                raise ValueError("field %r: no PointField datatype for %s" % (name, base))
            if base.itemsize > 1:
                big.add(base.byteorder == ">" or (base.byteorder == "=" and
                                                  numpy.little_endian is False))
            fields.append(PointField(name, off, _NP_NAMES[key], count))
        if len(big) > 1:
            raise ValueError("points: fields of both byte orders")
        h, w = (1, a.shape[0]) if a.ndim == 1 else a.shape
        data = a.view(numpy.uint8).reshape(h, w, a.dtype.itemsize)
        return cls(fields, data, frame_id=frame_id, stamp=_now() if stamp is None else stamp,
                   is_bigendian=bool(big and big.pop()), is_dense=is_dense)

    @property
    def height(self):
        return self.tensor.shape[0]

    @property
    def width(self):
        return self.tensor.shape[1]

    @property
    def point_step(self):
        return self.tensor.shape[2]

    def points(self):
        """The records as a NumPy structured array of shape (height, width)
        (the fields by name, e.g. pts["x"]): a read-only view, no copy."""
        import numpy
        order = ">" if self.is_bigendian else "<"
        names, formats, offsets = [], [], []
        for f in self.fields:
            code = {v: k for k, v in _NP_NAMES.items()}[f.datatype]
            dt = numpy.dtype(order + code)
            names.append(f.name)
            formats.append(dt if f.count == 1 else (dt, (f.count,)))
            offsets.append(f.offset)
        dt = numpy.dtype({"names": names, "formats": formats, "offsets": offsets,
                          "itemsize": self.point_step})
        raw = numpy.asarray(self.tensor)
        return raw.reshape(-1).view(dt).reshape(self.height, self.width)

    def to_value(self):
        return {"stamp": int(self.stamp), "frame_id": self.frame_id,
                "fields": [{"name": f.name, "offset": int(f.offset), "datatype": f.datatype,
                            "count": int(f.count)} for f in self.fields],
                "is_bigendian": bool(self.is_bigendian), "is_dense": bool(self.is_dense),
                "data": self.tensor}

    def __repr__(self):
        return "<ipcnet.sensor.PointCloud %dx%d, %s, frame %r stamp %d>" % (
            self.width, self.height, ",".join(f.name for f in self.fields), self.frame_id,
            self.stamp)


# ---------------------------------------------------------------- IMU, joints

@dataclasses.dataclass
class Imu:
    """An IMU reading (sensor_msgs/Imu): orientation (x, y, z, w), angular
    velocity (rad/s), linear acceleration (m/s^2), each with its 3x3
    covariance (row-major; zeros: unknown; element 0 at -1: not given)."""
    orientation: list = dataclasses.field(default_factory=lambda: [0.0, 0.0, 0.0, 1.0])
    angular_velocity: list = dataclasses.field(default_factory=lambda: [0.0] * 3)
    linear_acceleration: list = dataclasses.field(default_factory=lambda: [0.0] * 3)
    orientation_covariance: list = dataclasses.field(default_factory=lambda: [0.0] * 9)
    angular_velocity_covariance: list = dataclasses.field(default_factory=lambda: [0.0] * 9)
    linear_acceleration_covariance: list = dataclasses.field(default_factory=lambda: [0.0] * 9)
    frame_id: str = ""
    stamp: int = 0

    _LENS = {"orientation": 4, "angular_velocity": 3, "linear_acceleration": 3,
             "orientation_covariance": 9, "angular_velocity_covariance": 9,
             "linear_acceleration_covariance": 9}

    def to_value(self):
        v = {"stamp": int(self.stamp), "frame_id": self.frame_id}
        for key, n in self._LENS.items():
            v[key] = _floats(getattr(self, key), n, key)
        return v

    @classmethod
    def from_value(cls, v):
        stamp, frame_id = _header(v)
        kw = {key: _floats(v.get(key), None) or [0.0] * n for key, n in cls._LENS.items()}
        return cls(frame_id=frame_id, stamp=stamp, **kw)


@dataclasses.dataclass
class JointState:
    """Joint states (sensor_msgs/JointState): the joints' names and, for
    each that is given (else empty), their position, velocity and effort."""
    name: list
    position: list = dataclasses.field(default_factory=list)
    velocity: list = dataclasses.field(default_factory=list)
    effort: list = dataclasses.field(default_factory=list)
    frame_id: str = ""
    stamp: int = 0

    def to_value(self):
        n = len(self.name)
        return {"stamp": int(self.stamp), "frame_id": self.frame_id,
                "name": [str(s) for s in self.name],
                **{k: _floats(getattr(self, k), n if len(getattr(self, k)) else 0, k)
                   for k in ("position", "velocity", "effort")}}

    @classmethod
    def from_value(cls, v):
        stamp, frame_id = _header(v)
        return cls(list(v["name"]), _floats(v.get("position")), _floats(v.get("velocity")),
                   _floats(v.get("effort")), frame_id, stamp)


_CLASS_KIND = {CameraInfo: "camera_info", PointCloud: "pointcloud", Imu: "imu",
               JointState: "joint_state"}


# ---------------------------------------------------------------- reading

def decode(msg, kind=None):
    """The sensor message in msg (an ipcnet.Message): an Image, CameraInfo,
    PointCloud, Imu or JointState, by kind or else by msg.encoding.
    Raises BadRequest for a message the library does not accept (the checks
    of ipcnet_sensor.h), NotImplemented (301) for a pixel format it does not
    know, ValueError when msg is no sensor message."""
    kind = kind or kind_of(msg.encoding)
    if kind not in KINDS:
        raise ValueError("%s: encoding %r names no sensor message (%s)" % (
            msg.path, msg.encoding, ", ".join(sorted(ENCODINGS.values()))))
    _ipcnet._sensor_check(kind, msg)
    v = msg.value
    stamp, frame_id = _header(v)
    if kind == "image":
        cam = v.get("camera_info")
        return Image(stamp, frame_id, v["encoding"], v["data"],
                     CameraInfo.from_value(cam) if cam is not None else None, msg)
    if kind == "pointcloud":
        fields = [PointField(f["name"], f["offset"], f["datatype"], f["count"])
                  for f in v["fields"]]
        return PointCloud(fields, v["data"], frame_id=frame_id, stamp=stamp,
                          is_bigendian=v.get("is_bigendian", False),
                          is_dense=v.get("is_dense", False), message=msg)
    return {"camera_info": CameraInfo, "imu": Imu, "joint_state": JointState}[kind] \
        .from_value(v)


# ---------------------------------------------------------------- publishing
# (methods of ipcnet.Node: self is the node)

def _announced(node, path, kind):
    with node._lock:
        known = path in node._encodings
    if not known:
        node.announce(path, "stream", ENCODINGS[kind])


def publish_image(self, path, array, encoding, *, frame_id="", stamp=None, camera_info=None):
    """Publish an image on path: array (NumPy, torch..., of shape (height,
    width, channels), or (height, width) for one channel) of the dtype of
    encoding, the pixel format in ROS's names ("rgb8", "bgr8", "mono8",
    "mono16", "rgba8", "32FC1"...); frame_id; stamp, when it was taken (ns
    since the epoch; None: now); camera_info, a CameraInfo sent with it.
    A large image goes straight into a shared-memory slot, its pixels
    aligned there (one copy).  Announces path as an image stream unless
    this node announced it.  Raises ValueError for an array that does not
    match encoding."""
    _announced(self, path, "image")
    cam = None
    if camera_info is not None:
        if isinstance(camera_info, dict):
            camera_info = CameraInfo.from_value(camera_info)
        cam = _dumps(camera_info.to_value())
    self._publish_image(path, array, encoding, frame_id, _now() if stamp is None else stamp,
                        cam)


def publish_sensor(self, path, message):
    """Publish a CameraInfo, PointCloud, Imu or JointState on path (its
    stamp 0: now), checked by the library first (BadRequest).  Announces
    path with the kind's encoding unless this node announced it."""
    kind = _CLASS_KIND.get(type(message))
    if kind is None:
        raise TypeError("publish_sensor takes a CameraInfo, PointCloud, Imu or JointState, "
                        "not %s (images: publish_image)" % type(message).__name__)
    value = message.to_value()
    if not value["stamp"]:
        value["stamp"] = _now()
    data = _dumps(value)
    _ipcnet._sensor_check(kind, data)
    _announced(self, path, kind)
    self._publish(path, data, "bytes")
