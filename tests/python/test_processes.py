# SPDX-License-Identifier: MIT
"""Every verb between two Python processes (the other one is peer.py)."""
import os
import threading

import pytest

import ipcnet

WAIT = 10.0


@pytest.fixture
def service_peer(spawn):
    p = spawn("service", "py.peer")
    hello = p.read()
    assert hello["ready"] == "py.peer"
    return p, hello


def test_find_query_subscribe_across_processes(nodes, service_peer):
    peer, hello = service_peer
    n = nodes("tester", start=True)
    n.wait_synced(WAIT)
    found = {r.path: r for r in n.find("**")}
    assert {"svc/echo", "svc/add", "peer/state", "peer/count"} <= set(found)
    assert found["peer/state"].meta == {"units": "m", "pid": hello["pid"]}
    assert found["peer/state"].provider_id == hello["id"]
    (p,) = [p for p in n.peers() if p.name == "py.peer"]
    assert p.pid == hello["pid"]
    assert n.query("peer/state", WAIT).value == {"pid": hello["pid"], "name": "py.peer"}
    with n.subscribe("peer/count") as sub:
        first = sub.take(WAIT)
        second = sub.take(WAIT)
    assert isinstance(first.value, int) and second.value > first.value
    assert second.seq > first.seq and first.src == "py.peer"


def test_set_across_processes(nodes, service_peer):
    peer, hello = service_peer
    n = nodes("tester", start=True)
    n.wait_synced(WAIT)
    m = n.query("peer/state", WAIT)
    state = {"pid": hello["pid"], "name": "changed"}
    assert n.set("peer/state", state, expect_version=m.seq, timeout=WAIT) == m.seq + 1
    m2 = n.query("peer/state", WAIT)
    assert m2.value == state and m2.src == "py.peer" and m2.seq == m.seq + 1
    with pytest.raises(ipcnet.Conflict) as e:
        n.set("peer/state", {}, expect_version=m.seq, timeout=WAIT)
    assert e.value.version == m.seq + 1
    with pytest.raises(ipcnet.MethodNotAllowed):
        n.set("svc/echo", 1, timeout=WAIT)


def test_requests_across_processes(nodes, service_peer):
    n = nodes("tester", start=True)
    n.wait_synced(WAIT)
    assert n.request("svc/add", {"a": 20, "b": 22}, WAIT).value == 42
    for v in ({"k": [1, 2.5, None, True, "s", b"b"]}, "text", b"\x00\x01", 2**64 - 1):
        r = n.request("svc/echo", v, WAIT)
        assert r.value == v, v
    r = n.request("svc/echo", "as json", WAIT, encoding="application/json")
    assert r.encoding == "application/json" and r.value == "as json"
    with pytest.raises(ipcnet.NotFound) as e:
        n.request("svc/notfound", 1, WAIT)
    assert e.value.status == 203 and e.value.text == "no such thing"
    with pytest.raises(ipcnet.Error) as e:
        n.request("svc/app", 1, WAIT)
    assert e.value.status == 1001 and e.value.text == "out of stock"
    with pytest.raises(ipcnet.InternalError) as e:
        n.request("svc/boom", 1, WAIT)
    assert "RuntimeError: boom" in e.value.text
    assert n.request("svc/typed", {"a": 6, "b": 7}, WAIT).value == 42
    with pytest.raises(ipcnet.BadRequest):
        n.request("svc/typed", {"a": 6}, WAIT)
    futs = [n.request_async("svc/add", {"a": i, "b": 1}, WAIT) for i in range(20)]
    assert [f.result(WAIT).value for f in futs] == [i + 1 for i in range(20)]


def test_gil_released_during_blocking_request_to_another_process(nodes, service_peer):
    """The peer answers svc/wait_go only when it receives a gil/go sample
    sent after the request arrived; this process's ticker thread sends them
    while the main thread is blocked in request()."""
    n = nodes("tester", start=True)
    n.announce("gil/go", "stream")
    n.wait_synced(WAIT)
    n.wait_subscribers("gil/go", 1, WAIT)
    stop = threading.Event()
    count = [0]

    def ticker():
        while not stop.is_set():
            count[0] += 1
            n.publish("gil/go", count[0])
            stop.wait(0.005)
    t = threading.Thread(target=ticker)
    t.start()
    try:
        r = n.request("svc/wait_go", None, timeout=WAIT)
    finally:
        stop.set()
        t.join(WAIT)
    assert r.value["go"] >= 1


def test_peer_leaving(nodes, service_peer):
    peer, hello = service_peer
    events = []
    down = threading.Event()

    def on_event(ev):
        events.append(ev)
        if ev.type == "peer_down" and ev.peer == "py.peer":
            down.set()
    n = nodes("tester", start=True, on_event=on_event)
    n.wait_synced(WAIT)
    sub = n.subscribe("peer/count")
    assert sub.take(WAIT).status == 100
    peer.send({"withdraw": "peer/count"})
    assert peer.read() == {"withdrawn": "peer/count"}
    while True:  # samples may still be queued before the withdrawal
        m = sub.take(WAIT)
        if m.status != 100:
            break
    assert m.status == 303 and m.path == "peer/count"
    peer.p.stdin.close()  # the peer exits
    assert peer.wait() == 0
    assert down.wait(WAIT)
    assert any(e.type == "resource_down" and e.path == "svc/echo" for e in events)
    with pytest.raises(ipcnet.NotFound):
        n.request("svc/echo", 1, WAIT)


def test_python_subscriber_in_another_process(nodes, spawn):
    n = nodes("pub", start=True)
    n.announce("ps/v", "stream")
    sub = spawn("subscriber", "py.sub", "ps/v", 3)
    assert sub.read() == {"ready": "py.sub"}
    n.wait_subscribers("ps/v", 1, WAIT)
    values = [{"i": 1}, "text is cbor here", [1.5, None]]
    for v in values:
        n.publish("ps/v", v)
    got = [sub.read() for _ in values]
    assert [g["value"] for g in got] == values
    assert all(g["src"] == "pub" and g["encoding"] == "cbor" for g in got)
    assert sub.wait() == 0


def test_many_processes_one_service(nodes, spawn):
    """Three providers of one service, one requester: each answers; killing
    one leaves the service to the others."""
    peers = [spawn("service", "prov.%d" % i) for i in range(3)]
    pids = [p.read()["pid"] for p in peers]
    n = nodes("tester", start=True)
    n.wait_peers(3, WAIT)
    n.wait_synced(WAIT)
    assert len(n.find("svc/add", "service")) == 3
    for i in range(30):
        assert n.request("svc/add", {"a": i, "b": i}, WAIT).value == 2 * i
    os.kill(pids[0], 9)
    peers[0].p.wait(WAIT)
    for i in range(10):
        assert n.request("svc/add", {"a": i, "b": 0}, WAIT).value == i
