# SPDX-License-Identifier: MIT
"""Nodes in one process: every verb, errors as exceptions with their status,
threads and the GIL, callbacks that raise, dispatch() without a thread."""
import concurrent.futures
import hashlib
import os
import sys
import threading
import time

import pytest

import ipcnet

WAIT = 10.0


def pair(nodes, start=True):
    a = nodes("a", start=start)
    b = nodes("b", start=start)
    b.wait_peers(1, WAIT)
    a.wait_peers(1, WAIT)
    return a, b


def test_open_close_and_names(nodes):
    with ipcnet.Node("ctx") as n:
        assert n.name == "ctx" and isinstance(n.id, int) and not n.closed
        assert n.dir
        with pytest.raises(ipcnet.Conflict) as e:
            ipcnet.Node("ctx")
        assert e.value.status == 207
    assert n.closed
    with pytest.raises(ValueError):
        n.find()
    n.close()  # closing twice is fine
    with pytest.raises(ipcnet.BadRequest):
        ipcnet.Node("bad name!")
    assert ipcnet.Node().name.startswith("python.")


def test_announce_find_withdraw(nodes):
    a, b = pair(nodes)
    assert a.announce("robot/arm/state", "data", meta={"units": "rad"}) is True
    assert a.announce("robot/arm/state", "data", meta={"units": "deg"}) is False
    a.announce("cam/front", "stream", "video/raw;format=rgb24;width=4;height=2",
               meta=b"\xff\x00")
    b.wait_for("cam/front", timeout=WAIT)
    b._poll(lambda: b.find("robot/arm/state")[0].version == 2, WAIT, "re-announce")
    found = {r.path: r for r in b.find("**")}
    st = found["robot/arm/state"]
    assert (st.kind, st.encoding, st.meta, st.provider, st.provider_id) == \
        ("data", "cbor", {"units": "deg"}, "a", a.id)
    assert found["cam/front"].meta == b"\xff\x00" and found["cam/front"].kind == "stream"
    assert [r.path for r in b.find("robot/*/state", kind="data")] == ["robot/arm/state"]
    assert b.find("robot/*/state", kind="stream") == []
    with pytest.raises(ValueError):
        b.find("**", kind="nonsense")
    with pytest.raises(ipcnet.BadRequest):
        a.announce("bad//path", "data")
    a.withdraw("cam/front")
    with pytest.raises(ipcnet.NotFound):
        a.withdraw("cam/front")


def test_publish_subscribe_iterator_and_callback(nodes):
    a, b = pair(nodes)
    a.announce("s/x", "stream")
    a.announce("s/text", "stream", "text/plain")
    got = []
    done = threading.Event()

    def on_sample(msg):
        got.append((msg.path, msg.value, msg.seq))
        if len(got) == 3:
            done.set()
    cb = b.subscribe("s/*", on_sample)
    with b.subscribe("s/x") as q:
        a.wait_subscribers("s/x", 1, WAIT)
        a.wait_subscribers("s/text", 1, WAIT)
        a.publish("s/x", {"n": 1})
        a.publish("s/x", [1.5, None])
        a.publish("s/text", "hello")
        m1 = q.take(WAIT)
        m2 = next(iter(q))
        assert (m1.value, m1.encoding, m1.src, m1.status, m1.seq) == ({"n": 1}, "cbor", "a", 100, 1)
        assert m2.value == [1.5, None] and m2.seq == 2 and m2.timestamp_ns > 0
        assert bytes(m2.data) == ipcnet.dumps([1.5, None])
        assert m2.data.readonly
        assert q.take(0) is None
        assert q.stats().delivered == 2
    assert done.wait(WAIT)
    cb.unsubscribe()
    assert sorted(got, key=repr) == sorted([("s/text", "hello", 1), ("s/x", {"n": 1}, 1),
                                            ("s/x", [1.5, None], 2)], key=repr)
    with pytest.raises(ipcnet.NotFound):
        a.publish("not/announced", 1)


def test_withdraw_is_seen_by_subscribers(nodes):
    a, b = pair(nodes)
    a.announce("w/s", "stream")
    sub = b.subscribe("w/s")
    a.wait_subscribers("w/s", 1, WAIT)
    a.publish("w/s", 1)
    assert sub.take(WAIT).value == 1
    a.withdraw("w/s")
    m = sub.take(WAIT)
    assert m.status == 303 and m.path == "w/s" and m.value is None


