"""TXL403 connection-held-across-wait, and TXL404 for Redis clients held across such a loop.

Structural analysis over CPython :mod:`ast` (no libcst metadata):

* an *acquisition* is ``x = <call>`` (maybe awaited) or ``with <call> as x`` in a function whose
  result is a server-side connection or an ORM session (``ctx.table`` kinds), or
  ``self.x = <call>`` in ``__init__`` (then the loops of the class's other methods are examined);
* an *unbounded waiting loop* is a ``while True`` / flag-controlled ``while`` / ``for`` over
  ``pubsub.listen()`` / ``async for`` over a stream, whose body (not nested functions) waits
  (``resources.WAIT_FUNCTIONS`` / ``WAIT_METHODS``);
* the finding needs the acquired object (or a cursor / pubsub made from it) to be used in the loop,
  and no reassignment of it inside the loop (per-iteration acquisition, reconnect-on-error retry
  loops) and no close between the acquisition and the loop.
* A SQLAlchemy ``Session`` holds a connection only inside a transaction: it counts only when some
  path through the loop reaches a wait after using it without a later commit/rollback/close.

Module-level connections used in a wait loop are left to TXL401 (it reports their acquisition;
one outage, one finding) -- this rule does not report them again.  Redis clients created in a
function and held across such a loop without ``health_check_interval`` are TXL404 (module-level
and class-body clients are TXL404's own module, not this one).
"""

from __future__ import annotations

import ast
import collections
import re
from dataclasses import dataclass, field

from txlint import index as X
from txlint import resources as R
from txlint.context import ast_where
from txlint.messages import fit
from txlint import kinds as K
from txlint.registry import Rule, register

from txlint.rules._wait_examples import INVALID_403, VALID_403

_QUICK = re.compile(r"\bwhile\b|\bfor\b")
_WAIT_HINT = re.compile(r"sleep|wait|\.get\(|listen|brpop|blpop|brpoplpush|bzpop|recv|receive|xread|get_message|accept|select")
SESSION_ENDS = frozenset({"commit", "rollback", "close", "remove", "expunge_all"})
REACQUIRERS = frozenset({"connect", "reconnect", "_connect", "ensure_connection", "connect_db", "_reconnect"})
DERIVING = frozenset({"cursor", "pubsub", "pipeline", "connection", "chunked_cursor", "monitor",
                      "transaction"})


@dataclass
class Acq:
    name: str                 # "conn" or "self.conn"
    call: ast.Call
    kind: R.Kind
    region: list              # statements during which it is held
    aliases: set = field(default_factory=set)
    via_pool: bool = False
    ambient: str = ""         # "django" / "registry": not acquired here, opened by the first use
    owner: ast.AST | None = None   # the method that stores it on self (``self.x`` acquisitions)
    stmt: ast.AST | None = None    # the assignment that stores it


# ------------------------------------------------------------------ loops and waits
def _is_flag(test: ast.AST) -> bool:
    if isinstance(test, ast.Constant):
        return bool(test.value) and test.value is not Ellipsis
    if isinstance(test, (ast.Name, ast.Attribute)):
        return True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _is_flag(test.operand)
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and not test.args \
            and test.func.attr in ("is_set", "is_running", "running", "should_run", "keep_running"):
        return True
    if isinstance(test, ast.BoolOp):
        return all(_is_flag(v) for v in test.values)
    return False


def _stream_iter(view, loop, local) -> bool:
    it = loop.iter
    if isinstance(it, ast.Call):
        func = it.func
        if isinstance(func, ast.Attribute) and func.attr in _STREAM_ITERS:
            return True
        ref = view.ref(func, local) or ""
        if ref in ("itertools.count", "itertools.repeat") and not it.args[1:]:
            return True
        if isinstance(func, ast.Name) and func.id == "iter" and len(it.args) == 2:
            return True
        return False
    if isinstance(loop, ast.AsyncFor) and isinstance(it, (ast.Name, ast.Attribute)):
        kind = view.kind(it, local)
        return kind is None or kind.category not in (R.CURSOR, R.CONNECTION, R.SESSION)
    return False


_HOLDS_HINT = re.compile(r"\.objects\.|\.query\b|connection|cursor|[Ss]ession|engine")


def wait_loop_gate(gate) -> bool:
    """The rule's gate: the file holds something of the database (it acquires, or uses the ORM,
    a connection, a session or an engine) and some function of it has a loop that can go round
    forever (a flag ``while``, ``async for``, ``for`` over a stream such as ``pubsub.listen()``) and
    that waits, itself or in a method of its class that it calls."""
    holds = bool(_HOLDS_HINT.search(gate.ctx.text)) or bool(gate.path_candidates())
    bindings = gate.ctx.symbols.bindings
    waiting_methods: dict[int, set[str]] = {}
    for fn, cls, _env in gate.functions():
        for node in K.fn_nodes(fn):
            typ = type(node)
            if typ is ast.AsyncFor:
                return True
            if typ is ast.For and isinstance(node.iter, ast.Call):
                func = node.iter.func
                last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if last in _STREAM_ITERS:
                    return True
                if last in ("count", "repeat", "iter") and _loop_may_wait(node, cls, gate, waiting_methods) \
                        and (holds or _calls_a_function(node, bindings)):
                    return True
            elif typ is ast.While and _is_flag(node.test) and _loop_may_wait(node, cls, gate, waiting_methods) \
                    and (holds or _calls_a_function(node, bindings)):
                return True
    return False


def _calls_a_function(loop, bindings) -> bool:
    """The loop calls a function of a module, ``f()`` or ``module.f()`` (its database use may sit
    in another file)."""
    for call in _calls_in(K.statements(loop.body)):
        func = call.func
        if isinstance(func, ast.Name) and func.id not in _BUILTIN_CALLS:
            return True
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in bindings:
            return True
    return False


_BUILTIN_CALLS = frozenset(dir(__import__("builtins")))
_WAIT_NAMES = frozenset(R.WAIT_METHODS) | frozenset(f.rsplit(".", 1)[-1] for f in R.WAIT_FUNCTIONS)


def _calls_in(nodes) -> list:
    return [n for n in nodes if type(n) is ast.Call]


def _loop_may_wait(loop, cls, gate, memo: dict) -> bool:
    """A call named like a wait in the loop, or a call of a method of the class that has one."""
    helpers = None
    for call in _calls_in(K.statements(loop.body)):
        func = call.func
        last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if last in _WAIT_NAMES:
            return True
        if cls is not None and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if helpers is None:
                helpers = memo.get(id(cls))
                if helpers is None:
                    helpers = memo[id(cls)] = {
                        m.name for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and any(getattr(c.func, "attr", getattr(c.func, "id", "")) in _WAIT_NAMES
                                for c in _calls_in(K.fn_nodes(m)))}
            if last in helpers:
                return True
        elif isinstance(func, ast.Name) and func.id not in _BUILTIN_CALLS:
            return True  # a function of the project or a library: its waits are not looked for here
    return False


