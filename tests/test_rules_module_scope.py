"""Extra unit tests for TXL401, TXL402 and TXL404 beyond the rules' own examples."""

from __future__ import annotations

import textwrap

import pytest

from txlint.testing import analyze_project


def findings(source: str, code: str, files: dict[str, str] | None = None, check: str = "app.py"):
    project = {k: textwrap.dedent(v).lstrip("\n") for k, v in (files or {}).items()}
    project[check] = textwrap.dedent(source).lstrip("\n")
    result = analyze_project(project, check, codes={code})
    return [d for d in result.diagnostics if d.code == code]


def lines(source: str, code: str, **kw) -> list[int]:
    return sorted(d.line for d in findings(source, code, **kw))


# ---------------------------------------------------------------- TXL401: what import time is
def test_main_guard_either_way_round_and_its_else_branch():
    assert lines('''
        import sqlite3

        if "__main__" == __name__:
            conn = sqlite3.connect("script.db")
        else:
            conn = sqlite3.connect("imported.db")
    ''', "TXL401") == [6]


def test_function_bodies_lambdas_and_classes_inside_functions_are_not_import_time():
    assert lines('''
        import sqlite3

        get = lambda: sqlite3.connect("a.db")

        def outer():
            def inner(conn=sqlite3.connect("b.db")):
                return conn

            class Local:
                conn = sqlite3.connect("c.db")

            return inner, Local

        def lazy_init():
            global CONN
            CONN = sqlite3.connect("d.db")
    ''', "TXL401") == []


def test_loops_and_with_bodies_at_module_scope_are_import_time():
    assert lines('''
        import psycopg2

        CONNS = {}
        for name in ("primary", "replica"):
            CONNS[name] = psycopg2.connect(dbname=name)
        with open("dsn.txt") as fh:
            extra = psycopg2.connect(fh.read())
    ''', "TXL401") == [5, 7]


def test_method_default_in_class_body_and_nested_class():
    assert lines('''
        import pymysql

        class Outer:
            class Inner:
                conn = pymysql.connect(host="db")

            def fetch(self, conn=pymysql.connect(host="db")):
                return conn
    ''', "TXL401") == [5, 7]


def test_with_that_closes_is_fine_with_that_only_commits_is_not():
    assert lines('''
        import psycopg
        import psycopg2
        import sqlalchemy as sa

        engine = sa.create_engine("postgresql://app@db/app", pool_pre_ping=True)
        with engine.connect() as conn:
            pass
        with psycopg.connect("dbname=app") as conn3:
            pass
        with psycopg2.connect("dbname=app") as conn2:
            pass
    ''', "TXL401") == [10]


def test_closed_again_at_import_time_is_not_kept():
    assert lines('''
        from peewee import SqliteDatabase
        import sqlite3

        db = SqliteDatabase("app.db")
        db.connect()
        db.create_tables([])
        db.close()

        conn = sqlite3.connect("app.db")
        VERSION = conn.execute("select sqlite_version()").fetchone()[0]
        conn.close()
    ''', "TXL401") == []


def test_reported_at_the_acquiring_call_with_an_explaining_message():
    found = findings('''
        import pymysql

        conn = pymysql.connect(host="db.internal", user="app")
    ''', "TXL401")
    assert [(d.line, d.column) for d in found] == [(3, 8)]
    message = found[0].message
    assert message == "PyMySQL connection `pymysql.connect(...)` is opened at module scope and kept for the life of " \
                      "the process"


def test_flask_sqlalchemy_engine_connect_and_scoped_session_call():
    assert lines('''
        from flask_sqlalchemy import SQLAlchemy
        from sqlalchemy.orm import scoped_session, sessionmaker

        db = SQLAlchemy()
        Session = scoped_session(sessionmaker())
        conn = db.engine.connect()
        session = Session()
        registry_only = db.session
    ''', "TXL401") == [6, 7]


@pytest.mark.parametrize("source", [
    '''
    import aiohttp
    http = aiohttp.ClientSession()
    ''',
    '''
    import boto3
    session = boto3.session.Session()
    ''',
    '''
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def set_pragma(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
    ''',
    '''
    from django.db.backends.signals import connection_created
    connection_created.connect(lambda sender, connection, **kw: None)
    ''',
    '''
    import asyncpg
    POOL_FACTORY = asyncpg.create_pool
    ''',
])
def test_look_alikes_are_not_txl401(source):
    assert lines(source, "TXL401") == []


