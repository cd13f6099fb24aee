#!/usr/bin/env bash
# tests/net/test_net_ring.sh - five hosts in a ring with a chord (issue 18,
# "Tests and figures"): a - b - c - d - e - a and b - e.  Publishers on a
# (two routers from c's subscriber... one: a-b-c) and on d (a neighbour of
# c) send numbered samples to a subscriber on c (tests/net/net_node.c),
# which checks each publisher's samples: exactly once and in order.
#
#   1. 10 000 samples of each publisher: all of them, once, in order; the
#      samples of a do not pass through d or e (no flooding, no loop).
#   2. Link a-b goes down (`ip link set down`): a's samples reroute through
#      e; the samples lost meanwhile are counted (by the subscriber's own
#      count and by the library's, equal) and bounded (below 8 s worth);
#      none comes twice or out of order.
#   3. The link comes back: the better way (through b) is used again (e no
#      longer carries a's samples), still nothing twice, nothing out of order.
#
#   bash tests/net/test_net_ring.sh path/to/ipcnet BINDIR
#
# The gateways are ipcn-net-node gateway=1 (ipcn_node_gateway(), as `ipcnet
# gateway`, configured by IPCNET_LISTEN/IPCNET_PEERS) so that their counters
# can be read.  TAP; 77 (skipped, with the reason) without root, network
# namespaces, or the gateway.
set -u
export IPCNET_CLI=${1:?usage: test_net_ring.sh ipcnet BINDIR}
NET_BIN=${2:?usage: test_net_ring.sh ipcnet BINDIR}
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/netns.sh"
NODE=$NET_BIN/ipcn-net-node
net_init ring 560
net_node_has gateway && net_node_has routing ||
    { echo "1..0 # SKIP this library has no gateway or no routing (issue 18)"; exit 77; }
export TAP_TIMEOUT=30
RATE=1000

net_topo_ring5 && ok "ring of 5 with a chord made" || { nok "ring not made"; net_finish; }
net_keys && ok "keys made and trusted" || { nok "keys"; net_finish; }
for h in a b c d e; do
    net_start "$h" "gw-$h" env IPCNET_LISTEN="tcp://0.0.0.0:$NET_PORT" \
        IPCNET_PEERS="${NET_PEERS[$h]}" IPCNET_LOG=info \
        "$NODE" "gw-$h" 560 gateway=1 stats="$W/gw-$h.stats"
done
# st FILE KEY: a counter of a net_node stats file (empty when absent)
st() { awk -v k="$2" '$1 == k { print $2 }' "$W/$1.stats" 2>/dev/null; }
linked() { [ "$(st "gw-$1" tcp_links)" = "$2" ]; }
# Each gateway linked to its neighbours: a b e; b a c e; c b d; d c e; e a b d.
for x in "a 2" "b 3" "c 2" "d 2" "e 3"; do
    set -- $x
    net_wait_cmd 60 linked "$1" "$2" && ok "gw-$1 has its $2 TCP links" ||
        nok "gw-$1: $(st "gw-$1" tcp_links) links" "$(net_show "gw-$1")"
done

net_start c sub-c "$NODE" sub-c 560 sub='ring/**' stats="$W/sub-c.stats"
net_wait_file "$W/sub-c.out" '^ready' 15
net_start a pub-a "$NODE" pub-a 560 pub=ring/a count=0 rate=$RATE wait_sub=sub-c stats="$W/pub-a.stats"
net_start d pub-d "$NODE" pub-d 560 pub=ring/d count=10000 rate=$RATE wait_sub=sub-c stats="$W/pub-d.stats"
for p in pub-a pub-d; do
    net_wait_file "$W/$p.out" '^publishing' 60 && ok "$p sees sub-c's subscription and publishes" ||
        nok "$p never saw sub-c" "$(net_show "$p"; net_show sub-c; net_show gw-c)"
done
[ "$F" = 0 ] || net_finish # nothing flows: the rest would only wait
e_in0=$(st gw-e frames_in)
PA=pub-a@a PD=pub-d@d
got() { [ "$(st sub-c "$1.last")" -ge "$2" ] 2>/dev/null; }

# ---------------------------------------------------------------- 1. steady
net_wait_cmd 120 got "$PD" 10000 && ok "d's 10 000th sample came" || nok "d: last $(st sub-c "$PD.last")"
net_wait_cmd 120 got "$PA" 10000 && ok "a's 10 000th sample came" || nok "a: last $(st sub-c "$PA.last")"
cp "$W/sub-c.stats" "$W/phase1.stats"
p1() { awk -v k="$1" '$1 == k { print $2 }' "$W/phase1.stats"; }
[ "$(p1 "$PD.count")" = 10000 ] && [ "$(p1 "$PD.first")" = 1 ] && [ "$(p1 "$PD.gaps")" = 0 ] &&
    [ "$(p1 "$PD.back")" = 0 ] && [ "$(p1 "$PD.bad")" = 0 ] &&
    ok "d: 10 000 samples, each once, in order" || nok "d's samples" "$(cat "$W/phase1.stats")"
a1=$(p1 "$PA.last")
[ "$(p1 "$PA.count")" = "$a1" ] && [ "$(p1 "$PA.first")" = 1 ] && [ "$(p1 "$PA.gaps")" = 0 ] &&
    [ "$(p1 "$PA.back")" = 0 ] && [ "$(p1 "$PA.bad")" = 0 ] &&
    ok "a: its first $a1 samples, each once, in order, through b" || nok "a's samples" "$(cat "$W/phase1.stats")"
