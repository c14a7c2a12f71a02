"""flake8 adapter: the same findings as ``txlint FILE`` for one file, columns 0-based.

flake8 does selection (``--select TXL``) and ``# noqa`` itself; txlint's own configuration
(closers, task decorators, extra resources, per-file-ignores) is read from the nearest
``[tool.txlint]``.
Project-wide facts come from the analysed project's other modules on disk, read lazily; what
cannot be seen from one file may be missed, never invented.
"""

from __future__ import annotations

import ast
import os
from typing import Iterator

from txlint import __version__


class Plugin:
    name = "txlint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: list[str] | None = None):
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        from txlint.analysis import analyze
        from txlint.context import Options
        from txlint.registry import all_codes
        from txlint.settings import ConfigError, build_settings, find_project_root

        codes = all_codes()
        try:
            settings = build_settings(config=None, select=None, ignore=None, exclude=None, known_codes=list(codes),
                                      cwd=os.path.dirname(os.path.abspath(self.filename)) or ".")
            closers, decorators, resources = settings.closers, settings.task_decorators, settings.resources
            root = settings.project_root if settings.config_path else find_project_root(self.filename)
            per_file_ignores = settings.per_file_ignores
        except ConfigError:
            closers, decorators, resources, root = [], [], {}, find_project_root(self.filename)
            per_file_ignores = None
        options = Options(enabled=frozenset(c for c in codes if c != "TXL000") | {"TXL000"},
                          closers=tuple(closers), task_decorators=tuple(decorators), project_root=root,
                          resources=dict(resources), per_file_ignores=per_file_ignores)
        text = "".join(self.lines) if self.lines is not None else None
        if text is not None and text.startswith("\ufeff"):
            text = text[1:]
        path = self.filename if self.filename not in ("-", "stdin") else "stdin.py"
        result = analyze(path, self.filename, options, text=text)
        for d in result.diagnostics:
            if d.code == "TXL000":
                continue  # flake8 reports syntax errors itself (E999)
            yield d.line, max(d.column - 1, 0), f"{d.code} {d.message}", type(self)
