"""Fixes of transactions and task sessions.

``fix_for_begin`` (TXL101/TXL102, safe) turns a straight ``begin()`` ... ``commit()`` into the
library's ``with`` block, which commits when the block ends and rolls back when it raises::

    tx = conn.begin()                       with conn.begin():
    conn.execute(stmt)              ->          conn.execute(stmt)
    tx.commit()

(SQLAlchemy ``Connection.begin()``/``Session.begin()``, psycopg 3 ``execute("BEGIN")`` ->
``with conn.transaction():``, asyncpg ``tr = conn.transaction(); await tr.start()`` ->
``async with conn.transaction():``; which kinds and which begins is data:
``txlint.resources.TX_WITH_FORMS``).  Only when it keeps behaviour on every path that does not
raise: the begin, the body and the commit are sibling statements of one block; the body has no
``return``, ``yield`` or ``break``/``continue`` out of it, does not end, restart or close the
transaction itself, and does not rebind the object the transaction was begun on; the handle
(``tx``) is used nowhere else (a later unconditional ``tx = ...`` in the same block starts a new
life of the name).  Anything else gives ``None``: the finding is reported without a fix.

``fix_for_task`` (TXL301, unsafe: it changes behaviour on purpose) wraps a Celery task's body in
``try: ... finally: <registry>.remove()``, the registry written as the task's module can reach it.
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from txlint.lazylib import libcst as cst

from txlint import resources as R
from txlint.context import Fix
from txlint.fix_with import _enclosing, _find_block, _name_refs, _walk, binding_targets

def _SCOPES_() -> tuple:
    return (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def _LOOPS_() -> tuple:
    return (cst.For, cst.While)
#: methods that begin, end or close a transaction or a connection on any kind of the table; the
#: body of the rewritten block must not call them on the object the transaction was begun on
_TX_METHODS = frozenset().union(*(k.tx_begin | k.tx_end | k.closers | k.current_tx for k in R.KINDS.values()))
#: methods that run SQL text (``execute("COMMIT")`` ends a transaction too)
_SQL_METHODS = frozenset().union(*(k.sql_methods for k in R.KINDS.values()))


class _Refuse(Exception):
    pass


# ------------------------------------------------------------------------------ small helpers
def _dotted(node: cst.CSTNode) -> Optional[str]:
    """``conn`` / ``self.session`` / ``db.session`` as text; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


def _string(node: cst.CSTNode) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, str) else None
    return None


def _single(stmt: cst.CSTNode) -> Optional[cst.BaseSmallStatement]:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return stmt.body[0]
    return None


def _expr_call(stmt: cst.CSTNode) -> tuple[Optional[cst.Call], bool]:
    """(call, awaited) of a statement that is just ``[await] call``."""
    small = _single(stmt)
    if not isinstance(small, cst.Expr):
        return None, False
    value, awaited = small.value, False
    if isinstance(value, cst.Await):
        value, awaited = value.expression, True
    return (value, awaited) if isinstance(value, cst.Call) else (None, False)


def _method_call(call: Optional[cst.Call]) -> tuple[Optional[str], Optional[str]]:
    """(dotted receiver, method) of ``recv.method(...)``."""
    if call is None or not isinstance(call.func, cst.Attribute):
        return None, None
    return _dotted(call.func.value), call.func.attr.value


def _inside_scope(anc: list) -> bool:
    return any(isinstance(a, _SCOPES_()) for a in anc[1:])


def _refs(node: cst.CSTNode, name: str) -> list[list]:
    """Ancestor chains of every reference to the variable ``name`` under ``node``."""
    return [anc for _, anc in _name_refs(node, {name})]


def _escapes(body: list) -> bool:
    """A return, a yield, or a break/continue that leaves ``body`` (not one of a loop inside it)."""
    stack: list[tuple[cst.CSTNode, bool]] = [(s, False) for s in body]
    while stack:
        node, in_loop = stack.pop()
        if isinstance(node, _SCOPES_()):
            continue
        if isinstance(node, (cst.Return, cst.Yield)):
            return True
        if isinstance(node, (cst.Break, cst.Continue)) and not in_loop:
            return True
        if isinstance(node, _LOOPS_()):
            # the loop's own body (and else) runs inside the loop; break/continue there stay in it
            stack.append((node.body, True))
            if node.orelse is not None:
                stack.append((node.orelse, in_loop))
            head = node.iter if isinstance(node, cst.For) else node.test
            stack.append((head, in_loop))
            continue
        stack.extend((child, in_loop) for child in node.children)
    return False


