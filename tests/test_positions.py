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
