"""The safe fixes of TXL402 (add ``pool_pre_ping=True``) and TXL404 (add ``health_check_interval=30``)."""

from __future__ import annotations

import ast
import textwrap

import pytest

from txlint.testing import analyze_project


def _fix(source: str, *, codes=None, dedent: bool = True):
    text = textwrap.dedent(source).lstrip("\n") if dedent else source
    return analyze_project({"app.py": text}, "app.py", codes=codes, want_fixes=True)


def fixed(source: str, **kw) -> str:
    result = _fix(source, **kw)
    assert result.fixed_source is not None, [d.message for d in result.diagnostics]
    ast.parse(result.fixed_source)
    # idempotence: a second run finds nothing left to fix and no finding of the fixed codes
    again = analyze_project({"app.py": result.fixed_source}, "app.py", codes=kw.get("codes"), want_fixes=True)
    assert again.fixed_source is None
    assert not [d for d in again.diagnostics if d.code in ("TXL402", "TXL404")]
    return result.fixed_source


def test_single_line_engine_gains_pool_pre_ping():
    out = fixed('''
        from sqlalchemy import create_engine

        engine = create_engine("mysql://app:secret@db.internal/app")
    ''')
    assert 'engine = create_engine("mysql://app:secret@db.internal/app", pool_pre_ping=True)\n' in out


def test_multi_line_engine_keeps_one_keyword_per_line_and_trailing_comma():
    out = fixed('''
        from sqlalchemy import create_engine

        reporting_engine = create_engine(
            "mysql+pymysql://report:secret@replica.internal/reports",
            pool_size=5,
            echo=False,
        )
    ''')
    assert out.endswith(textwrap.dedent('''\
        reporting_engine = create_engine(
            "mysql+pymysql://report:secret@replica.internal/reports",
            pool_size=5,
            echo=False,
            pool_pre_ping=True,
        )
    '''))
    call = ast.parse(out).body[-1].value
    keywords = {kw.arg: kw.value for kw in call.keywords}
    assert set(keywords) == {"pool_size", "echo", "pool_pre_ping"}
    assert keywords["pool_pre_ping"].value is True and keywords["pool_size"].value == 5


def test_multi_line_without_trailing_comma_and_comments_kept():
    out = fixed('''
        from sqlalchemy import create_engine

        def make_engine(url):
            return create_engine(
                url,
                pool_size=5,  # per worker
                echo=True
            )
    ''')
    assert out.endswith(textwrap.dedent('''\
        def make_engine(url):
            return create_engine(
                url,
                pool_size=5,  # per worker
                echo=True,
                pool_pre_ping=True
            )
    '''))


def test_single_argument_multi_line_call():
    out = fixed('''
        import os
        import sqlalchemy as sa

        engine = sa.create_engine(
            os.environ["DATABASE_URL"],
        )
    ''')
    assert 'engine = sa.create_engine(\n    os.environ["DATABASE_URL"],\n    pool_pre_ping=True,\n)\n' in out


def test_hanging_indent_call():
    out = fixed('''
        from sqlalchemy.ext.asyncio import create_async_engine as cae

        engine = cae("postgresql+asyncpg://app@db/app",
                     pool_size=10)
    ''')
    assert ('engine = cae("postgresql+asyncpg://app@db/app",\n'
            '             pool_size=10,\n'
            '             pool_pre_ping=True)\n') in out


def test_pool_pre_ping_false_becomes_true():
    out = fixed('''
        from sqlalchemy import create_engine

        engine = create_engine("mysql://app@db/app", pool_pre_ping=False, echo=True)
    ''')
    assert 'create_engine("mysql://app@db/app", pool_pre_ping=True, echo=True)' in out
    assert "False" not in out


def test_keyword_goes_before_double_star_of_a_visible_dict():
    out = fixed('''
        from sqlalchemy import create_engine

        engine = create_engine("postgresql://app@db/app", **{"echo": True})
    ''')
    assert 'create_engine("postgresql://app@db/app", pool_pre_ping=True, **{"echo": True})' in out


def test_module_dict_used_only_as_double_star_is_safe_to_extend():
    out = fixed('''
        from sqlalchemy import create_engine

        OPTIONS = {"pool_size": 10}
        engine = create_engine("postgresql://app@db/app", **OPTIONS)
    ''')
    assert 'create_engine("postgresql://app@db/app", pool_pre_ping=True, **OPTIONS)' in out


