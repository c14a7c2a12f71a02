"""Objects that own connections (contract §14), both ways."""
import psycopg2
import pymysql
import sqlite3
from sqlalchemy import create_engine


# forgotten in close(): the cursor is closed, the connection is not
class Client:
    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = psycopg2.connect(dsn)  # expect: TXL201
        self.cur = self.conn.cursor()

    def close(self):
        self.cur.close()


# closed through a helper of the class
class Helper:
    def __init__(self, dsn):
        self.conn = psycopg2.connect(dsn)

    def _cleanup(self):
        self.conn.close()

    def close(self):
        self._cleanup()


# re-connects after a failure and drops the old socket
class Reconnect:
    def __init__(self, cfg):
        self.cfg = cfg
        self.conn = None
        self.connect()

    def connect(self):
        self.conn = pymysql.connect(**self.cfg)  # expect: TXL201

    def execute(self, sql):
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql)
        except pymysql.OperationalError:
            self.connect()

    def close(self):
        self.conn.close()


# closes the old connection first
class ReconnectOk:
    def __init__(self, cfg):
        self.cfg = cfg
        self.conn = pymysql.connect(**cfg)

    def reconnect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = pymysql.connect(**self.cfg)

    def close(self):
        self.conn.close()


# __enter__ raises after connecting: no __exit__ runs
class Enter:
    def __init__(self, dsn):
        self.dsn = dsn

    def __enter__(self):
        self.conn = psycopg2.connect(self.dsn)  # expect: TXL202
        self.conn.set_session(autocommit=True)
        return self

    def __exit__(self, *exc):
        self.conn.close()


class EnterOk:
    def __init__(self, dsn):
        self.dsn = dsn

    def __enter__(self):
        self.conn = psycopg2.connect(self.dsn)
        try:
            self.conn.set_session(autocommit=True)
        except Exception:
            self.conn.close()
            raise
        return self

    def __exit__(self, *exc):
        self.conn.close()


# if closing a raises, b is never closed
class Two:
    def __init__(self, a, b):
        self.a = psycopg2.connect(a)
        self.b = psycopg2.connect(b)  # expect: TXL202

    def __exit__(self, *exc):
        self.a.close()
        self.b.close()


class TwoOk:
    def __init__(self, a, b):
        self.a = psycopg2.connect(a)
        self.b = psycopg2.connect(b)

    def __exit__(self, *exc):
        try:
            self.a.close()
        finally:
            self.b.close()


# re-acquires in a loop; stop() does not close either
class Loop:
    def __init__(self, dsn):
        self.dsn = dsn

    def run(self, n):
        for _ in range(n):
            self.conn = psycopg2.connect(self.dsn)  # expect: TXL201
            cur = self.conn.cursor()
            try:
                cur.execute("x")
            finally:
                cur.close()

    def stop(self):
        pass


# explicit protocol calls are releases
class Wrapped:
    def __init__(self, engine):
        self.engine = create_engine(engine, pool_pre_ping=True)
        self.conn = self.engine.connect()

    def close(self):
        self.conn.__exit__(None, None, None)


class LazyOk:
    def __init__(self, dsn):
        self.dsn = dsn
        self._conn = None

    def conn(self):
        if self._conn is None:
            self._conn = psycopg2.connect(self.dsn)
        return self._conn

    def query(self, sql):
        cur = self.conn().cursor()
        try:
            cur.execute(sql)
        finally:
            cur.close()

    def close(self):
        if self._conn is not None:
            self._conn.close()


class AsyncOwner:
    def __init__(self, dsn):
        self.dsn = dsn

    async def __aenter__(self):
        import asyncpg

        self.conn = await asyncpg.connect(self.dsn)
        try:
            await self.conn.execute("SET search_path TO app")
        except Exception:
            await self.conn.close()
            raise
        return self

    async def __aexit__(self, *exc):
        try:
            await self.conn.execute("RESET search_path")
        finally:
            await self.conn.close()


# the reconnect runs only when a flag says the old connection was closed (python-mysql-replication)
class FlagGuarded:
    def __init__(self, cfg):
        self.cfg = cfg
        self._connected = False

    def _connect(self):
        self.conn = pymysql.connect(**self.cfg)
        self._connected = True

    def fetch(self):
        if not self._connected:
            self._connect()
        try:
            return self.conn.query("SELECT 1")
        except pymysql.OperationalError:
            self.conn.close()
            self._connected = False

    def close(self):
        if self._connected:
            self.conn.close()
            self._connected = False


# release(self, connection) gives back one item; it is not the object's teardown
class Pool:
    def __init__(self, path):
        self._keepalive = sqlite3.connect(path)

    def release(self, connection):
        connection.close()


# close() takes the connection off the object first, then closes it (kombu's pgmq transport)
class SwapThenClose:
    def __init__(self, dsn):
        self._dsn = dsn
        self._conn = None

    def _ensure(self):
        if self._conn is not None:
            return
        conn = psycopg2.connect(self._dsn)
        self._conn = conn

    def close(self):
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
