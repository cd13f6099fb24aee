#!/usr/bin/env bash
# tests/integration/test_shutdown_cli.sh - `ipcnet shutdown` over the demo
# robot (examples/robot/), its components started by hand and no
# supervisor: without --manifest it says no supervisor offers
# system/shutdown (203); with --manifest it runs the phases itself, in
# order (each component notes its handler calls in $ROBOT_LOG with a
# monotonic time stamp): the safe states (the base stops, the arm reaches
# its rest pose and confirms later), then the camera (producer), the
# detector (consumer), the arm, the base (the rest, dependents first); the
# report is clean and every component's process is gone.
#
#   bash tests/integration/test_shutdown_cli.sh path/to/ipcnet path/to/bin/robot
#
# The Python camera takes part when the ipcnet package can be imported
# (PYTHONPATH as the manifest sets it); else it is reported not running.
# TAP output; exit 0 when every check passed, 1 otherwise.
set -u

BIN=${1:?usage: test_shutdown_cli.sh path/to/ipcnet path/to/robot}
ROBOT=${2:?usage: test_shutdown_cli.sh path/to/ipcnet path/to/robot}
[ -x "$BIN" ] || { echo "test_shutdown_cli: $BIN is not an executable"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-shutdown-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_POLICY
export ROBOT_LOG="$W/robot.log"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TAP_TIMEOUT=60

PIDS=""
cleanup() {
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

echo "# ipcnet: $BIN; robot: $ROBOT; files in $W"

r 1 "no supervisor and no --manifest" "$BIN" shutdown --wait 300
contains "it says no supervisor offers system/shutdown" "$err" "203 Not Found"

# The components, from the manifest's directory as `ipcnet up` starts them.
cd "$ROBOT" || exit 1
want=3
for c in base arm detector; do
    ./$c 2>"$W/$c.err" &
    PIDS="$PIDS $!"
done
if PYTHONPATH=../../python /usr/bin/python3 -c 'import ipcnet; ipcnet.Node.on_shutdown; ipcnet.Node.ready' 2>/dev/null; then
    PYTHONPATH=../../python ./camera.py 2>"$W/camera.err" &
    PIDS="$PIDS $!"
    want=4
    camera=yes
else
    echo "# the Python binding (with Node.on_shutdown and Node.ready) is not there: no camera"
    camera=no
fi

# Every component serves once its resources are announced.
n=0
for _ in $(seq 200); do
    n=$("$BIN" find 'robot/**' --wait 200 2>/dev/null | grep -c '^robot/')
    [ "$n" -ge "$want" ] && break
    sleep 0.1
done
if [ "$n" -ge "$want" ]; then ok "the $want components are up"; else nok "only $n of $want components up"; fi

r 0 "shutdown --manifest runs the phases itself" \
    "$BIN" shutdown --manifest robot.yaml --reason "end of shift" --json
echo "$out" | sed 's/^/# /'
jdoc "the report is clean" "$out" 'd["clean"] is True'
jdoc "every component took part" "$out" \
    "sorted(set(i['component'] for i in d['items'])) == ['arm', 'base', 'camera', 'detector']"
jdoc "each safe state and stop was done" "$out" \
    "all(i['outcome'] == 'done' for i in d['items'] if i['component'] != 'camera') and len(d['items']) == 6"
if [ "$camera" = yes ]; then
    jdoc "the camera stopped first, told phase 2" "$out" \
        "[i['outcome'] for i in d['items'] if i['component'] == 'camera'] == ['done']"
    contains "the camera was told its phase" "$(cat "$ROBOT_LOG")" "camera stop 2"
fi
jdoc "the arm confirmed its safe state later (102, then 100)" "$out" \
    "[i['status'] for i in d['items'] if i['component'] == 'arm' and i['phase'] == 1] == [100]"

# The order, from the components' own notes.
at() { awk -v n="$1" -v w="$2" '$2 == n && $3 == w { print $1; exit }' "$ROBOT_LOG"; }
safe_base=$(at base safe_state); safe_arm=$(at arm safe_state)
stop_det=$(at detector stop); stop_arm=$(at arm stop); stop_base=$(at base stop)
stop_cam=$(at camera stop)
sed 's/^/# log: /' "$ROBOT_LOG"
before() { # before DESC A B: A < B, both noted
    if [ -n "$2" ] && [ -n "$3" ] && [ "$2" -lt "$3" ]; then ok "$1"; else nok "$1" "$2 vs $3"; fi
}
before "the base's safe state before any stop" "$safe_base" "$stop_det"
before "the arm's safe state before any stop" "$safe_arm" "$stop_det"
if [ "$camera" = yes ]; then
    before "the producer stops before the consumer" "$stop_cam" "$stop_det"
fi
before "the consumer stops before the rest" "$stop_det" "$stop_arm"
before "the arm stops before the base it depends on" "$stop_arm" "$stop_base"
contains "each was told its phase" "$(cat "$ROBOT_LOG")" "detector stop 3"

left=0
for p in $PIDS; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && left=$((left + 1))
done
if [ "$left" = 0 ]; then ok "every component's process is gone"; else nok "$left processes left"; fi

r 0 "a second shutdown finds nothing running" "$BIN" shutdown --manifest robot.yaml --json
jdoc "... and says so" "$out" "all(i['outcome'] == 'not_running' for i in d['items'])"

echo "1..$T"
[ "$F" = 0 ]
