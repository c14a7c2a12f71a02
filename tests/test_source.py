"""Reading and decoding source; the reduced view of huge generated files."""

from __future__ import annotations

import ast

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
