#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""net_frames.py - the plain TCP peers of the harness self-test
(test_net_harness.sh): they speak the framing of IPCNet's TCP links (a u16
big-endian length, then that many bytes) without any cryptography, so that
what the proxy (net_proxy.c) did to each message can be seen.

  net_frames.py serve ADDR PORT SEND          one connection: send SEND
                                              messages, read until EOF,
                                              print what came (see below)
  net_frames.py client ADDR PORT SEND         the same as a client
  net_frames.py echo-serve ADDR PORT          raw bytes: echo until EOF
  net_frames.py echo-client ADDR PORT NBYTES  send NBYTES random bytes
                                              through an echo, compare
  net_frames.py reach ADDR                    exit 0 when ADDR answers TCP
                                              (a refusal of port 9 is an
                                              answer), 1 when it is out of
                                              reach (no route, no answer in
                                              1 s)

What came is judged against what the other side sent (message i of a side
is msg(i), below, the same on both sides): one line
"got N same S flip1 F other O order ORDER" where same = messages equal to
the one expected at that place, flip1 = differing from it in exactly one
bit, other = anything else, and ORDER the indexes of the messages that
came (a replay shows as an index repeated).  Every peer ends after 20 s.
"""
import os
import random
import socket
import sys


def msg(i):
    n = 16 + (i * 37) % 200
    return bytes(((i * 7 + j) & 0xFF) for j in range(n))


def frame(b):
    return len(b).to_bytes(2, "big") + b


def read_frames(sock):
    buf = b""
    out = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        buf += chunk
        while len(buf) >= 2:
            n = int.from_bytes(buf[:2], "big")
            if len(buf) < 2 + n:
                break
            out.append(buf[2:2 + n])
            buf = buf[2 + n:]


def bits(a, b):
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b))


def judge(got):
    """Each message is matched to the index it is (its length and all but
    at most one bit): a replay is seen as an earlier index."""
    same = flip1 = other = 0
    order = []
    for m in got:
        found = None
        for i in range(1, 201):  # lengths differ up to 200
            e = msg(i)
            if len(e) != len(m):
                continue
            d = bits(e, m)
            if d == 0:
                found = (i, "same")
                break
            if d == 1 and found is None:
                found = (i, "flip1")
        if found is None:
            other += 1
            order.append(0)
        else:
            order.append(found[0])
            if found[1] == "same":
                same += 1
            else:
                flip1 += 1
    print("got %d same %d flip1 %d other %d order %s"
          % (len(got), same, flip1, other, ",".join(map(str, order))),
          flush=True)


def talk(sock, send):
    for i in range(1, send + 1):
        sock.sendall(frame(msg(i)))
    sock.shutdown(socket.SHUT_WR)
    judge(read_frames(sock))


def reach(addr):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect((addr, 9))
    except ConnectionRefusedError:
        return 0
    except OSError:
        return 1
    return 0


def main():
    if sys.argv[1] == "reach":
        sys.exit(reach(sys.argv[2]))
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    arg = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    if mode in ("serve", "echo-serve"):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(1)
        ls.settimeout(20)
        print("listening", flush=True)
        while True:
            sock, _ = ls.accept()
            sock.settimeout(20)
            if mode == "serve":
                talk(sock, arg)
                return
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                sock.sendall(chunk)
            sock.close()
    sock = socket.create_connection((addr, port), timeout=20)
    if mode == "client":
        talk(sock, arg)
        return
    data = random.Random(18).randbytes(arg)
    sent = 0
    back = b""
    # Send and read in turns, so that neither side's buffers fill up.
    while sent < len(data):
        sock.sendall(data[sent:sent + 65536])
        sent += 65536
        while len(back) < min(sent, len(data)):
            back += sock.recv(65536)
    sock.shutdown(socket.SHUT_WR)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        back += chunk
    print("echoed %d equal %d" % (len(back), int(back == data)), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
