# shellcheck shell=bash
# tests/net/netns.sh - the harness of the multi-host tests, sourced by
# tests/net/test_net_*.sh: hosts as network namespaces joined by veth pairs,
# one IPCNet installation per host (its own IPCNET_DIR and IPCNET_CONFIG_DIR),
# host keys and trust lists, gateways, processes started in a host, and a
# cleanup that always runs.
#
# Names and addresses.  A test's namespaces are named
# ipcn-net-<TAG>-<PID>-<HOST> (PID: the test's shell), so two tests (or two
# builds) never share one, and leftovers of a test that was killed are
# found by their dead PID and removed when the next one starts.  Only
# namespaces of that form whose PID is dead are removed, nothing else.  The
# veth pairs are created inside the namespaces (never in the caller's), so
# they vanish with them.  Link N (1..99) between hosts of index i and j is
# the subnet 10.18.N.0/24: host i is 10.18.N.i on it, its interface is eN
# in both namespaces.  Nothing is routed between subnets: a host reaches
# its neighbours only, so whatever crosses more than one link was routed by
# IPCNet's gateways.
#
# The sourcing script sets nothing before; it calls net_init TAG SECONDS
# first, then the topology functions, and ends with net_finish (the TAP
# result as exit status).  Every check is TAP (helpers/tap.sh).
#
# Environment of the test: IPCNET_CLI (the ipcnet tool), NET_BIN (the
# directory of ipcn-net-proxy and ipcn-net-node).

. "$(dirname "${BASH_SOURCE[0]}")/../integration/helpers/tap.sh"

NET_HOSTS=()          # host names, in index order
declare -A NET_IDX    # host -> index (1..)
declare -A NET_PEERS  # host -> the tcp:// addresses its gateway dials
declare -A NET_KEY    # host -> its public key (after net_keys)
declare -A PID        # started processes: name -> pid
NET_PORT=7447
NET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# $NET_FRAMES reach ADDR: in a host, 0 when ADDR answers TCP, 1 when not.
export NET_FRAMES="/usr/bin/python3 $NET_DIR/net_frames.py"
NET_WATCHDOG=

net_ns() { echo "ipcn-net-$NET_TAG-$$-$1"; }

# net_log MSG: a TAP comment
net_log() { echo "# $*"; }

# Remove the namespaces and scratch directories of tests that died (their
# PID is gone), ours only.
net_remove_leftovers() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        [[ "$ns" =~ ^ipcn-net-[a-z0-9]+-([0-9]+)-[a-z0-9]+$ ]] || continue
        pid=${BASH_REMATCH[1]}
        [ "$pid" = "$$" ] && continue
        kill -0 "$pid" 2>/dev/null && continue
        net_log "removing the leftover namespace $ns (its test, pid $pid, is gone)"
        net_kill_ns_pids "$ns"
        ip netns del "$ns" 2>/dev/null
    done
    for ns in "${TMPDIR:-/tmp}"/ipcn-net-*; do
        [[ "${ns##*/}" =~ ^ipcn-net-[a-z0-9]+-([0-9]+)\.[A-Za-z0-9]{6}$ ]] || continue
        pid=${BASH_REMATCH[1]}
        [ "$pid" = "$$" ] || kill -0 "$pid" 2>/dev/null || rm -rf "$ns"
    done
}

