"""``per-file-ignores`` in the configuration: gitignore-style patterns relative to the config file,
codes or prefixes; applied by the CLI (findings and fixes) and the flake8 plugin."""

from __future__ import annotations

import ast
import os
import pickle

import pytest
from conftest import MIXED, run_txlint

from txlint.registry import all_codes
from txlint.settings import ConfigError, PerFileIgnores, build_settings

CONFIG = '''
[tool.txlint]
per-file-ignores = { "tests/**" = ["TXL201", "TXL202"], "alembic/versions/*" = ["TXL2"], "conftest.py" = ["TXL"] }
'''

FILES = ("app/db.py", "tests/test_db.py", "alembic/versions/001_init.py", "app/tests/test_inner.py",
         "app/sub/conftest.py")


@pytest.fixture
def proj(project):
    project.write("pyproject.toml", CONFIG)
    for rel in FILES:
        project.write(rel, MIXED)
    return project


def codes_by_file(run) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path, _, code in run.findings():
        out.setdefault(path.replace(os.sep, "/").lstrip("./"), set()).add(code)
    return out


EXPECTED = {
    "app/db.py": {"TXL201", "TXL202", "TXL402"},
    "tests/test_db.py": {"TXL402"},                       # tests/** ignores TXL201, TXL202
    "alembic/versions/001_init.py": {"TXL402"},           # TXL2 is a prefix
    "app/tests/test_inner.py": {"TXL201", "TXL202", "TXL402"},  # tests/** is anchored at the config
    # app/sub/conftest.py: a bare name matches anywhere; TXL ignores everything
}


def test_cli_applies_patterns_and_prefixes(proj):
    r = proj.run("--no-cache", ".")
    assert r.rc == 1
    assert codes_by_file(r) == EXPECTED


def test_patterns_are_relative_to_the_config_file_not_the_current_folder(proj):
    r = run_txlint("--no-cache", "..", cwd=str(proj.root / "app"))
    got = {k.replace("../", "", 1): v for k, v in codes_by_file(r).items()}
    assert got == EXPECTED


def test_files_named_explicitly_and_stdin(proj):
    r = proj.run("--no-cache", "tests/test_db.py", "app/db.py")
    assert codes_by_file(r) == {"tests/test_db.py": {"TXL402"}, "app/db.py": {"TXL201", "TXL202", "TXL402"}}
    s = proj.run("--no-cache", "--stdin-filename", "tests/test_stdin.py", "-", stdin=MIXED)
    assert {c for _, _, c in s.findings()} == {"TXL402"}


def test_ignored_codes_are_not_fixed(proj):
    proj.write("pyproject.toml", '[tool.txlint]\nper-file-ignores = { "tests/**" = ["TXL402"] }\n')
    r = proj.run("--no-cache", "--fix", "tests/test_db.py", "app/db.py")
    assert "pool_pre_ping" not in (proj.root / "tests/test_db.py").read_text()
    assert "pool_pre_ping=True" in (proj.root / "app/db.py").read_text()
    assert "tests/test_db.py" not in codes_by_file(r)   # the with-fix of TXL201/TXL202 still applies there


def test_cached_results_follow_the_configuration(proj):
    first = proj.run(".")
    assert codes_by_file(first) == EXPECTED
    assert codes_by_file(proj.run(".")) == EXPECTED                 # from the cache, same answer
    proj.write("pyproject.toml", '[tool.txlint]\nper-file-ignores = { "app/*.py" = ["TXL4"] }\n')
    changed = codes_by_file(proj.run("."))
    assert changed["app/db.py"] == {"TXL201", "TXL202"}
    assert changed["tests/test_db.py"] == {"TXL201", "TXL202", "TXL402"}
    proj.write("pyproject.toml", "[tool.txlint]\n")
    assert all(v == {"TXL201", "TXL202", "TXL402"} for v in codes_by_file(proj.run(".")).values())


def test_txlint_toml_top_level_key(project):
    project.write("txlint.toml", 'per-file-ignores = { "scripts/*" = ["TXL402"] }\n')
    project.write("scripts/once.py", MIXED)
    r = project.run("--no-cache", "--config", "txlint.toml", "scripts")
    assert codes_by_file(r) == {"scripts/once.py": {"TXL201", "TXL202"}}


