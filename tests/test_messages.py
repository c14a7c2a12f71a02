"""Every finding's message is one sentence of at most 120 characters: what leaks and the path that
leaks it.  The why and the what-to-do live in the rule docs (``txlint rule CODE``, SARIF rule help,
the language server's hover), never in the message.

Checked over every rule's INVALID examples and every file under tests/testdata/, plus code with
names long enough to push a careless message over the limit."""

from __future__ import annotations

import os
import re
import textwrap

import pytest

from txlint.messages import LIMIT, clip, first_fit, fit
from txlint.registry import load_rules
from txlint.testing import analyze_project

RULES = load_rules()
TESTDATA = os.path.join(os.path.dirname(__file__), "testdata")
CHECKED_SUFFIXES = (".py", ".conf", ".ini", ".service", ".yaml", ".yml")


def sentence_problems(message: str) -> list[str]:
    """What makes ``message`` more than one short sentence ([] when it is fine)."""
    problems = []
    if not message.strip():
        problems.append("empty")
    if len(message) > LIMIT:
        problems.append(f"{len(message)} characters (limit {LIMIT})")
    if "\n" in message or "\r" in message:
        problems.append("several lines")
    prose = re.sub(r"`[^`]*`", "`code`", message)  # code spans may hold any punctuation
    prose = prose.replace("...", "\u2026")  # a clipped name is not the end of a sentence
    if re.search(r"[.;!?](\s|$)", prose):
        problems.append("more than one sentence (or a trailing full stop)")
    if re.search(r":\s", prose):
        problems.append("a clause after a colon (explanations belong in the rule docs)")
    return problems


def _testdata_cases():
    """(files, checked path) for every file under tests/testdata/ (folders with packages are projects)."""
    cases = []
    for family in sorted(os.listdir(TESTDATA)):
        fdir = os.path.join(TESTDATA, family)
        if not os.path.isdir(fdir):
            continue
        for entry in sorted(os.listdir(fdir)):
            full = os.path.join(fdir, entry)
            if os.path.isdir(full):
                files = {}
                for root, _, names in os.walk(full):
                    for name in names:
                        if name.endswith(CHECKED_SUFFIXES):
                            path = os.path.join(root, name)
                            with open(path, encoding="utf-8") as handle:
                                files[os.path.relpath(path, full)] = handle.read()
                cases.extend((files, rel) for rel in sorted(files))
            elif entry.endswith(CHECKED_SUFFIXES):
                with open(full, encoding="utf-8") as handle:
                    cases.append(({entry: handle.read()}, entry))
    return cases


@pytest.fixture(scope="module")
def all_messages() -> dict[str, list[tuple[str, str]]]:
    """code -> [(where, message)] over every INVALID example and every test data file."""
    out: dict[str, list[tuple[str, str]]] = {}
    for code, cls in RULES.items():
        for i, example in enumerate(cls.INVALID):
            result = analyze_project(example.project(), example.checked_path())
            for d in result.diagnostics:
                out.setdefault(d.code, []).append((f"{code} INVALID[{i}] line {d.line}", d.message))
    for files, rel in _testdata_cases():
        result = analyze_project(files, rel)
        for d in result.diagnostics:
            out.setdefault(d.code, []).append((f"testdata {rel}:{d.line}", d.message))
    return out


@pytest.mark.parametrize("code", list(RULES))
def test_every_message_of_the_rule_is_one_short_sentence(code, all_messages):
    messages = all_messages.get(code, [])
    assert messages, f"no finding of {code} in its INVALID examples or the test data"
    bad = [f"{where}: {problems}: {message!r}" for where, message in messages
           if (problems := sentence_problems(message))]
    assert not bad, "\n".join(bad)


def test_no_finding_is_a_parse_error(all_messages):
    """TXL000 in the examples would hide their real findings from the check above."""
    assert "TXL000" not in all_messages, all_messages.get("TXL000")


def test_the_checker_itself_rejects_the_old_style():
    old = ("SQLAlchemy Connection opened here is not closed on every path (returns at line 27 without close()); "
           "use `with engine.connect() as conn:` or close it in a finally block")
    assert sentence_problems(old)
    assert sentence_problems("x is not closed. Close it")
    assert sentence_problems("x is held: the server drops it")
    assert sentence_problems("a" * 121)
    assert not sentence_problems("SQLAlchemy Connection is not closed when returning at line 25")
    assert not sentence_problems("`a.b(...)` sets neither `pool_pre_ping=True` nor `pool_recycle`")


def test_path_messages_say_what_leaks_and_where():
    result = analyze_project({"app.py": textwrap.dedent("""\
        from sqlalchemy import create_engine

        engine = create_engine("sqlite:///x.db")


        def transfer(amount):
            c = engine.connect()
            tx = c.begin()
            if amount <= 0:
                return False
            c.exec_driver_sql("UPDATE accounts SET balance = balance - 1")
            tx.commit()
            c.close()
            return True
        """)}, "app.py")
    got = {(d.line, d.code): d.message for d in result.diagnostics}
    assert got == {
        (7, "TXL201"): "SQLAlchemy Connection is not closed when returning at line 10",
        (7, "TXL202"): "SQLAlchemy Connection is not closed when begin() at line 8 raises",
        (8, "TXL101"): "transaction is not committed or rolled back when returning at line 10",
        (8, "TXL102"): "transaction is not rolled back when exec_driver_sql() at line 11 raises",
    }


def test_long_names_from_the_code_are_clipped_not_the_limit_broken():
    long = "a" * 150
    files = {
        "app/__init__.py": "",
        "app/tasks.py": textwrap.dedent(f"""\
            import sqlite3

            import redis
            from celery import Celery
            from flask_sqlalchemy import SQLAlchemy
            from sqlalchemy import create_engine

            celery = Celery(__name__)
            db = SQLAlchemy()
            engine = create_engine(DATABASE_URL_{long})
            cache = redis.Redis(host="cache", port=6379, db=0, socket_timeout=5, retry_on_timeout=True, x_{long}=1)


            @celery.task
            def task_{long}():
                return db.session.execute(db.text("SELECT 1")).all()


            def job_{long}(path_{long}):
                conn = sqlite3.connect(path_{long})
                conn.execute_{long}("SELECT 1")
                conn.close()
            """),
    }
    result = analyze_project(files, "app/tasks.py")
    codes = {d.code for d in result.diagnostics}
    assert {"TXL301", "TXL402", "TXL404", "TXL202"} <= codes, [(d.code, d.message) for d in result.diagnostics]
    for d in result.diagnostics:
        assert not sentence_problems(d.message), (d.code, d.message)


def test_clip_fit_and_first_fit():
    assert clip("short") == "short"
    assert clip("x" * 50, 10) == "xxxxxxx..." and len(clip("x" * 50, 10)) == 10
    assert fit("head", " (detail)") == "head (detail)"
    assert fit("h" * 110, " (a detail too long to fit)") == "h" * 110
    assert fit("h" * 110, " (too long for the limit)", " (short)") == "h" * 110 + " (short)"
    assert len(fit("h" * 300)) == LIMIT
    assert first_fit("y" * 130, "short one") == "short one"
    assert len(first_fit("y" * 130, "z" * 140)) == LIMIT
