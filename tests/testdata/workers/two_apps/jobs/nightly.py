"""The jobs package defines no Celery app: its shared tasks can run on every app of the project,
and the reports app does not remove the shop's session."""
from celery import shared_task

from shop.extensions import db


@shared_task
def vacuum():  # expect: TXL301
    db.session.execute(db.text("VACUUM ANALYZE orders"))
