#!/usr/bin/env bash
# tests/bridges/test_mqtt.sh - `ipcnet bridge mqtt` (ipcnet-bridge-mqtt)
# against a real broker: mosquitto, started here on 127.0.0.1 at a free port
# with a generated config, and read and written by its own clients
# (mosquitto_sub, mosquitto_pub).  Checks: a data resource exported as a
# retained message (CBOR, content type, origin and source user properties)
# and its new value after a set; a stream (camera frames) exported, not
# retained; a mosquitto_pub reaching an IPCNet subscriber; a request/response
# round trip both ways (MQTT 5 response topic + correlation data); two
# bridges (two networks) on one broker importing what they export: no loop,
# by their counters, and the origin mark dropped on import; two bridges in
# one network: no loop (imported streams are marked); the broker stopped
# with a value in flight, killed and restarted: the bridge reconnects, what
# it buffered is delivered once, in order (the newest retained value wins),
# what did not fit is counted as dropped; a resource the bridge's node may
# not read (policy) is not exported; answers with a non-ASCII content type;
# refused response topics; --max-imports; a restarted bridge keeps its
# origin; MQTT 3.1.1 skipping its own exports; a refused bridge connecting
# once the broker accepts it; the fall-back against a fake 3.1.1-only
# broker.  Every wait is on an event with a deadline; no check depends on
# timing.
#
#   bash tests/bridges/test_mqtt.sh path/to/ipcnet path/to/ipcnet-bridge-mqtt
# Exit 77 (skipped) when the bridge was not built or mosquitto is missing.
set -u

CLI=${1:?usage: test_mqtt.sh path/to/ipcnet path/to/ipcnet-bridge-mqtt}
BR=${2:-}
if [ -z "$BR" ] || [ ! -x "$BR" ]; then
    echo "test_mqtt: SKIP: the MQTT bridge was not built (libmosquitto-dev missing)"
    exit 77
fi
for t in mosquitto mosquitto_sub mosquitto_pub python3; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || {
        echo "test_mqtt: SKIP: $t missing (apt-get install mosquitto mosquitto-clients)"
        exit 77
    }
done
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-mqtt-test.XXXXXX")
unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_POLICY IPCNET_NAMESPACE IPCNET_REMAP
export IPCNET_DIR="$W/d"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TAP_TIMEOUT=20
mkdir -m 700 "$W/d"

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/../integration/helpers/tap.sh"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# (a broker started as root would switch to the user mosquitto: stay this user)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser %s\n' "$PORT" "$(id -un)" \
    >"$W/broker.conf"
