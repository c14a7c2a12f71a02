"""Baselines: write, load, filter (by path + code + fingerprint, as a multiset), and clear errors."""

from __future__ import annotations

import json
import os

import pytest

from txlint.baseline import Baseline, BaselineError, load_baseline, normalize_path, write_baseline
from txlint.diagnostics import Diagnostic, fingerprint

LEAK = [
    "import sqlite3",
    "",
    "",
    "def count_rows(path):",
    "    conn = sqlite3.connect(path)",
    '    rows = conn.execute("SELECT count(*) FROM items").fetchone()',
    "    return rows[0]",
]
MOVED = ['"""Row counting helpers."""', "import logging", "", "LOG = logging.getLogger(__name__)"] + LEAK
NEWEST = ["", "", "def newest(path):", "    other = sqlite3.connect(path)",
          '    return other.execute("SELECT max(id) FROM items").fetchone()']


def d(path="app.py", line=5, code="TXL201", fp="abc", message="connection is not closed") -> Diagnostic:
    return Diagnostic(path, line, 12, line, 28, code, "connection-not-closed", message, (), fp)


def leak_diags(lines, path="app.py"):
    """What the leak rules report for the sqlite3.connect lines of ``lines`` (fingerprints computed
    the way the engine does)."""
    out = []
    for i, text in enumerate(lines, 1):
        if "sqlite3.connect" in text:
            for code in ("TXL201", "TXL202"):
                out.append(d(path, i, code, fingerprint(code, lines, i)))
    return out


def test_round_trip(tmp_path):
    path = tmp_path / "baseline.json"
    diags = leak_diags(LEAK) + [d("pkg/b.py", 3, "TXL402", "f402", "engine")]
    write_baseline(str(path), diags)
    loaded = load_baseline(str(path))
    assert isinstance(loaded, Baseline) and len(loaded) == 3
    assert sorted((e.path, e.code, e.fingerprint, e.message, e.line) for e in loaded.entries) == \
        sorted((x.path, x.code, x.fingerprint, x.message, x.line) for x in diags)
    assert loaded.filter(diags) == []


def test_file_shape_sorted_and_deterministic(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    diags = [d("z.py", 9, "TXL202", "f1"), d("a.py", 7, "TXL201", "f2"), d("a.py", 2, "TXL201", "f3")]
    write_baseline(str(a), diags)
    write_baseline(str(b), list(reversed(diags)))
    assert a.read_text() == b.read_text()
    doc = json.loads(a.read_text())
    assert doc["version"] == 1 and doc["tool"] == "txlint"
    assert [list(f) for f in doc["findings"]] == [["path", "code", "fingerprint", "message", "line"]] * 3
    assert [(f["path"], f["line"]) for f in doc["findings"]] == [("a.py", 2), ("a.py", 7), ("z.py", 9)]
    assert a.read_text().endswith("}\n")


def test_write_leaves_no_temporary_files_and_overwrites(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text("old")
    write_baseline(str(path), [d()])
    assert sorted(os.listdir(tmp_path)) == ["baseline.json"]
    assert len(load_baseline(str(path))) == 1


def test_finding_that_moved_is_hidden(tmp_path):
    path = str(tmp_path / "baseline.json")
    write_baseline(path, leak_diags(LEAK))
    moved = leak_diags(MOVED)
    assert [x.line for x in moved] == [9, 9]
    assert load_baseline(path).filter(moved) == []


def test_same_fingerprint_other_line_is_hidden():
    assert Baseline(load_entries([d(line=5)])).filter([d(line=40)]) == []


def load_entries(diags):
    from txlint.baseline import loads, dumps

    return loads(dumps(diags)).entries


def test_new_finding_is_reported(tmp_path):
    path = str(tmp_path / "baseline.json")
    write_baseline(path, leak_diags(LEAK))
    now = leak_diags(MOVED + NEWEST)
    kept = load_baseline(path).filter(now)
    assert [(x.line, x.code) for x in kept] == [(15, "TXL201"), (15, "TXL202")]


def test_other_code_path_or_fingerprint_is_not_hidden():
    base = Baseline(load_entries([d()]))
    assert base.filter([d(code="TXL202")]) == [d(code="TXL202")]
    assert base.filter([d(path="other.py")]) == [d(path="other.py")]
    assert base.filter([d(fp="zzz")]) == [d(fp="zzz")]
    assert base.filter([d()]) == []


def test_matching_is_a_multiset():
    base = Baseline(load_entries([d(line=5), d(line=6)]))  # two identical entries (same fingerprint)
    kept = base.filter([d(line=5), d(line=6), d(line=7)])
    assert kept == [d(line=7)]
    assert Baseline(load_entries([d()])).filter([d(line=5), d(line=6)]) == [d(line=6)]


def test_filter_keeps_order():
    diags = [d("a.py", 1, fp="1"), d("b.py", 2, fp="2"), d("c.py", 3, fp="3"), d("d.py", 4, fp="4")]
    base = Baseline(load_entries([diags[1]]))
    assert base.filter(diags) == [diags[0], diags[2], diags[3]]


def test_paths_are_compared_normalised(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = Baseline(load_entries([d("./src/app.py")]))
    assert base.entries[0].path == "src/app.py"
    assert base.filter([d("src/app.py")]) == []
    assert base.filter([d("src\\app.py")]) == []
    assert base.filter([d("src//./app.py")]) == []
    assert base.filter([d(str(tmp_path / "src" / "app.py"))]) == []
    assert base.filter([d("lib/app.py")]) == [d("lib/app.py")]
    assert normalize_path("./a/../b.py") == "b.py"


def test_missing_baseline_is_an_error(tmp_path):
    with pytest.raises(BaselineError, match="not found.*nope.json"):
        load_baseline(str(tmp_path / "nope.json"))


@pytest.mark.parametrize("text, why", [
    ("{not json", "invalid JSON"),
    ("", "invalid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"version": 1, "tool": "txlint"}', "findings"),
    ('{"version": 1, "findings": {}}', "findings"),
    ('{"version": 7, "findings": []}', "version"),
    ('{"version": 1, "tool": "ruff", "findings": []}', "ruff"),
    ('{"version": 1, "findings": [3]}', r"findings\[0\]"),
    ('{"version": 1, "findings": [{"path": "a.py", "code": "TXL201"}]}', "fingerprint"),
    ('{"version": 1, "findings": [{"path": 1, "code": "TXL201", "fingerprint": "x"}]}', "path"),
    ("[" * 100000, "JSON"),
])
def test_corrupt_baseline_is_an_error(tmp_path, text, why):
    path = tmp_path / "baseline.json"
    path.write_text(text)
    with pytest.raises(BaselineError, match=why) as info:
        load_baseline(str(path))
    assert str(path) in str(info.value)


def test_binary_or_directory_baseline_is_an_error(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BaselineError, match="UTF-8"):
        load_baseline(str(path))
    with pytest.raises(BaselineError, match="directory"):
        load_baseline(str(tmp_path))


def test_unwritable_baseline_is_an_error(tmp_path):
    with pytest.raises(BaselineError, match="cannot write"):
        write_baseline(str(tmp_path / "no" / "such" / "dir" / "baseline.json"), [d()])


def test_empty_baseline_hides_nothing(tmp_path):
    path = str(tmp_path / "baseline.json")
    write_baseline(path, [])
    assert json.loads(open(path).read())["findings"] == []
    assert load_baseline(path).filter([d()]) == [d()]
