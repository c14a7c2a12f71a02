"""Forward dataflow over the control flow of :mod:`txlint.cfg`: which acquired resources and
explicit transactions may still be open, and through which names they are reachable.

The state is small: ``vars`` maps a local name (or a dotted key such as ``db.session``) to the
set of tracked objects it may hold, and ``open`` maps each tracked object that may still be open
to one path (trace) that got it there.  Joins are unions, so the analysis is a may-analysis that
reaches a fixed point on loops; traces are not part of the state's identity.

Everything about libraries comes from ``ctx.table`` (:mod:`txlint.resources`) and from
:mod:`txlint.summaries` for functions of the analysed project.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Iterator, Optional

from txlint.lazylib import libcst as cst

from txlint import resources as R
from txlint.cfg import GiveUp, Out, Walker
from txlint.names import dotted_name as dotted_key
from txlint.kinds import ast_functions, class_of, function_env, new_resource_kind
from txlint.summaries import method_summary, summary_for, summary_of

MAX_TRACE = 10
CONTAINER_METHODS = frozenset({"append", "add", "insert", "put", "put_nowait", "setdefault", "appendleft",
                               "extend", "register", "enter_context", "enter_async_context", "callback",
                               "push", "push_async_callback", "set"})
#: calls that release their argument (pool.release(conn), pool.putconn(conn))
RELEASING_CALLS = frozenset({"release", "putconn", "close", "dispose"})
QUIET_METHODS = frozenset({"rollback", "close", "putconn", "release", "remove", "terminate", "in_transaction",
                           "in_nested_transaction", "is_active"})
TRACKED_CATEGORIES = frozenset({R.SESSION, R.CONNECTION, R.CURSOR})


@dataclass
class Rec:
    """A tracked object: one acquisition (or begin) site."""

    rid: int
    node: cst.CSTNode          # the acquiring / begin call
    kind: R.Kind
    cat: str                   # "res" or "tx"
    closer: str                # for messages: "close()", "commit() or rollback()"
    parent: Optional[int] = None
    owner: Optional[int] = None
    end_methods: frozenset = frozenset()
    registry: Optional[str] = None
    via: Optional[str] = None      # the name the transaction was begun through (`self.conn`)
    pseudo: Optional[str] = None   # stands for what attribute `self.<pseudo>` holds when the method starts


@dataclass
class Finding:
    code: str
    node: cst.CSTNode
    rec: Rec
    trace: tuple
    normal: bool


class St:
    """``vars``: name -> tracked objects it may hold; ``open``: tracked object -> one path that
    left it open; ``facts``: conditions known on this path (``(("none", "cursor"), True)`` after
    ``if cursor is None:``); ``guards``: for an open object, the facts under which it was
    acquired, so that a later test of the same condition can tell it was never opened there
    (contract §1: two branches on the same unchanged condition go the same way)."""

    __slots__ = ("vars", "open", "facts", "guards", "held")

    def __init__(self, vars=None, open=None, facts=frozenset(), guards=None, held=None):
        self.vars: dict[str, frozenset] = vars if vars is not None else {}
        self.open: dict[int, tuple] = open if open is not None else {}
        self.facts: frozenset = facts
        self.guards: dict[int, frozenset] = guards if guards is not None else {}
        #: objects stored on ``self`` that may still be open: the object owns them (contract §14)
        self.held: dict[int, tuple] = held if held is not None else {}

    def copy(self) -> "St":
        return St(dict(self.vars), dict(self.open), self.facts, dict(self.guards) if self.guards else {},
                  dict(self.held) if self.held else {})




def base_name(node: cst.CSTNode) -> Optional[str]:
    while True:
        if isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Await):
            node = node.expression
        elif isinstance(node, cst.Name):
            return node.value
        else:
            return None


_SKIP_FIELD = ("whitespace", "lpar", "rpar", "comma", "semicolon", "newline", "header", "footer",
               "leading_lines", "lines_after_decorators", "colon", "dot", "equal", "star", "operator",
               "indent", "lbrace", "rbrace", "lbracket", "rbracket", "arrow", "asynchronous", "prefix",
               "quote", "empty_lines")
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f for f in getattr(cls, "__dataclass_fields__", ())
                      if not any(skip in f for skip in _SKIP_FIELD) or f in ("operator",))
        names = tuple(n for n in names if n not in ("operator", "__slots__"))
        _FIELDS[cls] = names
    return names


_IS_NODE: dict[type, bool] = {}


def _is_node(value) -> bool:
    typ = type(value)
    known = _IS_NODE.get(typ)
    if known is None:
        known = _IS_NODE[typ] = isinstance(value, cst.CSTNode)
    return known


def fast_children(node: cst.CSTNode) -> list:
    """The child nodes that matter for the analysis (no whitespace/punctuation), in source order."""
    out = []
    for name in _fields(type(node)):
        value = getattr(node, name, None)
        if value is None:
            continue
        typ = type(value)
        if typ is tuple or typ is list:
            out.extend(v for v in value if _is_node(v))
        elif _is_node(value):
            out.append(value)
    return out


def iter_nodes(root: cst.CSTNode, *, into_defs: bool = False) -> Iterator[cst.CSTNode]:
    """Every node under ``root`` (pre-order), not entering nested defs/classes/lambdas."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if node is not root and not into_defs and isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(reversed(fast_children(node)))


