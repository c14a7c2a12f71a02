"""The one registry of rules.  A rule is a small class: code, name, docs, facts it needs, examples.

Rules live in the ``txlint.rules`` package (the top-level ``rules/`` folder of the source tree);
each module registers its classes with :func:`register` when imported.
"""

from __future__ import annotations

import importlib
import pkgutil
from textwrap import dedent as _dedent
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from txlint.context import FileContext

#: file kinds a rule can examine
PYTHON = "python"
CONFIG_KINDS = ("supervisord", "systemd", "compose", "kubernetes")


def _clean(text: str) -> str:
    return _dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Example:
    """Code a rule must (INVALID) or must not (VALID) report.

    ``source`` is one module, or ``files`` maps several relative paths to their text (a small
    project; the first file is the one checked unless ``check`` names another).  Expected findings
    are marked inline with ``# expect: TXL101`` (several codes comma-separated) on the reported
    line; for non-Python files the marker is ``# expect: TXL501`` too (both formats allow ``#``).
    Texts are written indented in the rule modules and dedented only when an example is used, so
    that importing the rules (every run's start-up) does not pay for hundreds of examples.
    """

    raw_source: str = ""
    raw_files: tuple[tuple[str, str], ...] = ()
    check: str = ""
    filename: str = "example.py"
    note: str = ""

    @property
    def source(self) -> str:
        return _clean(self.raw_source)

    @property
    def files(self) -> tuple[tuple[str, str], ...]:
        return tuple((path, _clean(text)) for path, text in self.raw_files)

    def project(self) -> dict[str, str]:
        if self.raw_files:
            return dict(self.files)
        return {self.filename: self.source}

    def checked_path(self) -> str:
        if self.check:
            return self.check
        return self.raw_files[0][0] if self.raw_files else self.filename


def ex(source: str = "", *, files: dict[str, str] | None = None, check: str = "",
       filename: str = "example.py", note: str = "") -> Example:
    """Shorthand to build an :class:`Example` (``source`` and ``files`` are dedented on use)."""
    return Example(raw_source=source, raw_files=tuple((files or {}).items()), check=check,
                   filename=filename, note=note)


class Rule:
    """Base class.  Subclasses set the class attributes and implement :meth:`check`."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: markdown with the sections "What it does", "Why is this bad", "Example", "Use instead"
    doc: ClassVar[str] = ""
    #: facts the rule needs from the engine: "names", "cfg", "index"
    needs: ClassVar[frozenset[str]] = frozenset({"names"})
    #: file kinds examined (``PYTHON`` or members of ``CONFIG_KINDS``)
    file_kinds: ClassVar[tuple[str, ...]] = (PYTHON,)
    #: True when some findings carry a safe fix
    fixable: ClassVar[bool] = False
    #: what the rule reads of libcst's tree: "module" (any of it), "candidates" (only the functions
    #: the path rules' gate names, txlint.gate.FileGate.path_candidates) or "none" (the ast alone).
    #: When every rule that runs on a file says "candidates" or "none" and no fix is wanted, libcst
    #: is handed the file with the other functions' bodies blanked (txlint.source.blank_function_bodies)
    tree: ClassVar[str] = "module"
    VALID: ClassVar[list[Example]] = []
    INVALID: ClassVar[list[Example]] = []

    @classmethod
    def gate(cls, gate) -> bool:
        """Whether the rule could report anything in this Python file, judged cheaply on its ast
        (``gate`` is the file's :class:`txlint.gate.FileGate`) before libcst parses it.  A rule
        that cannot tell says True."""
        return True

    def check(self, ctx: "FileContext") -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class RuleSet:
    rules: dict[str, type[Rule]] = field(default_factory=dict)


_REGISTRY: dict[str, type[Rule]] = {}
_LOADED = False

#: codes that exist but are not produced by a rule class
BUILTIN_CODES = {"TXL000": ("parse-error", "a file that cannot be read or parsed")}


def register(cls: type[Rule]) -> type[Rule]:
    if cls.code in _REGISTRY and _REGISTRY[cls.code] is not cls:
        raise ValueError(f"rule code {cls.code} registered twice")
    _REGISTRY[cls.code] = cls
    return cls


def load_rules() -> dict[str, type[Rule]]:
    """Import every module of ``txlint.rules`` once; return code -> rule class, sorted by code."""
    global _LOADED
    if not _LOADED:
        import txlint.rules as pkg

        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{pkg.__name__}.{info.name}")
        _LOADED = True
    return dict(sorted(_REGISTRY.items()))


def all_codes() -> dict[str, str]:
    """code -> name for every code txlint can report, TXL000 included."""
    codes = {code: name for code, (name, _) in BUILTIN_CODES.items()}
    codes.update({code: cls.name for code, cls in load_rules().items()})
    return dict(sorted(codes.items()))


def rule_summary(code: str) -> str:
    if code in BUILTIN_CODES:
        return BUILTIN_CODES[code][1]
    return load_rules()[code].summary


def rule_name(code: str) -> str:
    return all_codes().get(code, "")


def enabled(codes: Iterable[str], select: Iterable[str], ignore: Iterable[str]) -> list[str]:
    """Codes enabled by select/ignore prefixes; the longest matching prefix wins (as in ruff)."""
    select, ignore = list(select), list(ignore)
    out = []
    for code in codes:
        best_sel = max((len(p) for p in select if code.startswith(p)), default=-1)
        best_ign = max((len(p) for p in ignore if code.startswith(p)), default=-1)
        if best_sel >= 0 and best_sel > best_ign:
            out.append(code)
    return out
