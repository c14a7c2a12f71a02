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
