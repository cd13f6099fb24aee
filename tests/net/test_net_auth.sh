#!/usr/bin/env bash
# tests/net/test_net_auth.sh - who may link, and what a corrupted wire does
# (issue 18, "Tests and figures").  Hosts a - p - b: a's gateway dials b's
# through the proxy in p (tests/net/net_proxy.c), which relays the TCP
# link's length-framed messages and, told to, flips a bit of one or sends
# an old one again.
#
#   1. a does not trust b's key: a ends the link with 309 (counted at a as
#      unauthorized); nothing is linked.  Then b does not trust a's: the
#      same at b.  Both trusted: linked.
#   2. 100 000 messages cross the proxy while it flips a random bit of
#      some and replays others (past the handshake, at most one per
#      connection), samples flowing both ways: every one it delivered is
#      refused (by both sides), closes its link and is counted (auth_failures at the receiver, summed: equal to what the
#      proxy delivered); no sample that reached b's subscriber was altered,
#      repeated or out of order; the link comes back each time and samples
#      flow at the end.
#
#   bash tests/net/test_net_auth.sh path/to/ipcnet BINDIR
#
# The gateways are ipcn-net-node gateway=1 (a publishes, b subscribes) so
# that their counters can be read.  TAP; 77 (skipped, with the reason)
# without root, network namespaces, or the gateway.
set -u
IPCNET_CLI=${1:?usage: test_net_auth.sh ipcnet BINDIR}
NET_BIN=${2:?usage: test_net_auth.sh ipcnet BINDIR}
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/netns.sh"
NODE=$NET_BIN/ipcn-net-node
PROXY=$NET_BIN/ipcn-net-proxy
FRAMES_TOTAL=${NET_AUTH_FRAMES:-100000}
net_init auth 560
net_node_has gateway || { echo "1..0 # SKIP this library has no gateway (issue 18)"; exit 77; }
TAP_TIMEOUT=30

# z: a host that is never started, whose key a and b trust (beside the
# other or not: a gateway that trusts no host at all does not start, 203).
net_host a && net_host p && net_host b && net_host z && net_link a p 1 && net_link p b 2 &&
    ok "hosts a - p - b made" || { nok "hosts not made"; net_finish; }
P1=$(net_addr p 1) B2=$(net_addr b 2)
net_keygen a && net_keygen b && net_keygen z && net_trust a z && net_trust b z && ok "host keys made" || { nok "keygen"; net_finish; }

