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
import re
from dataclasses import dataclass, field

from txlint import index as X
from txlint import resources as R
from txlint.messages import fit
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
        if isinstance(func, ast.Attribute) and func.attr in ("listen", "iter_text", "iter_json", "iter_bytes",
                                                              "iter_messages", "notifies"):
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


def _kind_of_call(view, call: ast.AST, local) -> R.Kind | None:
    call = _unwrap(call)
    if not isinstance(call, ast.Call):
        return None
    kind = view.kind(call, local)
    if kind is None and isinstance(call.func, ast.Attribute):
        owner = view.kind(call.func.value, local)
        if owner is not None and call.func.attr in owner.cm_methods:
            kind = view.table.kind(owner.cm_methods[call.func.attr][0])
    return kind


def _holds(kind: R.Kind | None) -> str | None:
    """"conn" for connections holding a server connection, "session" for ORM sessions,
    "redis" for Redis clients and pools."""
    if kind is None:
        return None
    if kind.category == R.CONNECTION and kind.server_side and kind.resource:
        return "conn"
    if kind.category == R.SESSION:
        return "session"
    if kind.category == R.REDIS:
        return "redis"
    return None


# ------------------------------------------------------------------ session transaction state
class _SessionFlow:
    """Does some path reach a wait with the session used since its last commit/rollback/close?"""

    def __init__(self, view, names, local, matcher=None):
        self.view, self.names, self.local = view, names, local
        self.matcher = matcher or (lambda node: _expr_name(node) in names)
        self.hit: tuple[ast.AST, ast.AST] | None = None   # (wait, last use)
        self.loopback: set = set()

    def _events(self, node):
        evs = []
        for n in _walk([node]) if isinstance(node, ast.stmt) else ast.walk(node):
            if isinstance(n, ast.Call):
                f = n.func
                if isinstance(f, ast.Attribute) and self.matcher(f.value):
                    evs.append((n, "end" if f.attr in SESSION_ENDS else "use"))
                elif self.matcher(f):
                    evs.append((n, "use"))
                elif is_wait(self.view, n, self.local):
                    evs.append((n, "wait"))
            elif isinstance(n, ast.Name) and n.id in self.names and isinstance(n.ctx, ast.Load):
                evs.append((n, "mention"))
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
            elif ev == "wait":
                for st, last in state:
                    if st == "dirty" and self.hit is None:
                        self.hit = (node, last)
        return state

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
                self.simple(stmt.value, state)
            return set()
        if isinstance(stmt, ast.Continue):
            self.loopback |= state
            return set()
        return self.simple(stmt, state)


def session_hit(view, loop, names, local, entry_dirty, matcher=None):
    flow = _SessionFlow(view, names, local, matcher)
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
                if holds and len(targets) == 1 and isinstance(targets[0], ast.Name):
                    acqs.append(Acq(targets[0].id, _unwrap(stmt.value), kind, stmts[i + 1:]))
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is None or not isinstance(item.optional_vars, ast.Name):
                        continue
                    kind = _kind_of_call(view, item.context_expr, local)
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


def _aliases(view, acq: Acq, local, scope_stmts) -> set[str]:
    names = {acq.name}
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
                node2, hit = value, False
                while True:
                    if _target_name(node2) in names:
                        hit = True
                        break
                    if isinstance(node2, ast.Call):
                        node2 = node2.func
                    elif isinstance(node2, (ast.Attribute, ast.Subscript)):
                        node2 = node2.value
                    else:
                        break
                derived = (isinstance(value, (ast.Name, ast.Attribute)) or
                           (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                            and value.func.attr in DERIVING))
                if hit and derived:
                    names.add(tname)
                elif isinstance(value, ast.Call) and any(
                        _target_name(k.value) in names for k in value.keywords if k.arg == "connection_pool"):
                    names.add(tname)   # Redis(connection_pool=pool): judged by the pool
    return names


def judge(view, acq: Acq, local, fn) -> Finding | None:
    names = _aliases(view, acq, local, acq.region)
    for loop in _loops_in(acq.region):
        found = _judge_loop(view, acq, names, loop, local, acq.region)
        if found is not None:
            return found
    return None


def _waits_not_on(waits, names) -> list:
    """Drop waits on the connection itself (LISTEN/NOTIFY: ``select.select([conn], ...)``,
    ``conn.notifies()``): there the connection is what the loop waits for, not an idle bystander."""
    out = []
    for w in waits:
        mentioned = any(_target_name(n) in names for n in ast.walk(w))
        if not mentioned:
            out.append(w)
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
        waits = _waits_not_on(waits, names)   # a Redis client waiting on its own socket is TXL404's case
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


def analyse_class(view, cls: ast.ClassDef) -> list[Finding]:
    """``self.conn = connect()`` in ``__init__``, used by a waiting loop in another method."""
    init = X._method(cls, "__init__")
    if init is None:
        return []
    if not any(_has_waiting_loop(view, m.body) for m in cls.body
               if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m is not init):
        return []
    local = _local_refs(view, init)
    acqs = []
    for node in X.walk_function(init):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = _target_name(node.targets[0])
            if name and name.startswith("self."):
                kind = _kind_of_call(view, node.value, local)
                if _holds(kind):
                    acqs.append(Acq(name, _unwrap(node.value), kind, []))
    if not acqs:
        return []
    methods = [m for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m is not init]
    out = []
    for acq in acqs:
        names = _aliases(view, acq, {}, init.body)
        reassigned = any(_assigned(m.body, {acq.name}) for m in methods)
        if reassigned:
            continue  # some method reconnects
        for m in methods:
            mlocal = _local_refs(view, m)
            found = None
            for loop in _loops_in(m.body):
                found = _judge_self_loop(view, acq, names, loop, mlocal, cls)
                if found:
                    break
            if found:
                out.append(found)
                break
    return out


