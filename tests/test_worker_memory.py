"""What a worker keeps between files (issue 10): a file's own facts are freed by reference counting
as soon as it is done, and modules of libraries the table describes are kept as bindings only."""

from __future__ import annotations

import gc
import os

from txlint import names as N
from txlint.analysis import analyze
from txlint.context import FileContext, Options
from txlint.registry import all_codes

LEAKY = """\
import sqlite3


def count(path):
    conn = sqlite3.connect(path)
    return conn.execute("SELECT count(*) FROM t").fetchone()[0]
"""


def test_a_finished_file_leaves_no_cycles_behind(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    path = tmp_path / "app.py"
    path.write_text(LEAKY)
    options = Options(enabled=frozenset(all_codes()), project_root=str(tmp_path))
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = analyze(str(path), "app.py", options)
        gc.collect()
        contexts = [o for o in gc.garbage if isinstance(o, FileContext)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    assert {d.code for d in result.diagnostics} >= {"TXL201", "TXL202"}
    assert contexts == [], "the file's context is freed by reference counting, not the cycle collector"


def _count_loads(monkeypatch) -> list[str]:
    """The base names of the modules ProjectModules reads from disk, in order."""
    loads: list[str] = []
    real_load = N.ProjectModules.load

    def counting_load(self, path, module=None):
        loads.append(os.path.basename(path))
        return real_load(self, path, module)

    monkeypatch.setattr(N.ProjectModules, "load", counting_load)
    return loads


def test_library_modules_are_read_for_their_bindings_and_kept(tmp_path, monkeypatch):
    lib = tmp_path / "vendored"
    lib.mkdir()
    (lib / "__init__.py").write_text("from vendored.engine import Engine as Engine\n")
    (lib / "engine.py").write_text("class Engine:\n    def connect(self):\n        return object()\n")
    app = tmp_path / "app.py"
    app.write_text("import os\n")
    loads = _count_loads(monkeypatch)
    project = N.ProjectModules([str(tmp_path)], bindings_only={"vendored"})
    monkeypatch.setattr(N.ProjectModules, "MAX_MODULES", 0)
    syms = project.symbols("vendored.engine")
    assert syms is not None and syms.bindings["Engine"] == "vendored.engine.Engine"
    assert not syms.classes and not syms.functions, "no body of a library is kept"
    project.symbols("app")
    project.trim()
    assert project.symbols("vendored.engine") is syms
    assert project.symbols("app") is not None
    assert loads == ["engine.py", "app.py", "app.py"], "the library module survives the trim, the project's does not"


def test_an_analysed_library_module_is_seen_as_bindings_only_by_the_next_files(tmp_path):
    project = N.ProjectModules([str(tmp_path)], bindings_only={"vendored"})
    lib = tmp_path / "vendored"
    lib.mkdir()
    (lib / "__init__.py").write_text("")
    (lib / "base.py").write_text("class Base:\n    def cursor(self):\n        return object()\n")
    import ast

    tree = ast.parse((lib / "base.py").read_text())
    full = N.symbols_from_ast(tree, "vendored.base", False, str(lib / "base.py"))
    assert "Base" in full.classes
    project.remember(full)  # the worker analysed vendored/base.py first
    seen = project.symbols("vendored.base")
    assert seen is not full and not seen.classes and seen.bindings == full.bindings


FROZEN_PROBE = """\
import gc, os, sys, weakref
from txlint import names as N, runner
from txlint.analysis import analyze
from txlint.context import Options
from txlint.registry import all_codes


class Cycle:
    pass


root = sys.argv[1]
runner.tune_gc(worker=True)
N.ProjectModules.MAX_MODULES = 1  # every file trims what the one before it read
options = Options(enabled=frozenset(all_codes()), project_root=root)
trimmed = survived = 0
for name in sorted(os.listdir(root)):
    if name.endswith(".py"):
        garbage = Cycle()
        garbage.me = garbage  # cyclic garbage a file left behind: only the collector frees it
        gone = weakref.ref(garbage)
        del garbage
        frozen = gc.get_freeze_count()
        analyze(os.path.join(root, name), name, options)
        if gc.get_freeze_count() > frozen:  # this file's analysis began with a trim
            trimmed += 1
            survived += gone() is not None
print(gc.get_freeze_count(), trimmed, survived)
"""


def test_a_worker_collects_before_it_freezes_what_outlives_a_trim(tmp_path):
    """Workers move what survives a trim out of the collector's reach (runner.tune_gc): the trim
    must collect first, or the garbage of the files before it would be frozen, never freed."""
    import subprocess
    import sys

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "db.py").write_text("import sqlite3\n\n\ndef connect(path):\n    return sqlite3.connect(path)\n")
    for i in range(6):
        (tmp_path / f"m{i}.py").write_text(f"from db import connect\nfrom m{(i + 1) % 6} import f{(i + 1) % 6}\n\n\n"
                                           f"def f{i}(path):\n    conn = connect(path)\n    return conn.execute('x')\n")
    probe = subprocess.run([sys.executable, "-c", FROZEN_PROBE, str(tmp_path)], capture_output=True, text=True,
                           timeout=120, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert probe.returncode == 0, probe.stderr
    frozen, trimmed, survived = map(int, probe.stdout.split())
    assert frozen > 0 and trimmed >= 3, "what was alive after start-up and after each trim is frozen"
    assert survived == 0, "each trim collected the cycle left before it instead of freezing it"


def test_the_module_budget_counts_the_bytes_of_the_trees_held_not_the_modules(tmp_path, monkeypatch):
    """Many small modules stay; one large one is what makes the worker drop its caches."""
    small = "def f():\n    return 1\n"
    for i in range(20):
        (tmp_path / f"small{i}.py").write_text(small)
    big = "def g():\n    return 2\n" * 400
    (tmp_path / "big.py").write_text(big)
    loads = _count_loads(monkeypatch)
    monkeypatch.setattr(N.ProjectModules, "MAX_BYTES", 20 * len(small) + len(big) // 2)
    project = N.ProjectModules([str(tmp_path)])
    for i in range(20):
        project.symbols(f"small{i}")
        project.trim()
    project.symbols("small0")
    assert loads.count("small0.py") == 1, "twenty small modules fit the budget: none is read twice"
    project.symbols("big")
    project.trim()
    project.symbols("small0")
    assert loads.count("small0.py") == 2, "the large module passed the budget: everything was dropped"
