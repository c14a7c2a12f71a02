"""The project index: what each module of the project says about long-running workers.

One cheap pass (CPython :mod:`ast`, never libcst, never importing) per module records:

* what names resolve to (through :mod:`txlint.names` -- there is no second resolver here);
* session registries (``db = SQLAlchemy()``, ``Session = scoped_session(...)``, module-level sessions)
  and the *identity* of each (the project binding that created it, ``app.extensions.db.session``),
  so that a use in ``app/tasks.py`` and a ``remove()`` in ``app/signals.py`` can be matched;
* Celery tasks (``@app.task``, ``@shared_task``, ``@celery.task``, configured ``task-decorators``,
  ``@x.task`` on an imported app object whose module is outside the analysed tree) and
  class-based tasks (subclasses of ``celery.Task`` / ``app.Task``);
* Task base classes and what their ``after_return`` / ``__call__`` do (a ``finally`` that removes,
  a Flask app context);
* project-wide (:func:`worker_index`, one scan of the files inside the project's edge whose bytes
  can hold one): the Celery apps (each ``Celery(...)`` call) and the Task classes installed on each
  (``task_cls=``, ``app.Task = ...``), signal handlers (``task_postrun`` / ``task_prerun``) and the
  registries they remove, Flask teardowns and the registries they remove (contract §15).

Rules reach it through :func:`index_for` (``ctx.fact``); other modules are read lazily from disk
through ``ctx.project`` (:class:`txlint.names.ProjectModules`), and everything is cached per
process, so each module is indexed once per run.  What cannot be seen (a module outside the tree)
is never taken as proof of a leak.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from txlint import resources as R
from txlint.astfields import SCOPE_TYPES, children
from txlint.names import (ModuleSymbols, ProjectModules, Resolver, import_root_for, module_name_for,
                          symbols_from_ast)
from txlint.source import read_at_most

if TYPE_CHECKING:  # pragma: no cover
    from txlint.context import FileContext

#: a cover that ends every registry: a Task class installed on an app that txlint cannot see
ALL = "*"
#: prefix of the cover a Flask app or request context gives (see :func:`context_cover`)
CONTEXT = "<ctx>"
#: a Flask app txlint cannot name
UNKNOWN = "?"
#: prefix of the key of a Celery app object imported from outside the project
EXTERNAL = "ext:"
#: methods on a registry that release it rather than use it
REGISTRY_RELEASE = frozenset({"remove", "close"})
#: a registry's own cleanup calls, not taken as calls that can skip the cleanup after them
REGISTRY_QUIET = frozenset({"remove", "close", "rollback"})
#: methods on a registry that are configuration, not use
REGISTRY_NEUTRAL = frozenset({"remove", "close", "configure", "registry"})
CLEANUP_SIGNALS = frozenset({"celery.signals.task_postrun", "celery.signals.task_prerun"})
TASK_BASE_REFS = frozenset({"celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.task.base.Task"})
#: a module whose bytes hold none of these has no Celery app, Task install, handler or teardown
_SCAN_BYTES = (b"task_postrun", b"task_prerun", b"task_cls", b".Task", b"Celery", b"teardown_")
#: Flask: entering a context (kind of context) / registering a teardown (kind of context it runs on)
_CONTEXT_METHODS = {"app_context": "app", "test_request_context": "request"}
_TEARDOWNS = {"teardown_appcontext": "app", "teardown_request": "request", "teardown_app_request": "request"}
_REGISTERING = frozenset({"connect"}) | frozenset(_TEARDOWNS)
_CATCH_ALL = frozenset({"Exception", "BaseException"})
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
                    self._tree = ast.parse(read_at_most(handle, 4_000_000))
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
_SIGNALS: dict[tuple, "WorkerIndex"] = {}


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
    flask: bool = False  # Flask-SQLAlchemy's session (an app context's teardown removes it)


def registry_of(ctx: "FileContext", view: ModuleView, node: ast.AST, local: dict | None = None) -> tuple[str, str] | None:
    """(identity, label) when ``node`` is a scoped session registry or a module-level session."""
    found = registry_info(ctx, view, node, local)
    return (found[0], found[1]) if found is not None else None


def registry_info(ctx: "FileContext", view: ModuleView, node: ast.AST,
                  local: dict | None = None) -> tuple[str, str, bool] | None:
    """(identity, label, is Flask-SQLAlchemy's session) of a registry expression, else None."""
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
            return (ident or view.ref(node) or label), label, _is_extension_session(view, node)
        return None
    if isinstance(node, ast.Attribute):
        # Model.query of a Flask-SQLAlchemy model
        if node.attr == "query":
            target = definition(ctx, view, node.value)
            if target is not None and isinstance(target[1], ast.ClassDef):
                ident = model_registry(ctx, target[0], target[1], 0)
                if ident:
                    return ident, label, True
        # §8: `db.session` of a `db` imported from outside the analysed tree
        if node.attr == "session" and isinstance(node.value, ast.Name) and view.is_external(node.value.id):
            return (view.origin(node) or label), label, True
    return None


def _is_extension_session(view: ModuleView, node: ast.AST) -> bool:
    """``db.session`` of a Flask-SQLAlchemy extension (directly or through a module alias)."""
    ref = view.ref(node) or ""
    if not ref.endswith(".session"):
        return False
    owner = view.table.kind_of_ref(ref[: -len(".session")])
    return owner is not None and owner.category == R.EXTENSION


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
    """Nodes of a function body, not entering nested functions, classes or lambdas (contexts and
    operators are not nodes here, :mod:`txlint.astfields`)."""
    stack = list(reversed(getattr(fn, "body", [])))
    pop, append = stack.pop, stack.append
    scopes = SCOPE_TYPES
    while stack:
        node = pop()
        yield node
        if type(node) in scopes:
            # decorators and defaults run here, the body does not
            for d in getattr(node, "decorator_list", []):
                append(d)
            continue
        kids = children(node)
        kids.reverse()
        stack.extend(kids)


def _walk_here(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and what it runs itself (not the bodies of functions, classes or lambdas it defines)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                                        ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(current))


def _is_quiet_release(ctx: "FileContext", view: ModuleView, node: ast.Call) -> bool:
    """``Session.remove()`` / ``db.session.rollback()``: a registry's own cleanup, not taken as a
    call that can skip the cleanup after it."""
    func = node.func
    return isinstance(func, ast.Attribute) and func.attr in REGISTRY_QUIET and \
        registry_of(ctx, view, func.value) is not None


def may_leave_early(ctx: "FileContext", view: ModuleView, stmt: ast.stmt) -> bool:
    """Whether the statements after ``stmt`` can be skipped: it can raise (a call, ``await``,
    ``yield``, ``raise``) or return (contract §2; a registry's own ``remove()``/``close()``/
    ``rollback()`` are not counted as raising)."""
    if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        # what the body raises, a handler for everything catches (§2); a return still leaves
        catch_all = any(h.type is None or (isinstance(h.type, ast.Name) and h.type.id in _CATCH_ALL)
                        for h in stmt.handlers)
        if any(isinstance(n, ast.Return) for s in stmt.body for n in _walk_here(s)):
            return True
        if not catch_all and any(may_leave_early(ctx, view, s) for s in stmt.body):
            return True
        rest = [s for h in stmt.handlers for s in h.body] + stmt.orelse + stmt.finalbody
        return any(may_leave_early(ctx, view, s) for s in rest)
    for node in _walk_here(stmt):
        if isinstance(node, (ast.Return, ast.Raise, ast.Await, ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, ast.Call) and not _is_quiet_release(ctx, view, node):
            return True
    return False


def released_registries(ctx: "FileContext", view: ModuleView, stmts: Iterable[ast.stmt], depth: int = 0) -> set[str]:
    """Identities a block removes or closes on every way through it, following project helpers
    it calls.  A release counts only when nothing before it in the block can raise or return
    (contract §8/§15: a cleanup an early return or an exception can skip is no cleanup);
    releases under ``if``/loops/``except`` do not count, a ``finally`` always runs."""
    out: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            out |= released_registries(ctx, view, stmt.body, depth)
            out |= released_registries(ctx, view, stmt.finalbody, depth)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            out |= released_registries(ctx, view, stmt.body, depth)
        elif not isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While)) and \
                type(stmt).__name__ != "Match":
            out |= _released_by(ctx, view, stmt, depth)
        if may_leave_early(ctx, view, stmt):
            break
    return out


