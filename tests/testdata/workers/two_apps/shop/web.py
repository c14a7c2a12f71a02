"""The shop's Flask app and its Celery app (the Flask documentation's celery_init_app): every task
of this app runs in an app context, so Flask-SQLAlchemy removes db.session after each."""
from celery import Celery, Task
from flask import Flask

from shop.extensions import db


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.from_prefixed_env()
    db.init_app(app)
    celery_init_app(app)
    return app
