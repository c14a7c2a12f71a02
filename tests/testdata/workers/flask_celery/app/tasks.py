"""db.session is removed by the task_postrun handler in app/signals.py; the warehouse registry is not."""
from app.celery_app import celery
from app.extensions import db
from app.models import Report, User
from app.warehouse import WarehouseSession


@celery.task
def verify(user_id):
    user = User.query.get(user_id)
    user.email = user.email.lower()
    db.session.commit()


@celery.task(bind=True)
def build_report(self, user_id):  # expect: TXL301
    rows = WarehouseSession.execute("SELECT count(*) FROM facts WHERE user_id = :u", {"u": user_id})
    db.session.add(Report(body=str(rows.scalar())))
    db.session.commit()


@celery.task
def safe_report(user_id):
    try:
        return WarehouseSession.execute("SELECT 1").scalar()
    finally:
        WarehouseSession.remove()
