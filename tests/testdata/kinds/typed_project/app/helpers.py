import sqlite3


def _open(path):
    conn = sqlite3.connect(path)
    return conn, conn.cursor()


def open_db(path):
    conn, cur = _open(path)  # expect: TXL202
    cur.execute("PRAGMA foreign_keys = ON")  # an exception here leaks both
    return conn, cur


def report(path):
    conn, cur = open_db(path)  # expect: TXL201, TXL202
    cur.execute("SELECT count(*) FROM t")
    return cur.fetchone()


def report_ok(path):
    conn, cur = open_db(path)
    try:
        cur.execute("SELECT count(*) FROM t")
        return cur.fetchone()
    finally:
        cur.close()
        conn.close()


def self_referencing_unpack(path):
    # the unpacked name appears in its own right-hand side (peewee: ``sql, params = sql.sql()``)
    conn, cur = _open(path)  # expect: TXL201, TXL202
    sql, params = sql.compile(conn)  # noqa: F821
    conn, cur = conn.reopen(cur)
    return sql, params
