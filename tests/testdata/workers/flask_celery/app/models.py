from app.extensions import db


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255))


class Report(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    body = db.Column(db.Text)