_STREAM_ITERS = frozenset({"listen", "iter_text", "iter_json", "iter_bytes", "iter_messages", "notifies"})


def unbounded(view, loop, local) -> bool:
    if isinstance(loop, ast.While):
        return _is_flag(loop.test)
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        return _stream_iter(view, loop, local)
    return False


def is_wait(view, call: ast.Call, local) -> bool:
    ref = view.ref(call.func, local)
    if ref in R.WAIT_FUNCTIONS:
        return True
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in R.WAIT_METHODS:
        return False
    attr = func.attr
    kws = {k.arg: k.value for k in call.keywords}
    if attr == "get":
        if call.args:
            return isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, bool) \
                and call.args[0].value is True
        return set(kws) <= {"block", "timeout"}
    if attr == "get_message":
        t = kws.get("timeout")
        return t is not None and not (isinstance(t, ast.Constant) and t.value in (0, 0.0))
    if attr == "xread":
        return "block" in kws
    if attr == "wait" and ref and ref.startswith(("subprocess", "os.")):
        return False
    return True


def loop_waits(view, loop, local) -> list[ast.AST]:
    """Waits of a loop; none when every wait sits in an ``except`` handler (a retry with back-off:
    the loop goes round again only after an error, it does not idle between pieces of work)."""
    out: list[ast.AST] = []
    if isinstance(loop, (ast.For, ast.AsyncFor)) and _stream_iter(view, loop, local):
        out.append(loop.iter)
    in_handlers: set[int] = set()
    for node in _walk(loop.body):
        if isinstance(node, ast.ExceptHandler):
            in_handlers.update(id(n) for n in ast.walk(node))
    normal = 0
    for node in _walk(loop.body + getattr(loop, "orelse", [])):
        if isinstance(node, ast.Call) and is_wait(view, node, local):
            out.append(node)
            if id(node) not in in_handlers:
                normal += 1
    if out and not normal and not (isinstance(loop, (ast.For, ast.AsyncFor)) and _stream_iter(view, loop, local)):
        return []
    return out


def _walk(stmts):
    for stmt in stmts:
        yield from X.walk_function(ast.Module(body=[stmt], type_ignores=[]))


