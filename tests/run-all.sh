#!/usr/bin/env bash
# shellcheck disable=SC2317  # the stage_* functions are called as "stage_$s"
# tests/run-all.sh - build IPCNet every way it ships and run every test.
#
#   tests/run-all.sh [stage...]     stages: normal asan fuzz (default: all three)
#
#   normal  build/       RelWithDebInfo; ctest (unit, integration, install, ...)
#   asan    build-asan/  -DIPCNET_SANITIZE=ON; ctest with leak detection and
#                        UBSan halting on the first error; tests named asan:<test>
#   fuzz    build-fuzz/  clang, -DIPCNET_FUZZ=ON; then tests/fuzz/run.sh
#                        build-fuzz $FUZZ_SECONDS (default 20) as the test fuzz:run
#
# Every ctest result counts once per build; a build that fails counts as one
# failed test (build:<stage>), and the tests that did build still run.
# Skipped tests (SKIP_RETURN_CODE) are listed but not counted.  The last line
# of the output is always "N passed, N failed".  Exit status 0 only if
# nothing failed and at least one test passed: a run that tests nothing is a
# failure.
# Environment: JOBS (default 2), FUZZ_SECONDS (default 20), CTEST_TIMEOUT
# (default for tests without a TIMEOUT property, seconds; default 300).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
root=$(pwd)
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

JOBS=${JOBS:-2}
export JOBS
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
CTEST_TIMEOUT=${CTEST_TIMEOUT:-300}

passed=()
failed=()
skipped=()
notes=()
stage_lines=()

pass() { passed+=("$1"); }
fail() { failed+=("$1${2:+  ($2)}"); }
note() { notes+=("$1"); echo "run-all: $1"; }
banner() { printf '\n==== %s ====\n' "$*"; }

# run_ctest DIR PREFIX: run the ctest suite of build DIR and record each test
# as PREFIX<name>.
run_ctest() {
    local dir=$1 prefix=$2 junit="$root/$1/Testing/run-all-junit.xml" rc
    local n_before_fail=${#failed[@]} n_seen=0 status name
    mkdir -p "$dir/Testing"
    rm -f "$junit"
    echo "+ ctest --test-dir $dir -j$JOBS --output-on-failure --timeout $CTEST_TIMEOUT"
    ctest --test-dir "$dir" -j"$JOBS" --output-on-failure --timeout "$CTEST_TIMEOUT" \
        --no-tests=ignore --output-junit "$junit" </dev/null
    rc=$?
    if [ ! -f "$junit" ]; then
        fail "${prefix}ctest" "ctest exited $rc and wrote no results"
        return
    fi
    # One "status name" line per <testcase>.  ctest writes status="run",
    # "fail", "notrun" (a skip through SKIP_RETURN_CODE / SKIP_REGULAR_EXPRESSION,
    # or a test that could not start) or "disabled".
    while read -r status name; do
        n_seen=$((n_seen + 1))
        case "$status" in
            run) pass "$prefix$name" ;;
            skip) skipped+=("$prefix$name") ;;
            disabled) skipped+=("$prefix$name (disabled)") ;;
            notrun) fail "$prefix$name" "could not run; see $dir/Testing/Temporary/LastTest.log" ;;
            *) fail "$prefix$name" "see $dir/Testing/Temporary/LastTest.log" ;;
        esac
    done < <(awk '
        function attr(s, a,   r) {
            if (!match(s, a "=\"[^\"]*\"")) return ""
            r = substr(s, RSTART + length(a) + 2, RLENGTH - length(a) - 3)
            gsub(/&lt;/, "<", r); gsub(/&gt;/, ">", r); gsub(/&quot;/, "\"", r)
            gsub(/&apos;/, "\047", r); gsub(/&amp;/, "\\&", r)
            return r
        }
        /<testcase / { if (name != "") print status, name
                       name = attr($0, "name"); status = attr($0, "status") }
        /<skipped message="SKIP_(RETURN_CODE|REGULAR_EXPRESSION)/ { status = "skip" }
        END { if (name != "") print status, name }' "$junit")
    if [ "$rc" -ne 0 ] && [ "${#failed[@]}" -eq "$n_before_fail" ]; then
        fail "${prefix}ctest" "ctest exited $rc but no test was reported failed"
    fi
    if [ "$n_seen" -eq 0 ]; then
        note "$dir: ctest found no tests"
    fi
}

