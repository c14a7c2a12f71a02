"""TXL201 / TXL202: sessions, connections and cursors that are not closed on every path."""

from __future__ import annotations

import re

from txlint.dataflow import path_findings, trace_steps, why
from txlint.gate import path_rules_gate
from txlint.registry import Rule, ex, register

_MARK = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")


def marked(example, code: str) -> bool:
    """Whether the checked file of ``example`` marks a finding of ``code``."""
    text = example.project()[example.checked_path()]
    return any(code in m.group(1) for m in _MARK.finditer(text))



def _not_released(finding) -> str:
    """``is not closed`` or, for resources given back another way, ``is not released with putconn()``."""
    closer = finding.rec.closer
    return "is not closed" if closer == "close()" else f"is not released with {closer}"


from txlint.fix_with import fix_for_call  # noqa: E402


def _report(ctx, code: str) -> None:
    for f in path_findings(ctx):
        if f.code != code:
            continue
        msg = f"{f.rec.kind.label} {_not_released(f)} {why(ctx, f)}"
        ctx.report(code, f.node, msg, trace=trace_steps(ctx, f), fix=fix_for_call(ctx, f.node, f.rec.kind))


# Examples shared by TXL201 and TXL202: each rule takes the ones that mark its code.
_CASES = [
    # ---------------------------------------------------------------- leaks
    ex("""
    import sqlite3


    def count_rows(path):
        conn = sqlite3.connect(path)  # expect: TXL201, TXL202
        rows = conn.execute("SELECT count(*) FROM items").fetchone()
        return rows[0]
    """),
    ex("""
    import sqlite3


    def add_tag(path, name):
        # `with conn:` commits, but does not close the connection
        with sqlite3.connect(path) as conn:  # expect: TXL201, TXL202
            conn.execute("INSERT INTO tags (name) VALUES (?)", (name,))
    """),
    ex("""
    import sqlite3


    def latest(path, user_id):
        conn = sqlite3.connect(path)  # expect: TXL201
        if user_id is None:
            return None
        try:
            return conn.execute("SELECT max(id) FROM posts WHERE user_id = ?", (user_id,)).fetchone()
        finally:
            conn.close()
    """),
    ex("""
    import psycopg2


    def balance(dsn, account_id):
        conn = psycopg2.connect(dsn)  # expect: TXL201, TXL202
        cur = conn.cursor()  # expect: TXL201, TXL202
        cur.execute("SELECT sum(cents) FROM payments WHERE account_id = %s", (account_id,))
        return cur.fetchone()[0]
    """),
    ex("""
    import psycopg2


    def archive(dsn, day):
        conn = psycopg2.connect(dsn)  # expect: TXL202
        cur = conn.cursor()  # expect: TXL202
        cur.execute("INSERT INTO archive SELECT * FROM events WHERE day = %s", (day,))
        conn.commit()
        conn.close()
    """),
    ex("""
    import psycopg2
    from psycopg2.pool import ThreadedConnectionPool

    pool = ThreadedConnectionPool(1, 10, "dbname=shop")


    def reserve(sku):
        conn = pool.getconn()  # expect: TXL201, TXL202
        with conn.cursor() as cur:
            cur.execute("UPDATE stock SET qty = qty - 1 WHERE sku = %s", (sku,))
            if cur.rowcount == 0:
                return False
        conn.commit()
        pool.putconn(conn)
        return True
    """),
    ex("""
    import psycopg


    def names(dsn):
        conn = psycopg.connect(dsn)  # expect: TXL201, TXL202
        return [r[0] for r in conn.execute("SELECT name FROM users").fetchall()]
    """),
    ex("""
    import pymysql


    def order_total(order_id):
        conn = pymysql.connect(host="db", user="shop", database="shop")  # expect: TXL202
        cur = conn.cursor()  # expect: TXL202
        cur.execute("SELECT sum(price) FROM lines WHERE order_id = %s", (order_id,))
        total = cur.fetchone()[0]
        conn.close()
        return total
    """),
    ex("""
    import MySQLdb


    def thread_titles(board):
        db = MySQLdb.connect(host="db", user="forum", passwd="", db="forum")  # expect: TXL201, TXL202
        c = db.cursor()  # expect: TXL201, TXL202
        c.execute("SELECT title FROM threads WHERE board = %s", (board,))
        return [row[0] for row in c.fetchall()]
    """),
    ex("""
    import mysql.connector


    def ping(config):
        cnx = mysql.connector.connect(**config)  # expect: TXL201, TXL202
        cnx.ping(reconnect=False)
    """),
    ex("""
    import oracledb


    def employee_name(dsn, emp_id):
        conn = oracledb.connect(user="hr", password="secret", dsn=dsn)  # expect: TXL202
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM employees WHERE id = :id", id=emp_id)
            row = cur.fetchone()
        conn.close()
        return row
    """),
    ex("""
    import pyodbc


    def report(conn_str):
        cnxn = pyodbc.connect(conn_str)  # expect: TXL201, TXL202
        cursor = cnxn.cursor()  # expect: TXL201, TXL202
        cursor.execute("SELECT id, total FROM invoices")
        return cursor.fetchall()
    """),
    ex("""
    import aiomysql


    async def message_count(room):
        conn = await aiomysql.connect(host="127.0.0.1", db="chat")  # expect: TXL201, TXL202
        async with conn.cursor() as cur:
            await cur.execute("SELECT count(*) FROM messages WHERE room = %s", (room,))
            (count,) = await cur.fetchone()
        return count
    """),
    ex("""
    import asyncpg


    async def fetch_user(dsn, user_id):
        conn = await asyncpg.connect(dsn)  # expect: TXL202
        row = await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
        await conn.close()
        return row
    """),
    ex("""
    import asyncpg


    async def touch(dsn, user_id):
        pool = await asyncpg.create_pool(dsn)
        conn = await pool.acquire()  # expect: TXL202
        await conn.execute("UPDATE users SET seen = now() WHERE id = $1", user_id)
        await pool.release(conn)
    """),
    ex("""
    from sqlalchemy.orm import sessionmaker

    from app.models import engine, User

    SessionLocal = sessionmaker(bind=engine)


    def rename(user_id, name):
        session = SessionLocal()  # expect: TXL201, TXL202
        user = session.get(User, user_id)
        user.name = name
        session.commit()
    """),
    ex("""
    from sqlalchemy import create_engine, text

    engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


    def table_sizes():
        conn = engine.connect()  # expect: TXL201, TXL202
        return conn.execute(text("SELECT relname, n_live_tup FROM pg_stat_user_tables")).all()
    """),
    ex("""
    from sqlalchemy import create_engine

    engine = create_engine("mysql+pymysql://app@db/app", pool_recycle=3600)


    def vacuum():
        raw = engine.raw_connection()  # expect: TXL201, TXL202
        cur = raw.cursor()  # expect: TXL201, TXL202
        cur.execute("OPTIMIZE TABLE events")
    """),
    ex("""
    from sqlalchemy.orm import Session


    def count(engine, model):
        session = Session(engine)  # expect: TXL201
        if model is None:
            return 0
        try:
            return session.query(model).count()
        finally:
            session.close()
    """),
    ex("""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine("postgresql+asyncpg://app@db/app", pool_pre_ping=True)
    Session = async_sessionmaker(engine)


    async def mark_paid(order_id):
        session = Session()  # expect: TXL202
        order = await session.get(Order, order_id)
        order.paid = True
        await session.commit()
        await session.close()
    """),
    ex("""
    from sqlalchemy.orm import scoped_session, sessionmaker


    def run_job(engine):
        Session = scoped_session(sessionmaker(bind=engine))
        session = Session()  # expect: TXL201, TXL202
        session.execute("DELETE FROM jobs WHERE done")
        session.commit()
    """),
    ex("""
    import sqlite3


    def merge(paths, target):
        out = sqlite3.connect(target)  # expect: TXL201, TXL202
        for path in paths:
            src = sqlite3.connect(path)  # expect: TXL201, TXL202
            for row in src.execute("SELECT * FROM items"):
                out.execute("INSERT INTO items VALUES (?, ?)", row)
        out.commit()
    """),
    ex("""
    import sqlite3


    def find(paths, key):
        for path in paths:
            conn = sqlite3.connect(path)  # expect: TXL201, TXL202
            row = conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
            if row:
                break
            conn.close()
        return row
    """),
    ex("""
    import sqlite3


    def load(path):
        conn = sqlite3.connect(path)  # expect: TXL202
        try:
            rows = conn.execute("SELECT * FROM items").fetchall()
        except sqlite3.OperationalError:
            rows = []
        conn.close()
        return rows
    """),
    ex("""
    import psycopg2

    from app.reporting import render


    def export(dsn):
        conn = psycopg2.connect(dsn)  # expect: TXL201, TXL202
        # an arbitrary helper does not close what it is given
        render(conn)
    """),
    ex("""
    import sqlite3


    def dispatch(path, command):
        conn = sqlite3.connect(path)  # expect: TXL201
        match command:
            case "vacuum":
                conn.close()
                return "ok"
            case _:
                return "unknown"
    """),
    ex("""
    import psycopg2


    def stream(dsn):
        conn = psycopg2.connect(dsn)  # expect: TXL201, TXL202
        cur = conn.cursor(name="stream")  # expect: TXL201, TXL202
        cur.execute("SELECT * FROM events")
        for row in cur:
            yield row
    """),
    ex("""
    import sqlite3


    def retry(path, attempts):
        while attempts:
            conn = sqlite3.connect(path)  # expect: TXL201, TXL202
            try:
                conn.execute("UPDATE counters SET n = n + 1")
            except sqlite3.OperationalError:
                attempts -= 1
                continue
            conn.commit()
            conn.close()
            return True
        return False
    """),
    ex("""
    from django.db import connection


    def active_users():
        cursor = connection.cursor()  # expect: TXL201, TXL202
        cursor.execute("SELECT id FROM auth_user WHERE is_active")
        return [r[0] for r in cursor.fetchall()]
    """),
    ex("""
    from django.db import connections


    def replica_count(table):
        cur = connections["replica"].cursor()  # expect: TXL202
        cur.execute(f"SELECT count(*) FROM {table}")
        n = cur.fetchone()[0]
        cur.close()
        return n
    """),
    ex(files={
        "app/__init__.py": "",
        "app/db.py": '''
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker
            engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)
            SessionLocal = sessionmaker(bind=engine)
        ''',
        "app/jobs.py": '''
            from app.db import SessionLocal


            def purge(days):
                db = SessionLocal()  # expect: TXL201, TXL202
                db.execute("DELETE FROM sessions WHERE age > :d", {"d": days})
                db.commit()
        ''',
    }, check="app/jobs.py"),
    ex(files={
        "app/__init__.py": "",
        "app/db.py": '''
            from sqlalchemy.orm import sessionmaker
            SessionLocal = sessionmaker()


            def get_session():
                return SessionLocal()
        ''',
        "app/stats.py": '''
            from app.db import get_session


            def stats():
                session = get_session()  # expect: TXL201, TXL202
                return session.execute("SELECT count(*) FROM users").scalar()
        ''',
    }, check="app/stats.py"),
    ex("""
    import sqlite3


    class Importer:
        def run(self, path, rows):
            conn = sqlite3.connect(path)  # expect: TXL201, TXL202
            conn.executemany("INSERT INTO items VALUES (?, ?)", rows)
            conn.commit()
    """),
    ex("""
    import sqlite3


    def migrate(path, backup):
        conn = sqlite3.connect(path)  # expect: TXL201, TXL202
        conn.execute("ALTER TABLE items ADD COLUMN note TEXT")
        conn = sqlite3.connect(backup)
        try:
            conn.execute("VACUUM")
        finally:
            conn.close()
    """),
    ex("""
    import psycopg2


    def import_batch(dsn, rows):
        conn = psycopg2.connect(dsn)  # expect: TXL201
        try:
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO batch VALUES (%s, %s)", rows)
            conn.commit()
        except Exception:
            # closed only when something fails
            conn.close()
            raise
        return True
    """),
    ex("""
    import pyodbc


    def invoice_total(conn_str, invoice_id):
        cnxn = pyodbc.connect(conn_str)  # expect: TXL201
        try:
            row = cnxn.execute("SELECT total FROM invoices WHERE id = ?", invoice_id).fetchone()
        except Exception:
            cnxn.close()
            raise
        if row is None:
            return None
        cnxn.close()
        return row[0]
    """),
    ex("""
    import aiomysql


    async def room_exists(dsn, name):
        pool = await aiomysql.create_pool(dsn)
        conn = await pool.acquire()  # expect: TXL201
        try:
            async with conn.cursor() as cur:
                await cur.execute("SELECT 1 FROM rooms WHERE name = %s", (name,))
                if await cur.fetchone():
                    return True
        except Exception:
            pool.release(conn)
            raise
        pool.release(conn)
        return False
    """),
    ex("""
    import asyncpg


    async def export(dsn, verbose):
        conn = await asyncpg.connect(dsn)  # expect: TXL201, TXL202
        rows = await conn.fetch("SELECT * FROM events")
        if verbose:
            await conn.close()
        return rows
    """),
    ex("""
    import mysql.connector


    def slow_queries(config, limit):
        cnx = mysql.connector.connect(**config)  # expect: TXL201, TXL202
        cur = cnx.cursor()  # expect: TXL201, TXL202
        cur.execute("SELECT sql_text FROM performance_schema.events_statements_history LIMIT %s", (limit,))
        for (text,) in cur:
            if "SLEEP" in text:
                return text
        cur.close()
        cnx.close()
        return None
    """),

]

