"""TXL301 celery-task-session-leak: a Celery task that leaves a scoped session open in the worker."""

from __future__ import annotations

import ast
import os

from txlint import index as X
from txlint.astfields import SCOPE_TYPES
from txlint.context import AstWhere, ast_where
from txlint.fix_tx import fix_for_task
from txlint.messages import clip, fit
from txlint.gate import task_gate
from txlint.registry import Rule, register

from txlint.rules._celery_examples import INVALID_301, VALID_301


def _is_neutral_receiver(ctx, view, node: ast.Attribute, local) -> bool:
    return node.attr in X.REGISTRY_NEUTRAL and X.registry_of(ctx, view, node.value, local) is not None


class _Uses:
    """Uses of registries in one function, each with the registries that cover it."""

    def __init__(self, ctx, memo: dict):
        self.ctx = ctx
        self.memo = memo
        self.skip: set[int] = set()

    def leaky(self, view, fn, cls, depth: int) -> list[tuple[X.RegistryUse, frozenset]]:
        """(use, covers) for every registry use in ``fn`` (helpers followed)."""
        key = id(fn)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = []
        local = {n: None for n in X.local_names(fn)}
        self.aliases = aliases = getattr(self, "aliases", {})
        for node in X.walk_function(fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, ast.Call) and not node.value.args:
                reg = X.registry_info(self.ctx, view, node.value.func, local)
                if reg is not None:
                    aliases[(id(fn), node.targets[0].id)] = reg
                    self.skip.add(id(node.value.func))
        self.fn_id = id(fn)
        out: list[tuple[X.RegistryUse, frozenset]] = []
        self._stmts(view, fn, cls, depth, local, getattr(fn, "body", []), frozenset(), out)
        self.memo[key] = out
        return out

    def _stmts(self, view, fn, cls, depth, local, stmts, covers, out) -> None:
        for stmt in stmts:
            self._node(view, fn, cls, depth, local, stmt, covers, out)

    def _node(self, view, fn, cls, depth, local, node, covers, out) -> None:
        ctx = self.ctx
        if type(node) in SCOPE_TYPES:
            return
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            inner = covers
            if node.finalbody:
                inner = covers | frozenset(X.released_registries(ctx, view, node.finalbody))
                for stmt in node.finalbody:
                    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
                            isinstance(stmt.value.func, ast.Attribute) and stmt.value.func.attr in X.REGISTRY_RELEASE \
                            and isinstance(stmt.value.func.value, ast.Name):
                        reg = self.aliases.get((id(fn), stmt.value.func.value.id))
                        if reg is not None:
                            inner = inner | {reg[0]}
            self._stmts(view, fn, cls, depth, local, node.body, inner, out)
            for h in node.handlers:
                self._stmts(view, fn, cls, depth, local, h.body, inner, out)
            self._stmts(view, fn, cls, depth, local, node.orelse, inner, out)
            self._stmts(view, fn, cls, depth, local, node.finalbody, covers, out)
            return
        if isinstance(node, (ast.With, ast.AsyncWith)):
            inner = set(covers)
            for item in node.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call) and not expr.args and \
                        X.registry_of(ctx, view, expr.func, local) is not None:
                    inner.add(X.registry_of(ctx, view, expr.func, local)[0])
                    continue
                self._node(view, fn, cls, depth, local, expr, covers, out)
                context = X.context_of(ctx, view, expr, local, (fn,))
                if context is not None:
                    inner.add(context)  # a Flask context: its teardowns run when the block ends
                elif isinstance(expr, ast.Call) and not expr.args:
                    reg = X.registry_of(ctx, view, expr.func, local)
                    if reg is not None:
                        inner.add(reg[0])  # `with Session() as s:` closes the thread's session
            self._stmts(view, fn, cls, depth, local, node.body, frozenset(inner), out)
            return
        if isinstance(node, ast.Attribute):
            if _is_neutral_receiver(ctx, view, node, local):
                return
            reg = X.registry_info(ctx, view, node, local)
            if reg is not None:
                out.append((X.RegistryUse(reg[0], reg[1], node.lineno, node.col_offset, flask=reg[2]), covers))
                return
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if id(node) in self.skip:
                return
            alias = self.aliases.get((id(fn), node.id))
            if alias is not None:
                out.append((X.RegistryUse(alias[0], alias[1], node.lineno, node.col_offset, flask=alias[2]), covers))
                return
            reg = X.registry_info(ctx, view, node, local)
            if reg is not None:
                out.append((X.RegistryUse(reg[0], reg[1], node.lineno, node.col_offset, flask=reg[2]), covers))
                return
        elif isinstance(node, ast.Call) and depth < X.MAX_DEPTH:
            helper = self._helper(view, cls, node.func, local)
            if helper is not None:
                hview, hfn = helper
                # a cleanup in the helper counts only where it covers the use (try/finally, with):
                # a remove() that an exception or an early return can skip is no cleanup (§15)
                for use, hcovers in self.leaky(hview, hfn, None, depth + 1):
                    if X.covered(use, hcovers):
                        continue
                    where = os.path.basename(hview.syms.path) if hview is not view else ""
                    name = getattr(hfn, "name", "helper")
                    via = f"{name}() line {use.line}" + (f" in {where}" if where else "")
                    if use.via:
                        via = f"{via}, {use.via}"
                    out.append((X.RegistryUse(use.identity, use.label, node.lineno, node.col_offset, via, use.flask),
                                covers | hcovers))
        for child in ast.iter_child_nodes(node):
            self._node(view, fn, cls, depth, local, child, covers, out)

    def _helper(self, view, cls, func, local):
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self" \
                and cls is not None:
            method = X._method(cls, func.attr)
            return (view, method) if method is not None else None
        root, _ = X.ast_chain(func)
        if root is None or root in local:
            return None
        target = X.definition(self.ctx, view, func)
        if target is not None and isinstance(target[1], (ast.FunctionDef, ast.AsyncFunctionDef)):
            return target
        return None


