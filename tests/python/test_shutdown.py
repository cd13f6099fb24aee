# SPDX-License-Identifier: MIT
"""A node's part in the system's ordered shutdown from Python:
Node.on_shutdown(phase, fn), fn(info) returning a status or None for 100,
102 then Node.shutdown_done(), an ipcnet.Error's status answered, a phase
without a handler answered 103 (ipcnet.h "Readiness, criticality and
shutdown"; docs/protocol.md 12.4)."""
import threading

import pytest

import ipcnet

from conftest import WAIT


def ask(node, target, phase, **kw):
    body = dict(kw, phase=phase)
    return node.request("@sys/%s/shutdown" % target, body, timeout=WAIT)


def test_on_shutdown(nodes):
    arm = nodes("sd.arm", start=True)
    ops = nodes("sd.ops", start=True)
    ops.wait_peers(1, WAIT)
    arm.wait_peers(1, WAIT)
    seen = []
    main = threading.get_ident()

    @arm.on_shutdown("safe_state")
    def rest(info):
        seen.append((info, threading.get_ident()))
        assert isinstance(info, ipcnet.ShutdownInfo)

    m = ask(ops, "sd.arm", "safe_state", system_phase=1, deadline_ms=3000, reason="test")
    assert m.status == 100
    ((info, thread),) = seen
    assert thread != main  # on the node's thread
    assert info == ("safe_state", 1, 3000, "test", "sd.ops")
    assert (info.phase, info.by) == ("safe_state", "sd.ops")
    # No handler for the stop: 103 (a success without a value).
    assert ask(ops, "sd.arm", "stop").status == 103

    # A status returned, an Error raised, an exception (300).
    arm.on_shutdown("stop", lambda info: 1050)
    with pytest.raises(ipcnet.Error) as e:
        ask(ops, "sd.arm", "stop", system_phase=2)
    assert e.value.status == 1050

    def refuse(info):
        raise ipcnet.ServiceUnavailable("busy")
    arm.on_shutdown("stop", refuse)
    with pytest.raises(ipcnet.ServiceUnavailable):
        ask(ops, "sd.arm", "stop")

    def broken(info):
        raise RuntimeError("broken")
    arm.on_shutdown("stop", broken)
    with pytest.raises(ipcnet.InternalError):
        ask(ops, "sd.arm", "stop")
    arm.on_shutdown("stop", lambda info: "done")  # not a status: 300
    with pytest.raises(ipcnet.InternalError):
        ask(ops, "sd.arm", "stop")
    arm.remove_on_shutdown("stop")
    assert ask(ops, "sd.arm", "stop").status == 103

    # 102, then confirmed: the asker waits for it; asked again meanwhile: 205.
    asked = threading.Event()

    def later(info):
        asked.set()
        return 102
    arm.on_shutdown("safe_state", later)
    fut = ops.request_async("@sys/sd.arm/shutdown", {"phase": "safe_state"}, timeout=WAIT)
    assert asked.wait(WAIT)
    with pytest.raises(ipcnet.TooManyRequests):
        ask(ops, "sd.arm", "safe_state")
    arm.shutdown_done("safe_state")
    assert fut.result(WAIT).status == 100
    asked.clear()
    fut = ops.request_async("@sys/sd.arm/shutdown", {"phase": "safe_state"}, timeout=WAIT)
    assert asked.wait(WAIT)
    arm.shutdown_done("safe_state", 1077)
    with pytest.raises(ipcnet.Error) as e:
        fut.result(WAIT)
    assert e.value.status == 1077
    with pytest.raises(ipcnet.NotFound):
        arm.shutdown_done("safe_state")

    with pytest.raises(ValueError):
        arm.on_shutdown("halt", lambda info: None)
    with pytest.raises(ValueError):
        arm.shutdown_done(1)
    with pytest.raises(TypeError):
        arm.on_shutdown("stop", 5)
    with pytest.raises(ipcnet.BadRequest):
        arm.shutdown_done("stop", 102)
