# SPDX-License-Identifier: MIT
"""Waiting in Python: the calls that wait sleep (also on a node without its
thread whose events wait for dispatch); a script that publishes without
ever calling start() or dispatch() reaches a subscriber in another process;
close() ends the waits of other threads at once with ServiceUnavailable.

No timing assertions: a busy wait is told by the process's CPU time against
the wall time of a wait that receives nothing (a bound on a bug that uses
all of it), a hang by a generous deadline far below the waits' own."""
import concurrent.futures
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import ipcnet
from conftest import WAIT

CPU_SHARE_MAX = 0.2  # of the wall time: a busy loop uses all of it


class Slept:
    """with Slept("what"): the process used little CPU inside the block."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self.cpu, self.wall = time.process_time(), time.monotonic()
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            return False
        cpu = time.process_time() - self.cpu
        wall = time.monotonic() - self.wall
        assert cpu <= CPU_SHARE_MAX * wall, (
            "%s used %.3f s of CPU in %.3f s: it does not sleep" % (self.what, cpu, wall))
        return False


def hole_provider(nodes, name, path):
    """A node (with its thread) offering path, a service that never answers;
    returns (node, a list of the requests that arrived)."""
    p = nodes(name, start=True)
    arrived = []
    futures = []

    @p.offer(path)
    def hole(req):
        f = concurrent.futures.Future()  # never completed
        futures.append(f)
        arrived.append(req)
        return f
    return p, arrived


def test_waits_sleep_without_thread(nodes):
    events = []
    p, _ = hole_provider(nodes, "ws.p", "ws/hole")
    p.announce("ws/s", "stream")
    a = nodes("ws.a", start=False, on_event=events.append)
    sub = a.subscribe("ws/none")
    live = a.subscribe("ws/s")
    a.wait_peers(1, WAIT)  # no callback runs here: the events wait
    assert a.find("ws/hole")
    assert events == []

    with Slept("take"):
        assert sub.take(1.0) is None
    with Slept("wait_peers"):
        with pytest.raises(ipcnet.Timeout):
            a.wait_peers(2, 1.0)
    with Slept("request"):
        with pytest.raises(ipcnet.Timeout):
            a.request("ws/hole", "x", timeout=1.0)

    # Asleep, a wait still wakes for what comes.
    p.wait_subscribers("ws/s", 1, WAIT)
    p.publish("ws/s", "hello")
    msg = live.take(WAIT)
    assert msg is not None and msg.value == "hello"
    # And dispatch() delivers the events that waited.
    a.dispatch(0)
    assert any(e.type == "peer_up" for e in events)


def test_waits_sleep_with_thread(nodes):
    p, _ = hole_provider(nodes, "wt.p", "wt/hole")
    a = nodes("wt.a", start=True, on_event=lambda e: None)
    sub = a.subscribe("wt/none")
    a.wait_peers(1, WAIT)
    with Slept("take"):
        assert sub.take(1.0) is None
    with Slept("wait_peers"):
        with pytest.raises(ipcnet.Timeout):
            a.wait_peers(2, 1.0)
    with Slept("request"):
        with pytest.raises(ipcnet.Timeout):
            a.request("wt/hole", "x", timeout=1.0)


PUBLISHER = textwrap.dedent("""
    import sys, time, ipcnet
    node = ipcnet.Node("nt.pub")          # the first script of every user
    node.announce("nt/s", "stream")
    print("ready", flush=True)
    end = time.monotonic() + float(sys.argv[1])
    i = 0
    while time.monotonic() < end:
        node.publish("nt/s", i)
        i += 1
        time.sleep(0.01)
""")


def test_publisher_without_start_reaches_subscriber(nodes):
    s = nodes("nt.sub", start=True)
    sub = s.subscribe("nt/s")
    p = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(2 * WAIT)],
                         stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert p.stdout.readline().strip() == "ready"
        msg = sub.take(WAIT)
        assert msg is not None, "the publisher's samples never came"
        assert msg.path == "nt/s" and msg.src == "nt.pub"
        assert isinstance(msg.value, int)
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("start", [False, True])
def test_close_ends_waits(nodes, start):
    p, arrived = hole_provider(nodes, "wc.p", "wc/hole")
    a = ipcnet.Node("wc.a", start=start, on_event=lambda e: None)
    try:
        a.wait_peers(1, WAIT)
        sub = a.subscribe("wc/none")
        results = {}

        def run(key, fn):
            try:
                results[key] = fn()
            except BaseException as e:  # noqa: B902 - the test looks at it
                results[key] = e

        def iterate():
            return list(sub)

        calls = {
            "request-forever": lambda: a.request("wc/hole", "x", timeout=None),
            "request-60": lambda: a.request("wc/hole", "y", timeout=60.0),
            "take-forever": lambda: sub.take(None),
            "wait_peers-forever": lambda: a.wait_peers(5, None),
            "iterate": iterate,
        }
        def dispatch_loop():  # an application's own loop
            while a.dispatch(None):
                pass
            return "ended"

        if not start:
            calls["dispatch-forever"] = dispatch_loop
        threads = [threading.Thread(target=run, args=(k, f), daemon=True)
                   for k, f in calls.items()]
        for t in threads:
            t.start()
        deadline = time.monotonic() + WAIT
        while len(arrived) < 2:  # both requests wait for their answer
            assert time.monotonic() < deadline, "the requests did not arrive"
            time.sleep(0.005)
        time.sleep(0.2)  # and the others are in their waits

        closer = threading.Thread(target=a.close, daemon=True)
        closer.start()
        closer.join(WAIT)
        assert not closer.is_alive(), "close() hangs while requests wait"
        for t in threads:
            t.join(WAIT)
            assert not t.is_alive()
        for key in ("request-forever", "request-60", "wait_peers-forever"):
            e = results[key]
            assert isinstance(e, ipcnet.ServiceUnavailable), (key, e)
            assert e.status == 303
        assert results["take-forever"] is None
        assert results.get("dispatch-forever", "ended") == "ended"
        assert results["iterate"] == []
        assert a.closed
    finally:
        a.close()
