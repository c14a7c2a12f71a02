"""``txlint server``: a Language Server (LSP over stdio) for editors, built on pygls.

What it does (contract: Language server):

- diagnostics on ``didOpen``, ``didChange`` (debounced, :data:`DEBOUNCE` seconds) and ``didSave``:
  the unsaved buffer is analysed, facts about the rest of the project are read from disk as the
  CLI reads them (the nearest configuration, the project root, the other modules);
- each finding's trace as ``relatedInformation``; ranges 0-based, in the position encoding agreed
  with the client (UTF-16 unless the client offers another);
- code actions: each available fix of a finding (a ``WorkspaceEdit``), all fixes of the file
  (``source.fixAll``) and a ``# txlint: ignore[CODE]`` comment on the reported line;
- hover on a finding: the rule's documentation (markdown, as ``txlint rule CODE``);
- settings ``select``, ``ignore``, ``config`` (a configuration file, relative to the workspace
  root) and ``unsafeFixes`` from ``initializationOptions`` and ``workspace/configuration``
  (section ``txlint``); the configuration file is found and read as the CLI does.

The server never writes a traceback to stderr: problems go to the client as log messages, a
configuration error as one message shown to the user.  ``shutdown`` then ``exit`` exits 0.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import difflib
import io
import logging
import os
import re
import sys
import threading
import tokenize
import traceback
from dataclasses import dataclass, field
from typing import Any, Sequence

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from txlint import __version__

#: seconds between the last change of a buffer and its analysis
DEBOUNCE = 0.3
SOURCE = "txlint"
#: configuration section asked of the client (``workspace/configuration``)
SECTION = "txlint"
#: stack of the analysis thread: the analysis recurses deeply on deeply nested code
ANALYSIS_STACK = 256 * 1024 * 1024

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_IGNORE_COMMENT = re.compile(r"#\s*txlint:\s*ignore\s*\[([^\]]*)\]", re.IGNORECASE)
_IGNORE_ALL = re.compile(r"#\s*(?:txlint:\s*ignore|noqa)(?!\s*[:\[])", re.IGNORECASE)


# ----------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ClientSettings:
    """What the editor configures (the CLI's ``--select``, ``--ignore``, ``--config``, ``--unsafe-fixes``)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    config: str | None = None
    unsafe_fixes: bool = False

    def merged(self, other: Any) -> "ClientSettings":
        """These settings updated by the keys present in ``other`` (a dict from the client)."""
        data = _settings_dict(other)
        if not data:
            return self
        return ClientSettings(
            select=_codes(data["select"]) if "select" in data else self.select,
            ignore=_codes(data["ignore"]) if "ignore" in data else self.ignore,
            config=(str(data["config"]) or None) if data.get("config") is not None else
            (None if "config" in data else self.config),
            unsafe_fixes=bool(data.get("unsafeFixes", data.get("unsafe-fixes", self.unsafe_fixes))),
        )


def _settings_dict(value: Any) -> dict:
    """The txlint settings in what a client sent: ``{"select": ...}`` or ``{"txlint": {...}}``."""
    if not isinstance(value, dict):
        return {}
    for key in (SECTION, "settings"):
        inner = value.get(key)
        if isinstance(inner, dict):
            return _settings_dict(inner) or inner
    return {k: v for k, v in value.items()
            if k in ("select", "ignore", "config", "unsafeFixes", "unsafe-fixes")}


def _codes(value: Any) -> tuple[str, ...]:
    """Codes from a list or a comma-separated string (as the CLI splits them)."""
    from txlint.settings import split_list

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(split_list([str(v) for v in value]))


# ----------------------------------------------------------------------------------- analysis
@dataclass
class Analysis:
    """One analysis of one buffer (a version of an open document)."""

    text: str
    version: int | None
    path: str
    diagnostics: list = field(default_factory=list)    # txlint.diagnostics.Diagnostic
    fixed_source: str | None = None
    kind: str = "python"
    error: str | None = None                            # a configuration error (shown to the user)
    options: Any = None                                 # txlint.context.Options of this analysis
    per_code_fixes: dict = field(default_factory=dict)  # code -> fixed source with only its fixes


def _reset_process_caches() -> None:
    """Forget what earlier analyses learnt about the project (other modules, Celery apps, time
    limits): every analysis reads the project from disk afresh, as a CLI run does."""
    import importlib

    for module_name, attrs in (("txlint.analysis", ("_PROJECTS",)), ("txlint.index", ("_VIEWS", "_SIGNALS")),
                               ("txlint.celery_config", ("_MEMO",)), ("txlint.summaries", ("_RELEASING_CACHE",))):
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # pragma: no cover - a module renamed by a refactoring
            continue
        for attr in attrs:
            cache = getattr(module, attr, None)
            if isinstance(cache, dict):
                cache.clear()


def file_kind(path: str, text: str, language_id: str | None = None) -> str | None:
    """``python``, a deployment config kind, or None when txlint does not examine the file."""
    from txlint.configfiles import config_kind
    from txlint.registry import PYTHON

    lower = path.lower()
    if lower.endswith((".py", ".pyi")) or language_id == "python":
        return PYTHON
    try:
        return config_kind(path, text.encode("utf-8", "surrogatepass"))
    except Exception:
        return None


def analyse(path: str, text: str, client: ClientSettings, *, workspace_root: str | None = None,
            language_id: str | None = None, version: int | None = None, only: str | None = None) -> Analysis:
    """Analyse ``text`` as the file ``path`` with the settings the CLI would use for it (run on the
    analysis thread).  ``only``: just that code, for the fixes of one finding."""
    from txlint.analysis import analyze, error_result
    from txlint.context import Options
    from txlint.discovery import Excluder
    from txlint.registry import all_codes, enabled as enabled_codes
    from txlint.settings import ConfigError, build_settings, find_project_root

    result = Analysis(text, version, path)
    kind = file_kind(path, text, language_id)
    if kind is None:
        return result
    result.kind = kind
    directory = os.path.dirname(path) or "."
    config = client.config
    if config and not os.path.isabs(config):
        config = os.path.join(workspace_root or directory, config)
    codes = all_codes()
    try:
        settings = build_settings(config=config, select=list(client.select), ignore=list(client.ignore),
                                  exclude=None, known_codes=list(codes), cwd=directory)
    except ConfigError as exc:
        result.error = f"txlint: configuration error: {exc}"
        return result
    if Excluder.build(settings.excludes).excluded(path):
        return result
    enabled = enabled_codes(codes, settings.select, settings.ignore)
    if only is not None:
        enabled = [c for c in enabled if c == only]
    root = settings.project_root if settings.config_path else find_project_root(directory)
    options = Options(enabled=frozenset(enabled), want_fixes=True, closers=tuple(settings.closers),
                      task_decorators=tuple(settings.task_decorators), project_root=root,
                      resources=dict(settings.resources), unsafe_fixes=client.unsafe_fixes,
                      per_file_ignores=settings.per_file_ignores)
    result.options = options
    _reset_process_caches()
    try:
        found = analyze(path, path, options, text=text, kind=kind)
    except Exception as exc:  # a bug in a rule must not stop the server; say what happened
        found = error_result(path, f"internal error while analysing: {type(exc).__name__}: {exc}")
    result.diagnostics = sorted(found.diagnostics, key=lambda d: d.sort_key)
    result.fixed_source = found.fixed_source
    return result


class AnalysisThread:
    """One thread runs every analysis, one at a time (the analysis keeps per-process caches), with
    a stack large enough for deeply nested code."""

    def __init__(self):
        old = threading.stack_size()
        try:
            threading.stack_size(ANALYSIS_STACK)
        except (ValueError, RuntimeError):  # pragma: no cover - platform without the setting
            old = None
        try:
            self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="txlint-analysis")
            self.executor.submit(sys.setrecursionlimit, max(sys.getrecursionlimit(), 20000)).result()
        finally:
            if old is not None:
                threading.stack_size(old)

    async def run(self, fn, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args, **kwargs))


