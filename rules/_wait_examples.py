"""VALID / INVALID examples of TXL403 (kept apart from the rule's logic for readability)."""

from __future__ import annotations

from txlint.registry import ex

INVALID_403 = [
    ex("""
        import time

        import psycopg2


        def poll_jobs(dsn):
            conn = psycopg2.connect(dsn)  # expect: TXL403
            while True:
                with conn.cursor() as cur:
                    cur.execute("SELECT id FROM jobs WHERE state = 'new'")
                    rows = cur.fetchall()
                conn.commit()
                time.sleep(30)
        """, note="commit before each sleep does not release a DB-API connection"),
    ex("""
        import time

        import pymysql


        def watch(host):
            conn = pymysql.connect(host=host, user="app", database="app")  # expect: TXL403
            cur = conn.cursor()
            while 1:
                cur.execute("SELECT COUNT(*) FROM outbox")
                print(cur.fetchone())
                time.sleep(60)
        """, note="a cursor made before the loop uses the connection"),
    ex("""
        import sqlite3
        import time


        def tail(path):
            db = sqlite3.connect(path)  # expect: TXL403
            last = 0
            while True:
                rows = db.execute("SELECT id, line FROM log WHERE id > ?", (last,)).fetchall()
                if rows:
                    last = rows[-1][0]
                time.sleep(1)
        """),
    ex("""
        import time

        from sqlalchemy import create_engine, text

        engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


        def heartbeat():
            with engine.connect() as conn:  # expect: TXL403
                while True:
                    conn.execute(text("UPDATE workers SET seen = now() WHERE id = 1"))
                    conn.commit()
                    time.sleep(15)
        """, note="a SQLAlchemy Connection held across sleeps, pre-ping or not"),
    ex("""
        import time

        from sqlalchemy import create_engine, text

        engine = create_engine("mysql+pymysql://app@db/app", pool_recycle=3600)


        def heartbeat():
            conn = engine.connect()  # expect: TXL403
            try:
                while True:
                    conn.execute(text("SELECT 1"))
                    time.sleep(300)
            finally:
                conn.close()
        """),
    ex("""
        import time

        from sqlalchemy.orm import sessionmaker

        from app.db import engine
        from app.models import Job

        SessionLocal = sessionmaker(bind=engine)


        def poll():
            session = SessionLocal()  # expect: TXL403
            while True:
                jobs = session.query(Job).filter_by(state="new").all()
                for job in jobs:
                    print(job.id)
                time.sleep(10)
        """, note="a read-only poll that never commits keeps its transaction (and connection) open"),
    ex("""
        import time

        from sqlalchemy.orm import Session

        from app.db import engine
        from app.models import Job


        def poll():
            with Session(engine) as session:  # expect: TXL403
                while True:
                    job = session.query(Job).first()
                    if job is not None:
                        job.state = "done"
                        session.commit()
                    time.sleep(5)
        """, note="commits only when it finds a job: the empty poll waits inside a transaction"),
    ex("""
        import threading

        import psycopg2


        class Poller(threading.Thread):
            def __init__(self, dsn):
                super().__init__(daemon=True)
                self.conn = psycopg2.connect(dsn)  # expect: TXL403
                self.stop_event = threading.Event()

            def run(self):
                while not self.stop_event.is_set():
                    with self.conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    self.stop_event.wait(30)
        """, note="acquired in __init__, used by run()'s loop: reported on the __init__ line"),
    ex("""
        import time

        import MySQLdb


        class Collector:
            def __init__(self):
                self.db = MySQLdb.connect(host="db", user="stats")  # expect: TXL403
                self.running = True

            def collect(self):
                cur = self.db.cursor()
                cur.execute("INSERT INTO samples VALUES (NOW())")
                self.db.commit()

            def loop(self):
                while self.running:
                    self.collect()
                    time.sleep(60)
        """, note="used through a method the loop calls"),
    ex("""
        import queue

        import psycopg2


        def writer(q: queue.Queue, dsn):
            conn = psycopg2.connect(dsn)  # expect: TXL403
            while True:
                item = q.get()
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO events (body) VALUES (%s)", (item,))
                conn.commit()
        """, note="queue.get() blocks while the connection idles"),
    ex("""
        import json

        import psycopg2
        import redis


        def consume(dsn):
            r = redis.Redis(host="cache", health_check_interval=30)
            conn = psycopg2.connect(dsn)  # expect: TXL403
            pubsub = r.pubsub()
            pubsub.subscribe("orders")
            for message in pubsub.listen():
                if message["type"] != "message":
                    continue
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO orders (body) VALUES (%s)", (json.dumps(message["data"]),))
                conn.commit()
        """, note="iteration over pubsub.listen() waits"),
    ex("""
        import psycopg2
        import redis


        def drain(dsn):
            r = redis.Redis(host="cache", health_check_interval=30)
            conn = psycopg2.connect(dsn)  # expect: TXL403
            while True:
                _, payload = r.brpop("jobs", timeout=0)
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO jobs (payload) VALUES (%s)", (payload,))
                conn.commit()
        """, note="brpop(timeout=0) blocks for as long as the list is empty"),
    ex("""
        import asyncio

        import asyncpg


        async def listen_loop(dsn):
            conn = await asyncpg.connect(dsn)  # expect: TXL403
            while True:
                rows = await conn.fetch("SELECT id FROM tasks WHERE done = false")
                for row in rows:
                    print(row["id"])
                await asyncio.sleep(10)
        """),
    ex("""
        import asyncio

        import asyncpg


        async def consumer(dsn, queue: asyncio.Queue):
            pool = await asyncpg.create_pool(dsn)
            async with pool.acquire() as conn:  # expect: TXL403
                while True:
                    event = await queue.get()
                    await conn.execute("INSERT INTO events VALUES ($1)", event)
        """, note="a pool connection held by one consumer forever"),
    ex("""
        import asyncio

        import asyncpg


        async def main(dsn):
            pool = await asyncpg.create_pool(dsn)
            conn = await pool.acquire()  # expect: TXL403
            while True:
                await conn.execute("DELETE FROM sessions WHERE expires < now()")
                await asyncio.sleep(3600)
        """),
    ex("""
        import asyncio

        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

        engine = create_async_engine("postgresql+asyncpg://app@db/app")


        async def refresher():
            async with AsyncSession(engine) as session:  # expect: TXL403
                while True:
                    await session.execute("SELECT refresh_stats()")
                    await asyncio.sleep(60)
        """, note="AsyncSession used without commit before each sleep"),
    ex("""
        import asyncio

        import asyncpg
        from fastapi import FastAPI, WebSocket

        app = FastAPI()


        @app.websocket("/ws")
        async def feed(websocket: WebSocket):
            await websocket.accept()
            conn = await asyncpg.connect("postgresql://app@db/app")  # expect: TXL403
            while True:
                text = await websocket.receive_text()
                await conn.execute("INSERT INTO messages (body) VALUES ($1)", text)
        """, note="awaited websocket receives wait for the client"),
    ex("""
        import time

        import psycopg2


        def run(dsn, stop):
            conn = psycopg2.connect(dsn)  # expect: TXL403
            while not stop.is_set():
                cur = conn.cursor()
                cur.execute("SELECT pg_notify('tick', '')")
                cur.close()
                conn.commit()
                time.sleep(5)
        """, note="flag-controlled loop; closing each cursor does not close the connection"),
    ex("""
        import time

        import mysql.connector


        def sync(config):
            cnx = mysql.connector.connect(**config)  # expect: TXL403
            cursor = cnx.cursor()
            while True:
                try:
                    cursor.execute("CALL sync_accounts()")
                    cnx.commit()
                except mysql.connector.Error as exc:
                    print("sync failed", exc)
                time.sleep(120)
        """, note="catching the error does not reconnect"),
    ex("""
        from time import sleep

        import oracledb


        def export(dsn):
            connection = oracledb.connect(dsn=dsn)  # expect: TXL403
            while True:
                with connection.cursor() as cursor:
                    for row in cursor.execute("SELECT * FROM export_queue"):
                        print(row)
                sleep(900)
        """),
    ex("""
        import time

        import pyodbc


        def monitor(conn_str):
            cnxn = pyodbc.connect(conn_str)  # expect: TXL403
            cursor = cnxn.cursor()
            running = True
            while running:
                cursor.execute("SELECT COUNT(*) FROM dbo.Orders")
                running = cursor.fetchone()[0] >= 0
                time.sleep(30)
        """),
    ex("""
        import threading

        import psycopg2


        def worker(dsn, done: threading.Event):
            conn = psycopg2.connect(dsn)  # expect: TXL403
            while True:
                if done.wait(timeout=60):
                    break
                with conn.cursor() as cur:
                    cur.execute("VACUUM ANALYZE events")
        """, note="Event.wait with a timeout is a wait"),
    ex("""
        import time

        import psycopg2


        def outer(dsn, batches):
            conn = psycopg2.connect(dsn)  # expect: TXL403
            for batch in batches:
                while True:
                    with conn.cursor() as cur:
                        cur.execute("SELECT done FROM batches WHERE id = %s", (batch,))
                        if cur.fetchone()[0]:
                            break
                    time.sleep(5)
        """, note="an unbounded wait loop nested in a bounded one"),
    ex("""
        import time

        import psycopg


        def listen(dsn):
            conn = psycopg.connect(dsn)  # expect: TXL403
            while True:
                conn.execute("SELECT 1")
                time.sleep(45)
        """, note="psycopg 3"),
    ex("""
        import time

        from sqlalchemy.orm import sessionmaker

        from app.db import engine

        Session = sessionmaker(bind=engine)


        def loop():
            session = Session()  # expect: TXL403
            while True:
                try:
                    session.execute("UPDATE counters SET n = n + 1")
                    session.commit()
                except Exception:
                    print("failed")
                time.sleep(10)
        """, note="the except path reaches the sleep with the transaction still open"),
    ex("""
        import time

        from sqlalchemy.orm import sessionmaker

        from app.db import engine

        Session = sessionmaker(bind=engine)


        def loop(ids):
            session = Session()  # expect: TXL403
            while True:
                time.sleep(10)
                rows = session.execute("SELECT id FROM jobs").all()
                if rows:
                    session.commit()
        """, note="the empty poll at the end of one iteration is still open at the next sleep"),
    ex("""
        import time

        import sqlite3


        def reporter(path):
            conn = sqlite3.connect(path)  # expect: TXL403
            while True:
                report(conn)
                time.sleep(3600)


        def report(conn):
            print(conn.execute("SELECT count(*) FROM visits").fetchone())
        """, note="passing it to a helper inside the loop is a use"),
    ex("""
        import itertools
        import time

        import psycopg2


        def numbered(dsn):
            conn = psycopg2.connect(dsn)  # expect: TXL403
            for n in itertools.count():
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO ticks VALUES (%s)", (n,))
                conn.commit()
                time.sleep(1)
        """, note="itertools.count() never ends"),
    ex("""
        import time

        import aiomysql


        async def refresh(loop):
            conn = await aiomysql.connect(host="db", user="app", db="app")  # expect: TXL403
            while True:
                async with conn.cursor() as cur:
                    await cur.execute("SELECT 1")
                time.sleep(30)
        """),
    ex("""
        import time

        from sqlalchemy import create_engine

        engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


        def raw_loop():
            raw = engine.raw_connection()  # expect: TXL403
            while True:
                cur = raw.cursor()
                cur.execute("SELECT 1")
                cur.close()
                time.sleep(20)
        """, note="engine.raw_connection() is a DB-API connection"),
    ex(files={"jobs/__init__.py": "", "jobs/models.py": 'from django.db import models\n\n\nclass Job(models.Model):\n    state = models.CharField(max_length=20)\n\n    def run(self):\n        self.state = "done"\n        self.save()\n', "jobs/worker.py": """
import time

from jobs.models import Job


def run_forever():
    while True:
        for job in Job.objects.filter(state="new"):  # expect: TXL403
            job.run()
        time.sleep(10)
"""}, check="jobs/worker.py", note="Django keeps its connection outside the request cycle: reported at the first query"),
    ex("""
        import time

        from django.db import connection


        def loop():
            while True:
                with connection.cursor() as cur:  # expect: TXL403
                    cur.execute("DELETE FROM django_session WHERE expire_date < now()")
                time.sleep(3600)
        """, note="Django's connection object"),
    ex(files={"app/__init__.py": "", "app/models.py": 'from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\nclass Job(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n    state = db.Column(db.String(20))\n', "app/poller.py": """
import time

from app.models import Job


def poll():
    while True:
        pending = Job.query.filter_by(state="new").count()  # expect: TXL403
        print(pending)
        time.sleep(5)
"""}, check="app/poller.py", note="Flask-SQLAlchemy read-only poll keeps its transaction open"),
    ex(files={"w/__init__.py": "", "w/db.py": "from sqlalchemy.orm import scoped_session, sessionmaker\n\nSession = scoped_session(sessionmaker())\n", "w/loop.py": """
import threading

from w.db import Session


def loop(stop: threading.Event):
    while not stop.is_set():
        rows = Session.execute("SELECT id FROM outbox").all()  # expect: TXL403
        if rows:
            Session.commit()
        stop.wait(2)
"""}, check="w/loop.py", note="a scoped_session registry that commits only when there is work"),
    # ---- connections kept on self by any method (contract §12, §14)
    ex("""
        import threading

        import psycopg2


        class Replicator:
            def __init__(self, dsn):
                self.dsn = dsn
                self.conn = None
                self._stop = threading.Event()

            def connect(self):
                self.conn = psycopg2.connect(self.dsn)  # expect: TXL403

            def run(self):
                self.connect()
                while not self._stop.is_set():
                    with self.conn.cursor() as cur:
                        cur.execute("SELECT id FROM outbox WHERE sent = false")
                    self.conn.commit()
                    self._stop.wait(5)
        """, note="stored on self by connect(), not __init__: reported at that acquisition"),
    ex("""
        import time

        import pymysql


        class StatsPoller:
            def __init__(self, host):
                self.host = host
                self._conn = None

            @property
            def conn(self):
                if self._conn is None:
                    self._conn = pymysql.connect(host=self.host, user="stats")  # expect: TXL403
                return self._conn

            def run(self):
                while True:
                    with self.conn.cursor() as cur:
                        cur.execute("SELECT COUNT(*) FROM sessions")
                    time.sleep(60)
        """, note="a lazy property opens it once and the loop keeps reading it"),
    ex("""
        import time

        import psycopg2


        class Sweeper:
            def start(self, dsn):
                self.conn = psycopg2.connect(dsn)  # expect: TXL403
                while True:
                    self._sweep()
                    time.sleep(1)

            def _sweep(self):
                cur = self.conn.cursor()
                cur.execute("DELETE FROM locks WHERE expires < now()")
                self.conn.commit()
        """, note="used through a helper method the loop calls"),
    ex("""
        import threading

        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import sessionmaker


        class Watcher:
            def setup(self, url):
                self.Session = sessionmaker(bind=create_engine(url, pool_pre_ping=True))
                self.session = self.Session()  # expect: TXL403
                self.stop = threading.Event()

            def pending(self):
                return self.session.execute(text("SELECT count(*) FROM jobs WHERE state = 'new'")).scalar()

            def run(self):
                while not self.stop.is_set():
                    print(self.pending())
                    self.stop.wait(10)
        """, note="a Session from a sessionmaker on self, read-only poll through a helper"),
    ex("""
        import time

        from sqlalchemy import create_engine, text


        class Heartbeat:
            def setup(self, url):
                self.engine = create_engine(url, pool_pre_ping=True)
                self.conn = self.engine.connect()  # expect: TXL403

            def run(self):
                while True:
                    self.conn.execute(text("UPDATE workers SET seen = now()"))
                    self.conn.commit()
                    time.sleep(15)
        """, note="a Connection from an engine kept on self: pre-ping checks only at checkout"),
    ex("""
        import threading

        import MySQLdb


        class Collector:
            def __init__(self):
                self.stop = threading.Event()

            def open(self):
                db = MySQLdb.connect(host="db", user="stats")  # expect: TXL403
                db.autocommit(True)
                self.db = db

            def pause(self):
                self.stop.wait(30)

            def run(self):
                self.open()
                while not self.stop.is_set():
                    self.db.cursor().execute("INSERT INTO ticks VALUES (now())")
                    self.pause()
        """, note="stored through a local; the loop waits in a helper"),
    ex("""
        import asyncio

        import asyncpg


        class Listener:
            async def start(self, dsn):
                self.conn = await asyncpg.connect(dsn)  # expect: TXL403

            async def run(self):
                while True:
                    rows = await self.conn.fetch("SELECT id FROM jobs WHERE state = 'new'")
                    print(rows)
                    await asyncio.sleep(5)
        """, note="asyncpg connection opened by an async start()"),
    # ---- Django's connection held through a cursor or a helper (issue 8)
    ex("""
        import time

        from django.db import connection


        def purge_sessions():
            cur = connection.cursor()  # expect: TXL403
            while True:
                cur.execute("DELETE FROM django_session WHERE expire_date < now()")
                time.sleep(3600)
        """, note="a Django cursor taken before the loop holds Django's connection"),
    ex("""
        import time

        from django.core.management.base import BaseCommand
        from django.db import connections


        class Command(BaseCommand):
            def handle(self, *args, **options):
                with connections["replica"].cursor() as cursor:  # expect: TXL403
                    while True:
                        cursor.execute("SELECT id FROM outbox WHERE sent = false")
                        print(cursor.fetchall())
                        time.sleep(5)
        """, note="a management command polling through connections[...].cursor()"),
    ex(files={"jobs/__init__.py": "", "jobs/models.py": 'from django.db import models\n\n\nclass Job(models.Model):\n    state = models.CharField(max_length=20)\n', "jobs/management/__init__.py": "", "jobs/management/commands/__init__.py": "", "jobs/management/commands/runjobs.py": """
import time

from django.core.management.base import BaseCommand

from jobs.models import Job


class Command(BaseCommand):
    def handle(self, *args, **options):
        while True:
            self.run_pending()  # expect: TXL403
            time.sleep(10)

    def run_pending(self):
        for job in Job.objects.filter(state="new"):
            job.state = "done"
            job.save()
"""}, check="jobs/management/commands/runjobs.py",
       note="a management command whose loop queries through a helper method: reported at the call"),
]

