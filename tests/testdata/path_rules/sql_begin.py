"""Explicit SQL transaction statements (§4): execute("BEGIN") begins, COMMIT/ROLLBACK/END end."""
import logging
import sqlite3

import psycopg2

log = logging.getLogger("sqltx")


# Clean: BEGIN ... COMMIT, ROLLBACK on any error.
def reset_counters(conn: sqlite3.Connection):
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("UPDATE counters SET value = 0")
        conn.execute("DELETE FROM counter_log")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# TXL102: BEGIN without a ROLLBACK when an UPDATE raises.
def bump(conn: sqlite3.Connection, name):
    conn.execute("BEGIN")  # expect: TXL102
    conn.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (name,))
    conn.execute("INSERT INTO counter_log (name) VALUES (?)", (name,))
    conn.execute("COMMIT")


# TXL101: early return between BEGIN and COMMIT; errors roll back.
def rename_counter(conn: sqlite3.Connection, old, new):
    conn.execute("begin transaction")  # expect: TXL101
    try:
        if conn.execute("SELECT 1 FROM counters WHERE name = ?", (new,)).fetchone():
            log.warning("counter %s exists", new)
            return False
        conn.execute("UPDATE counters SET name = ? WHERE name = ?", (new, old))
    except Exception:
        conn.execute("ROLLBACK")
        raise
    conn.execute("END")
    return True


# TXL101 + TXL102: ROLLBACK TO SAVEPOINT does not end the transaction.
def apply_batch(conn: sqlite3.Connection, rows):
    conn.execute("BEGIN")  # expect: TXL101, TXL102
    conn.execute("SAVEPOINT batch")
    for row in rows:
        if row.get("skip"):
            conn.execute("ROLLBACK TO SAVEPOINT batch")
            return 0
        conn.execute("INSERT INTO counters (name, value) VALUES (?, ?)", (row["name"], row["value"]))
    conn.execute("RELEASE SAVEPOINT batch")
    conn.execute("COMMIT")
    return len(rows)


# Clean: START TRANSACTION on a psycopg2 cursor, committed or rolled back; cursor closed by with.
def move_funds(conn: psycopg2.extensions.connection, src, dst, cents):
    with conn.cursor() as cur:
        cur.execute("START TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        try:
            cur.execute("UPDATE wallets SET cents = cents - %s WHERE id = %s", (cents, src))
            cur.execute("UPDATE wallets SET cents = cents + %s WHERE id = %s", (cents, dst))
        except Exception:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")


# TXL101 + TXL102: START TRANSACTION left open by `break` + fall-through, and by errors.
def drain_queue(conn: psycopg2.extensions.connection, limit):
    with conn.cursor() as cur:
        cur.execute("START TRANSACTION")  # expect: TXL101, TXL102
        for _ in range(limit):
            cur.execute("DELETE FROM jobs WHERE id = (SELECT min(id) FROM jobs) RETURNING id")
            if cur.fetchone() is None:
                break
        else:
            cur.execute("COMMIT")


# Clean: a SELECT that mentions BEGIN is not a begin; plain statements need no end.
def audit_begin_events(conn: sqlite3.Connection):
    return conn.execute("SELECT * FROM audit WHERE action = 'BEGIN'").fetchall()