def _judge_self_loop(view, acq, names, loop, local, cls):
    if not unbounded(view, loop, local):
        for inner in _loops_in(loop.body):
            f = _judge_self_loop(view, acq, names, inner, local, cls)
            if f:
                return f
        return None
    waits = loop_waits(view, loop, local)
    if not waits:
        return None
    uses = _uses(loop.body, names)
    # one level of self.method() helpers
    body = list(loop.body)
    for node in _walk(loop.body):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
            m = X._method(cls, node.func.attr)
            if m is not None and _uses(m.body, names):
                uses.append(node)
                body.extend(m.body)
    if not uses:
        return None
    if _calls_reconnect(loop):
        return None
    if _holds(acq.kind) == "session":
        fake = ast.While(test=ast.Constant(True), body=body, orelse=[])
        hit = session_hit(view, fake, names, local, False)
        if hit is None:
            return None
        return Finding(acq, loop, hit[0], hit[1] if hit[1] is not None else uses[0])
    uses.sort(key=lambda n: (n.lineno, n.col_offset))
    waits.sort(key=lambda n: (n.lineno, n.col_offset))
    return Finding(acq, loop, waits[0], uses[0])


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


def analyse_ambient(ctx, view, fn) -> list[Finding]:
    """Connections nobody acquires in the function: Django's per-thread connection (opened by the
    first query, kept until closed) and scoped session registries (``db.session``, ``Model.query``,
    ``Session``) used in a waiting loop."""
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


def wait_loop_findings(ctx) -> list[Finding]:
    """Every acquisition held across an unbounded waiting loop in this file (memoised)."""
    def compute(c) -> list[Finding]:
        if not _QUICK.search(c.text) or not _WAIT_HINT.search(c.text):
            return []
        view = X.view_for(c)
        tree = view.tree
        out: list[Finding] = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.extend(analyse_function(view, node))
                out.extend(analyse_ambient(c, view, node))
            elif isinstance(node, ast.ClassDef):
                out.extend(analyse_class(view, node))
        seen = set()
        uniq = []
        for f in out:
            key = id(f.acq.call)
            if key not in seen:
                seen.add(key)
                uniq.append(f)
        return uniq

    return ctx.fact("wait_loops.findings", compute)


def _pos(node) -> tuple[int, int]:
    return node.lineno, node.col_offset + 1


def _end(node) -> tuple[int, int]:
    return getattr(node, "end_lineno", node.lineno), getattr(node, "end_col_offset", node.col_offset) + 1


def _trace(f: Finding) -> list:
    loop_line = f.loop.lineno
    wait_line = f.wait.lineno
    if f.acq.ambient:
        what = "Django opens its connection here and keeps it" if f.acq.ambient == "django" else \
            "the scoped session starts a transaction here and keeps its connection"
        return [(_pos(f.acq.call), what),
                (_pos(f.loop), f"unbounded loop at line {loop_line}"),
                (_pos(f.wait), f"waits at line {wait_line} while still holding it"),
                (_pos(f.use), f"used inside the loop at line {f.use.lineno}")]
    return [(_pos(f.acq.call), "acquired here, before the loop"),
            (_pos(f.loop), f"unbounded loop at line {loop_line}"),
            (_pos(f.wait), f"waits at line {wait_line} while still holding it"),
            (_pos(f.use), f"used inside the loop at line {f.use.lineno}")]


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
        ctx.report("TXL404", _pos(call),
                   fit(f"{label} without health_check_interval is held across the waiting loop at line "
                       f"{f.loop.lineno}"),
                   trace=_trace(f), fix=fix, end=_end(call))


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
a query is not a wait.  A connection acquired in `__init__` (stored on `self`) and used by a
`run()` loop is reported on the `__init__` line.

DB-API connections, asyncpg connections and SQLAlchemy `Connection`s hold their server connection
until closed, so they count even when they commit before each wait.  A SQLAlchemy `Session` holds a
connection only inside a transaction: it counts when some path reaches the wait after using it
without a later `commit()`, `rollback()` or `close()` (a read-only poll that never commits counts).

Connections nobody acquires in the function are judged too, at their first use in the loop:
Django's per-thread connection (`Model.objects...`, `connection.cursor()`) kept across the wait
without `close_old_connections()` in the loop, and a scoped session registry (`db.session`,
`Model.query`, a `scoped_session`) left inside a transaction when the loop waits.

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
            ctx.report(self.code, _pos(f.acq.call), fit(message), trace=_trace(f), end=_end(f.acq.call))
        report_redis_wait_loops(ctx)

    def _report_ambient(self, ctx, f: Finding) -> None:
        if f.acq.ambient == "django":
            message = (f"Django's connection, opened by this query, is kept across the waiting loop at line "
                       f"{f.loop.lineno} (waits at line {f.wait.lineno})")
        else:
            message = (f"scoped session keeps its transaction open across the waiting loop at line "
                       f"{f.loop.lineno} (waits at line {f.wait.lineno})")
        ctx.report(self.code, _pos(f.acq.call), fit(message), trace=_trace(f), end=_end(f.acq.call))