def _blocks(stmt: ast.AST) -> list[list]:
    out = []
    for name in ("body", "orelse", "finalbody"):
        block = getattr(stmt, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            out.append(block)
    for h in getattr(stmt, "handlers", []) or []:
        out.append(h.body)
    for c in getattr(stmt, "cases", []) or []:
        out.append(c.body)
    return out


def _loops_in(stmts) -> list[ast.AST]:
    """Outermost loops in a region (not entering nested functions)."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, (ast.While, ast.For, ast.AsyncFor)):
            out.append(stmt)
        for block in _blocks(stmt):
            out.extend(_loops_in(block))
    return out


# ------------------------------------------------------------------ names and uses
def _target_name(t: ast.AST) -> str | None:
    if isinstance(t, ast.Name):
        return t.id
    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
        return "self." + t.attr
    return None


def _expr_name(node: ast.AST) -> str | None:
    return _target_name(node)


def _uses(stmts, names: set[str]) -> list[ast.AST]:
    out = []
    for node in _walk(stmts):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
            out.append(node)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and \
                isinstance(node.value, ast.Name) and node.value.id == "self" and f"self.{node.attr}" in names:
            out.append(node)
    return out


def _assigned(stmts, names: set[str]) -> bool:
    for node in _walk(stmts):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
        for t in targets:
            for sub in ast.walk(t):
                if _target_name(sub) in names:
                    return True
    return False


def _unwrap(value: ast.AST) -> ast.AST:
    while isinstance(value, ast.Await):
        value = value.value
    return value


def _expr_kind(view, node: ast.AST, local, attrs=None) -> R.Kind | None:
    """Kind of an expression; ``self.x...`` chains through the kinds of the class's attributes."""
    kind = view.kind(node, local)
    if kind is None and attrs:
        root, suffix = X.ast_chain(node)
        head = re.match(r"\.(\w+)", suffix) if root == "self" else None
        base = attrs.get("self." + head.group(1)) if head else None
        if base is not None:
            kind = view.table.kind_of_ref(R.kind_ref(base.name) + suffix[head.end():])
    return kind


def _kind_of_call(view, call: ast.AST, local, attrs=None) -> R.Kind | None:
    call = _unwrap(call)
    if not isinstance(call, ast.Call):
        return None
    kind = _expr_kind(view, call, local, attrs)
    if kind is None and isinstance(call.func, ast.Attribute):
        owner = _expr_kind(view, call.func.value, local, attrs)
        if owner is not None and call.func.attr in owner.cm_methods:
            kind = view.table.kind(owner.cm_methods[call.func.attr][0])
    return kind


def _cursor_holder(view, call: ast.AST, local, attrs=None) -> R.Kind | None:
    """The connection a ``cursor()`` call keeps in use when nobody acquires that connection here:
    Django's per-thread connection (``connection.cursor()``, ``connections["x"].cursor()``), opened
    by its first use and kept until closed.  ``None`` otherwise."""
    call = _unwrap(call)
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
        return None
    owner = _expr_kind(view, call.func.value, local, attrs)
    if owner is None or owner.category != R.CONNECTION or not owner.server_side or owner.resource:
        return None
    made = view.table.kind(owner.methods.get(call.func.attr))
    return owner if made is not None and made.category == R.CURSOR else None


def _holds(kind: R.Kind | None) -> str | None:
    """"conn" for connections holding a server connection, "session" for ORM sessions,
    "redis" for Redis clients and pools.  (A server-side connection that is no resource, Django's,
    is acquired by nobody: only a cursor taken from it holds it, see :func:`_cursor_holder`.)"""
    if kind is None:
        return None
    if kind.category == R.CONNECTION and kind.server_side:
        return "conn"
    if kind.category == R.SESSION:
        return "session"
    if kind.category == R.REDIS:
        return "redis"
    return None


# ------------------------------------------------------------------ session transaction state
class _SessionFlow:
    """Does some path reach a wait with the session used since its last commit/rollback/close?"""

    def __init__(self, view, names, local, matcher=None, helpers=None):
        self.view, self.names, self.local = view, names, local
        self.matcher = matcher or (lambda node: _expr_name(node) in names)
        self.hit: tuple[ast.AST, ast.AST] | None = None   # (wait, last use)
        self.loopback: set = set()
        #: ``self.m()`` / ``self.prop`` -> the method it runs (helpers of the class, inlined)
        self.helpers = helpers
        self._inlined: list = []
        self._returns: list[set] = []

    def _events(self, node):
        evs = []
        called: set[int] = set()
        for n in _walk([node]) if isinstance(node, ast.stmt) else ast.walk(node):
            if isinstance(n, ast.Call):
                f = n.func
                called.add(id(f))
                if isinstance(f, ast.Attribute) and self.matcher(f.value):
                    evs.append((n, "end" if f.attr in SESSION_ENDS else "use"))
                elif self.matcher(f):
                    evs.append((n, "use"))
                elif self.helpers is not None and self.helpers(f) is not None:
                    evs.append((n, "helper"))
                elif is_wait(self.view, n, self.local):
                    evs.append((n, "wait"))
            elif isinstance(n, (ast.Name, ast.Attribute)) and isinstance(n.ctx, ast.Load) and \
                    _expr_name(n) in self.names:
                evs.append((n, "mention"))
            elif isinstance(n, ast.Attribute) and id(n) not in called and self.helpers is not None and \
                    isinstance(n.ctx, ast.Load) and self.helpers(n, True) is not None:
                evs.append((n, "helper"))    # a property of the class
        evs.sort(key=lambda e: (getattr(e[0], "end_lineno", 0), getattr(e[0], "end_col_offset", 0)))
        return evs

    def simple(self, stmt, state):
        mentioned = {id(e[0].func.value) for e in self._events(stmt) if isinstance(e[0], ast.Call)
                     and isinstance(e[0].func, ast.Attribute)}
        for node, ev in self._events(stmt):
            if ev == "mention" and id(node) in mentioned:
                continue
            if ev in ("use", "mention"):
                state = {("dirty", node)}
            elif ev == "end":
                state = {("clean", None)}
            elif ev == "helper":
                state = self.inline(self.helpers(node.func if isinstance(node, ast.Call) else node, True), state)
            elif ev == "wait":
                for st, last in state:
                    if st == "dirty" and self.hit is None:
                        self.hit = (node, last)
        return state

    def inline(self, fn, state):
        """The state after running a helper method of the class from ``state``."""
        if fn is None or fn in self._inlined or len(self._inlined) >= 3:
            return state
        self._inlined.append(fn)
        self._returns.append(set())
        end = self.block(fn.body, set(state))
        end |= self._returns.pop()
        self._inlined.pop()
        return end

    def block(self, stmts, state, trace=None):
        for stmt in stmts:
            if not state:
                return state
            state = self.stmt(stmt, state, trace)
            if trace is not None:
                trace |= state
        return state

    def stmt(self, stmt, state, trace=None):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return state
        if isinstance(stmt, ast.If):
            state = self.simple(stmt.test, state)
            return self.block(stmt.body, set(state), trace) | self.block(stmt.orelse, set(state), trace)
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            head = stmt.test if isinstance(stmt, ast.While) else stmt.iter
            state = self.simple(head, state)
            out = set(state)
            cur = set(state)
            for _ in range(2):
                cur = self.block(stmt.body, set(cur), trace)
                out |= cur
            return self.block(stmt.orelse, out, trace) | out
        if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            seen = set(state)
            end = self.block(stmt.body, set(state), seen)
            end = self.block(stmt.orelse, end, trace)
            for h in stmt.handlers:
                end |= self.block(h.body, set(seen), trace)
            if stmt.finalbody:
                end = self.block(stmt.finalbody, end | seen, trace)
            return end
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            ends = False
            for item in stmt.items:
                state = self.simple(item.context_expr, state)
                e = _unwrap(item.context_expr)
                if isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and \
                        self.matcher(e.func.value) and e.func.attr in ("begin", "begin_nested"):
                    ends = True
            state = self.block(stmt.body, state, trace)
            return {("clean", None)} if ends and state else state
        if isinstance(stmt, (ast.Break, ast.Return, ast.Raise)):
            if isinstance(stmt, ast.Return) and stmt.value is not None:
                state = self.simple(stmt.value, state)
            if isinstance(stmt, ast.Return) and self._returns:
                self._returns[-1] |= state    # back to the caller of an inlined helper
            return set()
        if isinstance(stmt, ast.Continue):
            self.loopback |= state
            return set()
        return self.simple(stmt, state)


def session_hit(view, loop, names, local, entry_dirty, matcher=None, helpers=None):
    flow = _SessionFlow(view, names, local, matcher, helpers)
    state = {("dirty", None)} if entry_dirty else {("clean", None)}
    head_waits = isinstance(loop, (ast.For, ast.AsyncFor)) and _stream_iter(view, loop, local)
    for _ in range(3):
        if head_waits:
            for st, last in state:
                if st == "dirty" and flow.hit is None and last is not None:
                    flow.hit = (loop.iter, last)
        end = flow.block(loop.body, set(state)) | flow.loopback
        flow.loopback = set()
        new = state | end
        if new == state:
            break
        state = new
    return flow.hit


# ------------------------------------------------------------------ the analysis
@dataclass
class Finding:
    acq: Acq
    loop: ast.AST
    wait: ast.AST
    use: ast.AST


def _local_refs(view, fn) -> dict:
    local: dict = {n: None for n in X.local_names(fn)}
    assigns = [n for n in X.walk_function(fn) if isinstance(n, (ast.Assign, ast.AnnAssign, ast.With, ast.AsyncWith))]
    assigns.sort(key=lambda n: (n.lineno, n.col_offset))
    for node in assigns:
        pairs = []
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            pairs = [(node.target, node.value)]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    e = _unwrap(item.context_expr)
                    ref = view.ref(e, local)
                    kind = _kind_of_call(view, e, local)
                    if kind is not None and ref:
                        # with engine.connect() as conn / with pool.acquire() as conn
                        ref = _ref_for_kind(view, kind) or ref
                    pairs.append((item.optional_vars, ref))
        for target, value in pairs:
            if isinstance(target, ast.Name) and local.get(target.id) is None:
                local[target.id] = value if isinstance(value, str) or value is None else view.ref(_unwrap(value), local)
    return local


def _ref_for_kind(view, kind: R.Kind) -> str | None:
    for name, k in view.table.factories.items():
        if k == kind.name:
            return name + "()"
    return None


def _has_waiting_loop(view, stmts) -> bool:
    """Cheap pre-check: some unbounded loop in these statements waits."""
    for loop in _all_loops(stmts):
        if unbounded(view, loop, {}) and loop_waits(view, loop, {}):
            return True
    return False


def _all_loops(stmts):
    for loop in _loops_in(stmts):
        yield loop
        yield from _all_loops(loop.body)


def analyse_function(view, fn, cls_inits=None) -> list[Finding]:
    if not _has_waiting_loop(view, fn.body):
        return []
    local = _local_refs(view, fn)
    acqs: list[Acq] = []

    def scan(stmts):
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                kind = _kind_of_call(view, stmt.value, local)
                holds = _holds(kind)
                if not holds:
                    kind = _cursor_holder(view, stmt.value, local)
                    holds = _holds(kind)
                if holds and len(targets) == 1 and isinstance(targets[0], ast.Name):
                    acqs.append(Acq(targets[0].id, _unwrap(stmt.value), kind, stmts[i + 1:]))
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is None or not isinstance(item.optional_vars, ast.Name):
                        continue
                    kind = _kind_of_call(view, item.context_expr, local)
                    if not _holds(kind):
                        kind = _cursor_holder(view, item.context_expr, local)
                    if _holds(kind):
                        acqs.append(Acq(item.optional_vars.id, _unwrap(item.context_expr), kind, stmt.body))
            for block in _blocks(stmt):
                scan(block)

    scan(fn.body)
    out = []
    for acq in acqs:
        f = judge(view, acq, local, fn)
        if f is not None:
            out.append(f)
    return out


def _aliases(view, acq: Acq, local, scope_stmts, start: set[str] | None = None) -> set[str]:
    names = set(start) if start else {acq.name}
    for _ in range(3):
        for node in _walk(scope_stmts):
            pairs = []
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                pairs = [(node.targets[0], node.value)]
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                pairs = [(i.optional_vars, i.context_expr) for i in node.items if i.optional_vars is not None]
            for target, value in pairs:
                tname = _target_name(target)
                value = _unwrap(value)
                if tname is None or tname in names:
                    continue
                if _derived_from(value, names):
                    names.add(tname)
    return names


def judge(view, acq: Acq, local, fn) -> Finding | None:
    names = _aliases(view, acq, local, acq.region)
    for loop in _loops_in(acq.region):
        found = _judge_loop(view, acq, names, loop, local, acq.region)
        if found is not None:
            return found
    return None


def _waits_not_on(waits, names, loop=None) -> list:
    """Drop waits on the connection itself (LISTEN/NOTIFY: ``select.select([conn], ...)``,
    ``conn.notifies()``): there the connection is what the loop waits for, not an idle bystander.
    Given the loop, none are left when all that remain sit in ``except`` handlers (back-off)."""
    out = []
    for w in waits:
        mentioned = any(_target_name(n) in names for n in ast.walk(w))
        if not mentioned:
            out.append(w)
    if loop is not None and out and len(out) < len(waits):
        handlers = {id(n) for h in _walk(loop.body) if isinstance(h, ast.ExceptHandler) for n in ast.walk(h)}
        if all(id(w) in handlers for w in out):
            return []
    return out


def _closed_before(acq: Acq, names, loop) -> bool:
    for node in _walk(acq.region):
        if getattr(node, "lineno", 0) >= loop.lineno:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                _expr_name(node.func.value) in names and node.func.attr in (acq.kind.closers | {"close", "remove"}):
            return True
    return False


def _judge_loop(view, acq: Acq, names, loop, local, region) -> Finding | None:
    if not unbounded(view, loop, local):
        # a bounded loop may still hold an unbounded one inside
        for inner in _loops_in(loop.body):
            found = _judge_loop(view, acq, names, inner, local, region)
            if found is not None:
                return found
        return None
    waits = loop_waits(view, loop, local)
    if _holds(acq.kind) != "redis":
        waits = _waits_not_on(waits, names, loop)   # a Redis client waiting on its own socket is TXL404's case
    if not waits:
        return None
    uses = _uses(loop.body, names) + (_uses([ast.Expr(loop.iter)], names) if isinstance(loop, (ast.For, ast.AsyncFor)) else [])
    if not uses:
        return None
    if _assigned(loop.body, {acq.name}):
        return None  # per-iteration acquisition, or reconnect on error
    if _calls_reconnect(loop):
        return None
    if _closed_before(acq, names, loop):
        return None
    if _refreshes_ambient(view, loop.body, acq.kind, local):
        return None
    holds = _holds(acq.kind)
    if holds == "session":
        entry_dirty = any(u.lineno < loop.lineno for u in _uses(region, names))
        hit = session_hit(view, loop, names, local, entry_dirty and not _ended_before(region, names, loop))
        if hit is None:
            return None
        wait, last = hit
        return Finding(acq, loop, wait, last if last is not None else uses[0])
    uses.sort(key=lambda n: (n.lineno, n.col_offset))
    waits.sort(key=lambda n: (n.lineno, n.col_offset))
    return Finding(acq, loop, waits[0], uses[0])


def _refreshes_ambient(view, stmts, kind: R.Kind, local, attrs=None) -> bool:
    """A connection nobody acquires (Django's) is refreshed in these statements: ``close_old_connections()``
    or a ``close()`` of it, after which its next use opens a new one."""
    if kind.resource:
        return False
    for node in _walk(stmts):
        if not isinstance(node, ast.Call):
            continue
        if view.ref(node.func, local) in R.CONNECTION_REFRESHERS:
            return True
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "close" and \
                getattr(_expr_kind(view, func.value, local, attrs), "name", None) == kind.name:
            return True
    return False


def _ended_before(region, names, loop) -> bool:
    last = None
    for node in _walk(region):
        if getattr(node, "lineno", 0) >= loop.lineno:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _expr_name(node.func.value) in names:
            if last is None or (node.lineno, node.col_offset) > (last[0].lineno, last[0].col_offset):
                last = (node, node.func.attr in SESSION_ENDS)
    return bool(last and last[1])


def _calls_reconnect(loop) -> bool:
    for node in _walk(loop.body):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in REACQUIRERS and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                    and f.value.id == "self":
                return True
    return False


# ------------------------------------------------------------------ connections kept on self (contract §12, §14)
#: decorators that make a method an attribute read (``self.conn`` runs the getter)
PROPERTY_DECORATORS = frozenset({"property", "cached_property", "reify", "lazy_property"})
#: helper methods followed from a loop (calls of calls ...)
HELPER_DEPTH = 3


def class_attr_kinds(ctx, cls: ast.ClassDef) -> dict:
    """``{"self.x": Kind}`` for the attributes of a class: the one place this rule asks what an
    attribute is (contract §13: what any method or the class body assigns or annotates), answered
    by :mod:`txlint.kinds`."""
    from txlint.kinds import class_of

    kr = ctx.resolver
    info = class_of(kr, cls)
    if info is None:
        return {}
    out = {}
    for name, ref in info.attrs().items():
        kind = kr.kind_of(ref)
        if kind is not None:
            out[f"self.{name}"] = kind
    return out


def method_value_kind(ctx, cls: ast.ClassDef, method, node: ast.AST):
    """Kind of what an expression inside a method gives (``self._connect()``, ``db.get_conn()``,
    ``self.engine.connect()``): the one place this rule asks :mod:`txlint.kinds` about values."""
    from txlint.kinds import class_of, function_env

    kr = ctx.resolver
    return kr.kind_of(function_env(kr, method, class_of(kr, cls)).ref(node))


@dataclass
class _Members:
    """A class seen by this rule: its methods, which of them are properties, and the kinds of its
    attributes (computed on first need)."""
    ctx: object
    view: object
    cls: ast.ClassDef
    methods: dict = field(default_factory=dict)
    props: set = field(default_factory=set)
    _attrs: dict | None = None

    @classmethod
    def of(cls_, ctx, view, cls: ast.ClassDef) -> "_Members":
        out = cls_(ctx, view, cls)
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name not in out.methods:
                out.methods[stmt.name] = stmt
                for dec in stmt.decorator_list:
                    last = dec.attr if isinstance(dec, ast.Attribute) else dec.id if isinstance(dec, ast.Name) else ""
                    if last in PROPERTY_DECORATORS:
                        out.props.add(stmt.name)
        return out

    def attrs(self) -> dict:
        if self._attrs is None:
            self._attrs = class_attr_kinds(self.ctx, self.cls)
        return self._attrs

    def helper(self, node: ast.AST, properties: bool = False):
        """The method ``self.m`` names (``properties``: the caller reads an attribute, not a call)."""
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            return self.methods.get(node.attr)
        return None

    def calls_in(self, stmts) -> list[tuple[ast.AST, ast.AST]]:
        """(node, method) for each ``self.m(...)`` call and ``self.prop`` read in these statements."""
        out = []
        called: set[int] = set()
        for node in _walk(stmts):
            if isinstance(node, ast.Call):
                called.add(id(node.func))
                m = self.helper(node.func)
                if m is not None:
                    out.append((node, m))
            elif isinstance(node, ast.Attribute) and id(node) not in called and isinstance(node.ctx, ast.Load) \
                    and node.attr in self.props:
                m = self.helper(node, True)
                if m is not None:
                    out.append((node, m))
        return out

    def reach(self, methods) -> list[ast.AST]:
        """The methods given and every method of the class they call, up to HELPER_DEPTH deep."""
        out = list(dict.fromkeys(methods))
        frontier = list(out)
        for _ in range(HELPER_DEPTH):
            nxt = []
            for m in frontier:
                for _, callee in self.calls_in(m.body):
                    if callee not in out:
                        out.append(callee)
                        nxt.append(callee)
            frontier = nxt
        return out


def _member_acquisitions(view, members: _Members) -> list[Acq]:
    """``self.x = <acquiring call>`` (or ``= local`` bound to one) in any method, in source order."""
    out: list[Acq] = []
    for m in members.methods.values():
        assigns = []
        for node in X.walk_function(m):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                assigns.append((node, node.targets[0], node.value))
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                assigns.append((node, node.target, node.value))
        stored = [(n, _target_name(t), v) for n, t, v in assigns
                  if (_target_name(t) or "").startswith("self.") and isinstance(_unwrap(v), (ast.Call, ast.Name))]
        if not stored:
            continue
        forwarded = {v.id for _, _, v in stored if isinstance(v, ast.Name)}
        local = _local_refs(view, m)
        held: dict[str, tuple] = {}
        for node, target, value in assigns:
            call = _unwrap(value)
            name = _target_name(target)
            if isinstance(target, ast.Name):
                if target.id not in forwarded:
                    continue
            elif not name or not name.startswith("self."):
                continue
            kind = None
            if isinstance(call, ast.Call):
                attrs = members.attrs() if X.ast_chain(call)[0] == "self" else None
                kind = _kind_of_call(view, call, local, attrs)
                if not _holds(kind):
                    kind = _cursor_holder(view, call, local, attrs)
                if not _holds(kind):
                    kind = method_value_kind(members.ctx, members.cls, m, call)
            if isinstance(target, ast.Name):
                if _holds(kind):
                    held[target.id] = (call, kind)
                else:
                    held.pop(target.id, None)
            elif _holds(kind):
                out.append(Acq(name, call, kind, [], owner=m, stmt=node))
            elif isinstance(value, ast.Name) and value.id in held:
                c, k = held[value.id]
                out.append(Acq(name, c, k, [], owner=m, stmt=node))
    out.sort(key=lambda a: (a.call.lineno, a.call.col_offset))
    return out


def _member_names(view, members: _Members, name: str) -> set[str]:
    """``self.x`` and what stands for it anywhere in the class: attributes derived from it
    (``self._pubsub = self._redis.pubsub()``, clients on ``connection_pool=self.pool``), and
    properties and getters that return it."""
    names = {name}
    for _ in range(3):
        before = len(names)
        for m in members.methods.values():
            for node in X.walk_function(m):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    tname = _target_name(node.targets[0])
                    if tname and tname.startswith("self.") and tname not in names and \
                            _derived_from(_unwrap(node.value), names):
                        names.add(tname)
                elif isinstance(node, ast.Return) and node.value is not None and f"self.{m.name}" not in names \
                        and _target_name(_unwrap(node.value)) in names:
                    names.add(f"self.{m.name}")
        if len(names) == before:
            break
    return names


def _derived_from(value: ast.AST, names: set[str]) -> bool:
    """``value`` stands for one of ``names``: the thing itself, something made from it (a cursor,
    a pubsub), what a getter of it returns, or a Redis client on ``connection_pool=`` it (judged by
    the pool)."""
    node, hit = value, False
    while True:
        if _target_name(node) in names:
            hit = True
            break
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        else:
            break
    if hit and (isinstance(value, (ast.Name, ast.Attribute)) or (
            isinstance(value, ast.Call) and (_target_name(value.func) in names or (
                isinstance(value.func, ast.Attribute) and value.func.attr in DERIVING)))):
        return True
    return isinstance(value, ast.Call) and any(
        _target_name(k.value) in names for k in value.keywords if k.arg == "connection_pool")


def _guarded_assignments(stmts, name: str) -> set[int]:
    """Assignments to ``name`` under an ``if`` that tests it (``if self.conn is None:``): lazy
    initialisation, which keeps what is already there rather than replacing it."""
    out: set[int] = set()

    def visit(block, guarded):
        for stmt in block:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(stmt, ast.If):
                g = guarded or _mentions(stmt.test, name)
                visit(stmt.body, g)
                visit(stmt.orelse, g)
                continue
            if guarded and isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                out.add(id(stmt))
            for b in _blocks(stmt):
                visit(b, guarded)

    visit(stmts, False)
    return out


def _mentions(test: ast.AST, name: str) -> bool:
    attr = name.split(".", 1)[1]
    for n in ast.walk(test):
        if _target_name(n) == name or (isinstance(n, ast.Constant) and n.value == attr):
            return True
    return False


def _member_refreshed(view, members: _Members, acq: Acq, names: set[str], stmts, local) -> bool:
    """Does the loop (these statements and the helpers they reach) replace or drop what ``self.x``
    holds?  An assignment that is not lazy initialisation (per-iteration acquisition, reconnect on
    error, ``self.conn = None``), a close or a liveness check with reconnect (``ping``) of it, a
    ``self.connect()`` the class inherits, or, for Django's connection, ``close_old_connections()``."""
    if _calls_reconnect_unknown(stmts, members):
        return True
    bodies = [stmts] + [m.body for m in members.reach([m for _, m in members.calls_in(stmts)])]
    closers = acq.kind.closers | {"close", "remove"} | R.CONNECTION_RECHECKS
    for body in bodies:
        guarded = _guarded_assignments(body, acq.name)
        for node in _walk(body):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and id(node) not in guarded:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(_target_name(sub) == acq.name for t in targets for sub in ast.walk(t)):
                    return True
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                if any(i.optional_vars is not None and _target_name(i.optional_vars) == acq.name for i in node.items):
                    return True
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in closers and _expr_name(node.func.value) in names:
                return True
        if _refreshes_ambient(view, body, acq.kind, local, members.attrs() if not acq.kind.resource else None):
            return True
    return False


def _calls_reconnect_unknown(stmts, members: _Members) -> bool:
    """``self.connect()`` / ``self.reconnect()`` of a method the class does not define (inherited)."""
    for node in _walk(stmts):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in REACQUIRERS and isinstance(node.func.value, ast.Name) and \
                node.func.value.id == "self" and node.func.attr not in members.methods:
            return True
    return False


def _member_waits(view, members: _Members, loop, local) -> list[ast.AST]:
    """Waits of a loop, counting a helper method the loop calls (outside ``except``) that waits."""
    waits = loop_waits(view, loop, local)
    in_handlers: set[int] = set()
    for node in _walk(loop.body):
        if isinstance(node, ast.ExceptHandler):
            in_handlers.update(id(n) for n in ast.walk(node))
    for node, m in members.calls_in(loop.body):
        if id(node) in in_handlers:
            continue
        for h in members.reach([m]):
            hlocal = {n: None for n in X.local_names(h)}
            if any(is_wait(view, n, hlocal) for n in _unconditional_calls(h.body)):
                waits.append(node)
                break
    return waits


def _unconditional_calls(stmts):
    """Calls that run every time these statements run: not under ``if``, in a loop or in an
    ``except`` handler (``if block: queue.get()`` is no wait when called with ``block=False``)."""
    for stmt in stmts:
        if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)) or type(stmt).__name__ == "Match":
            continue
        if isinstance(stmt, (ast.Try, ast.With, ast.AsyncWith)) or type(stmt).__name__ == "TryStar":
            for item in getattr(stmt, "items", []):
                yield from (n for n in ast.walk(item.context_expr) if isinstance(n, ast.Call))
            yield from _unconditional_calls(stmt.body)
            yield from _unconditional_calls(getattr(stmt, "finalbody", []))
            continue
        yield from (n for n in ast.walk(stmt) if isinstance(n, ast.Call))


