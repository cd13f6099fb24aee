#!/usr/bin/env bash
# tests/integration/test_files_cli.sh - `ipcnet offer-files` and
# `ipcnet get-file` end to end, in real processes: files arrive byte for
# byte with the content hash that Python's hashlib computes from the
# definition (docs/protocol.md), --json parses, an interrupted DEST.part is
# resumed, refusals exit 1 with their status, usage errors exit 2, and the
# provider withdraws on SIGTERM and after --seconds / --count.
#
#   bash tests/integration/test_files_cli.sh path/to/ipcnet
#
# TAP-like output ("ok N - ..."); exit 0 when every check passed, 1
# otherwise, 77 when it cannot run.  Everything lives in a private
# directory, removed at the end.
set -u

BIN=${1:?usage: test_files_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_files_cli: $BIN is not an executable"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || { echo "test_files_cli: SKIP: no python3"; exit 77; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-files-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

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

TAP_TIMEOUT=60
. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

same() { # same DESC A B
    if cmp -s "$2" "$3"; then ok "$1"; else nok "$1: $2 and $3 differ"; fi
}
start() { # start NAME CMD... : in the background, output in $W/NAME.{out,err}
    local name=$1
    shift
    "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    PID[$name]=$!
}
wait_ready() { # wait_ready NAME: until it printed its ready line (10 s)
    local i
    for ((i = 0; i < 200; i++)); do
        grep -qE '^offering|"event":"ready"' "$W/$1.out" 2>/dev/null && { ok "$1 is ready"; return 0; }
        kill -0 "${PID[$1]}" 2>/dev/null || break
        sleep 0.05
    done
    nok "$1 did not get ready" "$(cat "$W/$1.out" "$W/$1.err" 2>/dev/null)"
    return 1
}
finish() { # finish NAME [SECONDS]: wait for it to end; $rc $out $err are its
    local name=$1 i hung=0 wrc
    for ((i = 0; i < ${2:-10} * 20; i++)); do
        kill -0 "${PID[$name]}" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "${PID[$name]}" 2>/dev/null; then
        kill -KILL "${PID[$name]}"
        hung=1
    fi
    wait "${PID[$name]}" 2>/dev/null
    wrc=$?
    unset "PID[$name]"
    if [ "$hung" = 1 ]; then rc="timeout (killed)"; else rc=$wrc; fi
    out=$(cat "$W/$name.out")
    err=$(cat "$W/$name.err")
}
pyhash() { # the content hash of a file, from the definition
    "$PY" -c '
import hashlib, struct, sys
d = open(sys.argv[1], "rb").read(); C = 1 << 20
r = hashlib.blake2b(digest_size=32, person=b"ipcnet-file-root")
r.update(struct.pack("<QI", len(d), C))
for i in range(0, len(d), C):
    r.update(hashlib.blake2b(d[i:i + C], digest_size=32, person=b"ipcnet-file-leaf").digest())
print(r.hexdigest())' "$1"
}

SRV="$W/srv"
OUT="$W/out.d"
mkdir -p "$SRV/maps/level 2" "$OUT" "$W/secret"
head -c 5242887 /dev/urandom >"$SRV/maps/level 2/big.pgm"   # 5 MiB + 7: 6 chunks
printf 'hello, files\n' >"$SRV/hello.txt"
: >"$SRV/empty"
echo secret >"$W/secret/key"
ln -s "$W/secret/key" "$SRV/key-link"

# ---- usage errors ----
r 2 "get-file without DEST" "$BIN" get-file files/hello.txt
contains "get-file without DEST says so" "$err" "200 Bad Request: missing DEST"
r 2 "offer-files without DIR" "$BIN" offer-files
r 2 "offer-files with a bad --seconds" "$BIN" offer-files "$SRV" --seconds -3
r 1 "offer-files of a missing directory" "$BIN" offer-files "$W/nope"
contains "which is 203" "$err" "203 Not Found"
r 1 "offer-files of a file" "$BIN" offer-files "$SRV/hello.txt"
contains "which is 202" "$err" "202 Forbidden"
r 0 "get-file --help" "$BIN" get-file --help
contains "get-file --help names DEST.part" "$out" "DEST.part"

# ---- a provider, and fetches ----
start srv "$BIN" offer-files "$SRV" --name fsrv
wait_ready srv

r 0 "get-file of a 5 MiB file" "$BIN" get-file "files/maps/level 2/big.pgm" "$OUT/big.pgm"
same "the file arrived byte for byte" "$SRV/maps/level 2/big.pgm" "$OUT/big.pgm"
contains "get-file prints the size" "$out" "5242887 bytes (5.00 MiB) from fsrv"
want=$(pyhash "$SRV/maps/level 2/big.pgm")
contains "get-file prints the content hash (hashlib's)" "$out" "blake2b-256-tree $want"
[ ! -e "$OUT/big.pgm.part" ] && ok "no DEST.part left" || nok "DEST.part left"

r 0 "get-file into a directory, --json" "$BIN" get-file files/hello.txt "$OUT" --json
same "DEST/NAME arrived" "$SRV/hello.txt" "$OUT/hello.txt"
want=$(pyhash "$SRV/hello.txt")
if "$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["size"] == 13 and d["fetched"] == 13 and d["resumed"] == 0, d
assert d["hash"] == sys.argv[2] and d["confirmed"] is True, d
assert d["alg"] == "blake2b-256-tree" and d["provider"] == "fsrv", d
' "$out" "$want" 2>"$W/pyerr"; then
    ok "--json: size, hash, provider"
else
    nok "--json is not as expected" "$out $(cat "$W/pyerr")"
fi
r 0 "get-file of an empty file" "$BIN" get-file files/empty "$OUT/empty"
[ -f "$OUT/empty" ] && [ ! -s "$OUT/empty" ] && ok "the empty file is there, empty" ||
    nok "the empty file is not there"

# Resume: a DEST.part holding the first 3 chunks and a damaged 4th.
head -c 4194304 "$SRV/maps/level 2/big.pgm" >"$OUT/res.pgm.part"
printf 'X' | dd of="$OUT/res.pgm.part" bs=1 seek=3200000 conv=notrunc status=none
r 0 "get-file resumes a DEST.part" "$BIN" get-file "files/maps/level 2/big.pgm" "$OUT/res.pgm" --json
same "the resumed file is right" "$SRV/maps/level 2/big.pgm" "$OUT/res.pgm"
if "$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["resumed"] == 3 * 1048576 and d["fetched"] == 5242887 - 3 * 1048576, d
' "$out" 2>"$W/pyerr"; then
    ok "3 chunks resumed, the rest fetched"
else
    nok "resume counts are wrong" "$out $(cat "$W/pyerr")"
fi
head -c 4194304 "$SRV/maps/level 2/big.pgm" >"$OUT/nr.pgm.part"
r 0 "get-file --no-resume" "$BIN" get-file "files/maps/level 2/big.pgm" "$OUT/nr.pgm" --no-resume --json
contains "--no-resume fetched everything" "$out" '"fetched":5242887,"resumed":0'

# Refusals.
r 1 "get-file of a missing file" "$BIN" get-file files/nope "$OUT/nope"
contains "missing: 203" "$err" "203 Not Found"
r 1 "get-file with .." "$BIN" get-file files/../secret/key "$OUT/key"
contains "..: 202" "$err" "202 Forbidden"
r 1 "get-file of a link leading out" "$BIN" get-file files/key-link "$OUT/key"
contains "link out: 202" "$err" "202 Forbidden"
r 1 "get-file of a directory" "$BIN" get-file files/maps "$OUT/maps"
contains "directory: 202" "$err" "202 Forbidden"
[ ! -e "$OUT/key" ] && [ ! -e "$OUT/maps" ] && ok "nothing written for refusals" ||
    nok "a refused fetch wrote something"
r 1 "get-file from no service" "$BIN" get-file nothing/here "$OUT/x"
contains "no service: 203" "$err" "203 Not Found"

# The provider ends cleanly on SIGTERM, with its counts.
kill -TERM "${PID[srv]}"
finish srv 10
if [ "$rc" = 0 ]; then ok "offer-files ends cleanly on SIGTERM"; else nok "offer-files on SIGTERM: exit $rc" "$(show)"; fi
contains "offer-files tells what it served" "$out" "requests answered"
contains "offer-files withdrew" "$out" "withdrew files"

# --path, --count and --seconds.
start srv2 "$BIN" offer-files "$SRV" --path robot/maps --count 3 --json --name fsrv2
wait_ready srv2
r 0 "get-file from --path robot/maps" "$BIN" get-file robot/maps/hello.txt "$OUT/h2.txt"
same "it arrived" "$SRV/hello.txt" "$OUT/h2.txt"
finish srv2 10
if [ "$rc" = 0 ]; then ok "offer-files --count 3 stops by itself (stat, read, stat)"; else nok "--count: exit $rc" "$(show)"; fi
contains "--json stopped event" "$out" '"event":"stopped","path":"robot/maps","requests":3'

start srv3 "$BIN" offer-files "$SRV" --seconds 1 --name fsrv3
wait_ready srv3
finish srv3 10
if [ "$rc" = 0 ]; then ok "offer-files --seconds 1 stops by itself"; else nok "--seconds: exit $rc" "$(show)"; fi

echo "# $T checks, $F failed"
[ "$F" = 0 ]
