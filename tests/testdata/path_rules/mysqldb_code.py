"""Legacy forum jobs on mysqlclient (MySQLdb)."""
import logging

import MySQLdb

log = logging.getLogger("forum")
MYSQL = {"host": "db.internal", "user": "forum", "passwd": "", "db": "forum", "charset": "utf8mb4"}


# Leak: connection and its cursor never closed.
def thread_count(board_id):
    conn = MySQLdb.connect(**MYSQL)  # expect: TXL201, TXL202
    cur = conn.cursor()  # expect: TXL201, TXL202
    cur.execute("SELECT count(*) FROM threads WHERE board_id = %s", (board_id,))
    return cur.fetchone()[0]


# Clean: close in finally (closes the cursor as well).
def lock_thread(thread_id):
    conn = MySQLdb.connect(**MYSQL)
    try:
        cur = conn.cursor()
        cur.execute("UPDATE threads SET locked = 1 WHERE id = %s", (thread_id,))
        conn.commit()
    finally:
        conn.close()


# Clean (§6 table): `with MySQLdb.connect()` closes in mysqlclient 2.x.
def board_names():
    with MySQLdb.connect(**MYSQL) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM boards")
            return [r[0] for r in cur.fetchall()]


# Connection and transaction: begin() with commit only at the end; close skipped on errors and
# on the early return.
def move_thread(thread_id, board_id):
    conn = MySQLdb.connect(**MYSQL)  # expect: TXL201, TXL202
    conn.begin()  # expect: TXL101, TXL102
    with conn.cursor() as cur:
        cur.execute("SELECT board_id FROM threads WHERE id = %s", (thread_id,))
        if cur.fetchone()[0] == board_id:
            return False
        cur.execute("UPDATE threads SET board_id = %s WHERE id = %s", (board_id, thread_id))
    conn.commit()
    conn.close()
    return True


# Clean: rollback in except Exception then raise, commit otherwise, close in finally.
def delete_spam(user_id):
    conn = MySQLdb.connect(**MYSQL)
    try:
        conn.begin()
        try:
            cur = conn.cursor()
            cur.execute("DELETE FROM posts WHERE author_id = %s", (user_id,))
            cur.execute("UPDATE users SET banned = 1 WHERE id = %s", (user_id,))
            conn.commit()
        except Exception:
            conn.rollback()
            log.exception("could not delete spam of %s", user_id)
            raise
    finally:
        conn.close()
