"""TXL201 / TXL202: sessions, connections and cursors that are not closed on every path."""

from __future__ import annotations

from txlint.dataflow import path_findings, trace_steps, why
from txlint.registry import Rule, ex, register


def _advice(finding) -> str:
    cat = finding.rec.kind.category
    label = finding.rec.kind.label
    if "SQLAlchemy" in label and cat == "session":
        return "use `with Session() as session:` or close it in a finally block"
    if "SQLAlchemy" in label:
        return "use `with engine.connect() as conn:` or close it in a finally block"
    if finding.rec.closer not in ("close()",):
        return f"call {finding.rec.closer} in a finally block or use the pool's context manager"
    if "asyncpg" in label or "aiomysql" in label:
        return "close it in a finally block or use `async with`"
    return "close it in a finally block or use contextlib.closing()"


def _report(ctx, code: str) -> None:
    for f in path_findings(ctx):
        if f.code != code:
            continue
        what = f"{f.rec.kind.label} opened here"
        if f.normal:
            msg = f"{what} is not closed on every path ({why(ctx, f)}); {_advice(f)}"
        else:
            msg = f"{what} is not closed when an exception propagates ({why(ctx, f)}); {_advice(f)}"
        ctx.report(code, f.node, msg, trace=trace_steps(ctx, f))


@register
class ConnectionNotClosed(Rule):
    code = "TXL201"
    name = "connection-not-closed"
    summary = "A session, connection or cursor created in a function is not closed on some normal path"
    needs = frozenset({"names", "cfg"})
    doc = """
## What it does
Follows every session, connection and cursor a function creates (SQLAlchemy `Session()`,
`engine.connect()`, `sqlite3.connect()`, `psycopg2.connect()`, `pool.getconn()`, `conn.cursor()`,
...) through the function's control flow and reports it when some normal way out of the function
(a `return`, falling off the end, a `break`) leaves it open and it does not escape (returned,
yielded, stored on an object, handed to `contextlib.closing()` or to a project function that
closes or keeps it).

## Why is this bad
An unclosed connection holds a server connection (and often a transaction with its locks) until
the garbage collector happens to finalise it. Under load the pool or the server's connection limit
runs out, and `idle in transaction` sessions block vacuum and DDL.

## Example
```python
import sqlite3

def count_rows(path):
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT count(*) FROM items").fetchone()
    return rows[0]
```

## Use instead
```python
import contextlib
import sqlite3

def count_rows(path):
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT count(*) FROM items").fetchone()[0]
```
Note that `with sqlite3.connect(...)` and `with psycopg2.connect(...)` only end the transaction;
they do not close the connection.
"""
    VALID = []
    INVALID = []

    def check(self, ctx) -> None:
        _report(ctx, self.code)


@register
class ConnectionNotClosedOnException(Rule):
    code = "TXL202"
    name = "connection-not-closed-on-exception"
    summary = "A session, connection or cursor created in a function is left open when an exception propagates"
    needs = frozenset({"names", "cfg"})
    doc = """
## What it does
Reports a session, connection or cursor created in a function when an exception raised after it
was acquired (by a query, a call, an `await`) can propagate out of the function while it is still
open: there is no `finally` or `with` block that closes it.

## Why is this bad
Errors are exactly when connections leak: a failing query or a timeout skips the `close()` at the
end of the happy path, and each failure costs one pooled or server connection, often still inside
an open transaction that holds locks.

## Example
```python
import psycopg2

def load(dsn, user_id):
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute("SELECT name FROM users WHERE id = %s", (user_id,))
    name = cur.fetchone()
    conn.close()
    return name
```

## Use instead
```python
import psycopg2

def load(dsn, user_id):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM users WHERE id = %s", (user_id,))
            return cur.fetchone()
    finally:
        conn.close()
```
"""
    VALID = []
    INVALID = []

    def check(self, ctx) -> None:
        _report(ctx, self.code)
