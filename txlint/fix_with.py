"""The safe fix of TXL201/TXL202: wrap a local resource in ``with`` (or ``contextlib.closing``).

``wrap_in_with`` turns::

    conn = sqlite3.connect(path)
    conn.execute(sql)
    conn.close()

into::

    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(sql)

only when that is provably behaviour-preserving: the whole use of the resource (and of everything
derived from it, such as its cursors or query objects) is one straight run of sibling statements,
nothing of it escapes the run (returned, yielded, stored, passed to a function, used by a nested
function), and the only ``close()`` is the run's last statement (removed: ``with`` does it).
Anything else gives ``None``: the finding is reported without a fix.

Plain ``with obj`` is used only where the library's ``__exit__`` does exactly what ``close()`` does;
everywhere else ``contextlib.closing(...)`` (which calls ``close()`` and nothing more) is used.

When ``contextlib`` has to be imported, the fix replaces the whole Module node (it adds
``import contextlib`` at the top). ``txlint.fixes.apply_fixes`` replaces nodes by identity, so such a
fix overrides every other fix of the same file; the next ``--fix`` run picks the others up.
``fix_for_call`` (the entry point for rules) gives a Module-wide fix only as the first with-fix of a
file and nothing after it, and memoises per acquiring call so TXL201 and TXL202 on one line share
one fix. Fixes of other rules in the same file (TXL402/TXL404) are still overridden by a Module-wide
fix; they are applied by the next ``--fix`` run.
"""

from __future__ import annotations

from typing import Iterator, Optional, Sequence

from txlint.lazylib import libcst as cst

from txlint import resources as R
from txlint.context import Fix

# kinds whose `with obj:` does more than close(): psycopg 3's Connection.__exit__ commits when the
# block ends without an exception (closing an open transaction otherwise discards it)
_WITH_DOES_MORE = frozenset({"psycopg.connection"})
# kinds released by something other than close() (a pool's putconn/release; a scoped registry's remove)
_NOT_CLOSED_BY_CLOSE = frozenset({"dbapi.pooled-connection", "asyncpg.pooled-connection", "sa.scoped-member"})
# a call of one of these on a DB-API object gives plain rows (not tied to the connection)
_MATERIALISE = frozenset({"fetchall", "fetchone", "fetchmany"})
# attributes of DB-API / SQLAlchemy objects that are plain values
_SCALAR_ATTRS = frozenset({"rowcount", "lastrowid", "total_changes", "in_transaction", "closed", "autocommit"})
# builtins whose result is a plain value and that keep nothing of their arguments
_PLAIN_BUILTINS = frozenset({"len", "str", "int", "float", "bool", "repr", "isinstance", "hasattr", "print"})


class _Refuse(Exception):
    pass


# ------------------------------------------------------------------------------ tree helpers
def _children(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    return node.children


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(_children(n)))


def _name_refs(node: cst.CSTNode, names: frozenset | set) -> Iterator[tuple[cst.Name, list]]:
    """Every Name in ``names`` that refers to a variable (not an attribute or keyword name), with its
    chain of ancestors (outermost first, ``node`` included)."""
    stack: list[tuple[cst.CSTNode, list]] = [(node, [])]
    while stack:
        n, anc = stack.pop()
        if isinstance(n, cst.Name):
            if n.value in names:
                yield n, anc
            continue
        path = anc + [n]
        skip: set[int] = set()
        if isinstance(n, cst.Attribute):
            skip.add(id(n.attr))
        elif isinstance(n, cst.Arg) and n.keyword is not None:
            skip.add(id(n.keyword))
        elif isinstance(n, (cst.ImportAlias,)):
            continue
        for child in reversed(_children(n)):
            if id(child) not in skip:
                stack.append((child, path))


def _find_block(func: cst.FunctionDef, stmt: cst.CSTNode) -> Optional[cst.IndentedBlock]:
    """The IndentedBlock of ``func`` (not of a nested def/class) whose body holds ``stmt``."""
    stack: list[cst.CSTNode] = [func.body]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.IndentedBlock) and any(s is stmt for s in n.body):
            return n
        for child in _children(n):
            if isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                continue
            stack.append(child)
    return None


