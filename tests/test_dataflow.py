"""The path rules' dataflow: what is tracked, what ends or releases it, what escapes."""

from __future__ import annotations

import textwrap

import pytest

from txlint.testing import analyze_project, expected_findings

PATH_CODES = {"TXL101", "TXL102", "TXL201", "TXL202"}


def findings(source: str, files: dict[str, str] | None = None, **kw):
    source = textwrap.dedent(source).lstrip("\n")
    project = {"mod.py": source}
    for name, text in (files or {}).items():
        project[name] = textwrap.dedent(text).lstrip("\n")
    result = analyze_project(project, "mod.py", codes=PATH_CODES, **kw)
    return source, result


def check(source: str, files=None, **kw):
    source, result = findings(source, files, **kw)
    actual = {(d.line, d.code) for d in result.diagnostics}
    assert actual == expected_findings(source), "\n".join(
        f"{d.line}:{d.column} {d.code} {d.message}" for d in result.diagnostics)
    return result


def test_acceptance_count_rows():
    result = check("""
        import sqlite3


        def count_rows(path):
            conn = sqlite3.connect(path)  # expect: TXL201, TXL202
            rows = conn.execute("SELECT count(*) FROM items").fetchone()
            return rows[0]
    """)
    for d in result.diagnostics:
        assert (d.line, d.column) == (5, 12)
        assert d.trace and all(5 <= step.line <= 7 for step in d.trace)
    msg = next(d.message for d in result.diagnostics if d.code == "TXL201")
    assert msg == "sqlite3 connection is not closed when returning at line 7"
    exc = next(d.message for d in result.diagnostics if d.code == "TXL202")
    assert exc == "sqlite3 connection is not closed when execute() at line 6 raises"


def test_acceptance_finally_closes():
    check("""
        import sqlite3


        def count_rows(path):
            conn = sqlite3.connect(path)
            try:
                return conn.execute("SELECT count(*) FROM items").fetchone()[0]
            finally:
                conn.close()
    """)


def test_acceptance_psycopg2_cursor():
    source, result = findings("""
        import psycopg2


        def rows(dsn):
            conn = psycopg2.connect(dsn)
            cur = conn.cursor()
            cur.execute("SELECT 1")
            return cur.fetchall()
    """)
    assert (5, "TXL201") in {(d.line, d.code) for d in result.diagnostics}


@pytest.mark.parametrize("source", [
    # returned / yielded / stored
    """
    import sqlite3
    def open_db(path):
        conn = sqlite3.connect(path)
        conn.autocommit = False
        return conn
    """,
    """
    from sqlalchemy.orm import sessionmaker
    SessionLocal = sessionmaker()
    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()
    """,
    """
    import psycopg2
    class Repo:
        def __init__(self, dsn):
            self.conn = psycopg2.connect(dsn)
            self.conn.autocommit = True
    """,
    """
    import sqlite3
    from flask import g
    def get_db():
        if "db" not in g:
            g.db = sqlite3.connect("app.db")
        return g.db
    """,
    """
    import sqlite3
    POOL = []
    def warm(path, n):
        for _ in range(n):
            conn = sqlite3.connect(path)
            POOL.append(conn)
    """,
    # closing() and ExitStack take ownership
    """
    import sqlite3
    from contextlib import closing
    def count(path):
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute("SELECT 1").fetchone()
    """,
    """
    import sqlite3
    from contextlib import ExitStack, closing
    def copy(src, dst):
        with ExitStack() as stack:
            a = stack.enter_context(closing(sqlite3.connect(src)))
            b = sqlite3.connect(dst)
            stack.callback(b.close)
            b.execute("VACUUM")
    """,
    # guards
    """
    import psycopg2
    def load(dsn):
        conn = None
        try:
            conn = psycopg2.connect(dsn)
            return conn.cursor().fetchall()
        finally:
            if conn is not None:
                conn.close()
    """,
    """
    import psycopg2
    def load(dsn):
        conn = None
        try:
            conn = psycopg2.connect(dsn)
            cur = conn.cursor()
            cur.execute("SELECT 1")
            return cur.fetchall()
        finally:
            if conn:
                conn.close()
    """,
    # managed with blocks
    """
    import psycopg
    def names(dsn):
        with psycopg.connect(dsn) as conn:
            return conn.execute("SELECT name FROM t").fetchall()
    """,
    """
    from sqlalchemy import create_engine, text
    engine = create_engine("postgresql://db/app", pool_pre_ping=True)
    def names():
        with engine.connect() as conn:
            return conn.execute(text("SELECT name FROM t")).all()
    """,
    """
    from sqlalchemy.ext.asyncio import async_sessionmaker
    Session = async_sessionmaker()
    async def names():
        async with Session() as session:
            async with session.begin():
                return (await session.execute("x")).all()
    """,
    # borrowed objects and parameters
    """
    from sqlalchemy.orm import Session
    def raw(session: Session):
        conn = session.connection()
        return conn.execute("SELECT 1")
    """,
    """
    def run(conn):
        cur = conn.cursor()
        cur.execute("SELECT 1")
        return cur.fetchall()
    """,
    # not a database
    """
    import requests
    def fetch(url):
        s = requests.Session()
        return s.get(url).json()
    """,
    """
    import redis
    def ping():
        r = redis.Redis()
        return r.ping()
    """,
    # closure keeps it
    """
    import atexit, sqlite3
    def setup(path):
        conn = sqlite3.connect(path)
        def shutdown():
            conn.close()
        atexit.register(shutdown)
        conn.execute("SELECT 1")
    """,
    # a loop that closes each connection it opens
    """
    import sqlite3
    def sizes(paths):
        out = []
        for p in paths:
            conn = sqlite3.connect(p)
            try:
                out.append(conn.execute("SELECT count(*) FROM t").fetchone()[0])
            finally:
                conn.close()
        return out
    """,
    # module level is not a function
    """
    import sqlite3
    if __name__ == "__main__":
        conn = sqlite3.connect("x.db")
        conn.execute("VACUUM")
    """,
])
def test_clean(source):
    check(source)


