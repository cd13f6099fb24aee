# SPDX-License-Identifier: MIT
"""What editors and help() show of the package: the type stubs cover every
public name (checked with ast against the imported modules, and with mypy's
stubtest when Debian's python3-mypy is installed), and help(ipcnet) is short
and says each thing once."""
import ast
import collections
import inspect
import os
import pydoc
import subprocess
import sys
import types

import pytest

import ipcnet
import ipcnet.aio

PKG = os.path.dirname(ipcnet.__file__)


def stub_tree(module):
    """{name: set of member names, or None for a non-class} of the module's
    .pyi, with the class bases written in it."""
    path = os.path.join(PKG, ("__init__" if module is ipcnet else module.__name__.split(".")[-1])
                        + ".pyi")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    names, bases = {}, {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            names[node.name] = members
            bases[node.name] = [ast.unparse(b) for b in node.bases]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names[node.name] = None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = None
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    names[t.id] = None
    return names, bases


def stub_members(module, cls_name, seen=None):
    """The members a class has in the stubs, its stub bases' included."""
    names, bases = stub_tree(module)
    out = set(names.get(cls_name) or ())
    for b in bases.get(cls_name, ()):
        if b.startswith("_") and module is not ipcnet:  # "from . import X as _X"
            out |= stub_members(ipcnet, b.lstrip("_"))
        elif b in names:
            out |= stub_members(module, b)
    return out


def public_names(module):
    return sorted(n for n in dir(module) if not n.startswith("_")
                  and not isinstance(getattr(module, n), types.ModuleType))


def own_public_members(cls):
    """Public attributes a class gets from this package (not from object,
    tuple, Exception...)."""
    out = set()
    for klass in cls.__mro__:
        if (klass.__module__ or "").startswith("ipcnet"):
            out |= {n for n in vars(klass) if not n.startswith("_")}
    return out


@pytest.mark.parametrize("module", [ipcnet, ipcnet.aio], ids=["ipcnet", "ipcnet.aio"])
def test_every_public_name_has_a_stub(module):
    names, _ = stub_tree(module)
    def ours(obj):  # defined by this module (ipcnet: by the package)
        mod = getattr(obj, "__module__", None) or ""
        return mod.startswith("ipcnet") if module is ipcnet else mod == module.__name__
    missing = [n for n in public_names(module) if n not in names and ours(getattr(module, n))]
    assert not missing, "no stub for %s.%s" % (module.__name__, missing)
    for n in public_names(module):
        obj = getattr(module, n)
        if not inspect.isclass(obj) or not ours(obj):
            continue
        lacking = own_public_members(obj) - stub_members(module, n)
        assert not lacking, "the stub of %s.%s lacks %s" % (module.__name__, n, sorted(lacking))
    # And the other way: nothing in the stubs that the module does not have.
    extra = [n for n in names if not n.startswith("_") and not hasattr(module, n)]
    assert not extra, "stubs of names %s.%s do not exist" % (module.__name__, extra)


def test_python_signatures_match_the_stubs():
    """Parameter names of the functions written in Python, as the stubs say."""
    for module in (ipcnet, ipcnet.aio):
        path = os.path.join(PKG, ("__init__" if module is ipcnet else "aio") + ".pyi")
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        stubs = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stubs[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        stubs.setdefault(node.name + "." + item.name, item)
        checked = 0
        for key, node in stubs.items():
            obj = module
            for part in key.split("."):
                obj = getattr(obj, part, None)
            if not inspect.isfunction(obj) or obj.__module__ != module.__name__:
                continue  # C functions have no signature to compare
            a = node.args
            got = [x.arg for x in a.posonlyargs + a.args]
            got += ["*" + a.vararg.arg] if a.vararg else []
            got += [x.arg for x in a.kwonlyargs] + (["**" + a.kwarg.arg] if a.kwarg else [])
            want = [("*" if p.kind == p.VAR_POSITIONAL else "**" if p.kind == p.VAR_KEYWORD
                     else "") + p.name for p in inspect.signature(obj).parameters.values()]
            assert got == want, "%s.%s: stub %s, code %s" % (module.__name__, key, got, want)
            checked += 1
        assert checked >= (20 if module is ipcnet else 8), checked


def test_stubtest():
    """mypy's stubtest: the stubs against the imported package (types of
    defaults, kinds of parameters, final classes...)."""
    pytest.importorskip("mypy", reason="no mypy (Debian: python3-mypy)")
    root = os.path.dirname(PKG)
    env = dict(os.environ, MYPYPATH=root, PYTHONPATH=root)
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", "ipcnet",
                        "--mypy-config-file", os.devnull],
                       capture_output=True, text=True, env=env, timeout=300, cwd="/")
    assert r.returncode == 0, r.stdout + r.stderr
    # A program that uses the API, as an editor sees it.
    r = subprocess.run([sys.executable, "-m", "mypy", "--config-file", os.devnull,
                        "--no-incremental", "--cache-dir", os.devnull, "-c", USER_PROGRAM],
                       capture_output=True, text=True, env=env, timeout=300, cwd="/")
    assert r.returncode == 0, r.stdout + r.stderr
    revealed = [line.split("Revealed type is ")[1].strip('"')
                for line in r.stdout.splitlines() if "Revealed type is" in line]
    assert revealed == ["ipcnet.Message", "ipcnet.Answers", "Union[ipcnet.Message, None]",
                        "ipcnet.Message", "builtins.list[ipcnet.Resource]"], r.stdout


