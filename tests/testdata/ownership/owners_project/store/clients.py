import psycopg2

from store.base import Closable, Forgetful


class Good(Closable):
    def __init__(self, dsn):
        self.conn = psycopg2.connect(dsn)


class Bad(Forgetful):
    def __init__(self, dsn):
        self.conn = psycopg2.connect(dsn)  # expect: TXL201


class Child(Closable):
    def __init__(self, dsn):
        self.conn = psycopg2.connect(dsn)
        self.other = psycopg2.connect(dsn)  # expect: TXL201

    def close(self):
        super().close()