@pytest.mark.parametrize("source", [
    # returned on the normal path, but an exception before the return leaks it (contract §7)
    """
    import sqlite3
    def open_db(path):
        conn = sqlite3.connect(path)  # expect: TXL202
        conn.execute("PRAGMA foreign_keys = ON")
        return conn
    """,
    # close skipped by an early return
    """
    import sqlite3
    def first(path, key):
        conn = sqlite3.connect(path)  # expect: TXL201
        if not key:
            return None
        row = conn.execute("SELECT 1").fetchone()
        conn.close()
        return row
    """.replace("conn.execute(\"SELECT 1\").fetchone()", "1"),
    # with sqlite3.connect() does not close (contract §6)
    """
    import sqlite3
    def add(path, name):
        with sqlite3.connect(path) as conn:  # expect: TXL201, TXL202
            conn.execute("INSERT INTO t VALUES (?)", (name,))
    """,
    # reassigned in a loop while still open
    """
    import sqlite3
    def scan(paths):
        for p in paths:
            conn = sqlite3.connect(p)  # expect: TXL201, TXL202
            conn.execute("SELECT 1")
        conn.close()
    """,
    # passing to an unknown helper does not close it
    """
    import psycopg2
    from helpers import report
    def job(dsn):
        conn = psycopg2.connect(dsn)  # expect: TXL201, TXL202
        report(conn)
    """,
    # a narrow handler lets other exceptions through
    """
    import sqlite3
    def read(path):
        conn = sqlite3.connect(path)  # expect: TXL202
        try:
            data = conn.execute("SELECT 1").fetchall()
        except sqlite3.OperationalError:
            data = []
        conn.close()
        return data
    """,
    # break out of a while loop skips the close
    """
    import sqlite3
    def poll(path, n):
        while n:
            conn = sqlite3.connect(path)  # expect: TXL201, TXL202
            if conn.execute("SELECT 1").fetchone():
                break
            conn.close()
            n -= 1
    """,
    # a return in finally swallows the exception (normal path only)
    """
    import sqlite3
    def odd(path):
        conn = sqlite3.connect(path)  # expect: TXL201
        try:
            conn.execute("SELECT 1")
        finally:
            return 1
    """,
    # match statement
    """
    import sqlite3
    def handle(path, cmd):
        conn = sqlite3.connect(path)  # expect: TXL201
        match cmd:
            case "vacuum":
                conn.close()
                return 1
            case _:
                return 2
    """,
    # generator that never closes
    """
    import psycopg2
    def rows(dsn):
        conn = psycopg2.connect(dsn)  # expect: TXL201, TXL202
        cur = conn.cursor()  # expect: TXL201, TXL202
        cur.execute("SELECT 1")
        for row in cur:
            yield row
    """,
])
def test_leaks(source):
    check(source)


