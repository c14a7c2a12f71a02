from contextlib import contextmanager

import psycopg2
from sqlalchemy import create_engine


class Store:
    def __init__(self, dsn: str):
        self.dsn = dsn

    @property
    def engine(self):
        return create_engine(self.dsn, pool_pre_ping=True)

    @classmethod
    def connect_raw(cls, dsn: str):
        return psycopg2.connect(dsn)

    @contextmanager
    def get_engine(self):
        yield self.engine

    def save(self, row) -> None:
        with self.get_engine() as engine:
            conn = engine.connect()  # expect: TXL201, TXL202
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")

    def save_ok(self, row) -> None:
        with self.get_engine() as engine:
            with engine.connect() as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")

    def load(self) -> None:
        conn = self.engine.connect()  # expect: TXL201, TXL202
        conn.exec_driver_sql("SELECT 1")

    def raw(self) -> None:
        conn = Store.connect_raw(self.dsn)  # expect: TXL201, TXL202
        conn.cursor().execute("SELECT 1")  # expect: TXL201
