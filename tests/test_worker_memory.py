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


def test_library_modules_are_read_for_their_bindings_and_kept(tmp_path, monkeypatch):
    lib = tmp_path / "vendored"
    lib.mkdir()
    (lib / "__init__.py").write_text("from vendored.engine import Engine as Engine\n")
    (lib / "engine.py").write_text("class Engine:\n    def connect(self):\n        return object()\n")
    app = tmp_path / "app.py"
    app.write_text("import os\n")
    loads = []
    real_load = N.ProjectModules.load

    def counting_load(self, path, module=None):
        loads.append(os.path.basename(path))
        return real_load(self, path, module)

    monkeypatch.setattr(N.ProjectModules, "load", counting_load)
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
