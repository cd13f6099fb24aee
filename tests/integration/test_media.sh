#!/usr/bin/env bash
# tests/integration/test_media.sh - media streams through IPCNet, between two
# `ipcnet` processes, with media made at run time by stock tools: a 2-second
# H.264 clip (ffmpeg, libx264 or libopenh264), WAV audio (sox: 16-bit stereo,
# 24-bit, float; espeak-ng: speech), and synthetic lidar sweeps (python3).
# Each is sent with `stream-send` and written back by `stream-recv`; the file
# that arrives must be the file sent, byte for byte (cmp), ffprobe must count
# the same frames / samples in both, and the samples' checksums on both sides
# must agree.  A subscriber with a tiny queue and a slow consumer must see,
# and report, gaps by sequence number.
#
#   bash tests/integration/test_media.sh path/to/ipcnet
#
# TAP output ("ok N - ...", "not ok N - ..."); exit 0 when every check
# passed, 1 otherwise, 77 when none of ffmpeg, sox and espeak-ng is there.
# A tool that is missing skips its own checks (said as "# SKIP").
set -u

BIN=${1:?usage: test_media.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_media: $BIN is not an executable"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "test_media: SKIP: no $PY"; exit 77; }
have() { command -v "$1" >/dev/null 2>&1; }
if ! have ffmpeg && ! have sox && ! have espeak-ng; then
    echo "test_media: SKIP: none of ffmpeg, sox, espeak-ng is installed"
    exit 77
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-media-test.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

RECV_PID=
cleanup() {
    [ -n "$RECV_PID" ] && kill -KILL "$RECV_PID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

T=0
F=0
ok() { T=$((T + 1)); echo "ok $T - $1"; }
nok() {
    T=$((T + 1)); F=$((F + 1))
    echo "not ok $T - $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'
    return 0
}
skip() { T=$((T + 1)); echo "ok $T - # SKIP $1"; }
check() { # check DESC CMD...: ok when CMD succeeds
    local desc=$1
    shift
    if "$@" >"$W/check.out" 2>&1; then ok "$desc"; else nok "$desc" "$(cat "$W/check.out")"; fi
}

# jq_py DESC FILE PYEXPR: FILE holds JSON lines, seen as the list d.
jq_py() {
    local res
    res=$("$PY" -c '
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if eval(sys.argv[2], {"d": d}) else 3)' "$2" "$3" 2>&1)
    case $? in
        0) ok "$1" ;;
        3) nok "$1: false: $3" "$(cat "$2")" ;;
        *) nok "$1: not JSON lines ($res)" "$(cat "$2")" ;;
    esac
}

# stream NAME FILE PATH [SEND_OPTS...] -- [RECV_OPTS...]: stream-recv PATH in
# the background, stream-send FILE PATH in the foreground, both bounded;
# results in $W/NAME.{send,recv}.{out,err}, exit statuses in $SRC and $RRC,
# the received file in $W/NAME.got.
stream() {
    local name=$1 file=$2 path=$3
    shift 3
    local send=() recv=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do send+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    recv=("$@")
    timeout 120 "$BIN" stream-recv "$path" "$W/$name.got" --json --timeout 20000 \
        "${recv[@]}" >"$W/$name.recv.out" 2>"$W/$name.recv.err" </dev/null &
    RECV_PID=$!
    timeout 120 "$BIN" stream-send "$file" "$path" --json --timeout 20000 "${send[@]}" \
        >"$W/$name.send.out" 2>"$W/$name.send.err" </dev/null
    SRC=$?
    wait "$RECV_PID"
    RRC=$?
    RECV_PID=
}

