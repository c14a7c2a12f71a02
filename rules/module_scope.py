"""Import-time rules: TXL401 module-level-connection and TXL404 redis-client-without-health-check
(module scope and class bodies).

"Import time" is the code a module runs when it is imported: its top level, including ``try``,
``if``, ``with`` and loop blocks there (but not ``if __name__ == "__main__":``), class bodies, and the
default values and decorators of functions (and lambdas) defined there.  Function and lambda bodies
are not.
"""

from __future__ import annotations

from dataclasses import dataclass

from txlint.lazylib import libcst as cst

from txlint.walk import children

from txlint.context import FileContext, Fix
from txlint.messages import first_fit
from txlint.summaries import project_call_is_new
from txlint.gate import import_time_gate, redis_gate
from txlint.registry import Rule, ex, register
from txlint.resources import (
    CONNECTION,
    CURSOR,
    EXIT_CLOSE,
    HOLDING_METHODS,
    OWNERSHIP_TAKERS,
    REDIS_HEALTH_KEYWORD,
    SESSION,
    Kind,
)
from .engine_config import is_unknown, literal_value, read_keywords, with_keyword

REDIS_KINDS = frozenset({"redis.client", "redis.pool"})
REDIS_HEALTH_DEFAULT = 30


@dataclass
class ImportTimeCall:
    call: cst.Call
    where: str                        # "at module scope", "in the body of class `X`", ...
    local: dict[str, str] | None      # class-body names -> refs
    target: str | None = None         # `name = call(...)`: the name bound
    with_item: bool = False           # the call is the context manager of a `with` item
    owned: bool = False               # passed straight to an ownership taker used as a `with` item


def _is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


def _calls_in(node: cst.CSTNode | None) -> list[cst.Call]:
    """Calls evaluated when an expression is evaluated (lambda bodies are not; their parameter
    defaults are, when the lambda is made)."""
    if node is None:
        return []
    calls: list[cst.Call] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Lambda):
            params = current.params
            stack.extend(p.default for p in (*params.posonly_params, *params.params, *params.kwonly_params)
                         if p.default is not None)
            continue
        if isinstance(current, cst.Call):
            calls.append(current)
        kids = list(children(current))
        kids.reverse()
        stack.extend(kids)
    # keep source order (pre-order) as the visitor gave it
    return calls


def import_time_calls(ctx: FileContext) -> list[ImportTimeCall]:
    """Every call run when the module is imported, with where it runs (memoised per file)."""
    return ctx.fact("module_scope.import_time_calls", _collect)


