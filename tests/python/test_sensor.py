# SPDX-License-Identifier: MIT
"""Sensor messages (docs/protocol.md "Sensor messages", ipcnet_sensor.h,
ipcnet/sensor.py) across languages: images, camera info, point clouds, IMU
readings and joint states published from Python and read by a C process
(ipcn-test-sensor_peer, tests/integration/helpers/sensor_peer.c) with their
metadata intact; an image published by C into shared memory read by NumPy
without a copy; an image stream written as a video by `ipcnet stream-recv`
and counted by ffprobe; and what the library refuses."""
import json
import os
import shutil
import subprocess

import pytest

import ipcnet

from conftest import BINDIR, CLI, WAIT

np = pytest.importorskip("numpy")

PEER = os.path.join(BINDIR, "ipcn-test-sensor_peer")
IMAGE = ipcnet.sensor.ENCODINGS["image"]


def fnv(data):
    """FNV-1a 64 of bytes, as the C peer hashes the pixels."""
    h = 0xcbf29ce484222325
    for b in bytes(data):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def peer(spawn, *args):
    if not os.access(PEER, os.X_OK):
        pytest.fail("%s is not built" % PEER)
    p = spawn(PEER, *[str(a) for a in args], python_peer=False)
    return p


def camera():
    return ipcnet.sensor.CameraInfo(
        64, 48, "plumb_bob", d=[-0.25, 0.07, 0.001, -0.002, 0.0],
        k=[525.0, 0, 31.5, 0, 525.0, 23.5, 0, 0, 1], r=[1, 0, 0, 0, 1, 0, 0, 0, 1],
        p=[525.0, 0, 31.5, -37.5, 0, 525.0, 23.5, 0, 0, 0, 1, 0], binning_x=1, binning_y=1,
        roi=(2, 4, 32, 24, True), frame_id="cam_optical", stamp=1700000000000000042)


def test_images_python_to_c(nodes, spawn):
    sub = peer(spawn, "sub", "cam/**", 4)
    assert sub.read() == {"ready": True}
    n = nodes("py.cam")
    paths = ["cam/rgb", "cam/depth", "cam/float", "cam/strided"]
    for p in paths:
        n.announce(p, "stream", IMAGE)
    for p in paths:
        n.wait_subscribers(p, 1, WAIT)
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    depth = rng.integers(0, 65536, (30, 40), dtype=np.uint16)      # (H, W): one channel
    flt = rng.standard_normal((96, 128, 1)).astype(np.float32)      # 48 KiB: shared memory
    big = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    strided = big[::2, ::3]                                          # not contiguous
    n.publish_image("cam/rgb", rgb, "rgb8", frame_id="cam_optical", stamp=1700000000000000042,
                    camera_info=camera())
    n.publish_image("cam/depth", depth, "mono16", frame_id="depth", stamp=5)
    n.publish_image("cam/float", flt, "32FC1", frame_id="f", stamp=6)
    n.publish_image("cam/strided", strided, "bgra8", frame_id="s", stamp=7)
    got = {}
    for _ in range(4):
        line = sub.read()
        assert "error" not in line, line
        got[line["frame_id"]] = line
    r = got["cam_optical"]
    assert (r["stamp"], r["encoding"], r["height"], r["width"], r["channels"], r["dtype"]) == \
        (1700000000000000042, "rgb8", 48, 64, 3, "uint8")
    assert r["fnv"] == fnv(rgb.tobytes()) and r["offset64"] == 0
    ci = r["camera_info"]
    assert (ci["width"], ci["height"], ci["distortion_model"]) == (64, 48, "plumb_bob")
    assert ci["d"] == [-0.25, 0.07, 0.001, -0.002, 0.0] and ci["k"][2] == 31.5
    assert ci["p"][3] == -37.5 and ci["roi"] == [2, 4, 32, 24, True]
    assert ci["binning"] == [1, 1] and ci["r"][4] == 1
    d = got["depth"]
    assert (d["stamp"], d["encoding"], d["height"], d["width"], d["channels"], d["dtype"]) == \
        (5, "mono16", 30, 40, 1, "uint16")
    assert d["fnv"] == fnv(depth.tobytes()) and d["camera_info"] is None
    f = got["f"]
    assert (f["encoding"], f["height"], f["width"], f["dtype"]) == ("32FC1", 96, 128, "float32")
    assert f["fnv"] == fnv(flt.tobytes())
    assert f["shared"] and f["aligned"] and f["offset64"] == 0   # in place, in shared memory
    s = got["s"]
    assert (s["encoding"], s["height"], s["width"], s["channels"]) == ("bgra8", 10, 10, 4)
    assert s["fnv"] == fnv(np.ascontiguousarray(strided).tobytes())


