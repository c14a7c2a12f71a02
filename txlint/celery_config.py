"""The largest hard task time limit a project sets for its Celery tasks (used by TXL501).

Found cheaply and statically: every ``*.py`` file under the project root (outside the default
excluded folders, virtual environments, and tests / docs: ``tests/``, ``test_*.py``, ``conftest.py``,
...) whose bytes mention
``time_limit``/``TIME_LIMIT`` is parsed with :mod:`ast` (never imported) and searched for

- ``time_limit=`` on task decorators (``@app.task(...)``, ``@shared_task(...)``, ``@celery.task``,
  any decorator call whose name ends in ``task``) and ``time_limit = N`` in the body of a class
  whose base ends in ``Task``;
- ``task_time_limit`` / ``CELERYD_TASK_TIME_LIMIT`` / ``CELERY_TASK_TIME_LIMIT`` set as literal
  configuration: ``app.conf.task_time_limit = 1800``, ``app.conf["task_time_limit"] = ...``,
  ``app.conf.update(task_time_limit=...)`` (keywords or a dict literal), ``Celery(..., task_time_limit=...)``,
  module-level assignments in settings / ``celeryconfig`` modules (``CELERY_TASK_TIME_LIMIT = 30 * 60``),
  and keys of dict literals (``CELERY = {"task_time_limit": 1800}``).

Values are folded when they are simple constant arithmetic (``30 * 60``, ``2 * HOUR`` with ``HOUR``
a module-level constant); a value read from the environment or a settings helper with a literal
default counts as that default (``int(os.getenv("WORKER_TIMEOUT", 1800))``,
``os.environ.get("X", "1800")``, ``env.int("X", default=1800)``); anything else (a lookup without a
default, other calls) is not a known limit.
"""

from __future__ import annotations

import ast
import os
import warnings

EXCLUDED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "build", "dist", "__pycache__", ".tox",
                           ".eggs", "site-packages", ".mypy_cache", ".pytest_cache", ".txlint_cache"})
#: tests and documentation set limits for tasks that are never deployed (test apps, doc snippets)
TEST_DIRS = frozenset({"tests", "test", "testing", "t", "docs", "doc"})
CONFIG_NAMES = frozenset({"task_time_limit", "celeryd_task_time_limit", "celery_task_time_limit"})
_MAX_FILE = 2 * 1024 * 1024

_MEMO: dict[str, tuple[tuple[float, str] | None, tuple[str, ...]]] = {}


def project_task_time_limit(root: str) -> tuple[float, str] | None:
    """``(seconds, description)`` of the largest hard time limit set anywhere under ``root``
    (e.g. ``(1800.0, "time_limit=1800 in app/tasks.py:12")``), or None when none is set.
    Memoised per root for the life of the process."""
    root = os.path.abspath(root or ".")
    if root not in _MEMO:
        _MEMO[root] = _scan(root)
    return _MEMO[root][0]


def scanned_paths(root: str) -> tuple[str, ...]:
    """The folders walked and Python files looked at to answer :func:`project_task_time_limit`
    (for the result cache: a finding stays valid only while none of them changes)."""
    root = os.path.abspath(root or ".")
    if root not in _MEMO:
        _MEMO[root] = _scan(root)
    return _MEMO[root][1]


def clear_cache() -> None:
    _MEMO.clear()


def _python_files(root: str, seen: list[str]):
    if os.path.isfile(root):
        if root.endswith(".py"):
            yield root
        return
    for directory, dirs, files in os.walk(root):
        seen.append(directory)
        dirs[:] = sorted(d for d in dirs if d not in EXCLUDED_DIRS and d not in TEST_DIRS
                         and not d.endswith(".egg-info")
                         and not os.path.exists(os.path.join(directory, d, "pyvenv.cfg")))
        for name in sorted(files):
            if name.endswith(".py") and not _is_test_file(name):
                yield os.path.join(directory, name)


def _is_test_file(name: str) -> bool:
    return name.startswith("test_") or name.endswith(("_test.py", "_tests.py")) or name == "conftest.py"


def _scan(root: str) -> tuple[tuple[float, str] | None, tuple[str, ...]]:
    best: tuple[float, str] | None = None
    seen: list[str] = []
    for path in _python_files(root, seen):
        seen.append(path)
        try:
            if os.path.getsize(path) > _MAX_FILE:
                continue
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        if b"time_limit" not in data and b"TIME_LIMIT" not in data:
            continue
        rel = os.path.relpath(path, root) if os.path.isdir(root) else os.path.basename(path)
        for seconds, what, line in limits_in_source(data):
            if best is None or seconds > best[0]:
                best = (seconds, f"{what} in {rel.replace(os.sep, '/')}:{line}")
    return best, tuple(seen)