# ------------------------------------------------------------------------------ LSP conversion
def split_lines(text: str) -> list[str]:
    """Lines as LSP counts them (``\\n``, ``\\r\\n`` and ``\\r`` end a line), ends kept."""
    return _LINE.findall(text)


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def _units(text: str, encoding: str | None) -> int:
    if encoding == T.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == T.PositionEncodingKind.Utf32:
        return len(text)
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def lsp_position(lines: Sequence[str], line: int, column: int, encoding: str | None) -> T.Position:
    """A 1-based (line, code point column) position as a 0-based LSP position."""
    index = max(0, line - 1)
    if index >= len(lines):
        return T.Position(line=index, character=0)
    text = _bare(lines[index])
    return T.Position(line=index, character=_units(text[: max(0, column - 1)], encoding))


def _line_end(lines: Sequence[str], index: int, encoding: str | None) -> T.Position:
    text = _bare(lines[index]) if 0 <= index < len(lines) else ""
    return T.Position(line=index, character=_units(text, encoding))


def severity(code: str) -> T.DiagnosticSeverity:
    from txlint.registry import load_rules
    from txlint.reporters.sarif import default_level

    level = default_level(code, load_rules().get(code))
    return {"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning,
            "note": T.DiagnosticSeverity.Information}.get(level, T.DiagnosticSeverity.Warning)