def _is_close_of(stmt: cst.CSTNode, var: str, methods: frozenset) -> bool:
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return False
    expr = stmt.body[0]
    if not isinstance(expr, cst.Expr) or not isinstance(expr.value, cst.Call):
        return False
    func = expr.value.func
    return (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == var
            and func.attr.value in methods and not expr.value.args)


def _bound_names(node: cst.CSTNode) -> set[str]:
    """Names a function (or module) binds anywhere: parameters, targets, imports, defs."""
    out: set[str] = set()
    for n in _walk(node):
        if isinstance(n, cst.Param):
            out.add(n.name.value)
        elif isinstance(n, (cst.FunctionDef, cst.ClassDef)) and n is not node:
            out.add(n.name.value)
        elif isinstance(n, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor,
                            cst.NamedExpr, cst.AsName)):
            target = n.name if isinstance(n, cst.AsName) else n.target
            for t in _walk(target):
                if isinstance(t, cst.Name):
                    out.add(t.value)
        elif isinstance(n, cst.ImportAlias) and n.asname is None:
            name = n.name
            while isinstance(name, cst.Attribute):
                name = name.value
            if isinstance(name, cst.Name):
                out.add(name.value)
        elif isinstance(n, (cst.Global, cst.Nonlocal)):
            out.update(item.name.value for item in n.names)
    return out


def _target_names(t: cst.CSTNode) -> Iterator[str]:
    """Names a binding target (re)binds; ``a.b = ...`` and ``a[i] = ...`` bind none."""
    if isinstance(t, cst.Name):
        yield t.value
    elif isinstance(t, (cst.Tuple, cst.List)):
        for el in t.elements:
            yield from _target_names(el.value)
    elif isinstance(t, cst.StarredElement):
        yield from _target_names(t.value)


def binding_targets(n: cst.CSTNode) -> list:
    """The targets node ``n`` binds: assignments, loop and ``with`` targets, ``del``,
    ``global``/``nonlocal``, ``def``/``class`` names and import aliases."""
    if isinstance(n, cst.AssignTarget):
        return [n.target]
    if isinstance(n, (cst.For, cst.CompFor, cst.NamedExpr, cst.AugAssign, cst.AnnAssign)):
        return [n.target]
    if isinstance(n, cst.AsName):
        return [n.name]
    if isinstance(n, cst.Del):
        return [n.target]
    if isinstance(n, (cst.Global, cst.Nonlocal)):
        return [item.name for item in n.names]
    if isinstance(n, (cst.FunctionDef, cst.ClassDef)):
        return [n.name]
    if isinstance(n, cst.ImportAlias):
        return [n.asname.name if n.asname else n.name]
    return []


def _rebinds(stmts: Sequence[cst.CSTNode], var: str) -> bool:
    for stmt in stmts:
        for n in _walk(stmt):
            if any(name == var for t in binding_targets(n) for name in _target_names(t)):
                return True
    return False


