"""TXL402 engine-without-liveness-check, and the keyword-argument helpers TXL402/TXL404 share.

A SQLAlchemy engine keeps a pool of connections.  A pooled connection that idles longer than the
server's idle timeout (MySQL ``wait_timeout``, 8 hours by default; firewalls, NAT and load balancers
often far less) is closed by the other side, and the pool hands it out anyway unless the engine was
told to test it (``pool_pre_ping=True``) or to replace old ones (``pool_recycle``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from txlint.lazylib import libcst as cst

from txlint.names import dotted_name, module_statements
from txlint.walk import children, walk, walk_type

from txlint.context import FileContext, Fix
from txlint.messages import clip, first_fit
from txlint.gate import engine_gate
from txlint.registry import Rule, ex, register
from txlint.resources import API_DIALECTS, EMBEDDED_DIALECTS, ENGINE_EXEMPT_POOLS

ENGINE_KIND = "sa.engine"
_UNKNOWN = object()


# ---------------------------------------------------------------- reading keyword arguments
@dataclass
class Keywords:
    """What the keyword arguments of one call say, ``**`` unpacking of known dicts included."""

    values: dict[str, object] = field(default_factory=dict)   # name -> cst node / ast node
    opaque: bool = False          # some ``**x`` whose keys are not known
    unpacked: bool = False        # some ``**x`` at all (known or not)
    fix_safe: bool = True         # adding a keyword cannot collide with a ``**`` dict's key


def _module_literal(ctx: FileContext, name: str) -> ast.AST | None:
    value = ctx.symbols.literals.get(name)
    if value is None:
        call = ctx.symbols.calls.get(name)
        if call is not None and isinstance(call.func, ast.Name) and call.func.id == "dict" and not call.args:
            return call
    return value


def _only_double_star_uses(ctx: FileContext, name: str) -> bool:
    """``name`` is used in this module only as ``**name`` (so nothing here mutates it)."""
    skip: set[int] = set()
    other = 0
    for node in walk(ctx.module):
        if isinstance(node, cst.Arg) and node.star == "**" and isinstance(node.value, cst.Name) \
                and node.value.value == name:
            skip.add(id(node.value))
        elif isinstance(node, cst.Name) and node.value == name and id(node) not in skip:
            other += 1
    return other <= 1  # the binding itself


def _dict_keys_ast(node: ast.AST) -> dict[str, object] | None:
    if isinstance(node, ast.Dict):
        out: dict[str, object] = {}
        for key, value in zip(node.keys, node.values):
            if key is None or not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                return None
            out[key.value] = value
        return out
    if isinstance(node, ast.Call) and not node.args:
        out = {}
        for kw in node.keywords:
            if kw.arg is None:
                return None
            out[kw.arg] = kw.value
        return out
    return None


def _dict_keys_cst(node: cst.BaseExpression) -> dict[str, object] | None:
    if isinstance(node, cst.Dict):
        out: dict[str, object] = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement) or not isinstance(element.key, cst.SimpleString):
                return None
            key = element.key.evaluated_value
            if not isinstance(key, str):
                return None
            out[key] = element.value
        return out
    return None


def read_keywords(ctx: FileContext, call: cst.Call, fixed_keyword: str) -> Keywords:
    out = Keywords()
    for arg in call.args:
        if arg.keyword is not None:
            out.values[arg.keyword.value] = arg.value
        elif arg.star == "**":
            out.unpacked = True
            keys = _dict_keys_cst(arg.value)
            if keys is None and isinstance(arg.value, cst.Name):
                literal = _module_literal(ctx, arg.value.value)
                keys = _dict_keys_ast(literal) if literal is not None else None
                if keys is not None and not _only_double_star_uses(ctx, arg.value.value):
                    out.fix_safe = False
            if keys is None:
                out.opaque = True
                out.fix_safe = False
                continue
            if fixed_keyword in keys:
                out.fix_safe = False
            for key, value in keys.items():
                out.values.setdefault(key, value)
    return out


def literal_value(node: object) -> object:
    """The value of a constant (libcst or ast node), else ``_UNKNOWN``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        return -value if isinstance(value, (int, float)) else _UNKNOWN
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, cst.Integer):
        return node.evaluated_value
    if isinstance(node, cst.Float):
        return node.evaluated_value
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal_value(node.expression)
        return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else _UNKNOWN
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return node.evaluated_value
    return _UNKNOWN