# streamed NAME DESC: both ends exited 0, the file came back identical, and
# the per-sample checksums on both sides agree.
streamed() {
    local name=$1 desc=$2
    if [ "$SRC" = 0 ] && [ "$RRC" = 0 ]; then
        ok "$desc: sent and received (exit 0, 0)"
    else
        nok "$desc: stream-send exit $SRC, stream-recv exit $RRC" \
            "$(cat "$W/$name.send.err" "$W/$name.recv.err" "$W/$name.recv.out" | tail -20)"
    fi
    check "$desc: the received file is the file sent (cmp)" cmp "$W/$name.src" "$W/$name.got"
    "$PY" - "$W/$name.send.out" "$W/$name.recv.out" >"$W/check.out" 2>&1 <<'EOF'
import json, sys
def load(p):
    return [json.loads(l) for l in open(p) if l.strip()]
s, r = load(sys.argv[1]), load(sys.argv[2])
ss = [(x["seq"], x["bytes"], x["xxh3"]) for x in s if x["event"] == "sample"]
rs = [(x["seq"], x["bytes"], x["xxh3"]) for x in r if x["event"] == "sample"]
se = [x for x in s if x["event"] == "end"][0]
re_ = [x for x in r if x["event"] == "end"][0]
assert ss and ss == rs, "per-sample seq/bytes/xxh3 differ"
assert [x[0] for x in rs] == list(range(1, len(rs) + 1)), "sequence numbers"
assert re_["end"] and re_["lost"] == 0 and re_["gaps"] == [], re_
assert se["samples"] == re_["samples"] == len(rs) and se["end_seq"] == len(rs) + 1
assert se["bytes"] == re_["bytes"]
print(len(rs), "samples")
EOF
    if [ $? = 0 ]; then
        ok "$desc: $(cat "$W/check.out"), checksums equal on both sides, no gap"
    else
        nok "$desc: the samples' checksums" "$(cat "$W/check.out")"
    fi
}

# probe FILE ENTRIES: ffprobe's value(s) of the first stream.
probe() {
    ffprobe -v error -select_streams 0 -show_entries "stream=$2" -of csv=p=0 "$1" 2>&1
}

# ---------------------------------------------------------------- video
echo "# H.264 video"
if ! have ffmpeg || ! have ffprobe; then
    skip "ffmpeg or ffprobe not installed: no video checks"