def _stores_on_self(members: _Members) -> bool:
    """Cheap pre-check: some method stores a call's result (or a local) on ``self``."""
    for m in members.methods.values():
        for node in X.walk_function(m):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and \
                    isinstance(_unwrap(node.value), (ast.Call, ast.Name)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any((_target_name(t) or "").startswith("self.") for t in targets):
                    return True
    return False


def _has_member_loop(view, members: _Members) -> bool:
    for m in members.methods.values():
        for loop in _all_loops(m.body):
            if unbounded(view, loop, {}) and (loop_waits(view, loop, {}) or members.calls_in(loop.body)):
                return True
    return False


def analyse_class(ctx, view, cls: ast.ClassDef, members: _Members | None = None) -> list[Finding]:
    """A connection, session or Redis client stored on ``self.x`` by any method and used inside a
    waiting loop of a method (directly, or through helper methods and properties the loop calls):
    reported at the first acquisition.  Not when the loop replaces or refreshes it."""
    members = members or _Members.of(ctx, view, cls)
    if not members.methods or not _stores_on_self(members) or not _has_member_loop(view, members):
        return []
    acqs = _member_acquisitions(view, members)
    out: list[Finding] = []
    done: set[str] = set()
    for acq in acqs:
        if acq.name in done:
            continue
        done.add(acq.name)   # one finding per attribute, at its first acquisition
        names = _member_names(view, members, acq.name)
        for m in members.methods.values():
            found = None
            for loop in _loops_in(m.body):
                found = _judge_member_loop(view, members, acq, names, loop, m)
                if found:
                    break
            if found:
                out.append(found)
                break
    return out


def _judge_member_loop(view, members: _Members, acq: Acq, names: set[str], loop, method, local=None):
    if local is None:
        local = _local_refs(view, method)
    if not unbounded(view, loop, local):
        for inner in _loops_in(loop.body):
            f = _judge_member_loop(view, members, acq, names, inner, method, local)
            if f:
                return f
        return None
    waits = _member_waits(view, members, loop, local)
    # local aliases in the loop's method (``pubsub = self.redis.pubsub()``, ``conn = self.conn``)
    names = _aliases(view, acq, local, method.body, names)
    if _holds(acq.kind) != "redis":
        waits = _waits_not_on(waits, names, loop)
    if not waits:
        return None
    region = loop.body + loop.orelse
    uses = _uses(region, names)
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        uses += _uses([ast.Expr(loop.iter)], names)
    for node, m in members.calls_in(region):
        if any(_uses(h.body, names) for h in members.reach([m])):
            uses.append(node)
    if not uses:
        return None
    if _member_refreshed(view, members, acq, names, region, local):
        return None
    if _holds(acq.kind) == "session":
        hit = session_hit(view, loop, names, local, False, helpers=members.helper)
        if hit is None:
            return None
        wait, last = hit
        return Finding(acq, loop, wait, last if last is not None else min(uses, key=_key))
    return Finding(acq, loop, min(waits, key=_key), min(uses, key=_key))


def _key(node) -> tuple[int, int]:
    return node.lineno, node.col_offset


def _django_model(ctx, view, node, depth=0) -> bool:
    target = X.definition(ctx, view, node)
    if target is None or not isinstance(target[1], ast.ClassDef) or depth > X.MAX_DEPTH:
        return False
    tview, cls = target
    for base in cls.bases:
        ref = tview.ref(base) or ""
        if ref in ("django.db.models.Model", "django.db.models.base.Model"):
            return True
        if base is not node and _django_model(ctx, tview, base, depth + 1):
            return True
    return False


def _django_use(ctx, view, node, local) -> bool:
    """``Model.objects...`` of a Django model, or ``connection.cursor()`` / ``connections[...]``."""
    if isinstance(node, ast.Attribute) and node.attr == "objects":
        root, _ = X.ast_chain(node.value)
        return root is not None and root not in local and _django_model(ctx, view, node.value)
    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)):
        kind = view.kind(node, local)
        return kind is not None and kind.name in ("django.connection", "django.connections")
    return False