def test_no_fix_when_a_double_star_dict_may_hold_pool_pre_ping():
    result = _fix('''
        from sqlalchemy import create_engine

        OPTIONS = {"pool_size": 10}
        if DEBUG:
            OPTIONS["pool_pre_ping"] = False
        engine = create_engine("postgresql://app@db/app", **OPTIONS)
    ''')
    assert [d.code for d in result.diagnostics if d.code == "TXL402"] == ["TXL402"]
    assert result.fixed_source is None


def test_no_fix_when_the_dict_sets_pool_pre_ping_false():
    result = _fix('''
        from sqlalchemy import create_engine

        OPTIONS = {"pool_pre_ping": False}
        engine = create_engine("postgresql://app@db/app", **OPTIONS)
    ''')
    assert [d.code for d in result.diagnostics if d.code == "TXL402"] == ["TXL402"]
    assert result.fixed_source is None


def test_redis_client_gains_health_check_interval():
    out = fixed('''
        import redis

        cache = redis.Redis(host="cache.internal", port=6379, db=0)
    ''')
    assert 'cache = redis.Redis(host="cache.internal", port=6379, db=0, health_check_interval=30)\n' in out


def test_redis_pool_and_from_url_and_disabled_check():
    out = fixed('''
        from redis import Redis as R, ConnectionPool

        pool = ConnectionPool(host="cache")
        client = R(connection_pool=pool)
        other = R.from_url("redis://cache:6379/1")
        off = R(host="cache", health_check_interval=0)
        empty = R()
    ''')
    assert 'pool = ConnectionPool(host="cache", health_check_interval=30)' in out
    assert "client = R(connection_pool=pool)\n" in out
    assert 'other = R.from_url("redis://cache:6379/1", health_check_interval=30)' in out
    assert 'off = R(host="cache", health_check_interval=30)' in out
    assert "empty = R(health_check_interval=30)" in out


def test_several_fixes_in_one_file():
    out = fixed('''
        import redis
        from sqlalchemy import create_engine

        engine = create_engine("mysql://app:secret@db.internal/app")
        cache = redis.Redis(host="cache.internal", port=6379, db=0)
    ''')
    assert "pool_pre_ping=True" in out and "health_check_interval=30" in out


def test_only_enabled_codes_are_fixed():
    out = fixed('''
        import redis
        from sqlalchemy import create_engine

        engine = create_engine("mysql://app:secret@db.internal/app")
        cache = redis.Redis(host="cache.internal")
    ''', codes={"TXL404"})
    assert "health_check_interval=30" in out and "pool_pre_ping" not in out


def test_suppressed_finding_is_not_fixed():
    result = _fix('''
        from sqlalchemy import create_engine

        engine = create_engine("mysql://app@db/app")  # txlint: ignore[TXL402]
    ''')
    assert result.fixed_source is None


@pytest.mark.parametrize("source", [
    '''
    from sqlalchemy import create_engine

    engine = create_engine("mysql://app@db/app", pool_pre_ping=True)
    ''',
    '''
    import sqlite3

    conn = sqlite3.connect("app.db")
    ''',
    '''
    import redis

    cache = redis.Redis(host="cache", health_check_interval=30)
    ''',
])
def test_nothing_to_fix_gives_no_fixed_source(source):
    result = _fix(source)
    assert result.fixed_source is None


def test_crlf_line_endings_are_kept():
    source = ('from sqlalchemy import create_engine\r\n'
              'import redis\r\n'
              '\r\n'
              'engine = create_engine(\r\n'
              '    "mysql://a@b/c",\r\n'
              '    echo=True,\r\n'
              ')\r\n'
              'cache = redis.Redis(host="cache")\r\n')
    result = _fix(source, dedent=False)
    out = result.fixed_source
    assert out is not None
    assert out == ('from sqlalchemy import create_engine\r\n'
                   'import redis\r\n'
                   '\r\n'
                   'engine = create_engine(\r\n'
                   '    "mysql://a@b/c",\r\n'
                   '    echo=True,\r\n'
                   '    pool_pre_ping=True,\r\n'
                   ')\r\n'
                   'cache = redis.Redis(host="cache", health_check_interval=30)\r\n')
    assert "\n" not in out.replace("\r\n", "")
    again = analyze_project({"app.py": out}, "app.py", want_fixes=True)
    assert again.fixed_source is None


def test_findings_without_want_fixes_carry_no_fixed_source():
    result = analyze_project({"app.py": 'import redis\ncache = redis.Redis()\n'}, "app.py")
    assert [d.code for d in result.diagnostics] == ["TXL404"]
    assert result.fixed_source is None
