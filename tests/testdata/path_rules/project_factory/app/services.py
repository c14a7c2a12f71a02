"""Services that obtain sessions through the project's own helpers."""
import logging

from app import db as dbmod
from app.db import SessionLocal as SL
from app.repository import Product, ProductRepository
from sqlalchemy import select

from .db import dispose_session, get_session, session_scope

log = logging.getLogger(__name__)


# Leak: aliased session factory, never closed.
def product_count():
    session = SL()  # expect: TXL201, TXL202
    return len(session.scalars(select(Product)).all())


# Leak: get_session() returns a new session that this function owns (§7).
def find_product(sku):
    session = get_session()  # expect: TXL201, TXL202
    product = session.scalars(select(Product).where(Product.sku == sku)).first()
    return product


# Leak through the module alias.
def discontinued():
    session = dbmod.SessionLocal()  # expect: TXL201, TXL202
    return session.scalars(select(Product).where(Product.active.is_(False))).all()


# Exceptional-path leak: closed only when the update succeeds.
def rename_product(sku, name):
    session = get_session()  # expect: TXL202
    product = session.scalars(select(Product).where(Product.sku == sku)).one()
    product.name = name
    session.commit()
    session.close()


# Normal-path leak: the early return skips close(); errors are cleaned up.
def restock(sku, qty):
    session = get_session()  # expect: TXL201
    try:
        product = session.scalars(select(Product).where(Product.sku == sku)).first()
        if product is None:
            return False
        product.qty += qty
        session.commit()
    except Exception:
        dispose_session(session)
        raise
    session.close()
    return True


# Clean: the project's context manager owns the session.
def delete_product(sku):
    with session_scope() as session:
        product = session.scalars(select(Product).where(Product.sku == sku)).first()
        if product is not None:
            session.delete(product)


# Clean: passed to a project function seen to close it (§7), in finally.
def price_of(sku):
    session = get_session()
    try:
        product = session.scalars(select(Product).where(Product.sku == sku)).first()
        return product.price if product else None
    finally:
        dispose_session(session)


# Clean: closed in finally.
def all_skus():
    session = SL()
    try:
        return [p.sku for p in session.scalars(select(Product))]
    finally:
        session.close()


# Clean: handed to a project class that keeps it, and the repository is returned.
def product_repository():
    return ProductRepository(get_session())


# Session and transaction both leak: the early return skips commit() and close(), and an
# exception in the query skips them too.
def bulk_price_change(skus, factor):
    session = get_session()  # expect: TXL201, TXL202
    tx = session.begin()  # expect: TXL101, TXL102
    products = session.scalars(select(Product).where(Product.sku.in_(skus))).all()
    if not products:
        log.info("no products to reprice")
        return 0
    for product in products:
        product.price = round(product.price * factor, 2)
    tx.commit()
    session.close()
    return len(products)
