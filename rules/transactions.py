"""TXL101 / TXL102: explicit transactions that are not ended on every path."""

from __future__ import annotations

import re

from txlint.dataflow import path_findings, trace_steps, why
from txlint.fix_tx import fix_for_begin
from txlint.gate import path_rules_gate
from txlint.registry import Rule, ex, register

_MARK = re.compile(r"#\s*expect:\s*([A-Z0-9, ]+)")


def marked(example, code: str) -> bool:
    """Whether the checked file of ``example`` marks a finding of ``code``."""
    text = example.project()[example.checked_path()]
    return any(code in m.group(1) for m in _MARK.finditer(text))



def _report(ctx, code: str) -> None:
    for f in path_findings(ctx):
        if f.code != code:
            continue
        if f.normal:
            msg = f"transaction is not committed or rolled back {why(ctx, f)}"
        else:
            msg = f"transaction is not rolled back {why(ctx, f)}"
        ctx.report(code, f.node, msg, trace=trace_steps(ctx, f), fix=fix_for_begin(ctx, f.node, f.rec.kind))


# Examples shared by TXL101 and TXL102: each rule takes the ones that mark its code.
_CASES = [
    ex("""
    from sqlalchemy.orm import Session


    def rename(session: Session, user_id, name):
        session.begin()  # expect: TXL101, TXL102
        user = session.get(User, user_id)
        if user is None:
            return False
        user.name = name
        session.commit()
        return True
    """),
    ex("""
    from sqlalchemy.orm import Session


    def move(session: Session, src, dst, qty):
        session.begin()  # expect: TXL102
        session.execute(UPDATE_SRC, {"q": qty, "s": src})
        session.execute(UPDATE_DST, {"q": qty, "s": dst})
        session.commit()
    """),
    ex("""
    from sqlalchemy.engine import Connection
    from sqlalchemy import text


    def move_stock(conn: Connection, src, dst, qty):
        trans = conn.begin()  # expect: TXL102
        conn.execute(text("UPDATE items SET qty = qty - :q WHERE sku = :s"), {"q": qty, "s": src})
        conn.execute(text("UPDATE items SET qty = qty + :q WHERE sku = :s"), {"q": qty, "s": dst})
        trans.commit()
    """),
    ex("""
    from sqlalchemy.engine import Connection
    from sqlalchemy import text


    def reserve(conn: Connection, sku, qty):
        trans = conn.begin()  # expect: TXL101
        try:
            row = conn.execute(text("SELECT qty FROM items WHERE sku = :s"), {"s": sku}).first()
            if row is None or row.qty < qty:
                return False
            conn.execute(text("UPDATE items SET qty = qty - :q WHERE sku = :s"), {"q": qty, "s": sku})
            trans.commit()
        except Exception:
            trans.rollback()
            raise
        return True
    """),
    ex("""
    from sqlalchemy import create_engine, text

    engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


    def rebuild():
        with engine.connect() as conn:
            conn.begin()  # expect: TXL102
            conn.execute(text("TRUNCATE stats"))
            conn.execute(text("INSERT INTO stats SELECT * FROM stats_view"))
            conn.commit()
    """),
    ex("""
    from sqlalchemy.orm import Session


    def import_rows(session: Session, rows):
        savepoint = session.begin_nested()  # expect: TXL101, TXL102
        for row in rows:
            if not row.valid:
                break
            session.add(row.to_model())
        else:
            savepoint.commit()
    """),
    ex("""
    from sqlalchemy.orm import Session


    def try_insert(session: Session, obj):
        nested = session.begin_nested()  # expect: TXL102
        try:
            session.add(obj)
            session.flush()
        except IntegrityError:
            nested.rollback()
            return False
        nested.commit()
        return True
    """),
    ex("""
    from sqlalchemy.ext.asyncio import AsyncConnection
    from sqlalchemy import text


    async def renumber(conn: AsyncConnection, start):
        trans = await conn.begin()  # expect: TXL101, TXL102
        rows = await conn.execute(text("SELECT id FROM orders ORDER BY id"))
        ids = [r.id for r in rows]
        if not ids:
            return 0
        await trans.commit()
        return len(ids)
    """),
    ex("""
    from sqlalchemy.ext.asyncio import AsyncSession


    async def pay(session: AsyncSession, order):
        await session.begin()  # expect: TXL102
        order.paid = True
        await session.flush()
        await session.commit()
    """),
    ex("""
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()


    def transfer(src, dst, amount):
        db.session.begin()  # expect: TXL102
        src.balance -= amount
        dst.balance += amount
        db.session.flush()
        db.session.commit()
    """),
    ex("""
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()


    def archive(post):
        savepoint = db.session.begin_nested()  # expect: TXL101, TXL102
        if post.locked:
            return
        db.session.add(Archive(post_id=post.id))
        savepoint.commit()
    """),
    ex("""
    import asyncpg


    async def rename_stream(conn: asyncpg.Connection, old, new):
        tr = conn.transaction()
        await tr.start()  # expect: TXL102
        await conn.execute("UPDATE events SET stream = $2 WHERE stream = $1", old, new)
        await tr.commit()
    """),
    ex("""
    import asyncpg


    async def move_events(conn: asyncpg.Connection, src, dst):
        tr = conn.transaction()
        await tr.start()  # expect: TXL101
        try:
            moved = await conn.execute("UPDATE events SET stream = $2 WHERE stream = $1", src, dst)
            if moved == "UPDATE 0":
                return 0
        except Exception:
            await tr.rollback()
            raise
        await tr.commit()
        return moved
    """),
    ex("""
    import sqlite3


    def swap(conn: sqlite3.Connection, a, b):
        conn.execute("BEGIN")  # expect: TXL102
        conn.execute("UPDATE slots SET pos = -1 WHERE pos = ?", (a,))
        conn.execute("UPDATE slots SET pos = ? WHERE pos = ?", (a, b))
        conn.execute("UPDATE slots SET pos = ? WHERE pos = -1", (b,))
        conn.execute("COMMIT")
    """),
    ex("""
    import sqlite3


    def upsert(conn: sqlite3.Connection, key, value):
        conn.execute("BEGIN IMMEDIATE")  # expect: TXL101, TXL102
        row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row and row[0] == value:
            return False
        conn.execute("REPLACE INTO kv VALUES (?, ?)", (key, value))
        conn.commit()
        return True
    """),
    ex("""
    import psycopg2


    def relabel(conn: psycopg2.extensions.connection, old, new):
        with conn.cursor() as cur:
            cur.execute("BEGIN")  # expect: TXL101, TXL102
            cur.execute("UPDATE labels SET name = %s WHERE name = %s", (new, old))
            if cur.rowcount == 0:
                return False
        conn.commit()
        return True
    """),
    ex("""
    import pymysql


    def credit(conn: pymysql.connections.Connection, user_id, amount):
        conn.begin()  # expect: TXL101, TXL102
        with conn.cursor() as cur:
            cur.execute("SELECT frozen FROM wallets WHERE user_id = %s", (user_id,))
            if cur.fetchone()[0]:
                return False
            cur.execute("UPDATE wallets SET amount = amount + %s WHERE user_id = %s", (amount, user_id))
        conn.commit()
        return True
    """),
    ex("""
    import MySQLdb


    def close_thread(thread_id):
        conn = MySQLdb.connect(host="db", db="forum")
        try:
            conn.begin()  # expect: TXL102
            c = conn.cursor()
            c.execute("UPDATE threads SET closed = 1 WHERE id = %s", (thread_id,))
            c.execute("INSERT INTO audit (thread_id) VALUES (%s)", (thread_id,))
            conn.commit()
        except MySQLdb.OperationalError:
            conn.close()
            raise
        conn.close()
    """),
    ex("""
    import mysql.connector


    def add_order(cnx: mysql.connector.MySQLConnection, order):
        cnx.start_transaction()  # expect: TXL101, TXL102
        cur = cnx.cursor()
        cur.execute("INSERT INTO orders (id, total) VALUES (%s, %s)", (order.id, order.total))
        if not order.lines:
            cur.close()
            return
        cur.executemany("INSERT INTO lines VALUES (%s, %s)", order.lines)
        cnx.commit()
    """),
    ex("""
    import oracledb


    def adjust(conn: oracledb.Connection, emp_id, pct):
        conn.begin()  # expect: TXL102
        with conn.cursor() as cur:
            cur.execute("UPDATE employees SET salary = salary * :p WHERE id = :i", p=pct, i=emp_id)
        conn.commit()
    """),
    ex("""
    import aiomysql


    async def rename_room(conn: aiomysql.Connection, old, new):
        await conn.begin()  # expect: TXL101, TXL102
        async with conn.cursor() as cur:
            await cur.execute("SELECT 1 FROM rooms WHERE name = %s", (new,))
            if await cur.fetchone():
                return False
            await cur.execute("UPDATE rooms SET name = %s WHERE name = %s", (new, old))
        await conn.commit()
        return True
    """),
    ex("""
    from django.db import transaction


    def bulk_update(rows):
        transaction.set_autocommit(False)  # expect: TXL101, TXL102
        for row in rows:
            if row.skip:
                return
            row.save()
        transaction.commit()
        transaction.set_autocommit(True)
    """),
    ex("""
    from django.db import transaction


    def close_period(period):
        transaction.set_autocommit(False)  # expect: TXL102
        period.closed = True
        period.save()
        Invoice.objects.filter(period=period).update(locked=True)
        transaction.commit()
        transaction.set_autocommit(True)
    """),
    ex("""
    from peewee import SqliteDatabase

    db = SqliteDatabase("app.db")


    def move_note(note, folder):
        with db.manual_commit():
            db.begin()  # expect: TXL101, TXL102
            if folder.archived:
                return False
            note.folder = folder
            note.save()
            db.commit()
        return True
    """),
    ex("""
    from sqlalchemy.orm import Session


    def apply_all(session: Session, batches):
        for batch in batches:
            session.begin()  # expect: TXL101, TXL102
            for item in batch:
                session.merge(item)
            if batch.partial:
                continue
            session.commit()
    """),
    ex("""
    from sqlalchemy.orm import Session


    def handle(session: Session, event):
        session.begin()  # expect: TXL101
        try:
            match event.kind:
                case "created":
                    session.add(Model(**event.data))
                case "ignored":
                    return None
            session.commit()
        except Exception:
            session.rollback()
            raise
    """),
    ex("""
    import psycopg


    def requeue(conn: psycopg.Connection, job_id):
        conn.execute("BEGIN")  # expect: TXL102
        conn.execute("UPDATE jobs SET state = 'queued' WHERE id = %s", (job_id,))
        conn.execute("DELETE FROM leases WHERE job_id = %s", (job_id,))
        conn.execute("COMMIT")
    """),
    ex("""
    import asyncpg


    async def drain(conn: asyncpg.Connection, queue):
        await conn.execute("BEGIN")  # expect: TXL101, TXL102
        rows = await conn.fetch("DELETE FROM queue WHERE name = $1 RETURNING *", queue)
        if not rows:
            return []
        await conn.execute("COMMIT")
        return rows
    """),
    ex("""
    from sqlalchemy.orm import sessionmaker

    Session = sessionmaker()


    def nightly():
        with Session() as session:
            session.begin()  # expect: TXL101, TXL102
            session.execute(CLEANUP)
            if DRY_RUN:
                return
            session.commit()
    """),
    ex("""
    from sqlalchemy.orm import Session


    def poll(session: Session, queue):
        while True:
            session.begin()  # expect: TXL101, TXL102
            job = queue.pop()
            if job is None:
                break
            job.run(session)
            session.commit()
    """),
    ex("""
    import sqlite3


    def batch(conn: sqlite3.Connection, rows):
        conn.execute("BEGIN")  # expect: TXL101
        try:
            conn.executemany("INSERT INTO t VALUES (?)", rows)
        except Exception:
            conn.execute("ROLLBACK")
            raise
        if not rows:
            return False
        conn.execute("COMMIT")
        return True
    """),
    ex("""
    from sqlalchemy.orm import Session


    def checkout(session: Session, cart):
        session.begin()  # expect: TXL101, TXL102
        if cart.empty:
            raise_empty = True
        else:
            raise_empty = False
            session.add(Order.from_cart(cart))
        if raise_empty:
            return None
        session.commit()
    """),
    ex("""
    from sqlalchemy.orm import Session


    def publish(session: Session, post):
        session.begin()  # expect: TXL101
        try:
            if post.published:
                return False
            post.published = True
            session.commit()
        except Exception:
            session.rollback()
            raise
        return True
    """),
    ex("""
    from sqlalchemy.engine import Connection
    from sqlalchemy import text


    def bump(conn: Connection, key):
        trans = conn.begin()  # expect: TXL101
        try:
            conn.execute(text("UPDATE counters SET n = n + 1 WHERE k = :k"), {"k": key})
        except Exception:
            trans.rollback()
            raise
    """),
    ex("""
    import asyncpg


    async def claim(conn: asyncpg.Connection, job_id):
        tr = conn.transaction()
        await tr.start()  # expect: TXL101
        try:
            row = await conn.fetchrow("SELECT * FROM jobs WHERE id = $1 FOR UPDATE", job_id)
        except Exception:
            await tr.rollback()
            raise
        if row is None:
            return None
        await tr.commit()
        return row
    """),
    ex("""
    import pymysql


    def transfer(conn: pymysql.connections.Connection, src, dst, amount):
        conn.begin()  # expect: TXL101
        try:
            with conn.cursor() as cur:
                cur.execute("UPDATE wallets SET amount = amount - %s WHERE id = %s", (amount, src))
                cur.execute("UPDATE wallets SET amount = amount + %s WHERE id = %s", (amount, dst))
        except Exception:
            conn.rollback()
            raise
    """),
    ex("""
    import mysql.connector


    def add_order(cnx: mysql.connector.MySQLConnection, order):
        cnx.start_transaction()  # expect: TXL101
        try:
            cur = cnx.cursor()
            cur.execute("INSERT INTO orders (id) VALUES (%s)", (order.id,))
            if order.draft:
                return
            cnx.commit()
        except Exception:
            cnx.rollback()
            raise
    """),
    ex("""
    from django.db import transaction


    def import_users(rows):
        transaction.set_autocommit(False)  # expect: TXL101
        try:
            for row in rows:
                if row is None:
                    break
                row.save()
        except Exception:
            transaction.rollback()
            transaction.set_autocommit(True)
            raise
    """),
    ex("""
    import aiomysql


    async def tag(conn: aiomysql.Connection, msg_id, tag):
        await conn.begin()  # expect: TXL101
        try:
            async with conn.cursor() as cur:
                await cur.execute("INSERT INTO tags VALUES (%s, %s)", (msg_id, tag))
        except Exception:
            await conn.rollback()
            raise
        if tag == "draft":
            return
        await conn.commit()
    """),
    ex("""
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()


    def like(post):
        db.session.begin()  # expect: TXL101
        try:
            post.likes += 1
            if post.likes > 1000:
                return
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    """),
    ex("""
    import oracledb


    def raise_salary(conn: oracledb.Connection, emp_id):
        conn.begin()  # expect: TXL101
        try:
            with conn.cursor() as cur:
                cur.execute("UPDATE employees SET salary = salary * 1.1 WHERE id = :i", i=emp_id)
        except oracledb.Error:
            conn.rollback()
            raise
        except Exception:
            conn.rollback()
            raise
    """),
    ex("""
    from sqlalchemy.orm import Session


    def sync(session: Session, items):
        for item in items:
            session.begin()  # expect: TXL101
            try:
                session.merge(item)
            except Exception:
                session.rollback()
                raise
            if item.last:
                break
            session.commit()
    """),
    ex("""
    import psycopg2


    def lock_and_check(conn: psycopg2.extensions.connection, table):
        cur = conn.cursor()
        try:
            cur.execute("BEGIN")  # expect: TXL102
            cur.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            cur.execute("COMMIT")
        finally:
            cur.close()
    """),
    ex("""
    from sqlalchemy.ext.asyncio import AsyncSession


    async def mark(session: AsyncSession, ids):
        await session.begin()  # expect: TXL101, TXL102
        for i in ids:
            obj = await session.get(Item, i)
            if obj is None:
                return False
            obj.marked = True
        await session.commit()
        return True
    """),
    # closing the connection does not end the transaction (contract §4): it is rolled back
    # silently, and the exceptional path never reaches commit() or rollback()
    ex("""
    import oracledb


    def adjust(dsn, emp_id, pct):
        conn = oracledb.connect(dsn=dsn)
        try:
            conn.begin()  # expect: TXL102
            with conn.cursor() as cur:
                cur.execute("UPDATE employees SET salary = salary * :p WHERE id = :i", p=pct, i=emp_id)
            conn.commit()
        finally:
            conn.close()
    """),
    ex("""
    import sqlite3


    def batch(path, rows):
        conn = sqlite3.connect(path)
        try:
            conn.execute("BEGIN")  # expect: TXL102
            conn.executemany("INSERT INTO t VALUES (?)", rows)
            conn.execute("COMMIT")
        finally:
            conn.close()
    """),
    ex("""
    from sqlalchemy import create_engine

    engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


    def settle(batch):
        conn = engine.connect()
        tx = conn.begin()  # expect: TXL101
        if not batch:
            conn.close()
            return
        try:
            conn.exec_driver_sql("UPDATE ledger SET settled = true")
            tx.commit()
        except Exception:
            tx.rollback()
            raise
        finally:
            conn.close()
    """),
]

