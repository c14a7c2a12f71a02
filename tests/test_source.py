"""Reading and decoding source; the reduced view of huge generated files."""

from __future__ import annotations

import ast
import os

import pytest

from txlint.source import SourceError, decode, parse_python, reduce_source


def test_decode_bom_coding_and_errors():
    assert decode(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"
    assert decode(b"# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n").endswith("'caf\xe9'\n")
    with pytest.raises(SourceError, match="NUL"):
        decode(b"x = 1\n\0\n")
    with pytest.raises(SourceError, match="decode") as info:
        decode(b"x = 1\nNAME = 'caf\xe9'\n")
    assert info.value.line == 2


def test_syntax_errors_carry_their_position():
    with pytest.raises(SourceError) as info:
        parse_python("m.py", "x = 1\ndef broken(:\n    pass\n")
    assert info.value.line == 2 and "syntax error" in info.value.message
    with pytest.raises(SourceError):
        parse_python("m.py", "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n")


def test_reduce_blanks_only_long_pure_data_and_keeps_positions():
    rows = "".join(f"    {{'id': {i}, 'name': 'n{i}'}},\n" for i in range(50))
    text = ("import sqlite3\n\nTABLE = [\n" + rows + "]\n\nCALLS = [\n" + "".join(f"    f({i}),\n" for i in range(30)) +
            "]\n\n\nclass K:\n    DATA = (\n" + "".join(f"        {i},\n" for i in range(25)) + "    )\n\n\n"
            "def lookup(path):\n    conn = sqlite3.connect(path)\n    return conn\n")
    reduced = reduce_source(text, ast.parse(text))
    assert reduced is not None
    old, new = text.splitlines(), reduced.splitlines()
    assert len(old) == len(new)
    assert new[2] == "pass" and all(line == "" for line in new[3:54])
    assert "f(3)," in reduced  # statements with calls are kept
    assert "    pass" in new and "DATA" not in reduced
    assert new[-2:] == old[-2:]
    ast.parse(reduced)
    assert reduce_source("x = 1\n", ast.parse("x = 1\n")) is None


def test_reduce_keeps_crlf():
    text = "T = [\r\n" + "".join(f"    {i},\r\n" for i in range(30)) + "]\r\nx = 1\r\n"
    reduced = reduce_source(text, ast.parse(text))
    assert reduced.count("\r\n") == text.count("\r\n") and "\n" not in reduced.replace("\r\n", "")


def test_reduce_counts_lines_as_the_tokenizer_does():
    """A form feed (old GNU-style modules have them on lines of their own) is not a line break for
    CPython; str.splitlines says it is, and the reduction blanked the wrong lines."""
    text = ("import os\n\x0c\n" + "T = [\n" + "".join(f"    {i},\n" for i in range(30)) + "]\n"
            "def after():\n    return os.getcwd()\n")
    reduced = reduce_source(text, ast.parse(text))
    assert reduced is not None
    assert "return os.getcwd()" in reduced and "    29," not in reduced
    assert reduced.count("\n") == text.count("\n")
    ast.parse(reduced)


def test_reduce_keeps_cr_line_ends():
    text = "T = [\r" + "".join(f"    {i},\r" for i in range(30)) + "]\rx = 1\r"
    reduced = reduce_source(text, ast.parse(text))
    assert reduced.count("\r") == text.count("\r") and "\n" not in reduced


BODIES = (
    "import sqlite3\n"
    "\n"
    "def leaf(a):\n"
    "    '''doc'''\n"
    "    return a + 1\n"
    "\n"
    "def candidate():\n"
    "    conn = sqlite3.connect('x')\n"
    "    def inner():\n"
    "        return conn\n"
    "    return inner\n"
    "\n"
    "def outer():\n"
    "    def nested_leaf():\n"
    "        return 2\n"
    "    return nested_leaf()\n"
    "\n"
    "def one_liner(): return 3\n"
    "\n"
    "class C:\n"
    "    @property\n"
    "    def value(self):\n"
    "        x = (1 +\n"
    "             2)\n"
    "        return x\n"
)


def _fn(tree, name):
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)


def test_blank_function_bodies_keeps_candidates_their_closures_and_every_position():
    import libcst as cst

    from txlint.kinds import ast_functions
    from txlint.source import blank_function_bodies

    for newline in ("\n", "\r\n"):
        text = BODIES.replace("\n", newline)
        tree = ast.parse(text)
        out = blank_function_bodies(text, tree, {id(_fn(tree, "candidate"))})
        assert out is not None and out.count(newline) == text.count(newline)
        old, new = text.splitlines(), out.splitlines()
        assert len(old) == len(new)
        # kept: the candidate with its closure, a function holding a nested one, the one-liner,
        # every def line and decorator
        for i, line in enumerate(old):
            if line.lstrip().startswith(("def ", "@", "class ", "conn", "return inner", "return conn")):
                assert new[i] == line, (i, line, new[i])
        assert "return a + 1" not in out and "x = (1 +" not in out  # the leaf bodies are gone
        assert "return nested_leaf()" in out  # outer holds a nested function: kept
        assert new[4 - 1] == "    pass"  # the first line of a blanked body
        blanked = ast.parse(out)
        assert [f.name for f, _ in ast_functions(blanked)] == [f.name for f, _ in ast_functions(tree)]
        cst.parse_module(out)


def test_blank_function_bodies_counts_lines_as_the_tokenizer_does():
    from txlint.source import blank_function_bodies

    text = "x = 1  # \x0c form feed\n\x0c\ndef f():\n    return 1\ny = 2\n"
    out = blank_function_bodies(text, ast.parse(text), set())
    assert out == "x = 1  # \x0c form feed\n\x0c\ndef f():\n    pass\ny = 2\n"


def test_read_at_most_reads_a_small_file_whole_and_anything_else_up_to_the_limit(tmp_path):
    import io

    from txlint.source import read_at_most

    path = tmp_path / "m.py"
    path.write_bytes(b"x = 1\n" * 100)
    with open(path, "rb") as handle:
        assert read_at_most(handle, 10_000) == b"x = 1\n" * 100
    with open(path, "rb") as handle:
        assert read_at_most(handle, 12) == b"x = 1\nx = 1\n", "a larger file: the limit, as read(limit)"
    assert read_at_most(io.BytesIO(b"abcdef"), 4) == b"abcd", "no file number: read(limit)"
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as handle, os.fdopen(write_end, "wb") as out:
        out.write(b"0123456789")
        out.close()
        assert read_at_most(handle, 5) == b"01234", "a pipe has no size: read(limit)"


def test_a_file_over_the_size_limit_is_still_refused(tmp_path, monkeypatch):
    from txlint import source

    path = tmp_path / "big.py"
    path.write_bytes(b"x = 1\n" * 10)
    monkeypatch.setattr(source, "MAX_BYTES", 30)
    with pytest.raises(source.SourceError, match="larger than"):
        source.read_bytes(str(path))
