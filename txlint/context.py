"""Everything a rule sees of one file, with facts computed once and only when asked for."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence, Union

from txlint.lazylib import libcst as cst

from txlint.diagnostics import Diagnostic, TraceStep, fingerprint
from txlint.names import ModuleSymbols, ProjectModules, Resolver, module_name_for, symbols_from_ast
from txlint.resources import ResourceTable, DEFAULT_TABLE
from txlint.source import REDUCE_ABOVE_CHARS, blank_function_bodies, physical_lines, reduce_source

# a place in the file: a libcst node (position computed on demand) or an explicit (line, column)
Where = Union["cst.CSTNode", tuple[int, int]]


class AstWhere(tuple):
    """A position taken from an :mod:`ast` node: (line, 1-based column in UTF-8 *bytes*, as
    ``col_offset`` counts); the report turns it into a character column."""

    __slots__ = ()


def ast_where(node, end: bool = False) -> AstWhere:
    if end:
        line, col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        return AstWhere((node.lineno, node.col_offset + 1) if line is None or col is None else (line, col + 1))
    return AstWhere((node.lineno, node.col_offset + 1))

_SUPPRESS_RE = re.compile(r"#\s*(?:txlint:\s*ignore|noqa)(?::?\s*\[?\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)\s*\]?)?",
                          re.IGNORECASE)


def suppressed_codes(line: str) -> set[str] | None:
    """Codes a ``# txlint: ignore[...]`` / ``# noqa: ...`` comment on this line suppresses.
    ``None``: nothing suppressed; an empty set: every code."""
    if "#" not in line:
        return None
    out: set[str] | None = None
    for match in _SUPPRESS_RE.finditer(line):
        codes = match.group(1)
        if not codes:
            return set()
        out = (out or set()) | {c.strip().upper() for c in codes.split(",")}
    return out


@dataclass
class Fix:
    """Edits of this file's libcst tree that together make one safe fix.

    ``old`` is replaced by ``new`` (``None``: kept as other fixes updated it); the statements in
    ``before``/``after`` are inserted around ``old``, which then takes ``leading_lines`` when given;
    ``also`` holds further edits that belong to the same fix.  Edits of different fixes compose as
    long as no two replace the same node.  ``unsafe``: the fix changes behaviour on purpose and is
    applied only with ``--unsafe-fixes``."""

    old: cst.CSTNode
    new: cst.CSTNode | None = None
    before: tuple = ()
    after: tuple = ()
    leading_lines: tuple | None = None
    also: tuple = ()
    unsafe: bool = False


class CstParseError(Exception):
    """libcst cannot parse a file CPython accepts: the file's TXL000."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass
class _Pending:
    code: str
    where: Where
    message: str
    trace: Sequence[tuple[Where, str]]
    fix: Fix | None
    end: Where | None = None


@dataclass
class Options:
    """What a file's analysis needs to know of the run (picklable: sent to workers)."""

    enabled: frozenset[str] = frozenset()
    want_fixes: bool = False
    closers: tuple[str, ...] = ()
    task_decorators: tuple[str, ...] = ()
    project_root: str = "."
    resources: dict = field(default_factory=dict)
    #: with want_fixes: also the fixes that change behaviour on purpose (--unsafe-fixes)
    unsafe_fixes: bool = False
    #: txlint.settings.PerFileIgnores of the configuration (codes not reported in some files)
    per_file_ignores: Any = None


