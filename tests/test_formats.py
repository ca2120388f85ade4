"""CI-facing formats: SARIF against the real schema, JUnit counts, workflow-command syntax, Markdown
tables, GitLab Code Quality, and values from a hostile repository that must stay inert in each."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner import escape as esc
from scanner.model import Category, Finding, Note, Severity, Waiver
from scanner.report import Report, render
from scanner.table import markdown_table

SCHEMA_PATH = Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json"
SARIF_VALIDATOR = jsonschema.Draft7Validator(json.loads(SCHEMA_PATH.read_text()))


def finding(**kw: object) -> Finding:
    base: dict[str, object] = dict(
        rule_id="RES900", rule_name="unparseable-file", category=Category.PARSE, severity=Severity.HIGH,
        resource="aws_s3_bucket.uploads", resource_type="aws_s3_bucket", file="infra/main.tf", line=7,
        message="bucket is in us-east-1, outside the allowed regions", remediation="Move it to eu-west-1.",
        region="us-east-1", jurisdiction="US", country="US", provenance="provider aws.virginia (main.tf:2)",
        controls=("PR.PS-01", "ISO27001:8.9"),
    )
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


INLINE = Waiver(reason="legacy bucket, migration ticket DATA-12", expires="2099-01-01", approver="dpo",
                source="inline infra/main.tf:6")
POLICY = Waiver(reason="analytics exception", expires=None, approver=None, source="policy residency.yaml:31")


def sample_report() -> Report:
    return Report(
        findings=[
            finding(),
            finding(resource="aws_s3_bucket.logs", line=20, severity=Severity.MEDIUM, blocking=False),
            finding(rule_id="RES902", rule_name="invalid-waiver", category=Category.WAIVER,
                    severity=Severity.INFO, resource="aws_s3_bucket.x", blocking=False, line=3),
            finding(resource="aws_s3_bucket.old", line=30, blocking=False, waiver=INLINE),
            finding(resource="aws_s3_bucket.shared", file="other/x.tf", line=4, blocking=False,
                    waiver=POLICY),
            finding(resource="aws_s3_bucket.known", line=40, blocking=False, baseline="known"),
            finding(rule_id="RES001", rule_name="data-store-outside-allowed-regions",
                    category=Category.PLACEMENT, resource="aws_s3_bucket.uploads", line=9),
        ],
        notes=[Note(file="charts/app/templates/db.yaml", message="Helm template skipped: render it first")],
        files=3, resources=12, tool_version="9.9.9",
        fixed=[{"fingerprint": "f" * 32, "rule_id": "RES001", "resource": "aws_s3_bucket.gone",
                "file": "x.tf"}],
    )


# ------------------------------------------------------------------------------------------ SARIF


def sarif(report: Report) -> dict:
    doc = json.loads(render("sarif", report))
    errors = sorted(SARIF_VALIDATOR.iter_errors(doc), key=str)
    assert not errors, "\n".join(str(e.message) for e in errors[:5])
    return doc


def test_sarif_is_valid_and_describes_the_tool() -> None:
    run = sarif(sample_report())["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "residency-guardrail"
    assert driver["version"] == "9.9.9"
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == ["RES001", "RES900", "RES902"]  # only rules that appear
    by_id = {r["id"]: r for r in driver["rules"]}
    assert by_id["RES900"]["properties"]["security-severity"] == "8.0"
    assert by_id["RES902"]["properties"]["security-severity"] == "0.0"
    assert "parse" in by_id["RES900"]["properties"]["tags"]
    assert "ISO27001:8.9" in by_id["RES900"]["properties"]["tags"]
    assert by_id["RES900"]["help"]["text"]  # summary or doc from checks.RULES
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_security_severity_scale() -> None:
    for severity, score in [(Severity.CRITICAL, "9.5"), (Severity.HIGH, "8.0"), (Severity.MEDIUM, "5.5"),
                            (Severity.LOW, "3.0"), (Severity.INFO, "0.0")]:
        run = sarif(Report(findings=[finding(severity=severity)]))["runs"][0]
        assert run["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == score


def test_sarif_results_levels_locations_fingerprints() -> None:
    report = sample_report()
    results = sarif(report)["runs"][0]["results"]
    levels = [r["level"] for r in results]
    assert levels == ["error", "warning", "note", "warning", "warning", "warning", "error"]
    first = results[0]
    loc = first["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"] == {"uri": "infra/main.tf", "uriBaseId": "%SRCROOT%"}
    assert loc["physicalLocation"]["region"]["startLine"] == 7
    assert loc["logicalLocations"][0]["fullyQualifiedName"] == "aws_s3_bucket.uploads"
    assert first["partialFingerprints"] == {"residencyFingerprint/v1": report.findings[0].fingerprint}
    assert first["message"]["text"] == report.findings[0].message
    assert results[5]["baselineState"] == "unchanged"


def test_sarif_fingerprint_survives_a_line_move() -> None:
    before = sarif(Report(findings=[finding(line=7)]))["runs"][0]["results"][0]["partialFingerprints"]
    after = sarif(Report(findings=[finding(line=70)]))["runs"][0]["results"][0]["partialFingerprints"]
    assert before == after


def test_sarif_suppressions_for_waived_findings() -> None:
    results = sarif(sample_report())["runs"][0]["results"]
    inline, policy = results[3]["suppressions"][0], results[4]["suppressions"][0]
    assert inline["kind"] == "inSource" and inline["justification"] == INLINE.reason
    assert inline["properties"]["expires"] == "2099-01-01"
    assert policy["kind"] == "external" and policy["justification"] == POLICY.reason
    assert "suppressions" not in results[0] and "suppressions" not in results[5]


def test_sarif_baseline_waiver_is_external() -> None:
    waived = finding(blocking=False, waiver=Waiver("accepted debt", None, None, "baseline"))
    result = sarif(Report(findings=[waived]))["runs"][0]["results"][0]
    assert result["suppressions"][0]["kind"] == "external"


def test_sarif_empty_report_is_valid() -> None:
    run = sarif(Report(findings=[]))["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []


def test_sarif_uri_is_encoded_and_relative() -> None:
    result = sarif(Report(findings=[finding(file="my dir/a#b%.tf")]))["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20dir/a%23b%25.tf"


# ------------------------------------------------------------------------------------------ JUnit


def junit(report: Report, fmt: str = "junit-rich") -> ET.Element:
    """The rich form by default: most tests below read ``file`` on testcases; strict tests pass ``junit``."""
    return ET.fromstring(render(fmt, report).encode())


def _check_counts(root: ET.Element) -> None:
    total = {"tests": 0, "failures": 0, "skipped": 0}
    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        counts = {"tests": len(cases),
                  "failures": sum(1 for c in cases if c.find("failure") is not None),
                  "skipped": sum(1 for c in cases if c.find("skipped") is not None)}
        for key, value in counts.items():
            assert suite.get(key) == str(value), (suite.get("name"), key)
            total[key] += value
        assert suite.get("errors") == "0"
    for key, value in total.items():
        assert root.get(key, "absent" if key == "skipped" else None) in (str(value), "absent"), key


def test_junit_counts_and_outcomes() -> None:
    root = junit(sample_report())
    _check_counts(root)
    assert root.get("tests") == "7" and root.get("failures") == "2" and root.get("skipped") == "2"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"RES001 data-store-outside-allowed-regions", "RES900 unparseable-file",
                           "RES902 invalid-waiver"}
    cases = {c.get("name"): c for c in suites["RES900 unparseable-file"].findall("testcase")}
    assert cases["aws_s3_bucket.uploads"].find("failure") is not None
    assert cases["aws_s3_bucket.uploads"].get("file") == "infra/main.tf"
    assert "Move it to eu-west-1." in cases["aws_s3_bucket.uploads"].find("failure").text
    assert cases["aws_s3_bucket.old"].find("skipped") is not None
    assert INLINE.reason in cases["aws_s3_bucket.old"].find("skipped").get("message")
    assert cases["aws_s3_bucket.known"].find("failure") is None
    assert "baseline" in cases["aws_s3_bucket.known"].find("system-out").text


def test_junit_groups_findings_per_resource_and_rule() -> None:
    two = [finding(message="replica 1 in us-east-1"),
           finding(message="replica 2 in us-west-2", blocking=False)]
    root = junit(Report(findings=two))
    _check_counts(root)
    (case,) = root.iter("testcase")
    text = case.find("failure").text
    assert "replica 1" in text and "replica 2" in text


def test_junit_waived_and_unwaived_findings_on_one_resource_still_fail() -> None:
    root = junit(Report(findings=[finding(), finding(blocking=False, waiver=INLINE, message="other")]))
    (case,) = root.iter("testcase")
    assert case.find("failure") is not None and case.find("skipped") is None


def test_junit_empty_report_has_one_passing_test() -> None:
    root = junit(Report(findings=[]))
    _check_counts(root)
    assert root.get("tests") == "1" and root.get("failures") == "0"


# ------------------------------------------------------------------------------------------ GitHub

COMMAND = re.compile(r"^::(error|warning|notice) (?:file=[^,:\r\n]*,line=\d+,)?(?:file=[^,:\r\n]*,)?"
                     r"title=[^,:\r\n]*::[^\r\n]*$")


def test_github_commands_are_well_formed() -> None:
    lines = render("github", sample_report()).splitlines()
    assert len(lines) == 7 + 1 + 1  # findings, note, summary
    for line in lines:
        assert COMMAND.match(line), line
    assert lines[0].startswith(
        "::error file=infra/main.tf,line=7,title=RES900 unparseable-file%3A aws_s3_bucket.uploads::")
    assert [line.split(" ", 1)[0] for line in lines[:7]] == [  # errors first: the runner caps each kind
        "::error", "::error", "::warning", "::warning", "::notice", "::notice", "::notice"]
    assert "RES001" in lines[1] and "aws_s3_bucket.logs" in lines[2] and "aws_s3_bucket.known" in lines[3]
    assert "Waived (inline infra/main.tf:6, expires 2099-01-01)" in lines[5]


def test_github_escaping_rules() -> None:
    assert esc.github_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert esc.github_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


# ------------------------------------------------------------------------------------------ Markdown


def split_row(line: str) -> list[str]:
    """Split a GFM table row the way cmark-gfm does: a backslash escapes the next character."""
    assert line.startswith("|") and line.endswith("|"), line
    cells, cell, i = [], "", 1
    while i < len(line) - 1:
        c = line[i]
        if c == "\\" and i + 1 < len(line) - 1:
            cell += line[i:i + 2]
            i += 2
            continue
        if c == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += c
        i += 1
    cells.append(cell)
    return cells


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table in the document as rows of cells; asserts each row has the header's width."""
    found, current = [], []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            current.append(split_row(line))
        elif current:
            width = len(current[0])
            assert all(len(row) == width for row in current), current
            assert all(re.fullmatch(r"\s*:?-+:?\s*", c) for c in current[1])
            found.append(current)
            current = []
    return found


