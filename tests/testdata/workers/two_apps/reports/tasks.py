from reports.celery_app import celery
from reports.signals import LedgerSession
from reports.warehouse import ArchiveSession, WarehouseSession, dashboard
from shop.extensions import db
from shop.models import Order


@celery.task
def weekly_revenue():  # expect: TXL301
    """The shop's app context Task class is installed on the shop's app, not on this one."""
    return db.session.query(db.func.sum(Order.total)).scalar()


@celery.task
def ledger_totals():
    """The task_postrun handler removes LedgerSession."""
    return LedgerSession.execute("SELECT sum(amount) FROM ledger").scalar()


@celery.task
def ledger_and_orders():  # expect: TXL301
    """... but not the shop's db.session."""
    LedgerSession.execute("SELECT 1")
    return Order.query.count()


@celery.task
def facts():
    """The dashboard's teardown_appcontext removes WarehouseSession when the app context ends."""
    with dashboard.app_context():
        return WarehouseSession.execute("SELECT count(*) FROM facts").scalar()


@celery.task
def archive():  # expect: TXL301
    """teardown_request functions do not run when an app context ends."""
    with dashboard.app_context():
        ArchiveSession.execute("DELETE FROM archive WHERE stale")
        ArchiveSession.commit()


@celery.task
def purge():  # expect: TXL301
    """purge_stale() removes the session at its end, which an exception skips."""
    purge_stale()


def purge_stale():
    WarehouseSession.execute("DELETE FROM facts WHERE stale")
    WarehouseSession.commit()
    WarehouseSession.remove()
