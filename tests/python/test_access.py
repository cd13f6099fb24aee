# SPDX-License-Identifier: MIT
"""A provider's own rules and groups from Python (Node.set_access,
group_create/add/remove/delete): nodes in one process, in a network
without a policy file (all allowed until a provider narrows it)."""
import pytest

import ipcnet

WAIT = 10.0


def sees(n, pattern, count):
    n._poll(lambda: len(n.find(pattern)) == count, WAIT, "find %s" % pattern)


def test_execute_narrowed(nodes):
    p = nodes("prov")
    p.set_access("motors/cmd", [("allow", "execute", "node:teleop")])
    p.offer("motors/cmd", lambda req: "ok " + req.value)
    t, x = nodes("teleop"), nodes("intruder")
    sees(t, "motors/cmd", 1)
    sees(x, "motors/cmd", 1)
    assert t.request("motors/cmd", "hi", WAIT).value == "ok hi"
    with pytest.raises(ipcnet.Forbidden) as e:
        x.request("motors/cmd", "hi", WAIT)
    assert e.value.status == 202
    assert isinstance(e.value, PermissionError)
    # a deny beats an allow, whatever the order; verbs as a list
    p.set_access("motors/cmd", [("deny", ["execute"], "node:tele*"),
                                ("allow", ["read", "execute"], "any")])
    with pytest.raises(ipcnet.Forbidden):
        t.request("motors/cmd", "hi", WAIT)
    assert x.request("motors/cmd", "hi", WAIT).value == "ok hi"
    p.set_access("motors/cmd", [])  # cleared: the policy (allow) decides
    assert t.request("motors/cmd", "hi", WAIT).value == "ok hi"


def test_private(nodes):
    p = nodes("prov")
    p.set_access("arm/pose", [("allow", ["read", "write"], "node:teleop")])
    p.set_access("arm/move", [("allow", ["read", "execute"], "node:teleop")])
    p.announce("arm/pose", "data")
    p.publish("arm/pose", 1.5)
    p.offer("arm/move", lambda req: "moved")
    p.announce("arm/open", "data")
    t, x = nodes("teleop"), nodes("intruder")
    sees(t, "arm/*", 3)
    sees(x, "arm/open", 1)
    assert [r.path for r in x.find("arm/*")] == ["arm/open"]
    assert t.query("arm/pose", WAIT).value == 1.5
    assert t.request("arm/move", None, WAIT).value == "moved"
    with pytest.raises(ipcnet.NotFound):
        x.query("arm/pose", WAIT)
    with pytest.raises(ipcnet.NotFound):
        x.request("arm/move", None, WAIT)
    with pytest.raises(ipcnet.NotFound):
        x.set("arm/pose", 2.0, encoding="cbor", timeout=WAIT)
    # made public again: the intruder sees it on its live link
    p.set_access("arm/pose", [])
    sees(x, "arm/*", 2)
    assert x.query("arm/pose", WAIT).value == 1.5


def test_groups(nodes):
    p = nodes("prov")
    p.group_create("operators")
    with pytest.raises(ipcnet.Conflict):
        p.group_create("operators")
    with pytest.raises(ipcnet.BadRequest):
        p.group_create("bad/name")
    with pytest.raises(ipcnet.NotFound):
        p.group_add("nonesuch", "node:x")
    with pytest.raises(ipcnet.BadRequest):
        p.group_add("operators", "colour:red")
    with pytest.raises(ipcnet.BadRequest):
        p.group_add("operators", "group:operators")
    p.set_access("lift/up", [("allow", "execute", "group:operators")])
    p.offer("lift/up", lambda req: "up")
    t = nodes("teleop")
    sees(t, "lift/up", 1)
    with pytest.raises(ipcnet.Forbidden):
        t.request("lift/up", None, WAIT)
    p.group_add("operators", "node:teleop")
    p.group_add("operators", "node:teleop")  # already a member: fine
    assert t.request("lift/up", None, WAIT).value == "up"
    p.group_remove("operators", "node:teleop")
    with pytest.raises(ipcnet.NotFound):
        p.group_remove("operators", "node:teleop")
    with pytest.raises(ipcnet.Forbidden):
        t.request("lift/up", None, WAIT)
    p.group_add("operators", "node:tele*")
    assert t.request("lift/up", None, WAIT).value == "up"
    p.group_delete("operators")
    with pytest.raises(ipcnet.NotFound):
        p.group_delete("operators")
    with pytest.raises(ipcnet.Forbidden):
        t.request("lift/up", None, WAIT)


def test_bad_rules(nodes):
    p = nodes("prov")
    with pytest.raises(ValueError):
        p.set_access("a", [("permit", "read", "any")])
    with pytest.raises(ValueError):
        p.set_access("a", [("allow", "provide", "any")])
    with pytest.raises(ValueError):
        p.set_access("a", [("allow", "read")])  # not three fields
    with pytest.raises(ipcnet.BadRequest) as e:
        p.set_access("a", [("allow", [], "any")])  # no verb
    assert "set_access a" in str(e.value)
    with pytest.raises(ipcnet.BadRequest):
        p.set_access("a", [("allow", "read", "colour:red")])
    with pytest.raises(ipcnet.BadRequest):
        p.set_access("a/**", [])
    with pytest.raises(TypeError):
        p.set_access("a", [("allow", "read", 5)])
    p.set_access("a", [("deny", "write", "any")])
    p.set_access("a", [])


def test_limits(nodes):
    """The provider's own limits (issue 15): over them a request raises
    TooManyRequests whose reply says when to retry; removed, all pass."""
    p = nodes("prov")
    p.set_limits("lim/echo", requests_per_s=1, burst=2)
    p.offer("lim/echo", lambda req: "ok " + req.value)
    t = nodes("teleop")
    sees(t, "lim/echo", 1)
    limited = []
    for _ in range(5):
        try:
            assert t.request("lim/echo", "hi", WAIT).value == "ok hi"
        except ipcnet.TooManyRequests as e:
            assert e.status == 205
            limited.append(e.reply.retry_after_ms)
    assert len(limited) >= 2
    assert all(1 <= ms <= 1000 for ms in limited)
    p.remove_limits("lim/echo")
    assert t.request("lim/echo", "hi", WAIT).value == "ok hi"
    with pytest.raises(ipcnet.BadRequest):
        p.set_limits("lim/echo")  # limits nothing
