from typing import Union

import asyncpg
import psycopg2.extensions
from sqlalchemy.engine import Connection


async def fetch_limits(pool: asyncpg.Pool, account: int):
    conn = await pool.acquire()  # expect: TXL201, TXL202
    return await conn.fetch("SELECT * FROM limits WHERE account = $1", account)


async def fetch_limits_ok(pool: "asyncpg.Pool", account: int):
    async with pool.acquire() as conn:
        return await conn.fetch("SELECT * FROM limits WHERE account = $1", account)


def rows(conn: "psycopg2.extensions.connection"):
    cur = conn.cursor()  # expect: TXL201, TXL202
    cur.execute("SELECT 1")
    return cur.fetchall()


def rows_ok(conn: Union[psycopg2.extensions.connection, None]):
    cur = conn.cursor()
    try:
        cur.execute("SELECT 1")
        return cur.fetchall()
    finally:
        cur.close()


def close_it(conn: Connection) -> None:
    # a parameter is the caller's: using it without closing it is not a leak here
    conn.exec_driver_sql("SELECT 1")


class Holder:
    engine: "sqlalchemy.engine.Engine"
    pool: asyncpg.Pool | None = None

    async def touch(self):
        conn = await self.pool.acquire()  # expect: TXL201, TXL202
        await conn.execute("SELECT 1")
