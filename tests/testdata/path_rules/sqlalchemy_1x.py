"""Inventory service written against SQLAlchemy 1.3/1.4 (legacy style)."""
import logging
import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session, sessionmaker

log = logging.getLogger("inventory")
engine = create_engine(os.environ["INVENTORY_DB_URL"], pool_pre_ping=True)
SessionFactory = sessionmaker(bind=engine)
ScopedSession = scoped_session(SessionFactory)


# Leak: a session from the factory is never closed; query() can raise (§1).
def find_item(sku):
    session = SessionFactory()  # expect: TXL201, TXL202
    return session.query(Item).filter_by(sku=sku).first()


# Clean: commit, rollback in `except Exception` then raise, close in finally.
def add_item(sku, name, qty):
    session = SessionFactory()
    try:
        session.add(Item(sku=sku, name=name, qty=qty))
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


# Exceptional-path leak: close() only runs when nothing raises.
def rename_item(sku, new_name):
    session = Session(bind=engine)  # expect: TXL202
    item = session.query(Item).filter_by(sku=sku).one()
    item.name = new_name
    session.commit()
    session.close()


# Connection leak on both paths: engine.connect() is never closed.
def stock_levels():
    conn = engine.connect()  # expect: TXL201, TXL202
    result = conn.execute(text("SELECT sku, qty FROM items"))
    return {row.sku: row.qty for row in result}


# Clean: connection closed in finally; the transaction is committed or rolled back.
def restock(sku, amount):
    conn = engine.connect()
    try:
        trans = conn.begin()
        try:
            conn.execute(text("UPDATE items SET qty = qty + :n WHERE sku = :s"), {"n": amount, "s": sku})
            trans.commit()
        except Exception:
            trans.rollback()
            raise
    finally:
        conn.close()


# TXL102: the transaction is open when execute() raises and nothing rolls it back.
# The connection is a borrowed parameter (not ours to close).
def move_stock(conn: Connection, src, dst, qty):
    trans = conn.begin()  # expect: TXL102
    conn.execute(text("UPDATE items SET qty = qty - :q WHERE sku = :s"), {"q": qty, "s": src})
    conn.execute(text("UPDATE items SET qty = qty + :q WHERE sku = :s"), {"q": qty, "s": dst})
    trans.commit()


# TXL101 only: the early return leaves the transaction open; exceptions are rolled back.
def reserve(conn: Connection, sku, qty):
    trans = conn.begin()  # expect: TXL101
    try:
        row = conn.execute(text("SELECT qty FROM items WHERE sku = :s FOR UPDATE"), {"s": sku}).first()
        if row is None or row.qty < qty:
            log.info("not enough %s in stock", sku)
            return False
        conn.execute(text("UPDATE items SET qty = qty - :q WHERE sku = :s"), {"q": qty, "s": sku})
        trans.commit()
    except Exception:
        trans.rollback()
        raise
    return True


# §2: a narrow handler lets other exceptions through with the savepoint open.
def try_insert_alias(session: Session, sku, alias):
    savepoint = session.begin_nested()  # expect: TXL102
    try:
        session.add(ItemAlias(sku=sku, alias=alias))
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


# Clean: commit in else, rollback in except (catches everything).
def bulk_delete(session: Session, skus):
    nested = session.begin_nested()
    try:
        session.query(Item).filter(Item.sku.in_(skus)).delete(synchronize_session=False)
    except:  # noqa: E722
        nested.rollback()
        raise
    else:
        nested.commit()


# Leak: raw_connection() hands out a DB-API connection that must be closed.
def vacuum_items():
    raw = engine.raw_connection()  # expect: TXL201, TXL202
    with raw.cursor() as cur:
        cur.execute("VACUUM ANALYZE items")
    raw.commit()


# Clean: raw connection closed in finally, closing its cursor too.
def copy_items_to(path):
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with open(path, "w") as fh:
            cur.copy_expert("COPY items TO STDOUT WITH CSV HEADER", fh)
    finally:
        raw.close()


# Connection and transaction both leak: the early return skips commit() and close(), and an
# exception in execute() skips them too.
def adjust_qty(sku, delta):
    conn = engine.connect()  # expect: TXL201, TXL202
    trans = conn.begin()  # expect: TXL101, TXL102
    row = conn.execute(text("SELECT qty FROM items WHERE sku = :s"), {"s": sku}).first()
    if row is None:
        return False
    conn.execute(text("UPDATE items SET qty = :q WHERE sku = :s"), {"q": row.qty + delta, "s": sku})
    trans.commit()
    conn.close()
    return True


# The scoped registry is not ours to close (no TXL201), but the explicit begin() on it is left
# open when the recount raises (TXL102); the normal path commits.
def recount_all():
    ScopedSession.begin()  # expect: TXL102
    for item in ScopedSession.query(Item).all():
        item.qty = ScopedSession.query(StockMove).filter_by(sku=item.sku).count()
    ScopedSession.commit()


# Clean: registry transaction ended on every path and the thread's session removed.
def recount_one(sku):
    ScopedSession.begin()
    try:
        item = ScopedSession.query(Item).filter_by(sku=sku).one()
        item.qty = ScopedSession.query(StockMove).filter_by(sku=sku).count()
        ScopedSession.commit()
    except Exception:
        ScopedSession.rollback()
        raise
    finally:
        ScopedSession.remove()


# Leak: sessionmaker(...)() builds a factory and calls it at once; the session is never closed.
def items_below(threshold):
    session = sessionmaker(bind=engine)()  # expect: TXL201, TXL202
    return session.query(Item).filter(Item.qty < threshold).all()


# Clean: Session.connection() is borrowed from the session (§7); the session is closed.
def table_sizes():
    session = SessionFactory()
    try:
        conn = session.connection()
        return dict(conn.execute(text("SELECT relname, n_live_tup FROM pg_stat_user_tables")).all())
    finally:
        session.close()


# Clean: the factory creates nothing until called (lazy, §10); only the factory is returned.
def reporting_sessions():
    return sessionmaker(bind=engine.execution_options(isolation_level="AUTOCOMMIT"))


class StockMove:
    pass


class Item:  # stand-in for the mapped class
    pass


class ItemAlias:
    pass


# A scoped_session registry made inside the function and used directly is the function's own
# resource (contract §15): it must be removed.
def purge_cache(engine):
    Registry = scoped_session(sessionmaker(bind=engine))  # expect: TXL201, TXL202
    Registry.execute(text("DELETE FROM cache"))
    Registry.commit()


def purge_cache_ok(engine):
    Registry = scoped_session(sessionmaker(bind=engine))
    try:
        Registry.execute(text("DELETE FROM cache"))
        Registry.commit()
    finally:
        Registry.remove()