def string_value(node: cst.CSTNode) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        try:
            val = node.evaluated_value
        except Exception:  # pragma: no cover
            return None
        return val if isinstance(val, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return None if left is None or right is None else left + right
    return None


def call_name(call: cst.Call) -> str:
    f = call.func
    if isinstance(f, cst.Attribute):
        return f.attr.value
    if isinstance(f, cst.Name):
        return f.value
    return "call"


class FunctionFlow(Walker):
    """Runs the analysis on one function and collects findings."""

    def __init__(self, ctx, fn: cst.FunctionDef, attr_kinds: Optional[dict] = None,
                 class_name: Optional[str] = None, env=None):
        super().__init__()
        self.attr_kinds = attr_kinds or {}
        self.class_name = class_name
        self.ctx = ctx
        self.table = ctx.table
        self.fn = fn
        self.env = env
        self.recs: list[Rec] = []
        self.site_rid: dict[tuple, int] = {}
        self.site_index: dict[int, list] = {}
        self.local_kinds: dict[str, R.Kind] = {}
        self.local_refs: dict[str, str] = {}
        self.local_strings: dict[str, list] = env.strings if env is not None else {}
        self.locals: set[str] = set()
        self.normal_leaks: dict[int, tuple] = {}
        self.escaped: set[int] = set()
        self.tuple_values: dict[int, list] = {}
        self.flag_alias: dict[str, tuple] = {}
        #: id of a `scoped_session(...)` call made here whose registry is used directly (never
        #: called for a member session) -> its kind name
        self.registries: dict[int, str] = {}
        self.interesting = False
        # objects that own resources (contract §14)
        self.method = fn.name.value if class_name else None
        self.ownership = None
        if class_name and (env is None or env.self_name == "self"):
            from txlint.ownership import ownership_for

            self.ownership = ownership_for(ctx, class_name)
        own = self.ownership
        self.release_mode = bool(own and own.owned and own.is_release_method(self.method))
        self.seeds: set[str] = set()
        if own is not None and own.owned:
            self.seeds = set(own.owned) if self.release_mode else own.open_at_entry(self.method)
        self.enter_method = self.method in R.ENTER_METHODS
        self.stores: list[tuple] = []       # (attribute, rid, statement) of what is stored on self
        self.shadows: dict[int, int] = {}
        self.enter_kept: set[int] = set()   # stored on self by __enter__: still ours if it raises
        self.exit_skips: dict[str, tuple] = {}  # release method: attribute skipped when an earlier release raises
        self.lends = self._is_context_manager()
        #: names the function declares global or nonlocal: storing there hands over (§10)
        self.global_names: set[str] = set(env.globals) if env is not None else {
            n.value for stmt in iter_nodes(fn.body) if isinstance(stmt, (cst.Global, cst.Nonlocal))
            for n in (x.name for x in stmt.names) if isinstance(n, cst.Name)}
        self._prepass()
        if self.seeds or self.release_mode:
            self.interesting = True

    # ---- kinds ------------------------------------------------------------------------
    def kind_of(self, e: cst.CSTNode) -> Optional[R.Kind]:
        if isinstance(e, cst.Await):
            e = e.expression
        if isinstance(e, cst.Name):
            if e.value in self.local_kinds:
                return self.local_kinds[e.value]
            if e.value in self.locals and e.value not in self.local_refs:
                return None
        elif isinstance(e, cst.Call):
            f = e.func
            if isinstance(f, cst.Attribute):
                rk = self.kind_of(f.value)
                if rk is not None:
                    m = f.attr.value
                    if m in rk.returns_self:
                        return rk
                    if m in rk.methods:
                        return self.table.kind(rk.methods[m])
                    if m in rk.cm_methods:
                        return self.table.kind(rk.cm_methods[m][0])
                    return None
            elif isinstance(f, cst.Name) and f.value in self.local_kinds:
                k = self.local_kinds[f.value]
                return self.table.kind(k.call_returns)
            elif isinstance(f, cst.Name) and f.value in self.locals and f.value not in self.local_refs:
                return None
        elif isinstance(e, cst.Attribute):
            if self.attr_kinds:
                key = dotted_key(e)
                if key in self.attr_kinds:
                    return self.attr_kinds[key]
            rk = self.kind_of(e.value)
            if rk is not None:
                return self.table.kind(rk.attrs.get(e.attr.value))
        ref = self.ref_of(e)
        return self.ctx.resolver.kind_of(ref) if ref else None

    def ref_of(self, e: cst.CSTNode) -> Optional[str]:
        base = base_name(e)
        if base is None or (base in self.locals and base not in self.local_refs):
            return None
        return self.ctx.resolver.ref(e, self.local_refs)

    def _callee_new(self, callee) -> Optional[str]:
        summ = summary_of(self.ctx, callee)
        return summ.returns_kind if summ is not None else None

    def acquisition(self, call: cst.Call) -> Optional[R.Kind]:
        """Kind of the new resource this call hands to the function, if any (contract §13: a
        library factory or method, or a project function whose summary says it returns one)."""
        f = call.func
        fref = self.ref_of(f)
        if fref is not None:
            recv = self.ref_of(f.value) if isinstance(f, cst.Attribute) else None
            kws = frozenset(a.keyword.value for a in call.args if a.keyword is not None)
            k = new_resource_kind(self.ctx.resolver, fref, recv, f.attr.value if isinstance(f, cst.Attribute) else None,
                                  kws, summaries=self._callee_new)
        else:
            k = self.kind_of(call)
            if k is None or not k.resource or k.lazy or k.category not in TRACKED_CATEGORIES:
                return None
            if isinstance(f, cst.Attribute):
                rk = self.kind_of(f.value)
                if rk is not None and f.attr.value in rk.borrowed:
                    return None
        if k is None:
            if id(call) in self.registries:
                # a scoped_session registry made here and used directly (Session.execute(...)): the
                # registry is this function's resource, released by remove() (contract §15)
                return self.table.kind(self.registries[id(call)])
            return None
        if k.category == R.SESSION and k.name != "sa.session" and k.call_returns is None:
            # a scoped-session member: owned only when the registry is created here
            if not (isinstance(f, cst.Name) and f.value in self.local_kinds):
                return None
        return k

    def sql_text(self, node: cst.CSTNode) -> Optional[str]:
        """The SQL a statement argument holds: a literal, or a local bound only to one literal
        (``stmt = "BEGIN"``; contract §13)."""
        text = string_value(node)
        if text is None and isinstance(node, cst.Name):
            values = self.local_strings.get(node.value)
            if values and len(set(values)) == 1:
                return values[0]
        return text

    def _set_kind(self, name: str, kind: R.Kind) -> None:
        if name not in self.local_kinds:
            self.local_kinds[name] = kind
            self.local_refs.setdefault(name, R.kind_ref(kind.name))

    def _prepass(self) -> None:
        env = self.env
        if env is not None:
            # what the function's names are (parameters' annotations, `self`, local imports,
            # assignments): read once with ast by txlint.kinds
            for name, ref in env.resolved_names().items():
                self.locals.add(name)
                if ref:
                    self.local_refs[name] = ref
        else:
            params = self.fn.params
            for p in list(params.posonly_params) + list(params.params) + list(params.kwonly_params) + \
                    [x for x in (params.star_arg, params.star_kwarg) if isinstance(x, cst.Param)]:
                self.locals.add(p.name.value)
        # names bound in the body shadow module names
        nodes = list(iter_nodes(self.fn.body))
        binders = []
        for node in nodes:
            typ = type(node)
            if typ is cst.AssignTarget or typ is cst.AnnAssign or typ is cst.For or typ is cst.NamedExpr:
                if type(node.target) is cst.Name:
                    self.locals.add(node.target.value)
                binders.append(node)
            elif typ is cst.AsName:
                if type(node.name) is cst.Name:
                    self.locals.add(node.name.value)
            elif typ is cst.Assign or typ is cst.WithItem or typ is cst.Call:
                binders.append(node)
        self._flags(binders)
        called = {n.func.value for n in nodes if type(n) is cst.Call and type(n.func) is cst.Name}
        for node in binders:
            value = None
            names: list[str] = []
            if isinstance(node, cst.Assign):
                value = node.value
                names = [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
            elif isinstance(node, cst.AnnAssign) and node.value is not None and isinstance(node.target, cst.Name):
                value, names = node.value, [node.target.value]
            elif isinstance(node, cst.WithItem) and node.asname is not None and isinstance(node.asname.name, cst.Name):
                value, names = node.item, [node.asname.name.value]
                if isinstance(value, cst.Call) and value.args and self._is_owner_taker(value):
                    value = value.args[0].value
            elif isinstance(node, cst.Call):
                if not self.interesting and self._call_interesting(node):
                    self.interesting = True
                continue
            if value is None:
                continue
            kind = self.kind_of(value)
            if kind is not None and kind.category == R.SCOPED_REGISTRY and isinstance(value, cst.Call) \
                    and isinstance(node, cst.Assign) and len(names) == 1 and names[0] not in called \
                    and names[0] not in self.global_names:
                fref = self.ref_of(value.func)
                if fref and self.table.factories.get(self.ctx.resolver.canonical(fref)) == kind.name:
                    self.registries[id(value)] = kind.name
            for name in names:
                if kind is not None:
                    self._set_kind(name, kind)
                elif name not in self.local_kinds and name not in self.local_refs:
                    ref = self.ref_of(value) if isinstance(value, (cst.Call, cst.Attribute, cst.Name)) else None
                    if ref and not ref.startswith("."):
                        self.local_refs[name] = ref

    def _is_context_manager(self) -> bool:
        """Decorated with ``contextlib.contextmanager`` / ``asynccontextmanager``."""
        from txlint.kinds import CONTEXT_MANAGER_DECORATORS, _decorator_names

        if not self.fn.decorators:
            return False
        if self.env is not None:
            return bool(_decorator_names(self.env.fn, self.ctx.resolver) & CONTEXT_MANAGER_DECORATORS)
        for dec in self.fn.decorators:
            target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            if self.ctx.resolver.ref(target) in CONTEXT_MANAGER_DECORATORS:
                return True
        return False

    def _flags(self, binders) -> None:
        """``own = cursor is None`` bound once, on a name never rebound: ``if own:`` tests the
        same condition (contract §1)."""
        counts: dict[str, int] = {}
        candidates = []
        for node in binders:
            if isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name):
                counts[node.target.value] = counts.get(node.target.value, 0) + 1
            elif isinstance(node, (cst.AnnAssign, cst.For, cst.NamedExpr)):
                for n in iter_nodes(node.target):
                    if isinstance(n, cst.Name):
                        counts[n.value] = counts.get(n.value, 0) + 2
            if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) \
                    and isinstance(node.value, (cst.Comparison, cst.UnaryOperation)):
                candidates.append((node.targets[0].target.value, node.value))
        for name, value in candidates:
            ck = self.cond_key(value)
            if ck is None or counts.get(name, 0) != 1:
                continue
            root = ck[0][1].split(".")[0]
            if counts.get(root, 0) == 0:
                self.flag_alias[name] = ck

    def _call_interesting(self, call: cst.Call) -> bool:
        if self.acquisition(call) is not None:
            return True
        f = call.func
        if isinstance(f, cst.Attribute):
            rk = self.kind_of(f.value)
            if rk is not None and (f.attr.value in rk.tx_begin or f.attr.value in rk.sql_methods):
                return True
        ref = self.ref_of(f)
        if not ref:
            return False
        if ref in self.table.functions:
            return True
        summ = summary_for(self.ctx, ref) if not isinstance(f, cst.Attribute) else None
        return bool(summ is not None and summ.returns_tuple)

    def _is_owner_taker(self, call: cst.Call) -> bool:
        f = call.func
        if isinstance(f, cst.Attribute) and f.attr.value in ("enter_context", "enter_async_context", "callback",
                                                              "push", "push_async_callback"):
            return True
        ref = self.ref_of(f)
        if not ref:
            return False
        plain = ref.replace("()", "")
        return ref in R.OWNERSHIP_TAKERS or plain in R.OWNERSHIP_TAKERS

    # ---- records ----------------------------------------------------------------------
    def rec_for(self, node: cst.CSTNode, kind: R.Kind, cat: str, **kw) -> Rec:
        key = (id(node), cat)
        rid = self.site_rid.get(key)
        if rid is not None:
            return self.recs[rid]
        if cat.startswith("res"):
            cat_name = "res"
        else:
            cat_name = cat
        if cat == "tx":
            closer = "commit() or rollback()"
        else:
            closer = "close()"
            if kw.get("release"):
                closer = kw.pop("release") + "()"
        kw.pop("release", None)
        rec = Rec(len(self.recs), node, kind, cat_name, closer, **kw)
        self.recs.append(rec)
        self.site_rid[key] = rec.rid
        self.site_index.setdefault(key[0], []).append((key, rec.rid))
        return rec

    def site_rec_items(self, site: int):
        return self.site_index.get(site, ())

    # ---- lattice ------------------------------------------------------------------------
    def join(self, a, b):
        if a is None:
            return b
        if b is None:
            return a
        out = a.copy()
        for name, rids in b.vars.items():
            cur = out.vars.get(name)
            out.vars[name] = rids if cur is None else (cur | rids)
        for rid, tr in b.open.items():
            if rid not in out.open:
                out.open[rid] = tr
        for rid, tr in b.held.items():
            if rid not in out.held:
                out.held[rid] = tr
        out.facts = a.facts & b.facts
        if a.guards or b.guards:
            guards = {}
            for rid in out.open:
                ga = a.guards.get(rid, frozenset()) if rid in a.open else None
                gb = b.guards.get(rid, frozenset()) if rid in b.open else None
                g = ga if gb is None else gb if ga is None else ga & gb
                if g:
                    guards[rid] = g
            out.guards = guards
        return out

    def key(self, s):
        return (frozenset((k, v) for k, v in s.vars.items() if v), frozenset(s.open), s.facts,
                frozenset(s.guards.items()) if s.guards else None, frozenset(s.held) if s.held else None)

    # ---- conditions (contract §1) ---------------------------------------------------------
    def cond_key(self, test) -> Optional[tuple]:
        """(key, polarity) of a test on a name: ``x is None`` -> (("none", "x"), True),
        ``x is not None`` -> (..., False), ``flag`` -> (("truthy", "flag"), True); a flag bound
        once to such a test stands for it."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self.cond_key(test.expression)
            return (inner[0], not inner[1]) if inner else None
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            comp = test.comparisons[0]
            if isinstance(comp.comparator, cst.Name) and comp.comparator.value == "None":
                x = dotted_key(test.left)
                if x is None:
                    return None
                if isinstance(comp.operator, (cst.Is, cst.Equal)):
                    return ("none", x), True
                if isinstance(comp.operator, (cst.IsNot, cst.NotEqual)):
                    return ("none", x), False
            return None
        if isinstance(test, cst.Name) and test.value in self.flag_alias:
            return self.flag_alias[test.value]
        if isinstance(test, (cst.Name, cst.Attribute)):
            x = dotted_key(test)
            return (("truthy", x), True) if x is not None else None
        return None

    @staticmethod
    def _with_fact(facts: frozenset, key, value: bool) -> frozenset:
        out = {key: value}
        kind, x = key
        # `x is None` implies `not x`; `x` (truthy) implies `x is not None`
        if kind == "none" and value:
            out[("truthy", x)] = False
        elif kind == "truthy" and value:
            out[("none", x)] = False
        return facts | frozenset(out.items())

    def _know(self, s: St, key, value: bool) -> Optional[St]:
        """``s`` on the path where condition ``key`` has ``value``; ``None`` when it cannot."""
        if (key, not value) in s.facts:
            return None
        s = s.copy()
        s.facts = self._with_fact(s.facts, key, value)
        if s.guards:
            for rid, guard in list(s.guards.items()):
                if (key, not value) in guard:  # acquired only where the condition was the opposite
                    s.open.pop(rid, None)
                    s.guards.pop(rid, None)
        return s

    @staticmethod
    def _forget(s: St, name: str) -> None:
        """``name`` was rebound: what was known of conditions on it no longer holds."""
        if not s.facts and not s.guards:
            return
        prefix = name + "."

        def stale(fact) -> bool:
            x = fact[0][1]
            return x == name or x.startswith(prefix)

        if any(stale(f) for f in s.facts):
            s.facts = frozenset(f for f in s.facts if not stale(f))
        for rid, guard in list(s.guards.items()):
            if any(stale(f) for f in guard):
                kept = frozenset(f for f in guard if not stale(f))
                if kept:
                    s.guards[rid] = kept
                else:
                    s.guards.pop(rid)

    def _open(self, s: St, rid: int, trace: tuple) -> None:
        s.open[rid] = trace
        if s.facts:
            s.guards[rid] = s.facts
        elif s.guards:
            s.guards.pop(rid, None)

    # ---- helpers on states --------------------------------------------------------------
    @staticmethod
    def _step(s: St, step: tuple, only=None) -> None:
        for rid, tr in list(s.open.items()):
            if only is not None and rid not in only:
                continue
            if len(tr) < MAX_TRACE:
                s.open[rid] = tr + (step,)
        for rid, tr in list(s.held.items()):
            if len(tr) < MAX_TRACE and (only is None or rid in only):
                s.held[rid] = tr + (step,)

    def _close(self, s: St, rids, *, tx_only=False, res_only=False) -> None:
        todo = set(rids)
        done = set()
        while todo:
            rid = todo.pop()
            if rid in done:
                continue
            done.add(rid)
            rec = self.recs[rid]
            if tx_only and rec.cat != "tx":
                continue
            if res_only and rec.cat != "res":
                continue
            s.open.pop(rid, None)
            s.held.pop(rid, None)
            if rec.cat == "res":
                for other in self.recs:
                    # what it closes with it: its cursors (not its transaction: contract §4)
                    if other.parent == rid and rec.kind.closes_children and other.cat == "res":
                        todo.add(other.rid)

    def _escape(self, s: St, rids) -> None:
        # what escapes keeps what it came from alive and reachable (a returned cursor carries its
        # connection as `cursor.connection`): ownership of the parents goes with it
        rids = set(rids)
        todo = list(rids)
        while todo:
            parent = self.recs[todo.pop()].parent
            if parent is not None and parent not in rids:
                rids.add(parent)
                todo.append(parent)
        self.escaped.update(rids)
        self._drop(s, rids)

    def _drop(self, s: St, rids) -> None:
        todo = set(rids)
        done = set()
        while todo:
            rid = todo.pop()
            if rid in done:
                continue
            done.add(rid)
            s.open.pop(rid, None)
            s.held.pop(rid, None)
            for other in self.recs:
                if other.owner == rid or other.parent == rid:
                    todo.add(other.rid)

    def _holders(self, s: St, rid: int, but: str) -> bool:
        return any(rid in rids for name, rids in s.vars.items() if name != but)

    # ---- expressions --------------------------------------------------------------------
    def eval(self, e: cst.CSTNode, s: St, stmt: cst.CSTNode) -> frozenset:
        """Evaluate for effects; return the tracked objects the value may be."""
        if isinstance(e, cst.Name):
            return s.vars.get(e.value, frozenset())
        if isinstance(e, cst.Await):
            return self.eval(e.expression, s, stmt)
        if isinstance(e, cst.Call):
            return self.call(e, s, stmt)
        if isinstance(e, (cst.Tuple, cst.List, cst.Set)):
            out = frozenset()
            for el in e.elements:
                out |= self.eval(el.value, s, stmt)
            return out
        if isinstance(e, cst.IfExp):
            self.eval(e.test, s, stmt)
            ck = self.cond_key(e.test)
            if ck is None:
                return self.eval(e.body, s, stmt) | self.eval(e.orelse, s, stmt)
            # each arm knows how the test went: what it acquires is guarded by that (contract §1)
            key, pol = ck
            saved = s.facts
            out = frozenset()
            for arm, value in ((e.body, pol), (e.orelse, not pol)):
                if (key, not value) in saved:
                    continue
                s.facts = self._with_fact(saved, key, value)
                out |= self.eval(arm, s, stmt)
            s.facts = saved
            return out
        if isinstance(e, cst.BooleanOperation):
            return self.eval(e.left, s, stmt) | self.eval(e.right, s, stmt)
        if isinstance(e, cst.NamedExpr):
            v = self.eval(e.value, s, stmt)
            if isinstance(e.target, cst.Name):
                self._forget(s, e.target.value)
                s.vars[e.target.value] = v
            return v
        if isinstance(e, cst.Dict):
            out = frozenset()
            for el in e.elements:
                if isinstance(el, cst.DictElement):
                    self.eval(el.key, s, stmt)
                out |= self.eval(el.value, s, stmt)
            return out
        if isinstance(e, cst.Lambda):
            self._escape_names(e, s)
            return frozenset()
        if isinstance(e, cst.Attribute):
            key = dotted_key(e)
            if key is not None and key in s.vars:
                return s.vars[key]
            self.eval(e.value, s, stmt)
            return frozenset()
        if isinstance(e, (cst.Yield,)):
            if e.value is not None:
                v = e.value.item if isinstance(e.value, cst.From) else e.value
                vals = self.eval(v, s, stmt)
                if not self.lends:
                    self._escape(s, vals)
                # a @contextmanager only lends what it yields: it is still this function's to
                # release after the yield, where the with-body's exception is thrown in (§7)
            return frozenset()
        for child in fast_children(e):
            if isinstance(child, cst.BaseExpression) or isinstance(child, (cst.Arg, cst.Element, cst.DictElement,
                                                                            cst.FormattedStringExpression,
                                                                            cst.ComparisonTarget, cst.SubscriptElement,
                                                                            cst.Index, cst.Slice, cst.CompFor,
                                                                            cst.CompIf, cst.StarredElement,
                                                                            cst.StarredDictElement)):
                self.eval(child, s, stmt) if isinstance(child, cst.BaseExpression) else self._eval_children(child, s, stmt)
        return frozenset()

    def _eval_children(self, node, s, stmt):
        for child in fast_children(node):
            if isinstance(child, cst.BaseExpression):
                self.eval(child, s, stmt)
            elif isinstance(child, cst.CSTNode) and not isinstance(child, (cst.BaseParenthesizableWhitespace,)):
                self._eval_children(child, s, stmt)

    def _escape_names(self, node, s: St) -> None:
        for n in iter_nodes(node, into_defs=True):
            if isinstance(n, cst.Name) and n.value in s.vars:
                self._escape(s, s.vars[n.value])

    def _tx_begin(self, call: cst.Call, s: St, keys: list[str], kind: R.Kind, owner_rids=frozenset()) -> frozenset:
        owner = next((r for r in owner_rids if self.recs[r].cat == "res"), None)
        if owner is not None and self.recs[owner].kind.category == R.CURSOR:
            owner = self.recs[owner].parent  # the transaction belongs to the cursor's connection
        # closing the connection or session does not end the transaction (contract §4: it is
        # rolled back silently; the path still lacks its commit() or rollback())
        ends = frozenset(kind.tx_end)
        txk = self.table.kind(kind.methods.get(call_name(call)))
        if txk is None and kind.category == R.TRANSACTION:
            txk = kind
        if txk is not None:
            ends |= frozenset(txk.tx_end) | frozenset(txk.closers)
        via = keys[0] if keys else None
        if via is None and self.class_name and base_name(call.func) == "self":
            via = "self.<temp>"  # self.cursor().execute("BEGIN"): begun on what the object owns
        rec = self.rec_for(call, kind, "tx", owner=owner, end_methods=ends, via=via)
        self._open(s, rec.rid, ((call, "tx", ""),))
        for key in keys:
            s.vars[key] = s.vars.get(key, frozenset()) | {rec.rid}
        return frozenset({rec.rid})

    def _end_tx_of(self, s: St, key: str, method: Optional[str]) -> None:
        for rid in s.vars.get(key, ()):
            rec = self.recs[rid]
            if rec.cat == "tx" and (method is None or method in rec.end_methods):
                s.open.pop(rid, None)

    def call(self, call: cst.Call, s: St, stmt) -> frozenset:
        f = call.func
        if isinstance(f, cst.Call) and isinstance(f.func, cst.Name) and f.func.value == "getattr" \
                and len(f.args) >= 2 and isinstance(f.args[0].value, cst.Name) \
                and string_value(f.args[1].value) is None and "getattr" not in self.locals:
            # getattr(conn, name)(): a method chosen at run time may close or end it
            self._escape(s, s.vars.get(f.args[0].value.value, frozenset()))
        # arguments first
        arg_vals = []
        for arg in call.args:
            arg_vals.append(self.eval(arg.value, s, stmt))
        recv_key = None
        recv_vals = frozenset()
        m = None
        if isinstance(f, cst.Attribute):
            m = f.attr.value
            recv_key = dotted_key(f.value)
            if recv_key is None:
                # a method of a temporary: `engine.connect().close()` closes what it made
                recv_vals = self.eval(f.value, s, stmt)
        elif not isinstance(f, cst.Name):
            self.eval(f, s, stmt)
        # ownership takers and configured closers
        if self._is_owner_taker(call):
            for v in arg_vals:
                self._escape(s, v)
            for arg in call.args:
                self._escape_names(arg.value, s)
            return frozenset()
        ref = self.ref_of(f)
        plain = ref.replace("()", "") if ref else None
        if ref and (ref in self.table.closers or plain in self.table.closers):
            for v in arg_vals:
                self._close(s, v)
            return frozenset()
        if ref and ref in self.table.functions:
            effect, key, cond = self.table.functions[ref]
            first = call.args[0].value if call.args else None
            flag = first.value if isinstance(first, cst.Name) else None
            if effect == "tx-begin" and (cond != "arg0-false" or flag == "False"):
                k = self.table.kind("sa.transaction")
                self.rec_for(call, k, "tx", end_methods=frozenset())
                return self._tx_begin(call, s, [key], k)
            if effect == "tx-begin" and cond == "arg0-false" and flag == "True":
                self._end_tx_of(s, key, None)
                return frozenset()
            if effect == "tx-end":
                self._end_tx_of(s, key, None)
                return frozenset()
        # new resource?
        kind = self.acquisition(call)
        if kind is not None:
            parent = None
            release = None
            registry = None
            if recv_key is not None:
                parent = next((r for r in s.vars.get(recv_key, ()) if self.recs[r].cat == "res"), None)
                rk = self.kind_of(f.value)
                if rk is not None:
                    for rm, idx in rk.release_args.items():
                        release = rm
                        break
            if isinstance(f, cst.Name) and f.value in self.local_kinds:
                registry = f.value
            if kind.category == R.SCOPED_REGISTRY:
                release = "remove"
            rec = self.rec_for(call, kind, "res", parent=parent, release=release, registry=registry)
            if rec.rid in s.held:
                self._shadow(s, rec.rid)
            self._open(s, rec.rid, ((call, "acq", ""),))
            return frozenset({rec.rid})
        if m is not None and (recv_key is not None or recv_vals):
            tracked = s.vars.get(recv_key, frozenset()) if recv_key is not None else recv_vals
            rk = self.kind_of(f.value)
            if rk is None and tracked:
                rk = next((self.recs[r].kind for r in tracked if self.recs[r].cat == "res"), None)
            # release of an argument: pool.putconn(conn), pool.release(conn)
            if rk is not None and m in rk.release_args:
                idx = rk.release_args[m]
                if idx < len(arg_vals):
                    self._close(s, arg_vals[idx])
                return frozenset()
            if m in CONTAINER_METHODS:
                for v in arg_vals:
                    self._escape(s, v)
            if recv_key == "self" and self.class_name:
                summ = method_summary(self.ctx, self.class_name, m)
                if summ is not None:
                    self._apply_summary(summ, call, arg_vals, s)
                    self._apply_self_effects(summ, s)
            # closing / ending what the receiver holds
            for rid in list(tracked):
                rec = self.recs[rid]
                if rec.cat == "res" and (m in rec.kind.closers or m in R.EXPLICIT_EXITS):
                    self._close(s, {rid})
                elif rec.cat == "res" and rec.registry is not None:
                    pass
                elif rec.cat == "tx" and m in rec.end_methods:
                    # through its handle any of its end methods; through the connection or session
                    # only what ends a transaction there (conn.close() does not: contract §4)
                    if rk is None or rk.category == R.TRANSACTION or m in rk.tx_end:
                        s.open.pop(rid, None)
            # scoped registry: Session.remove() closes the sessions it handed out
            if rk is not None and m in rk.closers:
                for rec in self.recs:
                    if recv_key is not None and rec.registry == recv_key:
                        self._close(s, {rec.rid})
            if rk is not None and m in rk.returns_self:
                return frozenset(r for r in tracked if self.recs[r].cat == "res")
            if rk is not None and m in rk.current_tx:
                # session.get_transaction(): a handle on the transaction open on it, if any
                return frozenset(r for r in s.vars.get(recv_key, ()) if self.recs[r].cat == "tx")
            if rk is not None:
                sql = self.sql_text(call.args[0].value) if call.args and m in rk.sql_methods else None
                if m in rk.tx_begin or (sql is not None and R.SQL_BEGIN.match(sql)):
                    keys = [recv_key] if recv_key is not None else []
                    owner_rids = tracked
                    for rid in tracked:
                        par = self.recs[rid].parent
                        if par is not None:
                            keys += [n for n, rids in s.vars.items() if par in rids and n not in keys]
                    return self._tx_begin(call, s, keys, rk, owner_rids)
                if sql is not None and R.SQL_END.match(sql):
                    self._end_tx_of(s, recv_key, None)
                    for rid in tracked:
                        par = self.recs[rid].parent
                        if par is not None:
                            for n, rids in list(s.vars.items()):
                                if par in rids:
                                    self._end_tx_of(s, n, None)
                elif m in rk.tx_end:
                    self._end_tx_of(s, recv_key, None)
            if rk is not None or tracked or recv_key == "self":
                return frozenset()
            # else a method of a project object (or of something unknown): its summary below
        if ref and not (recv_key is not None and recv_key in s.vars):
            summ = summary_for(self.ctx, ref)
            if summ is not None and summ.returns_tuple:
                values = []
                for i, (kname, parent_i) in enumerate(summ.returns_tuple):
                    kind = self.table.kind(kname)
                    if kind is None:
                        values.append(frozenset())
                        continue
                    parent = None
                    if parent_i is not None and parent_i < len(values) and values[parent_i]:
                        parent = next(iter(values[parent_i]))
                    rec = self.rec_for(call, kind, f"res{i}", parent=parent)
                    self._open(s, rec.rid, ((call, "acq", ""),))
                    values.append(frozenset({rec.rid}))
                self.tuple_values[id(call)] = values
                return frozenset().union(*values)
        # a project function or class (or a method of this class) that closes or keeps its argument
        summ = None
        if any(arg_vals):
            if ref:
                summ = summary_for(self.ctx, ref)
            elif recv_key == "self" and self.class_name and m:
                summ = method_summary(self.ctx, self.class_name, m)
        if summ is not None:
            self._apply_summary(summ, call, arg_vals, s)
        if any(arg_vals) and self._hands_to_callback(call):
            for v in arg_vals:
                self._escape(s, v)
            return frozenset()
        # a constructor wrapping the object: the wrapper holds it
        if isinstance(f, (cst.Name, cst.Attribute)):
            last = f.value if isinstance(f, cst.Name) else f.attr.value
            if last[:1].isupper():
                out = frozenset()
                for v in arg_vals:
                    out |= v
                return out
        return frozenset()

    def _from_self(self, name: Optional[str]) -> bool:
        """``self.conn``, or a local made from ``self`` (``curs = self.cursor()``), in a method."""
        if not name or not self.class_name:
            return False
        if name.startswith("self."):
            return True
        me = self.env.names.get(self.env.self_name) if self.env is not None and self.env.self_name else None
        ref = self.local_refs.get(name)
        return bool(me and ref and ref.startswith(me))

    def _ended_here(self, rec: Rec) -> bool:
        """Whether this function ends, on some path, a transaction begun on an attribute of
        ``self``; a method that only begins one hands it to its caller."""
        attr = rec.via[len("self."):] if rec.via and rec.via.startswith("self.") else None
        for n in iter_nodes(self.fn.body):
            if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
                m = n.func.attr.value
                if m in rec.end_methods or R.SQL_END.match(self.sql_text(n.args[0].value) or "") if n.args else \
                        m in rec.end_methods:
                    return True
                if isinstance(n.func.value, cst.Name) and n.func.value.value == "self" and self.class_name:
                    summ = method_summary(self.ctx, self.class_name, m)
                    if summ is not None and attr is not None and attr in summ.ends_self:
                        return True
        return False

    def _hands_to_callback(self, call: cst.Call) -> bool:
        """``Thread(target=self._run, args=(conn,))``, ``executor.submit(work, conn)``: the
        resources passed along go to a project function that closes or keeps its arguments."""
        for arg in call.args:
            value = arg.value
            if not isinstance(value, (cst.Name, cst.Attribute)):
                continue
            ref = self.ref_of(value)
            summ = summary_for(self.ctx, ref) if ref else None
            if summ is None and isinstance(value, cst.Attribute) and dotted_key(value.value) == "self" \
                    and self.class_name:
                summ = method_summary(self.ctx, self.class_name, value.attr.value)
            if summ is not None and (summ.closes or summ.keeps):
                return True
        return False

    def _apply_self_effects(self, summ, s: St) -> None:
        """``self.rollback()`` / ``self.close()``: a method of this class that ends the transaction
        or closes what an attribute of ``self`` holds does so for the caller too."""
        for attr in summ.ends_self:
            self._end_tx_of(s, f"self.{attr}", None)
            for rec in self.recs:
                if rec.cat == "tx" and rec.via == f"self.{attr}":
                    s.open.pop(rec.rid, None)
        for attr in summ.closes_self:
            held = s.vars.get(f"self.{attr}", ())
            self._close(s, [r for r in held if self.recs[r].cat == "res"])

    def _apply_summary(self, summ, call: cst.Call, arg_vals, s: St) -> None:
        for i, (arg, v) in enumerate(zip(call.args, arg_vals)):
            if not v:
                continue
            kw = arg.keyword.value if arg.keyword is not None else None
            idx = summ.arg_index(None if kw else i, kw)
            if idx is None:
                continue
            if idx in summ.closes or idx in summ.keeps:
                self._escape(s, v)
            elif idx in summ.ends_tx:
                for rid in v:
                    if self.recs[rid].cat == "tx":
                        s.open.pop(rid, None)

    # ---- statements ----------------------------------------------------------------------
    def _can_raise(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        if self.release_mode:
            return self._release_raiser(node)
        for n in iter_nodes(node):
            if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in QUIET_METHODS:
                continue  # cleanup calls (rollback/close/release) are not counted as raising
            if isinstance(n, cst.Await) and isinstance(n.expression, cst.Call) and \
                    isinstance(n.expression.func, cst.Attribute) and n.expression.func.attr.value in QUIET_METHODS:
                continue
            if isinstance(n, (cst.Call, cst.Await, cst.Yield, cst.Raise, cst.Assert)):
                # the call evaluated first: descend through `a.b().c()` receivers
                while isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute):
                    inner = n.func.value
                    while isinstance(inner, (cst.Attribute, cst.Subscript)):
                        inner = inner.value
                    if isinstance(inner, cst.Call):
                        n = inner
                    else:
                        break
                return n
        return None

    def _exc_state(self, pre: St, post: St, raiser: cst.CSTNode, stmt) -> St:
        exc = St(dict(pre.vars), {r: t for r, t in pre.open.items() if r in post.open}, pre.facts,
                 {r: g for r, g in pre.guards.items() if r in post.open} if pre.guards else {},
                 {r: t for r, t in pre.held.items() if r in post.held} if pre.held else {})
        if isinstance(raiser, cst.Call):
            step = (stmt, "exc", call_name(raiser) + "()")
        elif isinstance(raiser, cst.Await):
            step = (stmt, "exc", "await")
        elif isinstance(raiser, cst.Yield):
            step = (stmt, "exc", "yield")
        else:
            step = (stmt, "raise", "")
        self._step(exc, step)
        return exc

    def _assign_name(self, s: St, name: str, value: frozenset, fresh: frozenset, old_open, stmt) -> None:
        self._forget(s, name)
        s.vars[name] = value
        for rid in old_open:
            if self.recs[rid].cat != "res":
                continue
            if (rid not in value or rid in fresh) and (rid in fresh or not self._holders(s, rid, name)):
                tr = old_open[rid]
                self.normal_leaks.setdefault(rid, tr + ((stmt, "reassign", name),))

    def bind_target(self, target, s, value):
        s = s.copy()
        for n in iter_nodes(target):
            if isinstance(n, cst.Name):
                s.vars.pop(n.value, None)
                self._forget(s, n.value)
        return s

    def _targets(self, target, s: St, value: frozenset, stmt, fresh=frozenset(), values=None) -> None:
        if isinstance(target, cst.Name) and target.value in self.global_names:
            self._escape(s, value)  # kept in a module global: long-lived, TXL401/TXL404's business
            s.vars[target.value] = value
            return
        if isinstance(target, cst.Name):
            pre = getattr(self, "_pre_open", None) or {}
            old = pre.get(target.value)
            if old is None:
                old = {r: s.open[r] for r in s.vars.get(target.value, ()) if r in s.open}
            self._assign_name(s, target.value, value, fresh, old, stmt)
        elif isinstance(target, (cst.Tuple, cst.List)):
            if values is not None and len(values) == len(target.elements):
                for el, v in zip(target.elements, values):
                    self._targets(el.value, s, v, stmt, fresh)
            else:
                for el in target.elements:
                    self._targets(el.value, s, value, stmt, fresh)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value, s, value, stmt, fresh)
        else:
            # attribute / subscript: stored on another object
            key = dotted_key(target)
            if key is not None:
                self._forget(s, key)
            if key is not None and self.class_name and key.startswith("self.") and key.count(".") == 1:
                self._store_on_self(s, key, value, stmt)
                return
            self._escape(s, value)
            if isinstance(target, cst.Attribute):
                self.eval(target.value, s, stmt)
            else:
                self.eval(target, s, stmt)

    def simple(self, stmt, s, out):
        post = s.copy()
        raiser = self._can_raise(stmt)
        nxt = post
        before = set(s.open)
        self._pre_open = None
        if isinstance(stmt, cst.Return):
            if stmt.value is not None:
                self._escape(post, self.eval(stmt.value, post, stmt))
            self._step(post, (stmt, "ret", ""))
            out.ret = self.join(out.ret, post)
            nxt = None
        elif isinstance(stmt, cst.Raise):
            if stmt.exc is not None and self._ends_process(stmt.exc, raised=True):
                return None  # raise SystemExit
            if stmt.exc is not None:
                self.eval(stmt.exc, post, stmt)
            exc = post.copy()
            self._step(exc, (stmt, "raise", ""))
            out.exc = self.join(out.exc, exc)
            return None
        elif isinstance(stmt, cst.Break):
            self._step(post, (stmt, "brk", ""))
            out.brk = self.join(out.brk, post)
            return None
        elif isinstance(stmt, cst.Continue):
            out.cont = self.join(out.cont, post)
            return None
        elif isinstance(stmt, cst.Assign):
            names = [n.value for t in stmt.targets for n in iter_nodes(t.target)
                     if isinstance(n, cst.Name) and not isinstance(t.target, (cst.Attribute, cst.Subscript))]
            self._pre_open = {n: {r: s.open[r] for r in s.vars.get(n, ()) if r in s.open} for n in names}
            values = None
            if isinstance(stmt.value, (cst.Tuple, cst.List)) and len(stmt.targets) == 1:
                values = [self.eval(el.value, post, stmt) for el in stmt.value.elements]
                value = frozenset().union(*values) if values else frozenset()
            else:
                value = self.eval(stmt.value, post, stmt)
                rhs = stmt.value.expression if isinstance(stmt.value, cst.Await) else stmt.value
                if isinstance(rhs, cst.Call) and id(rhs) in self.tuple_values:
                    values = self.tuple_values[id(rhs)]
            fresh = frozenset(r for r in value if r not in before or isinstance(stmt.value, cst.Call))
            fresh = frozenset(r for r in fresh if r in self._fresh_sites(stmt.value))
            for t in stmt.targets:
                self._targets(t.target, post, value, stmt, fresh, values)
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Name) and \
                    isinstance(stmt.value, cst.Name) and stmt.value.value in ("True", "False"):
                self._set_flag(post, stmt.targets[0].target.value, stmt.value.value == "True")
        elif isinstance(stmt, cst.AnnAssign):
            if stmt.value is not None:
                value = self.eval(stmt.value, post, stmt)
                fresh = frozenset(r for r in value if r in self._fresh_sites(stmt.value))
                self._targets(stmt.target, post, value, stmt, fresh)
        elif isinstance(stmt, cst.AugAssign):
            self.eval(stmt.value, post, stmt)
        elif isinstance(stmt, cst.Expr):
            if self._ends_process(stmt.value):
                return None  # sys.exit(), os._exit(): nothing leaks past the end of the process
            self.eval(stmt.value, post, stmt)
        elif isinstance(stmt, cst.Del):
            for n in iter_nodes(stmt.target):
                if isinstance(n, cst.Name):
                    post.vars.pop(n.value, None)
        elif isinstance(stmt, cst.Assert):
            self.eval(stmt.test, post, stmt)
        if raiser is not None:
            out.exc = self.join(out.exc, self._exc_state(s, post, raiser, stmt))
        return nxt

    def _store_on_self(self, s: St, key: str, value: frozenset, stmt) -> None:
        """``self.x = value``: the object owns what is stored (contract §14).  Replacing a resource
        the object may still hold open leaks it (reported at the new acquisition); what
        ``__enter__`` stores is still this method's when a later call raises."""
        attr = key[len("self."):]
        new = [r for r in value if self.recs[r].cat == "res" and not self.recs[r].pseudo]
        old = [r for r in s.vars.get(key, ()) if r not in value and (r in s.held or r in self.enter_kept and r in s.open)
               and not self._holders(s, r, key)]  # `old = self.conn` keeps it reachable
        if old and new:
            for r in new:
                tr = s.open.get(r) or ((self.recs[r].node, "acq", ""),)
                self.normal_leaks.setdefault(r, tr + ((stmt, "replace", key),))
        for r in old:
            s.held.pop(r, None)
        traces = {r: s.open.get(r) or ((self.recs[r].node, "acq", ""),) for r in new}
        if self.enter_method:
            self.enter_kept.update(new)
        else:
            self._escape(s, value)
            for r in new:
                s.held[r] = traces[r]
        s.vars[key] = value
        self.stores.extend((attr, r, stmt) for r in new)

    def _shadow(self, s: St, rid: int) -> None:
        """Acquiring again at a site whose previous object the object still holds (a loop that
        re-acquires): the previous one becomes a record of its own, so that storing the new one
        over it is seen as a replacement."""
        old = self.shadows.get(rid)
        if old is None:
            rec = self.recs[rid]
            old = Rec(len(self.recs), rec.node, rec.kind, "res", rec.closer, pseudo=rec.pseudo or "")
            self.recs.append(old)
            old = self.shadows[rid] = old.rid
        s.held[old] = s.held.pop(rid)
        for key, rids in list(s.vars.items()):
            if rid in rids and key.startswith("self."):
                s.vars[key] = (rids - {rid}) | {old}

    def _release_raiser(self, node) -> Optional[cst.CSTNode]:
        """In a release method, the calls that can raise past a later release: the releases of
        owned attributes themselves (``self.a.close()``, ``pool.release(self.a)``)."""
        owned = self.ownership.owned if self.ownership is not None else {}
        for n in iter_nodes(node):
            if not isinstance(n, cst.Call) or not isinstance(n.func, cst.Attribute):
                continue
            recv = dotted_key(n.func.value)
            m = n.func.attr.value
            if recv and recv.startswith("self.") and recv[5:] in owned:
                kind = self.table.kind(owned[recv[5:]])
                if kind is not None and (m in kind.closers or m in R.EXPLICIT_EXITS):
                    return n
            if m in RELEASING_CALLS and any((dotted_key(a.value) or "").startswith("self.") and
                                            (dotted_key(a.value) or "")[5:] in owned for a in n.args):
                return n
        return None

    def _set_flag(self, s: St, name: str, value: bool) -> None:
        """``flag = True``: known on this path, and a guard of what is open here (so that a
        later ``if flag:`` tells which path acquired it)."""
        key = ("truthy", name)
        s.facts = self._with_fact(s.facts, key, value)
        for rid in s.open:
            s.guards[rid] = self._with_fact(s.guards.get(rid, frozenset()), key, value)

    def _ends_process(self, e, raised: bool = False) -> bool:
        if isinstance(e, cst.Call):
            target = e.func
        elif raised:
            target = e
        else:
            return False
        ref = self.ref_of(target)
        if raised:
            if ref in R.PROCESS_EXIT_EXCEPTIONS:
                return True
            return isinstance(target, cst.Name) and target.value in R.PROCESS_EXIT_EXCEPTIONS and \
                target.value not in self.locals and ref is None
        return ref in R.PROCESS_EXITS

    def _fresh_sites(self, value) -> set:
        out = set()
        for n in iter_nodes(value):
            if isinstance(n, cst.Call):
                for (site, _), rid in self.site_rec_items(id(n)):
                    out.add(rid)
        return out

    def expr(self, node, s, out, anchor):
        post = s.copy()
        self.eval(node, post, anchor)
        raiser = self._can_raise(node)
        if raiser is not None:
            out.exc = self.join(out.exc, self._exc_state(s, post, raiser, node))
        return post

    def assume(self, test, s, truth):
        if s is None:
            return None
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self.assume(test.expression, s, not truth)
        if isinstance(test, cst.BooleanOperation):
            if isinstance(test.operator, cst.And) and truth:
                return self.assume(test.right, self.assume(test.left, s, True), True)
            if isinstance(test.operator, cst.Or) and not truth:
                return self.assume(test.right, self.assume(test.left, s, False), False)
            return s
        ck = self.cond_key(test)
        if ck is not None:
            s = self._know(s, ck[0], truth == ck[1])
            if s is None:
                return None  # the same condition went the other way earlier on this path
        if truth and isinstance(test, cst.Attribute) and test.attr.value in R.CLOSED_FLAGS:
            k = dotted_key(test.value)
            if k is not None and k in s.vars:  # `if conn.closed:` it holds nothing open there
                s = s.copy()
                self._drop(s, [rid for rid in s.vars[k] if self.recs[rid].cat == "res"])
            return s
        key = None
        present = truth
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            comp = test.comparisons[0]
            if isinstance(comp.comparator, cst.Name) and comp.comparator.value == "None":
                key = dotted_key(test.left)
                if isinstance(comp.operator, (cst.Is, cst.Equal)):
                    present = not truth
                elif isinstance(comp.operator, (cst.IsNot, cst.NotEqual)):
                    present = truth
                else:
                    key = None
        elif isinstance(test, (cst.Name, cst.Attribute)):
            if isinstance(test, cst.Attribute) and test.attr.value in ("is_active", "in_transaction"):
                if not truth:
                    k = dotted_key(test.value)
                    if k is not None and k in s.vars:
                        s = s.copy()
                        self._end_tx_of(s, k, None)
                return s
            key = dotted_key(test)
        elif isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute) and \
                test.func.attr.value in ("in_transaction", "in_nested_transaction", "is_active"):
            if not truth:
                k = dotted_key(test.func.value)
                if k is not None and k in s.vars:
                    s = s.copy()
                    self._end_tx_of(s, k, None)
            return s
        if key is not None and not present and key in s.vars:
            s = s.copy()
            self._drop(s, [rid for rid in s.vars[key] if self.recs[rid].cat == "res"])
        return s

    def branch(self, node, s, note):
        if s is None or not s.open:
            return s
        s = s.copy()
        self._step(s, (node, "branch", note))
        return s

    def with_suppresses(self, token):
        if isinstance(token, tuple) and token and token[0] == "suppress":
            return token[1]
        return None

    def with_item(self, item, s, out, anchor):
        e = item.item
        # `with engine.connect().execution_options(...) as conn:` is `with engine.connect() as conn:`
        while isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute) and not e.args[1:] \
                and (self.kind_of(e.func.value) or R.Kind("", "", "")).returns_self and \
                e.func.attr.value in self.kind_of(e.func.value).returns_self:
            for arg in e.args:
                self.eval(arg.value, s, anchor)
            e = e.func.value
        if isinstance(e, cst.Call):
            ref = self.ref_of(e.func)
            if ref in ("contextlib.suppress",):
                names = {dotted_key(a.value) or "" for a in e.args}
                catch_all = any(n.split(".")[-1] in ("Exception", "BaseException") for n in names)
                return s, ("suppress", "all" if catch_all else "some")
        call = e.expression if isinstance(e, cst.Await) else e
        post = s.copy()
        token = None
        target = item.asname.name if item.asname is not None else None
        if isinstance(call, cst.Call):
            kind = self.kind_of(call)
            managed = False
            if kind is not None and kind.category in TRACKED_CATEGORIES and kind.with_exit == R.EXIT_CLOSE:
                managed = self.acquisition(call) is not None or isinstance(call.func, cst.Attribute)
            if isinstance(call.func, cst.Attribute):
                rk = self.kind_of(call.func.value)
                m = call.func.attr.value
                if rk is not None and m in rk.cm_methods:
                    managed = rk.cm_methods[m][1] == R.EXIT_CLOSE or managed
                if kind is not None and kind.category == R.TRANSACTION and kind.with_exit == R.EXIT_END_TX:
                    managed = True
            if managed:
                for arg in call.args:
                    self.eval(arg.value, post, anchor)
                if isinstance(call.func, cst.Attribute) and dotted_key(call.func.value) is None:
                    self.eval(call.func.value, post, anchor)
                value = frozenset()
            else:
                value = self.eval(e, post, anchor)
                if value and kind is not None:
                    token = (kind.with_exit, value)
        else:
            value = self.eval(e, post, anchor)
            if value:
                kinds = [self.recs[r].kind for r in value if self.recs[r].cat == "res"]
                if kinds:
                    token = (kinds[0].with_exit, value)
        if target is not None:
            self._targets(target, post, value, anchor, frozenset(r for r in value if r not in s.open))
        raiser = self._can_raise(e)
        if raiser is not None:
            out.exc = self.join(out.exc, self._exc_state(s, post, raiser, anchor))
        return post, token

    def with_exit(self, token, s):
        if token is None or token[0] == "suppress":
            return s
        effect, rids = token
        if effect == R.EXIT_CLOSE:
            s = s.copy()
            self._close(s, rids)
        elif effect == R.EXIT_END_TX:
            s = s.copy()
            for rec in self.recs:
                if rec.cat == "tx" and rec.owner in rids:
                    s.open.pop(rec.rid, None)
        return s

    def nested_def(self, node, s):
        s = s.copy()
        self._escape_names(node, s)
        return s

    # ---- running ------------------------------------------------------------------------
    def run(self) -> list[Finding]:
        entry = St()
        for attr in sorted(self.seeds):
            kind = self.table.kind(self.ownership.owned[attr])
            rec = Rec(len(self.recs), self.fn, kind, "res", "close()", pseudo=attr)
            self.recs.append(rec)
            entry.vars["self." + attr] = frozenset({rec.rid})
            entry.held[rec.rid] = ((self.fn, "held", attr),)
        out = self.block(self.fn.body, entry)
        findings: list[Finding] = []
        normal = out.nxt
        if normal is not None and normal.open:
            normal = normal.copy()
            body = self.fn.body.body
            last = body[-1] if body else self.fn
            self._step(normal, (last, "fall", ""))
        normal = self.join(normal, out.ret)
        leaks_n = dict(self.normal_leaks)
        if normal is not None:
            for rid, tr in normal.open.items():
                leaks_n.setdefault(rid, tr)
        leaks_e = dict(out.exc.open) if out.exc is not None else {}
        if self.release_mode and out.exc is not None:
            still = normal.held if normal is not None else {}
            for rid, tr in out.exc.held.items():
                rec = self.recs[rid]
                if rec.pseudo and rid not in still:  # released on the normal path, skipped here
                    self.exit_skips.setdefault(rec.pseudo, tr)
        for leaks, is_normal in ((leaks_n, True), (leaks_e, False)):
            for rid, tr in leaks.items():
                rec = self.recs[rid]
                if is_normal and rid in self.enter_kept and rid not in self.normal_leaks:
                    continue  # stored on the object by __enter__: its __exit__ releases it
                if rec.cat == "tx" and rec.owner is None and self._from_self(rec.via) and not self._ended_here(rec):
                    # a method whose whole job is to begin, on what its object owns (self.conn, a
                    # cursor of self.cursor()), and that ends it nowhere: the caller's to end
                    continue
                if rec.cat == "res":
                    code = "TXL201" if is_normal else "TXL202"
                else:
                    code = "TXL101" if is_normal else "TXL102"
                findings.append(Finding(code, rec.node, rec, tr, is_normal))
        return findings


