"""Helpers that turn rule examples and ``# expect:`` test data into comparisons (used by tests/)."""

from __future__ import annotations

import os
import re
import tempfile

from txlint.analysis import analyze
from txlint.context import Options
from txlint.registry import Example, all_codes
from txlint.source import physical_lines

EXPECT_RE = re.compile(r"#\s*expect:\s*(TXL\d{3}(?:\s*,\s*TXL\d{3})*)")


def expected_findings(text: str) -> set[tuple[int, str]]:
    """``{(line, code)}`` for every ``# expect: CODE[, CODE]`` marker in ``text``."""
    out = set()
    for lineno, line in enumerate(physical_lines(text), 1):  # numbered as findings are
        m = EXPECT_RE.search(line)
        if m:
            out.update((lineno, c.strip()) for c in m.group(1).split(","))
    return out


def analyze_project(files: dict[str, str], check: str, *, codes=None, closers=(), task_decorators=(),
                    want_fixes=False):
    """Write ``files`` into a temporary project and analyse ``check``; returns the FileResult."""
    enabled = frozenset(codes if codes is not None else all_codes())
    with tempfile.TemporaryDirectory(prefix="txlint-example-") as root:
        for rel, text in files.items():
            full = os.path.join(root, rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        options = Options(enabled=enabled, want_fixes=want_fixes, closers=tuple(closers),
                          task_decorators=tuple(task_decorators), project_root=root)
        # relative display path, so messages do not depend on the temporary folder
        return analyze(os.path.join(root, check), check, options)


def run_example(example: Example, **kw) -> tuple[set[tuple[int, str]], set[tuple[int, str]], list]:
    """(expected, actual, diagnostics) as sets of (line, code) for the checked file."""
    files = example.project()
    check = example.checked_path()
    result = analyze_project(files, check, **kw)
    actual = {(d.line, d.code) for d in result.diagnostics}
    return expected_findings(files[check]), actual, result.diagnostics