def _released_by(ctx: "FileContext", view: ModuleView, stmt: ast.stmt, depth: int) -> set[str]:
    out: set[str] = set()
    for node in _walk_here(stmt):
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
                out |= released_registries(ctx, target[0], target[1].body, depth + 1)
    return out


# ------------------------------------------------------------------ what covers a use (contract §15)
def context_cover(kind: str, flask_app: str | None) -> str:
    """The cover of a Flask context: ``kind`` "app" (``app_context()``, runs the app's
    ``teardown_appcontext`` functions) or "request" (``test_request_context()``, also its
    ``teardown_request`` ones); ``flask_app``: the identity of that Flask app (see
    :func:`flask_identity`), None when unknown."""
    return f"{CONTEXT}{kind}:{flask_app or UNKNOWN + '|' + UNKNOWN}"


def context_of(ctx: "FileContext", view: ModuleView, expr: ast.AST, local: dict | None = None,
               fns: tuple = ()) -> str | None:
    """The cover a ``with`` item gives when it enters a Flask app or request context (``fns``: the
    functions, innermost last, whose local names the expression may use)."""
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)):
        return None
    kind = _CONTEXT_METHODS.get(expr.func.attr)
    if kind is None:
        return None
    return context_cover(kind, flask_identity(ctx, view, expr.func.value, local, fns))


