#!/usr/bin/env python3
"""Issue 8, item 8: does astroid earn its place as a fallback of txlint's own resolver?

Measured, not guessed.  At every call site inside a function that could acquire or begin -- a method
call whose name is an acquisition/begin method of the resource table (the keys of every kind's
``methods`` and ``cm_methods``, its ``tx_begin`` and ``sql_methods``), or a plain call of something
that may be a factory object (a kind with ``call_returns``: a ``sessionmaker``, a ``scoped_session``)
-- the experiment asks:

* does txlint's own resolver know the receiver's kind (``FunctionFlow.kind_of`` on the receiver, or
  ``FunctionFlow.acquisition`` on the call)?
* what does astroid infer the receiver (or the callee) to be?  Its answers are mapped back to our
  kinds by the qualified name of the inferred class (and of its ancestors): an instance of a class
  whose qname the table knows (``resources.TYPES``/``FACTORIES``), a class or module the table knows.

Modes (each runs in a fresh process, one after the other, on the same machine):

  plain           txlint's analysis in-process over the project's files (the CLI with one worker)
  fallback        the same, with astroid as the fallback of ``FunctionFlow.kind_of``/``acquisition``
                  at the candidate call sites where our resolver knows nothing (and the call is not a
                  method of the project): the findings it adds or removes, and the time it adds
                  (astroid imported, modules built and inference, all inside the clock); an answer
                  counts when it is one of our kinds and nothing else
  fallback-loose  the same, an answer counts when one of our kinds is among other values
                  (``create_engine()`` is an Engine or a MockConnection): the default
  census          every candidate site, ours and astroid's answer side by side

Each question has a CPU-time budget (QUERY_BUDGET, a SIGPROF timer); every run records the modules of
the analysed tree found in ``sys.modules`` afterwards (there must be none).

astroid only ever *parses* source here: every module lookup goes through :class:`SafeImports`,
which finds ``.py`` files in the analysed project (inside its boundary, as txlint reads it), in the
library sources given with ``--libs`` (standing in for the user's installed packages) and in the
interpreter's standard library; modules compiled into the interpreter are introspected as astroid
always does; anything else (C extensions, bytecode, zip imports, astroid's failed-import hooks,
e.g. brain_gi's ``__import__``) is refused, and ``load_module_from_name`` is guarded so that astroid
cannot import anything that is not built into the interpreter.

    python bench/astroid_experiment.py fetch-libs [--corpus-dir DIR]
    python bench/astroid_experiment.py selftest           (astroid asked, nothing of the project imported)
    python bench/astroid_experiment.py run PROJECT [PROJECT ...] [--libs DIR | --no-libs] [--out DIR]
                                       [--txlint SNAPSHOT_DIR] [--modes plain,fallback-loose,census]
    python bench/astroid_experiment.py report OUT_DIR          (markdown tables of the runs)

Needs astroid (``pip install -e ".[bench]"``).  Results: bench/ASTROID.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS_DIR = os.path.expanduser("~/.cache/txlint-bench")
#: libraries the real projects use that bench/corpus.py does not fetch (pure-Python parts only)
LIB_PINS = ["pymysql==1.2.4", "psycopg==3.3.9", "psycopg-pool==3.3.3", "psycopg2-binary==2.9.13",
            "asyncpg==0.32.0", "aiomysql==0.3.2", "sqlmodel==0.0.50", "peewee==4.5.3"]
#: and the ones it does fetch (linked from its corpus): sqlalchemy 2.1.9, django 5.2.19, celery 5.7.0,
#: kombu 5.7.0, redis 8.1.0, flask-sqlalchemy 3.1.1
CORPUS_LIBS = ["sqlalchemy", "django", "celery", "kombu", "redis", "flask_sqlalchemy"]
QUERY_BUDGET = 5.0        # CPU seconds per astroid question (a SIGPROF timer; counted as a timeout)
MAX_VALUES = 20           # inferred values looked at per question


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------- libraries
def fetch_libs(corpus_dir: str) -> str:
    """<corpus-dir>/astroid-libs/lib: the .py files of LIB_PINS plus links to the corpus libraries."""
    out = os.path.join(corpus_dir, "astroid-libs")
    lib = os.path.join(out, "lib")
    stamp = os.path.join(out, ".complete")
    if os.path.exists(stamp) and open(stamp).read() == json.dumps(LIB_PINS):
        return lib
    wheels = os.path.join(out, "wheels")
    os.makedirs(wheels, exist_ok=True)
    os.makedirs(lib, exist_ok=True)
    tag = f"{sys.version_info[0]}.{sys.version_info[1]}"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version",
                    tag, "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64",
                    "--platform", "manylinux_2_28_x86_64", "--platform", "any", "-d", wheels, *LIB_PINS], check=True)
    for name in sorted(os.listdir(wheels)):
        if name.endswith(".whl"):
            with zipfile.ZipFile(os.path.join(wheels, name)) as zf:
                for member in zf.namelist():
                    if member.endswith(".py") and ".dist-info/" not in member:
                        zf.extract(member, lib)
    corpus_lib = os.path.join(corpus_dir, f"corpus-py{sys.version_info[0]}{sys.version_info[1]}", "lib")
    for name in CORPUS_LIBS:
        src, dst = os.path.join(corpus_lib, name), os.path.join(lib, name)
        if not os.path.isdir(src):
            log(f"warning: {src} missing (run bench/corpus.py once to fetch the corpus)")
        elif not os.path.lexists(dst):
            os.symlink(src, dst)
    with open(stamp, "w") as fh:
        fh.write(json.dumps(LIB_PINS))
    return lib


# ------------------------------------------------------------------------------- safe astroid
class Refused(Exception):
    pass


class SafeImports:
    """Every module astroid asks for is found here, as a source file, or not at all."""

    def __init__(self, lib_roots: list[str]):
        self.lib_roots = [os.path.abspath(r) for r in lib_roots]
        paths = sysconfig.get_paths()
        self.stdlib = [paths["stdlib"]]
        self.project = None          # txlint.names.ProjectModules of the file being analysed
        self.refused: Counter = Counter()

    @staticmethod
    def _in_root(root: str, rel: str):
        base = os.path.join(root, rel)
        for cand in (base + ".py", os.path.join(base, "__init__.py")):
            if os.path.isfile(cand):
                return "file", cand
        if os.path.isdir(base) and "site-packages" not in base:
            return "ns", base
        return None

    def find(self, modname: str):
        rel = modname.replace(".", os.sep)
        project = self.project
        if project is not None:
            path = project.find_file(modname)
            if path is not None:
                return "file", path
            for root in project.roots:
                found = self._in_root(root, rel)
                if found is not None and found[0] == "ns" and project.inside(found[1]):
                    return found
        for root in self.lib_roots + self.stdlib:
            found = self._in_root(root, rel)
            if found is not None:
                return found
        return None

    def install(self) -> None:
        import importlib

        import astroid.manager as manager_mod
        import astroid.modutils as modutils
        from astroid.exceptions import AstroidBuildingError, AstroidImportError
        from astroid.manager import AstroidManager

        safe = self

        def ast_from_module_name(mgr, modname, context_file=None, use_cache=True):
            if modname is None:
                raise AstroidBuildingError("No module name given.")
            if modname in mgr.astroid_cache and use_cache:
                return mgr.astroid_cache[modname]
            if modname in sys.builtin_module_names:  # compiled into the interpreter: nothing to run
                return mgr.ast_from_module(sys.modules.get(modname) or importlib.import_module(modname), modname)
            found = safe.find(modname)
            if found is None:
                safe.refused[modname.split(".")[0]] += 1
                raise AstroidImportError("txlint: no source for {modname}", modname=modname)
            how, where = found
            if how == "ns":
                return mgr._build_namespace_module(modname, [where])
            return mgr.ast_from_file(where, modname, fallback=False, source=True)

        def guarded_load(dotted_name, *a, **kw):
            if dotted_name not in sys.builtin_module_names:
                raise Refused(f"astroid tried to import {dotted_name}")
            return importlib.import_module(dotted_name)

        AstroidManager.ast_from_module_name = ast_from_module_name
        modutils.load_module_from_name = guarded_load
        manager_mod.load_module_from_name = guarded_load
        mgr = AstroidManager()
        mgr.always_load_extensions = False
        mgr.extension_package_whitelist.clear()
        mgr._failed_import_hooks.clear()


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


class AstroidOracle:
    """astroid's answer for a receiver or callee of the analysed file, mapped to our kinds."""

    def __init__(self, table, lib_roots: list[str]):
        t0 = time.process_time()
        self.safe = SafeImports(lib_roots)
        import astroid  # noqa: F401 - timed: a worker pays it once
        self.safe.install()
        from astroid import bases, nodes
        from astroid.builder import AstroidBuilder
        from astroid.manager import AstroidManager
        from astroid.util import UninferableBase

        self.bases, self.nodes, self.Uninferable = bases, nodes, UninferableBase
        self.builder = AstroidBuilder(AstroidManager())
        self.table = table
        self.modules: dict[str, tuple] = {}
        self._defs: dict[str, str | None] = {}
        self.answers: dict[tuple, tuple] = {}
        self.stats = Counter()
        self.slowest: list[tuple[float, str]] = []
        self.import_time = time.process_time() - t0
        signal.signal(signal.SIGPROF, _alarm)

    # ---- modules and positions ------------------------------------------------------
    def _module(self, ctx):
        entry = self.modules.get(ctx.path)
        if entry is not None:
            return entry
        from txlint.names import module_name_for

        self.safe.project = ctx.project
        modname = module_name_for(ctx.path)[0] if ctx.path != "-" else ""
        t0 = time.process_time()
        index: dict[tuple, object] = {}
        try:
            mod = self.builder.string_build(ctx.text, modname, ctx.path)
            nodes = self.nodes

            def at(n):  # where a node starts and ends (columns in UTF-8 bytes, as ast counts them)
                return n.lineno, n.col_offset, n.end_lineno, n.end_col_offset

            for call in mod.nodes_of_class(nodes.Call):
                f = call.func
                if isinstance(f, nodes.Attribute):
                    index.setdefault((*at(f.expr), f.attrname), f.expr)
                    index.setdefault((f.expr.lineno, None, None, None, f.attrname), f.expr)
                if isinstance(f, (nodes.Name, nodes.Attribute)):
                    index.setdefault((*at(f), "()"), f)
                    index.setdefault((*at(f), "()result"), call)
        except Exception as exc:  # astroid cannot build it: no answers for this file
            self.stats["module-errors"] += 1
            log(f"astroid: {ctx.display}: {type(exc).__name__}: {exc}")
        self.stats["build-s"] += time.process_time() - t0
        entry = self.modules[ctx.path] = (index,)
        return entry

    def node_for(self, ctx, expr, what: str):
        """The astroid node of a libcst receiver (``what`` = method name), callee (``"()"``) or
        call (``"()result"``: what the call gives, for the kind of a project function's result)."""
        line, col, end_line, end_col = ctx._position(expr)   # libcst: 1-based character columns

        def byte_col(ln, c):
            text = ctx.lines[ln - 1] if 0 < ln <= len(ctx.lines) else ""
            return len(text[: c - 1].encode("utf-8", "surrogatepass"))

        (index,) = self._module(ctx)   # built from ctx.text, whose positions libcst's (even reduced) keep
        node = index.get((line, byte_col(line, col), end_line, byte_col(end_line, end_col), what))
        if node is None and not what.startswith("()"):
            node = index.get((line, None, None, None, what))
        return node

    # ---- inference --------------------------------------------------------------------
    def public_name(self, qname: str):
        """The table's name for what astroid found defined at ``qname``, or None: the table names
        the public API (``sqlalchemy.create_engine``), astroid the definition
        (``sqlalchemy.engine.create.create_engine``).  The table's names of the same package and
        last component are resolved with astroid and compared (once per qname; timed as astroid's)."""
        if qname in self._defs:
            return self._defs[qname]
        from astroid.manager import AstroidManager

        paused = signal.setitimer(signal.ITIMER_PROF, 0)[0]   # not part of one question's budget
        t0 = time.process_time()
        self._defs[qname] = None
        top, last = qname.split(".")[0], qname.rsplit(".", 1)[-1]
        mgr = AstroidManager()
        for name in sorted(set(self.table.factories) | set(self.table.objects)):
            parts = name.split(".")
            if parts[0] != top or parts[-1] != last:
                continue
            for i in range(len(parts) - 1, 0, -1):
                try:
                    obj = mgr.ast_from_module_name(".".join(parts[:i]))
                except Exception:
                    continue
                try:
                    for p in parts[i:]:
                        obj = next(v for v in obj.igetattr(p) if not isinstance(v, self.Uninferable))
                    if getattr(obj, "qname", None) is not None and obj.qname() == qname:
                        self._defs[qname] = name
                except Exception:
                    pass
                break
            if self._defs[qname] is not None:
                break
        self.stats["definitions-s"] += time.process_time() - t0
        if paused:
            signal.setitimer(signal.ITIMER_PROF, paused)
        return self._defs[qname]

    def _table_kind(self, qname: str, suffix: str):
        kind = self.table.kind_of_ref(qname + suffix)
        if kind is None:
            public = self.public_name(qname)
            if public is not None:
                kind = self.table.kind_of_ref(public + suffix)
        return kind

    def describe(self, value, what: str):
        """(description, kind or None, is_none) of one inferred value.  For a receiver
        (``what`` = a method name): the kind of the value.  For a callee (``what`` = ``"()"``): the
        kind of what calling it gives -- a library class or factory function the table knows, or
        an instance of a factory object (a kind with ``call_returns``: a sessionmaker)."""
        nodes, bases, table = self.nodes, self.bases, self.table
        call = what == "()"
        if isinstance(value, nodes.Const):
            return ("None" if value.value is None else f"const {type(value.value).__name__}"), None, value.value is None
        if isinstance(value, nodes.ClassDef):
            q = value.qname()
            return f"class {q}", self._table_kind(q, "()" if call else ""), False
        if isinstance(value, nodes.Module):
            return f"module {value.name}", None if call else table.kind_of_ref(value.name), False
        if isinstance(value, (nodes.FunctionDef, nodes.Lambda, bases.BoundMethod, bases.UnboundMethod)):
            q = value.qname() if hasattr(value, "qname") else type(value).__name__
            return f"function {q}", self._table_kind(q, "()") if call else None, False
        if isinstance(value, bases.Instance):
            cls = value._proxied
            if isinstance(cls, nodes.ClassDef):
                chain = [cls]
                try:
                    chain += list(cls.ancestors())
                except Exception:
                    pass
                for c in chain:
                    kind = self._table_kind(c.qname(), "()")
                    if kind is not None:
                        via = "" if c is cls else f" (subclass of {c.qname()})"
                        if call:
                            kind = table.kind(kind.call_returns)
                        return f"instance of {cls.qname()}{via}", kind, False
                return f"instance of {cls.qname()}", None, False
        return type(value).__name__, None, False

    def ask(self, ctx, expr, what: str):
        """astroid's answer: (status, kind name or None, description).  status: "kind" (one kind
        among the values, ignoring None), "other" (something our table does not know: not a
        resource), "mixed" (a kind and something else), "uninferable", "unmatched" (no astroid node
        at that place), "timeout", "error"."""
        key = (ctx.path, id(expr), what)
        if key in self.answers:
            return self.answers[key]
        node = self.node_for(ctx, expr, what)
        if node is None:
            out = ("unmatched", None, "")
            self.answers[key] = out
            self.stats["unmatched"] += 1
            return out
        self.safe.project = ctx.project
        t0 = time.process_time()
        descs, kinds, others = [], set(), 0
        status = None
        signal.setitimer(signal.ITIMER_PROF, QUERY_BUDGET)
        try:
            for i, value in enumerate(node.infer()):
                if i >= MAX_VALUES:
                    break
                if isinstance(value, self.Uninferable):
                    descs.append("Uninferable")
                    continue
                desc, kind, is_none = self.describe(value, what)
                descs.append(desc)
                if kind is not None:
                    kinds.add(kind.name)
                elif not is_none:
                    others += 1
        except _Timeout:
            status = "timeout"
        except Exception as exc:  # InferenceError, RecursionError, astroid's own bugs
            status = "error" if not type(exc).__name__.endswith("InferenceError") else "uninferable"
            if status == "error":
                descs.append(f"{type(exc).__name__}: {str(exc)[:80]}")
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        dt = time.process_time() - t0
        self.stats["infer-s"] += dt
        self.stats["queries"] += 1
        self.slowest.append((dt, f"{ctx.display}:{ctx._position(expr)[0]} .{what}"))
        self.slowest = sorted(self.slowest, reverse=True)[:5]
        if status is None:
            if len(kinds) == 1 and not others:
                status = "kind"
            elif kinds:
                status = "mixed"
            elif others:
                status = "other"
            else:
                status = "uninferable"
        self.stats[status] += 1
        uniq = list(dict.fromkeys(descs))
        one = next(iter(kinds)) if len(kinds) == 1 else None
        out = (status, one if status in ("kind", "mixed") else None, "; ".join(uniq[:4]))
        self.answers[key] = out
        return out