def to_lsp(d, uri: str, lines: Sequence[str], encoding: str | None) -> T.Diagnostic:
    """One txlint finding as an LSP diagnostic, its trace as related information."""
    start = lsp_position(lines, d.line, d.column, encoding)
    if (d.end_line, d.end_column) > (d.line, d.column):
        end = lsp_position(lines, d.end_line, d.end_column, encoding)
    else:
        end = _line_end(lines, start.line, encoding)
    related = [
        T.DiagnosticRelatedInformation(
            location=T.Location(uri=uri, range=T.Range(start=lsp_position(lines, s.line, s.column, encoding),
                                                       end=_line_end(lines, s.line - 1, encoding))),
            message=s.note or "here")
        for s in d.trace
    ]
    return T.Diagnostic(range=T.Range(start=start, end=end), message=d.message, severity=severity(d.code),
                        code=d.code, source=SOURCE, related_information=related or None,
                        data={"name": d.name, "line": d.line, "column": d.column})


# ----------------------------------------------------------------------------------- edits
def _range_of_lines(lines: Sequence[str], first: int, last: int, encoding: str | None) -> T.Range:
    """The range of whole lines ``first`` (0-based) up to, not including, ``last``."""
    start = T.Position(line=first, character=0)
    if last < len(lines) or (lines and lines[-1].endswith(("\n", "\r")) and last == len(lines)):
        end = T.Position(line=last, character=0)
    else:  # up to the end of a last line that has no line break
        end = _line_end(lines, len(lines) - 1, encoding) if lines else start
    return T.Range(start=start, end=end)


def diff_edits(old: str, new: str, encoding: str | None) -> list[tuple[int, T.TextEdit]]:
    """``(first changed line, 1-based, edit)`` for each block of lines that differs."""
    a, b = split_lines(old), split_lines(new)
    out = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        new_text = "".join(b[j1:j2])
        out.append((i1 + 1, T.TextEdit(range=_range_of_lines(a, i1, i2, encoding), new_text=new_text)))
    return out


def _inside_string_or_continued(text: str, line: int) -> bool:
    """Whether a comment cannot be appended to ``line`` (1-based) of Python ``text``: the line ends
    inside a multi-line string or with a backslash continuation."""
    lines = split_lines(text)
    if 0 < line <= len(lines) and _bare(lines[line - 1]).rstrip().endswith("\\"):
        return True
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.start[0] > line:
                break
            if tok.start[0] <= line < tok.end[0] and tok.type in (tokenize.STRING,) + tuple(
                    t for t in (getattr(tokenize, "FSTRING_MIDDLE", None), getattr(tokenize, "TSTRING_MIDDLE", None))
                    if t is not None):
                return True
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return False
    return False


