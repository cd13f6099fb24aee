#!/usr/bin/env bash
# tests/integration/test_prov_cli.sh - provenance from the `ipcnet` tool
# (docs/protocol.md 20): `prov show|verify|export` and `trace` on the
# camera -> detector -> planner pipeline of helpers/pv_stage.c, and a
# network switched on by IPCNET_PROVENANCE=on for `ipcnet pub`.
#
#   bash tests/integration/test_prov_cli.sh path/to/ipcnet path/to/ipcn-test-pv_stage
#
# TAP output; exit 0 when every check passed, 1 otherwise.
set -u

BIN=${1:?usage: test_prov_cli.sh path/to/ipcnet path/to/pv_stage}
STAGE=${2:?usage: test_prov_cli.sh path/to/ipcnet path/to/pv_stage}
[ -x "$BIN" ] && [ -x "$STAGE" ] || { echo "test_prov_cli: not executables"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-prov-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_NAMESPACE IPCNET_REMAP IPCNET_PROVENANCE
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
TAP_TIMEOUT=30

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

for role in camera detector planner; do
    "$STAGE" "$role" 60 >"$W/$role.out" 2>"$W/$role.err" </dev/null &
    PIDS+=($!)
done

r 0 "trace a planner's command" "$BIN" trace plan/cmd --timeout 20000
contains "the camera is its origin" "$out" "camera seq"
contains "it went through the detector" "$out" "detector seq"
contains "then the planner" "$out" "planner seq"
contains "its copies' receivers are listed" "$out" "sent to: ipcnet-cli"
r 0 "trace --json" "$BIN" trace plan/cmd --json --timeout 20000
jdoc "three stages, origin first, in order" "$out" \
    '[s["node"] for s in d["stages"]] == ["camera", "detector", "planner"] and d["stages"][0]["stage_ns"] == 0 and d["stages"][2]["depth"] == 0'
r 0 "verify a command" "$BIN" prov verify plan/cmd --timeout 20000
contains "verified back two stages" "$out" "verified, 3 records, 2 stages back"
r 0 "verify an honest pass-through" "$BIN" prov verify det/pass --timeout 20000
r 1 "a pass-through that changed its input is caught" "$BIN" prov verify det/tampered --timeout 20000
contains "as 202, naming the stage" "$err" "202 Forbidden: detector declares a pass-through"
r 0 "show a record" "$BIN" prov show det/boxes --timeout 20000
contains "its producer" "$out" "detector (node"
contains "and its parent" "$out" "parent: node"
r 0 "export PROV-JSON" "$BIN" prov export plan/cmd --timeout 20000
jdoc "with entities, agents and derivations" "$out" \
    'len(d["entity"]) == 3 and sorted(a["ipcn:name"] for a in d["agent"].values()) == ["camera", "detector", "planner"] and len(d["wasDerivedFrom"]) == 2 and len(d["wasGeneratedBy"]) == 3'
r 2 "prov needs show, verify or export" "$BIN" prov check plan/cmd

# A network's switch: every resource of a process with IPCNET_PROVENANCE=on.
IPCNET_PROVENANCE=on "$BIN" pub net/value 42 --rate 50 >"$W/pub.out" 2>"$W/pub.err" </dev/null &
PIDS+=($!)
r 0 "IPCNET_PROVENANCE=on: ipcnet pub's samples carry records" "$BIN" prov verify net/value --timeout 20000
"$BIN" pub net/plain 1 --rate 50 >"$W/pub2.out" 2>"$W/pub2.err" </dev/null &
PIDS+=($!)
r 1 "without it, none" "$BIN" prov show net/plain --timeout 1500
contains "304, no record came" "$err" "304"

echo "1..$T"
[ "$F" -eq 0 ]
