"""FastAPI app with the usual SessionLocal + get_db dependency."""
import logging
import os

from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("api")
engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///./app.db"), pool_pre_ping=True)
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
app = FastAPI()


# Clean: generator dependency yields the session (§7) and closes it in finally.
def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


# Clean: the yielded session escapes; cleanup code after yield does not matter for escape.
def get_readonly_db():
    db = SessionLocal()
    yield db
    db.close()


# Clean: the session comes from Depends (a parameter, borrowed).
@app.get("/users/{user_id}")
def read_user(user_id: int, db: Session = Depends(get_db)):
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return user


# Leak: the route makes its own session and forgets to close it.
@app.get("/users")
def list_users(skip: int = 0, limit: int = 100):
    db = SessionLocal()  # expect: TXL201, TXL202
    return db.scalars(select(User).offset(skip).limit(limit)).all()


# Exceptional-path leak only: the explicit raise (and any failing call) skips close(); the
# normal path closes (§1, §2: `raise` is an exceptional exit).
@app.delete("/users/{user_id}")
def delete_user(user_id: int):
    db = SessionLocal()  # expect: TXL202
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    db.delete(user)
    db.commit()
    db.close()
    return {"deleted": user_id}


# Clean: with-block closes the session; the raise inside is fine.
@app.post("/users/{user_id}/activate")
def activate_user(user_id: int):
    with SessionLocal() as db:
        user = db.get(User, user_id)
        if user is None:
            raise HTTPException(status_code=404, detail="User not found")
        user.active = True
        db.commit()
    return {"ok": True}


# Clean: startup hook stores the session factory on app.state; no session is created.
@app.on_event("startup")
def on_startup():
    app.state.sessions = SessionLocal
    log.info("api started")


# Clean: a session stored on app.state escapes (§7).
@app.on_event("startup")
def open_admin_session():
    app.state.admin_db = SessionLocal()


# Normal-path leak: a background job returns early without closing; exceptions are handled.
def nightly_deactivate(days):
    db = SessionLocal()  # expect: TXL201
    try:
        stale = db.scalars(select(User).where(User.idle_days > days)).all()
        if not stale:
            return 0
        for user in stale:
            user.active = False
        db.commit()
    except Exception:
        db.close()
        raise
    db.close()
    return len(stale)


class User:  # stand-in for the mapped class
    pass
