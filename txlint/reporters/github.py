"""``--format github``: one GitHub Actions workflow command per finding, shown as an annotation.

    ::error file=PATH,line=L,col=C,endLine=L2,endColumn=C2,title=TXL101 (transaction-not-ended)::MESSAGE
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from txlint.diagnostics import Diagnostic


def escape_data(text: str) -> str:
    """The message part of a workflow command: ``%``, CR and LF are percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: as :func:`escape_data`, plus ``:`` and ``,`` (they delimit properties)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_command(d: "Diagnostic") -> str:
    props = [
        ("file", d.path),
        ("line", str(d.line)),
        ("col", str(d.column)),
        ("endLine", str(d.end_line)),
        ("endColumn", str(d.end_column)),
        ("title", f"{d.code} ({d.name})" if d.name else d.code),
    ]
    head = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::error {head}::{escape_data(d.message)}"


def render_github(diagnostics: Sequence["Diagnostic"]) -> str:
    return "".join(format_command(d) + "\n" for d in diagnostics)
