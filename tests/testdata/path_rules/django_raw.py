"""Django reporting helpers using raw SQL on django.db.connection."""
import logging

from django.db import connection, connections, transaction

log = logging.getLogger(__name__)


# Leak: an explicit cursor() that is never closed (§5).
def active_user_count():
    cursor = connection.cursor()  # expect: TXL201, TXL202
    cursor.execute("SELECT count(*) FROM auth_user WHERE is_active")
    return cursor.fetchone()[0]


# Clean: `with connection.cursor()` closes the cursor.
def top_customers(limit=10):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_id, sum(total) FROM orders_order GROUP BY 1 ORDER BY 2 DESC LIMIT %s",
            [limit],
        )
        return cursor.fetchall()


# Clean: cursor of another database alias closed in finally.
def warehouse_rows(table):
    cursor = connections["warehouse"].cursor()
    try:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
        return cursor.fetchall()
    finally:
        cursor.close()


# Exceptional-path leak: close() is skipped when execute() raises.
def refresh_materialized_view():
    cursor = connections["default"].cursor()  # expect: TXL202
    cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY sales_summary")
    cursor.close()


# Clean: transaction.atomic ends the transaction itself.
def transfer_credit(src_id, dst_id, amount):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE accounts SET credit = credit - %s WHERE id = %s", [amount, src_id])
            cursor.execute("UPDATE accounts SET credit = credit + %s WHERE id = %s", [amount, dst_id])


# TXL101 + TXL102: autocommit switched off, early return without commit, no rollback on error.
def close_period(period_id):
    transaction.set_autocommit(False)  # expect: TXL101, TXL102
    with connection.cursor() as cursor:
        cursor.execute("SELECT closed FROM ledger_period WHERE id = %s", [period_id])
        if cursor.fetchone()[0]:
            log.info("period %s already closed", period_id)
            return False
        cursor.execute("UPDATE ledger_period SET closed = true WHERE id = %s", [period_id])
    transaction.commit()
    transaction.set_autocommit(True)
    return True


# Clean: commit in else, rollback in except, autocommit restored in finally.
def rebuild_balances():
    transaction.set_autocommit(False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM balances")
            cursor.execute("INSERT INTO balances SELECT account_id, sum(amount) FROM entries GROUP BY 1")
    except Exception:
        transaction.rollback()
        raise
    else:
        transaction.commit()
    finally:
        transaction.set_autocommit(True)


# TXL102 only: the normal path commits, an exception leaves the manual transaction open.
def archive_entries(before):
    transaction.set_autocommit(False)  # expect: TXL102
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO entries_archive SELECT * FROM entries WHERE created < %s", [before])
        cursor.execute("DELETE FROM entries WHERE created < %s", [before])
    transaction.commit()
    transaction.set_autocommit(True)


# Clean: set_autocommit(True) is not a begin.
def restore_autocommit():
    transaction.set_autocommit(True)
    log.debug("autocommit restored")


# Cursor leak on the normal path only: the early return skips close(); errors close it.
def find_duplicate_emails():
    cursor = connection.cursor()  # expect: TXL201
    try:
        cursor.execute("SELECT email FROM auth_user GROUP BY email HAVING count(*) > 1")
        rows = cursor.fetchall()
        if not rows:
            return []
    except BaseException:
        cursor.close()
        raise
    cursor.close()
    return [r[0] for r in rows]
