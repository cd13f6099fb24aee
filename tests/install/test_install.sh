#!/usr/bin/env bash
# shellcheck disable=SC2015  # "ok ... || bad ...": ok always succeeds
# tests/install/test_install.sh [BUILD_DIR] - test IPCNet as installed.
#
# Installs BUILD_DIR (default: build) into a temporary prefix with
# `cmake --install`, then, using only what was installed:
#   - builds tests/install/consumer.c with `pkg-config --cflags --libs ipcnet`
#     (as C99 with -pedantic -Werror, and as C++), a C++17 program that uses
#     the C++ binding ipcnet.hpp, and a CMake project
#     that calls find_package(ipcnet) (targets ipcnet::ipcnet and
#     ipcnet::ipcnet_static), and runs each program;
#   - checks the shared library: SONAME libipcnet.so.MAJOR.MINOR, the
#     symlinks, every exported symbol is public API (ipcn_*, not ipcn__*)
#     and versioned, and it is exactly the functions ipcnet.h declares;
#   - checks that exactly the install set was installed: the library, the
#     public headers, the CLI, the Python package, pkg-config and CMake
#     files, and nothing else (no test, benchmark or demo program);
#   - checks that what was built against the prefix runs without
#     LD_LIBRARY_PATH: the pkg-config program (ipcnet.pc's rpath), the
#     find_package program, the installed CLI and Python package;
#   - checks that DESTDIR is honoured, and that ipcnet.pc carries an rpath
#     for a private prefix and none for /usr.
# Environment: IPCN_TEST_CC (compiler, default cc), IPCN_TEST_CXX (default
# c++), IPCN_TEST_FLAGS (extra compile and link flags, for sanitizer builds).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "${1:-build}" && pwd)
cc=${IPCN_TEST_CC:-cc}
cxx=${IPCN_TEST_CXX:-c++}
read -r -a flags <<<"${IPCN_TEST_FLAGS:-}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ipcnet-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

