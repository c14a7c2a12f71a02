"""Connections owned by objects, methods that borrow them, and nested functions."""
import logging
import sqlite3
import threading
from contextlib import closing

import psycopg2

log = logging.getLogger("store")


class KeyValueStore:
    """Owns one connection for its lifetime (stored on self, §7)."""

    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = psycopg2.connect(dsn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.conn.close()

    # Cursor created from the owned connection and never closed.
    def get(self, key):
        cur = self.conn.cursor()  # expect: TXL201, TXL202
        cur.execute("SELECT value FROM kv WHERE key = %s", (key,))
        row = cur.fetchone()
        return row[0] if row else None

    # Clean: with-cursor.
    def put(self, key, value):
        with self.conn.cursor() as cur:
            cur.execute("INSERT INTO kv (key, value) VALUES (%s, %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (key, value))
        self.conn.commit()

    # Clean: replaces the stored connection; the new one is stored on self before anything
    # can raise, the old one is closed.
    def reconnect(self):
        old, self.conn = self.conn, psycopg2.connect(self.dsn)
        old.close()

    # Leak: a second, private connection that is only closed on success.
    def copy_to(self, other_dsn):
        other = psycopg2.connect(other_dsn)  # expect: TXL202
        with self.conn.cursor() as src, other.cursor() as dst:
            src.execute("SELECT key, value FROM kv")
            dst.executemany("INSERT INTO kv (key, value) VALUES (%s, %s)", src.fetchall())
        other.commit()
        other.close()

    # Clean: static helper that closes what it opens.
    @staticmethod
    def server_version(dsn):
        with closing(psycopg2.connect(dsn)) as conn:
            return conn.server_version


# Clean: thread-local storage keeps the connection (stored on another object, §7).
_local = threading.local()


def thread_connection(path):
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(path, check_same_thread=True)
        _local.conn = conn
    return conn


# Nested function: each function is judged on its own. The inner one leaks its connection;
# the outer one only defines and calls it.
def make_loader(path):
    def load(table):
        conn = sqlite3.connect(path)  # expect: TXL201, TXL202
        return conn.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608

    log.debug("loader for %s", path)
    return load


# Clean: the inner function closes; the outer one passes it around.
def make_counter(path):
    def count(table):
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608

    return count