BROKER=
start_broker() {
    "$MOSQ" -c "$W/broker.conf" >>"$W/broker.log" 2>&1 &
    BROKER=$!
    PIDS+=($BROKER)
    local i
    for i in $(seq 1 200); do
        python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
            "$PORT" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# wait_for FILE TEXT [N [S]]: up to S (30) seconds for the Nth line
# containing TEXT.
wait_for() {
    local c n=${3:-1} end=$((SECONDS + ${4:-30}))
    while [ $SECONDS -le $end ]; do
        c=$(grep -cF -- "$2" "$1" 2>/dev/null)
        [ "${c:-0}" -ge "$n" ] && return 0
        sleep 0.05
    done
    return 1
}
# wait_line FILE REGEX [N [S]]: the same for lines matching an extended REGEX.
wait_line() {
    local c n=${3:-1} end=$((SECONDS + ${4:-30}))
    while [ $SECONDS -le $end ]; do
        c=$(grep -cE -- "$2" "$1" 2>/dev/null)
        [ "${c:-0}" -ge "$n" ] && return 0
        sleep 0.05
    done
    return 1
}
# stat PID LOG KEY: ask a bridge for its counters (SIGUSR1), print KEY's value.
stat() {
    local before i
    before=$(grep -c '^stats ' "$2")
    kill -USR1 "$1"
    for i in $(seq 1 200); do
        [ "$(grep -c '^stats ' "$2")" -gt "$before" ] && break
        sleep 0.05
    done
    grep '^stats ' "$2" | tail -1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}
# wait_stat PID LOG KEY VALUE: up to 15 s for the counter KEY to be VALUE.
wait_stat() {
    local i
    for i in $(seq 1 60); do
        [ "$(stat "$1" "$2" "$3")" = "$4" ] && return 0
        sleep 0.25
    done
    return 1
}
sub() { timeout 10 mosquitto_sub -V 5 -h 127.0.0.1 -p "$PORT" "$@"; }
pub() { timeout 10 mosquitto_pub -V 5 -h 127.0.0.1 -p "$PORT" "$@"; }
hex() { od -An -v -tx1 | tr -d ' \n'; }
# start_sub OUT N SUB-ARGS...: a mosquitto_sub in the background (pid in
# SUBPID) that writes N messages of SUB-ARGS to OUT, returning once it is
# subscribed: it also takes the retained probe/ready, whose line (the first)
# says so and is then removed by sub_done.
start_sub() {
    local out=$1 n=$2
    shift 2
    sub -t probe/ready -C $((n + 1)) "$@" >"$out.raw" 2>&1 &
    SUBPID=$!
    local i
    for i in $(seq 1 300); do
        [ -s "$out.raw" ] && return 0
        sleep 0.05
    done
    return 1
}
# sub_done OUT: wait for the subscriber of start_sub, keep its N messages in OUT.
sub_done() {
    wait "$SUBPID"
    tail -n +2 "$1.raw" >"$1"
}
# retained TOPIC FORMAT [ARGS]: the retained message of TOPIC once there is
# one (asked again for up to 60 s), printed with FORMAT.
retained() {
    local t=$1 f=$2 got end=$((SECONDS + 60))
    shift 2
    while [ $SECONDS -le $end ]; do
        got=$(timeout 10 mosquitto_sub -h 127.0.0.1 "$@" -t "$t" --retained-only -C 1 -W 3 -F "$f" 2>/dev/null)
        [ -n "$got" ] && { printf '%s\n' "$got"; return 0; }
        sleep 0.25
    done
    return 1
}

start_broker && ok "mosquitto listens on 127.0.0.1:$PORT" || nok "no broker" "$(cat "$W/broker.log")"
pub -t probe/ready -r -m ready

# ---- the network: a data resource, a camera, a service, a secret ---------
# The bridge's node (mqtt-a) may not read secret/**: the network's policy.
printf 'version: 1\ndefault: allow\nrules:\n  - deny: read\n    who: "node:mqtt-a"\n    what: "secret/**"\n  - deny: execute\n    who: "node:mqtt-a"\n    what: "robot/locked"\n' \
    >"$W/policy.yaml"
mkdir -p -m 700 "$W/d/default"
cp "$W/policy.yaml" "$W/d/default/policy.yaml"
chmod 644 "$W/d/default/policy.yaml"
"$CLI" hold robot/battery '{"v":12.5}' --name batt >"$W/batt.log" 2>&1 &
PIDS+=($!)
"$CLI" hold secret/key '"s3cr3t"' --name vault >"$W/vault.log" 2>&1 &
PIDS+=($!)
"$CLI" offer robot/add --echo --name adder >"$W/adder.log" 2>&1 &
PIDS+=($!)
"$CLI" offer robot/locked --echo --name locker >"$W/locker.log" 2>&1 &
PIDS+=($!)
wait_for "$W/batt.log" "robot/battery" && wait_for "$W/vault.log" "secret/key" &&
    wait_for "$W/adder.log" "robot/add" && ok "providers up" ||
    nok "providers" "$(cat "$W"/batt.log "$W"/vault.log "$W"/adder.log)"

"$BR" --broker "mqtt://127.0.0.1:$PORT" --name mqtt-a --export 'robot/**' \
    --export 'camera/**' --export 'secret/**' --import 'cmd/#=robot/cmd' \
    --service fleet/ping --call 'robot/*' --timeout 8000 --stats robot/bridge-stats --max-imports 2 \
    >"$W/a.log" 2>&1 &
A=$!
PIDS+=($A)
wait_for "$W/a.log" "connected 127.0.0.1:$PORT MQTT 5" && ok "bridge A connects (MQTT 5)" ||
    nok "bridge A did not connect" "$(cat "$W/a.log")"
wait_for "$W/a.log" "subscribed" && ok "... and its subscriptions are in place" ||
    nok "bridge A did not subscribe" "$(cat "$W/a.log")"

# Data: retained, CBOR as it is, with its properties.
want=$(printf '{"v":12.5}' | "$CLI" json2cbor | hex)
got=$(retained ipcnet/robot/battery '%r|%C|%x|%P' -V 5 -p "$PORT")
IFS='|' read -r retained ctype payload props <<<"$got"
[ "$retained" = 1 ] && ok "data exported as a retained message" || nok "retained: $got"
[ "$ctype" = application/cbor ] && ok "content type application/cbor" || nok "ctype: $got"
[ "$payload" = "$want" ] && ok "payload: the CBOR value, byte for byte" || nok "payload $payload, want $want"
contains "origin mark user property" "$props" "ipcnet-origin:"
contains "source node user property" "$props" "ipcnet-src:batt"

# A new value replaces the retained one: a dashboard connecting later sees it.
r 0 "ipcnet set robot/battery" "$CLI" set robot/battery '{"v":11.0}'
want=$(printf '{"v":11.0}' | "$CLI" json2cbor | hex)
ok_new=0
for i in $(seq 1 60); do
    got=$(sub -t ipcnet/robot/battery -C 1 -F '%x')
    [ "$got" = "$want" ] && { ok_new=1; break; }
    sleep 0.25
done
[ $ok_new = 1 ] && ok "the new value is the retained one" || nok "retained after set: $got, want $want"

# A camera: a stream of frames, not retained, bytes as they are.
start_sub "$W/cam.out" 2 -t ipcnet/camera/front -F '%r|%C|%p'
# (the camera runs until the frames were seen, however slow the machine)
"$CLI" pub camera/front 'JPEGFRAME' --encoding image/jpeg --rate 20 \
    --name cam >"$W/cam.log" 2>&1 &
CAM=$!
PIDS+=($CAM)
sub_done "$W/cam.out"
kill -TERM $CAM 2>/dev/null
head -1 "$W/cam.out" | grep -qx '0|image/jpeg|JPEGFRAME' && ok "camera frames exported (not retained)" ||
    nok "camera" "$(cat "$W/cam.out" "$W/cam.log")"

# Permissions: the bridge may not read secret/**: it does not see it.
# (the retained topics listed until robot/battery is among them: by then
# the bridge has exported what it saw at start, secret/key if it could)
for i in $(seq 1 40); do
    sub -t 'ipcnet/#' --retained-only -W 2 -F '%t' >"$W/retained.out" 2>/dev/null
    grep -q ipcnet/robot/battery "$W/retained.out" && break
done
contains "robot/battery is retained on the broker" "$(cat "$W/retained.out")" "ipcnet/robot/battery"
lacks "secret/key (not readable by the bridge) is not exported" "$(cat "$W/retained.out")" "secret"
r 0 "another node finds secret/key" "$CLI" find 'secret/**'
contains "... so it exists, and only the bridge may not read it" "$out" "secret/key"

# MQTT to IPCNet: a mosquitto_pub reaches an IPCNet subscriber.
"$CLI" echo 'robot/cmd/**' --count 1 --raw >"$W/echo.out" 2>"$W/echo.err" &
E=$!
PIDS+=($E)
for i in $(seq 1 40); do
    pub -t cmd/drive -D publish content-type text/plain -m 'forward 1.5'
    sleep 0.25
    kill -0 $E 2>/dev/null || break
done
wait $E
[ "$(cat "$W/echo.out")" = "forward 1.5" ] && ok "mosquitto_pub reaches an IPCNet subscriber" ||
    nok "import" "$(cat "$W/echo.out" "$W/echo.err" "$W/a.log")"

# MQTT client calls an IPCNet service (request topic -> request -> response topic).
start_sub "$W/call.out" 1 -t resp/me -F '%D|%p|%P'
pub -t ipcnet/_call/robot/add -D publish response-topic resp/me \
    -D publish correlation-data corr-42 -D publish content-type application/json -m '[1,2]'
sub_done "$W/call.out"
IFS='|' read -r corr body props <"$W/call.out"
[ "$corr" = corr-42 ] && ok "the answer carries the caller's correlation data" || nok "corr" "$(cat "$W/call.out")"
[ "$body" = "[1,2]" ] && ok "the IPCNet service answered (echo)" || nok "call body" "$(cat "$W/call.out")"
contains "status as user property" "$props" "ipcnet-status:100"
# A service not bridged (--call robot/*) is answered 203.
start_sub "$W/call2.out" 1 -t resp/me -F '%p|%P'
pub -t ipcnet/_call/secret/x -D publish response-topic resp/me -D publish correlation-data c2 -m x
sub_done "$W/call2.out"
contains "a path outside --call is answered 203" "$(cat "$W/call2.out")" "ipcnet-status:203"
# A service the bridge may see but not execute (policy): 202, counted.
wait_for "$W/locker.log" "robot/locked"
start_sub "$W/call3.out" 1 -t resp/me -F '%p|%P'
pub -t ipcnet/_call/robot/locked -D publish response-topic resp/me -D publish correlation-data c3 -m 1
sub_done "$W/call3.out"
contains "a call the policy refuses the bridge is answered 202" "$(cat "$W/call3.out")" "ipcnet-status:202"

# A caller may not have the bridge publish under --prefix, nor on a topic
# an --import filter covers (cmd/#): such calls are dropped and counted.
pub -t ipcnet/_call/robot/add -D publish response-topic ipcnet/robot/battery \
    -D publish correlation-data c4 -m '"x"'
pub -t ipcnet/_call/robot/add -D publish response-topic cmd/evil -D publish correlation-data c5 -m '"x"'
wait_for "$W/a.log" "response topic under --prefix or --import: dropped" 2 &&
    ok "calls answering under --prefix or an --import filter are refused" || nok "rtopic" "$(cat "$W/a.log")"

# IPCNet calls a service whose responder is an MQTT client.
start_sub "$W/req.out" 1 -t 'ipcnet/_req/fleet/ping' -F '%R|%D|%p'
"$CLI" call fleet/ping '"ping"' --timeout 8000 --raw >"$W/ping.out" 2>"$W/ping.err" &
P=$!
sub_done "$W/req.out"
IFS='|' read -r rtopic rcorr rbody <"$W/req.out"
[ -n "$rtopic" ] && [ -n "$rcorr" ] && ok "the request carries a response topic and correlation data" ||
    nok "request" "$(cat "$W/req.out")"
[[ $rcorr =~ ^[0-9a-f]{32}-[0-9]+$ ]] && ok "... the correlation data: 16 random bytes (hex) and a counter" ||
    nok "correlation data $rcorr"
pub -t "$rtopic" -D publish correlation-data "$rcorr" -D publish user-property ipcnet-status 100 \
    -D publish content-type text/plain -m pong
wait $P
[ "$(cat "$W/ping.out")" = pong ] && ok "the IPCNet requester gets the MQTT responder's answer" ||
    nok "ping" "$(cat "$W/ping.out" "$W/ping.err")"
# An answer whose content type is no IPCNet encoding (not ASCII): passed
# on as application/octet-stream, not left unanswered.
start_sub "$W/req2.out" 1 -t 'ipcnet/_req/fleet/ping' -F '%R|%D|%p'
"$CLI" call fleet/ping '"ping2"' --timeout 8000 --raw >"$W/ping2.out" 2>"$W/ping2.err" &
P=$!
sub_done "$W/req2.out"
IFS='|' read -r rtopic rcorr rbody <"$W/req2.out"
pub -t "$rtopic" -D publish correlation-data "$rcorr" -D publish content-type 'text/plain; charset=é' -m pong2
wait $P
[ "$(cat "$W/ping2.out")" = pong2 ] && ok "an answer with a non-ASCII content type reaches the requester" ||
    nok "ping2" "$(cat "$W/ping2.out" "$W/ping2.err" "$W/a.log")"

# The counters as a data resource (--stats), JSON, held by the bridge; not
# exported although robot/** is (each export would change them).
# (published at the main loop's tick: asked again until they show the calls)
stats_ok=0
for i in $(seq 1 40); do
    out=$("$CLI" query robot/bridge-stats 2>"$W/query.err")
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["connected"]==1 and d["calls"]==2 and d["calls_refused"]==3 and d["requests"]==2 and d["exported"]>=3 and d["denied"]==1 and d["not_found"]==0 else 1)' \
        "$out" 2>/dev/null && { stats_ok=1; break; }
    sleep 0.25