def is_unknown(value: object) -> bool:
    return value is _UNKNOWN


# ---------------------------------------------------------------- the fix: add or set a keyword
def _separator(call: cst.Call, before: int) -> cst.BaseParenthesizableWhitespace:
    """Whitespace that separates arguments in this call (a copy of an existing one, comments
    dropped), ``before``: index of an argument whose preceding separator is the model."""
    candidates = []
    if 0 < before < len(call.args):
        candidates.append(call.args[before - 1].comma)
    candidates.extend(a.comma for a in call.args[:-1])
    for comma in candidates:
        if isinstance(comma, cst.Comma):
            ws = comma.whitespace_after
            if isinstance(ws, cst.ParenthesizedWhitespace):
                return ws.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
            return cst.SimpleWhitespace(" ")
    ws = call.whitespace_before_args
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return ws.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return cst.SimpleWhitespace(" ")


def _split_closing(ws: cst.BaseParenthesizableWhitespace, sep: cst.BaseParenthesizableWhitespace):
    """Split the whitespace that ends the last argument into (what follows the old last argument,
    keeping its comment, and leads to the new one; what follows the new one up to ``)``)."""
    if isinstance(ws, cst.ParenthesizedWhitespace):
        if isinstance(sep, cst.ParenthesizedWhitespace):
            lead = ws.with_changes(indent=sep.indent, last_line=sep.last_line)
        else:
            lead = ws.with_changes(last_line=cst.SimpleWhitespace(""))
        closing = cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[],
                                              indent=ws.indent, last_line=ws.last_line)
        return lead, closing
    return sep, ws


def with_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``keyword=value``: an existing keyword's value is replaced, otherwise the
    keyword is added after the other keywords (before ``**`` unpacking), in the call's style."""
    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == keyword:
            args[i] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    equal = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    new = cst.Arg(value=value, keyword=cst.Name(keyword), equal=equal)
    if not args:
        return call.with_changes(args=[new])
    pos = next((i for i, a in enumerate(args) if a.star == "**"), len(args))
    if pos < len(args):
        sep = _separator(call, pos)
        new = new.with_changes(comma=cst.Comma(whitespace_after=sep))
        args.insert(pos, new)
        return call.with_changes(args=args)
    last = args[-1]
    sep = _separator(call, len(args))
    if isinstance(last.comma, cst.Comma):  # trailing comma: keep one after the new argument
        lead, closing = _split_closing(last.comma.whitespace_after, sep)
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=lead))
        new = new.with_changes(comma=cst.Comma(whitespace_after=closing))
    else:
        lead, closing = _split_closing(last.whitespace_after_arg, sep)
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=lead),
                                     whitespace_after_arg=cst.SimpleWhitespace(""))
        new = new.with_changes(whitespace_after_arg=closing)
    args.append(new)
    return call.with_changes(args=args)


# ---------------------------------------------------------------- what database a URL names
def _scheme(text: str) -> str:
    head = text.strip().split(":", 1)[0]
    return head.split("+", 1)[0].lower()


def _local_string_assignments(ctx: FileContext, call: cst.Call, name: str) -> list[cst.BaseExpression] | None:
    """Values assigned to ``name`` in the function or class body that contains ``call`` (None: not
    assigned there; a parameter, loop or ``with`` target counts as an unknown value)."""
    scope = ctx.fact("engine_config.enclosing", _enclosing_scopes).get(id(call))
    if scope is None:
        return None
    found: list[cst.BaseExpression] = []
    unknown = cst.Name("__unknown__")

    def binds(target: cst.CSTNode) -> bool:
        if isinstance(target, cst.Name):
            return target.value == name
        if isinstance(target, (cst.Tuple, cst.List)):
            return any(binds(e.value) for e in target.elements)
        if isinstance(target, cst.StarredElement):
            return binds(target.value)
        return False

    for node in walk(scope, into_scopes=False):
        if isinstance(node, cst.Assign):
            for t in node.targets:
                if isinstance(t.target, cst.Name) and t.target.value == name:
                    found.append(node.value)
                elif binds(t.target):
                    found.append(unknown)
        elif isinstance(node, cst.AnnAssign):
            if isinstance(node.target, cst.Name) and node.target.value == name and node.value is not None:
                found.append(node.value)
        elif isinstance(node, (cst.AugAssign, cst.For, cst.NamedExpr)):
            if binds(node.target):
                found.append(unknown)
        elif isinstance(node, cst.WithItem):
            if node.asname is not None and binds(node.asname.name):
                found.append(unknown)
        elif isinstance(node, cst.Param):
            if node.name.value == name:
                found.append(unknown)  # the caller decides, whatever the default
    return found or None


