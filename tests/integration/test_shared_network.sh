#!/usr/bin/env bash
# tests/integration/test_shared_network.sh - a network shared by the users of
# a Unix group, with real users (helpers/test-users.sh): made by `ipcnet
# network create` as root; a provider run as ipcnt_a and a client as ipcnt_b
# (both in ipcnt_robot) call each other; ipcnt_c (not in it) cannot join nor
# connect; `ipcnet nodes --json` tells each peer's principal; a dead node of
# another user is left in place, neither swept nor waited for.
#
#   bash tests/integration/test_shared_network.sh path/to/ipcnet
#
# TAP lines; exit 0 when every check passed, 1 otherwise, 77 when it cannot
# run (not root, no setpriv, no python3).
set -u

BIN=${1:?usage: test_shared_network.sh path/to/ipcnet}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -x "$BIN" ] || { echo "test_shared_network: $BIN is not an executable"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "test_shared_network: SKIP: needs root (real users)"; exit 77; }
command -v setpriv >/dev/null || { echo "test_shared_network: SKIP: no setpriv"; exit 77; }
command -v python3 >/dev/null || { echo "test_shared_network: SKIP: no python3"; exit 77; }
bash "$HERE/helpers/test-users.sh" ensure
rc=$?
[ $rc = 0 ] || { echo "test_shared_network: test users not available ($rc)"; exit $rc; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-shared-test.XXXXXX")
chmod 0755 "$W" # the test users go through it, and no further
BASE="$W/run"
NET=robot
DIR="$BASE/$NET"
unset IPCNET_NETWORK XDG_RUNTIME_DIR IPCNET_DIR
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

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

# as USER CMD...: run CMD as USER with USER's groups, in the shared network.
# A script, not a function, so that a process started in the background is
# CMD itself (setpriv and env exec it): its pid is the one to kill.
cat >"$W/as" <<EOF
#!/bin/sh
u=\$1
shift
exec setpriv --reuid="\$u" --regid="\$u" --init-groups \\
    env IPCNET_DIR="$BASE" IPCNET_NETWORK="$NET" "\$@"
EOF
chmod 0755 "$W/as"
as() { "$W/as" "$@"; }

# r WANT_RC DESC CMD...: run to its end; keeps $rc $out $err.
r() {
    local want=$1 desc=$2
    shift 2
    "$@" >"$W/out" 2>"$W/err" </dev/null
    rc=$?
    out=$(cat "$W/out")
    err=$(cat "$W/err")
    if [ "$rc" = "$want" ]; then ok "$desc (exit $rc)"; else nok "$desc: exit $rc, wanted $want" "$(show)"; fi
}
contains() {
    if grep -qF -- "$3" <<<"$2"; then ok "$1"; else nok "$1: '$3' not found" "$2"; fi
}
jcheck() {
    local desc=$1 text=$2 expr=$3 res
    res=$(python3 -c '
import json, sys
d = [json.loads(l) for l in sys.stdin.read().split("\n") if l.strip()]
sys.exit(0 if eval(sys.argv[1], {"d": d}) else 3)' "$expr" <<<"$text" 2>&1)
    case $? in
        0) ok "$desc" ;;
        3) nok "$desc: false: $expr" "$text" ;;
        *) nok "$desc: not JSON lines ($res)" "$text" ;;
    esac
}
# stat_is DESC FILE "OWNER GROUP MODE"
stat_is() {
    local got
    got=$(stat -c '%U %G %a' "$2" 2>&1)
    [ "$got" = "$3" ] && ok "$1 ($got)" || nok "$1: $got, wanted $3"
}
start() {
    local name=$1
    shift
    "$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
    PID[$name]=$!
}
# wait_sock NAME: (bounded) until node NAME's socket is in the network.
wait_sock() {
    local i
    for ((i = 0; i < 400; i++)); do
        [ -S "$DIR/$1.sock" ] && return 0
        sleep 0.05
    done
    return 1
}

as ipcnt_a test -x "$W" ||
    { echo "test_shared_network: SKIP: the test users cannot reach $W (TMPDIR)"; exit 77; }

# The binary must be one the test users can run: else a copy of it (and of
# the library beside it) in a directory they can read.
if ! as ipcnt_a "$BIN" --version >/dev/null 2>&1; then
    mkdir -p "$W/bin"
    cp "$BIN" "$W/bin/ipcnet"
    lib=$(ldd "$BIN" | awk '/libipcnet/ {print $3}')
    [ -n "$lib" ] && cp -L "$lib" "$W/bin/"
    chmod -R a+rX "$W/bin"
    BIN="$W/bin/ipcnet"
    export LD_LIBRARY_PATH="$W/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    as ipcnt_a "$BIN" --version >/dev/null 2>&1 ||
        { echo "test_shared_network: SKIP: the test users cannot run $BIN"; exit 77; }
