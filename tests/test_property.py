"""Property tests on generated programs (hypothesmith): txlint never raises, never prints a traceback,
exits 0 or 1, emits valid JSON, and whatever ``--fix`` writes still parses.

Generated programs are strange but valid Python; most are also embedded in small database programs
(a connection, a transaction, a Celery task, a Redis client, a waiting loop) so that the rules, the
control flow and the fixes run over them, not only the parser.  Seeded (derandomize) and bounded so
that the suite stays fast; ``bench/fuzz.py`` runs the same properties on 2,000 programs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings

import pytest

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import hypothesmith as _hs  # noqa: E402

from txlint.analysis import analyze  # noqa: E402
from txlint.context import Options  # noqa: E402
from txlint.registry import all_codes, load_rules  # noqa: E402

# database programs with a place for generated code: {body} inside a function (4 spaces), the
# generated code also at module level before/after them
TEMPLATES = [
    # TXL201/202 (with-wrapping fix)
    "import sqlite3\n\n\ndef count_rows(path):\n    conn = sqlite3.connect(path)\n{body}\n"
    "    rows = conn.execute('SELECT 1').fetchone()\n    return rows[0]\n",
    # TXL201/202 on a cursor, straight line
    "import psycopg2\n\n\ndef load(dsn):\n    conn = psycopg2.connect(dsn)\n    cur = conn.cursor()\n{body}\n"
    "    cur.execute('SELECT 1')\n    conn.close()\n",
    # TXL101/102 (begin ... commit fix) and TXL402 (pool_pre_ping fix)
    "from sqlalchemy import create_engine\n\nengine = create_engine('mysql+pymysql://u:p@db/app')\n\n\n"
    "def move(a, b):\n    conn = engine.connect()\n    trans = conn.begin()\n{body}\n"
    "    conn.execute('UPDATE t SET x = 1')\n    trans.commit()\n    conn.close()\n",
    # TXL301 (unsafe fix)
    "from celery import shared_task\nfrom app.ext import db\n\n\n@shared_task\ndef sync(user_id):\n{body}\n"
    "    db.session.add(user_id)\n    db.session.commit()\n",
    # TXL403 and TXL404 (health_check_interval fix)
    "import time\nimport redis\nimport sqlite3\n\nclient = redis.Redis(host='cache')\n\n\ndef poll(path):\n"
    "    conn = sqlite3.connect(path)\n    while True:\n{body}\n        conn.execute('SELECT 1')\n"
    "        time.sleep(5)\n",
]


def _indent(code: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in code.splitlines(True))


def _compiles(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<generated>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def embed(generated: str, template: str, where: int) -> str:
    """The generated code inside the template's function body (where=0) or before (1) or after (2)
    the database program; the placement that compiles, else the generated code alone."""
    indent = "        " if "while True" in template else "    "
    if where == 0:
        inner = template.replace("{body}", _indent(generated.rstrip("\n") or "pass", indent))
        if _compiles(inner):
            return inner
    plain = template.replace("{body}", indent + "pass")
    for source in ((generated.rstrip("\n") + "\n" + plain) if where == 1 else None, plain + generated):
        if source is not None and _compiles(source):
            return source
    return generated


def programs():
    """Generated programs, raw or inside a database program."""
    generated = _hs.from_grammar()
    embedded = st.builds(embed, generated, st.sampled_from(TEMPLATES), st.integers(0, 2))
    return st.one_of(embedded, embedded, embedded, generated)  # mostly inside a database program


_RULES = None


def check_in_process(source: str, max_fix_passes: int = 5, notes: list | None = None) -> list[str]:
    """Analyse ``source`` in-process as ``txlint --fix --unsafe-fixes`` would; the problems found
    (an exception, an internal error, a message too long, JSON that does not round-trip, a fixed
    file that does not parse); empty when all is well.  ``notes`` collects what is not a failure
    of these properties but worth counting (a TXL000 on a program CPython accepts)."""
    global _RULES
    from txlint.reporters import render

    if _RULES is None:
        _RULES = load_rules()
    codes = all_codes()
    kw = dict(enabled=frozenset(codes), want_fixes=True)
    if "unsafe_fixes" in getattr(Options, "__dataclass_fields__", {}):
        kw["unsafe_fixes"] = True
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="txlint-prop-") as root:
        path = os.path.join(root, "gen.py")
        options = Options(project_root=root, **kw)
        text = source
        for _ in range(max_fix_passes):
            with open(path, "w", encoding="utf-8", errors="surrogatepass", newline="") as handle:
                handle.write(text)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = analyze(path, "gen.py", options)
            except Exception as exc:  # noqa: BLE001 - the property: never raises
                return [f"raised {type(exc).__name__}: {exc}"]
            for d in result.diagnostics:
                if notes is not None and d.code == "TXL000" and _compiles(text):
                    notes.append(f"TXL000 on a program CPython accepts: {d.message}")
                if d.code == "TXL000" and d.message.startswith(("internal error", "analysis")):
                    problems.append(f"internal error: {d.message}")
                elif d.code != "TXL000" and len(d.message) > 120:
                    problems.append(f"message longer than 120 characters: {d.message}")
                if d.line < 1 or d.column < 1:
                    problems.append(f"bad position {d.line}:{d.column} for {d.code}")
            out = render("json", sorted(result.diagnostics, key=lambda d: d.sort_key), files_checked=1, errors=[],
                         rules={c: _RULES[c] for c in codes if c in _RULES})
            try:
                report = json.loads(out)
                assert len(report["diagnostics"]) == len(result.diagnostics)
            except (ValueError, AssertionError, KeyError, TypeError) as exc:
                problems.append(f"JSON report does not round-trip: {exc}")
            fixed = result.fixed_source
            if not fixed or fixed == text:
                break
            if not _compiles(fixed):
                problems.append("--fix output does not parse")
                break
            text = fixed
    return problems

SETTINGS = dict(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=list(HealthCheck))


@settings(max_examples=40, **SETTINGS)
@given(programs())
def test_analysis_never_raises_and_fixes_parse(source):
    problems = check_in_process(source)
    assert not problems, (problems, source)


def _cli(args, cwd):
    proc = subprocess.run([sys.executable, "-m", "txlint", *args], cwd=cwd, capture_output=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


@settings(max_examples=2, **SETTINGS)
@given(st.lists(programs(), min_size=4, max_size=6))
def test_cli_on_generated_programs(sources):
    """Real runs of the command line over a folder of generated programs: JSON report, then --fix."""
    with tempfile.TemporaryDirectory(prefix="txlint-prop-") as root:
        for i, source in enumerate(sources):
            with open(os.path.join(root, f"gen_{i}.py"), "w", encoding="utf-8", errors="surrogatepass",
                      newline="") as handle:
                handle.write(source)
        rc, out, err = _cli(["--no-cache", "--jobs", "2", "--format", "json", "."], root)
        assert rc in (0, 1), (rc, err)
        assert "Traceback" not in err and "Warning" not in err, err
        report = json.loads(out)
        assert report["files_checked"] == len(sources)
        for d in report["diagnostics"]:
            assert not (d["code"] == "TXL000" and "internal error" in d["message"]), d
        rc, out, err = _cli(["--no-cache", "--fix", "."], root)
        assert rc in (0, 1), (rc, err)
        assert "Traceback" not in err, err
        for i in range(len(sources)):
            with open(os.path.join(root, f"gen_{i}.py"), "rb") as handle:
                data = handle.read()
            if data != sources[i].encode("utf-8", "surrogatepass"):  # changed by --fix: must parse
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    compile(data, f"gen_{i}.py", "exec")
