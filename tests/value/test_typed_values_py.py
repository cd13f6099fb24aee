# SPDX-License-Identifier: MIT
"""Issue 4's "done when", Python side: a C process publishes a map, a tensor
and a video frame with their encodings; Python (cbor2 and NumPy) decodes each.

The C process is build/bin/ipcn-test-t_typed_pub (tests/integration/helpers/
t_typed_pub.c); the values are fetched with `ipcnet query PATH --json` (for
the encoding) and `ipcnet query PATH --raw` (for the bytes).  Run with
Debian's interpreter:

    IPCN_BINDIR=build/bin /usr/bin/python3 -m pytest -q tests/value/test_typed_values_py.py

ctest runs it as test_typed_values_py (IPCN_BINDIR set by CMake).
"""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

cbor2 = pytest.importorskip("cbor2")
np = pytest.importorskip("numpy")

BINDIR = os.environ.get("IPCN_BINDIR", "build/bin")
CLI = os.path.join(BINDIR, "ipcnet")
PUB = os.path.join(BINDIR, "ipcn-test-t_typed_pub")

# RFC 8746 typed-array tags: tag -> numpy dtype string
TYPED_ARRAY = {64: "u1", 65: ">u2", 66: ">u4", 67: ">u8", 68: "u1", 69: "<u2",
               70: "<u4", 71: "<u8", 72: "i1", 73: ">i2", 74: ">i4", 75: ">i8",
               77: "<i2", 78: "<i4", 79: "<i8", 80: ">f2", 81: ">f4", 82: ">f8",
               84: "<f2", 85: "<f4", 86: "<f8"}


@pytest.fixture(scope="module")
def net():
    """A private network with the C publisher in it."""
    for exe in (CLI, PUB):
        if not os.access(exe, os.X_OK):
            pytest.fail("%s is not built (IPCN_BINDIR=%s)" % (exe, BINDIR))
    d = tempfile.mkdtemp(prefix="ipcn-typed-py-")
    env = dict(os.environ, IPCNET_DIR=d, IPCNET_NETWORK="typedpy")
    p = subprocess.Popen([PUB, "typed-pub", "60"], env=env, stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    try:
        line = p.stdout.readline()
        assert line.strip() == "ready", "the publisher did not get ready: %r" % line
        yield env
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()
        shutil.rmtree(d, ignore_errors=True)


def query(env, path):
    """(encoding, raw bytes) of the data resource at path."""
    j = subprocess.run([CLI, "query", path, "--json"], env=env, capture_output=True,
                       timeout=30, check=True)
    doc = json.loads(j.stdout)
    r = subprocess.run([CLI, "query", path, "--raw"], env=env, capture_output=True,
                       timeout=30, check=True)
    assert doc["size"] == len(r.stdout)
    assert doc["provider"] == "typed-pub"
    return doc["encoding"], r.stdout


def tensor_from_cbor(item):
    """A numpy array from 40([shape, typed-array]) as cbor2 decodes it."""
    assert isinstance(item, cbor2.CBORTag) and item.tag == 40
    shape, arr = item.value
    assert isinstance(arr, cbor2.CBORTag) and arr.tag in TYPED_ARRAY
    return np.frombuffer(arr.value, dtype=TYPED_ARRAY[arr.tag]).reshape(shape)


def test_map(net):
    enc, data = query(net, "typed/map")
    assert enc == "cbor"
    v = cbor2.loads(data)
    assert v == {"name": "arm-7", "count": 42, "neg": -1000, "ratio": 0.15625,
                 "pi": 3.141592653589793, "ok": True, "none": None,
                 "blob": b"\x00\x01\x02\x03\xfe", "list": [1, "two", 3.5]}
    assert list(v) == ["name", "count", "neg", "ratio", "pi", "ok", "none", "blob",
                       "list"]  # the writer keeps the order


def test_tensor(net):
    enc, data = query(net, "typed/tensor")
    assert enc == "tensor"
    item = cbor2.loads(data)
    assert item.value[1].tag == 85  # float32, little endian (RFC 8746)
    a = tensor_from_cbor(item)
    assert a.dtype == np.dtype("<f4")
    assert a.shape == (2, 3, 4)
    want = (np.arange(24, dtype=np.float32) * np.float32(0.5) - np.float32(3)).reshape(2, 3, 4)
    assert np.array_equal(a, want)
    assert a[1, 2, 3] == np.float32(8.5)


def test_frame(net):
    enc, data = query(net, "typed/frame")
    assert enc == "video/raw;format=rgb24;width=4;height=2"
    params = dict(p.split("=", 1) for p in enc.split(";")[1:])
    w, h = int(params["width"]), int(params["height"])
    assert (params["format"], w, h) == ("rgb24", 4, 2)
    assert len(data) == w * h * 3
    img = np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)
    y, x, c = np.indices((h, w, 3))
    assert np.array_equal(img, (100 * y + 10 * x + c).astype(np.uint8))
