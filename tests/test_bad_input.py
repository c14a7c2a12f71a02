"""Bad input never crashes the run: each bad file is one TXL000, the others are still checked."""

from __future__ import annotations

import json
import os
import signal

import pytest

from conftest import LEAK_SQLITE

from txlint import runner
from txlint.context import Options
from txlint.discovery import Excluder, discover
from txlint.registry import all_codes


def _by_file(out: str) -> dict[str, set[tuple[int, str]]]:
    by: dict[str, set] = {}
    for d in json.loads(out)["diagnostics"]:
        by.setdefault(d["path"], set()).add((d["line"], d["code"]))
    return by


def test_bad_files_each_give_txl000_and_the_rest_is_checked(project):
    project.write("bad/good.py", LEAK_SQLITE)
    project.write("bad/syntax.py", "def broken(:\n    pass\n")
    (project.root / "bad" / "bom.py").write_bytes(b"\xef\xbb\xbf" + LEAK_SQLITE.encode())
    (project.root / "bad" / "crlf.py").write_bytes(LEAK_SQLITE.replace("\n", "\r\n").encode())
    (project.root / "bad" / "nul.py").write_bytes(b"import os\nx = 1\0\ny = 2\n")
    (project.root / "bad" / "latin1.py").write_bytes(b'NAME = "caf\xe9"\n')
    (project.root / "bad" / "coding.py").write_bytes(b'# -*- coding: latin-1 -*-\nNAME = "caf\xe9"\n' +
                                                     LEAK_SQLITE.encode())
    project.write("bad/deep_parens.py", "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n")
    project.write("bad/deep_binop.py", "x = " + " + ".join(["1"] * 1000) + "\n")
    project.write("bad/empty.py", "")
    (project.root / "bad" / "y.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    os.symlink("does-not-exist.py", project.root / "bad" / "dangling.py")
    os.symlink("loop_b.py", project.root / "bad" / "loop_a.py")
    os.symlink("loop_a.py", project.root / "bad" / "loop_b.py")
    (project.root / "bad" / "pkg").mkdir()
    os.symlink("..", project.root / "bad" / "pkg" / "again")
    project.write("bad/x.py/inner.py", LEAK_SQLITE)
    r = project.run("--no-cache", "--format", "json", "bad")
    assert r.rc == 1
    by = _by_file(r.out)
    for name in ("syntax.py", "nul.py", "latin1.py", "y.py"):
        assert {c for _, c in by.get(f"bad/{name}", set())} == {"TXL000"}, name
    for name in ("good.py", "bom.py", "crlf.py", "x.py/inner.py"):
        assert (5, "TXL201") in by[f"bad/{name}"], name
    assert (7, "TXL201") in by["bad/coding.py"]
    assert "bad/empty.py" not in by
    assert {c for _, c in by.get("bad/deep_binop.py", set())} <= {"TXL000"}
    assert {c for _, c in by.get("bad/deep_parens.py", set())} <= {"TXL000"}
    # met while walking, broken links and loops are skipped
    assert not any(p.startswith(("bad/dangling", "bad/loop_")) for p in by)
    assert json.loads(r.out)["files_checked"] >= 10


def test_explicit_broken_links_and_directories_are_txl000(project):
    os.symlink("does-not-exist.py", project.root / "dangling.py")
    os.symlink("loop_b.py", project.root / "loop_a.py")
    os.symlink("loop_a.py", project.root / "loop_b.py")
    project.write("good.py", LEAK_SQLITE)
    r = project.run("--no-cache", "dangling.py", "loop_a.py", "missing.py", "good.py")
    got = {(p, c) for p, _, c in r.findings()}
    assert {("dangling.py", "TXL000"), ("loop_a.py", "TXL000"), ("missing.py", "TXL000")} <= got
    assert ("good.py", "TXL201") in got
    assert "symbolic link loop" in r.out and "broken symbolic link" in r.out


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file_is_txl000(project):
    path = project.write("secret.py", LEAK_SQLITE)
    os.chmod(path, 0)
    try:
        r = project.run("--no-cache", "secret.py")
        assert ("secret.py", 1, "TXL000") in r.findings() and "permission denied" in r.out
    finally:
        os.chmod(path, 0o644)


def test_a_worker_that_crashes_costs_only_its_file(tmp_path, monkeypatch):
    for name in ("a.py", "boom.py", "c.py"):
        (tmp_path / name).write_text(LEAK_SQLITE)
    real = runner.analyze

    def crashing(path, display, options, **kw):
        if display.endswith("boom.py"):
            os.kill(os.getpid(), signal.SIGSEGV)  # what a native parser crash looks like
        return real(path, display, options, **kw)

    monkeypatch.setattr(runner, "analyze", crashing)  # inherited by the forked workers
    targets = discover([str(tmp_path)], Excluder.build([]))
    options = Options(enabled=frozenset(all_codes()), project_root=str(tmp_path))
    import faulthandler

    was_enabled = faulthandler.is_enabled()
    faulthandler.disable()  # pytest's crash dump would be printed by the crashing child
    try:
        results, stats = runner.run(targets, options, jobs=2, cache=None)
    finally:
        if was_enabled:
            faulthandler.enable()
    by = {os.path.basename(r.path): {d.code for d in r.diagnostics} for r in results}
    assert by["boom.py"] == {"TXL000"}
    assert "TXL201" in by["a.py"] and "TXL201" in by["c.py"]
    assert stats.crashed == 1
    crash = [d for r in results for d in r.diagnostics if d.code == "TXL000"][0]
    assert "crashed" in crash.message and "signal 11" in crash.message


def test_a_rule_that_raises_costs_only_its_file(tmp_path, monkeypatch):
    for name in ("a.py", "bug.py"):
        (tmp_path / name).write_text(LEAK_SQLITE)
    real = runner.analyze

    def buggy(path, display, options, **kw):
        if display.endswith("bug.py"):
            raise RuntimeError("rule bug")
        return real(path, display, options, **kw)

    monkeypatch.setattr(runner, "analyze", buggy)
    targets = discover([str(tmp_path)], Excluder.build([]))
    options = Options(enabled=frozenset(all_codes()), project_root=str(tmp_path))
    results, _ = runner.run(targets, options, jobs=1, cache=None)
    by = {os.path.basename(r.path): r.diagnostics for r in results}
    assert [d.code for d in by["bug.py"]] == ["TXL000"] and "rule bug" in by["bug.py"][0].message
    assert "TXL201" in {d.code for d in by["a.py"]}


def test_nothing_is_written_without_fix(project):
    path = project.write("leak.py", LEAK_SQLITE)
    before = os.stat(path).st_mtime_ns, open(path).read()
    project.run("--no-cache", "--format", "sarif", ".")
    assert (os.stat(path).st_mtime_ns, open(path).read()) == before
    assert sorted(os.listdir(project.root)) == ["leak.py"]
