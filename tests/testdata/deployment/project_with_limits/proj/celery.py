from celery import Celery

app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1)
