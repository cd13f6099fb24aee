#!/usr/bin/env bash
# bench/mqtt.sh - the MQTT bridge's added latency and throughput: starts a
# mosquitto broker on 127.0.0.1 at a free port and ipcnet-bridge-mqtt
# (--export 'bench/**'), then runs ipcnet-bench-mqtt, which compares, in
# the same run and through the same broker, a direct libmosquitto client
# with an IPCNet stream exported by the bridge (docs/bridges.md).
#
#   bash bench/mqtt.sh [BUILD_DIR] [--count N] [--size B] [--qos 0|1]
set -u
B=${1:-build}
shift || true
BR="$B/bin/ipcnet-bridge-mqtt"
BENCH="$B/bin/ipcnet-bench-mqtt"
[ -x "$BR" ] && [ -x "$BENCH" ] || { echo "bench/mqtt.sh: SKIP: the MQTT bridge was not built"; exit 77; }
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQ" ] || { echo "bench/mqtt.sh: SKIP: mosquitto missing"; exit 77; }
qos=0
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = --qos ] && qos=${args[$((i + 1))]}; done

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-mqtt-bench.XXXXXX")
mkdir -m 700 "$W/d"
export IPCNET_DIR="$W/d"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser %s\n' "$PORT" "$(id -un)" >"$W/m.conf"
"$MOSQ" -c "$W/m.conf" >"$W/broker.log" 2>&1 &
PIDS+=($!)
for i in $(seq 1 600); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$PORT" 2>/dev/null && break
    sleep 0.05
done
"$BR" --broker "mqtt://127.0.0.1:$PORT" --export 'bench/**' --qos "$qos" --buffer 100000 >"$W/bridge.log" 2>&1 &
PIDS+=($!)
connected=0
for i in $(seq 1 600); do grep -q '^connected ' "$W/bridge.log" && { connected=1; break; }; sleep 0.05; done
if [ $connected = 0 ]; then
    echo "bench/mqtt.sh: FAIL: the bridge did not connect to the broker within 30 s" >&2
    cat "$W/bridge.log" "$W/broker.log" >&2
    exit 1
fi
"$BENCH" --broker "mqtt://127.0.0.1:$PORT" "$@"
rc=$?
kill -USR1 "${PIDS[1]}"; sleep 0.2
grep '^stats' "$W/bridge.log" | tail -1 | sed 's/^/bridge /'
exit $rc
