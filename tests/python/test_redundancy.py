# SPDX-License-Identifier: MIT
"""Several providers of one path, request modes, at most once
(ipcnet_redundancy.h) from Python: Node.announce(strength=, standby=),
Node.owner(), the event 'owner', SubStats.standby, Node.request(mode=,
quorum=, tolerance=, request_id=) and its Answers, offer(at_most_once=)."""
import concurrent.futures
import threading
import time

import pytest

import ipcnet

WAIT = 10.0


def until(cond, what):
    """Poll cond() until true, at most WAIT seconds (not a timing assertion)."""
    deadline = time.monotonic() + WAIT
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("not within %s s: %s" % (WAIT, what))
        time.sleep(0.005)


def owner_or_none(node, path):
    try:
        return node.owner(path)
    except ipcnet.NotFound:
        return None


def test_owned_stream_take_over(nodes):
    events = []
    sub = nodes("sub", on_event=events.append)
    strong = nodes("strong")
    weak = nodes("weak")
    assert strong.announce("r/scan", "stream", strength=10) is True
    assert weak.announce("r/scan", "stream", strength=5, standby="hot") is True
    assert weak.announce("r/scan", "stream", strength=5) is False  # changed
    with pytest.raises(ValueError):
        weak.announce("r/scan", "stream", standby="lukewarm")
    with pytest.raises(TypeError):
        weak.announce("r/scan", "stream", strength="high")
    s = sub.subscribe("r/scan")
    until(lambda: (owner_or_none(sub, "r/scan") or (None,))[0] == "strong"
          and sub.owner("r/scan").providers == 2, "sub sees strong as owner")
    o = sub.owner("r/scan")
    assert isinstance(o, ipcnet.Owner)
    assert o.owner_id == strong.id and o.strength == 10 and o.self is False
    until(lambda: strong.owner("r/scan").self, "strong knows it owns")
    with pytest.raises(ipcnet.NotFound):
        sub.owner("r/none")
    with pytest.raises(ipcnet.Conflict):  # plain vs owned
        sub.announce("r/scan", "stream")
    strong.wait_subscribers("r/scan", 1, WAIT)
    weak.wait_subscribers("r/scan", 1, WAIT)

    got = []

    def some():
        strong.publish("r/scan", "S")
        weak.publish("r/scan", "W")
        m = s.take(0.01)
        while m is not None:
            got.append((m.value, m.src))
            m = s.take(0)
        return len(got) >= 3 and s.stats().standby >= 3
    until(some, "samples of the owner, the standby's counted")
    assert all(g == ("S", "strong") for g in got)
    assert isinstance(s.stats(), ipcnet.SubStats)

    changes = sub.owner("r/scan").changes
    strong.close()
    until(lambda: (owner_or_none(sub, "r/scan") or (None,))[0] == "weak", "weak takes over")
    assert sub.owner("r/scan").changes > changes
    until(lambda: any(e.type == "owner" and e.peer == "weak" and e.path == "r/scan"
                      and e.kind == "stream" for e in list(events)), "the event 'owner'")

    def from_weak():
        weak.publish("r/scan", "W")
        m = s.take(0.01)
        return m is not None and m.value == "W"
    until(from_weak, "the weak one's samples delivered")


def test_warm_standby(nodes):
    strong = nodes("strong")
    warm = nodes("warm")
    strong.announce("r/pose", "data", strength=2)
    warm.announce("r/pose", "data", strength=1, standby="warm")
    until(lambda: (owner_or_none(warm, "r/pose") or (None,))[0] == "strong", "warm sees strong")
    with pytest.raises(ipcnet.Conflict):
        warm.publish("r/pose", 1)
    strong.close()
    until(lambda: (owner_or_none(warm, "r/pose") or (None,) * 4)[3] is True, "warm owns")
    warm.publish("r/pose", 1)


@pytest.fixture
def voters(nodes):
    """Three providers of v/sum (va and vb answer 3, vc answers 3.0000001)
    and an asker."""
    answers = {"va": 3.0, "vb": 3.0, "vc": 3.0000001}
    for name, value in answers.items():
        n = nodes(name)
        n.offer("v/sum", lambda req, v=value: v)
    asker = nodes("asker")
    until(lambda: len(asker.find("v/sum")) == 3, "three providers known")
    return asker


def test_request_vote(voters):
    # A vote is decided as soon as a majority (2) agree: the third answer
    # may not have come.
    a = voters.request("v/sum", {"a": 1}, WAIT, mode="vote", tolerance=1e-6)
    assert isinstance(a, ipcnet.Answers)
    assert a.status == 100 and a.request_id != 0 and len(a) == 3
    assert a.agreeing >= 2 and a.dissenting == 0
    assert a.value == pytest.approx(3.0)
    assert all(isinstance(i, ipcnet.Answer) for i in a.items)
    # Three equal answers cannot be had: Conflict, with the answers.
    with pytest.raises(ipcnet.Conflict) as e:
        voters.request("v/sum", None, WAIT, mode="vote", quorum=3)
    assert e.value.status == 207
    assert isinstance(e.value.answers, ipcnet.Answers) and len(e.value.answers) == 3