def mapping_of(address):
    """The line of /proc/self/maps whose range holds address."""
    with open("/proc/self/maps") as f:
        for line in f:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo <= address < hi:
                return line.strip()
    return None


def test_image_c_to_numpy_without_copy(nodes, spawn):
    n = nodes("py.view")
    sub = n.subscribe("depth/**")
    pub = peer(spawn, "pub", "depth/image", 120, 160)
    assert pub.read() == {"published": True}
    msg = sub.take(WAIT)
    assert msg is not None and msg.status == 100 and msg.encoding == IMAGE
    img = ipcnet.sensor.decode(msg)
    assert isinstance(img, ipcnet.sensor.Image)
    assert (img.encoding, img.frame_id, img.stamp) == ("32FC1", "depth_optical",
                                                       1234567890123456789)
    assert (img.height, img.width, img.channels) == (120, 160, 1)
    assert img.camera_info.k[0] == 600 and img.camera_info.distortion_model == "plumb_bob"
    a = img.array
    assert a.shape == (120, 160, 1) and a.dtype == np.float32
    # No copy: the array is a read-only view of the message, in the memfd
    # the publisher shares.
    addr = a.__array_interface__["data"][0]
    assert not a.flags.owndata and not a.flags.writeable
    assert msg.shared and msg.address <= addr < msg.address + len(msg.data)
    assert addr == img.tensor.address and addr % 64 == 0
    where = mapping_of(addr)
    assert where is not None and "memfd:" in where, where
    y, x = np.mgrid[0:120, 0:160]
    np.testing.assert_array_equal(a[:, :, 0], (1000 * y + x).astype(np.float32))


def test_other_messages_python_to_c(nodes, spawn):
    sub = peer(spawn, "sub", "robot/**", 4)
    assert sub.read() == {"ready": True}
    mine = nodes("py.reader")
    back = mine.subscribe("robot/**")
    n = nodes("py.robot")
    imu = ipcnet.sensor.Imu(orientation=[0, 0, 0.7071067811865476, 0.7071067811865476],
                     angular_velocity=[0.01, -0.02, 0.5], linear_acceleration=[0.1, 0, 9.81],
                     orientation_covariance=[-1] + [0] * 8,
                     linear_acceleration_covariance=[0.04, 0, 0, 0, 0.04, 0, 0, 0, 0.04],
                     frame_id="imu_link", stamp=111)
    joints = ipcnet.sensor.JointState(["shoulder", "elbow", "wrist"], position=[0.1, -0.5, 1.25],
                               effort=np.array([1.0, 2.0, 3.0]), frame_id="base", stamp=222)
    pts = np.zeros(5, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("intensity", "<f4"),
                             ("ring", "<u2")])
    pts["x"], pts["ring"] = np.arange(5) * 0.5, np.arange(5) + 100
    cloud = ipcnet.sensor.PointCloud.from_points(pts, frame_id="lidar", stamp=333)
    info = camera()
    for path, kind in (("robot/imu", "imu"), ("robot/joints", "joint_state"),
                       ("robot/lidar", "pointcloud"), ("robot/camera_info", "camera_info")):
        n.announce(path, "stream", ipcnet.sensor.ENCODINGS[kind])
        n.wait_subscribers(path, 2, WAIT)
    n.publish_sensor("robot/imu", imu)
    n.publish_sensor("robot/joints", joints)
    n.publish_sensor("robot/lidar", cloud)
    n.publish_sensor("robot/camera_info", info)
    got = {}
    for _ in range(4):
        line = sub.read()
        assert "error" not in line, line
        got[line["kind"]] = line
    i = got["imu"]
    assert (i["stamp"], i["frame_id"]) == (111, "imu_link")
    assert i["orientation"] == imu.orientation and i["angular_velocity"] == [0.01, -0.02, 0.5]
    assert i["linear_acceleration_covariance"][8] == 0.04 and i["orientation_covariance"][0] == -1
    j = got["joint_state"]
    assert j["name"] == ["shoulder", "elbow", "wrist"] and j["position"] == [0.1, -0.5, 1.25]
    assert j["velocity"] == [] and j["effort"] == [1.0, 2.0, 3.0] and j["stamp"] == 222
    c = got["pointcloud"]
    assert (c["height"], c["width"], c["point_step"], c["frame_id"]) == (1, 5, 18, "lidar")
    assert c["fields"] == [["x", 0, "float32", 1], ["y", 4, "float32", 1],
                           ["z", 8, "float32", 1], ["intensity", 12, "float32", 1],
                           ["ring", 16, "uint16", 1]]
    assert c["fnv"] == fnv(pts.tobytes()) and c["is_dense"] and not c["is_bigendian"]
    k = got["camera_info"]
    assert k["stamp"] == info.stamp and k["info"]["k"] == [float(v) for v in info.k]
    # ... and a Python reader gets them back as the same objects.
    seen = {}
    for _ in range(4):
        m = back.take(WAIT)
        assert m is not None
        seen[m.path] = ipcnet.sensor.decode(m)
    assert seen["robot/imu"] == imu
    assert seen["robot/joints"] == ipcnet.sensor.JointState(joints.name, joints.position, [],
                                                     [1.0, 2.0, 3.0], "base", 222)
    assert seen["robot/camera_info"] == info
    p = seen["robot/lidar"]
    assert isinstance(p, ipcnet.sensor.PointCloud) and p.point_step == 18
    view = p.points()
    assert view.shape == (1, 5) and not view.flags.owndata
    np.testing.assert_array_equal(view["ring"][0], pts["ring"])
    np.testing.assert_array_equal(view["x"][0], pts["x"])


