# SPDX-License-Identifier: MIT
"""Fixtures of the Python binding's tests.

Run by ctest (tests/python/CMakeLists.txt) as
    PYTHONPATH=<build>/python IPCN_BINDIR=<build>/bin /usr/bin/python3 -m pytest tests/python/...
Every test gets a private network (its own IPCNET_DIR), so that nothing
else running on the machine interferes, and every wait is bounded.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import ipcnet

HERE = os.path.dirname(os.path.abspath(__file__))
BINDIR = os.environ.get("IPCN_BINDIR", "build/bin")
CLI = os.path.join(BINDIR, "ipcnet")
PEER = os.path.join(HERE, "peer.py")
WAIT = 10.0  # seconds: the bound of every wait (never a timing assertion)


@pytest.fixture
def net(monkeypatch):
    """A private network: IPCNET_DIR and IPCNET_NETWORK for this test and
    for the processes it starts."""
    d = tempfile.mkdtemp(prefix="ipcn-py-")
    monkeypatch.setenv("IPCNET_DIR", d)
    monkeypatch.setenv("IPCNET_NETWORK", "pytest")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def nodes(net):
    """A factory of nodes, all closed at the end of the test."""
    made = []

    def make(name, **kw):
        n = ipcnet.Node(name, **kw)
        made.append(n)
        return n
    yield make
    for n in made:
        n.close()


class Proc:
    """A child process that prints one JSON object per line; read() returns
    the next one (bounded by WAIT)."""

    def __init__(self, argv):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  env=dict(os.environ), text=True)
        self._lines = []

    def read(self, timeout=WAIT):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.p.stdout, selectors.EVENT_READ)
        try:
            if not sel.select(timeout):
                raise AssertionError("no output from %s within %s s" % (self.argv, timeout))
        finally:
            sel.close()
        line = self.p.stdout.readline()
        assert line, "%s exited (%s) before answering" % (self.argv, self.p.poll())
        try:
            return json.loads(line)
        except ValueError:
            return line.rstrip("\n")

    def send(self, obj):
        self.p.stdin.write(json.dumps(obj) + "\n")
        self.p.stdin.flush()

    def wait(self, timeout=WAIT):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("%s did not exit within %s s" % (self.argv, timeout))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        for f in (self.p.stdin, self.p.stdout):
            try:
                f.close()
            except OSError:
                pass


@pytest.fixture
def spawn(net):
    """Start tests/python/peer.py ROLE ARGS... (a Python peer in its own
    process) or any command; all are stopped at the end of the test."""
    procs = []

    def start(*argv, python_peer=True):
        argv = [sys.executable, PEER] + [str(a) for a in argv] if python_peer else list(argv)
        p = Proc(argv)
        procs.append(p)
        return p
    yield start
    for p in procs:
        p.stop()


@pytest.fixture
def cli(net):
    """Run the C command-line tool (build/bin/ipcnet) to completion."""
    if not os.access(CLI, os.X_OK):
        pytest.fail("%s is not built (IPCN_BINDIR=%s)" % (CLI, BINDIR))

    def run(*args, check=True):
        r = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True,
                           timeout=WAIT * 3)
        if check and r.returncode != 0:
            raise AssertionError("ipcnet %s exited %d: %s" % (" ".join(map(str, args)),
                                                             r.returncode, r.stderr))
        return r
    return run
