"""docs/rules/TXL*.md are generated from the rule classes (``python -m txlint.docs``); they must not
drift, the README's rule table links to them, and ``txlint rule CODE`` prints the same text."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from txlint import docs
from txlint.registry import all_codes, load_rules

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs", "rules")
SECTIONS = ("## What it does", "## Why is this bad", "## Example", "## Use instead")


def test_rule_docs_match_the_rule_classes():
    problems = docs.drift(DOCS)
    assert not problems, "docs/rules/ is out of date, run `python -m txlint.docs`:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", list(all_codes()))
def test_each_file_is_the_rule_class_documentation(code):
    with open(os.path.join(DOCS, f"{code}.md"), encoding="utf-8") as handle:
        text = handle.read()
    name = all_codes()[code]
    assert text.startswith(f"# {code} {name}\n\n")
    for section in SECTIONS:
        assert f"\n{section}\n" in text, section
    cls = load_rules().get(code)
    if cls is not None:
        assert cls.doc.strip() in text and cls.summary.strip() in text
        assert (docs.FIX_NOTE in text) == bool(cls.fixable)


def test_drift_is_detected_and_repaired(tmp_path, monkeypatch):
    out = str(tmp_path / "rules")
    assert sorted(docs.write(out)) == sorted(f"{c}.md" for c in all_codes())
    assert docs.drift(out) == [] and docs.write(out) == []
    cls = load_rules()["TXL201"]
    monkeypatch.setattr(cls, "doc", cls.doc + "\nOne more sentence.\n")
    assert docs.drift(out) == ["TXL201.md: differs from the rule class"]
    (tmp_path / "rules" / "TXL999.md").write_text("# gone\n")
    os.remove(os.path.join(out, "TXL101.md"))
    assert docs.drift(out) == ["TXL101.md: missing", "TXL999.md: no such rule",
                               "TXL201.md: differs from the rule class"]
    assert docs.main(["--check", out]) == 1
    assert docs.main([out]) == 0
    assert docs.drift(out) == [] and not os.path.exists(os.path.join(out, "TXL999.md"))
    with open(os.path.join(out, "TXL201.md"), encoding="utf-8") as handle:
        assert "One more sentence." in handle.read()


def test_check_mode_from_the_command_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "txlint.docs", "--check", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "TXL101.md" in proc.stderr and "python -m txlint.docs" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "txlint.docs", "--check", DOCS], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_readme_rule_table_links_every_rule_doc():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    rows = re.findall(r"^\| \[(TXL\d{3})\]\((docs/rules/TXL\d{3}\.md)\) \| ([a-z-]+) \|", readme, re.M)
    assert sorted(code for code, _, _ in rows) == sorted(all_codes())
    for code, link, name in rows:
        assert link == f"docs/rules/{code}.md" and os.path.isfile(os.path.join(ROOT, link))
        assert name == all_codes()[code]


@pytest.mark.parametrize("code", ["TXL000", "TXL101", "TXL402"])
def test_txlint_rule_prints_the_same_text(code):
    proc = subprocess.run([sys.executable, "-m", "txlint", "rule", code.lower()], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    with open(os.path.join(DOCS, f"{code}.md"), encoding="utf-8") as handle:
        assert proc.stdout == handle.read()


def test_unknown_rule_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "txlint", "rule", "TXL999"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "unknown rule" in proc.stderr and not proc.stdout


def test_sarif_rule_help_is_the_rule_documentation():
    from txlint.reporters.sarif import build_sarif

    run = build_sarif([], rules=load_rules())["runs"][0]
    by_id = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(by_id) == set(all_codes())
    for code, descriptor in by_id.items():
        help_ = descriptor["help"]
        assert help_["markdown"] == docs.rule_markdown(code).strip()
        assert "## Use instead" in help_["markdown"] or code == "TXL000"
        assert "Use instead" in help_["text"] and "## " not in help_["text"]
