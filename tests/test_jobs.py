"""Output does not depend on how many workers run, nor on the cache: --jobs 1, 2 and 4, cold and warm,
give byte-identical reports on a multi-file project (every rule family, project-wide facts, bad files)."""

from __future__ import annotations

import json
import os
import shutil

from conftest import LEAK_SQLITE, MIXED

TESTDATA = os.path.join(os.path.dirname(__file__), "testdata")


def _make_project(project) -> None:
    shutil.copytree(TESTDATA, project.root / "src")
    project.write("pyproject.toml", "[tool.txlint]\n")
    for i in range(12):  # more files than workers, in several folders
        project.write(f"src/many/pkg_{i % 3}/leak_{i}.py", LEAK_SQLITE)
        project.write(f"src/many/pkg_{i % 3}/mixed_{i}.py", MIXED)
    project.write("src/bad/syntax.py", "def broken(:\n    pass\n")
    (project.root / "src" / "bad" / "latin1.py").write_bytes(b'NAME = "caf\xe9"\n')


def test_jobs_1_2_4_give_identical_json(project):
    _make_project(project)
    outs = {}
    for jobs in ("1", "2", "4"):
        r = project.run("--no-cache", "--jobs", jobs, "--format", "json", "src")
        assert r.rc == 1, r.err
        outs[jobs] = r.out
    assert outs["1"] == outs["2"] == outs["4"]
    report = json.loads(outs["1"])
    codes = {d["code"] for d in report["diagnostics"]}
    # the project is rich enough for the comparison to mean something
    assert {"TXL000", "TXL101", "TXL201", "TXL202", "TXL402", "TXL501"} <= codes, codes
    assert report["files_checked"] > 60
    keys = [(d["path"], d["line"], d["column"], d["code"]) for d in report["diagnostics"]]
    assert keys == sorted(keys)


def test_warm_cache_gives_the_same_report_as_a_cold_run(project):
    _make_project(project)
    cold = project.run("--no-cache", "--jobs", "2", "--format", "json", "src")
    first = project.run("--jobs", "2", "--format", "json", "src")
    warm = project.run("--verbose", "--jobs", "1", "--format", "json", "src")
    assert cold.out == first.out == warm.out
    python_files = len(list((project.root / "src").rglob("*.py")))
    assert f" {python_files} from cache" in warm.err, warm.err  # config files (TXL501) are not cached


def test_each_worker_takes_a_run_of_neighbouring_files_then_helps_from_the_end():
    from txlint.runner import _next_item, _segments

    todo = list(range(10))
    segments = _segments(todo, 3)
    assert [list(s) for s in segments] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    # worker 2 runs fast: its own run in order, then the last file of the longest run left
    taken = [_next_item(segments, 2) for _ in range(4)]
    assert taken == [7, 8, 9, 3]
    assert _next_item(segments, 0) == 0 and _next_item(segments, 1) == 4
    rest = []
    while True:
        item = _next_item(segments, 1)
        if item is None:
            break
        rest.append(item)
    assert sorted(rest + taken + [0, 4]) == todo  # every file exactly once
    assert _next_item(segments, 0) is None


def test_more_workers_than_files_leaves_some_runs_empty():
    from txlint.runner import _next_item, _segments

    segments = _segments(["a", "b"], 4)
    assert [len(s) for s in segments] == [1, 1, 0, 0]
    assert _next_item(segments, 3) == "a" and _next_item(segments, 2) == "b"
    assert _next_item(segments, 0) is None


def test_a_module_name_means_the_package_beside_the_importing_file_whatever_was_analysed_before(tmp_path):
    """Two services of one repository each have an ``app`` package (import roots svc_a/ and
    svc_b/).  What ``app.db`` is in svc_a/run.py must not depend on whether this worker analysed a
    file of svc_b first (it once did: the first import root seen won, and --jobs 2 lost a leak)."""
    from txlint.analysis import _PROJECTS, analyze
    from txlint.context import Options
    from txlint.registry import all_codes

    files = {
        "pyproject.toml": "[tool.txlint]\n",
        "svc_a/app/__init__.py": "",
        "svc_a/app/db.py": "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n",
        "svc_a/run.py": "from app import db\n\n\ndef count():\n    s = db.SessionLocal()\n    return s.scalar(1)\n",
        "svc_b/app/__init__.py": "",
        "svc_b/app/db.py": "SessionLocal = None\n",
        "svc_b/main.py": "from app import db\n\n\ndef get():\n    return db.SessionLocal\n",
    }
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    options = Options(enabled=frozenset(all_codes()), project_root=str(tmp_path))

    def codes(order):
        _PROJECTS.clear()
        found = {}
        for rel in order:
            result = analyze(str(tmp_path / rel), rel, options)
            found[rel] = sorted(d.code for d in result.diagnostics)
        _PROJECTS.clear()
        return found["svc_a/run.py"]

    alone = codes(["svc_a/run.py"])
    assert "TXL201" in alone, alone
    assert codes(["svc_b/main.py", "svc_b/app/db.py", "svc_a/run.py"]) == alone
    assert codes(["svc_a/app/db.py", "svc_b/main.py", "svc_a/run.py"]) == alone


def test_a_large_file_left_alone_still_goes_to_a_worker_when_the_workers_read_files(tmp_path):
    """Without a cache the main process does not read the files; whether the one file left is
    analysed in-process (no time limit) is then decided by its size, as when it had its bytes."""
    from txlint.discovery import Target
    from txlint.runner import IN_PROCESS_BYTES, _fits_in_process

    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * (IN_PROCESS_BYTES // 6 + 10))
    small = tmp_path / "small.py"
    small.write_text("x = 1\n")
    target = lambda p: Target(str(p), p.name, "python")  # noqa: E731
    assert not _fits_in_process((0, target(big), None, None))
    assert not _fits_in_process((0, target(big), big.read_bytes(), None))
    assert _fits_in_process((0, target(small), None, None))