done
[ $stats_ok = 1 ] && ok "--stats: the counters as JSON (ipcnet query)" || nok "--stats" "$out $(cat "$W/query.err")"
r 27 "the counters are not on the broker (mosquitto_sub -W times out: 27)" \
    timeout 10 mosquitto_sub -h 127.0.0.1 -p "$PORT" -t ipcnet/robot/bridge-stats -W 1 --retained-only
[ -z "$out" ] && ok "... (no retained counters)" || nok "stats exported" "$out"

r 2 "ipcnet --json bridge mqtt: an option a bridge does not take is refused" \
    "$CLI" --json bridge mqtt --broker "mqtt://127.0.0.1:$PORT"
contains "... and said" "$err" "only --network, --dir and --name"

# --max-imports 2: robot/cmd/drive and one more stream; a third topic is
# not imported, counted once per message and said once.
pub -t cmd/m1 -m one
pub -t cmd/m2 -m two
pub -t cmd/m3 -m three
wait_stat $A "$W/a.log" import_errors 2 && ok "--max-imports 2: the messages of a third and fourth stream are counted" ||
    nok "max-imports" "$(grep stats "$W/a.log" | tail -1)"
[ "$(grep -c -- "--max-imports 2 reached" "$W/a.log")" = 1 ] && ok "... and said once" ||
    nok "max-imports log" "$(cat "$W/a.log")"

