"""Connections and sessions kept on self by some method and used by another method's waiting loop.

Every class releases what it owns in close() and closes the old connection before storing a new
one, so that only the waiting loop is in question here (contract §14)."""
import threading
import time

import psycopg2
from sqlalchemy import text

from svc.db import SessionLocal, engine


class OutboxRelay:
    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = None
        self._stop = threading.Event()

    def connect(self):
        self.close()
        self.conn = psycopg2.connect(self.dsn)  # expect: TXL403

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self):
        self.connect()
        while not self._stop.is_set():
            self._relay_batch()
            self._stop.wait(5)

    def _relay_batch(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT id, payload FROM outbox WHERE sent = false")
            rows = cur.fetchall()
        self.conn.commit()
        return rows


class ReadOnlyMonitor:
    """A Session from the project's sessionmaker, read in each round and never ended."""

    session = None

    def open(self):
        self.close()
        self.session = SessionLocal()  # expect: TXL403

    def close(self):
        if self.session is not None:
            self.session.close()
            self.session = None

    def run(self):
        self.open()
        while True:
            print(self.session.execute(text("SELECT count(*) FROM jobs")).scalar())
            time.sleep(30)


class CommittingMonitor:
    session = None

    def open(self):
        self.close()
        self.session = SessionLocal()

    def close(self):
        if self.session is not None:
            self.session.close()
            self.session = None

    def run(self):
        self.open()
        while True:
            self.session.execute(text("UPDATE jobs SET state = 'stale' WHERE age > 3600"))
            self.session.commit()
            time.sleep(30)


class PerRoundRelay:
    conn = None

    def connect(self):
        self.close()
        self.conn = engine.connect()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self):
        while True:
            self.connect()
            try:
                self.conn.execute(text("DELETE FROM locks WHERE expires < now()"))
                self.conn.commit()
            finally:
                self.close()
            time.sleep(10)


class ReconnectingRelay:
    conn = None

    def connect(self):
        self.close()
        self.conn = psycopg2.connect("dbname=svc")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self):
        self.connect()
        while True:
            try:
                with self.conn.cursor() as cur:
                    cur.execute("SELECT 1")
            except psycopg2.OperationalError:
                self.connect()
            time.sleep(10)


class BoundedWarmup:
    conn = None

    def connect(self):
        self.close()
        self.conn = psycopg2.connect("dbname=svc")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def run(self):
        self.connect()
        for _ in range(5):
            with self.conn.cursor() as cur:
                cur.execute("SELECT 1")
            time.sleep(1)
