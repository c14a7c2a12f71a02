"""Ownership handed elsewhere (§7): returned, yielded, stored, wrapped, or passed to a closer."""
import logging
import os
import sqlite3
from contextlib import ExitStack, closing, contextmanager

import psycopg2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

log = logging.getLogger("escapes")
DSN = os.environ.get("APP_DSN", "dbname=app")
engine = create_engine("sqlite:///app.db")
SessionLocal = sessionmaker(bind=engine)


# Clean: returned to the caller.
def connect_readonly():
    return psycopg2.connect(DSN, options="-c default_transaction_read_only=on")


# Clean: yielded by a @contextmanager, closed after the block.
@contextmanager
def session_scope():
    session = SessionLocal()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


# Clean: pytest fixture yields the connection.
@pytest.fixture
def db_conn(tmp_path):
    conn = sqlite3.connect(tmp_path / "test.db")
    yield conn
    conn.close()


# Clean: stored on self; the class closes it in close().
class ReportStore:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        self.path = path

    def reopen(self):
        old = self.conn
        self.conn = sqlite3.connect(self.path)
        old.close()

    def close(self):
        self.conn.close()


# Clean: put in a dict that is returned.
def open_handles(dsn):
    conn = psycopg2.connect(dsn)
    handles = {"conn": conn, "dsn": dsn}
    return handles


# Clean: stored on another object (a request-scoped context).
def attach_session(ctx):
    session = SessionLocal()
    ctx.db = session
    log.debug("session attached to %r", ctx)


# Clean: handed to closing().
def table_count():
    conn = sqlite3.connect("app.db")
    with closing(conn):
        return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]


# Clean: ExitStack.enter_context takes ownership.
def copy_between(src_dsn, dst_dsn, table):
    with ExitStack() as stack:
        src = stack.enter_context(closing(psycopg2.connect(src_dsn)))
        dst = psycopg2.connect(dst_dsn)
        stack.callback(dst.close)
        with src.cursor() as read, dst.cursor() as write:
            read.execute(f"SELECT * FROM {table}")  # noqa: S608
            write.executemany(f"INSERT INTO {table} VALUES %s", read.fetchall())  # noqa: S608
        dst.commit()


# A project helper that closes what it is given.
def close_quietly(conn):
    try:
        conn.close()
    except Exception:
        log.warning("close failed", exc_info=True)


# Clean: passed to the local helper that closes it, in finally.
def ping(dsn):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        close_quietly(conn)


# A helper that only uses the connection.
def run_migrations(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS migrations (id text primary key)")
    conn.commit()


# Leak: passing to an arbitrary helper that does not close it (§7).
def migrate(dsn):
    conn = psycopg2.connect(dsn)  # expect: TXL201, TXL202
    run_migrations(conn)
    log.info("migrations applied to %s", dsn)


# Leak: an unknown function from another library is not an owner either.
def print_tables(dsn, printer):
    conn = psycopg2.connect(dsn)  # expect: TXL201, TXL202
    printer.dump(conn)


# Clean: session escapes into a list stored on an object.
class UnitOfWork:
    def __init__(self):
        self.sessions = []

    def new_session(self):
        session = SessionLocal()
        self.sessions.append(session)
        return session


# Leak: only a row read through the session is returned, not the session itself.
def load_setting(key):
    session = SessionLocal()  # expect: TXL201, TXL202
    row = session.execute(text("SELECT value FROM settings WHERE key = :k"), {"k": key}).first()
    return row.value if row else None
