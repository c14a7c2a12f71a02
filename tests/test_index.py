"""The project index (txlint/index.py) and the long-running-worker rules' project-wide behaviour."""

from __future__ import annotations

import ast
import os
import textwrap
import time

import pytest

from txlint import index as X
from txlint.analysis import project_for, table_for
from txlint.context import FileContext, Options
from txlint.testing import analyze_project

EXT = "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n"
CELERY = "from celery import Celery\n\ncelery = Celery('app')\n"


def write(root, files: dict[str, str]) -> None:
    for rel, text in files.items():
        full = os.path.join(root, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as handle:
            handle.write(textwrap.dedent(text).lstrip("\n"))


def make_ctx(root, rel, *, task_decorators=(), codes=("TXL301", "TXL403", "TXL404")) -> FileContext:
    path = os.path.join(root, rel)
    opts = Options(enabled=frozenset(codes), project_root=str(root), task_decorators=tuple(task_decorators))
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return FileContext(path, rel, text, ast.parse(text), opts, table_for(opts), project_for(path, opts))


def codes_at(files, check, codes=("TXL301",), **kw):
    result = analyze_project({k: textwrap.dedent(v).lstrip("\n") for k, v in files.items()}, check,
                             codes=codes, **kw)
    return sorted((d.line, d.code) for d in result.diagnostics)


# ------------------------------------------------------------------ task detection
def test_index_finds_every_kind_of_task(tmp_path):
    write(tmp_path, {
        "app/__init__.py": "",
        "app/celery_app.py": CELERY,
        "app/tasks.py": """
            from celery import Task, shared_task
            from flask import Flask

            from app.celery_app import celery
            from outside_pkg import worker_app

            web = Flask(__name__)


            @celery.task
            def plain(): ...


            @celery.task(bind=True, max_retries=2)
            def bound(self): ...


            @shared_task
            def shared(): ...


            @worker_app.task
            def external(): ...


            class Klass(Task):
                def run(self): ...


            class SubKlass(Klass):
                def run(self): ...


            class NotATask:
                def run(self): ...


            @web.route("/")
            def view(): ...


            def plain_function(): ...
        """,
    })
    idx = X.index_for(make_ctx(tmp_path, "app/tasks.py"))
    assert [t.name for t in idx.tasks] == ["plain", "bound", "shared", "external", "Klass.run", "SubKlass.run"]


def test_configured_task_decorator(tmp_path):
    write(tmp_path, {
        "app/__init__.py": "",
        "app/worker.py": "def task(fn):\n    return fn\n",
        "app/tasks.py": "from app.worker import task\n\n\n@task\ndef job(): ...\n",
    })
    assert X.index_for(make_ctx(tmp_path, "app/tasks.py")).tasks == []
    idx = X.index_for(make_ctx(tmp_path, "app/tasks.py", task_decorators=["app.worker.task"]))
    assert [t.name for t in idx.tasks] == ["job"]


def test_configured_task_decorator_reports(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/extensions.py": EXT,
        "app/worker.py": "def task(fn):\n    return fn\n",
        "app/tasks.py": "from app.extensions import db\nfrom app.worker import task\n\n\n@task\n"
                        "def job():\n    db.session.execute('SELECT 1')\n",
    }
    assert codes_at(files, "app/tasks.py") == []
    assert codes_at(files, "app/tasks.py", task_decorators=["app.worker.task"]) == [(6, "TXL301")]


# ------------------------------------------------------------------ registry identity
def test_registry_identity_is_the_defining_binding(tmp_path):
    write(tmp_path, {
        "app/__init__.py": "from app.extensions import db\n",
        "app/extensions.py": EXT,
        "app/tasks.py": "from app import db\nfrom app import extensions\n\nx = db.session\ny = extensions.db.session\n",
    })
    ctx = make_ctx(tmp_path, "app/tasks.py")
    view = X.view_for(ctx)
    x = ctx.ast.body[2].value
    y = ctx.ast.body[3].value
    assert X.registry_of(ctx, view, x) == ("app.extensions.db.session", "db.session")
    assert X.registry_of(ctx, view, y)[0] == "app.extensions.db.session"


def test_index_lists_registries_and_celery_apps(tmp_path):
    write(tmp_path, {
        "app/__init__.py": "",
        "app/extensions.py": EXT,
        "app/celery_app.py": CELERY,
        "app/db.py": """
            from sqlalchemy import create_engine
            from sqlalchemy.orm import scoped_session, sessionmaker

            from app.extensions import db

            engine = create_engine("sqlite://")
            SessionLocal = sessionmaker(bind=engine)
            Session = scoped_session(SessionLocal)
            session = SessionLocal()
            fsa_session = db.session
            from app.celery_app import celery
        """,
    })
    idx = X.index_for(make_ctx(tmp_path, "app/db.py"))
    assert idx.registries == {
        "db": ("app.extensions.db", "fsa.extension"),
        "SessionLocal": ("app.db.SessionLocal", "sa.session-factory"),
        "Session": ("app.db.Session", "sa.scoped-session"),
        "session": ("app.db.session", "sa.session"),
        "fsa_session": ("app.extensions.db.session", "sa.scoped-session"),
    }
    assert idx.celery_apps == ["celery"]


def test_model_query_uses_the_models_db_session(tmp_path):
    write(tmp_path, {
        "app/__init__.py": "",
        "app/extensions.py": EXT,
        "app/models.py": "from app.extensions import db\n\n\nclass Base(db.Model):\n    pass\n\n\n"
                         "class User(Base):\n    pass\n\n\nclass Plain:\n    query = None\n",
        "app/use.py": "from app.models import User, Plain\n\na = User.query\nb = Plain.query\n",
    })
    ctx = make_ctx(tmp_path, "app/use.py")
    view = X.view_for(ctx)
    assert X.registry_of(ctx, view, ctx.ast.body[1].value)[0] == "app.extensions.db.session"
    assert X.registry_of(ctx, view, ctx.ast.body[2].value) is None


def test_different_registries_are_not_confused(tmp_path):
    files = {
        "w/__init__.py": "",
        "w/a.py": "from sqlalchemy.orm import scoped_session, sessionmaker\n\nA = scoped_session(sessionmaker())\n",
        "w/b.py": "from sqlalchemy.orm import scoped_session, sessionmaker\n\nB = scoped_session(sessionmaker())\n",
        "w/signals.py": "from celery.signals import task_postrun\n\nfrom w.a import A\n\n\n"
                        "@task_postrun.connect\ndef rm(**kw):\n    A.remove()\n",
        "w/tasks.py": "from celery import shared_task\n\nfrom w.a import A\nfrom w.b import B\n\n\n"
                      "@shared_task\ndef one():\n    A.execute('SELECT 1')\n\n\n"
                      "@shared_task\ndef two():\n    B.execute('SELECT 1')\n",
    }
    assert codes_at(files, "w/tasks.py") == [(13, "TXL301")]


# ------------------------------------------------------------------ signal handlers
SIGNAL_FILES = {
    "app/__init__.py": "",
    "app/extensions.py": EXT,
    "app/celery_app.py": CELERY,
    "app/handlers.py": """
        from celery.signals import task_postrun, worker_process_init

        from app.extensions import db


        @task_postrun.connect
        def remove(**kw):
            db.session.remove()


        def dispose(**kw):
            db.engine.dispose()


        worker_process_init.connect(dispose)
    """,
    "app/unrelated.py": "def connect():\n    return 1\n",
    "app/tasks.py": "from app.celery_app import celery\nfrom app.extensions import db\n\n\n"
                    "@celery.task\ndef job():\n    db.session.execute('SELECT 1')\n",
}


def test_worker_index_lists_handlers_and_what_they_remove(tmp_path):
    write(tmp_path, SIGNAL_FILES)
    ctx = make_ctx(tmp_path, "app/tasks.py")
    sig = X.worker_index(ctx)
    # byte prefilter: only modules that can hold an app, a Task install, a handler or a teardown are
    # scanned (and the modules their names resolve through are read); the others are not
    names = {os.path.basename(f) for f in sig.files}
    assert {"celery_app.py", "handlers.py"} <= names and "unrelated.py" not in names
    found = {(h.signal.rsplit(".", 1)[1], h.name): set(h.removes) for h in sig.handlers}
    assert found == {("task_postrun", "remove"): {"app.extensions.db.session"},
                     ("worker_process_init", "dispose"): set()}
    assert sig.cleaned() == {"app.extensions.db.session"}
    assert [(a.module, a.line, a.cleanups) for a in sig.apps.values()] == [("app.celery_app", 3, set())]
    assert X.worker_index(ctx) is sig  # computed once per process and project


def test_handler_in_another_module_cleans_and_removing_it_reports():
    files = {k: textwrap.dedent(v).lstrip("\n") for k, v in SIGNAL_FILES.items()}
    assert codes_at(files, "app/tasks.py") == []
    files["app/handlers.py"] = files["app/handlers.py"].replace("db.session.remove()", "print('done')")
    assert codes_at(files, "app/tasks.py") == [(6, "TXL301")]


def test_trace_names_the_use_and_the_exit():
    files = {k: textwrap.dedent(v).lstrip("\n") for k, v in SIGNAL_FILES.items()}
    del files["app/handlers.py"]
    result = analyze_project(files, "app/tasks.py", codes={"TXL301"})
    (diag,) = result.diagnostics
    assert (diag.line, diag.column) == (6, 1)
    notes = [(t.line, t.note) for t in diag.trace]
    assert notes[0] == (7, "db.session used at line 7")
    assert "without db.session.remove()" in notes[-1][1]
    assert diag.message == "Celery task `job` uses db.session and nothing removes it when the task ends"


# ------------------------------------------------------------------ single-file runs
def test_stdin_single_file_run_sees_the_project_on_disk(project):
    for rel, text in SIGNAL_FILES.items():
        project.write(rel, textwrap.dedent(text).lstrip("\n"))
    project.write("pyproject.toml", "[tool.txlint]\nselect = ['TXL301']\n")
    source = (project.root / "app/tasks.py").read_text()
    run = project.run("--stdin-filename", "app/tasks.py", "--no-cache", "-", stdin=source)
    assert run.rc == 0, run.out
    (project.root / "app/handlers.py").write_text("x = 1\n")
    run = project.run("--stdin-filename", "app/tasks.py", "--no-cache", "-", stdin=source)
    assert run.rc == 1 and "TXL301" in run.out, run.out


def test_a_base_class_it_cannot_see_is_not_a_leak():
    files = {
        "app/__init__.py": "",
        "app/extensions.py": EXT,
        "app/celery_app.py": CELERY,
        "app/tasks.py": "from app.celery_app import celery\nfrom app.extensions import db\n"
                        "from vendor_tasks import SessionTask\n\n\n"
                        "@celery.task(base=SessionTask)\ndef job():\n    db.session.execute('SELECT 1')\n",
    }
    assert codes_at(files, "app/tasks.py") == []


def test_flake8_plugin_reports_the_same_for_one_file(tmp_path):
    from txlint.flake8_plugin import Plugin

    files = {k: textwrap.dedent(v).lstrip("\n") for k, v in SIGNAL_FILES.items()}
    del files["app/handlers.py"]
    write(tmp_path, files)
    path = os.path.join(tmp_path, "app/tasks.py")
    with open(path) as handle:
        tree = ast.parse(handle.read())
    found = [m for (_, _, m, _) in Plugin(tree, path).run() if "TXL301" in m]
    assert found, "flake8 plugin lost the TXL301 finding"


# ------------------------------------------------------------------ caching and cost
def test_other_modules_are_indexed_once(tmp_path, monkeypatch):
    write(tmp_path, {
        "app/__init__.py": "",
        "app/extensions.py": EXT,
        "app/models.py": "from app.extensions import db\n\n\nclass User(db.Model):\n    pass\n",
        "app/tasks.py": "from app.models import User\nfrom celery import shared_task\n\n\n"
                        "@shared_task\ndef a():\n    User.query.all()\n\n\n"
                        "@shared_task\ndef b():\n    User.query.all()\n",
    })
    ctx = make_ctx(tmp_path, "app/tasks.py")
    loads = []
    real = ctx.project.load

    def counting(path, module=None):
        loads.append(os.path.basename(path))
        return real(path, module)

    monkeypatch.setattr(ctx.project, "load", counting)
    from txlint.rules.celery_tasks import CeleryTaskSessionLeak

    CeleryTaskSessionLeak().check(ctx)
    assert len(ctx._pending) == 2
    assert sorted(loads) == sorted(set(loads)), loads


def test_index_is_cheap_on_a_plain_project(tmp_path):
    """The worker rules must not add much to a cold run: files without tasks or loops cost ~nothing."""
    body = "import sqlite3\n\n\ndef f(path):\n    conn = sqlite3.connect(path)\n    try:\n" \
           "        return conn.execute('SELECT 1').fetchone()\n    finally:\n        conn.close()\n" * 1
    files = {f"pkg/m{i}.py": body for i in range(40)}
    files["pkg/__init__.py"] = ""
    write(tmp_path, files)
    from txlint.analysis import analyze

    def run(codes):
        opts = Options(enabled=frozenset(codes), project_root=str(tmp_path))
        start = time.perf_counter()
        for rel in files:
            analyze(os.path.join(tmp_path, rel), rel, opts)
        return time.perf_counter() - start

    run({"TXL201"})  # warm imports
    base = min(run({"TXL201"}) for _ in range(3))
    mine = min(run({"TXL201", "TXL301", "TXL403", "TXL404"}) for _ in range(3))
    assert mine - base < max(0.2 * base, 0.05), (base, mine)


# ------------------------------------------------------------------ TXL404 from the wait-loop module
REDIS_LOOP = """
import time

import redis


def worker():
    r = redis.Redis(host="cache")
    while True:
        r.blpop("jobs", timeout=0)
        time.sleep(1)
"""


def test_wait_loop_redis_is_txl404_with_a_fix():
    result = analyze_project({"w.py": REDIS_LOOP.lstrip("\n")}, "w.py", codes={"TXL403", "TXL404"},
                             want_fixes=True)
    assert [(d.line, d.code) for d in result.diagnostics] == [(7, "TXL404")]
    assert result.diagnostics[0].trace, "the loop trace is shown"
    assert 'redis.Redis(host="cache", health_check_interval=30)' in result.fixed_source
    compile(result.fixed_source, "w.py", "exec")


def test_wait_loop_redis_reported_once_when_called_twice(tmp_path):
    write(tmp_path, {"w.py": REDIS_LOOP})
    ctx = make_ctx(tmp_path, "w.py")
    from txlint.rules.wait_loops import report_redis_wait_loops

    report_redis_wait_loops(ctx)
    report_redis_wait_loops(ctx)
    assert [p.code for p in ctx._pending] == ["TXL404"]


@pytest.mark.parametrize("code,expected", [
    ("r = redis.Redis(host='cache', health_check_interval=30)", []),
    ("r = redis.Redis(host='cache')", [(6, "TXL404")]),
    ("r = redis.Redis(host='cache', health_check_interval=0)", [(6, "TXL404")]),
])
def test_wait_loop_health_check_values(code, expected):
    src = f"import time\n\nimport redis\n\n\ndef w():\n    {code}\n    while True:\n        r.get('k')\n" \
          f"        time.sleep(5)\n"
    src = src.replace("def w():\n    ", "def w():\n    pass\n    ", 0)
    lines = src.splitlines()
    got = codes_at({"w.py": src}, "w.py", codes=("TXL403", "TXL404"))
    want = [(lines.index(f"    {code}") + 1, "TXL404")] if expected else []
    assert got == want


def test_default_task_class_of_the_app_applies_to_shared_tasks():
    from txlint.rules._celery_examples import VALID_301

    example = next(e for e in VALID_301 if "celery_init_app" in e.note)
    files = dict(example.files)
    assert codes_at(files, "app/tasks.py") == []
    files["app/__init__.py"] = files["app/__init__.py"].replace("with app.app_context():", "if True:")
    assert codes_at(files, "app/tasks.py") == [(7, "TXL301")]


def test_backoff_only_retry_loop_is_not_a_wait_loop():
    src = textwrap.dedent("""
        import time

        import psycopg2


        def save(dsn):
            conn = psycopg2.connect(dsn)
            try:
                while True:
                    try:
                        conn.cursor().execute("SELECT 1")
                        break
                    except psycopg2.OperationalError:
                        time.sleep(1)
                    time.sleep(0)
            finally:
                conn.close()
    """).lstrip("\n")
    # a wait outside the handler makes it a waiting loop again
    assert codes_at({"r.py": src}, "r.py", codes=("TXL403",)) == [(7, "TXL403")]
    assert codes_at({"r.py": src.replace("            time.sleep(0)\n", "")}, "r.py", codes=("TXL403",)) == []


# ------------------------------------------------------------------ the project's edge (contract §9)
SIBLINGS = {
    "app/__init__.py": "",
    "app/ext.py": "from celery import Celery\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                  "db = SQLAlchemy()\ncelery = Celery('app')\n",
    "app/tasks.py": "from app.ext import celery, db\n\n\n@celery.task\ndef job():\n    db.session.execute('SELECT 1')\n",
    # a sibling folder of the analysed package: not part of what was given
    "legacy/__init__.py": "",
    "legacy/worker.py": "from celery.signals import task_postrun\n\nfrom app.ext import db\n\n\n"
                        "@task_postrun.connect\ndef cleanup(**kw):\n    db.session.remove()\n",
}


def _marker_above(path) -> bool:
    from txlint.names import PROJECT_MARKERS

    probe = os.path.abspath(path)
    while True:
        if any(os.path.exists(os.path.join(probe, m)) for m in PROJECT_MARKERS):
            return True
        if os.path.dirname(probe) == probe:
            return False
        probe = os.path.dirname(probe)


def test_sibling_folders_of_an_analysed_package_are_never_read(project):
    if _marker_above(project.root):
        pytest.skip("a project marker above the temporary folder makes it part of a project")
    for rel, text in SIBLINGS.items():
        project.write(rel, text)
    run = project.run("--no-cache", "--select", "TXL301", "app")
    assert run.findings() == [(os.path.join("app", "tasks.py"), 5, "TXL301")], run.out
    # with a project marker above, the sibling folder is part of the project: its handler counts
    project.write("pyproject.toml", "[project]\nname = 'shop'\n")
    run = project.run("--no-cache", "--select", "TXL301", "app")
    assert run.rc == 0, run.out


def test_modules_outside_the_project_are_not_found(tmp_path):
    write(tmp_path, SIBLINGS)
    from txlint.names import ProjectModules

    inside = ProjectModules([str(tmp_path)], boundary=[str(tmp_path / "app")])
    assert inside.find_file("app.ext") == str(tmp_path / "app" / "ext.py")
    assert inside.find_file("legacy.worker") is None
    assert inside.load(str(tmp_path / "legacy" / "worker.py")) is None
    # a file given outside the run's project root gets its own project, not the folder above it
    opts = Options(enabled=frozenset({"TXL301"}), project_root=str(tmp_path / "app"))
    other = project_for(str(tmp_path / "legacy" / "worker.py"), opts)
    assert other.boundary == [str(tmp_path / "legacy")]
    assert project_for(str(tmp_path / "app" / "tasks.py"), opts).boundary == [str(tmp_path / "app")]


# ------------------------------------------------------------------ apps and the Task classes installed on each
def test_task_classes_are_installed_per_app(tmp_path):
    write(tmp_path, {
        "proj/__init__.py": "",
        "proj/extensions.py": EXT,
        "proj/apps.py": """
            from celery import Celery, Task
            from flask import Flask

            web = Flask(__name__)


            class ContextTask(Task):
                def __call__(self, *args, **kwargs):
                    with web.app_context():
                        return self.run(*args, **kwargs)


            class Plain(Task):
                pass


            front = Celery("front", task_cls=ContextTask)
            back = Celery("back", task_cls="proj.apps:Plain")
            third = Celery("third")
            third.Task = ContextTask
            vendor = Celery("vendor", task_cls="vendor_lib.tasks:SessionTask")
        """,
    })
    ctx = make_ctx(tmp_path, "proj/apps.py")
    index = X.worker_index(ctx)
    by_line = {a.line: a.cleanups for a in index.apps.values()}
    ctx_cover = X.context_cover("app", "proj.apps.web|?")
    assert by_line == {17: {ctx_cover}, 18: set(), 19: {ctx_cover}, 21: {X.ALL}}
    assert not index.loose
    assert X.app_sites(ctx, "proj.apps.front") == [k for k, a in index.apps.items() if a.line == 17]


def test_a_task_class_installed_through_a_parameter_goes_to_the_callers_app(tmp_path):
    write(tmp_path, {
        "proj/__init__.py": "",
        "proj/apps.py": "from celery import Celery\n\nfront = Celery('front')\nback = Celery('back')\n",
        "proj/setup.py": """
            from flask import Flask

            from proj.apps import front


            def install(worker, app):
                class ContextTask(worker.Task):
                    def __call__(self, *args, **kwargs):
                        with app.app_context():
                            return self.run(*args, **kwargs)

                worker.Task = ContextTask


            install(front, Flask(__name__))
        """,
    })
    index = X.worker_index(make_ctx(tmp_path, "proj/setup.py"))
    assert {a.line: bool(a.cleanups) for a in index.apps.values()} == {3: True, 4: False}


def test_released_registries_counts_only_cleanups_nothing_can_skip(tmp_path):
    write(tmp_path, {"w.py": """
        from sqlalchemy.orm import scoped_session, sessionmaker

        A = scoped_session(sessionmaker())
        B = scoped_session(sessionmaker())


        def straight():
            A.remove()
            B.close()


        def after_a_call():
            A.commit()
            B.remove()


        def early_return(flag):
            A.remove()
            if flag:
                return
            B.remove()


        def caught():
            try:
                A.commit()
            except Exception:
                A.rollback()
            B.remove()


        def narrow():
            try:
                A.commit()
            except ValueError:
                A.rollback()
            B.remove()


        def in_finally():
            try:
                A.commit()
            finally:
                B.remove()
    """})
    ctx = make_ctx(tmp_path, "w.py")
    view = X.view_for(ctx)
    fns = {f.name: f for f in ctx.ast.body if isinstance(f, ast.FunctionDef)}

    def names(fn):
        return {i.rsplit(".", 1)[1] for i in X.released_registries(ctx, view, fns[fn].body)}

    assert names("straight") == {"A", "B"}
    assert names("after_a_call") == set()
    assert names("early_return") == {"A"}
    assert names("caught") == {"B"}
    assert names("narrow") == set()
    assert names("in_finally") == {"B"}


def test_the_worker_index_does_not_depend_on_what_the_process_analysed_before(tmp_path):
    """One index per process and project: computed while analysing a file of one import root, it
    still resolves the modules of the others (--jobs 1 and --jobs 4 give the same findings)."""
    write(tmp_path, {
        "pyproject.toml": "[project]\nname = 'two-roots'\n",
        "web/shop/__init__.py": "",
        "web/shop/extensions.py": EXT,
        "web/shop/views.py": "from shop.extensions import db\n",
        "batch/reports/__init__.py": "",
        "batch/reports/worker.py": "from celery import Celery\n\ncelery = Celery('reports')\n",
        "batch/reports/setup.py": """
            from flask import Flask

            from reports.worker import celery

            web = Flask(__name__)


            class ContextTask(celery.Task):
                def __call__(self, *args, **kwargs):
                    with web.app_context():
                        return self.run(*args, **kwargs)


            celery.Task = ContextTask
        """,
        "batch/reports/tasks.py": "from reports.worker import celery\nfrom shop.extensions import db\n\n\n"
                                  "@celery.task\ndef totals():\n    return db.session.execute('SELECT 1')\n",
    })
    make_ctx(tmp_path, "web/shop/views.py")  # the process analyses a file of the other root first
    first = X.worker_index(make_ctx(tmp_path, "web/shop/views.py"))
    (app,) = first.apps.values()
    assert app.cleanups == {X.context_cover("app", "reports.setup.web|?")}
    assert not first.loose and not first.external
    from txlint.rules.celery_tasks import CeleryTaskSessionLeak

    tasks = make_ctx(tmp_path, "batch/reports/tasks.py")
    CeleryTaskSessionLeak().check(tasks)
    assert tasks._pending == []
