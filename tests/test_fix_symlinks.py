"""``--fix`` through symbolic links: the target is fixed when it lies inside the project, otherwise
the file is left alone with a note; a link is never replaced by a copy."""

from __future__ import annotations

import os

import pytest
from conftest import run_txlint

from txlint.fixes import fix_destination, write_atomic

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="needs POSIX symlinks")

ENGINE = 'from sqlalchemy import create_engine\n\nengine = create_engine("mysql://u@h/{db}")\n'


@pytest.fixture
def tree(tmp_path):
    """repo/ (a git project) with app/real.py, app/alias.py -> real.py, app/db.py -> ../../outside/db.py."""
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / "app").mkdir(parents=True)
    (repo / ".git").mkdir()
    outside.mkdir()
    (outside / "db.py").write_text(ENGINE.format(db="db"))
    (repo / "app" / "real.py").write_text(ENGINE.format(db="other"))
    os.symlink("../../outside/db.py", repo / "app" / "db.py")
    os.symlink("real.py", repo / "app" / "alias.py")
    return repo, outside


def _run(repo, *args):
    return run_txlint("--no-cache", *args, cwd=str(repo))


def test_fix_keeps_links_fixes_the_inside_target_and_leaves_the_outside_file(tree):
    repo, outside = tree
    before = (outside / "db.py").read_bytes()
    r = _run(repo, "--fix", "app")
    assert os.path.islink(repo / "app" / "db.py") and os.path.islink(repo / "app" / "alias.py")
    assert (outside / "db.py").read_bytes() == before
    real = (repo / "app" / "real.py").read_text()
    assert real.count("pool_pre_ping=True") == 1
    assert "app/db.py" in r.err and "outside the project" in r.err
    # the outside file's finding remains; the inside one is gone
    assert {(p, c) for p, _, c in r.findings()} == {("app/db.py", "TXL402")}


def test_link_and_target_named_together_fix_the_target_once(tree):
    repo, _ = tree
    r = _run(repo, "--fix", "app/alias.py", "app/real.py")
    assert r.rc == 0, r.out + r.err
    assert os.path.islink(repo / "app" / "alias.py")
    assert (repo / "app" / "real.py").read_text().count("pool_pre_ping=True") == 1
    again = _run(repo, "--fix", "app/real.py", "app/alias.py")
    assert again.rc == 0 and (repo / "app" / "real.py").read_text().count("pool_pre_ping=True") == 1


def test_linked_folder_outside_the_project_is_left_alone(tree, tmp_path):
    repo, outside = tree
    os.symlink("../outside", repo / "vendored")
    before = (outside / "db.py").read_bytes()
    r = _run(repo, "--fix", "vendored/db.py")
    assert (outside / "db.py").read_bytes() == before
    assert os.path.islink(repo / "vendored")
    assert "not fixed" in r.err and r.rc == 1


def test_diff_shows_the_inside_target_and_notes_the_outside_file(tree):
    repo, outside = tree
    r = _run(repo, "--diff", "app")
    assert "pool_pre_ping=True" in r.out and "mysql://u@h/other" in r.out
    assert "mysql://u@h/db" not in r.out
    assert "outside the project" in r.err
    assert os.path.islink(repo / "app" / "alias.py")
    assert "pool_pre_ping" not in (repo / "app" / "real.py").read_text()


def test_fix_destination(tree):
    repo, outside = tree
    root = str(repo)
    plain = str(repo / "app" / "real.py")
    assert fix_destination(plain, root) == (plain, "")
    assert fix_destination(str(repo / "app" / "alias.py"), root) == (os.path.realpath(plain), "")
    dest, note = fix_destination(str(repo / "app" / "db.py"), root)
    assert dest is None and str(os.path.realpath(outside / "db.py")) in note
    # a project reached through a linked folder: its files are inside once resolved
    os.symlink(repo, repo.parent / "repo-link")
    via = str(repo.parent / "repo-link" / "app" / "real.py")
    assert fix_destination(via, str(repo.parent / "repo-link")) == (os.path.realpath(plain), "")


def test_write_atomic_never_replaces_a_link(tree):
    repo, _ = tree
    link = repo / "app" / "alias.py"
    with pytest.raises(OSError):
        write_atomic(str(link), "x = 1\n")
    assert os.path.islink(link) and "pool" not in (repo / "app" / "real.py").read_text()
