# SPDX-License-Identifier: MIT
"""Cross-language proof of IPCNet's CBOR codec against Python's cbor2 and NumPy.

Run with Debian's interpreter (python3-cbor2, python3-numpy, python3-pytest):

    CBOR_TOOL=build/bin/cbor_tool /usr/bin/python3 -m pytest -q tests/value/test_cbor2_interop.py

ctest runs it as test_cbor2_interop.  Directions:
  - C writes (cbor_tool write-corpus), cbor2 reads: every value, and the
    deterministic writer's output is what cbor2's canonical mode writes where
    the two orders of map keys agree (and differs, as RFC 8949 says it must,
    where they do not);
  - cbor2 writes, C reads (cbor_tool decode): every major type, floats of
    every width, tags, simple values, nesting, big items, indefinite lengths;
  - tensors: C-encoded tensors of every dtype in both byte orders decoded
    with cbor2 + NumPy; NumPy arrays encoded in Python decoded by C (as a
    view: the tool fails if the payload is not inside the input buffer).
Both sides render values in one text form (tests/value/cbor_render.h,
CR_INTEROP): integers in decimal, floats as the hex of the double, text and
bytes as hex, containers in input order.
"""
import math
import os
import struct
import subprocess

import pytest

cbor2 = pytest.importorskip("cbor2")
np = pytest.importorskip("numpy")

from cbor2 import CBORSimpleValue, CBORTag, undefined  # noqa: E402

TOOL = os.environ.get("CBOR_TOOL", "build/bin/cbor_tool")

# Tag numbers that cbor2 turns into Python objects (datetime, Decimal, ...):
# the corpora avoid them so that every tag reaches both sides as a tag.
SEMANTIC_TAGS = {0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 256, 258, 260,
                 261, 55799}

IPCN_TAG_BOOL = 0x49504301
IPCN_TAG_BFLOAT16 = 0x49504302


