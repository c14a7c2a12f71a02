"""Event store on asyncpg."""
import json
import logging
import os

import asyncpg

log = logging.getLogger("events")
DSN = os.environ.get("EVENTS_DSN", "postgresql://events@localhost/events")


# Leak: asyncpg.connect() never closed; fetchval() can raise (§1, §2 await).
async def event_count(stream):
    conn = await asyncpg.connect(DSN)  # expect: TXL201, TXL202
    return await conn.fetchval("SELECT count(*) FROM events WHERE stream = $1", stream)


# Clean: close in finally.
async def append_event(stream, payload):
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute(
            "INSERT INTO events (stream, payload) VALUES ($1, $2)", stream, json.dumps(payload)
        )
    finally:
        await conn.close()


# Exceptional-path leak: close() is skipped when fetch() raises.
async def read_stream(stream):
    conn = await asyncpg.connect(DSN)  # expect: TXL202
    rows = await conn.fetch("SELECT payload FROM events WHERE stream = $1 ORDER BY id", stream)
    await conn.close()
    return [json.loads(r["payload"]) for r in rows]


# Clean: `async with pool.acquire()` releases; pool closed in finally (pools are lazy anyway).
async def compact_streams(streams):
    pool = await asyncpg.create_pool(DSN, min_size=1, max_size=4)
    try:
        for stream in streams:
            async with pool.acquire() as conn:
                await conn.execute("DELETE FROM events WHERE stream = $1 AND obsolete", stream)
    finally:
        await pool.close()


# Pool connection leak: acquire() without release() on the early return and on errors.
async def snapshot_streams(streams):
    pool = await asyncpg.create_pool(DSN)
    conn = await pool.acquire()  # expect: TXL201, TXL202
    if not streams:
        return 0
    for stream in streams:
        await conn.execute("INSERT INTO snapshots SELECT * FROM events WHERE stream = $1", stream)
    await pool.release(conn)
    await pool.close()
    return len(streams)


# Clean: acquire() paired with release() in finally.
async def truncate_stream(stream):
    pool = await asyncpg.create_pool(DSN)
    conn = await pool.acquire()
    try:
        await conn.execute("DELETE FROM events WHERE stream = $1", stream)
    finally:
        await pool.release(conn)
        await pool.close()


# §4: transaction started with tr.start() on a borrowed connection and left open by the early
# return; errors roll back (reported on the start() line).
async def move_events(conn: asyncpg.Connection, src, dst):
    tr = conn.transaction()
    await tr.start()  # expect: TXL101
    try:
        moved = await conn.execute("UPDATE events SET stream = $2 WHERE stream = $1", src, dst)
        if moved == "UPDATE 0":
            log.info("nothing to move from %s", src)
            return 0
    except Exception:
        await tr.rollback()
        raise
    await tr.commit()
    return moved


# TXL102: started transaction not rolled back when execute() raises (connection borrowed).
async def rename_stream(conn: asyncpg.Connection, old, new):
    tr = conn.transaction()
    await tr.start()  # expect: TXL102
    await conn.execute("UPDATE events SET stream = $2 WHERE stream = $1", old, new)
    await conn.execute("UPDATE subscriptions SET stream = $2 WHERE stream = $1", old, new)
    await tr.commit()


# Clean: `async with conn.transaction()` commits or rolls back.
async def delete_stream(conn: asyncpg.Connection, stream):
    async with conn.transaction():
        await conn.execute("DELETE FROM subscriptions WHERE stream = $1", stream)
        await conn.execute("DELETE FROM events WHERE stream = $1", stream)


# Clean: commit on success, rollback in except Exception then raise.
async def replay(conn: asyncpg.Connection, stream, handler):
    tr = conn.transaction()
    await tr.start()
    try:
        for record in await conn.fetch("SELECT payload FROM events WHERE stream = $1", stream):
            await handler(json.loads(record["payload"]))
    except Exception:
        await tr.rollback()
        raise
    else:
        await tr.commit()
