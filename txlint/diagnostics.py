"""Findings as every reporter, the cache and the baseline see them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class TraceStep:
    """One step of the path that shows a problem (1-based line and column)."""

    line: int
    column: int
    note: str


@dataclass(frozen=True)
class Diagnostic:
    """One finding in one file.  Positions are 1-based; ``end_*`` point just past the node."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    message: str
    trace: tuple[TraceStep, ...] = ()
    fingerprint: str = ""

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)

    def to_json(self) -> dict:
        data = asdict(self)
        data["trace"] = [asdict(step) for step in self.trace]
        del data["fingerprint"]
        return data

    def to_cache(self) -> dict:
        data = self.to_json()
        data["fingerprint"] = self.fingerprint
        return data

    @classmethod
    def from_cache(cls, data: dict) -> "Diagnostic":
        trace = tuple(TraceStep(**step) for step in data.get("trace", ()))
        fields = {k: v for k, v in data.items() if k != "trace"}
        return cls(trace=trace, **fields)

    def with_path(self, path: str) -> "Diagnostic":
        return Diagnostic(
            path, self.line, self.column, self.end_line, self.end_column, self.code,
            self.name, self.message, self.trace, self.fingerprint,
        )


_DEF_RE = re.compile(r"^(\s*)(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)")


def fingerprint(code: str, lines: list[str], line: int) -> str:
    """A fingerprint that survives unrelated edits: the code, the names of the enclosing
    ``def``/``class`` blocks and the text of the reported line, but never its number."""
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip()) if 0 < line <= len(lines) else 0
    scopes: list[str] = []
    for i in range(line - 2, -1, -1):
        if indent == 0:
            break
        match = _DEF_RE.match(lines[i])
        if match and len(match.group(1)) < indent:
            scopes.append(match.group(2))
            indent = len(match.group(1))
    # identical lines in the same scope are told apart by their rank among their twins
    rank = sum(1 for i in range(line - 1) if lines[i].strip() == text)
    raw = "\x1f".join([code, ".".join(reversed(scopes)), text, str(rank)])
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:20]


@dataclass
class FileResult:
    """What analysing one file produced: findings, optional fixed source, notes for --verbose."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fixed_source: str | None = None
    notes: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
