"""What an object is (contract §13): the one question every rule asks, "what is this expression?".

Answers are *refs* (see :mod:`txlint.names`), rewritten step by step until they name something the
resource table knows.  ``config.current_engine().connect()`` in ``maintenance.py`` becomes

    app.config.current_engine().connect()       the import of ``config``
    app.config.engine.connect()                 ``current_engine`` returns the module global
    sqlalchemy.engine.Engine().connect()        ``engine: Engine | None = None``

and the table says that is a SQLAlchemy Connection.  The steps, all read from the project's own
modules with :mod:`ast` (never imported):

* module bindings: imports (also inside functions, under ``TYPE_CHECKING`` or ``try``), assignments,
  annotations of globals, globals assigned through ``global``, lazy imports (:mod:`txlint.names`);
* a call of a project function, staticmethod or classmethod: what it returns (its ``return``s,
  else its return annotation; for a ``@contextmanager``, what it yields);
* an instance of a project class (``self`` inside its methods): an attribute is what any method or
  the class body assigns or annotates (base classes of the project included), a method call is
  what the method returns, a property read what the property returns.

Whether a call hands the caller a *new* resource (an acquisition) is a separate question, answered
by :func:`new_resource_kind`: a library factory or method says so in the table; a project function
says so in its summary (:mod:`txlint.summaries`); parameters and attributes are never new.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Union

from txlint import resources as R
from txlint.astfields import FIELDS, SCOPE_TYPES, node_fields
from txlint.names import (ModuleSymbols, ProjectModules, Resolver, _import_bindings, annotation_ref, ast_ref,
                          lazy_import_target)

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]

#: decorators that change what calling a function gives (resolved refs)
CONTEXT_MANAGER_DECORATORS = frozenset({"contextlib.contextmanager", "contextlib.asynccontextmanager"})
PROPERTY_DECORATORS = frozenset({"property", "builtins.property", "functools.cached_property",
                                 "cached_property", "werkzeug.utils.cached_property",
                                 "django.utils.functional.cached_property", "sqlalchemy.util.memoized_property",
                                 "sqlalchemy.ext.hybrid.hybrid_property"})
TRACKED_CATEGORIES = frozenset({R.SESSION, R.CONNECTION, R.CURSOR})

_IN_PROGRESS = object()


def split_ref(ref: str) -> list[str]:
    """``a.b().c[]`` -> ``["a", "b", "()", "c", "[]"]``."""
    return R._split_ref(ref)


def join_ref(head: str, tokens: list[str]) -> str:
    out = head
    for tok in tokens:
        out += tok if tok in ("()", "[]") else "." + tok
    return out


#: decorators whose meaning kinds needs (the rest are never resolved: no module is read for them)
_DECORATORS_OF_INTEREST = frozenset({"contextmanager", "asynccontextmanager", "property", "cached_property",
                                     "memoized_property", "hybrid_property", "staticmethod", "classmethod"})


def _decorator_names(fn: FunctionNode, kr: "KindResolver") -> set[str]:
    """Last names of a function's decorators, and the qualified names of those that matter here
    (``contextlib.contextmanager``, ``property`` ...)."""
    out = set()
    for dec in fn.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        last = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if not last:
            continue
        out.add(last)
        if last in _DECORATORS_OF_INTEREST:
            ref = ast_ref(target, kr.raw_lookup)
            if ref:
                out.add(ref)
                out.add(kr.canonical(ref))
    return out


def statements(body: list[ast.stmt]) -> list[ast.AST]:
    """Every node of a function body in source order (pre-order), not entering nested functions,
    classes or lambdas (they are included, not entered); contexts and operators are not nodes
    here (:mod:`txlint.astfields`).  The loop inlines :func:`txlint.astfields.children`: it runs
    once per node of every function the gate reads, and the call per node costs a fifth more."""
    out: list[ast.AST] = []
    append = out.append
    stack: list[ast.AST] = list(reversed(body))
    pop, extend = stack.pop, stack.extend
    node_type = ast.AST
    fields = FIELDS.get
    while stack:
        node = pop()
        append(node)
        typ = type(node)
        if typ in SCOPE_TYPES:
            continue
        kids = []
        for name in fields(typ) or node_fields(typ):
            value = getattr(node, name, None)
            if value is None:
                continue
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        kids.append(item)
            elif isinstance(value, node_type):
                kids.append(value)
        if kids:
            kids.reverse()
            extend(kids)
    return out


#: what :func:`return_shape` says: some ``return`` may give a new resource / a tuple of them
RETURNS_ONE, RETURNS_TUPLE = 1, 2


def return_shape(fn: FunctionNode) -> int:
    """Whether ``fn`` could hand its caller a new resource, read from the shape of its ``return``s
    alone (no name is resolved): :data:`RETURNS_ONE` when some returned value is a call, an
    ``await`` or a local assigned from one, :data:`RETURNS_TUPLE` when one is a tuple; 0 for a
    generator or a function that returns only constants, attributes, parameters...  A summary
    (:mod:`txlint.summaries`) can find a new resource only where this says it may, so callers ask
    this first and skip the summary (and the modules it reads) otherwise."""
    shape = getattr(fn, "_txlint_shape", None)
    if shape is not None:
        return shape
    from_calls: set[str] = set()
    returned: list[ast.AST] = []
    shape = 0
    for node in fn_nodes(fn):
        typ = type(node)
        if typ is ast.Yield or typ is ast.YieldFrom:
            returned = []
            break
        if typ is ast.Return:
            if node.value is not None:
                returned.append(node.value)
        elif typ is ast.Assign or typ is ast.AnnAssign or typ is ast.AugAssign:
            if type(node.value) is ast.Call or type(node.value) is ast.Await:
                for target in (node.targets if typ is ast.Assign else [node.target]):
                    for n in ast.walk(target):
                        if type(n) is ast.Name:
                            from_calls.add(n.id)
    for value in returned:
        elems = value.elts if type(value) is ast.Tuple else (value,)
        if type(value) is ast.Tuple:
            shape |= RETURNS_TUPLE
        for e in elems:
            typ = type(e)
            if typ is ast.Call or typ is ast.Await or (typ is ast.Name and e.id in from_calls):
                shape |= RETURNS_ONE
    try:
        fn._txlint_shape = shape
    except AttributeError:  # pragma: no cover
        pass
    return shape


def fn_nodes(fn: FunctionNode) -> list[ast.AST]:
    """:func:`statements` of a function's body, computed once per function and shared by every
    reader (its environment, summary, ownership facts and the gate)."""
    nodes = getattr(fn, "_txlint_nodes", None)
    if nodes is None:
        nodes = statements(fn.body)
        try:
            fn._txlint_nodes = nodes
        except AttributeError:  # pragma: no cover
            pass
    return nodes


# ------------------------------------------------------------------------------------ store
class KindStore:
    """Per project (lives on :class:`ProjectModules`): resolvers per module, class facts and
    return refs of project functions, each computed once."""

    def __init__(self, project: ProjectModules, table: R.ResourceTable):
        self.project = project
        self.table = table
        self.resolvers: dict[str, "KindResolver"] = {}
        self.classes: dict[tuple[str, str], Optional["ClassInfo"]] = {}
        self.returns: dict[tuple, object] = {}

    def dismantle(self) -> None:
        """Break the cycles between resolvers, their function environments and class facts (each
        points back at its resolver), so that dropping the store frees them at once."""
        for kr in self.resolvers.values():
            kr.__dict__.clear()
        for info in self.classes.values():
            if info is not None:
                info.__dict__.clear()
        self.resolvers.clear()
        self.classes.clear()
        self.returns.clear()


def store_for(project: ProjectModules, table: R.ResourceTable) -> KindStore:
    stores = getattr(project, "_txlint_kinds", None)
    if stores is None:
        stores = project._txlint_kinds = {}
    store = stores.get(id(table))
    if store is None:
        store = stores[id(table)] = KindStore(project, table)
    return store


def resolver_for(project: ProjectModules, table: R.ResourceTable, syms: ModuleSymbols) -> "KindResolver":
    store = store_for(project, table)
    key = syms.module or syms.path
    kr = store.resolvers.get(key)
    if kr is None or kr.symbols is not syms:
        kr = store.resolvers[key] = KindResolver(syms, project, table)
    return kr


# ------------------------------------------------------------------------------------ resolver
class KindResolver(Resolver):
    """A :class:`Resolver` that also steps through project functions and classes."""

    MAX_HOPS = 24

    def __init__(self, symbols: ModuleSymbols, project: ProjectModules | None = None,
                 table: R.ResourceTable = R.DEFAULT_TABLE):
        super().__init__(symbols, project)
        self.table = table
        self.store = store_for(self.project, table)

    def raw_lookup(self, name: str) -> Optional[str]:
        """What the module binds ``name`` to, not yet followed into other modules (they are read
        only when a ref is canonicalised, which happens only for what a rule asks about)."""
        ref = self.symbols.bindings.get(name)
        if ref is None and self.symbols.star:
            ref = self.star_lookup(name)
        return ref

    def knows(self, ref: str) -> bool:
        table = self.table
        return ref in table.factories or ref in table.types or ref in table.objects or ref in table.functions

    # ---- modules -----------------------------------------------------------------------
    def _opaque(self, syms: ModuleSymbols) -> bool:
        """A module of a library the table describes or of the standard library, when the analysed
        tree holds its source: its imports are followed (re-exports), but not the bodies of its
        functions and classes (the table knows what their objects are)."""
        return syms is not self.symbols and syms.module.partition(".")[0] in R.LIBRARY_ROOTS

    def _stdlib(self, module: str) -> bool:
        return module.partition(".")[0] in R.STDLIB_NEVER_READ and module != self.symbols.module

    def resolver_of(self, syms: ModuleSymbols) -> "KindResolver":
        if syms is self.symbols:
            return self
        return resolver_for(self.project, self.table, syms)

    def _readable_module(self, tokens: list[str]) -> Optional[tuple[ModuleSymbols, int]]:
        """:meth:`_split_module`, unless that module is one whose bodies are never read (a library
        the table describes, :meth:`_opaque`)."""
        found = self._split_module(tokens)
        if found is None or self._opaque(found[0]):
            return None
        return found

    def _split_module(self, tokens: list[str]) -> Optional[tuple[ModuleSymbols, int]]:
        """(symbols, i): the longest leading dotted names that are a project module, and the
        index of the first token after it."""
        names = 0
        while names < len(tokens) and tokens[names] not in ("()", "[]"):
            names += 1
        for i in range(names - 1, 0, -1):
            syms = self.module_symbols(".".join(tokens[:i]))
            if syms is not None:
                return syms, i
        return None

    # ---- stepping ----------------------------------------------------------------------
    def _step(self, ref: str) -> Optional[str]:
        out = super()._step(ref)
        if out is not None:
            return out
        if ref[:1] == R.KIND_REF:
            return None
        tokens = split_ref(ref)
        found = self._readable_module(tokens)
        if found is None:
            return None
        syms, i = found
        return self.resolver_of(syms)._value_step(syms, tokens[i], tokens[i + 1:])

    def _value_step(self, syms: ModuleSymbols, name: str, rest: list[str]) -> Optional[str]:
        if name in syms.functions and rest[:1] == ["()"]:
            ret = return_ref(self, syms.functions[name], None)
            return join_ref(ret, rest[1:]) if isinstance(ret, str) else None
        if name in syms.classes:
            info = class_info(self, syms, name)
            if info is None:
                return None
            if rest[:1] == ["()"]:
                return info.instance_step(rest[1:])
            return info.class_step(rest)
        return None

    # ---- project callables ---------------------------------------------------------------
    def callee(self, func_ref: Optional[str]) -> Optional["Callee"]:
        """The project function, method or class a (canonical) callee ref names."""
        if not func_ref or func_ref[:1] == R.KIND_REF:
            return None
        tokens = split_ref(func_ref)
        found = self._readable_module(tokens)
        if found is None:
            return None
        syms, i = found
        name, rest = tokens[i], tokens[i + 1:]
        kr = self.resolver_of(syms)
        if not rest and name in syms.functions and syms.bindings.get(name) in (f"{syms.module}.{name}", None):
            return Callee(kr, syms.functions[name], None, "function")
        if name in syms.classes:
            info = class_info(kr, syms, name)
            if info is None:
                return None
            if not rest:
                return Callee(kr, None, info, "class")
            if len(rest) == 1:
                fn = info.method(rest[0])
                if fn is not None and fn[1].static_or_class:
                    return Callee(fn[0].kr, fn[1].node, fn[0], "method")
            if len(rest) == 2 and rest[0] == "()":
                fn = info.method(rest[1])
                if fn is not None and not fn[1].is_property:
                    return Callee(fn[0].kr, fn[1].node, fn[0], "method")
        return None

    def property_of(self, ref: Optional[str]) -> Optional["Callee"]:
        """The project property a (canonical) attribute-read ref names (``app.m.C().conn``)."""
        if not ref:
            return None
        tokens = split_ref(ref)
        if len(tokens) < 3 or tokens[-2] != "()":
            return None
        found = self._readable_module(tokens)
        if found is None:
            return None
        syms, i = found
        if i != len(tokens) - 3 or tokens[i] not in syms.classes:
            return None
        info = class_info(self.resolver_of(syms), syms, tokens[i])
        fn = info.method(tokens[-1]) if info is not None else None
        if fn is not None and fn[1].is_property:
            return Callee(fn[0].kr, fn[1].node, fn[0], "property")
        return None

    def canonical(self, ref: str) -> str:
        """Follow a ref through project modules, functions and classes; stop as soon as the
        resource table knows what it names (library knowledge wins over reading the library's
        own code when the project analysed is that library)."""
        cache = self._canon
        if ref in cache:
            return cache[ref]
        cache[ref] = ref
        out = ref
        table = self.table
        for _ in range(self.MAX_HOPS):
            if self.knows(out) or table.kind_of_ref(out) is not None or self._known_receiver(out):
                break
            nxt = self._step(out)
            if nxt is None or nxt == out:
                break
            out = nxt
        cache[ref] = out
        return out

    def _known_receiver(self, ref: str) -> bool:
        """``x.method`` where the table knows ``x``: a callee of a library object, not a path into
        the project (``Connection().connection.cursor`` analysing SQLAlchemy itself)."""
        head, dot, last = ref.rpartition(".")
        return bool(dot and head and "(" not in last and "[" not in last and self.table.kind_of_ref(head) is not None)

    # ---- kinds ---------------------------------------------------------------------------
    def kind_of(self, ref: Optional[str]) -> Optional[R.Kind]:
        if not ref or ref.startswith("<local>"):
            return None
        canon = self.canonical(ref) if "." in ref or "(" in ref else ref
        kind = self.table.kind_of_ref(canon)
        if kind is None and canon.endswith("()"):
            # an instance of a project class that extends a library class the table describes
            callee = self.callee(canon[:-2])
            base = callee.cls.library_base() if callee is not None and callee.how == "class" else None
            if base is not None:
                kind = self.table.kind_of_ref(base + "()")
        return kind


@dataclass
class Callee:
    kr: KindResolver            # the resolver of the module that defines it
    node: Optional[FunctionNode]
    cls: Optional["ClassInfo"]
    how: str                    # "function", "method", "property" or "class"


# ------------------------------------------------------------------------------------ classes
@dataclass
class Method:
    node: FunctionNode
    decorators: set[str]

    @property
    def is_property(self) -> bool:
        return bool(self.decorators & PROPERTY_DECORATORS)

    @property
    def is_static(self) -> bool:
        return bool(self.decorators & {"staticmethod", "builtins.staticmethod"})

    @property
    def is_classmethod(self) -> bool:
        return bool(self.decorators & {"classmethod", "builtins.classmethod"})

    @property
    def static_or_class(self) -> bool:
        return self.is_static or self.is_classmethod


class ClassInfo:
    """One project class: its methods, and the ref of each attribute (contract §13)."""

    def __init__(self, kr: KindResolver, syms: ModuleSymbols, node: ast.ClassDef):
        self.kr = kr
        self.syms = syms
        self.node = node
        self.name = node.name
        self.ref = f"{syms.module}.{node.name}" if syms.module else node.name
        self.methods: dict[str, Method] = {}
        body_stmts = [s for s in statements_of_class(node)]
        for stmt in body_stmts:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name not in self.methods:
                self.methods[stmt.name] = Method(stmt, _decorator_names(stmt, kr))
        self._attrs: Optional[dict[str, str]] = None
        self._found: Optional[dict[str, list[str]]] = None
        self._bases: Optional[list[ClassInfo]] = None
        self._library_base: Optional[str] = None

    # ---- inheritance ---------------------------------------------------------------------
    @property
    def bases(self) -> list["ClassInfo"]:
        if self._bases is None:
            self._bases = []
            for base in self.node.bases:
                ref = ast_ref(base, self.kr.raw_lookup)
                if not ref or ref.startswith("<local>"):
                    continue
                ref = self.kr.canonical(ref)
                tokens = split_ref(ref)
                found = self.kr._split_module(tokens)
                if found is None:
                    continue
                syms, i = found
                if i == len(tokens) - 1 and tokens[i] in syms.classes:
                    info = class_info(self.kr.resolver_of(syms), syms, tokens[i])
                    if info is not None and info is not self:
                        self._bases.append(info)
        return self._bases

    def library_base(self, depth: int = 0) -> Optional[str]:
        """The ref of a base class the resource table describes (``class Db(SQLAlchemy):``), through
        project bases too: what the class does not define itself comes from there."""
        if self._library_base is None:
            found = ""
            for base in self.node.bases:
                ref = ast_ref(base, self.kr.raw_lookup)
                if ref and not ref.startswith("<local>"):
                    canon = self.kr.canonical(ref)
                    if self.kr.table.kind_of_ref(canon + "()") is not None:
                        found = canon
                        break
            if not found and depth < 8:
                for b in self.bases:
                    found = b.library_base(depth + 1) or ""
                    if found:
                        break
            self._library_base = found
        return self._library_base or None

    def method(self, name: str, depth: int = 0) -> Optional[tuple["ClassInfo", Method]]:
        if name in self.methods:
            return self, self.methods[name]
        if depth < 8:
            for base in self.bases:
                found = base.method(name, depth + 1)
                if found is not None:
                    return found
        return None

    # ---- attributes ----------------------------------------------------------------------
    def attr_ref(self, name: str, depth: int = 0) -> Optional[str]:
        if self._attrs is None:
            self._attrs = {}
        if name in self._attrs:
            return self._attrs[name]
        refs = self._candidates().get(name)
        if refs:
            self._attrs[name] = refs[0]  # while choosing (attributes defined from one another)
            best = self._attrs[name] = self._best(refs)
            return best
        if depth < 8:
            for base in self.bases:
                ref = base.attr_ref(name, depth + 1)
                if ref is not None:
                    return ref
        return None

    def attrs(self) -> dict[str, str]:
        """attribute -> ref, from the class body and from every method's ``self.x = ...``.
        Among several assignments the one whose kind is known wins, then a project instance."""
        return {name: self.attr_ref(name) for name in self._candidates()}

    def _candidates(self) -> dict[str, list[str]]:
        """attribute -> every ref assigned or annotated to it, not yet resolved (resolving reads
        other modules: done only for the attribute a rule asks about)."""
        if self._found is not None:
            return self._found
        found: dict[str, list[str]] = {}

        def add(name: str, ref: Optional[str]) -> None:
            if ref and not ref.startswith("<local>"):
                found.setdefault(name, []).append(ref)

        lookup = self.kr.raw_lookup
        for stmt in statements_of_class(self.node):
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                value = stmt.value
                add(stmt.target.id, ast_ref(value, lookup) if isinstance(value, ast.Call) else None)
                add(stmt.target.id, annotation_ref(stmt.annotation, lookup))
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, (ast.Call, ast.Attribute, ast.Name)):
                for t in stmt.targets:
                    if isinstance(t, ast.Name):
                        add(t.id, ast_ref(stmt.value, lookup))
        for meth in self.methods.values():
            fn = meth.node
            if meth.static_or_class or not _assigns_self(fn):
                continue
            env = function_env(self.kr, fn, self)
            if env.self_name is None:
                continue
            for node in fn_nodes(fn):
                if isinstance(node, ast.Assign):
                    targets, value, ann = node.targets, node.value, None
                elif isinstance(node, ast.AnnAssign):
                    targets, value, ann = [node.target], node.value, node.annotation
                else:
                    continue
                for t in targets:
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == env.self_name:
                        if value is not None:
                            add(t.attr, env.ref(value))
                        if ann is not None:
                            add(t.attr, annotation_ref(ann, env.lookup))
        self._found = found
        return found

    def _best(self, refs: list[str]) -> str:
        for ref in refs:
            if self.kr.kind_of(ref) is not None:
                return ref
        for ref in refs:
            canon = self.kr.canonical(ref)
            if canon.endswith("()") and self.kr.callee(canon[:-2]) is not None:
                return ref
        return refs[0]

    # ---- steps ---------------------------------------------------------------------------
    def instance_step(self, rest: list[str]) -> Optional[str]:
        """Rewrite ``<instance>.rest``."""
        if not rest or rest[0] in ("()", "[]"):
            return None
        name = rest[0]
        meth = self.method(name)
        if meth is not None:
            owner, m = meth
            if m.is_property:
                ret = return_ref(owner.kr, m.node, owner)
                return join_ref(ret, rest[1:]) if isinstance(ret, str) else None
            if rest[1:2] == ["()"]:
                ret = return_ref(owner.kr, m.node, owner)
                return join_ref(ret, rest[2:]) if isinstance(ret, str) else None
            return None
        ref = self.attr_ref(name)
        if ref is not None:
            return join_ref(ref, rest[1:])
        base = self.library_base()
        if base is not None:
            return join_ref(base + "()", rest)  # inherited from the library class
        return None

    def class_step(self, rest: list[str]) -> Optional[str]:
        """Rewrite ``<class>.rest`` (classmethods, staticmethods, class attributes)."""
        if not rest or rest[0] in ("()", "[]"):
            return None
        meth = self.method(rest[0])
        if meth is not None:
            owner, m = meth
            if m.static_or_class and rest[1:2] == ["()"]:
                ret = return_ref(owner.kr, m.node, owner)
                return join_ref(ret, rest[2:]) if isinstance(ret, str) else None
            return None
        ref = self.attr_ref(rest[0])
        return join_ref(ref, rest[1:]) if ref is not None else None


def statements_of_class(node: ast.ClassDef) -> Iterator[ast.stmt]:
    """The statements of a class body, into ``if``/``try`` blocks (not into methods)."""
    stack = list(reversed(node.body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, ast.If):
            stack.extend(reversed(stmt.body + stmt.orelse))
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            blocks = list(stmt.body) + [s for h in stmt.handlers for s in h.body] + stmt.orelse + stmt.finalbody
            stack.extend(reversed(blocks))


def _assigns_self(fn: FunctionNode) -> bool:
    args = fn.args.posonlyargs + fn.args.args
    if not args:
        return False
    name = args[0].arg
    for node in fn_nodes(fn):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == name:
                    return True
    return False


def class_info(kr: KindResolver, syms: ModuleSymbols, name: str) -> Optional[ClassInfo]:
    key = (syms.module or syms.path, name)
    store = kr.store
    if key in store.classes:
        return store.classes[key]
    node = syms.classes.get(name)
    info = ClassInfo(kr, syms, node) if node is not None else None
    store.classes[key] = info
    return info


# ------------------------------------------------------------------------------------ functions
#: the statements (and ``:=``) that bind a name in a function (what FunctionEnv._build reads)
_BINDING_TYPES = frozenset({ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign,
                            ast.NamedExpr, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.ExceptHandler,
                            ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.AugAssign})


class FunctionEnv:
    """The local names of one function (read with :mod:`ast`) and the refs they hold: typed
    parameters, ``self``/``cls``, local imports, lazy imports, assignments (first that says
    something wins), ``with ... as`` targets, and names bound only to string literals."""

    def __init__(self, kr: KindResolver, fn: FunctionNode, cls: Optional[ClassInfo] = None):
        self.kr = kr
        self.fn = fn
        self.cls = cls
        self.names: dict[str, Optional[str]] = {}
        self.strings: dict[str, list[str]] = {}
        self.params: list[str] = []
        self.self_name: Optional[str] = None
        self.globals: set[str] = set()
        self._build()

    def lookup(self, name: str) -> Optional[str]:
        if name in self.names:
            ref = self.names[name]
            if type(ref) is _Unpacked:
                self.names[name] = None  # ``a, b = a.split()``: ``a`` is not yet known inside
                ref = self.names[name] = ref.resolve(self)
            return ref
        return self.kr.raw_lookup(name)

    def resolved_names(self) -> dict[str, Optional[str]]:
        """Every local name and its ref (what tuple unpacking binds resolved now)."""
        return {name: self.lookup(name) for name in list(self.names)}

    def ref(self, node: ast.AST) -> Optional[str]:
        out = ast_ref(node, self.lookup)
        if out is None or out.startswith("<local>"):
            return None
        return out

    def _build(self) -> None:
        fn, kr = self.fn, self.kr
        args = fn.args
        positional = args.posonlyargs + args.args
        decorators = _decorator_names(fn, kr) if fn.decorator_list else set()
        static = bool(decorators & {"staticmethod", "builtins.staticmethod"})
        classmethod_ = bool(decorators & {"classmethod", "builtins.classmethod"})
        for i, a in enumerate(positional + args.kwonlyargs + [x for x in (args.vararg, args.kwarg) if x]):
            self.params.append(a.arg)
            ref = None
            if i == 0 and self.cls is not None and not static and a in positional:
                ref = self.cls.ref if classmethod_ else self.cls.ref + "()"
                if kr.table.kind_of_ref(self.cls.ref + "()") is not None:
                    # the library's own implementation of a class the table describes (analysing
                    # SQLAlchemy itself): its methods are not its users' calls
                    ref = None
                if not classmethod_:
                    self.self_name = a.arg
            elif a.annotation is not None and a not in (args.vararg, args.kwarg):
                ref = annotation_ref(a.annotation, kr.raw_lookup)
            self.names[a.arg] = ref
        assigned: dict[str, list[ast.AST]] = {}
        binding = _BINDING_TYPES
        for node in fn_nodes(fn):
            typ = type(node)
            if typ not in binding:
                continue  # most nodes are expressions: one set lookup instead of the chain below
            if typ is ast.Global or typ is ast.Nonlocal:
                self.globals.update(node.names)
            elif typ is ast.Import or typ is ast.ImportFrom:
                _import_bindings(node, kr.symbols.module, kr.symbols.is_package, self._bind_import)
            elif typ is ast.Assign:
                for t in node.targets:
                    self._assign(t, node.value, None, assigned)
            elif typ is ast.AnnAssign:
                self._assign(node.target, node.value, node.annotation, assigned)
            elif typ is ast.NamedExpr:
                self._assign(node.target, node.value, None, assigned)
            elif typ in (ast.For, ast.AsyncFor):
                self._local(node.target)
            elif typ in (ast.With, ast.AsyncWith):
                for item in node.items:
                    if item.optional_vars is not None:
                        if isinstance(item.optional_vars, ast.Name):
                            self._set(item.optional_vars.id, self.with_ref(item.context_expr))
                        else:
                            self._local(item.optional_vars)
            elif typ is ast.ExceptHandler and node.name:
                self._set(node.name, None)
            elif typ in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                self._set(node.name, None)
            elif typ is ast.AugAssign and isinstance(node.target, ast.Name):
                assigned.setdefault(node.target.id, []).append(node.value)
        for name in self.globals:
            self.names.pop(name, None)
        for name, values in assigned.items():
            if values and all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values):
                self.strings[name] = [v.value for v in values]

    def _bind_import(self, name: str, ref: str) -> None:
        self.names[name] = ref

    def _set(self, name: str, ref) -> None:
        if name in self.globals:
            return
        if self.names.get(name) is None:
            self.names[name] = ref

    def _local(self, target: ast.AST) -> None:
        for n in ast.walk(target):
            if isinstance(n, ast.Name):
                self._set(n.id, None)

    def _assign(self, target: ast.AST, value: Optional[ast.AST], ann: Optional[ast.AST], assigned) -> None:
        if isinstance(target, ast.Name):
            if value is not None:
                assigned.setdefault(target.id, []).append(value)
            ref = None
            if isinstance(value, ast.Call):
                ref = lazy_import_target(value, self.lookup)
            if ref is None and value is not None and isinstance(value, (ast.Call, ast.Name, ast.Attribute,
                                                                        ast.Await, ast.Subscript)):
                ref = self.ref(value)
            if ref is None and ann is not None:
                ref = annotation_ref(ann, self.lookup)
            self._set(target.id, ref)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elems = target.elts
            refs: list[Optional[str]] = [None] * len(elems)
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(elems):
                refs = [self.ref(v) if isinstance(v, (ast.Call, ast.Name, ast.Attribute, ast.Await)) else None
                        for v in value.elts]
            elif value is not None and isinstance(value, (ast.Call, ast.Await)):
                # resolved on first use: only a rule that asks about these names pays for it
                refs = [_Unpacked(value, i, len(elems)) for i in range(len(elems))]
            for el, ref in zip(elems, refs):
                if isinstance(el, ast.Name):
                    self._set(el.id, ref)
                else:
                    self._local(el)
        elif isinstance(target, ast.Starred):
            self._local(target.value)

    def tuple_refs(self, value: ast.AST, n: int) -> list[Optional[str]]:
        """Refs of the elements of a tuple a call of a project function returns."""
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return [None] * n
        func = self.ref(value.func)
        callee = self.kr.callee(self.kr.canonical(func)) if func else None
        if callee is None or callee.node is None:
            return [None] * n
        ret = return_ref(callee.kr, callee.node, callee.cls)
        if isinstance(ret, tuple) and len(ret) == n:
            return list(ret)
        return [None] * n

    def with_ref(self, expr: ast.AST) -> Optional[str]:
        """Ref of what ``with expr as x`` binds to ``x``."""
        inner = expr.value if isinstance(expr, ast.Await) else expr
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
            rk = self.kr.kind_of(self.ref(inner.func.value))
            if rk is not None and inner.func.attr in rk.cm_methods:
                return R.kind_ref(rk.cm_methods[inner.func.attr][0])
        return self.ref(inner)


class _Unpacked:
    """``a, b = helper()``: element ``index`` of what ``helper`` returns, worked out on first use."""

    __slots__ = ("call", "index", "count")

    def __init__(self, call: ast.AST, index: int, count: int):
        self.call, self.index, self.count = call, index, count

    def resolve(self, env: "FunctionEnv") -> Optional[str]:
        return env.tuple_refs(self.call, self.count)[self.index]


def function_env(kr: KindResolver, fn: FunctionNode, cls: Optional[ClassInfo] = None) -> FunctionEnv:
    envs = getattr(kr, "_envs", None)
    if envs is None:
        envs = kr._envs = {}
    env = envs.get(id(fn))
    if env is None or env.fn is not fn:
        env = envs[id(fn)] = FunctionEnv(kr, fn, cls)
    return env


def return_ref(kr: KindResolver, fn: FunctionNode, cls: Optional[ClassInfo]):
    """What calling ``fn`` gives, as a ref (a tuple of refs for ``return a, b``), or ``None``.
    A ``@contextmanager`` gives what it yields (``with f() as x`` binds that)."""
    key = (kr.symbols.module or kr.symbols.path, id(fn))
    store = kr.store.returns
    cached = store.get(key)
    if cached is _IN_PROGRESS:
        return None
    if key in store:
        return cached
    store[key] = _IN_PROGRESS
    out = None
    try:
        out = _return_ref(kr, fn, cls)
    finally:
        store[key] = out
    return out


def _return_ref(kr: KindResolver, fn: FunctionNode, cls: Optional[ClassInfo]):
    env = function_env(kr, fn, cls)
    decorators = _decorator_names(fn, kr) if fn.decorator_list else set()
    is_cm = bool(decorators & CONTEXT_MANAGER_DECORATORS)
    returned: list[ast.AST] = []
    yielded: list[ast.AST] = []
    for node in fn_nodes(fn):
        if isinstance(node, ast.Return) and node.value is not None:
            returned.append(node.value)
        elif isinstance(node, (ast.Yield, ast.YieldFrom)):
            if node.value is not None:
                yielded.append(node.value)
            elif isinstance(node, ast.Yield):
                yielded.append(ast.Constant(None))
    values = yielded if is_cm else ([] if yielded else returned)
    fallback = None
    for value in values:
        if isinstance(value, ast.Tuple):
            refs = tuple(env.ref(e) if not isinstance(e, ast.Starred) else None for e in value.elts)
            if any(refs):
                return refs
            continue
        ref = env.ref(value) if isinstance(value, (ast.Call, ast.Name, ast.Attribute, ast.Await,
                                                    ast.Subscript)) else None
        if ref is None:
            continue
        if kr.kind_of(ref) is not None:
            return kr.canonical(ref)
        canon = kr.canonical(ref)
        if fallback is None and canon.endswith("()") and kr.callee(canon[:-2]) is not None:
            fallback = canon
    if fallback is not None:
        return fallback
    if not yielded or is_cm:
        ann = annotation_ref(fn.returns, kr.raw_lookup) if fn.returns is not None and not is_cm else None
        if ann:
            return kr.canonical(ann)
    return None


# ------------------------------------------------------------------------------------ ownership
def new_resource_kind(kr: KindResolver, func_ref: Optional[str], receiver_ref: Optional[str], method: Optional[str],
                      keywords: frozenset[str] = frozenset(), summaries=None) -> Optional[R.Kind]:
    """Kind of the resource a call hands to its caller as a new obligation, or ``None``.

    ``func_ref`` is the callee's ref (``sqlalchemy.orm.Session``, ``app.db.get_conn``), ``receiver_ref``
    and ``method`` describe ``receiver.method(...)`` calls, ``keywords`` the call's keyword names.
    A project function decides by its summary (``summaries(callee)`` -> kind name or None)."""
    if not func_ref:
        return None
    table = kr.table
    fcanon = kr.canonical(func_ref)
    callee = kr.callee(fcanon)
    if callee is not None:
        if callee.how == "class":
            # constructing a project subclass of a library class (a Session subclass) acquires
            # what constructing the library class does
            base = callee.cls.library_base() if callee.cls is not None else None
            kind = table.kind_of_ref(base + "()") if base else None
            if kind is None or not kind.resource or kind.lazy or kind.category not in TRACKED_CATEGORIES:
                return None
            return kind
        if summaries is None or not return_shape(callee.node) & RETURNS_ONE:
            return None
        name = summaries(callee)
        return table.kind(name) if name else None
    kind = table.kind_of_ref(kr.canonical(fcanon + "()"))
    if kind is None or not kind.resource or kind.lazy or kind.category not in TRACKED_CATEGORIES:
        return None
    if table.functions.get(fcanon, ("",))[0] == "borrow":
        return None
    wrapped = R.WRAPPING_KEYWORDS.get(fcanon)
    if wrapped and wrapped in keywords:
        return None  # wraps a connection it was handed: borrowed, not acquired
    if method is not None and receiver_ref is not None:
        rk = kr.kind_of(receiver_ref)
        if rk is not None and method in rk.borrowed:
            return None
    return kind


# ------------------------------------------------------------------------------------ functions
#: statements whose blocks :func:`ast_functions` looks into, by the blocks' fields
_BODY_ORELSE = {ast.If, ast.For, ast.AsyncFor, ast.While}
_BODY_ONLY = {ast.With, ast.AsyncWith}
_TRIES = {ast.Try} | ({ast.TryStar} if hasattr(ast, "TryStar") else set())


def ast_functions(tree: ast.Module) -> Iterator[tuple[FunctionNode, Optional[ast.ClassDef]]]:
    """Every function of a module (methods and nested functions included) in source order, with
    the class it is a method of: the same order as :func:`txlint.dataflow.functions_of` walks
    the libcst tree, so that the two can be paired."""
    stack: list[tuple[ast.AST, Optional[ast.ClassDef]]] = [(n, None) for n in reversed(tree.body)]
    while stack:
        node, cls = stack.pop()
        typ = type(node)
        if typ is ast.FunctionDef or typ is ast.AsyncFunctionDef:
            yield node, cls
            stack.extend((n, None) for n in reversed(node.body))
        elif typ is ast.ClassDef:
            stack.extend((n, node) for n in reversed(node.body))
        elif typ in _BODY_ORELSE:
            stack.extend((n, cls) for n in reversed(node.body + node.orelse))
        elif typ in _BODY_ONLY:
            stack.extend((n, cls) for n in reversed(node.body))
        elif typ in _TRIES:
            blocks = list(node.body) + [s for h in node.handlers for s in h.body] + node.orelse + node.finalbody
            stack.extend((n, cls) for n in reversed(blocks))
        elif typ is ast.Match:
            stack.extend((n, cls) for n in reversed([s for case in node.cases for s in case.body]))


def class_of(kr: KindResolver, cls: Optional[ast.ClassDef]) -> Optional[ClassInfo]:
    """ClassInfo of a class node of the resolver's own module (top-level classes only)."""
    if cls is None:
        return None
    syms = kr.symbols
    if syms.classes.get(cls.name) is cls:
        return class_info(kr, syms, cls.name)
    return ClassInfo(kr, syms, cls)
