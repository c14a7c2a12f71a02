from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("postgresql://reports@warehouse/facts", pool_pre_ping=True)
WarehouseSession = scoped_session(sessionmaker(bind=engine))
ArchiveSession = scoped_session(sessionmaker(bind=engine))

dashboard = Flask("dashboard")


@dashboard.teardown_appcontext
def remove_warehouse_session(exception=None):
    WarehouseSession.remove()


@dashboard.teardown_request
def remove_archive_session(exception=None):
    ArchiveSession.remove()