# ------------------------------------------------------------------------------ taint analysis
class _Taint:
    """Which names hold the resource or something tied to it, and where such values go."""

    def __init__(self, var: str, kind: R.Kind):
        self.names: set[str] = {var}
        self.var = var
        self.rows_are_plain = kind.category != R.SESSION   # ORM objects die with their session

    # does the value of this expression hold (part of) the resource?
    def carries(self, e: cst.CSTNode) -> bool:
        if isinstance(e, cst.Name):
            return e.value in self.names
        if isinstance(e, cst.Attribute):
            if e.attr.value in _SCALAR_ATTRS:
                return False
            return self.carries(e.value)
        if isinstance(e, cst.Subscript):
            return self.carries(e.value)
        if isinstance(e, cst.Call):
            f = e.func
            if isinstance(f, cst.Name) and f.value in _PLAIN_BUILTINS:
                return False
            if (self.rows_are_plain and isinstance(f, cst.Attribute) and f.attr.value in _MATERIALISE):
                return False
            return self.carries(f) or any(self.carries(a.value) for a in e.args)
        if isinstance(e, (cst.Comparison, cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary,
                          cst.FormattedString, cst.ConcatenatedString)):
            return False
        if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Not):
            return False
        if isinstance(e, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            if isinstance(e, cst.GeneratorExp):             # lazy: runs after the block
                return any(True for _ in _name_refs(e, self.names))
            fors = []
            f = e.for_in
            while f is not None:
                fors.append(f)
                f = f.inner_for_in
            if any(self.carries(f.iter) for f in fors) and not self.rows_are_plain:
                return True
            parts = [e.key, e.value] if isinstance(e, cst.DictComp) else [e.elt]
            parts += [cond for f in fors for cond in f.ifs]
            return any(self.carries(p) for p in parts)
        return any(True for _ in _name_refs(e, self.names))

    def bind(self, target: cst.CSTNode) -> None:
        """``target = <carrier>``: plain names become carriers; storing anywhere else is an escape."""
        if isinstance(target, cst.Name):
            if target.value == self.var:
                raise _Refuse("reassigned")
            self.names.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self.bind(el.value)
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value)
        elif isinstance(target, (cst.Attribute, cst.Subscript)) and self.carries(target.value):
            pass                                    # conn.row_factory = ...: stored on the resource itself
        else:
            raise _Refuse("stored")

    def propagate(self, run: Sequence[cst.CSTNode]) -> None:
        """Grow ``names`` to a fixed point over the run (loops can carry values backwards)."""
        while True:
            before = len(self.names)
            for stmt in run:
                for n in _walk(stmt):
                    if isinstance(n, cst.Assign) and self.carries(n.value):
                        for t in n.targets:
                            self.bind(t.target)
                    elif isinstance(n, (cst.AnnAssign, cst.AugAssign)) and n.value is not None and self.carries(n.value):
                        self.bind(n.target)
                    elif isinstance(n, cst.NamedExpr) and self.carries(n.value):
                        self.bind(n.target)
                    elif isinstance(n, (cst.For, cst.CompFor)) and self.carries(n.iter):
                        if not self.rows_are_plain:
                            self.bind(n.target)
                    elif isinstance(n, cst.WithItem) and n.asname is not None and self.carries(n.item):
                        self.bind(n.asname.name)
            if len(self.names) == before:
                return

    def check_uses(self, run: Sequence[cst.CSTNode]) -> None:
        """Every use of a carrier inside the run must keep it inside the run."""
        for stmt in run:
            for name, anc in _name_refs(stmt, self.names):
                self._check_one(name, anc)

    def _check_one(self, name: cst.Name, anc: list) -> None:
        # climb the chain of expressions that hold the carrier, up to the statement that uses it
        if any(isinstance(a, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) for a in anc):
            raise _Refuse("used in a nested scope")
        node: cst.CSTNode = name
        for i in range(len(anc) - 1, -1, -1):
            parent = anc[i]
            if isinstance(parent, (cst.Global, cst.Nonlocal, cst.Del)):
                raise _Refuse("global/nonlocal/del")
            if isinstance(parent, (cst.Yield, cst.Return, cst.Raise)):
                if self.carries(node):
                    raise _Refuse("escapes by return/yield/raise")
                return
            if isinstance(parent, cst.Arg):
                call = anc[i - 1] if i >= 1 else None
                if isinstance(call, cst.Call) and self.carries(node):
                    f = call.func
                    if isinstance(f, cst.Name) and f.value in _PLAIN_BUILTINS:
                        return
                    if self.carries(f):
                        return                      # handed back to the resource itself: cur.execute(q, row)
                    raise _Refuse("passed as an argument")
                return
            if isinstance(parent, (cst.Index, cst.Slice, cst.SubscriptElement)):
                if self.carries(node):
                    raise _Refuse("used as a key")
                return
            if isinstance(parent, cst.AssignTarget) or (
                    isinstance(parent, (cst.AnnAssign, cst.AugAssign)) and parent.target is node):
                return                              # rebinding var is refused by _rebinds(); conn.attr = ... is fine
            if isinstance(parent, (cst.BaseSmallStatement, cst.BaseCompoundStatement, cst.SimpleStatementLine,
                                   cst.BaseSuite, cst.WithItem, cst.ExceptHandler, cst.Else, cst.Finally)):
                # `for x in cur:`, `with conn.cursor() as c:`, `if conn:`, `x = conn.cursor()`:
                # bindings were followed by propagate(); everything else keeps the value here
                return
            node = parent


