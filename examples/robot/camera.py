#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""camera.py -- the demo robot's camera (examples/robot/robot.yaml): a
producer that publishes a small stand-in frame on the stream
robot/camera/frames ten times a second.

    camera.py [NODE]

NODE defaults to $IPCNET_COMPONENT (set by `ipcnet up`), else "camera".  It
says it is ready once its stream is announced, and takes part in the
robot's ordered shutdown: asked to stop (phase 2, producers first), it
stops publishing, notes it in $ROBOT_LOG (when set) and exits.  SIGTERM
ends it too.
"""
import os
import signal
import sys
import time

import ipcnet

FRAMES = "robot/camera/frames"
PERIOD = 0.1

stopping = False


def log(node, what, system_phase):
    path = os.environ.get("ROBOT_LOG")
    if not path:
        return
    line = "%d %s %s %d\n" % (time.monotonic_ns(), node, what, system_phase)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def main():
    global stopping
    name = sys.argv[1] if len(sys.argv) > 1 else \
        os.environ.get("IPCNET_COMPONENT") or "camera"

    def on_term(signum, frame):
        global stopping
        stopping = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    with ipcnet.Node(name, start=False) as node:
        def on_stop(info):
            global stopping
            log(name, "stop", info.system_phase)
            print("%s: stopping (%s)" % (name, info.reason or "asked"),
                  file=sys.stderr)
            stopping = True
            return None  # 100: done; the process ends from the loop

        node.on_shutdown("stop", on_stop)
        node.announce(FRAMES, "stream", "application/octet-stream")
        node.ready()
        seq, next_at = 0, time.monotonic()
        while not stopping:
            node.dispatch(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= next_at and not stopping:
                seq += 1
                node.publish(FRAMES, bytes([seq % 256]) * 64)
                next_at += PERIOD
    return 0


if __name__ == "__main__":
    sys.exit(main())
