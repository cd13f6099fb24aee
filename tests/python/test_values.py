# SPDX-License-Identifier: MIT
"""Values: Python objects <-> CBOR through the C library's writer and reader
(ipcnet.dumps/loads/encode/decode), checked against cbor2 where it is
installed, and the encodings chosen for each type."""
import math

import pytest

import ipcnet

cbor2 = pytest.importorskip("cbor2")
np = pytest.importorskip("numpy")


ROUND_TRIP = [
    None, True, False, 0, 1, -1, 23, 24, 255, 256, 65535, 65536, 2**32, 2**63 - 1, 2**63,
    2**64 - 1, -2**63, -2**63 - 1, -2**64, 0.0, -0.0, 1.5, 3.141592653589793, 1e300,
    float("inf"), float("-inf"), "", "héllo ✓", b"", b"\x00\xff", [], [1, [2, [3]]],
    {}, {"a": 1, "b": [True, None], "c": {"d": b"x"}}, {1: "int key", -5: "neg"},
]


@pytest.mark.parametrize("v", ROUND_TRIP, ids=repr)
def test_round_trip_and_cbor2(v):
    data = ipcnet.dumps(v)
    assert ipcnet.loads(data) == v
    assert cbor2.loads(data) == v          # a stock decoder reads what we write
    assert ipcnet.loads(cbor2.dumps(v)) == v  # and we read what it writes


def test_nan_and_tuples():
    assert math.isnan(ipcnet.loads(ipcnet.dumps(float("nan"))))
    assert ipcnet.loads(ipcnet.dumps((1, (2, 3)))) == [1, [2, 3]]
    # An array as a map key comes back as a tuple (hashable).
    assert ipcnet.loads(cbor2.dumps({(1, 2): "pair"})) == {(1, 2): "pair"}


def test_ints_beyond_64_bits_raise():
    with pytest.raises(OverflowError):
        ipcnet.dumps(2**64)
    with pytest.raises(OverflowError):
        ipcnet.dumps(-2**64 - 1)
    # Bignums written by others decode.
    assert ipcnet.loads(cbor2.dumps(2**100)) == 2**100
    assert ipcnet.loads(cbor2.dumps(-2**100)) == -2**100


def test_unencodable_values_raise():
    with pytest.raises(TypeError):
        ipcnet.dumps({1, 2})
    with pytest.raises(TypeError):
        ipcnet.dumps(object())
    with pytest.raises(UnicodeEncodeError):
        ipcnet.dumps("\ud800")
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError):
        ipcnet.dumps(cyclic)


def test_numpy_scalars_are_numbers():
    assert ipcnet.loads(ipcnet.dumps({"i": np.int64(7), "f": np.float32(0.5),
                                      "b": np.bool_(True)})) == {"i": 7, "f": 0.5, "b": True}


def test_tags_and_simple_values():
    v = ipcnet.loads(cbor2.dumps(cbor2.CBORTag(12345, ["x"])))
    assert isinstance(v, ipcnet.Tag) and v.tag == 12345 and v.value == ["x"]
    assert ipcnet.loads(ipcnet.dumps(ipcnet.Tag(1000, {"k": 1}))) == ipcnet.Tag(1000, {"k": 1})
    assert cbor2.loads(ipcnet.dumps(ipcnet.Tag(1000, 5))) == cbor2.CBORTag(1000, 5)
    assert ipcnet.loads(b"\xf7") is None  # undefined


def test_indefinite_lengths():
    assert ipcnet.loads(bytes.fromhex("9f0102ff")) == [1, 2]
    assert ipcnet.loads(bytes.fromhex("bf6161 01ff".replace(" ", ""))) == {"a": 1}
    assert ipcnet.loads(bytes.fromhex("7f616161 62ff".replace(" ", ""))) == "ab"
    assert ipcnet.loads(bytes.fromhex("5f4101 4102ff".replace(" ", ""))) == b"\x01\x02"


@pytest.mark.parametrize("bad", [b"", b"\x18", b"\x82\x01", b"\x01\x02", b"\x62\xff\xfe",
                                 b"\x9b" + b"\xff" * 8, b"\xbf\x01", b"\x1c"], ids=bytes.hex)
def test_malformed_cbor_is_bad_request(bad):
    with pytest.raises(ipcnet.BadRequest) as e:
        ipcnet.loads(bad)
    assert e.value.status == 200


