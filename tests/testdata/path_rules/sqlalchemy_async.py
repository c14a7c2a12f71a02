"""Async order service on SQLAlchemy asyncio."""
import logging
import os

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker, create_async_engine

log = logging.getLogger("orders")
engine = create_async_engine(os.environ["ORDERS_DB_URL"], pool_pre_ping=True)
async_session = async_sessionmaker(engine, expire_on_commit=False)


# Clean: `async with` closes the session.
async def get_order(order_id):
    async with async_session() as session:
        return await session.get(Order, order_id)


# Clean: async_sessionmaker.begin() commits and closes.
async def create_order(customer_id, lines):
    async with async_session.begin() as session:
        order = Order(customer_id=customer_id, lines=lines)
        session.add(order)
    return order


# Leak: AsyncSession created and never closed; await can raise (§2).
async def list_orders(customer_id):
    session = AsyncSession(engine)  # expect: TXL201, TXL202
    result = await session.execute(select(Order).where(Order.customer_id == customer_id))
    return result.scalars().all()


# Exceptional-path leak: close() only when execute() succeeds.
async def cancel_order(order_id):
    session = async_session()  # expect: TXL202
    order = await session.get(Order, order_id)
    order.status = "cancelled"
    await session.commit()
    await session.close()


# Clean: close in finally, rollback on failure.
async def ship_order(order_id, carrier):
    session = async_session()
    try:
        order = await session.get(Order, order_id)
        order.status = "shipped"
        order.carrier = carrier
        await session.commit()
    except Exception:
        await session.rollback()
        raise
    finally:
        await session.close()


# Clean: async generator dependency (FastAPI style) yields the session (§7).
async def get_async_session():
    async with async_session() as session:
        yield session


# Clean: the session is yielded from a plain async generator and closed in finally.
async def session_with_timeout():
    session = async_session()
    try:
        await session.execute(text("SET LOCAL statement_timeout = 5000"))
        yield session
    finally:
        await session.close()


# Connection leak: engine.connect() awaited and never closed.
async def order_count():
    conn = await engine.connect()  # expect: TXL201, TXL202
    result = await conn.execute(text("SELECT count(*) FROM orders"))
    return result.scalar_one()


# Clean: `async with engine.begin()` commits and returns the connection to the pool.
async def purge_drafts():
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM orders WHERE status = 'draft'"))


# TXL101 + TXL102: explicit begin on a borrowed connection, early return and no rollback.
async def renumber(conn: AsyncConnection, start):
    trans = await conn.begin()  # expect: TXL101, TXL102
    rows = await conn.execute(text("SELECT id FROM orders ORDER BY id"))
    ids = [r.id for r in rows]
    if not ids:
        return 0
    for offset, oid in enumerate(ids):
        await conn.execute(text("UPDATE orders SET number = :n WHERE id = :i"), {"n": start + offset, "i": oid})
    await trans.commit()
    return len(ids)


# Clean: nested transaction ended on every path.
async def try_apply_coupon(session: AsyncSession, order, code):
    nested = await session.begin_nested()
    try:
        order.coupon = code
        await session.flush()
    except Exception:
        await nested.rollback()
        log.info("coupon %s rejected", code)
        return False
    await nested.commit()
    return True


class Order:  # stand-in for the mapped class
    def __init__(self, **kw):
        self.__dict__.update(kw)
