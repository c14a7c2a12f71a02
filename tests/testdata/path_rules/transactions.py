"""Ledger posting code: explicit SQLAlchemy transactions on borrowed connections and sessions."""
import logging
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger("ledger.posting")


# Clean: the transaction is committed after the block or rolled back, and the connection is
# yielded to the caller (§7).
@contextmanager
def atomic(conn: Connection):
    trans = conn.begin()
    try:
        yield conn
    except Exception:
        trans.rollback()
        raise
    else:
        trans.commit()


# TXL101: `continue` goes round the loop with the batch's transaction still open, and the
# next begin() replaces it. TXL102 too (§1): that open transaction is still open when the next
# iteration's begin() (outside the try) raises; errors inside the try are rolled back.
def post_batches(conn: Connection, batches):
    posted = 0
    for batch in batches:
        trans = conn.begin()  # expect: TXL101, TXL102
        try:
            if not batch:
                log.debug("empty batch skipped")
                continue
            conn.execute(text("INSERT INTO postings SELECT * FROM staging WHERE batch = :b"), {"b": batch})
            trans.commit()
            posted += 1
        except Exception:
            trans.rollback()
            raise
    return posted


# Clean: rollback() in finally ends the transaction on every path (a dry run).
def preview_posting(conn: Connection, batch):
    trans = conn.begin()
    try:
        conn.execute(text("INSERT INTO postings SELECT * FROM staging WHERE batch = :b"), {"b": batch})
        return conn.execute(text("SELECT sum(amount) FROM postings WHERE batch = :b"), {"b": batch}).scalar()
    finally:
        trans.rollback()


# Clean: Transaction.close() also ends it (rolls back if not committed).
def count_in_snapshot(conn: Connection):
    trans = conn.begin()
    try:
        return conn.execute(text("SELECT count(*) FROM postings")).scalar()
    finally:
        trans.close()


# Clean: `with conn.begin()` on a borrowed connection.
def reverse_posting(conn: Connection, posting_id):
    with conn.begin():
        conn.execute(text("UPDATE postings SET reversed = true WHERE id = :i"), {"i": posting_id})
        conn.execute(text("INSERT INTO reversals (posting_id) VALUES (:i)"), {"i": posting_id})


# TXL102 (§2): the first handler rolls back only SQLAlchemy errors; the second one catches the
# rest but only logs and re-raises.
def close_day(session: Session, day):
    session.begin()  # expect: TXL102
    try:
        session.execute(text("UPDATE days SET closed = true WHERE day = :d"), {"d": day})
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        raise
    except Exception:
        log.exception("closing %s failed", day)
        raise


# Clean: retry loop; every attempt commits, or rolls back before retrying or giving up.
def post_with_retry(conn: Connection, batch, attempts=3):
    for attempt in range(attempts):
        trans = conn.begin()
        try:
            conn.execute(text("CALL post_batch(:b)"), {"b": batch})
        except OperationalError:
            trans.rollback()
            log.warning("attempt %d for batch %s failed", attempt + 1, batch)
            continue
        except BaseException:
            trans.rollback()
            raise
        trans.commit()
        return True
    return False


# TXL101 + TXL102: the savepoint is neither released nor rolled back on the early `return`
# nor when execute() raises (the caller's outer transaction is not this function's business).
def post_with_savepoint(conn: Connection, batch, strict):
    savepoint = conn.begin_nested()  # expect: TXL101, TXL102
    conn.execute(text("INSERT INTO postings SELECT * FROM staging WHERE batch = :b"), {"b": batch})
    if strict:
        log.info("strict mode: batch %s left for review", batch)
        return True
    savepoint.commit()
    return False
