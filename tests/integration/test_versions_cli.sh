#!/usr/bin/env bash
# tests/integration/test_versions_cli.sh - `ipcnet install`, `rollback` and
# `versions` on a versions store (--store), and the binary killed at every
# durable step of an install and of a rollback ($IPCNET_SUP_CRASHPOINT=N:
# SIGKILL after the Nth step, docs/supervisor.md): the next `ipcnet
# versions` finishes or undoes the operation, and nothing is left mixed.
#
#   bash tests/integration/test_versions_cli.sh path/to/ipcnet
#
# TAP output; exit 0 when every check passed, 1 otherwise.
set -u

BIN=${1:?usage: test_versions_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_versions_cli: $BIN is not an executable"; exit 1; }

# In memory when it can be (fsync costs nothing there): the kills test what
# a killed process leaves, not a power cut, and there are a hundred of them.
base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
W=$(mktemp -d "$base/ipcn-versions-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_SUP_CRASHPOINT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TAP_TIMEOUT=60
PATH=/usr/bin:$PATH   # Debian's python3 (tap.sh's JSON checks)
trap 'rm -rf "$W"' EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

# tree DIR TAG: a component's files.
tree() {
    mkdir -p "$1/bin" "$1/etc"
    printf '#!/bin/sh\necho %s\n' "$2" >"$1/bin/run"
    chmod 755 "$1/bin/run"
    for i in 1 2 3; do echo "$2 $i" >"$1/etc/f$i.conf"; done
    ln -s bin/run "$1/run"
}
tree "$W/src1" one
tree "$W/src2" two
tree "$W/src3" three
S="$W/store"

r 0 "install the first version" "$BIN" install arm "$W/src1" --store "$S"
contains "the first version is good" "$out" "installed version 1, good"
contains "no supervisor to tell" "$out" "applies at the next start"
r 0 "install a second, named" "$BIN" install arm "$W/src2" --store "$S" --id 2.0 --json
jdoc "it is on trial with 3 tries" "$out" \
    'd["id"] == "2.0" and d["state"] == "trial" and d["tries"] == 3'
r 1 "the same id again" "$BIN" install arm "$W/src2" --store "$S" --id 2.0
contains "refused as a conflict" "$err" "207 Conflict"
r 0 "versions --json" "$BIN" versions arm --store "$S" --json
jcheck "good 1, trial 2.0 with 3 tries" "$out" \
    '[(v["id"], v["state"]) for v in d] == [("1", "good"), ("2.0", "trial")] and d[1]["tries_left"] == 3'
r 0 "versions as a table" "$BIN" versions arm --store "$S"
contains "a header" "$out" "STATE"
r 0 "rollback gives the trial up" "$BIN" rollback arm --store "$S"
contains "back on 1" "$out" "arm: back on version 1"
r 0 "versions after it" "$BIN" versions arm --store "$S" --json
jcheck "2.0 is bad, by the operator" "$out" \
    'd[1]["state"] == "bad" and d[1]["reason"] == "rolled back by the operator" and d[0]["good"]'
r 1 "rollback with nothing before 1" "$BIN" rollback arm --store "$S"
contains "203, said why" "$err" "no version was good before 1"
r 0 "a configuration's version" "$BIN" install arm "$W/src1" --store "$S" --config
contains "it is arm.config" "$out" "arm.config: installed version 1"
r 1 "versions of an unknown component" "$BIN" versions leg --store "$S"
contains "203" "$err" "203 Not Found"
r 2 "no store given" "$BIN" versions arm
r 2 "install without DIR" "$BIN" install arm --store "$S"
contains "says what is missing" "$err" "missing DIR"
r 1 "a DIR that is not there" "$BIN" install arm "$W/nothing" --store "$S"

# The robot's manifest names the store (relative to the file), the
# component's tries, and the robot whose supervisor is told.
mkdir "$W/robot"
cat >"$W/robot/robot.yaml" <<YAML
version: 1
robot: rb$$
store: vers
components:
  cam:
    command: [bin/run]
    versioned: true
    trial: {tries: 5, bless_after_ms: 100}
  logger:
    command: [/bin/true]
YAML
M="$W/robot/robot.yaml"
r 0 "install with --manifest" "$BIN" install cam "$W/src1" --manifest "$M" --wait 200
contains "into the manifest's store" "$out" "cam: installed version 1, good"
[ -d "$W/robot/vers/cam/v/1" ] && ok "the store is the manifest's, beside it" ||
    nok "no $W/robot/vers/cam/v/1"
contains "no supervisor of the robot answered" "$out" \
    "no supervisor of robot rb$$ answered: it applies at the next start of cam"
r 0 "a second: the manifest's tries" "$BIN" install cam "$W/src2" --manifest "$M" --json --wait 200
jdoc "5 tries, applies at the next start" "$out" \
    'd["state"] == "trial" and d["tries"] == 5 and d["applies"] == "next start"'
r 0 "versions with --manifest" "$BIN" versions cam --manifest "$M"
contains "the trial has 5 tries" "$out" "trial     5"
r 1 "a component the manifest lacks" "$BIN" versions leg --manifest "$M"
contains "named" "$err" "no component 'leg'"
r 0 "a component that is not versioned" "$BIN" install logger "$W/src1" --manifest "$M" --wait 200
contains "is warned about" "$err" "logger is not versioned"
r 2 "--store and --manifest together" "$BIN" versions cam --manifest "$M" --store "$S"
echo "version: 2" >"$W/robot/bad.yaml"
r 1 "a manifest that is not one" "$BIN" versions cam --manifest "$W/robot/bad.yaml"
contains "FILE:LINE: reason" "$err" "bad.yaml:1:"

# state STORE: "id:state:tries ..." of arm, from `ipcnet versions` (which
# finishes what a killed process left); "ERR ..." when it fails or debris
# is left.
state() {
    local o
    o=$("$BIN" versions arm --store "$1" 2>&1)
    case $?:$o in
        0:*) ;;
        1:"203 Not Found"*) return ;;   # nothing installed
        *) echo "ERR $o"; return ;;
    esac
    if ls "$1/arm" 2>/dev/null | grep -qE '^(journal|new\.)|\.tmp$' ||
        ls "$1/arm/v" 2>/dev/null | grep -qE '\.tmp$'; then
        echo "ERR debris: $(ls "$1/arm" "$1/arm/v" | tr '\n' ' ')"
        return
    fi
    awk 'NR > 1 { printf "%s:%s:%s ", $1, $2, $3 }' <<<"$o"
}

