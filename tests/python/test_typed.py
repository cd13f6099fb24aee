# SPDX-License-Identifier: MIT
"""Typed data and streams from Python (Node.announce(schema=),
ipcnet_schema.h): the type in the descriptor (Resource.schema, and `ipcnet
info` in another process), publish() and set() of another type raise
BadRequest and send nothing, an int is taken for a float."""
import json
import subprocess

import pytest

import ipcnet
from conftest import CLI

WAIT = 10.0
GAIN = {"map": {"gain": "float", "note": {"optional": "text"}}}


def pair(nodes):
    a = nodes("a")
    b = nodes("b")
    b.wait_peers(1, WAIT)
    a.wait_peers(1, WAIT)
    return a, b


def test_typed_data(nodes):
    a, b = pair(nodes)
    assert a.announce("ctl/gain", "data", meta={"units": "dB"}, schema=GAIN) is True
    a.publish("ctl/gain", {"gain": 1})  # an int for a float
    with pytest.raises(ipcnet.BadRequest):
        a.publish("ctl/gain", {"gain": "loud"})
    b.wait_for("ctl/gain", timeout=WAIT)
    r = b.find("ctl/gain")[0]
    assert r.schema == GAIN and r.meta == {"units": "dB", "schema": GAIN}
    assert b.query("ctl/gain", WAIT).value == {"gain": 1}
    with pytest.raises(ipcnet.BadRequest):
        b.set("ctl/gain", {"gain": 1, "other": 2}, timeout=WAIT)
    assert b.query("ctl/gain", WAIT).value == {"gain": 1}
    b.set("ctl/gain", {"gain": 0.5, "note": "quiet"}, timeout=WAIT)
    assert b.query("ctl/gain", WAIT).value == {"gain": 0.5, "note": "quiet"}
    assert a.stats().typed_refused == 2
    assert b.stats().typed_dropped == 0

    # another process sees the type: `ipcnet info --json`
    out = subprocess.run([CLI, "info", "ctl/gain", "--json"], capture_output=True,
                         text=True, timeout=WAIT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["schema"] == GAIN


def test_typed_stream(nodes):
    a, b = pair(nodes)
    a.announce("s/pose", "stream", schema={"map": {"x": "float", "y": "float"}})
    b.wait_for("s/pose", timeout=WAIT)
    with b.subscribe("s/pose") as q:
        a.wait_subscribers("s/pose", 1, WAIT)
        a.publish("s/pose", {"x": 1.5, "y": 2})
        for bad in ({"x": 1.5}, {"x": "1", "y": 2}, [1.5, 2], None):
            with pytest.raises(ipcnet.BadRequest):
                a.publish("s/pose", bad)
        a.publish("s/pose", {"x": 0, "y": -1.25})
        assert q.take(WAIT).value == {"x": 1.5, "y": 2}
        m = q.take(WAIT)
        assert m.value == {"x": 0, "y": -1.25} and m.seq == 2  # no gap
        assert q.take(0) is None
        s = q.stats()
        assert s.received == 2 and s.nonconforming == 0 and s.lost == 0
    assert a.stats().typed_refused == 4
    # an untyped resource has no schema
    a.announce("s/plain", "stream", meta={"rate": 5})
    assert a.find("s/plain")[0].schema is None


def test_announce_schema_errors(nodes):
    a = nodes("a")
    with pytest.raises(ipcnet.BadRequest):
        a.announce("x/y", "stream", schema="real")  # not a type
    with pytest.raises(ipcnet.BadRequest):
        a.announce("x/y", "stream", "text/plain", schema="text")  # values not CBOR
    with pytest.raises(TypeError):
        a.announce("x/y", "stream", meta=b"\xa0", schema="text")
    with pytest.raises(ValueError):
        a.announce("x/y", "stream", meta={"schema": "int"}, schema="text")
    # the type given in meta is the same thing
    a.announce("x/y", "stream", meta={"schema": "text"})
    with pytest.raises(ipcnet.BadRequest):
        a.publish("x/y", 3)
    a.publish("x/y", "three")
    assert a.find("x/y")[0].schema == "text"


def test_info_prints_types(nodes):
    """`ipcnet info` (another process) prints a typed service's args and
    returns, and a typed stream's schema, as trees of field types and names."""
    a = nodes("a")

    @a.offer("svc/move", args={"map": {"v": "float", "at": {"optional": {"array": "float"}}}},
             returns="bool")
    def move(req):
        return True
    a.announce("s/imu", "stream", schema={"map": {"acc": {"map": {"x": "float"}},
                                                  "stamp": "uint"}})
    out = subprocess.run([CLI, "info", "svc/move"], capture_output=True, text=True,
                         timeout=WAIT)
    assert out.returncode == 0, out.stderr
    assert ("args      map\n            float v\n            float[] at  (optional)\n"
            "returns   bool\n") in out.stdout
    out = subprocess.run([CLI, "info", "s/imu"], capture_output=True, text=True, timeout=WAIT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith("schema    map\n            map acc\n              float x\n"
                               "            uint stamp\n")