def _binds(stmts: list, root: str, dotted: str) -> bool:
    """Whether ``stmts`` rebind the name ``root`` or assign to ``dotted`` (or an attribute above it)."""
    prefixes = {dotted}
    parts = dotted.split(".")
    prefixes.update(".".join(parts[:i]) for i in range(1, len(parts)))

    def hits(target: cst.CSTNode) -> bool:
        if isinstance(target, (cst.Tuple, cst.List)):
            return any(hits(el.value) for el in target.elements)
        if isinstance(target, cst.StarredElement):
            return hits(target.value)
        text = _dotted(target)
        return text is not None and (text == root or text in prefixes)

    for stmt in stmts:
        for n in _walk(stmt):
            if any(hits(t) for t in binding_targets(n)):
                return True
    return False


def _ends_tx_on(stmts: list, recv: str) -> bool:
    """Whether ``stmts`` (nested functions included) end, restart or close a transaction on ``recv``."""
    for stmt in stmts:
        for n in _walk(stmt):
            if not isinstance(n, cst.Call):
                continue
            target, method = _method_call(n)
            if target != recv:
                continue
            if method in _TX_METHODS:
                return True
            if method in _SQL_METHODS and n.args:
                sql = _string(n.args[0].value)
                if sql is not None and (R.SQL_BEGIN.match(sql) or R.SQL_END.match(sql)):
                    return True
    return False


def _is_commit(stmt: cst.CSTNode, handle: Optional[str], recv: str, on_recv: bool, awaited: bool) -> bool:
    call, aw = _expr_call(stmt)
    if call is None or aw != awaited:
        return False
    target, method = _method_call(call)
    if method == "commit" and not call.args:
        return target is not None and ((handle is not None and target == handle) or (on_recv and target == recv))
    if on_recv and target == recv and method in _SQL_METHODS and len(call.args) == 1:
        sql = _string(call.args[0].value)
        return sql is not None and sql.strip().rstrip(";").strip().upper() in ("COMMIT", "END", "COMMIT WORK")
    return False


def _in_loop(func: cst.FunctionDef, target: cst.CSTNode) -> bool:
    """Whether ``target`` lies in a loop body of ``func`` (not of a nested function)."""
    stack: list[tuple[cst.CSTNode, bool]] = [(func.body, False)]
    while stack:
        node, looped = stack.pop()
        if node is target:
            return looped
        if isinstance(node, _SCOPES_()):
            continue
        looped = looped or isinstance(node, _LOOPS_())
        stack.extend((child, looped) for child in node.children)
    return False


def _order(func: cst.FunctionDef) -> dict[int, int]:
    """Source order of every node of ``func`` (pre-order index)."""
    return {id(n): i for i, n in enumerate(_walk(func))}


# ------------------------------------------------------------------------------ TXL101/TXL102
def fix_for_begin(ctx, call: cst.CSTNode, kind: R.Kind) -> Fix | None:
    """The with-fix for the transaction begun by ``call`` (a TXL101/TXL102 finding's node) on an
    object of ``kind``, or None.  Memoised per call: TXL101 and TXL102 of one begin share one fix."""
    if not ctx.options.want_fixes:
        return None
    memo = ctx.fact("txlint.fix_with.memo", lambda _ctx: {"module_fix": False, "issued": 0, "by_call": {}})
    by_begin = memo.setdefault("by_begin", {})
    key = id(call)
    if key in by_begin:
        return by_begin[key]
    try:
        fix = _begin_fix(ctx, call, kind)
    except (_Refuse, RecursionError):
        fix = None
    claimed = memo.setdefault("blocks", set())
    if fix is not None and id(fix.old) in claimed:
        fix = None  # another fix already rewrites this block; the next --fix pass does this one
    if fix is not None:
        claimed.add(id(fix.old))
    by_begin[key] = fix
    return fix


