"""Go-analysis style test data: files under tests/testdata/ mark each expected finding with
``# expect: TXL201`` on its line; every unmarked finding fails.  A folder holding ``__init__.py``
files or a ``.project`` marker is a small project: each of its files is checked with the folder as
project root, so imports between its modules resolve."""

from __future__ import annotations

import os

import pytest

from txlint.testing import analyze_project, expected_findings

HERE = os.path.join(os.path.dirname(__file__), "testdata")
CHECKED_SUFFIXES = (".py", ".conf", ".ini", ".service", ".yaml", ".yml")


def _is_project(folder: str) -> bool:
    return os.path.exists(os.path.join(folder, ".project")) or any(
        os.path.isfile(os.path.join(folder, d, "__init__.py")) for d in os.listdir(folder)
        if os.path.isdir(os.path.join(folder, d)))


def _collect():
    cases = []
    for family in sorted(os.listdir(HERE)) if os.path.isdir(HERE) else []:
        fdir = os.path.join(HERE, family)
        if not os.path.isdir(fdir):
            continue
        for entry in sorted(os.listdir(fdir)):
            full = os.path.join(fdir, entry)
            if os.path.isdir(full) and _is_project(full):
                files = {}
                for root, _, names in os.walk(full):
                    for name in names:
                        if name.endswith(CHECKED_SUFFIXES):
                            p = os.path.join(root, name)
                            with open(p, encoding="utf-8") as handle:
                                files[os.path.relpath(p, full)] = handle.read()
                for rel in sorted(files):
                    cases.append(pytest.param(files, rel, id=f"{family}/{entry}/{rel}"))
            elif entry.endswith(CHECKED_SUFFIXES):
                with open(full, encoding="utf-8") as handle:
                    cases.append(pytest.param({entry: handle.read()}, entry, id=f"{family}/{entry}"))
    return cases


@pytest.mark.parametrize("files,check", _collect())
def test_expected_findings_match(files, check):
    result = analyze_project(files, check)
    actual = {(d.line, d.code) for d in result.diagnostics}
    expected = expected_findings(files[check])
    missing, extra = expected - actual, actual - expected
    detail = "\n".join(f"  {d.line}:{d.column} {d.code} {d.message}" for d in result.diagnostics)
    assert not missing and not extra, f"missing {sorted(missing)} unexpected {sorted(extra)}\n{detail}"
