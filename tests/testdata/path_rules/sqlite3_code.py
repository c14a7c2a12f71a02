"""Small reporting tool backed by SQLite (stdlib sqlite3)."""
import logging
import sqlite3
from contextlib import closing

log = logging.getLogger(__name__)
DB_PATH = "/var/lib/reports/reports.db"


# Leak: never closed, and execute() can raise before the return (§1: both codes).
def count_reports(kind):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL201, TXL202
    row = conn.execute("SELECT count(*) FROM reports WHERE kind = ?", (kind,)).fetchone()
    return row[0]


# §6: `with sqlite3.connect()` commits or rolls back but does not close the connection.
def save_report(kind, body):
    with sqlite3.connect(DB_PATH) as conn:  # expect: TXL201, TXL202
        conn.execute("INSERT INTO reports (kind, body) VALUES (?, ?)", (kind, body))
    log.info("saved %s report", kind)


# Clean: closing() closes the connection on every path (§7).
def list_kinds():
    with closing(sqlite3.connect(DB_PATH)) as conn:
        rows = conn.execute("SELECT DISTINCT kind FROM reports ORDER BY kind").fetchall()
    return [r[0] for r in rows]


# Clean: close in finally.
def purge_old(days):
    conn = sqlite3.connect(DB_PATH)
    try:
        with conn:
            conn.execute("DELETE FROM reports WHERE created < date('now', ?)", (f"-{days} days",))
    finally:
        conn.close()


# Exceptional-path leak only: close() is skipped when the query raises.
def latest_report(kind):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL202
    row = conn.execute(
        "SELECT body FROM reports WHERE kind = ? ORDER BY created DESC LIMIT 1", (kind,)
    ).fetchone()
    conn.close()
    return row[0] if row else None


# Normal-path leak only: the early return skips close(); exceptions are handled by finally-less
# except that closes and re-raises (§2: except Exception catches everything).
def report_exists(report_id):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL201
    try:
        row = conn.execute("SELECT 1 FROM reports WHERE id = ?", (report_id,)).fetchone()
    except Exception:
        conn.close()
        raise
    if row is None:
        return False
    conn.close()
    return True


# Cursor leak: the connection is a borrowed parameter, the cursor is created here and never closed.
def fetch_page(conn: sqlite3.Connection, offset, limit=50):
    cur = conn.cursor()  # expect: TXL201, TXL202
    cur.execute("SELECT id, kind FROM reports ORDER BY id LIMIT ? OFFSET ?", (limit, offset))
    return cur.fetchall()


# Clean: the cursor is closed in finally.
def fetch_ids(conn: sqlite3.Connection):
    cur = conn.cursor()
    try:
        cur.execute("SELECT id FROM reports")
        return [r[0] for r in cur.fetchall()]
    finally:
        cur.close()


# Clean: closing the connection also closes its cursors (§7 / contract brief).
def export_csv(writer):
    conn = sqlite3.connect(DB_PATH)
    try:
        cur = conn.cursor()
        cur.execute("SELECT id, kind, body FROM reports")
        for row in cur:
            writer.writerow(row)
    finally:
        conn.close()


# §3: returning from an except handler is a normal path, and the handler is narrow (§2), so
# other exceptions escape with the connection open too.
def import_rows(rows):
    conn = sqlite3.connect(DB_PATH)  # expect: TXL201, TXL202
    try:
        conn.executemany("INSERT INTO reports (kind, body) VALUES (?, ?)", rows)
        conn.commit()
        conn.close()
    except sqlite3.IntegrityError:
        log.warning("duplicate report, import skipped")
        return 0
    return len(rows)


# Clean: sqlite3 connection handed to the caller (escapes by return, §7).
def open_db(path=DB_PATH):
    conn = sqlite3.connect(path, timeout=30)
    conn.row_factory = sqlite3.Row
    return conn
