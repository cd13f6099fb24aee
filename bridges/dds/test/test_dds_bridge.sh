#!/usr/bin/env bash
# bridges/dds/test/test_dds_bridge.sh - the DDS bridge end to end, inside a
# network namespace of its own with only loopback up, so that no DDS
# traffic (discovery included) leaves the test:
#   ipcn_peer (IPCNet)  <->  ipcnet-bridge-dds  <->  ros_peer (Cyclone DDS,
#   the ROS 2 wire form, built from the same IDL, not linked to libipcnet)
# See ipcn_peer.c and ros_peer.c for what each checks.  The namespace is
# unshare's (--net as root, -rn otherwise): it ends with the test's
# processes.  Exit 77 (skipped, with the reason) when neither can be made.
#
#   test_dds_bridge.sh BRIDGE ROS_PEER IPCN_PEER
set -u
bridge=$1 ros_peer=$2 ipcn_peer=$3
deadline=${DDS_TEST_SECONDS:-30}

if [ "${1:-}" != --inside ]; then
    if ! command -v ip >/dev/null 2>&1 || ! command -v unshare >/dev/null 2>&1; then
        echo "SKIP: no 'ip' (iproute2) or 'unshare' (util-linux): cannot make a network namespace"
        exit 77
    fi
    # a namespace that dies with its processes (nothing left behind if
    # ctest kills the test): unshare --net as root, else a user namespace
    if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
        exec unshare --net bash "$0" --inside "$@"
    elif unshare -rn true 2>/dev/null; then
        exec unshare -rn bash "$0" --inside "$@"
    fi
    echo "SKIP: cannot create a network namespace (unshare --net, unshare -rn)"
    exit 77
fi
ip link set lo up || { echo "FAIL: lo up in the namespace"; exit 1; }
shift
bridge=$1 ros_peer=$2 ipcn_peer=$3

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# Cyclone: loopback only, no multicast, the peers named (unicast discovery
# on 127.0.0.1), participant indexes for the few processes of the test.
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
export IPCNET_DIR="$tmp/ipcnet" IPCNET_NETWORK=ddstest
mkdir -m 700 "$IPCNET_DIR"
unset ROS_DOMAIN_ID

echo "+ ip addr (namespace): $(ip -o addr | awk '{print $2, $4}' | tr '\n' ' ')"
"$bridge" --name dds-bridge --verbose \
    --export 'camera/**' --export camera/image_raw --export robot/mode --export test/done \
    --export robot/battery-level --export robot/battery.level \
    --import cmd_vel:geometry_msgs/msg/Twist \
    --export-service robot/upper --export-service robot/hold \
    --import-service reverse=ros/reverse \
    --import-service missing=ros/missing --import-service badenc=ros/badenc \
    --import-service silent=ros/silent \
    --timeout 1000 --seconds $((deadline + 10)) 2>"$tmp/bridge.err" &
bpid=$!
pids+=("$bpid")
# a second bridge with --best-effort: its data writers stay reliable and
# transient local (ros_peer reads robot/status late); it imports rt/raw,
# whose every other sample has an encoding IPCNet refuses (counted)
"$bridge" --name dds-bridge-be --best-effort --export robot/status \
    --import raw:ipcnet_msgs/msg/Cbor \
    --seconds $((deadline + 10)) 2>"$tmp/bridge-be.err" &
bepid=$!
pids+=("$bepid")
"$ros_peer" "$deadline" >"$tmp/ros.out" 2>&1 &
rpid=$!
pids+=("$rpid")
# the IPCNet peer stays until ros_peer is done (test/done must reach the
# bridge before it leaves): stopped here with SIGTERM
"$ipcn_peer" "$deadline" >"$tmp/ipcn.out" 2>&1 &
ipid=$!
pids+=("$ipid")
wait "$rpid"
rrc=$?
kill -TERM "$ipid" 2>/dev/null
wait "$ipid"
irc=$?
# SIGUSR1: the counters now, the bridge running on
kill -USR1 "$bpid"
usr1=0
for _ in $(seq 200); do
    grep -q 'exported [0-9]' "$tmp/bridge.err" && { usr1=1; break; }
    sleep 0.05
done
kill -TERM "$bpid" "$bepid"
wait "$bpid"
brc=$?
wait "$bepid"
berc=$?
pids=()
cat "$tmp/ipcn.out" "$tmp/ros.out"
sed 's/^/  bridge: /' "$tmp/bridge.err"
sed 's/^/  bridge (best effort): /' "$tmp/bridge-be.err"
fail=0
[ "$irc" -eq 0 ] || { echo "FAIL: the IPCNet peer (exit $irc)"; fail=1; }
[ "$rrc" -eq 0 ] || { echo "FAIL: the ROS 2 peer (exit $rrc)"; fail=1; }
[ "$brc" -eq 0 ] || { echo "FAIL: the bridge (exit $brc)"; fail=1; }
[ "$berc" -eq 0 ] || { echo "FAIL: the best-effort bridge (exit $berc)"; fail=1; }
# a request to a DDS service with no server is answered 303 at once
# (counted); one whose server never answers 304 after --timeout
if ! grep -q 'no server [1-9]' "$tmp/bridge.err" ||
   ! grep -q 'ros/missing 303' "$tmp/ipcn.out"; then
    echo "FAIL: the bridge should answer (303) and count the request without a DDS server"; fail=1
fi
if ! grep -q 'timeouts [1-9]' "$tmp/bridge.err" ||
   ! grep -q 'ros/silent 304' "$tmp/ipcn.out"; then
    echo "FAIL: the bridge should answer (304) and count the request its DDS server left unanswered"; fail=1
fi
if ! grep -q 'bad replies [1-9]' "$tmp/bridge.err"; then
    echo "FAIL: the bridge should count the DDS reply whose encoding IPCNet cannot carry"; fail=1
fi
[ "$usr1" -eq 1 ] || { echo "FAIL: no counters from the bridge on SIGUSR1"; fail=1; }
if [ "$(grep -c 'exported [0-9]' "$tmp/bridge.err")" -ne 2 ]; then
    echo "FAIL: the bridge should print its counters twice (SIGUSR1, exit)"; fail=1
fi
if ! grep -q 'too many [1-9]' "$tmp/bridge.err"; then
    echo "FAIL: the bridge should answer 205 beyond 64 DDS requests in flight (robot/hold)"; fail=1
fi
if ! grep -q 'refused 1,' "$tmp/bridge.err"; then
    echo "FAIL: the bridge should refuse one of robot/battery-level and robot/battery.level (one topic)"; fail=1
fi
if ! grep -q 'unconvertible [1-9]' "$tmp/bridge-be.err"; then
    echo "FAIL: the best-effort bridge should count the rt/raw samples whose encoding IPCNet refuses"; fail=1
fi
if grep -q 'unconvertible [1-9]' "$tmp/bridge.err"; then
    echo "FAIL: the bridge could not convert some values"; fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS: image stream, latched data, Twist and services both ways through the DDS bridge"
exit "$fail"