_CLEAN = [
    ex("""
    import sqlite3


    def count_rows(path):
        conn = sqlite3.connect(path)
        try:
            return conn.execute("SELECT count(*) FROM items").fetchone()[0]
        finally:
            conn.close()
    """),
    ex("""
    import sqlite3
    from contextlib import closing


    def count_rows(path):
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute("SELECT count(*) FROM items").fetchone()[0]
    """),
    ex("""
    import sqlite3


    def open_db(path):
        conn = sqlite3.connect(path)
        conn.row_factory = sqlite3.Row
        return conn
    """),
    ex("""
    import psycopg2


    def load(dsn):
        conn = None
        try:
            conn = psycopg2.connect(dsn)
            cur = conn.cursor()
            cur.execute("SELECT id FROM jobs")
            return cur.fetchall()
        finally:
            if conn is not None:
                conn.close()
    """),
    ex("""
    import psycopg2


    def accounts_over(dsn, cents):
        conn = psycopg2.connect(dsn)
        try:
            with conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT id FROM balances WHERE cents > %s", (cents,))
                    return cur.fetchall()
        finally:
            conn.close()
    """),
    ex("""
    from psycopg2.pool import SimpleConnectionPool

    pool = SimpleConnectionPool(1, 5, "dbname=shop")


    def reserve(sku):
        conn = pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("UPDATE stock SET qty = qty - 1 WHERE sku = %s", (sku,))
            conn.commit()
        finally:
            pool.putconn(conn)
    """),
    ex("""
    import psycopg


    def names(dsn):
        # psycopg 3: leaving the block closes the connection
        with psycopg.connect(dsn) as conn:
            return [r[0] for r in conn.execute("SELECT name FROM users")]
    """),
    ex("""
    import pymysql


    def order_total(order_id):
        # PyMySQL >= 1.0 closes the connection on exit
        with pymysql.connect(host="db", user="shop", database="shop") as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT sum(price) FROM lines WHERE order_id = %s", (order_id,))
                return cur.fetchone()[0]
    """),
    ex("""
    import MySQLdb


    def thread_titles(board):
        db = MySQLdb.connect(host="db", user="forum", passwd="", db="forum")
        try:
            c = db.cursor()
            c.execute("SELECT title FROM threads WHERE board = %s", (board,))
            return [row[0] for row in c.fetchall()]
        finally:
            db.close()
    """),
    ex("""
    import mysql.connector


    def ping(config):
        cnx = mysql.connector.connect(**config)
        try:
            cnx.ping(reconnect=False)
        except mysql.connector.Error:
            return False
        finally:
            cnx.close()
        return True
    """),
    ex("""
    import oracledb


    def employee_name(dsn, emp_id):
        with oracledb.connect(user="hr", password="secret", dsn=dsn) as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT name FROM employees WHERE id = :id", id=emp_id)
                return cur.fetchone()
    """),
    ex("""
    import pyodbc


    def report(conn_str):
        cnxn = pyodbc.connect(conn_str)
        try:
            cursor = cnxn.cursor()
            cursor.execute("SELECT id, total FROM invoices")
            return cursor.fetchall()
        finally:
            cnxn.close()
    """),
    ex("""
    import aiomysql


    async def message_count(pool, room):
        async with pool.acquire() as conn:
            async with conn.cursor() as cur:
                await cur.execute("SELECT count(*) FROM messages WHERE room = %s", (room,))
                return (await cur.fetchone())[0]
    """),
    ex("""
    import asyncpg


    async def fetch_user(dsn, user_id):
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)
        finally:
            await conn.close()
    """),
    ex("""
    import asyncpg


    async def touch(dsn, user_id):
        pool = await asyncpg.create_pool(dsn)
        async with pool.acquire() as conn:
            await conn.execute("UPDATE users SET seen = now() WHERE id = $1", user_id)
    """),
    ex("""
    from sqlalchemy.orm import sessionmaker

    from app.models import engine, User

    SessionLocal = sessionmaker(bind=engine)


    def rename(user_id, name):
        with SessionLocal() as session:
            user = session.get(User, user_id)
            user.name = name
            session.commit()
    """),
    ex("""
    from sqlalchemy import create_engine, text

    engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


    def table_sizes():
        with engine.connect() as conn:
            return conn.execute(text("SELECT relname FROM pg_stat_user_tables")).all()
    """),
    ex("""
    from sqlalchemy import create_engine, text

    engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


    def purge():
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM drafts"))
    """),
    ex("""
    from sqlalchemy.orm import Session


    def raw_version(session: Session):
        # Session.connection() is borrowed from the session
        conn = session.connection()
        return conn.exec_driver_sql("SELECT version()").scalar()
    """),
    ex("""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine("postgresql+asyncpg://app@db/app", pool_pre_ping=True)
    Session = async_sessionmaker(engine)


    async def mark_paid(order_id):
        async with Session() as session:
            async with session.begin():
                order = await session.get(Order, order_id)
                order.paid = True
    """),
    ex("""
    from sqlalchemy.orm import sessionmaker

    SessionLocal = sessionmaker()


    def get_db():
        # FastAPI dependency: the session is yielded to the request and closed afterwards
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()
    """),
    ex("""
    import pytest
    from sqlalchemy.orm import Session


    @pytest.fixture
    def session(engine):
        session = Session(engine)
        yield session
        session.rollback()
        session.close()
    """),
    ex("""
    import sqlite3

    from flask import g


    def get_db():
        if "db" not in g:
            g.db = sqlite3.connect("app.db")
        return g.db
    """),
    ex("""
    import psycopg2


    class Store:
        def __init__(self, dsn):
            self.conn = psycopg2.connect(dsn)
            self.conn.autocommit = True

        def close(self):
            self.conn.close()
    """),
    ex("""
    from sqlalchemy.orm import scoped_session, sessionmaker

    Session = scoped_session(sessionmaker())


    def handler():
        # the module's scoped session is removed by the framework's teardown
        session = Session()
        session.execute("SELECT 1")
    """),
    ex("""
    from sqlalchemy.orm import scoped_session, sessionmaker


    def run_job(engine):
        Session = scoped_session(sessionmaker(bind=engine))
        session = Session()
        try:
            session.execute("DELETE FROM jobs WHERE done")
            session.commit()
        finally:
            Session.remove()
    """),
    ex("""
    import sqlite3
    from contextlib import ExitStack, closing


    def merge(paths, target):
        with ExitStack() as stack:
            out = stack.enter_context(closing(sqlite3.connect(target)))
            for path in paths:
                src = stack.enter_context(closing(sqlite3.connect(path)))
                out.executemany("INSERT INTO items VALUES (?, ?)", src.execute("SELECT * FROM items"))
            out.commit()
    """),
    ex("""
    import sqlite3


    def sizes(paths):
        out = []
        for path in paths:
            conn = sqlite3.connect(path)
            try:
                out.append(conn.execute("SELECT count(*) FROM items").fetchone()[0])
            finally:
                conn.close()
        return out
    """),
    ex("""
    import sqlite3


    def load(path):
        conn = sqlite3.connect(path)
        try:
            return conn.execute("SELECT * FROM items").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()
    """),
    ex("""
    from django.db import connection


    def active_users():
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM auth_user WHERE is_active")
            return [r[0] for r in cursor.fetchall()]
    """),
    ex(files={
        "app/__init__.py": "",
        "app/db.py": '''
            def cleanup(session):
                session.rollback()
                session.close()
        ''',
        "app/jobs.py": '''
            from sqlalchemy.orm import Session

            from app.db import cleanup


            def purge(engine):
                session = Session(engine)
                try:
                    session.execute("DELETE FROM sessions")
                    session.commit()
                finally:
                    cleanup(session)
        ''',
    }, check="app/jobs.py"),
    ex("""
    import requests
    import boto3


    def fetch(url, bucket):
        http = requests.Session()
        s3 = boto3.session.Session().client("s3")
        return http.get(url).json(), s3.list_objects(Bucket=bucket)
    """),
    ex("""
    import redis


    def queue_length(name):
        r = redis.Redis(host="cache", health_check_interval=30)
        return r.llen(name)
    """),
    ex("""
    def copy_rows(conn, rows):
        # a parameter is borrowed: the caller closes it
        cur = conn.cursor()
        cur.executemany("INSERT INTO t VALUES (%s)", rows)
        return cur.rowcount
    """),
    ex("""
    import sqlite3

    if __name__ == "__main__":
        conn = sqlite3.connect("local.db")
        conn.execute("VACUUM")
    """),
    ex("""
    import atexit
    import sqlite3


    def setup(path):
        conn = sqlite3.connect(path)
        atexit.register(conn.close)
        conn.execute("PRAGMA journal_mode = WAL")
        return conn
    """),
]


