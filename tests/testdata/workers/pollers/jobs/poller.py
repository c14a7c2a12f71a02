"""Pollers that use the project's engine and sessionmaker from jobs/db.py."""
import threading
import time

from sqlalchemy import text

from jobs.db import SessionLocal, engine


def heartbeat(stop: threading.Event):
    conn = engine.connect()  # expect: TXL403
    try:
        while not stop.is_set():
            conn.execute(text("UPDATE workers SET seen = now()"))
            conn.commit()
            stop.wait(15)
    finally:
        conn.close()


def read_only_poll(stop: threading.Event):
    session = SessionLocal()  # expect: TXL403
    try:
        while not stop.is_set():
            pending = session.execute(text("SELECT count(*) FROM jobs WHERE state = 'new'")).scalar()
            print(pending)
            time.sleep(10)
    finally:
        session.close()


def committing_poll(stop: threading.Event):
    session = SessionLocal()
    try:
        while not stop.is_set():
            session.execute(text("UPDATE jobs SET state = 'stale' WHERE age > 3600"))
            session.commit()
            time.sleep(10)
    finally:
        session.close()


def per_iteration(stop: threading.Event):
    while not stop.is_set():
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM locks WHERE expires < now()"))
        time.sleep(30)