def functions_of(module: cst.Module) -> Iterator[tuple[cst.FunctionDef, Optional[cst.ClassDef]]]:
    """Every function (methods and nested functions included) of a module, in source order,
    with the class it is a method of."""
    stack = [(n, None) for n in reversed(module.body)]
    while stack:
        node, cls = stack.pop()
        if isinstance(node, cst.FunctionDef):
            yield node, cls
            stack.extend((n, None) for n in reversed(_inner_statements(node.body)))
        elif isinstance(node, cst.ClassDef):
            stack.extend((n, node) for n in reversed(_inner_statements(node.body)))
        elif isinstance(node, (cst.If, cst.Try, cst.With, cst.For, cst.While, cst.Match)) or \
                type(node).__name__ in ("TryStar", "Else", "Finally", "ExceptHandler", "ExceptStarHandler",
                                        "MatchCase", "IndentedBlock"):
            for child in reversed(fast_children(node)):
                if isinstance(child, (cst.BaseCompoundStatement, cst.IndentedBlock, cst.Else, cst.Finally,
                                      cst.ExceptHandler, cst.MatchCase)) or \
                        type(child).__name__ in ("ExceptStarHandler",):
                    stack.append((child, cls))


def _self_attr_kinds(ctx, cls: cst.ClassDef) -> dict:
    """``self.conn`` -> kind, for the attributes of a class of the checked module whose kind is
    known (contract §13: assigned by any method from something typed, annotated, or set in the
    class body)."""
    info = class_info_for(ctx, cls.name.value)
    if info is None:
        return {}
    out: dict = {}
    for name, ref in info.attrs().items():
        kind = ctx.resolver.kind_of(ref)
        if kind is not None:
            out[f"self.{name}"] = kind
    return out


