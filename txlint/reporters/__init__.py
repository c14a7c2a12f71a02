"""Reporters: turn the sorted findings of one run into text, JSON, SARIF or GitHub annotations.

The one entry point is :func:`render`; each format lives in its own module and is imported only
when asked for (startup speed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from txlint.diagnostics import Diagnostic
    from txlint.registry import Rule

#: the values ``--format`` accepts
FORMATS = ("text", "json", "sarif", "github")


def render(fmt: str, diagnostics: Sequence["Diagnostic"], *, files_checked: int, errors: Sequence[str],
           rules: dict[str, type["Rule"]], statistics: bool = False, show_source: bool = False,
           color: bool = False, sources: dict[str, str] | None = None) -> str:
    """The whole report for one run, ending with a newline when it is not empty.

    ``diagnostics`` come sorted (path, line, column, code); ``rules`` maps every enabled code to
    its rule class (TXL000 has none: its name and summary come from ``registry.BUILTIN_CODES``).
    ``statistics`` adds per-code counts after the findings of the text format; the other formats
    are machine-readable and never change shape.  ``show_source`` (text only) adds the source
    line, a caret and the trace under each finding, in colour when ``color``; ``sources`` maps
    reported paths to their text when they are not read from disk (stdin).
    """
    diagnostics = list(diagnostics)
    if fmt == "text":
        from txlint.reporters.text import render_text

        return render_text(diagnostics, rules=rules, statistics=statistics, show_source=show_source, color=color,
                           sources=sources)
    if fmt == "json":
        from txlint.reporters.json_ import render_json

        return render_json(diagnostics, files_checked=files_checked, errors=errors)
    if fmt == "sarif":
        from txlint.reporters.sarif import render_sarif

        return render_sarif(diagnostics, rules=rules, errors=errors)
    if fmt == "github":
        from txlint.reporters.github import render_github

        return render_github(diagnostics)
    raise ValueError(f"unknown output format {fmt!r} (expected one of: {', '.join(FORMATS)})")


def rule_meta(code: str, rules: dict[str, type["Rule"]], fallback_name: str = "") -> tuple[str, str, str]:
    """(name, summary, doc) of ``code``: from its rule class, else the built-in codes (TXL000),
    else what the diagnostic itself says (``fallback_name``)."""
    cls = rules.get(code)
    if cls is not None:
        return cls.name or fallback_name, cls.summary or "", cls.doc or ""
    from txlint.registry import BUILTIN_CODES

    if code in BUILTIN_CODES:
        name, summary = BUILTIN_CODES[code]
        return name, summary, ""
    try:  # a code reported but not passed in ``rules`` (should not happen): ask the registry
        from txlint.registry import load_rules

        cls = load_rules().get(code)
    except Exception:  # pragma: no cover - a broken rule module must not break reporting
        cls = None
    if cls is not None:
        return cls.name or fallback_name, cls.summary or "", cls.doc or ""
    return fallback_name, "", ""