_CLEAN = [
    ex("""
    from sqlalchemy.orm import Session


    def rename(session: Session, user_id, name):
        with session.begin():
            user = session.get(User, user_id)
            if user is None:
                return False
            user.name = name
        return True
    """),
    ex("""
    from sqlalchemy.orm import Session


    def move(session: Session, src, dst, qty):
        session.begin()
        try:
            session.execute(UPDATE_SRC, {"q": qty, "s": src})
            session.execute(UPDATE_DST, {"q": qty, "s": dst})
        except Exception:
            session.rollback()
            raise
        else:
            session.commit()
    """),
    ex("""
    from sqlalchemy.engine import Connection
    from sqlalchemy import text


    def move_stock(conn: Connection, src, dst, qty):
        trans = conn.begin()
        try:
            conn.execute(text("UPDATE items SET qty = qty - :q WHERE sku = :s"), {"q": qty, "s": src})
            conn.execute(text("UPDATE items SET qty = qty + :q WHERE sku = :s"), {"q": qty, "s": dst})
            trans.commit()
        except BaseException:
            trans.rollback()
            raise
    """),
    ex("""
    from sqlalchemy import create_engine, text

    engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


    def rebuild():
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE stats"))
            conn.execute(text("INSERT INTO stats SELECT * FROM stats_view"))
    """),
    ex("""
    from sqlalchemy import create_engine, text

    engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)


    def rebuild():
        with engine.connect() as conn:
            with conn.begin():
                conn.execute(text("TRUNCATE stats"))
    """),
    ex("""
    from sqlalchemy.orm import Session


    def try_insert(session: Session, obj):
        try:
            with session.begin_nested():
                session.add(obj)
        except IntegrityError:
            return False
        return True
    """),
    ex("""
    from sqlalchemy.orm import Session


    def guarded(session: Session, obj):
        session.begin()
        try:
            session.add(obj)
            session.commit()
        finally:
            if session.in_transaction():
                session.rollback()
    """),
    ex("""
    from sqlalchemy.ext.asyncio import AsyncSession


    async def pay(session: AsyncSession, order):
        async with session.begin():
            order.paid = True
    """),
    ex("""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy import text

    engine = create_async_engine("postgresql+asyncpg://app@db/app", pool_pre_ping=True)


    async def purge():
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM drafts"))
    """),
    ex("""
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()


    def transfer(src, dst, amount):
        with db.session.begin_nested():
            src.balance -= amount
            dst.balance += amount
        db.session.commit()
    """),
    ex("""
    import asyncpg


    async def rename_stream(conn: asyncpg.Connection, old, new):
        async with conn.transaction():
            await conn.execute("UPDATE events SET stream = $2 WHERE stream = $1", old, new)
    """),
    ex("""
    import asyncpg


    async def rename_stream(conn: asyncpg.Connection, old, new):
        tr = conn.transaction()
        await tr.start()
        try:
            await conn.execute("UPDATE events SET stream = $2 WHERE stream = $1", old, new)
        except:
            await tr.rollback()
            raise
        else:
            await tr.commit()
    """),
    ex("""
    import sqlite3


    def swap(conn: sqlite3.Connection, a, b):
        conn.execute("BEGIN")
        try:
            conn.execute("UPDATE slots SET pos = ? WHERE pos = ?", (a, b))
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
    """),
    ex("""
    import sqlite3


    def swap(conn: sqlite3.Connection, a, b):
        with conn:
            conn.execute("UPDATE slots SET pos = ? WHERE pos = ?", (a, b))
    """),
    ex("""
    import pymysql


    def credit(conn: pymysql.connections.Connection, user_id, amount):
        conn.begin()
        try:
            with conn.cursor() as cur:
                cur.execute("UPDATE wallets SET amount = amount + %s WHERE user_id = %s", (amount, user_id))
            conn.commit()
        except Exception:
            conn.rollback()
            raise
    """),
    ex("""
    import mysql.connector


    def add_order(cnx: mysql.connector.MySQLConnection, order):
        cnx.start_transaction()
        try:
            cur = cnx.cursor()
            cur.execute("INSERT INTO orders (id, total) VALUES (%s, %s)", (order.id, order.total))
            cnx.commit()
        except mysql.connector.Error:
            cnx.rollback()
            raise
        except Exception:
            cnx.rollback()
            raise
    """),
    ex("""
    import aiomysql


    async def rename_room(conn: aiomysql.Connection, old, new):
        await conn.begin()
        try:
            async with conn.cursor() as cur:
                await cur.execute("UPDATE rooms SET name = %s WHERE name = %s", (new, old))
        except Exception:
            await conn.rollback()
            raise
        await conn.commit()
    """),
    ex("""
    from django.db import transaction


    def bulk_update(rows):
        transaction.set_autocommit(False)
        try:
            for row in rows:
                row.save()
        except Exception:
            transaction.rollback()
            raise
        else:
            transaction.commit()
        finally:
            transaction.set_autocommit(True)
    """),
    ex("""
    from django.db import transaction


    def close_period(period):
        with transaction.atomic():
            period.closed = True
            period.save()
    """),
    ex("""
    from peewee import SqliteDatabase

    db = SqliteDatabase("app.db")


    def move_note(note, folder):
        with db.atomic():
            note.folder = folder
            note.save()
    """),
    ex("""
    from sqlalchemy.orm import Session


    def apply_all(session: Session, batches):
        for batch in batches:
            with session.begin():
                for item in batch:
                    session.merge(item)
    """),
    ex("""
    from sqlalchemy.orm import Session


    def start(session: Session):
        # hands the open transaction to the caller
        tx = session.begin()
        return tx
    """),
    ex("""
    import psycopg


    def requeue(conn: psycopg.Connection, job_id):
        with conn.transaction():
            conn.execute("UPDATE jobs SET state = 'queued' WHERE id = %s", (job_id,))
    """),
    ex("""
    from PyQt5.QtGui import QPainter


    def paint(widget):
        painter = QPainter()
        painter.begin(widget)
        painter.drawLine(0, 0, 10, 10)
    """),
    ex("""
    import pygame


    def draw(turtle, buffer):
        turtle.begin_fill()
        buffer.begin_user_action()
        turtle.circle(10)
    """),
    ex("""
    def run(conn):
        # an unknown object: not tracked
        conn.begin()
        conn.execute("UPDATE t SET x = 1")
    """),
    ex("""
    from sqlalchemy.orm import Session


    def maybe(session: Session, obj):
        session.begin()
        try:
            session.add(obj)
        except Exception:
            session.rollback()
            return False
        session.commit()
        return True
    """),
    ex("""
    from sqlalchemy.orm import sessionmaker

    Session = sessionmaker()


    def nightly():
        with Session.begin() as session:
            session.execute(CLEANUP)
    """),
]


