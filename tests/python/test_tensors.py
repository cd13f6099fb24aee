# SPDX-License-Identifier: MIT
"""Tensors through NumPy and PyTorch, between processes: dtypes and shapes
(0-d, 1-d, 3-d, empty), no copy on the receiving side (the buffer protocol
reads the message in place; a shared-memory sample lies in a mapping of the
publisher's memfd, "memfd:ipcnet" in /proc/self/maps), and DLPack views that
may be written without crashing and without changing what others see."""
import pytest

import ipcnet

import cases

np = pytest.importorskip("numpy")
WAIT = 10.0


def check_received(t, name):
    """t is the ipcnet.Tensor of case name, received: check it fully."""
    _, dtype, shape = cases.case(name)
    expect = cases.value(name)
    assert isinstance(t, ipcnet.Tensor)
    assert t.dtype == dtype and t.shape == tuple(shape) and t.ndim == len(shape)
    assert cases.digest(t) == cases.digest(expect)
    if dtype == "bfloat16":
        with pytest.raises(TypeError):
            np.asarray(t)
        return
    a = np.asarray(t)
    # The buffer protocol: a read-only view at the message's own address.
    assert a.__array_interface__["data"][0] == t.address
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[...] = 0
    with pytest.raises(TypeError):
        memoryview(t)[...] = memoryview(t)  # read-only
    np.testing.assert_array_equal(a, np.asarray(expect))


def receive(sub, count):
    got = {}
    for _ in range(count):
        m = sub.take(WAIT)
        assert m is not None, "missing samples: got %s" % sorted(got)
        got[m.path[2:]] = m
    return got


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_tensors_from_another_process(nodes, spawn, lib):
    if lib == "torch":
        pytest.importorskip("torch")
    which = cases.TORCH_CASES if lib == "torch" else cases.NUMPY_CASES
    n = nodes("t.sub", start=True)
    sub = n.subscribe("t/**", depth=64)
    pub = spawn("tensor_pub", "t.pub." + lib, lib)
    assert pub.read()["ready"]
    pub.send({"go": 1})
    assert pub.read()["published"] == [c[0] for c in which]
    got = receive(sub, len(which))
    for name, dtype, shape in which:
        m = got[name]
        assert m.encoding == "tensor" and m.src == "t.pub." + lib
        t = m.value
        check_received(t, name)
        lo, hi = m.address, m.address + len(m)
        assert lo <= t.address <= hi  # a view inside the message
        nbytes = t.nbytes
        if nbytes >= cases.SHM_MIN:
            assert m.shared, name
            # Published with one copy into a loaned slot: ipcn_loan_tensor()
            # places the elements 64-byte aligned (ipcn_publish() would not).
            assert t.address % 64 == 0, name
            assert cases.in_memfd(t.address) is not None, name
            assert m.verify()


def test_numpy_private_writable_view(nodes, spawn):
    """t.writable() of a shared-memory sample, and numpy.from_dlpack(t): a
    private copy (a snapshot, not the memfd: a copy-on-write mapping of it
    would still show the publisher's later writes); writing it changes
    nothing for the others.  (NumPy < 2 marks from_dlpack arrays read-only whatever the
    producer says: numpy.asarray(t.writable()) is the writable one there.)"""
    n = nodes("t.sub", start=True)
    sub = n.subscribe("t/f32_big")
    other = spawn("tensor_sub", "t.other", 1)  # a second subscriber, in its own process
    assert other.read() == {"ready": "t.other"}
    n.announce("t/f32_big", "stream", "tensor")  # this node publishes too (below)
    pub = nodes("t.pub", start=True)
    pub.announce("t/f32_big", "stream", "tensor")
    pub.wait_subscribers("t/f32_big", 2, WAIT)
    src = cases.value("f32_big")
    pub.publish("t/f32_big", src)
    m = sub.take(WAIT)
    t = m.value
    assert m.shared and cases.in_memfd(t.address) == "r--s"
    d = np.from_dlpack(t)
    assert cases.in_memfd(d.__array_interface__["data"][0]) is None  # a private copy
    np.testing.assert_array_equal(d, src)
    w = np.asarray(t.writable())
    assert w.flags.writeable
    addr = w.__array_interface__["data"][0]
    assert cases.in_memfd(addr) is None  # a snapshot in pages of its own
    w[...] = -1.0
    assert (w == -1.0).all()
    np.testing.assert_array_equal(np.asarray(t), src)  # the shared bytes are intact
    assert m.verify()
    rec = other.read()
    assert rec["path"] == "t/f32_big" and rec["shared"]
    assert rec["digest"] == cases.digest(src)
    assert rec["np_no_copy"] and rec["in_memfd"] == "r--s"
    # The DLPack view keeps the sample alive after the message and tensor go.
    del m, t
    assert float(w.sum()) == -w.size


