"""Extra unit tests for TXL403 beyond the rule's own examples: connections kept on self by any
method (contract §12, §14), Django's connection held through a cursor or a helper (issue 8)."""

from __future__ import annotations

import textwrap

from txlint.testing import analyze_project


def findings(source: str, code: str = "TXL403", files: dict[str, str] | None = None, check: str = "app.py"):
    project = {k: textwrap.dedent(v).lstrip("\n") for k, v in (files or {}).items()}
    project[check] = textwrap.dedent(source).lstrip("\n")
    result = analyze_project(project, check, codes={code})
    return [d for d in result.diagnostics if d.code == code]


def lines(source: str, code: str = "TXL403", **kw) -> list[int]:
    return sorted(d.line for d in findings(source, code, **kw))


# ---------------------------------------------------------------- kept on self by any method
def test_trace_says_where_it_was_stored_and_which_loop_holds_it():
    [d] = findings('''
        import time
        import psycopg2

        class Poller:
            def connect(self):
                self.conn = psycopg2.connect("dbname=jobs")

            def run(self):
                self.connect()
                while True:
                    with self.conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    time.sleep(30)
    ''')
    assert (d.line, d.column) == (6, 21)
    assert [(t.line, t.note) for t in d.trace] == [
        (6, "acquired here and stored on self.conn by connect()"),
        (10, "unbounded loop at line 10 uses self.conn"),
        (13, "waits at line 13 while still holding it"),
        (11, "used inside the loop at line 11"),
    ]


def test_one_finding_per_attribute_at_its_first_acquisition():
    assert lines('''
        import time
        import psycopg2

        class Poller:
            def connect(self):
                self.conn = psycopg2.connect("dbname=jobs")

            def reconnect(self):
                self.conn.close()
                self.conn = psycopg2.connect("dbname=jobs")

            def run(self):
                self.connect()
                while True:
                    with self.conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    time.sleep(30)
    ''') == [6]


def test_a_reconnect_the_loop_calls_through_two_helpers_refreshes_it():
    assert lines('''
        import time
        import psycopg2

        class Poller:
            def connect(self):
                self.conn = psycopg2.connect("dbname=jobs")

            def recover(self):
                self.connect()

            def tick(self):
                try:
                    with self.conn.cursor() as cur:
                        cur.execute("SELECT 1")
                except psycopg2.OperationalError:
                    self.recover()

            def run(self):
                self.connect()
                while True:
                    self.tick()
                    time.sleep(30)
    ''') == []


def test_a_lazy_getter_called_in_the_loop_does_not_refresh_it():
    assert lines('''
        import time
        import psycopg2

        class Poller:
            conn = None

            def get_conn(self):
                if not self.conn:
                    self.conn = psycopg2.connect("dbname=jobs")
                return self.conn

            def run(self):
                while True:
                    conn = self.get_conn()
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    time.sleep(30)
    ''') == [9]


def test_session_kept_on_self_counts_only_when_a_path_through_the_helper_waits_in_a_transaction():
    assert lines('''
        import time
        from sqlalchemy import text
        from sqlalchemy.orm import sessionmaker

        Session = sessionmaker()

        class Sometimes:
            def open(self):
                self.session = Session()

            def step(self):
                rows = self.session.execute(text("SELECT id FROM jobs")).all()
                if rows:
                    self.session.commit()
                return rows

            def run(self):
                self.open()
                while True:
                    self.step()
                    time.sleep(5)

        class Always:
            def open(self):
                self.session = Session()

            def step(self):
                rows = self.session.execute(text("SELECT id FROM jobs")).all()
                self.session.rollback()
                return rows

            def run(self):
                self.open()
                while True:
                    self.step()
                    time.sleep(5)

        class EndsInTheLoop:
            def open(self):
                self.session = Session()

            def run(self):
                self.open()
                while True:
                    print(self.session.execute(text("SELECT 1")).all())
                    self.session.close()
                    time.sleep(5)
    ''') == [9]


def test_a_connection_from_a_project_method_and_a_class_nested_in_a_function():
    assert lines('''
        import time
        import pymysql

        class Worker:
            def _connect(self):
                return pymysql.connect(host="db")

            def start(self):
                self.db = self._connect()
                while True:
                    with self.db.cursor() as cur:
                        cur.execute("SELECT 1")
                    time.sleep(10)

        def make_worker(host):
            class Inner:
                def start(self):
                    self.db = pymysql.connect(host=host)
                    while True:
                        with self.db.cursor() as cur:
                            cur.execute("SELECT 1")
                        time.sleep(10)
            return Inner
    ''') == [9, 18]


def test_connection_parameters_stored_on_self_are_the_callers():
    assert lines('''
        import time
        import psycopg2.extensions

        class Poller:
            def __init__(self, conn: psycopg2.extensions.connection):
                self.conn = conn

            def run(self):
                while True:
                    with self.conn.cursor() as cur:
                        cur.execute("SELECT 1")
                    time.sleep(30)
    ''') == []


# ---------------------------------------------------------------- Django's connection
def test_django_cursor_from_connections_refreshed_by_closing_that_connection():
    assert lines('''
        import time
        from django.db import connections

        def refreshed():
            conn = connections["replica"]
            cur = conn.cursor()
            while True:
                cur.execute("SELECT 1")
                conn.close()
                time.sleep(5)

        def held():
            conn = connections["replica"]
            cur = conn.cursor()
            while True:
                cur.execute("SELECT 1")
                time.sleep(5)
    ''') == [14]


def test_django_cursor_before_the_loop_is_the_loops_only_finding():
    assert lines('''
        import time
        from django.db import connection

        def loop():
            cur = connection.cursor()
            while True:
                cur.execute("SELECT 1")
                with connection.cursor() as other:
                    other.execute("SELECT 2")
                time.sleep(5)
    ''') == [5]


def test_django_cursor_closed_before_the_loop_is_not_held():
    assert lines('''
        import time
        from django.db import connection

        def loop():
            cur = connection.cursor()
            cur.execute("SELECT 1")
            cur.close()
            while True:
                time.sleep(5)
    ''') == []


def test_django_helpers_close_all_refreshes_and_a_module_function_helper_counts():
    files = {
        "jobs/__init__.py": "",
        "jobs/models.py": "from django.db import models\n\n\nclass Job(models.Model):\n    state = models.CharField()\n",
        "jobs/work.py": '''
            from django import db

            from jobs.models import Job


            def run_pending():
                return Job.objects.filter(state="new").update(state="done")


            def run_and_close():
                run_pending()
                db.connections.close_all()
        ''',
    }
    assert lines('''
        import time

        from jobs import work


        def poll():
            while True:
                work.run_pending()
                time.sleep(10)


        def poll_closing():
            while True:
                work.run_and_close()
                time.sleep(10)
    ''', files=files, check="jobs/loop.py") == [8]
