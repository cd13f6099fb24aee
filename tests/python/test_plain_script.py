# SPDX-License-Identifier: MIT
"""A plain script, as a newcomer writes one: it opens a node, publishes in a
loop with time.sleep() between samples and never calls start(), dispatch()
or a wait.  The node's I/O thread (on by default) must link it, tell it of
its subscriber, deliver what it subscribed to, answer heartbeats while the
script sleeps, and cost no CPU when nothing happens."""
import sys

WAIT = 10.0
IDLE = 1.2  # s: longer than a peer waits for heartbeats (0.9 s by default)

SCRIPT = r"""
import json, resource, sys, threading, time
import ipcnet

def out(**kw):
    print(json.dumps(kw), flush=True)

node = ipcnet.Node("script")          # no start(): its I/O thread runs anyway
node.announce("demo/count")
heard = []
got = threading.Event()

def on_ctl(msg):
    heard.append(msg.value)
    got.set()

node.subscribe("demo/ctl", on_ctl)
out(ready=node.name)
i = 0
deadline = time.monotonic() + %(wait)s
while not got.is_set() and time.monotonic() < deadline:
    node.publish("demo/count", i)
    i += 1
    time.sleep(0.02)
out(heard=heard[:1], sent=i)

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process
    return r.ru_utime + r.ru_stime

c0, t0 = cpu(), time.monotonic()
time.sleep(%(idle)s)                  # idle, still linked to the tester
c1, t1 = cpu(), time.monotonic()
out(cpu=c1 - c0, wall=t1 - t0, peers=sorted(p.name for p in node.peers()))
sys.stdin.readline()                  # until the test lets it go; no close(): atexit
""" % {"wait": WAIT, "idle": IDLE}


def test_plain_script_publishes_receives_and_idles(nodes, spawn):
    tester = nodes("tester")
    tester.announce("demo/ctl")
    lost = []
    tester.set_event_callback(lambda ev: ev.type == "peer_down" and lost.append(ev.peer))
    sub = tester.subscribe("demo/count")
    script = spawn(sys.executable, "-c", SCRIPT, python_peer=False)
    assert script.read() == {"ready": "script"}

    # What it publishes in its loop reaches the subscriber...
    first, second = sub.take(WAIT), sub.take(WAIT)
    assert first is not None and second is not None, "no sample of the script's loop"
    assert first.src == "script" and second.value > first.value >= 0

    # ...and what it subscribed to reaches its callback, on the node's thread.
    tester.wait_subscribers("demo/ctl", 1, WAIT)
    tester.publish("demo/ctl", "enough")
    said = script.read()
    assert said["heard"] == ["enough"], said

    # Idle: the script sleeps; its node answers heartbeats at ~0 % CPU.
    idle = script.read(WAIT + IDLE)
    assert idle["wall"] >= IDLE * 0.9, idle
    assert idle["cpu"] < 0.05 * idle["wall"], "the idle script used %.3f s of CPU in %.2f s" % (
        idle["cpu"], idle["wall"])
    assert idle["peers"] == ["tester"], idle
    assert "script" in [p.name for p in tester.peers()] and not lost, lost

    script.p.stdin.close()  # it reads EOF and exits; atexit closes its node
    assert script.wait() == 0
