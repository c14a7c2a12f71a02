"""The TXL101/TXL102 fix: a straight ``begin()`` ... ``commit()`` becomes the library's ``with`` block."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst
import pytest

from txlint import resources as R
from txlint.context import FileContext, Options
from txlint.fix_tx import fix_for_begin
from txlint.fixes import apply_fixes
from txlint.testing import analyze_project

CODES = {"TXL101", "TXL102"}


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def fix(source: str) -> str | None:
    result = analyze_project({"app.py": d(source)}, "app.py", codes=CODES, want_fixes=True)
    assert any(x.code in CODES for x in result.diagnostics), "the example must have a finding to fix"
    return result.fixed_source


def fix_fully(source: str, passes: int = 5) -> str:
    """Apply the fixes until nothing changes (as --fix does); each step must parse."""
    text = d(source)
    for _ in range(passes):
        out = analyze_project({"app.py": text}, "app.py", codes=CODES, want_fixes=True).fixed_source
        if out is None:
            return text
        ast.parse(out)
        text = out
    raise AssertionError("fixes did not settle")


def findings(text: str) -> list:
    return [(x.line, x.code) for x in analyze_project({"app.py": text}, "app.py", codes=CODES).diagnostics]


def check_fixed(source: str, expected: str) -> None:
    out = fix(source)
    assert out == d(expected)
    ast.parse(out)
    assert findings(out) == []
    again = analyze_project({"app.py": out}, "app.py", codes=CODES, want_fixes=True)
    assert again.fixed_source is None  # idempotent


# ------------------------------------------------------------------------------ what is rewritten
def test_sqlalchemy_connection_handle_in_a_with_block():
    check_fixed('''
        from sqlalchemy import create_engine, text

        engine = create_engine("sqlite:///app.db")


        def bump():
            with engine.connect() as conn:
                tx = conn.begin()
                conn.execute(text("UPDATE counters SET n = n + 1"))
                tx.commit()
    ''', '''
        from sqlalchemy import create_engine, text

        engine = create_engine("sqlite:///app.db")


        def bump():
            with engine.connect() as conn:
                with conn.begin():
                    conn.execute(text("UPDATE counters SET n = n + 1"))
    ''')


def test_session_begin_without_handle_and_commit_on_the_session():
    check_fixed('''
        from sqlalchemy.orm import Session


        def rename(session: Session, user, name):
            session.begin()
            user.name = name
            session.add(user)
            session.commit()
            return user
    ''', '''
        from sqlalchemy.orm import Session


        def rename(session: Session, user, name):
            with session.begin():
                user.name = name
                session.add(user)
            return user
    ''')


def test_begin_nested_with_its_handle():
    check_fixed('''
        from sqlalchemy.orm import Session


        def add(session: Session, obj):
            sp = session.begin_nested()
            session.add(obj)
            sp.commit()
    ''', '''
        from sqlalchemy.orm import Session


        def add(session: Session, obj):
            with session.begin_nested():
                session.add(obj)
    ''')


def test_asyncpg_transaction_start_becomes_async_with_on_the_creating_call():
    check_fixed('''
        import asyncpg


        async def transfer(conn: asyncpg.Connection, src, dst, amount):
            tr = conn.transaction(isolation="serializable")
            await tr.start()
            await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, src)
            await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, dst)
            await tr.commit()
    ''', '''
        import asyncpg


        async def transfer(conn: asyncpg.Connection, src, dst, amount):
            async with conn.transaction(isolation="serializable"):
                await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, src)
                await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, dst)
    ''')


@pytest.mark.parametrize("commit", ['conn.execute("COMMIT")', "conn.commit()"])
def test_psycopg3_execute_begin_becomes_with_transaction(commit):
    check_fixed(f'''
        import psycopg


        def requeue(conn: psycopg.Connection, job_id):
            conn.execute("BEGIN")
            conn.execute("UPDATE jobs SET state = 'queued' WHERE id = %s", (job_id,))
            {commit}
    ''', '''
        import psycopg


        def requeue(conn: psycopg.Connection, job_id):
            with conn.transaction():
                conn.execute("UPDATE jobs SET state = 'queued' WHERE id = %s", (job_id,))
    ''')


def test_awaited_sqlalchemy_begin_becomes_async_with():
    check_fixed('''
        from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


        async def renumber(conn: AsyncConnection, stmt):
            tx = await conn.begin()
            await conn.execute(stmt)
            await tx.commit()


        async def pay(session: AsyncSession, order):
            await session.begin()
            session.add(order)
            await session.commit()
    ''', '''
        from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


        async def renumber(conn: AsyncConnection, stmt):
            async with conn.begin():
                await conn.execute(stmt)


        async def pay(session: AsyncSession, order):
            async with session.begin():
                session.add(order)
    ''')


def test_comments_and_blank_lines_are_kept():
    check_fixed('''
        from sqlalchemy import Connection


        def move(conn: Connection, a, b):
            # move the stock
            tx = conn.begin()  # one transaction for both
            conn.execute(a)

            # and the other side
            conn.execute(b)  # second
            # all done
            tx.commit()
            print("moved")
    ''', '''
        from sqlalchemy import Connection


        def move(conn: Connection, a, b):
            # move the stock
            with conn.begin():  # one transaction for both
                conn.execute(a)

                # and the other side
                conn.execute(b)  # second
            # all done
            print("moved")
    ''')


def test_loop_with_break_and_continue_inside_the_block_is_rewritten():
    check_fixed('''
        from sqlalchemy import Connection


        def load(conn: Connection, rows):
            tx = conn.begin()
            for row in rows:
                if row is None:
                    continue
                if row == "end":
                    break
                conn.execute(row)
            tx.commit()
    ''', '''
        from sqlalchemy import Connection


        def load(conn: Connection, rows):
            with conn.begin():
                for row in rows:
                    if row is None:
                        continue
                    if row == "end":
                        break
                    conn.execute(row)
    ''')


def test_empty_block_gets_pass():
    # begin + commit with nothing between has no finding; the fix itself still gives valid code
    text = d('''
        def touch(conn):
            tx = conn.begin()
            tx.commit()
    ''')
    ctx = FileContext("app.py", "app.py", text, ast.parse(text), Options(enabled=frozenset(CODES), want_fixes=True))
    call = next(n for n in _walk(ctx.module) if isinstance(n, cst.Call) and n.func.attr.value == "begin")
    fix = fix_for_begin(ctx, call, R.KINDS["sa.connection"])
    assert fix is not None and fix_for_begin(ctx, call, R.KINDS["sa.connection"]) is fix  # memoised
    out = apply_fixes(ctx.module, [fix])
    assert out == "def touch(conn):\n    with conn.begin():\n        pass\n"
    # a kind without a with form in the table: no fix
    assert fix_for_begin(ctx, call, R.KINDS["sqlite3.connection"]) is fix  # memo is per begin call
    ctx2 = FileContext("app.py", "app.py", text, ast.parse(text), Options(enabled=frozenset(CODES), want_fixes=True))
    call2 = next(n for n in _walk(ctx2.module) if isinstance(n, cst.Call) and n.func.attr.value == "begin")
    assert fix_for_begin(ctx2, call2, R.KINDS["sqlite3.connection"]) is None


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def test_two_transactions_in_a_row_are_both_rewritten_over_passes():
    out = fix_fully('''
        from sqlalchemy import Connection


        def two(conn: Connection, a, b):
            tx = conn.begin()
            conn.execute(a)
            tx.commit()
            tx = conn.begin()
            conn.execute(b)
            tx.commit()
    ''')
    assert out == d('''
        from sqlalchemy import Connection


        def two(conn: Connection, a, b):
            with conn.begin():
                conn.execute(a)
            with conn.begin():
                conn.execute(b)
    ''')
    assert findings(out) == []


def test_crlf_file_keeps_crlf():
    src = ("from sqlalchemy import Connection\r\n\r\n\r\ndef f(conn: Connection, a):\r\n"
           "    tx = conn.begin()\r\n    conn.execute(a)\r\n    tx.commit()\r\n")
    out = analyze_project({"app.py": src}, "app.py", codes=CODES, want_fixes=True).fixed_source
    assert out == ("from sqlalchemy import Connection\r\n\r\n\r\ndef f(conn: Connection, a):\r\n"
                   "    with conn.begin():\r\n        conn.execute(a)\r\n")


# ------------------------------------------------------------------------------ where no fix is offered
REFUSED = {
    "early return": '''
        from sqlalchemy import Connection


        def f(conn: Connection, x):
            tx = conn.begin()
            if x:
                return None
            conn.execute(x)
            tx.commit()
    ''',
    "yield in the block": '''
        from sqlalchemy import Connection


        def f(conn: Connection, rows):
            tx = conn.begin()
            for r in rows:
                yield conn.execute(r)
            tx.commit()
    ''',
    "break out of the enclosing loop": '''
        from sqlalchemy import Connection


        def f(conn: Connection, rows):
            for r in rows:
                tx = conn.begin()
                if r is None:
                    break
                conn.execute(r)
                tx.commit()
    ''',
    "rollback on the session inside the block": '''
        from sqlalchemy.orm import Session


        def f(session: Session, bad):
            session.begin()
            if bad:
                session.rollback()
            session.add(bad)
            session.commit()
    ''',
    "nested begin ended by a commit of the outer transaction": '''
        from sqlalchemy.orm import Session


        def f(session: Session, x):
            session.begin_nested()
            session.add(x)
            session.commit()
    ''',
    "BEGIN with options the with form would drop": '''
        import psycopg


        def f(conn: psycopg.Connection):
            conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            conn.execute("UPDATE t SET n = 1")
            conn.execute("COMMIT")
    ''',
    "sqlite3 has no transaction context manager in the table": '''
        import sqlite3


        def f(conn: sqlite3.Connection):
            conn.execute("BEGIN")
            conn.execute("UPDATE t SET n = 1")
            conn.commit()
    ''',
    "handle used by an exception handler": '''
        from sqlalchemy import Connection


        def f(conn: Connection, a):
            try:
                tx = conn.begin()
                conn.execute(a)
                tx.commit()
                tx = None
            except Exception:
                if tx is not None:
                    tx.rollback()
                raise
    ''',
    "the session is rebound inside the block": '''
        from sqlalchemy.orm import Session


        def f(session: Session, make):
            session.begin()
            session = make()
            session.commit()
    ''',
    "handle read again in the next loop iteration": '''
        from sqlalchemy import Connection


        def f(conn: Connection, rows):
            tx = None
            for r in rows:
                if tx is not None:
                    print(tx)
                tx = conn.begin()
                conn.execute(r)
                tx.commit()
    ''',
    "comment on the commit line": '''
        from sqlalchemy import Connection


        def f(conn: Connection, a):
            tx = conn.begin()
            conn.execute(a)
            tx.commit()  # done
    ''',
    "asyncpg transaction object created away from its start": '''
        import asyncpg


        async def f(conn: asyncpg.Connection, a):
            tr = conn.transaction()
            print("x")
            await tr.start()
            await conn.execute(a)
            await tr.commit()
    ''',
    "handle used inside the block": '''
        from sqlalchemy import Connection


        def f(conn: Connection, a):
            tx = conn.begin()
            conn.execute(a)
            print(tx.is_active)
            tx.commit()
    ''',
    "handle used after the commit": '''
        from sqlalchemy import Connection


        def f(conn: Connection, a):
            tx = conn.begin()
            conn.execute(a)
            tx.commit()
            print(tx.is_active)
    ''',
    "commit only on one branch": '''
        from sqlalchemy import Connection


        def f(conn: Connection, a):
            tx = conn.begin()
            conn.execute(a)
            if a:
                tx.commit()
    ''',
    "ROLLBACK through execute inside the block": '''
        import psycopg


        def f(conn: psycopg.Connection, bad):
            conn.execute("BEGIN")
            if bad:
                conn.execute("ROLLBACK")
            conn.execute("UPDATE t SET n = 1")
            conn.execute("COMMIT")
    ''',
    "handle used by a nested function": '''
        from sqlalchemy import Connection


        def f(conn: Connection, a):
            def peek():
                return tx.is_active

            tx = conn.begin()
            conn.execute(a)
            print(peek())
            tx.commit()
    ''',
    "commit not awaited like the begin": '''
        from sqlalchemy.ext.asyncio import AsyncSession


        async def f(session: AsyncSession, x):
            await session.begin()
            session.add(x)
            session.commit()
    ''',
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_no_fix_when_it_would_change_behaviour(name):
    assert fix(REFUSED[name]) is None


def test_without_want_fixes_no_fix_is_computed():
    result = analyze_project({"app.py": d(REFUSED["early return"])}, "app.py", codes=CODES)
    assert result.fixed_source is None and result.diagnostics


# ------------------------------------------------------------------------------ the table
def test_with_forms_name_real_kinds_and_their_begins():
    for kind_name, forms in R.TX_WITH_FORMS.items():
        kind = R.KINDS[kind_name]
        for begin, (with_method, _on_recv) in forms.items():
            if begin == "execute BEGIN":
                assert "execute" in kind.sql_methods
                assert with_method in kind.methods      # psycopg: conn.transaction()
            else:
                assert begin in kind.tx_begin
                assert "commit" in kind.tx_end
                assert with_method in ("", begin)


def test_cli_fix_rewrites_and_clears_the_finding(project):
    project.write("app/straight.py", d('''
        from sqlalchemy import create_engine, text

        engine = create_engine("sqlite:///app.db")


        def bump():
            with engine.connect() as conn:
                tx = conn.begin()
                conn.execute(text("UPDATE counters SET n = n + 1"))
                tx.commit()
    '''))
    before = project.run("--no-cache", "--select", "TXL101,TXL102", "app/straight.py")
    assert before.rc == 1 and ("app/straight.py", 8, "TXL102") in before.findings()
    diff = project.run("--no-cache", "--select", "TXL101,TXL102", "--diff", "app/straight.py")
    assert diff.rc == 1 and "+        with conn.begin():" in diff.out
    fixed = project.run("--no-cache", "--select", "TXL101,TXL102", "--fix", "app/straight.py")
    assert fixed.rc == 0, fixed.out + fixed.err
    text = (project.root / "app/straight.py").read_text()
    assert "with conn.begin():\n            conn.execute(" in text and "commit" not in text
    again = project.run("--no-cache", "--select", "TXL101,TXL102", "--fix", "app/straight.py")
    assert again.rc == 0 and (project.root / "app/straight.py").read_text() == text