def flask_identity(ctx: "FileContext", view: ModuleView, expr: ast.AST, local: dict | None = None,
                   fns: tuple = ()) -> str:
    """``OBJECT|FACTORY`` of a Flask app expression: the module-level binding that holds the app,
    and the project function that made it (``create_app``); ``?`` for what is not known."""
    obj = factory = UNKNOWN
    root, suffix = ast_chain(expr)
    if root is None or "()" in suffix:
        return f"{obj}|{factory}"
    owner = next((f for f in reversed(fns) if root in local_names(f)), None)
    if owner is not None or (local is not None and root in local):
        if owner is not None and not suffix:
            factory = _made_by(ctx, view, owner, root) or UNKNOWN
        return f"{obj}|{factory}"
    origin = view.origin(expr)
    if origin and "()" not in origin and not origin.startswith("flask."):
        obj = origin
        module, _, name = origin.rpartition(".")
        other = view_of_module(ctx, module) if module else None
        call = other.syms.calls.get(name) if other is not None else None
        if call is not None:
            target = definition(ctx, other, call.func)
            if target is not None and isinstance(target[1], (ast.FunctionDef, ast.AsyncFunctionDef)):
                factory = f"{target[0].module}.{target[1].name}"
    return f"{obj}|{factory}"


def _made_by(ctx: "FileContext", view: ModuleView, fn: ast.AST, name: str) -> str | None:
    """The project function whose call a local ``name`` of ``fn`` is bound to (``app = create_app()``)."""
    for node in walk_function(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            target = definition(ctx, view, node.value.func)
            if target is not None and isinstance(target[1], (ast.FunctionDef, ast.AsyncFunctionDef)):
                return f"{target[0].module}.{target[1].name}"
    return None


def _enclosing_functions(view: ModuleView, node: ast.AST) -> tuple:
    """The functions (outermost first) around ``node`` in ``view``'s tree."""
    tree = view.tree
    if tree is None:
        return ()
    stack: list[tuple[ast.AST, tuple]] = [(tree, ())]
    while stack:
        current, chain = stack.pop()
        for child in ast.iter_child_nodes(current):
            if child is node:
                return chain
            inner = chain + (child,) if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else chain
            stack.append((child, inner))
    return ()


def covered(use: RegistryUse, covers: Iterable[str], teardowns: "Callable[[str, str], set[str]] | None" = None) -> bool:
    """Whether ``covers`` (registry identities, Flask context covers, ``ALL``) end ``use``'s
    session: by identity; a Flask context ends Flask-SQLAlchemy's session, and a plain registry only
    when a teardown of that Flask app removes it (``teardowns(kind, app)`` gives what they remove;
    None: not known yet, so not covered)."""
    for cover in covers:
        if cover == ALL or cover == use.identity:
            return True
        if cover.startswith(CONTEXT):
            if use.flask:
                return True
            if teardowns is not None:
                kind, _, app = cover[len(CONTEXT):].partition(":")
                if use.identity in teardowns(kind, app):
                    return True
    return False


def needs_teardowns(covers: Iterable[str]) -> bool:
    return any(c.startswith(CONTEXT) for c in covers)


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
            return True, (target.value if target.attr == "task" else None), base
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


def _app_contexts(ctx: "FileContext", view: ModuleView, cls: ast.ClassDef, fn: ast.AST) -> set[str]:
    """Covers of the Flask contexts a ``__call__`` runs the task in (``with app.app_context():
    return self.run(...)``)."""
    out: set[str] = set()
    fns = _enclosing_functions(view, cls) + (fn,)
    for node in walk_function(fn):
        if not isinstance(node, (ast.With, ast.AsyncWith)):
            continue
        contexts = [c for c in (context_of(ctx, view, i.context_expr, None, fns) for i in node.items) if c]
        if not contexts:
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and \
                    inner.func.attr in ("run", "__call__"):
                out.update(contexts)
                break
    return out


def _is_app_context(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in _CONTEXT_METHODS


def class_cleanups(ctx: "FileContext", view: ModuleView, cls: ast.ClassDef, depth: int = 0) -> set[str]:
    """What a Task class ends after every run (``after_return``, ``__call__`` with ``finally`` or
    a Flask context), its project base classes included."""
    out: set[str] = set()
    if depth > MAX_DEPTH:
        return out
    after = _method(cls, "after_return")
    if after is not None:
        out |= released_registries(ctx, view, after.body)
    call = _method(cls, "__call__")
    if call is not None:
        out |= _app_contexts(ctx, view, cls, call)
        for node in walk_function(call):
            if isinstance(node, ast.Try) and node.finalbody:
                out |= released_registries(ctx, view, node.finalbody)
    for base in cls.bases:
        target = definition(ctx, view, base)
        if target is not None and isinstance(target[1], ast.ClassDef) and target[1] is not cls:
            out |= class_cleanups(ctx, target[0], target[1], depth + 1)
    return out


def _installed_class_cleanups(ctx: "FileContext", view: ModuleView, expr: ast.AST, scope: ast.AST) -> set[str]:
    """Cleanups of a Task class installed on an app (``task_cls=`` / ``app.Task =``): a class txlint
    cannot see covers everything (never invent a leak), unless it is one of Celery's own."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        # task_cls="pkg.module:ClassName" (Celery's symbol_by_name)
        module, sep, name = expr.value.partition(":")
        if not sep:
            module, _, name = expr.value.rpartition(".")
        other = view_of_module(ctx, module) if module else None
        if other is not None and name in other.syms.classes:
            return class_cleanups(ctx, other, other.syms.classes[name])
        return set() if expr.value.startswith("celery") else {ALL}
    cls = _class_named(ctx, view, expr, scope)
    if cls is not None:
        return class_cleanups(ctx, cls[0], cls[1])
    ref = view.ref(expr) or ""
    return set() if ref.startswith("celery.") else {ALL}


def _class_named(ctx, view: ModuleView, expr: ast.AST, scope: ast.AST):
    if isinstance(expr, ast.Name):
        for node in ast.walk(scope):
            if isinstance(node, ast.ClassDef) and node.name == expr.id:
                return view, node
    target = definition(ctx, view, expr)
    if target is not None and isinstance(target[1], ast.ClassDef):
        return target
    return None


def is_celery_constructor(ctx: "FileContext", view: ModuleView, call: ast.Call, depth: int = 0) -> bool:
    """``Celery(...)`` (or a project subclass of it) creates an app; a project function that
    returns one (``make_celery()``) is a factory, not a new app."""
    target = definition(ctx, view, call.func)
    if target is not None and isinstance(target[1], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    kind = view.kind(call)
    if kind is not None:
        return kind.category == R.CELERY_APP
    if depth > 2:
        return False
    if target is not None and isinstance(target[1], ast.ClassDef):
        for base in target[1].bases:
            ref = target[0].ref(base)
            known = target[0].table.kind_of_ref(ref + "()") if ref else None
            if known is not None and known.category == R.CELERY_APP:
                return True
            inner = definition(ctx, target[0], base)
            if inner is not None and isinstance(inner[1], ast.ClassDef) and inner[1] is not target[1] and \
                    is_celery_constructor(ctx, target[0], ast.Call(func=base, args=[], keywords=[]), depth + 1):
                return True
    return False


def site_key(view: ModuleView, call: ast.AST) -> str:
    """The identity of a Celery app: where its ``Celery(...)`` call is."""
    return f"{os.path.abspath(view.syms.path or view.module)}:{call.lineno}:{call.col_offset}"


def app_sites(ctx: "FileContext", ident: str | None, depth: int = 0) -> list[str] | None:
    """Keys of the ``Celery(...)`` calls an app object (by identity: ``pkg.celery_app.celery``,
    bound to ``Celery(...)`` or to a factory that makes one) stands for; None when not known."""
    if not ident or depth > 3:
        return None
    head, sep, _ = ident.partition("()")
    module, _, name = head.rpartition(".")
    view = view_of_module(ctx, module) if module else None
    if view is None:
        return None
    if sep:  # make_celery() used directly
        fn = view.syms.functions.get(name)
        return _sites_in_function(ctx, view, fn, depth + 1) if fn is not None else None
    call = view.syms.calls.get(name)
    if call is None:
        return None
    return _sites_of_call(ctx, view, call, depth)


def _sites_of_call(ctx: "FileContext", view: ModuleView, call: ast.Call, depth: int) -> list[str] | None:
    if is_celery_constructor(ctx, view, call):
        return [site_key(view, call)]
    if depth > 3:
        return None
    target = definition(ctx, view, call.func)
    if target is not None and isinstance(target[1], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _sites_in_function(ctx, target[0], target[1], depth + 1)
    return None


def _sites_in_function(ctx: "FileContext", view: ModuleView, fn: ast.AST, depth: int) -> list[str] | None:
    """The apps a factory function makes: its ``Celery(...)`` calls, else those of the factory whose
    result it returns."""
    out = [site_key(view, n) for n in walk_function(fn) if isinstance(n, ast.Call) and
           is_celery_constructor(ctx, view, n)]
    if out:
        return out
    for node in walk_function(fn):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            found = _sites_of_call(ctx, view, node.value, depth + 1)
            if found:
                return found
    return None


def task_apps(ctx: "FileContext", view: ModuleView, task: "TaskInfo", index: "WorkerIndex") -> list[str]:
    """The apps a function task can run on (contract §15): ``@x.task`` the app ``x`` is; a
    ``@shared_task`` (or an app txlint cannot tell, such as one imported from outside the project)
    every app of its top-level package, else every app of the project."""
    if task.app is not None:
        root, _ = ast_chain(task.app)
        origin = view.origin(task.app) if root is not None else None
        keys = app_sites(ctx, origin)
        if keys:
            return keys
        if root is not None and view.is_external(root):
            return [EXTERNAL + (origin or root)]  # covered by what is installed on that same object
    return index.apps_of_package(view.module, view.syms.is_package)


# ------------------------------------------------------------------ the project's workers (one scan)
@dataclass
class SignalHandler:
    signal: str
    path: str
    line: int
    name: str
    removes: frozenset[str]


@dataclass
class Teardown:
    kind: str                 # "app" (teardown_appcontext) or "request" (teardown_request)
    flask_object: str | None  # the module-level Flask app it is registered on
    flask_factory: str | None  # or the project function whose every app gets it (neither: not known)
    path: str
    line: int
    name: str
    removes: frozenset[str]


@dataclass
class CeleryApp:
    key: str                  # see site_key
    module: str
    path: str
    line: int
    #: what the Task classes installed on it end after every task (``ALL``: a class txlint cannot see)
    cleanups: set[str] = field(default_factory=set)
    installs: int = 0
    made_by: str = ""         # the project subclass of Celery it is an instance of ("pkg.mod.FlaskCelery")


@dataclass
class WorkerIndex:
    """What the project's modules say about its Celery workers: apps and the Task classes installed
    on each, signal handlers, Flask teardowns."""

    handlers: list[SignalHandler] = field(default_factory=list)
    teardowns: list[Teardown] = field(default_factory=list)
    apps: dict[str, CeleryApp] = field(default_factory=dict)
    #: cleanups of Task classes installed on an app txlint could not tell (they count for every app)
    loose: set[str] = field(default_factory=set)
    #: cleanups of Task classes installed on app objects from outside the project, by identity
    external: dict[str, set[str]] = field(default_factory=dict)
    #: cleanups installed by the methods of a project subclass of Celery (``self.Task = C``), by class
    class_installs: dict[str, set[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def cleaned(self) -> set[str]:
        """Registries the signal handlers remove (whatever app runs the task)."""
        out: set[str] = set()
        for h in self.handlers:
            if h.signal in CLEANUP_SIGNALS:
                out |= h.removes
        return out

    def torn_down(self, kind: str, flask_app: str) -> set[str]:
        """Registries the teardowns that a Flask context of ``kind`` runs on ``flask_app``
        (``OBJECT|FACTORY``, see :func:`flask_identity`) remove: those registered on that object or
        in the factory that made it; when the app or the teardown's app is not known, every one."""
        obj, _, factory = flask_app.partition("|")
        unknown = obj == UNKNOWN and factory in (UNKNOWN, "")
        out: set[str] = set()
        for t in self.teardowns:
            if kind == "app" and t.kind != "app":
                continue  # teardown_request runs only when a request context ends
            if unknown or (t.flask_object is None and t.flask_factory is None) or \
                    (t.flask_object is not None and t.flask_object == obj) or \
                    (t.flask_factory is not None and t.flask_factory == factory):
                out |= t.removes
        return out

    def app_cleanups(self, keys: Iterable[str]) -> list[set[str]]:
        out = []
        for k in keys:
            if k in self.apps:
                out.append(self.apps[k].cleanups | self.loose)
            elif k.startswith(EXTERNAL):
                out.append(self.external.get(k, set()) | self.loose)
            else:
                out.append({ALL})
        return out

    def apps_of_package(self, module: str, is_package: bool) -> list[str]:
        """Apps a ``@shared_task`` of ``module`` can run on (contract §15): those of its top-level
        package (a module outside any package: its own), else every app of the project."""
        if "." in module or is_package:
            top = module.split(".")[0]
            mine = [k for k, a in self.apps.items() if a.module == top or a.module.startswith(top + ".")]
        else:
            mine = [k for k, a in self.apps.items() if a.module == module]
        return mine or sorted(self.apps)


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


def worker_index(ctx: "FileContext") -> WorkerIndex:
    """Celery apps, installed Task classes, signal handlers and Flask teardowns of the whole project
    (the files inside its edge, contract §9), computed once per process and project."""
    key = (id(ctx.project), tuple(ctx.project.boundary), id(ctx.table))
    found = _SIGNALS.get(key)
    if found is not None:
        return found
    index = _SIGNALS[key] = WorkerIndex()
    here = os.path.abspath(ctx.path)
    paths = list(_project_files(ctx.project.boundary))
    if here not in paths and os.path.isfile(here):
        paths.append(here)
    ctx = _IndexContext(ctx, paths)
    params: list[tuple] = []
    for path in paths:
        try:
            if os.path.abspath(path) == here:
                data = ctx.text.encode("utf-8", "surrogatepass")
            else:
                with open(path, "rb") as handle:
                    data = read_at_most(handle, 4_000_000)
        except OSError:
            continue
        if not any(s in data for s in _SCAN_BYTES):
            continue
        found_view = _view_of_file(ctx, path, data)
        if found_view is None:
            continue
        index.files.append(path)
        _scan_module(ctx, index, found_view, path, params, may_construct=b"Celery" in data)
    for view, fn, position, param, cleanups in params:
        keys = _argument_apps(ctx, paths, view, fn, position, param)
        _install(index, keys, cleanups)
    for app in index.apps.values():
        if app.made_by in index.class_installs:
            app.cleanups |= index.class_installs[app.made_by]
            app.installs += 1
    index.files = sorted(set(index.files) | ctx.project.touched)
    return index


class _IndexContext:
    """What the project scan needs of a file's context, over a module cache of its own whose import
    roots are those of every file of the project in a fixed order: the index is computed once per
    process, and must not depend on which files that process happened to analyse before."""

    def __init__(self, ctx: "FileContext", paths: list[str]):
        boundary = list(ctx.project.boundary)
        roots = boundary + [os.path.join(b, "src") for b in boundary]
        for path in paths:
            root = import_root_for(path)
            if root not in roots:
                roots.append(root)
        self.project = ProjectModules(roots, boundary=boundary)
        self.table = ctx.table
        self.options = ctx.options
        self.path = ctx.path
        self.text = ctx.text
        self.ast = ctx.ast
        self.symbols = ctx.symbols
        self.project.remember(self.symbols)
        self.resolver = Resolver(self.symbols, self.project)
        self._facts: dict = {}

    def fact(self, name, compute):
        if name not in self._facts:
            self._facts[name] = compute(self)
        return self._facts[name]


def _view_of_file(ctx: "FileContext", path: str, data: bytes) -> ModuleView | None:
    if os.path.abspath(path) == os.path.abspath(ctx.path):
        return view_for(ctx)
    module, is_package = module_name_for(path)
    syms = ctx.project.symbols(module) if module else None
    tree = None
    if syms is None or os.path.abspath(syms.path) != os.path.abspath(path):
        # not read yet: one parse gives both the symbols and the tree the scan walks
        if not ctx.project.inside(path):
            return None
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        syms = symbols_from_ast(tree, module, is_package, path, source=data)
        if module and ctx.project.find_file(module) == path:
            ctx.project.remember(syms)
    view = view_of_module(ctx, syms.module) if syms.module else None
    if view is None or view.syms is not syms:
        view = ModuleView(syms, ctx.project, ctx.table, tree=tree)
        if syms.module and ctx.project.symbols(syms.module) is syms:
            _VIEWS[(id(ctx.project), syms.module)] = view
    try:
        view._tree = view._tree or ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return view


def _install(index: WorkerIndex, keys: list[str] | None, cleanups: set[str]) -> None:
    if keys is None:
        index.loose |= cleanups
        return
    for k in keys:
        if k.startswith(EXTERNAL):
            index.external.setdefault(k, set()).update(cleanups)
            continue
        app = index.apps.get(k)
        if app is None:
            head, _, _ = k.rpartition(":")
            path, _, line = head.rpartition(":")
            app = index.apps[k] = CeleryApp(k, module_name_for(path)[0], path, int(line) if line.isdigit() else 0)
        app.cleanups |= cleanups
        app.installs += 1


def _constructs(ctx: "FileContext", view: ModuleView, call: ast.Call, seen: dict) -> bool:
    """:func:`is_celery_constructor`, memoised per callee as written in the module."""
    root, suffix = ast_chain(call.func)
    if root is None:
        return False
    key = root + suffix
    if key not in seen:
        seen[key] = is_celery_constructor(ctx, view, call)
    return seen[key]


def _scan_module(ctx: "FileContext", index: WorkerIndex, view: ModuleView, path: str, params: list,
                 may_construct: bool = True) -> None:
    tree = view.tree
    if tree is None:
        return
    seen: dict[str, bool] = {}
    module = view.module
    defs: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs.setdefault(node.name, node)
    # every function with the functions around it (a closure's names come from them)
    scopes: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(tree, ())]
    stack: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(tree, ())]
    while stack:
        node, outer = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                scopes.append((child, outer + (child,)))
                stack.append((child, outer + (child,)))
            else:
                stack.append((child, outer))
    for scope, chain in scopes:
        nodes = list(walk_function(scope)) if chain else list(_module_level(tree))
        for node in nodes:
            if isinstance(node, ast.Call) and may_construct and _constructs(ctx, view, node, seen):
                k = site_key(view, node)
                app = index.apps.setdefault(k, CeleryApp(k, module, path, node.lineno))
                app.module, app.path, app.line = module, path, node.lineno
                made = definition(ctx, view, node.func)
                if made is not None and isinstance(made[1], ast.ClassDef):
                    app.made_by = f"{made[0].module}.{made[1].name}"
                for kw in node.keywords:
                    if kw.arg == "task_cls":
                        _install(index, [k], _installed_class_cleanups(ctx, view, kw.value, tree))
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "Task"
                                                      for t in node.targets):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "Task":
                        _task_install(ctx, index, view, scope if chain else None, target.value, node.value,
                                      tree, params)
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name) and \
                    isinstance(node.func, ast.Attribute) and node.func.attr in _REGISTERING:
                # `task_postrun.connect(handler)` / `app.teardown_appcontext(handler)`
                handler = defs.get(node.args[0].id)
                if handler is not None:
                    _teardown_or_handler(ctx, index, view, path, node.func, handler, chain)
        if chain:
            for dec in getattr(scope, "decorator_list", []):
                _teardown_or_handler(ctx, index, view, path, dec, scope, chain[:-1])


