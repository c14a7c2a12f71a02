"""One summary per project function, computed once (from its :mod:`ast`) and reused.

A summary says what calling the function does to resources: it returns a new resource of some
kind (a factory such as ``get_session()`` returning ``SessionLocal()``), closes or ends its
argument *n* (``cleanup(session)``), or keeps its argument *n* (stores it on ``self``, in a
container, returns or yields it).  Classes are summarised through their ``__init__``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from txlint.names import Resolver, _ast_dotted

#: method names that release something, across every kind of the table (filled lazily)
_RELEASING_CACHE: dict[int, frozenset[str]] = {}


@dataclass
class Summary:
    returns_kind: str | None = None
    closes: frozenset[int] = frozenset()
    keeps: frozenset[int] = frozenset()
    ends_tx: frozenset[int] = frozenset()
    #: ``return conn, conn.cursor()``: kind of each element (None: not a resource); the
    #: second item of each pair is the index of the element it came from (its parent)
    returns_tuple: tuple = ()
    params: tuple[str, ...] = ()
    offset: int = 0  # 1 for classes (self)
    extra: dict = field(default_factory=dict)

    def arg_index(self, position: int | None, keyword: str | None) -> int | None:
        if keyword is not None:
            try:
                return self.params.index(keyword)
            except ValueError:
                return None
        if position is None:
            return None
        return position + self.offset


def releasing_methods(table) -> frozenset[str]:
    key = id(table)
    if key not in _RELEASING_CACHE:
        names: set[str] = set()
        for kind in table.kinds.values():
            names |= set(kind.closers) | set(kind.release_args)
        _RELEASING_CACHE[key] = frozenset(names)
    return _RELEASING_CACHE[key]


def _store(project) -> dict:
    store = getattr(project, "_txlint_summaries", None)
    if store is None:
        store = {}
        try:
            project._txlint_summaries = store
        except AttributeError:  # pragma: no cover
            pass
    return store


def summary_for(ctx, ref: str | None) -> Summary | None:
    """Summary of the project function or class ``ref`` names (``None`` when not in the project)."""
    if not ref or "()" in ref:
        return None
    store = _store(ctx.project)
    key = (id(ctx.table), ref)
    if key in store:
        return store[key]
    store[key] = None  # recursion guard
    found = ctx.resolver.project_module_of(ref)
    result = None
    if found is not None:
        syms, name = found
        fn = syms.functions.get(name)
        if fn is not None and f"{syms.module}.{name}" == ref or (fn is not None and not syms.module):
            result = _summarise(ctx, syms, fn, 0)
        elif name in syms.classes:
            init = next((s for s in syms.classes[name].body
                         if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "__init__"), None)
            if init is not None:
                result = _summarise(ctx, syms, init, 1)
                result.returns_kind = None
    store[key] = result
    return result


def method_summary(ctx, class_name: str, method: str) -> Summary | None:
    """Summary of ``self.method(...)`` for a top-level class of the checked module."""
    store = _store(ctx.project)
    key = (id(ctx.table), "method", ctx.symbols.module, class_name, method)
    if key in store:
        return store[key]
    store[key] = None
    cls = ctx.symbols.classes.get(class_name)
    result = None
    if cls is not None:
        fn = next((s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                   and s.name == method), None)
        if fn is not None:
            result = _summarise(ctx, ctx.symbols, fn, 1)
    store[key] = result
    return result


def _summarise(ctx, syms, fn, offset: int) -> Summary:
    params = tuple(a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs)
    index = {p: i for i, p in enumerate(params)}
    releasing = releasing_methods(ctx.table)
    tx_ending = {m for k in ctx.table.kinds.values() for m in k.tx_end}
    ends_tx: set[int] = set()
    closes: set[int] = set()
    keeps: set[int] = set()
    is_generator = False
    local_calls: dict[str, ast.AST] = {}
    returned: list[ast.AST] = []

    def names_in(node):
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in index}

    for node in ast.walk(fn):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            is_generator = True
            if node.value is not None:
                keeps.update(index[n] for n in names_in(node.value))
        elif isinstance(node, ast.Return) and node.value is not None:
            returned.append(node.value)
            keeps.update(index[n] for n in names_in(node.value))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                if isinstance(func.value, ast.Name) and func.value.id in index and func.attr in releasing:
                    closes.add(index[func.value.id])
                if isinstance(func.value, ast.Name) and func.value.id in index and func.attr in tx_ending:
                    ends_tx.add(index[func.value.id])
                if func.attr in ("append", "add", "insert", "put", "put_nowait", "setdefault", "register",
                                 "enter_context", "enter_async_context", "callback", "push"):
                    for arg in node.args:
                        keeps.update(index[n] for n in names_in(arg))
                # a release method of another object taking the argument (pool.putconn(conn))
                if func.attr in releasing:
                    for arg in node.args:
                        if isinstance(arg, ast.Name) and arg.id in index:
                            closes.add(index[arg.id])
            fref = _ast_dotted(func, syms.bindings)
            if fref and (fref in ctx.table.closers or fref.endswith("closing")):
                for arg in node.args:
                    if isinstance(arg, ast.Name) and arg.id in index:
                        closes.add(index[arg.id])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            if value is None:
                continue
            for target in targets:
                if isinstance(target, (ast.Attribute, ast.Subscript)):
                    keeps.update(index[n] for n in names_in(value))
                elif isinstance(target, ast.Name) and isinstance(value, ast.Call):
                    local_calls[target.id] = value
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr = item.context_expr
                if isinstance(expr, ast.Name) and expr.id in index:
                    closes.add(index[expr.id])
                elif isinstance(expr, ast.Call) and expr.args and isinstance(expr.args[0], ast.Name) \
                        and expr.args[0].id in index:
                    fref = _ast_dotted(expr.func, syms.bindings) or ""
                    if fref.endswith("closing"):
                        closes.add(index[expr.args[0].id])
    returns_kind = None
    returns_tuple: tuple = ()
    if not is_generator and returned:
        resolver = Resolver(syms, ctx.project)

        def kind_of(value):
            if isinstance(value, ast.Await):
                value = value.value
            if isinstance(value, ast.Name) and value.id in local_calls:
                value = local_calls[value.id]
            if not isinstance(value, ast.Call):
                return None, None
            ref = _ast_dotted(value, syms.bindings)
            parent = None
            if ref and ref.startswith("<local>."):
                head = ref[len("<local>."):].split(".")[0].split("(")[0]
                if head in local_calls:
                    parent = head
                    base = _ast_dotted(local_calls[head], syms.bindings)
                    if not base or base.startswith("<local>"):
                        return None, None
                    ref = base + ref[len("<local>.") + len(head):]
                else:
                    return None, None
            if not ref:
                return None, None
            kind = ctx.table.kind_of_ref(resolver.canonical(ref))
            if kind is not None and kind.resource and not kind.lazy:
                return kind.name, parent
            return None, None

        for value in returned:
            if isinstance(value, ast.Tuple) and not returns_tuple:
                elems = [kind_of(e) for e in value.elts]
                if any(k for k, _ in elems):
                    names = [e.id if isinstance(e, ast.Name) else None for e in value.elts]
                    returns_tuple = tuple(
                        (k, names.index(p) if p in names else None) for k, p in elems)
        for value in returned:
            if isinstance(value, ast.Name) and value.id in local_calls:
                value = local_calls[value.id]
            if isinstance(value, ast.Await):
                value = value.value
            if not isinstance(value, ast.Call):
                continue
            ref = _ast_dotted(value, syms.bindings)
            if not ref or ref.startswith("<local>"):
                continue
            kind = ctx.table.kind_of_ref(resolver.canonical(ref))
            if kind is None:
                nested = summary_for(ctx, resolver.canonical(ref[:-2])) if ref.endswith("()") else None
                if nested is not None and nested.returns_kind:
                    kind = ctx.table.kind(nested.returns_kind)
            if kind is not None and kind.resource and not kind.lazy:
                returns_kind = kind.name
                break
    return Summary(returns_kind, frozenset(closes), frozenset(keeps), frozenset(ends_tx), returns_tuple,
                   params, offset)
