"""Shipment tracking with mysql-connector-python."""
import logging
import os

import mysql.connector
from mysql.connector import errorcode

log = logging.getLogger("shipping")
CONFIG = {"host": os.environ.get("DB_HOST", "127.0.0.1"), "user": "shipping", "database": "shipping"}


# Leak: connect() never closed (the cursor with-block closes only the cursor).
def tracking_status(tracking_no):
    cnx = mysql.connector.connect(**CONFIG)  # expect: TXL201, TXL202
    with cnx.cursor() as cursor:
        cursor.execute("SELECT status FROM shipments WHERE tracking_no = %s", (tracking_no,))
        row = cursor.fetchone()
    return row[0] if row else None


# Clean: with-block closes the connection.
def carriers():
    with mysql.connector.connect(**CONFIG) as cnx:
        with cnx.cursor() as cursor:
            cursor.execute("SELECT code, name FROM carriers")
            return dict(cursor.fetchall())


# TXL101 + TXL102 on start_transaction(): borrowed connection, early return, no rollback.
def split_shipment(cnx: mysql.connector.MySQLConnection, shipment_id, parcels):
    cnx.start_transaction()  # expect: TXL101, TXL102
    cursor = cnx.cursor()  # expect: TXL201, TXL202
    cursor.execute("SELECT weight FROM shipments WHERE id = %s", (shipment_id,))
    if not parcels:
        return None
    for weight in parcels:
        cursor.execute("INSERT INTO parcels (shipment_id, weight) VALUES (%s, %s)", (shipment_id, weight))
    cnx.commit()
    return len(parcels)


# Clean: start_transaction() ended in both branches; cursor closed in finally.
def mark_delivered(cnx: mysql.connector.MySQLConnection, shipment_id):
    cursor = cnx.cursor()
    try:
        cnx.start_transaction()
        try:
            cursor.execute("UPDATE shipments SET status = 'delivered' WHERE id = %s", (shipment_id,))
            cnx.commit()
        except mysql.connector.Error as err:
            cnx.rollback()
            if err.errno == errorcode.ER_LOCK_DEADLOCK:
                log.warning("deadlock on shipment %s", shipment_id)
                return False
            raise
        except BaseException:
            cnx.rollback()
            raise
    finally:
        cursor.close()
    return True


# Exceptional-path leak: close() is skipped when executemany() raises.
def import_rates(rates):
    cnx = mysql.connector.connect(**CONFIG)  # expect: TXL202
    with cnx.cursor() as cursor:
        cursor.executemany("REPLACE INTO rates (zone, cents) VALUES (%s, %s)", rates)
    cnx.commit()
    cnx.close()
