"""Catalogue sync on psycopg 3."""
import logging
import os

import psycopg
from psycopg_pool import ConnectionPool

log = logging.getLogger("catalogue")
CONNINFO = os.environ.get("CATALOGUE_DSN", "dbname=catalogue")


# Clean (§6): `with psycopg.connect()` closes the connection in psycopg 3.
def product_names():
    with psycopg.connect(CONNINFO) as conn:
        rows = conn.execute("SELECT name FROM products ORDER BY name").fetchall()
    return [r[0] for r in rows]


# Clean: connection closed by with; conn.transaction() commits or rolls back.
def upsert_product(sku, name, price):
    with psycopg.connect(CONNINFO) as conn:
        with conn.transaction():
            conn.execute(
                "INSERT INTO products (sku, name, price) VALUES (%s, %s, %s) "
                "ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price = EXCLUDED.price",
                (sku, name, price),
            )


# Leak: plain connect() never closed (conn.execute is a shortcut, not a cursor, §5).
def product_price(sku):
    conn = psycopg.connect(CONNINFO)  # expect: TXL201, TXL202
    row = conn.execute("SELECT price FROM products WHERE sku = %s", (sku,)).fetchone()
    return row[0] if row else None


# Exceptional-path leak: close() after the work, not in finally.
def discontinue(skus):
    conn = psycopg.connect(CONNINFO, autocommit=True)  # expect: TXL202
    for sku in skus:
        conn.execute("UPDATE products SET active = false WHERE sku = %s", (sku,))
    conn.close()


# Cursor leak on a borrowed connection.
def stream_products(conn: psycopg.Connection, batch=500):
    cur = conn.cursor(name="products_stream")  # expect: TXL201, TXL202
    cur.execute("SELECT sku, name, price FROM products")
    return cur.fetchmany(batch)


# Clean: `with conn.cursor()` closes the cursor.
def count_inactive(conn: psycopg.Connection):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM products WHERE NOT active")
        return cur.fetchone()[0]


# Clean: pool.connection() context manager gives the connection back.
def sync_prices(pool: ConnectionPool, prices):
    with pool.connection() as conn:
        with conn.cursor() as cur:
            cur.executemany("UPDATE products SET price = %s WHERE sku = %s", [(p, s) for s, p in prices.items()])


# Leak: getconn() without putconn() when the query raises or the early return is taken.
def reprice(pool: ConnectionPool, factor):
    conn = pool.getconn()  # expect: TXL201, TXL202
    if factor == 1:
        return 0
    cur = conn.execute("UPDATE products SET price = price * %s", (factor,))
    pool.putconn(conn)
    return cur.rowcount


# Clean: getconn() / putconn() in finally.
def price_histogram(pool: ConnectionPool):
    conn = pool.getconn()
    try:
        return conn.execute("SELECT width_bucket(price, 0, 1000, 10), count(*) FROM products GROUP BY 1").fetchall()
    finally:
        pool.putconn(conn)
