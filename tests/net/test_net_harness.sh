#!/usr/bin/env bash
# tests/net/test_net_harness.sh - the multi-host harness tests itself, with
# no IPCNet in it: namespaces and veth pairs of both topologies, who reaches
# whom (neighbours only, until routes are added by hand), a link taken down
# and up, the proxy relaying and corrupting plain TCP (net_frames.py's
# peers), its counters, and the cleanup: after a normal end, after a
# watchdog's SIGTERM, and the leftovers of a test killed by SIGKILL
# removed by the next one.
#
#   bash tests/net/test_net_harness.sh path/to/ipcnet BINDIR
#
# TAP; exit 0 when every check passed, 77 (skipped, with the reason) when
# this is not root or the kernel refuses network namespaces.
set -u
IPCNET_CLI=${1:?usage: test_net_harness.sh ipcnet BINDIR}
NET_BIN=${2:?usage: test_net_harness.sh ipcnet BINDIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/netns.sh"
PROXY=$NET_BIN/ipcn-net-proxy
FRAMES=$NET_FRAMES
[ -x "$PROXY" ] || { echo "test_net_harness: no $PROXY"; exit 1; }

net_init harness 240
TAP_TIMEOUT=30

# ---------------------------------------------------------------- line of 3
if net_topo_line3; then ok "line of 3: namespaces and veth pairs made"; else nok "line of 3 not made"; fi
A1=$(net_addr a 1) B1=$(net_addr b 1) B2=$(net_addr b 2) C2=$(net_addr c 2)
for ns in a b c; do
    [ -e "/run/netns/$(net_ns "$ns")" ] && ok "host $ns is a namespace" || nok "host $ns has no namespace"
done
if ip link show e1 >/dev/null 2>&1; then nok "e1 is in the caller's namespace"; else ok "no veth in the caller's namespace"; fi
net_r 0 "a reaches b on link 1" a $FRAMES reach "$B1"
net_r 0 "c reaches b on link 2" c $FRAMES reach "$B2"
net_r 0 "b reaches a" b $FRAMES reach "$A1"
net_r 0 "b reaches c" b $FRAMES reach "$C2"
# Nothing is routed: a does not reach c (what IPCNet's gateways will do).
net_r 1 "a does not reach c (no route: only gateways may route)" a $FRAMES reach "$C2"
# Routes by hand prove the namespaces can route; then taken away again.
ip -n "$(net_ns a)" route add 10.18.2.0/24 via "$B1"
ip -n "$(net_ns c)" route add 10.18.1.0/24 via "$B2"
ip netns exec "$(net_ns b)" sysctl -q -w net.ipv4.ip_forward=1
net_r 0 "with routes and forwarding in b, a reaches c" a $FRAMES reach "$C2"
ip netns exec "$(net_ns b)" sysctl -q -w net.ipv4.ip_forward=0
ip -n "$(net_ns a)" route del 10.18.2.0/24
ip -n "$(net_ns c)" route del 10.18.1.0/24
net_r 1 "routes removed: a does not reach c" a $FRAMES reach "$C2"
net_link_set a 1 down
net_r 1 "link 1 down at a: b is out of reach" a $FRAMES reach "$B1"
net_link_set a 1 up
net_wait_cmd 10 net_run a $FRAMES reach "$B1" && ok "link 1 up again: b answers" || nok "link 1 up: b does not answer"
contains "a's gateway would dial b on link 1" "${NET_PEERS[a]}" "tcp://$B1:7447"
contains "b's gateway would dial c on link 2" "${NET_PEERS[b]}" "tcp://$C2:7447"
[ -z "${NET_PEERS[c]}" ] && ok "c dials nobody" || nok "c dials ${NET_PEERS[c]}"
[ "$(stat -c %a "$W/a/config")" = 700 ] && ok "a's config directory is 0700" || nok "config dir mode"

# ---------------------------------------------------------------- the proxy
# proxy_run NAME ARGS...: the proxy in b, from b:7000 (link 1) to c:7001.
proxy_run() {
    local name=$1
    shift
    net_start b "$name" "$PROXY" --listen "$B1:7000" --connect "$C2:7001" \
        --stats "$W/$name.stats" --lifetime 60 "$@"
    net_wait_file "$W/$name.out" '^listening' 10 || nok "$name did not listen" "$(net_show "$name")"
}
stat_of() { sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" "$W/$1.out"; }

# Raw bytes: relayed as they are, both ways.
net_start c echo $FRAMES echo-serve "$C2" 7001
net_wait_file "$W/echo.out" '^listening' 10
proxy_run px-raw
net_r 0 "1 MiB through the proxy to an echo in c" a $FRAMES echo-client "$B1" 7000 1048576
contains "the bytes came back unchanged" "$out" "echoed 1048576 equal 1"
net_stop px-raw
contains "the proxy ends on SIGTERM with its counters" "$(cat "$W/px-raw.out")" "conns=1 "
[ "$(stat_of px-raw up_bytes)" = 1048576 ] && [ "$(stat_of px-raw down_bytes)" = 1048576 ] &&
    ok "it counted 1 MiB each way" || nok "byte counters" "$(cat "$W/px-raw.out")"
[ "$(stat_of px-raw flipped)" = 0 ] && ok "raw mode corrupts nothing" || nok "raw mode flipped"
grep -q "conns=1 " "$W/px-raw.stats" && ok "the stats file has the counters" || nok "no stats file"
net_stop echo

# frames_run NAME UP DOWN PROXYARGS...: a client in a sends UP messages,
# a server in c sends DOWN; each prints what came ($W/NAME.srv, .cli).
frames_run() {
    local name=$1 up=$2 down=$3
    shift 3
    net_start c "$name-srv" $FRAMES serve "$C2" 7001 "$down"
    net_wait_file "$W/$name-srv.out" '^listening' 10
    proxy_run "$name" --frames "$@"
    net_r 0 "$name: the client's exchange ends" a $FRAMES client "$B1" 7000 "$up"
    cli=$out
    net_wait_cmd 10 grep -q '^got' "$W/$name-srv.out"
    net_stop "$name-srv"
    srv=$(grep '^got' "$W/$name-srv.out")
    net_stop "$name"
}
# Every message past the handshake gets one bit flipped; the first 2 up and
# the first 1 down are let through (as Noise XX's handshake will be).
frames_run px-flip 40 30 --skip-up 2 --skip-down 1 --flip 1000000 --seed 5
contains "up: 40 messages, the first 2 intact, 38 with one bit flipped" "$srv" "got 40 same 2 flip1 38 other 0"
contains "down: 30 messages, the first intact, 29 flipped" "$cli" "got 30 same 1 flip1 29 other 0"
contains "up: in order" "$srv" "order $(seq -s, 1 40)"
[ "$(stat_of px-flip flipped)" = 67 ] && ok "the proxy counted 67 flips" || nok "flip count" "$(cat "$W/px-flip.out")"
[ "$(stat_of px-flip delivered)" = 67 ] && ok "all 67 delivered" || nok "delivered" "$(cat "$W/px-flip.out")"
[ "$(stat_of px-flip up_msgs)" = 40 ] && [ "$(stat_of px-flip down_msgs)" = 30 ] &&
    ok "it counted 40 messages up, 30 down" || nok "message counts" "$(cat "$W/px-flip.out")"
# Replays: after each message past the handshake, the one before again.
frames_run px-replay 10 5 --skip-up 2 --skip-down 1 --replay 1000000
contains "up: every message intact, each past the 2nd followed by the one before" "$srv" \
    "got 18 same 18 flip1 0 other 0 order 1,2,3,2,4,3,5,4,6,5,7,6,8,7,9,8,10,9"
contains "down: 5 + 4 replays" "$cli" "got 9 same 9 flip1 0 other 0 order 1,2,1,3,2,4,3,5,4"
[ "$(stat_of px-replay replayed)" = 12 ] && [ "$(stat_of px-replay delivered)" = 12 ] &&
    ok "the proxy counted 12 replays, all delivered" || nok "replay count" "$(cat "$W/px-replay.out")"
# At most one corruption per connection, at a seeded rate.
frames_run px-once 50 0 --flip 1000000 --per-conn 1
contains "--per-conn 1: one flip only" "$srv" "got 50 same 49 flip1 1 other 0"
frames_run px-rate 200 0 --flip 100000 --seed 9
n=$(stat_of px-rate flipped)
contains "a 10% rate: what the server saw is what the proxy counted" "$srv" "flip1 $n other 0"
[ "$n" -gt 5 ] && [ "$n" -lt 50 ] && ok "about 10% of 200 flipped ($n)" || nok "rate: $n of 200"
# A server that is not there: the client is refused, the proxy goes on.
proxy_run px-none --frames
net_r 0 "no server in c: the proxy closes the client's connection" a \
    bash -c "exec 3<>/dev/tcp/$B1/7000 && cat <&3 >/dev/null"
net_stop px-none
[ "$(stat_of px-none conns)" = 0 ] && ok "a refused connection is not counted" || nok "conns" "$(cat "$W/px-none.out")"

# ---------------------------------------------------------------- the test node
# Its exactly-once-in-order check, on one host (Unix links): what the ring
# test will count across hosts.
NODE=$NET_BIN/ipcn-net-node
nst() { awk -v k="$2" '$1 == k { print $2 }' "$W/$1.stats" 2>/dev/null; }
net_start a sub-l "$NODE" sub-l 60 sub='h/**' pubs=2 until=3000 stats="$W/sub-l.stats"
net_wait_file "$W/sub-l.out" '^ready' 15
net_start a pub-l "$NODE" pub-l 60 pub=h/x count=3000 rate=3000 wait_sub=sub-l stats="$W/pub-l.stats"
net_start a pub-m "$NODE" pub-m 60 pub=h/y count=3000 rate=0 wait_sub=sub-l
for ((i = 0; i < 300; i++)); do kill -0 "${PID[sub-l]}" 2>/dev/null || break; sleep 0.1; done
net_stop sub-l
[ "$rc" = 0 ] && ok "net_node: a subscriber saw both publishers to their 3000th sample" || nok "sub-l: exit $rc" "$(net_show sub-l)"
for p in pub-l pub-m; do
    [ "$(nst sub-l $p.count)" = 3000 ] && [ "$(nst sub-l $p.first)" = 1 ] && [ "$(nst sub-l $p.gaps)" = 0 ] &&
        [ "$(nst sub-l $p.back)" = 0 ] && [ "$(nst sub-l $p.bad)" = 0 ] &&
        ok "net_node: $p's 3000 samples counted once each, in order" || nok "$p" "$(cat "$W/sub-l.stats")"
done
[ "$(nst sub-l sub_lost)" = 0 ] && [ "$(nst sub-l sub_received)" = 6000 ] && ok "net_node: the library's counters beside" ||
    nok "sub stats" "$(cat "$W/sub-l.stats")"
# The publisher rewrites its stats file every 200 ms: the last write may
# come after the subscriber saw the 3000th sample.
for ((i = 0; i < 50; i++)); do [ "$(nst pub-l published)" = 3000 ] && break; sleep 0.1; done
[ "$(nst pub-l published)" = 3000 ] && ok "net_node: the publisher's count" || nok "pub-l" "$(cat "$W/pub-l.stats")"
net_stop pub-l
net_stop pub-m

# ---------------------------------------------------------------- ring of 5
net_cleanup_hosts() { # end every host of this topology (as net_cleanup does)
    local h
    for h in "${NET_HOSTS[@]}"; do net_kill_ns_pids "$(net_ns "$h")"; ip netns del "$(net_ns "$h")"; done
    NET_HOSTS=()
    NET_IDX=()
    NET_PEERS=()
}
net_cleanup_hosts
[ -z "$(ip netns list | grep -- "-$$-")" ] && ok "line of 3 removed" || nok "line of 3 left namespaces"
if net_topo_ring5; then ok "ring of 5 with a chord made"; else nok "ring of 5 not made"; fi
for l in "a b 1" "b c 2" "c d 3" "d e 4" "a e 5" "b e 6"; do
    set -- $l
    net_r 0 "$1 reaches $2 on link $3" "$1" $FRAMES reach "$(net_addr "$2" "$3")"
done
net_r 1 "a does not reach c" a $FRAMES reach "$(net_addr c 2)"
contains "a dials b and e" "${NET_PEERS[a]}" "tcp://$(net_addr b 1):7447,tcp://$(net_addr e 5):7447"
contains "b dials c and e (the chord)" "${NET_PEERS[b]}" "tcp://$(net_addr c 2):7447,tcp://$(net_addr e 6):7447"

# ---------------------------------------------------------------- cleanup
# A test that ends normally, one ended by its watchdog, one killed: run as
# child scripts of this one, with the same harness.
cat >"$W/child.sh" <<EOF
. "$HERE/netns.sh"
net_init child "\$2"
net_topo_line3
net_start a sleeper sleep 300
ip netns exec "\$(net_ns b)" sleep 300 &
echo "pid \$\$"
echo "dir \$W"
echo "sleeper \${PID[sleeper]}"
case "\$1" in
    normal) exit 0 ;;
    hang) sleep 300 ;;
    kill) kill -KILL \$\$ ;;
