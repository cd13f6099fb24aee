#!/usr/bin/env bash
# tests/integration/test_hosts_cli.sh - the verbs of several computers in
# the `ipcnet` tool, on one host (the links between hosts have tests of
# their own in namespaces, tests/net/): `links` (each node's links asked of
# it through @sys/<node>/links: kinds, the round trip of the pings,
# counters), `route PATH`, the HOST columns of `nodes` and `find`, `graph`
# with its host boxes; and `policy explain` for a principal of another
# host ("host:user": docs/policy.md).
#
#   bash tests/integration/test_hosts_cli.sh path/to/ipcnet
#
# TAP; exit 0 when every check passed, 1 otherwise, 77 when it cannot run.
set -u

BIN=${1:?usage: test_hosts_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_hosts_cli: $BIN is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "test_hosts_cli: SKIP: no python3 to parse JSON"; exit 77; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-hosts-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_POLICY
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

start() { # start NAME CMD...: in the background, output in $W/NAME.{out,err}
    local name=$1
    shift
    "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    PID[$name]=$!
}

wait_out() { # wait_out NAME REGEX: until NAME's stdout has a matching line
    local name=$1 re=$2 i
    for ((i = 0; i < 200; i++)); do
        grep -qE -- "$re" "$W/$name.out" 2>/dev/null && return 0
        kill -0 "${PID[$name]}" 2>/dev/null || break
        sleep 0.05
    done
    grep -qE -- "$re" "$W/$name.out" 2>/dev/null
}

stop() { # stop NAME: SIGTERM, and it must end with exit 0
    local i
    kill -TERM "${PID[$1]}"
    for ((i = 0; i < 100; i++)); do
        kill -0 "${PID[$1]}" 2>/dev/null || break
        sleep 0.05
    done
    wait "${PID[$1]}" 2>/dev/null
    local wrc=$?
    unset "PID[$1]"
    if [ "$wrc" = 0 ]; then ok "$1 ends cleanly"; else nok "$1 ended with $wrc" "$(cat "$W/$1.err")"; fi
}

echo "# ipcnet: $BIN; network directory $IPCNET_DIR"

# ------------------------------------------------------------ help, usage
r 0 "--help lists links and route" "$BIN" --help
contains "--help: links" "$out" "links "
contains "--help: route" "$out" "route "
r 0 "links --help" "$BIN" links --help
contains "links --help names the columns" "$out" "AUTH"
contains "links --help names the node service" "$out" "@sys/<node>/links"
r 0 "route --help" "$BIN" route --help
contains "route --help: the routers, then the provider" "$out" "the routers it passes"
r 2 "route without PATH" "$BIN" route
r 2 "links --node and --all" "$BIN" links --node a --all

# ------------------------------------------------------------ one host
r 0 "links in an empty network" "$BIN" links
contains "links: nothing to ask" "$out" "no node of this host has a link up"

start arm "$BIN" hold robot/arm/state '{"q":[1]}' --name arm
wait_out arm '^serving' && ok "hold is ready" || nok "hold did not get ready" "$(cat "$W/arm.err")"
start cam "$BIN" pub robot/cam '"frame"' --rate 20 --name cam
wait_out cam '^publishing' && ok "pub is ready" || nok "pub did not get ready" "$(cat "$W/cam.err")"
start sub "$BIN" echo 'robot/cam' --name sub
wait_out sub 'frame' && ok "echo gets samples" || nok "echo got nothing" "$(cat "$W/sub.err")"

# No gateway: no TCP link anywhere, and the tool says so.
r 0 "links (no gateway)" "$BIN" links
contains "links: no link to another host" "$out" "no link to another host"
r 0 "links --json (no gateway)" "$BIN" links --json
jcheck "links --json: a document per node of this host, no TCP item" "$out" \
    'sorted(x["node"] for x in d)==["arm","cam","sub"] and all(x["items"]==[] for x in d)'

# Every link of one node: Unix links, each with the round trip of the
# ping it sent when the link came up (answered before the tool's request,
# on the same socket), and the counters of its frames and bytes.
r 0 "links --node sub --json" "$BIN" links --node sub --json --name looker
jcheck "links --node: sub's links to cam, arm and this tool, all Unix" "$out" \
    'len(d)==1 and d[0]["node"]=="sub" and sorted(i["peer"] for i in d[0]["items"])==["arm","cam","looker"] and all(i["kind"]=="unix" and i["host"]=="" and i["addr"]=="" and i["key"]=="" and i["via"]=="" and i["hops"]==0 for i in d[0]["items"])'
jcheck "links --node: a round trip from the pings, per link" "$out" \
    'all(0 < i["rtt_ns"] < 10**10 for i in d[0]["items"])'
jcheck "links --node: the samples sub got from cam counted" "$out" \
    '[i for i in d[0]["items"] if i["peer"]=="cam"][0]["frames_in"] >= 2 and [i for i in d[0]["items"] if i["peer"]=="cam"][0]["bytes_in"] > 0'
jcheck "links --node: no TCP counters on Unix links" "$out" \
    'all(i["auth_failures"]==0 and i["loops"]==0 and i["drops"]==0 for i in d[0]["items"])'
r 0 "links --node cam (text)" "$BIN" links --node cam
contains "links (text): the header" "$out" "RTT"
contains "links (text): a Unix link to sub" "$out" "unix"
contains "links (text): sub as a peer" "$out" " sub "
r 0 "links --all --json" "$BIN" links --all --json
jcheck "links --all: every link of every node of this host" "$out" \
    'len(d)==3 and all(len(x["items"])==3 for x in d)'
r 0 "links --node of the tool itself" "$BIN" links --node self-look --name self-look --json
jcheck "links of the tool's own node (answered by itself)" "$out" \
    'len(d)==1 and sorted(i["peer"] for i in d[0]["items"])==["arm","cam","sub"]'
r 1 "links --node of no node" "$BIN" links --node nobody
contains "links --node of no node: 203" "$err" "203 Not Found"

# route: a provider of this host is linked, the way is its name alone.
r 0 "route of a data resource" "$BIN" route robot/arm/state --name router-cli
contains "route: linked, no router" "$out" "robot/arm/state  data arm on this host: router-cli -> arm  (0 routers)"
r 0 "route --json" "$BIN" route robot/cam --json
jcheck "route --json: one hop, the provider" "$out" \
    'len(d)==1 and d[0]["provider"]=="cam" and d[0]["host"] is None and d[0]["kind"]=="stream" and d[0]["hops"]==["cam"] and d[0]["routers"]==0'
r 1 "route of nothing" "$BIN" route robot/none
contains "route of nothing: 203" "$err" "203 Not Found: no provider for robot/none"

# The HOST columns: every node here is of this host.
r 0 "nodes (text)" "$BIN" nodes
contains "nodes: a HOST column" "$out" "HOST"
contains "nodes: this host's nodes are local" "$out" "local"
r 0 "nodes --json" "$BIN" nodes --json
jcheck "nodes --json: host null for this host's nodes" "$out" \
    'len(d)==3 and all(x["host"] is None for x in d)'
r 0 "find (text)" "$BIN" find 'robot/**'
contains "find: a HOST column" "$out" "HOST"
r 0 "find --json" "$BIN" find 'robot/**' --json
jcheck "find --json: host null for this host's providers" "$out" \
    'len(d)==2 and all(x["host"] is None for x in d)'

# graph: this host's nodes in one box; no TCP link to draw.
r 0 "graph --json" "$BIN" graph --json
jcheck "graph --json: hosts of the nodes, no link between hosts" "$out" \
    'len(d)==1 and d[0]["links"]==[] and all(n["host"] is None for n in d[0]["nodes"])'
r 0 "graph --dot" "$BIN" graph --dot
contains "graph --dot: a box for this host" "$out" 'subgraph "cluster (this host)"'
if command -v dot >/dev/null; then
    if dot -Tsvg <<<"$out" >/dev/null 2>"$W/dot.err"; then ok "graph --dot is valid Graphviz"
    else nok "graph --dot does not parse" "$(cat "$W/dot.err")"; fi
fi

stop sub
stop cam
stop arm

# ------------------------------------------------------------ policy explain
# A principal of another host: host:user (no uid, groups or executable).
cat >"$W/p.yaml" <<'EOF'
version: 1
default: deny
rules:
  - allow: read
    who: "host:gpu-* user:robot-ipcn-remote"
    what: "camera/**"
  - allow: all
    who: "user:0"
    what: "motors/**"
  - allow: read
    who: "user:root"
    what: "status/**"
  - deny: write
    who: "exe:/usr/bin/bad"
    what: "motors/**"
EOF
r 0 "policy check: a remote user beside host:" "$BIN" policy check "$W/p.yaml"
ex() { "$BIN" policy explain --policy "$W/p.yaml" "$@"; }
r 0 "explain as host:gpu-1 user:robot-ipcn-remote" ex --as 'host:gpu-1 user:robot-ipcn-remote' read camera/front
contains "explain (remote): allowed by the host rule" "$out" "allow rule"
contains "explain (remote): the principal" "$out" "host gpu-1, user robot-ipcn-remote"
r 1 "explain as another host's root: a uid rule does not let it in" ex --as 'host:arm user:root' read motors/state
contains "explain (remote root): 201, a uid is not known of it" "$out" "refused: 201"
r 1 "explain as another host's root: user:NAME alone names this host's root only" ex --as 'host:arm user:root' read status/x
contains "explain (remote root): the default, not the user:root rule" "$out" "refused: 202"
r 1 "explain as another host's user of another name" ex --as 'host:arm user:ops' read status/x
contains "explain (remote ops): the default" "$out" "refused: 202"
r 1 "explain (remote): a deny on what its host alone knows" ex --as 'host:arm user:root' write motors/cmd
contains "explain (remote): 201 by the exe rule" "$out" "refused: 201"
r 0 "explain --json (remote)" ex --as 'host:gpu-1 user:robot-ipcn-remote node:cam@gpu-1' read camera/x --json
jcheck "explain --json: as host and user" "$out" \
    'd[0]["allowed"] is True and d[0]["as"]["host"]=="gpu-1" and d[0]["as"]["user"]=="robot-ipcn-remote" and d[0]["as"]["node"]=="cam@gpu-1"'
r 2 "explain: host without user" ex --as 'host:gpu-1' read camera/x
printf 'version: 1\ndefault: deny\nrules:\n  - allow: read\n    who: "user:robot-ipcn-remote"\n    what: "**"\n' >"$W/bad.yaml"
r 1 "policy check: an unknown user without host:" "$BIN" policy check "$W/bad.yaml"
contains "an unknown user without host: is refused" "$err" 'unknown user "robot-ipcn-remote"'

echo "1..$T"
[ "$F" = 0 ]