# ------------------------------------------------------------------------------- candidates
def method_names(table) -> frozenset:
    names: set[str] = set()
    for kind in table.kinds.values():
        names |= set(kind.methods) | set(kind.cm_methods) | set(kind.tx_begin) | set(kind.sql_methods)
    return frozenset(names)


def candidates_in(fn, methods):
    """(call, expr, what) for every candidate call of a function body (not nested defs): a method
    call of an acquisition/begin name (expr = receiver), or a plain call (expr = callee)."""
    import libcst as cst

    from txlint.dataflow import iter_nodes

    for node in iter_nodes(fn.body):
        if isinstance(node, cst.Call):
            f = node.func
            if isinstance(f, cst.Attribute) and f.attr.value in methods:
                yield node, f.value, f.attr.value
            elif isinstance(f, (cst.Name, cst.Attribute)):
                yield node, f, "()"


def callee_may_be_a_value(flow, f) -> bool:
    """A plain call worth asking astroid about: what is called is a value our resolver cannot name
    (a local or parameter without a ref, an attribute of a project instance, a project module's
    global, what a project function returns), not a function or class of the project (its summary
    answers) nor anything rooted in a library or the builtins (the table answers)."""
    from txlint.dataflow import base_name
    from txlint.kinds import split_ref

    ref = flow.ref_of(f)
    if ref is None:  # a local or parameter without a ref (a name nothing binds is a builtin)
        return base_name(f) in flow.locals
    kr = flow.ctx.resolver
    canon = kr.canonical(ref)
    if canon[:1] == "~" or kr.callee(canon) is not None:
        return False
    tokens = split_ref(canon)
    found = kr._split_module(tokens)
    if found is None:
        return False
    syms, i = found
    rest = tokens[i + 1:]
    if not rest and (tokens[i] in syms.functions or tokens[i] in syms.classes):
        return False
    return True


