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


#: False runs every rule on every file and the dataflow on every function (bench/ and tests
#: compare the two to show that the gate loses nothing)
ENABLED = True


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


def path_rules_gate(gate: FileGate) -> bool:
    """TXL101/102/201/202: some function acquires or begins something."""
    return bool(gate.path_candidates())


# ---------------------------------------------------------------------------- other rules' gates
def _import_time_calls(tree: ast.Module) -> list[ast.Call]:
    """Calls that run when the module is imported: module level (into if/try/with/loops, not into
    ``if __name__ == "__main__":``), class bodies, decorators, default values (of lambdas too)."""
    from txlint.names import _is_main_guard

    out: list[ast.Call] = []
    stack: list[ast.AST] = list(reversed(tree.body))
    node_type = ast.AST
    while stack:
        node = stack.pop()
        typ = type(node)
        if typ is ast.Call:
            out.append(node)
        if typ is ast.FunctionDef or typ is ast.AsyncFunctionDef or typ is ast.Lambda:
            args = node.args
            kids = list(getattr(node, "decorator_list", ())) + list(args.defaults) + [d for d in args.kw_defaults if d]
        elif typ is ast.If and _is_main_guard(node.test):
            kids = list(node.orelse)
        else:
            kids = []
            for name in typ._fields:
                value = getattr(node, name, None)
                if type(value) is list:
                    kids.extend(v for v in value if isinstance(v, node_type))
                elif isinstance(value, node_type):
                    kids.append(value)
        kids.reverse()
        stack.extend(kids)
    return out


def _all_calls(gate: FileGate) -> list[tuple[ast.Call, Optional[K.FunctionEnv]]]:
    """Every call of the file with the environment of the function it is in (None at import time)."""
    found = getattr(gate, "_calls", None)
    if found is None:
        ctx = gate.ctx
        found = [(c, None) for c in _import_time_calls(ctx.ast)] if ctx.ast is not None else []
        for fn, _cls, env in gate.functions():
            found.extend((n, env) for n in K.fn_nodes(fn) if type(n) is ast.Call)
        gate._calls = found
    return found


def _func_ref(gate: FileGate, call: ast.Call, env: Optional[K.FunctionEnv]) -> Optional[str]:
    kr = gate.ctx.resolver
    ref = env.ref(call.func) if env is not None else K.ast_ref(call.func, kr.lookup)
    if ref is None or ref.startswith("<local>"):
        return None
    return kr.canonical(ref)


def _factory_category(gate: FileGate, call, env) -> Optional[str]:
    table = gate.ctx.table
    ref = _func_ref(gate, call, env)
    kind = table.kind(table.factories.get(ref)) if ref else None
    return kind.category if kind is not None else None


def engine_gate(gate: FileGate) -> bool:
    """TXL402: an engine factory is called somewhere in the file."""
    return any(_factory_category(gate, c, e) == R.ENGINE for c, e in _all_calls(gate))


def redis_gate(gate: FileGate) -> bool:
    """TXL404: a Redis client or pool is made somewhere in the file."""
    return any(_factory_category(gate, c, e) == R.REDIS for c, e in _all_calls(gate))


def import_time_gate(gate: FileGate) -> bool:
    """TXL401: something of a known kind is made or used at import time."""
    ctx = gate.ctx
    if ctx.ast is None:
        return False
    kr = ctx.resolver
    for call in _import_time_calls(ctx.ast):
        ref = K.ast_ref(call, kr.lookup)
        if ref is None or ref.startswith("<local>"):
            continue
        if kr.kind_of(ref) is not None:
            return True
        func = call.func
        if isinstance(func, ast.Attribute):
            recv = K.ast_ref(func.value, kr.lookup)
            if recv and not recv.startswith("<local>") and kr.kind_of(recv) is not None:
                return True
    return False


def wait_loop_gate(gate: FileGate) -> bool:
    """TXL403 (and TXL404's wait loops): some function has a loop that can wait forever."""
    for fn, _cls, _env in gate.functions():
        for node in K.fn_nodes(fn):
            typ = type(node)
            if typ is ast.While or typ is ast.AsyncFor:
                return True
            if typ is ast.For and isinstance(node.iter, ast.Call):
                return True
    return False


def task_gate(gate: FileGate) -> bool:
    """TXL301: the file defines Celery tasks (the worker index, read on the ast)."""
    ctx = gate.ctx
    if "ask" not in ctx.text and not ctx.options.task_decorators:
        return False
    from txlint import index as X

    return bool(X.index_for(ctx).tasks)
