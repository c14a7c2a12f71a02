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
import gc
import os
from dataclasses import dataclass, field
from typing import Callable

from txlint.lazylib import libcst as cst
from txlint.source import read_at_most


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
    #: modules imported with ``from M import *`` (a name bound nowhere else may come from them)
    star: list[str] = field(default_factory=list)
    #: length of the source these symbols' trees were read from (0: no tree is held), what a
    #: worker's module cache counts against its budget
    size: int = 0


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


PROJECT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


def project_edge_for(path: str) -> str:
    """The project of a file analysed outside the run's project root (contract §9): the folder of
    the nearest project marker at or above it, else the folder of its top-level package (never
    that folder's parent, whose other folders are not part of what was given)."""
    start = os.path.dirname(os.path.abspath(path))
    probe = start
    while True:
        if any(os.path.exists(os.path.join(probe, m)) for m in PROJECT_MARKERS):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    top = start
    while os.path.isfile(os.path.join(top, "__init__.py")):
        parent = os.path.dirname(top)
        if parent == top or not os.path.isfile(os.path.join(parent, "__init__.py")):
            break
        top = parent
    return top


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
    return ast_ref(node, lambda name: bindings.get(name, f"<local>.{name}" if name else None))


def ast_ref(node: ast.AST, lookup: Callable[[str], str | None]) -> str | None:
    """Ref of an :mod:`ast` expression: the root name through ``lookup``, then attributes, calls
    (``()``), subscripts (``[]``); ``await x`` is ``x``.  ``None`` when the root is unknown."""
    suffix: list[str] = []
    while True:
        typ = type(node)
        if typ is ast.Attribute:
            suffix.append("." + node.attr)
            node = node.value
        elif typ is ast.Call:
            suffix.append("()")
            node = node.func
        elif typ is ast.Subscript:
            suffix.append("[]")
            node = node.value
        elif typ is ast.Await:
            node = node.value
        elif typ is ast.Name:
            base = lookup(node.id)
            if base is None:
                return None
            suffix.reverse()
            return base + "".join(suffix)
        else:
            return None


#: annotation wrappers whose first argument is the type (``Optional[Engine]``, ``Final[Engine]``)
_TYPE_WRAPPERS = frozenset({"Optional", "Annotated", "Final", "ClassVar", "Required", "NotRequired", "ReadOnly"})


