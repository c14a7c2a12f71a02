from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session


class AppSQLAlchemy(SQLAlchemy):
    """A project subclass of a library class the table describes (Redash's RedashSQLAlchemy)."""

    def apply_pool_defaults(self, app, options):
        options["pool_pre_ping"] = True
        return options


db = AppSQLAlchemy()


class AuditSession(Session):
    def log(self, what):
        self.execute("INSERT INTO audit VALUES (:w)", {"w": what})
