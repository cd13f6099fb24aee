#!/usr/bin/env bash
# tests/integration/test_record.sh - `ipcnet record`, `play`, `info` (MCAP,
# docs/protocol.md 21) end to end, with real processes:
#  - rec_peer pub publishes a 1 kHz stream of 64 B, a 30 Hz 640x480 RGB
#    stream in shared memory and calls a service through the recorder's
#    --proxy every 100 ms, for SECONDS; `ipcnet record` records them;
#  - `ipcnet info` (and --json) summarises the file: complete, the counts;
#  - the npm package @mcap/core (run by Node.js, tests/interop/mcap_read.js)
#    reads the same file: the same messages (count and SHA-256 of each
#    message's channel, sequence, times and bytes, in order);
#  - `ipcnet play` at rate 1 to rec_peer sub: every recorded sample comes
#    back once with its sequence number and bytes; the timing error (arrival
#    against recorded time, median removed) is measured and printed (that
#    it was is checked), p99 checked against 1 ms only with
#    IPCNET_TIMING_STRICT=1 (the machine is shared: no timed assertion by
#    default; a p50 of 0.08 ms was seen with a p99 of 60 ms under load);
#  - `ipcnet play --rate max`: nothing lost.
#
#   bash test_record.sh path/to/ipcnet path/to/ipcn-test-rec_peer SECONDS NPM_DIR JS
#
# SECONDS: 60 in the normal build's test_record_60s (the issue's figure),
# 5 in test_record (every build, ASan included).  TAP output; exit 0 when
# every check passed, 1 otherwise, 77 when it cannot run.
set -u

