"""Name resolution through imports and aliases, across the analysed project's modules."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst

from txlint.names import ProjectModules, Resolver, module_name_for, symbols_from_ast
from txlint.resources import DEFAULT_TABLE


def resolver_for(tmp_path, files: dict[str, str], check: str) -> Resolver:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    path = str(tmp_path / check)
    module, is_pkg = module_name_for(path)
    syms = symbols_from_ast(ast.parse((tmp_path / check).read_text()), module, is_pkg, path)
    return Resolver(syms, ProjectModules([str(tmp_path)]))


def ref_of(resolver: Resolver, expr: str) -> str | None:
    return resolver.ref(cst.parse_expression(expr))


def kind_of(resolver: Resolver, expr: str) -> str | None:
    k = DEFAULT_TABLE.kind_of_ref(ref_of(resolver, expr))
    return k.name if k else None


def test_aliases_and_from_imports(tmp_path):
    r = resolver_for(tmp_path, {"m.py": """
        import sqlalchemy as sa
        import sqlite3, psycopg2.pool
        from sqlalchemy.orm import sessionmaker as sm, Session
        from redis import Redis as R
        import mysql.connector
        """}, "m.py")
    assert ref_of(r, "sa.create_engine") == "sqlalchemy.create_engine"
    assert kind_of(r, "sa.create_engine(url)") == "sa.engine"
    assert kind_of(r, "sm(bind=e)") == "sa.session-factory"
    assert kind_of(r, "sm(bind=e)()") == "sa.session"
    assert kind_of(r, "Session(engine)") == "sa.session"
    assert kind_of(r, "R(host='x')") == "redis.client"
    assert kind_of(r, "sqlite3.connect(p)") == "sqlite3.connection"
    assert kind_of(r, "sqlite3.connect(p).cursor()") == "dbapi.cursor"
    assert kind_of(r, "mysql.connector.connect(host='h')") == "mysqlconnector.connection"
    assert kind_of(r, "psycopg2.pool.SimpleConnectionPool(1, 5)") == "dbapi.pool"
    assert ref_of(r, "unknown.connect()") is None


def test_module_level_factories_and_extensions(tmp_path):
    r = resolver_for(tmp_path, {"m.py": """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import sessionmaker, scoped_session
        from flask_sqlalchemy import SQLAlchemy
        engine = create_engine("mysql://h/db")
        SessionLocal = sessionmaker(bind=engine)
        Session = scoped_session(SessionLocal)
        db = SQLAlchemy()
        """}, "m.py")
    assert kind_of(r, "engine") == "sa.engine"
    assert kind_of(r, "engine.connect()") == "sa.connection"
    assert kind_of(r, "SessionLocal()") == "sa.session"
    assert kind_of(r, "Session") == "sa.scoped-session"
    assert kind_of(r, "db.session") == "sa.scoped-session"
    assert kind_of(r, "db.engine") == "sa.engine"


def test_factories_imported_from_another_project_module(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/db.py": """
            from sqlalchemy.orm import sessionmaker
            from sqlalchemy import create_engine
            engine = create_engine("postgresql://h/db")
            SessionLocal = sessionmaker(bind=engine)
            """,
        "app/services/__init__.py": "",
        "app/services/users.py": """
            from app.db import SessionLocal as SL
            from ..db import engine
            from . import helpers
            """,
        "app/services/helpers.py": "from app import db\n",
    }
    r = resolver_for(tmp_path, files, "app/services/users.py")
    assert r.symbols.module == "app.services.users"
    assert kind_of(r, "SL()") == "sa.session"
    assert kind_of(r, "engine.connect()") == "sa.connection"
    assert kind_of(r, "helpers.db.SessionLocal()") == "sa.session"


def test_local_function_named_like_a_library_is_not_the_library(tmp_path):
    r = resolver_for(tmp_path, {"m.py": """
        def create_engine(url):
            return url
        """}, "m.py")
    assert kind_of(r, "create_engine('mysql://h/db')") is None


def test_fallback_imports_and_main_guard(tmp_path):
    r = resolver_for(tmp_path, {"m.py": """
        try:
            import MySQLdb as mysql
        except ImportError:
            import pymysql as mysql
        if __name__ == "__main__":
            import sqlite3 as mysql
        """}, "m.py")
    assert kind_of(r, "mysql.connect(host='h')") == "mysqldb.connection"


def test_django_connections(tmp_path):
    r = resolver_for(tmp_path, {"m.py": "from django.db import connection, connections, transaction\n"}, "m.py")
    assert kind_of(r, "connection.cursor()") == "dbapi.cursor"
    assert kind_of(r, "connections['replica'].cursor()") == "dbapi.cursor"
    assert ref_of(r, "transaction.set_autocommit") == "django.db.transaction.set_autocommit"


def test_import_cycles_terminate(tmp_path):
    files = {"a.py": "from b import x\n", "b.py": "from a import x\n"}
    r = resolver_for(tmp_path, files, "a.py")
    assert ref_of(r, "x.connect()") is not None  # resolves to something, without looping


def test_global_lines_counts_lines_as_the_tokenizer_does():
    from txlint.names import global_lines

    assert global_lines("x = 1\n") == frozenset()
    assert global_lines(b"a\r\nb\rdef f():\n    global x\n\n# global\n") == {4, 6}
    assert global_lines("def f():\n    global é\n") == {2}


def test_a_function_that_declares_a_global_is_found_only_through_its_lines():
    source = textwrap.dedent('''
        from sqlalchemy import create_engine
        engine = None

        def other():
            return 1

        def setup(url):
            global engine
            engine = create_engine(url)
    ''')
    from txlint.names import global_lines

    tree = ast.parse(source)
    everywhere = symbols_from_ast(tree, "m", has_globals=True)
    by_lines = symbols_from_ast(tree, "m", has_globals=global_lines(source))
    assert by_lines.bindings == everywhere.bindings
    assert by_lines.bindings["engine"] == "sqlalchemy.create_engine()"
    none = symbols_from_ast(tree, "m", has_globals=frozenset({6}))  # a line of other() only
    assert "engine" not in none.bindings or none.bindings["engine"] != "sqlalchemy.create_engine()"
