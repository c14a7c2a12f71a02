"""A schema tool that is handed its engine: only the annotation says what it is."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session


class SchemaTool:
    def __init__(self, engine: "Engine") -> None:
        self._engine = engine

    def mark_applied(self, version: str) -> None:
        conn = self._engine.connect()  # expect: TXL201, TXL202
        with conn.begin():
            conn.execute("INSERT INTO versions VALUES (:v)", {"v": version})

    def applied(self) -> list:
        with self._engine.connect() as conn:
            return list(conn.execute("SELECT v FROM versions"))


def purge(session: Optional["Session"], days: int) -> None:
    # the caller owns the session (a function never owns its parameters) ...
    session.execute("DELETE FROM events WHERE age > :d", {"d": days})
    # ... but the transaction begun here is this function's to end
    session.begin_nested()  # expect: TXL101, TXL102
    session.execute("DELETE FROM audit")
