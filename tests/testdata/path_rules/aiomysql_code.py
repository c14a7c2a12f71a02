"""Async chat history on aiomysql."""
import logging

import aiomysql

log = logging.getLogger("chat")
MYSQL = dict(host="127.0.0.1", port=3306, user="chat", password="", db="chat")


# Leak: aiomysql.connect() never closed; awaits can raise.
async def message_count(room):
    conn = await aiomysql.connect(**MYSQL)  # expect: TXL201, TXL202
    async with conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM messages WHERE room = %s", (room,))
        (count,) = await cur.fetchone()
    return count


# Clean: close() in finally.
async def post_message(room, author, text):
    conn = await aiomysql.connect(**MYSQL)
    try:
        async with conn.cursor() as cur:
            await cur.execute("INSERT INTO messages (room, author, body) VALUES (%s, %s, %s)", (room, author, text))
        await conn.commit()
    finally:
        conn.close()


# Clean: pool.acquire() as an async context manager releases the connection.
async def rooms():
    pool = await aiomysql.create_pool(minsize=1, maxsize=5, **MYSQL)
    try:
        async with pool.acquire() as conn:
            async with conn.cursor() as cur:
                await cur.execute("SELECT DISTINCT room FROM messages")
                return [r[0] for r in await cur.fetchall()]
    finally:
        pool.close()
        await pool.wait_closed()


# Pool connection leak: acquire() released only on success.
async def purge_room(room):
    pool = await aiomysql.create_pool(**MYSQL)
    conn = await pool.acquire()  # expect: TXL202
    async with conn.cursor() as cur:
        await cur.execute("DELETE FROM messages WHERE room = %s", (room,))
    await conn.commit()
    pool.release(conn)
    pool.close()


# TXL101 + TXL102: begin() on a borrowed connection, early return, no rollback.
async def rename_room(conn: aiomysql.Connection, old, new):
    await conn.begin()  # expect: TXL101, TXL102
    async with conn.cursor() as cur:
        await cur.execute("SELECT 1 FROM rooms WHERE name = %s", (new,))
        if await cur.fetchone():
            log.info("room %s already exists", new)
            return False
        await cur.execute("UPDATE rooms SET name = %s WHERE name = %s", (new, old))
    await conn.commit()
    return True


# Clean: begin() ended by commit or rollback on every path.
async def archive_room(conn: aiomysql.Connection, room):
    await conn.begin()
    try:
        async with conn.cursor() as cur:
            await cur.execute("INSERT INTO archive SELECT * FROM messages WHERE room = %s", (room,))
            await cur.execute("DELETE FROM messages WHERE room = %s", (room,))
    except Exception:
        await conn.rollback()
        raise
    await conn.commit()
