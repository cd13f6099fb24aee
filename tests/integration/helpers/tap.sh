# tests/integration/helpers/tap.sh - the checks the shell tests share,
# printed as TAP ("ok N - ...", "not ok N - ..."), sourced by them.
#
# The sourcing script sets W (its scratch directory) before it calls r,
# and ends by looking at F (checks failed) of T.  TAP_TIMEOUT (seconds), when set, bounds each
# command that r runs.

T=0
F=0
ok() { T=$((T + 1)); echo "ok $T - $1"; }
nok() {
    T=$((T + 1)); F=$((F + 1))
    echo "not ok $T - $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'
    return 0
}
show() { printf 'exit %s\nstdout: %s\nstderr: %s' "$rc" "$out" "$err"; }

# r WANT_RC DESC CMD... : run a command to its end; keeps $rc $out $err.
r() {
    local want=$1 desc=$2
    shift 2
    ${TAP_TIMEOUT:+timeout "$TAP_TIMEOUT"} "$@" >"$W/out" 2>"$W/err" </dev/null
    rc=$?
    out=$(tr -d '\0' <"$W/out")
    err=$(cat "$W/err")
    if [ "$rc" = "$want" ]; then ok "$desc (exit $rc)"; else nok "$desc: exit $rc, wanted $want" "$(show)"; fi
}

# contains / lacks DESC HAYSTACK NEEDLE (a fixed string)
contains() {
    if grep -qF -- "$3" <<<"$2"; then ok "$1"; else nok "$1: '$3' not found" "$2"; fi
}
lacks() {
    if grep -qF -- "$3" <<<"$2"; then nok "$1: '$3' found" "$2"; else ok "$1"; fi
}

# jcheck DESC TEXT PYEXPR: TEXT is one JSON document per line; PYEXPR sees
# them as the list d (and json).  Every line must parse on its own.
jcheck() {
    local desc=$1 text=$2 expr=$3 res
    res=$(python3 -c '
import json, sys
lines = [l for l in sys.stdin.read().split("\n") if l.strip()]
d = [json.loads(l) for l in lines]
ok = eval(sys.argv[1], {"d": d, "json": json})
sys.exit(0 if ok else 3)' "$expr" <<<"$text" 2>&1)
    case $? in
        0) ok "$desc" ;;
        3) nok "$desc: false: $expr" "$text" ;;
        *) nok "$desc: not JSON lines ($res)" "$text" ;;
    esac
}

# jdoc DESC TEXT PYEXPR: TEXT is one JSON document, seen by PYEXPR as d.
jdoc() {
    if python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
sys.exit(0 if eval(sys.argv[1], {"d": d, "json": json}) else 3)' "$3" <<<"$2" 2>/dev/null; then
        ok "$1"
    else
        nok "$1: false or not JSON: $3" "$2"
    fi
}