@register
class TransactionNotEnded(Rule):
    code = "TXL101"
    tree = "candidates"  # dataflow runs on the gate's candidate functions only
    name = "transaction-not-ended"
    summary = "An explicit transaction can leave the function on a normal path without commit() or rollback()"
    needs = frozenset({"names", "cfg"})
    fixable = True
    doc = """
## What it does
Follows every explicit transaction a function begins (SQLAlchemy `begin()` / `begin_nested()` on a
session or connection, asyncpg `transaction().start()`, `execute("BEGIN")`, PyMySQL/MySQLdb
`begin()`, mysql.connector `start_transaction()`, Django `transaction.set_autocommit(False)`) and
reports it when some normal way out of the function (a `return`, falling off the end, a `break`)
leaves it neither committed nor rolled back.

## Why is this bad
An open transaction keeps its locks and its snapshot. The connection goes back to the pool (or
stays in the session) "idle in transaction": other writers wait on its row locks, vacuum cannot
clean up, and the next user of the connection silently continues inside the old transaction.

## Example
```python
def rename(session, user_id, name):
    session.begin()
    user = session.get(User, user_id)
    if user is None:
        return False
    user.name = name
    session.commit()
    return True
```

## Use instead
```python
def rename(session, user_id, name):
    with session.begin():
        user = session.get(User, user_id)
        if user is None:
            return False
        user.name = name
    return True
```
"""
    VALID = _CLEAN + [e for e in _CASES if not marked(e, "TXL101")]
    INVALID = [e for e in _CASES if marked(e, "TXL101")]

    @classmethod
    def gate(cls, gate) -> bool:
        return path_rules_gate(gate)

    def check(self, ctx) -> None:
        _report(ctx, self.code)


