#!/usr/bin/env bash
# scripts/check-layers.sh - check that the library's layers call only downward.
#
#   scripts/check-layers.sh [BUILD_DIR]      (default: build)
#
# Reads the object files of the library (BUILD_DIR/CMakeFiles/ipcnet_obj.dir/
# src/<layer>/*.o) with nm: each global symbol a file defines belongs to that
# file's layer; each symbol a file leaves undefined is a call or a reference
# it makes.  A reference from a layer to a symbol defined in a higher layer
# is a violation, unless the symbol is one of the ENTRY points below: the one
# door through which a lower layer hands what it received up.
#
# The allowed order, lowest first (the README's layout table says the same):
ORDER=(util wire value msg media policy transport shm node engine files)
# Symbols a lower layer may call in a higher one: the single entry up.
# ipcn__engine_in (src/engine/entry.c) is the engine's one door.  The
# inbound pipeline runs below it: link (transport/link_io.c: bytes in,
# frames checked) -> identity (transport/identity.c: the principal, fixed
# at accept and hello) -> gate (transport/gate.c: per-peer limits) -> route
# (transport/route.c: hops, source, destination) -> ipcn__engine_in, which
# hands each frame to its verb handler (directory, pub/sub, query, request,
# shm).  Link up, link down, the timer, dispatch and the node's close reach
# the engine through the same entry, as events of one kind each
# (engine/entry.h).  A symbol, not a function pointer, so that this script
# sees every way up.  (files/ learns of a node's close through a hook it
# sets on the node: files is above the core, like an application.)
ENTRY=(ipcn__engine_in)
#
# Prints one line per violation (from-file -> symbol, defined in to-file) and
# a summary; exit status 0 when there is none, 1 when there are, 2 when the
# objects are missing.  Objects whose source file is gone (left in a build
# directory by an older tree) are ignored.
set -uo pipefail

dir=${1:-build}
objs="$dir/CMakeFiles/ipcnet_obj.dir/src"
if [ ! -d "$objs" ]; then
    echo "check-layers: no objects in $objs (build first: scripts/build.sh normal)" >&2
    exit 2
fi

declare -A rank=()
for i in "${!ORDER[@]}"; do rank[${ORDER[$i]}]=$i; done
entry=" ${ENTRY[*]} "

src=$(cd "$(dirname "$0")/../src" && pwd) || exit 2
cd "$objs" || exit 2
# The objects of sources that still exist.
objects=()
for o in */*.o; do
    [ -f "$src/${o%.o}" ] && objects+=("$o")
done
defs=$(mktemp) || exit 2
trap 'rm -f "$defs"' EXIT
unknown=0
for o in "${objects[@]}"; do
    layer=${o%%/*}
    if [ -z "${rank[$layer]+x}" ]; then
        echo "check-layers: $layer/ is not in the ORDER list of $0" >&2
        unknown=1
        continue
    fi
    nm --defined-only -g "$o" | awk -v l="$layer" -v f="$o" 'NF == 3 {print $3, l, f}'
done > "$defs"
[ "$unknown" = 0 ] || exit 1

violations=0
for o in "${objects[@]}"; do
    layer=${o%%/*}
    while read -r sym to_layer to_file; do
        [ "${rank[$to_layer]}" -gt "${rank[$layer]}" ] || continue
        case "$entry" in *" $sym "*) continue ;; esac
        echo "  $o -> $sym  (defined in $to_file: $layer calls up into $to_layer)"
        violations=$((violations + 1))
    done < <(nm -u "$o" | awk '{print $2}' | sort -u |
             awk 'NR == FNR {d[$1] = $2 " " $3; next} ($1 in d) {print $1, d[$1]}' "$defs" -)
done

if [ "$violations" -gt 0 ]; then
    echo "check-layers: $violations upward reference(s); allowed order: ${ORDER[*]}"
    exit 1
fi
echo "check-layers: no upward reference; order: ${ORDER[*]}"
