"""Database setup: engine, session factory and helpers used by the services."""
import logging
import os
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

log = logging.getLogger(__name__)
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True, pool_recycle=3600)
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


# Clean: the new session is returned to the caller (§7), who now owns it.
def get_session():
    return SessionLocal()


# Clean: yielded, committed or rolled back, always closed.
@contextmanager
def session_scope():
    session = SessionLocal()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


# A project function seen to close its argument.
def dispose_session(session):
    try:
        session.rollback()
    finally:
        session.close()


# Leak inside the helper module itself.
def ping_database():
    session = SessionLocal()  # expect: TXL201, TXL202
    session.connection()
    log.debug("database reachable")
    return True
