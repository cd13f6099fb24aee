#!/usr/bin/env bash
# tests/net/test_net_line.sh - three hosts in a line, a - b - c (issue 18,
# "Tests and figures"): a reaches c only through b's gateway (the
# namespaces route nothing).  Every verb of the ipcnet tool, from a to c's
# nodes and back: find (the host in the provider's name), nodes, query,
# set, call, echo of a stream.  Then the middle host dies (its gateway
# SIGKILLed): a request in flight ends 303 or 304, a subscriber hears that
# its provider went, new requests fail cleanly; then b comes back and
# everything works again, the subscription included.
#
#   bash tests/net/test_net_line.sh path/to/ipcnet BINDIR
#
# Gateways: `ipcnet gateway` on each host, IPCNET_LISTEN/IPCNET_PEERS,
# keys by `ipcnet keygen`, each host trusting the two others by name.
# TAP; 77 (skipped, with the reason) without root, network namespaces, or
# the gateway verb.
set -u
IPCNET_CLI=${1:?usage: test_net_line.sh ipcnet BINDIR}
export NET_BIN=${2:?usage: test_net_line.sh ipcnet BINDIR}
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/netns.sh"
net_init line 540
net_have_gateway || { echo "1..0 # SKIP $IPCNET_CLI has no 'gateway' verb (issue 18)"; exit 77; }
TAP_TIMEOUT=30

net_topo_line3 && ok "line of 3 made" || { nok "line of 3 not made"; net_finish; }
if net_keys; then ok "keys made and trusted (ipcnet keygen, trust add)"; else nok "keys"; net_finish; fi
net_r 0 "a's trust list names b and c" a "$IPCNET_CLI" trust list
contains "b's key is in a's list as b" "$out" "${NET_KEY[b]}"
for h in a b c; do net_gateway "$h"; done

# c's nodes: a data resource, an echo service, a slow service, a stream.
net_start c data-c "$IPCNET_CLI" --name data-c hold c/data '{"v":1}'
net_start c echo-c "$IPCNET_CLI" --name echo-c offer c/echo --echo
net_start c slow-c "$IPCNET_CLI" --name slow-c offer c/slow \
    --exec "touch $W/slow.started; sleep 25; echo late" --exec-timeout 60000
net_start c cam-c "$IPCNET_CLI" --name cam-c pub c/cam '{"frame":1}' --rate 20
net_start a param-a "$IPCNET_CLI" --name param-a hold a/param '{"p":1}'
for p in data-c echo-c slow-c cam-c param-a; do
    net_wait_file "$W/$p.out" '^(serving|offering|publishing)' 15 && ok "$p is ready" ||
        nok "$p did not get ready" "$(net_show "$p")"
done

# find_on HOST PATTERN N: HOST's find lists N resources of PATTERN
find_on() {
    local n
    n=$(net_run "$1" "$IPCNET_CLI" find "$2" --json --wait 500 2>/dev/null | grep -c '"path"')
    [ "$n" = "$3" ]
}
if net_wait_cmd 60 find_on a 'c/**' 4; then
    ok "a finds c's four resources through b"
else
    nok "a does not find c's resources" "$(net_run a "$IPCNET_CLI" find '**' 2>&1; net_show gw-a; net_show gw-b)"
    net_finish # nothing crosses: the rest would only wait
fi

# ---------------------------------------------------------------- every verb
net_r 0 "find on a" a "$IPCNET_CLI" find 'c/**' --json
jcheck "each provider is named NAME@c (the host in the descriptor)" "$out" \
    'sorted((x["path"], x["provider"]) for x in d) == [("c/cam", "cam-c@c"), ("c/data", "data-c@c"), ("c/echo", "echo-c@c"), ("c/slow", "slow-c@c")]'
jcheck "kinds as announced" "$out" \
    '{x["path"]: x["kind"] for x in d} == {"c/cam": "stream", "c/data": "data", "c/echo": "service", "c/slow": "service"}'
net_r 0 "nodes on a" a "$IPCNET_CLI" nodes
contains "a sees c's nodes by their host" "$out" "data-c@c"
net_r 0 "query c/data from a" a "$IPCNET_CLI" query c/data
[ "$out" = '{"v": 1}' ] || [ "$out" = '{"v":1}' ] && ok "its value came" || nok "query answered" "$(show)"
net_r 0 "set c/data from a" a "$IPCNET_CLI" set c/data '{"v":2}'
net_r 0 "query again" a "$IPCNET_CLI" query c/data
contains "the new value is c's" "$out" '2'
net_r 0 "query on c itself" c "$IPCNET_CLI" query c/data
contains "c's own node sees a's set" "$out" '2'
net_r 0 "call c/echo from a" a "$IPCNET_CLI" call c/echo '"over two links"'
[ "$out" = '"over two links"' ] && ok "the echo came back" || nok "call answered" "$(show)"
# A node of another host, asked for its links by a tool that has just
# started: it waits for the way (its routed link) instead of 203 at once.
net_r 0 "links of c's gateway, asked from a" a "$IPCNET_CLI" links --node gw-c@c --json
jcheck "gw-c's links: the TCP link to b, and its own nodes" "$out" \
    'd[0]["node"] == "gw-c@c" and any(x["kind"] == "tcp" and x["host"] == "b" for x in d[0]["items"]) and any(x["peer"] == "echo-c" for x in d[0]["items"])'
