#!/usr/bin/env bash
# tests/integration/test_keys_cli.sh - `ipcnet keygen` and `ipcnet trust` in
# real processes: the key pair made once (0600 and 0644 in a 0700
# directory), the same key read again, --force, a key file others may read
# refused (202), trust add / list / remove with their conflicts (207), a
# network's own list, malformed lists named, usage errors.
#
#   bash tests/integration/test_keys_cli.sh path/to/ipcnet
#
# TAP output; exit 0 when every check passed, 1 otherwise.
set -u

BIN=${1:?usage: test_keys_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_keys_cli: $BIN is not an executable"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-keys-cli.XXXXXX")
export IPCNET_CONFIG_DIR="$W/conf"
unset IPCNET_NETWORK
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
trap 'rm -rf "$W"' EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"

mode() { stat -c %a "$1"; }
is() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: '$2', wanted '$3'"; fi; }

# ---- keygen ----
r 0 "keygen makes the key pair" "$BIN" keygen
K=$out
is "the public key is 44 characters" "${#K}" 44
contains "stderr says it was made" "$err" "made $W/conf/host.key"
is "host.key is 0600" "$(mode "$W/conf/host.key")" 600
is "host.pub is 0644" "$(mode "$W/conf/host.pub")" 644
is "the config directory is 0700" "$(mode "$W/conf")" 700
is "host.pub holds the public key" "$(cat "$W/conf/host.pub")" "$K"
lacks "host.key does not hold the public key" "$(cat "$W/conf/host.key")" "$K"
r 0 "keygen again" "$BIN" keygen
is "the same key" "$out" "$K"
contains "stderr says it was there" "$err" "already in $W/conf/host.key"
r 0 "keygen --json" "$BIN" keygen --json
jdoc "keygen --json: key, created, dir" "$out" \
    "d['key'] == '$K' and d['created'] is False and d['dir'] == '$W/conf'"
chmod 0640 "$W/conf/host.key"
r 1 "a key file the group may read is refused" "$BIN" keygen
contains "with 202" "$err" "202 Forbidden"
chmod 0604 "$W/conf/host.key"
r 1 "a key file others may read is refused" "$BIN" keygen
chmod 0600 "$W/conf/host.key"
r 0 "keygen --force makes a new key" "$BIN" keygen --force
K2=$out
if [ "$K2" != "$K" ] && [ ${#K2} = 44 ]; then ok "a new key"; else nok "a new key: $K2"; fi
is "host.pub follows" "$(cat "$W/conf/host.pub")" "$K2"
echo "not a key" >"$W/conf/host.key"
r 1 "a malformed key file" "$BIN" keygen
contains "with 200" "$err" "200 Bad Request"
r 2 "keygen takes no argument" "$BIN" keygen extra
r 2 "keygen takes no --name" "$BIN" keygen --name x

# ---- trust ----
A=$K
B=$K2
C=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
r 0 "trust list of nothing" "$BIN" trust list
is "prints nothing" "$out" ""
r 0 "trust add" "$BIN" trust add "$A" --name gpu-board
contains "says so" "$err" "trusted as gpu-board"
is "the list file is 0644" "$(mode "$W/conf/default/trusted")" 644
r 0 "trust add again, the same" "$BIN" trust add "$A" --name gpu-board
contains "says it was there" "$err" "already"
r 1 "the name with another key" "$BIN" trust add "$B" --name gpu-board
contains "207" "$err" "207 Conflict"
r 1 "the key with another name" "$BIN" trust add "$A" --name motor
contains "207 again" "$err" "207 Conflict"
r 0 "trust add a second" "$BIN" trust add "$B" --name motor
r 0 "trust add a third in another network" "$BIN" trust add "$C" --name cam --network lab
r 0 "trust list" "$BIN" trust list
contains "lists gpu-board" "$out" "gpu-board  $A"
contains "lists motor" "$out" "motor      $B"
lacks "not the other network's" "$out" "cam"
r 0 "trust list --json" "$BIN" trust list --json
jcheck "one object per host, in order" "$out" \
    "[x['name'] for x in d] == ['gpu-board', 'motor'] and d[1]['key'] == '$B'"
r 0 "the other network's list" env IPCNET_NETWORK=lab "$BIN" trust list --json
jcheck "holds cam alone" "$out" "[x['name'] for x in d] == ['cam']"
r 0 "trust remove by name" "$BIN" trust remove gpu-board
r 0 "trust remove by key" "$BIN" trust remove "$B"
r 1 "trust remove of a host not there" "$BIN" trust remove gpu-board
contains "203" "$err" "203 Not Found"
r 0 "trust list after" "$BIN" trust list
is "empty" "$out" ""

# bad arguments
r 2 "trust without a subcommand" "$BIN" trust
r 2 "an unknown subcommand" "$BIN" trust show
r 2 "add without --name" "$BIN" trust add "$A"
r 2 "add without KEY" "$BIN" trust add --name x
r 2 "add a key that is not one" "$BIN" trust add abc --name x
r 1 "add a bad host name" "$BIN" trust add "$A" --name "a b"
contains "200" "$err" "200 Bad Request"
r 1 "add a 44-character non-key" "$BIN" trust add "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=" --name x
r 2 "--name with list" "$BIN" trust list --name x
r 2 "remove without NAME" "$BIN" trust remove

# a malformed list: named, and left alone
printf '# hosts\nmain %s\nbroken-line\n' "$A" >"$W/conf/default/trusted"
r 1 "a malformed list is refused" "$BIN" trust list
contains "with 200" "$err" "200 Bad Request"
contains "the line is named" "$err" "line 3"
r 1 "and not added to" "$BIN" trust add "$B" --name motor
is "the file is as it was" "$(cat "$W/conf/default/trusted")" "$(printf '# hosts\nmain %s\nbroken-line' "$A")"

echo "1..$T"
[ "$F" = 0 ] && exit 0
echo "# $F of $T checks failed"
exit 1
