# SPDX-License-Identifier: MIT
"""Python and C in one network: the C side is the `ipcnet` command-line
tool (build/bin/ipcnet, tools/ipcnet/) and ipcn-test-t_typed_pub
(tests/integration/helpers/t_typed_pub.c), which link libipcnet as shipped."""
import json
import os
import subprocess

import pytest

import ipcnet

from conftest import BINDIR, CLI, WAIT

np = pytest.importorskip("numpy")


def test_python_subscriber_to_c_publisher(nodes, spawn, cli):
    n = nodes("py.sub", start=True)
    sub = n.subscribe("c/val")
    spawn(CLI, "pub", "c/val", '{"x": [1, 2.5, "s"], "ok": true, "n": null}', "--rate", "50",
          "--name", "c.pub", python_peer=False)
    m = sub.take(WAIT)
    assert m is not None, "no sample from the C publisher"
    assert m.value == {"x": [1, 2.5, "s"], "ok": True, "n": None}
    assert m.encoding == "cbor" and m.src == "c.pub" and m.status == 100
    m2 = sub.take(WAIT)
    assert m2.seq > m.seq


def test_python_queries_c_typed_values(nodes, spawn):
    helper = os.path.join(BINDIR, "ipcn-test-t_typed_pub")
    if not os.access(helper, os.X_OK):
        pytest.fail("%s is not built" % helper)
    p = spawn(helper, "typed-pub", "60", "typed", os.environ["IPCNET_NETWORK"], python_peer=False)
    assert p.read() == "ready"
    n = nodes("py.q")
    n.wait_for("typed/frame", timeout=WAIT)
    assert n.query("typed/map", WAIT).value == {
        "name": "arm-7", "count": 42, "neg": -1000, "ratio": 0.15625,
        "pi": 3.141592653589793, "ok": True, "none": None, "blob": b"\x00\x01\x02\x03\xfe",
        "list": [1, "two", 3.5]}
    t = n.query("typed/tensor", WAIT).value
    assert isinstance(t, ipcnet.Tensor) and t.shape == (2, 3, 4) and t.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(t),
                                  (np.arange(24) * 0.5 - 3).astype(np.float32).reshape(2, 3, 4))
    m = n.query("typed/frame", WAIT)
    assert m.encoding == "video/raw;format=rgb24;width=4;height=2"
    frame = np.frombuffer(m.data, np.uint8).reshape(2, 4, 3)  # no copy: a view of the message
    assert frame[1, 2, 0] == 120 and frame[0, 3, 2] == 32


def test_c_client_of_python_service(nodes, cli):
    n = nodes("py.svc", start=True)
    n.offer("py/add", lambda req: req.value["a"] + req.value["b"])
    n.offer("py/text", lambda req: "you said: " + req.value)
    n.offer("py/fail", lambda req: (_ for _ in ()).throw(ipcnet.NotFound("nobody here")))
    n.offer("py/tensor", lambda req: np.arange(6, dtype=np.float32).reshape(2, 3))
    n.announce("py/state", "data")
    n.publish("py/state", {"mode": "auto", "speed": 0.5})
    assert cli("call", "py/add", '{"a": 2, "b": 3}').stdout.strip() == "5"
    assert cli("call", "py/text", "hello", "--encoding", "text/plain").stdout.strip() == \
        "you said: hello"
    r = cli("call", "py/fail", "1", check=False)
    assert r.returncode == 1 and "203 Not Found" in r.stderr and "nobody here" in r.stderr
    out = cli("call", "py/tensor").stdout
    assert out.startswith("tensor float32 [2, 3]: 0, 1, 2, 3, 4, 5"), out
    assert json.loads(cli("query", "py/state").stdout) == {"mode": "auto", "speed": 0.5}
    found = [json.loads(line) for line in cli("find", "py/**", "--json").stdout.splitlines()]
    assert {(f["path"], f["kind"], f["encoding"]) for f in found} == {
        ("py/add", "service", "cbor"), ("py/text", "service", "cbor"),
        ("py/fail", "service", "cbor"), ("py/tensor", "service", "cbor"),
        ("py/state", "data", "cbor")}


def test_c_subscriber_of_python_publisher(nodes):
    n = nodes("py.pub", start=True)
    n.announce("py/t", "stream", "tensor")
    n.announce("py/v", "stream")
    echo = subprocess.Popen([CLI, "echo", "py/*", "--count", "2", "--json", "--timeout", "10000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        n.wait_subscribers("py/t", 1, WAIT)
        n.publish("py/t", np.arange(6, dtype=np.int16).reshape(3, 2))
        n.publish("py/v", {"k": [1, "two"]})
        out, err = echo.communicate(timeout=WAIT * 3)
    finally:
        if echo.poll() is None:
            echo.kill()
            echo.communicate()
    assert echo.returncode == 0, err
    got = {d["path"]: d for d in map(json.loads, out.splitlines())}
    assert got["py/v"]["value"] == {"k": [1, "two"]}
    assert got["py/t"]["encoding"] == "tensor"
    assert got["py/t"]["value"] == {"dtype": "int16", "shape": [3, 2], "numel": 6,
                                    "values": [0, 1, 2, 3, 4, 5]}


def test_python_client_of_c_service(nodes, spawn):
    spawn(CLI, "offer", "c/echo", "--echo", "--name", "c.echo", python_peer=False)
    n = nodes("py.client", start=True)
    n.wait_for("c/echo", timeout=WAIT)
    assert n.request("c/echo", {"a": [1, 2]}, WAIT).value == {"a": [1, 2]}
    assert n.request("c/echo", "plain text", WAIT).value == "plain text"
    t = n.request("c/echo", np.ones((2, 2), np.float64), WAIT).value
    np.testing.assert_array_equal(np.asarray(t), np.ones((2, 2)))