def _enclosing_scopes(ctx: FileContext) -> dict[int, cst.CSTNode]:
    """Call -> the innermost function or class body it runs in (module-level calls absent)."""
    out: dict[int, cst.CSTNode] = {}

    stack: list[tuple[cst.CSTNode, cst.CSTNode | None]] = [(ctx.module, None)]
    while stack:
        node, enclosing = stack.pop()
        if isinstance(node, cst.Call) and enclosing is not None:
            out[id(node)] = enclosing
        inner = node if isinstance(node, (cst.FunctionDef, cst.ClassDef)) else enclosing
        stack.extend((child, inner) for child in children(node))
    return out


def _prefix(node: object) -> tuple[str, bool] | None:
    """(known leading text of a string expression, whether that is the whole text)."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        text = node.evaluated_value
        return (text, True) if isinstance(text, str) else None
    if isinstance(node, ast.Constant):
        return (node.value, True) if isinstance(node.value, str) else None
    if isinstance(node, cst.FormattedString):
        first = node.parts[0] if node.parts else None
        return (first.value, len(node.parts) == 1) if isinstance(first, cst.FormattedStringText) else ("", False)
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value, len(node.values) == 1
        return "", False
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.Add, cst.Modulo)):
        left = _prefix(node.left)
        return (left[0], False) if left is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        left = _prefix(node.left)
        return (left[0], False) if left is not None else None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
        left = _prefix(node.func.value)
        return (left[0], False) if left is not None else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        left = _prefix(node.func.value)
        return (left[0], False) if left is not None else None
    return None


def _verdict_from_text(text: str, whole: bool) -> bool | None:
    if ":" in text:
        return _scheme(text) in EMBEDDED_DIALECTS or text.strip().split(":", 1)[0].lower() in API_DIALECTS
    low = text.lower().strip()
    if any(low.startswith(d) for d in EMBEDDED_DIALECTS) or (whole and low in API_DIALECTS):
        return True
    if whole or (low and not any(d.startswith(low) for d in EMBEDDED_DIALECTS)):
        return False if low else None
    return None


def _url_factory_driver(node: object) -> object:
    """The driver argument of ``URL.create(...)`` / ``make_url(...)`` (cst or ast), else None."""
    if isinstance(node, cst.Call):
        func = node.func
        last = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if last not in ("create", "make_url", "URL"):
            return None
        driver = None
        for i, arg in enumerate(node.args):
            if arg.keyword is not None and arg.keyword.value in ("drivername", "name_or_url"):
                driver = arg.value
            elif arg.keyword is None and not arg.star and i == 0:
                driver = arg.value
        return driver
    if isinstance(node, ast.Call):
        func = node.func
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if last not in ("create", "make_url", "URL"):
            return None
        driver = node.args[0] if node.args else None
        for kw in node.keywords:
            if kw.arg in ("drivername", "name_or_url"):
                driver = kw.value
        return driver
    return None


def _top_level_assignments(tree: ast.Module | None) -> dict[str, list[ast.AST]]:
    """name -> every value assigned to it at import time (``if``/``try``/``with`` included)."""
    out: dict[str, list[ast.AST]] = {}
    for stmt in module_statements(tree.body if tree is not None else []):
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(stmt.value)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.setdefault(stmt.name, []).append(stmt)
    return out


def _class_assignments(cls: ast.ClassDef, attr: str) -> list[ast.AST]:
    out: list[ast.AST] = []
    for stmt in cls.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == attr for t in targets):
                out.append(stmt.value)
    return out


def _all_agree(ctx: FileContext, call: cst.Call, values: list, depth: int) -> bool | None:
    verdicts = {url_is_embedded(ctx, call, v, depth + 1) for v in values}
    return verdicts.pop() if len(verdicts) == 1 else None


def url_is_embedded(ctx: FileContext, call: cst.Call, node: object, depth: int = 0) -> bool | None:
    """True: the URL names an embedded database (SQLite); False: a server; None: not known
    statically (treated as a server by the rule)."""
    if node is None or depth > 5:
        return None
    prefix = _prefix(node)
    if prefix is not None:
        return _verdict_from_text(*prefix)
    driver = _url_factory_driver(node)
    if driver is not None:
        return url_is_embedded(ctx, call, driver, depth + 1)
    if isinstance(node, ast.Name):
        values = ctx.fact("engine_config.assignments", lambda c: _top_level_assignments(c.ast)).get(node.id)
        return _all_agree(ctx, call, values, depth) if values else None
    if isinstance(node, cst.Name):
        local = _local_string_assignments(ctx, call, node.value)
        if local is not None:
            return _all_agree(ctx, call, local, depth)
        values = ctx.fact("engine_config.assignments", lambda c: _top_level_assignments(c.ast)).get(node.value)
        if values:
            return _all_agree(ctx, call, values, depth)
        return _named_value(ctx, call, ctx.resolver.ref(node), depth)
    if isinstance(node, cst.Attribute):
        return _named_value(ctx, call, ctx.resolver.ref(node), depth)
    return None


def _named_value(ctx: FileContext, call: cst.Call, ref: str | None, depth: int) -> bool | None:
    """A module constant or class attribute of this or another project module."""
    if not ref or "()" in ref or "." not in ref:
        return None
    parts = ref.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:i])
        syms = ctx.symbols if module == ctx.symbols.module else ctx.project.symbols(module)
        if syms is None:
            continue
        rest = parts[i:]
        if len(rest) == 1 and rest[0] in syms.literals:
            return url_is_embedded(ctx, call, syms.literals[rest[0]], depth + 1)
        if len(rest) == 2 and rest[0] in syms.classes:
            values = _class_assignments(syms.classes[rest[0]], rest[1])
            return _all_agree(ctx, call, values, depth) if values else None
        return None
    return None


# ---------------------------------------------------------------- the rule
def _ast_dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _may_call_engine_factory(ctx: FileContext) -> bool:
    """Cheap pre-check on the CPython tree (a libcst visit costs as much as a parse)."""
    if ctx.ast is None:
        return True
    factories = ctx.table.factories
    seen: set[str] = set()
    for node in ast.walk(ctx.ast):
        if not isinstance(node, ast.Call):
            continue
        dotted = _ast_dotted(node.func)
        if dotted is None or dotted in seen:
            continue
        seen.add(dotted)
        head, _, rest = dotted.partition(".")
        base = ctx.resolver.lookup(head)
        if base is None:
            continue
        ref = ctx.resolver.canonical(base + ("." + rest if rest else "")) if (rest or "." in base) else base
        if factories.get(ref) == ENGINE_KIND:
            return True
    return False


def engine_calls(ctx: FileContext) -> list[cst.Call]:
    """Every call in the file of a factory that makes a SQLAlchemy engine."""
    found: list[cst.Call] = []
    table = ctx.table
    if not _may_call_engine_factory(ctx):
        return found

    for node in walk_type(ctx.module, cst.Call):
        ref = ctx.resolver.ref(node.func)
        if ref and table.factories.get(ref) == ENGINE_KIND:
            found.append(node)
    return found


def _url_argument(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "url":
            return arg.value
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return arg.value
    return None


def _from_config_keys(ctx: FileContext, call: cst.Call) -> dict[str, object] | None:
    """Keys of the configuration mapping of ``engine_from_config``, prefix stripped."""
    config = _url_argument(call)
    prefix = "sqlalchemy."
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == "prefix" or (arg.keyword is None and i == 1):
            value = literal_value(arg.value)
            if isinstance(value, str):
                prefix = value
    keys = _dict_keys_cst(config) if config is not None else None
    if keys is None and isinstance(config, cst.Name):
        literal = _module_literal(ctx, config.value)
        keys = _dict_keys_ast(literal) if literal is not None else None
    if isinstance(config, cst.Name):
        # keys set on the mapping before the call count (contract §11)
        for how, key, value in _config_changes(ctx, call, config.value):
            keys = dict(keys or {})
            if how == "set" or key not in keys:
                keys[key] = value
    if keys is None:
        return None
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in keys.items()}


def _string_key(node: object) -> str | None:
    value = literal_value(node) if node is not None else None
    return value if isinstance(value, str) else None


def _config_changes(ctx: FileContext, call: cst.Call, name: str) -> list[tuple[str, str, object]]:
    """``(how, key, value)`` for the keys set on the mapping ``name`` before ``call``, in order:
    ``name["k"] = v`` and ``name.update(...)`` set ("set"), ``name.setdefault("k", v)`` sets a
    missing key ("default").  A mapping bound in the enclosing function is followed there; one of the
    module also through what the module does to it at import time."""
    scope = ctx.fact("engine_config.enclosing", _enclosing_scopes).get(id(call))
    roots: list[cst.CSTNode] = []
    if scope is None or _local_string_assignments(ctx, call, name) is None:
        roots.append(ctx.module)
    if scope is not None:
        roots.append(scope)
    out: list[tuple[str, str, object]] = []
    for root in roots:
        for node in walk(root, into_scopes=False):
            if node is call:
                break
            if isinstance(node, cst.Assign):
                for target in node.targets:
                    sub = target.target
                    if isinstance(sub, cst.Subscript) and isinstance(sub.value, cst.Name) and \
                            sub.value.value == name and len(sub.slice) == 1 and \
                            isinstance(sub.slice[0].slice, cst.Index):
                        key = _string_key(sub.slice[0].slice.value)
                        if key is not None:
                            out.append(("set", key, node.value))
            elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and \
                    isinstance(node.func.value, cst.Name) and node.func.value.value == name:
                method = node.func.attr.value
                positional = [a for a in node.args if a.keyword is None and not a.star]
                if method == "setdefault" and len(positional) == 2:
                    key = _string_key(positional[0].value)
                    if key is not None:
                        out.append(("default", key, positional[1].value))
                elif method == "update":
                    for arg in node.args:
                        if arg.keyword is not None:
                            out.append(("set", arg.keyword.value, arg.value))
                        elif not arg.star:
                            for key, value in (_dict_keys_cst(arg.value) or {}).items():
                                out.append(("set", key, value))
    return out


def _display(call: cst.Call) -> str:
    return dotted_name(call.func) or "create_engine"


@register
class EngineWithoutLivenessCheck(Rule):
    code = "TXL402"
    name = "engine-without-liveness-check"
    summary = ("`create_engine(...)` for a server database without `pool_pre_ping=True` and without "
               "`pool_recycle`")
    fixable = True
    doc = """\