def ignore_edit(text: str, line: int, code: str, kind: str, encoding: str | None) -> T.TextEdit | None:
    """The edit that adds ``code`` to a ``# txlint: ignore[...]`` comment on ``line`` (1-based), or
    None when the line already suppresses it or cannot take a comment."""
    from txlint.context import suppressed_codes
    from txlint.registry import PYTHON

    lines = split_lines(text)
    if not 0 < line <= len(lines):
        return None
    current = _bare(lines[line - 1])
    suppressed = suppressed_codes(current)
    if suppressed is not None and (not suppressed or code in suppressed):
        return None
    if kind not in (PYTHON, "compose", "kubernetes"):
        return None  # INI and systemd values do not end at a `#`: a comment there would change them
    match = _IGNORE_COMMENT.search(current)
    if match:
        codes = [c.strip() for c in match.group(1).split(",") if c.strip()] + [code]
        start, end = match.span(1)
        new_line = current[:start] + ", ".join(codes) + current[end:]
    else:
        if kind == PYTHON and _inside_string_or_continued(text, line):
            return None
        stripped = current.rstrip()
        new_line = stripped + f"  # txlint: ignore[{code}]"
    return T.TextEdit(range=T.Range(start=T.Position(line=line - 1, character=0),
                                    end=_line_end(lines, line - 1, encoding)), new_text=new_line)


def fix_edits_for(d, analysis: Analysis, encoding: str | None) -> list[T.TextEdit]:
    """The edits of the fix of finding ``d``: from an analysis with only its code enabled, the
    changed blocks that follow its line (before the next finding of that code)."""
    fixed = analysis.per_code_fixes.get(d.code)
    if not fixed or fixed == analysis.text:
        return []
    same = sorted({x.line for x in analysis.diagnostics if x.code == d.code})
    edits = []
    for first, edit in diff_edits(analysis.text, fixed, encoding):
        owner = max((ln for ln in same if ln <= first), default=same[0] if same else d.line)
        if owner == d.line:
            edits.append(edit)
    return edits


# ------------------------------------------------------------------------------------ server
@dataclass
class _Doc:
    generation: int = 0
    task: Any = None
    analysis: Analysis | None = None
    published: bool = False


