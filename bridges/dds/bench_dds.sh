#!/usr/bin/env bash
# bridges/dds/bench_dds.sh - the DDS bridge against a direct Cyclone DDS
# pair, in one run: round trips through an echo peer (dds_ros_peer
# bench-echo), first from a DDS program (direct), then from an IPCNet node
# through ipcnet-bridge-dds (bridged: two crossings per round trip).
# Cyclone is confined to loopback, in a network namespace of its own
# (unshare; skipped with 77 when none can be made).
#
#   bridges/dds/bench_dds.sh [BIN_DIR] [--count N] [--size BYTES ...]
#   (BIN_DIR: default build/bin; several --size: a row pair per size)
set -u
bin=build/bin
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then bin=$1; shift; fi
count=1000 sizes=()
while [ $# -gt 0 ]; do
    case "$1" in
        --count) count=$2; shift 2 ;;
        --size) sizes+=("$2"); shift 2 ;;
        --inside) shift ;;
        *) echo "bench_dds.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ ${#sizes[@]} -eq 0 ] && sizes=(64 65536)
for p in ipcnet-bridge-dds ipcnet-bench-dds dds_ros_peer; do
    [ -x "$bin/$p" ] || { echo "bench_dds.sh: no $bin/$p (build with Cyclone DDS)" >&2; exit 2; }
done
bin=$(cd "$bin" && pwd)

# A network namespace of its own with only loopback (unshare: it ends with
# the run's processes): never the host's loopback and DDS domain 0, where
# other DDS programs may be.  Exit 77 when no namespace can be made.
if [ -z "${IPCNET_BENCH_DDS_NS:-}" ]; then
    args=()
    for s in "${sizes[@]}"; do args+=(--size "$s"); done
    if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
        IPCNET_BENCH_DDS_NS=1 exec unshare --net bash "$0" "$bin" --count "$count" "${args[@]}"
    elif unshare -rn true 2>/dev/null; then
        IPCNET_BENCH_DDS_NS=1 exec unshare -rn bash "$0" "$bin" --count "$count" "${args[@]}"
    fi
    echo "SKIP: bench_dds.sh: cannot create a network namespace (unshare --net, unshare -rn)"
    exit 77
fi
if ! ip link set lo up; then
    echo "bench_dds.sh: cannot bring up loopback in the namespace" >&2
    exit 1
fi

tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
cat > "$tmp/cyclone.xml" <<'XML'
<CycloneDDS><Domain id="any">
  <General><Interfaces><NetworkInterface name="lo"/></Interfaces>
    <AllowMulticast>false</AllowMulticast></General>
  <Discovery><ParticipantIndex>auto</ParticipantIndex>
    <MaxAutoParticipantIndex>9</MaxAutoParticipantIndex>
    <Peers><Peer address="127.0.0.1"/></Peers></Discovery>
</Domain></CycloneDDS>
XML
export CYCLONEDDS_URI="file://$tmp/cyclone.xml"
export IPCNET_DIR="$tmp/ipcnet" IPCNET_NETWORK=ddsbench
mkdir -m 700 "$IPCNET_DIR"
unset ROS_DOMAIN_ID

"$bin/dds_ros_peer" bench-echo & pids+=($!)
"$bin/ipcnet-bridge-dds" --name dds-bridge --export bench/ping \
    --import bench/pong:ipcnet_msgs/msg/Cbor=bench/pong 2>"$tmp/bridge.err" & pids+=($!)
rc=0
for s in "${sizes[@]}"; do
    "$bin/ipcnet-bench-dds" direct --count "$count" --size "$s" || rc=1
    "$bin/ipcnet-bench-dds" bridged --count "$count" --size "$s" || rc=1
done
[ "$rc" -eq 0 ] || sed 's/^/  bridge: /' "$tmp/bridge.err" >&2
exit "$rc"
