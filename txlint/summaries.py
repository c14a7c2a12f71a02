"""One summary per project function, computed once (from its :mod:`ast`) and reused.

A summary says what calling the function does to resources: it returns a new resource of some
kind (a factory such as ``get_session()`` returning ``SessionLocal()``), closes or ends its
argument *n* (``cleanup(session)``), or keeps its argument *n* (stores it on ``self``, in a
container, returns or yields it).  Classes are summarised through their ``__init__``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from txlint import kinds as K
from txlint.astfields import SCOPE_TYPES

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
    #: attributes of ``self`` whose transaction / resource the method ends / closes (directly or
    #: through other methods of its class): ``def rollback(self): self.conn.rollback()``
    ends_self: frozenset[str] = frozenset()
    closes_self: frozenset[str] = frozenset()

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
    """Summary of the project function, method or class ``ref`` names (``None`` when not in the
    project)."""
    if not ref or ref.endswith("()"):
        return None
    kr = ctx.resolver
    callee = kr.callee(kr.canonical(ref))
    return summary_of(ctx, callee) if callee is not None else None


def project_call_is_new(ctx, func_ref: str | None) -> bool | None:
    """For a call of ``func_ref``: ``None`` when it is not a project function, method or class;
    else whether it hands its caller a new resource (its summary), as opposed to returning one
    that someone else owns (a module global, an attribute)."""
    if not func_ref:
        return None
    kr = ctx.resolver
    callee = kr.callee(kr.canonical(func_ref))
    if callee is None:
        return None
    summ = summary_of(ctx, callee) if callee.how != "class" else None
    return bool(summ is not None and summ.returns_kind)


def method_summary(ctx, class_name: str, method: str) -> Summary | None:
    """Summary of ``self.method(...)`` for a class of the checked module."""
    syms = ctx.symbols
    if class_name not in syms.classes:
        return None
    info = K.class_info(ctx.resolver, syms, class_name)
    found = info.method(method) if info is not None else None
    if found is None:
        return None
    owner, meth = found
    return summary_of(ctx, K.Callee(owner.kr, meth.node, owner, "method"))


def summary_of(ctx, callee: "K.Callee") -> Summary | None:
    store = _store(ctx.project)
    if callee.how == "class":
        found = callee.cls.method("__init__") if callee.cls is not None else None
        if found is None:
            return None
        owner, meth = found
        key = (id(ctx.table), "init", id(meth.node))
        node, cls, offset = meth.node, owner, 1
    else:
        node, cls = callee.node, callee.cls
        key = (id(ctx.table), id(node))
        offset = 1 if cls is not None and not _is_static(callee) else 0
    if key in store:
        return store[key]
    store[key] = None  # recursion guard
    result = _summarise(ctx, callee.kr, node, cls, offset)
    if callee.how == "class":
        result.returns_kind = None
        result.returns_tuple = ()
    store[key] = result
    return result


def _is_static(callee) -> bool:
    if callee.cls is None or callee.node is None:
        return False
    meth = callee.cls.methods.get(callee.node.name)
    return bool(meth is not None and meth.is_static)


def _new_kind(ctx, kr, env, value) -> str | None:
    """Kind name of the new resource an expression of ``env``'s function makes, if any."""
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    recv = env.ref(func.value) if isinstance(func, ast.Attribute) else None
    kind = K.new_resource_kind(kr, env.ref(func), recv, func.attr if isinstance(func, ast.Attribute) else None,
                               frozenset(k.arg for k in value.keywords if k.arg),
                               summaries=lambda c: getattr(summary_of(ctx, c), "returns_kind", None))
    return kind.name if kind is not None else None


def _unpacked_kind(ctx, kr, env, call, index: int) -> tuple:
    """(kind name, index of its parent element) of element ``index`` of the tuple a project call
    returns as new resources."""
    if isinstance(call, ast.Await):
        call = call.value
    func = env.ref(call.func) if isinstance(call, ast.Call) else None
    callee = kr.callee(kr.canonical(func)) if func else None
    summ = summary_of(ctx, callee) if callee is not None else None
    if summ is None or index >= len(summ.returns_tuple):
        return None, None
    return summ.returns_tuple[index]


