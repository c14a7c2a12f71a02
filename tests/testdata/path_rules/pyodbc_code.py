"""Timesheet import into SQL Server via pyodbc."""
import logging
import os

import pyodbc

log = logging.getLogger("timesheets")
CONN_STR = os.environ.get("MSSQL_CONN", "DRIVER={ODBC Driver 18 for SQL Server};SERVER=sql01;DATABASE=hr")


# §6 (table): `with pyodbc.connect()` commits but does not close.
def add_entry(employee, hours):
    with pyodbc.connect(CONN_STR) as conn:  # expect: TXL201, TXL202
        conn.execute("INSERT INTO timesheet (employee, hours) VALUES (?, ?)", employee, hours)


# Clean: connection closed in finally; conn.execute() is a shortcut, no cursor to close (§5).
def total_hours(employee):
    conn = pyodbc.connect(CONN_STR, readonly=True)
    try:
        return conn.execute("SELECT sum(hours) FROM timesheet WHERE employee = ?", employee).fetchval()
    finally:
        conn.close()


# Leak: connection never closed, cursor closed explicitly.
def approve_week(week):
    conn = pyodbc.connect(CONN_STR)  # expect: TXL201, TXL202
    cursor = conn.cursor()
    try:
        cursor.execute("UPDATE timesheet SET approved = 1 WHERE week = ?", week)
        conn.commit()
    finally:
        cursor.close()


# Exceptional-path leak only.
def delete_week(week):
    conn = pyodbc.connect(CONN_STR, autocommit=True)  # expect: TXL202
    conn.execute("DELETE FROM timesheet WHERE week = ?", week)
    log.info("deleted week %s", week)
    conn.close()


# Clean: a narrow handler (§2) is fine when the close is in finally.
def import_rows(rows):
    conn = pyodbc.connect(CONN_STR)
    try:
        cursor = conn.cursor()
        cursor.fast_executemany = True
        cursor.executemany("INSERT INTO timesheet (employee, hours, week) VALUES (?, ?, ?)", rows)
        conn.commit()
    except pyodbc.IntegrityError:
        log.warning("duplicate rows skipped")
        conn.rollback()
    finally:
        conn.close()


# TXL101 + TXL102: explicit T-SQL transaction on a borrowed autocommit connection (§4): the
# early return and any failing statement leave it open.
def close_month(conn: pyodbc.Connection, month):
    conn.execute("BEGIN TRANSACTION")  # expect: TXL101, TXL102
    locked = conn.execute("SELECT locked FROM months WHERE month = ?", month).fetchval()
    if locked:
        return False
    conn.execute("UPDATE months SET locked = 1 WHERE month = ?", month)
    conn.execute("COMMIT TRANSACTION")
    return True


# Clean: the same with ROLLBACK on every failure and on the early exit.
def reopen_month(conn: pyodbc.Connection, month):
    conn.execute("BEGIN TRANSACTION")
    try:
        if not conn.execute("SELECT locked FROM months WHERE month = ?", month).fetchval():
            conn.execute("ROLLBACK TRANSACTION")
            return False
        conn.execute("UPDATE months SET locked = 0 WHERE month = ?", month)
    except Exception:
        conn.execute("ROLLBACK TRANSACTION")
        raise
    conn.execute("COMMIT TRANSACTION")
    return True