# ---- two bridges, two networks, one broker: no loop ----------------------
# Each exports loop/** and imports ipcnet/loop/# (its own topics included).
for n in na nb; do
    mkdir -p -m 700 "$W/d/$n"
    # (through `ipcnet bridge mqtt`: the common options before the verb,
    # --opt=VALUE too, are passed on)
    "$CLI" --network=$n --name br-$n bridge mqtt --broker "mqtt://127.0.0.1:$PORT" --export 'loop/**' \
        --import 'ipcnet/loop/#' >"$W/$n.log" 2>&1 &
    PIDS+=($!)
    eval "P_$n=$!"
done
wait_for "$W/na.log" "subscribed" && wait_for "$W/nb.log" "subscribed" &&
    ok "two bridges connected and subscribed" || nok "two bridges" "$(cat "$W/na.log" "$W/nb.log")"
r 0 "3 samples published in network na" \
    "$CLI" --network na pub loop/x '7' --count 3 --rate 50 --name looper
wait_stat "$P_nb" "$W/nb.log" imported 3 && ok "bridge B imported the 3 samples" ||
    nok "B imported $(stat "$P_nb" "$W/nb.log" imported)" "$(cat "$W/nb.log")"
wait_stat "$P_nb" "$W/nb.log" loops 3 && ok "... and did not export them back (loops=3)" ||
    nok "B loops" "$(grep stats "$W/nb.log" | tail -1)"
[ "$(stat "$P_nb" "$W/nb.log" exported)" = 0 ] && ok "bridge B exported nothing" || nok "B exported"
[ "$(stat "$P_na" "$W/na.log" exported)" = 3 ] && ok "bridge A exported 3" || nok "A exported" "$(grep stats "$W/na.log")"
[ "$(stat "$P_na" "$W/na.log" imported)" = 0 ] && ok "bridge A imported nothing (No Local)" ||
    nok "A imported" "$(grep stats "$W/na.log" | tail -1)"
