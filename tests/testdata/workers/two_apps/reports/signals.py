"""Removes the reports' own scoped session after each task: not the shop's db.session."""
from celery.signals import task_postrun

from reports.warehouse import engine
from sqlalchemy.orm import scoped_session, sessionmaker

LedgerSession = scoped_session(sessionmaker(bind=engine))


@task_postrun.connect
def remove_ledger_session(**kwargs):
    LedgerSession.remove()
