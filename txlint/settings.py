"""Settings from ``[tool.txlint]`` (pyproject.toml) or ``txlint.toml`` plus the command line."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_EXCLUDES = (".git", ".venv", "venv", "node_modules", "build", "dist", "__pycache__", ".tox", ".eggs",
                    ".txlint_cache")

#: key -> (type description, validator)
_LIST_KEYS = ("select", "ignore", "exclude", "closers", "task-decorators", "extend-exclude")
_KNOWN_KEYS = set(_LIST_KEYS) | {"resources", "per-file-ignores"}


class ConfigError(Exception):
    """A problem with the configuration; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class PerFileIgnores:
    """``per-file-ignores``: gitignore-style patterns relative to ``base`` (the config file's folder)
    -> codes or prefixes not reported in the files they match.  Picklable (sent to workers); the
    patterns are compiled on first use."""

    base: str = "."
    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def ignored(self, path: str, codes) -> frozenset[str]:
        """The codes among ``codes`` that are not reported in ``path`` (as given, or absolute)."""
        if not self.entries:
            return frozenset()
        rel = os.path.relpath(os.path.abspath(path), self.base)
        if rel == ".." or rel.startswith(".." + os.sep):
            return frozenset()
        rel = rel.replace(os.sep, "/")
        prefixes: set[str] = set()
        for spec, entry_codes in self._compiled():
            if spec.match_file(rel):
                prefixes.update(entry_codes)
        if not prefixes:
            return frozenset()
        return frozenset(c for c in codes if any(c.startswith(p) for p in prefixes))

    def _compiled(self):
        cache = self.__dict__.get("_specs")
        if cache is None:
            import warnings

            import pathspec

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache = [(pathspec.PathSpec.from_lines("gitwildmatch", [pattern]), codes)
                         for pattern, codes in self.entries]
            object.__setattr__(self, "_specs", cache)
        return cache

    def __getstate__(self):
        return {"base": self.base, "entries": self.entries}

    def __setstate__(self, state):
        object.__setattr__(self, "base", state["base"])
        object.__setattr__(self, "entries", state["entries"])


@dataclass
class Settings:
    select: list[str] = field(default_factory=lambda: ["TXL"])
    ignore: list[str] = field(default_factory=list)
    # (base folder, patterns): CLI patterns are relative to the current folder, config ones to the file
    excludes: list[tuple[str, list[str]]] = field(default_factory=list)
    closers: list[str] = field(default_factory=list)
    task_decorators: list[str] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)
    config_path: str | None = None
    project_root: str = "."
    per_file_ignores: PerFileIgnores = field(default_factory=PerFileIgnores)

    def fingerprint(self, enabled: list[str]) -> str:
        """What of the settings changes a file's findings (part of the cache key)."""
        import hashlib
        import json

        data = {"enabled": sorted(enabled), "closers": sorted(self.closers),
                "task_decorators": sorted(self.task_decorators), "resources": sorted(self.resources.items()),
                "per_file_ignores": [os.path.abspath(self.per_file_ignores.base),
                                     [[p, list(c)] for p, c in self.per_file_ignores.entries]]}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def ignored_codes(self, path: str, codes) -> frozenset[str]:
        """The codes among ``codes`` that ``per-file-ignores`` turns off for ``path``: the one
        place every front end (CLI, flake8 plugin, language server) asks."""
        return self.per_file_ignores.ignored(path, codes)


