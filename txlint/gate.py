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
from txlint.astfields import children


#: False runs every rule on every file and the dataflow on every function (bench/ and tests
#: compare the two to show that the gate loses nothing)
ENABLED = True


class FileGate:
    """Facts of one file computed lazily from its ast, for the rules' gates."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._functions: Optional[list] = None
        self._path: Optional[set[int]] = None
        self._import_calls: Optional[list[ast.Call]] = None

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

    def import_time_calls(self) -> list[ast.Call]:
        """:func:`_import_time_calls` of the file, computed once for every gate that asks."""
        if self._import_calls is None:
            self._import_calls = _import_time_calls(self.ctx.ast) if self.ctx.ast is not None else []
        return self._import_calls

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
    names = _table_names(table)
    sql_names = _sql_names(table)
    for node in K.fn_nodes(fn):
        if type(node) is not ast.Call:
            continue
        func = node.func
        typ = type(func)
        method = func.attr if typ is ast.Attribute else None
        fref = env.ref(func)
        if fref is None:
            continue
        last = _last_name(fref)
        if last in sql_names and not _begins(env, node):
            continue  # execute() of anything but BEGIN/COMMIT text
        if last not in names and table.kind_of_ref(fref + "()") is None and not _may_hand_out(ctx, kr, fref):
            continue  # neither a name the table knows nor a project function that could acquire
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
            if callee is not None and callee.how != "class" and K.return_shape(callee.node) & K.RETURNS_TUPLE:
                summ = summary_of(ctx, callee)
                if summ is not None and summ.returns_tuple:
                    return True
    return False


_NAMES: dict[object, frozenset[str]] = {}  # per table (and category): name sets


def _table_names(table: R.ResourceTable) -> frozenset[str]:
    """Every name under which the table knows a call that makes something or begins a transaction
    (a call that only ends or releases cannot start an obligation)."""
    key = id(table)
    found = _NAMES.get(key)
    if found is None:
        names: set[str] = set()
        for group in (table.factories, table.types, table.objects, table.functions):
            names.update(q.rsplit(".", 1)[-1] for q in group)
        for kind in table.kinds.values():
            names.update(kind.methods, kind.cm_methods, kind.tx_begin, kind.sql_methods)
        found = _NAMES[key] = frozenset(names)
    return found


def _sql_names(table: R.ResourceTable) -> frozenset[str]:
    """Methods that begin a transaction only when handed BEGIN text (``execute``)."""
    key = -id(table)
    found = _NAMES.get(key)
    if found is None:
        sql = set().union(*(k.sql_methods for k in table.kinds.values()))
        other = set().union(*(set(k.methods) | set(k.cm_methods) | set(k.tx_begin) for k in table.kinds.values()))
        found = _NAMES[key] = frozenset(sql - other)
    return found


def _may_hand_out(ctx, kr: K.KindResolver, ref: str) -> bool:
    """Whether ``ref`` could name a project function that hands back a resource: a function of a
    project module (``mod.f``), a static or class method (``mod.C.f``), or a method of an instance
    of a project class (``mod.C().f``, ``self.f``), in a module whose source mentions databases at
    all (the byte scan every analysed file passes first).  A call of anything else (an operator
    method of a column, a method of a call's result) is not followed, and no module is read for it."""
    from txlint.analysis import may_hold_finding

    project = ctx.project
    tokens = K.split_ref(ref)
    head = 0
    while head < len(tokens) and tokens[head] not in ("()", "[]"):
        head += 1
    for i in range(head - 1, 0, -1):
        module = ".".join(tokens[:i])
        here = module == kr.symbols.module
        path = None if here else project.module_file(module)
        if not here and path is None:
            continue
        rest = tokens[i:]
        if not (len(rest) == 1 or (len(rest) == 2 and rest[1] not in ("()", "[]"))
                or (len(rest) == 3 and rest[1] == "()" and rest[2] not in ("()", "[]"))):
            return False
        return here or project.mentions(path, may_hold_finding)
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
            kids = children(node)
        kids.reverse()
        stack.extend(kids)
    return out


def _all_calls(gate: FileGate) -> list[tuple[ast.Call, Optional[K.FunctionEnv]]]:
    """Every call of the file with the environment of the function it is in (None at import time)."""
    found = getattr(gate, "_calls", None)
    if found is None:
        found = [(c, None) for c in gate.import_time_calls()]
        for fn, _cls, env in gate.functions():
            found.extend((n, env) for n in K.fn_nodes(fn) if type(n) is ast.Call)
        gate._calls = found
    return found


def _factory_names(table: R.ResourceTable, category: str) -> frozenset[str]:
    """Last names of the table's factories of one category (``create_engine``, ``Redis``)."""
    key = (id(table), category)
    found = _NAMES.get(key)
    if found is None:
        found = _NAMES[key] = frozenset(q.rsplit(".", 1)[-1] for q, k in table.factories.items()
                                        if table.kind(k) is not None and table.kind(k).category == category)
    return found


def _last_name(ref: str) -> str:
    """The last name of a ref (``sqlalchemy.create_engine`` for ``ce`` imported as it): what the
    name filters look at, before anything is resolved."""
    ref = ref.rstrip("()[]") if ref.endswith(("()", "[]")) else ref
    return ref.rsplit(".", 1)[-1].split("(")[-1]


def _makes(gate: FileGate, category: str) -> bool:
    """Whether some call of the file is a table factory of ``category``."""
    table, kr = gate.ctx.table, gate.ctx.resolver
    names = _factory_names(table, category)
    for call, env in _all_calls(gate):
        func = call.func
        if type(func) is ast.Attribute and func.attr not in names:
            continue  # the last name of ``x.attr`` is ``attr`` whatever ``x`` is
        ref = env.ref(func) if env is not None else K.ast_ref(func, kr.raw_lookup)
        if not ref or ref.startswith("<local>") or _last_name(ref) not in names:
            continue
        kind = table.kind(table.factories.get(kr.canonical(ref)))
        if kind is not None and kind.category == category:
            return True
    return False


def engine_gate(gate: FileGate) -> bool:
    """TXL402: an engine factory is called somewhere in the file."""
    return _makes(gate, R.ENGINE)


def redis_gate(gate: FileGate) -> bool:
    """TXL404: a Redis client or pool is made somewhere in the file."""
    return _makes(gate, R.REDIS)


def import_time_gate(gate: FileGate) -> bool:
    """TXL401: something of a known kind is made or used at import time."""
    ctx = gate.ctx
    if ctx.ast is None:
        return False
    kr = ctx.resolver
    names = _table_names(ctx.table)
    for call in gate.import_time_calls():
        ref = K.ast_ref(call, kr.raw_lookup)
        if ref is None or ref.startswith("<local>"):
            continue
        if _last_name(ref[:-2]) not in names and ctx.table.kind_of_ref(ref) is None \
                and not _may_hand_out(ctx, kr, ref[:-2]):
            continue
        if kr.kind_of(ref) is not None:
            return True
        func = call.func
        if isinstance(func, ast.Attribute):
            recv = K.ast_ref(func.value, kr.raw_lookup)
            if recv and not recv.startswith("<local>") and kr.kind_of(recv) is not None:
                return True
    return False


def task_gate(gate: FileGate) -> bool:
    """TXL301: the file defines Celery tasks (the worker index, read on the ast)."""
    ctx = gate.ctx
    if "ask" not in ctx.text and not ctx.options.task_decorators:
        return False
    if ctx.ast is None or not _may_define_tasks(gate):
        return False
    from txlint import index as X

    return bool(X.index_for(ctx).tasks)


def _may_define_tasks(gate: FileGate) -> bool:
    """A decorator named like a task decorator, or a class with a ``run`` method (a class-based
    task): only then is the worker index built."""
    ctx = gate.ctx
    names = {"task", "shared_task", "periodic_task"}
    names.update(d.rsplit(".", 1)[-1] for d in ctx.table.task_decorators)
    names.update(d.rsplit(".", 1)[-1] for d in (ctx.options.task_decorators or ()))
    for fn, cls, _env in gate.functions():
        if cls is not None and fn.name == "run" and cls.bases:
            return True
        for dec in fn.decorator_list:
            target = dec.func if isinstance(dec, ast.Call) else dec
            last = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
            if last in names:
                return True
    return False
