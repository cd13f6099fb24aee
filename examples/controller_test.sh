#!/usr/bin/env bash
# controller_test.sh IPCNET CONTROLLER... — drive each controller of issue
# 21 (examples/controller*.c, .cpp) through the ipcnet tool, each in a
# network of its own, all at once: its parameters are there; a set with an
# integer gain is taken and one with a text threshold refused (200);
# detections give the command each implementation must agree on.  Exit 0
# when every controller passed, 1 otherwise, 77 without python3.
set -u
cli=${1:?usage: controller_test.sh IPCNET CONTROLLER...}
shift
command -v python3 >/dev/null || { echo "SKIP: no python3 to parse JSON"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-controller.XXXXXX")
export IPCNET_DIR="$W/net"
unset XDG_RUNTIME_DIR IPCNET_NETWORK
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

# check LABEL JSON-LINES PYTHON-EXPR: d is the list of documents
check() {
    python3 -c 'import json, sys
d = [json.loads(l) for l in sys.argv[2].splitlines() if l.strip()]
sys.exit(0 if eval(sys.argv[1]) else 1)' "$3" "$2" || { echo "FAIL $1: $2"; return 1; }
}

# run PROG NETWORK: one controller, start to end; prints FAIL lines.  What
# it started is killed when it returns, whatever happened.
run() {
    local prog=$1 net=$2
    IPCNET_NETWORK=$net "$prog" >"$W/$net.out" 2>"$W/$net.err" &
    pid=$! echo_pid= pub_pid=
    steps "$prog" "$net"
    local rc=$?
    kill -KILL $pid $echo_pid $pub_pid 2>/dev/null
    wait 2>/dev/null
    return $rc
}

steps() {
    local prog=$1 net=$2 out i ok=0
    local q=("$cli" --network "$net")
    for ((i = 0; i < 100; i++)); do # its parameters are there (<= 10 s)
        out=$("${q[@]}" query robot/controller/params --json 2>/dev/null) && { ok=1; break; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ "$ok" = 1 ] || { echo "FAIL $net: no parameters: $(cat "$W/$net.err")"; return 1; }
    check "$net params" "$out" 'd[0]["value"]=={"threshold":0.5,"gain":2.0}' || return 1
    # an integer gain is a number; a text threshold is not
    "${q[@]}" set robot/controller/params '{"threshold": 0.6, "gain": 3}' >/dev/null ||
        { echo "FAIL $net: set refused"; return 1; }
    if "${q[@]}" set robot/controller/params '{"threshold": "high", "gain": 2}' \
        >/dev/null 2>"$W/$net.set"; then
        echo "FAIL $net: a text threshold was taken"
        return 1
    fi
    grep -q '^200 Bad Request' "$W/$net.set" || { echo "FAIL $net: $(cat "$W/$net.set")"; return 1; }
    # detections, repeated until the echo has two commands
    "${q[@]}" echo robot/base/cmd --json --count 2 --timeout 30000 >"$W/$net.cmd" 2>&1 &
    echo_pid=$!
    "${q[@]}" pub robot/detections --rate 20 --count 600 \
        '{"frame": 7, "objects": [{"label": "cup", "score": 0.9, "x": 0.25},
          {"label": "ball", "score": 0.95, "x": -0.5}, {"label": "low", "score": 0.55, "x": 1},
          {"score": 0.99, "x": 2}]}' >/dev/null 2>&1 &
    pub_pid=$!
    wait "$echo_pid"
    kill "$pub_pid" 2>/dev/null
    wait "$pub_pid" 2>/dev/null
    check "$net command" "$(cat "$W/$net.cmd")" \
        'len(d)==2 and all(x["value"]=={"frame":7,"linear":0.5,"angular":1.5,"target":"ball"} for x in d)' ||
        return 1
    kill -TERM "$pid"
    wait "$pid" || { echo "FAIL $net: exit $? on SIGTERM: $(cat "$W/$net.err")"; return 1; }
    pid=
    echo "ok $net ($(basename "$prog"))"
}

k=0
for prog in "$@"; do
    k=$((k + 1))
    run "$prog" "ctl$k" >"$W/result$k" 2>&1 &
    pids+=($!)
done
fail=0
for ((i = 1; i <= k; i++)); do
    wait "${pids[$((i - 1))]}" || fail=1
    cat "$W/result$i"
    grep -q '^ok ' "$W/result$i" || fail=1
done
exit $fail
