"""Import and alias resolution to qualified names, without importing or running anything.

A *ref* is a dotted qualified name with ``()`` marking a call result:

* ``sqlalchemy.orm.sessionmaker``      the function itself
* ``sqlalchemy.orm.sessionmaker()``    what calling it returns (a session factory)
* ``sqlalchemy.orm.sessionmaker()()``  what calling *that* returns (a session)
* ``flask_sqlalchemy.SQLAlchemy().session``

Module-level bindings (imports, ``X = call(...)``, ``X = other_name``, ``def``/``class``) are read
from the module's :mod:`ast` tree; names imported from another module of the analysed project are
followed into that module's file, read from disk and parsed with :mod:`ast` (never imported).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Callable

import libcst as cst


@dataclass
class ModuleSymbols:
    """What the top level of one module binds."""

    module: str  # dotted module name ("" when unknown)
    path: str = ""
    is_package: bool = False
    bindings: dict[str, str] = field(default_factory=dict)  # name -> ref
    functions: dict[str, ast.AST] = field(default_factory=dict)  # name -> FunctionDef (ast)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    calls: dict[str, ast.Call] = field(default_factory=dict)  # name -> the Call bound to it
    literals: dict[str, ast.AST] = field(default_factory=dict)  # name -> dict/str/number literal


def module_name_for(path: str) -> tuple[str, bool]:
    """Dotted module name of a file, found by walking up through ``__init__.py`` packages."""
    path = os.path.abspath(path)
    directory, filename = os.path.split(path)
    stem = filename[:-3] if filename.endswith(".py") else filename
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, pkg = os.path.split(directory)
        parts.insert(0, pkg)
        if not pkg:
            break
    return ".".join(p for p in parts if p), is_package


def import_root_for(path: str) -> str:
    """The folder that would be on ``sys.path`` for this file (above its top package)."""
    directory = os.path.dirname(os.path.abspath(path))
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return directory


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    if target:
        parts.append(target)
    return ".".join(parts)


def _ast_dotted(node: ast.AST, bindings: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return bindings.get(node.id, f"<local>.{node.id}" if node.id else None)
    if isinstance(node, ast.Attribute):
        base = _ast_dotted(node.value, bindings)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call):
        base = _ast_dotted(node.func, bindings)
        return f"{base}()" if base else None
    return None


def _is_main_guard(test: ast.AST) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def module_statements(body: list[ast.stmt]):
    """The statements that run at import time, in order: into ``if``/``try``/``with`` blocks, but
    not into the body of an ``if __name__ == "__main__":`` guard (its ``else`` does run)."""
    stack = [iter(body)]
    while stack:
        stmt = next(stack[-1], None)
        if stmt is None:
            stack.pop()
            continue
        if isinstance(stmt, ast.If):
            blocks = [stmt.orelse] if _is_main_guard(stmt.test) else [stmt.body, stmt.orelse]
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            blocks = [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            blocks = [stmt.body]
        else:
            yield stmt
            continue
        stack.extend(iter(b) for b in reversed(blocks))


def symbols_from_ast(tree: ast.Module, module: str, is_package: bool = False, path: str = "") -> ModuleSymbols:
    """Read a module's top-level bindings (into ``try``/``if`` blocks, not ``__main__`` guards)."""
    syms = ModuleSymbols(module=module, path=path, is_package=is_package)
    b = syms.bindings

    def bind(name: str, ref: str | None) -> None:
        if ref and name not in b:  # first binding wins (try/except ImportError fallbacks)
            b[name] = ref

    for stmt in module_statements(tree.body):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    bind(alias.asname, alias.name)
                else:
                    top = alias.name.split(".")[0]
                    bind(top, top)
        elif isinstance(stmt, ast.ImportFrom):
            base = _resolve_relative(module, is_package, stmt.level, stmt.module)
            for alias in stmt.names:
                if alias.name == "*":
                    continue
                bind(alias.asname or alias.name, f"{base}.{alias.name}" if base else alias.name)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            syms.functions.setdefault(stmt.name, stmt)
            bind(stmt.name, f"{module}.{stmt.name}" if module else stmt.name)
        elif isinstance(stmt, ast.ClassDef):
            syms.classes.setdefault(stmt.name, stmt)
            bind(stmt.name, f"{module}.{stmt.name}" if module else stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = stmt.value
            if value is None:
                continue
            for target in targets:
                if not isinstance(target, ast.Name):
                    continue
                if isinstance(value, (ast.Call, ast.Name, ast.Attribute)):
                    ref = _ast_dotted(value, b)
                    if ref and not ref.startswith("<local>."):
                        bind(target.id, ref)
                    elif isinstance(value, ast.Call):
                        # a call of something unknown still makes a value of this module
                        bind(target.id, f"{module}.{target.id}" if module else target.id)
                    if isinstance(value, ast.Call):
                        syms.calls.setdefault(target.id, value)
                elif isinstance(value, (ast.Dict, ast.Constant, ast.JoinedStr, ast.List, ast.Tuple)):
                    syms.literals.setdefault(target.id, value)
    return syms


class ProjectModules:
    """Finds and reads other modules of the analysed project lazily, from disk, with :mod:`ast`."""

    def __init__(self, roots: list[str] | None = None):
        self.roots = [os.path.abspath(r) for r in (roots or [])]
        self._cache: dict[str, ModuleSymbols | None] = {}
        #: files read for the current analysis (the result cache re-checks them)
        self.touched: set[str] = set()

    def add_root(self, root: str) -> None:
        root = os.path.abspath(root)
        if root not in self.roots:
            self.roots.append(root)

    def find_file(self, module: str) -> str | None:
        rel = module.replace(".", os.sep)
        for root in self.roots:
            for candidate in (os.path.join(root, rel + ".py"), os.path.join(root, rel, "__init__.py")):
                if os.path.isfile(candidate):
                    return candidate
        return None

    def symbols(self, module: str) -> ModuleSymbols | None:
        if module in self._cache:
            cached = self._cache[module]
            if cached is not None and cached.path:
                self.touched.add(cached.path)
            return cached
        self._cache[module] = None  # guards against import cycles
        path = self.find_file(module)
        if path is None:
            return None
        syms = self.load(path, module)
        self._cache[module] = syms
        self.touched.add(path)
        return syms

    def load(self, path: str, module: str | None = None) -> ModuleSymbols | None:
        try:
            with open(path, "rb") as handle:
                data = handle.read(4_000_000)
            tree = ast.parse(data, filename=path)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        if module is None:
            module, is_package = module_name_for(path)
        else:
            is_package = os.path.basename(path) == "__init__.py"
        return symbols_from_ast(tree, module, is_package, path)

    def remember(self, syms: ModuleSymbols) -> None:
        if syms.module:
            self._cache[syms.module] = syms


def dotted_name(node: cst.CSTNode) -> str | None:
    """``a.b.c`` of a libcst Name/Attribute chain as written (no resolution); None otherwise."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def cst_dotted(node: cst.CSTNode, lookup: Callable[[str], str | None]) -> str | None:
    """Ref of a libcst expression: names via ``lookup``, attributes and calls appended."""
    suffix: list[str] = []
    while True:
        if isinstance(node, cst.Attribute):
            suffix.append("." + node.attr.value)
            node = node.value
        elif isinstance(node, cst.Call):
            suffix.append("()")
            node = node.func
        elif isinstance(node, cst.Subscript):
            suffix.append("[]")
            node = node.value
        elif isinstance(node, cst.Await):
            node = node.expression
        elif isinstance(node, cst.Name):
            base = lookup(node.value)
            if base is None:
                return None
            return base + "".join(reversed(suffix))
        else:
            return None


class Resolver:
    """Resolves libcst expressions of one module to refs, following project modules."""

    MAX_HOPS = 8

    def __init__(self, symbols: ModuleSymbols, project: ProjectModules | None = None):
        self.symbols = symbols
        self.project = project or ProjectModules()
        self._canon: dict[str, str] = {}

    def lookup(self, name: str, local: dict[str, str] | None = None) -> str | None:
        if local and name in local:
            return local[name]
        ref = self.symbols.bindings.get(name)
        if ref is None:
            return None
        return self.canonical(ref)

    def ref(self, node: cst.CSTNode, local: dict[str, str] | None = None) -> str | None:
        out = cst_dotted(node, lambda n: self.lookup(n, local))
        return self.canonical(out) if out is not None and "." in out else out

    def canonical(self, ref: str) -> str:
        """Follow a ref through project modules: ``app.db.SessionLocal`` becomes
        ``sqlalchemy.orm.sessionmaker()`` when ``app/db.py`` binds it so."""
        if ref in self._canon:
            return self._canon[ref]
        self._canon[ref] = ref
        out = ref
        for _ in range(self.MAX_HOPS):
            nxt = self._step(out)
            if nxt is None or nxt == out:
                break
            out = nxt
        self._canon[ref] = out
        return out

    def _step(self, ref: str) -> str | None:
        # split the leading dotted part (before any "()") into module + attribute path
        head, sep, tail = ref.partition("()")
        parts = head.split(".")
        for i in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:i])
            syms = self.project.symbols(module) if module != self.symbols.module else self.symbols
            if syms is None:
                continue
            name = parts[i]
            target = syms.bindings.get(name)
            own = f"{module}.{name}"
            if target is None or target == own:
                return None
            rest = ".".join(parts[i + 1:])
            out = target + ("." + rest if rest else "")
            return out + sep + tail
        return None

    def project_module_of(self, ref: str) -> tuple[ModuleSymbols, str] | None:
        """(symbols, name) when ``ref`` names a top-level binding of a project module."""
        head = ref.split("()")[0]
        module, _, name = head.rpartition(".")
        if not module:
            return None
        syms = self.symbols if module == self.symbols.module else self.project.symbols(module)
        if syms is None or name not in syms.bindings:
            return None
        return syms, name