net_r 0 "echo c/cam from a, 3 samples" a "$IPCNET_CLI" echo c/cam --count 3 --timeout 10000
[ "$(grep -c 'c/cam' <<<"$out")" = 3 ] && ok "three samples of c's stream came to a" || nok "samples" "$(show)"
net_r 0 "and back: query a/param from c" c "$IPCNET_CLI" query a/param
contains "c reads a's data" "$out" '1'
net_r 0 "call from b (one link)" b "$IPCNET_CLI" call c/echo '1'
# A large sample crosses as a copy (shared memory does not cross hosts).
head -c 300000 /dev/urandom >"$W/big.bin"
net_start c big-c "$IPCNET_CLI" --name big-c hold c/big --file "$W/big.bin"
net_wait_file "$W/big-c.out" '^serving' 15
net_wait_cmd 30 find_on a 'c/big' 1
net_r 0 "query a 300 kB value of c from a" a "$IPCNET_CLI" query c/big --raw
cmp -s "$W/out" "$W/big.bin" && ok "its bytes are c's" || nok "the 300 kB value differs"

# ---------------------------------------------------------------- kill b
net_start a sub-a "$IPCNET_CLI" --name sub-a echo c/cam --json
net_wait_file "$W/sub-a.out" 'c/cam' 20 && ok "a subscriber on a gets c's stream" || nok "sub-a" "$(net_show sub-a)"
rm -f "$W/slow.started"
net_start a pending-a "$IPCNET_CLI" --name pending-a call c/slow '1' --timeout 20000
net_wait_cmd 20 test -e "$W/slow.started" && ok "a's request runs on c" || nok "c/slow did not start"
net_stop gw-b KILL
ok "b's gateway killed"
for ((i = 0; i < 300; i++)); do kill -0 "${PID[pending-a]}" 2>/dev/null || break; sleep 0.1; done
net_stop pending-a
err=$(cat "$W/pending-a.err")
[ "$rc" = 1 ] && ok "the request in flight failed (exit 1)" || nok "the request in flight: exit $rc" "$err"
grep -qE '^(303|304) ' <<<"$err" && ok "with 303 or 304: $(head -c 80 <<<"$err")" || nok "not 303/304" "$err"
net_wait_file "$W/sub-a.err" 'c/cam went away' 30 && ok "the subscriber heard c/cam went away" ||
    nok "sub-a was not told" "$(net_show sub-a)"
net_wait_cmd 30 find_on a 'c/**' 0 && ok "c's resources left a's directory" || nok "c's resources stayed"
net_r 1 "a call to c fails" a "$IPCNET_CLI" call c/echo '1' --timeout 3000
grep -qE '^(203|302|303|304) ' <<<"$err" && ok "cleanly: $(head -c 80 <<<"$err")" || nok "call without b" "$err"
net_r 1 "a query of c fails" a "$IPCNET_CLI" query c/data --timeout 3000
net_r 0 "c itself still serves" c "$IPCNET_CLI" query c/data

# ---------------------------------------------------------------- b back
n_before=$(grep -c 'c/cam' "$W/sub-a.out")
net_gateway b
net_wait_cmd 60 find_on a 'c/**' 5 && ok "b back: a finds c's resources again" ||
    nok "no recovery" "$(net_show gw-a; net_show gw-b)"
net_r 0 "query c/data from a again" a "$IPCNET_CLI" query c/data
contains "c's value" "$out" '2'
net_r 0 "call c/echo from a again" a "$IPCNET_CLI" call c/echo '"back"'
check_more() { [ "$(grep -c 'c/cam' "$W/sub-a.out")" -gt $((n_before + 3)) ]; }
net_wait_cmd 30 check_more && ok "the subscription gets c's samples again" || nok "sub-a got nothing new" "$(net_show sub-a)"
for g in gw-a gw-b gw-c; do
    grep -qiE 'sanitizer|runtime error' "$W/$g.err" && nok "$g: sanitizer report" "$(net_show "$g")" || ok "$g: no sanitizer report"
done
net_finish