def render(v):
    """A decoded cbor2 value in cbor_render.h's CR_INTEROP form."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if v is undefined:
        return "undefined"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return "f:%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]
    if isinstance(v, CBORSimpleValue):  # a namedtuple: before tuples
        return "simple(%d)" % v.value
    if isinstance(v, (bytes, bytearray)):
        return "h'%s'" % bytes(v).hex()
    if isinstance(v, str):
        return "t'%s'" % v.encode("utf-8").hex()
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(render(x) for x in v) + "]"
    if isinstance(v, dict):  # dict and cbor2's FrozenDict (a Mapping)
        return "{" + ",".join(render(k) + ":" + render(x) for k, x in v.items()) + "}"
    if hasattr(v, "items") and hasattr(v, "keys"):
        return "{" + ",".join(render(k) + ":" + render(x) for k, x in v.items()) + "}"
    if isinstance(v, CBORTag):
        return "%d(%s)" % (v.tag, render(v.value))
    raise TypeError("cannot render %r" % (v,))


def norm(v):
    """render(), but with map entries sorted, to compare values whatever
    the order of their keys."""
    if isinstance(v, CBORSimpleValue):
        return render(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(norm(x) for x in v) + "]"
    if hasattr(v, "items") and hasattr(v, "keys"):
        return "{" + ",".join(sorted(norm(k) + ":" + norm(x) for k, x in v.items())) + "}"
    if isinstance(v, CBORTag):
        return "%d(%s)" % (v.tag, norm(v.value))
    return render(v)


def tool(*args):
    out = subprocess.run([TOOL, *args], check=True, capture_output=True, text=True)
    lines = {}
    for line in out.stdout.splitlines():
        name, _, text = line.partition("\t")
        lines[name] = text
    return lines


@pytest.fixture(scope="module")
def c_corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("c_corpus")
    subprocess.run([TOOL, "write-corpus", str(d)], check=True)
    return d


# ---- C writes, cbor2 reads ----

C_VALUES = ["uints", "negints", "floats", "bytes", "text", "nested", "tags",
            "simple", "deep", "big_array", "int_map", "text_map", "mixed_keys",
            "typed_arrays"]


@pytest.mark.parametrize("name", C_VALUES)
def test_c_writes_cbor2_reads(c_corpus, name):
    data = (c_corpus / ("c_%s.cbor" % name)).read_bytes()
    want = (c_corpus / ("c_%s.txt" % name)).read_text()
    assert render(cbor2.loads(data)) == want
    det = (c_corpus / ("c_%s.det.cbor" % name)).read_bytes()
    assert norm(cbor2.loads(det)) == norm(cbor2.loads(data))


def test_c_corpus_covers_every_major_type(c_corpus):
    seen = set()
    for name in C_VALUES:
        for b in _walk_heads((c_corpus / ("c_%s.cbor" % name)).read_bytes()):
            seen.add(b >> 5)
    assert seen == set(range(8))


def _walk_heads(data):
    """The initial bytes of every item of a definite-length encoding."""
    out, pos, need = [], 0, 1
    while need and pos < len(data):
        ib = data[pos]
        out.append(ib)
        major, ai = ib >> 5, ib & 31
        pos += 1
        arg = ai
        if 24 <= ai <= 27:
            k = 1 << (ai - 24)
            arg = int.from_bytes(data[pos:pos + k], "big")
            pos += k
        need -= 1
        if major in (2, 3):
            pos += arg
        elif major == 4:
            need += arg
        elif major == 5:
            need += 2 * arg
        elif major == 6:
            need += 1
    return out


@pytest.mark.parametrize("name", ["uints", "negints", "floats", "bytes", "text",
                                  "simple", "deep", "big_array", "int_map",
                                  "text_map", "tags"])
def test_deterministic_equals_cbor2_canonical(c_corpus, name):
    """Where all keys of a map are of one kind, RFC 8949's bytewise order
    and cbor2's length-first order agree: the bytes must be the same."""
    data = (c_corpus / ("c_%s.cbor" % name)).read_bytes()
    det = (c_corpus / ("c_%s.det.cbor" % name)).read_bytes()
    theirs = cbor2.dumps(cbor2.loads(data), canonical=True)
    if name == "floats":
        # cbor2 5.4.6's C extension writes 65504.0, the largest half, as a
        # single (fa 477fe000); RFC 8949 Appendix A and cbor2's own pure
        # Python encoder write f9 7bff, as we do.  Compare the rest.
        assert bytes.fromhex("f97bff") in det
        theirs = theirs.replace(bytes.fromhex("fa477fe000"), bytes.fromhex("f97bff"))
    assert theirs == det


def test_cbor2_c_extension_writes_65504_as_single(tmp_path):
    """The one float where cbor2's canonical output is not the shortest."""
    theirs = cbor2.dumps(65504.0, canonical=True)
    f = tmp_path / "65504.cbor"
    f.write_bytes(theirs)
    if theirs == bytes.fromhex("f97bff"):  # a fixed cbor2: nothing to see
        assert tool("check", str(f))[str(f)] == "100"
        return
    assert theirs == bytes.fromhex("fa477fe000")
    assert tool("check", str(f))[str(f)] == "200"
    assert tool("canonical", str(f))[str(f)] == "f97bff"


def test_deterministic_order_is_rfc8949_not_rfc7049(c_corpus, tmp_path):
    det = (c_corpus / "c_mixed_keys.det.cbor").read_bytes()
    value = cbor2.loads(det)
    # bytewise: 100 (18 64) < -1 (20) < "k" (61 6b)
    assert list(value.keys()) == [100, -1, "k"]
    theirs = cbor2.dumps(value, canonical=True)
    assert list(cbor2.loads(theirs).keys()) == [-1, 100, "k"]  # length-first
    f = tmp_path / "theirs.cbor"
    f.write_bytes(theirs)
    g = tmp_path / "ours.cbor"
    g.write_bytes(det)
    got = tool("check", str(f), str(g))
    assert got[str(f)] == "200"   # not deterministic by RFC 8949
    assert got[str(g)] == "100"
    assert tool("canonical", str(f))[str(f)] == det.hex()