def class_info_for(ctx, name: str):
    from txlint.kinds import class_info

    if name not in ctx.symbols.classes:
        return None
    return class_info(ctx.resolver, ctx.symbols, name)


def _inner_statements(body) -> list:
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    return []


def function_pairs(ctx) -> list:
    """(libcst function, libcst class, kinds.FunctionEnv or None, candidate) for every function of
    the file; the environment comes from the same function's :mod:`ast` node (both trees are
    walked in the same order; when they do not line up, no environment), and ``candidate`` says
    whether the gate (:mod:`txlint.gate`) found something there to follow (None: unknown)."""
    from txlint import gate as G

    cst_fns = list(functions_of(ctx.module))
    gate = G.gate_for(ctx)
    ast_fns = gate.functions()
    if len(ast_fns) != len(cst_fns) or any(a.name != c.name.value for (a, _, _), (c, _) in zip(ast_fns, cst_fns)):
        return [(fn, cls, None, None) for fn, cls in cst_fns]
    chosen = gate.path_candidates() if G.ENABLED else None
    return [(fn, cls, env, None if chosen is None else id(afn) in chosen)
            for (fn, cls), (afn, _, env) in zip(cst_fns, ast_fns)]


def analyse_file(ctx) -> list[Finding]:
    """Findings of the path rules for every function of the file (memoised by the rules)."""
    findings: list[Finding] = []
    old_limit = sys.getrecursionlimit()
    if old_limit < 8000:
        sys.setrecursionlimit(8000)
    try:
        class_attrs: dict[int, dict] = {}
        by_class: dict[int, tuple] = {}
        for fn, cls, env, candidate in function_pairs(ctx):
            if cls is not None:
                by_class.setdefault(id(cls), (cls, {}, []))[1][fn.name.value] = fn
            if candidate is False:
                continue
            try:
                attrs = None
                if cls is not None:
                    attrs = class_attrs.get(id(cls))
                    if attrs is None:
                        attrs = class_attrs[id(cls)] = _self_attr_kinds(ctx, cls)
                flow = FunctionFlow(ctx, fn, attrs, cls.name.value if cls is not None else None, env)
                if not flow.interesting:
                    continue
                findings.extend(flow.run())
                if cls is not None and flow.ownership is not None:
                    by_class[id(cls)][2].append(flow)
            except GiveUp as exc:
                ctx.notes.append(f"function {fn.name.value}: {exc}; not analysed")
            except RecursionError:
                ctx.notes.append(f"function {fn.name.value}: too deeply nested; not analysed")
        for cls, defs, flows in by_class.values():
            if flows:
                findings.extend(_owner_findings(ctx, cls, defs, flows))
    finally:
        sys.setrecursionlimit(old_limit)
    return findings


