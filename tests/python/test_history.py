# SPDX-License-Identifier: MIT
"""The debug history of data resources in Python (ipcnet_history.h):
announce_history(), history() listing the versions published by the
provider and set by another node with who set each and their exact bytes,
query_version() for a past value, the bound, and history off."""
import os

import pytest

import ipcnet

from conftest import WAIT


def test_history_lists_who_set_what(nodes):
    a = nodes("hist-a")
    a.announce("h/gain", "data")
    a.announce_history("h/gain", 3)
    a.publish("h/gain", 1)
    b = nodes("hist-b")
    b.wait_for("h/gain", timeout=WAIT)
    assert b.set("h/gain", {"k": "two"}, timeout=WAIT) == 2
    a.publish("h/gain", 3)
    for h in (a.history("h/gain", timeout=WAIT), b.history("h/gain", timeout=WAIT)):
        assert h["node"] == "hist-a" and h["path"] == "h/gain"
        assert h["depth"] == 3 and h["current"] == 3 and h["dropped"] == 0
        es = h["entries"]
        assert [e["version"] for e in es] == [1, 2, 3]
        assert [e["setter"] for e in es] == ["hist-a", "hist-b", "hist-a"]
        assert [e["via"] for e in es] == ["publish", "set", "publish"]
        assert all(e["pid"] == os.getpid() and e["wall_ns"] > 0 for e in es)
        assert es[0]["data"] == b"\x01" and es[2]["data"] == b"\x03"
    m = b.query_version("h/gain", 2, timeout=WAIT)
    assert m.seq == 2 and m.value == {"k": "two"}
    # Without the values: sizes only.
    h = b.history("h/gain", values=False, timeout=WAIT)
    assert [e["data"] for e in h["entries"]] == [None, None, None]
    assert h["entries"][0]["size"] == 1
    # The bound: the oldest go, counted.
    a.publish("h/gain", 4)
    h = b.history("h/gain", timeout=WAIT)
    assert [e["version"] for e in h["entries"]] == [2, 3, 4] and h["dropped"] == 1
    with pytest.raises(ipcnet.NotFound):
        b.query_version("h/gain", 1, timeout=WAIT)


def test_history_off(nodes):
    a = nodes("hist-off")
    a.announce("o/d", "data")
    a.publish("o/d", 1)
    with pytest.raises(ipcnet.MethodNotAllowed):
        a.history("o/d")
    with pytest.raises(ipcnet.MethodNotAllowed):
        a.query_version("o/d", 1)
    with pytest.raises(ipcnet.NotFound):
        a.history("o/none")
    with pytest.raises(ipcnet.BadRequest):
        a.announce_history("o/d", 5000)
