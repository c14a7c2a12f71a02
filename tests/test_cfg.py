"""The structural control-flow walker (txlint.cfg), exercised with a toy lattice.

The toy state is the frozenset of names assigned so far (a may-analysis: joins are unions);
``f()`` calls can raise; ``with`` exits add ``"exit"``.  That is enough to see which statements
each way out of a construct has passed through.
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from txlint.cfg import GiveUp, Out, Walker, handler_catches_all


class Toy(Walker):
    def join(self, a, b):
        if a is None:
            return b
        if b is None:
            return a
        return a | b

    def key(self, s):
        return s

    def simple(self, stmt, s, out):
        if isinstance(stmt, cst.Return):
            out.ret = self.join(out.ret, s | {"return"})
            return None
        if isinstance(stmt, cst.Raise):
            out.exc = self.join(out.exc, s)
            return None
        if isinstance(stmt, cst.Break):
            out.brk = self.join(out.brk, s)
            return None
        if isinstance(stmt, cst.Continue):
            out.cont = self.join(out.cont, s)
            return None
        if isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call):
            out.exc = self.join(out.exc, s)  # a call can raise before it completes
            return s
        if isinstance(stmt, cst.Assign):
            return s | {t.target.value for t in stmt.targets if isinstance(t.target, cst.Name)}
        return s

    def with_item(self, item, s, out, anchor):
        return s, "token"

    def with_exit(self, token, s):
        return s | {"exit"}


def run(source: str, walker: Walker | None = None) -> Out:
    module = cst.parse_module(textwrap.dedent(source))
    fn = module.body[0]
    return (walker or Toy()).block(fn.body, frozenset())


def test_straight_line_and_exception_edges():
    out = run("""
        def f():
            a = 1
            g()
            b = 2
    """)
    assert out.nxt == {"a", "b"}
    assert out.exc == {"a"}          # g() raised before b was assigned


def test_if_joins_both_branches():
    out = run("""
        def f(x):
            if x:
                a = 1
                return
            else:
                b = 1
            c = 1
    """)
    assert out.ret == {"a", "return"}
    assert out.nxt == {"b", "c"}


def test_finally_runs_on_every_way_out():
    out = run("""
        def f(x):
            for i in x:
                try:
                    if i:
                        break
                    if x:
                        continue
                    if i:
                        return
                    g()
                finally:
                    cleaned = 1
            done = 1
    """)
    assert "cleaned" in out.ret
    assert "cleaned" in out.exc
    assert "done" in out.nxt and "cleaned" in out.nxt


def test_return_in_finally_swallows_the_exception():
    out = run("""
        def f():
            try:
                g()
            finally:
                return
    """)
    assert out.exc is None
    assert out.ret is not None


def test_narrow_handler_lets_other_exceptions_through():
    out = run("""
        def f():
            try:
                g()
            except ValueError:
                handled = 1
    """)
    assert out.exc == frozenset()
    assert out.nxt == {"handled"} | frozenset()

    out = run("""
        def f():
            try:
                g()
            except Exception:
                handled = 1
    """)
    assert out.exc is None


def test_catch_all_handlers():
    module = cst.parse_module(textwrap.dedent("""
        try:
            pass
        except (KeyError, BaseException):
            pass
        except builtins.Exception:
            pass
        except OSError:
            pass
        except:
            pass
    """))
    handlers = module.body[0].handlers
    assert [handler_catches_all(h) for h in handlers] == [True, True, False, True]


def test_try_else_runs_only_without_exception():
    out = run("""
        def f():
            try:
                g()
            except Exception:
                failed = 1
            else:
                ok = 1
    """)
    assert out.nxt == {"failed", "ok"}


def test_with_exit_applies_to_every_channel():
    out = run("""
        def f(x):
            with x:
                if x:
                    return
                g()
    """)
    assert "exit" in out.ret and "exit" in out.exc and "exit" in out.nxt


def test_while_true_leaves_only_by_break():
    out = run("""
        def f():
            while True:
                g()
    """)
    assert out.nxt is None
    out = run("""
        def f():
            while True:
                a = 1
                break
    """)
    assert out.nxt == {"a"}


def test_loop_else_skipped_by_break():
    out = run("""
        def f(x):
            for i in x:
                if i:
                    found = 1
                    break
            else:
                missing = 1
    """)
    assert out.nxt == {"found", "missing"}


def test_state_from_a_later_iteration_reaches_the_loop_head():
    out = run("""
        def f(x):
            while x:
                g()
                a = 1
    """)
    assert out.exc == {"a"}  # the second round's g() sees a


def test_match_without_irrefutable_case_falls_through():
    out = run("""
        def f(x):
            match x:
                case 1:
                    a = 1
                case _:
                    b = 1
    """)
    assert out.nxt == {"a", "b"}


def _nested_loops(depth: int) -> str:
    lines = ["def f(x):"]
    for i in range(depth):
        lines.append("    " * (i + 1) + f"for i{i} in x:")
    lines.append("    " * (depth + 1) + "g()")
    return "\n".join(lines) + "\n"


def test_nested_loops_stay_linear():
    walker = Toy()
    run(_nested_loops(90), walker)
    assert walker.steps < 5000


def test_budget_raises_give_up():
    walker = Toy()
    walker.MAX_STEPS = 10
    with pytest.raises(GiveUp):
        run(_nested_loops(20), walker)


def test_nested_try_finally_50_deep():
    lines = ["def f():"]
    for i in range(50):
        lines.append("    " * (i + 1) + "try:")
    lines.append("    " * 51 + "g()")
    for i in reversed(range(50)):
        lines.append("    " * (i + 1) + "finally:")
        lines.append("    " * (i + 2) + f"c{i} = 1")
    walker = Toy()
    out = run("\n".join(lines) + "\n", walker)
    assert {"c0", "c49"} <= out.exc
    assert walker.steps < 10000
