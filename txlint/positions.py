"""Positions of libcst nodes, computed only around the nodes a report names.

libcst's ``PositionProvider`` regenerates the code of the whole module to position every node:
on a 5,000-line module that is half a second, paid for two findings.  Here the module is cut into
*units*: each top-level statement, and each statement of a top-level class's body.  A report's
node is looked up in the unit that holds it, and only that unit's code is generated (a class keeps
its header around the one member, so indentation is that of the file).  The unit's first line
comes from the CPython ``ast`` of the same source (a definition starts at ``def``/``class`` in both
trees, after its decorators); its last line is checked against the ``ast`` too,
and on any disagreement (or a node outside every unit) the whole module is positioned the usual
way.
"""

from __future__ import annotations

import ast
from typing import Optional

from txlint.lazylib import libcst as cst
from txlint.walk import walk


class UnitPositions:
    """Positions of one module's nodes, unit by unit, from its libcst tree and its ``ast``."""

    def __init__(self, module: "cst.Module", tree: ast.Module):
        self.module = module
        self.tree = tree
        self.known: dict = {}
        self._owner: Optional[dict[int, int]] = None
        self._units: list[tuple] = []  # (unit node, class node or None, first ast stmt, last ast stmt)
        self._done: set[int] = set()
        self.failed = False

    # ---- units ---------------------------------------------------------------------------
    def _build(self) -> None:
        owner: dict[int, int] = {}
        units = self._units
        stmts = list(self.tree.body)
        for node, first, last in _pair(self.module.body, stmts):
            if first is None:
                self.failed = True
                return
            index = len(units)
            units.append((node, None, first, last))
            for n in walk(node):
                owner[id(n)] = index
            body = getattr(node, "body", None)
            if isinstance(node, cst.ClassDef) and isinstance(body, cst.IndentedBlock) and isinstance(first, ast.ClassDef):
                for member, mfirst, mlast in _pair(body.body, list(first.body)):
                    if mfirst is None:
                        continue  # the class stays one unit for what it holds
                    mindex = len(units)
                    units.append((member, node, mfirst, mlast))
                    for n in walk(member):
                        owner[id(n)] = mindex
        self._owner = owner

    def get(self, node):
        """The ``CodeRange`` of ``node``, or None when it cannot be placed unit by unit."""
        found = self.known.get(node)
        if found is not None or self.failed:
            return found
        if self._owner is None:
            self._build()
            if self.failed:
                return None
        index = self._owner.get(id(node))
        if index is None or index in self._done:
            return None
        self._done.add(index)
        if not self._position_unit(index, *self._units[index]):
            self.failed = True
            return None
        return self.known.get(node)

    def _position_unit(self, index: int, unit, cls, first: ast.stmt, last: ast.stmt) -> bool:
        from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

        m = self.module
        top = unit if cls is None else cls.with_changes(body=cls.body.with_changes(body=[unit]))
        mini = cst.Module(body=[top], header=(), footer=(), encoding=m.encoding, default_indent=m.default_indent,
                          default_newline=m.default_newline, has_trailing_newline=True)
        found = MetadataWrapper(mini, unsafe_skip_copy=True).resolve(PositionProvider)
        own = found.get(unit)
        if own is None:
            return False
        offset = first.lineno - own.start.line
        if own.end.line + offset != (last.end_lineno or last.lineno):
            return False  # the unit and its ast statements disagree: position the whole module
        known, owner = self.known, self._owner
        for node, rng in found.items():
            if owner.get(id(node)) != index:
                continue  # the class header around a member, or a node walk() does not visit
            known[node] = CodeRange(CodePosition(rng.start.line + offset, rng.start.column),
                                    CodePosition(rng.end.line + offset, rng.end.column))
        return True


def _pair(cst_body, ast_body: list[ast.stmt]):
    """(libcst statement, its first ast statement, its last) for each statement of a body: a
    line of ``a; b`` is one libcst statement and several ast ones.  None when they do not line up."""
    i = 0
    for node in cst_body:
        count = len(node.body) if isinstance(node, cst.SimpleStatementLine) else 1
        if i + count > len(ast_body):
            yield node, None, None
            return
        yield node, ast_body[i], ast_body[i + count - 1]
        i += count