class TxlintServer(LanguageServer):
    def __init__(self):
        super().__init__("txlint", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
        self.client_settings = ClientSettings()
        self.docs: dict[str, _Doc] = {}
        self.analysis = AnalysisThread()
        self.shown_errors: set[str] = set()
        self.shutdown_requested = False

    # -- helpers -------------------------------------------------------------------------
    @property
    def encoding(self) -> str | None:
        try:
            return self.workspace.position_encoding
        except Exception:
            return T.PositionEncodingKind.Utf16

    def log(self, message: str, level: T.MessageType = T.MessageType.Log) -> None:
        try:
            self.window_log_message(T.LogMessageParams(type=level, message=message))
        except Exception:
            pass

    def workspace_root(self, path: str) -> str | None:
        best = None
        try:
            folders = list(self.workspace.folders.values())
        except Exception:
            folders = []
        for folder in folders:
            root = to_fs_path(folder.uri)
            if root and (path == root or path.startswith(root.rstrip(os.sep) + os.sep)):
                if best is None or len(root) > len(best):
                    best = root
        if best is None:
            try:
                best = self.workspace.root_path
            except Exception:
                best = None
        return best

    def schedule(self, uri: str, delay: float) -> None:
        doc = self.docs.setdefault(uri, _Doc())
        doc.generation += 1
        if doc.task is not None and not doc.task.done():
            doc.task.cancel()
        doc.task = asyncio.ensure_future(self._analyse_and_publish(uri, doc.generation, delay))

    async def _analyse_and_publish(self, uri: str, generation: int, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            try:
                document = self.workspace.get_text_document(uri)
            except Exception:
                return
            path = to_fs_path(uri)
            if not path:
                return
            text, version = document.source, document.version
            result = await self.analysis.run(analyse, path, text, self.client_settings,
                                             workspace_root=self.workspace_root(path),
                                             language_id=document.language_id, version=version)
            doc = self.docs.get(uri)
            if doc is None or doc.generation != generation:
                return  # closed, or a newer analysis is on its way
            doc.analysis = result
            if result.error:
                self.log(result.error, T.MessageType.Error)
                if result.error not in self.shown_errors:
                    self.shown_errors.add(result.error)
                    self.window_show_message(T.ShowMessageParams(type=T.MessageType.Error, message=result.error))
            lines = split_lines(text)
            diagnostics = [to_lsp(d, uri, lines, self.encoding) for d in result.diagnostics]
            self.text_document_publish_diagnostics(
                T.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))
            doc.published = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let one document's problem stop the server
            self.log(f"txlint: analysis of {uri} failed: {type(exc).__name__}: {exc}\n{traceback.format_exc()}",
                     T.MessageType.Error)

    def current(self, uri: str) -> Analysis | None:
        """The last analysis of ``uri`` if it is of the buffer as it is now."""
        doc = self.docs.get(uri)
        if doc is None or doc.analysis is None:
            return None
        try:
            document = self.workspace.get_text_document(uri)
        except Exception:
            return None
        if document.source != doc.analysis.text:
            return None
        return doc.analysis

    async def up_to_date(self, uri: str) -> Analysis | None:
        """The analysis of the buffer as it is now, made now when the last one is stale (a code
        action or hover asked for before the debounced analysis ran)."""
        analysis = self.current(uri)
        if analysis is not None or uri not in self.docs:
            return analysis
        try:
            document = self.workspace.get_text_document(uri)
        except Exception:
            return None
        path = to_fs_path(uri)
        if not path:
            return None
        return await self.analysis.run(analyse, path, document.source, self.client_settings,
                                       workspace_root=self.workspace_root(path),
                                       language_id=document.language_id, version=document.version)

    async def fixes_of(self, analysis: Analysis, code: str) -> None:
        if code in analysis.per_code_fixes:
            return
        only = await self.analysis.run(analyse, analysis.path, analysis.text, self.client_settings,
                                       workspace_root=self.workspace_root(analysis.path), only=code)
        analysis.per_code_fixes[code] = only.fixed_source

    async def refresh_settings(self) -> None:
        """Ask the client for the ``txlint`` section; re-analyse open documents when it changed."""
        caps = self.client_capabilities
        if not (caps and caps.workspace and caps.workspace.configuration):
            return
        try:
            items = [T.ConfigurationItem(section=SECTION)]
            answer = await asyncio.wait_for(
                self.workspace_configuration_async(T.ConfigurationParams(items=items)), timeout=10)
        except Exception as exc:  # a client that does not answer keeps the initialization options
            self.log(f"txlint: no configuration from the client ({type(exc).__name__})")
            return
        value = answer[0] if answer else None
        updated = self.client_settings.merged(value)
        if updated != self.client_settings:
            self.client_settings = updated
            self.shown_errors.clear()
            for uri in list(self.docs):
                self.schedule(uri, 0)


def _unify_settings(server: TxlintServer, value: Any) -> None:
    server.client_settings = server.client_settings.merged(value)


def build_server() -> TxlintServer:
    server = TxlintServer()

    @server.feature(T.INITIALIZE)
    def initialize(ls: TxlintServer, params: T.InitializeParams):
        _unify_settings(ls, params.initialization_options)

    @server.feature(T.INITIALIZED)
    async def initialized(ls: TxlintServer, params: T.InitializedParams):
        await ls.refresh_settings()

    @server.feature(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: TxlintServer, params: T.DidChangeConfigurationParams):
        before = ls.client_settings
        if _settings_dict(params.settings):
            _unify_settings(ls, params.settings)
        else:
            await ls.refresh_settings()
        if ls.client_settings != before:
            ls.shown_errors.clear()
            for uri in list(ls.docs):
                ls.schedule(uri, 0)

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: TxlintServer, params: T.DidOpenTextDocumentParams):
        ls.schedule(params.text_document.uri, 0)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: TxlintServer, params: T.DidChangeTextDocumentParams):
        ls.schedule(params.text_document.uri, DEBOUNCE)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE, T.SaveOptions(include_text=False))
    async def did_save(ls: TxlintServer, params: T.DidSaveTextDocumentParams):
        saved = params.text_document.uri
        ls.schedule(saved, 0)
        for uri in list(ls.docs):  # facts about the project may have changed for the others
            if uri != saved:
                ls.schedule(uri, DEBOUNCE)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: TxlintServer, params: T.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        doc = ls.docs.pop(uri, None)
        if doc is not None and doc.task is not None and not doc.task.done():
            doc.task.cancel()
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(T.TEXT_DOCUMENT_CODE_ACTION, T.CodeActionOptions(
        code_action_kinds=[T.CodeActionKind.QuickFix, T.CodeActionKind.SourceFixAll]))
    async def code_action(ls: TxlintServer, params: T.CodeActionParams):
        try:
            return await _code_actions(ls, params)
        except Exception as exc:
            ls.log(f"txlint: code actions failed: {type(exc).__name__}: {exc}", T.MessageType.Error)
            return []

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    async def hover(ls: TxlintServer, params: T.HoverParams):
        try:
            return _hover(ls, params, await ls.up_to_date(params.text_document.uri))
        except Exception as exc:
            ls.log(f"txlint: hover failed: {type(exc).__name__}: {exc}", T.MessageType.Error)
            return None

    @server.feature(T.SHUTDOWN)
    def shutdown(ls: TxlintServer, *args):
        ls.shutdown_requested = True

    @server.feature(T.EXIT)
    def exit_(ls: TxlintServer, *args):
        _exit_now(0 if ls.shutdown_requested else 1)

    return server


