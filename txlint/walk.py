"""Fast iteration over libcst trees.

libcst's own visitors rebuild every node they pass (``_visit_and_replace_children`` runs each
node's validation again), which costs more than the parse itself.  Rules only read the tree, so
they walk it with these generators: plain attribute reads, no recursion (deep nesting is safe),
whitespace and punctuation fields skipped.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from txlint.lazylib import libcst as cst

_SKIP_FIELDS = frozenset({
    "lpar", "rpar", "comma", "semicolon", "colon", "equal", "dot", "leading_lines", "lines_after_decorators",
    "header", "footer", "newline", "trailing_whitespace", "lbracket", "rbracket", "lbrace", "rbrace", "star",
    "operator", "asynchronous", "whitespace", "default_indent", "default_newline", "encoding",
    "has_trailing_newline", "indent", "firstline", "prefix", "quote", "raw_value", "string", "tokens",
})
_FIELDS: dict[type, tuple[str, ...]] = {}

_SCOPES: tuple = ()


def scopes() -> tuple:
    """The node types that open a scope (functions, classes, lambdas); libcst is imported lazily."""
    global _SCOPES
    if not _SCOPES:
        _SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
    return _SCOPES


def child_fields(tp: type) -> tuple[str, ...]:
    fields = _FIELDS.get(tp)
    if fields is None:
        fields = tuple(f.name for f in dataclasses.fields(tp)
                       if f.name not in _SKIP_FIELDS and "whitespace" not in f.name)
        _FIELDS[tp] = fields
    return fields


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct children that matter (no whitespace, no punctuation), in source order."""
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def walk(node: cst.CSTNode, *, into_scopes: bool = True) -> Iterator[cst.CSTNode]:
    """Pre-order walk of ``node`` and its descendants.  With ``into_scopes=False`` nested
    functions, classes and lambdas are yielded but not entered."""
    stack = [node]
    pop, extend = stack.pop, stack.extend
    while stack:
        current = pop()
        yield current
        if not into_scopes and current is not node and isinstance(current, scopes()):
            continue
        kids = list(children(current))
        kids.reverse()
        extend(kids)


def walk_type(node: cst.CSTNode, types, *, into_scopes: bool = True) -> Iterator[cst.CSTNode]:
    """Descendants of the given type(s)."""
    for current in walk(node, into_scopes=into_scopes):
        if isinstance(current, types):
            yield current


def functions(module: cst.Module) -> Iterator[tuple[cst.FunctionDef, tuple[cst.CSTNode, ...]]]:
    """Every function and method (nested too) with the chain of enclosing classes/functions."""
    stack: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(module, ())]
    while stack:
        current, parents = stack.pop()
        kids = list(children(current))
        kids.reverse()
        for kid in kids:
            if isinstance(kid, cst.FunctionDef):
                yield kid, parents
                stack.append((kid, parents + (kid,)))
            elif isinstance(kid, cst.ClassDef):
                stack.append((kid, parents + (kid,)))
            else:
                stack.append((kid, parents))
