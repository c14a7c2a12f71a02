"""HR exports from Oracle with python-oracledb (and legacy cx_Oracle)."""
import logging
import os

import cx_Oracle
import oracledb

log = logging.getLogger("hr")
USER, DSN = "hr", os.environ.get("ORACLE_DSN", "dbhost/orclpdb1")


# Clean: `with oracledb.connect()` closes; cursor with-block closes the cursor.
def department_names():
    with oracledb.connect(user=USER, password=os.environ["ORACLE_PASSWORD"], dsn=DSN) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT department_name FROM departments ORDER BY 1")
            return [r[0] for r in cur]


# Leak: connection never closed.
def headcount(department_id):
    conn = oracledb.connect(user=USER, password=os.environ["ORACLE_PASSWORD"], dsn=DSN)  # expect: TXL201, TXL202
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM employees WHERE department_id = :d", d=department_id)
        return cur.fetchone()[0]


# Normal-path leak: early return before close(); exceptions close in the handler.
def give_raise(employee_id, pct):
    conn = oracledb.connect(user=USER, password=os.environ["ORACLE_PASSWORD"], dsn=DSN)  # expect: TXL201
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT salary FROM employees WHERE employee_id = :e", e=employee_id)
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute("UPDATE employees SET salary = salary * :p WHERE employee_id = :e", p=1 + pct / 100, e=employee_id)
        conn.commit()
    except Exception:
        conn.close()
        raise
    conn.close()
    return row[0]


# Legacy cx_Oracle: cursor created explicitly on a borrowed connection and never closed.
def job_titles(conn: cx_Oracle.Connection):
    cur = conn.cursor()  # expect: TXL201, TXL202
    cur.execute("SELECT job_title FROM jobs")
    return [r[0] for r in cur.fetchall()]


# Clean: cx_Oracle connection closed in finally.
def manager_of(employee_id):
    conn = cx_Oracle.connect(USER, os.environ["ORACLE_PASSWORD"], DSN)
    try:
        cur = conn.cursor()
        cur.execute("SELECT manager_id FROM employees WHERE employee_id = :e", e=employee_id)
        return cur.fetchone()
    finally:
        conn.close()
