"""Control flow of one function body, walked structurally with exit channels.

The walker follows a libcst function body statement by statement and returns, for every
compound statement, the abstract state on each way out of it (``Out``): falling through
(``nxt``), ``return``, ``break``, ``continue`` and a propagating exception (``exc``).  This is
the control-flow graph in its structured form: every edge of the graph (normal and
exceptional) is one channel of some statement, so ``finally`` bodies are run once per
incoming channel (so that a ``return`` in ``finally`` swallows the exception, and ``finally``
runs on every way out), ``with`` exits are applied to every channel, loops are iterated to a
fixed point (results cached per loop and input state so nested loops stay linear), and
``except`` handlers take the exception channel of their ``try`` body.

What a statement does to the state is the business of a subclass (:mod:`txlint.dataflow`):
it implements :meth:`Walker.simple`, :meth:`Walker.assume`, :meth:`Walker.with_item`, ...
The walker knows nothing about databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from txlint.lazylib import libcst as cst

State = Any  # opaque to the walker; the subclass provides join / key


class GiveUp(Exception):
    """The function is too large or too deep for the budget; the caller notes it."""


@dataclass
class Out:
    nxt: Optional[State] = None
    ret: Optional[State] = None
    brk: Optional[State] = None
    cont: Optional[State] = None
    exc: Optional[State] = None


CATCH_ALL = frozenset({"Exception", "BaseException"})


def handler_catches_all(handler: cst.CSTNode) -> bool:
    """``except:``, ``except Exception``, ``except BaseException`` (also inside a tuple)."""
    typ = getattr(handler, "type", None)
    if typ is None:
        return True
    items = [e.value for e in typ.elements] if isinstance(typ, cst.Tuple) else [typ]
    for item in items:
        name = item.attr.value if isinstance(item, cst.Attribute) else getattr(item, "value", None)
        if name in CATCH_ALL:
            return True
    return False


def is_true_constant(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name) and test.value == "True":
        return True
    if isinstance(test, cst.Integer) and test.value not in ("0",):
        return True
    return False


class Walker:
    """Structural control-flow walker; subclasses supply the lattice and transfer functions."""

    MAX_STEPS = 200_000
    MAX_LOOP_ROUNDS = 25

    def __init__(self) -> None:
        self.steps = 0
        self._loop_cache: dict[tuple, Out] = {}

    # ---- lattice (subclass) ------------------------------------------------------------
    def join(self, a: Optional[State], b: Optional[State]) -> Optional[State]:
        raise NotImplementedError

    def key(self, s: State) -> Any:
        raise NotImplementedError

    # ---- transfer functions (subclass) -------------------------------------------------
    def simple(self, stmt: cst.BaseSmallStatement, s: State, out: Out) -> Optional[State]:
        """Apply a small statement; put exceptional/return/break/continue states into ``out``;
        return the fall-through state (``None`` when it never falls through)."""
        raise NotImplementedError

    def expr(self, node: cst.CSTNode, s: State, out: Out, anchor: cst.CSTNode) -> State:
        """Evaluate an expression that is part of a compound statement header."""
        return s

    def assume(self, test: cst.BaseExpression, s: State, truth: bool) -> State:
        return s

    def branch(self, node: cst.CSTNode, s: State, note: str) -> State:
        return s

    def bind_target(self, target: cst.BaseExpression, s: State, value: Optional[cst.CSTNode]) -> State:
        return s

    def with_item(self, item: cst.WithItem, s: State, out: Out, anchor: cst.CSTNode) -> tuple[State, Any]:
        """Enter one ``with`` item; returns (state, token for :meth:`with_exit`)."""
        return s, None

    def with_exit(self, token: Any, s: State) -> State:
        return s

    def with_suppresses(self, token: Any) -> Optional[str]:
        """``"all"`` / ``"some"`` when the context manager swallows exceptions
        (``contextlib.suppress``), else ``None``."""
        return None

    def nested_def(self, node: cst.CSTNode, s: State) -> State:
        return s

    # ---- walking -----------------------------------------------------------------------
    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.MAX_STEPS:
            raise GiveUp("function too large to analyse")

    def _merge(self, into: Out, other: Out, *, nxt: bool = True) -> None:
        if nxt:
            into.nxt = self.join(into.nxt, other.nxt)
        into.ret = self.join(into.ret, other.ret)
        into.brk = self.join(into.brk, other.brk)
        into.cont = self.join(into.cont, other.cont)
        into.exc = self.join(into.exc, other.exc)

    def block(self, body, s: Optional[State]) -> Out:
        out = Out()
        if isinstance(body, (cst.IndentedBlock,)):
            stmts = body.body
        elif isinstance(body, cst.SimpleStatementSuite):
            stmts = [body]
        else:
            stmts = body
        for stmt in stmts:
            if s is None:
                break
            s = self.statement(stmt, s, out)
        out.nxt = s
        return out

    def statement(self, stmt: cst.CSTNode, s: State, out: Out) -> Optional[State]:
        self.tick()
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in stmt.body:
                if s is None:
                    return None
                s = self.simple(small, s, out)
            return s
        method = getattr(self, "_" + type(stmt).__name__, None)
        if method is None:
            return s
        res = method(stmt, s)
        self._merge(out, res, nxt=False)
        return res.nxt

    # ---- compound statements -------------------------------------------------------------
    def _If(self, node: cst.If, s: State) -> Out:
        res = Out()
        s = self.expr(node.test, s, res, node)
        body = self.block(node.body, self.branch(node.test, self.assume(node.test, s, True),
                                                 "takes the `if` branch"))
        other_s = self.branch(node.test, self.assume(node.test, s, False), "skips the `if` branch")
        if node.orelse is None:
            other = Out(nxt=other_s)
        elif isinstance(node.orelse, cst.If):
            other = self._If(node.orelse, other_s)
        else:
            other = self.block(node.orelse.body, other_s)
        self._merge(res, body)
        self._merge(res, other)
        return res

    def _loop(self, node, s: State, header, body_entry) -> Out:
        """Fixed point of a loop; ``header(state, out)`` -> state entering the header test,
        ``body_entry(state)`` -> (state entering the body, state leaving by the test)."""
        cache_key = (id(node), self.key(s))
        cached = self._loop_cache.get(cache_key)
        if cached is not None:
            return cached
        res = Out()
        head = s
        body_out = Out()
        for _ in range(self.MAX_LOOP_ROUNDS):
            self.tick()
            res = Out()
            entry = header(head, res)
            into_body, leave = body_entry(entry)
            body_out = self.block(node.body, into_body)
            new_head = self.join(self.join(s, body_out.nxt), body_out.cont)
            if self.key(new_head) == self.key(head):
                break
            head = new_head
        else:
            raise GiveUp("loop analysis did not converge")
        res.ret = self.join(res.ret, body_out.ret)
        res.exc = self.join(res.exc, body_out.exc)
        if node.orelse is not None and leave is not None:
            other = self.block(node.orelse.body, leave)
            self._merge(res, other)
        else:
            res.nxt = leave
        res.nxt = self.join(res.nxt, body_out.brk)
        if node.orelse is None:
            res.brk = res.cont = None
        self._loop_cache[cache_key] = res
        return res

    def _While(self, node: cst.While, s: State) -> Out:
        def header(st, res):
            return self.expr(node.test, st, res, node)

        def body_entry(st):
            leave = None if is_true_constant(node.test) else self.assume(node.test, st, False)
            return self.assume(node.test, st, True), leave

        return self._loop(node, s, header, body_entry)

    def _For(self, node: cst.For, s: State) -> Out:
        pre = Out()
        s = self.expr(node.iter, s, pre, node)

        def header(st, res):
            if pre.exc is not None:
                res.exc = self.join(res.exc, pre.exc)
            return st

        def body_entry(st):
            return self.bind_target(node.target, st, None), st

        res = self._loop(node, s, header, body_entry)
        res = Out(res.nxt, res.ret, res.brk, res.cont, self.join(res.exc, pre.exc))
        return res

    def _Try(self, node, s: State) -> Out:
        body = self.block(node.body, s)
        res = Out(ret=body.ret, brk=body.brk, cont=body.cont)
        pending = body.exc
        caught_all = False
        for handler in node.handlers:
            if pending is None:
                break
            hs = pending
            if handler.name is not None:
                hs = self.bind_target(handler.name.name, hs, None)
            hout = self.block(handler.body, hs)
            self._merge(res, hout)
            if handler_catches_all(handler):
                caught_all = True
                break
        if not caught_all:
            res.exc = self.join(res.exc, pending)
        if node.orelse is not None and body.nxt is not None:
            eout = self.block(node.orelse.body, body.nxt)
            self._merge(res, eout)
        else:
            res.nxt = self.join(res.nxt, body.nxt)
        if node.finalbody is None:
            return res
        final = Out()
        for chan in ("nxt", "ret", "brk", "cont", "exc"):
            st = getattr(res, chan)
            if st is None:
                continue
            fout = self.block(node.finalbody.body, st)
            # the finally body's own jumps win; falling through resumes the channel
            setattr(final, chan, self.join(getattr(final, chan), fout.nxt))
            self._merge(final, fout, nxt=False)
        return final

    _TryStar = _Try

    def _With(self, node: cst.With, s: State) -> Out:
        res = Out()
        tokens = []
        for item in node.items:
            s, token = self.with_item(item, s, res, node)
            tokens.append(token)
        body = self.block(node.body, s)

        def leave(st):
            if st is None:
                return None
            for token in reversed(tokens):
                st = self.with_exit(token, st)
            return st

        res.nxt = leave(body.nxt)
        res.ret = self.join(res.ret, leave(body.ret))
        res.brk = self.join(res.brk, leave(body.brk))
        res.cont = self.join(res.cont, leave(body.cont))
        exc = leave(body.exc)
        suppress = [self.with_suppresses(t) for t in tokens]
        if exc is not None and any(suppress):
            res.nxt = self.join(res.nxt, exc)       # the exception is swallowed here
            if "all" in suppress:
                exc = None
        res.exc = self.join(res.exc, exc)
        return res

    def _Match(self, node, s: State) -> Out:
        res = Out()
        s = self.expr(node.subject, s, res, node)
        irrefutable = False
        for case in node.cases:
            cout = self.block(case.body, s)
            self._merge(res, cout)
            pat = case.pattern
            if case.guard is None and isinstance(pat, cst.MatchAs) and pat.pattern is None:
                irrefutable = True
        if not irrefutable:
            res.nxt = self.join(res.nxt, s)
        return res

    def _FunctionDef(self, node, s: State) -> Out:
        return Out(nxt=self.nested_def(node, s))

    def _ClassDef(self, node, s: State) -> Out:
        return Out(nxt=self.nested_def(node, s))