# ---- cbor2 writes, C reads ----

def nest(levels):
    v = 0
    for _ in range(levels):
        v = [v]
    return v


def python_corpus():
    vals = {
        "uints": [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1],
        "negints": [-1, -24, -25, -256, -257, -65536, -65537, -2**32, -2**32 - 1,
                    -2**63, -2**64],
        "floats": [0.0, -0.0, 1.5, 1.1, 100000.0, 65504.0, 1e300, 5.960464477539063e-08,
                   3.4028234663852886e+38, float("inf"), float("-inf"), float("nan"),
                   2.0**-1074, 1.0 / 3],
        "bytes": [b"", b"\x00\xff", bytes(range(256)) * 300],
        "text": ["", "a", "ü水𐅑😀", "\u0000\u001f\"\\", "x" * 70000],
        "array_nested": [1, [2, [3, [4, []]]], [], [[[[]]]]],
        "map": {"a": 1, "b": [1, 2], 3: {"c": None}, -7: True, b"k": False,
                (1, 2): "tuple key", 1.5: "float key"},
        "tags": [CBORTag(1000, "x"), CBORTag(2**32 + 5, b"\x01"),
                 CBORTag(2**64 - 1, 0), CBORTag(40, [[2], CBORTag(64, b"\x01\x02")]),
                 CBORTag(1001, CBORTag(1002, []))],
        "simple": [CBORSimpleValue(0), CBORSimpleValue(19), CBORSimpleValue(32),
                   CBORSimpleValue(255), True, False, None, undefined],
        "deep": nest(60),
        "big_array": list(range(20000)),
        "big_map": {("k%05d" % i): i for i in range(5000)},
    }
    return vals


# Bytes cbor2 cannot produce: indefinite lengths (RFC 8949 Appendix A)
# and floats at every width.
RAW = {
    "indef_bytes": "5f42010243030405ff",
    "indef_text": "7f657374726561646d696e67ff",
    "indef_nested": "9f018202039f0405ffff",
    "indef_map": "bf61610161629f0203ffff",
    "indef_mixed": "826161bf61626163ff",
    "indef_empty": "9f5fff7fffbfffff",
    "half": "83f93c00f97bfff90001",
    "single": "83fa47c35000fa7f7ffffffa7f800000",
    "double": "83fb3ff199999999999afb7ff8000000000000fbfff0000000000000",
    "nan_payloads": "82fa7fc00001f97e00",
}


def test_cbor2_writes_c_reads(tmp_path):
    files = {}
    for name, value in python_corpus().items():
        for mode in ("default", "canonical"):
            data = cbor2.dumps(value, canonical=(mode == "canonical"))
            f = tmp_path / ("%s.%s.cbor" % (name, mode))
            f.write_bytes(data)
            files[str(f)] = render(cbor2.loads(data))
    for name, hexdata in RAW.items():
        f = tmp_path / ("%s.cbor" % name)
        data = bytes.fromhex(hexdata)
        f.write_bytes(data)
        files[str(f)] = render(cbor2.loads(data))
    got = tool("decode", *files)
    for f, want in files.items():
        assert got[f] == want, f


def test_cbor2_canonical_maps_of_one_kind_pass_the_c_check(tmp_path):
    cases = {
        "ints": {i * 31 % 1000: i for i in range(1000)},
        "texts": {"k%d" % i: i for i in range(300)},
        "floats": [1.5, 100000.0, 1.1, float("inf"), float("nan")],
    }
    files = []
    for name, v in cases.items():
        f = tmp_path / (name + ".cbor")
        f.write_bytes(cbor2.dumps(v, canonical=True))
        files.append(str(f))
    got = tool("check", *files)
    assert all(got[f] == "100" for f in files), got
    # cbor2's default mode writes doubles: not deterministic
    f = tmp_path / "double.cbor"
    f.write_bytes(cbor2.dumps(1.5))
    assert tool("check", str(f))[str(f)] == "200"
    assert tool("canonical", str(f))[str(f)] == "f93e00"


