from celery.signals import task_postrun, worker_process_init

from app.extensions import db
from app.warehouse import engine


@task_postrun.connect
def remove_session(*args, **kwargs):
    db.session.remove()


@worker_process_init.connect
def dispose(**kwargs):
    engine.dispose()