def test_refused(nodes, spawn):
    n = nodes("py.bad")
    rgb = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="pixel format"):
        n.publish_image("bad/a", rgb, "rgb9")
    with pytest.raises(ValueError, match="dtype"):
        n.publish_image("bad/a", rgb.astype(np.uint16), "rgb8")
    with pytest.raises(ValueError, match="channels"):
        n.publish_image("bad/a", rgb, "rgba8")
    with pytest.raises(ValueError, match="frame_id"):
        n.publish_image("bad/a", rgb, "rgb8", frame_id="x" * 300)
    with pytest.raises(ValueError):
        n.publish_sensor("bad/j", ipcnet.sensor.JointState(["a", "b"], position=[1.0]))
    with pytest.raises(TypeError):
        n.publish_sensor("bad/j", {"name": []})
    for kind in ipcnet.sensor.KINDS:
        with pytest.raises(ipcnet.BadRequest):
            ipcnet._ipcnet._sensor_check(kind, b"\xa1\x61x\x01")      # {"x": 1}
        with pytest.raises(ipcnet.BadRequest):
            ipcnet._ipcnet._sensor_check(kind, b"\xff")
    # A hostile "image" on an image stream: the C reader and the Python one
    # both refuse it.
    sub = peer(spawn, "sub", "bad/img", 1)
    assert sub.read() == {"ready": True}
    mine = nodes("py.badreader").subscribe("bad/img")
    n.announce("bad/img", "stream", IMAGE)
    n.wait_subscribers("bad/img", 2, WAIT)
    n._publish("bad/img", ipcnet.dumps({"encoding": "rgb8", "data": b"\x00" * 12}), "bytes")
    assert sub.read() == {"error": 200}
    m = mine.take(WAIT)
    with pytest.raises(ipcnet.BadRequest):
        ipcnet.sensor.decode(m)
    n.announce("bad/plain", "data")                      # no sensor message at all
    n.publish("bad/plain", {"x": 1})
    other = nodes("py.other")
    other.wait_for("bad/plain", timeout=WAIT)
    plain = other.query("bad/plain", WAIT)
    with pytest.raises(ValueError, match="no sensor message"):
        ipcnet.sensor.decode(plain)


def ffprobe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                        "-show_entries", "stream=nb_read_frames,width,height,r_frame_rate",
                        "-of", "json", path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["streams"][0]