else
    encs=$(ffmpeg -hide_banner -encoders 2>/dev/null)
    if grep -q ' libx264 ' <<<"$encs"; then venc=(-c:v libx264 -pix_fmt yuv420p)
    elif grep -q ' libopenh264 ' <<<"$encs"; then venc=(-c:v libopenh264 -pix_fmt yuv420p)
    else venc=(); fi
    if [ ${#venc[@]} = 0 ]; then
        skip "this ffmpeg has no H.264 encoder (libx264, libopenh264)"
    elif ! timeout 60 ffmpeg -hide_banner -loglevel error -y -f lavfi \
            -i testsrc=size=320x240:rate=25 -t 2 "${venc[@]}" -bsf:v h264_mp4toannexb \
            -f h264 "$W/clip.src" </dev/null 2>"$W/ffmpeg.err"; then
        nok "ffmpeg made the H.264 clip" "$(cat "$W/ffmpeg.err")"
    else
        frames=$(ffprobe -v error -count_frames -select_streams v:0 \
                 -show_entries stream=nb_read_frames -of csv=p=0 "$W/clip.src")
        [ "$frames" = 50 ] && ok "ffmpeg made a 50-frame clip" || nok "the clip has $frames frames"
        stream clip "$W/clip.src" cam/front/h264 --rate max
        streamed clip "H.264 at max rate"
        got=$(ffprobe -v error -count_frames -select_streams v:0 \
              -show_entries stream=nb_read_frames,width,height -of csv=p=0 "$W/clip.got")
        [ "$got" = "320,240,$frames" ] && ok "ffprobe reads the received clip: 320x240, $frames frames" \
            || nok "ffprobe of the received clip says '$got', wanted 320,240,$frames"
        jq_py "one sample per access unit, with its presentation time" "$W/clip.recv.out" \
            "[x['pts_ns'] for x in d if x['event']=='sample'] == [k*40000000 for k in range($frames)]"
        jq_py "the stream describes itself: encoding and metadata" "$W/clip.send.out" \
            "d[0]['encoding']=='video/h264;stream-format=byte-stream;alignment=au' and d[0]['media']=='video h264 320x240 25 fps'"

        # in real time: the same bytes, paced by the clip's frame rate
        cp "$W/clip.src" "$W/clip-rt.src"
        stream clip-rt "$W/clip-rt.src" cam/front/h264 --rate realtime
        streamed clip-rt "H.264 in real time"
    fi
fi

# ---------------------------------------------------------------- audio
echo "# WAV audio"
wav_checks() { # wav_checks NAME DESC: ffprobe agrees on both files
    local a b
    a=$(probe "$W/$1.src" codec_name,sample_rate,channels,duration_ts,duration)
    b=$(probe "$W/$1.got" codec_name,sample_rate,channels,duration_ts,duration)
    if [ -n "$a" ] && [ "$a" = "$b" ]; then
        ok "$2: ffprobe reads the same format, sample count and duration ($b)"
    else
        nok "$2: ffprobe says '$b', the original '$a'"
    fi
}
if ! have sox; then
    skip "sox not installed: no sox audio checks"
else
    sox -n -r 48000 -c 2 -b 16 -t wav "$W/tone.src" synth 2 sine 440 sine 660 2>/dev/null
    sox -n -r 44100 -c 1 -b 24 -t wav "$W/tone24.src" synth 1 sine 300 2>/dev/null
    sox -n -r 44100 -c 2 -e floating-point -b 32 -t wav "$W/tonef.src" synth 1 sine 300 2>/dev/null
    ln -s "$W/tone.src" "$W/tone-src.wav"
    ln -s "$W/tone.got" "$W/tone-got.wav"
    samples=$(soxi -s "$W/tone-src.wav" 2>/dev/null)
    [ "$samples" = 96000 ] && ok "sox made 2 s of 48 kHz stereo" || nok "sox made $samples samples"
    stream tone "$W/tone.src" mic/tone --rate max
    streamed tone "16-bit stereo WAV (sox)"
    [ "$(soxi -s "$W/tone-got.wav" 2>/dev/null)" = "$samples" ] && ok "soxi counts $samples samples received" \
        || nok "soxi counts $(soxi -s "$W/tone-got.wav" 2>&1) samples received"
    if have ffprobe; then wav_checks tone "16-bit stereo WAV"; fi
    jq_py "20 ms per sample: 100 samples" "$W/tone.recv.out" \
        "[x['pts_ns'] for x in d if x['event']=='sample'] == [k*20000000 for k in range(100)]"
    stream tone24 "$W/tone24.src" mic/tone24 --rate realtime
    streamed tone24 "24-bit WAV, WAVE_FORMAT_EXTENSIBLE (sox), in real time"
    if have ffprobe; then wav_checks tone24 "24-bit WAV"; fi
    stream tonef "$W/tonef.src" mic/tonef --rate max
    streamed tonef "float WAV with a fact chunk (sox)"
    if have ffprobe; then wav_checks tonef "float WAV"; fi
fi
if ! have espeak-ng; then
    skip "espeak-ng not installed: no speech check"
else
    espeak-ng -w "$W/speech.src" "In processes we trust. Media streams through IPCNet." 2>/dev/null
    stream speech "$W/speech.src" robot/voice --rate max
    streamed speech "spoken WAV (espeak-ng)"
    if have ffprobe; then wav_checks speech "spoken WAV"; fi
fi

# ---------------------------------------------------------------- point clouds
echo "# point clouds"
"$PY" - "$W/lidar.src" <<'EOF'
import math, struct, sys
# 10 sweeps of 30000 points (x, y, z, intensity as float32): 480 KB each
with open(sys.argv[1], "wb") as f:
    f.write(b"IPCNPCS1" + struct.pack("<II", 10, 1))
    for s in range(10):
        n = 30000
        f.write(struct.pack("<II", n, 0))
        pts = []
        for i in range(n):
            a = 2 * math.pi * i / n
            r = 8 + math.sin(9 * a + s)
            pts += [r * math.cos(a), r * math.sin(a), 0.05 * (i % 32) - 0.8, (i * 7 + s) % 256]
        f.write(struct.pack("<%df" % len(pts), *pts))
EOF
stream lidar "$W/lidar.src" lidar/top --rate max
streamed lidar "10 lidar sweeps of 480 KB"
"$PY" - "$W/lidar.src" "$W/lidar.got" >"$W/check.out" 2>&1 <<'EOF'
import hashlib, struct, sys
def sweeps(p):
    b = open(p, "rb").read()
    assert b[:8] == b"IPCNPCS1"
    pos, out = 16, []
    while pos < len(b):
        n, z = struct.unpack_from("<II", b, pos)
        out.append(hashlib.sha256(b[pos + 8:pos + 8 + 16 * n]).hexdigest())
        pos += 8 + 16 * n
    return out
a, b = sweeps(sys.argv[1]), sweeps(sys.argv[2])
assert len(a) == 10 and a == b, (len(a), len(b))
EOF
[ $? = 0 ] && ok "each of the 10 sweeps has the checksum it was sent with (SHA-256)" \
    || nok "per-sweep checksums" "$(cat "$W/check.out")"
jq_py "sweeps 100 ms apart, 30000 points each" "$W/lidar.recv.out" \
    "[x['pts_ns'] for x in d if x['event']=='sample']==[k*100000000 for k in range(10)] and d[-1]['media'].endswith('30000 points')"
shared=$("$PY" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l).get("shared")))' "$W/lidar.recv.out")
echo "# $shared of 10 sweeps came through shared memory"