def _exit_note(fn: ast.AST, use: X.RegistryUse, label: str) -> tuple[tuple[int, int], str]:
    release = f"{label}.remove()" if not label.endswith(".query") else f"{label.rsplit('.', 2)[0]} session removal"
    for node in X.walk_function(fn):
        if isinstance(node, ast.Return) and node.lineno >= use.line:
            return (node.lineno, node.col_offset + 1), f"task returns at line {node.lineno} without {release}"
    end = getattr(fn, "end_lineno", fn.lineno) or fn.lineno
    return (end, 1), f"task ends at line {end} without {release}"


def _skipped_cleanup(ctx, view, fn, ident) -> tuple[int, int] | None:
    """A remove()/close() of the registry that is not in a ``finally`` (so can be skipped)."""
    finals: set[int] = set()
    for node in X.walk_function(fn):
        if isinstance(node, ast.Try):
            for stmt in node.finalbody:
                finals.update(id(n) for n in ast.walk(stmt))
    for node in X.walk_function(fn):
        if isinstance(node, ast.Call) and id(node) not in finals and isinstance(node.func, ast.Attribute) \
                and node.func.attr in X.REGISTRY_RELEASE:
            reg = X.registry_of(ctx, view, node.func.value)
            if reg is not None and reg[0] == ident:
                return ast_where(node)
    return None