@pytest.mark.parametrize("value", [
    '"tests/**"',
    '{ "tests/**" = "TXL201" }',
    '{ "tests/**" = [1] }',
    '{ "tests/**" = ["TXL999"] }',
    '{ "tests/**" = ["flake8"] }',
    '["tests/**"]',
])
def test_wrong_values_are_configuration_errors(project, value):
    project.write("pyproject.toml", f"[tool.txlint]\nper-file-ignores = {value}\n")
    project.write("app.py", MIXED)
    r = project.run("--no-cache", "app.py")
    assert r.rc == 2
    assert "per-file-ignores" in r.err and "pyproject.toml" in r.err


def test_settings_ignored_codes(tmp_path):
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    s = build_settings(config=None, select=None, ignore=None, exclude=None, known_codes=list(all_codes()),
                       cwd=str(tmp_path))
    codes = list(all_codes())
    assert s.ignored_codes(str(tmp_path / "tests" / "a.py"), codes) == {"TXL201", "TXL202"}
    assert s.ignored_codes(str(tmp_path / "tests" / "deep" / "b.py"), codes) == {"TXL201", "TXL202"}
    assert s.ignored_codes(str(tmp_path / "alembic" / "versions" / "x.py"), codes) == \
        {c for c in codes if c.startswith("TXL2")}
    assert s.ignored_codes(str(tmp_path / "pkg" / "conftest.py"), codes) == set(codes)
    assert s.ignored_codes(str(tmp_path / "app" / "db.py"), codes) == set()
    assert s.ignored_codes(str(tmp_path.parent / "tests" / "a.py"), codes) == set()   # outside the config's folder
    # part of the cache key
    other = build_settings(config=None, select=None, ignore=None, exclude=None, known_codes=codes,
                           cwd=str(tmp_path))
    assert other.fingerprint(codes) == s.fingerprint(codes)
    other.per_file_ignores = PerFileIgnores(str(tmp_path), (("tests/**", ("TXL201",)),))
    assert other.fingerprint(codes) != s.fingerprint(codes)


def test_relative_path_resolves_against_the_current_folder(tmp_path, monkeypatch):
    pfi = PerFileIgnores(str(tmp_path), (("tests/**", ("TXL2",)),))
    monkeypatch.chdir(tmp_path)
    assert pfi.ignored("tests/x.py", ["TXL201", "TXL402"]) == {"TXL201"}
    assert pfi.ignored("./tests/x.py", ["TXL201", "TXL402"]) == {"TXL201"}


def test_pickles_for_the_worker_processes(tmp_path):
    pfi = PerFileIgnores(str(tmp_path), (("tests/**", ("TXL2",)),))
    assert pfi.ignored(str(tmp_path / "tests" / "x.py"), ["TXL201"]) == {"TXL201"}   # compiles the patterns
    back = pickle.loads(pickle.dumps(pfi))
    assert back == pfi
    assert back.ignored(str(tmp_path / "tests" / "x.py"), ["TXL201", "TXL402"]) == {"TXL201"}


def test_empty_pattern_is_an_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.txlint]\nper-file-ignores = { " " = ["TXL201"] }\n')
    with pytest.raises(ConfigError):
        build_settings(config=None, select=None, ignore=None, exclude=None, known_codes=list(all_codes()),
                       cwd=str(tmp_path))


def test_flake8_plugin_applies_per_file_ignores(proj, monkeypatch):
    from txlint.flake8_plugin import Plugin

    monkeypatch.chdir(proj.root)

    def codes(rel: str) -> set[str]:
        path = str(proj.root / rel)
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
        return {msg.split()[0] for _, _, msg, _ in Plugin(ast.parse("".join(lines)), path, lines).run()}

    assert codes("tests/test_db.py") == {"TXL402"}
    assert codes("app/db.py") == {"TXL201", "TXL202", "TXL402"}
    assert codes("app/sub/conftest.py") == set()