# ---------------------------------------------------------------- gaps
echo "# gaps"
if have sox; then gapsrc="$W/tone.src"; else gapsrc="$W/lidar.src"; fi
cp "$gapsrc" "$W/gaps.src"
stream gaps "$W/gaps.src" mic/gaps --rate max -- --queue 2 --delay 50
[ "$SRC" = 0 ] && ok "the sender of the gap test ends (exit 0)" || nok "gap test sender: exit $SRC" "$(cat "$W/gaps.send.err")"
[ "$RRC" = 1 ] && ok "a slow consumer with a queue of 2 fails (exit 1)" \
    || nok "the slow consumer exited $RRC" "$(cat "$W/gaps.recv.err")"
grep -q '^gap: samples\? [0-9]' "$W/gaps.recv.err" && ok "it lists the gaps by sequence number" \
    || nok "no gap listed" "$(cat "$W/gaps.recv.err")"
grep -q '^104 Partial Data: [0-9]* samples of mic/gaps missing' "$W/gaps.recv.err" \
    && ok "it says how many samples are missing" || nok "no count of missing samples" "$(cat "$W/gaps.recv.err")"
jq_py "gaps: the end came, samples were lost, lost + received = sent" "$W/gaps.recv.out" \
    "d[-1]['end'] and d[-1]['lost'] > 0 and d[-1]['gaps'] and d[-1]['dropped_here'] > 0 and d[-1]['samples'] + d[-1]['lost'] == $(grep -c '"event":"sample"' "$W/gaps.send.out")"

# a sender killed mid-stream: the end marker never comes
if have sox; then
    timeout 60 "$BIN" stream-recv mic/cut "$W/cut.got" --json --timeout 20000 \
        >"$W/cut.recv.out" 2>"$W/cut.recv.err" </dev/null &
    RECV_PID=$!
    # (not under timeout(1), so that the kill reaches it: it ends by itself
    # within --timeout and the 2 s of the tone anyway)
    "$BIN" stream-send "$W/tone.src" mic/cut --rate realtime --timeout 20000 \
        >"$W/cut.send.out" 2>"$W/cut.send.err" </dev/null &
    spid=$!
    for ((i = 0; i < 400; i++)); do
        grep -q '"event":"sample"' "$W/cut.recv.out" 2>/dev/null && break
        sleep 0.05
    done
    kill -KILL "$spid" 2>/dev/null
    wait "$spid" 2>/dev/null
    wait "$RECV_PID"
    rc=$?
    RECV_PID=
    [ "$rc" = 1 ] && grep -q '^104 Partial Data: mic/cut ended without its end marker' "$W/cut.recv.err" \
        && ok "a sender killed mid-stream: the receiver says the end never came (exit 1)" \
        || nok "sender killed mid-stream: receiver exit $rc" "$(cat "$W/cut.recv.err")"