def test_both_reject_malformed(tmp_path):
    """A few Appendix F items: cbor2 and the C decoder both refuse them.
    Except a lone break (ff): cbor2 5.4.6 returns its break_marker sentinel
    as if it were a value; RFC 8949 (Appendix F, subkind 4) and we refuse."""
    items = ["18", "5a ffffffff 00", "81", "c0", "9f", "1c", "5f 00 ff", "ff",
             "a1 ff", "bf 00 ff", "1f"]
    files = {}
    for i, h in enumerate(items):
        data = bytes.fromhex(h.replace(" ", ""))
        if h == "ff":
            assert repr(cbor2.loads(data)) == "break_marker"  # the C extension's sentinel
        else:
            with pytest.raises(cbor2.CBORDecodeError):
                cbor2.loads(data)
        f = tmp_path / ("bad%d.cbor" % i)
        f.write_bytes(data)
        files[str(f)] = h
    got = tool("decode", *files)
    for f in files:
        assert got[f] == "ERROR 200", files[f]


# ---- tensors ----

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "float16", "bfloat16", "float32", "float64"]
# RFC 8746: tag = 64 + 16*float + 8*signed + 4*little + log2(width/8 or /16)
TAGS = {  # dtype: (big-endian tag, little-endian tag, numpy dtype)
    "uint8": (64, 64, "u1"), "int8": (72, 72, "i1"),
    "uint16": (65, 69, "u2"), "uint32": (66, 70, "u4"), "uint64": (67, 71, "u8"),
    "int16": (73, 77, "i2"), "int32": (74, 78, "i4"), "int64": (75, 79, "i8"),
    "float16": (80, 84, "f2"), "float32": (81, 85, "f4"), "float64": (82, 86, "f8"),
}
SHAPES = {"scalar": (), "6": (6,), "2x3": (2, 3), "2x3x4": (2, 3, 4), "0x5": (0, 5)}


def expected(dtype, n):
    """cbor_tool's value(i), computed here independently."""
    i = np.arange(n, dtype=np.int64)
    if dtype == "bool":
        return (i % 3 == 0)
    if dtype.startswith("int"):
        s = (i * 37 + 5) * np.where(i % 2 == 1, -1, 1)
        return s.astype(np.int64).astype(dtype)  # wraps, two's complement
    if dtype.startswith("uint"):
        return (i * 37 + 5).astype(np.uint64).astype(dtype)
    return i * 0.25 - 1.5  # float16, bfloat16, float32, float64: exact


