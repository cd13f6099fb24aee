#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/py_bench.py - the Python binding's speed (issue 7), between two
Python processes, printed as one JSON object per line:

  py_rtt     a request/reply round trip (a small CBOR map each way) to a
             service in another Python process: median, p99, mean (us) and
             round trips per second, over N calls after a warm-up;
  py_tensor  an 8 MiB float32 tensor published by one Python process and
             read as a NumPy array by another, in lock-step (each sample
             acknowledged before the next): publish_median_us, the
             publisher's cost of publish() (its one copy, into a loaned
             shared-memory slot); delivery_median_us, from publication (the
             sample's timestamp) to the array in the subscriber's hands (no
             copy); end_to_end_gib_s, the size over their sum; and, for
             scale, numpy_copy_median_us, one np.copyto() of the same bytes.
             "shared" and "zero_copy_view" say that every array the
             subscriber got was a view of the shared sample.

    PYTHONPATH=build/python /usr/bin/python3 bench/py_bench.py [--quick]
        [--rtt-n N] [--tensor-n N] [--mib M]

Runs in a private network (a temporary IPCNET_DIR).  Figures come from a
shared machine: compare them with ipcnet-bench's, run at the same time.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import ipcnet

WAIT = 10.0


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


# ---------------------------------------------------------------- children

def rtt_server():
    with ipcnet.Node("bench.rtt.server") as node:
        node.offer("bench/echo", lambda req: req.value)
        node.start()
        print(json.dumps({"ready": True}), flush=True)
        sys.stdin.read()  # until the parent closes our stdin


def tensor_pub(n, mib):
    import numpy as np
    arr = np.arange(mib * (1 << 20) // 4, dtype=np.float32)
    with ipcnet.Node("bench.tensor.pub", start=True) as node:
        node.announce("bench/tensor", "stream", "tensor")
        acks = node.subscribe("bench/ack", depth=4)
        print(json.dumps({"ready": True}), flush=True)
        node.wait_subscribers("bench/tensor", 1, WAIT)
        cost = []
        for i in range(n):
            arr[0] = i
            t0 = time.perf_counter_ns()
            node.publish("bench/tensor", arr)
            cost.append(time.perf_counter_ns() - t0)
            if acks.take(WAIT) is None:
                print(json.dumps({"error": "no ack for sample %d" % i}), flush=True)
                return 1
        print(json.dumps({"publish_ns": cost}), flush=True)
        sys.stdin.read()
    return 0


# ---------------------------------------------------------------- parent

def start_child(*args):
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--role"] + list(args),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line or not json.loads(line).get("ready"):
        raise SystemExit("py_bench: the %s process did not start: %r" % (args[0], line))
    return p


def stop_child(p):
    try:
        p.stdin.close()
        p.wait(WAIT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def bench_rtt(n, warmup):
    child = start_child("rtt-server")
    try:
        with ipcnet.Node("bench.rtt.client", start=True) as node:
            node.wait_for("bench/echo", "service", WAIT)
            value = {"seq": 0, "cmd": "ping", "x": 1.5}
            for i in range(warmup):
                node.request("bench/echo", value, WAIT)
            ns = []
            t_all = time.perf_counter_ns()
            for i in range(n):
                value["seq"] = i
                t0 = time.perf_counter_ns()
                r = node.request("bench/echo", value, WAIT)
                ns.append(time.perf_counter_ns() - t0)
                if r.value["seq"] != i:
                    raise SystemExit("py_bench: wrong answer %r" % r.value)
            total = time.perf_counter_ns() - t_all
    finally:
        stop_child(child)
    us = [x / 1e3 for x in ns]
    return {"bench": "py_rtt", "n": n, "payload_bytes": len(ipcnet.dumps(value)),
            "median_us": round(statistics.median(us), 2), "p99_us": round(pct(us, 99), 2),
            "mean_us": round(statistics.fmean(us), 2), "min_us": round(min(us), 2),
            "rate_hz": round(n / (total / 1e9), 1)}


def bench_tensor(n, mib):
    import numpy as np
    with ipcnet.Node("bench.tensor.sub", start=True) as node:
        sub = node.subscribe("bench/tensor", depth=4)
        node.announce("bench/ack", "stream")
        child = start_child("tensor-pub", str(n), str(mib))
        try:
            node.wait_subscribers("bench/ack", 1, WAIT)
            lat, shared, zero_copy = [], True, True
            for i in range(n):
                m = sub.take(WAIT)
                if m is None:
                    raise SystemExit("py_bench: no tensor sample %d within %s s" % (i, WAIT))
                a = np.asarray(m.value)  # the array, a view of the sample
                got = time.time_ns()
                if a[0] != i or a.nbytes != mib << 20:
                    raise SystemExit("py_bench: wrong sample %d" % i)
                lat.append(got - m.timestamp_ns)
                shared = shared and m.shared
                zero_copy = zero_copy and a.__array_interface__["data"][0] == m.value.address
                del a, m
                node.publish("bench/ack", i)
            res = json.loads(child.stdout.readline())
        finally:
            stop_child(child)
    if "publish_ns" not in res:
        raise SystemExit("py_bench: the publisher failed: %r" % res)
    lat_us = [x / 1e3 for x in lat]
    pub_us = [x / 1e3 for x in res["publish_ns"]]
    pub, dlv = statistics.median(pub_us), statistics.median(lat_us)
    # For scale: one copy of the same bytes by NumPy in this process.
    src = np.ones(mib << 18, np.float32)
    dst = np.empty_like(src)
    cp = []
    for _ in range(min(n, 50)):
        t0 = time.perf_counter_ns()
        np.copyto(dst, src)
        cp.append((time.perf_counter_ns() - t0) / 1e3)
    return {"bench": "py_tensor", "n": n, "bytes": mib << 20, "dtype": "float32",
            "publish_median_us": round(pub, 1),
            "delivery_median_us": round(dlv, 1), "delivery_p99_us": round(pct(lat_us, 99), 1),
            "end_to_end_gib_s": round((mib << 20) / ((pub + dlv) / 1e6) / (1 << 30), 2),
            "numpy_copy_median_us": round(statistics.median(cp), 1),
            "shared": shared, "zero_copy_view": zero_copy}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (for tests)")
    ap.add_argument("--rtt-n", type=int, default=None)
    ap.add_argument("--tensor-n", type=int, default=None)
    ap.add_argument("--mib", type=int, default=8)
    ap.add_argument("--role", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.role:
        if a.role[0] == "rtt-server":
            return rtt_server()
        return tensor_pub(int(a.role[1]), int(a.role[2]))
    rtt_n = a.rtt_n or (500 if a.quick else 20000)
    tensor_n = a.tensor_n or (10 if a.quick else 200)
    tmp = None
    if not os.environ.get("IPCNET_DIR"):
        tmp = tempfile.mkdtemp(prefix="ipcnet-pybench-")
        os.environ["IPCNET_DIR"] = tmp
    os.environ.setdefault("IPCNET_NETWORK", "pybench")
    try:
        print(json.dumps(bench_rtt(rtt_n, warmup=min(1000, rtt_n))), flush=True)
        print(json.dumps(bench_tensor(tensor_n, a.mib)), flush=True)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