@register
class CeleryTaskSessionLeak(Rule):
    code = "TXL301"
    tree = "none"  # the worker index, on the ast
    name = "celery-task-session-leak"
    summary = ("a Celery task uses a scoped or module-level session and nothing removes or closes it "
               "when the task ends")
    needs = frozenset({"names", "index"})
    doc = """
## What it does
Finds Celery tasks (`@app.task`, `@shared_task`, `@celery.task`, configured `task-decorators`,
class-based tasks' `run`) that use a scoped or module-level session -- Flask-SQLAlchemy's
`db.session`, `Model.query`, a `scoped_session` registry, a module-level `Session()` -- directly or
through a project helper they call, when nothing ends that session on every way out of the task:
no `finally` that calls `remove()`/`close()` on it, no `task_postrun`/`task_prerun` signal handler
that removes it, no Task base class whose `after_return` removes it, no Flask app context around
the body.

What covers what: a Task class installed on an app (`Celery(..., task_cls=...)`, `app.Task = ...`)
covers that app's tasks only (`@x.task` runs on app `x`; a `@shared_task` on every app of its own
top-level package, else of the project, and is covered only when all of them cover it); a
`task_postrun`/`task_prerun` handler covers the registries it removes, not others; a Flask app
context (around the body, or in a Task class's `__call__`) ends Flask-SQLAlchemy's session, and a
plain `scoped_session` only when a `teardown_appcontext` of that Flask app removes it
(`teardown_request` functions run only when a request context ends).

A `finally` that only commits, an `after_return` that only logs, a `worker_process_init` handler
that only disposes the engine, or a `remove()` that an early return or an exception can skip (at
the end of the body, after a `commit()` in a handler, in a helper the task calls) are not cleanup.
Flask views and `app.cli` commands are never reported (Flask removes the session at the end of each
request or app context).  A session the task creates from a `sessionmaker` and closes itself is
TXL201/TXL202's business, and so is a `scoped_session(...)` registry created inside the task.

## Why is this bad
A Celery worker process runs tasks for days.  A scoped session lives in a thread-local registry:
if no one calls `remove()`, the session -- with its connection and often an open transaction --
survives the task and is reused by the next task in that process.  Overnight the database drops
the idle connection (MySQL `wait_timeout`, PgBouncer/`idle_in_transaction_session_timeout`, a
load balancer's idle limit), and the first query of the morning fails with
`MySQL server has gone away` / `SSL SYSCALL error: EOF detected`; a failed transaction also
poisons the session for every later task (`PendingRollbackError`).  Objects loaded by one task
are also served stale to the next.

## Example
```python
from app.extensions import db
from app.celery_app import celery


@celery.task
def send_digest(user_id):
    user = db.session.get(User, user_id)
    user.digest_sent = True
    db.session.commit()
```

## Use instead
Remove the session after every task, once for the whole worker:
```python
from celery.signals import task_postrun


@task_postrun.connect
def close_session(*args, **kwargs):
    db.session.remove()
```
or, per task, `try: ... finally: db.session.remove()`, or run the body inside
`with flask_app.app_context():` (Flask-SQLAlchemy removes the session on teardown).
"""
    VALID = VALID_301
    INVALID = INVALID_301

    @classmethod
    def gate(cls, gate) -> bool:
        return task_gate(gate)

    def check(self, ctx) -> None:
        if "ask" not in ctx.text and not ctx.options.task_decorators:
            return
        idx = X.index_for(ctx)
        if not idx.tasks:
            return
        view = idx.view
        memo: dict = {}
        walker = _Uses(ctx, memo)
        project: list = []

        def project_index() -> X.WorkerIndex:
            if not project:
                project.append(X.worker_index(ctx))
                ctx.project.touched.update(project[0].files)
            return project[0]

        for task in idx.tasks:
            uses = [(u, c) for u, c in walker.leaky(view, task.node, task.cls, 0) if not X.covered(u, c)]
            if not uses:
                continue
            windex = project_index()
            uses = [(u, c) for u, c in uses if not X.covered(u, c, windex.torn_down)]
            if not uses:
                continue
            cleaned = windex.cleaned()  # signal handlers, whatever app runs the task
            apps: list[set[str]] = [set()]  # §15: covered only when every app it can run on covers
            if task.cls is not None:
                cleaned |= X.class_cleanups(ctx, view, task.cls)  # its own class, not the app's Task
            elif task.base is not None:
                target = X.definition(ctx, view, task.base)
                if target is not None and isinstance(target[1], ast.ClassDef):
                    cleaned |= X.class_cleanups(ctx, target[0], target[1])
                elif target is None and not (view.ref(task.base) or "").startswith("celery."):
                    continue  # a base class we cannot see: never invent a leak
            else:
                apps = windex.app_cleanups(X.task_apps(ctx, view, task, windex)) or [set()]
            leaks = [u for u, c in uses
                     if not all(X.covered(u, c | cleaned | app, windex.torn_down) for app in apps)]
            if not leaks:
                continue
            self._report(ctx, view, task, leaks[0], leaks)

    def _report(self, ctx, view, task: X.TaskInfo, use: X.RegistryUse, leaks=()) -> None:
        fn = task.node
        label = use.label
        if label.endswith(".query"):
            session_label = "db.session"
            what = f"{label} (which uses db.session)"
        else:
            session_label = label.split("(")[0]
            what = label
        used = f"{what} used at line {use.line}" + (f" through {use.via}" if use.via else "")
        trace = [(AstWhere((use.line, use.col + 1)), used)]
        skipped = _skipped_cleanup(ctx, view, fn, use.identity)
        if skipped is not None:
            trace.append((skipped, f"{session_label}.remove() at line {skipped[0]} is skipped when the task "
                                   f"returns early or raises"))
        exit_where, exit_note = _exit_note(fn, use, session_label)
        trace.append((exit_where, exit_note))
        kind = "class-based task" if task.cls is not None else "Celery task"
        message = fit(f"{kind} `{clip(task.name, 40)}` uses {clip(session_label, 30)} and nothing removes it "
                      f"when the task ends")
        head = ("async def " if isinstance(fn, ast.AsyncFunctionDef) else "def ") + fn.name
        ctx.report(self.code, (fn.lineno, fn.col_offset + 1), message, trace=trace,
                   fix=fix_for_task(ctx, view, task, leaks or [use]),
                   end=(fn.lineno, fn.col_offset + 1 + len(head)))