def test_markdown_summary_structure() -> None:
    md = render("markdown", sample_report())
    assert md.startswith("## residency-guardrail: 2 blocking findings\n")
    assert "**2** blocking" in md and "**2** waived" in md
    findings_table, waived_table, fixed_table = tables(md)
    assert len(findings_table) == 2 + 5  # header, rule, 5 unwaived findings
    assert len(waived_table) == 2 + 2
    assert len(fixed_table) == 2 + 1
    assert "<details><summary>Waived findings (2)</summary>" in md
    assert "### Notes" in md and "Helm template skipped" in md
    header = [c.strip() for c in findings_table[0]]
    assert header == ["Status", "Severity", "Rule", "Resource", "Location", "Region / jurisdiction",
                      "Message"]
    assert findings_table[2][0].strip() == "**blocking**"  # blocking first


def test_markdown_clean_scan() -> None:
    md = render("markdown", Report(findings=[], files=2, resources=3))
    assert md.startswith("## residency-guardrail: no blocking findings")
    assert tables(md) == []


def test_markdown_caps_rows() -> None:
    from scanner.report import markdown

    report = Report(findings=[finding(resource=f"r.{i}") for i in range(markdown.MAX_ROWS + 5)])
    md = render("markdown", report)
    (table,) = tables(md)
    assert len(table) == markdown.MAX_ROWS + 2
    assert "and 5 more" in md