@register
class ConnectionNotClosed(Rule):
    code = "TXL201"
    tree = "candidates"  # dataflow runs on the gate's candidate functions only
    name = "connection-not-closed"
    fixable = True
    summary = "A session, connection or cursor created in a function is not closed on some normal path"
    needs = frozenset({"names", "cfg"})
    doc = """
## What it does
Follows every session, connection and cursor a function creates (SQLAlchemy `Session()`,
`engine.connect()`, `sqlite3.connect()`, `psycopg2.connect()`, `pool.getconn()`, `conn.cursor()`,
...) through the function's control flow and reports it when some normal way out of the function
(a `return`, falling off the end, a `break`) leaves it open and it does not escape (returned,
yielded, stored on an object, handed to `contextlib.closing()` or to a project function that
closes or keeps it).

What a receiver is comes from the whole project, not from names: imports (also inside functions
and under `TYPE_CHECKING`), annotations (`engine: "Engine"`, `Optional[Session]`), attributes
that any method assigns (`self._engine = engine`), what project functions, methods, properties and
`@contextmanager`s return or yield. A project function's call is an acquisition only when the
function opens what it returns; a parameter or an attribute is never the function's to close.

Objects that own connections are checked too. A resource stored on `self.x` belongs to the
object; it is reported, at the call that acquired it, when:
- the class has a release method (`close`, `__exit__`, `__aexit__`, `dispose`, `shutdown`, `stop`,
  `disconnect`, `teardown`, `release`; its own or inherited) and none releases `self.x`, directly or
  through another method of the class;
- a method stores a new resource on `self.x` while the old one may still be open: a reconnect
  helper called after a failure, or a loop that connects again without closing first.

## Why is this bad
An unclosed connection holds a server connection (and often a transaction with its locks) until
the garbage collector happens to finalise it. Under load the pool or the server's connection limit
runs out, and `idle in transaction` sessions block vacuum and DDL.

## Example
```python
import sqlite3

def count_rows(path):
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT count(*) FROM items").fetchone()
    return rows[0]
```

## Use instead
```python
import contextlib
import sqlite3

def count_rows(path):
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT count(*) FROM items").fetchone()[0]
```
Note that `with sqlite3.connect(...)` and `with psycopg2.connect(...)` only end the transaction;
they do not close the connection.

The same for the others: `with Session() as session:` and `with engine.connect() as conn:`
(SQLAlchemy), `async with` for asyncpg and aiomysql connections, `with pool.connection() as conn:`
or `pool.putconn(conn)` / `await pool.release(conn)` in a `finally` for pooled connections, or a
`try: ... finally: x.close()` around the whole use.
"""
    VALID = _CLEAN + [e for e in _CASES if not marked(e, "TXL201")]
    INVALID = [e for e in _CASES if marked(e, "TXL201")]

    @classmethod
    def gate(cls, gate) -> bool:
        return path_rules_gate(gate)

    def check(self, ctx) -> None:
        _report(ctx, self.code)