def _module_level(tree: ast.Module) -> Iterator[ast.AST]:
    for stmt in tree.body:
        yield from _walk_here(stmt) if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) else \
            iter(stmt.decorator_list)


def _teardown_or_handler(ctx, index: WorkerIndex, view: ModuleView, path: str, expr: ast.AST, fn: ast.AST,
                         outer: tuple) -> None:
    # `@task_postrun.connect`, `@task_postrun.connect(weak=False)`
    if isinstance(expr, ast.Call):
        expr = expr.func
    if not isinstance(expr, ast.Attribute):
        return
    if expr.attr == "connect":
        ref = view.ref(expr.value)
        if ref in R.CELERY_SIGNALS:
            removes = frozenset(released_registries(ctx, view, fn.body))
            index.handlers.append(SignalHandler(ref, path, fn.lineno, fn.name, removes))
        return
    kind = _TEARDOWNS.get(expr.attr)
    if kind is None:
        return
    obj = factory = None
    receiver = expr.value
    owner = next((f for f in reversed(outer) if isinstance(receiver, ast.Name) and receiver.id in local_names(f)),
                 None)
    if expr.attr == "teardown_app_request":
        pass  # a blueprint's: the app it is registered on is not known here
    elif owner is not None:
        # registered in a factory on the app it returns: every app the factory makes has it
        if any(isinstance(n, ast.Return) and isinstance(n.value, ast.Name) and n.value.id == receiver.id
               for n in walk_function(owner)):
            factory = f"{view.module}.{owner.name}"
    else:
        origin = view.origin(receiver) if ast_chain(receiver)[0] is not None else None
        if origin and "()" not in origin and not origin.startswith("flask."):
            obj = origin
    removes = frozenset(released_registries(ctx, view, fn.body))
    index.teardowns.append(Teardown(kind, obj, factory, path, fn.lineno, fn.name, removes))