def _begin_fix(ctx, call, kind) -> Fix | None:
    forms = R.TX_WITH_FORMS.get(kind.name) if kind is not None else None
    if not forms or not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    func, stmt = _enclosing(ctx.module, call)
    if func is None or stmt is None:
        return None
    block = _find_block(func, stmt)
    if block is None:
        return None
    body = list(block.body)
    b = next(i for i, s in enumerate(body) if s is stmt)
    method = call.func.attr.value
    sql = _string(call.args[0].value) if call.args else None
    begin_key = "execute BEGIN" if (sql is not None and R.SQL_BEGIN.match(sql)) else method
    if begin_key not in forms:
        return None
    with_method, on_recv = forms[begin_key]

    # the begin statement: `[h =] [await] recv.begin(...)` or `[await] recv.execute("BEGIN")`
    small = _single(stmt)
    handle: Optional[str] = None
    if isinstance(small, cst.Assign):
        if len(small.targets) != 1 or not isinstance(small.targets[0].target, cst.Name):
            return None
        handle = small.targets[0].target.value
        value = small.value
    elif isinstance(small, cst.Expr):
        value = small.value
    else:
        return None
    awaited = isinstance(value, cst.Await)
    if (value.expression if awaited else value) is not call:
        return None
    if begin_key == "execute BEGIN" and (handle is not None or len(call.args) != 1 or
                                         sql.strip().rstrip(";").strip().upper() not in ("BEGIN", "START TRANSACTION",
                                                                                         "BEGIN TRANSACTION")):
        return None  # `BEGIN ISOLATION LEVEL ...`: the with form would drop the options
    recv = _dotted(call.func.value)
    if recv is None:
        return None
    first = b          # first statement removed (the begin, or the creation of the handle)
    leading = list(stmt.leading_lines)
    if with_method:
        if begin_key != "execute BEGIN" and begin_key != with_method:
            return None
        item: cst.BaseExpression = call.with_changes(func=call.func.with_changes(attr=cst.Name(with_method)))
        if begin_key == "execute BEGIN":
            item = cst.Call(cst.Attribute(call.func.value, cst.Name(with_method)))
    else:
        # the with goes on the call that created the transaction object: `h = recv.transaction(...)`
        # just before `await h.start()`
        if handle is not None or call.args or b == 0:
            return None
        creation = _single(body[b - 1])
        if not (isinstance(creation, cst.Assign) and len(creation.targets) == 1
                and isinstance(creation.targets[0].target, cst.Name)
                and creation.targets[0].target.value == recv and isinstance(creation.value, cst.Call)
                and isinstance(creation.value.func, cst.Attribute)):
            return None
        if body[b - 1].trailing_whitespace.comment is not None or _refs(creation.value, recv):
            return None
        handle = recv
        item = creation.value
        recv = _dotted(creation.value.func.value)
        if recv is None:
            return None
        first = b - 1
        leading = list(body[b - 1].leading_lines) + leading

    # the commit: the first sibling after the begin that commits it
    e = next((k for k in range(b + 1, len(body)) if _is_commit(body[k], handle, recv, on_recv, awaited)), None)
    if e is None:
        return None
    inner = body[b + 1:e]
    commit = body[e]
    if commit.trailing_whitespace.comment is not None:
        return None
    if _escapes(inner) or _ends_tx_on(inner, recv):
        return None
    root = recv.split(".")[0]
    if _binds(inner, root, recv):
        return None
    if handle is not None and not _handle_free(func, block, body, first, b, e, handle):
        return None
    if awaited and not func.asynchronous:
        return None

    if not inner:
        inner = [cst.SimpleStatementLine([cst.Pass()])]
    with_stmt = cst.With(
        items=[cst.WithItem(item)],
        body=cst.IndentedBlock(body=inner, header=stmt.trailing_whitespace),
        leading_lines=tuple(leading),
        asynchronous=cst.Asynchronous() if awaited else None,
    )
    after = body[e + 1:]
    footer = block.footer
    comments = [line for line in commit.leading_lines if line.comment is not None]
    if comments:  # a comment above the commit stays, below the block
        if after:
            after[0] = after[0].with_changes(leading_lines=tuple(comments) + tuple(after[0].leading_lines))
        else:
            footer = tuple(comments) + tuple(footer)
    new_block = block.with_changes(body=body[:first] + [with_stmt] + after, footer=footer)
    return Fix(block, new_block)


