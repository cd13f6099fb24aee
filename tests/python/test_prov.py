# SPDX-License-Identifier: MIT
"""Provenance in Python (ipcnet_prov.h, docs/protocol.md 20): a stream
with provenance on, a value published as derived from a received Message,
Message.provenance, prov_verify() back to the origin, a pass-through that
changed its input caught (Forbidden), PROV-JSON, and no record without
provenance."""
import json
import time

import pytest

import ipcnet

from conftest import WAIT


def take_path(sub, path):
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        m = sub.take(WAIT)
        if m is not None and m.path == path:
            return m
    raise AssertionError("no sample of %s" % path)


def test_derived_verifies_and_a_lie_is_caught(nodes):
    cam, det, ver = nodes("pcam"), nodes("pdet"), nodes("pver")
    cam.announce("p/cam", "stream")
    cam.announce("p/plain", "stream")
    cam.prov_enable("p/cam")
    det.announce("p/det", "stream")
    det.announce("p/pass", "stream")
    frames = det.subscribe("p/cam")
    seen = ver.subscribe("p/*")
    det.wait_for("p/cam", timeout=WAIT)
    ver.wait_for("p/pass", timeout=WAIT)
    ver.wait_for("p/plain", timeout=WAIT)
    frame = None
    end = time.monotonic() + WAIT
    while frame is None and time.monotonic() < end:  # until the links carry it
        cam.publish("p/cam", {"frame": 1})
        frame = frames.take(0.1)
    assert frame is not None and isinstance(frame.provenance, bytes)
    det.publish_derived("p/det", {"boxes": [1, 2]}, [frame])
    det.publish_derived("p/pass", {"frame": 2}, [frame], passthrough=True)
    d = take_path(seen, "p/det")
    assert ver.prov_verify(d, WAIT) == (2, 1)
    doc = json.loads(ver.prov_export(d, WAIT))
    assert len(doc["wasDerivedFrom"]) == 1
    assert sorted(a["ipcn:name"] for a in doc["agent"].values()) == ["pcam", "pdet"]
    p = take_path(seen, "p/pass")
    with pytest.raises(ipcnet.Forbidden) as e:
        ver.prov_verify(p, WAIT)
    assert "pass-through" in str(e.value)
    cam.publish("p/plain", 1)
    plain = take_path(seen, "p/plain")
    assert plain.provenance is None
    with pytest.raises(ipcnet.NoData):
        ver.prov_verify(plain, WAIT)
    with pytest.raises(ipcnet.NoData):  # a parent must carry a record
        det.publish_derived("p/det", 1, [plain])