def _owner_findings(ctx, cls, defs: dict, flows: list) -> list[Finding]:
    """Class-level findings (contract §14): an owned resource that no release method of the
    class releases (TXL201), one that a release method skips when an earlier release raises
    (TXL202); both reported at the acquisitions stored on that attribute."""
    own = flows[0].ownership
    out: list[Finding] = []
    stores = [(attr, flow, rid, stmt) for flow in flows for attr, rid, stmt in flow.stores]
    if not stores:
        return out
    seen: set = set()
    if own.release_methods:
        name = next(n for n in R.RELEASE_METHOD_NAMES if n in own.release_methods)
        owner = own.release_methods[name][0]
        where = defs.get(name) if owner is own.info else None
        covered = any(ctx.table.kind(own.owned[a]) is not None and ctx.table.kind(own.owned[a]).closes_children
                      for a in own.released if a in own.owned)
        for attr, flow, rid, stmt in stores:
            rec = flow.recs[rid]
            if attr in own.released or (rec.kind.category == R.CURSOR and covered):
                continue
            if (id(rec.node), "TXL201") in seen:
                continue
            seen.add((id(rec.node), "TXL201"))
            trace = ((rec.node, "acq", ""), (stmt, "stored", attr), (where if where is not None else stmt,
                                                                      "norelease", f"{name}\x00{attr}"))
            out.append(Finding("TXL201", rec.node, rec, trace, True))
    for flow in flows:
        for attr, tr in flow.exit_skips.items():
            raised = tuple(step for step in tr if step[1] == "exc")[:1]
            for a, f2, rid, stmt in stores:
                rec = f2.recs[rid]
                if a != attr or (id(rec.node), "TXL202") in seen:
                    continue
                seen.add((id(rec.node), "TXL202"))
                out.append(Finding("TXL202", rec.node, rec, ((rec.node, "acq", ""), (stmt, "stored", attr)) + raised,
                                   False))
    return out