## What it does
Flags `create_engine(...)`, `create_async_engine(...)` and `engine_from_config(...)` calls for a
server database (MySQL, PostgreSQL, Oracle, SQL Server ..., or a URL that is not known statically:
an environment variable, a settings attribute, a function parameter, `URL.create(...)` with a
server driver) that set neither `pool_pre_ping=True` nor `pool_recycle`.

SQLite URLs (`sqlite://...`, f-strings starting with `sqlite`), DuckDB, API dialects that keep no
server connection (`gsheets://`, shillelagh's `shillelagh://`, Superset's `superset://`) and engines
with `poolclass=NullPool` or `poolclass=StaticPool` are exempt. `pool_pre_ping=False` without a
`pool_recycle` is a finding, and so is `pool_recycle=-1` (the default, "never recycle").
Keyword arguments unpacked from a dict literal of the same module (`**ENGINE_OPTIONS`) count, and
so do keys set on the configuration mapping before `engine_from_config(config)`
(`config["sqlalchemy.pool_pre_ping"] = True`, `config.setdefault(...)`, `config.update(...)`).

## Why is this bad
An engine keeps a pool of connections that are reused for the life of the process. The server, or
a firewall, NAT gateway or load balancer between you and it, closes connections that stay idle too
long: MySQL after `wait_timeout` (8 hours by default, often set much lower), PgBouncer after
`server_idle_timeout`, cloud load balancers after minutes. The pool does not notice: the next request
after a quiet night (or weekend, or a failover) gets a dead connection and fails with
`MySQL server has gone away` (2006), `Lost connection to MySQL server during query` (2013) or
`server closed the connection unexpectedly`, and each worker process fails once per dead connection.