def test_scoped_session_owned_only_when_created_here():
    check("""
        from sqlalchemy.orm import scoped_session, sessionmaker
        registry = scoped_session(sessionmaker())
        def uses_module_registry():
            s = registry()
            s.execute("SELECT 1")
        def owns_registry(engine):
            Session = scoped_session(sessionmaker(bind=engine))
            s = Session()  # expect: TXL201, TXL202
            s.execute("SELECT 1")
        def removes(engine):
            Session = scoped_session(sessionmaker(bind=engine))
            s = Session()
            try:
                s.execute("SELECT 1")
            finally:
                Session.remove()
    """)


def test_project_factory_and_closer_summaries():
    check("""
        from app.db import get_session, cleanup, Repo
        def leaks():
            s = get_session()  # expect: TXL201, TXL202
            s.execute("SELECT 1")
        def cleaned():
            s = get_session()
            try:
                s.execute("SELECT 1")
            finally:
                cleanup(s)
        def kept():
            s = get_session()
            return Repo(s)
    """, files={
        "app/__init__.py": "",
        "app/db.py": """
            from sqlalchemy.orm import sessionmaker
            SessionLocal = sessionmaker()
            def get_session():
                return SessionLocal()
            def cleanup(session):
                session.close()
            class Repo:
                def __init__(self, session):
                    self.session = session
        """,
    })


def test_configured_closer():
    source = """
        import sqlite3
        from app.db import finish
        def job(path):
            conn = sqlite3.connect(path)
            try:
                conn.execute("SELECT 1")
            finally:
                finish(conn)
    """
    _, result = findings(source)
    assert {d.code for d in result.diagnostics} == {"TXL201", "TXL202"}
    _, result = findings(source, closers=("app.db.finish",))
    assert not result.diagnostics


def test_transactions():
    check("""
        from django.db import transaction
        from sqlalchemy.orm import Session
        def early_return(session: Session, ok):
            session.begin()  # expect: TXL101, TXL102
            session.execute("UPDATE t SET x = 1")
            if not ok:
                return
            session.commit()
        def rolled_back(session: Session):
            session.begin()
            try:
                session.execute("UPDATE t SET x = 1")
            except Exception:
                session.rollback()
                raise
            else:
                session.commit()
        def managed(session: Session):
            with session.begin():
                session.execute("UPDATE t SET x = 1")
        def django_manual():
            transaction.set_autocommit(False)  # expect: TXL102
            do_work()
            transaction.commit()
            transaction.set_autocommit(True)
        def guarded(session: Session):
            session.begin()
            try:
                session.execute("UPDATE t SET x = 1")
                session.commit()
            finally:
                if session.in_transaction():
                    session.rollback()
    """)


def test_budget_gives_up_with_a_note():
    from txlint import cfg

    body = "\n".join(f"    conn.execute('{i}')" for i in range(200))
    source = f"import sqlite3\ndef f(p):\n    conn = sqlite3.connect(p)\n{body}\n"
    old = cfg.Walker.MAX_STEPS
    cfg.Walker.MAX_STEPS = 50
    try:
        result = analyze_project({"m.py": source}, "m.py", codes=PATH_CODES)
    finally:
        cfg.Walker.MAX_STEPS = old
    assert not result.diagnostics
    assert any("not analysed" in n for n in result.notes)


def test_contextlib_suppress_swallows_exceptions():
    check("""
        import sqlite3
        from contextlib import suppress
        def best_effort(path):
            conn = sqlite3.connect(path)
            with suppress(Exception):
                conn.execute("VACUUM")
            conn.close()
        def narrow(path):
            conn = sqlite3.connect(path)  # expect: TXL202
            with suppress(sqlite3.OperationalError):
                conn.execute("VACUUM")
            conn.close()
    """)