fi

# ---------------------------------------------------------------- refusals
echo "# refusals"
printf 'this is not media\n' >"$W/text.src"
timeout 30 "$BIN" stream-send "$W/text.src" x/y --wait-subs 0 >"$W/r.out" 2>"$W/r.err" </dev/null
rc=$?
[ "$rc" = 1 ] && grep -q '^200 Bad Request: .*not an H.264' "$W/r.err" \
    && ok "stream-send refuses a file that is not media (200)" || nok "stream-send of text: exit $rc" "$(cat "$W/r.err")"
printf 'RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x00\x00' >"$W/bad.wav"
timeout 30 "$BIN" stream-send "$W/bad.wav" x/y --wait-subs 0 >"$W/r.out" 2>"$W/r.err" </dev/null
rc=$?
[ "$rc" = 1 ] && grep -q '^200 Bad Request: .*not a valid WAV' "$W/r.err" \
    && ok "stream-send refuses a broken WAV header (200)" || nok "stream-send of a broken WAV: exit $rc" "$(cat "$W/r.err")"
timeout 30 "$BIN" stream-send "$W/nothing" x/y >"$W/r.out" 2>"$W/r.err" </dev/null
[ $? = 1 ] && grep -q '^203 Not Found' "$W/r.err" && ok "stream-send of a missing file: 203" \
    || nok "stream-send of a missing file" "$(cat "$W/r.err")"
timeout 30 "$BIN" stream-send "$W/tone.src" x/y --rate fast >"$W/r.out" 2>"$W/r.err" </dev/null
[ $? = 2 ] && ok "--rate takes realtime or max (exit 2)" || nok "--rate fast" "$(cat "$W/r.err")"
timeout 30 "$BIN" stream-recv x/none "$W/none.out" --timeout 300 >"$W/r.out" 2>"$W/r.err" </dev/null
[ $? = 1 ] && grep -q '^304 Gateway Timeout' "$W/r.err" && ok "stream-recv with no stream: 304 after --timeout" \
    || nok "stream-recv with no stream" "$(cat "$W/r.err")"
timeout 30 "$BIN" stream-send "$W/lidar.src" x/y --wait-subs 1 --timeout 300 >"$W/r.out" 2>"$W/r.err" </dev/null
[ $? = 1 ] && grep -q '^304 Gateway Timeout: 0 of 1 subscribers' "$W/r.err" \
    && ok "stream-send with no subscriber: 304 after --timeout" || nok "stream-send, no subscriber" "$(cat "$W/r.err")"
# a stream that is not media
timeout 30 "$BIN" pub not/media '{"x": 1}' --rate 20 --count 100 >/dev/null 2>&1 </dev/null &
pubpid=$!
timeout 30 "$BIN" stream-recv not/media "$W/nm.out" --timeout 5000 >"$W/r.out" 2>"$W/r.err" </dev/null
rc=$?
kill "$pubpid" 2>/dev/null
wait "$pubpid" 2>/dev/null
[ "$rc" = 1 ] && grep -q "^200 Bad Request: not/media is not a media stream (encoding 'cbor')" "$W/r.err" \
    && ok "stream-recv refuses a stream that is not media" || nok "stream-recv of a cbor stream: exit $rc" "$(cat "$W/r.err")"

echo "1..$T"
[ "$F" = 0 ] || { echo "# $F of $T checks failed"; exit 1; }
exit 0