# Processes still inside a namespace of ours: started by this test (or by
# what it started), ended by their PID.
net_kill_ns_pids() {
    local p
    for p in $(ip netns pids "$1" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
}

net_cleanup() {
    local n h i
    trap - EXIT INT TERM
    for n in "${!PID[@]}"; do kill -TERM "${PID[$n]}" 2>/dev/null; done
    for ((i = 0; i < 40; i++)); do
        local alive=0
        for n in "${!PID[@]}"; do kill -0 "${PID[$n]}" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.05
    done
    for n in "${!PID[@]}"; do kill -KILL "${PID[$n]}" 2>/dev/null; done
    for h in "${NET_HOSTS[@]}"; do
        net_kill_ns_pids "$(net_ns "$h")"
        ip netns del "$(net_ns "$h")" 2>/dev/null
    done
    [ -n "$NET_WATCHDOG" ] && kill "$NET_WATCHDOG" 2>/dev/null
    wait 2>/dev/null
    [ -n "${W:-}" ] && [ "${NET_KEEP:-0}" != 1 ] && rm -rf "$W"
}

# net_init TAG SECONDS: scratch directory W, cleanup on any exit, a
# watchdog that ends the test after SECONDS; skip (exit 77, with the
# reason) when this is not root or the kernel refuses network namespaces.
net_init() {
    NET_TAG=$1
    [ "$(id -u)" = 0 ] || { echo "1..0 # SKIP network namespaces need root"; exit 77; }
    command -v ip >/dev/null || { echo "1..0 # SKIP no 'ip' command (iproute2)"; exit 77; }
    net_remove_leftovers
    local probe
    probe=$(net_ns probe)
    if ! ip netns add "$probe" 2>"/tmp/.ipcn-net-$$.err"; then
        echo "1..0 # SKIP the kernel refuses 'ip netns add': $(cat "/tmp/.ipcn-net-$$.err")"
        rm -f "/tmp/.ipcn-net-$$.err"
        exit 77
    fi
    rm -f "/tmp/.ipcn-net-$$.err"
    ip netns del "$probe"
    W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-net-$NET_TAG-$$.XXXXXX")
    trap net_cleanup EXIT
    trap 'exit 1' INT TERM
    # Bound in time whatever happens: the watchdog ends us (and the trap
    # cleans up) after SECONDS.
    local me=$$
    (
        sleep "$2" &
        s=$!
        trap 'kill $s 2>/dev/null; exit 0' TERM
        wait $s
        echo "# watchdog: $NET_TAG ran over $2 s"
        # The shell runs its trap only once its foreground command ends:
        # end that command (its children, not this watchdog) too.
        kill -TERM $me
        for p in $(pgrep -P $me); do [ "$p" = "$BASHPID" ] || kill -TERM "$p"; done
    ) &
    NET_WATCHDOG=$!
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_LISTEN IPCNET_PEERS
}

# net_host NAME: a host (a namespace with lo up, its own directories).
net_host() {
    local h=$1 ns
    ns=$(net_ns "$h")
    ip netns add "$ns" || return 1
    ip -n "$ns" link set lo up
    NET_HOSTS+=("$h")
    NET_IDX[$h]=${#NET_HOSTS[@]}
    NET_PEERS[$h]=""
    mkdir -p "$W/$h/run" "$W/$h/config"
    chmod 700 "$W/$h/config"
}

# net_addr HOST N: the address of HOST on link N
net_addr() { echo "10.18.$2.${NET_IDX[$1]}"; }

# net_link A B N: a veth pair eN between A and B, subnet 10.18.N.0/24; the
# gateway of A (the host listed first) dials B's.
net_link() {
    local a=$1 b=$2 n=$3 na nb
    na=$(net_ns "$a")
    nb=$(net_ns "$b")
    ip -n "$na" link add "e$n" type veth peer name "e$n" netns "$nb" || return 1
    ip -n "$na" addr add "$(net_addr "$a" "$n")/24" dev "e$n"
    ip -n "$nb" addr add "$(net_addr "$b" "$n")/24" dev "e$n"
    ip -n "$na" link set "e$n" up
    ip -n "$nb" link set "e$n" up
    NET_PEERS[$a]+="${NET_PEERS[$a]:+,}tcp://$(net_addr "$b" "$n"):$NET_PORT"
}

# net_link_set A N up|down: one end of link N, as a cable pulled out.
net_link_set() { ip -n "$(net_ns "$1")" link set "e$2" "$3"; }

# Topologies.  Line of 3: a - b - c (links 1, 2).
net_topo_line3() {
    net_host a && net_host b && net_host c &&
        net_link a b 1 && net_link b c 2
}
# Ring of 5 with a chord: a - b - c - d - e - a (links 1..5) and the chord
# b - e (link 6).  From a to c: a-b-c (one router) is the best way; without
# link 1 the best are a-e-b-c and a-e-d-c (two routers).
net_topo_ring5() {
    net_host a && net_host b && net_host c && net_host d && net_host e &&
        net_link a b 1 && net_link b c 2 && net_link c d 3 &&
        net_link d e 4 && net_link a e 5 && net_link b e 6
}

# net_cmd HOST: NET_CMD is the command prefix that runs a command in HOST's
# namespace with HOST's IPCNet directories (ip netns exec and env exec it:
# the same process).
net_cmd() {
    NET_CMD=(ip netns exec "$(net_ns "$1")" env IPCNET_DIR="$W/$1/run"
             IPCNET_CONFIG_DIR="$W/$1/config")
}

# net_run HOST CMD...: run CMD in HOST to its end (bounded by TAP_TIMEOUT
# when set), as a TAP-less command: its status is returned.
net_run() {
    local h=$1
    shift
    net_cmd "$h"
    "${NET_CMD[@]}" ${TAP_TIMEOUT:+timeout "$TAP_TIMEOUT"} "$@"
}

# net_r WANT DESC HOST CMD...: as tap.sh's r, in HOST.
net_r() {
    local want=$1 desc=$2 h=$3
    shift 3
    net_cmd "$h"
    r "$want" "$desc" "${NET_CMD[@]}" "$@"
}

# net_start HOST NAME CMD...: start CMD in HOST in the background; output
# in $W/NAME.out and $W/NAME.err.  PID[NAME] is the command's own pid
# (a simple command in the background: ip, env and CMD are one process).
net_start() {
    local h=$1 name=$2
    shift 2
    net_cmd "$h"
    "${NET_CMD[@]}" "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    PID[$name]=$!
}

# net_stop NAME [SIGNAL]: end a started process (TERM, KILL after 5 s);
# $rc is its exit status.
net_stop() {
    local name=$1 i
    [ -n "${PID[$name]:-}" ] || return 0
    kill "-${2:-TERM}" "${PID[$name]}" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "${PID[$name]}" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "${PID[$name]}" 2>/dev/null
    wait "${PID[$name]}" 2>/dev/null
    rc=$?
    unset "PID[$name]"
}

# net_wait_file FILE REGEX SECONDS: until FILE has a line matching REGEX.
net_wait_file() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# net_wait_cmd SECONDS CMD...: until CMD succeeds (every 0.2 s).
net_wait_cmd() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 5; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# net_keygen HOST: HOST's key pair (ipcnet keygen), NET_KEY[HOST] its
# public key.  net_trust A B: A trusts B's key as host B (ipcnet trust
# add).  net_keys: a key on every host, every host trusting every other by
# the same names.
#
# Until the tool has `keygen` and `trust` (issue 18's H1), the files they
# write are written here as docs/protocol.md 19.1 defines them: host.key
# (base64 of the X25519 private key, 0600), host.pub, and the network's
# trust list "NAME KEY" (the key pair made by python3's cryptography).
net_keygen() {
    local h=$1
    if "$IPCNET_CLI" keygen --help >/dev/null 2>&1; then
        net_run "$h" "$IPCNET_CLI" keygen >"$W/$h/keygen.out" 2>&1 || {
            cat "$W/$h/keygen.out"
            return 1
        }
    else
        [ -n "${NET_KEYGEN_NOTED:-}" ] ||
            net_log "$IPCNET_CLI has no keygen yet: host keys written by python3 (X25519)"
        NET_KEYGEN_NOTED=1
        /usr/bin/python3 - "$W/$h/config" <<'PY' || return 1
import base64, os, sys
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization as s
k = X25519PrivateKey.generate()
raw = k.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())
pub = k.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
d = sys.argv[1]
fd = os.open(os.path.join(d, "host.key"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, base64.b64encode(raw) + b"\n")
os.close(fd)
with open(os.path.join(d, "host.pub"), "wb") as f:
    f.write(base64.b64encode(pub) + b"\n")
PY
    fi
    NET_KEY[$h]=$(tr -d '\n' <"$W/$h/config/host.pub")
    [ "${#NET_KEY[$h]}" = 44 ]
}
net_trust() {
    if "$IPCNET_CLI" trust --help >/dev/null 2>&1; then
        net_run "$1" "$IPCNET_CLI" trust add "${NET_KEY[$2]}" --name "$2" >"$W/trust.out" 2>&1 ||
            { cat "$W/trust.out"; return 1; }
    else
        mkdir -p "$W/$1/config/default"
        echo "$2 ${NET_KEY[$2]}" >>"$W/$1/config/default/trusted"
    fi
}
# net_untrust A B: A trusts B no more (ipcnet trust remove).
net_untrust() {
    if "$IPCNET_CLI" trust --help >/dev/null 2>&1; then
        net_run "$1" "$IPCNET_CLI" trust remove "$2" >"$W/trust.out" 2>&1 ||
            { cat "$W/trust.out"; return 1; }
    else
        sed -i "/^$2 /d" "$W/$1/config/default/trusted"
    fi
}
net_keys() {
    local h o
    for h in "${NET_HOSTS[@]}"; do net_keygen "$h" || return 1; done
    for h in "${NET_HOSTS[@]}"; do
        for o in "${NET_HOSTS[@]}"; do
            [ "$h" = "$o" ] || net_trust "$h" "$o" || return 1
        done
    done
}

# net_gateway HOST: start `ipcnet gateway` on HOST, listening on every
# address of it, dialling the peers its links gave it (IPCNET_LISTEN,
# IPCNET_PEERS).  Named gw-HOST.
net_gateway() {
    local h=$1
    net_start "$h" "gw-$h" env IPCNET_LISTEN="tcp://0.0.0.0:$NET_PORT" \
        IPCNET_PEERS="${NET_PEERS[$h]}" IPCNET_LOG="${NET_LOG:-info}" \
        "$IPCNET_CLI" --name "gw-$h" gateway
}

# net_have_gateway: the tool has the `gateway` verb (issue 18's H2).
net_have_gateway() { "$IPCNET_CLI" gateway --help >/dev/null 2>&1; }
# net_node_has FEATURE: ipcn-net-node was built with it (gateway, routing).
net_node_has() { "$NET_BIN/ipcn-net-node" --features | grep -qx "$1"; }

# net_finish: the TAP plan and the exit status.
net_finish() {
    echo "1..$T"
    [ "$F" = 0 ]
    exit $?
}

# net_show NAME: a started process's output, for a failed check.
net_show() { printf 'out:\n%s\nerr:\n%s\n' "$(tail -n 20 "$W/$1.out" 2>/dev/null)" \
    "$(tail -n 20 "$W/$1.err" 2>/dev/null)"; }