def _selected(analysis: Analysis, params: T.CodeActionParams, encoding: str | None) -> list:
    """The findings a code action request is about: those the client names (by code and start),
    else those whose lines meet the requested range."""
    named = []
    for diag in params.context.diagnostics or ():
        if diag.source not in (None, SOURCE):
            continue
        for d in analysis.diagnostics:
            if str(diag.code) == d.code and diag.range.start.line == d.line - 1 and d not in named:
                named.append(d)
    if named:
        return named
    first, last = params.range.start.line, params.range.end.line
    return [d for d in analysis.diagnostics if d.line - 1 <= last and max(d.end_line, d.line) - 1 >= first]


async def _code_actions(ls: TxlintServer, params: T.CodeActionParams) -> list[T.CodeAction]:
    uri = params.text_document.uri
    analysis = await ls.up_to_date(uri)
    if analysis is None:
        return []
    encoding = ls.encoding
    only = set(params.context.only or ())
    want_quickfix = not only or any(k in (T.CodeActionKind.QuickFix, "quickfix") for k in only)
    want_fix_all = not only or any(str(k).startswith("source") for k in only)
    lines = split_lines(analysis.text)
    actions: list[T.CodeAction] = []
    if want_quickfix:
        for d in _selected(analysis, params, encoding):
            if d.code == "TXL000":
                continue
            lsp_diag = to_lsp(d, uri, lines, encoding)
            if analysis.fixed_source and analysis.fixed_source != analysis.text:
                await ls.fixes_of(analysis, d.code)
                edits = fix_edits_for(d, analysis, encoding)
                if edits:
                    actions.append(T.CodeAction(
                        title=f"Fix {d.code} ({d.name})", kind=T.CodeActionKind.QuickFix,
                        diagnostics=[lsp_diag], is_preferred=True,
                        edit=T.WorkspaceEdit(changes={uri: edits})))
            edit = ignore_edit(analysis.text, d.line, d.code, analysis.kind, encoding)
            if edit is not None:
                actions.append(T.CodeAction(
                    title=f"Ignore {d.code} on this line (# txlint: ignore[{d.code}])",
                    kind=T.CodeActionKind.QuickFix, diagnostics=[lsp_diag],
                    edit=T.WorkspaceEdit(changes={uri: [edit]})))
    if want_fix_all and analysis.fixed_source and analysis.fixed_source != analysis.text:
        edits = [edit for _, edit in diff_edits(analysis.text, analysis.fixed_source, encoding)]
        actions.append(T.CodeAction(title="Fix all txlint findings that have a safe fix",
                                    kind=T.CodeActionKind.SourceFixAll + ".txlint",
                                    edit=T.WorkspaceEdit(changes={uri: edits})))
    return actions