def test_markdown_table_escapes_cells() -> None:
    table = markdown_table(["a", "b"], [["x|y\nz", "<img src=x onerror=alert(1)> `code` *em*"], ["only"]])
    rows = [split_row(line) for line in table.splitlines()]
    assert all(len(r) == 2 for r in rows)
    assert r"x\|y<br>z" in table
    assert "<img" not in table and "&lt;img" in table
    assert r"\`code\`" in table and r"\*em\*" in table


def test_markdown_table_rejects_wide_rows() -> None:
    with pytest.raises(ValueError):
        markdown_table(["a"], [["1", "2"]])


def test_markdown_code_span_fences() -> None:
    assert esc.markdown_code("a`b") == "``a`b``"
    assert esc.markdown_code("`x`") == "`` `x` ``"
    assert "`" not in esc.markdown_code("a|b")  # pipes fall back to escaped text


# ------------------------------------------------------------------------------------------ GitLab


def test_gitlab_code_quality() -> None:
    report = sample_report()
    issues = json.loads(render("gitlab", report))
    assert len(issues) == len(report.findings)
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert issues[0]["severity"] == "critical"  # high
    assert issues[0]["location"] == {"path": "infra/main.tf", "lines": {"begin": 7}}
    assert issues[0]["fingerprint"] == report.findings[0].fingerprint
    assert issues[3]["severity"] == "info" and issues[3]["description"].startswith("[waived")


