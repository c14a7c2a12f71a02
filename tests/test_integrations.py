"""flake8 plugin and pre-commit hook, run for real; the wheel's layout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import CLEAN_SQLITE, LEAK_SQLITE, MIXED, run_txlint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def _tool(name: str) -> str:
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        path = shutil.which(name) or ""
    if not path:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return path


def _finding_keys(out: str) -> set[tuple[int, int, str]]:
    keys = set()
    for line in out.splitlines():
        parts = line.split(":", 3)
        if len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
            keys.add((int(parts[1]), int(parts[2]), parts[3].split()[0]))
    return keys


@pytest.mark.parametrize("source", [MIXED, LEAK_SQLITE,
                                    'from sqlalchemy import create_engine\n\n'
                                    'engine = create_engine("postgresql://app@db/app")  # noqa: TXL402\n'
                                    'other = create_engine("postgresql://app@db/other")\n'])
def test_flake8_reports_what_txlint_reports(tmp_path, source):
    (tmp_path / "mod.py").write_text(source)
    flake8 = _tool("flake8")
    proc = subprocess.run([flake8, "--isolated", "--select", "TXL", "mod.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    tx = run_txlint("--no-cache", "mod.py", cwd=str(tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert _finding_keys(proc.stdout) == _finding_keys(tx.out) != set()
    for line in proc.stdout.splitlines():
        assert line.split(":", 3)[3].lstrip().startswith("TXL")


def test_flake8_clean_file(tmp_path):
    (tmp_path / "clean.py").write_text(CLEAN_SQLITE)
    proc = subprocess.run([_tool("flake8"), "--isolated", "--select", "TXL", "clean.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout == ""


def test_precommit_try_repo(tmp_path):
    pre_commit = _tool("pre-commit")
    if not os.path.isdir(os.path.join(ROOT, ".git")):
        pytest.skip("pre-commit try-repo needs txlint's own git checkout")
    repo = tmp_path / "repo"
    (repo / "deploy").mkdir(parents=True)
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pc-home"), GIT_AUTHOR_NAME="t",
               GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    subprocess.run(["git", "init", "-q", "."], cwd=repo, check=True, env=env)
    (repo / "mixed.py").write_text(MIXED)
    (repo / "clean.py").write_text(CLEAN_SQLITE)
    (repo / "deploy" / "supervisord.conf").write_text(
        "[program:celery]\ncommand=celery -A proj worker --loglevel=INFO\nstopwaitsecs=10\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=repo, check=True, env=env)

    def try_repo(*files):
        return subprocess.run([pre_commit, "try-repo", ROOT, "txlint", "--verbose", "--files", *files], cwd=repo,
                              capture_output=True, text=True, timeout=600, env=env)

    leak = try_repo("mixed.py")
    assert leak.returncode != 0 and "TXL201" in leak.stdout and "Failed" in leak.stdout, leak.stdout + leak.stderr
    clean = try_repo("clean.py")
    assert clean.returncode == 0 and "Passed" in clean.stdout, clean.stdout + clean.stderr
    conf = try_repo("deploy/supervisord.conf")
    assert conf.returncode != 0 and "TXL501" in conf.stdout, conf.stdout + conf.stderr


def test_wheel_ships_rules_inside_the_package(tmp_path):
    pytest.importorskip("build")
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path),
                           ROOT], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next(p for p in os.listdir(tmp_path) if p.endswith(".whl"))
    names = zipfile.ZipFile(tmp_path / wheel).namelist()
    assert "txlint/rules/__init__.py" in names
    assert any(n.startswith("txlint/rules/") and n.endswith("connections.py") for n in names) or \
        any(n.startswith("txlint/rules/") and n.endswith(".py") and "__init__" not in n for n in names)
    assert not any(n.startswith("rules/") for n in names), "no top-level rules package may leak"
    # installed into a fresh venv, the package imports and finds its rules
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    vpy = venv / "bin" / "python"
    subprocess.run([str(vpy), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(tmp_path / wheel)],
                   check=True, timeout=300)
    # the wheel's dependencies come from this interpreter's site-packages (no network needed)
    deps = os.pathsep.join({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    out = subprocess.run([str(vpy), "-c", "import txlint, txlint.registry as r, importlib.util as u; "
                          "print(len(r.load_rules()), u.find_spec('rules') is None, txlint.__file__)"],
                         capture_output=True, text=True, cwd=str(tmp_path), timeout=120,
                         env=dict(os.environ, PYTHONPATH=deps))
    assert str(venv) in out.stdout, out.stdout + out.stderr
    count, no_top_level, _ = out.stdout.split()
    assert int(count) >= 4 and no_top_level == "True", out.stderr