fi
BIN_REAL=$(readlink -f "$BIN")
BIN_SHA=$(sha256sum "$BIN_REAL" | cut -d' ' -f1)
UID_A=$(id -u ipcnt_a)
UID_B=$(id -u ipcnt_b)
GID_ROBOT=$(getent group ipcnt_robot | cut -d: -f3)

# ---------------------------------------------------------------- create
printf 'version: 1\ndefault: allow\n' >"$W/policy.yaml"
r 2 "network create without --group" "$BIN" network create "$NET" --dir "$BASE"
r 1 "network create for no such group" "$BIN" network create "$NET" --dir "$BASE" \
    --group ipcnt_no_such_group
contains "... says so" "$err" "no Unix group"
r 0 "network create as root" "$BIN" network create "$NET" --group ipcnt_robot \
    --dir "$BASE" --policy "$W/policy.yaml"
stat_is "the base: root's, 0755" "$BASE" "root root 755"
stat_is "the network: root, ipcnt_robot, 3770" "$DIR" "root ipcnt_robot 3770"
stat_is "the policy: root's, 0644" "$DIR/policy.yaml" "root ipcnt_robot 644"
cmp -s "$W/policy.yaml" "$DIR/policy.yaml" && ok "the policy is the file given" ||
    nok "the policy differs from the file given"
r 0 "network create again, the same: not an error" "$BIN" network create "$NET" \
    --group ipcnt_robot --dir "$BASE"
r 1 "network create again for another group" "$BIN" network create "$NET" \
    --group ipcnt_ops --dir "$BASE"
contains "... is a conflict (207), left alone" "$err" "207"
stat_is "... and the network is unchanged" "$DIR" "root ipcnt_robot 3770"
r 0 "network show --json" "$BIN" network show "$NET" --dir "$BASE" --json
jcheck "network show: owner, group, mode, policy" "$out" \
    "len(d)==1 and d[0]['owner']=='root' and d[0]['group']=='ipcnt_robot' and d[0]['gid']==$GID_ROBOT and d[0]['mode']=='3770' and d[0]['shared'] is True and d[0]['policy']['mode']=='0644' and d[0]['policy']['owner']=='root'"
r 0 "network show" "$BIN" network show "$NET" --dir "$BASE"
contains "network show says shared" "$out" "layout   shared"

# ---------------------------------------------------------------- two users
start prov "$W/as" ipcnt_a "$BIN" offer svc/echo --echo --name prov-a
wait_sock prov-a && ok "ipcnt_a's provider joined the shared network" ||
    nok "ipcnt_a's provider did not bind" "$(cat "$W/prov.err")"
stat_is "its socket: ipcnt_a, the group, 0660" "$DIR/prov-a.sock" "ipcnt_a ipcnt_robot 660"
stat_is "its lock: ipcnt_a, 0600" "$DIR/prov-a.lock" "ipcnt_a ipcnt_robot 600"

r 0 "ipcnt_b calls ipcnt_a's service" as ipcnt_b "$BIN" call svc/echo '{"x": 1}'
[ "$out" = '{"x":1}' ] && ok "... and gets the answer" || nok "... got" "$(show)"
# The other way round: ipcnt_b provides, ipcnt_a calls; "aaa" sorts before
# "prov-a", so this time ipcnt_b's node is the one that accepts.
start provb "$W/as" ipcnt_b "$BIN" offer svc/echo-b --echo --name aaa-b
wait_sock aaa-b && ok "ipcnt_b's provider joined" || nok "ipcnt_b's provider did not bind" \
    "$(cat "$W/provb.err")"
r 0 "ipcnt_a calls ipcnt_b's service" as ipcnt_a "$BIN" call svc/echo-b '[2]' --name zz-a
[ "$out" = '[2]' ] && ok "... and gets the answer" || nok "... got" "$(show)"

# A name another user holds cannot be taken.
r 1 "ipcnt_b cannot take ipcnt_a's name" as ipcnt_b "$BIN" nodes --name prov-a --wait 300
contains "... 207" "$err" "207"
# Nor one whose lock file another user left open to the group (not made
# by a node: nodes make theirs 0600 whatever the umask).
as ipcnt_a sh -c "touch '$DIR/legacy.lock' && chmod 0660 '$DIR/legacy.lock'"
r 1 "ipcnt_b cannot take a name whose lock is ipcnt_a's, even group-writable" \
    as ipcnt_b "$BIN" nodes --name legacy --wait 300
contains "... 207" "$err" "207"
stat_is "... and the lock is left as it was" "$DIR/legacy.lock" "ipcnt_a ipcnt_robot 660"

