# SPDX-License-Identifier: MIT
"""Requests of 16 KiB or more through shared memory (docs/protocol.md 12.9)
from the Python binding: the provider's handler sees the argument in the
requester's slot (Message.shared), the answer comes back byte for byte,
and every slot is given back."""
import os

import ipcnet

WAIT = 10.0


def test_large_requests_round_trip(nodes):
    a = nodes("a")
    b = nodes("b")
    b.wait_peers(1, WAIT)
    a.wait_peers(1, WAIT)
    seen = []

    def echo(req):
        seen.append((req.shared, len(req.data)))
        return bytes(req.data)

    a.offer("svc/echo", echo)
    b.wait_for("svc/echo", timeout=WAIT)
    for size in (16 << 10, 1 << 20, (16 << 10) - 1):
        payload = os.urandom(size)
        r = b.request("svc/echo", payload, timeout=WAIT)
        assert bytes(r.data) == payload or r.value == payload
    assert seen[0] == (True, seen[0][1]) and seen[1][0] is True
    assert seen[2][0] is False  # under the threshold: inline
