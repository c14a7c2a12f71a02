import sqlite3


def archive(path):
    conn = sqlite3.connect(path)
    try:
        stmt = "BEGIN"
        conn.execute(stmt)  # expect: TXL101, TXL102
        conn.execute("INSERT INTO archive SELECT * FROM live")
        if conn.total_changes == 0:
            return
        conn.execute("COMMIT")
    finally:
        conn.close()


def archive_ok(path, immediate):
    conn = sqlite3.connect(path)
    try:
        stmt = "BEGIN IMMEDIATE"
        conn.execute(stmt)
        try:
            conn.execute("INSERT INTO archive SELECT * FROM live")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()
