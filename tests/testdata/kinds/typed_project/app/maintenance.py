from app import config
from app.config import current_engine


def wipe() -> None:
    conn = config.current_engine().connect()  # expect: TXL201, TXL202
    with conn.begin():
        drop_everything(conn)


def wipe_global() -> None:
    conn = config.engine.connect()  # expect: TXL201, TXL202
    conn.exec_driver_sql("TRUNCATE jobs")


def wipe_replica() -> None:
    conn = config.fallback_engine().connect()  # expect: TXL201, TXL202
    conn.exec_driver_sql("TRUNCATE jobs")


def count() -> int:
    with current_engine().connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM jobs").scalar()


def drop_everything(conn) -> None:
    conn.exec_driver_sql("DROP SCHEMA public CASCADE")
