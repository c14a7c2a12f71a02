"""The TXL201/TXL202 safe fix: wrap a local resource in ``with`` / ``contextlib.closing``."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst
import pytest

from txlint.context import FileContext, Fix, Options
from txlint.fix_with import fix_for_call, wrap_in_with
from txlint.fixes import apply_fixes
from txlint.resources import DEFAULT_TABLE
from txlint.testing import analyze_project


def _walk(node):
    yield node
    for child in node.children:
        yield from _walk(child)


def _ctx(text: str, want_fixes: bool = False) -> FileContext:
    return FileContext("app.py", "app.py", text, ast.parse(text),
                       Options(enabled=frozenset({"TXL201", "TXL202"}), want_fixes=want_fixes))


def _acquire(func: cst.FunctionDef, var: str) -> cst.SimpleStatementLine:
    for n in _walk(func):
        if isinstance(n, cst.SimpleStatementLine) and isinstance(n.body[0], cst.Assign):
            target = n.body[0].targets[0].target
            if isinstance(target, cst.Name) and target.value == var:
                return n
    raise AssertionError(f"no assignment to {var}")


def make_fix(text: str, kind: str, *, func: str = "f", var: str = "conn", dedent: bool = True):
    if dedent:
        text = textwrap.dedent(text).lstrip("\n")
    ctx = _ctx(text)
    fdef = next(n for n in _walk(ctx.module) if isinstance(n, cst.FunctionDef) and n.name.value == func)
    fix = wrap_in_with(ctx, fdef, _acquire(fdef, var), var, DEFAULT_TABLE.kinds[kind])
    return ctx, fix


def fixed(text: str, kind: str, **kw) -> str:
    ctx, fix = make_fix(text, kind, **kw)
    assert fix is not None
    out = apply_fixes(ctx.module, [fix])
    assert out is not None
    ast.parse(out)
    return out


def refused(text: str, kind: str, **kw) -> bool:
    return make_fix(text, kind, **kw)[1] is None


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# ------------------------------------------------------------------------------ what gets wrapped
def test_sqlite3_uses_closing_and_adds_the_import():
    out = fixed('''
        """Reports."""

        import sqlite3


        def f(path):
            conn = sqlite3.connect(path)
            n = conn.execute("select count(*) from t").fetchone()[0]
            return n
    ''', "sqlite3.connection")
    assert out == d('''
        """Reports."""

        import contextlib
        import sqlite3


        def f(path):
            with contextlib.closing(sqlite3.connect(path)) as conn:
                n = conn.execute("select count(*) from t").fetchone()[0]
            return n
    ''')


def test_close_at_the_end_is_removed():
    out = fixed('''
        import contextlib
        import sqlite3

        def f(path, rows):
            conn = sqlite3.connect(path)
            conn.executemany("insert into t values (?)", rows)
            conn.commit()
            conn.close()
            print("done")
    ''', "sqlite3.connection")
    assert out == d('''
        import contextlib
        import sqlite3

        def f(path, rows):
            with contextlib.closing(sqlite3.connect(path)) as conn:
                conn.executemany("insert into t values (?)", rows)
                conn.commit()
            print("done")
    ''')


def test_psycopg2_uses_existing_contextlib_import():
    out = fixed('''
        import contextlib

        import psycopg2


        def f(dsn):
            conn = psycopg2.connect(dsn)
            cur = conn.cursor()
            cur.execute("select 1")
            row = cur.fetchone()
            return row
    ''', "psycopg2.connection")
    assert out == d('''
        import contextlib

        import psycopg2


        def f(dsn):
            with contextlib.closing(psycopg2.connect(dsn)) as conn:
                cur = conn.cursor()
                cur.execute("select 1")
                row = cur.fetchone()
            return row
    ''')


def test_from_contextlib_import_closing_is_used():
    out = fixed('''
        from contextlib import closing
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            conn.execute("delete from t")
            conn.commit()
    ''', "sqlite3.connection")
    assert out == d('''
        from contextlib import closing
        import sqlite3

        def f(path):
            with closing(sqlite3.connect(path)) as conn:
                conn.execute("delete from t")
                conn.commit()
    ''')


def test_aliased_contextlib_import_is_used():
    out = fixed('''
        import contextlib as cl
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            conn.execute("vacuum")
    ''', "sqlite3.connection")
    assert "    with cl.closing(sqlite3.connect(path)) as conn:\n        conn.execute(\"vacuum\")\n" in out
    assert out.count("import contextlib") == 1


def test_psycopg3_uses_closing_because_its_with_commits():
    # psycopg 3's `with conn:` commits when the block ends without error; close() discards an open
    # transaction, so only closing() keeps behaviour
    out = fixed('''
        import contextlib
        import psycopg

        def f(dsn):
            conn = psycopg.connect(dsn)
            conn.execute("insert into audit values (1)")
    ''', "psycopg.connection")
    assert "    with contextlib.closing(psycopg.connect(dsn)) as conn:\n" in out


def test_pymysql_uses_plain_with():
    out = fixed('''
        import pymysql

        def f(host):
            conn = pymysql.connect(host=host, user="app")
            with conn.cursor() as cur:
                cur.execute("select 1")
                result = cur.fetchone()
            conn.close()
            return result
    ''', "pymysql.connection")
    assert out == d('''
        import pymysql

        def f(host):
            with pymysql.connect(host=host, user="app") as conn:
                with conn.cursor() as cur:
                    cur.execute("select 1")
                    result = cur.fetchone()
            return result
    ''')


def test_sqlalchemy_session_uses_plain_with():
    out = fixed('''
        from sqlalchemy.orm import sessionmaker

        SessionLocal = sessionmaker()


        def f(user_id):
            session = SessionLocal()
            session.execute(update(User).where(User.id == user_id).values(active=False))
            session.commit()
            session.close()
    ''', "sa.session", var="session")
    assert out == d('''
        from sqlalchemy.orm import sessionmaker

        SessionLocal = sessionmaker()


        def f(user_id):
            with SessionLocal() as session:
                session.execute(update(User).where(User.id == user_id).values(active=False))
                session.commit()
    ''')


def test_cursor_uses_closing():
    out = fixed('''
        import contextlib

        def f(conn):
            cur = conn.cursor()
            cur.execute("select 1")
            rows = cur.fetchall()
            return rows
    ''', "dbapi.cursor", var="cur")
    assert out == d('''
        import contextlib

        def f(conn):
            with contextlib.closing(conn.cursor()) as cur:
                cur.execute("select 1")
                rows = cur.fetchall()
            return rows
    ''')


def test_run_inside_a_for_loop_is_wrapped_inside_the_loop():
    out = fixed('''
        import sqlite3
        from contextlib import closing

        def f(paths):
            for path in paths:
                conn = sqlite3.connect(path)
                conn.execute("vacuum")
            return len(paths)
    ''', "sqlite3.connection")
    assert out == d('''
        import sqlite3
        from contextlib import closing

        def f(paths):
            for path in paths:
                with closing(sqlite3.connect(path)) as conn:
                    conn.execute("vacuum")
            return len(paths)
    ''')


def test_comments_and_blank_lines_are_kept():
    out = fixed('''
        from contextlib import closing
        import sqlite3

        def f(path):
            # open the archive
            conn = sqlite3.connect(path)  # read-only
            conn.row_factory = sqlite3.Row

            # newest first
            rows = conn.execute("select * from t order by id desc").fetchall()
            # done with it
            conn.close()
            return rows
    ''', "sqlite3.connection")
    assert out == d('''
        from contextlib import closing
        import sqlite3

        def f(path):
            # open the archive
            with closing(sqlite3.connect(path)) as conn:  # read-only
                conn.row_factory = sqlite3.Row

                # newest first
                rows = conn.execute("select * from t order by id desc").fetchall()
            # done with it
            return rows
    ''')


def test_crlf_file_keeps_crlf():
    text = ("import sqlite3\r\n\r\ndef f(path):\r\n    conn = sqlite3.connect(path)\r\n"
            "    conn.execute('vacuum')\r\n    return 1\r\n")
    out = fixed(text, "sqlite3.connection", dedent=False)
    assert out == ("import contextlib\r\nimport sqlite3\r\n\r\ndef f(path):\r\n"
                   "    with contextlib.closing(sqlite3.connect(path)) as conn:\r\n"
                   "        conn.execute('vacuum')\r\n    return 1\r\n")


def test_return_inside_the_run_is_allowed_when_the_value_is_plain():
    out = fixed('''
        import contextlib, sqlite3

        def f(path, key):
            conn = sqlite3.connect(path)
            row = conn.execute("select v from kv where k = ?", (key,)).fetchone()
            if row is None:
                return None
            conn.execute("update kv set hits = hits + 1 where k = ?", (key,))
            return row[0]
    ''', "sqlite3.connection")
    assert "    with contextlib.closing(sqlite3.connect(path)) as conn:\n" in out
    assert "        if row is None:\n            return None\n" in out
    assert out.endswith('        conn.execute("update kv set hits = hits + 1 where k = ?", (key,))\n    return row[0]\n')


def test_import_goes_first_when_no_import_sorts_before_it():
    out = fixed('''
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            conn.execute("vacuum")
    ''', "sqlite3.connection")
    assert out.startswith("import contextlib\nimport sqlite3\n\ndef f(path):\n")


def test_import_after_docstring_and_future_without_other_imports():
    out = fixed('''
        """Doc."""
        from __future__ import annotations


        def f(connect):
            cur = connect().cursor()
            cur.execute("select 1")
    ''', "dbapi.cursor", var="cur")
    assert out.startswith('"""Doc."""\nfrom __future__ import annotations\n\n\nimport contextlib\n\n\ndef f(connect):\n')


# ------------------------------------------------------------------------------ what is refused
def test_use_after_the_block_is_refused_when_the_close_is_not_last():
    assert refused('''
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            conn.execute("vacuum")
            conn.close()
            print(conn.total_changes)
    ''', "sqlite3.connection")


def test_use_outside_the_block_is_refused():
    assert refused('''
        import sqlite3

        def f(path, flag):
            if flag:
                conn = sqlite3.connect(path)
                conn.execute("vacuum")
            return conn
    ''', "sqlite3.connection")


def test_returned_resource_is_refused():
    assert refused('''
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            conn.execute("pragma foreign_keys = on")
            return conn
    ''', "sqlite3.connection")


def test_returned_cursor_of_the_resource_is_refused():
    assert refused('''
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            return conn.execute("select * from t")
    ''', "sqlite3.connection")


def test_passed_as_argument_is_refused():
    assert refused('''
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            migrate(conn)
    ''', "sqlite3.connection")


def test_yield_in_the_run_is_refused():
    assert refused('''
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            for row in conn.execute("select * from t"):
                yield row[0]
            conn.close()
    ''', "sqlite3.connection")


def test_nested_function_using_the_resource_is_refused():
    assert refused('''
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            def query(sql):
                return conn.execute(sql).fetchall()
            return query("select 1")
    ''', "sqlite3.connection")


def test_lambda_using_the_resource_is_refused():
    assert refused('''
        import sqlite3

        def f(path, items):
            conn = sqlite3.connect(path)
            items.sort(key=lambda i: conn.execute("select 1").fetchone())
    ''', "sqlite3.connection")


def test_reassigned_is_refused():
    assert refused('''
        import sqlite3

        def f(path, other):
            conn = sqlite3.connect(path)
            conn.execute("vacuum")
            conn = sqlite3.connect(other)
            conn.execute("vacuum")
    ''', "sqlite3.connection")


def test_stored_on_an_object_is_refused():
    assert refused('''
        import sqlite3

        def f(self, path):
            conn = sqlite3.connect(path)
            self.conn = conn
    ''', "sqlite3.connection")


def test_stored_in_a_container_is_refused():
    assert refused('''
        import sqlite3

        def f(path, pool):
            conn = sqlite3.connect(path)
            pool["main"] = [conn]
    ''', "sqlite3.connection")


def test_derived_cursor_used_after_the_block_extends_the_run():
    # the cursor is tied to the connection: the with-block must cover its last use too
    out = fixed('''
        import contextlib, sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            cur = conn.cursor()
            cur.execute("select 1")
            print("fetched")
            return cur.fetchall()
    ''', "sqlite3.connection")
    assert out.endswith('''    with contextlib.closing(sqlite3.connect(path)) as conn:
        cur = conn.cursor()
        cur.execute("select 1")
        print("fetched")
        return cur.fetchall()
''')


def test_session_objects_returned_are_refused():
    # ORM objects are detached (lazy loads fail) once their session closes
    assert refused('''
        def f(user_id):
            session = SessionLocal()
            user = session.get(User, user_id)
            return user
    ''', "sa.session", var="session")


def test_close_in_the_middle_is_refused():
    assert refused('''
        import sqlite3

        def f(path, again):
            conn = sqlite3.connect(path)
            if again:
                conn.close()
                return
            conn.execute("vacuum")
    ''', "sqlite3.connection")


def test_awaited_acquisition_is_refused():
    assert refused('''
        import asyncpg

        async def f(dsn):
            conn = await asyncpg.connect(dsn)
            await conn.execute("select 1")
    ''', "asyncpg.connection")


def test_pooled_connection_is_refused():
    # closing() would close the pool's connection instead of putting it back
    assert refused('''
        def f(pool):
            conn = pool.getconn()
            conn.cursor().execute("select 1")
    ''', "dbapi.pooled-connection")


def test_parameter_shadowing_contextlib_is_refused():
    assert refused('''
        import sqlite3

        def f(path, contextlib):
            conn = sqlite3.connect(path)
            conn.execute("vacuum")
    ''', "sqlite3.connection")


def test_with_on_the_resource_inside_the_run_is_refused():
    # PyMySQL's `with conn:` closes; a second close() from the new with-block would raise
    assert refused('''
        import pymysql

        def f(host):
            conn = pymysql.connect(host=host)
            with conn:
                conn.cursor().execute("select 1")
    ''', "pymysql.connection")


def test_alias_of_the_resource_is_refused():
    assert refused('''
        import pymysql

        def f(host):
            conn = pymysql.connect(host=host)
            other = conn
            other.close()
    ''', "pymysql.connection")


def test_global_is_refused():
    assert refused('''
        import sqlite3

        def f(path):
            global conn
            conn = sqlite3.connect(path)
            conn.execute("vacuum")
    ''', "sqlite3.connection")


# ------------------------------------------------------------------------------ how the rule calls it
def _first_call(module: cst.Module, attr: str) -> cst.Call:
    return next(n for n in _walk(module) if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
                and n.func.attr.value == attr)


def test_fix_for_call_finds_the_statement_and_memoises():
    text = d('''
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            conn.execute("vacuum")
    ''')
    ctx = _ctx(text, want_fixes=True)
    call = _first_call(ctx.module, "connect")
    kind = DEFAULT_TABLE.kinds["sqlite3.connection"]
    first = fix_for_call(ctx, call, kind)
    assert isinstance(first, Fix) and isinstance(first.old, cst.IndentedBlock)
    assert len(first.also) == 1 and first.also[0].before  # the `import contextlib` insertion
    assert fix_for_call(ctx, call, kind) is first        # TXL201 and TXL202 share one fix
    assert fix_for_call(_ctx(text), _first_call(_ctx(text).module, "connect"), kind) is None  # no --fix


def test_fix_for_call_gives_one_import_adding_fix_per_file():
    text = d('''
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            conn.execute("vacuum")

        def g(path):
            conn = sqlite3.connect(path)
            conn.execute("analyze")
    ''')
    ctx = _ctx(text, want_fixes=True)
    kind = DEFAULT_TABLE.kinds["sqlite3.connection"]
    calls = [n for n in _walk(ctx.module) if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
             and n.func.attr.value == "connect"]
    fixes = [fix_for_call(ctx, c, kind) for c in calls]
    assert fixes[0] is not None and fixes[1] is None


@pytest.mark.parametrize("source", [
    '''
    import sqlite3

    def f(path):
        conn = sqlite3.connect(path)
        n = conn.execute("select count(*) from t").fetchone()[0]
        return n
    ''',
    '''
    import pymysql

    def f(host):
        conn = pymysql.connect(host=host)
        with conn.cursor() as cur:
            cur.execute("select 1")
    ''',
])
def test_fixed_code_has_no_connection_finding(source):
    text = d(source)
    ctx, fix = make_fix(text, "sqlite3.connection" if "sqlite3" in text else "pymysql.connection")
    out = apply_fixes(ctx.module, [fix])
    result = analyze_project({"app.py": out}, "app.py", codes={"TXL201", "TXL202"})
    assert not [x for x in result.diagnostics if x.code in ("TXL201", "TXL202")]


def test_fix_for_call_gives_no_module_wide_fix_after_a_block_fix():
    # a Module-wide fix would override the block fix given before it; the next --fix run does it
    text = d('''
        import pymysql

        def f(host):
            conn = pymysql.connect(host=host)
            cur = conn.cursor()
            cur.execute("select 1")
            rows = cur.fetchall()
            cur.close()
            conn.close()
            return rows
    ''')
    ctx = _ctx(text, want_fixes=True)
    first = fix_for_call(ctx, _first_call(ctx.module, "connect"), DEFAULT_TABLE.kinds["pymysql.connection"])
    second = fix_for_call(ctx, _first_call(ctx.module, "cursor"), DEFAULT_TABLE.kinds["dbapi.cursor"])
    assert first is not None and isinstance(first.old, cst.IndentedBlock)
    assert second is None
    assert apply_fixes(ctx.module, [first]) == d('''
        import pymysql

        def f(host):
            with pymysql.connect(host=host) as conn:
                cur = conn.cursor()
                cur.execute("select 1")
                rows = cur.fetchall()
                cur.close()
            return rows
    ''')


def test_fix_for_call_skips_awaited_and_non_assignment_acquisitions():
    text = d('''
        import asyncpg, sqlite3

        async def f(dsn, path):
            conn = await asyncpg.connect(dsn)
            sqlite3.connect(path).execute("vacuum")
    ''')
    ctx = _ctx(text, want_fixes=True)
    assert fix_for_call(ctx, _first_call(ctx.module, "connect"), DEFAULT_TABLE.kinds["asyncpg.connection"]) is None
    calls = [n for n in _walk(ctx.module) if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute)
             and n.func.attr.value == "connect"]
    assert fix_for_call(ctx, calls[1], DEFAULT_TABLE.kinds["sqlite3.connection"]) is None


def test_second_application_changes_nothing():
    text = d('''
        from contextlib import closing
        import sqlite3

        def f(path):
            conn = sqlite3.connect(path)
            conn.execute("vacuum")
    ''')
    ctx = _ctx(text, want_fixes=True)
    fix = fix_for_call(ctx, _first_call(ctx.module, "connect"), DEFAULT_TABLE.kinds["sqlite3.connection"])
    out = apply_fixes(ctx.module, [fix])
    again = _ctx(out, want_fixes=True)
    # the call now sits in a with-item, not in `var = call`: no fix offered
    assert fix_for_call(again, _first_call(again.module, "connect"), DEFAULT_TABLE.kinds["sqlite3.connection"]) is None


def test_sync_session_in_async_function_gets_plain_with():
    out = fixed('''
        async def f(user_id):
            session = SessionLocal()
            session.merge(Visit(user_id=user_id))
            session.commit()
            session.close()
    ''', "sa.session", var="session")
    assert out == d('''
        async def f(user_id):
            with SessionLocal() as session:
                session.merge(Visit(user_id=user_id))
                session.commit()
    ''')


def test_two_space_indentation_is_kept():
    out = fixed("import contextlib, sqlite3\n\ndef f(p):\n  if p:\n    conn = sqlite3.connect(p)\n"
                "    conn.execute('vacuum')\n  return p\n", "sqlite3.connection", dedent=False)
    assert out == ("import contextlib, sqlite3\n\ndef f(p):\n  if p:\n"
                   "    with contextlib.closing(sqlite3.connect(p)) as conn:\n      conn.execute('vacuum')\n"
                   "  return p\n")


def test_with_fix_and_engine_fix_apply_in_one_pass(tmp_path):
    from txlint.testing import analyze_project

    text = d('''
        import sqlite3
        from sqlalchemy import create_engine

        engine = create_engine("mysql+pymysql://app:secret@db.internal/app")


        def count_rows(path):
            conn = sqlite3.connect(path)
            rows = conn.execute("SELECT count(*) FROM items").fetchone()
            return rows[0]
    ''')
    result = analyze_project({"m.py": text}, "m.py", want_fixes=True)
    assert result.fixed_source == d('''
        import contextlib
        import sqlite3
        from sqlalchemy import create_engine

        engine = create_engine("mysql+pymysql://app:secret@db.internal/app", pool_pre_ping=True)


        def count_rows(path):
            with contextlib.closing(sqlite3.connect(path)) as conn:
                rows = conn.execute("SELECT count(*) FROM items").fetchone()
            return rows[0]
    ''')
    again = analyze_project({"m.py": result.fixed_source}, "m.py", want_fixes=True)
    assert again.diagnostics == [] and again.fixed_source is None
