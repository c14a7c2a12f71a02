from sqlite3 import *  # noqa: F403

from app.helpers import *  # noqa: F403


def count(path):
    conn = connect(path)  # expect: TXL201, TXL202  # noqa: F405
    return conn.execute("SELECT count(*) FROM t").fetchone()[0]


def report_again(path):
    conn, cur = open_db(path)  # expect: TXL201, TXL202  # noqa: F405
    cur.execute("SELECT 1")


def private_name_is_not_star_exported(path):
    conn, cur = _open(path)  # noqa: F405  (not bound by the star import: unknown, silent)
    cur.execute("SELECT 1")
