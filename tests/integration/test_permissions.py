#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_permissions.py - the permission matrix of issue 14.

Every verb (connect, find, query, subscribe, request, set, announce) x
principal kind (the provider's own user, another user of the network's
group, a user outside the group, members of IPCNet groups of the policy
and of the provider's run-time group, the provider's executable and
another one) x rule shape (allow, deny beating allow, a denied read,
nothing but the default, a provider narrowing, a private resource, IPCNet
groups, exe and sha256 conditions in the policy and in a provider's rules),
with real processes under real uids (setpriv), each outcome compared with
the reference model perm_model.py (written from the specification, not
from the code): under each profile (allow, deny, audit), with the provider
and observer run as ipcnt_a (another user's executable cannot be read:
rules that need it give 201) and as root (it can).

    /usr/bin/python3 tests/integration/test_permissions.py path/to/ipcn-test-perm_probe

Prints a table per run and "N cases, M mismatches"; exit 0 when there is
no mismatch, 1 otherwise, 77 when it cannot run (not root, no setpriv, no
test users).  Needs root: the test users come from helpers/test-users.sh.
"""

import hashlib
import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import perm_model as model  # noqa: E402

A, B, C = "ipcnt_a", "ipcnt_b", "ipcnt_c"
ROBOT = "ipcnt_robot"
LIFETIME_S = "40"  # no helper outlives this
READY_S = 10       # a provider or observer ready, at most
RUN_S = 30         # the probes of one run done, at most

SHAPES = ["allow", "deny", "hidden", "default", "narrow", "private", "group",
          "rtgroup", "exe", "sha", "exedeny", "pexe"]
TICK = "m/public/tick"


def policy(profile, exe_a, sha_a, exe_b):
    """The network policy of every run; only the profile changes."""
    robot = "unix_group:" + ROBOT
    return {
        "version": 1,
        "default": profile,
        "groups": {
            "drivers": ["node:drv-*"],         # by node name
            "admins": ["user:" + A],           # by user
            "ops": ["unix_group:ipcnt_ops"],   # by Unix group (ipcnt_b's)
            "trusted": ["sha256:" + sha_a],    # by executable
        },
        "rules": [
            # what the harness itself needs
            {"allow": "provide", "who": ["user:" + A, "user:root"], "what": "m/**"},
            {"allow": "read", "who": "any", "what": "m/public/**"},
            {"allow": "provide", "who": "any", "what": "p/done/**"},
            {"allow": "read", "who": "any", "what": "p/**"},  # the observer's
            # allow: one user
            {"allow": "all", "who": "user:" + B, "what": ["m/allow/**", "p/allow/**"]},
            # deny beats allow
            {"allow": "all", "who": robot, "what": ["m/deny/**", "p/deny/**"]},
            {"deny": ["write", "execute", "provide"], "who": "user:" + B,
             "what": ["m/deny/**", "p/deny/**"]},
            # a read denied: the resource is private for that node
            {"allow": "all", "who": robot, "what": ["m/hidden/**", "p/hidden/**"]},
            {"deny": "read", "who": "node:pb", "what": "m/hidden/**"},
            # default: no rule names m/default/** or p/default/**
            # the network allows the group, the provider narrows
            {"allow": "all", "who": robot,
             "what": ["m/narrow/**", "m/private/**", "m/rtgroup/**", "m/pexe/**",
                      "p/narrow/**"]},
            # IPCNet groups of the policy
            {"allow": "all", "who": "group:drivers", "what": ["m/group/**", "p/group/**"]},
            {"allow": "read", "who": "group:admins", "what": "m/group/**"},
            {"deny": "provide", "who": "group:admins", "what": "p/group/**"},
            {"allow": "read", "who": "group:ops", "what": "m/group/svc"},
            {"allow": "execute", "who": "group:trusted", "what": "m/group/svc"},
            # executables: the path, the hash, a deny by path
            {"allow": "all", "who": "exe:" + exe_a, "what": ["m/exe/**", "p/exe/**"]},
            {"allow": "read", "who": "any", "what": "m/sha/**"},
            {"allow": ["write", "execute", "provide"], "who": "sha256:" + sha_a,
             "what": ["m/sha/**", "p/sha/**"]},
            {"allow": "all", "who": robot, "what": ["m/exedeny/**", "p/exedeny/**"]},
            {"deny": "execute", "who": "exe:" + exe_b, "what": "m/exedeny/**"},
            {"deny": "provide", "who": "exe:" + exe_b, "what": "p/exedeny/**"},
        ],
    }


def provider_rules(exe_a, sha_a, exe_b):
    """The provider's own rules ({path: [rule]}) and run-time groups."""
    r, w, x = "read", "write", "execute"
    rules = {
        "m/narrow/data": [{"deny": [w], "who": "node:drv-*"},
                          {"allow": [w], "who": "any"}],
        # a deny alone: the verb is named, and nobody is allowed it
        "m/narrow/stream": [{"deny": [r], "who": "user:" + B}],
        "m/narrow/svc": [{"allow": [x], "who": "user:" + A}],
        "m/private/data": [{"allow": [r, w, x], "who": "node:pa"}],
        "m/private/stream": [{"allow": [r, w, x], "who": "node:pa"}],
        "m/private/svc": [{"allow": [r, w, x], "who": "node:pa"},
                          {"allow": [r], "who": "node:pax"}],
        "m/pexe/data": [{"deny": [w], "who": "exe:" + exe_b},
                        {"allow": [w], "who": "any"}],
        "m/pexe/stream": [{"allow": [r], "who": "exe:" + exe_a}],
        "m/pexe/svc": [{"allow": [x], "who": "sha256:" + sha_a}],
    }
    for kind in ("data", "stream", "svc"):
        rules["m/rtgroup/" + kind] = [{"allow": [r, w, x], "who": "group:crew"},
                                      {"allow": [r], "who": "group:drivers"}]
    groups = {"crew": ["node:crew-*"]}
    return rules, groups


def to_yaml(pol):
    """The policy as YAML (flow lists written as JSON, which YAML reads)."""
    out = ["version: %d" % pol["version"], "default: " + pol["default"], "groups:"]
    for g, members in pol["groups"].items():
        out.append("  %s: %s" % (g, json.dumps(members)))
    out.append("rules:")
    for r in pol["rules"]:
        kind = "allow" if "allow" in r else "deny"
        out.append("  - %s: %s" % (kind, json.dumps(r[kind])))
        out.append("    who: " + json.dumps(r["who"]))
        out.append("    what: " + json.dumps(r["what"]))
    return "\n".join(out) + "\n"


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Proc:
    """A helper process, its stdout read line by line with bounded waits."""

    def __init__(self, label, argv, env, errfile):
        self.label = label
        self.err = open(errfile, "wb")
        self.p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.buf = b""
        self.lines = []
        self.eof = False

    def pump(self):
        try:
            data = os.read(self.p.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        if not data:
            self.eof = True
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.lines.append(line.decode(errors="replace"))

    def stop(self, term=False):
        """End it, by its pid, bounded: stdin closed (a probe then leaves),
        SIGTERM (at once when term), then SIGKILL."""
        if self.p.stdin and not self.p.stdin.closed:
            try:
                self.p.stdin.close()
            except OSError:
                pass
        steps = ((signal.SIGTERM, 3), (signal.SIGKILL, 3)) if term else \
            ((None, 3), (signal.SIGTERM, 3), (signal.SIGKILL, 3))
        for sig, wait in steps:
            if sig is not None and self.p.poll() is None:
                os.kill(self.p.pid, sig)
            try:
                self.p.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        self.err.close()


def wait_lines(procs, until, seconds):
    """Read the processes' output until until(proc) holds for each (or it
    ended), at most seconds."""
    sel = selectors.DefaultSelector()
    for p in procs:
        sel.register(p.p.stdout, selectors.EVENT_READ, p)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            todo = [p for p in procs if not until(p) and not p.eof]
            if not todo:
                return True
            for key, _ in sel.select(timeout=0.05):
                key.data.pump()
                if key.data.eof:
                    sel.unregister(key.fileobj)
        return all(until(p) for p in procs)
    finally:
        sel.close()


class Run:
    """One network, one profile, one provider user: start everything, take
    the outcomes, stop everything."""

    def __init__(self, t, profile, prov_user):
        self.t, self.profile, self.prov_user = t, profile, prov_user
        self.net = "perm-%s-%s" % (profile, "root" if prov_user == "root" else "a")
        self.procs = []

    def env(self):
        env = {"PATH": "/usr/bin:/bin", "IPCNET_DIR": self.t.base,
               "IPCNET_NETWORK": self.net, "LD_LIBRARY_PATH": self.t.bindir}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "IPCNET_LOG"):
            if k in os.environ:
                env[k] = os.environ[k]
        return env

    def spawn(self, label, user, exe, args):
        # root joins only as a member of the group, as any other user
        argv = ["setpriv", "--groups=%d" % self.t.net_gid] if user == "root" else [
            "setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups"]
        argv += [exe] + args
        errfile = os.path.join(self.t.work, "%s.%s.err" % (self.net, label))
        p = Proc(label, argv, self.env(), errfile)
        self.procs.append(p)
        return p

    def make_network(self):
        d = os.path.join(self.t.base, self.net)
        os.mkdir(d)
        os.chown(d, 0, self.t.net_gid)
        os.chmod(d, stat.S_ISGID | stat.S_ISVTX | 0o770)
        pf = os.path.join(d, "policy.yaml")
        fd = os.open(pf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(to_yaml(self.t.policy(self.profile)))
        os.chmod(pf, 0o644)

    def fail_text(self, p):
        with open(p.err.name, "rb") as f:
            tail = f.read()[-2000:].decode(errors="replace")
        return "%s: %s\n  stdout: %s\n  stderr: %s" % (
            p.label, "exit %s" % p.p.poll(), p.lines[-5:], tail)

    def go(self):
        t = self.t
        self.make_network()
        prov_rules, prov_groups = t.prov_rules, t.prov_groups
        specs = ["group=%s" % g for g in prov_groups]
        for g, members in prov_groups.items():
            specs += ["member=%s|%s" % (g, m) for m in members]
        for path, rules in prov_rules.items():
            for r in rules:
                kind = "allow" if "allow" in r else "deny"
                specs.append("rule=%s|%s|%s|%s" % (path, kind, ",".join(r[kind]), r["who"]))
        for s in SHAPES:
            specs += ["data=m/%s/data" % s, "stream=m/%s/stream" % s,
                      "service=m/%s/svc" % s]
        specs.append("tick=" + TICK)
        prov = self.spawn("prov", self.prov_user, t.exe_a,
                          ["provide", "prov", LIFETIME_S] + specs)
        if not wait_lines([prov], lambda p: "ready" in p.lines, READY_S):
            raise RuntimeError("the provider did not start\n" + self.fail_text(prov))
        names = [pr["name"] for pr in t.probes
                 if model.can_join(pr["principal"], t.net_gid)]
        obs = self.spawn("obs", self.prov_user, t.exe_a,
                         ["observe", "obs", LIFETIME_S] + names)
        if not wait_lines([obs], lambda p: "ready" in p.lines, READY_S):
            raise RuntimeError("the observer did not start\n" + self.fail_text(obs))
        probes = []
        for pr in t.probes:
            cases = [v + ":" + p for v, p in t.cases(pr["name"])]
            probes.append(self.spawn(pr["name"], pr["user"], pr["exe"],
                                     ["probe", pr["name"], LIFETIME_S, TICK] + cases))
        wait_lines(probes, lambda p: "end" in p.lines, RUN_S)
        wait_lines([obs], lambda p: False, RUN_S)  # until it exits
        got = {}
        for pr, p in zip(t.probes, probes):
            got[pr["name"]] = self.outcomes(pr, p, obs)
        return got

    def outcomes(self, pr, p, obs):
        """{(verb, path): outcome} as the probe and the observer tell."""
        cases = set(self.t.cases(pr["name"]))
        out = {}
        join = [ln for ln in p.lines if ln.startswith("join ")]
        if "end" not in p.lines or len(join) != 1:
            self.t.errors.append("%s/%s: no outcomes\n%s" % (self.net, pr["name"],
                                                           self.fail_text(p)))
            return out
        joined = join[0] == "join 100"
        seen = {ln.split()[2] for ln in obs.lines
                if ln.startswith("seen %s " % pr["name"])}
        done = "done %s" % pr["name"] in obs.lines
        for ln in p.lines:
            case, _, status = ln.rpartition(" ")
            v, _, path = case.partition(":")
            if (v, path) not in cases:
                continue
            res = int(status)
            if v == "announce" and res == model.OK:
                res = model.OK if path in seen else (model.UNSEEN if done else "no-observer")
            out[(v, path)] = res
        if not joined:  # 202: may not join; that is the outcome of each case
            for v, path in cases:
                if v != "connect":
                    out[(v, path)] = model.NO_JOIN if join[0] == "join 202" else join[0]
        return out

    def stop(self):
        """Stop every process; each must have ended by itself (exit 0)
        when asked: a crash or a sanitizer's report is an error."""
        for p in reversed(self.procs):
            p.stop(term=p.label in ("prov", "obs"))
        for p in self.procs:
            if p.p.returncode != 0:
                self.t.errors.append("%s/%s exited with %s\n%s" % (
                    self.net, p.label, p.p.returncode, self.fail_text(p)))


class Test:
    def __init__(self, probe_bin):
        # the real path: what /proc/<pid>/exe of the copies will say
        self.work = os.path.realpath(tempfile.mkdtemp(prefix="ipcn-perm-test."))
        os.chmod(self.work, 0o755)  # the test users go through it
        self.bindir = os.path.join(self.work, "bin")
        self.base = os.path.join(self.work, "run")
        os.mkdir(self.bindir, 0o755)
        os.mkdir(self.base, 0o755)
        self.errors = []
        self.net_gid = __import__("grp").getgrnam(ROBOT).gr_gid
        # The provider's executable, and another one (another path, other
        # bytes: a copy with bytes appended, which the loader ignores).
        self.exe_a = os.path.join(self.bindir, "perm_probe")
        self.exe_b = os.path.join(self.bindir, "perm_probe_other")
        shutil.copyfile(probe_bin, self.exe_a)
        shutil.copyfile(probe_bin, self.exe_b)
        with open(self.exe_b, "ab") as f:
            f.write(b"\0another executable\n")
        self.copy_libs(probe_bin)
        for f in os.listdir(self.bindir):
            os.chmod(os.path.join(self.bindir, f), 0o755)
        self.sha_a, self.sha_b = sha256_of(self.exe_a), sha256_of(self.exe_b)
        self.prov_rules, self.prov_groups = provider_rules(self.exe_a, self.sha_a,
                                                           self.exe_b)

        def principal(user, name, exe):
            return model.Principal(user, name, exe,
                                   self.sha_a if exe == self.exe_a else self.sha_b,
                                   [self.net_gid] if user == "root" else None)

        self.probes = []
        for name, user, exe in (("pa", A, self.exe_a), ("pax", A, self.exe_b),
                                ("pb", B, self.exe_a), ("drv-b", B, self.exe_b),
                                ("crew-b", B, self.exe_a), ("pc", C, self.exe_a)):
            self.probes.append({"name": name, "user": user, "exe": exe,
                                "principal": principal(user, name, exe)})
        self.principal = principal

    def copy_libs(self, probe_bin):
        """libipcnet (when linked dynamically) beside the binaries: the
        test users may not be able to read the build tree."""
        out = subprocess.run(["ldd", probe_bin], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if parts and parts[0].startswith("libipcnet") and len(parts) >= 3 \
                    and parts[2].startswith("/"):
                shutil.copyfile(os.path.realpath(parts[2]),
                                os.path.join(self.bindir, parts[0]))

    def policy(self, profile):
        return policy(profile, self.exe_a, self.sha_a, self.exe_b)

    def cases(self, probe):
        out = [("connect", "prov")]
        for s in SHAPES:
            m = "m/%s/" % s
            out += [("find", m + "data"), ("find", m + "stream"), ("find", m + "svc"),
                    ("query", m + "data"), ("sub", m + "stream"), ("request", m + "svc"),
                    ("set", m + "data"), ("announce", "p/%s/%s" % (s, probe))]
        return out

    def run(self):
        total = bad = 0
        for prov_user in (A, "root"):
            for profile in ("allow", "deny", "audit"):
                run = Run(self, profile, prov_user)
                try:
                    got = run.go()
                finally:
                    run.stop()
                scn = {"policy": self.policy(profile), "prov_rules": self.prov_rules,
                       "prov_groups": self.prov_groups, "net_gid": self.net_gid,
                       "provider": self.principal(prov_user, "prov", self.exe_a),
                       "observer": self.principal(prov_user, "obs", self.exe_a)}
                n, m = self.table(run.net, scn, got)
                total += n
                bad += m
        return total, bad

    def table(self, net, scn, got):
        names = [pr["name"] for pr in self.probes]
        print("\n# %s (provider and observer: %s; probes: %s)" % (
            net, scn["provider"].user,
            ", ".join("%s=%s/%s" % (pr["name"], pr["user"],
                                    "exeA" if pr["exe"] == self.exe_a else "exeB")
                      for pr in self.probes)))
        print("%-28s" % "case" + "".join("%-17s" % n for n in names))
        n = m = 0
        for v, path in self.cases("*"):
            row = "%-28s" % ("%s %s" % (v, path))
            for pr in self.probes:
                p = path.replace("*", pr["name"])
                want = model.expect(scn, pr["principal"], v, p)
                have = got.get(pr["name"], {}).get((v, p), "none")
                n += 1
                if have == want:
                    row += "%-17s" % have
                else:
                    m += 1
                    row += "%-17s" % ("%s!=%s" % (have, want))
            print(row)
        print("# %s: %d cases, %d mismatches (a!=b: got a, the model says b)" % (net, n, m))
        return n, m

    def cleanup(self):
        shutil.rmtree(self.work, ignore_errors=True)


def main():
    if len(sys.argv) != 2:
        print("usage: test_permissions.py path/to/ipcn-test-perm_probe", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("test_permissions: SKIP: needs root (real users)")
        return 77
    if not shutil.which("setpriv"):
        print("test_permissions: SKIP: no setpriv")
        return 77
    tmp = os.path.realpath(tempfile.gettempdir())
    d = tmp
    while d != "/":
        if not os.stat(d).st_mode & stat.S_IXOTH:
            print("test_permissions: SKIP: the test users cannot reach %s (%s)" % (tmp, d))
            return 77
        d = os.path.dirname(d)
    rc = subprocess.run(["bash", os.path.join(HERE, "helpers", "test-users.sh"),
                         "ensure"]).returncode
    if rc != 0:
        print("test_permissions: the test users are not available (%d)" % rc)
        return 77 if rc == 77 else 1
    t = Test(sys.argv[1])
    start = time.monotonic()
    try:
        total, bad = t.run()
    finally:
        t.cleanup()
    for e in t.errors:
        print("ERROR:", e)
    print("\n%d cases, %d mismatches (%.1f s)" % (total, bad, time.monotonic() - start))
    return 1 if bad or t.errors else 0


if __name__ == "__main__":
    sys.exit(main())
