"""Columns are characters, 1-based, whatever tree a rule reads: rules that work on the CPython
``ast`` (TXL403/TXL404, TXL301) get UTF-8 byte offsets from it and must not report them as columns."""

from __future__ import annotations

from txlint.testing import analyze_project

SOURCE = '''\
import redis


def listen(url):
    label = "café ☕"; r = redis.Redis.from_url(url or "redis://café")  # noqa: E702
    pubsub = r.pubsub()
    for message in pubsub.listen():
        print(label, message)
'''


def test_ast_rule_column_counts_characters_not_bytes():
    result = analyze_project({"app/listen.py": SOURCE}, "app/listen.py", codes={"TXL404"})
    found = [d for d in result.diagnostics if d.code == "TXL404"]
    assert found, "the Redis client held across pubsub.listen() is TXL404"
    line = SOURCE.splitlines()[found[0].line - 1]
    assert found[0].column == line.index("redis.Redis") + 1
    assert found[0].end_column == line.index("  # noqa") + 1


TRICKY = (
    "# header comment\n"
    "import os; import sys\n"
    "\n"
    "@decorator\n"
    "# between\n"
    "@other(\n"
    "    1,\n"
    ")\n"
    "def decorated(a,\n"
    "              b):\n"
    "    '''doc\n"
    "    spanning'''; x = 1\n"
    "    return a  # trailing\n"
    "    # comment at the end of the block\n"
    "\n"
    "class One: pass\n"
    "\n"
    "class Outer(Base, metaclass=Meta):\n"
    "    attr = 1; other = 2\n"
    "\n"
    "    @property\n"
    "    def value(self):\n"
    "        return self._v\n"
    "\n"
    "    class Inner:\n"
    "        def deep(self):\n"
    "            s = '''\n"
    "text'''; return s\n"
    "\n"
    "    async def run(self):\n"
    "        total = (1 +\n"
    "  2)\n"
    "        return total\n"
    "async def tabbed():\n"
    "\ttotal = 1\n"
    "\treturn total\n"
    "if True:\n"
    "    def in_if():\n"
    "        return [x for x in range(3)]\n"
)


def _compare(source: str) -> int:
    import ast
    import random

    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    from txlint.positions import UnitPositions
    from txlint.walk import walk

    module = cst.parse_module(source)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = list(walk(module))
    random.Random(7).shuffle(nodes)  # the order reports ask in must not matter
    units = UnitPositions(module, ast.parse(source))
    placed = 0
    for node in nodes:
        found = units.get(node)
        assert not units.failed
        if found is not None:
            assert found == full[node], (type(node).__name__, found, full[node])
            placed += 1
    return placed


def test_positions_unit_by_unit_equal_those_of_the_whole_module():
    placed = _compare(TRICKY)
    assert placed > 100
    assert _compare(TRICKY.replace("\n", "\r\n")) == placed


def test_positions_unit_by_unit_on_every_test_data_file():
    import os

    root = os.path.join(os.path.dirname(__file__), "testdata")
    checked = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    checked += _compare(handle.read()) > 0
    assert checked > 30


def test_a_unit_that_disagrees_with_the_ast_falls_back_to_the_whole_module():
    import ast

    import libcst as cst

    from txlint.positions import UnitPositions

    module = cst.parse_module("def f():\n    return 1\n")
    other = ast.parse("def f():\n    x = 1\n    return 1\n")  # one line longer
    units = UnitPositions(module, other)
    ret = module.body[0].body.body[0]
    assert units.get(ret) is None and units.failed


def test_a_form_feed_line_does_not_shift_what_a_report_reads_of_its_line():
    """CPython does not count a form feed as a line break, str.splitlines does: the suppression
    comment and the fingerprint of a report below one were read from the wrong line."""
    plain = "import sqlite3\n\n\ndef count(p):\n    conn = sqlite3.connect(p)  # noqa: TXL201\n    return conn.execute('SELECT 1').fetchone()\n"
    fed = plain.replace("\n\n\n", "\n\x0c\n\n", 1)
    got = {}
    for name, source in (("plain", plain), ("fed", fed)):
        result = analyze_project({"app/count.py": source}, "app/count.py")
        got[name] = sorted((d.line, d.code, d.fingerprint) for d in result.diagnostics)
    assert got["fed"] == got["plain"]
    assert [code for _, code, _ in got["plain"]] == ["TXL202"]  # TXL201 suppressed on its line
