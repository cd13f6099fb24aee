# SPDX-License-Identifier: MIT
"""A Python peer in its own process, for the binding's tests (conftest.spawn).

    peer.py service NAME            offers the test services, data and a stream
    peer.py tensor_pub NAME LIB     publishes cases.LIB_CASES on t/<case> after "go"
    peer.py tensor_sub NAME COUNT   reports COUNT tensor samples of t/**
    peer.py subscriber NAME PATTERN COUNT   reports COUNT samples' values

It prints one JSON object per line ({"ready": ...} first), reads commands as
JSON lines on stdin, and exits when stdin closes (or SIGTERM).  Every wait is
bounded.  The network comes from IPCNET_DIR and IPCNET_NETWORK.
"""
import concurrent.futures
import json
import os
import sys
import threading

import ipcnet

import cases

WAIT = 10.0


def out(**kw):
    print(json.dumps(kw), flush=True)


def stdin_lines():
    for line in sys.stdin:
        line = line.strip()
        if line:
            yield json.loads(line)


def service(name):
    pending = []
    lock = threading.Lock()
    # Announced before the thread starts (node.start() below), as three copies of
    # this peer provide the same paths: one that already knew of another would
    # be refused with 207.
    with ipcnet.Node(name, start=False) as node:
        @node.offer("svc/echo")
        def echo(req):
            return ipcnet.Reply(req.value, encoding=req.encoding or None)

        @node.offer("svc/add")
        def add(req):
            return req.value["a"] + req.value["b"]

        @node.offer("svc/notfound")
        def notfound(req):
            raise ipcnet.NotFound("no such thing")

        @node.offer("svc/app")
        def app(req):
            return ipcnet.Reply("out of stock", status=1001)

        @node.offer("svc/boom")
        def boom(req):
            raise RuntimeError("boom")

        @node.offer("svc/typed", args={"map": {"a": "int", "b": "int"}}, returns="int")
        def typed(req):
            return req.value["a"] * req.value["b"]

        @node.offer("svc/wait_go")
        def wait_go(req):
            # Answered only on a "gil/go" sample published after the request
            # arrived: by a thread of the requesting process, while its main
            # thread waits in request().
            f = concurrent.futures.Future()
            with lock:
                pending.append(f)
            return f

        def on_go(msg):
            with lock:
                done = pending[:]
                del pending[:]
            for f in done:
                f.set_result({"go": msg.value})
        node.subscribe("gil/go", on_go)

        node.announce("peer/state", "data", meta={"units": "m", "pid": os.getpid()})
        node.publish("peer/state", {"pid": os.getpid(), "name": name})
        node.announce("peer/count", "stream")
        node.start()
        out(ready=name, pid=os.getpid(), id=node.id)
        stop = threading.Event()
        gone = set()  # withdrawn paths: a publish racing the withdrawal may fail

        def reader():
            for cmd in stdin_lines():
                if cmd.get("withdraw"):
                    gone.add(cmd["withdraw"])
                    node.withdraw(cmd["withdraw"])
                    out(withdrawn=cmd["withdraw"])
            stop.set()
        threading.Thread(target=reader, daemon=True).start()
        i = 0
        while not stop.wait(0.02):
            if "peer/count" in gone:
                continue
            try:
                node.publish("peer/count", i)
            except ipcnet.NotFound:
                if "peer/count" not in gone:
                    raise
            i += 1


def tensor_pub(name, lib):
    which = cases.TORCH_CASES if lib == "torch" else cases.NUMPY_CASES
    with ipcnet.Node(name, start=True) as node:
        for c in which:
            node.announce("t/" + c[0], "stream", "tensor")
        out(ready=name)
        for cmd in stdin_lines():
            if cmd.get("go"):
                node.wait_synced(WAIT)
                for c in which:
                    node.publish("t/" + c[0], cases.value(c[0]))
                out(published=[c[0] for c in which])


def tensor_sub(name, count):
    import numpy as np
    with ipcnet.Node(name, start=True) as node:
        sub = node.subscribe("t/**", depth=64)
        out(ready=name)
        for _ in range(int(count)):
            msg = sub.take(WAIT)
            if msg is None:
                out(error="no sample within %s s" % WAIT)
                return
            t = msg.value
            rec = {"path": msg.path, "dtype": t.dtype, "shape": list(t.shape),
                   "shared": msg.shared, "digest": cases.digest(t)}
            if t.dtype != "bfloat16":
                rec["np_no_copy"] = np.asarray(t).__array_interface__["data"][0] == t.address
            rec["in_memfd"] = cases.in_memfd(t.address)
            out(**rec)


def subscriber(name, pattern, count):
    with ipcnet.Node(name, start=True) as node:
        sub = node.subscribe(pattern)
        out(ready=name)
        for _ in range(int(count)):
            msg = sub.take(WAIT)
            if msg is None:
                out(error="no sample within %s s" % WAIT)
                return
            v = msg.value
            if isinstance(v, ipcnet.Tensor):
                v = {"tensor": v.dtype, "shape": list(v.shape), "digest": cases.digest(v)}
            elif isinstance(v, bytes):
                v = {"bytes": v.hex()}
            out(path=msg.path, value=v, encoding=msg.encoding, src=msg.src, status=msg.status)


def main():
    role, args = sys.argv[1], sys.argv[2:]
    {"service": service, "tensor_pub": tensor_pub, "tensor_sub": tensor_sub,
     "subscriber": subscriber}[role](*args)


if __name__ == "__main__":
    main()
