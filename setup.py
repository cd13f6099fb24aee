# SPDX-License-Identifier: MIT
"""Build of the Python package `ipcnet` for pip (`pip install .`, `pip wheel .`).

The package is python/ipcnet/: the pure-Python part, its type stubs, and the
extension _ipcnet built from python/ipcnet/_ipcnet*.c against libipcnet.
Which libipcnet, in this order:

  IPCNET_PREFIX=P   the library installed in prefix P (`make install
                    PREFIX=P`), found with pkg-config in P's lib/pkgconfig;
                    the extension finds it there at run time (RUNPATH).
  IPCNET_BUILD_DIR=B, or ./build when it holds libipcnet.so
                    (`make build`): the tree's library and headers; a copy
                    of the library goes into the package, next to the
                    extension (RUNPATH $ORIGIN), so the wheel needs no
                    installed libipcnet (only Debian's libsodium and libyaml).
  otherwise         the installed library pkg-config finds (`pkg-config
                    ipcnet`, PKG_CONFIG_PATH honoured), as with a prefix.

Offline, with Debian's packages (python3-venv, python3-setuptools,
python3-wheel):
    python3 -m venv --system-site-packages venv
    venv/bin/pip install --no-build-isolation --no-index .
setuptools' scratch files go to build/python-setuptools/<library>/ (or
$IPCNET_SETUP_SCRATCH/<library>/), one directory per library chosen, so
that a build against one never reuses the objects of the other.
"""
import glob
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ["_ipcnet.c", "_ipcnet_tensor.c", "_ipcnet_value.c", "_ipcnet_node.c",
           "_ipcnet_node_calls.c", "_ipcnet_shutdown.c", "_ipcnet_redundancy.c",
           "_ipcnet_sensor.c", "_ipcnet_history.c", "_ipcnet_prov.c"]


def fail(text):
    sys.stderr.write("ipcnet setup.py: %s\n" % text)
    sys.exit(1)


def project_version():
    """The version of the C project (CMakeLists.txt), which is the package's."""
    with open(os.path.join(HERE, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(\s*ipcnet\s+VERSION\s+([0-9.]+)", f.read())
    if not m:
        fail("no 'project(ipcnet VERSION x.y.z)' in CMakeLists.txt")
    return m.group(1)


def pkg_config(prefix):
    """(include dirs, library dirs) of the installed libipcnet."""
    env = dict(os.environ)
    if prefix:
        dirs = [os.path.join(prefix, d, "pkgconfig")
                for d in ("lib", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu",
                          "share")]
        env["PKG_CONFIG_PATH"] = os.pathsep.join(
            [d for d in dirs if os.path.isdir(d)] + [env.get("PKG_CONFIG_PATH", "")])
    try:
        out = subprocess.run(["pkg-config", "--cflags-only-I", "--libs-only-L", "ipcnet"],
                             env=env, capture_output=True, text=True, check=False)
    except OSError as e:
        fail("cannot run pkg-config (%s): install pkg-config, or build the library "
             "(make build) so that setup.py uses the tree's" % e)
    if out.returncode != 0:
        where = " in %s" % prefix if prefix else ""
        fail("pkg-config finds no installed ipcnet%s (%s).  Build the library first "
             "(make build: setup.py then uses build/), install it (make install "
             "PREFIX=P, then IPCNET_PREFIX=P), or set IPCNET_BUILD_DIR"
             % (where, out.stderr.strip()))
    inc, lib = [], []
    for tok in shlex.split(out.stdout):
        if tok.startswith("-I"):
            inc.append(tok[2:])
        elif tok.startswith("-L"):
            lib.append(tok[2:])
    return inc, lib


def choose_library():
    """(include dirs, library dirs, runtime dirs, file to bundle or None)."""
    prefix = os.environ.get("IPCNET_PREFIX")
    build = os.environ.get("IPCNET_BUILD_DIR")
    if not prefix:
        build_dir = os.path.abspath(build or os.path.join(HERE, "build"))
        lib = os.path.join(build_dir, "libipcnet.so")
        if os.path.exists(lib):
            # CMake's links: libipcnet.so -> libipcnet.so.<SOVERSION> (the
            # SONAME the extension records) -> libipcnet.so.<VERSION>.
            soname = os.readlink(lib) if os.path.islink(lib) else "libipcnet.so"
            return ([os.path.join(HERE, "include")], [build_dir], ["$ORIGIN"],
                    (os.path.realpath(lib), os.path.basename(soname)))
        if build:
            fail("IPCNET_BUILD_DIR=%s holds no libipcnet.so (build it: make build, or "
                 "cmake --build %s)" % (build, build))
    inc, libdirs = pkg_config(prefix)
    return inc, libdirs, list(libdirs), None


INCLUDE_DIRS, LIBRARY_DIRS, RUNTIME_DIRS, BUNDLE = choose_library()
SCRATCH = os.path.join(os.environ.get("IPCNET_SETUP_SCRATCH") or os.path.join(
    "build", "python-setuptools"), hashlib.sha256(
    repr((INCLUDE_DIRS, LIBRARY_DIRS, RUNTIME_DIRS)).encode()).hexdigest()[:12])


class BuildExt(build_ext):
    """build_ext that also puts the tree's libipcnet next to the extension
    when the package is built against it (BUNDLE)."""

    def run(self):
        super().run()
        if BUNDLE:
            src, name = BUNDLE
            for dst_dir in {os.path.dirname(self.get_ext_fullpath(e.name))
                            for e in self.extensions}:
                os.makedirs(dst_dir, exist_ok=True)
                shutil.copyfile(src, os.path.join(dst_dir, name))

    def get_outputs(self):
        out = super().get_outputs()
        if BUNDLE:
            out += [os.path.join(os.path.dirname(self.get_ext_fullpath(e.name)), BUNDLE[1])
                    for e in self.extensions]
        return out


os.makedirs(os.path.join(HERE, SCRATCH), exist_ok=True)

setup(
    version=project_version(),
    package_dir={"": "python"},
    packages=["ipcnet"],
    package_data={"ipcnet": ["py.typed", "*.pyi"]},
    include_package_data=False,  # not the C sources lying in python/ipcnet
    ext_modules=[Extension(
        "ipcnet._ipcnet",
        sources=[os.path.join("python", "ipcnet", s) for s in SOURCES],
        depends=[os.path.join("python", "ipcnet", "_ipcnet.h")] + sorted(
            h for d in INCLUDE_DIRS for h in glob.glob(os.path.join(d, "ipcnet*.h"))),
        include_dirs=INCLUDE_DIRS,
        library_dirs=LIBRARY_DIRS,
        runtime_library_dirs=RUNTIME_DIRS,
        libraries=["ipcnet"],
        define_macros=[("_GNU_SOURCE", None)],
        extra_compile_args=["-std=gnu11", "-fvisibility=hidden"],
    )],
    cmdclass={"build_ext": BuildExt},
    options={"build": {"build_base": SCRATCH},
             "egg_info": {"egg_base": SCRATCH}},
    zip_safe=False,
)