def test_torch_writes_a_received_sample(nodes, spawn):
    torch = pytest.importorskip("torch")
    n = nodes("t.sub", start=True)
    sub = n.subscribe("t/t_f32_big")
    other = spawn("tensor_sub", "t.other", 1)
    assert other.read() == {"ready": "t.other"}
    pub = nodes("t.pub", start=True)
    pub.announce("t/t_f32_big", "stream", "tensor")
    pub.wait_subscribers("t/t_f32_big", 2, WAIT)
    src = cases.value("t_f32_big")
    pub.publish("t/t_f32_big", src)
    m = sub.take(WAIT)
    t = m.value
    assert m.shared
    x = torch.from_dlpack(t)
    assert cases.in_memfd(x.data_ptr()) is None  # a private copy, a snapshot
    x.mul_(2).add_(1)  # writes every page: private, no SIGSEGV
    assert torch.equal(x, src * 2 + 1)
    assert torch.equal(torch.from_dlpack(t), src)  # a new view: the original bytes
    assert m.verify()
    assert other.read()["digest"] == cases.digest(src)
    del m, t, sub
    assert torch.equal(x, src * 2 + 1)  # the sample lives as long as x


@pytest.mark.parametrize("name", [c[0] for c in cases.NUMPY_CASES if c[1] != "bool"])
def test_numpy_dlpack_round_trip(name):
    a = cases.value(name)
    t = ipcnet.loads(ipcnet.dumps(a))
    b = np.from_dlpack(t)
    np.testing.assert_array_equal(b, a)
    w = np.asarray(t.writable())
    w[...] = 0  # a private copy (not a message: no sharing), writable
    np.testing.assert_array_equal(np.asarray(t), a)
    np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("name", [c[0] for c in cases.TORCH_CASES])
def test_torch_round_trip(name):
    torch = pytest.importorskip("torch")
    x = cases.value(name)
    t = ipcnet.loads(ipcnet.dumps(x))
    assert cases.digest(t) == cases.digest(x)
    try:
        y = torch.from_dlpack(t)
    except RuntimeError as e:
        # torch < 2 has no DLPack bool (kDLBool): refused cleanly.
        assert x.dtype == torch.bool and "code 6" in str(e)
        y = torch.from_numpy(np.array(t))
    assert y.dtype == x.dtype and torch.equal(y, x)


def test_non_contiguous_and_strided_sources():
    torch = pytest.importorskip("torch")
    a = np.arange(24, dtype=np.int32).reshape(4, 6)[::2, ::-3]
    np.testing.assert_array_equal(np.asarray(ipcnet.loads(ipcnet.dumps(a))), a)
    x = torch.arange(12.0).reshape(3, 4).t()
    assert torch.equal(torch.from_dlpack(ipcnet.loads(ipcnet.dumps(x))), x)
    rec = np.zeros(3, dtype=[("a", "i4"), ("b", "f8")])
    with pytest.raises(TypeError):
        ipcnet.dumps(rec)  # no IPCNet dtype for a record
    with pytest.raises(RuntimeError):
        ipcnet.dumps(torch.zeros(2, requires_grad=True))  # torch's own rule