class FileContext:
    def __init__(self, path: str, display: str, text: str, tree: ast.Module | None, options: Options,
                 table: ResourceTable = DEFAULT_TABLE, project: ProjectModules | None = None,
                 kind: str = "python"):
        self.path = path            # on disk (or the stdin name)
        self.display = display      # as reported
        self.text = text
        self.ast = tree
        self.kind = kind
        self.options = options
        self.table = table
        self.project = project or ProjectModules()
        self._lines: list[str] | None = None
        self._module: cst.Module | None = None
        self._symbols: ModuleSymbols | None = None
        self._resolver: Resolver | None = None
        self._positions: Any = None
        self._units: Any = None  # txlint.positions.UnitPositions, made on the first report
        self._facts: dict[str, Any] = {}
        self._pending: list[_Pending] = []
        self.notes: list[str] = []
        #: True when libcst saw the file with its big pure-data statements blanked out
        self.reduced = False
        #: ``id`` of the ast functions whose bodies libcst must see (None: all of them); the
        #: others are blanked (txlint.source.blank_function_bodies; set by the analysis when only
        #: rules that read candidate functions run and no fix is wanted)
        self.keep_functions: set[int] | None = None

    # ---- lazily computed views -----------------------------------------------------
    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = [line.rstrip("\r\n") for line in physical_lines(self.text)]
        return self._lines

    @property
    def module(self) -> cst.Module:
        """The libcst tree, parsed on first use (only rules that report or fix through libcst ask
        for it); a file libcst cannot parse raises :class:`CstParseError` (its TXL000)."""
        if self._module is None:
            text = self.text
            if len(text) > REDUCE_ABOVE_CHARS and self.ast is not None:
                reduced = reduce_source(text, self.ast)
                if reduced is not None:
                    text, self.reduced = reduced, True
                    self.notes.append("large pure-data statements skipped; no fixes offered for this file")
            if self.keep_functions is not None and self.ast is not None:
                text = blank_function_bodies(text, self.ast, self.keep_functions) or text
            try:
                self._module = cst.parse_module(text)
            except RecursionError:
                raise
            except Exception as exc:  # libcst.ParserSyntaxError and friends
                line = getattr(exc, "raw_line", 1) or 1
                col = (getattr(exc, "raw_column", 0) or 0) + 1
                raise CstParseError(f"cannot parse: {str(exc).splitlines()[0]}", line, col) from None
        return self._module

    @property
    def symbols(self) -> ModuleSymbols:
        if self._symbols is None:
            modname, is_pkg = module_name_for(self.path)
            tree = self.ast if self.ast is not None else ast.parse(self.text)
            self._symbols = symbols_from_ast(tree, modname, is_pkg, self.path, source=self.text)
            self.project.remember(self._symbols)
        return self._symbols

    def adopt_symbols(self, syms: ModuleSymbols) -> None:
        """Symbols read from this very file (same bytes) as another file's dependency."""
        modname, _ = module_name_for(self.path)
        if syms.module == modname and self._symbols is None:
            self._symbols = syms
            self.project.remember(syms)

    @property
    def resolver(self) -> "KindResolver":
        if self._resolver is None:
            from txlint.kinds import resolver_for

            self._resolver = resolver_for(self.project, self.table, self.symbols)
        return self._resolver

    def dispose(self) -> None:
        """Drop what this file computed: facts refer back to the context (the gate, closures), so
        without this the file's trees would wait for the cycle collector, whose full passes cost
        time proportional to everything the worker holds."""
        self._facts.clear()
        self._module = self._positions = self._resolver = self._units = None
        self._pending = []

    def fact(self, name: str, compute: Callable[["FileContext"], Any]) -> Any:
        """A fact computed once per file, shared by every rule that asks for it."""
        if name not in self._facts:
            self._facts[name] = compute(self)
        return self._facts[name]

    def enabled(self, code: str) -> bool:
        return code in self.options.enabled

    def _file_ignores(self, code: str) -> bool:
        """Whether the configuration's per-file-ignores turn ``code`` off for this file."""
        pfi = self.options.per_file_ignores
        if pfi is None:
            return False
        if "_ignored" not in self._facts:
            self._facts["_ignored"] = pfi.ignored(self.display if self.path == "-" else self.path,
                                                  self.options.enabled)
        return code in self._facts["_ignored"]

    # ---- reporting ---------------------------------------------------------------
    def report(self, code: str, where: Where, message: str, *, trace: Iterable[tuple[Where, str]] = (),
               fix: Fix | None = None, end: Where | None = None) -> None:
        if code in self.options.enabled and not self._file_ignores(code):
            self._pending.append(_Pending(code, where, message, list(trace), fix, end))

    def _position(self, where: Where) -> tuple[int, int, int, int]:
        if isinstance(where, tuple):
            line, col = where
            if type(where) is AstWhere and 0 < line <= len(self.lines):
                text = self.lines[line - 1]
                if not text.isascii():
                    col = len(text.encode("utf-8")[:col - 1].decode("utf-8", "replace")) + 1
            return line, col, line, col
        rng = None
        if self._positions is None and not self.reduced and self.ast is not None:
            rng = self._unit_position(where)
        if rng is None:
            if self._positions is None:
                self._positions = self._compute_positions()
            rng = self._positions.get(where)
        if rng is None:  # positions could not be computed (pathologically deep file)
            return 1, 1, 1, 1
        return rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1

    def _unit_position(self, node):
        """Position of ``node`` from the code of the statement that holds it (txlint.positions);
        None when that cannot place it (the whole module is positioned then)."""
        from txlint.positions import UnitPositions

        if self._units is None:
            self._units = UnitPositions(self.module, self.ast)
        try:
            return self._units.get(node)
        except RecursionError:
            self._units.failed = True
            return None

    def _compute_positions(self):
        """Positions of every node, computed once and only for files with something to report."""
        import sys

        from libcst.metadata import MetadataWrapper, PositionProvider

        limit = sys.getrecursionlimit()
        for attempt_limit in (limit, max(limit, 20000)):
            try:
                sys.setrecursionlimit(attempt_limit)
                return dict(MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider))
            except RecursionError:
                continue
            finally:
                sys.setrecursionlimit(limit)
        self.notes.append("too deeply nested to compute positions; findings are reported at line 1")
        return {}

    def finish(self, names: dict[str, str]) -> tuple[list[Diagnostic], str | None]:
        """Turn pending reports into diagnostics (suppression applied) and the fixed source."""
        out: list[Diagnostic] = []
        fixes: list[Fix] = []
        seen: set[tuple] = set()
        for p in self._pending:
            line, col, end_line, end_col = self._position(p.where)
            if p.end is not None:
                _, _, end_line, end_col = self._position(p.end)
            text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
            supp = suppressed_codes(text)
            if supp is not None and (not supp or p.code in supp):
                continue
            key = (line, col, p.code)
            if key in seen:
                continue
            seen.add(key)
            trace = tuple(TraceStep(*self._position(w)[:2], note) for w, note in p.trace)
            out.append(Diagnostic(self.display, line, col, end_line, end_col, p.code, names.get(p.code, ""),
                                  p.message, trace, fingerprint(p.code, self.lines, line)))
            if p.fix is not None and (self.options.unsafe_fixes or not p.fix.unsafe) \
                    and not any(p.fix is f for f in fixes):
                fixes.append(p.fix)  # TXL201 and TXL202 of one line share one fix object
        fixed = self._apply_fixes(fixes) if (fixes and self.options.want_fixes and not self.reduced) else None
        return out, fixed

    def _apply_fixes(self, fixes: list[Fix]) -> str | None:
        from txlint.fixes import apply_fixes

        return apply_fixes(self.module, fixes)
