"""TXL101 / TXL102: explicit transactions that are not ended on every path."""

from __future__ import annotations

from txlint.dataflow import path_findings, trace_steps, why
from txlint.registry import Rule, ex, register


def _report(ctx, code: str) -> None:
    for f in path_findings(ctx):
        if f.code != code:
            continue
        if f.normal:
            msg = (f"transaction begun here is not ended on every path ({why(ctx, f)}); "
                   "commit or roll back before every return, or use a `with` block that manages it")
        else:
            msg = (f"transaction begun here is not rolled back when an exception propagates ({why(ctx, f)}); "
                   "roll back in an `except`/`finally` block, or use a `with` block that manages it")
        ctx.report(code, f.node, msg, trace=trace_steps(ctx, f))


@register
class TransactionNotEnded(Rule):
    code = "TXL101"
    name = "transaction-not-ended"
    summary = "An explicit transaction can leave the function on a normal path without commit() or rollback()"
    needs = frozenset({"names", "cfg"})
    doc = """
## What it does
Follows every explicit transaction a function begins (SQLAlchemy `begin()` / `begin_nested()` on a
session or connection, asyncpg `transaction().start()`, `execute("BEGIN")`, PyMySQL/MySQLdb
`begin()`, mysql.connector `start_transaction()`, Django `transaction.set_autocommit(False)`) and
reports it when some normal way out of the function (a `return`, falling off the end, a `break`)
leaves it neither committed nor rolled back.

## Why is this bad
An open transaction keeps its locks and its snapshot. The connection goes back to the pool (or
stays in the session) "idle in transaction": other writers wait on its row locks, vacuum cannot
clean up, and the next user of the connection silently continues inside the old transaction.

## Example
```python
def rename(session, user_id, name):
    session.begin()
    user = session.get(User, user_id)
    if user is None:
        return False
    user.name = name
    session.commit()
    return True
```

## Use instead
```python
def rename(session, user_id, name):
    with session.begin():
        user = session.get(User, user_id)
        if user is None:
            return False
        user.name = name
    return True
```
"""
    VALID = []
    INVALID = []

    def check(self, ctx) -> None:
        _report(ctx, self.code)


@register
class TransactionNotEndedOnException(Rule):
    code = "TXL102"
    name = "transaction-not-ended-on-exception"
    summary = "An explicit transaction is left open when an exception propagates between its begin and its end"
    needs = frozenset({"names", "cfg"})
    doc = """
## What it does
Reports an explicit transaction when an exception raised after the `begin()` (by a query, a call,
an `await`) can propagate out of the function before the transaction is committed or rolled back:
there is no `rollback()` in an `except` or `finally` block and no `with` block managing it.

## Why is this bad
The failing statement is exactly the moment the transaction must be rolled back. Left open, the
connection keeps the transaction's locks and returns to the pool in an aborted state
(`current transaction is aborted, commands ignored until end of transaction block`), so the next
request that gets it fails too.

## Example
```python
async def transfer(conn, src, dst, amount):
    tr = conn.transaction()
    await tr.start()
    await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, src)
    await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, dst)
    await tr.commit()
```

## Use instead
```python
async def transfer(conn, src, dst, amount):
    async with conn.transaction():
        await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, src)
        await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, dst)
```
"""
    VALID = []
    INVALID = []

    def check(self, ctx) -> None:
        _report(ctx, self.code)
