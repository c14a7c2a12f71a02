"""Which fields of a CPython :mod:`ast` node can hold other nodes, per node type.

The generic walk (``ast.iter_child_nodes``) reads every field of every node and yields the
``Load``/``Store`` contexts and the operators as nodes of their own: about a third of what it
visits.  No reader of txlint looks for those as nodes (they read ``node.ctx`` and ``node.op``), and
fields that hold only names or constants (``Name.id``, ``Attribute.attr``, ``Constant.value``)
never hold a node.  The walks of the gate, the summaries and the worker index read this table
instead, which keeps their order (source order, pre-order) and drops only what no one reads.
"""

from __future__ import annotations

import ast

#: fields that never hold a node a reader wants (contexts, operators) or hold only strings/numbers
_NOT_NODES = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "name", "asname", "module", "level",
                        "kind", "type_comment", "conversion", "is_async", "lineno", "tag"})
#: fields of that list that do hold nodes in some node types
_NODES_IN = {ast.Constant: (), ast.Global: (), ast.Nonlocal: ()}
if hasattr(ast, "TypeAlias"):  # Python 3.12: ``type X = ...`` binds a Name node
    _NODES_IN[ast.TypeAlias] = tuple(ast.TypeAlias._fields)

#: the nodes inside a function that open a scope of their own (their bodies do not run where they
#: stand; walks of a function body list them without entering them)
SCOPE_TYPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda})

#: node type -> its fields that may hold nodes; hot loops read it directly (``FIELDS.get(typ) or
#: node_fields(typ)``), :func:`node_fields` fills it
FIELDS: dict[type, tuple[str, ...]] = {}


def node_fields(typ: type) -> tuple[str, ...]:
    """The fields of ``typ`` that may hold a node or a list of nodes, in the order of ``_fields``."""
    found = FIELDS.get(typ)
    if found is None:
        if typ in _NODES_IN:
            found = _NODES_IN[typ]
        else:
            found = tuple(f for f in typ._fields if f not in _NOT_NODES)
        FIELDS[typ] = found
    return found


def children(node: ast.AST) -> list[ast.AST]:
    """The child nodes of ``node`` in source order (``ast.iter_child_nodes`` without contexts and
    operators)."""
    out: list[ast.AST] = []
    node_type = ast.AST
    for name in FIELDS.get(type(node)) or node_fields(type(node)):
        value = getattr(node, name, None)
        if type(value) is list:
            out.extend(v for v in value if isinstance(v, node_type))
        elif isinstance(value, node_type):
            out.append(value)
    return out