def _collect(ctx: FileContext) -> list[ImportTimeCall]:
    out: list[ImportTimeCall] = []

    def add(node: cst.CSTNode | None, where: str, local, target: str | None = None) -> None:
        calls = _calls_in(node)
        for call in calls:
            out.append(ImportTimeCall(call, where, local, target if call is node else None))

    def simple(stmt: cst.BaseSmallStatement, where: str, local) -> None:
        if isinstance(stmt, cst.Assign):
            target = None
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Name):
                target = stmt.targets[0].target.value
            for t in stmt.targets:
                add(t.target, where, local)
            add(stmt.value, where, local, target)
            if local is not None and target and isinstance(stmt.value, (cst.Call, cst.Name, cst.Attribute)):
                ref = ctx.resolver.ref(stmt.value, local)
                if ref:
                    local[target] = ref
        elif isinstance(stmt, cst.AnnAssign):
            target = stmt.target.value if isinstance(stmt.target, cst.Name) else None
            add(stmt.value, where, local, target)
            if local is not None and target and isinstance(stmt.value, (cst.Call, cst.Name, cst.Attribute)):
                ref = ctx.resolver.ref(stmt.value, local)
                if ref:
                    local[target] = ref
        elif isinstance(stmt, (cst.Import, cst.ImportFrom, cst.Pass, cst.Global, cst.Nonlocal)):
            return
        else:
            add(stmt, where, local)

    def function(node: cst.FunctionDef, where: str, local) -> None:
        for deco in node.decorators:
            add(deco.decorator, where, local)
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None:
                add(param.default, f"as the default value of parameter `{param.name.value}` of "
                                   f"`{node.name.value}()`", local)
            if param.annotation is not None:
                add(param.annotation.annotation, where, local)

    def block(body, where: str, local) -> None:
        if isinstance(body, cst.SimpleStatementSuite):
            for small in body.body:
                simple(small, where, local)
            return
        if isinstance(body, (cst.IndentedBlock,)):
            body = body.body
        for stmt in body:
            statement(stmt, where, local)

    def statement(stmt: cst.CSTNode, where: str, local) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                simple(small, where, local)
        elif isinstance(stmt, cst.If):
            if _is_main_guard(stmt.test):
                if stmt.orelse is not None:
                    orelse(stmt.orelse, where, local)
                return
            add(stmt.test, where, local)
            block(stmt.body, where, local)
            if stmt.orelse is not None:
                orelse(stmt.orelse, where, local)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            block(stmt.body, where, local)
            for handler in stmt.handlers:
                add(handler.type, where, local)
                block(handler.body, where, local)
            if stmt.orelse is not None:
                block(stmt.orelse.body, where, local)
            if stmt.finalbody is not None:
                block(stmt.finalbody.body, where, local)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                start = len(out)
                add(item.item, where, local)
                for entry in out[start:]:
                    if entry.call is item.item:
                        entry.with_item = True
                if isinstance(item.item, cst.Call):
                    ref = ctx.resolver.ref(item.item.func, local)
                    if ref in OWNERSHIP_TAKERS:
                        for arg in item.item.args:
                            for entry in out[start:]:
                                if entry.call is arg.value:
                                    entry.owned = True
            block(stmt.body, where, local)
        elif isinstance(stmt, cst.For):
            add(stmt.iter, where, local)
            block(stmt.body, where, local)
            if stmt.orelse is not None:
                block(stmt.orelse.body, where, local)
        elif isinstance(stmt, cst.While):
            add(stmt.test, where, local)
            block(stmt.body, where, local)
            if stmt.orelse is not None:
                block(stmt.orelse.body, where, local)
        elif isinstance(stmt, cst.FunctionDef):
            function(stmt, where, local)
        elif isinstance(stmt, cst.ClassDef):
            for deco in stmt.decorators:
                add(deco.decorator, where, local)
            for arg in (*stmt.bases, *stmt.keywords):
                add(arg.value, where, local)
            block(stmt.body, f"in the body of class `{stmt.name.value}`", {})

    def orelse(node, where: str, local) -> None:
        if isinstance(node, cst.If):
            statement(node, where, local)
        else:
            block(node.body, where, local)

    block(ctx.module.body, "at module scope", None)
    return out


def _closed_at_import_time(ctx: FileContext, calls: list[ImportTimeCall], name: str | None, kind: Kind) -> bool:
    """``name.close()`` (or another closer of its kind), or ``pool.putconn(name)`` (a release by its
    pool), also runs at import time."""
    if not name:
        return False
    for entry in calls:
        func = entry.call.func
        if not isinstance(func, cst.Attribute):
            continue
        if isinstance(func.value, cst.Name) and func.value.value == name and func.attr.value in kind.closers:
            return True
        if any(isinstance(arg.value, cst.Name) and arg.value.value == name for arg in entry.call.args):
            owner = ctx.table.kind_of_ref(ctx.resolver.ref(func.value, entry.local))
            if owner is not None and func.attr.value in owner.release_args:
                return True
    return False


def _source(ctx: FileContext, node: cst.Call, limit: int = 60) -> str:
    text = " ".join(ctx.module.code_for_node(node).split())
    if len(text) <= limit:
        return text
    func = " ".join(ctx.module.code_for_node(node.func).split())
    return func + "(...)" if len(func) <= limit else "..." + func[-limit:] + "(...)"


