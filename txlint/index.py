"""The project index: what each module of the project says about long-running workers.

One cheap pass (CPython :mod:`ast`, never libcst, never importing) per module records:

* what names resolve to (through :mod:`txlint.names` -- there is no second resolver here);
* session registries (``db = SQLAlchemy()``, ``Session = scoped_session(...)``, module-level sessions)
  and the *identity* of each (the project binding that created it, ``app.extensions.db.session``),
  so that a use in ``app/tasks.py`` and a ``remove()`` in ``app/signals.py`` can be matched;
* Celery tasks (``@app.task``, ``@shared_task``, ``@celery.task``, configured ``task-decorators``,
  ``@x.task`` on an imported app object whose module is outside the analysed tree) and
  class-based tasks (subclasses of ``celery.Task`` / ``app.Task``);
* Task base classes and what their ``after_return`` / ``__call__`` do;
* Celery signal handlers (``task_postrun`` / ``task_prerun``) anywhere in the project and which
  registries they remove.  Only files whose bytes mention those signals are parsed for this.

Rules reach it through :func:`index_for` (``ctx.fact``); other modules are read lazily from disk
through ``ctx.project`` (:class:`txlint.names.ProjectModules`), and everything is cached per
process, so each module is indexed once per run.  What cannot be seen (a module outside the tree)
is never taken as proof of a leak.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator

from txlint import resources as R
from txlint.names import ModuleSymbols, ProjectModules, Resolver, module_name_for

if TYPE_CHECKING:  # pragma: no cover
    from txlint.context import FileContext

#: a registry "cleaned" by every cleanup (an app context's teardown)
ALL = "*"
#: methods on a registry that release it rather than use it
REGISTRY_RELEASE = frozenset({"remove", "close"})
#: methods on a registry that are configuration, not use
REGISTRY_NEUTRAL = frozenset({"remove", "close", "configure", "registry"})
CLEANUP_SIGNALS = frozenset({"celery.signals.task_postrun", "celery.signals.task_prerun"})
TASK_BASE_REFS = frozenset({"celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.task.base.Task"})
_SIGNAL_BYTES = (b"task_postrun", b"task_prerun", b"task_cls", b".Task =", b".Task=")
_SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "build", "dist", "__pycache__", ".tox", ".eggs",
                        ".txlint_cache", ".mypy_cache", ".pytest_cache", "site-packages"})
MAX_SCAN_FILES = 20000
MAX_DEPTH = 6


# ------------------------------------------------------------------ resolution over ast
def ast_chain(node: ast.AST) -> tuple[str | None, str]:
    """(root name, suffix) of a dotted expression: ``db.session.add()`` -> ("db", ".session.add()")."""
    suffix: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            suffix.append("." + node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            suffix.append("()")
            node = node.func
        elif isinstance(node, ast.Subscript):
            suffix.append("[]")
            node = node.value
        elif isinstance(node, ast.Await):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id, "".join(reversed(suffix))
        else:
            return None, ""


class ModuleView:
    """One module seen through the resolver: refs and identities of its ast expressions."""

    def __init__(self, syms: ModuleSymbols, project: ProjectModules, table: R.ResourceTable,
                 resolver: Resolver | None = None, tree: ast.Module | None = None):
        self.syms = syms
        self.project = project
        self.table = table
        self.resolver = resolver or Resolver(syms, project)
        self._tree = tree
        self._origin: dict[str, str | None] = {}

    @property
    def module(self) -> str:
        return self.syms.module

    @property
    def tree(self) -> ast.Module | None:
        if self._tree is None and self.syms.path:
            try:
                with open(self.syms.path, "rb") as handle:
                    self._tree = ast.parse(handle.read(4_000_000))
            except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
                self._tree = ast.Module(body=[], type_ignores=[])
        return self._tree

    def ref(self, node: ast.AST, local: dict[str, str | None] | None = None) -> str | None:
        """Canonical ref of an expression (``None`` for locals the caller does not know)."""
        root, suffix = ast_chain(node)
        if root is None:
            return None
        if local is not None and root in local:
            base = local[root]
            if base is None:
                return None
        else:
            base = self.syms.bindings.get(root)
            if base is None:
                return None
        out = base + suffix
        return self.resolver.canonical(out) if "." in out else out

    def kind(self, node: ast.AST, local=None) -> R.Kind | None:
        return self.table.kind_of_ref(self.ref(node, local))

    def origin(self, node: ast.AST, local=None) -> str | None:
        """Identity of what an expression names: the project binding that created it
        (``app.extensions.db.session``), or the import path when it comes from outside the tree."""
        root, suffix = ast_chain(node)
        if root is None or (local is not None and root in local):
            return None
        return self.origin_of_name(root, suffix)

    def origin_of_name(self, name: str, suffix: str = "") -> str | None:
        key = name + "\x00" + suffix
        if key in self._origin:
            return self._origin[key]
        self._origin[key] = None
        out = _origin(self.syms, self.project, name, suffix)
        self._origin[key] = out
        return out

    def is_external(self, name: str) -> bool:
        """The name is imported from a module that is not part of the analysed tree."""
        raw = self.syms.bindings.get(name)
        if not raw or name in self.syms.calls or name in self.syms.functions or name in self.syms.classes:
            return False
        head = raw.split("()")[0]
        parts = head.split(".")
        for i in range(len(parts) - 1, 0, -1):
            if self.project.symbols(".".join(parts[:i])) is not None:
                return False
        return self.project.find_file(parts[0]) is None


def _origin(syms: ModuleSymbols, project: ProjectModules, name: str, suffix: str) -> str | None:
    for _ in range(MAX_DEPTH + 2):
        if name in syms.calls or name in syms.classes or name in syms.functions:
            return f"{syms.module}.{name}{suffix}" if syms.module else name + suffix
        raw = syms.bindings.get(name)
        if raw is None:
            return None
        full = raw + suffix
        head, sep, tail = full.partition("()")
        parts = head.split(".")
        found = None
        for i in range(len(parts) - 1, 0, -1):
            mod = ".".join(parts[:i])
            other = syms if mod == syms.module else project.symbols(mod)
            if other is not None:
                found = (other, parts[i], ".".join(parts[i + 1:]))
                break
        if found is None:
            return full
        other, nm, rest = found
        extra = ("." + rest if rest else "") + sep + tail
        if other is syms and nm == name:
            return full
        syms, name, suffix = other, nm, extra
    return None


# ------------------------------------------------------------------ per-process caches
_VIEWS: dict[tuple[int, str], ModuleView] = {}
_SIGNALS: dict[tuple, "SignalIndex"] = {}


def view_for(ctx: "FileContext") -> ModuleView:
    def make(c: "FileContext") -> ModuleView:
        tree = c.ast if c.ast is not None else ast.parse(c.text)
        return ModuleView(c.symbols, c.project, c.table, c.resolver, tree)

    return ctx.fact("index.view", make)


def view_of_module(ctx: "FileContext", module: str) -> ModuleView | None:
    here = view_for(ctx)
    if module == here.module:
        return here
    syms = ctx.project.symbols(module)
    if syms is None:
        return None
    key = (id(ctx.project), module)
    view = _VIEWS.get(key)
    if view is None or view.syms is not syms or view.table is not ctx.table:
        view = _VIEWS[key] = ModuleView(syms, ctx.project, ctx.table)
    return view


def definition(ctx: "FileContext", view: ModuleView, node: ast.AST) -> tuple[ModuleView, ast.AST] | None:
    """The project function or class an expression names, with the view of its module."""
    root, suffix = ast_chain(node)
    if root is None or "()" in suffix or "[]" in suffix:
        return None
    if not suffix and root in view.syms.functions:
        return view, view.syms.functions[root]
    if not suffix and root in view.syms.classes:
        return view, view.syms.classes[root]
    ref = view.ref(node)
    if not ref or "()" in ref:
        return None
    found = view.resolver.project_module_of(ref)
    if found is None:
        return None
    syms, name = found
    other = view_of_module(ctx, syms.module)
    if other is None:
        return None
    target = syms.functions.get(name) or syms.classes.get(name)
    return (other, target) if target is not None else None


# ------------------------------------------------------------------ registries
@dataclass(frozen=True)
class RegistryUse:
    identity: str      # matched against cleanups
    label: str         # as written: "db.session", "Session", "User.query"
    line: int
    col: int
    via: str = ""      # "load_user() in app/services.py" when reached through a helper


def registry_of(ctx: "FileContext", view: ModuleView, node: ast.AST, local: dict | None = None) -> tuple[str, str] | None:
    """(identity, label) when ``node`` is a scoped session registry or a module-level session."""
    if not isinstance(node, (ast.Name, ast.Attribute, ast.Call)):
        return None
    root, suffix = ast_chain(node)
    if root is None or (local is not None and root in local) or "[]" in suffix:
        return None
    if isinstance(node, ast.Call):
        return None
    kind = view.kind(node)
    label = ast.unparse(node) if hasattr(ast, "unparse") else root + suffix
    if kind is not None:
        if kind.category == R.SCOPED_REGISTRY or (kind.category == R.SESSION and "()" not in suffix):
            ident = view.origin(node)
            return (ident or view.ref(node) or label), label
        return None
    if isinstance(node, ast.Attribute):
        # Model.query of a Flask-SQLAlchemy model
        if node.attr == "query":
            target = definition(ctx, view, node.value)
            if target is not None and isinstance(target[1], ast.ClassDef):
                ident = model_registry(ctx, target[0], target[1], 0)
                if ident:
                    return ident, label
        # §8: `db.session` of a `db` imported from outside the analysed tree
        if node.attr == "session" and isinstance(node.value, ast.Name) and view.is_external(node.value.id):
            return (view.origin(node) or label), label
    return None


def model_registry(ctx: "FileContext", view: ModuleView, cls: ast.ClassDef, depth: int) -> str | None:
    """Identity of ``db.session`` for a class deriving (maybe indirectly) from ``db.Model``."""
    if depth > MAX_DEPTH:
        return None
    for base in cls.bases:
        if isinstance(base, ast.Attribute) and base.attr == "Model":
            kind = view.kind(base.value)
            if kind is not None and kind.category == R.EXTENSION:
                return (view.origin(base.value) or view.ref(base.value) or "db") + ".session"
            if kind is None and isinstance(base.value, ast.Name) and view.is_external(base.value.id):
                return (view.origin(base.value) or base.value.id) + ".session"
        target = definition(ctx, view, base)
        if target is not None and isinstance(target[1], ast.ClassDef) and target[1] is not cls:
            found = model_registry(ctx, target[0], target[1], depth + 1)
            if found:
                return found
    return None


def local_names(fn: ast.AST) -> set[str]:
    """Names bound inside a function (parameters, assignments, imports, nested defs)."""
    out: set[str] = set()
    args = getattr(fn, "args", None)
    if args is not None:
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            out.add(a.arg)
        if args.vararg:
            out.add(args.vararg.arg)
        if args.kwarg:
            out.add(args.kwarg.arg)
    globals_: set[str] = set()
    for node in walk_function(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            globals_.update(node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not fn:
            out.add(node.name)
    return out - globals_


def walk_function(fn: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function body, not entering nested functions, classes or lambdas."""
    stack = list(reversed(getattr(fn, "body", [])))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            # decorators and defaults run here, the body does not
            for d in getattr(node, "decorator_list", []):
                stack.append(d)
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def released_registries(ctx: "FileContext", view: ModuleView, stmts: Iterable[ast.stmt], depth: int = 0,
                        conditional_ok: bool = False) -> set[str]:
    """Identities a block removes or closes on every way through it (calls under ``if``/loops/
    ``except`` do not count), following project helpers it calls."""
    out: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While)) and not conditional_ok:
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, ast.Try):
            out |= released_registries(ctx, view, stmt.body, depth, conditional_ok)
            out |= released_registries(ctx, view, stmt.finalbody, depth, conditional_ok)
            continue
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            out |= released_registries(ctx, view, stmt.body, depth, conditional_ok)
            continue
        for node in ast.walk(stmt):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in REGISTRY_RELEASE:
                reg = registry_of(ctx, view, func.value)
                if reg is not None:
                    out.add(reg[0])
                    continue
            if depth < 2:
                target = definition(ctx, view, func)
                if target is not None and isinstance(target[1], (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out |= released_registries(ctx, target[0], target[1].body, depth + 1, conditional_ok)
    return out


# ------------------------------------------------------------------ Celery apps, tasks, bases
def is_celery_app(view: ModuleView, node: ast.AST) -> bool:
    kind = view.kind(node)
    if kind is not None:
        return kind.category == R.CELERY_APP
    ref = view.ref(node) or ""
    head = ref.split("()")[0].rsplit(".", 1)[-1].lower()
    if ref.endswith("()") and "celery" in head:
        return True  # app = make_celery(flask_app)
    return isinstance(node, ast.Name) and view.is_external(node.id)


def task_decorator(ctx: "FileContext", view: ModuleView, dec: ast.AST) -> tuple[bool, ast.AST | None, ast.AST | None]:
    """(is a task decorator, the app object it hangs on, the ``base=`` argument)."""
    call = dec if isinstance(dec, ast.Call) else None
    target = call.func if call is not None else dec
    base = None
    if call is not None:
        for kw in call.keywords:
            if kw.arg == "base":
                base = kw.value
    ref = view.ref(target)
    names = set(ctx.table.task_decorators) | set(getattr(ctx.options, "task_decorators", ()) or ())
    if ref and ref in names:
        return True, None, base
    raw_root, suffix = ast_chain(target)
    if raw_root is not None:
        raw = (view.syms.bindings.get(raw_root) or "") + suffix
        if raw and raw in names:
            return True, None, base
    if isinstance(target, ast.Attribute) and target.attr in R.CELERY_APP_TASK_ATTRS:
        if is_celery_app(view, target.value):
            return True, target.value, base
    return False, None, base


def is_task_class(ctx: "FileContext", view: ModuleView, cls: ast.ClassDef, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    for base in cls.bases:
        ref = view.ref(base)
        if ref in TASK_BASE_REFS:
            return True
        if isinstance(base, ast.Attribute) and base.attr == "Task" and is_celery_app(view, base.value):
            return True
        target = definition(ctx, view, base)
        if target is not None and isinstance(target[1], ast.ClassDef) and target[1] is not cls:
            if is_task_class(ctx, target[0], target[1], depth + 1):
                return True
    return False


def _method(cls: ast.ClassDef, name: str):
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
            return stmt
    return None


def _runs_in_app_context(fn: ast.AST) -> bool:
    """``__call__`` that runs the task inside ``with app.app_context():``."""
    for node in walk_function(fn):
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(_is_app_context(i.context_expr) for i in node.items):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and \
                        inner.func.attr in ("run", "__call__"):
                    return True
    return False


def _is_app_context(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and \
        expr.func.attr in ("app_context", "test_request_context")


def class_cleanups(ctx: "FileContext", view: ModuleView, cls: ast.ClassDef, depth: int = 0) -> set[str]:
    """Registries a Task class removes after every run (``after_return``, ``__call__``)."""
    out: set[str] = set()
    if depth > MAX_DEPTH:
        return out
    after = _method(cls, "after_return")
    if after is not None:
        out |= released_registries(ctx, view, after.body)
    call = _method(cls, "__call__")
    if call is not None:
        if _runs_in_app_context(call):
            out.add(ALL)
        for node in walk_function(call):
            if isinstance(node, ast.Try) and node.finalbody:
                out |= released_registries(ctx, view, node.finalbody)
    for base in cls.bases:
        target = definition(ctx, view, base)
        if target is not None and isinstance(target[1], ast.ClassDef) and target[1] is not cls:
            out |= class_cleanups(ctx, target[0], target[1], depth + 1)
    return out


def app_task_class_cleanups(ctx: "FileContext", view: ModuleView, app_node: ast.AST | None) -> set[str]:
    """Cleanups of the default Task class of the app a task hangs on: ``app.Task = ContextTask``,
    ``Celery(..., task_cls=ContextTask)`` in the module that creates the app, in a factory it
    calls (``make_celery``), or in the task's own module."""
    out: set[str] = set()
    places: list[tuple[ModuleView, list[ast.AST]]] = [(view, [view.tree] if view.tree else [])]
    if app_node is not None:
        root, _ = ast_chain(app_node)
        ident = view.origin(app_node) if root else None
        if ident:
            module, _, name = ident.split("()")[0].rpartition(".")
            other = view_of_module(ctx, module) if module else None
            if other is not None and other is not view and other.tree is not None:
                places.append((other, [other.tree]))
            if other is not None and name in other.syms.calls:
                target = definition(ctx, other, other.syms.calls[name].func)
                if target is not None and isinstance(target[1], (ast.FunctionDef, ast.AsyncFunctionDef)):
                    places.append((target[0], [target[1]]))
    for v, roots in places:
        for root_node in roots:
            out |= _task_class_cleanups_in(ctx, v, root_node)
    return out


def _class_named(ctx, view: ModuleView, expr: ast.AST, scope: ast.AST):
    if isinstance(expr, ast.Name):
        for node in ast.walk(scope):
            if isinstance(node, ast.ClassDef) and node.name == expr.id:
                return view, node
    target = definition(ctx, view, expr)
    if target is not None and isinstance(target[1], ast.ClassDef):
        return target
    return None


# ------------------------------------------------------------------ signal handlers (project-wide)
@dataclass
class SignalHandler:
    signal: str
    path: str
    line: int
    name: str
    removes: frozenset[str]


@dataclass
class SignalIndex:
    handlers: list[SignalHandler] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: cleanups of the project's default Task classes (``Celery(..., task_cls=C)``, ``app.Task = C``),
    #: which every task of the app runs through -- ``@shared_task`` ones included
    task_class_cleanups: set[str] = field(default_factory=set)

    def cleaned(self) -> set[str]:
        out: set[str] = set(self.task_class_cleanups)
        for h in self.handlers:
            if h.signal in CLEANUP_SIGNALS:
                out |= h.removes
        return out


def _project_files(roots: list[str]) -> Iterator[str]:
    seen = 0
    roots = sorted(set(os.path.abspath(r) for r in roots if os.path.isdir(r)), key=len)
    kept: list[str] = []
    for r in roots:
        if not any(r == k or r.startswith(k + os.sep) for k in kept):
            kept.append(r)
    for root in kept:
        for directory, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
            for name in sorted(files):
                if name.endswith(".py"):
                    seen += 1
                    if seen > MAX_SCAN_FILES:
                        return
                    yield os.path.join(directory, name)


def signal_index(ctx: "FileContext") -> SignalIndex:
    """Celery signal handlers of the whole project (computed once per process and project)."""
    key = (id(ctx.project), tuple(ctx.project.roots), id(ctx.table))
    found = _SIGNALS.get(key)
    if found is not None:
        return found
    index = SignalIndex()
    here = os.path.abspath(ctx.path)
    paths = list(_project_files(ctx.project.roots))
    if here not in paths and os.path.isfile(here):
        paths.append(here)
    for path in paths:
        try:
            if os.path.abspath(path) == here:
                data = ctx.text.encode("utf-8", "surrogatepass")
            else:
                with open(path, "rb") as handle:
                    data = handle.read(4_000_000)
        except OSError:
            continue
        if not any(s in data for s in _SIGNAL_BYTES):
            continue
        index.files.append(path)
        for handler in _handlers_in(ctx, path, data):
            if handler.signal == "celery.Task":
                index.task_class_cleanups |= handler.removes
            else:
                index.handlers.append(handler)
    _SIGNALS[key] = index
    return index


def _handlers_in(ctx: "FileContext", path: str, data: bytes) -> list[SignalHandler]:
    if os.path.abspath(path) == os.path.abspath(ctx.path):
        view = view_for(ctx)
        tree = view.tree
    else:
        module, _ = module_name_for(path)
        syms = ctx.project.symbols(module) if module else None
        if syms is None or os.path.abspath(syms.path) != os.path.abspath(path):
            syms = ctx.project.load(path)
        if syms is None:
            return []
        view = ModuleView(syms, ctx.project, ctx.table)
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return []
    if tree is None:
        return []
    if b"Task" in data or b"task_cls" in data:
        found = _task_class_cleanups_in(ctx, view, tree)
        if found:
            out_cls = SignalHandler("celery.Task", path, 1, "<default Task class>", frozenset(found))
            return [out_cls] + _signal_handlers(ctx, view, tree, path)
    return _signal_handlers(ctx, view, tree, path)


def _task_class_cleanups_in(ctx, view: ModuleView, tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        cls_expr = None
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "Task"
                                                for t in node.targets):
            cls_expr = node.value
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "task_cls":
                    cls_expr = kw.value
        if cls_expr is None:
            continue
        cls = _class_named(ctx, view, cls_expr, tree)
        if cls is not None:
            out |= class_cleanups(ctx, cls[0], cls[1])
    return out


def _signal_handlers(ctx, view: ModuleView, tree: ast.AST, path: str) -> list[SignalHandler]:
    defs: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs.setdefault(node.name, node)
    out: list[SignalHandler] = []

    def signal_of(expr: ast.AST) -> str | None:
        # `task_postrun.connect` or `task_postrun.connect(sender=...)`
        if isinstance(expr, ast.Call):
            expr = expr.func
        if isinstance(expr, ast.Attribute) and expr.attr == "connect":
            ref = view.ref(expr.value)
            if ref in R.CELERY_SIGNALS:
                return ref
        return None

    def add(sig: str, fn: ast.AST) -> None:
        removes = frozenset(released_registries(ctx, view, fn.body))
        out.append(SignalHandler(sig, path, fn.lineno, fn.name, removes))

    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                sig = signal_of(dec)
                if sig:
                    add(sig, node)
        elif isinstance(node, ast.Call) and node.args:
            sig = signal_of(node.func) if isinstance(node.func, ast.Attribute) else None
            if sig and isinstance(node.args[0], ast.Name) and node.args[0].id in defs:
                add(sig, defs[node.args[0].id])
    return out


# ------------------------------------------------------------------ module index
@dataclass
class TaskInfo:
    node: ast.AST                  # the function (or the class-based task's ``run``)
    name: str
    cls: ast.ClassDef | None = None
    app: ast.AST | None = None     # the app object of @app.task
    base: ast.AST | None = None    # base= of the decorator


@dataclass
class ModuleIndex:
    view: ModuleView
    tasks: list[TaskInfo] = field(default_factory=list)
    #: module-level name -> (identity, kind name) for session registries, Flask-SQLAlchemy extensions,
    #: session factories and module-level sessions bound or imported here
    registries: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: module-level names bound to a Celery app (``Celery(...)``, imported or local)
    celery_apps: list[str] = field(default_factory=list)


def index_for(ctx: "FileContext") -> ModuleIndex:
    return ctx.fact("index.module", _build_index)


def _build_index(ctx: "FileContext") -> ModuleIndex:
    view = view_for(ctx)
    out = ModuleIndex(view)
    tree = view.tree
    if tree is None:
        return out
    wanted = (R.SCOPED_REGISTRY, R.EXTENSION, R.SESSION_FACTORY, R.SESSION)
    for name in view.syms.bindings:
        kind = view.kind(ast.Name(id=name, ctx=ast.Load()))
        if kind is None:
            continue
        if kind.category in wanted:
            out.registries[name] = (view.origin_of_name(name) or name, kind.name)
        elif kind.category == R.CELERY_APP:
            out.celery_apps.append(name)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                is_task, app, base = task_decorator(ctx, view, dec)
                if is_task:
                    out.tasks.append(TaskInfo(node, node.name, None, app, base))
                    break
        elif isinstance(node, ast.ClassDef):
            run = _method(node, "run")
            if run is not None and is_task_class(ctx, view, node):
                out.tasks.append(TaskInfo(run, f"{node.name}.run", node))
    out.tasks.sort(key=lambda t: t.node.lineno)
    return out