USER_PROGRAM = """
import asyncio
import ipcnet, ipcnet.aio
with ipcnet.Node("x") as node:
    reveal_type(node.request("svc/add", {"a": 1}))
    reveal_type(node.request("svc/add", 1, mode="vote"))
    sub = node.subscribe("a/**", depth=8)
    reveal_type(sub.take(1.0))
    @node.offer("svc/add")
    def add(req: ipcnet.Message) -> int:
        return int(req.value["a"])
    try:
        node.publish("a/b", [1, 2])
    except ipcnet.NotFound as e:
        print(e.status + 1, e.text)
async def main() -> None:
    async with ipcnet.aio.Node("y") as n:
        reveal_type(await n.request("svc/add", 1))
        reveal_type(await n.wait_for("svc/*"))
        async for msg in n.subscribe("a/**"):
            print(msg.value, msg.seq + 1)
"""


def test_py_typed_marker():
    assert os.path.isfile(os.path.join(PKG, "py.typed"))


def test_help_is_short_and_says_things_once():
    text = pydoc.render_doc(ipcnet, renderer=pydoc.plaintext)
    lines = [line.rstrip() for line in text.splitlines()]
    assert len(lines) < 1200, "help(ipcnet) runs to %d lines" % len(lines)
    # No block of 6 consecutive lines (blank ones aside) twice.
    body = [line.strip() for line in lines if line.strip() and line.strip() != "|"]
    blocks = collections.Counter(tuple(body[i:i + 6]) for i in range(len(body) - 5))
    repeated = [b for b, n in blocks.items() if n > 1]
    assert not repeated, "repeated in help(ipcnet):\n" + "\n".join(repeated[0])
    # What it documents: the behaviour, with the errors listed once in Error's text.
    for name in ("class Node", "class Subscription", "class Error", "class Message",
                 "class Tensor", "request(self, path", "publish(self, path"):
        assert name in text, name
    for err in ("NotFound", "Timeout", "LoopDetected"):
        assert "%s " % err in ipcnet.Error.__doc__
    assert "class NotFound" not in text
    assert len(pydoc.render_doc(ipcnet.aio, renderer=pydoc.plaintext).splitlines()) < 600


def test_docstrings_say_dlpack_pins_a_slot():
    for doc in (ipcnet.Tensor.__doc__, ipcnet.Tensor.__dlpack__.__doc__, ipcnet.__doc__):
        assert "pin" in doc and "slot" in doc, doc