def _hover(ls: TxlintServer, params: T.HoverParams, analysis: Analysis | None) -> T.Hover | None:
    from txlint.docs import rule_markdown
    from txlint.reporters.sarif import _plain

    if analysis is None:
        return None
    position = params.position
    lines = split_lines(analysis.text)
    encoding = ls.encoding
    hits = []
    for d in analysis.diagnostics:
        rng = to_lsp(d, params.text_document.uri, lines, encoding).range
        after_start = (position.line, position.character) >= (rng.start.line, rng.start.character)
        before_end = (position.line, position.character) <= (rng.end.line, rng.end.character)
        if after_start and before_end:
            hits.append((d, rng))
    if not hits:
        return None
    parts, seen = [], set()
    for d, _ in hits:
        parts.append(f"**{d.code}** ({d.name}): {d.message}")
    for d, _ in hits:
        if d.code in seen:
            continue
        seen.add(d.code)
        doc = rule_markdown(d.code)
        if doc:
            parts.append(doc.strip())
    markdown = "\n\n---\n\n".join(parts)
    kind = T.MarkupKind.Markdown
    caps = ls.client_capabilities
    formats = caps.text_document.hover.content_format if caps and caps.text_document and \
        caps.text_document.hover else None
    if formats and T.MarkupKind.Markdown not in formats:
        kind, markdown = T.MarkupKind.PlainText, _plain(markdown)
    return T.Hover(contents=T.MarkupContent(kind=kind, value=markdown), range=hits[0][1])


# ------------------------------------------------------------------------------ process
def _exit_now(code: int) -> None:
    """Leave at once (the stdin reader thread may be blocked in a read), after flushing stdout."""
    try:
        sys.stdout.flush()
    except Exception:
        pass
    os._exit(code)


def _quiet_logging() -> None:
    """Nothing that goes wrong inside the server prints a traceback on stderr."""
    for name in ("pygls", "asyncio", "concurrent.futures"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [logging.NullHandler()]
        logger.propagate = False

    def excepthook(exc_type, exc, tb):
        try:
            sys.stderr.write(f"txlint server: {exc_type.__name__}: {exc}\n")
        except Exception:
            pass

    sys.excepthook = excepthook
    threading.excepthook = lambda args: excepthook(args.exc_type, args.exc_value, args.exc_traceback)


USAGE = """usage: txlint server [--stdio]

Run txlint as a Language Server (LSP over stdin/stdout) for editors. See the README for
VS Code, Neovim and Helix. Settings (initializationOptions or the `txlint` configuration
section): select, ignore (lists of codes or prefixes), config (a pyproject.toml or
txlint.toml), unsafeFixes (bool)."""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE)
        return 0
    unknown = [a for a in args if a != "--stdio"]
    if unknown:
        sys.stderr.write(f"txlint server: unknown argument {unknown[0]!r}\n{USAGE}\n")
        return 2
    _quiet_logging()
    server = build_server()
    try:
        server.start_io()
    except BaseException as exc:  # pragma: no cover - the loop ends on EOF; anything else: one line
        if not isinstance(exc, (SystemExit, KeyboardInterrupt)):
            sys.stderr.write(f"txlint server: {type(exc).__name__}: {exc}\n")
    # the client closed stdin without `exit`: exit 0 after a shutdown, else 1 (LSP)
    _exit_now(0 if server.shutdown_requested else 1)
    return 0  # pragma: no cover
