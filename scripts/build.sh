#!/usr/bin/env bash
# scripts/build.sh - configure and build one of IPCNet's standard builds.
#
#   scripts/build.sh normal   build/       RelWithDebInfo, gcc (cc)
#   scripts/build.sh asan     build-asan/  -DIPCNET_SANITIZE=ON (ASan + UBSan)
#   scripts/build.sh fuzz     build-fuzz/  clang, -DIPCNET_FUZZ=ON (libFuzzer)
#
# Extra arguments go to the CMake configure step.  Environment: JOBS
# (parallel jobs, default 2), BUILD_TYPE (default RelWithDebInfo), PREFIX
# (CMAKE_INSTALL_PREFIX, default /usr/local), TARGET (build only that
# target, e.g. ipcnet_installed: what `make install` installs).  Run from
# anywhere.
# Exit status: 0 built, 1 the build failed, 3 the configure step failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# When run from make, do not let the outer make's flags and jobserver leak
# into the make that CMake drives: the job count is ours (-j$JOBS).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

kind=${1:-normal}
[ "$#" -gt 0 ] && shift
jobs=${JOBS:-2}
build_type=${BUILD_TYPE:-RelWithDebInfo}
prefix=${PREFIX:-/usr/local}

case "$kind" in
    normal) dir=build
            opts=(-DIPCNET_SANITIZE=OFF -DIPCNET_FUZZ=OFF) ;;
    asan)   dir=build-asan
            opts=(-DIPCNET_SANITIZE=ON -DIPCNET_FUZZ=OFF) ;;
    fuzz)   dir=build-fuzz
            opts=(-DCMAKE_C_COMPILER=clang -DIPCNET_SANITIZE=OFF -DIPCNET_FUZZ=ON) ;;
    *) echo "scripts/build.sh: unknown build '$kind' (normal, asan or fuzz)" >&2; exit 2 ;;
esac

echo "+ cmake -S . -B $dir -DCMAKE_BUILD_TYPE=$build_type ${opts[*]} $*"
if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$build_type" \
        -DCMAKE_INSTALL_PREFIX="$prefix" -DIPCNET_BUILD_TESTS=ON "${opts[@]}" "$@"; then
    echo "scripts/build.sh: configuring $dir/ failed" >&2
    exit 3
fi

# Keep going past a target that fails so that everything else is built
# (tests/run-all.sh then still runs the tests that did build); the exit
# status still says the build failed.
case "$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$dir/CMakeCache.txt")" in
    Ninja*) keep_going=(-- -k 0) ;;
    *Makefiles) keep_going=(-- -k) ;;
    *) keep_going=() ;;
esac
target=()
[ -n "${TARGET:-}" ] && target=(--target "$TARGET")
echo "+ cmake --build $dir -j$jobs ${target[*]} ${keep_going[*]}"
if ! cmake --build "$dir" -j"$jobs" "${target[@]}" "${keep_going[@]}"; then
    echo "scripts/build.sh: building $dir/ failed (see the errors above)" >&2
    exit 1
fi