@register
class TransactionNotEndedOnException(Rule):
    code = "TXL102"
    tree = "candidates"  # dataflow runs on the gate's candidate functions only
    name = "transaction-not-ended-on-exception"
    summary = "An explicit transaction is left open when an exception propagates between its begin and its end"
    needs = frozenset({"names", "cfg"})
    fixable = True
    doc = """
## What it does
Reports an explicit transaction when an exception raised after the `begin()` (by a query, a call,
an `await`) can propagate out of the function before the transaction is committed or rolled back:
there is no `rollback()` in an `except` or `finally` block and no `with` block managing it.

## Why is this bad
The failing statement is exactly the moment the transaction must be rolled back. Left open, the
connection keeps the transaction's locks and returns to the pool in an aborted state
(`current transaction is aborted, commands ignored until end of transaction block`), so the next
request that gets it fails too.

## Example
```python
async def transfer(conn, src, dst, amount):
    tr = conn.transaction()
    await tr.start()
    await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, src)
    await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, dst)
    await tr.commit()
```

## Use instead
```python
async def transfer(conn, src, dst, amount):
    async with conn.transaction():
        await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, src)
        await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, dst)
```
"""
    VALID = _CLEAN + [e for e in _CASES if not marked(e, "TXL102")]
    INVALID = [e for e in _CASES if marked(e, "TXL102")]

    @classmethod
    def gate(cls, gate) -> bool:
        return path_rules_gate(gate)

    def check(self, ctx) -> None:
        _report(ctx, self.code)
