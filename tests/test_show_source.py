"""``--show-source``: under each text finding the reported line with a caret under the reported
expression, then each trace step as ``line: source  <- note``; colour only on a terminal without
NO_COLOR; stdin input too; exit codes unchanged."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import LEAK_SQLITE
from txlint.diagnostics import Diagnostic, TraceStep
from txlint.reporters.text import render_text, use_color

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _block(out: str, header_start: str) -> list[str]:
    """The lines of the finding whose header starts with ``header_start``, up to the blank line."""
    lines = out.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    block = []
    for line in lines[i:]:
        if not line:
            break
        block.append(line)
    return block


def test_source_caret_and_trace_under_each_finding(project):
    project.write("app/rows.py", LEAK_SQLITE)
    run = project.run("--no-cache", "--show-source", "app/rows.py")
    assert run.rc == 1, run.err
    assert not ANSI.search(run.out)  # not a terminal: no colour
    assert _block(run.out, "app/rows.py:5:12: TXL201") == [
        "app/rows.py:5:12: TXL201 sqlite3 connection is not closed when returning at line 7",
        "  5 |     conn = sqlite3.connect(path)",
        "    |            ^^^^^^^^^^^^^^^^^^^^^",
        "  5: conn = sqlite3.connect(path)  <- sqlite3 connection acquired here",
        "  7: return rows[0]  <- returns here without close()",
    ]
    block = _block(run.out, "app/rows.py:5:12: TXL202")
    assert block[1:3] == ["  5 |     conn = sqlite3.connect(path)", "    |            ^^^^^^^^^^^^^^^^^^^^^"]
    assert block[-1].startswith('  6: rows = conn.execute("SELECT count(*) FROM items").fetchone()  <- ')
    # the findings' own lines are unchanged, so one-line-per-finding parsers still find them
    assert run.findings() == [("app/rows.py", 5, "TXL201"), ("app/rows.py", 5, "TXL202")]


def test_default_output_has_no_source(project):
    project.write("app/rows.py", LEAK_SQLITE)
    run = project.run("--no-cache", "app/rows.py")
    assert run.out.splitlines() == [
        "app/rows.py:5:12: TXL201 sqlite3 connection is not closed when returning at line 7",
        "app/rows.py:5:12: TXL202 sqlite3 connection is not closed when execute() at line 6 raises",
    ]


def test_stdin_source_is_shown_from_stdin_not_from_disk(project):
    # the file on disk is different (an editor's unsaved buffer): the shown source is the buffer's
    project.write("app/rows.py", "# an older version on disk\n")
    run = project.run("--no-cache", "--show-source", "--stdin-filename", "app/rows.py", "-", stdin=LEAK_SQLITE)
    assert run.rc == 1, run.err
    block = _block(run.out, "app/rows.py:5:12: TXL201")
    assert block[1] == "  5 |     conn = sqlite3.connect(path)"
    assert block[-1] == "  7: return rows[0]  <- returns here without close()"


def test_exit_codes_are_unchanged(project):
    project.write("app/rows.py", LEAK_SQLITE)
    assert project.run("--no-cache", "--show-source", "--exit-zero", "app/rows.py").rc == 0
    project.write("app/clean.py", "x = 1\n")
    clean = project.run("--no-cache", "--show-source", "app/clean.py")
    assert (clean.rc, clean.out) == (0, "")


def test_machine_formats_ignore_show_source(project):
    import json

    project.write("app/rows.py", LEAK_SQLITE)
    run = project.run("--no-cache", "--show-source", "--format", "json", "app/rows.py")
    data = json.loads(run.out)
    assert [d["code"] for d in data["diagnostics"]] == ["TXL201", "TXL202"]


def test_config_file_findings_show_their_line(project):
    project.write("pyproject.toml", "[project]\nname = 'x'\n")
    project.write("deploy/celery.conf", "[program:celery]\ncommand=celery -A app worker -P solo\nstopwaitsecs=10\n")
    run = project.run("--no-cache", "--show-source", "deploy/celery.conf")
    block = _block(run.out, "deploy/celery.conf:3:1: TXL501")
    assert block[1:3] == ["  3 | stopwaitsecs=10", "    | ^^^^^^^^^^^^^^^"]


def _diag(line, column, end_line, end_column, trace=(), path="m.py"):
    return Diagnostic(path, line, column, end_line, end_column, "TXL201", "connection-not-closed", "x is not closed",
                      tuple(trace))


def test_caret_spans_tabs_and_multiline_expressions():
    text = "def f(dsn):\n\tconn = psycopg2.connect(\n\t    dsn)\n\treturn 1\n"
    d = _diag(2, 9, 3, 9, [TraceStep(2, 9, "acquired here"), TraceStep(4, 2, "returns here")])
    out = render_text([d], rules={}, show_source=True, sources={"m.py": text})
    assert out.splitlines()[1:5] == [
        "  2 | \tconn = psycopg2.connect(",
        "    | \t       ^^^^^^^^^^^^^^^^^",  # to the end of the line's text, the tab kept for alignment
        "  2: conn = psycopg2.connect(  <- acquired here",
        "  4: return 1  <- returns here",
    ]


def test_trace_line_numbers_share_one_width():
    text = "".join(f"x{i} = {i}\n" for i in range(1, 121))
    d = _diag(9, 1, 9, 3, [TraceStep(9, 1, "acquired here"), TraceStep(120, 1, "returns here")])
    lines = render_text([d], rules={}, show_source=True, sources={"m.py": text}).splitlines()
    assert lines[1:] == ["    9 | x9 = 9", "      | ^^", "    9: x9 = 9  <- acquired here",
                         "  120: x120 = 120  <- returns here", ""]


def test_control_characters_of_the_analysed_code_never_reach_the_terminal():
    text = 'conn = connect("\x1b[2J")\n'
    out = render_text([_diag(1, 8, 1, 23)], rules={}, show_source=True, sources={"m.py": text})
    assert "\x1b" not in out and 'connect("?[2J")' in out


def test_missing_source_prints_the_finding_only():
    d = _diag(3, 1, 3, 2, path="/nonexistent/dir/m.py")
    assert render_text([d], rules={}, show_source=True) == "/nonexistent/dir/m.py:3:1: TXL201 x is not closed\n"


def test_colour_marks_code_caret_and_notes():
    d = _diag(1, 1, 1, 5, [TraceStep(1, 1, "acquired here")])
    out = render_text([d], rules={}, show_source=True, color=True, sources={"m.py": "conn = x()\n"})
    assert ANSI.search(out)
    assert ANSI.sub("", out) == render_text([d], rules={}, show_source=True, sources={"m.py": "conn = x()\n"})


class _Stream:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty,env,expected", [
    (True, {}, True),
    (True, {"NO_COLOR": "1"}, False),
    (True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value disables colour
    (False, {}, False),
])
def test_use_color(tty, env, expected):
    assert use_color(_Stream(tty), env) is expected


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("no_color", [False, True])
def test_colour_on_a_terminal_unless_no_color(project, no_color):
    import pty

    project.write("app/rows.py", LEAK_SQLITE)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = "1"
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "txlint", "--no-cache", "--show-source", "app/rows.py"],
                                cwd=str(project.root), stdout=slave, stderr=subprocess.PIPE, env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        rc = proc.wait(60)
        err = proc.stderr.read().decode()
    finally:
        os.close(master)
    out = b"".join(chunks).decode()
    assert rc == 1 and "Traceback" not in err
    assert "sqlite3.connect(path)" in out
    assert bool(ANSI.search(out)) is (not no_color)