def _task_install(ctx, index: WorkerIndex, view: ModuleView, fn: ast.AST | None, app_expr: ast.AST,
                  cls_expr: ast.AST, tree: ast.AST, params: list) -> None:
    """``<app>.Task = C``: install C on the app ``<app>`` names.  What is not an app (a module, a
    plain object) is left alone; an app txlint cannot tell gets a "loose" install (every app)."""
    cleanups = _installed_class_cleanups(ctx, view, cls_expr, tree)
    if fn is not None and isinstance(app_expr, ast.Name) and app_expr.id in local_names(fn):
        name = app_expr.id
        args = fn.args
        positional = [a.arg for a in args.posonlyargs + args.args]
        if positional[:1] == [name] and name == "self":
            cls = _enclosing_class(view, fn)
            if cls is not None and is_celery_constructor(ctx, view, ast.Call(func=ast.Name(id=cls.name, ctx=ast.Load()),
                                                                             args=[], keywords=[])):
                # a method of a Celery subclass installs on every app made from that class
                index.class_installs.setdefault(f"{view.module}.{cls.name}", set()).update(cleanups)
            return
        if name in positional or name in [a.arg for a in args.kwonlyargs]:
            position = positional.index(name) if name in positional else -1
            params.append((view, fn, position, name, cleanups))  # resolved from the callers
            return
        keys: list[str] = []
        for node in walk_function(fn):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                    any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                keys += _sites_of_call(ctx, view, node.value, 0) or []
        if keys:
            _install(index, keys, cleanups)
        return  # a local bound to something else (an imported module, a plain object)
    root, _ = ast_chain(app_expr)
    if root is None:
        return
    origin = view.origin(app_expr)
    keys = app_sites(ctx, origin)
    if keys:
        _install(index, keys, cleanups)
    elif view.is_external(root):
        _install(index, [EXTERNAL + (origin or root)], cleanups)  # an app object from outside the project
    elif _may_be_app(view, app_expr):
        _install(index, None, cleanups)