BIN=${1:?usage: test_record.sh ipcnet rec_peer SECONDS NPM_DIR JS}
PEER=${2:?}
SECS=${3:?}
NPM_DIR=${4:?}
JS=${5:?}
[ -x "$BIN" ] && [ -x "$PEER" ] || { echo "test_record: missing binaries"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-record.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
TAP_TIMEOUT=$((SECS * 3 + 60))

declare -A PID
cleanup() {
    local n
    for n in "${!PID[@]}"; do
        kill -KILL "${PID[$n]}" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../interop/mcap_npm.sh"

start() {
    local name=$1
    shift
    "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    PID[$name]=$!
}

wait_line() { # wait_line NAME REGEX SECONDS
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE "$2" "$W/$1.out" 2>/dev/null && return 0
        kill -0 "${PID[$1]}" 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

F0=$(date +%s)
phase() { echo "# $(($(date +%s) - F0)) s: $1"; }
# 1. Record.
start rec "$BIN" record 'rt/**' -o "$W/run.mcap" --proxy rt/svc_rec=rt/svc --name recorder
# Provenance on for the publisher's streams: the recorder keeps each
# sample's record in the path's companion channel (section 21).
start pub env IPCNET_PROVENANCE=on "$PEER" pub "$SECS"
if wait_line pub '^publishing' 30; then ok "the publisher sees the recorder"; else
    nok "the publisher did not see the recorder" "$(cat "$W/pub.out" "$W/pub.err" "$W/rec.err")"; fi
if wait_line pub '^done' $((SECS * 3 + 30)); then ok "published for $SECS s"; else
    nok "the publisher did not end" "$(cat "$W/pub.out" "$W/pub.err")"; fi
wait "${PID[pub]}"; unset 'PID[pub]'
sleep 0.3
kill -INT "${PID[rec]}"
wait "${PID[rec]}"; rrc=$?; unset 'PID[rec]'
if [ "$rrc" = 0 ]; then ok "the recorder ended on SIGINT with 0"; else
    nok "the recorder: exit $rrc" "$(cat "$W/rec.err")"; fi
grep -q '^done' "$W/pub.out" && sed 's/^/# /' "$W/pub.out"
sed 's/^/# /' "$W/rec.err"

# 2. info.
phase recorded
r 0 "info summarises the recording" "$BIN" info "$W/run.mcap"
contains "info: complete" "$out" "(complete)"
contains "info: zstd" "$out" "compression zstd"
r 0 "info --json" "$BIN" info "$W/run.mcap" --json
jcheck "info --json: the streams, the calls, the counts" "$out" \
  "(lambda c: d[0]['state'] == 'complete' and c.get(('rt/fast', 'stream'), 0) >= $SECS * 1000 * 0.98 and c.get(('rt/cam', 'stream'), 0) >= $SECS * 30 * 0.95 and c.get(('rt/svc', 'request'), 0) >= $SECS * 10 - 2 and c.get(('rt/svc', 'reply'), 0) == c.get(('rt/svc', 'request')) and d[0]['messages'] == sum(c.values()))({(x['topic'], x['kind']): x['messages'] for x in d[0]['channels']})"

jcheck "info --json: a provenance record for every sample of rt/fast" "$out" \
  "(lambda c: c.get(('rt/fast', 'provenance'), -1) == c.get(('rt/fast', 'stream'), -2))({(x['topic'], x['kind']): x['messages'] for x in d[0]['channels']})"

# 3. The independent reader.
if mcap_npm_ready; then
    r 0 "@mcap/core reads the file" node "$JS" "$W/run.mcap"
    npm_out=$out
    r 0 "our reader's digest of the file" "$PEER" digest "$W/run.mcap"
    if [ "$npm_out" = "$out" ]; then ok "both readers: the same messages ($out)"; else
        nok "the readers differ" "npm:  $npm_out"$'\n'"ours: $out"; fi
else
    nok "the npm package @mcap/core could not be installed" "$(cat "$W/npm.log" 2>/dev/null)"
fi

# 4. Play at rate 1.
phase "read by both readers"
start sub "$PEER" sub "$W/run.mcap" 1
wait_line sub '^subscribed' 30 || nok "the subscriber did not start" "$(cat "$W/sub.err")"
r 0 "play at rate 1" "$BIN" play "$W/run.mcap" --wait-subs 1
wait "${PID[sub]}"; src=$?; unset 'PID[sub]'
if [ "$src" = 0 ]; then ok "rate 1: every sample back, same seq and bytes"; else
    nok "rate 1: exit $src" "$(cat "$W/sub.out" "$W/sub.err")"; fi
sed 's/^/# rate 1: /' "$W/sub.out"
p99=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$W/sub.out")
# The p99 is measured and printed every run, asserted only with
# IPCNET_TIMING_STRICT=1: on the shared test machine a p50 of 0.08 ms came
# with a p99 of 60 ms (other builds running), so no bound is loose enough
# to mean something and never fail by load alone.  That it was measured
# is checked.
if [ -n "$p99" ]; then ok "timing error measured: p99 $p99 ms (not asserted unless IPCNET_TIMING_STRICT=1)"; else
    nok "no timing error measured" "$(cat "$W/sub.out")"; fi
if [ "${IPCNET_TIMING_STRICT:-0}" = 1 ]; then
    if python3 -c "import sys; sys.exit(0 if float('${p99:-99}') <= 1.0 else 1)"; then
        ok "timing error p99 ${p99} ms <= 1 ms"; else nok "timing error p99 ${p99:-?} ms > 1 ms"; fi
fi

# 5. Play as fast as possible.
phase "played at rate 1"
start sub "$PEER" sub "$W/run.mcap" 0
wait_line sub '^subscribed' 30 || nok "the subscriber did not start" "$(cat "$W/sub.err")"
r 0 "play --rate max" "$BIN" play "$W/run.mcap" --wait-subs 1 --rate max
wait "${PID[sub]}"; src=$?; unset 'PID[sub]'
if [ "$src" = 0 ]; then ok "rate max: nothing lost"; else
    nok "rate max: exit $src" "$(cat "$W/sub.out" "$W/sub.err")"; fi
sed 's/^/# rate max: /' "$W/sub.out"

# 6. --only: the camera's samples only.
phase "played at rate max"
cam=$("$BIN" info "$W/run.mcap" --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
print(sum(x['messages'] for x in d['channels'] if x['topic'] == 'rt/cam'))")
r 0 "play --only rt/cam" "$BIN" play "$W/run.mcap" --rate max --only rt/cam --wait 200
contains "--only: the $cam samples of rt/cam, nothing else" "$err" "played $cam messages"
# --proxy whose TO the recorder offers itself: each call would enter it
# again; refused at start.
r 2 "record --proxy FROM=FROM is refused" "$BIN" record 'rt/**' -o "$W/loop.mcap" --proxy rt/l=rt/l
contains "record --proxy FROM=FROM: says why" "$err" "would call itself"
r 2 "record --proxy a chain back to itself is refused" "$BIN" record 'rt/**' -o "$W/loop.mcap" \
  --proxy rt/a=rt/b --proxy rt/b=rt/a
# A path recorded from two providers: one plays (the first recorded, or
# --provider's), the other is named on stderr; their sequence numbers would
# interleave on one resource.
python3 - "$W/two.mcap" <<'PY'
import struct, sys
def s(b): return struct.pack('<I', len(b)) + b
def rec(op, body): return bytes([op]) + struct.pack('<Q', len(body)) + body
def chan(cid, prov, pid):
    meta = b''.join(s(k) + s(v) for k, v in [(b'ipcnet.kind', b'stream'),
        (b'ipcnet.encoding', b'text/plain'), (b'ipcnet.provider', prov),
        (b'ipcnet.provider_id', pid)])
    return rec(4, struct.pack('<HH', cid, 0) + s(b'two/s') + s(b'text/plain') + s(meta))
f = b'\x89MCAP0\r\n' + rec(1, bytes(8))
f += chan(1, b'alpha', b'00000000000000aa') + chan(2, b'beta', b'00000000000000bb')
for i in range(10):
    for c, n in ((1, 3), (2, 4)):
        if c == 1 and i >= n: continue
        if c == 2 and i >= n: continue
        f += rec(5, struct.pack('<HIQQ', c, i + 1, 10**9 + i * 1000, 10**9) + b'x')
open(sys.argv[1], 'wb').write(f)
PY
r 0 "play of a path with two providers" "$BIN" play "$W/two.mcap" --rate max --wait 200
contains "play: the first provider's samples only" "$err" "played 3 messages"
contains "play: names the provider skipped" "$err" "skipping the samples of provider beta"
r 0 "play --provider beta" "$BIN" play "$W/two.mcap" --rate max --wait 200 --provider beta
contains "play --provider: its samples only" "$err" "played 4 messages"
contains "play --provider: names the other" "$err" "skipping the samples of provider alpha"

# A replay recorded and replayed: its metadata has "replayed" already and
# keeps one such key (a CBOR map with the key twice is not one).
python3 - "$W/again.mcap" <<'PY'
import struct, sys
def s(b): return struct.pack('<I', len(b)) + b
def rec(op, body): return bytes([op]) + struct.pack('<Q', len(body)) + body
meta = b''.join(s(k) + s(v) for k, v in [(b'ipcnet.kind', b'stream'),
    (b'ipcnet.encoding', b'text/plain'), (b'ipcnet.provider', b'player'),
    (b'ipcnet.provider_id', b'00000000000000cc'),
    (b'ipcnet.meta', (b'\xa2\x68replayed\xf5\x61u\x61m').hex().encode())])
f = b'\x89MCAP0\r\n' + rec(1, bytes(8))
f += rec(4, struct.pack('<HH', 1, 0) + s(b'again/s') + s(b'text/plain') + s(meta))
f += rec(5, struct.pack('<HIQQ', 1, 1, 10**9, 10**9) + b'x')
open(sys.argv[1], 'wb').write(f)
PY
start again "$BIN" play "$W/again.mcap" --wait-subs 1 --name again
meta_ok=0
for ((i = 0; i < 100; i++)); do
    "$BIN" info again/s --json --wait 200 >"$W/again.info" 2>/dev/null
    if grep -q '"replayed"' "$W/again.info"; then meta_ok=1; break; fi
    sleep 0.1
done
if [ "$meta_ok" = 1 ] && [ "$(grep -o '"replayed"' "$W/again.info" | wc -l)" = 1 ] &&
   grep -q '"u"' "$W/again.info"; then ok "a replay replayed: one \"replayed\" key, the rest kept"; else
    nok "a replay replayed: its metadata" "$(cat "$W/again.info" "$W/again.err")"; fi
kill -INT "${PID[again]}" 2>/dev/null; wait "${PID[again]}" 2>/dev/null; unset 'PID[again]'

# A hostile file: a 32 KiB chunk that says it unpacks to 1 GiB is refused
# before anything is allocated (the limit: 64 MiB unless --max-chunk).
python3 - "$W/evil.mcap" <<'PY'
import struct, sys
f = b'\x89MCAP0\r\n' + b'\x01' + struct.pack('<Q', 8) + bytes(8)
body = struct.pack('<QQQI', 0, 0, 1 << 30, 0) + struct.pack('<I', 4) + b'zstd'
body += struct.pack('<Q', 32768) + bytes(32768)
f += b'\x06' + struct.pack('<Q', len(body)) + body
open(sys.argv[1], 'wb').write(f)
PY
r 1 "info of a chunk declaring 1 GiB fails" "$BIN" info "$W/evil.mcap"
contains "info says why" "$err" "1073741824 bytes uncompressed, over the limit of 64 MiB"
r 2 "record --chunk-size past 32 MiB is refused" "$BIN" record 'rt/**' -o "$W/big.mcap" \
  --chunk-size 65536
printf 'not an mcap file' >"$W/bad.mcap"
r 1 "info of a file that is not MCAP fails" "$BIN" info "$W/bad.mcap"
contains "info says why" "$err" "no magic"

echo "# test_record: $SECS s of recording, $(($(date +%s) - F0)) s in all"
echo "1..$T"
[ "$F" -eq 0 ]
