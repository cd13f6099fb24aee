#!/usr/bin/env bash
# tests/integration/test_cli.sh - drive the `ipcnet` command-line tool in
# real processes: every verb, every error exit, --json output parsed (by
# python3's json module), `graph --dot` parsed by Graphviz's dot.
#
#   bash tests/integration/test_cli.sh path/to/ipcnet
#
# Each check prints "ok N - ..." or "not ok N - ..." (TAP); the exit status is
# 0 when every check passed, 1 otherwise, 77 when it cannot run (skipped).
# The network lives in a private IPCNET_DIR, removed at the end.
set -u

BIN=${1:?usage: test_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_cli: $BIN is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "test_cli: SKIP: no python3 to parse JSON"; exit 77; }
HAVE_DOT=1
command -v dot >/dev/null || HAVE_DOT=0

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-cli-test.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR
# Sanitizer builds: leaks are errors, and one report must fail the check.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

declare -A PID
cleanup() {
    local n
    for n in "${!PID[@]}"; do
        kill -KILL "${PID[$n]}" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"




# start NAME CMD... : run in the background, output in $W/NAME.{out,err}
start() {
    local name=$1
    shift
    "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    PID[$name]=$!
}

# wait_out NAME REGEX [SECONDS]: until NAME's stdout has a matching line.
wait_out() {
    local name=$1 re=$2 i
    for ((i = 0; i < ${3:-10} * 20; i++)); do
        grep -qE -- "$re" "$W/$name.out" 2>/dev/null && return 0
        kill -0 "${PID[$name]}" 2>/dev/null || break
        sleep 0.05
    done
    grep -qE -- "$re" "$W/$name.out" 2>/dev/null
}

# wait_ready NAME DESC: until NAME printed its ready line.
wait_ready() {
    if wait_out "$1" '(^serving|^publishing|^offering|"event":"ready")' 10; then
        ok "$2 is ready"
    else
        nok "$2 did not get ready" "$(cat "$W/$1.out" "$W/$1.err")"
    fi
}

# finish NAME [SECONDS]: wait for NAME to end; $rc $out $err are its.
finish() {
    local name=$1 i hung=0 wrc
    for ((i = 0; i < ${2:-10} * 20; i++)); do
        kill -0 "${PID[$name]}" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "${PID[$name]}" 2>/dev/null; then
        kill -KILL "${PID[$name]}"
        hung=1
    fi
    wait "${PID[$name]}" 2>/dev/null
    wrc=$?
    unset "PID[$name]"
    if [ "$hung" = 1 ]; then rc="timeout (killed)"; else rc=$wrc; fi
    out=$(cat "$W/$name.out")
    err=$(cat "$W/$name.err")
}

# stop NAME SIGNAL DESC: send the signal; the process must end with exit 0.
stop() {
    kill "-$2" "${PID[$1]}"
    finish "$1" 5
    if [ "$rc" = 0 ]; then ok "$3 ends cleanly on SIG$2"; else nok "$3 on SIG$2: exit $rc" "$(show)"; fi
}

wait_sock() { # wait_sock NAME: a node called NAME has bound its socket
    local i
    for ((i = 0; i < 200; i++)); do
        [ -S "$IPCNET_DIR/${2:-default}/$1.sock" ] && return 0
        sleep 0.05
    done
    return 1
}

ms_now() { echo $(($(date +%s%N) / 1000000)); }

echo "# ipcnet: $BIN; network directory $IPCNET_DIR"

# ---------------------------------------------------------------- help
r 0 "--help" "$BIN" --help
contains "--help lists the verbs" "$out" "graph"
r 0 "--version" "$BIN" --version
contains "--version names the library" "$out" "libipcnet"
for v in nodes find info hold set query pub echo hz offer call graph; do
    r 0 "$v --help" "$BIN" "$v" --help
    contains "$v --help shows its usage" "$out" "usage: ipcnet $v"
    contains "$v --help shows --network" "$out" "--network NAME"
done
r 0 "help query" "$BIN" help query
r 0 "--network lab --help" "$BIN" --network lab --help
r 2 "options but no verb" "$BIN" --network lab
contains "no verb: 200" "$err" "200 Bad Request: no verb given"
r 2 "no verb" "$BIN"
r 2 "unknown verb" "$BIN" frobnicate
contains "unknown verb: 200 Bad Request" "$err" "200 Bad Request: no verb 'frobnicate'"
# every verb --help lists, in the same order
verbs=$("$BIN" --help | sed -n '/^verbs:/,/^$/s/^  \([a-z0-9-]*\) .*/\1/p' | paste -sd, - | sed 's/,/, /g')
[ -n "$verbs" ] && contains "unknown verb: the list of verbs is every verb" "$err" "the verbs are $verbs (" \
    || nok "--help lists no verbs"
r 2 "help of an unknown verb" "$BIN" help frobnicate
contains "help of an unknown verb lists every verb" "$err" "the verbs are $verbs ("
r 0 "graph --help" "$BIN" graph --help
lacks "graph --help does not deny showing subscribers" "$out" "not shown"
contains "graph --help says subscribers are shown" "$out" "subscribes to what"
r 2 "unknown option" "$BIN" nodes --bogus
contains "unknown option: 200 Bad Request" "$err" "200 Bad Request:"
r 2 "option of another verb" "$BIN" query x --rate 3
r 2 "missing PATH" "$BIN" query
contains "missing PATH says so" "$err" "missing PATH"
r 2 "missing VALUE" "$BIN" hold a/b
r 2 "extra argument" "$BIN" query a b
r 2 "bad --count" "$BIN" pub a 1 --count -3
r 2 "bad --rate" "$BIN" pub a 1 --rate fast
r 2 "bad --timeout" "$BIN" query a --timeout 0
r 2 "offer needs --echo or --exec" "$BIN" offer svc/x
r 2 "offer takes one of them" "$BIN" offer svc/x --echo --exec cat
r 2 "VALUE and --file" "$BIN" hold a/b 1 --file /dev/null
r 2 "bad --kind" "$BIN" find --kind gizmo
r 2 "--kind=VALUE form is parsed" "$BIN" find --kind=gizmo

# ---------------------------------------------------------------- empty network
r 0 "nodes in an empty network" "$BIN" nodes
contains "nodes says there is nobody" "$out" "no other node"
r 0 "nodes --json in an empty network" "$BIN" nodes --json
[ -z "$out" ] && ok "nodes --json prints no document for no node" || nok "nodes --json printed" "$out"
r 0 "find in an empty network" "$BIN" find
r 1 "query of nothing" "$BIN" query robot/arm/left/state
contains "query of nothing: 203" "$err" "203 Not Found: no provider for robot/arm/left/state"
r 1 "call of nothing" "$BIN" call svc/none 1
contains "call of nothing: 203" "$err" "203 Not Found: no provider for svc/none"
r 1 "info of nothing" "$BIN" info robot/none
contains "info of nothing: 203" "$err" "203 Not Found"
r 1 "query of an invalid path" "$BIN" query 'a//b'
contains "invalid path: 200" "$err" "200 Bad Request: cannot query 'a//b': invalid path"
r 1 "call of an invalid path" "$BIN" call 'a//b' 1
contains "call of an invalid path: 200" "$err" "200 Bad Request"
r 1 "find with an invalid pattern" "$BIN" find 'a//b'
contains "invalid pattern: 200" "$err" "200 Bad Request"
r 1 "hold with invalid JSON" "$BIN" hold a/b "{'x': 1}"
contains "invalid JSON: 200 Bad Request" "$err" "200 Bad Request: VALUE is not valid JSON"
r 1 "hold with a trailing comma" "$BIN" hold a/b '[1,2,]'
r 1 "hold with an invalid path" "$BIN" hold 'a//b' 1
contains "invalid path: 200" "$err" "200 Bad Request"
r 1 "pub with invalid JSON" "$BIN" pub a/b '{"a":}'
r 1 "call with invalid JSON" "$BIN" call a/b 'nope'
contains "call invalid JSON: 200" "$err" "200 Bad Request"
r 1 "hold --meta with invalid JSON" "$BIN" hold a/b 1 --meta '{x}'
r 1 "--file that does not exist" "$BIN" hold a/b --file "$W/missing"
contains "missing file: 203" "$err" "203 Not Found"
r 1 "echo --timeout with no provider" "$BIN" echo 'cam/**' --timeout 300
contains "echo --timeout: 304" "$err" "304 Gateway Timeout"
r 1 "hz --timeout with no provider" "$BIN" hz 'cam/**' --timeout 300
contains "hz --timeout: 304" "$err" "304 Gateway Timeout"
r 1 "invalid --name" "$BIN" nodes --name '.bad name'
contains "invalid node name: 200" "$err" "200 Bad Request"

# ---------------------------------------------------------------- hold, set, query, info, find, nodes
start arm "$BIN" hold robot/arm/left/state '{"q": [0.5, -1.25], "ok": true}' \
    --meta '{"units": "rad", "rate": 100, "frame": "base"}' --name arm-driver
wait_ready arm "hold"
r 0 "query" "$BIN" query robot/arm/left/state
[ "$out" = '{"q":[0.5,-1.25],"ok":true}' ] && ok "query prints the value" || nok "query printed" "$out"
r 0 "query --json" "$BIN" query robot/arm/left/state --json
jcheck "query --json: the value, its encoding and provider" "$out" \
    'len(d)==1 and d[0]["value"]=={"q":[0.5,-1.25],"ok":True} and d[0]["encoding"]=="cbor" and d[0]["provider"]=="arm-driver" and d[0]["path"]=="robot/arm/left/state"'
r 0 "query --raw" "$BIN" query robot/arm/left/state --raw
if "$BIN" query robot/arm/left/state --raw | cmp -s - <("$BIN" json2cbor <<<'{"q":[0.5,-1.25],"ok":true}'); then
    ok "query --raw writes the CBOR bytes"
else
    nok "query --raw wrote" "$("$BIN" query robot/arm/left/state --raw | od -An -tx1)"
fi
r 0 "info" "$BIN" info robot/arm/left/state
contains "info shows the kind" "$out" "kind      data"
contains "info shows the metadata" "$out" '"units":"rad"'
contains "info shows the provider" "$out" "arm-driver"
r 0 "info --json" "$BIN" info robot/arm/left/state --json
jcheck "info --json: the whole descriptor" "$out" \
    'len(d)==1 and d[0]["kind"]=="data" and d[0]["meta"]=={"units":"rad","rate":100,"frame":"base"} and d[0]["version"]>=1 and d[0]["provider"]=="arm-driver" and d[0]["provider_pid"]>0 and len(d[0]["provider_id"])==16 and d[0]["meta_size"]==len(d[0]["meta_hex"])//2'
r 0 "find" "$BIN" find 'robot/**'
contains "find lists the resource" "$out" "robot/arm/left/state"
contains "find shows the encoding" "$out" "cbor"
r 0 "find --json" "$BIN" find --json
jcheck "find --json: one document per resource" "$out" \
    'len(d)==1 and d[0]["path"]=="robot/arm/left/state" and d[0]["kind"]=="data" and d[0]["provider"]=="arm-driver"'
r 0 "find --kind stream" "$BIN" find --kind stream --json
[ -z "$out" ] && ok "find --kind stream finds no stream" || nok "find --kind stream printed" "$out"
r 0 "find 'robot/*/left/*' --kind data" "$BIN" find 'robot/*/left/*' --kind data --json
jcheck "find with '*' matches" "$out" 'len(d)==1'
r 0 "nodes" "$BIN" nodes
contains "nodes lists the provider" "$out" "arm-driver"
r 0 "nodes --json" "$BIN" nodes --json
# The principal: the user by name, the supplementary groups the kernel
# gave (those of this shell, which started the provider), the executable
# and its SHA-256, computed here apart.
BIN_REAL=$(readlink -f "$BIN")
BIN_SHA=$(sha256sum "$BIN_REAL" | cut -d' ' -f1)
SUPP=$(python3 -c 'import os; print(sorted(os.getgroups()))')
jcheck "nodes --json: name, pid, uid, user, groups, exe, resources, uptime, counters" "$out" \
    "len(d)==1 and d[0]['name']=='arm-driver' and d[0]['pid']==${PID[arm]} and d[0]['uid']==$(id -u) and d[0]['user']=='$(id -un)' and sorted(g['gid'] for g in d[0]['groups'])==$SUPP and d[0]['groups_truncated'] is False and d[0]['exe']=='$BIN_REAL' and d[0]['exe_sha256']=='$BIN_SHA' and d[0]['resources']==1 and 0<=d[0]['uptime_s']<120 and d[0]['link']['frames_in']>=2 and d[0]['link']['bytes_in']>0 and d[0]['link']['bad_frames']==0"
r 0 "nodes (text)" "$BIN" nodes
contains "nodes prints the user" "$out" "$(id -un)($(id -u))"
contains "nodes prints the executable" "$out" "$BIN_REAL"
contains "nodes prints the first 12 hex digits of its SHA-256" "$out" "${BIN_SHA:0:12}"
# Criticality and readiness (protocol 7.6): a serving verb says it is
# ready; the criticality comes from $IPCNET_CRITICALITY, none here.
r 0 "nodes --json (state)" "$BIN" nodes --json
jcheck "nodes --json: hold said it is ready, no criticality" "$out" \
    "len(d)==1 and d[0]['ready'] is True and d[0]['criticality'] is None"
r 0 "nodes (text, state)" "$BIN" nodes
contains "nodes prints the CRIT and READY columns" "$out" "CRIT       READY"
contains "nodes (text): no criticality, ready" "$out" "-          yes"
r 1 "a bad IPCNET_CRITICALITY" env IPCNET_CRITICALITY=vital "$BIN" nodes
contains "a bad IPCNET_CRITICALITY: 200" "$err" "200 Bad Request"
# nodes --traffic: each node's own picture of what its peers send it,
# asked of its node service @sys/<node>/traffic
start tpub env IPCNET_CRITICALITY=critical "$BIN" pub traffic/x '"t"' --rate 50 --name tpub
wait_ready tpub "pub (traffic)"
start tsub "$BIN" echo 'traffic/**' --name tsub
if wait_out tsub 't' 10; then ok "echo (traffic) gets samples"; else nok "echo (traffic) got nothing" "$(cat "$W/tsub.err")"; fi
r 0 "nodes --traffic" "$BIN" nodes --traffic
contains "nodes --traffic: a table per node" "$out" "node tsub: what its peers send it"
contains "nodes --traffic: the provider's table too" "$out" "node arm-driver: what its peers send it"
contains "nodes --traffic: the header" "$out" "NORMAL/S"
r 0 "nodes --traffic --node tsub --json" "$BIN" nodes --traffic --node tsub --json
jcheck "nodes --traffic --json: the samples tsub gets from tpub" "$out" \
    'len(d)==1 and d[0]["node"]=="tsub" and any(i["peer"]=="tpub" and i["path"]=="traffic/x" and i["verb"]=="sample" and i["count"]>=1 and i["mean_bytes"]>0 and i["anomalous"] is False and i["anomalies"]==0 for i in d[0]["items"])'
r 1 "nodes --traffic --node of no node" "$BIN" nodes --traffic --node nobody
contains "nodes --traffic --node of no node: 203" "$err" "203 Not Found"
r 0 "nodes --node tsub" "$BIN" nodes --node tsub --json
jcheck "nodes --node: that node only" "$out" 'len(d)==1 and d[0]["name"]=="tsub"'
jcheck "nodes: echo (a consumer) never said it is ready" "$out" 'd[0]["ready"] is False and d[0]["criticality"] is None'
r 0 "nodes --node tpub" "$BIN" nodes --node tpub --json
jcheck "nodes: pub with IPCNET_CRITICALITY=critical, ready" "$out" 'd[0]["ready"] is True and d[0]["criticality"]=="critical"'
r 0 "nodes --node tpub (text)" "$BIN" nodes --node tpub
contains "nodes (text): critical, yes" "$out" "critical   yes"
stop tsub TERM "echo (traffic)"
stop tpub TERM "pub (traffic)"
r 1 "a second hold of the same path" "$BIN" hold robot/arm/left/state 1
contains "second hold: 207 Conflict naming the provider" "$err" "207 Conflict: node arm-driver already provides robot/arm/left/state"
r 1 "a node name in use" "$BIN" nodes --name arm-driver
contains "name in use: 207" "$err" "207 Conflict"
r 1 "call of a data resource" "$BIN" call robot/arm/left/state 1
contains "call of data: 204" "$err" "204 Method Not Allowed"

# set: the value of a data resource another node holds (a parameter)
r 0 "set" "$BIN" set robot/arm/left/state '{"q": [1, 2], "ok": false}'
[ "$out" = "robot/arm/left/state: version 2" ] && ok "set prints the new version" || nok "set printed" "$out"
r 0 "query after set" "$BIN" query robot/arm/left/state
[ "$out" = '{"q":[1,2],"ok":false}' ] && ok "set changed the value (CBOR, the resource's encoding)" \
    || nok "query after set printed" "$out"
r 1 "set with a stale --expect-version" "$BIN" set robot/arm/left/state 1 --expect-version 1
contains "stale version: 207 naming the current one" "$err" \
    "207 Conflict: robot/arm/left/state changed: its version is 2, not 1"
r 0 "set --expect-version of the current one, --json" "$BIN" set robot/arm/left/state \
    '{"q": [0.5, -1.25], "ok": true}' --expect-version 2 --json
jcheck "set --json: the path and the new version" "$out" \
    'len(d)==1 and d[0]["path"]=="robot/arm/left/state" and d[0]["version"]==3'
r 1 "set of another encoding" "$BIN" set robot/arm/left/state hi --encoding text/plain
contains "another encoding: 200" "$err" "200 Bad Request"
r 1 "set of nothing" "$BIN" set robot/none 1
contains "set of nothing: 203" "$err" "203 Not Found: no provider for robot/none"
r 2 "set without VALUE" "$BIN" set robot/arm/left/state
r 2 "bad --expect-version" "$BIN" set robot/arm/left/state 1 --expect-version -1
r 0 "query after the sets" "$BIN" query robot/arm/left/state
[ "$out" = '{"q":[0.5,-1.25],"ok":true}' ] && ok "the last set holds" || nok "after the sets" "$out"

# --network and IPCNET_NETWORK
start other "$BIN" hold robot/other 7 --network lab
wait_ready other "hold --network lab"
r 1 "a resource of network lab is not in default" "$BIN" query robot/other
r 0 "query --network lab" "$BIN" query robot/other --network lab
[ "$out" = 7 ] && ok "query --network lab gets the value" || nok "query --network lab printed" "$out"
r 0 "options before the verb" "$BIN" --network lab --json query robot/other
jcheck "options before the verb apply" "$out" 'd[0]["value"]==7'
r 0 "IPCNET_NETWORK=lab query" env IPCNET_NETWORK=lab "$BIN" query robot/other
[ "$out" = 7 ] && ok "IPCNET_NETWORK is honoured" || nok "IPCNET_NETWORK=lab printed" "$out"
r 0 "--dir DIR query" env -u IPCNET_DIR "$BIN" query robot/other --network lab --dir "$IPCNET_DIR"
[ "$out" = 7 ] && ok "--dir is honoured" || nok "--dir printed" "$out"
stop other INT "hold --network lab"
contains "hold says what it withdrew" "$out" "withdrew robot/other"
r 1 "after SIGINT the value is gone" "$BIN" query robot/other --network lab
contains "gone after SIGINT: 203" "$err" "203 Not Found"

stop arm TERM "hold"
r 1 "after SIGTERM the value is gone" "$BIN" query robot/arm/left/state
contains "gone after SIGTERM: 203" "$err" "203 Not Found"

# a negative number is a VALUE, not an option
start neg "$BIN" hold robot/offset -1.5e-3
wait_ready neg "hold with a negative VALUE"
r 0 "query of a negative number" "$BIN" query robot/offset
[ "$out" = "-0.0015" ] && ok "a negative VALUE travels (as CBOR)" || nok "negative VALUE came back as" "$out"
stop neg TERM "hold (negative)"

# kill -9: a later query fails with 203 within one second
start victim "$BIN" hold robot/arm/left/state '{"q":[1]}'
wait_ready victim "hold (to be killed)"
kill -KILL "${PID[victim]}"
wait "${PID[victim]}" 2>/dev/null
unset "PID[victim]"
t0=$(ms_now)
r 1 "query after kill -9 of the provider" "$BIN" query robot/arm/left/state
t1=$(ms_now)
contains "query after kill -9: 203" "$err" "203 Not Found: no provider for robot/arm/left/state"
if [ $((t1 - t0)) -lt 1000 ]; then ok "203 after kill -9 came in $((t1 - t0)) ms"; else nok "203 after kill -9 took $((t1 - t0)) ms"; fi

# a node that does not answer (stopped) delays the tool by --wait at most
start hung "$BIN" hold robot/hung 1
wait_ready hung "hold (to be stopped)"
kill -STOP "${PID[hung]}"
t0=$(ms_now)
r 0 "nodes with a stopped node" "$BIN" nodes --wait 300
t1=$(ms_now)
contains "the stopped node is named in a warning" "$err" "did not link within 300 ms"
if [ $((t1 - t0)) -lt 2000 ]; then ok "a stopped node cost $((t1 - t0)) ms"; else nok "a stopped node cost $((t1 - t0)) ms"; fi
kill -CONT "${PID[hung]}"
r 0 "query once it runs again" "$BIN" query robot/hung
stop hung TERM "hold (stopped and continued)"

# binary values: a summary, or the bytes with --raw
head -c 5000 /dev/urandom >"$W/blob"
start blob "$BIN" hold cam/front/still --file "$W/blob" --encoding 'image/png'
start text "$BIN" hold notes/hello 'two
lines' --encoding 'text/plain; charset=utf-8'
wait_ready blob "hold --file"
wait_ready text "hold --encoding text/plain"
r 0 "query of a binary value" "$BIN" query cam/front/still
contains "binary value: a summary with its encoding" "$out" "<image/png, 5000 bytes"
contains "binary value: a summary with its hash" "$out" "xxh3 "
r 0 "query --raw of a binary value" "$BIN" query cam/front/still --raw
if "$BIN" query cam/front/still --raw | cmp -s - "$W/blob"; then ok "query --raw gives the same bytes"; else nok "query --raw bytes differ"; fi
r 0 "query --json of a binary value" "$BIN" query cam/front/still --json
hash=$("$BIN" query cam/front/still | sed -n 's/.*xxh3 \([0-9a-f]*\)>.*/\1/p')
jcheck "binary --json: size and hash, no value" "$out" \
    "d[0]['value'] is None and d[0]['size']==5000 and d[0]['xxh3']=='$hash' and d[0]['encoding']=='image/png'"
r 0 "query of a text value" "$BIN" query notes/hello
[ "$out" = 'two
lines' ] && ok "text prints as text" || nok "text printed" "$out"
r 0 "query --json of a text value" "$BIN" query notes/hello --json
jcheck "text --json: a string" "$out" 'd[0]["value"]=="two\nlines"'
stop blob TERM "hold --file"
stop text TERM "hold text"

# ---------------------------------------------------------------- pub, echo, hz
start echo "$BIN" echo 'cam/**' --count 3 --json --name echo-1
wait_sock echo-1 || nok "echo did not bind its socket"
start echo_text "$BIN" echo 'cam/*' --count 2 --name echo-2
wait_sock echo-2 || nok "echo (text) did not bind its socket"
r 0 "pub --count 5" "$BIN" pub cam/front '{"n": 1}' --rate 50 --count 5
contains "pub says what it did" "$out" "5 samples published; withdrew cam/front"
finish echo 5
[ "$rc" = 0 ] && ok "echo --count 3 ends by itself" || nok "echo --count 3: exit $rc" "$(show)"
jcheck "echo --json: three samples with path, value, provider, seq" "$out" \
    'len(d)==3 and all(x["path"]=="cam/front" and x["value"]=={"n":1} and x["encoding"]=="cbor" and x["provider"].startswith("ipcnet-cli.") for x in d) and [x["seq"] for x in d]==sorted(x["seq"] for x in d) and d[0]["timestamp_ns"]>0'
finish echo_text 5
[ "$rc" = 0 ] && ok "echo (text) ends by itself" || nok "echo (text): exit $rc" "$(show)"
[ "$out" = 'cam/front: {"n":1}
cam/front: {"n":1}' ] && ok "echo prints 'path: value'" || nok "echo printed" "$out"

start pub "$BIN" pub cam/rear '[1,2,3]' --rate 40 --json
wait_ready pub "pub (until interrupted)"
r 0 "hz --count 2 --json" "$BIN" hz 'cam/*' --count 2 --json
jcheck "hz --json: rate near 40 Hz, jitter, bandwidth" "$out" \
    'len(d)==2 and all(x["path"]=="cam/rear" and 25<x["rate_hz"]<55 and x["jitter_s"]>=0 and x["min_s"]<=x["mean_s"]<=x["max_s"] and x["bytes_per_s"]>0 and x["missed"]==0 for x in d)'
r 0 "hz (text) --count 1" "$BIN" hz cam/rear --count 1
contains "hz prints a rate" "$out" "Hz"
contains "hz prints jitter" "$out" "jitter"
r 0 "info of a stream: rate in the metadata" "$BIN" info cam/rear --json
jcheck "pub puts its rate in the metadata" "$out" 'd[0]["kind"]=="stream" and d[0]["meta"]=={"rate":40}'
r 1 "query of a stream" "$BIN" query cam/rear
contains "query of a stream: 204" "$err" "204 Method Not Allowed"
start watcher "$BIN" echo cam/rear --name watcher
wait_out watcher '^cam/rear: \[1,2,3\]' 5 && ok "echo sees the stream" || nok "echo saw nothing" "$(cat "$W/watcher.out" "$W/watcher.err")"
stop pub INT "pub"
jcheck "pub --json: ready and stopped documents" "$out" \
    'd[0]["event"]=="ready" and d[-1]["event"]=="stopped" and d[-1]["published"]>0'
sleep 0.3
stop watcher TERM "echo"
contains "echo reports that the stream went away" "$err" "303 Service Unavailable: cam/rear went away"
r 0 "the stream is withdrawn" "$BIN" find 'cam/**' --json
[ -z "$out" ] && ok "nothing left under cam/" || nok "find still lists" "$out"
start feed "$BIN" pub cam/feed 1 --rate 100
wait_ready feed "pub (for a pipe)"
"$BIN" echo cam/feed 2>"$W/pipe.err" | head -n 2 >"$W/pipe.out"
st=("${PIPESTATUS[@]}")
[ "${st[0]}" = 0 ] && ok "echo | head ends cleanly when the reader leaves" || nok "echo | head: exit ${st[0]}" "$(cat "$W/pipe.err")"
[ "$(wc -l <"$W/pipe.out")" = 2 ] && ok "echo | head -n 2 got two lines" || nok "echo | head got" "$(cat "$W/pipe.out")"
stop feed TERM "pub (for a pipe)"
start hzlong "$BIN" hz 'x/**'
sleep 0.3
stop hzlong INT "hz"
# hz across a provider restart: the gap is no interval of the new provider
start hzr "$BIN" hz cam/restart --count 4 --json
start pubr1 "$BIN" pub cam/restart 1 --rate 20
wait_out hzr '"path"' 10 || nok "hz reported nothing for the first provider" "$(cat "$W/hzr.out" "$W/hzr.err")"
stop pubr1 TERM "pub (first provider)"
sleep 2.5
start pubr2 "$BIN" pub cam/restart 2 --rate 20
finish hzr 15
hz_rc=$rc hz_out=$out hz_show=$(show)
stop pubr2 TERM "pub (second provider)"
[ "$hz_rc" = 0 ] && ok "hz --count 4 across a restart ends by itself" || nok "hz across a restart: exit $hz_rc" "$hz_show"
jcheck "hz after a provider restart: no 2.5 s gap in its window, none missed" "$hz_out" \
    'len(d)==4 and d[0]["max_s"]<1.5 and d[-1]["max_s"]<1.5 and all(x["missed"]==0 for x in d)'

# ---------------------------------------------------------------- offer, call
start svc "$BIN" offer svc/echo --echo --name svc-echo
start up "$BIN" offer svc/upper --exec 'tr a-z A-Z'
start failing "$BIN" offer svc/fail --exec 'echo "no such joint" >&2; exit 3'
start slow "$BIN" offer svc/slow --exec 'sleep 20' --exec-timeout 300
start env "$BIN" offer svc/env --exec 'printf "%s %s" "$IPCNET_REQUEST_PATH" "$IPCNET_REQUEST_ENCODING"'
start sleepy "$BIN" offer svc/sleepy --exec 'sleep 2; echo late'
start late "$BIN" offer svc/late --exec 'sleep 0.5; echo late'
start two_a "$BIN" offer svc/two --echo --name prov-a
start two_b "$BIN" offer svc/two --echo --name prov-b
for s in svc up failing slow env sleepy late two_a two_b; do wait_ready "$s" "offer $s"; done
r 0 "call --echo" "$BIN" call svc/echo '{"hello": "world"}'
[ "$out" = '{"hello":"world"}' ] && ok "call prints the answer" || nok "call printed" "$out"
r 0 "call --json" "$BIN" call svc/echo '[1, "two", null]' --json
jcheck "call --json: status, provider, value" "$out" \
    'len(d)==1 and d[0]["status"]==100 and d[0]["provider"]=="svc-echo" and d[0]["value"]==[1,"two",None] and d[0]["encoding"]=="cbor"'
r 0 "call with no VALUE" "$BIN" call svc/echo
[ "$out" = "(empty)" ] && ok "an empty answer prints (empty)" || nok "empty answer printed" "$out"
r 0 "call --exec" "$BIN" call svc/upper '"make it loud"'
[ "$out" = '"MAKE IT LOUD"' ] && ok "offer --exec answers with the command's stdout" || nok "offer --exec answered" "$out"
r 0 "call --exec --json" "$BIN" call svc/upper '{"a": "b"}' --json
jcheck "the command's JSON stdout is a CBOR answer" "$out" 'd[0]["value"]=={"A":"B"} and d[0]["encoding"]=="cbor"'
r 0 "call --exec sees the environment" "$BIN" call svc/env 1
[ "$out" = "svc/env application/json" ] && ok "the command gets IPCNET_REQUEST_*" || nok "the command got" "$out"
r 1 "call of a failing command" "$BIN" call svc/fail 1
contains "failing command: 300 and its stderr" "$err" "300 Internal Process Error: svc/fail answered: the command exited with status 3: no such joint"
r 1 "call of a command that runs too long" "$BIN" call svc/slow 1
contains "too long: 304 from the provider" "$err" "304 Gateway Timeout: svc/slow answered: the command did not finish within 300 ms"
r 1 "call --timeout" "$BIN" call svc/sleepy 1 --timeout 300
contains "call --timeout: 304" "$err" "304 Gateway Timeout: no answer from svc/sleepy within 300 ms"
r 1 "call --timeout shorter than the command" "$BIN" call svc/late 1 --timeout 100
wait_out late 'not delivered: 303' 5 && ok "offer logs an answer its requester did not wait for" || nok "offer --exec (late) logged" "$(cat "$W/late.out" "$W/late.err")"
r 0 "info of a service with two providers" "$BIN" info svc/two --json
jcheck "info shows each provider" "$out" 'len(d)==2 and sorted(x["provider"] for x in d)==["prov-a","prov-b"]'
r 0 "call of a service with two providers" "$BIN" call svc/two '"x"'
[ "$out" = '"x"' ] && ok "one of two providers answers" || nok "two providers answered" "$out"
r 1 "query of a service" "$BIN" query svc/echo
contains "query of a service: 204" "$err" "204 Method Not Allowed"
r 0 "find --kind service" "$BIN" find --kind service --json
jcheck "find --kind service lists the nine" "$out" 'len(d)==9 and all(x["kind"]=="service" for x in d)'

# ---------------------------------------------------------------- graph
start gdata "$BIN" hold robot/base/odom '{"x": 0}' --name base
wait_ready gdata "hold for the graph"
start gsub "$BIN" echo 'robot/base/*' --json --name gwatch
# echo prints no ready line: wait (bounded) until its subscription is seen.
for ((i = 0; i < 50; i++)); do
    grep -qF 'subscribes <- robot/base/*' <<<"$("$BIN" graph 2>/dev/null)" && break
    sleep 0.1
done
r 0 "graph" "$BIN" graph
contains "graph names a node" "$out" "svc-echo"
contains "graph shows who offers what" "$out" "offers    -> svc/echo"
contains "graph shows who provides what" "$out" "provides  -> robot/base/odom"
contains "graph shows who subscribes to what" "$out" "subscribes <- robot/base/*  (robot/base/odom)"
r 0 "graph --json" "$BIN" graph --json
jcheck "graph --json: nodes, resources, edges" "$out" \
    'len(d)==1 and len(d[0]["nodes"])==11 and len(d[0]["resources"])==9 and len(d[0]["edges"])==11 and any(e=={"from":"base","to":"robot/base/odom","relation":"provides"} for e in d[0]["edges"]) and {"from":"robot/base/odom","to":"gwatch","relation":"subscribes"} in d[0]["edges"] and {"node":"gwatch","pattern":"robot/base/*"} in d[0]["subscriptions"] and {"path":"svc/echo","kind":"service","encoding":"cbor"} in d[0]["resources"]'
r 0 "graph --dot" "$BIN" graph --dot
if [ "$HAVE_DOT" = 1 ]; then
    if dot -Tcanon <<<"$out" >"$W/canon" 2>"$W/dot.err"; then ok "dot parses graph --dot"; else nok "dot refused graph --dot" "$(cat "$W/dot.err")"; fi
    contains "graph --dot has the edge" "$(cat "$W/canon")" '"n:base" -> "r:robot/base/odom"'
    contains "graph --dot has the subscriber's edge" "$(cat "$W/canon")" '"r:robot/base/odom" -> "n:gwatch"'
    r 0 "graph --png" "$BIN" graph --png "$W/g.png"
    if [ "$(head -c 4 "$W/g.png" | od -An -c | tr -d ' ')" = '211PNG' ]; then ok "graph --png draws a PNG"; else nok "graph --png wrote no PNG"; fi
else
    echo "# SKIP: no 'dot' (Debian package graphviz): graph --dot not parsed, --png not drawn"
    contains "graph --dot is a digraph" "$out" "digraph ipcnet {"
fi
r 1 "graph --png into a directory that does not exist" "$BIN" graph --png "$W/no/such/dir/g.png"
contains "graph --png failure: 300" "$err" "300 Internal Process Error"

stop gsub TERM "echo (graph)"
stop gdata TERM "hold (graph)"
stop svc INT "offer --echo"
contains "offer logs its requests" "$out" "#1 from ipcnet-cli."
for s in up failing slow env late two_a two_b; do stop "$s" TERM "offer ($s)"; done
stop sleepy TERM "offer --exec (sleepy, with a command running)"
r 0 "every service is withdrawn" "$BIN" find --json
[ -z "$out" ] && ok "the network is empty again" || nok "find still lists" "$out"

# offer --count: answer N requests and end by itself
start once "$BIN" offer svc/once --echo --count 1 --json
wait_ready once "offer --count 1"
r 0 "call of offer --count 1" "$BIN" call svc/once 5
finish once 5
[ "$rc" = 0 ] && ok "offer --count 1 ends after one answer" || nok "offer --count 1: exit $rc" "$(show)"
jcheck "offer --json: ready, request, stopped" "$out" \
    '[x["event"] for x in d]==["ready","request","stopped"] and d[1]["status"]==100 and d[1]["value"]==5'

# ---------------------------------------------------------------- CBOR on the wire: json2cbor, cbor2json, tensors
PY3=/usr/bin/python3 # the system python, where python3-cbor2 and numpy live
HAVE_CBOR2=0
[ -x "$PY3" ] && "$PY3" -c 'import cbor2, numpy' 2>/dev/null && HAVE_CBOR2=1
for v in json2cbor cbor2json; do
    r 0 "$v --help" "$BIN" "$v" --help
    contains "$v --help shows its usage" "$out" "usage: ipcnet $v"
done
hexof() { od -An -v -tx1 | tr -d ' \n'; }
# RFC 8949 Appendix A examples
for pair in '0|00' '23|17' '-1000|3903e7' '1.5|f93e00' '100000.0|fa47c35000' \
    '1.1|fb3ff199999999999a' 'true|f5' 'null|f6' '"IETF"|6449455446' '[]|80' \
    '[1,[2,3],[4,5]]|8301820203820405' '{"a":1,"b":[2,3]}|a26161016162820203' \
    '18446744073709551615|1bffffffffffffffff' '-18446744073709551616|3bffffffffffffffff'; do
    j=${pair%|*} want=${pair#*|}
    got=$("$BIN" json2cbor <<<"$j" | hexof)
    [ "$got" = "$want" ] && ok "json2cbor $j is RFC 8949's $want" || nok "json2cbor $j gave $got, RFC 8949 says $want"
done
# cbor2json prints each float of RFC 8949 Appendix A as the double it is:
# JSON readers read doubles, so a float16/float32 printed with its own
# shortest digits (3.4028235e+38) would be another number.
for h in f90000 f98000 f93c00 fb3ff199999999999a f93e00 f97bff fa47c35000 \
    fa7f7fffff fb7e37e43c8800759c f90001 f90400 f9c400 fbc010666666666666 fa3f8ccccd; do
    got=$(printf "$(sed 's/../\\x&/g' <<<"$h")" | "$BIN" cbor2json)
    res=$(python3 -c '
import json, struct, sys
h, got = sys.argv[1], sys.argv[2]
b = bytes.fromhex(h)
want = {0xf9: lambda: struct.unpack(">e", b[1:])[0], 0xfa: lambda: struct.unpack(">f", b[1:])[0],
        0xfb: lambda: struct.unpack(">d", b[1:])[0]}[b[0]]()
v = json.loads(got)
same = isinstance(v, float) and struct.pack(">d", v) == struct.pack(">d", want)
sys.exit(0 if same and got == repr(want) else 3)' "$h" "$got" 2>&1)
    [ $? = 0 ] && ok "cbor2json $h: $got is the value exactly, shortest" || nok "cbor2json $h printed '$got', not the value's shortest double" "$res"
done
doc='{"name":"arm","q":[0.5,-1.25,3],"ok":true,"none":null,"n":-7,"big":18446744073709551615,"s":"h\u00e9"}'
got=$("$BIN" json2cbor <<<"$doc" | "$BIN" cbor2json)
jcheck "json2cbor | cbor2json round-trips" "$got" \
    'd[0]=={"name":"arm","q":[0.5,-1.25,3],"ok":True,"none":None,"n":-7,"big":18446744073709551615,"s":"h\u00e9"}'
if [ "$HAVE_CBOR2" = 1 ]; then
    res=$("$BIN" json2cbor <<<"$doc" | "$PY3" -c 'import cbor2, sys
v = cbor2.loads(sys.stdin.buffer.read())
sys.exit(0 if v == {"name":"arm","q":[0.5,-1.25,3],"ok":True,"none":None,"n":-7,"big":18446744073709551615,"s":"h\u00e9"} else 3)' 2>&1)
    [ $? = 0 ] && ok "cbor2 decodes json2cbor's output" || nok "cbor2 decoded json2cbor's output wrongly" "$res"
    got=$("$PY3" -c 'import cbor2, sys; sys.stdout.buffer.write(cbor2.dumps({"k": [1, 2.5, b"\x01\xff", None]}))' | "$BIN" cbor2json)
    jcheck "cbor2json reads cbor2's output" "$got" 'd[0]=={"k":[1,2.5,"h'"'"'01ff'"'"'",None]}'
else
    echo "# SKIP: no cbor2/numpy for /usr/bin/python3: cbor2 interop checks not run"
fi
printf '[1, 2' >"$W/bad.json"
r 1 "json2cbor of invalid JSON" sh -c '"$0" json2cbor <"$1"' "$BIN" "$W/bad.json"
contains "json2cbor invalid: 200 Bad Request" "$err" "200 Bad Request: stdin is not valid JSON"
[ -z "$out" ] && ok "json2cbor writes nothing for invalid input" || nok "json2cbor wrote" "$out"
printf '\x82\x01' >"$W/bad.cbor"
r 1 "cbor2json of truncated CBOR" sh -c '"$0" cbor2json <"$1"' "$BIN" "$W/bad.cbor"
contains "cbor2json truncated: 200 Bad Request" "$err" "200 Bad Request: stdin is not one well-formed CBOR item"
printf '\x01\x02' >"$W/two.cbor"
r 1 "cbor2json of two items" sh -c '"$0" cbor2json <"$1"' "$BIN" "$W/two.cbor"
contains "cbor2json two items: 200 Bad Request" "$err" "200 Bad Request"
r 1 "hold --encoding cbor --file with invalid CBOR" "$BIN" hold x/y --encoding cbor --file "$W/bad.cbor"
contains "invalid CBOR file: 200" "$err" "200 Bad Request"
r 1 "hold --encoding tensor --file that is no tensor" "$BIN" hold x/y --encoding tensor --file "$W/two.cbor"
contains "no tensor: 200" "$err" "200 Bad Request"

# backwards compatible: application/json values still print as JSON
start legacy "$BIN" hold legacy/json '{"a": [1, 2]}' --encoding application/json
wait_ready legacy "hold --encoding application/json"
r 0 "query of an application/json value" "$BIN" query legacy/json --json
jcheck "application/json still prints as JSON" "$out" 'd[0]["value"]=={"a":[1,2]} and d[0]["encoding"]=="application/json"'
r 0 "query --raw of an application/json value" "$BIN" query legacy/json --raw
[ "$out" = '{"a":[1,2]}' ] && ok "application/json travels as JSON text" || nok "application/json travelled as" "$out"
stop legacy TERM "hold (application/json)"

# tensors: a float32 2x3 tensor (tag 40 around RFC 8746's tag 85), by cbor2
if [ "$HAVE_CBOR2" = 1 ]; then
    "$PY3" -c 'import cbor2, sys, numpy as np
a = np.arange(6, dtype="<f4")
sys.stdout.buffer.write(cbor2.dumps(cbor2.CBORTag(40, [[2, 3], cbor2.CBORTag(85, a.tobytes())])))' >"$W/t23.cbor"
    "$PY3" -c 'import cbor2, sys, numpy as np
a = np.arange(24, dtype="<i2") - 3
sys.stdout.buffer.write(cbor2.dumps({"frame": 7, "t": cbor2.CBORTag(40, [[2, 3, 4], cbor2.CBORTag(77, a.tobytes())])}))' >"$W/tmap.cbor"
    start tcbor "$BIN" hold tensor/a --encoding cbor --file "$W/t23.cbor"
    start ttensor "$BIN" hold tensor/b --encoding tensor --file "$W/t23.cbor"
    start tmap "$BIN" hold tensor/m --encoding cbor --file "$W/tmap.cbor"
    wait_ready tcbor "hold of a tensor (cbor)"
    wait_ready ttensor "hold of a tensor (tensor)"
    wait_ready tmap "hold of a map holding a tensor"
    r 0 "query of a CBOR tensor" "$BIN" query tensor/a
    [ "$out" = 'tensor float32 [2, 3]: 0, 1, 2, 3, 4, 5' ] && ok "query prints dtype, shape and values" || nok "query printed" "$out"
    r 0 "query of an encoding tensor value" "$BIN" query tensor/b
    [ "$out" = 'tensor float32 [2, 3]: 0, 1, 2, 3, 4, 5' ] && ok "encoding tensor prints as a tensor" || nok "query printed" "$out"
    r 0 "query --json of a tensor" "$BIN" query tensor/b --json
    jcheck "query --json of a tensor: dtype, shape, values" "$out" \
        'd[0]["encoding"]=="tensor" and d[0]["value"]=={"dtype":"float32","shape":[2,3],"numel":6,"values":[0,1,2,3,4,5]}'
    r 0 "query --raw of a tensor" "$BIN" query tensor/a --raw
    if "$BIN" query tensor/a --raw | cmp -s - "$W/t23.cbor"; then ok "query --raw gives the tensor's bytes"; else nok "query --raw of a tensor differs"; fi
    r 0 "query of a map holding a tensor" "$BIN" query tensor/m --json
    jcheck "a tensor inside a map prints as a tensor" "$out" \
        'd[0]["value"]["frame"]==7 and d[0]["value"]["t"]["dtype"]=="int16" and d[0]["value"]["t"]["shape"]==[2,3,4] and d[0]["value"]["t"]["values"]==list(range(-3,21))'
    r 0 "query (text) of a map holding a tensor" "$BIN" query tensor/m
    contains "the map prints as JSON" "$out" '"frame": 7'
    stop tcbor TERM "hold (tensor, cbor)"
    stop ttensor TERM "hold (tensor)"
    stop tmap TERM "hold (map with a tensor)"
    start tpub "$BIN" pub tensor/s --encoding tensor --file "$W/t23.cbor" --rate 50
    wait_ready tpub "pub of a tensor"
    r 0 "echo of a tensor stream" "$BIN" echo tensor/s --count 1
    [ "$out" = 'tensor/s: tensor float32 [2, 3]: 0, 1, 2, 3, 4, 5' ] && ok "echo prints the tensor" || nok "echo printed" "$out"
    "$PY3" -c 'import cbor2, sys, numpy as np
sys.stdout.buffer.write(cbor2.dumps(cbor2.CBORTag(40, [[100], cbor2.CBORTag(86, np.arange(100, dtype="<f8").tobytes())])))' >"$W/t100.cbor"
    r 0 "cbor2json of a big tensor" sh -c '"$0" cbor2json <"$1"' "$BIN" "$W/t100.cbor"
    jcheck "cbor2json of a tensor: all its values" "$out" 'd[0]["dtype"]=="float64" and d[0]["numel"]==100 and d[0]["values"]==list(range(100))'
    stop tpub TERM "pub (tensor)"
    start tlong "$BIN" hold tensor/long --encoding tensor --file "$W/t100.cbor"
    wait_ready tlong "hold of a 100-element tensor"
    r 0 "query of a long tensor" "$BIN" query tensor/long
    [ "$out" = 'tensor float64 [100]: 0, 1, 2, 3, 4, 5, 6, 7, ...' ] && ok "a long tensor prints its first values" || nok "query printed" "$out"
    stop tlong TERM "hold (long tensor)"
else
    echo "# SKIP: no cbor2/numpy for /usr/bin/python3: tensor printing not checked"
fi

# junk in a network directory (not a socket with its regular lock file, or
# not a node name): not waited for, never printed raw (terminal injection)
J="$IPCNET_DIR/junk"
mkdir -p -m 700 "$J"
mkdir "$J/x.sock"                     # a directory, no lock
touch "$J/y.sock" && mkdir "$J/y.lock" # a file beside a directory lock
bind_sock() { python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1"; }
bind_sock "$J/w.sock" && touch "$W/target" && ln -s "$W/target" "$J/w.lock" # a symlink lock
esc=$(printf '\033[2Jevil\nline')
bind_sock "$J/$esc.sock" && touch "$J/$esc.lock" # not a node name
ESC=$(printf '\033')
t0=$(ms_now)
r 0 "find in a directory with junk" "$BIN" find '**' --network junk --wait 20000
t1=$(ms_now)
# a bound on a hang (the wait is 20 s), not a speed goal
if [ $((t1 - t0)) -lt 10000 ]; then ok "junk does not hold find up ($((t1 - t0)) ms)"; else nok "find waited $((t1 - t0)) ms for junk" "$(show)"; fi
lacks "no raw ESC in find's output" "$out$err" "$ESC"
lacks "junk is not named as a node that did not link" "$err" "did not link"
rm -rf "$J"

# no process of ours is left and the network directory holds no socket
left=$(ls "$IPCNET_DIR"/*/*.sock 2>/dev/null)
[ -z "$left" ] && ok "no socket is left behind" || nok "sockets left behind" "$left"

echo "1..$T"
if [ "$F" -gt 0 ]; then
    echo "# $F of $T checks failed"
    exit 1
fi
echo "# all $T checks passed"
exit 0
