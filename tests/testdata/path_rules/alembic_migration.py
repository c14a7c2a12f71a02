"""backfill user display names

Revision ID: 3f2a9c1d7b44
Revises: 9e8d7c6b5a41
"""
import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "3f2a9c1d7b44"
down_revision = "9e8d7c6b5a41"
log = logging.getLogger("alembic.runtime.migration")

users = sa.table("users", sa.column("id", sa.Integer), sa.column("first", sa.String),
                 sa.column("last", sa.String), sa.column("display_name", sa.String))


# Clean (§7): op.get_bind() is borrowed from Alembic's migration context.
def _max_user_id():
    bind = op.get_bind()
    return bind.execute(sa.select(sa.func.max(users.c.id))).scalar() or 0


# Leak: an ORM session built on the migration's connection is never closed.
def _backfill_with_session():
    bind = op.get_bind()
    session = Session(bind=bind)  # expect: TXL201, TXL202
    for row in session.execute(sa.select(users.c.id, users.c.first, users.c.last)):
        session.execute(
            users.update().where(users.c.id == row.id).values(display_name=f"{row.first} {row.last}")
        )
    session.flush()


# Clean: `with Session(...)` closes the session.
def _clear_blank_names():
    with Session(bind=op.get_bind()) as session:
        session.execute(users.update().where(users.c.display_name == "").values(display_name=None))
        session.flush()


# Cursor leak on the raw DBAPI connection behind the migration's connection.
def _analyze_users():
    raw = op.get_bind().connection
    cursor = raw.cursor()  # expect: TXL201, TXL202
    cursor.execute("ANALYZE users")


def upgrade():
    op.add_column("users", sa.Column("display_name", sa.String(200), nullable=True))
    if _max_user_id():
        _backfill_with_session()
        _clear_blank_names()
        _analyze_users()
    log.info("display names backfilled")


def downgrade():
    op.drop_column("users", "display_name")
