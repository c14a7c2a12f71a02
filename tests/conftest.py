from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest

LEAK_SQLITE = '''\
import sqlite3


def count_rows(path):
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT count(*) FROM items").fetchone()
    return rows[0]
'''

CLEAN_SQLITE = '''\
import sqlite3


def count_rows(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM items").fetchone()[0]
    finally:
        conn.close()
'''

# TXL402 on line 4, TXL201 + TXL202 on line 8
MIXED = '''\
import sqlite3
from sqlalchemy import create_engine

engine = create_engine("mysql+pymysql://app:secret@db.internal/app")


def count_rows(path):
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT count(*) FROM items").fetchone()
    return rows[0]
'''


@dataclass
class Run:
    rc: int
    out: str
    err: str

    def findings(self) -> list[tuple[str, int, str]]:
        found = []
        for line in self.out.splitlines():
            parts = line.split(":", 3)
            if len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
                found.append((parts[0], int(parts[1]), parts[3].split()[0]))
        return found

    def codes(self) -> set[str]:
        return {code for _, _, code in self.findings()}


def run_txlint(*args: str, cwd: str, stdin: str | None = None, env: dict | None = None) -> Run:
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "txlint", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=120, env=full_env)
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def project(tmp_path):
    """A folder with helpers to write files: project.write("a/b.py", text)."""

    class Project:
        root = tmp_path

        def write(self, rel: str, text: str) -> str:
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text) if text.startswith("\n") else text)
            return str(path)

        def run(self, *args, **kw) -> Run:
            return run_txlint(*args, cwd=str(tmp_path), **kw)

    return Project()