def test_iteration_ends_on_unsubscribe(nodes):
    a, b = pair(nodes)
    sub = b.subscribe("never/**")
    seen = []
    t = threading.Thread(target=lambda: seen.extend(sub))
    t.start()
    sub.unsubscribe()
    t.join(WAIT)
    assert not t.is_alive() and seen == []


def test_query(nodes):
    a, b = pair(nodes)
    a.announce("d/v", "data")
    b.wait_for("d/v", timeout=WAIT)
    with pytest.raises(ipcnet.NoData):
        b.query("d/v", WAIT)
    a.publish("d/v", {"joints": [0.1, -0.5]})
    m = b.query("d/v", WAIT)
    assert m.value == {"joints": [0.1, -0.5]} and m.src == "a"
    assert a.query("d/v").value == {"joints": [0.1, -0.5]}  # local: no I/O
    with pytest.raises(ipcnet.NotFound) as e:
        b.query("d/none", WAIT)
    assert e.value.status == 203
    a.announce("d/stream", "stream")
    b.wait_for("d/stream", timeout=WAIT)
    with pytest.raises(ipcnet.MethodNotAllowed):
        b.query("d/stream", WAIT)


def test_set(nodes):
    a, b = pair(nodes)
    a.announce("d/gain", "data")  # cbor
    a.announce("d/s", "stream")
    b.wait_for("d/gain", timeout=WAIT)
    b.wait_for("d/s", timeout=WAIT)
    with b.subscribe("d/gain") as sub:
        # encoded as the resource's encoding (cbor), found in the directory
        assert b.set("d/gain", {"k": 0.5}, timeout=WAIT) == 1
        m = sub.take(WAIT)
        assert m.value == {"k": 0.5} and m.src == "a" and m.seq == 1
        assert m.encoding == "cbor"
    assert b.query("d/gain", WAIT).value == {"k": 0.5}
    with pytest.raises(ipcnet.Conflict) as e:
        b.set("d/gain", 1, expect_version=5, timeout=WAIT)
    assert e.value.status == 207 and e.value.version == 1
    assert b.set("d/gain", 2, expect_version=e.value.version, timeout=WAIT) == 2
    assert a.query("d/gain").value == 2
    assert a.set("d/gain", 3) == 3  # this node's own: no I/O
    assert b.query("d/gain", WAIT).seq == 3
    with pytest.raises(ipcnet.BadRequest):  # not the resource's encoding
        b.set("d/gain", "text", encoding="text/plain", timeout=WAIT)
    with pytest.raises(ipcnet.MethodNotAllowed):
        b.set("d/s", 1, timeout=WAIT)
    with pytest.raises(ipcnet.NotFound):
        b.set("d/none", 1, timeout=WAIT)
    with pytest.raises(OverflowError):
        b.set("d/gain", 1, expect_version=-1)
    assert b.query("d/gain", WAIT).value == 3


def test_set_checked(nodes):
    a, b = pair(nodes)
    a.announce("d/limit", "data")
    seen = []

    @a.on_set("d/limit")
    def check(msg):
        seen.append((msg.value, msg.src, msg.encoding))
        if msg.value > 10:
            raise ipcnet.BadRequest("over 10")
        return msg.value != 7  # False: Forbidden
    b.wait_for("d/limit", timeout=WAIT)
    assert b.set("d/limit", 5, timeout=WAIT) == 1
    with pytest.raises(ipcnet.BadRequest):
        b.set("d/limit", 11, timeout=WAIT)
    with pytest.raises(ipcnet.Forbidden):
        b.set("d/limit", 7, timeout=WAIT)
    assert seen == [(5, "b", "cbor"), (11, "b", "cbor"), (7, "b", "cbor")]
    assert b.query("d/limit", WAIT).value == 5
    assert a.set("d/limit", 6) == 2  # this node's own: checked here too
    assert seen[-1] == (6, "a", "cbor")
    a.remove_on_set("d/limit")
    assert b.set("d/limit", 7, timeout=WAIT) == 3
    assert len(seen) == 4
    with pytest.raises(ipcnet.NotFound):
        a.on_set("d/none", check)
    with pytest.raises(TypeError):
        a.on_set("d/limit", 42)


