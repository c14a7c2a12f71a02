"""Newsletter subscribers in MySQL via PyMySQL."""
import logging
import os

import pymysql
import pymysql.cursors

log = logging.getLogger("newsletter")
DB = dict(host=os.environ.get("MYSQL_HOST", "localhost"), user="news", password=os.environ.get("MYSQL_PASSWORD", ""),
          database="news", cursorclass=pymysql.cursors.DictCursor)


# Clean (§6): `with pymysql.connect()` closes the connection (PyMySQL >= 1.0).
def subscriber_count():
    with pymysql.connect(**DB) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) AS n FROM subscribers")
            return cur.fetchone()["n"]


# Leak: connection never closed; the cursor is closed by its with-block.
def subscribe(email):
    conn = pymysql.connect(**DB)  # expect: TXL201, TXL202
    with conn.cursor() as cur:
        cur.execute("INSERT INTO subscribers (email) VALUES (%s)", (email,))
    conn.commit()


# Clean: commit in else, rollback in except, close in finally.
def unsubscribe(email):
    conn = pymysql.connect(**DB)
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM subscribers WHERE email = %s", (email,))
    except Exception:
        conn.rollback()
        raise
    else:
        conn.commit()
    finally:
        conn.close()


# TXL101 + TXL102: conn.begin() on a borrowed connection, early return, no rollback.
def merge_lists(conn: pymysql.connections.Connection, src_list, dst_list):
    conn.begin()  # expect: TXL101, TXL102
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) AS n FROM list_members WHERE list_id = %s", (src_list,))
        if cur.fetchone()["n"] == 0:
            return 0
        cur.execute("UPDATE list_members SET list_id = %s WHERE list_id = %s", (dst_list, src_list))
    conn.commit()
    return 1


# Clean: begin() ended on every path.
def bounce(conn: pymysql.connections.Connection, email):
    conn.begin()
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE subscribers SET bounced = bounced + 1 WHERE email = %s", (email,))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


# Cursor leak: explicit cursor on a borrowed connection, closed only on success.
def recent_subscribers(conn: pymysql.connections.Connection, days):
    cur = conn.cursor()  # expect: TXL202
    cur.execute("SELECT email FROM subscribers WHERE created > NOW() - INTERVAL %s DAY", (days,))
    rows = cur.fetchall()
    cur.close()
    return [r["email"] for r in rows]