# ---------------------------------------------------------------- TXL402: URLs and options
@pytest.mark.parametrize("url", [
    '"sqlite:///" + os.path.join(BASEDIR, "app.db")',
    '"sqlite:///%s" % BASEDIR',
    '"sqlite:///{}/app.db".format(BASEDIR)',
    'f"sqlite:///{BASEDIR}/app.db"',
    'f"sqlite+pysqlite:///{BASEDIR}/app.db"',
    '"duckdb:///analytics.duckdb"',
    'LOCAL_URL',
])
def test_embedded_database_urls_are_exempt(url):
    assert lines(f'''
        import os
        from sqlalchemy import create_engine

        BASEDIR = os.path.dirname(__file__)
        LOCAL_URL = "sqlite:///" + BASEDIR + "/app.db"
        engine = create_engine({url})
    ''', "TXL402") == []


@pytest.mark.parametrize("url", [
    'os.environ.get("DATABASE_URL") or "sqlite:///dev.db"',
    '"postgresql://%s@db/app" % USER',
    '"mysql+pymysql://{}@db/app".format(USER)',
    'f"{DIALECT}://{USER}@db/app"',
    'settings_url()',
    'URL',
])
def test_server_or_unknown_urls_are_reported(url):
    assert lines(f'''
        import os
        from sqlalchemy import create_engine

        USER = os.environ["USER"]
        DIALECT = "postgresql"
        if os.environ.get("TESTING"):
            URL = "sqlite://"
        else:
            URL = os.environ["DATABASE_URL"]

        def settings_url():
            return os.environ["DATABASE_URL"]

        engine = create_engine({url})
    ''', "TXL402") == [14]


def test_class_attribute_urls_of_project_config_classes():
    files = {
        "app/__init__.py": "",
        "app/config.py": '''
            import os

            class TestConfig:
                DATABASE_URL = "sqlite://"

            class ProductionConfig:
                DATABASE_URL = os.environ["DATABASE_URL"]
        ''',
    }
    assert lines('''
        from sqlalchemy import create_engine
        from app.config import ProductionConfig, TestConfig

        test_engine = create_engine(TestConfig.DATABASE_URL)
        prod_engine = create_engine(ProductionConfig.DATABASE_URL)
    ''', "TXL402", files=files, check="app/db.py") == [5]


def test_engines_inside_functions_methods_and_lambdas():
    assert lines('''
        import sqlalchemy

        class Repo:
            def __init__(self, url):
                self.engine = sqlalchemy.create_engine(url)

        make = lambda url: sqlalchemy.create_engine(url, echo=True)

        async def startup(app):
            from sqlalchemy.ext.asyncio import create_async_engine
            app.state.engine = create_async_engine(app.state.settings.db_url)
    ''', "TXL402") == [5, 7]


def test_project_local_create_engine_and_module_named_alike():
    files = {
        "app/__init__.py": "",
        "app/factory.py": '''
            def create_engine(name):
                return name.upper()
        ''',
    }
    assert lines('''
        from app.factory import create_engine

        engine = create_engine("postgresql://app@db/app")
    ''', "TXL402", files=files, check="app/main.py") == []


def test_engine_message_explains_and_suggests():
    [d] = findings('''
        from sqlalchemy import create_engine

        engine = create_engine("mysql://app@db/app")
    ''', "TXL402")
    assert (d.line, d.column) == (3, 10)
    assert d.message == "`create_engine(...)` for a server database sets neither `pool_pre_ping=True` nor " \
                        "`pool_recycle`"


def test_liveness_settings_in_a_dict_or_config_mapping():
    assert lines('''
        from sqlalchemy import create_engine, engine_from_config

        POOL = dict(pool_recycle=3600, pool_size=5)
        a = create_engine("mysql://app@db/app", **POOL)
        b = engine_from_config({"sqlalchemy.url": "mysql://app@db/app", "sqlalchemy.pool_pre_ping": True})
        c = engine_from_config({"db.url": "sqlite://"}, prefix="db.")
        d = engine_from_config({"sqlalchemy.url": "mysql://app@db/app"})
    ''', "TXL402") == [7]


# ---------------------------------------------------------------- TXL404
def test_redis_inside_a_function_is_not_module_scope():
    assert lines('''
        import redis

        def handler(event):
            client = redis.Redis(host="cache")
            return client.get(event["key"])
    ''', "TXL404") == []


def test_redis_message_and_position():
    [d] = findings('''
        import redis

        cache = redis.Redis(host="cache.internal", port=6379, db=0)
    ''', "TXL404")
    assert (d.line, d.column) == (3, 9)
    assert d.message == "Redis client `redis.Redis(...)` is created at module scope without `health_check_interval`"