def _may_be_app(view: ModuleView, expr: ast.AST) -> bool:
    """An expression txlint cannot resolve to apps that may still be one (a Celery app it cannot
    follow, an object from outside the project), not a project module, class or function."""
    kind = view.kind(expr)
    if kind is not None:
        return kind.category == R.CELERY_APP
    ref = view.ref(expr) or ""
    head = ref.split("()")[0]
    if head and view.project.symbols(head) is not None:
        return False  # a project module
    found = view.resolver.project_module_of(head) if head and "()" not in ref else None
    if found is not None:
        syms, name = found
        return name not in syms.functions and name not in syms.classes
    root, _ = ast_chain(expr)
    return root is not None and view.is_external(root)


def _enclosing_class(view: ModuleView, fn: ast.AST) -> ast.ClassDef | None:
    tree = view.tree
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.ClassDef) and any(stmt is fn for stmt in node.body):
            return node
    return None


def _argument_apps(ctx, paths: list[str], view: ModuleView, fn: ast.AST, position: int, param: str) -> list[str] | None:
    """Apps passed as parameter ``param`` of the project function ``fn`` by its callers
    (``init_celery(celery, app)``); None when some caller passes something txlint cannot tell."""
    name = getattr(fn, "name", "").encode()
    if not name:
        return None
    keys: list[str] = []
    calls = 0
    for path in paths:
        if calls > 50:
            break
        try:
            with open(path, "rb") as handle:
                data = read_at_most(handle, 4_000_000)
        except OSError:
            continue
        if name not in data:
            continue
        other = view if os.path.abspath(path) == os.path.abspath(view.syms.path or "") else \
            _view_of_file(ctx, path, data)
        if other is None or other.tree is None:
            continue
        for node in ast.walk(other.tree):
            if not isinstance(node, ast.Call):
                continue
            target = definition(ctx, other, node.func)
            if target is None or target[0].module != view.module or \
                    getattr(target[1], "lineno", None) != fn.lineno or getattr(target[1], "name", None) != fn.name:
                continue
            calls += 1
            arg = None
            if 0 <= position < len(node.args) and not any(isinstance(a, ast.Starred) for a in node.args[:position + 1]):
                arg = node.args[position]
            for kw in node.keywords:
                if kw.arg == param:
                    arg = kw.value
            root, _ = ast_chain(arg) if arg is not None else (None, "")
            found = app_sites(ctx, other.origin(arg)) if root is not None else None
            if found is None:
                return None
            keys += found
    return keys or None


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
