# SPDX-License-Identifier: MIT
"""pip, as a Python user installs packages: the package built from this tree
(setup.py, pyproject.toml) into virtual environments, offline (no index, no
build isolation: Debian's python3-venv, python3-setuptools, python3-wheel),
then imported by the venv's python, away from the build tree, for a tiny
publish/subscribe.

  - `pip wheel .` against the tree's library (the CMake build): the wheel
    carries libipcnet; installed into a clean venv, it runs with no
    installed library.
  - `pip install .` against an installed library (`cmake --install
    --prefix P`, IPCNET_PREFIX=P): the extension loads P's libipcnet.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("IPCN_BUILD_DIR") or os.path.dirname(
    os.path.abspath(os.environ.get("IPCN_BINDIR", "build/bin")))
STEP = 600  # s: the bound of one step (a venv, a build, an install)

PUBSUB = r"""
import json, ipcnet
with ipcnet.Node("pip.pub") as a, ipcnet.Node("pip.sub") as b:
    sub = b.subscribe("pip/x")
    a.announce("pip/x")
    a.wait_subscribers("pip/x", 1, 10)
    a.publish("pip/x", {"n": 1})
    msg = sub.take(10)
with open("/proc/self/maps") as f:
    libs = sorted({l.split()[-1] for l in f if "libipcnet" in l})
print(json.dumps({"file": ipcnet.__file__, "value": msg and msg.value, "libs": libs}))
"""


def run(argv, env, cwd):
    r = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=STEP)
    assert r.returncode == 0, "%s exited %d:\n%s\n%s" % (" ".join(argv), r.returncode,
                                                        r.stdout[-3000:], r.stderr[-3000:])
    return r.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    if not os.path.exists(os.path.join(BUILD, "libipcnet.so")):
        pytest.fail("no libipcnet.so in %s (IPCN_BUILD_DIR)" % BUILD)
    d = tmp_path_factory.mktemp("pip")
    # Offline and alone: no index, no configuration, no cache, not the
    # build tree's package (PYTHONPATH).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PIP_") and k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", IPCNET_SETUP_SCRATCH=str(d / "scratch"))
    builder = d / "builder"  # sees Debian's setuptools and wheel
    run([sys.executable, "-m", "venv", "--system-site-packages", str(builder)], env, str(d))
    yield d, env, builder
    shutil.rmtree(d, ignore_errors=True)


def pubsub(python, env, cwd):
    out = run([str(python), "-c", PUBSUB], env, cwd)
    return json.loads(out.strip().splitlines()[-1])


def test_wheel_of_the_tree_into_a_clean_venv(work):
    d, env, builder = work
    dist = d / "dist"
    run([str(builder / "bin" / "pip"), "wheel", "--no-build-isolation", "--no-index",
         "--no-deps", "--no-cache-dir", "-w", str(dist), SRC],
        dict(env, IPCNET_BUILD_DIR=BUILD), SRC)
    (wheel,) = dist.glob("ipcnet-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for want in ("ipcnet/__init__.py", "ipcnet/aio.py", "ipcnet/__init__.pyi", "ipcnet/aio.pyi",
                 "ipcnet/py.typed"):
        assert want in names, (want, names)
    assert any(n.startswith("ipcnet/_ipcnet.") and n.endswith(".so") for n in names), names
    assert any(n.startswith("ipcnet/libipcnet.so.") for n in names), names
    assert not [n for n in names if n.endswith((".c", ".h"))], names

    clean = d / "clean"  # no system site-packages: only what the wheel brings
    run([sys.executable, "-m", "venv", str(clean)], env, str(d))
    run([str(clean / "bin" / "pip"), "install", "--no-index", "--no-cache-dir", str(wheel)],
        env, str(d))
    got = pubsub(clean / "bin" / "python", env, str(d))
    assert got["value"] == {"n": 1}, got
    site = str(clean / "lib")
    assert got["file"].startswith(site), got
    assert len(got["libs"]) == 1 and got["libs"][0].startswith(site), got


def test_pip_install_against_the_installed_library(work):
    d, env, builder = work
    prefix = d / "prefix"
    for component in ("runtime", "development"):
        run(["cmake", "--install", BUILD, "--prefix", str(prefix), "--component", component],
            env, str(d))
    run([str(builder / "bin" / "pip"), "install", "--no-build-isolation", "--no-index",
         "--no-deps", "--no-cache-dir", SRC], dict(env, IPCNET_PREFIX=str(prefix)), SRC)
    got = pubsub(builder / "bin" / "python", env, str(d))
    assert got["value"] == {"n": 1}, got
    assert got["file"].startswith(str(builder / "lib")), got
    assert len(got["libs"]) == 1 and got["libs"][0].startswith(str(prefix)), got
