"""The default format: ``path:line:col: CODE message``, one line per finding (flake8/ruff style)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from txlint.diagnostics import Diagnostic
    from txlint.registry import Rule


def one_line(text: str) -> str:
    """A message flattened to one line, so that tools parsing one finding per line keep working."""
    return " ".join(text.split()) if ("\n" in text or "\r" in text) else text


def format_diagnostic(d: "Diagnostic") -> str:
    return f"{d.path}:{d.line}:{d.column}: {d.code} {one_line(d.message)}"


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
                statistics: bool = False) -> str:
    lines = [format_diagnostic(d) for d in diagnostics]
    if statistics:
        lines.extend(statistics_lines(diagnostics, rules))
    return "".join(line + "\n" for line in lines)