@register
class ModuleLevelConnection(Rule):
    code = "TXL401"
    name = "module-level-connection"
    summary = ("a connection, session or cursor created at import time (module scope, class body, default "
               "argument) and kept for the life of the process")
    doc = """\
## What it does
Flags a database connection, ORM session or cursor that is created when the module is imported and
then kept for as long as the process lives: at module scope (including `try`/`if`/`with` blocks
there), in a class body, or as the default value of a function parameter (evaluated once, when the
`def` runs).

Lazy objects are fine at module scope: a SQLAlchemy engine, a `sessionmaker`, a `scoped_session`
registry, Flask-SQLAlchemy's `db = SQLAlchemy()`, a Redis client or pool and a peewee `Database`
only connect when used (peewee's `db.connect()` at module scope is flagged). Code under
`if __name__ == "__main__":` is a script, not import time. A connection opened by `with` and
closed at the end of the block, or closed later at module scope, is not kept.

## Why is this bad
The connection is opened once, when the web app or worker imports the module, and then sits idle
between requests. The server closes idle connections after its timeout (MySQL `wait_timeout`, 8
hours by default; PgBouncer, firewalls and cloud load balancers often after minutes), and the next
request fails with `MySQL server has gone away` or `server closed the connection unexpectedly`.
One connection is also shared by every thread of the process (DB-API connections and sessions are
not thread-safe) and, under pre-fork servers (gunicorn, uWSGI, Celery prefork), by every child
process, which corrupts the protocol stream. A failed transaction on it poisons every later
request until the process restarts.

## Example
```python
import pymysql

conn = pymysql.connect(host="db.internal", user="app", database="shop")


def get_user(user_id):
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM users WHERE id = %s", (user_id,))
        return cur.fetchone()
```

## Use instead
Keep a lazy pool (or engine) at module scope and take a connection per unit of work:
```python
from sqlalchemy import create_engine, text

engine = create_engine("mysql+pymysql://app@db.internal/shop", pool_pre_ping=True)


def get_user(user_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM users WHERE id = :id"), {"id": user_id}).first()
```
"""

    VALID = [
        ex("""
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker, scoped_session

            engine = create_engine("mysql+pymysql://app@db/app", pool_pre_ping=True)
            SessionLocal = sessionmaker(bind=engine)
            Session = scoped_session(SessionLocal)
        """, note="engines, sessionmakers and scoped_session registries are lazy"),
        ex("""
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy

            app = Flask(__name__)
            db = SQLAlchemy(app)
            session = db.session
        """),
        ex("""
            import redis

            cache = redis.Redis(host="cache", health_check_interval=30)
        """, note="Redis clients are TXL404's business, never TXL401"),
        ex("""
            from peewee import MySQLDatabase

            db = MySQLDatabase("shop", host="db", user="app")
        """),
        ex("""
            import sqlite3

            def main():
                conn = sqlite3.connect("app.db")
                try:
                    conn.execute("VACUUM")
                finally:
                    conn.close()

            if __name__ == "__main__":
                conn = sqlite3.connect("app.db")
                main()
        """, note="a script's main guard is not import time"),
        ex("""
            from django.db.models.signals import post_save
            from django.dispatch import receiver
            from shop.models import Order

            def notify(sender, instance, **kwargs):
                pass

            post_save.connect(notify, sender=Order)
        """, note="a Django signal's connect()"),
        ex("""
            from blinker import signal

            order_placed = signal("order-placed")
            order_placed.connect(lambda sender: None)
        """),
        ex("""
            import pyttsx3

            engine = pyttsx3.init()
            engine.connect("finished-utterance", lambda name, completed: None)
        """, note="a text-to-speech engine"),
        ex("""
            import requests

            session = requests.Session()
            session.headers["User-Agent"] = "shop/1.0"
        """, note="an HTTP session"),
        ex("""
            import socket

            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.connect(("metrics.internal", 2003))
        """),
        ex("""
            from PyQt5.QtWidgets import QApplication, QPushButton

            app = QApplication([])
            button = QPushButton("Save")
            button.clicked.connect(app.quit)
        """),
        ex("""
            import sqlite3
            from contextlib import closing

            with closing(sqlite3.connect("schema.db")) as conn:
                SCHEMA_VERSION = conn.execute("PRAGMA user_version").fetchone()[0]
        """, note="closed at the end of the block"),
        ex("""
            import sqlalchemy as sa

            engine = sa.create_engine("postgresql://app@db/app", pool_pre_ping=True)
            with engine.connect() as conn:
                TABLES = sa.inspect(conn).get_table_names()
        """),
        ex("""
            import psycopg2

            conn = psycopg2.connect("dbname=app")
            try:
                SERVER_VERSION = conn.server_version
            finally:
                conn.close()
        """, note="closed again at import time"),
        ex("""
            from fastapi import Depends, FastAPI
            from sqlalchemy.orm import Session

            from app.db import get_db

            app = FastAPI()

            @app.get("/items")
            def list_items(db: Session = Depends(get_db)):
                return db.execute("SELECT 1").all()
        """, note="FastAPI dependency defaults are not sessions"),
        ex("""
            import psycopg2

            class Repository:
                def __init__(self, dsn):
                    self.conn = psycopg2.connect(dsn)

                def close(self):
                    self.conn.close()
        """, note="created per instance, not at import time"),
        ex("""
            from celery import Celery

            app = Celery("tasks", broker="redis://cache:6379/0")
        """),
        ex(files={
            "shop/__init__.py": "",
            "shop/settings.py": """
                import os
                import sqlalchemy as sa

                engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
            """,
            "shop/reports.py": """
                from sqlalchemy import text
                from shop.settings import engine

                def daily_totals():
                    with engine.connect() as conn:
                        return conn.execute(text("SELECT sum(total) FROM orders")).scalar()
            """,
        }, check="shop/reports.py", note="engine imported from settings, connections per call"),
    ]

    INVALID = [
        ex("""
            import pymysql

            conn = pymysql.connect(host="db.internal", user="app", database="shop")  # expect: TXL401

            def get_user(user_id):
                with conn.cursor() as cur:
                    cur.execute("SELECT * FROM users WHERE id = %s", (user_id,))
                    return cur.fetchone()
        """),
        ex("""
            import psycopg2

            conn = psycopg2.connect(host="db", dbname="app")  # expect: TXL401
            cur = conn.cursor()  # expect: TXL401
        """),
        ex("""
            import MySQLdb

            try:
                db = MySQLdb.connect(host="db", user="app", passwd="secret", db="app")  # expect: TXL401
            except MySQLdb.OperationalError:
                db = None
        """, note="try blocks at module scope are module scope"),
        ex("""
            import os
            import psycopg2

            if os.environ.get("USE_DB"):
                conn = psycopg2.connect(os.environ["DATABASE_URL"])  # expect: TXL401
        """),
        ex("""
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_engine("mysql+pymysql://app@db/app", pool_pre_ping=True)
            SessionLocal = sessionmaker(bind=engine)
            session = SessionLocal()  # expect: TXL401
        """, note="a session made at import time and used by every request"),
        ex("""
            import sqlalchemy as sa

            engine = sa.create_engine("postgresql://app@db/app", pool_recycle=1800)
            connection = engine.connect()  # expect: TXL401
        """),
        ex("""
            from peewee import MySQLDatabase

            db = MySQLDatabase("shop", host="db", user="app")
            db.connect()  # expect: TXL401
        """, note="peewee's Database is lazy, connect() is not"),
        ex("""
            import psycopg2

            class UserRepository:
                conn = psycopg2.connect("dbname=app")  # expect: TXL401

                def get(self, user_id):
                    with self.conn.cursor() as cur:
                        cur.execute("SELECT * FROM users WHERE id = %s", (user_id,))
                        return cur.fetchone()
        """, note="a class body runs at import time"),
        ex("""
            import sqlite3

            def load_settings(conn=sqlite3.connect("settings.db")):  # expect: TXL401
                return dict(conn.execute("SELECT key, value FROM settings"))
        """, note="a default value is evaluated once, when the def runs"),
        ex("""
            from django.db import connection

            cursor = connection.cursor()  # expect: TXL401
        """),
        ex("""
            import mysql.connector

            cnx = mysql.connector.connect(user="app", host="db", database="shop")  # expect: TXL401
            cursor = cnx.cursor(dictionary=True)  # expect: TXL401
        """),
        ex("""
            import asyncio
            import asyncpg

            loop = asyncio.get_event_loop()
            conn = loop.run_until_complete(asyncpg.connect("postgresql://app@db/app"))  # expect: TXL401
        """),
        ex("""
            from psycopg2.pool import ThreadedConnectionPool

            pool = ThreadedConnectionPool(1, 10, dsn="dbname=app")
            conn = pool.getconn()  # expect: TXL401
        """, note="the pool is lazy, a connection taken from it at import time is not"),
        ex("""
            import oracledb

            class Config:
                DEBUG = False

            class Reports:
                connection = oracledb.connect(user="rep", dsn="orahost/orcl")  # expect: TXL401
                cursor = connection.cursor()  # expect: TXL401
        """),
        ex("""
            import pyodbc
            from sqlalchemy.orm import Session
            from sqlalchemy import create_engine

            engine = create_engine("mssql+pyodbc://app@dsn", pool_pre_ping=True)

            def handler(event, session=Session(engine)):  # expect: TXL401
                return session.execute("SELECT 1")
        """),
        ex("""
            import sqlite3

            with sqlite3.connect("app.db") as conn:  # expect: TXL401
                conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY)")
        """, note="`with sqlite3.connect()` commits but does not close"),
        ex(files={
            "app/__init__.py": "",
            "app/db.py": """
                from sqlalchemy import create_engine
                from sqlalchemy.orm import sessionmaker

                engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)
                SessionLocal = sessionmaker(bind=engine)
            """,
            "app/models.py": """
                from app.db import SessionLocal

                session = SessionLocal()  # expect: TXL401
            """,
        }, check="app/models.py", note="session factory imported from a project module"),
        ex(files={
            "shop/__init__.py": "",
            "shop/settings.py": """
                import os
                import sqlalchemy as sa

                engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
            """,
            "shop/reports.py": """
                from shop.settings import engine

                report_conn = engine.connect()  # expect: TXL401
                raw = engine.raw_connection()  # expect: TXL401
            """,
        }, check="shop/reports.py", note="engine imported from a settings module"),
    ]

    @classmethod
    def gate(cls, gate) -> bool:
        return import_time_gate(gate)

    def check(self, ctx: FileContext) -> None:
        calls = import_time_calls(ctx)
        table = ctx.table
        for entry in calls:
            if entry.owned:
                continue
            call = entry.call
            ref = ctx.resolver.ref(call, entry.local)
            kind = table.kind_of_ref(ref)
            if kind is not None and project_call_is_new(ctx, ctx.resolver.ref(call.func, entry.local)) is False:
                kind = None  # a project function returning a connection someone else owns (§13)
            holder = None
            if kind is None or kind.lazy or kind.category not in (CONNECTION, SESSION, CURSOR) \
                    or not (kind.resource or kind.server_side):
                kind = None
                if isinstance(call.func, cst.Attribute):
                    owner = table.kind_of_ref(ctx.resolver.ref(call.func.value, entry.local))
                    if owner is not None and call.func.attr.value in HOLDING_METHODS.get(owner.name, ()):
                        kind, holder = owner, call.func.value
            if kind is None:
                continue
            if holder is None and isinstance(call.func, cst.Attribute):
                # `session.connection()` borrows the connection of a session that is reported itself
                owner = table.kind_of_ref(ctx.resolver.ref(call.func.value, entry.local))
                if owner is not None and not owner.lazy and call.func.attr.value in owner.borrowed:
                    continue
            if entry.with_item and kind.with_exit == EXIT_CLOSE:
                continue
            name = entry.target
            if holder is not None and isinstance(holder, cst.Name):
                name = holder.value
            if _closed_at_import_time(ctx, calls, name, kind):
                continue
            label = kind.label if holder is None else f"{kind.label} connection"
            verb = "opened" if kind.category == CONNECTION or holder is not None else "created"
            message = first_fit(
                f"{label} `{_source(ctx, call, 40)}` is {verb} {entry.where} and kept for the life of the process",
                f"{label} is {verb} {entry.where} and kept for the life of the process",
                f"{label} is {verb} at import time and kept for the life of the process",
            )
            ctx.report(self.code, call, message)


