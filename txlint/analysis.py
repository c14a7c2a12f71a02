"""Analysing one file in isolation: read, parse, run the enabled rules, collect findings."""

from __future__ import annotations

import os
import re

from txlint.context import CstParseError, FileContext, Options
from txlint.diagnostics import Diagnostic, FileResult
from txlint.names import ProjectModules, project_edge_for
from txlint.registry import PYTHON, load_rules, rule_name, all_codes
from txlint.resources import DEFAULT_TABLE, LIBRARY_ROOTS, ResourceTable
from txlint.source import SourceError, decode, load_python, read_bytes

#: A Python file that contains none of these words and passes none of the tests below cannot hold a
#: finding of any rule, so it is only checked for validity (parsed by CPython), never handed to the
#: gates, libcst and the rules. The words are looked for with ``bytes.find`` (memchr-fast): a regex
#: of many alternatives would try each of them at every position of the file.
_PREFILTER_WORDS = (b"connect", b"session", b"Session", b"cursor", b"begin", b"BEGIN", b"engine", b"redis",
                    b"Redis", b"transaction", b"acquire", b"getconn", b"autocommit", b"celery", b"task",
                    b"Database", b"pool", b"START", b"sqlalchemy")
# the rest of the test, for files that hold none of the words: a ``db`` name, or a worker loop
# that waits (TXL403) and queries through the ORM (Django `Model.objects`, Flask-SQLAlchemy
# `Model.query`) or loops with `while` (a Django command's `run_pending()`)
_DB = re.compile(rb"db\b")
_WAITS_ORM = (b"sleep", b".wait(", b".get(", b"listen(", b"brpop", b"blpop", b"receive")
_QUERY = re.compile(rb"\.query\b")
_WAITS_LOOP = (b"sleep(", b".wait(", b"listen(", b"brpop", b"blpop")
_WHILE = re.compile(rb"\bwhile\b")


def _any_of(words: tuple[bytes, ...]) -> bytes:
    return b"|".join(re.escape(w) for w in words)


#: the same test as one regex (what :func:`may_hold_finding` answers; bench/ and the tests use
#: it): each anchored branch asks, once per file, for a wait word and an ORM or loop word anywhere
_PREFILTER = re.compile(
    _any_of(_PREFILTER_WORDS) + b"|" + _DB.pattern
    + rb"|\A(?=[\s\S]*?(?:" + _any_of(_WAITS_ORM) + rb"))[\s\S]*?(?:\.objects\.|" + _QUERY.pattern + b")"
    + rb"|\A(?=[\s\S]*?(?:" + _any_of(_WAITS_LOOP) + rb"))[\s\S]*?" + _WHILE.pattern
)


def may_hold_finding(data: bytes) -> bool:
    """Whether a Python file with these bytes could hold a finding (``_PREFILTER.search``, faster:
    the words are looked for with ``bytes.find``, and each anchored branch asks only whether two
    things occur somewhere in the file)."""
    for word in _PREFILTER_WORDS:
        if word in data:
            return True
    if _DB.search(data) is not None:
        return True
    if any(w in data for w in _WAITS_ORM) and (b".objects." in data or _QUERY.search(data) is not None):
        return True
    return any(w in data for w in _WAITS_LOOP) and _WHILE.search(data) is not None


_TABLES: dict[tuple, ResourceTable] = {}
_PROJECTS: dict[str, ProjectModules] = {}


def table_for(options: Options) -> ResourceTable:
    key = (options.closers, options.task_decorators, tuple(sorted(options.resources.items())))
    if key not in _TABLES:
        _TABLES[key] = DEFAULT_TABLE.extend(closers=options.closers, task_decorators=options.task_decorators,
                                            factories=options.resources)
    return _TABLES[key]


def project_for(path: str, options: Options) -> ProjectModules:
    """One lazily-filled module cache per worker and project (contract §9: the run's project root,
    or for a file given outside it, that file's own project).  Modules resolve from the import
    root of each analysed file, which may lie above the project, but are read only inside it."""
    root = os.path.abspath(options.project_root or ".")
    here = os.path.abspath(path)
    if path != "-" and not (here == root or here.startswith(root.rstrip(os.sep) + os.sep)):
        root = project_edge_for(here)
    project = _PROJECTS.get(root)
    if project is None:
        project = _PROJECTS[root] = ProjectModules([root, os.path.join(root, "src")], boundary=[root],
                                                   bindings_only=LIBRARY_ROOTS)
    project.enter(path)
    return project


