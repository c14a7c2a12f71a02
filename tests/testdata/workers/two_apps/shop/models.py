from shop.extensions import db


class Order(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    total = db.Column(db.Numeric(10, 2))
    shipped = db.Column(db.Boolean, default=False)
