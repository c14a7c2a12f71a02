"""``--unsafe-fixes``: TXL301 wraps the task body in ``try: ... finally: <registry>.remove()``;
never without the option."""

from __future__ import annotations

import ast
import os
import tempfile
import textwrap

import libcst as cst
import pytest

from txlint.analysis import analyze
from txlint.context import FileContext, Fix, Options
from txlint.rules._celery_examples import EXT, INVALID_301, MODELS, CELERY

CODES = frozenset({"TXL301"})


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def run(files: dict[str, str], check: str, *, unsafe: bool = True, want_fixes: bool = True):
    with tempfile.TemporaryDirectory(prefix="txlint-unsafe-") as root:
        for rel, text in files.items():
            full = os.path.join(root, rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as handle:
                handle.write(text)
        options = Options(enabled=CODES, want_fixes=want_fixes, unsafe_fixes=unsafe, project_root=root)
        first = analyze(os.path.join(root, check), check, options)
        again = None
        if first.fixed_source is not None:
            with open(os.path.join(root, check), "w", encoding="utf-8") as handle:
                handle.write(first.fixed_source)
            again = analyze(os.path.join(root, check), check, options)
        return first, again


def fsa(tasks: str, **extra) -> dict[str, str]:
    files = {"app/__init__.py": "", "app/extensions.py": EXT, "app/celery_app.py": CELERY,
             "app/models.py": MODELS, "app/tasks.py": d(tasks)}
    files.update(extra)
    return files


TASK = '''
    from app.celery_app import celery
    from app.extensions import db
    from app.models import User


    @celery.task
    def mark_verified(user_id):
        """Mark a user as verified."""

        # load the user
        user = db.session.get(User, user_id)
        user.verified = True  # the flag
        db.session.commit()
'''


def test_task_body_is_wrapped_in_try_finally_remove():
    first, again = run(fsa(TASK), "app/tasks.py")
    assert [x.code for x in first.diagnostics] == ["TXL301"]
    assert first.fixed_source == d('''
        from app.celery_app import celery
        from app.extensions import db
        from app.models import User


        @celery.task
        def mark_verified(user_id):
            """Mark a user as verified."""

            try:
                # load the user
                user = db.session.get(User, user_id)
                user.verified = True  # the flag
                db.session.commit()
            finally:
                db.session.remove()
    ''')
    assert again.diagnostics == [] and again.fixed_source is None   # clears the finding; idempotent


def test_never_offered_without_unsafe_fixes():
    first, _ = run(fsa(TASK), "app/tasks.py", unsafe=False)
    assert [x.code for x in first.diagnostics] == ["TXL301"]
    assert first.fixed_source is None


def test_unsafe_flag_alone_without_want_fixes_gives_nothing():
    first, _ = run(fsa(TASK), "app/tasks.py", want_fixes=False)
    assert first.fixed_source is None and first.diagnostics


@pytest.mark.parametrize("index", range(len(INVALID_301)))
def test_every_invalid_example_is_fixed_or_left_alone_and_fixes_clear_the_finding(index):
    example = INVALID_301[index]
    files, check = example.project(), example.checked_path()
    first, again = run(files, check)
    assert any(x.code == "TXL301" for x in first.diagnostics)
    if first.fixed_source is None:
        return
    ast.parse(first.fixed_source)
    assert "finally:" in first.fixed_source
    assert [x for x in again.diagnostics if x.code == "TXL301"] == []
    assert again.fixed_source is None


def test_most_invalid_examples_get_a_fix():
    fixed = sum(1 for e in INVALID_301 if run(e.project(), e.checked_path())[0].fixed_source is not None)
    assert fixed >= len(INVALID_301) - 3


def test_scoped_session_registry_is_removed_by_its_own_name():
    files = {"worker/__init__.py": "", "worker/celery_app.py": CELERY,
             "worker/db.py": d('''
                 from sqlalchemy import create_engine
                 from sqlalchemy.orm import scoped_session, sessionmaker

                 engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)
                 Registry = scoped_session(sessionmaker(bind=engine))
             '''),
             "worker/tasks.py": d('''
                 from worker.celery_app import celery
                 from worker.db import Registry as S


                 @celery.task
                 def count():
                     return S.query(1).count()
             ''')}
    first, again = run(files, "worker/tasks.py")
    assert "    finally:\n        S.remove()\n" in first.fixed_source
    assert again.diagnostics == []


def test_module_level_plain_session_is_closed():
    files = {"worker/__init__.py": "", "worker/celery_app.py": CELERY,
             "worker/tasks.py": d('''
                 from sqlalchemy import create_engine
                 from sqlalchemy.orm import sessionmaker

                 from worker.celery_app import celery

                 SessionLocal = sessionmaker(bind=create_engine("postgresql://app@db/app", pool_pre_ping=True))
                 session = SessionLocal()


                 @celery.task
                 def tally():
                     return session.execute("SELECT count(*) FROM events").scalar()
             ''')}
    first, again = run(files, "worker/tasks.py")
    assert "    finally:\n        session.close()\n" in first.fixed_source
    assert again.diagnostics == []


def test_async_task_and_class_based_task():
    first, again = run(fsa('''
        from celery import Task

        from app.celery_app import celery
        from app.extensions import db
        from app.models import User


        @celery.task
        async def notify(user_id):
            user = db.session.get(User, user_id)
            return user.email


        class ReportTask(Task):
            def run(self, user_id):
                return db.session.get(User, user_id).email
    '''), "app/tasks.py")
    assert len(first.diagnostics) == 2
    out = first.fixed_source
    assert out.count("finally:") == 2 and "async def notify" in out
    assert "        try:\n            return db.session.get(User, user_id).email\n        finally:\n" in out
    assert again.diagnostics == []


def test_no_fix_when_the_task_module_cannot_name_the_registry():
    # the session is used through a helper module; the task's module does not import `db`
    first, _ = run(fsa('''
        from app.celery_app import celery
        from app.services import refresh_all


        @celery.task
        def nightly_refresh():
            refresh_all()
    ''', **{"app/services.py": d('''
        from app.extensions import db
        from app.models import User


        def refresh_all():
            for user in User.query.all():
                db.session.add(user)
            db.session.commit()
    ''')}), "app/tasks.py")
    assert [x.code for x in first.diagnostics] == ["TXL301"] and first.fixed_source is None


def test_no_fix_when_a_local_name_shadows_the_registry():
    first, _ = run(fsa('''
        from app.celery_app import celery
        from app.extensions import db
        from app.models import User


        @celery.task
        def count(db=None):
            return User.query.count()
    '''), "app/tasks.py")
    assert [x.code for x in first.diagnostics] == ["TXL301"] and first.fixed_source is None


def test_no_fix_for_a_one_line_task_body():
    first, _ = run(fsa('''
        from app.celery_app import celery
        from app.extensions import db


        @celery.task
        def ping(): return db.session.execute("SELECT 1")
    '''), "app/tasks.py")
    assert [x.code for x in first.diagnostics] == ["TXL301"] and first.fixed_source is None


def test_unsafe_fix_objects_are_dropped_without_unsafe_fixes():
    text = "x = 1\n"
    for unsafe, expected in ((False, None), (True, "y = 1\n")):
        ctx = FileContext("app.py", "app.py", text, ast.parse(text),
                          Options(enabled=frozenset({"TXL402"}), want_fixes=True, unsafe_fixes=unsafe))
        stmt = ctx.module.body[0]
        ctx.report("TXL402", stmt, "message", fix=Fix(stmt, stmt.with_changes(body=[
            stmt.body[0].with_changes(targets=[cst.AssignTarget(cst.Name("y"))])]), unsafe=True))
        diags, fixed = ctx.finish({"TXL402": "engine-without-liveness-check"})
        assert len(diags) == 1 and fixed == expected


# ------------------------------------------------------------------------------ command line
def test_cli_diff_and_fix_with_and_without_unsafe_fixes(project):
    for rel, text in fsa(TASK).items():
        project.write(rel, text)
    plain = project.run("--no-cache", "--diff", "app/tasks.py")
    assert "remove()" not in plain.out and plain.rc == 0
    unsafe = project.run("--no-cache", "--diff", "--unsafe-fixes", "app/tasks.py")
    assert unsafe.rc == 1
    assert "+    finally:" in unsafe.out and "+        db.session.remove()" in unsafe.out
    assert (project.root / "app/tasks.py").read_text() == d(TASK)        # --diff writes nothing
    fixed = project.run("--no-cache", "--fix", "--unsafe-fixes", "app/tasks.py")
    assert fixed.rc == 0, fixed.out + fixed.err
    assert "db.session.remove()" in (project.root / "app/tasks.py").read_text()
    assert project.run("--no-cache", "app/tasks.py").codes() == set()


def test_cli_help_lists_the_option(project):
    out = project.run("--help").out
    assert "--unsafe-fixes" in out