@register
class ConnectionNotClosedOnException(Rule):
    code = "TXL202"
    tree = "candidates"  # dataflow runs on the gate's candidate functions only
    name = "connection-not-closed-on-exception"
    fixable = True
    summary = "A session, connection or cursor created in a function is left open when an exception propagates"
    needs = frozenset({"names", "cfg"})
    doc = """
## What it does
Reports a session, connection or cursor created in a function when an exception raised after it
was acquired (by a query, a call, an `await`) can propagate out of the function while it is still
open: there is no `finally` or `with` block that closes it. Returning it covers only the normal
path: a call that raises before the `return` leaks it.

The same obligations across functions:
- a `@contextmanager` / `@asynccontextmanager` generator only lends what it yields; the exception
  of the `with` body is thrown in at the `yield`, so the release must be in a `finally`;
- what `__enter__` / `__aenter__` stores on `self` is leaked when a later call in the same method
  raises (Python runs no `__exit__` then);
- in `__exit__`, `close()` and the other release methods, releasing several owned resources in a
  row leaks the later ones when an earlier release raises.

## Why is this bad
Errors are exactly when connections leak: a failing query or a timeout skips the `close()` at the
end of the happy path, and each failure costs one pooled or server connection, often still inside
an open transaction that holds locks.

## Example
```python
import psycopg2

def load(dsn, user_id):
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("SELECT name FROM users WHERE id = %s", (user_id,))
    name = cur.fetchone()
    conn.close()
    return name
```

## Use instead
```python
import psycopg2

def load(dsn, user_id):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM users WHERE id = %s", (user_id,))
            return cur.fetchone()
    finally:
        conn.close()
```
"""
    VALID = _CLEAN + [e for e in _CASES if not marked(e, "TXL202")]
    INVALID = [e for e in _CASES if marked(e, "TXL202")]

    @classmethod
    def gate(cls, gate) -> bool:
        return path_rules_gate(gate)

    def check(self, ctx) -> None:
        _report(ctx, self.code)