def project_method(flow, call) -> str | None:
    """The project function or method a call resolves to (its summary decides what it does), or
    None: our resolver reads the project's own code before the library's table."""
    ref = flow.ref_of(call.func)
    if ref is None:
        return None
    kr = flow.ctx.resolver
    canon = kr.canonical(ref)
    return canon if kr.callee(canon) is not None else None


def ours(flow, call, expr, what):
    """Our resolver's answer: for a receiver, its kind (or, when only the call's acquisition is
    known, ``acq:<kind>``; when the method is the project's own, ``project:<ref>``); for a callee,
    the kind of what the call gives.  None: it knows nothing."""
    if what == "()":
        k = flow.acquisition(call) or flow.kind_of(call)
        return k.name if k is not None else None
    k = flow.kind_of(expr)
    if k is None:
        acq = flow.acquisition(call)
        if acq is not None:
            return f"acq:{acq.name}"
        proj = project_method(flow, call)
        return f"project:{proj}" if proj is not None else None
    return k.name


# ------------------------------------------------------------------------------- the fallback
def install_fallback(oracle, table, methods, loose: bool = False):
    """astroid as the fallback of FunctionFlow.kind_of (receivers of candidate calls) and of
    FunctionFlow.acquisition (the same calls): the one hook a kept astroid would need."""
    import libcst as cst

    from txlint import resources as R
    from txlint.dataflow import TRACKED_CATEGORIES, FunctionFlow

    orig_kind_of, orig_acquisition = FunctionFlow.kind_of, FunctionFlow.acquisition
    used: list = []

    def receivers(flow):
        cands = getattr(flow, "_astroid_receivers", None)
        if cands is None:
            cands = flow._astroid_receivers = {}
            for call, expr, what in candidates_in(flow.fn, methods):
                if what != "()":
                    cands[id(expr)] = (what, call)
        return cands

    def astroid_kind(flow, expr, what):
        status, kind, desc = oracle.ask(flow.ctx, expr, what)
        if kind is None or (status != "kind" and not loose):
            return None
        used.append((flow.ctx.display, flow.ctx._position(expr)[0], what, kind, desc))
        return table.kind(kind)

    def kind_of(self, e):
        k = orig_kind_of(self, e)
        if k is None:
            found = receivers(self).get(id(e))
            if found is not None and project_method(self, found[1]) is None:
                k = astroid_kind(self, e, found[0])
        return k

    def acquisition(self, call):
        k = orig_acquisition(self, call)
        if k is not None:
            return k
        f = call.func
        if isinstance(f, cst.Attribute) and f.attr.value in methods:
            if orig_kind_of(self, f.value) is not None or project_method(self, call) is not None:
                return None          # ours knows the receiver, or the project's method: its answer stands
            rk = astroid_kind(self, f.value, f.attr.value)
            if rk is None:
                return None
            m = f.attr.value
            k = table.kind(rk.methods.get(m)) or (table.kind(rk.cm_methods[m][0]) if m in rk.cm_methods else None)
            if k is None or m in rk.borrowed:
                return None
        elif isinstance(f, (cst.Name, cst.Attribute)):
            if orig_kind_of(self, f) is not None or not callee_may_be_a_value(self, f):
                return None
            k = astroid_kind(self, f, "()")      # the kind of what calling it gives
            if k is not None and k.category == R.SESSION and k.name != "sa.session":
                return None          # a scoped-session member: owned by the registry
        else:
            return None
        if k is None or not k.resource or k.lazy or k.category not in TRACKED_CATEGORIES:
            return None
        return k

    FunctionFlow.kind_of = kind_of
    FunctionFlow.acquisition = acquisition
    return used


