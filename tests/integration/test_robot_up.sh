#!/usr/bin/env bash
# tests/integration/test_robot_up.sh - the demo robot (examples/robot/)
# run as a user runs it: `ipcnet up robot.yaml` starts the components in
# dependency order, each counted once ready; `ipcnet ps` shows them ready
# (and `ipcnet nodes` their criticality); a component killed with SIGKILL
# comes back ready under a new pid; `ipcnet shutdown` brings the robot
# down in phases, its report clean, the supervisor exits 0 and no
# component's process is left.
#
#   bash tests/integration/test_robot_up.sh path/to/ipcnet path/to/bin/robot
#
# The Python camera takes part when the ipcnet package imports (else the
# manifest is run without it: a copy with the camera left out).
# TAP output; exit 0 when every check passed, 1 otherwise.
set -u

BIN=${1:?usage: test_robot_up.sh path/to/ipcnet path/to/robot}
ROBOT=${2:?usage: test_robot_up.sh path/to/ipcnet path/to/robot}
[ -x "$BIN" ] || { echo "test_robot_up: $BIN is not an executable"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-robot-up.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_POLICY
export ROBOT_LOG="$W/robot.log"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TAP_TIMEOUT=60

SUP=""
cleanup() {
    [ -n "$SUP" ] && kill -KILL "$SUP" 2>/dev/null
    # components of this run only: their environment names this network
    for p in $(pgrep -f "$W/" 2>/dev/null); do
        grep -qs "IPCNET_DIR=$IPCNET_DIR" "/proc/$p/environ" && kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

echo "# ipcnet: $BIN; robot: $ROBOT; files in $W"
cd "$ROBOT" || exit 1
# A copy of the robot in $W (its state and versions land there), the
# camera's PYTHONPATH made absolute.
cp robot.yaml arm base detector camera.py "$W/"
manifest="$W/robot.yaml"
sed -i "s|PYTHONPATH: ../../python|PYTHONPATH: $ROBOT/../../python|" "$manifest"
comps="arm base camera detector"
if ! PYTHONPATH=../../python /usr/bin/python3 -c 'import ipcnet; ipcnet.Node.on_shutdown' 2>/dev/null; then
    echo "# the Python binding is not there: the robot without its camera and detector"
    cat > "$manifest" <<EOT
version: 1
robot: demo
components:
  base:
    command: [./base]
    criticality: critical
    safe_state: {deadline_ms: 1000}
    shutdown: {phase: rest, deadline_ms: 1000, kill_after_ms: 500}
  arm:
    command: [./arm]
    depends_on: [base]
    criticality: critical
    safe_state: {deadline_ms: 3000}
    shutdown: {phase: rest, deadline_ms: 1000, kill_after_ms: 500}
EOT
    comps="arm base"
fi
ncomp=$(echo $comps | wc -w)

"$BIN" up "$manifest" >"$W/up.out" 2>"$W/up.err" &
SUP=$!

ready=0
for _ in $(seq 300); do
    ready=$("$BIN" ps demo --json --wait 300 2>/dev/null | grep -c '"state": *"ready"')
    [ "$ready" -ge "$ncomp" ] && break
    sleep 0.1
done
sed 's/^/# up: /' "$W/up.out"
if [ "$ready" -ge "$ncomp" ]; then ok "ipcnet up: the $ncomp components are ready"; else nok "only $ready of $ncomp ready" "$(cat "$W/up.err")"; fi

r 0 "ipcnet ps" "$BIN" ps demo
echo "$out" | sed 's/^/# /'
for c in $comps; do contains "ps shows $c ready" "$(echo "$out" | grep " $c ")" "ready"; done
r 0 "ipcnet nodes" "$BIN" nodes
contains "nodes shows the base critical and ready" "$(echo "$out" | grep '^base ')" "critical   yes"

# the start order from the supervisor's log: every dependency ready first
line() { grep -n "demo/$1: $2" "$W/up.out" | head -1 | cut -d: -f1; }
b=$(line base ready); a=$(line arm started)
if [ -n "$b" ] && [ -n "$a" ] && [ "$b" -lt "$a" ]; then
    ok "the base was ready before the arm (which depends on it) started"
else nok "the base was ready before the arm" "$(cat "$W/up.out")"; fi

# kill -9 a component: it comes back ready under a new pid
pid_of() { "$BIN" ps demo --json --wait 300 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if d["name"] == sys.argv[1] and d["state"] == "ready": print(d["pid"])' "$1"; }
old=$(pid_of base)
kill -KILL "$old"
new=""
for _ in $(seq 100); do
    new=$(pid_of base)
    [ -n "$new" ] && [ "$new" != "$old" ] && break
    sleep 0.1
done
if [ -n "$new" ] && [ "$new" != "$old" ]; then ok "the base, killed, is ready again (pid $old -> $new)"; else nok "the base did not come back" "$(tail -5 "$W/up.out")"; fi

# a report of a compromise on a stream any node may publish is told, not
# obeyed: a rogue must not stop the robot by naming a component
r 0 "a forged compromise report published" "$BIN" pub system/compromise/forger \
    '{"subject": "base", "action": "shutdown", "detail": "forged"}' --count 3 --rate 5 --wait 2000
for _ in $(seq 100); do grep -q "not acted on" "$W/up.out" && break; sleep 0.1; done
contains "the supervisor logged it, not acted on" "$(cat "$W/up.out")" "forged; not acted on"
if kill -0 "$SUP" 2>/dev/null && [ -n "$(pid_of base)" ]; then ok "the robot still runs"; else nok "the forged report stopped the robot"; fi

r 0 "ipcnet shutdown" "$BIN" shutdown --reason "end of test" --json
jdoc "the report is clean" "$out" 'd["clean"] is True'
jdoc "the safe states ran first" "$out" "d['items'][0]['phase'] == 1"
rc=0
for _ in $(seq 100); do kill -0 "$SUP" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SUP" 2>/dev/null; then nok "the supervisor is still running"; else
    wait "$SUP"; rc=$?
    if [ "$rc" = 0 ]; then ok "the supervisor exited 0 after the shutdown"; else nok "the supervisor exited $rc"; fi
    SUP=""
fi
# again, and a shutdown told that the base is compromised: it is isolated
# (killed) first, and the others run their phases without waiting on it
"$BIN" up "$manifest" >"$W/up2.out" 2>"$W/up2.err" &
SUP=$!
for _ in $(seq 300); do
    ready=$("$BIN" ps demo --json --wait 300 2>/dev/null | grep -c '"state": *"ready"')
    [ "$ready" -ge "$ncomp" ] && break
    sleep 0.1
done
if [ "$ready" -ge "$ncomp" ]; then ok "up again: $ncomp ready"; else nok "up again: only $ready ready"; fi
r 1 "ipcnet shutdown --compromised base: not clean" "$BIN" shutdown --compromised base --json
echo "$out" | sed 's/^/# /'
jdoc "the base is isolated first" "$out" \
    "d['items'][0]['component'] == 'base' and d['items'][0]['outcome'] == 'isolated' and d['items'][0]['phase'] == 0"
jdoc "the base is asked nothing else" "$out" "[i for i in d['items'] if i['component'] == 'base'] == [d['items'][0]]"
jdoc "the arm still went to its safe state" "$out" \
    "any(i['component'] == 'arm' and i['phase'] == 1 and i['outcome'] == 'done' for i in d['items'])"
for _ in $(seq 100); do kill -0 "$SUP" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SUP" 2>/dev/null; then nok "the supervisor is still running"; else ok "the supervisor exited"; wait "$SUP"; SUP=""; fi

left=$(for p in $(pgrep -f "$W/" 2>/dev/null); do
    grep -qs "IPCNET_DIR=$IPCNET_DIR" "/proc/$p/environ" && echo "$p"; done | wc -l)
if [ "$left" = 0 ]; then ok "no component's process is left"; else nok "$left component processes left"; fi

echo "1..$T"
[ "$F" = 0 ]
