"""Safe fixes: node replacements on the libcst tree, checked to parse, written atomically."""

from __future__ import annotations

import ast
import difflib
import os
import tempfile
import warnings

import libcst as cst


class _Replace(cst.CSTTransformer):
    def __init__(self, mapping: dict[int, cst.CSTNode]):
        super().__init__()
        self.mapping = mapping

    def on_leave(self, original_node, updated_node):
        new = self.mapping.get(id(original_node))
        return new if new is not None else updated_node


def apply_fixes(module: cst.Module, fixes) -> str | None:
    """New source with every fix applied, or None when nothing changes or the result would not
    parse (a fix never writes a file that does not parse)."""
    mapping = {id(f.old): f.new for f in fixes}
    new_module = module.visit(_Replace(mapping))
    code = new_module.code
    if code == module.code:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return code


def unified_diff(path: str, old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        fromfile=f"a/{path}", tofile=f"b/{path}"))


def write_atomic(path: str, text: str, newline_source: bytes | None = None) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename,
    keeping the file's mode; the encoding is UTF-8 (what the fixes' inputs were decoded from)."""
    directory = os.path.dirname(os.path.abspath(path))
    mode = None
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=".txlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
