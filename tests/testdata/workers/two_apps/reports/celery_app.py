"""A second Celery app in the same repository: no Task class of its own."""
from celery import Celery

celery = Celery("reports", broker="redis://queue:6379/1")
