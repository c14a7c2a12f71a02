"""Safe fixes: node replacements on the libcst tree, checked to parse, written atomically."""

from __future__ import annotations

import ast
import difflib
import os
import tempfile
import warnings

from txlint.lazylib import libcst as cst


class _Apply(cst.CSTTransformer):
    def __init__(self, fixes):
        super().__init__()
        self.replace: dict[int, cst.CSTNode] = {}
        self.around: dict[int, list] = {}
        stack = list(fixes)
        while stack:
            fix = stack.pop()
            stack.extend(fix.also)
            if fix.new is not None:
                self.replace[id(fix.old)] = fix.new
            if fix.before or fix.after or fix.leading_lines is not None:
                self.around.setdefault(id(fix.old), []).append(fix)

    def on_leave(self, original_node, updated_node):
        node = self.replace.get(id(original_node), updated_node)
        edits = self.around.get(id(original_node))
        if not edits:
            return node
        before, after = [], []
        for fix in edits:
            before.extend(fix.before)
            after.extend(fix.after)
            if fix.leading_lines is not None:
                node = node.with_changes(leading_lines=fix.leading_lines)
        return cst.FlattenSentinel([*before, node, *after])


def apply_fixes(module: cst.Module, fixes) -> str | None:
    """New source with every fix applied, or None when nothing changes or the result would not
    parse (a fix never writes a file that does not parse)."""
    try:
        new_module = module.visit(_Apply(fixes))
    except (cst.CSTValidationError, TypeError, ValueError, RecursionError):
        return None
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


def fix_destination(path: str, root: str) -> tuple[str | None, str]:
    """(file to write, note) for a fix of ``path``: the path itself; for a file reached through a
    symlink (the file or a folder above it), its real file when that lies inside the project
    ``root``; else (None, a note saying why it is left alone).  A link is never replaced."""
    absolute = os.path.abspath(path)
    real = os.path.realpath(path)
    if real == absolute:
        return path, ""
    inside = os.path.realpath(root or ".")
    if real == inside or real.startswith(inside.rstrip(os.sep) + os.sep):
        return real, ""
    return None, f"{path}: not fixed: it is a symbolic link to {real}, outside the project ({inside})"


def write_atomic(path: str, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename,
    keeping the file's mode and its declared encoding.  A symbolic link is never replaced by a
    copy: pass its target (see ``fix_destination``)."""
    if os.path.islink(path):
        raise OSError(f"{path}: is a symbolic link; refusing to replace it with a regular file")
    directory = os.path.dirname(os.path.abspath(path))
    mode = None
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=".txlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
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
