"""Which files a run examines: walking folders, excludes (gitignore-style), ``.gitignore``, kinds."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field

import pathspec

from txlint.registry import PYTHON
from txlint.settings import DEFAULT_EXCLUDES

#: extensions of files that may be config kinds (TXL501); anything else not ending in .py is skipped
CONFIG_EXTENSIONS = (".conf", ".ini", ".service", ".yaml", ".yml")
#: explicitly named files with these extensions are never Python
NON_PYTHON_EXTENSIONS = CONFIG_EXTENSIONS + (
    ".cfg", ".toml", ".json", ".md", ".rst", ".txt", ".lock", ".html", ".js", ".css", ".in", ".sh", ".env",
    ".pyc", ".pyi", ".png", ".jpg", ".svg", ".xml", ".csv", ".sql",
)


def _spec(patterns: list[str]) -> pathspec.PathSpec:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pathspec.PathSpec.from_lines("gitwildmatch", patterns)


@dataclass
class Target:
    path: str      # path to open
    display: str   # path as the user gave it (relative stays relative)
    kind: str      # "python" or a config kind
    error: str = ""  # set when the file was named explicitly but cannot be examined (TXL000)


@dataclass
class Excluder:
    """Default excludes + (base, patterns) pairs + ``.gitignore`` files found on the way."""

    rules: list[tuple[str, pathspec.PathSpec]] = field(default_factory=list)
    use_gitignore: bool = True
    _gitignores: dict[str, pathspec.PathSpec | None] = field(default_factory=dict)
    _git_roots: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def build(cls, excludes: list[tuple[str, list[str]]], use_gitignore: bool = True) -> "Excluder":
        rules = [("", _spec(list(DEFAULT_EXCLUDES)))]
        rules += [(os.path.abspath(base), _spec(patterns)) for base, patterns in excludes]
        return cls(rules, use_gitignore)

    def _gitignore(self, directory: str) -> pathspec.PathSpec | None:
        if directory not in self._gitignores:
            spec = None
            path = os.path.join(directory, ".gitignore")
            if os.path.isfile(path):
                try:
                    with open(path, encoding="utf-8", errors="replace") as handle:
                        spec = _spec(handle.read().splitlines())
                except OSError:
                    spec = None
            self._gitignores[directory] = spec
        return self._gitignores[directory]

    def _git_root(self, directory: str) -> str | None:
        if directory in self._git_roots:
            return self._git_roots[directory]
        probe, root = directory, None
        while True:
            if os.path.exists(os.path.join(probe, ".git")):
                root = probe
                break
            parent = os.path.dirname(probe)
            if parent == probe:
                break
            probe = parent
        self._git_roots[directory] = root
        return root

    def excluded(self, path: str, is_dir: bool = False) -> bool:
        absolute = os.path.abspath(path)
        for base, spec in self.rules:
            if not base:
                # default excludes: bare names, matched against every component
                parts = absolute.split(os.sep)
                if any(spec.match_file(part + ("/" if is_dir or i < len(parts) - 1 else ""))
                       for i, part in enumerate(parts) if part):
                    return True
                continue
            rel = os.path.relpath(absolute, base)
            if rel.startswith(".."):
                continue
            rel = rel.replace(os.sep, "/") + ("/" if is_dir else "")
            if spec.match_file(rel):
                return True
        if self.use_gitignore:
            directory = os.path.dirname(absolute)
            root = self._git_root(directory)
            if root is not None:
                probe = directory
                while True:
                    spec = self._gitignore(probe)
                    if spec is not None:
                        rel = os.path.relpath(absolute, probe).replace(os.sep, "/") + ("/" if is_dir else "")
                        if spec.match_file(rel):
                            return True
                    if probe == root:
                        break
                    parent = os.path.dirname(probe)
                    if parent == probe:
                        break
                    probe = parent
        return False


def kind_of(path: str, explicit: bool) -> str | None:
    from txlint.configfiles import config_kind

    lower = path.lower()
    if lower.endswith(".py"):
        return PYTHON
    if lower.endswith(CONFIG_EXTENSIONS):
        return config_kind(path)
    if explicit and not lower.endswith(NON_PYTHON_EXTENSIONS):
        return PYTHON  # a file named explicitly is examined as Python (scripts without extension)
    return None


def _display(root_display: str, root: str, path: str) -> str:
    rel = os.path.relpath(path, root)
    if root_display in (".", "./"):
        return rel if not root_display.startswith("./") else "./" + rel
    return os.path.join(root_display, rel)


def discover(paths: list[str], excluder: Excluder) -> list[Target]:
    """Targets in a deterministic order (sorted by display path), each file once."""
    targets: dict[str, Target] = {}
    seen_real: set[str] = set()

    def add(target: Target) -> None:
        real = os.path.realpath(target.path) if not target.error else target.path
        if target.display in targets or real in seen_real:
            return
        seen_real.add(real)
        targets[target.display] = target

    for given in paths:
        if os.path.isdir(given):
            if excluder.excluded(given, is_dir=True) and given not in (".", "./"):
                continue
            for path, display in _walk(given, excluder):
                kind = kind_of(path, explicit=False)
                if kind:
                    add(Target(path, display, kind))
            continue
        if excluder.excluded(given):
            continue
        if os.path.islink(given) and not os.path.exists(given):
            problem = "symbolic link loop" if _is_loop(given) else "broken symbolic link"
            add(Target(given, given, PYTHON, problem))
            continue
        if not os.path.exists(given):
            add(Target(given, given, PYTHON, "no such file or directory"))
            continue
        kind = kind_of(given, explicit=True)
        if kind:
            add(Target(given, given, kind))
    return sorted(targets.values(), key=lambda t: t.display)


def _is_loop(path: str) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == 40
    return False


def _walk(root: str, excluder: Excluder):
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            full = entry.path
            try:
                if entry.is_symlink():
                    # symlinked folders are not followed (loops); broken links and loops are skipped
                    if not os.path.exists(full) or os.path.isdir(full):
                        continue
                if entry.is_dir(follow_symlinks=False):
                    if not excluder.excluded(full, is_dir=True):
                        subdirs.append(full)
                    continue
                if not entry.is_file():
                    continue
            except OSError:
                continue
            if excluder.excluded(full):
                continue
            display = full[2:] if root == "." and full.startswith("./") else full
            yield full, display
        stack.extend(reversed(subdirs))
