"""Control flow, part 2: await, yield, except-return, reassignment, del, guards, tuple unpacking."""
import asyncio
import logging
import sqlite3

log = logging.getLogger("cache")
DB_PATH = "/var/cache/app/cache.db"


# await between acquire and close (§2): exceptional path only.
async def refresh_from(fetch_json, url):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL202
    payload = await fetch_json(url)
    conn.executemany("REPLACE INTO stats (name, value) VALUES (?, ?)", payload.items())
    conn.commit()
    conn.close()


# Clean: asyncio.wait_for inside try/finally.
async def refresh_with_timeout(fetch_json, url):
    conn = sqlite3.connect(DB_PATH)
    try:
        payload = await asyncio.wait_for(fetch_json(url), timeout=10)
        with conn:
            conn.executemany("REPLACE INTO stats (name, value) VALUES (?, ?)", payload.items())
    finally:
        conn.close()


# Generator yielding rows (not the connection): yield can raise (GeneratorExit), §2.
def iter_stats():
    conn = sqlite3.connect(DB_PATH)  # expect: TXL202
    for row in conn.execute("SELECT name, value FROM stats"):
        yield row
    conn.close()


# Clean generator: close in finally.
def iter_slots():
    conn = sqlite3.connect(DB_PATH)
    try:
        yield from conn.execute("SELECT id FROM slots")
    finally:
        conn.close()


# §3: returning from a catch-all handler is a normal path; nothing else escapes.
def safe_count(table):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL201
    try:
        n = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    except Exception:
        return None
    conn.close()
    return n


# Reassignment loses the first connection (§1); the second is closed only on success.
def same_row_count(path_a, path_b):
    conn = sqlite3.connect(path_a)  # expect: TXL201, TXL202
    left = conn.execute("SELECT count(*) FROM stats").fetchone()[0]
    conn = sqlite3.connect(path_b)  # expect: TXL202
    right = conn.execute("SELECT count(*) FROM stats").fetchone()[0]
    conn.close()
    return left == right


# `del` only drops the name; it is not a close.
def stamp_version(version):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL201, TXL202
    conn.execute(f"PRAGMA user_version = {int(version)}")
    del conn


# Clean: guards before close in finally.
def copy_stats(src_path):
    src = None
    dst = None
    try:
        src = sqlite3.connect(src_path)
        dst = sqlite3.connect(DB_PATH)
        src.backup(dst)
    finally:
        if dst:
            dst.close()
        if src is not None:
            src.close()


# Clean: the helper returns both the connection and its cursor (they escape, §7); if cursor()
# fails the connection is closed before the error propagates.
def get_conn(path=DB_PATH):
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return conn, conn.cursor()
    except Exception:
        conn.close()
        raise


# Tuple unpacking from the local helper: the caller owns both and closes neither.
def table_names():
    conn, cur = get_conn()  # expect: TXL201, TXL202
    cur.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return [r[0] for r in cur.fetchall()]


# Clean: closing the connection closes the cursor from the same helper.
def drop_table(name):
    conn, cur = get_conn()
    try:
        cur.execute(f"DROP TABLE IF EXISTS {name}")
    finally:
        conn.close()