def unwrap_annotation(node: ast.AST | None, depth: int = 0) -> ast.AST | None:
    """The one class an annotation names, with ``Optional[T]``, ``T | None``, ``Union[T, None]``,
    ``Annotated[T, ...]`` and string annotations (``"Engine"``) unwrapped; ``None`` when it names
    several classes or none."""
    if node is None or depth > 8:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            inner = ast.parse(node.value.strip(), mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return unwrap_annotation(inner, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [s for s in (node.left, node.right) if not _is_none(s)]
        return unwrap_annotation(sides[0], depth + 1) if len(sides) == 1 else None
    if isinstance(node, ast.Subscript):
        head = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head in _TYPE_WRAPPERS and args:
            return unwrap_annotation(args[0], depth + 1)
        if head == "Union":
            rest = [a for a in args if not _is_none(a)]
            return unwrap_annotation(rest[0], depth + 1) if len(rest) == 1 else None
        return None  # a generic container (list[Session]) is not the class itself
    if isinstance(node, (ast.Name, ast.Attribute)):
        return node
    return None


def _is_none(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and node.value is None) or (isinstance(node, ast.Name) and node.id == "None")


def annotation_ref(node: ast.AST | None, lookup: Callable[[str], str | None]) -> str | None:
    """Ref of an *instance* of the class an annotation names (``engine: Engine`` ->
    ``sqlalchemy.engine.Engine()``), or ``None``."""
    cls = unwrap_annotation(node)
    if cls is None:
        return None
    ref = ast_ref(cls, lookup)
    return ref + "()" if ref and not ref.startswith("<local>.") else None


def lazy_import_target(call: ast.Call, lookup: Callable[[str], str | None]) -> str | None:
    """The module a lazy-import helper called with a literal module name loads
    (``importlib.import_module("pymysql")``, ``LazyLoader("asyncpg", globals(), "asyncpg")``)."""
    from txlint.resources import LAZY_IMPORT_FUNCTIONS, LAZY_IMPORT_HELPERS

    func = call.func
    ref = ast_ref(func, lookup)
    last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if not (ref in LAZY_IMPORT_FUNCTIONS or last in LAZY_IMPORT_HELPERS):
        return None
    names = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    names += [k.value.value for k in call.keywords
              if k.arg in ("name", "module", "module_name") and isinstance(k.value, ast.Constant)
              and isinstance(k.value.value, str)]
    if not names:
        return None
    target = names[-1]
    if not all(part.isidentifier() for part in target.split(".")):
        return None
    return target


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


def symbols_from_ast(tree: ast.Module, module: str, is_package: bool = False, path: str = "",
                     has_globals: bool | frozenset[int] = True, source: str | bytes | None = None) -> ModuleSymbols:
    """Read a module's top-level bindings (into ``try``/``if`` blocks, not ``__main__`` guards).
    ``has_globals=False`` (the source has no ``global`` statement) skips looking for globals that
    functions assign; the numbers of the lines that say ``global`` (:func:`global_lines`) narrow
    that search to the functions around them.  ``source``, the text ``tree`` was parsed from, gives
    those lines and the symbols' ``size``."""
    syms = ModuleSymbols(module=module, path=path, is_package=is_package)
    if source is not None:
        has_globals = global_lines(source)
        syms.size = len(source)
    b = syms.bindings

    def bind(name: str, ref: str | None) -> None:
        if ref and name not in b:  # first binding wins (try/except ImportError fallbacks)
            b[name] = ref

    for stmt in module_statements(tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            _import_bindings(stmt, module, is_package, bind, syms.star)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            syms.functions.setdefault(stmt.name, stmt)
            bind(stmt.name, f"{module}.{stmt.name}" if module else stmt.name)
        elif isinstance(stmt, ast.ClassDef):
            syms.classes.setdefault(stmt.name, stmt)
            bind(stmt.name, f"{module}.{stmt.name}" if module else stmt.name)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = stmt.value
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                # `engine: Engine | None = None`: the annotation types the global, unless a call of
                # a known factory (bound below) says more
                called = _ast_dotted(value, b) if isinstance(value, ast.Call) else None
                if not called or called.startswith("<local>."):
                    ann = annotation_ref(stmt.annotation, b.get)
                    if ann:
                        bind(stmt.target.id, ann)
            if value is None:
                continue
            if isinstance(value, ast.Call):
                lazy = lazy_import_target(value, b.get)
                if lazy:
                    for target in targets:
                        if isinstance(target, ast.Name):
                            bind(target.id, lazy)
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
    if has_globals:
        _bind_function_globals(tree, syms, bind, None if has_globals is True else has_globals)
    return syms


def _bind_function_globals(tree: ast.Module, syms: ModuleSymbols, bind,
                           lines: frozenset[int] | None = None) -> None:
    """Module globals that functions assign through ``global x`` (an engine or client created on
    first use): bound to what is assigned, unless the module binds the name itself.  ``lines``
    (:func:`global_lines`) narrows the functions looked into to those that span one."""
    for fn in _functions_declaring_global(tree, lines):
        names = {n for stmt in ast.walk(fn) if isinstance(stmt, ast.Global) for n in stmt.names}
        local_imports: dict[str, str] = {}
        for node in ast.walk(fn):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                _import_bindings(node, syms.module, syms.is_package, local_imports.setdefault)
        lookup = lambda n: local_imports.get(n) or syms.bindings.get(n)  # noqa: E731
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                targets, value, ann = node.targets, node.value, None
            elif isinstance(node, ast.AnnAssign):
                targets, value, ann = [node.target], node.value, node.annotation
            else:
                continue
            for target in targets:
                if not (isinstance(target, ast.Name) and target.id in names):
                    continue
                ref = None
                if isinstance(value, ast.Call):
                    ref = lazy_import_target(value, lookup) or ast_ref(value, lookup)
                if (ref is None or ref.startswith("<local>.")) and ann is not None:
                    ref = annotation_ref(ann, lookup)
                if ref and not ref.startswith("<local>."):
                    bind(target.id, ref)


def global_lines(source: str | bytes) -> frozenset[int]:
    """Numbers of the lines that hold the word ``global`` (in a statement, a string or a comment):
    only a function that spans one of them can declare a global (line breaks as the tokenizer
    counts them: CRLF, CR or LF).  Empty when the source never says ``global``."""
    if isinstance(source, str):
        if "global" not in source:
            return frozenset()
        source = source.encode("utf-8", "surrogatepass")
    lines: set[int] = set()
    line, done = 1, 0
    pos = source.find(b"global")
    while pos >= 0:
        chunk = source[done:pos]
        line += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
        lines.add(line)
        done = pos
        pos = source.find(b"global", pos + 6)
    return frozenset(lines)


def _functions_declaring_global(tree: ast.Module, lines: frozenset[int] | None = None):
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if lines is not None and not any(node.lineno <= n <= (node.end_lineno or node.lineno) for n in lines):
                continue
            if any(isinstance(n, ast.Global) for n in ast.walk(node)):
                yield node
        elif isinstance(node, (ast.ClassDef, ast.If, ast.Try, ast.With)) or type(node).__name__ == "TryStar":
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, ()) or ():
                    stack.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])


