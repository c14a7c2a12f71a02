"""Baselines: record today's findings, then report only the ones that are new.

A baseline is a JSON file::

    {"version": 1, "tool": "txlint",
     "findings": [{"path": "app/db.py", "code": "TXL201", "fingerprint": "...",
                   "message": "...", "line": 12}, ...]}

A finding matches an entry by path, code and fingerprint (the fingerprint covers the enclosing
function and the text of the reported line, never its number, so findings do not reappear when
unrelated lines move; ``line`` and ``message`` are there for people reading the file).  Matching
counts: two identical entries hide two findings, not three.
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from txlint.diagnostics import Diagnostic

BASELINE_VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read, parsed or written; the message says which and why."""


def normalize_path(path: str) -> str:
    """The form paths are compared in: forward slashes, no ``./`` or doubled slashes, and
    relative to the current directory when an absolute path lies under it."""
    p = path.replace("\\", "/")
    if p.startswith("/") or (len(p) > 2 and p[1] == ":" and p[2] == "/"):
        try:
            cwd = os.getcwd().replace("\\", "/")
        except OSError:
            cwd = ""
        if cwd and cwd != "/" and (p + "/").startswith(cwd.rstrip("/") + "/"):
            p = p[len(cwd.rstrip("/")):].lstrip("/") or "."
    if not p:
        return p
    p = posixpath.normpath(p)
    while p.startswith("//"):  # normpath keeps a leading '//' (POSIX implementation-defined)
        p = p[1:]
    return p


def _key(path: str, code: str, fingerprint: str, message: str) -> tuple[str, str, str]:
    # without a fingerprint (should not happen) the message stands in for it
    return (normalize_path(path), code, fingerprint or "message:" + message)


def diagnostic_key(d: Diagnostic) -> tuple[str, str, str]:
    return _key(d.path, d.code, d.fingerprint, d.message)


@dataclass(frozen=True)
class BaselineEntry:
    path: str
    code: str
    fingerprint: str
    message: str = ""
    line: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return _key(self.path, self.code, self.fingerprint, self.message)

    def to_json(self) -> dict:
        return {"path": self.path, "code": self.code, "fingerprint": self.fingerprint,
                "message": self.message, "line": self.line}


@dataclass
class Baseline:
    entries: list[BaselineEntry] = field(default_factory=list)
    path: str = ""

    def __len__(self) -> int:
        return len(self.entries)

    def filter(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """The findings not in the baseline, order kept; each entry hides at most one finding."""
        remaining = Counter(entry.key for entry in self.entries)
        kept = []
        for d in diagnostics:
            key = diagnostic_key(d)
            if remaining[key] > 0:
                remaining[key] -= 1
            else:
                kept.append(d)
        return kept


def entries_for(diagnostics: Iterable[Diagnostic]) -> list[BaselineEntry]:
    entries = [BaselineEntry(normalize_path(d.path), d.code, d.fingerprint, d.message, int(d.line))
               for d in diagnostics]
    entries.sort(key=lambda e: (e.path, e.code, e.line, e.fingerprint, e.message))
    return entries


def dumps(diagnostics: Iterable[Diagnostic]) -> str:
    doc = {"version": BASELINE_VERSION, "tool": "txlint",
           "findings": [e.to_json() for e in entries_for(diagnostics)]}
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def write_baseline(path: str, diagnostics: Sequence[Diagnostic]) -> None:
    """Write the baseline atomically (a temporary file in the same folder, then a rename).

    Raises :class:`BaselineError` when the file cannot be written."""
    text = dumps(diagnostics)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".txlint-baseline-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        try:  # mkstemp makes the file 0600; a baseline is shared like any source file
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)
        except OSError:
            pass
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise BaselineError(f"cannot write baseline {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _bad(path: str, why: str) -> BaselineError:
    return BaselineError(f"baseline {path} is not a valid txlint baseline: {why}")


def loads(text: str, path: str = "<baseline>") -> Baseline:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})") from None
    except RecursionError:
        raise _bad(path, "JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise _bad(path, f"expected a JSON object, found {type(doc).__name__}")
    version = doc.get("version", BASELINE_VERSION)
    if version != BASELINE_VERSION or isinstance(version, bool):
        raise _bad(path, f"unsupported version {version!r} (this txlint reads version {BASELINE_VERSION})")
    if doc.get("tool", "txlint") != "txlint":
        raise _bad(path, f"written by {doc.get('tool')!r}, not txlint")
    findings = doc.get("findings")
    if not isinstance(findings, list):
        raise _bad(path, "no \"findings\" list")
    entries = []
    for i, item in enumerate(findings):
        if not isinstance(item, dict):
            raise _bad(path, f"findings[{i}] is not an object")
        for key in ("path", "code", "fingerprint"):
            if not isinstance(item.get(key), str):
                raise _bad(path, f"findings[{i}].{key} is missing or not a string")
        message = item.get("message", "")
        line = item.get("line", 0)
        entries.append(BaselineEntry(
            item["path"], item["code"], item["fingerprint"],
            message if isinstance(message, str) else "",
            line if isinstance(line, int) and not isinstance(line, bool) else 0))
    return Baseline(entries, path)


def load_baseline(path: str) -> Baseline:
    """Read a baseline; :class:`BaselineError` with a clear message when it is missing,
    unreadable or not a txlint baseline."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise BaselineError(f"baseline file not found: {path}") from None
    except IsADirectoryError:
        raise BaselineError(f"baseline {path} is a directory, not a file") from None
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad(path, f"not UTF-8 text (byte {exc.start})") from None
    return loads(text, path)