def test_request_vote_dissenter(nodes):
    """The dissenter's answer comes first (the providers hold their answers
    and the test releases them one at a time, the next once the asker has
    read the previous: its frames_in), so it is counted."""
    held = {}
    lock = threading.Lock()
    for name in ("va", "vb", "vc"):
        def handler(req, name=name):
            f = concurrent.futures.Future()
            with lock:
                held[name] = f
            return f
        nodes(name).offer("v/held", handler)
    asker = nodes("asker")
    until(lambda: len(asker.find("v/held")) == 3, "three providers known")
    box = []
    t = threading.Thread(target=lambda: box.append(
        asker.request("v/held", None, WAIT, mode="vote")))
    t.start()
    until(lambda: len(held) == 3, "every provider asked")

    def release(name, value):
        before = asker.stats().frames_in
        held[name].set_result(value)
        until(lambda: asker.stats().frames_in > before, "the asker read %s's answer" % name)
    release("vc", 4)
    release("va", 3)
    held["vb"].set_result(3)
    t.join(WAIT)
    assert not t.is_alive() and len(box) == 1
    a = box[0]
    assert a.status == 100 and a.value == 3
    assert a.agreeing == 2 and a.dissenting == 1
    by = {i.provider: i for i in a}
    assert set(by) == {"va", "vb", "vc"}
    assert by["va"].agrees and by["vb"].agrees and not by["vc"].agrees
    assert by["vc"].status == 100 and by["vc"].message.value == 4
    assert by["va"].provider_id != by["vc"].provider_id


def test_request_all_and_any(voters):
    a = voters.request("v/sum", None, WAIT, mode="all")
    assert a.status == 100 and a.winner is None and a.value is None
    assert sorted(i.provider for i in a) == ["va", "vb", "vc"]
    assert all(i.status == 100 and i.message is not None for i in a)
    assert len(voters.request("v/sum", None, WAIT, mode="all", max_providers=2)) == 2
    one = voters.request("v/sum", None, WAIT, mode="any")
    assert one.status == 100 and one.value == pytest.approx(3.0)
    assert one.request_id != 0
    # Without mode: a Message, as always.
    assert isinstance(voters.request("v/sum", None, WAIT), ipcnet.Message)
    with pytest.raises(ValueError):
        voters.request("v/sum", None, WAIT, mode="most")
    with pytest.raises(ipcnet.NotFound):
        voters.request("v/none", None, WAIT, mode="all")


def test_offer_at_most_once(nodes):
    prov = nodes("prov")
    runs = []
    lock = threading.Lock()

    def fire(req):
        with lock:
            runs.append(req.value)
            return len(runs)
    prov.offer("o/fire", fire, at_most_once=True, cache_ms=60000)
    with pytest.raises(ipcnet.NotFound):
        prov._offer_set_opts("o/none", True, 0, 0)
    asker = nodes("asker")
    until(lambda: asker.find("o/fire"), "the service known")
    first = asker.request("o/fire", "x", WAIT, mode="any")
    assert first.value == 1
    again = asker.request("o/fire", "x", WAIT, request_id=first.request_id)
    assert isinstance(again, ipcnet.Answers)
    assert again.request_id == first.request_id and again.value == 1
    assert runs == ["x"]
    assert asker.request("o/fire", "y", WAIT).value == 2  # a new request runs


def test_cli_offer_at_most_once(nodes):
    """`ipcnet offer --at-most-once` from this process: the same request id
    twice runs the command once."""
    import os
    import subprocess
    cli = os.path.join(os.environ.get("IPCN_BINDIR", "build/bin"), "ipcnet")
    if not os.access(cli, os.X_OK):
        pytest.skip("no ipcnet tool at %s" % cli)
    asker = nodes("asker")
    p = subprocess.Popen([cli, "offer", "o/cli", "--exec", "date +%s%N", "--at-most-once",
                          "--name", "clionce"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    try:
        until(lambda: asker.find("o/cli"), "the tool's service known")
        first = asker.request("o/cli", None, WAIT, mode="any")
        again = asker.request("o/cli", None, WAIT, request_id=first.request_id)
        assert again.value == first.value
        third = asker.request("o/cli", None, WAIT, mode="any")
        assert third.value != first.value
    finally:
        p.terminate()
        out, _ = p.communicate(timeout=WAIT)
    assert len([ln for ln in out.splitlines() if ln.startswith("#")]) == 2
