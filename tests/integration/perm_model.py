# SPDX-License-Identifier: MIT
"""perm_model.py - a reference model of IPCNet's permissions, for the
permission matrix (test_permissions.py).

Written from the specification only (issue 14, the "Permissions" section
of include/ipcnet.h, docs/policy.md), never from the C code, so that the
matrix compares two readings of the same text:

- A selector is conditions separated by spaces, all of which must hold:
  any, user:NAME|UID, unix_group:NAME|GID (primary or supplementary),
  group:NAME (an IPCNet group: the policy's, or for a provider's own rules
  also the provider's run-time groups; members never name groups),
  node:GLOB (fnmatch of the proven node name), exe:PATH (exactly),
  sha256:HEX.  A condition on what the deciding node could not establish
  (the executable of another user's process, when that node is not root)
  is unknown, not false: matching is three-valued.
- The decision for one verb on one path: of the rules for that verb whose
  patterns match the path, (1) a deny that names the principal: 202;
  (2) else a deny that may name it: 201; (3) else an allow that names it:
  100; (4) else an allow that may name it: 201; (5) else the profile:
  allow 100, deny 202, audit 100 (what deny would refuse is only counted).
- A provider's own rules (read, write, execute) are applied after the
  network's decision and only refuse more: for a verb some rule names, the
  principal must match an allow rule of it and no deny rule (unknown: 201);
  a verb no rule names is left to the network.
- Private: a principal that may not read a resource does not see it and
  gets 203 for it, as if it did not exist; one that may read but not use
  it gets 202; 201 when the identity the deciding rule needs is unknown.
- Every node checks provide: it takes an announcement into its directory
  only when the announcer may provide the path, and a node's own announce
  fails (202) when the policy forbids it.
- A network shared by a Unix group: a process outside the group (root
  too) cannot join it.
"""

import fnmatch
import grp
import os
import pwd

VERBS = ("read", "write", "execute", "provide")
OK, UNAUTHORIZED, FORBIDDEN, NOT_FOUND = 100, 201, 202, 203
NO_JOIN = "nojoin"  # the probe could not even join the network
UNSEEN = "unseen"   # announced, but the observer did not take it


class Principal:
    """A process as the kernel and its hello describe it: its user, its
    primary and supplementary groups, its node name, its executable's path
    and SHA-256 (hex)."""

    def __init__(self, user, name, exe, sha256, groups=None):
        """groups: the supplementary groups when they are not the user's
        own (setpriv --groups)."""
        pw = pwd.getpwnam(user) if not str(user).isdigit() else pwd.getpwuid(int(user))
        self.user = pw.pw_name
        self.uid = pw.pw_uid
        if groups is None:
            groups = os.getgrouplist(pw.pw_name, pw.pw_gid)
        self.gids = set(groups) | {pw.pw_gid}
        self.name = name
        self.exe = exe
        self.sha256 = sha256.lower() if sha256 else None

    def seen_by(self, viewer):
        """What a node running as viewer can establish of this process:
        everything, but the executable only when the viewer is root or the
        same user (another user's /proc/<pid>/exe cannot be read)."""
        p = Principal.__new__(Principal)
        p.__dict__.update(self.__dict__)
        if not (viewer.uid == 0 or viewer.uid == self.uid):
            p.exe = None
            p.sha256 = None
        return p


# ---- three-valued logic: True, False, None (unknown) ----

def _and(values):
    values = list(values)
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def _or(values):
    values = list(values)
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def _uid(x):
    return int(x) if x.isdigit() else pwd.getpwnam(x).pw_uid


def _gid(x):
    return int(x) if x.isdigit() else grp.getgrnam(x).gr_gid


def pattern_match(pattern, path):
    """Subscribe patterns: '/'-separated segments; '*' is exactly one
    segment, '**' zero or more."""
    pat, segs = pattern.split("/"), path.split("/")

    def m(i, j):
        if i == len(pat):
            return j == len(segs)
        if pat[i] == "**":
            return any(m(i + 1, k) for k in range(j, len(segs) + 1))
        if j == len(segs):
            return False
        return (pat[i] == "*" or pat[i] == segs[j]) and m(i + 1, j + 1)

    return m(0, 0)


def condition(cond, who, groups, in_group=False):
    if cond == "any":
        return True
    key, _, val = cond.partition(":")
    if key == "user":
        return who.uid == _uid(val)
    if key == "unix_group":
        return _gid(val) in who.gids
    if key == "group":
        if in_group:
            return False  # groups do not nest
        return member(groups, val, who)
    if key == "node":
        return None if who.name is None else fnmatch.fnmatchcase(who.name, val)
    if key == "exe":
        return None if who.exe is None else who.exe == val
    if key == "sha256":
        return None if who.sha256 is None else who.sha256 == val.lower()
    raise ValueError("unknown condition " + cond)