failures=0
step() { echo "-- $*"; }
ok() { echo "   ok: $*"; }
bad() { echo "   FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "   FAIL: $*" >&2; echo "test_install: FAILED" >&2; exit 1; }
words() { tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'; }   # one line, single spaces

step "cmake --install $build --prefix <tmp>/prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; die "cmake --install failed"; }

pcfile=$(find "$prefix" -path '*/pkgconfig/ipcnet.pc' -print -quit)
[ -n "$pcfile" ] || die "no pkgconfig/ipcnet.pc was installed"
export PKG_CONFIG_PATH=${pcfile%/*}
export PKG_CONFIG_LIBDIR=$PKG_CONFIG_PATH    # only this prefix, nothing of the system's
libdir=$(pkg-config --variable=libdir ipcnet)
includedir=$(pkg-config --variable=includedir ipcnet)
version=$(pkg-config --modversion ipcnet)
[ "$(pkg-config --variable=prefix ipcnet)" = "$prefix" ] ||
    bad "ipcnet.pc has prefix=$(pkg-config --variable=prefix ipcnet), installed into $prefix"
[ "$libdir/pkgconfig" = "$PKG_CONFIG_PATH" ] || bad "ipcnet.pc's libdir $libdir is not where it is installed"
[[ "$version" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || die "ipcnet.pc has Version: '$version'"
soname=libipcnet.so.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}
realname=libipcnet.so.$version
echo "   ipcnet $version: libdir ${libdir#"$tmp"/}, includedir ${includedir#"$tmp"/}"
pc_libs_words=$(pkg-config --libs ipcnet | words)
# A private prefix: the rpath that lets programs find the library there.
[ "$pc_libs_words" = "-L$libdir -Wl,-rpath,$libdir -lipcnet" ] ||
    bad "pkg-config --libs ipcnet is '$pc_libs_words'"
grep -q -- '-lpthread' <<<"$(pkg-config --libs --static ipcnet)" ||
    bad "pkg-config --libs --static ipcnet lacks -lpthread"

step "installed files"
for f in "$includedir/ipcnet.h" "$includedir/ipcnet.hpp" "$includedir/ipcnet_value.hpp" \
         "$includedir/ipcnet_redundancy.h" "$includedir/ipcnet_redundancy.hpp" \
         "$libdir/libipcnet.a" "$libdir/$realname" \
         "$libdir/cmake/ipcnet/ipcnetConfig.cmake" \
         "$libdir/cmake/ipcnet/ipcnetConfigVersion.cmake" \
         "$libdir/cmake/ipcnet/ipcnetTargets.cmake"; do
    [ -f "$f" ] && ok "${f#"$prefix"/}" || bad "missing ${f#"$prefix"/}"
done
for link in "$soname" libipcnet.so; do
    if [ -L "$libdir/$link" ] && [ "$(readlink -f "$libdir/$link")" = "$libdir/$realname" ]; then
        ok "${libdir#"$prefix"/}/$link -> $realname"
    else
        bad "${libdir#"$prefix"/}/$link is not a symlink to $realname"
    fi
done
if [ -f "$libdir/$realname" ]; then
    lib=$libdir/$realname
else
    die "no shared library to check"
fi

step "the install set, and nothing else"
rel_lib=${libdir#"$prefix"/}
rel_inc=${includedir#"$prefix"/}
(cd "$prefix" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) >"$tmp/installed.txt"
allowed="^(bin/ipcnet"
allowed+="|bin/ipcnet-bridge-mqtt" # bridges/mqtt, when libmosquitto was found
allowed+="|bin/ipcnet-bridge-dds"  # bridges/dds, when Cyclone DDS was found
allowed+="|$rel_inc/ipcnet[a-z_]*\.(h|hpp)"
allowed+="|$rel_lib/libipcnet\.(a|so|so\.[0-9]+\.[0-9]+|so\.[0-9]+\.[0-9]+\.[0-9]+)"
allowed+="|$rel_lib/pkgconfig/ipcnet\.pc"
allowed+="|$rel_lib/cmake/ipcnet/ipcnet(Config|ConfigVersion|Targets|Targets-[a-z]+)\.cmake"
allowed+="|lib/python3\.[0-9]+/dist-packages/ipcnet/([A-Za-z_][A-Za-z0-9_]*\.pyi?|py\.typed|_ipcnet\.cpython-[^/]+\.so))$"
extra=$(grep -Ev "$allowed" "$tmp/installed.txt" || true)
[ -z "$extra" ] && ok "$(wc -l <"$tmp/installed.txt") files, all of the install set" ||
    bad "installed but not part of the install set: $(words <<<"$extra")"
grep -q '^bin/ipcnet$' "$tmp/installed.txt" && ok "bin/ipcnet" || bad "the CLI bin/ipcnet is missing"
missing=""
for h in "$here"/../../include/ipcnet*.h "$here"/../../include/ipcnet*.hpp; do
    grep -qx "$rel_inc/${h##*/}" "$tmp/installed.txt" || missing+=" ${h##*/}"
done
[ -z "$missing" ] && ok "every public header of include/" || bad "headers not installed:$missing"
# The Python package, when this build has the binding (not the ASan build).
pydir=
if [ -f "$build/python/ipcnet/__init__.py" ]; then
    pyinit=$(grep -E '^lib/python3\.[0-9]+/dist-packages/ipcnet/__init__\.py$' "$tmp/installed.txt" || true)
    if [ -n "$pyinit" ] && grep -q '/_ipcnet\.cpython-[^/]*\.so$' "$tmp/installed.txt"; then
        pydir=$prefix/${pyinit%/ipcnet/__init__.py}
        ok "the Python package in ${pydir#"$prefix"/}"
    else
        bad "the Python binding was built but its package was not installed"
    fi
fi

step "SONAME and exported symbols of $realname"
got_soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$got_soname" = "$soname" ] && ok "SONAME $got_soname" || bad "SONAME is '$got_soname', expected $soname"

# "ADDR TYPE NAME@@VERSION" per symbol; type A is the version node itself.
nm -D --defined-only "$lib" >"$tmp/nm.txt"
awk '$2 != "A"' "$tmp/nm.txt" | awk '{print $3}' | sort >"$tmp/exports.txt"
sed 's/@.*//' "$tmp/exports.txt" >"$tmp/names.txt"
n_exports=$(wc -l <"$tmp/names.txt")
not_public=$(grep -v '^ipcn_' "$tmp/names.txt" || true)
internal=$(grep '^ipcn__' "$tmp/names.txt" || true)
unversioned=$(grep -v '@@IPCNET_' "$tmp/exports.txt" || true)
[ -z "$not_public" ] || bad "exported but not ipcn_*: $(words <<<"$not_public")"
[ -z "$internal" ] || bad "internal ipcn__ symbols exported: $(words <<<"$internal")"
[ -z "$unversioned" ] || bad "exported without an IPCNET_ symbol version: $(words <<<"$unversioned")"
[ -z "$not_public$internal$unversioned" ] &&
    ok "$n_exports exported symbols, all ipcn_*, versioned $(awk '$2 == "A" {print $3}' "$tmp/nm.txt" | words)"
for sym in ipcn_version ipcn_status_str ipcn_node_open; do
    grep -qx "$sym" "$tmp/names.txt" && ok "exports $sym" || bad "does not export $sym"
done
# Compare with the functions the installed headers declare (IPCN_API):
# ipcnet.h and the other public headers (ipcnet_value.h, ipcnet_dlpack.h).
cat "$includedir"/ipcnet*.h | tr '\n' ' ' | grep -o 'IPCN_API[^;{}()]*(' |
    sed 's/ *($//; s/.*[ *]//' | grep '^ipcn_' | sort -u >"$tmp/declared.txt" || true
undeclared=$(comm -13 "$tmp/declared.txt" "$tmp/names.txt")
unimplemented=$(comm -23 "$tmp/declared.txt" "$tmp/names.txt")
[ -z "$undeclared" ] || bad "exported but not declared in include/ipcnet*.h: $(words <<<"$undeclared")"
if [ ! -s "$tmp/declared.txt" ]; then
    bad "found no IPCN_API function declarations in ipcnet.h"
elif [ -n "$unimplemented" ]; then
    bad "declared in ipcnet.h but not exported: $(words <<<"$unimplemented")"
else
    ok "every function declared in ipcnet.h ($(wc -l <"$tmp/declared.txt")) is exported"
fi

# run_consumer NAME: run $tmp/NAME and check it prints "ipcnet <version>".
run_consumer() {
    local out
    if out=$(LD_LIBRARY_PATH=$libdir "$tmp/$1" 2>&1) && [ "$out" = "ipcnet $version" ]; then
        ok "$1 runs: $out"
    else
        bad "$1 printed: $out"
    fi
}
# uses_installed_lib NAME: the program loads libipcnet from the prefix.
uses_installed_lib() {
    # Capture first: with pipefail, 'ldd | grep -q' fails when grep exits at
    # the first match and ldd dies of SIGPIPE, which made this check flaky.
    local deps
    deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/$1")
    if grep -q "^[[:space:]]*$soname => $libdir/$soname " <<<"$deps"; then
        ok "$1 loads $soname from the prefix"
    else
        bad "$1 does not load $soname from the prefix: $(grep ipcnet <<<"$deps" || echo 'not linked')"
    fi
}

step "pkg-config: $cc \$(pkg-config --cflags --libs ipcnet)"
read -r -a pc_cflags <<<"$(pkg-config --cflags ipcnet)"
read -r -a pc_libs <<<"$(pkg-config --libs ipcnet)"
if "$cc" -std=c99 -pedantic -Wall -Wextra -Werror "${flags[@]}" "${pc_cflags[@]}" \
        "$here/consumer.c" -o "$tmp/consumer_pc" "${flags[@]}" "${pc_libs[@]}"; then
    ok "compiled as C99 with -pedantic -Werror"
    run_consumer consumer_pc
    uses_installed_lib consumer_pc
else
    bad "could not build consumer.c with pkg-config"
fi
step "what was built against the prefix runs without LD_LIBRARY_PATH"
# runpath_of FILE: its DT_RUNPATH (or DT_RPATH).
runpath_of() { readelf -d "$1" | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\].*/\2/p'; }
if [ -x "$tmp/consumer_pc" ]; then
    rp=$(runpath_of "$tmp/consumer_pc")
    [ "$rp" = "$libdir" ] && ok "consumer_pc has runpath ${libdir#"$tmp"/} (from ipcnet.pc)" ||
        bad "consumer_pc has runpath '$rp', not $libdir"
    out=$(env -u LD_LIBRARY_PATH "$tmp/consumer_pc" 2>&1) && [ "$out" = "ipcnet $version" ] &&
        ok "consumer_pc runs: $out" || bad "consumer_pc without LD_LIBRARY_PATH: $out"
    deps=$(env -u LD_LIBRARY_PATH ldd "$tmp/consumer_pc")
    grep -q "^[[:space:]]*$soname => $libdir/$soname " <<<"$deps" &&
        ok "consumer_pc loads $soname from the prefix by itself" ||
        bad "consumer_pc without LD_LIBRARY_PATH: $(grep ipcnet <<<"$deps" || echo 'not found')"
fi
cli_out=$(printf '[1, 2.5]' | env -u LD_LIBRARY_PATH "$prefix/bin/ipcnet" json2cbor | od -An -tx1 | words)
[ "$cli_out" = "82 01 f9 41 00" ] && ok "the installed ipcnet runs (json2cbor: $cli_out)" ||
    bad "the installed ipcnet json2cbor printed '$cli_out'"
# (through its $ORIGIN runpath: <prefix>/bin/../lib)
loaded=$(env -u LD_LIBRARY_PATH ldd "$prefix/bin/ipcnet" | sed -n "s/^[[:space:]]*$soname => \([^ ]*\) .*/\1/p")
[ -n "$loaded" ] && [ "$(readlink -f "$loaded")" = "$(readlink -f "$libdir/$soname")" ] &&
    ok "the installed ipcnet loads $soname from the prefix" ||
    bad "the installed ipcnet loads '$loaded'"
if [ -n "$pydir" ]; then
    py=$(cd "$tmp" && env -u LD_LIBRARY_PATH PYTHONPATH="$pydir" /usr/bin/python3 -c '
import ipcnet
print(ipcnet.__file__)
print(ipcnet.version())
print(" ".join(sorted({l.split()[-1] for l in open("/proc/self/maps") if "libipcnet" in l})))
' 2>&1) || true
    want=$(printf '%s\n%s\n%s' "$pydir/ipcnet/__init__.py" "$version" "$libdir/$realname")
    [ "$py" = "$want" ] && ok "import ipcnet from the prefix: $version, $realname of the prefix" ||
        bad "import ipcnet from the prefix: $py"
fi

step "pkg-config, as C++: $cxx -x c++"
if "$cxx" -x c++ -Wall -Wextra -Werror "${flags[@]}" "${pc_cflags[@]}" \
        "$here/consumer.c" -o "$tmp/consumer_cxx" -x none "${flags[@]}" "${pc_libs[@]}"; then
    ok "compiled and linked as C++"
    run_consumer consumer_cxx
else
    bad "could not build consumer.c as C++ (extern \"C\" guards?)"
fi

step "C++ binding: $cxx -std=c++17 with the installed ipcnet.hpp"
cat >"$tmp/consumer_hpp.cpp" <<'CPP'
#include <ipcnet_value.hpp> /* alone first: it brings ipcnet.hpp */
#include <ipcnet.hpp>
#include <cstdio>
int main()
{
    ipcn::CborWriter w;
    if (w.put_uint(7).finish().size() != 1)
        return 1;
    try {
        ipcn::Node n("not/a/name");
        return 1;
    } catch (const ipcn::Error &e) {
        if (e.status() != IPCN_BAD_REQUEST)
            return 1;
    }
    std::printf("ipcnet %s\n", ipcn::version());
    return 0;
}
CPP
if "$cxx" -std=c++17 -Wall -Wextra -Wpedantic -Werror "${flags[@]}" "${pc_cflags[@]}" \
        "$tmp/consumer_hpp.cpp" -o "$tmp/consumer_hpp" "${flags[@]}" "${pc_libs[@]}" -pthread; then
    ok "compiled ipcnet.hpp as C++17 with -Werror"
    run_consumer consumer_hpp
else
    bad "could not build a C++ program with the installed ipcnet.hpp"
fi

step "CMake: find_package(ipcnet) in tests/install/consumer"
if cmake -S "$here/consumer" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="${flags[*]}" \
        -DCMAKE_EXE_LINKER_FLAGS="${flags[*]}" >"$tmp/cmake.log" 2>&1 &&
   cmake --build "$tmp/cmake-build" -j"${JOBS:-2}" >>"$tmp/cmake.log" 2>&1; then
    grep -o 'ipcnet [0-9.]* from .*' "$tmp/cmake.log" | sed "s|$tmp/||" | sed 's/^/   /'
    found_dir=$(sed -n 's/^ipcnet_DIR:PATH=//p' "$tmp/cmake-build/CMakeCache.txt")
    [ "$found_dir" = "$libdir/cmake/ipcnet" ] || bad "find_package used $found_dir"
    cp "$tmp/cmake-build/consumer_shared" "$tmp/cmake-build/consumer_static" "$tmp/"
    run_consumer consumer_shared
    uses_installed_lib consumer_shared
    out=$(env -u LD_LIBRARY_PATH "$tmp/consumer_shared" 2>&1) && [ "$out" = "ipcnet $version" ] &&
        ok "consumer_shared runs without LD_LIBRARY_PATH" ||
        bad "consumer_shared without LD_LIBRARY_PATH: $out"
    run_consumer consumer_static
    if grep -q 'NEEDED.*libipcnet' <<<"$(readelf -d "$tmp/consumer_static")"; then
        bad "consumer_static (ipcnet::ipcnet_static) needs the shared library"
    else
        ok "consumer_static does not need libipcnet.so"
    fi
else
    cat "$tmp/cmake.log" >&2
    bad "the find_package(ipcnet) project did not configure or build"
fi

step "DESTDIR=<tmp>/stage cmake --install --prefix /opt/ipcnet"
if DESTDIR=$tmp/stage cmake --install "$build" --prefix /opt/ipcnet >"$tmp/destdir.log" 2>&1; then
    stray=$(find "$tmp/stage" -mindepth 1 -maxdepth 1 ! -name opt)
    stage_pc=$(find "$tmp/stage/opt/ipcnet" -name ipcnet.pc -print -quit)
    [ -f "$tmp/stage/opt/ipcnet/include/ipcnet.h" ] && [ -z "$stray" ] &&
        ok "files staged under DESTDIR" || bad "DESTDIR install misplaced files: $stray"
    grep -qx 'prefix=/opt/ipcnet' "$stage_pc" 2>/dev/null &&
        ok "staged ipcnet.pc has prefix=/opt/ipcnet" || bad "staged ipcnet.pc: $(grep ^prefix= "$stage_pc")"
    grep -qx 'Libs: -L${libdir} -Wl,-rpath,${libdir} -lipcnet' "$stage_pc" 2>/dev/null &&
        ok "staged ipcnet.pc has the rpath of /opt/ipcnet's libdir" ||
        bad "staged ipcnet.pc: $(grep ^Libs: "$stage_pc")"
else
    cat "$tmp/destdir.log" >&2
    bad "cmake --install with DESTDIR failed"
fi

step "DESTDIR=<tmp>/sys cmake --install --prefix /usr: no rpath where the loader looks anyway"
if DESTDIR=$tmp/sys cmake --install "$build" --prefix /usr >"$tmp/sys.log" 2>&1; then
    sys_pc=$(find "$tmp/sys/usr" -name ipcnet.pc -print -quit)
    grep -qx 'Libs: -L${libdir} -lipcnet' "$sys_pc" 2>/dev/null &&
        ok "ipcnet.pc for /usr: $(grep ^Libs: "$sys_pc")" ||
        bad "ipcnet.pc for /usr: $(grep ^Libs: "$sys_pc" 2>/dev/null)"
else
    cat "$tmp/sys.log" >&2
    bad "cmake --install --prefix /usr with DESTDIR failed"
fi

if [ "$failures" -ne 0 ]; then
    echo "test_install: $failures check(s) FAILED" >&2
    exit 1
fi
echo "test_install: all checks passed"