esac
EOF
for how in normal hang kill; do
    case $how in hang) lim=2 ;; *) lim=20 ;; esac
    TAP_TIMEOUT=30 r "$([ "$how" = kill ] && echo 137 || { [ "$how" = hang ] && echo 1 || echo 0; })" \
        "a child test that ends: $how" bash "$W/child.sh" "$how" "$lim"
    cpid=$(sed -n 's/^pid //p' <<<"$out")
    spid=$(sed -n 's/^sleeper //p' <<<"$out")
    left=$(ip netns list | awk '{print $1}' | grep -c -- "^ipcn-net-child-$cpid-")
    if [ "$how" = kill ]; then
        [ "$left" = 3 ] && ok "killed: its 3 namespaces are left" || nok "killed: $left namespaces left"
        kill -0 "$spid" 2>/dev/null && ok "killed: its process is left" || nok "killed: the process went"
        # The next test of the harness removes them (and their processes).
        net_remove_leftovers
        left=$(ip netns list | awk '{print $1}' | grep -c -- "^ipcn-net-child-$cpid-")
        [ "$left" = 0 ] && ok "the next test removed the leftovers" || nok "leftovers not removed: $left"
        ls -d "${TMPDIR:-/tmp}/ipcn-net-child-$cpid".* >/dev/null 2>&1 &&
            nok "killed: its scratch directory is left" || ok "and its scratch directory"
        for ((i = 0; i < 50; i++)); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
    else
        [ "$left" = 0 ] && ok "$how: no namespace left" || nok "$how: $left namespaces left"
        [ -e "$(sed -n 's/^dir //p' <<<"$out")" ] && nok "$how: its scratch directory is left" ||
            ok "$how: no scratch directory left"
    fi
    kill -0 "$spid" 2>/dev/null && nok "$how: its process $spid is left" || ok "$how: no process left"
done
# Leftovers of a live test are not touched, nor names not of our form.
ip netns add "ipcn-net-live-$$-x"
ip netns add "ipcn-net-other-name"
net_remove_leftovers
[ -e "/run/netns/ipcn-net-live-$$-x" ] && ok "a live test's namespace is kept" || nok "a live test's namespace was removed"
[ -e /run/netns/ipcn-net-other-name ] && ok "a name not of the form is kept" || nok "another name was removed"
ip netns del "ipcn-net-live-$$-x"
ip netns del ipcn-net-other-name
net_finish