# ---------------------------------------------------------------- TXL404
def redis_call_finding(ctx: FileContext, call: cst.Call, local=None):
    """(kind, fix or None) when this call makes a Redis client or pool without a health check;
    None when it is fine or not a Redis factory."""
    ref = ctx.resolver.ref(call.func, local)
    kind_name = ctx.table.factories.get(ref or "")
    if kind_name not in REDIS_KINDS:
        return None
    kws = read_keywords(ctx, call, REDIS_HEALTH_KEYWORD)
    if kws.opaque:
        return None
    if "connection_pool" in kws.values:
        return None  # judged by the pool it is built on
    value = kws.values.get(REDIS_HEALTH_KEYWORD)
    if value is not None:
        literal = literal_value(value)
        if is_unknown(literal) or literal not in (0, None, False):
            return None
    if ref and ref.endswith("from_url"):
        url = None
        for i, arg in enumerate(call.args):
            if (arg.keyword is None and not arg.star and i == 0) or (arg.keyword and arg.keyword.value == "url"):
                url = literal_value(arg.value)
        if isinstance(url, str) and REDIS_HEALTH_KEYWORD + "=" in url:
            return None
    fix = None
    direct = any(a.keyword is not None and a.keyword.value == REDIS_HEALTH_KEYWORD for a in call.args)
    if kws.fix_safe or direct:
        fix = Fix(old=call, new=with_keyword(call, REDIS_HEALTH_KEYWORD, cst.Integer(str(REDIS_HEALTH_DEFAULT))))
    return ctx.table.kinds[kind_name], fix, value is not None