# ------------------------------------------------------------------------------- a worker
def setup(project: str):
    from txlint.context import Options
    from txlint.discovery import Excluder, discover
    from txlint.registry import all_codes, enabled as enabled_codes
    from txlint.settings import build_settings, find_project_root, split_list

    os.chdir(project)
    codes = all_codes()
    settings = build_settings(config=None, select=split_list([]), ignore=split_list([]), exclude=split_list([]),
                              known_codes=list(codes))
    enabled = enabled_codes(codes, settings.select, settings.ignore)
    targets = [t for t in discover(["."], Excluder.build(settings.excludes)) if not t.error]
    root = settings.project_root if settings.config_path else find_project_root(".")
    options = Options(enabled=frozenset(enabled), closers=tuple(settings.closers),
                      task_decorators=tuple(settings.task_decorators), project_root=root,
                      resources=dict(settings.resources), per_file_ignores=settings.per_file_ignores)
    return targets, options


def worker(mode: str, project: str, libs: list[str], out: str) -> None:
    from txlint.analysis import analyze, table_for

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 8000))
    targets, options = setup(project)
    table = table_for(options)
    methods = method_names(table)
    import txlint

    result: dict = {"mode": mode, "project": project, "files": len(targets), "txlint": txlint.__file__,
                    "python": sys.version.split()[0]}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    oracle = used = None
    if mode != "plain":
        oracle = AstroidOracle(table, libs)
    if mode.startswith("fallback"):
        used = install_fallback(oracle, table, methods, loose=mode == "fallback-loose")
    if mode in ("plain", "fallback", "fallback-loose"):
        findings = []
        for t in targets:
            res = analyze(t.path, t.display, options, kind=t.kind)
            findings += [f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}" for d in res.diagnostics]
        result["findings"] = sorted(findings)
    else:
        result["sites"] = census(targets, options, oracle, methods)
    result["wall_s"] = time.perf_counter() - wall0
    result["cpu_s"] = time.process_time() - cpu0
    result["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the safety check: nothing of the analysed project (or of the library sources) was imported
    watched = [os.path.realpath(project)] + [os.path.realpath(lib) for lib in libs]
    result["imported_from_analysed_code"] = sorted(
        name for name, mod in list(sys.modules.items())
        if any(os.path.realpath(getattr(mod, "__file__", None) or "/nonexistent").startswith(w + os.sep)
               for w in watched))
    if oracle is not None:
        result["astroid"] = {"import_s": oracle.import_time, **oracle.stats,
                             "modules_built": len(__import__("astroid").MANAGER.astroid_cache),
                             "refused_top_modules": dict(oracle.safe.refused.most_common(15)),
                             "slowest": oracle.slowest}
    if used is not None:
        result["astroid_answers_used"] = sorted(set(used))
    with open(out, "w") as fh:
        json.dump(result, fh, indent=1, default=str)


def census(targets, options, oracle, methods) -> list:
    """Every candidate site of every function: ours vs astroid."""
    from txlint.analysis import _PREFILTER, project_for, table_for
    from txlint.cfg import GiveUp
    from txlint.context import FileContext
    from txlint.dataflow import FunctionFlow, _self_attr_kinds, function_pairs
    from txlint.source import SourceError, decode, load_python, read_bytes

    sites = []
    for t in targets:
        if t.kind != "python":
            continue
        try:
            text = decode(read_bytes(t.path))
            src = load_python(t.path, t.display, text)
        except (SourceError, OSError):
            continue
        prefiltered = bool(_PREFILTER.search(text.encode("utf-8", "surrogatepass")))
        ctx = FileContext(t.path, t.display, text, src.tree, options, table_for(options), project_for(t.path, options))
        try:
            pairs = function_pairs(ctx)
        except Exception:
            continue
        attrs_of: dict = {}
        for item in pairs:   # (fn, cls, env) or, with the gate, (fn, cls, env, candidate): every function
            fn, cls, env = item[:3]
            cands = list(candidates_in(fn, methods))
            if not cands:
                continue
            try:
                attrs = None
                if cls is not None:
                    attrs = attrs_of.get(id(cls))
                    if attrs is None:
                        attrs = attrs_of[id(cls)] = _self_attr_kinds(ctx, cls)
                flow = FunctionFlow(ctx, fn, attrs, cls.name.value if cls is not None else None, env)
            except (GiveUp, RecursionError):
                continue
            for call, expr, what in cands:
                if what == "()":
                    our = ours(flow, call, expr, what)
                    if our is None and not callee_may_be_a_value(flow, expr):
                        continue
                else:
                    our = ours(flow, call, expr, what)
                status, kind, desc = oracle.ask(ctx, expr, what)
                if what == "()" and status != "kind" and "function " in desc:
                    # a function astroid can read (the project's): the kind of what it returns
                    r_status, r_kind, r_desc = oracle.ask(ctx, expr, "()result")
                    if r_kind is not None:
                        status, kind, desc = r_status, r_kind, f"returns {r_desc}"
                line = ctx._position(expr)[0]
                sites.append({"where": f"{t.display}:{line}", "what": what,
                              "expr": ctx.module.code_for_node(expr)[:80], "ours": our, "astroid": status,
                              "astroid_kind": kind, "inferred": desc[:200], "prefilter": prefiltered})
    return sites


# ------------------------------------------------------------------------------- driver
def run(projects: list[str], libs: list[str], out_dir: str, modes: list[str], txlint_src: str | None = None) -> None:
    os.makedirs(out_dir, exist_ok=True)
    for project in projects:
        name = os.path.basename(os.path.normpath(project))
        for mode in modes:
            out = os.path.join(out_dir, f"{name}.{mode}.json")
            log(f"{name}: {mode} ...")
            cmd = [sys.executable, os.path.abspath(__file__), "_worker", mode, os.path.abspath(project),
                   "--out", os.path.abspath(out)]
            for lib in libs:
                cmd += ["--libs", os.path.abspath(lib)]
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            if txlint_src:  # a snapshot of txlint (`git archive COMMIT`, rules/ linked as txlint/rules)
                env["PYTHONPATH"] = os.path.abspath(txlint_src)
            proc = subprocess.run(cmd, env=env)
            if proc.returncode != 0:
                log(f"{name}: {mode} failed with {proc.returncode}")
        summarise(out_dir, name)


def load(out_dir, name, mode):
    path = os.path.join(out_dir, f"{name}.{mode}.json")
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def summarise(out_dir: str, name: str) -> dict:
    plain, fb, cen, loose = (load(out_dir, name, m) for m in ("plain", "fallback", "census", "fallback-loose"))
    if fb is None:
        fb, loose = loose, None
    row: dict = {"project": name}
    if plain and fb:
        a, b = set(plain["findings"]), set(fb["findings"])
        row.update(files=plain["files"], findings=len(a), gained=sorted(b - a), lost=sorted(a - b),
                   plain_cpu=plain["cpu_s"], fallback_cpu=fb["cpu_s"], plain_wall=plain["wall_s"],
                   fallback_wall=fb["wall_s"], cpu_ratio=fb["cpu_s"] / max(plain["cpu_s"], 1e-9),
                   wall_ratio=fb["wall_s"] / max(plain["wall_s"], 1e-9),
                   plain_rss=plain["maxrss_mib"], fallback_rss=fb["maxrss_mib"],
                   fallback_queries=fb.get("astroid", {}).get("queries", 0),
                   answers_used=len(fb.get("astroid_answers_used", [])))
    if plain and loose:
        a, b = set(plain["findings"]), set(loose["findings"])
        row.update(loose_gained=sorted(b - a), loose_lost=sorted(a - b), loose_cpu=loose["cpu_s"])
    if cen:
        sites = cen["sites"]
        rec = Counter()
        for s in sites:
            o = s["ours"] is not None and not s["ours"].startswith("project:")
            proj = s["ours"] is not None and s["ours"].startswith("project:")
            strict = s["astroid"] == "kind"
            a = s["astroid"] in ("kind", "mixed") and s["astroid_kind"] is not None
            rec["sites"] += 1
            rec["ours"] += o
            rec["ours_project"] += proj
            rec["astroid_strict"] += strict
            rec["astroid"] += a
            rec["both"] += o and a
            rec["only_ours"] += o and not a
            rec["only_astroid"] += a and not o and not proj
            rec["only_astroid_strict"] += strict and not o and not proj
            rec["astroid_over_project"] += a and proj
            rec["neither"] += not o and not a and not proj
            rec["disagree"] += o and a and s["ours"] != s["astroid_kind"] and not s["ours"].startswith("acq:")
            rec[f"astroid:{s['astroid']}"] += 1
        row["census"] = dict(rec)
        row["census_cpu"] = cen["cpu_s"]
        row["only_astroid_sites"] = [s for s in sites if s["astroid"] in ("kind", "mixed") and s["ours"] is None
                                     and s["astroid_kind"] is not None]
        row["over_project_sites"] = [s for s in sites if s["astroid"] in ("kind", "mixed") and s["astroid_kind"]
                                     and (s["ours"] or "").startswith("project:")]
        row["disagreements"] = [s for s in sites if s["astroid"] in ("kind", "mixed") and s["astroid_kind"]
                                and s["ours"] is not None and s["ours"] != s["astroid_kind"]
                                and not s["ours"].startswith(("acq:", "project:"))]
        row["census_astroid"] = cen.get("astroid", {})
    with open(os.path.join(out_dir, f"{name}.summary.json"), "w") as fh:
        json.dump(row, fh, indent=1)
    c = row.get("census", {})
    log(f"{name}: findings {row.get('findings')} gained {len(row.get('gained', []))} lost {len(row.get('lost', []))}; "
        f"cpu x{row.get('cpu_ratio', 0):.2f} wall x{row.get('wall_ratio', 0):.2f}; sites {c.get('sites')} "
        f"ours {c.get('ours')} ours-project {c.get('ours_project')} astroid {c.get('astroid')} "
        f"only-astroid {c.get('only_astroid')} over-project {c.get('astroid_over_project')} neither {c.get('neither')}")
    return row


def report(out_dir: str) -> None:
    names = sorted({f.split(".")[0] for f in os.listdir(out_dir) if f.endswith(".summary.json")})
    print("| project | files | findings | gained | lost | CPU s plain | CPU s +astroid | CPU ratio | wall ratio |"
          " RSS MiB plain / +astroid |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    tot = Counter()
    for n in names:
        r = summarise(out_dir, n)
        if "findings" not in r:
            continue
        print(f"| {n} | {r['files']} | {r['findings']} | {len(r['gained'])} | {len(r['lost'])} | "
              f"{r['plain_cpu']:.1f} | {r['fallback_cpu']:.1f} | {r['cpu_ratio']:.2f} | {r['wall_ratio']:.2f} | "
              f"{r['plain_rss']:.0f} / {r['fallback_rss']:.0f} |")
        tot.update(plain_cpu=r["plain_cpu"], fallback_cpu=r["fallback_cpu"], gained=len(r["gained"]),
                   lost=len(r["lost"]), findings=r["findings"], files=r["files"])
    if tot:
        print(f"| **all** | {tot['files']} | {tot['findings']} | {tot['gained']} | {tot['lost']} | "
              f"{tot['plain_cpu']:.1f} | {tot['fallback_cpu']:.1f} | "
              f"{tot['fallback_cpu'] / max(tot['plain_cpu'], 1e-9):.2f} | | |")
    print()
    print("| project | candidate sites | typed by ours | ours: project method | typed by astroid (strict) | both |"
          " only ours | only astroid (strict) | astroid vs project method | neither | disagree |"
          " astroid: other / uninferable / mixed / unmatched / timeout / error |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    tot = Counter()

    def line(label, c):
        print(f"| {label} | {c['sites']} | {c['ours']} | {c['ours_project']} | {c['astroid']} "
              f"({c['astroid_strict']}) | {c['both']} | {c['only_ours']} | {c['only_astroid']} "
              f"({c['only_astroid_strict']}) | "
              f"{c['astroid_over_project']} | {c['neither']} | {c['disagree']} | {c.get('astroid:other', 0)} / "
              f"{c.get('astroid:uninferable', 0)} / {c.get('astroid:mixed', 0)} / {c.get('astroid:unmatched', 0)} / "
              f"{c.get('astroid:timeout', 0)} / {c.get('astroid:error', 0)} |")

    for n in names:
        r = summarise(out_dir, n)
        c = r.get("census")
        if not c:
            continue
        c = Counter(c)
        tot.update(c)
        line(n, c)
    if tot:
        line("**all**", tot)
    print()
    for n in names:
        r = summarise(out_dir, n)
        for s in r.get("only_astroid_sites", []):
            print(f"- only astroid ({s['astroid']}): {n}/{s['where']} `{s['expr']}`.{s['what']} -> {s['astroid_kind']} "
                  f"({s['inferred']})")
        for s in r.get("over_project_sites", []):
            print(f"- astroid vs project method: {n}/{s['where']} `{s['expr']}`.{s['what']} {s['ours']} astroid "
                  f"{s['astroid_kind']} ({s['inferred']})")
        for s in r.get("disagreements", []):
            print(f"- disagree: {n}/{s['where']} `{s['expr']}`.{s['what']} ours {s['ours']} astroid "
                  f"{s['astroid_kind']} ({s['inferred']})")
        for f in r.get("gained", []):
            print(f"- gained: {n}/{f}")
        for f in r.get("lost", []):
            print(f"- lost: {n}/{f}")
        for f in r.get("loose_gained", []):
            print(f"- gained (loose): {n}/{f}")
        for f in r.get("loose_lost", []):
            print(f"- lost (loose): {n}/{f}")


SELFTEST_FILES = {
    "pkg/__init__.py": "open(MARKER, 'a').write('pkg imported\\n')\n"
                       "from pkg.db import make\n",
    "pkg/db.py": "open(MARKER, 'a').write('pkg.db imported\\n')\n"
                 "import sqlite3\n"
                 "def make():\n    return sqlite3.connect(':memory:')\n",
    "json/__init__.py": "open(MARKER, 'a').write('project json imported\\n')\n",
    "json/extra.py": "open(MARKER, 'a').write('project json.extra imported\\n')\n",
    "main.py": "import pkg\nfrom pkg import native\nfrom json import extra\n"
               "class Holder:\n    def __init__(self):\n        self.conns = [pkg.make()]\n"
               "def f():\n    c = pkg.make()\n    c.cursor()\n    n = native.thing()\n    n.cursor()\n"
               "    h = Holder()\n    h.conns[0].cursor()\n    extra.connect()\n"
               "def g():\n    from sqlalchemy import create_engine\n    engines = {'a': create_engine('sqlite://')}\n"
               "    engines['a'].connect()\n",
    "pyproject.toml": "[project]\nname = 'selftest'\n",
}


def selftest(libs: list[str]) -> int:
    """A project whose modules write a marker file when imported, with a (fake) C extension and a
    package shadowing the stdlib's json: the census must ask astroid about it and import nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        proj = os.path.join(tmp, "proj")
        marker = os.path.join(tmp, "marker")
        for rel, text in SELFTEST_FILES.items():
            path = os.path.join(proj, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                fh.write(text.replace("MARKER", repr(marker)))
        with open(os.path.join(proj, "pkg", f"native{sysconfig.get_config_var('EXT_SUFFIX')}"), "wb") as fh:
            fh.write(b"\x7fELF not really")
        out = os.path.join(tmp, "census.json")
        cmd = [sys.executable, os.path.abspath(__file__), "_worker", "census", proj, "--out", out]
        for lib in libs:
            cmd += ["--libs", lib]
        subprocess.run(cmd, check=True, cwd=tmp)
        result = json.load(open(out))
        asked = result["astroid"]["queries"]
        imported = open(marker).read() if os.path.exists(marker) else ""
        for site in result["sites"]:
            print(f"{site['where']} {site['expr']}.{site['what']}: ours {site['ours']}, astroid {site['astroid']} "
                  f"{site['astroid_kind'] or ''} ({site['inferred']})")
        print(f"astroid questions: {asked}; imported from the project: {result['imported_from_analysed_code']}; "
              f"marker: {imported!r}")
        if libs:  # positive control: astroid, reading the library's source, types `engines['a']`
            typed = [x for x in result["sites"] if x["expr"] == "engines['a']" and x["astroid_kind"] == "sa.engine"]
            print(f"positive control (engines['a'] is a SQLAlchemy Engine): {'ok' if typed else 'FAILED'}")
            if not typed:
                return 1
        return 0 if asked and not imported and not result["imported_from_analysed_code"] else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch-libs")
    f.add_argument("--corpus-dir", default=DEFAULT_CORPUS_DIR)
    r = sub.add_parser("run")
    r.add_argument("projects", nargs="+")
    r.add_argument("--libs", action="append", default=None, help="library sources astroid may read (repeatable)")
    r.add_argument("--no-libs", action="store_true", help="astroid sees only the project and the stdlib")
    r.add_argument("--corpus-dir", default=DEFAULT_CORPUS_DIR)
    r.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "txlint-astroid"))
    r.add_argument("--txlint", help="analyse with the txlint source tree in this folder (a snapshot of one "
                                    "commit: git archive COMMIT | tar -x -C DIR; ln -s ../rules DIR/txlint/rules)")
    r.add_argument("--modes", default="plain,fallback-loose,census",
                   help="plain, fallback (astroid answers with one kind only), fallback-loose (one kind among "
                        "other values too), census")
    t = sub.add_parser("selftest", help="astroid asked about a project whose import has side effects: nothing runs")
    t.add_argument("--libs", action="append", default=[])
    p = sub.add_parser("report")
    p.add_argument("out")
    w = sub.add_parser("_worker")
    w.add_argument("mode")
    w.add_argument("project")
    w.add_argument("--libs", action="append", default=[])
    w.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if args.cmd == "fetch-libs":
        print(fetch_libs(args.corpus_dir))
    elif args.cmd == "run":
        libs = [] if args.no_libs else (args.libs or [fetch_libs(args.corpus_dir)])
        run(args.projects, libs, args.out, args.modes.split(","), args.txlint)
    elif args.cmd == "report":
        report(args.out)
    elif args.cmd == "selftest":
        libs = args.libs
        if not libs and os.path.isdir(os.path.join(DEFAULT_CORPUS_DIR, "astroid-libs", "lib")):
            libs = [os.path.join(DEFAULT_CORPUS_DIR, "astroid-libs", "lib")]
        return selftest(libs)
    else:
        worker(args.mode, args.project, args.libs, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