def test_services(nodes):
    a, b = pair(nodes)

    @a.offer("svc/add")
    def add(req):
        return req.value["a"] + req.value["b"]
    assert add.__name__ == "add"  # the decorator gives the function back

    a.offer("svc/text", lambda req: "you said " + req.value)
    a.offer("svc/status", lambda req: ipcnet.Reply({"why": "later"}, status=1042))
    a.offer("svc/nf", lambda req: (_ for _ in ()).throw(ipcnet.NotFound("no user 7")))
    a.offer("svc/none", lambda req: None)
    a.offer("svc/tensor", lambda req: req.value)
    b.wait_for("svc/tensor", timeout=WAIT)

    assert b.request("svc/add", {"a": 2, "b": 40}).value == 42
    r = b.request("svc/text", "hi")
    assert r.value == "you said hi" and r.encoding == "text/plain"
    with pytest.raises(ipcnet.Error) as e:
        b.request("svc/status", 1)
    assert e.value.status == 1042 and e.value.reply.value == {"why": "later"}
    with pytest.raises(ipcnet.NotFound) as e:
        b.request("svc/nf", 1)
    assert e.value.text == "no user 7"
    assert b.request("svc/none").value is None
    with pytest.raises(ipcnet.NotFound):
        b.request("svc/missing", 1, timeout=WAIT)
    a.announce("svc/notaservice", "data")
    b.wait_for("svc/notaservice", timeout=WAIT)
    with pytest.raises(ipcnet.MethodNotAllowed):
        b.request("svc/notaservice", 1)
    with pytest.raises(ipcnet.Conflict):
        a.offer("svc/add", add)


def test_typed_service(nodes):
    a, b = pair(nodes)

    @a.offer("svc/mul", args={"map": {"x": "number", "y": "number"}}, returns="number")
    def mul(req):
        return req.value["x"] * req.value["y"]
    b.wait_for("svc/mul", timeout=WAIT)
    assert b.request("svc/mul", {"x": 3, "y": 1.5}).value == 4.5
    with pytest.raises(ipcnet.BadRequest) as e:
        b.request("svc/mul", {"x": "three", "y": 1})
    assert "args.x" in e.value.text
    (r,) = b.find("svc/mul")
    assert r.meta == {"args": {"map": {"x": "number", "y": "number"}}, "returns": "number"}


def test_request_timeout_and_deferred_answers(nodes):
    a, b = pair(nodes)
    never = concurrent.futures.Future()
    later = concurrent.futures.Future()
    a.offer("svc/never", lambda req: never)
    a.offer("svc/later", lambda req: later)
    b.wait_for("svc/later", timeout=WAIT)
    with pytest.raises(ipcnet.Timeout) as e:
        b.request("svc/never", 1, timeout=0.2)
    assert isinstance(e.value, TimeoutError) and e.value.status == 304
    fut = b.request_async("svc/later", 1, timeout=WAIT)
    assert not fut.done()
    later.set_result({"done": True})
    assert fut.result(WAIT).value == {"done": True}


def test_request_async(nodes):
    a, b = pair(nodes)
    a.offer("svc/echo", lambda req: req.value)
    a.offer("svc/fail", lambda req: ipcnet.Reply("nope", status=1001))
    b.wait_for("svc/fail", timeout=WAIT)
    futs = [b.request_async("svc/echo", i, WAIT) for i in range(10)]
    assert [f.result(WAIT).value for f in futs] == list(range(10))
    f = b.request_async("svc/fail", 0, WAIT)
    with pytest.raises(ipcnet.Error) as e:
        f.result(WAIT)
    assert e.value.status == 1001
    with pytest.raises(ipcnet.NotFound):
        b.request_async("svc/missing", 1)
    # Cancelling a request that cannot complete cancels it in the library.
    never = concurrent.futures.Future()
    a.offer("svc/never", lambda req: never)
    b.wait_for("svc/never", timeout=WAIT)
    f = b.request_async("svc/never", 1, WAIT)
    assert f.cancel()


def test_dispatch_without_thread(nodes):
    a = nodes("a", start=False)
    b = nodes("b", start=False)
    a.offer("svc/add1", lambda req: req.value + 1)
    fut = None
    # Both nodes are dispatched by this thread only.
    for _ in range(1000):
        a.dispatch(0.01)
        b.dispatch(0.01)
        if b.find("svc/add1"):
            break
    fut = b.request_async("svc/add1", 41, WAIT)
    for _ in range(1000):
        if fut.done():
            break
        a.dispatch(0.01)
        b.dispatch(0.01)
    assert fut.result(0).value == 42
    assert a.dispatch(0) in (True, False)
    a.start()
    with pytest.raises(ipcnet.ServiceUnavailable):
        a.dispatch(0)
    a.stop()
    with pytest.raises(ipcnet.NotFound):
        a.stop()


