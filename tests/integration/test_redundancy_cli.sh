#!/usr/bin/env bash
# tests/integration/test_redundancy_cli.sh - the `ipcnet` tool's verbs of
# ipcnet_redundancy.h in real processes: `pub` and `hold --strength N
# [--warm]` (several providers of one path, the strongest owns, the next
# takes over), `owner PATH`, `call --all | --vote [--quorum K] [--tolerance
# X] [--id N]` (every answer printed), `offer --at-most-once` (announced
# so; the cache itself is tested from one requester process in
# tests/python/test_redundancy.py), and their usage errors.
#
#   bash tests/integration/test_redundancy_cli.sh path/to/ipcnet
#
# TAP output; exit 0 when every check passed, 1 otherwise, 77 when it cannot
# run.  Every wait is bounded; nothing is timed.
set -u

BIN=${1:?usage: test_redundancy_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_redundancy_cli: $BIN is not an executable"; exit 1; }
command -v python3 >/dev/null || { echo "test_redundancy_cli: SKIP: no python3"; exit 77; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-redundancy-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK XDG_RUNTIME_DIR
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export TAP_TIMEOUT=60

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

# start NAME CMD... : in the background, output in $W/NAME.{out,err}
start() {
    local name=$1
    shift
    "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    PID[$name]=$!
}

# wait_ready NAME DESC: until NAME printed its ready line (10 s at most).
wait_ready() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -qE '^(serving|publishing|offering)' "$W/$1.out" 2>/dev/null && break
        kill -0 "${PID[$1]}" 2>/dev/null || break
        sleep 0.05
    done
    if grep -qE '^(serving|publishing|offering)' "$W/$1.out" 2>/dev/null; then
        ok "$2 is ready"
    else
        nok "$2 did not get ready" "$(cat "$W/$1.out" "$W/$1.err")"
    fi
}

# end NAME SIGNAL: send it and wait (5 s at most, then SIGKILL).
end() {
    local i
    kill "-$2" "${PID[$1]}" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "${PID[$1]}" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "${PID[$1]}" 2>/dev/null
    wait "${PID[$1]}" 2>/dev/null
    unset "PID[$1]"
}

# until_ok DESC WANT CMD...: run CMD until its stdout has WANT (a fixed
# string), 10 s at most; keeps $rc $out $err of the last run.
until_ok() {
    local desc=$1 want=$2 i
    shift 2
    for ((i = 0; i < 40; i++)); do
        "$@" >"$W/out" 2>"$W/err" </dev/null
        rc=$?
        out=$(cat "$W/out")
        err=$(cat "$W/err")
        grep -qF -- "$want" <<<"$out" && { ok "$desc"; return 0; }
        sleep 0.25
    done
    nok "$desc: '$want' never came" "$(show)"
}

echo "# ipcnet: $BIN; network directory $IPCNET_DIR"

# ---------------------------------------------------------------- usage
r 0 "owner --help" "$BIN" owner --help
contains "owner --help shows its usage" "$out" "usage: ipcnet owner PATH"
r 0 "call --help" "$BIN" call --help
contains "call --help shows --vote" "$out" "--vote"
contains "call --help shows --quorum" "$out" "--quorum K"
contains "call --help shows --id" "$out" "--id N"
r 0 "pub --help" "$BIN" pub --help
contains "pub --help shows --strength" "$out" "--strength N"
contains "pub --help shows --warm" "$out" "--warm"
r 0 "hold --help" "$BIN" hold --help
contains "hold --help shows --strength" "$out" "--strength N"
r 0 "offer --help" "$BIN" offer --help
contains "offer --help shows --at-most-once" "$out" "--at-most-once"
r 2 "owner without PATH" "$BIN" owner
r 2 "call --all --vote" "$BIN" call v/sum --all --vote
r 2 "call --quorum without --vote" "$BIN" call v/sum --quorum 2
r 2 "call --tolerance without --vote" "$BIN" call v/sum --tolerance 0.5
r 2 "call --vote --tolerance -1" "$BIN" call v/sum --vote --tolerance -1
r 2 "call --vote --quorum 0" "$BIN" call v/sum --vote --quorum 0
r 2 "call --raw --all" "$BIN" call v/sum --all --raw
r 2 "pub --strength x" "$BIN" pub r/scan 1 --strength x
r 2 "pub --strength beyond 32 bits" "$BIN" pub r/scan 1 --strength 4294967296
r 2 "echo --strength" "$BIN" echo r/scan --strength 1
r 2 "call --warm" "$BIN" call v/sum --warm
r 1 "owner of a path nobody provides" "$BIN" owner r/none --wait 200
contains "... 203" "$err" "203 Not Found"

# ---------------------------------------------------------------- owned stream
start strong "$BIN" pub r/scan '"S"' --strength 10 --rate 100 --name strong
start weak "$BIN" pub r/scan '"W"' --strength 5 --rate 100 --name weak
wait_ready strong "the strong publisher"
wait_ready weak "the weak publisher"
until_ok "owner: strong owns r/scan" "owned by strong" "$BIN" owner r/scan
contains "... of two providers" "$out" "2 providers ranked"
contains "... at its strength" "$out" "strength 10"
r 0 "owner --json" "$BIN" owner r/scan --json
jdoc "... names the owner, strength, providers" "$out" \
    'd["path"] == "r/scan" and d["owner"] == "strong" and d["strength"] == 10 and d["providers"] == 2 and len(d["owner_id"]) == 16'
r 1 "a plain publisher of the owned path" "$BIN" pub r/scan 1 --count 1 --name plain
contains "... is refused 207" "$err" "207 Conflict"
r 0 "echo takes the owner's samples only" "$BIN" echo r/scan --count 10 --json --timeout 10000
# A subscriber that has just joined ranks the providers it has linked to so
# far: until it links to strong it may take weak's samples; from strong's
# first sample on, only strong's.
jcheck "... from strong's first on, only strong's" "$out" 'len(d) == 10 and [x["provider"] for x in d][-1] == "strong" and all(x["provider"] == "strong" and x["value"] == "S" for x in d[[x["provider"] for x in d].index("strong"):])'
end strong TERM
until_ok "owner: weak takes over" "owned by weak" "$BIN" owner r/scan
r 0 "echo after the take-over" "$BIN" echo r/scan --count 3 --json --timeout 10000
jcheck "... from weak" "$out" 'len(d) == 3 and all(x["provider"] == "weak" and x["value"] == "W" for x in d)'
end weak TERM

# ---------------------------------------------------------------- warm standby
start hs "$BIN" hold r/pose 1 --strength 2 --name hs
start hw "$BIN" hold r/pose 2 --strength 1 --warm --name hw
wait_ready hs "the strong holder"
wait_ready hw "the warm holder"
until_ok "owner: hs owns r/pose" "owned by hs" "$BIN" owner r/pose
r 0 "query asks the owner" "$BIN" query r/pose
contains "... and gets its value" "$out" "1"
end hs KILL
until_ok "the warm standby answers once it owns" "2" "$BIN" query r/pose
r 0 "owner: hw" "$BIN" owner r/pose
contains "... owns r/pose" "$out" "owned by hw"
end hw TERM

# ---------------------------------------------------------------- vote, all
start va "$BIN" offer v/sum --exec 'echo 3' --name va
start vb "$BIN" offer v/sum --exec 'echo 3' --name vb
start vc "$BIN" offer v/sum --exec 'echo 4' --name vc
wait_ready va "provider va"
wait_ready vb "provider vb"
wait_ready vc "provider vc"
# A vote is decided once a majority agree: va and vb always answer (they
# are the majority), vc's answer may come after (its item 304, cancelled).
# The dissenter's report is tested in tests/cpp and tests/python, where the
# order of the answers is held.
r 0 "call --vote" "$BIN" call v/sum '{"a": 1}' --vote
contains "... the summary" "$out" "100 OK, 3 asked, 2 agreeing"
contains "... va agrees" "$out" "va (100 OK, agrees): 3"
contains "... vb agrees" "$out" "vb (100 OK, agrees): 3"
r 0 "call --vote --json" "$BIN" call v/sum --vote --json
jdoc "... every provider asked, with its verdict" "$out" \
    'd["mode"] == "vote" and d["status"] == 100 and d["agreeing"] == 2 and d["dissenting"] <= 1 and d["request_id"] > 0 and sorted((a["provider"], a["agrees"]) for a in d["answers"]) == [("va", True), ("vb", True), ("vc", False)]'
r 1 "call --vote --quorum 3" "$BIN" call v/sum --vote --quorum 3
contains "... no quorum: 207" "$err" "207 Conflict"
contains "... the answers printed all the same" "$out" "vc (100 OK): 4"
r 0 "call --vote --quorum 3 --tolerance 1" "$BIN" call v/sum --vote --quorum 3 --tolerance 1
contains "... the numbers agree within 1" "$out" "3 agreeing, 0 dissenting"
r 0 "call --all" "$BIN" call v/sum --all
contains "... the summary" "$out" "(all): 100 OK, 3 asked"
contains "... va's answer" "$out" "va (100 OK): 3"
contains "... vc's answer" "$out" "vc (100 OK): 4"
r 0 "call --all --json" "$BIN" call v/sum --all --json
jdoc "... three answers" "$out" 'd["mode"] == "all" and sorted(a["value"] for a in d["answers"]) == [3, 3, 4]'
r 0 "plain call still prints one answer" "$BIN" call v/sum
lacks "... without the summary" "$out" "asked"
r 0 "call --id 99" "$BIN" call v/sum --id 99 --json
jdoc "... sends and prints that id" "$out" 'd["mode"] == "any" and d["request_id"] == 99 and d["status"] == 100 and len(d["answers"]) == 1 and d["answer"]["value"] in (3, 4)'
r 2 "call --id 0" "$BIN" call v/sum --id 0
r 2 "call --id x" "$BIN" call v/sum --id x
r 1 "call --all of no service" "$BIN" call v/none --all --wait 200
contains "... 203" "$err" "203 Not Found"
for n in va vb vc; do end "$n" TERM; done

# ---------------------------------------------------------------- at most once
start once "$BIN" offer o/fire --exec 'date +%s%N' --at-most-once --name once
start twice "$BIN" offer o/again --exec 'date +%s%N' --name twice
wait_ready once "the at-most-once provider"
wait_ready twice "the plain provider"
r 0 "call --id 4242 of an at-most-once service" "$BIN" call o/fire --id 4242 --json
first=$out
jdoc "... prints the id" "$first" 'd["request_id"] == 4242 and d["status"] == 100 and d["answer"]["provider"] == "once"'
r 0 "the same id from another process" "$BIN" call o/fire --id 4242 --json
jdoc "... prints the id" "$out" 'd["request_id"] == 4242 and d["status"] == 100'
# A requester is its process (uid, pid, node name): another ipcnet process
# is another requester, whose id 4242 is a request of its own.  (A retry
# from the same process is answered from the cache: tests/python.)
runs=$(grep -c '^#' "$W/once.out")
[ "$runs" = 2 ] && ok "... is another requester: it runs" || nok "... it ran $runs times" "$(cat "$W/once.out")"
r 0 "a plain service, id 77" "$BIN" call o/again --id 77
r 0 "... id 77 again" "$BIN" call o/again --id 77
runs=$(grep -c '^#' "$W/twice.out")
[ "$runs" = 2 ] && ok "... runs twice (not at most once)" || nok "... ran $runs times" "$(cat "$W/twice.out")"
r 2 "--id 0" "$BIN" call o/fire --id 0
end once TERM
end twice TERM

echo "1..$T"
[ "$F" = 0 ]
