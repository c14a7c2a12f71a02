"""VALID / INVALID examples of TXL301 (kept apart from the rule's logic for readability)."""

from __future__ import annotations

from txlint.registry import ex

EXT = "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n"
CELERY = "from celery import Celery\n\ncelery = Celery(__name__, broker='redis://localhost:6379/0')\n"
MODELS = ("from app.extensions import db\n\n\nclass User(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
          "    email = db.Column(db.String(200))\n\n\nclass Invoice(db.Model):\n"
          "    id = db.Column(db.Integer, primary_key=True)\n    paid = db.Column(db.Boolean)\n")
DBMOD = ("from sqlalchemy import create_engine\nfrom sqlalchemy.orm import scoped_session, sessionmaker\n\n"
         "engine = create_engine('postgresql://app@db/app', pool_pre_ping=True)\n"
         "Session = scoped_session(sessionmaker(bind=engine))\nSessionLocal = sessionmaker(bind=engine)\n")


def fsa(tasks: str, *, signals: str | None = None, extra: dict | None = None, note: str = ""):
    files = {"app/__init__.py": "", "app/extensions.py": EXT, "app/celery_app.py": CELERY,
             "app/models.py": MODELS, "app/tasks.py": tasks}
    if signals is not None:
        files["app/signals.py"] = signals
    files.update(extra or {})
    return ex(files=files, check="app/tasks.py", note=note)


def scoped(tasks: str, *, extra: dict | None = None, note: str = ""):
    files = {"worker/__init__.py": "", "worker/db.py": DBMOD, "worker/celery_app.py": CELERY, "worker/tasks.py": tasks}
    files.update(extra or {})
    return ex(files=files, check="worker/tasks.py", note=note)