def test_redis_client_kept_on_self_by_a_method_and_listened_to_in_another():
    [d] = findings('''
        import redis

        class Subscriber:
            def setup(self, url):
                self._redis = redis.Redis.from_url(url)
                self._pubsub = self._redis.pubsub()

            def run(self):
                for message in self._pubsub.listen():
                    print(message)
    ''', "TXL404")
    assert (d.line, d.column) == (5, 23)
    assert "waiting loop at line 9" in d.message
    assert d.trace[0].note == "acquired here and stored on self._redis by setup()"
    assert [t.line for t in d.trace] == [5, 9, 9, 9]


def test_redis_kept_on_self_gets_the_health_check_fix_where_it_is_created():
    source = textwrap.dedent('''
        import redis

        class Popper:
            def connect(self):
                self.client = redis.Redis(host="cache")

            def run(self):
                self.connect()
                while True:
                    print(self.client.brpop("jobs", timeout=0))
    ''').lstrip("\n")
    result = analyze_project({"app.py": source}, "app.py", codes={"TXL404"}, want_fixes=True)
    assert [d.line for d in result.diagnostics] == [5]
    assert 'self.client = redis.Redis(host="cache", health_check_interval=30)' in result.fixed_source


def test_redis_on_self_reconnected_in_the_loop_or_not_used_there_is_not_held():
    assert lines('''
        import time
        import redis

        class Reconnecting:
            def connect(self):
                self.client = redis.Redis(host="cache")

            def run(self):
                while True:
                    try:
                        print(self.client.brpop("jobs", timeout=0))
                    except redis.ConnectionError:
                        self.connect()

        class Idle:
            def setup(self):
                self.client = redis.Redis(host="cache")
                self.client.set("started", 1)

            def run(self):
                while True:
                    time.sleep(60)
    ''', "TXL404") == []


def test_redis_client_on_a_pool_stored_on_self_reports_the_pool_once():
    assert lines('''
        import redis

        class Worker:
            def __init__(self):
                self.pool = redis.BlockingConnectionPool(host="cache", max_connections=4)

            def client(self):
                return redis.Redis(connection_pool=self.pool)

            def start(self):
                self.redis = redis.Redis(connection_pool=self.pool)
                while True:
                    self.redis.blpop(["high", "low"], timeout=0)
    ''', "TXL404") == [5]


def test_aioredis_and_async_cluster():
    assert lines('''
        import aioredis
        from redis.asyncio.cluster import RedisCluster

        redis = aioredis.from_url("redis://cache")
        cluster = RedisCluster(host="cluster")
    ''', "TXL404") == [4, 5]


def test_client_on_an_explicit_pool_is_judged_by_the_pool():
    assert lines('''
        import redis

        POOL = redis.BlockingConnectionPool.from_url("redis://cache?health_check_interval=20")
        client = redis.StrictRedis(connection_pool=POOL)
        other = redis.Redis(connection_pool=redis.ConnectionPool(host="cache"))
    ''', "TXL404") == [5]


def test_lambda_defaults_are_import_time_lambda_bodies_are_not():
    assert lines('''
        import sqlite3

        fetch = lambda sql, conn=sqlite3.connect("a.db"): conn.execute(sql)
        connect = lambda: sqlite3.connect("b.db")
    ''', "TXL401") == [3]


def test_a_parameter_default_does_not_decide_the_database():
    assert lines('''
        from sqlalchemy import create_engine

        def make_engine(url="sqlite:///dev.db"):
            return create_engine(url)

        def make_test_engine():
            url = "sqlite://"
            return create_engine(url)
    ''', "TXL402") == [4]


def test_class_body_and_loop_bound_urls():
    assert lines('''
        import os
        from sqlalchemy import create_engine

        URL = "sqlite://"

        class LocalDatabase:
            URL = "sqlite:///local.db"
            engine = create_engine(URL)

        class RemoteDatabase:
            URL = os.environ["DATABASE_URL"]
            engine = create_engine(URL)

        def engines():
            for URL in os.environ["DATABASE_URLS"].split(","):
                yield create_engine(URL)
    ''', "TXL402") == [12, 16]


def test_returned_to_its_pool_at_import_time():
    assert lines('''
        from psycopg2.pool import SimpleConnectionPool

        pool = SimpleConnectionPool(1, 4, dsn="dbname=app")
        conn = pool.getconn()
        SERVER_VERSION = conn.server_version
        pool.putconn(conn)
        kept = pool.getconn()
    ''', "TXL401") == [7]
