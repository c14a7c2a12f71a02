"""``--format json``: one object, ``{"diagnostics": [...], "files_checked": N, "errors": [...]}``.

The shape is the contract's (shared/design/contract.md); output is deterministic (no timestamps,
no absolute paths that were not given) so that runs can be compared byte for byte.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from txlint.diagnostics import Diagnostic


def diagnostic_json(d: "Diagnostic") -> dict:
    """The contract's keys, in the contract's order."""
    return {
        "path": d.path,
        "line": int(d.line),
        "column": int(d.column),
        "end_line": int(d.end_line),
        "end_column": int(d.end_column),
        "code": d.code,
        "name": d.name,
        "message": d.message,
        "trace": [{"line": int(s.line), "column": int(s.column), "note": s.note} for s in d.trace],
    }


def render_json(diagnostics: Sequence["Diagnostic"], *, files_checked: int, errors: Sequence[str]) -> str:
    doc = {
        "diagnostics": [diagnostic_json(d) for d in diagnostics],
        "files_checked": int(files_checked),
        "errors": [str(e) for e in errors],
    }
    # ASCII-only output: safe whatever the encoding of stdout is
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"
