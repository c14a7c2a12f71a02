"""Objects that own resources (contract §14): facts about one class, read with :mod:`ast`.

A resource stored on ``self.x`` by a method is owned by the object.  What the per-function
dataflow (:mod:`txlint.dataflow`) needs to know of the class, computed once per class:

* ``owned``: attribute -> kind of the resource some method of the class stores there;
* ``release_methods``: the class's methods (its own or inherited from project bases) named like a
  release (``close``, ``__exit__``, ``dispose`` ...; the names are data in the resource table);
* ``released``: the owned attributes one of those releases, directly or through other methods;
* ``open_at_entry(method)``: the owned attributes that may still hold an open resource when the
  method starts (it is not a constructor, and the attribute is filled at construction or the method
  is called by another method of the class): storing a new resource there leaks the old one.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional

from txlint import kinds as K
from txlint import resources as R


@dataclass
class ClassOwnership:
    info: K.ClassInfo
    owned: dict[str, str] = field(default_factory=dict)            # attribute -> kind name
    stored_by: dict[str, set[str]] = field(default_factory=dict)    # attribute -> methods storing it
    release_methods: dict[str, tuple] = field(default_factory=dict)  # name -> (ClassInfo, Method)
    released: set[str] = field(default_factory=set)
    filled_at_construction: set[str] = field(default_factory=set)
    callers: dict[str, set[str]] = field(default_factory=dict)      # method -> methods calling self.method()
    #: method -> methods calling it where nothing about the object is tested first (a reconnect in
    #: an `except`), as opposed to `if not self._connected: self._connect()`
    unguarded_callers: dict[str, set[str]] = field(default_factory=dict)

    def open_at_entry(self, method: str) -> set[str]:
        """Owned attributes that ``method`` stores and that may be open when it starts."""
        if method in R.CONSTRUCTION_METHODS:
            return set()
        called_later = bool(self.unguarded_callers.get(method, set()) - R.CONSTRUCTION_METHODS - {method})
        out = set()
        for attr, methods in self.stored_by.items():
            if method in methods and (attr in self.filled_at_construction or called_later):
                out.add(attr)
        return out

    def is_release_method(self, method: str) -> bool:
        return method in self.release_methods and self.release_methods[method][0] is self.info


def _is_teardown(meth: K.Method) -> bool:
    """A release method that tears the object down: ``close(self)``, ``__exit__(self, *exc)``; not
    ``release(self, connection)``, which gives back one item of a pool."""
    if meth.node.name in R.EXPLICIT_EXITS:
        return True
    args = meth.node.args
    positional = args.posonlyargs + args.args
    required = len(positional) - len(args.defaults)
    return required <= 1 and not [k for k, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]


def _self_calls(body: list, me: str, guarded: bool = False):
    """(method name, guarded) of every ``self.method()`` call in ``body``: guarded when it sits under
    an ``if``/``while`` whose test looks at the object."""
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, (ast.If, ast.While)):
            inner = guarded or any(isinstance(n, ast.Name) and n.id == me for n in ast.walk(stmt.test))
            yield from _calls_in(stmt.test, me, guarded)
            yield from _self_calls(stmt.body, me, inner)
            yield from _self_calls(stmt.orelse, me, guarded)
            continue
        blocks = [getattr(stmt, f, None) for f in ("body", "orelse", "finalbody")]
        handlers = getattr(stmt, "handlers", None) or []
        if any(isinstance(b, list) for b in blocks) or handlers:
            for field_name in ("items", "iter", "target", "test", "subject"):
                value = getattr(stmt, field_name, None)
                for part in (value if isinstance(value, list) else [value]):
                    if part is not None:
                        yield from _calls_in(part, me, guarded)
            for b in blocks:
                if isinstance(b, list):
                    yield from _self_calls(b, me, guarded)
            for h in handlers:
                yield from _self_calls(h.body, me, guarded)
            for case in getattr(stmt, "cases", None) or []:
                yield from _self_calls(case.body, me, guarded)
            continue
        yield from _calls_in(stmt, me, guarded)


def _calls_in(node, me: str, guarded: bool):
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and \
                isinstance(n.func.value, ast.Name) and n.func.value.id == me:
            yield n.func.attr, guarded


def class_ownership(ctx, info: K.ClassInfo) -> ClassOwnership:
    store = getattr(ctx.project, "_txlint_ownership", None)
    if store is None:
        store = ctx.project._txlint_ownership = {}
    key = (id(ctx.table), info.ref, id(info.node))
    found = store.get(key)
    if found is None:
        found = store[key] = _compute(ctx, info)
    return found


def _compute(ctx, info: K.ClassInfo) -> ClassOwnership:
    from txlint.summaries import _new_kind, summary_of

    out = ClassOwnership(info)
    kr = info.kr
    for name, meth in info.methods.items():
        if meth.static_or_class:
            continue
        fn = meth.node
        env = K.function_env(kr, fn, info)
        me = env.self_name
        if me is None:
            continue
        local_new: dict[str, str] = {}
        for callee, guarded in _self_calls(fn.body, me):
            out.callers.setdefault(callee, set()).add(name)
            if not guarded:
                out.unguarded_callers.setdefault(callee, set()).add(name)
        for node in K.fn_nodes(fn):
            if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            kind = local_new.get(value.id) if isinstance(value, ast.Name) else _new_kind(ctx, kr, env, value)
            for t in targets:
                if isinstance(t, ast.Name) and kind:
                    local_new[t.id] = kind
                elif kind and isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == me:
                    out.owned.setdefault(t.attr, kind)
                    out.stored_by.setdefault(t.attr, set()).add(name)
    if not out.owned:
        return out
    for name in R.RELEASE_METHOD_NAMES:
        found = info.method(name)
        if found is not None and _is_teardown(found[1]):
            out.release_methods[name] = found
    for owner, meth in out.release_methods.values():
        summ = summary_of(ctx, K.Callee(owner.kr, meth.node, owner, "method"))
        if summ is not None:
            out.released |= summ.closes_self
    # filled when the object is built: by a constructor, or a method a constructor calls
    reached, todo = set(), [m for m in R.CONSTRUCTION_METHODS if m in info.methods]
    callees: dict[str, set[str]] = {}
    for callee, callers in out.callers.items():
        for caller in callers:
            callees.setdefault(caller, set()).add(callee)
    while todo:
        m = todo.pop()
        if m in reached:
            continue
        reached.add(m)
        todo.extend(callees.get(m, ()))
    for attr, methods in out.stored_by.items():
        if methods & reached:
            out.filled_at_construction.add(attr)
    return out


def ownership_for(ctx, class_name: Optional[str]) -> Optional[ClassOwnership]:
    """Ownership facts of a top-level class of the checked module."""
    if not class_name or class_name not in ctx.symbols.classes:
        return None
    info = K.class_info(ctx.resolver, ctx.symbols, class_name)
    return class_ownership(ctx, info) if info is not None else None