def test_gil_released_while_waiting(nodes):
    """A Python thread keeps running while the main thread waits in
    request(): the service answers only after that thread publishes, after
    the request arrived (no timing involved: with the GIL held, the request
    would time out)."""
    a, b = pair(nodes)
    pending = []
    lock = threading.Lock()

    def slow(req):
        f = concurrent.futures.Future()
        with lock:
            pending.append(f)
        return f

    def on_go(msg):
        with lock:
            done, pending[:] = pending[:], []
        for f in done:
            f.set_result(msg.value)
    a.offer("svc/slow", slow)
    a.subscribe("gil/go", on_go)
    b.announce("gil/go", "stream")
    b.wait_for("svc/slow", timeout=WAIT)
    b.wait_subscribers("gil/go", 1, WAIT)
    stop = threading.Event()
    ticks = []

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            b.publish("gil/go", len(ticks))
            stop.wait(0.005)
    t = threading.Thread(target=ticker)
    t.start()
    try:
        r = b.request("svc/slow", None, timeout=WAIT)
    finally:
        stop.set()
        t.join(WAIT)
    assert r.value >= 1


def test_callback_exceptions_are_reported(nodes, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u))
    a, b = pair(nodes)
    a.announce("e/s", "stream")
    got = threading.Event()

    def bad_callback(msg):
        got.set()
        raise KeyError("in a sample callback")
    b.subscribe("e/s", bad_callback)

    def bad_handler(req):
        raise ZeroDivisionError("in a handler")
    a.offer("e/svc", bad_handler)
    a.wait_subscribers("e/s", 1, WAIT)
    b.wait_for("e/svc", timeout=WAIT)
    a.publish("e/s", 1)
    assert got.wait(WAIT)
    with pytest.raises(ipcnet.InternalError) as e:
        b.request("e/svc", 1)
    assert e.value.status == 300 and "ZeroDivisionError: in a handler" in e.value.text
    # Both were reported, with their exceptions.
    b.stop()  # no more callbacks: reported is complete
    a.stop()
    kinds = sorted(type(u.exc_value).__name__ for u in reported)
    assert kinds == ["KeyError", "ZeroDivisionError"], reported


def test_close_and_stop_from_a_callback_raise(nodes):
    a, b = pair(nodes)
    a.announce("c/s", "stream")
    errors = []
    done = threading.Event()

    def cb(msg):
        for f in (b.close, b.stop):
            try:
                f()
            except RuntimeError as e:
                errors.append(str(e))
        done.set()
    b.subscribe("c/s", cb)
    a.wait_subscribers("c/s", 1, WAIT)
    a.publish("c/s", 1)
    assert done.wait(WAIT)
    assert len(errors) == 2 and not b.closed


def test_events_and_peers(nodes):
    events = []
    seen = threading.Event()

    def on_event(ev):
        events.append(ev)
        if ev.type == "peer_down":
            seen.set()
    a = nodes("a", start=True, on_event=on_event)
    b = ipcnet.Node("b", start=True)
    b.announce("ev/data", "data")
    a.wait_peers(1, WAIT)
    a.wait_for("ev/data", timeout=WAIT)
    (p,) = a.peers()
    assert p.name == "b" and p.id == b.id and p.pid > 0
    # Its principal: this very process, its groups, its executable.
    assert p.pid == os.getpid() and p.uid == os.geteuid()
    assert sorted(p.groups) == sorted(os.getgroups())
    assert p.exe == os.path.realpath("/proc/self/exe")
    with open(p.exe, "rb") as f:
        assert p.exe_sha256 == hashlib.sha256(f.read()).digest()
    b.close()
    assert seen.wait(WAIT)
    a.stop()
    types = [(e.type, e.peer, e.path) for e in events]
    assert ("peer_up", "b", None) in types
    assert ("resource_up", "b", "ev/data") in types
    assert ("peer_down", "b", None) in types
    down = [e for e in events if e.type == "peer_down"][0]
    assert down.status == 100  # a goodbye


