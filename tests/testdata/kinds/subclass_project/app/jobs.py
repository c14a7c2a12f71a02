from app.models import AuditSession, db


def export(ids):
    conn = db.engine.connect()  # expect: TXL201, TXL202
    conn.exec_driver_sql("SELECT 1")


def audit(what):
    session = AuditSession()  # expect: TXL201, TXL202
    session.log(what)


def audit_ok(what):
    with AuditSession() as session:
        session.log(what)
