from celery import Celery

celery = Celery("app", broker="redis://localhost:6379/0")
