#!/usr/bin/env bash
# run.sh <build-dir> <seconds> — run every libFuzzer harness of a fuzz build
# (cmake -DIPCNET_FUZZ=ON -DCMAKE_C_COMPILER=clang) for <seconds> each, on a
# copy of its seed corpus (the checked-in seeds are never touched).
# Exits non-zero when a harness crashed, leaked, hung or broke a property;
# the input that did it is printed and kept.  To keep it as a regression
# case, copy it to tests/fuzz/crashes/<name>/ (test_fuzz_replay runs it in
# every build from then on).
# Environment: FUZZ_ONLY=<name> runs one harness; FUZZ_ARGS adds libFuzzer
# flags; FUZZ_KEEP=1 keeps the work directory; JOBS (default 2): how many
# harnesses run at once (each on one core; their logs are printed in
# order once all have ended).
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 <build-dir> <seconds>" >&2
    exit 2
fi
build=$1
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/bin"

work=$(mktemp -d "${TMPDIR:-/tmp}/ipcnet-fuzz.XXXXXX") || exit 2
cleanup() { [ "${FUZZ_KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

found=0
failed=0
jobs=${JOBS:-2}
[ "$jobs" -ge 1 ] 2>/dev/null || jobs=1
names=()

# run_one NAME FUZZER: one harness on a copy of its seeds; its exit status
# goes to $work/NAME/rc.
run_one() {
    local name=$1 fuzzer=$2 dict=""
    local corpus="$work/$name/corpus" artifacts="$work/$name/artifacts"
    if [ -d "$here/corpus/$name" ]; then
        cp "$here/corpus/$name"/* "$corpus"/ 2>/dev/null
    fi
    [ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
    # shellcheck disable=SC2086 # dict and FUZZ_ARGS are word lists
    "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" $dict \
        ${FUZZ_ARGS:-} "$corpus" "$here/crashes/$name" \
        >"$work/$name/log" 2>&1
    echo $? >"$work/$name/rc"
}

for fuzzer in "$bin"/fuzz_*; do
    [ -x "$fuzzer" ] || continue
    name=${fuzzer##*/fuzz_}
    [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "$name" ] && continue
    found=$((found + 1))
    names+=("$name")
    mkdir -p "$work/$name/corpus" "$work/$name/artifacts"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
    echo "== fuzz_$name for ${secs}s"
    run_one "$name" "$fuzzer" &
done
wait

for name in "${names[@]}"; do
    artifacts="$work/$name/artifacts"
    rc=$(cat "$work/$name/rc" 2>/dev/null || echo 99)
    echo "== fuzz_$name: exit $rc"
    tail -n 25 "$work/$name/log"
    if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$artifacts")" ]; then
        failed=$((failed + 1))
        FUZZ_KEEP=1
        echo "!! fuzz_$name failed (exit $rc):" >&2
        grep -m 5 -E \
            'property failed|ERROR: [A-Za-z]+Sanitizer|runtime error|SUMMARY' \
            "$work/$name/log" >&2
        echo "   inputs kept:" >&2
        ls -l "$artifacts" >&2
        echo "   log: $work/$name/log" >&2
    fi
done

if [ $found -eq 0 ]; then
    echo "no fuzz_* programs in $bin (configure with -DIPCNET_FUZZ=ON" \
         "-DCMAKE_C_COMPILER=clang)" >&2
    exit 2
fi
[ $failed -eq 0 ] || exit 1
echo "== all $found harnesses ran ${secs}s each without a failure"