def _summarise(ctx, kr, fn, cls, offset: int) -> Summary:
    syms = kr.symbols
    env = K.function_env(kr, fn, cls)
    params = tuple(a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs)
    index = {p: i for i, p in enumerate(params)}
    releasing = releasing_methods(ctx.table)
    tx_ending = {m for k in ctx.table.kinds.values() for m in k.tx_end}
    ends_tx: set[int] = set()
    closes: set[int] = set()
    keeps: set[int] = set()
    is_generator = False
    local_calls: dict[str, ast.AST] = {}
    unpacked: dict[str, tuple] = {}  # `conn, cur = helper()`: name -> (call, index)
    returned: list[ast.AST] = []

    def names_in(node):
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in index}

    def handed_out(node):
        """Parameters a returned or yielded value is (or contains, or wraps): not what a
        method of it returns (``return session.execute(q).all()`` keeps nothing)."""
        if isinstance(node, ast.Name):
            return {node.id} & index.keys()
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return set().union(*(handed_out(e) for e in node.elts)) if node.elts else set()
        if isinstance(node, ast.Dict):
            return set().union(*(handed_out(v) for v in node.values)) if node.values else set()
        if isinstance(node, ast.Starred):
            return handed_out(node.value)
        if isinstance(node, ast.IfExp):
            return handed_out(node.body) | handed_out(node.orelse)
        if isinstance(node, ast.BoolOp):
            return set().union(*(handed_out(v) for v in node.values))
        if isinstance(node, ast.Await):
            return handed_out(node.value)
        if isinstance(node, ast.Call):
            func = node.func
            last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if last[:1].isupper() or last in ("closing", "partial"):  # a wrapper holds what it is given
                return set().union(*(handed_out(a) for a in node.args), *(handed_out(k.value) for k in node.keywords)) \
                    if node.args or node.keywords else set()
        return set()

    for node in K.fn_nodes(fn):
        typ = type(node)  # (one lookup per node: this loop sees every node of every summarised function)
        if typ in SCOPE_TYPES:
            keeps.update(index[n] for n in names_in(node))  # captured by a closure
        elif typ is ast.Yield or typ is ast.YieldFrom:
            is_generator = True
            if node.value is not None:
                keeps.update(index[n] for n in handed_out(node.value))
        elif typ is ast.Return and node.value is not None:
            returned.append(node.value)
            keeps.update(index[n] for n in handed_out(node.value))
        elif typ is ast.Call:
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
            fref = env.ref(func)
            if fref and (fref in ctx.table.closers or fref.endswith("closing")):
                for arg in node.args:
                    if isinstance(arg, ast.Name) and arg.id in index:
                        closes.add(index[arg.id])
        elif typ is ast.Assign or typ is ast.AnnAssign or typ is ast.AugAssign:
            targets = node.targets if typ is ast.Assign else [node.target]
            value = node.value
            if value is None:
                continue
            for target in targets:
                if isinstance(target, (ast.Attribute, ast.Subscript)):
                    keeps.update(index[n] for n in names_in(value))
                elif isinstance(target, ast.Name) and isinstance(value, (ast.Call, ast.Await)):
                    local_calls.setdefault(target.id, value)
                elif isinstance(target, ast.Tuple) and isinstance(value, (ast.Call, ast.Await)):
                    for i, el in enumerate(target.elts):
                        if isinstance(el, ast.Name):
                            unpacked.setdefault(el.id, (value, i))
        elif typ is ast.With or typ is ast.AsyncWith:
            for item in node.items:
                expr = item.context_expr
                if isinstance(expr, ast.Name) and expr.id in index:
                    closes.add(index[expr.id])
                elif isinstance(expr, ast.Call) and expr.args and isinstance(expr.args[0], ast.Name) \
                        and expr.args[0].id in index:
                    fref = env.ref(expr.func) or ""
                    if fref.endswith("closing"):
                        closes.add(index[expr.args[0].id])
    returns_kind = None
    returns_tuple: tuple = ()
    if not is_generator and returned:
        def element(value):
            """(kind name, name of the local it was made from) of one returned element."""
            parent = None
            if isinstance(value, ast.Name) and value.id in unpacked:
                call, i = unpacked[value.id]
                kind, pidx = _unpacked_kind(ctx, kr, env, call, i)
                siblings = [n for n, (c, j) in unpacked.items() if c is call and j == pidx]
                return kind, (siblings[0] if siblings else None)
            if isinstance(value, ast.Name):
                value = local_calls.get(value.id, value)
            call = value.value if isinstance(value, ast.Await) else value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                root = call.func.value
                while isinstance(root, (ast.Attribute, ast.Call)):
                    root = root.value if isinstance(root, ast.Attribute) else root.func
                if isinstance(root, ast.Name) and root.id in local_calls:
                    parent = root.id
            return _new_kind(ctx, kr, env, value), parent

        for value in returned:
            if isinstance(value, ast.Tuple) and not returns_tuple:
                elems = [element(e) for e in value.elts]
                if any(k for k, _ in elems):
                    names = [e.id if isinstance(e, ast.Name) else None for e in value.elts]
                    returns_tuple = tuple((k, names.index(p) if p is not None and p in names else None)
                                          for k, p in elems)
        for value in returned:
            if isinstance(value, ast.Name):
                value = local_calls.get(value.id, value)
            kind = _new_kind(ctx, kr, env, value)
            if kind is not None:
                returns_kind = kind
                break
    ends_self: set[str] = set()
    closes_self: set[str] = set()
    if env.self_name is not None and cls is not None:
        _self_effects(ctx, fn, env.self_name, cls, releasing, tx_ending, ends_self, closes_self)
    return Summary(returns_kind, frozenset(closes), frozenset(keeps), frozenset(ends_tx), returns_tuple,
                   params, offset, ends_self=frozenset(ends_self), closes_self=frozenset(closes_self))