def test_deep_nesting_is_refused():
    deep = b"\x81" * 200 + b"\x01"
    with pytest.raises(ipcnet.BadRequest):
        ipcnet.loads(deep)


def test_encodings_by_type():
    assert ipcnet.encode("hi") == (b"hi", "text/plain")
    assert ipcnet.encode(b"\x00\x01") == (b"\x00\x01", "bytes")
    assert ipcnet.encode({"a": 1})[1] == "cbor"
    assert ipcnet.encode(np.zeros(3, np.float32))[1] == "tensor"
    assert ipcnet.encode(np.int64(5))[1] == "cbor"
    # An explicit encoding wins.
    assert ipcnet.encode("hi", "cbor") == (cbor2.dumps("hi"), "cbor")
    assert ipcnet.encode({"a": [1]}, "application/json") == (b'{"a": [1]}', "application/json")
    assert ipcnet.encode(b"raw", "video/h264") == (b"raw", "video/h264")
    assert ipcnet.encode(np.arange(3, dtype=np.uint8), "bytes") == (b"\x00\x01\x02", "bytes")
    with pytest.raises(TypeError):
        ipcnet.encode(3, "tensor")


def test_decode_by_encoding():
    assert ipcnet.decode(b"hello", "text/plain;charset=utf-8") == "hello"
    assert ipcnet.decode(b'{"a": [1, 2]}', "application/json") == {"a": [1, 2]}
    assert ipcnet.decode(b"\x00\x01", "bytes") == b"\x00\x01"
    assert ipcnet.decode(b"\x00\x01", "video/raw;format=gray8;width=2;height=1") == b"\x00\x01"
    assert ipcnet.decode(b"", "cbor") is None
    assert ipcnet.decode(b"", "text/plain") == ""


def test_tensors_nested_in_cbor():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    data = ipcnet.dumps({"image": a, "label": "cat", "ids": np.array([1, 2], np.int64)})
    v = ipcnet.loads(data)
    assert v["label"] == "cat"
    assert isinstance(v["image"], ipcnet.Tensor)
    assert v["image"].shape == (3, 4) and v["image"].dtype == "float32"
    np.testing.assert_array_equal(np.asarray(v["image"]), a)
    np.testing.assert_array_equal(np.asarray(v["ids"]), [1, 2])
    # RFC 8746 as cbor2 sees it: tag 40 around [shape, typed array 85].
    raw = cbor2.loads(data)["image"]
    assert raw.tag == 40 and raw.value[0] == [3, 4] and raw.value[1].tag == 85


def test_tensor_view_of_bytes_keeps_them_alive():
    data = bytearray(ipcnet.dumps(np.arange(5, dtype=np.int16)))
    t = ipcnet.loads(data)
    view = np.asarray(t)
    # The tensor holds the bytearray's buffer: it cannot be resized under us.
    with pytest.raises(BufferError):
        data.extend(b"x")
    del t
    np.testing.assert_array_equal(view, np.arange(5))


def test_big_endian_and_column_major_tensors():
    # 40([[2, 3], 82(h'...')]) float64 big endian; 1040 column-major.
    a = np.arange(6, dtype=">f8").reshape(2, 3)
    data = cbor2.dumps(cbor2.CBORTag(40, [[2, 3], cbor2.CBORTag(82, a.tobytes())]))
    t = ipcnet.loads(data)
    assert t.byteorder == "big"
    np.testing.assert_array_equal(np.asarray(t), a)
    np.testing.assert_array_equal(np.from_dlpack(t), a)  # a native copy for DLPack
    f = np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3))
    data = cbor2.dumps(cbor2.CBORTag(1040, [[2, 3], cbor2.CBORTag(78, f.tobytes(order="F"))]))
    t = ipcnet.loads(data)
    np.testing.assert_array_equal(np.asarray(t), f)
    np.testing.assert_array_equal(np.from_dlpack(t), f)


def test_errors_carry_status():
    e = ipcnet.Error(1001, "out of stock")
    assert e.status == 1001 and "1001" in str(e) and "out of stock" in str(e)
    assert isinstance(ipcnet.Timeout(), TimeoutError) and ipcnet.Timeout().status == 304
    assert isinstance(ipcnet.NotFound("x"), LookupError) and ipcnet.NotFound("x").text == "x"
    assert ipcnet.status_str(203) == "Not Found"
