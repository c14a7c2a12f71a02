"""The gate (txlint/gate.py) decides, on the ast, which files go to libcst and which functions get a
control-flow analysis.  It must lose nothing: every example and every test-data file gives the same
findings with the gate and without it."""

from __future__ import annotations

import os

import pytest

from txlint import gate as G
from txlint.analysis import _PROJECTS
from txlint.registry import load_rules
from txlint.testing import analyze_project, run_example

from test_testdata import _collect


def _both(run):
    out = {}
    for flag in (True, False):
        G.ENABLED = flag
        _PROJECTS.clear()
        try:
            out[flag] = run()
        finally:
            G.ENABLED = True
    return out


def _findings(result):
    return sorted((d.line, d.column, d.code, d.message) for d in result.diagnostics)


@pytest.mark.parametrize("files,check", _collect())
def test_testdata_same_findings_without_the_gate(files, check):
    both = _both(lambda: _findings(analyze_project(files, check)))
    assert both[True] == both[False]


def _examples():
    for code, cls in load_rules().items():
        if "python" not in cls.file_kinds:
            continue
        for i, example in enumerate(cls.INVALID + cls.VALID):
            yield pytest.param(example, id=f"{code}-{i}")


@pytest.mark.parametrize("example", list(_examples()))
def test_examples_same_findings_without_the_gate(example):
    both = _both(lambda: sorted((d.line, d.code, d.message) for d in run_example(example)[2]))
    assert both[True] == both[False]


def test_a_file_nothing_can_report_in_is_not_parsed_with_libcst(tmp_path, monkeypatch):
    import libcst

    from txlint.analysis import analyze
    from txlint.context import Options
    from txlint.registry import all_codes

    from txlint.lazylib import libcst as lazy

    calls = []
    real = libcst.parse_module
    spy = lambda *a, **k: calls.append(1) or real(*a, **k)  # noqa: E731
    monkeypatch.setattr(libcst, "parse_module", spy)
    monkeypatch.setattr(lazy, "parse_module", spy)  # the name txlint reads it through
    quiet = tmp_path / "quiet.py"
    # mentions sessions and engines (the byte scan lets it through), but acquires nothing
    quiet.write_text("import sqlalchemy as sa\n\n\ndef describe(engine: sa.engine.Engine):\n"
                     "    return engine.url.render_as_string()\n")
    leak = tmp_path / "leak.py"
    leak.write_text("import sqlite3\n\n\ndef count(p):\n    conn = sqlite3.connect(p)\n"
                    "    return conn.execute('SELECT 1').fetchone()\n")
    opts = Options(enabled=frozenset(all_codes()), project_root=str(tmp_path))
    assert analyze(str(quiet), "quiet.py", opts).diagnostics == []
    assert calls == []
    assert {d.code for d in analyze(str(leak), "leak.py", opts).diagnostics} == {"TXL201", "TXL202"}
    assert calls == [1]


SHAPES = '''
import sqlite3

def returns_call():
    return sqlite3.connect("x")

def returns_local_made_by_a_call():
    conn = sqlite3.connect("x")
    return conn

def returns_awaited():
    return await make()

def returns_pair():
    conn = sqlite3.connect("x")
    return conn, conn.cursor()

def returns_parameter(conn):
    return conn

def returns_attribute(self):
    return self.conn

def returns_nothing():
    sqlite3.connect("x").close()

def generator():
    conn = sqlite3.connect("x")
    yield conn
    return conn
'''


def test_return_shape_reads_only_the_returns():
    import ast

    from txlint import kinds as K

    fns = {f.name: f for f in ast.parse(SHAPES).body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    shape = {name: K.return_shape(fn) for name, fn in fns.items()}
    assert shape["returns_call"] == shape["returns_local_made_by_a_call"] == shape["returns_awaited"] == K.RETURNS_ONE
    assert shape["returns_pair"] & K.RETURNS_TUPLE
    assert shape["returns_parameter"] == shape["returns_attribute"] == shape["returns_nothing"] == 0
    assert shape["generator"] == 0


def test_no_summary_hands_out_where_return_shape_says_it_cannot(monkeypatch):
    """return_shape lets the gate skip a summary: it must never say "cannot" for a function whose
    summary returns a new resource (or a tuple of them).  Every summary the test data makes, with
    the gate off (every function analysed), is held to it."""
    from txlint import kinds as K
    from txlint import summaries as S

    made = []
    real = S._summarise

    def record(ctx, kr, fn, cls, offset):
        summ = real(ctx, kr, fn, cls, offset)
        made.append((fn, summ))
        return summ

    monkeypatch.setattr(S, "_summarise", record)
    for case in _collect():
        files, check = case.values
        _both(lambda: analyze_project(files, check))
    handing_out = [(fn, summ) for fn, summ in made if summ.returns_kind or summ.returns_tuple]
    assert len(handing_out) > 10  # the test data has helpers that hand out sessions and connections
    for fn, summ in handing_out:
        shape = K.return_shape(fn)
        assert not summ.returns_kind or shape & K.RETURNS_ONE, fn.name
        assert not summ.returns_tuple or shape & K.RETURNS_TUPLE, fn.name


def test_libcst_sees_only_the_candidate_bodies_when_no_fix_is_wanted(tmp_path, monkeypatch):
    import libcst

    from txlint.analysis import analyze
    from txlint.context import Options
    from txlint.registry import all_codes

    from txlint.lazylib import libcst as lazy

    seen = []
    real = libcst.parse_module
    spy = lambda text, *a, **k: seen.append(text) or real(text, *a, **k)  # noqa: E731
    monkeypatch.setattr(libcst, "parse_module", spy)
    monkeypatch.setattr(lazy, "parse_module", spy)
    source = ("import sqlite3\n\n\ndef helper(rows):\n    total = sum(r[0] for r in rows)\n    return total\n\n\n"
              "def count(p):\n    conn = sqlite3.connect(p)\n    return conn.execute('SELECT 1').fetchone()\n")
    (tmp_path / "leak.py").write_text(source)
    found = {}
    for fixes in (False, True):
        _PROJECTS.clear()
        opts = Options(enabled=frozenset(all_codes()), project_root=str(tmp_path), want_fixes=fixes)
        found[fixes] = [(d.line, d.column, d.code, d.message)
                        for d in analyze(str(tmp_path / "leak.py"), "leak.py", opts).diagnostics]
    assert found[False] == found[True] and {f[2] for f in found[False]} == {"TXL201", "TXL202"}
    blanked, full = seen
    assert "sum(r[0]" not in blanked and "sqlite3.connect(p)" in blanked
    assert full == source and blanked.count("\n") == source.count("\n")