# ------------------------------------------------------------------------------ contextlib import
def _top_level_imports(module: cst.Module) -> tuple[Optional[str], Optional[str]]:
    """(alias of ``import contextlib``, alias of ``from contextlib import closing``) at module level."""
    mod_alias = closing_alias = None
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if isinstance(alias.name, cst.Name) and alias.name.value == "contextlib":
                        mod_alias = alias.asname.name.value if alias.asname else "contextlib"
            elif (isinstance(small, cst.ImportFrom) and small.relative == () and isinstance(small.module, cst.Name)
                  and small.module.value == "contextlib" and not isinstance(small.names, cst.ImportStar)):
                for alias in small.names:
                    if isinstance(alias.name, cst.Name) and alias.name.value == "closing":
                        closing_alias = alias.asname.name.value if alias.asname else "closing"
    return mod_alias, closing_alias


def _import_key(stmt: cst.CSTNode) -> Optional[str]:
    """The module name a header import statement sorts by; None when it is not an import."""
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Import):
        return cst.Module([]).code_for_node(small.names[0].name)
    if isinstance(small, cst.ImportFrom):
        if small.module is None:
            return "."
        return cst.Module([]).code_for_node(small.module)
    return None


def _import_edit(body: list) -> Fix:
    """The edit that adds ``import contextlib`` to a module whose top-level statements are
    ``body``: after the docstring and ``__future__`` imports, before the first leading ``import X``
    that sorts after it, else after the last leading ``import X``, else first.  An insertion, so it
    composes with other fixes of the file."""
    imp = cst.SimpleStatementLine([cst.Import([cst.ImportAlias(cst.Name("contextlib"))])])
    i0 = 0
    if body and isinstance(body[0], cst.SimpleStatementLine) and len(body[0].body) == 1 and \
            isinstance(body[0].body[0], cst.Expr) and \
            isinstance(body[0].body[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        i0 = 1
    while i0 < len(body) and _import_key(body[i0]) == "__future__":
        i0 += 1
    at = None
    after_plain = None
    j = i0
    while j < len(body) and _import_key(body[j]) is not None:
        if isinstance(body[j].body[0], cst.Import):
            if _import_key(body[j]) > "contextlib":
                at = j
                break
            after_plain = j + 1
        j += 1
    if at is None:
        at = after_plain if after_plain is not None else i0
    if at >= len(body):
        return Fix(body[-1], after=(imp.with_changes(leading_lines=(cst.EmptyLine(),)),))
    nxt = body[at]
    if at == i0:
        # first of the header: take the blank lines/comments above the statement it goes before
        imp = imp.with_changes(leading_lines=nxt.leading_lines)
        if _import_key(nxt) is not None:
            gap: tuple = ()
        elif isinstance(nxt, (cst.FunctionDef, cst.ClassDef)):
            gap = (cst.EmptyLine(), cst.EmptyLine())
        else:
            gap = (cst.EmptyLine(),)
        if at > 0 and not nxt.leading_lines:
            imp = imp.with_changes(leading_lines=(cst.EmptyLine(),))
        return Fix(nxt, before=(imp,), leading_lines=gap)
    return Fix(nxt, before=(imp,))


# ------------------------------------------------------------------------------ the fix
def wrap_in_with(ctx, func: cst.FunctionDef, acquire_stmt: cst.SimpleStatementLine, var: str,
                 kind: R.Kind, *, allow_module_fix: bool = True) -> Fix | None:
    """The fix that puts the resource acquired by ``acquire_stmt`` (``var = <call>``, a statement of
    ``func``) and its whole use under one ``with``; ``None`` when that is not provably safe."""
    try:
        return _wrap(ctx, func, acquire_stmt, var, kind, allow_module_fix)
    except (_Refuse, RecursionError):
        return None


def _wrap(ctx, func, acquire_stmt, var, kind, allow_module_fix) -> Fix | None:
    if kind is None or not kind.resource or "close" not in kind.closers or kind.name in _NOT_CLOSED_BY_CLOSE:
        return None
    # the acquisition: exactly `var = <plain call>`
    if not (isinstance(acquire_stmt, cst.SimpleStatementLine) and len(acquire_stmt.body) == 1):
        return None
    assign = acquire_stmt.body[0]
    if not (isinstance(assign, cst.Assign) and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name) and assign.targets[0].target.value == var
            and isinstance(assign.value, cst.Call)):
        return None                                 # awaited acquisitions, chained targets, tuples: no fix
    call = assign.value
    if any(True for _ in _name_refs(call, {var})):
        return None                                 # var = wrap(var)
    block = _find_block(func, acquire_stmt)
    if block is None:
        return None
    body = list(block.body)
    start = next(k for k, s in enumerate(body) if s is acquire_stmt)

    # the run: from the acquisition to the last statement that mentions the resource or anything tied to it
    taint = _Taint(var, kind)
    end = start
    while True:
        names = set(taint.names)
        last = max(k for k in range(start, len(body)) if any(True for _ in _name_refs(body[k], names)))
        taint.propagate(body[start + 1:last + 1])
        if last == end and taint.names == names:
            break
        end = last
    run = body[start:end + 1]
    inner = body[start + 1:end + 1]

    # nothing tied to the resource is mentioned anywhere in the function outside the run
    inside = sum(1 for s in run for _ in _name_refs(s, taint.names))
    total = sum(1 for _ in _name_refs(func, taint.names))
    if inside != total:
        return None
    for stmt in inner:
        for n in _walk(stmt):
            if isinstance(n, (cst.Yield,)):
                return None                         # a generator suspended inside `with`
            if isinstance(n, (cst.Global, cst.Nonlocal)):
                return None
    if _rebinds(inner, var):
        return None
    for stmt in inner:
        for n in _walk(stmt):
            # `with conn:` inside the run may already close it (PyMySQL raises on a second close());
            # `c = conn` makes an alias whose close() we would not see
            if isinstance(n, cst.WithItem) and isinstance(n.item, cst.Name) and n.item.value == var:
                return None
            if isinstance(n, (cst.Assign, cst.AnnAssign, cst.NamedExpr, cst.AugAssign)) and \
                    isinstance(n.value, cst.Name) and n.value.value == var:
                return None
    taint.check_uses(inner)

    # the only close() allowed is the run's last statement (removed)
    closers = kind.closers | {"close"}
    removed_close = None
    if inner and _is_close_of(inner[-1], var, closers) and \
            inner[-1].body[0].value.func.attr.value == "close":
        removed_close = inner[-1]
        inner = inner[:-1]
    for stmt in inner:
        for n in _walk(stmt):
            if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and \
                    isinstance(n.func.value, cst.Name) and n.func.value.value == var and \
                    n.func.attr.value in closers:
                return None

    # how to spell the context manager
    module = ctx.module
    plain = (kind.with_exit == R.EXIT_CLOSE and kind.category != R.CURSOR
             and kind.name not in _WITH_DOES_MORE and kind.name != "dbapi.connection")
    need_import = False
    if plain:
        item = call
    else:
        mod_alias, closing_alias = _top_level_imports(module)
        local = _bound_names(func)
        if closing_alias is not None and closing_alias not in local:
            wrapper: cst.BaseExpression = cst.Name(closing_alias)
        elif mod_alias is not None and mod_alias not in local:
            wrapper = cst.Attribute(cst.Name(mod_alias), cst.Name("closing"))
        else:
            if not allow_module_fix or "contextlib" in local or "contextlib" in _bound_names(module):
                return None
            wrapper = cst.Attribute(cst.Name("contextlib"), cst.Name("closing"))
            need_import = True
        item = cst.Call(wrapper, [cst.Arg(call)])

    if not inner:
        inner = [cst.SimpleStatementLine([cst.Pass()])]
    with_stmt = cst.With(
        items=[cst.WithItem(item, asname=cst.AsName(cst.Name(var)))],
        body=cst.IndentedBlock(body=inner, header=acquire_stmt.trailing_whitespace),
        leading_lines=acquire_stmt.leading_lines,
    )
    after = body[end + 1:]
    footer = block.footer
    if removed_close is not None:
        comments = [line for line in removed_close.leading_lines if line.comment is not None]
        if comments:
            if after:
                after[0] = after[0].with_changes(leading_lines=tuple(comments) + tuple(after[0].leading_lines))
            else:
                footer = tuple(comments) + tuple(footer)
        if removed_close.trailing_whitespace.comment is not None:
            return None                             # a comment on the close() line: keep it, no fix
    new_block = block.with_changes(body=body[:start] + [with_stmt] + after, footer=footer)
    if not need_import:
        return Fix(block, new_block)
    return Fix(block, new_block, also=(_import_edit(list(module.body)),))


# ------------------------------------------------------------------------------ entry point for rules
def _enclosing(module: cst.Module, target: cst.CSTNode):
    """(innermost FunctionDef, SimpleStatementLine) that hold ``target``, or (None, None)."""
    stack: list[tuple[cst.CSTNode, object, object]] = [(module, None, None)]
    while stack:
        node, func, stmt = stack.pop()
        if node is target:
            return func, stmt
        if isinstance(node, cst.FunctionDef):
            func, stmt = node, None
        elif isinstance(node, cst.SimpleStatementLine):
            stmt = node
        for child in _children(node):
            stack.append((child, func, stmt))
    return None, None


def fix_for_call(ctx, call: cst.CSTNode, kind: R.Kind) -> Fix | None:
    """The with-fix for the resource acquired by ``call`` (a finding's node: the Call of
    ``var = <call>``), or None. Memoised per call, so TXL201 and TXL202 on one line share one fix.
    A fix that must add ``import contextlib`` replaces the whole Module and would override every other
    fix of the file: it is given only when no other with-fix was given in this file before, and no
    with-fix is given after it (the next ``--fix`` run does the rest)."""
    if not ctx.options.want_fixes:
        return None
    memo = ctx.fact("txlint.fix_with.memo", lambda _ctx: {"module_fix": False, "issued": 0, "by_call": {}})
    key = id(call)
    if key in memo["by_call"]:
        return memo["by_call"][key]
    fix = None
    func, stmt = _enclosing(ctx.module, call)
    if func is not None and stmt is not None and len(stmt.body) == 1 and \
            isinstance(stmt.body[0], cst.Assign) and stmt.body[0].value is call and \
            len(stmt.body[0].targets) == 1 and isinstance(stmt.body[0].targets[0].target, cst.Name):
        # at most one fix per file adds `import contextlib`; the next --fix pass does the rest
        fix = wrap_in_with(ctx, func, stmt, stmt.body[0].targets[0].target.value, kind,
                           allow_module_fix=not memo["module_fix"])
        claimed = memo.setdefault("blocks", set())
        if fix is not None and id(fix.old) in claimed:
            fix = None  # another fix already rewrites this block; the next --fix pass does this one
        if fix is not None:
            claimed.add(id(fix.old))
            memo["issued"] += 1
            memo["module_fix"] = memo["module_fix"] or bool(fix.also)
    memo["by_call"][key] = fix
    return fix
