"""Repository keeping the session it is given."""
from sqlalchemy import select


# Clean: the constructor keeps the session on self (§7) and close() releases it.
class ProductRepository:
    def __init__(self, session):
        self.session = session

    def by_sku(self, sku):
        return self.session.scalars(select(Product).where(Product.sku == sku)).first()

    def close(self):
        self.session.close()


class Product:  # stand-in for the mapped class
    sku = None
