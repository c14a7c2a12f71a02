"""Every rule's own VALID/INVALID examples, turned into tests (Fixit style)."""

from __future__ import annotations

import re

import pytest

from txlint.registry import load_rules
from txlint.testing import expected_findings, run_example

RULES = load_rules()
SECTIONS = ("## What it does", "## Why is this bad", "## Example", "## Use instead")


def _cases(kind: str):
    for code, cls in RULES.items():
        for i, example in enumerate(getattr(cls, kind)):
            yield pytest.param(cls, example, id=f"{code}-{kind.lower()}-{i}")


@pytest.mark.parametrize("cls,example", list(_cases("INVALID")))
def test_invalid_example_reports_exactly_the_marked_lines(cls, example):
    expected, actual, diags = run_example(example)
    mine = {(line, code) for line, code in actual if code == cls.code}
    want = {(line, code) for line, code in expected if code == cls.code}
    assert want, "an INVALID example must mark at least one expected finding of its rule"
    assert mine == want, "\n".join(f"{d.line}:{d.column} {d.code} {d.message}" for d in diags)


@pytest.mark.parametrize("cls,example", list(_cases("VALID")))
def test_valid_example_is_not_reported(cls, example):
    _, actual, diags = run_example(example)
    mine = [d for d in diags if d.code == cls.code]
    assert not mine, "\n".join(f"{d.line}:{d.column} {d.code} {d.message}" for d in mine)
    assert not expected_findings(example.project()[example.checked_path()]) & {
        (d.line, cls.code) for d in diags}


@pytest.mark.parametrize("code", list(RULES))
def test_rule_metadata_is_complete(code):
    cls = RULES[code]
    assert re.fullmatch(r"TXL\d{3}", cls.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cls.name), "names are kebab-case"
    assert cls.summary and "\n" not in cls.summary.strip()
    for section in SECTIONS:
        assert section in cls.doc, f"{code} doc lacks {section!r}"
    assert cls.needs <= {"names", "cfg", "index"}


def test_every_contract_code_has_a_rule():
    contract = {"TXL101", "TXL102", "TXL201", "TXL202", "TXL301", "TXL401", "TXL402", "TXL403", "TXL404", "TXL501"}
    missing = contract - set(RULES)
    assert not missing, f"no rule registered for {sorted(missing)}"
