import importlib

try:
    import MySQLdb as mysql
except ImportError:  # pragma: no cover
    import pymysql as mysql

from app.lazyload import LazyLoader

asyncpg = LazyLoader("asyncpg", globals(), "asyncpg")
redis_mod = importlib.import_module("redis")


def insert(row):
    import pymysql

    conn = pymysql.connect(host="db")  # expect: TXL201, TXL202
    conn.cursor().execute("INSERT INTO t VALUES (%s)", row)  # expect: TXL201


def fallback(row):
    conn = mysql.connect(host="db")  # expect: TXL201, TXL202
    conn.query("SELECT 1")


async def lazy(dsn):
    conn = await asyncpg.connect(dsn)  # expect: TXL201, TXL202
    await conn.execute("SELECT 1")


def dynamic(dsn):
    driver = importlib.import_module("psycopg2")
    conn = driver.connect(dsn)  # expect: TXL201, TXL202
    conn.cursor()  # expect: TXL201
