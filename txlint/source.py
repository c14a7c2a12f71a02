"""Reading bytes into text (BOM, coding line, NUL bytes) and parsing; problems become TXL000."""

from __future__ import annotations

import ast
import io
import os
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


def read_bytes(path: str) -> bytes:
    try:
        if os.path.isdir(path):
            raise SourceError("is a directory, not a file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
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

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


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
