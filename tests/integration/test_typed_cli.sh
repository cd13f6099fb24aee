#!/usr/bin/env bash
# tests/integration/test_typed_cli.sh - typed data and streams
# (ipcnet_schema.h) from the `ipcnet` tool: a type given in --meta's
# "schema" travels in the descriptor; `info` prints it as a tree of field
# types and names (and in --json), `echo` prints it once before the first
# sample of each typed resource; a set or a publish of a value of another
# type fails with 200 and the reason; an integer where a float is declared
# is taken; a --meta whose "schema" is no type is refused.
#
#   bash tests/integration/test_typed_cli.sh path/to/ipcnet
#
# TAP output; exit 0 when every check passed, 1 otherwise, 77 when it cannot
# run.  The network lives in a private IPCNET_DIR, removed at the end.
set -u

BIN=${1:?usage: test_typed_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_typed_cli: $BIN is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "test_typed_cli: SKIP: no python3 to parse JSON"; exit 77; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-typed-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
TAP_TIMEOUT=20

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

start() {
    local name=$1
    shift
    "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    PID[$name]=$!
}

wait_ready() { # wait_ready NAME DESC
    local i
    for ((i = 0; i < 200; i++)); do
        grep -qE '^(serving|publishing)' "$W/$1.out" 2>/dev/null && { ok "$2 is ready"; return; }
        kill -0 "${PID[$1]}" 2>/dev/null || break
        sleep 0.05
    done
    nok "$2 did not get ready" "$(cat "$W/$1.out" "$W/$1.err")"
}

stop() { # stop NAME DESC: SIGTERM, must end with exit 0
    kill -TERM "${PID[$1]}"
    wait "${PID[$1]}"
    local wrc=$?
    unset "PID[$1]"
    if [ "$wrc" = 0 ]; then ok "$2 ends cleanly"; else nok "$2: exit $wrc" "$(cat "$W/$1.err")"; fi
}

GAIN='{"map": {"gain": "float", "limits": {"optional": {"map": {"lo": "float", "hi": "float"}}},
 "tags": {"optional": {"array": "text"}}, "parent": {"optional": {"nullable": "int"}},
 "pts": {"optional": {"array": {"map": {"x": "float"}}}}}}'
POSE='{"map": {"x": "float", "y": "float"}}'

# ---------------------------------------------------------------- data
start holder "$BIN" hold ctl/gain '{"gain": 2}' --name holder \
    --meta "{\"units\": \"dB\", \"schema\": $GAIN}"
wait_ready holder "hold of a typed value given as an integer for a float"

r 0 "info of a typed data resource" "$BIN" info ctl/gain
tree=$(sed -n '/^schema /,$p' <<<"$out")
want='schema    map
            float gain
            map limits  (optional)
              float lo
              float hi
            text[] tags  (optional)
            int|null parent  (optional)
            map[] pts  (optional)
              float x'
if [ "$tree" = "$want" ]; then ok "info prints the type as a tree of field types and names"
else nok "info's type tree" "$(printf 'got:\n%s\nwanted:\n%s' "$tree" "$want")"; fi
r 0 "info --json" "$BIN" info ctl/gain --json
jdoc "info --json has the type as schema" "$out" \
    'd["schema"]["map"]["gain"] == "float" and d["meta"]["units"] == "dB" and d["schema"] == d["meta"]["schema"]'

r 1 "set of a value of another type" "$BIN" set ctl/gain '{"gain": "loud"}'
contains "the refusal is 200" "$err" "200 Bad Request"
contains "the refusal says why" "$err" "value.gain: expected float, got text"
r 1 "set of a value with a field the type has not" "$BIN" set ctl/gain '{"gain": 1, "x": 2}'
contains "the refusal names the field" "$err" "value.x: unexpected field"
r 0 "set of an integer for a float" "$BIN" set ctl/gain '{"gain": 3, "tags": ["a"]}'
r 0 "query after the sets" "$BIN" query ctl/gain
contains "only the value of the type was taken" "$out" '{"gain":3,"tags":["a"]}'
stop holder "the holder"

# ---------------------------------------------------------------- streams
start pose "$BIN" pub s/pose '{"x": 1, "y": 2.5}' --rate 50 --name posepub \
    --meta "{\"rate\": 50, \"schema\": $POSE}"
wait_ready pose "a typed stream"
start plain "$BIN" pub s/plain '"hi"' --rate 50 --name plainpub
wait_ready plain "an untyped stream"
r 0 "echo of a typed and an untyped stream" "$BIN" echo 's/*' --count 6 --timeout 5000
want='# s/pose: type (from node posepub)
#   map
#     float x
#     float y'
if grep -qF -- "$want" <<<"$out"; then ok "echo prints the type before the samples"
else nok "echo's type" "$out"; fi
n=$(grep -c '^# s/pose: type' <<<"$out")
[ "$n" = 1 ] && ok "echo prints it once" || nok "echo printed the type $n times" "$out"
lacks "no type for the untyped stream" "$out" "# s/plain"
first_type=$(grep -n '^# s/pose' <<<"$out" | cut -d: -f1)
first_sample=$(grep -n '^s/pose: ' <<<"$out" | head -1 | cut -d: -f1)
[ -n "$first_type" ] && [ -n "$first_sample" ] && [ "$first_type" -lt "$first_sample" ] &&
    ok "the type comes before the first sample" || nok "the type is not before the first sample" "$out"
contains "echo prints the typed samples" "$out" 's/pose: {"x":1,"y":2.5}'
r 0 "echo --json prints no type lines" "$BIN" echo s/pose --count 2 --json --timeout 5000
jcheck "echo --json is JSON lines only" "$out" 'len(d) == 2 and d[0]["value"] == {"x": 1, "y": 2.5}'
stop pose "the typed stream's publisher"
stop plain "the untyped stream's publisher"

r 1 "pub of a value of another type" "$BIN" pub s/bad '{"x": "a", "y": 1}' --count 1 \
    --meta "{\"schema\": $POSE}"
contains "the publish fails with 200" "$err" "200 Bad Request"
contains "the publish says why" "$err" "value.x: expected float, got text"
r 1 "pub with a schema that is no type" "$BIN" pub s/bad '{"x": 1}' --count 1 \
    --meta '{"schema": {"map": {"x": "real"}}}'
contains "the announce is refused" "$err" "cannot announce 's/bad'"
r 1 "hold of a typed value whose encoding is not CBOR" "$BIN" hold d/bad '"x"' \
    --encoding text/plain --meta '{"schema": "text"}'
contains "the typed announce of text/plain is refused" "$err" "cannot announce 'd/bad'"

echo "1..$T"
[ "$F" = 0 ]
