"""Rule documentation, from one source: the rule classes (code, name, summary, doc, fixable).

The same markdown is printed by ``txlint rule CODE``, written to ``docs/rules/CODE.md``, shown as
SARIF ``rules[].help`` and as the language server's hover.  Regenerate the files with::

    python -m txlint.docs            # writes docs/rules/*.md (next to the package's source tree)
    python -m txlint.docs --check    # exit 1 when the files differ from the rule classes
"""

from __future__ import annotations

import os
import sys

#: documentation of the codes no rule class produces (TXL000)
_BUILTIN_DOCS = {
    "TXL000": """\
## What it does
Reports a file that cannot be read, decoded or parsed as Python (syntax error, NUL bytes,
undecodable bytes, unreadable path, broken symlink or symlink loop named explicitly).

## Why is this bad
A file txlint cannot parse is a file it cannot check: leaks in it go unnoticed.

## Example
```python
def broken(:
    pass
```

## Use instead
Fix the file so that the Python interpreter accepts it, or exclude it with `--exclude`.
""",
}

FIX_NOTE = "Fix: available (`txlint --fix`)."
#: where the generated files live, relative to the source tree's root
DOCS_DIR = os.path.join("docs", "rules")


def known_codes() -> list[str]:
    """Every code txlint can report, sorted (TXL000 included)."""
    from txlint.registry import all_codes

    return list(all_codes())


def rule_parts(code: str) -> tuple[str, str, str, bool] | None:
    """(name, summary, doc markdown, fixable) of ``code``; ``None`` for an unknown code."""
    from txlint.registry import BUILTIN_CODES, load_rules

    code = code.upper()
    cls = load_rules().get(code)
    if cls is not None:
        return cls.name, cls.summary.strip(), cls.doc.strip(), bool(cls.fixable)
    if code in BUILTIN_CODES:
        name, summary = BUILTIN_CODES[code]
        return name, summary, _BUILTIN_DOCS.get(code, "").strip(), False
    return None


def rule_markdown(code: str) -> str | None:
    """The whole documentation of one rule as markdown (title, summary, the doc's sections, and
    whether ``--fix`` can fix it); ``None`` for an unknown code."""
    parts = rule_parts(code)
    if parts is None:
        return None
    return compose(code.upper(), *parts)


def compose(code: str, name: str, summary: str, doc: str, fixable: bool = False) -> str:
    """One rule's documentation page from its parts (the one format of every place that shows it)."""
    out = f"# {code} {name}".rstrip() + "\n\n"
    if summary.strip():
        out += summary.strip() + "\n\n"
    if doc.strip():
        out += doc.strip() + "\n\n"
    if fixable:
        out += FIX_NOTE + "\n"
    return out.rstrip("\n") + "\n"


def expected_files() -> dict[str, str]:
    """file name (``TXL101.md``) -> content, for every code."""
    return {f"{code}.md": rule_markdown(code) for code in known_codes()}


def source_root() -> str:
    """The source tree's root (the folder holding ``txlint/`` and ``docs/``)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def drift(directory: str) -> list[str]:
    """What differs between ``directory`` and the rule classes (empty when up to date)."""
    want = expected_files()
    problems = []
    have = sorted(n for n in os.listdir(directory) if n.startswith("TXL") and n.endswith(".md")) \
        if os.path.isdir(directory) else []
    for name in sorted(set(want) - set(have)):
        problems.append(f"{name}: missing")
    for name in sorted(set(have) - set(want)):
        problems.append(f"{name}: no such rule")
    for name in sorted(set(want) & set(have)):
        with open(os.path.join(directory, name), encoding="utf-8", newline="") as handle:
            if handle.read() != want[name]:
                problems.append(f"{name}: differs from the rule class")
    return problems


def write(directory: str) -> list[str]:
    """Write every rule's file into ``directory`` (and remove files of codes that no longer
    exist); returns the names written or removed."""
    os.makedirs(directory, exist_ok=True)
    want = expected_files()
    changed = []
    for name, text in want.items():
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                if handle.read() == text:
                    continue
        except FileNotFoundError:
            pass
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        changed.append(name)
    for name in os.listdir(directory):
        if name.startswith("TXL") and name.endswith(".md") and name not in want:
            os.remove(os.path.join(directory, name))
            changed.append(name)
    return changed


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    if any(a.startswith("-") for a in rest) or len(rest) > 1:
        print("usage: python -m txlint.docs [--check] [DIRECTORY]", file=sys.stderr)
        return 2
    directory = rest[0] if rest else os.path.join(source_root(), DOCS_DIR)
    if check:
        problems = drift(directory)
        for problem in problems:
            print(f"{os.path.join(directory, problem)}", file=sys.stderr)
        if problems:
            print("rule docs are out of date: run `python -m txlint.docs`", file=sys.stderr)
        return 1 if problems else 0
    for name in write(directory):
        print(os.path.join(directory, name))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