def redis_message(label: str, source: str, where: str, disabled: bool) -> str:
    what = "with `health_check_interval=0`" if disabled else "without `health_check_interval`"
    return first_fit(
        f"{label} `{source}` is created {where} {what}",
        f"{label} is created {where} {what}",
        f"{label} is created at import time {what}",
    )


@register
class RedisClientWithoutHealthCheck(Rule):
    code = "TXL404"
    name = "redis-client-without-health-check"
    summary = ("a long-lived Redis client or pool created without `health_check_interval`")
    fixable = True
    doc = """\
## What it does
Flags a Redis client or connection pool that lives for the whole process — created at module scope
(including `try`/`if` blocks), in a class body or as a default argument — without
`health_check_interval`: `redis.Redis(...)`, `StrictRedis`, `ConnectionPool`,
`BlockingConnectionPool`, `from_url(...)` (module function and class methods), `RedisCluster`
(redis-py and redis-py-cluster) and their `redis.asyncio` versions.

A client built on an explicit `connection_pool=` is judged by that pool, not reported itself; a
`from_url` URL with `?health_check_interval=...` counts. Celery broker and result-backend URLs are
not Redis clients (kombu runs its own health checks).

## Why is this bad
Redis closes client connections that stay idle longer than its `timeout` setting, and proxies,
NAT gateways and cloud load balancers (ElastiCache, Azure Cache) drop idle TCP connections too.
redis-py does not notice until it writes a command on the dead socket: the command fails with
`ConnectionError: Connection closed by server` or `Error 32 Broken pipe`, sockets the server
closed sit in `CLOSE_WAIT` on the client, pub/sub listeners spin in `epoll_wait` on a dead
connection, and cluster clients run into MOVED/reinitialise storms.

## Example
```python
import redis

cache = redis.Redis(host="cache.internal", port=6379, db=0)
```

## Use instead
```python
import redis

cache = redis.Redis(host="cache.internal", port=6379, db=0, health_check_interval=30)
```
With `health_check_interval=30` the client sends a `PING` before using a connection that has been
idle for more than 30 seconds and reconnects transparently. The fix (`--fix`) adds it.
"""

    VALID = [
        ex("""
            import redis

            cache = redis.Redis(host="cache.internal", port=6379, db=0, health_check_interval=30)
        """),
        ex("""
            import redis

            pool = redis.ConnectionPool(host="cache", max_connections=50, health_check_interval=15)
            cache = redis.Redis(connection_pool=pool)
        """, note="the client is judged by its pool"),
        ex("""
            from redis import Redis as R

            store = R.from_url("redis://cache:6379/0?health_check_interval=30")
        """, note="the URL sets the health check"),
        ex("""
            from celery import Celery

            app = Celery("tasks", broker="redis://cache:6379/0", backend="redis://cache:6379/1")
            app.conf.broker_transport_options = {"visibility_timeout": 3600}
        """, note="kombu does its own health checks"),
        ex("""
            import redis

            def get_client():
                return redis.Redis(host="cache")
        """, note="created per call: not module scope"),
        ex("""
            import redis

            if __name__ == "__main__":
                r = redis.Redis()
                print(r.ping())
        """),
        ex("""
            CACHES = {
                "default": {
                    "BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": "redis://cache:6379/1",
                }
            }
        """, note="Django settings: a URL, not a client"),
        ex("""
            import redis.asyncio as aioredis

            redis_client = aioredis.from_url("redis://cache", decode_responses=True, health_check_interval=10)
        """),
        ex("""
            import os
            import redis

            REDIS_OPTIONS = {"host": os.environ["REDIS_HOST"], "health_check_interval": 30}
            cache = redis.Redis(**REDIS_OPTIONS)
        """),
        ex("""
            import redis

            def make(**options):
                return redis.Redis(**options)

            cache = redis.Redis(**make.__kwdefaults__ or {})
        """, note="options we cannot see"),
        ex("""
            from rediscluster import RedisCluster

            startup_nodes = [{"host": "10.0.0.1", "port": "7000"}]
            rc = RedisCluster(startup_nodes=startup_nodes, decode_responses=True, health_check_interval=30)
        """),
        ex("""
            import memcache

            cache = memcache.Client(["127.0.0.1:11211"])
        """, note="not Redis"),
        ex("""
            from redis import Redis
            from rq import Queue

            queue = Queue(connection=Redis(host="cache", health_check_interval=30))
        """),
        ex("""
            from flask_redis import FlaskRedis

            redis_store = FlaskRedis()
        """, note="an extension that is configured later"),
        ex("""
            import redis

            class Cache:
                def __init__(self):
                    self.client = redis.Redis(host="cache")
        """, note="per instance, not import time"),
        ex("""
            import redis

            class Subscriber:
                def setup(self, url):
                    self._redis = redis.Redis.from_url(url, health_check_interval=30)
                    self._pubsub = self._redis.pubsub()
                    self._pubsub.subscribe("events")

                def run(self):
                    for message in self._pubsub.listen():
                        print(message)
        """, note="a client on self with a health check, listened to by another method"),
        ex("""
            import redis

            class Worker:
                def __init__(self):
                    self.pool = redis.ConnectionPool(host="cache", health_check_interval=25)

                def connect(self):
                    self.client = redis.Redis(connection_pool=self.pool)

                def run(self):
                    self.connect()
                    while True:
                        print(self.client.brpop("jobs", timeout=0))
        """, note="a client on a checked pool is judged by that pool"),
    ]

    INVALID = [
        ex("""
            import redis

            cache = redis.Redis(host="cache.internal", port=6379, db=0)  # expect: TXL404
        """),
        ex("""
            import redis

            r = redis.StrictRedis(host="localhost", port=6379, decode_responses=True)  # expect: TXL404
        """),
        ex("""
            from redis import Redis as R

            store = R(host="cache")  # expect: TXL404
        """),
        ex("""
            import os
            import redis

            client = redis.from_url(os.environ["REDIS_URL"])  # expect: TXL404
        """),
        ex("""
            from redis import Redis

            client = Redis.from_url("redis://cache:6379/0")  # expect: TXL404
        """),
        ex("""
            import redis

            pool = redis.ConnectionPool(host="cache", port=6379, db=0)  # expect: TXL404
            cache = redis.Redis(connection_pool=pool)
        """, note="reported at the pool, not the client built on it"),
        ex("""
            import redis

            pool = redis.BlockingConnectionPool(host="cache", max_connections=20, timeout=5)  # expect: TXL404
        """),
        ex("""
            import redis

            pool = redis.ConnectionPool.from_url("redis://cache:6379/2")  # expect: TXL404
        """),
        ex("""
            from redis.cluster import RedisCluster

            rc = RedisCluster(host="cluster.internal", port=7000)  # expect: TXL404
        """),
        ex("""
            from rediscluster import RedisCluster

            startup_nodes = [{"host": "10.0.0.1", "port": "7000"}]
            rc = RedisCluster(startup_nodes=startup_nodes, decode_responses=True)  # expect: TXL404
        """, note="redis-py-cluster"),
        ex("""
            import redis.asyncio as aioredis

            redis_client = aioredis.from_url("redis://cache", decode_responses=True)  # expect: TXL404
        """),
        ex("""
            from redis import asyncio as aioredis

            pool = aioredis.ConnectionPool(host="cache")  # expect: TXL404
        """),
        ex("""
            import redis

            class RateLimiter:
                client = redis.Redis(host="cache", db=3)  # expect: TXL404

                def hit(self, key):
                    return self.client.incr(key)
        """),
        ex("""
            from redis import Redis
            from rq import Queue

            queue = Queue(connection=Redis(host="cache"))  # expect: TXL404
        """),
        ex("""
            import redis

            try:
                cache = redis.Redis(host="cache", socket_timeout=2)  # expect: TXL404
            except ImportError:
                cache = None
        """),
        ex("""
            import redis

            REDIS_OPTIONS = {"host": "cache", "port": 6379}
            cache = redis.Redis(**REDIS_OPTIONS)  # expect: TXL404
        """),
        ex("""
            import redis

            cache = redis.Redis(host="cache", health_check_interval=0)  # expect: TXL404
        """, note="0 disables the check"),
        ex("""
            import redis

            def rate_limited(key, client=redis.Redis(host="cache")):  # expect: TXL404
                return client.incr(key) > 100
        """),
        ex("""
            import redis

            class Subscriber:
                def setup(self, url):
                    self._redis = redis.Redis.from_url(url)  # expect: TXL404
                    self._pubsub = self._redis.pubsub()
                    self._pubsub.subscribe("events")

                def run(self):
                    for message in self._pubsub.listen():
                        print(message)
        """, note="stored on self by setup(), listened to by run(): reported where the client is created"),
        ex("""
            import redis

            class Worker:
                def __init__(self):
                    self.pool = redis.ConnectionPool(host="cache")  # expect: TXL404

                def connect(self):
                    self.client = redis.Redis(connection_pool=self.pool)

                def run(self):
                    self.connect()
                    while True:
                        print(self.client.brpop("jobs", timeout=0))
        """, note="a client built on connection_pool= is judged by its pool"),
    ]

    @classmethod
    def gate(cls, gate) -> bool:
        return redis_gate(gate)

    def check(self, ctx: FileContext) -> None:
        for entry in import_time_calls(ctx):
            found = redis_call_finding(ctx, entry.call, entry.local)
            if found is None:
                continue
            kind, fix, disabled = found
            message = redis_message(kind.label, _source(ctx, entry.call, 40), entry.where, disabled)
            ctx.report(self.code, entry.call, message, fix=fix)
        # clients made in a function and held across a waiting loop: rules/wait_loops.py (idempotent,
        # also run by TXL403, so that `--select TXL404` alone finds them too)
        try:
            from .wait_loops import report_redis_wait_loops
        except ImportError:  # pragma: no cover - that module is absent
            return
        report_redis_wait_loops(ctx)