def file_kind(path: str) -> str:
    """``python`` or one of the config kinds; decided by name (and, for YAML/INI, content)."""
    from txlint.configfiles import config_kind

    if path.endswith(".py") or path.endswith(".pyi") or path == "-":
        return PYTHON
    return config_kind(path) or PYTHON


def error_result(display: str, message: str, line: int = 1, column: int = 1) -> FileResult:
    import hashlib

    fp = hashlib.sha256(f"TXL000\x1f{message}".encode("utf-8", "surrogatepass")).hexdigest()[:20]
    diag = Diagnostic(display, line, column, line, column, "TXL000", "parse-error", message, (), fp)
    return FileResult(display, [diag])


def analyze(path: str, display: str, options: Options, text: str | None = None,
            kind: str | None = None, data: bytes | None = None) -> FileResult:
    """Analyse one file; ``data`` (its bytes, when the caller read them) lets a worker reuse the
    tree of a module it already read as another file's dependency."""
    kind = kind or file_kind(display if path == "-" else path)
    try:
        if kind == PYTHON:
            return _analyze_python(path, display, options, text, data)
        return _analyze_config(path, display, options, text, kind)
    except SourceError as exc:
        return error_result(display, exc.message, exc.line, exc.column)
    except RecursionError:
        return error_result(display, "too deeply nested to analyse")


def _open_rules(ctx: FileContext) -> list:
    """The enabled rules whose gate (on the ast, see :mod:`txlint.gate`) opens for this file: only
    they run, and only when there is one is the file parsed with libcst."""
    from txlint import gate as G

    rules = [cls for code, cls in load_rules().items()
             if code in ctx.options.enabled and PYTHON in cls.file_kinds]
    if not G.ENABLED or not rules:
        return rules
    gate = G.gate_for(ctx)
    return [cls for cls in rules if cls.gate(gate)]


def _narrow_tree(ctx: FileContext, rules: list) -> None:
    """When every rule to run reads libcst's tree only in the path rules' candidate functions (or
    not at all) and no fix is wanted, libcst gets the file with the other functions' bodies
    blanked: on the bench corpus the files it parses are mostly long modules with one candidate."""
    from txlint import gate as G

    if ctx.options.want_fixes or not G.ENABLED or ctx.ast is None:
        return
    if all(getattr(cls, "tree", "module") in ("candidates", "none") for cls in rules):
        ctx.keep_functions = G.gate_for(ctx).path_candidates()


def _run_rules(ctx: FileContext, kind: str, rules: list | None = None) -> None:
    if rules is None:
        rules = [cls for code, cls in load_rules().items() if code in ctx.options.enabled and kind in cls.file_kinds]
    for rule_cls in rules:
        rule_cls().check(ctx)


def _analyze_python(path: str, display: str, options: Options, text: str | None,
                    data: bytes | None = None) -> FileResult:
    if text is None:
        data = read_bytes(path)
        text = decode(data)
    project = project_for(path, options)
    project.trim()
    reused = project.parsed(path, data) if data is not None and path != "-" else None
    # one CPython parse per file: the validity check, the symbols and the gate share it
    tree = reused[0] if reused is not None else load_python(path, display, text).tree
    result = FileResult(display)
    if not may_hold_finding(data if data is not None else text.encode("utf-8", "surrogatepass")):
        return result
    ctx = FileContext(path, display, text, tree, options, table_for(options), project)
    if reused is not None:
        ctx.adopt_symbols(reused[1])
    try:
        rules = _open_rules(ctx)
        if not rules:
            return result  # no enabled rule could report here: libcst is never run on this file
        _narrow_tree(ctx, rules)
        # libcst parses the file only if a rule asks for its tree (most rules that report here do;
        # TXL301 and TXL403 read the ast alone); a failure is this file's TXL000
        _run_rules(ctx, PYTHON, rules)
        result.diagnostics, result.fixed_source = ctx.finish(all_codes())
    except CstParseError as exc:
        return error_result(display, exc.message, exc.line, exc.column)
    finally:
        ctx.dispose()
    result.notes = ctx.notes
    return result


def _analyze_config(path: str, display: str, options: Options, text: str | None, kind: str) -> FileResult:
    if text is None:
        data = read_bytes(path)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceError(f"cannot decode as UTF-8: {exc.reason}", data[: exc.start].count(b"\n") + 1) from None
    ctx = FileContext(path, display, text, None, options, table_for(options), project_for(path, options), kind=kind)
    _run_rules(ctx, kind)
    result = FileResult(display)
    result.diagnostics, _ = ctx.finish(all_codes())
    result.notes = ctx.notes
    return result


def rule_name_or_empty(code: str) -> str:
    return rule_name(code)
