"""Content-addressed results under ``.txlint_cache/`` at the project root.

An entry is keyed by the file's bytes, its path, txlint's version and the effective configuration;
it also records the other project files its analysis read (path, size, mtime) and is only trusted
while they are unchanged.  Corrupt, half-written or mismatching entries are ignored and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from txlint import __version__
from txlint.diagnostics import Diagnostic, FileResult

CACHE_DIR = ".txlint_cache"
TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
       "# This file is a cache directory tag created by txlint.\n"
       "# For information about cache directory tags see https://bford.info/cachedir/\n")


_CODE_STAMP: str | None = None


def code_stamp() -> str:
    """Size and mtime of txlint's own modules and rules: a development checkout or an upgrade
    that keeps the version number still never reuses results of other code."""
    global _CODE_STAMP
    if _CODE_STAMP is None:
        import txlint
        import txlint.rules

        parts = []
        for folder in {os.path.dirname(txlint.__file__), *txlint.rules.__path__}:
            for root, _, names in os.walk(folder):
                for name in sorted(names):
                    if name.endswith(".py"):
                        st = os.stat(os.path.join(root, name))
                        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        _CODE_STAMP = hashlib.sha256("|".join(sorted(parts)).encode()).hexdigest()[:16]
    return _CODE_STAMP


def file_stamp(path: str) -> list:
    try:
        st = os.stat(path)
        return [os.path.abspath(path), st.st_size, st.st_mtime_ns]
    except OSError:
        return [os.path.abspath(path), -1, -1]


class Cache:
    def __init__(self, root: str, config_fingerprint: str):
        self.dir = os.path.join(root, CACHE_DIR, __version__)
        self.base = os.path.join(root, CACHE_DIR)
        self.config = config_fingerprint
        self._ready = False

    def key(self, path: str, data: bytes) -> str:
        h = hashlib.sha256()
        for part in (__version__, code_stamp(), self.config, os.path.abspath(path)):
            h.update(part.encode("utf-8", "surrogatepass") + b"\0")
        h.update(data)
        return h.hexdigest()

    def _entry(self, key: str) -> str:
        return os.path.join(self.dir, key[:2], key + ".json")

    def get(self, key: str, display: str) -> FileResult | None:
        try:
            with open(self._entry(key), encoding="utf-8") as handle:
                entry = json.load(handle)
            if entry.get("key") != key:
                return None
            for stamp in entry.get("deps", []):
                if file_stamp(stamp[0]) != stamp:
                    return None
            diags = [Diagnostic.from_cache(d).with_path(display) for d in entry["diagnostics"]]
            return FileResult(display, diags)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, key: str, result: FileResult, deps: list[str]) -> None:
        try:
            self._prepare()
            entry = {"key": key, "deps": [file_stamp(d) for d in deps],
                     "diagnostics": [d.to_cache() for d in result.diagnostics]}
            target = self._entry(key)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle)
            os.replace(tmp, target)
        except OSError:
            pass  # a read-only project still gets its results, just not cached

    def _prepare(self) -> None:
        if self._ready:
            return
        os.makedirs(self.dir, exist_ok=True)
        tag = os.path.join(self.base, "CACHEDIR.TAG")
        if not os.path.exists(tag):
            with open(tag, "w", encoding="utf-8") as handle:
                handle.write(TAG)
        ignore = os.path.join(self.base, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w", encoding="utf-8") as handle:
                handle.write("# created by txlint\n*\n")
        self._ready = True