## Example
```python
from sqlalchemy import create_engine

engine = create_engine("mysql+pymysql://app:secret@db.internal/app", pool_size=5)
```

## Use instead
Let the pool test a connection before handing it out (one cheap round trip per checkout):
```python
from sqlalchemy import create_engine

engine = create_engine("mysql+pymysql://app:secret@db.internal/app", pool_size=5, pool_pre_ping=True)
```
or replace connections before the server's idle timeout can hit them:
```python
engine = create_engine(DATABASE_URL, pool_recycle=3600)  # below MySQL's wait_timeout
```
The fix (`--fix`) adds `pool_pre_ping=True`; it is not offered when a `**options` dict might
already set `pool_pre_ping`.
"""

    VALID = [
        ex("""
            from sqlalchemy import engine_from_config

            def main(global_config, **settings):
                settings.setdefault("sqlalchemy.pool_pre_ping", True)
                engine = engine_from_config(settings, "sqlalchemy.")
                return engine
        """, note="a key set on the configuration before engine_from_config counts"),
        ex("""
            from sqlalchemy import engine_from_config

            def make_engine(config):
                config["sqlalchemy.pool_recycle"] = 3600
                return engine_from_config(config, prefix="sqlalchemy.")
        """),
        ex("""
            from sqlalchemy import engine_from_config

            CONFIG = {"db.url": "mysql+pymysql://app@db/app"}
            CONFIG.update({"db.pool_pre_ping": True})
            engine = engine_from_config(CONFIG, prefix="db.")
        """),
        ex("""
            from sqlalchemy import create_engine

            engine = create_engine("gsheets://", service_account_file="/etc/app/service-account.json")
        """, note="an API dialect (shillelagh's Google Sheets) keeps no server connection"),
        ex("""
            from sqlalchemy.engine import create_engine

            engine = create_engine("shillelagh+safe://", adapters=["gsheetsapi"])
        """),
        ex("""
            from sqlalchemy import create_engine

            engine = create_engine("mysql+pymysql://app:secret@db.internal/app", pool_pre_ping=True)
        """),
        ex("""
            import os
            from sqlalchemy import create_engine

            engine = create_engine(os.environ["DATABASE_URL"], pool_recycle=3600, pool_size=10)
        """),
        ex("""
            from sqlalchemy import create_engine

            engine = create_engine("sqlite:///app.db", connect_args={"check_same_thread": False})
        """, note="SQLite has no server idle timeout"),
        ex("""
            from sqlalchemy import create_engine

            DB_NAME = "inventory"
            engine = create_engine(f"sqlite:///{DB_NAME}.db")
        """),
        ex("""
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///:memory:")
        """),
        ex("""
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool

            def make_engine(url):
                return create_engine(url, poolclass=NullPool)
        """, note="NullPool opens a fresh connection for every checkout"),
        ex("""
            import sqlalchemy as sa

            engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
        """),
        ex("""
            from alembic import context
            from sqlalchemy import engine_from_config, pool

            config = context.config

            def run_migrations_online():
                connectable = engine_from_config(
                    config.get_section(config.config_ini_section),
                    prefix="sqlalchemy.",
                    poolclass=pool.NullPool,
                )
                with connectable.connect() as connection:
                    context.configure(connection=connection)
        """, note="Alembic's env.py template"),
        ex("""
            from sqlalchemy import create_engine

            ENGINE_OPTIONS = {"pool_size": 10, "pool_pre_ping": True}
            engine = create_engine("postgresql://app@db/app", **ENGINE_OPTIONS)
        """),
        ex("""
            from sqlalchemy import create_engine

            def make_engine(url, **options):
                return create_engine(url, **options)
        """, note="the caller's options may well carry pool_pre_ping"),
        ex("""
            def create_engine(url):
                return {"url": url}

            engine = create_engine("mysql://app@db/app")
        """, note="a project function that happens to be called create_engine"),
        ex("""
            import pytest
            from sqlalchemy import create_engine

            @pytest.fixture
            def engine():
                url = "sqlite:///:memory:"
                engine = create_engine(url)
                yield engine
                engine.dispose()
        """),
        ex("""
            from sqlalchemy import create_engine
            from sqlalchemy.engine import URL

            url = URL.create("sqlite", database="local.db")
            engine = create_engine(url)
        """),
        ex("""
            import pyttsx3

            engine = pyttsx3.init()
            engine.connect("started-utterance", lambda name: None)
        """, note="a text-to-speech engine"),
        ex("""
            from sqlalchemy import create_engine

            engine = create_engine("postgresql+psycopg2://app@db/app", pool_pre_ping=False, pool_recycle=1800)
        """),
        ex("""
            from sqlalchemy import create_engine as ce

            engine = ce("mssql+pyodbc://app@dsn", pool_recycle=600)
        """),
        ex(files={
            "app/__init__.py": "",
            "app/settings.py": 'DATABASE_URL = "sqlite:///dev.db"\n',
            "app/db.py": """
                from sqlalchemy import create_engine
                from app import settings

                engine = create_engine(settings.DATABASE_URL)
            """,
        }, check="app/db.py", note="the settings module binds a SQLite URL"),
    ]

    INVALID = [
        ex("""
            from sqlalchemy import engine_from_config

            def main(global_config, **settings):
                engine = engine_from_config(settings, "sqlalchemy.")  # expect: TXL402
                settings.setdefault("sqlalchemy.pool_pre_ping", True)
                return engine
        """, note="a key set after the engine was made does not count"),
        ex("""
            from sqlalchemy import engine_from_config

            def make_engine(config, other):
                other["sqlalchemy.pool_pre_ping"] = True
                config.setdefault("sqlalchemy.pool_pre_ping", False)
                return engine_from_config(config)  # expect: TXL402
        """, note="another mapping's key, and a pre-ping turned off"),
        ex("""
            from sqlalchemy import create_engine

            engine = create_engine("shillelagh+multicorn2://app@pg.internal/app")  # expect: TXL402
        """, note="shillelagh's multicorn2 driver runs in a PostgreSQL server"),
        ex("""
            from sqlalchemy import create_engine

            engine = create_engine("mysql://app:secret@db.internal/app")  # expect: TXL402
        """),
        ex("""
            from sqlalchemy import create_engine

            reporting_engine = create_engine(  # expect: TXL402
                "mysql+pymysql://report:secret@replica.internal/reports",
                pool_size=5,
                echo=False,
            )
        """),
        ex("""
            import os
            from sqlalchemy import create_engine

            engine = create_engine(os.environ["DATABASE_URL"])  # expect: TXL402
        """, note="a URL from the environment is a server until shown otherwise"),
        ex("""
            import os
            import sqlalchemy as sa

            engine = sa.create_engine(os.getenv("DATABASE_URL", "sqlite:///dev.db"), echo=True)  # expect: TXL402
        """),
        ex("""
            from sqlalchemy import create_engine as ce

            engine = ce("postgresql://app@db/app", pool_size=20, max_overflow=0)  # expect: TXL402
        """),
        ex("""
            from sqlalchemy.ext.asyncio import create_async_engine, async_sessionmaker
            from app.config import settings

            engine = create_async_engine(settings.database_url, pool_size=10)  # expect: TXL402
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
        """, note="FastAPI with SQLAlchemy 2.x asyncio"),
        ex("""
            from sqlalchemy import create_engine

            def make_engine(url):
                return create_engine(url)  # expect: TXL402
        """, note="a function parameter: not known to be SQLite"),
        ex("""
            from sqlalchemy import create_engine

            engine = create_engine("mysql://app@db/app", pool_pre_ping=False)  # expect: TXL402
        """),
        ex("""
            from sqlalchemy import create_engine

            engine = create_engine("mysql://app@db/app", pool_recycle=-1)  # expect: TXL402
        """),
        ex("""
            from sqlalchemy import create_engine

            ENGINE_OPTIONS = {"pool_size": 10, "max_overflow": 5}
            engine = create_engine("postgresql://app@db/app", **ENGINE_OPTIONS)  # expect: TXL402
        """),
        ex("""
            from sqlalchemy import create_engine
            from sqlalchemy.engine import URL

            url = URL.create("mysql+mysqldb", username="app", host="db", database="app")
            engine = create_engine(url)  # expect: TXL402
        """),
        ex("""
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker


            class Database:
                engine = create_engine("oracle+oracledb://scott:tiger@orahost/orcl")  # expect: TXL402
                Session = sessionmaker(bind=engine)
        """),
        ex("""
            from sqlalchemy import engine_from_config

            def main(global_config, **settings):
                engine = engine_from_config(settings, "sqlalchemy.")  # expect: TXL402
                return engine
        """, note="Pyramid's scaffold"),
        ex("""
            from sqlmodel import SQLModel, create_engine

            DATABASE_URL = "postgresql://user:password@localhost/heroes"
            engine = create_engine(DATABASE_URL, echo=True)  # expect: TXL402
        """),
        ex("""
            from flask import Flask
            from sqlalchemy import create_engine

            app = Flask(__name__)

            def get_engine():
                user, host = app.config["DB_USER"], app.config["DB_HOST"]
                return create_engine(f"mysql+pymysql://{user}@{host}/shop")  # expect: TXL402
        """),
        ex("""
            from sqlalchemy import create_engine
            from sqlalchemy.pool import QueuePool

            engine = create_engine("postgresql://app@db/app", poolclass=QueuePool)  # expect: TXL402
        """),
        ex(files={
            "app/__init__.py": "",
            "app/settings.py": """
                import os
                DATABASE_URL = os.environ.get("DATABASE_URL")
            """,
            "app/db.py": """
                from sqlalchemy import create_engine
                from app.settings import DATABASE_URL

                engine = create_engine(DATABASE_URL)  # expect: TXL402
            """,
        }, check="app/db.py", note="URL imported from a settings module"),
    ]

    @classmethod
    def gate(cls, gate) -> bool:
        return engine_gate(gate)

    def check(self, ctx: FileContext) -> None:
        for call in engine_calls(ctx):
            self._check_call(ctx, call)

    def _check_call(self, ctx: FileContext, call: cst.Call) -> None:
        kws = read_keywords(ctx, call, "pool_pre_ping")
        values = dict(kws.values)
        name = _display(call)
        from_config = name.rsplit(".", 1)[-1].endswith("engine_from_config")
        if from_config:
            config_keys = _from_config_keys(ctx, call)
            if config_keys is None and _url_argument(call) is not None:
                # an opaque configuration mapping: the URL is not known, its keys are not either;
                # keyword arguments override it, so only what is passed here can be judged
                pass
            for key, value in (config_keys or {}).items():
                values.setdefault(key, value)
        if kws.opaque:
            return  # `**options` we cannot see may set the liveness keywords
        poolclass = values.get("poolclass")
        if poolclass is not None and isinstance(poolclass, cst.BaseExpression):
            ref = ctx.resolver.ref(poolclass)
            if ref in ENGINE_EXEMPT_POOLS or (
                    (ref or "").startswith("sqlalchemy.") and ref.rsplit(".", 1)[-1] in ("NullPool", "StaticPool")):
                return
        pre_ping = values.get("pool_pre_ping")
        recycle = values.get("pool_recycle")
        ping_on = pre_ping is not None and literal_value(pre_ping) not in (False, None, 0)
        recycle_on = recycle is not None and literal_value(recycle) not in (-1, None)
        if ping_on or recycle_on:
            return
        if from_config:
            config = _from_config_keys(ctx, call)
            url = (config or {}).get("url")
            embedded = url_is_embedded(ctx, call, url) if url is not None else None
        else:
            embedded = url_is_embedded(ctx, call, _url_argument(call))
        if embedded:
            return
        fix = None
        if kws.fix_safe or ("pool_pre_ping" in {a.keyword.value for a in call.args if a.keyword}):
            fix = Fix(old=call, new=with_keyword(call, "pool_pre_ping", cst.Name("True")))
        if pre_ping is not None:
            what = "sets `pool_pre_ping=False` and no `pool_recycle`"
        elif recycle is not None:
            what = "sets `pool_recycle=-1` (never recycle) and no `pool_pre_ping=True`"
        else:
            what = "sets neither `pool_pre_ping=True` nor `pool_recycle`"
        url_note = "a server database" if embedded is False else "a URL not known to be SQLite"
        message = first_fit(f"`{name}(...)` for {url_note} {what}", f"`{clip(name, 40)}(...)` {what}")
        ctx.report(self.code, call, message, fix=fix)