def _import_bindings(stmt: ast.AST, module: str, is_package: bool, bind, star: list | None = None) -> None:
    """What an ``import`` statement binds, as name -> ref, through ``bind(name, ref)``."""
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
                if star is not None and base:
                    star.append(base)
                continue
            bind(alias.asname or alias.name, f"{base}.{alias.name}" if base else alias.name)


#: set in worker processes (``runner.tune_gc``): after a trim's collection, what survives is frozen
#: (:func:`gc.freeze`), so that the next trims' collections do not walk it again
FREEZE_AFTER_TRIM = False


class ProjectModules:
    """Finds and reads other modules of the analysed project lazily, from disk, with :mod:`ast`."""

    def __init__(self, roots: list[str] | None = None, boundary: list[str] | None = None,
                 bindings_only: frozenset[str] | set[str] = frozenset()):
        self.roots = [os.path.abspath(r) for r in (roots or [])]
        #: top-level packages whose modules are read only for what they bind (their imports and
        #: re-exports; never their functions, classes or bodies): their symbols are kept without
        #: any tree, so they are small and survive :meth:`trim`
        self.bindings_only = frozenset(bindings_only)
        self._durable: dict[str, ModuleSymbols] = {}  # path -> bindings-only symbols
        #: (import root of the analysed file, module) -> its file (module_file)
        self._files: dict[tuple[str | None, str], str | None] = {}
        #: the import root of the file being analysed (:meth:`enter`): searched first, then the
        #: import roots above it, then ``roots``
        self.current: str | None = None
        self._search: list[str] = list(self.roots)
        self._import_roots: dict[str, str] = {}  # folder -> its import root
        self._mentions: dict[str, bool] = {}  # path -> whether it passed a test (mentions)
        #: the project's folders (contract §9): no module outside them is ever read, whatever the
        #: import roots (which may lie above them: the folder above an analysed package)
        self.boundary = [os.path.abspath(b) for b in boundary] if boundary is not None else list(self.roots)
        #: path -> symbols (None while being read: import cycles); keyed by file, not by module
        #: name, since two import roots may each hold an ``app`` package
        self._cache: dict[str, ModuleSymbols | None] = {}
        #: path -> (hash of its bytes, ast tree, symbols) of modules read as dependencies, so that
        #: a worker that later analyses one of them does not parse it again
        self._parsed: dict[str, tuple[int, ast.Module, ModuleSymbols]] = {}
        #: files read for the current analysis (the result cache re-checks them)
        self.touched: set[str] = set()
        #: modules whose tree was read since the last trim (held by _cache or _parsed), and the sum
        #: of their sizes: what the budget counts
        self._held: set[str] = set()
        self._held_bytes = 0

    #: source bytes of the modules whose trees a worker holds, and modules (with or without trees),
    #: before every cache built on them is dropped (bounded memory).  Bytes, not modules, are what
    #: the memory follows: on the bench corpus the 150 modules a count budget held weighed anything
    #: from a few kB (re-exports, bindings-only libraries) to 2.3 MB.
    MAX_BYTES = 4_000_000
    MAX_MODULES = 2000
    #: trees of modules read as dependencies kept for the worker's own analysis of them later
    MAX_PARSED = 200

    def trim(self) -> None:
        """Between two files: when many modules are held, drop them and every fact computed from
        them (kinds, summaries, ownership live in ``_txlint_*`` attributes) at once, so that no
        cache keyed by a node's identity outlives its node."""
        if self._held_bytes <= self.MAX_BYTES and len(self._cache) <= self.MAX_MODULES:
            return
        self._cache.clear()
        self._held.clear()
        self._held_bytes = 0
        self._parsed.clear()
        for name in [n for n in vars(self) if n.startswith("_txlint_")]:
            store = vars(self).pop(name)  # a dict of stores (kinds, summaries, ownership)
            for value in store.values():
                if hasattr(value, "dismantle"):
                    value.dismantle()
            store.clear()
        # what may still hold cycles is collected now, while little is alive, rather than in the
        # collector's next full pass over everything
        gc.collect()
        if FREEZE_AFTER_TRIM:
            gc.freeze()

    def parsed(self, path: str, data: bytes) -> tuple[ast.Module, ModuleSymbols] | None:
        """The tree and symbols of ``path`` when it was read as a dependency with these bytes."""
        found = self._parsed.pop(os.path.abspath(path), None)
        if found is None or found[0] != hash(data):
            return None
        return found[1], found[2]

    def enter(self, path: str) -> None:
        """Resolve imports as the file ``path`` sees them: from its own import root first, then
        from the import roots (folders that are not packages) above it inside the project, then
        from ``roots``.  What a module name means depends only on the importing file, never on
        which files this process analysed before (output identical for any ``--jobs``)."""
        folder = os.path.dirname(os.path.abspath(path))
        root = self._import_roots.get(folder)
        if root is None:
            root = self._import_roots[folder] = import_root_for(path)
        if root == self.current:
            return
        self.current = root
        search = [root]
        probe, parent = root, os.path.dirname(root)
        while parent != probe and self.inside(parent):
            if not os.path.isfile(os.path.join(parent, "__init__.py")):
                search.append(parent)
            probe, parent = parent, os.path.dirname(parent)
        self._search = search + [r for r in self.roots if r not in search]

    def module_file(self, module: str) -> str | None:
        """``find_file``, remembered."""
        files = self._files
        key = (self.current, module)
        if key not in files:
            files[key] = self.find_file(module)
        return files[key]

    def mentions(self, path: str, test: Callable[[bytes], bool]) -> bool:
        """Whether the bytes of ``path`` pass ``test`` (remembered per file)."""
        seen = self._mentions
        if path not in seen:
            try:
                with open(path, "rb") as handle:
                    seen[path] = test(read_at_most(handle, 4_000_000))
            except OSError:
                seen[path] = False
        return seen[path]

    def find_file(self, module: str) -> str | None:
        rel = module.replace(".", os.sep)
        for root in self._search:
            for candidate in (os.path.join(root, rel + ".py"), os.path.join(root, rel, "__init__.py")):
                if os.path.isfile(candidate) and self.inside(candidate):
                    return candidate
        return None

    def inside(self, path: str) -> bool:
        """``path`` lies in the project (see ``boundary``)."""
        path = os.path.abspath(path)
        return any(path == b or path.startswith(b.rstrip(os.sep) + os.sep) for b in self.boundary)

    def symbols(self, module: str) -> ModuleSymbols | None:
        path = self.module_file(module)  # absolute and normalised, as every search root is
        if path is None:
            return None
        cache = self._cache
        if path in cache:
            cached = cache[path]
            if cached is not None and cached.path:
                self.touched.add(cached.path)
            return cached
        durable = self._durable.get(path)
        if durable is not None:
            cache[path] = durable
            self.touched.add(durable.path)
            return durable
        cache[path] = None  # guards against import cycles
        syms = self.load(path, module)
        if syms is not None:
            syms = self._kept(module, syms)
        cache[path] = syms
        self.touched.add(path)
        return syms

    def _count(self, path: str, size: int) -> None:
        """Count the tree of ``path`` (``size`` bytes of source) against the budget, once."""
        if size and path not in self._held:
            self._held.add(path)
            self._held_bytes += size

    def load(self, path: str, module: str | None = None) -> ModuleSymbols | None:
        if not self.inside(path):
            return None
        try:
            with open(path, "rb") as handle:
                data = read_at_most(handle, 4_000_000)
            tree = ast.parse(data, filename=path)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        if module is None:
            module, is_package = module_name_for(path)
        else:
            is_package = os.path.basename(path) == "__init__.py"
        syms = symbols_from_ast(tree, module, is_package, path, source=data)
        self._count(os.path.abspath(path), syms.size)
        parsed = self._parsed
        parsed[os.path.abspath(path)] = (hash(data), tree, syms)
        if len(parsed) > self.MAX_PARSED:
            del parsed[next(iter(parsed))]  # the oldest: bounded memory
        return syms

    def remember(self, syms: ModuleSymbols) -> None:
        """The symbols of an analysed module, for the files after it that import it (what they
        see must not depend on whether this module was analysed before them or read for them)."""
        if syms.module:
            key = os.path.abspath(syms.path)
            self._count(key, syms.size)
            self._cache[key] = self._kept(syms.module, syms)

    def _kept(self, module: str, syms: ModuleSymbols) -> ModuleSymbols:
        """``syms`` as other modules see it: a module of a ``bindings_only`` package, only its
        bindings (kept across trims)."""
        if module.partition(".")[0] not in self.bindings_only:
            return syms
        key = os.path.abspath(syms.path)
        kept = self._durable.get(key)
        if kept is None:
            kept = self._durable[key] = ModuleSymbols(syms.module, syms.path, syms.is_package,
                                                         dict(syms.bindings), star=list(syms.star))
        return kept


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
            ref = self.star_lookup(name)
            if ref is None:
                return None
        return self.canonical(ref)

    def star_lookup(self, name: str) -> str | None:
        """A name that ``from M import *`` may have bound: M binds it (a project module, read), or
        the table knows ``M.name``. Private names are not exported by a star import."""
        if name.startswith("_"):
            return None
        for module in self.symbols.star:
            syms = self.module_symbols(module)
            if syms is not None:
                if name in syms.bindings:
                    return f"{module}.{name}"
            elif self.knows(f"{module}.{name}"):
                return f"{module}.{name}"
        return None

    def knows(self, ref: str) -> bool:
        return False

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
            syms = self.module_symbols(module)
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

    def module_symbols(self, module: str) -> ModuleSymbols | None:
        if module == self.symbols.module:
            return self.symbols
        if self._stdlib(module):
            return None
        return self.project.symbols(module)

    def _stdlib(self, module: str) -> bool:
        return False

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