def selector(sel, who, groups, in_group=False):
    return _and(condition(c, who, groups, in_group) for c in sel.split())


def member(groups, name, who):
    """groups: a list of {name: [member selectors]} searched in order."""
    for gs in groups:
        if name in gs:
            return _or(selector(s, who, groups, True) for s in gs[name])
    return False


def _listify(x):
    return x if isinstance(x, list) else [x]


def _verbs(x):
    out = set()
    for v in _listify(x):
        out |= set(VERBS) if v == "all" else {v}
    return out


def _strongest(rules, who, groups):
    """The status the rules give (steps 1 to 4), or None when none does."""
    seen = {"deny": set(), "allow": set()}
    for r in rules:
        kind = "deny" if "deny" in r else "allow"
        seen[kind].add(_or(selector(s, who, groups) for s in _listify(r["who"])))
    if True in seen["deny"]:
        return FORBIDDEN
    if None in seen["deny"]:
        return UNAUTHORIZED
    if True in seen["allow"]:
        return OK
    if None in seen["allow"]:
        return UNAUTHORIZED
    return None


def network_decision(policy, who, verb, path):
    """The network policy's decision; policy is the dict written out as
    the policy file (its rules name only its own groups).  Returns
    (status, would): would is what the profile deny would have said
    (status differs from it only under audit)."""
    groups = [policy.get("groups", {})]
    rules = [r for r in policy.get("rules", [])
             if verb in _verbs(r.get("allow", r.get("deny")))
             and any(pattern_match(p, path) for p in _listify(r["what"]))]
    st = _strongest(rules, who, groups)
    profile = policy["default"]
    if st is None:
        st = OK if profile == "allow" else FORBIDDEN
    if profile == "audit":
        return OK, st
    return st, st


def provider_narrowing(prules, who, verb, groups):
    """A provider's own rules for one resource: [{allow|deny: [verbs],
    who: selector}].  100 when they leave the verb to the network."""
    rules = [r for r in prules if verb in _listify(r.get("allow", r.get("deny")))]
    if not rules:
        return OK
    st = _strongest(rules, who, groups)
    return FORBIDDEN if st is None else st


def provider_decision(policy, prov_rules, prov_groups, who, verb, path):
    """What the provider decides for who (as the provider sees it)."""
    st, _ = network_decision(policy, who, verb, path)
    if st != OK or verb == "provide":
        return st
    groups = [policy.get("groups", {}), prov_groups or {}]
    return provider_narrowing(prov_rules.get(path, []), who, verb, groups)


def can_join(who, net_gid):
    return net_gid in who.gids


def expect(scn, probe, verb, path):
    """The outcome the probe should print for verb on path.

    scn: policy (dict), prov_rules ({path: [rule]}), prov_groups ({name:
    [selectors]}), provider, observer (Principal), net_gid.
    verb: connect (to the provider's socket), find, query, sub, request,
    set (of the provider's resources), announce (of the probe's own path,
    judged by the observer)."""
    if verb == "connect":  # to a node's socket, without the library
        return OK if can_join(probe, scn["net_gid"]) else FORBIDDEN
    if not can_join(probe, scn["net_gid"]):
        return NO_JOIN
    pol = scn["policy"]
    if verb == "announce":
        own, _ = network_decision(pol, probe, "provide", path)
        if own != OK:
            return own
        # The observer has it when the probe's node tells it of it (the
        # observer may read it) and it takes it (the probe may provide it).
        obs = scn["observer"]
        told, _ = network_decision(pol, obs.seen_by(probe), "read", path)
        taken, _ = network_decision(pol, probe.seen_by(obs), "provide", path)
        return OK if told == OK and taken == OK else UNSEEN
    prov = scn["provider"]
    as_seen = probe.seen_by(prov)
    # The probe's node takes the provider's resource only when the
    # provider may provide it; the provider tells of it only those that
    # may read it.
    accepted, _ = network_decision(pol, prov.seen_by(probe), "provide", path)
    readable = provider_decision(pol, scn["prov_rules"], scn["prov_groups"],
                                 as_seen, "read", path)
    if accepted != OK or readable != OK:
        return NOT_FOUND
    if verb in ("find", "query", "sub"):
        return OK
    use = {"request": "execute", "set": "write"}[verb]
    return provider_decision(pol, scn["prov_rules"], scn["prov_groups"],
                             as_seen, use, path)