# ---------------------------------------------------------------------------- explanations
def _pos(ctx, node):
    """``ctx._position`` with room on the stack: libcst's position pass recurses once per
    nesting level (long ``elif`` chains), and the result is cached for ``ctx.finish``."""
    old = sys.getrecursionlimit()
    if old < 8000:
        sys.setrecursionlimit(8000)
    try:
        return ctx._position(node)
    except Exception:  # pragma: no cover - a node outside the module tree / too deep
        return (0, 0, 0, 0)
    finally:
        sys.setrecursionlimit(old)


def _line(ctx, node) -> int:
    return _pos(ctx, node)[0]


def why(ctx, finding: Finding) -> str:
    """The leaking exit of a finding's path, as the end of its one-sentence message
    (``when returning at line 7``, ``when execute() at line 6 raises``)."""
    from txlint.messages import clip

    for node, tag, info in reversed(finding.trace):
        line = _line(ctx, node)
        if tag == "ret":
            return f"when returning at line {line}"
        if tag == "fall":
            return f"when the function ends after line {_end_line(ctx, node)}"
        if tag == "brk":
            return f"when breaking out of the loop at line {line}"
        if tag == "reassign":
            return f"when '{clip(info, 30)}' is reassigned at line {line}"
        if tag == "exc":
            if info == "await":
                return f"when the await at line {line} raises"
            if info == "yield":
                return f"when an exception is thrown in at the yield at line {line}"
            return f"when {clip(info, 40)} at line {line} raises"
        if tag == "raise":
            return f"when the exception raised at line {line} propagates"
        if tag == "replace":
            return f"before {clip(info, 30)} is replaced at line {line}"
        if tag == "norelease":
            method, attr = info.split("\x00")
            stored = next((_line(ctx, n) for n, t, _ in finding.trace if t == "stored"), line)
            where = f" at line {line}" if line != stored else ""
            return f"by {clip(method, 20)}(){where} (stored on self.{clip(attr, 30)} at line {stored})"
    return "on some path"