def to_numpy(value):
    """cbor2's view of a tensor -> (numpy array, dtype name, byte order)."""
    assert isinstance(value, CBORTag) and value.tag == 40
    shape, elements = value.value
    assert isinstance(elements, CBORTag)
    if elements.tag == IPCN_TAG_BOOL:
        inner = elements.value
        assert inner.tag == 64
        a = np.frombuffer(inner.value, dtype=np.uint8)
        assert set(np.unique(a)) <= {0, 1}
        return a.astype(bool).reshape(shape), "bool", None
    if elements.tag == IPCN_TAG_BFLOAT16:
        inner = elements.value
        order = {65: ">", 69: "<"}[inner.tag]
        u = np.frombuffer(inner.value, dtype=order + "u2").astype(np.uint32) << 16
        return u.view(np.float32).reshape(shape), "bfloat16", order
    for name, (be, le, code) in TAGS.items():
        if elements.tag in (be, le):
            order = "<" if elements.tag == le and be != le else ">"
            a = np.frombuffer(elements.value, dtype=order + code)
            return a.reshape(shape), name, order
    raise AssertionError("unknown typed-array tag %d" % elements.tag)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("order", ["little", "big"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_c_tensor_to_numpy(c_corpus, dtype, order, shape):
    data = (c_corpus / ("t_%s_%s_%s.cbor" % (dtype, order, shape))).read_bytes()
    arr, name, byteorder = to_numpy(cbor2.loads(data))
    assert name == dtype
    assert arr.shape == SHAPES[shape]
    if byteorder is not None and arr.dtype.itemsize > 1:
        assert byteorder == {"little": "<", "big": ">"}[order]
    want = expected(dtype, arr.size).reshape(SHAPES[shape])
    if arr.dtype.kind == "f":
        assert np.array_equal(arr.astype(np.float64), want)
    else:
        assert np.array_equal(arr, want.astype(arr.dtype))


def numpy_to_cbor(arr, dtype, order, fortran=False):
    """A NumPy array as IPCNet's tensor form, written by cbor2."""
    o = "<" if order == "little" else ">"
    layout = "F" if fortran else "C"
    if dtype == "bool":
        raw = arr.astype(np.uint8).tobytes(order=layout)
        elements = CBORTag(IPCN_TAG_BOOL, CBORTag(64, raw))
    elif dtype == "bfloat16":
        flat = np.asarray(arr, dtype=np.float32).reshape(-1)  # an array, never a scalar
        u = (flat.view(np.uint32) >> 16).astype(o + "u2").reshape(arr.shape)
        elements = CBORTag(IPCN_TAG_BFLOAT16,
                           CBORTag(65 if o == ">" else 69, u.tobytes(order=layout)))
    else:
        be, le, code = TAGS[dtype]
        raw = np.asarray(arr, dtype=o + code).tobytes(order=layout)
        elements = CBORTag(le if o == "<" else be, raw)
    return cbor2.dumps(CBORTag(1040 if fortran else 40, [list(arr.shape), elements]))


def render_flat(arr, dtype):
    out = []
    for x in np.asarray(arr).reshape(-1):
        if dtype == "bool":
            out.append("1" if x else "0")
        elif dtype.startswith("int") or dtype.startswith("uint"):
            out.append(str(int(x)))
        else:
            out.append(render(float(x)))
    return " ".join(out)


def test_numpy_tensor_to_c(tmp_path):
    rng = np.random.default_rng(8949)
    files = {}
    for dtype in DTYPES:
        for order in ("little", "big"):
            for shape in [(), (7,), (3, 4), (2, 3, 5), (4, 0)]:
                for fortran in (False, True):
                    if fortran and len(shape) < 2:
                        continue
                    n = int(np.prod(shape)) if shape else 1
                    if dtype == "bool":
                        arr = rng.integers(0, 2, n).astype(bool)
                    elif dtype.startswith("int") or dtype.startswith("uint"):
                        info = np.iinfo(dtype)
                        arr = rng.integers(info.min, info.max, n, dtype=dtype,
                                           endpoint=True)
                    elif dtype == "bfloat16":
                        arr = (rng.standard_normal(n).astype(np.float32).view(np.uint32)
                               & 0xFFFF0000).view(np.float32)
                    else:
                        arr = rng.standard_normal(n).astype(dtype)
                    arr = arr.reshape(shape)
                    f = tmp_path / ("%s_%s_%s_%s.cbor" % (
                        dtype, order, "x".join(map(str, shape)) or "scalar",
                        "F" if fortran else "C"))
                    f.write_bytes(numpy_to_cbor(arr, dtype, order, fortran))
                    files[str(f)] = "%s %d%s : %s" % (
                        dtype, len(shape), "".join(" %d" % d for d in shape),
                        render_flat(arr, dtype))
    got = tool("tensor", *files)
    for f, want in files.items():
        assert got[f].rstrip() == want.rstrip(), f