# killed DESC BASE CMD...: run CMD (its store: $W/k) killed at step N = 1, 2,
# ... on a fresh copy of BASE, until it completes; after each kill the state
# must be the one before or the one after.
killed() {
    local desc=$1 base=$2 before after now n=0 bad=""
    shift 2
    rm -rf "$W/k" && cp -a "$base" "$W/k"
    before=$(state "$W/k")
    "$@" >/dev/null 2>&1 || { nok "$desc: fails without a kill"; return; }
    after=$(state "$W/k")
    while :; do
        n=$((n + 1))
        rm -rf "$W/k" && cp -a "$base" "$W/k"
        # (bash reports each kill on stderr: not wanted here)
        { IPCNET_SUP_CRASHPOINT=$n "$@" >/dev/null 2>&1; } 2>/dev/null
        rc=$?
        [ "$rc" = 0 ] && break
        if [ "$rc" != 137 ]; then bad="step $n: exit $rc"; break; fi
        now=$(state "$W/k")
        if [ "$now" != "$before" ] && [ "$now" != "$after" ]; then
            bad="step $n: '$now', neither '$before' nor '$after'"
            break
        fi
    done
    n=$((n - 1))
    if [ -n "$bad" ]; then nok "$desc" "$bad"
    elif [ "$n" -lt 10 ]; then nok "$desc: only $n steps"
    else ok "$desc: killed at each of its $n steps, finished or undone each time"; fi
}

killed "install (a trial)" "$S" "$BIN" install arm "$W/src3" --store "$W/k" --id 3
"$BIN" install arm "$W/src3" --store "$S" --id 3 >/dev/null
killed "rollback of a trial" "$S" "$BIN" rollback arm --store "$W/k"
mkdir "$W/first"
killed "the first install" "$W/first" "$BIN" install arm "$W/src1" --store "$W/k"

echo "1..$T"
[ "$F" = 0 ]
