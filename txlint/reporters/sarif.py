"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run; ``tool.driver.rules`` describes every enabled rule (and TXL000); each result carries its
location, the trace as a ``codeFlows`` entry, and ``partialFingerprints`` computed from the
function and the reported line's text (never its number), so that results keep their identity when
unrelated lines move.  Columns are 1-based Unicode code points (Python string indices), said so
with ``run.columnKind``.
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Sequence
from urllib.parse import quote

if TYPE_CHECKING:  # pragma: no cover
    from txlint.diagnostics import Diagnostic, TraceStep
    from txlint.registry import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
#: where users learn about txlint (shown by SARIF viewers); the package metadata's
#: Homepage/Repository URL wins when there is one
DEFAULT_INFORMATION_URI = "https://github.com/your-org/txlint"
#: key of txlint's fingerprint in ``partialFingerprints`` (versioned: a new scheme gets /v2)
FINGERPRINT_KEY = "txlintFingerprint/v1"
#: base id of relative artifact URIs: the source root (where txlint was run)
SRCROOT = "%SRCROOT%"

#: defaultConfiguration.level by code prefix, unless the rule class sets ``level``: the leaks are
#: errors, configuration that breaks under idle timeouts is a warning
_LEVEL_BY_PREFIX = (("TXL0", "error"), ("TXL1", "error"), ("TXL2", "error"), ("TXL3", "error"),
                    ("TXL4", "warning"), ("TXL5", "warning"))
_TAGS_BY_PREFIX = {
    "TXL0": ["txlint"],
    "TXL1": ["correctness", "database", "transaction"],
    "TXL2": ["correctness", "database", "resource-leak"],
    "TXL3": ["correctness", "database", "celery", "resource-leak"],
    "TXL4": ["reliability", "database", "connection-lifetime"],
    "TXL5": ["reliability", "deployment", "celery"],
}
_LEVELS = ("none", "note", "warning", "error")


def _version() -> str:
    from txlint import __version__

    return __version__


def _information_uri() -> str:
    try:
        from importlib.metadata import metadata

        for entry in metadata("txlint").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            url = url.strip()
            if label.strip().lower() in ("homepage", "repository", "source", "documentation") \
                    and url.startswith(("https://", "http://")):
                return url
        home = metadata("txlint").get("Home-page")
        if home and home.startswith(("https://", "http://")):
            return home
    except Exception:
        pass
    return DEFAULT_INFORMATION_URI


def default_level(code: str, cls: type["Rule"] | None = None) -> str:
    level = getattr(cls, "level", None) if cls is not None else None
    if level in _LEVELS:
        return level
    for prefix, value in _LEVEL_BY_PREFIX:
        if code.startswith(prefix):
            return value
    return "warning"


def artifact_uri(path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId) for a path as given: a relative path stays a relative URI reference
    (forward slashes, no leading ``./``, percent-encoded) based on %SRCROOT%; an absolute path
    becomes a ``file://`` URI."""
    p = path
    if os.sep == "\\" or os.altsep == "/":  # Windows: both separators occur
        p = p.replace("\\", "/")
    absolute = p.startswith("/") or bool(re.match(r"^[A-Za-z]:/", p))
    raw = p.encode("utf-8", "surrogateescape")
    if absolute:
        if not p.startswith("/"):
            raw = b"/" + raw  # file:///C:/...
        return "file://" + quote(raw, safe="/:" if not p.startswith("/") else "/"), None
    while raw.startswith(b"./"):
        raw = raw[2:]
    raw = re.sub(rb"/{2,}", b"/", raw).replace(b"/./", b"/")
    return quote(raw, safe="/"), SRCROOT


def _section(doc: str, title: str) -> str:
    """The text of a ``## title`` section of a rule's markdown doc ('' when absent)."""
    lines = doc.splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("#"):
            if inside:
                break
            inside = line.lstrip("#").strip().lower() == title.lower()
            continue
        if inside:
            out.append(line)
    return "\n".join(out).strip()


def _plain(markdown: str) -> str:
    """Markdown reduced to readable plain text (headings lose their ``#``)."""
    return "\n".join(re.sub(r"^#{1,6}\s+", "", line) for line in markdown.splitlines()).strip()