def test_ready_and_criticality(nodes, monkeypatch):
    """What a node says of itself (protocol 7.6): criticality= (or
    $IPCNET_CRITICALITY) and ready(); the events 'peer_ready' (once) and
    'critical_lost' (after 'peer_down', with its status)."""
    events = []
    lost = threading.Event()

    def on_event(ev):
        events.append(ev)
        if ev.type == "critical_lost":
            lost.set()
    a = nodes("a", start=True, on_event=on_event)
    b = ipcnet.Node("b", start=True, criticality="critical")
    monkeypatch.setenv("IPCNET_CRITICALITY", "important")
    c = nodes("c", start=True)  # from the environment
    monkeypatch.delenv("IPCNET_CRITICALITY")
    a.wait_peers(2, WAIT)
    for _ in range(int(WAIT * 100)):  # the STATE follows the hello
        got = {p.name: (p.criticality, p.ready) for p in a.peers()}
        if got == {"b": ("critical", False), "c": ("important", False)}:
            break
        time.sleep(0.01)
    assert got == {"b": ("critical", False), "c": ("important", False)}
    b.ready()
    b.ready()  # again: nothing more
    for _ in range(int(WAIT * 100)):
        if any(e.type == "peer_ready" for e in events):
            break
        time.sleep(0.01)
    assert {p.name: p.ready for p in a.peers()} == {"b": True, "c": False}
    b.close()
    assert lost.wait(WAIT)
    c.close()
    a.stop()
    types = [(e.type, e.peer) for e in events]
    assert types.count(("peer_ready", "b")) == 1
    assert types.index(("peer_down", "b")) < types.index(("critical_lost", "b"))
    assert [e.status for e in events if e.type == "critical_lost"] == [100]
    assert ("critical_lost", "c") not in types  # important, not critical
    with pytest.raises(ValueError):
        ipcnet.Node("d", criticality="vital", start=False)
    monkeypatch.setenv("IPCNET_CRITICALITY", "vital")
    with pytest.raises(ipcnet.BadRequest):
        ipcnet.Node("d", start=False)


def test_node_stats_and_subscriptions(nodes):
    a, b = pair(nodes)
    b.subscribe("x/**", lambda m: None)
    a.wait_subscribers("x/y", 1, WAIT)
    subs = a.subscriptions()
    assert ("b", "x/**") in [(s.node, s.pattern) for s in subs]
    st = a.stats()
    assert st.peers == 1 and st.frames_in > 0


def test_close_waits_for_other_threads(nodes):
    a, b = pair(nodes)
    sub = b.subscribe("nothing/**")
    res = []
    t = threading.Thread(target=lambda: res.append(sub.take(None)))
    t.start()
    b.close()  # the take() in the other thread ends (None), then b closes
    t.join(WAIT)
    assert not t.is_alive() and res == [None] and b.closed


def test_idle_probe_option(nodes):
    """idle_probe_ms reaches the library: with a short probe an idle link is
    pinged (NodeStats.pings_sent), with the default (2 minutes) it is not."""
    a = nodes("probe.a", heartbeat_ms=50, dead_after_ms=200, idle_probe_ms=100)
    b = nodes("probe.b", heartbeat_ms=50, dead_after_ms=200, idle_probe_ms=100)
    c = nodes("probe.c")
    d = nodes("probe.d")
    for n in (a, b, c, d):
        n.wait_peers(3, WAIT)
    quiet = (c.stats().pings_sent, d.stats().pings_sent)
    deadline = time.monotonic() + WAIT
    while a.stats().pings_sent + b.stats().pings_sent < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert a.stats().pings_sent + b.stats().pings_sent >= 4
    # c and d ping no one they are idle with; a and b's probes are answered, not echoed
    assert (c.stats().pings_sent, d.stats().pings_sent) == quiet


def test_traffic(nodes):
    """What a peer sends a node: Node.traffic(), and the peer's own picture
    through its node service @sys/<node>/traffic (CBOR)."""
    a = nodes("tr.a", start=True)
    b = nodes("tr.b", start=True)
    b.offer("tr/echo", lambda req: req.data)
    a.wait_for("tr/echo", timeout=WAIT)
    for _ in range(3):
        a.request("tr/echo", "x", timeout=WAIT)
    items = [t for t in b.traffic("tr.a") if t.path == "tr/echo"]
    assert len(items) == 1
    (t,) = items
    assert t.peer == "tr.a" and t.peer_id == a.id and t.verb == "request"
    assert t.count == 3 and not t.anomalous and t.anomalies == 0
    assert t.mean_bytes > 0
    assert all(isinstance(x, ipcnet.TrafficItem) for x in b.traffic())
    with pytest.raises(ipcnet.NotFound):
        b.traffic("nobody")
    r = a.request("@sys/tr.b/traffic", timeout=WAIT)
    d = r.value
    assert d["node"] == "tr.b"
    assert any(i["peer"] == "tr.a" and i["path"] == "tr/echo" and i["count"] == 3
               for i in d["items"])
