"""The cheap question asked before libcst: could this file, this function, hold a finding?

Everything here reads the CPython :mod:`ast` tree the validity check already built, and the kinds
of :mod:`txlint.kinds`; nothing parses with libcst.  A rule declares a gate (``Rule.gate``): a
function of the file's :class:`FileGate` that says whether the rule could report anything in the
file.  When no enabled rule's gate opens, the file is never handed to libcst; when the path rules'
gate opens, only the functions it names get a control-flow analysis.
"""

from __future__ import annotations

import ast
from typing import Optional

from txlint import kinds as K
from txlint import resources as R


class FileGate:
    """Facts of one file computed lazily from its ast, for the rules' gates."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._functions: Optional[list] = None
        self._path: Optional[set[int]] = None

    # ---- functions ---------------------------------------------------------------------
    def functions(self) -> list:
        """(ast function, ast class or None, FunctionEnv) of every function, in the order
        :func:`txlint.dataflow.functions_of` walks the libcst tree."""
        if self._functions is None:
            ctx = self.ctx
            out = []
            if ctx.ast is not None:
                kr = ctx.resolver
                classes: dict[int, Optional[K.ClassInfo]] = {}
                for fn, cls in K.ast_functions(ctx.ast):
                    info = None
                    if cls is not None:
                        info = classes.get(id(cls))
                        if info is None:
                            info = classes[id(cls)] = K.class_of(kr, cls)
                    out.append((fn, cls, K.function_env(kr, fn, info)))
            self._functions = out
        return self._functions

    def path_candidates(self) -> set[int]:
        """``id`` of every ast function the path rules (TXL101/102/201/202) must analyse: those
        that acquire or begin something, and the methods of classes that own what they acquire
        (release methods, re-connects)."""
        if self._path is None:
            ctx = self.ctx
            out: set[int] = set()
            owners: dict[int, ast.ClassDef] = {}
            for fn, cls, env in self.functions():
                if function_acquires(ctx, env, fn):
                    out.add(id(fn))
                    if cls is not None and env.self_name is not None:
                        owners[id(cls)] = cls
            if owners:
                from txlint.ownership import class_ownership

                for fn, cls, env in self.functions():
                    if cls is None or id(cls) not in owners or id(fn) in out or env.cls is None:
                        continue
                    own = class_ownership(ctx, env.cls)
                    if own.owned and (own.is_release_method(fn.name) or own.open_at_entry(fn.name)):
                        out.add(id(fn))
            self._path = out
        return self._path


def gate_for(ctx) -> FileGate:
    return ctx.fact("txlint.gate", FileGate)


def function_acquires(ctx, env: K.FunctionEnv, fn) -> bool:
    """Whether some call of ``fn`` acquires a resource, begins a transaction, or is a project
    helper that hands back resources (a tuple of them)."""
    from txlint.summaries import summary_of

    kr = env.kr
    table = kr.table
    callee_new = _callee_new(ctx)
    for node in K.fn_nodes(fn):
        if type(node) is not ast.Call:
            continue
        func = node.func
        method = func.attr if type(func) is ast.Attribute else None
        fref = env.ref(func)
        if fref is None:
            continue
        recv = env.ref(func.value) if method is not None else None
        if K.new_resource_kind(kr, fref, recv, method, frozenset(k.arg for k in node.keywords if k.arg),
                               summaries=callee_new) is not None:
            return True
        canon = kr.canonical(fref)
        if canon in table.functions:
            return True
        factory = table.kind(table.factories.get(canon))
        if factory is not None and factory.category == R.SCOPED_REGISTRY:
            return True  # a registry made in the function is its resource (contract §15)
        if method is not None and recv is not None:
            rk = kr.kind_of(recv)
            if rk is not None and (method in rk.tx_begin or method in rk.cm_methods or
                                   (method in rk.sql_methods and _begins(env, node))):
                return True
        else:
            callee = kr.callee(canon)
            if callee is not None and callee.how != "class":
                summ = summary_of(ctx, callee)
                if summ is not None and summ.returns_tuple:
                    return True
    return False


def _begins(env: K.FunctionEnv, call: ast.Call) -> bool:
    """``execute("BEGIN")``, also through a local bound only to string literals."""
    if not call.args:
        return False
    arg = call.args[0]
    texts: list = []
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        texts = [arg.value]
    elif isinstance(arg, ast.Name):
        texts = env.strings.get(arg.id, [])
    return any(R.SQL_BEGIN.match(t) or R.SQL_END.match(t) for t in texts)


def _callee_new(ctx):
    from txlint.summaries import summary_of

    def new(callee) -> Optional[str]:
        summ = summary_of(ctx, callee)
        return summ.returns_kind if summ is not None else None

    return new


#: which rules have no gate yet: their files are always parsed
ALWAYS = None


def path_rules_gate(gate: FileGate) -> bool:
    return bool(gate.path_candidates())