# build STAGE DIR: run scripts/build.sh STAGE; a failure counts as the
# failed test build:STAGE.  Returns 1 if there is nothing to test (the
# configure step failed); after a failed build, the tests that did build
# still run (the others show up as failures of their own).
build() {
    local rc
    scripts/build.sh "$1"
    rc=$?
    case "$rc" in
        0) return 0 ;;
        3) fail "build:$1" "configuring $2/ failed, see above"; return 1 ;;
        *) fail "build:$1" "building $2/ failed, see above"
           [ -f "$2/CMakeCache.txt" ] || return 1
           note "$2/ did not build completely: running the tests that did build"
           return 0 ;;
    esac
}

stage_normal() {
    banner "normal build (build/)"
    build normal build || return
    run_ctest build ""
    # The install test is part of ctest (tests/install, label install); run
    # it directly if this tree's ctest does not have it.
    local t found=0
    for t in "${passed[@]}" "${failed[@]}" "${skipped[@]}"; do
        case "$t" in test_install|test_install\ *) found=1 ;; esac
    done
    if [ "$found" -eq 0 ]; then
        note "ctest has no test_install: running tests/install/test_install.sh directly"
        if bash tests/install/test_install.sh build </dev/null; then
            pass test_install
        else
            fail test_install "tests/install/test_install.sh build"
        fi
    fi
}

stage_asan() {
    banner "sanitizer build (build-asan/, ASan + UBSan)"
    build asan build-asan || return
    ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
        run_ctest build-asan "asan:"
}

stage_fuzz() {
    banner "fuzz build (build-fuzz/, clang, libFuzzer)"
    if [ ! -f tests/fuzz/CMakeLists.txt ]; then
        note "tests/fuzz/CMakeLists.txt does not exist: no fuzz harnesses to build or run"
        return
    fi
    build fuzz build-fuzz || return
    if [ ! -f tests/fuzz/run.sh ]; then
        note "tests/fuzz/run.sh does not exist: fuzz harnesses built but not run"
        return
    fi
    echo "+ tests/fuzz/run.sh build-fuzz $FUZZ_SECONDS"
    local rc
    if [ -x tests/fuzz/run.sh ]; then
        tests/fuzz/run.sh build-fuzz "$FUZZ_SECONDS" </dev/null; rc=$?
    else
        bash tests/fuzz/run.sh build-fuzz "$FUZZ_SECONDS" </dev/null; rc=$?
    fi
    if [ "$rc" -eq 0 ]; then
        pass "fuzz:run"
    else
        fail "fuzz:run" "tests/fuzz/run.sh build-fuzz $FUZZ_SECONDS exited $rc"
    fi
}

stages=("$@")
[ "${#stages[@]}" -eq 0 ] && stages=(normal asan fuzz)
for s in "${stages[@]}"; do
    case "$s" in
        normal|asan|fuzz) ;;
        *) echo "tests/run-all.sh: unknown stage '$s' (normal, asan or fuzz)" >&2
           echo "0 passed, 1 failed"; exit 2 ;;
    esac
done

total_start=$SECONDS
for s in "${stages[@]}"; do
    start=$SECONDS p0=${#passed[@]} f0=${#failed[@]}
    "stage_$s"
    stage_lines+=("$(printf '%-7s %3d passed, %3d failed  (%ds)' "$s" \
        $((${#passed[@]} - p0)) $((${#failed[@]} - f0)) $((SECONDS - start)))")
done

banner "summary"
printf '%s\n' "${stage_lines[@]}"
echo "total time: $((SECONDS - total_start))s"
for n in "${notes[@]}"; do echo "note: $n"; done
if [ "${#skipped[@]}" -gt 0 ]; then
    echo "skipped (not counted):"
    printf '  %s\n' "${skipped[@]}"
fi
if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED:"
    printf '  %s\n' "${failed[@]}"
fi
status=0
[ "${#failed[@]}" -gt 0 ] && status=1
if [ "${#passed[@]}" -eq 0 ] && [ "${#failed[@]}" -eq 0 ]; then
    echo "no test ran: that is a failure"
    status=1
fi
echo "${#passed[@]} passed, ${#failed[@]} failed"
exit "$status"