def test_gitlab_severity_scale_and_duplicate_fingerprints() -> None:
    sevs = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    report = Report(findings=[finding(severity=s, message=s.value) for s in sevs])
    issues = json.loads(render("gitlab", report))
    assert [i["severity"] for i in issues] == ["info", "minor", "major", "critical", "blocker"]
    assert len({i["fingerprint"] for i in issues}) == 5
    again = json.loads(render("gitlab", Report(findings=[finding(severity=s, message=s.value, line=99)
                                                          for s in sevs])))
    assert [i["fingerprint"] for i in issues] == [i["fingerprint"] for i in again]  # stable across moves


# ------------------------------------------------------------------------------------------ escaping


def test_escape_helpers() -> None:
    assert esc.strip_ansi("\x1b[31mred\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07") == "red link"
    assert esc.terminal_safe("a\x1b[2Jb\nc\x07") == "ab\\nc\\x07"
    assert esc.terminal_safe("a\nb", multiline=True) == "a\nb"
    assert esc.terminal_safe("x\u202eevil") == "x\\u202eevil"
    assert esc.xml_safe("a\x00b\x1b[1mc\ud800d\ufffe\x85") == "a\\x00bcd\\x85"
    assert esc.single_line(" a \n\t b ") == "a b"
    # text that would open a block if it started a line (a note rendered as "- <message>")
    assert esc.markdown_text("- nested") == "\\- nested"
    assert esc.markdown_text("1. item") == "1\\. item"
    assert esc.markdown_text("# title") == "\\# title"


HOSTILE = [
    "evil\n::error file=x.tf,line=1::forged",
    "::stop-commands::token",
    "100% | <script>alert(1)</script> `tick` **bold** [link](http://x)",
    "\x1b[2J\x1b[31mred\x1b]0;title\x07\x1b[0m",
    "tab\there\r\nCRLF\x00nul\x0bvt\u202erlo",
    "| a | b |\n|---|---|\n| c | d |",
    "# heading\n- list\n> quote",
    "]]></failure><failure>",
    "%0A::error::pre-encoded",
    "nel\x85::error::x\u2028::warning::y\u2029z\x1c\x1d\x1e",
]


def hostile_report(value: str) -> Report:
    return Report(
        findings=[
            finding(resource=value, message=value, remediation=value, region=value, file=f"dir/{value}.tf",
                    provenance=value),
            finding(resource=value, message=value, blocking=False, line=2,
                    waiver=Waiver(reason=value, expires=value, approver=value, source=f"inline {value}")),
            finding(resource=f"{value}2", message=value, blocking=False, line=3, severity=Severity.INFO),
        ],
        notes=[Note(file=value, message=value, resource=value)],
        fixed=[{"fingerprint": "0" * 32, "rule_id": value, "resource": value, "file": value}],
    )


def assert_inert(report: Report) -> None:
    for fmt in ("sarif", "junit", "github", "markdown", "gitlab"):
        out = render(fmt, report)
        assert "\x1b" not in out and "\x00" not in out and "\x9b" not in out, fmt
    sarif(report)
    root = junit(report)
    _check_counts(root)
    github = render("github", report)
    assert github.count("\n") == len(report.findings) + len(report.notes) + 1
    lines = github.splitlines()  # Python also splits on \x85, \u2028...: none may be left
    assert len(lines) == len(report.findings) + len(report.notes) + 1
    for line in lines:
        assert COMMAND.match(line), line
    md = render("markdown", report)
    found = tables(md)
    assert [len(t) - 2 for t in found] == [2, 1, 1]  # findings, waived, fixed: no forged rows
    for line in md.splitlines():
        assert not line.startswith(("# ", "- list", "> ")), line
        if not line.startswith("|"):
            assert "<script" not in line
    for table in found:
        for row in table:
            for cell in row:
                # no raw HTML but our own <br>; inside a code span "<" is literal text
                outside_code = re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", cell)
                assert not re.search(r"<(?!br>)", outside_code), cell
    json.loads(render("gitlab", report))


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_stay_inert(value: str) -> None:
    assert_inert(hostile_report(value))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=40))
