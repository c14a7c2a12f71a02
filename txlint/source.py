"""Reading bytes into text (BOM, coding line, NUL bytes) and parsing; problems become TXL000."""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
import warnings
from dataclasses import dataclass


class SourceError(Exception):
    """A file that cannot be read or parsed; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


MAX_BYTES = 50 * 1024 * 1024


def read_at_most(handle, limit: int) -> bytes:
    """``handle.read(limit)``; a regular file no larger than ``limit`` is read whole instead, since
    asking for ``limit`` bytes makes the allocator hand them out first (for the 50 MB limit, three
    times the cost of reading a typical source file)."""
    try:
        size = os.fstat(handle.fileno()).st_size
    except (OSError, ValueError, AttributeError):
        size = 0
    return handle.read() if 0 < size <= limit else handle.read(limit)


def read_bytes(path: str) -> bytes:
    try:
        if os.path.isdir(path):
            raise SourceError("is a directory, not a file")
        with open(path, "rb") as handle:
            data = read_at_most(handle, MAX_BYTES + 1)
    except SourceError:
        raise
    except FileNotFoundError:
        if os.path.islink(path):
            raise SourceError("broken symbolic link") from None
        raise SourceError("file not found") from None
    except PermissionError:
        raise SourceError("permission denied") from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise SourceError("symbolic link loop") from None
        raise SourceError(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise SourceError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MB; not analysed")
    return data


def decode(data: bytes) -> str:
    """Decode Python source as the interpreter would (PEP 263 coding line, UTF-8 BOM)."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceError("file contains a NUL byte; not Python source", line, 1)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot decode: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = 1
        if isinstance(exc, UnicodeDecodeError):
            line = data[: exc.start].count(b"\n") + 1
        raise SourceError(f"cannot decode as {encoding}: {exc.reason if hasattr(exc, 'reason') else exc}",
                          line, 1) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


@dataclass
class Source:
    path: str           # as reported
    text: str           # decoded, BOM stripped, original line endings kept
    tree: ast.Module    # the interpreter's own parse: the validity check and the cheap index


def parse_python(path: str, text: str) -> ast.Module:
    """Validate with CPython's own parser (fast, and never crashes on deep nesting)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=path, type_comments=False)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = exc.offset or 1
        raise SourceError(f"syntax error: {exc.msg}", line, max(col, 1)) from None
    except (RecursionError, MemoryError):
        raise SourceError("too deeply nested to parse") from None
    except ValueError as exc:
        raise SourceError(f"cannot parse: {exc}") from None


def load_python(path: str, display: str | None = None, text: str | None = None) -> Source:
    if text is None:
        text = decode(read_bytes(path))
    tree = parse_python(display or path, text)
    return Source(display or path, text, tree)


#: files larger than this are handed to libcst with their big pure-data statements blanked out
REDUCE_ABOVE_CHARS = 256 * 1024
_MIN_REDUCED_LINES = 20


def _pure_data(node: ast.AST) -> bool:
    """No call, lambda, await, yield or comprehension anywhere: nothing a rule could report."""
    for sub in ast.walk(node):
        if isinstance(sub, (ast.Call, ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom, ast.ListComp,
                            ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr)):
            return False
    return True


def reduce_source(text: str, tree: ast.Module) -> str | None:
    """The same file with every long pure-data statement at module or class level replaced by
    ``pass`` and blank lines, so that line and column numbers of everything else are unchanged.
    libcst is slow on huge literals (a 5 MB generated table takes it over 30 s); the rules never
    report inside pure data.  Returns None when nothing was reduced."""
    lines = physical_lines(text)
    spans: list[tuple[int, int, int]] = []

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.ClassDef):
                visit(stmt.body)
                continue
            if not isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Expr)):
                continue
            start, end = stmt.lineno, getattr(stmt, "end_lineno", None) or stmt.lineno
            if end - start + 1 < _MIN_REDUCED_LINES or not _pure_data(stmt):
                continue
            first, last = lines[start - 1], lines[end - 1]
            if first[: stmt.col_offset].strip() or last[stmt.end_col_offset:].strip():
                continue  # shares a line with another statement or a comment: leave it
            spans.append((start, end, stmt.col_offset))

    visit(tree.body)
    return _blank_spans(lines, spans)


def physical_lines(text: str) -> list[str]:
    """The lines of ``text`` with their ends, as CPython's tokenizer (and so ``ast``'s line
    numbers) counts them: CRLF, CR or LF, not the form feeds and other separators
    ``str.splitlines`` also breaks at."""
    return _PHYSICAL_LINE.findall(text)


_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _blank_spans(lines: list[str], spans: list[tuple[int, int, int]]) -> str | None:
    """``lines`` joined again, each span (first line, last line, column) replaced by ``pass`` at that
    column and blank lines, in the line ends of the file; None when there is no span."""
    if not spans:
        return None
    out = list(lines)
    for start, end, col in spans:
        last = lines[end - 1]
        newline = "\r\n" if last.endswith("\r\n") else ("\r" if last.endswith("\r") else "\n")
        out[start - 1] = lines[start - 1][:col] + "pass" + newline
        for i in range(start, end):
            out[i] = newline
    return "".join(out)


def blank_function_bodies(text: str, tree: ast.Module, keep: set[int]) -> str | None:
    """The same file with the body of every function the path rules will not analyse replaced by
    ``pass`` and blank lines (line and column numbers of everything else unchanged), for libcst
    when those rules are the only readers of its tree: they analyse only the functions of ``keep``
    (``id`` of ast function nodes, :meth:`txlint.gate.FileGate.path_candidates`).  A function
    keeps its body when it is in ``keep``, lies inside one, holds a nested function or class
    (libcst and ast must list the same functions), or starts its body on its ``def`` line.
    Returns None when nothing was blanked."""
    from txlint.kinds import ast_functions

    lines = physical_lines(text)
    spans: list[tuple[int, int, int]] = []
    inside_kept: list[tuple[int, int]] = []  # line ranges of kept functions (their nested ones stay)
    for fn, _cls in ast_functions(tree):
        start, end = fn.lineno, getattr(fn, "end_lineno", None) or fn.lineno
        if id(fn) in keep:
            inside_kept.append((start, end))
            continue
        if any(s <= start and end <= e for s, e in inside_kept):
            continue
        if any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
               for stmt in fn.body for n in ast.walk(stmt)):
            continue
        first = fn.body[0]
        if first.lineno <= fn.lineno or first.lineno > len(lines) or end > len(lines):
            continue
        if lines[first.lineno - 1][: first.col_offset].strip():
            continue  # something else starts that line
        spans.append((first.lineno, end, first.col_offset))
    return _blank_spans(lines, spans)