def rule_descriptor(code: str, cls: type["Rule"] | None, name: str, summary: str, doc: str) -> dict:
    from txlint.docs import compose, rule_parts

    if not doc.strip() and cls is None:  # a built-in code (TXL000): its documentation lives in txlint.docs
        doc = (rule_parts(code) or ("", "", "", False))[2]
    short = summary.strip() or name or code
    full = _plain(_section(doc, "What it does")) or short
    # the rule's whole documentation (why it matters, what to do instead): the message says only
    # what leaks and where; the same page as `txlint rule CODE` and docs/rules/CODE.md
    help_md = compose(code, name or code, short, doc, bool(getattr(cls, "fixable", False))).strip()
    return {
        "id": code,
        "name": name or code,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": _plain(help_md), "markdown": help_md},
        "defaultConfiguration": {"level": default_level(code, cls)},
        "properties": {"tags": list(_TAGS_BY_PREFIX.get(code[:4], ["txlint"]))},
    }


def _region(line: int, column: int, end_line: int | None = None, end_column: int | None = None) -> dict:
    line, column = max(1, int(line)), max(1, int(column))
    region = {"startLine": line, "startColumn": column}
    if end_line is not None and end_column is not None:
        end_line, end_column = int(end_line), int(end_column)
        if (end_line, end_column) >= (line, column):
            region["endLine"] = end_line
            region["endColumn"] = max(1, end_column)
    return region


def _physical(uri: str, base: str | None, region: dict) -> dict:
    artifact = {"uri": uri}
    if base:
        artifact["uriBaseId"] = base
    return {"artifactLocation": artifact, "region": region}


def _fingerprint(d: "Diagnostic") -> str:
    if d.fingerprint:
        return d.fingerprint
    # no fingerprint from the engine: the code and the file, never a line number
    import hashlib

    return hashlib.sha256(f"{d.code}\x1f{d.path}".encode("utf-8", "surrogateescape")).hexdigest()[:20]


def _code_flow(uri: str, base: str | None, trace: Sequence["TraceStep"]) -> dict:
    return {"threadFlows": [{"locations": [
        {"location": {"physicalLocation": _physical(uri, base, _region(s.line, s.column)),
                      "message": {"text": s.note or "here"}}}
        for s in trace
    ]}]}


def build_sarif(diagnostics: Sequence["Diagnostic"], *, rules: dict[str, type["Rule"]],
                errors: Sequence[str] = ()) -> dict:
    from txlint.reporters import rule_meta

    names = {d.code: d.name for d in diagnostics}
    codes = sorted(set(rules) | {"TXL000"} | set(names))
    descriptors, index = [], {}
    for code in codes:
        name, summary, doc = rule_meta(code, rules, names.get(code, ""))
        index[code] = len(descriptors)
        descriptors.append(rule_descriptor(code, rules.get(code), name, summary, doc))

    results = []
    for d in diagnostics:
        uri, base = artifact_uri(d.path)
        result = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": descriptors[index[d.code]]["defaultConfiguration"]["level"],
            "message": {"text": d.message or d.name or d.code},
            "locations": [{"physicalLocation": _physical(
                uri, base, _region(d.line, d.column, d.end_line, d.end_column))}],
            "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(d)},
        }
        if d.trace:
            result["codeFlows"] = [_code_flow(uri, base, d.trace)]
        results.append(result)

    invocation: dict = {"executionSuccessful": True}
    if errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": str(e)}} for e in errors]
    version = _version()
    driver = {"name": "txlint", "version": version, "informationUri": _information_uri(),
              "rules": descriptors}
    if re.fullmatch(r"\d+\.\d+\.\d+(?:[-+].*)?", version):
        driver["semanticVersion"] = version
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(diagnostics: Sequence["Diagnostic"], *, rules: dict[str, type["Rule"]],
                 errors: Sequence[str] = ()) -> str:
    return json.dumps(build_sarif(diagnostics, rules=rules, errors=errors), indent=2, ensure_ascii=True) + "\n"
