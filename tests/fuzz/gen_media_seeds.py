#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# gen_media_seeds.py — writes the seed corpora of the media harnesses:
#   /usr/bin/python3 tests/fuzz/gen_media_seeds.py tests/fuzz/corpus
# <dir>/h264/: small Annex B streams built here NAL unit by NAL unit (an
# SPS written field by field with an Exp-Golomb writer, slices with chosen
# first_mb_in_slice), each prefixed by the harness's two control bytes;
# <dir>/wav/: WAV headers of every layout the parser knows, and broken
# ones; <dir>/mediadesc/: encoding "\0" metadata pairs and a .pcs file.
# The seeds are checked in; run this again only when the formats change.
import os
import struct
import sys

import cbor2


class Bits:
    """An RBSP writer: u(n), ue(v), se(v), trailing bits, then emulation
    prevention as in an Annex B stream."""

    def __init__(self):
        self.bits = []

    def u(self, n, v):
        self.bits += [(v >> (n - 1 - i)) & 1 for i in range(n)]

    def ue(self, v):
        v += 1
        n = v.bit_length()
        self.u(n - 1, 0)
        self.u(n, v)

    def se(self, v):
        self.ue(2 * v - 1 if v > 0 else -2 * v)

    def rbsp(self, trailing=True):
        b = self.bits + ([1] if trailing else [])
        b += [0] * (-len(b) % 8)
        raw = bytes(int("".join(map(str, b[i:i + 8])), 2) for i in range(0, len(b), 8))
        out, zeros = bytearray(), 0
        for c in raw:
            if zeros >= 2 and c <= 3:
                out.append(3)
                zeros = 0
            out.append(c)
            zeros = zeros + 1 if c == 0 else 0
        return bytes(out)


def nal(header, body, long_code=True):
    return (b"\0\0\0\1" if long_code else b"\0\0\1") + bytes([header]) + body


def sps(width_mbs=20, height_mbs=15, profile=66, crop=None, fps=(50, 1),
        scaling=False, frame_mbs_only=1):
    b = Bits()
    b.u(8, profile)
    b.u(8, 0xc0)
    b.u(8, 30)
    b.ue(0)                       # sps_id
    if profile in (100, 110, 122, 244):
        b.ue(1)                   # chroma_format_idc 4:2:0
        b.ue(0)
        b.ue(0)                   # bit depths 8
        b.u(1, 0)
        b.u(1, 1 if scaling else 0)
        if scaling:
            for i in range(8):
                b.u(1, 1 if i in (0, 6) else 0)
                if i in (0, 6):
                    for _ in range(16 if i < 6 else 64):
                        b.se(1)
    b.ue(0)                       # log2_max_frame_num - 4
    b.ue(2)                       # poc type 2
    b.ue(1)                       # max_num_ref_frames
    b.u(1, 0)
    b.ue(width_mbs - 1)
    b.ue(height_mbs - 1)
    b.u(1, frame_mbs_only)
    if not frame_mbs_only:
        b.u(1, 0)
    b.u(1, 1)                     # direct_8x8_inference
    b.u(1, 1 if crop else 0)
    if crop:
        for c in crop:
            b.ue(c)
    b.u(1, 1 if fps else 0)       # vui
    if fps:
        b.u(1, 0)
        b.u(1, 0)
        b.u(1, 0)
        b.u(1, 0)
        b.u(1, 1)                 # timing_info_present
        b.u(32, fps[1])           # num_units_in_tick
        b.u(32, fps[0])           # time_scale
        b.u(1, 1)
        b.u(5, 0)                 # no HRD, no pic_struct, no restriction
    return nal(0x67, b.rbsp())


def pps():
    b = Bits()
    b.ue(0)
    b.ue(0)
    b.u(1, 0)
    b.u(1, 0)
    b.ue(0)
    b.ue(0)
    b.ue(0)
    b.u(1, 0)
    b.u(2, 0)
    b.se(0)
    b.se(0)
    b.se(0)
    b.u(1, 0)
    b.u(1, 0)
    b.u(1, 0)
    return nal(0x68, b.rbsp())


def slice_(first_mb, idr=False, payload=b"\x88\x84\x21\xa0"):
    b = Bits()
    b.ue(first_mb)
    b.ue(7 if idr else 5)         # slice_type I or P
    b.ue(0)                       # pps_id
    return nal(0x65 if idr else 0x41, b.rbsp(trailing=False) + payload,
               long_code=False)


AUD = nal(0x09, b"\xf0")
SEI = nal(0x06, b"\x05\x01\x00\x80")


def h264_seeds():
    au1 = AUD + sps() + pps() + SEI + slice_(0, True) + slice_(10, True)
    au2 = AUD + slice_(0) + slice_(150)
    au3 = slice_(0) + nal(0x0c, b"\xff\xff\x80") + nal(0x0a, b"")
    stream = au1 + au2 + au3
    big = sps(width_mbs=120, height_mbs=68, profile=100,
              crop=(0, 0, 0, 4), fps=(60000, 1001), scaling=True)
    return {
        "aud-sps-pps-sei-slices": b"\x07\x05" + stream,
        "no-aud": b"\x07\x00" + sps() + pps() + slice_(0, True) + slice_(0) + slice_(0),
        "one-byte-chunks": b"\x07\x00" + stream,
        "garbage-first": b"\x05\x02" + b"junk\x00\x00\x02\xff" + stream,
        "forbidden-bit": b"\x07\x03" + au1 + nal(0xe5, b"\x11\x22\x00\x00\x03\x01") + au2,
        "oversize": b"\x00\x01" + au1 + slice_(0, payload=bytes(range(1, 250)) * 2) + au2,
        "epb-first-mb": b"\x07\x04" + au1 + slice_(70000) + slice_(0),
        "sps-1080p-crop-scaling": b"\x07\x09" + big + pps() + slice_(0, True),
        "sps-interlaced": b"\x07\x09" + sps(frame_mbs_only=0, height_mbs=8, fps=None),
        "zeros-only": b"\x03\x01" + bytes(40),
        "start-code-at-end": b"\x07\x02" + stream + b"\x00\x00\x01",
    }


