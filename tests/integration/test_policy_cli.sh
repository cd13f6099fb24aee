#!/usr/bin/env bash
# tests/integration/test_policy_cli.sh - `ipcnet policy check` and `ipcnet
# policy explain` in real processes: good and bad files (with their line
# and reason), the owner and mode rule under --strict, explain for each way
# a decision is made (deny rule, allow rule, default, 201, audit), as a
# user, as a described principal and as a live node, and where the default
# policy file is looked for.
#
#   bash tests/integration/test_policy_cli.sh path/to/ipcnet
#
# TAP output; exit 0 when every check passed, 1 otherwise.
set -u

BIN=${1:?usage: test_policy_cli.sh path/to/ipcnet}
[ -x "$BIN" ] || { echo "test_policy_cli: $BIN is not an executable"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ipcn-policy-cli.XXXXXX")
export IPCNET_DIR="$W/net"
unset IPCNET_NETWORK IPCNET_POLICY XDG_RUNTIME_DIR
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

BG=""
cleanup() {
    [ -n "$BG" ] && kill -KILL "$BG" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/helpers/tap.sh"


SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
P="$W/robot.yaml"
cat >"$P" <<YAML
# a default-deny robot policy
version: 1
default: deny
groups:
  drivers: ["node:cam-*", "node:motor"]
  checked: ["exe:/usr/bin/true sha256:$SHA"]
rules:
  - allow: [read, execute]
    who: ["user:root", "group:drivers"]
    what: ["motors/**", "camera/*"]
  - deny: write
    who: any
    what: motors/cmd
  - allow: provide
    who: group:checked
    what: tools/*
YAML
chmod 0644 "$P"

echo "# ipcnet: $BIN; files in $W"

# ---------------------------------------------------------------- check
r 0 "policy --help" "$BIN" policy --help
contains "policy --help shows both uses" "$out" "ipcnet policy explain"
r 2 "policy without check or explain" "$BIN" policy
r 2 "policy frobnicate" "$BIN" policy frobnicate
r 0 "check a good file" "$BIN" policy check "$P"
contains "check says ok with counts" "$out" "$P: ok (3 rules, 2 groups, default deny)"
r 2 "check without FILE" "$BIN" policy check

bad() { # bad NAME LINE REASON CONTENT
    printf '%s' "$4" >"$W/$1.yaml"
    r 1 "check refuses $1" "$BIN" policy check "$W/$1.yaml"
    contains "check $1: line and reason" "$err" "$W/$1.yaml:$2: $3"
}
bad unknown-key 3 'unknown key "colour"' $'version: 1\ndefault: deny\ncolour: red\n'
bad syntax 4 'YAML:' $'version: 1\ndefault: deny\nrules: [\n'
bad no-default 1 'default: is missing' $'version: 1\n'
bad verb 5 'allow: unknown verb "fly"' $'version: 1\ndefault: deny\nrules:\n  - who: any\n    allow: fly\n    what: a\n'
bad alias 4 'YAML anchors (&x) are not accepted' $'version: 1\ndefault: deny\ngroups:\n  a: &x ["user:0"]\n  b: *x\n'
bad user 4 'unknown user "no-such-user-ipcn"' $'version: 1\ndefault: deny\ngroups:\n  a: user:no-such-user-ipcn\n'
bad undefined-group 5 'group "ghost" is not defined' $'version: 1\ndefault: deny\nrules:\n  - allow: read\n    who: group:ghost\n    what: a\n'

# the guard sections (limits, reputation, detect): summed up, and refused
# like the rest
cat >"$W/guard.yaml" <<YAML
version: 1
default: allow
limits:
  - {who: "user:root", what: "svc/**", requests: 1000/s, burst: 100}
  - {bytes: 10MB/s, inflight: 64}
reputation:
  quarantine_below: -50
  quarantine_for: 10s
  quarantine_max: 1h
  follow_reports: agree
detect:
  anomaly: {factor: 20, for: 5s}
  components:
    - {who: "node:motor", sha256: "$SHA", action: shutdown, criticality: critical}
YAML
r 0 "check a file with the guard sections" "$BIN" policy check "$W/guard.yaml"
contains "check: ok" "$out" "$W/guard.yaml: ok (0 rules, 0 groups, default allow)"
contains "check: the limits" "$out" "  limits: 2"
contains "check: reputation" "$out" "  reputation: quarantine below -50 for 10s (doubling, up to 1h), ban below -1000"
contains "check: detect" "$out" "  detect: action isolate; 20 violations within 1s; anomaly 20x for 5s; 1 component"
bad guard-rate 4 'requests: "fast" is not a rate' $'version: 1\ndefault: deny\nlimits:\n  - requests: fast\n'
bad guard-scores 5 'ban_below (-10) must be at most quarantine_below (-50)' $'version: 1\ndefault: deny\nreputation:\n  quarantine_below: -50\n  ban_below: -10\n'
bad guard-action 4 'action: unknown value "panic"' $'version: 1\ndefault: deny\ndetect:\n  action: panic\n'
r 1 "check of a missing file" "$BIN" policy check "$W/none.yaml"
contains "missing file: says so" "$err" "$W/none.yaml"

# --strict: the owner and mode rule as well
chmod 0664 "$P"
r 0 "check of a group-writable file looks at the content only" "$BIN" policy check "$P"
r 1 "check --strict refuses a group-writable file" "$BIN" policy check --strict "$P"
contains "--strict says why" "$err" "writable by its group"
chmod 0644 "$P"
r 0 "check --strict of a good file" "$BIN" policy check --strict "$P"
ln -s "$P" "$W/link.yaml"
r 1 "check --strict refuses a symbolic link" "$BIN" policy check --strict "$W/link.yaml"

# ---------------------------------------------------------------- explain
ex() { "$BIN" policy explain --policy "$P" "$@"; }
r 1 "explain: a deny rule" ex --as user:root write motors/cmd
contains "deny rule: 202" "$out" "refused: 202 Forbidden"
contains "deny rule: its line and text" "$out" "rule:    $P:11: deny write who [\"any\"] what [motors/cmd]"
contains "deny rule: why" "$out" "why:     deny rule"
r 0 "explain: an allow rule" ex --as user:root read motors/arm/state
contains "allow rule: 100" "$out" "allowed: 100 OK"
contains "allow rule: its line" "$out" "rule:    $P:8: allow read,execute who [\"user:0\", \"group:drivers\"] what [motors/**, camera/*]"
contains "user:root: its groups" "$out" "as:      uid 0, gid 0, groups 0"
r 1 "explain: the default" ex --as user:root write camera/front
contains "default: no rule" "$out" "rule:    none ($P: default deny)"
contains "default: why" "$out" "why:     default deny"
r 0 "explain: a described principal in a group by node name" \
    ex --as "uid:4242 gid:4242 groups:27,44 node:cam-2" execute camera/front
contains "described principal: shown" "$out" "as:      uid 4242, gid 4242, groups 27,44, node cam-2"
r 1 "explain: 201 when the rule needs the executable" ex --as "uid:4242 gid:4242" provide tools/x
contains "201: status" "$out" "refused: 201 Unauthorized"
contains "201: rule" "$out" "rule:    $P:14: allow provide"
r 0 "explain: the executable and its hash given" \
    ex --as "uid:4242 gid:4242 exe:/usr/bin/true sha256:$SHA" provide tools/x
r 1 "explain: the wrong hash" \
    ex --as "uid:4242 gid:4242 exe:/usr/bin/true sha256:${SHA//0/f}" provide tools/x
contains "wrong hash: default deny" "$out" "why:     default deny"

# audit: allowed, and what deny would have done
sed 's/^default: deny/default: audit/' "$P" >"$W/audit.yaml"
r 0 "explain under audit" "$BIN" policy explain --policy "$W/audit.yaml" --as user:root write motors/cmd
contains "audit: allowed" "$out" "allowed: 100 OK"
contains "audit: what deny would do" "$out" "audit:   deny would have refused it: 202 Forbidden"

# --json
r 0 "check --json" "$BIN" policy check --json "$P"
jdoc "check --json: the counts" "$out" "d == {'file': '$P', 'ok': True, 'rules': 3, 'groups': 2, 'default': 'deny', 'limits': 0, 'reputation': False, 'detect': False, 'components': 0, 'debug_liveness_ms': 0}"
r 0 "check --json of the guard sections" "$BIN" policy check --json "$W/guard.yaml"
jdoc "check --json: the guard's counts" "$out" "d['ok'] and d['limits'] == 2 and d['reputation'] and d['detect'] and d['components'] == 1"
r 1 "check --json of a bad file" "$BIN" policy check --json "$W/verb.yaml"
jdoc "check --json of a bad file: the reason" "$out" "not d['ok'] and d['status'] == 200 and d['error'].startswith('$W/verb.yaml:5: ')"
r 1 "explain --json" ex --json --as user:root write motors/cmd
jdoc "explain --json: the decision and its rule" "$out" "d['status'] == 202 and not d['allowed'] and d['rule'] == {'line': 11, 'kind': 'deny', 'verbs': ['write'], 'who': ['any'], 'what': ['motors/cmd']} and d['why'] == 'deny rule' and d['as']['uid'] == 0 and 0 in d['as']['groups']"
r 0 "explain --json under audit" "$BIN" policy explain --json --policy "$W/audit.yaml" --as user:root write camera/x
jdoc "explain --json under audit: would" "$out" "d['status'] == 100 and d['audited'] and d['would'] == 202 and d['rule'] is None and d['default'] == 'audit'"

# usage and bad files: exit 2
r 2 "explain without --as" ex read a
r 2 "explain with a bad verb" ex --as user:root fly a
r 2 "explain with a bad path" ex --as user:root read /a
r 2 "explain as an unknown user" ex --as user:no-such-user-ipcn read a
r 2 "explain with a bad --as" ex --as "pid:3" read a
r 2 "explain with a description without gid" ex --as "uid:3 node:x" read a
r 2 "explain with a bad policy" "$BIN" policy explain --policy "$W/verb.yaml" --as user:root read a
contains "bad policy: its line" "$err" "$W/verb.yaml:5: "
r 2 "explain with no policy file" "$BIN" policy explain --policy "$W/none.yaml" --as user:root read a

# where the policy is looked for: $IPCNET_POLICY, else <network dir>/policy.yaml
r 1 "explain with IPCNET_POLICY" env IPCNET_POLICY="$P" "$BIN" policy explain --as user:root write motors/cmd
contains "IPCNET_POLICY is read" "$out" "rule:    $P:11:"
mkdir -p "$IPCNET_DIR/lab"
cp "$W/audit.yaml" "$IPCNET_DIR/lab/policy.yaml"
r 0 "explain with the network's policy.yaml" "$BIN" --network lab policy explain --as user:root write motors/cmd
contains "the network's policy.yaml is read" "$out" "rule:    $IPCNET_DIR/lab/policy.yaml:11:"

# as a live node: its uid, gid, groups, executable and the executable's
# SHA-256 as this tool's link took them (ipcn_peer_list_get_principal())
"$BIN" hold camera/state 1 --name cam-7 >"$W/cam.out" 2>"$W/cam.err" </dev/null &
BG=$!
for ((i = 0; i < 200; i++)); do
    grep -q '^serving' "$W/cam.out" 2>/dev/null && break
    sleep 0.05
done
r 0 "explain as a live node" ex --as node:cam-7 read camera/state
contains "live node: its name and uid" "$out" "as:      uid $(id -u), gid $(id -g), groups"
contains "live node: its node name" "$out" "node cam-7, exe "
contains "live node: the group rule" "$out" "rule:    $P:8: allow"
# a rule on the executable and its hash decides for a live node (no 201):
# the node runs this very binary
EXE=$(readlink -f "$BIN")
HASH=$(sha256sum "$EXE" | cut -d' ' -f1)
cat >"$W/exe.yaml" <<YAML
version: 1
default: deny
rules:
  - allow: read
    who: "exe:$EXE sha256:$HASH"
    what: "lens/**"
  - allow: read
    who: "exe:$EXE sha256:$SHA"
    what: "iris/**"
YAML
contains "live node: its executable" "$out" "node cam-7, exe $EXE, sha256 known"
r 0 "explain as a live node: exe and sha256 match" "$BIN" policy explain --policy "$W/exe.yaml" --as node:cam-7 read lens/front
contains "live node: the exe+sha256 rule decided" "$out" "rule:    $W/exe.yaml:4: allow"
r 1 "explain as a live node: another sha256, refused (not 201)" "$BIN" policy explain --policy "$W/exe.yaml" --as node:cam-7 read iris/x
contains "live node: another sha256 gives 202" "$out" "refused: 202 Forbidden"
r 0 "explain --json as a live node" "$BIN" policy explain --json --policy "$W/exe.yaml" --as node:cam-7 read lens/front
jdoc "explain --json as a live node: exe and sha256 known" "$out" "d['status'] == 100 and d['as']['exe'] == '$EXE' and d['as']['sha256_known'] and d['rule']['line'] == 4"
r 2 "explain as a node that is not there" ex --as node:cam-none read camera/state
contains "absent node: 203" "$err" "203 Not Found: no live node cam-none"
kill -TERM "$BG"
wait "$BG" 2>/dev/null
BG=""

echo "1..$T"
[ "$F" = 0 ] && exit 0
echo "# $F of $T checks failed"
exit 1
