"""Django settings: the hard time limit comes from the environment, 30 minutes unless set."""
import os

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")
CELERY_TASK_TIME_LIMIT = int(os.getenv("WORKER_TIMEOUT", 1800))
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
