#!/usr/bin/env bash
# tests/integration/test_quarantine_cli.sh - `ipcnet quarantine list|lift`
# in real processes: a node named rogue that keeps calling a service the
# policy refuses it ends quarantined on the provider; `quarantine list`
# shows it with its evidence (asked of the provider's node service
# @sys/<node>/quarantine); rogue's next link is refused; `quarantine lift`
# restores it; an innocent node is served throughout; and once the policy
# refuses EXECUTE of @sys/*/quarantine/lift (reloaded live), lifting is
# refused (202).
#
#   bash tests/integration/test_quarantine_cli.sh path/to/ipcnet
#
# TAP output; exit 0 when every check passed, 1 otherwise.
set -u

BIN=${1:?usage: test_quarantine_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_quarantine_cli: $BIN is not an executable"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-quarantine-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR
export IPCNET_POLICY="$W/policy.yaml"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TAP_TIMEOUT=60

BG=""
cleanup() {
    [ -n "$BG" ] && kill -TERM "$BG" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

# policy EXTRA_RULES: the network's policy, replaced as a whole (rename).
policy() {
    cat >"$W/policy.new" <<YAML
version: 1
default: allow
rules:
  - deny: execute
    who: "node:rogue"
    what: svc/secret
$1
reputation:
  quarantine_below: -100
  ban_below: -100000
  half_life: 1h
  quarantine_for: 1h
  penalties: {denied: 40}
YAML
    chmod 0644 "$W/policy.new"
    mv "$W/policy.new" "$IPCNET_POLICY"
}
policy ""

echo "# ipcnet: $BIN; files in $W"

"$BIN" offer svc/secret --echo --name victim >"$W/victim.out" 2>"$W/victim.err" </dev/null &
BG=$!
for ((i = 0; i < 400; i++)); do
    [ -S "$IPCNET_DIR/default/victim.sock" ] && break
    sleep 0.05
done
r 0 "an innocent node is served" "$BIN" call svc/secret '"hi"' --name innocent
contains "... with the echo" "$out" "hi"

# Each refused call costs rogue 40: the third takes it below -100.
for k in 1 2 3; do
    r 1 "rogue's call $k is refused" "$BIN" call svc/secret '"x"' --name rogue
done
contains "... with 202" "$err" "202"

r 0 "quarantine list" "$BIN" quarantine list
contains "list names the provider" "$out" "node victim:"
contains "list shows rogue quarantined" "$out" "rogue"
contains "... in state quarantined" "$out" "quarantined"
contains "... with its evidence" "$out" "denied=3"

r 0 "quarantine list --json" "$BIN" quarantine list --json --node victim
jcheck "rogue's record in JSON" "$out" \
    'any(r["subject"] == "rogue" and r["state"] == "quarantined" and r["evidence"]["denied"] == 3 and r["ms_left"] > 0 and r["strikes"] == 1 for x in d for r in x["records"])'
jcheck "the innocent is not listed" "$out" \
    'not any(r["subject"] == "innocent" for x in d for r in x["records"])'

r 1 "rogue's next link is refused" "$BIN" call svc/secret '"x"' --name rogue --wait 1000
r 0 "the innocent is still served" "$BIN" call svc/secret '"again"' --name innocent

r 0 "quarantine lift rogue" "$BIN" quarantine lift rogue
contains "lift says where" "$out" "victim: lifted rogue"
r 0 "rogue is no longer listed" "$BIN" quarantine list --json --node victim
jcheck "... not in the records" "$out" \
    'not any(r["subject"] == "rogue" for x in d for r in x["records"])'
r 0 "quarantine list --all" "$BIN" quarantine list --all --json --node victim
jcheck "--all keeps rogue's record: state none, its strike remembered" "$out" \
    'any(r["subject"] == "rogue" and r["state"] == "none" and r["strikes"] == 1 for x in d for r in x["records"])'
r 1 "rogue links again: refused by policy, not by quarantine" \
    "$BIN" call svc/secret '"x"' --name rogue
contains "... 202 from the service" "$err" "202"
r 1 "lift of what no node holds" "$BIN" quarantine lift nobody-here
contains "... says so" "$err" "no node holds nobody-here"
r 2 "quarantine without list or lift" "$BIN" quarantine
r 2 "quarantine lift without a subject" "$BIN" quarantine lift
r 1 "--node of no node" "$BIN" quarantine list --node ghost

# The policy now refuses the lift service to everyone: live reload.
policy '  - deny: execute
    who: any
    what: "@sys/*/quarantine/lift"'
for ((i = 0; i < 100; i++)); do
    "$BIN" quarantine lift rogue >/dev/null 2>&1
    [ $? = 1 ] && break
    sleep 0.05
done
r 1 "lift refused by the reloaded policy" "$BIN" quarantine lift rogue
contains "... with 202" "$err" "202"
r 0 "list still allowed" "$BIN" quarantine list --node victim

kill -TERM "$BG" 2>/dev/null
wait "$BG" 2>/dev/null
BG=""
echo "1..$T"
echo "# $((T - F)) passed, $F failed"
[ "$F" = 0 ]
