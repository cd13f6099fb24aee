#!/usr/bin/env bash
# tests/integration/test_history_cli.sh - `ipcnet history` in real
# processes: a data resource held by `ipcnet hold` in a network whose
# policy keeps history (debug: {history: 4}), set by two other nodes
# (`ipcnet set`); the table and --json list who set each version and when,
# oldest first, with the values; --version prints a past value; the bound
# drops the oldest (counted); the errors exit 1 with their status.
#
#   bash tests/integration/test_history_cli.sh path/to/ipcnet
#
# TAP output; exit 0 when every check passed, 1 otherwise, 77 when it
# cannot run.
set -u

BIN=${1:?usage: test_history_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_history_cli: $BIN is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "test_history_cli: SKIP: no python3 to parse JSON"; exit 77; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-hist-cli.XXXXXX")
export IPCNET_DIR="$W/net"
export IPCNET_NETWORK=hist
unset XDG_RUNTIME_DIR
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
TAP_TIMEOUT=30

HOLDER=
cleanup() {
    [ -n "$HOLDER" ] && kill -KILL "$HOLDER" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

printf 'version: 1\ndefault: allow\ndebug:\n  history: 4\n' >"$W/policy.yaml"
chmod 600 "$W/policy.yaml"
export IPCNET_POLICY="$W/policy.yaml"

r 0 "help lists history" "$BIN" help
contains "help names the verb" "$out" "history"

"$BIN" hold h/gain 1 --name holder >"$W/holder.out" 2>"$W/holder.err" </dev/null &
HOLDER=$!
for ((i = 0; i < 200; i++)); do
    grep -q '^serving' "$W/holder.out" 2>/dev/null && break
    sleep 0.05
done
grep -q '^serving' "$W/holder.out" && ok "hold is ready" ||
    nok "hold did not get ready" "$(cat "$W/holder.out" "$W/holder.err")"

r 0 "set by setter-a" "$BIN" set h/gain 2 --name setter-a
r 0 "set by setter-b" "$BIN" set h/gain '"three"' --name setter-b

r 0 "history" "$BIN" history h/gain
contains "the table names the provider" "$out" "provider holder"
contains "the table names setter-a" "$out" "setter-a"
contains "the table names setter-b" "$out" "setter-b"
contains "the table says how" "$out" "publish"
contains "the table shows a value" "$out" '"three"'

r 0 "history --json" "$BIN" history h/gain --json
jdoc "--json: versions in order, who, how, values, times" "$out" \
    '[v["version"] for v in d["versions"]]==[1,2,3] and [v["setter"] for v in d["versions"]]==["holder","setter-a","setter-b"] and [v["via"] for v in d["versions"]]==["publish","set","set"] and [v["value"] for v in d["versions"]]==[1,2,"three"] and all(v["wall_ns"]>0 and v["pid"]>0 for v in d["versions"]) and d["depth"]==4 and d["current"]==3 and d["provider"]=="holder"'

r 0 "history --version 2" "$BIN" history h/gain --version 2
[ "$out" = 2 ] && ok "--version 2 prints the value set then" || nok "--version 2 printed" "$out"
r 0 "history --version 2 --json" "$BIN" history h/gain --version 2 --json
jdoc "--version --json: the version and its value" "$out" \
    'd["version"]==2 and d["value"]==2 and d["provider"]=="holder"'
r 1 "a version never set" "$BIN" history h/gain --version 9
contains "it says 203" "$err" "203"
r 2 "--version 0 is refused" "$BIN" history h/gain --version 0
r 2 "--raw needs --version" "$BIN" history h/gain --raw

for v in 4 5 6 7 8; do
    "$BIN" set h/gain "$v" --name setter-a >/dev/null 2>&1
done
r 0 "history after 8 values" "$BIN" history h/gain --json
jdoc "the bound keeps the newest 4, dropped counted" "$out" \
    '[v["version"] for v in d["versions"]]==[5,6,7,8] and d["dropped"]==4'
r 1 "version 1 is no longer kept" "$BIN" history h/gain --version 1
contains "it says 203" "$err" "203"

r 1 "history of nothing" "$BIN" history h/none --wait 300
contains "it says 203" "$err" "203"

if [ "$F" -gt 0 ]; then
    echo "# $F of $T checks failed"
    exit 1
fi
echo "# all $T checks passed"
exit 0