VALID_403 = [
    ex("""
        import time

        import psycopg2


        def poll_jobs(dsn):
            while True:
                conn = psycopg2.connect(dsn)
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT id FROM jobs WHERE state = 'new'")
                        rows = cur.fetchall()
                    conn.commit()
                finally:
                    conn.close()
                time.sleep(30)
        """, note="per-iteration acquisition"),
    ex("""
        import time

        import psycopg


        def poll(dsn):
            while True:
                with psycopg.connect(dsn) as conn:
                    conn.execute("SELECT 1")
                time.sleep(30)
        """),
    ex("""
        import time

        from sqlalchemy import create_engine, text

        engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


        def heartbeat():
            while True:
                with engine.begin() as conn:
                    conn.execute(text("UPDATE workers SET seen = now()"))
                time.sleep(15)
        """, note="engine.begin() per iteration returns the connection to the pool"),
    ex("""
        import time

        import psycopg2


        def once_then_wait(dsn):
            conn = psycopg2.connect(dsn)
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            conn.close()
            while True:
                time.sleep(60)
        """, note="closed before the loop"),
    ex("""
        import time

        import psycopg2


        def batch(dsn, ids):
            conn = psycopg2.connect(dsn)
            try:
                for i in ids:
                    with conn.cursor() as cur:
                        cur.execute("UPDATE t SET x = 1 WHERE id = %s", (i,))
                    time.sleep(0.1)
            finally:
                conn.close()
        """, note="a for over a list is bounded"),
    ex("""
        import time

        import psycopg2


        def retry(dsn):
            for attempt in range(5):
                conn = psycopg2.connect(dsn)
                conn.close()
                time.sleep(2 ** attempt)
        """, note="range() is bounded"),
    ex("""
        import time

        import psycopg2
        from psycopg2 import OperationalError


        def poll(dsn):
            conn = psycopg2.connect(dsn)
            while True:
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    conn.commit()
                except OperationalError:
                    conn = psycopg2.connect(dsn)
                time.sleep(30)
        """, note="a retry loop that reconnects on OperationalError"),
    ex("""
        import time

        from django.db import close_old_connections

        from jobs.models import Job


        def run_forever():
            while True:
                close_old_connections()
                for job in Job.objects.filter(state="new"):
                    job.run()
                time.sleep(10)
        """, note="Django: close_old_connections() in the loop"),
    ex("""
        import time

        from sqlalchemy.orm import sessionmaker

        from app.db import engine
        from app.models import Job

        Session = sessionmaker(bind=engine)


        def poll():
            session = Session()
            while True:
                for job in session.query(Job).filter_by(state="new"):
                    job.state = "done"
                session.commit()
                time.sleep(10)
        """, note="a Session that commits before every wait holds no connection while waiting"),
    ex("""
        import time

        from sqlalchemy.orm import sessionmaker

        from app.db import engine

        Session = sessionmaker(bind=engine)


        def poll():
            session = Session()
            while True:
                try:
                    session.execute("UPDATE counters SET n = n + 1")
                    session.commit()
                except Exception:
                    session.rollback()
                time.sleep(10)
        """, note="rollback on the error path"),
    ex("""
        import time

        from sqlalchemy.orm import sessionmaker

        from app.db import engine

        Session = sessionmaker(bind=engine)


        def poll():
            session = Session()
            while True:
                try:
                    print(session.execute("SELECT 1").scalar())
                finally:
                    session.close()
                time.sleep(10)
        """, note="close() in a finally before the wait"),
    ex("""
        import time

        from sqlalchemy.orm import sessionmaker

        from app.db import engine

        Session = sessionmaker(bind=engine)


        def poll():
            session = Session()
            while True:
                with session.begin():
                    session.execute("DELETE FROM tokens WHERE expired")
                time.sleep(60)
        """, note="with session.begin() commits at the end of the block"),
    ex("""
        import time

        import psycopg2


        def poll(dsn):
            conn = psycopg2.connect(dsn)
            try:
                while True:
                    time.sleep(5)
                    if should_stop():
                        break
            finally:
                conn.close()


        def should_stop():
            return True
        """, note="the connection is not used inside the loop"),
    ex("""
        import psycopg2


        def drain(dsn):
            conn = psycopg2.connect(dsn)
            while True:
                with conn.cursor() as cur:
                    cur.execute("DELETE FROM q WHERE id IN (SELECT id FROM q LIMIT 100) RETURNING id")
                    if not cur.fetchall():
                        break
                conn.commit()
            conn.close()
        """, note="a loop of queries that never waits"),
    ex("""
        import time

        import psycopg2

        CONN = psycopg2.connect("dbname=app")


        def loop():
            while True:
                with CONN.cursor() as cur:
                    cur.execute("SELECT 1")
                time.sleep(30)
        """, note="module-level connections are TXL401's finding, not reported again"),
    ex("""
        import time

        import redis


        def worker():
            r = redis.Redis(host="cache", health_check_interval=30)
            while True:
                job = r.brpop("jobs", timeout=0)
                print(job)
        """, note="Redis clients are lazy: TXL404's business, not TXL403"),
    ex("""
        import asyncio

        import asyncpg


        async def main(dsn):
            pool = await asyncpg.create_pool(dsn)
            while True:
                async with pool.acquire() as conn:
                    await conn.execute("DELETE FROM sessions WHERE expires < now()")
                await asyncio.sleep(3600)
        """, note="a pool connection per iteration"),
    ex("""
        import asyncio

        import asyncpg


        async def main(dsn):
            pool = await asyncpg.create_pool(dsn)
            while True:
                conn = await pool.acquire()
                try:
                    await conn.execute("SELECT 1")
                finally:
                    await pool.release(conn)
                await asyncio.sleep(60)
        """),
    ex("""
        import threading

        import psycopg2


        class Poller(threading.Thread):
            def __init__(self, dsn):
                super().__init__(daemon=True)
                self.dsn = dsn
                self.stop_event = threading.Event()

            def run(self):
                while not self.stop_event.is_set():
                    conn = psycopg2.connect(self.dsn)
                    try:
                        with conn.cursor() as cur:
                            cur.execute("SELECT 1")
                    finally:
                        conn.close()
                    self.stop_event.wait(30)
        """, note="the thread connects per iteration"),
    ex("""
        import time

        import psycopg2


        class Poller:
            def __init__(self, dsn):
                self.dsn = dsn
                self.conn = psycopg2.connect(dsn)

            def reconnect(self):
                self.conn = psycopg2.connect(self.dsn)

            def run(self):
                while True:
                    try:
                        with self.conn.cursor() as cur:
                            cur.execute("SELECT 1")
                    except psycopg2.OperationalError:
                        self.reconnect()
                    time.sleep(30)
        """, note="a method reconnects"),
    ex("""
        import time

        import psycopg2


        def loop(dsn, stop):
            conn = psycopg2.connect(dsn)
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            conn.close()
            while not stop:
                time.sleep(1)
        """),
    ex("""
        import time


        def sleeper(items):
            cache = {}
            while True:
                value = cache.get("key")
                print(value, items)
                time.sleep(1)
        """, note="no database at all; dict.get is not a wait"),
    ex("""
        import time

        import psycopg2


        def stats(dsn):
            conn = psycopg2.connect(dsn)
            tries = 0
            while tries < 3:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1")
                tries += 1
                time.sleep(1)
            conn.close()
        """, note="a counted retry loop is bounded"),
    ex("""
        import time

        import requests
        import psycopg2


        def push(dsn):
            conn = psycopg2.connect(dsn)
            while True:
                with conn.cursor() as cur:
                    cur.execute("SELECT id FROM hooks")
                    for (hook_id,) in cur.fetchall():
                        requests.get(f"https://hooks.example.com/{hook_id}", timeout=5)
                conn.commit()
                break
        """, note="requests.get is not a queue wait and the loop ends"),
    ex("""
        import asyncio

        from fastapi import FastAPI, WebSocket

        from app.db import async_session

        app = FastAPI()


        @app.websocket("/ws")
        async def feed(websocket: WebSocket):
            await websocket.accept()
            while True:
                text = await websocket.receive_text()
                async with async_session() as session:
                    await session.execute("INSERT INTO messages VALUES (:t)", {"t": text})
                    await session.commit()
        """, note="a session per message"),
    ex("""
        import time

        from django.db import close_old_connections, connection


        def loop():
            while True:
                close_old_connections()
                with connection.cursor() as cur:
                    cur.execute("SELECT 1")
                time.sleep(30)
        """, note="Django connection refreshed each iteration"),
    ex("""
        import time

        import psycopg2


        def handler(dsn):
            conn = psycopg2.connect(dsn)

            def loop():
                while True:
                    time.sleep(1)

            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            conn.close()
            return loop
        """, note="a nested function's loop does not use the connection"),
    ex("""
        import time

        from sqlalchemy.orm import sessionmaker

        from app.db import engine

        Session = sessionmaker(bind=engine)


        def poll():
            session = Session()
            while True:
                rows = session.execute("SELECT id FROM jobs").all()
                session.rollback()
                for row in rows:
                    print(row)
                time.sleep(10)
        """, note="rollback() ends the read transaction before the sleep"),
    ex("""
        import time

        import psycopg2


        def watchdog(dsn):
            while True:
                conn = psycopg2.connect(dsn, connect_timeout=3)
                conn.close()
                time.sleep(10)
        """),
    ex("""
        import queue


        def consume(q: queue.Queue, engine):
            while True:
                item = q.get()
                with engine.begin() as conn:
                    conn.execute("INSERT INTO t VALUES (:i)", {"i": item})
        """, note="the connection is taken after the wait, per item"),
    ex(files={"jobs/__init__.py": "", "jobs/models.py": 'from django.db import models\n\n\nclass Job(models.Model):\n    state = models.CharField(max_length=20)\n\n    def run(self):\n        self.state = "done"\n        self.save()\n', "jobs/worker.py": """
import time

from django.db import close_old_connections

from jobs.models import Job


def run_forever():
    while True:
        close_old_connections()
        for job in Job.objects.filter(state="new"):
            job.run()
        time.sleep(10)
"""}, check="jobs/worker.py", note="Django close_old_connections() each iteration"),
    ex(files={"app/__init__.py": "", "app/models.py": 'from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\nclass Job(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n    state = db.Column(db.String(20))\n', "app/poller.py": """
import time

from app.models import Job, db


def poll():
    while True:
        for job in Job.query.filter_by(state="new"):
            job.state = "queued"
        db.session.commit()
        time.sleep(5)
"""}, check="app/poller.py", note="Flask-SQLAlchemy commit before the wait"),
    ex(files={"app/__init__.py": "", "app/models.py": 'from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\nclass Job(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n    state = db.Column(db.String(20))\n', "app/poller.py": """
import time

from app.models import Job, db


def poll():
    while True:
        try:
            print(Job.query.count())
        finally:
            db.session.remove()
        time.sleep(5)
"""}, check="app/poller.py", note="remove() before the wait"),
    ex("""
        import time

        import psycopg2


        def save(dsn, row):
            conn = psycopg2.connect(dsn)
            try:
                while True:
                    try:
                        with conn.cursor() as cur:
                            cur.execute("INSERT INTO t VALUES (%s)", (row,))
                        conn.commit()
                        break
                    except psycopg2.errors.SerializationFailure:
                        conn.rollback()
                        time.sleep(0.5)
            finally:
                conn.close()
        """, note="a retry loop that only sleeps to back off after an error"),
    ex("""
        import select

        import psycopg2
        import psycopg2.extensions


        def listen(dsn):
            conn = psycopg2.connect(dsn)
            conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
            with conn.cursor() as cur:
                cur.execute("LISTEN jobs;")
            try:
                while True:
                    if select.select([conn], [], [], 60) == ([], [], []):
                        continue
                    conn.poll()
                    while conn.notifies:
                        print(conn.notifies.pop(0).payload)
            finally:
                conn.close()
        """, note="LISTEN/NOTIFY: the loop waits on the connection itself"),
    # ---- connections kept on self by any method: clean versions (contract §12, §14)
    ex("""
        import time

        import psycopg2


        class PerRound:
            def connect(self):
                self.conn = psycopg2.connect("dbname=jobs")

            def close(self):
                self.conn.close()

            def run(self):
                while True:
                    self.connect()
                    self.conn.cursor().execute("SELECT 1")
                    self.close()
                    time.sleep(10)
        """, note="opened and closed inside each iteration through helper methods"),
    ex("""
        import time

        import psycopg2


        class Retrying:
            def connect(self):
                self.conn = psycopg2.connect("dbname=jobs")

            def run(self):
                self.connect()
                while True:
                    try:
                        self.conn.cursor().execute("SELECT 1")
                    except psycopg2.OperationalError:
                        self.connect()
                    time.sleep(10)
        """, note="a retry loop that reconnects through the acquiring method"),
    ex("""
        import time

        import psycopg2


        class LazyWithReset:
            conn = None

            def get(self):
                if self.conn is None:
                    self.conn = psycopg2.connect("dbname=jobs")
                return self.conn

            def run(self):
                while True:
                    try:
                        self.get().cursor().execute("SELECT 1")
                    finally:
                        self.conn.close()
                        self.conn = None
                    time.sleep(10)
        """, note="a lazy getter whose connection the loop closes and drops every round"),
    ex("""
        import time

        from sqlalchemy import text
        from sqlalchemy.orm import sessionmaker


        class Cleaner:
            def setup(self, engine):
                self.session = sessionmaker(bind=engine)()

            def _clean(self):
                self.session.execute(text("DELETE FROM locks WHERE expires < now()"))
                self.session.commit()

            def run(self):
                while True:
                    self._clean()
                    time.sleep(30)
        """, note="a Session on self whose helper commits before the wait holds no connection"),
    ex("""
        import time

        import psycopg2


        class Warmup:
            def setup(self):
                self.conn = psycopg2.connect("dbname=jobs")

            def run(self):
                for _ in range(3):
                    self.conn.cursor().execute("SELECT 1")
                    time.sleep(1)
        """, note="a bounded loop"),
    ex("""
        import time

        from sqlalchemy import create_engine, text


        class Pinger:
            def setup(self, url):
                self.engine = create_engine(url, pool_pre_ping=True)

            def run(self):
                while True:
                    with self.engine.connect() as conn:
                        conn.execute(text("SELECT 1"))
                    time.sleep(30)
        """, note="a pre-pinged engine on self is lazy: a connection per round"),
    ex("""
        import time

        import pymysql


        class Pinged:
            def setup(self):
                self.conn = pymysql.connect(host="db", user="stats")

            def run(self):
                while True:
                    self.conn.ping(reconnect=True)
                    with self.conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    time.sleep(60)
        """, note="ping(reconnect=True) every round refreshes the connection"),
    ex("""
        import select
        import time

        import psycopg2
        from psycopg2.extras import PhysicalReplicationConnection


        class WalReceiver:
            def open(self, dsn):
                self.conn = psycopg2.connect(dsn, connection_factory=PhysicalReplicationConnection)
                self.cur = self.conn.cursor()

            def flush(self, block=False):
                if block:
                    self.done.get()

            def run(self):
                while True:
                    try:
                        msg = self.cur.read_message()
                    except psycopg2.DatabaseError:
                        time.sleep(1)
                        continue
                    self.flush()
                    if not msg:
                        select.select([self.cur], [], [], 10)
        """, note="waits on the replication stream itself; the sleep is back-off; the helper only waits when asked"),
    ex("""
        import time

        from django.db import close_old_connections, connection


        def purge_sessions():
            cur = connection.cursor()
            while True:
                close_old_connections()
                cur = connection.cursor()
                cur.execute("DELETE FROM django_session WHERE expire_date < now()")
                time.sleep(3600)
        """, note="Django: close_old_connections() each round"),
    ex(files={"jobs/__init__.py": "", "jobs/models.py": 'from django.db import models\n\n\nclass Job(models.Model):\n    state = models.CharField(max_length=20)\n', "jobs/db.py": "from django import db\n\n\ndef refresh():\n    db.close_old_connections()\n", "jobs/management/__init__.py": "", "jobs/management/commands/__init__.py": "", "jobs/management/commands/runjobs.py": """
import time

from django.core.management.base import BaseCommand

from jobs.db import refresh
from jobs.models import Job


class Command(BaseCommand):
    def handle(self, *args, **options):
        while True:
            self.run_pending()
            time.sleep(10)

    def run_pending(self):
        refresh()
        for job in Job.objects.filter(state="new"):
            job.state = "done"
            job.save()
"""}, check="jobs/management/commands/runjobs.py",
       note="the helper refreshes Django's connection through a project wrapper"),
]
