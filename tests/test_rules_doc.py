"""Rule documentation: every rule documented in fixed sections, cited controls valid, generated pages fresh."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from checks.rules import RULES
from scanner import cli as cli_module
from scanner.controls import CONCERNS, CONTROLS, FRAMEWORKS, unknown
from scanner.errors import ResidencyError
from scanner.rules_doc import (
    SECTIONS,
    doc_controls,
    explain_rule,
    missing_controls,
    parse_doc,
    render_compliance,
    render_rules,
)
from tests.conftest import REPO

REGENERATE = {  # python -m scanner.docs_gen writes both (and every other page derived from the registry)
    "docs/rules.md": "python -m scanner.docs_gen",
    "docs/compliance.md": "python -m scanner.docs_gen",
}


# --- generated pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", sorted(REGENERATE))
def test_committed_page_is_current(page: str) -> None:
    generated = render_rules("markdown") if page == "docs/rules.md" else render_compliance()
    committed = (REPO / page).read_text(encoding="utf-8")
    assert committed == generated, f"{page} is stale: run `{REGENERATE[page]}` and commit it"


def test_rules_page_has_one_section_per_rule_and_a_linked_table() -> None:
    page = render_rules("markdown")
    for rule in RULES.values():
        assert page.count(f"\n## {rule.id} {rule.name}\n") == 1
        assert f"[{rule.id}](#{rule.id.lower()}-{rule.name})" in page


def test_cli_rules_markdown_matches_the_renderer() -> None:
    result = CliRunner().invoke(cli_module.cli, ["rules", "--format", "markdown"])
    assert result.exit_code == 0
    assert result.output == render_rules("markdown")


# --- every rule documented --------------------------------------------------------------------


DOCUMENTED = [r for r in RULES.values()]


@pytest.mark.parametrize("rule", DOCUMENTED, ids=lambda r: r.id)
def test_rule_docstring_has_the_fixed_sections_in_order(rule) -> None:  # type: ignore[no-untyped-def]
    _intro, sections = parse_doc(rule.doc)
    missing = [s for s in SECTIONS if not sections.get(s, "").strip()]
    assert not missing, f"{rule.id} docstring lacks section(s) {missing}; write them under headings {SECTIONS}"
    assert list(sections) == list(SECTIONS), f"{rule.id}: sections out of order: {list(sections)}"


@pytest.mark.parametrize("rule", DOCUMENTED, ids=lambda r: r.id)
def test_rule_controls_are_listed_ids(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.controls, f"{rule.id} cites no controls"
    bad = unknown(rule.controls)
    assert not bad, f"{rule.id} cites {bad}: not ids in scanner/controls.py (spell them like NIST:PR.DS-01)"
    assert len(set(rule.controls)) == len(rule.controls), f"{rule.id} cites a control twice"


@pytest.mark.parametrize("rule", DOCUMENTED, ids=lambda r: r.id)
def test_rule_docstring_controls_agree_with_rule_controls(rule) -> None:  # type: ignore[no-untyped-def]
    assert not missing_controls(rule), f"{rule.id}: Controls section does not mention {missing_controls(rule)}"
    extra = [c for c in doc_controls(rule.doc) if c not in rule.controls]
    assert not extra, f"{rule.id}: Controls section names {extra}, which Rule.controls does not cite"


def test_rule_ids_and_names_are_stable_shapes() -> None:
    for rule_id, rule in RULES.items():
        assert rule_id == rule.id
        assert re.fullmatch(r"RES\d{3}", rule.id)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
        assert rule.summary.strip()


# --- the controls list itself -----------------------------------------------------------------


def test_control_ids_are_well_formed() -> None:
    shapes = {
        "NIST": r"NIST:(GV|ID|PR|DE|RS|RC)\.[A-Z]{2}-\d{2}",
        "ISO27001": r"ISO27001:[5-8]\.\d{1,2}",
        "SOC2": r"SOC2:(CC\d\.\d|A1\.\d|C1\.\d|PI1\.\d|P\d\.\d)",
    }
    for cid, control in CONTROLS.items():
        assert control.id == cid
        assert control.framework in FRAMEWORKS
        assert re.fullmatch(shapes[control.framework], cid), cid
        assert control.title and control.why and control.concerns
        assert all(c in CONCERNS for c in control.concerns)


def test_every_framework_is_covered() -> None:
    assert {c.framework for c in CONTROLS.values()} == set(FRAMEWORKS)


def test_unknown_reports_each_bad_id() -> None:
    assert unknown(["NIST:PR.DS-01", "PR.PS-01", "ISO27001:5.32"]) == ["PR.PS-01", "ISO27001:5.32"]


# --- explain ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", DOCUMENTED, ids=lambda r: r.id)
def test_explain_prints_every_section(rule) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli_module.cli, ["explain", rule.id])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(f"{rule.id} {rule.name}\n")
    positions = [out.find(f"\n{s.upper()}\n") for s in SECTIONS]
    assert all(p > 0 for p in positions), f"missing sections in explain {rule.id}"
    assert positions == sorted(positions)
    for cid in rule.controls:
        assert cid in out.split("\nCONTROLS\n", 1)[1]


def test_explain_accepts_lower_case_id_and_name() -> None:
    rule = next(iter(RULES.values()))
    assert explain_rule(rule.id.lower()) == explain_rule(rule.id) == explain_rule(rule.name)


def test_explain_unknown_rule_is_a_usage_error() -> None:
    with pytest.raises(ResidencyError, match="unknown rule 'RES999'"):
        explain_rule("RES999")
    assert cli_module.main(["explain", "RES999"]) == 2


# --- section parsing --------------------------------------------------------------------------


def test_parse_doc_accepts_heading_styles_and_ignores_fenced_lines() -> None:
    doc = '''RES123 x: title line.

    ## What it checks
    One thing.

    Why it matters:
        Because.

    Example
    -------
    ```hcl
    # How to fix
    Controls
    ```

    How to fix
        Do it.

    Controls
        NIST:GV.PO-01
    '''
    intro, sections = parse_doc(doc)
    assert intro == "RES123 x: title line."
    assert list(sections) == list(SECTIONS)
    assert sections["Why it matters"] == "Because."
    assert sections["Example"] == "```hcl\n# How to fix\nControls\n```"
    assert doc_controls(doc) == ["NIST:GV.PO-01"]


def test_missing_controls_matches_references_exactly() -> None:
    class R:
        doc = "x\n\nControls\n    ISO/IEC 27001:2022 5.34; SOC 2 CC6.1.\n"
        controls = ("ISO27001:5.34", "ISO27001:5.3", "SOC2:CC6.1", "NIST:GV.OC-03")

    assert missing_controls(R) == ["ISO27001:5.3", "NIST:GV.OC-03"]


# --- controls flow into machine-readable outputs ----------------------------------------------


def test_rules_json_carries_controls() -> None:
    data = json.loads(render_rules("json"))
    assert {r["id"]: tuple(r["controls"]) for r in data} == {r.id: r.controls for r in RULES.values()}


def test_json_findings_carry_the_rule_controls() -> None:
    from scanner.model import Category, Finding, Severity
    from scanner.report import Report, render

    rule = next(iter(RULES.values()))
    finding = Finding(rule.id, rule.name, Category.PLACEMENT, Severity.HIGH, "aws_s3_bucket.x", "aws_s3_bucket",
                      "main.tf", 3, "m", "r", controls=tuple(rule.controls))
    data = json.loads(render("json", Report(findings=[finding])))
    assert data["findings"][0]["controls"] == list(rule.controls)