def _helper_bodies(ctx, view, stmts, members=None, local=()) -> list[tuple[ast.AST, list]]:
    """(call in ``stmts``, [(view, function)]) for each call of a helper whose code runs there: a
    method of the class (``self.poll()``, ``self.prop``, and what they call in turn) or a project
    function (``process_jobs()``, ``jobs.run_next()``)."""
    out = []
    seen: set[int] = set()
    if members is not None:
        for node, m in members.calls_in(stmts):
            seen.add(id(node))
            out.append((node, [(view, h) for h in members.reach([m])]))
    for node in _walk(stmts):
        if isinstance(node, ast.Call) and id(node) not in seen:
            root, _ = X.ast_chain(node.func)
            if root in (None, "self", "cls") or root in local:
                continue
            target = X.definition(ctx, view, node.func)
            if target is not None and isinstance(target[1], (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((node, [target]))
    return out


def _django_through_helpers(ctx, view, loop, members, local) -> tuple[list[ast.AST], bool]:
    """Calls in the loop whose helpers use Django's connection, and whether some helper refreshes it
    (``close_old_connections()`` also through a project wrapper of it)."""
    memo: dict[int, tuple[bool, bool]] = {}

    def scan(hview, h, depth) -> tuple[bool, bool]:
        if id(h) in memo:
            return memo[id(h)]
        memo[id(h)] = (False, False)
        hlocal = {n: None for n in X.local_names(h)}
        used = refresh = False
        for node in _walk(h.body):
            if isinstance(node, ast.Call) and hview.ref(node.func, hlocal) in R.CONNECTION_REFRESHERS:
                refresh = True
            elif not used and _django_use(ctx, hview, node, hlocal):
                used = True
        if depth < HELPER_DEPTH - 1 and not refresh:
            for _, targets in _helper_bodies(ctx, hview, h.body, None, hlocal):
                for tview, t in targets:
                    u, r = scan(tview, t, depth + 1)
                    used, refresh = used or u, refresh or r
        memo[id(h)] = (used, refresh)
        return used, refresh

    uses, refresh = [], False
    for call, targets in _helper_bodies(ctx, view, loop.body, members, local):
        for hview, h in targets:
            u, r = scan(hview, h, 0)
            refresh = refresh or r
            if u and call not in uses:
                uses.append(call)
    return uses, refresh


def analyse_ambient(ctx, view, fn, members=None) -> list[Finding]:
    """Connections nobody acquires in the function: Django's per-thread connection (opened by the
    first query, kept until closed; also through helpers the loop calls) and scoped session
    registries (``db.session``, ``Model.query``, ``Session``) used in a waiting loop."""
    if not _has_waiting_loop(view, fn.body):
        return []
    local = {n: None for n in X.local_names(fn)}
    out: list[Finding] = []
    for loop in _all_loops(fn.body):
        if not unbounded(view, loop, local):
            continue
        waits = loop_waits(view, loop, local)
        if not waits:
            continue
        django: list[ast.AST] = []
        registry: list[ast.AST] = []
        refresh = False
        for node in _walk(loop.body):
            if isinstance(node, ast.Call):
                ref = view.ref(node.func, local)
                if ref in R.CONNECTION_REFRESHERS:
                    refresh = True
            if _django_use(ctx, view, node, local):
                django.append(node)
            elif isinstance(node, (ast.Attribute, ast.Name)) and X.registry_of(ctx, view, node, local) is not None:
                registry.append(node)
        waits.sort(key=lambda n: (n.lineno, n.col_offset))
        if not refresh:
            via, refresh = _django_through_helpers(ctx, view, loop, members, local)
            django = django or via
        if django and not refresh:
            first = min(django, key=lambda n: (n.lineno, n.col_offset))
            kind = view.table.kind("django.connection")
            out.append(Finding(Acq("", first, kind, [], ambient="django"), loop, waits[0], first))
        if registry:
            def matcher(node, _local=local):
                return isinstance(node, (ast.Attribute, ast.Name)) and \
                    X.registry_of(ctx, view, node, _local) is not None
            hit = session_hit(view, loop, set(), local, False, matcher)
            if hit is not None:
                first = min(registry, key=lambda n: (n.lineno, n.col_offset))
                kind = view.table.kind("sa.scoped-session")
                use = hit[1] if hit[1] is not None else first
                out.append(Finding(Acq("", first, kind, [], ambient="registry"), loop, hit[0], use))
    return out


_STMT_FIELDS = ("body", "handlers", "orelse", "finalbody", "cases")


def _scopes(tree: ast.AST) -> list[ast.AST]:
    """The functions and classes of a module in :func:`ast.walk`'s order (breadth first), found
    by walking statements only: a ``def`` or ``class`` is always a statement."""
    out = []
    queue = collections.deque([tree])
    pop, extend = queue.popleft, queue.extend
    while queue:
        node = pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(node)
        for name in _STMT_FIELDS:
            value = getattr(node, name, None)
            if value:
                extend(value)
    return out


def wait_loop_findings(ctx) -> list[Finding]:
    """Every acquisition held across an unbounded waiting loop in this file (memoised)."""
    def compute(c) -> list[Finding]:
        if not _QUICK.search(c.text) or not _WAIT_HINT.search(c.text):
            return []
        view = X.view_for(c)
        tree = view.tree
        out: list[Finding] = []
        classes: dict[int, _Members] = {}
        scopes = _scopes(tree)
        for node in scopes:
            if isinstance(node, ast.ClassDef):
                classes[id(node)] = members = _Members.of(c, view, node)
                for m in members.methods.values():
                    classes[id(m)] = members
        for node in scopes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.extend(analyse_function(view, node))
                out.extend(analyse_ambient(c, view, node, classes.get(id(node))))
            elif isinstance(node, ast.ClassDef):
                out.extend(analyse_class(c, view, node, classes[id(node)]))
        seen = set()
        # a Django cursor held across a loop is that loop's finding; its queries are not a second one
        seen.update(id(f.loop) for f in out if f.acq.kind.name == "django.connection" and not f.acq.ambient)
        uniq = []
        for f in out:
            key = id(f.loop) if f.acq.ambient == "django" else id(f.acq.call)
            if key not in seen:
                seen.add(key)
                uniq.append(f)
        return uniq

    return ctx.fact("wait_loops.findings", compute)


def _trace(f: Finding) -> list:
    loop_note = f"unbounded loop at line {f.loop.lineno}"
    if f.acq.ambient:
        acquired = "Django opens its connection here and keeps it" if f.acq.ambient == "django" else \
            "the scoped session starts a transaction here and keeps its connection"
    elif f.acq.owner is not None:
        acquired = f"acquired here and stored on {f.acq.name} by {f.acq.owner.name}()"
        loop_note += f" uses {f.acq.name}"
    else:
        acquired = "acquired here, before the loop"
    return [(ast_where(f.acq.call), acquired),
            (ast_where(f.loop), loop_note),
            (ast_where(f.wait), f"waits at line {f.wait.lineno} while still holding it"),
            (ast_where(f.use), f"used inside the loop at line {f.use.lineno}")]


def _has_kwarg(call: ast.Call, name: str) -> bool:
    return any(k.arg == name for k in call.keywords) or any(k.arg is None for k in call.keywords)


def report_redis_wait_loops(ctx) -> None:
    """TXL404 for a Redis client or pool created in a function and held across a waiting loop
    without ``health_check_interval``.  Idempotent (the TXL404 rule may call it too)."""
    if not ctx.enabled("TXL404") or ctx._facts.get("wait_loops.redis_done"):
        return
    ctx._facts["wait_loops.redis_done"] = True
    for f in wait_loop_findings(ctx):
        if _holds(f.acq.kind) != "redis":
            continue
        call = f.acq.call
        if any(k.arg == "connection_pool" for k in call.keywords):
            continue  # judged by its pool
        fix = None
        cst_call = _cst_call_for(ctx, call)
        judged = None
        if cst_call is not None:
            try:
                from txlint.rules.module_scope import redis_call_finding
            except ImportError:  # pragma: no cover - the module-scope rule is absent
                redis_call_finding = None
            if redis_call_finding is not None:
                judged = redis_call_finding(ctx, cst_call)
                if judged is None:
                    continue  # has a health check (or cannot be judged)
                fix = judged[1]
        if judged is None and _has_kwarg(call, R.REDIS_HEALTH_KEYWORD):
            continue
        label = f.acq.kind.label
        ctx.report("TXL404", ast_where(call),
                   fit(f"{label} without health_check_interval is held across the waiting loop at line "
                       f"{f.loop.lineno}"),
                   trace=_trace(f), fix=fix, end=ast_where(call, end=True))


def _cst_call_for(ctx, call: ast.Call):
    """The libcst Call node of an ast Call (matched by source text and occurrence; no metadata)."""
    import libcst as cst

    from txlint.walk import walk_type

    try:
        segment = ast.get_source_segment(ctx.text, call)
    except Exception:  # pragma: no cover - defensive
        return None
    if not segment:
        return None
    same = sorted((n for n in ast.walk(X.view_for(ctx).tree) if isinstance(n, ast.Call)
                   and ast.get_source_segment(ctx.text, n) == segment), key=lambda n: (n.lineno, n.col_offset))
    try:
        nth = same.index(call)
    except ValueError:
        return None
    found = []

    for node in walk_type(ctx.module, cst.Call):
        if ctx.module.code_for_node(node) == segment:
            found.append(node)
    return found[nth] if nth < len(found) else None


@register
class ConnectionHeldAcrossWait(Rule):
    code = "TXL403"
    name = "connection-held-across-wait"
    summary = ("a connection or session acquired before an unbounded loop that sleeps or blocks, and used "
               "inside it, idles past the server's timeout")
    needs = frozenset({"names", "index"})
    doc = """
## What it does
Finds a connection or session acquired before an unbounded loop that waits -- `while True`,
`while not stop.is_set()`, `while self.running`, `for message in pubsub.listen()`, `async for`
over a websocket -- and used inside it.  Waits are `time.sleep`, `asyncio.sleep`, `Event.wait`,
`queue.get`, `pubsub.listen`, blocking Redis pops (`brpop`, `blpop`), awaited websocket receives;
a query is not a wait.

A connection, session or Redis client stored on `self` by any method (`__init__`, `connect()`,
`start()`, a lazy property) and used in a waiting loop of another method, directly or through
helper methods and properties the loop calls, is reported where it was acquired (Redis clients and
pools as TXL404).  A loop that replaces it (reconnects, also on error), closes it or checks it
with `ping(reconnect=True)` refreshes it; lazy initialisation (`if self.conn is None:`) does not.

DB-API connections, asyncpg connections and SQLAlchemy `Connection`s hold their server connection
until closed, so they count even when they commit before each wait.  A SQLAlchemy `Session` holds a
connection only inside a transaction: it counts when some path reaches the wait after using it
without a later `commit()`, `rollback()` or `close()` (a read-only poll that never commits counts).

Connections nobody acquires in the function are judged too, at their first use in the loop:
Django's per-thread connection (`Model.objects...`, `connection.cursor()`, also through a helper
method or project function the loop calls) kept across the wait without `close_old_connections()`
in the loop, and a scoped session registry (`db.session`, `Model.query`, a `scoped_session`) left
inside a transaction when the loop waits.  A Django cursor taken before the loop
(`cur = connection.cursor()`, `connections["replica"].cursor()`) holds Django's connection: reported
at the `cursor()` call.

Not reported: acquiring inside the loop (once per iteration), closing before the loop, bounded
loops (`for` over a list or `range()`), retry loops that reconnect (reassign the connection) on
`OperationalError` or only sleep in an `except` handler (back-off), Django's
`close_old_connections()` in the loop.  Module-level connections (`CONN = psycopg2.connect()` at
import time) are TXL401's finding and are not reported again here: one outage, one finding, at the
line that has to change.

## Why is this bad
The connection idles while the loop sleeps or waits for a message.  The server, PgBouncer, a
firewall or a cloud load balancer drops it after its idle timeout (MySQL `wait_timeout`, 8 h by
default; often minutes behind a NAT), and the worker finds out only at the next use:
`server closed the connection unexpectedly` / `Lost connection to MySQL server during query`,
usually in the middle of the night, and then on every iteration because nothing reconnects.  A
session left inside a transaction while waiting also holds locks and blocks vacuum
(`idle in transaction`).

## Example
```python
import time
import psycopg2


def poll_jobs(dsn):
    conn = psycopg2.connect(dsn)
    while True:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM jobs WHERE state = 'new'")
            handle(cur.fetchall())
        conn.commit()
        time.sleep(30)
```

## Use instead
Acquire per iteration (from a pool with a liveness check), so nothing is held while waiting:
```python
def poll_jobs(dsn):
    while True:
        with psycopg.connect(dsn) as conn:
            handle(conn.execute("SELECT id FROM jobs WHERE state = 'new'").fetchall())
        time.sleep(30)
```
or reconnect on `OperationalError`; for a Session, end the transaction (`commit()`/`rollback()`/
`close()`) before waiting. Outside Django's request cycle, call `django.db.close_old_connections()`
in the loop so that an idle connection is replaced before it is used.
"""
    VALID = VALID_403
    INVALID = INVALID_403

    @classmethod
    def gate(cls, gate) -> bool:
        return wait_loop_gate(gate)

    def check(self, ctx) -> None:
        findings = wait_loop_findings(ctx)
        for f in findings:
            holds = _holds(f.acq.kind)
            if holds == "redis":
                continue
            label = f.acq.kind.label
            if f.acq.ambient:
                self._report_ambient(ctx, f)
                continue
            if holds == "session":
                message = (f"{label} is held across the waiting loop at line {f.loop.lineno} with its "
                           f"transaction open (waits at line {f.wait.lineno})")
            else:
                message = (f"{label} is held across the waiting loop at line {f.loop.lineno} (used at line "
                           f"{f.use.lineno}, waits at line {f.wait.lineno})")
            ctx.report(self.code, ast_where(f.acq.call), fit(message), trace=_trace(f),
                       end=ast_where(f.acq.call, end=True))
        report_redis_wait_loops(ctx)

    def _report_ambient(self, ctx, f: Finding) -> None:
        if f.acq.ambient == "django":
            message = (f"Django's connection, opened by this query, is kept across the waiting loop at line "
                       f"{f.loop.lineno} (waits at line {f.wait.lineno})")
        else:
            message = (f"scoped session keeps its transaction open across the waiting loop at line "
                       f"{f.loop.lineno} (waits at line {f.wait.lineno})")
        ctx.report(self.code, ast_where(f.acq.call), fit(message), trace=_trace(f), end=ast_where(f.acq.call, end=True))