[ "$(p1 sub_lost)" = 0 ] && [ "$(p1 sub_dropped)" = 0 ] && ok "the library lost and dropped none" ||
    nok "sub stats" "$(cat "$W/phase1.stats")"
# a's and d's samples went a-b-c and d-c: e carried none of them (its
# frames are ROUTE adverts and pings: far fewer than the 10 000 samples).
e_in1=$(st gw-e frames_in)
[ $((e_in1 - e_in0)) -lt 2000 ] && ok "e took $((e_in1 - e_in0)) frames meanwhile: no sample went round" ||
    nok "e took $((e_in1 - e_in0)) frames while 20 000 samples went to c"

# ---------------------------------------------------------------- 2. a-b down
a_down=$(st sub-c "$PA.last")
net_link_set a 1 down
net_link_set b 1 down
ok "link a-b down at $a_down samples of a"
net_wait_cmd 120 got "$PA" $((a_down + 5000)) && ok "a's samples come again, the other way" ||
    nok "no reroute: a at $(st sub-c "$PA.last")" "$(net_show gw-a; net_show gw-e)"
e_in2=$(st gw-e frames_in)
cp "$W/sub-c.stats" "$W/phase2.stats"
p2() { awk -v k="$1" '$1 == k { print $2 }' "$W/phase2.stats"; }
# Each of a's samples that came since, but the lost ones and up to 1 s
# worth that were still on their way through b, passed e.
via_e=$(($(p2 "$PA.last") - a_down - $(p2 "$PA.gaps") + $(p1 "$PA.gaps") - RATE))
[ $((e_in2 - e_in1)) -ge "$via_e" ] && ok "through e ($((e_in2 - e_in1)) frames, at least $via_e)" ||
    nok "e took only $((e_in2 - e_in1)) frames, not $via_e"
linked a 1 && ok "gw-a has one TCP link left (to e)" || nok "gw-a: $(st gw-a tcp_links) links"
lost2=$(p2 "$PA.gaps")
[ "$(p2 "$PA.back")" = 0 ] && [ "$(p2 "$PA.bad")" = 0 ] && ok "rerouted: none twice, none out of order" ||
    nok "a's samples around the failure" "$(cat "$W/phase2.stats")"
[ "$lost2" -le $((8 * RATE)) ] && ok "losses counted and bounded: $lost2 of a's samples (under 8 s worth)" ||
    nok "$lost2 samples lost (over 8 s worth)"
[ "$(p2 sub_lost)" = "$(($(p2 "$PA.gaps") + $(p2 "$PD.gaps")))" ] &&
    ok "the library counted the same losses ($(p2 sub_lost))" || nok "sub_lost $(p2 sub_lost), gaps $lost2"

# ---------------------------------------------------------------- 3. a-b up
net_link_set a 1 up
net_link_set b 1 up
net_wait_cmd 120 linked a 2 && ok "a-b up: gw-a redialled b" || nok "gw-a: $(st gw-a tcp_links) links" "$(net_show gw-a)"
a_up=$(st sub-c "$PA.last")
net_wait_cmd 60 got "$PA" $((a_up + 3000)) && ok "a's samples go on" || nok "a stuck at $(st sub-c "$PA.last")"
# The better way again: over the next 3 000 samples e carries (almost) none.
e_in3=$(st gw-e frames_in)
a3=$(st sub-c "$PA.last")
net_wait_cmd 60 got "$PA" $((a3 + 3000))
e_in4=$(st gw-e frames_in)
[ $((e_in4 - e_in3)) -lt 1000 ] && ok "the way through b again (e took $((e_in4 - e_in3)) frames for 3 000 samples)" ||
    nok "e still carries a's samples: $((e_in4 - e_in3)) frames"

net_stop pub-a
last=$(st pub-a published)
net_wait_cmd 30 got "$PA" "$last" && ok "the last sample of a ($last) came" || nok "a's last: $(st sub-c "$PA.last") of $last"
net_stop sub-c
[ "$(st sub-c "$PA.back")" = 0 ] && [ "$(st sub-c "$PA.bad")" = 0 ] && [ "$(st sub-c "$PD.back")" = 0 ] &&
    ok "over the whole run: no sample twice, none out of order, none altered" || nok "whole run" "$(cat "$W/sub-c.stats")"
[ "$(st sub-c "$PA.count")" = $((last - $(st sub-c "$PA.gaps"))) ] &&
    ok "a: $last published, $(st sub-c "$PA.count") came, $(st sub-c "$PA.gaps") lost, all counted" ||
    nok "a's count does not add up" "$(cat "$W/sub-c.stats")"
[ "$(st sub-c "$PA.gaps")" -le $((8 * RATE * 2)) ] && ok "losses bounded over both changes" ||
    nok "losses $(st sub-c "$PA.gaps")"
for h in a b c d e; do
    [ "$(st "gw-$h" dups)" != "" ] && ok "gw-$h counted $(st "gw-$h" dups) duplicates dropped, $(st "gw-$h" loops) loops" ||
        nok "gw-$h has no counters"
done
for g in gw-a gw-b gw-c gw-d gw-e sub-c pub-a pub-d; do
    grep -qiE 'sanitizer|runtime error' "$W/$g.err" && nok "$g: sanitizer report" "$(net_show "$g")" || ok "$g: no sanitizer report"
done
net_finish
