#!/usr/bin/env bash
# tests/integration/test_record_kill.sh - a recorder killed with kill -9
# leaves a readable file: RUNS times, `ipcnet record` (chunks written out
# every 50 ms) is started while rec_peer publishes a 1 kHz stream and a
# 30 Hz 640x480 one, and killed with SIGKILL after a random 0.2 to 1.0 s.
# Each file must be read without error, as cut off (no footer), by our
# reader (rec_peer digest) and by the npm package @mcap/core
# (tests/interop/mcap_read.js), both giving the same messages (count and
# SHA-256): everything up to the last chunk written out, nothing of a
# chunk cut in two.  Most runs must have recorded something.
#
#   bash test_record_kill.sh ipcnet rec_peer RUNS NPM_DIR JS
#
# RUNS: 50 in the normal build (the issue's figure), 10 under ASan.
# TAP output; exit 0 when every check passed.
set -u

BIN=${1:?usage: test_record_kill.sh ipcnet rec_peer RUNS NPM_DIR JS}
PEER=${2:?}
RUNS=${3:?}
NPM_DIR=${4:?}
JS=${5:?}

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-record-kill.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
TAP_TIMEOUT=120
PUB=
cleanup() {
    [ -n "$PUB" ] && kill -KILL "$PUB" 2>/dev/null
    [ -n "${RP:-}" ] && kill -KILL "$RP" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../interop/mcap_npm.sh"

F0=$(date +%s)
if ! mcap_npm_ready; then
    nok "the npm package @mcap/core could not be installed" "$(cat "$W/npm.log")"
    echo "1..$T"
    exit 1
fi
"$PEER" pub-only $((RUNS * 4 + 30)) >"$W/pub.out" 2>"$W/pub.err" </dev/null &
PUB=$!
with_msgs=0
bad=0
for ((i = 1; i <= RUNS; i++)); do
    f="$W/run$i.mcap"
    "$BIN" record 'rt/**' -o "$f" --flush 0.05 --chunk-size 256 --wait 0 \
        >/dev/null 2>"$W/rec.err" </dev/null &
    RP=$!
    sleep "0.$((RANDOM % 9 + 2))$((RANDOM % 10))"
    kill -KILL "$RP"
    wait "$RP" 2>/dev/null
    RP=
done
kill -KILL "$PUB"; wait "$PUB" 2>/dev/null; PUB=
files=()
for ((i = 1; i <= RUNS; i++)); do files+=("$W/run$i.mcap"); done
"$PEER" digest "${files[@]}" >"$W/ours" 2>&1; orc=$?
node "$JS" "${files[@]}" >"$W/theirs" 2>&1; nrc=$?
[ "$orc" = 0 ] && ok "our reader reads every file (exit 0)" || nok "our reader: exit $orc" "$(cat "$W/ours")"
[ "$nrc" = 0 ] && ok "@mcap/core reads every file (exit 0)" || nok "@mcap/core: exit $nrc" "$(cat "$W/theirs")"
for ((i = 1; i <= RUNS; i++)); do
    ours=$(sed -n "${i}p" "$W/ours")
    theirs=$(sed -n "${i}p" "$W/theirs")
    if [ "$ours" != "$theirs" ] || ! grep -q ' cut-off$' <<<"$ours"; then
        bad=$((bad + 1))
        nok "run $i: the readers disagree" "ours: $ours"$'\n'"npm:  $theirs"
        cp "${files[i - 1]}" "${TMPDIR:-/tmp}/ipcn-record-kill-failed-$i.mcap" 2>/dev/null
    fi
    n=$(sed -n 's/^messages \([0-9]*\) .*/\1/p' <<<"$ours")
    [ "${n:-0}" -gt 0 ] && with_msgs=$((with_msgs + 1))
done
[ "$bad" = 0 ] && ok "$RUNS recorders killed: every file read, as cut off, the same by both readers"
if [ "$with_msgs" -ge $((RUNS * 3 / 4)) ]; then ok "$with_msgs of $RUNS files hold messages"; else
    nok "only $with_msgs of $RUNS files hold messages" "$(cat "$W/rec.err" "$W/pub.err")"; fi
echo "# test_record_kill: $RUNS runs in $(($(date +%s) - F0)) s"
echo "1..$T"
[ "$F" -eq 0 ]
