from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

engine: Engine | None = None
_fallback = None


def setup(url: str) -> None:
    global engine
    engine = create_engine(url, pool_pre_ping=True)


def current_engine() -> Engine:
    return engine


def fallback_engine():
    global _fallback
    if _fallback is None:
        _fallback = create_engine("postgresql://replica/app", pool_recycle=3600)
    return _fallback
