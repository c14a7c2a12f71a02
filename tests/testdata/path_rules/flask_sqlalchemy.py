"""Flask blog views using Flask-SQLAlchemy's scoped db.session."""
import logging

from flask import Flask, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy

log = logging.getLogger(__name__)
app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///blog.db"
db = SQLAlchemy(app)


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200))
    published = db.Column(db.Boolean, default=False)


# Clean: db.session is a scoped registry removed by Flask's teardown; views never close it.
@app.route("/posts/<int:post_id>")
def show_post(post_id):
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    return jsonify(id=post.id, title=post.title)


# Clean: add + commit on the scoped session.
@app.route("/posts", methods=["POST"])
def create_post():
    post = Post(title=request.json["title"])
    db.session.add(post)
    db.session.commit()
    return jsonify(id=post.id), 201


# Clean: rollback in except Exception then raise.
@app.route("/posts/<int:post_id>/publish", methods=["POST"])
def publish_post(post_id):
    try:
        post = db.session.get(Post, post_id)
        post.published = True
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return jsonify(ok=True)


# TXL101 + TXL102: the savepoint begun here is left open by the early return and by exceptions.
@app.route("/posts/<int:post_id>/retitle", methods=["POST"])
def retitle_post(post_id):
    savepoint = db.session.begin_nested()  # expect: TXL101, TXL102
    post = db.session.get(Post, post_id)
    if post is None:
        return jsonify(error="not found"), 404
    post.title = request.json["title"]
    savepoint.commit()
    db.session.commit()
    return jsonify(ok=True)


# TXL102 only: begin() on db.session, committed on the normal path, never rolled back.
def import_posts(rows):
    db.session.begin()  # expect: TXL102
    for row in rows:
        db.session.add(Post(title=row["title"], published=row.get("published", False)))
    db.session.commit()


# Clean: nested transaction ended on all paths (commit in else, rollback in except).
def unpublish_all():
    nested = db.session.begin_nested()
    try:
        Post.query.filter_by(published=True).update({"published": False})
    except Exception:
        nested.rollback()
        log.exception("unpublish failed")
        raise
    else:
        nested.commit()
        db.session.commit()


# Borrowed (§7): db.session.connection() belongs to the session, not closed here.
def post_count_raw():
    conn = db.session.connection()
    return conn.exec_driver_sql("SELECT count(*) FROM post").scalar()


# Leak: a connection checked out from db.engine is never closed.
def reindex_titles():
    conn = db.engine.connect()  # expect: TXL201, TXL202
    conn.exec_driver_sql("REINDEX TABLE post")
    log.info("reindexed")