def find_config(start: str) -> str | None:
    """The nearest pyproject.toml with a ``[tool.txlint]`` table, searching upward."""
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as handle:
                    raw = handle.read()
                data = tomllib.loads(raw.decode("utf-8"))
                if isinstance(data.get("tool"), dict) and "txlint" in data["tool"]:
                    return candidate
            except OSError:
                pass
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                # a broken pyproject that does not mention txlint is not ours to judge
                if b"tool.txlint" in raw:
                    raise ConfigError(f"{candidate}: invalid TOML: {exc}") from None
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def find_project_root(start: str) -> str:
    """Nearest folder above ``start`` holding .git, pyproject.toml or setup.py; else ``start``."""
    directory = os.path.abspath(start)
    if os.path.isfile(directory):
        directory = os.path.dirname(directory)
    probe = directory
    while True:
        if any(os.path.exists(os.path.join(probe, m)) for m in (".git", "pyproject.toml", "setup.py", "setup.cfg")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return directory
        probe = parent


def load_config(path: str) -> dict:
    """Read the txlint table of ``path``: ``[tool.txlint]`` of a pyproject.toml, else top level."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a configuration file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if os.path.basename(path) == "pyproject.toml" or "tool" in data:
        table = data.get("tool", {}).get("txlint", {}) if isinstance(data.get("tool"), dict) else {}
        prefix = "tool.txlint."
    else:
        table, prefix = data, ""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{prefix.rstrip('.')}] must be a table")
    for key, value in table.items():
        if key not in _KNOWN_KEYS:
            raise ConfigError(f"{path}: unknown key {prefix}{key!s} (known: {', '.join(sorted(_KNOWN_KEYS))})")
        if key in _LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: {prefix}{key} must be a list of strings, got {value!r}")
        elif key == "resources":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError(f"{path}: {prefix}{key} must be a table of qualified name = kind")
        elif key == "per-file-ignores":
            if not isinstance(value, dict) or not all(
                    isinstance(v, list) and all(isinstance(c, str) for c in v) for v in value.values()):
                raise ConfigError(f"{path}: {prefix}{key} must be a table of pattern = list of codes, "
                                  f"got {value!r}")
    return table


def validate_codes(codes: list[str], known: list[str], where: str) -> None:
    for code in codes:
        if not code or not any(k.startswith(code) for k in known):
            raise ConfigError(f"{where}: unknown rule code or prefix {code!r} (see `txlint rules`)")


def split_list(values: tuple[str, ...] | list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def build_settings(*, config: str | None, select: list[str] | None, ignore: list[str] | None,
                   exclude: list[str] | None, known_codes: list[str], cwd: str | None = None) -> Settings:
    cwd = os.path.abspath(cwd or os.getcwd())
    settings = Settings()
    path = config if config else find_config(cwd)
    if path:
        path = os.path.abspath(path)
        table = load_config(path)
        base = os.path.dirname(path)
        settings.config_path = path
        settings.project_root = base
        if "select" in table:
            validate_codes(table["select"], known_codes, f"{path}: select")
            settings.select = list(table["select"])
        if "ignore" in table:
            validate_codes(table["ignore"], known_codes, f"{path}: ignore")
            settings.ignore = list(table["ignore"])
        patterns = list(table.get("exclude", [])) + list(table.get("extend-exclude", []))
        if patterns:
            settings.excludes.append((base, patterns))
        settings.closers = list(table.get("closers", []))
        settings.task_decorators = list(table.get("task-decorators", []))
        settings.resources = dict(table.get("resources", {}))
        pfi = table.get("per-file-ignores", {})
        for pattern, codes in pfi.items():
            if not pattern.strip():
                raise ConfigError(f"{path}: per-file-ignores: empty pattern")
            validate_codes(codes, known_codes, f"{path}: per-file-ignores.{pattern}")
        settings.per_file_ignores = PerFileIgnores(base, tuple((p, tuple(c)) for p, c in pfi.items()))
        from txlint.resources import KINDS

        for name, kind in settings.resources.items():
            if kind not in KINDS:
                raise ConfigError(f"{path}: resources.{name}: unknown kind {kind!r} "
                                  f"(known: {', '.join(sorted(KINDS))})")
    else:
        settings.project_root = find_project_root(cwd)
    if select:
        validate_codes(select, known_codes, "--select")
        settings.select = select
    if ignore:
        validate_codes(ignore, known_codes, "--ignore")
        settings.ignore = settings.ignore + ignore
    if exclude:
        settings.excludes.append((cwd, exclude))
    return settings