def wav(fmt_tag, ch, rate, bits, data, valid=None, mask=0, ext=False,
        fact=False, fmt_extra=None, pre=b"", data_size=None, riff_size=None):
    align = ch * ((bits + 7) // 8)
    body = struct.pack("<HHIIHH", 0xfffe if ext else fmt_tag, ch, rate,
                       rate * align, align, bits)
    if ext:
        guid = struct.pack("<H", fmt_tag) + bytes.fromhex("000000001000800000aa00389b71")
        body += struct.pack("<HHI", 22, valid or bits, mask) + guid
    elif fmt_extra is not None:
        body += fmt_extra
    chunks = b"fmt " + struct.pack("<I", len(body)) + body
    if fact:
        chunks += b"fact" + struct.pack("<II", 4, len(data) // align)
    chunks = pre + chunks
    size = len(data) if data_size is None else data_size
    out = b"WAVE" + chunks + b"data" + struct.pack("<I", size) + data
    if len(data) % 2 and data_size is None:
        out += b"\0"
    return b"RIFF" + struct.pack("<I", len(out) if riff_size is None else riff_size) + out


def wav_seeds():
    s16 = bytes(range(0, 64))
    return {
        "pcm-s16-stereo": wav(1, 2, 48000, 16, s16),
        "pcm-u8-mono-odd": wav(1, 1, 8000, 8, bytes(range(1, 8))),
        "pcm-s24-extensible": wav(1, 1, 44100, 24, bytes(range(0, 30)), mask=4, ext=True, fact=True),
        "pcm-s32-valid20": wav(1, 2, 96000, 32, bytes(64), valid=20, mask=3, ext=True),
        "float32-fact": wav(3, 2, 44100, 32, bytes(32), fmt_extra=b"\0\0", fact=True),
        "float64": wav(3, 1, 22050, 64, bytes(16)),
        "list-before-data": wav(1, 1, 22050, 16, s16,
                                pre=b"LIST\x0b\x00\x00\x00INFOISFT\x01\x00\x00\x00x\x00"),
        "truncated": wav(1, 2, 48000, 16, s16, data_size=4096),
        "size-placeholder": wav(1, 1, 22050, 16, s16, data_size=0x7ffff000,
                                riff_size=0x7ffff024),
        "size-ffffffff": wav(1, 1, 44100, 16, s16, data_size=0xffffffff,
                             riff_size=0xffffffff),
        "data-before-fmt": b"RIFF\x2c\0\0\0WAVEdata\x04\0\0\0\1\2\3\4fmt \x10\0\0\0"
                           + struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16),
        "alaw": wav(6, 1, 8000, 8, bytes(8)),
        "huge-chunk": b"RIFF\xff\xff\xff\xffWAVEJUNK\xf0\xff\xff\xff" + bytes(16),
        "twelve-bit": wav(1, 1, 8000, 12, bytes(16)),
    }


def mediadesc_seeds():
    def pair(enc, meta):
        return enc.encode() + b"\0" + cbor2.dumps(meta)

    pcs = b"IPCNPCS1" + struct.pack("<II", 10, 1)
    for n in (2, 0, 1):
        pcs += struct.pack("<II", n, 0) + struct.pack("<4f", 1.5, -2, 0.25, 7) * n
    return {
        "h264": pair("video/h264;stream-format=byte-stream;alignment=au",
                     {"media": "video", "codec": "h264", "width": 320,
                      "height": 240, "fps": [25, 1], "samples": 50}),
        "raw-video": pair("video/raw;format=rgb24;width=4;height=2",
                          {"media": "video", "codec": "raw", "format": "rgb24",
                           "width": 4, "height": 2}),
        "pcm": pair("audio/pcm;rate=48000;channels=2;format=s16le",
                    {"media": "audio", "codec": "pcm", "rate": 48000,
                     "channels": 2, "format": "s16le", "bits": 16,
                     "samples_per_packet": 960,
                     "wav": {"format_tag": 1, "fmt_size": 16, "fact": False}}),
        "pcm-24-ext": pair("audio/pcm;rate=44100;channels=1;format=s24le",
                           {"media": "audio", "rate": 44100, "channels": 1,
                            "format": "s24le", "bits": 24, "channel_mask": 4,
                            "samples_per_packet": 882,
                            "wav": {"format_tag": 65534, "fmt_size": 40,
                                    "fact": True}}),
        "pointcloud": pair("pointcloud;fields=x,y,z,intensity;dtype=float32",
                           {"media": "pointcloud",
                            "fields": ["x", "y", "z", "intensity"],
                            "dtype": "float32", "point_stride": 16,
                            "points_per_sample": 30000, "rate": [10, 1]}),
        "not-media": pair("cbor", {"rate": 1}),
        "contradiction": pair("audio/pcm;rate=8000;channels=1;format=u8",
                              {"media": "audio", "rate": 16000}),
        "pcs-file": pcs,
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_media_seeds.py <tests/fuzz/corpus>")
    for sub, seeds in (("h264", h264_seeds()), ("wav", wav_seeds()),
                       ("mediadesc", mediadesc_seeds())):
        d = os.path.join(sys.argv[1], sub)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