def test_method_of_the_same_class_that_releases_its_argument():
    check("""
        import psycopg2
        from psycopg2.pool import SimpleConnectionPool


        class Repo:
            def __init__(self, dsn):
                self.pool = SimpleConnectionPool(1, 4, dsn)

            def _release(self, conn):
                self.pool.putconn(conn)

            def _log(self, conn):
                print(conn.dsn)

            def count(self, dsn):
                conn = psycopg2.connect(dsn)
                try:
                    return conn.cursor().fetchone()
                finally:
                    self._release(conn)

            def leak(self, dsn):
                conn = psycopg2.connect(dsn)  # expect: TXL201, TXL202
                self._log(conn)
    """)


def test_returning_a_cursor_hands_over_its_connection():
    """redash's databricks runner: `connection = pyodbc.connect(...); return connection.cursor()`.
    The caller owns the cursor and, through `cursor.connection`, the connection: not a leak here."""
    from txlint.testing import analyze_project

    text = (
        "import pyodbc\n\n\n"
        "def get_cursor(dsn):\n"
        "    connection = pyodbc.connect(dsn, autocommit=True)\n"
        "    return connection.cursor()\n\n\n"
        "def leaks(dsn):\n"
        "    connection = pyodbc.connect(dsn)\n"
        "    cursor = connection.cursor()\n"
        "    return cursor.fetchall()\n"
    )
    result = analyze_project({"m.py": text}, "m.py")
    assert {(d.line, d.code) for d in result.diagnostics} == {
        (10, "TXL201"), (10, "TXL202"), (11, "TXL201"), (11, "TXL202")}


def test_a_connection_that_wraps_a_handed_dbapi_connection_is_borrowed():
    """SQLAlchemy's own engine/create.py: `Connection(engine, connection=_AdhocProxiedConnection(
    dbapi_connection, record))` inside a pool event wraps the pool's connection; not a leak."""
    from txlint.testing import analyze_project

    text = (
        "from sqlalchemy.engine import Connection\n\n\n"
        "def first_connect(engine, dbapi_connection, record):\n"
        "    c = Connection(engine, connection=dbapi_connection)\n"
        "    engine.dialect.initialize(c)\n\n\n"
        "def owns(engine):\n"
        "    c = Connection(engine)\n"
        "    c.exec_driver_sql('SELECT 1')\n"
    )
    result = analyze_project({"m.py": text}, "m.py")
    assert {(d.line, d.code) for d in result.diagnostics} == {(10, "TXL201"), (10, "TXL202")}


def test_get_transaction_returns_a_handle_that_ends_it():
    """SQLAlchemy's test_transaction.py: `s.begin(); tran = s.get_transaction(); ...; tran.close()`."""
    from txlint.testing import analyze_project

    text = (
        "from sqlalchemy.orm import Session\n\n\n"
        "def flush_keeps_transaction(session: Session, user):\n"
        "    session.begin()\n"
        "    tran = session.get_transaction()\n"
        "    session.add(user)\n"
        "    session.flush()\n"
        "    tran.close()\n\n\n"
        "def forgets(session: Session, user):\n"
        "    session.begin()\n"
        "    tran = session.get_transaction()\n"
        "    session.add(user)\n"
        "    return tran is not None\n"
    )
    result = analyze_project({"m.py": text}, "m.py")
    # the handle ends it on the normal path; an exception from add()/flush() still leaves it open
    assert {(d.line, d.code) for d in result.diagnostics} == {(5, "TXL102"), (13, "TXL101"), (13, "TXL102")}


def test_a_method_chosen_at_run_time_may_end_the_transaction():
    """SQLAlchemy's test_session.py: `s.begin(); ...; getattr(s, op)()` with op = "commit" etc."""
    from txlint.testing import analyze_project

    text = (
        "from sqlalchemy.orm import Session\n\n\n"
        "def finish(session: Session, op):\n"
        "    session.begin()\n"
        "    getattr(session, op)()\n\n\n"
        "def literal_name(session: Session):\n"
        "    session.begin()\n"
        "    getattr(session, 'flush')()\n"
    )
    result = analyze_project({"m.py": text}, "m.py")
    assert {(d.line, d.code) for d in result.diagnostics} == {(10, "TXL101"), (10, "TXL102")}
