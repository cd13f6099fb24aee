#!/usr/bin/env bash
# tests/integration/test_names_cli.sh - namespaces and remapping from the
# `ipcnet` tool: --ns and --remap (and IPCNET_NAMESPACE) on verbs that
# open a node; absolute paths; a malformed setting refused with a reason.
#
#   bash tests/integration/test_names_cli.sh path/to/ipcnet
#
# TAP output; exit 0 when every check passed, 1 otherwise.
set -u

BIN=${1:?usage: test_names_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_names_cli: $BIN is not an executable"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-names-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_NAMESPACE IPCNET_REMAP IPCNET_NAME_SUFFIX
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
TAP_TIMEOUT=20

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

# wait_for FILE REGEX: until FILE has a matching line (10 s at most).
wait_for() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# One service, written once, offered twice: in namespace "left", and in
# "right" with its name remapped.
"$BIN" offer cam/ping --echo --name cam --ns left >"$W/l.out" 2>"$W/l.err" </dev/null &
PIDS+=($!)
IPCNET_NAMESPACE=right "$BIN" offer cam/ping --echo --name cam \
    --remap cam/ping=cam_r/ping >"$W/r.out" 2>"$W/r.err" </dev/null &
PIDS+=($!)
if wait_for "$W/l.out" '^offering' && wait_for "$W/r.out" '^offering'; then
    ok "both copies are offering"
else
    nok "a copy did not start" "$(cat "$W"/*.out "$W"/*.err)"
fi
contains "the left copy offers left/cam/ping as node left.cam" "$(cat "$W/l.out")" "service left/cam/ping as node left.cam"
contains "the right copy offers right/cam_r/ping as node right.cam" "$(cat "$W/r.out")" "service right/cam_r/ping as node right.cam"

r 0 "call the left copy by its full path" "$BIN" call left/cam/ping '"hi"'
contains "it answered" "$out" "hi"
r 0 "call the right copy under its remapped name" "$BIN" call right/cam_r/ping '"ho"'
contains "it answered" "$out" "ho"
r 1 "nothing at right/cam/ping" "$BIN" call right/cam/ping '"x"' --timeout 500
r 0 "call relative to --ns" "$BIN" call cam/ping '"ns"' --ns left
contains "it answered" "$out" "ns"
r 0 "an absolute path ignores the namespace" "$BIN" call /left/cam/ping '"abs"' --ns right
contains "it answered" "$out" "abs"
r 0 "find with no pattern lists the whole network, whatever the namespace" \
    "$BIN" find --ns elsewhere
contains "left's service is listed" "$out" "left/cam/ping"
contains "right's service is listed" "$out" "right/cam_r/ping"
r 0 "find a relative pattern" "$BIN" find '*/ping' --ns right
contains "right's is found" "$out" "right/cam_r/ping"
lacks "left's is not" "$out" "left/cam/ping"

r 1 "a malformed --remap is refused" "$BIN" find --remap 'a=b=c'
contains "with the rule that is wrong" "$err" "rule 1"
IPCNET_NAMESPACE='a//b' r 1 "a malformed IPCNET_NAMESPACE is refused" "$BIN" find
contains "it says which" "$err" "IPCNET_NAMESPACE"

echo "1..$T"
[ "$F" -eq 0 ]
