# SPDX-License-Identifier: MIT
"""Late subscribers and wait_for() in Python (ipcnet.h "Late subscribers",
ipcn_wait_for()): a data resource's current value and a stream's kept
samples first, history=False, announce(keep=...), SubStats.history; a
wait for a resource that another node announces later, with and without
the node's thread, and its timeout."""
import threading

import pytest

import ipcnet

from conftest import WAIT


def test_late_subscriber_gets_what_is_kept(nodes):
    a = nodes("a")
    a.announce("k/data", "data")
    a.announce("k/stream", "stream", keep=3)
    a.announce("k/quiet", "data", keep=0)
    a.publish("k/data", {"v": 1})
    a.publish("k/data", {"v": 2})
    a.publish("k/quiet", 7)
    for i in range(1, 6):
        a.publish("k/stream", i)
    b = nodes("b")
    res = b.wait_for("k/stream", "stream", timeout=WAIT)
    assert [r.path for r in res] == ["k/stream"]
    b.wait_for("k/quiet", timeout=WAIT)
    sub = b.subscribe("k/*")
    fresh = b.subscribe("k/*", history=False)
    got = [sub.take(WAIT) for _ in range(4)]
    assert sorted((m.path, m.seq) for m in got) == [
        ("k/data", 2), ("k/stream", 3), ("k/stream", 4), ("k/stream", 5)]
    assert [m.value for m in got if m.path == "k/stream"] == [3, 4, 5]
    assert [m.value for m in got if m.path == "k/data"] == [{"v": 2}]
    a.publish("k/data", {"v": 3})
    m = sub.take(WAIT)
    assert (m.path, m.seq, m.value) == ("k/data", 3, {"v": 3})
    m = fresh.take(WAIT)  # only what came after it subscribed
    assert (m.path, m.seq) == ("k/data", 3)
    assert sub.stats().history == 4 and fresh.stats().history == 0
    assert sub.take(0.05) is None and fresh.take(0.05) is None
    with pytest.raises(ValueError):
        a.announce("k/x", "stream", keep=-1)
    with pytest.raises(ipcnet.BadRequest):
        a.announce("k/x", "service", keep=1)


def test_wait_for_a_later_node(nodes):
    for start in (True, False):
        w = nodes("w%d" % start, start=start)
        with pytest.raises(ipcnet.Timeout):
            w.wait_for("late/%d" % start, timeout=0.05)

        def later():
            p = ipcnet.Node("p%d" % start)
            p.announce("late/%d" % start, "stream")
            done.wait(WAIT)
            p.close()
        done = threading.Event()
        t = threading.Thread(target=later)
        t.start()
        try:
            res = w.wait_for("late/*", "stream", timeout=WAIT)
            assert [(r.path, r.provider) for r in res] == [
                ("late/%d" % start, "p%d" % start)]
        finally:
            done.set()
            t.join(WAIT)
