#!/usr/bin/env bash
# tests/integration/test_gateway_cli.sh - `ipcnet gateway`: two hosts (each
# its own IPCNET_DIR and IPCNET_CONFIG_DIR) linked over 127.0.0.1.  The
# first run makes the host key and refuses (203: nothing trusted); with the
# trust lists written, one listens (--listen), the other dials
# (IPCNET_PEERS, by name: localhost); both print the other's gateway up as
# "gateway@HOST"; SIGTERM ends them (exit 0); bad addresses exit 1 (200).
#
#   bash tests/integration/test_gateway_cli.sh path/to/ipcnet
set -u

BIN=${1:?usage: test_gateway_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_gateway_cli: $BIN is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "test_gateway_cli: SKIP: no python3"; exit 77; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-gw-test.XXXXXX")
unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_LISTEN IPCNET_PEERS
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TAP_TIMEOUT=30
mkdir -m 700 "$W/na" "$W/nb"

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for FILE TEXT: up to 15 s for TEXT to appear in FILE.
wait_for() {
    local i
    for i in $(seq 1 300); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

r 1 "a host that trusts no one cannot be a gateway" \
    env IPCNET_CONFIG_DIR="$W/ca" "$BIN" --dir "$W/na" gateway --listen tcp://127.0.0.1:1
contains "203 says why" "$err" "203 Not Found: cannot be a gateway"
r 1 "host B's first run makes its key too" \
    env IPCNET_CONFIG_DIR="$W/cb" "$BIN" --dir "$W/nb" gateway
mode=$(stat -c %a "$W/ca/host.key" 2>/dev/null)
[ "$mode" = 600 ] && ok "host.key is 0600" || nok "host.key mode $mode"
[ -s "$W/ca/host.pub" ] && ok "host.pub written" || nok "no host.pub"

r 1 "a listen address without a port is refused" \
    env IPCNET_CONFIG_DIR="$W/ca" "$BIN" --dir "$W/na" gateway --listen tcp://127.0.0.1
contains "... as 200" "$err" "200 Bad Request"
r 2 "gateway takes no argument" "$BIN" gateway tcp://127.0.0.1:1

mkdir -p "$W/ca/default" "$W/cb/default"
echo "hostb $(cat "$W/cb/host.pub")" >"$W/ca/default/trusted"
echo "hosta $(cat "$W/ca/host.pub")" >"$W/cb/default/trusted"
port=$(free_port)
IPCNET_CONFIG_DIR="$W/ca" "$BIN" --dir "$W/na" gateway \
    --listen "tcp://127.0.0.1:$port" >"$W/a.out" 2>"$W/a.err" &
PIDS+=($!)
apid=$!
IPCNET_CONFIG_DIR="$W/cb" IPCNET_PEERS="tcp://localhost:$port" \
    "$BIN" --dir "$W/nb" gateway --name gwb >"$W/b.out" 2>"$W/b.err" &
PIDS+=($!)
bpid=$!
wait_for "$W/a.out" "up gwb@hostb" && ok "A links B's gateway as gwb@hostb" ||
    nok "A did not link B" "$(cat "$W/a.out" "$W/a.err")"
wait_for "$W/b.out" "up gateway@hosta" && ok "B links A's gateway as gateway@hosta" ||
    nok "B did not link A" "$(cat "$W/b.out" "$W/b.err")"
kill -TERM "$bpid"
wait "$bpid"
rc=$?
[ "$rc" = 0 ] && ok "B ends on SIGTERM (exit 0)" || nok "B exit $rc" "$(cat "$W/b.err")"
wait_for "$W/a.out" "down gwb@hostb" && ok "A sees B go" || nok "A did not see B go"
kill -TERM "$apid"
wait "$apid"
rc=$?
[ "$rc" = 0 ] && ok "A ends on SIGTERM (exit 0)" || nok "A exit $rc" "$(cat "$W/a.err")"

echo "1..$T"
[ "$F" = 0 ]