def test_cli_writes_an_image_stream_as_video(nodes, net, tmp_path):
    if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
        pytest.fail("ffmpeg and ffprobe are needed (scripts/deps.sh installs them)")
    out = str(tmp_path / "out.mkv")
    rec = subprocess.Popen([CLI, "stream-recv", "cam/video", out, "--count", "12",
                            "--rate", "10", "--timeout", "20000"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        n = nodes("py.video")
        n.announce("cam/video", "stream", IMAGE)
        n.wait_subscribers("cam/video", 1, WAIT)
        for i in range(12):
            frame = np.zeros((48, 64, 3), np.uint8)
            frame[:, :, 0] = 20 * i
            frame[8:16, 4 * i:4 * i + 8] = 255
            n.publish_image("cam/video", frame, "rgb8", frame_id="cam", stamp=i * 100_000_000)
        so, se = rec.communicate(timeout=60)
    finally:
        if rec.poll() is None:
            rec.kill()
            rec.wait()
    assert rec.returncode == 0, se
    assert "received 12 samples" in so and "images 64x48 rgb8, 10 fps" in so, so
    s = ffprobe(out)
    assert (s["width"], s["height"], int(s["nb_read_frames"])) == (64, 48, 12)
    assert s["r_frame_rate"] == "10/1"


def test_cli_video_without_ffmpeg(nodes, net, tmp_path):
    # A PATH without ffmpeg: a clear error, not a hang or a broken file.
    out = str(tmp_path / "out.mkv")
    env = dict(os.environ, PATH=str(tmp_path))
    rec = subprocess.Popen([CLI, "stream-recv", "cam/video", out, "--count", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        n = nodes("py.video2")
        n.announce("cam/video", "stream", IMAGE)
        n.wait_subscribers("cam/video", 1, WAIT)
        n.publish_image("cam/video", np.zeros((4, 4), np.uint8), "mono8")
        so, se = rec.communicate(timeout=60)
    finally:
        if rec.poll() is None:
            rec.kill()
            rec.wait()
    assert rec.returncode == 1
    assert "203 Not Found: ffmpeg is not installed" in se, se
    assert not os.path.exists(out)


def test_cli_echo_prints_what_an_image_is(nodes, net):
    echo = subprocess.Popen([CLI, "echo", "cam/**", "--count", "2", "--timeout", "20000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    js = subprocess.Popen([CLI, "echo", "cam/**", "--count", "2", "--json", "--timeout",
                           "20000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        n = nodes("py.echo")
        n.announce("cam/e", "stream", IMAGE)
        n.announce("cam/p", "stream", ipcnet.sensor.ENCODINGS["pointcloud"])
        n.wait_subscribers("cam/e", 2, WAIT)
        n.wait_subscribers("cam/p", 2, WAIT)
        n.publish_image("cam/e", np.full((48, 64, 3), 7, np.uint8), "rgb8", frame_id="cam",
                        stamp=1_500_000_000_123_456_789, camera_info=camera())
        pts = np.zeros(3, dtype=[("x", "<f4"), ("y", "<f4")])
        n.publish_sensor("cam/p", ipcnet.sensor.PointCloud.from_points(pts, frame_id="l", stamp=2))
        out, err = echo.communicate(timeout=60)
        jout, jerr = js.communicate(timeout=60)
    finally:
        for p in (echo, js):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert echo.returncode == 0, err
    assert 'cam/e: image rgb8 64x48 (3 x uint8), frame "cam", stamp 1500000000.123456789, ' \
        'with camera_info, pixels xxh3 ' in out, out
    assert 'cam/p: pointcloud 3 points (3x1, 8 bytes each), fields x:float32,y:float32, ' \
        'frame "l", stamp 0.000000002' in out, out
    assert js.returncode == 0, jerr
    lines = [json.loads(line) for line in jout.splitlines()]
    img = [x for x in lines if x.get("path") == "cam/e"][0]["value"]
    assert (img["encoding"], img["width"], img["height"], img["channels"], img["frame_id"],
            img["camera_info"]) == ("rgb8", 64, 48, 3, "cam", True)
    cloud = [x for x in lines if x.get("path") == "cam/p"][0]["value"]
    assert cloud["fields"] == ["x", "y"] and cloud["width"] == 3