def test_arbitrary_text_stays_inert(value: str) -> None:
    assert_inert(hostile_report(value))


def test_formats_do_not_mutate_findings() -> None:
    report = sample_report()
    before = [replace(f) for f in report.findings]
    for fmt in ("sarif", "junit", "github", "markdown", "gitlab"):
        render(fmt, report)
    assert report.findings == before


SCHEMAS = Path(__file__).parent / "data" / "schemas"


@pytest.mark.parametrize(("fmt", "schema"), [("junit", "junit-10-strict.xsd"), ("junit-rich", "junit-rich.xsd")])
@pytest.mark.parametrize("which", ["sample", "empty", "fixtures"])
def test_junit_forms_validate_against_their_schemas(fmt: str, schema: str, which: str) -> None:
    """Strict by default (Jenkins xunit junit-10.xsd); the rich form against the strict one plus file/line."""
    import xmlschema

    from scanner.engine import ScanOptions, scan
    from scanner.policy import load_policy

    if which == "sample":
        report = sample_report()
    elif which == "empty":
        report = Report(findings=[])
    else:
        fixtures = Path(__file__).parent.parent / "fixtures"
        report = scan(ScanOptions(paths=[fixtures / "terraform"], cwd=fixtures, use_cache=False, jobs=1),
                      load_policy(fixtures / "residency.yaml"))
    document = render(fmt, report)
    xmlschema.XMLSchema(str(SCHEMAS / schema)).validate(document)
    if fmt == "junit-rich":  # the rich form is exactly what the strict schema refuses
        assert not xmlschema.XMLSchema(str(SCHEMAS / "junit-10-strict.xsd")).is_valid(document) or not report.findings


def test_junit_strict_keeps_the_location_in_the_message() -> None:
    root = junit(sample_report(), "junit")
    assert root.get("skipped") is None
    for case in root.iter("testcase"):
        assert case.get("file") is None and case.get("line") is None
    failures = [c.find("failure") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failures and all(re.match(r"^[^:]+:\d+: ", f.get("message")) for f in failures)
    skipped = [c.find("skipped") for c in root.iter("testcase") if c.find("skipped") is not None]
    assert skipped and all(re.match(r"^[^:]+:\d+: waived: ", s.get("message")) for s in skipped)


def test_sarif_help_uri_automation_details_and_base_ids() -> None:
    from scanner.rules_doc import render_rules

    report = sample_report()
    report.scan_root = "/work/repo"
    run = sarif(report)["runs"][0]
    docs = render_rules("markdown")
    for rule in run["tool"]["driver"]["rules"]:
        uri = rule["helpUri"]
        assert uri.startswith("https://github.com/residency-guardrail/residency-guardrail/blob/v9.9.9/docs/rules.md#")
        heading = f"{rule['id']} {rule['name']}"
        assert f"\n## {heading}\n" in docs  # the anchor names a real heading of docs/rules.md
        assert uri.rsplit("#", 1)[1] == heading.lower().replace(" ", "-")
    assert run["automationDetails"] == {"id": "residency-guardrail/"}
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///work/repo/"}}
    report.category, report.shard = "eu infra", (2, 3)
    assert sarif(report)["runs"][0]["automationDetails"]["id"] == "eu infra-shard-2-of-3/"


def test_sarif_descriptors_come_from_the_report_not_the_registry() -> None:
    """Issue 14 item 3: the engine attaches the fired rules' descriptors; reporters never import checks."""
    import ast

    from scanner.model import Category, Finding, RuleInfo, Severity

    src = (Path(__file__).parents[1] / "scanner" / "report" / "sarif.py").read_text(encoding="utf-8")
    imported = {n.module for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m == "checks" or m.startswith("checks.") for m in imported)
    f = Finding(rule_id="RES777", rule_name="made-up", category=Category.PLACEMENT, severity=Severity.HIGH,
                resource="a.b", resource_type="a", file="main.tf", line=1, message="m", remediation="r")
    info = RuleInfo("RES777", "made-up", Category.PLACEMENT, "A summary from the report.", "", ("NIST:GV.OC-03",))
    doc = json.loads(render("sarif", Report(findings=[f], rules={"RES777": info})))
    (rule,) = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["shortDescription"]["text"] == "A summary from the report."
    assert "NIST:GV.OC-03" in rule["properties"]["tags"]
