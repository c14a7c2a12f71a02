"""Billing jobs in SQLAlchemy 2.0 style."""
import logging
import os

from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session, scoped_session, sessionmaker

log = logging.getLogger("billing")
engine = create_engine(os.environ["BILLING_DB_URL"], pool_pre_ping=True, pool_recycle=1800)
SessionLocal = sessionmaker(engine, expire_on_commit=False)


# Clean: `with Session(engine)` closes; `session.begin()` commits or rolls back.
def open_invoices(customer_id):
    with Session(engine) as session:
        stmt = select(Invoice).where(Invoice.customer_id == customer_id, Invoice.paid.is_(False))
        return list(session.scalars(stmt))


# Clean: sessionmaker.begin() gives a session that is committed and closed.
def mark_paid(invoice_id):
    with SessionLocal.begin() as session:
        session.execute(update(Invoice).where(Invoice.id == invoice_id).values(paid=True))


# Clean: combined with-statement, early return inside it is fine.
def void_invoice(invoice_id, reason):
    with Session(engine) as session, session.begin():
        invoice = session.get(Invoice, invoice_id)
        if invoice is None:
            return None
        invoice.void_reason = reason
        return invoice.id


# Leak on both paths: the session is never closed (§1).
def total_due(customer_id):
    session = Session(engine)  # expect: TXL201, TXL202
    invoices = session.scalars(select(Invoice).where(Invoice.customer_id == customer_id)).all()
    return sum(i.amount for i in invoices)


# TXL201: `continue` skips close() and the next iteration reassigns `session`, losing it (§1);
# an exception in scalars()/commit() leaks it as well.
def send_reminders(customer_ids, mailer):
    for cid in customer_ids:
        session = SessionLocal()  # expect: TXL201, TXL202
        overdue = session.scalars(select(Invoice).where(Invoice.customer_id == cid)).all()
        if not overdue:
            continue
        mailer.send_reminder(cid, overdue)
        session.close()


# Clean: close in finally even with break and continue in the loop.
def first_unpaid(customer_ids):
    found = None
    session = SessionLocal()
    try:
        for cid in customer_ids:
            if cid is None:
                continue
            invoice = session.scalars(select(Invoice).where(Invoice.customer_id == cid)).first()
            if invoice is not None:
                found = invoice
                break
    finally:
        session.close()
    return found


# TXL101 and TXL102: session.begin() on a borrowed session, committed only at the end.
def apply_credit(session: Session, customer_id, amount):
    session.begin()  # expect: TXL101, TXL102
    customer = session.get(Customer, customer_id)
    if customer is None:
        log.warning("unknown customer %s", customer_id)
        return False
    customer.credit += amount
    session.commit()
    return True


# TXL101 only: `break` leaves the loop with the transaction open and the function falls through.
def settle_batch(session: Session, invoices):
    tx = session.begin()  # expect: TXL101
    try:
        for invoice in invoices:
            if invoice.disputed:
                log.info("stopping at disputed invoice %s", invoice.id)
                break
            invoice.paid = True
        else:
            tx.commit()
    except Exception:
        tx.rollback()
        raise


# Clean: the transaction is ended on every path, including the early return.
def refund(session: Session, invoice_id):
    tx = session.begin()
    try:
        invoice = session.get(Invoice, invoice_id)
        if invoice is None or not invoice.paid:
            tx.rollback()
            return False
        invoice.paid = False
    except Exception:
        tx.rollback()
        raise
    else:
        tx.commit()
    return True


# Exceptional-path leak of a session; the normal path closes it.
def archive_paid(cutoff):
    session = SessionLocal()  # expect: TXL202
    session.execute(update(Invoice).where(Invoice.paid_at < cutoff).values(archived=True))
    session.commit()
    session.close()


class Invoice:  # stand-ins for mapped classes
    pass


class Customer:
    pass


# execution_options() returns the same Connection: the with block still closes it
def reap(url):
    eng = create_engine(url, pool_pre_ping=True)
    with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("SELECT 1")


def lock(eng):
    lock_conn = eng.connect()
    try:
        lock_conn = lock_conn.execution_options(isolation_level="AUTOCOMMIT")
        lock_conn.exec_driver_sql("SELECT GET_LOCK('x', 10)")
    finally:
        lock_conn.close()


# a registry kept in a module global is not the function's resource (Airflow's configure_orm)
ScopedSession = None


def configure(engine):
    global ScopedSession
    ScopedSession = scoped_session(sessionmaker(bind=engine))
    ScopedSession.configure(info={"configured": True})
