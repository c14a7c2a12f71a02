"""Shared tasks of the shop package run on the shop's app, which installs an app-context Task class."""
from celery import shared_task

from shop.extensions import db
from shop.models import Order


@shared_task(ignore_result=False)
def ship(order_id: int) -> None:
    order = db.session.get(Order, order_id)
    order.shipped = True
    db.session.commit()


@shared_task
def count_open() -> int:
    return Order.query.filter_by(shipped=False).count()