def limits_in_source(data: bytes | str) -> list[tuple[float, str, int]]:
    """Every statically known hard time limit in one module: ``(seconds, "time_limit=1800", line)``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return _Finder(tree).run()


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _name_tail(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_conf(node: ast.AST) -> bool:
    """``app.conf`` / ``celery_app.conf`` / ``self.conf``."""
    return isinstance(node, ast.Attribute) and node.attr == "conf"


class _Finder:
    def __init__(self, tree: ast.Module):
        self.tree = tree
        self.consts: dict[str, float] = {}
        self.out: list[tuple[float, str, int]] = []

    # ---- constant folding ----------------------------------------------------------
    def value(self, node: ast.AST, depth: int = 0, text: bool = False) -> float | None:
        """The number ``node`` folds to; ``text``: a numeric string counts too (the default of an
        environment lookup, converted by ``int()``)."""
        if depth > 20:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if text and isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return float(node.value.strip())
            except ValueError:
                return None
        if isinstance(node, ast.Call):
            default = _environment_default(node)
            return self.value(default, depth + 1, text=True) if default is not None else None
        if isinstance(node, ast.Name):
            return self.consts.get(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.value(node.operand, depth + 1)
            if inner is None:
                return None
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left, depth + 1), self.value(node.right, depth + 1)
            if left is None or right is None:
                return None
            try:
                if isinstance(node.op, ast.Add):
                    return left + right
                if isinstance(node.op, ast.Sub):
                    return left - right
                if isinstance(node.op, ast.Mult):
                    return left * right
                if isinstance(node.op, ast.Div):
                    return left / right
                if isinstance(node.op, ast.FloorDiv):
                    return float(left // right)
            except (ZeroDivisionError, OverflowError):
                return None
        return None

    def add(self, node: ast.AST, what: str, where: ast.AST) -> None:
        seconds = self.value(node)
        if seconds is None or seconds <= 0 or seconds != seconds or seconds == float("inf"):
            return
        self.out.append((seconds, f"{what}={_fmt(seconds)}", where.lineno))

    # ---- the walk -------------------------------------------------------------------
    def run(self) -> list[tuple[float, str, int]]:
        # module-level numeric constants first (HOUR = 60 * 60), in order
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                v = self.value(stmt.value)
                if v is not None:
                    self.consts[stmt.targets[0].id] = v
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
                v = self.value(stmt.value)
                if v is not None:
                    self.consts[stmt.target.id] = v
        for stmt in self.tree.body:
            self.module_stmt(stmt)
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for deco in node.decorator_list:
                    if isinstance(deco, ast.Call) and _name_tail(deco).endswith("task"):
                        for kw in deco.keywords:
                            if kw.arg == "time_limit":
                                self.add(kw.value, "time_limit", kw.value)
            if isinstance(node, ast.ClassDef) and any(_name_tail(b).endswith("Task") for b in node.bases):
                for stmt in node.body:
                    target, value = _simple_assign(stmt)
                    if target == "time_limit":
                        self.add(value, "time_limit", stmt)
            elif isinstance(node, ast.Call):
                self.call(node)
            elif isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    self.conf_target(target, node.value, node)
            elif isinstance(node, ast.Dict):
                for key, val in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str) \
                            and key.value.lower() in CONFIG_NAMES:
                        self.add(val, key.value, key)
        return self.out

    def module_stmt(self, stmt: ast.stmt) -> None:
        """``CELERY_TASK_TIME_LIMIT = 30 * 60`` / ``task_time_limit = 1800`` in a settings module."""
        if isinstance(stmt, (ast.If, ast.Try)):
            for body in (getattr(stmt, "body", []), getattr(stmt, "orelse", []), getattr(stmt, "finalbody", [])):
                for inner in body:
                    self.module_stmt(inner)
            return
        target, value = _simple_assign(stmt)
        if target and target.lower() in CONFIG_NAMES:
            self.add(value, target, stmt)

    def conf_target(self, target: ast.AST, value: ast.AST, where: ast.AST) -> None:
        # app.conf.task_time_limit = N
        if isinstance(target, ast.Attribute) and target.attr.lower() in CONFIG_NAMES and _is_conf(target.value):
            self.add(value, target.attr, where)
        # app.conf["task_time_limit"] = N
        elif isinstance(target, ast.Subscript) and _is_conf(target.value):
            key = target.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.lower() in CONFIG_NAMES:
                self.add(value, key.value, where)

    def call(self, node: ast.Call) -> None:
        tail = _name_tail(node)
        is_update = isinstance(node.func, ast.Attribute) and node.func.attr in ("update", "setdefault") \
            and _is_conf(node.func.value)
        if tail == "Celery" or is_update:
            for kw in node.keywords:
                if kw.arg and kw.arg.lower() in CONFIG_NAMES:
                    self.add(kw.value, kw.arg, kw.value)
            # dict literal arguments are found by the ast.Dict branch


#: callables that read a setting by name and take its default as their second argument:
#: ``os.getenv("X", 1800)``, ``os.environ.get("X", "1800")``, environs' ``env.int("X", 1800)``,
#: python-decouple's ``config("X", 1800)``, dynaconf's ``settings.get("X", 1800)``
_SETTING_READERS = frozenset({"getenv", "get", "int", "float", "env", "config", "get_int", "get_float",
                              "getint", "getfloat", "get_value"})
#: conversions that keep a number: ``int(os.getenv("X", 1800))``
_CONVERSIONS = frozenset({"int", "float"})


def _environment_default(call: ast.Call) -> ast.AST | None:
    """The expression a setting read from the environment falls back to (contract §16): the
    argument of ``int(...)``/``float(...)``, a ``default=`` keyword, or the second argument of a
    reader called with the setting's name; None when there is none."""
    tail = _name_tail(call)
    if isinstance(call.func, ast.Name) and tail in _CONVERSIONS and len(call.args) == 1 and not call.keywords:
        return call.args[0]
    for kw in call.keywords:
        if kw.arg == "default":
            return kw.value
    if tail in _SETTING_READERS and len(call.args) >= 2 and isinstance(call.args[0], ast.Constant) \
            and isinstance(call.args[0].value, str) and not isinstance(call.args[1], ast.Starred):
        return call.args[1]
    return None


def _simple_assign(stmt: ast.stmt) -> tuple[str, ast.AST | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return stmt.target.id, stmt.value
    return "", None
