"""Helpers that keep every finding's message one sentence of at most :data:`LIMIT` characters.

A message says what leaks and the path that leaks it; why that matters and what to do instead
live in the rule's documentation (``txlint rule CODE``, SARIF rule help, the editor's hover).
Messages interpolate names taken from the analysed code (call names, source excerpts, task
names), which can be of any length: :func:`clip` shortens those, and :func:`fit` adds optional
details only while the whole message stays within the limit.
"""

from __future__ import annotations

#: the longest message a finding may carry (contract: text format)
LIMIT = 120
_ELLIPSIS = "..."


def clip(text: str, width: int = 40) -> str:
    """``text`` on one line, shortened to ``width`` characters with a trailing ``...``."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    return text[: max(1, width - len(_ELLIPSIS))].rstrip() + _ELLIPSIS


def fit(head: str, *optional: str, limit: int = LIMIT) -> str:
    """``head`` followed by each of ``optional`` (in order) that still fits within ``limit``.

    A ``head`` longer than the limit on its own is clipped, so the result never exceeds it."""
    out = " ".join(head.split())
    for part in optional:
        if part and len(out) + len(part) <= limit:
            out += part
    return clip(out, limit)


def first_fit(*candidates: str, limit: int = LIMIT) -> str:
    """The first of ``candidates`` (most detailed first) that fits within ``limit``; the last one
    clipped when none does."""
    for text in candidates:
        text = " ".join(text.split())
        if len(text) <= limit:
            return text
    return clip(candidates[-1], limit)