# The origin mark: a message marked as A's is dropped by A, taken by B.
oa=$(sed -n 's/.*origin \([0-9a-f]*\)$/\1/p' "$W/na.log" | head -1)
pub -t ipcnet/loop/y -D publish user-property ipcnet-origin "$oa" -m marked
wait_stat "$P_nb" "$W/nb.log" imported 4 && ok "B imports a message marked by A" || nok "B marked"
wait_stat "$P_na" "$W/na.log" loops 1 && ok "A drops the message with its own origin mark" ||
    nok "A origin" "$(grep stats "$W/na.log" | tail -1)"
[ "$(stat "$P_na" "$W/na.log" imported)" = 0 ] && ok "... and imports nothing" || nok "A imported"

# ---- two bridges in ONE network: no loop ---------------------------------
# Each exports loop/** and imports ipcnet/loop/# onto loop/in/...: what one
# imports, the other would export again (loop/in/x, loop/in/in/x ...).
# The imported streams are marked (announce meta): never exported, counted
# in loops.  (The two announce the same stream path: one of them may get
# 207 for it, counted in import_errors.)
mkdir -p -m 700 "$W/d/ns"
for n in s1 s2; do
    "$BR" --broker "mqtt://127.0.0.1:$PORT" --network ns --name br-$n --export 'loop/**' \
        --import 'ipcnet/loop/#=loop/in' >"$W/$n.log" 2>&1 &
    PIDS+=($!)
    eval "P_$n=$!"
done
wait_for "$W/s1.log" "subscribed" && wait_for "$W/s2.log" "subscribed" &&
    ok "two bridges of one network connected and subscribed" || nok "one network" "$(cat "$W/s1.log" "$W/s2.log")"
r 0 "3 samples published in network ns" \
    "$CLI" --network ns pub loop/x '7' --count 3 --rate 50 --name looper