def _end_line(ctx, node) -> int:
    return _pos(ctx, node)[2]


def trace_steps(ctx, finding: Finding) -> list:
    rec = finding.rec
    out = []
    for node, tag, info in finding.trace:
        if tag == "acq":
            note = f"{rec.kind.label} acquired here"
        elif tag == "tx":
            note = "transaction begun here"
        elif tag == "branch":
            note = info
        elif tag == "ret":
            note = f"returns here without {rec.closer}"
        elif tag == "fall":
            note = f"the function ends here without {rec.closer}"
        elif tag == "brk":
            note = f"breaks out of the loop here without {rec.closer}"
        elif tag == "reassign":
            note = f"'{info}' is reassigned here while still open"
        elif tag == "exc":
            note = ("an exception can be raised here" if info in ("await", "yield")
                    else f"an exception from {info} can be raised here")
            if not finding.normal:
                note += f" and propagates without {rec.closer}"
        elif tag == "raise":
            note = "raises here" + ("" if finding.normal else f" and propagates without {rec.closer}")
        elif tag == "stored":
            note = f"stored on self.{info} here: the object owns it"
        elif tag == "held":
            note = f"self.{info} may hold an open {rec.kind.label} here"
        elif tag == "replace":
            note = f"{info} is replaced here while it may still be open"
        elif tag == "norelease":
            method, attr = info.split("\x00")
            note = f"{method}() does not release self.{attr}"
        else:  # pragma: no cover
            note = info
        out.append((node, note))
    return out


def path_findings(ctx) -> list[Finding]:
    return ctx.fact("txlint.dataflow.findings", analyse_file)