# ---------------------------------------------------------------- principals
r 0 "nodes --json as ipcnt_b" as ipcnt_b "$BIN" nodes --json
jcheck "ipcnt_b sees ipcnt_a's provider: uid, user, groups" "$out" \
    "any(n['name']=='prov-a' and n['uid']==$UID_A and n['user']=='ipcnt_a' and $GID_ROBOT in [g['gid'] for g in n['groups']] for n in d)"
jcheck "... and not its executable (another user's /proc/<pid>/exe)" "$out" \
    "any(n['name']=='prov-a' and n['exe'] is None and n['exe_sha256'] is None for n in d)"
jcheck "... its own user's provider with its executable" "$out" \
    "any(n['name']=='aaa-b' and n['uid']==$UID_B and n['exe']=='$BIN_REAL' and n['exe_sha256']=='$BIN_SHA' for n in d)"
# root, in the group, reads every executable.
r 0 "nodes --json as root in the group" setpriv --groups="$GID_ROBOT" \
    env IPCNET_DIR="$BASE" IPCNET_NETWORK="$NET" "$BIN" nodes --json
jcheck "root sees ipcnt_a's provider: uid, user, executable and its SHA-256" "$out" \
    "any(n['name']=='prov-a' and n['uid']==$UID_A and n['user']=='ipcnt_a' and n['exe']=='$BIN_REAL' and n['exe_sha256']=='$BIN_SHA' for n in d)"
r 0 "nodes (text) as root in the group" setpriv --groups="$GID_ROBOT" \
    env IPCNET_DIR="$BASE" IPCNET_NETWORK="$NET" "$BIN" nodes
contains "nodes prints ipcnt_a's user" "$out" "ipcnt_a($UID_A)"
contains "nodes prints the first 12 hex digits of the SHA-256" "$out" "${BIN_SHA:0:12}"

# ---------------------------------------------------------------- outsiders
r 1 "ipcnt_c (not in the group) cannot join" as ipcnt_c "$BIN" call svc/echo '1'
contains "... 202" "$err" "202"
r 1 "root outside the group does not join either" \
    env IPCNET_DIR="$BASE" IPCNET_NETWORK="$NET" "$BIN" nodes --wait 300
r 0 "ipcnt_c cannot even connect to a socket in it" as ipcnt_c python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect('$DIR/prov-a.sock')
except PermissionError:
    sys.exit(0)
sys.exit('connected')"
r 0 "ipcnt_c cannot list the directory" as ipcnt_c python3 -c "
import os, sys
try:
    os.listdir('$DIR')
except PermissionError:
    sys.exit(0)
sys.exit('listed')"
r 1 "ipcnt_b cannot remove ipcnt_a's socket (sticky)" as ipcnt_b rm -f "$DIR/prov-a.sock"
[ -S "$DIR/prov-a.sock" ] && ok "... it is still there" || nok "ipcnt_a's socket was removed"

# ---------------------------------------------------------------- a dead node of another user
kill -KILL "${PID[prov]}"
wait "${PID[prov]}" 2>/dev/null
unset 'PID[prov]'
r 0 "ipcnt_b joins with ipcnt_a's dead node in the directory" \
    as ipcnt_b env IPCNET_LOG=info "$BIN" nodes --json --wait 2000
jcheck "... sees only the live provider" "$out" "[n['name'] for n in d]==['aaa-b']"
contains "... says once that it leaves the dead node's files" "$err" "IPCN-RDV-STALE"
[ "$(grep -c 'IPCN-RDV-STALE' <<<"$err")" = 1 ] && ok "... once" ||
    nok "the stale files were logged more than once" "$err"
[ -S "$DIR/prov-a.sock" ] && [ -f "$DIR/prov-a.lock" ] &&
    ok "ipcnt_a's files are left in place" || nok "ipcnt_a's files were removed"
r 1 "the dead node's name is still not ipcnt_b's" as ipcnt_b "$BIN" nodes --name prov-a --wait 300
start prov2 "$W/as" ipcnt_a "$BIN" offer svc/echo --echo --name prov-a
for ((i = 0; i < 400; i++)); do
    grep -q "offering" "$W/prov2.out" 2>/dev/null && break
    kill -0 "${PID[prov2]}" 2>/dev/null || break
    sleep 0.05
done
r 0 "ipcnt_a's node restarts under its name; ipcnt_b calls it" \
    as ipcnt_b "$BIN" call svc/echo '"again"'
[ "$out" = '"again"' ] && ok "... and gets the answer" || nok "... got" "$(show)"

echo "1..$T"
[ "$F" = 0 ] && exit 0 || exit 1