def _handle_free(func, block, body, first, b, e, handle) -> bool:
    """The handle is used only by the begin and the commit: every other reference in ``func`` is
    either before the begin (which rebinds it; not in a loop, where it would run after it), or
    after a later statement of the same block that rebinds it unconditionally."""
    for n in _walk(func):
        if isinstance(n, (cst.Global, cst.Nonlocal)) and any(item.name.value == handle for item in n.names):
            return False
    rebind = None
    for k in range(e + 1, len(body)):
        if not _refs(body[k], handle):
            continue
        small = _single(body[k])
        if (isinstance(small, cst.Assign) and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name) and small.targets[0].target.value == handle
                and not _refs(small.value, handle) and not _escapes(body[e + 1:k])):
            rebind = k
        break
    order = _order(func)
    start, stop = order[id(body[first])], order[id(body[e])]
    looped = None
    allowed = {id(s) for s in body[first:b + 1]} | {id(body[e])}
    if rebind is not None:
        allowed |= {id(s) for s in body[rebind:]}
    for _, anc in _name_refs(func, {handle}):
        if _inside_scope(anc):
            return False
        stmt = next((a for a in anc if id(a) in allowed), None)
        if stmt is not None:
            continue
        # where is it? before the begin is fine when the begin is not in a loop
        here = order[id(anc[-1])] if anc else 0
        if here < start:
            if looped is None:
                looped = _in_loop(func, body[b])
            if not looped:
                continue
            return False
        if rebind is not None and here > stop:
            # after the block, which rebinds it before leaving normally; a handler may run
            # while the transaction's handle is still wanted: refused
            if not any(a is block or isinstance(a, (cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally))
                       for a in anc):
                continue
        return False
    return True


# ------------------------------------------------------------------------------ TXL301 (unsafe)
def fix_for_task(ctx, view, task, leaks) -> Fix | None:
    """``try: <body> finally: <registry>.remove()`` around the body of ``task`` (an index
    TaskInfo) for every registry in ``leaks`` (RegistryUse); None when a registry cannot be
    named from the task's module, the body is a one-line suite, or unsafe fixes are off."""
    options = ctx.options
    if not (options.want_fixes and getattr(options, "unsafe_fixes", False)):
        return None
    try:
        return _task_fix(ctx, view, task, leaks)
    except (_Refuse, RecursionError):
        return None


def _registry_release(ctx, view, task, identity: str) -> Optional[str]:
    """Source text that releases the registry ``identity`` in the task's module: ``db.session.remove()``,
    ``Session.remove()``, ``session.close()``; None when no module-level name reaches it."""
    from txlint import index as X

    local = X.local_names(task.node)
    names = sorted(view.syms.bindings, key=lambda n: (n not in identity.split("."), n))
    for name in names:
        if name in local:
            continue
        for suffix in ("", ".session"):
            if view.origin_of_name(name, suffix) != identity:
                continue
            expr = name + suffix
            node = ast.parse(expr, mode="eval").body
            kind = view.kind(node)
            if kind is None:
                if suffix and view.is_external(name):
                    return f"{expr}.remove()"   # Flask-SQLAlchemy's `db` from outside the tree (§8)
                continue
            if kind.category not in (R.SCOPED_REGISTRY, R.SESSION):
                continue
            for method in ("remove", "close"):
                if method in kind.closers:
                    return f"{expr}.{method}()"
    return None


def _task_fix(ctx, view, task, leaks) -> Fix | None:
    releases: list[str] = []
    for use in leaks:
        text = _registry_release(ctx, view, task, use.identity)
        if text is None:
            return None
        if text not in releases:
            releases.append(text)
    if not releases:
        return None
    fn = _function_at(ctx, task.node.lineno, task.node.name)
    if fn is None or not isinstance(fn.body, cst.IndentedBlock):
        return None
    stmts = list(fn.body.body)
    keep = 0
    doc = _single(stmts[0]) if stmts else None
    if isinstance(doc, cst.Expr) and isinstance(doc.value, (cst.SimpleString, cst.ConcatenatedString)):
        keep = 1
    rest = stmts[keep:]
    if not rest:
        return None
    # blank lines above the body stay above the try; comments stay with their statement
    lead = list(rest[0].leading_lines)
    split = 0
    while split < len(lead) and lead[split].comment is None:
        split += 1
    rest[0] = rest[0].with_changes(leading_lines=tuple(lead[split:]))
    final = [cst.parse_statement(text + "\n") for text in releases]
    try_stmt = cst.Try(body=cst.IndentedBlock(body=rest), finalbody=cst.Finally(body=cst.IndentedBlock(body=final)),
                       leading_lines=tuple(lead[:split]))
    new_body = fn.body.with_changes(body=stmts[:keep] + [try_stmt])
    return Fix(fn.body, new_body, unsafe=True)


def _function_at(ctx, line: int, name: str) -> Optional[cst.FunctionDef]:
    for node in _functions(ctx.module):
        if node.name.value == name and ctx._position(node)[0] == line:
            return node
    return None


def _functions(module: cst.Module) -> Iterator[cst.FunctionDef]:
    for node in _walk(module):
        if isinstance(node, cst.FunctionDef):
            yield node