def _self_effects(ctx, fn, self_name: str, cls, releasing, tx_ending, ends_self: set, closes_self: set) -> None:
    """What a method ends or closes on attributes of ``self``, through other methods too, and
    through locals that took the attribute (``conn, self._conn = self._conn, None``)."""
    aliases: dict[str, str] = {}

    def self_attr(node):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == self_name:
            return node.attr
        if isinstance(node, ast.Name):
            return aliases.get(node.id)
        return None

    for node in K.fn_nodes(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            pairs = [(target, value)]
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
                pairs = list(zip(target.elts, value.elts))
            for t, v in pairs:
                if isinstance(t, ast.Name):
                    attr = self_attr(v)
                    if attr is not None:
                        aliases[t.id] = attr
                    else:
                        aliases.pop(t.id, None)
            continue
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        recv, m = node.func.value, node.func.attr
        attr = self_attr(recv)
        if attr is not None:
            if m in tx_ending:
                ends_self.add(attr)
            if m in releasing or m in ("__exit__", "__aexit__"):
                closes_self.add(attr)
        elif (isinstance(recv, ast.Name) and recv.id == self_name) or \
                (isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "super"):
            if isinstance(recv, ast.Call):  # super().close(): the method of a base class
                found = next((b.method(m) for b in cls.bases if b.method(m) is not None), None)
            else:
                found = cls.method(m)
            if found is not None and not found[1].static_or_class:
                summ = summary_of(ctx, K.Callee(found[0].kr, found[1].node, found[0], "method"))
                if summ is not None:
                    ends_self.update(summ.ends_self)
                    closes_self.update(summ.closes_self)
        # a release of an attribute by another object: pool.putconn(self.conn), pool.release(self._conn)
        if m in releasing:
            for arg in node.args:
                attr = self_attr(arg)
                if attr is not None:
                    closes_self.add(attr)