# counters KEY of s1 and s2 from their last status lines
sn() { grep '^stats ' "$W/$1.log" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
settled=0
end=$((SECONDS + 30))
while [ $SECONDS -le $end ]; do
    stat $P_s1 "$W/s1.log" loops >/dev/null
    stat $P_s2 "$W/s2.log" loops >/dev/null
    t1=$(($(sn s1 imported) + $(sn s1 import_errors)))
    t2=$(($(sn s2 imported) + $(sn s2 import_errors)))
    imp=$(($(sn s1 imported) + $(sn s2 imported)))
    lps=$(($(sn s1 loops) + $(sn s2 loops)))
    # each took the other's 3 publications; each imported sample was seen
    # by both bridges (by its importer as its own, by the other as marked)
    [ $t1 -ge 3 ] && [ $t2 -ge 3 ] && [ $imp -ge 3 ] && [ $lps -ge $((2 * imp)) ] && { settled=1; break; }
    sleep 0.25
done
[ $settled = 1 ] && ok "one network: both bridges took the other's 3 samples; each import was seen as a loop twice" ||
    nok "one network" "$(grep '^stats' "$W/s1.log" | tail -1; grep '^stats' "$W/s2.log" | tail -1)"
for n in s1 s2; do
    line=$(grep '^stats ' "$W/$n.log" | tail -1)
    contains "bridge $n exported only the 3 samples (nothing imported went back out)" "$line" " exported=3 "
done
[ "$t1" = 3 ] && [ "$t2" = 3 ] && [ "$lps" = $((2 * imp)) ] && ok "... and imported no more than 3 each" ||
    nok "one network: more than 3" "$(grep '^stats' "$W/s1.log" | tail -1; grep '^stats' "$W/s2.log" | tail -1)"
for p in $P_s1 $P_s2; do kill -TERM $p; wait $p; done

# ---- the broker killed and restarted -------------------------------------
mkdir -p -m 700 "$W/d/nc"
"$CLI" --network nc hold out/level '1' --name lvl >"$W/lvl.log" 2>&1 &
PIDS+=($!)
wait_for "$W/lvl.log" "out/level"
"$BR" --broker "mqtt://127.0.0.1:$PORT" --network nc --name br-c --export 'out/**' \
    --buffer 5 >"$W/c.log" 2>&1 &
C=$!
PIDS+=($C)
wait_for "$W/c.log" "connected" && wait_stat $C "$W/c.log" published 1 &&
    ok "bridge C connected, out/level published" || nok "bridge C" "$(cat "$W/c.log")"
# The broker stopped (SIGSTOP): a new value goes out and stays
# unacknowledged (in flight in libmosquitto) when the broker dies.
kill -STOP "$BROKER"
r 0 "set out/level 5 while the broker is stopped" "$CLI" --network nc set out/level '5'
wait_stat $C "$W/c.log" exported 2 && [ "$(stat $C "$W/c.log" buffered)" = 1 ] &&
    ok "... taken, and in flight (unacknowledged)" || nok "in flight" "$(grep stats "$W/c.log" | tail -1)"
kill -KILL "$BROKER"
{ wait "$BROKER"; } 2>/dev/null # (no "Killed" notice)
wait_for "$W/c.log" "disconnected" && ok "C sees the broker go" || nok "C disconnect" "$(cat "$W/c.log")"
# A bridge started while there is no broker keeps trying (back-off).
# It publishes JSON (--json) and bounds its buffer by bytes (--buffer-bytes).
"$BR" --broker "mqtt://127.0.0.1:$PORT" --network nc --name br-e --export 'out/**' --prefix e/ \
    --export 'big/**' --json --buffer-bytes 1024 >"$W/e.log" 2>&1 &
E=$!
PIDS+=($E)
wait_for "$W/e.log" "cannot connect to 127.0.0.1:$PORT" && ok "a bridge started without a broker says so" ||
    nok "E" "$(cat "$W/e.log")"
r 0 "set out/level while the broker is away" "$CLI" --network nc set out/level '2'
r 0 "8 samples of a stream while the broker is away" \
    "$CLI" --network nc pub out/s '5' --count 8 --rate 100 --name outpub
r 0 "a 2000-byte sample while the broker is away" "$CLI" --network nc pub big/x \
    "$(head -c 2000 /dev/zero | tr '\0' x)" --encoding application/octet-stream --count 1 --name bigpub
wait_stat $E "$W/e.log" dropped 1 && ok "--buffer-bytes 1024: the large sample is dropped and counted" ||
    nok "E dropped" "$(grep stats "$W/e.log" | tail -1)"
wait_stat $C "$W/c.log" dropped 5 && ok "the buffer (5) keeps 5 (the one in flight too), 5 dropped and counted" ||
    nok "dropped" "$(grep stats "$W/c.log" | tail -1)"
[ "$(stat $C "$W/c.log" buffered)" = 5 ] && ok "5 buffered" || nok "buffered" "$(grep stats "$W/c.log" | tail -1)"
start_broker && ok "broker restarted on the same port" || nok "restart"
wait_line "$W/c.log" "^connected 127\.0\.0\.1:$PORT " 2 && ok "C reconnects by itself" || nok "reconnect" "$(cat "$W/c.log")"
wait_for "$W/e.log" "connected 127.0.0.1:$PORT" && ok "... and connects once the broker is there" ||
    nok "E connect" "$(cat "$W/e.log")"
got=$(retained e/out/level '%C|%p' -V 5 -p "$PORT")
[ "$got" = "application/json|2" ] && ok "... and exports the current value, as JSON (--json)" ||
    nok "E value: $got"
wait_stat $E "$W/e.log" buffered 0 && ok "E's buffer is delivered" || nok "E buffer" "$(grep stats "$W/e.log" | tail -1)"
[ "$(stat $E "$W/e.log" dropped)" = 1 ] && ok "... only the large sample was lost" || nok "E drops"
wait_stat $C "$W/c.log" buffered 0 && ok "the buffer is delivered" || nok "buffer" "$(grep stats "$W/c.log" | tail -1)"
[ "$(stat $C "$W/c.log" published)" = 6 ] && ok "published = 1 + 5 (acknowledged by the broker)" ||
    nok "published" "$(grep stats "$W/c.log" | tail -1)"
want=$(printf '2' | "$CLI" json2cbor | hex)
got=$(retained ipcnet/out/level '%x' -p "$PORT")
[ "$got" = "$want" ] && ok "the newest value (set during the outage, after the one in flight) is retained" ||
    nok "retained after restart: $got want $want"
contains "the counters say what was lost" "$(grep stats "$W/c.log" | tail -1)" "dropped=5"

# ---- MQTT 3.1.1: payloads only, services off ----------------------------
"$BR" --broker "mqtt://127.0.0.1:$PORT" --name mqtt-v3 --mqtt-version 3 --prefix v3/ \
    --export 'robot/**' --import 'v3/#' --service v3/svc >"$W/v3.log" 2>&1 &
V3=$!
PIDS+=($V3)
wait_for "$W/v3.log" "MQTT 3.1.1 (off: No Local, properties, services)" &&
    ok "--mqtt-version 3 connects with 3.1.1 and says what is off" || nok "v3" "$(cat "$W/v3.log")"
contains "... services among them" "$(cat "$W/v3.log")" "services: off"
# 3.1.1 has no No Local: the bridge's own exports come back on its import
# filter v3/#; they are skipped (loops), not imported.
wait_for "$W/v3.log" "are skipped" && ok "3.1.1: it says that imports of its own exports are skipped" ||
    nok "v3 warning" "$(cat "$W/v3.log")"
v3loops=0
for i in $(seq 1 60); do
    v3loops=$(stat $V3 "$W/v3.log" loops)
    [ "${v3loops:-0}" -gt 0 ] && break
    sleep 0.25
done
[ "${v3loops:-0}" -gt 0 ] && [ "$(stat $V3 "$W/v3.log" imported)" = 0 ] &&
    ok "3.1.1: its own publications are skipped ($v3loops, loops), none imported" ||
    nok "v3 own imports" "$(grep stats "$W/v3.log" | tail -1)"
want=$(printf '{"v":11.0}' | "$CLI" json2cbor | hex)
got=$(retained v3/robot/battery '%r|%x' -V 311 -p "$PORT")
[ "$got" = "1|$want" ] && ok "3.1.1: the retained value, as CBOR" || nok "v3 payload: $got"
r 1 "3.1.1: a call of the bridged service fails (no request/response in 3.1.1)" \
    "$CLI" call v3/svc '1' --timeout 3000
contains "... with 301" "$err" "301"

# ---- a restarted bridge: same origin, its old retained values not imported --
mkdir -p -m 700 "$W/d/nr"
"$CLI" --network nr hold rt/v '3' --name rtv >"$W/rtv.log" 2>&1 &
PIDS+=($!)
wait_for "$W/rtv.log" "rt/v"
for run in 1 2; do
    "$BR" --broker "mqtt://127.0.0.1:$PORT" --network nr --name br-r --export 'rt/**' \
        --import 'ipcnet/rt/#' >"$W/r$run.log" 2>&1 &
    R=$!
    PIDS+=($R)
    wait_for "$W/r$run.log" "subscribed" || nok "bridge R run $run" "$(cat "$W/r$run.log")"
    [ $run = 1 ] && { wait_stat $R "$W/r1.log" published 1 || nok "R published" "$(cat "$W/r1.log")"; }
    [ $run = 2 ] && {
        # a message of another client after the retained one: once it is
        # imported, the retained one (sent first) was handled
        pub -t ipcnet/rt/other -m x
        wait_stat $R "$W/r2.log" imported 1 && ok "restarted bridge: another client's message imported" ||
            nok "R2 imported" "$(grep stats "$W/r2.log" | tail -1)"
        [ "$(stat $R "$W/r2.log" imported)" = 1 ] &&
            ok "... but not its own retained value of the previous run" ||
            nok "R2 imported its own" "$(grep stats "$W/r2.log" | tail -1)"
    }
    kill -TERM $R
    wait $R
done
o1=$(sed -n 's/.*origin \([0-9a-f]*\)$/\1/p' "$W/r1.log")
o2=$(sed -n 's/.*origin \([0-9a-f]*\)$/\1/p' "$W/r2.log")
[ -n "$o1" ] && [ "$o1" = "$o2" ] && ok "the origin mark is the same across restarts ($o1)" ||
    nok "origin $o1 / $o2"

# ---- TLS and a password ----------------------------------------------------
if command -v openssl >/dev/null && command -v mosquitto_passwd >/dev/null; then
    TD=$W/tls
    mkdir "$TD"
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -keyout "$TD/ca.key" -out "$TD/ca.crt" -subj /CN=ipcnet-test-ca \
        -days 1 2>/dev/null
    openssl req "${ec[@]}" -keyout "$TD/srv.key" -out "$TD/srv.csr" -subj /CN=127.0.0.1 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' >"$TD/ext"
    openssl x509 -req -in "$TD/srv.csr" -CA "$TD/ca.crt" -CAkey "$TD/ca.key" -CAcreateserial \
        -out "$TD/srv.crt" -days 1 -extfile "$TD/ext" 2>/dev/null
    mosquitto_passwd -b -c "$TD/pw" robot 'pa ss' 2>/dev/null
    chmod 600 "$TD/pw"
    TPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf 'listener %s 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nallow_anonymous false\npassword_file %s\npersistence false\nuser %s\n' \
        "$TPORT" "$TD/ca.crt" "$TD/srv.crt" "$TD/srv.key" "$TD/pw" "$(id -un)" >"$TD/broker.conf"
    "$MOSQ" -c "$TD/broker.conf" >"$TD/broker.log" 2>&1 &
    TBROKER=$!
    PIDS+=($TBROKER)
    printf 'pa ss\n' >"$TD/pass.txt"
    r 2 "--password on the command line is refused" \
        "$BR" --broker "mqtts://127.0.0.1:$TPORT" --user robot --password 'pa ss'
    contains "... and says where to give it" "$err" "--password-file"
    "$BR" --broker "mqtts://127.0.0.1:$TPORT" --cafile "$TD/ca.crt" --user robot \
        --password-file "$TD/pass.txt" --name mqtt-tls --export 'robot/**' >"$W/tls.log" 2>&1 &
    TB=$!
    PIDS+=($TB)
    wait_for "$W/tls.log" "connected 127.0.0.1:$TPORT MQTT 5" &&
        ok "mqtts:// with --cafile, --user and --password-file connects" || nok "TLS" "$(cat "$W/tls.log" "$TD/broker.log")"
    got=$(retained ipcnet/robot/battery '%r|%x' -V 5 -p "$TPORT" --cafile "$TD/ca.crt" -u robot \
        -P 'pa ss')
    [ "$got" = "1|$want" ] && ok "TLS: the retained value reaches a TLS client" || nok "TLS payload: $got"
    printf 'wrong\n' >"$TD/bad.txt"
    IPCNET_MQTT_PASSWORD=ignored "$BR" --broker "mqtts://127.0.0.1:$TPORT" --cafile "$TD/ca.crt" \
        --user robot2 --password-file "$TD/bad.txt" --name mqtt-bad >"$W/bad.log" 2>&1 &
    BB=$!
    PIDS+=($BB)
    wait_for "$W/bad.log" "connection refused" && ok "a wrong password is refused, and said" ||
        nok "bad password" "$(cat "$W/bad.log")"
    [ "$(stat $BB "$W/bad.log" connects)" = 0 ] && ok "... and never counted as connected" || nok "bad connects"
    # The broker now accepts that password (its password file reloaded on
    # SIGHUP): the bridge, refused before, connects (libmosquitto ended its
    # loop on the MQTT 5 refusal; the bridge connects again).
    mosquitto_passwd -b "$TD/pw" robot2 wrong 2>/dev/null
    kill -HUP "$TBROKER"
    wait_for "$W/bad.log" "connected 127.0.0.1:$TPORT MQTT 5" 1 60 &&
        ok "after a refusal, the bridge connects once the broker accepts it" ||
        nok "no connection after a refusal" "$(cat "$W/bad.log" "$TD/broker.log")"
    kill -TERM $TB $BB
    wait $TB $BB
else
    echo "# TLS part skipped: openssl or mosquitto_passwd missing"
fi

# ---- a broker that speaks only MQTT 3.1.1: the fall-back ------------------
# A few lines of Python answer a level-5 CONNECT with CONNACK rc=1
# ("unacceptable protocol version", as a 3.1.1 broker does) and accept
# level 4 (3.1.1), then answer PINGREQ and SUBSCRIBE.
cat >"$W/fake311.py" <<'PY'
import socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
srv.settimeout(90)
open(sys.argv[1] + ".tmp", "w").write(str(srv.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
log = open(sys.argv[2], "a", buffering=1)
def read_packet(c):
    h = c.recv(1)
    if not h:
        return None, b""
    n, mul = 0, 1
    while True:
        b = c.recv(1)
        if not b:
            return None, b""
        n += (b[0] & 127) * mul
        mul *= 128
        if b[0] < 128:
            break
    body = b""
    while len(body) < n:
        more = c.recv(n - len(body))
        if not more:
            return None, b""
        body += more
    return h[0], body
while True:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        break
    c.settimeout(90)
    try:
        t, body = read_packet(c)
        if t != 0x10:
            c.close(); continue
        level = body[2 + body[1]]
        log.write("CONNECT level %d\n" % level)
        if level != 4:
            c.sendall(b"\x20\x02\x00\x01"); c.close(); continue
        c.sendall(b"\x20\x02\x00\x00")
        while True:
            t, body = read_packet(c)
            if t is None:
                break
            if t == 0xC0:
                c.sendall(b"\xd0\x00")
            elif t & 0xF0 == 0x80:
                c.sendall(bytes([0x90, 3]) + body[:2] + b"\x00")
    except OSError:
        pass
    c.close()
PY
timeout 120 python3 "$W/fake311.py" "$W/fake.port" "$W/fake.log" &
FAKE=$!
PIDS+=($FAKE)
for i in $(seq 1 600); do [ -s "$W/fake.port" ] && break; sleep 0.05; done
FPORT=$(cat "$W/fake.port" 2>/dev/null)
"$BR" --broker "mqtt://127.0.0.1:$FPORT" --name mqtt-fb >"$W/fb.log" 2>&1 &
FB=$!
PIDS+=($FB)
wait_for "$W/fb.log" "falling back to 3.1.1" 1 60 && ok "a 3.1.1-only broker refuses MQTT 5: the bridge falls back" ||
    nok "no fall-back" "$(cat "$W/fb.log" "$W/fake.log" 2>&1)"
wait_for "$W/fb.log" "connected 127.0.0.1:$FPORT MQTT 3.1.1" 1 60 &&
    ok "... and connects with MQTT 3.1.1" || nok "no 3.1.1 connection" "$(cat "$W/fb.log" "$W/fake.log" 2>&1)"
contains "the fake broker saw CONNECT level 5, then level 4" "$(tr '\n' ' ' <"$W/fake.log")" \
    "CONNECT level 5 CONNECT level 4"
kill -TERM $FB
wait $FB
rc=$?
[ $rc = 0 ] && ok "the fall-back bridge ends on SIGTERM (exit 0)" || nok "fall-back bridge exit $rc" "$(cat "$W/fb.log")"
kill -TERM $FAKE 2>/dev/null

# ---- the bridges end on SIGTERM, cleanly ---------------------------------
for p in $A $P_na $P_nb $C $E $V3; do kill -TERM $p; done
for p in $A $P_na $P_nb $C $E $V3; do
    wait $p
    rc=$?
    [ $rc = 0 ] && ok "bridge $p ends on SIGTERM (exit 0)" || nok "bridge $p exit $rc" "$(cat "$W"/*.log)"
done
lacks "a clean exit (SIGTERM while connected) logs no disconnect" "$(cat "$W/r1.log" "$W/fb.log")" "disconnected"
grep -q "ERROR: AddressSanitizer\|runtime error:" "$W"/*.log && nok "sanitizer reports" "$(cat "$W"/*.log)" ||
    ok "no sanitizer report"

echo "1..$T"
[ "$F" = 0 ]
