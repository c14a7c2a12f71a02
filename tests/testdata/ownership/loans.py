"""Loans and hand-offs (contract §7), both ways."""
from contextlib import asynccontextmanager, contextmanager

import asyncpg
import sqlite3
from sqlalchemy.orm import Session, sessionmaker

SessionLocal = sessionmaker()


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


@contextmanager
def leaky_scope():
    session = SessionLocal()  # expect: TXL202
    yield session
    session.commit()
    session.close()


@asynccontextmanager
async def borrow(pool: asyncpg.Pool):
    conn = await pool.acquire()  # expect: TXL202
    yield conn
    await pool.release(conn)


@asynccontextmanager
async def borrow_ok(pool: asyncpg.Pool):
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        await pool.release(conn)


# FastAPI dependency: the framework owns what is yielded
def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def use_scopes():
    with session_scope() as s:
        s.execute("SELECT 1")
    with leaky_scope() as s:
        s.execute("SELECT 2")


# helpers that neither release, store nor return it leave the caller the owner
def load_users(session: Session):
    return session.execute("SELECT * FROM users").all()


def load_orders(session: Session):
    return session.execute("SELECT * FROM orders").all()


def audit(session: Session, what):
    session.execute("INSERT INTO audit VALUES (:w)", {"w": what})


def report():
    session = SessionLocal()  # expect: TXL201, TXL202
    users = load_users(session)
    orders = load_orders(session)
    audit(session, "report")
    return users, orders


def finish(session: Session):
    session.close()


def report_ok():
    session = SessionLocal()
    try:
        return load_users(session)
    finally:
        finish(session)


# returned on the normal path, leaked by an exception before the return
def open_db(path):
    conn = sqlite3.connect(path)  # expect: TXL202
    conn.execute("PRAGMA journal_mode = WAL")
    return conn


def open_db_ok(path):
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    except Exception:
        conn.close()
        raise
    return conn


# handed to a thread whose target closes it
import threading


def _work(conn, done):
    try:
        conn.execute("VACUUM")
    finally:
        conn.close()
        done.set()


def vacuum_in_background(path):
    done = threading.Event()
    conn = sqlite3.connect(path)
    threading.Thread(target=_work, args=(conn, done)).start()
    return done


def _peek(conn):
    return conn.execute("SELECT 1").fetchone()


def peek_in_background(path):
    conn = sqlite3.connect(path)  # expect: TXL201, TXL202
    threading.Thread(target=_peek, args=(conn,)).start()
