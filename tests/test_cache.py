"""The result cache: where it lives (--cache-dir, TXLINT_CACHE_DIR), two runs sharing it, and that it
is the user's own (a shipped, git-tracked or symlinked cache is never trusted nor written through)."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys

import pytest

from conftest import CLEAN_SQLITE, LEAK_SQLITE, MIXED

from txlint import cache as cache_mod
from txlint.cache import Cache, cache_location, index_has_prefix, open_cache, tracked_by_git
from txlint.diagnostics import Diagnostic, FileResult

HAS_GIT = shutil.which("git") is not None
needs_git = pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def git(cwd, *args) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=str(cwd), env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture(params=["openat", "paths"])
def io_mode(request, monkeypatch):
    """Run in-process cache tests both with descriptor-relative opens (POSIX) and with the
    path-based fallback other platforms use."""
    if request.param == "openat" and not cache_mod._USE_FDS:
        pytest.skip("no openat() here")
    monkeypatch.setattr(cache_mod, "_USE_FDS", request.param == "openat")
    return request.param


def entries(folder) -> list:
    return sorted(p for p in folder.rglob("*.json")) if folder.exists() else []


def all_files(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


# ---- where the cache lives ----------------------------------------------------------------------

def test_cache_dir_option_puts_the_cache_there(project, tmp_path_factory):
    project.write("leak.py", LEAK_SQLITE)
    elsewhere = tmp_path_factory.mktemp("ci") / "txlint-cache"
    first = project.run("--verbose", "--cache-dir", str(elsewhere), "leak.py")
    assert first.rc == 1 and ("leak.py", 5, "TXL201") in first.findings()
    assert not (project.root / ".txlint_cache").exists()
    assert entries(elsewhere) and (elsewhere / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f59")
    second = project.run("--verbose", "--cache-dir", str(elsewhere), "leak.py")
    assert "1 from cache" in second.err and second.out == first.out


def test_cache_dir_relative_to_the_current_directory(project):
    project.write("leak.py", LEAK_SQLITE)
    project.run("--cache-dir", "build-cache/tx", "leak.py")
    assert entries(project.root / "build-cache" / "tx")
    assert not (project.root / ".txlint_cache").exists()


def test_environment_variable_and_option_precedence(project, tmp_path_factory):
    project.write("leak.py", LEAK_SQLITE)
    from_env = tmp_path_factory.mktemp("env") / "c"
    from_option = tmp_path_factory.mktemp("opt") / "c"
    r = project.run("leak.py", env={"TXLINT_CACHE_DIR": str(from_env)})
    assert r.rc == 1 and entries(from_env) and not (project.root / ".txlint_cache").exists()
    r = project.run("--cache-dir", str(from_option), "leak.py", env={"TXLINT_CACHE_DIR": str(from_env)})
    assert r.rc == 1 and entries(from_option)  # the option wins over the variable
    assert len(entries(from_env)) == 1
    # an empty variable is as good as none: the default at the project root
    project.run("leak.py", env={"TXLINT_CACHE_DIR": ""})
    assert entries(project.root / ".txlint_cache")


def test_cache_location_unit(tmp_path):
    root = str(tmp_path)
    assert cache_location(root, None, {}) == os.path.join(root, ".txlint_cache")
    assert cache_location(root, None, {"TXLINT_CACHE_DIR": "/x/env"}) == "/x/env"
    assert cache_location(root, "/x/opt", {"TXLINT_CACHE_DIR": "/x/env"}) == "/x/opt"


def test_no_cache_wins_over_cache_dir(project, tmp_path_factory):
    project.write("leak.py", LEAK_SQLITE)
    folder = tmp_path_factory.mktemp("nc") / "c"
    r = project.run("--no-cache", "--cache-dir", str(folder), "leak.py")
    assert r.rc == 1 and not folder.exists()


def test_no_tag_written_into_a_folder_that_is_not_a_cache(project):
    """--cache-dir pointing at a folder with other content: entries go there, but no CACHEDIR.TAG
    (a tag makes backup tools skip the whole folder)."""
    project.write("leak.py", LEAK_SQLITE)
    project.write("shared/notes.txt", "mine\n")
    r = project.run("--cache-dir", "shared", "leak.py")
    assert r.rc == 1 and entries(project.root / "shared")
    assert not (project.root / "shared" / "CACHEDIR.TAG").exists()
    assert not (project.root / "shared" / ".gitignore").exists()


# ---- two runs at once --------------------------------------------------------------------------

def test_two_concurrent_runs_share_one_cache(project, tmp_path_factory):
    for i in range(25):
        project.write(f"app/leak_{i}.py", LEAK_SQLITE)
        project.write(f"app/clean_{i}.py", CLEAN_SQLITE)
        project.write(f"app/mixed_{i}.py", MIXED)
    cold = project.run("--no-cache", "--format", "json", "--jobs", "1", "app")
    shared = tmp_path_factory.mktemp("shared") / "cache"
    cmd = [sys.executable, "-m", "txlint", "--cache-dir", str(shared), "--format", "json", "--jobs", "2", "app"]
    procs = [subprocess.Popen(cmd, cwd=str(project.root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for out, err in outs:
        assert "Traceback" not in err
        assert out == cold.out
    warm = project.run("--verbose", "--cache-dir", str(shared), "--format", "json", "app")
    assert warm.out == cold.out and "75 from cache" in warm.err
    # no temporary file is left behind, every entry is whole JSON
    assert not [p for p in all_files(shared) if p.name.endswith(".tmp")]
    for path in entries(shared):
        assert json.loads(path.read_text())["key"] == path.stem


def _hammer(base: str, key: str, rounds: int, result) -> None:  # runs in a child process
    cache = Cache(base, "cfg")
    for _ in range(rounds):
        cache.put(key, result, [])


def _sample_result() -> FileResult:
    diags = [Diagnostic("a.py", i, 1, i, 9, "TXL201", "connection-not-closed", "m" * 200, (), f"fp{i}")
             for i in range(1, 60)]
    return FileResult("a.py", diags)


def test_readers_never_see_half_an_entry(tmp_path, io_mode):
    """Writers racing on the same entries while a reader reads them: every read is a miss or the
    whole result, never a partial or corrupt one."""
    base = str(tmp_path / "cache")
    result = _sample_result()
    key = Cache(base, "cfg").key(str(tmp_path / "a.py"), b"data")
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    writers = [ctx.Process(target=_hammer, args=(base, key, 150, result)) for _ in range(2)]
    for w in writers:
        w.start()
    reader = Cache(base, "cfg")
    seen = 0
    while any(w.is_alive() for w in writers):
        got = reader.get(key, "a.py")
        if got is not None:
            seen += 1
            assert got.diagnostics == result.diagnostics
    for w in writers:
        w.join()
        assert w.exitcode == 0
    got = Cache(base, "cfg").get(key, "a.py")
    assert got is not None and got.diagnostics == result.diagnostics
    assert not [p for p in all_files(tmp_path / "cache") if p.name.endswith(".tmp")]


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"key": "other", "diagnostics": []}',
                                     b'{"key": "KEY", "diagnostics": {"a": 1}}',
                                     b'{"key": "KEY", "deps": 5, "diagnostics": []}',
                                     b'{"key": "KEY", "diagnostics": [{"nope": 1}]}',
                                     b'{"key": "KEY", "diagnostics": [], "deps": [["/no/such", 1, 2, "x"]]}'])
def test_corrupt_entries_are_ignored_and_rebuilt(tmp_path, io_mode, content):
    cache = Cache(str(tmp_path / "c"), "cfg")
    key = cache.key(str(tmp_path / "a.py"), b"x")
    cache.put(key, _sample_result(), [])
    entry = tmp_path / "c" / cache_mod.__version__ / key[:2] / f"{key}.json"
    assert entry.exists()
    entry.write_bytes(content.replace(b"KEY", key.encode()))
    assert Cache(str(tmp_path / "c"), "cfg").get(key, "a.py") is None
    Cache(str(tmp_path / "c"), "cfg").put(key, _sample_result(), [])
    assert Cache(str(tmp_path / "c"), "cfg").get(key, "a.py").diagnostics == _sample_result().diagnostics


def test_dependency_stamps_survive_a_fresh_checkout_but_not_a_change(tmp_path, io_mode):
    """A CI job restores the cache into a fresh checkout: other files an entry depends on have new
    mtimes but the same bytes, and the entry is still good; changed bytes invalidate it."""
    dep = tmp_path / "dep.py"
    dep.write_text("def make():\n    return 1\n")
    cache = Cache(str(tmp_path / "c"), "cfg")
    key = cache.key(str(tmp_path / "a.py"), b"x")
    cache.put(key, _sample_result(), [str(dep)])
    os.utime(dep, ns=(1_000_000_000, 1_000_000_000))
    assert Cache(str(tmp_path / "c"), "cfg").get(key, "a.py") is not None
    dep.write_text("def make():\n    return 2\n")  # same size, other bytes
    os.utime(dep, ns=(1_000_000_000, 1_000_000_000))
    assert Cache(str(tmp_path / "c"), "cfg").get(key, "a.py") is None
    dep.unlink()
    assert Cache(str(tmp_path / "c"), "cfg").get(key, "a.py") is None


def test_read_only_cache_folder_still_gives_results(project):
    if os.geteuid() == 0:
        pytest.skip("root ignores permissions")
    project.write("leak.py", LEAK_SQLITE)
    (project.root / "ro").mkdir()
    os.chmod(project.root / "ro", 0o500)
    try:
        r = project.run("--cache-dir", "ro/c", "leak.py")
        assert r.rc == 1 and ("leak.py", 5, "TXL201") in r.findings()
    finally:
        os.chmod(project.root / "ro", 0o700)


# ---- the cache is the user's own: symlinks -------------------------------------------------------

def test_symlinked_cache_folder_is_not_used_and_nothing_is_written_through_it(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    project.write("leak.py", LEAK_SQLITE)
    os.symlink(str(outside), project.root / ".txlint_cache")
    r = project.run("leak.py")
    assert r.rc == 1 and ("leak.py", 5, "TXL201") in r.findings()
    assert "warning" in r.err and "symlink" in r.err and ".txlint_cache" in r.err
    assert list(outside.iterdir()) == []
    # the same when the link is the --cache-dir named on the command line
    r = project.run("--cache-dir", ".txlint_cache", "leak.py")
    assert r.rc == 1 and "symlink" in r.err and list(outside.iterdir()) == []
    # --quiet prints findings only
    r = project.run("--quiet", "leak.py")
    assert r.rc == 1 and r.err == ""


def test_symlinks_inside_the_cache_are_never_written_through(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    project.write("leak.py", LEAK_SQLITE)
    version = project.root / ".txlint_cache" / cache_mod.__version__
    version.mkdir(parents=True)
    (project.root / ".txlint_cache" / "CACHEDIR.TAG").write_text(cache_mod.TAG)
    for i in range(256):  # every shard folder a link to the outside
        os.symlink(str(outside), version / f"{i:02x}")
    r = project.run("leak.py")
    assert r.rc == 1 and ("leak.py", 5, "TXL201") in r.findings()
    assert list(outside.iterdir()) == []


def test_a_linked_version_folder_makes_the_cache_unused(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    project.write("leak.py", LEAK_SQLITE)
    (project.root / ".txlint_cache").mkdir()
    os.symlink(str(outside), project.root / ".txlint_cache" / cache_mod.__version__)
    r = project.run("leak.py")
    assert r.rc == 1 and "symlink" in r.err
    assert list(outside.iterdir()) == []


def test_tag_and_gitignore_links_are_not_written_through(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    project.write("leak.py", LEAK_SQLITE)
    (project.root / ".txlint_cache").mkdir()
    os.symlink(str(outside / "victim-tag"), project.root / ".txlint_cache" / "CACHEDIR.TAG")
    os.symlink(str(outside / "victim-ignore"), project.root / ".txlint_cache" / ".gitignore")
    r = project.run("leak.py")
    assert r.rc == 1
    assert list(outside.iterdir()) == []


def test_linked_shard_folders_are_not_written_through_in_process(tmp_path, io_mode):
    outside = tmp_path / "outside"
    outside.mkdir()
    cache = Cache(str(tmp_path / "c"), "cfg")
    key = cache.key(str(tmp_path / "a.py"), b"x")
    (tmp_path / "c" / cache_mod.__version__).mkdir(parents=True)
    os.symlink(str(outside), tmp_path / "c" / cache_mod.__version__ / key[:2])
    cache.put(key, _sample_result(), [])
    assert list(outside.iterdir()) == []
    (outside / f"{key}.json").write_text(json.dumps({"key": key, "diagnostics": []}))
    assert Cache(str(tmp_path / "c"), "cfg").get(key, "a.py") is None  # nor read through it


def test_entry_that_is_a_link_is_replaced_not_written_through(tmp_path, io_mode):
    outside = tmp_path / "outside.json"
    outside.write_text("precious")
    cache = Cache(str(tmp_path / "c"), "cfg")
    key = cache.key(str(tmp_path / "a.py"), b"x")
    shard = tmp_path / "c" / cache_mod.__version__ / key[:2]
    shard.mkdir(parents=True)
    os.symlink(str(outside), shard / f"{key}.json")
    assert cache.get(key, "a.py") is None  # not read through the link either
    cache.put(key, _sample_result(), [])
    assert outside.read_text() == "precious"


# ---- the cache is the user's own: tracked by git -----------------------------------------------

def _poison(cache_dir) -> int:
    """Empty the findings of every entry, as an attacker shipping the cache would."""
    n = 0
    for path in entries(cache_dir):
        data = json.loads(path.read_text())
        data["diagnostics"] = []
        path.write_text(json.dumps(data))
        n += 1
    return n


@needs_git
def test_a_cache_shipped_in_the_repository_does_not_hide_findings(project):
    git(project.root, "init", "-q", ".")
    project.write("app.py", LEAK_SQLITE)
    assert project.run("app.py").rc == 1
    assert _poison(project.root / ".txlint_cache") >= 1
    # untracked, the cache is the user's own: trusted (this is what a poisoned entry would do)
    assert project.run("app.py").rc == 0
    git(project.root, "add", "-f", ".")
    git(project.root, "commit", "-qm", "ship a cache")
    r = project.run("app.py")
    assert r.rc == 1 and ("app.py", 5, "TXL201") in r.findings()
    assert "warning" in r.err and "tracked by git" in r.err
    # nothing is written into a tracked cache either
    before = {p: p.read_bytes() for p in all_files(project.root / ".txlint_cache")}
    project.write("other.py", LEAK_SQLITE)
    project.run("other.py")
    assert {p: p.read_bytes() for p in all_files(project.root / ".txlint_cache")} == before


@needs_git
def test_tracked_cache_in_a_subproject_and_through_cache_dir(project):
    git(project.root, "init", "-q", ".")
    project.write("svc/pyproject.toml", "[tool.txlint]\n")
    project.write("svc/app.py", LEAK_SQLITE)
    project.write("ci-cache/keep.txt", "x\n")
    git(project.root, "add", "-f", ".")
    r = project.run("svc/app.py")
    assert entries(project.root / "svc" / ".txlint_cache")
    _poison(project.root / "svc" / ".txlint_cache")
    git(project.root, "add", "-f", ".")
    r = project.run("svc/app.py")
    assert r.rc == 1 and "tracked by git" in r.err
    r = project.run("--cache-dir", "ci-cache", "svc/app.py")
    assert r.rc == 1 and "tracked by git" in r.err and not entries(project.root / "ci-cache")


@needs_git
@pytest.mark.parametrize("version", [2, 3, 4])
def test_tracked_by_git_reads_every_index_version(tmp_path, version):
    git(tmp_path, "init", "-q", ".")
    for rel in ("a.py", ".txlint_cache.bak/x", ".txlint_cachf", "src/z.py", "zz/.txlint_cache/y"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "update-index", "--index-version", str(version))
    base = tmp_path / ".txlint_cache"
    base.mkdir()
    assert tracked_by_git(str(base)) is False
    assert tracked_by_git(str(tmp_path / "zz" / ".txlint_cache")) is True
    assert tracked_by_git(str(tmp_path / "src")) is True
    assert tracked_by_git(str(tmp_path / "sr")) is False
    (base / "0.1.0").mkdir()
    (base / "0.1.0" / "e.json").write_text("{}")
    git(tmp_path, "add", "-f", ".txlint_cache")
    git(tmp_path, "update-index", "--index-version", str(version))
    assert tracked_by_git(str(base)) is True


@needs_git
def test_tracked_by_git_split_index_and_worktree(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", ".")
    (repo / "a.py").write_text("x\n")
    (repo / ".txlint_cache").mkdir()
    (repo / ".txlint_cache" / "e.json").write_text("{}")
    git(repo, "add", "a.py")
    git(repo, "commit", "-qm", "one")
    git(repo, "update-index", "--split-index")
    git(repo, "add", "-f", ".txlint_cache")
    git(repo, "commit", "-qm", "two")
    assert tracked_by_git(str(repo / ".txlint_cache")) is True
    # a second work tree: ".git" is a file naming the real git dir
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert (tmp_path / "wt" / ".git").is_file()
    assert tracked_by_git(str(tmp_path / "wt" / ".txlint_cache")) is True
    assert tracked_by_git(str(tmp_path / "wt" / "elsewhere")) is False


def test_not_in_a_git_work_tree_is_untracked(tmp_path):
    assert tracked_by_git(str(tmp_path / ".txlint_cache")) is False


def test_an_index_that_cannot_be_read_means_the_cache_is_not_trusted(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "index").write_bytes(b"DIRC\x00\x00\x00\x09garbage")
    (tmp_path / ".txlint_cache").mkdir()
    cache, why = open_cache(str(tmp_path), "cfg")
    assert cache is None and "cannot tell" in why


def test_index_has_prefix_rejects_garbage():
    assert index_has_prefix(b"", b"x/") is None
    assert index_has_prefix(b"NOPE" + b"\0" * 20, b"x/") is None
    assert index_has_prefix(b"DIRC\x00\x00\x00\x02\x00\x00\x00\x05x/" + b"\xff" * 30, b"x/") is None
    assert index_has_prefix(b"DIRC\x00\x00\x00\x02\x00\x00\x00\x00", b"x/") is False