st() { awk -v k="$2" '$1 == k { print $2 }' "$W/$1.stats" 2>/dev/null; }
# gateways: a's and b's, a dialling b through the proxy in p; a publishes
# auth/flood (3 kHz) to b, b auth/back (1 kHz) to a: messages both ways.
gateways() {
    net_start b gw-b env IPCNET_LISTEN="tcp://0.0.0.0:$NET_PORT" IPCNET_PEERS= IPCNET_LOG=info \
        "$NODE" gw-b 560 gateway=1 sub='auth/flood' pub=auth/back count=0 rate=1000 \
        wait_sub=gw-a stats="$W/gw-b.stats"
    net_start a gw-a env IPCNET_LISTEN="tcp://0.0.0.0:$NET_PORT" \
        IPCNET_PEERS="tcp://$P1:7000" IPCNET_LOG=info \
        "$NODE" gw-a 560 gateway=1 pub=auth/flood count=0 rate=3000 wait_sub=gw-b \
        sub=auth/back stats="$W/gw-a.stats"
}
proxy() { # proxy NAME ARGS...: in p, from p:7000 (link 1) to b:7447 (link 2)
    local name=$1
    shift
    net_start p "$name" "$PROXY" --listen "$P1:7000" --connect "$B2:$NET_PORT" \
        --frames --stats "$W/$name.stats" --lifetime 500 "$@"
    net_wait_file "$W/$name.out" '^listening' 10
}
pst() { sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" "$W/$1.stats" 2>/dev/null; }
stop_all() { # and their counters, so that the next ones start afresh
    net_stop gw-a; net_stop gw-b; net_stop "$1"
    mkdir -p "$W/$1.done"
    mv "$W/gw-a.stats" "$W/gw-b.stats" "$W/$1.done/" 2>/dev/null
}
ge() { [ "$(st "$1" "$2")" -ge "$3" ] 2>/dev/null; }

# ---------------------------------------------------------------- 1. 309
net_trust b a # b trusts a; a does not trust b
proxy px1
gateways
net_wait_cmd 60 ge gw-a unauthorized 1 && ok "a, which does not trust b, refused it (unauthorized $(st gw-a unauthorized))" ||
    nok "a did not count b as unauthorized" "$(cat "$W/gw-a.stats"; net_show gw-a)"
[ "$(pst px1 up_msgs)" -ge 2 ] && [ "$(pst px1 down_msgs)" -ge 1 ] &&
    ok "after a whole handshake (through the proxy: $(pst px1 up_msgs) up, $(pst px1 down_msgs) down)" ||
    nok "the handshake did not cross" "$(cat "$W/px1.stats")"
grep -q '309' "$W/gw-b.err" && ok "b was told 309" || nok "b's log does not say 309" "$(net_show gw-b)"
[ "$(st gw-a tcp_links)" = 0 ] && [ "$(st gw-b tcp_links)" = 0 ] && ok "nothing linked" ||
    nok "linked: a $(st gw-a tcp_links), b $(st gw-b tcp_links)"
[ "$(st gw-b auth_failures)" = 0 ] && ok "a refusal is not an auth failure" || nok "b auth_failures $(st gw-b auth_failures)"
stop_all px1

net_untrust b a
net_trust a b # a trusts b; b does not trust a
proxy px2
gateways
net_wait_cmd 60 ge gw-b unauthorized 1 && ok "b, which does not trust a, refused it (unauthorized $(st gw-b unauthorized))" ||
    nok "b did not count a as unauthorized" "$(cat "$W/gw-b.stats"; net_show gw-b)"
grep -q '309' "$W/gw-a.err" && ok "a was told 309" || nok "a's log does not say 309" "$(net_show gw-a)"
[ "$(st gw-a tcp_links)" = 0 ] && [ "$(st gw-b tcp_links)" = 0 ] && ok "nothing linked" ||
    nok "linked: a $(st gw-a tcp_links), b $(st gw-b tcp_links)"
[ "$(st gw-a peers)" = 0 ] && ok "a has no peer" || nok "a has $(st gw-a peers) peers"
stop_all px2

net_trust b a # both trusted
proxy px3
gateways
linked() { [ "$(st gw-a tcp_links)" = 1 ] && [ "$(st gw-b tcp_links)" = 1 ]; }
net_wait_cmd 60 linked && ok "both trusted: linked through the proxy" || nok "not linked" "$(net_show gw-a; net_show gw-b)"
net_wait_cmd 60 ge gw-b gw-a@a.count 100 && ok "a's samples reach b" || nok "no samples at b" "$(cat "$W/gw-b.stats")"
stop_all px3

# ---------------------------------------------------------------- 2. flips
# Noise XX: 2 handshake messages up (a to b), 1 down; then transport
# messages.  About one message in 1 000 is corrupted, half flips, half
# replays: ~100 links broken and redialled over the run.
proxy px4 --skip-up 2 --skip-down 1 --flip 500 --replay 500 --per-conn 1 \
    --until "$FRAMES_TOTAL" --seed 18
gateways
msgs() { [ $(($(pst px4 up_msgs) + $(pst px4 down_msgs))) -ge "$FRAMES_TOTAL" ] 2>/dev/null; }
if net_wait_cmd 400 msgs; then
    ok "$FRAMES_TOTAL messages crossed the proxy"
else
    nok "only $(($(pst px4 up_msgs) + $(pst px4 down_msgs))) messages crossed" "$(cat "$W/px4.stats"; net_show gw-a; net_show gw-b)"
fi
flipped=$(pst px4 flipped) replayed=$(pst px4 replayed)
[ "$flipped" -gt 0 ] && [ "$replayed" -gt 0 ] && ok "the proxy flipped $flipped and replayed $replayed" ||
    nok "flipped $flipped replayed $replayed"
# The proxy corrupts no more: every corruption it delivered is counted
# once its receiver read it.
fails() { echo $(($(st gw-a auth_failures) + $(st gw-b auth_failures))); }
settled() { [ "$(fails)" -ge "$(pst px4 delivered)" ] 2>/dev/null; }
net_wait_cmd 30 settled
delivered=$(pst px4 delivered)
[ "$(fails)" = "$delivered" ] && ok "all $delivered delivered corruptions refused and counted (a $(st gw-a auth_failures), b $(st gw-b auth_failures))" ||
    nok "delivered $delivered, auth failures $(fails)" "$(cat "$W/px4.stats" "$W/gw-a.stats" "$W/gw-b.stats")"
[ "$(st gw-a auth_failures)" -gt 0 ] && [ "$(st gw-b auth_failures)" -gt 0 ] &&
    ok "both sides refused corrupted messages" || nok "a $(st gw-a auth_failures), b $(st gw-b auth_failures)"
[ "$(pst px4 conns)" -ge "$delivered" ] && ok "each closed its link ($(pst px4 conns) connections)" ||
    nok "$(pst px4 conns) connections for $delivered corruptions"
net_wait_cmd 60 linked && ok "linked again at the end" || nok "not linked at the end"
n0=$(st gw-b gw-a@a.count)
net_wait_cmd 30 ge gw-b gw-a@a.count $((n0 + 1000)) && ok "samples flow at the end" || nok "no samples at the end"
net_stop gw-a; net_stop gw-b; net_stop px4
[ "$(st gw-b gw-a@a.bad)" = 0 ] && ok "no altered sample reached b" || nok "altered samples: $(st gw-b gw-a@a.bad)"
[ "$(st gw-b gw-a@a.back)" = 0 ] && ok "no sample twice or out of order at b" || nok "back: $(st gw-b gw-a@a.back)"
[ "$(st gw-a gw-b@b.bad)" = 0 ] && [ "$(st gw-a gw-b@b.back)" = 0 ] && [ "$(st gw-a gw-b@b.count)" -gt 0 ] &&
    ok "nor at a ($(st gw-a gw-b@b.count) samples of b)" || nok "a's samples of b" "$(cat "$W/gw-a.stats")"
net_log "b got $(st gw-b gw-a@a.count) of $(st gw-a published) samples ($(st gw-b gw-a@a.gaps) lost in the breaks)"
for g in gw-a gw-b; do
    grep -qiE 'sanitizer|runtime error' "$W/$g.err" && nok "$g: sanitizer report" "$(net_show "$g")" || ok "$g: no sanitizer report"
done
net_finish