INVALID_301 = [
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef mark_verified(user_id):  # expect: TXL301\n    user = db.session.get(User, user_id)\n    user.verified = True\n    db.session.commit()\n'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task(bind=True, max_retries=3)\ndef charge(self, invoice_id):  # expect: TXL301\n    invoice = Invoice.query.get(invoice_id)\n    invoice.paid = True\n    db.session.commit()\n'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef count_users():  # expect: TXL301\n    return User.query.count()\n', note='Model.query uses db.session'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef close_invoice(invoice_id):  # expect: TXL301\n    invoice = db.session.get(Invoice, invoice_id)\n    if invoice is None:\n        return\n    invoice.paid = True\n    db.session.commit()\n    db.session.remove()\n', note='early return skips the remove()'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef rebuild(user_id):  # expect: TXL301\n    user = db.session.get(User, user_id)\n    user.email = user.email.lower()\n    db.session.commit()\n    db.session.remove()\n', note='an exception skips the remove()'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef sync(user_id):  # expect: TXL301\n    try:\n        user = db.session.get(User, user_id)\n        user.email = user.email.strip()\n    finally:\n        db.session.commit()\n', note='a finally that only commits is not cleanup'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom celery import shared_task\n\n\n@shared_task\ndef purge_unpaid():  # expect: TXL301\n    Invoice.query.filter_by(paid=False).delete()\n    db.session.commit()\n'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom celery import shared_task\n\nfrom app.services import export_user\n\n\n@shared_task(bind=True, acks_late=True)\ndef export(self, user_id):  # expect: TXL301\n    return export_user(user_id)\n', extra={'app/services.py': 'from app.extensions import db\nfrom app.models import User\n\n\ndef export_user(user_id):\n    user = db.session.get(User, user_id)\n    return {"id": user.id, "email": user.email}\n'}, note='use through a project helper'),
    fsa('from app.celery_app import celery\nfrom app.services import refresh_all\n\n\n@celery.task\ndef nightly_refresh():  # expect: TXL301\n    refresh_all()\n', extra={'app/services.py': 'from app.extensions import db\nfrom app.models import User\n\n\ndef _touch(user):\n    user.email = user.email\n    db.session.add(user)\n\n\ndef refresh_all():\n    for user in User.query.all():\n        _touch(user)\n    db.session.commit()\n'}, note='two levels of helpers'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom celery import Task\n\n\nclass ReportTask(Task):\n    name = "reports.build"\n\n    def run(self, user_id):  # expect: TXL301\n        user = db.session.get(User, user_id)\n        return user.email\n', note='class-based task: reported on run'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nclass LoggingTask(celery.Task):\n    def after_return(self, status, retval, task_id, args, kwargs, einfo):\n        print("task", task_id, status)\n\n\n@celery.task(base=LoggingTask)\ndef audit(user_id):  # expect: TXL301\n    db.session.add(User(id=user_id))\n    db.session.commit()\n', note='an after_return that only logs is not cleanup'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef ok_task():\n    return 1\n\n\n@celery.task\ndef bad_task(user_id):  # expect: TXL301\n    db.session.delete(db.session.get(User, user_id))\n    db.session.commit()\n'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef touch(user_id):  # expect: TXL301\n    user = User.query.get(user_id)\n    user.email = user.email\n    db.session.commit()\n', signals='from celery.signals import worker_process_init\n\nfrom app.extensions import db\n\n\n@worker_process_init.connect\ndef reset_engine(**kwargs):\n    db.engine.dispose()\n', note='worker_process_init that only disposes the engine is not cleanup'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef archive(invoice_id):  # expect: TXL301\n    invoice = db.session.get(Invoice, invoice_id)\n    db.session.delete(invoice)\n    db.session.commit()\n', signals='from celery.signals import task_failure\n\nfrom app.extensions import db\n\n\n@task_failure.connect\ndef on_fail(**kwargs):\n    db.session.rollback()\n', note='a task_failure handler that only rolls back does not remove'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef async_email(user_id):  # expect: TXL301\n    user = db.session.query(User).filter(User.id == user_id).one()\n    return user.email\n', extra={'app/web.py': 'from flask import Flask\n\nfrom app.extensions import db\n\napp = Flask(__name__)\n\n\n@app.teardown_appcontext\ndef shutdown(exc=None):\n    db.session.remove()\n'}, note='Flask teardown does not run in a worker without an app context'),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\n@celery.task\ndef import_rows(rows):  # expect: TXL301\n    session = Session()\n    for row in rows:\n        session.execute(row)\n    session.commit()\n', note='Session() of a scoped registry'),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\n@celery.task\ndef count():  # expect: TXL301\n    return Session.query(1).count()\n'),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\n@celery.task(bind=True)\ndef cleanup(self):  # expect: TXL301\n    try:\n        Session.execute("DELETE FROM tokens WHERE expired")\n        Session.commit()\n    except Exception as exc:\n        Session.rollback()\n        raise self.retry(exc=exc)\n', note='rollback in except is not removal'),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\nfrom celery import shared_task\n\n\n@shared_task\ndef one():  # expect: TXL301\n    Session.execute("SELECT 1")\n\n\n@shared_task\ndef two():  # expect: TXL301\n    Session.execute("SELECT 2")\n'),
    scoped('from worker.celery_app import celery\nfrom worker.db import SessionLocal\n\nsession = SessionLocal()\n\n\n@celery.task\ndef tally():  # expect: TXL301\n    return session.execute("SELECT count(*) FROM events").scalar()\n', note='a module-level session'),
    fsa('from celery import Celery\nfrom flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\napp = Celery("proj")\n\n\n@app.task\ndef ping():  # expect: TXL301\n    db.session.execute("SELECT 1")\n', note='everything in one module'),
    fsa('from platform_ext import db\nfrom platform_ext import celery_app\n\n\n@celery_app.task\ndef refresh(key):  # expect: TXL301\n    db.session.execute("UPDATE cache SET stale = true WHERE key = :k", {"k": key})\n    db.session.commit()\n', note='db and the app come from outside the analysed tree: Flask-SQLAlchemy convention'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\nasync def notify(user_id):  # expect: TXL301\n    user = db.session.get(User, user_id)\n    return user.email\n'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom celery import Task\n\n\nclass BaseJob(Task):\n    abstract = True\n\n\nclass Reindex(BaseJob):\n    def run(self):  # expect: TXL301\n        self.load()\n\n    def load(self):\n        return User.query.all()\n', note='class-based task through a method'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef flag(user_id):  # expect: TXL301\n    if user_id:\n        try:\n            db.session.get(User, user_id)\n        finally:\n            db.session.remove()\n    db.session.execute("SELECT 1")\n', note='one use outside the try/finally'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef partial(user_id):  # expect: TXL301\n    db.session.get(User, user_id)\n    try:\n        db.session.commit()\n    finally:\n        db.session.remove()\n', note='a use before the try is not covered'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom app.helpers import cleanup\n\n\n@celery.task\ndef maybe(user_id):  # expect: TXL301\n    db.session.get(User, user_id)\n    if user_id > 10:\n        cleanup()\n', extra={'app/helpers.py': 'from app.extensions import db\n\n\ndef cleanup():\n    db.session.remove()\n'}, note='cleanup only on one branch'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task(name="invoices.mark", ignore_result=True, autoretry_for=(Exception,))\ndef mark(ids):  # expect: TXL301\n    db.session.query(Invoice).filter(Invoice.id.in_(ids)).update({"paid": True})\n    db.session.commit()\n'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef dual(user_id):  # expect: TXL301\n    with db.session.begin():\n        db.session.add(User(id=user_id))\n', note='session.begin() commits but does not remove'),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\n@celery.task\ndef other(rows):  # expect: TXL301\n    Session.add_all(rows)\n    Session.commit()\n', extra={'worker/signals.py': 'from celery.signals import task_postrun\n\nfrom worker.other_db import OtherSession\n\n\n@task_postrun.connect\ndef remove(**kwargs):\n    OtherSession.remove()\n', 'worker/other_db.py': 'from sqlalchemy.orm import scoped_session, sessionmaker\n\nOtherSession = scoped_session(sessionmaker())\n'}, note='the handler removes a different registry'),
]

VALID_301 = [
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef mark_verified(user_id):\n    try:\n        user = db.session.get(User, user_id)\n        user.verified = True\n        db.session.commit()\n    finally:\n        db.session.remove()\n'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef mark(user_id):\n    user = db.session.get(User, user_id)\n    user.verified = True\n    db.session.commit()\n', signals='from celery.signals import task_postrun\n\nfrom app.extensions import db\n\n\n@task_postrun.connect\ndef close_session(*args, **kwargs):\n    db.session.remove()\n', note='task_postrun handler in another module'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef mark(user_id):\n    User.query.get(user_id)\n', signals='from celery import signals\n\nfrom app import extensions\n\n\ndef _cleanup(**kwargs):\n    extensions.db.session.remove()\n\n\nsignals.task_prerun.connect(_cleanup)\n', note='task_prerun.connect(handler) call form'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef mark(user_id):\n    User.query.get(user_id)\n', signals='from celery.signals import task_postrun\n\nfrom app.extensions import db\n\n\ndef _really_close():\n    db.session.close()\n\n\n@task_postrun.connect(weak=False)\ndef close_session(**kwargs):\n    _really_close()\n', note='the handler closes through a helper'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom flask import Flask\n\nflask_app = Flask(__name__)\n\n\n@celery.task\ndef mark(user_id):\n    with flask_app.app_context():\n        user = db.session.get(User, user_id)\n        user.verified = True\n        db.session.commit()\n', note='Flask app context around the body'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nclass ContextTask(celery.Task):\n    def __call__(self, *args, **kwargs):\n        from app.web import app\n\n        with app.app_context():\n            return self.run(*args, **kwargs)\n\n\n@celery.task(base=ContextTask)\ndef mark(user_id):\n    User.query.get(user_id).verified = True\n    db.session.commit()\n', note='a base Task class that runs tasks in an app context'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nclass DbTask(celery.Task):\n    abstract = True\n\n    def after_return(self, *args, **kwargs):\n        db.session.remove()\n\n\n@celery.task(base=DbTask, bind=True)\ndef mark(self, user_id):\n    db.session.get(User, user_id)\n', note='after_return removes the session'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom celery import Task\n\n\nclass ReportTask(Task):\n    def run(self, user_id):\n        return db.session.get(User, user_id).email\n\n    def after_return(self, status, retval, task_id, args, kwargs, einfo):\n        db.session.remove()\n', note='class-based task with after_return'),
    fsa('from app.factory import celery\nfrom app.extensions import db\n\n\n@celery.task\ndef mark(user_id):\n    db.session.execute("UPDATE users SET verified = true WHERE id = :i", {"i": user_id})\n    db.session.commit()\n', extra={'app/factory.py': 'from celery import Celery\nfrom flask import Flask\n\n\ndef make_celery(app):\n    celery = Celery(app.import_name)\n\n    class ContextTask(celery.Task):\n        def __call__(self, *args, **kwargs):\n            with app.app_context():\n                return self.run(*args, **kwargs)\n\n    celery.Task = ContextTask\n    return celery\n\n\nflask_app = Flask(__name__)\ncelery = make_celery(flask_app)\n'}, note="the Flask docs' make_celery pattern"),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef pure(x, y):\n    return x + y\n', note='no database at all'),
    fsa('from app.celery_app import celery\nfrom app.db import SessionLocal\n\n\n@celery.task\ndef own_session(user_id):\n    session = SessionLocal()\n    try:\n        return session.execute("SELECT 1").scalar()\n    finally:\n        session.close()\n', extra={'app/db.py': 'from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n'}, note="a session of its own from a sessionmaker is TXL201's business"),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route("/users/<int:user_id>")\ndef show(user_id):\n    return db.session.get(User, user_id).email\n\n\n@app.cli.command("verify")\ndef verify():\n    User.query.update({"verified": True})\n    db.session.commit()\n', note='Flask views and CLI commands are not tasks'),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\n@celery.task\ndef import_rows(rows):\n    session = Session()\n    try:\n        for row in rows:\n            session.execute(row)\n        session.commit()\n    finally:\n        Session.remove()\n'),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\n@celery.task\ndef count():\n    try:\n        return Session.query(1).count()\n    finally:\n        Session.close()\n', note="close() on the registry closes the thread's session"),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\n@celery.task\ndef count():\n    return Session.query(1).count()\n', extra={'worker/signals.py': 'from celery.signals import task_postrun\n\nfrom worker.db import Session\n\n\n@task_postrun.connect\ndef remove_session(sender=None, **kwargs):\n    Session.remove()\n'}),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\n@celery.task\ndef count():\n    with Session() as session:\n        return session.execute("SELECT 1").scalar()\n', note="`with Session()` closes the thread's session"),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom app.helpers import finish\n\n\n@celery.task\ndef mark(user_id):\n    try:\n        db.session.get(User, user_id)\n    finally:\n        finish()\n', extra={'app/helpers.py': 'from app.extensions import db\n\n\ndef finish():\n    try:\n        db.session.commit()\n    finally:\n        db.session.remove()\n'}, note='finally calls a project helper that removes, whatever the commit does'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef mark(user_id):\n    try:\n        db.session.get(User, user_id)\n        if user_id < 0:\n            return None\n        db.session.commit()\n    except Exception:\n        db.session.rollback()\n        raise\n    finally:\n        db.session.remove()\n', note='early return inside try/finally still removes'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\ndef helper(user_id):\n    try:\n        return db.session.get(User, user_id)\n    finally:\n        db.session.remove()\n\n\n@celery.task\ndef mark(user_id):\n    return helper(user_id).email\n', note='the helper cleans up after itself'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef schedule(user_id):\n    from app.other import notify\n\n    notify.delay(user_id)\n', note="calling another task's delay is not a use"),
    fsa('from celery import shared_task\n\nfrom app.extensions import db\n\n\ndef not_a_task(user_id):\n    return db.session.execute("SELECT 1")\n\n\n@shared_task\ndef wrapper():\n    return 42\n'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef mark(user_id):\n    db.session.get(User, user_id)\n', extra={'app/worker.py': 'from celery.signals import task_postrun\n\nfrom app.celery_app import celery\nfrom app.extensions import db\n\n\n@task_postrun.connect\ndef shutdown_session(**kwargs):\n    try:\n        db.session.commit()\n    finally:\n        db.session.remove()\n'}, note='handler with try/finally'),
    fsa('from platform_ext import db, celery_app\n\n\n@celery_app.task\ndef refresh(key):\n    try:\n        db.session.execute("UPDATE cache SET stale = true")\n        db.session.commit()\n    finally:\n        db.session.remove()\n', note='external db, cleaned'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom app.tasks_base import SessionTask\n\n\n@celery.task(base=SessionTask)\ndef mark(user_id):\n    db.session.get(User, user_id)\n', extra={'app/tasks_base.py': 'from celery import Task\n\nfrom app.extensions import db\n\n\nclass SessionTask(Task):\n    def __call__(self, *args, **kwargs):\n        try:\n            return super().__call__(*args, **kwargs)\n        finally:\n            db.session.remove()\n'}, note='base Task class in another module whose __call__ removes in finally'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom app.bases import DbTask\n\n\nclass Nightly(DbTask):\n    def run(self):\n        return User.query.count()\n', extra={'app/bases.py': 'from celery import Task\n\nfrom app.extensions import db\n\n\nclass DbTask(Task):\n    def after_return(self, *a, **kw):\n        db.session.remove()\n'}, note='class-based task inheriting after_return'),
    fsa('from celery import Celery\nfrom flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\napp = Celery("proj")\n\n\n@app.task\ndef ping():\n    db.session.execute("SELECT 1")\n\n\n@app.task\ndef pong():\n    db.session.execute("SELECT 2")\n\n\nfrom celery.signals import task_postrun\n\n\n@task_postrun.connect\ndef _remove(**kw):\n    db.session.remove()\n', note='handler in the same module'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef use_engine():\n    with db.engine.connect() as conn:\n        conn.execute("SELECT 1")\n', note='a connection of its own, not the scoped session'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\nfrom unknown_lib import task as remote_task\n\n\n@remote_task\ndef compute(user_id):\n    db.session.get(User, user_id)\n', note='an unknown decorator is not a Celery task'),
    fsa('from app.celery_app import celery\nfrom app.extensions import db\nfrom app.models import User, Invoice\n\n\n@celery.task\ndef mark(user_id):\n    def inner():\n        return db.session.get(User, user_id)\n    return user_id\n', note='a nested function that is never called'),
    scoped('from worker.celery_app import celery\nfrom worker.db import Session\n\n\n@celery.task\ndef count():\n    try:\n        return Session.query(1).count()\n    except Exception:\n        Session.rollback()\n        raise\n    finally:\n        Session.remove()\n'),
    fsa('from celery import Celery\n\napp = Celery("proj")\n\n\n@app.task\ndef add(x, y):\n    session = {"user": x}\n    return session.get("user", 0) + y\n', note='a local variable named session'),
    ex(files={"app/__init__.py": """
from celery import Celery, Task
from flask import Flask

from app.extensions import db


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def create_app() -> Flask:
    app = Flask(__name__)
    db.init_app(app)
    celery_init_app(app)
    return app
""", "app/extensions.py": EXT, "app/tasks.py": """
from celery import shared_task

from app.extensions import db


@shared_task(ignore_result=False)
def count_users() -> int:
    return db.session.execute(db.text("SELECT count(*) FROM users")).scalar()
"""}, check="app/tasks.py", note="the Flask documentation's celery_init_app: task_cls runs every task in an app context"),
]


# ---------------------------------------------------------------- per app and per registry (contract §15)
CONTEXT_TASK = """
from celery import Celery, Task
from flask import Flask

from {pkg}.extensions import db

flask_app = Flask(__name__)
db.init_app(flask_app)


class ContextTask(Task):
    def __call__(self, *args, **kwargs):
        with flask_app.app_context():
            return self.run(*args, **kwargs)


celery = Celery("{pkg}", task_cls=ContextTask)
"""
PLAIN_APP = """
from celery import Celery

celery = Celery("{pkg}")
"""


def two_apps(tasks: str, *, check: str, extra: dict | None = None, note: str = ""):
    """Two Celery apps in one project: ``web`` installs an app-context Task class, ``batch`` does not."""
    files = {"web/__init__.py": "", "web/extensions.py": EXT, "web/worker.py": CONTEXT_TASK.format(pkg="web"),
             "batch/__init__.py": "", "batch/worker.py": PLAIN_APP.format(pkg="batch"), check: tasks}
    files.update(extra or {})
    return ex(files=files, check=check, note=note)


FLASK_SCOPED = """
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("postgresql://app@db/app", pool_pre_ping=True)
Session = scoped_session(sessionmaker(bind=engine))
app = Flask(__name__)
"""


def flask_scoped(tasks: str, *, teardown: str = "", note: str = ""):
    """Flask with a plain ``scoped_session`` (no Flask-SQLAlchemy): ``site/db.py``."""
    files = {"site/__init__.py": "", "site/db.py": FLASK_SCOPED + teardown,
             "site/worker.py": PLAIN_APP.format(pkg="site"), "site/tasks.py": tasks}
    return ex(files=files, check="site/tasks.py", note=note)


TEARDOWN = """

@app.teardown_appcontext
def shutdown_session(exception=None):
    Session.remove()
"""

INVALID_301 += [
    two_apps("""
        from batch.worker import celery
        from web.extensions import db


        @celery.task
        def nightly_totals():  # expect: TXL301
            return db.session.execute(db.text("SELECT sum(total) FROM orders")).scalar()
    """, check="batch/tasks.py", note="the other app of the project installs an app-context Task class, not this one"),
    two_apps("""
        from celery import shared_task

        from web.extensions import db


        @shared_task
        def archive():  # expect: TXL301
            db.session.execute(db.text("DELETE FROM sessions WHERE expired"))
            db.session.commit()
    """, check="jobs/tasks.py", extra={"jobs/__init__.py": ""},
        note="a shared task of a package with no app runs on every app of the project: batch does not cover it"),
    two_apps("""
        from celery import shared_task

        from web.extensions import db


        @shared_task
        def archive():  # expect: TXL301
            db.session.execute(db.text("DELETE FROM sessions WHERE expired"))
    """, check="web/tasks.py", extra={"web/beat.py": PLAIN_APP.format(pkg="web_beat")},
        note="its own package defines two apps and only one installs the Task class"),
    fsa("""
        from app.celery_app import celery
        from app.extensions import db
        from app.models import User


        @celery.task
        def mark(user_id):  # expect: TXL301
            db.session.get(User, user_id).verified = True
            db.session.commit()
    """, extra={"reports/__init__.py": "", "reports/extensions.py": EXT,
                "reports/signals.py": """
                    from celery.signals import task_postrun

                    from reports.extensions import db


                    @task_postrun.connect
                    def remove_reports_session(**kwargs):
                        db.session.remove()
                """}, note="the task_postrun handler removes another Flask-SQLAlchemy db"),
    fsa("""
        from app.celery_app import celery
        from app.extensions import db
        from app.models import User


        @celery.task
        def mark(user_id):  # expect: TXL301
            db.session.get(User, user_id).verified = True
            db.session.commit()
    """, signals="""
        from celery.signals import task_postrun

        from app.extensions import db


        @task_postrun.connect
        def close_session(**kwargs):
            db.session.commit()
            db.session.remove()
    """, note="the handler's commit() can raise and skip the remove()"),
    fsa("""
        from app.celery_app import celery
        from app.extensions import db
        from app.models import User


        @celery.task
        def mark(user_id):  # expect: TXL301
            try:
                db.session.get(User, user_id)
            finally:
                finish()


        def finish():
            db.session.commit()
            db.session.remove()
    """, note="the helper the finally calls commits first: an exception skips its remove()"),
    fsa("""
        from app.celery_app import celery
        from app.extensions import db
        from app.models import User

        from app.services import load_and_forget


        @celery.task
        def mark(user_id):  # expect: TXL301
            return load_and_forget(user_id)
    """, extra={"app/services.py": """
        from app.extensions import db
        from app.models import User


        def load_and_forget(user_id):
            user = db.session.get(User, user_id)
            email = user.email.lower()
            db.session.remove()
            return email
    """}, note="the helper removes the session at its end, which an exception skips"),
    flask_scoped("""
        from site.db import Session, app
        from site.worker import celery


        @celery.task
        def expire(ids):  # expect: TXL301
            with app.app_context():
                Session.execute("UPDATE tokens SET expired = true")
                Session.commit()
    """, note="an app context does not remove a plain scoped_session that no teardown removes"),
    flask_scoped("""
        from site.db import Session, app
        from site.worker import celery


        @celery.task
        def expire(ids):  # expect: TXL301
            with app.app_context():
                Session.execute("UPDATE tokens SET expired = true")
    """, teardown="""

@app.teardown_request
def shutdown_session(exception=None):
    Session.remove()
""", note="teardown_request runs when a request ends, not when an app context does"),
    ex(files={"site/__init__.py": "", "site/db.py": FLASK_SCOPED + "admin = Flask('admin')\n" +
              TEARDOWN.replace("@app.", "@admin."),
              "site/worker.py": PLAIN_APP.format(pkg="site"), "site/tasks.py": """
        from site.db import Session, app
        from site.worker import celery


        @celery.task
        def expire(ids):  # expect: TXL301
            with app.app_context():
                Session.execute("UPDATE tokens SET expired = true")
    """}, check="site/tasks.py", note="the teardown is registered on another Flask app"),
]

VALID_301 += [
    two_apps("""
        from web.extensions import db
        from web.worker import celery


        @celery.task
        def refresh_totals():
            return db.session.execute(db.text("SELECT sum(total) FROM orders")).scalar()
    """, check="web/tasks.py", note="this app installs the app-context Task class (the other one does not)"),
    two_apps("""
        from celery import shared_task

        from web.extensions import db


        @shared_task
        def archive():
            db.session.execute(db.text("DELETE FROM sessions WHERE expired"))
    """, check="web/tasks.py", note="a shared task runs on the apps of its own package"),
    ex(files={"web/__init__.py": "", "web/extensions.py": EXT, "web/celery_app.py": PLAIN_APP.format(pkg="web"),
              "web/flask_app.py": """
        from flask import Flask

        from web.celery_app import celery

        app = Flask(__name__)


        class AppContextTask(celery.Task):
            def __call__(self, *args, **kwargs):
                with app.app_context():
                    return super().__call__(*args, **kwargs)


        celery.Task = AppContextTask
    """, "web/tasks.py": """
        from web.celery_app import celery
        from web.extensions import db


        @celery.task
        def count():
            return db.session.execute(db.text("SELECT 1")).scalar()
    """}, check="web/tasks.py", note="app.Task = ... set on the app object in another module"),
    ex(files={"web/__init__.py": "", "web/extensions.py": EXT + "\nfrom celery import Celery\n\ncelery = Celery()\n",
              "web/factory.py": """
        from flask import Flask

        from web.extensions import celery, db


        def init_celery(app, worker):
            class ContextTask(worker.Task):
                def __call__(self, *args, **kwargs):
                    with app.app_context():
                        return self.run(*args, **kwargs)

            worker.Task = ContextTask


        def create_app():
            app = Flask(__name__)
            db.init_app(app)
            init_celery(app, celery)
            return app
    """, "web/tasks.py": """
        from web.extensions import celery, db


        @celery.task
        def count():
            return db.session.execute(db.text("SELECT 1")).scalar()
    """}, check="web/tasks.py", note="the Task class is installed on the app a factory is given"),
    flask_scoped("""
        from site.db import Session, app
        from site.worker import celery


        @celery.task
        def expire(ids):
            with app.app_context():
                Session.execute("UPDATE tokens SET expired = true")
                Session.commit()
    """, teardown=TEARDOWN, note="the Flask app's teardown_appcontext removes the registry"),
    flask_scoped("""
        from site.db import Session, app
        from site.worker import celery


        @celery.task
        def expire(ids):
            with app.test_request_context():
                Session.execute("UPDATE tokens SET expired = true")
    """, teardown=TEARDOWN.replace("teardown_appcontext", "teardown_request"),
        note="a request context runs the teardown_request functions"),
    fsa("""
        from app.celery_app import celery
        from app.extensions import db
        from app.models import User


        @celery.task
        def mark(user_id):
            db.session.get(User, user_id).verified = True
            db.session.commit()
    """, signals="""
        from celery.signals import task_postrun

        from app.extensions import db


        @task_postrun.connect
        def close_session(**kwargs):
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()
            db.session.remove()
    """, note="a rollback() does not count as a call that can skip the remove() after it"),
    scoped("""
        from sqlalchemy.orm import scoped_session, sessionmaker

        from worker.celery_app import celery
        from worker.db import engine


        @celery.task
        def rebuild(ids):
            Session = scoped_session(sessionmaker(bind=engine))
            try:
                Session.execute("DELETE FROM cache")
                Session.commit()
            finally:
                Session.remove()
    """, note="a registry created inside the task is the task's own resource (TXL201/202), never TXL301"),
]

# the app a Task class is installed on, and the Flask app a teardown belongs to (real-code shapes)
TIMESKETCH_LIKE = {
    "sketch/__init__.py": "",
    "sketch/models.py": """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import scoped_session, sessionmaker

        engine = create_engine("postgresql://sketch@db/sketch", pool_pre_ping=True)
        db_session = scoped_session(sessionmaker(bind=engine))
    """,
    "sketch/app.py": """
        from celery import Celery
        from flask import Flask


        def create_app():
            return Flask(__name__)


        def create_celery_app():
            app = create_app()
            celery = Celery(app.import_name)
            TaskBase = celery.Task

            class ContextTask(TaskBase):
                def __call__(self, *args, **kwargs):
                    with app.app_context():
                        return TaskBase.__call__(self, *args, **kwargs)

            celery.Task = ContextTask
            return celery
    """,
    "sketch/wsgi.py": """
        from sketch.app import create_app
        from sketch.models import db_session

        application = create_app()


        @application.teardown_appcontext
        def shutdown_session(exception=None):
            db_session.remove()
    """,
    "sketch/tasks.py": """
        from sketch.app import create_celery_app
        from sketch.models import db_session

        celery = create_celery_app()


        @celery.task(track_started=True)
        def run_analyzer(analysis_id):  # expect: TXL301
            db_session.execute("UPDATE analysis SET status = 'done' WHERE id = :i", {"i": analysis_id})
            db_session.commit()
    """,
}

INVALID_301 += [
    ex(files=TIMESKETCH_LIKE, check="sketch/tasks.py",
       note="the teardown is registered on the web's app instance (wsgi.py), not on the worker's create_app()"),
    two_apps("""
        from batch.worker import celery
        from web.extensions import db


        @celery.task
        def nightly_totals():  # expect: TXL301
            return db.session.execute(db.text("SELECT sum(total) FROM orders")).scalar()
    """, check="batch/tasks.py", extra={"batch/setup.py": """
        from vendor_plugins import models


        def configure(options):
            from vendor_plugins import SessionTask

            models.Task = SessionTask
    """}, note="an attribute named Task set on something that is not a Celery app installs nothing"),
    ex(files={"geo/__init__.py": "", "geo/extensions.py": EXT, "geo/celery.py": """
        from celery import Celery


        class FlaskCelery(Celery):
            def init_app(self, app):
                self.app = app
                TaskBase = self.Task
                _celery = self

                class ContextTask(TaskBase):
                    def __call__(self, *args, **kwargs):
                        with _celery.app.app_context():
                            return TaskBase.__call__(self, *args, **kwargs)

                self.Task = ContextTask


        celery_app = FlaskCelery("geo")
        export_app = Celery("export")
    """, "geo/tasks.py": """
        from geo.celery import export_app
        from geo.extensions import db


        @export_app.task
        def export(layer_id):  # expect: TXL301
            return db.session.execute(db.text("SELECT * FROM layers WHERE id = :i"), {"i": layer_id}).all()
    """}, check="geo/tasks.py", note="a Celery subclass installs its Task class on its own instances only"),
]

VALID_301 += [
    ex(files={**TIMESKETCH_LIKE, "sketch/app.py": TIMESKETCH_LIKE["sketch/app.py"].replace(
        "        def create_app():\n            return Flask(__name__)\n",
        "        from sketch.models import db_session\n\n\n"
        "        def create_app():\n            app = Flask(__name__)\n\n"
        "            @app.teardown_appcontext\n            def shutdown_session(exception=None):\n"
        "                db_session.remove()\n\n            return app\n"),
        "sketch/tasks.py": TIMESKETCH_LIKE["sketch/tasks.py"].replace("  # expect: TXL301", "")},
       check="sketch/tasks.py", note="a teardown registered in the factory is on every app it makes"),
    ex(files={"geo/__init__.py": "", "geo/extensions.py": EXT, "geo/celery.py": """
        from celery import Celery


        class FlaskCelery(Celery):
            def init_app(self, app):
                self.app = app
                TaskBase = self.Task
                _celery = self

                class ContextTask(TaskBase):
                    def __call__(self, *args, **kwargs):
                        with _celery.app.app_context():
                            return TaskBase.__call__(self, *args, **kwargs)

                self.Task = ContextTask


        celery_app = FlaskCelery("geo")
        export_app = Celery("export")
    """, "geo/tasks.py": """
        from geo.celery import celery_app
        from geo.extensions import db


        @celery_app.task(bind=True)
        def export(self, layer_id):
            return db.session.execute(db.text("SELECT * FROM layers WHERE id = :i"), {"i": layer_id}).all()
    """}, check="geo/tasks.py", note="an instance of the Celery subclass that installs an app-context Task class"),
]

EXTERNAL_APP_TASKS = """
from platform_ext import celery_app, db


@celery_app.task
def refresh(key):{marker}
    db.session.execute("UPDATE cache SET stale = true")
    db.session.commit()
"""
EXTERNAL_APP_SETUP = """
from flask import Flask
from platform_ext import celery_app

web = Flask(__name__)


class ContextTask(celery_app.Task):
    def __call__(self, *args, **kwargs):
        with web.app_context():
            return super().__call__(*args, **kwargs)


celery_app.Task = ContextTask
"""

INVALID_301 += [
    ex(files={"svc/__init__.py": "", "svc/tasks.py": EXTERNAL_APP_TASKS.format(marker="  # expect: TXL301")},
       check="svc/tasks.py", note="an app imported from outside the project, with nothing installed on it"),
]
VALID_301 += [
    ex(files={"svc/__init__.py": "", "svc/tasks.py": EXTERNAL_APP_TASKS.format(marker=""),
              "svc/setup.py": EXTERNAL_APP_SETUP}, check="svc/tasks.py",
       note="an app-context Task class installed on that same outside app object"),
]
