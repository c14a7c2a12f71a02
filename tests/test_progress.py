"""The progress bar: on stderr, only when stderr is a terminal, only for runs longer than about a
second, never with --quiet; --verbose keeps its per-file lines instead."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from conftest import LEAK_SQLITE
from txlint import progress as P


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_nothing_is_drawn_before_the_delay_and_the_bar_is_erased_at_the_end():
    clock, out = FakeClock(), Terminal()
    bar = P.ProgressBar(10, out, delay=1.0, clock=clock)
    for _ in range(3):
        clock.now += 0.2
        bar.advance()
    assert out.getvalue() == "" and not bar.shown  # 0.6 s: a quick run prints nothing extra
    clock.now += 0.6
    bar.advance()
    text = out.getvalue()
    assert text.startswith("\r\x1b[2K") and "4/10 files" in text and "[" in text and "#" in text
    clock.now += 0.01
    bar.advance()  # redraws are throttled
    assert out.getvalue() == text
    clock.now += 0.5
    for _ in range(6):
        bar.advance()
    assert "10/10 files" in out.getvalue()
    bar.close()
    assert out.getvalue().endswith("\r\x1b[2K")


def test_close_without_a_drawn_bar_writes_nothing():
    out = Terminal()
    bar = P.ProgressBar(5, out, delay=1.0, clock=FakeClock())
    bar.advance()
    bar.close()
    assert out.getvalue() == ""


def test_the_bar_fits_the_terminal(monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=(80, 24): os.terminal_size((40, 24)))
    bar = P.ProgressBar(1000, Terminal(), delay=0, clock=FakeClock())
    bar.done = 500
    assert len(bar.line()) < 40


@pytest.mark.parametrize("quiet,verbose,tty,shown", [
    (False, False, True, True),
    (True, False, True, False),
    (False, True, True, False),
    (False, False, False, False),
])
def test_when_a_bar_may_be_shown(quiet, verbose, tty, shown):
    stream = Terminal() if tty else io.StringIO()
    assert (P.progress_bar(3, quiet=quiet, verbose=verbose, stream=stream) is not None) is shown


def _check(monkeypatch, tmp_path, *, tty: bool, **request):
    """Run a check in-process with stderr replaced (a terminal or not) and no delay."""
    from txlint.app import CheckRequest, run_check

    for i in range(4):
        (tmp_path / f"m{i}.py").write_text(LEAK_SQLITE)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    err, out = (Terminal() if tty else io.StringIO()), io.StringIO()
    monkeypatch.setattr(P, "DELAY", 0.0)
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.chdir(tmp_path)
    rc = run_check(CheckRequest(paths=["."], use_cache=False, jobs=1, **request))
    return rc, out.getvalue(), err.getvalue()


def test_a_run_on_a_terminal_shows_and_erases_the_bar(monkeypatch, tmp_path):
    rc, out, err = _check(monkeypatch, tmp_path, tty=True)
    assert rc == 1
    assert "4/4 files" in err and "\x1b[2K" in err
    bar_end = err.rindex("\r\x1b[2K")
    assert err[bar_end + len("\r\x1b[2K"):].startswith("Found 8 findings")  # erased before the summary
    assert "files" not in out and "\r" not in out  # stdout keeps only the findings


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch, tmp_path):
    rc, out, err = _check(monkeypatch, tmp_path, tty=False)
    assert rc == 1 and "\r" not in err and "files" not in err.replace("file(s)", "")


def test_no_bar_with_quiet(monkeypatch, tmp_path):
    rc, out, err = _check(monkeypatch, tmp_path, tty=True, quiet=True)
    assert rc == 1 and err == ""


def test_verbose_keeps_its_per_file_lines(monkeypatch, tmp_path):
    rc, out, err = _check(monkeypatch, tmp_path, tty=True, verbose=True)
    assert rc == 1 and "\r" not in err
    assert sum(line.startswith("checked ") for line in err.splitlines()) == 4


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_quick_run_on_a_real_terminal_prints_no_bar(tmp_path):
    import pty

    (tmp_path / "rows.py").write_text(LEAK_SQLITE)
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "txlint", "--no-cache", "rows.py"], cwd=str(tmp_path),
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        out = proc.stdout.read().decode()
        rc = proc.wait(60)
    finally:
        os.close(master)
    err = b"".join(chunks).decode()
    assert rc == 1 and out.count("TXL20") == 2
    assert "Found 2 findings" in err and "\x1b[2K" not in err and "Traceback" not in err
