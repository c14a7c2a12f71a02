"""The default format: ``path:line:col: CODE message``, one line per finding (flake8/ruff style).

With ``--show-source`` each finding is followed by the reported source line with a caret under the
reported expression, then one line per trace step (``line: source  <- note``)::

    app/db.py:24:9: TXL201 SQLAlchemy Connection is not closed when returning at line 27
      24 |     c = engine.connect()
         |         ^^^^^^^^^^^^^^^^
      24: c = engine.connect()  <- SQLAlchemy Connection acquired here
      27: return False  <- returns here without close()
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from txlint.diagnostics import Diagnostic
    from txlint.registry import Rule

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# ANSI styles (used only when colour is on)
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_RED = "\x1b[31m"
_BLUE = "\x1b[34m"
_CYAN = "\x1b[36m"
_DIM = "\x1b[2m"


def one_line(text: str) -> str:
    """A message flattened to one line, so that tools parsing one finding per line keep working."""
    return " ".join(text.split()) if ("\n" in text or "\r" in text) else text


def format_diagnostic(d: "Diagnostic") -> str:
    return f"{d.path}:{d.line}:{d.column}: {d.code} {one_line(d.message)}"


def use_color(stream=None, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set to a non-empty value
    (https://no-color.org)."""
    stream = sys.stdout if stream is None else stream
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR", ""):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def read_source_lines(path: str) -> list[str] | None:
    """The lines of a reported file as the analysis saw them (Python: PEP 263 decoding, BOM
    stripped; other files: UTF-8), split on the line breaks Python's tokenizer knows, so that
    the 1-based columns of findings index them; ``None`` when the file cannot be read."""
    from txlint.source import SourceError, decode, read_bytes

    try:
        data = read_bytes(path)
    except SourceError:
        return None
    try:
        text = decode(data) if path.endswith((".py", ".pyi")) else data.decode("utf-8-sig")
    except (SourceError, UnicodeDecodeError):
        return None
    return split_lines(text)


def split_lines(text: str) -> list[str]:
    return _LINE_BREAK.split(text)


class _Style:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, *codes: str) -> str:
        if not self.color or not text:
            return text
        return "".join(codes) + text + _RESET


def _safe(text: str) -> str:
    """A source line fit for a terminal: control characters (other than tabs) shown as ``?``, so
    that analysed code can never send escape sequences to the user's terminal."""
    return "".join(ch if ch == "\t" or ch >= " " and ch != "\x7f" else "?" for ch in text)


def _caret_line(text: str, column: int, end_line: int, end_column: int, line: int) -> str:
    """Spaces up to ``column`` (tabs kept, so that the caret lines up) and carets to the end of the
    reported expression on this line (to the end of the line's text when it goes on)."""
    start = max(0, min(column - 1, len(text)))
    if end_line == line and end_column > column:
        stop = min(end_column - 1, len(text))
    elif end_line > line:
        stop = len(text.rstrip())
    else:
        stop = start + 1
    stop = max(stop, start + 1)
    prefix = "".join("\t" if ch == "\t" else " " for ch in text[:start])
    return prefix + "^" * (stop - start)


def source_block(d: "Diagnostic", lines: list[str] | None, style: _Style) -> list[str]:
    """The ``--show-source`` lines under one finding (empty when its source is not available)."""
    if not lines or not 0 < d.line <= len(lines):
        return []
    numbers = [d.line] + [s.line for s in d.trace if 0 < s.line <= len(lines)]
    width = max(len(str(n)) for n in numbers)
    gutter = " " * (width + 2)
    text = _safe(lines[d.line - 1].rstrip())
    caret = _caret_line(text, d.column, d.end_line, d.end_column, d.line)
    out = [
        f"  {style(str(d.line).rjust(width), _BLUE)} {style('|', _BLUE)} {text}",
        f"{gutter} {style('|', _BLUE)} {style(caret, _RED, _BOLD)}",
    ]
    for step in d.trace:
        if not 0 < step.line <= len(lines):
            continue
        src = _safe(lines[step.line - 1].strip())
        note = f"  {style('<- ' + one_line(step.note), _CYAN)}" if step.note else ""
        out.append(f"  {style(str(step.line).rjust(width) + ':', _DIM)} {src}{note}")
    return out


def statistics_lines(diagnostics: Sequence["Diagnostic"], rules: dict[str, type["Rule"]]) -> list[str]:
    """One line per code, sorted by code: count right-aligned (width 4 or more), code, name."""
    from txlint.reporters import rule_meta

    counts = Counter(d.code for d in diagnostics)
    names = {d.code: d.name for d in diagnostics}
    lines = []
    for code in sorted(counts):
        name = rule_meta(code, rules, names.get(code, ""))[0] or names.get(code, "")
        lines.append(f"{counts[code]:>4} {code} {name}".rstrip())
    return lines


def render_text(diagnostics: Sequence["Diagnostic"], *, rules: dict[str, type["Rule"]],
                statistics: bool = False, show_source: bool = False, color: bool = False,
                sources: Mapping[str, str] | None = None,
                read_lines: Callable[[str], list[str] | None] = read_source_lines) -> str:
    """The text report.  ``show_source`` adds the source and trace under each finding; ``sources``
    maps a reported path to its text when it is not (or not any more) on disk (stdin); ``color``
    adds ANSI colours to the ``--show-source`` output."""
    if not show_source:
        lines = [format_diagnostic(d) for d in diagnostics]
    else:
        style = _Style(color)
        cache: dict[str, list[str] | None] = {}
        lines = []
        for d in diagnostics:
            if d.path not in cache:
                text = (sources or {}).get(d.path)
                cache[d.path] = split_lines(text) if text is not None else read_lines(d.path)
            head = (f"{style(d.path, _BOLD)}:{d.line}:{d.column}: {style(d.code, _RED, _BOLD)} "
                    f"{one_line(d.message)}")
            block = source_block(d, cache[d.path], style)
            lines.append(head)
            if block:
                lines.extend(block)
                lines.append("")
    if statistics:
        lines.extend(statistics_lines(diagnostics, rules))
    return "".join(line + "\n" for line in lines)
