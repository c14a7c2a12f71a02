"""Every control-flow construct the path rules must follow, on a local SQLite cache."""
import logging
import sqlite3
from contextlib import closing

log = logging.getLogger("cache")
DB_PATH = "/var/cache/app/cache.db"


# if/elif/else: one branch forgets close() -> normal-path leak only; errors close and re-raise.
def rows_for_period(period):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL201
    try:
        if period == "daily":
            rows = conn.execute("SELECT * FROM stats WHERE period = 'd'").fetchall()
            conn.close()
        elif period == "weekly":
            rows = conn.execute("SELECT * FROM stats WHERE period = 'w'").fetchall()
            conn.close()
        else:
            rows = []
    except Exception:
        conn.close()
        raise
    return rows


# Clean: every branch returns inside try/finally.
def stat_value(name, default=None):
    conn = sqlite3.connect(DB_PATH)
    try:
        row = conn.execute("SELECT value FROM stats WHERE name = ?", (name,)).fetchone()
        if row is None:
            return default
        elif row[0] is None:
            return 0
        else:
            return row[0]
    finally:
        conn.close()


# Clean: while/else with break, all inside try/finally.
def first_free_slot(max_slots):
    conn = sqlite3.connect(DB_PATH)
    try:
        slot = 0
        while slot < max_slots:
            if conn.execute("SELECT 1 FROM slots WHERE id = ?", (slot,)).fetchone() is None:
                break
            slot += 1
        else:
            return None
        return slot
    finally:
        conn.close()


# for/continue: a connection per file; `continue` skips close() and the next iteration
# reassigns `conn` (§1), errors leak it too.
def merge_shards(paths):
    total = 0
    for path in paths:
        conn = sqlite3.connect(path)  # expect: TXL201, TXL202
        count = conn.execute("SELECT count(*) FROM stats").fetchone()[0]
        if count == 0:
            continue
        total += count
        conn.close()
    return total


# Clean: closing() in the loop body.
def shard_sizes(paths):
    sizes = {}
    for path in paths:
        with closing(sqlite3.connect(path)) as conn:
            sizes[path] = conn.execute("SELECT count(*) FROM stats").fetchone()[0]
    return sizes


# Clean: close in else and in except (try/except/else).
def schema_version():
    conn = sqlite3.connect(DB_PATH)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except BaseException:
        conn.close()
        raise
    else:
        conn.close()
    return version


# Clean: nested finally with return inside the inner try.
def all_stats():
    conn = sqlite3.connect(DB_PATH)
    try:
        try:
            return conn.execute("SELECT name, value FROM stats").fetchall()
        finally:
            log.debug("stats read")
    finally:
        conn.close()


# A `return` inside finally swallows every exception, so only the normal path leaks.
def changes_after_cleanup():
    conn = sqlite3.connect(DB_PATH)  # expect: TXL201
    try:
        conn.execute("DELETE FROM stats WHERE value IS NULL")
    finally:
        return conn.total_changes  # noqa: B012


# Clean: the early return comes after the connection is closed.
def slot_ids():
    conn = sqlite3.connect(DB_PATH)
    try:
        rows = conn.execute("SELECT id FROM slots").fetchall()
    finally:
        conn.close()
    if not rows:
        return []
    return [r[0] for r in rows]


# Clean: sqlite3 cursors are not context managers; closing() closes this one.
def slot_count():
    conn = sqlite3.connect(DB_PATH)
    try:
        with closing(conn.cursor()) as cur:
            cur.execute("SELECT count(*) FROM slots")
            return cur.fetchone()[0]
    finally:
        conn.close()


# with on another resource does not close the connection.
def load_fixture(path):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL201, TXL202
    with open(path) as fh:
        conn.executescript(fh.read())
    conn.commit()


# Explicit raise before close(): exceptional path only (§2).
def require_table(name):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL202
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise LookupError(f"table {name} missing")
    conn.close()
    return True


# assert between acquire and close: exceptional path only.
def checked_version(expected):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL202
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert version == expected, f"cache schema {version}, expected {expected}"
    conn.close()
    return version


# match: the wildcard case returns without close(); errors close and re-raise.
def run_command(cmd):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL201
    try:
        match cmd:
            case {"op": "count", "table": table}:
                result = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            case {"op": "vacuum"}:
                conn.execute("VACUUM")
                result = None
            case _:
                return "unknown command"
    except Exception:
        conn.close()
        raise
    conn.close()
    return result