def test_capsule_rules():
    """A DLPack capsule never consumed is freed by its destructor; one a
    consumer took ("used_dltensor") is freed by the consumer only."""
    t = ipcnet.loads(ipcnet.dumps(np.arange(4.0)))
    for _ in range(1000):
        cap = t.__dlpack__()
        del cap
    assert t.__dlpack_device__() == (1, 0)
    with pytest.raises(BufferError):
        t.__dlpack__(stream=1)
    arrays = [np.from_dlpack(t) for _ in range(100)]
    del t
    assert all(float(a.sum()) == 6.0 for a in arrays)


def test_sample_lives_as_long_as_the_last_view(nodes):
    """A shared-memory slot stays held while a Message, Tensor, memoryview,
    NumPy array or DLPack array over it lives, and goes back to the pool
    when the last one goes (the publisher's pool_stats().held)."""
    torch = pytest.importorskip("torch")
    pub = nodes("t.pub", start=True)
    sub_node = nodes("t.sub", start=True)
    pub.announce("t/life", "stream", "tensor")
    pub.offer("t/ping", lambda req: None)
    sub = sub_node.subscribe("t/life")
    pub.wait_subscribers("t/life", 1, WAIT)
    sub_node.wait_for("t/ping", timeout=WAIT)

    def held():
        return pub.pool_stats("t/life").held

    def wait_held(n):
        pub._poll(lambda: held() == n, WAIT, "held == %d (is %d)" % (n, held()))

    for keep in ("message", "tensor", "memoryview", "numpy", "numpy_dlpack", "torch"):
        pub.publish("t/life", np.full(1 << 18, 7, np.float32))
        m = sub.take(WAIT)
        assert m.shared
        t = m.value
        make, first = {
            "message": (lambda: m, lambda o: np.asarray(o.value)[0]),
            "tensor": (lambda: t, lambda o: np.asarray(o)[0]),
            "memoryview": (lambda: memoryview(t), lambda o: o[0]),
            "numpy": (lambda: np.asarray(t), lambda o: o[0]),
            "numpy_dlpack": (lambda: np.from_dlpack(t), lambda o: o[0]),
            "torch": (lambda: torch.from_dlpack(t), lambda o: o[0]),
        }[keep]
        obj = make()
        del m, t, make
        # A round trip on the same link: a release sent by now has arrived.
        sub_node.request("t/ping", None, WAIT)
        assert held() == 1, keep  # obj alone keeps the sample
        assert float(first(obj)) == 7.0, keep
        del obj
        wait_held(0)


def test_no_leak_over_many_samples(nodes):
    """Many samples, views and capsules: the process does not grow."""
    pub = nodes("t.pub", start=True)
    sub_node = nodes("t.sub", start=True)
    pub.announce("t/leak", "stream", "tensor")
    pub.announce("t/small", "stream")
    sub = sub_node.subscribe("t/*", depth=8)
    pub.wait_subscribers("t/leak", 1, WAIT)

    def rss_kib():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    big = np.arange(1 << 16, dtype=np.float64)  # 512 KiB
    def round_(i):
        pub.publish("t/leak", big)
        pub.publish("t/small", {"i": i, "v": [1.5, "x"], "b": b"\x00" * 100})
        for _ in range(2):
            m = sub.take(WAIT)
            v = m.value
            if isinstance(v, ipcnet.Tensor):
                a = np.asarray(v)
                d = np.from_dlpack(v)
                cap = v.__dlpack__()
                assert a[1] == 1.0 and d[2] == 2.0
                del a, d, cap
            else:
                assert v["i"] == i
    for i in range(200):  # warm up: pools, caches, allocator
        round_(i)
    before = rss_kib()
    for i in range(2000):
        round_(i)
    grown = rss_kib() - before
    # 2000 rounds of 512 KiB: a leak of the samples would be about 1 GiB.
    assert grown < 32 << 10, "RSS grew by %d KiB" % grown
