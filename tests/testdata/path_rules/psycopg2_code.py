"""Payments ledger on psycopg2, including a ThreadedConnectionPool."""
import logging
import os

import psycopg2
import psycopg2.pool
from psycopg2 import errors

log = logging.getLogger("ledger")
DSN = os.environ["LEDGER_DSN"]
db_pool = psycopg2.pool.ThreadedConnectionPool(1, 10, dsn=DSN)


# §6: `with psycopg2.connect()` ends the transaction but does not close the connection.
def record_payment(account_id, cents):
    with psycopg2.connect(DSN) as conn:  # expect: TXL201, TXL202
        with conn.cursor() as cur:
            cur.execute("INSERT INTO payments (account_id, cents) VALUES (%s, %s)", (account_id, cents))


# Clean: with-block for the transaction, close in finally.
def record_refund(account_id, cents):
    conn = psycopg2.connect(DSN)
    try:
        with conn:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO refunds (account_id, cents) VALUES (%s, %s)", (account_id, cents))
    finally:
        conn.close()


# Leak on both paths: connection and its cursor are never closed (one finding per line).
def balance(account_id):
    conn = psycopg2.connect(DSN)  # expect: TXL201, TXL202
    cur = conn.cursor()  # expect: TXL201, TXL202
    cur.execute("SELECT sum(cents) FROM payments WHERE account_id = %s", (account_id,))
    return cur.fetchone()[0] or 0


# Clean: closing the connection closes the cursor too.
def accounts_over(limit_cents):
    conn = psycopg2.connect(DSN)
    try:
        cur = conn.cursor()
        cur.execute("SELECT account_id FROM balances WHERE cents > %s", (limit_cents,))
        return [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


# Clean: pooled connection returned with putconn() in finally.
def last_payment(account_id):
    conn = db_pool.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT max(created) FROM payments WHERE account_id = %s", (account_id,))
            return cur.fetchone()[0]
    finally:
        db_pool.putconn(conn)


# Pool leak on exceptions: putconn() is skipped when execute() raises.
def freeze_account(account_id):
    conn = db_pool.getconn()  # expect: TXL202
    with conn.cursor() as cur:
        cur.execute("UPDATE accounts SET frozen = true WHERE id = %s", (account_id,))
    conn.commit()
    db_pool.putconn(conn)


# Pool leak on the normal path: the early return never gives the connection back.
def unfreeze_account(account_id):
    conn = db_pool.getconn()  # expect: TXL201
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT frozen FROM accounts WHERE id = %s", (account_id,))
            row = cur.fetchone()
            if row is None or not row[0]:
                return False
            cur.execute("UPDATE accounts SET frozen = false WHERE id = %s", (account_id,))
        conn.commit()
    except Exception:
        db_pool.putconn(conn, close=True)
        raise
    db_pool.putconn(conn)
    return True


# §2 + §3: a narrow handler returns (normal-path leak) and lets other errors through.
def create_account(owner):
    conn = psycopg2.connect(DSN)  # expect: TXL201, TXL202
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO accounts (owner) VALUES (%s) RETURNING id", (owner,))
            new_id = cur.fetchone()[0]
        conn.close()
    except errors.UniqueViolation:
        log.warning("account for %s already exists", owner)
        return None
    return new_id


# Clean: guard before close in finally.
def export_ledger(path):
    conn = None
    try:
        conn = psycopg2.connect(DSN)
        with conn.cursor() as cur, open(path, "w") as fh:
            cur.copy_expert("COPY payments TO STDOUT WITH CSV", fh)
    finally:
        if conn is not None:
            conn.close()
